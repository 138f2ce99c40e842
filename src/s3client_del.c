/*
 * s3client_del.c - DeleteObjects batching of the client layer
 * (docs/engine.md "Batch delete"; contract in s3client.h).  A delete-many
 * of any size is a batch whose children are calls of at most 1000 keys;
 * their per-key answers are settled in the batch, retriable keys retried
 * alone, and the caller answered once every key is settled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "s3client_int.h"

static void s3c_del_child_done(struct s3c_call *call);

#define S3C_DEL_BACKOFF_CAP_US (30 * ENV_USEC_PER_SEC)

/* ---- DeleteObjects batching (docs/engine.md "Batch delete") ---------------------------------- */

static bool s3c_del_key_retriable(enum s3_code code)
{
    return code == S3E_INTERNAL_ERROR || code == S3E_SERVICE_UNAVAILABLE || code == S3E_SLOW_DOWN ||
           code == S3E_REQUEST_TIMEOUT || code == S3E_OPERATION_ABORTED;
}

static bool s3c_del_status_retriable(int status)
{
    return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
           status == 504;
}

/* min(backoff * 2^min(n-1,5), 30 s) before retry n (n = 1 first). */
static int64_t s3c_del_backoff(const struct s3c_call *call)
{
    int64_t b = call->c->conf.retry_backoff_us;
    int n = call->attempt - 1;
    for (int i = 0; i < n && i < 5; i++)
        b *= 2;
    return b < S3C_DEL_BACKOFF_CAP_US ? b : S3C_DEL_BACKOFF_CAP_US;
}

static void s3c_batch_free(struct s3c_batch *b)
{
    struct s3c *c = b->c;
    struct s3c_batch **pp = &c->batches;
    while (*pp && *pp != b)
        pp = &(*pp)->next;
    if (*pp)
        *pp = b->next;
    c->nbatches--;
    env_cancel(c->env, b->done_timer);
    free(b->res);
    free(b);
}

/* Answers the caller of a batch whose keys are all settled. */
static void s3c_batch_answer(struct s3c_batch *b)
{
    struct s3c *c = b->c;
    struct s3_req *outer = b->outer;
    struct s3_result res;
    memset(&res, 0, sizeof res);
    res.transport = S3_TR_OK;
    res.status = 200;
    if (b->wfailed && !b->answered) {
        /* Every call of its keys failed whole: the caller hears S3's answer,
         * e.g. a 404 to the whole call (not 200 with NoSuchKey per key). */
        res.transport = b->wtransport;
        res.status = b->wstatus;
    }
    res.deleted = b->res;
    res.ndeleted = outer->nkeys;
    b->res = NULL;
    for (size_t i = 0; i < res.ndeleted; i++) {
        if (res.deleted[i].code != S3E_NONE) {
            res.code = res.deleted[i].code;
            snprintf(res.message, sizeof res.message, "%s: %s", res.deleted[i].key,
                     s3_code_name(res.code));
            c->stats.failures++;
            break;
        }
    }
    if (res.code == S3E_NONE && b->failed != S3E_NONE) {
        /* F27: another caller's key failed the merged call. */
        res.code = b->failed;
        snprintf(res.message, sizeof res.message, "Failed to delete objects: %s (a key of a "
                 "merged DeleteObjects)", s3_code_name(res.code));
        c->stats.failures++;
    }
    s3c_batch_free(b);
    outer->cb(outer, &res);
    s3_result_cleanup(&res);
}

static void s3c_batch_on_empty(void *arg)
{
    struct s3c_batch *b = arg;
    b->done_timer = 0;
    if (b->children == 0) /* F27: a batch still being submitted answers later */
        s3c_batch_answer(b);
}

static void s3c_del_child_done(struct s3c_call *call)
{
    struct s3c_batch *b = call->parent;
    s3c_call_free(call);
    if (--b->children == 0)
        s3c_batch_answer(b);
}

static void s3c_del_on_backoff(void *arg)
{
    struct s3c_call *call = arg;
    call->backoff_timer = 0;
    if (call->give_up)
        s3c_del_child_done(call);
    else
        s3c_attempt_go(call);
}

/* Retries the child's remaining keys, or gives them up (their codes are
 * already recorded in the batch). */
static void s3c_del_child_retry(struct s3c_call *call, const char *why)
{
    struct s3c *c = call->c;
    int64_t delay = s3c_del_backoff(call);
    char d[32];
    call->give_up = !s3c_attempts_left(call);
    if (call->give_up) {
        delay = 0;
    } else {
        c->stats.retries++;
        env_fmt_duration(delay, d, sizeof d);
        env_wait_updatef(c->env, call->wait,
                         "delete-many of %zu keys from %s: attempt %d in %s "
                         "after %s",
                         call->ireq.nkeys, s3c_call_key(call), call->attempt + 1, d, why);
    }
    call->backoff_timer = env_timer(c->env, delay, s3c_del_on_backoff, call);
}

/* Records how S3 answered a call carrying keys of b (see struct s3c_batch). */
static void s3c_batch_heard(struct s3c_batch *b, const struct s3_result *res, bool whole)
{
    if (!whole) {
        b->answered = true;
        return;
    }
    b->wfailed = true;
    b->wtransport = res->transport;
    b->wstatus = res->transport == S3_TR_OK ? res->status : 0;
}

/* Sets the code of every remaining key of the child. */
static void s3c_del_mark_all(struct s3c_call *call, enum s3_code code)
{
    for (size_t i = 0; i < call->ireq.nkeys; i++)
        call->parent->res[call->pos[i]].code = code;
}

void s3c_del_child_answer(struct s3c_call *call, struct s3_result *res)
{
    struct s3c_batch *b = call->parent;
    size_t keep = 0;
    bool whole = res->transport != S3_TR_OK || res->status < 200 || res->status >= 300 ||
                 res->ndeleted != call->ireq.nkeys;
    if (whole) {
        bool retriable = res->transport != S3_TR_OK || s3c_del_status_retriable(res->status) ||
                         (res->status >= 200 && res->status < 300);
        enum s3_code code = res->transport != S3_TR_OK ? S3E_REQUEST_TIMEOUT
                            : res->code != S3E_NONE
                                ? res->code
                                : s3_default_code(S3_OP_DELETE_MANY, res->status);
        if (code == S3E_NONE)
            code = S3E_OTHER;
        s3c_batch_heard(b, res, true);
        s3c_del_mark_all(call, code);
        s3c_trace(call, res, retriable && s3c_attempts_left(call) ? "retry" : "fail");
        if (retriable)
            s3c_del_child_retry(call, "a failed call");
        else
            s3c_del_child_done(call);
        return;
    }
    s3c_batch_heard(b, res, false);
    for (size_t i = 0; i < call->ireq.nkeys; i++) {
        enum s3_code code = res->deleted[i].code;
        if (code == S3E_NO_SUCH_KEY)
            code = S3E_NONE;
        b->res[call->pos[i]].code = code;
        if (s3c_del_key_retriable(code)) {
            call->keys[keep] = call->keys[i];
            call->pos[keep] = call->pos[i];
            keep++;
        }
    }
    call->ireq.nkeys = keep;
    s3c_trace(call, res, keep ? "retry-keys" : "ok");
    if (keep)
        s3c_del_child_retry(call, "retriable per-key errors");
    else
        s3c_del_child_done(call);
}

/* Makes the child call for keys [from, from + n) of the batch. */
static struct s3c_call *s3c_del_child(struct s3c_batch *b, size_t from, size_t n)
{
    struct s3c *c = b->c;
    struct s3c_call *call = calloc(1, sizeof *call);
    if (!call)
        return NULL;
    call->keys = calloc(n, sizeof *call->keys);
    call->pos = calloc(n, sizeof *call->pos);
    if (!call->keys || !call->pos) {
        free(call->keys);
        free(call->pos);
        free(call);
        return NULL;
    }
    call->c = c;
    call->parent = b;
    call->ireq = *b->outer;
    for (size_t i = 0; i < n; i++) {
        call->keys[i] = b->outer->keys[from + i];
        call->pos[i] = from + i;
    }
    call->ireq.keys = call->keys;
    call->ireq.nkeys = n;
    s3c_link(c, call);
    call->wait = env_wait_beginf(c->env, s3_job_name(b->outer->job),
                                 "delete-many of %zu keys from %s starting", n, s3c_call_key(call));
    return call;
}

/* ---- F27: DeleteObjectsAccumulator before #3392 (conf.delete_per_key false) ---- */

static void s3c_dq_push(struct s3c *c, struct s3c_dsub *sub)
{
    sub->next = NULL;
    if (c->dq_tail)
        c->dq_tail->next = sub;
    else
        c->dq_head = sub;
    c->dq_tail = sub;
}

/* Sends subs (a list, in order; live) as one DeleteObjects of their keys,
 * with its own copies of the keys. */
static int s3c_dacc_send(struct s3c *c, struct s3c_dsub *subs)
{
    size_t n = 0, bytes = 0, k = 0, nsubs = 0;
    struct s3c_dsub *sub;
    struct s3c_call *call = calloc(1, sizeof *call);
    char *p;
    if (!call)
        return ERR_NOMEM;
    for (sub = subs; sub; sub = sub->next) {
        n += sub->n;
        nsubs++;
        for (size_t i = 0; i < sub->n; i++)
            bytes += strlen(sub->b->outer->keys[sub->from + i]) + 1;
    }
    call->keys = calloc(n ? n : 1, sizeof *call->keys);
    call->kbuf = malloc(bytes ? bytes : 1);
    if (!call->keys || !call->kbuf) {
        free(call->keys);
        free(call->kbuf);
        free(call);
        return ERR_NOMEM;
    }
    p = call->kbuf;
    for (sub = subs; sub; sub = sub->next) {
        for (size_t i = 0; i < sub->n; i++) {
            size_t len = strlen(sub->b->outer->keys[sub->from + i]) + 1;
            memcpy(p, sub->b->outer->keys[sub->from + i], len);
            call->keys[k++] = p;
            p += len;
        }
    }
    call->c = c;
    call->merged = true;
    call->subs = subs;
    call->ireq = *subs->b->outer;
    call->ireq.keys = call->keys;
    call->ireq.nkeys = n;
    call->ireq.key = call->keys[0];
    s3c_link(c, call);
    c->dinflight++;
    if (nsubs > 1)
        env_tracef(c->env, "s3c delete-many %s merged %zu key batches (%zu keys)",
                   s3c_call_key(call), nsubs, n);
    call->wait = env_wait_beginf(c->env, s3_job_name(call->ireq.job),
                                 "delete-many of %zu keys from %s (%zu key batches) starting", n,
                                 s3c_call_key(call), nsubs);
    /* Not in a caller's submit: an inner submit failure becomes an answer. */
    return s3c_attempt_go(call);
}

/* handleDeleteRequestQueue: when a request slot is free, the queue's head
 * batches, of whatever callers, up to 1000 keys, go as one call. */
static void s3c_dacc_pump(struct s3c *c)
{
    struct s3c_dsub *head = c->dq_head, *last = NULL, *sub;
    size_t n = 0;
    if (!head || c->dinflight >= c->conf.permits)
        return;
    for (sub = head; sub && n + sub->n <= S3_MAX_DELETE_KEYS; sub = sub->next) {
        n += sub->n;
        last = sub;
    }
    if (!last)
        return;
    c->dq_head = last->next;
    if (!c->dq_head)
        c->dq_tail = NULL;
    last->next = NULL;
    if (s3c_dacc_send(c, head) != 0) {
        last->next = c->dq_head; /* back at the head, in order */
        c->dq_head = head;
        if (!c->dq_tail)
            c->dq_tail = last;
    }
}

static void s3c_dacc_on_backoff(void *arg)
{
    struct s3c_call *call = arg;
    call->backoff_timer = 0;
    s3c_attempt_go(call);
}

/* retryOnThrottle's delay: uniform(0..999 ms) + min(backoff * 2^min(n,16), max). */
static int64_t s3c_dacc_backoff(const struct s3c_call *call)
{
    struct s3c *c = call->c;
    int n = call->attempt - 1;
    int64_t b = c->conf.retry_backoff_us, cap = c->conf.backoff_max_us;
    for (int i = 0; i < n && i < 16 && b < cap; i++)
        b *= 2;
    if (b > cap)
        b = cap;
    return (int64_t)env_rand_below(c->env, 1000) * ENV_USEC_PER_MS + b;
}

void s3c_dacc_call_freed(struct s3c_call *call)
{
    struct s3c_dsub *sub, *next;
    for (sub = call->subs; sub; sub = next) {
        next = sub->next;
        free(sub);
    }
    call->subs = NULL;
    free(call->kbuf);
    call->kbuf = NULL;
    call->c->dinflight--;
}

void s3c_dacc_answer(struct s3c_call *call, struct s3_result *res)
{
    struct s3c *c = call->c;
    struct s3c_dsub *subs, *sub, *next;
    enum s3_code failed = S3E_NONE;
    int logged = 0;
    size_t k = 0;
    bool whole = res->transport != S3_TR_OK || res->status < 200 || res->status >= 300 ||
                 res->ndeleted != call->ireq.nkeys;
    if (whole) {
        /* isThrottled: 429, 503, or a timeout of a retry. */
        bool throttled = (res->transport == S3_TR_OK && (res->status == 429 || res->status == 503)) ||
                         (res->transport == S3_TR_TIMEOUT && call->attempt > 1);
        if (throttled && s3c_attempts_left(call)) {
            int64_t delay = s3c_dacc_backoff(call);
            char d[32];
            s3c_trace(call, res, "retry");
            c->stats.retries++;
            env_fmt_duration(delay, d, sizeof d);
            env_wait_updatef(c->env, call->wait, "delete-many of %zu keys from %s: attempt %d in "
                             "%s after throttling", call->ireq.nkeys, s3c_call_key(call),
                             call->attempt + 1, d);
            call->backoff_timer = env_timer(c->env, delay, s3c_dacc_on_backoff, call);
            return;
        }
        failed = res->transport != S3_TR_OK ? S3E_REQUEST_TIMEOUT
                 : res->code != S3E_NONE    ? res->code
                                            : s3_default_code(S3_OP_DELETE_MANY, res->status);
        if (failed == S3E_NONE)
            failed = S3E_OTHER;
    } else {
        /* checkDeleteObjectsResponse: any error but NoSuchKey fails the call. */
        for (size_t i = 0; i < res->ndeleted; i++) {
            enum s3_code code = res->deleted[i].code;
            if (code == S3E_NONE || code == S3E_NO_SUCH_KEY)
                continue;
            if (failed == S3E_NONE)
                failed = code;
            if (logged++ < 5)
                env_logf(c->env, ENV_LOG_ERROR, "s3client",
                         "Delete objects for key [%s] error code [%s] message [%s]",
                         call->ireq.keys[i], s3_code_name(code), s3_code_name(code));
        }
    }
    s3c_trace(call, res, failed == S3E_NONE ? "ok" : "fail");
    subs = call->subs;
    call->subs = NULL;
    for (sub = subs; sub; sub = sub->next) {
        for (size_t i = 0; i < sub->n; i++, k++) {
            enum s3_code code = whole ? failed : res->deleted[k].code;
            if (code == S3E_NO_SUCH_KEY)
                code = S3E_NONE;
            if (sub->b)
                sub->b->res[sub->from + i].code = code;
        }
        if (sub->b)
            s3c_batch_heard(sub->b, res, whole);
    }
    s3c_call_free(call);
    /* The callers hear from a timer: a callback may cancel another batch. */
    for (sub = subs; sub; sub = next) {
        next = sub->next;
        if (sub->b) {
            if (failed != S3E_NONE && sub->b->failed == S3E_NONE)
                sub->b->failed = failed;
            if (--sub->b->children == 0 && !sub->b->done_timer)
                sub->b->done_timer = env_timer(c->env, 0, s3c_batch_on_empty, sub->b);
        }
        free(sub);
    }
    s3c_dacc_pump(c);
}

/* batchDeleteObjects: the caller's keys in batches of 1000, each sent at
 * once when a request slot is free and nothing is queued, else queued. */
static int s3c_dacc_submit(struct s3c *c, struct s3c_batch *b)
{
    struct s3_req *req = b->outer;
    for (size_t from = 0; from < req->nkeys; from += S3_MAX_DELETE_KEYS) {
        struct s3c_dsub *sub = calloc(1, sizeof *sub);
        if (!sub)
            return ERR_NOMEM;
        sub->b = b;
        sub->from = from;
        sub->n = req->nkeys - from < S3_MAX_DELETE_KEYS ? req->nkeys - from : S3_MAX_DELETE_KEYS;
        b->children++;
        if (c->dq_head || c->dinflight >= c->conf.permits) {
            s3c_dq_push(c, sub);
        } else if (s3c_dacc_send(c, sub) != 0) {
            free(sub);
            b->children--;
            return ERR_NOMEM;
        }
    }
    return 0;
}

/* Forgets a cancelled batch in the accumulator: its queued key batches go,
 * and the merged calls carrying its keys no longer answer it. */
static void s3c_dacc_forget(struct s3c *c, struct s3c_batch *b)
{
    struct s3c_dsub **pp = &c->dq_head, *sub;
    c->dq_tail = NULL;
    while ((sub = *pp)) {
        if (sub->b == b) {
            *pp = sub->next;
            free(sub);
        } else {
            c->dq_tail = sub;
            pp = &sub->next;
        }
    }
    for (struct s3c_call *call = c->calls; call; call = call->next)
        for (sub = call->subs; sub; sub = sub->next)
            if (sub->b == b)
                sub->b = NULL;
}

static void s3c_del_abandon(struct s3c_batch *b)
{
    struct s3c *c = b->c;
    struct s3c_call *call = c->calls, *next;
    for (; call; call = next) {
        next = call->next;
        if (call->parent == b)
            s3c_call_free(call);
    }
    s3c_dacc_forget(c, b);
    s3c_batch_free(b);
}

int s3c_del_submit(struct s3c *c, struct s3_req *req)
{
    struct s3c_batch *b;
    int rc = ERR_NOMEM;
    /* Field bug F26 (#1518): before the fix AwsObjectStorage.doDeleteObjects
     * sent every key it was given in one DeleteObjects. */
    size_t step = c->conf.delete_split || req->nkeys <= S3_MAX_DELETE_KEYS ? S3_MAX_DELETE_KEYS
                                                                           : req->nkeys;
    if (req->nkeys && !req->keys)
        return ERR_INVAL;
    b = calloc(1, sizeof *b);
    if (!b || !(b->res = calloc(req->nkeys ? req->nkeys : 1, sizeof *b->res))) {
        free(b);
        return ERR_NOMEM;
    }
    b->c = c;
    b->outer = req;
    b->next = c->batches;
    c->batches = b;
    c->nbatches++;
    for (size_t i = 0; i < req->nkeys; i++)
        b->res[i].key = req->keys[i];
    if (!c->conf.delete_per_key) {
        rc = s3c_dacc_submit(c, b);
        if (rc < 0)
            goto fail;
    }
    for (size_t from = 0; c->conf.delete_per_key && from < req->nkeys; from += step) {
        size_t n = req->nkeys - from < step ? req->nkeys - from : step;
        struct s3c_call *call = s3c_del_child(b, from, n);
        if (!call)
            goto fail;
        b->children++;
        call->in_submit = true;
        rc = s3c_attempt_go(call);
        call->in_submit = false;
        if (rc < 0)
            goto fail;
    }
    c->stats.calls[S3_OP_DELETE_MANY]++;
    if (req->nkeys == 0 && !(b->done_timer = env_timer(c->env, 0, s3c_batch_on_empty, b)))
        goto fail;
    return 0;
fail:
    s3c_del_abandon(b);
    s3c_pump(c);
    return rc < 0 ? rc : ERR_NOMEM;
}

void s3c_del_cancel(struct s3c *c, struct s3_req *req)
{
    for (struct s3c_batch *b = c->batches; b; b = b->next) {
        if (b->outer == req) {
            s3c_del_abandon(b);
            s3c_pump(c);
            return;
        }
    }
}

void s3c_del_free_all(struct s3c *c)
{
    while (c->batches)
        s3c_del_abandon(c->batches);
}
