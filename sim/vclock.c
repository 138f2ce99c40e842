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
    if (c->awake[0] || c->awake[1])
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

struct sim_vclock *sim_vclock_new(double scale)
{
    struct sim_vclock *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->ops = (struct env_clock){c, vc_now, vc_party};
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
    free(c);
}

const struct env_clock *sim_vclock_ops(struct sim_vclock *c) { return &c->ops; }
