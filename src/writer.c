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
#include "writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "err.h"
#include "s3client.h"

enum wr_pst { WR_P_OPEN = 0, WR_P_SEALED, WR_P_BUSY, WR_P_DONE };
enum wr_kind { WR_W_WRITE = 0, WR_W_FLUSH, WR_W_CLOSE };

struct wr_waiter {
    struct wr_waiter *next, *prev; /* w->waiters (outstanding) or w->ready (next only) */
    wr_cb cb;
    void *arg;
    enum wr_kind kind;
    int nparts;                    /* parts that must still be accepted */
    int rc;                        /* the result, once ready */
};

struct wr_part {
    struct wr_part *next;          /* the writer's parts, in number order */
    struct wr_part *qnext;         /* the sealed queue */
    struct wr *w;
    int number;                    /* 1..10000; 0 for the proxy buffer */
    enum wr_pst st;
    uint8_t *buf;                  /* data part: the bytes (counted in mem) */
    size_t len, cap;
    char *src;                     /* copy part: source key (owned) */
    uint64_t src_start, src_end;
    int reads;                     /* range reads still filling buf */
    struct wr_waiter **wt;         /* waiters holding bytes here */
    size_t nwt, capwt;
    struct s3_req req;
    char etag[S3_ETAG_MAX];
};

struct wr_read {
    struct wr_read *next, *prev;
    struct wr_part *part;
    size_t off, len;
    char *src;
    struct s3_req req;
};

struct wr {
    struct wr_ctx *ctx;
    struct wr *next, *prev;        /* ctx->writers */
    char *key, *who;
    enum s3_job job;
    bool mpu, closing, closed, released, final_busy, create_busy, abort_busy, have_id;
    int err;
    uint64_t size;                 /* bytes written so far */
    int nparts, ndone, nbusy;      /* numbered parts; done; uploads in flight */
    uint64_t busy_bytes;
    struct wr_part *head, *tail, *pending;
    struct wr_part *sq_head, *sq_tail; /* sealed, not yet submitted */
    struct wr_read *reads;
    int nreads;
    struct wr_waiter *waiters;     /* outstanding */
    struct wr_waiter *ready, *ready_tail;
    int nwaiters;
    wr_cb close_cb;
    void *close_arg;
    bool close_pending;            /* close_cb not yet delivered */
    wr_cb rel_cb;
    void *rel_arg;
    bool rel_hang;                 /* F02: release waits on the pending part forever */
    int depth;                     /* event-loop callbacks in progress */
    env_id deliver_timer, rel_timer;
    env_id wait;
    char upload_id[S3_UPLOAD_ID_MAX];
    struct s3_req create_req, final_req, abort_req;
    struct s3_part *cparts;        /* the complete's part list */
};

struct wr_ctx {
    struct env *env;
    struct s3_ops *s3;
    struct wr_conf conf;
    struct wr_mem *mem;
    struct wr *writers;
    int nwriters;
};

#define WR_MAX_CHUNK (UINT64_C(5) << 30) /* UploadPartCopy range limit (5 GiB) */

static void wr_kick(struct wr *w);
static void wr_deliver(struct wr *w);
static void wr_wait_refresh(struct wr *w);

void wr_conf_default(struct wr_conf *conf)
{
    conf->multipart_threshold = UINT64_C(32) << 20;
    conf->min_part_size = UINT64_C(5) << 20;
    conf->flush_each_batch = true;
    conf->release_waits_pending = false;
    conf->complete_waiters = true;
}

void wr_conf_from(struct wr_conf *wconf, const struct conf *c)
{
    wr_conf_default(wconf);
    wconf->multipart_threshold = (uint64_t)conf_get(c, CONF_MULTIPART_THRESHOLD);
    wconf->min_part_size = (uint64_t)conf_get(c, CONF_MIN_PART_SIZE);
    wconf->flush_each_batch = conf_bool(c, CONF_FLUSH_EACH_BATCH);
    wconf->release_waits_pending = conf_bool(c, CONF_RELEASE_WAITS_PENDING);
    wconf->complete_waiters = conf_bool(c, CONF_COMPLETE_WAITERS);
}

/* The pending part is uploaded once it grows beyond this. */
static uint64_t wr_upload_limit(const struct wr *w)
{
    const struct wr_conf *c = &w->ctx->conf;
    return c->multipart_threshold > c->min_part_size ? c->multipart_threshold : c->min_part_size;
}

/* ---- waiters ------------------------------------------------------------- */

static struct wr_waiter *wr_waiter_new(struct wr *w, enum wr_kind kind, wr_cb cb, void *arg)
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
static void wr_waiter_ready(struct wr *w, struct wr_waiter *wt, int rc)
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

static int wr_attach(struct wr_part *p, struct wr_waiter *wt)
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
static void wr_part_accept(struct wr *w, struct wr_part *p)
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

/* After an API call: ready waiters are delivered from a 0-delay timer. */
static void wr_schedule_deliver(struct wr *w)
{
    if ((w->ready || w->close_pending) && !w->deliver_timer && w->depth == 0)
        w->deliver_timer = env_timer(w->ctx->env, 0, wr_on_deliver, w);
}

/* ---- parts and memory ---------------------------------------------------- */

static struct wr_part *wr_part_new(struct wr *w)
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

static void wr_part_free_buf(struct wr *w, struct wr_part *p)
{
    wr_mem_sub(w->ctx->mem, p->cap);
    free(p->buf);
    p->buf = NULL;
    p->cap = 0;
}

/* Makes room for n more bytes in p. */
static int wr_part_grow(struct wr *w, struct wr_part *p, size_t n)
{
    size_t need = p->len + n, cap;
    uint8_t *b;
    if (need < p->len)
        return ERR_LIMIT;
    if (need <= p->cap)
        return 0;
    cap = p->cap ? 2 * p->cap : 64 * 1024;
    if (cap > wr_upload_limit(w))
        cap = (size_t)wr_upload_limit(w);
    if (cap < need)
        cap = need;
    b = realloc(p->buf, cap);
    if (!b)
        return ERR_NOMEM;
    wr_mem_add(w->ctx->mem, cap - p->cap);
    p->buf = b;
    p->cap = cap;
    return 0;
}

/* Queues p for upload. */
static void wr_seal(struct wr *w, struct wr_part *p)
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
static struct wr_part *wr_pending(struct wr *w)
{
    if (!w->pending)
        w->pending = wr_part_new(w);
    return w->pending;
}

/* ---- failure -------------------------------------------------------------- */

static void wr_cancel_io(struct wr *w, bool final_too)
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
static void wr_fail(struct wr *w, int rc, const char *what)
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

/* ---- S3 callbacks -------------------------------------------------------- */

static void wr_enter(struct wr *w) { w->depth++; }

static void wr_leave(struct wr *w)
{
    w->depth--;
    wr_kick(w);
    wr_deliver(w);
}

static void wr_part_cb(struct s3_req *req, struct s3_result *res)
{
    struct wr_part *p = req->arg;
    struct wr *w = p->w;
    int rc = s3c_result_err(res);
    wr_enter(w);
    w->nbusy--;
    w->busy_bytes -= p->src ? 0 : p->len;
    if (rc) {
        p->st = WR_P_SEALED;
        wr_fail(w, rc, p->src ? "UploadPartCopy" : "UploadPart");
    } else {
        p->st = WR_P_DONE;
        snprintf(p->etag, sizeof p->etag, "%s", res->etag);
        wr_part_free_buf(w, p);
        w->ndone++;
        wr_part_accept(w, p);
    }
    wr_leave(w);
}

static void wr_read_cb(struct s3_req *req, struct s3_result *res)
{
    struct wr_read *r = req->arg;
    struct wr_part *p = r->part;
    struct wr *w = p->w;
    int rc = s3c_result_err(res);
    wr_enter(w);
    if (!rc && res->body_len != r->len)
        rc = ERR_CORRUPT;
    if (!rc)
        memcpy(p->buf + r->off, res->body, r->len);
    p->reads--;
    if (r->prev)
        r->prev->next = r->next;
    else
        w->reads = r->next;
    if (r->next)
        r->next->prev = r->prev;
    w->nreads--;
    free(r->src);
    free(r);
    if (rc)
        wr_fail(w, rc, "range read of a copy source");
    wr_leave(w);
}

static void wr_try_destroy(struct wr *w);

static void wr_abort_cb(struct s3_req *req, struct s3_result *res)
{
    struct wr *w = req->arg;
    w->abort_busy = false;
    env_tracef(w->ctx->env, "wr abort %s %s", w->key, s3_result_ok(res) ? "ok" : "failed");
    if (!s3_result_ok(res) && res->status != 404)
        env_logf(w->ctx->env, ENV_LOG_WARN, "writer", "abort of the multipart upload of %s failed",
                 w->key);
    wr_try_destroy(w);
}

static void wr_start_abort(struct wr *w)
{
    memset(&w->abort_req, 0, sizeof w->abort_req);
    w->abort_req.job = w->job;
    w->abort_req.key = w->key;
    w->abort_req.upload_id = w->upload_id;
    if (s3_mpu_abort(w->ctx->s3, &w->abort_req, wr_abort_cb, w) == 0)
        w->abort_busy = true;
}

static void wr_create_cb(struct s3_req *req, struct s3_result *res)
{
    struct wr *w = req->arg;
    int rc = s3c_result_err(res);
    w->create_busy = false;
    if (!rc) {
        snprintf(w->upload_id, sizeof w->upload_id, "%s", res->upload_id);
        w->have_id = true;
    }
    if (w->released) {
        if (w->have_id)
            wr_start_abort(w);
        wr_try_destroy(w);
        return;
    }
    wr_enter(w);
    if (rc)
        wr_fail(w, rc, "CreateMultipartUpload");
    wr_leave(w);
}

static void wr_final_cb(struct s3_req *req, struct s3_result *res)
{
    struct wr *w = req->arg;
    int rc = s3c_result_err(res);
    wr_enter(w);
    w->final_busy = false;
    if (rc) {
        wr_fail(w, rc, w->mpu ? "CompleteMultipartUpload" : "PutObject");
    } else {
        w->closed = true;
        env_tracef(w->ctx->env, "wr durable %s size=%llu parts=%d", w->key,
                   (unsigned long long)w->size, w->nparts);
        if (!w->mpu && w->head) {
            w->head->st = WR_P_DONE;
            wr_part_free_buf(w, w->head);
            wr_part_accept(w, w->head);
        }
    }
    wr_leave(w);
}

/* ---- progress ------------------------------------------------------------ */

static int wr_submit_part(struct wr *w, struct wr_part *p)
{
    struct s3_req *r = &p->req;
    memset(r, 0, sizeof *r);
    r->job = w->job;
    r->key = w->key;
    r->upload_id = w->upload_id;
    r->part_number = p->number;
    if (p->src) {
        r->copy_source = p->src;
        r->range_start = (int64_t)p->src_start;
        r->range_end = (int64_t)p->src_end;
        return s3_mpu_copy(w->ctx->s3, r, wr_part_cb, p);
    }
    r->body = p->buf;
    r->body_len = p->len;
    return s3_mpu_part(w->ctx->s3, r, wr_part_cb, p);
}

static int wr_submit_create(struct wr *w)
{
    memset(&w->create_req, 0, sizeof w->create_req);
    w->create_req.job = w->job;
    w->create_req.key = w->key;
    return s3_mpu_create(w->ctx->s3, &w->create_req, wr_create_cb, w);
}

static int wr_submit_final(struct wr *w)
{
    struct s3_req *r = &w->final_req;
    memset(r, 0, sizeof *r);
    r->job = w->job;
    r->key = w->key;
    if (!w->mpu) {
        r->body = w->head ? w->head->buf : NULL;
        r->body_len = w->head ? w->head->len : 0;
        return s3_put(w->ctx->s3, r, wr_final_cb, w);
    }
    free(w->cparts);
    w->cparts = calloc((size_t)w->nparts, sizeof *w->cparts);
    if (!w->cparts)
        return ERR_NOMEM;
    size_t i = 0;
    for (struct wr_part *p = w->head; p; p = p->next) {
        w->cparts[i].number = p->number;
        snprintf(w->cparts[i].etag, sizeof w->cparts[i].etag, "%s", p->etag);
        i++;
    }
    r->upload_id = w->upload_id;
    r->parts = w->cparts;
    r->nparts = i;
    return s3_mpu_complete(w->ctx->s3, r, wr_final_cb, w);
}

/* Starts whatever can start now.  Errors of a submit fail the writer. */
static void wr_kick(struct wr *w)
{
    int rc;
    if (w->err || w->released)
        goto out;
    if (w->mpu && !w->have_id) {
        if (!w->create_busy && (rc = wr_submit_create(w)) < 0)
            wr_fail(w, rc, "CreateMultipartUpload submit");
        else
            w->create_busy = true;
        goto out;
    }
    while (w->sq_head && w->sq_head->reads == 0) {
        struct wr_part *p = w->sq_head;
        if ((rc = wr_submit_part(w, p)) < 0) {
            wr_fail(w, rc, "UploadPart submit");
            goto out;
        }
        w->sq_head = p->qnext;
        if (!w->sq_head)
            w->sq_tail = NULL;
        p->st = WR_P_BUSY;
        w->nbusy++;
        w->busy_bytes += p->src ? 0 : p->len;
    }
    if (w->closing && !w->final_busy && !w->closed) {
        bool ready = w->mpu ? w->ndone == w->nparts : (!w->head || w->head->reads == 0);
        if (ready) {
            if ((rc = wr_submit_final(w)) < 0)
                wr_fail(w, rc, "close submit");
            else
                w->final_busy = true;
        }
    }
out:
    wr_wait_refresh(w);
}

static void wr_destroy(struct wr *w);

/* Delivers ready waiters, then close's callback, unless released. */
static void wr_deliver(struct wr *w)
{
    w->depth++;
    while (w->ready && !w->released) {
        struct wr_waiter *wt = w->ready;
        w->ready = wt->next;
        if (!w->ready)
            w->ready_tail = NULL;
        if (wt->cb)
            wt->cb(wt->arg, wt->rc);
        free(wt);
    }
    if (!w->released && w->close_pending && (w->closed || w->err)) {
        w->close_pending = false;
        if (w->close_cb)
            w->close_cb(w->close_arg, w->closed ? 0 : w->err);
    }
    w->depth--;
    if (!w->released)
        wr_wait_refresh(w);
    wr_try_destroy(w);
}

/* ---- the wait registry ---------------------------------------------------- */

static void wr_wait_text(struct wr *w, char *buf, size_t n)
{
    char a[32], b[32], c[32];
    uint64_t parked = wr_parked_bytes(w);
    int k = snprintf(buf, n, "writer for %s: %d waiter(s)%s", w->key, w->nwaiters,
                     w->close_pending ? " and close" : "");
    if (!w->have_id && w->mpu && k > 0 && (size_t)k < n)
        k += snprintf(buf + k, n - (size_t)k, "; waiting for the upload id");
    if (w->nbusy && k > 0 && (size_t)k < n)
        k += snprintf(buf + k, n - (size_t)k, "; %d part(s) uploading (%s)", w->nbusy,
                      env_fmt_size(w->busy_bytes, a, sizeof a));
    if (w->nreads && k > 0 && (size_t)k < n)
        k += snprintf(buf + k, n - (size_t)k, "; %d range read(s) of copy sources", w->nreads);
    if (parked && k > 0 && (size_t)k < n)
        k += snprintf(buf + k, n - (size_t)k,
                      "; %s parked in the pending part below the %s part threshold "
                      "(%s minimum part), uploaded only at close or flush",
                      env_fmt_size(parked, b, sizeof b),
                      env_fmt_size(wr_upload_limit(w), a, sizeof a),
                      env_fmt_size(w->ctx->conf.min_part_size, c, sizeof c));
    if (!w->nbusy && !w->nreads && !w->final_busy && !w->create_busy && k > 0 && (size_t)k < n)
        snprintf(buf + k, n - (size_t)k, "; no upload in flight");
}

static void wr_wait_refresh(struct wr *w)
{
    struct env *env = w->ctx->env;
    char text[512];
    bool waiting = w->released ? w->rel_hang : (w->nwaiters > 0 || w->close_pending);
    if (!waiting) {
        env_wait_end(env, w->wait);
        w->wait = 0;
        return;
    }
    if (w->released)
        snprintf(text, sizeof text,
                 "release of the writer for %s waits for its pending part (%llu bytes) that "
                 "only close would upload (compaction.release.waits.pending)",
                 w->key, (unsigned long long)(w->pending ? w->pending->len : 0));
    else
        wr_wait_text(w, text, sizeof text);
    if (!w->wait)
        w->wait = env->wait_begin ? env->wait_begin(env, w->who, text) : 0;
    else
        env_wait_updatef(env, w->wait, "%s", text);
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

static void wr_try_destroy(struct wr *w)
{
    if (!w->released || w->depth || w->create_busy || w->abort_busy || w->rel_timer ||
        w->rel_hang)
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
    free(ctx);
}

int wr_ctx_live(const struct wr_ctx *ctx) { return ctx->nwriters; }

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

static int wr_usable(const struct wr *w)
{
    return w->released || w->closing || w->err ? ERR_BADSTATE : 0;
}

/* The switch from proxy to multipart: the buffer becomes part 1. */
static void wr_switch(struct wr *w)
{
    w->mpu = true;
    if (w->head)
        w->head->number = ++w->nparts;
    env_tracef(w->ctx->env, "wr multipart %s size=%llu", w->key, (unsigned long long)w->size);
}

/* Ends an API call: start what can start, deliver from a timer. */
static int wr_api_done(struct wr *w)
{
    wr_kick(w);
    wr_schedule_deliver(w);
    return 0;
}

int wr_write(struct wr *w, const uint8_t *buf, size_t len, wr_cb cb, void *arg)
{
    struct wr_waiter *wt = NULL;
    struct wr_part *p;
    int rc;
    if ((rc = wr_usable(w)))
        return rc;
    if (len == 0) {
        if (cb && !(wt = wr_waiter_new(w, WR_W_WRITE, cb, arg)))
            return ERR_NOMEM;
        if (wt)
            wr_waiter_ready(w, wt, 0);
        return wr_api_done(w);
    }
    if (w->mpu && !w->pending && w->nparts >= S3_MAX_PARTS)
        return ERR_LIMIT;
    p = wr_pending(w);
    if (!p)
        return ERR_NOMEM;
    if ((rc = wr_part_grow(w, p, len)) < 0)
        return rc;
    if (cb && (!(wt = wr_waiter_new(w, WR_W_WRITE, cb, arg)) || wr_attach(p, wt) < 0)) {
        if (wt)
            wr_waiter_ready(w, wt, ERR_NOMEM);
        return wr_api_done(w);
    }
    memcpy(p->buf + p->len, buf, len);
    p->len += len;
    w->size += len;
    if (!w->mpu && w->size > w->ctx->conf.multipart_threshold)
        wr_switch(w);
    if (w->mpu && p->len > wr_upload_limit(w))
        wr_seal(w, p);
    return wr_api_done(w);
}

/* ---- copy-write (§4.3) ---------------------------------------------------- */

/* Range-reads [s, e) of src into the end of part p. */
static void wr_read_into(struct wr *w, struct wr_part *p, struct wr_waiter *wt, const char *src,
                         uint64_t s, uint64_t e)
{
    struct wr_read *r = NULL;
    int rc;
    if (wt && (p->nwt == 0 || p->wt[p->nwt - 1] != wt) && wr_attach(p, wt) < 0) {
        wr_fail(w, ERR_NOMEM, "copy bookkeeping");
        return;
    }
    if ((rc = wr_part_grow(w, p, (size_t)(e - s))) < 0 || !(r = calloc(1, sizeof *r)) ||
        !(r->src = strdup(src))) {
        if (rc == 0)
            free(r);
        wr_fail(w, rc ? rc : ERR_NOMEM, "copy buffer");
        return;
    }
    r->part = p;
    r->off = p->len;
    r->len = (size_t)(e - s);
    r->req.job = w->job;
    r->req.key = r->src;
    r->req.range_start = (int64_t)s;
    r->req.range_end = (int64_t)e;
    p->len += r->len;
    if ((rc = s3_get(w->ctx->s3, &r->req, wr_read_cb, r)) < 0) {
        free(r->src);
        free(r);
        wr_fail(w, rc, "range read submit");
        return;
    }
    p->reads++;
    r->next = w->reads;
    if (w->reads)
        w->reads->prev = r;
    w->reads = r;
    w->nreads++;
}

/* [s, e) of src as its own part, by UploadPartCopy. */
static void wr_copy_part(struct wr *w, struct wr_waiter *wt, const char *src, uint64_t s,
                         uint64_t e)
{
    struct wr_part *p = wr_part_new(w);
    if (!p || !(p->src = strdup(src)) || (wt && wr_attach(p, wt) < 0)) {
        wr_fail(w, ERR_NOMEM, "copy part");
        return;
    }
    p->src_start = s;
    p->src_end = e;
    p->len = (size_t)(e - s);
    wr_seal(w, p);
}

/* One chunk (at most 5 GiB) in multipart mode, by §4.3's rules. */
static void wr_copy_chunk(struct wr *w, struct wr_waiter *wt, const char *src, uint64_t s,
                          uint64_t e)
{
    const uint64_t min = w->ctx->conf.min_part_size;
    const uint64_t thr = w->ctx->conf.multipart_threshold;
    struct wr_part *p = w->pending;
    if (!p) {
        if (e - s < min)
            wr_read_into(w, wr_pending(w), wt, src, s, e);
        else
            wr_copy_part(w, wt, src, s, e);
        return;
    }
    if (p->len + (e - s) > thr) {
        /* Top up the pending part to exactly the minimum part (never a
         * negative range: a pending part already at the minimum gets none),
         * upload it, then copy the rest. */
        uint64_t top = p->len < min ? min - p->len : 0;
        if (top > e - s)
            top = e - s;
        if (top)
            wr_read_into(w, p, wt, src, s, s + top);
        wr_seal(w, p);
        s += top;
        if (s < e && !w->err)
            wr_copy_chunk(w, wt, src, s, e);
        return;
    }
    wr_read_into(w, p, wt, src, s, e);
    if (p->len > min)
        wr_seal(w, p);
}

int wr_copy(struct wr *w, const char *src_key, uint64_t start, uint64_t end, wr_cb cb, void *arg)
{
    struct wr_waiter *wt = NULL;
    uint64_t len = end - start;
    int rc;
    if ((rc = wr_usable(w)))
        return rc;
    if (start > end || !src_key)
        return ERR_INVAL;
    if (w->nparts + 2 * (len / WR_MAX_CHUNK + 1) + 1 > S3_MAX_PARTS)
        return ERR_LIMIT;
    if (cb && !(wt = wr_waiter_new(w, WR_W_WRITE, cb, arg)))
        return ERR_NOMEM;
    w->size += len;
    if (!w->mpu && w->size <= w->ctx->conf.multipart_threshold) {
        if (len)
            wr_read_into(w, wr_pending(w), wt, src_key, start, end);
    } else {
        if (!w->mpu)
            wr_switch(w);
        if (w->pending && w->pending->len > wr_upload_limit(w))
            wr_seal(w, w->pending);
        for (uint64_t s = start; s < end && !w->err; s += WR_MAX_CHUNK)
            wr_copy_chunk(w, wt, src_key, s, end - s > WR_MAX_CHUNK ? s + WR_MAX_CHUNK : end);
    }
    if (wt && wt->nparts == 0 && !w->err)
        wr_waiter_ready(w, wt, 0);
    return wr_api_done(w);
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
            return wr_api_done(w);
        }
    }
    if (wt->nparts == 0)
        wr_waiter_ready(w, wt, 0);
    env_tracef(w->ctx->env, "wr flush %s parked=%llu", w->key,
               (unsigned long long)wr_parked_bytes(w));
    return wr_api_done(w);
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
    return wr_api_done(w);
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
    w->rel_hang = ctx->conf.release_waits_pending && w->pending && w->pending->len && !w->closed;
    for (struct wr_part *p = w->head; p; p = p->next)
        if (!(w->rel_hang && p == w->pending))
            wr_part_free_buf(w, p);
    if (w->mpu && w->have_id && !w->closed && !w->rel_hang)
        wr_start_abort(w);
    if (!w->rel_hang && cb)
        w->rel_timer = env_timer(ctx->env, 0, wr_on_released, w);
    env_tracef(ctx->env, "wr release %s%s", w->key, w->rel_hang ? " hang" : "");
    wr_wait_refresh(w);
    wr_try_destroy(w);
}

/* ---- accessors ------------------------------------------------------------ */

bool wr_has_parked(const struct wr *w) { return w->pending && w->pending->len > 0; }

uint64_t wr_parked_bytes(const struct wr *w) { return w->pending ? w->pending->len : 0; }

uint64_t wr_size(const struct wr *w) { return w->size; }

bool wr_is_multipart(const struct wr *w) { return w->mpu; }

int wr_error(const struct wr *w) { return w->err; }
