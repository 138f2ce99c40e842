/*
 * result.h - the outcome of one run (scenario, variant, seed), as the
 * command prints it and the reports (sim/report*.c) write it.
 *
 * Plain data, owned by the struct run_result (free with run_result_free).
 * Filled by sim/world.c and sim/check.c; read by sim/run.c and sim/report.c.
 */
#ifndef S3SIM_RESULT_H
#define S3SIM_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fault.h"
#include "mdc.h"
#include "s3.h"

enum run_verdict {
    RUN_PASS = 0,
    RUN_FAIL = 1,  /* a check failed, a hang was found, or an expect-fail check held */
    RUN_ERROR = 3, /* the bench itself broke (internal error, out of memory) */
};

/* One judged check line (or the implicit no-hang). */
struct run_check {
    char *name;        /* "no-hang", "converged", "log", "metric", ... */
    char *args;        /* the line's arguments as written, "" if none */
    bool expect_fail;  /* from an expect-fail line */
    bool held;         /* did the property hold? */
    bool ok;           /* held != expect_fail: this line is satisfied */
    char *detail;      /* one line: why it held or not ("14 error lines match ...") */
    int line;          /* scenario line, 0 for the implicit no-hang */
};

/* A wait pending when the run was judged (for hangs). */
struct run_wait {
    char *who;
    char *what;
    int64_t since_us;
    int64_t age_us;
};

/* Timeline lanes of the HTML report. */
enum run_lane {
    RUN_LANE_S3 = 0,        /* one sub-lane per op: see run_event.op */
    RUN_LANE_WAL,           /* WAL uploads */
    RUN_LANE_SSO,           /* SSO compactions: runs, plans, commits */
    RUN_LANE_STREAM,        /* stream object compactions */
    RUN_LANE_CLEANER,       /* cleaner rounds and deletes */
    RUN_LANE_CRASH,         /* crashes and restarts */
    RUN_LANE_WAIT,          /* waits pending at the end (hang bars) */
    RUN_LANE_ACTION,        /* scenario actions */
    RUN_LANE_COUNT
};

/* One mark or bar on the timeline. */
struct run_event {
    int64_t t0_us, t1_us;   /* start and end (t1 == t0: a point) */
    enum run_lane lane;
    int op;                 /* RUN_LANE_S3: enum s3_op; else -1 */
    int job;                /* enum s3_job of an S3 call; else -1 */
    int effect;             /* enum fs3_effect injected, FS3_EFF_NONE if none */
    bool failed;            /* the call / step failed */
    char *label;            /* short: key, "commit sso=12", "crash broker" */
};

struct run_metric {
    const char *name;       /* static or owned by names[] below */
    int64_t value;
};

/* A new field must also be written and read by sim/rundump.c (runs.dat), or
 * `s3sim merge` loses it: ctest shard/merge-smoke compares the reports. */
struct run_result {
    char *file;             /* scenario path as given */
    char *scenario;         /* its `scenario` name */
    char *variant;          /* "base" or the variant name */
    uint64_t seed;
    enum run_verdict verdict;
    char *summary;          /* the FAIL line's reason: "check=log: 14 error lines ..." */
    char *replay;           /* "build/bin/s3sim replay FILE --variant V --seed N" */
    char profile[16];       /* engine.profile of the run ("automq", "hardened"; "" unresolved) */
    char trace_hex[65];     /* SHA-256 of the canonical trace */
    int64_t vtime_us;       /* virtual time when judged */
    uint64_t ops;           /* S3 calls */
    double wall_seconds;    /* wall time of the run (reports only; never in trace) */

    struct run_check *checks;
    size_t nchecks;

    struct run_metric *metrics;
    size_t nmetrics;
    char **metric_names;    /* owned copies for dynamic names */

    uint64_t calls_by_op[S3_OP_COUNT];
    uint64_t faults_by_op[S3_OP_COUNT][FS3_EFF_COUNT];
    uint64_t calls_by_job[S3_JOB_COUNT];
    uint64_t bytes_read, bytes_written;
    /* What the run costs (sim/cost.c prices them): calls by op and engine job,
     * and the stored bytes integrated over virtual time (sampled at every S3
     * call and at the end: byte-seconds). */
    uint64_t calls_by_op_job[S3_OP_COUNT][S3_JOB_COUNT];
    double stored_byte_seconds;
    /* Coverage matrix: injected effect × op × engine job. */
    uint64_t coverage[FS3_EFF_COUNT][S3_OP_COUNT][S3_JOB_COUNT];
    /* The same for the broker's requests to the controller (rpc-* ops, enum mdc_op): the job is
     * the request's sender (its kind=, mdc_kind_job); FS3_EFF_STATUS stands for error=CODE. */
    uint64_t rpc_coverage[FS3_EFF_COUNT][MDC_OP_COUNT][S3_JOB_COUNT];

    bool hang;              /* a hang was found */
    int64_t last_progress_us; /* -1 if none */
    struct run_wait *waits; /* pending waits at judgement (all, for a hang) */
    size_t nwaits;

    struct run_event *events; /* the timeline, in time order of t0 */
    size_t nevents, cap_events;

    char *swarm;            /* --swarm: the drawn fault subset, or NULL */
};

void run_result_free(struct run_result *r);
/* The blocks of r outlive the run that filled them: the leak gate
 * (sim/alloc.h spans) does not count them. */
void run_result_forget(struct run_result *r);

/* The coverage job of a request's sender: the stream object compactor's kinds are its job. */
static inline enum s3_job run_rpc_job(enum mdc_kind kind)
{
    switch (kind) {
    case MDC_KIND_WAL_UPLOAD: return S3_JOB_WAL_UPLOAD;
    case MDC_KIND_SSO_COMPACTION: return S3_JOB_SSO_COMPACTION;
    case MDC_KIND_FORCE_SPLIT: return S3_JOB_FORCE_SPLIT;
    case MDC_KIND_MINOR:
    case MDC_KIND_MAJOR:
    case MDC_KIND_CLEANUP: return S3_JOB_STREAM_COMPACTION;
    default: return S3_JOB_OTHER;
    }
}

/* Appends a timeline event (label copied).  Returns 0 or ERR_NOMEM. */
int run_result_event(struct run_result *r, int64_t t0, int64_t t1, enum run_lane lane, int op,
                     int job, int effect, bool failed, const char *label);

#endif /* S3SIM_RESULT_H */
