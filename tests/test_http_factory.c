/* test_http_factory.c - buckets made by a factory (as --mode http's world
 * makes its bucket, sim/world_http.c): what reads the store directly
 * (ListParts, GET ?partNumber, versioning, lifecycle) is served when the
 * factory names its store (fs3_http_factory.store), 501 when it names none. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "http.h"

static struct fs3 *store;
static struct s3_ops *ops;
static int port;

static int fac_create(void *arg, struct env *env, const char *name, struct s3_ops **out)
{
    (void)arg;
    (void)name;
    if (!(store = fs3_new(env, NULL)))
        return ERR_NOMEM;
    *out = ops = fs3_ops(store);
    return 0;
}

static void fac_destroy(void *arg, const char *name, struct s3_ops *o)
{
    (void)arg;
    (void)name;
    (void)o;
    fs3_free(store);
    store = NULL;
}

static struct fs3 *fac_store(void *arg, const char *name)
{
    (void)arg;
    (void)name;
    return store;
}

/* One request on a fresh connection; the status, the answer in out. */
static int req(const char *method, const char *target, const char *body, char *out, size_t size)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    char head[512];
    int fd = socket(AF_INET, SOCK_STREAM, 0), n, got = 0;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    n = snprintf(head, sizeof head,
                 "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n",
                 method, target, body ? strlen(body) : 0);
    ck_assert_int_eq(write(fd, head, (size_t)n), n);
    if (body && *body)
        ck_assert_int_eq(write(fd, body, strlen(body)), (ssize_t)strlen(body));
    while (got < (int)size - 1 && (n = (int)read(fd, out + got, size - 1 - (size_t)got)) > 0)
        got += n;
    out[got] = 0;
    close(fd);
    return got > 12 ? atoi(out + 9) : -1;
}

static struct fs3_http *serve(bool with_store)
{
    struct fs3_http_config cfg = {0};
    struct fs3_http *h;
    cfg.threads = 2;
    cfg.factory = (struct fs3_http_factory){fac_create, fac_destroy, NULL,
                                            with_store ? fac_store : NULL};
    ck_assert_int_eq(fs3_http_start(&cfg, &h), 0);
    port = fs3_http_port(h);
    return h;
}

/* An upload with one part; its id into id. */
static void upload(char *id, size_t size)
{
    static char out[8192];
    char target[256];
    int st = req("PUT", "/fbk", NULL, out, sizeof out);
    ck_assert_msg(st == 200, "%d %s", st, out);
    ck_assert_int_eq(req("POST", "/fbk/k?uploads", NULL, out, sizeof out), 200);
    char *p = strstr(out, "<UploadId>"), *e = p ? strstr(p, "</UploadId>") : NULL;
    ck_assert_ptr_nonnull(e);
    snprintf(id, size, "%.*s", (int)(e - p - 10), p + 10);
    snprintf(target, sizeof target, "/fbk/k?partNumber=1&uploadId=%s", id);
    ck_assert_int_eq(req("PUT", target, "part-bytes", out, sizeof out), 200);
}

START_TEST(http_factory_store_serves_parts_and_versioning)
{
    static char out[8192];
    char id[128], target[256];
    struct fs3_http *h = serve(true);
    upload(id, sizeof id);
    snprintf(target, sizeof target, "/fbk/k?uploadId=%s", id);
    ck_assert_int_eq(req("GET", target, NULL, out, sizeof out), 200);
    ck_assert_msg(strstr(out, "<PartNumber>1</PartNumber>"), "%s", out);
    ck_assert_int_eq(req("PUT", "/fbk?versioning",
                         "<VersioningConfiguration><Status>Enabled</Status>"
                         "</VersioningConfiguration>",
                         out, sizeof out),
                     200);
    ck_assert_int_eq(fs3_versioning(store), FS3_VER_ENABLED);
    ck_assert_int_eq(req("PUT", "/fbk/v", "one", out, sizeof out), 200);
    ck_assert_msg(strstr(out, "x-amz-version-id: ") || strstr(out, "X-Amz-Version-Id: "), "%s",
                  out);
    ck_assert_int_eq(req("GET", "/fbk/v?partNumber=1", NULL, out, sizeof out), 206);
    fs3_http_stop(h);
}
END_TEST

START_TEST(http_factory_without_store_answers_501)
{
    static char out[8192];
    char id[128], target[256];
    struct fs3_http *h = serve(false);
    upload(id, sizeof id);
    snprintf(target, sizeof target, "/fbk/k?uploadId=%s", id);
    ck_assert_int_eq(req("GET", target, NULL, out, sizeof out), 501);
    ck_assert_int_eq(req("PUT", "/fbk?versioning",
                         "<VersioningConfiguration><Status>Enabled</Status>"
                         "</VersioningConfiguration>",
                         out, sizeof out),
                     501);
    ck_assert_int_eq(req("GET", "/fbk?lifecycle", NULL, out, sizeof out), 501);
    ck_assert_int_eq(req("PUT", "/fbk/v", "one", out, sizeof out), 200);
    ck_assert_int_eq(req("GET", "/fbk/v?partNumber=1", NULL, out, sizeof out), 501);
    fs3_http_stop(h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http_factory");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, http_factory_store_serves_parts_and_versioning);
    tcase_add_test(tc, http_factory_without_store_answers_501);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
