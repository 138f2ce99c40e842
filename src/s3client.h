/*
 * s3client.h - the engine's S3 client layer: retry, timeouts, permits,
 * DeleteObjects batching and checksums, as an s3_ops wrapper.
 *
 *   engine --s3_put()--> [s3c: permits, attempts, timeouts, backoff] --> inner s3_ops
 *                                                                  (fault shim or s3_curl)
 *
 * One outer request (the caller's struct s3_req) becomes one or more attempts
 * on the inner s3_ops.  The caller sees one callback with the final answer
 * (docs/engine.md "Retries and error classification", "Timeouts" and "Batch delete"):
 *
 *  - Classification (docs/engine.md "Retries and error classification"): a transport failure (no
 * answer, reset, attempt
 *    timeout) retries; an answer with status 404 or code NoSuchKey aborts; any
 *    other error status or code retries, including a 200 whose code is an
 *    error (S3's "200 with an <Error> body").  NoSuchUpload aborts on mpu-part
 *    and mpu-copy (a 404, as AutoMQ classified it before and after #3418; what
 *    the abort of a WAL upload then does is wal.h's business, F17) and on
 *    mpu-complete triggers the visibility check: GET byte [0,1) of the
 *    target key; readable -> the completion is reported as done (status 200,
 *    empty ETag); absent (404) -> the upload was aborted and no retry can
 *    succeed: the call fails with NoSuchUpload (AutoMQ retries forever); the
 *    check itself failing -> the complete is retried.
 *  - Backoff: uniform(0..999 ms) + min(backoff * 2^min(n,16), 60 s) before
 *    retry n (n = 0 for the first retry); one env draw per retry.  mpu-copy:
 *    a fixed 1 s, and (conf.copy_timeout_backoff) an attempt timeout of
 *    copy_timeout (2 min) doubling up to copy_timeout_max (10 min); false
 *    restores field bug F21 (the normal attempt timeout, so slow copies time
 *    out forever).
 *  - conf.retry_same_call false restores field bug F22 (#1487): a retriable
 *    failure of put, mpu-create, mpu-part, mpu-copy or mpu-complete is retried
 *    by a new, detached call (nobody hears its answer; it re-enters again on
 *    its own retriable failure); the failed call is never answered and keeps
 *    its permit (s3c_pending() counts it, its wait stays registered) until
 *    the caller cancels it, which also cancels the calls that repeat it.
 *  - conf.retry_max bounds the attempts of one call (-1: unlimited).  When
 *    they are used up the caller gets the last attempt's answer.
 *  - conf.op_timeout_us: per-attempt timeout; on expiry the inner attempt is
 *    cancelled (s3_cancel) and the call retried.  conf.read_timeout_us: a
 *    whole-operation timeout of a GET; on expiry the caller gets transport
 *    S3_TR_TIMEOUT.  ENV_TIME_NEVER disables either.
 *  - Permits: at most conf.permits attempts are in flight on the inner s3_ops;
 *    others wait in a FIFO queue.  A permit is held by an attempt, not during
 *    a backoff.
 *  - Checksums: for put and mpu-part, the checksum of conf.cksum is computed
 *    once per call (before the first attempt) and sent with every attempt;
 *    the answer's checksum (MD5: the ETag) must equal it, else the attempt
 *    failed (ERR_CHECKSUM, logged as a warning) and the body is sent again.
 *    A caller-set req->cksum (alg != NONE) is kept as is.  With
 *    conf.cksum_precompute false (field bug F13) nothing is sent or checked.
 *  - delete-many of any number of keys: split into calls of at most 1000
 *    keys (conf.delete_split false restores field bug F26, #1518: one call
 *    with every key, which S3 refuses with 400 MalformedXML above 1000).
 *    conf.delete_per_key false restores field bug F27 (#3392/#3393), the
 *    DeleteObjectsAccumulator before the fix: at most conf.permits
 *    DeleteObjects in flight; a caller's key batch waits in a queue while
 *    they are all busy (or the queue is not empty), and each call that ends
 *    sends the queue's head batches, of any callers, merged into one call of
 *    at most 1000 keys.  A call whose answer has any key error but NoSuchKey
 *    fails every caller in it (the caller's result: its keys' own codes,
 *    and the call's first error as its code); a whole call failing is
 *    retried only when throttled (429, 503; a timeout after a throttled
 *    attempt), every other failure fails all its callers at once.  Per key: NoSuchKey is success; InternalError, ServiceUnavailable,
 *    SlowDown, RequestTimeout, OperationAborted are retried (only those keys)
 *    after min(backoff * 2^min(n-1,5), 30 s); others fail for good.  A whole
 *    call failing with a transport error or 408/429/500/502/503/504 retries
 *    all its keys; any other status fails them.  The caller's result has
 *    deleted[] with one entry per request key, same order, and code S3E_NONE
 *    when every key is gone, else the code of the first failed key.  Its
 *    status is 200 when any call of its keys got a 2xx answer; when every
 *    call failed whole, the transport and status of the last one (a 404 to
 *    the whole call is 404, never 200 with NoSuchKey per key).
 *  - A 2xx GET whose body is shorter than its range (clamped to the object's
 *    size) is a transport failure (S3_TR_OTHER) and retried: a real client
 *    sees fewer bytes than the Content-Length.  The caller never gets it.
 *  - conf.part_copy_get_put (s3.part.copy get-put, for servers without
 *    UploadPartCopy; AutoMQ always sends it): an mpu-copy becomes a get of
 *    the source range and an mpu-part of its bytes, two calls of this client
 *    with their own retries (s3client_mpu.c); the caller sees one answer.
 *  - list-uploads retries as list does; its wait and trace name the prefix.
 *  - Stray uploads (s3client_mpu.c): an mpu-create that took more than one
 *    attempt, or failed, may have created uploads nobody has the id of (an
 *    attempt applied but answered late, lost, 5xx or 200-error).  When the
 *    winning upload of that key is completed or aborted (any outcome), or at
 *    once when the create failed, the client lists the open uploads of
 *    exactly that key (prefix = key, then key == key) and aborts every one
 *    but the winner (NoSuchUpload counts as gone).  These sweeps count in
 *    s3c_pending() and register waits; a failed listing or abort is logged
 *    and left to the cleaner's prepared-object expiry.
 *  - Every call registers one wait (who: the job name; what: the op, key,
 *    attempt and what it waits for), updated at each step.
 *  - One trace line per attempt outcome ("s3c put KEY try=2 500 retry").
 *
 * The outer request must stay valid until its callback has run or
 * s3_cancel() returned (the s3.h contract).  Results passed to the caller
 * follow s3.h: valid during the callback only.
 */
#ifndef S3SIM_S3CLIENT_H
#define S3SIM_S3CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "env.h"
#include "s3.h"

/* The knobs of the client layer (docs/knobs.md "Knobs"). */
struct s3c_conf {
    int64_t op_timeout_us;       /* s3.op.timeout; ENV_TIME_NEVER = none (10 s) */
    int64_t read_timeout_us;     /* s3.read.timeout, GET as a whole (2 min) */
    int64_t retry_backoff_us;    /* s3.retry.backoff, first backoff (1 s) */
    int64_t backoff_max_us;      /* s3.retry.backoff.max, cap of the doubling (60 s) */
    int64_t copy_timeout_us;     /* s3.copy.timeout, first mpu-copy attempt timeout (2 min) */
    int64_t copy_timeout_max_us; /* s3.copy.timeout.max (10 min) */
    int retry_max;               /* s3.retry.max, attempts per call; -1 unlimited */
    int permits;                 /* in-flight attempts (50) */
    enum s3_cksum cksum;         /* s3.checksum.algorithm (MD5) */
    bool complete_invalid_abort; /* a deterministic 400 on complete fails at once (false) */
    bool copy_timeout_backoff;   /* false: field bug F21 (true) */
    bool cksum_precompute;       /* false: field bug F13, no checksum sent or checked (true) */
    bool retry_same_call;        /* false: field bug F22, a retry re-enters (true) */
    bool delete_split;           /* false: field bug F26, delete-many sent whole (true) */
    bool delete_per_key;         /* false: field bug F27, merged all-or-nothing deletes (true) */
    bool part_copy_get_put;      /* s3.part.copy get-put: mpu-copy as get + mpu-part (false) */
    /* Guards of ours (s3c_conf_default: on; the automq profile: off). */
    bool sweep_strays;           /* upload.create.sweep.strays */
    bool complete_absent_fails;  /* upload.complete.absent.fails */
};

/* Counters of the client layer. */
struct s3c_stats {
    uint64_t calls[S3_OP_COUNT];         /* outer calls per op (delete-many: per caller call) */
    uint64_t attempts[S3_OP_COUNT];      /* attempts submitted to the inner s3_ops, per op */
    uint64_t job_attempts[S3_JOB_COUNT]; /* attempts per job */
    struct s3_requests sent;             /* requests the inner s3_ops accepted, by job and op:
                                            every attempt and visibility check that reached
                                            the server (an attempt refused at submit is not) */
    uint64_t retries;                    /* attempts that were retried */
    uint64_t timeouts;                   /* attempts cancelled by the attempt timeout */
    uint64_t read_timeouts;              /* GETs failed by the whole-read timeout */
    uint64_t checksum_mismatches;        /* answers whose checksum/ETag differed */
    uint64_t visibility_checks;          /* NoSuchUpload on complete -> GET [0,1) */
    uint64_t failures;                   /* calls answered with a failure */
    uint64_t short_reads;                /* 2xx GETs whose body was shorter than the range */
    uint64_t mpu_sweeps;                 /* stray-upload sweeps started (retried creates) */
    uint64_t mpu_strays_aborted;         /* stray uploads aborted by those sweeps */
    uint64_t max_keys_per_delete;        /* most keys in one inner DeleteObjects call */
    uint64_t reentries;                  /* F22: retries sent as a new call (the old one lost) */
    int inflight;                        /* attempts in flight now */
    int inflight_peak;                   /* most attempts in flight at once */
    int queued;                          /* attempts waiting for a permit now */
    int queued_peak;
};

struct s3c;
struct conf;

/* Fills conf with the defaults above. */
void s3c_conf_default(struct s3c_conf *conf);

/* Fills conf from the knob values of c (src/conf.h). */
void s3c_conf_from(struct s3c_conf *conf, const struct conf *c);

/* Creates a client over inner.  env and inner are borrowed and must outlive
 * the client.  conf is copied.  Returns ERR_OK, ERR_NOMEM or ERR_INVAL (bad
 * conf: permits < 1, backoff < 0, timeouts <= 0). */
int s3c_new(struct env *env, struct s3_ops *inner, const struct s3c_conf *conf, struct s3c **out);

/* Cancels every call in flight (no callback runs) and frees the client. */
void s3c_free(struct s3c *c);

/* The s3_ops the engine calls (name "client"); valid until s3c_free(). */
struct s3_ops *s3c_ops(struct s3c *c);

/* The counters (live; read-only for the caller). */
const struct s3c_stats *s3c_stats(const struct s3c *c);

/* Adds c's sent requests into *into (c NULL: nothing), e.g. a client about to be freed. */
void s3c_requests_add(struct s3_requests *into, const struct s3c *c);

/* Outer calls not yet answered (including those in backoff or queued). */
int s3c_pending(const struct s3c *c);

/* Maps an answer to an error code: ERR_OK, ERR_NOTFOUND (404 / NoSuchKey /
 * NoSuchUpload), ERR_TIMEOUT (transport timeout), ERR_IO (other transport
 * failure), ERR_CHECKSUM (BadDigest), ERR_S3 (any other error). */
int s3c_result_err(const struct s3_result *res);

#endif /* S3SIM_S3CLIENT_H */
