/*
 * world_int.h - the inside of a world, shared by world.c (loop, env, S3
 * observer), actors.c (scenario actions) and check.c (judging).
 */
#ifndef S3SIM_WORLD_INT_H
#define S3SIM_WORLD_INT_H

#include "base_heap.h"
#include "alloc.h"
#include "base_prng.h"
#include "eng.h"
#include "mdc.h"
#include "fs3.h"
#include "meta.h"
#include "metric_names.h"
#include "result.h"
#include "scn.h"
#include "timeline.h"
#include "trace.h"
#include "wait.h"
#include "world.h"

/* Acknowledged records of one stream: runs [base, base + count), each record
 * of `size` payload bytes. */
struct world_run {
    int64_t base, count;
    uint32_t size;
};

struct world_stream {
    struct world_run *runs;
    size_t n, cap;
};

/* One scheduled `at`/`every` line: the event and its world. */
struct world_reader; /* reads.c */

struct world_timed {
    struct world *w;
    const struct scn_event *ev;
    int64_t next;
    struct world_reader *readers; /* a read line: its consumers, [1..nstreams] (reads.c) */
};

/* An object race-put wrote (reads.c). */
struct world_foreign {
    char key[256];
    uint64_t size;
};

/* A running `load` producer. */
struct world_load {
    struct world *w;
    struct scn_action act;
    double carry;              /* fractional records carried to the next tick */
};

struct world_http;        /* world_http.c: http mode */
struct world_http_opts;

struct world {
    const struct scn_spec *spec;
    _Atomic int64_t *vtime_out; /* world_opts.vtime_us */
    int64_t stored_at;          /* res->stored_byte_seconds is summed up to here */
    uint64_t stored_bytes;      /* the bucket's bytes since stored_at */
    const char *file;
    struct run_result *res;
    uint64_t seed;

    int64_t now;               /* virtual time, µs */
    struct base_heap heap;
    struct base_prng prng;
    struct sim_trace trace;
    struct sim_waits waits;
    struct env env;

    struct fs3 *store;
    struct fs3_fault *fault;
    struct world_rpc_rule {   /* the rpc-* fault rules (the metadata client's hook) */
        struct fs3_rule r;
        int64_t seen, hits;
        bool healed;
    } *rpc_rules;
    size_t nrpc;
    struct eng *eng;
    bool broker_down, controller_down;

    struct world_stream *streams; /* [1..nstreams] */
    int nstreams;
    struct world_load **loads;
    size_t nloads;
    struct world_timed *timed; /* one per spec event */
    void **owned;              /* small allocations freed at teardown (restarts) */
    size_t nowned;

    int64_t metrics[METRIC_COUNT];
    struct sim_timeline timeline; /* the engine's job bars (typed env events) */
    uint64_t *log_matches;     /* one counter per check (log checks only) */

    bool hang;                 /* a hang was found */
    int64_t hang_at;
    bool stop;                 /* end the event loop */
    uint64_t max_memory;       /* world_opts.max_memory */
    uint64_t nevents_fired;    /* events fired */
    uint64_t mem_checked_bytes; /* sim_alloc_bytes() when the budget was last read */
    uint64_t mem_gauge;        /* store bytes + program break then (world_run_loop) */
    char mem_over[300];        /* the budget was exceeded: what grew, "" if not */
    uint64_t alloc_failed0;    /* sim_alloc_failures() when the world was created */
    int64_t nomem_at;          /* virtual time an allocation failure stopped the run, or -1 */
    bool probe_pending;        /* a convergence probe is in the heap */
    int64_t converged_at;      /* first quiescent moment after the last action, -1 */
    char converged_why[256];   /* why the last probe was not quiescent */

    int verify_pending;        /* no-data-loss reads in flight */
    char dataloss[512];        /* first data-loss finding, "" if none */
    uint64_t records_checked;

    struct world_http *http;   /* http mode (world_http.h), NULL in sim mode */

    /* engine health and vacuity (check_health.c) */
    uint64_t err_lines;        /* engine log lines at error level or containing FATAL that no
                                  `log ... match=` line of the file names */
    char err_first[300];       /* the first of them */
    int64_t disrupt_at;        /* the last crash or restart of a node, -1 */
    int64_t fault_at_job[S3_JOB_COUNT]; /* the last fault hit on a call of each job, -1 */
    /* failures-explained (check_explained.c): calls the fake S3 saw fail, by
     * job (an error answer, a key of a DeleteObjects refused, swallowed,
     * cancelled, or hit by a fault rule), and those never answered */
    uint64_t s3_failed_job[S3_JOB_COUNT];
    uint64_t s3_failed, s3_unanswered;
    struct world_keyset *keyset; /* writes-once (check_calls.c): per key, its writes and deletes */
    char (*fired)[64];         /* names of the rules that hit a call */
    size_t nfired;
    int64_t reached_at;        /* the time the loop reached (http mode stops at convergence) */
    bool caught_done;          /* caught-up judged at the quiescent moment */
    bool caught_held;
    char caught_detail[400];

    /* read and race-put (reads.c) */
    bool reads_closed;         /* judging began: reads are no longer judged */
    uint64_t reads_bad;        /* reads-correct findings */
    char reads_first[400];     /* the first of them */
    struct world_foreign *foreign; /* the keys race-put wrote */
    size_t nforeign, capforeign;

    /* `at TIME expect` checks: their verdicts, one per check (NULL detail: not yet) */
    struct world_moment *moments;
    size_t moments_pending;    /* their timers still in the heap */
};

/* The verdict of a check judged at a moment. */
struct world_moment {
    struct world *w;
    size_t check;              /* index in spec->checks */
    bool held;
    char *detail;
};

/* actors.c */
void world_schedule_events(struct world *w);
/* The engine halted its broker (eng.h eng_halt_fn): crash it, restart it
 * after crash's default pause. */
void world_halt(void *arg);
int world_apply_fault(struct world *w, const struct fs3_rule *rule);

/* check_health.c: caught-up at moment t (detail: one line), the vacuity
 * gate (detail: every finding), the observer's bookkeeping. */
bool world_caught_up(struct world *w, int64_t t, char *detail, size_t dsz);
bool world_vacuous(struct world *w, char *detail, size_t dsz);
/* check_explained.c: failures-explained (detail: every finding). */
bool world_failures_explained(struct world *w, char *detail, size_t dsz);
/* The FAIL line's reason from r's checks (s's, in order): every failed check,
 * a hang first; NULL when none failed.  check.c. */
char *world_failed_summary(const struct run_result *r, const struct scn_spec *s);
/* The no-leak check of a run whose world is torn down: what its span left
 * live (sim/alloc.h) decides it, and the verdict and summary follow.
 * check_health.c. */
void world_judge_leaks(const struct scn_spec *s, struct run_result *r,
                       const struct sim_alloc_leaks *l);
/* Ends the leak span world_run began before world_create (the result's
 * blocks are not counted) and judges no-leak when spec is not NULL. */
void world_leaks_end(const struct scn_spec *spec, struct run_result *res);
/* check_calls.c: writes-once; the observer's bookkeeping for it. */
void world_note_key_call(struct world *w, const struct fs3_call_info *ci);
bool world_writes_once(struct world *w, char *detail, size_t dsz);
void world_keyset_free(struct world *w);
/* check_counted.c: requests-counted (detail: every op that differs). */
bool world_requests_counted(struct world *w, char *detail, size_t dsz);
/* The two counts' totals over every job and op (the --mode http detail). */
void world_requests_totals(struct world *w, uint64_t *sent, uint64_t *received);
void world_note_fired(struct world *w, const char *rule);
void world_rpc_heal(struct world *w, const char *name); /* NULL: every rpc-* rule */
/* The metadata client's fault hook (mdc_fault_fn): the world's rpc-* rules. */
void world_rpc_fault(void *arg, enum mdc_op op, enum mdc_kind kind, struct mdc_fault *out);
void world_note_log(struct world *w, enum env_level level, const char *component,
                    const char *line);

/* check.c */
void world_judge_moment(void *arg); /* timer callback of an `at TIME expect` check */
bool world_quiescent(struct world *w, char *why, size_t whysz);

/* A check's detail being written (check_explained.c, check_counted.c): texts
 * appended in turn into out[sz], cut at the end; n counts the findings, for
 * the caller's separators. */
struct detail_buf {
    char *out;
    size_t sz, len;
    int n;
};
void detail_addf(struct detail_buf *d, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* One finding more: sep first unless it is the first (counts it in n). */
void detail_sep(struct detail_buf *d, const char *sep);
void world_judge(struct world *w);
bool world_nomem(struct world *w); /* an allocation failed: stop (sim/alloc.h) */
void world_verify_data(struct world *w);

/* world.c */
void world_tracef(struct world *w, const char *actor, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void world_event(struct world *w, enum run_lane lane, int64_t t0, bool failed, const char *fmt,
                 ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
void world_run_loop(struct world *w, int64_t until);
void world_observe(void *arg, const struct fs3_call_info *ci);
/* Brings w->now up to the clock (http mode; nothing in sim mode). */
void world_clock(struct world *w);

/* world_http.c.  world_lock/unlock: the fake S3's loop lock in http mode
 * (nothing in sim mode), held around every access to w->store and w->fault
 * from the world (the server's threads use them too). */
void world_lock(struct world *w);
void world_unlock(struct world *w);
int world_http_setup(struct world *w, const struct world_http_opts *o, const struct fs3_config *fc,
                     struct s3_ops **ops);
void world_http_start_clock(struct world *w);
void world_http_teardown(struct world *w);
int64_t world_http_now(struct world *w);
env_id world_http_timer(struct world *w, int64_t delay_us, env_timer_cb cb, void *arg);
void world_http_cancel(struct world *w, env_id id);
uint64_t world_http_inflight(struct world *w); /* the client's calls in flight */
/* Runs the real loop until `until` (scenario time), w->stop, a hang, or,
 * when finishing, convergence. */
void world_http_run(struct world *w, int64_t until, bool finishing);

/* The steps of world_run(), for tests that build a world, break it and judge
 * it: create (setup, events scheduled; NULL and *rc on failure), finish (run
 * to the deadline or a hang, then judge into the result), destroy. */
struct world *world_create(const struct scn_spec *spec, const char *file,
                           const struct world_opts *opts, struct run_result *res, int *rc);
void world_finish(struct world *w);
/* world_create() in http mode when hopts is not NULL. */
struct world *world_create_mode(const struct scn_spec *spec, const char *file,
                                const struct world_opts *opts,
                                const struct world_http_opts *hopts, struct run_result *res,
                                int *rc);
void world_destroy(struct world *w);

#endif /* S3SIM_WORLD_INT_H */
