/*
 * merge.c - `s3sim merge DIR... --report OUT`: the reports of the shards of one
 * run set (`s3sim run ... --shard K/N --report DIR`) as one report, the one the
 * unsharded run writes (wall times aside: each run keeps the one it had).
 *
 * Each DIR holds the runs.dat its run wrote next to its reports (rundump.h);
 * every run there carries its place in the unsharded order, so the merge puts
 * the runs back in that order and writes the reports with rpt_write().  It
 * refuses (exit 2) shards of different run sets, a run given twice and a run
 * missing (a shard not given): a partial merge would read as a smaller green
 * suite.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cost.h"
#include "err.h"
#include "report.h"
#include "rundump.h"
#include "tools.h"

static int merge_usage(const char *msg, const char *arg)
{
    fprintf(stderr, "s3sim merge: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    fprintf(stderr, "usage: s3sim merge DIR... --report OUT [--report-all] [--prices FILE] [--quiet]\n");
    return 2;
}

struct merge_in {
    struct rundump *d;
    size_t nd;
    struct run_result **by_idx; /* [total] */
    size_t total;
    unsigned nshards;
    bool report_all;
};

/* Checks dump k against the others and places its runs.  Returns 0 or 2. */
static int merge_place(struct merge_in *m, size_t k, const char *dir)
{
    const struct rundump *d = &m->d[k];
    if (k == 0) {
        m->total = d->head.total;
        m->nshards = d->head.shard_n;
        if (!(m->by_idx = calloc(m->total + 1, sizeof *m->by_idx)))
            return 3;
    } else if (d->head.total != m->total || d->head.shard_n != m->nshards) {
        fprintf(stderr, "s3sim merge: %s: shard %u/%u of %zu runs, but the first directory is "
                "of %u shards and %zu runs: not the same run set\n", dir, d->head.shard_k,
                d->head.shard_n, d->head.total, m->nshards, m->total);
        return 2;
    }
    m->report_all |= d->head.report_all;
    for (size_t i = 0; i < d->n; i++) {
        size_t ix = d->idx[i];
        if (m->by_idx[ix]) {
            fprintf(stderr, "s3sim merge: %s: run %zu (%s %s seed=%" PRIu64 ") is given twice\n",
                    dir, ix, d->runs[i].scenario, d->runs[i].variant, d->runs[i].seed);
            return 2;
        }
        m->by_idx[ix] = &d->runs[i];
    }
    return 0;
}

int cmd_merge(int argc, char **argv)
{
    const char **dirs = calloc((size_t)argc + 1, sizeof *dirs);
    const char *out = NULL;
    struct merge_in m = {0};
    size_t ndirs = 0, missing = 0, passed = 0, failed = 0, first_missing = 0;
    bool quiet = false, report_all = false, broke = false;
    int rc = 0;
    if (!dirs)
        return 3;
    for (int i = 1; i < argc && rc == 0; i++) {
        if (strcmp(argv[i], "--report") == 0) {
            if (i + 1 >= argc)
                rc = merge_usage("--report wants a directory", NULL);
            else
                out = argv[++i];
        } else if (strcmp(argv[i], "--prices") == 0) {
            struct cost_table t;
            char why[512];
            if (i + 1 >= argc) {
                rc = merge_usage("--prices wants a price table file", NULL);
            } else if (cost_load(argv[++i], &t, why, sizeof why)) {
                fprintf(stderr, "%s\n", why);
                rc = 2;
            } else {
                cost_use(&t);
            }
        } else if (strcmp(argv[i], "--report-all") == 0) {
            report_all = true;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            quiet = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            rc = merge_usage("unknown option", argv[i]);
        } else {
            dirs[ndirs++] = argv[i];
        }
    }
    if (rc == 0 && !out)
        rc = merge_usage("--report OUT is required", NULL);
    if (rc == 0 && ndirs == 0)
        rc = merge_usage("no report directory given", NULL);
    if (rc == 0 && !(m.d = calloc(ndirs, sizeof *m.d)))
        rc = 3;
    for (size_t k = 0; rc == 0 && k < ndirs; k++) {
        char path[4096], why[1024];
        int lrc;
        snprintf(path, sizeof path, "%s/runs.dat", dirs[k]);
        lrc = rundump_read(path, &m.d[k], why, sizeof why);
        m.nd = k + 1;
        if (lrc) {
            fprintf(stderr, "s3sim merge: %s%s\n", why,
                    lrc == ERR_IO ? " (a report directory of `s3sim run --report`?)" : "");
            rc = lrc == ERR_NOMEM ? 3 : 2;
            break;
        }
        rc = merge_place(&m, k, dirs[k]);
    }
    for (size_t i = 0; rc == 0 && i < m.total; i++)
        if (!m.by_idx[i] && missing++ == 0)
            first_missing = i;
    if (rc == 0 && missing) {
        fprintf(stderr, "s3sim merge: %zu of %zu runs missing (the first is run %zu of the "
                "unsharded order): give the report directory of every one of the %u shards\n",
                missing, m.total, first_missing, m.nshards);
        rc = 2;
    }
    if (rc == 0) {
        struct rundump_head h = {1, 1, m.total, m.report_all || report_all};
        for (size_t i = 0; i < m.total; i++) {
            const struct run_result *r = m.by_idx[i];
            if (r->verdict == RUN_PASS) {
                passed++;
                continue;
            }
            failed++;
            broke |= r->verdict == RUN_ERROR;
            tools_print_result(stdout, r, true, NULL);
        }
        printf("%zu passed, %zu failed\n", passed, failed);
        int wrc = rpt_write(out, m.by_idx, m.total, h.report_all);
        if (wrc == 0)
            wrc = rundump_save(out, &h, m.by_idx, NULL, m.total);
        if (wrc) {
            fprintf(stderr, "s3sim merge: writing the reports into %s failed: %s\n", out,
                    err_str(wrc));
            rc = 3;
        } else {
            if (!quiet)
                fprintf(stderr, "reports: %s/index.html (results.json, junit.xml, coverage.json;"
                        " %zu runs from %zu directories)\n", out, m.total, ndirs);
            rc = broke ? 3 : failed ? 1 : 0;
        }
    }
    for (size_t k = 0; k < m.nd; k++)
        rundump_free(&m.d[k]);
    free(m.d);
    free(m.by_idx);
    free(dirs);
    return rc;
}
