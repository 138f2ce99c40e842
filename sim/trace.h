/*
 * trace.h - the canonical trace of a run and its SHA-256.
 *
 * Every event of a run (an S3 call and its outcome, an engine step, an
 * action) is one canonical line: "<time µs> <actor> <what>", what given as a
 * printf format and its arguments.  The hash does not format the text: each
 * line is fed to a SHA-256 (OpenSSL EVP) as a compact binary record, the
 * time (8 bytes, little-endian), the actor and the format (each with its
 * terminator), then each argument in a fixed binary form (integers 8 bytes,
 * floating point the double's bits, strings with their terminator): the
 * same text comes from the same record, and formatting was a tenth of a
 * run's CPU besides MD5.  The first 12 hex digits of the digest are the
 * run's `trace=`.  With --trace the lines are also formatted and printed,
 * as text.  The same binary, scenario, variant, knobs and seed give the same
 * lines.
 */
#ifndef S3SIM_TRACE_H
#define S3SIM_TRACE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct sim_trace {
    void *ctx;          /* EVP_MD_CTX * */
    FILE *echo;         /* when not NULL, every line is also written here */
    uint64_t lines;     /* lines hashed */
    char hex[65];       /* the final digest, after sim_trace_finish */
    size_t len;         /* bytes of records gathered in buf, not hashed yet */
    unsigned char buf[4096];
};

int sim_trace_init(struct sim_trace *t, FILE *echo);
void sim_trace_free(struct sim_trace *t);

/* Adds one line stamped with time_us: what is vsnprintf(fmt, ap), cut to
 * textcap - 1 bytes when printed (the hash has every argument whole). */
void sim_trace_vfmt(struct sim_trace *t, int64_t time_us, const char *actor, size_t textcap,
                    const char *fmt, va_list ap);
void sim_trace_fmt(struct sim_trace *t, int64_t time_us, const char *actor, size_t textcap,
                   const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
/* Adds one line of text (without newline): sim_trace_fmt with "%s". */
void sim_trace_line(struct sim_trace *t, int64_t time_us, const char *actor, const char *what);

/* Finishes the digest into t->hex (64 hex digits). Idempotent. */
const char *sim_trace_finish(struct sim_trace *t);

#endif /* S3SIM_TRACE_H */
