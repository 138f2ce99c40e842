/* test_ctl.c - the controller boundary: the metadata log and its replay (snapshot + log), the
 * broker's image and its lag, F05's append mode, and the comparison of two stores. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "ctl.h"
#include "err.h"
#include "mdc.h"
#include "meta.h"
#include "obj.h"
#include "testenv.h"

#define MS ENV_USEC_PER_MS
#define HOUR ENV_USEC_PER_HOUR

static struct tenv T;
static struct ctl *C;
static struct mdc *D;

static void setup_with(int64_t snapshot_records, int64_t lag_us)
{
    struct ctl_conf cc;
    struct mdc_conf dc = {.lag_us = lag_us};
    tenv_init(&T, 7);
    memset(&cc, 0, sizeof cc);
    cc.meta.ns = "_kafka_t";
    cc.snapshot_records = snapshot_records;
    ck_assert_int_eq(ctl_new(&T.env, &cc, &C), 0);
    for (int s = 1; s <= 3; s++)
        ck_assert_int_eq(ctl_stream_create(C, s), 0);
    ck_assert_int_eq(mdc_new(&T.env, C, &dc, &D), 0);
}

static void teardown(void)
{
    mdc_free(D);
    ctl_free(C);
    tenv_free(&T);
}

/* Asserts a equals b (meta_diff), printing the first difference. */
static void same(const struct meta *a, const struct meta *b)
{
    char why[200] = "";
    ck_assert_msg(meta_diff(a, b, why, sizeof why) == 0, "stores differ: %s", why);
}

/* ---- A random workload of every operation. ---- */

struct pick {
    int64_t ids[4];
    size_t n;
    enum meta_kind kind;
    int64_t stream;
};

static int pick_fn(void *arg, const struct meta_object *o)
{
    struct pick *p = arg;
    if (o->state == META_COMMITTED && o->kind == p->kind &&
        (p->stream < 0 || o->stream == p->stream) && p->n < 2)
        p->ids[p->n++] = o->id;
    return 0;
}

static struct pick pick(enum meta_kind kind, int64_t stream)
{
    struct pick p = {{0}, 0, kind, stream};
    meta_foreach(ctl_store(C), pick_fn, &p);
    return p;
}

struct tally {
    int ok[8], fail[8];
};

static void upload(struct tally *t, uint64_t req, int k)
{
    const struct meta *m = ctl_store(C);
    int64_t first;
    const struct meta_stream *s1 = meta_stream_get(m, 1), *s3 = meta_stream_get(m, 3);
    struct meta_range r[2];
    struct meta_so so;
    struct meta_sso_commit c = {.req_id = req, .order_id = -1, .size = 100};
    size_t nr = 0;
    int rc;
    ck_assert_int_eq(ctl_prepare(C, 2, HOUR, env_now(&T.env), &first), 0);
    r[nr++] = (struct meta_range){1, s1->end, s1->end + 10};
    if (meta_stream_get(m, 2)->state != META_STREAM_DELETED) {
        const struct meta_stream *s2 = meta_stream_get(m, 2);
        r[nr++] = (struct meta_range){2, s2->end, s2->end + 5};
    }
    so = (struct meta_so){first + 1, 50, 3, s3->end, s3->end + 20, 0};
    c.id = first;
    c.ranges = r;
    c.nranges = nr;
    c.sos = &so;
    c.nsos = 1;
    rc = ctl_commit_sso(C, &c, env_now(&T.env));
    rc == 0 ? t->ok[k]++ : t->fail[k]++;
}

static void workload_step(struct tally *t, uint64_t r)
{
    int64_t now = env_now(&T.env), id;
    struct pick p;
    int rc = -1;
    switch (r % 7) {
    case 0:
    case 1: upload(t, r | 1, (int)(r % 7)); return;
    case 2: /* SSO compaction: two SSOs into nothing (a force-split shape, id -1) */
        p = pick(META_KIND_SSO, -1);
        if (p.n == 2) {
            struct meta_sso_commit c = {.req_id = r | 1, .id = -1, .order_id = -1,
                                        .compacted = p.ids, .ncompacted = 2};
            rc = ctl_commit_sso(C, &c, now);
        }
        break;
    case 3: /* stream object compaction of stream 3: a composite linking two, or a merge */
        p = pick(META_KIND_STREAM, 3);
        if (p.n == 2) {
            const struct meta_object *a = meta_object_get(ctl_store(C), p.ids[0]);
            const struct meta_object *b = meta_object_get(ctl_store(C), p.ids[1]);
            bool comp = (r >> 8) & 1;
            enum meta_op ops[2] = {comp ? META_OP_KEEP_DATA : META_OP_DELETE,
                                   comp ? META_OP_KEEP_DATA : META_OP_DELETE};
            struct meta_link l[2] = {{a->id, a->start, a->end, a->size, ""},
                                     {b->id, b->start, b->end, b->size, ""}};
            struct meta_stream_commit c = {.req_id = r | 1, .stream = 3, .epoch = -1,
                                           .start = a->start, .end = b->end,
                                           .sources = p.ids, .ops = ops, .nsources = 2};
            ck_assert_int_eq(ctl_prepare(C, 1, HOUR, now, &id), 0);
            c.id = id;
            c.size = a->size + b->size;
            if (comp) {
                c.attributes = META_ATTR_TYPE_COMPOSITE;
                c.links = l;
                c.nlinks = 2;
            }
            rc = ctl_commit_stream(C, &c, now);
        }
        break;
    case 4: /* the cleaner: marked objects removed */
    {
        int64_t ids[16];
        size_t n = ctl_marked(C, ids, 16);
        if (n)
            rc = ctl_remove(C, ids, n, NULL);
        break;
    }
    case 5: /* trim, and prepared objects left to expire */
        rc = ctl_trim(C, 1, meta_stream_get(ctl_store(C), 1)->end / 2);
        ck_assert_int_eq(ctl_prepare(C, 1, 10 * MS, now, &id), 0);
        break;
    case 6: rc = ctl_expire_prepared(C, now, 0, NULL, NULL) >= 0 ? 0 : -1; break;
    }
    rc == 0 ? t->ok[r % 7]++ : t->fail[r % 7]++;
}

static void workload(int steps, bool check_image_each)
{
    struct tally t;
    memset(&t, 0, sizeof t);
    for (int i = 0; i < steps; i++) {
        uint64_t r = env_rand(&T.env);
        tenv_run_until(&T, env_now(&T.env) + 20 * MS);
        if (i == steps / 2 && meta_stream_get(ctl_store(C), 2)->state != META_STREAM_DELETED)
            ck_assert_int_eq(ctl_stream_delete(C, 2, env_now(&T.env)), 0);
        workload_step(&t, r);
        if (check_image_each)
            same(ctl_store(C), mdc_image(D));
    }
    for (int k = 0; k < 7 && steps >= 100; k++) /* a long run exercises every operation */
        ck_assert_msg(t.ok[k] > 0, "operation %d never succeeded", k);
}

/* With no lag the image equals the controller's state after every operation: the records of
 * each operation carry all it changed. */
START_TEST(ctl_image_follows_log)
{
    struct meta_counts mc;
    setup_with(1000000, 0);
    workload(400, true);
    meta_count(ctl_store(C), &mc);
    ck_assert_uint_gt(mc.links, 0);
    ck_assert_uint_gt(mc.marked + mc.committed, 10);
    ck_assert_uint_eq(ctl_stats(C)->snapshots, 0);
    teardown();
}
END_TEST

/* Snapshots every 7 records: the log before the latest snapshot is dropped, and a replay of
 * snapshot + log (a failover) rebuilds exactly the lost state, request outcomes included. */
START_TEST(ctl_snapshot_and_log_replay)
{
    struct meta *r;
    size_t n;
    setup_with(7, 0);
    workload(300, false);
    ck_assert_uint_gt(ctl_stats(C)->snapshots, 10);
    ck_assert_ptr_null(ctl_log_at(C, 0)); /* truncated behind the snapshot */
    ck_assert_int_eq(ctl_replay(C, &r, &n), 0);
    same(ctl_store(C), r);
    meta_destroy(r);
    ck_assert_int_eq(ctl_failover(C), 0);
    ck_assert_uint_eq(ctl_stats(C)->failovers, 1);
    same(ctl_store(C), mdc_image(D));
    ck_assert_ptr_null(strstr(T.last_log, "differs"));
    /* the replayed controller goes on: a retried request (same id) answers as the first */
    workload(50, true);
    teardown();
}
END_TEST

/* A replay from the log alone (no snapshot yet) and one from a snapshot with an empty log
 * after it rebuild the same state. */
START_TEST(ctl_replay_log_only_and_snapshot_only)
{
    struct meta *a, *b;
    setup_with(1000000, 0);
    workload(120, false);
    ck_assert_int_eq(ctl_replay(C, &a, NULL), 0);
    ck_assert_int_eq(ctl_snapshot_now(C), 0);
    ck_assert_int_eq(ctl_replay(C, &b, NULL), 0);
    same(a, b);
    same(ctl_store(C), b);
    meta_destroy(a);
    meta_destroy(b);
    teardown();
}
END_TEST

/* Out of memory in the operation that brings the log to its first growth (64 batches): each
 * allocation of it fails in turn.  Whatever failed, the records of what the store changed are
 * never lost: after the next operation the log replays to the controller's state and the
 * image equals it (the journal keeps them, or writes the whole state, until a take succeeds). */
START_TEST(ctl_append_out_of_memory_keeps_records)
{
    for (uint64_t nth = 1;; nth++) {
        int64_t id;
        uint64_t injected;
        struct meta *r;
        setup_with(1000000, 0);
        while (ctl_log_end(C) < 64)
            ck_assert_int_eq(ctl_prepare(C, 1, HOUR, env_now(&T.env), &id), 0);
        ck_assert_int_eq(ctl_log_end(C), 64);
        sim_alloc_fail_nth(nth);
        (void)ctl_prepare(C, 2, HOUR, env_now(&T.env), &id);
        injected = sim_alloc_injected();
        sim_alloc_fail_off();
        ck_assert_int_eq(ctl_prepare(C, 3, HOUR, env_now(&T.env), &id), 0);
        ctl_sync(C);
        ck_assert_int_eq(ctl_replay(C, &r, NULL), 0);
        same(ctl_store(C), r);
        same(ctl_store(C), mdc_image(D));
        meta_destroy(r);
        teardown();
        if (injected == 0)
            break; /* the operation made fewer than nth allocations: all were failed once */
    }
}
END_TEST

/* meta_diff sees a diverged image: a record the image missed, and a field changed. */
START_TEST(ctl_diff_sees_divergence)
{
    struct meta *img;
    struct meta_rec *recs;
    size_t n;
    char why[200];
    setup_with(1000000, 0);
    workload(60, false);
    ck_assert_int_eq(ctl_replay(C, &img, NULL), 0);
    same(ctl_store(C), img);
    /* one more upload the image never applies */
    {
        struct tally t;
        upload(&t, 99, 0);
    }
    ck_assert_int_eq(meta_diff(ctl_store(C), img, why, sizeof why), 1);
    ck_assert_ptr_nonnull(strstr(why, "next object id"));
    meta_destroy(img);
    /* a field changed by a bad record */
    ck_assert_int_eq(ctl_replay(C, &img, NULL), 0);
    ck_assert_int_eq(meta_snapshot(ctl_store(C), &recs, &n), 0);
    for (size_t i = 0; i < n; i++) {
        if (recs[i].kind == META_REC_OBJECT && recs[i].obj->state == META_COMMITTED) {
            recs[i].obj->size += 1;
            ck_assert_int_eq(meta_apply(img, &recs[i], 1), 0);
            break;
        }
    }
    ck_assert_int_eq(meta_diff(ctl_store(C), img, why, sizeof why), 1);
    ck_assert_ptr_nonnull(strstr(why, "size"));
    meta_recs_free(recs, n);
    meta_destroy(img);
    teardown();
}
END_TEST

/* The image applies each batch after its lag, in log order, and catches up. */
START_TEST(ctl_image_lags)
{
    int64_t first, t0;
    setup_with(1000000, 10 * MS);
    t0 = env_now(&T.env);
    ck_assert_int_eq(ctl_prepare(C, 1, HOUR, t0, &first), 0);
    ck_assert_ptr_nonnull(meta_object_get(ctl_store(C), first));
    ck_assert_ptr_null(mdc_object_get(D, first)); /* not in the image yet */
    tenv_run_until(&T, t0 + 1 * MS);
    ck_assert_ptr_null(mdc_object_get(D, first)); /* the shortest lag is 0.2 x the median */
    tenv_run(&T);
    ck_assert_ptr_nonnull(mdc_object_get(D, first));
    ck_assert_int_gt(mdc_stats(D)->lag_max_us, 1 * MS);
    ck_assert_int_le(mdc_stats(D)->lag_max_us, 300 * MS);
    /* many batches, checked in order against the controller once all applied */
    workload(200, false);
    tenv_run(&T);
    same(ctl_store(C), mdc_image(D));
    teardown();
}
END_TEST

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The lag's distribution: median the knob, p99 ten times the median, a bounded tail. */
START_TEST(ctl_lag_distribution)
{
    enum { N = 100000 };
    int64_t *v = malloc(N * sizeof *v);
    uint64_t s = 1;
    ck_assert_ptr_nonnull(v);
    for (int i = 0; i < N; i++)
        v[i] = mdc_lag_draw(10 * MS, base_splitmix64(&s));
    qsort(v, N, sizeof *v, cmp_i64);
    ck_assert_int_ge(v[N / 2], 9500);
    ck_assert_int_le(v[N / 2], 10500);
    ck_assert_int_ge(v[N * 99 / 100], 95 * MS);
    ck_assert_int_le(v[N * 99 / 100], 105 * MS);
    ck_assert_int_ge(v[0], 2 * MS);
    ck_assert_int_le(v[N - 1], 300 * MS);
    ck_assert_int_eq(mdc_lag_draw(0, 12345), 0);
    free(v);
}
END_TEST

/* F05 (#3369): a snapshot loaded on a non-empty image in append mode lists every stream
 * object twice; upserting (the fix) does not. */
START_TEST(ctl_f05_append_mode_duplicates)
{
    struct meta *img;
    const struct meta_rec *snap;
    size_t n;
    int64_t off;
    struct meta_piece *p;
    size_t np;
    setup_with(1000000, 0);
    workload(80, false);
    ck_assert_int_eq(ctl_snapshot_now(C), 0);
    ctl_snapshot_get(C, &snap, &n, &off);
    ck_assert_int_eq(ctl_replay(C, &img, NULL), 0);
    ck_assert_int_eq(meta_apply(img, snap, n), 0); /* upsert: nothing listed twice */
    ck_assert_uint_eq(meta_listed_dups(img), 0);
    meta_set_append_mode(img, true);
    ck_assert_int_eq(meta_apply(img, snap, n), 0);
    ck_assert_uint_gt(meta_listed_dups(img), 0);
    same(ctl_store(C), img); /* the objects are the same: only the lists hold them twice */
    ck_assert_int_eq(meta_stream_pieces(img, 3, 0, INT64_MAX, &p, &np), 0);
    ck_assert_uint_ge(np, 2);
    {
        bool dup = false;
        for (size_t i = 1; i < np; i++)
            dup |= p[i].id == p[i - 1].id;
        ck_assert(dup);
    }
    free(p);
    meta_destroy(img);
    teardown();
}
END_TEST

/* ---- RPCs: retries of the same request, node epochs. ---- */

/* The fault hook of these tests: the next `lose` sends of op lose their answer, or each send
 * is delayed by `delay`. */
static struct {
    enum mdc_op op;
    int lose;
    int64_t delay;
} H;

static void hook(void *arg, enum mdc_op op, enum mdc_kind kind, struct mdc_fault *out)
{
    (void)arg;
    (void)kind;
    if (op != H.op)
        return;
    if (H.lose > 0) {
        H.lose--;
        out->effect = MDC_EFF_LOST;
    } else if (H.delay) {
        out->effect = MDC_EFF_DELAY;
        out->delay_us = H.delay;
    }
}

static void hook_set(enum mdc_op op, int lose, int64_t delay)
{
    H.op = op;
    H.lose = lose;
    H.delay = delay;
}

static int ANS_RC, ANS_N;
static int64_t ANS_FIRST;

static void answered(void *arg, int rc, int64_t first)
{
    (void)arg;
    ANS_RC = rc;
    ANS_FIRST = first;
    ANS_N++;
}

/* A committed stream object of stream 1 with offsets [a, e), made on the controller. */
static int64_t stream_object(int64_t a, int64_t e)
{
    int64_t id;
    struct meta_so so;
    struct meta_sso_commit c = {.id = -1, .order_id = -1, .sos = &so, .nsos = 1};
    ck_assert_int_eq(ctl_prepare(C, 1, HOUR, env_now(&T.env), &id), 0);
    so = (struct meta_so){id, 100, 1, a, e, META_ATTR_TYPE_NORMAL};
    ck_assert_int_eq(ctl_commit_sso(C, &c, env_now(&T.env)), 0);
    return id;
}

/* A lost answer: the broker sends the same request again after its timeout and the retry
 * meets what the first send did: a new object already committed (REDUNDANT_OPERATION, a
 * success), and an object id -1 request (a cleanup) whose request id the controller
 * remembers.  Without the dedupe (F06's field bug) the retried -1 request is refused. */
START_TEST(rpc_retries_are_idempotent)
{
    int64_t so1, so2, out, t0;
    struct meta_stream_commit c = {0};
    enum meta_op op = META_OP_DEEP_DELETE;
    setup_with(1000000, 0);
    mdc_set_fault_hook(D, hook, NULL);
    so1 = stream_object(0, 10);
    so2 = stream_object(10, 20);
    /* prepare: its answer lost, the retry prepares again (the first ids wait for their TTL) */
    hook_set(MDC_OP_PREPARE, 1, 0);
    t0 = env_now(&T.env);
    ANS_N = 0;
    ck_assert_int_eq(mdc_prepare(D, 1, HOUR, answered, NULL), 0);
    ck_assert_int_eq(ANS_N, 0); /* never inside the call */
    tenv_run_until(&T, t0 + 60 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(ANS_N, 1);
    ck_assert_int_eq(ANS_RC, 0);
    out = ANS_FIRST;
    ck_assert_int_eq(meta_object_get(ctl_store(C), out - 1)->state, META_PREPARED); /* leaked */
    ck_assert_uint_eq(mdc_rpc_stats(D)->calls[MDC_OP_PREPARE], 2);
    ck_assert_uint_eq(mdc_rpc_stats(D)->retries, 1);
    /* a commit with a new object id: the retry answers REDUNDANT_OPERATION */
    hook_set(MDC_OP_COMMIT_STREAM, 1, 0);
    c = (struct meta_stream_commit){.id = out, .size = 200, .stream = 1, .epoch = -1,
                                    .start = 0, .end = 20, .attributes = META_ATTR_TYPE_NORMAL,
                                    .sources = (int64_t[]){so1, so2},
                                    .ops = (enum meta_op[]){META_OP_DELETE, META_OP_DELETE},
                                    .nsources = 2};
    ANS_N = 0;
    ck_assert_int_eq(mdc_commit_stream(D, &c, answered, NULL), 0);
    tenv_run_until(&T, env_now(&T.env) + 60 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(ANS_N, 1);
    ck_assert(meta_ok(ANS_RC));
    ck_assert_int_eq(meta_object_get(ctl_store(C), out)->state, META_COMMITTED);
    ck_assert_int_eq(meta_object_get(ctl_store(C), so1)->state, META_MARKED);
    ck_assert_uint_eq(mdc_rpc_stats(D)->calls[MDC_OP_COMMIT_STREAM], 2);
    /* an id -1 cleanup with a request id: its retry is a success too */
    hook_set(MDC_OP_COMMIT_STREAM, 1, 0);
    ck_assert_int_eq(meta_trim(ctl_store_mut(C), 1, 20), 0);
    ctl_sync(C);
    c = (struct meta_stream_commit){.req_id = 77, .id = -1, .stream = 1, .epoch = -1,
                                    .sources = &out, .ops = &op, .nsources = 1};
    ANS_N = 0;
    ck_assert_int_eq(mdc_commit_stream(D, &c, answered, NULL), 0);
    tenv_run_until(&T, env_now(&T.env) + 60 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(ANS_N, 1);
    ck_assert(meta_ok(ANS_RC));
    ck_assert_int_eq(meta_object_get(ctl_store(C), out)->state, META_MARKED);
    ck_assert_uint_eq(mdc_rpc_stats(D)->calls[MDC_OP_COMMIT_STREAM], 4);
    ck_assert_uint_eq(mdc_rpc_stats(D)->retries, 3);
    teardown();
}
END_TEST

START_TEST(rpc_minus_one_retry_refused_without_dedupe)
{
    int64_t so1;
    struct meta_stream_commit c = {0};
    enum meta_op op = META_OP_DEEP_DELETE;
    struct ctl_conf cc;
    struct mdc_conf dc = {0};
    tenv_init(&T, 7);
    memset(&cc, 0, sizeof cc);
    cc.meta.ns = "_kafka_t";
    cc.meta.mark_not_idempotent = true; /* F06: AutoMQ's controller */
    cc.snapshot_records = 1000000;
    ck_assert_int_eq(ctl_new(&T.env, &cc, &C), 0);
    ck_assert_int_eq(ctl_stream_create(C, 1), 0);
    ck_assert_int_eq(mdc_new(&T.env, C, &dc, &D), 0);
    mdc_set_fault_hook(D, hook, NULL);
    so1 = stream_object(0, 10);
    ck_assert_int_eq(meta_trim(ctl_store_mut(C), 1, 10), 0);
    ctl_sync(C);
    hook_set(MDC_OP_COMMIT_STREAM, 1, 0);
    c = (struct meta_stream_commit){.req_id = 78, .id = -1, .stream = 1, .epoch = -1,
                                    .sources = &so1, .ops = &op, .nsources = 1};
    ANS_N = 0;
    ck_assert_int_eq(mdc_commit_stream(D, &c, answered, NULL), 0);
    tenv_run_until(&T, env_now(&T.env) + 60 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(ANS_N, 1);
    ck_assert_int_eq(ANS_RC, ERR_NOTFOUND); /* COMPACTED_OBJECTS_NOT_FOUND although applied */
    ck_assert_int_eq(meta_object_get(ctl_store(C), so1)->state, META_MARKED);
    teardown();
}
END_TEST

/* A WAL upload whose data all went to one stream object commits with object id -1; its answer
 * is lost and, before the retry, a compaction on the controller marks that stream object.  AutoMQ's
 * controller answers the retry by the state it meets (the stream object is no longer prepared:
 * OBJECT_NOT_EXIST, the broker's upload fails); with controller.request.dedupe the metadata
 * client's request id brings back the first answer. */
static void wal_retry_after_compaction(bool dedupe)
{
    int64_t so, out;
    struct meta_so m;
    struct meta_sso_commit c = {.id = -1, .order_id = 1, .sos = &m, .nsos = 1};
    struct meta_stream_commit k = {0};
    enum meta_op del = META_OP_DELETE;
    struct ctl_conf cc;
    struct mdc_conf dc = {0};
    tenv_init(&T, 7);
    memset(&cc, 0, sizeof cc);
    cc.meta.ns = "_kafka_t";
    cc.meta.mark_not_idempotent = !dedupe;
    cc.snapshot_records = 1000000;
    ck_assert_int_eq(ctl_new(&T.env, &cc, &C), 0);
    ck_assert_int_eq(ctl_stream_create(C, 1), 0);
    ck_assert_int_eq(mdc_new(&T.env, C, &dc, &D), 0);
    mdc_set_fault_hook(D, hook, NULL);
    ck_assert_int_eq(ctl_prepare(C, 2, HOUR, env_now(&T.env), &so), 0);
    out = so + 1;
    m = (struct meta_so){so, 100, 1, 0, 10, META_ATTR_TYPE_NORMAL};
    hook_set(MDC_OP_COMMIT_SSO, 1, 0);
    ANS_N = 0;
    ck_assert_int_eq(mdc_commit_sso(D, &c, answered, NULL), 0);
    tenv_run_until(&T, env_now(&T.env) + 10 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(ANS_N, 0); /* applied, its answer lost */
    ck_assert_int_eq(meta_object_get(ctl_store(C), so)->state, META_COMMITTED);
    k = (struct meta_stream_commit){.id = out, .size = 100, .stream = 1, .epoch = -1, .start = 0,
                                    .end = 10, .attributes = META_ATTR_TYPE_NORMAL,
                                    .sources = &so, .ops = &del, .nsources = 1};
    ck_assert_int_eq(ctl_commit_stream(C, &k, env_now(&T.env)), 0);
    tenv_run_until(&T, env_now(&T.env) + 60 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(ANS_N, 1);
    ck_assert_uint_eq(mdc_rpc_stats(D)->calls[MDC_OP_COMMIT_SSO], 2);
    if (dedupe)
        ck_assert_int_eq(ANS_RC, 0);
    else
        ck_assert_int_eq(ANS_RC, ERR_NOTFOUND);
    ck_assert_int_eq(meta_stream_get(ctl_store(C), 1)->end, 10); /* committed once either way */
    teardown();
}

START_TEST(rpc_wal_retry_after_compaction)
{
    wal_retry_after_compaction(false);
    wal_retry_after_compaction(true);
}
END_TEST

/* The node-epoch tests' start: a stream object so1 of stream 1 and a prepared
 * object out to replace it; the commit c is sent under epoch e1 with a 2 s
 * delay, and the broker restarts (epoch e1 + 1) while it is on its way. */
static void epoch_commit_across_restart(int64_t *so1, int64_t *out, struct meta_stream_commit *c,
                                        enum meta_op *del, int64_t e1)
{
    *so1 = stream_object(0, 10);
    ck_assert_int_eq(ctl_prepare(C, 1, HOUR, env_now(&T.env), out), 0);
    *c = (struct meta_stream_commit){.id = *out, .size = 100, .stream = 1, .epoch = -1, .start = 0,
                                     .end = 10, .attributes = META_ATTR_TYPE_NORMAL,
                                     .sources = so1, .ops = del, .nsources = 1};
    hook_set(MDC_OP_COMMIT_STREAM, 0, 2 * ENV_USEC_PER_SEC);
    ANS_N = 0;
    ck_assert_int_eq(mdc_commit_stream(D, c, answered, NULL), 0);
    mdc_crash(D);
    ck_assert_int_eq(mdc_restart(D), 0);
    ck_assert_int_eq(mdc_epoch(D), e1 + 1);
}

/* Node epochs: a restart registers a new epoch; a request of the old epoch still on its way
 * is refused (NODE_EPOCH_EXPIRED) and changes nothing; the new epoch's requests go through. */
START_TEST(rpc_old_epoch_fenced)
{
    int64_t so1, out, e1;
    struct meta_stream_commit c = {0};
    enum meta_op del = META_OP_DELETE;
    setup_with(1000000, 0);
    mdc_set_fault_hook(D, hook, NULL);
    e1 = mdc_epoch(D);
    ck_assert_int_ge(e1, 1);
    /* in flight across a restart: abandoned, refused at the controller */
    epoch_commit_across_restart(&so1, &out, &c, &del, e1);
    tenv_run_until(&T, env_now(&T.env) + 5 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(ANS_N, 0); /* the old epoch's callback is forgotten */
    ck_assert_uint_eq(mdc_rpc_stats(D)->fenced, 1); /* refused all the same */
    ck_assert_int_eq(meta_object_get(ctl_store(C), out)->state, META_PREPARED); /* its TTL */
    ck_assert_int_eq(meta_object_get(ctl_store(C), so1)->state, META_COMMITTED);
    /* a live request overtaken by a new registration of its node: answered NODE_EPOCH_EXPIRED */
    ck_assert_int_eq(mdc_commit_stream(D, &c, answered, NULL), 0);
    ck_assert_int_eq(ctl_node_register(C, 0), e1 + 2);
    tenv_run_until(&T, env_now(&T.env) + 5 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(ANS_N, 1);
    ck_assert_int_eq(ANS_RC, ERR_ABORTED);
    /* both refusals count, the abandoned request's too (rpc.fenced counts at the controller) */
    ck_assert_uint_eq(mdc_rpc_stats(D)->fenced, 2);
    ck_assert_int_eq(meta_object_get(ctl_store(C), out)->state, META_PREPARED);
    /* the current epoch's request goes through */
    H.delay = 0;
    ck_assert_int_eq(mdc_restart(D), 0);
    ANS_N = 0;
    ck_assert_int_eq(mdc_commit_stream(D, &c, answered, NULL), 0);
    tenv_run_until(&T, env_now(&T.env) + 5 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(ANS_N, 1);
    ck_assert_int_eq(ANS_RC, 0);
    ck_assert_int_eq(meta_object_get(ctl_store(C), out)->state, META_COMMITTED);
    teardown();
}
END_TEST

/* Node epochs are metadata: a broker's registration is a node record in the log (AutoMQ's
 * NodeWALMetadataRecord), so a controller failover (the store rebuilt from snapshot + log) goes
 * on refusing the broker's previous epoch with NODE_EPOCH_EXPIRED. */
START_TEST(rpc_epoch_fencing_survives_failover)
{
    int64_t so1, out, e1;
    struct meta_stream_commit c = {0};
    enum meta_op del = META_OP_DELETE;
    struct meta *r;
    setup_with(5, 0); /* a snapshot every 5 records: the replay is snapshot + log */
    mdc_set_fault_hook(D, hook, NULL);
    e1 = mdc_epoch(D);
    /* sent under e1, still on its way when the broker restarts and the controller fails over */
    epoch_commit_across_restart(&so1, &out, &c, &del, e1);
    ck_assert_int_eq(ctl_replay(C, &r, NULL), 0); /* the registration is in snapshot + log */
    ck_assert_int_eq(meta_node_epoch(r, 0), e1 + 1);
    meta_destroy(r);
    ck_assert_int_eq(ctl_failover(C), 0);
    ck_assert_ptr_null(strstr(T.last_log, "differs"));
    ck_assert_int_eq(meta_node_epoch(ctl_store(C), 0), e1 + 1);
    ck_assert_int_eq(ctl_node_check(C, 0, e1), ERR_ABORTED);
    ck_assert_int_eq(ctl_node_check(C, 0, e1 + 1), 0);
    ck_assert_int_eq(ctl_node_check(C, 1, 1), ERR_NOTFOUND); /* never registered */
    tenv_run_until(&T, env_now(&T.env) + 5 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(ANS_N, 0); /* the old epoch's callback is forgotten */
    ck_assert_int_eq(meta_object_get(ctl_store(C), out)->state, META_PREPARED); /* refused */
    ck_assert_int_eq(meta_object_get(ctl_store(C), so1)->state, META_COMMITTED);
    /* a live request overtaken by a new registration, then a failover: still refused */
    ck_assert_int_eq(mdc_commit_stream(D, &c, answered, NULL), 0);
    ck_assert_int_eq(ctl_node_register(C, 0), e1 + 2);
    ck_assert_int_eq(ctl_failover(C), 0);
    tenv_run_until(&T, env_now(&T.env) + 5 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(ANS_N, 1);
    ck_assert_int_eq(ANS_RC, ERR_ABORTED);
    ck_assert_int_eq(meta_object_get(ctl_store(C), out)->state, META_PREPARED);
    /* the broker's current epoch goes through on the replayed controller */
    H.delay = 0;
    ck_assert_int_eq(mdc_restart(D), 0);
    ck_assert_int_eq(ctl_failover(C), 0);
    ANS_N = 0;
    ck_assert_int_eq(mdc_commit_stream(D, &c, answered, NULL), 0);
    tenv_run_until(&T, env_now(&T.env) + 5 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(ANS_N, 1);
    ck_assert_int_eq(ANS_RC, 0);
    ck_assert_int_eq(meta_object_get(ctl_store(C), out)->state, META_COMMITTED);
    teardown();
}
END_TEST

/* F05 (#3369) through the client: a controller failover hands each image a snapshot.  Fixed
 * (#3370's finishSnapshot) the image becomes the snapshot's state; before #3370
 * (snapshot_append) the records are replayed on the non-empty image by appending, so its stream
 * objects are listed twice and an object removed while the image lagged stays. */
START_TEST(ctl_f05_snapshot_load_on_image)
{
    struct mdc *app;
    struct mdc_conf dc = {.lag_us = HOUR, .node = 1, .snapshot_append = true};
    enum meta_op del = META_OP_DELETE;
    int64_t gone;
    size_t removed = 0;
    setup_with(1000000, HOUR); /* the images lag an hour: nothing reaches them on its own */
    ck_assert_int_eq(mdc_new(&T.env, C, &dc, &app), 0);
    workload(150, false);
    mdc_catch_up(D);
    mdc_catch_up(app);
    ck_assert_uint_eq(meta_listed_dups(mdc_image(app)), 0);
    /* an object removed while the images lag behind */
    {
        int64_t end = meta_stream_get(ctl_store(C), 1)->end;
        gone = stream_object(end, end + 10);
    }
    mdc_catch_up(D);
    mdc_catch_up(app);
    ck_assert_int_eq(ctl_mark(C, &gone, &del, 1, env_now(&T.env)), 0);
    ck_assert_int_eq(ctl_remove(C, &gone, 1, &removed), 0);
    ck_assert_uint_eq(removed, 1);
    ck_assert_ptr_nonnull(mdc_object_get(D, gone));
    ck_assert_int_eq(ctl_failover(C), 0);
    /* fixed: the snapshot's state, nothing twice, the removed object gone */
    same(ctl_store(C), mdc_image(D));
    ck_assert_uint_eq(meta_listed_dups(mdc_image(D)), 0);
    ck_assert_ptr_null(mdc_object_get(D, gone));
    /* before #3370: every committed stream object listed twice, the removed one still there */
    ck_assert_uint_gt(meta_listed_dups(mdc_image(app)), 0);
    ck_assert_ptr_nonnull(mdc_object_get(app, gone));
    {
        char why[200];
        ck_assert_int_ne(meta_diff(ctl_store(C), mdc_image(app), why, sizeof why), 0);
    }
    mdc_free(app);
    teardown();
}
END_TEST

/* ctl_new refuses a configuration without a usable namespace or snapshot period (ERR_INVAL),
 * and leaves *out as it was. */
START_TEST(ctl_new_refuses_bad_conf)
{
    char longns[OBJ_NS_MAX + 2];
    struct ctl_conf cc;
    struct ctl *c = NULL;
    tenv_init(&T, 7);
    memset(&cc, 0, sizeof cc);
    cc.snapshot_records = 10;
    ck_assert_int_eq(ctl_new(&T.env, NULL, &c), ERR_INVAL);
    ck_assert_int_eq(ctl_new(&T.env, &cc, &c), ERR_INVAL); /* no namespace */
    cc.meta.ns = "";
    ck_assert_int_eq(ctl_new(&T.env, &cc, &c), ERR_INVAL);
    memset(longns, 'n', sizeof longns - 1);
    longns[sizeof longns - 1] = '\0';
    cc.meta.ns = longns;
    ck_assert_int_eq(ctl_new(&T.env, &cc, &c), ERR_INVAL);
    cc.meta.ns = "_kafka_t";
    cc.snapshot_records = 0;
    ck_assert_int_eq(ctl_new(&T.env, &cc, &c), ERR_INVAL);
    ck_assert_ptr_null(c);
    cc.snapshot_records = 10;
    ck_assert_int_eq(ctl_new(&T.env, &cc, &c), 0);
    ck_assert_ptr_nonnull(c);
    ctl_free(c);
    tenv_free(&T);
}
END_TEST

static Suite *ctl_suite(void)
{
    Suite *s = suite_create("ctl");
    TCase *c = tcase_create("core");
    tcase_set_timeout(c, 60);
    tcase_add_test(c, ctl_image_follows_log);
    tcase_add_test(c, ctl_snapshot_and_log_replay);
    tcase_add_test(c, ctl_replay_log_only_and_snapshot_only);
    tcase_add_test(c, ctl_diff_sees_divergence);
    tcase_add_test(c, ctl_append_out_of_memory_keeps_records);
    tcase_add_test(c, ctl_image_lags);
    tcase_add_test(c, ctl_lag_distribution);
    tcase_add_test(c, ctl_f05_append_mode_duplicates);
    tcase_add_test(c, rpc_retries_are_idempotent);
    tcase_add_test(c, rpc_minus_one_retry_refused_without_dedupe);
    tcase_add_test(c, rpc_wal_retry_after_compaction);
    tcase_add_test(c, rpc_old_epoch_fenced);
    tcase_add_test(c, rpc_epoch_fencing_survives_failover);
    tcase_add_test(c, ctl_f05_snapshot_load_on_image);
    tcase_add_test(c, ctl_new_refuses_bad_conf);
    suite_add_tcase(s, c);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(ctl_suite());
    int failed;
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
