/* test_store.c - the honest in-memory bucket (fake_s3/fs3.h): every S3 rule
 * and error code it implements, its async contract, history and inspection. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fs3.h"
#include "testenv.h"

/* ---- Fixture: a store over the test env, and a captured answer. ---------- */

static struct tenv T;
static struct fs3 *S;
static int ncb;                /* callbacks so far */
static struct s3_result R;     /* the last answer, owned here */
static int64_t answered_at;

static void mk(const struct fs3_config *cfg)
{
    tenv_init(&T, 7);
    S = fs3_new(&T.env, cfg);
    ck_assert_ptr_nonnull(S);
    ncb = 0;
    memset(&R, 0, sizeof R);
}

static void setup(void) { mk(NULL); }

static void teardown(void)
{
    s3_result_cleanup(&R);
    fs3_free(S);
    tenv_free(&T);
}

/* Takes everything the result owns, so it outlives the callback. */
static void capture(struct s3_req *req, struct s3_result *res)
{
    (void)req;
    s3_result_cleanup(&R);
    R = *res;
    res->body = NULL;
    res->entries = NULL;
    res->nentries = 0;
    res->deleted = NULL;
    res->ndeleted = 0;
    ncb++;
    answered_at = env_now(&T.env);
}

/* Submits req through the store's s3_ops, checks that the callback does not
 * run inside submit, runs the loop and checks it ran exactly once. */
static void call(struct s3_req *req, enum s3_op op)
{
    int before = ncb;
    int rc = s3_submit_op(fs3_ops(S), op, req, capture, NULL);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(ncb, before);
    tenv_run(&T);
    ck_assert_int_eq(ncb, before + 1);
}

static void put(const char *key, const void *body, size_t len)
{
    struct s3_req req = {.key = key, .body = body, .body_len = len};
    call(&req, S3_OP_PUT);
    ck_assert_int_eq(R.status, 200);
}

static void get(const char *key, int64_t start, int64_t end)
{
    struct s3_req req = {.key = key, .range_start = start, .range_end = end};
    call(&req, S3_OP_GET);
}

static void expect_err(int status, enum s3_code code)
{
    ck_assert_int_eq(R.transport, S3_TR_OK);
    ck_assert_int_eq(R.status, status);
    ck_assert_str_eq(s3_code_name(R.code), s3_code_name(code));
}

static const char *mpu_create(const char *key)
{
    static char id[S3_UPLOAD_ID_MAX];
    struct s3_req req = {.key = key};
    call(&req, S3_OP_MPU_CREATE);
    ck_assert_int_eq(R.status, 200);
    ck_assert_int_gt((int)strlen(R.upload_id), 0);
    memcpy(id, R.upload_id, sizeof id);
    return id;
}

static void mpu_part(const char *key, const char *id, int n, const void *body, size_t len,
                     enum s3_cksum alg)
{
    struct s3_req req = {.key = key, .upload_id = id, .part_number = n, .body = body,
                         .body_len = len};
    s3_checksum_compute(alg, body, len, &req.cksum);
    call(&req, S3_OP_MPU_PART);
}

static void mpu_complete(const char *key, const char *id, const struct s3_part *parts, size_t n)
{
    struct s3_req req = {.key = key, .upload_id = id, .parts = parts, .nparts = n};
    call(&req, S3_OP_MPU_COMPLETE);
}

static struct fs3_config small_parts(void)
{
    struct fs3_config cfg;
    fs3_config_init(&cfg);
    cfg.min_part_size = 4;
    return cfg;
}


/* ---- Conditional requests (If-Match, If-None-Match). ---------------------- */

static void etag_of(const char *key, char out[S3_ETAG_MAX])
{
    struct s3_req head = {.key = key};
    call(&head, S3_OP_HEAD);
    ck_assert_int_eq(R.status, 200);
    memcpy(out, R.etag, S3_ETAG_MAX);
}

static void put_if(const char *key, const char *body, const char *im, const char *inm)
{
    struct s3_req req = {.key = key, .body = (const uint8_t *)body, .body_len = strlen(body),
                         .if_match = im, .if_none_match = inm};
    call(&req, S3_OP_PUT);
}

START_TEST(store_put_if_none_match_creates_once)
{
    put_if("k", "first", NULL, "*");
    ck_assert_int_eq(R.status, 200);
    put_if("k", "second", NULL, "*");
    expect_err(412, S3E_PRECONDITION_FAILED);
    get("k", 0, -1);
    ck_assert_mem_eq(R.body, "first", 5);
    /* An ETag in If-None-Match on a write: S3 takes only "*". */
    put_if("k", "third", NULL, "\"0123\"");
    expect_err(501, S3E_NOT_IMPLEMENTED);
    get("k", 0, -1);
    ck_assert_mem_eq(R.body, "first", 5);
}
END_TEST

START_TEST(store_put_if_match_compares_etag)
{
    char e1[S3_ETAG_MAX], e2[S3_ETAG_MAX];
    put_if("absent", "x", "\"abc\"", NULL);
    expect_err(404, S3E_NO_SUCH_KEY);
    ck_assert_int_eq(fs3_key_exists(S, "absent", NULL), 0);
    put("k", "v1", 2);
    etag_of("k", e1);
    put_if("k", "v2", "\"00000000000000000000000000000000\"", NULL);
    expect_err(412, S3E_PRECONDITION_FAILED);
    put_if("k", "v2", e1, NULL);          /* quoted, as clients send it */
    ck_assert_int_eq(R.status, 200);
    etag_of("k", e2);
    ck_assert_str_ne(e1, e2);
    put_if("k", "v3", e1, NULL);          /* the old ETag no longer holds */
    expect_err(412, S3E_PRECONDITION_FAILED);
    char bare[S3_ETAG_MAX], list[3 * S3_ETAG_MAX];
    snprintf(bare, sizeof bare, "%.32s", e2 + 1);
    snprintf(list, sizeof list, "\"ffff\", W/%s", e2);
    put_if("k", "v3", bare, NULL);        /* unquoted */
    ck_assert_int_eq(R.status, 200);
    etag_of("k", e2);
    snprintf(list, sizeof list, "\"ffff\", W/%s", e2);
    put_if("k", "v4", list, NULL);        /* a list, one of them weak */
    ck_assert_int_eq(R.status, 200);
    put_if("k", "v5", "*", NULL);         /* any current object */
    ck_assert_int_eq(R.status, 200);
    get("k", 0, -1);
    ck_assert_mem_eq(R.body, "v5", 2);
}
END_TEST

START_TEST(store_get_head_conditions)
{
    char e[S3_ETAG_MAX];
    put("k", "body", 4);
    etag_of("k", e);
    struct s3_req g = {.key = "k", .range_end = -1, .if_none_match = e};
    call(&g, S3_OP_GET);
    ck_assert_int_eq(R.status, 304);
    ck_assert_int_eq(R.code, S3E_NONE);
    ck_assert_uint_eq(R.body_len, 0);
    ck_assert_str_eq(R.etag, e);
    g.if_none_match = "\"other\"";
    call(&g, S3_OP_GET);
    ck_assert_int_eq(R.status, 200);
    ck_assert_mem_eq(R.body, "body", 4);
    g.if_none_match = NULL;
    g.if_match = "\"other\"";
    call(&g, S3_OP_GET);
    expect_err(412, S3E_PRECONDITION_FAILED);
    struct s3_req h = {.key = "k", .if_none_match = "*"};
    call(&h, S3_OP_HEAD);
    ck_assert_int_eq(R.status, 304);
    /* The time conditions, against the version's time m. */
    struct s3_req t = {.key = "k"};
    call(&t, S3_OP_HEAD);
    int64_t m = R.mtime_us;
    t.if_modified_since = (struct s3_since){true, m + 1};      /* not modified since */
    call(&t, S3_OP_HEAD);
    ck_assert_int_eq(R.status, 304);
    t.if_modified_since = (struct s3_since){true, m};          /* modified at m */
    call(&t, S3_OP_HEAD);
    ck_assert_int_eq(R.status, 200);
    t.if_modified_since = (struct s3_since){false, 0};
    t.if_unmodified_since = (struct s3_since){true, m};
    call(&t, S3_OP_GET);
    expect_err(412, S3E_PRECONDITION_FAILED);
    t.if_unmodified_since = (struct s3_since){true, m + 1};
    call(&t, S3_OP_GET);
    ck_assert_int_eq(R.status, 200);
    t.if_unmodified_since = (struct s3_since){true, m};        /* If-Match wins */
    t.if_match = e;
    call(&t, S3_OP_GET);
    ck_assert_int_eq(R.status, 200);
    t.if_match = NULL;
    t.if_unmodified_since = (struct s3_since){false, 0};
    t.if_modified_since = (struct s3_since){true, m + 1};      /* If-None-Match wins */
    t.if_none_match = "\"other\"";
    call(&t, S3_OP_GET);
    ck_assert_int_eq(R.status, 200);
    h.if_none_match = NULL;
    h.if_match = e;
    call(&h, S3_OP_HEAD);
    ck_assert_int_eq(R.status, 200);
    ck_assert_uint_eq(R.object_size, 4);
}
END_TEST

START_TEST(store_complete_conditions_and_conflict)
{
    struct fs3_config cfg = small_parts();
    struct s3_part p1 = {.number = 1};
    fs3_free(S);
    S = fs3_new(&T.env, &cfg);
    /* Absent key: the conditional Complete writes it. */
    const char *id = mpu_create("a");
    mpu_part("a", id, 1, "AAAA", 4, S3_CKSUM_MD5);
    struct s3_req c = {.key = "a", .upload_id = id, .parts = &p1, .nparts = 1,
                       .if_none_match = "*"};
    call(&c, S3_OP_MPU_COMPLETE);
    ck_assert_int_eq(R.status, 200);
    /* The key existed before the upload began: 412, the upload stays. */
    char id2[S3_UPLOAD_ID_MAX];
    memcpy(id2, mpu_create("a"), sizeof id2);
    mpu_part("a", id2, 1, "BBBB", 4, S3_CKSUM_MD5);
    c.upload_id = id2;
    call(&c, S3_OP_MPU_COMPLETE);
    expect_err(412, S3E_PRECONDITION_FAILED);
    ck_assert_uint_eq(fs3_nuploads(S), 1);
    get("a", 0, -1);
    ck_assert_mem_eq(R.body, "AAAA", 4);
    /* The key was written after the upload began: a conflict (409). */
    char id3[S3_UPLOAD_ID_MAX];
    memcpy(id3, mpu_create("b"), sizeof id3);
    mpu_part("b", id3, 1, "CCCC", 4, S3_CKSUM_MD5);
    tenv_run_until(&T, env_now(&T.env) + 1000);
    put("b", "other", 5);
    c.key = "b";
    c.upload_id = id3;
    call(&c, S3_OP_MPU_COMPLETE);
    expect_err(409, S3E_CONDITIONAL_CONFLICT);
    /* Deleted after it began: a conflict too, though the key is absent now. */
    char id4[S3_UPLOAD_ID_MAX];
    memcpy(id4, mpu_create("b"), sizeof id4);
    mpu_part("b", id4, 1, "DDDD", 4, S3_CKSUM_MD5);
    tenv_run_until(&T, env_now(&T.env) + 1000);
    struct s3_req d = {.key = "b"};
    call(&d, S3_OP_DELETE);
    c.upload_id = id4;
    call(&c, S3_OP_MPU_COMPLETE);
    expect_err(409, S3E_CONDITIONAL_CONFLICT);
    /* Without conditions the same Complete goes ahead. */
    c.if_none_match = NULL;
    call(&c, S3_OP_MPU_COMPLETE);
    ck_assert_int_eq(R.status, 200);
}
END_TEST


START_TEST(store_metadata_and_mtime_kept_per_version)
{
    struct fs3_config cfg = small_parts();
    struct s3_part p1 = {.number = 1};
    char big[S3_META_MAX + 8];
    fs3_free(S);
    S = fs3_new(&T.env, &cfg);
    struct s3_req w = {.key = "k", .body = (const uint8_t *)"a", .body_len = 1,
                       .meta = "Content-Type: text/plain\nx-amz-meta-owner: me\n"};
    call(&w, S3_OP_PUT);
    ck_assert_int_eq(R.status, 200);
    int64_t t1 = answered_at;
    struct s3_req h = {.key = "k"};
    call(&h, S3_OP_HEAD);
    ck_assert_str_eq(R.meta, "Content-Type: text/plain\nx-amz-meta-owner: me\n");
    ck_assert_int_le(R.mtime_us, t1);
    ck_assert_int_gt(R.mtime_us, 0);
    int64_t m1 = R.mtime_us;
    tenv_run_until(&T, env_now(&T.env) + 5000000);
    put("k", "b", 1); /* no metadata: the new version has none */
    get("k", 0, -1);
    ck_assert_str_eq(R.meta, "");
    ck_assert_int_gt(R.mtime_us, m1 + 4000000);
    /* A Complete takes the upload's metadata. */
    struct s3_req c = {.key = "m", .meta = "x-amz-meta-from: create\n"};
    call(&c, S3_OP_MPU_CREATE);
    char id[S3_UPLOAD_ID_MAX];
    memcpy(id, R.upload_id, sizeof id);
    mpu_part("m", id, 1, "CCCC", 4, S3_CKSUM_MD5);
    mpu_complete("m", id, &p1, 1);
    ck_assert_int_eq(R.status, 200);
    call(&h, S3_OP_HEAD);
    ck_assert_str_eq(R.meta, "");  /* h is still key "k" */
    struct s3_req hm = {.key = "m"};
    call(&hm, S3_OP_HEAD);
    ck_assert_str_eq(R.meta, "x-amz-meta-from: create\n");
    /* Too much: 400 MetadataTooLarge, nothing written. */
    memset(big, 'v', sizeof big - 1);
    big[sizeof big - 1] = 0;
    struct s3_req wb = {.key = "big", .body = (const uint8_t *)"a", .body_len = 1, .meta = big};
    call(&wb, S3_OP_PUT);
    expect_err(400, S3E_METADATA_TOO_LARGE);
    ck_assert(!fs3_key_exists(S, "big", NULL));
    struct s3_req cb = {.key = "big", .meta = big};
    call(&cb, S3_OP_MPU_CREATE);
    expect_err(400, S3E_METADATA_TOO_LARGE);
}
END_TEST

/* ---- Contract and latency. ------------------------------------------------ */

/* Creates an upload at the current time without running the loop further. */
static void lc_create(const char *key, int64_t at)
{
    struct s3_req req = {.key = key};
    tenv_run_until(&T, at);
    ck_assert_int_eq(s3_submit_op(fs3_ops(S), S3_OP_MPU_CREATE, &req, capture, NULL), 0);
    tenv_run_until(&T, at + 1);
    ck_assert_int_eq(R.status, 200);
}

START_TEST(store_lifecycle_rule_aborts_old_uploads)
{
    /* s3.lifecycle.abort.incomplete 10m: each upload is aborted when it is 10 minutes old, by
     * the store itself on the world's clock; a younger one stays open until its turn. */
    struct fs3_config cfg;
    const int64_t min = 60 * 1000000LL;
    fs3_free(S);
    tenv_free(&T);
    fs3_config_init(&cfg);
    cfg.latency_us = 0;
    cfg.lifecycle_abort_us = 10 * min;
    mk(&cfg);
    lc_create("a", 0);
    lc_create("b", 5 * min);
    ck_assert_uint_eq(fs3_nuploads(S), 2);
    tenv_run_until(&T, 10 * min - 2);
    ck_assert_uint_eq(fs3_nuploads(S), 2);
    tenv_run_until(&T, 10 * min + 2);
    ck_assert_uint_eq(fs3_nuploads(S), 1);
    tenv_run_until(&T, 15 * min + 2);
    ck_assert_uint_eq(fs3_nuploads(S), 0);
    tenv_run(&T); /* nothing left armed */
}
END_TEST

START_TEST(store_no_lifecycle_rule_keeps_uploads)
{
    /* The default (none, a bucket without the rule): an upload stays open forever. */
    struct fs3_config cfg;
    fs3_config_init(&cfg);
    ck_assert_int_eq(cfg.lifecycle_abort_us, ENV_TIME_NEVER);
    fs3_free(S);
    tenv_free(&T);
    cfg.latency_us = 0;
    mk(&cfg);
    lc_create("a", 0);
    tenv_run_until(&T, 1000LL * 3600 * 1000000);
    ck_assert_uint_eq(fs3_nuploads(S), 1);
}
END_TEST

START_TEST(store_config_defaults)
{
    struct fs3_config cfg;
    fs3_config_init(&cfg);
    ck_assert_uint_eq(cfg.min_part_size, 5u * 1024 * 1024);
    ck_assert_int_eq(cfg.delete_missing_status, 204);
    ck_assert_int_eq(cfg.latency_us, 20000);
    ck_assert_uint_eq(cfg.bandwidth, 1u << 30);
    ck_assert_int_eq(cfg.history_us, 0);
}
END_TEST

START_TEST(store_answers_later_after_latency)
{
    put("k", "hello", 5);
    /* latency_us * [0.5, 1.5) + 5 bytes at 1 GiB/s */
    ck_assert_int_ge(answered_at, 10000);
    ck_assert_int_lt(answered_at, 30001);
    ck_assert_uint_eq(T.draws, 1);
}
END_TEST

START_TEST(store_bandwidth_adds_transfer_time)
{
    struct fs3_config cfg;
    fs3_config_init(&cfg);
    cfg.latency_us = 0;
    cfg.bandwidth = 1000; /* 1000 B/s: 500 bytes take 0.5 s */
    fs3_free(S);
    S = fs3_new(&T.env, &cfg);
    static uint8_t buf[500];
    put("k", buf, sizeof buf);
    ck_assert_int_eq(answered_at, 500000);
    get("k", 0, 100);
    ck_assert_int_eq(answered_at - 500000, 100000);
}
END_TEST

START_TEST(store_submit_invalid_no_callback)
{
    struct s3_req req = {.key = NULL};
    ck_assert_int_eq(s3_put(fs3_ops(S), &req, capture, NULL), ERR_INVAL);
    req.key = "";
    ck_assert_int_eq(s3_get(fs3_ops(S), &req, capture, NULL), ERR_INVAL);
    req.key = "k";
    req.range_start = -1;
    ck_assert_int_eq(s3_get(fs3_ops(S), &req, capture, NULL), ERR_INVAL);
    tenv_run(&T);
    ck_assert_int_eq(ncb, 0);
    ck_assert_uint_eq(fs3_inflight(S), 0);
}
END_TEST

START_TEST(store_cancel_drops_call_unapplied)
{
    struct s3_req req = {.key = "k", .body = (const uint8_t *)"x", .body_len = 1};
    ck_assert_int_eq(s3_put(fs3_ops(S), &req, capture, NULL), 0);
    ck_assert_uint_eq(fs3_inflight(S), 1);
    s3_cancel(fs3_ops(S), &req);
    ck_assert_uint_eq(fs3_inflight(S), 0);
    tenv_run(&T);
    ck_assert_int_eq(ncb, 0);
    ck_assert(!fs3_key_exists(S, "k", NULL));
}
END_TEST

START_TEST(store_free_with_pending_calls)
{
    struct s3_req a = {.key = "a", .body = (const uint8_t *)"x", .body_len = 1};
    struct s3_req b = {.key = "b"};
    ck_assert_int_eq(s3_put(fs3_ops(S), &a, capture, NULL), 0);
    ck_assert_int_eq(s3_get(fs3_ops(S), &b, capture, NULL), 0);
    fs3_free(S);
    S = NULL;
    tenv_run(&T); /* the timers were cancelled: nothing fires */
    ck_assert_int_eq(ncb, 0);
    ck_assert_uint_eq(T.live, 0);
}
END_TEST

/* ---- Put, get, head. ------------------------------------------------------ */

START_TEST(store_put_get_roundtrip)
{
    put("dir/a", "hello world", 11);
    get("dir/a", 0, -1);
    ck_assert_int_eq(R.status, 200);
    ck_assert_uint_eq(R.body_len, 11);
    ck_assert_mem_eq(R.body, "hello world", 11);
    ck_assert_uint_eq(R.object_size, 11);
    ck_assert_uint_eq(fs3_nkeys(S), 1);
    ck_assert_uint_eq(fs3_nbytes(S), 11);
    put("dir/a", "bye", 3); /* overwrite */
    get("dir/a", 0, -1);
    ck_assert_mem_eq(R.body, "bye", 3);
    ck_assert_uint_eq(fs3_nkeys(S), 1);
    ck_assert_uint_eq(fs3_nbytes(S), 3);
}
END_TEST

START_TEST(store_get_missing_404)
{
    get("nope", 0, -1);
    expect_err(404, S3E_NO_SUCH_KEY);
    ck_assert_ptr_null(R.body);
}
END_TEST

START_TEST(store_get_range_206)
{
    put("k", "0123456789", 10);
    get("k", 2, 5);
    ck_assert_int_eq(R.status, 206);
    ck_assert_uint_eq(R.body_len, 3);
    ck_assert_mem_eq(R.body, "234", 3);
    ck_assert_uint_eq(R.object_size, 10);
    get("k", 7, -1); /* to the end */
    ck_assert_int_eq(R.status, 206);
    ck_assert_mem_eq(R.body, "789", 3);
    get("k", 8, 100); /* end clamped to the size, as S3 does */
    ck_assert_int_eq(R.status, 206);
    ck_assert_uint_eq(R.body_len, 2);
    ck_assert_mem_eq(R.body, "89", 2);
}
END_TEST

START_TEST(store_get_range_beyond_416)
{
    put("k", "0123456789", 10);
    get("k", 10, 20);
    expect_err(416, S3E_INVALID_RANGE);
    ck_assert_ptr_null(R.body);
    get("k", 50, -1);
    expect_err(416, S3E_INVALID_RANGE);
}
END_TEST

START_TEST(store_get_empty_object)
{
    put("e", "", 0);
    get("e", 0, -1); /* no range: 200, empty body */
    ck_assert_int_eq(R.status, 200);
    ck_assert_uint_eq(R.body_len, 0);
    ck_assert_uint_eq(R.object_size, 0);
    get("e", 0, 10); /* any range of an empty object: 416 */
    expect_err(416, S3E_INVALID_RANGE);
}
END_TEST

START_TEST(store_get_malformed_range_whole)
{
    put("k", "0123456789", 10);
    get("k", 5, 3); /* last < first: S3 ignores the header */
    ck_assert_int_eq(R.status, 200);
    ck_assert_uint_eq(R.body_len, 10);
}
END_TEST

START_TEST(store_head_etag_and_size)
{
    char etag[S3_ETAG_MAX];
    put("k", "abc", 3);
    ck_assert_str_eq(R.etag, ""); /* no MD5 asked for: not computed */
    struct s3_req req = {.key = "k"};
    call(&req, S3_OP_HEAD);
    ck_assert_int_eq(R.status, 200);
    ck_assert_uint_eq(R.object_size, 3);
    s3_etag_md5((const uint8_t *)"abc", 3, etag);
    ck_assert_str_eq(R.etag, etag);
    get("k", 0, -1); /* now cached: GET returns it */
    ck_assert_str_eq(R.etag, etag);
}
END_TEST

START_TEST(store_head_missing_404)
{
    struct s3_req req = {.key = "nope"};
    call(&req, S3_OP_HEAD);
    expect_err(404, S3E_NO_SUCH_KEY);
}
END_TEST

START_TEST(store_key_length_limit)
{
    char key[S3_MAX_KEY + 2];
    memset(key, 'k', sizeof key);
    key[S3_MAX_KEY] = 0;
    put(key, "x", 1); /* 1024 bytes: fine */
    ck_assert(fs3_key_exists(S, key, NULL));
    key[S3_MAX_KEY] = 'k';
    key[S3_MAX_KEY + 1] = 0;
    struct s3_req req = {.key = key, .body = (const uint8_t *)"x", .body_len = 1};
    call(&req, S3_OP_PUT);
    expect_err(400, S3E_INVALID_ARGUMENT);
    ck_assert(!fs3_key_exists(S, key, NULL));
    struct s3_req c = {.key = key};
    call(&c, S3_OP_MPU_CREATE);
    expect_err(400, S3E_INVALID_ARGUMENT);
}
END_TEST

/* ---- Checksums. ----------------------------------------------------------- */

START_TEST(store_put_md5_verified_etag)
{
    char etag[S3_ETAG_MAX];
    struct s3_req req = {.key = "k", .body = (const uint8_t *)"data", .body_len = 4};
    s3_checksum_compute(S3_CKSUM_MD5, req.body, 4, &req.cksum);
    call(&req, S3_OP_PUT);
    ck_assert_int_eq(R.status, 200);
    s3_etag_md5(req.body, 4, etag);
    ck_assert_str_eq(R.etag, etag);
    ck_assert(s3_checksum_equal(&R.cksum, &req.cksum));
}
END_TEST

START_TEST(store_put_bad_digest_stores_nothing)
{
    static const enum s3_cksum algs[] = {S3_CKSUM_MD5, S3_CKSUM_CRC32C, S3_CKSUM_CRC32,
                                         S3_CKSUM_SHA256};
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        struct s3_req req = {.key = "k", .body = (const uint8_t *)"data", .body_len = 4};
        s3_checksum_compute(algs[i], (const uint8_t *)"datb", 4, &req.cksum);
        call(&req, S3_OP_PUT);
        expect_err(400, S3E_BAD_DIGEST);
        ck_assert_int_eq(R.cksum.alg, S3_CKSUM_NONE);
        ck_assert(!fs3_key_exists(S, "k", NULL));
    }
}
END_TEST

START_TEST(store_put_invalid_digest_length)
{
    struct s3_req req = {.key = "k", .body = (const uint8_t *)"data", .body_len = 4};
    req.cksum.alg = S3_CKSUM_MD5;
    req.cksum.len = 3;
    call(&req, S3_OP_PUT);
    expect_err(400, S3E_INVALID_DIGEST);
    ck_assert(!fs3_key_exists(S, "k", NULL));
}
END_TEST

START_TEST(store_put_crc32c_returns_store_checksum_no_etag)
{
    struct s3_req req = {.key = "k", .body = (const uint8_t *)"data", .body_len = 4};
    s3_checksum_compute(S3_CKSUM_CRC32C, req.body, 4, &req.cksum);
    call(&req, S3_OP_PUT);
    ck_assert_int_eq(R.status, 200);
    ck_assert_int_eq(R.cksum.alg, S3_CKSUM_CRC32C);
    ck_assert(s3_checksum_equal(&R.cksum, &req.cksum));
    ck_assert_str_eq(R.etag, ""); /* MD5 not paid for */
}
END_TEST

/* ---- List. ---------------------------------------------------------------- */

START_TEST(store_list_prefix_sorted)
{
    const char *keys[] = {"b/2", "a/1", "b/10", "b/1", "c", "b/"};
    for (size_t i = 0; i < 6; i++)
        put(keys[i], "xy", 2);
    struct s3_req req = {.prefix = "b/"};
    call(&req, S3_OP_LIST);
    ck_assert_int_eq(R.status, 200);
    ck_assert_uint_eq(R.nentries, 4);
    ck_assert_str_eq(R.entries[0].key, "b/");
    ck_assert_str_eq(R.entries[1].key, "b/1");
    ck_assert_str_eq(R.entries[2].key, "b/10");
    ck_assert_str_eq(R.entries[3].key, "b/2");
    ck_assert_uint_eq(R.entries[3].size, 2);
    ck_assert(!R.truncated);
    struct s3_req all = {.prefix = NULL};
    call(&all, S3_OP_LIST);
    ck_assert_uint_eq(R.nentries, 6);
    ck_assert_str_eq(R.entries[0].key, "a/1");
    ck_assert_str_eq(R.entries[5].key, "c");
}
END_TEST

START_TEST(store_list_paging)
{
    char key[16];
    for (int i = 0; i < 5; i++) {
        snprintf(key, sizeof key, "p/%d", i);
        put(key, "x", 1);
    }
    put("q", "x", 1);
    char token[S3_MAX_KEY + 1] = "";
    int seen = 0, pages = 0;
    for (;;) {
        struct s3_req req = {.prefix = "p/", .token = token, .max_keys = 2};
        call(&req, S3_OP_LIST);
        pages++;
        for (size_t i = 0; i < R.nentries; i++) {
            snprintf(key, sizeof key, "p/%d", seen++);
            ck_assert_str_eq(R.entries[i].key, key);
        }
        if (!R.truncated)
            break;
        ck_assert_uint_eq(R.nentries, 2);
        memcpy(token, R.next_token, sizeof token);
    }
    ck_assert_int_eq(seen, 5);
    ck_assert_int_eq(pages, 3);
}
END_TEST

START_TEST(store_list_exact_page_not_truncated)
{
    put("a", "x", 1);
    put("b", "x", 1);
    struct s3_req req = {.max_keys = 2};
    call(&req, S3_OP_LIST);
    ck_assert_uint_eq(R.nentries, 2);
    ck_assert(!R.truncated);
}
END_TEST

START_TEST(store_list_caps_at_1000)
{
    char key[16];
    for (int i = 0; i < 1001; i++) {
        snprintf(key, sizeof key, "k%05d", i);
        struct s3_req req = {.key = key, .body = (const uint8_t *)"x", .body_len = 1};
        ck_assert_int_eq(s3_put(fs3_ops(S), &req, capture, NULL), 0);
        tenv_run(&T);
    }
    struct s3_req req = {.max_keys = 5000};
    call(&req, S3_OP_LIST);
    ck_assert_uint_eq(R.nentries, 1000);
    ck_assert(R.truncated);
    ck_assert_str_eq(R.next_token, "k00999");
    struct s3_req neg = {.max_keys = -1};
    call(&neg, S3_OP_LIST);
    expect_err(400, S3E_INVALID_ARGUMENT);
}
END_TEST

/* ---- Delete. -------------------------------------------------------------- */

START_TEST(store_delete_present_204)
{
    put("k", "x", 1);
    struct s3_req req = {.key = "k"};
    call(&req, S3_OP_DELETE);
    ck_assert_int_eq(R.status, 204);
    ck_assert_int_eq(R.code, S3E_NONE);
    ck_assert(!fs3_key_exists(S, "k", NULL));
    ck_assert_uint_eq(fs3_nkeys(S), 0);
}
END_TEST

START_TEST(store_delete_absent_204)
{
    struct s3_req req = {.key = "nope"};
    call(&req, S3_OP_DELETE);
    ck_assert_int_eq(R.status, 204);
    ck_assert(s3_result_ok(&R));
}
END_TEST

START_TEST(store_delete_absent_404_when_configured)
{
    struct fs3_config cfg;
    fs3_config_init(&cfg);
    cfg.delete_missing_status = 404;
    fs3_free(S);
    S = fs3_new(&T.env, &cfg);
    struct s3_req req = {.key = "nope"};
    call(&req, S3_OP_DELETE);
    expect_err(404, S3E_NO_SUCH_KEY);
    put("k", "x", 1);
    struct s3_req ok = {.key = "k"};
    call(&ok, S3_OP_DELETE);
    ck_assert_int_eq(R.status, 204);
}
END_TEST

START_TEST(store_delete_many_per_key)
{
    put("a", "x", 1);
    put("c", "x", 1);
    const char *keys[] = {"a", "b", "c"};
    struct s3_req req = {.keys = keys, .nkeys = 3};
    call(&req, S3_OP_DELETE_MANY);
    ck_assert_int_eq(R.status, 200);
    ck_assert_uint_eq(R.ndeleted, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_str_eq(R.deleted[i].key, keys[i]);
        ck_assert_int_eq(R.deleted[i].code, S3E_NONE); /* absent "b" counts as deleted */
    }
    ck_assert_uint_eq(fs3_nkeys(S), 0);
}
END_TEST

START_TEST(store_delete_many_over_1000_malformed)
{
    static const char *keys[1001];
    for (int i = 0; i < 1001; i++)
        keys[i] = "a";
    put("a", "x", 1);
    struct s3_req req = {.keys = keys, .nkeys = 1001};
    call(&req, S3_OP_DELETE_MANY);
    expect_err(400, S3E_MALFORMED_XML);
    ck_assert(fs3_key_exists(S, "a", NULL)); /* nothing deleted */
    struct s3_req none = {.keys = keys, .nkeys = 0};
    call(&none, S3_OP_DELETE_MANY);
    expect_err(400, S3E_MALFORMED_XML);
    struct s3_req max = {.keys = keys, .nkeys = 1000};
    call(&max, S3_OP_DELETE_MANY);
    ck_assert_int_eq(R.status, 200);
    ck_assert(!fs3_key_exists(S, "a", NULL));
}
END_TEST

/* ---- Multipart. ----------------------------------------------------------- */

START_TEST(store_mpu_complete_etag_and_bytes)
{
    struct fs3_config cfg = small_parts();
    fs3_free(S);
    S = fs3_new(&T.env, &cfg);
    const char *id = mpu_create("obj");
    ck_assert_uint_eq(fs3_nuploads(S), 1);
    struct s3_part parts[2] = {{.number = 1}, {.number = 2}};
    mpu_part("obj", id, 1, "AAAAA", 5, S3_CKSUM_MD5);
    ck_assert_int_eq(R.status, 200);
    memcpy(parts[0].etag, R.etag, S3_ETAG_MAX);
    mpu_part("obj", id, 2, "BB", 2, S3_CKSUM_MD5);
    memcpy(parts[1].etag, R.etag, S3_ETAG_MAX);
    mpu_complete("obj", id, parts, 2);
    ck_assert_int_eq(R.status, 200);
    /* "md5 of the concatenated part MD5s"-2 */
    uint8_t md5s[32];
    struct s3_checksum ck;
    s3_checksum_compute(S3_CKSUM_MD5, (const uint8_t *)"AAAAA", 5, &ck);
    memcpy(md5s, ck.value, 16);
    s3_checksum_compute(S3_CKSUM_MD5, (const uint8_t *)"BB", 2, &ck);
    memcpy(md5s + 16, ck.value, 16);
    s3_checksum_compute(S3_CKSUM_MD5, md5s, 32, &ck);
    char want[S3_ETAG_MAX] = "\"";
    for (int i = 0; i < 16; i++)
        snprintf(want + 1 + 2 * i, 3, "%02x", ck.value[i]);
    strcat(want, "-2\"");
    ck_assert_str_eq(R.etag, want);
    ck_assert_uint_eq(fs3_nuploads(S), 0);
    get("obj", 0, -1);
    ck_assert_uint_eq(R.body_len, 7);
    ck_assert_mem_eq(R.body, "AAAAABB", 7);
    struct s3_req head = {.key = "obj"};
    call(&head, S3_OP_HEAD);
    ck_assert_str_eq(R.etag, want);
}
END_TEST

START_TEST(store_mpu_lazy_multipart_etag_on_head)
{
    struct fs3_config cfg = small_parts();
    fs3_free(S);
    S = fs3_new(&T.env, &cfg);
    const char *id = mpu_create("obj");
    mpu_part("obj", id, 1, "AAAAA", 5, S3_CKSUM_CRC32C);
    ck_assert_str_eq(R.etag, "");
    mpu_part("obj", id, 2, "BB", 2, S3_CKSUM_CRC32C);
    struct s3_part parts[2] = {{.number = 1}, {.number = 2}};
    mpu_complete("obj", id, parts, 2);
    ck_assert_int_eq(R.status, 200);
    ck_assert_str_eq(R.etag, ""); /* no part ETag sent: not computed */
    struct s3_req head = {.key = "obj"};
    call(&head, S3_OP_HEAD);
    ck_assert_int_eq((int)strlen(R.etag), 36); /* quote + 32 hex + "-2" + quote */
    ck_assert_str_eq(R.etag + 33, "-2\"");
}
END_TEST

START_TEST(store_mpu_part_number_range)
{
    const char *id = mpu_create("obj");
    mpu_part("obj", id, 0, "x", 1, S3_CKSUM_NONE);
    expect_err(400, S3E_INVALID_ARGUMENT);
    mpu_part("obj", id, 10001, "x", 1, S3_CKSUM_NONE);
    expect_err(400, S3E_INVALID_ARGUMENT);
    mpu_part("obj", id, 10000, "x", 1, S3_CKSUM_NONE);
    ck_assert_int_eq(R.status, 200);
}
END_TEST

START_TEST(store_mpu_no_such_upload)
{
    put("src", "0123", 4);
    mpu_part("obj", "bogus", 1, "x", 1, S3_CKSUM_NONE);
    expect_err(404, S3E_NO_SUCH_UPLOAD);
    struct s3_part p = {.number = 1};
    mpu_complete("obj", "bogus", &p, 1);
    expect_err(404, S3E_NO_SUCH_UPLOAD);
    struct s3_req ab = {.key = "obj", .upload_id = "bogus"};
    call(&ab, S3_OP_MPU_ABORT);
    expect_err(404, S3E_NO_SUCH_UPLOAD);
    struct s3_req cp = {.key = "obj", .upload_id = "bogus", .part_number = 1,
                        .copy_source = "src", .range_end = -1};
    call(&cp, S3_OP_MPU_COPY);
    expect_err(404, S3E_NO_SUCH_UPLOAD);
    /* A real upload id under another key is no such upload either. */
    const char *id = mpu_create("obj");
    mpu_part("other", id, 1, "x", 1, S3_CKSUM_NONE);
    expect_err(404, S3E_NO_SUCH_UPLOAD);
}
END_TEST

START_TEST(store_list_uploads_by_prefix_and_pages)
{
    char a1[S3_UPLOAD_ID_MAX], a2[S3_UPLOAD_ID_MAX];
    struct s3_req req = {.prefix = "a/"};
    snprintf(a1, sizeof a1, "%s", mpu_create("a/1"));
    snprintf(a2, sizeof a2, "%s", mpu_create("a/1")); /* a second upload of the same key */
    mpu_create("b/1");
    call(&req, S3_OP_LIST_UPLOADS);
    ck_assert_int_eq(R.status, 200);
    ck_assert_uint_eq(R.nentries, 2);
    ck_assert(!R.truncated);
    for (size_t i = 0; i < R.nentries; i++) {
        ck_assert_str_eq(R.entries[i].key, "a/1");
        ck_assert(strcmp(R.entries[i].upload_id, a1) == 0 ||
                  strcmp(R.entries[i].upload_id, a2) == 0);
    }
    ck_assert_str_ne(R.entries[0].upload_id, R.entries[1].upload_id);
    /* Pages of one. */
    struct s3_req p1 = {.prefix = "a/", .max_keys = 1};
    call(&p1, S3_OP_LIST_UPLOADS);
    ck_assert_uint_eq(R.nentries, 1);
    ck_assert(R.truncated);
    char first[S3_UPLOAD_ID_MAX], token[S3_MAX_KEY + 1];
    snprintf(first, sizeof first, "%s", R.entries[0].upload_id);
    snprintf(token, sizeof token, "%s", R.next_token);
    struct s3_req p2 = {.prefix = "a/", .max_keys = 1, .token = token};
    call(&p2, S3_OP_LIST_UPLOADS);
    ck_assert_uint_eq(R.nentries, 1);
    ck_assert_str_ne(R.entries[0].upload_id, first);
    /* An aborted upload is no longer listed. */
    struct s3_req ab = {.key = "a/1", .upload_id = a1};
    call(&ab, S3_OP_MPU_ABORT);
    ck_assert_int_eq(R.status, 204);
    call(&req, S3_OP_LIST_UPLOADS);
    ck_assert_uint_eq(R.nentries, 1);
    ck_assert_str_eq(R.entries[0].upload_id, a2);
}
END_TEST

START_TEST(store_mpu_abort)
{
    const char *id = mpu_create("obj");
    char saved[S3_UPLOAD_ID_MAX];
    strcpy(saved, id);
    mpu_part("obj", saved, 1, "x", 1, S3_CKSUM_NONE);
    struct s3_req ab = {.key = "obj", .upload_id = saved};
    call(&ab, S3_OP_MPU_ABORT);
    ck_assert_int_eq(R.status, 204);
    ck_assert_uint_eq(fs3_nuploads(S), 0);
    mpu_part("obj", saved, 2, "x", 1, S3_CKSUM_NONE);
    expect_err(404, S3E_NO_SUCH_UPLOAD);
    ck_assert(!fs3_key_exists(S, "obj", NULL));
}
END_TEST

START_TEST(store_mpu_copy_with_range)
{
    struct fs3_config cfg = small_parts();
    fs3_free(S);
    S = fs3_new(&T.env, &cfg);
    put("src", "0123456789", 10);
    const char *id = mpu_create("dst");
    struct s3_req cp = {.key = "dst", .upload_id = id, .part_number = 1, .copy_source = "src",
                        .range_start = 2, .range_end = 8};
    call(&cp, S3_OP_MPU_COPY);
    ck_assert_int_eq(R.status, 200);
    struct s3_req cp2 = {.key = "dst", .upload_id = id, .part_number = 2, .copy_source = "src",
                         .range_start = 0, .range_end = -1};
    call(&cp2, S3_OP_MPU_COPY);
    struct s3_part parts[2] = {{.number = 1}, {.number = 2}};
    mpu_complete("dst", id, parts, 2);
    ck_assert_int_eq(R.status, 200);
    get("dst", 0, -1);
    ck_assert_uint_eq(R.body_len, 16);
    ck_assert_mem_eq(R.body, "2345670123456789", 16);
}
END_TEST

START_TEST(store_mpu_copy_errors)
{
    put("src", "0123456789", 10);
    const char *id = mpu_create("dst");
    struct s3_req cp = {.key = "dst", .upload_id = id, .part_number = 1, .copy_source = "gone",
                        .range_end = -1};
    call(&cp, S3_OP_MPU_COPY);
    expect_err(404, S3E_NO_SUCH_KEY);
    cp.copy_source = "src";
    cp.range_start = 10;
    cp.range_end = 12;
    call(&cp, S3_OP_MPU_COPY);
    expect_err(416, S3E_INVALID_RANGE);
    cp.range_start = 5;
    cp.range_end = 11; /* beyond the end: a copy range must lie inside */
    call(&cp, S3_OP_MPU_COPY);
    expect_err(416, S3E_INVALID_RANGE);
    cp.part_number = 0;
    call(&cp, S3_OP_MPU_COPY);
    expect_err(400, S3E_INVALID_ARGUMENT);
}
END_TEST

START_TEST(store_mpu_invalid_part_order)
{
    struct fs3_config cfg = small_parts();
    fs3_free(S);
    S = fs3_new(&T.env, &cfg);
    const char *id = mpu_create("obj");
    mpu_part("obj", id, 1, "AAAAA", 5, S3_CKSUM_NONE);
    mpu_part("obj", id, 2, "BBBBB", 5, S3_CKSUM_NONE);
    struct s3_part parts[2] = {{.number = 2}, {.number = 1}};
    mpu_complete("obj", id, parts, 2);
    expect_err(400, S3E_INVALID_PART_ORDER);
    struct s3_part dup[2] = {{.number = 1}, {.number = 1}};
    mpu_complete("obj", id, dup, 2);
    expect_err(400, S3E_INVALID_PART_ORDER);
    ck_assert_uint_eq(fs3_nuploads(S), 1);
    ck_assert(!fs3_key_exists(S, "obj", NULL));
}
END_TEST

START_TEST(store_mpu_invalid_part)
{
    struct fs3_config cfg = small_parts();
    fs3_free(S);
    S = fs3_new(&T.env, &cfg);
    const char *id = mpu_create("obj");
    mpu_part("obj", id, 1, "AAAAA", 5, S3_CKSUM_NONE);
    struct s3_part missing[2] = {{.number = 1}, {.number = 3}};
    mpu_complete("obj", id, missing, 2);
    expect_err(400, S3E_INVALID_PART);
    struct s3_part bad_etag = {.number = 1, .etag = "\"00000000000000000000000000000000\""};
    mpu_complete("obj", id, &bad_etag, 1);
    expect_err(400, S3E_INVALID_PART);
    struct s3_part bad_ck = {.number = 1};
    s3_checksum_compute(S3_CKSUM_CRC32C, (const uint8_t *)"AAAAB", 5, &bad_ck.cksum);
    mpu_complete("obj", id, &bad_ck, 1);
    expect_err(400, S3E_INVALID_PART);
    struct s3_part good = {.number = 1};
    s3_etag_md5((const uint8_t *)"AAAAA", 5, good.etag);
    mpu_complete("obj", id, &good, 1);
    ck_assert_int_eq(R.status, 200);
}
END_TEST

START_TEST(store_mpu_entity_too_small)
{
    /* default min part size 5 MiB */
    const char *id = mpu_create("obj");
    mpu_part("obj", id, 1, "small", 5, S3_CKSUM_NONE);
    mpu_part("obj", id, 2, "last", 4, S3_CKSUM_NONE);
    struct s3_part parts[2] = {{.number = 1}, {.number = 2}};
    mpu_complete("obj", id, parts, 2);
    expect_err(400, S3E_ENTITY_TOO_SMALL);
    ck_assert_uint_eq(fs3_nuploads(S), 1);
    /* A single small part is the last part: allowed. */
    mpu_complete("obj", id, parts, 1);
    ck_assert_int_eq(R.status, 200);
    ck_assert(fs3_key_exists(S, "obj", NULL));
}
END_TEST

START_TEST(store_mpu_empty_part_list_malformed)
{
    const char *id = mpu_create("obj");
    mpu_complete("obj", id, NULL, 0);
    expect_err(400, S3E_MALFORMED_XML);
}
END_TEST

START_TEST(store_mpu_part_digest)
{
    const char *id = mpu_create("obj");
    struct s3_req req = {.key = "obj", .upload_id = id, .part_number = 1,
                         .body = (const uint8_t *)"abcd", .body_len = 4};
    s3_checksum_compute(S3_CKSUM_SHA256, (const uint8_t *)"abcX", 4, &req.cksum);
    call(&req, S3_OP_MPU_PART);
    expect_err(400, S3E_BAD_DIGEST);
    s3_checksum_compute(S3_CKSUM_SHA256, req.body, 4, &req.cksum);
    call(&req, S3_OP_MPU_PART);
    ck_assert_int_eq(R.status, 200);
    ck_assert(s3_checksum_equal(&R.cksum, &req.cksum));
}
END_TEST

/* ---- Inspection. ---------------------------------------------------------- */

struct walk {
    char keys[8][16];
    uint64_t sizes[8];
    int n;
};

static bool walk_key(void *arg, const char *key, uint64_t size)
{
    struct walk *w = arg;
    snprintf(w->keys[w->n], 16, "%s", key);
    w->sizes[w->n++] = size;
    return w->n < 8;
}

static bool walk_upload(void *arg, const char *key, const char *id, int64_t created)
{
    struct walk *w = arg;
    (void)id;
    snprintf(w->keys[w->n], 16, "%s", key);
    w->sizes[w->n++] = (uint64_t)created;
    return true;
}

START_TEST(store_inspect_keys_sorted_and_remove)
{
    put("b", "xx", 2);
    put("a", "x", 1);
    put("c", "xxx", 3);
    struct walk w = {.n = 0};
    fs3_each_key(S, walk_key, &w);
    ck_assert_int_eq(w.n, 3);
    ck_assert_str_eq(w.keys[0], "a");
    ck_assert_str_eq(w.keys[2], "c");
    ck_assert_uint_eq(w.sizes[1], 2);
    uint64_t size = 0;
    ck_assert(fs3_key_exists(S, "c", &size));
    ck_assert_uint_eq(size, 3);
    ck_assert_int_eq(fs3_remove(S, "b"), 0);
    ck_assert_int_eq(fs3_remove(S, "b"), ERR_NOTFOUND);
    ck_assert_uint_eq(fs3_nkeys(S), 2);
    ck_assert_uint_eq(fs3_nbytes(S), 4);
    get("b", 0, -1);
    expect_err(404, S3E_NO_SUCH_KEY);
}
END_TEST

START_TEST(store_inspect_uploads_and_abort)
{
    const char *id = mpu_create("z");
    char zid[S3_UPLOAD_ID_MAX];
    strcpy(zid, id);
    mpu_create("y");
    struct walk w = {.n = 0};
    fs3_each_upload(S, walk_upload, &w);
    ck_assert_int_eq(w.n, 2);
    ck_assert_str_eq(w.keys[0], "y");
    ck_assert_str_eq(w.keys[1], "z");
    ck_assert_uint_gt(w.sizes[1], 0); /* created after the first call's latency */
    ck_assert_int_eq(fs3_abort_upload(S, zid), 0);
    ck_assert_int_eq(fs3_abort_upload(S, zid), ERR_NOTFOUND);
    ck_assert_uint_eq(fs3_nuploads(S), 1);
}
END_TEST

START_TEST(store_inflight_counts)
{
    struct s3_req a = {.key = "a"}, b = {.key = "b"};
    ck_assert_int_eq(s3_get(fs3_ops(S), &a, capture, NULL), 0);
    ck_assert_int_eq(s3_get(fs3_ops(S), &b, capture, NULL), 0);
    ck_assert_uint_eq(fs3_inflight(S), 2);
    s3_cancel(fs3_ops(S), &a);
    ck_assert_uint_eq(fs3_inflight(S), 1);
    tenv_run(&T);
    ck_assert_uint_eq(fs3_inflight(S), 0);
    ck_assert_int_eq(ncb, 1);
}
END_TEST

/* ---- History (stale view) and fs3_exec. ----------------------------------- */

static struct s3_result exec_at(const struct s3_req *req, int64_t as_of)
{
    struct s3_result res;
    memset(&res, 0, sizeof res);
    ck_assert_int_eq(fs3_exec(S, req, as_of, &res), 0);
    return res;
}

START_TEST(store_history_as_of)
{
    struct fs3_config cfg;
    fs3_config_init(&cfg);
    cfg.history_us = 10 * ENV_USEC_PER_SEC;
    fs3_free(S);
    S = fs3_new(&T.env, &cfg);
    struct s3_req p1 = {.op = S3_OP_PUT, .key = "k", .body = (const uint8_t *)"v1", .body_len = 2};
    struct s3_req p2 = {.op = S3_OP_PUT, .key = "k", .body = (const uint8_t *)"v22", .body_len = 3};
    struct s3_req del = {.op = S3_OP_DELETE, .key = "k"};
    struct s3_req g = {.op = S3_OP_GET, .key = "k", .range_end = -1};
    struct s3_req l = {.op = S3_OP_LIST};
    struct s3_result r;
    tenv_run_until(&T, 1000000); /* t=1s: v1 */
    r = exec_at(&p1, FS3_AS_OF_NOW);
    tenv_run_until(&T, 2000000); /* t=2s: v22 */
    r = exec_at(&p2, FS3_AS_OF_NOW);
    tenv_run_until(&T, 3000000); /* t=3s: deleted */
    r = exec_at(&del, FS3_AS_OF_NOW);
    ck_assert_int_eq(r.status, 204);
    r = exec_at(&g, FS3_AS_OF_NOW);
    ck_assert_int_eq(r.status, 404);
    r = exec_at(&g, 2500000);
    ck_assert_int_eq(r.status, 200);
    ck_assert_mem_eq(r.body, "v22", 3);
    s3_result_cleanup(&r);
    r = exec_at(&g, 1500000);
    ck_assert_mem_eq(r.body, "v1", 2);
    s3_result_cleanup(&r);
    r = exec_at(&g, 500000); /* before it existed */
    ck_assert_int_eq(r.status, 404);
    r = exec_at(&l, 2500000);
    ck_assert_uint_eq(r.nentries, 1);
    ck_assert_uint_eq(r.entries[0].size, 3);
    s3_result_cleanup(&r);
    r = exec_at(&l, FS3_AS_OF_NOW);
    ck_assert_uint_eq(r.nentries, 0);
    s3_result_cleanup(&r);
    ck_assert_uint_eq(fs3_nkeys(S), 0);
    /* 20 s later a mutation prunes everything older than the window. */
    tenv_run_until(&T, 23000000);
    struct s3_req other = {.op = S3_OP_PUT, .key = "o", .body = (const uint8_t *)"x",
                           .body_len = 1};
    r = exec_at(&other, FS3_AS_OF_NOW);
    r = exec_at(&g, 2500000);
    ck_assert_int_eq(r.status, 404);
}
END_TEST

START_TEST(store_history_off_keeps_nothing)
{
    struct s3_req p1 = {.op = S3_OP_PUT, .key = "k", .body = (const uint8_t *)"v1", .body_len = 2};
    struct s3_req del = {.op = S3_OP_DELETE, .key = "k"};
    struct s3_req g = {.op = S3_OP_GET, .key = "k", .range_end = -1};
    struct s3_result r;
    r = exec_at(&p1, FS3_AS_OF_NOW);
    tenv_run_until(&T, 1000000);
    r = exec_at(&del, FS3_AS_OF_NOW);
    r = exec_at(&g, 0);
    ck_assert_int_eq(r.status, 404); /* documented: no history, no stale view */
    fs3_keep_history(S, 5);
    ck_assert_int_eq(fs3_config(S)->history_us, 5);
    fs3_keep_history(S, 1);
    ck_assert_int_eq(fs3_config(S)->history_us, 5);
}
END_TEST

START_TEST(store_body_ownership_taken_by_callback)
{
    put("k", "abc", 3);
    get("k", 0, -1); /* capture() takes the body: no double free under ASan */
    ck_assert_ptr_nonnull(R.body);
    ck_assert_mem_eq(R.body, "abc", 3);
}
END_TEST


/* ---- A random walk against a model (hash table, history, listing). ------- */

#define MODEL_KEYS 300
#define MODEL_STEPS 20000
#define MODEL_WINDOW 50000 /* 50 ms of history; one step is 1 ms */

struct model_key {
    int64_t t[MODEL_STEPS / 10]; /* change times */
    int64_t size[MODEL_STEPS / 10]; /* -1: absent from then on */
    int n;
};

static struct model_key *model;

static int64_t model_at(int k, int64_t as_of)
{
    int64_t size = -1;
    for (int i = 0; i < model[k].n && model[k].t[i] <= as_of; i++)
        size = model[k].size[i];
    return size;
}

static void model_change(int k, int64_t size)
{
    struct model_key *m = &model[k];
    ck_assert_int_lt(m->n, MODEL_STEPS / 10);
    m->t[m->n] = T.now;
    m->size[m->n++] = size;
}

static uint64_t rnd(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

START_TEST(store_random_walk_matches_model)
{
    struct fs3_config cfg;
    fs3_config_init(&cfg);
    cfg.history_us = MODEL_WINDOW;
    fs3_free(S);
    S = fs3_new(&T.env, &cfg);
    model = calloc(MODEL_KEYS, sizeof *model);
    ck_assert_ptr_nonnull(model);
    static uint8_t buf[64];
    char key[32];
    uint64_t x = 88172645463325252u;
    for (int step = 0; step < MODEL_STEPS; step++) {
        tenv_run_until(&T, T.now + 1000);
        int k = (int)(rnd(&x) % MODEL_KEYS);
        snprintf(key, sizeof key, "k/%03d", k);
        int64_t cur = model_at(k, T.now);
        struct s3_result r;
        switch (rnd(&x) % 4) {
        case 0:
        case 1: { /* put */
            size_t len = (size_t)(rnd(&x) % sizeof buf);
            struct s3_req p = {.op = S3_OP_PUT, .key = key, .body = buf, .body_len = len};
            r = exec_at(&p, FS3_AS_OF_NOW);
            ck_assert_int_eq(r.status, 200);
            model_change(k, (int64_t)len);
            break;
        }
        case 2: { /* delete (or a racing deleter's remove) */
            if (rnd(&x) % 2) {
                struct s3_req d = {.op = S3_OP_DELETE, .key = key};
                r = exec_at(&d, FS3_AS_OF_NOW);
                ck_assert_int_eq(r.status, 204);
            } else {
                ck_assert_int_eq(fs3_remove(S, key), cur >= 0 ? 0 : ERR_NOTFOUND);
            }
            if (cur >= 0)
                model_change(k, -1);
            break;
        }
        default: { /* a stale head somewhere in the window */
            int64_t as_of = T.now - (int64_t)(rnd(&x) % MODEL_WINDOW);
            struct s3_req h = {.op = S3_OP_HEAD, .key = key};
            int64_t want = model_at(k, as_of);
            r = exec_at(&h, as_of);
            ck_assert_int_eq(r.status, want >= 0 ? 200 : 404);
            if (want >= 0)
                ck_assert_uint_eq(r.object_size, (uint64_t)want);
        }
        }
        uint64_t size;
        ck_assert_int_eq(fs3_key_exists(S, key, &size), model_at(k, T.now) >= 0);
    }
    /* Listing and counters agree with the model; history stayed bounded. */
    uint64_t nkeys = 0, nbytes = 0;
    for (int k = 0; k < MODEL_KEYS; k++)
        if (model_at(k, T.now) >= 0) {
            nkeys++;
            nbytes += (uint64_t)model_at(k, T.now);
        }
    ck_assert_uint_eq(fs3_nkeys(S), nkeys);
    ck_assert_uint_eq(fs3_nbytes(S), nbytes);
    ck_assert_uint_le(fs3_nversions(S), MODEL_WINDOW / 1000 + 1);
    struct s3_req l = {.op = S3_OP_LIST, .prefix = "k/", .max_keys = 1000};
    struct s3_result r = exec_at(&l, FS3_AS_OF_NOW);
    ck_assert_uint_eq(r.nentries, nkeys);
    for (size_t i = 1; i < r.nentries; i++)
        ck_assert_int_lt(strcmp(r.entries[i - 1].key, r.entries[i].key), 0);
    s3_result_cleanup(&r);
    int64_t past = T.now - MODEL_WINDOW / 2;
    r = exec_at(&l, past);
    uint64_t then = 0;
    for (int k = 0; k < MODEL_KEYS; k++)
        then += model_at(k, past) >= 0;
    ck_assert_uint_eq(r.nentries, then);
    s3_result_cleanup(&r);
    free(model);
}
END_TEST

static Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("store");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, store_config_defaults);
    tcase_add_test(tc, store_lifecycle_rule_aborts_old_uploads);
    tcase_add_test(tc, store_no_lifecycle_rule_keeps_uploads);
    tcase_add_test(tc, store_answers_later_after_latency);
    tcase_add_test(tc, store_bandwidth_adds_transfer_time);
    tcase_add_test(tc, store_submit_invalid_no_callback);
    tcase_add_test(tc, store_cancel_drops_call_unapplied);
    tcase_add_test(tc, store_free_with_pending_calls);
    tcase_add_test(tc, store_put_get_roundtrip);
    tcase_add_test(tc, store_get_missing_404);
    tcase_add_test(tc, store_get_range_206);
    tcase_add_test(tc, store_get_range_beyond_416);
    tcase_add_test(tc, store_get_empty_object);
    tcase_add_test(tc, store_get_malformed_range_whole);
    tcase_add_test(tc, store_head_etag_and_size);
    tcase_add_test(tc, store_head_missing_404);
    tcase_add_test(tc, store_key_length_limit);
    tcase_add_test(tc, store_put_md5_verified_etag);
    tcase_add_test(tc, store_put_bad_digest_stores_nothing);
    tcase_add_test(tc, store_put_invalid_digest_length);
    tcase_add_test(tc, store_put_crc32c_returns_store_checksum_no_etag);
    tcase_add_test(tc, store_list_prefix_sorted);
    tcase_add_test(tc, store_list_paging);
    tcase_add_test(tc, store_list_exact_page_not_truncated);
    tcase_add_test(tc, store_list_caps_at_1000);
    tcase_add_test(tc, store_delete_present_204);
    tcase_add_test(tc, store_delete_absent_204);
    tcase_add_test(tc, store_delete_absent_404_when_configured);
    tcase_add_test(tc, store_delete_many_per_key);
    tcase_add_test(tc, store_delete_many_over_1000_malformed);
    tcase_add_test(tc, store_mpu_complete_etag_and_bytes);
    tcase_add_test(tc, store_mpu_lazy_multipart_etag_on_head);
    tcase_add_test(tc, store_mpu_part_number_range);
    tcase_add_test(tc, store_mpu_no_such_upload);
    tcase_add_test(tc, store_mpu_abort);
    tcase_add_test(tc, store_mpu_copy_with_range);
    tcase_add_test(tc, store_mpu_copy_errors);
    tcase_add_test(tc, store_mpu_invalid_part_order);
    tcase_add_test(tc, store_mpu_invalid_part);
    tcase_add_test(tc, store_mpu_entity_too_small);
    tcase_add_test(tc, store_mpu_empty_part_list_malformed);
    tcase_add_test(tc, store_mpu_part_digest);
    tcase_add_test(tc, store_inspect_keys_sorted_and_remove);
    tcase_add_test(tc, store_inspect_uploads_and_abort);
    tcase_add_test(tc, store_inflight_counts);
    tcase_add_test(tc, store_history_as_of);
    tcase_add_test(tc, store_history_off_keeps_nothing);
    tcase_add_test(tc, store_body_ownership_taken_by_callback);
    tcase_add_test(tc, store_random_walk_matches_model);
    tcase_add_test(tc, store_list_uploads_by_prefix_and_pages);
    tcase_add_test(tc, store_put_if_none_match_creates_once);
    tcase_add_test(tc, store_put_if_match_compares_etag);
    tcase_add_test(tc, store_get_head_conditions);
    tcase_add_test(tc, store_complete_conditions_and_conflict);
    tcase_add_test(tc, store_metadata_and_mtime_kept_per_version);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(store_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
