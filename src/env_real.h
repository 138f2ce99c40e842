/*
 * env_real.h - the real-clock struct env of http mode: a poll loop with timers
 * and fd watches, owned by one thread (the engine's).
 *
 *   engine ──env->timer_start()──► timer heap ─┐
 *   s3_curl ──env_real_watch(fd)──► poll set ──┤ env_real_run_once(): poll() until the
 *                                               │ earliest timer, run ready fds, then due timers
 *
 * Time: now() is the monotonic clock since creation, in microseconds, divided
 * by time_scale: with time_scale 0.01 a virtual second passes in 10 ms of real
 * time (docs/scenarios.md "The command", --time-scale).  Timer delays are virtual, like now().
 * Random: xoshiro256** seeded from the config.  Log: the config's callback.
 * Wait registry: a plain list, listed by env_real_each_wait().
 *
 * One of the three real-runtime exceptions of STYLE (with s3_curl and sigv4):
 * it reads the clock and sleeps in poll().  Not thread-safe: one thread.
 */
#ifndef S3SIM_ENV_REAL_H
#define S3SIM_ENV_REAL_H

#include "env.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct env_real;

typedef void (*env_real_log_fn)(void *arg, enum env_level level, const char *component,
                                const char *line);

struct env_real_config {
    uint64_t seed;       /* the random stream */
    double time_scale;   /* virtual time per real time; 0 = 1 */
    env_real_log_fn log; /* may be NULL: log lines are dropped */
    void *log_arg;
    void (*trace)(void *arg, const char *line); /* may be NULL */
    void *trace_arg;
    const struct env_clock *clock; /* may be NULL: now() is the scaled monotonic clock; else
                                      the shared clock's, and the loop is its party 0 */
};

#define ENV_REAL_IN 1  /* readable */
#define ENV_REAL_OUT 2 /* writable */

/* Called from the loop when fd is ready; events is ENV_REAL_IN/OUT (or both),
 * or 4 on an error or hang-up. */
typedef void (*env_real_fd_cb)(void *arg, int fd, int events);

/* Creates the env.  Returns 0 or ERR_NOMEM. */
int env_real_new(const struct env_real_config *cfg, struct env_real **out);

/* Frees it; pending timers never fire, watches are dropped.  NULL is fine. */
void env_real_free(struct env_real *er);

/* The env (owned by er). */
struct env *env_real_env(struct env_real *er);

/* The shared clock of the config, or NULL. */
const struct env_clock *env_real_clock(const struct env_real *er);

/* The configured time scale (virtual microseconds per real microsecond is
 * 1/scale). */
double env_real_scale(const struct env_real *er);

/* Watches fd for events (ENV_REAL_IN|OUT), replacing an earlier watch of the
 * same fd; events 0 removes the watch.  Returns 0, ERR_NOMEM or ERR_LIMIT. */
int env_real_watch(struct env_real *er, int fd, int events, env_real_fd_cb cb, void *arg);

/* Waits up to max_wait_us of real time (or until the next timer, whichever is
 * first; -1 = no limit but the timers) for fd events, dispatches them, then
 * runs every due timer.  Returns the number of callbacks run. */
int env_real_run_once(struct env_real *er, int64_t max_wait_us);

/* Runs the loop until done(arg) returns true, or until real_deadline_us of
 * real time has passed (-1 = no deadline).  Returns true when done. */
bool env_real_run_until(struct env_real *er, bool (*done)(void *arg), void *arg,
                        int64_t real_deadline_us);

/* Timers pending, and waits registered. */
size_t env_real_timers(const struct env_real *er);
size_t env_real_nwaits(const struct env_real *er);

/* Calls fn for each registered wait, oldest first; stop by returning false.
 * since_us is the env time at wait_begin. */
typedef bool (*env_real_wait_fn)(void *arg, env_id id, const char *who, const char *what,
                                 int64_t since_us);
void env_real_each_wait(const struct env_real *er, env_real_wait_fn fn, void *arg);

#endif /* S3SIM_ENV_REAL_H */
