/* test_cln.c - the controller's cleaner (cln.h) over the fake S3 and its fault shim. */
#include "alloc.h"
#include "cln.h"
#include "conf.h"
#include "composite.h"
#include "err.h"
#include "fault.h"
#include "fs3.h"
#include "meta.h"
#include "obj.h"
#include "testenv.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <inttypes.h>
#include <string.h>

/* ---- Fixture: env, fake S3, fault shim, a counting wrapper, metadata. -------------------- */

#define NS "_kafka_cln"
#define SEC ENV_USEC_PER_SEC
#define MIN ENV_USEC_PER_MIN

static struct tenv T;
static struct fs3 *S;
static struct fs3_fault *F;
#include "ctltest.h"
static struct s3_ops COUNT; /* forwards to the shim, counting */
static int DEL_MANY, DEL_ONE, GETS, ABORTS;
static int ERRORS;          /* error lines with "Delete composite object" */
static char ERROR_LINE[512];
static char NEXT_LINE[512]; /* the line logged right after the last of them */
static int NEXT_LEVEL;      /* and its level */
static bool AFTER;          /* the previous line was one of them */

static void log_hook(struct env *env, enum env_level level, const char *component,
                     const char *line)
{
    (void)env;
    (void)component;
    if (AFTER) {
        snprintf(NEXT_LINE, sizeof NEXT_LINE, "%s", line);
        NEXT_LEVEL = (int)level;
    }
    AFTER = false;
    if (level == ENV_LOG_ERROR && strstr(line, "Delete composite object")) {
        ERRORS++;
        snprintf(ERROR_LINE, sizeof ERROR_LINE, "%s", line);
        AFTER = true;
    }
}
static size_t MAX_KEYS;
static struct cln_conf CONF;
static struct cln *C;

static int count_submit(struct s3_ops *ops, struct s3_req *req)
{
    struct s3_ops *back = fs3_fault_ops(F);
    (void)ops;
    DEL_MANY += req->op == S3_OP_DELETE_MANY;
    DEL_ONE += req->op == S3_OP_DELETE;
    GETS += req->op == S3_OP_GET;
    ABORTS += req->op == S3_OP_MPU_ABORT;
    if (req->op == S3_OP_DELETE_MANY && req->nkeys > MAX_KEYS)
        MAX_KEYS = req->nkeys;
    return back->submit(back, req);
}

static void count_cancel(struct s3_ops *ops, struct s3_req *req)
{
    struct s3_ops *back = fs3_fault_ops(F);
    (void)ops;
    back->cancel(back, req);
}

static unsigned classify(void *arg, const char *key)
{
    (void)arg;
    switch (meta_classify_key(M, key)) {
    case META_KEY_SSO: return FS3_KIND_SSO;
    case META_KEY_STREAM: return FS3_KIND_STREAM;
    case META_KEY_COMPOSITE: return FS3_KIND_COMPOSITE;
    case META_KEY_LINKED: return FS3_KIND_LINKED;
    case META_KEY_PREPARED: return FS3_KIND_PREPARED;
    default: return FS3_KIND_NONE;
    }
}

static void setup(void)
{
    struct fs3_config cfg;
    struct meta_conf mc = {NS, NULL, false, false, false, false};
    tenv_init(&T, 1);
    T.env.log = log_hook;
    ERRORS = 0;
    ERROR_LINE[0] = 0;
    NEXT_LINE[0] = 0;
    NEXT_LEVEL = -1;
    AFTER = false;
    fs3_config_init(&cfg);
    S = fs3_new(&T.env, &cfg);
    ck_assert_ptr_nonnull(S);
    F = fs3_fault_new(&T.env, S, classify, NULL);
    ck_assert_ptr_nonnull(F);
    COUNT = (struct s3_ops){NULL, "count", count_submit, count_cancel, false};
    DEL_MANY = DEL_ONE = GETS = ABORTS = 0;
    MAX_KEYS = 0;
    ctltest_new(&T.env, &mc);
    ck_assert_int_eq(meta_stream_create(M, 1), 0);
    memset(&CONF, 0, sizeof CONF);
    CONF.interval_us = SEC;
    CONF.retention_us = MIN;
    CONF.max_per_round = 2000;
    CONF.backoff_us = SEC;
    CONF.backoff_max_us = 60 * SEC;
    CONF.dedup_inflight = true;
    /* The baseline is the hardened profile (every guard on); AutoMQ's side: automq_cleaner(). */
    CONF.retry_cap = CONF.obj_backoff = CONF.batch_halving = true;
    CONF.ttl_during_clean = CONF.round_every_check = CONF.notify_per_key = true;
    CONF.gone_links = CONF.ttl_aborts = true;
    CONF.deep_concurrency = 8;
    s3c_conf_default(&CONF.s3c);
    C = NULL;
}

static void teardown(void)
{
    cln_free(C);
    ctltest_free();
    fs3_fault_free(F);
    fs3_free(S);
    tenv_free(&T);
}

static void start(void) { ck_assert_int_eq(cln_new(&T.env, &COUNT, CTL, &CONF, &C), 0); }

static void put(const char *key, const uint8_t *buf, size_t len)
{
    struct s3_req req = {.op = S3_OP_PUT, .key = key, .body = buf, .body_len = len};
    struct s3_result res;
    memset(&res, 0, sizeof res);
    ck_assert_int_eq(fs3_exec(S, &req, FS3_AS_OF_NOW, &res), 0);
    ck_assert_int_eq(res.status, 200);
    s3_result_cleanup(&res);
}

static bool exists(int64_t id)
{
    char key[OBJ_KEY_MAX];
    ck_assert_int_eq(obj_key(id, NS, key, sizeof key), 0);
    return fs3_key_exists(S, key, NULL);
}

/* n stream objects of stream 1, one offset each (WAL uploads), keys in the
 * bucket; returns the first id (ids are contiguous). */
static int64_t objects(int n)
{
    const struct meta_stream *st = meta_stream_get(M, 1);
    int64_t first, end = st->end;
    struct meta_so *so = calloc((size_t)n, sizeof *so);
    struct meta_sso_commit c = {.id = -1, .order_id = -1};
    uint8_t body[16] = {1, 2, 3};
    ck_assert_ptr_nonnull(so);
    ck_assert_int_eq(meta_prepare(M, n, ENV_USEC_PER_HOUR, env_now(&T.env), &first), 0);
    for (int i = 0; i < n; i++) {
        so[i] = (struct meta_so){first + i, (int64_t)sizeof body, 1, end + i, end + i + 1, 0};
        put(meta_object_get(M, first + i)->key, body, sizeof body);
    }
    c.sos = so;
    c.nsos = (size_t)n;
    ck_assert_int_eq(meta_commit_sso(M, &c, env_now(&T.env)), 0);
    free(so);
    return first;
}

static void mark(int64_t first, int n, enum meta_op op)
{
    int64_t *ids = malloc((size_t)n * sizeof *ids);
    enum meta_op *ops = malloc((size_t)n * sizeof *ops);
    for (int i = 0; i < n; i++) {
        ids[i] = first + i;
        ops[i] = op;
    }
    ck_assert_int_eq(meta_mark(M, ids, ops, (size_t)n, env_now(&T.env)), 0);
    free(ids);
    free(ops);
}

static size_t marked(void)
{
    struct meta_counts mc;
    meta_count(M, &mc);
    return mc.marked;
}

/* A normal object of stream 1 holding offsets [a, e), in the bucket and
 * committed; its index into *idx. */
static int64_t normal(int64_t a, int64_t e, struct obj_index *idx, int64_t *size)
{
    struct obj_builder b;
    struct meta_so so;
    struct meta_sso_commit c = {.id = -1, .order_id = -1, .sos = &so, .nsos = 1};
    uint8_t p[32] = {7}, *buf;
    size_t len;
    uint64_t rr;
    int64_t id;
    obj_builder_init(&b, NULL);
    for (int64_t o = a; o < e; o++) {
        struct obj_record r = {1, 0, o, 1, sizeof p, p};
        ck_assert_int_eq(obj_builder_add(&b, &r), 0);
    }
    ck_assert_int_eq(obj_builder_finish(&b, &buf, &len), 0);
    ck_assert_int_eq(obj_tail_parse(buf, len, 0, len, 0, idx, &rr), 0);
    ck_assert_int_eq(meta_prepare(M, 1, ENV_USEC_PER_HOUR, 0, &id), 0);
    put(meta_object_get(M, id)->key, buf, len);
    free(buf);
    so = (struct meta_so){id, (int64_t)len, 1, a, e, 0};
    ck_assert_int_eq(meta_commit_sso(M, &c, 0), 0);
    *size = (int64_t)len;
    return id;
}

/* A composite of stream 1 linking two new normal objects; returns its id
 * and the links' ids. */
static int64_t composite(int64_t links[2])
{
    struct obj_index idx[2];
    struct cobj_writer w;
    struct meta_link ml[2];
    int64_t sz[2], id, srcs[2];
    enum meta_op ops[2] = {META_OP_KEEP_DATA, META_OP_KEEP_DATA};
    int64_t base = meta_stream_get(M, 1)->end;
    uint8_t *buf;
    size_t len;
    links[0] = normal(base, base + 5, &idx[0], &sz[0]);
    links[1] = normal(base + 5, base + 9, &idx[1], &sz[1]);
    cobj_writer_init(&w);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(cobj_writer_add(&w, links[i], 0, idx[i].e, idx[i].n), 0);
        ml[i] = (struct meta_link){links[i], base + (i ? 5 : 0), base + (i ? 9 : 5), sz[i], ""};
        srcs[i] = links[i];
        obj_index_free(&idx[i]);
    }
    ck_assert_int_eq(cobj_writer_finish(&w, &buf, &len), 0);
    cobj_writer_free(&w);
    ck_assert_int_eq(meta_prepare(M, 1, ENV_USEC_PER_HOUR, 0, &id), 0);
    put(meta_object_get(M, id)->key, buf, len);
    free(buf);
    {
        struct meta_stream_commit c = {.id = id, .size = sz[0] + sz[1],
                                       .attributes = META_ATTR_TYPE_COMPOSITE, .stream = 1,
                                       .epoch = -1, .start = base, .end = base + 9,
                                       .sources = srcs, .ops = ops, .nsources = 2,
                                       .links = ml, .nlinks = 2};
        ck_assert_int_eq(meta_commit_stream(M, &c, 0), 0);
    }
    return id;
}

static void fault(int op, const char *key, enum fs3_effect eff, int status, int64_t until,
                  int64_t delay)
{
    struct fs3_rule r;
    fs3_rule_init(&r);
    r.op = op;
    if (key)
        snprintf(r.key_glob, sizeof r.key_glob, "%s", key);
    r.effect = eff;
    r.status = status;
    r.until_us = until;
    r.delay_us = delay;
    ck_assert_int_eq(fs3_fault_add(F, &r), 0);
}

/* ---- Tests. ------------------------------------------------------------------------------ */

START_TEST(cln_deletes_after_retention)
{
    int64_t first = objects(10);
    start();
    mark(first, 10, META_OP_DELETE);
    tenv_run_until(&T, 59 * SEC);
    ck_assert_uint_eq(cln_stats(C)->deleted, 0);
    ck_assert(exists(first));
    tenv_run_until(&T, 2 * MIN + 5 * SEC);
    ck_assert_uint_eq(cln_stats(C)->deleted, 10);
    ck_assert_uint_eq(marked(), 0);
    ck_assert_uint_eq(fs3_nkeys(S), 0);
    ck_assert(cln_idle(C));
}
END_TEST

/* Out of memory in a cleaning round (in the spirit of SQLite's malloc tests):
 * the nth allocation of the cleaner's first round fails, for each n in turn.
 * The cleaner starts after the marks' retention ended (a restarted
 * controller), so its first round tracks old marks at once.  It skips what it
 * could not track this round (its per-object table could not grow) and tries
 * again later: once memory is back, every marked object is deleted, nothing
 * crashes, nothing leaks (ASan). */
START_TEST(cln_out_of_memory_round_recovers)
{
    uint64_t n, failed = 0;
    for (n = 1; n <= 400; n++) {
        int64_t first;
        uint64_t injected;
        teardown();
        setup();
        first = objects(10);
        mark(first, 10, META_OP_DELETE);
        tenv_run_until(&T, 2 * MIN); /* the retention has ended */
        start();
        sim_alloc_fail_nth(n);
        tenv_run_until(&T, 2 * MIN + 10 * SEC);
        injected = sim_alloc_injected();
        sim_alloc_fail_off();
        tenv_run_until(&T, 10 * MIN);
        ck_assert_msg(marked() == 0 && fs3_nkeys(S) == 0,
                      "allocation %llu failed: %zu marked, %llu keys left",
                      (unsigned long long)n, marked(), (unsigned long long)fs3_nkeys(S));
        ck_assert_uint_eq(cln_stats(C)->deleted, 10);
        if (!injected)
            break;
        failed++;
    }
    ck_assert_uint_lt(n, 400); /* the round's allocations were all failed once */
    ck_assert_uint_ge(failed, 5);
}
END_TEST

START_TEST(cln_batches_at_most_1000_keys)
{
    int64_t first = objects(4500);
    CONF.max_per_round = 5000;
    start();
    mark(first, 4500, META_OP_DELETE);
    tenv_run_until(&T, 3 * MIN);
    ck_assert_uint_eq(cln_stats(C)->deleted, 4500);
    ck_assert_uint_le(MAX_KEYS, 1000);
    ck_assert_int_ge(DEL_MANY, 5);
    ck_assert_uint_eq(fs3_nkeys(S), 0);
}
END_TEST

START_TEST(cln_round_cap_2000)
{
    int64_t first = objects(4500);
    start();
    mark(first, 4500, META_OP_DELETE);
    tenv_run_until(&T, 2 * MIN + 10 * SEC);
    ck_assert_uint_eq(cln_stats(C)->deleted, 4500);
    ck_assert_uint_ge(cln_stats(C)->cleans, 3);
}
END_TEST

START_TEST(cln_missing_key_is_success)
{
    int64_t first = objects(5);
    start();
    mark(first, 5, META_OP_DELETE);
    ck_assert_int_eq(fs3_remove(S, meta_object_get(M, first + 2)->key), 0);
    tenv_run_until(&T, 3 * MIN);
    ck_assert_uint_eq(cln_stats(C)->deleted, 5);
    ck_assert_uint_eq(cln_stats(C)->failures, 0);
}
END_TEST

START_TEST(cln_denied_for_a_while)
{
    int64_t first = objects(20);
    fault(S3_OP_DELETE_MANY, NULL, FS3_EFF_STATUS, 403, 10 * MIN, 0);
    start();
    mark(first, 20, META_OP_DELETE);
    tenv_run_until(&T, 9 * MIN);
    ck_assert_uint_eq(cln_stats(C)->deleted, 0);
    ck_assert_uint_gt(cln_stats(C)->failures, 0);
    ck_assert_uint_eq(marked(), 20);
    ck_assert_uint_eq(fs3_nkeys(S), 20);
    tenv_run_until(&T, 12 * MIN);
    ck_assert_uint_eq(cln_stats(C)->deleted, 20);
    ck_assert_uint_eq(fs3_nkeys(S), 0);
}
END_TEST

START_TEST(cln_partial_failures)
{
    int64_t first = objects(40);
    struct fs3_rule r;
    fs3_rule_init(&r);
    r.op = S3_OP_DELETE_MANY;
    r.effect = FS3_EFF_PARTIAL;
    r.times = 5;
    ck_assert_int_eq(fs3_fault_add(F, &r), 0);
    start();
    mark(first, 40, META_OP_DELETE);
    tenv_run_until(&T, 10 * MIN);
    ck_assert_uint_eq(cln_stats(C)->deleted, 40);
    ck_assert_uint_eq(fs3_nkeys(S), 0);
    ck_assert_uint_eq(marked(), 0);
}
END_TEST

START_TEST(cln_stuck_key_blocks_nothing)
{
    int64_t first = objects(300), p;
    const char *stuck;
    start();
    mark(first, 300, META_OP_DELETE);
    stuck = meta_object_get(M, first + 7)->key;
    fault(S3_OP_DELETE_MANY, stuck, FS3_EFF_STATUS, 500, ENV_TIME_NEVER, 0);
    ck_assert_int_eq(meta_prepare(M, 1, 5 * MIN, env_now(&T.env), &p), 0);
    tenv_run_until(&T, 30 * MIN);
    /* 299 and the prepared object, expired at 5m and deleted since */
    ck_assert_uint_eq(cln_stats(C)->deleted, 300);
    ck_assert_uint_eq(cln_stats(C)->expired, 1);
    ck_assert_ptr_null(meta_object_get(M, p));
    ck_assert_uint_eq(marked(), 1);
    ck_assert(exists(first + 7));
    ck_assert_uint_eq(fs3_nkeys(S), 1);
    fs3_fault_heal(F, NULL);
    tenv_run_until(&T, 35 * MIN);
    ck_assert_uint_eq(marked(), 0);
    ck_assert_uint_eq(fs3_nkeys(S), 0);
}
END_TEST

START_TEST(cln_composite_deep_delete)
{
    int64_t links[2], id = composite(links);
    ck_assert_uint_eq(fs3_nkeys(S), 3);
    start();
    ck_assert_int_eq(meta_stream_delete(M, 1, 0), 0);
    ck_assert_int_eq(meta_object_get(M, id)->state, META_MARKED);
    tenv_run_until(&T, 3 * MIN);
    ck_assert_uint_eq(fs3_nkeys(S), 0);
    ck_assert_ptr_null(meta_object_get(M, id));
    ck_assert_uint_eq(cln_stats(C)->composites, 1);
    ck_assert_uint_eq(cln_stats(C)->deleted, 1);
    ck_assert_int_eq(GETS, 1);
}
END_TEST

/* A composite of n links built from n tiny stream objects (synthetic
 * index entries: the cleaner reads only the links). */
static int64_t big_composite(int n)
{
    int64_t first = objects(n), id;
    struct cobj_writer w;
    struct meta_link *ml = calloc((size_t)n, sizeof *ml);
    int64_t *srcs = calloc((size_t)n, sizeof *srcs);
    enum meta_op *ops = calloc((size_t)n, sizeof *ops);
    uint8_t *buf;
    size_t len;
    ck_assert_ptr_nonnull(ml);
    cobj_writer_init(&w);
    for (int i = 0; i < n; i++) {
        struct obj_index_entry e = {1, i, 1, 1, 0, 16};
        ck_assert_int_eq(cobj_writer_add(&w, first + i, 0, &e, 1), 0);
        ml[i] = (struct meta_link){first + i, i, i + 1, 16, ""};
        srcs[i] = first + i;
        ops[i] = META_OP_KEEP_DATA;
    }
    ck_assert_int_eq(cobj_writer_finish(&w, &buf, &len), 0);
    cobj_writer_free(&w);
    ck_assert_int_eq(meta_prepare(M, 1, ENV_USEC_PER_HOUR, 0, &id), 0);
    put(meta_object_get(M, id)->key, buf, len);
    free(buf);
    {
        struct meta_stream_commit c = {.id = id, .size = 16 * n,
                                       .attributes = META_ATTR_TYPE_COMPOSITE, .stream = 1,
                                       .epoch = -1, .start = 0, .end = n, .sources = srcs,
                                       .ops = ops, .nsources = (size_t)n, .links = ml,
                                       .nlinks = (size_t)n};
        ck_assert_int_eq(meta_commit_stream(M, &c, 0), 0);
    }
    free(ml);
    free(srcs);
    free(ops);
    return id;
}

/* Links are deleted in DeleteObjects of at most 1000 keys, then the composite. */
START_TEST(cln_deep_delete_batches_links)
{
    int64_t id = big_composite(2500);
    ck_assert_uint_eq(fs3_nkeys(S), 2501);
    start();
    ck_assert_int_eq(meta_stream_delete(M, 1, 0), 0);
    tenv_run_until(&T, 3 * MIN);
    ck_assert_ptr_null(meta_object_get(M, id));
    ck_assert_uint_eq(fs3_nkeys(S), 0);
    ck_assert_uint_le(MAX_KEYS, 1000);
    ck_assert_int_eq(DEL_MANY, 3);
    ck_assert_int_eq(DEL_ONE, 1);
}
END_TEST

/* The composite's own key is already gone (an earlier attempt): success. */
START_TEST(cln_composite_404_is_success)
{
    int64_t links[2], id = composite(links);
    start();
    ck_assert_int_eq(meta_stream_delete(M, 1, 0), 0);
    ck_assert_int_eq(fs3_remove(S, meta_object_get(M, id)->key), 0);
    tenv_run_until(&T, 3 * MIN);
    ck_assert_ptr_null(meta_object_get(M, id));
    ck_assert_uint_eq(fs3_nkeys(S), 0); /* links the metadata knew are deleted too */
    ck_assert_uint_eq(cln_stats(C)->failures, 0);
    ck_assert_int_eq(ERRORS, 0);
}
END_TEST

/* deletion.not.found error (F04): the same case fails forever. */
START_TEST(cln_composite_404_field_bug_retries_forever)
{
    int64_t links[2], id = composite(links);
    CONF.not_found_error = true;
    start();
    ck_assert_int_eq(meta_stream_delete(M, 1, 0), 0);
    ck_assert_int_eq(fs3_remove(S, meta_object_get(M, id)->key), 0);
    tenv_run_until(&T, 30 * MIN);
    ck_assert_ptr_nonnull(meta_object_get(M, id));
    ck_assert_uint_ge(cln_stats(C)->failures, 10);
    ck_assert_int_ge(GETS, 10);
    ck_assert_int_ge(ERRORS, 10);
    {
        /* One event, the exception on the message's line (LOGGER.error(msg, ex)). */
        char want[512];
        snprintf(want, sizeof want, "Delete composite object S3ObjectMetadata(objectId=%" PRId64
                 ", objectSize=-1, type=UNKNOWN, offsetRanges=[], committedTimestamp=-1, "
                 "dataTimestamp=-1) fail: java.util.concurrent.CompletionException: "
                 "com.automq.stream.s3.operator.ObjectStorage$ObjectNotFoundException: "
                 "software.amazon.awssdk.services.s3.model.NoSuchKeyException: "
                 "The specified key does not exist.", id);
        ck_assert_str_eq(ERROR_LINE, want);
    }
    ck_assert(strncmp(NEXT_LINE, "java.", 5) != 0); /* no second line for the exception */
}
END_TEST

/* Any other failure of a composite's delete is an error with the same
 * wording (AutoMQ logs every failure of CompositeObject.delete at error), so
 * a scenario's `log error match="Delete composite object" count == 0` can
 * fail on the fixed engine: here its links' DeleteObjects is refused (403). */
START_TEST(cln_composite_other_failure_is_error)
{
    int64_t links[2], id = composite(links);
    fault(S3_OP_DELETE_MANY, NULL, FS3_EFF_STATUS, 403, 10 * MIN, 0);
    start();
    ck_assert_int_eq(meta_stream_delete(M, 1, 0), 0);
    tenv_run_until(&T, 5 * MIN);
    ck_assert_ptr_nonnull(meta_object_get(M, id));
    ck_assert_int_ge(ERRORS, 1);
    ck_assert_ptr_nonnull(strstr(ERROR_LINE, ") fail: java.util.concurrent.CompletionException: "
                                             "software.amazon.awssdk.services.s3.model.S3Exception"));
    ck_assert_ptr_nonnull(strstr(ERROR_LINE, "AccessDenied"));
    tenv_run_until(&T, 20 * MIN); /* the refusal ended: the retry succeeds */
    ck_assert_ptr_null(meta_object_get(M, id));
}
END_TEST

/* The composite's DeleteObject answered 404 (s3.delete.missing 404): success. */
START_TEST(cln_delete_missing_404)
{
    int64_t links[2], id = composite(links);
    fault(S3_OP_DELETE, NULL, FS3_EFF_STATUS, 404, ENV_TIME_NEVER, 0);
    start();
    ck_assert_int_eq(meta_stream_delete(M, 1, 0), 0);
    tenv_run_until(&T, 3 * MIN);
    ck_assert_ptr_null(meta_object_get(M, id));
    ck_assert_uint_eq(cln_stats(C)->failures, 0);
}
END_TEST

struct upl {
    const char *key;
    char (*ids)[S3_UPLOAD_ID_MAX];
    size_t n, max;
};

static bool upl_each(void *arg, const char *key, const char *upload_id, int64_t created)
{
    struct upl *u = arg;
    (void)created;
    if (strcmp(key, u->key) == 0 && u->n < u->max)
        snprintf(u->ids[u->n++], S3_UPLOAD_ID_MAX, "%s", upload_id);
    return true;
}

static size_t uploads_of(void *arg, const char *key, char (*ids)[S3_UPLOAD_ID_MAX], size_t max)
{
    struct upl u = {key, ids, 0, max};
    (void)arg;
    fs3_each_upload(S, upl_each, &u);
    return u.n;
}

static void ttl_expiry(bool hook)
{
    int64_t id;
    struct s3_req req = {.op = S3_OP_MPU_CREATE};
    struct s3_result res;
    ck_assert_int_eq(meta_prepare(M, 1, 10 * MIN + 123, 0, &id), 0);
    req.key = meta_object_get(M, id)->key;
    memset(&res, 0, sizeof res);
    ck_assert_int_eq(fs3_exec(S, &req, FS3_AS_OF_NOW, &res), 0);
    s3_result_cleanup(&res);
    ck_assert_uint_eq(fs3_nuploads(S), 1);
    start();
    if (hook)
        cln_set_uploads(C, uploads_of, NULL);
    tenv_run_until(&T, 10 * MIN + 123);
    ck_assert_int_eq(meta_object_get(M, id)->state, META_PREPARED);
    tenv_run_until(&T, 10 * MIN + 124);
    ck_assert_int_eq(meta_object_get(M, id)->state, META_MARKED);
    ck_assert_uint_eq(cln_stats(C)->expired, 1);
    tenv_run_until(&T, 11 * MIN);
    ck_assert_uint_eq(fs3_nuploads(S), 0);
    ck_assert_int_eq(ABORTS, 1);
    tenv_run_until(&T, 14 * MIN);
    ck_assert_ptr_null(meta_object_get(M, id));
}

/* The uploads of the expired key are found by ListMultipartUploads. */
START_TEST(cln_ttl_expiry_aborts_uploads)
{
    ttl_expiry(false);
}
END_TEST

/* When the listing fails, the uploads the ledger hook knows are aborted. */
START_TEST(cln_ttl_list_fails_uses_ledger)
{
    fault(S3_OP_LIST_UPLOADS, NULL, FS3_EFF_STATUS, 500, ENV_TIME_NEVER, 0);
    ttl_expiry(true);
}
END_TEST

START_TEST(cln_crash_mid_clean)
{
    int64_t first = objects(50);
    fault(S3_OP_DELETE_MANY, NULL, FS3_EFF_DELAY, 0, 3 * MIN, 8 * SEC);
    start();
    mark(first, 50, META_OP_DELETE);
    tenv_run_until(&T, 2 * MIN + 3 * SEC); /* the clean started at 2m */
    ck_assert(!cln_idle(C));
    cln_crash(C);
    ck_assert(cln_idle(C));
    ck_assert_uint_eq(fs3_inflight(S), 0);
    tenv_run_until(&T, 2 * MIN + 30 * SEC);
    ck_assert_uint_eq(marked(), 50);
    ck_assert_uint_eq(fs3_nkeys(S), 50);
    cln_restart(C);
    tenv_run_until(&T, 6 * MIN);
    ck_assert_uint_eq(marked(), 0);
    ck_assert_uint_eq(fs3_nkeys(S), 0);
    ck_assert(cln_idle(C));
}
END_TEST

static void create_cb(struct s3_req *req, struct s3_result *res)
{
    ck_assert_int_eq(res->status, 200);
    *(int *)req->arg = 1;
}

/* The ledger remembers uploads created through it; the cleaner, over the
 * ledger, aborts those of an expired object, and the ledger forgets them. */
START_TEST(cln_ledger_aborts_lost_uploads)
{
    struct cln_ledger *l;
    struct s3_req req = {0};
    int64_t id, other;
    int done = 0;
    ck_assert_int_eq(cln_ledger_new(&COUNT, &l), 0);
    ck_assert_int_eq(meta_prepare(M, 2, 5 * MIN, 0, &id), 0);
    other = id + 1;
    req.key = meta_object_get(M, id)->key;
    ck_assert_int_eq(s3_mpu_create(cln_ledger_ops(l), &req, create_cb, &done), 0);
    tenv_run_until(&T, SEC);
    ck_assert_int_eq(done, 1);
    ck_assert_uint_eq(cln_ledger_open(l), 1);
    ck_assert_uint_eq(fs3_nuploads(S), 1);
    ck_assert_int_eq(cln_new(&T.env, cln_ledger_ops(l), CTL, &CONF, &C), 0);
    cln_set_uploads(C, cln_ledger_uploads, l);
    tenv_run_until(&T, 6 * MIN);
    ck_assert_int_eq(meta_object_get(M, other)->state, META_MARKED);
    ck_assert_uint_eq(fs3_nuploads(S), 0);
    ck_assert_uint_eq(cln_ledger_open(l), 0);
    ck_assert_uint_eq(cln_stats(C)->aborts, 1);
    cln_free(C);
    C = NULL;
    cln_ledger_free(l);
}
END_TEST

/* A prepared object's deadline passes while the controller is down: the
 * restart rebuilds the timer and expires it at once. */
START_TEST(cln_restart_rebuilds_ttl)
{
    int64_t id;
    start();
    ck_assert_int_eq(meta_prepare(M, 1, 5 * MIN, 0, &id), 0);
    tenv_run_until(&T, 2 * MIN);
    cln_crash(C);
    tenv_run_until(&T, 8 * MIN);
    ck_assert_int_eq(meta_object_get(M, id)->state, META_PREPARED);
    cln_restart(C);
    tenv_run_until(&T, 8 * MIN + 1);
    ck_assert_int_eq(meta_object_get(M, id)->state, META_MARKED);
}
END_TEST

/* cleaner.dedup.inflight: a slow clean is not duplicated; false (F10) is. */
static int slow_clean(bool dedup)
{
    int64_t first = objects(100);
    CONF.dedup_inflight = dedup;
    fault(S3_OP_DELETE_MANY, NULL, FS3_EFF_DELAY, 0, ENV_TIME_NEVER, 6 * SEC);
    start();
    mark(first, 100, META_OP_DELETE);
    tenv_run_until(&T, 5 * MIN);
    ck_assert_uint_eq(marked(), 0);
    return DEL_MANY;
}

START_TEST(cln_dedup_inflight)
{
    ck_assert_int_eq(slow_clean(true), 1);
}
END_TEST

START_TEST(cln_dedup_off_field_bug)
{
    ck_assert_int_ge(slow_clean(false), 5);
}
END_TEST

/* Late writes (docs/engine.md "Late writes"): the key of a TTL-expired object is deleted
 * once more after cleaner.redelete.delay, removing a write that landed after
 * the first delete; committed objects marked the normal way are not. */
static void late_write(int64_t redelete_us, bool gone)
{
    int64_t id, first = objects(2);
    char key[OBJ_KEY_MAX];
    uint8_t body[8] = {9};
    CONF.redelete_us = redelete_us;
    ck_assert_int_eq(meta_prepare(M, 1, MIN, 0, &id), 0);
    snprintf(key, sizeof key, "%s", meta_object_get(M, id)->key);
    put(key, body, sizeof body);
    start();
    mark(first, 2, META_OP_DELETE);
    tenv_run_until(&T, 4 * MIN);
    ck_assert_ptr_null(meta_object_get(M, id));
    ck_assert(!fs3_key_exists(S, key, NULL));
    ck_assert_uint_eq(cln_redeletes_pending(C), redelete_us > 0 ? 1 : 0);
    put(key, body, sizeof body); /* the late PutObject lands */
    tenv_run_until(&T, 8 * MIN);
    ck_assert_int_eq(fs3_key_exists(S, key, NULL), !gone);
    ck_assert_uint_eq(cln_stats(C)->redeletes, gone ? 1 : 0);
    ck_assert_uint_eq(cln_redeletes_pending(C), 0);
    ck_assert(cln_idle(C));
}

START_TEST(cln_redelete_removes_late_write)
{
    late_write(2 * MIN, true);
    ck_assert_int_eq(DEL_MANY, 3); /* the two committed ones, the expired one, once more */
}
END_TEST

START_TEST(cln_redelete_off_leaves_orphan)
{
    late_write(0, false);
}
END_TEST

/* The second delete waits at least one attempt timeout (s3.op.timeout). */
START_TEST(cln_redelete_waits_op_timeout)
{
    int64_t id;
    char key[OBJ_KEY_MAX];
    uint8_t body[8] = {9};
    CONF.redelete_us = 2 * MIN;
    CONF.s3c.op_timeout_us = 6 * MIN;
    ck_assert_int_eq(meta_prepare(M, 1, MIN, 0, &id), 0);
    snprintf(key, sizeof key, "%s", meta_object_get(M, id)->key);
    start();
    tenv_run_until(&T, 4 * MIN);
    ck_assert_ptr_null(meta_object_get(M, id)); /* first delete between 2m and 3m */
    put(key, body, sizeof body);
    tenv_run_until(&T, 8 * MIN);
    ck_assert(fs3_key_exists(S, key, NULL));
    ck_assert_uint_eq(cln_redeletes_pending(C), 1);
    tenv_run_until(&T, 10 * MIN);
    ck_assert(!fs3_key_exists(S, key, NULL));
    ck_assert_uint_eq(cln_stats(C)->redeletes, 1);
}
END_TEST

/* A failed second delete is retried; a crash forgets pending ones. */
START_TEST(cln_redelete_retried_and_crash_forgets)
{
    int64_t id, id2;
    char key[OBJ_KEY_MAX];
    uint8_t body[8] = {9};
    CONF.redelete_us = 2 * MIN;
    ck_assert_int_eq(meta_prepare(M, 1, MIN, 0, &id), 0);
    snprintf(key, sizeof key, "%s", meta_object_get(M, id)->key);
    start();
    tenv_run_until(&T, 4 * MIN);
    ck_assert_ptr_null(meta_object_get(M, id));
    put(key, body, sizeof body);
    fault(S3_OP_DELETE_MANY, NULL, FS3_EFF_STATUS, 503, 6 * MIN, 0);
    tenv_run_until(&T, 8 * MIN);
    ck_assert(!fs3_key_exists(S, key, NULL));
    ck_assert_int_ge(DEL_MANY, 3); /* first delete, failed second, retried second */
    ck_assert_uint_eq(cln_stats(C)->redeletes, 1);
    ck_assert_int_eq(meta_prepare(M, 1, MIN, 8 * MIN, &id2), 0);
    tenv_run_until(&T, 12 * MIN);
    ck_assert_ptr_null(meta_object_get(M, id2));
    ck_assert_uint_eq(cln_redeletes_pending(C), 1);
    cln_crash(C);
    ck_assert_uint_eq(cln_redeletes_pending(C), 0);
}
END_TEST

START_TEST(cln_halving_groups_by_failure_count)
{
    /* cleaner.batch.halving: a round's picks are sorted by failure count, so objects that
     * failed once go in one batch and fresh ones in another whatever their ids.  Objects 0 and
     * 2, marked first, fail their delete at the 2m1s swap; objects 1 and 3..11, marked at
     * 1m30s, are old at the same 3m1s swap as the retry of 0 and 2: that round sends exactly
     * two DeleteObjects.  (A comparator that sorts the failed ones by id among the fresh ones
     * cuts that round into more batches; this layout is one where glibc's merge sort does.) */
    int64_t first = objects(12);
    int before;
    CONF.round_every_check = CONF.obj_backoff = false; /* rounds at the swaps only */
    start();
    for (int pass = 1; pass >= 0; pass--) {
        for (int i = 0; i < 12; i++) {
            int64_t id = first + i;
            enum meta_op op = META_OP_DELETE;
            if ((i == 0 || i == 2) != (pass == 1))
                continue;
            ck_assert_int_eq(meta_mark(M, &id, &op, 1, env_now(&T.env)), 0);
        }
        if (pass)
            tenv_run_until(&T, 90 * SEC);
    }
    fault(S3_OP_DELETE_MANY, NULL, FS3_EFF_STATUS, 500, 150 * SEC, 0);
    tenv_run_until(&T, 170 * SEC);
    ck_assert_uint_eq(cln_stats(C)->deleted, 0);
    ck_assert_uint_eq(cln_stats(C)->failures, 2); /* objects 0 and 2, once each */
    ck_assert(exists(first) && exists(first + 1));
    before = DEL_MANY;
    tenv_run_until(&T, 200 * SEC);
    ck_assert_uint_eq(cln_stats(C)->deleted, 12);
    ck_assert_uint_eq(fs3_nkeys(S), 0);
    ck_assert_int_eq(DEL_MANY - before, 2);
}
END_TEST

/* The writer guard: only a still-prepared (or committed) object completes. */
/* Runs until the first GET of a composite is sent, then 2 s more; the GETs
 * take 5 s (below the attempt timeout), so GETS is how many deep deletes
 * started at once. */
static void deep_first_wave(int n)
{
    int64_t links[2];
    for (int i = 0; i < n; i++)
        composite(links);
    fault(S3_OP_GET, NULL, FS3_EFF_DELAY, 0, ENV_TIME_NEVER, 5 * SEC);
    start();
    ck_assert_int_eq(meta_stream_delete(M, 1, 0), 0);
    for (int64_t t = SEC; GETS == 0 && t < 10 * MIN; t += SEC)
        tenv_run_until(&T, t);
    tenv_run_until(&T, env_now(&T.env) + 2 * SEC);
}

/* cleaner.deep.concurrency 8 (hardened): 12 composites, 8 deep deletes at
 * once, then the other 4. */
START_TEST(cln_deep_concurrency_bounded)
{
    deep_first_wave(12);
    ck_assert_int_eq(GETS, 8);
    tenv_run_until(&T, env_now(&T.env) + 5 * MIN);
    ck_assert_int_eq(GETS, 12);
    ck_assert_uint_eq(cln_stats(C)->composites, 12);
    ck_assert_uint_eq(fs3_nkeys(S), 0);
}
END_TEST

/* ---- AutoMQ's side of each guard (the automq profile: the guard off) ------------------------- */

/* Every guard of ours off, as cln_conf_from gives under engine.profile automq. */
static void automq_cleaner(void)
{
    struct conf k;
    conf_init(&k);
    cln_conf_from(&CONF, &k);
    CONF.backoff_us = SEC;
    s3c_conf_default(&CONF.s3c);
    CONF.s3c.sweep_strays = CONF.s3c.complete_absent_fails = false;
    ck_assert(!CONF.retry_cap && !CONF.obj_backoff && !CONF.batch_halving);
    ck_assert(!CONF.ttl_during_clean && !CONF.round_every_check && !CONF.notify_per_key);
    ck_assert(!CONF.gone_links && !CONF.ttl_aborts);
    ck_assert_int_eq(CONF.deep_concurrency, -1);
}

START_TEST(cln_automq_stuck_key_suspends_everything)
{
    /* cleaner.retry.cap off: the stuck key's DeleteObjects is retried without end, the clean
     * never finishes, and AutoMQ skips every lifecycle check meanwhile: the other 299 objects
     * stay, and the prepared object never expires. */
    int64_t first = objects(300), p;
    const char *stuck;
    automq_cleaner();
    start();
    mark(first, 300, META_OP_DELETE);
    stuck = meta_object_get(M, first + 7)->key;
    fault(S3_OP_DELETE_MANY, stuck, FS3_EFF_STATUS, 500, ENV_TIME_NEVER, 0);
    ck_assert_int_eq(meta_prepare(M, 1, 5 * MIN, env_now(&T.env), &p), 0);
    tenv_run_until(&T, 30 * MIN);
    ck_assert_uint_eq(cln_stats(C)->deleted, 0);
    ck_assert_uint_eq(cln_stats(C)->expired, 0);
    ck_assert_int_eq(meta_object_get(M, p)->state, META_PREPARED);
    ck_assert_uint_eq(marked(), 300);
    ck_assert(!cln_idle(C));
    fs3_fault_heal(F, NULL);
    tenv_run_until(&T, 40 * MIN);
    ck_assert_uint_eq(cln_stats(C)->expired, 1); /* marked once the clean ended, deleted since */
    ck_assert_uint_eq(cln_stats(C)->deleted, 301);
    ck_assert_uint_eq(marked(), 0);
}
END_TEST

START_TEST(cln_automq_deletes_once_per_retention)
{
    /* cleaner.round.every.check off: an object marked after a swap waits for the next one; a
     * failed batch is tried again only a retention period later, always in batches of 1000
     * (cleaner.batch.halving off) and without a per-object backoff. */
    int64_t first = objects(10);
    automq_cleaner();
    start();
    tenv_run_until(&T, 61 * SEC + 500000); /* the first swap at 61s: nothing old yet */
    mark(first, 10, META_OP_DELETE);
    tenv_run_until(&T, 2 * MIN + 1 * SEC);
    ck_assert_uint_eq(cln_stats(C)->cleans, 0);
    tenv_run_until(&T, 3 * MIN + 5 * SEC); /* the swap after its mark has a retention of age */
    ck_assert_uint_eq(cln_stats(C)->deleted, 10);
    ck_assert_uint_eq(cln_stats(C)->cleans, 1);
}
END_TEST

START_TEST(cln_automq_partial_batch_not_notified)
{
    /* cleaner.notify.per.key off: a DeleteObjects with one failed key removes nothing from the
     * metadata, not even the keys S3 deleted; they are deleted again next time. */
    int64_t first = objects(5);
    struct fs3_rule r;
    automq_cleaner();
    CONF.retry_cap = true; /* the failing key gives up after 3 attempts, ending the clean */
    fs3_rule_init(&r);
    r.op = S3_OP_DELETE_MANY;
    r.effect = FS3_EFF_PARTIAL; /* each attempt: the second half of its keys InternalError */
    r.times = 3;
    ck_assert_int_eq(fs3_fault_add(F, &r), 0);
    start();
    mark(first, 5, META_OP_DELETE);
    tenv_run_until(&T, 2 * MIN + 30 * SEC);
    ck_assert_uint_ge(cln_stats(C)->cleans, 1);
    ck_assert_uint_eq(cln_stats(C)->deleted, 0);
    ck_assert_uint_eq(marked(), 5);
    ck_assert_uint_eq(fs3_nkeys(S), 1); /* S3 did delete the other four */
    tenv_run_until(&T, 6 * MIN); /* the next rounds delete all again, and notify */
    ck_assert_uint_eq(marked(), 0);
    ck_assert_uint_eq(fs3_nkeys(S), 0);
}
END_TEST

START_TEST(cln_automq_ttl_expiry_leaves_uploads)
{
    /* cleaner.ttl.abort.uploads off: the expired object is marked and deleted, its open upload
     * stays (a bucket lifecycle rule's job). */
    int64_t id;
    struct s3_req req = {.op = S3_OP_MPU_CREATE};
    struct s3_result res;
    automq_cleaner();
    ck_assert_int_eq(meta_prepare(M, 1, 10 * MIN, 0, &id), 0);
    req.key = meta_object_get(M, id)->key;
    memset(&res, 0, sizeof res);
    ck_assert_int_eq(fs3_exec(S, &req, FS3_AS_OF_NOW, &res), 0);
    s3_result_cleanup(&res);
    start();
    tenv_run_until(&T, 20 * MIN);
    ck_assert_uint_eq(cln_stats(C)->expired, 1);
    ck_assert_ptr_null(meta_object_get(M, id));
    ck_assert_uint_eq(fs3_nuploads(S), 1);
    ck_assert_int_eq(ABORTS, 0);
}
END_TEST

START_TEST(cln_automq_composite_gone_leaves_links)
{
    /* cleaner.gone.links.redelete off: a composite whose own key is gone is done; links its
     * metadata still names are not deleted again. */
    int64_t links[2], id = composite(links);
    automq_cleaner();
    start();
    ck_assert_int_eq(meta_stream_delete(M, 1, 0), 0);
    ck_assert_int_eq(fs3_remove(S, meta_object_get(M, id)->key), 0);
    tenv_run_until(&T, 5 * MIN);
    ck_assert_ptr_null(meta_object_get(M, id));
    ck_assert_uint_eq(fs3_nkeys(S), 2);
}
END_TEST

START_TEST(cln_automq_deep_all_at_once)
{
    /* cleaner.deep.concurrency unlimited: every composite of the clean starts its deep delete
     * (its GET) at once. */
    automq_cleaner();
    deep_first_wave(12);
    ck_assert_int_eq(GETS, 12);
    tenv_run_until(&T, env_now(&T.env) + 5 * MIN);
    ck_assert_uint_eq(cln_stats(C)->composites, 12);
    ck_assert_uint_eq(fs3_nkeys(S), 0);
}
END_TEST

START_TEST(cln_automq_no_halving)
{
    /* cleaner.batch.halving off: the layout of cln_halving_groups_by_failure_count, with
     * AutoMQ's cleaner (and a retry cap, so that objects 0 and 2 do fail): at the 3m1s swap the
     * two failed objects go in the same batch as the ten fresh ones, one DeleteObjects. */
    int64_t first = objects(12);
    int before;
    automq_cleaner();
    CONF.retry_cap = true;
    start();
    for (int pass = 1; pass >= 0; pass--) {
        for (int i = 0; i < 12; i++) {
            int64_t id = first + i;
            enum meta_op op = META_OP_DELETE;
            if ((i == 0 || i == 2) != (pass == 1))
                continue;
            ck_assert_int_eq(meta_mark(M, &id, &op, 1, env_now(&T.env)), 0);
        }
        if (pass)
            tenv_run_until(&T, 90 * SEC);
    }
    fault(S3_OP_DELETE_MANY, NULL, FS3_EFF_STATUS, 500, 150 * SEC, 0);
    tenv_run_until(&T, 170 * SEC);
    ck_assert_uint_eq(cln_stats(C)->deleted, 0);
    ck_assert_uint_eq(cln_stats(C)->failures, 2);
    before = DEL_MANY;
    tenv_run_until(&T, 200 * SEC);
    ck_assert_uint_eq(cln_stats(C)->deleted, 12);
    ck_assert_uint_eq(fs3_nkeys(S), 0);
    ck_assert_int_eq(DEL_MANY - before, 1);
}
END_TEST

/* Failed delete attempts of one object under a DeleteObjects failing for 2 min, with a round
 * every second and 3 attempts a clean. */
static uint64_t failures_in_2m(bool obj_backoff)
{
    int64_t first = objects(1);
    automq_cleaner();
    CONF.retry_cap = CONF.round_every_check = true;
    CONF.obj_backoff = obj_backoff;
    CONF.backoff_max_us = 60 * SEC;
    start();
    mark(first, 1, META_OP_DELETE);
    fault(S3_OP_DELETE_MANY, NULL, FS3_EFF_STATUS, 500, 3 * MIN, 0);
    tenv_run_until(&T, 3 * MIN);
    ck_assert_uint_eq(cln_stats(C)->deleted, 0);
    tenv_run_until(&T, 5 * MIN);
    ck_assert_uint_eq(cln_stats(C)->deleted, 1);
    return cln_stats(C)->failures;
}

START_TEST(cln_automq_no_object_backoff)
{
    /* cleaner.object.backoff off: a failed object is tried again at the next round; on, it
     * waits 1s, 2s, 4s, ... 60s: far fewer failed attempts in the same two minutes. */
    uint64_t automq = failures_in_2m(false), hardened;
    teardown();
    setup();
    hardened = failures_in_2m(true);
    ck_assert_uint_ge(automq, 2 * hardened);
    ck_assert_uint_le(hardened, 8);
    ck_assert_uint_ge(automq, 10);
}
END_TEST

START_TEST(cln_writer_guard_states)
{
    int64_t id, first = objects(1);
    char key[OBJ_KEY_MAX];
    ck_assert_int_eq(cln_writer_guard(CTL, meta_object_get(M, first)->key), 0);
    ck_assert_int_eq(meta_prepare(M, 1, MIN, 0, &id), 0);
    snprintf(key, sizeof key, "%s", meta_object_get(M, id)->key);
    ck_assert_int_eq(cln_writer_guard(CTL, key), 0);
    ck_assert_int_eq(cln_writer_guard(CTL, "not/an-object"), 0);
    start();
    tenv_run_until(&T, MIN + SEC);
    ck_assert_int_eq(meta_object_get(M, id)->state, META_MARKED);
    ck_assert_int_eq(cln_writer_guard(CTL, key), ERR_ABORTED);
    tenv_run_until(&T, 4 * MIN);
    ck_assert_ptr_null(meta_object_get(M, id));
    ck_assert_int_eq(cln_writer_guard(CTL, key), ERR_ABORTED);
}
END_TEST

static Suite *cln_suite(void)
{
    Suite *s = suite_create("cln");
    TCase *tc = tcase_create("cln");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, cln_deletes_after_retention);
    tcase_add_test(tc, cln_batches_at_most_1000_keys);
    tcase_add_test(tc, cln_round_cap_2000);
    tcase_add_test(tc, cln_missing_key_is_success);
    tcase_add_test(tc, cln_denied_for_a_while);
    tcase_add_test(tc, cln_partial_failures);
    tcase_add_test(tc, cln_stuck_key_blocks_nothing);
    tcase_add_test(tc, cln_composite_deep_delete);
    tcase_add_test(tc, cln_deep_delete_batches_links);
    tcase_add_test(tc, cln_composite_other_failure_is_error);
    tcase_add_test(tc, cln_composite_404_is_success);
    tcase_add_test(tc, cln_composite_404_field_bug_retries_forever);
    tcase_add_test(tc, cln_delete_missing_404);
    tcase_add_test(tc, cln_ttl_expiry_aborts_uploads);
    tcase_add_test(tc, cln_ttl_list_fails_uses_ledger);
    tcase_add_test(tc, cln_crash_mid_clean);
    tcase_add_test(tc, cln_restart_rebuilds_ttl);
    tcase_add_test(tc, cln_ledger_aborts_lost_uploads);
    tcase_add_test(tc, cln_dedup_inflight);
    tcase_add_test(tc, cln_dedup_off_field_bug);
    tcase_add_test(tc, cln_redelete_removes_late_write);
    tcase_add_test(tc, cln_redelete_off_leaves_orphan);
    tcase_add_test(tc, cln_redelete_waits_op_timeout);
    tcase_add_test(tc, cln_redelete_retried_and_crash_forgets);
    tcase_add_test(tc, cln_writer_guard_states);
    tcase_add_test(tc, cln_halving_groups_by_failure_count);
    tcase_add_test(tc, cln_automq_stuck_key_suspends_everything);
    tcase_add_test(tc, cln_automq_deletes_once_per_retention);
    tcase_add_test(tc, cln_automq_partial_batch_not_notified);
    tcase_add_test(tc, cln_automq_ttl_expiry_leaves_uploads);
    tcase_add_test(tc, cln_automq_composite_gone_leaves_links);
    tcase_add_test(tc, cln_automq_deep_all_at_once);
    tcase_add_test(tc, cln_deep_concurrency_bounded);
    tcase_add_test(tc, cln_automq_no_halving);
    tcase_add_test(tc, cln_automq_no_object_backoff);
    tcase_add_test(tc, cln_out_of_memory_round_recovers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cln_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
