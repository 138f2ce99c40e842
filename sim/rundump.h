/*
 * rundump.h - every field of a set of run results, written next to the
 * reports (DIR/runs.dat) so that `s3sim merge` can rebuild the reports of
 * several shards as the unsharded run would have written them.
 *
 *   run --report DIR [--shard K/N] ─► DIR/runs.dat ─┐
 *                                   ...            ├─► merge ─► rpt_write(OUT)
 *   run --report DIR' --shard K'/N ─► DIR'/runs.dat ┘
 *
 * The file is text, one record per line, strings %XX-escaped (bytes up to
 * space, '%', '~', DEL; NULL is "~"):
 *   s3sim-runs 1 shard K N total T report-all 0|1
 *   run IDX VERDICT SEED VTIME_US OPS WALL HANG LAST_PROGRESS_US BYTES_R BYTES_W TRACE
 *   str NAME VALUE            (file scenario variant summary replay swarm profile)
 *   check EXPECT_FAIL HELD OK LINE NAME ARGS DETAIL
 *   metric VALUE NAME
 *   wait SINCE_US AGE_US WHO WHAT
 *   event T0 T1 LANE OP JOB EFFECT FAILED LABEL
 *   calls OP N | fault OP EFFECT N | job JOB N | cov EFFECT OP JOB N | opjob OP JOB N
 *   stored BYTE_SECONDS       (non-zero only)
 *   end
 * IDX is the run's place in the unsharded order (0..T-1).
 */
#ifndef S3SIM_RUNDUMP_H
#define S3SIM_RUNDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "result.h"

struct rundump_head {
    unsigned shard_k, shard_n;  /* 1 1 when not sharded */
    size_t total;               /* runs of the unsharded set */
    bool report_all;
};

/* Writes the header and runs[i] with index idx[i] (idx NULL: i).  Returns 0
 * or ERR_IO. */
int rundump_write(FILE *f, const struct rundump_head *h, struct run_result *const *runs,
                  const size_t *idx, size_t n);

/* Writes DIR/runs.dat (rundump_write) and DIR/timings.tsv (the timings file
 * of shard.h) next to the reports of DIR.  Returns 0 or ERR_IO. */
int rundump_save(const char *dir, const struct rundump_head *h, struct run_result *const *runs,
                 const size_t *idx, size_t n);

/* One loaded dump: runs and their indexes, owned (rundump_free). */
struct rundump {
    struct rundump_head head;
    struct run_result *runs;
    size_t *idx;
    size_t n;
};

/* Reads a dump.  Returns 0, ERR_IO (errno), ERR_PARSE (why: FILE:LINE:1:
 * what), ERR_NOMEM. */
int rundump_read(const char *path, struct rundump *d, char *why, size_t whysz);
void rundump_free(struct rundump *d);

#endif /* S3SIM_RUNDUMP_H */
