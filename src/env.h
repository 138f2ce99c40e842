/*
 * env.h - the engine's only window on time, timers, chance and the outside.
 *
 * Engine code (src/) never reads a clock, calls libc random, sleeps or starts
 * a thread.  It is given a struct env and gets all of these from it, in the
 * manner of the time and random hooks of raft_io and sqlite3_vfs.
 *
 *  - sim mode: sim/ fills it with virtual time, the world's event heap and the
 *    run's one seeded PRNG; the wait registry is the world's.
 *  - http mode: src/env_real.c fills it with the monotonic clock and a poll
 *    loop (shared with the libcurl client).
 *
 * Time is in microseconds (int64_t), from an arbitrary origin (0 at the start
 * of a simulated run).  Timers are one-shot.
 *
 * Threading: an env is used by one thread only.
 */
#ifndef S3SIM_ENV_H
#define S3SIM_ENV_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ENV_USEC_PER_MS INT64_C(1000)
#define ENV_USEC_PER_SEC INT64_C(1000000)
#define ENV_USEC_PER_MIN (INT64_C(60) * ENV_USEC_PER_SEC)
#define ENV_USEC_PER_HOUR (INT64_C(60) * ENV_USEC_PER_MIN)
#define ENV_TIME_NEVER INT64_MAX /* "no deadline" / "wait forever" */

enum env_level {
    ENV_LOG_ERROR = 0,
    ENV_LOG_WARN = 1,
    ENV_LOG_INFO = 2,
    ENV_LOG_DEBUG = 3,
};

/* Returns "error", "warn", "info" or "debug". */
const char *env_level_name(enum env_level level);

/* A timer callback.  It runs from the event loop, never from inside
 * timer_start().  The timer is gone by the time it runs. */
typedef void (*env_timer_cb)(void *arg);

/* Identifies a timer or a wait; 0 is never a valid id. */
typedef uint64_t env_id;

/* The engine's background jobs, one lane each on the run's timeline. */
enum env_lane {
    ENV_LANE_WAL = 0, /* WAL uploads: stream set objects written from the WAL */
    ENV_LANE_SSO,     /* SSO compactions and force splits */
    ENV_LANE_STREAM,  /* stream object compactions */
    ENV_LANE_CLEANER, /* the cleaner: checks, deletes, deep deletes */
    ENV_LANE_COUNT
};

enum env_event_kind {
    ENV_EVENT_START = 0, /* a job starts: opens a bar on its lane */
    ENV_EVENT_END,       /* the job of the same lane and id ends: closes its bar */
    ENV_EVENT_INSTANT,   /* a moment of note within a lane: a mark */
};

/* A typed engine event (env->event).  Observers draw and count from the typed
 * fields, never from the text, so rewording an event's trace line changes
 * neither the timeline nor what is counted. */
struct env_event {
    enum env_lane lane;
    enum env_event_kind kind;
    uint64_t id;      /* the job (e.g. a compaction run's number); END closes the
                       * START of the same lane and id; 0 = none */
    bool failed;      /* the job or step failed */
    const char *text; /* the event's trace line, a label; borrowed for the call */
};

struct env {
    void *impl; /* the implementation's own state */

    /* Current time in microseconds.  Monotonic. */
    int64_t (*now)(struct env *env);

    /* Calls cb(arg) once, delay_us from now (delay_us >= 0).  Timers that
     * fire at the same moment fire in the order they were started.  Returns
     * the timer id (never 0), or 0 when out of memory. */
    env_id (*timer_start)(struct env *env, int64_t delay_us, env_timer_cb cb, void *arg);

    /* Cancels a timer that has not fired yet.  Cancelling a fired or unknown
     * timer, or id 0, does nothing.  After it returns, cb will not run. */
    void (*timer_cancel)(struct env *env, env_id id);

    /* 64 uniformly distributed random bits.  In sim mode this is the run's one
     * seeded stream: every call is a draw, so callers must draw in a fixed
     * order. */
    uint64_t (*random)(struct env *env);

    /* The log sink: one complete line, without a trailing newline.
     * component is a short word such as "cleaner" or "sso-compaction". */
    void (*log)(struct env *env, enum env_level level, const char *component, const char *line);

    /* The wait registry (docs/design.md "Seams").  Every place in the engine that waits
     * for an outcome registers a wait: who ("compaction run 3, plan 2"), on
     * what ("2 parked blocks of object 1042").  Both strings are copied.
     * wait_update replaces the "what"; wait_end removes the wait and counts
     * as progress.  Returns 0 only when out of memory (then the wait is simply
     * not tracked).  Periodic timers of idle jobs are not waits. */
    env_id (*wait_begin)(struct env *env, const char *who, const char *what);
    void (*wait_update)(struct env *env, env_id id, const char *what);
    void (*wait_end)(struct env *env, env_id id);

    /* Optional (may be NULL): one canonical trace line of an engine event
     * ("wal-upload commit sso=12 streams=3"), fed to the run's trace hash. */
    void (*trace)(struct env *env, const char *line);
    /* Optional (may be NULL): the same line as its format and arguments, for
     * a sink that hashes them without formatting the text (the simulator:
     * sim/trace.h).  When set, env_tracef() and env_eventf() use it instead
     * of trace; the line it stands for is vsnprintf(fmt, ap) cut at 511
     * bytes, as trace would get it. */
    void (*trace_fmt)(struct env *env, const char *fmt, va_list ap);

    /* Optional (may be NULL): a typed engine event, for observers (the
     * timeline).  env_eventf() sends the event's line to trace first, then
     * the event; ev and its text are borrowed for the call. */
    void (*event)(struct env *env, const struct env_event *ev);
};

enum env_transit { ENV_TRANSIT_SEND, ENV_TRANSIT_PARK, ENV_TRANSIT_ANSWER, ENV_TRANSIT_END };

/* A virtual clock shared by the loops of one process (http mode, docs/http.md
 * "Time in --mode http"), so that virtual time does not depend on how fast
 * the machine runs them.  Each loop is a party (0: the engine's, 1: the fake
 * S3's timer thread) and tells the clock when it sleeps (awake false, due =
 * its earliest timer, ENV_TIME_NEVER for none) and when it wakes (awake true).
 * The clock stands still while a party is awake, and never runs past a
 * sleeping party's due.  Both may be called from any thread. */
struct env_clock {
    void *arg;
    int64_t (*now)(void *arg);                                    /* virtual µs */
    void (*party)(void *arg, int party, bool awake, int64_t due); /* see above */
    /* Optional (may be NULL): a request between the two loops, named by a
     * token the client sends with it.  The clock also stands still while a
     * request is on the wire or in the front's handler (from SEND until the
     * front PARKs it on its loop, and from its ANSWER until the client's END),
     * so that a busy machine slowing the sockets and handler threads does not
     * turn into virtual time.  END (answered, failed or cancelled by the
     * client) forgets the token; PARK and ANSWER of a forgotten token do
     * nothing. */
    void (*transit)(void *arg, uint64_t token, enum env_transit what);
};

/* Small helpers over the function pointers, so that call sites stay short. */
static inline int64_t env_now(struct env *env) { return env->now(env); }

static inline env_id env_timer(struct env *env, int64_t delay_us, env_timer_cb cb, void *arg)
{
    return env->timer_start(env, delay_us, cb, arg);
}

static inline void env_cancel(struct env *env, env_id id)
{
    if (id)
        env->timer_cancel(env, id);
}

static inline uint64_t env_rand(struct env *env) { return (*env->random)(env); }

/* A uniform integer in [0, n) (n > 0), by Lemire's multiply-shift; exactly one
 * draw. */
uint64_t env_rand_below(struct env *env, uint64_t n);

/* A uniform double in [0, 1), one draw (53 bits). */
double env_rand_unit(struct env *env);

/* printf-style log line through env->log.  Lines longer than 1 KiB are cut. */
void env_logf(struct env *env, enum env_level level, const char *component, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* printf-style wrappers of the wait registry and the trace. */
env_id env_wait_beginf(struct env *env, const char *who, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void env_wait_updatef(struct env *env, env_id id, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static inline void env_wait_end(struct env *env, env_id id)
{
    if (id)
        env->wait_end(env, id);
}
void env_tracef(struct env *env, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* A typed event and its trace line: formats the line (cut at 511 bytes),
 * sends it to env->trace (the hash sees exactly what env_tracef() would
 * send), then sends the event, the line as its text, to env->event.  Either
 * hook may be NULL. */
void env_eventf(struct env *env, enum env_lane lane, enum env_event_kind kind, uint64_t id,
                bool failed, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

/* Formats a duration in microseconds the way the bench prints it:
 * "250ms", "12m31s", "1h2m3s", "0s".  buf needs 32 bytes.  Returns buf. */
char *env_fmt_duration(int64_t us, char *buf, size_t bufsz);

/* Formats a byte count: "512B", "1.2MiB".  buf needs 32 bytes.  Returns buf. */
char *env_fmt_size(uint64_t bytes, char *buf, size_t bufsz);

#endif /* S3SIM_ENV_H */
