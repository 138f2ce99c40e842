/* check_health.c - engine health and vacuity (docs/checks.md): the error-log
 * bookkeeping behind no-error-log, the caught-up judge, the vacuous gate,
 * and no-leak (judged after the world is torn down).
 *
 * caught-up reads the metadata as the check's own model of what SSO
 * compaction and major stream compaction must have done by a moment; it does
 * not call the engine's planners (a check sharing the engine's code would
 * share its bugs). */
#include <dlfcn.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "world_int.h"

static const char *dur(int64_t us, char *buf) { return env_fmt_duration(us, buf, 32); }

/* ---- bookkeeping from the loop ------------------------------------------------------- */

void world_note_log(struct world *w, enum env_level level, const char *component,
                    const char *line)
{
    if (level != ENV_LOG_ERROR && !strstr(line, "FATAL"))
        return;
    if (w->err_lines++ == 0) {
        char t[32];
        snprintf(w->err_first, sizeof w->err_first, "at %s %s %s: %s", dur(w->now, t),
                 env_level_name(level), component, line);
    }
}

void world_note_fired(struct world *w, const char *rule)
{
    char(*nv)[64];
    if (!rule || !*rule)
        return;
    for (size_t i = 0; i < w->nfired; i++)
        if (strcmp(w->fired[i], rule) == 0)
            return;
    nv = realloc(w->fired, (w->nfired + 1) * sizeof *nv);
    if (!nv)
        return;
    w->fired = nv;
    snprintf(w->fired[w->nfired++], 64, "%s", rule);
}

/* ---- caught-up ----------------------------------------------------------------------- */

/* True when something outside the engine's control could have held the job
 * back in [since, t]: a crash or restart of a node, or a fault on one of
 * the job's calls. */
static bool disrupted(const struct world *w, int job, int64_t since, char *why, size_t wsz)
{
    char b[32];
    if (w->disrupt_at >= since) {
        snprintf(why, wsz, "a node crashed or restarted at %s", dur(w->disrupt_at, b));
        return true;
    }
    if (w->fault_at_job[job] >= since) {
        snprintf(why, wsz, "a fault hit a %s call at %s", s3_job_name((enum s3_job)job),
                 dur(w->fault_at_job[job], b));
        return true;
    }
    return false;
}

struct sso_walk {
    int64_t before;   /* committed before this */
    size_t old, all;
    int64_t first_id, first_ts;
};

static int walk_sso(void *arg, const struct meta_object *o)
{
    struct sso_walk *k = arg;
    if (o->state != META_COMMITTED || o->kind != META_KIND_SSO)
        return 0;
    k->all++;
    if (o->ts < k->before && k->old++ == 0) {
        k->first_id = o->id;
        k->first_ts = o->ts;
    }
    return 0;
}

/* SSO part: every SSO compaction run takes every SSO (up to max.num) and
 * leaves at most one (its output, or a lone SSO it has nothing to compact
 * with), so two SSOs committed more than two intervals before t mean a run
 * that should have merged them did not. */
static bool caught_sso(struct world *w, int64_t t, char *detail, size_t dsz)
{
    const struct conf *cf = &w->spec->conf;
    int64_t iv = conf_get(cf, CONF_SSO_INTERVAL);
    struct sso_walk k = {t - 2 * iv, 0, 0, -1, 0};
    char why[160], b1[32], b2[32], b3[32];
    if (iv <= 0 || t - 2 * iv <= 0)
        return true;
    meta_foreach(eng_meta(w->eng), walk_sso, &k);
    if (k.old <= 1)
        return true;
    if ((int64_t)k.all > conf_get(cf, CONF_SSO_MAX_NUM))
        return true; /* the knob caps a run: the rest waits its turn */
    if (disrupted(w, S3_JOB_SSO_COMPACTION, t - 2 * iv, why, sizeof why) ||
        disrupted(w, S3_JOB_FORCE_SPLIT, t - 2 * iv, why, sizeof why))
        return true;
    snprintf(detail, dsz,
             "%zu stream set objects committed before %s (two compaction intervals of %s before "
             "%s) are left uncompacted, first object %" PRId64 " committed at %s",
             k.old, dur(t - 2 * iv, b1), dur(iv, b2), dur(t, b3), k.first_id,
             dur(k.first_ts, why));
    return false;
}

/* Stream part: major compaction links contiguous stream objects of at least
 * the minor size and composites into one composite up to the size limit,
 * one group of a stream per major interval.  A stream whose objects form g
 * such groups has had enough time when both objects of a mergeable pair were
 * committed more than (g + 1) major intervals before t. */
static bool caught_stream(struct world *w, int64_t t, int stream, char *detail, size_t dsz)
{
    const struct conf *cf = &w->spec->conf;
    const struct meta *m = eng_meta(w->eng);
    const struct meta_stream *ms = meta_stream_get(m, stream);
    int64_t mi = conf_get(cf, CONF_MAJOR_INTERVAL);
    uint64_t minor = (uint64_t)conf_get(cf, CONF_MINOR_SIZE);
    uint64_t maxsz = (uint64_t)conf_get(cf, CONF_SO_MAX_SIZE);
    bool guard = conf_bool(cf, CONF_INT32_GUARD);
    struct meta_piece *p = NULL;
    size_t n = 0, k = 0, groups = 0, pair = 0;
    bool held = true, in_group = false;
    char why[160], b1[32], b2[32];
    if (!ms || ms->state == META_STREAM_DELETED || mi <= 0 ||
        meta_stream_pieces(m, stream, ms->start, INT64_MAX, &p, &n) != 0)
        return true;
    for (size_t i = 0; i < n; i++) /* stream objects and composites only */
        if (p[i].kind != META_KIND_SSO && p[i].end > ms->start)
            p[k++] = p[i];
    for (size_t i = 0; i + 1 < k; i++) {
        const struct meta_piece *a = &p[i], *b = &p[i + 1];
        bool ta = a->kind == META_KIND_COMPOSITE || (uint64_t)a->size >= minor;
        bool tb = b->kind == META_KIND_COMPOSITE || (uint64_t)b->size >= minor;
        bool merge = ta && tb && a->end == b->start &&
                     (uint64_t)a->size + (uint64_t)b->size <= maxsz &&
                     (!guard || b->end - a->start <= INT32_MAX);
        if (merge && !in_group) {
            groups++;
            if (!pair)
                pair = i + 1;
        }
        in_group = merge;
    }
    if (pair) {
        const struct meta_piece *a = &p[pair - 1], *b = &p[pair];
        const struct meta_object *oa = meta_object_get(m, a->id);
        const struct meta_object *ob = meta_object_get(m, b->id);
        int64_t since = t - (int64_t)(groups + 1) * mi;
        if (since > 0 && oa && ob && oa->ts < since && ob->ts < since &&
            !disrupted(w, S3_JOB_STREAM_COMPACTION, since, why, sizeof why)) {
            held = false;
            snprintf(detail, dsz,
                     "stream %d: objects %" PRId64 " and %" PRId64 " (offsets %" PRId64
                     "..%" PRId64 ") committed before %s are still apart; major compaction "
                     "(every %s) would have linked them (%zu groups to merge)",
                     stream, a->id, b->id, a->start, b->end, dur(since, b1), dur(mi, b2), groups);
        }
    }
    free(p);
    return held;
}

bool world_caught_up(struct world *w, int64_t t, char *detail, size_t dsz)
{
    char b[32];
    if (!caught_sso(w, t, detail, dsz))
        return false;
    for (int s = 1; s <= w->nstreams; s++)
        if (!caught_stream(w, t, s, detail, dsz))
            return false;
    snprintf(detail, dsz, "compaction caught up at %s", dur(t, b));
    return true;
}

/* ---- the vacuous gate ---------------------------------------------------------------- */

struct vac {
    char *p;
    size_t sz, off;
    unsigned n;
};

static void vac_add(struct vac *v, const char *fmt, ...)
{
    va_list ap;
    if (v->n++ && v->off + 2 < v->sz)
        v->off += (size_t)snprintf(v->p + v->off, v->sz - v->off, "; ");
    if (v->off >= v->sz)
        return;
    va_start(ap, fmt);
    v->off += (size_t)vsnprintf(v->p + v->off, v->sz - v->off, fmt, ap);
    va_end(ap);
    if (v->off > v->sz)
        v->off = v->sz;
}

/* The counter whose movement shows the path a metric measures ran: a
 * `metric compaction.sso.failures == 0` says something only when SSO
 * compaction ran.  -1: the metric itself. */
static int metric_subject(int id)
{
    if (id >= METRIC_S3_FAULTS_OP && id < METRIC_S3_CALLS_JOB)
        return METRIC_S3_CALLS_OP + (id - METRIC_S3_FAULTS_OP);
    if (id >= METRIC_S3_CALLS_OP && id < METRIC_S3_FAULTS_OP)
        return METRIC_S3_CALLS;
    if (id >= METRIC_S3_CALLS_JOB)
        return METRIC_S3_CALLS;
    switch (id) {
    case METRIC_S3_FAULTS:
    case METRIC_S3_BYTES_READ:
    case METRIC_S3_BYTES_WRITTEN:
    case METRIC_S3_RETRIES:
    case METRIC_S3_TIMEOUTS:
    case METRIC_BUCKET_KEYS:
    case METRIC_BUCKET_BYTES:
    case METRIC_BUCKET_UPLOADS_OPEN:
    case METRIC_LOG_ERROR:
    case METRIC_LOG_WARN:
    case METRIC_LOG_INFO: return METRIC_S3_CALLS;
    case METRIC_S3_MAX_KEYS_PER_DELETE: return METRIC_S3_CALLS_OP + S3_OP_DELETE_MANY;
    case METRIC_WAL_UPLOADS:
    case METRIC_MEMORY_PEAK: return METRIC_RECORDS_ACKED;
    case METRIC_BROKER_HALTS: return METRIC_S3_CALLS_JOB + S3_JOB_WAL_UPLOAD;
    case METRIC_RECORDS_ACKED:
    case METRIC_READS: return -1;
    case METRIC_READS_FAILED:
    case METRIC_READS_BYTES:
    case METRIC_READS_NOT_FOUND:
    case METRIC_READS_GET_MAX: return METRIC_READS;
    case METRIC_SSO_COMMITS:
    case METRIC_SSO_FAILURES:
    case METRIC_FORCE_SPLITS: return METRIC_SSO_RUNS;
    case METRIC_STREAM_COMMITS:
    case METRIC_STREAM_FAILURES:
    case METRIC_COMPOSITE_CREATED: return METRIC_S3_CALLS_JOB + S3_JOB_STREAM_COMPACTION;
    case METRIC_CLEANER_DELETED:
    case METRIC_CLEANER_FAILURES: return METRIC_S3_CALLS_JOB + S3_JOB_CLEANER;
    case METRIC_OBJECTS_LIVE:
    case METRIC_OBJECTS_SSO:
    case METRIC_OBJECTS_STREAM:
    case METRIC_OBJECTS_COMPOSITE:
    case METRIC_OBJECTS_PREPARED:
    case METRIC_OBJECTS_MARKED:
    case METRIC_OBJECTS_IDS: return METRIC_WAL_UPLOADS;
    default: return METRIC_S3_CALLS; /* a counter added later: the engine ran at all */
    }
}

static bool fired(const struct world *w, const char *name)
{
    for (size_t i = 0; i < w->nfired; i++)
        if (strcmp(w->fired[i], name) == 0)
            return true;
    return false;
}

static void vac_rule(struct world *w, struct vac *v, const struct fs3_rule *r)
{
    if (r->must_fire && !fired(w, r->name))
        vac_add(v, "fault rule %s (line %d) is must-fire and never hit a call", r->name,
                r->line);
}

bool world_vacuous(struct world *w, char *detail, size_t dsz)
{
    const struct scn_spec *s = w->spec;
    struct vac v = {detail, dsz, 0, 0};
    detail[0] = '\0';
    for (size_t i = 0; i < s->nchecks; i++) {
        const struct scn_check *c = &s->checks[i];
        /* reads-correct, implicit (a file with a read action) or not */
        if (c->kind == SCN_CHK_READS_CORRECT && !c->expect_fail &&
            w->metrics[METRIC_READS_BYTES] == 0) {
            if (c->line)
                vac_add(&v, "reads-correct (line %d) judged no byte: %" PRId64 " reads, none "
                        "returned a record", c->line, w->metrics[METRIC_READS]);
            else
                vac_add(&v, "reads-correct judged no byte: %" PRId64 " reads, none returned a "
                        "record", w->metrics[METRIC_READS]);
        }
        if (c->expect_fail || c->line == 0)
            continue;
        if (c->kind == SCN_CHK_NO_DATA_LOSS && w->metrics[METRIC_RECORDS_ACKED] == 0)
            vac_add(&v, "no-data-loss (line %d) judged no record: none was acknowledged", c->line);
        if (c->kind == SCN_CHK_REQUESTS_COUNTED && w->metrics[METRIC_S3_REQUESTS] == 0 &&
            w->metrics[METRIC_S3_CALLS] == 0)
            vac_add(&v, "requests-counted (line %d) judged no request: the engine sent none",
                    c->line);
        if (c->kind == SCN_CHK_CONVERGED && s->nevents == 0)
            vac_add(&v, "converged (line %d) judged a run with no action", c->line);
        if (c->kind == SCN_CHK_METRIC && c->metric >= 0 && c->metric < METRIC_COUNT &&
            w->metrics[c->metric] == 0) {
            int sub = metric_subject(c->metric);
            if (sub < 0 || w->metrics[sub] == 0)
                vac_add(&v, "metric %s (line %d) judged a counter the run never touched%s%s",
                        metric_name(c->metric), c->line, sub >= 0 ? " (nor " : "",
                        sub >= 0 ? metric_name(sub) : "");
            if (sub >= 0 && w->metrics[sub] == 0 && v.off + 1 < v.sz)
                v.off += (size_t)snprintf(v.p + v.off, v.sz - v.off, ")");
        }
    }
    for (size_t i = 0; i < s->nfaults; i++)
        vac_rule(w, &v, &s->faults[i]);
    for (size_t i = 0; i < s->nevents; i++)
        if (s->events[i].act.kind == SCN_ACT_FAULT)
            vac_rule(w, &v, &s->events[i].act.rule);
    if (v.n)
        return true;
    snprintf(detail, dsz, "every check judged something");
    return false;
}

/* ---- no-leak ------------------------------------------------------------------------- */

/* A call site as "function+0xOFF" when the symbol is exported, else
 * "FILE+0xOFF" (an offset in the binary: `addr2line -e FILE 0xOFF`). */
static void leak_site(const void *site, char *buf, size_t sz)
{
    Dl_info di;
    const char *base;
    if (dladdr(site, &di) && di.dli_sname && di.dli_saddr) {
        snprintf(buf, sz, "%s+0x%tx", di.dli_sname,
                 (const char *)site - (const char *)di.dli_saddr);
    } else if (dladdr(site, &di) && di.dli_fname) {
        base = strrchr(di.dli_fname, '/');
        snprintf(buf, sz, "%s+0x%tx", base ? base + 1 : di.dli_fname,
                 (const char *)site - (const char *)di.dli_fbase);
    } else {
        snprintf(buf, sz, "%p", site);
    }
}

void world_judge_leaks(const struct scn_spec *s, struct run_result *r,
                       const struct sim_alloc_leaks *l)
{
    char detail[768];
    size_t off;
    struct run_check *rc = NULL;
    for (size_t i = 0; i < r->nchecks && i < s->nchecks; i++)
        if (s->checks[i].kind == SCN_CHK_NO_LEAK)
            rc = &r->checks[i];
    if (!rc)
        return;
    if (l->lost)
        snprintf(detail, sizeof detail, "not judged: %" PRIu64 " of the %" PRIu64 " blocks the "
                 "run allocated found no room in the table of live blocks", l->lost, l->allocs);
    else if (!l->blocks) /* (how many it allocated depends on the buffer pool: not said) */
        snprintf(detail, sizeof detail, "every block the run allocated was freed when its "
                 "world was torn down");
    else {
        off = (size_t)snprintf(detail, sizeof detail, "%" PRIu64 " block%s the run allocated "
                               "(%" PRIu64 " bytes) still live after its world was torn down; "
                               "first allocated at", l->blocks, l->blocks == 1 ? "" : "s",
                               l->bytes);
        for (size_t i = 0; i < l->nsites && off < sizeof detail; i++) {
            char site[256];
            leak_site(l->sites[i].site, site, sizeof site);
            off += (size_t)snprintf(detail + off, sizeof detail - off, "%s %s (%" PRIu64 ")",
                                    i ? "," : "", site, l->sites[i].blocks);
        }
    }
    rc->held = l->blocks == 0;
    rc->ok = rc->held != rc->expect_fail;
    free(rc->detail);
    rc->detail = strdup(detail);
    if (r->verdict == RUN_ERROR)
        return; /* the bench broke: the ERROR stands */
    free(r->summary);
    r->summary = world_failed_summary(r, s);
    r->verdict = r->summary ? RUN_FAIL : RUN_PASS;
}
