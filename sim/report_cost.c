/* report_cost.c - what each run costs under the price table (sim/cost.h), in
 * results.json ("cost") and in index.html (a column of the runs table and the
 * "What the runs cost" tables, by op and by engine job). */
#include <inttypes.h>

#include "cost.h"
#include "report.h"
#include "report_int.h"

void rpt_json_cost(FILE *f, const struct run_result *r)
{
    const struct cost_table *t = cost_current();
    struct run_cost c;
    bool first = true;
    cost_of(r, t, &c);
    fputs("      \"cost\": {\"table\": ", f);
    rpt_json_str(f, t->name);
    fprintf(f, ", \"currency\": \"USD\", \"requests\": %.9g, \"storage\": %.9g, "
            "\"total\": %.9g, \"stored_gb_months\": %.9g,\n        \"requests_by_op\": {",
            c.requests, c.storage, c.requests + c.storage, c.gb_months);
    for (int op = 0; op < S3_OP_COUNT; op++) {
        if (!r->calls_by_op[op])
            continue;
        fprintf(f, "%s\"%s\": %.9g", first ? "" : ", ", s3_op_name(op), c.by_op[op]);
        first = false;
    }
    fputs("},\n        \"requests_by_job\": {", f);
    first = true;
    for (int j = 0; j < S3_JOB_COUNT; j++) {
        if (!r->calls_by_job[j])
            continue;
        fprintf(f, "%s\"%s\": %.9g", first ? "" : ", ", s3_job_name(j), c.by_job[j]);
        first = false;
    }
    fputs("}},\n", f);
}

static void rpt_usd(FILE *f, double v)
{
    fprintf(f, "<td data-v=\"%.9g\" class=\"num\">%s%.6f</td>", v, v > 0 ? "$" : "", v);
}

void rpt_html_cost_cell(FILE *f, const struct run_result *r)
{
    struct run_cost c;
    cost_of(r, cost_current(), &c);
    fprintf(f, "<td data-v=\"%.9g\" class=\"num\" title=\"requests $%.6f + storage $%.6f\">"
            "$%.6f</td>", c.requests + c.storage, c.requests, c.storage, c.requests + c.storage);
}

/* One table: a row per run, a column per op (or job) that any run called. */
static void rpt_cost_table(FILE *f, struct run_result *const *runs, size_t nruns, bool by_job)
{
    int n = by_job ? S3_JOB_COUNT : S3_OP_COUNT;
    bool used[(int)S3_OP_COUNT + (int)S3_JOB_COUNT] = {false};
    for (size_t i = 0; i < nruns; i++)
        for (int k = 0; k < n; k++)
            used[k] |= (by_job ? runs[i]->calls_by_job[k] : runs[i]->calls_by_op[k]) != 0;
    fprintf(f, "<h3>Request cost by %s</h3>\n<table class=\"sortable\"><thead><tr><th>run</th>",
            by_job ? "engine job" : "S3 op");
    if (!by_job)
        fputs("<th>requests</th><th>storage</th><th>GB-months</th>", f);
    for (int k = 0; k < n; k++)
        if (used[k])
            fprintf(f, "<th>%s</th>", by_job ? s3_job_name(k) : s3_op_name(k));
    fputs("</tr></thead><tbody>\n", f);
    for (size_t i = 0; i < nruns; i++) {
        struct run_cost c;
        cost_of(runs[i], cost_current(), &c);
        fputs("<tr><td>", f);
        rpt_xml_str(f, runs[i]->scenario, false);
        putc(' ', f);
        rpt_xml_str(f, runs[i]->variant, false);
        fprintf(f, " seed=%" PRIu64 "</td>", runs[i]->seed);
        if (!by_job) {
            rpt_usd(f, c.requests);
            rpt_usd(f, c.storage);
            fprintf(f, "<td data-v=\"%.9g\" class=\"num\">%.6f</td>", c.gb_months, c.gb_months);
        }
        for (int k = 0; k < n; k++)
            if (used[k])
                rpt_usd(f, by_job ? c.by_job[k] : c.by_op[k]);
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
}

void rpt_html_cost(FILE *f, struct run_result *const *runs, size_t nruns)
{
    const struct cost_table *t = cost_current();
    fputs("<h2>What the runs cost</h2>\n<p>Under the price table <code>", f);
    rpt_xml_str(f, t->name, false);
    fprintf(f, "</code> (USD; storage $%.6g per GB-month): requests are priced per 1,000 by op "
            "(failed and faulted calls too), storage is the bucket's bytes integrated over the "
            "run's virtual time. <code>--prices FILE</code> picks another table.</p>\n",
            t->storage_gb_month);
    rpt_cost_table(f, runs, nruns, false);
    rpt_cost_table(f, runs, nruns, true);
}
