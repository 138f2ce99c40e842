/*
 * test_wal.c - WAL upload (src/wal.c) over the writers, the client layer,
 * the fault shim, the fake S3 and the metadata store: object split, ids,
 * commit before acknowledgement, retries, crash, gaps, and the bytes.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "clenv.h"
#include "err.h"
#include "fault.h"
#include "fs3.h"
#include "meta.h"
#include "obj.h"
#include "s3client.h"
#include "wal.h"
#include "writer.h"

/* ---- fixture ------------------------------------------------------------- */

static struct clenv E;
static struct fs3 *S;
static struct fs3_fault *F;
static struct s3c *C;
static struct wr_ctx *X;
static struct wr_mem MEM;
#include "ctltest.h"
static struct wal *W;
static struct wal_conf LC;
static struct s3c_conf CC;

struct ack {
    int64_t stream, base, count;
    int64_t at;
};
static struct ack ACKS[64];
static int NACK;

static void payload(void *arg, int64_t stream, int64_t offset, uint8_t *buf, size_t len)
{
    (void)arg;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(stream * 131 + offset * 7 + (int64_t)i);
}

static void on_ack(void *arg, int64_t stream, int64_t base, int64_t count, uint32_t size)
{
    (void)arg;
    (void)size;
    ck_assert_int_lt(NACK, 64);
    ACKS[NACK++] = (struct ack){stream, base, count, E.now};
}

static const struct eng_hooks HOOKS = {payload, on_ack, NULL, NULL};

static void setup(void)
{
    struct fs3_config cfg;
    struct wr_conf wc;
    struct meta_conf mc = {"_kafka_test", NULL, false, false, false, false};
    clenv_init(&E, 5);
    memset(&MEM, 0, sizeof MEM);
    NACK = 0;
    fs3_config_init(&cfg);
    cfg.min_part_size = 1024;
    S = fs3_new(&E.env, &cfg);
    F = fs3_fault_new(&E.env, S, NULL, NULL);
    s3c_conf_default(&CC);
    wr_conf_default(&wc);
    wc.min_part_size = 1024;
    wc.multipart_threshold = 64 * 1024;
    wal_conf_default(&LC);
    LC.interval_us = ENV_USEC_PER_SEC;
    LC.split_size = 32 * 1024;
    LC.block_size = 4096;
    ctltest_new(&E.env, &mc);
    for (int s = 1; s <= 3; s++)
        ck_assert_int_eq(meta_stream_create(M, s), 0);
    ck_assert_int_eq(s3c_new(&E.env, fs3_fault_ops(F), &CC, &C), 0);
    ck_assert_int_eq(wr_ctx_new(&E.env, s3c_ops(C), &wc, &MEM, &X), 0);
    W = NULL;
}

static void start(void)
{
    ck_assert_int_eq(wal_new(&E.env, MD, X, &MEM, &LC, &HOOKS, &W), 0);
}

static void teardown(void)
{
    wal_free(W);
    wr_ctx_free(X);
    s3c_free(C);
    fs3_fault_free(F);
    fs3_free(S);
    ctltest_free();
    clenv_fini(&E);
}

/* ---- helpers -------------------------------------------------------------- */

struct find {
    enum meta_kind kind;
    int64_t stream;
    const struct meta_object *o;
};

static int find_fn(void *arg, const struct meta_object *o)
{
    struct find *f = arg;
    if (o->state == META_COMMITTED && o->kind == f->kind &&
        (f->stream < 0 || o->stream == f->stream)) {
        f->o = o;
        return 1;
    }
    return 0;
}

static const struct meta_object *committed(enum meta_kind kind, int64_t stream)
{
    struct find f = {kind, stream, NULL};
    meta_foreach(M, find_fn, &f);
    return f.o;
}

struct check {
    int64_t stream, next;
    int bad;
};

static int check_rec(void *arg, const struct obj_record *r)
{
    struct check *c = arg;
    uint8_t want[2048];
    if (r->stream != c->stream)
        return 0;
    if (r->base != c->next || r->len > sizeof want)
        c->bad++;
    payload(NULL, r->stream, r->base, want, r->len);
    if (memcmp(want, r->payload, r->len))
        c->bad++;
    c->next = r->base + r->count;
    return 0;
}

/* Reads object key from the store and walks its records of stream. */
static int64_t read_back(const char *key, int64_t stream, int64_t from)
{
    struct s3_req req = {0};
    struct s3_result res = {0};
    struct obj_index idx;
    struct check c = {stream, from, 0};
    uint64_t reread;
    req.op = S3_OP_GET;
    req.key = key;
    req.range_end = -1;
    ck_assert_int_eq(fs3_exec(S, &req, FS3_AS_OF_NOW, &res), 0);
    ck_assert_int_eq(res.status, 200);
    ck_assert_int_eq(
        obj_tail_parse(res.body, res.body_len, 0, res.body_len, OBJ_PARSE_FINAL, &idx, &reread), 0);
    for (size_t i = 0; i < idx.n; i++) {
        const struct obj_index_entry *e = &idx.e[i];
        ck_assert_int_eq(obj_group_parse(res.body + e->pos, (size_t)e->size, e, 0, check_rec, &c),
                         0);
    }
    ck_assert_int_eq(c.bad, 0);
    obj_index_free(&idx);
    s3_result_cleanup(&res);
    return c.next;
}

/* ---- tests ---------------------------------------------------------------- */

START_TEST(wal_lone_stream_becomes_stream_object)
{
    const struct meta_object *o;
    start();
    ck_assert_int_eq(wal_append(W, 1, 20, 1000, 0, NULL), 0);
    ck_assert_int_eq(wal_next_offset(W, 1), 20);
    clenv_run_until(&E, ENV_USEC_PER_SEC - 1);
    ck_assert_int_eq(NACK, 0);
    clenv_run_until(&E, 3 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(NACK, 1);
    ck_assert_int_eq(ACKS[0].stream, 1);
    ck_assert_int_eq(ACKS[0].base, 0);
    ck_assert_int_eq(ACKS[0].count, 20);
    o = committed(META_KIND_STREAM, 1);
    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(o->start, 0);
    ck_assert_int_eq(o->end, 20);
    ck_assert_ptr_null(committed(META_KIND_SSO, -1));
    ck_assert_int_eq(meta_stream_get(M, 1)->end, 20);
    ck_assert_int_eq(read_back(o->key, 1, 0), 20);
    ck_assert(wal_idle(W));
    ck_assert_uint_eq(wal_stats(W)->uploads, 1);
    ck_assert_uint_eq(MEM.now, 0);
    ck_assert_int_eq(E.waits.n, 0);
}
END_TEST

/* s3.object.part.size: one 200 KiB stream object (multipart above 64 KiB here) is handed to
 * the writer in whole blocks each time a part threshold of them waits; with 64 KiB writes the
 * writer's 64 KiB merge limit sends a part per write, with 160 KiB writes fewer parts. */
static uint64_t wal_parts_with(uint64_t part_size)
{
    LC.part_size = part_size;
    LC.min_part_size = 1024;
    LC.split_size = 1024;
    start();
    ck_assert_int_eq(wal_append(W, 1, 200, 1024, 0, NULL), 0);
    clenv_run_until(&E, 30 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(NACK, 1);
    ck_assert_ptr_nonnull(committed(META_KIND_STREAM, 1));
    ck_assert_int_eq(read_back(committed(META_KIND_STREAM, 1)->key, 1, 0), 200);
    return fs3_fault_calls(F, S3_OP_MPU_PART);
}

START_TEST(wal_part_size_small_more_parts)
{
    ck_assert_uint_eq(wal_parts_with(64 * 1024), 4);
}
END_TEST

START_TEST(wal_part_size_large_fewer_parts)
{
    ck_assert_uint_eq(wal_parts_with(160 * 1024), 2);
}
END_TEST

START_TEST(wal_sso_and_split_stream_objects)
{
    const struct meta_object *sso, *so;
    start();
    ck_assert_int_eq(wal_append(W, 1, 40, 1000, 0, NULL), 0); /* 41 KiB >= 32 KiB */
    ck_assert_int_eq(wal_append(W, 2, 5, 1000, 0, NULL), 0);
    ck_assert_int_eq(wal_append(W, 3, 5, 500, 0, NULL), 0);
    clenv_run_until(&E, 3 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(NACK, 3);
    sso = committed(META_KIND_SSO, -1);
    so = committed(META_KIND_STREAM, 1);
    ck_assert_ptr_nonnull(sso);
    ck_assert_ptr_nonnull(so);
    ck_assert_int_eq(so->id, sso->id + 1); /* SSO first, then the stream objects */
    ck_assert_uint_eq(sso->nranges, 2);
    ck_assert_int_eq(sso->order_id, sso->id);
    ck_assert_int_eq(read_back(sso->key, 2, 0), 5);
    ck_assert_int_eq(read_back(sso->key, 3, 0), 5);
    ck_assert_int_eq(read_back(so->key, 1, 0), 40);
    ck_assert_int_eq(meta_stream_get(M, 3)->end, 5);
}
END_TEST

/* Stream ids start at 0 in AutoMQ: stream 0's own stream object holds stream 0's records only,
 * the SSO the others'. */
START_TEST(wal_stream_zero_gets_its_stream_object)
{
    const struct meta_object *sso, *so;
    ck_assert_int_eq(meta_stream_create(M, 0), 0);
    start();
    ck_assert_int_eq(wal_append(W, 0, 40, 1000, 0, NULL), 0); /* 41 KiB >= 32 KiB */
    ck_assert_int_eq(wal_append(W, 2, 5, 1000, 0, NULL), 0);
    ck_assert_int_eq(wal_append(W, 3, 5, 500, 0, NULL), 0);
    clenv_run_until(&E, 3 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(NACK, 3);
    sso = committed(META_KIND_SSO, -1);
    so = committed(META_KIND_STREAM, 0);
    ck_assert_ptr_nonnull(sso);
    ck_assert_ptr_nonnull(so);
    ck_assert_uint_eq(sso->nranges, 2);
    ck_assert_int_eq(read_back(so->key, 0, 0), 40);
    ck_assert_int_eq(read_back(so->key, 2, 7), 7); /* no record of stream 2 in it */
    ck_assert_int_eq(read_back(sso->key, 2, 0), 5);
    ck_assert_int_eq(read_back(sso->key, 3, 0), 5);
    ck_assert_int_eq(meta_stream_get(M, 0)->end, 40);
}
END_TEST

/* Two PutObject answers are 503 and the client gives up after one attempt. */
static void failing_puts(void)
{
    struct fs3_rule r;
    CC.retry_max = 1;
    s3c_free(C);
    wr_ctx_free(X);
    {
        struct wr_conf wc;
        wr_conf_default(&wc);
        ck_assert_int_eq(s3c_new(&E.env, fs3_fault_ops(F), &CC, &C), 0);
        ck_assert_int_eq(wr_ctx_new(&E.env, s3c_ops(C), &wc, &MEM, &X), 0);
    }
    fs3_rule_init(&r);
    r.op = S3_OP_PUT;
    r.effect = FS3_EFF_STATUS;
    r.status = 503;
    r.times = 2;
    ck_assert_int_eq(fs3_fault_add(F, &r), 0);
}

/* wal.upload.retry true (ours): the failed object is written again. */
START_TEST(wal_failed_write_is_retried_and_acked_once)
{
    failing_puts();
    LC.retry = true;
    start();
    ck_assert_int_eq(wal_append(W, 2, 3, 100, 0, NULL), 0);
    clenv_run_until(&E, 2 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(NACK, 0);
    ck_assert_ptr_nonnull(clenv_find_wait(&E, "writing them again"));
    clenv_run_until(&E, 10 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(NACK, 1);
    ck_assert_uint_eq(wal_stats(W)->retries, 2);
    ck_assert_uint_eq(fs3_fault_calls(F, S3_OP_PUT), 3);
    ck_assert_ptr_nonnull(committed(META_KIND_STREAM, 2));
    ck_assert_int_eq(E.waits.n, 0);
}
END_TEST

static int HALTS;
static void on_halt(void *arg)
{
    (void)arg;
    HALTS++;
}

/* wal.upload.retry false (AutoMQ's S3Storage): the failure halts the broker,
 * with AutoMQ's error line; nothing is written again or acknowledged. */
START_TEST(wal_failed_write_halts)
{
    failing_puts();
    HALTS = 0;
    ck_assert(!LC.retry); /* the default */
    start();
    wal_set_halt(W, on_halt, NULL);
    ck_assert_int_eq(wal_append(W, 2, 3, 100, 0, NULL), 0);
    clenv_run_until(&E, 10 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(HALTS, 1);
    ck_assert_int_eq(NACK, 0);
    ck_assert_uint_eq(wal_stats(W)->halts, 1);
    ck_assert_uint_eq(wal_stats(W)->retries, 0);
    ck_assert_uint_eq(fs3_fault_calls(F, S3_OP_PUT), 1); /* one attempt (retry_max 1), no rewrite */
    ck_assert_int_eq(E.nerror, 1); /* one event: the message, the exception on its line */
    ck_assert_ptr_nonnull(strstr(E.last_log, "Unexpected exception when commit stream set object: "
                                             "java.util.concurrent.CompletionException: "));
    ck_assert_ptr_nonnull(clenv_find_wait(&E, "the broker halts"));
    ck_assert(!wal_idle(W)); /* in flight until the crash frees it */
}
END_TEST

START_TEST(wal_crash_drops_unacked)
{
    struct meta_counts mc;
    start();
    ck_assert_int_eq(wal_append(W, 1, 10, 100, 0, NULL), 0);
    clenv_run_until(&E, ENV_USEC_PER_SEC + 1000); /* upload started, PUT in flight */
    ck_assert(!wal_idle(W));
    wal_free(W);
    W = NULL;
    clenv_run(&E, 1000);
    ck_assert_int_eq(NACK, 0);
    meta_count(M, &mc);
    ck_assert_uint_eq(mc.prepared, 1);
    ck_assert_uint_eq(mc.committed, 0);
    ck_assert_int_eq(meta_stream_get(M, 1)->end, 0);
    /* a new uploader starts from the committed end */
    start();
    ck_assert_int_eq(wal_next_offset(W, 1), 0);
}
END_TEST

START_TEST(wal_gap_starts_at_committed_end)
{
    const struct meta_object *o;
    int64_t base;
    start();
    ck_assert_int_eq(wal_append(W, 1, 5, 100, 0, NULL), 0);
    ck_assert_int_eq(wal_append(W, 1, 5, 100, 1000, &base), 0);
    ck_assert_int_eq(base, 1005);
    clenv_run_until(&E, 3 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(NACK, 2);
    ck_assert_int_eq(ACKS[1].base, 1005);
    o = committed(META_KIND_STREAM, 1);
    ck_assert_int_eq(o->start, 0);
    ck_assert_int_eq(o->end, 1010);
    ck_assert_int_eq(meta_stream_get(M, 1)->end, 1010);
}
END_TEST

static void deleted(void *arg, int rc, int64_t stream)
{
    (void)arg;
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(stream, 2);
}

START_TEST(wal_deleted_stream_dropped)
{
    start();
    ck_assert_int_eq(wal_append(W, 1, 5, 100, 0, NULL), 0);
    ck_assert_int_eq(wal_append(W, 2, 5, 100, 0, NULL), 0);
    ck_assert_int_eq(mdc_stream_delete(MD, 2, deleted, NULL), 0); /* the broker asks the controller */
    clenv_run_until(&E, E.now + 10 * ENV_USEC_PER_MS);
    wal_drop_stream(W, 2);
    ck_assert_int_eq(wal_append(W, 2, 5, 100, 0, NULL), ERR_NOTFOUND);
    clenv_run_until(&E, 3 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(NACK, 1);
    ck_assert_int_eq(ACKS[0].stream, 1);
    ck_assert(wal_idle(W));
}
END_TEST

/* s3.wal.upload.threshold: buffered bytes past the threshold upload at once, long before the
 * interval; a buffer that fills while an upload is in flight goes as soon as that one ends. */
START_TEST(wal_size_trigger_uploads_before_interval)
{
    LC.interval_us = 60 * ENV_USEC_PER_SEC;
    LC.threshold = 10000;
    start();
    ck_assert_int_eq(wal_append(W, 1, 5, 1000, 0, NULL), 0);
    clenv_run_until(&E, 5 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(NACK, 0); /* 5,000 bytes: below the threshold, waits for the interval */
    ck_assert_int_eq(wal_append(W, 1, 5, 1000, 0, NULL), 0);
    clenv_run_until(&E, 5 * ENV_USEC_PER_SEC + 1);
    ck_assert(!wal_idle(W)); /* 10,000 bytes: the upload started */
    ck_assert_int_eq(wal_append(W, 2, 10, 1000, 0, NULL), 0); /* full again, one in flight */
    clenv_run_until(&E, 20 * ENV_USEC_PER_SEC);
    ck_assert_uint_eq(wal_stats(W)->uploads, 2);
    ck_assert_int_eq(NACK, 2); /* stream 1's two appends are one run */
    ck_assert_int_eq(ACKS[1].stream, 2);
    ck_assert(wal_idle(W));
    /* a dropped stream's bytes leave the count: 9,000 left buffered do not upload */
    ck_assert_int_eq(wal_append(W, 2, 5, 1000, 0, NULL), 0);
    ck_assert_int_eq(meta_stream_delete(M, 2, 0), 0);
    wal_drop_stream(W, 2);
    ck_assert_int_eq(wal_append(W, 1, 9, 1000, 0, NULL), 0);
    ck_assert_int_eq(wal_append(W, 3, 1, 500, 0, NULL), 0);
    clenv_run_until(&E, 40 * ENV_USEC_PER_SEC);
    ck_assert_uint_eq(wal_stats(W)->uploads, 2);
    clenv_run_until(&E, 70 * ENV_USEC_PER_SEC);
    ck_assert_uint_eq(wal_stats(W)->uploads, 3); /* the interval */
}
END_TEST

START_TEST(wal_bad_args)
{
    start();
    ck_assert_int_eq(wal_append(W, 9, 1, 10, 0, NULL), ERR_NOTFOUND);
    ck_assert_int_eq(wal_append(W, 1, 0, 10, 0, NULL), ERR_INVAL);
    ck_assert_int_eq(wal_append(W, 1, 1, 10, -1, NULL), ERR_INVAL);
    ck_assert_int_eq(wal_upload_now(W), 0);
}
END_TEST

static Suite *wal_suite(void)
{
    Suite *s = suite_create("wal");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, wal_lone_stream_becomes_stream_object);
    tcase_add_test(tc, wal_part_size_small_more_parts);
    tcase_add_test(tc, wal_part_size_large_fewer_parts);
    tcase_add_test(tc, wal_sso_and_split_stream_objects);
    tcase_add_test(tc, wal_stream_zero_gets_its_stream_object);
    tcase_add_test(tc, wal_failed_write_is_retried_and_acked_once);
    tcase_add_test(tc, wal_failed_write_halts);
    tcase_add_test(tc, wal_crash_drops_unacked);
    tcase_add_test(tc, wal_gap_starts_at_committed_end);
    tcase_add_test(tc, wal_size_trigger_uploads_before_interval);
    tcase_add_test(tc, wal_deleted_stream_dropped);
    tcase_add_test(tc, wal_bad_args);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(wal_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
