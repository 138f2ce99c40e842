/* test_check.c - every check of the bench, shown to fail on a world built to
 * break it, and to hold on the same world left alone. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "mdc.h"
#include "err.h"
#include "world_fx.h"

/* ---- fixture ---------------------------------------------------------------------- */

static const char *const base_text =
    "scenario check-fixture\n"
    "deadline 20m\n"
    "set s3.wal.upload.interval.ms 5000\n"
    "streams 2\n"
    "at 0s append stream=all bytes=64KiB\n"
    "at 30s append stream=1 bytes=16KiB\n"
    "at 5m append stream=2 bytes=1KiB\n"
    "expect converged\n"
    "expect no-orphans\n"
    "expect no-missing\n"
    "expect no-dangling-uploads\n"
    "expect no-data-loss\n"
    "expect memory <= 64MiB\n"
    "expect log error count == 0\n"
    "expect metric wal.uploads >= 1\n";

/* Parses base plus extra lines, creates the world, runs it to at_us. */
static void fx_start_on(struct fx *f, const char *base, const char *extra, int64_t at_us)
{
    char text[4096];
    /* Extra lines go in a variant, so that they replace the base's line for
     * the same check, as a user's variant would. */
    snprintf(text, sizeof text, "%s%s%s", base, extra ? "variant v\n" : "",
             extra ? extra : "");
    fx_run_text(f, "fixture.scn", text, extra ? "v" : NULL, at_us);
}

static void fx_start(struct fx *f, const char *extra, int64_t at_us)
{
    fx_start_on(f, base_text, extra, at_us);
}

static void fx_put(struct fx *f, const char *key, size_t len)
{
    static uint8_t buf[4096];
    struct s3_req req = {.op = S3_OP_PUT, .key = key, .body = buf, .body_len = len,
                         .range_end = -1};
    struct s3_result res = {0};
    req.cb = (s3_cb)1; /* fs3_exec does not call it; fs3_validate wants one */
    ck_assert_int_eq(fs3_exec(f->w->store, &req, FS3_AS_OF_NOW, &res), 0);
    ck_assert_int_eq(res.status, 200);
    s3_result_cleanup(&res);
}

/* The key of the first committed object. */
/* ---- the untouched world: every check holds ---------------------------------------- */

START_TEST(check_all_hold_on_a_healthy_world)
{
    struct fx f;
    fx_start(&f, NULL, 0);
    fx_finish(&f);
    for (size_t i = 0; i < f.res.nchecks; i++)
        ck_assert_msg(f.res.checks[i].held, "%s: %s", f.res.checks[i].name,
                      f.res.checks[i].detail);
    ck_assert_int_eq(f.res.verdict, RUN_PASS);
    fx_free(&f);
}
END_TEST

/* ---- each check fails on its broken world ------------------------------------------- */

START_TEST(check_no_orphans_reports_a_stray_key)
{
    struct fx f;
    fx_start(&f, NULL, 2 * ENV_USEC_PER_MIN);
    fx_put(&f, "stray/object", 100);
    fx_finish(&f);
    ck_assert(!fx_check(&f, "no-orphans")->held);
    ck_assert_ptr_nonnull(strstr(fx_check(&f, "no-orphans")->detail, "stray/object"));
    ck_assert(!fx_check(&f, "converged")->held);
    ck_assert_int_eq(f.res.verdict, RUN_FAIL);
    fx_free(&f);
}
END_TEST

START_TEST(check_no_missing_and_no_data_loss_report_a_deleted_object)
{
    struct fx f;
    char key[OBJ_KEY_MAX] = "";
    fx_start(&f, NULL, 2 * ENV_USEC_PER_MIN);
    meta_foreach(eng_meta(f.w->eng), first_committed, key);
    ck_assert_str_ne(key, "");
    ck_assert_int_eq(fs3_remove(f.w->store, key), 0);
    fx_finish(&f);
    ck_assert(!fx_check(&f, "no-missing")->held);
    ck_assert_ptr_nonnull(strstr(fx_check(&f, "no-missing")->detail, key));
    ck_assert(!fx_check(&f, "no-data-loss")->held);
    ck_assert(!fx_check(&f, "converged")->held);
    fx_free(&f);
}
END_TEST

START_TEST(check_no_data_loss_reports_changed_bytes)
{
    struct fx f;
    char key[OBJ_KEY_MAX] = "";
    uint64_t size = 0;
    fx_start(&f, NULL, 2 * ENV_USEC_PER_MIN);
    meta_foreach(eng_meta(f.w->eng), first_committed, key);
    ck_assert(fs3_key_exists(f.w->store, key, &size));
    {
        /* Same size, same format, other payload: rewrite the object with every
         * payload byte flipped, keeping headers, index and footer. */
        struct s3_req get = {.op = S3_OP_GET, .key = key, .range_start = 0, .range_end = -1};
        struct s3_result res = {0};
        get.cb = (s3_cb)1;
        ck_assert_int_eq(fs3_exec(f.w->store, &get, FS3_AS_OF_NOW, &res), 0);
        ck_assert_uint_eq(res.body_len, size);
        /* The first record's payload starts after the 10-byte block header and
         * the 33-byte record header. */
        res.body[10 + 33] ^= 0xff;
        struct s3_req put = {.op = S3_OP_PUT, .key = key, .body = res.body,
                             .body_len = res.body_len};
        struct s3_result pres = {0};
        put.cb = (s3_cb)1;
        ck_assert_int_eq(fs3_exec(f.w->store, &put, FS3_AS_OF_NOW, &pres), 0);
        s3_result_cleanup(&pres);
        s3_result_cleanup(&res);
    }
    fx_finish(&f);
    ck_assert(!fx_check(&f, "no-data-loss")->held);
    ck_assert_ptr_nonnull(strstr(fx_check(&f, "no-data-loss")->detail, "payload differs"));
    ck_assert(fx_check(&f, "no-missing")->held);
    fx_free(&f);
}
END_TEST

START_TEST(check_no_dangling_uploads_reports_an_open_upload)
{
    struct fx f;
    struct s3_req req = {.op = S3_OP_MPU_CREATE, .key = "stray/upload"};
    struct s3_result res = {0};
    fx_start(&f, NULL, ENV_USEC_PER_MIN);
    req.cb = (s3_cb)1;
    ck_assert_int_eq(fs3_exec(f.w->store, &req, FS3_AS_OF_NOW, &res), 0);
    s3_result_cleanup(&res);
    fx_finish(&f);
    ck_assert(!fx_check(&f, "no-dangling-uploads")->held);
    ck_assert_ptr_nonnull(strstr(fx_check(&f, "no-dangling-uploads")->detail, "stray/upload"));
    ck_assert(!fx_check(&f, "converged")->held);
    fx_free(&f);
}
END_TEST

START_TEST(check_no_hang_reports_an_old_wait)
{
    struct fx f;
    fx_start(&f, NULL, ENV_USEC_PER_MIN);
    env_wait_beginf(&f.w->env, "test waiter", "an outcome that never comes (%d)", 42);
    fx_finish(&f);
    const struct run_check *c = fx_check(&f, "no-hang");
    ck_assert(!c->held);
    ck_assert_ptr_nonnull(strstr(c->detail, "test waiter"));
    ck_assert_ptr_nonnull(strstr(c->detail, "never comes (42)"));
    ck_assert(f.res.hang);
    ck_assert_uint_eq(f.res.nwaits, 1);
    ck_assert_str_eq(f.res.waits[0].who, "test waiter");
    ck_assert_int_eq(f.res.waits[0].since_us, ENV_USEC_PER_MIN);
    ck_assert(!fx_check(&f, "converged")->held);
    ck_assert_int_eq(f.res.verdict, RUN_FAIL);
    fx_free(&f);
}
END_TEST

START_TEST(check_no_hang_tolerates_a_young_wait)
{
    struct fx f;
    fx_start(&f, NULL, 19 * ENV_USEC_PER_MIN);
    env_wait_beginf(&f.w->env, "young", "started a minute before the deadline");
    fx_finish(&f);
    ck_assert(fx_check(&f, "no-hang")->held);
    ck_assert(!f.res.hang);
    fx_free(&f);
}
END_TEST

START_TEST(check_no_hang_reports_an_empty_heap)
{
    struct fx f;
    base_heap_fn fn;
    void *arg;
    int64_t t;
    fx_start(&f, NULL, ENV_USEC_PER_MIN);
    env_wait_beginf(&f.w->env, "orphan waiter", "nothing left to wake it");
    /* Drop every pending event: nothing can ever end the wait. */
    while (base_heap_pop(&f.w->heap, &fn, &arg, &t))
        ;
    f.w->probe_pending = false;
    fx_finish(&f);
    ck_assert(!fx_check(&f, "no-hang")->held);
    ck_assert_ptr_nonnull(strstr(fx_check(&f, "no-hang")->detail, "no event left"));
    ck_assert_int_eq(f.res.vtime_us, ENV_USEC_PER_MIN);
    fx_free(&f);
}
END_TEST

/* expect-fail no-hang match="TEXT": a hang counts only when a wait pending then says TEXT,
 * so a file can assert what the engine was waiting for (the hang report's words). */
START_TEST(check_no_hang_match_needs_the_waits_text)
{
    struct fx f;
    fx_start(&f, "expect-fail no-hang match=\"never comes (42)\"\n", ENV_USEC_PER_MIN);
    env_wait_beginf(&f.w->env, "test waiter", "an outcome that never comes (%d)", 42);
    fx_finish(&f);
    ck_assert(!fx_check(&f, "no-hang")->held); /* a hang whose wait says the text */
    ck_assert_ptr_nonnull(strstr(fx_check(&f, "no-hang")->detail, "the wait matching"));
    fx_free(&f);

    /* The same hang, another text: the check holds, so expect-fail fails the run. */
    fx_start(&f, "expect-fail no-hang match=\"an answer that came\"\n", ENV_USEC_PER_MIN);
    env_wait_beginf(&f.w->env, "test waiter", "an outcome that never comes (%d)", 42);
    fx_finish(&f);
    ck_assert(fx_check(&f, "no-hang")->held);
    ck_assert_ptr_nonnull(strstr(fx_check(&f, "no-hang")->detail, "no wait pending says"));
    ck_assert_int_eq(f.res.verdict, RUN_FAIL);
    fx_free(&f);

    /* No hang at all: the check holds, expect-fail fails the run. */
    fx_start(&f, "expect-fail no-hang match=\"never comes\"\n", 19 * ENV_USEC_PER_MIN);
    fx_finish(&f);
    ck_assert(fx_check(&f, "no-hang")->held);
    ck_assert_int_eq(f.res.verdict, RUN_FAIL);
    fx_free(&f);
}
END_TEST

START_TEST(check_no_hang_match_only_with_expect_fail)
{
    struct scn_file *file = NULL;
    struct scn_error e;
    const char *text = "scenario x\nseed 1\ndeadline 10m\nstreams 1\n"
                       "at 0s load rate=1KiB/s until=1m\nexpect no-hang match=\"x\"\n";
    ck_assert_int_ne(scn_parse_buf("m.scn", text, strlen(text), &file, &e), 0);
    ck_assert_int_eq(e.line, 6);
    ck_assert_ptr_nonnull(strstr(e.msg, "expect-fail no-hang"));
    scn_free(file);
}
END_TEST

START_TEST(check_log_counts_matching_lines)
{
    struct fx f;
    fx_start(&f, "expect log error match=\"Delete composite object\" count == 0\n", 0);
    env_logf(&f.w->env, ENV_LOG_ERROR, "cleaner", "Delete composite object %s fail", "x");
    env_logf(&f.w->env, ENV_LOG_WARN, "cleaner", "Delete composite object %s fail", "y");
    fx_finish(&f);
    const struct run_check *c = NULL;
    for (size_t i = 0; i < f.res.nchecks; i++)
        if (strcmp(f.res.checks[i].name, "log") == 0 && strstr(f.res.checks[i].args, "match"))
            c = &f.res.checks[i];
    ck_assert_ptr_nonnull(c);
    ck_assert(!c->held);
    ck_assert_ptr_nonnull(strstr(c->detail, "1 error lines"));
    fx_free(&f);
}
END_TEST

/* except="A|B" (extension): a line holding A or B is not counted; the others are. */
START_TEST(check_log_except_counts_the_other_lines)
{
    struct fx f;
    struct scn_file *file = NULL;
    struct scn_error e;
    const char *bad = "scenario x\nseed 1\ndeadline 10m\nstreams 1\n"
                      "at 0s load rate=1KiB/s until=1m\nexpect log error except=\"a||b\" count == 0\n";
    fx_start(&f, "expect log error except=\"[STREAM_OBJECT_COMPACT_FAIL],[UNEXPECTED]|"
                 "[COPY_WRITE_FAILED]\" count == 0\n", 0);
    env_logf(&f.w->env, ENV_LOG_ERROR, "stream-compaction", "[COPY_WRITE_FAILED] streamId=1");
    env_logf(&f.w->env, ENV_LOG_ERROR, "stream-compaction",
             "[STREAM_OBJECT_COMPACT_FAIL],[UNEXPECTED],1,type=MINOR_V1");
    env_logf(&f.w->env, ENV_LOG_WARN, "cleaner", "Delete composite object y fail");
    env_logf(&f.w->env, ENV_LOG_ERROR, "cleaner", "Delete composite object x fail");
    fx_finish(&f);
    const struct run_check *c = NULL;
    for (size_t i = 0; i < f.res.nchecks; i++)
        if (strcmp(f.res.checks[i].name, "log") == 0 && strstr(f.res.checks[i].args, "except"))
            c = &f.res.checks[i];
    ck_assert_ptr_nonnull(c);
    ck_assert(!c->held);
    ck_assert_ptr_nonnull(strstr(c->detail, "1 error lines not holding"));
    fx_free(&f);
    ck_assert_int_ne(scn_parse_buf("m.scn", bad, strlen(bad), &file, &e), 0);
    ck_assert_int_eq(e.line, 6);
    ck_assert_ptr_nonnull(strstr(e.msg, "none of them empty"));
    scn_free(file);
}
END_TEST

START_TEST(check_metric_and_memory_compare)
{
    struct fx f;
    fx_start(&f, "expect metric wal.uploads == 0\nexpect memory <= 1B\n", 0);
    fx_finish(&f);
    ck_assert(!fx_check(&f, "metric")->held);
    ck_assert_ptr_nonnull(strstr(fx_check(&f, "metric")->detail, "wal.uploads"));
    ck_assert(!fx_check(&f, "memory")->held);
    fx_free(&f);
}
END_TEST

START_TEST(check_expect_fail_turns_a_held_check_into_a_failure)
{
    struct fx f;
    fx_start(&f, "expect-fail no-orphans\n", 0);
    fx_finish(&f);
    const struct run_check *c = fx_check(&f, "no-orphans");
    ck_assert(c->held);
    ck_assert(c->expect_fail);
    ck_assert(!c->ok);
    ck_assert_int_eq(f.res.verdict, RUN_FAIL);
    ck_assert_ptr_nonnull(strstr(f.res.summary, "expect-fail"));
    fx_free(&f);
}
END_TEST

START_TEST(check_expect_fail_passes_when_the_check_fails)
{
    struct fx f;
    fx_start(&f, "expect-fail no-orphans\n", ENV_USEC_PER_MIN);
    fx_put(&f, "stray/object", 10);
    /* The other checks that the stray key breaks are expected to fail too. */
    fx_finish(&f);
    ck_assert(!fx_check(&f, "no-orphans")->held);
    ck_assert(fx_check(&f, "no-orphans")->ok);
    fx_free(&f);
}
END_TEST

START_TEST(check_same_seed_same_trace)
{
    struct fx a, b;
    fx_start(&a, NULL, 0);
    fx_finish(&a);
    fx_start(&b, NULL, 0);
    fx_finish(&b);
    ck_assert_str_eq(a.res.trace_hex, b.res.trace_hex);
    ck_assert_uint_eq(a.res.ops, b.res.ops);
    fx_free(&a);
    fx_free(&b);
}
END_TEST


/* ---- engine health: no-error-log and caught-up -------------------------------------- */

/* The fixture without its `log error` line: no-error-log is implicit. */
static const char *const health_text =
    "scenario health-fixture\n"
    "deadline 20m\n"
    "set s3.wal.upload.interval.ms 5000\n"
    "streams 2\n"
    "at 0s append stream=all bytes=64KiB\n"
    "at 30s append stream=1 bytes=16KiB\n"
    "expect converged\n"
    "expect no-data-loss\n";

static bool fx_has(const struct fx *f, const char *name)
{
    for (size_t i = 0; i < f->res.nchecks; i++)
        if (strcmp(f->res.checks[i].name, name) == 0)
            return true;
    return false;
}

START_TEST(check_health_holds_on_a_healthy_world)
{
    struct fx f;
    fx_start_on(&f, health_text, NULL, 0);
    fx_finish(&f);
    ck_assert(fx_check(&f, "no-error-log")->held);
    ck_assert(fx_check(&f, "caught-up")->held);
    ck_assert(fx_check(&f, "vacuous")->held);
    ck_assert_int_eq(f.res.verdict, RUN_PASS);
    fx_free(&f);
    /* A `log error` line says what the file wants: no implicit check then. */
    fx_start(&f, NULL, 0);
    fx_finish(&f);
    ck_assert(!fx_has(&f, "no-error-log"));
    fx_free(&f);
}
END_TEST

START_TEST(check_no_error_log_reports_an_error_line)
{
    struct fx f;
    fx_start_on(&f, health_text, NULL, ENV_USEC_PER_MIN);
    env_logf(&f.w->env, ENV_LOG_ERROR, "sso-compaction", "planning failed: %s", "corrupt");
    fx_finish(&f);
    const struct run_check *c = fx_check(&f, "no-error-log");
    ck_assert(!c->held);
    ck_assert_ptr_nonnull(strstr(c->detail, "planning failed: corrupt"));
    ck_assert_int_eq(f.res.verdict, RUN_FAIL);
    fx_free(&f);
}
END_TEST

START_TEST(check_no_error_log_reports_a_fatal_line_at_any_level)
{
    struct fx f;
    fx_start_on(&f, health_text, NULL, ENV_USEC_PER_MIN);
    env_logf(&f.w->env, ENV_LOG_WARN, "sso-compaction", "FATAL: overlapping blocks");
    fx_finish(&f);
    ck_assert(!fx_check(&f, "no-error-log")->held);
    fx_free(&f);
    /* The knob turns it off where a file means its error lines. */
    fx_start_on(&f, health_text, "set check.error.log false\n", ENV_USEC_PER_MIN);
    env_logf(&f.w->env, ENV_LOG_ERROR, "x", "FATAL: meant");
    fx_finish(&f);
    ck_assert(fx_check(&f, "no-error-log")->held);
    ck_assert_ptr_nonnull(strstr(fx_check(&f, "no-error-log")->detail, "not judged"));
    fx_free(&f);
}
END_TEST

/* A `log error match=` line names the lines it expects; no-error-log stays on
 * and judges every other error line (and a FATAL line no `log` line names). */
START_TEST(check_no_error_log_judges_the_lines_no_match_names)
{
    struct fx f;
    const char *named = "expect log error match=\"planning failed\" count == 1\n";
    fx_start_on(&f, health_text, named, ENV_USEC_PER_MIN);
    env_logf(&f.w->env, ENV_LOG_ERROR, "sso-compaction", "planning failed: %s", "corrupt");
    env_logf(&f.w->env, ENV_LOG_ERROR, "cleaner", "Delete composite object 7 fail");
    fx_finish(&f);
    ck_assert(fx_check(&f, "log")->held);
    const struct run_check *c = fx_check(&f, "no-error-log");
    ck_assert(!c->held);
    ck_assert_ptr_nonnull(strstr(c->detail, "1 engine log lines"));
    ck_assert_ptr_nonnull(strstr(c->detail, "Delete composite object 7"));
    ck_assert_int_eq(f.res.verdict, RUN_FAIL);
    fx_free(&f);
    /* Only the named line: the run passes. */
    fx_start_on(&f, health_text, named, ENV_USEC_PER_MIN);
    env_logf(&f.w->env, ENV_LOG_ERROR, "sso-compaction", "planning failed: %s", "corrupt");
    fx_finish(&f);
    ck_assert_msg(fx_check(&f, "no-error-log")->held, "%s", fx_check(&f, "no-error-log")->detail);
    ck_assert_int_eq(f.res.verdict, RUN_PASS);
    fx_free(&f);
    /* A warn line holding FATAL is named by a `log warn match=` line only. */
    fx_start_on(&f, health_text, "expect log warn match=\"FATAL: meant\" count == 1\n",
                ENV_USEC_PER_MIN);
    env_logf(&f.w->env, ENV_LOG_WARN, "x", "FATAL: meant");
    fx_finish(&f);
    ck_assert(fx_check(&f, "no-error-log")->held);
    fx_free(&f);
}
END_TEST

START_TEST(check_refused_action_fails_the_run)
{
    /* An action the engine refuses did not happen: the run must not pass as
     * if it had.  Each refusal is an error line naming the file's line (the
     * no-error-log gate fails on it), unless the file expects it. */
    static const char *const refused[][2] = {
        {"at 1m delete-stream stream=2\nat 2m append stream=2 bytes=1KiB\n",
         "line 11: append stream=2 refused by the engine: not found"},
        {"at 1m delete-stream stream=2\nat 2m trim stream=2 to=1\n",
         "line 11: trim stream=2 refused by the engine: not found"},
        {"at 1m crash node=broker restart_after=1m\nat 90s compact sso\n",
         "line 11: compact sso refused by the engine"},
        {"at 1m crash node=broker restart_after=1m\nat 90s append stream=1 bytes=1KiB\n",
         "line 11: append stream=1 refused by the engine"},
    };
    char extra[512];
    struct fx f;
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        fx_start_on(&f, health_text, refused[i][0], 0);
        fx_finish(&f);
        const struct run_check *c = fx_check(&f, "no-error-log");
        ck_assert_msg(!c->held, "%s: held", refused[i][0]);
        ck_assert_msg(strstr(c->detail, refused[i][1]), "%s: %s", refused[i][0], c->detail);
        ck_assert_int_eq(f.res.verdict, RUN_FAIL);
        fx_free(&f);
        /* The file that means it says so. */
        snprintf(extra, sizeof extra, "%sexpect log error match=\"refused by the engine\" count == 1\n",
                 refused[i][0]);
        fx_start_on(&f, health_text, extra, 0);
        fx_finish(&f);
        ck_assert_msg(f.res.verdict == RUN_PASS, "%s", extra);
        fx_free(&f);
    }
    /* The same actions where the engine takes them: nothing refused. */
    fx_start_on(&f, health_text, "at 1m trim stream=2 to=1\nat 2m delete-stream stream=2\n"
                "at 3m compact sso\nat 3m append stream=all bytes=1KiB\n", 0);
    fx_finish(&f);
    ck_assert_msg(fx_check(&f, "no-error-log")->held, "%s", fx_check(&f, "no-error-log")->detail);
    ck_assert_int_eq(f.res.verdict, RUN_PASS);
    fx_free(&f);
}
END_TEST

/* Commits an SSO of stream 2 (one offset) whose commit moment is `ts`. */
static void fx_old_sso(struct fx *f, int64_t ts)
{
    struct meta *m = ctl_store_mut(eng_ctl(f->w->eng));
    const struct meta_stream *st = meta_stream_get(m, 2);
    int64_t id;
    struct meta_range r = {2, st->end, st->end + 1};
    struct meta_sso_commit c = {.id = -1, .order_id = -1, .size = 16, .ranges = &r,
                                .nranges = 1};
    ck_assert_int_eq(meta_prepare(m, 1, ENV_USEC_PER_HOUR, ts, &id), 0);
    c.id = id;
    ck_assert_int_eq(meta_commit_sso(m, &c, ts), 0);
}

START_TEST(check_caught_up_reports_ssos_left_uncompacted)
{
    struct fx f;
    /* Past the last compaction run (at 15m): two SSOs committed long ago
     * that every run should have merged, as an engine whose compaction gives
     * up would leave them. */
    fx_start_on(&f, health_text, NULL, 16 * ENV_USEC_PER_MIN);
    fx_old_sso(&f, 0);
    fx_old_sso(&f, 0);
    fx_finish(&f);
    const struct run_check *c = fx_check(&f, "caught-up");
    ck_assert(!c->held);
    ck_assert_ptr_nonnull(strstr(c->detail, "left uncompacted"));
    fx_free(&f);
    /* The knob turns it off where a file means it. */
    fx_start_on(&f, health_text, "set check.caught.up false\n", 16 * ENV_USEC_PER_MIN);
    fx_old_sso(&f, 0);
    fx_old_sso(&f, 0);
    fx_finish(&f);
    ck_assert(fx_check(&f, "caught-up")->held);
    fx_free(&f);
}
END_TEST

START_TEST(check_caught_up_reports_stream_objects_major_would_link)
{
    struct fx f;
    struct meta *m;
    const struct meta_stream *st;
    int64_t id;
    struct meta_so so[2];
    struct meta_sso_commit c = {.id = -1, .order_id = -1};
    /* Two contiguous stream objects of the minor size, committed at 0,
     * judged after three major intervals: major compaction links them. */
    fx_start_on(&f, health_text, "set stream.compaction.major.interval 5m\n"
                                 "set stream.compaction.minor.size 1KiB\n",
                16 * ENV_USEC_PER_MIN);
    m = ctl_store_mut(eng_ctl(f.w->eng));
    st = meta_stream_get(m, 2);
    ck_assert_int_eq(meta_prepare(m, 2, ENV_USEC_PER_HOUR, 0, &id), 0);
    so[0] = (struct meta_so){id, 4096, 2, st->end, st->end + 4, 0};
    so[1] = (struct meta_so){id + 1, 4096, 2, st->end + 4, st->end + 8, 0};
    c.sos = so;
    c.nsos = 2;
    ck_assert_int_eq(meta_commit_sso(m, &c, 0), 0);
    /* The engine's own major compaction would now link them: stop it by
     * judging before its next pass can finish. */
    world_judge(f.w);
    const struct run_check *k = fx_check(&f, "caught-up");
    ck_assert_msg(!k->held, "%s", k->detail);
    ck_assert_ptr_nonnull(strstr(k->detail, "would have linked them"));
    world_destroy(f.w);
    fx_free(&f);
}
END_TEST

/* image-consistent: holds when the images equal the controller's state; fails, naming the
 * difference, when the broker's image diverged (a record the controller never wrote). */
START_TEST(check_image_consistent_reports_a_diverged_image)
{
    struct fx f;
    struct meta_rec *recs;
    size_t n;
    fx_start(&f, "expect image-consistent\n", 10 * ENV_USEC_PER_MIN);
    world_judge(f.w);
    ck_assert_msg(fx_check(&f, "image-consistent")->held, "%s",
                  fx_check(&f, "image-consistent")->detail);
    world_destroy(f.w);
    fx_free(&f);
    fx_start(&f, "expect image-consistent\n", 10 * ENV_USEC_PER_MIN);
    ck_assert_int_eq(meta_snapshot(eng_meta(f.w->eng), &recs, &n), 0);
    for (size_t i = 0; i < n; i++) {
        if (recs[i].kind == META_REC_OBJECT && recs[i].obj->state == META_COMMITTED) {
            recs[i].obj->size += 7; /* the broker's image alone sees another size */
            ck_assert_int_eq(meta_apply((struct meta *)mdc_image(eng_mdc(f.w->eng, 0)), &recs[i], 1), 0);
            break;
        }
    }
    meta_recs_free(recs, n);
    world_judge(f.w);
    const struct run_check *k = fx_check(&f, "image-consistent");
    ck_assert_msg(!k->held, "%s", k->detail);
    ck_assert_ptr_nonnull(strstr(k->detail, "of the broker"));
    ck_assert_ptr_nonnull(strstr(k->detail, "size"));
    world_destroy(f.w);
    fx_free(&f);
}
END_TEST

/* ---- the vacuous gate ------------------------------------------------------------------ */

static void fx_text(struct fx *f, const char *text, int64_t until)
{
    struct scn_error e;
    int rc;
    memset(f, 0, sizeof *f);
    rc = scn_parse_buf("vac.scn", text, strlen(text), &f->file, &e);
    ck_assert_msg(rc == 0, "parse: %d:%d: %s", e.line, e.col, e.msg);
    ck_assert_int_eq(scn_resolve(f->file, NULL, NULL, 0, &f->spec, &e), 0);
    f->w = world_create(&f->spec, "vac.scn", NULL, &f->res, &rc);
    ck_assert_ptr_nonnull(f->w);
    world_run_loop(f->w, until);
    fx_finish(f);
}

static void vac_fails(const char *text, const char *want)
{
    struct fx f;
    fx_text(&f, text, 0);
    const struct run_check *c = fx_check(&f, "vacuous");
    ck_assert_msg(!c->held, "vacuous held: %s", c->detail);
    ck_assert_msg(strstr(c->detail, want), "%s", c->detail);
    ck_assert_int_eq(f.res.verdict, RUN_FAIL);
    ck_assert_ptr_nonnull(strstr(f.res.summary, "check=vacuous"));
    fx_free(&f);
}

START_TEST(check_vacuous_no_data_loss_without_records)
{
    vac_fails("scenario v\ndeadline 5m\nstreams 1\nat 0s compact sso\nexpect no-data-loss\n",
              "none was acknowledged");
}
END_TEST

START_TEST(check_vacuous_converged_without_action)
{
    vac_fails("scenario v\ndeadline 5m\nstreams 1\nexpect converged\n", "no action");
}
END_TEST

START_TEST(check_vacuous_must_fire_rule_that_never_fired)
{
    vac_fails("scenario v\ndeadline 5m\nstreams 1\nat 0s append stream=1 bytes=4KiB\n"
              "fault name=never get key=nowhere/* must-fire status=500\n"
              "expect no-data-loss\n",
              "rule never (line 5) is must-fire and never hit a call");
    /* The same rule on a key that is read fires: the gate holds. */
    struct fx f;
    fx_text(&f, "scenario v\ndeadline 5m\nset s3.wal.upload.interval.ms 5000\nstreams 1\n"
                "at 0s append stream=1 bytes=4KiB\n"
                "fault name=some put must-fire times=1 status=500\nexpect no-data-loss\n", 0);
    ck_assert_msg(fx_check(&f, "vacuous")->held, "%s", fx_check(&f, "vacuous")->detail);
    fx_free(&f);
}
END_TEST

START_TEST(check_vacuous_metric_never_touched)
{
    /* No SSO compaction ran in 2 minutes (interval 5m): a failure count of
     * 0 says nothing. */
    vac_fails("scenario v\ndeadline 2m\nset s3.wal.upload.interval.ms 5000\nstreams 1\n"
              "at 0s append stream=1 bytes=4KiB\nexpect metric compaction.sso.failures == 0\n",
              "compaction.sso.failures");
}
END_TEST

START_TEST(check_vacuous_action_after_the_deadline_is_an_error)
{
    static const char text[] = "scenario v\ndeadline 10m\nstreams 1\n"
                               "at 1m append stream=1 bytes=1KiB\n"
                               "at 20m crash\nexpect converged\n";
    static const char text2[] = "scenario v\ndeadline 10m\nstreams 1\n"
                                "at 1m append stream=1 bytes=1KiB\n"
                                "at 11m expect no-orphans\n";
    struct scn_file *file = NULL;
    struct scn_error e;
    ck_assert_int_eq(scn_parse_buf("late.scn", text, strlen(text), &file, &e), ERR_PARSE);
    ck_assert_int_eq(e.line, 5);
    ck_assert_int_eq(e.col, 4);
    ck_assert_ptr_nonnull(strstr(e.msg, "after the deadline"));
    scn_free(file);
    file = NULL;
    ck_assert_int_eq(scn_parse_buf("late.scn", text2, strlen(text2), &file, &e), ERR_PARSE);
    ck_assert_int_eq(e.line, 5);
    ck_assert_ptr_nonnull(strstr(e.msg, "after the deadline"));
    scn_free(file);
}
END_TEST

/* ---- checks at a moment, and the FAIL summary ------------------------------------------- */

START_TEST(check_at_a_moment_judges_the_world_then)
{
    struct fx f;
    /* At 2s nothing is uploaded yet (first upload at 5s); at 10m there is. */
    fx_start(&f, "at 2s expect metric objects.live >= 1\n"
                 "at 10m expect metric objects.live >= 1\n"
                 "at 2s expect-fail metric wal.uploads >= 1\n", 0);
    fx_finish(&f);
    int seen = 0;
    for (size_t i = 0; i < f.res.nchecks; i++) {
        const struct run_check *c = &f.res.checks[i];
        if (strcmp(c->name, "metric") || !strstr(c->args, "at="))
            continue;
        seen++;
        if (strstr(c->args, "at=2s") && !c->expect_fail)
            ck_assert_msg(!c->held, "%s", c->detail);
        else if (strstr(c->args, "at=10m"))
            ck_assert_msg(c->held, "%s", c->detail);
        else
            ck_assert_msg(!c->held && c->ok, "%s", c->detail);
    }
    ck_assert_int_eq(seen, 3);
    ck_assert_int_eq(f.res.verdict, RUN_FAIL);
    ck_assert_ptr_nonnull(strstr(f.res.summary, "at 2s"));
    fx_free(&f);
}
END_TEST

START_TEST(check_at_a_moment_refuses_whole_run_checks)
{
    static const char text[] = "scenario v\nstreams 1\nat 1m append stream=1 bytes=1KiB\n"
                               "at 2m expect converged\n";
    struct scn_file *file = NULL;
    struct scn_error e;
    ck_assert_int_eq(scn_parse_buf("m.scn", text, strlen(text), &file, &e), ERR_PARSE);
    ck_assert_int_eq(e.line, 4);
    ck_assert_ptr_nonnull(strstr(e.msg, "not at a moment"));
    scn_free(file);
}
END_TEST

START_TEST(check_fail_summary_lists_every_failed_check)
{
    struct fx f;
    fx_start(&f, "expect metric wal.uploads == 0\nexpect memory <= 1B\n", 0);
    fx_finish(&f);
    ck_assert_int_eq(f.res.verdict, RUN_FAIL);
    ck_assert_ptr_nonnull(strstr(f.res.summary, "check=memory"));
    ck_assert_ptr_nonnull(strstr(f.res.summary, "check=metric"));
    fx_free(&f);
}
END_TEST

static Suite *check_suite(void)
{
    Suite *s = suite_create("check");
    TCase *tc = tcase_create("checks");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, check_all_hold_on_a_healthy_world);
    tcase_add_test(tc, check_no_orphans_reports_a_stray_key);
    tcase_add_test(tc, check_no_missing_and_no_data_loss_report_a_deleted_object);
    tcase_add_test(tc, check_no_data_loss_reports_changed_bytes);
    tcase_add_test(tc, check_no_dangling_uploads_reports_an_open_upload);
    tcase_add_test(tc, check_no_hang_reports_an_old_wait);
    tcase_add_test(tc, check_no_hang_tolerates_a_young_wait);
    tcase_add_test(tc, check_no_hang_reports_an_empty_heap);
    tcase_add_test(tc, check_no_hang_match_needs_the_waits_text);
    tcase_add_test(tc, check_no_hang_match_only_with_expect_fail);
    tcase_add_test(tc, check_log_counts_matching_lines);
    tcase_add_test(tc, check_log_except_counts_the_other_lines);
    tcase_add_test(tc, check_metric_and_memory_compare);
    tcase_add_test(tc, check_expect_fail_turns_a_held_check_into_a_failure);
    tcase_add_test(tc, check_expect_fail_passes_when_the_check_fails);
    tcase_add_test(tc, check_same_seed_same_trace);
    tcase_add_test(tc, check_health_holds_on_a_healthy_world);
    tcase_add_test(tc, check_no_error_log_reports_an_error_line);
    tcase_add_test(tc, check_no_error_log_reports_a_fatal_line_at_any_level);
    tcase_add_test(tc, check_no_error_log_judges_the_lines_no_match_names);
    tcase_add_test(tc, check_refused_action_fails_the_run);
    tcase_add_test(tc, check_caught_up_reports_ssos_left_uncompacted);
    tcase_add_test(tc, check_image_consistent_reports_a_diverged_image);
    tcase_add_test(tc, check_caught_up_reports_stream_objects_major_would_link);
    tcase_add_test(tc, check_vacuous_no_data_loss_without_records);
    tcase_add_test(tc, check_vacuous_converged_without_action);
    tcase_add_test(tc, check_vacuous_must_fire_rule_that_never_fired);
    tcase_add_test(tc, check_vacuous_metric_never_touched);
    tcase_add_test(tc, check_vacuous_action_after_the_deadline_is_an_error);
    tcase_add_test(tc, check_at_a_moment_judges_the_world_then);
    tcase_add_test(tc, check_at_a_moment_refuses_whole_run_checks);
    tcase_add_test(tc, check_fail_summary_lists_every_failed_check);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(check_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
