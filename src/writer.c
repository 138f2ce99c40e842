/*
 * writer.c - proxy and multipart object writer (see writer.h).
 *
 * One struct wr is both AutoMQ's ProxyWriter and its MultiPartWriter: the
 * proxy's buffer is the first part (number 0 until the switch), so that the
 * switch to multipart only numbers it and starts CreateMultipartUpload.
 *
 * Parts: OPEN (the pending part, at most one, always the list's tail, never
 * empty) -> SEALED (queued for upload: waits for its range reads and the
 * upload id) -> BUSY (UploadPart / UploadPartCopy in flight) -> DONE.
 *
 * Waiters: a write, copy, flush or close registers a waiter.  A write or
 * copy waiter counts the parts holding its bytes (nparts); each part keeps
 * the waiters it holds (wt[]).  When nparts drops to 0 the waiter moves to
 * the ready queue, which is delivered from the event loop: at the end of an
 * S3 or timer callback (depth counts those in progress, so that a callback
 * may call wr_release safely), or from a 0-delay timer after an API call.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "err.h"
#include "s3client.h"
#include "writer_int.h"

void wr_conf_default(struct wr_conf *conf)
{
    conf->multipart_threshold = UINT64_C(32) << 20;
    conf->min_part_size = UINT64_C(5) << 20;
    conf->flush_each_batch = true;
    conf->release_waits_pending = false;
    conf->complete_waiters = true;
    conf->check_prepared = true;
    conf->abort_on_release = true;
}

void wr_conf_from(struct wr_conf *wconf, const struct conf *c)
{
    wr_conf_default(wconf);
    wconf->multipart_threshold = (uint64_t)conf_get(c, CONF_MULTIPART_THRESHOLD);
    wconf->min_part_size = (uint64_t)conf_get(c, CONF_MIN_PART_SIZE);
    wconf->flush_each_batch = conf_bool(c, CONF_FLUSH_EACH_BATCH);
    wconf->release_waits_pending = conf_bool(c, CONF_RELEASE_WAITS_PENDING);
    wconf->complete_waiters = conf_bool(c, CONF_COMPLETE_WAITERS);
    wconf->check_prepared = conf_bool(c, CONF_UPLOAD_CHECK_PREPARED);
    wconf->abort_on_release = conf_bool(c, CONF_WR_ABORT_ON_RELEASE);
}

/* The pending part is uploaded once it grows beyond this. */
uint64_t wr_upload_limit(const struct wr *w)
{
    const struct wr_conf *c = &w->ctx->conf;
    return c->multipart_threshold > c->min_part_size ? c->multipart_threshold : c->min_part_size;
}

/* ---- waiters ------------------------------------------------------------- */

struct wr_waiter *wr_waiter_new(struct wr *w, enum wr_kind kind, wr_cb cb, void *arg)
{
    struct wr_waiter *wt = calloc(1, sizeof *wt);
    if (!wt)
        return NULL;
    wt->cb = cb;
    wt->arg = arg;
    wt->kind = kind;
    wt->next = w->waiters;
    if (w->waiters)
        w->waiters->prev = wt;
    w->waiters = wt;
    w->nwaiters++;
    return wt;
}

/* Moves an outstanding waiter to the ready queue with rc. */
void wr_waiter_ready(struct wr *w, struct wr_waiter *wt, int rc)
{
    if (wt->prev)
        wt->prev->next = wt->next;
    else
        w->waiters = wt->next;
    if (wt->next)
        wt->next->prev = wt->prev;
    w->nwaiters--;
    wt->rc = rc;
    wt->next = wt->prev = NULL;
    if (w->ready_tail)
        w->ready_tail->next = wt;
    else
        w->ready = wt;
    w->ready_tail = wt;
}

int wr_attach(struct wr_part *p, struct wr_waiter *wt)
{
    if (p->nwt == p->capwt) {
        size_t n = p->capwt ? 2 * p->capwt : 4;
        struct wr_waiter **v = realloc(p->wt, n * sizeof *v);
        if (!v)
            return ERR_NOMEM;
        p->wt = v;
        p->capwt = n;
    }
    p->wt[p->nwt++] = wt;
    wt->nparts++;
    return 0;
}

/* The part's bytes are accepted: its waiters may be ready. */
void wr_part_accept(struct wr *w, struct wr_part *p)
{
    for (size_t i = 0; i < p->nwt; i++)
        if (--p->wt[i]->nparts == 0)
            wr_waiter_ready(w, p->wt[i], 0);
    p->nwt = 0;
}

static void wr_on_deliver(void *arg)
{
    struct wr *w = arg;
    w->deliver_timer = 0;
    wr_deliver(w);
}

/* After an API call: ready waiters are delivered from a 0-delay timer.
 * ERR_NOMEM when one is needed and cannot be started. */
int wr_schedule_deliver(struct wr *w)
{
    if ((w->ready || w->close_pending) && !w->deliver_timer && w->depth == 0 &&
        !(w->deliver_timer = env_timer(w->ctx->env, 0, wr_on_deliver, w)))
        return ERR_NOMEM;
    return 0;
}

/* Takes wt back out of the ready queue, undelivered (freed): true when it
 * was there. */
static bool wr_waiter_unready(struct wr *w, struct wr_waiter *wt)
{
    struct wr_waiter *prev = NULL;
    for (struct wr_waiter *q = w->ready; q; prev = q, q = q->next) {
        if (q != wt)
            continue;
        if (prev)
            prev->next = q->next;
        else
            w->ready = q->next;
        if (w->ready_tail == q)
            w->ready_tail = prev;
        free(q);
        return true;
    }
    return false;
}

/* ---- parts and memory ---------------------------------------------------- */

struct wr_part *wr_part_new(struct wr *w)
{
    struct wr_part *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->w = w;
    if (w->mpu)
        p->number = ++w->nparts;
    if (w->tail)
        w->tail->next = p;
    else
        w->head = p;
    w->tail = p;
    return p;
}

void wr_part_free_buf(struct wr *w, struct wr_part *p)
{
    wr_mem_sub(w->ctx->mem, p->cap);
    buf_recycle(&w->ctx->recycler, p->b); /* released to the pool, as AutoMQ's ByteBuf */
    p->b = NULL;
    p->buf = NULL;
    p->cap = 0;
    for (size_t i = 0; i < p->nsegs; i++) /* a piece's buffer, when this was its last holder */
        buf_recycle(&w->ctx->recycler, p->segs[i].ref);
    free(p->segs);
    free(p->sv);
    p->segs = NULL;
    p->sv = NULL;
    p->nsegs = p->capsegs = 0;
}

static int wr_seg_push(struct wr_part *p, struct buf *ref, size_t off, size_t len)
{
    if (p->nsegs == p->capsegs) {
        size_t n = p->capsegs ? 2 * p->capsegs : 16;
        struct wr_seg *v = realloc(p->segs, n * sizeof *v);
        if (!v)
            return ERR_NOMEM;
        p->segs = v;
        p->capsegs = n;
    }
    p->segs[p->nsegs++] = (struct wr_seg){ref, off, len};
    return 0;
}

/* n bytes were placed at p->own of the part's own buffer (written, or a
 * range read's room): a segmented part lists them as a piece. */
int wr_part_placed(struct wr_part *p, size_t n)
{
    if (p->nsegs) {
        struct wr_seg *g = &p->segs[p->nsegs - 1];
        if (!g->ref && g->off + g->len == p->own)
            g->len += n;
        else if (wr_seg_push(p, NULL, p->own, n))
            return ERR_NOMEM;
    }
    p->own += n;
    return 0;
}

/* A segmented part's pieces as the request's segments (p->sv). */
int wr_part_segs(struct wr_part *p)
{
    struct s3_seg *v = realloc(p->sv, p->nsegs * sizeof *v);
    if (!v)
        return ERR_NOMEM;
    p->sv = v;
    for (size_t i = 0; i < p->nsegs; i++) {
        struct buf *b = p->segs[i].ref ? p->segs[i].ref : p->b;
        v[i] = (struct s3_seg){b, b->p + p->segs[i].off, p->segs[i].len, 0};
    }
    return 0;
}

/* Bytes allocated past the part limit for a multipart writer's part, so
 * that the append which seals it (the part is uploaded once it exceeds the
 * limit) fits without moving the part. */
#define WR_PART_SLACK ((size_t)8 << 20)
#define WR_MAP_MIN ((size_t)1 << 20)

/* Makes room for n more bytes in p.  The bytes counted in the context's
 * memory (p->cap) are the part's bytes, exactly: AutoMQ's parts
 * (MultiPartWriter.ObjectPart, ProxyWriter's pending writes) are
 * CompositeByteBufs of the written buffers themselves, which never grow by
 * doubling, and memory.peak models AutoMQ's memory.  The allocation
 * (p->b->cap) is ours: see below. */
int wr_part_grow(struct wr *w, struct wr_part *p, size_t n)
{
    size_t need = p->len + n, room = p->b ? p->b->cap : 0, own = p->own + n;
    size_t limit = (size_t)wr_upload_limit(w);
    if (need < p->len || own < p->own)
        return ERR_LIMIT;
    if (own > room) { /* a proxy's allocation doubles from 64 KiB to the limit */
        room = room ? 2 * room : 64 * 1024;
        if (room > limit)
            room = limit;
        if (room < own)
            room = own;
    }
    /* A multipart writer's part is allocated once, at the part limit plus
     * WR_PART_SLACK: doubling copied each byte once more, and the untouched
     * rest of the allocation costs no memory (pages are mapped when written;
     * wr_submit_part trims it before the upload). */
    if (w->mpu && !p->nsegs && room < limit + WR_PART_SLACK && limit + WR_PART_SLACK > limit)
        room = limit + WR_PART_SLACK; /* (a segmented part's own bytes are few: they double) */
    /* A part of WR_MAP_MIN bytes or more is a buffer of buf.h's buf_take:
     * one from its pool, whose pages are mapped already, when there is one.
     * A smaller one is malloc'ed and doubles; it moves to a buf_take buffer
     * once (one copy of less than WR_MAP_MIN) when it grows past. */
    if (!p->b && !(p->b = room >= WR_MAP_MIN ? buf_take(room) : buf_new(0)))
        return ERR_NOMEM;
    if (own > p->b->cap && room >= WR_MAP_MIN && !p->b->pooled) {
        struct buf *m = buf_take(room);
        if (!m || buf_write(m, 0, p->b->p, p->b->len)) {
            buf_unref(m);
            return ERR_NOMEM;
        }
        buf_unref(p->b);
        p->b = m;
    }
    if (own > p->b->cap && buf_reserve(p->b, room))
        return ERR_NOMEM; /* a shared part is sealed and never grows: no memory */
    p->buf = p->b->p;
    wr_mem_add(w->ctx->mem, need - p->cap);
    p->cap = need;
    return 0;
}

/* Queues p for upload. */
void wr_seal(struct wr *w, struct wr_part *p)
{
    p->st = WR_P_SEALED;
    p->qnext = NULL;
    if (w->sq_tail)
        w->sq_tail->qnext = p;
    else
        w->sq_head = p;
    w->sq_tail = p;
    if (w->pending == p)
        w->pending = NULL;
}

/* The pending part, made if needed (never empty once the call returns). */
struct wr_part *wr_pending(struct wr *w)
{
    if (!w->pending)
        w->pending = wr_part_new(w);
    return w->pending;
}

/* ---- failure -------------------------------------------------------------- */

void wr_cancel_io(struct wr *w, bool final_too)
{
    struct s3_ops *s3 = w->ctx->s3;
    for (struct wr_part *p = w->head; p; p = p->next) {
        if (p->st == WR_P_BUSY) {
            s3_cancel(s3, &p->req);
            p->st = WR_P_SEALED;
            w->nbusy--;
        }
    }
    w->busy_bytes = 0;
    while (w->reads) {
        struct wr_read *r = w->reads;
        w->reads = r->next;
        s3_cancel(s3, &r->req);
        free(r->src);
        free(r);
    }
    w->nreads = 0;
    if (final_too && w->final_busy) {
        s3_cancel(s3, &w->final_req);
        w->final_busy = false;
    }
}

/* Makes the writer unusable and completes its waiters with rc. */
void wr_fail(struct wr *w, int rc, const char *what)
{
    struct wr_waiter *wt, *next;
    if (w->err)
        return;
    w->err = rc;
    env_logf(w->ctx->env, ENV_LOG_WARN, "writer", "writer for %s (%s) failed: %s: %s", w->key,
             w->who, what, err_str(rc));
    env_tracef(w->ctx->env, "wr fail %s %s", w->key, err_name(rc));
    wr_cancel_io(w, true);
    for (wt = w->waiters; wt; wt = next) {
        next = wt->next;
        if (w->ctx->conf.complete_waiters)
            wr_waiter_ready(w, wt, rc);
    }
    for (struct wr_part *p = w->head; p; p = p->next)
        p->nwt = 0;
}

/* ---- lifetime ------------------------------------------------------------- */

static void wr_destroy(struct wr *w)
{
    struct wr_ctx *ctx = w->ctx;
    if (w->prev)
        w->prev->next = w->next;
    else
        ctx->writers = w->next;
    if (w->next)
        w->next->prev = w->prev;
    ctx->nwriters--;
    env_cancel(ctx->env, w->deliver_timer);
    env_cancel(ctx->env, w->rel_timer);
    env_wait_end(ctx->env, w->wait);
    while (w->head) {
        struct wr_part *p = w->head;
        w->head = p->next;
        wr_part_free_buf(w, p);
        free(p->src);
        free(p->wt);
        free(p);
    }
    while (w->waiters) {
        struct wr_waiter *wt = w->waiters;
        w->waiters = wt->next;
        free(wt);
    }
    while (w->ready) {
        struct wr_waiter *wt = w->ready;
        w->ready = wt->next;
        free(wt);
    }
    free(w->cparts);
    free(w->key);
    free(w->who);
    free(w);
}

void wr_try_destroy(struct wr *w)
{
    if (!w->released || w->depth || w->create_busy || w->abort_busy || w->rel_timer || w->rel_hang)
        return;
    wr_destroy(w);
}

int wr_ctx_new(struct env *env, struct s3_ops *s3, const struct wr_conf *conf, struct wr_mem *mem,
               struct wr_ctx **out)
{
    struct wr_ctx *ctx;
    *out = NULL;
    if (!env || !s3 || !conf || !mem || conf->min_part_size == 0)
        return ERR_INVAL;
    ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return ERR_NOMEM;
    ctx->env = env;
    ctx->s3 = s3;
    ctx->conf = *conf;
    ctx->mem = mem;
    *out = ctx;
    return ERR_OK;
}

void wr_ctx_set_guard(struct wr_ctx *ctx, wr_guard_fn fn, void *arg)
{
    ctx->guard = fn;
    ctx->guard_arg = arg;
}

void wr_ctx_free(struct wr_ctx *ctx)
{
    if (!ctx)
        return;
    while (ctx->writers) {
        struct wr *w = ctx->writers;
        wr_cancel_io(w, true);
        if (w->create_busy)
            s3_cancel(ctx->s3, &w->create_req);
        if (w->abort_busy)
            s3_cancel(ctx->s3, &w->abort_req);
        wr_destroy(w);
    }
    buf_recycler_drain(&ctx->recycler);
    free(ctx);
}

struct buf_recycler *wr_ctx_recycler(struct wr_ctx *ctx)
{
    return &ctx->recycler;
}

int wr_ctx_live(const struct wr_ctx *ctx)
{
    return ctx->nwriters;
}

struct wr *wr_open(struct wr_ctx *ctx, const char *key, enum s3_job job, const char *who)
{
    struct wr *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->key = strdup(key);
    w->who = strdup(who ? who : s3_job_name(job));
    if (!w->key || !w->who) {
        free(w->key);
        free(w->who);
        free(w);
        return NULL;
    }
    w->ctx = ctx;
    w->job = job;
    w->next = ctx->writers;
    if (ctx->writers)
        ctx->writers->prev = w;
    ctx->writers = w;
    ctx->nwriters++;
    return w;
}

int wr_usable(const struct wr *w)
{
    return w->released || w->closing || w->err ? ERR_BADSTATE : 0;
}

/* The switch from proxy to multipart: the buffer becomes part 1. */
void wr_switch(struct wr *w)
{
    w->mpu = true;
    if (w->head)
        w->head->number = ++w->nparts;
    env_tracef(w->ctx->env, "wr multipart %s size=%llu", w->key, (unsigned long long)w->size);
}

/* Ends an API call whose waiter is own (NULL: none): starts what can start,
 * delivers from a timer.  Callbacks never run inside the call that registered
 * them (writer.h), so when that timer cannot be started (out of memory) and
 * own is ready already, nothing could ever deliver it: own is taken back and
 * the call returns ERR_NOMEM (no callback, as for any ERR_NOMEM).  Other ready
 * waiters (writes a flush declared accepted, or a close's answer) stay queued
 * for the writer's next event: an S3 completion, its next call, at the latest
 * its release, which delivers them. */
int wr_api_done(struct wr *w, struct wr_waiter *own)
{
    wr_kick(w);
    if (wr_schedule_deliver(w) == 0)
        return 0;
    env_logf(w->ctx->env, ENV_LOG_WARN, "writer", "writer for %s (%s): delivery timer: %s",
             w->key, w->who, err_str(ERR_NOMEM));
    return own && wr_waiter_unready(w, own) ? ERR_NOMEM : 0;
}

/* Counts len bytes just added to the pending part p: past the threshold the writer turns
 * multipart, past the part limit p is sealed.  Ends the API call. */
static int wr_appended(struct wr *w, struct wr_part *p, size_t len, struct wr_waiter *wt)
{
    p->len += len;
    w->size += len;
    if (!w->mpu && w->size > w->ctx->conf.multipart_threshold)
        wr_switch(w);
    if (w->mpu && p->len > wr_upload_limit(w))
        wr_seal(w, p);
    return wr_api_done(w, wt);
}

/* Appends len bytes: copied, or (own, whose reference is the writer's in
 * every case: kept or dropped) taken over as the pending part's buffer when
 * no part is pending. */
static int wr_append(struct wr *w, struct buf *own, const uint8_t *buf, size_t len, wr_cb cb,
                     void *arg)
{
    struct wr_waiter *wt = NULL;
    struct wr_part *p;
    int rc;
    if ((rc = wr_usable(w)))
        goto drop;
    if (len == 0) {
        buf_unref(own);
        if (cb && !(wt = wr_waiter_new(w, WR_W_WRITE, cb, arg)))
            return ERR_NOMEM;
        if (wt)
            wr_waiter_ready(w, wt, 0);
        return wr_api_done(w, wt);
    }
    rc = ERR_LIMIT;
    if (w->mpu && !w->pending && w->nparts >= S3_MAX_PARTS)
        goto drop;
    rc = ERR_NOMEM;
    if (!(p = wr_pending(w)))
        goto drop;
    if (own && !p->buf && !p->nsegs) {
        p->b = own; /* the caller's reference */
        p->buf = own->p;
        p->cap = len;
        p->own = len;
        wr_mem_add(w->ctx->mem, len);
    } else if ((rc = wr_part_grow(w, p, len)) < 0) {
        goto drop;
    }
    if (cb && (!(wt = wr_waiter_new(w, WR_W_WRITE, cb, arg)) || wr_attach(p, wt) < 0)) {
        if (wt)
            wr_waiter_ready(w, wt, ERR_NOMEM);
        if (p->b == own) {
            p->b = NULL;
            p->buf = NULL;
            p->cap = 0;
            wr_mem_sub(w->ctx->mem, len);
        }
        buf_unref(own);
        /* no waiter, or no way to deliver it: the caller hears it here */
        return wt && wr_api_done(w, wt) == 0 ? 0 : ERR_NOMEM;
    }
    if (p->b != own) {
        buf_write(p->b, p->own, buf, len);
        buf_unref(own);
        if (wr_part_placed(p, len)) {
            wr_fail(w, ERR_NOMEM, "part bookkeeping");
            return wr_api_done(w, wt);
        }
    }
    return wr_appended(w, p, len, wt);
drop:
    buf_unref(own);
    return rc;
}

int wr_write(struct wr *w, const uint8_t *buf, size_t len, wr_cb cb, void *arg)
{
    return wr_append(w, NULL, buf, len, cb, arg);
}

int wr_write_ref(struct wr *w, struct buf *ref, const uint8_t *ptr, size_t len, wr_cb cb,
                 void *arg)
{
    struct wr_waiter *wt = NULL;
    struct wr_part *p;
    size_t off;
    int rc;
    if (!ref || len < WR_REF_MIN || !w->ctx->s3->segs_ok || !buf_holds(ref, ptr, len, &off) ||
        (w->pending && w->pending->reads))
        return wr_append(w, NULL, ptr, len, cb, arg);
    if ((rc = wr_usable(w)))
        return rc;
    if (w->mpu && !w->pending && w->nparts >= S3_MAX_PARTS)
        return ERR_LIMIT;
    if (!(p = wr_pending(w)))
        return ERR_NOMEM;
    if (p->nsegs && p->segs[p->nsegs - 1].ref == ref &&
        p->segs[p->nsegs - 1].off + p->segs[p->nsegs - 1].len == off) {
        /* The bytes right after the last piece's: one piece (blocks of a
         * chunk written in order). */
        p->segs[p->nsegs - 1].len += len;
        wr_mem_add(w->ctx->mem, len);
        p->cap += len;
        if (cb && (!(wt = wr_waiter_new(w, WR_W_WRITE, cb, arg)) || wr_attach(p, wt) < 0)) {
            if (wt)
                wr_waiter_ready(w, wt, ERR_NOMEM); /* as wr_write: not appended */
            p->segs[p->nsegs - 1].len -= len;
            wr_mem_sub(w->ctx->mem, len);
            p->cap -= len;
            return wt && wr_api_done(w, wt) == 0 ? 0 : ERR_NOMEM;
        }
        goto appended;
    }
    /* The part becomes a list of pieces: its own bytes so far first. */
    bool conv = !p->nsegs && p->own;
    if (conv && wr_seg_push(p, NULL, 0, p->own))
        return ERR_NOMEM;
    if (wr_seg_push(p, ref, off, len)) {
        if (conv)
            p->nsegs = 0; /* its own bytes only: not segmented after all */
        return ERR_NOMEM;
    }
    buf_ref(ref);
    wr_mem_add(w->ctx->mem, len);
    p->cap += len;
    if (cb && (!(wt = wr_waiter_new(w, WR_W_WRITE, cb, arg)) || wr_attach(p, wt) < 0)) {
        if (wt)
            wr_waiter_ready(w, wt, ERR_NOMEM); /* as wr_write: not appended */
        buf_unref(p->segs[--p->nsegs].ref);
        if (conv)
            p->nsegs = 0;
        wr_mem_sub(w->ctx->mem, len);
        p->cap -= len;
        return wt && wr_api_done(w, wt) == 0 ? 0 : ERR_NOMEM;
    }
appended:
    return wr_appended(w, p, len, wt);
}

int wr_write_take(struct wr *w, uint8_t *buf, size_t len, wr_cb cb, void *arg)
{
    struct buf *b = buf_adopt(buf, len, len);
    if (!b) {
        free(buf);
        return ERR_NOMEM;
    }
    return wr_append(w, b, buf, len, cb, arg);
}

int wr_write_buf(struct wr *w, struct buf *b, wr_cb cb, void *arg)
{
    return wr_append(w, b, b->p, b->len, cb, arg);
}

/* ---- flush, close, release ------------------------------------------------ */

int wr_flush(struct wr *w, wr_cb cb, void *arg)
{
    struct wr_waiter *wt;
    struct wr_part *p = w->pending;
    bool park = w->ctx->conf.flush_each_batch;
    int rc;
    if ((rc = wr_usable(w)))
        return rc;
    if (!(wt = wr_waiter_new(w, WR_W_FLUSH, cb, arg)))
        return ERR_NOMEM;
    if (p && w->mpu && p->len >= w->ctx->conf.min_part_size)
        wr_seal(w, p); /* legal as a non-final part: upload it now */
    else if (p && park)
        wr_part_accept(w, p); /* parked below the minimum: accepted as parked */
    for (struct wr_part *q = w->head; q; q = q->next) {
        if (q->st == WR_P_DONE || (q == w->pending && park))
            continue;
        if (wr_attach(q, wt) < 0) {
            wr_fail(w, ERR_NOMEM, "flush bookkeeping");
            return wr_api_done(w, wt);
        }
    }
    if (wt->nparts == 0)
        wr_waiter_ready(w, wt, 0);
    env_tracef(w->ctx->env, "wr flush %s parked=%llu", w->key,
               (unsigned long long)wr_parked_bytes(w));
    return wr_api_done(w, wt);
}

int wr_close(struct wr *w, wr_cb cb, void *arg)
{
    int rc;
    if ((rc = wr_usable(w)))
        return rc;
    w->closing = true;
    w->close_pending = true;
    w->close_cb = cb;
    w->close_arg = arg;
    if (w->mpu && w->pending)
        wr_seal(w, w->pending);
    if (wr_api_done(w, NULL) && (w->closed || w->err)) {
        w->close_pending = false; /* its answer is here already, with no way to deliver it */
        return ERR_NOMEM;
    }
    return 0;
}

static void wr_on_released(void *arg)
{
    struct wr *w = arg;
    w->rel_timer = 0;
    if (w->rel_cb)
        w->rel_cb(w->rel_arg, 0);
    wr_try_destroy(w);
}

/* Completes every waiter of a writer being released, synchronously. */
static void wr_release_waiters(struct wr *w)
{
    w->depth++;
    while (w->waiters)
        wr_waiter_ready(w, w->waiters, ERR_CANCELED);
    while (w->ready) {
        struct wr_waiter *wt = w->ready;
        w->ready = wt->next;
        if (!w->ready)
            w->ready_tail = NULL;
        if (wt->cb)
            wt->cb(wt->arg, wt->rc);
        free(wt);
    }
    if (w->close_pending) {
        w->close_pending = false;
        if (w->close_cb)
            w->close_cb(w->close_arg, w->closed ? 0 : w->err ? w->err : ERR_CANCELED);
    }
    w->depth--;
}

void wr_release(struct wr *w, wr_cb cb, void *arg)
{
    struct wr_ctx *ctx = w->ctx;
    if (w->released)
        return;
    w->released = true;
    w->rel_cb = cb;
    w->rel_arg = arg;
    wr_cancel_io(w, true);
    env_cancel(ctx->env, w->deliver_timer);
    w->deliver_timer = 0;
    wr_release_waiters(w);
    /* F02: before #2316 MultiPartWriter.release waited for every part, the
     * pending one included; ProxyWriter.release (a single PutObject not yet
     * sent) freed its buffers and returned at once. */
    w->rel_hang = ctx->conf.release_waits_pending && w->mpu && w->pending && w->pending->len &&
                  !w->closed;
    for (struct wr_part *p = w->head; p; p = p->next)
        if (!(w->rel_hang && p == w->pending))
            wr_part_free_buf(w, p);
    /* A guard of ours: AutoMQ never aborts (docs/engine.md "Accepted versus durable"); its upload
     * stays open until a bucket lifecycle rule removes it. */
    if (w->mpu && w->have_id && !w->closed && !w->rel_hang && ctx->conf.abort_on_release)
        wr_start_abort(w);
    if (!w->rel_hang && cb && !(w->rel_timer = env_timer(ctx->env, 0, wr_on_released, w)))
        cb(arg, 0); /* no timer (out of memory): heard now rather than never (writer.h) */
    env_tracef(ctx->env, "wr release %s%s", w->key, w->rel_hang ? " hang" : "");
    wr_wait_refresh(w);
    wr_try_destroy(w);
}

/* ---- accessors ------------------------------------------------------------ */

bool wr_has_parked(const struct wr *w)
{
    return w->pending && w->pending->len > 0;
}

uint64_t wr_parked_bytes(const struct wr *w)
{
    return w->pending ? w->pending->len : 0;
}

uint64_t wr_size(const struct wr *w)
{
    return w->size;
}

bool wr_is_multipart(const struct wr *w)
{
    return w->mpu;
}

int wr_error(const struct wr *w)
{
    return w->err;
}
