/*
 * s3client_mpu.c - stray multipart uploads of retried creates, and
 * UploadPartCopy by GetObject + UploadPart (s3.part.copy get-put; see
 * s3client.h).
 *
 * Why here and not in the writer: only the client layer sees the attempts.
 * An mpu-create attempt that timed out, was lost, or answered 5xx / a
 * 200-error may still have created an upload in S3; the retry then creates a
 * second one, and the writer above only ever hears of the winner.  Every
 * engine job (WAL upload, SSO and stream compactions) goes through a client,
 * and the winner's complete and abort go through the same client, so the
 * client knows both when strays can exist and when the winner has ended,
 * without stretching any writer's lifetime.
 *
 * A sweep lists the open uploads of exactly the key (prefix = key, entries
 * whose key equals it), page by page, and aborts every one that is not the
 * winner, one at a time, through the client itself (so with its retries).
 * It runs after the winner's complete or abort (whatever its outcome), so an
 * attempt applied late has had that long to land.  Sweeps count in
 * s3c_pending(); what a sweep cannot do is logged and left to the cleaner,
 * which lists the uploads of an expired prepared object's key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "s3client_int.h"

#define S3C_SWEEP_WHO "s3client"

struct s3c_sweep {
    struct s3c *c;
    struct s3c_sweep *next;
    enum s3_job job;
    char key[S3_MAX_KEY + 1];
    char keep[S3_UPLOAD_ID_MAX];  /* the winner ("" when the create failed) */
    char token[S3_MAX_KEY + 1];   /* the next page's token */
    bool more;                    /* a page follows the current one */
    int page;
    struct s3_req req;            /* the one call in flight (list or abort) */
    char (*ids)[S3_UPLOAD_ID_MAX]; /* strays of the current page */
    size_t nids, cur;        /* strays of the page, the next to abort */
    size_t aborted;
    env_id wait;
};

static void s3c_sweep_list(struct s3c_sweep *sw);

static void s3c_sweep_free(struct s3c_sweep *sw)
{
    struct s3c *c = sw->c;
    struct s3c_sweep **pp = &c->sweeps;
    while (*pp && *pp != sw)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = sw->next;
        c->nsweeps--;
    }
    env_wait_end(c->env, sw->wait);
    free(sw->ids);
    free(sw);
}

static void s3c_sweep_end(struct s3c_sweep *sw)
{
    env_tracef(sw->c->env, "s3c sweep %s aborted=%zu", sw->key, sw->aborted);
    s3c_sweep_free(sw);
}

static void s3c_sweep_abort_cb(struct s3_req *req, struct s3_result *res);

/* Aborts the next stray, lists the next page, or ends the sweep. */
static void s3c_sweep_next(struct s3c_sweep *sw)
{
    struct s3c *c = sw->c;
    const char *id;
    int rc;
    if (sw->cur >= sw->nids) {
        if (sw->more)
            s3c_sweep_list(sw);
        else
            s3c_sweep_end(sw);
        return;
    }
    id = sw->ids[sw->cur++];
    memset(&sw->req, 0, sizeof sw->req);
    sw->req.job = sw->job;
    sw->req.key = sw->key;
    sw->req.upload_id = id;
    env_wait_updatef(c->env, sw->wait,
                     "abort of stray multipart upload %s of %s (%zu of %zu on page %d), left "
                     "by a retried CreateMultipartUpload",
                     id, sw->key, sw->cur, sw->nids, sw->page);
    rc = s3_mpu_abort(&c->ops, &sw->req, s3c_sweep_abort_cb, sw);
    if (rc < 0) {
        env_logf(c->env, ENV_LOG_WARN, S3C_SWEEP_WHO,
                 "abort of stray multipart upload %s of %s could not start: %s; left to the "
                 "cleaner", id, sw->key, err_str(rc));
        s3c_sweep_end(sw);
    }
}

static void s3c_sweep_abort_cb(struct s3_req *req, struct s3_result *res)
{
    struct s3c_sweep *sw = req->arg;
    struct s3c *c = sw->c;
    int rc = s3c_result_err(res);
    if (rc == ERR_OK || rc == ERR_NOTFOUND) {
        sw->aborted++;
        c->stats.mpu_strays_aborted++;
        env_logf(c->env, ENV_LOG_INFO, S3C_SWEEP_WHO,
                 "aborted stray multipart upload %s of %s (left by a retried "
                 "CreateMultipartUpload)%s",
                 req->upload_id, sw->key, rc == ERR_NOTFOUND ? ": already gone" : "");
    } else {
        env_logf(c->env, ENV_LOG_WARN, S3C_SWEEP_WHO,
                 "abort of stray multipart upload %s of %s failed: %s; left to the cleaner",
                 req->upload_id, sw->key, err_str(rc));
    }
    s3c_sweep_next(sw);
}

/* Keeps the page's uploads of exactly sw->key, other than the winner. */
static int s3c_sweep_collect(struct s3c_sweep *sw, const struct s3_result *res)
{
    free(sw->ids);
    sw->ids = NULL;
    sw->nids = sw->cur = 0;
    if (res->nentries) {
        sw->ids = calloc(res->nentries, sizeof *sw->ids);
        if (!sw->ids)
            return ERR_NOMEM;
    }
    for (size_t i = 0; i < res->nentries; i++) {
        const struct s3_list_entry *e = &res->entries[i];
        if (!e->key || !e->upload_id || strcmp(e->key, sw->key) != 0 ||
            strcmp(e->upload_id, sw->keep) == 0 || strlen(e->upload_id) >= S3_UPLOAD_ID_MAX)
            continue;
        memcpy(sw->ids[sw->nids++], e->upload_id, strlen(e->upload_id) + 1);
    }
    sw->more = res->truncated && res->next_token[0];
    snprintf(sw->token, sizeof sw->token, "%s", sw->more ? res->next_token : "");
    return ERR_OK;
}

static void s3c_sweep_list_cb(struct s3_req *req, struct s3_result *res)
{
    struct s3c_sweep *sw = req->arg;
    struct s3c *c = sw->c;
    int rc = s3c_result_err(res);
    if (rc == ERR_OK)
        rc = s3c_sweep_collect(sw, res);
    if (rc < 0) {
        env_logf(c->env, ENV_LOG_WARN, S3C_SWEEP_WHO,
                 "listing the multipart uploads of %s failed: %s; its strays are left to the "
                 "cleaner", sw->key, err_str(rc));
        s3c_sweep_end(sw);
        return;
    }
    s3c_sweep_next(sw);
}

static void s3c_sweep_list(struct s3c_sweep *sw)
{
    struct s3c *c = sw->c;
    int rc;
    sw->page++;
    memset(&sw->req, 0, sizeof sw->req);
    sw->req.job = sw->job;
    sw->req.prefix = sw->key;
    sw->req.token = sw->token[0] ? sw->token : NULL;
    env_wait_updatef(c->env, sw->wait,
                     "list of the open multipart uploads of %s (page %d), to abort the strays "
                     "of a retried CreateMultipartUpload (keeping %s)",
                     sw->key, sw->page, sw->keep[0] ? sw->keep : "none");
    rc = s3_list_uploads(&c->ops, &sw->req, s3c_sweep_list_cb, sw);
    if (rc < 0) {
        env_logf(c->env, ENV_LOG_WARN, S3C_SWEEP_WHO,
                 "listing the multipart uploads of %s could not start: %s; left to the cleaner",
                 sw->key, err_str(rc));
        s3c_sweep_end(sw);
    }
}

static void s3c_sweep_start(struct s3c *c, const char *key, const char *keep, enum s3_job job)
{
    struct s3c_sweep *sw = calloc(1, sizeof *sw);
    if (!sw) {
        env_logf(c->env, ENV_LOG_WARN, S3C_SWEEP_WHO,
                 "no memory to sweep the stray uploads of %s; left to the cleaner", key);
        return;
    }
    sw->c = c;
    sw->job = job;
    snprintf(sw->key, sizeof sw->key, "%s", key);
    snprintf(sw->keep, sizeof sw->keep, "%s", keep);
    sw->wait = env_wait_beginf(c->env, s3_job_name(job),
                               "sweep of the stray multipart uploads of %s starting", sw->key);
    sw->next = c->sweeps;
    c->sweeps = sw;
    c->nsweeps++;
    c->stats.mpu_sweeps++;
    s3c_sweep_list(sw);
}

/* Remembers a retried create's winner; returns false when out of memory. */
static bool s3c_track_add(struct s3c *c, const char *key, const char *upload_id, enum s3_job job)
{
    struct s3c_mpu_track *t = calloc(1, sizeof *t);
    if (!t)
        return false;
    snprintf(t->key, sizeof t->key, "%s", key);
    snprintf(t->upload_id, sizeof t->upload_id, "%s", upload_id);
    t->job = job;
    t->next = c->tracks;
    c->tracks = t;
    return true;
}

/* Takes the track of (key, upload_id) out of the list; NULL when none. */
static struct s3c_mpu_track *s3c_track_take(struct s3c *c, const char *key, const char *upload_id)
{
    for (struct s3c_mpu_track **pp = &c->tracks; *pp; pp = &(*pp)->next) {
        struct s3c_mpu_track *t = *pp;
        if (strcmp(t->key, key) == 0 && strcmp(t->upload_id, upload_id) == 0) {
            *pp = t->next;
            return t;
        }
    }
    return NULL;
}

void s3c_mpu_note(struct s3c *c, const struct s3_req *outer, const struct s3_result *res,
                  int attempts)
{
    const char *key = outer->key ? outer->key : "";
    struct s3c_mpu_track *t;
    if (!c->conf.sweep_strays)
        return; /* AutoMQ: a stray upload stays open until a bucket lifecycle rule ends it */
    switch (outer->op) {
    case S3_OP_MPU_CREATE:
        if (s3_result_ok(res)) {
            /* One clean attempt created one upload: nothing can be stray. */
            if (attempts > 1 && !s3c_track_add(c, key, res->upload_id, outer->job))
                s3c_sweep_start(c, key, res->upload_id, outer->job); /* sweep now */
        } else if (attempts > 1 || res->transport != S3_TR_OK || res->status >= 500 ||
                   (res->status >= 200 && res->status < 300)) {
            /* Failed after attempts that may have created uploads. */
            s3c_sweep_start(c, key, "", outer->job);
        }
        return;
    case S3_OP_MPU_COMPLETE:
    case S3_OP_MPU_ABORT:
        if (!outer->upload_id || !(t = s3c_track_take(c, key, outer->upload_id)))
            return;
        s3c_sweep_start(c, t->key, t->upload_id, t->job);
        free(t);
        return;
    default:
        return;
    }
}

/* ---- s3.part.copy get-put ------------------------------------------------
 *
 * For servers without UploadPartCopy (s3rver answers 501, which this client
 * retries without end, as AutoMQ's does), a copy is a GET of the source range
 * and an UploadPart of its bytes.  AutoMQ has the same two steps, but only
 * for ranges below the minimum part size and across buckets
 * (MultiPartWriter.ObjectPart.readAndWrite); it always sends UploadPartCopy
 * otherwise, so the knob's default is native.  Both steps are calls of this
 * client, under the copy's job (so with their retries, timeouts, permits,
 * the part's checksum, and fault rules on get and mpu-part hit them); the
 * caller sees one answer: the part's, or the GET's when it failed for good
 * (a missing source: 404 NoSuchKey, as UploadPartCopy answers).  The range's
 * bytes are held in memory between the two; they are copied as read (a
 * damaged GET is copied damaged, as with readAndWrite). */

struct s3c_gpc {
    struct s3c *c;
    struct s3c_gpc *next;
    struct s3_req *outer; /* the caller's mpu-copy */
    struct s3_req get;    /* step 1: the source range */
    struct s3_req part;   /* step 2: its bytes as the part */
    bool putting;         /* step 2 is in flight */
    uint8_t *body;        /* the range's bytes (owned) */
    env_id wait;
};

static void s3c_gpc_free(struct s3c_gpc *g)
{
    struct s3c *c = g->c;
    struct s3c_gpc **pp = &c->gpcs;
    while (*pp && *pp != g)
        pp = &(*pp)->next;
    if (*pp)
        *pp = g->next;
    env_wait_end(c->env, g->wait);
    free(g->body);
    free(g);
}

/* Frees the copy, then answers its caller (who may free outer). */
static void s3c_gpc_answer(struct s3c_gpc *g, struct s3_result *res)
{
    struct s3_req *outer = g->outer;
    env_tracef(g->c->env, "s3c mpu-copy %s get-put %s", outer->key ? outer->key : "",
               s3_result_ok(res) ? "ok" : "fail");
    s3c_gpc_free(g);
    outer->cb(outer, res);
}

static void s3c_gpc_fail(struct s3c_gpc *g, enum s3_transport tr, int status, enum s3_code code,
                         const char *msg)
{
    struct s3_result r;
    s3_result_synth(&r, tr, status, code, msg);
    s3c_gpc_answer(g, &r);
}

static void s3c_gpc_part_cb(struct s3_req *req, struct s3_result *res)
{
    s3c_gpc_answer(req->arg, res);
}

static void s3c_gpc_get_cb(struct s3_req *req, struct s3_result *res)
{
    struct s3c_gpc *g = req->arg;
    struct s3c *c = g->c;
    const struct s3_req *o = g->outer;
    int rc;
    if (!s3_result_ok(res)) {
        s3c_gpc_fail(g, res->transport, res->status, res->code, res->message);
        return;
    }
    /* Take the bytes (a GET not asked by reference has a malloc'ed body). */
    g->body = res->body;
    res->body = NULL;
    memset(&g->part, 0, sizeof g->part);
    g->part.job = o->job;
    g->part.key = o->key;
    g->part.upload_id = o->upload_id;
    g->part.part_number = o->part_number;
    g->part.body = g->body;
    g->part.body_len = res->body_len;
    g->putting = true;
    env_wait_updatef(c->env, g->wait, "mpu-copy of %s part %d by get-put: UploadPart of %zu bytes",
                     o->key ? o->key : "", o->part_number, res->body_len);
    rc = s3_mpu_part(&c->ops, &g->part, s3c_gpc_part_cb, g);
    if (rc < 0)
        s3c_gpc_fail(g, S3_TR_OTHER, 0, S3E_NONE, err_str(rc));
}

int s3c_gpc_submit(struct s3c *c, struct s3_req *req)
{
    struct s3c_gpc *g = calloc(1, sizeof *g);
    int rc;
    if (!g)
        return ERR_NOMEM;
    g->c = c;
    g->outer = req;
    g->get.job = req->job;
    g->get.key = req->copy_source;
    g->get.range_start = req->range_start;
    g->get.range_end = req->range_end;
    g->wait = env_wait_beginf(c->env, s3_job_name(req->job),
                              "mpu-copy of %s part %d by get-put: GetObject of %s",
                              req->key ? req->key : "", req->part_number,
                              req->copy_source ? req->copy_source : "");
    env_tracef(c->env, "s3c mpu-copy %s get-put from %s part=%d", req->key ? req->key : "",
               req->copy_source ? req->copy_source : "", req->part_number);
    rc = s3_get(&c->ops, &g->get, s3c_gpc_get_cb, g);
    if (rc < 0) {
        env_wait_end(c->env, g->wait);
        free(g);
        return rc;
    }
    g->next = c->gpcs;
    c->gpcs = g;
    c->stats.calls[S3_OP_MPU_COPY]++;
    return 0;
}

bool s3c_gpc_cancel(struct s3c *c, struct s3_req *req)
{
    for (struct s3c_gpc *g = c->gpcs; g; g = g->next) {
        if (g->outer == req) {
            s3_cancel(&c->ops, g->putting ? &g->part : &g->get);
            s3c_gpc_free(g);
            return true;
        }
    }
    return false;
}

void s3c_mpu_free_all(struct s3c *c)
{
    while (c->gpcs)
        s3c_gpc_free(c->gpcs); /* their calls are freed by s3c_free */
    while (c->sweeps)
        s3c_sweep_free(c->sweeps);
    while (c->tracks) {
        struct s3c_mpu_track *t = c->tracks;
        c->tracks = t->next;
        free(t);
    }
}
