/*
 * test_eng.c - the engine facade (src/eng.c) over the fault shim and the
 * fake S3: append -> WAL upload -> ack -> read back, crash and restart,
 * idleness and metrics.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "clenv.h"
#include "conf.h"
#include "eng.h"
#include "err.h"
#include "fault.h"
#include "fs3.h"
#include "meta.h"

static struct clenv E;
static struct fs3 *S;
static struct fs3_fault *F;
static struct conf CONF;
static struct eng *G;
static int64_t ACKED[4];
static int64_t READ_NEXT;
static int READ_BAD, READ_DONE, READ_RC;

static void payload(void *arg, int64_t stream, int64_t offset, uint8_t *buf, size_t len)
{
    (void)arg;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(stream * 17 + offset * 3 + (int64_t)i);
}

static void on_ack(void *arg, int64_t stream, int64_t base, int64_t count, uint32_t size)
{
    (void)arg;
    (void)size;
    ck_assert_int_eq(base, ACKED[stream]);
    ACKED[stream] = base + count;
}

static const struct eng_hooks HOOKS = {payload, on_ack, NULL, NULL};

static void on_rec(void *arg, int64_t offset, const uint8_t *p, size_t len)
{
    uint8_t want[1024];
    int64_t stream = *(int64_t *)arg;
    if (offset != READ_NEXT || len > sizeof want)
        READ_BAD++;
    payload(NULL, stream, offset, want, len);
    if (memcmp(want, p, len))
        READ_BAD++;
    READ_NEXT = offset + 1;
}

static void on_done(void *arg, int rc)
{
    (void)arg;
    READ_DONE++;
    READ_RC = rc;
}

static void setup(void)
{
    char err[CONF_ERR_MAX];
    clenv_init(&E, 9);
    S = fs3_new(&E.env, NULL);
    F = fs3_fault_new(&E.env, S, NULL, NULL);
    conf_init(&CONF);
    ck_assert_int_eq(conf_set(&CONF, "s3.wal.upload.interval.ms", "1000", err, sizeof err), 0);
    memset(ACKED, 0, sizeof ACKED);
    READ_NEXT = READ_BAD = READ_DONE = READ_RC = 0;
    G = eng_new(&E.env, fs3_fault_ops(F), &CONF, &HOOKS, 3);
    ck_assert_ptr_nonnull(G);
}

static void teardown(void)
{
    eng_free(G);
    fs3_fault_free(F);
    fs3_free(S);
    clenv_fini(&E);
}

static void read_all(int64_t stream, int64_t start, int64_t end)
{
    static int64_t st;
    st = stream;
    READ_NEXT = start;
    READ_DONE = 0;
    ck_assert_int_eq(eng_read(G, stream, start, end, on_rec, on_done, &st), 0);
    clenv_run_until(&E, E.now + 10 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(READ_DONE, 1);
    ck_assert_int_eq(READ_RC, 0);
    ck_assert_int_eq(READ_BAD, 0);
    ck_assert_int_eq(READ_NEXT, end);
}

/* A read without its record or done callback is refused at once: nothing
 * would be told of its records or of its end. */
START_TEST(eng_read_needs_both_callbacks)
{
    static int64_t st = 1;
    ck_assert_int_eq(eng_read(G, 1, 0, 10, NULL, on_done, &st), ERR_INVAL);
    ck_assert_int_eq(eng_read(G, 1, 0, 10, on_rec, NULL, &st), ERR_INVAL);
    ck_assert_int_eq(eng_read(G, 1, 0, 10, NULL, NULL, &st), ERR_INVAL);
}
END_TEST

START_TEST(eng_append_ack_read_back)
{
    ck_assert_int_eq(eng_append(G, 1, 50, 1000, 0), 0);
    ck_assert_int_eq(eng_append(G, 2, 30, 200, 0), 0);
    ck_assert_int_eq(eng_append(G, 9, 1, 10, 0), ERR_NOTFOUND);
    ck_assert(!eng_idle(G));
    clenv_run_until(&E, 3 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(ACKED[1], 50);
    ck_assert_int_eq(ACKED[2], 30);
    ck_assert_int_eq(eng_stream_end(G, 1), 50);
    ck_assert(eng_idle(G));
    ck_assert_uint_eq(eng_metrics(G)->records_acked, 80);
    ck_assert_uint_eq(eng_metrics(G)->wal_uploads, 1);
    ck_assert_uint_gt(eng_metrics(G)->memory_peak, 0);
    ck_assert_uint_eq(eng_metrics(G)->memory_now, 0);
    read_all(1, 0, 50);
    read_all(2, 10, 30);
    ck_assert_int_eq(eng_trim(G, 1, 20), 0); /* a request: applied on its delivery */
    ck_assert_int_eq(meta_stream_get(eng_meta(G), 1)->start, 0);
    clenv_run_until(&E, E.now + 10 * ENV_USEC_PER_MS);
    ck_assert_int_eq(meta_stream_get(eng_meta(G), 1)->start, 20);
    ck_assert_int_eq(E.waits.n, 0);
}
END_TEST

START_TEST(eng_crash_broker_drops_unacked_and_restarts)
{
    ck_assert_int_eq(eng_append(G, 1, 10, 100, 0), 0);
    eng_crash_broker(G);
    ck_assert_int_eq(eng_append(G, 1, 10, 100, 0), ERR_BADSTATE);
    clenv_run_until(&E, 3 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(ACKED[1], 0);
    eng_restart_broker(G);
    ck_assert_int_eq(eng_append(G, 1, 10, 100, 0), 0);
    clenv_run_until(&E, 6 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(ACKED[1], 10);
    ck_assert_uint_eq(eng_metrics(G)->records_acked, 10);
    eng_crash_controller(G);
    eng_restart_controller(G);
    ck_assert(eng_idle(G));
    read_all(1, 0, 10);
}
END_TEST

/* A new engine over conf c (the fixture's is freed first). */
static void reopen(const char *knob, const char *value)
{
    char err[CONF_ERR_MAX];
    eng_free(G);
    ck_assert_int_eq(conf_set(&CONF, knob, value, err, sizeof err), 0);
    G = eng_new(&E.env, fs3_fault_ops(F), &CONF, &HOOKS, 3);
    ck_assert_ptr_nonnull(G);
}

/* The first PutObject answers 404 (ABORT): the WAL upload fails for good. */
static void put_404_once(void)
{
    struct fs3_rule r;
    fs3_rule_init(&r);
    r.op = S3_OP_PUT;
    r.effect = FS3_EFF_STATUS;
    r.status = 404;
    r.times = 1;
    ck_assert_int_eq(fs3_fault_add(F, &r), 0);
}

/* wal.upload.retry false (AutoMQ): the broker halts; without a halt hook the
 * engine restarts it itself after 1 s, and later appends are acknowledged. */
START_TEST(eng_wal_failure_halts_and_restarts)
{
    reopen("wal.upload.retry", "false");
    put_404_once();
    ck_assert_int_eq(eng_append(G, 1, 10, 100, 0), 0);
    clenv_run_until(&E, 1500 * ENV_USEC_PER_MS);
    ck_assert_uint_eq(eng_metrics(G)->broker_halts, 1);
    ck_assert_int_eq(eng_append(G, 1, 10, 100, 0), ERR_BADSTATE); /* down */
    clenv_run_until(&E, 3 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(ACKED[1], 0);
    ck_assert_int_eq(eng_append(G, 1, 10, 100, 0), 0); /* restarted */
    clenv_run_until(&E, 6 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(ACKED[1], 10);
    ck_assert_uint_eq(eng_metrics(G)->broker_halts, 1);
    ck_assert_int_ge(E.nerror, 1); /* the halt: one line, message and exception */
}
END_TEST

/* The env's timers, but the engine's own (arg G) fail while NO_HALT_TIMER (delay 0: the halt)
 * or NO_RESTART_TIMER (1 s: the restart after a halt) is set: out of memory. */
static bool NO_HALT_TIMER, NO_RESTART_TIMER;
static env_id eng_failing_timer(struct env *env, int64_t delay, env_timer_cb cb, void *arg)
{
    if (arg == G && ((NO_HALT_TIMER && delay == 0) ||
                     (NO_RESTART_TIMER && delay == ENV_USEC_PER_SEC)))
        return 0;
    return clenv_timer(env, delay, cb, arg);
}

/* wal.upload.retry false, and the halt's timer cannot be started: the failure is logged and
 * the broker halts at the next append (not never: a WAL whose upload failed for good takes
 * no record any more), then restarts as usual. */
START_TEST(eng_halt_timer_failure_halts_later)
{
    int errors;
    reopen("wal.upload.retry", "false");
    E.env.timer_start = eng_failing_timer;
    NO_HALT_TIMER = true;
    put_404_once();
    ck_assert_int_eq(eng_append(G, 1, 10, 100, 0), 0);
    errors = E.nerror;
    clenv_run_until(&E, 1500 * ENV_USEC_PER_MS);
    NO_HALT_TIMER = false;
    ck_assert_uint_eq(eng_metrics(G)->broker_halts, 0);
    ck_assert_int_eq(E.nerror, errors + 2); /* the upload's failure (1), the halt not scheduled */
    ck_assert_int_eq(eng_append(G, 1, 10, 100, 0), ERR_BADSTATE); /* halted now */
    ck_assert_uint_eq(eng_metrics(G)->broker_halts, 1);
    clenv_run_until(&E, 3 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(eng_append(G, 1, 10, 100, 0), 0); /* restarted */
    clenv_run_until(&E, 6 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(ACKED[1], 10);
}
END_TEST

/* The same with the restart's timer failing: the broker restarts at once, with an error line,
 * instead of staying down for ever. */
START_TEST(eng_restart_timer_failure_restarts_at_once)
{
    int errors;
    reopen("wal.upload.retry", "false");
    E.env.timer_start = eng_failing_timer;
    NO_RESTART_TIMER = true;
    put_404_once();
    ck_assert_int_eq(eng_append(G, 1, 10, 100, 0), 0);
    errors = E.nerror;
    clenv_run_until(&E, 1500 * ENV_USEC_PER_MS);
    NO_RESTART_TIMER = false;
    ck_assert_uint_eq(eng_metrics(G)->broker_halts, 1);
    ck_assert_int_eq(E.nerror, errors + 2); /* the upload's failure (1), the restart not scheduled */
    ck_assert_int_eq(eng_append(G, 1, 10, 100, 0), 0); /* up again */
    clenv_run_until(&E, 6 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(ACKED[1], 10);
}
END_TEST

/* A broker crash while a WAL upload is in flight cancels its writers: the
 * dead broker logs no "Unexpected exception" and does not halt again (the
 * batch's own release completed its closes with ERR_CANCELED). */
START_TEST(eng_crash_during_upload_is_no_failed_upload)
{
    struct fs3_rule r;
    reopen("wal.upload.retry", "false");
    fs3_rule_init(&r);
    r.op = S3_OP_PUT;
    r.effect = FS3_EFF_DELAY;
    r.delay_us = 5 * ENV_USEC_PER_SEC;
    ck_assert_int_eq(fs3_fault_add(F, &r), 0);
    ck_assert_int_eq(eng_append(G, 1, 10, 100, 0), 0);
    clenv_run_until(&E, 1500 * ENV_USEC_PER_MS); /* the upload's PUT is in flight */
    eng_crash_broker(G);
    eng_restart_broker(G);
    clenv_run_until(&E, 10 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(E.nerror, 0);
    ck_assert_uint_eq(eng_metrics(G)->broker_halts, 0);
    ck_assert_int_eq(eng_append(G, 1, 10, 100, 0), 0); /* up: not halted after the restart */
}
END_TEST

/* wal.upload.retry true (ours): the same failure is written again. */
START_TEST(eng_wal_failure_retried)
{
    reopen("wal.upload.retry", "true");
    put_404_once();
    ck_assert_int_eq(eng_append(G, 1, 10, 100, 0), 0);
    clenv_run_until(&E, 6 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(ACKED[1], 10);
    ck_assert_uint_eq(eng_metrics(G)->broker_halts, 0);
    ck_assert_int_eq(E.nerror, 0);
}
END_TEST

START_TEST(eng_delete_stream_forgets_it)
{
    ck_assert_int_eq(eng_append(G, 3, 10, 100, 0), 0);
    clenv_run_until(&E, 3 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(eng_delete_stream(G, 3), 0);
    ck_assert_int_eq(eng_stream_end(G, 3), 10); /* until the controller's answer */
    clenv_run_until(&E, E.now + 10 * ENV_USEC_PER_MS);
    ck_assert_int_eq(eng_stream_end(G, 3), -1);
    ck_assert_int_eq(eng_append(G, 3, 1, 100, 0), ERR_NOTFOUND);
}
END_TEST

static Suite *eng_suite(void)
{
    Suite *s = suite_create("eng");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, eng_read_needs_both_callbacks);
    tcase_add_test(tc, eng_append_ack_read_back);
    tcase_add_test(tc, eng_crash_broker_drops_unacked_and_restarts);
    tcase_add_test(tc, eng_delete_stream_forgets_it);
    tcase_add_test(tc, eng_wal_failure_halts_and_restarts);
    tcase_add_test(tc, eng_halt_timer_failure_halts_later);
    tcase_add_test(tc, eng_restart_timer_failure_restarts_at_once);
    tcase_add_test(tc, eng_wal_failure_retried);
    tcase_add_test(tc, eng_crash_during_upload_is_no_failed_upload);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(eng_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
