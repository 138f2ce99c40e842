/* test_sim.c - the simulator core: trace, wait registry, payload (the event heap
 * and the PRNG are the base library's: test_base.c). */
#include <check.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload.h"
#include "timeline.h"
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

/* The hash takes a line's format and arguments, not its text: each argument
 * counts, where one string ends counts, a string counts up to its precision
 * only, and --trace still prints the formatted text. */
static const char *trace_of(struct sim_trace *t, const char *fmt, ...)
{
    va_list ap;
    sim_trace_init(t, NULL);
    va_start(ap, fmt);
    sim_trace_vfmt(t, 5, "eng", 512, fmt, ap);
    va_end(ap);
    return sim_trace_finish(t);
}

START_TEST(trace_hashes_format_and_arguments)
{
    struct sim_trace a, b;
    char out[256] = {0};
    FILE *f;
    ck_assert_str_eq(trace_of(&a, "put %s n=%d", "k1", 7), trace_of(&b, "put %s n=%d", "k1", 7));
    sim_trace_free(&a);
    sim_trace_free(&b);
    ck_assert_str_ne(trace_of(&a, "put %s n=%d", "k1", 7), trace_of(&b, "put %s n=%d", "k1", 8));
    sim_trace_free(&a);
    sim_trace_free(&b);
    ck_assert_str_ne(trace_of(&a, "%s%s", "ab", "c"), trace_of(&b, "%s%s", "a", "bc"));
    sim_trace_free(&a);
    sim_trace_free(&b);
    ck_assert_str_eq(trace_of(&a, "%.2s %zu", "abc", (size_t)3),
                     trace_of(&b, "%.2s %zu", "abd", (size_t)3));
    sim_trace_free(&a);
    sim_trace_free(&b);
    ck_assert_str_ne(trace_of(&a, "%.*s %.3f", 2, "abc", 1.5),
                     trace_of(&b, "%.*s %.3f", 3, "abc", 1.5));
    sim_trace_free(&a);
    sim_trace_free(&b);
    ck_assert_str_ne(trace_of(&a, "x %" PRId64, INT64_C(1) << 40),
                     trace_of(&b, "x %" PRId64, (INT64_C(1) << 40) + 1));
    sim_trace_free(&a);
    sim_trace_free(&b);
    /* the printed line: the text, as before */
    f = fmemopen(out, sizeof out - 1, "w");
    ck_assert_ptr_nonnull(f);
    sim_trace_init(&a, f);
    sim_trace_fmt(&a, 12, "s3", 768, "put %s %d%%", "k/1", 200);
    sim_trace_line(&a, 13, "act", "crash node=1");
    fclose(f);
    ck_assert_str_eq(out, "12 s3 put k/1 200%\n13 act crash node=1\n");
    ck_assert_int_eq(a.lines, 2);
    sim_trace_free(&a);
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

/* The payload as session 6 generated it, word by word: the fast paths
 * (sim/payload.c, eight words per step where the CPU has AVX-512) must give
 * these same bytes, or every run's records would change. */
static uint64_t ref_splitmix64(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void ref_payload_fill(uint64_t seed, int64_t stream, int64_t offset, uint8_t *buf,
                             size_t len)
{
    uint64_t st = seed ^ ((uint64_t)stream * UINT64_C(0x9e3779b97f4a7c15));
    uint64_t a = ref_splitmix64(&st);
    st = a ^ (uint64_t)offset;
    uint64_t h = ref_splitmix64(&st);
    for (size_t i = 0; i < len; i += 8) {
        uint64_t z = h + (i / 8) * UINT64_C(0x9e3779b97f4a7c15);
        z = (z ^ (z >> 31)) * UINT64_C(0xbf58476d1ce4e5b9);
        z ^= z >> 29;
        memcpy(buf + i, &z, len - i < 8 ? len - i : 8);
    }
}

START_TEST(payload_matches_the_reference_on_many_offsets)
{
    static const size_t lens[] = {0, 1, 7, 8, 9, 63, 64, 65, 71, 127, 128, 1000, 4096, 4109};
    static uint8_t want[4200], got[4200 + 8];
    uint64_t r = 12345;
    for (int n = 0; n < 400; n++) {
        uint64_t seed = ref_splitmix64(&r) % 1000, x = ref_splitmix64(&r);
        int64_t stream = (int64_t)(x % 64), offset = (int64_t)(ref_splitmix64(&r) >> 20);
        size_t len = lens[n % (sizeof lens / sizeof lens[0])], align = (size_t)(x >> 40) % 8;
        ref_payload_fill(seed, stream, offset, want, len);
        memset(got, 0xa5, sizeof got);
        sim_payload_fill(seed, stream, offset, got + align, len);
        ck_assert_mem_eq(got + align, want, len);
        ck_assert_int_eq(got[align + len], 0xa5); /* nothing written past len */
        ck_assert_int_eq(sim_payload_check(seed, stream, offset, got + align, len), -1);
        if (len) {
            /* Each damaged byte is the one reported, wherever it lies: in a
             * group of eight words, a lone word or the tail. */
            size_t at[3] = {0, len - 1, (size_t)(x >> 8) % len};
            for (int k = 0; k < 3; k++) {
                got[align + at[k]] ^= 0x10;
                ck_assert_int_eq(sim_payload_check(seed, stream, offset, got + align, len),
                                 (long)at[k]);
                got[align + at[k]] ^= 0x10;
            }
        }
    }
}
END_TEST

/* ---- timeline ---- */

/* Feeds the same typed events, with the texts of one wording or another, and
 * returns the result it draws. */
static void timeline_feed(struct run_result *r, const char *const texts[6])
{
    struct sim_timeline tl;
    const struct env_event ev[] = {
        {ENV_LANE_SSO, ENV_EVENT_START, 1, false, texts[0]},
        {ENV_LANE_SSO, ENV_EVENT_INSTANT, 1, false, texts[1]},
        {ENV_LANE_CLEANER, ENV_EVENT_START, 7, false, texts[2]},
        {ENV_LANE_SSO, ENV_EVENT_END, 1, true, texts[3]},
        {ENV_LANE_WAL, ENV_EVENT_END, 3, false, texts[4]}, /* no START: a mark */
        {ENV_LANE_STREAM, ENV_EVENT_INSTANT, 2, false, texts[5]},
    };
    memset(r, 0, sizeof *r);
    sim_timeline_init(&tl, 100);
    for (int i = 0; i < 6; i++)
        sim_timeline_event(&tl, r, 10 * (i + 1), &ev[i]);
    sim_timeline_finish(&tl, r, 100);
}

START_TEST(timeline_ignores_the_wording_of_lines)
{
    /* The old wording, and one in which no line says "start", "end" or
     * "fail", and a mark says "start": the same picture. */
    static const char *const old[6] = {
        "sso-compaction run=1 start ssos=3", "sso-compaction run=1 compact plan=1/1",
        "cleaner clean 7 objects=2",         "sso-compaction run=1 end failed",
        "wal-upload commit sso=3",           "scmp commit stream=2"};
    static const char *const reworded[6] = {"compaction 1 begins on 3 objects",
                                            "plan 1 of 1 goes on",
                                            "deleting 2 objects",
                                            "compaction 1 gave up",
                                            "upload made object 3",
                                            "start of nothing, end of nothing"};
    struct run_result a, b;
    timeline_feed(&a, old);
    timeline_feed(&b, reworded);
    ck_assert_uint_eq(a.nevents, 5);
    ck_assert_uint_eq(b.nevents, a.nevents);
    for (size_t i = 0; i < a.nevents; i++) {
        ck_assert_int_eq(a.events[i].t0_us, b.events[i].t0_us);
        ck_assert_int_eq(a.events[i].t1_us, b.events[i].t1_us);
        ck_assert_int_eq(a.events[i].lane, b.events[i].lane);
        ck_assert_int_eq(a.events[i].failed, b.events[i].failed);
    }
    /* What it draws: the SSO run as a failed bar from 10 to 40, its plan a
     * mark at 20, the WAL mark at 50, the stream mark at 60, and the cleaner
     * job still open at the end, a failed bar from 30 to 100. */
    bool sso_bar = false, cleaner_bar = false;
    for (size_t i = 0; i < b.nevents; i++) {
        const struct run_event *e = &b.events[i];
        if (e->lane == RUN_LANE_SSO && e->t0_us == 10) {
            sso_bar = e->t1_us == 40 && e->failed;
            ck_assert_str_eq(e->label, "compaction 1 gave up");
        }
        if (e->lane == RUN_LANE_CLEANER) {
            cleaner_bar = e->t0_us == 30 && e->t1_us == 100 && e->failed;
            ck_assert_str_eq(e->label, "deleting 2 objects (still running)");
        }
        if (e->lane == RUN_LANE_STREAM)
            ck_assert(e->t0_us == 60 && e->t1_us == 60 && !e->failed);
    }
    ck_assert(sso_bar);
    ck_assert(cleaner_bar);
    run_result_free(&a);
    run_result_free(&b);
}
END_TEST

START_TEST(timeline_bars_are_keyed_by_lane_and_id)
{
    struct run_result r;
    struct sim_timeline tl;
    memset(&r, 0, sizeof r);
    sim_timeline_init(&tl, 100);
    /* Two jobs of one lane overlap: each END closes its own START. */
    sim_timeline_event(&tl, &r, 1,
                       &(struct env_event){ENV_LANE_CLEANER, ENV_EVENT_START, 1, 0, "a"});
    sim_timeline_event(&tl, &r, 2,
                       &(struct env_event){ENV_LANE_CLEANER, ENV_EVENT_START, 2, 0, "b"});
    sim_timeline_event(&tl, &r, 5,
                       &(struct env_event){ENV_LANE_CLEANER, ENV_EVENT_END, 1, 0, "a."});
    sim_timeline_event(&tl, &r, 9,
                       &(struct env_event){ENV_LANE_CLEANER, ENV_EVENT_END, 2, 0, "b."});
    sim_timeline_finish(&tl, &r, 100);
    ck_assert_uint_eq(r.nevents, 2);
    for (size_t i = 0; i < 2; i++) {
        const struct run_event *e = &r.events[i];
        ck_assert_int_eq(e->t1_us, e->t0_us == 1 ? 5 : 9);
        ck_assert_str_eq(e->label, e->t0_us == 1 ? "a." : "b.");
    }
    run_result_free(&r);
}
END_TEST

static Suite *sim_suite(void)
{
    Suite *s = suite_create("sim");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, trace_hash_depends_on_every_line);
    tcase_add_test(tc, trace_empty_is_sha256_of_nothing);
    tcase_add_test(tc, trace_hashes_format_and_arguments);
    tcase_add_test(tc, waits_track_pending_and_progress);
    tcase_add_test(tc, payload_is_pure_and_detects_changes);
    tcase_add_test(tc, payload_matches_the_reference_on_many_offsets);
    tcase_add_test(tc, timeline_ignores_the_wording_of_lines);
    tcase_add_test(tc, timeline_bars_are_keyed_by_lane_and_id);
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
