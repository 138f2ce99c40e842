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
 *   Object-count pressure (the image holds at least 90 % of
 *   stream.compaction.major.v1.max.object.threshold committed objects): a
 *   stream's turn runs MAJOR_V1 after its scheduled type, small normal objects
 *   included when the count passes the threshold itself, after a pause of
 *   stream.compaction.metadata.replay.delay (1 s, #3483; 0 s: F06's second
 *   trigger, the MAJOR_V1 planned from an image without the first type's
 *   commits).  Not modelled: V0 types, the initial jitter.
 *   Each type of a turn lists the stream once (from the broker's image, up to
 *   the end offset the broker knows committed, repeated ids dropped with a
 *   warning unless compaction.inputs.dedupe is false: F05), cleans up the
 *   expired objects, then plans its groups from that one listing and runs them
 *   one after the other, as AutoMQ's compact0; a failed group ends the type.
 *   Groups stop at a gap, at the size limit, at 5000 objects, at 10000 parts
 *   (ceil(size / 5 GiB) per object) and when end - group start would pass
 *   INT32_MAX.  Single-object groups are skipped.
 *
 * Each output is prepared (TTL 60 min), written, and committed with one
 * meta_commit_stream() carrying a request id, so a retried commit is
 * idempotent.  With conf.recheck (a guard of ours, hardened) the inputs are
 * checked right before the commit: distinct and still committed in the
 * image, else the step is dropped.  With conf.trim_cleanup (F06, AutoMQ
 * before #952) each answered trim queues a cleanup of the stream's expired
 * objects, run as soon as nothing else runs, with no spacing: two trims in a
 * row clean up twice, the second from an image that does not hold the
 * first's commit yet.  A failed step
 * leaves its output prepared until its TTL (unless
 * compaction.stream.failed.output.mark).
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
#define SCMP_TTL_US (60 * ENV_USEC_PER_MIN)   /* prepared output TTL (AutoMQ's: 60 min) */
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
    bool trim_cleanup;         /* compaction.stream.cleanup.on.trim (true: F06, before #952) */
    bool recheck;              /* compaction.stream.inputs.recheck (a guard of ours) */
    bool dedupe;               /* compaction.inputs.dedupe (#3370); false: F05 */
    int64_t type_pause_us;     /* stream.compaction.metadata.replay.delay (#3483); 0: F06 */
    int64_t pressure_objects;  /* stream.compaction.major.v1.max.object.threshold */
    bool int32_guard;          /* index.group.int32.guard; false: F12 */
    bool mark_failed_output;   /* compaction.stream.failed.output.mark (guard of ours) */
    bool verify_copy;          /* compaction.stream.verify.copy (guard of ours) */
    int64_t prepared_ttl_us;   /* s3.object.prepared.ttl: the outputs' TTL (0: SCMP_TTL_US) */
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
    struct s3_requests s3_sent; /* requests sent by the clients freed by crashes */
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

/* The stream's trim was answered: with conf.trim_cleanup, a cleanup of its expired objects is
 * queued (AutoMQ's S3StreamClient before #952: StreamWrapper.trim's whenComplete). */
void scmp_trimmed(struct scmp *s, int64_t stream);

/* True when no pass and no trim's cleanup is running or waiting. */
bool scmp_idle(const struct scmp *s);

const struct scmp_stats *scmp_stats(const struct scmp *s);

/* The compactor's own S3 client, or NULL while crashed (its counters are then
 * folded into scmp_stats). */
const struct s3c *scmp_client(const struct scmp *s);

#endif /* S3SIM_SCMP_H */
