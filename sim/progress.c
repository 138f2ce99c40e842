/* progress.c - see progress.h. */
#include "progress.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "env.h"

#define PROGRESS_AFTER_S 2.0 /* a run shows once it has taken this long */

struct progress_slot {
    _Atomic int64_t vtime_us;
    double t_start;       /* monotonic seconds; 0: not running */
    int64_t deadline_us;
    char label[160];
};

struct progress {
    struct progress_slot *slots;
    size_t nslots;
    size_t done;
    pthread_mutex_t mu;   /* slots' t_start/label, shown, done; stderr writes */
    pthread_cond_t cv;
    pthread_t th;
    bool stop, shown;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Called with p->mu held: shows the run that has been running longest. */
static void progress_draw(struct progress *p)
{
    double now = now_s(), oldest = 0;
    struct progress_slot *s = NULL;
    size_t running = 0;
    char vt[32], dl[32];
    for (size_t i = 0; i < p->nslots; i++) {
        struct progress_slot *x = &p->slots[i];
        if (x->t_start <= 0)
            continue;
        running++;
        if (now - x->t_start >= PROGRESS_AFTER_S && (!s || x->t_start < oldest)) {
            s = x;
            oldest = x->t_start;
        }
    }
    if (!s) {
        if (p->shown) {
            fputs("\r\033[K", stderr);
            fflush(stderr);
            p->shown = false;
        }
        return;
    }
    int64_t v = atomic_load_explicit(&s->vtime_us, memory_order_relaxed);
    double el = now - s->t_start;
    env_fmt_duration(v, vt, sizeof vt);
    env_fmt_duration(s->deadline_us, dl, sizeof dl);
    double rate = el > 0 ? (double)v / 1e6 / el : 0.0;
    fprintf(stderr, "\r\033[K%s: virtual %s of %s (%.0fx real time", s->label, vt, dl, rate);
    if (rate > 0 && s->deadline_us > v) {
        char left[32];
        env_fmt_duration((int64_t)((double)(s->deadline_us - v) / rate), left, sizeof left);
        fprintf(stderr, ", about %s left", left);
    }
    fputc(')', stderr);
    if (running > 1)
        fprintf(stderr, ", %zu runs in flight", running);
    if (p->nslots > 1)
        fprintf(stderr, ", %zu of %zu done", p->done, p->nslots);
    fflush(stderr);
    p->shown = true;
}

static void *progress_main(void *arg)
{
    struct progress *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&p->cv, &p->mu, &until);
        if (!p->stop)
            progress_draw(p);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

struct progress *progress_start(size_t nslots, bool enabled)
{
    struct progress *p;
    if (!enabled || nslots == 0 || !isatty(2))
        return NULL;
    if (!(p = calloc(1, sizeof *p)) || !(p->slots = calloc(nslots, sizeof *p->slots))) {
        free(p);
        return NULL;
    }
    p->nslots = nslots;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (pthread_create(&p->th, NULL, progress_main, p) != 0) {
        free(p->slots);
        free(p);
        return NULL;
    }
    return p;
}

_Atomic int64_t *progress_begin(struct progress *p, size_t slot, const char *label,
                                int64_t deadline_us)
{
    struct progress_slot *s;
    if (!p || slot >= p->nslots)
        return NULL;
    s = &p->slots[slot];
    pthread_mutex_lock(&p->mu);
    atomic_store_explicit(&s->vtime_us, 0, memory_order_relaxed);
    snprintf(s->label, sizeof s->label, "%s", label);
    s->deadline_us = deadline_us;
    s->t_start = now_s();
    pthread_mutex_unlock(&p->mu);
    return &s->vtime_us;
}

void progress_end(struct progress *p, size_t slot)
{
    if (!p || slot >= p->nslots)
        return;
    pthread_mutex_lock(&p->mu);
    p->slots[slot].t_start = 0;
    p->done++;
    pthread_mutex_unlock(&p->mu);
}

void progress_hold(struct progress *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    if (p->shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        p->shown = false;
    }
}

void progress_release(struct progress *p)
{
    if (p)
        pthread_mutex_unlock(&p->mu);
}

void progress_stop(struct progress *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->th, NULL);
    progress_hold(p);
    progress_release(p);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->slots);
    free(p);
}
