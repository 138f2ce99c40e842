/* test_base.c - the base library (src/base/): the (time, seq) timer heap, the
 * PRNG, the byte buffer with a cap; and the three event loops that use the
 * heap (the world's is covered by every scenario; env_real and the fake S3's
 * HTTP loop here); the texts the env helpers (src/env.c) give the log, trace
 * and event sinks. */
#include <check.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "base_buf.h"
#include "base_heap.h"
#include "base_prng.h"
#include "env_real.h"
#include "http_loop.h"

/* ---- helpers ---- */

struct fired {
    int order[256];
    int n;
};

static struct fired fired;

static void record_fire(void *arg)
{
    if (fired.n < 256)
        fired.order[fired.n++] = (int)(intptr_t)arg;
}

static void drain(struct base_heap *h)
{
    base_heap_fn fn;
    void *arg;
    int64_t t;
    while (base_heap_pop(h, &fn, &arg, &t))
        fn(arg);
}

/* ---- heap ---- */

START_TEST(heap_orders_by_time)
{
    struct base_heap h;
    base_heap_init(&h);
    fired.n = 0;
    base_heap_push(&h, 30, record_fire, (void *)3);
    base_heap_push(&h, 10, record_fire, (void *)1);
    base_heap_push(&h, 20, record_fire, (void *)2);
    ck_assert_int_eq(base_heap_peek_time(&h), 10);
    drain(&h);
    ck_assert_int_eq(fired.n, 3);
    ck_assert_int_eq(fired.order[0], 1);
    ck_assert_int_eq(fired.order[1], 2);
    ck_assert_int_eq(fired.order[2], 3);
    ck_assert_int_eq(base_heap_peek_time(&h), INT64_MAX);
    base_heap_free(&h);
}
END_TEST

START_TEST(heap_ties_come_out_in_push_order)
{
    struct base_heap h;
    uint64_t ids[40];
    base_heap_init(&h);
    fired.n = 0;
    for (int i = 0; i < 40; i++)
        ids[i] = base_heap_push(&h, i % 2 ? 5 : 7, record_fire, (void *)(intptr_t)i);
    /* Cancelling some of the tied events moves nodes around in the array; the
     * rest must still come out first by time, then by push order. */
    ck_assert(base_heap_cancel(&h, ids[1]));
    ck_assert(base_heap_cancel(&h, ids[20]));
    drain(&h);
    ck_assert_int_eq(fired.n, 38);
    int k = 0;
    for (int i = 1; i < 40; i += 2)
        if (i != 1)
            ck_assert_int_eq(fired.order[k++], i);
    for (int i = 0; i < 40; i += 2)
        if (i != 20)
            ck_assert_int_eq(fired.order[k++], i);
    base_heap_free(&h);
}
END_TEST

START_TEST(heap_cancel_removes_only_that_event)
{
    struct base_heap h;
    uint64_t ids[10];
    base_heap_init(&h);
    fired.n = 0;
    for (int i = 0; i < 10; i++)
        ids[i] = base_heap_push(&h, 100 - i, record_fire, (void *)(intptr_t)i);
    ck_assert(base_heap_cancel(&h, ids[3]));
    ck_assert(!base_heap_cancel(&h, ids[3])); /* already cancelled */
    ck_assert(!base_heap_cancel(&h, 0));
    ck_assert(!base_heap_cancel(&h, (UINT64_C(1) << 32) | 999)); /* never handed out */
    ck_assert_int_eq(base_heap_len(&h), 9);
    drain(&h);
    ck_assert_int_eq(fired.n, 9);
    for (int i = 0; i < 9; i++)
        ck_assert_int_ne(fired.order[i], 3);
    ck_assert_int_eq(fired.order[0], 9);
    /* A stale handle whose slot was reused must not cancel the new event. */
    uint64_t id = base_heap_push(&h, 1, record_fire, (void *)42);
    ck_assert(!base_heap_cancel(&h, ids[0]));
    ck_assert_int_eq(base_heap_len(&h), 1);
    ck_assert(base_heap_cancel(&h, id));
    ck_assert_int_eq(base_heap_len(&h), 0);
    base_heap_free(&h);
}
END_TEST

/* An event's callback may cancel another pending one (a timer that stops a
 * sibling timer), and push new ones. */
static struct base_heap *cb_heap;
static uint64_t cb_victim;
static void cancel_victim(void *arg)
{
    record_fire(arg);
    ck_assert(base_heap_cancel(cb_heap, cb_victim));
    base_heap_push(cb_heap, 0, record_fire, (void *)77); /* in the past: next out */
}

START_TEST(heap_callback_may_cancel_and_push)
{
    struct base_heap h;
    base_heap_init(&h);
    cb_heap = &h;
    fired.n = 0;
    base_heap_push(&h, 10, cancel_victim, (void *)1);
    cb_victim = base_heap_push(&h, 20, record_fire, (void *)2);
    base_heap_push(&h, 30, record_fire, (void *)3);
    drain(&h);
    ck_assert_int_eq(fired.n, 3);
    ck_assert_int_eq(fired.order[0], 1);
    ck_assert_int_eq(fired.order[1], 77);
    ck_assert_int_eq(fired.order[2], 3);
    base_heap_free(&h);
}
END_TEST

/* The heap against a plain array (the model): random pushes, cancels and pops,
 * every pop must be the model's smallest (time, push order). */
START_TEST(heap_matches_a_model_under_random_operations)
{
    enum { N = 4000 };
    struct base_heap h;
    struct base_prng p;
    static struct {
        int64_t time;
        uint64_t handle;
        bool live;
    } m[N];
    int nm = 0, live = 0;
    base_heap_init(&h);
    base_prng_seed(&p, 99);
    for (int step = 0; step < 3 * N; step++) {
        uint64_t r = base_prng_next(&p);
        if (r % 4 < 2 && nm < N) { /* push; times collide often */
            m[nm].time = (int64_t)(r >> 8) % 50;
            m[nm].handle = base_heap_push(&h, m[nm].time, record_fire, (void *)(intptr_t)nm);
            ck_assert_uint_ne(m[nm].handle, 0);
            m[nm].live = true;
            nm++;
            live++;
        } else if (r % 4 == 2 && nm > 0) { /* cancel any entry, live or not */
            int i = (int)((r >> 8) % (uint64_t)nm);
            ck_assert(base_heap_cancel(&h, m[i].handle) == m[i].live);
            live -= m[i].live;
            m[i].live = false;
        } else { /* pop: the first live entry with the smallest time */
            int best = -1;
            base_heap_fn fn;
            void *arg;
            int64_t t;
            for (int i = 0; i < nm; i++)
                if (m[i].live && (best < 0 || m[i].time < m[best].time))
                    best = i;
            ck_assert(base_heap_pop(&h, &fn, &arg, &t) == (best >= 0));
            if (best >= 0) {
                ck_assert_int_eq((intptr_t)arg, best);
                ck_assert_int_eq(t, m[best].time);
                m[best].live = false;
                live--;
            }
        }
        ck_assert_uint_eq(base_heap_len(&h), (uint32_t)live);
    }
    base_heap_free(&h);
    ck_assert_uint_eq(base_heap_len(&h), 0);
}
END_TEST

/* Cancelled events stay in the array until they reach the top; when they
 * outnumber the live ones (plus 1024) a push compacts the array.  What comes
 * out is unchanged: the live events by (time, push order). */
START_TEST(heap_compacts_cancelled_nodes_in_order)
{
    enum { N = 6000 };
    struct base_heap h;
    static uint64_t ids[N];
    base_heap_fn fn;
    void *arg;
    int64_t t, last_t = -1;
    intptr_t last_i = -1;
    int n = 0;
    base_heap_init(&h);
    for (int i = 0; i < N; i++)
        ids[i] = base_heap_push(&h, (i * 7919) % 100, record_fire, (void *)(intptr_t)i);
    for (int i = 0; i < N; i++)
        if (i % 6)
            ck_assert(base_heap_cancel(&h, ids[i]));
    ck_assert_uint_eq(base_heap_len(&h), N / 6);
    ck_assert_uint_eq(h.n, N); /* lazily: nothing removed yet */
    ck_assert(!base_heap_cancel(&h, ids[1])); /* stale while its node is still there */
    ck_assert_uint_ne(base_heap_push(&h, 1000, record_fire, (void *)(intptr_t)N), 0);
    ck_assert_uint_eq(h.n, N / 6 + 1); /* compacted */
    while (base_heap_pop(&h, &fn, &arg, &t)) {
        intptr_t i = (intptr_t)arg;
        ck_assert(i == N || i % 6 == 0);
        ck_assert(t > last_t || (t == last_t && i > last_i));
        last_t = t;
        last_i = i;
        n++;
    }
    ck_assert_int_eq(n, N / 6 + 1);
    ck_assert_int_eq(t, 1000);
    base_heap_free(&h);
}
END_TEST

START_TEST(heap_free_drops_pending_and_reuses)
{
    struct base_heap h;
    base_heap_init(&h);
    fired.n = 0;
    for (int i = 0; i < 1000; i++) /* past the first allocation of 64 */
        ck_assert_uint_ne(base_heap_push(&h, i, record_fire, (void *)(intptr_t)i), 0);
    base_heap_free(&h);
    ck_assert_int_eq(fired.n, 0);
    ck_assert_uint_eq(base_heap_len(&h), 0);
    base_heap_push(&h, 5, record_fire, (void *)5);
    drain(&h);
    ck_assert_int_eq(fired.n, 1);
    ck_assert_int_eq(fired.order[0], 5);
    base_heap_free(&h);
}
END_TEST

/* Out of memory while growing either array: push returns 0 and the heap is
 * as it was (sim/alloc.h injects the failures). */
START_TEST(heap_push_out_of_memory_changes_nothing)
{
    struct base_heap h;
    base_heap_init(&h);
    fired.n = 0;
    for (int i = 0; i < 64; i++) /* fills the first allocation of both arrays */
        ck_assert_uint_ne(base_heap_push(&h, 64 - i, record_fire, (void *)(intptr_t)i), 0);
    sim_alloc_fail_nth(1); /* the node array's growth */
    ck_assert_uint_eq(base_heap_push(&h, 0, record_fire, (void *)100), 0);
    ck_assert_uint_eq(sim_alloc_injected(), 1);
    ck_assert_uint_eq(base_heap_len(&h), 64);
    sim_alloc_fail_nth(2); /* the slot array's growth, after the nodes grew */
    ck_assert_uint_eq(base_heap_push(&h, 0, record_fire, (void *)101), 0);
    ck_assert_uint_eq(sim_alloc_injected(), 1);
    sim_alloc_fail_off();
    ck_assert_uint_eq(base_heap_len(&h), 64);
    ck_assert_int_eq(base_heap_peek_time(&h), 1);
    drain(&h);
    ck_assert_int_eq(fired.n, 64);
    for (int i = 0; i < 64; i++)
        ck_assert_int_eq(fired.order[i], 63 - i);
    /* and it works again once memory is back */
    ck_assert_uint_ne(base_heap_push(&h, 0, record_fire, (void *)102), 0);
    base_heap_free(&h);
}
END_TEST

/* ---- prng ---- */

START_TEST(prng_same_seed_same_stream)
{
    struct base_prng a, b, c;
    base_prng_seed(&a, 42);
    base_prng_seed(&b, 42);
    base_prng_seed(&c, 43);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = base_prng_next(&a);
        ck_assert_uint_eq(x, base_prng_next(&b));
        differ += x != base_prng_next(&c);
    }
    ck_assert_int_gt(differ, 990);
}
END_TEST

START_TEST(prng_known_vectors)
{
    /* splitmix64 from 0: the reference implementation's first output. */
    uint64_t st = 0;
    ck_assert_uint_eq(base_splitmix64(&st), UINT64_C(0xe220a8397b1dcdaf));
    /* xoshiro256** from the state {1, 2, 3, 4}: the reference outputs. */
    struct base_prng p = {{1, 2, 3, 4}};
    ck_assert_uint_eq(base_prng_next(&p), 11520);
    ck_assert_uint_eq(base_prng_next(&p), 0);
    ck_assert_uint_eq(base_prng_next(&p), 1509978240);
    ck_assert_uint_eq(base_prng_next(&p), UINT64_C(1215971899390074240));
    /* Seeding is four splitmix64 steps of the seed. */
    base_prng_seed(&p, 0);
    ck_assert_uint_eq(p.s[0], UINT64_C(0xe220a8397b1dcdaf));
}
END_TEST

/* ---- byte buffer ---- */

START_TEST(buf_grows_and_keeps_every_byte)
{
    struct base_buf b = {0};
    static char want[100000];
    size_t len = 0;
    char *s;
    for (size_t i = 0; len < sizeof want - 300; i++) {
        char chunk[300];
        size_t n = (i * 37) % sizeof chunk;
        for (size_t j = 0; j < n; j++)
            chunk[j] = (char)('a' + (i + j) % 26);
        ck_assert(base_buf_add(&b, chunk, n));
        memcpy(want + len, chunk, n);
        len += n;
        ck_assert_uint_eq(b.len, len);
        ck_assert_int_eq(b.p[b.len], '\0');
    }
    ck_assert_uint_ge(b.cap, len + 1);
    ck_assert_mem_eq(b.p, want, len);
    size_t got = 0;
    s = base_buf_take(&b, &got);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(got, len);
    ck_assert_mem_eq(s, want, len);
    ck_assert_ptr_null(b.p); /* the caller owns the bytes now */
    ck_assert_uint_eq(b.len, 0);
    free(s);
}
END_TEST

START_TEST(buf_addf_has_no_length_limit)
{
    struct base_buf b = {0};
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert(base_buf_adds(&b, "<"));
    ck_assert(base_buf_addf(&b, "%s|%d", big, 42));
    ck_assert_uint_eq(b.len, 1 + 4999 + 3);
    ck_assert_str_eq(b.p + b.len - 4, "x|42");
    base_buf_free(&b);
    ck_assert_ptr_null(b.p);
    ck_assert_uint_eq(b.len, 0);
}
END_TEST

START_TEST(buf_cap_fails_and_sticks)
{
    struct base_buf b = {.max = 10};
    ck_assert(base_buf_adds(&b, "0123456789")); /* exactly the cap */
    ck_assert(!b.failed);
    ck_assert(!base_buf_add(&b, "a", 1)); /* one past it */
    ck_assert(b.failed);
    ck_assert(b.toobig);
    ck_assert_str_eq(b.p, "0123456789"); /* what came before is kept */
    ck_assert(!base_buf_add(&b, "", 0)); /* sticky, even for nothing */
    ck_assert(!base_buf_addf(&b, "%d", 1));
    size_t len = 99;
    ck_assert_ptr_null(base_buf_take(&b, &len));
    ck_assert_uint_eq(len, 99); /* untouched on failure */
    /* take left it empty, unfailed, still capped */
    ck_assert(!b.failed);
    ck_assert_uint_eq(b.max, 10);
    ck_assert(base_buf_adds(&b, "abc"));
    ck_assert(!base_buf_addf(&b, "%s", "0123456789"));
    ck_assert(b.toobig);
    base_buf_free(&b);
    ck_assert(!b.failed && !b.toobig);
    ck_assert_uint_eq(b.max, 10);
}
END_TEST

START_TEST(buf_size_overflow_fails_without_allocating)
{
    struct base_buf b = {0};
    ck_assert(base_buf_adds(&b, "ab"));
    char *before = b.p;
    /* len + n + 1 would wrap around: refused before any realloc. */
    ck_assert(!base_buf_add(&b, "x", SIZE_MAX - 1));
    ck_assert(b.failed && b.toobig);
    ck_assert_ptr_eq(b.p, before);
    ck_assert_str_eq(b.p, "ab");
    base_buf_free(&b);
}
END_TEST

START_TEST(buf_out_of_memory_fails_and_keeps_the_bytes)
{
    struct base_buf b = {0};
    char big[1000];
    memset(big, 'y', sizeof big);
    ck_assert(base_buf_adds(&b, "kept"));
    sim_alloc_fail_nth(1);
    ck_assert(!base_buf_add(&b, big, sizeof big)); /* needs more than 256 bytes */
    ck_assert_uint_eq(sim_alloc_injected(), 1);
    sim_alloc_fail_off();
    ck_assert(b.failed);
    ck_assert(!b.toobig);
    ck_assert_str_eq(b.p, "kept");
    ck_assert(!base_buf_adds(&b, "x")); /* sticky: memory is back, the buffer failed */
    ck_assert_ptr_null(base_buf_take(&b, NULL));
    /* An empty take that cannot allocate its "" fails too. */
    sim_alloc_fail_nth(1);
    ck_assert_ptr_null(base_buf_take(&b, NULL));
    sim_alloc_fail_off();
}
END_TEST

START_TEST(buf_take_of_nothing_is_an_empty_string)
{
    struct base_buf b = {0};
    size_t len = 7;
    char *s = base_buf_take(&b, &len);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s, "");
    ck_assert_uint_eq(len, 0);
    free(s);
    s = base_buf_take(&b, NULL);
    ck_assert_ptr_nonnull(s);
    free(s);
}
END_TEST

/* ---- the env helpers' texts ---- */

/* What each sink of struct env got from the env_*f helpers. */
static struct {
    char log[128], trace[128], trace_fmt[128], event[128];
} sunk;

static void sink_log(struct env *env, enum env_level level, const char *component,
                     const char *line)
{
    (void)env, (void)level;
    snprintf(sunk.log, sizeof sunk.log, "%s: %s", component, line);
}

static void sink_trace(struct env *env, const char *line)
{
    (void)env;
    snprintf(sunk.trace, sizeof sunk.trace, "%s", line);
}

static void sink_trace_fmt(struct env *env, const char *fmt, va_list ap)
{
    (void)env;
    vsnprintf(sunk.trace_fmt, sizeof sunk.trace_fmt, fmt, ap);
}

static void sink_event(struct env *env, const struct env_event *ev)
{
    (void)env;
    snprintf(sunk.event, sizeof sunk.event, "%s", ev->text);
}

/* The log line a `log ... match=` expectation searches, and the label the report's timeline
 * draws for a typed event, are the formatted words, whichever trace sink is set: the
 * simulator's (trace_fmt: the trace hashes format and arguments, so only the event needs the
 * formatted text) and a plain one (trace). */
START_TEST(env_helpers_give_each_sink_the_formatted_text)
{
    struct env env = {.log = sink_log, .trace_fmt = sink_trace_fmt, .event = sink_event};
    memset(&sunk, 0, sizeof sunk);
    env_logf(&env, ENV_LOG_WARN, "controller", "object %d not exist when %s", 42, "mark");
    ck_assert_str_eq(sunk.log, "controller: object 42 not exist when mark");
    env_eventf(&env, ENV_LANE_SSO, ENV_EVENT_END, 7, false, "sso-compaction run=%d end %s", 7,
               "ok");
    ck_assert_str_eq(sunk.trace_fmt, "sso-compaction run=7 end ok");
    ck_assert_str_eq(sunk.event, "sso-compaction run=7 end ok");
    /* A plain trace sink, and the event: both get the line. */
    memset(&sunk, 0, sizeof sunk);
    env = (struct env){.trace = sink_trace, .event = sink_event};
    env_eventf(&env, ENV_LANE_WAL, ENV_EVENT_INSTANT, 3, false, "wal-upload commit sso=%d", 3);
    ck_assert_str_eq(sunk.trace, "wal-upload commit sso=3");
    ck_assert_str_eq(sunk.event, "wal-upload commit sso=3");
    env_tracef(&env, "cleaner clean %s", "7");
    ck_assert_str_eq(sunk.trace, "cleaner clean 7");
}
END_TEST

/* ---- the loops that use the heap ---- */

START_TEST(env_real_timers_tie_in_start_order_and_cancel_by_id)
{
    struct env_real_config cfg = {.seed = 1, .time_scale = 1};
    struct env_real *er;
    struct env *env;
    env_id ids[6];
    ck_assert_int_eq(env_real_new(&cfg, &er), 0);
    env = env_real_env(er);
    fired.n = 0;
    /* Started with a negative delay, all six are due at about the same
     * moment; in the order started, whatever the clock did in between. */
    for (int i = 0; i < 6; i++)
        ids[i] = env->timer_start(env, -1, record_fire, (void *)(intptr_t)i);
    env->timer_cancel(env, ids[2]);
    env->timer_cancel(env, ids[2]); /* stale: nothing */
    ck_assert_uint_eq(env_real_timers(er), 5);
    env_id later = env->timer_start(env, 3600 * ENV_USEC_PER_SEC, record_fire, (void *)9);
    ck_assert_uint_ne(later, 0);
    env_real_run_once(er, 0);
    ck_assert_int_eq(fired.n, 5);
    ck_assert_int_eq(fired.order[0], 0);
    ck_assert_int_eq(fired.order[1], 1);
    ck_assert_int_eq(fired.order[2], 3);
    ck_assert_int_eq(fired.order[4], 5);
    ck_assert_uint_eq(env_real_timers(er), 1);
    env->timer_cancel(env, later);
    ck_assert_uint_eq(env_real_timers(er), 0);
    /* The random stream is the base PRNG seeded with the config's seed. */
    struct base_prng p;
    base_prng_seed(&p, 1);
    ck_assert_uint_eq(env->random(env), base_prng_next(&p));
    env_real_free(er);
}
END_TEST

START_TEST(http_loop_timers_tie_in_start_order_and_cancel_by_id)
{
    struct fs3_loop *l;
    struct env *env;
    env_id ids[6];
    ck_assert_int_eq(fs3_loop_new(1.0, 7, NULL, NULL, &l), 0);
    fs3_loop_lock(l);
    env = fs3_loop_env(l);
    fired.n = 0;
    for (int i = 0; i < 6; i++)
        ids[i] = env->timer_start(env, 0, record_fire, (void *)(intptr_t)i);
    env->timer_cancel(env, ids[4]);
    ck_assert_uint_eq(fs3_loop_pending(l), 5);
    fs3_loop_run_due(l, 100);
    ck_assert_int_eq(fired.n, 5);
    ck_assert_int_eq(fired.order[3], 3);
    ck_assert_int_eq(fired.order[4], 5);
    ck_assert_uint_eq(fs3_loop_pending(l), 0);
    struct base_prng p;
    base_prng_seed(&p, 7);
    ck_assert_uint_eq(env->random(env), base_prng_next(&p));
    fs3_loop_unlock(l);
    fs3_loop_free(l);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("base");
    TCase *tc = tcase_create("heap");
    tcase_add_test(tc, heap_orders_by_time);
    tcase_add_test(tc, heap_ties_come_out_in_push_order);
    tcase_add_test(tc, heap_cancel_removes_only_that_event);
    tcase_add_test(tc, heap_callback_may_cancel_and_push);
    tcase_add_test(tc, heap_matches_a_model_under_random_operations);
    tcase_add_test(tc, heap_compacts_cancelled_nodes_in_order);
    tcase_add_test(tc, heap_free_drops_pending_and_reuses);
    tcase_add_test(tc, heap_push_out_of_memory_changes_nothing);
    suite_add_tcase(s, tc);
    tc = tcase_create("prng");
    tcase_add_test(tc, prng_same_seed_same_stream);
    tcase_add_test(tc, prng_known_vectors);
    suite_add_tcase(s, tc);
    tc = tcase_create("buf");
    tcase_add_test(tc, buf_grows_and_keeps_every_byte);
    tcase_add_test(tc, buf_addf_has_no_length_limit);
    tcase_add_test(tc, buf_cap_fails_and_sticks);
    tcase_add_test(tc, buf_size_overflow_fails_without_allocating);
    tcase_add_test(tc, buf_take_of_nothing_is_an_empty_string);
    tcase_add_test(tc, buf_out_of_memory_fails_and_keeps_the_bytes);
    suite_add_tcase(s, tc);
    tc = tcase_create("users");
    tcase_add_test(tc, env_helpers_give_each_sink_the_formatted_text);
    tcase_add_test(tc, env_real_timers_tie_in_start_order_and_cancel_by_id);
    tcase_add_test(tc, http_loop_timers_tie_in_start_order_and_cancel_by_id);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
