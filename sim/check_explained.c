/* check_explained.c - failures-explained (docs/checks.md): every retry and
 * every failure the engine counts has a cause the bench saw.
 *
 * The fake S3 sees every call the engine makes, and the bench knows every
 * disruption it caused (fault rules, rpc-* rules, crashes, restarts).  A
 * client retries an attempt only after that attempt failed, and a job fails
 * only when something it did failed; so an engine that retries or fails
 * where nothing failed is wrong, even when it recovers and every other check
 * holds (a flipped comparison that makes a plan invalid, a success taken for
 * a failure, a spurious out-of-memory path).  The bounds are the bench's own
 * counts, taken by the observer (world.c), never the engine's. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "world_int.h"

/* Metadata requests the rpc-* rules disturbed. */
static uint64_t rpc_hits(const struct world *w)
{
    uint64_t n = 0;
    for (size_t i = 0; i < w->nrpc; i++)
        n += (uint64_t)w->rpc_rules[i].hits;
    return n;
}

/* A trim or delete-stream action ran: a stream compaction working on the
 * stream may find its objects or the stream gone when it commits (AutoMQ's
 * controller refuses that commit too). */
static bool streams_changed(const struct world *w)
{
    for (size_t i = 0; i < w->spec->nevents; i++) {
        const struct scn_event *e = &w->spec->events[i];
        if ((e->act.kind == SCN_ACT_TRIM || e->act.kind == SCN_ACT_DELETE_STREAM) &&
            e->at_us <= w->now)
            return true;
    }
    return false;
}

/* What could make a job fail besides its own S3 calls: a crash or restart, a
 * disturbed metadata request, an allocation that failed. */
static const char *outside_cause(const struct world *w)
{
    if (w->disrupt_at >= 0)
        return "a node crashed or restarted";
    if (rpc_hits(w))
        return "an rpc-* rule hit a metadata request";
    if (w->nomem_at >= 0)
        return "an allocation failed";
    return NULL;
}

/* A counted failure of a job whose S3 calls (of jobs a and b) all succeeded
 * and that nothing else disturbed. */
static void job_failures(struct world *w, struct detail_buf *f, const char *metric, uint64_t n,
                         enum s3_job a, enum s3_job b)
{
    if (n == 0 || w->s3_failed_job[a] || w->s3_failed_job[b] || outside_cause(w))
        return;
    if (a == S3_JOB_STREAM_COMPACTION && streams_changed(w))
        return;
    detail_sep(f, "; ");
    if (a == b)
        detail_addf(f, "%s is %" PRIu64 " but no %s call failed and nothing disturbed the run",
                    metric, n, s3_job_name(a));
    else
        detail_addf(f, "%s is %" PRIu64 " but no %s or %s call failed and nothing disturbed the "
                    "run", metric, n, s3_job_name(a), s3_job_name(b));
}

bool world_failures_explained(struct world *w, char *detail, size_t dsz)
{
    const struct eng_metrics *m = eng_metrics(w->eng);
    struct detail_buf f = {detail, dsz, 0, 0};
    detail[0] = 0;
    /* Every retry follows one failed attempt, and the fake S3 sees each
     * attempt as a call of its own. */
    if (m->s3_retries > w->s3_failed) {
        detail_sep(&f, "; ");
        detail_addf(&f, "s3.retries is %" PRIu64 " but the fake S3 saw %" PRIu64 " failed calls: "
                    "the engine retried calls that succeeded", m->s3_retries, w->s3_failed);
    }
    /* Every attempt the engine gave up on for its timeout is a call the
     * server never answered to it (the client cancels it, or it was
     * swallowed). */
    if (m->s3_timeouts > w->s3_unanswered) {
        detail_sep(&f, "; ");
        detail_addf(&f, "s3.timeouts is %" PRIu64 " but the fake S3 left %" PRIu64 " calls "
                    "unanswered", m->s3_timeouts, w->s3_unanswered);
    }
    job_failures(w, &f, "compaction.sso.failures", m->sso_failures, S3_JOB_SSO_COMPACTION,
                 S3_JOB_FORCE_SPLIT);
    job_failures(w, &f, "compaction.stream.failures", m->stream_failures,
                 S3_JOB_STREAM_COMPACTION, S3_JOB_STREAM_COMPACTION);
    job_failures(w, &f, "cleaner.failures", m->cleaner_failures, S3_JOB_CLEANER, S3_JOB_CLEANER);
    job_failures(w, &f, "broker.halts", m->broker_halts, S3_JOB_WAL_UPLOAD, S3_JOB_WAL_UPLOAD);
    if (m->rpc_retries && !outside_cause(w)) {
        detail_sep(&f, "; ");
        detail_addf(&f, "rpc.retries is %" PRIu64 " but no rpc-* rule hit a request and no node "
                    "crashed or restarted", m->rpc_retries);
    }
    if (f.n == 0)
        snprintf(detail, dsz, "%" PRIu64 " retries, %" PRIu64 " timeouts, %" PRIu64 " job "
                 "failures, %" PRIu64 " rpc retries; the fake S3 saw %" PRIu64 " failed calls",
                 m->s3_retries, m->s3_timeouts,
                 m->sso_failures + m->stream_failures + m->cleaner_failures + m->broker_halts,
                 m->rpc_retries, w->s3_failed);
    return f.n == 0;
}
