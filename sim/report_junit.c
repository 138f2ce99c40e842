/*
 * report_junit.c - DIR/junit.xml (see report.h).
 *
 *   <testsuites name="s3sim" tests failures errors time>
 *     <testsuite name="FILE" tests failures errors skipped time file package>   one per scenario
 * file <testcase name="VARIANT seed=N" classname="scenarios.field.x" time>     one per run <failure
 * message="check=...; replay: ..." type="check">details</failure>  (FAIL) <error message="..."
 * type="internal">details</error>                      (ERROR) <system-out>t=... ops=... trace=...
 * replay: ...</system-out>
 *
 * Written to the schema Jenkins' xunit plugin validates with (junit-10.xsd),
 * which GitLab also reads: that schema allows no `skipped` on <testsuites>
 * and no `file` on <testcase>, so those go on <testsuite> only.  Suites come
 * in the order their file first appears among the runs; testcases in run
 * order.  "time" is the runs' wall time in seconds.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "report.h"
#include "report_int.h"

struct rpt_jrun {
    const char *file; /* the run's file, "" if none */
    size_t idx;       /* index into runs[] */
};

struct rpt_jsuite {
    size_t start, len; /* a slice of the sorted rpt_jrun array */
};

static int rpt_jrun_cmp(const void *a, const void *b)
{
    const struct rpt_jrun *x = a, *y = b;
    int c = strcmp(x->file, y->file);
    if (c)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int rpt_jsuite_cmp_arg(const struct rpt_jrun *v, const void *a, const void *b)
{
    const struct rpt_jsuite *x = a, *y = b;
    size_t i = v[x->start].idx, j = v[y->start].idx;
    return i < j ? -1 : i > j;
}

static double rpt_secs(const struct run_result *r)
{
    return isfinite(r->wall_seconds) && r->wall_seconds > 0 ? r->wall_seconds : 0.0;
}

/* classname: the file path without ".scn", '/' turned to '.', leading "./"
 * and '/' dropped: "scenarios/field/x.scn" -> "scenarios.field.x". */
static void rpt_classname(FILE *f, const char *file)
{
    size_t n = strlen(file);
    char *c;

    while (file[0] == '.' && file[1] == '/')
        file += 2, n -= 2;
    while (file[0] == '/')
        file++, n--;
    if (n > 4 && strcmp(file + n - 4, ".scn") == 0)
        n -= 4;
    c = strndup(file, n);
    if (!c) {
        rpt_xml_str(f, file, true);
        return;
    }
    for (char *p = c; *p; p++)
        if (*p == '/')
            *p = '.';
    rpt_xml_str(f, *c ? c : "scenario", true);
    free(c);
}

/* The failure text: the failing checks, the waits of a hang, the replay. */
static void rpt_jdetails(FILE *f, const struct run_result *r)
{
    char b1[40], b2[40];

    rpt_xml_str(f, r->summary, false);
    fputs("\n\nchecks that failed:\n", f);
    for (size_t i = 0; i < r->nchecks; i++) {
        const struct run_check *c = &r->checks[i];
        if (c->ok)
            continue;
        fprintf(f, "  line %d: %s", c->line, c->expect_fail ? "expect-fail " : "");
        rpt_xml_str(f, c->name, false);
        if (c->args && *c->args) {
            putc(' ', f);
            rpt_xml_str(f, c->args, false);
        }
        fprintf(f, " (%s): ", c->held ? "held" : "did not hold");
        rpt_xml_str(f, c->detail, false);
        putc('\n', f);
    }
    if (r->hang || r->nwaits) {
        fprintf(f, "\n%s; last progress %s%s; pending waits (%zu):\n",
                r->hang ? "hang found" : "waits pending", r->last_progress_us >= 0 ? "at " : "",
                r->last_progress_us >= 0 ? rpt_fmt_dur(b1, sizeof b1, r->last_progress_us)
                                         : "never",
                r->nwaits);
        for (size_t i = 0; i < r->nwaits; i++) {
            fputs("  ", f);
            rpt_xml_str(f, r->waits[i].who, false);
            fputs(" waits for ", f);
            rpt_xml_str(f, r->waits[i].what, false);
            fprintf(f, " (since %s, for %s)\n", rpt_fmt_dur(b1, sizeof b1, r->waits[i].since_us),
                    rpt_fmt_dur(b2, sizeof b2, r->waits[i].age_us));
        }
    }
    fputs("\nreplay: ", f);
    rpt_xml_str(f, r->replay, false);
    putc('\n', f);
}

static void rpt_jcase(FILE *f, const struct run_result *r)
{
    char b[40], trace[13];

    fputs("    <testcase name=\"", f);
    rpt_xml_str(f, r->variant ? r->variant : "base", true);
    fprintf(f, " seed=%" PRIu64 "\" classname=\"", r->seed);
    rpt_classname(f, r->file ? r->file : "");
    fprintf(f, "\" time=\"%.3f\">\n", rpt_secs(r));
    if (r->verdict != RUN_PASS) {
        const char *tag = r->verdict == RUN_FAIL ? "failure" : "error";
        fprintf(f, "      <%s message=\"", tag);
        rpt_xml_str(f, r->summary && *r->summary ? r->summary : rpt_verdict_name(r->verdict), true);
        fputs("; replay: ", f);
        rpt_xml_str(f, r->replay, true);
        fprintf(f, "\" type=\"%s\">",
                r->verdict == RUN_FAIL ? (r->hang ? "hang" : "check") : "internal");
        rpt_jdetails(f, r);
        fprintf(f, "</%s>\n", tag);
    }
    fprintf(f, "      <system-out>%s ", rpt_verdict_name(r->verdict));
    rpt_xml_str(f, r->variant ? r->variant : "base", false);
    fprintf(f, " seed=%" PRIu64 " t=%s ops=%" PRIu64 " trace=%s\nreplay: ", r->seed,
            rpt_fmt_dur(b, sizeof b, r->vtime_us), r->ops, rpt_trace_hex(trace, sizeof trace, r));
    rpt_xml_str(f, r->replay, false);
    fputs("</system-out>\n    </testcase>\n", f);
}

static void rpt_jsuite(FILE *f, struct run_result *const *runs, const struct rpt_jrun *v,
                       const struct rpt_jsuite *s)
{
    size_t fail = 0, err = 0;
    double t = 0;

    for (size_t k = 0; k < s->len; k++) {
        const struct run_result *r = runs[v[s->start + k].idx];
        fail += r->verdict == RUN_FAIL;
        err += r->verdict == RUN_ERROR;
        t += rpt_secs(r);
    }
    fputs("  <testsuite name=\"", f);
    rpt_xml_str(f, *v[s->start].file ? v[s->start].file : "(no file)", true);
    fprintf(f,
            "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"0\" time=\"%.3f\" file=\"",
            s->len, fail, err, t);
    rpt_xml_str(f, v[s->start].file, true);
    fputs("\" package=\"", f);
    rpt_classname(f, v[s->start].file);
    fputs("\">\n", f);
    for (size_t k = 0; k < s->len; k++)
        rpt_jcase(f, runs[v[s->start + k].idx]);
    fputs("  </testsuite>\n", f);
}

/* Sorts the suites by first run (insertion sort: few files, often sorted). */
static void rpt_jsuite_sort(const struct rpt_jrun *v, struct rpt_jsuite *s, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct rpt_jsuite x = s[i];
        size_t j = i;
        while (j > 0 && rpt_jsuite_cmp_arg(v, &s[j - 1], &x) > 0) {
            s[j] = s[j - 1];
            j--;
        }
        s[j] = x;
    }
}

int rpt_junit(FILE *f, struct run_result *const *runs, size_t nruns)
{
    struct rpt_jrun *v = calloc(nruns ? nruns : 1, sizeof *v);
    struct rpt_jsuite *s = calloc(nruns ? nruns : 1, sizeof *s);
    size_t ns = 0, fail = 0, err = 0;
    double t = 0;
    int rc;

    if (!v || !s) {
        rc = ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < nruns; i++) {
        v[i].file = runs[i]->file ? runs[i]->file : "";
        v[i].idx = i;
        fail += runs[i]->verdict == RUN_FAIL;
        err += runs[i]->verdict == RUN_ERROR;
        t += rpt_secs(runs[i]);
    }
    qsort(v, nruns, sizeof *v, rpt_jrun_cmp);
    for (size_t i = 0; i < nruns; i++) {
        if (i == 0 || strcmp(v[i].file, v[i - 1].file) != 0)
            s[ns++] = (struct rpt_jsuite){.start = i, .len = 0};
        s[ns - 1].len++;
    }
    rpt_jsuite_sort(v, s, ns);
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<testsuites name=\"s3sim\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
            "time=\"%.3f\">\n",
            nruns, fail, err, t);
    for (size_t i = 0; i < ns; i++)
        rpt_jsuite(f, runs, v, &s[i]);
    fputs("</testsuites>\n", f);
    rc = rpt_finish(f);
out:
    free(v);
    free(s);
    return rc;
}
