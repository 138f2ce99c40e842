/* test_sim.c - the simulator core: event heap, PRNG, trace, wait registry, payload. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include "payload.h"
#include "prng.h"
#include "trace.h"
#include "wait.h"

/* ---- helpers ---- */

struct fired {
    int order[64];
    int n;
};

static struct fired fired;

static void record_fire(void *arg) { fired.order[fired.n++] = (int)(intptr_t)arg; }

static void drain(struct sim_heap *h)
{
    sim_event_fn fn;
    void *arg;
    int64_t t;
    while (sim_heap_pop(h, &fn, &arg, &t))
        fn(arg);
}

/* ---- heap ---- */

START_TEST(heap_orders_by_time)
{
    struct sim_heap h;
    sim_heap_init(&h);
    fired.n = 0;
    sim_heap_push(&h, 30, record_fire, (void *)3);
    sim_heap_push(&h, 10, record_fire, (void *)1);
    sim_heap_push(&h, 20, record_fire, (void *)2);
    drain(&h);
    ck_assert_int_eq(fired.n, 3);
    ck_assert_int_eq(fired.order[0], 1);
    ck_assert_int_eq(fired.order[1], 2);
    ck_assert_int_eq(fired.order[2], 3);
    sim_heap_free(&h);
}
END_TEST

START_TEST(heap_ties_fire_in_schedule_order)
{
    struct sim_heap h;
    sim_heap_init(&h);
    fired.n = 0;
    for (int i = 0; i < 40; i++)
        sim_heap_push(&h, i % 2 ? 5 : 7, record_fire, (void *)(intptr_t)i);
    drain(&h);
    ck_assert_int_eq(fired.n, 40);
    /* First the 20 odd ones (time 5) in increasing order, then the even ones. */
    for (int i = 0; i < 20; i++) {
        ck_assert_int_eq(fired.order[i], 2 * i + 1);
        ck_assert_int_eq(fired.order[20 + i], 2 * i);
    }
    sim_heap_free(&h);
}
END_TEST

START_TEST(heap_cancel_removes_only_that_event)
{
    struct sim_heap h;
    uint64_t ids[10];
    sim_heap_init(&h);
    fired.n = 0;
    for (int i = 0; i < 10; i++)
        ids[i] = sim_heap_push(&h, 100 - i, record_fire, (void *)(intptr_t)i);
    ck_assert(sim_heap_cancel(&h, ids[3]));
    ck_assert(!sim_heap_cancel(&h, ids[3]));   /* already cancelled */
    ck_assert(!sim_heap_cancel(&h, 0));
    ck_assert_int_eq(sim_heap_len(&h), 9);
    drain(&h);
    ck_assert_int_eq(fired.n, 9);
    for (int i = 0; i < 9; i++)
        ck_assert_int_ne(fired.order[i], 3);
    ck_assert_int_eq(fired.order[0], 9);
    /* A stale id whose slot was reused must not cancel the new event. */
    uint64_t id = sim_heap_push(&h, 1, record_fire, (void *)42);
    ck_assert(!sim_heap_cancel(&h, ids[0]));
    ck_assert_int_eq(sim_heap_len(&h), 1);
    ck_assert(sim_heap_cancel(&h, id));
    sim_heap_free(&h);
}
END_TEST

START_TEST(heap_random_matches_sorted_order)
{
    struct sim_heap h;
    struct sim_prng p;
    static int64_t times[5000];
    int64_t last_t = -1;
    uint64_t last_seq_at_t = 0;
    sim_heap_init(&h);
    sim_prng_seed(&p, 99);
    for (int i = 0; i < 5000; i++) {
        times[i] = (int64_t)(sim_prng_next(&p) % 100);
        sim_heap_push(&h, times[i], record_fire, (void *)(intptr_t)i);
    }
    (void)last_seq_at_t;
    for (int i = 0; i < 5000; i++) {
        sim_event_fn fn;
        void *arg;
        int64_t t;
        ck_assert(sim_heap_pop(&h, &fn, &arg, &t));
        ck_assert_int_ge(t, last_t);
        ck_assert_int_eq(t, times[(intptr_t)arg]);
        last_t = t;
    }
    ck_assert_int_eq(sim_heap_len(&h), 0);
    sim_heap_free(&h);
}
END_TEST

/* ---- prng ---- */

START_TEST(prng_same_seed_same_stream)
{
    struct sim_prng a, b, c;
    sim_prng_seed(&a, 42);
    sim_prng_seed(&b, 42);
    sim_prng_seed(&c, 43);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = sim_prng_next(&a);
        ck_assert_uint_eq(x, sim_prng_next(&b));
        differ += x != sim_prng_next(&c);
    }
    ck_assert_int_gt(differ, 990);
}
END_TEST

START_TEST(prng_known_first_value)
{
    /* splitmix64 from 0: the reference implementation's first output. */
    uint64_t st = 0;
    ck_assert_uint_eq(sim_splitmix64(&st), UINT64_C(0xe220a8397b1dcdaf));
}
END_TEST

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
    tcase_add_test(tc, heap_orders_by_time);
    tcase_add_test(tc, heap_ties_fire_in_schedule_order);
    tcase_add_test(tc, heap_cancel_removes_only_that_event);
    tcase_add_test(tc, heap_random_matches_sorted_order);
    tcase_add_test(tc, prng_same_seed_same_stream);
    tcase_add_test(tc, prng_known_first_value);
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
