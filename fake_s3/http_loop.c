/* http_loop.c - a locked real-clock env for the fake S3's HTTP front (see http_loop.h). */
#include "http_loop.h"

#include "base_heap.h"
#include "base_prng.h"
#include "err.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct fs3_loop {
    struct env env;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* the timer thread waits here (CLOCK_MONOTONIC) */
    pthread_t thread;
    bool stop;
    double scale;
    struct timespec origin;
    struct base_heap timers; /* by (due env time, start order), as the simulator's */
    struct base_prng prng;
    env_id next_wait;
    fs3_loop_log_fn log;
    void *log_arg;
    const struct env_clock *clock; /* shared clock (party 1), or NULL: the scaled real one */
    bool asleep;                   /* the timer thread waits on cv */
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
    if (l->clock)
        return l->clock->now(l->clock->arg);
    return (int64_t)((double)hl_real_us(l) / l->scale);
}

/* Tells the shared clock (if any) whether the timer thread sleeps, and
 * until when.  Called with the lock held. */
static void hl_clock_party(struct fs3_loop *l)
{
    if (l->clock)
        l->clock->party(l->clock->arg, 1, !l->asleep,
                        l->asleep ? base_heap_peek_time(&l->timers) : ENV_TIME_NEVER);
}

static env_id hl_timer_start(struct env *env, int64_t delay_us, env_timer_cb cb, void *arg)
{
    struct fs3_loop *l = env->impl;
    env_id id = base_heap_push(&l->timers, hl_now(env) + (delay_us > 0 ? delay_us : 0), cb, arg);
    if (l->asleep) /* its due may be earlier now, before the thread wakes */
        hl_clock_party(l);
    pthread_cond_signal(&l->cv);
    return id;
}

static void hl_timer_cancel(struct env *env, env_id id)
{
    base_heap_cancel(&((struct fs3_loop *)env->impl)->timers, id);
}

static uint64_t hl_random(struct env *env)
{
    return base_prng_next(&((struct fs3_loop *)env->impl)->prng);
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
    int64_t now = hl_now(&l->env), due;
    base_heap_fn fn;
    void *arg;
    while (max-- > 0 && base_heap_peek_time(&l->timers) <= now &&
           base_heap_pop(&l->timers, &fn, &arg, &due))
        fn(arg);
}

void fs3_loop_transit(struct fs3_loop *l, uint64_t token, enum env_transit what)
{
    if (token && l->clock && l->clock->transit)
        l->clock->transit(l->clock->arg, token, what);
}

void fs3_loop_set_clock(struct fs3_loop *l, const struct env_clock *clock)
{
    pthread_mutex_lock(&l->mu);
    l->clock = clock;
    hl_clock_party(l);
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

size_t fs3_loop_pending(struct fs3_loop *l)
{
    return base_heap_len(&l->timers);
}

/* Sleeps until the earliest timer is due (or a new one is started), runs the
 * due ones, until stopped. */
static void *hl_thread(void *arg)
{
    struct fs3_loop *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        if (base_heap_len(&l->timers) == 0) {
            l->asleep = true;
            hl_clock_party(l);
            pthread_cond_wait(&l->cv, &l->mu);
            l->asleep = false;
            hl_clock_party(l);
            continue;
        }
        int64_t dv = base_heap_peek_time(&l->timers) - hl_now(&l->env);
        /* At least 1 µs while not due: a shared clock moves only while this
         * thread sleeps. */
        int64_t wait_us = dv > 0 ? (int64_t)((double)dv * l->scale) + 1 : 0;
        if (wait_us > 0) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            if (wait_us > 3600 * ENV_USEC_PER_SEC)
                wait_us = 3600 * ENV_USEC_PER_SEC;
            int64_t ns = ts.tv_nsec + (wait_us % ENV_USEC_PER_SEC) * 1000;
            ts.tv_sec += (time_t)(wait_us / ENV_USEC_PER_SEC + ns / 1000000000);
            ts.tv_nsec = (long)(ns % 1000000000);
            l->asleep = true;
            hl_clock_party(l);
            pthread_cond_timedwait(&l->cv, &l->mu, &ts);
            l->asleep = false;
            hl_clock_party(l);
            continue;
        }
        fs3_loop_run_due(l, 1024);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
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
    base_heap_init(&l->timers);
    base_prng_seed(&l->prng, seed);
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
    base_heap_free(&l->timers);
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
