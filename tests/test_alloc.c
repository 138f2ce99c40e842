/* test_alloc.c - allocation failures over whole runs, in the spirit of
 * SQLite's malloc tests (sim/alloc.h): one failure at every allocation site
 * a run reaches, then failures at a seeded rate.  Each run with a failure
 * must end as an ERROR naming "out of memory" (never a crash, never a PASS
 * or FAIL), and must free every block it allocated: the no-leak check
 * (docs/checks.md) judges it in every build, and under the asan preset
 * LeakSanitizer fails the test too if any of them leaks.  A run in which
 * nothing was injected keeps its verdict. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "err.h"
#include "world_int.h"

/* ---- fixture ---------------------------------------------------------------------- */

/* WAL uploads under faults, SSO and stream compaction, a force split, a
 * broker crash, trims, a stream deletion and the cleaner: most of the engine
 * in ten minutes of virtual time. */
static const char *const engine_text =
    "scenario alloc-engine\n"
    "seed 3\n"
    "deadline 40m\n"
    "set s3.wal.upload.interval.ms 5000\n"
    "set s3.object.block.size 8KiB\n"
    "set s3.min.part.size 64KiB\n"
    "set s3.object.multipart.threshold 128KiB\n"
    "set s3.stream.set.object.compaction.interval.minutes 2\n"
    "set s3.stream.set.object.compaction.stream.split.size 64KiB\n"
    "set s3.stream.object.split.size 64KiB\n"
    "set stream.compaction.minor.size 64KiB\n"
    "set stream.compaction.minor.interval 3m\n"
    "set stream.compaction.major.interval 5m\n"
    "set compaction.sso.prepared.ttl 5m\n"
    "streams 3\n"
    "fault name=flaky put prob=20% from=0s until=6m status=500\n"
    "fault name=slow get from=2m until=4m delay=200ms\n"
    "at 0s load rate=24KiB/s streams=1,2 until=8m\n"
    "at 0s load rate=2KiB/s streams=3 until=8m\n"
    "at 2m10s crash node=broker restart_after=5s\n"
    "at 5m compact sso force\n"
    "at 6m trim stream=1 to=50%\n"
    "at 9m delete-stream stream=2\n"
    "expect converged within=35m\n"
    "expect no-data-loss\n"
    "expect no-orphans\n"
    "expect no-missing\n"
    "expect no-dangling-uploads\n"
    "expect metric compaction.sso.runs >= 1\n"
    "expect metric compaction.force.splits >= 1\n"
    "expect metric compaction.stream.commits >= 1\n"
    "expect metric objects.composite.created >= 1\n"
    "expect metric cleaner.deleted >= 1\n";

struct fx {
    struct scn_file *file;
    struct scn_spec spec;
};

static void fx_load(struct fx *f, const char *text)
{
    struct scn_error e;
    int rc;
    memset(f, 0, sizeof *f);
    rc = scn_parse_buf("alloc.scn", text, strlen(text), &f->file, &e);
    ck_assert_msg(rc == 0, "parse: %d:%d: %s", e.line, e.col, e.msg);
    rc = scn_resolve(f->file, NULL, NULL, 0, &f->spec, &e);
    ck_assert_msg(rc == 0, "resolve: %s", e.msg);
}

static void fx_free(struct fx *f)
{
    scn_spec_free(&f->spec);
    scn_free(f->file);
}

/* The detail of a run's no-leak check when it failed, else "". */
static const char *leak_of(const struct run_result *r)
{
    for (size_t i = 0; i < r->nchecks; i++)
        if (r->checks[i].name && strcmp(r->checks[i].name, "no-leak") == 0 && !r->checks[i].held)
            return r->checks[i].detail ? r->checks[i].detail : "?";
    return "";
}

/* Runs the world once under whatever injection is set, which is turned off
 * afterwards; returns the verdict, and whether a failure was injected.  A
 * leak fails the test at once (an ERROR run keeps its verdict). */
static enum run_verdict fx_run(struct fx *f, const char *what, bool *injected, char *summary,
                               size_t sz)
{
    struct run_result res;
    enum run_verdict v;
    memset(&res, 0, sizeof res);
    world_run(&f->spec, "alloc.scn", NULL, &res);
    *injected = sim_alloc_injected() > 0;
    sim_alloc_fail_off();
    v = res.verdict;
    snprintf(summary, sz, "%s", res.summary ? res.summary : "");
    ck_assert_msg(!*leak_of(&res), "%s: the run (%s) leaked: %s", what, summary, leak_of(&res));
    run_result_free(&res);
    return v;
}

/* The outcome of a run with a failure injected: an ERROR that says why. */
static void assert_nomem(enum run_verdict v, const char *summary, const char *what)
{
    ck_assert_msg(v == RUN_ERROR, "%s: verdict %d (want ERROR): %s", what, (int)v, summary);
    ck_assert_msg(strstr(summary, "out of memory") != NULL, "%s: summary '%s'", what, summary);
}

/* ---- tests ------------------------------------------------------------------------ */

START_TEST(alloc_nth_counts_and_fails_once)
{
    uint64_t before = sim_alloc_failures();
    void *a, *b, *c;
    sim_alloc_fail_nth(2);
    a = malloc(16);
    b = calloc(1, 16);
    c = strdup("x");
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_null(b);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(sim_alloc_injected(), 1);
    ck_assert_uint_eq(sim_alloc_failures(), before + 1);
    free(a);
    free(c);
#ifndef __SANITIZE_ADDRESS__ /* ASan aborts on an impossible size */
    /* A real failure is counted too (an impossible size). */
    a = malloc(SIZE_MAX / 2);
    ck_assert_ptr_null(a);
    ck_assert_uint_eq(sim_alloc_failures(), before + 2);
#endif
    sim_alloc_fail_off();
    ck_assert_uint_eq(sim_alloc_injected(), 0);
}
END_TEST

START_TEST(alloc_baseline_passes)
{
    struct fx f;
    char sum[512];
    bool inj;
    fx_load(&f, engine_text);
    ck_assert_int_eq(fx_run(&f, "no injection", &inj, sum, sizeof sum), RUN_PASS);
    ck_assert(!inj);
    fx_free(&f);
}
END_TEST

/* One failure at the first allocation of every call site the run reaches. */
START_TEST(alloc_every_site_fails_cleanly)
{
    static const void *sites[2048];
    struct fx f;
    char sum[512], what[64];
    size_t n;
    bool inj;
    fx_load(&f, engine_text);
    sim_alloc_record(1);
    ck_assert_int_eq(fx_run(&f, "no injection", &inj, sum, sizeof sum), RUN_PASS);
    sim_alloc_record(0);
    n = sim_alloc_sites(sites, 2048);
    ck_assert_msg(n >= 100, "only %zu allocation sites reached", n);
    for (size_t i = 0; i < n; i++) {
        enum run_verdict v;
        sim_alloc_fail_site(sites[i], 1);
        snprintf(what, sizeof what, "site %zu/%zu (%p)", i + 1, n, sites[i]);
        v = fx_run(&f, what, &inj, sum, sizeof sum);
        if (inj)
            assert_nomem(v, sum, what);
        else /* reached only by the first run (a lazily built table) */
            ck_assert_msg(v == RUN_PASS, "%s not reached, verdict %d: %s", what, (int)v, sum);
    }
    fprintf(stderr, "alloc_every_site_fails_cleanly: %zu sites, one failure each\n", n);
    fx_free(&f);
}
END_TEST

/* Failures at later calls of a site too: each allocation fails with a
 * seeded probability (the rate is low, so that some runs go far). */
START_TEST(alloc_seeded_rate_fails_cleanly)
{
    struct fx f;
    char sum[512], what[64];
    bool inj;
    int injected_runs = 0;
    fx_load(&f, engine_text);
    for (uint64_t seed = 1; seed <= 40; seed++) {
        enum run_verdict v;
        sim_alloc_fail_rate(seed, seed <= 20 ? 20 : 200);
        snprintf(what, sizeof what, "rate seed %llu", (unsigned long long)seed);
        v = fx_run(&f, what, &inj, sum, sizeof sum);
        if (inj) {
            injected_runs++;
            ck_assert_msg(v == RUN_ERROR, "%s: verdict %d (want ERROR): %s", what, (int)v, sum);
        } else {
            ck_assert_msg(v == RUN_PASS, "%s: nothing injected, verdict %d: %s", what, (int)v,
                          sum);
        }
    }
    ck_assert_int_ge(injected_runs, 20);
    fx_free(&f);
}
END_TEST

/* ---- suite ------------------------------------------------------------------------ */

int main(void)
{
    Suite *s = suite_create("alloc");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, alloc_nth_counts_and_fails_once);
    tcase_add_test(tc, alloc_baseline_passes);
    tcase_add_test(tc, alloc_every_site_fails_cleanly);
    tcase_add_test(tc, alloc_seeded_rate_fails_cleanly);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
