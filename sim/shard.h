/*
 * shard.h - `s3sim run --shard K/N`: the K-th of N deterministic slices of the
 * (file, variant, seed) runs, so that a CI matrix of N machines runs the
 * suite once between them; and the timings file that balances the slices.
 *
 *   runs 0..T-1 (the unsharded order) ─► shard_assign() ─► shard of each run
 *     no timings: run i goes to shard i mod N (round-robin)
 *     timings:    longest first onto the least loaded shard (LPT); a run the
 *                 file does not know counts as the mean of those it knows
 *
 * Every shard computes the same assignment from the same inputs (the runs and
 * the timings file), so the N slices are disjoint and their union is the
 * unsharded run set, whatever N.
 *
 * The slice comes from --shard K/N or, without it, from the variables a CI
 * system sets (shard_from_env): Bazel TEST_SHARD_INDEX/TEST_TOTAL_SHARDS
 * (0-based; TEST_SHARD_STATUS_FILE is touched to say we shard), GitLab
 * CI_NODE_INDEX/CI_NODE_TOTAL (1-based), a Kubernetes Indexed Job's
 * JOB_COMPLETION_INDEX (0-based) with S3SIM_SHARDS.
 *
 * Timings file (written by `--report DIR` as DIR/timings.tsv):
 *   s3sim-timings 1
 *   SECONDS<TAB>VARIANT<TAB>SEED<TAB>FILE      one line per run
 */
#ifndef S3SIM_SHARD_H
#define S3SIM_SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "result.h"

struct shard_spec {
    unsigned k, n;          /* slice k of n, 1 <= k <= n; n == 0: no sharding */
    const char *source;     /* "--shard", "TEST_SHARD_INDEX", ... (messages) */
};

/* Parses "K/N" (1 <= K <= N <= 100000).  Returns 0 or -1. */
int shard_parse(const char *s, struct shard_spec *out);

/* Reads the CI variables (see above) into *out (n == 0 when none is set).
 * Returns 0, or -1 with a sentence in why when a variable is malformed or out
 * of range.  Touches TEST_SHARD_STATUS_FILE when Bazel asks for sharding. */
int shard_from_env(struct shard_spec *out, char *why, size_t whysz);

/* One run, by what names it in a timings file. */
struct shard_key {
    const char *file;
    const char *variant;
    uint64_t seed;
};

struct shard_timing {
    char *file, *variant;
    uint64_t seed;
    double seconds;
};

struct shard_timings {
    struct shard_timing *v; /* sorted by (file, variant, seed) */
    size_t n;
};

/* Loads a timings file.  Returns 0, ERR_IO (cannot read: errno), ERR_PARSE
 * (why says which line), ERR_NOMEM. */
int shard_timings_load(const char *path, struct shard_timings *t, char *why, size_t whysz);
void shard_timings_free(struct shard_timings *t);

/* The recorded seconds of a run, or -1 when the file does not have it. */
double shard_timings_get(const struct shard_timings *t, const struct shard_key *k);

/* shard_of[i] (0-based) for each of the nkeys runs, given nshards >= 1;
 * timings may be NULL (round-robin).  Returns 0 or ERR_NOMEM. */
int shard_assign(const struct shard_key *keys, size_t nkeys, unsigned nshards,
                 const struct shard_timings *timings, unsigned *shard_of);

/* Writes the timings file of runs[0..n) to f.  Returns 0 or ERR_IO. */
int shard_timings_write(FILE *f, struct run_result *const *runs, size_t n);

#endif /* S3SIM_SHARD_H */
