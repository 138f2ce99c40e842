/*
 * cln.h - the controller's object cleaner (docs/engine.md "Deleting a composite", "Batch delete",
 * "Who deletes what", "Marking and delayed delete" and "Prepared objects and their TTL"): deletes
 * from S3 what the metadata marked, then removes the metadata; expires prepared objects at their
 * deadline.
 *
 *   every cleaner.interval (1 s), a lifecycle check:
 *     1. prepared objects past their deadline -> marked (TTL timer at the exact
 *        deadline, re-armed at each check), their open uploads aborted: found
 *        by ListMultipartUploads of the key, or, when the listing fails, from
 *        the upload ledger (cln_set_uploads)
 *     2. if no clean is in flight (cleaner.dedup.inflight): up to 2000 marked
 *        ids of the OLD generation that are not backing off -> one clean:
 *          normal objects      DeleteObjects, <= 1000 keys a call
 *          DEEP_DELETE composites  GET the composite, delete its links, then
 *                                  its own key (DeleteObject); 8 at a time
 *        ids are removed from the metadata only after S3 confirmed
 *
 *   generations: every retention period the old generation becomes "marked
 *   before the previous swap", so an object marked at t is deleted between
 *   t + retention and t + 2 * retention (AutoMQ #1603).
 *
 * Failures.  The cleaner's S3 calls go through its own retry client (a
 * struct s3c over the given inner s3_ops) limited to CLN_ATTEMPTS attempts a
 * call, so that a clean always ends.  Each object whose delete failed (403,
 * 5xx, timeouts, per-key errors) is retried by later checks after a capped
 * backoff (s3.retry.backoff doubling up to s3.retry.backoff.max), for as long
 * as it fails; a failing object is batched with objects that failed as often
 * as it did, in batches halved at each failure, so a key that keeps failing
 * ends up alone and never blocks the others.  Prepared-object expiry never
 * waits for a clean.
 *
 * Not found.  A NoSuchKey per key of DeleteObjects is success.  A 404 on the
 * GET of a composite, or on the DeleteObject of its own key, means it is
 * already deleted (success, logged at info).  conf.not_found_error restores
 * field bug F04: that 404 fails the delete, logged at error as AutoMQ did
 * (`Delete composite object S3ObjectMetadata(objectId=.., objectSize=-1,
 * type=UNKNOWN, ..) fail`), and the object is retried forever.
 *
 * Composite deletes are notified per group of <= 1000 composites, only when
 * every composite of the group succeeded (AutoMQ): between the S3 deletes of
 * the first and the notification lies the window of F04.
 *
 * Late writes (docs/engine.md "Late writes").  The writer of a TTL-expired object may
 * still have its PutObject / CompleteMultipartUpload in flight (delayed,
 * retried) when the cleaner deletes the key: it would land after the delete
 * and leave a key no metadata owns.  So the key of an object marked by TTL
 * expiry is deleted once more max(conf.redelete_us, s3.op.timeout) after S3
 * confirmed its first delete (a writer's attempt lands at most one attempt
 * timeout after it was sent; the sim cancels an attempt that timed out); a
 * NoSuchKey is success, a failure is retried after conf.backoff_us.  The
 * metadata is removed after the first delete, as before.  The pending
 * re-deletes are volatile: a controller crash loses them (a late write
 * landing after such a crash stays an orphan key).
 *
 * Crash: cln_crash() drops all volatile state (timers, the clean in flight
 * and its S3 calls, backoffs); cln_restart() rebuilds it from the metadata.
 *
 * Every clean in flight registers one wait ("cleaner", what it waits for).
 */
#ifndef S3SIM_CLN_H
#define S3SIM_CLN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "env.h"
#include "ctl.h"
#include "s3.h"
#include "s3client.h"

struct conf;

#define CLN_ATTEMPTS 3          /* attempts of one cleaner S3 call */
#define CLN_MAX_KEYS 1000       /* keys per DeleteObjects */
#define CLN_GROUP 1000          /* composites per notification group */

struct cln_conf {
    int64_t interval_us;  /* cleaner.interval: lifecycle check period (1 s) */
    int64_t retention_us; /* s3.object.delete.retention.minutes (1 min) */
    int max_per_round;    /* cleaner.max.per.round (2000) */
    int64_t backoff_us;   /* first retry delay of a failed object (s3.retry.backoff) */
    int64_t backoff_max_us; /* cap (s3.retry.backoff.max) */
    bool not_found_error; /* deletion.not.found error: field bug F04 */
    bool dedup_inflight;  /* cleaner.dedup.inflight; false: field bug F10 */
    int64_t redelete_us;  /* cleaner.redelete.delay (2 min); 0: no second delete */
    /* Guards of ours (off under the automq profile, on under hardened). */
    bool retry_cap;         /* cleaner.retry.cap: CLN_ATTEMPTS attempts a call */
    bool obj_backoff;       /* cleaner.object.backoff */
    bool batch_halving;     /* cleaner.batch.halving */
    bool ttl_during_clean;  /* cleaner.ttl.during.clean */
    bool round_every_check; /* cleaner.round.every.check */
    bool notify_per_key;    /* cleaner.notify.per.key */
    bool gone_links;        /* cleaner.gone.links.redelete */
    bool ttl_aborts;        /* cleaner.ttl.abort.uploads */
    int deep_concurrency;   /* cleaner.deep.concurrency; -1 unlimited */
    struct s3c_conf s3c;  /* the cleaner's client (retry_max capped at CLN_ATTEMPTS) */
};

struct cln_stats {
    uint64_t deleted;        /* objects removed after S3 confirmed (cleaner.deleted) */
    uint64_t failures;       /* failed object delete attempts (cleaner.failures) */
    uint64_t cleans;         /* cleans started */
    uint64_t delete_calls;   /* DeleteObjects / DeleteObject calls made by the cleaner */
    uint64_t composites;     /* composites deep-deleted */
    uint64_t expired;        /* prepared objects expired by TTL */
    uint64_t aborts;         /* multipart uploads aborted for expired objects */
    uint64_t redeletes;      /* keys of TTL-expired objects deleted a second time */
    uint64_t s3_retries;     /* retried attempts of the clients freed by crashes */
    uint64_t s3_timeouts;    /* timed-out attempts of the clients freed by crashes */
    struct s3_requests s3_sent; /* requests sent by the clients freed by crashes */
};

/* Open multipart uploads by key: lets the cleaner abort the uploads of an
 * expired prepared object.  up to max upload ids of key into ids; returns
 * the count.  May be NULL (then nothing is aborted). */
typedef size_t (*cln_uploads_fn)(void *arg, const char *key, char (*ids)[S3_UPLOAD_ID_MAX],
                                 size_t max);

struct cln;

/* Fills conf from the knobs. */
void cln_conf_from(struct cln_conf *conf, const struct conf *c);

/* Creates the cleaner and starts its lifecycle check.  env, inner (the S3
 * below the client layer) and meta are borrowed and must outlive it; conf is
 * copied.  ERR_NOMEM, ERR_INVAL (bad conf). */
int cln_new(struct env *env, struct s3_ops *inner, struct ctl *ctl,
            const struct cln_conf *conf, struct cln **out);

/* Stops and frees everything (no callback runs). */
void cln_free(struct cln *c);

/* The hook that lists open uploads of a key (see cln_uploads_fn). */
void cln_set_uploads(struct cln *c, cln_uploads_fn fn, void *arg);

/* Controller crash: cancels the timers and every S3 call (they are never
 * applied), frees the cleans in flight and the backoffs. */
void cln_crash(struct cln *c);

/* Controller restart: rebuilds the timers from the metadata (TTL at the
 * earliest deadline; the generations restart with everything marked more
 * than one retention ago in the old one).  No-op unless crashed. */
void cln_restart(struct cln *c);

/* Runs a lifecycle check now (as the timer would). */
void cln_check_now(struct cln *c);

/* Keys waiting for their second delete (see Late writes). */
size_t cln_redeletes_pending(const struct cln *c);

/* True when no clean, no abort and no second delete is in flight. */
bool cln_idle(const struct cln *c);

/* Objects whose deletion is waiting for a backoff to end. */
size_t cln_backing_off(const struct cln *c);

const struct cln_stats *cln_stats(const struct cln *c);

/* The cleaner's own S3 client, or NULL while crashed (its counters are then
 * folded into cln_stats). */
const struct s3c *cln_client(const struct cln *c);

/* A writer guard (wr_guard_fn; arg is the struct meta): 0 when the object
 * of key is still PREPARED (or already committed), ERR_ABORTED when its TTL
 * expired (marked) or it is gone from the metadata.  Keys that are not
 * object keys pass.  The other half of TTL expiry: a writer slower
 * than its object's TTL does not recreate a key the cleaner deleted. */
int cln_writer_guard(void *ctl, const char *key);

/*
 * The upload ledger: an s3_ops wrapper that remembers the multipart uploads
 * it saw created and not yet completed or aborted, by key, so that the
 * cleaner can abort the uploads of an expired prepared object (a writer
 * lost with a broker crash leaves its upload open; S3 has no other record
 * the engine can list).  It survives crashes of either side (the engine
 * owns it, below every client layer).  An upload whose creation answer was
 * lost is not known to it.
 *
 *   engine clients (s3c) --> ledger --> inner (fault shim or s3_curl)
 *
 * Requests other than mpu-create, mpu-complete and mpu-abort pass through
 * untouched.
 */
struct cln_ledger;

/* ERR_NOMEM, ERR_INVAL.  inner is borrowed and must outlive the ledger. */
int cln_ledger_new(struct s3_ops *inner, struct cln_ledger **out);

/* Frees the ledger; calls still in flight through it are cancelled. */
void cln_ledger_free(struct cln_ledger *l);

/* The wrapper (name "ledger"), owned by the ledger. */
struct s3_ops *cln_ledger_ops(struct cln_ledger *l);

/* Open uploads of key (a cln_uploads_fn; arg is the ledger). */
size_t cln_ledger_uploads(void *arg, const char *key, char (*ids)[S3_UPLOAD_ID_MAX], size_t max);

/* Uploads the ledger knows to be open. */
size_t cln_ledger_open(const struct cln_ledger *l);

#endif /* S3SIM_CLN_H */
