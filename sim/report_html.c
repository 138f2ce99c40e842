/*
 * report_html.c - DIR/index.html (see report.h).
 *
 * One self-contained page: inline CSS, a few lines of inline JS for sorting,
 * inline SVG; no URL, no external script, font or image, so it opens from a
 * CI artifact without network.  Layout:
 *
 *   summary line
 *   table of runs (sortable; failing runs first)
 *   fault coverage matrix (report_cov.c)
 *   one section per failing run (every run with report_all):
 *     replay command, timeline (report_svg.c), checks, pending waits,
 *     S3 calls by op and injected effect, calls by job, metrics
 */
#include <inttypes.h>
#include <stdlib.h>

#include "err.h"
#include "report.h"
#include "report_int.h"

static const char rpt_css[] =
    "body{font:13px/1.45 system-ui,sans-serif;margin:16px;color:#222}\n"
    "h1{font-size:20px}h2{font-size:16px;margin-top:24px}h3{font-size:14px}\n"
    "table{border-collapse:collapse;margin:6px 0}\n"
    "th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}\n"
    "th{background:#f0f0f0;white-space:nowrap}table.sortable th{cursor:pointer}\n"
    "table.sortable th:after{content:' \\2195';color:#aaa;font-size:10px}\n"
    "table.runs td{white-space:nowrap}table.runs td.why{white-space:normal;min-width:20em}\n"
    "table.runs td.file{white-space:normal;word-break:break-all;min-width:12em}\n"
    ".PASS{color:#176f2c;font-weight:bold}.FAIL,.ERROR{color:#b00020;font-weight:bold}\n"
    "tr.bad td{background:#fde8e8}td.num{text-align:right}\n"
    "pre{background:#f6f6f6;padding:6px;overflow-x:auto;white-space:pre-wrap}\n"
    "section.run{border-top:2px solid #ccc;margin-top:20px}\n"
    "div.cols{display:flex;flex-wrap:wrap;gap:8px 32px;align-items:flex-start}\n"
    "table.cov td{text-align:right;min-width:2.5em}td.hit{background:#ffd7c2}\n"
    "td.zero{color:#999;background:#e6e6e6}td.na{color:#ccc}td.calls{color:#555}"
    "td.tot{font-weight:bold}\n"
    "svg.tl{display:block;border:1px solid #ccc;background:#fff;margin:8px 0}\n"
    "svg .r0{fill:#fafafa}svg .r1{fill:#eef0f3}svg .lab{font-size:11px;fill:#333}"
    "svg .wlab{fill:#a35a00}\n"
    "svg .tick,svg .legend text{font-size:10px;fill:#555}svg .grid{stroke:#d8d8d8}\n"
    "svg .k,svg .s3{fill:#4a7fc1}svg .f{fill:#d62728;stroke:#600;stroke-width:.6}"
    "svg .x{fill:#ff9900;stroke:#8a4b00;stroke-width:.6}\n"
    "svg .bk{fill:#4a7fc1;opacity:.75}svg .bf{fill:#d62728}svg .bx{fill:#ff9900}\n"
    "svg .wal,svg .bwal{fill:#2a9d8f}svg .sso,svg .bsso{fill:#7b4fb0}"
    "svg .stream,svg .bstream{fill:#3a9d3a}svg .cleaner,svg .bcleaner{fill:#8c6d31}"
    "svg .crash,svg .bcrash{fill:#111}svg .action,svg .baction{fill:#888}"
    "svg .wait,svg .bwait{fill:#e8a33c;opacity:.85}\n"
    "svg .hang{stroke:#b00020;stroke-width:2}"
    "svg .prog{stroke:#176f2c;stroke-width:1.5;stroke-dasharray:4 3}\n";

/* Click a header to sort by that column (data-v: numeric key); again to
 * reverse. */
static const char rpt_js[] =
    "document.querySelectorAll('table.sortable th').forEach(function(th){\n"
    " th.addEventListener('click',function(){\n"
    "  var tb=th.closest('table').tBodies[0],rows=Array.prototype.slice.call(tb.rows),\n"
    "      i=th.cellIndex,d=th.getAttribute('data-dir')==='a'?-1:1;\n"
    "  th.setAttribute('data-dir',d===1?'a':'d');\n"
    "  rows.sort(function(a,b){var x=a.cells[i],y=b.cells[i],u=x.getAttribute('data-v'),"
    "v=y.getAttribute('data-v');\n"
    "   if(u!==null&&v!==null)return d*(parseFloat(u)-parseFloat(v));\n"
    "   return d*x.textContent.localeCompare(y.textContent);});\n"
    "  rows.forEach(function(r){tb.appendChild(r);});});});\n";

static bool rpt_detailed(const struct run_result *r, bool report_all)
{
    return report_all || rpt_failing(r);
}

static void rpt_td(FILE *f, const char *s)
{
    fputs("<td>", f);
    rpt_xml_str(f, s, false);
    fputs("</td>", f);
}

static void rpt_run_row(FILE *f, const struct run_result *r, size_t idx, bool link)
{
    char b[40];
    const char *v = rpt_verdict_name(r->verdict);

    fprintf(f, "<tr%s><td data-v=\"%d\" class=\"%s\">", rpt_failing(r) ? " class=\"bad\"" : "",
            rpt_failing(r) ? 0 : 1, v);
    if (link)
        fprintf(f, "<a href=\"#run-%zu\">%s</a>", idx, v);
    else
        fputs(v, f);
    fputs("</td>", f);
    rpt_td(f, r->scenario);
    rpt_td(f, r->variant);
    fprintf(f, "<td data-v=\"%" PRIu64 "\" class=\"num\">%" PRIu64 "</td>", r->seed, r->seed);
    fprintf(f, "<td data-v=\"%" PRId64 "\" class=\"num\">%s</td>", r->vtime_us,
            rpt_fmt_dur(b, sizeof b, r->vtime_us));
    fprintf(f, "<td data-v=\"%" PRIu64 "\" class=\"num\">%" PRIu64 "</td>", r->ops, r->ops);
    fprintf(f, "<td data-v=\"%" PRIu64 "\" class=\"num\">%" PRIu64 "</td>", rpt_faults_total(r),
            rpt_faults_total(r));
    rpt_html_cost_cell(f, r);
    fprintf(f, "<td><code>%s</code></td>", rpt_trace_hex(b, 13, r));
    fputs("<td class=\"why\">", f);
    rpt_xml_str(f, r->summary, false);
    fputs("</td><td class=\"file\">", f);
    rpt_xml_str(f, r->file, false);
    fputs("</td></tr>\n", f);
}

/* The runs table: failing runs first, each group in run order. */
static void rpt_runs_table(FILE *f, struct run_result *const *runs, size_t nruns, bool all)
{
    fputs("<table class=\"runs sortable\"><thead><tr><th>verdict</th><th>scenario</th>"
          "<th>variant</th><th>seed</th><th>virtual time</th><th>S3 calls</th><th>faults</th>"
          "<th>S3 cost</th>"
          "<th>trace</th><th>reason</th><th>file</th></tr></thead>\n<tbody>\n",
          f);
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < nruns; i++)
            if (rpt_failing(runs[i]) == (pass == 0))
                rpt_run_row(f, runs[i], i, rpt_detailed(runs[i], all));
    fputs("</tbody></table>\n", f);
}

static void rpt_checks_table(FILE *f, const struct run_result *r)
{
    fputs("<h4>Checks</h4>\n<table><thead><tr><th>line</th><th>check</th><th>arguments</th>"
          "<th>expect-fail</th><th>held</th><th>result</th><th>detail</th></tr></thead><tbody>\n",
          f);
    for (size_t i = 0; i < r->nchecks; i++) {
        const struct run_check *c = &r->checks[i];
        fprintf(f, "<tr%s><td class=\"num\">%d</td>", c->ok ? "" : " class=\"bad\"", c->line);
        rpt_td(f, c->name);
        rpt_td(f, c->args);
        fprintf(f, "<td>%s</td><td>%s</td><td class=\"%s\">%s</td>", c->expect_fail ? "yes" : "",
                c->held ? "held" : "did not hold", c->ok ? "PASS" : "FAIL",
                c->ok ? "ok" : "FAILED");
        rpt_td(f, c->detail);
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
}

static void rpt_waits_table(FILE *f, const struct run_result *r)
{
    char b1[40], b2[40];

    if (!r->nwaits && !r->hang)
        return;
    fprintf(f, "<h4>Pending waits (%zu)%s</h4>\n<p>Last progress: %s.</p>\n", r->nwaits,
            r->hang ? ": hang found" : "",
            r->last_progress_us >= 0 ? rpt_fmt_dur(b1, sizeof b1, r->last_progress_us) : "never");
    fputs("<table class=\"sortable\"><thead><tr><th>who</th><th>waits for</th><th>since</th>"
          "<th>age</th></tr></thead><tbody>\n",
          f);
    for (size_t i = 0; i < r->nwaits; i++) {
        const struct run_wait *w = &r->waits[i];
        fputs("<tr>", f);
        rpt_td(f, w->who);
        rpt_td(f, w->what);
        fprintf(f, "<td data-v=\"%" PRId64 "\">%s</td><td data-v=\"%" PRId64 "\">%s</td></tr>\n",
                w->since_us, rpt_fmt_dur(b1, sizeof b1, w->since_us), w->age_us,
                rpt_fmt_dur(b2, sizeof b2, w->age_us));
    }
    fputs("</tbody></table>\n", f);
}

static void rpt_calls_table(FILE *f, const struct run_result *r)
{
    fputs("<h4>S3 calls</h4>\n<table><thead><tr><th>op</th><th>calls</th><th>injected faults"
          "</th></tr></thead><tbody>\n",
          f);
    for (int op = 0; op < S3_OP_COUNT; op++) {
        bool any = false;
        fprintf(f, "<tr><td>%s</td><td class=\"num\">%" PRIu64 "</td><td>", s3_op_name(op),
                r->calls_by_op[op]);
        for (int e = 1; e < FS3_EFF_COUNT; e++)
            if (r->faults_by_op[op][e]) {
                fprintf(f, "%s%s %" PRIu64, any ? ", " : "", rpt_effect_name(e),
                        r->faults_by_op[op][e]);
                any = true;
            }
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table>\n</div><div>\n<h4>S3 calls by engine job</h4>\n<table><tbody>\n", f);
    for (int j = 0; j < S3_JOB_COUNT; j++)
        fprintf(f, "<tr><td>%s</td><td class=\"num\">%" PRIu64 "</td></tr>\n", s3_job_name(j),
                r->calls_by_job[j]);
    fprintf(f,
            "<tr><td>bytes read</td><td class=\"num\">%" PRIu64 "</td></tr>\n"
            "<tr><td>bytes written</td><td class=\"num\">%" PRIu64 "</td></tr>\n"
            "</tbody></table>\n",
            r->bytes_read, r->bytes_written);
}

static void rpt_metrics_table(FILE *f, const struct run_result *r)
{
    fputs("<h4>Metrics</h4>\n<table class=\"sortable\"><thead><tr><th>metric</th><th>value</th>"
          "</tr></thead><tbody>\n",
          f);
    for (size_t i = 0; i < r->nmetrics; i++) {
        fputs("<tr>", f);
        rpt_td(f, r->metrics[i].name);
        fprintf(f, "<td data-v=\"%" PRId64 "\" class=\"num\">%" PRId64 "</td></tr>\n",
                r->metrics[i].value, r->metrics[i].value);
    }
    fputs("</tbody></table>\n", f);
}

static int rpt_run_section(FILE *f, const struct run_result *r, size_t idx)
{
    char b[40], trace[65];
    int rc;

    fprintf(f, "<section class=\"run\" id=\"run-%zu\">\n<h3><span class=\"%s\">%s</span> ", idx,
            rpt_verdict_name(r->verdict), rpt_verdict_name(r->verdict));
    rpt_xml_str(f, r->scenario, false);
    putc(' ', f);
    rpt_xml_str(f, r->variant, false);
    fprintf(f, " seed=%" PRIu64 "</h3>\n<p>", r->seed);
    rpt_xml_str(f, r->file, false);
    fprintf(f, " &middot; t=%s &middot; %" PRIu64 " S3 calls &middot; trace <code>%s</code></p>\n",
            rpt_fmt_dur(b, sizeof b, r->vtime_us), r->ops, rpt_trace_hex(trace, sizeof trace, r));
    if (r->summary && *r->summary) {
        fputs("<p><b>", f);
        rpt_xml_str(f, r->summary, false);
        fputs("</b></p>\n", f);
    }
    fputs("<pre class=\"replay\">", f);
    rpt_xml_str(f, r->replay, false);
    fputs("</pre>\n", f);
    if (r->swarm) {
        fputs("<p>swarm faults: <code>", f);
        rpt_xml_str(f, r->swarm, false);
        fputs("</code></p>\n", f);
    }
    rc = rpt_svg_timeline(f, r);
    rpt_checks_table(f, r);
    rpt_waits_table(f, r);
    fputs("<div class=\"cols\"><div>\n", f);
    rpt_calls_table(f, r);
    fputs("</div><div>\n", f);
    rpt_metrics_table(f, r);
    fputs("</div></div>\n</section>\n", f);
    return rc;
}

int rpt_html(FILE *f, struct run_result *const *runs, size_t nruns, bool report_all)
{
    size_t fail = 0, detailed = 0;
    int rc = 0;

    for (size_t i = 0; i < nruns; i++) {
        fail += rpt_failing(runs[i]);
        detailed += rpt_detailed(runs[i], report_all);
    }
    fprintf(f,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<title>s3sim report: %zu passed, %zu failed</title>\n<style>\n%s</style>\n"
            "</head>\n<body>\n<h1>s3sim report</h1>\n"
            "<p>%zu runs: <span class=\"PASS\">%zu passed</span>, "
            "<span class=\"%s\">%zu failed</span>.</p>\n<h2>Runs</h2>\n",
            nruns - fail, fail, rpt_css, nruns, nruns - fail, fail ? "FAIL" : "", fail);
    rpt_runs_table(f, runs, nruns, report_all);
    fputs("<h2>Fault coverage: injected effect &times; S3 op (all runs)</h2>\n"
          "<p>Each cell counts the calls hit; its hover title splits them by engine job. "
          "A grey 0 is a combination no run injected.</p>\n",
          f);
    rpt_html_coverage(f, runs, nruns);
    rpt_html_cost(f, runs, nruns);
    if (detailed)
        fprintf(f, "<h2>%s</h2>\n", report_all ? "Runs in detail" : "Failing runs");
    for (int pass = 0; pass < 2 && rc == 0; pass++)
        for (size_t i = 0; i < nruns && rc == 0; i++)
            if (rpt_failing(runs[i]) == (pass == 0) && rpt_detailed(runs[i], report_all))
                rc = rpt_run_section(f, runs[i], i);
    fprintf(f, "<script>\n%s</script>\n</body>\n</html>\n", rpt_js);
    if (rc)
        return rc;
    return rpt_finish(f);
}
