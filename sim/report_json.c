/*
 * report_json.c - DIR/results.json (see report.h).
 *
 *   {"format": "s3sim-results", "version": 1,
 *    "summary": {"runs": N, "passed": N, "failed": N, "errors": N},
 *    "runs": [ {one object per run, in the order given}, ... ]}
 *
 * Times are given twice: exact µs ("vtime_us") and formatted ("vtime").
 * Counters that are zero are kept in calls_by_op and calls_by_job (one key per
 * op or job, always) and left out of faults_by_op (only injected effects that
 * happened).
 */
#include <inttypes.h>
#include <math.h>

#include "err.h"
#include "report.h"
#include "report_int.h"

/* "key": with the indentation of a field of a run object. */
static void rpt_key(FILE *f, const char *indent, const char *key)
{
    fprintf(f, "%s", indent);
    rpt_json_str(f, key);
    fputs(": ", f);
}

static void rpt_json_time(FILE *f, const char *indent, const char *key, int64_t us)
{
    char buf[48], fmt[40];

    snprintf(buf, sizeof buf, "%s_us", key);
    rpt_key(f, indent, buf);
    fprintf(f, "%" PRId64 ",\n", us);
    rpt_key(f, indent, key);
    rpt_json_str(f, rpt_fmt_dur(fmt, sizeof fmt, us));
    fputs(",\n", f);
}

static void rpt_json_checks(FILE *f, const struct run_result *r)
{
    fputs("      \"checks\": [", f);
    for (size_t i = 0; i < r->nchecks; i++) {
        const struct run_check *c = &r->checks[i];
        fputs(i ? ",\n        {" : "\n        {", f);
        fputs("\"name\": ", f);
        rpt_json_str(f, c->name);
        fputs(", \"args\": ", f);
        rpt_json_str(f, c->args);
        fprintf(f, ", \"expect_fail\": %s, \"held\": %s, \"ok\": %s, \"detail\": ",
                c->expect_fail ? "true" : "false", c->held ? "true" : "false",
                c->ok ? "true" : "false");
        rpt_json_str(f, c->detail);
        fprintf(f, ", \"line\": %d}", c->line);
    }
    fputs(r->nchecks ? "\n      ],\n" : "],\n", f);
}

static void rpt_json_metrics(FILE *f, const struct run_result *r)
{
    fputs("      \"metrics\": {", f);
    for (size_t i = 0; i < r->nmetrics; i++) {
        fputs(i ? ",\n        " : "\n        ", f);
        rpt_json_str(f, r->metrics[i].name);
        fprintf(f, ": %" PRId64, r->metrics[i].value);
    }
    fputs(r->nmetrics ? "\n      },\n" : "},\n", f);
}

static void rpt_json_counts(FILE *f, const struct run_result *r)
{
    fputs("      \"calls_by_op\": {", f);
    for (int op = 0; op < S3_OP_COUNT; op++)
        fprintf(f, "%s\"%s\": %" PRIu64, op ? ", " : "", s3_op_name(op), r->calls_by_op[op]);
    fputs("},\n", f);
}

/* The faults_by_op object: {"op": {"effect": n, ...}, ...}, hit cells only. */
static void rpt_json_faults(FILE *f, const struct run_result *r)
{
    bool first_op = true;

    fprintf(f, "      \"faults\": %" PRIu64 ",\n      \"faults_by_op\": {", rpt_faults_total(r));
    for (int op = 0; op < S3_OP_COUNT; op++) {
        bool first_eff = true;
        for (int e = 1; e < FS3_EFF_COUNT; e++) {
            if (!r->faults_by_op[op][e])
                continue;
            if (first_eff)
                fprintf(f, "%s\"%s\": {", first_op ? "" : ", ", s3_op_name(op));
            fprintf(f, "%s\"%s\": %" PRIu64, first_eff ? "" : ", ", rpt_effect_name(e),
                    r->faults_by_op[op][e]);
            first_eff = false;
            first_op = false;
        }
        if (!first_eff)
            putc('}', f);
    }
    fputs("},\n      \"calls_by_job\": {", f);
    for (int j = 0; j < S3_JOB_COUNT; j++)
        fprintf(f, "%s\"%s\": %" PRIu64, j ? ", " : "", s3_job_name(j), r->calls_by_job[j]);
    fprintf(f, "},\n      \"bytes_read\": %" PRIu64 ",\n      \"bytes_written\": %" PRIu64 ",\n",
            r->bytes_read, r->bytes_written);
    rpt_json_cost(f, r);
}

static void rpt_json_waits(FILE *f, const struct run_result *r)
{
    char b1[40], b2[40];

    fprintf(f, "      \"hang\": %s,\n", r->hang ? "true" : "false");
    if (r->last_progress_us >= 0)
        rpt_json_time(f, "      ", "last_progress", r->last_progress_us);
    else
        fputs("      \"last_progress_us\": null,\n      \"last_progress\": null,\n", f);
    fputs("      \"waits\": [", f);
    for (size_t i = 0; i < r->nwaits; i++) {
        const struct run_wait *w = &r->waits[i];
        fputs(i ? ",\n        {\"who\": " : "\n        {\"who\": ", f);
        rpt_json_str(f, w->who);
        fputs(", \"what\": ", f);
        rpt_json_str(f, w->what);
        fprintf(f,
                ", \"since_us\": %" PRId64 ", \"since\": \"%s\", \"age_us\": %" PRId64
                ", \"age\": \"%s\"}",
                w->since_us, rpt_fmt_dur(b1, sizeof b1, w->since_us), w->age_us,
                rpt_fmt_dur(b2, sizeof b2, w->age_us));
    }
    fputs(r->nwaits ? "\n      ]\n" : "]\n", f);
}

static void rpt_json_run(FILE *f, const struct run_result *r)
{
    static const char in[] = "      ";
    char trace[65], short_trace[13];

    fputs("    {\n", f);
    rpt_key(f, in, "scenario"), rpt_json_str(f, r->scenario), fputs(",\n", f);
    rpt_key(f, in, "file"), rpt_json_str(f, r->file), fputs(",\n", f);
    rpt_key(f, in, "variant"), rpt_json_str(f, r->variant), fputs(",\n", f);
    fprintf(f, "%s\"seed\": %" PRIu64 ",\n", in, r->seed);
    fprintf(f, "%s\"verdict\": \"%s\",\n", in, rpt_verdict_name(r->verdict));
    rpt_key(f, in, "profile"), rpt_json_str(f, r->profile[0] ? r->profile : NULL), fputs(",\n", f);
    rpt_key(f, in, "summary"), rpt_json_str(f, r->summary), fputs(",\n", f);
    rpt_key(f, in, "replay"), rpt_json_str(f, r->replay), fputs(",\n", f);
    rpt_key(f, in, "trace"), rpt_json_str(f, rpt_trace_hex(trace, sizeof trace, r)),
        fputs(",\n", f);
    rpt_key(f, in, "trace_short"),
        rpt_json_str(f, rpt_trace_hex(short_trace, sizeof short_trace, r)), fputs(",\n", f);
    rpt_json_time(f, in, "vtime", r->vtime_us);
    fprintf(f, "%s\"ops\": %" PRIu64 ",\n", in, r->ops);
    if (isfinite(r->wall_seconds))
        fprintf(f, "%s\"wall_seconds\": %.6f,\n", in, r->wall_seconds);
    else
        fprintf(f, "%s\"wall_seconds\": null,\n", in);
    rpt_key(f, in, "swarm"), rpt_json_str(f, r->swarm), fputs(",\n", f);
    fprintf(f, "%s\"timeline_events\": %zu,\n", in, r->nevents);
    rpt_json_checks(f, r);
    rpt_json_metrics(f, r);
    rpt_json_counts(f, r);
    rpt_json_faults(f, r);
    rpt_json_waits(f, r);
    fputs("    }", f);
}

int rpt_results_json(FILE *f, struct run_result *const *runs, size_t nruns)
{
    size_t pass = 0, fail = 0, error = 0;

    for (size_t i = 0; i < nruns; i++) {
        if (runs[i]->verdict == RUN_PASS)
            pass++;
        else if (runs[i]->verdict == RUN_FAIL)
            fail++;
        else
            error++;
    }
    fprintf(f,
            "{\n  \"format\": \"s3sim-results\",\n  \"version\": 1,\n"
            "  \"summary\": {\"runs\": %zu, \"passed\": %zu, \"failed\": %zu, \"errors\": %zu},\n"
            "  \"runs\": [",
            nruns, pass, fail, error);
    for (size_t i = 0; i < nruns; i++) {
        fputs(i ? ",\n" : "\n", f);
        rpt_json_run(f, runs[i]);
    }
    fputs(nruns ? "\n  ]\n}\n" : "]\n}\n", f);
    return rpt_finish(f);
}
