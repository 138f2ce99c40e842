/* test_check_counted.c - requests-counted (docs/checks.md): shown to fail on a world where
 * the fake S3 received a request the engine's count leaves out, and to hold on worlds whose
 * answers are lost, whose attempts time out or land late, whose broker crashes with calls in
 * flight, and whose run ends with calls in flight. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "world_fx.h"

/* Stream objects (every WAL upload of a stream is one) that minor and major compaction
 * merge; a load until the deadline, so that calls are in flight at the end. */
static const char *const text =
    "scenario counted-fixture\n"
    "deadline 20m\n"
    "set s3.wal.upload.interval.ms 5000\n"
    "set s3.stream.object.split.size 4KiB\n"
    "set stream.compaction.minor.size 512KiB\n"
    "set stream.compaction.minor.interval 2m\n"
    "set stream.compaction.major.interval 4m\n"
    "streams 2\n"
    "at 0s load rate=40KiB/s until=20m\n"
    "expect no-data-loss\n"
    "expect metric compaction.stream.commits >= 1\n";

static void start(struct fx *f, const char *extra, int64_t at_us)
{
    char buf[2048];
    snprintf(buf, sizeof buf, "%s%s%s", text, extra ? "variant v\n" : "", extra ? extra : "");
    fx_run_text(f, "counted.scn", buf, extra ? "v" : NULL, at_us);
}

START_TEST(counted_holds_on_a_healthy_world)
{
    struct fx f;
    start(&f, NULL, 0);
    fx_finish(&f);
    const struct run_check *c = fx_check(&f, "requests-counted");
    ck_assert_msg(c->held, "%s", c->detail);
    ck_assert_int_eq(c->line, 0); /* implicit */
    ck_assert_msg(strstr(c->detail, "counted alike by the engine and the fake S3"), "%s",
                  c->detail);
    ck_assert_int_eq(f.res.verdict, RUN_PASS);
    fx_free(&f);
}
END_TEST

/* What the fake S3 received but the client never heard of is still received: answers lost
 * (the store did the work), attempts timed out and retried, a late attempt that lands after
 * its retry, broker crashes that free the broker's clients with calls in flight. */
START_TEST(counted_holds_through_lost_answers_timeouts_late_landings_and_crashes)
{
    struct fx f;
    start(&f,
          "fault name=lost get job=stream-compaction prob=20% lost\n"
          "fault name=slow put prob=5% timeout\n"
          "fault name=late put nth=3 late=20s\n"
          "every 3m from=1m until=15m crash node=broker restart_after=5s\n"
          "expect metric s3.late.landed >= 1\n"
          "expect metric s3.timeouts >= 10\n",
          0);
    fx_finish(&f);
    const struct run_check *c = fx_check(&f, "requests-counted");
    ck_assert_msg(c->held, "%s", c->detail);
    ck_assert_msg(f.res.verdict == RUN_PASS, "%s", f.res.summary);
    fx_free(&f);
}
END_TEST

static void heard(struct s3_req *req, struct s3_result *res)
{
    (void)res;
    *(int *)req->arg += 1;
}

/* A HEAD of stream object compaction's job that reaches the fake S3 without going through
 * the engine's clients: the engine's count leaves it out, as it leaves out the requests of
 * a client it forgets to add up (src/eng.c eng_add_client). */
static void stray_head(struct fx *f, struct s3_req *req, int *answers)
{
    memset(req, 0, sizeof *req);
    req->job = S3_JOB_STREAM_COMPACTION;
    req->key = "stray/uncounted";
    ck_assert_int_eq(s3_head(fs3_fault_ops(f->w->fault), req, heard, answers), 0);
}

START_TEST(counted_reports_a_request_the_engine_did_not_count)
{
    struct fx f;
    struct s3_req req;
    int answers = 0;
    start(&f, NULL, 5 * ENV_USEC_PER_MIN);
    stray_head(&f, &req, &answers);
    fx_finish(&f);
    ck_assert_int_eq(answers, 1);
    const struct run_check *c = fx_check(&f, "requests-counted");
    ck_assert(!c->held);
    ck_assert_msg(strstr(c->detail, "head: the engine counts 0 requests sent, the fake S3 "
                                    "received 1 [stream-compaction 0 vs 1, the stream object "
                                    "compaction's client]"),
                  "%s", c->detail);
    ck_assert_int_eq(f.res.verdict, RUN_FAIL);
    ck_assert_ptr_nonnull(strstr(f.res.summary, "check=requests-counted: head:"));
    fx_free(&f);
    /* The knob turns it off; expect-fail wants it to fail. */
    start(&f, "set check.requests.counted false\n", 5 * ENV_USEC_PER_MIN);
    stray_head(&f, &req, &answers);
    fx_finish(&f);
    ck_assert(fx_check(&f, "requests-counted")->held);
    ck_assert_ptr_nonnull(strstr(fx_check(&f, "requests-counted")->detail, "not judged"));
    ck_assert_int_eq(f.res.verdict, RUN_PASS);
    fx_free(&f);
    start(&f, "expect-fail requests-counted\n", 5 * ENV_USEC_PER_MIN);
    stray_head(&f, &req, &answers);
    fx_finish(&f);
    ck_assert_int_eq(f.res.verdict, RUN_PASS);
    fx_free(&f);
    start(&f, "expect-fail requests-counted\n", 0);
    fx_finish(&f);
    ck_assert_int_eq(f.res.verdict, RUN_FAIL); /* it held */
    fx_free(&f);
}
END_TEST

static int64_t res_metric(const struct fx *f, const char *name)
{
    for (size_t i = 0; i < f->res.nmetrics; i++)
        if (strcmp(f->res.metrics[i].name, name) == 0)
            return f->res.metrics[i].value;
    ck_abort_msg("no metric %s in the result", name);
    return -1;
}

/* The engine's count, as metrics: s3.requests, s3.requests.OP and s3.requests.job.JOB, one
 * sum three ways; a file can expect them at a moment. */
START_TEST(counted_metrics_are_the_engines_count)
{
    struct fx f;
    int64_t ops = 0, jobs = 0;
    char name[64];
    start(&f, "at 10m expect metric s3.requests.job.stream-compaction >= 1\n"
              "at 10m expect metric s3.requests.put >= 1\n", 0);
    fx_finish(&f);
    ck_assert_msg(f.res.verdict == RUN_PASS, "%s", f.res.summary);
    for (int o = 0; o < S3_OP_COUNT; o++) {
        snprintf(name, sizeof name, "s3.requests.%s", s3_op_name((enum s3_op)o));
        ops += res_metric(&f, name);
    }
    for (int j = 0; j < S3_JOB_COUNT; j++) {
        snprintf(name, sizeof name, "s3.requests.job.%s", s3_job_name((enum s3_job)j));
        jobs += res_metric(&f, name);
    }
    ck_assert_int_gt(res_metric(&f, "s3.requests"), 0);
    ck_assert_int_eq(ops, res_metric(&f, "s3.requests"));
    ck_assert_int_eq(jobs, res_metric(&f, "s3.requests"));
    ck_assert_int_gt(res_metric(&f, "s3.requests.job.stream-compaction"), 0);
    fx_free(&f);
}
END_TEST

/* A file's own `expect requests-counted` in a run whose engine sends no request judged
 * nothing: the vacuous gate fails it. */
START_TEST(counted_line_without_requests_is_vacuous)
{
    struct fx f;
    const char *idle = "scenario counted-idle\n"
                       "deadline 2m\n"
                       "streams 1\n"
                       "expect requests-counted\n";
    fx_run_text(&f, "idle.scn", idle, NULL, 0);
    fx_finish(&f);
    ck_assert(fx_check(&f, "requests-counted")->held);
    const struct run_check *v = fx_check(&f, "vacuous");
    ck_assert(!v->held);
    ck_assert_msg(strstr(v->detail, "requests-counted (line 4) judged no request"), "%s",
                  v->detail);
    fx_free(&f);
}
END_TEST

static Suite *counted_suite(void)
{
    Suite *s = suite_create("check_counted");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, counted_holds_on_a_healthy_world);
    tcase_add_test(tc, counted_holds_through_lost_answers_timeouts_late_landings_and_crashes);
    tcase_add_test(tc, counted_reports_a_request_the_engine_did_not_count);
    tcase_add_test(tc, counted_metrics_are_the_engines_count);
    tcase_add_test(tc, counted_line_without_requests_is_vacuous);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(counted_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
