/* test_reads.c - the read and race-put actions (extensions): reads-correct, the reads.*
 * metrics, the vacuous gate for reads, race-put's strangers and no-orphans, each shown
 * holding on a healthy world and failing on a world built to break it. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eng.h"
#include "fs3.h"
#include "meta.h"
#include "obj.h"
#include "scn.h"
#include "world_fx.h"

#define MIN (60 * ENV_USEC_PER_SEC)

/* Parses text, creates the world and runs it to until. */
static void fx_start(struct fx *f, const char *text, int64_t until)
{
    fx_run_text(f, "reads.scn", text, NULL, until);
}

/* Rewrites key with one byte of its first record's payload flipped (headers, index and
 * footer kept: only a comparison of the payload can tell). */
static void flip_payload_byte(struct world *w, const char *key)
{
    struct s3_req get = {.op = S3_OP_GET, .key = key, .range_start = 0, .range_end = -1};
    struct s3_result res = {0}, pres = {0};
    get.cb = (s3_cb)1; /* fs3_exec does not call it; fs3_validate wants one */
    ck_assert_int_eq(fs3_exec(w->store, &get, FS3_AS_OF_NOW, &res), 0);
    ck_assert_uint_gt(res.body_len, 10 + 33);
    res.body[10 + 33] ^= 0xff; /* after the block header (10) and the record header (33) */
    struct s3_req put = {.op = S3_OP_PUT, .key = key, .body = res.body, .body_len = res.body_len};
    put.cb = (s3_cb)1;
    ck_assert_int_eq(fs3_exec(w->store, &put, FS3_AS_OF_NOW, &pres), 0);
    s3_result_cleanup(&pres);
    s3_result_cleanup(&res);
}

static const char *const READS = "scenario r\ndeadline 4m\nset s3.wal.upload.interval.ms 5000\n"
                                 "streams 2\nat 0s append stream=all bytes=64KiB record=4KiB\n"
                                 "at 1m read stream=all\nat 2m read stream=1 from=50% bytes=8KiB\n";

START_TEST(reads_correct_holds_on_a_healthy_world)
{
    struct fx f;
    fx_start(&f, READS, 0);
    world_run_loop(f.w, f.spec.deadline_us);
    ck_assert_int_eq(fx_metric(&f, METRIC_READS), 3);
    ck_assert_int_eq(fx_metric(&f, METRIC_READS_FAILED), 0);
    /* 64 KiB of each stream, then 8 KiB (two records) from the middle of stream 1 */
    ck_assert_int_eq(fx_metric(&f, METRIC_READS_BYTES), 2 * 65536 + 8192);
    ck_assert_int_gt(fx_metric(&f, METRIC_READS_GET_MAX), 0);
    fx_finish(&f);
    ck_assert_msg(fx_check(&f, "reads-correct")->held, "%s", fx_check(&f, "reads-correct")->detail);
    ck_assert(fx_check(&f, "vacuous")->held);
    ck_assert_int_eq(f.res.verdict, RUN_PASS);
    fx_free(&f);
}
END_TEST

START_TEST(reads_correct_reports_changed_bytes)
{
    struct fx f;
    char key[OBJ_KEY_MAX] = "";
    fx_start(&f, READS, 50 * ENV_USEC_PER_SEC);
    meta_foreach(eng_meta(f.w->eng), first_committed, key);
    ck_assert_str_ne(key, "");
    flip_payload_byte(f.w, key);
    fx_finish(&f);
    const struct run_check *c = fx_check(&f, "reads-correct");
    ck_assert_msg(!c->held, "%s", c->detail);
    ck_assert_ptr_nonnull(strstr(c->detail, "payload differs at byte 0"));
    ck_assert_ptr_nonnull(strstr(f.res.summary, "check=reads-correct"));
    fx_free(&f);
}
END_TEST

/* A read that ends with an error is counted, not judged wrong; a later read of the same data
 * judges it. */
START_TEST(reads_error_is_not_a_wrong_byte)
{
    struct fx f;
    char text[1024];
    snprintf(text, sizeof text, "%sfault get job=reader from=1m until=1m30s status=404\n", READS);
    fx_start(&f, text, 0);
    world_run_loop(f.w, f.spec.deadline_us);
    ck_assert_int_eq(fx_metric(&f, METRIC_READS), 3);
    ck_assert_int_eq(fx_metric(&f, METRIC_READS_FAILED), 2);
    ck_assert_int_eq(fx_metric(&f, METRIC_READS_BYTES), 8192);
    /* each failed fetch: its first GET and the reader's two plans again (AutoMQ's retries) */
    ck_assert_int_eq(fx_metric(&f, METRIC_READS_NOT_FOUND), 6);
    fx_finish(&f);
    ck_assert(fx_check(&f, "reads-correct")->held);
    ck_assert_ptr_nonnull(strstr(fx_check(&f, "reads-correct")->detail, "2 reads failed"));
    fx_free(&f);
}
END_TEST

START_TEST(reads_vacuous_when_no_read_returns_a_record)
{
    struct fx f;
    /* The reads come before anything is acknowledged (uploads every 5 s). */
    fx_start(&f, "scenario r\ndeadline 2m\nset s3.wal.upload.interval.ms 5000\nstreams 1\n"
                 "at 0s append stream=1 bytes=4KiB\nat 1s read stream=1\n", 0);
    fx_finish(&f);
    const struct run_check *c = fx_check(&f, "vacuous");
    ck_assert_msg(!c->held, "%s", c->detail);
    ck_assert_ptr_nonnull(strstr(c->detail, "reads-correct judged no byte: 1 reads"));
    ck_assert_int_eq(f.res.verdict, RUN_FAIL);
    fx_free(&f);
    /* The same read after the upload judges 4 KiB: the gate holds. */
    fx_start(&f, "scenario r\ndeadline 2m\nset s3.wal.upload.interval.ms 5000\nstreams 1\n"
                 "at 0s append stream=1 bytes=4KiB\nat 10s read stream=1\n", 0);
    fx_finish(&f);
    ck_assert_msg(fx_check(&f, "vacuous")->held, "%s", fx_check(&f, "vacuous")->detail);
    fx_free(&f);
}
END_TEST

/* `at T expect reads-correct` judges the reads done by T. */
START_TEST(reads_correct_at_a_moment)
{
    struct fx f;
    char text[1024];
    char key[OBJ_KEY_MAX] = "";
    snprintf(text, sizeof text, "%sat 1m30s expect reads-correct\n", READS);
    fx_start(&f, text, 50 * ENV_USEC_PER_SEC);
    meta_foreach(eng_meta(f.w->eng), first_committed, key);
    flip_payload_byte(f.w, key);
    fx_finish(&f);
    for (size_t i = 0; i < f.res.nchecks; i++)
        if (strcmp(f.res.checks[i].name, "reads-correct") == 0) {
            ck_assert(!f.res.checks[i].held);
            ck_assert_ptr_nonnull(strstr(f.res.checks[i].detail, "payload differs"));
        }
    fx_free(&f);
}
END_TEST

/* A stranger race-put wrote is no orphan of the engine; the same key written by anything else
 * is, and so is a stranger whose bytes changed since. */
START_TEST(race_put_strangers_are_not_orphans)
{
    const char *text = "scenario p\ndeadline 3m\nset s3.wal.upload.interval.ms 5000\nstreams 1\n"
                       "at 0s append stream=1 bytes=8KiB\nat 30s race-put id=next\n"
                       "at 30s race-put key=a/_kafka_other/7 bytes=2KiB\n"
                       "expect no-orphans\nexpect no-data-loss\n";
    struct fx f;
    fx_start(&f, text, 0);
    fx_finish(&f);
    ck_assert_msg(fx_check(&f, "no-orphans")->held, "%s", fx_check(&f, "no-orphans")->detail);
    ck_assert(fx_check(&f, "no-data-loss")->held);
    fx_free(&f);

    fx_start(&f, text, MIN);
    /* A stray key race-put did not write, and the stranger rewritten with another size. */
    {
        static uint8_t buf[100];
        struct s3_req req = {.op = S3_OP_PUT, .key = "a/_kafka_other/7", .body = buf,
                             .body_len = sizeof buf};
        struct s3_result res = {0};
        req.cb = (s3_cb)1;
        ck_assert_int_eq(fs3_exec(f.w->store, &req, FS3_AS_OF_NOW, &res), 0);
        s3_result_cleanup(&res);
    }
    fx_finish(&f);
    ck_assert(!fx_check(&f, "no-orphans")->held);
    ck_assert_ptr_nonnull(strstr(fx_check(&f, "no-orphans")->detail, "a/_kafka_other/7"));
    fx_free(&f);
}
END_TEST

/* race-put id=next writes the key of the id the controller hands out next; the engine's own
 * upload of that id later overwrites it. */
START_TEST(race_put_next_id_is_taken_over)
{
    struct fx f;
    char key[OBJ_KEY_MAX];
    uint64_t size = 0;
    int64_t next;
    fx_start(&f, "scenario p\ndeadline 3m\nset s3.wal.upload.interval.ms 5000\nstreams 1\n"
                 "at 0s append stream=1 bytes=8KiB\nat 10s race-put id=next bytes=3KiB\n"
                 "at 20s append stream=1 bytes=8KiB\nexpect no-data-loss\nexpect no-orphans\n",
             11 * ENV_USEC_PER_SEC);
    next = meta_next_id(eng_meta(f.w->eng));
    ck_assert_int_eq(obj_key(next, meta_namespace(eng_meta(f.w->eng)), key, sizeof key), 0);
    ck_assert(fs3_key_exists(f.w->store, key, &size));
    ck_assert_uint_eq(size, 3072);
    ck_assert_int_eq(meta_classify_key(eng_meta(f.w->eng), key), META_KEY_NONE);
    world_run_loop(f.w, MIN);
    ck_assert(fs3_key_exists(f.w->store, key, &size));
    ck_assert_uint_ne(size, 3072); /* the WAL upload of id `next` */
    ck_assert_int_ne(meta_classify_key(eng_meta(f.w->eng), key), META_KEY_NONE);
    fx_finish(&f);
    ck_assert(fx_check(&f, "no-data-loss")->held);
    ck_assert(fx_check(&f, "no-orphans")->held);
    fx_free(&f);
}
END_TEST

Suite *reads_suite(void)
{
    Suite *s = suite_create("reads");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, reads_correct_holds_on_a_healthy_world);
    tcase_add_test(tc, reads_correct_reports_changed_bytes);
    tcase_add_test(tc, reads_error_is_not_a_wrong_byte);
    tcase_add_test(tc, reads_vacuous_when_no_read_returns_a_record);
    tcase_add_test(tc, reads_correct_at_a_moment);
    tcase_add_test(tc, race_put_strangers_are_not_orphans);
    tcase_add_test(tc, race_put_next_id_is_taken_over);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(reads_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
