/*
 * test_writer.c - the object writer (src/writer.c) over the client layer,
 * the fault shim and the fake S3: proxy PUT, switch to multipart, part
 * sizes, copy-write rules, close/complete, release, failures, F01-F03.
 *
 * Sizes are scaled down: minimum part 1 KiB, multipart threshold 4 KiB.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "clenv.h"
#include "err.h"
#include "fault.h"
#include "fs3.h"
#include "s3.h"
#include "s3client.h"
#include "writer.h"
#include "writer_int.h" /* the part count, for the part limit */

/* ---- fixture ------------------------------------------------------------- */

#define MINP 1024
#define THR 4096

static struct clenv E;
static struct fs3 *S;
static struct fs3_fault *F;
static struct s3c *C;
static struct wr_ctx *X;
static struct wr_mem MEM;
static struct wr_conf WC;
static struct s3c_conf CC;

static bool REPEAT_OK; /* the store's s3.complete.repeat: ok (setup) or nosuchupload */

static void start(void)
{
    struct fs3_config cfg;
    fs3_config_init(&cfg);
    cfg.min_part_size = MINP;
    cfg.complete_repeat_ok = REPEAT_OK;
    S = fs3_new(&E.env, &cfg);
    ck_assert_ptr_nonnull(S);
    F = fs3_fault_new(&E.env, S, NULL, NULL);
    ck_assert_ptr_nonnull(F);
    ck_assert_int_eq(s3c_new(&E.env, fs3_fault_ops(F), &CC, &C), 0);
    ck_assert_int_eq(wr_ctx_new(&E.env, s3c_ops(C), &WC, &MEM, &X), 0);
}

static void setup(void)
{
    clenv_init(&E, 3);
    memset(&MEM, 0, sizeof MEM);
    wr_conf_default(&WC);
    WC.min_part_size = MINP;
    WC.multipart_threshold = THR;
    s3c_conf_default(&CC);
    REPEAT_OK = true;
    S = NULL;
    F = NULL;
    C = NULL;
    X = NULL;
}

static void teardown(void)
{
    wr_ctx_free(X);
    s3c_free(C);
    fs3_fault_free(F);
    fs3_free(S);
    clenv_fini(&E);
}

static void rule(int op, enum fs3_effect eff, int status, enum s3_code code, int nth)
{
    struct fs3_rule r;
    fs3_rule_init(&r);
    r.op = op;
    r.effect = eff;
    r.status = status;
    r.code = code;
    if (nth) {
        r.match = FS3_MATCH_NTH;
        r.n = nth;
    }
    ck_assert_int_eq(fs3_fault_add(F, &r), 0);
}

/* ---- helpers --------------------------------------------------------------- */

struct cbrec {
    int n;
    int rc;
    int64_t at;
};

static void rec_cb(void *arg, int rc)
{
    struct cbrec *r = arg;
    r->n++;
    r->rc = rc;
    r->at = E.now;
}

/* Deterministic bytes: byte i of stream "tag" */
static void fill(uint8_t *b, size_t n, uint64_t from, int tag)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)((from + i) * 31 + (uint64_t)tag * 7 + ((from + i) >> 8));
}

static uint64_t calls(enum s3_op op)
{
    return fs3_fault_calls(F, op);
}

/* Reads key through the store, synchronously. */
static uint8_t *read_key(const char *key, size_t *len)
{
    struct s3_req req;
    struct s3_result res;
    uint8_t *b;
    memset(&req, 0, sizeof req);
    memset(&res, 0, sizeof res);
    req.op = S3_OP_GET;
    req.key = key;
    req.range_end = -1;
    ck_assert_int_eq(fs3_exec(S, &req, FS3_AS_OF_NOW, &res), 0);
    ck_assert_int_eq(res.status, 200);
    b = res.body;
    *len = res.body_len;
    res.body = NULL;
    s3_result_cleanup(&res);
    return b;
}

static void put_key(const char *key, const uint8_t *b, size_t n)
{
    struct s3_req req;
    struct s3_result res;
    memset(&req, 0, sizeof req);
    memset(&res, 0, sizeof res);
    req.op = S3_OP_PUT;
    req.key = key;
    req.body = b;
    req.body_len = n;
    ck_assert_int_eq(fs3_exec(S, &req, FS3_AS_OF_NOW, &res), 0);
    ck_assert_int_eq(res.status, 200);
    s3_result_cleanup(&res);
}

static void expect_object(const char *key, const uint8_t *want, size_t n)
{
    size_t len;
    uint8_t *got = read_key(key, &len);
    ck_assert_uint_eq(len, n);
    ck_assert_int_eq(memcmp(got, want, n), 0);
    free(got);
}

/* ---- proxy and multipart --------------------------------------------------- */

START_TEST(writer_zero_length_write_completes)
{
    /* A write of nothing is done at once: its callback still runs (once,
     * with 0), and one without a callback is fine too. */
    struct cbrec w = {0}, c = {0};
    struct wr *wr;
    uint8_t b[10] = {1};
    start();
    wr = wr_open(X, "obj/0", S3_JOB_WAL_UPLOAD, "wal upload 0");
    ck_assert_int_eq(wr_write(wr, b, 0, rec_cb, &w), 0);
    ck_assert_int_eq(wr_write(wr, b, 0, NULL, NULL), 0);
    ck_assert_int_eq(wr_write(wr, b, sizeof b, NULL, NULL), 0);
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(w.n, 1);
    ck_assert_int_eq(w.rc, 0);
    ck_assert_int_eq(c.n, 1);
    ck_assert_int_eq(c.rc, 0);
    expect_object("obj/0", b, sizeof b);
    wr_release(wr, NULL, NULL);
}
END_TEST

/* The env's timers, failing while NO_TIMER is set (a timer that cannot be
 * allocated: env_timer returns 0). */
static bool NO_TIMER;
static env_id failing_timer(struct env *env, int64_t delay, env_timer_cb cb, void *arg)
{
    return NO_TIMER ? 0 : clenv_timer(env, delay, cb, arg);
}

START_TEST(writer_deliver_timer_failure_keeps_its_word)
{
    /* A call whose waiter is ready before it returns (a write of nothing, a
     * flush with nothing in flight) is heard from a 0-delay timer.  When that
     * timer cannot be started, the caller still hears it exactly once, with
     * nothing else happening on the writer: ERR_NOMEM returned (no callback),
     * or the callback.  Never 0 and silence.  The writes a failed flush had
     * declared accepted are heard by the writer's next event (here its
     * close), once each. */
    struct cbrec z = {0}, w = {0}, f = {0}, c = {0};
    struct wr *wr;
    uint8_t b[100];
    int rc;
    start();
    E.env.timer_start = failing_timer;
    fill(b, sizeof b, 0, 4);
    wr = wr_open(X, "obj/notimer", S3_JOB_WAL_UPLOAD, "wal upload notimer");
    ck_assert_ptr_nonnull(wr);

    NO_TIMER = true;
    rc = wr_write(wr, b, 0, rec_cb, &z);
    NO_TIMER = false;
    clenv_run(&E, 10000);
    ck_assert_msg(rc == ERR_NOMEM ? z.n == 0 : rc == 0 && z.n == 1 && z.rc == 0,
                  "write of nothing: returned %d, callback run %d times", rc, z.n);

    ck_assert_int_eq(wr_write(wr, b, sizeof b, rec_cb, &w), 0); /* parked */
    clenv_run(&E, 10000);
    ck_assert_int_eq(w.n, 0);
    NO_TIMER = true;
    rc = wr_flush(wr, rec_cb, &f);
    NO_TIMER = false;
    clenv_run(&E, 10000);
    ck_assert_msg(rc == ERR_NOMEM ? f.n == 0 : rc == 0 && f.n == 1 && f.rc == 0,
                  "flush: returned %d, callback run %d times", rc, f.n);

    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(w.n, 1);
    ck_assert_int_eq(w.rc, 0);
    ck_assert_int_eq(c.n, 1);
    ck_assert_int_eq(c.rc, 0);
    expect_object("obj/notimer", b, sizeof b);
    wr_release(wr, NULL, NULL);
}
END_TEST

START_TEST(writer_release_timer_failure_keeps_its_word)
{
    /* Release's callback says the writer holds nothing of the caller's any
     * more (a compaction job waits for it before it ends).  When its 0-delay
     * timer cannot be started it is still heard, once: a writer with a
     * parked part, one with a part uploading, one already closed. */
    struct cbrec r[3], w = {0}, c = {0};
    uint8_t b[3 * MINP];
    struct wr *wr[3];
    memset(r, 0, sizeof r);
    start();
    E.env.timer_start = failing_timer;
    fill(b, sizeof b, 0, 5);
    for (int i = 0; i < 3; i++) {
        char key[32];
        snprintf(key, sizeof key, "obj/rel%d", i);
        wr[i] = wr_open(X, key, S3_JOB_SSO_COMPACTION, "sso compaction rel");
        ck_assert_ptr_nonnull(wr[i]);
    }
    ck_assert_int_eq(wr_write(wr[0], b, 100, NULL, NULL), 0);
    ck_assert_int_eq(wr_write(wr[1], b, sizeof b, rec_cb, &w), 0);
    ck_assert_int_eq(wr_flush(wr[1], NULL, NULL), 0);
    ck_assert_int_eq(wr_write(wr[2], b, 100, NULL, NULL), 0);
    ck_assert_int_eq(wr_close(wr[2], rec_cb, &c), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(c.n, 1);
    NO_TIMER = true;
    for (int i = 0; i < 3; i++)
        wr_release(wr[i], rec_cb, &r[i]);
    NO_TIMER = false;
    clenv_run(&E, 10000);
    for (int i = 0; i < 3; i++)
        ck_assert_msg(r[i].n == 1, "writer %d: release callback run %d times", i, r[i].n);
    ck_assert_int_le(w.n, 1);
    ck_assert_int_eq(wr_ctx_live(X), 0);
}
END_TEST

START_TEST(writer_write_out_of_memory_keeps_its_word)
{
    /* A write with a callback whose bookkeeping cannot be allocated (the
     * waiter, or its place on the part) is not appended, and its caller
     * hears so exactly once: ERR_NOMEM returned (no callback), or 0
     * returned and the callback run with ERR_NOMEM.  Never 0 and silence
     * (the caller would wait for ever), never a crash.  Each allocation of
     * a write fails in turn (a failed delivery timer only delays the
     * callbacks: they are all heard by the close); the object holds the
     * accepted writes, in order. */
    enum { N = 12, LEN = 100 };
    uint8_t b[N * LEN], want[N * LEN];
    size_t nwant = 0;
    int rcs[N], nomem = 0;
    struct cbrec w[N], c = {0};
    struct wr *wr;
    memset(w, 0, sizeof w);
    start();
    fill(b, sizeof b, 0, 9);
    wr = wr_open(X, "obj/oom", S3_JOB_WAL_UPLOAD, "wal upload oom");
    ck_assert_ptr_nonnull(wr);
    for (int i = 0; i < N; i++) {
        sim_alloc_fail_nth((uint64_t)i + 1);
        rcs[i] = wr_write(wr, b + i * LEN, LEN, rec_cb, &w[i]);
        sim_alloc_fail_off();
        clenv_run(&E, 1000);
    }
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(c.n, 1);
    ck_assert_int_eq(c.rc, 0);
    for (int i = 0; i < N; i++) {
        if (rcs[i] != 0) {
            ck_assert_int_eq(rcs[i], ERR_NOMEM);
            ck_assert_int_eq(w[i].n, 0);
            nomem++;
            continue;
        }
        ck_assert_msg(w[i].n == 1, "write %d (allocation %d failed): 0 returned, callback "
                      "run %d times", i, i + 1, w[i].n);
        if (w[i].rc == 0) {
            memcpy(want + nwant, b + i * LEN, LEN);
            nwant += LEN;
        } else {
            ck_assert_int_eq(w[i].rc, ERR_NOMEM);
            nomem++;
        }
    }
    ck_assert_int_ge(nomem, 2); /* both ways of failing were reached */
    expect_object("obj/oom", want, nwant);
    wr_release(wr, NULL, NULL);
}
END_TEST

START_TEST(writer_proxy_single_put)
{
    uint8_t b[3000];
    struct cbrec w[3] = {{0}}, c = {0};
    struct wr *wr;
    start();
    fill(b, sizeof b, 0, 1);
    wr = wr_open(X, "obj/1", S3_JOB_WAL_UPLOAD, "wal upload 1");
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(wr_write(wr, b + i * 1000, 1000, rec_cb, &w[i]), 0);
    ck_assert(wr_has_parked(wr));
    ck_assert_uint_eq(MEM.now, 3000); /* the parked bytes exactly (AutoMQ's composite part) */
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    ck_assert_int_eq(wr_write(wr, b, 1, NULL, NULL), ERR_BADSTATE);
    clenv_run(&E, 10000);
    ck_assert_int_eq(c.n, 1);
    ck_assert_int_eq(c.rc, 0);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(w[i].n, 1);
        ck_assert_int_eq(w[i].rc, 0);
    }
    ck_assert_uint_eq(calls(S3_OP_PUT), 1);
    ck_assert_uint_eq(calls(S3_OP_MPU_CREATE), 0);
    ck_assert(!wr_is_multipart(wr));
    expect_object("obj/1", b, sizeof b);
    ck_assert_uint_eq(MEM.now, 0);
    ck_assert_uint_eq(MEM.peak, 3000);
    ck_assert_int_eq(E.waits.n, 0);
    wr_release(wr, NULL, NULL);
    clenv_run(&E, 100);
    ck_assert_int_eq(wr_ctx_live(X), 0);
    ck_assert_uint_eq(fs3_nuploads(S), 0);
}
END_TEST

START_TEST(writer_exactly_threshold_is_one_put)
{
    /* "One PUT up to s3.object.multipart.threshold, multipart above": an object of exactly the
     * threshold is a single PutObject; one byte more switches to multipart. */
    uint8_t b[THR + 1];
    struct cbrec c = {0};
    struct wr *wr;
    start();
    fill(b, sizeof b, 0, 3);
    wr = wr_open(X, "obj/thr", S3_JOB_WAL_UPLOAD, "wal upload thr");
    ck_assert_int_eq(wr_write(wr, b, THR, NULL, NULL), 0);
    ck_assert(!wr_is_multipart(wr));
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(c.n, 1);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(calls(S3_OP_PUT), 1);
    ck_assert_uint_eq(calls(S3_OP_MPU_CREATE), 0);
    expect_object("obj/thr", b, THR);
    wr_release(wr, NULL, NULL);
    wr = wr_open(X, "obj/thr1", S3_JOB_WAL_UPLOAD, "wal upload thr1");
    ck_assert_int_eq(wr_write(wr, b, THR + 1, NULL, NULL), 0);
    ck_assert(wr_is_multipart(wr));
    wr_release(wr, NULL, NULL);
    clenv_run(&E, 10000);
}
END_TEST

START_TEST(writer_switches_to_multipart)
{
    uint8_t b[7500];
    struct cbrec w[5] = {{0}}, c = {0};
    struct wr *wr;
    start();
    fill(b, sizeof b, 0, 2);
    wr = wr_open(X, "obj/2", S3_JOB_SSO_COMPACTION, "sso compaction 1");
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(wr_write(wr, b + i * 1500, 1500, rec_cb, &w[i]), 0);
    ck_assert(wr_is_multipart(wr));
    clenv_run(&E, 10000);
    /* part 1 (4500 bytes > 4 KiB) is uploaded: its writes are accepted; the
     * last two writes are parked in part 2 */
    ck_assert_uint_eq(calls(S3_OP_MPU_CREATE), 1);
    ck_assert_uint_eq(calls(S3_OP_MPU_PART), 1);
    ck_assert_int_eq(w[2].n, 1);
    ck_assert_int_eq(w[3].n, 0);
    ck_assert_uint_eq(wr_parked_bytes(wr), 3000);
    ck_assert(!fs3_key_exists(S, "obj/2", NULL)); /* accepted, not durable */
    ck_assert_ptr_nonnull(clenv_find_wait(&E, "2.9KiB parked in the pending part"));
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_int_eq(w[4].n, 1);
    ck_assert_uint_eq(calls(S3_OP_MPU_PART), 2);
    ck_assert_uint_eq(calls(S3_OP_MPU_COMPLETE), 1);
    ck_assert_uint_eq(calls(S3_OP_PUT), 0);
    expect_object("obj/2", b, sizeof b);
    ck_assert_uint_eq(fs3_nuploads(S), 0);
    wr_release(wr, NULL, NULL);
    ck_assert_int_eq(wr_ctx_live(X), 0);
    ck_assert_uint_eq(MEM.now, 0);
}
END_TEST

/* wr_write_ref: a piece of a buffer the store keeps goes into the part by
 * reference and is sent as one of the body's segments (the store keeps it,
 * no copy); behind a backend that takes no segments the client gathers
 * them into one copy.  The object's bytes are the same either way. */
static void ref_pieces(bool segs)
{
    struct buf *src = buf_new(40000);
    struct s3_ops plain;
    uint8_t want[1000 + 17000 + 2000];
    struct cbrec c = {0};
    struct s3_req req;
    struct s3_result res;
    struct wr *wr;
    fill(buf_wbytes(src, 0, 40000), 40000, 0, 5);
    if (segs) {
        start();
    } else { /* the same stack, its bottom declaring no segments */
        struct fs3_config cfg;
        fs3_config_init(&cfg);
        cfg.min_part_size = MINP;
        S = fs3_new(&E.env, &cfg);
        F = fs3_fault_new(&E.env, S, NULL, NULL);
        plain = *fs3_fault_ops(F);
        plain.segs_ok = false;
        ck_assert_int_eq(s3c_new(&E.env, &plain, &CC, &C), 0);
        ck_assert_int_eq(wr_ctx_new(&E.env, s3c_ops(C), &WC, &MEM, &X), 0);
    }
    memset(&req, 0, sizeof req);
    memset(&res, 0, sizeof res);
    req.op = S3_OP_PUT;
    req.key = "src";
    req.body = src->p;
    req.body_len = src->len;
    req.body_buf = src;
    ck_assert_int_eq(fs3_exec(S, &req, FS3_AS_OF_NOW, &res), 0);
    s3_result_cleanup(&res);
    ck_assert_uint_eq(src->refs, 2);
    fill(want, 1000, 0, 6);
    memcpy(want + 1000, src->p + 3000, 17000);
    fill(want + 18000, 2000, 0, 7);
    wr = wr_open(X, "obj/r", S3_JOB_SSO_COMPACTION, "sso compaction r");
    ck_assert_int_eq(wr_write(wr, want, 1000, NULL, NULL), 0);
    ck_assert_int_eq(wr_write_ref(wr, src, src->p + 3000, 17000, NULL, NULL), 0);
    ck_assert_uint_eq(src->refs, 3); /* the part's */
    ck_assert_int_eq(wr_write(wr, want + 18000, 2000, NULL, NULL), 0);
    ck_assert(wr_is_multipart(wr));
    ck_assert_uint_eq(MEM.now, sizeof want); /* each byte counted once */
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(calls(S3_OP_MPU_PART), 2);
    expect_object("obj/r", want, sizeof want);
    wr_release(wr, NULL, NULL);
    clenv_run(&E, 10000);
    ck_assert_uint_eq(MEM.now, 0);
    /* The object's piece of src: a reference of the store's, or a copy. */
    ck_assert_uint_eq(src->refs, segs ? 3 : 2);
    buf_unref(src);
}

START_TEST(writer_ref_pieces_are_sent_by_reference)
{
    ref_pieces(true);
}
END_TEST

START_TEST(writer_ref_pieces_gathered_for_a_backend_without_segments)
{
    ref_pieces(false);
}
END_TEST

START_TEST(writer_ref_piece_ending_where_own_bytes_end)
{
    /* A part of copied bytes, then a piece of a shared buffer, then copied
     * bytes again: the last bytes are the part's own, even when the piece
     * ends, in its buffer, at the offset where the part's own bytes end
     * (20000 here): only an own piece right before them is extended. */
    struct buf *src = buf_new(40000);
    uint8_t want[20000 + 17000 + 2000];
    struct cbrec c = {0};
    struct wr *wr;
    WC.multipart_threshold = 64 << 10; /* one part (a PutObject) holds all three */
    start();
    fill(buf_wbytes(src, 0, 40000), 40000, 0, 5);
    fill(want, 20000, 0, 6);
    memcpy(want + 20000, src->p + 3000, 17000);
    fill(want + 37000, 2000, 0, 7);
    wr = wr_open(X, "obj/r2", S3_JOB_SSO_COMPACTION, "sso compaction r2");
    ck_assert_int_eq(wr_write(wr, want, 20000, NULL, NULL), 0);
    ck_assert_int_eq(wr_write_ref(wr, src, src->p + 3000, 17000, NULL, NULL), 0);
    ck_assert_int_eq(wr_write(wr, want + 37000, 2000, NULL, NULL), 0);
    ck_assert_uint_eq(src->refs, 2); /* ours and the part's piece */
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(c.n, 1);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(calls(S3_OP_PUT), 1);
    expect_object("obj/r2", want, sizeof want);
    wr_release(wr, NULL, NULL);
    clenv_run(&E, 10000);
    buf_unref(src);
}
END_TEST

START_TEST(writer_large_object_many_parts)
{
    enum { N = 50 * 1000 };
    static uint8_t b[N];
    struct cbrec c = {0};
    struct wr *wr;
    start();
    fill(b, N, 0, 3);
    wr = wr_open(X, "obj/3", S3_JOB_WAL_UPLOAD, NULL);
    for (size_t off = 0; off < N; off += 700) {
        ck_assert_int_eq(wr_write(wr, b + off, off + 700 > N ? N - off : 700, NULL, NULL), 0);
        clenv_run(&E, 100000);
    }
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 100000);
    ck_assert_int_eq(c.rc, 0);
    /* every part but the last is > 4 KiB (the store would answer
     * EntityTooSmall otherwise): 50000 / 4200 -> 12 parts */
    ck_assert_uint_eq(calls(S3_OP_MPU_PART), 12);
    expect_object("obj/3", b, N);
    ck_assert_uint_le(MEM.peak, 2 * THR + 2000);
    wr_release(wr, NULL, NULL);
}
END_TEST

/* ---- copy-write ------------------------------------------------------------ */

static uint8_t SRC[20000];

static void put_src(void)
{
    fill(SRC, sizeof SRC, 0, 9);
    put_key("src", SRC, sizeof SRC);
}

/* A range that ends before it starts, or no source key, is refused at once
 * (ERR_INVAL), and the writer stays usable. */
START_TEST(writer_copy_rejects_bad_arguments)
{
    struct cbrec c = {0};
    struct wr *wr;
    start();
    put_src();
    wr = wr_open(X, "obj/bad", S3_JOB_STREAM_COMPACTION, NULL);
    ck_assert_int_eq(wr_copy(wr, "src", 600, 100, NULL, NULL), ERR_INVAL);
    ck_assert_int_eq(wr_copy(wr, NULL, 0, 100, NULL, NULL), ERR_INVAL);
    ck_assert_int_eq(wr_copy(wr, "src", 0, 100, NULL, NULL), 0);
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(c.rc, 0);
    ck_assert(fs3_key_exists(S, "obj/bad", NULL));
}
END_TEST

/* S3 allows 10000 parts (part numbers 1..10000).  A copy needs, at most, two
 * parts per 5 GiB chunk of its range plus the final part: one that can bring
 * the writer to exactly 10000 is taken; once it cannot, a copy is refused
 * (ERR_LIMIT) before anything is sent, and the writer completes what it took. */
START_TEST(writer_copy_up_to_the_part_limit)
{
    uint8_t b[MINP];
    struct cbrec c = {0};
    struct wr *wr;
    start();
    put_src();
    fill(b, sizeof b, 0, 5);
    wr = wr_open(X, "obj/limit", S3_JOB_STREAM_COMPACTION, NULL);
    /* Parts of the minimum size until 9997 are numbered and none is pending. */
    for (int i = 0; wr->nparts < S3_MAX_PARTS - 3 || wr->pending; i++) {
        ck_assert_int_eq(wr_write(wr, b, sizeof b, NULL, NULL), 0);
        ck_assert_int_le(wr->nparts, S3_MAX_PARTS - 3);
        if (i % 64 == 0)
            clenv_run(&E, 1000);
    }
    /* 9997 + 2 (a range below 5 GiB) + 1 = 10000: taken. */
    ck_assert_int_eq(wr_copy(wr, "src", 0, 100, NULL, NULL), 0);
    /* Now at least 9997 numbered parts and a pending one: 3 more would pass 10000. */
    ck_assert_int_eq(wr_copy(wr, "src", 100, 200, NULL, NULL), ERR_LIMIT);
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 1000000);
    ck_assert_int_eq(c.n, 1);
    ck_assert_int_eq(c.rc, 0);
    ck_assert(fs3_key_exists(S, "obj/limit", NULL));
    ck_assert_int_le(wr->nparts, S3_MAX_PARTS);
    wr_release(wr, NULL, NULL);
}
END_TEST

START_TEST(writer_copy_in_proxy_is_read)
{
    uint8_t b[600], want[1100];
    struct cbrec w = {0}, c = {0};
    struct wr *wr;
    start();
    put_src();
    fill(b, sizeof b, 0, 4);
    wr = wr_open(X, "obj/4", S3_JOB_STREAM_COMPACTION, NULL);
    ck_assert_int_eq(wr_copy(wr, "src", 100, 600, rec_cb, &w), 0);
    ck_assert_int_eq(wr_write(wr, b, sizeof b, NULL, NULL), 0);
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_int_eq(w.rc, 0);
    memcpy(want, SRC + 100, 500);
    memcpy(want + 500, b, 600);
    expect_object("obj/4", want, sizeof want);
    ck_assert_uint_eq(calls(S3_OP_GET), 1);
    ck_assert_uint_eq(calls(S3_OP_PUT), 1);
    ck_assert_uint_eq(calls(S3_OP_MPU_COPY), 0);
    wr_release(wr, NULL, NULL);
}
END_TEST

START_TEST(writer_copy_large_range_is_upload_part_copy)
{
    struct cbrec c = {0};
    struct wr *wr;
    start();
    put_src();
    wr = wr_open(X, "obj/5", S3_JOB_STREAM_COMPACTION, NULL);
    ck_assert_int_eq(wr_copy(wr, "src", 0, 12000, NULL, NULL), 0);
    ck_assert_int_eq(wr_copy(wr, "src", 12000, 20000, NULL, NULL), 0);
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(calls(S3_OP_MPU_COPY), 2);
    ck_assert_uint_eq(calls(S3_OP_GET), 0);
    expect_object("obj/5", SRC, sizeof SRC);
    wr_release(wr, NULL, NULL);
}
END_TEST

START_TEST(writer_copy_top_up_branch)
{
    uint8_t b[4500], want[4500 + 300 + 5000];
    struct cbrec c = {0};
    struct wr *wr;
    start();
    put_src();
    fill(b, sizeof b, 0, 5);
    wr = wr_open(X, "obj/6", S3_JOB_STREAM_COMPACTION, NULL);
    /* 4500 bytes: multipart, part 1 uploaded; then a 300-byte pending part */
    ck_assert_int_eq(wr_write(wr, b, 4500, NULL, NULL), 0);
    ck_assert_int_eq(wr_copy(wr, "src", 0, 300, NULL, NULL), 0);
    ck_assert_uint_eq(wr_parked_bytes(wr), 300);
    /* 300 + 5000 > 4 KiB: top up 724 bytes by a read, upload a 1 KiB part,
     * UploadPartCopy the remaining 4276 */
    ck_assert_int_eq(wr_copy(wr, "src", 1000, 6000, NULL, NULL), 0);
    ck_assert_uint_eq(wr_parked_bytes(wr), 0);
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(calls(S3_OP_GET), 2);
    ck_assert_uint_eq(calls(S3_OP_MPU_COPY), 1);
    ck_assert_uint_eq(calls(S3_OP_MPU_PART), 2);
    memcpy(want, b, 4500);
    memcpy(want + 4500, SRC, 300);
    memcpy(want + 4800, SRC + 1000, 5000);
    expect_object("obj/6", want, sizeof want);
    wr_release(wr, NULL, NULL);
}
END_TEST

START_TEST(writer_copy_top_up_negative_guarded)
{
    uint8_t b[6000], want[6000 + 3000];
    struct cbrec c = {0};
    struct wr *wr;
    start();
    put_src();
    fill(b, sizeof b, 0, 6);
    wr = wr_open(X, "obj/7", S3_JOB_STREAM_COMPACTION, NULL);
    /* 4200 switches and uploads part 1; then 1800 bytes pending (>= 1 KiB) */
    ck_assert_int_eq(wr_write(wr, b, 4200, NULL, NULL), 0);
    ck_assert_int_eq(wr_write(wr, b + 4200, 1800, NULL, NULL), 0);
    ck_assert_uint_eq(wr_parked_bytes(wr), 1800);
    /* 1800 + 3000 > 4 KiB with a pending part above the minimum: no top-up
     * (AutoMQ would compute a negative range), the pending part goes as is */
    ck_assert_int_eq(wr_copy(wr, "src", 2000, 5000, NULL, NULL), 0);
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(calls(S3_OP_GET), 0);
    ck_assert_uint_eq(calls(S3_OP_MPU_COPY), 1);
    memcpy(want, b, 6000);
    memcpy(want + 6000, SRC + 2000, 3000);
    expect_object("obj/7", want, sizeof want);
    wr_release(wr, NULL, NULL);
}
END_TEST

/* s3.object.multipart.threshold below s3.min.part.size: a part is uploaded
 * only past max(threshold, minimum part), never a non-last part below the
 * minimum (CompleteMultipartUpload would answer EntityTooSmall forever). */
START_TEST(writer_threshold_below_min_part)
{
    uint8_t b[300], want[300 + 200 + 3000 + 100];
    struct cbrec c = {0};
    struct wr *wr;
    WC.multipart_threshold = 256;
    start();
    put_src();
    fill(b, sizeof b, 0, 8);
    wr = wr_open(X, "obj/thr", S3_JOB_STREAM_COMPACTION, NULL);
    /* 300 > 256: multipart, but 300 bytes are below the 1 KiB minimum */
    ck_assert_int_eq(wr_write(wr, b, 300, NULL, NULL), 0);
    ck_assert_uint_eq(wr_parked_bytes(wr), 300);
    /* 300 + 200 is past the threshold, still below the minimum: kept */
    ck_assert_int_eq(wr_copy(wr, "src", 0, 200, NULL, NULL), 0);
    ck_assert_uint_eq(wr_parked_bytes(wr), 500);
    ck_assert_int_eq(wr_copy(wr, "src", 1000, 4000, NULL, NULL), 0);
    ck_assert_int_eq(wr_copy(wr, "src", 5000, 5100, NULL, NULL), 0);
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(c.n, 1);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(fs3_fault_calls(F, S3_OP_MPU_COMPLETE), 1);
    memcpy(want, b, 300);
    memcpy(want + 300, SRC, 200);
    memcpy(want + 500, SRC + 1000, 3000);
    memcpy(want + 3500, SRC + 5000, 100);
    expect_object("obj/thr", want, sizeof want);
    wr_release(wr, NULL, NULL);
}
END_TEST

START_TEST(writer_copy_read_failure_fails_waiters)
{
    struct cbrec w = {0}, c = {0};
    struct wr *wr;
    start();
    wr = wr_open(X, "obj/8", S3_JOB_STREAM_COMPACTION, NULL);
    ck_assert_int_eq(wr_copy(wr, "missing", 0, 100, rec_cb, &w), 0);
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(w.rc, ERR_NOTFOUND);
    ck_assert_int_eq(c.rc, ERR_NOTFOUND);
    ck_assert_int_eq(wr_error(wr), ERR_NOTFOUND);
    ck_assert_int_eq(E.waits.n, 0);
    wr_release(wr, NULL, NULL);
    ck_assert_int_eq(wr_ctx_live(X), 0);
}
END_TEST

/* ---- flush: accepted-and-parked (F01) ------------------------------------ */

static struct wr *parked_writer(uint8_t *b, struct cbrec *w)
{
    struct wr *wr = wr_open(X, "obj/9", S3_JOB_SSO_COMPACTION, "sso compaction 2, plan 1");
    fill(b, 4700, 0, 7);
    ck_assert_int_eq(wr_write(wr, b, 4200, NULL, NULL), 0);
    ck_assert_int_eq(wr_write(wr, b + 4200, 500, rec_cb, w), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(w->n, 0);
    ck_assert_uint_eq(wr_parked_bytes(wr), 500);
    return wr;
}

START_TEST(writer_flush_accepts_parked_bytes)
{
    uint8_t b[4700];
    struct cbrec w = {0}, f = {0}, c = {0};
    struct wr *wr;
    start();
    wr = parked_writer(b, &w);
    ck_assert_int_eq(wr_flush(wr, rec_cb, &f), 0);
    ck_assert_int_eq(f.n, 0); /* never from inside the call */
    clenv_run(&E, 10000);
    ck_assert_int_eq(w.n, 1);
    ck_assert_int_eq(w.rc, 0);
    ck_assert_int_eq(f.rc, 0);
    ck_assert_int_eq(f.n, 1);
    ck_assert_uint_eq(calls(S3_OP_MPU_PART), 1); /* nothing illegal uploaded */
    ck_assert(wr_has_parked(wr));
    ck_assert_int_eq(E.waits.n, 0);
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(c.rc, 0);
    expect_object("obj/9", b, 4700);
    wr_release(wr, NULL, NULL);
}
END_TEST

START_TEST(writer_flush_uploads_legal_part)
{
    uint8_t b[6000];
    struct cbrec w = {0}, f = {0};
    struct wr *wr;
    start();
    fill(b, sizeof b, 0, 8);
    wr = wr_open(X, "obj/10", S3_JOB_SSO_COMPACTION, NULL);
    ck_assert_int_eq(wr_write(wr, b, 4200, NULL, NULL), 0);
    ck_assert_int_eq(wr_write(wr, b + 4200, 1800, rec_cb, &w), 0);
    ck_assert_int_eq(wr_flush(wr, rec_cb, &f), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(f.rc, 0);
    ck_assert_int_eq(w.rc, 0);
    ck_assert_uint_eq(calls(S3_OP_MPU_PART), 2);
    ck_assert(!wr_has_parked(wr));
    wr_release(wr, NULL, NULL);
    clenv_run(&E, 1000);
    ck_assert_uint_eq(fs3_nuploads(S), 0);
}
END_TEST

START_TEST(writer_f01_flush_waits_for_close)
{
    uint8_t b[4700];
    struct cbrec w = {0}, f = {0}, c = {0};
    struct wr *wr;
    WC.flush_each_batch = false;
    start();
    wr = parked_writer(b, &w);
    ck_assert_int_eq(wr_flush(wr, rec_cb, &f), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(w.n, 0);
    ck_assert_int_eq(f.n, 0);
    ck_assert_ptr_nonnull(clenv_find_wait(&E, "500B parked below the 1.0KiB minimum part, so "
                                              "only the close can upload it "
                                              "(compaction.flush.each.batch"));
    ck_assert_ptr_nonnull(clenv_find_wait(&E, "no upload in flight"));
    ck_assert_str_eq(E.waits.v[0].who, "sso compaction 2, plan 1");
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(f.n, 1);
    ck_assert_int_eq(w.n, 1);
    ck_assert_int_eq(c.rc, 0);
    wr_release(wr, NULL, NULL);
}
END_TEST

/* ---- release --------------------------------------------------------------- */

START_TEST(writer_release_never_waits_on_parked_and_aborts)
{
    uint8_t b[4700];
    struct cbrec w = {0}, r = {0};
    struct wr *wr;
    start();
    wr = parked_writer(b, &w);
    ck_assert_uint_eq(fs3_nuploads(S), 1);
    wr_release(wr, rec_cb, &r);
    ck_assert_int_eq(w.n, 1);
    ck_assert_int_eq(w.rc, ERR_CANCELED);
    ck_assert_uint_eq(MEM.now, 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(r.n, 1);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_uint_eq(calls(S3_OP_MPU_ABORT), 1);
    ck_assert_uint_eq(fs3_nuploads(S), 0);
    ck_assert_int_eq(wr_ctx_live(X), 0);
    ck_assert_int_eq(E.waits.n, 0);
}
END_TEST

/* upload.abort.on.release false (AutoMQ, the automq default): the release frees the parked
 * bytes and returns, and the upload stays open. */
START_TEST(writer_automq_release_leaves_upload_open)
{
    uint8_t b[4700];
    struct cbrec w = {0}, r = {0};
    struct wr *wr;
    WC.abort_on_release = false;
    start();
    wr = parked_writer(b, &w);
    wr_release(wr, rec_cb, &r);
    clenv_run(&E, 10000);
    ck_assert_int_eq(r.n, 1);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_uint_eq(MEM.now, 0);
    ck_assert_uint_eq(calls(S3_OP_MPU_ABORT), 0);
    ck_assert_uint_eq(fs3_nuploads(S), 1);
    ck_assert_int_eq(wr_ctx_live(X), 0);
}
END_TEST

START_TEST(writer_release_while_create_in_flight_aborts_later)
{
    uint8_t b[5000];
    struct wr *wr;
    start();
    fill(b, sizeof b, 0, 1);
    wr = wr_open(X, "obj/11", S3_JOB_SSO_COMPACTION, NULL);
    ck_assert_int_eq(wr_write(wr, b, sizeof b, NULL, NULL), 0);
    ck_assert_uint_eq(calls(S3_OP_MPU_CREATE), 1);
    wr_release(wr, NULL, NULL);
    ck_assert_int_eq(wr_ctx_live(X), 1);
    clenv_run(&E, 10000);
    ck_assert_uint_eq(calls(S3_OP_MPU_PART), 0);
    ck_assert_uint_eq(calls(S3_OP_MPU_ABORT), 1);
    ck_assert_uint_eq(fs3_nuploads(S), 0);
    ck_assert_int_eq(wr_ctx_live(X), 0);
}
END_TEST

START_TEST(writer_f02_release_waits_on_pending)
{
    uint8_t b[4700];
    struct cbrec w = {0}, r = {0};
    struct wr *wr;
    WC.release_waits_pending = true;
    start();
    wr = parked_writer(b, &w);
    wr_release(wr, rec_cb, &r);
    clenv_run(&E, 10000);
    ck_assert_int_eq(r.n, 0);
    ck_assert_ptr_nonnull(clenv_find_wait(&E, "release of the writer for obj/9 waits"));
    ck_assert_uint_gt(MEM.now, 0);
}
END_TEST

/* F02's old code waited in MultiPartWriter.release only: a proxy writer
 * (one PutObject at close, not sent yet) is released at once either way. */
START_TEST(writer_f02_proxy_release_returns)
{
    uint8_t b[100];
    struct cbrec r = {0};
    struct wr *wr;
    WC.release_waits_pending = true;
    start();
    fill(b, sizeof b, 0, 1);
    wr = wr_open(X, "obj/10", S3_JOB_SSO_COMPACTION, NULL);
    ck_assert_int_eq(wr_write(wr, b, sizeof b, NULL, NULL), 0);
    ck_assert(!wr_is_multipart(wr));
    ck_assert(wr_has_parked(wr));
    wr_release(wr, rec_cb, &r);
    clenv_run(&E, 10000);
    ck_assert_int_eq(r.n, 1);
    ck_assert_int_eq(wr_ctx_live(X), 0);
    ck_assert_uint_eq(MEM.now, 0);
}
END_TEST

START_TEST(writer_release_in_callback)
{
    uint8_t b[100];
    struct cbrec c = {0};
    struct wr *wr;
    start();
    fill(b, sizeof b, 0, 1);
    wr = wr_open(X, "obj/12", S3_JOB_WAL_UPLOAD, NULL);
    ck_assert_int_eq(wr_write(wr, b, sizeof b, NULL, NULL), 0);
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 10000);
    wr_release(wr, NULL, NULL);
    ck_assert_int_eq(wr_ctx_live(X), 0);
    ck_assert_int_eq(c.rc, 0);
}
END_TEST

/* ---- failures ------------------------------------------------------------- */

START_TEST(writer_part_failure_completes_every_waiter)
{
    uint8_t b[9000];
    struct cbrec w[3] = {{0}}, f = {0}, c = {0}, r = {0};
    struct wr *wr;
    start();
    rule(S3_OP_MPU_PART, FS3_EFF_STATUS, 404, S3E_NO_SUCH_UPLOAD, 2);
    fill(b, sizeof b, 0, 2);
    wr = wr_open(X, "obj/13", S3_JOB_SSO_COMPACTION, NULL);
    ck_assert_int_eq(wr_write(wr, b, 4200, rec_cb, &w[0]), 0);
    ck_assert_int_eq(wr_write(wr, b + 4200, 4200, rec_cb, &w[1]), 0);
    ck_assert_int_eq(wr_write(wr, b + 8400, 600, rec_cb, &w[2]), 0);
    ck_assert_int_eq(wr_flush(wr, rec_cb, &f), 0);
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(w[1].rc, ERR_NOTFOUND);
    ck_assert_int_eq(w[2].rc, 0); /* accepted as parked by the flush; close fails */
    ck_assert_int_eq(f.rc, ERR_NOTFOUND);
    ck_assert_int_eq(c.n, 1);
    ck_assert_int_eq(c.rc, ERR_NOTFOUND);
    ck_assert_int_eq(w[0].n, 1);
    ck_assert_int_eq(E.waits.n, 0);
    ck_assert_int_eq(wr_flush(wr, NULL, NULL), ERR_BADSTATE);
    wr_release(wr, rec_cb, &r);
    clenv_run(&E, 10000);
    ck_assert_int_eq(r.n, 1);
    ck_assert_uint_eq(fs3_nuploads(S), 0);
    ck_assert(!fs3_key_exists(S, "obj/13", NULL));
    ck_assert_uint_eq(MEM.now, 0);
}
END_TEST

START_TEST(writer_put_failure_fails_close)
{
    uint8_t b[100];
    struct cbrec w = {0}, c = {0};
    struct wr *wr;
    CC.retry_max = 2;
    start();
    rule(S3_OP_PUT, FS3_EFF_STATUS, 500, S3E_NONE, 0);
    fill(b, sizeof b, 0, 2);
    wr = wr_open(X, "obj/14", S3_JOB_WAL_UPLOAD, NULL);
    ck_assert_int_eq(wr_write(wr, b, sizeof b, rec_cb, &w), 0);
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(c.rc, ERR_S3);
    ck_assert_int_eq(w.rc, ERR_S3);
    ck_assert_uint_eq(calls(S3_OP_PUT), 2);
    wr_release(wr, NULL, NULL);
    ck_assert_int_eq(wr_ctx_live(X), 0);
}
END_TEST

START_TEST(writer_f03_waiters_not_completed_on_error)
{
    uint8_t b[4700];
    struct cbrec w = {0}, f = {0};
    struct wr *wr;
    WC.complete_waiters = false;
    start();
    rule(S3_OP_MPU_PART, FS3_EFF_STATUS, 404, S3E_NO_SUCH_UPLOAD, 0);
    fill(b, sizeof b, 0, 2);
    wr = wr_open(X, "obj/15", S3_JOB_SSO_COMPACTION, NULL);
    ck_assert_int_eq(wr_write(wr, b, 4700, rec_cb, &w), 0);
    ck_assert_int_eq(wr_flush(wr, rec_cb, &f), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(wr_error(wr), ERR_NOTFOUND);
    ck_assert_int_eq(w.n, 0);
    ck_assert_int_eq(f.n, 0);
    ck_assert_int_gt((int)E.waits.n, 0);
    wr_release(wr, NULL, NULL);
    ck_assert_int_eq(w.rc, ERR_CANCELED);
}
END_TEST

START_TEST(writer_truncated_part_is_sent_again)
{
    uint8_t b[6000];
    struct cbrec c = {0};
    struct wr *wr;
    start();
    rule(S3_OP_MPU_PART, FS3_EFF_PARTIAL, 0, S3E_NONE, 1);
    fill(b, sizeof b, 0, 3);
    wr = wr_open(X, "obj/16", S3_JOB_SSO_COMPACTION, NULL);
    ck_assert_int_eq(wr_write(wr, b, sizeof b, NULL, NULL), 0);
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(s3c_stats(C)->checksum_mismatches, 1);
    ck_assert_uint_eq(calls(S3_OP_MPU_PART), 2);
    expect_object("obj/16", b, sizeof b);
    wr_release(wr, NULL, NULL);
}
END_TEST

START_TEST(writer_ctx_free_mid_flight)
{
    uint8_t b[9000];
    struct cbrec w = {0};
    struct wr *wr;
    start();
    fill(b, sizeof b, 0, 2);
    wr = wr_open(X, "obj/17", S3_JOB_SSO_COMPACTION, NULL);
    ck_assert_int_eq(wr_write(wr, b, sizeof b, rec_cb, &w), 0);
    clenv_run_until(&E, 30 * ENV_USEC_PER_MS);
    wr_ctx_free(X);
    X = NULL;
    ck_assert_int_eq(w.n, 0);
    ck_assert_uint_eq(MEM.now, 0);
    ck_assert_int_eq(E.waits.n, 0);
}
END_TEST

START_TEST(writer_stalled_part_times_out_and_retries)
{
    uint8_t b[6000];
    struct cbrec c = {0};
    struct wr *wr;
    start();
    rule(S3_OP_MPU_PART, FS3_EFF_STALL, 0, S3E_NONE, 1);
    fill(b, sizeof b, 0, 4);
    wr = wr_open(X, "obj/18", S3_JOB_SSO_COMPACTION, NULL);
    ck_assert_int_eq(wr_write(wr, b, sizeof b, NULL, NULL), 0);
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(s3c_stats(C)->timeouts, 1);
    ck_assert_int_ge(c.at, 10 * ENV_USEC_PER_SEC);
    expect_object("obj/18", b, sizeof b);
    ck_assert_uint_eq(fs3_inflight(S), 0);
    wr_release(wr, NULL, NULL);
}
END_TEST

START_TEST(writer_lost_complete_is_checked_visible)
{
    uint8_t b[6000];
    struct cbrec c = {0};
    struct wr *wr;
    REPEAT_OK = _i == 1;
    start();
    rule(S3_OP_MPU_COMPLETE, FS3_EFF_LOST, 0, S3E_NONE, 1);
    fill(b, sizeof b, 0, 5);
    wr = wr_open(X, "obj/19", S3_JOB_SSO_COMPACTION, NULL);
    ck_assert_int_eq(wr_write(wr, b, sizeof b, NULL, NULL), 0);
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 10000);
    /* the complete was applied but its answer lost: the retry answers
     * NoSuchUpload and the GET [0,1) finds the object (loop 0:
     * s3.complete.repeat nosuchupload), or answers 200 again (loop 1: ok, as
     * AWS); either way the close is durable */
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(s3c_stats(C)->visibility_checks, REPEAT_OK ? 0 : 1);
    ck_assert_uint_eq(calls(S3_OP_MPU_COMPLETE), 2);
    expect_object("obj/19", b, sizeof b);
    wr_release(wr, NULL, NULL);
    clenv_run(&E, 100);
    ck_assert_uint_eq(calls(S3_OP_MPU_ABORT), 0);
    ck_assert_uint_eq(fs3_nuploads(S), 0);
}
END_TEST

START_TEST(writer_complete_200_error_retried)
{
    uint8_t b[6000];
    struct cbrec c = {0};
    struct wr *wr;
    start();
    rule(S3_OP_MPU_COMPLETE, FS3_EFF_STATUS, 200, S3E_INTERNAL_ERROR, 1);
    fill(b, sizeof b, 0, 6);
    wr = wr_open(X, "obj/20", S3_JOB_SSO_COMPACTION, NULL);
    ck_assert_int_eq(wr_write(wr, b, sizeof b, NULL, NULL), 0);
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(c.rc, 0);
    ck_assert_uint_eq(calls(S3_OP_MPU_COMPLETE), 2);
    expect_object("obj/20", b, sizeof b);
    wr_release(wr, NULL, NULL);
}
END_TEST

/* A deterministic 400 on complete (EntityTooSmall): AutoMQ retries it
 * forever; upload.complete.invalid.abort fails the upload at once. */
START_TEST(writer_complete_entity_too_small)
{
    uint8_t b[6000];
    struct cbrec c = {0};
    struct wr *wr;
    CC.complete_invalid_abort = _i == 1;
    start();
    rule(S3_OP_MPU_COMPLETE, FS3_EFF_STATUS, 400, S3E_ENTITY_TOO_SMALL, 0);
    fill(b, sizeof b, 0, 6);
    wr = wr_open(X, "obj/21", S3_JOB_STREAM_COMPACTION, NULL);
    ck_assert_int_eq(wr_write(wr, b, sizeof b, NULL, NULL), 0);
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 10000);
    if (_i == 1) {
        ck_assert_int_eq(c.n, 1);
        ck_assert_int_ne(c.rc, 0);
        ck_assert_uint_eq(calls(S3_OP_MPU_COMPLETE), 1);
    } else {
        ck_assert_int_eq(c.n, 0); /* still retrying */
        ck_assert_uint_gt(calls(S3_OP_MPU_COMPLETE), 5);
    }
    wr_release(wr, NULL, NULL);
}
END_TEST

/* ---- the guard before the final write (late writes, docs/engine.md "Late writes") ------ */

struct guardrec {
    int calls;
    int rc;
    char key[64];
};

static int guard_fn(void *arg, const char *key)
{
    struct guardrec *g = arg;
    g->calls++;
    snprintf(g->key, sizeof g->key, "%s", key);
    return g->rc;
}

START_TEST(writer_guard_refuses_put)
{
    uint8_t b[100];
    struct cbrec w = {0}, c = {0};
    struct guardrec g = {0, ERR_ABORTED, ""};
    struct wr *wr;
    start();
    wr_ctx_set_guard(X, guard_fn, &g);
    fill(b, sizeof b, 0, 3);
    wr = wr_open(X, "obj/30", S3_JOB_WAL_UPLOAD, "wal upload 30");
    ck_assert_int_eq(wr_write(wr, b, sizeof b, rec_cb, &w), 0);
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(g.calls, 1);
    ck_assert_str_eq(g.key, "obj/30");
    ck_assert_int_eq(c.n, 1);
    ck_assert_int_eq(c.rc, ERR_ABORTED);
    ck_assert_int_eq(wr_error(wr), ERR_ABORTED);
    ck_assert_uint_eq(calls(S3_OP_PUT), 0);
    ck_assert(!fs3_key_exists(S, "obj/30", NULL));
    wr_release(wr, NULL, NULL);
    clenv_run(&E, 100);
    ck_assert_int_eq(wr_ctx_live(X), 0);
    ck_assert_uint_eq(MEM.now, 0);
}
END_TEST

START_TEST(writer_guard_refuses_complete_and_aborts)
{
    uint8_t b[7500];
    struct cbrec c = {0};
    struct guardrec g = {0, ERR_ABORTED, ""};
    struct wr *wr;
    start();
    wr_ctx_set_guard(X, guard_fn, &g);
    fill(b, sizeof b, 0, 4);
    wr = wr_open(X, "obj/31", S3_JOB_SSO_COMPACTION, "sso compaction 31");
    ck_assert_int_eq(wr_write(wr, b, sizeof b, NULL, NULL), 0);
    ck_assert(wr_is_multipart(wr));
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(g.calls, 1);
    ck_assert_int_eq(c.rc, ERR_ABORTED);
    ck_assert_uint_ge(calls(S3_OP_MPU_PART), 1);
    ck_assert_uint_eq(calls(S3_OP_MPU_COMPLETE), 0);
    ck_assert(!fs3_key_exists(S, "obj/31", NULL));
    wr_release(wr, NULL, NULL);
    clenv_run(&E, 10000);
    ck_assert_uint_eq(calls(S3_OP_MPU_ABORT), 1);
    ck_assert_uint_eq(fs3_nuploads(S), 0);
    ck_assert_int_eq(wr_ctx_live(X), 0);
}
END_TEST

START_TEST(writer_guard_passes_or_is_off)
{
    uint8_t b[100];
    struct cbrec c = {0}, d = {0};
    struct guardrec g = {0, 0, ""};
    struct wr *wr;
    start();
    wr_ctx_set_guard(X, guard_fn, &g);
    fill(b, sizeof b, 0, 5);
    wr = wr_open(X, "obj/32", S3_JOB_WAL_UPLOAD, NULL);
    ck_assert_int_eq(wr_write(wr, b, sizeof b, NULL, NULL), 0);
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(g.calls, 1);
    ck_assert_int_eq(c.rc, 0);
    expect_object("obj/32", b, sizeof b);
    wr_release(wr, NULL, NULL);
    /* upload.check.prepared false: the guard is not asked, the PUT is sent */
    wr_ctx_free(X);
    WC.check_prepared = false;
    ck_assert_int_eq(wr_ctx_new(&E.env, s3c_ops(C), &WC, &MEM, &X), 0);
    g.rc = ERR_ABORTED;
    wr_ctx_set_guard(X, guard_fn, &g);
    wr = wr_open(X, "obj/33", S3_JOB_WAL_UPLOAD, NULL);
    ck_assert_int_eq(wr_write(wr, b, sizeof b, NULL, NULL), 0);
    ck_assert_int_eq(wr_close(wr, rec_cb, &d), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(g.calls, 1);
    ck_assert_int_eq(d.rc, 0);
    expect_object("obj/33", b, sizeof b);
    wr_release(wr, NULL, NULL);
}
END_TEST

START_TEST(writer_write_take_owns_buffer)
{
    uint8_t want[5000];
    uint8_t *a = malloc(3000), *b = malloc(2000);
    struct cbrec c = {0};
    struct wr *wr;
    start();
    fill(want, sizeof want, 0, 7);
    memcpy(a, want, 3000);
    memcpy(b, want + 3000, 2000);
    wr = wr_open(X, "obj/21", S3_JOB_WAL_UPLOAD, NULL);
    ck_assert_int_eq(wr_write_take(wr, a, 3000, NULL, NULL), 0); /* becomes the buffer */
    ck_assert_uint_eq(MEM.now, 3000);
    ck_assert_int_eq(wr_write_take(wr, b, 2000, NULL, NULL), 0); /* copied, then freed */
    ck_assert_int_eq(wr_close(wr, rec_cb, &c), 0);
    ck_assert_int_eq(wr_write_take(wr, malloc(10), 10, NULL, NULL), ERR_BADSTATE);
    clenv_run(&E, 10000);
    ck_assert_int_eq(c.rc, 0);
    expect_object("obj/21", want, sizeof want);
    ck_assert_uint_eq(MEM.now, 0);
    wr_release(wr, NULL, NULL);
}
END_TEST

static Suite *writer_suite(void)
{
    Suite *s = suite_create("writer");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, writer_proxy_single_put);
    tcase_add_test(tc, writer_zero_length_write_completes);
    tcase_add_test(tc, writer_write_out_of_memory_keeps_its_word);
    tcase_add_test(tc, writer_deliver_timer_failure_keeps_its_word);
    tcase_add_test(tc, writer_release_timer_failure_keeps_its_word);
    tcase_add_test(tc, writer_switches_to_multipart);
    tcase_add_test(tc, writer_large_object_many_parts);
    tcase_add_test(tc, writer_ref_pieces_are_sent_by_reference);
    tcase_add_test(tc, writer_ref_piece_ending_where_own_bytes_end);
    tcase_add_test(tc, writer_ref_pieces_gathered_for_a_backend_without_segments);
    tcase_add_test(tc, writer_copy_rejects_bad_arguments);
    tcase_add_test(tc, writer_copy_in_proxy_is_read);
    tcase_add_test(tc, writer_copy_large_range_is_upload_part_copy);
    tcase_add_test(tc, writer_copy_top_up_branch);
    tcase_add_test(tc, writer_copy_top_up_negative_guarded);
    tcase_add_test(tc, writer_threshold_below_min_part);
    tcase_add_test(tc, writer_exactly_threshold_is_one_put);
    tcase_add_test(tc, writer_copy_read_failure_fails_waiters);
    tcase_add_test(tc, writer_flush_accepts_parked_bytes);
    tcase_add_test(tc, writer_flush_uploads_legal_part);
    tcase_add_test(tc, writer_f01_flush_waits_for_close);
    tcase_add_test(tc, writer_release_never_waits_on_parked_and_aborts);
    tcase_add_test(tc, writer_release_while_create_in_flight_aborts_later);
    tcase_add_test(tc, writer_automq_release_leaves_upload_open);
    tcase_add_test(tc, writer_f02_release_waits_on_pending);
    tcase_add_test(tc, writer_f02_proxy_release_returns);
    tcase_add_test(tc, writer_release_in_callback);
    tcase_add_test(tc, writer_part_failure_completes_every_waiter);
    tcase_add_test(tc, writer_put_failure_fails_close);
    tcase_add_test(tc, writer_f03_waiters_not_completed_on_error);
    tcase_add_test(tc, writer_truncated_part_is_sent_again);
    tcase_add_test(tc, writer_ctx_free_mid_flight);
    tcase_add_test(tc, writer_stalled_part_times_out_and_retries);
    tcase_add_loop_test(tc, writer_lost_complete_is_checked_visible, 0, 2);
    tcase_add_test(tc, writer_complete_200_error_retried);
    tcase_add_loop_test(tc, writer_complete_entity_too_small, 0, 2);
    tcase_add_test(tc, writer_write_take_owns_buffer);
    tcase_add_test(tc, writer_guard_refuses_put);
    tcase_add_test(tc, writer_guard_refuses_complete_and_aborts);
    tcase_add_test(tc, writer_guard_passes_or_is_off);
    suite_add_tcase(s, tc);
    /* 10000 parts through the fake S3: about a second, several under ASan. */
    tc = tcase_create("part-limit");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, writer_copy_up_to_the_part_limit);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(writer_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
