/*
 * report_cov.c - the fault coverage matrix: DIR/coverage.json and its table
 * in index.html (see report.h).
 *
 * The matrix is run_result.coverage and rpc_coverage summed over the runs: for each injected
 * effect, op (the S3 ops, then the broker's requests to the controller: rpc-*, whose error=CODE
 * is the effect "error") and engine job, how many calls were hit.  Next to it, "calls" gives
 * all calls per op (run_result.calls_by_op and the rpc.calls.OP metrics summed), the
 * denominator.  A cell
 * (effect, op) that docs/scenarios.md "Faults" says cannot happen is "applicable": false;
 * an applicable cell that no run hit is listed in "unhit", so a gap in the
 * fault plan is visible at a glance.
 */
#include <inttypes.h>
#include <string.h>

#include "report.h"
#include "report_int.h"

/* The op axis: the S3 ops, then the broker's requests to the controller (rpc-*).  The effect
 * axis: the fake S3's effects, then "error" (an RPC's error=CODE, kept as FS3_EFF_STATUS in
 * run_result.rpc_coverage). */
#define RPT_NOPS (S3_OP_COUNT + MDC_OP_COUNT)
#define RPT_EFF_ERROR FS3_EFF_COUNT
#define RPT_NEFF (FS3_EFF_COUNT + 1)

static const char *const rpt_rpc_names[MDC_OP_COUNT] = {
    "rpc-prepare", "rpc-commit-sso", "rpc-commit-stream", "rpc-trim", "rpc-delete-stream",
};
static const char *const rpt_rpc_metrics[MDC_OP_COUNT] = {
    "rpc.calls.prepare", "rpc.calls.commit-sso", "rpc.calls.commit-stream", "rpc.calls.trim",
    "rpc.calls.delete-stream",
};

struct rpt_matrix {
    uint64_t n[RPT_NEFF][RPT_NOPS][S3_JOB_COUNT];
    uint64_t calls[RPT_NOPS]; /* all calls, hit or not */
};

static const char *rpt_op_name(int op)
{
    return op < S3_OP_COUNT ? s3_op_name(op) : rpt_rpc_names[op - S3_OP_COUNT];
}

static const char *rpt_eff_name(int e) { return e == RPT_EFF_ERROR ? "error" : rpt_effect_name(e); }

/* An S3 op takes the fake S3's effects; an RPC timeout, lost, stall, delay= and error=. */
static bool rpt_applies(int e, int op)
{
    if (op < S3_OP_COUNT)
        return e != RPT_EFF_ERROR && rpt_effect_applies(e, op);
    return e == RPT_EFF_ERROR || e == FS3_EFF_TIMEOUT || e == FS3_EFF_LOST ||
           e == FS3_EFF_STALL || e == FS3_EFF_DELAY;
}

static int64_t rpt_metric(const struct run_result *r, const char *name)
{
    for (size_t i = 0; i < r->nmetrics; i++)
        if (r->metrics[i].name && strcmp(r->metrics[i].name, name) == 0)
            return r->metrics[i].value;
    return 0;
}

static void rpt_matrix_sum(struct rpt_matrix *m, struct run_result *const *runs, size_t nruns)
{
    memset(m, 0, sizeof *m);
    for (size_t i = 0; i < nruns; i++) {
        for (int op = 0; op < S3_OP_COUNT; op++)
            m->calls[op] += runs[i]->calls_by_op[op];
        for (int op = 0; op < MDC_OP_COUNT; op++) {
            int64_t v = rpt_metric(runs[i], rpt_rpc_metrics[op]);
            m->calls[S3_OP_COUNT + op] += v > 0 ? (uint64_t)v : 0;
        }
    }
    for (size_t i = 0; i < nruns; i++)
        for (int e = 0; e < FS3_EFF_COUNT; e++)
            for (int j = 0; j < S3_JOB_COUNT; j++) {
                for (int op = 0; op < S3_OP_COUNT; op++)
                    m->n[e][op][j] += runs[i]->coverage[e][op][j];
                for (int op = 0; op < MDC_OP_COUNT; op++)
                    m->n[e == FS3_EFF_STATUS ? RPT_EFF_ERROR : e][S3_OP_COUNT + op][j] +=
                        runs[i]->rpc_coverage[e][op][j];
            }
}

static uint64_t rpt_cell(const struct rpt_matrix *m, int e, int op)
{
    uint64_t n = 0;
    for (int j = 0; j < S3_JOB_COUNT; j++)
        n += m->n[e][op][j];
    return n;
}

/* {"total": n, "by_job": {...}} of one (effect, op) cell. */
static void rpt_cov_cell(FILE *f, const struct rpt_matrix *m, int e, int op)
{
    fprintf(f, "{\"total\": %" PRIu64, rpt_cell(m, e, op));
    if (e != FS3_EFF_NONE)
        fprintf(f, ", \"applicable\": %s", rpt_applies(e, op) ? "true" : "false");
    fputs(", \"by_job\": {", f);
    for (int j = 0; j < S3_JOB_COUNT; j++)
        fprintf(f, "%s\"%s\": %" PRIu64, j ? ", " : "", s3_job_name(j), m->n[e][op][j]);
    fputs("}}", f);
}

static void rpt_cov_names(FILE *f, struct rpt_matrix *m, size_t nruns)
{
    size_t hit = 0, applicable = 0;

    for (int e = 1; e < RPT_NEFF; e++)
        for (int op = 0; op < RPT_NOPS; op++) {
            applicable += rpt_applies(e, op);
            hit += rpt_cell(m, e, op) > 0;
        }
    fprintf(f, "{\n  \"format\": \"s3sim-coverage\",\n  \"version\": 1,\n  \"runs\": %zu,\n",
            nruns);
    fputs("  \"effects\": [", f);
    for (int e = 1; e < RPT_NEFF; e++)
        fprintf(f, "%s\"%s\"", e > 1 ? ", " : "", rpt_eff_name(e));
    fputs("],\n  \"ops\": [", f);
    for (int op = 0; op < RPT_NOPS; op++)
        fprintf(f, "%s\"%s\"", op ? ", " : "", rpt_op_name(op));
    fputs("],\n  \"jobs\": [", f);
    for (int j = 0; j < S3_JOB_COUNT; j++)
        fprintf(f, "%s\"%s\"", j ? ", " : "", s3_job_name(j));
    fprintf(f, "],\n  \"cells\": {\"total\": %d, \"applicable\": %zu, \"hit\": %zu},\n",
            (RPT_NEFF - 1) * RPT_NOPS, applicable, hit);
}

int rpt_coverage_json(FILE *f, struct run_result *const *runs, size_t nruns)
{
    struct rpt_matrix m;
    bool first = true;

    rpt_matrix_sum(&m, runs, nruns);
    rpt_cov_names(f, &m, nruns);
    fputs("  \"matrix\": {", f);
    for (int e = 1; e < RPT_NEFF; e++) {
        fprintf(f, "%s\n    \"%s\": {", e > 1 ? "," : "", rpt_eff_name(e));
        for (int op = 0; op < RPT_NOPS; op++) {
            fprintf(f, "%s\n      \"%s\": ", op ? "," : "", rpt_op_name(op));
            rpt_cov_cell(f, &m, e, op);
        }
        fputs("\n    }", f);
    }
    fputs("\n  },\n  \"calls\": {", f);
    for (int op = 0; op < RPT_NOPS; op++)
        fprintf(f, "%s\"%s\": %" PRIu64, op ? ", " : "", rpt_op_name(op), m.calls[op]);
    fputs("},\n  \"unhit\": [", f);
    for (int e = 1; e < RPT_NEFF; e++)
        for (int op = 0; op < RPT_NOPS; op++) {
            if (!rpt_applies(e, op) || rpt_cell(&m, e, op) > 0)
                continue;
            fprintf(f, "%s[\"%s\", \"%s\"]", first ? "" : ", ", rpt_eff_name(e), rpt_op_name(op));
            first = false;
        }
    fputs("]\n}\n", f);
    return rpt_finish(f);
}

/* The title of a cell: its count per job, "wal-upload: 3, cleaner: 1". */
static void rpt_cov_title(FILE *f, const struct rpt_matrix *m, int e, int op)
{
    bool any = false;

    fprintf(f, " title=\"%s on %s: ", rpt_eff_name(e), rpt_op_name(op));
    for (int j = 0; j < S3_JOB_COUNT; j++) {
        if (!m->n[e][op][j])
            continue;
        fprintf(f, "%s%s %" PRIu64, any ? ", " : "", s3_job_name(j), m->n[e][op][j]);
        any = true;
    }
    if (!any)
        fputs(rpt_applies(e, op) ? "no run hit this" : "not applicable", f);
    putc('"', f);
}

static void rpt_cov_row(FILE *f, const struct rpt_matrix *m, int e)
{
    uint64_t row = 0;

    fprintf(f, "<tr><th>%s</th>", rpt_eff_name(e));
    for (int op = 0; op < RPT_NOPS; op++) {
        uint64_t n = rpt_cell(m, e, op);
        bool applies = rpt_applies(e, op);
        row += n;
        fprintf(f, "<td class=\"%s\"", n ? "hit" : applies ? "zero" : "na");
        rpt_cov_title(f, m, e, op);
        if (n || applies)
            fprintf(f, ">%" PRIu64 "</td>", n);
        else
            fputs(">n/a</td>", f);
    }
    fprintf(f, "<td class=\"tot\">%" PRIu64 "</td></tr>\n", row);
}

void rpt_html_coverage(FILE *f, struct run_result *const *runs, size_t nruns)
{
    struct rpt_matrix m;
    uint64_t all = 0;

    rpt_matrix_sum(&m, runs, nruns);
    fputs("<table class=\"cov\">\n<thead><tr><th>effect \\ op</th>", f);
    for (int op = 0; op < RPT_NOPS; op++)
        fprintf(f, "<th>%s</th>", rpt_op_name(op));
    fputs("<th>total</th></tr></thead>\n<tbody>\n<tr><th>(all calls)</th>", f);
    for (int op = 0; op < RPT_NOPS; op++) {
        fprintf(f, "<td class=\"calls\">%" PRIu64 "</td>", m.calls[op]);
        all += m.calls[op];
    }
    fprintf(f, "<td class=\"tot\">%" PRIu64 "</td></tr>\n", all);
    for (int e = 1; e < RPT_NEFF; e++)
        rpt_cov_row(f, &m, e);
    fputs("</tbody></table>\n", f);
}
