/*
 * test_s3client.c - the client layer (src/s3client.c) over a scripted mock
 * s3_ops: classification table, backoff, retry.max, timeouts, permits,
 * DeleteObjects batching, checksums, visibility check, F17 and F21.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "clenv.h"
#include "conf.h"
#include "err.h"
#include "s3.h"
#include "s3client.h"
#include "alloc.h"

/* ---- fixture: a scripted mock s3_ops ---------------------------------- */

/* One scripted answer; unscripted calls answer 200 after 10 ms. */
struct mans {
    enum s3_transport tr;
    int status;
    enum s3_code code;
    int64_t delay; /* 0: 10 ms */
    int never;     /* never answer (a stall; the client must cancel) */
    int bad_etag;  /* answer a wrong ETag / checksum */
};

struct mrec {
    enum s3_op op;
    char key[64];
    size_t nkeys;
    int64_t at;
    struct s3_checksum cksum;
};

struct mpend {
    struct s3_req *req;
    uint64_t ev;
    struct mans ans;
    int live;
    struct mock *m;
};

struct mock {
    struct s3_ops ops;
    struct clenv *e;
    struct mans script[64];
    int nscript, next;
    struct mrec rec[4096];
    int nrec;
    struct mpend pend[4096];
    int npend;
    int inflight, inflight_peak, cancels;
    int flaky_left; /* delete-many: "flaky*" keys fail with InternalError this many calls */
};

static void mock_deliver(void *arg);

static int mock_submit(struct s3_ops *ops, struct s3_req *req)
{
    struct mock *m = ops->impl;
    struct mpend *p;
    struct mans a = {0};
    struct mrec *r = &m->rec[m->nrec++ % 4096];
    if (m->next < m->nscript)
        a = m->script[m->next++];
    if (!a.status && a.tr == S3_TR_OK)
        a.status = 200;
    r->op = req->op;
    snprintf(r->key, sizeof r->key, "%s", req->key ? req->key : "");
    r->nkeys = req->nkeys;
    r->at = m->e->now;
    r->cksum = req->cksum;
    p = &m->pend[m->npend++ % 4096];
    p->req = req;
    p->m = m;
    p->ans = a;
    p->live = 1;
    if (++m->inflight > m->inflight_peak)
        m->inflight_peak = m->inflight;
    if (!a.never)
        p->ev = env_timer(&m->e->env, a.delay ? a.delay : 10 * ENV_USEC_PER_MS, mock_deliver, p);
    return 0;
}

static void mock_cancel(struct s3_ops *ops, struct s3_req *req)
{
    struct mock *m = ops->impl;
    for (int i = 0; i < 4096; i++) {
        if (m->pend[i].live && m->pend[i].req == req) {
            env_cancel(&m->e->env, m->pend[i].ev);
            m->pend[i].live = 0;
            m->inflight--;
            m->cancels++;
            return;
        }
    }
    ck_abort_msg("cancel of an unknown request");
}

static void mock_fill_delete(struct mock *m, struct s3_req *req, struct s3_result *res)
{
    res->deleted = calloc(req->nkeys, sizeof *res->deleted);
    res->ndeleted = req->nkeys;
    for (size_t i = 0; i < req->nkeys; i++) {
        const char *k = req->keys[i];
        res->deleted[i].key = k;
        if (strncmp(k, "gone", 4) == 0)
            res->deleted[i].code = S3E_NO_SUCH_KEY;
        else if (strncmp(k, "perm", 4) == 0)
            res->deleted[i].code = S3E_ACCESS_DENIED;
        else if (strncmp(k, "flaky", 5) == 0 && m->flaky_left > 0)
            res->deleted[i].code = S3E_INTERNAL_ERROR;
    }
    if (m->flaky_left > 0)
        m->flaky_left--;
}

static void mock_deliver(void *arg)
{
    struct mpend *p = arg;
    struct mock *m = p->m;
    struct s3_req *req = p->req;
    struct s3_result res;
    memset(&res, 0, sizeof res);
    p->live = 0;
    res.transport = p->ans.tr;
    res.status = p->ans.status;
    res.code = p->ans.code;
    if (res.transport == S3_TR_OK && res.status == 200 && res.code == S3E_NONE) {
        if (req->op == S3_OP_PUT || req->op == S3_OP_MPU_PART) {
            s3_etag_md5(req->body, req->body_len, res.etag);
            res.cksum = req->cksum;
            if (p->ans.bad_etag) {
                res.etag[1] = res.etag[1] == '0' ? '1' : '0';
                res.cksum.value[0] ^= 1;
            }
        }
        if (req->op == S3_OP_GET) {
            res.body = malloc(1);
            res.body[0] = 'x';
            res.body_len = 1;
        }
        if (req->op == S3_OP_MPU_CREATE)
            snprintf(res.upload_id, sizeof res.upload_id, "u1");
    }
    if (req->op == S3_OP_DELETE_MANY && res.status == 200)
        mock_fill_delete(m, req, &res);
    m->inflight--;
    req->cb(req, &res);
    s3_result_cleanup(&res);
}

static struct clenv E;
static struct mock M;
static struct s3c *C;
static struct s3c_conf CONF;

static void mock_init(void)
{
    memset(&M, 0, sizeof M);
    M.e = &E;
    M.ops.impl = &M;
    M.ops.name = "mock";
    M.ops.submit = mock_submit;
    M.ops.cancel = mock_cancel;
}

static void script(struct mans a)
{
    M.script[M.nscript++] = a;
}

static void setup(void)
{
    clenv_init(&E, 42);
    mock_init();
    s3c_conf_default(&CONF);
    C = NULL;
}

static void teardown(void)
{
    s3c_free(C);
    clenv_fini(&E);
}

static void client(void)
{
    ck_assert_int_eq(s3c_new(&E.env, &M.ops, &CONF, &C), 0);
}

/* ---- helpers: a caller's request --------------------------------------- */

struct got {
    int n;
    enum s3_transport tr;
    int status;
    enum s3_code code;
    int64_t at;
    struct s3_delete_entry *del;
    size_t ndel;
};

static void got_cb(struct s3_req *req, struct s3_result *res)
{
    struct got *g = req->arg;
    g->n++;
    g->tr = res->transport;
    g->status = res->status;
    g->code = res->code;
    g->at = E.now;
    if (res->deleted && res->ndeleted) {
        g->del = malloc(res->ndeleted * sizeof *g->del);
        memcpy(g->del, res->deleted, res->ndeleted * sizeof *g->del);
        g->ndel = res->ndeleted;
    }
}

static uint8_t BODY[100];

static int do_op(struct s3_req *req, enum s3_op op, const char *key, struct got *g)
{
    memset(req, 0, sizeof *req);
    memset(g, 0, sizeof *g);
    req->key = key;
    req->range_end = -1;
    req->body = BODY;
    req->body_len = sizeof BODY;
    req->upload_id = "u1";
    req->part_number = 1;
    req->copy_source = "src";
    req->job = S3_JOB_SSO_COMPACTION;
    return s3_submit_op(s3c_ops(C), op, req, got_cb, g);
}

/* Runs one op against the script, returns the attempts it took. */
static int run_op(enum s3_op op, struct got *g)
{
    struct s3_req req;
    int before = M.nrec;
    ck_assert_int_eq(do_op(&req, op, "k1", g), 0);
    clenv_run(&E, 100000);
    ck_assert_int_eq(g->n, 1);
    return M.nrec - before;
}

/* ---- classification ------------------------------------------------------ */

START_TEST(s3client_result_err_maps_404_by_status_or_code)
{
    /* Not found is a 404 whatever its code, or a NoSuchKey/NoSuchUpload code
     * whatever the status (S3-compatible stores differ in both). */
    struct s3_result r;
    memset(&r, 0, sizeof r);
    r.transport = S3_TR_OK;
    r.status = 404;
    r.code = S3E_NONE;
    ck_assert_int_eq(s3c_result_err(&r), ERR_NOTFOUND);
    r.code = S3E_NO_SUCH_BUCKET;
    ck_assert_int_eq(s3c_result_err(&r), ERR_NOTFOUND);
    r.status = 500;
    r.code = S3E_NO_SUCH_KEY;
    ck_assert_int_eq(s3c_result_err(&r), ERR_NOTFOUND);
    r.code = S3E_NO_SUCH_UPLOAD;
    ck_assert_int_eq(s3c_result_err(&r), ERR_NOTFOUND);
    r.code = S3E_ACCESS_DENIED;
    r.status = 403;
    ck_assert_int_eq(s3c_result_err(&r), ERR_S3);
}
END_TEST

START_TEST(s3client_404_aborts_every_op)
{
    static const enum s3_op ops[] = {S3_OP_GET, S3_OP_PUT, S3_OP_HEAD, S3_OP_DELETE,
                                     S3_OP_MPU_CREATE};
    client();
    for (unsigned i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        struct got g;
        script((struct mans){.status = 404, .code = S3E_NO_SUCH_KEY});
        ck_assert_int_eq(run_op(ops[i], &g), 1);
        ck_assert_int_eq(g.status, 404);
        ck_assert_int_eq(g.code, S3E_NO_SUCH_KEY);
    }
    ck_assert_int_eq(E.waits.n, 0);
}
END_TEST

START_TEST(s3client_errors_retry_then_succeed)
{
    static const struct mans fails[] = {
        {.status = 500, .code = S3E_INTERNAL_ERROR},
        {.status = 503, .code = S3E_SLOW_DOWN},
        {.status = 403, .code = S3E_ACCESS_DENIED},
        {.status = 400, .code = S3E_INVALID_REQUEST},
        {.status = 409, .code = S3E_OTHER},
        {.tr = S3_TR_RESET},
        {.tr = S3_TR_CONNECT},
        {.tr = S3_TR_TIMEOUT},
        {.tr = S3_TR_OTHER},
    };
    client();
    for (unsigned i = 0; i < sizeof fails / sizeof fails[0]; i++) {
        struct got g;
        script(fails[i]);
        ck_assert_int_eq(run_op(S3_OP_PUT, &g), 2);
        ck_assert_int_eq(g.status, 200);
        ck_assert_int_eq(g.code, S3E_NONE);
    }
    ck_assert_uint_eq(s3c_stats(C)->retries, 9);
}
END_TEST

START_TEST(s3client_200_with_error_retries)
{
    struct got g;
    client();
    script((struct mans){.status = 200, .code = S3E_INTERNAL_ERROR});
    ck_assert_int_eq(run_op(S3_OP_MPU_COMPLETE, &g), 2);
    ck_assert_int_eq(g.code, S3E_NONE);
    /* With one attempt allowed the caller gets that error. */
    s3c_free(C);
    CONF.retry_max = 1;
    client();
    script((struct mans){.status = 200, .code = S3E_INTERNAL_ERROR});
    ck_assert_int_eq(run_op(S3_OP_MPU_COMPLETE, &g), 1);
    ck_assert_int_eq(g.status, 200);
    ck_assert_int_eq(g.code, S3E_INTERNAL_ERROR);
}
END_TEST

START_TEST(s3client_nosuchupload_aborts_part_and_copy)
{
    struct got g;
    client();
    script((struct mans){.status = 404, .code = S3E_NO_SUCH_UPLOAD});
    ck_assert_int_eq(run_op(S3_OP_MPU_PART, &g), 1);
    ck_assert_int_eq(g.code, S3E_NO_SUCH_UPLOAD);
    script((struct mans){.status = 404, .code = S3E_NO_SUCH_UPLOAD});
    ck_assert_int_eq(run_op(S3_OP_MPU_COPY, &g), 1);
    ck_assert_int_eq(g.code, S3E_NO_SUCH_UPLOAD);
}
END_TEST

START_TEST(s3client_visibility_check_readable_is_done)
{
    struct got g;
    client();
    script((struct mans){.status = 404, .code = S3E_NO_SUCH_UPLOAD});
    /* the GET [0,1) answers 200 by default */
    ck_assert_int_eq(run_op(S3_OP_MPU_COMPLETE, &g), 2);
    ck_assert_int_eq(M.rec[1].op, S3_OP_GET);
    ck_assert_int_eq(g.status, 200);
    ck_assert_int_eq(g.code, S3E_NONE);
    ck_assert_uint_eq(s3c_stats(C)->visibility_checks, 1);
}
END_TEST

START_TEST(s3client_visibility_check_absent_gives_up)
{
    struct got g;
    client();
    script((struct mans){.status = 404, .code = S3E_NO_SUCH_UPLOAD});
    script((struct mans){.status = 404, .code = S3E_NO_SUCH_KEY});
    /* The upload is gone and so is the object: no retry of the complete can
     * ever succeed, so the call fails and the writer starts over. */
    ck_assert_int_eq(run_op(S3_OP_MPU_COMPLETE, &g), 2);
    ck_assert_int_eq(M.rec[0].op, S3_OP_MPU_COMPLETE);
    ck_assert_int_eq(M.rec[1].op, S3_OP_GET);
    ck_assert_int_eq(g.status, 404);
    ck_assert_int_eq(g.code, S3E_NO_SUCH_UPLOAD);
}
END_TEST

START_TEST(s3client_automq_visibility_check_absent_retries)
{
    /* upload.complete.absent.fails false (AutoMQ): an absent object is not a verdict, the
     * complete is retried (here the retry succeeds). */
    struct got g;
    CONF.complete_absent_fails = false;
    client();
    script((struct mans){.status = 404, .code = S3E_NO_SUCH_UPLOAD});
    script((struct mans){.status = 404, .code = S3E_NO_SUCH_KEY});
    ck_assert_int_eq(run_op(S3_OP_MPU_COMPLETE, &g), 3);
    ck_assert_int_eq(M.rec[1].op, S3_OP_GET);
    ck_assert_int_eq(M.rec[2].op, S3_OP_MPU_COMPLETE);
    ck_assert_int_eq(g.code, S3E_NONE);
}
END_TEST

START_TEST(s3client_visibility_check_unreadable_retries)
{
    struct got g;
    client();
    script((struct mans){.status = 404, .code = S3E_NO_SUCH_UPLOAD});
    script((struct mans){.status = 500, .code = S3E_INTERNAL_ERROR});
    /* The check itself failed: nothing is known, the complete is retried and
     * succeeds. */
    ck_assert_int_eq(run_op(S3_OP_MPU_COMPLETE, &g), 3);
    ck_assert_int_eq(M.rec[0].op, S3_OP_MPU_COMPLETE);
    ck_assert_int_eq(M.rec[1].op, S3_OP_GET);
    ck_assert_int_eq(M.rec[2].op, S3_OP_MPU_COMPLETE);
    ck_assert_int_eq(g.code, S3E_NONE);
}
END_TEST

/* ---- backoff and retry.max --------------------------------------------- */

static void backoff_times(uint64_t seed, int64_t *at, int n)
{
    struct got g;
    clenv_init(&E, seed);
    mock_init();
    CONF.retry_max = n;
    client();
    for (int i = 0; i < n; i++)
        script((struct mans){.status = 500, .code = S3E_INTERNAL_ERROR});
    ck_assert_int_eq(run_op(S3_OP_PUT, &g), n);
    ck_assert_int_eq(g.status, 500);
    for (int i = 0; i < n; i++)
        at[i] = M.rec[i].at;
    s3c_free(C);
    C = NULL;
    clenv_fini(&E);
}

START_TEST(s3client_backoff_bounds_and_determinism)
{
    enum { N = 12 };
    int64_t a[N], b[N], c[N];
    const int64_t ms = ENV_USEC_PER_MS, lat = 10 * ms;
    backoff_times(7, a, N);
    backoff_times(7, b, N);
    backoff_times(8, c, N);
    ck_assert_mem_eq(a, b, sizeof a);
    ck_assert_int_ne(memcmp(a, c, sizeof a), 0);
    for (int n = 0; n + 1 < N; n++) {
        int64_t base = (int64_t)1000 << (n < 16 ? n : 16);
        int64_t gap = a[n + 1] - a[n] - lat;
        if (base > 60000)
            base = 60000;
        ck_assert_int_ge(gap, base * ms);
        ck_assert_int_le(gap, (base + 999) * ms);
    }
    clenv_init(&E, 1); /* for teardown */
}
END_TEST

START_TEST(s3client_retry_max_bounds_attempts)
{
    struct got g;
    CONF.retry_max = 3;
    client();
    for (int i = 0; i < 10; i++)
        script((struct mans){.status = 503, .code = S3E_SLOW_DOWN});
    ck_assert_int_eq(run_op(S3_OP_GET, &g), 3);
    ck_assert_int_eq(g.status, 503);
    ck_assert_int_eq(g.code, S3E_SLOW_DOWN);
    ck_assert_uint_eq(s3c_stats(C)->failures, 1);
    ck_assert_int_eq(E.waits.n, 0);
}
END_TEST

/* ---- timeouts ------------------------------------------------------------ */

START_TEST(s3client_attempt_timeout_cancels_and_retries)
{
    struct s3_req req;
    struct got g;
    client();
    script((struct mans){.never = 1});
    ck_assert_int_eq(do_op(&req, S3_OP_PUT, "k1", &g), 0);
    clenv_run_until(&E, 5 * ENV_USEC_PER_SEC);
    ck_assert_ptr_nonnull(
        clenv_find_wait(&E, "put of k1 attempt 1 in flight, attempt timeout 10s"));
    clenv_run(&E, 1000);
    ck_assert_int_eq(g.n, 1);
    ck_assert_int_eq(g.status, 200);
    ck_assert_int_eq(M.cancels, 1);
    ck_assert_int_eq(M.nrec, 2);
    ck_assert_int_eq(M.rec[0].at, 0);
    ck_assert_int_ge(M.rec[1].at, 11 * ENV_USEC_PER_SEC);
    ck_assert_uint_eq(s3c_stats(C)->timeouts, 1);
    ck_assert_int_eq(E.waits.n, 0);
}
END_TEST

START_TEST(s3client_read_timeout_ends_get)
{
    struct s3_req req;
    struct got g;
    CONF.op_timeout_us = ENV_TIME_NEVER;
    client();
    script((struct mans){.never = 1});
    ck_assert_int_eq(do_op(&req, S3_OP_GET, "k1", &g), 0);
    clenv_run(&E, 1000);
    ck_assert_int_eq(g.n, 1);
    ck_assert_int_eq(g.tr, S3_TR_TIMEOUT);
    ck_assert_int_eq(g.at, 2 * ENV_USEC_PER_MIN);
    ck_assert_int_eq(M.cancels, 1);
    ck_assert_uint_eq(s3c_stats(C)->read_timeouts, 1);
    ck_assert_int_eq(E.waits.n, 0);
}
END_TEST

START_TEST(s3client_read_timeout_spans_attempts)
{
    struct s3_req req;
    struct got g;
    client(); /* 10 s attempts, 2 min whole read */
    for (int i = 0; i < 20; i++)
        script((struct mans){.never = 1});
    ck_assert_int_eq(do_op(&req, S3_OP_GET, "k1", &g), 0);
    clenv_run(&E, 1000);
    ck_assert_int_eq(g.tr, S3_TR_TIMEOUT);
    ck_assert_int_eq(g.at, 2 * ENV_USEC_PER_MIN);
    ck_assert_int_gt(M.nrec, 2);
    ck_assert_int_eq(M.inflight, 0);
}
END_TEST

START_TEST(s3client_f21_copy_timeout_doubles)
{
    struct s3_req req;
    struct got g;
    CONF.retry_max = 5;
    client();
    for (int i = 0; i < 5; i++)
        script((struct mans){.never = 1});
    ck_assert_int_eq(do_op(&req, S3_OP_MPU_COPY, "k1", &g), 0);
    clenv_run(&E, 1000);
    ck_assert_int_eq(g.tr, S3_TR_TIMEOUT);
    /* attempts at 0, 2m+1s, +4m+1s, +8m+1s, +10m+1s */
    ck_assert_int_eq(M.rec[1].at, 2 * ENV_USEC_PER_MIN + ENV_USEC_PER_SEC);
    ck_assert_int_eq(M.rec[2].at - M.rec[1].at, 4 * ENV_USEC_PER_MIN + ENV_USEC_PER_SEC);
    ck_assert_int_eq(M.rec[3].at - M.rec[2].at, 8 * ENV_USEC_PER_MIN + ENV_USEC_PER_SEC);
    ck_assert_int_eq(M.rec[4].at - M.rec[3].at, 10 * ENV_USEC_PER_MIN + ENV_USEC_PER_SEC);
}
END_TEST

START_TEST(s3client_f21_copy_short_timeout_when_switch_off)
{
    struct s3_req req;
    struct got g;
    CONF.retry_max = 3;
    CONF.copy_timeout_backoff = false;
    client();
    for (int i = 0; i < 3; i++)
        script((struct mans){.never = 1});
    ck_assert_int_eq(do_op(&req, S3_OP_MPU_COPY, "k1", &g), 0);
    clenv_run(&E, 1000);
    ck_assert_int_eq(M.rec[1].at, 11 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(M.rec[2].at - M.rec[1].at, 11 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(g.tr, S3_TR_TIMEOUT);
}
END_TEST

/* ---- permits ------------------------------------------------------------- */

START_TEST(s3client_permits_queue_fifo)
{
    struct s3_req req[6];
    struct got g[6];
    static const char *const keys[] = {"a", "b", "c", "d", "e", "f"};
    CONF.permits = 2;
    client();
    for (int i = 0; i < 6; i++)
        script((struct mans){.delay = ENV_USEC_PER_SEC});
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(do_op(&req[i], S3_OP_PUT, keys[i], &g[i]), 0);
    ck_assert_int_eq(M.nrec, 2);
    ck_assert_int_eq(s3c_stats(C)->queued, 4);
    ck_assert_ptr_nonnull(clenv_find_wait(&E, "queued for an in-flight permit (2 of 2 in use)"));
    clenv_run(&E, 1000);
    ck_assert_int_eq(M.inflight_peak, 2);
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(g[i].n, 1);
        ck_assert_str_eq(M.rec[i].key, keys[i]);
    }
    ck_assert_int_eq(g[5].at, 3 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(s3c_stats(C)->queued_peak, 4);
}
END_TEST

START_TEST(s3client_cancel_queued_and_inflight)
{
    struct s3_req req[3];
    struct got g[3];
    CONF.permits = 1;
    client();
    script((struct mans){.delay = ENV_USEC_PER_SEC});
    ck_assert_int_eq(do_op(&req[0], S3_OP_PUT, "a", &g[0]), 0);
    ck_assert_int_eq(do_op(&req[1], S3_OP_PUT, "b", &g[1]), 0);
    ck_assert_int_eq(do_op(&req[2], S3_OP_PUT, "c", &g[2]), 0);
    s3_cancel(s3c_ops(C), &req[1]); /* queued */
    s3_cancel(s3c_ops(C), &req[0]); /* in flight: c starts */
    ck_assert_int_eq(M.cancels, 1);
    ck_assert_int_eq(M.nrec, 2);
    ck_assert_str_eq(M.rec[1].key, "c");
    clenv_run(&E, 1000);
    ck_assert_int_eq(g[0].n, 0);
    ck_assert_int_eq(g[1].n, 0);
    ck_assert_int_eq(g[2].n, 1);
    ck_assert_int_eq(s3c_pending(C), 0);
    ck_assert_int_eq(E.waits.n, 0);
}
END_TEST

/* ---- F22 (#1487): a retry that re-enters the public method -------------- */

/* Fixed: the retry belongs to the caller's call; its permit comes back. */
START_TEST(s3client_f22_retry_answers_caller)
{
    struct s3_req req;
    struct got g;
    client();
    script((struct mans){.status = 500, .code = S3E_INTERNAL_ERROR});
    ck_assert_int_eq(do_op(&req, S3_OP_MPU_PART, "k1", &g), 0);
    clenv_run(&E, 1000);
    ck_assert_int_eq(g.n, 1);
    ck_assert_int_eq(g.status, 200);
    ck_assert_int_eq(M.nrec, 2);
    ck_assert_uint_eq(s3c_stats(C)->reentries, 0);
    ck_assert_int_eq(s3c_stats(C)->inflight, 0);
    ck_assert_int_eq(s3c_pending(C), 0);
    ck_assert_int_eq(E.waits.n, 0);
}
END_TEST

/* Before #1487: the retry is a new call nobody hears; the caller is never
 * answered and its permit is never given back, until permits run out and
 * every later call queues forever.  Cancelling the lost call frees its permit
 * and the calls repeating it.  Reads keep their call. */
START_TEST(s3client_f22_retry_reenters_and_loses_caller)
{
    struct s3_req req[4];
    struct got g[4];
    CONF.retry_same_call = false;
    CONF.permits = 2;
    CONF.read_timeout_us = ENV_TIME_NEVER; /* the queued read waits as long as it takes */
    client();
    script((struct mans){.status = 500, .code = S3E_INTERNAL_ERROR});
    ck_assert_int_eq(do_op(&req[0], S3_OP_PUT, "a", &g[0]), 0);
    clenv_run(&E, 1000);
    ck_assert_int_eq(M.nrec, 2); /* the retry reached the store, and succeeded */
    ck_assert_str_eq(M.rec[1].key, "a");
    ck_assert_int_eq(g[0].n, 0);
    ck_assert_uint_eq(s3c_stats(C)->reentries, 1);
    ck_assert_int_eq(s3c_stats(C)->inflight, 1);
    ck_assert_int_eq(s3c_pending(C), 1);
    ck_assert_ptr_nonnull(clenv_find_wait(&E, "this call is never answered and holds its permit"));
    /* A second lost call takes the last permit. */
    script((struct mans){.tr = S3_TR_RESET});
    ck_assert_int_eq(do_op(&req[1], S3_OP_MPU_COMPLETE, "b", &g[1]), 0);
    clenv_run(&E, 1000);
    ck_assert_int_eq(g[1].n, 0);
    ck_assert_int_eq(s3c_stats(C)->inflight, 2);
    ck_assert_int_eq(M.nrec, 3); /* its repeating call waits for a permit */
    ck_assert_int_eq(s3c_stats(C)->queued, 1);
    /* Now nothing starts: a read queues behind the lost permits. */
    ck_assert_int_eq(do_op(&req[2], S3_OP_GET, "c", &g[2]), 0);
    clenv_run(&E, 1000);
    ck_assert_int_eq(M.nrec, 3);
    ck_assert_int_eq(g[2].n, 0);
    ck_assert_int_eq(s3c_stats(C)->queued, 2);
    /* The caller gives up on the first call: its permit comes back; the
     * complete's repeat goes first (nobody hears it), then the read. */
    s3_cancel(s3c_ops(C), &req[0]);
    clenv_run(&E, 1000);
    ck_assert_int_eq(g[2].n, 1);
    ck_assert_int_eq(g[2].status, 200);
    ck_assert_int_eq(s3c_stats(C)->inflight, 1);
    /* A read's retry stays the caller's. */
    script((struct mans){.status = 503, .code = S3E_SLOW_DOWN});
    ck_assert_int_eq(do_op(&req[3], S3_OP_GET, "d", &g[3]), 0);
    clenv_run(&E, 1000);
    ck_assert_int_eq(g[3].n, 1);
    ck_assert_int_eq(g[3].status, 200);
    ck_assert_uint_eq(s3c_stats(C)->reentries, 2);
}
END_TEST

/* Out of memory in the F22 re-entry (in the spirit of SQLite's malloc
 * tests): each allocation of a failed attempt's handling fails in turn.
 * When the call repeating the request cannot be allocated, the client falls
 * back to retrying the caller's own call: the caller is answered (never a call
 * that nobody repeats and nobody answers). */
START_TEST(s3client_f22_reentry_out_of_memory_retries_same_call)
{
    int fell_back = 0;
    for (uint64_t n = 1; n <= 16; n++) {
        struct s3_req req;
        struct got g;
        uint64_t injected;
        teardown();
        setup();
        CONF.retry_same_call = false;
        client();
        script((struct mans){.status = 500, .code = S3E_INTERNAL_ERROR});
        ck_assert_int_eq(do_op(&req, S3_OP_PUT, "a", &g), 0);
        while (M.nrec < 1 && clenv_step(&E))
            ;
        /* The 500 is on its way: fail the nth allocation from its delivery on. */
        sim_alloc_fail_nth(n);
        clenv_run(&E, 1000);
        injected = sim_alloc_injected();
        sim_alloc_fail_off();
        if (!injected)
            break; /* no nth allocation: every one was failed once */
        if (s3c_stats(C)->reentries == 1) {
            /* The re-entry was allocated (another allocation failed): the
             * caller is lost by design (F22) and the retry reached the store. */
            ck_assert_int_eq(M.nrec, 2);
            ck_assert_int_eq(g.n, 0);
            s3_cancel(s3c_ops(C), &req);
            continue;
        }
        fell_back++;
        ck_assert_int_eq(M.nrec, 2); /* the caller's own call was retried */
        ck_assert_int_eq(g.n, 1);
        ck_assert_int_eq(g.status, 200);
        ck_assert_int_eq(s3c_stats(C)->inflight, 0);
        ck_assert_int_eq(s3c_pending(C), 0);
    }
    ck_assert_int_ge(fell_back, 1); /* the re-entry's own allocation was failed */
}
END_TEST

/* A call repeating a lost one is cancelled with it, even in its backoff, and
 * re-enters again on its own failure. */
START_TEST(s3client_f22_cancel_frees_repeating_calls)
{
    struct s3_req req;
    struct got g;
    CONF.retry_same_call = false;
    client();
    script((struct mans){.status = 500, .code = S3E_INTERNAL_ERROR});
    script((struct mans){.status = 500, .code = S3E_INTERNAL_ERROR});
    script((struct mans){.never = 1});
    ck_assert_int_eq(do_op(&req, S3_OP_MPU_CREATE, "k", &g), 0);
    /* Run until the third attempt (a stall) is in flight. */
    while (M.nrec < 3 && clenv_step(&E))
        ;
    ck_assert_int_eq(M.nrec, 3);
    ck_assert_uint_eq(s3c_stats(C)->reentries, 2);
    ck_assert_int_eq(s3c_stats(C)->inflight, 3); /* two lost permits, one attempt */
    ck_assert_int_eq(s3c_pending(C), 3);
    s3_cancel(s3c_ops(C), &req);
    ck_assert_int_eq(M.cancels, 1);
    ck_assert_int_eq(s3c_pending(C), 0);
    ck_assert_int_eq(s3c_stats(C)->inflight, 0);
    ck_assert_int_eq(E.waits.n, 0);
    clenv_run(&E, 1000);
    ck_assert_int_eq(g.n, 0);
}
END_TEST

/* ---- DeleteObjects ------------------------------------------------------- */

START_TEST(s3client_delete_many_batches_and_per_key)
{
    enum { N = 2500 };
    static char names[N][16];
    static const char *keys[N];
    struct s3_req req;
    struct got g;
    client();
    M.flaky_left = 2;
    for (int i = 0; i < N; i++) {
        const char *p = i % 10 == 1 ? "gone" : i % 10 == 2 ? "flaky" : i == 2003 ? "perm" : "k";
        snprintf(names[i], sizeof names[i], "%s%d", p, i);
        keys[i] = names[i];
    }
    memset(&req, 0, sizeof req);
    memset(&g, 0, sizeof g);
    req.keys = keys;
    req.nkeys = N;
    req.job = S3_JOB_CLEANER;
    ck_assert_int_eq(s3_delete_many(s3c_ops(C), &req, got_cb, &g), 0);
    clenv_run(&E, 10000);
    ck_assert_int_eq(g.n, 1);
    /* 3 calls of 1000, 1000, 500; the flaky keys of the first two calls get
     * InternalError (flaky_left = 2), retried alone after 1 s. */
    ck_assert_int_eq(M.rec[0].nkeys, 1000);
    ck_assert_int_eq(M.rec[1].nkeys, 1000);
    ck_assert_int_eq(M.rec[2].nkeys, 500);
    ck_assert_int_eq(M.nrec, 5);
    ck_assert_int_eq(M.rec[3].nkeys, 100);
    ck_assert_int_eq(M.rec[4].nkeys, 100);
    ck_assert_int_eq(M.rec[3].at, 10 * ENV_USEC_PER_MS + ENV_USEC_PER_SEC);
    ck_assert_uint_eq(s3c_stats(C)->max_keys_per_delete, 1000);
    ck_assert_uint_eq(g.ndel, N);
    for (int i = 0; i < N; i++) {
        ck_assert_ptr_eq(g.del[i].key, keys[i]);
        ck_assert_int_eq(g.del[i].code, i == 2003 ? S3E_ACCESS_DENIED : S3E_NONE);
    }
    ck_assert_int_eq(g.code, S3E_ACCESS_DENIED);
    free(g.del);
    ck_assert_int_eq(E.waits.n, 0);
}
END_TEST

/* F26 (#1518): fixed, 1500 keys go as calls of 1000 and 500 and succeed;
 * before the fix they go as one call, which S3 refuses (400 MalformedXML,
 * not retried): every key fails. */
START_TEST(s3client_f26_delete_many_split_or_whole)
{
    enum { N = 1500 };
    static char names[N][16];
    static const char *keys[N];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "k%d", i);
        keys[i] = names[i];
    }
    for (int split = 1; split >= 0; split--) {
        struct s3_req req;
        struct got g;
        s3c_free(C);
        mock_init();
        CONF.delete_split = split;
        client();
        if (!split)
            script((struct mans){.status = 400, .code = S3E_MALFORMED_XML});
        memset(&req, 0, sizeof req);
        memset(&g, 0, sizeof g);
        req.keys = keys;
        req.nkeys = N;
        req.job = S3_JOB_CLEANER;
        ck_assert_int_eq(s3_delete_many(s3c_ops(C), &req, got_cb, &g), 0);
        clenv_run(&E, 10000);
        ck_assert_int_eq(g.n, 1);
        ck_assert_uint_eq(g.ndel, N);
        if (split) {
            ck_assert_int_eq(M.nrec, 2);
            ck_assert_int_eq(M.rec[0].nkeys, 1000);
            ck_assert_int_eq(M.rec[1].nkeys, 500);
            ck_assert_uint_eq(s3c_stats(C)->max_keys_per_delete, 1000);
            ck_assert_int_eq(g.code, S3E_NONE);
        } else {
            ck_assert_int_eq(M.nrec, 1);
            ck_assert_int_eq(M.rec[0].nkeys, N);
            ck_assert_uint_eq(s3c_stats(C)->max_keys_per_delete, N);
            ck_assert_int_eq(g.code, S3E_MALFORMED_XML);
            for (int i = 0; i < N; i++)
                ck_assert_int_eq(g.del[i].code, S3E_MALFORMED_XML);
        }
        free(g.del);
        ck_assert_int_eq(E.waits.n, 0);
    }
}
END_TEST

/* F27 (#3392/#3393): four callers' deletes with 2 request slots.  Fixed: four
 * calls, only the caller with the refused key fails.  Before the fix the
 * third and fourth callers' batches, queued, go merged as one call, and the
 * fourth's refused key fails the third caller too. */
START_TEST(s3client_f27_merged_delete_fails_every_caller)
{
    static const char *ka[] = {"a0", "a1"}, *kb[] = {"b0", "b1"}, *kc[] = {"c0", "c1"},
                      *kd[] = {"perm-d0", "d1"};
    static const char *const *keys[4] = {ka, kb, kc, kd};
    for (int per_key = 1; per_key >= 0; per_key--) {
        struct s3_req req[4];
        struct got g[4];
        s3c_free(C);
        mock_init();
        CONF.permits = 2;
        CONF.delete_per_key = per_key;
        client();
        for (int i = 0; i < 4; i++) {
            memset(&req[i], 0, sizeof req[i]);
            memset(&g[i], 0, sizeof g[i]);
            req[i].keys = keys[i];
            req[i].nkeys = 2;
            req[i].job = S3_JOB_CLEANER;
            ck_assert_int_eq(s3_delete_many(s3c_ops(C), &req[i], got_cb, &g[i]), 0);
        }
        clenv_run(&E, 10000);
        for (int i = 0; i < 4; i++)
            ck_assert_int_eq(g[i].n, 1);
        ck_assert_int_eq(g[0].code, S3E_NONE);
        ck_assert_int_eq(g[1].code, S3E_NONE);
        ck_assert_int_eq(g[3].code, S3E_ACCESS_DENIED);
        ck_assert_int_eq(g[3].del[0].code, S3E_ACCESS_DENIED);
        ck_assert_int_eq(g[3].del[1].code, S3E_NONE);
        if (per_key) {
            ck_assert_int_eq(M.nrec, 4);
            for (int i = 0; i < 4; i++)
                ck_assert_int_eq(M.rec[i].nkeys, 2);
            ck_assert_int_eq(g[2].code, S3E_NONE);
        } else {
            ck_assert_int_eq(M.nrec, 3);
            ck_assert_int_eq(M.rec[2].nkeys, 4); /* c0 c1 perm-d0 d1 */
            ck_assert_int_eq(g[2].code, S3E_ACCESS_DENIED);
            ck_assert_int_eq(g[2].del[0].code, S3E_NONE); /* its own keys are gone */
            ck_assert_int_eq(g[2].del[1].code, S3E_NONE);
        }
        for (int i = 0; i < 4; i++)
            free(g[i].del);
        ck_assert_int_eq(E.waits.n, 0);
        ck_assert_int_eq(s3c_pending(C), 0);
    }
}
END_TEST

/* F27: before the fix a retriable key error fails the call (no retry) and so
 * does a 500; only throttling (503) is retried.  Fixed: the key is retried. */
START_TEST(s3client_f27_only_throttling_retried)
{
    static const char *k[] = {"k0", "flaky1"};
    for (int per_key = 1; per_key >= 0; per_key--) {
        struct s3_req req;
        struct got g;
        s3c_free(C);
        mock_init();
        CONF.delete_per_key = per_key;
        client();
        M.flaky_left = 1;
        memset(&req, 0, sizeof req);
        req.keys = k;
        req.nkeys = 2;
        memset(&g, 0, sizeof g);
        ck_assert_int_eq(s3_delete_many(s3c_ops(C), &req, got_cb, &g), 0);
        clenv_run(&E, 10000);
        ck_assert_int_eq(g.n, 1);
        ck_assert_int_eq(M.nrec, per_key ? 2 : 1);
        ck_assert_int_eq(g.code, per_key ? S3E_NONE : S3E_INTERNAL_ERROR);
        free(g.del);
        /* 503 SlowDown, then 500: the first is retried either way. */
        script((struct mans){.status = 503, .code = S3E_SLOW_DOWN});
        script((struct mans){.status = 500, .code = S3E_INTERNAL_ERROR});
        memset(&g, 0, sizeof g);
        ck_assert_int_eq(s3_delete_many(s3c_ops(C), &req, got_cb, &g), 0);
        clenv_run(&E, 10000);
        ck_assert_int_eq(g.n, 1);
        ck_assert_int_eq(M.nrec, per_key ? 5 : 3);
        ck_assert_int_eq(g.code, per_key ? S3E_NONE : S3E_INTERNAL_ERROR);
        free(g.del);
    }
}
END_TEST

/* F27: a caller cancelled while its batch is queued or carried by a merged
 * call is never answered; the others are. */
START_TEST(s3client_f27_cancel_in_accumulator)
{
    static const char *ka[] = {"a0"}, *kb[] = {"b0"}, *kc[] = {"c0"};
    static const char *const *keys[3] = {ka, kb, kc};
    struct s3_req req[3];
    struct got g[3];
    CONF.permits = 1;
    CONF.delete_per_key = false;
    client();
    for (int i = 0; i < 3; i++) {
        memset(&req[i], 0, sizeof req[i]);
        memset(&g[i], 0, sizeof g[i]);
        req[i].keys = keys[i];
        req[i].nkeys = 1;
        ck_assert_int_eq(s3_delete_many(s3c_ops(C), &req[i], got_cb, &g[i]), 0);
    }
    s3_cancel(s3c_ops(C), &req[0]); /* in flight: the call goes on, unanswered */
    s3_cancel(s3c_ops(C), &req[1]); /* queued: dropped */
    clenv_run(&E, 10000);
    ck_assert_int_eq(g[0].n, 0);
    ck_assert_int_eq(g[1].n, 0);
    ck_assert_int_eq(g[2].n, 1);
    ck_assert_int_eq(M.nrec, 2);
    ck_assert_int_eq(M.rec[1].nkeys, 1);
    free(g[2].del);
    ck_assert_int_eq(s3c_pending(C), 0);
}
END_TEST

START_TEST(s3client_delete_many_whole_call_failures)
{
    static const char *keys[] = {"a", "b"};
    struct s3_req req;
    struct got g;
    client();
    script((struct mans){.status = 503, .code = S3E_SLOW_DOWN});
    script((struct mans){.tr = S3_TR_RESET});
    script((struct mans){.status = 403, .code = S3E_ACCESS_DENIED});
    memset(&req, 0, sizeof req);
    memset(&g, 0, sizeof g);
    req.keys = keys;
    req.nkeys = 2;
    ck_assert_int_eq(s3_delete_many(s3c_ops(C), &req, got_cb, &g), 0);
    clenv_run(&E, 1000);
    ck_assert_int_eq(M.nrec, 3);
    /* backoff 1 s then 2 s */
    ck_assert_int_eq(M.rec[1].at - M.rec[0].at, ENV_USEC_PER_SEC + 10 * ENV_USEC_PER_MS);
    ck_assert_int_eq(M.rec[2].at - M.rec[1].at, 2 * ENV_USEC_PER_SEC + 10 * ENV_USEC_PER_MS);
    ck_assert_int_eq(g.n, 1);
    ck_assert_int_eq(g.del[0].code, S3E_ACCESS_DENIED);
    ck_assert_int_eq(g.del[1].code, S3E_ACCESS_DENIED);
    free(g.del);
}
END_TEST

START_TEST(s3client_delete_many_empty_answers_later)
{
    struct s3_req req;
    struct got g;
    client();
    memset(&req, 0, sizeof req);
    memset(&g, 0, sizeof g);
    ck_assert_int_eq(s3_delete_many(s3c_ops(C), &req, got_cb, &g), 0);
    ck_assert_int_eq(g.n, 0);
    clenv_run(&E, 10);
    ck_assert_int_eq(g.n, 1);
    ck_assert_int_eq(g.code, S3E_NONE);
    ck_assert_int_eq(M.nrec, 0);
}
END_TEST

/* ---- checksums ----------------------------------------------------------- */

START_TEST(s3client_checksum_mismatch_resends)
{
    struct got g;
    client();
    script((struct mans){.bad_etag = 1});
    ck_assert_int_eq(run_op(S3_OP_MPU_PART, &g), 2);
    ck_assert_int_eq(g.code, S3E_NONE);
    ck_assert_uint_eq(s3c_stats(C)->checksum_mismatches, 1);
    ck_assert_int_eq(M.rec[0].cksum.alg, S3_CKSUM_MD5);
    ck_assert(s3_checksum_equal(&M.rec[0].cksum, &M.rec[1].cksum));
    ck_assert_int_eq(E.nwarn, 1);
}
END_TEST

START_TEST(s3client_checksum_algorithms)
{
    static const enum s3_cksum algs[] = {S3_CKSUM_CRC32C, S3_CKSUM_CRC32, S3_CKSUM_SHA256,
                                         S3_CKSUM_NONE};
    for (unsigned i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        struct got g;
        struct s3_checksum want;
        CONF.cksum = algs[i];
        s3c_free(C);
        mock_init();
        client();
        script((struct mans){.bad_etag = algs[i] != S3_CKSUM_NONE});
        ck_assert_int_eq(run_op(S3_OP_PUT, &g), algs[i] != S3_CKSUM_NONE ? 2 : 1);
        s3_checksum_compute(algs[i], BODY, sizeof BODY, &want);
        ck_assert(s3_checksum_equal(&M.rec[0].cksum, &want));
        ck_assert_int_eq(g.code, S3E_NONE);
    }
}
END_TEST

START_TEST(s3client_checksum_mismatch_exhausted_is_bad_digest)
{
    struct got g;
    CONF.retry_max = 2;
    client();
    script((struct mans){.bad_etag = 1});
    script((struct mans){.bad_etag = 1});
    ck_assert_int_eq(run_op(S3_OP_PUT, &g), 2);
    ck_assert_int_eq(g.code, S3E_BAD_DIGEST);
    ck_assert_int_eq(s3c_result_err(&(struct s3_result){.status = 200, .code = g.code}),
                     ERR_CHECKSUM);
}
END_TEST

/* ---- wait registry and misc --------------------------------------------- */

START_TEST(s3client_waits_say_what)
{
    struct s3_req req;
    struct got g;
    client();
    script((struct mans){.status = 500, .code = S3E_INTERNAL_ERROR});
    ck_assert_int_eq(do_op(&req, S3_OP_PUT, "obj/7", &g), 0);
    ck_assert_int_eq(E.waits.n, 1);
    ck_assert_str_eq(E.waits.v[0].who, "sso-compaction");
    clenv_run_until(&E, 20 * ENV_USEC_PER_MS);
    ck_assert_ptr_nonnull(clenv_find_wait(&E, "put of obj/7: attempt 2 in"));
    ck_assert_ptr_nonnull(clenv_find_wait(&E, "after 500 InternalError"));
    clenv_run(&E, 100);
    ck_assert_int_eq(E.waits.n, 0);
    ck_assert_int_gt(E.ntrace, 1);
}
END_TEST

START_TEST(s3client_bad_conf_rejected)
{
    struct s3c *c = NULL;
    CONF.permits = 0;
    ck_assert_int_eq(s3c_new(&E.env, &M.ops, &CONF, &c), ERR_INVAL);
    ck_assert_ptr_null(c);
}
END_TEST

START_TEST(s3client_submit_rejects_bad_requests)
{
    /* An op past the last one, or a request without a callback, is refused at once: nothing
     * reaches the store and no call is left behind. */
    struct s3_req req;
    struct got g;
    client();
    ck_assert_int_eq(do_op(&req, S3_OP_COUNT, "a", &g), ERR_INVAL);
    ck_assert_int_eq(do_op(&req, (enum s3_op)(S3_OP_COUNT + 1), "a", &g), ERR_INVAL);
    ck_assert_int_eq(s3_submit_op(s3c_ops(C), S3_OP_PUT, &req, NULL, NULL), ERR_INVAL);
    ck_assert_int_eq(s3c_ops(C)->submit(s3c_ops(C), NULL), ERR_INVAL);
    clenv_run(&E, 100);
    ck_assert_int_eq(M.nrec, 0);
    ck_assert_int_eq(g.n, 0);
}
END_TEST

START_TEST(s3client_free_with_calls_in_flight)
{
    struct s3_req req[3];
    struct got g[3];
    CONF.permits = 1;
    client();
    script((struct mans){.never = 1});
    ck_assert_int_eq(do_op(&req[0], S3_OP_PUT, "a", &g[0]), 0);
    ck_assert_int_eq(do_op(&req[1], S3_OP_GET, "b", &g[1]), 0);
    s3c_free(C);
    C = NULL;
    ck_assert_int_eq(M.inflight, 0);
    ck_assert_int_eq(E.waits.n, 0);
    clenv_run(&E, 100);
    ck_assert_int_eq(g[0].n + g[1].n, 0);
}
END_TEST

START_TEST(s3client_conf_from_knobs)
{
    struct conf k;
    char err[CONF_ERR_MAX];
    struct s3c_conf c;
    conf_init(&k);
    s3c_conf_from(&c, &k);
    ck_assert_int_eq(c.op_timeout_us, 10 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(c.read_timeout_us, 2 * ENV_USEC_PER_MIN);
    ck_assert_int_eq(c.retry_max, -1);
    ck_assert_int_eq(c.permits, 50);
    ck_assert_int_eq(c.cksum, S3_CKSUM_MD5);
    ck_assert(c.copy_timeout_backoff && c.cksum_precompute && c.retry_same_call && c.delete_split &&
              c.delete_per_key);
    ck_assert_int_eq(conf_set(&k, "s3.op.timeout", "none", err, sizeof err), 0);
    ck_assert_int_eq(conf_set(&k, "s3.retry.same.call", "false", err, sizeof err), 0);
    ck_assert_int_eq(conf_set(&k, "s3.delete.objects.split", "false", err, sizeof err), 0);
    ck_assert_int_eq(conf_set(&k, "s3.delete.objects.per.key", "false", err, sizeof err), 0);
    ck_assert_int_eq(conf_set(&k, "s3.retry.max", "3", err, sizeof err), 0);
    ck_assert_int_eq(conf_set(&k, "s3.checksum.algorithm", "crc32c", err, sizeof err), 0);
    ck_assert_int_eq(conf_set(&k, "upload.part.copy.timeout.backoff", "false", err, sizeof err), 0);
    s3c_conf_from(&c, &k);
    ck_assert_int_eq(c.op_timeout_us, ENV_TIME_NEVER);
    ck_assert_int_eq(c.retry_max, 3);
    ck_assert_int_eq(c.cksum, S3_CKSUM_CRC32C);
    ck_assert(!c.copy_timeout_backoff);
    ck_assert(!c.retry_same_call && !c.delete_split && !c.delete_per_key);
}
END_TEST

START_TEST(s3client_no_attempt_timeout_waits)
{
    struct s3_req req;
    struct got g;
    CONF.op_timeout_us = ENV_TIME_NEVER;
    client();
    script((struct mans){.delay = 30 * ENV_USEC_PER_MIN});
    ck_assert_int_eq(do_op(&req, S3_OP_PUT, "k1", &g), 0);
    ck_assert_ptr_nonnull(clenv_find_wait(&E, "attempt timeout none"));
    clenv_run(&E, 100);
    ck_assert_int_eq(g.status, 200);
    ck_assert_int_eq(g.at, 30 * ENV_USEC_PER_MIN);
    ck_assert_int_eq(M.cancels, 0);
}
END_TEST

START_TEST(s3client_delete_many_cancel_and_free)
{
    static const char *keys[1500];
    static char names[1500][8];
    struct s3_req req, req2;
    struct got g, g2;
    CONF.permits = 1;
    client();
    for (int i = 0; i < 1500; i++) {
        snprintf(names[i], sizeof names[i], "k%d", i);
        keys[i] = names[i];
    }
    memset(&req, 0, sizeof req);
    memset(&g, 0, sizeof g);
    req.keys = keys;
    req.nkeys = 1500;
    ck_assert_int_eq(s3_delete_many(s3c_ops(C), &req, got_cb, &g), 0);
    ck_assert_int_eq(M.nrec, 1); /* the second call waits for the permit */
    ck_assert_int_eq(s3c_pending(C), 1);
    s3_cancel(s3c_ops(C), &req);
    ck_assert_int_eq(M.cancels, 1);
    ck_assert_int_eq(s3c_pending(C), 0);
    ck_assert_int_eq(E.waits.n, 0);
    req2 = req;
    memset(&g2, 0, sizeof g2);
    ck_assert_int_eq(s3_delete_many(s3c_ops(C), &req2, got_cb, &g2), 0);
    s3c_free(C);
    C = NULL;
    clenv_run(&E, 100);
    ck_assert_int_eq(g.n + g2.n, 0);
    ck_assert_int_eq(M.inflight, 0);
    ck_assert_int_eq(E.waits.n, 0);
}
END_TEST

static Suite *s3client_suite(void)
{
    Suite *s = suite_create("s3client");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, s3client_404_aborts_every_op);
    tcase_add_test(tc, s3client_result_err_maps_404_by_status_or_code);
    tcase_add_test(tc, s3client_errors_retry_then_succeed);
    tcase_add_test(tc, s3client_200_with_error_retries);
    tcase_add_test(tc, s3client_nosuchupload_aborts_part_and_copy);
    tcase_add_test(tc, s3client_visibility_check_readable_is_done);
    tcase_add_test(tc, s3client_visibility_check_unreadable_retries);
    tcase_add_test(tc, s3client_visibility_check_absent_gives_up);
    tcase_add_test(tc, s3client_automq_visibility_check_absent_retries);
    tcase_add_test(tc, s3client_backoff_bounds_and_determinism);
    tcase_add_test(tc, s3client_retry_max_bounds_attempts);
    tcase_add_test(tc, s3client_attempt_timeout_cancels_and_retries);
    tcase_add_test(tc, s3client_read_timeout_ends_get);
    tcase_add_test(tc, s3client_read_timeout_spans_attempts);
    tcase_add_test(tc, s3client_f21_copy_timeout_doubles);
    tcase_add_test(tc, s3client_f21_copy_short_timeout_when_switch_off);
    tcase_add_test(tc, s3client_permits_queue_fifo);
    tcase_add_test(tc, s3client_cancel_queued_and_inflight);
    tcase_add_test(tc, s3client_f22_retry_answers_caller);
    tcase_add_test(tc, s3client_f22_retry_reenters_and_loses_caller);
    tcase_add_test(tc, s3client_f22_cancel_frees_repeating_calls);
    tcase_add_test(tc, s3client_f22_reentry_out_of_memory_retries_same_call);
    tcase_add_test(tc, s3client_delete_many_batches_and_per_key);
    tcase_add_test(tc, s3client_delete_many_whole_call_failures);
    tcase_add_test(tc, s3client_f26_delete_many_split_or_whole);
    tcase_add_test(tc, s3client_f27_merged_delete_fails_every_caller);
    tcase_add_test(tc, s3client_f27_only_throttling_retried);
    tcase_add_test(tc, s3client_f27_cancel_in_accumulator);
    tcase_add_test(tc, s3client_delete_many_empty_answers_later);
    tcase_add_test(tc, s3client_checksum_mismatch_resends);
    tcase_add_test(tc, s3client_checksum_algorithms);
    tcase_add_test(tc, s3client_checksum_mismatch_exhausted_is_bad_digest);
    tcase_add_test(tc, s3client_waits_say_what);
    tcase_add_test(tc, s3client_bad_conf_rejected);
    tcase_add_test(tc, s3client_free_with_calls_in_flight);
    tcase_add_test(tc, s3client_conf_from_knobs);
    tcase_add_test(tc, s3client_no_attempt_timeout_waits);
    tcase_add_test(tc, s3client_delete_many_cancel_and_free);
    tcase_add_test(tc, s3client_submit_rejects_bad_requests);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(s3client_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
