/* test_vclock.c - the shared virtual clock of --mode http (sim/vclock.h):
 * it stands still while a loop is awake, and never runs past a sleeping
 * loop's earliest timer however late that loop wakes.  No timed assertion:
 * only "stood still", "did not pass the due" and "moved at all". */
#include <check.h>
#include <stdlib.h>
#include <time.h>

#include "vclock.h"

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

START_TEST(vclock_stands_still_while_a_party_is_awake)
{
    struct sim_vclock *c = sim_vclock_new(0.001);
    const struct env_clock *k = sim_vclock_ops(c);
    int64_t t0 = k->now(k->arg);
    nap_ms(20); /* party 0 is awake from the start (setting up) */
    ck_assert_int_eq(k->now(k->arg), t0);
    k->party(k->arg, 1, true, 0); /* the other one works */
    k->party(k->arg, 0, false, ENV_TIME_NEVER);
    nap_ms(20);
    ck_assert_int_eq(k->now(k->arg), t0);
    k->party(k->arg, 1, false, ENV_TIME_NEVER); /* both asleep: time runs */
    nap_ms(20);
    ck_assert_int_gt(k->now(k->arg), t0);
    sim_vclock_free(c);
}
END_TEST

START_TEST(vclock_never_passes_a_sleeping_due)
{
    struct sim_vclock *c = sim_vclock_new(0.001); /* 20 ms real = 20 s virtual */
    const struct env_clock *k = sim_vclock_ops(c);
    int64_t t0 = k->now(k->arg), due = t0 + 3 * ENV_USEC_PER_SEC, t1;
    k->party(k->arg, 1, false, ENV_TIME_NEVER); /* party 1 sleeps from the start */
    k->party(k->arg, 0, false, due);
    nap_ms(50); /* the loop "wakes late": 50 s of virtual time at this scale */
    ck_assert_int_eq(k->now(k->arg), due);
    /* The other loop's earlier due caps it too, and time never goes back. */
    k->party(k->arg, 0, true, 0);
    k->party(k->arg, 0, false, due + 10 * ENV_USEC_PER_SEC);
    k->party(k->arg, 1, false, due + ENV_USEC_PER_SEC);
    nap_ms(50);
    t1 = k->now(k->arg);
    ck_assert_int_eq(t1, due + ENV_USEC_PER_SEC);
    k->party(k->arg, 1, false, t0); /* a stale due below now */
    ck_assert_int_eq(k->now(k->arg), t1);
    sim_vclock_free(c);
}
END_TEST

/* A request between the loops holds the clock on the wire and in the front's
 * handler (SEND .. PARK, ANSWER .. END), not while it is parked on the
 * front's loop; END forgets it, and a forgotten token changes nothing. */
START_TEST(vclock_stands_still_while_a_request_is_in_transit)
{
    struct sim_vclock *c = sim_vclock_new(0.001);
    const struct env_clock *k = sim_vclock_ops(c);
    int64_t t;
    k->party(k->arg, 0, false, ENV_TIME_NEVER);
    k->party(k->arg, 1, false, ENV_TIME_NEVER); /* both loops asleep */
    k->transit(k->arg, 7, ENV_TRANSIT_SEND);
    t = k->now(k->arg);
    nap_ms(20);
    ck_assert_int_eq(k->now(k->arg), t); /* on the wire */
    k->transit(k->arg, 8, ENV_TRANSIT_SEND);
    k->transit(k->arg, 7, ENV_TRANSIT_PARK);
    nap_ms(20);
    ck_assert_int_eq(k->now(k->arg), t); /* 8 still on the wire */
    k->transit(k->arg, 8, ENV_TRANSIT_END); /* 8 cancelled by the client */
    k->transit(k->arg, 8, ENV_TRANSIT_PARK);   /* arrives late: forgotten, */
    k->transit(k->arg, 8, ENV_TRANSIT_ANSWER); /* nothing held */
    nap_ms(20);
    ck_assert_int_gt(k->now(k->arg), t); /* 7 parked on the front's loop */
    k->transit(k->arg, 7, ENV_TRANSIT_ANSWER);
    t = k->now(k->arg);
    nap_ms(20);
    ck_assert_int_eq(k->now(k->arg), t); /* its answer on the wire */
    k->transit(k->arg, 7, ENV_TRANSIT_END);
    nap_ms(20);
    ck_assert_int_gt(k->now(k->arg), t);
    sim_vclock_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vclock");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;
    tcase_add_test(tc, vclock_stands_still_while_a_party_is_awake);
    tcase_add_test(tc, vclock_never_passes_a_sleeping_due);
    tcase_add_test(tc, vclock_stands_still_while_a_request_is_in_transit);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
