/* scmp.c - stream object compaction: the schedule, the broker's image of
 * each stream, planning, cleanup and the verified commit (see scmp.h). */
#include "scmp_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cln.h"
#include "conf.h"
#include "err.h"

#define SCMP_WHO "stream-compaction"

static void scmp_pass_continue(struct scmp *s);
static void scmp_trim_next(struct scmp *s);

/* ---- conf and lifetime ------------------------------------------------------------- */

void scmp_conf_from(struct scmp_conf *conf, const struct conf *c)
{
    memset(conf, 0, sizeof *conf);
    conf->minor_interval_us = conf_get(c, CONF_MINOR_INTERVAL);
    conf->major_interval_us = conf_get(c, CONF_MAJOR_INTERVAL);
    conf->minor_size = (uint64_t)conf_get(c, CONF_MINOR_SIZE);
    conf->max_size = (uint64_t)conf_get(c, CONF_SO_MAX_SIZE);
    conf->dirty_max = (uint64_t)conf_get(c, CONF_DIRTY_MAX);
    conf->trim_cleanup = conf_bool(c, CONF_SCMP_TRIM_CLEANUP);
    conf->recheck = conf_bool(c, CONF_SCMP_RECHECK);
    conf->dedupe = conf_bool(c, CONF_SCMP_DEDUPE);
    conf->type_pause_us = conf_get(c, CONF_SCMP_TYPE_PAUSE);
    conf->pressure_objects = conf_get(c, CONF_SCMP_PRESSURE_OBJECTS);
    conf->int32_guard = conf_bool(c, CONF_INT32_GUARD);
    conf->mark_failed_output = conf_bool(c, CONF_SCMP_MARK_FAILED);
    conf->verify_copy = conf_bool(c, CONF_SCMP_VERIFY_COPY);
    conf->prepared_ttl_us = conf_get(c, CONF_PREPARED_TTL);
    wr_conf_from(&conf->wr, c);
    s3c_conf_from(&conf->s3c, c);
}

static void scmp_tick(void *arg);

static int scmp_start(struct scmp *s)
{
    int64_t now = env_now(s->env);
    int rc;
    s->started_at = now;
    rc = s3c_new(s->env, s->inner, &s->conf.s3c, &s->s3c);
    if (rc)
        return rc;
    s->s3 = s3c_ops(s->s3c);
    rc = wr_ctx_new(s->env, s->s3, &s->conf.wr, s->mem, &s->wr);
    if (rc) {
        s3c_free(s->s3c);
        s->s3c = NULL;
        return rc;
    }
    wr_ctx_set_guard(s->wr, mdc_writer_guard, s->md);
    for (size_t i = 0; i < s->nsched; i++) {
        s->sched[i].last_minor = s->sched[i].last_major = now;
        s->sched[i].last_any = now - SCMP_MIN_SPACING_US;
    }
    s->down = false;
    s->tick = env_timer(s->env, SCMP_TICK_US, scmp_tick, s);
    return 0;
}

int scmp_new(struct env *env, struct s3_ops *inner, struct mdc *md, struct wr_mem *mem,
             const struct scmp_conf *conf, struct scmp **out)
{
    struct scmp *s;
    int rc;
    if (!env || !inner || !md || !mem || !conf || conf->minor_interval_us <= 0 ||
        conf->major_interval_us <= 0)
        return ERR_INVAL;
    s = calloc(1, sizeof *s);
    if (!s)
        return ERR_NOMEM;
    s->env = env;
    s->inner = inner;
    s->md = md;
    s->mem = mem;
    s->conf = *conf;
    rc = scmp_start(s);
    if (rc) {
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

static void scmp_drop(struct scmp *s)
{
    env_cancel(s->env, s->tick);
    s->tick = 0;
    env_cancel(s->env, s->pause);
    s->pause = 0;
    s->turn_major = false;
    scmp__cleanup_free(s->cl);
    s->cl = NULL;
    s->trim_cl = false;
    s->ntrimq = 0; /* the scheduler's queued tasks die with the broker */
    env_cancel(s->env, s->trim_kick);
    s->trim_kick = 0;
    if (s->run)
        s->run->w = NULL; /* freed with the context */
    wr_ctx_free(s->wr);   /* cancels the writers' calls */
    s->wr = NULL;
    if (s->s3c) {
        s->stats.s3_retries += s3c_stats(s->s3c)->retries;
        s->stats.s3_timeouts += s3c_stats(s->s3c)->timeouts;
    }
    s3c_requests_add(&s->stats.s3_sent, s->s3c);
    s3c_free(s->s3c);     /* cancels the run's call: no callback runs */
    s->s3c = NULL;
    s->s3 = NULL;
    scmp__run_free(s->run);
    s->run = NULL;
    s->pass_running = false;
}

void scmp_free(struct scmp *s)
{
    if (!s)
        return;
    scmp_drop(s);
    for (size_t i = 0; i < s->nsched; i++)
        free(s->sched[i].img.v);
    free(s->sched);
    free(s->trimq);
    free(s);
}

void scmp_crash(struct scmp *s)
{
    if (s->down)
        return;
    scmp_drop(s);
    for (size_t i = 0; i < s->nsched; i++)
        s->sched[i].img.n = 0;
    s->down = true;
}

void scmp_restart(struct scmp *s)
{
    if (s->down && scmp_start(s) != 0)
        env_logf(s->env, ENV_LOG_ERROR, SCMP_WHO, "restart failed: out of memory");
}

bool scmp_idle(const struct scmp *s) { return !s->pass_running && !s->cl && !s->ntrimq; }

const struct scmp_stats *scmp_stats(const struct scmp *s) { return &s->stats; }

const struct s3c *scmp_client(const struct scmp *s) { return s->s3c; }

/* ---- the broker's image ------------------------------------------------------------ */

static struct scmp_sched *scmp_sched(struct scmp *s, int64_t stream)
{
    if (stream < 0)
        return NULL;
    if ((size_t)stream >= s->nsched) {
        size_t n = (size_t)stream + 16;
        struct scmp_sched *v = realloc(s->sched, n * sizeof *v);
        int64_t now = s->started_at; /* intervals count from the (re)start */
        if (!v)
            return NULL;
        for (size_t i = s->nsched; i < n; i++)
            v[i] = (struct scmp_sched){now, now, now - SCMP_MIN_SPACING_US, {NULL, 0, 0}};
        s->sched = v;
        s->nsched = n;
    }
    return &s->sched[stream];
}

static int scmp_img_push(struct scmp_image *img, const struct scmp_obj *o)
{
    if (img->n == img->cap) {
        size_t cap = img->cap ? img->cap * 2 : 32;
        struct scmp_obj *v = realloc(img->v, cap * sizeof *v);
        if (!v)
            return ERR_NOMEM;
        img->v = v;
        img->cap = cap;
    }
    img->v[img->n++] = *o;
    return 0;
}

static int scmp_obj_cmp(const void *a, const void *b)
{
    const struct scmp_obj *x = a, *y = b;
    if (x->start != y->start)
        return (x->start > y->start) - (x->start < y->start);
    return (x->id > y->id) - (x->id < y->id);
}

/* #3370's defensive dedupe (StreamObjectCompactor.deduplicateObjectsById): a listing that
 * holds an object id twice (an image that appended a snapshot's entries, F05) keeps the first
 * of each, with AutoMQ's warning.  The pieces come sorted by (start, id): a repeated id is next
 * to its first. */
static void scmp_dedupe(struct scmp *s, struct meta_piece *p, size_t *n)
{
    size_t k = 0;
    for (size_t i = 0; i < *n; i++)
        if (k == 0 || p[i].id != p[k - 1].id)
            p[k++] = p[i];
    if (k == *n)
        return;
    env_logf(s->env, ENV_LOG_WARN, SCMP_WHO,
             "Detected %zu duplicate object ids in stream object compaction input, "
             "deduplicated %zu objects to %zu objects", *n - k, *n, k);
    *n = k;
}

/* Loads the stream's committed stream objects and composites from the broker's image into
 * the compactor's list of the stream. */
static int scmp_refresh(struct scmp *s, int64_t stream, struct scmp_image *img)
{
    struct meta_piece *p;
    size_t n;
    /* [0, confirmOffset): what the broker knows committed (its own stream's end, from the
     * answers to its requests), as AutoMQ's StreamObjectCompactor lists */
    const struct meta_stream *own = mdc_stream_own(s->md, stream);
    int rc = own ? mdc_stream_pieces(s->md, stream, 0, own->end, &p, &n) : ERR_NOTFOUND;
    if (rc)
        return rc;
    if (s->conf.dedupe)
        scmp_dedupe(s, p, &n);
    img->n = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct scmp_obj o = {p[i].id, p[i].kind, p[i].start, p[i].end, p[i].size};
        if (p[i].kind == META_KIND_STREAM || p[i].kind == META_KIND_COMPOSITE)
            rc = scmp_img_push(img, &o);
    }
    free(p);
    /* The pieces come sorted by start: the list needs sorting only when two
     * pieces start together.  Keys are unique up to identical entries, so
     * skipping a sort changes nothing. */
    for (size_t i = 1; i < img->n; i++)
        if (scmp_obj_cmp(&img->v[i - 1], &img->v[i]) > 0) {
            qsort(img->v, img->n, sizeof *img->v, scmp_obj_cmp);
            break;
        }
    return rc;
}

/* ---- the verified commit ------------------------------------------------------------ */

/* Fix of F05/F06: every source distinct and still committed, right now. */
static bool scmp_inputs_ok(struct scmp *s, const int64_t *src, size_t n, int64_t *bad)
{
    for (size_t i = 0; i < n; i++) {
        const struct meta_object *o = mdc_object_get(s->md, src[i]);
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = src[j] == src[i];
        if (dup || !o || o->state != META_COMMITTED) {
            *bad = src[i];
            return false;
        }
    }
    return true;
}

static uint64_t scmp_req_id(struct scmp *s)
{
    /* High bit set: never clashes with other committers' ids. */
    return UINT64_C(0x8000000000000000) | (UINT64_C(0x5c) << 48) | ++s->req_seq;
}

/* AutoMQ's CompactionType of a turn: the V1 scheduler's (StreamObjectCompactor.CompactionType;
 * the rewrite of a dirty composite is CLEANUP_V1's). */
static const char *scmp_type_name(enum scmp_type t)
{
    switch (t) {
    case SCMP_MINOR: return "MINOR_V1";
    case SCMP_MAJOR: return "MAJOR_V1";
    default: return "CLEANUP_V1";
    }
}

/* A step of the stream's compaction failed: AutoMQ's StreamObjectCompactor.handleCompactException,
 * which every failure of compact0 reaches.  A stream the broker has closed meanwhile (a delete
 * asked or answered: S3Stream.destroy closes it first) fails as expected, at WARN
 * `[STREAM_CLOSED]`; any other failure is `[UNEXPECTED]` at ERROR (AutoMQ since #929; before it,
 * every failure was an error "Failed to compact N stream objects"). */
static void scmp_failed(struct scmp *s, int64_t stream, enum scmp_type t, int64_t out_id,
                        size_t n, int rc, const char *why)
{
    const struct meta_stream *own = mdc_stream_own(s->md, stream);
    const struct meta_stream *img = mdc_stream_get(s->md, stream);
    bool closed = !own || own->state != META_STREAM_OPEN || !img ||
                  img->state == META_STREAM_DELETED || mdc_stream_deleting(s->md, stream);
    s->stats.failures++;
    env_logf(s->env, closed ? ENV_LOG_WARN : ENV_LOG_ERROR, SCMP_WHO,
             "[STREAM_OBJECT_COMPACT_FAIL],[%s],%" PRId64 ",type=%s,object=%" PRId64
             ",sources=%zu: %s (%s)", closed ? "STREAM_CLOSED" : "UNEXPECTED", stream,
             scmp_type_name(t), out_id, n, err_str(rc), why);
}

/* Sends the commit of the group's output (sources and ops from the run); done(arg, rc, -1)
 * hears the answer.  Returns 0 when sent, or the error that kept it from being sent (the
 * caller drops the step). */
static int scmp_commit_req(struct scmp_run *r, const int64_t *src, const enum meta_op *ops,
                           size_t n, mdc_done_fn done, void *arg)
{
    struct scmp *s = r->s;
    struct meta_stream_commit c = {0};
    int64_t bad = -1;
    if (s->conf.recheck && !scmp_inputs_ok(s, src, n, &bad)) {
        s->stats.verify_drops++;
        env_logf(s->env, ENV_LOG_INFO, SCMP_WHO, "stream %" PRId64 ": input object %" PRId64
                 " is no longer live, compaction dropped before commit", r->stream, bad);
        return ERR_NOTFOUND;
    }
    c.req_id = scmp_req_id(s);
    c.id = r->out_id;
    c.size = r->out_size;
    c.attributes = r->nlinks ? META_ATTR_TYPE_COMPOSITE : META_ATTR_TYPE_NORMAL;
    c.stream = r->stream;
    c.epoch = -1;
    c.start = r->out_start;
    c.end = r->out_end;
    c.sources = src;
    c.ops = ops;
    c.nsources = n;
    c.links = r->links;
    c.nlinks = r->nlinks;
    mdc_next_kind(s->md, r->type == SCMP_MAJOR ? MDC_KIND_MAJOR
                         : r->type == SCMP_MINOR ? MDC_KIND_MINOR
                                                 : MDC_KIND_CLEANUP);
    return mdc_commit_stream(s->md, &c, done, arg);
}

static void scmp_group_answer(void *arg, int rc, int64_t first)
{
    struct scmp_run *r = arg;
    (void)first;
    scmp__committed(r, meta_ok(rc) ? 0 : rc);
}

int scmp__commit(struct scmp_run *r)
{
    int64_t *src = malloc((r->n ? r->n : 1) * sizeof *src);
    enum meta_op *ops = malloc((r->n ? r->n : 1) * sizeof *ops);
    int rc = ERR_NOMEM;
    if (src && ops) {
        for (size_t i = 0; i < r->n; i++) {
            src[i] = r->m[i].o.id;
            ops[i] = r->type == SCMP_MINOR                      ? META_OP_DELETE
                     : r->m[i].o.kind == META_KIND_COMPOSITE ? META_OP_DELETE
                                                              : META_OP_KEEP_DATA;
        }
        rc = scmp_commit_req(r, src, ops, r->n, scmp_group_answer, r);
    }
    free(src);
    free(ops);
    return rc;
}

/* ---- cleanup of expired objects ----------------------------------------------------- */

/* The stream's expired objects, committed {id -1, DEEP_DELETE} <= SCMP_CLEANUP_STEP ids a
 * request, one request after the other; then the type's groups (scmp_turn_next). */
struct scmp_cleanup {
    struct scmp *s;
    int64_t stream;
    enum scmp_type t;      /* the turn's type, planned after the cleanup */
    int64_t *ids;
    enum meta_op *ops;
    size_t n, sent, k;     /* k: ids of the request in flight */
    bool any;              /* a request committed */
};

void scmp__cleanup_free(struct scmp_cleanup *cl)
{
    if (!cl)
        return;
    mdc_cancel(cl->s->md, cl);
    free(cl->ids);
    free(cl->ops);
    free(cl);
}

static bool scmp_turn_next(struct scmp *s);
static void scmp_cleanup_next(struct scmp_cleanup *cl);

static void scmp_cleanup_answer(void *arg, int rc, int64_t first)
{
    struct scmp_cleanup *cl = arg;
    struct scmp *s = cl->s;
    (void)first;
    if (meta_ok(rc)) {
        cl->any = true;
        s->stats.cleanups++;
        s->stats.commits++;
        env_eventf(s->env, ENV_LANE_STREAM, ENV_EVENT_INSTANT, (uint64_t)cl->stream, false,
                   "scmp cleanup stream=%" PRId64 " expired=%zu", cl->stream, cl->k);
    } else {
        /* compact0 throws out of cleanupExpiredObject: the type ends here, its later steps
         * and its groups are not run (the pressure MAJOR_V1 after it still is) */
        scmp_failed(s, cl->stream, cl->t, META_ID_NONE, cl->k, rc,
                    "the cleanup of expired objects was refused");
        cl->sent = cl->n;
        s->turn_pos = SIZE_MAX;
    }
    scmp_cleanup_next(cl);
}

static void scmp_cleanup_next(struct scmp_cleanup *cl)
{
    struct scmp *s = cl->s;
    while (cl->sent < cl->n) {
        struct scmp_run r = {.s = s, .stream = cl->stream, .out_id = META_ID_NONE};
        size_t k = cl->n - cl->sent < SCMP_CLEANUP_STEP ? cl->n - cl->sent : SCMP_CLEANUP_STEP;
        int rc = scmp_commit_req(&r, cl->ids + cl->sent, cl->ops + cl->sent, k,
                                 scmp_cleanup_answer, cl);
        cl->sent += k;
        cl->k = k;
        if (rc == 0)
            return; /* its answer goes on */
        scmp_failed(s, cl->stream, cl->t, META_ID_NONE, k, rc,
                    "the cleanup of expired objects was not sent");
    }
    s->cl = NULL;
    scmp__cleanup_free(cl);
    if (s->trim_cl) { /* a trim's cleanup: no groups after it */
        s->trim_cl = false;
        scmp_pass_continue(s);
        return;
    }
    /* the groups come from the same listing (its living objects), as in compact0 */
    if (!scmp_turn_next(s))
        scmp_pass_continue(s);
}

/* Starts the cleanup of the stream's expired objects: true when it did (the turn goes on
 * when it ends), false when there is none. */
static bool scmp_cleanup(struct scmp *s, int64_t stream, const struct scmp_image *img,
                         int64_t start, enum scmp_type t)
{
    struct scmp_cleanup *cl;
    size_t n = 0;
    for (size_t i = 0; i < img->n; i++)
        n += img->v[i].end <= start;
    if (!n || !(cl = calloc(1, sizeof *cl)))
        return false;
    cl->ids = malloc(n * sizeof *cl->ids);
    cl->ops = malloc(n * sizeof *cl->ops);
    if (!cl->ids || !cl->ops) {
        free(cl->ids);
        free(cl->ops);
        free(cl);
        return false;
    }
    cl->s = s;
    cl->stream = stream;
    cl->t = t;
    for (size_t i = 0; i < img->n; i++)
        if (img->v[i].end <= start) {
            cl->ids[cl->n] = img->v[i].id;
            cl->ops[cl->n++] = META_OP_DEEP_DELETE;
        }
    s->cl = cl;
    scmp_cleanup_next(cl);
    return true;
}

/* ---- planning ------------------------------------------------------------------------ */

static uint64_t scmp_parts(int64_t size)
{
    return ((uint64_t)size + SCMP_PART_MAX - 1) / SCMP_PART_MAX;
}

/* Major takes composites, normal objects of at least the minor size, and a
 * smaller normal object that bridges two contiguous composites (#3476). */
static bool scmp_takes(const struct scmp *s, enum scmp_type t, const struct scmp_image *img,
                       size_t j)
{
    const struct scmp_obj *o = &img->v[j];
    if (t == SCMP_MINOR)
        return o->kind == META_KIND_STREAM;
    /* under object-count pressure at the threshold itself, small normal objects too */
    if (o->kind == META_KIND_COMPOSITE || (uint64_t)o->size >= s->conf.minor_size ||
        s->pressure_full)
        return true;
    return j > 0 && j + 1 < img->n && img->v[j - 1].kind == META_KIND_COMPOSITE &&
           img->v[j + 1].kind == META_KIND_COMPOSITE && img->v[j - 1].end == o->start &&
           o->end == img->v[j + 1].start;
}

/* The first group of at least two living objects of type t in img from index i on:
 * [*from, *from + *n).  False when none. */
static bool scmp_plan(const struct scmp *s, enum scmp_type t, const struct scmp_image *img,
                      int64_t start, size_t i, size_t *from, size_t *n)
{
    while (i < img->n) {
        size_t k = 0, j = i;
        uint64_t size = 0, parts = 0;
        int64_t gstart = 0, next = 0;
        for (; j < img->n; j++) {
            const struct scmp_obj *o = &img->v[j];
            bool soft_full = t == SCMP_MINOR && size >= s->conf.minor_size;
            bool hard_full = t == SCMP_MAJOR && size + (uint64_t)o->size > s->conf.max_size;
            if (o->end <= start || !scmp_takes(s, t, img, j))
                break;
            if (k && (o->start != next || soft_full || hard_full || k >= SCMP_MAX_GROUP ||
                      parts + scmp_parts(o->size) > SCMP_MAX_PARTS ||
                      (s->conf.int32_guard && o->end - gstart > INT32_MAX)))
                break;
            if (k == 0)
                gstart = o->start;
            size += (uint64_t)o->size;
            parts += scmp_parts(o->size);
            next = o->end;
            k++;
        }
        if (k >= 2) {
            *from = i;
            *n = k;
            return true;
        }
        i = j > i ? j : i + 1;
    }
    return false;
}

/* True when the composite has a link wholly below start: only then can a
 * rewrite drop anything (otherwise it would rewrite the same composite at
 * every pass). */
static bool scmp_has_expired_link(const struct scmp *s, int64_t id, int64_t start)
{
    const struct meta_object *o = mdc_object_get(s->md, id);
    for (size_t i = 0; o && i < o->nlinks; i++)
        if (o->links[i].end <= start)
            return true;
    return false;
}

/* CLEANUP_V1: the first living object, when it is a composite whose dirty
 * bytes exceed dirty_max, is rewritten alone (when it has a link to drop). */
static bool scmp_plan_rewrite(const struct scmp *s, const struct scmp_image *img, int64_t start,
                              size_t *from)
{
    for (size_t i = 0; i < img->n; i++) {
        const struct scmp_obj *o = &img->v[i];
        double dirty;
        if (o->end <= start)
            continue;
        if (o->kind != META_KIND_COMPOSITE || start <= o->start)
            return false;
        dirty = (double)(start - o->start) / (double)(o->end - o->start) * (double)o->size;
        *from = i;
        return dirty > (double)s->conf.dirty_max && scmp_has_expired_link(s, o->id, start);
    }
    return false;
}

/* ---- the cleanup after a trim (F06, before #952) ---------------------------------------- */

/* AutoMQ before #952 (S3StreamClient.StreamWrapper.trim, git show 4e81bd3683^): each trim's
 * completion hands `cleanupStreamObject` to the single-thread compaction scheduler, skipped
 * only if a compaction is running at that moment; queued tasks then run back to back with no
 * spacing, each listing the stream from the image as it is when it starts.  A cleanup right
 * after another lists the objects the first one just marked (the image has not replayed its
 * commit yet) and its id -1 commit is refused: "object N not exist when mark destroy object".
 * #952 ("add 1min interval between stream object compaction", kafka issue 871) dropped the
 * trim's cleanup: only the schedule compacts, a stream at most once a minute. */
static void scmp_trim_next(struct scmp *s)
{
    while (s->ntrimq && !s->pass_running && !s->run && !s->pause && !s->cl && !s->down) {
        int64_t stream = s->trimq[0];
        struct scmp_sched *sc = scmp_sched(s, stream);
        const struct meta_stream *own = mdc_stream_own(s->md, stream);
        memmove(s->trimq, s->trimq + 1, --s->ntrimq * sizeof *s->trimq);
        if (!sc || !own || own->state == META_STREAM_DELETED ||
            scmp_refresh(s, stream, &sc->img) != 0)
            continue;
        s->turn_stream = stream;
        s->turn_type = SCMP_CLEANUP;
        s->turn_pos = 1; /* no group after it */
        s->turn_major = false;
        s->trim_cl = true;
        /* the broker's own start offset (S3Stream.startOffset()), the trim just answered */
        if (scmp_cleanup(s, stream, &sc->img, own->start, SCMP_CLEANUP))
            return;
        s->trim_cl = false;
    }
}

static void scmp_trim_kick(void *arg)
{
    struct scmp *s = arg;
    s->trim_kick = 0;
    scmp_trim_next(s);
}

void scmp_trimmed(struct scmp *s, int64_t stream)
{
    if (!s || !s->conf.trim_cleanup || s->down)
        return;
    /* skipped while a compaction of the stream runs (the `compacting` flag) */
    if ((s->run && s->run->stream == stream) || (s->cl && s->turn_stream == stream))
        return;
    if (s->ntrimq == s->trimq_cap) {
        size_t n = s->trimq_cap ? 2 * s->trimq_cap : 8;
        int64_t *q = realloc(s->trimq, n * sizeof *q);
        if (!q)
            return; /* out of memory: this trim's cleanup is not run (the schedule's will) */
        s->trimq = q;
        s->trimq_cap = n;
    }
    s->trimq[s->ntrimq++] = stream;
    /* handed to the scheduler's thread: the trims answered at the same moment are all queued
     * before the first cleanup starts (none of them sees it running) */
    if (!s->trim_kick)
        s->trim_kick = env_timer(s->env, 0, scmp_trim_kick, s);
}

/* ---- the pass ------------------------------------------------------------------------ */

static enum scmp_type scmp_due(struct scmp *s, const struct scmp_sched *sc, int64_t now)
{
    if (s->pass_force || now - sc->last_major >= s->conf.major_interval_us)
        return SCMP_MAJOR;
    if (now - sc->last_minor >= s->conf.minor_interval_us)
        return SCMP_MINOR;
    return SCMP_CLEANUP;
}

/* Starts the next group of the turn's listing, or returns false when there is none. */
static bool scmp_group(struct scmp *s, int64_t stream, enum scmp_type t,
                       const struct scmp_image *img, int64_t start)
{
    size_t from = 0, n = 1;
    struct scmp_run *r;
    if (t == SCMP_CLEANUP) {
        /* CLEANUP_V1 rewrites at most the first living object: one group a listing */
        if (s->turn_pos > 0 || !scmp_plan_rewrite(s, img, start, &from))
            return false;
        t = SCMP_REWRITE;
    } else if (s->turn_pos >= img->n || !scmp_plan(s, t, img, start, s->turn_pos, &from, &n)) {
        return false;
    }
    s->turn_pos = from + n;
    r = calloc(1, sizeof *r);
    if (r)
        r->m = calloc(n, sizeof *r->m);
    if (!r || !r->m) {
        free(r);
        return false;
    }
    r->s = s;
    r->stream = stream;
    r->type = t;
    r->n = n;
    r->out_id = META_ID_NONE;
    for (size_t i = 0; i < n; i++) {
        r->m[i].o = img->v[from + i];
        obj_key(r->m[i].o.id, mdc_namespace(s->md), r->m[i].key, sizeof r->m[i].key);
    }
    s->run = r;
    scmp__run_start(r);
    return true;
}

/* One compaction type of a stream's turn, as AutoMQ's StreamObjectCompactor.compact0: one
 * listing of the stream's objects from the broker's image; its expired objects cleaned up,
 * then the groups of its living objects planned from that same listing and run one after the
 * other.  True when something runs (the turn goes on from its callbacks). */
static bool scmp_type_start(struct scmp *s, int64_t stream, enum scmp_type t)
{
    const struct meta_stream *st = mdc_stream_get(s->md, stream);
    struct scmp_sched *sc = scmp_sched(s, stream);
    if (!st || st->state == META_STREAM_DELETED || !sc)
        return false;
    if (scmp_refresh(s, stream, &sc->img) != 0)
        return false;
    s->turn_stream = stream;
    s->turn_type = t;
    s->turn_pos = 0;
    if (scmp_cleanup(s, stream, &sc->img, st->start, t))
        return true;
    return scmp_turn_next(s);
}

/* The pause before the pressure MAJOR_V1 ended: it lists the stream again. */
static void scmp_pause_done(void *arg)
{
    struct scmp *s = arg;
    s->pause = 0;
    if (!scmp_type_start(s, s->turn_stream, SCMP_MAJOR))
        scmp_pass_continue(s);
}

/* The turn's next group; when its listing has none left, the pressure MAJOR_V1 after the
 * scheduled type (AutoMQ's v1CompactionTypes), after stream.compaction.metadata.replay.delay
 * (#3483: for the image to replay the first type's commits; 0 before it: planned at once).
 * False when the turn is over. */
static bool scmp_turn_next(struct scmp *s)
{
    int64_t stream = s->turn_stream;
    struct scmp_sched *sc = scmp_sched(s, stream);
    const struct meta_stream *st = mdc_stream_get(s->md, stream);
    if (sc && st && st->state != META_STREAM_DELETED &&
        scmp_group(s, stream, s->turn_type, &sc->img, st->start))
        return true;
    if (!s->turn_major)
        return false;
    s->turn_major = false;
    if (sc)
        sc->last_major = env_now(s->env);
    if (s->conf.type_pause_us > 0) {
        s->pause = env_timer(s->env, s->conf.type_pause_us, scmp_pause_done, s);
        return true;
    }
    return scmp_type_start(s, stream, SCMP_MAJOR);
}

/* One stream's turn: its due compaction type (and the pressure MAJOR_V1 after it). */
static bool scmp_stream_turn(struct scmp *s, int64_t stream)
{
    const struct meta_stream *st = mdc_stream_get(s->md, stream);
    struct scmp_sched *sc = scmp_sched(s, stream);
    int64_t now = env_now(s->env);
    enum scmp_type t;
    if (!st || st->state == META_STREAM_DELETED || !sc)
        return false;
    if (!s->pass_force && now - sc->last_any < SCMP_MIN_SPACING_US)
        return false;
    t = scmp_due(s, sc, now);
    sc->last_any = now;
    if (t == SCMP_MAJOR)
        sc->last_major = now;
    if (t == SCMP_MINOR)
        sc->last_minor = now;
    s->turn_major = s->pressure && t != SCMP_MAJOR;
    return scmp_type_start(s, stream, t);
}

/* Runs streams until one has a group in flight, or the pass ends. */
static void scmp_pass_continue(struct scmp *s)
{
    int64_t limit = mdc_stream_limit(s->md);
    while (s->pass_running && !s->run && !s->pause && !s->cl && s->pass_stream < limit) {
        int64_t stream = s->pass_stream++;
        scmp_stream_turn(s, stream);
    }
    if (!s->run && !s->pause && !s->cl && s->pass_stream >= limit) {
        s->pass_running = false;
        s->pass_force = false;
    }
    scmp_trim_next(s);
}

/* A group finished (rc 0: committed).  The turn goes on with the next group of its listing
 * after a success; a failure ends the type (compact0 throws). */
void scmp__group_done(struct scmp_run *r, int rc, const char *why)
{
    struct scmp *s = r->s;
    int64_t stream = r->stream;
    if (rc == 0) {
        s->stats.commits++;
        s->stats.composites += r->nlinks > 0;
        env_eventf(s->env, ENV_LANE_STREAM, ENV_EVENT_INSTANT, (uint64_t)stream, false,
                   "scmp commit stream=%" PRId64 " object=%" PRId64 " sources=%zu", stream,
                   r->out_id, r->n);
    } else {
        scmp_failed(s, stream, r->type, r->out_id, r->n, rc, why ? why : "");
        s->turn_pos = SIZE_MAX;
    }
    scmp__run_free(r);
    s->run = NULL;
    if (!scmp_turn_next(s))
        scmp_pass_continue(s);
}

static void scmp_pass_start(struct scmp *s, bool force)
{
    /* AutoMQ's CompactionHint: the objects count at the start of the pass */
    int64_t th = s->conf.pressure_objects;
    int64_t count = th > 0 ? mdc_objects_count(s->md, (th * 9 + 9) / 10) : 0;
    s->pressure = th > 0 && count * 10 >= th * 9; /* ceil(0.9 x threshold) */
    s->pressure_full = th > 0 && count >= th;
    s->pass_running = true;
    s->pass_force = force;
    s->pass_stream = 0;
    s->stats.passes++;
    scmp_pass_continue(s);
}

static void scmp_tick(void *arg)
{
    struct scmp *s = arg;
    s->tick = env_timer(s->env, SCMP_TICK_US, scmp_tick, s);
    if (!s->pass_running)
        scmp_pass_start(s, false);
}

int scmp_compact_now(struct scmp *s, bool force)
{
    if (s->down)
        return ERR_BADSTATE;
    if (s->pass_running)
        return ERR_BUSY;
    scmp_pass_start(s, force);
    return 0;
}
