/* cmp_exec.c - SSO compaction: executing a job's plans (reads, writers, waits, failure),
 * docs/engine.md "Execution and commit". */
#include "cmp_int.h"

#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3client.h"

/* Lets go of a chunk's bytes: its own allocation or its share of the store's. */
static void cmp_chunk_release(struct cmp_chunk *ch)
{
    if (ch->ref)
        buf_unref(ch->ref);
    else
        free(ch->buf);
    for (size_t i = 0; i < ch->nsegs; i++)
        buf_unref(ch->segs[i].b);
    free(ch->segs);
    ch->segs = NULL;
    ch->nsegs = 0;
    ch->buf = NULL;
    ch->ref = NULL;
}

static void plan_start(struct cmp_job *j);
static void plan_pump(struct cmp_job *j);
static void job_step(struct cmp_job *j);

/* ---- lifetime ------------------------------------------------------------------------ */

static void wout_init(struct cmp_wout *o, struct cmp_job *j)
{
    memset(o, 0, sizeof *o);
    o->job = j;
    o->id = -1;
}

struct cmp_job *cmp__job_new(struct cmp *c, bool split, int64_t sso)
{
    struct cmp_job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->c = c;
    j->split = split;
    j->sso = sso;
    j->next_id = j->last_id = -1;
    wout_init(&j->sso_out, j);
    return j;
}

/* Frees the plan's reads and buffers (reads in flight are cancelled). */
static void plan_clear(struct cmp_job *j)
{
    struct cmp *c = j->c;
    for (size_t i = 0; i < j->nreads; i++)
        if (j->reads[i].inflight) {
            s3_cancel(c->s3, &j->reads[i].req);
            j->reads[i].inflight = false;
        }
    for (size_t i = 0; i < j->nchunks; i++) {
        struct cmp_chunk *ch = &j->chunks[i];
        wr_mem_sub(c->mem, ch->counted);
        cmp_chunk_release(ch);
    }
    free(j->chunks);
    free(j->reads);
    free(j->blk_chunk);
    free(j->lanes);
    j->chunks = NULL;
    j->reads = NULL;
    j->blk_chunk = NULL;
    j->lanes = NULL;
    j->nchunks = j->nreads = j->nlanes = 0;
    j->reads_inflight = 0;
    j->flushed = false;
}

static void wout_free(struct cmp_wout *o)
{
    free(o->e);
    o->e = NULL;
}

/* Frees the job; writers still open stay in the writer context (freed with it). */
void cmp__job_free(struct cmp_job *j)
{
    if (!j)
        return;
    mdc_cancel(j->c->md, j);
    plan_clear(j);
    wout_free(&j->sso_out);
    for (size_t i = 0; i < j->nsos; i++) {
        wout_free(j->sos[i]);
        free(j->sos[i]);
    }
    free(j->sos);
    cmp_analysis_free(&j->a);
    env_wait_end(j->c->env, j->wait);
    env_cancel(j->c->env, j->timer);
    free(j);
}

/* ---- waits ---------------------------------------------------------------------------- */

static char *fmt_size(uint64_t n, char *buf) { return env_fmt_size(n, buf, 32); }

/* What the SSO writer is holding, in words ("; writer holds 1.2MiB parked below ..."). */
static void parked_text(struct cmp_job *j, char *out, size_t n)
{
    struct wr *w = j->sso_out.w;
    char a[32], b[32];
    out[0] = 0;
    if (!w)
        return;
    if (wr_error(w)) {
        snprintf(out, n, "; its writer failed (%s) and did not tell these blocks",
                 err_str(wr_error(w)));
        return;
    }
    uint64_t parked = wr_parked_bytes(w);
    if (parked == 0) {
        snprintf(out, n, "; writer holds nothing parked");
        return;
    }
    if (!wr_is_multipart(w))
        snprintf(out, n, "; writer holds %s parked for a single PUT: only close uploads it",
                 fmt_size(parked, a));
    else if (parked < j->c->min_part)
        snprintf(out, n, "; writer holds %s parked below the %s minimum part: only close "
                 "uploads it", fmt_size(parked, a), fmt_size(j->c->min_part, b));
    else
        snprintf(out, n, "; writer holds %s parked", fmt_size(parked, a));
}

/* The plan's wait, naming only what is outstanding ("2 source reads in
 * flight (12MiB); waiting for 2 blocks of object 1042 to be accepted; writer
 * holds 1.2MiB parked below the 5MiB minimum part: only close uploads it"). */
static void plan_text(struct cmp_job *j, size_t inflight_bytes, const char *parked, char *out,
                      size_t n)
{
    char sz[32];
    size_t k = 0;
    out[0] = 0;
    if (j->reads_inflight)
        k += (size_t)snprintf(out + k, n - k, "%d source reads in flight (%s)", j->reads_inflight,
                              fmt_size(inflight_bytes, sz));
    if (j->writes_pending && k < n)
        k += (size_t)snprintf(out + k, n - k, "%swaiting for %d blocks of object %lld to be "
                              "accepted%s", k ? "; " : "", j->writes_pending,
                              (long long)j->sso_out.id, parked);
    if (j->closes_pending && k < n)
        k += (size_t)snprintf(out + k, n - k, "%s%d stream objects closing", k ? "; " : "",
                              j->closes_pending);
    if (k == 0)
        snprintf(out, n, "writing the plan's blocks");
}

static void wait_text(struct cmp_job *j, char *out, size_t n)
{
    char parked[160], sz[32];
    size_t inflight_bytes = 0;
    parked_text(j, parked, sizeof parked);
    for (size_t i = 0; i < j->nreads; i++)
        if (j->reads[i].inflight)
            inflight_bytes += j->reads[i].len;
    switch (j->state) {
    case CMP_J_PLAN:
        plan_text(j, inflight_bytes, parked, out, n);
        break;
    case CMP_J_CLOSE:
        snprintf(out, n, "closing object %lld (%s); %d stream objects closing",
                 (long long)j->sso_out.id, fmt_size(j->sso_out.size, sz), j->closes_pending);
        break;
    case CMP_J_AFTER:
        snprintf(out, n, "committed; %d stream objects still closing", j->closes_pending);
        break;
    case CMP_J_RELEASING:
        snprintf(out, n, "releasing %d writers after: %s%s", j->releases_pending, j->why, parked);
        break;
    default:
        snprintf(out, n, "ending");
    }
}

/* (Re)describes the job's wait; a new plan begins a new wait. */
void cmp__job_wait(struct cmp_job *j)
{
    char what[512];
    if (j->state == CMP_J_END)
        return;
    wait_text(j, what, sizeof what);
    if (j->wait) {
        j->c->env->wait_update(j->c->env, j->wait, what);
        return;
    }
    char who[128];
    if (j->split)
        snprintf(who, sizeof who, "compaction run %llu, force split of object %lld, plan %zu",
                 (unsigned long long)j->c->runs, (long long)j->sso, j->plan + 1);
    else
        snprintf(who, sizeof who, "compaction run %llu, plan %zu", (unsigned long long)j->c->runs,
                 j->plan + 1);
    j->wait = j->c->env->wait_begin(j->c->env, who, what);
}

static void wait_restart(struct cmp_job *j)
{
    env_wait_end(j->c->env, j->wait);
    j->wait = 0;
    cmp__job_wait(j);
}

/* ---- failure ------------------------------------------------------------------------------ */

static void release_cb(void *arg, int rc)
{
    struct cmp_job *j = arg;
    (void)rc;
    j->releases_pending--;
    job_step(j);
}

static void release_one(struct cmp_job *j, struct cmp_wout *o, bool wait)
{
    struct wr *w = o->w;
    if (!w)
        return;
    o->w = NULL;
    if (wait)
        j->releases_pending++;
    wr_release(w, wait ? release_cb : NULL, wait ? j : NULL);
}

/* Releases every writer of the job (wait: count their release callbacks). */
void cmp__release_all(struct cmp_job *j, bool wait)
{
    j->failing = true;
    release_one(j, &j->sso_out, wait);
    for (size_t i = 0; i < j->nsos; i++)
        release_one(j, j->sos[i], wait);
    j->failing = false;
}

void cmp__job_fail(struct cmp_job *j, int rc, const char *fmt, ...)
{
    va_list ap;
    if (j->err || j->state == CMP_J_END)
        return;
    j->err = rc < 0 ? rc : ERR_INTERNAL;
    va_start(ap, fmt);
    vsnprintf(j->why, sizeof j->why, fmt, ap);
    va_end(ap);
    env_logf(j->c->env, ENV_LOG_WARN, CMP_LOGC, "Compaction run %llu: %s: %s",
             (unsigned long long)j->c->runs, j->split ? "force split failed" : "compaction failed",
             j->why);
    j->state = CMP_J_RELEASING;
    plan_clear(j);
    cmp__release_all(j, true);
    job_step(j);
}

/* ---- reads ------------------------------------------------------------------------------ */

/* A plan block's place in its source, for sorting by (object, position). */
struct bref {
    int64_t obj, pos;
    size_t i;
};

static int bref_order(const void *a, const void *b)
{
    const struct bref *x = a, *y = b;
    if (x->obj != y->obj)
        return (x->obj > y->obj) - (x->obj < y->obj);
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Coalesces the plan's blocks into chunks of position-contiguous bytes of one
 * object, as AutoMQ's DataBlockReader.readContinuousBlocks batches them: a
 * block that would bring a chunk to 16 MiB or more starts the next one, so a
 * chunk of several blocks stays below 16 MiB (blocks adding up to exactly
 * 16 MiB are two chunks) and a block of 16 MiB or more is a chunk of its own,
 * read in parts by plan_reads. */
static int plan_chunks(struct cmp_job *j, const struct cmp_plan *p)
{
    struct bref *r = malloc((p->nb ? p->nb : 1) * sizeof *r);
    j->chunks = calloc(p->nb ? p->nb : 1, sizeof *j->chunks);
    j->blk_chunk = malloc((p->nb ? p->nb : 1) * sizeof *j->blk_chunk);
    if (!r || !j->chunks || !j->blk_chunk) {
        free(r);
        return ERR_NOMEM;
    }
    for (size_t i = 0; i < p->nb; i++)
        r[i] = (struct bref){p->b[i].obj, p->b[i].e.pos, i};
    qsort(r, p->nb, sizeof *r, bref_order);
    for (size_t k = 0; k < p->nb; k++) {
        const struct cmp_block *b = &p->b[r[k].i];
        uint64_t sz = (uint32_t)b->e.size;
        struct cmp_chunk *ch = j->nchunks ? &j->chunks[j->nchunks - 1] : NULL;
        if (!ch || ch->obj != b->obj || ch->start + ch->len != (uint64_t)b->e.pos ||
            ch->len + sz >= CMP_MAX_READ) {
            ch = &j->chunks[j->nchunks++];
            ch->obj = b->obj;
            ch->start = (uint64_t)b->e.pos;
        }
        ch->len += sz;
        ch->refs++;
        j->blk_chunk[r[k].i] = (size_t)(ch - j->chunks);
    }
    free(r);
    return 0;
}

static void read_cb(struct s3_req *req, struct s3_result *res);


static int read_submit(struct cmp_job *j, struct cmp_read *rd)
{
    const struct cmp_srcinfo *s = cmp__src(j->c, rd->ch->obj);
    if (!s)
        return ERR_INTERNAL;
    memcpy(rd->key, s->key, sizeof rd->key);
    memset(&rd->req, 0, sizeof rd->req);
    rd->req.job = j->split ? S3_JOB_FORCE_SPLIT : S3_JOB_SSO_COMPACTION;
    rd->req.key = rd->key;
    rd->req.range_start = (int64_t)(rd->ch->start + rd->off);
    rd->req.range_end = (int64_t)(rd->ch->start + rd->off + rd->len);
    rd->req.body_by_ref = rd->ch->reads_left == 1; /* one read: its answer is the chunk */
    rd->req.body_segs = rd->req.body_by_ref;
    int rc = s3_get(j->c->s3, &rd->req, read_cb, rd);
    if (rc == 0) {
        rd->inflight = true;
        j->reads_inflight++;
    }
    return rc;
}

/* One GET per <= 16 MiB of each chunk; memory counted from the submit. */
static int plan_reads(struct cmp_job *j)
{
    size_t n = 0;
    for (size_t i = 0; i < j->nchunks; i++)
        n += (j->chunks[i].len + CMP_MAX_READ - 1) / CMP_MAX_READ;
    j->reads = calloc(n ? n : 1, sizeof *j->reads);
    if (!j->reads)
        return ERR_NOMEM;
    for (size_t i = 0; i < j->nchunks; i++) {
        struct cmp_chunk *ch = &j->chunks[i];
        for (uint64_t off = 0; off < ch->len; off += CMP_MAX_READ) {
            struct cmp_read *rd = &j->reads[j->nreads++];
            rd->job = j;
            rd->ch = ch;
            rd->off = off;
            rd->len = ch->len - off < CMP_MAX_READ ? ch->len - off : CMP_MAX_READ;
            ch->reads_left++;
        }
        if (ch->reads_left > 1 && !(ch->buf = malloc(ch->len)))
            return ERR_NOMEM;
        wr_mem_add(j->c->mem, ch->len);
        ch->counted = ch->len;
    }
    for (size_t i = 0; i < j->nreads; i++) {
        int rc = read_submit(j, &j->reads[i]);
        if (rc)
            return rc;
    }
    return 0;
}

static void read_cb(struct s3_req *req, struct s3_result *res)
{
    struct cmp_read *rd = req->arg;
    struct cmp_job *j = rd->job;
    struct cmp_chunk *ch = rd->ch;
    rd->inflight = false;
    j->reads_inflight--;
    int rc = s3c_result_err(res);
    if (rc == 0 && res->body_len != rd->len)
        rc = ERR_CORRUPT;
    if (rc) {
        cmp__job_fail(j, rc, "read of object %lld [%llu, %llu) failed (%s%s)",
                      (long long)ch->obj, (unsigned long long)(ch->start + rd->off),
                      (unsigned long long)(ch->start + rd->off + rd->len), err_str(rc),
                      rc == ERR_CORRUPT ? ": short body" : "");
        return;
    }
    if (ch->reads_left == 1 && !ch->buf && res->segs) {
        ch->segs = res->segs; /* the pieces and their references: no copy */
        ch->nsegs = res->nsegs;
        res->segs = NULL;
        res->nsegs = 0;
    } else if (ch->reads_left == 1 && !ch->buf) {
        ch->buf = res->body; /* take the body (and its reference, if shared): no copy */
        ch->ref = res->body_ref;
        res->body = NULL;
        res->body_ref = NULL;
    } else {
        memcpy(ch->buf + rd->off, res->body, rd->len);
    }
    ch->reads_left--;
    job_step(j);
}

/* ---- writing ------------------------------------------------------------------------------ */

static void write_cb(void *arg, int rc)
{
    struct cmp_job *j = arg;
    j->writes_pending--;
    if (rc < 0 && !j->err)
        cmp__job_fail(j, rc, "upload of object %lld failed (%s)", (long long)j->sso_out.id,
                      err_str(rc));
    else
        job_step(j);
}

static int wout_open(struct cmp_job *j, struct cmp_wout *o)
{
    char who[128];
    struct cmp *c = j->c;
    if (o->w)
        return 0;
    if (j->next_id < 0 || j->next_id > j->last_id)
        return ERR_INTERNAL;
    o->id = j->next_id++;
    int rc = obj_key(o->id, mdc_namespace(c->md), o->key, sizeof o->key);
    if (rc)
        return rc;
    snprintf(who, sizeof who, "compaction run %llu, %s %lld", (unsigned long long)c->runs,
             o == &j->sso_out ? "stream set object" : "stream object", (long long)o->id);
    o->w = wr_open(c->wr, o->key, j->split ? S3_JOB_FORCE_SPLIT : S3_JOB_SSO_COMPACTION, who);
    return o->w ? 0 : ERR_NOMEM;
}

/* Hands a block's bytes to the output's writer and records its index entry at
 * its new position.  AutoMQ's DataBlockReader hands on the bytes it read as
 * they are, so a damaged answer becomes a damaged compacted object; with
 * compaction.sso.verify.blocks (a guard of ours) the block is parsed first. */
static int write_block(struct cmp_job *j, struct cmp_wout *o, const struct cmp_block *b,
                       struct buf *ref, const uint8_t *bytes)
{
    size_t len = (uint32_t)b->e.size;
    unsigned flags = j->c->conf.int32_guard ? 0 : OBJ_PARSE_WRAP_OK;
    int rc = j->c->conf.verify_blocks ? obj_group_parse(bytes, len, &b->e, flags, NULL, NULL) : 0;
    if (rc)
        return rc;
    if ((rc = wout_open(j, o)))
        return rc;
    if (o->ne == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        struct obj_index_entry *ne = realloc(o->e, cap * sizeof *ne);
        if (!ne)
            return ERR_NOMEM;
        o->e = ne;
        o->cap = cap;
    }
    bool sso = o == &j->sso_out;
    /* A block of a chunk the store shared goes to the part by reference. */
    rc = wr_write_ref(o->w, ref, bytes, len, sso ? write_cb : NULL, sso ? j : NULL);
    if (rc)
        return rc;
    j->writes_pending += sso;
    o->e[o->ne] = b->e;
    o->e[o->ne++].pos = (int64_t)o->data;
    o->data += len;
    return 0;
}

/* Writes block b of chunk ch: by reference when its bytes lie in one
 * buffer of the store's, else copied (a block across two pieces is
 * gathered first). */
static int chunk_write(struct cmp_job *j, struct cmp_wout *o, const struct cmp_block *b,
                       struct cmp_chunk *ch)
{
    uint64_t off = (uint64_t)b->e.pos - ch->start, len = (uint32_t)b->e.size, at = 0;
    uint8_t *tmp;
    int rc;
    if (!ch->segs)
        return write_block(j, o, b, ch->ref, ch->buf + off);
    for (size_t i = 0; i < ch->nsegs; i++) {
        const struct s3_seg *g = &ch->segs[i];
        if (off >= at && off + len <= at + g->len)
            return write_block(j, o, b, g->b, g->p + (off - at));
        at += g->len;
    }
    if (!(tmp = malloc(len ? len : 1)))
        return ERR_NOMEM;
    at = 0;
    for (size_t i = 0; i < ch->nsegs; i++) {
        const struct s3_seg *g = &ch->segs[i];
        uint64_t s = off > at ? off - at : 0, e = off + len - at < g->len ? off + len - at : g->len;
        if (off + len > at && s < e)
            memcpy(tmp + (at + s - off), g->p + s, e - s);
        at += g->len;
    }
    rc = write_block(j, o, b, NULL, tmp);
    free(tmp);
    return rc;
}

static void close_cb(void *arg, int rc)
{
    struct cmp_wout *o = arg;
    struct cmp_job *j = o->job;
    j->closes_pending--;
    if (rc == 0) {
        o->durable = true;
        job_step(j);
    } else if (j->state == CMP_J_AFTER) {
        env_logf(j->c->env, ENV_LOG_ERROR, CMP_LOGC,
                 "Upload of committed stream object %lld failed (%s)", (long long)o->id,
                 err_str(rc));
        j->err = rc;
        job_step(j);
    } else {
        cmp__job_fail(j, rc, "close of object %lld failed (%s)", (long long)o->id, err_str(rc));
    }
}

/* Writes the index and footer of o and closes it. */
int cmp__seal(struct cmp_wout *o)
{
    struct cmp_job *j = o->job;
    /* Groups of up to 1 MiB, but never larger than the cache: a later run
     * must be able to read any entry of this object within one plan. */
    uint64_t limit = j->c->conf.lim.cache_size < OBJ_GROUP_LIMIT ? j->c->conf.lim.cache_size
                                                                 : OBJ_GROUP_LIMIT;
    size_t n = obj_index_regroup(o->e, o->ne, (uint32_t)limit, j->c->conf.int32_guard);
    size_t len = n * OBJ_ENTRY_SIZE + OBJ_FOOTER_SIZE;
    uint8_t *buf = malloc(len);
    if (!buf)
        return ERR_NOMEM;
    o->ne = n;
    for (size_t i = 0; i < n; i++)
        obj_entry_encode(buf + i * OBJ_ENTRY_SIZE, &o->e[i]);
    obj_footer_encode(buf + n * OBJ_ENTRY_SIZE, (int64_t)o->data, (uint32_t)(n * OBJ_ENTRY_SIZE),
                      false);
    int rc = wr_write(o->w, buf, len, NULL, NULL);
    free(buf);
    if (rc == 0)
        rc = wr_close(o->w, close_cb, o);
    if (rc == 0) {
        o->sealed = true;
        o->size = o->data + len;
        j->closes_pending++;
    }
    return rc;
}

/* Writes the lane's ready blocks in order; seals a finished stream object. */
static int lane_pump(struct cmp_job *j, struct cmp_lane *l)
{
    const struct cmp_plan *p = &j->a.plans[j->plan];
    while (!l->done && l->cursor < l->po->n) {
        size_t bi = l->po->first + l->cursor;
        struct cmp_chunk *ch = &j->chunks[j->blk_chunk[bi]];
        if (ch->reads_left > 0)
            return 0;
        const struct cmp_block *b = &p->b[bi];
        /* The block's bytes are the writer's from here (counted by its part):
         * AutoMQ's DataBlockWriter takes the block's buffer itself. */
        uint64_t sz = (uint32_t)b->e.size < ch->counted ? (uint32_t)b->e.size : ch->counted;
        ch->counted -= sz;
        wr_mem_sub(j->c->mem, sz);
        int rc = chunk_write(j, l->wo, b, ch);
        if (rc)
            return rc;
        l->cursor++;
        if (--ch->refs == 0) {
            cmp_chunk_release(ch);
            wr_mem_sub(j->c->mem, ch->counted);
            ch->counted = 0;
        }
    }
    if (!l->done && l->po->split) {
        int rc = cmp__seal(l->wo);
        if (rc)
            return rc;
    }
    l->done = true;
    return 0;
}

static void flush_cb(void *arg, int rc)
{
    write_cb(arg, rc);
}

static void plan_pump(struct cmp_job *j)
{
    bool all = true;
    for (size_t i = 0; i < j->nlanes; i++) {
        int rc = lane_pump(j, &j->lanes[i]);
        if (rc) {
            cmp__job_fail(j, rc, "writing plan %zu failed (%s)", j->plan + 1, err_str(rc));
            return;
        }
        all &= j->lanes[i].done;
    }
    if (!all || j->flushed)
        return;
    j->flushed = true;
    if (j->sso_out.w) {
        /* forceUpload at the plan's end (F01 fix in the writer). */
        int rc = wr_flush(j->sso_out.w, flush_cb, j);
        if (rc) {
            cmp__job_fail(j, rc, "force upload of object %lld failed (%s)",
                          (long long)j->sso_out.id, err_str(rc));
            return;
        }
        j->writes_pending++;
    }
}

/* ---- plans ------------------------------------------------------------------------------- */

static int add_so(struct cmp_job *j, struct cmp_wout **out)
{
    if (j->nsos == j->sos_cap) {
        size_t cap = j->sos_cap ? j->sos_cap * 2 : 8;
        struct cmp_wout **n = realloc(j->sos, cap * sizeof *n);
        if (!n)
            return ERR_NOMEM;
        j->sos = n;
        j->sos_cap = cap;
    }
    struct cmp_wout *o = malloc(sizeof *o);
    if (!o)
        return ERR_NOMEM;
    wout_init(o, j);
    j->sos[j->nsos++] = o;
    *out = o;
    return 0;
}

static int plan_lanes(struct cmp_job *j, const struct cmp_plan *p)
{
    j->lanes = calloc(p->nout ? p->nout : 1, sizeof *j->lanes);
    if (!j->lanes)
        return ERR_NOMEM;
    for (size_t i = 0; i < p->nout; i++) {
        struct cmp_lane *l = &j->lanes[j->nlanes++];
        l->po = &p->out[i];
        if (!p->out[i].split) {
            l->wo = &j->sso_out;
            continue;
        }
        int rc = add_so(j, &l->wo);
        if (rc)
            return rc;
    }
    return 0;
}

static void plan_start(struct cmp_job *j)
{
    const struct cmp_plan *p = &j->a.plans[j->plan];
    int rc;
    j->state = CMP_J_PLAN;
    wait_restart(j);
    env_eventf(j->c->env, ENV_LANE_SSO, ENV_EVENT_INSTANT, j->c->runs, false,
               "sso-compaction run=%llu %s plan=%zu/%zu blocks=%zu bytes=%llu",
               (unsigned long long)j->c->runs, j->split ? "split" : "compact", j->plan + 1,
               j->a.nplans, p->nb, (unsigned long long)p->bytes);
    if ((rc = plan_chunks(j, p)) || (rc = plan_lanes(j, p)) || (rc = plan_reads(j))) {
        cmp__job_fail(j, rc, "starting plan %zu failed (%s)", j->plan + 1, err_str(rc));
        return;
    }
    job_step(j);
}

static bool plan_finished(const struct cmp_job *j)
{
    bool need_closes = !j->split || j->c->conf.force_split_wait;
    return j->flushed && j->reads_inflight == 0 && j->writes_pending == 0 &&
           (!need_closes || j->closes_pending == 0);
}

/* All plans done: seal the new SSO, or go to the commit. */
static void plans_done(struct cmp_job *j)
{
    if (j->sso_out.w && !j->sso_out.sealed) {
        j->state = CMP_J_CLOSE;
        int rc = cmp__seal(&j->sso_out);
        if (rc) {
            cmp__job_fail(j, rc, "closing object %lld failed (%s)", (long long)j->sso_out.id,
                          err_str(rc));
            return;
        }
        wait_restart(j);
        return;
    }
    cmp__commit(j);
}

/* Advances the job after any event. */
static void job_step(struct cmp_job *j)
{
    if (j->failing || j->state == CMP_J_END)
        return;
    switch (j->state) {
    case CMP_J_PLAN:
        plan_pump(j);
        if (j->err || !plan_finished(j))
            break;
        plan_clear(j);
        if (++j->plan < j->a.nplans) {
            plan_start(j);
            return;
        }
        plans_done(j);
        return;
    case CMP_J_CLOSE:
        if (j->closes_pending == 0 && j->sso_out.durable) {
            cmp__commit(j);
            return;
        }
        break;
    case CMP_J_AFTER:
        if (j->closes_pending == 0) {
            cmp__release_all(j, false);
            cmp__job_done(j);
            return;
        }
        break;
    case CMP_J_RELEASING:
        if (j->releases_pending == 0) {
            cmp__job_done(j);
            return;
        }
        break;
    default:
        break;
    }
    cmp__job_wait(j);
}

static void cmp_job_prepared(void *arg, int rc, int64_t first);
static void cmp_job_go(struct cmp_job *j);

/* Prepares the job's ids (TTL 24 h) and starts its first plan. */
void cmp__job_start(struct cmp_job *j)
{
    struct cmp *c = j->c;
    size_t need = j->a.nsplit + (j->a.has_sso ? 1 : 0);
    if (need > 0) {
        int rc;
        mdc_next_kind(c->md, j->split ? MDC_KIND_FORCE_SPLIT : MDC_KIND_SSO_COMPACTION);
        rc = mdc_prepare(c->md, (int)need, c->conf.prepared_ttl_us, cmp_job_prepared, j);
        if (rc)
            cmp__job_fail(j, rc, "prepare of %zu object ids failed (%s)", need, err_str(rc));
        return; /* cmp_job_prepared goes on */
    }
    cmp_job_go(j);
}

static void cmp_job_prepared(void *arg, int rc, int64_t first)
{
    struct cmp_job *j = arg;
    size_t need = j->a.nsplit + (j->a.has_sso ? 1 : 0);
    if (rc) {
        cmp__job_fail(j, rc, "prepare of %zu object ids failed (%s)", need, err_str(rc));
        return;
    }
    j->next_id = first;
    j->last_id = first + (int64_t)need - 1;
    cmp_job_go(j);
}

static void cmp_job_go(struct cmp_job *j)
{
    struct cmp *c = j->c;
    if (j->split)
        env_logf(c->env, ENV_LOG_INFO, CMP_LOGC,
                 "Force split object %lld into %zu stream objects (%zu plans)", (long long)j->sso,
                 j->a.nsplit, j->a.nplans);
    else
        env_logf(c->env, ENV_LOG_INFO, CMP_LOGC,
                 "Compact %zu stream set objects into %s%zu stream objects (%zu plans)",
                 j->a.ncompacted, j->a.has_sso ? "one stream set object and " : "", j->a.nsplit,
                 j->a.nplans);
    if (j->a.nplans == 0) {
        cmp__commit(j);
        return;
    }
    plan_start(j);
}
