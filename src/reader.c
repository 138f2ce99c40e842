/* reader.c - a stream range read through metadata and object indexes (see reader.h). */
#include "reader.h"

#include "buf.h"
#include "composite.h"
#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum rd_step {
    RD_TAIL,      /* GET of a normal object's tail */
    RD_REREAD,    /* GET from the exact index start */
    RD_COMPOSITE, /* GET of a whole composite object */
    RD_DATA,      /* GET of a run of index entries */
};

#define RD_STOP 1 /* record walk: past the end of the range */

struct rd_read {
    struct rd_conf conf;          /* copied at start */
    int64_t stream, end;          /* what is read */
    int64_t cursor;               /* next offset to deliver */
    rd_record_fn on_record;
    rd_done_fn done;
    void *arg;
    struct meta_piece *pieces;    /* the plan (owned) */
    size_t npieces, pi;           /* pieces and the current one */
    int replans;                  /* re-plans so far */
    char key[OBJ_KEY_MAX];        /* current object's key */
    int64_t size;                 /* its size in the metadata */
    bool composite;               /* it is a composite */
    struct obj_index idx;         /* its index (normal object) */
    struct cobj comp;             /* its parsed form (composite) */
    const struct obj_index *ix;   /* &idx or &comp.idx, NULL before the index is read */
    size_t ei, run;               /* first entry of the data run, entries in it */
    char get_keys[2][OBJ_KEY_MAX]; /* keys of reqs[0] and reqs[1] */
    enum rd_step step;            /* what the GET in flight is for */
    struct s3_req reqs[2];        /* GETs alternate between these two, so that a GET
                                     submitted from a callback never reuses the
                                     request being answered */
    struct s3_req *req;           /* the latest GET */
    bool inflight;                /* req submitted, not answered */
    env_id timer;                 /* the start timer, or 0 */
    env_id wait;                  /* the wait registry entry */
    int user_rc;                  /* the record callback said stop */
};

/* ---- Life cycle. ------------------------------------------------------------------ */

static void drop_object(struct rd_read *r)
{
    obj_index_free(&r->idx);
    cobj_free(&r->comp);
    r->ix = NULL;
}

static void rd_free(struct rd_read *r)
{
    drop_object(r);
    free(r->pieces);
    env_wait_end(r->conf.env, r->wait);
    free(r);
}

static void finish(struct rd_read *r, int rc)
{
    rd_done_fn done = r->done;
    void *arg = r->arg;
    int64_t next = r->cursor;
    if (rc == 0 && r->cursor < r->end) {
        if (r->conf.holes_ok)
            r->cursor = next = r->end;
        else
            rc = ERR_NOTFOUND;
    }
    if (rc)
        env_logf(r->conf.env, ENV_LOG_DEBUG, "reader", "read of stream %lld stopped at %lld: %s",
                 (long long)r->stream, (long long)next, err_str(rc));
    rd_free(r);
    done(arg, rc, next);
}

void rd_read_cancel(struct rd_read *r)
{
    if (!r)
        return;
    if (r->inflight)
        s3_cancel(r->conf.s3, r->req);
    env_cancel(r->conf.env, r->timer);
    rd_free(r);
}

static void next_piece(struct rd_read *r);

/* Re-plans from the cursor against fresh metadata (a key went missing). */
static void replan(struct rd_read *r, int why)
{
    size_t n;
    drop_object(r);
    free(r->pieces);
    r->pieces = NULL;
    r->npieces = r->pi = 0;
    if (r->replans++ >= r->conf.retries) {
        finish(r, why);
        return;
    }
    if (mdc_stream_pieces(r->conf.mdc, r->stream, r->cursor, r->end, &r->pieces, &n) != 0) {
        finish(r, ERR_NOMEM);
        return;
    }
    r->npieces = n;
    next_piece(r);
}

/* ---- S3. -------------------------------------------------------------------------------- */

static void on_get(struct s3_req *req, struct s3_result *res);

static void get(struct rd_read *r, const char *key, int64_t a, int64_t b, enum rd_step step)
{
    int rc, i = r->req == &r->reqs[0] ? 1 : 0;
    char *k = r->get_keys[i];
    snprintf(k, OBJ_KEY_MAX, "%s", key);
    r->req = &r->reqs[i];
    memset(r->req, 0, sizeof *r->req);
    r->req->job = S3_JOB_READER;
    r->req->key = k;
    r->req->range_start = a;
    r->req->range_end = b;
    r->req->body_by_ref = true; /* on_get only reads the body */
    r->step = step;
    env_wait_updatef(r->conf.env, r->wait, "stream %lld at %lld: get %s [%lld, %lld)",
                     (long long)r->stream, (long long)r->cursor, k, (long long)a,
                     (long long)b);
    rc = s3_get(r->conf.s3, r->req, on_get, r);
    if (rc) {
        finish(r, rc);
        return;
    }
    r->inflight = true;
}

/* Maps a failed GET to the reader's error; -1 means "missing: re-plan".
 * Only the NoSuchKey code means missing, whatever the status, as in AutoMQ:
 * its StreamReader recovers from NoSuchKeyException (the SDK's exception
 * for that code) and fails the read on any other S3 error, a 404 with
 * another code (NoSuchBucket, a proxy's bare 404) included. */
static int get_error(const struct s3_result *res)
{
    if (res->transport == S3_TR_TIMEOUT)
        return ERR_TIMEOUT;
    if (res->transport != S3_TR_OK)
        return ERR_IO;
    if (res->code == S3E_NO_SUCH_KEY)
        return -1;
    return ERR_S3;
}

/* ---- Walking the plan. ----------------------------------------------------------------- */

static void next_piece(struct rd_read *r)
{
    while (r->cursor < r->end && r->pi < r->npieces) {
        const struct meta_piece *p = &r->pieces[r->pi];
        const struct meta_object *o;
        if (p->end <= r->cursor) {
            r->pi++;
            continue;
        }
        if (p->start > r->cursor) {
            if (!r->conf.holes_ok)
                break; /* a hole in the metadata */
            r->cursor = p->start;
        }
        o = mdc_object_get(r->conf.mdc, p->id);
        if (!o || o->state != META_COMMITTED) {
            replan(r, ERR_NOTFOUND);
            return;
        }
        snprintf(r->key, sizeof r->key, "%s", o->key);
        r->size = o->size;
        r->composite = o->kind == META_KIND_COMPOSITE;
        if (r->composite)
            get(r, r->key, 0, -1, RD_COMPOSITE);
        else if (r->size <= 0)
            finish(r, ERR_CORRUPT);
        else
            get(r, r->key, (int64_t)obj_tail_start((uint64_t)r->size), r->size, RD_TAIL);
        return;
    }
    finish(r, 0); /* finish() tells a short read from a complete one */
}

/* Delivers one record of the range, in order. */
static int emit(void *arg, const struct obj_record *rec)
{
    struct rd_read *r = arg;
    int64_t rend = rec->base + rec->count;
    if (rec->base >= r->end)
        return RD_STOP;
    if (rend <= r->cursor)
        return 0; /* already delivered (or below the start) */
    if (rec->base > r->cursor && !r->conf.holes_ok)
        return ERR_NOTFOUND; /* a hole inside the object */
    if ((r->user_rc = r->on_record(r->arg, rec)) != 0)
        return ERR_ABORTED;
    r->cursor = rend;
    return 0;
}

/* Starts the GET of the next run of entries, or moves to the next piece. */
static void next_run(struct rd_read *r)
{
    const struct obj_index *ix = r->ix;
    const struct obj_index_entry *e;
    size_t link;
    int64_t bytes;
    if (r->cursor >= r->end || r->ei >= ix->n || ix->e[r->ei].stream != r->stream ||
        ix->e[r->ei].start >= r->end) {
        drop_object(r);
        r->pi++;
        next_piece(r);
        return;
    }
    e = &ix->e[r->ei];
    link = r->composite ? cobj_link_of(&r->comp, r->ei) : 0;
    bytes = e->size;
    for (r->run = 1; r->ei + r->run < ix->n; r->run++) {
        const struct obj_index_entry *x = &ix->e[r->ei + r->run], *p = x - 1;
        if (x->stream != r->stream || x->start >= r->end || x->pos != p->pos + p->size ||
            bytes + x->size > (int64_t)r->conf.max_read ||
            (r->composite && cobj_link_of(&r->comp, r->ei + r->run) != link))
            break;
        bytes += x->size;
    }
    if (r->composite) {
        char k[OBJ_KEY_MAX];
        if (obj_key(r->comp.links[link].id, mdc_namespace(r->conf.mdc), k, sizeof k) != 0) {
            finish(r, ERR_CORRUPT);
            return;
        }
        get(r, k, e->pos, e->pos + bytes, RD_DATA);
    } else {
        get(r, r->key, e->pos, e->pos + bytes, RD_DATA);
    }
}

/* The index is known: find the cursor and read. */
static void index_ready(struct rd_read *r)
{
    r->ei = obj_index_find(r->ix, r->stream, r->cursor);
    next_run(r);
}

/* ---- Answers. ----------------------------------------------------------------------------- */

static void on_tail(struct rd_read *r, const uint8_t *buf, size_t len, bool final)
{
    uint64_t from = 0;
    int64_t a = r->req->range_start;
    int rc = obj_tail_parse(buf, len, (uint64_t)a, (uint64_t)r->size,
                            r->conf.parse_flags | (final ? OBJ_PARSE_FINAL : 0), &r->idx, &from);
    if (rc == OBJ_REREAD) {
        get(r, r->key, (int64_t)from, r->size, RD_REREAD);
        return;
    }
    if (rc) {
        finish(r, ERR_CORRUPT);
        return;
    }
    r->ix = &r->idx;
    index_ready(r);
}

static void on_composite(struct rd_read *r, const uint8_t *buf, size_t len)
{
    if (cobj_parse(buf, len, r->conf.parse_flags, &r->comp) != 0) {
        finish(r, ERR_CORRUPT);
        return;
    }
    r->ix = &r->comp.idx;
    index_ready(r);
}

static void on_data(struct rd_read *r, const uint8_t *buf, size_t len)
{
    size_t off = 0;
    (void)len; /* checked by the caller: exactly the run's bytes */
    for (size_t i = 0; i < r->run; i++) {
        const struct obj_index_entry *e = &r->ix->e[r->ei + i];
        int rc = obj_group_parse(buf + off, (size_t)e->size, e, r->conf.parse_flags, emit, r);
        if (rc == RD_STOP)
            break;
        if (rc) {
            finish(r, rc);
            return;
        }
        off += (size_t)e->size;
    }
    r->ei += r->run;
    next_run(r);
}

/* Whether the answer carries exactly the bytes asked for.  object_size 0
 * means the implementation did not say (then only lengths are checked). */
static bool body_complete(const struct rd_read *r, const struct s3_result *res)
{
    uint64_t whole = res->object_size;
    if (!res->body && res->body_len)
        return false;
    if (r->step == RD_COMPOSITE)
        return res->body_len > 0 && (whole == 0 || res->body_len == whole);
    if (r->step != RD_DATA && whole != 0 && whole != (uint64_t)r->size)
        return false; /* the object is not the one the metadata describes */
    return res->body_len == (uint64_t)(r->req->range_end - r->req->range_start);
}

static void on_get(struct s3_req *req, struct s3_result *res)
{
    struct rd_read *r = req->arg;
    uint8_t *body = res->body;
    struct buf *ref = res->body_ref;
    size_t len = res->body_len;
    int rc;
    r->inflight = false;
    if (!s3_result_ok(res)) {
        rc = get_error(res);
        if (rc == -1)
            replan(r, ERR_NOTFOUND);
        else
            finish(r, rc);
        return;
    }
    if (!body_complete(r, res)) {
        replan(r, ERR_CORRUPT); /* a short body: read again */
        return;
    }
    res->body = NULL; /* ours now: the handlers may free the result's owner */
    res->body_ref = NULL;
    switch (r->step) {
    case RD_TAIL: on_tail(r, body, len, false); break;
    case RD_REREAD: on_tail(r, body, len, true); break;
    case RD_COMPOSITE: on_composite(r, body, len); break;
    case RD_DATA: on_data(r, body, len); break;
    }
    if (ref)
        buf_unref(ref);
    else
        free(body);
}

/* ---- Start. ---------------------------------------------------------------------------------- */

static void on_start(void *arg)
{
    struct rd_read *r = arg;
    size_t n;
    r->timer = 0;
    if (r->cursor >= r->end) {
        finish(r, 0);
        return;
    }
    if (mdc_stream_pieces(r->conf.mdc, r->stream, r->cursor, r->end, &r->pieces, &n) != 0) {
        finish(r, ERR_NOMEM);
        return;
    }
    r->npieces = n;
    next_piece(r);
}

int rd_read_start(const struct rd_conf *conf, int64_t stream, int64_t start, int64_t end,
                  rd_record_fn on_record, rd_done_fn done, void *arg, struct rd_read **out)
{
    struct rd_read *r;
    if (!conf || !conf->env || !conf->s3 || !conf->mdc || !on_record || !done || start < 0 ||
        end < start || stream < 0)
        return ERR_INVAL;
    r = calloc(1, sizeof *r);
    if (!r)
        return ERR_NOMEM;
    r->conf = *conf;
    if (!r->conf.max_read)
        r->conf.max_read = RD_MAX_READ_DEFAULT;
    if (r->conf.retries < 0)
        r->conf.retries = RD_RETRIES_DEFAULT;
    r->stream = stream;
    r->cursor = start;
    r->end = end;
    r->on_record = on_record;
    r->done = done;
    r->arg = arg;
    r->timer = env_timer(conf->env, 0, on_start, r);
    if (!r->timer) {
        free(r);
        return ERR_NOMEM;
    }
    r->wait = env_wait_beginf(conf->env, "reader", "stream %lld [%lld, %lld)", (long long)stream,
                              (long long)start, (long long)end);
    if (out)
        *out = r;
    return 0;
}
