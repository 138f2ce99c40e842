/*
 * testenv.h - a tiny deterministic struct env for unit tests and benches.
 *
 * Virtual time starts at 0 and moves only when a timer fires.  Timers live in
 * a binary min-heap keyed by (time, start sequence), so timers due at the
 * same moment fire in the order they were started (env.h).  Cancelled timers
 * stay in the heap and are skipped (their slot's generation changed).
 * random() is splitmix64 from the seed and counts its draws.  Waits and the
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

#include "env.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tenv_slot {
    env_timer_cb cb;
    void *arg;
    uint32_t gen;  /* bumped when the timer fires or is cancelled */
    uint32_t next; /* free list link (index + 1, 0 = end) */
};

struct tenv_ev {
    int64_t when;
    uint64_t seq;
    uint32_t slot;
    uint32_t gen;
};

struct tenv {
    struct env env;         /* hand &t->env to the code under test */
    int64_t now;
    uint64_t rng;           /* splitmix64 state */
    uint64_t draws;         /* random() calls so far */
    uint64_t seq;           /* timers started so far */
    uint64_t live;          /* timers started, not fired, not cancelled */
    uint64_t fired;         /* timers fired */
    uint64_t logs;          /* log lines */
    char last_log[256];
    struct tenv_slot *slots;
    uint32_t nslots, slots_cap, free_head;
    struct tenv_ev *heap;
    size_t nheap, heap_cap;
};

static inline struct tenv *tenv_of(struct env *env) { return (struct tenv *)env->impl; }

static inline int64_t tenv_now_(struct env *env) { return tenv_of(env)->now; }

static inline uint64_t tenv_random_(struct env *env)
{
    struct tenv *t = tenv_of(env);
    uint64_t z = (t->rng += UINT64_C(0x9e3779b97f4a7c15));
    t->draws++;
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static inline int tenv_ev_less(const struct tenv_ev *a, const struct tenv_ev *b)
{
    return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static inline env_id tenv_timer_start_(struct env *env, int64_t delay_us, env_timer_cb cb, void *arg)
{
    struct tenv *t = tenv_of(env);
    uint32_t slot;
    if (t->free_head) {
        slot = t->free_head - 1;
        t->free_head = t->slots[slot].next;
    } else {
        if (t->nslots == t->slots_cap) {
            uint32_t cap = t->slots_cap ? t->slots_cap * 2 : 64;
            struct tenv_slot *n = realloc(t->slots, cap * sizeof *n);
            if (!n)
                return 0;
            t->slots = n;
            t->slots_cap = cap;
        }
        slot = t->nslots++;
        t->slots[slot].gen = 1;
    }
    if (t->nheap == t->heap_cap) {
        size_t cap = t->heap_cap ? t->heap_cap * 2 : 64;
        struct tenv_ev *n = realloc(t->heap, cap * sizeof *n);
        if (!n) {
            t->slots[slot].next = t->free_head;
            t->free_head = slot + 1;
            return 0;
        }
        t->heap = n;
        t->heap_cap = cap;
    }
    t->slots[slot].cb = cb;
    t->slots[slot].arg = arg;
    struct tenv_ev ev = {t->now + (delay_us > 0 ? delay_us : 0), t->seq++, slot,
                         t->slots[slot].gen};
    size_t i = t->nheap++;
    while (i > 0 && tenv_ev_less(&ev, &t->heap[(i - 1) / 2])) {
        t->heap[i] = t->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    t->heap[i] = ev;
    t->live++;
    return ((env_id)ev.gen << 32) | (slot + 1);
}

static inline void tenv_slot_release(struct tenv *t, uint32_t slot)
{
    t->slots[slot].gen++;
    t->slots[slot].next = t->free_head;
    t->free_head = slot + 1;
    t->live--;
}

static inline void tenv_timer_cancel_(struct env *env, env_id id)
{
    struct tenv *t = tenv_of(env);
    uint32_t slot = (uint32_t)(id & 0xffffffffu), gen = (uint32_t)(id >> 32);
    if (slot == 0 || slot > t->nslots || t->slots[slot - 1].gen != gen)
        return;
    tenv_slot_release(t, slot - 1);
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
}

static inline void tenv_free(struct tenv *t)
{
    free(t->slots);
    free(t->heap);
    t->slots = NULL;
    t->heap = NULL;
}

/* Removes the heap's minimum into *ev.  Returns 0 when the heap is empty. */
static inline int tenv_pop(struct tenv *t, struct tenv_ev *ev)
{
    if (!t->nheap)
        return 0;
    *ev = t->heap[0];
    struct tenv_ev last = t->heap[--t->nheap];
    size_t i = 0, n = t->nheap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && tenv_ev_less(&t->heap[c + 1], &t->heap[c]))
            c++;
        if (!tenv_ev_less(&t->heap[c], &last))
            break;
        t->heap[i] = t->heap[c];
        i = c;
    }
    if (n)
        t->heap[i] = last;
    return 1;
}

/* Fires the next live timer due at or before until (moving time to it).
 * Returns 1 if one fired, 0 if none is due. */
static inline int tenv_step_until(struct tenv *t, int64_t until)
{
    struct tenv_ev ev;
    while (t->nheap && t->heap[0].when <= until) {
        tenv_pop(t, &ev);
        if (t->slots[ev.slot].gen != ev.gen)
            continue; /* cancelled */
        env_timer_cb cb = t->slots[ev.slot].cb;
        void *arg = t->slots[ev.slot].arg;
        tenv_slot_release(t, ev.slot);
        t->now = ev.when;
        t->fired++;
        cb(arg);
        return 1;
    }
    return 0;
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
