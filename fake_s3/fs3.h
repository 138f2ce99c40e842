/*
 * fs3.h - the honest in-memory S3 bucket (fake_s3/store.c).
 *
 *   engine --s3_ops--> fault shim (fault.h) --fs3_exec()--> store (this file)
 *   sim checks, racing deleters --------- inspection API ----^
 *
 * The store keeps one bucket in memory with real S3 rules and error codes
 * (keys <= 1024 bytes, ranged GET with 206/416, ListObjectsV2 paging,
 * DeleteObject 204 (or 404), DeleteObjects <= 1000 keys, multipart uploads
 * with part numbers 1..10000, InvalidPart / InvalidPartOrder /
 * EntityTooSmall / NoSuchUpload, BadDigest on a checksum mismatch).  It has no
 * fault code: fault.c wraps it.
 *
 * Two ways in:
 *  - fs3_ops(): the store as a struct s3_ops (s3.h contract).  A call is
 *    answered, and applied on the bucket, after its latency (below) from the
 *    env's timers; a call cancelled before that is never applied.
 *  - fs3_exec(): applies one request synchronously, now, and fills a result.
 *    This is what the fault shim builds its effects from.
 *
 * Latency model (fs3_draw_latency): one env draw per call, at submit:
 *   latency_us * (0.5 + u), u uniform in [0, 1)   (median latency_us)
 *   + bytes * 1e6 / bandwidth                     (put/mpu-part: the body;
 *     get: the range clipped to the object's size at submit; mpu-copy: the
 *     copied range, a server-side copy; other ops: 0).
 *
 * ETags are computed lazily: MD5 is only run when a caller needs it (HEAD,
 * a request carrying an MD5 checksum, a CompleteMultipartUpload with
 * non-empty part ETags) and then cached on the object.  GET and LIST return
 * the cached ETag or "" (s3.h allows it): neither pays for MD5, so that a
 * CRC32C run, or a LIST of a large bucket, never hashes whole objects.
 * UploadPartCopy answers ETag "" (its part's MD5 is computed at complete if
 * a non-empty ETag is then given for it).  A multipart object's ETag is
 * "\"<md5 of the parts' MD5s>-N\"".
 *
 * Stale view: with a history window H > 0 (fs3_config.history_us or
 * fs3_keep_history()), the store keeps, per key, the versions superseded in
 * the last H of virtual time (overwrites and deletes), so that GET, HEAD and
 * LIST can be answered "as of" any time in [now - H, now] (fs3_exec's
 * as_of_us).  Older versions are dropped on the next mutation.  History
 * starts when the window is set: before that, superseded versions were not
 * kept, and a view as of an earlier time sees the key absent.  H = 0 (the
 * default) keeps nothing, which is the fast path.
 *
 * Bytes by reference: a PUT or UploadPart body that lies in a shared buffer
 * (s3_req.body_buf, src/base/buf.h) is kept as a reference to it, not copied
 * (unless the buffer is much larger than the body); UploadPartCopy and
 * CompleteMultipartUpload link the segments they take; a shared buffer is
 * immutable, so what the store keeps never changes.  The checksum a PUT or
 * UploadPart carries is still verified, over the received bytes, but taken
 * from the buffer's memo when the client computed it over the same unchanged
 * bytes (s3_checksum_buf): a write to the buffer since recomputes it.
 *
 * Threading: one env, one thread.  Ownership: the store owns all bucket
 * memory (its own references to shared buffers included); results are
 * filled as s3.h says (body malloc'ed).
 */
#ifndef S3SIM_FS3_H
#define S3SIM_FS3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "env.h"
#include "s3.h"

#define FS3_MIN_PART_DEFAULT (UINT64_C(5) * 1024 * 1024)
#define FS3_LATENCY_DEFAULT (20 * ENV_USEC_PER_MS)
#define FS3_BANDWIDTH_DEFAULT (UINT64_C(1) << 30)
#define FS3_AS_OF_NOW INT64_MAX /* fs3_exec: the current view */

struct fs3_config {
    uint64_t min_part_size;    /* every part but the last >= this (5 MiB) */
    int delete_missing_status; /* DeleteObject of an absent key: 204 or 404 */
    int64_t latency_us;        /* median call latency (20 ms); 0 = none */
    uint64_t bandwidth;        /* bytes per second per call (1 GiB/s); 0 = infinite */
    int64_t history_us;        /* stale-view history window (0 = keep none) */
    /* The bucket lifecycle rule AbortIncompleteMultipartUpload: an upload
     * this old is aborted, on the world's clock (ENV_TIME_NEVER = no rule). */
    int64_t lifecycle_abort_us;
    /* How long a "day" of the lifecycle rules set over HTTP is (their Days,
     * DaysAfterInitiation): 24 h, shorter for tests (serve --lifecycle-day). */
    int64_t lifecycle_day_us;
    /* A CompleteMultipartUpload of an upload completed already (one of the
     * last FS3_DONE_MAX completions, same key): true answers 200 with the
     * object's ETag again, as AWS does; false 404 NoSuchUpload, as some
     * stores do (s3.complete.repeat). */
    bool complete_repeat_ok;
};

struct fs3;

/* Fills cfg with the defaults above. */
void fs3_config_init(struct fs3_config *cfg);

/* Creates an empty bucket.  env is borrowed and must outlive the store; cfg is
 * copied (NULL = defaults).  Returns NULL when out of memory. */
struct fs3 *fs3_new(struct env *env, const struct fs3_config *cfg);

/* Frees the bucket, its uploads and every pending call of fs3_ops() (their
 * callbacks never run, their timers are cancelled).  Free a fault shim over it
 * first.  NULL is fine. */
void fs3_free(struct fs3 *s);

/* The store as an s3_ops (name "fake").  Owned by the store. */
struct s3_ops *fs3_ops(struct fs3 *s);

/* The store's configuration (read-only view). */
const struct fs3_config *fs3_config(const struct fs3 *s);

/* ---- Building blocks for wrappers (the fault shim). ---------------------- */

/* Checks what S3 could not even be asked (a NULL/empty key on a key op, NULL
 * keys of a delete-many, a NULL body with a length, a negative range start,
 * an unknown op, no callback).  Returns 0 or ERR_INVAL. */
int fs3_validate(const struct s3_req *req);

/* Draws the latency of req (one env draw, see the model above). */
int64_t fs3_draw_latency(struct fs3 *s, const struct s3_req *req);

/* Applies req on the bucket now and fills *res (which the caller zeroed; the
 * caller frees it with s3_result_cleanup()).  as_of_us: GET, HEAD and LIST
 * see the bucket as of that virtual time (FS3_AS_OF_NOW: the current view;
 * other ops ignore it).  req must have passed fs3_validate().  Returns 0, or
 * ERR_NOMEM (then *res holds nothing and the bucket is unchanged). */
int fs3_exec(struct fs3 *s, const struct s3_req *req, int64_t as_of_us, struct s3_result *res);

/* Widens the history window to at least window_us (never narrows it). */
void fs3_keep_history(struct fs3 *s, int64_t window_us);

/* Counts calls in flight on behalf of a wrapper (+1 at submit, -1 when it is
 * answered or cancelled; a never-answered call stays in flight until it is
 * cancelled), so that fs3_inflight() is the one count for the simulator. */
void fs3_inflight_add(struct fs3 *s, int delta);

/* ---- Inspection, straight to the bucket, behind the engine's back. ------- */

/* Called for each key in lexicographic (memcmp) order; return false to stop.
 * The bucket must not be changed during the walk. */
typedef bool (*fs3_key_fn)(void *arg, const char *key, uint64_t size);
void fs3_each_key(struct fs3 *s, fs3_key_fn fn, void *arg);

/* True when key exists (current view); *size (may be NULL) gets its size. */
bool fs3_key_exists(struct fs3 *s, const char *key, uint64_t *size);

/* Removes key as a racing deleter would (recorded in the history like a
 * DeleteObject).  Returns 0, or ERR_NOTFOUND. */
int fs3_remove(struct fs3 *s, const char *key);

/* Called for each open multipart upload, ordered by (key, upload id). */
typedef bool (*fs3_upload_fn)(void *arg, const char *key, const char *upload_id,
                              int64_t created_us);
void fs3_each_upload(struct fs3 *s, fs3_upload_fn fn, void *arg);

/* Aborts an upload directly (its parts are dropped).  ERR_NOTFOUND if unknown. */
int fs3_abort_upload(struct fs3 *s, const char *upload_id);

/* The parts uploaded so far to upload_id (of key), by part number: fn gets
 * each one's number, size and ETag (its MD5, quoted hex).  ERR_NOTFOUND when
 * key has no such upload (NoSuchUpload); *created_us gets its creation time. */
typedef bool (*fs3_part_fn)(void *arg, int number, uint64_t size, const char *etag);
int fs3_each_part(struct fs3 *s, const char *key, const char *upload_id, int64_t *created_us,
                  fs3_part_fn fn, void *arg);

/* Part `number` (1-based) of key's current object: its bytes are [*start,
 * *start + *len), and *nparts is the object's number of parts (0: not a
 * multipart object, whose only part 1 is the whole object).  ERR_NOTFOUND
 * when the key is absent, ERR_RANGE when the object has no such part. */
int fs3_object_part(struct fs3 *s, const char *key, int number, uint64_t *start, uint64_t *len,
                    uint32_t *nparts);

/* ---- Versioning and object lock (store_ver.c). ----------------------------
 *
 * A bucket starts unversioned: every call behaves as before versioning
 * existed (the engine's runs never turn it on).  Once versioning is Enabled
 * each PutObject, CompleteMultipartUpload and DeleteObject makes a version
 * with its own id (a delete marker for a delete), the current one being the
 * newest; s3_req.version_id reads (get, head) or permanently deletes
 * (delete) one version, s3_result.version_id names the version written,
 * read or deleted.  Suspended: new writes and deletes make the "null"
 * version, replacing the previous null version; versions kept stay.  An
 * object written before versioning was enabled is the null version.  Version
 * ids are 32 characters [0-9a-v], drawn from a counter (deterministic); a
 * malformed id answers 400 InvalidArgument, an unknown one 404 NoSuchVersion
 * (a delete of an unknown version: 204, nothing done).  A get or head of a
 * delete marker by id answers 405 MethodNotAllowed; of the current version,
 * when it is a marker, 404 NoSuchKey with delete_marker set.
 *
 * Object lock: a bucket with lock enabled (versioning Enabled for good) gives
 * each new version the default retention, if one is set; a version under
 * retention (until a time on the store's clock) or a legal hold cannot be
 * deleted by id: 403 AccessDenied, except a GOVERNANCE retention with
 * s3_req.bypass_governance.  A delete without id (a marker) is always
 * allowed. */
enum fs3_versioning { FS3_VER_OFF, FS3_VER_ENABLED, FS3_VER_SUSPENDED };
enum fs3_lock_mode { FS3_LOCK_NONE, FS3_LOCK_GOVERNANCE, FS3_LOCK_COMPLIANCE };

/* Enabled or Suspended (not OFF).  ERR_BADSTATE: Suspended with the lock
 * enabled.  ERR_NOMEM. */
int fs3_set_versioning(struct fs3 *s, enum fs3_versioning v);
enum fs3_versioning fs3_versioning(const struct fs3 *s);

/* Enables the lock (and versioning, for good).  ERR_NOMEM. */
int fs3_lock_enable(struct fs3 *s);
bool fs3_lock_enabled(const struct fs3 *s);
/* The default retention of new versions: mode and a period of days or
 * years (one of them > 0; mode NONE: no default).  ERR_BADSTATE: the lock
 * is not enabled. */
int fs3_lock_set_default(struct fs3 *s, enum fs3_lock_mode mode, int days, int years);
void fs3_lock_default(const struct fs3 *s, enum fs3_lock_mode *mode, int *days, int *years);

/* One version's lock state. */
struct fs3_version_lock {
    enum fs3_lock_mode mode; /* NONE: no retention */
    int64_t until_us;        /* retain until (store's clock) */
    bool legal_hold;
};
/* The lock of key's version vid (NULL: the current one).  ERR_NOTFOUND: no
 * such key or version; ERR_INVAL: it is a delete marker (or a malformed id). */
int fs3_version_lock_get(struct fs3 *s, const char *key, const char *vid,
                         struct fs3_version_lock *out);
/* Sets a version's retention (mode NONE: removes it).  ERR_BADSTATE: the
 * lock is not enabled; ERR_UNSUPPORTED (AccessDenied): a COMPLIANCE
 * retention shortened, changed or removed before it ends, or a GOVERNANCE
 * one without bypass; ERR_NOTFOUND, ERR_INVAL as above. */
int fs3_version_set_retention(struct fs3 *s, const char *key, const char *vid,
                              enum fs3_lock_mode mode, int64_t until_us, bool bypass);
int fs3_version_set_legal_hold(struct fs3 *s, const char *key, const char *vid, bool on);

/* Every version of the keys under prefix, by key then newest first, after
 * (key_marker, vid_marker) as ListObjectVersions pages them (key_marker ""
 * = from the start; vid_marker "" = after every version of key_marker).
 * An unversioned object is one "null" version.  fn returns false to stop. */
struct fs3_version_info {
    const char *key;
    const char *version_id;
    bool latest;
    bool delete_marker;
    uint64_t size;
    const char *etag; /* quoted; "" for a marker */
    int64_t mtime_us;
};
typedef bool (*fs3_version_fn)(void *arg, const struct fs3_version_info *v);
int fs3_each_version(struct fs3 *s, const char *prefix, const char *key_marker,
                     const char *vid_marker, fs3_version_fn fn, void *arg);
uint64_t fs3_nversions_kept(const struct fs3 *s); /* versions and markers of a versioned bucket */
/* Without changing anything: the id of key's newest version or marker
 * ("null" for an object written without versioning) into out, and whether
 * it is a marker; ERR_NOTFOUND when the key has none. */
int fs3_version_current(struct fs3 *s, const char *key, char out[S3_VERSION_ID_MAX], bool *marker);
/* Whether key's version vid ("null" included) holds an object (is not a
 * delete marker, and was not deleted). */
bool fs3_version_exists(struct fs3 *s, const char *key, const char *vid);

/* ---- Lifecycle (store_life.c). -------------------------------------------
 *
 * One mechanism applies the bucket's lifecycle rules on the world's clock:
 * the rule of fs3_config.lifecycle_abort_us (the s3.lifecycle.abort.incomplete
 * knob: every upload that old is aborted) and the rules set here
 * (PutBucketLifecycleConfiguration over HTTP).  A pass aborts each open upload
 * whose key has a rule's prefix and whose age reached its
 * DaysAfterInitiation, and expires each object whose age reached its Days or
 * whose Date has come (versioning on: a delete marker).  The pass is armed at
 * the earliest upload deadline, and, while an expiration rule exists, at
 * least every lifecycle_day_us / 1440 (100 ms at the least): objects are not
 * watched one by one.  AWS runs the rules once a day and rounds an object's
 * deadline up to the next midnight UTC; this store does not round. */
struct fs3_lc_rule {
    const char *id;      /* ID ("" none) */
    const char *prefix;  /* keys it applies to ("" all) */
    bool enabled;        /* Status Enabled */
    int expire_days;     /* Expiration Days (0 none) */
    int64_t expire_at;   /* Expiration Date on the store's clock (ENV_TIME_NEVER none) */
    int abort_days;      /* AbortIncompleteMultipartUpload DaysAfterInitiation (0 none) */
};
/* Replaces the rules set before (n 0: none left; the knob's rule stays).
 * Copies them.  ERR_NOMEM (the old ones stay). */
int fs3_lifecycle_set(struct fs3 *s, const struct fs3_lc_rule *rules, size_t n);
/* The rules set by fs3_lifecycle_set (valid until the next call of it). */
size_t fs3_lifecycle_get(const struct fs3 *s, const struct fs3_lc_rule **rules);

/* ---- Multipart checksums (store_ck.c): computed over the kept bytes. ----- */

/* The metadata lines of upload_id of key ("" when none).  ERR_NOTFOUND. */
int fs3_upload_meta(struct fs3 *s, const char *key, const char *upload_id, const char **meta);
/* The checksum (alg) of part number of an open upload.  ERR_NOTFOUND. */
int fs3_upload_part_cksum(struct fs3 *s, const char *key, const char *upload_id, int number,
                          enum s3_cksum alg, struct s3_checksum *out);
/* The checksum of the listed parts' bytes, in order, as one object (a full-object CRC).
 * ERR_NOTFOUND: no such upload or part; ERR_NOMEM. */
int fs3_upload_cksum(struct fs3 *s, const char *key, const char *upload_id,
                     const struct s3_part *parts, size_t n, enum s3_cksum alg,
                     struct s3_checksum *out);
/* The checksum of part number of key's current object (fs3_object_part's part). */
int fs3_object_part_cksum(struct fs3 *s, const char *key, int number, enum s3_cksum alg,
                          struct s3_checksum *out);

uint64_t fs3_nkeys(const struct fs3 *s);    /* keys in the bucket */
uint64_t fs3_nbytes(const struct fs3 *s);   /* sum of their sizes */
uint64_t fs3_nuploads(const struct fs3 *s); /* open multipart uploads */
uint64_t fs3_inflight(const struct fs3 *s); /* calls submitted, not yet answered,
                                               not cancelled (store + wrappers) */
uint64_t fs3_nversions(const struct fs3 *s); /* superseded versions kept for the
                                                stale view (bounded by the window) */

#endif /* S3SIM_FS3_H */
