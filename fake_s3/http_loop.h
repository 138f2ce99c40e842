/*
 * http_loop.h - a real-clock struct env for the fake S3 when it is served over
 * HTTP, shared by many threads under one lock.
 *
 *   MHD worker threads ──lock──► submit to the store, run due timers ──unlock
 *   timer thread ─────── sleeps until the next timer ──lock──► runs it ──unlock
 *
 * The store and its fault shim are single-threaded: every call into them, and
 * every timer callback, runs with the loop's lock held, so they see one thread
 * at a time.  A worker that submits a call also runs the timers that are due
 * already (the store answers with zero-delay timers), so that an ordinary call
 * completes on the worker's own thread without a hop; a delayed answer is run
 * later by the timer thread.
 *
 * Time is the monotonic clock scaled: now() = elapsed real microseconds /
 * time_scale, so that scenario durations (delay=, stall) pass time_scale times
 * faster in real time (docs/scenarios.md "The command", --time-scale).
 *
 * The env's random is a seeded xoshiro256** stream; log lines go to the
 * configured callback (or nowhere); the wait registry only counts.
 */
#ifndef S3SIM_FAKE_HTTP_LOOP_H
#define S3SIM_FAKE_HTTP_LOOP_H

#include "env.h"

#include <stdint.h>

struct fs3_loop;

typedef void (*fs3_loop_log_fn)(void *arg, enum env_level level, const char *component,
                                const char *line);

/* Creates a loop and starts its timer thread.  time_scale > 0 (1 = real time).
 * log may be NULL.  Returns 0, ERR_NOMEM or ERR_IO (thread). */
int fs3_loop_new(double time_scale, uint64_t seed, fs3_loop_log_fn log, void *log_arg,
                 struct fs3_loop **out);

/* Stops the timer thread and frees the loop.  Pending timers never fire. */
void fs3_loop_free(struct fs3_loop *loop);

/* The env; call it only with the lock held (fs3_loop_lock). */
struct env *fs3_loop_env(struct fs3_loop *loop);

void fs3_loop_lock(struct fs3_loop *loop);
void fs3_loop_unlock(struct fs3_loop *loop);

/* With the lock held: runs every timer that is due now, including those that
 * the callbacks start with zero delay, at most max callbacks. */
void fs3_loop_run_due(struct fs3_loop *loop, int max);

/* Number of timers pending (lock held). */
size_t fs3_loop_pending(struct fs3_loop *loop);

/* From now on the loop's env time is clock's (the loop is its party 1); NULL
 * goes back to the scaled real clock.  clock must outlive the loop. */
void fs3_loop_set_clock(struct fs3_loop *loop, const struct env_clock *clock);

/* The requests between the client and the front (env.h, transit): PARK when a
 * request waits on the loop, ANSWER when its answer is ready.  Nothing without
 * a shared clock with a transit hook, or for token 0. */
void fs3_loop_transit(struct fs3_loop *loop, uint64_t token, enum env_transit what);

#endif /* S3SIM_FAKE_HTTP_LOOP_H */
