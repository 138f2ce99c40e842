/* cmp.c - SSO compaction: scheduling, runs, candidate selection, index reads (see cmp.h). */
#include "cmp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cln.h"
#include "conf.h"
#include "eng.h"
#include "s3client.h"

static void run_start_cb(void *arg);
static void run_next_job(struct cmp *c);
static bool old_enough(struct cmp *c, const struct cmp_srcinfo *s);

void cmp_conf_from(struct cmp_conf *cc, const struct conf *c)
{
    memset(cc, 0, sizeof *cc);
    cc->interval_us = conf_get(c, CONF_SSO_INTERVAL);
    cc->force_split_age_us = conf_get(c, CONF_SSO_FORCE_SPLIT_AGE);
    cc->prepared_ttl_us = conf_get(c, CONF_SSO_PREPARED_TTL);
    cc->max_num = (size_t)(conf_get(c, CONF_SSO_MAX_NUM) > 0 ? conf_get(c, CONF_SSO_MAX_NUM) : 1);
    cmp_limits_default(&cc->lim);
    cc->lim.cache_size = (uint64_t)conf_get(c, CONF_SSO_CACHE_SIZE);
    cc->lim.split_size = (uint64_t)conf_get(c, CONF_SSO_STREAM_SPLIT_SIZE);
    cc->lim.max_streams_per_sso = (size_t)conf_get(c, CONF_SSO_MAX_STREAMS);
    cc->lim.max_so_per_commit = (size_t)conf_get(c, CONF_SSO_MAX_SO_PER_COMMIT);
    cc->int32_guard = conf_bool(c, CONF_INT32_GUARD);
    cc->verify_blocks = conf_bool(c, CONF_SSO_VERIFY_BLOCKS);
    cc->force_split_wait = conf_bool(c, CONF_FORCE_SPLIT_WAIT);
    cc->no_streams_return = !conf_bool(c, CONF_SSO_WITHOUT_STREAMS);
    cc->index_error_missing = !conf_bool(c, CONF_INDEX_ERROR_SKIP);
    cc->lim.dead_kept = !conf_bool(c, CONF_SSO_DEAD_COMPACTED);
    cc->node = 0;
}

/* ---- scheduling ---------------------------------------------------------------- */

static void periodic_cb(void *arg)
{
    struct cmp *c = arg;
    c->timer = 0;
    if (!c->run)
        run_start_cb(c);
}

static void schedule(struct cmp *c, int64_t delay)
{
    env_cancel(c->env, c->timer);
    c->timer = env_timer(c->env, delay, periodic_cb, c);
}

int cmp_new(const struct cmp_deps *d, const struct cmp_conf *conf, struct cmp **out)
{
    struct cmp *c;
    *out = NULL;
    if (!d || !d->env || !d->s3 || !d->md || !d->conf || !d->mem || !conf ||
        conf->lim.cache_size == 0)
        return ERR_INVAL;
    if (!(c = calloc(1, sizeof *c)))
        return ERR_NOMEM;
    c->env = d->env;
    c->s3 = d->s3;
    c->md = d->md;
    c->mem = d->mem;
    c->metrics = d->metrics;
    c->conf = *conf;
    wr_conf_from(&c->wconf, d->conf);
    c->min_part = (uint64_t)conf_get(d->conf, CONF_MIN_PART_SIZE);
    int rc = wr_ctx_new(c->env, c->s3, &c->wconf, c->mem, &c->wr);
    if (rc) {
        free(c);
        return rc;
    }
    wr_ctx_set_guard(c->wr, mdc_writer_guard, c->md);
    schedule(c, conf->interval_us);
    *out = c;
    return 0;
}

static void srcs_free(struct cmp_run *r)
{
    for (size_t i = 0; i < r->nsrcs; i++) {
        free(r->srcs[i].all);
        free(r->srcs[i].live);
    }
    free(r->srcs);
}

/* Frees a run; in-flight work is cancelled without callbacks. */
static void run_free(struct cmp *c, struct cmp_run *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nsrcs; i++)
        if (r->srcs[i].inflight)
            s3_cancel(c->s3, &r->srcs[i].req);
    for (size_t i = 0; i < r->njobs; i++)
        cmp__job_free(r->jobs[i]);
    free(r->jobs);
    srcs_free(r);
    env_wait_end(c->env, r->wait);
    env_cancel(c->env, r->timer);
    free(r);
}

void cmp_free(struct cmp *c)
{
    if (!c)
        return;
    env_cancel(c->env, c->timer);
    env_cancel(c->env, c->start_timer);
    if (c->queued_waits)
        mdc_current_cancel(c->md, c);
    run_free(c, c->run);
    wr_ctx_free(c->wr);
    free(c);
}

int cmp_compact_now(struct cmp *c, bool force)
{
    if (c->run || c->start_timer || c->queued_waits) {
        c->queued = true;
        c->queued_force |= force;
        return 0;
    }
    c->queued_force = force;
    c->start_timer = env_timer(c->env, 0, run_start_cb, c);
    return c->start_timer ? 0 : ERR_NOMEM;
}

bool cmp_idle(const struct cmp *c)
{
    return !c->run && !c->start_timer && !c->queued && !c->queued_waits &&
           wr_ctx_live(c->wr) == 0;
}

uint64_t cmp_run_number(const struct cmp *c) { return c->runs; }

void cmp__count(struct cmp *c, int what)
{
    if (!c->metrics)
        return;
    if (what == 0)
        c->metrics->sso_commits++;
    else
        c->metrics->force_splits++;
}

/* A queued run (`compact sso` during a run) starts once the broker's image holds what the
 * controller had applied when the last run ended, its commit included: planned from an image
 * behind it (metadata.image.lag), the run would take the SSOs that commit just compacted and
 * be refused. */
static void queued_ready(void *arg)
{
    struct cmp *c = arg;
    c->queued_waits = false;
    c->start_timer = env_timer(c->env, 0, run_start_cb, c);
}

/* Ends the run in progress and schedules the next one (docs/engine.md "SSO compaction:
 * scheduling"). */
static void run_end(struct cmp *c)
{
    struct cmp_run *r = c->run;
    int64_t elapsed = env_now(c->env) - r->started;
    int64_t delay = c->conf.interval_us - elapsed;
    if (delay < CMP_MIN_DELAY || r->truncated)
        delay = CMP_MIN_DELAY;
    if (r->failed && c->metrics)
        c->metrics->sso_failures++;
    env_logf(c->env, r->failed ? ENV_LOG_WARN : ENV_LOG_INFO, CMP_LOGC,
             "Compaction run %llu %s", (unsigned long long)r->no,
             r->failed ? "failed; nothing of the failed step is committed" : "finished");
    env_eventf(c->env, ENV_LANE_SSO, ENV_EVENT_END, r->no, r->failed,
               "sso-compaction run=%llu end %s", (unsigned long long)r->no,
               r->failed ? "failed" : "ok");
    c->run = NULL;
    run_free(c, r);
    if (c->queued) {
        c->queued = false;
        c->queued_waits = true;
        if (mdc_when_current(c->md, queued_ready, c) < 0)
            queued_ready(c); /* no room to wait: at once, as before */
    } else {
        c->queued_force = false;
    }
    schedule(c, delay);
}

/* ---- candidates ---------------------------------------------------------------- */

struct collect {
    struct cmp *c;
    struct cmp_srcinfo *v;
    size_t n, cap;
    bool nomem;
};

static int collect_fn(void *arg, const struct meta_object *o)
{
    struct collect *k = arg;
    if (o->state != META_COMMITTED || o->kind != META_KIND_SSO || o->node != k->c->conf.node)
        return 0;
    for (size_t i = 0; i < k->n; i++)
        if (k->v[i].id == o->id)
            return 0; /* dedupe by id (#3370) */
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 16;
        struct cmp_srcinfo *nv = realloc(k->v, cap * sizeof *nv);
        if (!nv) {
            k->nomem = true;
            return 1;
        }
        k->v = nv;
        k->cap = cap;
    }
    struct cmp_srcinfo *s = &k->v[k->n++];
    memset(s, 0, sizeof *s);
    s->c = k->c;
    s->id = o->id;
    s->size = o->size;
    s->data_time = o->data_time;
    memcpy(s->key, o->key, sizeof s->key);
    return 0;
}

static int newest_first(const void *a, const void *b)
{
    const struct cmp_srcinfo *x = a, *y = b;
    if (x->data_time != y->data_time)
        return (x->data_time < y->data_time) - (x->data_time > y->data_time);
    return (x->id < y->id) - (x->id > y->id);
}

/* ---- index reads ------------------------------------------------------------------- */

static void index_done(struct cmp *c);
static void index_cb(struct s3_req *req, struct s3_result *res);

static int index_submit(struct cmp_srcinfo *s, uint64_t from)
{
    memset(&s->req, 0, sizeof s->req);
    s->req.job = S3_JOB_SSO_COMPACTION;
    s->req.key = s->key;
    s->req.range_start = (int64_t)from;
    s->req.range_end = s->size;
    s->from = from;
    int rc = s3_get(s->c->s3, &s->req, index_cb, s);
    s->inflight = rc == 0;
    return rc;
}

/* Turns the parsed index into blocks; keeps the live ones. */
static int index_take(struct cmp_srcinfo *s, struct obj_index *idx)
{
    s->all = malloc((idx->n ? idx->n : 1) * sizeof *s->all);
    s->live = malloc((idx->n ? idx->n : 1) * sizeof *s->live);
    if (!s->all || !s->live)
        return ERR_NOMEM;
    for (size_t i = 0; i < idx->n; i++) {
        struct cmp_block *b = &s->all[s->nall++];
        b->obj = s->id;
        b->e = idx->e[i];
        b->end = idx->e[i].start + idx->e[i].end_delta;
        if (cmp_block_live(s->c->md, b))
            s->live[s->nlive++] = *b;
    }
    return 0;
}

static int index_parse(struct cmp_srcinfo *s, struct s3_result *res, bool *again)
{
    struct obj_index idx = {0};
    uint64_t from = 0;
    unsigned flags = (s->c->conf.int32_guard ? 0 : OBJ_PARSE_WRAP_OK) |
                     (s->reread ? OBJ_PARSE_FINAL : 0);
    int rc = s3c_result_err(res);
    *again = false;
    if (rc == 0 && res->body_len != (uint64_t)s->size - s->from)
        rc = ERR_CORRUPT;
    if (rc == 0)
        rc = obj_tail_parse(res->body, res->body_len, s->from, (uint64_t)s->size, flags, &idx,
                            &from);
    if (rc == OBJ_REREAD && !s->reread) {
        s->reread = true;
        rc = index_submit(s, from);
        *again = rc == 0;
        return rc;
    }
    if (rc == 0)
        rc = index_take(s, &idx);
    obj_index_free(&idx);
    return rc == OBJ_REREAD ? ERR_CORRUPT : rc;
}

/* F29 (#400): DataBlockReader swallowed a failed index read and the object
 * counted as one that does not exist: no live block.  Its metadata ranges
 * stand for its blocks, so that the sanity check sees what it holds. */
static int index_missing(struct cmp_srcinfo *s)
{
    const struct meta_object *o = mdc_object_get(s->c->md, s->id);
    size_t n = o ? o->nranges : 0;
    free(s->all);
    free(s->live);
    s->nall = s->nlive = 0;
    s->all = malloc((n ? n : 1) * sizeof *s->all);
    s->live = malloc(sizeof *s->live);
    if (!s->all || !s->live)
        return ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        struct cmp_block *b = &s->all[s->nall++];
        memset(b, 0, sizeof *b);
        b->obj = s->id;
        b->e.stream = o->ranges[i].stream;
        b->e.start = o->ranges[i].start;
        b->end = o->ranges[i].end;
    }
    return 0;
}

static void index_cb(struct s3_req *req, struct s3_result *res)
{
    struct cmp_srcinfo *s = req->arg;
    struct cmp *c = s->c;
    bool again;
    s->inflight = false;
    int rc = index_parse(s, res, &again);
    if (again)
        return;
    if (rc && c->conf.index_error_missing) {
        env_logf(c->env, ENV_LOG_WARN, CMP_LOGC, "Object %lld not exist, metadata is out of date",
                 (long long)s->id);
        rc = index_missing(s);
    }
    s->ok = rc == 0;
    if (rc)
        env_logf(c->env, ENV_LOG_WARN, CMP_LOGC,
                 "Failed to read the index of object %lld (%s), skip it in compaction run %llu",
                 (long long)s->id, err_str(rc), (unsigned long long)c->run->no);
    c->run->idx_pending--;
    env_wait_updatef(c->env, c->run->wait, "reading the indexes of %zu stream set objects (%d left)",
                     c->run->nsrcs, c->run->idx_pending);
    if (c->run->idx_pending == 0)
        index_done(c);
}

/* ---- jobs ------------------------------------------------------------------------- */

static int add_job(struct cmp_run *r, struct cmp_job *j)
{
    if (!j)
        return ERR_NOMEM;
    struct cmp_job **nj = realloc(r->jobs, (r->njobs + 1) * sizeof *nj);
    if (!nj) {
        cmp__job_free(j);
        return ERR_NOMEM;
    }
    r->jobs = nj;
    r->jobs[r->njobs++] = j;
    return 0;
}

static bool old_enough(struct cmp *c, const struct cmp_srcinfo *s)
{
    return c->run->force || env_now(c->env) - s->data_time >= c->conf.force_split_age_us;
}

/* Force split jobs for the old SSOs, then one compaction job for the rest. */
static int build_jobs(struct cmp *c)
{
    struct cmp_run *r = c->run;
    struct cmp_src *cand = malloc((r->nsrcs ? r->nsrcs : 1) * sizeof *cand);
    size_t n = 0;
    int rc = cand ? 0 : ERR_NOMEM;
    for (size_t i = 0; rc == 0 && i < r->nsrcs; i++) {
        struct cmp_srcinfo *s = &r->srcs[i];
        if (!s->ok)
            continue;
        struct cmp_src src = {s->id, s->live, s->nlive};
        if (!old_enough(c, s)) {
            cand[n++] = src;
            continue;
        }
        struct cmp_job *j = cmp__job_new(c, true, s->id);
        if (j && (rc = cmp_split_plans(&src, &c->conf.lim, &j->a)) < 0) {
            cmp__job_free(j);
        } else if (j && j->a.nplans == 0 && j->a.ncompacted == 0) {
            env_logf(c->env, ENV_LOG_WARN, CMP_LOGC, "Object %lld is empty, metadata is out of date",
                     (long long)s->id); /* F25: AutoMQ before #896 */
            cmp__job_free(j);
        } else {
            rc = add_job(r, j);
        }
    }
    if (rc == 0 && n > 0) {
        struct cmp_job *j = cmp__job_new(c, false, -1);
        if (j && (rc = cmp_analyze(cand, n, &c->conf.lim, c->env, &j->a)) < 0)
            cmp__job_free(j);
        else if (j && j->a.nplans == 0 && j->a.ncompacted == 0)
            cmp__job_free(j); /* nothing shares a stream: nothing to do */
        else
            rc = add_job(r, j);
    }
    free(cand);
    return rc;
}

static void index_done(struct cmp *c)
{
    struct cmp_run *r = c->run;
    env_wait_end(c->env, r->wait);
    r->wait = 0;
    int rc = build_jobs(c);
    if (rc) {
        env_logf(c->env, ENV_LOG_ERROR, CMP_LOGC, "Compaction run %llu: planning failed: %s",
                 (unsigned long long)r->no, err_str(rc));
        r->failed = true;
        run_end(c);
        return;
    }
    run_next_job(c);
}

/* Starts the next job.  A failed job does not stop the others (each force
 * split stands alone, as AutoMQ's); the run then counts as failed. */
static void run_next_job(struct cmp *c)
{
    struct cmp_run *r = c->run;
    if (r->cur >= r->njobs) {
        run_end(c);
        return;
    }
    cmp__job_start(r->jobs[r->cur]);
}

static void job_done_cb(void *arg)
{
    struct cmp_job *j = arg;
    struct cmp *c = j->c;
    j->timer = 0;
    if (j->err)
        c->run->failed = true;
    c->run->cur++;
    run_next_job(c);
}

void cmp__job_done(struct cmp_job *j)
{
    j->state = CMP_J_END;
    env_wait_end(j->c->env, j->wait);
    j->wait = 0;
    j->timer = env_timer(j->c->env, 0, job_done_cb, j);
}

/* ---- a run -------------------------------------------------------------------------- */

/* True when the SSO's metadata ranges still hold live data. */
static bool sso_has_live(const struct cmp *c, int64_t id)
{
    const struct meta_object *o = mdc_object_get(c->md, id);
    for (size_t i = 0; o && i < o->nranges; i++) {
        const struct meta_stream *s = mdc_stream_get(c->md, o->ranges[i].stream);
        if (s && s->state != META_STREAM_DELETED && o->ranges[i].end > s->start)
            return true;
    }
    return false;
}

/* A single young SSO with live data has nothing to be compacted with and is
 * not due for force split: its index is not read (no GET every interval
 * for nothing).  One whose data is all gone is kept: it is compacted away. */
static void drop_lone_young(struct cmp *c, struct cmp_run *r)
{
    size_t young = 0, at = 0;
    for (size_t i = 0; i < r->nsrcs; i++)
        if (!old_enough(c, &r->srcs[i])) {
            young++;
            at = i;
        }
    if (young != 1 || !sso_has_live(c, r->srcs[at].id))
        return;
    memmove(&r->srcs[at], &r->srcs[at + 1], (r->nsrcs - at - 1) * sizeof *r->srcs);
    r->nsrcs--;
}

/* True when a range of one of the run's SSOs names a stream that exists. */
static bool any_stream_exists(const struct cmp *c, const struct cmp_run *r)
{
    for (size_t i = 0; i < r->nsrcs; i++) {
        const struct meta_object *o = mdc_object_get(c->md, r->srcs[i].id);
        for (size_t k = 0; o && k < o->nranges; k++) {
            const struct meta_stream *s = mdc_stream_get(c->md, o->ranges[k].stream);
            if (s && s->state != META_STREAM_DELETED)
                return true;
        }
    }
    return false;
}

static int run_select(struct cmp *c, struct cmp_run *r)
{
    struct collect k = {c, NULL, 0, 0, false};
    mdc_foreach(c->md, collect_fn, &k);
    if (k.nomem) {
        free(k.v);
        return ERR_NOMEM;
    }
    if (k.n)
        qsort(k.v, k.n, sizeof *k.v, newest_first);
    if (k.n > c->conf.max_num) {
        r->truncated = true;
        k.n = c->conf.max_num;
    }
    r->srcs = k.v;
    r->nsrcs = k.n;
    drop_lone_young(c, r);
    return 0;
}

static void run_start_cb(void *arg)
{
    struct cmp *c = arg;
    struct cmp_run *r;
    char who[64];
    c->start_timer = 0;
    if (c->run || !(r = calloc(1, sizeof *r)))
        return;
    c->run = r;
    /* Runs are numbered by the engine's counter, which survives a crash, so
     * that "compaction run 3" names one run in the whole log. */
    if (c->metrics)
        c->metrics->sso_runs++;
    c->runs = c->metrics ? c->metrics->sso_runs : c->runs + 1;
    r->no = c->runs;
    r->force = c->queued_force;
    c->queued_force = false;
    r->started = env_now(c->env);
    env_cancel(c->env, c->timer);
    c->timer = 0;
    if (run_select(c, r) < 0) {
        r->failed = true;
        run_end(c);
        return;
    }
    env_eventf(c->env, ENV_LANE_SSO, ENV_EVENT_START, r->no, false,
               "sso-compaction run=%llu start ssos=%zu%s", (unsigned long long)r->no, r->nsrcs,
               r->force ? " force" : "");
    if (c->conf.no_streams_return && r->nsrcs > 0 && !any_stream_exists(c, r)) {
        /* F24: CompactionManager before #2095 */
        env_logf(c->env, ENV_LOG_INFO, CMP_LOGC, "No stream metadata found for stream set objects");
        run_end(c);
        return;
    }
    snprintf(who, sizeof who, "compaction run %llu", (unsigned long long)r->no);
    r->wait = env_wait_beginf(c->env, who, "reading the indexes of %zu stream set objects",
                              r->nsrcs);
    for (size_t i = 0; i < r->nsrcs; i++) {
        struct cmp_srcinfo *s = &r->srcs[i];
        if (index_submit(s, obj_tail_start((uint64_t)s->size)) == 0)
            r->idx_pending++;
        else
            env_logf(c->env, ENV_LOG_WARN, CMP_LOGC,
                     "Failed to read the index of object %lld, skip it", (long long)s->id);
    }
    if (r->idx_pending == 0)
        index_done(c);
}

const struct cmp_srcinfo *cmp__src(const struct cmp *c, int64_t id)
{
    for (size_t i = 0; c->run && i < c->run->nsrcs; i++)
        if (c->run->srcs[i].id == id)
            return &c->run->srcs[i];
    return NULL;
}
