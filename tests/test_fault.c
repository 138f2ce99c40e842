/* test_fault.c - the fault shim (fake_s3/fault.h): every matcher, every
 * effect, counters, the observer hook, heal, and teardown. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "fault.h"
#include "fs3.h"
#include "testenv.h"

/* ---- Fixture. ------------------------------------------------------------- */

static struct tenv T;
static struct fs3 *S;
static struct fs3_fault *F;
static struct s3_ops *OPS;
static int ncb;
static struct s3_result R;
static int64_t answered_at;

#define MAX_SEEN 64
static struct fs3_call_info seen[MAX_SEEN]; /* observer calls (pointers not kept) */
static char seen_rule[MAX_SEEN][64];
static int nseen;

static void observe(void *arg, const struct fs3_call_info *in)
{
    (void)arg;
    if (nseen < MAX_SEEN) {
        seen[nseen] = *in;
        snprintf(seen_rule[nseen], 64, "%s", in->rule);
        seen[nseen].key = NULL;
        seen[nseen].rule = NULL;
    }
    nseen++;
}

/* Keys containing "sso" are SSOs, "comp" composites; others unknown. */
static unsigned classify(void *arg, const char *key)
{
    (*(int *)arg)++;
    if (strstr(key, "sso"))
        return FS3_KIND_SSO;
    if (strstr(key, "comp"))
        return FS3_KIND_COMPOSITE;
    return FS3_KIND_NONE;
}
static int nclassify;

static void mk(uint64_t seed, int64_t latency_us)
{
    struct fs3_config cfg;
    fs3_config_init(&cfg);
    cfg.latency_us = latency_us;
    cfg.min_part_size = 4;
    tenv_init(&T, seed);
    S = fs3_new(&T.env, &cfg);
    F = fs3_fault_new(&T.env, S, classify, &nclassify);
    ck_assert_ptr_nonnull(F);
    OPS = fs3_fault_ops(F);
    fs3_fault_observe(F, observe, NULL);
    ncb = 0;
    nseen = 0;
    nclassify = 0;
    memset(&R, 0, sizeof R);
}

static void setup(void) { mk(11, 20000); }

static void teardown(void)
{
    s3_result_cleanup(&R);
    fs3_fault_free(F);
    fs3_free(S);
    tenv_free(&T);
}

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

/* Submits, runs the loop; returns true when the callback ran (once). */
static bool call(struct s3_req *req, enum s3_op op)
{
    int before = ncb;
    ck_assert_int_eq(s3_submit_op(OPS, op, req, capture, NULL), 0);
    ck_assert_int_eq(ncb, before);
    tenv_run(&T);
    ck_assert_int_le(ncb, before + 1);
    return ncb == before + 1;
}

static void put(const char *key, const char *body)
{
    struct s3_req req = {.key = key, .body = (const uint8_t *)body, .body_len = strlen(body)};
    ck_assert(call(&req, S3_OP_PUT));
}

static bool get(const char *key)
{
    struct s3_req req = {.key = key, .range_end = -1};
    return call(&req, S3_OP_GET);
}

static struct fs3_rule rule(int op, enum fs3_effect eff)
{
    struct fs3_rule r;
    fs3_rule_init(&r);
    r.op = op;
    r.effect = eff;
    return r;
}

static void add(const struct fs3_rule *r) { ck_assert_int_eq(fs3_fault_add(F, r), 0); }

static struct fs3_rule status_rule(int op, int status, enum s3_code code)
{
    struct fs3_rule r = rule(op, FS3_EFF_STATUS);
    r.status = status;
    r.code = code;
    return r;
}

/* ---- Basics. -------------------------------------------------------------- */

START_TEST(fault_rule_init_defaults)
{
    struct fs3_rule r;
    memset(&r, 0x5a, sizeof r);
    fs3_rule_init(&r);
    ck_assert_str_eq(r.name, "");
    ck_assert_int_eq(r.op, FS3_OP_ANY);
    ck_assert_str_eq(r.key_glob, "*");
    ck_assert_uint_eq(r.kind_mask, FS3_KIND_ANY);
    ck_assert_int_eq(r.match, FS3_MATCH_ALL);
    ck_assert_int_eq(r.times, -1);
    ck_assert_int_eq(r.from_us, 0);
    ck_assert_int_eq(r.until_us, ENV_TIME_NEVER);
    ck_assert_int_eq(r.code, S3E_NONE);
}
END_TEST

START_TEST(fault_effect_names)
{
    ck_assert_str_eq(fs3_effect_name(FS3_EFF_NONE), "none");
    ck_assert_str_eq(fs3_effect_name(FS3_EFF_STATUS), "status");
    ck_assert_str_eq(fs3_effect_name(FS3_EFF_TIMEOUT), "timeout");
    ck_assert_str_eq(fs3_effect_name(FS3_EFF_LOST), "lost");
    ck_assert_str_eq(fs3_effect_name(FS3_EFF_STALL), "stall");
    ck_assert_str_eq(fs3_effect_name(FS3_EFF_DELAY), "delay");
    ck_assert_str_eq(fs3_effect_name(FS3_EFF_PARTIAL), "partial");
    ck_assert_str_eq(fs3_effect_name(FS3_EFF_STALE), "stale");
    ck_assert_str_eq(fs3_effect_name(FS3_EFF_RESET), "reset");
    ck_assert_str_eq(fs3_effect_name(FS3_EFF_COUNT), "?");
}
END_TEST

START_TEST(fault_glob)
{
    ck_assert(fs3_glob_match("*", ""));
    ck_assert(fs3_glob_match("*", "abc"));
    ck_assert(fs3_glob_match("a*c", "abbbc"));
    ck_assert(fs3_glob_match("a?c", "abc"));
    ck_assert(!fs3_glob_match("a?c", "ac"));
    ck_assert(fs3_glob_match("*/_kafka_*/12*", "x/_kafka_t/123"));
    ck_assert(!fs3_glob_match("*/_kafka_*/12*", "x/_kafka_t/13"));
    ck_assert(fs3_glob_match("a*b*c", "aXbYbZc"));
    ck_assert(!fs3_glob_match("abc", "abcd"));
    ck_assert(fs3_glob_match("abc*", "abc"));
}
END_TEST

START_TEST(fault_add_invalid)
{
    struct fs3_rule r = rule(S3_OP_GET, FS3_EFF_NONE);
    ck_assert_int_eq(fs3_fault_add(F, &r), ERR_INVAL);
    r = status_rule(S3_OP_GET, 42, S3E_NONE);
    ck_assert_int_eq(fs3_fault_add(F, &r), ERR_INVAL);
    r = rule(S3_OP_COUNT, FS3_EFF_STALL);
    ck_assert_int_eq(fs3_fault_add(F, &r), ERR_INVAL);
    r = rule(S3_OP_GET, FS3_EFF_STALL);
    r.match = FS3_MATCH_PROB;
    r.prob = 1.5;
    ck_assert_int_eq(fs3_fault_add(F, &r), ERR_INVAL);
    r = rule(S3_OP_GET, FS3_EFF_STALL);
    r.match = FS3_MATCH_NTH;
    r.n = 0;
    ck_assert_int_eq(fs3_fault_add(F, &r), ERR_INVAL);
    r = rule(S3_OP_GET, FS3_EFF_DELAY);
    r.delay_us = -1;
    ck_assert_int_eq(fs3_fault_add(F, &r), ERR_INVAL);
    ck_assert_uint_eq(fs3_fault_nrules(F), 0);
}
END_TEST

START_TEST(fault_no_rules_passes_through)
{
    put("k", "hello");
    ck_assert_int_eq(R.status, 200);
    ck_assert(get("k"));
    ck_assert_mem_eq(R.body, "hello", 5);
    ck_assert_uint_eq(fs3_fault_calls(F, S3_OP_PUT), 1);
    ck_assert_uint_eq(fs3_fault_calls(F, FS3_OP_ANY), 2);
    ck_assert_uint_eq(fs3_fault_hits(F, S3_OP_GET, FS3_EFF_NONE), 1);
    ck_assert_uint_eq(fs3_fault_hits(F, FS3_OP_ANY, FS3_EFF_NONE), 2);
    ck_assert_uint_eq(fs3_inflight(S), 0);
    ck_assert_uint_eq(T.draws, 2); /* one latency draw per call */
}
END_TEST

START_TEST(fault_submit_invalid_no_callback)
{
    struct s3_req req = {.key = NULL};
    ck_assert_int_eq(s3_put(OPS, &req, capture, NULL), ERR_INVAL);
    tenv_run(&T);
    ck_assert_int_eq(ncb, 0);
    ck_assert_int_eq(nseen, 0);
    ck_assert_uint_eq(fs3_fault_calls(F, FS3_OP_ANY), 0);
}
END_TEST

/* ---- Effects. ------------------------------------------------------------- */

START_TEST(fault_status_default_codes_store_untouched)
{
    struct fs3_rule r = status_rule(S3_OP_PUT, 500, S3E_NONE);
    add(&r);
    r = status_rule(S3_OP_MPU_PART, 404, S3E_NONE);
    add(&r);
    r = status_rule(S3_OP_GET, 503, S3E_NONE);
    add(&r);
    struct s3_req p = {.key = "k", .body = (const uint8_t *)"x", .body_len = 1};
    ck_assert(call(&p, S3_OP_PUT));
    ck_assert_int_eq(R.status, 500);
    ck_assert_int_eq(R.code, S3E_INTERNAL_ERROR);
    ck_assert(!fs3_key_exists(S, "k", NULL));
    struct s3_req mp = {.key = "k", .upload_id = "u", .part_number = 1,
                        .body = (const uint8_t *)"x", .body_len = 1};
    ck_assert(call(&mp, S3_OP_MPU_PART));
    ck_assert_int_eq(R.status, 404);
    ck_assert_int_eq(R.code, S3E_NO_SUCH_UPLOAD);
    ck_assert(get("k"));
    ck_assert_int_eq(R.status, 503);
    ck_assert_int_eq(R.code, S3E_SLOW_DOWN);
    ck_assert_uint_eq(fs3_fault_hits(F, S3_OP_PUT, FS3_EFF_STATUS), 1);
}
END_TEST

/* job=: only the calls of the named jobs count and fire; nth= counts only those. */
START_TEST(fault_job_matcher_counts_only_its_jobs)
{
    struct fs3_rule r = status_rule(S3_OP_GET, 503, S3E_NONE);
    r.job_mask = 1u << S3_JOB_CLEANER;
    r.match = FS3_MATCH_NTH;
    r.n = 2;
    add(&r);
    put("k", "x");
    struct s3_req g = {.key = "k", .range_end = -1, .job = S3_JOB_SSO_COMPACTION};
    ck_assert(call(&g, S3_OP_GET));
    ck_assert_int_eq(R.status, 200);
    g.job = S3_JOB_CLEANER;
    ck_assert(call(&g, S3_OP_GET)); /* the cleaner's first: not the 2nd of its job */
    ck_assert_int_eq(R.status, 200);
    g.job = S3_JOB_READER;
    ck_assert(call(&g, S3_OP_GET));
    ck_assert_int_eq(R.status, 200);
    g.job = S3_JOB_CLEANER;
    ck_assert(call(&g, S3_OP_GET)); /* the cleaner's second */
    ck_assert_int_eq(R.status, 503);
    ck_assert_uint_eq(fs3_fault_hits(F, S3_OP_GET, FS3_EFF_STATUS), 1);
}
END_TEST

START_TEST(fault_status_explicit_code)
{
    struct fs3_rule r = status_rule(S3_OP_GET, 403, S3E_SIGNATURE_DOES_NOT_MATCH);
    add(&r);
    ck_assert(get("k"));
    ck_assert_int_eq(R.status, 403);
    ck_assert_str_eq(s3_code_name(R.code), "SignatureDoesNotMatch");
}
END_TEST

START_TEST(fault_status_200_internal_error_complete_not_done)
{
    struct s3_req c = {.key = "obj"};
    ck_assert(call(&c, S3_OP_MPU_CREATE));
    char id[S3_UPLOAD_ID_MAX];
    strcpy(id, R.upload_id);
    struct s3_req p = {.key = "obj", .upload_id = id, .part_number = 1,
                       .body = (const uint8_t *)"abc", .body_len = 3};
    ck_assert(call(&p, S3_OP_MPU_PART));
    struct fs3_rule r = status_rule(S3_OP_MPU_COMPLETE, 200, S3E_INTERNAL_ERROR);
    add(&r);
    struct s3_part part = {.number = 1};
    struct s3_req done = {.key = "obj", .upload_id = id, .parts = &part, .nparts = 1};
    ck_assert(call(&done, S3_OP_MPU_COMPLETE));
    ck_assert_int_eq(R.status, 200);
    ck_assert_int_eq(R.code, S3E_INTERNAL_ERROR);
    ck_assert(!s3_result_ok(&R));
    ck_assert(!fs3_key_exists(S, "obj", NULL));
    ck_assert_uint_eq(fs3_nuploads(S), 1);
}
END_TEST

START_TEST(fault_timeout_never_answers_store_unchanged)
{
    struct fs3_rule r = rule(S3_OP_PUT, FS3_EFF_TIMEOUT);
    add(&r);
    struct s3_req p = {.key = "k", .body = (const uint8_t *)"x", .body_len = 1};
    ck_assert(!call(&p, S3_OP_PUT));
    ck_assert(!fs3_key_exists(S, "k", NULL));
    ck_assert_uint_eq(fs3_inflight(S), 1);
    ck_assert_int_eq(nseen, 1);
    ck_assert_int_eq(seen[0].outcome, FS3_OUT_SWALLOWED);
    ck_assert_int_eq(seen[0].effect, FS3_EFF_TIMEOUT);
    ck_assert_int_eq(seen[0].transport, S3_TR_TIMEOUT);
    s3_cancel(OPS, &p);
    ck_assert_uint_eq(fs3_inflight(S), 0);
    ck_assert_int_eq(nseen, 1); /* a swallowed call is not reported again */
}
END_TEST

START_TEST(fault_lost_applied_but_unanswered)
{
    struct fs3_rule r = rule(S3_OP_PUT, FS3_EFF_LOST);
    add(&r);
    struct s3_req p = {.key = "k", .body = (const uint8_t *)"data", .body_len = 4};
    ck_assert_int_eq(s3_put(OPS, &p, capture, NULL), 0);
    ck_assert_int_eq(nseen, 0); /* reported when applied, not at submit */
    ck_assert(!fs3_key_exists(S, "k", NULL));
    tenv_run(&T);
    ck_assert_int_eq(ncb, 0);
    uint64_t size = 0;
    ck_assert(fs3_key_exists(S, "k", &size));
    ck_assert_uint_eq(size, 4);
    ck_assert_int_eq(nseen, 1);
    ck_assert_int_eq(seen[0].outcome, FS3_OUT_SWALLOWED);
    ck_assert_int_eq(seen[0].effect, FS3_EFF_LOST);
    ck_assert_int_eq(seen[0].transport, S3_TR_TIMEOUT);
    ck_assert_int_eq(seen[0].status, 200); /* what the store did */
    ck_assert_uint_eq(fs3_inflight(S), 1);
    s3_cancel(OPS, &p);
    ck_assert_uint_eq(fs3_inflight(S), 0);
}
END_TEST

START_TEST(fault_lost_cancelled_before_applied)
{
    struct fs3_rule r = rule(S3_OP_PUT, FS3_EFF_LOST);
    add(&r);
    struct s3_req p = {.key = "k", .body = (const uint8_t *)"data", .body_len = 4};
    ck_assert_int_eq(s3_put(OPS, &p, capture, NULL), 0);
    s3_cancel(OPS, &p);
    tenv_run(&T);
    ck_assert(!fs3_key_exists(S, "k", NULL));
    ck_assert_int_eq(nseen, 1);
    ck_assert_int_eq(seen[0].outcome, FS3_OUT_CANCELLED);
}
END_TEST

START_TEST(fault_stall_cancel)
{
    put("k", "x");
    struct fs3_rule r = rule(S3_OP_DELETE, FS3_EFF_STALL);
    add(&r);
    struct s3_req d = {.key = "k"};
    ck_assert(!call(&d, S3_OP_DELETE));
    tenv_run_until(&T, 10 * ENV_USEC_PER_MIN);
    ck_assert_int_eq(ncb, 1);
    ck_assert(fs3_key_exists(S, "k", NULL));
    ck_assert_uint_eq(fs3_inflight(S), 1);
    s3_cancel(OPS, &d);
    ck_assert_uint_eq(fs3_inflight(S), 0);
    tenv_run(&T);
    ck_assert_int_eq(ncb, 1);
    ck_assert_uint_eq(fs3_fault_hits(F, S3_OP_DELETE, FS3_EFF_STALL), 1);
}
END_TEST

START_TEST(fault_delay_answers_later)
{
    teardown();
    mk(11, 0); /* no latency: the answer comes exactly D after the submit */
    struct fs3_rule r = rule(S3_OP_GET, FS3_EFF_DELAY);
    r.delay_us = 3 * ENV_USEC_PER_SEC;
    add(&r);
    put("k", "abc");
    ck_assert_int_eq(answered_at, 0);
    ck_assert(get("k"));
    ck_assert_int_eq(answered_at, 3 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(R.status, 200);
    ck_assert_mem_eq(R.body, "abc", 3);
    ck_assert_int_eq(seen[1].submit_us, 0);
    ck_assert_int_eq(seen[1].answer_us, 3 * ENV_USEC_PER_SEC);
}
END_TEST

START_TEST(fault_reset_transport_error)
{
    struct fs3_rule r = rule(S3_OP_PUT, FS3_EFF_RESET);
    add(&r);
    struct s3_req p = {.key = "k", .body = (const uint8_t *)"x", .body_len = 1};
    ck_assert(call(&p, S3_OP_PUT));
    ck_assert_int_eq(R.transport, S3_TR_RESET);
    ck_assert(!s3_result_ok(&R));
    ck_assert(!fs3_key_exists(S, "k", NULL));
}
END_TEST

START_TEST(fault_stale_list_get_head)
{
    struct fs3_rule r = rule(FS3_OP_ANY, FS3_EFF_STALE);
    r.stale_us = 5 * ENV_USEC_PER_SEC;
    r.from_us = 20 * ENV_USEC_PER_SEC;
    add(&r);
    ck_assert_int_ge(fs3_config(S)->history_us, 5 * ENV_USEC_PER_SEC);
    put("k", "old");
    tenv_run_until(&T, 10 * ENV_USEC_PER_SEC);
    put("k", "newer");
    tenv_run_until(&T, 18 * ENV_USEC_PER_SEC);
    struct s3_req d = {.key = "k"};
    ck_assert(call(&d, S3_OP_DELETE));
    tenv_run_until(&T, 20 * ENV_USEC_PER_SEC);
    /* Now the rule is active: calls see the bucket as of 5 s ago (t=15 s). */
    ck_assert(get("k"));
    ck_assert_int_eq(R.status, 200);
    ck_assert_mem_eq(R.body, "newer", 5);
    struct s3_req h = {.key = "k"};
    ck_assert(call(&h, S3_OP_HEAD));
    ck_assert_uint_eq(R.object_size, 5);
    struct s3_req l = {.prefix = ""};
    ck_assert(call(&l, S3_OP_LIST));
    ck_assert_uint_eq(R.nentries, 1);
    ck_assert_str_eq(R.entries[0].key, "k");
    ck_assert(!fs3_key_exists(S, "k", NULL));
    ck_assert_uint_eq(fs3_fault_hits(F, S3_OP_LIST, FS3_EFF_STALE), 1);
    tenv_run_until(&T, 30 * ENV_USEC_PER_SEC);
    ck_assert(get("k")); /* 5 s ago it was already deleted */
    ck_assert_int_eq(R.status, 404);
}
END_TEST

/* ---- partial, per op. ----------------------------------------------------- */

static struct fs3_rule partial(int op)
{
    struct fs3_rule r = rule(op, FS3_EFF_PARTIAL);
    return r;
}

static void open_upload(const char *key, char id[S3_UPLOAD_ID_MAX])
{
    struct s3_req c = {.key = key};
    ck_assert(call(&c, S3_OP_MPU_CREATE));
    strcpy(id, R.upload_id);
}

START_TEST(fault_partial_mpu_part_truncates_with_store_checksum)
{
    char id[S3_UPLOAD_ID_MAX];
    open_upload("obj", id);
    struct fs3_rule r = partial(S3_OP_MPU_PART);
    add(&r);
    struct s3_req p = {.key = "obj", .upload_id = id, .part_number = 1,
                       .body = (const uint8_t *)"12345678", .body_len = 8};
    s3_checksum_compute(S3_CKSUM_CRC32C, p.body, 8, &p.cksum);
    ck_assert(call(&p, S3_OP_MPU_PART));
    ck_assert_int_eq(R.status, 200);
    struct s3_checksum half;
    s3_checksum_compute(S3_CKSUM_CRC32C, p.body, 4, &half);
    ck_assert(s3_checksum_equal(&R.cksum, &half));
    ck_assert(!s3_checksum_equal(&R.cksum, &p.cksum)); /* the client can catch it */
    fs3_fault_heal(F, "all");
    struct s3_part part = {.number = 1};
    struct s3_req done = {.key = "obj", .upload_id = id, .parts = &part, .nparts = 1};
    ck_assert(call(&done, S3_OP_MPU_COMPLETE));
    uint64_t size = 0;
    ck_assert(fs3_key_exists(S, "obj", &size));
    ck_assert_uint_eq(size, 4);
}
END_TEST

START_TEST(fault_partial_mpu_part_md5_etag_of_truncated)
{
    char id[S3_UPLOAD_ID_MAX], etag[S3_ETAG_MAX];
    open_upload("obj", id);
    struct fs3_rule r = partial(S3_OP_MPU_PART);
    add(&r);
    struct s3_req p = {.key = "obj", .upload_id = id, .part_number = 1,
                       .body = (const uint8_t *)"abcdef", .body_len = 6};
    s3_checksum_compute(S3_CKSUM_MD5, p.body, 6, &p.cksum);
    ck_assert(call(&p, S3_OP_MPU_PART));
    s3_etag_md5(p.body, 3, etag);
    ck_assert_str_eq(R.etag, etag);
}
END_TEST

START_TEST(fault_partial_mpu_copy_truncates)
{
    char id[S3_UPLOAD_ID_MAX];
    put("src", "0123456789");
    open_upload("obj", id);
    struct fs3_rule r = partial(S3_OP_MPU_COPY);
    add(&r);
    struct s3_req cp = {.key = "obj", .upload_id = id, .part_number = 1, .copy_source = "src",
                        .range_start = 2, .range_end = 10};
    ck_assert(call(&cp, S3_OP_MPU_COPY));
    ck_assert_int_eq(R.status, 200);
    fs3_fault_heal(F, NULL);
    struct s3_part part = {.number = 1};
    struct s3_req done = {.key = "obj", .upload_id = id, .parts = &part, .nparts = 1};
    ck_assert(call(&done, S3_OP_MPU_COMPLETE));
    ck_assert(get("obj"));
    ck_assert_uint_eq(R.body_len, 4);
    ck_assert_mem_eq(R.body, "2345", 4);
}
END_TEST

START_TEST(fault_partial_mpu_complete_done_but_500)
{
    char id[S3_UPLOAD_ID_MAX];
    open_upload("obj", id);
    struct s3_req p = {.key = "obj", .upload_id = id, .part_number = 1,
                       .body = (const uint8_t *)"abc", .body_len = 3};
    ck_assert(call(&p, S3_OP_MPU_PART));
    struct fs3_rule r = partial(S3_OP_MPU_COMPLETE);
    r.times = 1;
    add(&r);
    struct s3_part part = {.number = 1};
    struct s3_req done = {.key = "obj", .upload_id = id, .parts = &part, .nparts = 1};
    ck_assert(call(&done, S3_OP_MPU_COMPLETE));
    ck_assert_int_eq(R.status, 500);
    ck_assert_int_eq(R.code, S3E_INTERNAL_ERROR);
    ck_assert(fs3_key_exists(S, "obj", NULL));
    ck_assert_uint_eq(fs3_nuploads(S), 0);
    /* The retry meets the real answer of a now-completed upload: 200 again
     * (s3.complete.repeat ok, the default, as AWS). */
    ck_assert(call(&done, S3_OP_MPU_COMPLETE));
    ck_assert_int_eq(R.status, 200);
    ck_assert_int_eq(R.code, S3E_NONE);
}
END_TEST

START_TEST(fault_partial_delete_many_first_half)
{
    const char *keys[] = {"a", "b", "c", "d", "e"};
    for (int i = 0; i < 5; i++)
        put(keys[i], "x");
    struct fs3_rule r = partial(S3_OP_DELETE_MANY);
    add(&r);
    struct s3_req d = {.keys = keys, .nkeys = 5};
    ck_assert(call(&d, S3_OP_DELETE_MANY));
    ck_assert_int_eq(R.status, 200);
    ck_assert_uint_eq(R.ndeleted, 5);
    for (int i = 0; i < 5; i++) {
        ck_assert_str_eq(R.deleted[i].key, keys[i]);
        ck_assert_int_eq(R.deleted[i].code, i < 2 ? S3E_NONE : S3E_INTERNAL_ERROR);
        ck_assert_int_eq(fs3_key_exists(S, keys[i], NULL), i >= 2);
    }
}
END_TEST

START_TEST(fault_partial_put_stored_but_500)
{
    struct fs3_rule r = partial(S3_OP_PUT);
    add(&r);
    struct s3_req p = {.key = "k", .body = (const uint8_t *)"data", .body_len = 4};
    ck_assert(call(&p, S3_OP_PUT));
    ck_assert_int_eq(R.status, 500);
    ck_assert_int_eq(R.code, S3E_INTERNAL_ERROR);
    ck_assert(fs3_key_exists(S, "k", NULL));
}
END_TEST

START_TEST(fault_partial_get_truncated_body)
{
    put("k", "0123456789");
    struct fs3_rule r = partial(S3_OP_GET);
    add(&r);
    ck_assert(get("k"));
    ck_assert(s3_result_ok(&R));
    ck_assert_uint_eq(R.body_len, 5);
    ck_assert_mem_eq(R.body, "01234", 5);
    ck_assert_uint_eq(R.object_size, 10);
}
END_TEST

START_TEST(fault_partial_other_ops)
{
    put("k", "x");
    struct fs3_rule r = partial(S3_OP_DELETE);
    add(&r);
    r = partial(S3_OP_HEAD);
    add(&r);
    struct s3_req d = {.key = "k"};
    ck_assert(call(&d, S3_OP_DELETE));
    ck_assert_int_eq(R.status, 500);
    ck_assert(!fs3_key_exists(S, "k", NULL)); /* applied */
    struct s3_req h = {.key = "k"};
    ck_assert(call(&h, S3_OP_HEAD));
    ck_assert_int_eq(R.status, 500);
}
END_TEST

/* ---- corrupt. -------------------------------------------------------------- */

/* One GET of "k" under a corrupt rule at byte at; returns the answered body. */
static void corrupt_get(int64_t at)
{
    struct fs3_rule r = rule(S3_OP_GET, FS3_EFF_CORRUPT);
    r.corrupt_at = at;
    fs3_fault_heal(F, NULL);
    add(&r);
    ck_assert(get("k"));
    ck_assert(s3_result_ok(&R));
    ck_assert_uint_eq(R.body_len, 10);
}

START_TEST(fault_corrupt_flips_one_byte_of_the_answer)
{
    put("k", "0123456789");
    struct fs3_rule d;
    fs3_rule_init(&d);
    ck_assert_int_eq(d.corrupt_at, -1); /* default: the last byte */
    corrupt_get(-1);
    ck_assert_mem_eq(R.body, "012345678", 9);
    ck_assert_int_eq(R.body[9], '9' ^ 0xff);
    corrupt_get(0);
    ck_assert_int_eq(R.body[0], '0' ^ 0xff);
    ck_assert_mem_eq(R.body + 1, "123456789", 9);
    corrupt_get(-10); /* from the end: the first byte */
    ck_assert_int_eq(R.body[0], '0' ^ 0xff);
    corrupt_get(3);
    ck_assert_mem_eq(R.body, "012", 3);
    ck_assert_int_eq(R.body[3], '3' ^ 0xff);
    ck_assert_mem_eq(R.body + 4, "456789", 6);
    corrupt_get(100); /* past the end: clamped to the last byte */
    ck_assert_int_eq(R.body[9], '9' ^ 0xff);
    corrupt_get(-100); /* before the start: the first byte */
    ck_assert_int_eq(R.body[0], '0' ^ 0xff);
    ck_assert_uint_eq(fs3_fault_hits(F, S3_OP_GET, FS3_EFF_CORRUPT), 6);
    ck_assert_str_eq(fs3_effect_name(FS3_EFF_CORRUPT), "corrupt");
    /* The bucket keeps the right bytes: only the answer was damaged. */
    fs3_fault_heal(F, NULL);
    ck_assert(get("k"));
    ck_assert_mem_eq(R.body, "0123456789", 10);
}
END_TEST

START_TEST(fault_corrupt_gets_only_errors_passed_on)
{
    struct fs3_rule r = rule(S3_OP_PUT, FS3_EFF_CORRUPT);
    ck_assert_int_eq(fs3_fault_add(F, &r), ERR_INVAL); /* no body to damage */
    r = rule(FS3_OP_ANY, FS3_EFF_CORRUPT);
    add(&r);
    put("k", "abc"); /* an `any` rule fires on GETs only: the PUT is not hit */
    ck_assert_uint_eq(fs3_fault_hits(F, S3_OP_PUT, FS3_EFF_CORRUPT), 0);
    ck_assert(get("k"));
    ck_assert_int_eq(R.body[2], 'c' ^ 0xff);
    ck_assert(get("missing")); /* an error answer is passed on as it is */
    ck_assert_int_eq(R.status, 404);
    ck_assert_int_eq(R.code, S3E_NO_SUCH_KEY);
    ck_assert_uint_eq(fs3_fault_hits(F, S3_OP_GET, FS3_EFF_CORRUPT), 2);
}
END_TEST

/* ---- late= (field bug F13). ------------------------------------------------- */

/* Reads key back through the shim (no rule matches a get here). */
static bool get_is(const char *key, const char *want)
{
    return get(key) && R.status == 200 && R.body_len == strlen(want) &&
           memcmp(R.body, want, R.body_len) == 0;
}

static struct fs3_rule late_rule(int op, int64_t late_us)
{
    struct fs3_rule r = rule(op, FS3_EFF_LATE);
    r.delay_us = late_us;
    r.times = 1;
    return r;
}

/* F13's flow: the attempt is swallowed, the caller's timeout cancels it, a
 * retry stores the good bytes, the owner reuses the buffer, and the stale
 * attempt lands 30 s after its latency, bytes read then.  cksum: sent with
 * both attempts (the checksum precomputed before the first). */
static void late_put_flow(bool cksum)
{
    struct fs3_rule r = late_rule(S3_OP_PUT, 30000000);
    add(&r);
    struct buf *b = buf_new(8);
    ck_assert_int_eq(buf_append(b, "good", 4), 0);
    struct s3_req p = {.key = "k", .body = b->p, .body_len = 4, .body_buf = b};
    if (cksum)
        s3_checksum_compute(S3_CKSUM_MD5, b->p, 4, &p.cksum);
    ck_assert_int_eq(s3_put(OPS, &p, capture, NULL), 0);
    ck_assert_int_eq(nseen, 1);
    ck_assert_int_eq(seen[0].outcome, FS3_OUT_SWALLOWED);
    ck_assert_int_eq(seen[0].effect, FS3_EFF_LATE);
    ck_assert_uint_eq(b->pins, 1);
    ck_assert_uint_eq(b->refs, 1); /* a pin is no reference */
    tenv_run_until(&T, 10000000);  /* the client's attempt timeout */
    ck_assert_int_eq(ncb, 0);
    ck_assert(!fs3_key_exists(S, "k", NULL));
    s3_cancel(OPS, &p); /* the caller gives up; the attempt still travels */
    ck_assert_uint_eq(fs3_inflight(S), 0);
    ck_assert_int_eq(nseen, 1);
    struct s3_req q = p;
    ck_assert_int_eq(s3_put(OPS, &q, capture, NULL), 0);
    tenv_run_until(&T, 11000000);
    ck_assert_int_eq(ncb, 1);
    ck_assert_int_eq(R.status, 200);
    ck_assert_uint_eq(b->refs, 1); /* the store copied the pinned body */
    /* the retry succeeded: the owner recycles the buffer for its next upload */
    ck_assert_int_eq(buf_write(b, 0, "evil", 4), 0);
    ck_assert(get_is("k", "good"));
    int ncb0 = ncb;
    tenv_run_until(&T, 40100000);
    ck_assert_int_eq(ncb, ncb0); /* the landing answers nobody */
    ck_assert_uint_eq(b->pins, 0);
    ck_assert_int_eq(nseen, 4); /* swallowed, retry answered, get answered, landed */
    ck_assert_int_eq(seen[3].outcome, FS3_OUT_LANDED);
    ck_assert_int_eq(seen[3].effect, FS3_EFF_LATE);
    ck_assert_int_eq(seen[3].op, S3_OP_PUT);
    ck_assert_int_ge(seen[3].answer_us, 30000000);
    ck_assert_int_eq(seen[3].submit_us, 0);
    if (cksum) { /* the precomputed checksum refuses the recycled bytes */
        ck_assert_int_eq(seen[3].status, 400);
        ck_assert_int_eq(seen[3].code, S3E_BAD_DIGEST);
        ck_assert(get_is("k", "good"));
    } else { /* F13: the good object is overwritten */
        ck_assert_int_eq(seen[3].status, 200);
        ck_assert_int_eq(seen[3].code, S3E_NONE);
        ck_assert(get_is("k", "evil"));
    }
    ck_assert_uint_eq(fs3_fault_hits(F, S3_OP_PUT, FS3_EFF_LATE), 1);
    buf_unref(b);
}

START_TEST(fault_late_put_lands_with_the_bytes_of_then)
{
    late_put_flow(false);
}
END_TEST

START_TEST(fault_late_put_checksum_refuses_recycled_bytes)
{
    late_put_flow(true);
}
END_TEST

static bool part_etag(void *arg, int number, uint64_t size, const char *etag)
{
    (void)size;
    if (number == 1)
        snprintf(arg, 64, "%s", etag);
    return true;
}

/* UploadPart: the late part (pieces of two buffers) replaces the retry's. */
START_TEST(fault_late_mpu_part_replaces_the_part)
{
    struct s3_req c = {.key = "obj"};
    ck_assert(call(&c, S3_OP_MPU_CREATE));
    char id[S3_UPLOAD_ID_MAX], e1[64] = "", e2[64] = "";
    int64_t created;
    strcpy(id, R.upload_id);
    struct fs3_rule r = late_rule(S3_OP_MPU_PART, 5000000);
    add(&r);
    struct buf *a = buf_new(8), *b = buf_new(8);
    ck_assert_int_eq(buf_append(a, "abcd", 4), 0);
    ck_assert_int_eq(buf_append(b, "efgh", 4), 0);
    struct s3_seg segs[2] = {{a, a->p + 2, 2, 0}, {b, b->p, 3, 0}};
    struct s3_req p = {.key = "obj", .upload_id = id, .part_number = 1, .segs = segs,
                       .nsegs = 2, .body_len = 5};
    ck_assert_int_eq(s3_mpu_part(OPS, &p, capture, NULL), 0);
    ck_assert_uint_eq(a->pins + b->pins, 2);
    s3_cancel(OPS, &p);
    int before = ncb;
    struct s3_req q = p;
    ck_assert_int_eq(s3_mpu_part(OPS, &q, capture, NULL), 0);
    tenv_run_until(&T, 1000000);
    ck_assert_int_eq(ncb, before + 1);
    ck_assert_int_eq(R.status, 200);
    ck_assert_int_eq(fs3_each_part(S, "obj", id, &created, part_etag, e1), 0);
    ck_assert_int_eq(buf_write(a, 2, "XY", 2), 0);
    ck_assert_int_eq(buf_write(b, 0, "Z", 1), 0);
    tenv_run(&T);
    ck_assert_int_eq(ncb, before + 1);
    ck_assert_uint_eq(a->pins + b->pins, 0);
    ck_assert_int_eq(seen[nseen - 1].outcome, FS3_OUT_LANDED);
    ck_assert_int_eq(seen[nseen - 1].op, S3_OP_MPU_PART);
    ck_assert_int_eq(seen[nseen - 1].status, 200);
    ck_assert_int_eq(fs3_each_part(S, "obj", id, &created, part_etag, e2), 0);
    ck_assert_str_ne(e1, e2);
    struct s3_part part = {.number = 1};
    struct s3_req done = {.key = "obj", .upload_id = id, .parts = &part, .nparts = 1};
    ck_assert(call(&done, S3_OP_MPU_COMPLETE));
    ck_assert_int_eq(R.status, 200);
    ck_assert(get_is("obj", "XYZfg"));
    buf_unref(a);
    buf_unref(b);
}
END_TEST

/* late= hits put and mpu-part only; a landing before the caller's cancel
 * keeps the call until the cancel; a body in no buffer is copied at submit. */
START_TEST(fault_late_other_ops_early_landing_and_copies)
{
    struct fs3_rule r = late_rule(S3_OP_GET, 1000);
    ck_assert_int_eq(fs3_fault_add(F, &r), ERR_INVAL);
    r = late_rule(FS3_OP_ANY, 1000);
    add(&r);
    ck_assert(get("none")); /* answered (404): a get is never late */
    ck_assert_int_eq(R.status, 404);
    ck_assert_uint_eq(fs3_fault_hits(F, FS3_OP_ANY, FS3_EFF_LATE), 0);
    char body[5] = "old!";
    struct s3_req p = {.key = "c", .body = (const uint8_t *)body, .body_len = 4};
    int before = ncb, seen0 = nseen;
    ck_assert_int_eq(s3_put(OPS, &p, capture, NULL), 0);
    memcpy(body, "new!", 4);
    tenv_run(&T); /* lands 1 ms after its latency, before any timeout */
    ck_assert_int_eq(ncb, before);
    ck_assert_int_eq(nseen, seen0 + 2);
    ck_assert_int_eq(seen[seen0].outcome, FS3_OUT_SWALLOWED);
    ck_assert_int_eq(seen[seen0 + 1].outcome, FS3_OUT_LANDED);
    ck_assert_uint_eq(fs3_inflight(S), 1); /* swallowed, awaiting the cancel */
    s3_cancel(OPS, &p);
    ck_assert_uint_eq(fs3_inflight(S), 0);
    ck_assert_int_eq(nseen, seen0 + 2);
    ck_assert(get_is("c", "old!"));
}
END_TEST

/* A broker crash cuts the late calls its client gave up on: they never land,
 * their pins go; one still attached to its caller's request stays. */
START_TEST(fault_late_cut_drops_detached_calls)
{
    struct fs3_rule r = late_rule(S3_OP_PUT, 30000000);
    r.times = 2;
    add(&r);
    struct buf *b = buf_new(8);
    ck_assert_int_eq(buf_append(b, "data", 4), 0);
    struct s3_req p = {.key = "k", .body = b->p, .body_len = 4, .body_buf = b};
    struct s3_req q = {.key = "q", .body = b->p, .body_len = 4, .body_buf = b};
    ck_assert_int_eq(s3_put(OPS, &p, capture, NULL), 0);
    ck_assert_int_eq(s3_put(OPS, &q, capture, NULL), 0);
    ck_assert_uint_eq(b->pins, 2);
    s3_cancel(OPS, &p);
    ck_assert_uint_eq(fs3_fault_cut_late(F), 1);
    ck_assert_uint_eq(b->pins, 1);
    ck_assert_uint_eq(fs3_fault_cut_late(F), 0);
    tenv_run(&T);
    ck_assert(!fs3_key_exists(S, "k", NULL)); /* cut: never landed */
    ck_assert(fs3_key_exists(S, "q", NULL));  /* attached: landed */
    ck_assert_uint_eq(fs3_inflight(S), 1);
    s3_cancel(OPS, &q);
    ck_assert_uint_eq(fs3_inflight(S), 0);
    ck_assert_uint_eq(b->pins, 0);
    buf_unref(b);
}
END_TEST

/* The shim freed while a late call still travels: its pin goes, and a buffer
 * whose owner let go of it already is freed then (ASan: no leak, no use
 * after free). */
START_TEST(fault_late_free_unlanded_releases_the_pin)
{
    struct fs3_rule r = late_rule(S3_OP_PUT, 60000000);
    add(&r);
    struct buf *b = buf_new(8);
    ck_assert_int_eq(buf_append(b, "data", 4), 0);
    struct s3_req p = {.key = "k", .body = b->p, .body_len = 4, .body_buf = b};
    ck_assert_int_eq(s3_put(OPS, &p, capture, NULL), 0);
    tenv_run_until(&T, 10000000);
    s3_cancel(OPS, &p);
    buf_unref(b); /* the owner is done; the pin keeps the memory */
    ck_assert_uint_eq(b->pins, 1);
    ck_assert_uint_eq(b->refs, 0);
    ck_assert_int_eq(memcmp(b->p, "data", 4), 0);
    /* teardown frees the shim before the landing */
}
END_TEST

/* ---- Matchers. ------------------------------------------------------------ */

START_TEST(fault_key_glob_matcher)
{
    struct fs3_rule r = status_rule(S3_OP_GET, 500, S3E_NONE);
    snprintf(r.key_glob, sizeof r.key_glob, "data/?/*.obj");
    add(&r);
    ck_assert(get("data/1/x.obj"));
    ck_assert_int_eq(R.status, 500);
    ck_assert(get("data/12/x.obj"));
    ck_assert_int_eq(R.status, 404);
    ck_assert(get("meta/1/x.obj"));
    ck_assert_int_eq(R.status, 404);
}
END_TEST

START_TEST(fault_op_matcher_and_any)
{
    struct fs3_rule r = status_rule(S3_OP_HEAD, 500, S3E_NONE);
    add(&r);
    ck_assert(get("k"));
    ck_assert_int_eq(R.status, 404);
    struct s3_req h = {.key = "k"};
    ck_assert(call(&h, S3_OP_HEAD));
    ck_assert_int_eq(R.status, 500);
    fs3_fault_heal(F, "all");
    r = status_rule(FS3_OP_ANY, 503, S3E_NONE);
    add(&r);
    ck_assert(get("k"));
    ck_assert_int_eq(R.status, 503);
    struct s3_req l = {.prefix = "x"};
    ck_assert(call(&l, S3_OP_LIST));
    ck_assert_int_eq(R.status, 503);
}
END_TEST

START_TEST(fault_kind_matcher_via_classifier)
{
    struct fs3_rule r = status_rule(S3_OP_GET, 500, S3E_NONE);
    r.kind_mask = FS3_KIND_SSO | FS3_KIND_LINKED;
    add(&r);
    ck_assert(get("obj/sso-1"));
    ck_assert_int_eq(R.status, 500);
    ck_assert(get("obj/comp-1"));
    ck_assert_int_eq(R.status, 404);
    ck_assert(get("obj/other"));
    ck_assert_int_eq(R.status, 404);
    ck_assert_int_eq(nclassify, 3);
    /* kind=any needs no classification at all */
    fs3_fault_heal(F, NULL);
    r = status_rule(S3_OP_GET, 500, S3E_NONE);
    add(&r);
    ck_assert(get("obj/x"));
    ck_assert_int_eq(nclassify, 3);
}
END_TEST

START_TEST(fault_kind_delete_many_any_key)
{
    const char *keys[] = {"a", "b-comp", "c"};
    const char *plain[] = {"a", "c"};
    struct fs3_rule r = status_rule(S3_OP_DELETE_MANY, 503, S3E_NONE);
    r.kind_mask = FS3_KIND_COMPOSITE;
    add(&r);
    struct s3_req d = {.keys = plain, .nkeys = 2};
    ck_assert(call(&d, S3_OP_DELETE_MANY));
    ck_assert_int_eq(R.status, 200);
    struct s3_req d2 = {.keys = keys, .nkeys = 3};
    ck_assert(call(&d2, S3_OP_DELETE_MANY));
    ck_assert_int_eq(R.status, 503);
    ck_assert_int_eq(seen[1].nkeys, 3);
    /* key= globs also match any key */
    fs3_fault_heal(F, NULL);
    r = status_rule(S3_OP_DELETE_MANY, 500, S3E_NONE);
    snprintf(r.key_glob, sizeof r.key_glob, "c");
    add(&r);
    ck_assert(call(&d2, S3_OP_DELETE_MANY));
    ck_assert_int_eq(R.status, 500);
}
END_TEST

START_TEST(fault_nth_matcher)
{
    struct fs3_rule r = status_rule(S3_OP_GET, 500, S3E_NONE);
    r.match = FS3_MATCH_NTH;
    r.n = 3;
    add(&r);
    int statuses[5];
    for (int i = 0; i < 5; i++) {
        struct s3_req h = {.key = "k"};
        ck_assert(call(&h, S3_OP_HEAD)); /* other ops do not count */
        ck_assert(get("k"));
        statuses[i] = R.status;
    }
    ck_assert_int_eq(statuses[0], 404);
    ck_assert_int_eq(statuses[1], 404);
    ck_assert_int_eq(statuses[2], 500);
    ck_assert_int_eq(statuses[3], 404);
    ck_assert_int_eq(statuses[4], 404);
}
END_TEST

START_TEST(fault_after_matcher)
{
    struct fs3_rule r = status_rule(S3_OP_GET, 500, S3E_NONE);
    r.match = FS3_MATCH_AFTER;
    r.n = 2;
    add(&r);
    for (int i = 0; i < 5; i++) {
        ck_assert(get("k"));
        ck_assert_int_eq(R.status, i < 2 ? 404 : 500);
    }
}
END_TEST

START_TEST(fault_times_limits_hits)
{
    struct fs3_rule r = status_rule(S3_OP_GET, 500, S3E_NONE);
    r.times = 2;
    add(&r);
    for (int i = 0; i < 5; i++) {
        ck_assert(get("k"));
        ck_assert_int_eq(R.status, i < 2 ? 500 : 404);
    }
    ck_assert_uint_eq(fs3_fault_hits(F, S3_OP_GET, FS3_EFF_STATUS), 2);
    ck_assert_uint_eq(fs3_fault_hits(F, S3_OP_GET, FS3_EFF_NONE), 3);
}
END_TEST

START_TEST(fault_from_until_window)
{
    struct fs3_rule r = status_rule(S3_OP_GET, 500, S3E_NONE);
    r.from_us = 10 * ENV_USEC_PER_SEC;
    r.until_us = 20 * ENV_USEC_PER_SEC;
    add(&r);
    ck_assert(get("k"));
    ck_assert_int_eq(R.status, 404);
    tenv_run_until(&T, 10 * ENV_USEC_PER_SEC);
    ck_assert(get("k"));
    ck_assert_int_eq(R.status, 500);
    tenv_run_until(&T, 19 * ENV_USEC_PER_SEC);
    ck_assert(get("k"));
    ck_assert_int_eq(R.status, 500);
    tenv_run_until(&T, 20 * ENV_USEC_PER_SEC);
    ck_assert(get("k"));
    ck_assert_int_eq(R.status, 404);
}
END_TEST

/* Runs 200 gets under a prob=0.3 rule; returns the hit pattern's hash. */
static uint64_t prob_run(uint64_t seed, int *hits)
{
    teardown();
    mk(seed, 20000);
    struct fs3_rule r = status_rule(S3_OP_GET, 500, S3E_NONE);
    r.match = FS3_MATCH_PROB;
    r.prob = 0.3;
    add(&r);
    uint64_t h = 1469598103934665603u;
    *hits = 0;
    for (int i = 0; i < 200; i++) {
        ck_assert(get("k"));
        bool hit = R.status == 500;
        *hits += hit;
        h = (h ^ (uint64_t)hit) * 1099511628211u;
    }
    return h;
}

START_TEST(fault_prob_reproducible)
{
    int h1, h2, h3;
    uint64_t a = prob_run(5, &h1);
    uint64_t b = prob_run(5, &h2);
    uint64_t c = prob_run(6, &h3);
    ck_assert_uint_eq(a, b);
    ck_assert_int_eq(h1, h2);
    ck_assert_uint_ne(a, c);
    ck_assert_int_gt(h1, 30); /* ~60 expected of 200 */
    ck_assert_int_lt(h1, 90);
    ck_assert_uint_eq(T.draws, 400); /* seed 6 run: 200 prob draws + 200 latency */
}
END_TEST

START_TEST(fault_prob_draws_only_when_matching)
{
    struct fs3_rule r = status_rule(S3_OP_GET, 500, S3E_NONE);
    r.match = FS3_MATCH_PROB;
    r.prob = 0.5;
    snprintf(r.key_glob, sizeof r.key_glob, "hot*");
    add(&r);
    put("cold", "x");
    ck_assert(get("cold"));
    ck_assert_uint_eq(T.draws, 2); /* latency draws only */
    ck_assert(get("hot"));
    ck_assert_uint_eq(T.draws, 4);
}
END_TEST

START_TEST(fault_first_firing_rule_wins)
{
    struct fs3_rule a = status_rule(S3_OP_GET, 500, S3E_NONE);
    a.match = FS3_MATCH_NTH;
    a.n = 2;
    snprintf(a.name, sizeof a.name, "first");
    struct fs3_rule b = status_rule(S3_OP_GET, 503, S3E_NONE);
    snprintf(b.name, sizeof b.name, "second");
    add(&a);
    add(&b);
    ck_assert(get("k"));
    ck_assert_int_eq(R.status, 503);
    ck_assert(get("k"));
    ck_assert_int_eq(R.status, 500);
    ck_assert_str_eq(seen_rule[1], "first");
    ck_assert_str_eq(seen_rule[0], "second");
}
END_TEST

START_TEST(fault_heal_by_name_and_all)
{
    struct fs3_rule a = status_rule(S3_OP_GET, 500, S3E_NONE);
    snprintf(a.name, sizeof a.name, "a");
    struct fs3_rule b = status_rule(S3_OP_PUT, 503, S3E_NONE);
    snprintf(b.name, sizeof b.name, "b");
    add(&a);
    add(&b);
    add(&a);
    ck_assert_int_eq(fs3_fault_heal(F, "a"), 2);
    ck_assert_uint_eq(fs3_fault_nrules(F), 1);
    ck_assert(get("k"));
    ck_assert_int_eq(R.status, 404);
    ck_assert_int_eq(fs3_fault_heal(F, "nope"), 0);
    ck_assert_int_eq(fs3_fault_heal(F, "all"), 1);
    ck_assert_uint_eq(fs3_fault_nrules(F), 0);
    put("k", "x");
    ck_assert_int_eq(R.status, 200);
}
END_TEST

START_TEST(fault_heal_keeps_effect_of_hit_calls)
{
    struct fs3_rule r = rule(S3_OP_GET, FS3_EFF_DELAY);
    r.delay_us = ENV_USEC_PER_SEC;
    add(&r);
    struct s3_req g = {.key = "k", .range_end = -1};
    ck_assert_int_eq(s3_get(OPS, &g, capture, NULL), 0);
    fs3_fault_heal(F, NULL);
    tenv_run(&T);
    ck_assert_int_ge(answered_at, ENV_USEC_PER_SEC);
}
END_TEST

/* ---- Observer, counters, teardown. ---------------------------------------- */

START_TEST(fault_observer_fields)
{
    struct fs3_rule r = status_rule(S3_OP_GET, 503, S3E_NONE);
    snprintf(r.name, sizeof r.name, "slow");
    r.line = 12;
    add(&r);
    struct s3_req p = {.job = S3_JOB_WAL_UPLOAD, .key = "k", .body = (const uint8_t *)"abcd",
                       .body_len = 4};
    ck_assert(call(&p, S3_OP_PUT));
    ck_assert_int_eq(nseen, 1);
    ck_assert_int_eq(seen[0].op, S3_OP_PUT);
    ck_assert_int_eq(seen[0].job, S3_JOB_WAL_UPLOAD);
    ck_assert_uint_eq(seen[0].bytes_sent, 4);
    ck_assert_int_eq(seen[0].outcome, FS3_OUT_ANSWERED);
    ck_assert_int_eq(seen[0].status, 200);
    ck_assert_int_eq(seen[0].effect, FS3_EFF_NONE);
    ck_assert_str_eq(seen_rule[0], "");
    ck_assert_int_eq(seen[0].submit_us, 0);
    ck_assert_int_eq(seen[0].answer_us, answered_at);
    fs3_fault_heal(F, NULL);
    ck_assert(get("k"));
    ck_assert_uint_eq(seen[1].bytes_received, 4);
    add(&r);
    struct s3_req g = {.job = S3_JOB_READER, .key = "k", .range_end = -1};
    ck_assert(call(&g, S3_OP_GET));
    ck_assert_int_eq(seen[2].status, 503);
    ck_assert_int_eq(seen[2].code, S3E_SLOW_DOWN);
    ck_assert_int_eq(seen[2].effect, FS3_EFF_STATUS);
    ck_assert_int_eq(seen[2].job, S3_JOB_READER);
    ck_assert_str_eq(seen_rule[2], "slow");
    ck_assert_int_eq(seen[2].rule_line, 12);
    /* a pending call cancelled by the client */
    struct s3_req g2 = {.key = "k", .range_end = -1};
    ck_assert_int_eq(s3_get(OPS, &g2, capture, NULL), 0);
    s3_cancel(OPS, &g2);
    ck_assert_int_eq(nseen, 4);
    ck_assert_int_eq(seen[3].outcome, FS3_OUT_CANCELLED);
}
END_TEST

START_TEST(fault_free_with_pending_calls)
{
    struct fs3_rule r = rule(S3_OP_GET, FS3_EFF_STALL);
    add(&r);
    r = rule(S3_OP_PUT, FS3_EFF_LOST);
    add(&r);
    struct s3_req g = {.key = "k"};
    struct s3_req p = {.key = "k", .body = (const uint8_t *)"x", .body_len = 1};
    struct s3_req h = {.key = "k"};
    ck_assert_int_eq(s3_get(OPS, &g, capture, NULL), 0);
    ck_assert_int_eq(s3_put(OPS, &p, capture, NULL), 0);
    ck_assert_int_eq(s3_head(OPS, &h, capture, NULL), 0);
    ck_assert_uint_eq(fs3_inflight(S), 3);
    fs3_fault_free(F);
    F = NULL;
    ck_assert_uint_eq(fs3_inflight(S), 0);
    tenv_run(&T);
    ck_assert_int_eq(ncb, 0);
    ck_assert_uint_eq(T.live, 0);
}
END_TEST

static int retries;

/* Retries a failed call from inside its callback, as a retry layer does. */
static void retry_cb(struct s3_req *req, struct s3_result *res)
{
    if (!s3_result_ok(res) && retries++ < 3) {
        ck_assert_int_eq(s3_submit_op(OPS, req->op, req, retry_cb, NULL), 0);
        return;
    }
    capture(req, res);
}

START_TEST(fault_callback_may_resubmit)
{
    put("k", "x");
    struct fs3_rule r = status_rule(S3_OP_GET, 500, S3E_NONE);
    r.times = 2;
    add(&r);
    struct s3_req g = {.key = "k", .range_end = -1};
    retries = 0;
    ck_assert_int_eq(s3_get(OPS, &g, retry_cb, NULL), 0);
    tenv_run(&T);
    ck_assert_int_eq(retries, 2);
    ck_assert_int_eq(R.status, 200);
    ck_assert_uint_eq(fs3_inflight(S), 0);
    ck_assert_uint_eq(fs3_fault_calls(F, S3_OP_GET), 3);
}
END_TEST

static Suite *fault_suite(void)
{
    Suite *s = suite_create("fault");
    TCase *tc = tcase_create("fault");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, fault_rule_init_defaults);
    tcase_add_test(tc, fault_effect_names);
    tcase_add_test(tc, fault_glob);
    tcase_add_test(tc, fault_add_invalid);
    tcase_add_test(tc, fault_no_rules_passes_through);
    tcase_add_test(tc, fault_submit_invalid_no_callback);
    tcase_add_test(tc, fault_status_default_codes_store_untouched);
    tcase_add_test(tc, fault_status_explicit_code);
    tcase_add_test(tc, fault_status_200_internal_error_complete_not_done);
    tcase_add_test(tc, fault_timeout_never_answers_store_unchanged);
    tcase_add_test(tc, fault_lost_applied_but_unanswered);
    tcase_add_test(tc, fault_lost_cancelled_before_applied);
    tcase_add_test(tc, fault_stall_cancel);
    tcase_add_test(tc, fault_delay_answers_later);
    tcase_add_test(tc, fault_reset_transport_error);
    tcase_add_test(tc, fault_stale_list_get_head);
    tcase_add_test(tc, fault_partial_mpu_part_truncates_with_store_checksum);
    tcase_add_test(tc, fault_partial_mpu_part_md5_etag_of_truncated);
    tcase_add_test(tc, fault_partial_mpu_copy_truncates);
    tcase_add_test(tc, fault_partial_mpu_complete_done_but_500);
    tcase_add_test(tc, fault_partial_delete_many_first_half);
    tcase_add_test(tc, fault_partial_put_stored_but_500);
    tcase_add_test(tc, fault_partial_get_truncated_body);
    tcase_add_test(tc, fault_corrupt_flips_one_byte_of_the_answer);
    tcase_add_test(tc, fault_corrupt_gets_only_errors_passed_on);
    tcase_add_test(tc, fault_late_put_lands_with_the_bytes_of_then);
    tcase_add_test(tc, fault_late_put_checksum_refuses_recycled_bytes);
    tcase_add_test(tc, fault_late_mpu_part_replaces_the_part);
    tcase_add_test(tc, fault_late_other_ops_early_landing_and_copies);
    tcase_add_test(tc, fault_late_free_unlanded_releases_the_pin);
    tcase_add_test(tc, fault_late_cut_drops_detached_calls);
    tcase_add_test(tc, fault_partial_other_ops);
    tcase_add_test(tc, fault_key_glob_matcher);
    tcase_add_test(tc, fault_op_matcher_and_any);
    tcase_add_test(tc, fault_kind_matcher_via_classifier);
    tcase_add_test(tc, fault_kind_delete_many_any_key);
    tcase_add_test(tc, fault_nth_matcher);
    tcase_add_test(tc, fault_after_matcher);
    tcase_add_test(tc, fault_times_limits_hits);
    tcase_add_test(tc, fault_from_until_window);
    tcase_add_test(tc, fault_prob_reproducible);
    tcase_add_test(tc, fault_prob_draws_only_when_matching);
    tcase_add_test(tc, fault_first_firing_rule_wins);
    tcase_add_test(tc, fault_heal_by_name_and_all);
    tcase_add_test(tc, fault_heal_keeps_effect_of_hit_calls);
    tcase_add_test(tc, fault_observer_fields);
    tcase_add_test(tc, fault_free_with_pending_calls);
    tcase_add_test(tc, fault_callback_may_resubmit);
    tcase_add_test(tc, fault_job_matcher_counts_only_its_jobs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fault_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
