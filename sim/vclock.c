/* vclock.c - the shared virtual clock of --mode http (vclock.h). */
#include "vclock.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

struct sim_vclock {
    struct env_clock ops;
    pthread_mutex_t mu;
    double scale;           /* real per virtual */
    struct timespec origin; /* real time 0 */
    int64_t v0, r0;         /* virtual and real time at the last change */
    bool awake[2];          /* per party */
    int64_t due[2];         /* a sleeping party's earliest timer */
    struct vc_transit {
        uint64_t token;
        bool held; /* on the wire or in a handler (not parked on the front's loop) */
    } *tr;        /* the requests between the loops */
    size_t ntr, captr;
    size_t held;  /* how many of them hold the clock */
};

static int64_t vc_real(const struct sim_vclock *c)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)(ts.tv_sec - c->origin.tv_sec) * ENV_USEC_PER_SEC +
           (ts.tv_nsec - c->origin.tv_nsec) / 1000;
}

/* Virtual time now, under the lock: v0 while a party is awake, else v0 plus
 * the real time since the last change, scaled, never past a due. */
static int64_t vc_at(const struct sim_vclock *c)
{
    int64_t v, cap;
    if (c->awake[0] || c->awake[1] || c->held)
        return c->v0;
    v = c->v0 + (int64_t)((double)(vc_real(c) - c->r0) / c->scale);
    cap = c->due[0] < c->due[1] ? c->due[0] : c->due[1];
    if (v > cap)
        v = cap;
    return v > c->v0 ? v : c->v0;
}

static int64_t vc_now(void *arg)
{
    struct sim_vclock *c = arg;
    int64_t v;
    pthread_mutex_lock(&c->mu);
    v = vc_at(c);
    pthread_mutex_unlock(&c->mu);
    return v;
}

static void vc_party(void *arg, int party, bool awake, int64_t due)
{
    struct sim_vclock *c = arg;
    pthread_mutex_lock(&c->mu);
    c->v0 = vc_at(c); /* the time so far becomes the new origin */
    c->r0 = vc_real(c);
    c->awake[party & 1] = awake;
    c->due[party & 1] = awake ? ENV_TIME_NEVER : due;
    pthread_mutex_unlock(&c->mu);
}

static void vc_transit(void *arg, uint64_t token, enum env_transit what)
{
    struct sim_vclock *c = arg;
    size_t i;
    pthread_mutex_lock(&c->mu);
    c->v0 = vc_at(c);
    c->r0 = vc_real(c);
    for (i = 0; i < c->ntr && c->tr[i].token != token; i++)
        ;
    if (what == ENV_TRANSIT_SEND && i == c->ntr) {
        if (c->ntr == c->captr) {
            size_t cap = c->captr ? 2 * c->captr : 16;
            struct vc_transit *v = realloc(c->tr, cap * sizeof *v);
            if (!v) { /* not tracked: the request takes virtual time, as before */
                pthread_mutex_unlock(&c->mu);
                return;
            }
            c->tr = v;
            c->captr = cap;
        }
        c->tr[c->ntr++] = (struct vc_transit){token, true};
        c->held++;
    } else if (i < c->ntr) {
        bool held = what == ENV_TRANSIT_ANSWER || (what == ENV_TRANSIT_SEND && c->tr[i].held);
        if (what == ENV_TRANSIT_END) {
            if (c->tr[i].held)
                c->held--;
            c->tr[i] = c->tr[--c->ntr];
        } else if (held != c->tr[i].held) {
            c->tr[i].held = held;
            if (held)
                c->held++;
            else
                c->held--;
        }
    }
    pthread_mutex_unlock(&c->mu);
}

struct sim_vclock *sim_vclock_new(double scale)
{
    struct sim_vclock *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->ops = (struct env_clock){c, vc_now, vc_party, vc_transit};
    pthread_mutex_init(&c->mu, NULL);
    c->scale = scale > 0 ? scale : 1.0;
    clock_gettime(CLOCK_MONOTONIC, &c->origin);
    c->awake[0] = true; /* the engine's thread, setting up */
    c->due[0] = c->due[1] = ENV_TIME_NEVER;
    return c;
}

void sim_vclock_free(struct sim_vclock *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->mu);
    free(c->tr);
    free(c);
}

const struct env_clock *sim_vclock_ops(struct sim_vclock *c) { return &c->ops; }
