/* test_http.c - the fake S3's HTTP front (fake_s3/http.c) driven over
 * loopback by libcurl, requests signed with src/sigv4.c. */
#include "err.h"
#include "fault.h"
#include "http.h"
#include "sigv4.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* --- fixture ------------------------------------------------------------------- */

#define AK "AKTEST"
#define SK "secret/key"

static struct fs3_http *srv;
static char host[64];

static void start(const struct fs3_rule *rules, size_t nrules, size_t max_body)
{
    struct fs3_http_config cfg = {0};
    cfg.access_key = AK;
    cfg.secret_key = SK;
    cfg.threads = 2;
    cfg.rules = rules;
    cfg.nrules = nrules;
    cfg.max_body = max_body;
    ck_assert_int_eq(fs3_http_start(&cfg, &srv), 0);
    snprintf(host, sizeof host, "127.0.0.1:%d", fs3_http_port(srv));
}

static void stop(void)
{
    fs3_http_stop(srv);
    srv = NULL;
}

/* --- helpers: one signed request ---------------------------------------------- */

struct resp {
    long status;
    CURLcode cc;
    char *body;
    size_t len;
    char hdrs[4096];
};

struct rq {
    const char *method;
    const char *uri;   /* encoded path */
    const char *query; /* encoded query or NULL */
    const void *body;
    size_t len;
    const char *const *extra; /* "name", "value" pairs, NULL-terminated */
    const char *secret;       /* NULL: SK */
    const char *access;       /* NULL: AK */
    const char *date;         /* NULL: now */
    const char *payload_hash; /* NULL: SHA-256 of the body */
    bool unsigned_req;        /* no Authorization at all */
    long timeout_ms;
};

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
    struct resp *r = arg;
    char *nb = realloc(r->body, r->len + sz * n + 1);
    if (!nb)
        return 0;
    r->body = nb;
    memcpy(r->body + r->len, p, sz * n);
    r->len += sz * n;
    r->body[r->len] = '\0';
    return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
    struct resp *r = arg;
    size_t have = strlen(r->hdrs);
    if (have + sz * n < sizeof r->hdrs) {
        memcpy(r->hdrs + have, p, sz * n);
        r->hdrs[have + sz * n] = '\0';
    }
    return sz * n;
}

static void do_req(const struct rq *q, struct resp *out)
{
    char date[SIGV4_DATE], hash[SIGV4_HEX], auth[1024], url[2048], line[1200];
    struct sigv4_header h[16];
    size_t nh = 0;
    struct curl_slist *hl = NULL;
    CURL *c = curl_easy_init();
    memset(out, 0, sizeof *out);
    ck_assert_ptr_nonnull(c);
    if (q->date)
        snprintf(date, sizeof date, "%s", q->date);
    else
        sigv4_amz_date((int64_t)time(NULL), date);
    if (q->payload_hash)
        snprintf(hash, sizeof hash, "%s", q->payload_hash);
    else
        sigv4_sha256_hex(q->body ? q->body : "", q->len, hash);
    h[nh++] = (struct sigv4_header){"host", host};
    h[nh++] = (struct sigv4_header){"x-amz-date", date};
    h[nh++] = (struct sigv4_header){"x-amz-content-sha256", hash};
    for (size_t i = 0; q->extra && q->extra[i]; i += 2)
        h[nh++] = (struct sigv4_header){q->extra[i], q->extra[i + 1]};
    struct sigv4_key k = {q->access ? q->access : AK, q->secret ? q->secret : SK, "us-east-1",
                          "s3"};
    struct sigv4_req sr = {q->method, q->uri, q->query, h, nh, hash, date};
    ck_assert_int_eq(sigv4_authorization(&sr, &k, auth, sizeof auth, NULL), 0);
    for (size_t i = 1; i < nh; i++) {
        snprintf(line, sizeof line, "%s: %s", h[i].name, h[i].value);
        hl = curl_slist_append(hl, line);
    }
    if (!q->unsigned_req) {
        snprintf(line, sizeof line, "Authorization: %s", auth);
        hl = curl_slist_append(hl, line);
    }
    hl = curl_slist_append(hl, "Expect:");
    snprintf(url, sizeof url, "http://%s%s%s%s", host, q->uri, q->query ? "?" : "",
             q->query ? q->query : "");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
    if (strcmp(q->method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (q->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->len);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, q->timeout_ms ? q->timeout_ms : 10000L);
    out->cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
}

static void simple(const char *method, const char *uri, const char *query, const char *body,
                   struct resp *out)
{
    struct rq q = {method, uri, query, body, body ? strlen(body) : 0};
    do_req(&q, out);
}

static void expect(struct resp *r, long status, const char *needle)
{
    ck_assert_int_eq(r->cc, CURLE_OK);
    ck_assert_msg(r->status == status, "status %ld, want %ld: %s", r->status, status,
                  r->body ? r->body : "");
    if (needle) {
        ck_assert_ptr_nonnull(r->body);
        ck_assert_msg(strstr(r->body, needle) != NULL, "want %s in %s", needle, r->body);
    }
    free(r->body);
    r->body = NULL;
}

/* --- tests ------------------------------------------------------------------- */

START_TEST(http_object_round_trip)
{
    struct resp r;
    start(NULL, 0, 0);
    simple("PUT", "/bk1", NULL, NULL, &r);
    expect(&r, 200, NULL);
    /* Your own bucket again: 200 in us-east-1 (409 BucketAlreadyOwnedByYou elsewhere). */
    simple("PUT", "/bk1", NULL, NULL, &r);
    expect(&r, 200, NULL);
    simple("PUT", "/bk1/dir/a%20b.txt", NULL, "hello world", &r);
    ck_assert_msg(strstr(r.hdrs, "ETag: \"5eb63bbbe01eeed093cb22bb8f5acdc3\""), "%s", r.hdrs);
    expect(&r, 200, NULL);
    simple("GET", "/bk1/dir/a%20b.txt", NULL, NULL, &r);
    expect(&r, 200, "hello world");
    struct rq q = {"GET", "/bk1/dir/a%20b.txt",
                   NULL,  NULL,
                   0,     (const char *const[]){"Range", "bytes=1-3", NULL}};
    do_req(&q, &r);
    ck_assert_msg(strstr(r.hdrs, "Content-Range: bytes 1-3/11"), "%s", r.hdrs);
    expect(&r, 206, "ell");
    q.extra = (const char *const[]){"Range", "bytes=-5", NULL};
    do_req(&q, &r);
    expect(&r, 206, "world");
    simple("HEAD", "/bk1/dir/a%20b.txt", NULL, NULL, &r);
    ck_assert_msg(strstr(r.hdrs, "Content-Length: 11"), "%s", r.hdrs);
    expect(&r, 200, NULL);
    simple("PUT", "/bk1/top", NULL, "x", &r);
    expect(&r, 200, NULL);
    simple("GET", "/bk1/top", "acl", NULL, &r);
    expect(&r, 200, "<Permission>FULL_CONTROL</Permission>");
    simple("GET", "/bk1/top", "torrent", NULL, &r);
    expect(&r, 501, "NotImplemented");
    simple("GET", "/bk1", "location", NULL, &r);
    expect(&r, 200, "<LocationConstraint");
    simple("GET", "/bk1", "list-type=2", NULL, &r);
    expect(&r, 200, "<Key>dir/a b.txt</Key>");
    simple("GET", "/bk1", "delimiter=%2F&list-type=2", NULL, &r);
    expect(&r, 200, "<CommonPrefixes><Prefix>dir/</Prefix></CommonPrefixes>");
    simple("GET", "/bk1", "list-type=2&max-keys=1", NULL, &r);
    expect(&r, 200, "<IsTruncated>true</IsTruncated>");
    simple("GET", "/bk1", "versions", NULL, &r);
    expect(&r, 200, "<VersionId>null</VersionId>");
    simple("GET", "/", NULL, NULL, &r);
    expect(&r, 200, "<Name>bk1</Name>");
    simple("DELETE", "/bk1", NULL, NULL, &r);
    expect(&r, 409, "BucketNotEmpty");
    simple("DELETE", "/bk1/dir/a%20b.txt", NULL, NULL, &r);
    expect(&r, 204, NULL);
    simple("GET", "/bk1/dir/a%20b.txt", NULL, NULL, &r);
    expect(&r, 404, "<Code>NoSuchKey</Code>");
    simple("GET", "/nob/x", NULL, NULL, &r);
    expect(&r, 404, "<Code>NoSuchBucket</Code>");
    stop();
}
END_TEST

START_TEST(http_auth_failures)
{
    struct resp r;
    start(NULL, 0, 0);
    simple("PUT", "/bk2", NULL, NULL, &r);
    expect(&r, 200, NULL);
    struct rq q = {"GET", "/bk2", "list-type=2"};
    q.secret = "wrong";
    do_req(&q, &r);
    expect(&r, 403, "<Code>SignatureDoesNotMatch</Code>");
    q.secret = NULL;
    q.access = "NOPE";
    do_req(&q, &r);
    expect(&r, 403, "<Code>InvalidAccessKeyId</Code>");
    q.access = NULL;
    q.date = "20130524T000000Z";
    do_req(&q, &r);
    expect(&r, 403, "<Code>RequestTimeTooSkewed</Code>");
    q.date = NULL;
    q.unsigned_req = true;
    do_req(&q, &r);
    expect(&r, 403, "<Code>AccessDenied</Code>");
    /* A body that does not match its signed hash. */
    struct rq p = {"PUT", "/bk2/k", NULL, "abc", 3};
    p.payload_hash = SIGV4_EMPTY_SHA256;
    do_req(&p, &r);
    expect(&r, 400, "XAmzContentSHA256Mismatch");
    stop();
}
END_TEST

static void presigned_get(const char *secret, struct resp *out)
{
    char date[SIGV4_DATE], url[2048], *query = NULL;
    const struct sigv4_header h[] = {{"host", host}};
    struct sigv4_key k = {AK, secret, "us-east-1", "s3"};
    sigv4_amz_date((int64_t)time(NULL), date);
    struct sigv4_req sr = {"GET", "/bk3/obj", NULL, h, 1, NULL, date};
    ck_assert_int_eq(sigv4_presign(&sr, &k, 60, &query), 0);
    snprintf(url, sizeof url, "http://%s/bk3/obj?%s", host, query);
    free(query);
    CURL *c = curl_easy_init();
    memset(out, 0, sizeof *out);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    out->cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_easy_cleanup(c);
}

START_TEST(http_presigned_urls)
{
    struct resp r;
    start(NULL, 0, 0);
    simple("PUT", "/bk3", NULL, NULL, &r);
    expect(&r, 200, NULL);
    simple("PUT", "/bk3/obj", NULL, "presigned bytes", &r);
    expect(&r, 200, NULL);
    presigned_get(SK, &r);
    expect(&r, 200, "presigned bytes");
    presigned_get("bad", &r);
    expect(&r, 403, "SignatureDoesNotMatch");
    stop();
}
END_TEST

/* Builds a signed aws-chunked body of data in chunks of 'chunk' bytes. */
static char *chunked_body(const char *seed, const char *date, const uint8_t *data, size_t len,
                          size_t chunk, bool corrupt, size_t *out_len)
{
    char scope[SIGV4_SCOPE_MAX], prev[SIGV4_HEX], sig[SIGV4_HEX];
    uint8_t key[32];
    size_t cap = len + 4096, o = 0;
    char *b = malloc(cap);
    sigv4_scope(date, "us-east-1", "s3", scope, sizeof scope);
    sigv4_signing_key(SK, date, "us-east-1", "s3", key);
    snprintf(prev, sizeof prev, "%s", seed);
    for (size_t off = 0;; off += chunk) {
        size_t n = off >= len ? 0 : len - off < chunk ? len - off : chunk;
        sigv4_chunk_signature(key, date, scope, prev, data + off, n, sig);
        if (corrupt && off == 0)
            sig[0] = sig[0] == 'a' ? 'b' : 'a';
        o += (size_t)snprintf(b + o, cap - o, "%zx;chunk-signature=%s\r\n", n, sig);
        memcpy(b + o, data + off, n);
        o += n;
        memcpy(b + o, "\r\n", 2);
        o += 2;
        memcpy(prev, sig, sizeof prev);
        if (n == 0)
            break;
    }
    *out_len = o;
    return b;
}

static void chunked_put(bool corrupt, struct resp *r)
{
    size_t len = 200000, blen;
    uint8_t *data = malloc(len);
    char date[SIGV4_DATE], seed[SIGV4_HEX], dlen[32];
    for (size_t i = 0; i < len; i++)
        data[i] = (uint8_t)(i * 7);
    sigv4_amz_date((int64_t)time(NULL), date);
    snprintf(dlen, sizeof dlen, "%zu", len);
    const struct sigv4_header h[] = {{"host", host},
                                     {"x-amz-date", date},
                                     {"x-amz-content-sha256", SIGV4_STREAMING_PAYLOAD},
                                     {"content-encoding", "aws-chunked"},
                                     {"x-amz-decoded-content-length", dlen}};
    struct sigv4_key k = {AK, SK, "us-east-1", "s3"};
    struct sigv4_req sr = {"PUT", "/bk4/chunked", NULL, h, 5, SIGV4_STREAMING_PAYLOAD, date};
    char auth[1024];
    ck_assert_int_eq(sigv4_authorization(&sr, &k, auth, sizeof auth, seed), 0);
    char *body = chunked_body(seed, date, data, len, 65536, corrupt, &blen);
    struct rq q = {"PUT",
                   "/bk4/chunked",
                   NULL,
                   body,
                   blen,
                   (const char *const[]){"content-encoding", "aws-chunked",
                                         "x-amz-decoded-content-length", dlen, NULL}};
    q.payload_hash = SIGV4_STREAMING_PAYLOAD;
    q.date = date;
    do_req(&q, r);
    free(body);
    free(data);
}

START_TEST(http_chunked_bodies)
{
    struct resp r;
    start(NULL, 0, 0);
    simple("PUT", "/bk4", NULL, NULL, &r);
    expect(&r, 200, NULL);
    chunked_put(false, &r);
    expect(&r, 200, NULL);
    simple("HEAD", "/bk4/chunked", NULL, NULL, &r);
    ck_assert_msg(strstr(r.hdrs, "Content-Length: 200000"), "%s", r.hdrs);
    expect(&r, 200, NULL);
    chunked_put(true, &r);
    expect(&r, 403, "SignatureDoesNotMatch");
    /* Unsigned chunks with a CRC32 trailer, as current SDKs send. */
    const char *tb = "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n";
    struct rq q = {"PUT",
                   "/bk4/trailer",
                   NULL,
                   tb,
                   strlen(tb),
                   (const char *const[]){"content-encoding", "aws-chunked", "x-amz-trailer",
                                         "x-amz-checksum-crc32", "x-amz-decoded-content-length",
                                         "5", NULL}};
    q.payload_hash = SIGV4_STREAMING_UNSIGNED_TRAILER;
    do_req(&q, &r);
    ck_assert_msg(strstr(r.hdrs, "x-amz-checksum-crc32: NhCmhg=="), "%s", r.hdrs);
    expect(&r, 200, NULL);
    simple("GET", "/bk4/trailer", NULL, NULL, &r);
    expect(&r, 200, "hello");
    const char *bad = "5\r\nhellx\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n";
    q.body = bad;
    do_req(&q, &r);
    expect(&r, 400, "BadDigest");
    const char *garbage = "zz\r\nhello";
    q.body = garbage;
    q.len = strlen(garbage);
    do_req(&q, &r);
    expect(&r, 400, "IncompleteBody");
    stop();
}
END_TEST

START_TEST(http_multipart_copy_delete_many)
{
    struct resp r;
    size_t big = 5u << 20;
    char *part = malloc(big), *p, uid[256], query[512], xml[1024];
    memset(part, 'p', big);
    start(NULL, 0, 0);
    simple("PUT", "/bk5", NULL, NULL, &r);
    expect(&r, 200, NULL);
    simple("POST", "/bk5/mp", "uploads", NULL, &r);
    ck_assert_int_eq(r.status, 200);
    p = strstr(r.body, "<UploadId>");
    ck_assert_ptr_nonnull(p);
    snprintf(uid, sizeof uid, "%.*s", (int)strcspn(p + 10, "<"), p + 10);
    expect(&r, 200, NULL);
    struct rq q = {"PUT", "/bk5/mp", query, part, big};
    char etag[2][80];
    for (int i = 0; i < 2; i++) {
        snprintf(query, sizeof query, "partNumber=%d&uploadId=%s", i + 1, uid);
        q.len = i == 0 ? big : 10;
        do_req(&q, &r);
        p = strstr(r.hdrs, "ETag: ");
        ck_assert_ptr_nonnull(p);
        snprintf(etag[i], sizeof etag[i], "%.*s", (int)strcspn(p + 6, "\r\n"), p + 6);
        expect(&r, 200, NULL);
    }
    snprintf(query, sizeof query, "uploadId=%s", uid);
    simple("POST", "/bk5/mp", query, "<notxml", &r);
    expect(&r, 400, "MalformedXML");
    snprintf(xml, sizeof xml,
             "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part>"
             "<Part><PartNumber>2</PartNumber><ETag>%s</ETag></Part></CompleteMultipartUpload>",
             etag[0], etag[1]);
    simple("POST", "/bk5/mp", query, xml, &r);
    expect(&r, 200, "-2&quot;</ETag>");
    simple("HEAD", "/bk5/mp", NULL, NULL, &r);
    ck_assert_msg(strstr(r.hdrs, "Content-Length: 5242890"), "%s", r.hdrs);
    expect(&r, 200, NULL);
    struct rq c = {"PUT", "/bk5/copy", NULL,
                   NULL,  0,           (const char *const[]){"x-amz-copy-source", "/bk5/mp", NULL}};
    do_req(&c, &r);
    expect(&r, 200, "<CopyObjectResult");
    simple("POST", "/bk5", "delete",
           "<Delete><Object><Key>mp</Key></Object><Object><Key>copy</Key></Object></Delete>", &r);
    expect(&r, 200, "<Deleted><Key>copy</Key></Deleted>");
    simple("GET", "/bk5", "list-type=2", NULL, &r);
    expect(&r, 200, "<KeyCount>0</KeyCount>");
    simple("DELETE", "/bk5/mp", "uploadId=nosuch", NULL, &r);
    expect(&r, 404, "NoSuchUpload");
    simple("DELETE", "/bk5", NULL, NULL, &r);
    expect(&r, 204, NULL);
    free(part);
    stop();
}
END_TEST

START_TEST(http_malformed_requests)
{
    struct resp r;
    char *big = calloc(1, 70000);
    start(NULL, 0, 65536);
    simple("PUT", "/bk6", NULL, NULL, &r);
    expect(&r, 200, NULL);
    simple("GET", "/bk6/%zz", NULL, NULL, &r);
    expect(&r, 400, "InvalidRequest");
    struct rq q = {"PUT", "/bk6/big", NULL, big, 70000};
    do_req(&q, &r);
    expect(&r, 400, "EntityTooLarge");
    simple("PUT", "/bk6/k", "partNumber=0&uploadId=x", "data", &r);
    expect(&r, 400, "InvalidArgument");
    simple("POST", "/bk6", "delete", "<Delete></Delete>", &r);
    expect(&r, 400, "MalformedXML");
    simple("GET", "/bk6", "list-type=2&max-keys=abc", NULL, &r);
    expect(&r, 400, "InvalidArgument");
    simple("PUT", "/B_ad", NULL, NULL, &r);
    expect(&r, 400, "InvalidBucketName");
    free(big);
    stop();
}
END_TEST

static struct fs3_rule rule(int op, const char *glob, enum fs3_effect eff)
{
    struct fs3_rule ru;
    fs3_rule_init(&ru);
    ru.op = op;
    snprintf(ru.key_glob, sizeof ru.key_glob, "%s", glob);
    ru.effect = eff;
    return ru;
}

START_TEST(http_faults_seen_by_the_client)
{
    struct fs3_rule rules[4];
    struct resp r;
    rules[0] = rule(S3_OP_GET, "reset*", FS3_EFF_RESET);
    rules[1] = rule(S3_OP_PUT, "busy*", FS3_EFF_STATUS);
    rules[1].status = 503;
    rules[2] = rule(S3_OP_GET, "stall*", FS3_EFF_STALL);
    rules[3] = rule(S3_OP_GET, "slow*", FS3_EFF_DELAY);
    rules[3].delay_us = 300 * ENV_USEC_PER_MS;
    start(rules, 4, 0);
    simple("PUT", "/bk7", NULL, NULL, &r);
    expect(&r, 200, NULL);
    simple("PUT", "/bk7/busy", NULL, "x", &r);
    expect(&r, 503, "<Code>SlowDown</Code>");
    simple("PUT", "/bk7/reset", NULL, "some bytes here", &r);
    expect(&r, 200, NULL);
    simple("GET", "/bk7/reset", NULL, NULL, &r);
    ck_assert_int_ne(r.cc, CURLE_OK);
    free(r.body);
    struct rq q = {"GET", "/bk7/stall"};
    q.timeout_ms = 300;
    do_req(&q, &r);
    ck_assert_int_eq(r.cc, CURLE_OPERATION_TIMEDOUT);
    free(r.body);
    simple("PUT", "/bk7/slow", NULL, "late", &r);
    expect(&r, 200, NULL);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    simple("GET", "/bk7/slow", NULL, NULL, &r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    expect(&r, 200, "late");
    ck_assert_int_ge((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000, 250);
    struct fs3_http_stats st;
    fs3_http_get_stats(srv, &st);
    ck_assert_uint_eq(st.resets, 1);
    ck_assert_uint_ge(st.held, 0);
    stop(); /* with a stalled connection still held */
}
END_TEST

/* Sends raw bytes on a fresh connection; returns the status of the answer
 * (0 when the server closed the connection without one). */
static int raw(const char *req, size_t len)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)fs3_http_port(srv))};
    char buf[4096];
    int fd = socket(AF_INET, SOCK_STREAM, 0), status = 0;
    ssize_t n, got = 0;
    struct timeval tv = {5, 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (size_t off = 0; off < len; off += (size_t)n) {
        n = send(fd, req + off, len - off, MSG_NOSIGNAL);
        if (n <= 0)
            break;
    }
    shutdown(fd, SHUT_WR);
    while (got < (ssize_t)sizeof buf - 1 &&
           (n = recv(fd, buf + got, sizeof buf - 1 - (size_t)got, 0)) > 0)
        got += n;
    buf[got > 0 ? got : 0] = '\0';
    close(fd);
    if (got > 12 && strncmp(buf, "HTTP/1.", 7) == 0)
        status = atoi(buf + 9);
    else if (n < 0)
        status = -1; /* no answer and no close within 5 s */
    return status;
}

START_TEST(http_garbage_never_crashes)
{
    struct fs3_http_config cfg = {0};
    char *big = malloc(300000);
    cfg.threads = 2;
    ck_assert_int_eq(fs3_http_start(&cfg, &srv), 0); /* no authentication */
    snprintf(host, sizeof host, "127.0.0.1:%d", fs3_http_port(srv));
    ck_assert_int_eq(fs3_http_create_bucket(srv, "bk8"), 0);
    const char *cases[] = {
        "GARBAGE\r\n\r\n",
        "GET /bk8/%zz HTTP/1.1\r\nHost: x\r\n\r\n",
        "PUT /bk8/k HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n",
        "PUT /bk8/k HTTP/1.1\r\nHost: x\r\nContent-Encoding: aws-chunked\r\n"
        "Content-Length: 30\r\n\r\nfffffffffffffffffff\r\nabcdefgh\r\n",
        "POST /bk8/k?uploadId=x HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n<<<<>>>>>",
        "GET /bk8?list-type=2&max-keys=-1 HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /bk8/k HTTP/1.1\r\nHost: x\r\nRange: bytes=9-2\r\n\r\n",
        "DELETE /bk8/k?uploadId HTTP/1.1\r\nHost: x\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int st = raw(cases[i], strlen(cases[i]));
        ck_assert_msg(st == 0 || st >= 400, "case %zu answered %d: %s", i, st, cases[i]);
    }
    /* A header far over the connection memory limit. */
    memcpy(big, "GET /bk8/k HTTP/1.1\r\nHost: x\r\nX-Big: ", 37);
    memset(big + 37, 'a', 300000 - 41);
    memcpy(big + 300000 - 4, "\r\n\r\n", 4);
    int st = raw(big, 300000);
    ck_assert_msg(st == 0 || st >= 400, "big header answered %d", st);
    free(big);
    /* The server still serves. */
    ck_assert_int_eq(raw("PUT /bk8/ok HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok", 54),
                     200);
    ck_assert_int_eq(raw("GET /bk8/ok HTTP/1.1\r\nHost: x\r\n\r\n", 33), 200);
    stop();
}
END_TEST

/* --- suite ----------------------------------------------------------------- */

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, http_object_round_trip);
    tcase_add_test(tc, http_auth_failures);
    tcase_add_test(tc, http_presigned_urls);
    tcase_add_test(tc, http_chunked_bodies);
    tcase_add_test(tc, http_multipart_copy_delete_many);
    tcase_add_test(tc, http_malformed_requests);
    tcase_add_test(tc, http_faults_seen_by_the_client);
    tcase_add_test(tc, http_garbage_never_crashes);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed ? 1 : 0;
}
