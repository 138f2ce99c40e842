/*
 * scmp.h - stream object compaction, on the broker's side
 * (docs/engine.md "Stream object compaction", "Commit semantics" and "Composite objects").
 *
 *   every SCMP_TICK (1 min) a pass; per live stream, at most one compaction
 *   step every SCMP_MIN_SPACING (1 min):
 *     CLEANUP  every pass: stream objects and composites wholly below the
 *              stream's start offset -> commit {id -1, DEEP_DELETE}, <= 1000
 *              ids a request; then the dirty-composite rewrite (CLEANUP_V1:
 *              the first living object, a composite whose estimated dirty
 *              bytes pass 512 MiB and that has a wholly expired link, is
 *              rewritten alone without it; AutoMQ also rewrites when no link
 *              can go, which repeats at every pass)
 *     MINOR    every stream.compaction.minor.interval: contiguous normal
 *              objects merged physically by copy-write (UploadPartCopy for
 *              ranges >= the minimum part) into groups of about
 *              stream.compaction.minor.size (soft: a group may cross it once)
 *     MAJOR    every stream.compaction.major.interval: composite objects:
 *              normal members linked with KEEP_DATA, composite members' live
 *              links carried over (the old composite marked DELETE), links
 *              wholly below the start offset deleted from S3 at once; a
 *              normal object smaller than the minor size joins only when it
 *              bridges two contiguous composites (#3476)
 *   Not modelled: V0 types, the pressure MAJOR at 90 % of 400 000 objects,
 *   the initial jitter.
 *   Groups stop at a gap, at the size limit, at 5000 objects, at 10000 parts
 *   (ceil(size / 5 GiB) per object) and when end - group start would pass
 *   INT32_MAX.  Single-object groups are skipped.
 *
 * Each output is prepared (TTL 60 min), written, and committed with one
 * meta_commit_stream() carrying a request id, so a retried commit is
 * idempotent.  Right before the commit the inputs are verified: deduplicated
 * by id and still committed in the metadata, else the output is marked for
 * deletion and the step is dropped (fix of F05/F06).  With
 * conf.verify_inputs false (field bugs F05/F06) the broker's image of the
 * stream is refreshed only once per pass and by appending (duplicates and
 * destroyed objects stay), and the commit is sent as planned; a failed
 * commit leaves the output prepared until its TTL.
 *
 * Broker crash: scmp_crash() drops the runs, their writers and S3 calls;
 * scmp_restart() starts the schedule again (intervals count from the
 * restart).  Waits: one per running step ("stream compaction", what).
 */
#ifndef S3SIM_SCMP_H
#define S3SIM_SCMP_H

#include <stdbool.h>
#include <stdint.h>

#include "env.h"
#include "mdc.h"
#include "s3.h"
#include "s3client.h"
#include "writer.h"

struct conf;

#define SCMP_TICK_US ENV_USEC_PER_MIN         /* scheduler pass period */
#define SCMP_MIN_SPACING_US ENV_USEC_PER_MIN  /* between compactions of a stream */
#define SCMP_TTL_US (60 * ENV_USEC_PER_MIN)   /* prepared output TTL */
#define SCMP_CLEANUP_STEP 1000                /* expired ids per cleanup request */
#define SCMP_MAX_GROUP 5000                   /* objects per group */
#define SCMP_MAX_PARTS 10000
#define SCMP_PART_MAX (UINT64_C(5) << 30)     /* 5 GiB */
#define SCMP_DIRTY_MAX (UINT64_C(512) << 20)  /* CLEANUP_V1 dirty bytes */

struct scmp_conf {
    int64_t minor_interval_us; /* stream.compaction.minor.interval (10 min) */
    int64_t major_interval_us; /* stream.compaction.major.interval (60 min) */
    uint64_t minor_size;       /* stream.compaction.minor.size (4 MiB) */
    uint64_t max_size;         /* s3.stream.object.compaction.max.size.bytes (10 GiB) */
    uint64_t dirty_max;        /* CLEANUP_V1 rewrite threshold (512 MiB) */
    bool verify_inputs;        /* compaction.verify.inputs; false: F05/F06 */
    bool int32_guard;          /* index.group.int32.guard; false: F12 */
    bool mark_failed_output;   /* compaction.stream.failed.output.mark (guard of ours) */
    bool verify_copy;          /* compaction.stream.verify.copy (guard of ours) */
    struct wr_conf wr;         /* the writers' knobs */
    struct s3c_conf s3c;       /* its own client layer (rebuilt at each restart) */
};

struct scmp_stats {
    uint64_t passes;          /* scheduler passes */
    uint64_t commits;         /* compactions committed (compaction.stream.commits) */
    uint64_t failures;        /* compactions failed (compaction.stream.failures) */
    uint64_t composites;      /* composite objects committed (objects.composite.created) */
    uint64_t cleanups;        /* cleanup requests committed */
    uint64_t expired_links;   /* fully expired links deleted at once */
    uint64_t verify_drops;    /* steps dropped because an input was stale */
    uint64_t s3_retries;      /* retried attempts of the clients freed by crashes */
    uint64_t s3_timeouts;     /* timed-out attempts of the clients freed by crashes */
};

struct scmp;

void scmp_conf_from(struct scmp_conf *conf, const struct conf *c);

/* Creates the compactor and starts its schedule.  env, inner (the S3 below
 * the client layer: the compactor has its own retry client over it), meta
 * and mem are borrowed and must outlive it.  ERR_NOMEM, ERR_INVAL. */
int scmp_new(struct env *env, struct s3_ops *inner, struct mdc *md, struct wr_mem *mem,
             const struct scmp_conf *conf, struct scmp **out);
void scmp_free(struct scmp *s);

/* Starts a pass now (a `compact stream` action); force: every stream gets a
 * major compaction regardless of its intervals and spacing.  ERR_BADSTATE
 * while crashed, ERR_BUSY when a pass is running. */
int scmp_compact_now(struct scmp *s, bool force);

void scmp_crash(struct scmp *s);
void scmp_restart(struct scmp *s);

/* True when no pass is running. */
bool scmp_idle(const struct scmp *s);

const struct scmp_stats *scmp_stats(const struct scmp *s);

/* The compactor's own S3 client, or NULL while crashed (its counters are then
 * folded into scmp_stats). */
const struct s3c *scmp_client(const struct scmp *s);

#endif /* S3SIM_SCMP_H */
