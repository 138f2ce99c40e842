/*
 * store_ops.c - the honest bucket as an asynchronous struct s3_ops, and the
 * latency model (fs3.h).  A call waits its drawn latency on an env timer, is
 * then applied on the bucket (fs3_exec) and answered.  Pending calls form a
 * doubly linked list, so cancel() and teardown find them.
 */
#include "err.h"
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

struct fs3_call {
    struct fs3_call *prev, *next; /* pending list, or the free list (next) */
    struct fs3 *s;
    struct s3_req *req;           /* the caller's request (borrowed) */
    env_id timer;
};

int64_t fs3_draw_latency(struct fs3 *s, const struct s3_req *req)
{
    uint64_t bytes = 0;
    double u = env_rand_unit(s->env);
    int64_t us = (int64_t)((double)s->cfg.latency_us * (0.5 + u));
    switch (req->op) {
    case S3_OP_PUT:
    case S3_OP_MPU_PART: bytes = req->body_len; break;
    case S3_OP_GET:
    case S3_OP_MPU_COPY: {
        struct fs3_obj *o = fs3_lookup(s, req->op == S3_OP_GET ? req->key : req->copy_source,
                                       FS3_AS_OF_NOW);
        uint64_t end;
        if (!o || (uint64_t)req->range_start >= o->size)
            break;
        end = req->range_end >= 0 && (uint64_t)req->range_end < o->size
                  ? (uint64_t)req->range_end
                  : o->size;
        bytes = end > (uint64_t)req->range_start ? end - (uint64_t)req->range_start : 0;
        break;
    }
    default: break;
    }
    if (bytes && s->cfg.bandwidth)
        us += (int64_t)((double)bytes * 1e6 / (double)s->cfg.bandwidth);
    return us;
}

static void fs3_call_unlink(struct fs3 *s, struct fs3_call *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        s->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->next = s->free_calls;
    s->free_calls = c;
}

static void fs3_call_fire(void *arg)
{
    struct fs3_call *c = arg;
    struct fs3 *s = c->s;
    struct s3_req *req = c->req;
    struct s3_result res;
    memset(&res, 0, sizeof res);
    fs3_call_unlink(s, c);
    s->inflight--;
    if (fs3_exec(s, req, FS3_AS_OF_NOW, &res)) {
        res.transport = S3_TR_OTHER;
        res.status = 0;
    }
    req->cb(req, &res);
    s3_result_cleanup(&res);
}

static int fs3_ops_submit(struct s3_ops *ops, struct s3_req *req)
{
    struct fs3 *s = ops->impl;
    struct fs3_call *c;
    int rc = fs3_validate(req);
    if (rc)
        return rc;
    if ((c = s->free_calls))
        s->free_calls = c->next;
    else if (!(c = malloc(sizeof *c)))
        return ERR_NOMEM;
    c->s = s;
    c->req = req;
    c->prev = NULL;
    c->next = s->calls;
    if (s->calls)
        s->calls->prev = c;
    s->calls = c;
    c->timer = env_timer(s->env, fs3_draw_latency(s, req), fs3_call_fire, c);
    if (!c->timer) {
        fs3_call_unlink(s, c);
        return ERR_NOMEM;
    }
    s->inflight++;
    return 0;
}

static void fs3_ops_cancel(struct s3_ops *ops, struct s3_req *req)
{
    struct fs3 *s = ops->impl;
    for (struct fs3_call *c = s->calls; c; c = c->next)
        if (c->req == req) {
            env_cancel(s->env, c->timer);
            fs3_call_unlink(s, c);
            s->inflight--;
            return;
        }
}

void fs3_ops_init(struct fs3 *s)
{
    s->ops.impl = s;
    s->ops.name = "fake";
    s->ops.submit = fs3_ops_submit;
    s->ops.cancel = fs3_ops_cancel;
    s->ops.segs_ok = true;
}

struct s3_ops *fs3_ops(struct fs3 *s) { return &s->ops; }

void fs3_calls_free(struct fs3 *s)
{
    struct fs3_call *c = s->calls, *next;
    for (; c; c = next) {
        next = c->next;
        env_cancel(s->env, c->timer);
        free(c);
        s->inflight--;
    }
    s->calls = NULL;
    for (c = s->free_calls; c; c = next) {
        next = c->next;
        free(c);
    }
    s->free_calls = NULL;
}
