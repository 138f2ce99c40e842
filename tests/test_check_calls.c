/* test_check_calls.c - writes-once (docs/checks.md): shown to fail on an
 * engine that deletes the same keys twice (F10's old cleaner) and on a world
 * where a key is written twice, and to hold where a failure explains it. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "world_fx.h"

/* F10 in small: a slow clean (every DeleteObjects answers 8 s late) of four
 * deleted streams' objects. */
static const char *const text =
    "scenario writes-once-fixture\n"
    "deadline 30m\n"
    "set s3.wal.upload.interval.ms 2000\n"
    "set s3.stream.object.split.size 1KiB\n"
    "streams 4\n"
    "at 0s load rate=64KiB/s until=1m\n"
    "at 2m delete-stream stream=1\n"
    "at 2m delete-stream stream=2\n"
    "at 2m delete-stream stream=3\n"
    "at 2m delete-stream stream=4\n"
    "fault name=slow delete-many from=2m until=10m delay=8s\n"
    "expect converged within=25m\n";

static void start(struct fx *f, const char *extra, int64_t at_us)
{
    char buf[2048];
    snprintf(buf, sizeof buf, "%s%s%s", text, extra ? "variant v\n" : "", extra ? extra : "");
    fx_run_text(f, "calls.scn", buf, extra ? "v" : NULL, at_us);
}

START_TEST(writes_once_holds_on_todays_cleaner)
{
    struct fx f;
    start(&f, NULL, 0);
    fx_finish(&f);
    const struct run_check *c = fx_check(&f, "writes-once");
    ck_assert_msg(c->held, "%s", c->detail);
    ck_assert_int_eq(c->line, 0); /* implicit */
    ck_assert_ptr_nonnull(strstr(c->detail, "none repeated"));
    ck_assert_int_eq(f.res.verdict, RUN_PASS);
    fx_free(&f);
}
END_TEST

START_TEST(writes_once_reports_the_duplicate_delete_trigger)
{
    struct fx f;
    /* Before #1060 each lifecycle check during the slow clean deletes the
     * same objects again: every DeleteObjects succeeds, none failed. */
    start(&f, "set cleaner.dedup.inflight false\n", 0);
    fx_finish(&f);
    const struct run_check *c = fx_check(&f, "writes-once");
    ck_assert(!c->held);
    ck_assert_msg(strstr(c->detail, "deleted 2 times") &&
                      strstr(c->detail, "with no failed call on it before"),
                  "%s", c->detail);
    ck_assert_int_eq(f.res.verdict, RUN_FAIL);
    fx_free(&f);
    /* The knob turns it off where a file means the repeats. */
    start(&f, "set cleaner.dedup.inflight false\nset check.writes.once false\n", 0);
    fx_finish(&f);
    ck_assert(fx_check(&f, "writes-once")->held);
    ck_assert_ptr_nonnull(strstr(fx_check(&f, "writes-once")->detail, "not judged"));
    fx_free(&f);
}
END_TEST

static void done_cb(struct s3_req *req, struct s3_result *res)
{
    (void)res;
    *(int *)req->arg += 1;
}

/* Deletes key through the fault shim as the cleaner would: the observer sees
 * it.  status: what the fault rule answers (0: no rule, the store's 204). */
static void delete_via_shim(struct fx *f, const char *key, int status)
{
    struct s3_ops *ops = fs3_fault_ops(f->w->fault);
    struct s3_req req = {.key = key, .job = S3_JOB_CLEANER, .range_end = -1};
    int done = 0;
    if (status) {
        struct fs3_rule r;
        fs3_rule_init(&r);
        r.op = S3_OP_DELETE;
        r.effect = FS3_EFF_STATUS;
        r.status = status;
        r.times = 1;
        ck_assert_int_eq(fs3_fault_add(f->w->fault, &r), 0);
    }
    ck_assert_int_eq(s3_delete(ops, &req, done_cb, &done), 0);
    world_run_loop(f->w, f->w->now + ENV_USEC_PER_SEC);
    ck_assert_int_eq(done, 1);
}

START_TEST(writes_once_a_failure_before_explains_the_repeat)
{
    struct fx f;
    char key[OBJ_KEY_MAX] = "";
    /* A key of a live object deleted twice: the second is a repeat. */
    start(&f, NULL, 90 * ENV_USEC_PER_SEC);
    meta_foreach(eng_meta(f.w->eng), first_committed, key);
    ck_assert_str_ne(key, "");
    delete_via_shim(&f, key, 0);
    delete_via_shim(&f, key, 0);
    world_judge(f.w);
    const struct run_check *c = fx_check(&f, "writes-once");
    ck_assert(!c->held);
    ck_assert_ptr_nonnull(strstr(c->detail, key));
    world_destroy(f.w);
    fx_free(&f);
    /* The same, with a 500 answered to a delete of the key in between: a
     * retry after a failure is no repeat. */
    start(&f, NULL, 90 * ENV_USEC_PER_SEC);
    key[0] = 0;
    meta_foreach(eng_meta(f.w->eng), first_committed, key);
    delete_via_shim(&f, key, 0);
    delete_via_shim(&f, key, 500);
    delete_via_shim(&f, key, 0);
    world_judge(f.w);
    c = fx_check(&f, "writes-once");
    ck_assert_msg(c->held, "%s", c->detail);
    world_destroy(f.w);
    fx_free(&f);
}
END_TEST

static Suite *calls_suite(void)
{
    Suite *s = suite_create("check_calls");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, writes_once_holds_on_todays_cleaner);
    tcase_add_test(tc, writes_once_reports_the_duplicate_delete_trigger);
    tcase_add_test(tc, writes_once_a_failure_before_explains_the_repeat);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(calls_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
