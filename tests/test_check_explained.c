/* test_check_explained.c - failures-explained (docs/checks.md): shown to fail
 * on worlds where the engine retries or fails for a cause the bench did not
 * see, and to hold on the same worlds when the bench sees the cause. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "world_fx.h"

static const char *const text =
    "scenario explained-fixture\n"
    "deadline 20m\n"
    "set s3.wal.upload.interval.ms 5000\n"
    "set s3.stream.set.object.compaction.interval.minutes 5\n"
    "streams 2\n"
    "at 0s append stream=all bytes=64KiB\n"
    "at 30s append stream=all bytes=16KiB\n"
    "at 1m30s append stream=all bytes=16KiB\n"
    "expect converged\n";

static void start(struct fx *f, const char *extra, int64_t at_us)
{
    char buf[2048];
    snprintf(buf, sizeof buf, "%s%s%s", text, extra ? "variant v\n" : "", extra ? extra : "");
    fx_run_text(f, "explained.scn", buf, extra ? "v" : NULL, at_us);
}

/* The next three PUTs (the WAL upload at 1m30s) answer 503: the engine
 * retries them.  blind: the bench's observer does not see those calls. */
static void fail_puts(struct fx *f, bool blind)
{
    struct fs3_rule r;
    fs3_rule_init(&r);
    r.op = S3_OP_PUT;
    r.effect = FS3_EFF_STATUS;
    r.status = 503;
    r.times = 3;
    ck_assert_int_eq(fs3_fault_add(f->w->fault, &r), 0);
    if (blind)
        fs3_fault_observe(f->w->fault, NULL, NULL);
    world_run_loop(f->w, 2 * ENV_USEC_PER_MIN);
    fs3_fault_observe(f->w->fault, world_observe, f->w);
}

START_TEST(explained_holds_on_a_healthy_world)
{
    struct fx f;
    start(&f, NULL, 0);
    fx_finish(&f);
    const struct run_check *c = fx_check(&f, "failures-explained");
    ck_assert_msg(c->held, "%s", c->detail);
    ck_assert_int_eq(c->line, 0); /* implicit */
    ck_assert_int_eq(f.res.verdict, RUN_PASS);
    fx_free(&f);
}
END_TEST

START_TEST(explained_reports_retries_of_calls_that_did_not_fail)
{
    struct fx f;
    /* Seen: the retries follow failed calls. */
    start(&f, NULL, ENV_USEC_PER_MIN);
    fail_puts(&f, false);
    fx_finish(&f);
    ck_assert(fx_check(&f, "failures-explained")->held);
    fx_free(&f);
    /* Unseen: to the bench the engine retried calls that succeeded, as an
     * engine that takes a success for a failure does. */
    start(&f, NULL, ENV_USEC_PER_MIN);
    fail_puts(&f, true);
    fx_finish(&f);
    const struct run_check *c = fx_check(&f, "failures-explained");
    ck_assert(!c->held);
    ck_assert_msg(strstr(c->detail, "s3.retries is 3 but the fake S3 saw 0 failed calls"), "%s",
                  c->detail);
    ck_assert_int_eq(f.res.verdict, RUN_FAIL);
    fx_free(&f);
    /* The knob turns it off; expect-fail wants it to fail. */
    start(&f, "set check.failures.explained false\n", ENV_USEC_PER_MIN);
    fail_puts(&f, true);
    fx_finish(&f);
    ck_assert(fx_check(&f, "failures-explained")->held);
    ck_assert_ptr_nonnull(strstr(fx_check(&f, "failures-explained")->detail, "not judged"));
    fx_free(&f);
    start(&f, "expect-fail failures-explained\n", ENV_USEC_PER_MIN);
    fail_puts(&f, true);
    fx_finish(&f);
    ck_assert_int_eq(f.res.verdict, RUN_PASS);
    fx_free(&f);
}
END_TEST

/* From 4m to 15m every PUT of SSO compaction answers 404: its runs fail.  blind: the bench's observer does not see those calls. */
static void fail_sso_puts(struct fx *f, bool blind)
{
    struct fs3_rule r;
    fs3_rule_init(&r);
    r.op = S3_OP_PUT;
    r.job_mask = 1u << S3_JOB_SSO_COMPACTION;
    r.effect = FS3_EFF_STATUS;
    r.status = 404; /* not retried */
    r.until_us = 15 * ENV_USEC_PER_MIN;
    ck_assert_int_eq(fs3_fault_add(f->w->fault, &r), 0);
    if (blind)
        fs3_fault_observe(f->w->fault, NULL, NULL);
    world_run_loop(f->w, 15 * ENV_USEC_PER_MIN);
    fs3_fault_observe(f->w->fault, world_observe, f->w);
}

START_TEST(explained_reports_a_job_failure_no_call_explains)
{
    struct fx f;
    start(&f, NULL, 4 * ENV_USEC_PER_MIN);
    fail_sso_puts(&f, false);
    fx_finish(&f);
    const struct run_check *c = fx_check(&f, "failures-explained");
    ck_assert_msg(c->held, "%s", c->detail);
    ck_assert_ptr_nonnull(strstr(c->detail, "job failures"));
    ck_assert_ptr_null(strstr(c->detail, " 0 job failures"));
    fx_free(&f);
    /* To the bench, SSO compaction failed though every call it made succeeded. */
    start(&f, NULL, 4 * ENV_USEC_PER_MIN);
    fail_sso_puts(&f, true);
    fx_finish(&f);
    c = fx_check(&f, "failures-explained");
    ck_assert(!c->held);
    ck_assert_msg(strstr(c->detail, "compaction.sso.failures is ") &&
                      strstr(c->detail, "but no sso-compaction or force-split call failed and "
                                        "nothing disturbed the run"),
                  "%s", c->detail);
    fx_free(&f);
}
END_TEST

static Suite *explained_suite(void)
{
    Suite *s = suite_create("check_explained");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, explained_holds_on_a_healthy_world);
    tcase_add_test(tc, explained_reports_retries_of_calls_that_did_not_fail);
    tcase_add_test(tc, explained_reports_a_job_failure_no_call_explains);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(explained_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
