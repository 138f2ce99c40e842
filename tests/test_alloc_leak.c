/* test_alloc_leak.c - the leak gate (sim/alloc.h spans, the `no-leak` check of
 * docs/checks.md): the seam counts what a span allocated and did not free,
 * whoever frees it and whatever the C library allocated on its own; and a
 * world whose run leaks fails with check=no-leak, in a Release build too. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "world_int.h"

/* ---- the seam ---------------------------------------------------------------------- */

/* The compiler may drop a malloc whose block is only freed: each block
 * escapes through here. */
static void *volatile escaped;
static void *esc(void *p)
{
    escaped = p;
    return p;
}

START_TEST(span_counts_blocks_never_freed)
{
    struct sim_alloc_leaks l;
    void *a, *b, *c, *d, *e;
    void *before = esc(malloc(8)); /* outside the span: never counted */
    sim_alloc_span_begin();
    a = esc(malloc(100));
    b = esc(calloc(4, 25));
    c = esc(strdup("leaked"));
    d = esc(strndup("leaked too", 6));
    e = esc(malloc(10));
    ck_assert_uint_eq(sim_alloc_live(), 5);
    free(b);
    free(e);
    free(before);
    ck_assert_uint_eq(sim_alloc_live(), 3);
    sim_alloc_span_end(&l);
    ck_assert_uint_ge(l.allocs, 5); /* and libcheck's own, freed */
    ck_assert_uint_eq(l.blocks, 3);
    ck_assert_uint_eq(l.bytes, 100 + 7 + 7);
    ck_assert_uint_eq(l.lost, 0);
    /* Three sites, in the order of their first leaked block, one block each. */
    ck_assert_uint_eq(l.nsites, 3);
    for (size_t i = 0; i < l.nsites; i++)
        ck_assert_uint_eq(l.sites[i].blocks, 1);
    ck_assert_ptr_ne(l.sites[0].site, l.sites[1].site);
    free(a);
    free(c);
    free(d);
    /* The span ended: nothing is counted any more. */
    ck_assert_uint_eq(sim_alloc_live(), 0);
}
END_TEST

START_TEST(span_realloc_moves_and_frees)
{
    struct sim_alloc_leaks l;
    char *p, *q;
    sim_alloc_span_begin();
    p = esc(malloc(16));
    p = esc(realloc(p, 1 << 20)); /* moves: still one block */
    ck_assert_uint_eq(sim_alloc_live(), 1);
    q = esc(realloc(NULL, 32)); /* a new block */
    ck_assert_uint_eq(sim_alloc_live(), 2);
    q = realloc(q, 0); /* frees it (glibc and ASan answer NULL) */
    ck_assert_ptr_null(q);
    ck_assert_uint_eq(sim_alloc_live(), 1);
    sim_alloc_span_end(&l);
    ck_assert_uint_eq(l.blocks, 1);
    ck_assert_uint_eq(l.bytes, 1 << 20);
    free(p);
}
END_TEST

START_TEST(span_allows_the_c_librarys_blocks)
{
    struct sim_alloc_leaks l;
    char *line = NULL, *ms = NULL;
    size_t cap = 0, mlen = 0;
    FILE *f, *m;
    sim_alloc_span_begin();
    /* Blocks the C library allocates on its own, freed by our code. */
    f = fmemopen((void *)"a line\n", 7, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(getline(&line, &cap, f), 7);
    fclose(f);
    m = open_memstream(&ms, &mlen);
    fputs("text", m);
    fclose(m);
    free(line);
    free(ms);
    sim_alloc_span_end(&l);
    ck_assert_uint_eq(l.blocks, 0);
}
END_TEST

static void *free_it(void *p)
{
    free(p);
    return NULL;
}

START_TEST(span_block_freed_by_another_thread)
{
    struct sim_alloc_leaks l;
    pthread_t th;
    void *p, *kept;
    sim_alloc_threads_ready();
    sim_alloc_span_begin();
    p = esc(malloc(64));
    kept = esc(strdup("a report's"));
    ck_assert_int_eq(pthread_create(&th, NULL, free_it, p), 0);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    sim_alloc_forget(kept); /* kept past the span on purpose */
    sim_alloc_span_end(&l);
    ck_assert_uint_ge(l.allocs, 2);
    ck_assert_uint_eq(l.blocks, 0);
    free(kept);
}
END_TEST

START_TEST(span_nested_ends_at_the_outermost)
{
    struct sim_alloc_leaks l;
    void *p;
    sim_alloc_span_begin();
    sim_alloc_span_begin();
    p = esc(malloc(1));
    sim_alloc_span_end(&l);
    ck_assert_uint_eq(l.blocks, 0); /* not the end yet */
    ck_assert_uint_eq(sim_alloc_live(), 1);
    sim_alloc_span_end(&l);
    ck_assert_uint_eq(l.blocks, 1);
    free(p);
}
END_TEST

/* The pool of src/base/buf.c outlives runs: a buffer parked there is no
 * run's leak; one taken out and kept is the taker's. */
START_TEST(span_pooled_buffer_changes_owner)
{
    struct sim_alloc_leaks l;
    struct buf *b;
    buf_pool_drain();
    sim_alloc_span_begin();
    b = buf_take(2u << 20);
    ck_assert_ptr_nonnull(b);
    buf_unref(b); /* to the pool (Release), or freed (ASan: no pool) */
    sim_alloc_span_end(&l);
    ck_assert_uint_eq(l.blocks, 0);
    sim_alloc_span_begin();
    b = buf_take(2u << 20); /* from the pool when it is on */
    sim_alloc_span_end(&l);
    ck_assert_uint_eq(l.blocks, 2); /* the struct and its bytes */
    buf_unref(b);
    buf_pool_drain();
}
END_TEST

/* ---- a world that leaks ------------------------------------------------------------ */

static const char *const world_text =
    "scenario leak\n"
    "seed 4\n"
    "deadline 2m\n"
    "streams 1\n"
    "at 0s load rate=8KiB/s streams=1 until=1m\n"
    "expect converged within=2m\n"
    "expect no-data-loss\n";

static const char *const world_text_expect_fail =
    "scenario leak\n"
    "seed 4\n"
    "deadline 2m\n"
    "streams 1\n"
    "at 0s load rate=8KiB/s streams=1 until=1m\n"
    "expect converged within=2m\n"
    "expect no-data-loss\n"
    "expect-fail no-leak\n";

/* The test hook: a timer of the run that allocates and frees nothing (the
 * test frees the blocks once judged, for LeakSanitizer's sake). */
static void *leaked[64];
static size_t nleaked;

static void leak_cb(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3 && nleaked < 64; i++)
        leaked[nleaked++] = malloc(1000);
}

static void free_leaked(void)
{
    while (nleaked > 0)
        free(leaked[--nleaked]);
}

/* world_run's steps (world.c), with nleaks timers that leak 3 blocks each
 * inside the run. */
static void run_world(const char *text, int nleaks, struct run_result *res)
{
    struct scn_file *file;
    struct scn_spec spec;
    struct scn_error e;
    struct world *w;
    int rc;
    ck_assert_int_eq(scn_parse_buf("leak.scn", text, strlen(text), &file, &e), 0);
    ck_assert_int_eq(scn_resolve(file, NULL, NULL, 0, &spec, &e), 0);
    memset(res, 0, sizeof *res);
    sim_alloc_span_begin();
    w = world_create(&spec, "leak.scn", NULL, res, &rc);
    ck_assert_ptr_nonnull(w);
    for (int i = 0; i < nleaks; i++)
        env_timer(&w->env, 30000000, leak_cb, NULL);
    world_finish(w);
    world_destroy(w);
    world_leaks_end(&spec, res);
    scn_spec_free(&spec);
    scn_free(file);
}

static const struct run_check *check_of(const struct run_result *r, const char *name)
{
    for (size_t i = 0; i < r->nchecks; i++)
        if (strcmp(r->checks[i].name, name) == 0)
            return &r->checks[i];
    ck_abort_msg("no check %s", name);
    return NULL;
}

START_TEST(world_clean_passes_no_leak)
{
    struct run_result r;
    const struct run_check *c;
    run_world(world_text, 0, &r);
    c = check_of(&r, "no-leak");
    ck_assert_msg(r.verdict == RUN_PASS, "verdict %d: %s", (int)r.verdict,
                  r.summary ? r.summary : "");
    ck_assert(c->held);
    ck_assert_int_eq(c->line, 0); /* implicit */
    ck_assert_msg(strstr(c->detail, "every block the run allocated was freed") != NULL, "%s",
                  c->detail);
    run_result_free(&r);
}
END_TEST

START_TEST(world_leaking_fails_no_leak)
{
    struct run_result r;
    const struct run_check *c;
    run_world(world_text, 2, &r);
    c = check_of(&r, "no-leak");
    ck_assert_msg(r.verdict == RUN_FAIL, "verdict %d: %s", (int)r.verdict,
                  r.summary ? r.summary : "");
    ck_assert(!c->held && !c->ok);
    ck_assert_msg(strstr(r.summary, "check=no-leak: 6 blocks the run allocated") != NULL, "%s",
                  r.summary);
    ck_assert_msg(strstr(r.summary, "(6000 bytes) still live") != NULL, "%s", r.summary);
    ck_assert_msg(strstr(r.summary, "(6)") != NULL, "one site, 6 blocks: %s", r.summary);
    /* Only the leak failed. */
    ck_assert_ptr_null(strstr(r.summary, "check=converged"));
    run_result_free(&r);
    free_leaked();
}
END_TEST

START_TEST(world_expect_fail_no_leak)
{
    struct run_result r;
    run_world(world_text_expect_fail, 1, &r);
    ck_assert_msg(r.verdict == RUN_PASS, "leaking, expect-fail: %s", r.summary ? r.summary : "");
    run_result_free(&r);
    free_leaked();
    run_world(world_text_expect_fail, 0, &r);
    ck_assert_int_eq(r.verdict, RUN_FAIL);
    ck_assert_msg(strstr(r.summary, "check=no-leak: held but expect-fail") != NULL, "%s",
                  r.summary);
    run_result_free(&r);
}
END_TEST

/* world_run itself: the clean file passes, and its result's blocks (kept
 * past the run) are not a leak. */
START_TEST(world_run_judges_no_leak)
{
    struct scn_file *file;
    struct scn_spec spec;
    struct scn_error e;
    struct run_result r;
    ck_assert_int_eq(scn_parse_buf("leak.scn", world_text, strlen(world_text), &file, &e), 0);
    ck_assert_int_eq(scn_resolve(file, NULL, NULL, 0, &spec, &e), 0);
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(world_run(&spec, "leak.scn", NULL, &r), 0);
    ck_assert_msg(r.verdict == RUN_PASS, "%s", r.summary ? r.summary : "");
    ck_assert(check_of(&r, "no-leak")->held);
    run_result_free(&r);
    scn_spec_free(&spec);
    scn_free(file);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("alloc_leak");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, span_counts_blocks_never_freed);
    tcase_add_test(tc, span_realloc_moves_and_frees);
    tcase_add_test(tc, span_allows_the_c_librarys_blocks);
    tcase_add_test(tc, span_block_freed_by_another_thread);
    tcase_add_test(tc, span_nested_ends_at_the_outermost);
    tcase_add_test(tc, span_pooled_buffer_changes_owner);
    tcase_add_test(tc, world_clean_passes_no_leak);
    tcase_add_test(tc, world_leaking_fails_no_leak);
    tcase_add_test(tc, world_expect_fail_no_leak);
    tcase_add_test(tc, world_run_judges_no_leak);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
