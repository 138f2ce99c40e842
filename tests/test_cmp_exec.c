/* test_cmp_exec.c - SSO compaction executed against the fake S3 (fault shim, client
 * layer, writers, metadata store): commits, multi-plan runs, every failure path
 * (buffers released, waiters completed, uploads aborted, nothing committed), the
 * field-bug knobs F01-F03, F15, F20, trims, deletions, a crash, the schedule (cmp.h). */
#include "alloc.h"
#include "cmp.h"
#include "err.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "clenv.h"
#include "conf.h"
#include "eng.h"
#include "fault.h"
#include "fs3.h"
#include "meta.h"
#include "reader.h"
#include "s3client.h"
#include "writer.h"

#define KB 1024u

/* ---- Execution fixture: the fake S3, the fault shim, the client, the store. ------------------ */

#define SEC ENV_USEC_PER_SEC
#define MIN ENV_USEC_PER_MIN
#define NS "_kafka_s3sim"
#define REC 1000u

static struct clenv E;
static struct fs3 *S;
static struct fs3_fault *F;
static struct s3c *CL;
#include "ctltest.h"
static struct conf CONF;
static struct wr_mem MEM;
static struct eng_metrics MET;
static struct cmp *C;

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

static void knob(const char *k, const char *v)
{
    char err[CONF_ERR_MAX];
    ck_assert_msg(conf_set(&CONF, k, v, err, sizeof err) == 0, "%s", err);
}

/* The world without the compactor; knobs may still change before start(). */
static void world(bool id_zero_none)
{
    struct fs3_config cfg;
    struct meta_conf mc = {NS, NULL, id_zero_none, false, false, false};
    clenv_init(&E, 7);
    conf_init(&CONF);
    knob("s3.stream.set.object.compaction.interval.minutes", "600");
    knob("s3.min.part.size", "64KiB");
    knob("s3.object.multipart.threshold", "256KiB");
    knob("s3.retry.max", "3");
    knob("s3.retry.backoff", "100ms");
    fs3_config_init(&cfg);
    cfg.min_part_size = 64 * KB;
    cfg.latency_us = 5 * ENV_USEC_PER_MS;
    S = fs3_new(&E.env, &cfg);
    F = fs3_fault_new(&E.env, S, classify, NULL);
    ck_assert_ptr_nonnull(F);
    ctltest_new(&E.env, &mc);
    for (int s = 1; s <= 4; s++)
        ck_assert_int_eq(meta_stream_create(M, s), 0);
    memset(&MEM, 0, sizeof MEM);
    memset(&MET, 0, sizeof MET);
    C = NULL;
    CL = NULL;
}

static void setup(void) { world(false); }

/* Creates the client and the compactor from the knobs. */
static void start(void)
{
    struct s3c_conf sc;
    struct cmp_conf cc;
    s3c_conf_from(&sc, &CONF);
    ck_assert_int_eq(s3c_new(&E.env, fs3_fault_ops(F), &sc, &CL), 0);
    cmp_conf_from(&cc, &CONF);
    struct cmp_deps d = {&E.env, s3c_ops(CL), MD, &CONF, &MEM, &MET};
    ck_assert_int_eq(cmp_new(&d, &cc, &C), 0);
}

static void teardown(void)
{
    cmp_free(C);
    s3c_free(CL);
    fs3_fault_free(F);
    fs3_free(S);
    ctltest_free();
    clenv_fini(&E);
}

static uint32_t BLOCK = 4096; /* the SSOs' block size (mk_sso) */

static uint8_t pay(int64_t s, int64_t off, size_t i) { return (uint8_t)(s * 31 + off * 7 + (int64_t)i); }

/* A WAL upload: an SSO holding nrec[i] records of streams[i] (ascending),
 * each REC bytes, from each stream's end.  Returns its id. */
static int64_t mk_sso(const int64_t *streams, const int *nrec, size_t n, int64_t data_time)
{
    struct obj_builder b;
    struct obj_builder_conf bc = {BLOCK, 0, true};
    struct meta_range r[8];
    uint8_t payload[REC], *buf;
    size_t len;
    int64_t id;
    obj_builder_init(&b, &bc);
    for (size_t i = 0; i < n; i++) {
        int64_t base = meta_stream_get(M, streams[i])->end;
        for (int k = 0; k < nrec[i]; k++) {
            for (size_t j = 0; j < REC; j++)
                payload[j] = pay(streams[i], base + k, j);
            struct obj_record rec = {streams[i], 0, base + k, 1, REC, payload};
            ck_assert_int_eq(obj_builder_add(&b, &rec), 0);
        }
        r[i] = (struct meta_range){streams[i], base, base + nrec[i]};
    }
    ck_assert_int_eq(obj_builder_finish(&b, &buf, &len), 0);
    ck_assert_int_eq(meta_prepare(M, 1, 60 * MIN, E.now, &id), 0);
    struct s3_req req = {.op = S3_OP_PUT, .key = meta_object_get(M, id)->key, .body = buf,
                         .body_len = len};
    struct s3_result res;
    memset(&res, 0, sizeof res);
    ck_assert_int_eq(fs3_exec(S, &req, FS3_AS_OF_NOW, &res), 0);
    ck_assert_int_eq(res.status, 200);
    s3_result_cleanup(&res);
    free(buf);
    struct meta_sso_commit c = {.node = 0, .id = id, .size = (int64_t)len, .order_id = -1,
                                .data_time = data_time, .ranges = r, .nranges = n};
    ck_assert_int_eq(meta_commit_sso(M, &c, E.now), 0);
    return id;
}

static int64_t sso2(int n1, int n2)
{
    int64_t st[] = {1, 2};
    int nr[] = {n1, n2};
    return mk_sso(st, nr, 2, E.now);
}

static int64_t sso3(int n1, int n2, int n3)
{
    int64_t st[] = {1, 2, 3};
    int nr[] = {n1, n2, n3};
    return mk_sso(st, nr, 3, E.now);
}

struct rcheck {
    int64_t stream, next;
    int bad, done, rc;
};

static int rec_fn(void *arg, const struct obj_record *r)
{
    struct rcheck *k = arg;
    if (r->stream != k->stream || r->len != REC || (k->next >= 0 && r->base != k->next))
        k->bad++;
    for (size_t i = 0; i < r->len && !k->bad; i++)
        if (r->payload[i] != pay(r->stream, r->base, i))
            k->bad++;
    k->next = r->base + r->count;
    return 0;
}

static void done_fn(void *arg, int rc, int64_t next)
{
    struct rcheck *k = arg;
    (void)next;
    k->done++;
    k->rc = rc;
}

/* Every live stream reads back, from its start to its end, byte for byte. */
static void verify(void)
{
    fs3_fault_heal(F, NULL);
    for (int64_t s = 1; s <= 4; s++) {
        const struct meta_stream *ms = meta_stream_get(M, s);
        if (ms->state == META_STREAM_DELETED || ms->end == ms->start)
            continue;
        struct rcheck k = {s, -1, 0, 0, 0};
        struct rd_conf rc = {&E.env, s3c_ops(CL), MD, 0, 0, -1, false};
        ck_assert_int_eq(rd_read_start(&rc, s, ms->start, ms->end, rec_fn, done_fn, &k, NULL), 0);
        while (!k.done && clenv_step(&E))
            ;
        ck_assert_int_eq(k.done, 1);
        ck_assert_int_eq(k.rc, 0);
        ck_assert_int_eq(k.bad, 0);
        ck_assert_int_eq(k.next, ms->end);
    }
}

static enum meta_state state_of(int64_t id)
{
    const struct meta_object *o = meta_object_get(M, id);
    ck_assert_ptr_nonnull(o);
    return o->state;
}

struct counts {
    int prepared, sso, stream, marked;
};

static int count_fn(void *arg, const struct meta_object *o)
{
    struct counts *c = arg;
    c->prepared += o->state == META_PREPARED;
    c->marked += o->state == META_MARKED;
    c->sso += o->state == META_COMMITTED && o->kind == META_KIND_SSO;
    c->stream += o->state == META_COMMITTED && o->kind == META_KIND_STREAM;
    return 0;
}

static struct counts counts(void)
{
    struct counts c = {0, 0, 0, 0};
    meta_foreach(M, count_fn, &c);
    return c;
}

static void run_for(int64_t us) { clenv_run_until(&E, E.now + us); }

static void compact(bool force)
{
    ck_assert_int_eq(cmp_compact_now(C, force), 0);
    ck_assert(!cmp_idle(C));
    run_for(30 * MIN);
}

static void add_fault(const char *op, int64_t after, int status)
{
    struct fs3_rule r;
    fs3_rule_init(&r);
    r.op = s3_op_parse(op);
    if (after >= 0) {
        r.match = FS3_MATCH_AFTER;
        r.n = after;
    }
    r.effect = FS3_EFF_STATUS;
    r.status = status;
    ck_assert_int_eq(fs3_fault_add(F, &r), 0);
}

/* After a failed run: nothing committed, every buffer freed, no upload open
 * (upload.abort.on.release; AutoMQ leaves `open` uploads open). */
static void assert_failure_open(const int64_t *inputs, size_t n, size_t open)
{
    ck_assert_uint_eq(MET.sso_failures, 1);
    ck_assert_uint_eq(MET.sso_commits, 0);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(state_of(inputs[i]), META_COMMITTED);
    struct counts c = counts();
    ck_assert_int_eq(c.sso, (int)n);
    ck_assert_int_eq(c.stream, 0);
    ck_assert_int_gt(c.prepared, 0); /* left to the TTL expiry */
    ck_assert_uint_eq(MEM.now, 0);
    ck_assert_uint_eq(fs3_nuploads(S), open);
    ck_assert(cmp_idle(C));
}

static void assert_clean_failure(const int64_t *inputs, size_t n)
{
    assert_failure_open(inputs, n, 0);
}

/* ---- Execution tests. ---------------------------------------------------------------------- */

START_TEST(cmp_exec_compacts_shared_streams)
{
    int64_t a = sso2(10, 10), b = sso2(10, 10);
    uint64_t in_bytes = fs3_nbytes(S); /* the two inputs, indexes included */
    start();
    compact(false);
    ck_assert_uint_eq(MET.sso_runs, 1);
    ck_assert_uint_eq(MET.sso_commits, 1);
    ck_assert_uint_eq(MET.sso_failures, 0);
    ck_assert_int_eq(state_of(a), META_MARKED);
    ck_assert_int_eq(state_of(b), META_MARKED);
    struct counts c = counts();
    ck_assert_int_eq(c.sso, 1);
    ck_assert_int_eq(c.prepared, 0);
    ck_assert_uint_eq(MEM.now, 0);
    ck_assert_uint_gt(MEM.peak, 0);
    /* Each byte counted once: by the cache until its block is handed to the
     * writer, then by the writer's part, its bytes exactly (no doubling
     * capacity): never more than the inputs plus the new, smaller index. */
    ck_assert_uint_le(MEM.peak, in_bytes);
    ck_assert_uint_eq(fs3_nuploads(S), 0);
    ck_assert(cmp_idle(C));
    verify();
}
END_TEST

static int new_sso_fn(void *arg, const struct meta_object *o)
{
    const struct meta_object **out = arg;
    if (o->kind == META_KIND_SSO && o->state == META_COMMITTED)
        *out = o;
    return 0;
}

/* The new SSO's orderId is the id of the newest candidate (AutoMQ's request orderId, reference
 * 5.4), not the smallest orderId of its inputs. */
START_TEST(cmp_exec_order_id_newest_candidate)
{
    int64_t a = sso2(10, 10), b = sso2(10, 10);
    const struct meta_object *o = NULL;
    start();
    compact(false);
    ck_assert_uint_eq(MET.sso_commits, 1);
    meta_foreach(M, new_sso_fn, &o);
    ck_assert_ptr_nonnull(o);
    ck_assert_int_gt(o->id, b);
    ck_assert_int_eq(o->order_id, b);
    ck_assert_int_ne(o->order_id, a);
}
END_TEST

START_TEST(cmp_exec_multi_plan_split_and_compact)
{
    /* Stream 1 is large (split into stream objects), 2 and 3 small (new SSO);
     * a 16 KiB cache makes many plans. */
    knob("s3.stream.set.object.compaction.cache.size", "16KiB");
    knob("s3.stream.set.object.compaction.stream.split.size", "40KiB");
    int64_t in[3];
    for (int i = 0; i < 3; i++)
        in[i] = sso3(30, 5, 5);
    start();
    compact(false);
    ck_assert_uint_eq(MET.sso_commits, 1);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(state_of(in[i]), META_MARKED);
    struct counts c = counts();
    ck_assert_int_eq(c.sso, 1);
    ck_assert_int_ge(c.stream, 2);
    ck_assert_uint_eq(MEM.now, 0);
    /* memory: the plan's reads (<= cache) + what the writers hold */
    ck_assert_uint_le(MEM.peak, 16 * KB + 256 * KB + 64 * KB);
    verify();
}
END_TEST

START_TEST(cmp_exec_read_failure_releases)
{
    knob("upload.abort.on.release", "true");
    knob("s3.object.multipart.threshold", "64KiB");
    knob("s3.stream.set.object.compaction.cache.size", "32KiB");
    knob("s3.stream.set.object.compaction.stream.split.size", "1MiB");
    int64_t in[3];
    for (int i = 0; i < 3; i++)
        in[i] = sso2(40, 40);
    add_fault("get", 3 + 8, 404); /* the indexes read fine, plan 5's read fails */
    start();
    compact(false);
    assert_clean_failure(in, 3);
    verify();
}
END_TEST

START_TEST(cmp_exec_upload_failure_releases)
{
    knob("upload.abort.on.release", "true");
    knob("s3.object.multipart.threshold", "64KiB");
    knob("s3.stream.set.object.compaction.stream.split.size", "1MiB");
    int64_t in[3];
    for (int i = 0; i < 3; i++)
        in[i] = sso2(20, 20);
    add_fault("mpu-part", -1, 404);
    start();
    compact(false);
    assert_clean_failure(in, 3);
    verify();
}
END_TEST

/* AutoMQ (upload.abort.on.release false, the automq default): the failed run's writer is released
 * without AbortMultipartUpload; its upload stays open for a bucket lifecycle rule. */
START_TEST(cmp_exec_read_failure_leaves_upload_open)
{
    knob("s3.object.multipart.threshold", "64KiB");
    knob("s3.stream.set.object.compaction.cache.size", "32KiB");
    knob("s3.stream.set.object.compaction.stream.split.size", "1MiB");
    int64_t in[3];
    for (int i = 0; i < 3; i++)
        in[i] = sso2(40, 40);
    add_fault("get", 3 + 8, 404);
    start();
    compact(false);
    assert_failure_open(in, 3, 1);
}
END_TEST

START_TEST(cmp_exec_complete_500_retried)
{
    knob("s3.object.multipart.threshold", "64KiB");
    knob("s3.stream.set.object.compaction.stream.split.size", "1MiB");
    for (int i = 0; i < 3; i++)
        sso2(20, 20);
    struct fs3_rule r;
    fs3_rule_init(&r);
    r.op = S3_OP_MPU_COMPLETE;
    r.effect = FS3_EFF_STATUS;
    r.status = 500;
    r.times = 1;
    ck_assert_int_eq(fs3_fault_add(F, &r), 0);
    start();
    compact(false);
    ck_assert_uint_eq(MET.sso_commits, 1);
    ck_assert_uint_eq(fs3_fault_hits(F, S3_OP_MPU_COMPLETE, FS3_EFF_STATUS), 1);
    ck_assert_uint_eq(fs3_nuploads(S), 0);
    verify();
}
END_TEST

START_TEST(cmp_exec_f01_parked_bytes_hang)
{
    knob("compaction.flush.each.batch", "false");
    sso2(10, 10);
    sso2(10, 10);
    start();
    compact(false);
    ck_assert_uint_eq(MET.sso_commits, 0);
    ck_assert(!cmp_idle(C));
    const char *w = clenv_find_wait(&E, "only close uploads it");
    ck_assert_msg(w != NULL, "no wait names the parked bytes");
    ck_assert_ptr_nonnull(strstr(w, "waiting for"));
}
END_TEST

/* F24 (before #2095): every stream of the SSOs is deleted: the run returns
 * early and the SSOs stay; fixed: they are compacted away (marked). */
static void f24(bool bug)
{
    struct meta_counts mc;
    if (bug)
        knob("compaction.sso.without.streams", "false");
    sso2(20, 20);
    sso2(20, 20);
    ck_assert_int_eq(meta_stream_delete(M, 1, E.now), 0);
    ck_assert_int_eq(meta_stream_delete(M, 2, E.now), 0);
    start();
    compact(false);
    meta_count(M, &mc);
    ck_assert_uint_eq(MET.sso_commits, bug ? 0 : 1);
    ck_assert_uint_eq(mc.sso, bug ? 2 : 0);
    ck_assert(cmp_idle(C));
}

START_TEST(cmp_exec_f24_fixed_compacts_away)
{
    f24(false);
}
END_TEST

START_TEST(cmp_exec_f24_no_streams_returns)
{
    f24(true);
}
END_TEST

/* F29 (before #400): index reads that fail (404 here) make the SSOs count as
 * missing objects; the run lists them as compacted and the sanity check
 * refuses it.  Fixed: they are left out, the run does nothing and fails not. */
static void f29(bool bug)
{
    struct meta_counts mc;
    if (bug)
        knob("compaction.index.error.skip", "false");
    sso2(20, 20);
    sso2(20, 20);
    add_fault("get", -1, 404);
    start();
    compact(false);
    meta_count(M, &mc);
    ck_assert_uint_eq(MET.sso_commits, 0);
    ck_assert_uint_eq(MET.sso_failures, bug ? 1 : 0);
    ck_assert_uint_eq(mc.sso, 2);
    ck_assert_uint_eq(mc.marked, 0);
    ck_assert(cmp_idle(C));
}

START_TEST(cmp_exec_f29_index_error_skipped)
{
    f29(false);
}
END_TEST

START_TEST(cmp_exec_f29_index_error_missing)
{
    f29(true);
}
END_TEST

START_TEST(cmp_exec_f02_release_waits_pending_hang)
{
    knob("compaction.release.waits.pending", "true");
    knob("s3.object.multipart.threshold", "64KiB");
    knob("s3.stream.set.object.compaction.cache.size", "32KiB");
    knob("s3.stream.set.object.compaction.stream.split.size", "1MiB");
    for (int i = 0; i < 3; i++)
        sso2(40, 40);
    add_fault("get", 3 + 8, 404);
    start();
    compact(false);
    ck_assert_uint_eq(MET.sso_commits, 0);
    ck_assert(!cmp_idle(C));
    ck_assert_ptr_nonnull(clenv_find_wait(&E, "releasing"));
}
END_TEST

START_TEST(cmp_exec_f03_waiters_hang)
{
    knob("compaction.complete.waiters.on.error", "false");
    knob("s3.object.multipart.threshold", "64KiB");
    knob("s3.stream.set.object.compaction.stream.split.size", "1MiB");
    for (int i = 0; i < 3; i++)
        sso2(20, 20);
    add_fault("mpu-part", -1, 404);
    start();
    compact(false);
    ck_assert_uint_eq(MET.sso_commits, 0);
    ck_assert(!cmp_idle(C));
}
END_TEST

START_TEST(cmp_exec_force_split_old)
{
    int64_t a = sso2(10, 10);
    int64_t st[] = {3};
    int nr[] = {7};
    int64_t b = mk_sso(st, nr, 1, E.now);
    run_for(121 * MIN);
    start();
    compact(false);
    ck_assert_uint_eq(MET.force_splits, 2);
    ck_assert_uint_eq(MET.sso_commits, 0);
    ck_assert_int_eq(state_of(a), META_MARKED);
    ck_assert_int_eq(state_of(b), META_MARKED);
    struct counts c = counts();
    ck_assert_int_eq(c.sso, 0);
    ck_assert_int_eq(c.stream, 3);
    ck_assert_int_eq(c.prepared, 0);
    verify();
}
END_TEST

START_TEST(cmp_exec_force_flag_splits_young)
{
    int64_t a = sso2(10, 10);
    start();
    compact(true);
    ck_assert_uint_eq(MET.force_splits, 1);
    ck_assert_int_eq(state_of(a), META_MARKED);
    verify();
}
END_TEST

static void f15(bool bug)
{
    if (bug)
        knob("force.split.wait.close", "false");
    int64_t a = sso2(10, 10);
    struct fs3_rule r;
    fs3_rule_init(&r);
    r.op = S3_OP_PUT;
    r.kind_mask = FS3_KIND_PREPARED;
    r.effect = FS3_EFF_STATUS;
    r.status = 404;
    ck_assert_int_eq(fs3_fault_add(F, &r), 0);
    start();
    compact(true);
    struct counts c = counts();
    if (!bug) {
        ck_assert_uint_eq(MET.force_splits, 0);
        ck_assert_uint_eq(MET.sso_failures, 1);
        ck_assert_int_eq(state_of(a), META_COMMITTED);
        ck_assert_int_eq(c.stream, 0);
        verify();
        return;
    }
    /* The old behaviour: committed, but the stream objects' keys never came. */
    ck_assert_uint_eq(MET.force_splits, 1);
    ck_assert_int_eq(state_of(a), META_MARKED);
    ck_assert_int_eq(c.stream, 2);
    for (int64_t id = a + 1; id < meta_next_id(M); id++)
        if (meta_object_get(M, id) && meta_object_get(M, id)->kind == META_KIND_STREAM)
            ck_assert(!fs3_key_exists(S, meta_object_get(M, id)->key, NULL));
}

START_TEST(cmp_exec_f15_commit_waits_upload) { f15(false); }
END_TEST

START_TEST(cmp_exec_f15_field_bug_commits_early) { f15(true); }
END_TEST

START_TEST(cmp_exec_f20_id_zero_as_none)
{
    teardown();
    world(true);
    int64_t a = sso2(10, 10), b = sso2(5, 5);
    ck_assert_int_eq(a, 0);
    start();
    compact(true); /* force split: no SSO output, the request's id is "none" */
    /* id 0 is a committed SSO: the controller takes the commit for a retry
     * and changes nothing; the stream objects stay prepared. */
    ck_assert_int_eq(state_of(b), META_COMMITTED);
    ck_assert_int_gt(counts().prepared, 0);
}
END_TEST

START_TEST(cmp_exec_trim_and_deleted_streams)
{
    int64_t a = sso3(10, 10, 10), b = sso3(10, 10, 10);
    ck_assert_int_eq(meta_trim(M, 1, 7), 0);                   /* mid-object, mid-block */
    ck_assert_int_eq(meta_stream_delete(M, 3, E.now), 0);
    start();
    compact(false);
    ck_assert_uint_eq(MET.sso_commits, 1);
    ck_assert_int_eq(state_of(a), META_MARKED);
    ck_assert_int_eq(state_of(b), META_MARKED);
    verify();
    /* The new SSO has no range of the deleted stream. */
    for (int64_t id = b + 1; id < meta_next_id(M); id++) {
        const struct meta_object *o = meta_object_get(M, id);
        if (o && o->kind == META_KIND_SSO)
            for (size_t i = 0; i < o->nranges; i++)
                ck_assert_int_ne(o->ranges[i].stream, 3);
    }
}
END_TEST

START_TEST(cmp_exec_stream_deleted_during_run)
{
    knob("s3.stream.set.object.compaction.stream.split.size", "8KiB");
    sso2(10, 3);
    sso2(10, 3);
    struct fs3_rule r;
    fs3_rule_init(&r);
    r.op = S3_OP_GET;
    r.match = FS3_MATCH_AFTER;
    r.n = 2;
    r.effect = FS3_EFF_DELAY;
    r.delay_us = 5 * SEC;
    ck_assert_int_eq(fs3_fault_add(F, &r), 0);
    start();
    ck_assert_int_eq(cmp_compact_now(C, false), 0);
    run_for(2 * SEC);
    ck_assert(!cmp_idle(C));
    ck_assert_int_eq(meta_stream_delete(M, 1, E.now), 0);
    run_for(30 * MIN);
    ck_assert_uint_eq(MET.sso_commits, 1);
    /* stream 1's new stream object was destroyed at commit */
    int live1 = 0, marked = 0;
    for (int64_t id = 0; id < meta_next_id(M); id++) {
        const struct meta_object *o = meta_object_get(M, id);
        if (o && o->kind == META_KIND_STREAM && o->stream == 1) {
            live1 += o->state == META_COMMITTED;
            marked += o->state == META_MARKED;
        }
    }
    ck_assert_int_eq(live1, 0);
    ck_assert_int_ge(marked, 1);
    verify();
}
END_TEST

START_TEST(cmp_exec_crash_mid_run)
{
    knob("s3.stream.set.object.compaction.cache.size", "16KiB");
    sso3(30, 5, 5);
    sso3(30, 5, 5);
    struct fs3_rule r;
    fs3_rule_init(&r);
    r.op = S3_OP_GET;
    r.match = FS3_MATCH_AFTER;
    r.n = 4;
    r.times = 1;
    r.effect = FS3_EFF_DELAY;
    r.delay_us = 5 * SEC;
    ck_assert_int_eq(fs3_fault_add(F, &r), 0);
    start();
    ck_assert_int_eq(cmp_compact_now(C, false), 0);
    run_for(1 * SEC);
    ck_assert(!cmp_idle(C));
    cmp_free(C); /* the broker crashed: no callback runs */
    C = NULL;
    ck_assert_uint_eq(MEM.now, 0);
    struct cmp_conf cc;
    cmp_conf_from(&cc, &CONF);
    struct cmp_deps d = {&E.env, s3c_ops(CL), MD, &CONF, &MEM, &MET};
    ck_assert_int_eq(cmp_new(&d, &cc, &C), 0);
    compact(false);
    ck_assert_uint_eq(MET.sso_commits, 1);
    ck_assert_uint_eq(MEM.now, 0);
    verify();
}
END_TEST

START_TEST(cmp_exec_commit_rejected_commits_nothing)
{
    /* An input is marked behind the compactor's back while it reads: the
     * controller rejects the commit; the outputs stay prepared (TTL), every
     * writer and buffer is released. */
    int64_t a = sso2(10, 10), b = sso2(10, 10);
    struct fs3_rule r;
    fs3_rule_init(&r);
    r.op = S3_OP_GET;
    r.match = FS3_MATCH_AFTER;
    r.n = 2;
    r.effect = FS3_EFF_DELAY;
    r.delay_us = 3 * SEC;
    ck_assert_int_eq(fs3_fault_add(F, &r), 0);
    start();
    ck_assert_int_eq(cmp_compact_now(C, false), 0);
    run_for(1 * SEC);
    enum meta_op op = META_OP_DELETE;
    ck_assert_int_eq(meta_mark(M, &b, &op, 1, E.now), 0);
    run_for(30 * MIN);
    ck_assert_uint_eq(MET.sso_failures, 1);
    ck_assert_uint_eq(MET.sso_commits, 0);
    ck_assert_int_eq(state_of(a), META_COMMITTED);
    struct counts c = counts();
    ck_assert_int_eq(c.sso, 1);
    ck_assert_int_eq(c.prepared, 1);
    ck_assert_uint_eq(MEM.now, 0);
    ck_assert_uint_eq(fs3_nuploads(S), 0);
    ck_assert(cmp_idle(C));
}
END_TEST

START_TEST(cmp_exec_failed_split_does_not_stop_others)
{
    int64_t a = sso2(10, 10), b = sso2(10, 10);
    struct fs3_rule r;
    fs3_rule_init(&r);
    r.op = S3_OP_PUT;
    r.kind_mask = FS3_KIND_PREPARED;
    r.match = FS3_MATCH_NTH;
    r.n = 1;
    r.effect = FS3_EFF_STATUS;
    r.status = 404;
    ck_assert_int_eq(fs3_fault_add(F, &r), 0);
    start();
    compact(true);
    ck_assert_uint_eq(MET.force_splits, 1);
    ck_assert_uint_eq(MET.sso_failures, 1);
    ck_assert_int_eq((state_of(a) == META_MARKED) + (state_of(b) == META_MARKED), 1);
    ck_assert_uint_eq(MEM.now, 0);
    ck_assert_uint_eq(fs3_nuploads(S), 0);
    verify();
}
END_TEST

START_TEST(cmp_exec_schedule)
{
    knob("s3.stream.set.object.compaction.interval.minutes", "5");
    knob("s3.stream.set.object.compaction.max.num", "2");
    start();
    run_for(5 * MIN - SEC);
    ck_assert_uint_eq(MET.sso_runs, 0);
    run_for(2 * SEC);
    ck_assert_uint_eq(MET.sso_runs, 1); /* nothing to do */
    sso2(1, 1);
    sso2(1, 1);
    sso2(1, 1);
    run_for(5 * MIN);
    ck_assert_uint_eq(MET.sso_runs, 2);
    ck_assert_uint_eq(MET.sso_commits, 1); /* the two newest; the list was truncated */
    run_for(11 * SEC);
    ck_assert_uint_eq(MET.sso_runs, 3); /* 10 s later */
    ck_assert_uint_eq(MET.sso_commits, 2);
    verify();
}
END_TEST


/* Out of memory in a force split (in the spirit of SQLite's malloc tests): the nth allocation
 * after the run starts fails, for each n in turn.  The run ends (a job whose prepare could not
 * even be sent fails, never waits for an answer no request will bring), it leaves no S3 call in
 * flight and no buffer counted.  What the controller and the fake make of their own allocation
 * failures is not judged here.  A compaction job is left out: a writer whose 0-delay delivery
 * timer cannot be allocated never delivers its ready waiters (writer.c wr_schedule_deliver),
 * and the plan then waits for its flush for ever. */
START_TEST(cmp_exec_out_of_memory_ends_the_run)
{
    uint64_t n, failed = 0;
    for (n = 1; n <= 20000; n++) {
        uint64_t injected;
        int rc;
        teardown();
        setup();
        sso2(10, 10);
        sso2(10, 10);
        start();
        sim_alloc_fail_nth(n);
        rc = cmp_compact_now(C, true);
        run_for(30 * MIN);
        injected = sim_alloc_injected();
        sim_alloc_fail_off();
        ck_assert_msg(cmp_idle(C), "allocation %llu failed: the run never ends (%s)",
                      (unsigned long long)n, E.waits.n ? E.waits.v[0].what : "no wait");
        ck_assert(rc == 0 || rc == ERR_NOMEM);
        ck_assert_uint_eq(fs3_inflight(S), 0);
        ck_assert_uint_eq(MEM.now, 0);
        if (!injected)
            break;
        failed++;
    }
    ck_assert_uint_lt(n, 20000);
    ck_assert_uint_ge(failed, 20); /* a run allocates (and so was failed) many times */
}
END_TEST

START_TEST(cmp_exec_out_of_memory_commits_what_it_built)
{
    /* A compaction run (force split, then SSO compaction) under the nth
     * allocation failing, each n: the run ends, and whatever it committed
     * reads back: every stream from its start to its end, byte for byte (an
     * index entry of a committed object points at the block's bytes).
     * write_block indexes a block once the writer returned 0, also a write
     * the writer then refuses by its callback (ERR_NOMEM: not appended): that
     * callback must fail the job before anything is committed.  Blocks above
     * WR_REF_MIN take the writer's by-reference path too.  Under ASan every
     * failure path frees what it took (the fake S3's UploadPart too). */
    for (int force = 1; force >= 0; force--) {
        uint64_t n, failed = 0;
        for (n = 1; n <= 20000; n++) {
            uint64_t injected;
            int rc;
            teardown();
            setup();
            BLOCK = 20000; /* blocks of 20 records: above WR_REF_MIN, written by reference */
            sso2(20, 1);
            sso3(40, 20, 20);
            BLOCK = 4096;
            knob("s3.object.multipart.threshold", "64KiB"); /* the SSO is uploaded in parts */
            start();
            sim_alloc_fail_nth(n);
            rc = cmp_compact_now(C, force);
            run_for(30 * MIN);
            injected = sim_alloc_injected();
            sim_alloc_fail_off();
            ck_assert_msg(cmp_idle(C), "%s, allocation %llu failed: the run never ends (%s)",
                          force ? "split" : "compaction", (unsigned long long)n,
                          E.waits.n ? E.waits.v[0].what : "no wait");
            ck_assert(rc == 0 || rc == ERR_NOMEM);
            verify();
            ck_assert_uint_eq(fs3_inflight(S), 0);
            if (!injected)
                break;
            failed++;
        }
        ck_assert_uint_lt(n, 20000);
        ck_assert_uint_ge(failed, 20);
    }
}
END_TEST


/* ---- Suite. ----------------------------------------------------------------------------------- */

static Suite *cmp_exec_suite(void)
{
    Suite *s = suite_create("cmp_exec");
    TCase *te = tcase_create("exec");
    tcase_add_checked_fixture(te, setup, teardown);
    tcase_set_timeout(te, 60);
    tcase_add_test(te, cmp_exec_compacts_shared_streams);
    tcase_add_test(te, cmp_exec_multi_plan_split_and_compact);
    tcase_add_test(te, cmp_exec_read_failure_releases);
    tcase_add_test(te, cmp_exec_upload_failure_releases);
    tcase_add_test(te, cmp_exec_read_failure_leaves_upload_open);
    tcase_add_test(te, cmp_exec_order_id_newest_candidate);
    tcase_add_test(te, cmp_exec_complete_500_retried);
    tcase_add_test(te, cmp_exec_f01_parked_bytes_hang);
    tcase_add_test(te, cmp_exec_f02_release_waits_pending_hang);
    tcase_add_test(te, cmp_exec_f24_fixed_compacts_away);
    tcase_add_test(te, cmp_exec_f24_no_streams_returns);
    tcase_add_test(te, cmp_exec_f29_index_error_skipped);
    tcase_add_test(te, cmp_exec_f29_index_error_missing);
    tcase_add_test(te, cmp_exec_f03_waiters_hang);
    tcase_add_test(te, cmp_exec_force_split_old);
    tcase_add_test(te, cmp_exec_force_flag_splits_young);
    tcase_add_test(te, cmp_exec_f15_commit_waits_upload);
    tcase_add_test(te, cmp_exec_f15_field_bug_commits_early);
    tcase_add_test(te, cmp_exec_f20_id_zero_as_none);
    tcase_add_test(te, cmp_exec_trim_and_deleted_streams);
    tcase_add_test(te, cmp_exec_stream_deleted_during_run);
    tcase_add_test(te, cmp_exec_crash_mid_run);
    tcase_add_test(te, cmp_exec_commit_rejected_commits_nothing);
    tcase_add_test(te, cmp_exec_failed_split_does_not_stop_others);
    tcase_add_test(te, cmp_exec_schedule);
    tcase_add_test(te, cmp_exec_out_of_memory_ends_the_run);
    tcase_add_test(te, cmp_exec_out_of_memory_commits_what_it_built);
    suite_add_tcase(s, te);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cmp_exec_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
