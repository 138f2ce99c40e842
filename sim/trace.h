/*
 * trace.h - the canonical trace of a run and its SHA-256.
 *
 * Every event of a run (an S3 call and its outcome, an engine step, an
 * action) is one canonical text line: "<time µs> <actor> <what>".  The lines
 * are fed, newline-terminated, into a SHA-256 (OpenSSL EVP); the first 12 hex
 * digits are the run's `trace=`.  With --trace the lines are also printed.
 * The same binary, scenario, variant, knobs and seed give the same lines.
 */
#ifndef S3SIM_TRACE_H
#define S3SIM_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct sim_trace {
    void *ctx;          /* EVP_MD_CTX * */
    FILE *echo;         /* when not NULL, every line is also written here */
    uint64_t lines;     /* lines hashed */
    char hex[65];       /* the final digest, after sim_trace_finish */
};

int sim_trace_init(struct sim_trace *t, FILE *echo);
void sim_trace_free(struct sim_trace *t);

/* Adds one line (without newline) stamped with time_us. */
void sim_trace_line(struct sim_trace *t, int64_t time_us, const char *actor, const char *what);

/* Finishes the digest into t->hex (64 hex digits). Idempotent. */
const char *sim_trace_finish(struct sim_trace *t);

#endif /* S3SIM_TRACE_H */
