/* env_real.c - the real-clock env: poll loop, timer heap, fd watches (see env_real.h). */
#include "env_real.h"

#include "base_heap.h"
#include "base_prng.h"
#include "err.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ER_MAX_FDS 4096

struct er_watch {
    int fd;
    int events;
    env_real_fd_cb cb;
    void *arg;
};

struct er_wait {
    env_id id;
    char *who;
    char *what;
    int64_t since;
    struct er_wait *next;
};

struct env_real {
    struct env env;
    struct env_real_config cfg;
    struct timespec origin;
    struct base_heap timers; /* by (due env time, start order) */
    struct er_watch *w;
    size_t nw, wcap;
    struct pollfd *pfd; /* scratch for poll() */
    size_t pcap;
    struct base_prng prng;
    struct er_wait *waits; /* oldest first */
    struct er_wait **wtail;
    size_t nwaits;
    env_id next_wait;
};

static int64_t er_real_us(const struct env_real *er)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)(ts.tv_sec - er->origin.tv_sec) * ENV_USEC_PER_SEC +
           (ts.tv_nsec - er->origin.tv_nsec) / 1000;
}

static int64_t er_now(struct env *env)
{
    struct env_real *er = env->impl;
    if (er->cfg.clock)
        return er->cfg.clock->now(er->cfg.clock->arg);
    return (int64_t)((double)er_real_us(er) / er->cfg.time_scale);
}

/* Tells the shared clock (if any) that the loop sleeps until its earliest
 * timer, or is awake again. */
static void er_clock_party(struct env_real *er, bool awake)
{
    const struct env_clock *c = er->cfg.clock;
    if (c)
        c->party(c->arg, 0, awake, awake ? ENV_TIME_NEVER : base_heap_peek_time(&er->timers));
}

/* --- timers: the base heap, whose handles are the env's timer ids ------------- */

static env_id er_timer_start(struct env *env, int64_t delay_us, env_timer_cb cb, void *arg)
{
    struct env_real *er = env->impl;
    return base_heap_push(&er->timers, er_now(env) + (delay_us > 0 ? delay_us : 0), cb, arg);
}

static void er_timer_cancel(struct env *env, env_id id)
{
    base_heap_cancel(&((struct env_real *)env->impl)->timers, id);
}

/* --- random, log, waits ---------------------------------------------------- */

static uint64_t er_random(struct env *env)
{
    return base_prng_next(&((struct env_real *)env->impl)->prng);
}

static void er_log(struct env *env, enum env_level level, const char *component, const char *line)
{
    struct env_real *er = env->impl;
    if (er->cfg.log)
        er->cfg.log(er->cfg.log_arg, level, component, line);
}

static void er_trace(struct env *env, const char *line)
{
    struct env_real *er = env->impl;
    if (er->cfg.trace)
        er->cfg.trace(er->cfg.trace_arg, line);
}

static env_id er_wait_begin(struct env *env, const char *who, const char *what)
{
    struct env_real *er = env->impl;
    struct er_wait *w = calloc(1, sizeof *w);
    if (!w)
        return 0;
    w->who = strdup(who ? who : "");
    w->what = strdup(what ? what : "");
    if (!w->who || !w->what) {
        free(w->who);
        free(w->what);
        free(w);
        return 0;
    }
    w->id = ++er->next_wait;
    w->since = er_now(env);
    *er->wtail = w;
    er->wtail = &w->next;
    er->nwaits++;
    return w->id;
}

static struct er_wait **er_wait_find(struct env_real *er, env_id id)
{
    for (struct er_wait **p = &er->waits; *p; p = &(*p)->next)
        if ((*p)->id == id)
            return p;
    return NULL;
}

static void er_wait_update(struct env *env, env_id id, const char *what)
{
    struct er_wait **p = er_wait_find(env->impl, id);
    char *s = p ? strdup(what ? what : "") : NULL;
    if (s) {
        free((*p)->what);
        (*p)->what = s;
    }
}

static void er_wait_end(struct env *env, env_id id)
{
    struct env_real *er = env->impl;
    struct er_wait **p = er_wait_find(er, id), *w;
    if (!p)
        return;
    w = *p;
    *p = w->next;
    if (er->wtail == &w->next)
        er->wtail = p;
    er->nwaits--;
    free(w->who);
    free(w->what);
    free(w);
}

/* --- fd watches and the loop ------------------------------------------------- */

int env_real_watch(struct env_real *er, int fd, int events, env_real_fd_cb cb, void *arg)
{
    for (size_t i = 0; i < er->nw; i++) {
        if (er->w[i].fd != fd)
            continue;
        if (events == 0)
            er->w[i] = er->w[--er->nw];
        else
            er->w[i] = (struct er_watch){fd, events, cb, arg};
        return 0;
    }
    if (events == 0)
        return 0;
    if (er->nw == ER_MAX_FDS)
        return ERR_LIMIT;
    if (er->nw == er->wcap) {
        size_t cap = er->wcap ? er->wcap * 2 : 16;
        struct er_watch *w = realloc(er->w, cap * sizeof *w);
        if (!w)
            return ERR_NOMEM;
        er->w = w;
        er->wcap = cap;
    }
    er->w[er->nw++] = (struct er_watch){fd, events, cb, arg};
    return 0;
}

/* Runs the timers that are due now (not those they start for later). */
static int er_run_timers(struct env_real *er)
{
    int64_t now = er_now(&er->env), due;
    base_heap_fn fn;
    void *arg;
    int ran = 0;
    while (base_heap_peek_time(&er->timers) <= now && ran < 100000 &&
           base_heap_pop(&er->timers, &fn, &arg, &due)) {
        fn(arg);
        ran++;
    }
    return ran;
}

/* Polls the watched fds for up to wait_ms and runs the ready ones' callbacks. */
static int er_poll(struct env_real *er, int wait_ms)
{
    size_t n = er->nw;
    int ran = 0;
    /* pfd is sized here only: callbacks below may add watches, not move it. */
    if (n > er->pcap) {
        struct pollfd *p = realloc(er->pfd, er->wcap * sizeof *p);
        if (!p)
            return 0;
        er->pfd = p;
        er->pcap = er->wcap;
    }
    for (size_t i = 0; i < n; i++) {
        er->pfd[i].fd = er->w[i].fd;
        er->pfd[i].events = (short)(((er->w[i].events & ENV_REAL_IN) ? POLLIN : 0) |
                                    ((er->w[i].events & ENV_REAL_OUT) ? POLLOUT : 0));
        er->pfd[i].revents = 0;
    }
    if (poll(n ? er->pfd : NULL, (nfds_t)n, wait_ms) <= 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        short re = er->pfd[i].revents;
        int ev = ((re & POLLIN) ? ENV_REAL_IN : 0) | ((re & POLLOUT) ? ENV_REAL_OUT : 0) |
                 ((re & (POLLERR | POLLHUP | POLLNVAL)) ? 4 : 0);
        if (!ev)
            continue;
        /* A callback may change the watch list: find the fd's watch again. */
        for (size_t j = 0; j < er->nw; j++) {
            if (er->w[j].fd == er->pfd[i].fd) {
                er->w[j].cb(er->w[j].arg, er->pfd[i].fd, ev);
                ran++;
                break;
            }
        }
    }
    return ran;
}

int env_real_run_once(struct env_real *er, int64_t max_wait_us)
{
    int64_t wait_us = max_wait_us < 0 ? 1000 * ENV_USEC_PER_MS : max_wait_us;
    if (base_heap_len(&er->timers) > 0) {
        int64_t dv = base_heap_peek_time(&er->timers) - er_now(&er->env);
        /* At least 1 µs while not due: a shared clock moves only while the
         * loop sleeps. */
        int64_t until = dv > 0 ? (int64_t)((double)dv * er->cfg.time_scale) + 1 : 0;
        if (until < wait_us)
            wait_us = until < 0 ? 0 : until;
    }
    er_clock_party(er, false);
    int ran = er_poll(er, (int)((wait_us + 999) / 1000));
    er_clock_party(er, true);
    return ran + er_run_timers(er);
}

bool env_real_run_until(struct env_real *er, bool (*done)(void *arg), void *arg,
                        int64_t real_deadline_us)
{
    int64_t end = real_deadline_us < 0 ? -1 : er_real_us(er) + real_deadline_us;
    while (!done(arg)) {
        int64_t left = end < 0 ? 100 * ENV_USEC_PER_MS : end - er_real_us(er);
        if (left <= 0)
            return false;
        env_real_run_once(er, left < 100 * ENV_USEC_PER_MS ? left : 100 * ENV_USEC_PER_MS);
    }
    return true;
}

/* --- life cycle ------------------------------------------------------------ */

int env_real_new(const struct env_real_config *cfg, struct env_real **out)
{
    struct env_real *er = calloc(1, sizeof *er);
    if (!er)
        return ERR_NOMEM;
    er->cfg = *cfg;
    if (er->cfg.time_scale <= 0)
        er->cfg.time_scale = 1.0;
    base_heap_init(&er->timers);
    base_prng_seed(&er->prng, cfg->seed);
    clock_gettime(CLOCK_MONOTONIC, &er->origin);
    er->wtail = &er->waits;
    er->env = (struct env){.impl = er,
                           .now = er_now,
                           .timer_start = er_timer_start,
                           .timer_cancel = er_timer_cancel,
                           .random = er_random,
                           .log = er_log,
                           .wait_begin = er_wait_begin,
                           .wait_update = er_wait_update,
                           .wait_end = er_wait_end,
                           .trace = cfg->trace ? er_trace : NULL};
    *out = er;
    return 0;
}

void env_real_free(struct env_real *er)
{
    if (!er)
        return;
    while (er->waits)
        er_wait_end(&er->env, er->waits->id);
    base_heap_free(&er->timers);
    free(er->w);
    free(er->pfd);
    free(er);
}

const struct env_clock *env_real_clock(const struct env_real *er) { return er->cfg.clock; }

struct env *env_real_env(struct env_real *er)
{
    return &er->env;
}

double env_real_scale(const struct env_real *er)
{
    return er->cfg.time_scale;
}

size_t env_real_timers(const struct env_real *er)
{
    return base_heap_len(&er->timers);
}

size_t env_real_nwaits(const struct env_real *er)
{
    return er->nwaits;
}

void env_real_each_wait(const struct env_real *er, env_real_wait_fn fn, void *arg)
{
    for (const struct er_wait *w = er->waits; w; w = w->next)
        if (!fn(arg, w->id, w->who, w->what, w->since))
            return;
}
