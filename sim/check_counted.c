/* check_counted.c - requests-counted (docs/checks.md): the engine's own account of the S3
 * requests it sent equals what the fake S3 received from it, op by op and job by job.
 *
 * The engine counts, in each S3 client (s3client.h stats.sent), every request its inner
 * s3_ops accepted: each attempt, retries included, and each visibility check; a client freed
 * by a crash leaves its counts to its owner (eng.c, scmp.c, cln.c), and eng_metrics() adds
 * them all up (s3.requests, s3.retries and s3.timeouts come from the same sum).  The fault
 * shim counts every call its submit() accepted, by the job the request names and its op
 * (fs3_fault_requests), at submit: an answer lost (the store did the work, the client saw a
 * timeout), a late= attempt that lands after its caller gave up, a call cancelled by a crash
 * and a call still in flight at the end were all received once.  The simulator's own work
 * (race-delete, race-put and strangers, the checks' inspection of the bucket) goes to the
 * store directly, never through the shim, so it is in neither count.
 *
 * A client whose counts are left out of the sum (a dropped eng_add_client), counted twice, or
 * a request sent around the clients shows here as an op whose two counts differ: the s3.*
 * metrics a user reads in the report would be wrong with every other check holding. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "world_int.h"

/* Whose client sends a job's requests (eng.c). */
static const char *client_of(int job)
{
    switch (job) {
    case S3_JOB_WAL_UPLOAD:
    case S3_JOB_SSO_COMPACTION:
    case S3_JOB_FORCE_SPLIT: return "the broker's client";
    case S3_JOB_STREAM_COMPACTION: return "the stream object compaction's client";
    case S3_JOB_CLEANER: return "the cleaner's client";
    case S3_JOB_READER: return "the read path's client";
    default: return "no job named";
    }
}

/* One op whose counts differ: the op's totals, then each job whose counts differ. */
static void op_finding(struct detail_buf *f, int op, const struct s3_requests *e,
                       const struct s3_requests *r, uint64_t et, uint64_t rt)
{
    int shown = 0;
    detail_sep(f, "; ");
    detail_addf(f, "%s: the engine counts %" PRIu64 " requests sent, the fake S3 received %" PRIu64,
                s3_op_name((enum s3_op)op), et, rt);
    for (int j = 0; j < S3_JOB_COUNT; j++) {
        if (e->n[j][op] == r->n[j][op])
            continue;
        detail_addf(f, "%s%s %" PRIu64 " vs %" PRIu64 ", %s", shown++ ? "; " : " [",
                    s3_job_name((enum s3_job)j), e->n[j][op], r->n[j][op], client_of(j));
    }
    if (shown)
        detail_addf(f, "]");
}

bool world_requests_counted(struct world *w, char *detail, size_t dsz)
{
    const struct s3_requests *e = &eng_metrics(w->eng)->s3_requests;
    const struct s3_requests *r = fs3_fault_requests(w->fault);
    struct detail_buf f = {detail, dsz, 0, 0};
    uint64_t total = 0;
    int ops = 0;
    detail[0] = 0;
    for (int o = 0; o < S3_OP_COUNT; o++) {
        uint64_t et = 0, rt = 0;
        bool jobs_differ = false;
        for (int j = 0; j < S3_JOB_COUNT; j++) {
            et += e->n[j][o];
            rt += r->n[j][o];
            jobs_differ |= e->n[j][o] != r->n[j][o];
        }
        if (jobs_differ)
            op_finding(&f, o, e, r, et, rt);
        total += rt;
        ops += rt > 0;
    }
    if (f.n)
        return false;
    detail_addf(&f, "%" PRIu64 " requests of %d ops, counted alike by the engine and the fake S3",
                total, ops);
    for (int o = 0, k = 0; o < S3_OP_COUNT; o++) {
        uint64_t rt = 0;
        for (int j = 0; j < S3_JOB_COUNT; j++)
            rt += r->n[j][o];
        if (rt)
            detail_addf(&f, "%s%s %" PRIu64, k++ ? ", " : " (", s3_op_name((enum s3_op)o), rt);
        if (o == S3_OP_COUNT - 1 && k)
            detail_addf(&f, ")");
    }
    return true;
}

void world_requests_totals(struct world *w, uint64_t *sent, uint64_t *received)
{
    const struct s3_requests *e = &eng_metrics(w->eng)->s3_requests;
    const struct s3_requests *r = fs3_fault_requests(w->fault);
    *sent = *received = 0;
    for (int j = 0; j < S3_JOB_COUNT; j++)
        for (int o = 0; o < S3_OP_COUNT; o++) {
            *sent += e->n[j][o];
            *received += r->n[j][o];
        }
}
