/* http_loop.c - a locked real-clock env for the fake S3's HTTP front (see http_loop.h). */
#include "http_loop.h"

#include "err.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One timer; the heap is ordered by (due, seq) as the simulator's is. */
struct hl_timer {
    int64_t due;  /* env time (scaled microseconds) */
    uint64_t seq; /* start order: ties fire in the order they were started */
    env_id id;
    env_timer_cb cb;
    void *arg;
};

struct fs3_loop {
    struct env env;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* the timer thread waits here (CLOCK_MONOTONIC) */
    pthread_t thread;
    bool stop;
    double scale;
    struct timespec origin;
    struct hl_timer *heap;
    size_t n, cap;
    uint64_t seq;
    uint64_t s[4]; /* xoshiro256** state */
    env_id next_wait;
    fs3_loop_log_fn log;
    void *log_arg;
};

static int64_t hl_real_us(const struct fs3_loop *l)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)(ts.tv_sec - l->origin.tv_sec) * ENV_USEC_PER_SEC +
           (ts.tv_nsec - l->origin.tv_nsec) / 1000;
}

static int64_t hl_now(struct env *env)
{
    struct fs3_loop *l = env->impl;
    return (int64_t)((double)hl_real_us(l) / l->scale);
}

static bool hl_less(const struct hl_timer *a, const struct hl_timer *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void hl_swap(struct hl_timer *a, struct hl_timer *b)
{
    struct hl_timer t = *a;
    *a = *b;
    *b = t;
}

static void hl_up(struct fs3_loop *l, size_t i)
{
    while (i > 0 && hl_less(&l->heap[i], &l->heap[(i - 1) / 2])) {
        hl_swap(&l->heap[i], &l->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
}

static void hl_down(struct fs3_loop *l, size_t i)
{
    for (;;) {
        size_t m = i, a = 2 * i + 1, b = a + 1;
        if (a < l->n && hl_less(&l->heap[a], &l->heap[m]))
            m = a;
        if (b < l->n && hl_less(&l->heap[b], &l->heap[m]))
            m = b;
        if (m == i)
            return;
        hl_swap(&l->heap[i], &l->heap[m]);
        i = m;
    }
}

static void hl_remove_at(struct fs3_loop *l, size_t i)
{
    l->heap[i] = l->heap[--l->n];
    if (i < l->n) {
        hl_down(l, i);
        hl_up(l, i);
    }
}

static env_id hl_timer_start(struct env *env, int64_t delay_us, env_timer_cb cb, void *arg)
{
    struct fs3_loop *l = env->impl;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct hl_timer *h = realloc(l->heap, cap * sizeof *h);
        if (!h)
            return 0;
        l->heap = h;
        l->cap = cap;
    }
    l->seq++;
    l->heap[l->n] =
        (struct hl_timer){hl_now(env) + (delay_us > 0 ? delay_us : 0), l->seq, l->seq, cb, arg};
    hl_up(l, l->n++);
    pthread_cond_signal(&l->cv);
    return l->seq;
}

static void hl_timer_cancel(struct env *env, env_id id)
{
    struct fs3_loop *l = env->impl;
    for (size_t i = 0; i < l->n; i++) {
        if (l->heap[i].id == id) {
            hl_remove_at(l, i);
            return;
        }
    }
}

static uint64_t hl_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t hl_random(struct env *env)
{
    uint64_t *s = ((struct fs3_loop *)env->impl)->s;
    uint64_t r = hl_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = hl_rotl(s[3], 45);
    return r;
}

static void hl_log(struct env *env, enum env_level level, const char *component, const char *line)
{
    struct fs3_loop *l = env->impl;
    if (l->log)
        l->log(l->log_arg, level, component, line);
}

static env_id hl_wait_begin(struct env *env, const char *who, const char *what)
{
    (void)who;
    (void)what;
    return ++((struct fs3_loop *)env->impl)->next_wait;
}

static void hl_wait_update(struct env *env, env_id id, const char *what)
{
    (void)env;
    (void)id;
    (void)what;
}

static void hl_wait_end(struct env *env, env_id id)
{
    (void)env;
    (void)id;
}

void fs3_loop_run_due(struct fs3_loop *l, int max)
{
    int64_t now = hl_now(&l->env);
    while (max-- > 0 && l->n > 0 && l->heap[0].due <= now) {
        struct hl_timer t = l->heap[0];
        hl_remove_at(l, 0);
        t.cb(t.arg);
    }
}

size_t fs3_loop_pending(struct fs3_loop *l)
{
    return l->n;
}

/* Sleeps until the earliest timer is due (or a new one is started), runs the
 * due ones, until stopped. */
static void *hl_thread(void *arg)
{
    struct fs3_loop *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        if (l->n == 0) {
            pthread_cond_wait(&l->cv, &l->mu);
            continue;
        }
        int64_t wait_us = (int64_t)((double)(l->heap[0].due - hl_now(&l->env)) * l->scale);
        if (wait_us > 0) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            if (wait_us > 3600 * ENV_USEC_PER_SEC)
                wait_us = 3600 * ENV_USEC_PER_SEC;
            int64_t ns = ts.tv_nsec + (wait_us % ENV_USEC_PER_SEC) * 1000;
            ts.tv_sec += (time_t)(wait_us / ENV_USEC_PER_SEC + ns / 1000000000);
            ts.tv_nsec = (long)(ns % 1000000000);
            pthread_cond_timedwait(&l->cv, &l->mu, &ts);
            continue;
        }
        fs3_loop_run_due(l, 1024);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

static void hl_seed(struct fs3_loop *l, uint64_t seed)
{
    for (int i = 0; i < 4; i++) {
        uint64_t z = (seed += 0x9e3779b97f4a7c15u);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
        l->s[i] = z ^ (z >> 31);
    }
}

int fs3_loop_new(double time_scale, uint64_t seed, fs3_loop_log_fn log, void *log_arg,
                 struct fs3_loop **out)
{
    struct fs3_loop *l = calloc(1, sizeof *l);
    pthread_condattr_t ca;
    if (!l)
        return ERR_NOMEM;
    l->scale = time_scale > 0 ? time_scale : 1.0;
    l->log = log;
    l->log_arg = log_arg;
    hl_seed(l, seed);
    clock_gettime(CLOCK_MONOTONIC, &l->origin);
    l->env = (struct env){.impl = l,
                          .now = hl_now,
                          .timer_start = hl_timer_start,
                          .timer_cancel = hl_timer_cancel,
                          .random = hl_random,
                          .log = hl_log,
                          .wait_begin = hl_wait_begin,
                          .wait_update = hl_wait_update,
                          .wait_end = hl_wait_end};
    pthread_mutex_init(&l->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&l->thread, NULL, hl_thread, l) != 0) {
        pthread_cond_destroy(&l->cv);
        pthread_mutex_destroy(&l->mu);
        free(l);
        return ERR_IO;
    }
    *out = l;
    return 0;
}

void fs3_loop_free(struct fs3_loop *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    l->stop = true;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l->heap);
    free(l);
}

struct env *fs3_loop_env(struct fs3_loop *l)
{
    return &l->env;
}

void fs3_loop_lock(struct fs3_loop *l)
{
    pthread_mutex_lock(&l->mu);
}

void fs3_loop_unlock(struct fs3_loop *l)
{
    pthread_mutex_unlock(&l->mu);
}
