/*
 * testenv.h - a tiny deterministic struct env for unit tests and benches.
 *
 * Virtual time starts at 0 and moves only when a timer fires.  Timers live in
 * the base library's heap (base_heap.h), keyed by (time, start sequence), so
 * timers due at the same moment fire in the order they were started (env.h);
 * a cancel removes the timer.  random() is splitmix64 (base_prng.h) from the
 * seed and counts its draws.  Waits and the
 * trace are no-ops; log lines are counted and the last one kept.
 *
 * Usage:
 *     struct tenv t;
 *     tenv_init(&t, 42);
 *     ... submit calls with &t.env ...
 *     tenv_run(&t);            // fire every timer, in order
 *     tenv_free(&t);
 *
 * Header-only (static inline), owned by the fake helper; others may reuse it.
 */
#ifndef S3SIM_TESTENV_H
#define S3SIM_TESTENV_H

#include "base_heap.h"
#include "base_prng.h"
#include "env.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tenv {
    struct env env;         /* hand &t->env to the code under test */
    int64_t now;
    uint64_t rng;           /* splitmix64 state */
    uint64_t draws;         /* random() calls so far */
    uint64_t live;          /* timers started, not fired, not cancelled */
    uint64_t fired;         /* timers fired */
    uint64_t logs;          /* log lines */
    char last_log[256];
    struct base_heap heap;  /* the pending timers */
};

static inline struct tenv *tenv_of(struct env *env) { return (struct tenv *)env->impl; }

static inline int64_t tenv_now_(struct env *env) { return tenv_of(env)->now; }

static inline uint64_t tenv_random_(struct env *env)
{
    struct tenv *t = tenv_of(env);
    t->draws++;
    return base_splitmix64(&t->rng);
}

static inline env_id tenv_timer_start_(struct env *env, int64_t delay_us, env_timer_cb cb, void *arg)
{
    struct tenv *t = tenv_of(env);
    env_id id = base_heap_push(&t->heap, t->now + (delay_us > 0 ? delay_us : 0), cb, arg);
    t->live += id != 0;
    return id;
}

static inline void tenv_timer_cancel_(struct env *env, env_id id)
{
    struct tenv *t = tenv_of(env);
    if (base_heap_cancel(&t->heap, id))
        t->live--;
}

static inline void tenv_log_(struct env *env, enum env_level level, const char *component,
                             const char *line)
{
    struct tenv *t = tenv_of(env);
    (void)level;
    t->logs++;
    snprintf(t->last_log, sizeof t->last_log, "%s: %s", component, line);
}

static inline env_id tenv_wait_begin_(struct env *env, const char *who, const char *what)
{
    (void)env;
    (void)who;
    (void)what;
    return 1;
}

static inline void tenv_wait_update_(struct env *env, env_id id, const char *what)
{
    (void)env;
    (void)id;
    (void)what;
}

static inline void tenv_wait_end_(struct env *env, env_id id)
{
    (void)env;
    (void)id;
}

static inline void tenv_init(struct tenv *t, uint64_t seed)
{
    memset(t, 0, sizeof *t);
    t->rng = seed;
    t->env.impl = t;
    t->env.now = tenv_now_;
    t->env.timer_start = tenv_timer_start_;
    t->env.timer_cancel = tenv_timer_cancel_;
    t->env.random = tenv_random_;
    t->env.log = tenv_log_;
    t->env.wait_begin = tenv_wait_begin_;
    t->env.wait_update = tenv_wait_update_;
    t->env.wait_end = tenv_wait_end_;
    t->env.trace = NULL;
    base_heap_init(&t->heap);
}

static inline void tenv_free(struct tenv *t)
{
    base_heap_free(&t->heap);
}

/* Fires the next timer due at or before until (moving time to it).
 * Returns 1 if one fired, 0 if none is due. */
static inline int tenv_step_until(struct tenv *t, int64_t until)
{
    base_heap_fn cb;
    void *arg;
    int64_t when;
    if (base_heap_peek_time(&t->heap) > until || !base_heap_pop(&t->heap, &cb, &arg, &when))
        return 0;
    t->live--;
    t->now = when;
    t->fired++;
    cb(arg);
    return 1;
}

/* Fires every timer (including those started meanwhile) until none is left. */
static inline void tenv_run(struct tenv *t)
{
    while (tenv_step_until(t, ENV_TIME_NEVER))
        ;
}

/* Fires every timer due up to time until, then sets the clock to until. */
static inline void tenv_run_until(struct tenv *t, int64_t until)
{
    while (tenv_step_until(t, until))
        ;
    if (until > t->now)
        t->now = until;
}

#endif /* S3SIM_TESTENV_H */
