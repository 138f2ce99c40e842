/*
 * clenv.h - a tiny deterministic env for the client helper's tests
 * (test_s3client.c, test_writer.c): virtual time over sim/heap, a
 * splitmix64 PRNG, the sim wait registry, and counters of logs and traces.
 * Header-only (static functions), included by one test file each.
 */
#ifndef S3SIM_TESTS_CLENV_H
#define S3SIM_TESTS_CLENV_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base_heap.h"
#include "base_prng.h"
#include "env.h"
#include "wait.h"

struct clenv {
    struct env env;
    struct base_heap heap;
    struct sim_waits waits;
    int64_t now;
    uint64_t rng;
    int nwarn, nerror, ntrace;
    char last_log[512];
    int quiet;
};

static inline int64_t clenv_now(struct env *env)
{
    return ((struct clenv *)env->impl)->now;
}

static inline env_id clenv_timer(struct env *env, int64_t delay, env_timer_cb cb, void *arg)
{
    struct clenv *e = env->impl;
    return base_heap_push(&e->heap, e->now + (delay < 0 ? 0 : delay), cb, arg);
}

static inline void clenv_cancel(struct env *env, env_id id)
{
    base_heap_cancel(&((struct clenv *)env->impl)->heap, id);
}

static inline uint64_t clenv_random(struct env *env)
{
    return base_splitmix64(&((struct clenv *)env->impl)->rng);
}

static inline void clenv_log(struct env *env, enum env_level level, const char *comp,
                             const char *line)
{
    struct clenv *e = env->impl;
    if (level == ENV_LOG_WARN)
        e->nwarn++;
    if (level == ENV_LOG_ERROR)
        e->nerror++;
    snprintf(e->last_log, sizeof e->last_log, "%s: %s", comp, line);
    if (getenv("CLENV_VERBOSE"))
        fprintf(stderr, "[%lld] %s %s: %s\n", (long long)e->now, env_level_name(level), comp, line);
}

static inline env_id clenv_wait_begin(struct env *env, const char *who, const char *what)
{
    struct clenv *e = env->impl;
    return sim_waits_begin(&e->waits, e->now, who, what);
}

static inline void clenv_wait_update(struct env *env, env_id id, const char *what)
{
    sim_waits_update(&((struct clenv *)env->impl)->waits, id, what);
}

static inline void clenv_wait_end(struct env *env, env_id id)
{
    struct clenv *e = env->impl;
    sim_waits_end(&e->waits, e->now, id);
}

static inline void clenv_trace(struct env *env, const char *line)
{
    struct clenv *e = env->impl;
    e->ntrace++;
    if (getenv("CLENV_VERBOSE"))
        fprintf(stderr, "[%lld] trace %s\n", (long long)e->now, line);
}

static inline void clenv_init(struct clenv *e, uint64_t seed)
{
    memset(e, 0, sizeof *e);
    base_heap_init(&e->heap);
    sim_waits_init(&e->waits);
    e->rng = seed;
    e->env.impl = e;
    e->env.now = clenv_now;
    e->env.timer_start = clenv_timer;
    e->env.timer_cancel = clenv_cancel;
    e->env.random = clenv_random;
    e->env.log = clenv_log;
    e->env.wait_begin = clenv_wait_begin;
    e->env.wait_update = clenv_wait_update;
    e->env.wait_end = clenv_wait_end;
    e->env.trace = clenv_trace;
}

static inline void clenv_fini(struct clenv *e)
{
    base_heap_free(&e->heap);
    sim_waits_free(&e->waits);
}

/* Fires one event; false when none is left. */
static inline int clenv_step(struct clenv *e)
{
    base_heap_fn fn;
    void *arg;
    int64_t t;
    if (!base_heap_pop(&e->heap, &fn, &arg, &t))
        return 0;
    if (t > e->now)
        e->now = t;
    fn(arg);
    return 1;
}

/* Runs events due up to until (inclusive); time ends at until. */
static inline void clenv_run_until(struct clenv *e, int64_t until)
{
    while (base_heap_len(&e->heap) && base_heap_peek_time(&e->heap) <= until)
        clenv_step(e);
    if (e->now < until)
        e->now = until;
}

/* Runs until no event is left (bounded by max events). */
static inline void clenv_run(struct clenv *e, long max)
{
    while (max-- > 0 && clenv_step(e))
        ;
}

/* The text of the first pending wait whose "what" contains s, or NULL. */
static inline const char *clenv_find_wait(struct clenv *e, const char *s)
{
    for (size_t i = 0; i < e->waits.n; i++)
        if (strstr(e->waits.v[i].what, s))
            return e->waits.v[i].what;
    return NULL;
}

#endif /* S3SIM_TESTS_CLENV_H */
