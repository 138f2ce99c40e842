/*
 * s3client.c - retry, timeouts, permits and checksums over an inner s3_ops
 * (see s3client.h); DeleteObjects batching is in s3client_del.c.
 *
 * A call (struct s3c_call) is one outer request.  Its attempts reuse the
 * call's own copy of the request (ireq), so the caller's request is never
 * touched.  States: IDLE (between attempts, or in backoff), QUEUED (waiting
 * for a permit), INFLIGHT (ireq submitted), VCHECK (the visibility GET of a
 * complete answered NoSuchUpload).  A delete-many of any size is a batch
 * (struct s3c_batch) whose children are calls of at most 1000 keys.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "err.h"
#include "s3client_int.h"

static void s3c_after_attempt(struct s3c_call *call, struct s3_result *res);

#define S3C_COPY_DELAY_US ENV_USEC_PER_SEC

void s3c_conf_default(struct s3c_conf *conf)
{
    memset(conf, 0, sizeof *conf);
    conf->op_timeout_us = 10 * ENV_USEC_PER_SEC;
    conf->read_timeout_us = 2 * ENV_USEC_PER_MIN;
    conf->retry_backoff_us = ENV_USEC_PER_SEC;
    conf->backoff_max_us = 60 * ENV_USEC_PER_SEC;
    conf->copy_timeout_us = 2 * ENV_USEC_PER_MIN;
    conf->copy_timeout_max_us = 10 * ENV_USEC_PER_MIN;
    conf->retry_max = -1;
    conf->permits = 50;
    conf->cksum = S3_CKSUM_MD5;
    conf->copy_timeout_backoff = true;
    conf->cksum_precompute = true;
    conf->retry_same_call = true;
    conf->delete_split = true;
    conf->delete_per_key = true;
    conf->sweep_strays = true;
    conf->complete_absent_fails = true;
}

void s3c_conf_from(struct s3c_conf *conf, const struct conf *c)
{
    s3c_conf_default(conf);
    conf->op_timeout_us = conf_get(c, CONF_OP_TIMEOUT);
    conf->read_timeout_us = conf_get(c, CONF_READ_TIMEOUT);
    conf->retry_backoff_us = conf_get(c, CONF_RETRY_BACKOFF);
    conf->backoff_max_us = conf_get(c, CONF_RETRY_BACKOFF_MAX);
    conf->copy_timeout_us = conf_get(c, CONF_COPY_TIMEOUT);
    conf->copy_timeout_max_us = conf_get(c, CONF_COPY_TIMEOUT_MAX);
    conf->retry_max = (int)conf_get(c, CONF_RETRY_MAX);
    conf->permits = (int)conf_get(c, CONF_INFLIGHT_MAX);
    conf->cksum = (enum s3_cksum)conf_get(c, CONF_CHECKSUM);
    conf->complete_invalid_abort = conf_bool(c, CONF_COMPLETE_INVALID_ABORT);
    conf->copy_timeout_backoff = conf_bool(c, CONF_COPY_BACKOFF);
    conf->cksum_precompute = conf_bool(c, CONF_CKSUM_PRECOMPUTE);
    conf->retry_same_call = conf_bool(c, CONF_RETRY_SAME_CALL);
    conf->delete_split = conf_bool(c, CONF_DELETE_SPLIT);
    conf->delete_per_key = conf_bool(c, CONF_DELETE_PER_KEY);
    conf->part_copy_get_put = conf_get(c, CONF_PART_COPY) != 0;
    conf->sweep_strays = conf_bool(c, CONF_SWEEP_STRAYS);
    conf->complete_absent_fails = conf_bool(c, CONF_COMPLETE_ABSENT_FAILS);
}

/* ---- small helpers ---------------------------------------------------- */

const char *s3c_call_key(const struct s3c_call *call)
{
    const struct s3_req *r = &call->ireq;
    if (r->op == S3_OP_DELETE_MANY)
        return r->nkeys && r->keys[0] ? r->keys[0] : "";
    if (r->op == S3_OP_LIST || r->op == S3_OP_LIST_UPLOADS)
        return r->prefix ? r->prefix : "";
    return r->key ? r->key : "";
}

static void s3c_fmt_res(const struct s3_result *res, char *buf, size_t n)
{
    static const char *const tr[] = {"ok", "timeout", "reset", "connect", "transport"};
    if (res->transport != S3_TR_OK)
        snprintf(buf, n, "%s", tr[(unsigned)res->transport <= S3_TR_OTHER ? res->transport : 4]);
    else if (res->code != S3E_NONE)
        snprintf(buf, n, "%d %s", res->status, s3_code_name(res->code));
    else
        snprintf(buf, n, "%d", res->status);
}

int s3c_result_err(const struct s3_result *res)
{
    if (res->transport == S3_TR_TIMEOUT)
        return ERR_TIMEOUT;
    if (res->transport != S3_TR_OK)
        return ERR_IO;
    if (s3_result_ok(res))
        return ERR_OK;
    if (res->status == 404 || res->code == S3E_NO_SUCH_KEY || res->code == S3E_NO_SUCH_UPLOAD)
        return ERR_NOTFOUND;
    if (res->code == S3E_BAD_DIGEST)
        return ERR_CHECKSUM;
    return ERR_S3;
}

void s3c_trace(struct s3c_call *call, const struct s3_result *res, const char *what)
{
    char r[64];
    s3c_fmt_res(res, r, sizeof r);
    env_tracef(call->c->env, "s3c %s %s try=%d %s %s", s3_op_name(call->ireq.op),
               s3c_call_key(call), call->attempt, r, what);
}

/* ---- call list and permits ------------------------------------------- */

void s3c_link(struct s3c *c, struct s3c_call *call)
{
    call->next = c->calls;
    call->prev = NULL;
    if (c->calls)
        c->calls->prev = call;
    c->calls = call;
    c->ncalls++;
}

static void s3c_unlink(struct s3c *c, struct s3c_call *call)
{
    if (call->prev)
        call->prev->next = call->next;
    else
        c->calls = call->next;
    if (call->next)
        call->next->prev = call->prev;
    c->ncalls--;
}

static void s3c_dequeue(struct s3c *c, struct s3c_call *call)
{
    struct s3c_call **pp = &c->qhead, *prev = NULL;
    while (*pp && *pp != call) {
        prev = *pp;
        pp = &(*pp)->qnext;
    }
    if (!*pp)
        return;
    *pp = call->qnext;
    if (c->qtail == call)
        c->qtail = prev;
    call->qnext = NULL;
    c->stats.queued--;
}

/* Ends the current attempt's hold on the inner s3_ops: cancels what is in
 * flight (when asked), stops the attempt timer, gives the permit back. */
static void s3c_attempt_stop(struct s3c_call *call, bool cancel_inner)
{
    struct s3c *c = call->c;
    env_cancel(c->env, call->attempt_timer);
    call->attempt_timer = 0;
    if (call->state == S3C_ST_QUEUED) {
        s3c_dequeue(c, call);
    } else if (call->state == S3C_ST_INFLIGHT || call->state == S3C_ST_VCHECK) {
        if (cancel_inner)
            s3_cancel(c->inner, call->state == S3C_ST_VCHECK ? &call->vreq : &call->ireq);
        c->stats.inflight--;
    } else if (call->state == S3C_ST_LOST) {
        c->stats.inflight--; /* F22: the permit it held since it was lost */
    }
    call->state = S3C_ST_IDLE;
}

static int s3c_attempt_start(struct s3c_call *call);

/* Starts queued attempts while permits are free.  A queued attempt whose
 * inner submit fails becomes a retry through a timer, so pumping never calls
 * a caller's callback. */
void s3c_pump(struct s3c *c)
{
    while (c->qhead && c->stats.inflight < c->conf.permits) {
        struct s3c_call *call = c->qhead;
        c->qhead = call->qnext;
        if (!c->qhead)
            c->qtail = NULL;
        call->qnext = NULL;
        c->stats.queued--;
        call->state = S3C_ST_IDLE;
        s3c_attempt_start(call);
    }
}

/* Removes the call from the client and frees it. */
void s3c_call_free(struct s3c_call *call)
{
    struct s3c *c = call->c;
    s3c_attempt_stop(call, true);
    env_cancel(c->env, call->backoff_timer);
    env_cancel(c->env, call->read_timer);
    env_wait_end(c->env, call->wait);
    s3c_unlink(c, call);
    if (call->merged)
        s3c_dacc_call_freed(call);
    free(call->keys);
    free(call->pos);
    free(call->segs);
    buf_unref(call->gather);
    free(call);
}

/* A put or mpu-part given as segments (s3_req.segs): the call's own copy of
 * the list, or, when the backend takes no segments, one buffer gathering
 * them (the copy the caller's segments saved, made here instead). */
static int s3c_segs_take(struct s3c *c, struct s3c_call *call)
{
    struct s3_req *r = &call->ireq;
    if (c->inner->segs_ok) {
        if (!(call->segs = malloc(r->nsegs * sizeof *call->segs)))
            return ERR_NOMEM;
        memcpy(call->segs, r->segs, r->nsegs * sizeof *call->segs);
        r->segs = call->segs;
        return 0;
    }
    if (!(call->gather = buf_new(r->body_len)))
        return ERR_NOMEM;
    for (size_t i = 0; i < r->nsegs; i++)
        buf_append(call->gather, r->segs[i].p, r->segs[i].len);
    r->body = call->gather->p;
    r->body_buf = call->gather;
    r->segs = NULL;
    r->nsegs = 0;
    return 0;
}

/* A call repeating another's request (F22) keeps the body it owns alive. */
static int s3c_segs_share(struct s3c_call *n, const struct s3c_call *call)
{
    if (call->gather)
        n->gather = buf_ref(call->gather);
    if (call->segs) {
        if (!(n->segs = malloc(n->ireq.nsegs * sizeof *n->segs)))
            return ERR_NOMEM;
        memcpy(n->segs, call->segs, n->ireq.nsegs * sizeof *n->segs);
        n->ireq.segs = n->segs;
    }
    return 0;
}

/* Answers the caller with res and frees the call.  The queue is pumped
 * before the callback, so the callback sees a consistent client.  The
 * callback must not free the client.  A call that repeats a lost one (F22)
 * has no caller: its answer goes nowhere. */
static void s3c_finish(struct s3c_call *call, struct s3_result *res)
{
    struct s3c *c = call->c;
    struct s3_req *outer = call->outer;
    int attempts = call->attempt;
    if (!s3_result_ok(res))
        c->stats.failures++;
    s3c_call_free(call);
    s3c_pump(c);
    if (!outer)
        return;
    /* Before the callback: the caller may free outer in it. */
    s3c_mpu_note(c, outer, res, attempts);
    outer->cb(outer, res);
}

/* Answers the caller with a result made here. */
static void s3c_finish_synth(struct s3c_call *call, enum s3_transport tr, int status,
                             enum s3_code code, const char *msg)
{
    struct s3_result res;
    s3_result_synth(&res, tr, status, code, msg);
    s3c_finish(call, &res);
    s3_result_cleanup(&res);
}

/* ---- timers -------------------------------------------------------------- */

static void s3c_on_attempt_timeout(void *arg)
{
    struct s3c_call *call = arg;
    struct s3c *c = call->c;
    struct s3_result res;
    call->attempt_timer = 0;
    c->stats.timeouts++;
    memset(&res, 0, sizeof res);
    res.transport = S3_TR_TIMEOUT;
    snprintf(res.message, sizeof res.message, "attempt timeout");
    s3c_attempt_stop(call, true);
    s3c_after_attempt(call, &res);
    s3c_pump(c);
}

static void s3c_on_read_timeout(void *arg)
{
    struct s3c_call *call = arg;
    struct s3c *c = call->c;
    call->read_timer = 0;
    c->stats.read_timeouts++;
    env_tracef(c->env, "s3c get %s read-timeout", s3c_call_key(call));
    env_logf(c->env, ENV_LOG_WARN, "s3client", "range read of %s timed out after %d attempt(s)",
             s3c_call_key(call), call->attempt);
    s3c_finish_synth(call, S3_TR_TIMEOUT, 0, S3E_NONE, "read timeout");
}

static void s3c_on_backoff(void *arg)
{
    struct s3c_call *call = arg;
    call->backoff_timer = 0;
    if (call->give_up) {
        struct s3_result *last = &call->last;
        s3c_finish_synth(call, last->transport, last->status, last->code, last->message);
        return;
    }
    s3c_attempt_go(call);
}

/* ---- attempts ------------------------------------------------------------ */

static int64_t s3c_attempt_timeout(const struct s3c_call *call)
{
    const struct s3c_conf *conf = &call->c->conf;
    if (call->ireq.op == S3_OP_MPU_COPY && conf->copy_timeout_backoff) {
        int64_t t = conf->copy_timeout_us, max = conf->copy_timeout_max_us;
        if (t == ENV_TIME_NEVER)
            return t;
        for (int i = 1; i < call->attempt && t < max; i++)
            t *= 2;
        return t < max ? t : max;
    }
    return conf->op_timeout_us;
}

static void s3c_inner_cb(struct s3_req *req, struct s3_result *res);
static void s3c_vcheck_cb(struct s3_req *req, struct s3_result *res);

/* One request the inner s3_ops accepted: the server receives it (stats.sent). */
static void s3c_count_sent(struct s3c *c, const struct s3_req *req)
{
    unsigned job = (unsigned)req->job < S3_JOB_COUNT ? (unsigned)req->job : S3_JOB_OTHER;
    if ((unsigned)req->op < S3_OP_COUNT)
        c->stats.sent.n[job][req->op]++;
}

/* Submits the next attempt now (a permit is free).  Returns the inner
 * submit's error only for the first attempt, inside the caller's submit. */
static int s3c_attempt_start(struct s3c_call *call)
{
    struct s3c *c = call->c;
    int64_t timeout;
    char d[32];
    int rc;
    call->attempt++;
    call->ireq.cb = s3c_inner_cb;
    call->ireq.arg = call;
    call->state = S3C_ST_INFLIGHT;
    if (++c->stats.inflight > c->stats.inflight_peak)
        c->stats.inflight_peak = c->stats.inflight;
    c->stats.attempts[call->ireq.op]++;
    if ((unsigned)call->ireq.job < S3_JOB_COUNT)
        c->stats.job_attempts[call->ireq.job]++;
    if (call->ireq.op == S3_OP_DELETE_MANY && call->ireq.nkeys > c->stats.max_keys_per_delete)
        c->stats.max_keys_per_delete = call->ireq.nkeys;
    rc = c->inner->submit(c->inner, &call->ireq);
    if (rc == 0)
        s3c_count_sent(c, &call->ireq);
    if (rc < 0) {
        struct s3_result res;
        c->stats.inflight--;
        call->state = S3C_ST_IDLE;
        if (call->in_submit)
            return rc;
        /* A later attempt that could not even start: a transport failure. */
        memset(&res, 0, sizeof res);
        res.transport = S3_TR_OTHER;
        snprintf(res.message, sizeof res.message, "inner submit: %s", err_str(rc));
        s3c_after_attempt(call, &res);
        return 0;
    }
    timeout = s3c_attempt_timeout(call);
    if (timeout != ENV_TIME_NEVER)
        call->attempt_timer = env_timer(c->env, timeout, s3c_on_attempt_timeout, call);
    if (timeout == ENV_TIME_NEVER)
        snprintf(d, sizeof d, "none");
    else
        env_fmt_duration(timeout, d, sizeof d);
    env_wait_updatef(c->env, call->wait, "%s of %s attempt %d in flight, attempt timeout %s",
                     s3_op_name(call->ireq.op), s3c_call_key(call), call->attempt, d);
    return 0;
}

/* Starts the next attempt, or queues it behind the permit queue. */
int s3c_attempt_go(struct s3c_call *call)
{
    struct s3c *c = call->c;
    if (c->stats.inflight < c->conf.permits && !c->qhead)
        return s3c_attempt_start(call);
    call->state = S3C_ST_QUEUED;
    call->qnext = NULL;
    if (c->qtail)
        c->qtail->qnext = call;
    else
        c->qhead = call;
    c->qtail = call;
    if (++c->stats.queued > c->stats.queued_peak)
        c->stats.queued_peak = c->stats.queued;
    env_wait_updatef(c->env, call->wait,
                     "%s of %s attempt %d queued for an in-flight permit (%d of %d in use)",
                     s3_op_name(call->ireq.op), s3c_call_key(call), call->attempt + 1,
                     c->stats.inflight, c->conf.permits);
    return 0;
}

/* The backoff before retry number n (n = 0 for the first retry). */
static int64_t s3c_backoff(struct s3c_call *call)
{
    struct s3c *c = call->c;
    int n = call->attempt - 1;
    int64_t b = c->conf.retry_backoff_us, cap = c->conf.backoff_max_us;
    if (call->ireq.op == S3_OP_MPU_COPY)
        return S3C_COPY_DELAY_US;
    if (n > 16)
        n = 16;
    for (int i = 0; i < n && b < cap; i++)
        b *= 2;
    if (b > cap)
        b = cap;
    return (int64_t)env_rand_below(c->env, 1000) * ENV_USEC_PER_MS + b;
}

bool s3c_attempts_left(const struct s3c_call *call)
{
    int max = call->c->conf.retry_max;
    return max < 0 || call->attempt < max;
}

static bool s3c_write_op(enum s3_op op)
{
    return op == S3_OP_PUT || op == S3_OP_MPU_CREATE || op == S3_OP_MPU_PART ||
           op == S3_OP_MPU_COPY || op == S3_OP_MPU_COMPLETE;
}

/* AutoMQ's warning of a write attempt that will be retried, before #1487. */
static void s3c_reenter_log(struct s3c_call *call, const char *why)
{
    const struct s3_req *r = &call->ireq;
    struct env *env = call->c->env;
    switch (r->op) {
    case S3_OP_PUT:
        env_logf(env, ENV_LOG_WARN, "s3client", "PutObject for object %s fail, retry later (%s)",
                 r->key, why);
        break;
    case S3_OP_MPU_CREATE:
        env_logf(env, ENV_LOG_WARN, "s3client",
                 "CreateMultipartUpload for object %s fail, retry later (%s)", r->key, why);
        break;
    case S3_OP_MPU_PART:
        env_logf(env, ENV_LOG_WARN, "s3client", "UploadPart for object %s-%d fail, retry later (%s)",
                 r->key, r->part_number, why);
        break;
    case S3_OP_MPU_COPY:
        env_logf(env, ENV_LOG_WARN, "s3client",
                 "UploadPartCopy for object %s-%d [%lld, %lld] fail, retry later (%s)", r->key,
                 r->part_number, (long long)r->range_start, (long long)r->range_end, why);
        break;
    default:
        env_logf(env, ENV_LOG_WARN, "s3client",
                 "CompleteMultipartUpload for object %s fail, retry later (%s)", r->key, why);
        break;
    }
}

/* Field bug F22 (#1487).  Before the fix, AbstractObjectStorage's write,
 * createMultipartUpload, uploadPart, uploadPartCopy and
 * completeMultipartUpload retried a failed attempt by scheduling a call of
 * the public method itself: a new future and a new write permit, whose
 * answer nobody waits for.  The first future was never completed: its caller
 * waits forever and its permit (released when that future completes) is
 * never given back.  Here the call becomes LOST, holding a permit, and a
 * detached call (outer NULL) repeats its request after the backoff; that
 * call re-enters the same way on its own retriable failure. */
static bool s3c_reenter(struct s3c_call *call, const char *why, int64_t delay)
{
    struct s3c *c = call->c;
    struct s3c_call *n = calloc(1, sizeof *n);
    if (!n)
        return false;
    n->c = c;
    n->origin = call->outer ? call->outer : call->origin;
    n->ireq = call->ireq;
    if (s3c_segs_share(n, call) < 0) {
        buf_unref(n->gather);
        free(n);
        return false;
    }
    s3c_link(c, n);
    n->backoff_timer = env_timer(c->env, delay, s3c_on_backoff, n);
    s3c_reenter_log(call, why);
    c->stats.retries++;
    c->stats.reentries++;
    call->state = S3C_ST_LOST;
    if (++c->stats.inflight > c->stats.inflight_peak)
        c->stats.inflight_peak = c->stats.inflight;
    env_tracef(c->env, "s3c %s %s try=%d re-entered", s3_op_name(call->ireq.op),
               s3c_call_key(call), call->attempt);
    env_wait_updatef(c->env, call->wait,
                     "%s of %s: attempt %d failed (%s) and was retried by a new call of the public "
                     "method; this call is never answered and holds its permit (field bug F22)",
                     s3_op_name(call->ireq.op), s3c_call_key(call), call->attempt, why);
    return true;
}

/* Schedules a retry after delay, or the final failure when no attempt is
 * left (through a timer, so the caller's callback runs from the loop). */
static void s3c_retry(struct s3c_call *call, const struct s3_result *res, int64_t delay)
{
    struct s3c *c = call->c;
    char d[32], why[64];
    s3c_fmt_res(res, why, sizeof why);
    if (!c->conf.retry_same_call && !call->parent && s3c_write_op(call->ireq.op) &&
        s3c_attempts_left(call) && s3c_reenter(call, why, delay))
        return;
    call->last.transport = res->transport;
    call->last.status = res->status;
    call->last.code = res->code;
    snprintf(call->last.message, sizeof call->last.message, "%s", res->message);
    call->give_up = !s3c_attempts_left(call);
    if (call->give_up) {
        delay = 0;
        env_wait_updatef(c->env, call->wait, "%s of %s: giving up after %d attempts (%s)",
                         s3_op_name(call->ireq.op), s3c_call_key(call), call->attempt, why);
    } else {
        c->stats.retries++;
        env_fmt_duration(delay, d, sizeof d);
        env_wait_updatef(c->env, call->wait, "%s of %s: attempt %d in %s after %s",
                         s3_op_name(call->ireq.op), s3c_call_key(call), call->attempt + 1, d, why);
    }
    call->backoff_timer = env_timer(c->env, delay, s3c_on_backoff, call);
}

/* Decides what to do with an attempt's answer (docs/engine.md "Retries and error classification").
 * */
static enum s3c_verdict s3c_classify(const struct s3c_conf *conf, enum s3_op op,
                                     const struct s3_result *res)
{
    if (res->transport != S3_TR_OK)
        return S3C_RETRY;
    if (res->code == S3E_NO_SUCH_UPLOAD) {
        if (op == S3_OP_MPU_COMPLETE)
            return S3C_VCHECK;
        if (op == S3_OP_MPU_PART || op == S3_OP_MPU_COPY)
            return S3C_ABORT;
    }
    if (res->status == 404 || res->code == S3E_NO_SUCH_KEY)
        return S3C_ABORT;
    /* The same parts give the same answer: no retry can succeed. */
    if (conf->complete_invalid_abort && op == S3_OP_MPU_COMPLETE && res->status == 400 &&
        (res->code == S3E_ENTITY_TOO_SMALL || res->code == S3E_INVALID_PART ||
         res->code == S3E_INVALID_PART_ORDER || res->code == S3E_MALFORMED_XML))
        return S3C_ABORT;
    if (res->status < 200 || res->status >= 300 || res->code != S3E_NONE)
        return S3C_RETRY;
    return S3C_OK;
}

/* True when a 2xx GET carries fewer bytes than its range asks for (clamped
 * to the object's size): a real HTTP client sees a body shorter than its
 * Content-Length, a transport error; never data for the caller. */
bool s3c_get_short(const struct s3_req *req, const struct s3_result *res)
{
    uint64_t start, end;
    if (req->op != S3_OP_GET || req->range_start < 0)
        return false;
    start = (uint64_t)req->range_start;
    end = res->object_size;
    if (req->range_end >= 0 && (uint64_t)req->range_end < end)
        end = (uint64_t)req->range_end;
    return end > start && res->body_len < end - start;
}

/* True when the answer of a put/part carries what was sent: the ETag for
 * MD5, the returned checksum otherwise (absent: nothing to compare). */
static bool s3c_cksum_ok(const struct s3c_call *call, const struct s3_result *res)
{
    const struct s3_checksum *sent = &call->ireq.cksum;
    const char *got = res->etag;
    char want[S3_ETAG_MAX];
    if (call->ireq.op != S3_OP_PUT && call->ireq.op != S3_OP_MPU_PART)
        return true;
    if (sent->alg == S3_CKSUM_NONE)
        return true;
    if (sent->alg != S3_CKSUM_MD5 || got[0] == '\0')
        return res->cksum.alg == S3_CKSUM_NONE || s3_checksum_equal(sent, &res->cksum);
    for (int i = 0; i < 16; i++)
        snprintf(want + 2 * i, 3, "%02x", sent->value[i]);
    if (got[0] == '"')
        got++;
    return strncasecmp(got, want, 32) == 0 && (got[32] == '\0' || (got[32] == '"' && !got[33]));
}

static void s3c_start_vcheck(struct s3c_call *call)
{
    struct s3c *c = call->c;
    int rc;
    c->stats.visibility_checks++;
    memset(&call->vreq, 0, sizeof call->vreq);
    call->vreq.job = call->ireq.job;
    call->vreq.key = call->ireq.key;
    call->vreq.range_start = 0;
    call->vreq.range_end = 1;
    /* The attempt keeps a permit while it checks. */
    c->stats.inflight++;
    call->state = S3C_ST_VCHECK;
    rc = s3_get(c->inner, &call->vreq, s3c_vcheck_cb, call);
    if (rc == 0)
        s3c_count_sent(c, &call->vreq);
    if (rc < 0) {
        struct s3_result res;
        c->stats.inflight--;
        call->state = S3C_ST_IDLE;
        memset(&res, 0, sizeof res);
        res.transport = S3_TR_OTHER;
        s3c_retry(call, &res, s3c_backoff(call));
        return;
    }
    if (c->conf.op_timeout_us != ENV_TIME_NEVER)
        call->attempt_timer =
            env_timer(c->env, c->conf.op_timeout_us, s3c_on_attempt_timeout, call);
    env_wait_updatef(c->env, call->wait,
                     "complete of %s attempt %d answered NoSuchUpload: checking whether the "
                     "object is readable (GET [0,1))",
                     s3c_call_key(call), call->attempt);
}

/* Handles an attempt's answer; the attempt has already been stopped. */
static void s3c_after_attempt(struct s3c_call *call, struct s3_result *res)
{
    struct s3c *c = call->c;
    enum s3c_verdict v;
    if (call->parent) {
        s3c_del_child_answer(call, res);
        return;
    }
    if (call->merged) {
        s3c_dacc_answer(call, res);
        return;
    }
    v = s3c_classify(&c->conf, call->ireq.op, res);
    if (v == S3C_OK && s3c_get_short(&call->ireq, res)) {
        c->stats.short_reads++;
        env_logf(c->env, ENV_LOG_WARN, "s3client",
                 "get of %s attempt %d: body of %zu bytes is shorter than the range asked "
                 "for (a truncated answer); reading again",
                 s3c_call_key(call), call->attempt, res->body_len);
        res->transport = S3_TR_OTHER;
        snprintf(res->message, sizeof res->message, "truncated body (%zu bytes)", res->body_len);
        v = S3C_RETRY;
    }
    if (v == S3C_OK && !s3c_cksum_ok(call, res)) {
        c->stats.checksum_mismatches++;
        env_logf(c->env, ENV_LOG_WARN, "s3client",
                 "%s of %s attempt %d: %s (the store kept other bytes than were sent); "
                 "sending again",
                 s3_op_name(call->ireq.op), s3c_call_key(call), call->attempt,
                 err_str(ERR_CHECKSUM));
        res->code = S3E_BAD_DIGEST;
        snprintf(res->message, sizeof res->message, "%s", err_str(ERR_CHECKSUM));
        v = S3C_RETRY;
    }
    switch (v) {
    case S3C_OK:
    case S3C_ABORT:
        s3c_trace(call, res, v == S3C_OK ? "ok" : "abort");
        s3c_finish(call, res);
        return;
    case S3C_VCHECK:
        s3c_trace(call, res, "check");
        s3c_start_vcheck(call);
        return;
    case S3C_RETRY:
        s3c_trace(call, res, s3c_attempts_left(call) ? "retry" : "fail");
        s3c_retry(call, res, s3c_backoff(call));
        return;
    }
}

static void s3c_inner_cb(struct s3_req *req, struct s3_result *res)
{
    struct s3c_call *call = req->arg;
    struct s3c *c = call->c;
    s3c_attempt_stop(call, false);
    s3c_after_attempt(call, res);
    s3c_pump(c);
}

static void s3c_vcheck_cb(struct s3_req *req, struct s3_result *res)
{
    struct s3c_call *call = req->arg;
    struct s3c *c = call->c;
    s3c_attempt_stop(call, false);
    if (s3_result_ok(res)) {
        s3c_trace(call, res, "visible");
        env_logf(c->env, ENV_LOG_INFO, "s3client",
                 "complete of %s answered NoSuchUpload but the object is readable: done",
                 s3c_call_key(call));
        s3c_finish_synth(call, S3_TR_OK, 200, S3E_NONE, "");
    } else if (c->conf.complete_absent_fails && res->transport == S3_TR_OK && res->status == 404) {
        /* The upload is gone and the object is not there: an abort (the
         * prepared object's TTL expired, or a lifecycle rule) happened, and
         * no retry of the complete can ever succeed.  Give up, so that the
         * caller writes the object again (F17's lesson, applied to complete). */
        s3c_trace(call, res, "absent");
        env_logf(c->env, ENV_LOG_WARN, "s3client",
                 "complete of %s answered NoSuchUpload and the object does not exist: the upload "
                 "was aborted; giving up", s3c_call_key(call));
        s3c_finish_synth(call, S3_TR_OK, 404, S3E_NO_SUCH_UPLOAD, "upload aborted");
    } else {
        struct s3_result r;
        s3c_trace(call, res, "invisible");
        memset(&r, 0, sizeof r);
        r.transport = S3_TR_OK;
        r.status = 404;
        r.code = S3E_NO_SUCH_UPLOAD;
        s3c_retry(call, &r, s3c_backoff(call));
    }
    s3c_pump(c);
}

/* ---- the s3_ops entry points ------------------------------------------- */

static int s3c_submit(struct s3_ops *ops, struct s3_req *req)
{
    struct s3c *c = ops->impl;
    struct s3c_call *call;
    int rc;
    if (!req || !req->cb || (unsigned)req->op >= S3_OP_COUNT)
        return ERR_INVAL;
    if (req->op == S3_OP_DELETE_MANY)
        return s3c_del_submit(c, req);
    if (req->op == S3_OP_MPU_COPY && c->conf.part_copy_get_put)
        return s3c_gpc_submit(c, req);
    call = calloc(1, sizeof *call);
    if (!call)
        return ERR_NOMEM;
    call->c = c;
    call->outer = req;
    call->ireq = *req;
    call->ireq.segs_memo.alg = S3_CKSUM_NONE;
    if ((req->op == S3_OP_PUT || req->op == S3_OP_MPU_PART) && req->nsegs &&
        s3c_segs_take(c, call) < 0) {
        free(call);
        return ERR_NOMEM;
    }
    /* Once per call, before any attempt: a stale attempt can never send
     * bytes that do not match (field bug F13). */
    if (!c->conf.cksum_precompute)
        call->ireq.cksum.alg = S3_CKSUM_NONE;
    else if ((req->op == S3_OP_PUT || req->op == S3_OP_MPU_PART) && req->cksum.alg == S3_CKSUM_NONE &&
             call->ireq.nsegs) {
        s3_checksum_segs(c->conf.cksum, call->segs, call->ireq.nsegs, &call->ireq.cksum);
        call->ireq.segs_memo = call->ireq.cksum; /* the store's reuse, while no gen moves */
    } else if ((req->op == S3_OP_PUT || req->op == S3_OP_MPU_PART) && req->cksum.alg == S3_CKSUM_NONE)
        s3_checksum_buf(c->conf.cksum, call->ireq.body_buf, call->ireq.body, call->ireq.body_len,
                        &call->ireq.cksum);
    s3c_link(c, call);
    call->wait = env_wait_beginf(c->env, s3_job_name(req->job), "%s of %s starting",
                                 s3_op_name(req->op), s3c_call_key(call));
    call->in_submit = true;
    rc = s3c_attempt_go(call);
    call->in_submit = false;
    if (rc < 0) {
        s3c_call_free(call);
        return rc;
    }
    c->stats.calls[req->op]++;
    if (req->op == S3_OP_GET && c->conf.read_timeout_us != ENV_TIME_NEVER)
        call->read_timer = env_timer(c->env, c->conf.read_timeout_us, s3c_on_read_timeout, call);
    return 0;
}

static void s3c_cancel_op(struct s3_ops *ops, struct s3_req *req)
{
    struct s3c *c = ops->impl;
    struct s3c_call *call, *next;
    bool found = false;
    /* F22: the calls that repeat a lost one read its request's body too. */
    for (call = c->calls; call; call = next) {
        next = call->next;
        if (!call->parent && (call->outer == req || call->origin == req)) {
            s3c_call_free(call);
            found = true;
        }
    }
    if (found) {
        s3c_pump(c);
        return;
    }
    if (s3c_gpc_cancel(c, req))
        return;
    s3c_del_cancel(c, req);
}

int s3c_new(struct env *env, struct s3_ops *inner, const struct s3c_conf *conf, struct s3c **out)
{
    struct s3c *c;
    *out = NULL;
    if (!env || !inner || !conf || conf->permits < 1 || conf->retry_backoff_us < 0 ||
        conf->backoff_max_us < 0 || conf->op_timeout_us <= 0 || conf->read_timeout_us <= 0 ||
        conf->copy_timeout_us <= 0 || conf->copy_timeout_max_us <= 0)
        return ERR_INVAL;
    c = calloc(1, sizeof *c);
    if (!c)
        return ERR_NOMEM;
    c->env = env;
    c->inner = inner;
    c->conf = *conf;
    c->ops.impl = c;
    c->ops.name = "client";
    c->ops.submit = s3c_submit;
    c->ops.segs_ok = true; /* passed on, or gathered for a backend without */
    c->ops.cancel = s3c_cancel_op;
    *out = c;
    return ERR_OK;
}

void s3c_free(struct s3c *c)
{
    if (!c)
        return;
    s3c_del_free_all(c);
    while (c->calls)
        s3c_call_free(c->calls);
    s3c_mpu_free_all(c);
    free(c);
}

struct s3_ops *s3c_ops(struct s3c *c)
{
    return &c->ops;
}

const struct s3c_stats *s3c_stats(const struct s3c *c)
{
    return &c->stats;
}

void s3c_requests_add(struct s3_requests *into, const struct s3c *c)
{
    for (int j = 0; c && j < S3_JOB_COUNT; j++)
        for (int o = 0; o < S3_OP_COUNT; o++)
            into->n[j][o] += c->stats.sent.n[j][o];
}

int s3c_pending(const struct s3c *c)
{
    int n = 0;
    for (const struct s3c_call *call = c->calls; call; call = call->next)
        n += call->parent == NULL;
    return n + c->nbatches + c->nsweeps;
}
