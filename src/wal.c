/*
 * wal.c - WAL upload (see wal.h).
 *
 * The buffer holds runs (base, count, record size) per stream, never bytes:
 * payloads come from the hook when an object is built, so that a run's
 * memory is what its objects hold while they are written.
 */
#include "wal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "err.h"
#include "mdc.h"
#include "obj.h"
#include "writer.h"

#define WAL_BACKOFF_CAP_US (60 * ENV_USEC_PER_SEC)

struct wal_run {
    int64_t stream;
    int64_t base, count;
    uint32_t size;
};

/* The buffer of one stream. */
struct wal_sbuf {
    struct wal_run *runs;
    size_t n, cap;
    int64_t next; /* next offset to assign; -1: not known yet (take meta's end) */
};

struct wal_batch;

struct wal_obj {
    struct wal_batch *b;
    int64_t id;
    char key[OBJ_KEY_MAX];
    int64_t stream;  /* -1: the SSO */
    size_t first, n; /* its runs: b->runs[first .. first + n) */
    struct wr *w;    /* the writer while it is written */
    bool done;       /* durable */
    int64_t size;
};

struct wal_batch {
    struct wal *wal;
    uint64_t seq;
    struct wal_run *runs; /* sorted by (stream, base) */
    size_t nruns;
    struct meta_range *ranges; /* one per stream: [meta end, last offset + 1) */
    size_t nranges;
    struct wal_obj *objs; /* the SSO first (if any), then stream objects */
    size_t nobjs;
    bool has_sso;
    int writing; /* writers not yet closed */
    int rc;      /* first failure of this attempt */
    int after;   /* what follows the prepare in flight (WAL_AFTER_*) */
    int64_t commit_id; /* the commit in flight: its SSO id and stream objects */
    size_t commit_nso;
    int prc;     /* the failure that made it prepare again */
    int attempt;
    env_id retry_timer;
    env_id wait;
    char who[48];
    bool freeing; /* being freed (a broker crash): its writers' closes mean nothing */
};

struct wal {
    struct env *env;
    struct mdc *md;
    struct wr_ctx *writers;
    struct wr_mem *mem;
    struct wal_conf conf;
    struct eng_hooks hooks;
    struct wal_sbuf *sb; /* indexed by stream id */
    size_t nsb;
    size_t buffered;       /* runs buffered */
    uint64_t buffered_bytes; /* their payload bytes (the log cache block's size) */
    struct wal_batch *cur; /* the upload in flight */
    uint64_t seq;
    env_id timer;
    env_id kick;      /* the size trigger's upload, due now */
    struct wal_stats stats;
    wal_halt_fn halt;
    void *halt_arg;
};

static void wal_start_attempt(struct wal_batch *b);

void wal_conf_default(struct wal_conf *c)
{
    c->interval_us = 60 * ENV_USEC_PER_SEC;
    c->threshold = UINT64_C(500) << 20;
    c->split_size = UINT64_C(8) << 20;
    c->block_size = 512u << 10;
    c->prepared_ttl_us = 60 * ENV_USEC_PER_MIN;
    c->backoff_us = ENV_USEC_PER_SEC;
    c->part_size = UINT64_C(16) << 20;
    c->min_part_size = UINT64_C(5) << 20;
    c->int32_guard = true;
    c->retry = false;
    c->node = 0;
}

void wal_conf_from(struct wal_conf *wc, const struct conf *c)
{
    wal_conf_default(wc);
    wc->interval_us = conf_get(c, CONF_WAL_UPLOAD_INTERVAL);
    wc->threshold = (uint64_t)conf_get(c, CONF_WAL_UPLOAD_THRESHOLD);
    wc->split_size = (uint64_t)conf_get(c, CONF_SO_SPLIT_SIZE);
    wc->block_size = (uint32_t)conf_get(c, CONF_BLOCK_SIZE);
    wc->part_size = (uint64_t)conf_get(c, CONF_PART_SIZE);
    wc->min_part_size = (uint64_t)conf_get(c, CONF_MIN_PART_SIZE);
    wc->prepared_ttl_us = conf_get(c, CONF_PREPARED_TTL);
    wc->backoff_us = conf_get(c, CONF_RETRY_BACKOFF);
    wc->int32_guard = conf_bool(c, CONF_INT32_GUARD);
    wc->retry = conf_bool(c, CONF_WAL_UPLOAD_RETRY);
}

void wal_set_halt(struct wal *wal, wal_halt_fn fn, void *arg)
{
    wal->halt = fn;
    wal->halt_arg = arg;
}

/* ---- the buffer ---------------------------------------------------------- */

static struct wal_sbuf *wal_sbuf(struct wal *wal, int64_t stream)
{
    if (stream < 0)
        return NULL;
    if ((size_t)stream >= wal->nsb) {
        size_t n = (size_t)stream + 16;
        struct wal_sbuf *v = realloc(wal->sb, n * sizeof *v);
        if (!v)
            return NULL;
        for (size_t i = wal->nsb; i < n; i++)
            v[i] = (struct wal_sbuf){NULL, 0, 0, -1};
        wal->sb = v;
        wal->nsb = n;
    }
    return &wal->sb[stream];
}

int64_t wal_next_offset(const struct wal *wal, int64_t stream)
{
    const struct meta_stream *ms = mdc_stream_own(wal->md, stream);
    int64_t end = ms ? ms->end : 0;
    if (stream >= 0 && (size_t)stream < wal->nsb && wal->sb[stream].next > end)
        return wal->sb[stream].next;
    return end;
}

static uint64_t wal_sbuf_bytes(const struct wal_sbuf *s)
{
    uint64_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += (uint64_t)s->runs[i].count * s->runs[i].size;
    return n;
}

static void wal_on_kick(void *arg)
{
    struct wal *wal = arg;
    wal->kick = 0;
    wal_upload_now(wal);
}

/* The size trigger (AutoMQ's S3Storage: a log cache block that reaches
 * s3.wal.upload.threshold is uploaded at once).  AutoMQ starts that upload
 * beside any upload in flight and commits them in order; here one upload is
 * in flight at a time, so a full buffer waits for the upload in flight and
 * goes as soon as it ends.  The upload starts in an event of its own, not
 * inside the producer's append. */
static void wal_kick(struct wal *wal)
{
    if (wal->kick || wal->cur || wal->buffered_bytes < wal->conf.threshold)
        return;
    wal->kick = env_timer(wal->env, 0, wal_on_kick, wal);
}

int wal_append(struct wal *wal, int64_t stream, int64_t count, uint32_t size, int64_t gap,
               int64_t *base)
{
    const struct meta_stream *ms = mdc_stream_own(wal->md, stream);
    struct wal_sbuf *s;
    int64_t b;
    if (!ms || ms->state == META_STREAM_DELETED)
        return ERR_NOTFOUND;
    if (count < 1 || gap < 0 || size > INT32_MAX)
        return ERR_INVAL;
    b = wal_next_offset(wal, stream) + gap;
    if (!(s = wal_sbuf(wal, stream)))
        return ERR_NOMEM;
    if (s->n && s->runs[s->n - 1].size == size &&
        s->runs[s->n - 1].base + s->runs[s->n - 1].count == b) {
        s->runs[s->n - 1].count += count;
    } else {
        if (s->n == s->cap) {
            size_t cap = s->cap ? 2 * s->cap : 8;
            struct wal_run *v = realloc(s->runs, cap * sizeof *v);
            if (!v)
                return ERR_NOMEM;
            s->runs = v;
            s->cap = cap;
        }
        s->runs[s->n++] = (struct wal_run){stream, b, count, size};
        wal->buffered++;
    }
    wal->buffered_bytes += (uint64_t)count * size;
    s->next = b + count;
    if (base)
        *base = b;
    wal_kick(wal);
    return 0;
}

void wal_drop_stream(struct wal *wal, int64_t stream)
{
    if (stream < 0 || (size_t)stream >= wal->nsb)
        return;
    wal->buffered_bytes -= wal_sbuf_bytes(&wal->sb[stream]);
    wal->buffered -= wal->sb[stream].n;
    wal->sb[stream].n = 0;
    wal->sb[stream].next = -1;
}

bool wal_idle(const struct wal *wal)
{
    return !wal->cur && wal->buffered == 0;
}

const struct wal_stats *wal_stats(const struct wal *wal)
{
    return &wal->stats;
}

/* ---- batches --------------------------------------------------------------- */

static void wal_batch_free(struct wal_batch *b)
{
    struct wal *wal = b->wal;
    /* Releasing a writer completes its close with ERR_CANCELED at once: that
     * is the batch going away (a crashed broker writes no log and does not
     * halt again), not a failed upload. */
    b->freeing = true;
    for (size_t i = 0; i < b->nobjs; i++)
        if (b->objs[i].w)
            wr_release(b->objs[i].w, NULL, NULL);
    env_cancel(wal->env, b->retry_timer);
    mdc_cancel(wal->md, b);
    env_wait_end(wal->env, b->wait);
    free(b->runs);
    free(b->ranges);
    free(b->objs);
    free(b);
    if (wal->cur == b)
        wal->cur = NULL;
}

/* Moves the buffer of every live stream into a new batch. */
static struct wal_batch *wal_take(struct wal *wal)
{
    struct wal_batch *b = calloc(1, sizeof *b);
    size_t nstreams = 0;
    if (!b || !(b->runs = calloc(wal->buffered, sizeof *b->runs)) ||
        !(b->ranges = calloc(wal->buffered, sizeof *b->ranges))) {
        if (b)
            free(b->runs);
        free(b);
        return NULL;
    }
    b->wal = wal;
    for (size_t id = 0; id < wal->nsb; id++) {
        struct wal_sbuf *s = &wal->sb[id];
        const struct meta_stream *ms = mdc_stream_own(wal->md, (int64_t)id);
        if (!s->n)
            continue;
        if (ms && ms->state != META_STREAM_DELETED) {
            memcpy(b->runs + b->nruns, s->runs, s->n * sizeof *s->runs);
            b->nruns += s->n;
            b->ranges[nstreams++] = (struct meta_range){
                (int64_t)id, ms->end, s->runs[s->n - 1].base + s->runs[s->n - 1].count};
        }
        wal->buffered_bytes -= wal_sbuf_bytes(s);
        wal->buffered -= s->n;
        s->n = 0;
    }
    b->nranges = nstreams;
    return b;
}

/* Splits the batch into objects (docs/engine.md "WAL upload"): big streams (or a lone stream) get
 * their own stream object, the rest share one SSO. */
static int wal_plan(struct wal_batch *b)
{
    struct wal *wal = b->wal;
    size_t r = 0, nso = 0, k;
    bool *own = calloc(b->nranges, sizeof *own);
    if (!own || !(b->objs = calloc(b->nranges + 1, sizeof *b->objs))) {
        free(own);
        return ERR_NOMEM;
    }
    for (size_t i = 0; i < b->nranges; i++) {
        uint64_t bytes = 0;
        for (; r < b->nruns && b->runs[r].stream == b->ranges[i].stream; r++)
            bytes += (uint64_t)b->runs[r].count * (b->runs[r].size + OBJ_RECORD_HEADER);
        own[i] = b->nranges == 1 || bytes >= wal->conf.split_size;
        nso += own[i];
    }
    b->has_sso = nso < b->nranges;
    k = b->has_sso ? 1 : 0;
    if (b->has_sso)
        b->objs[0] = (struct wal_obj){.b = b, .stream = -1, .first = 0, .n = 0};
    r = 0;
    for (size_t i = 0; i < b->nranges; i++) {
        size_t first = r;
        for (; r < b->nruns && b->runs[r].stream == b->ranges[i].stream; r++)
            ;
        if (own[i])
            b->objs[k++] = (struct wal_obj){
                .b = b, .stream = b->ranges[i].stream, .first = first, .n = r - first};
    }
    b->nobjs = k;
    free(own);
    return 0;
}

enum { WAL_AFTER_START = 0, WAL_AFTER_EXPIRED_COMMIT, WAL_AFTER_EXPIRED_WRITE };

static void wal_start_attempt(struct wal_batch *b);
static void wal_retry(struct wal_batch *b, int rc);
static void wal_wait(struct wal_batch *b, const char *fmt, const char *detail);

/* The prepare's answer: the batch's objects get the fresh ids and their keys, then the upload
 * starts (or, after ids expired, is written again). */
static void wal_prepared(void *arg, int rc, int64_t first)
{
    struct wal_batch *b = arg;
    struct wal *wal = b->wal;
    for (size_t i = 0; rc == 0 && i < b->nobjs; i++) {
        struct wal_obj *o = &b->objs[i];
        o->id = first + (int64_t)i;
        o->done = false;
        rc = obj_key(o->id, mdc_namespace(wal->md), o->key, sizeof o->key);
    }
    switch (b->after) {
    case WAL_AFTER_START:
        if (rc) {
            env_logf(wal->env, ENV_LOG_ERROR, "wal-upload", "%s: cannot start: %s", b->who,
                     err_str(rc));
            wal_batch_free(b);
            wal_kick(wal);
            return;
        }
        wal_start_attempt(b);
        return;
    case WAL_AFTER_EXPIRED_COMMIT:
        if (rc == 0)
            env_logf(wal->env, ENV_LOG_WARN, "wal-upload",
                     "%s: prepared objects expired before the commit; writing new ones", b->who);
        wal_retry(b, rc ? rc : b->prc);
        return;
    default:
        if (rc == 0)
            env_logf(wal->env, ENV_LOG_WARN, "wal-upload",
                     "%s: prepared objects expired before their upload completed; writing new "
                     "ones", b->who);
        wal_retry(b, rc ? rc : b->prc);
        return;
    }
}

/* Asks fresh prepared ids for the batch's objects; wal_prepared goes on. */
static int wal_prepare(struct wal_batch *b, int after, int prc)
{
    struct wal *wal = b->wal;
    b->after = after;
    b->prc = prc;
    wal_wait(b, "%s", "waiting for the controller to prepare object ids");
    mdc_next_kind(wal->md, MDC_KIND_WAL_UPLOAD);
    return mdc_prepare(wal->md, (int)b->nobjs, wal->conf.prepared_ttl_us, wal_prepared, b);
}

/* ---- building and writing ----------------------------------------------- */

/* Adds the records of runs[from .. from + n) to the builder, each payload
 * generated in place. */
static int wal_add_runs(struct wal *wal, struct obj_builder *bld, const struct wal_run *runs,
                        size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct wal_run *run = &runs[i];
        const struct meta_stream *ms = mdc_stream_own(wal->md, run->stream);
        int rc;
        for (int64_t off = run->base; off < run->base + run->count; off++) {
            struct obj_record rec = {run->stream, ms ? ms->epoch : 0, off, 1, run->size, NULL};
            uint8_t *payload;
            if ((rc = obj_builder_add_space(bld, &rec, &payload)) < 0)
                return rc;
            wal->hooks.payload(wal->hooks.arg, run->stream, off, payload, run->size);
        }
    }
    return 0;
}

/* An upper bound of the bytes of an object of runs[0 .. n): records, a block
 * header per block, an index entry per block, the footer. */
static size_t wal_runs_bytes(const struct wal *wal, const struct wal_run *runs, size_t n)
{
    size_t bytes = OBJ_FOOTER_SIZE, blocks = 0;
    for (size_t i = 0; i < n; i++) {
        size_t payload = (size_t)runs[i].count * runs[i].size;
        bytes += (size_t)runs[i].count * OBJ_RECORD_HEADER + payload;
        blocks += 1 + payload / (wal->conf.block_size ? wal->conf.block_size : OBJ_BLOCK_SIZE_DEFAULT);
    }
    return bytes + blocks * (OBJ_BLOCK_HEADER + OBJ_ENTRY_SIZE);
}

/* An object of this many bytes or more is built in a buffer of buf.h's
 * buf_take (its pool's pages are mapped already: no page faults while the
 * payload is generated into it). */
#define WAL_MAP_MIN ((size_t)1 << 20)

/* Reserves the object's bytes at once (or the builder grows as it goes), in
 * the buffer a finished upload released when there is one (writer.h
 * wr_ctx_recycler: AutoMQ builds each object in a pooled ByteBuf, whose
 * memory a released upload's buffer gave back). */
static void wal_reserve(struct wal *wal, struct obj_builder *bld, size_t bytes)
{
    struct buf *m = buf_recycled(wr_ctx_recycler(wal->writers));
    if (m)
        obj_builder_reserve_in(bld, m, bytes);
    else if (bytes >= WAL_MAP_MIN)
        obj_builder_reserve_map(bld, bytes);
    else
        obj_builder_reserve(bld, bytes);
}

/* Builds an object's bytes: *out one reference, the caller's (counted in mem
 * by the caller). */
static int wal_build(struct wal_batch *b, struct wal_obj *o, struct buf **out)
{
    struct wal *wal = b->wal;
    struct obj_builder_conf bc = {wal->conf.block_size, 0, wal->conf.int32_guard};
    struct obj_builder bld;
    int rc = 0;
    obj_builder_init(&bld, &bc);
    if (o->stream >= 0) {
        wal_reserve(wal, &bld, wal_runs_bytes(wal, b->runs + o->first, o->n));
        rc = wal_add_runs(wal, &bld, b->runs + o->first, o->n);
    } else {
        /* The SSO: every run of a stream that has no object of its own. */
        size_t bytes = OBJ_FOOTER_SIZE;
        for (size_t r = 0; r < b->nruns; r++) {
            bool own = false;
            for (size_t k = 1; k < b->nobjs; k++)
                own |= b->objs[k].stream == b->runs[r].stream;
            if (!own)
                bytes += wal_runs_bytes(wal, &b->runs[r], 1) - OBJ_FOOTER_SIZE;
        }
        wal_reserve(wal, &bld, bytes);
        for (size_t r = 0; r < b->nruns && !rc; r++) {
            bool own = false;
            for (size_t k = 1; k < b->nobjs; k++)
                own |= b->objs[k].stream == b->runs[r].stream;
            if (!own)
                rc = wal_add_runs(wal, &bld, &b->runs[r], 1);
        }
    }
    *out = NULL;
    if (!rc)
        rc = obj_builder_finish_buf(&bld, out);
    obj_builder_free(&bld);
    return rc;
}

static void wal_obj_closed(void *arg, int rc);

static void wal_wait(struct wal_batch *b, const char *fmt, const char *detail)
{
    char what[256];
    snprintf(what, sizeof what, fmt, detail);
    if (!b->wait)
        b->wait = env_wait_beginf(b->wal->env, b->who, "%s", what);
    else
        env_wait_updatef(b->wal->env, b->wait, "%s", what);
}

static int wal_u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Hands a built object to its writer as AutoMQ's ObjectWriter does on the
 * WAL upload path (docs/engine.md "WAL upload"): whole data blocks, each time at least
 * max(minimum part, s3.object.part.size) bytes of them wait, then the rest of
 * the blocks with the index and footer at close.  The writer below batches
 * those writes into parts as MultiPartWriter does.  An object no larger than
 * the threshold is one write (the writer takes the buffer, no copy). */
static int wal_feed(struct wal *wal, struct wr *w, struct buf *ob)
{
    const uint8_t *bytes = ob->p;
    size_t len = ob->len;
    uint64_t thr = wal->conf.part_size > wal->conf.min_part_size ? wal->conf.part_size
                                                                 : wal->conf.min_part_size;
    struct obj_footer f;
    struct obj_index idx = {0};
    uint64_t *ends = NULL, start = 0;
    int rc = 0;
    if (len <= thr || len < OBJ_FOOTER_SIZE ||
        obj_footer_decode(bytes + len - OBJ_FOOTER_SIZE, len, &f) != 0 ||
        obj_index_decode(bytes + f.index_pos, f.index_len, f.index_pos, 0, &idx) != 0 ||
        idx.n == 0 || !(ends = malloc(idx.n * sizeof *ends))) {
        obj_index_free(&idx);
        return wr_write_buf(w, ob, NULL, NULL); /* the writer's now (no copy) */
    }
    for (size_t i = 0; i < idx.n; i++)
        ends[i] = (uint64_t)idx.e[i].pos + (uint64_t)idx.e[i].size;
    qsort(ends, idx.n, sizeof *ends, wal_u64_cmp);
    for (size_t i = 0; i < idx.n && !rc; i++) {
        if (ends[i] - start < thr || ends[i] > (uint64_t)f.index_pos)
            continue;
        rc = wr_write_ref(w, ob, bytes + start, (size_t)(ends[i] - start), NULL, NULL);
        start = ends[i];
    }
    if (!rc) /* each part a piece of the object's buffer, kept by the store (no copy) */
        rc = wr_write_ref(w, ob, bytes + start, len - (size_t)start, NULL, NULL);
    free(ends);
    obj_index_free(&idx);
    buf_unref(ob); /* its allocation goes back to buf.h's pool */
    return rc;
}

/* Starts the writer of one object: build, write, close. */
static int wal_write_obj(struct wal_batch *b, struct wal_obj *o)
{
    struct wal *wal = b->wal;
    struct buf *ob = NULL;
    int rc = wal_build(b, o, &ob);
    if (rc)
        return rc;
    o->size = (int64_t)ob->len;
    o->w = wr_open(wal->writers, o->key, S3_JOB_WAL_UPLOAD, b->who);
    if (o->w) {
        rc = wal_feed(wal, o->w, ob); /* ob is the writer's or dropped now */
    } else {
        buf_unref(ob);
        rc = ERR_NOMEM;
    }
    if (!rc)
        rc = wr_close(o->w, wal_obj_closed, o);
    if (rc && o->w) {
        wr_release(o->w, NULL, NULL);
        o->w = NULL;
    }
    return rc;
}

/* ---- attempts, commit, acknowledgements ------------------------------------ */

static void wal_on_retry(void *arg)
{
    struct wal_batch *b = arg;
    b->retry_timer = 0;
    wal_start_attempt(b);
}

/* AutoMQ's answer to a WAL upload that failed for good: S3Storage logs the
 * exception and calls Runtime.getRuntime().halt(1).  exc: the exception's
 * first line (a Java exception, as the broker's log shows it), on the same
 * line as the message: one log event, one line. */
static void wal_halt(struct wal_batch *b, const char *exc)
{
    struct wal *wal = b->wal;
    wal->stats.halts++;
    env_logf(wal->env, ENV_LOG_ERROR, "wal-upload",
             "Unexpected exception when commit stream set object: %s", exc);
    wal_wait(b, "%s", "failed for good: the broker halts (Runtime.halt)");
    if (wal->halt)
        wal->halt(wal->halt_arg);
}

/* The exception of an object write that failed with rc. */
static void wal_halt_write(struct wal_batch *b, int rc)
{
    char exc[256];
    if (rc == ERR_NOTFOUND)
        snprintf(exc, sizeof exc, "java.util.concurrent.CompletionException: "
                 "software.amazon.awssdk.services.s3.model.NoSuchUploadException: The specified "
                 "upload does not exist. (Service: S3, Status Code: 404)");
    else
        snprintf(exc, sizeof exc, "java.util.concurrent.CompletionException: "
                 "software.amazon.awssdk.services.s3.model.S3Exception: %s (%s)", err_str(rc),
                 err_name(rc));
    wal_halt(b, exc);
}

static void wal_retry(struct wal_batch *b, int rc)
{
    struct wal *wal = b->wal;
    if (!wal->conf.retry) {
        wal_halt_write(b, rc);
        return;
    }
    int64_t d = wal->conf.backoff_us;
    char buf[96], dur[32];
    for (int i = 1; i < b->attempt && d < WAL_BACKOFF_CAP_US; i++)
        d *= 2;
    if (d > WAL_BACKOFF_CAP_US)
        d = WAL_BACKOFF_CAP_US;
    wal->stats.retries++;
    env_logf(wal->env, ENV_LOG_WARN, "wal-upload", "%s attempt %d failed: %s; retrying in %s",
             b->who, b->attempt, err_str(rc), env_fmt_duration(d, dur, sizeof dur));
    snprintf(buf, sizeof buf, "%s after %s", dur, err_name(rc));
    wal_wait(b, "objects not yet durable; writing them again in %s", buf);
    b->retry_timer = env_timer(wal->env, d, wal_on_retry, b);
}

static void wal_ack(struct wal_batch *b)
{
    struct wal *wal = b->wal;
    for (size_t r = 0; r < b->nruns; r++) {
        const struct wal_run *run = &b->runs[r];
        const struct meta_stream *ms = mdc_stream_own(wal->md, run->stream);
        if (!ms || ms->state == META_STREAM_DELETED)
            continue;
        wal->stats.records_acked += (uint64_t)run->count;
        if (wal->hooks.ack)
            wal->hooks.ack(wal->hooks.arg, run->stream, run->base, run->count, run->size);
    }
}

static void wal_committed(void *arg, int rc, int64_t first);

/* The commit point: every object is durable. */
static void wal_commit(struct wal_batch *b)
{
    struct wal *wal = b->wal;
    struct meta_sso_commit c;
    struct meta_so *sos = calloc(b->nobjs + 1, sizeof *sos);
    struct meta_range *ranges = calloc(b->nranges + 1, sizeof *ranges);
    size_t nso = 0, nr = 0;
    int rc;
    if (!sos || !ranges) {
        free(sos);
        free(ranges);
        wal_retry(b, ERR_NOMEM);
        return;
    }
    for (size_t i = 0; i < b->nranges; i++) {
        const struct meta_range *rg = &b->ranges[i];
        bool own = false;
        for (size_t k = b->has_sso; k < b->nobjs; k++) {
            if (b->objs[k].stream == rg->stream) {
                sos[nso++] =
                    (struct meta_so){b->objs[k].id, b->objs[k].size, rg->stream,
                                     rg->start,     rg->end,         META_ATTR_TYPE_NORMAL};
                own = true;
            }
        }
        if (!own)
            ranges[nr++] = *rg;
    }
    memset(&c, 0, sizeof c);
    c.node = wal->conf.node;
    c.id = b->has_sso ? b->objs[0].id : META_ID_NONE;
    c.size = b->has_sso ? b->objs[0].size : 0;
    c.order_id = b->objs[0].id;
    c.data_time = env_now(wal->env);
    c.ranges = ranges;
    c.nranges = nr;
    c.sos = sos;
    c.nsos = nso;
    b->commit_id = c.id;
    b->commit_nso = nso;
    rc = mdc_commit_sso(wal->md, &c, wal_committed, b);
    free(sos);
    free(ranges);
    if (rc == 0) {
        wal_wait(b, "%s", "waiting for the controller's answer to the commit");
        return;
    }
    wal_committed(b, rc, -1);
}

/* The controller's answer to the batch's commit. */
static void wal_committed(void *arg, int rc, int64_t first)
{
    struct wal_batch *b = arg;
    struct wal *wal = b->wal;
    struct meta_sso_commit c = {.id = b->commit_id};
    size_t nso = b->commit_nso;
    (void)first;
    if (meta_ok(rc)) {
        wal->stats.uploads++;
        wal->stats.objects += b->nobjs;
        env_eventf(wal->env, ENV_LANE_WAL, ENV_EVENT_INSTANT, (uint64_t)c.id, false,
                   "wal-upload commit sso=%lld sos=%zu runs=%zu", (long long)c.id, nso, b->nruns);
        env_logf(wal->env, ENV_LOG_DEBUG, "wal-upload",
                 "%s committed: sso %lld, %zu stream objects", b->who, (long long)c.id, nso);
        wal_ack(b);
        wal_batch_free(b);
        wal_kick(wal);
        return;
    }
    if (!wal->conf.retry) {
        char exc[256];
        snprintf(exc, sizeof exc, "java.util.concurrent.CompletionException: "
                 "org.apache.kafka.common.errors.s3.%s: commit of %s refused (%s)",
                 rc == ERR_NOTFOUND ? "ObjectNotExistException" : "StreamSetObjectCommitException",
                 b->who, err_str(rc));
        wal_halt(b, exc);
        return;
    }
    if (rc == ERR_NOTFOUND && wal_prepare(b, WAL_AFTER_EXPIRED_COMMIT, rc) == 0)
        return;
    wal->stats.dropped++;
    env_logf(wal->env, ENV_LOG_ERROR, "wal-upload",
             "%s: commit refused (%s); its records are not acknowledged", b->who, err_str(rc));
    wal_batch_free(b);
    wal_kick(wal);
}

static void wal_obj_closed(void *arg, int rc)
{
    struct wal_obj *o = arg;
    struct wal_batch *b = o->b;
    char n[32];
    if (b->freeing)
        return;
    wr_release(o->w, NULL, NULL);
    o->w = NULL;
    o->done = rc == 0;
    if (rc && !b->rc)
        b->rc = rc;
    if (--b->writing > 0) {
        snprintf(n, sizeof n, "%d", b->writing);
        wal_wait(b, "%s object(s) still being written, then the metadata commit", n);
        return;
    }
    if (b->rc == ERR_ABORTED && wal_prepare(b, WAL_AFTER_EXPIRED_WRITE, b->rc) == 0)
        return; /* the writer's guard: ids expired */
    if (b->rc)
        wal_retry(b, b->rc);
    else
        wal_commit(b);
}

static void wal_start_attempt(struct wal_batch *b)
{
    char n[32];
    int rc = 0;
    b->attempt++;
    b->rc = 0;
    b->writing = 0;
    for (size_t i = 0; i < b->nobjs; i++) {
        if (b->objs[i].done)
            continue;
        if ((rc = wal_write_obj(b, &b->objs[i])) < 0)
            break;
        b->writing++;
    }
    if (rc && !b->writing) {
        wal_retry(b, rc);
        return;
    }
    if (rc)
        b->rc = rc;
    if (!b->writing) {
        wal_commit(b);
        return;
    }
    snprintf(n, sizeof n, "%d", b->writing);
    wal_wait(b, "%s object(s) being written, then the metadata commit", n);
}

int wal_upload_now(struct wal *wal)
{
    struct wal_batch *b;
    int rc;
    if (wal->cur)
        return ERR_BUSY;
    if (!wal->buffered)
        return 0;
    if (!(b = wal_take(wal)))
        return ERR_NOMEM;
    b->seq = ++wal->seq;
    snprintf(b->who, sizeof b->who, "wal upload %llu", (unsigned long long)b->seq);
    if (!b->nranges) {
        wal_batch_free(b);
        return 0;
    }
    wal->cur = b;
    if ((rc = wal_plan(b)) < 0 || (rc = wal_prepare(b, WAL_AFTER_START, 0)) < 0) {
        env_logf(wal->env, ENV_LOG_ERROR, "wal-upload", "%s: cannot start: %s", b->who,
                 err_str(rc));
        wal_batch_free(b);
        return rc;
    }
    return 0;
}

static void wal_on_tick(void *arg)
{
    struct wal *wal = arg;
    wal->timer = env_timer(wal->env, wal->conf.interval_us, wal_on_tick, wal);
    wal_upload_now(wal);
}

int wal_new(struct env *env, struct mdc *md, struct wr_ctx *writers, struct wr_mem *mem,
            const struct wal_conf *conf, const struct eng_hooks *hooks, struct wal **out)
{
    struct wal *wal;
    *out = NULL;
    if (!env || !md || !writers || !mem || !conf || !hooks || !hooks->payload ||
        conf->interval_us <= 0)
        return ERR_INVAL;
    if (!(wal = calloc(1, sizeof *wal)))
        return ERR_NOMEM;
    wal->env = env;
    wal->md = md;
    wal->writers = writers;
    wal->mem = mem;
    wal->conf = *conf;
    wal->hooks = *hooks;
    wal->timer = env_timer(env, conf->interval_us, wal_on_tick, wal);
    if (!wal->timer) {
        free(wal);
        return ERR_NOMEM;
    }
    *out = wal;
    return 0;
}

void wal_free(struct wal *wal)
{
    if (!wal)
        return;
    if (wal->cur)
        wal_batch_free(wal->cur);
    env_cancel(wal->env, wal->timer);
    env_cancel(wal->env, wal->kick);
    for (size_t i = 0; i < wal->nsb; i++)
        free(wal->sb[i].runs);
    free(wal->sb);
    free(wal);
}
