/*
 * writer_io.c - the writer's S3 side (see writer.h, writer_int.h): the
 * callbacks of its calls, the progress function that starts what can start,
 * delivery of ready waiters, the wait registry text, and copy-write (docs/engine.md "Copy-write").
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "err.h"
#include "s3client.h"
#include "writer_int.h"

/* ---- S3 callbacks -------------------------------------------------------- */

static void wr_enter(struct wr *w)
{
    w->depth++;
}

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
    if (!rc && w->read_check)
        rc = w->read_check(w->read_check_arg, r->src, (uint64_t)r->req.range_start, res->body,
                           r->len);
    if (!rc)
        buf_write(p->b, r->off, res->body, r->len);
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

void wr_start_abort(struct wr *w)
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
        if (w->have_id && w->ctx->conf.abort_on_release)
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
    if (p->b) { /* what the store keeps is the part, not its slack */
        buf_trim(p->b);
        p->buf = p->b->p;
    }
    r->body_len = p->len;
    if (p->nsegs) { /* pieces: its own bytes and references (wr_write_ref) */
        int rc = wr_part_segs(p);
        if (rc)
            return rc;
        r->segs = p->sv;
        r->nsegs = p->nsegs;
        return s3_mpu_part(w->ctx->s3, r, wr_part_cb, p);
    }
    r->body = p->buf;
    r->body_buf = p->b;
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
    int rc = 0;
    if (w->ctx->guard && w->ctx->conf.check_prepared)
        rc = w->ctx->guard(w->ctx->guard_arg, w->key);
    if (rc < 0) {
        env_logf(w->ctx->env, ENV_LOG_WARN, "writer", "%s: %s of %s not sent: the object is "
                 "no longer prepared (expired by its TTL?): %s", w->who,
                 w->mpu ? "CompleteMultipartUpload" : "PutObject", w->key, err_str(rc));
        return rc;
    }
    memset(r, 0, sizeof *r);
    r->job = w->job;
    r->key = w->key;
    if (!w->mpu) {
        if (w->head && w->head->b) {
            buf_trim(w->head->b);
            w->head->buf = w->head->b->p;
        }
        r->body_len = w->head ? w->head->len : 0;
        if (w->head && w->head->nsegs) {
            int rc = wr_part_segs(w->head);
            if (rc)
                return rc;
            r->segs = w->head->sv;
            r->nsegs = w->head->nsegs;
            return s3_put(w->ctx->s3, r, wr_final_cb, w);
        }
        r->body = w->head ? w->head->buf : NULL;
        r->body_buf = w->head ? w->head->b : NULL;
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
void wr_kick(struct wr *w)
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

/* Delivers ready waiters, then close's callback, unless released. */
void wr_deliver(struct wr *w)
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

/* Where the parked bytes stand, in words (empty when none). */
static void wr_parked_text(const struct wr *w, char *buf, size_t n)
{
    char a[32], b[32], c[32];
    const struct wr_conf *conf = &w->ctx->conf;
    uint64_t parked = wr_parked_bytes(w);
    env_fmt_size(parked, a, sizeof a);
    env_fmt_size(conf->multipart_threshold, b, sizeof b);
    env_fmt_size(conf->min_part_size, c, sizeof c);
    if (!parked)
        buf[0] = '\0';
    else if (!w->mpu)
        snprintf(buf, n, "; %s parked for a single PUT at close (multipart above %s)", a, b);
    else if (parked < conf->min_part_size)
        snprintf(buf, n, "; %s parked below the %s minimum part, so only the close can upload it%s",
                 a, c,
                 conf->flush_each_batch ? " (a flush accepts it as parked)"
                                        : " (compaction.flush.each.batch is false: a flush "
                                          "waits for close)");
    else
        snprintf(buf, n, "; %s parked in the pending part (uploaded above %s, or by a flush)", a,
                 env_fmt_size(wr_upload_limit(w), b, sizeof b));
}

static void wr_wait_text(struct wr *w, char *buf, size_t n)
{
    char a[32], parked[256];
    int k = snprintf(buf, n, "writer for %s: %d waiter(s)%s", w->key, w->nwaiters,
                     w->close_pending ? " and close" : "");
    if (!w->have_id && w->mpu && k > 0 && (size_t)k < n)
        k += snprintf(buf + k, n - (size_t)k, "; waiting for the upload id");
    if (w->nbusy && k > 0 && (size_t)k < n)
        k += snprintf(buf + k, n - (size_t)k, "; %d part(s) uploading (%s)", w->nbusy,
                      env_fmt_size(w->busy_bytes, a, sizeof a));
    if (w->nreads && k > 0 && (size_t)k < n)
        k += snprintf(buf + k, n - (size_t)k, "; %d range read(s) of copy sources", w->nreads);
    wr_parked_text(w, parked, sizeof parked);
    if (k > 0 && (size_t)k < n)
        k += snprintf(buf + k, n - (size_t)k, "%s", parked);
    if (w->final_busy && k > 0 && (size_t)k < n)
        k += snprintf(buf + k, n - (size_t)k, "; %s in flight", w->mpu ? "complete" : "put");
    if (!w->nbusy && !w->nreads && !w->final_busy && !w->create_busy && k > 0 && (size_t)k < n)
        snprintf(buf + k, n - (size_t)k, "; no upload in flight");
}

void wr_wait_refresh(struct wr *w)
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

/* ---- copy-write (docs/engine.md "Copy-write") ------------------------------------------------ */

void wr_set_read_check(struct wr *w, wr_read_check_fn fn, void *arg)
{
    w->read_check = fn;
    w->read_check_arg = arg;
}

/* Range-reads [s, e) of src into the end of part p. */
static void wr_read_into(struct wr *w, struct wr_part *p, struct wr_waiter *wt, const char *src,
                         uint64_t s, uint64_t e)
{
    struct wr_read *r = NULL;
    int rc;
    if (!p) { /* wr_pending() found no memory for the part */
        wr_fail(w, ERR_NOMEM, "copy part");
        return;
    }
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
    r->off = p->own;
    r->len = (size_t)(e - s);
    if (wr_part_placed(p, r->len)) {
        free(r->src);
        free(r);
        wr_fail(w, ERR_NOMEM, "copy bookkeeping");
        return;
    }
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

/* One chunk (at most 5 GiB) in multipart mode, by the rules of docs/engine.md "Copy-write". */
static void wr_copy_chunk(struct wr *w, struct wr_waiter *wt, const char *src, uint64_t s,
                          uint64_t e)
{
    const uint64_t min = w->ctx->conf.min_part_size;
    /* max(threshold, minimum part): with a threshold below the minimum, a
     * top-up must still reach the minimum before the part goes. */
    const uint64_t thr = wr_upload_limit(w);
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
    return wr_api_done(w, wt);
}
