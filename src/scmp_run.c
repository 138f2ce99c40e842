/* scmp_run.c - executing one stream object compaction group: prepare the
 * output's id, read the members' indexes, then a physical merge by copy-write
 * (minor) or a composite object (major, rewrite), then the commit (see
 * scmp.h). */
#include "scmp_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "s3client.h"

#define SCMP_WHO "stream-compaction"

static void scmp_load_next(struct scmp_run *r);
static void scmp_build(struct scmp_run *r);
static void scmp_prepare(struct scmp_run *r);

void scmp__run_free(struct scmp_run *r)
{
    if (!r)
        return;
    if (r->w)
        wr_release(r->w, NULL, NULL);
    if (r->later) {
        env_cancel(r->s->env, r->later);
        free(r->later_arg);
    }
    for (size_t i = 0; i < r->n; i++) {
        if (r->m[i].o.kind == META_KIND_COMPOSITE)
            cobj_free(&r->m[i].co);
        else
            obj_index_free(&r->m[i].idx);
    }
    env_wait_end(r->s->env, r->wait);
    mdc_cancel(r->s->md, r);
    cobj_writer_free(&r->cw);
    free(r->m);
    free(r->oe);
    free(r->tail);
    free(r->links);
    free(r->xkeys);
    free(r->xkp);
    for (size_t i = 0; i < r->ncuts; i++)
        free(r->cuts[i].buf);
    free(r->cuts);
    free(r);
}

/* Ends the group.  A guard of ours (compaction.stream.failed.output.mark): a
 * failed output is marked for deletion at once (it was never committed, so
 * nothing reads it); AutoMQ leaves it prepared until its TTL expires.  The
 * broker's image may not show the prepare yet (metadata.image.lag: the group
 * can fail a few milliseconds after it): an output the image does not know,
 * of a group that never sent its commit, is one it prepared and never
 * committed, and is marked too. */
static void scmp_end(struct scmp_run *r, int rc, const char *why)
{
    struct scmp *s = r->s;
    if (rc && r->out_id != META_ID_NONE) {
        const struct meta_object *o = mdc_object_get(s->md, r->out_id);
        enum meta_op op = META_OP_DELETE;
        if ((o ? o->state == META_PREPARED : !r->committing) && s->conf.mark_failed_output)
            mdc_mark(s->md, &r->out_id, &op, 1);
    }
    scmp__group_done(r, rc, why);
}

struct scmp_later {
    struct scmp_run *r;
    int rc;
    const char *why;
};

static void scmp_later_fire(void *arg)
{
    struct scmp_later *l = arg;
    struct scmp_run *r = l->r;
    int rc = l->rc;
    const char *why = l->why;
    free(l);
    r->later = 0;
    r->later_arg = NULL;
    scmp_end(r, rc, why);
}

/* Ends the group from the event loop (never inside a submitting call). */
static void scmp_fail_later(struct scmp_run *r, int rc, const char *why)
{
    struct scmp_later *l = malloc(sizeof *l);
    if (l) {
        *l = (struct scmp_later){r, rc, why};
        r->later = env_timer(r->s->env, 0, scmp_later_fire, l);
        r->later_arg = l;
        if (r->later)
            return;
        free(l);
    }
    scmp_end(r, rc, why);
}

/* ---- reading the members' indexes --------------------------------------------------- */

static void scmp_get(struct scmp_run *r, const char *key, int64_t from, s3_cb cb)
{
    memset(&r->req, 0, sizeof r->req);
    r->req.job = S3_JOB_STREAM_COMPACTION;
    r->req.key = key;
    r->req.range_start = from;
    r->req.range_end = -1;
    env_wait_updatef(r->s->env, r->wait, "stream %" PRId64 ": read the index of object %s of "
                     "the group (%zu of %zu)", r->stream, key, r->cur + 1, r->n);
    if (s3_get(r->s->s3, &r->req, cb, r) != 0)
        scmp_fail_later(r, ERR_NOMEM, "could not submit a GET");
}

/* AutoMQ's CompactByPhysicalMerge (MINOR_V1) logs a source whose index cannot be read at ERROR,
 * closed stream or not, before compact0 throws ("[COPY_WRITE_FAILED]"); the composite types
 * have no such line. */
static void scmp_copy_write_failed(struct scmp_run *r, const struct scmp_member *m, int rc)
{
    if (r->type == SCMP_MINOR)
        env_logf(r->s->env, ENV_LOG_ERROR, SCMP_WHO, "[COPY_WRITE_FAILED] streamId=%" PRId64
                 ", objectId=%" PRId64 ", %s", r->stream, m->o.id, err_str(rc));
}

static void scmp_load_cb(struct s3_req *req, struct s3_result *res)
{
    struct scmp_run *r = req->arg;
    struct scmp_member *m = &r->m[r->cur];
    uint64_t reread = 0;
    int rc = s3c_result_err(res);
    req->cb = NULL;
    if (rc) {
        scmp_copy_write_failed(r, m, rc);
        scmp_end(r, rc, "reading a source object failed");
        return;
    }
    if (m->o.kind == META_KIND_COMPOSITE) {
        rc = cobj_parse(res->body, res->body_len, 0, &m->co);
    } else {
        unsigned fl = r->tail_from > (uint64_t)obj_tail_start((uint64_t)m->o.size) ? OBJ_PARSE_FINAL
                                                                                   : 0;
        rc = obj_tail_parse(res->body, res->body_len, r->tail_from, (uint64_t)m->o.size, fl,
                            &m->idx, &reread);
        if (rc == OBJ_REREAD && !fl) {
            r->tail_from = reread;
            scmp_get(r, m->key, (int64_t)reread, scmp_load_cb);
            return;
        }
    }
    if (rc) {
        scmp_copy_write_failed(r, m, rc < 0 ? rc : ERR_CORRUPT);
        scmp_end(r, rc < 0 ? rc : ERR_CORRUPT, "a source object is malformed");
        return;
    }
    m->loaded = true;
    r->cur++;
    scmp_load_next(r);
}

static void scmp_load_next(struct scmp_run *r)
{
    struct scmp_member *m;
    if (r->cur == r->n) {
        scmp_build(r);
        return;
    }
    m = &r->m[r->cur];
    r->tail_from = m->o.kind == META_KIND_COMPOSITE ? 0 : obj_tail_start((uint64_t)m->o.size);
    scmp_get(r, m->key, (int64_t)r->tail_from, scmp_load_cb);
}

void scmp__run_start(struct scmp_run *r)
{
    struct scmp *s = r->s;
    cobj_writer_init(&r->cw);
    r->wait = env_wait_beginf(s->env, SCMP_WHO, "stream %" PRId64 ": %s compaction of %zu "
                              "objects starting", r->stream,
                              r->type == SCMP_MINOR ? "minor" : "composite", r->n);
    r->cur = 0;
    scmp_prepare(r);
}

/* ---- writing the output -------------------------------------------------------------- */

/* ---- compaction.stream.verify.copy (a guard of ours) ------------------------------------ */

/* AutoMQ's copy-write appends the bytes of a range read as they came
 * (MultiPartWriter.ObjectPart.readAndWrite) and trusts UploadPartCopy's 200:
 * a damaged answer or a short copy becomes a damaged compacted object whose
 * sources are then deleted.  With the guard, every index entry of a source
 * that a read brings is parsed against that entry (an entry cut by a read's
 * edge is gathered until whole; a part of it copied by UploadPartCopy is left
 * to the size check), and the output's size is checked by HeadObject before
 * the commit. */
static int scmp_cut_add(struct scmp_run *r, size_t mi, size_t k, const struct obj_index_entry *e,
                        const uint8_t *bytes, uint64_t at, size_t len, unsigned flags)
{
    struct scmp_cut *c = NULL;
    size_t i;
    int rc = 0;
    for (i = 0; i < r->ncuts && !c; i++)
        if (r->cuts[i].mi == mi && r->cuts[i].k == k)
            c = &r->cuts[i];
    if (!c) {
        if (r->ncuts == r->capcuts) {
            size_t cap = r->capcuts ? r->capcuts * 2 : 8;
            struct scmp_cut *v = realloc(r->cuts, cap * sizeof *v);
            if (!v)
                return ERR_NOMEM;
            r->cuts = v;
            r->capcuts = cap;
        }
        c = &r->cuts[r->ncuts];
        *c = (struct scmp_cut){mi, k, malloc((size_t)(uint32_t)e->size), 0};
        if (!c->buf)
            return ERR_NOMEM;
        r->ncuts++;
    }
    memcpy(c->buf + (at - (uint64_t)e->pos), bytes, len);
    c->got += len;
    if (c->got < (size_t)(uint32_t)e->size)
        return 0;
    rc = obj_group_parse(c->buf, (size_t)(uint32_t)e->size, e, flags, NULL, NULL);
    free(c->buf);
    *c = r->cuts[--r->ncuts];
    return rc ? ERR_CORRUPT : 0;
}

static int scmp_copy_check(void *arg, const char *src, uint64_t start, const uint8_t *bytes,
                           size_t len)
{
    struct scmp_run *r = arg;
    unsigned flags = r->s->conf.int32_guard ? 0 : OBJ_PARSE_WRAP_OK;
    uint64_t end = start + len;
    for (size_t mi = 0; mi < r->n; mi++) {
        const struct obj_index *x = &r->m[mi].idx;
        if (r->m[mi].o.kind == META_KIND_COMPOSITE || strcmp(r->m[mi].key, src) != 0)
            continue;
        for (size_t k = 0; k < x->n; k++) {
            const struct obj_index_entry *e = &x->e[k];
            uint64_t a = (uint64_t)e->pos, b = a + (uint32_t)e->size;
            uint64_t lo = a > start ? a : start, hi = b < end ? b : end;
            int rc;
            if (lo >= hi)
                continue;
            if (lo == a && hi == b)
                rc = obj_group_parse(bytes + (a - start), (size_t)(b - a), e, flags, NULL, NULL)
                         ? ERR_CORRUPT : 0;
            else
                rc = scmp_cut_add(r, mi, k, e, bytes + (lo - start), lo, (size_t)(hi - lo), flags);
            if (rc) {
                env_logf(r->s->env, ENV_LOG_WARN, SCMP_WHO, "stream %" PRId64 ": a range read "
                         "of %s for the copy-write does not parse at bytes %" PRIu64 "..%" PRIu64
                         " (compaction.stream.verify.copy): the compaction fails", r->stream,
                         src, lo, hi);
                return rc;
            }
        }
        return 0;
    }
    return 0;
}

static void scmp_commit_now(struct scmp_run *r)
{
    int rc;
    r->committing = true;
    rc = scmp__commit(r); /* its answer ends the group (scmp__committed) */
    if (rc)
        scmp_end(r, rc, "the commit was refused");
}

static void scmp_head_cb(struct s3_req *req, struct s3_result *res)
{
    struct scmp_run *r = req->arg;
    int rc = s3c_result_err(res);
    req->cb = NULL;
    if (rc) {
        scmp_end(r, rc, "checking the output's size failed");
        return;
    }
    if (res->object_size != (uint64_t)r->out_size) {
        env_logf(r->s->env, ENV_LOG_WARN, SCMP_WHO, "stream %" PRId64 ": output object %s is "
                 "%" PRIu64 " bytes, not %" PRId64 ": a copied range is short "
                 "(compaction.stream.verify.copy): the compaction fails", r->stream, r->out_key,
                 res->object_size, r->out_size);
        scmp_end(r, ERR_CORRUPT, "the output object is short");
        return;
    }
    scmp_commit_now(r);
}

static void scmp_close_cb(void *arg, int rc)
{
    struct scmp_run *r = arg;
    if (rc) {
        scmp_end(r, rc, "writing the output object failed");
        return;
    }
    wr_release(r->w, NULL, NULL);
    r->w = NULL;
    if (r->s->conf.verify_copy && r->type == SCMP_MINOR) {
        memset(&r->req, 0, sizeof r->req);
        r->req.job = S3_JOB_STREAM_COMPACTION;
        r->req.key = r->out_key;
        r->req.skip_etag = true;
        env_wait_updatef(r->s->env, r->wait, "stream %" PRId64 ": check the size of output "
                         "object %" PRId64, r->stream, r->out_id);
        if (s3_head(r->s->s3, &r->req, scmp_head_cb, r) != 0)
            scmp_fail_later(r, ERR_NOMEM, "could not submit a HEAD");
        return;
    }
    scmp_commit_now(r);
}

void scmp__committed(struct scmp_run *r, int rc)
{
    scmp_end(r, rc, rc ? "the commit was refused" : NULL);
}

static int scmp_write_close(struct scmp_run *r, const uint8_t *buf, size_t len)
{
    int rc = wr_write(r->w, buf, len, NULL, NULL);
    if (rc == 0)
        rc = wr_close(r->w, scmp_close_cb, r);
    if (rc == 0)
        env_wait_updatef(r->s->env, r->wait, "stream %" PRId64 ": upload of output object %"
                         PRId64 " (%" PRId64 " bytes of %zu sources)", r->stream, r->out_id,
                         r->out_size, r->n);
    return rc;
}

static int scmp_push_entry(struct scmp_run *r, const struct obj_index_entry *e, size_t *cap)
{
    if (r->on == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        struct obj_index_entry *v = realloc(r->oe, c * sizeof *v);
        if (!v)
            return ERR_NOMEM;
        r->oe = v;
        *cap = c;
    }
    r->oe[r->on++] = *e;
    return 0;
}

/* Minor: copy each member's live data range, re-index, write index and footer. */
static int scmp_minor(struct scmp_run *r, int64_t start)
{
    size_t cap = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < r->n; i++) {
        const struct obj_index *x = &r->m[i].idx;
        size_t k0 = obj_index_find(x, r->stream, start);
        int64_t a, b;
        if (k0 >= x->n)
            return ERR_CORRUPT;
        a = x->e[k0].pos;
        b = x->e[x->n - 1].pos + x->e[x->n - 1].size;
        if (i == 0)
            r->out_start = x->e[k0].start;
        for (size_t k = k0; rc == 0 && k < x->n; k++) {
            struct obj_index_entry e = x->e[k];
            e.pos = (int64_t)r->opos + (e.pos - a);
            rc = scmp_push_entry(r, &e, &cap);
        }
        if (rc == 0)
            rc = wr_copy(r->w, r->m[i].key, (uint64_t)a, (uint64_t)b, NULL, NULL);
        r->opos += (uint64_t)(b - a);
    }
    if (rc)
        return rc;
    r->on = obj_index_regroup(r->oe, r->on, OBJ_GROUP_LIMIT, r->s->conf.int32_guard);
    r->tail = malloc(r->on * OBJ_ENTRY_SIZE + OBJ_FOOTER_SIZE);
    if (!r->tail)
        return ERR_NOMEM;
    for (size_t k = 0; k < r->on; k++)
        obj_entry_encode(r->tail + k * OBJ_ENTRY_SIZE, &r->oe[k]);
    obj_footer_encode(r->tail + r->on * OBJ_ENTRY_SIZE, (int64_t)r->opos,
                      (uint32_t)(r->on * OBJ_ENTRY_SIZE), false);
    r->out_end = r->m[r->n - 1].o.end;
    r->out_size = (int64_t)(r->opos + r->on * OBJ_ENTRY_SIZE + OBJ_FOOTER_SIZE);
    return scmp_write_close(r, r->tail, r->on * OBJ_ENTRY_SIZE + OBJ_FOOTER_SIZE);
}

/* Adds one component (a link) to the new composite. */
static int scmp_link(struct scmp_run *r, int64_t id, const struct obj_index_entry *e, size_t n)
{
    int64_t size = 0;
    int rc = cobj_writer_add(&r->cw, id, 0, e, n);
    if (rc)
        return rc;
    for (size_t k = 0; k < n; k++)
        size += e[k].size;
    if (r->nlinks == 0)
        r->out_start = e[0].start;
    r->out_end = obj_entry_end(&e[n - 1]);
    r->links[r->nlinks++] = (struct meta_link){id, e[0].start, obj_entry_end(&e[n - 1]), size, ""};
    return 0;
}

/* Major and rewrite: the composite's components; fully expired links of
 * composite members are collected for deletion. */
static int scmp_components(struct scmp_run *r, int64_t start)
{
    size_t cap = 0;
    for (size_t i = 0; i < r->n; i++)
        cap += r->m[i].o.kind == META_KIND_COMPOSITE ? r->m[i].co.nlinks : 1;
    r->links = calloc(cap ? cap : 1, sizeof *r->links);
    r->xkeys = calloc(cap ? cap : 1, sizeof *r->xkeys);
    r->xkp = calloc(cap ? cap : 1, sizeof *r->xkp);
    if (!r->links || !r->xkeys || !r->xkp)
        return ERR_NOMEM;
    for (size_t i = 0; i < r->n; i++) {
        const struct scmp_member *m = &r->m[i];
        int rc = 0;
        if (m->o.kind != META_KIND_COMPOSITE) {
            rc = m->idx.n ? scmp_link(r, m->o.id, m->idx.e, m->idx.n) : ERR_CORRUPT;
        }
        for (size_t l = 0; rc == 0 && m->o.kind == META_KIND_COMPOSITE && l < m->co.nlinks; l++) {
            size_t n = cobj_link_entries(&m->co, l);
            const struct obj_index_entry *e = &m->co.idx.e[m->co.links[l].block_start];
            if (n == 0)
                continue;
            if (obj_entry_end(&e[n - 1]) <= start) {
                obj_key(m->co.links[l].id, mdc_namespace(r->s->md), r->xkeys[r->nx],
                        OBJ_KEY_MAX);
                r->xkp[r->nx] = r->xkeys[r->nx];
                r->nx++;
                continue;
            }
            rc = scmp_link(r, m->co.links[l].id, e, n);
        }
        if (rc)
            return rc;
    }
    return r->nlinks ? 0 : ERR_NOTFOUND;
}

static void scmp_composite_write(struct scmp_run *r)
{
    uint8_t *buf;
    size_t len;
    int rc = cobj_writer_finish(&r->cw, &buf, &len);
    if (rc == 0) {
        r->out_size = (int64_t)r->cw.retained;
        rc = scmp_write_close(r, buf, len);
        free(buf);
    }
    if (rc)
        scmp_end(r, rc, "writing the composite object failed");
}

/* Before #1518 (s3.delete.objects.split false, field bug F26) the client
 * did not split, and StreamObjectCompactor sent the expired links itself
 * once it held more than 500 of them. */
#define SCMP_PRE1518_DELETE_STEP 501

static void scmp_expired_cb(struct s3_req *req, struct s3_result *res);

/* Sends the delete of the next expired links: all of them (the client
 * splits), or the next 501 before #1518. */
static int scmp_expired_next(struct scmp_run *r)
{
    size_t n = r->nx - r->xsent;
    if (!r->s->conf.s3c.delete_split && n > SCMP_PRE1518_DELETE_STEP)
        n = SCMP_PRE1518_DELETE_STEP;
    memset(&r->req, 0, sizeof r->req);
    r->req.job = S3_JOB_STREAM_COMPACTION;
    r->req.key = r->xkp[r->xsent];
    r->req.keys = r->xkp + r->xsent;
    r->req.nkeys = n;
    r->xsent += n;
    env_wait_updatef(r->s->env, r->wait, "stream %" PRId64 ": delete %zu fully expired linked "
                     "objects", r->stream, r->nx);
    return s3_delete_many(r->s->s3, &r->req, scmp_expired_cb, r);
}

static void scmp_expired_cb(struct s3_req *req, struct s3_result *res)
{
    struct scmp_run *r = req->arg;
    req->cb = NULL;
    if (res->transport != S3_TR_OK || res->code != S3E_NONE) {
        scmp_end(r, ERR_S3, "deleting fully expired linked objects failed");
        return;
    }
    if (r->xsent < r->nx) {
        if (scmp_expired_next(r) != 0)
            scmp_end(r, ERR_NOMEM, "deleting fully expired linked objects failed");
        return;
    }
    r->s->stats.expired_links += r->nx;
    scmp_composite_write(r);
}

static int scmp_major(struct scmp_run *r, int64_t start)
{
    int rc = scmp_components(r, start);
    if (rc)
        return rc;
    if (r->nx == 0) {
        scmp_composite_write(r);
        return 0;
    }
    /* Broker side, before the commit: those offsets can never be read. */
    r->xsent = 0;
    return scmp_expired_next(r);
}

static void scmp_prepared(void *arg, int rc, int64_t first);

/* AutoMQ's StreamObjectCompactor.compact prepares the group's output id first
 * (objectManager.prepareObject, TTL 60 min) and only then reads the members'
 * indexes (CompactByPhysicalMerge / CompactByCompositeObject.compact): a group
 * that fails to read a member leaves its output id prepared until the TTL
 * (or marked at once: compaction.stream.failed.output.mark). */
static void scmp_prepare(struct scmp_run *r)
{
    struct scmp *s = r->s;
    const struct meta_stream *st = mdc_stream_get(s->md, r->stream);
    int rc;
    if (!st || st->state == META_STREAM_DELETED) {
        scmp_end(r, ERR_NOTFOUND, "the stream was deleted");
        return;
    }
    mdc_next_kind(s->md, r->type == SCMP_MAJOR ? MDC_KIND_MAJOR
                         : r->type == SCMP_MINOR ? MDC_KIND_MINOR
                                                 : MDC_KIND_CLEANUP);
    rc = mdc_prepare(s->md, 1, s->conf.prepared_ttl_us > 0 ? s->conf.prepared_ttl_us : SCMP_TTL_US,
                     scmp_prepared, r);
    if (rc)
        scmp_end(r, rc, "prepare failed");
}

/* The output's id came back: the members' indexes are read. */
static void scmp_prepared(void *arg, int rc, int64_t first)
{
    struct scmp_run *r = arg;
    if (rc) {
        scmp_end(r, rc, "prepare failed");
        return;
    }
    r->out_id = first;
    scmp_load_next(r);
}

/* Every member's index is in: the output is built. */
static void scmp_build(struct scmp_run *r)
{
    struct scmp *s = r->s;
    const struct meta_stream *st = mdc_stream_get(s->md, r->stream);
    char who[64];
    int rc;
    if (!st || st->state == META_STREAM_DELETED) {
        scmp_end(r, ERR_NOTFOUND, "the stream was deleted");
        return;
    }
    obj_key(r->out_id, mdc_namespace(s->md), r->out_key, sizeof r->out_key);
    snprintf(who, sizeof who, "stream compaction of stream %" PRId64, r->stream);
    r->w = wr_open(s->wr, r->out_key, S3_JOB_STREAM_COMPACTION, who);
    if (!r->w) {
        scmp_end(r, ERR_NOMEM, "no writer");
        return;
    }
    if (s->conf.verify_copy)
        wr_set_read_check(r->w, scmp_copy_check, r);
    rc = r->type == SCMP_MINOR ? scmp_minor(r, st->start) : scmp_major(r, st->start);
    if (rc)
        scmp_end(r, rc, "building the output failed");
}
