/*
 * tools.h - `s3sim sweep` and `s3sim shrink` (docs/tools.md "s3sim sweep" and "s3sim shrink"),
 * and the helpers they share: run one spec, print its line as `s3sim run`
 * does, name the way a run failed.
 *
 *   sweep:  spec + "OP nth=K EFFECT" for K = 1, 2, ... ─► one world_run each,
 *           until a run sees fewer than K calls of OP
 *   shrink: failing spec ─► delta debugging over events, faults, checks and
 *           knobs, then smaller values (deadline, streams, bytes, rates,
 *           counts, periods) ─► the smallest spec found that fails the same way
 *
 * Every run is one world_run on the calling thread; nothing here keeps state
 * between calls.  Ownership: specs are borrowed; results are filled into the
 * caller's structs (free with scn_spec_free / run_result_free).
 */
#ifndef S3SIM_TOOLS_H
#define S3SIM_TOOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "result.h"
#include "scn.h"

/* ---- shared -------------------------------------------------------------------------- */

/* Runs spec (its seed is the run's seed) with world_run and fills *res (zeroed
 * by the caller) and its file, scenario, variant and seed fields.  trace: the
 * --trace stream or NULL.  Returns world_run's code. */
int tools_run(const struct scn_spec *spec, const char *file, FILE *trace, struct run_result *res);

/* Prints r as `s3sim run` prints a run (PASS line, or FAIL/ERROR line and its
 * replay line; hang waits on stderr).  suffix (may be NULL) is appended to the
 * PASS/FAIL line.  quiet: PASS lines are not printed. */
void tools_print_result(FILE *out, const struct run_result *r, bool quiet, const char *suffix);

/* How r failed, as a short text: "" when it passed, "hang" for a hang,
 * "error" when the bench broke, else "check=NAME ARGS" of the first failing
 * check line ("check=expect-fail NAME ARGS" for an expect-fail line that held).
 * shape: the check's detail follows, with every number (and the unit or
 * digits glued to it: "49m00s", "64KiB", "0x1f") written as N, so that
 * "never quiescent after 49m00s: 0 objects prepared, 40 marked" and "... after
 * 1s: 1 S3 calls in flight" differ while counts and times may change.  Two
 * runs fail the same way when their signatures are equal. */
char *tools_signature(const struct run_result *r, bool shape, char *buf, size_t bufsz);

/* Appends text to buf at *off (kept NUL-terminated, cut at bufsz) with every
 * number-like word (a digit that starts a word, and the digits, dots and
 * letters glued to it) written as N: the masking of tools_signature's shape.
 * A digit inside a name ("s3.faults", "F04") is kept. */
void tools_shape(const char *text, char *buf, size_t bufsz, size_t *off);

/* Adds a copy of rule to spec's top-level faults: first (tried before the
 * file's own rules) or last.  Returns 0 or ERR_NOMEM. */
int tools_add_fault(struct scn_spec *spec, const struct fs3_rule *rule, bool first);

/* ---- sweep --------------------------------------------------------------------------- */

struct sweep_opts {
    const char *file;        /* scenario path, for lines and replay lines */
    const char *variant;     /* "base" or a variant name (replay lines) */
    char op[32];             /* "any" (every op counts) or an op name */
    char effect[128];        /* an effect as in a fault line ("status=500") */
    int64_t nth;             /* 0: K = 1, 2, ...; else only K = nth */
    int64_t max_runs;        /* 0: no limit */
    bool quiet;              /* print failing runs only */
    bool swarm;              /* the spec carries the --swarm rules (replay lines) */
    FILE *trace;             /* --trace: trace lines here (NULL: none) */
    const char *const *sets; /* --set KNOB=VALUE, for the replay lines */
    size_t nsets;
};

struct sweep_stats {
    size_t runs, passed, failed, errors;
    int64_t last_k;          /* K of the last run */
    uint64_t last_calls;     /* calls of OP the last run saw */
    bool done;               /* stopped at a K that no call reached (not by a limit) */
};

/* The rule "OP nth=K EFFECT" of o into *rule.  Returns 0 or ERR_PARSE (err
 * says why: an unknown op or effect). */
int sweep_rule(const struct sweep_opts *o, int64_t k, struct fs3_rule *rule,
               struct scn_error *err);

/* Runs spec once per K with the rule of sweep_rule() tried before the
 * file's own rules, printing one line per run to out, until a run sees fewer
 * calls of OP than K (that run is printed too), o->max_runs runs, or the one
 * run of o->nth.  Fills *st.  Returns 0, ERR_PARSE (bad op or effect: nothing
 * ran) or ERR_NOMEM. */
int sweep_spec(const struct scn_spec *spec, const struct sweep_opts *o, FILE *out,
               struct sweep_stats *st);

/* ---- shrink -------------------------------------------------------------------------- */

struct shrink_opts {
    const char *file;        /* scenario path, for world_run */
    int max_runs;            /* budget of world runs (0: 2000) */
    bool loose;              /* the same failing check is enough (else also the
                                shape of its detail: tools_signature) */
    FILE *log;               /* one line per accepted step (NULL: silent) */
    double deadline;         /* CLOCK_MONOTONIC seconds after which no candidate runs
                                (0: none); the smallest spec so far is the result */
    const volatile int *stop; /* non-zero: no more candidate runs (NULL: ignored) */
};

struct shrink_stats {
    int runs;                /* world runs made */
    int accepted;            /* candidates that still failed the same way */
    char signature[512];     /* how the input fails (tools_signature) */
};

/* The smallest spec found that fails the way spec fails, into *out (free with
 * scn_spec_free).  out is always a spec that scnw_reparse() reproduces.
 * Returns 0, ERR_INVAL when spec passes (nothing to shrink; out is empty),
 * ERR_PARSE when spec cannot be written as a valid file, ERR_NOMEM. */
int shrink_spec(const struct scn_spec *spec, const struct shrink_opts *o, struct scn_spec *out,
                struct shrink_stats *st);

#endif /* S3SIM_TOOLS_H */
