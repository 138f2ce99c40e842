/* s3curl_peer.c - the engine's S3 client (src/s3_curl.c on src/env_real.c)
 * against another S3 implementation: every s3_ops operation once, with the
 * answers checked.  Run by tests/interop/moto.sh against moto_server.
 *
 * Usage: s3curl_peer ENDPOINT BUCKET   (credentials: AWS_ACCESS_KEY_ID...)
 * Exit 0 when every check held, 1 otherwise (the failing check is printed). */
#include "env_real.h"
#include "err.h"
#include "s3_curl.h"
#include "sigv4.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct peer {
    struct env_real *er;
    struct s3_ops *ops;
    bool done;
    struct s3_result res;
};

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static void on_done(struct s3_req *req, struct s3_result *res)
{
    struct peer *p = req->arg;
    p->done = true;
    p->res = *res;
    res->body = NULL;
    res->entries = NULL;
    res->nentries = 0;
    res->deleted = NULL;
    res->ndeleted = 0;
}

static bool is_done(void *arg)
{
    return ((struct peer *)arg)->done;
}

static struct s3_result *call(struct peer *p, enum s3_op op, struct s3_req *req)
{
    s3_result_cleanup(&p->res);
    memset(&p->res, 0, sizeof p->res);
    p->done = false;
    CHECK(s3_submit_op(p->ops, op, req, on_done, p) == 0, "submit %s", s3_op_name(op));
    CHECK(env_real_run_until(p->er, is_done, p, 30 * ENV_USEC_PER_SEC), "%s: no answer",
          s3_op_name(op));
    return &p->res;
}

static void ok(const struct s3_result *r, const char *what)
{
    CHECK(s3_result_ok(r), "%s: transport %d status %d code %s: %s", what, r->transport, r->status,
          s3_code_name(r->code), r->message);
}

/* CreateBucket is no s3_ops call: one signed PUT with libcurl's easy API. */
static void create_bucket(const char *endpoint, const char *bucket, const char *ak, const char *sk)
{
    char date[SIGV4_DATE], auth[1024], url[512], path[256], line[1200];
    const char *host = strstr(endpoint, "://") + 3;
    snprintf(path, sizeof path, "/%s", bucket);
    snprintf(url, sizeof url, "%s%s", endpoint, path);
    sigv4_amz_date((int64_t)time(NULL), date);
    const struct sigv4_header h[] = {
        {"host", host}, {"x-amz-date", date}, {"x-amz-content-sha256", SIGV4_EMPTY_SHA256}};
    struct sigv4_req r = {"PUT", path, NULL, h, 3, SIGV4_EMPTY_SHA256, date};
    struct sigv4_key k = {ak, sk, "us-east-1", "s3"};
    CHECK(sigv4_authorization(&r, &k, auth, sizeof auth, NULL) == 0, "sign");
    struct curl_slist *hl = NULL;
    snprintf(line, sizeof line, "Authorization: %s", auth);
    hl = curl_slist_append(hl, line);
    snprintf(line, sizeof line, "x-amz-date: %s", date);
    hl = curl_slist_append(hl, line);
    hl = curl_slist_append(hl, "x-amz-content-sha256: " SIGV4_EMPTY_SHA256);
    CURL *c = curl_easy_init();
    long status = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fwrite);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, stderr);
    CURLcode cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    CHECK(cc == CURLE_OK && (status == 200 || status == 409), "create bucket: %d %ld", cc, status);
}

static void objects(struct peer *p)
{
    struct s3_result *r;
    struct s3_req put = {
        .key = "peer/a b+c", .body = (const uint8_t *)"0123456789", .body_len = 10};
    s3_checksum_compute(S3_CKSUM_MD5, put.body, put.body_len, &put.cksum);
    ok(call(p, S3_OP_PUT, &put), "put");
    char want[S3_ETAG_MAX];
    s3_etag_md5(put.body, put.body_len, want);
    CHECK(strcmp(p->res.etag, want) == 0, "put etag %s, want %s", p->res.etag, want);
    struct s3_req get = {.key = "peer/a b+c", .range_start = 3, .range_end = 7};
    r = call(p, S3_OP_GET, &get);
    ok(r, "ranged get");
    CHECK(r->body_len == 4 && memcmp(r->body, "3456", 4) == 0, "ranged get body");
    CHECK(r->object_size == 10, "ranged get object size %llu", (unsigned long long)r->object_size);
    struct s3_req head = {.key = "peer/a b+c"};
    r = call(p, S3_OP_HEAD, &head);
    ok(r, "head");
    CHECK(r->object_size == 10, "head size");
    struct s3_req miss = {.key = "peer/absent", .range_end = -1};
    r = call(p, S3_OP_GET, &miss);
    CHECK(r->status == 404 && r->code == S3E_NO_SUCH_KEY, "absent get: %d %s", r->status,
          s3_code_name(r->code));
}

static void listing(struct peer *p)
{
    const char *names[] = {"peer/l1", "peer/l2", "peer/l3"};
    char token[S3_MAX_KEY + 1] = "";
    int seen = 0;
    for (int i = 0; i < 3; i++) {
        struct s3_req put = {.key = names[i], .body = (const uint8_t *)"x", .body_len = 1};
        ok(call(p, S3_OP_PUT, &put), "put for list");
    }
    for (int page = 0; page < 10; page++) {
        struct s3_req l = {.prefix = "peer/l", .max_keys = 1, .token = token};
        struct s3_result *r = call(p, S3_OP_LIST, &l);
        ok(r, "list page");
        seen += (int)r->nentries;
        if (!r->truncated)
            break;
        snprintf(token, sizeof token, "%s", r->next_token);
    }
    CHECK(seen == 3, "list pages saw %d keys, want 3", seen);
    const char *del[] = {"peer/l1", "peer/l2", "peer/never"};
    struct s3_req dm = {.keys = del, .nkeys = 3};
    struct s3_result *r = call(p, S3_OP_DELETE_MANY, &dm);
    ok(r, "delete-many");
    CHECK(r->ndeleted == 3 && r->deleted[0].code == S3E_NONE && r->deleted[2].code == S3E_NONE,
          "delete-many entries");
    struct s3_req d = {.key = "peer/l3"};
    r = call(p, S3_OP_DELETE, &d);
    CHECK(s3_result_ok(r) && r->status == 204, "delete: %d", r->status);
}

static void multipart(struct peer *p)
{
    size_t big = 5u << 20;
    uint8_t *data = malloc(big);
    char uid[S3_UPLOAD_ID_MAX];
    struct s3_part parts[2] = {{.number = 1}, {.number = 2}};
    CHECK(data, "oom");
    memset(data, 'q', big);
    struct s3_req cr = {.key = "peer/mp"};
    ok(call(p, S3_OP_MPU_CREATE, &cr), "mpu-create");
    snprintf(uid, sizeof uid, "%s", p->res.upload_id);
    struct s3_req p1 = {
        .key = "peer/mp", .upload_id = uid, .part_number = 1, .body = data, .body_len = big};
    s3_checksum_compute(S3_CKSUM_MD5, data, big, &p1.cksum);
    ok(call(p, S3_OP_MPU_PART, &p1), "mpu-part");
    snprintf(parts[0].etag, sizeof parts[0].etag, "%s", p->res.etag);
    struct s3_req p2 = {.key = "peer/mp",
                        .upload_id = uid,
                        .part_number = 2,
                        .copy_source = "peer/a b+c",
                        .range_start = 0,
                        .range_end = 5};
    ok(call(p, S3_OP_MPU_COPY, &p2), "mpu-copy");
    snprintf(parts[1].etag, sizeof parts[1].etag, "%s", p->res.etag);
    struct s3_req cp = {.key = "peer/mp", .upload_id = uid, .parts = parts, .nparts = 2};
    ok(call(p, S3_OP_MPU_COMPLETE, &cp), "mpu-complete");
    struct s3_req head = {.key = "peer/mp"};
    ok(call(p, S3_OP_HEAD, &head), "head mp");
    CHECK(p->res.object_size == big + 5, "completed size %llu",
          (unsigned long long)p->res.object_size);
    struct s3_req cr2 = {.key = "peer/aborted"};
    ok(call(p, S3_OP_MPU_CREATE, &cr2), "mpu-create 2");
    snprintf(uid, sizeof uid, "%s", p->res.upload_id);
    /* ListMultipartUploads, one upload a page asked (moto 5.x ignores
     * max-uploads and answers one page: either is fine), pages followed. */
    struct s3_req cr3 = {.key = "peer/aborted"};
    ok(call(p, S3_OP_MPU_CREATE, &cr3), "mpu-create 3");
    char uid3[S3_UPLOAD_ID_MAX], tok[S3_MAX_KEY + 1] = "";
    snprintf(uid3, sizeof uid3, "%s", p->res.upload_id);
    int seen = 0, pages = 0;
    do {
        struct s3_req lu = {.prefix = "peer/ab", .max_keys = 1, .token = tok};
        ok(call(p, S3_OP_LIST_UPLOADS, &lu), "list-uploads");
        for (size_t i = 0; i < p->res.nentries; i++) {
            const struct s3_list_entry *e = &p->res.entries[i];
            CHECK(e->key && e->upload_id && strcmp(e->key, "peer/aborted") == 0,
                  "list-uploads entry %zu", i);
            seen |= (strcmp(e->upload_id, uid) == 0) | (strcmp(e->upload_id, uid3) == 0) << 1;
        }
        snprintf(tok, sizeof tok, "%s", p->res.truncated ? p->res.next_token : "");
    } while (tok[0] && ++pages < 5);
    CHECK(seen == 3 && !tok[0], "list-uploads saw %d after %d pages", seen, pages);
    struct s3_req ab3 = {.key = "peer/aborted", .upload_id = uid3};
    ok(call(p, S3_OP_MPU_ABORT, &ab3), "mpu-abort 3");
    struct s3_req ab = {.key = "peer/aborted", .upload_id = uid};
    ok(call(p, S3_OP_MPU_ABORT, &ab), "mpu-abort");
    struct s3_req lu3 = {.prefix = "peer/ab"};
    ok(call(p, S3_OP_LIST_UPLOADS, &lu3), "list-uploads after aborts");
    CHECK(p->res.nentries == 0, "list-uploads after aborts: %zu", p->res.nentries);
    struct s3_req late = {
        .key = "peer/aborted", .upload_id = uid, .part_number = 1, .body = data, .body_len = 10};
    struct s3_result *r = call(p, S3_OP_MPU_PART, &late);
    /* S3 answers 404 NoSuchUpload; moto 5.x answers 500: any failure will do. */
    CHECK(r->transport == S3_TR_OK && r->status >= 400, "part after abort: %d %s", r->status,
          s3_code_name(r->code));
    free(data);
}

int main(int argc, char **argv)
{
    struct peer p = {0};
    struct env_real_config ec = {.seed = 1, .time_scale = 1.0};
    struct s3_curl_config cc = {0};
    struct s3_curl *cli = NULL;
    if (argc != 3) {
        fprintf(stderr, "usage: s3curl_peer ENDPOINT BUCKET\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_ALL);
    cc.endpoint = argv[1];
    cc.bucket = argv[2];
    cc.timeout_ms = 20000;
    CHECK(s3_curl_config_from_env(&cc) == 0, "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY unset");
    create_bucket(cc.endpoint, cc.bucket, cc.access_key, cc.secret_key);
    CHECK(env_real_new(&ec, &p.er) == 0, "env_real");
    CHECK(s3_curl_new(p.er, &cc, &cli) == 0, "s3_curl_new");
    p.ops = s3_curl_ops(cli);
    objects(&p);
    listing(&p);
    multipart(&p);
    s3_result_cleanup(&p.res);
    s3_curl_free(cli);
    env_real_free(p.er);
    curl_global_cleanup();
    printf("PASS: s3_curl against %s\n", argv[1]);
    return 0;
}
