/* test_http_harden.c - the HTTP front (fake_s3/http*.c) against hostile or
 * careless requests: each test here failed (crash, hang, leak, UB or race)
 * before the fix it names.  Raw bytes over loopback, no authentication
 * unless said. */
#include "err.h"
#include "fault.h"
#include "http.h"
#include "http_int.h"

#include <arpa/inet.h>
#include <check.h>
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static struct fs3_http *srv;

static void start_cfg(struct fs3_http_config *cfg)
{
    if (!cfg->threads)
        cfg->threads = 2;
    ck_assert_int_eq(fs3_http_start(cfg, &srv), 0);
}

static void start(const struct fs3_rule *rules, size_t nrules)
{
    struct fs3_http_config cfg = {0};
    cfg.rules = rules;
    cfg.nrules = nrules;
    start_cfg(&cfg);
}

static void stop(void)
{
    fs3_http_stop(srv);
    srv = NULL;
}

static int conn_open(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)fs3_http_port(srv))};
    struct timeval tv = {5, 0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static void conn_send(int fd, const char *req, size_t len)
{
    for (size_t off = 0; off < len;) {
        ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
}

/* Reads the answer (until close or 5 s); returns its status, 0 when the
 * connection closed without one, -1 when nothing came within 5 s. */
static int conn_status(int fd, char *buf, size_t cap)
{
    ssize_t n = 0, got = 0;
    while (got < (ssize_t)cap - 1 && (n = recv(fd, buf + got, cap - 1 - (size_t)got, 0)) > 0) {
        got += n;
        buf[got] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        const char *cl = strstr(buf, "Content-Length: ");
        if (end && cl && got - (end + 4 - buf) >= atol(cl + 16))
            break;
    }
    buf[got > 0 ? got : 0] = '\0';
    if (got > 12 && strncmp(buf, "HTTP/1.", 7) == 0)
        return atoi(buf + 9);
    return n < 0 ? -1 : 0;
}

static int raw(const char *req, char *buf, size_t cap)
{
    int fd = conn_open();
    conn_send(fd, req, strlen(req));
    int st = conn_status(fd, buf, cap);
    close(fd);
    return st;
}

/* --- 1: query parameters checked for presence and form ------------------- */

START_TEST(http_query_params_checked)
{
    char buf[4096];
    start(NULL, 0);
    ck_assert_int_eq(fs3_http_create_bucket(srv, "bq1"), 0);
    ck_assert_int_eq(raw("POST /bq1/k?uploads HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
                         buf, sizeof buf),
                     200);
    static const char *const bad[] = {
        /* partNumber missing (crashed serve: strtol(NULL)) */
        "PUT /bq1/k?uploadId=x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab",
        "PUT /bq1/k?uploadId=x HTTP/1.1\r\nHost: x\r\nx-amz-copy-source: bq1/k\r\n"
        "Content-Length: 0\r\n\r\n",
        /* partNumber without a value, empty, not a number, out of range */
        "PUT /bq1/k?uploadId=x&partNumber HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab",
        "PUT /bq1/k?uploadId=x&partNumber= HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab",
        "PUT /bq1/k?uploadId=x&partNumber=1x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab",
        "PUT /bq1/k?uploadId=x&partNumber=99999999999999999999 HTTP/1.1\r\nHost: x\r\n"
        "Content-Length: 2\r\n\r\nab",
        "PUT /bq1/k?uploadId=x&partNumber=%2B1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab",
        /* uploadId present without a value or empty */
        "PUT /bq1/k?uploadId&partNumber=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab",
        "POST /bq1/k?uploadId= HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        "DELETE /bq1/k?uploadId HTTP/1.1\r\nHost: x\r\n\r\n",
        /* list parameters of the wrong form */
        "GET /bq1?list-type=2&max-keys= HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /bq1?list-type=2&max-keys=99999999999999999999999 HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /bq1?list-type=3 HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /bq1?uploads&max-uploads=-3 HTTP/1.1\r\nHost: x\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int st = raw(bad[i], buf, sizeof buf);
        ck_assert_msg(st == 400 || st == 404, "case %zu answered %d: %s", i, st, bad[i]);
    }
    /* Still serving. */
    ck_assert_int_eq(raw("PUT /bq1/ok HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok", buf,
                         sizeof buf),
                     200);
    stop();
}
END_TEST

/* --- 2: DeleteBucket with a call in flight on the bucket ------------------- */

START_TEST(http_delete_bucket_with_call_in_flight)
{
    struct fs3_rule ru;
    char buf[4096];
    fs3_rule_init(&ru);
    ru.op = S3_OP_GET;
    snprintf(ru.key_glob, sizeof ru.key_glob, "slow*");
    ru.effect = FS3_EFF_DELAY;
    ru.delay_us = 700 * ENV_USEC_PER_MS;
    start(&ru, 1);
    ck_assert_int_eq(fs3_http_create_bucket(srv, "bq2"), 0);
    /* A GET of a missing key, delayed 700 ms: in flight on an empty bucket. */
    int fd = conn_open();
    const char *get = "GET /bq2/slowmissing HTTP/1.1\r\nHost: x\r\n\r\n";
    conn_send(fd, get, strlen(get));
    usleep(150 * 1000);
    int st = raw("DELETE /bq2 HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof buf);
    ck_assert_msg(st == 409, "DeleteBucket with a call in flight answered %d", st);
    /* The call in flight is answered. */
    ck_assert_int_eq(conn_status(fd, buf, sizeof buf), 404);
    close(fd);
    /* Once idle, the bucket can go. */
    ck_assert_int_eq(raw("DELETE /bq2 HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof buf), 204);
    /* And again with the GET still in flight at shutdown. */
    ck_assert_int_eq(fs3_http_create_bucket(srv, "bq3"), 0);
    fd = conn_open();
    const char *get3 = "GET /bq3/slowx HTTP/1.1\r\nHost: x\r\n\r\n";
    conn_send(fd, get3, strlen(get3));
    usleep(100 * 1000);
    ck_assert_int_eq(raw("DELETE /bq3 HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof buf), 409);
    stop();
    close(fd);
}
END_TEST

/* --- 3: the request XML parsers free what they allocate -------------------- */

static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* A body of n elements of the other parser's kind, which each parser used to
 * allocate and then forget. */
static char *xml_of(const char *root, const char *elem, size_t n)
{
    size_t cap = 64 + 2 * strlen(root) + n * strlen(elem), len = 0;
    char *s = malloc(cap);
    len += (size_t)snprintf(s + len, cap - len, "<%s>", root);
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s", elem);
    snprintf(s + len, cap - len, "</%s>", root);
    return s;
}

START_TEST(http_xml_parsers_do_not_leak)
{
    char *cx = xml_of("CompleteMultipartUpload",
                      "<Object><Key>k</Key></Object><Part><PartNumber>1</PartNumber></Part>", 900);
    char *dx = xml_of("Delete", "<Part><PartNumber>1</PartNumber></Part><Object><Key>k</Key></Object>",
                      900);
    char *bad = xml_of("Delete", "<Object><Key>k</Key></Object><Part></Part>", 900);
    size_t before = 0;
    for (int round = 0; round < 40; round++) {
        struct s3_part *parts = NULL;
        size_t np = 0, nk = 0;
        char **keys = NULL;
        bool quiet;
        if (round == 5)
            before = heap_in_use();
        ck_assert_int_eq(hr_parse_complete(cx, strlen(cx), &parts, &np), 0);
        ck_assert_uint_eq(np, 900);
        free(parts);
        ck_assert_int_eq(hr_parse_delete(dx, strlen(dx), &keys, &nk, &quiet), 0);
        ck_assert_uint_eq(nk, 900);
        for (size_t i = 0; i < nk; i++)
            free(keys[i]);
        free(keys);
        /* truncated: a parse error after both kinds were allocated */
        ck_assert_int_ne(hr_parse_delete(bad, strlen(bad) - 3, &keys, &nk, &quiet), 0);
        ck_assert_int_ne(hr_parse_complete(dx, strlen(dx), &parts, &np), 0);
    }
    size_t after = heap_in_use();
    ck_assert_msg(after < before + 256 * 1024, "the parsers grew the heap by %zu bytes in 35 rounds",
                  after - before);
    free(cx);
    free(dx);
    free(bad);
}
END_TEST

/* --- 4: Range and x-amz-copy-source-range at the edges of int64 ---------- */

START_TEST(http_range_edges)
{
    char buf[4096];
    start(NULL, 0);
    ck_assert_int_eq(fs3_http_create_bucket(srv, "bq4"), 0);
    ck_assert_int_eq(raw("PUT /bq4/k HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", buf,
                         sizeof buf),
                     200);
    /* Open-ended in effect: the last byte position past the end. */
    ck_assert_int_eq(raw("GET /bq4/k HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9223372036854775807"
                         "\r\n\r\n",
                         buf, sizeof buf),
                     206);
    ck_assert_ptr_nonnull(strstr(buf, "bytes 0-4/5"));
    ck_assert_int_eq(raw("GET /bq4/k HTTP/1.1\r\nHost: x\r\nRange: bytes=1-99999999999999999999999"
                         "\r\n\r\n",
                         buf, sizeof buf),
                     206);
    ck_assert_ptr_nonnull(strstr(buf, "bytes 1-4/5"));
    /* Malformed ranges are ignored (the whole object), as S3 does. */
    ck_assert_int_eq(raw("GET /bq4/k HTTP/1.1\r\nHost: x\r\nRange: bytes=99999999999999999999999-"
                         "\r\n\r\n",
                         buf, sizeof buf),
                     416);
    static const char *const ignored[] = {"bytes=- 1",
                                          "bytes=1-2x", "bytes=--1", "bytes=+1-2", "bytes= 1-2"};
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++) {
        char req[256];
        snprintf(req, sizeof req, "GET /bq4/k HTTP/1.1\r\nHost: x\r\nRange: %s\r\n\r\n",
                 ignored[i]);
        ck_assert_msg(raw(req, buf, sizeof buf) == 200, "range %s: %s", ignored[i], buf);
    }
    ck_assert_int_eq(raw("GET /bq4/k HTTP/1.1\r\nHost: x\r\nRange: bytes=-9223372036854775807"
                         "\r\n\r\n",
                         buf, sizeof buf),
                     206);
    ck_assert_ptr_nonnull(strstr(buf, "bytes 0-4/5"));
    /* The same parser for x-amz-copy-source-range. */
    ck_assert_int_eq(raw("POST /bq4/d?uploads HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
                         buf, sizeof buf),
                     200);
    char *id = strstr(buf, "<UploadId>"), req[512];
    ck_assert_ptr_nonnull(id);
    id += 10;
    *strchr(id, '<') = '\0';
    snprintf(req, sizeof req,
             "PUT /bq4/d?partNumber=1&uploadId=%s HTTP/1.1\r\nHost: x\r\n"
             "x-amz-copy-source: /bq4/k\r\n"
             "x-amz-copy-source-range: bytes=0-9223372036854775807\r\nContent-Length: 0\r\n\r\n",
             id);
    int st = raw(req, buf, sizeof buf);
    ck_assert_msg(st == 200 || st == 400 || st == 416, "copy-source-range answered %d", st);
    stop();
}
END_TEST

/* --- 5: the shutdown path and the request state (run under TSan) ---------- */

START_TEST(http_stop_with_requests_mid_body)
{
    int fds[4];
    start(NULL, 0);
    ck_assert_int_eq(fs3_http_create_bucket(srv, "bq5"), 0);
    /* Requests stopped in the middle of their bodies: their state was
     * written by MHD's threads without the lock that fs3_http_stop reads it
     * under. */
    for (int i = 0; i < 4; i++) {
        const char *req = "PUT /bq5/k HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhalf";
        fds[i] = conn_open();
        conn_send(fds[i], req, strlen(req));
    }
    usleep(200 * 1000);
    stop();
    for (int i = 0; i < 4; i++)
        close(fds[i]);
}
END_TEST

/* --- 6: serve under hostile load ----------------------------------------- */

START_TEST(http_unsigned_body_not_read)
{
    struct fs3_http_config cfg = {0};
    char buf[4096];
    cfg.access_key = "AK";
    cfg.secret_key = "SK";
    start_cfg(&cfg);
    ck_assert_int_eq(fs3_http_create_bucket(srv, "bq6"), 0);
    /* 200 MiB announced, no signature, no byte of the body sent: answered
     * 403 at once (it used to wait for the body, buffering it all). */
    int st = raw("PUT /bq6/k HTTP/1.1\r\nHost: x\r\nContent-Length: 209715200\r\n\r\n", buf,
                 sizeof buf);
    ck_assert_msg(st == 403, "answered %d", st);
    ck_assert_ptr_nonnull(strstr(buf, "AccessDenied"));
    st = raw("PUT /bq6/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
             "Authorization: AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request, "
             "SignedHeaders=host, Signature=00\r\n\r\n",
             buf, sizeof buf);
    ck_assert_msg(st == 403, "answered %d", st);
    struct fs3_http_stats hs;
    fs3_http_get_stats(srv, &hs);
    ck_assert_uint_eq(hs.auth_failures, 2);
    ck_assert_uint_eq(hs.buffered, 0);
    stop();
}
END_TEST

START_TEST(http_memory_cap_slows_down)
{
    struct fs3_http_config cfg = {0};
    char buf[4096];
    char *req = malloc(200000);
    cfg.max_memory = 64 << 10;
    start_cfg(&cfg);
    ck_assert_int_eq(fs3_http_create_bucket(srv, "bq7"), 0);
    int n = snprintf(req, 200000, "PUT /bq7/k HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
    memset(req + n, 'x', 100000);
    req[n + 100000] = '\0';
    int st = raw(req, buf, sizeof buf);
    ck_assert_msg(st == 503, "answered %d", st);
    ck_assert_ptr_nonnull(strstr(buf, "SlowDown"));
    /* Under the cap: served. */
    ck_assert_int_eq(raw("PUT /bq7/s HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok", buf,
                         sizeof buf),
                     200);
    struct fs3_http_stats hs;
    for (int i = 0; i < 100; i++) { /* the last request ends when MHD sees the close */
        fs3_http_get_stats(srv, &hs);
        if (hs.buffered == 0)
            break;
        usleep(10 * 1000);
    }
    ck_assert_uint_eq(hs.over_memory, 1);
    ck_assert_uint_eq(hs.buffered, 0);
    free(req);
    stop();
}
END_TEST

START_TEST(http_idle_and_connection_limit)
{
    struct fs3_http_config cfg = {0};
    char buf[4096];
    int fds[4];
    cfg.idle_timeout_secs = 1;
    cfg.max_connections = 4;
    cfg.threads = 1;
    start_cfg(&cfg);
    ck_assert_int_eq(fs3_http_create_bucket(srv, "bq8"), 0);
    for (int i = 0; i < 4; i++)
        fds[i] = conn_open();
    usleep(100 * 1000);
    /* Over the limit: closed at once, without an answer (before, it waited
     * in the backlog until a slot freed). */
    struct timeval a0, a1;
    gettimeofday(&a0, NULL);
    int st5 = raw("GET /bq8/k HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof buf);
    gettimeofday(&a1, NULL);
    /* closed (0) or reset (-1: the request was unread), within a second or two */
    ck_assert_msg(st5 <= 0 && a1.tv_sec - a0.tv_sec < 3, "answered %d after %ld s", st5,
                  (long)(a1.tv_sec - a0.tv_sec));
    /* Idle connections are closed after the timeout (not 600 s). */
    for (int i = 0; i < 4; i++) {
        struct timeval t0, t1;
        gettimeofday(&t0, NULL);
        ck_assert_int_eq(conn_status(fds[i], buf, sizeof buf), 0);
        gettimeofday(&t1, NULL);
        ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 4);
        close(fds[i]);
    }
    ck_assert_int_eq(raw("GET /bq8/k HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof buf), 404);
    struct fs3_http_stats hs;
    fs3_http_get_stats(srv, &hs);
    ck_assert_uint_eq(hs.refused, 1);
    stop();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http_harden");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, http_query_params_checked);
    tcase_add_test(tc, http_delete_bucket_with_call_in_flight);
    tcase_add_test(tc, http_xml_parsers_do_not_leak);
    tcase_add_test(tc, http_range_edges);
    tcase_add_test(tc, http_stop_with_requests_mid_body);
    tcase_add_test(tc, http_unsigned_body_not_read);
    tcase_add_test(tc, http_memory_cap_slows_down);
    tcase_add_test(tc, http_idle_and_connection_limit);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
