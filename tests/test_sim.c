/* test_sim.c - the simulator core: trace, wait registry, payload (the event heap
 * and the PRNG are the base library's: test_base.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "payload.h"
#include "trace.h"
#include "wait.h"

/* ---- trace ---- */

START_TEST(trace_hash_depends_on_every_line)
{
    struct sim_trace a, b, c;
    sim_trace_init(&a, NULL);
    sim_trace_init(&b, NULL);
    sim_trace_init(&c, NULL);
    sim_trace_line(&a, 1, "s3", "put k1 200");
    sim_trace_line(&b, 1, "s3", "put k1 200");
    sim_trace_line(&c, 1, "s3", "put k1 500");
    ck_assert_str_eq(sim_trace_finish(&a), sim_trace_finish(&b));
    ck_assert_str_ne(sim_trace_finish(&a), sim_trace_finish(&c));
    ck_assert_int_eq(strlen(a.hex), 64);
    sim_trace_free(&a);
    sim_trace_free(&b);
    sim_trace_free(&c);
}
END_TEST

START_TEST(trace_empty_is_sha256_of_nothing)
{
    struct sim_trace t;
    sim_trace_init(&t, NULL);
    ck_assert_str_eq(sim_trace_finish(&t),
                     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sim_trace_free(&t);
}
END_TEST

/* ---- waits ---- */

START_TEST(waits_track_pending_and_progress)
{
    struct sim_waits w;
    sim_waits_init(&w);
    uint64_t a = sim_waits_begin(&w, 10, "wal upload 1", "put of k1");
    uint64_t b = sim_waits_begin(&w, 20, "compaction run 1", "plan 1");
    ck_assert_uint_ne(a, 0);
    ck_assert_uint_ne(a, b);
    ck_assert_int_eq(w.n, 2);
    ck_assert_int_eq(w.last_progress, -1);
    sim_waits_update(&w, b, "plan 2");
    ck_assert_str_eq(w.v[1].what, "plan 2");
    sim_waits_end(&w, 30, a);
    ck_assert_int_eq(w.n, 1);
    ck_assert_int_eq(w.last_progress, 30);
    ck_assert_str_eq(sim_waits_oldest(&w)->who, "compaction run 1");
    ck_assert_int_eq(sim_waits_oldest(&w)->since, 20);
    sim_waits_end(&w, 40, a); /* unknown now: ignored */
    ck_assert_int_eq(w.last_progress, 30);
    sim_waits_free(&w);
}
END_TEST

/* ---- payload ---- */

START_TEST(payload_is_pure_and_detects_changes)
{
    uint8_t a[1000], b[1000];
    sim_payload_fill(7, 3, 100, a, sizeof a);
    sim_payload_fill(7, 3, 100, b, sizeof b);
    ck_assert_mem_eq(a, b, sizeof a);
    ck_assert_int_eq(sim_payload_check(7, 3, 100, a, sizeof a), -1);
    sim_payload_fill(7, 3, 101, b, sizeof b);
    ck_assert_int_ne(memcmp(a, b, sizeof a), 0);
    a[517] ^= 1;
    ck_assert_int_eq(sim_payload_check(7, 3, 100, a, sizeof a), 517);
    ck_assert_int_eq(sim_payload_check(8, 3, 100, b, 13), 0);
}
END_TEST

static Suite *sim_suite(void)
{
    Suite *s = suite_create("sim");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, trace_hash_depends_on_every_line);
    tcase_add_test(tc, trace_empty_is_sha256_of_nothing);
    tcase_add_test(tc, waits_track_pending_and_progress);
    tcase_add_test(tc, payload_is_pure_and_detects_changes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sim_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
