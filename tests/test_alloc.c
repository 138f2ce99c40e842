/* test_alloc.c - allocation failures over whole runs, in the spirit of
 * SQLite's malloc tests (sim/alloc.h): one failure at every allocation site
 * a run reaches (two worlds: the second for the paths the first leaves out),
 * then failures at a seeded rate.  Each run with a failure
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

/* What the first world leaves out (the hardened profile's guards, a controller crash and
 * snapshots, a lost CreateMultipartUpload and the sweep of its stray upload, an upload left
 * open by a broker crash and aborted at its TTL, the cleaner's second delete, consumers
 * reading through the read path while compaction and trims run, UploadPartCopy as a GET and
 * a PUT, DeleteObjects batches merged across callers): alloc_every_site_fails_cleanly fails
 * the allocation sites of this run that the first one did not reach.  Prepared TTLs of
 * 5 minutes, and the crash spares stream object compaction (its output's TTL is 60 minutes,
 * SCMP_TTL_US): converged within the deadline. */
static const char *const edges_text =
    "scenario alloc-edges\n"
    "seed 5\n"
    "deadline 40m\n"
    "set engine.profile hardened\n"
    "set s3.wal.upload.interval.ms 5000\n"
    "set s3.object.block.size 8KiB\n"
    "set s3.min.part.size 64KiB\n"
    "set s3.object.multipart.threshold 128KiB\n"
    "set s3.object.part.size 64KiB\n"
    "set s3.stream.set.object.compaction.interval.minutes 2\n"
    "set s3.stream.set.object.compaction.stream.split.size 64KiB\n"
    "set s3.stream.object.split.size 64KiB\n"
    "set stream.compaction.minor.size 64KiB\n"
    "set stream.compaction.minor.interval 3m\n"
    "set stream.compaction.major.interval 5m\n"
    "set compaction.sso.prepared.ttl 5m\n"
    "set s3.object.prepared.ttl 5m\n"
    "set s3.part.copy get-put\n"
    "set s3.delete.objects.per.key false\n"
    "set controller.snapshot.records 50\n"
    "streams 3\n"
    "fault name=lost-create mpu-create nth=1 lost\n"
    "fault name=slow-part mpu-part job=wal-upload from=3m until=3m20s delay=30s\n"
    "fault name=slow-put put from=3m until=3m20s delay=30s\n"
    "at 0s load rate=24KiB/s streams=1,2 until=7m\n"
    "at 0s load rate=3KiB/s streams=3 until=7m\n"
    "every 20s from=30s until=8m read stream=all from=100%\n"
    "at 4m read stream=1\n"
    "at 1m40s crash node=controller restart_after=5s\n"
    "at 3m10s crash node=broker restart_after=5s\n"
    "at 5m trim stream=1 to=40%\n"
    "at 6m delete-stream stream=2\n"
    "expect converged within=35m\n"
    "expect no-data-loss\n"
    "expect no-orphans\n"
    "expect no-missing\n"
    "expect no-dangling-uploads\n"
    "expect metric reads.bytes >= 1\n"
    "expect metric s3.calls.list-uploads >= 1\n"
    "expect metric s3.calls.mpu-abort >= 2\n"
    "expect metric objects.composite.created >= 1\n"
    "expect log info match=\"a second time\" count >= 1\n";

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
    fx_load(&f, edges_text);
    ck_assert_msg(fx_run(&f, "no injection", &inj, sum, sizeof sum) == RUN_PASS, "edges: %s", sum);
    ck_assert(!inj);
    fx_free(&f);
}
END_TEST

/* Records the allocation sites a run of f reaches (it must pass); returns how many. */
static size_t fx_sites(struct fx *f, const void **sites, size_t cap)
{
    char sum[512];
    bool inj;
    size_t n;
    sim_alloc_record(1);
    ck_assert_int_eq(fx_run(f, "no injection", &inj, sum, sizeof sum), RUN_PASS);
    sim_alloc_record(0);
    n = sim_alloc_sites(sites, cap);
    ck_assert_msg(n <= cap, "%zu allocation sites, more than %zu", n, cap);
    return n;
}

/* One failure at the first allocation from each of sites[0, n) but those in skip[0, nskip),
 * in a run of f each; returns how many runs. */
static size_t fx_fail_each(struct fx *f, const char *name, const void *const *sites, size_t n,
                           const void *const *skip, size_t nskip)
{
    char sum[512], what[96];
    size_t runs = 0;
    bool inj;
    for (size_t i = 0; i < n; i++) {
        enum run_verdict v;
        bool seen = false;
        for (size_t k = 0; k < nskip && !seen; k++)
            seen = skip[k] == sites[i];
        if (seen)
            continue;
        sim_alloc_fail_site(sites[i], 1);
        snprintf(what, sizeof what, "%s: site %zu/%zu (%p)", name, i + 1, n, sites[i]);
        v = fx_run(f, what, &inj, sum, sizeof sum);
        runs++;
        if (inj)
            assert_nomem(v, sum, what);
        else /* reached only by the first run (a lazily built table) */
            ck_assert_msg(v == RUN_PASS, "%s not reached, verdict %d: %s", what, (int)v, sum);
    }
    return runs;
}

/* One failure at the first allocation of every call site the run reaches; then the same for
 * the sites of the second world that the first did not reach. */
START_TEST(alloc_every_site_fails_cleanly)
{
    static const void *sites[2048], *more[2048];
    struct fx f;
    size_t n, m, runs;
    fx_load(&f, engine_text);
    n = fx_sites(&f, sites, 2048);
    ck_assert_msg(n >= 100, "only %zu allocation sites reached", n);
    fx_fail_each(&f, "engine", sites, n, NULL, 0);
    fx_free(&f);
    fx_load(&f, edges_text);
    m = fx_sites(&f, more, 2048);
    runs = fx_fail_each(&f, "edges", more, m, sites, n);
    ck_assert_msg(runs >= 20, "the second world reached only %zu sites the first did not", runs);
    fprintf(stderr, "alloc_every_site_fails_cleanly: %zu sites, then %zu more, one failure each\n",
                n, runs);
    fx_free(&f);
}
END_TEST

/* Failures at later calls of a site too: each allocation fails with a
 * seeded probability (the rate is low, so that some runs go far). */
/* Runs of f with each allocation failing at ppm per million, seeds [from, to]; returns
 * how many had a failure injected. */
static int fx_rate_runs(struct fx *f, const char *name, uint64_t from, uint64_t to, uint32_t ppm)
{
    char sum[512], what[64];
    bool inj;
    int injected_runs = 0;
    for (uint64_t seed = from; seed <= to; seed++) {
        enum run_verdict v;
        sim_alloc_fail_rate(seed, ppm);
        snprintf(what, sizeof what, "%s: rate seed %llu", name, (unsigned long long)seed);
        v = fx_run(f, what, &inj, sum, sizeof sum);
        if (inj) {
            injected_runs++;
            ck_assert_msg(v == RUN_ERROR, "%s: verdict %d (want ERROR): %s", what, (int)v, sum);
        } else {
            ck_assert_msg(v == RUN_PASS, "%s: nothing injected, verdict %d: %s", what, (int)v,
                          sum);
        }
    }
    return injected_runs;
}

START_TEST(alloc_seeded_rate_fails_cleanly)
{
    struct fx f;
    int injected_runs;
    fx_load(&f, engine_text);
    injected_runs = fx_rate_runs(&f, "engine", 1, 20, 20) + fx_rate_runs(&f, "engine", 21, 40, 200);
    ck_assert_int_ge(injected_runs, 20);
    fx_free(&f);
    fx_load(&f, edges_text);
    ck_assert_int_ge(fx_rate_runs(&f, "edges", 41, 50, 100), 5);
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
