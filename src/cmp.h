/*
 * cmp.h - stream set object (SSO) compaction and force split
 * (docs/engine.md "Accepted versus durable", "SSO compaction: scheduling", "Plans and batches",
 * "Execution and commit" and "Failed compactions").
 *
 *   timer (interval) / cmp_compact_now()
 *        └─► run: this node's SSOs (dedup by id, newest first, <= max.num)
 *              └─► index tail reads (one re-read) ─► drop dead blocks
 *                    ├─► force split: each SSO older than force.split.minutes
 *                    │     (or every SSO with force) ─► stream objects ─► commit
 *                    └─► compaction: filter, group SPLIT/COMPACT, limits,
 *                          plans within cache.size ─► one SSO writer across
 *                          plans + stream objects ─► sanity check ─► commit
 *
 * A run is an explicit state machine driven by S3 completions, writer
 * callbacks and env timers; it never blocks.  One run at a time.
 *
 * Execution of one plan (docs/engine.md "Execution and commit"): the plan's blocks are read with
 * coalesced range reads of at most 16 MiB (a larger block in several reads); COMPACT
 * blocks are written, in (stream, offset) order, into one SSO writer that
 * stays open across plans; each SPLIT object is a stream object with its own
 * writer, closed within the plan.  At the end of each plan the SSO writer is
 * flushed (forceUpload), and the plan waits until every block written to it
 * is accepted (uploaded, or parked and declared accepted by the flush: the
 * F01 fix lives in the writer, knob compaction.flush.each.batch) and every
 * stream object of the plan is durable.  Only then do the plan's buffers go
 * and the next plan starts.  After the last plan the SSO gets its index and
 * footer and is closed; then the sanity check and one atomic commit
 * (meta_commit_sso): outputs committed, inputs marked, SSOs whose blocks are
 * all dead listed as compacted, stream objects of streams deleted meanwhile
 * destroyed by the store at commit.
 *
 * Failure anywhere (a read, an index, a part, a close, the sanity check, the
 * commit): every read in flight is cancelled, every buffer freed, every
 * writer released (which completes its waiters and aborts its multipart
 * upload), and nothing is committed; the prepared ids expire after their TTL
 * and the cleaner deletes them.  The run waits for the writers' release
 * callbacks (with compaction.release.waits.pending true, field bug F02, a
 * release never calls back while a part is parked: the run hangs, as
 * AutoMQ's did).
 *
 * Ids: -1 is "none" everywhere in this module; a commit without an SSO
 * output uses meta_id_none() (0 under meta.id.zero.is.none, field bug F20).
 *
 * Memory: every byte read for a plan is counted in the shared struct wr_mem
 * from the moment its read is issued until its block is handed to a writer,
 * which counts it from then on (each byte once: AutoMQ's DataBlockWriter
 * takes the block's buffer itself into its part); a plan reads at most
 * cache.size.
 *
 * Waits: a run holds one wait in the env wait registry per step, in words a
 * user can act on ("compaction run 3, plan 2" / "waiting for 2 blocks of
 * object 1042 ... parked ...").
 *
 * Log lines keep AutoMQ's wording where the reference quotes it ("Sanity
 * check failed").  Component: "sso-compaction".
 */
#ifndef S3SIM_CMP_H
#define S3SIM_CMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "env.h"
#include "obj.h"
#include "s3.h"

struct conf;
struct mdc;
struct wr_mem;
struct eng_metrics;

#define CMP_MAX_READ (16u << 20)             /* S3_OBJECT_MAX_READ_BATCH */
#define CMP_MIN_DELAY (10 * ENV_USEC_PER_SEC) /* MIN_COMPACTION_DELAY_MS */
#define CMP_PREPARED_TTL (24 * ENV_USEC_PER_HOUR)

/* ---- Planning: pure functions over index data (docs/engine.md "Plans and batches"). ---------- */

/* One index entry of a source SSO (a block or a group of blocks). */
struct cmp_block {
    int64_t obj;              /* source SSO id */
    struct obj_index_entry e; /* the entry, as read from the source's index */
    int64_t end;              /* e.start + e.end_delta (wrapped under F12: may be <= start) */
};

/* One candidate SSO: its live blocks (dead ones already dropped), index order. */
struct cmp_src {
    int64_t id;                 /* SSO id */
    const struct cmp_block *b;  /* borrowed */
    size_t n;                   /* 0: every block was dead ("out of date") */
};

/* One output of a plan: a stream object, or the plan's share of the new SSO. */
struct cmp_out {
    bool split;    /* true: a stream object (SPLIT); false: COMPACT blocks of the new SSO */
    size_t first;  /* its blocks are plan.b[first .. first + n) */
    size_t n;
};

/* One plan: blocks in write order (each output's blocks contiguous; the
 * COMPACT output, if any, last). */
struct cmp_plan {
    struct cmp_block *b; /* owned */
    size_t nb;
    struct cmp_out *out; /* owned */
    size_t nout;
    uint64_t bytes;      /* sum of block sizes (<= cache size) */
};

struct cmp_limits {
    uint64_t cache_size;        /* s3.stream.set.object.compaction.cache.size */
    uint64_t split_size;        /* s3.stream.set.object.compaction.stream.split.size */
    size_t max_streams_per_sso; /* s3.max.stream.num.per.stream.set.object (20000) */
    size_t max_so_per_commit;   /* s3.max.stream.object.num.per.commit (10000) */
    bool dead_kept;             /* F25 (before #896): an SSO with no live block is never listed
                                   as compacted (and its force split fails) */
};

/* The outcome of planning one job (a compaction, or the force split of one SSO). */
struct cmp_analysis {
    struct cmp_plan *plans;  /* owned; executed in order */
    size_t nplans;
    int64_t *compacted;      /* owned: SSOs the commit marks (contributors and empties) */
    size_t ncompacted;
    int64_t *excluded;       /* owned: candidates left for a later run (filter, limits) */
    size_t nexcluded;
    size_t nsplit;           /* stream objects the plans produce */
    bool has_sso;            /* the plans produce a new SSO (some COMPACT block) */
};

/* Fills lim with AutoMQ's defaults (200 MiB, 8 MiB, 20000, 10000). */
void cmp_limits_default(struct cmp_limits *lim);

/*
 * Compaction planning (docs/engine.md "Plans and batches"): keeps the candidates that share a
 * stream with another candidate, sorts their blocks by (stream, offset), groups them
 * (same stream contiguous: append; gap: the run so far becomes a SPLIT object;
 * new stream: the previous run becomes SPLIT when at least split_size, else
 * it goes into the new SSO), applies the stream-count limits by excluding
 * candidates and regrouping, and packs the groups into plans within
 * cache_size, splitting a group at block granularity.  Candidates with no
 * live block are listed as compacted.  env (may be NULL) gets the log lines.
 * Returns 0 (possibly with no plan), ERR_CORRUPT on overlapping blocks of a
 * stream (logged, no plan), ERR_LIMIT when a block exceeds cache_size,
 * ERR_NOMEM.  On failure *out is empty.
 */
int cmp_analyze(const struct cmp_src *src, size_t n, const struct cmp_limits *lim,
                struct env *env, struct cmp_analysis *out);

/*
 * Force split planning (docs/engine.md "Force split"): the live blocks of one SSO grouped into runs
 * of contiguous (stream, offset), each run a stream object, packed into plans
 * within cache_size (a run split across plans gives two stream objects).
 * compacted = [src->id] (also with no live block: a pure deletion).  Same
 * errors as cmp_analyze.
 */
int cmp_split_plans(const struct cmp_src *src, const struct cmp_limits *lim,
                    struct cmp_analysis *out);

/* Frees what an analysis owns and empties it (safe on an empty one). */
void cmp_analysis_free(struct cmp_analysis *a);

/* True when the block still holds readable data: stream known, not deleted,
 * and block end above the stream's start offset (docs/engine.md "SSO compaction: scheduling").  A
 * block whose delta wrapped (F12) has end <= start and is dead here. */
bool cmp_block_live(const struct mdc *md, const struct cmp_block *b);

/* ---- The job. --------------------------------------------------------------- */

struct cmp_conf {
    int64_t interval_us;        /* s3.stream.set.object.compaction.interval.minutes */
    int64_t force_split_age_us; /* s3.stream.set.object.compaction.force.split.minutes */
    int64_t prepared_ttl_us;    /* ids prepared with this TTL (24 h) */
    size_t max_num;             /* s3.stream.set.object.compaction.max.num */
    struct cmp_limits lim;      /* cache size, split size, stream-count limits */
    bool int32_guard;           /* index.group.int32.guard; false: F12 */
    bool verify_blocks;         /* compaction.sso.verify.blocks (guard of ours) */
    bool force_split_wait;      /* force.split.wait.close; false: F15 */
    bool index_error_missing;   /* F29 (before #400): a failed index read is taken as "object
                                   does not exist" (no live block) instead of skipping it */
    bool no_streams_return;     /* F24 (before #2095): a run whose SSOs' streams all are gone
                                   returns early, doing nothing */
    int64_t node;               /* this broker's node id */
};

/* Fills cconf from the knobs of c. */
void cmp_conf_from(struct cmp_conf *cconf, const struct conf *c);

/* What a struct cmp borrows: all must outlive it. */
struct cmp_deps {
    struct env *env;
    struct s3_ops *s3;           /* the client layer (s3c_ops()) */
    struct mdc *md;              /* the broker's metadata client */
    const struct conf *conf;     /* writer knobs (F01-F03, part sizes) are read from it */
    struct wr_mem *mem;          /* the engine's memory counter (memory.peak) */
    struct eng_metrics *metrics; /* sso_runs, sso_commits, sso_failures, force_splits */
};

struct cmp;

/* Creates the job and schedules its first run interval from now.  Returns
 * ERR_OK, ERR_NOMEM, ERR_INVAL. */
int cmp_new(const struct cmp_deps *deps, const struct cmp_conf *conf, struct cmp **out);

/* Drops everything at once (engine teardown, broker crash): cancels timers
 * and S3 calls, frees writers and buffers; no callback runs.  Open multipart
 * uploads of prepared ids are left to the prepared TTL expiry.  NULL ok. */
void cmp_free(struct cmp *c);

/* Starts a run now (`compact sso`); force: force split every SSO of the node
 * whatever its age.  While a run is in progress the request is queued and
 * starts as soon as it ends and the broker's image holds what the controller
 * had applied then (the run's commit).  Returns 0. */
int cmp_compact_now(struct cmp *c, bool force);

/* True when no run is in progress or queued (idle timers do not count). */
bool cmp_idle(const struct cmp *c);

/* Number of the run in progress, or of the last run (0: none yet); the engine's
 * sso_runs counter when deps.metrics is given, so that numbers survive a crash. */
uint64_t cmp_run_number(const struct cmp *c);

#endif /* S3SIM_CMP_H */
