/* cmp_commit.c - SSO compaction: the trim-aware sanity check and the one atomic commit
 * (docs/engine.md "Execution and commit"). */
#include "cmp_int.h"

#include <stdlib.h>
#include <string.h>

struct span {
    int64_t stream, start, end;
};

static int span_order(const void *a, const void *b)
{
    const struct span *x = a, *y = b;
    if (x->stream != y->stream)
        return (x->stream > y->stream) - (x->stream < y->stream);
    return (x->start > y->start) - (x->start < y->start);
}

/* The outputs' ranges, sorted and merged.  *n = count. */
static struct span *out_spans(const struct cmp_job *j, size_t *n)
{
    size_t k = j->sso_out.ne + j->nsos, m = 0;
    struct span *s = malloc((k ? k : 1) * sizeof *s);
    if (!s)
        return NULL;
    for (size_t i = 0; i < j->sso_out.ne; i++)
        s[m++] = (struct span){j->sso_out.e[i].stream, j->sso_out.e[i].start,
                               obj_entry_end(&j->sso_out.e[i])};
    for (size_t i = 0; i < j->nsos; i++) {
        const struct cmp_wout *o = j->sos[i];
        if (o->ne)
            s[m++] = (struct span){o->e[0].stream, o->e[0].start, obj_entry_end(&o->e[o->ne - 1])};
    }
    qsort(s, m, sizeof *s, span_order);
    size_t w = 0;
    for (size_t i = 0; i < m; i++) {
        if (w && s[w - 1].stream == s[i].stream && s[i].start <= s[w - 1].end) {
            if (s[i].end > s[w - 1].end)
                s[w - 1].end = s[i].end;
        } else {
            s[w++] = s[i];
        }
    }
    *n = w;
    return s;
}

static bool covered(const struct span *s, size_t n, int64_t stream, int64_t start, int64_t end)
{
    size_t lo = 0, hi = n;
    while (lo < hi) { /* first span after (stream, start) */
        size_t mid = lo + (hi - lo) / 2;
        if (s[mid].stream < stream || (s[mid].stream == stream && s[mid].start <= start))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && s[lo - 1].stream == stream && s[lo - 1].end >= end;
}

/*
 * isSanityCheckFailed: every original block of every compacted SSO, of a
 * stream that still exists, above the stream's start offset, must be covered
 * by the outputs from max(block start, stream start).  Returns 0 or ERR_CORRUPT.
 */
static int sanity_check(struct cmp_job *j)
{
    size_t n;
    struct span *s = out_spans(j, &n);
    int rc = s ? 0 : ERR_NOMEM;
    for (size_t i = 0; rc == 0 && i < j->a.ncompacted; i++) {
        const struct cmp_srcinfo *src = cmp__src(j->c, j->a.compacted[i]);
        for (size_t k = 0; src && rc == 0 && k < src->nall; k++) {
            const struct cmp_block *b = &src->all[k];
            const struct meta_stream *ms = mdc_stream_get(j->c->md, b->e.stream);
            if (!ms || ms->state == META_STREAM_DELETED || b->end <= ms->start)
                continue;
            int64_t from = b->e.start > ms->start ? b->e.start : ms->start;
            if (covered(s, n, b->e.stream, from, b->end))
                continue;
            env_logf(j->c->env, ENV_LOG_ERROR, CMP_LOGC,
                     "Sanity check failed, compaction result is illegal: block [%lld, %lld) of "
                     "stream %lld in object %lld is not covered",
                     (long long)from, (long long)b->end, (long long)b->e.stream,
                     (long long)src->id);
            rc = ERR_CORRUPT;
        }
    }
    free(s);
    return rc;
}

/* The new SSO's ranges: one per stream (its COMPACT blocks are contiguous). */
static struct meta_range *sso_ranges(const struct cmp_wout *o, size_t *n)
{
    struct meta_range *r = malloc((o->ne ? o->ne : 1) * sizeof *r);
    size_t m = 0;
    if (!r)
        return NULL;
    for (size_t i = 0; i < o->ne; i++) {
        int64_t end = obj_entry_end(&o->e[i]);
        if (m && r[m - 1].stream == o->e[i].stream) {
            if (end > r[m - 1].end)
                r[m - 1].end = end;
        } else {
            r[m++] = (struct meta_range){o->e[i].stream, o->e[i].start, end};
        }
    }
    *n = m;
    return r;
}

static struct meta_so *so_list(const struct cmp_job *j, size_t *n)
{
    struct meta_so *v = malloc((j->nsos ? j->nsos : 1) * sizeof *v);
    size_t m = 0;
    if (!v)
        return NULL;
    for (size_t i = 0; i < j->nsos; i++) {
        const struct cmp_wout *o = j->sos[i];
        if (!o->ne)
            continue;
        v[m++] = (struct meta_so){o->id, (int64_t)o->size, o->e[0].stream, o->e[0].start,
                                  obj_entry_end(&o->e[o->ne - 1]), 0};
    }
    *n = m;
    return v;
}

static void committed(struct cmp_job *j)
{
    struct meta_sso_commit r = {.id = j->cm_id, .nsos = j->cm_nsos, .ncompacted = j->cm_ncompacted};
    const struct meta_sso_commit *req = &r;
    struct cmp *c = j->c;
    cmp__count(c, j->split ? 1 : 0);
    env_logf(c->env, ENV_LOG_INFO, CMP_LOGC,
             "Compaction run %llu committed: %s %lld, %zu stream objects, %zu objects compacted",
             (unsigned long long)c->runs, j->split ? "force split of" : "stream set object",
             (long long)(j->split ? j->sso : req->id), req->nsos, req->ncompacted);
    env_eventf(c->env, ENV_LANE_SSO, ENV_EVENT_INSTANT, c->runs, false,
               "sso-compaction run=%llu commit %s id=%lld sos=%zu compacted=%zu",
               (unsigned long long)c->runs, j->split ? "split" : "compact", (long long)req->id,
               req->nsos, req->ncompacted);
}

/* The orderId AutoMQ's compaction sends (docs/engine.md "Execution and commit"): the object
 * id of the first candidate of the newest-first list the plans were made from (the
 * excluded ones left out); a force split sends none (-1: the controller takes
 * the smallest orderId of the inputs). */
static int64_t order_id(const struct cmp_job *j)
{
    const struct cmp_run *r = j->c->run;
    if (j->split || !r)
        return META_ID_NONE;
    for (size_t i = 0; i < r->nsrcs; i++) {
        bool excluded = false;
        for (size_t k = 0; k < j->a.nexcluded && !excluded; k++)
            excluded = j->a.excluded[k] == r->srcs[i].id;
        if (!excluded)
            return r->srcs[i].id;
    }
    return META_ID_NONE;
}

static void cmp_committed(void *arg, int rc, int64_t first);

/* Sanity check, then one atomic commit; the job then ends (or, on the F15
 * field-bug path, waits for the closes still running). */
void cmp__commit(struct cmp_job *j)
{
    struct cmp *c = j->c;
    struct meta_sso_commit req;
    struct meta_range *ranges = NULL;
    struct meta_so *sos = NULL;
    int rc = sanity_check(j);
    memset(&req, 0, sizeof req);
    if (rc == 0 && (!(ranges = sso_ranges(&j->sso_out, &req.nranges)) ||
                    !(sos = so_list(j, &req.nsos))))
        rc = ERR_NOMEM;
    if (rc == 0) {
        req.node = c->conf.node;
        req.id = j->sso_out.sealed ? j->sso_out.id : mdc_id_none(c->md);
        req.size = j->sso_out.sealed ? (int64_t)j->sso_out.size : 0;
        req.order_id = order_id(j);
        req.ranges = ranges;
        req.sos = sos;
        req.compacted = j->a.compacted;
        req.ncompacted = j->a.ncompacted;
        j->cm_id = req.id;
        j->cm_nsos = req.nsos;
        j->cm_ncompacted = req.ncompacted;
        mdc_next_kind(c->md, j->split ? MDC_KIND_FORCE_SPLIT : MDC_KIND_SSO_COMPACTION);
        rc = mdc_commit_sso(c->md, &req, cmp_committed, j);
    }
    free(ranges);
    free(sos);
    if (rc == 0)
        return; /* cmp_committed goes on */
    cmp_committed(j, rc, -1);
}

/* The controller's answer to the job's commit. */
static void cmp_committed(void *arg, int rc, int64_t first)
{
    struct cmp_job *j = arg;
    (void)first;
    if (meta_ok(rc)) {
        rc = 0;
        committed(j);
    }
    if (rc) {
        cmp__job_fail(j, rc, "%s (%s)",
                      rc == ERR_CORRUPT ? "Sanity check failed" : "commit stream set object failed",
                      err_str(rc));
        return;
    }
    if (j->closes_pending > 0) {
        j->state = CMP_J_AFTER; /* F15 field bug: committed before the upload completed */
        cmp__job_wait(j);
        return;
    }
    cmp__release_all(j, false);
    cmp__job_done(j);
}
