/*
 * s3.h - the S3 boundary: struct s3_ops, its requests, results and codes.
 *
 *   engine (src/)  --s3_get()/s3_put()/...-->  struct s3_ops  --> fake S3 (fake_s3/)
 *                                                        or  --> s3_curl (src/s3_curl.c)
 *   The engine's retry/timeout layer (src/s3client.c) is itself an s3_ops
 *   wrapper, and so is the fault shim (fake_s3/fault.c) over the store.
 *
 * The table has one entry point, submit(), plus cancel().  The engine calls it
 * only through the one-line wrappers at the end of this file (s3_put(),
 * s3_get(), ...), which gives one choke point for tracing and counting; a
 * single submit makes wrappers (fault shim, retry layer) one function each
 * instead of eleven (compare sqlite3_vfs's per-operation pointers).
 *
 * Contract (libuv and raft style):
 *  - submit() returns 0 and later calls req->cb exactly once, from the event
 *    loop, never from inside submit(); or returns a negative err code and
 *    never calls req->cb.
 *  - The request is owned by the caller and must stay valid, unchanged, until
 *    its callback has run (or cancel() returned).  Its buffers are borrowed.
 *  - cancel(): after it returns, req->cb is never called and the
 *    implementation no longer touches req.  Used by timeouts: the engine
 *    abandons the attempt.  Cancelling a completed request is a bug.
 *  - The result passed to the callback is valid only during the callback.  A
 *    callback may take ownership of res->body by setting res->body to NULL
 *    (then it must free() it, or, when res->body_ref is set, take that
 *    reference too, setting it NULL, and buf_unref() it instead); otherwise
 *    the implementation frees it.  A body with a body_ref is read-only.
 */
#ifndef S3SIM_S3_H
#define S3SIM_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* S3 operations, named as in scenario fault lines (docs/scenarios.md "Faults"). */
#define S3_OP_TABLE(X)                                                         \
    X(S3_OP_GET, "get")                                                        \
    X(S3_OP_HEAD, "head")                                                      \
    X(S3_OP_PUT, "put")                                                        \
    X(S3_OP_LIST, "list")                                                      \
    X(S3_OP_DELETE, "delete")                                                  \
    X(S3_OP_DELETE_MANY, "delete-many")                                        \
    X(S3_OP_MPU_CREATE, "mpu-create")                                          \
    X(S3_OP_MPU_PART, "mpu-part")                                              \
    X(S3_OP_MPU_COPY, "mpu-copy")                                              \
    X(S3_OP_MPU_COMPLETE, "mpu-complete")                                      \
    X(S3_OP_MPU_ABORT, "mpu-abort")                                            \
    X(S3_OP_LIST_UPLOADS, "list-uploads")

enum s3_op {
#define S3_OP_ENUM_(e, s) e,
    S3_OP_TABLE(S3_OP_ENUM_)
#undef S3_OP_ENUM_
    S3_OP_COUNT
};

/* S3 error codes (the <Code> of an error body).  S3E_NONE: no error. */
#define S3_CODE_TABLE(X)                                                       \
    X(S3E_NONE, "")                                                            \
    X(S3E_NO_SUCH_KEY, "NoSuchKey")                                            \
    X(S3E_NO_SUCH_UPLOAD, "NoSuchUpload")                                      \
    X(S3E_NO_SUCH_BUCKET, "NoSuchBucket")                                      \
    X(S3E_ACCESS_DENIED, "AccessDenied")                                       \
    X(S3E_INTERNAL_ERROR, "InternalError")                                     \
    X(S3E_SLOW_DOWN, "SlowDown")                                               \
    X(S3E_SERVICE_UNAVAILABLE, "ServiceUnavailable")                           \
    X(S3E_REQUEST_TIMEOUT, "RequestTimeout")                                   \
    X(S3E_OPERATION_ABORTED, "OperationAborted")                               \
    X(S3E_INVALID_REQUEST, "InvalidRequest")                                   \
    X(S3E_INVALID_ARGUMENT, "InvalidArgument")                                 \
    X(S3E_INVALID_RANGE, "InvalidRange")                                       \
    X(S3E_ENTITY_TOO_SMALL, "EntityTooSmall")                                  \
    X(S3E_ENTITY_TOO_LARGE, "EntityTooLarge")                                  \
    X(S3E_INVALID_PART, "InvalidPart")                                         \
    X(S3E_INVALID_PART_ORDER, "InvalidPartOrder")                              \
    X(S3E_BAD_DIGEST, "BadDigest")                                             \
    X(S3E_INVALID_DIGEST, "InvalidDigest")                                     \
    X(S3E_MALFORMED_XML, "MalformedXML")                                       \
    X(S3E_SIGNATURE_DOES_NOT_MATCH, "SignatureDoesNotMatch")                   \
    X(S3E_INVALID_ACCESS_KEY_ID, "InvalidAccessKeyId")                         \
    X(S3E_REQUEST_TIME_TOO_SKEWED, "RequestTimeTooSkewed")                     \
    X(S3E_CONTENT_SHA256_MISMATCH, "XAmzContentSHA256Mismatch")                \
    X(S3E_BUCKET_NOT_EMPTY, "BucketNotEmpty")                                  \
    X(S3E_BUCKET_ALREADY_OWNED, "BucketAlreadyOwnedByYou")                     \
    X(S3E_METHOD_NOT_ALLOWED, "MethodNotAllowed")                              \
    X(S3E_NOT_IMPLEMENTED, "NotImplemented")                                   \
    X(S3E_PRECONDITION_FAILED, "PreconditionFailed")                           \
    X(S3E_CONDITIONAL_CONFLICT, "ConditionalRequestConflict")                  \
    X(S3E_METADATA_TOO_LARGE, "MetadataTooLarge")                              \
    X(S3E_NO_SUCH_VERSION, "NoSuchVersion")                                    \
    X(S3E_OTHER, "UnknownError")

enum s3_code {
#define S3_CODE_ENUM_(e, s) e,
    S3_CODE_TABLE(S3_CODE_ENUM_)
#undef S3_CODE_ENUM_
    S3E_COUNT
};

/* Checksum algorithms (s3.checksum.algorithm). */
enum s3_cksum {
    S3_CKSUM_NONE = 0,
    S3_CKSUM_MD5,    /* Content-MD5 on the request, compared with the ETag */
    S3_CKSUM_CRC32C, /* x-amz-checksum-crc32c */
    S3_CKSUM_CRC32,  /* x-amz-checksum-crc32 */
    S3_CKSUM_SHA256, /* x-amz-checksum-sha256 */
    S3_CKSUM_SHA1,   /* x-amz-checksum-sha1 (the HTTP front only: not an engine knob value) */
    S3_CKSUM_CRC64NVME, /* x-amz-checksum-crc64nvme (same) */
};
#define S3_CKSUM_LAST S3_CKSUM_CRC64NVME

/* The engine job that issued a call: used for the coverage matrix and the
 * per-job request accounting.  Set by the engine, carried through every
 * layer, ignored by S3 semantics. */
#define S3_JOB_TABLE(X)                                                        \
    X(S3_JOB_OTHER, "other")                                                   \
    X(S3_JOB_WAL_UPLOAD, "wal-upload")                                         \
    X(S3_JOB_SSO_COMPACTION, "sso-compaction")                                 \
    X(S3_JOB_FORCE_SPLIT, "force-split")                                       \
    X(S3_JOB_STREAM_COMPACTION, "stream-compaction")                           \
    X(S3_JOB_CLEANER, "cleaner")                                               \
    X(S3_JOB_READER, "reader")

enum s3_job {
#define S3_JOB_ENUM_(e, s) e,
    S3_JOB_TABLE(S3_JOB_ENUM_)
#undef S3_JOB_ENUM_
    S3_JOB_COUNT
};

/* S3 requests counted by job and op: what the engine's clients sent (s3client.h) and
 * what a server received from them (the bench), so that the two can be compared. */
struct s3_requests {
    uint64_t n[S3_JOB_COUNT][S3_OP_COUNT];
};

/* Transport outcome, for calls that got no HTTP answer. */
enum s3_transport {
    S3_TR_OK = 0,      /* an HTTP answer arrived (see status) */
    S3_TR_TIMEOUT = 1, /* no answer within the attempt timeout */
    S3_TR_RESET = 2,   /* the connection was reset */
    S3_TR_CONNECT = 3, /* could not connect */
    S3_TR_OTHER = 4,   /* any other transport failure */
};

#define S3_MAX_KEY 1024        /* longest key, bytes, without the NUL */
#define S3_MAX_DELETE_KEYS 1000
#define S3_MAX_PARTS 10000
/* An object's metadata as the store keeps it: "name: value\n" lines
 * (Content-Type, Content-Encoding, Content-Disposition, Content-Language,
 * Cache-Control, Expires, x-amz-meta-*).  S3 allows 2 KiB of user metadata;
 * the system headers get the rest. */
#define S3_META_MAX 4096
#define S3_ETAG_MAX 72         /* a quoted ETag such as "\"<32 hex>-10000\"" fits */
#define S3_CKSUM_MAX 32        /* raw bytes of the largest checksum (SHA-256) */
#define S3_UPLOAD_ID_MAX 128
#define S3_VERSION_ID_MAX 40   /* a version id ("null" or 32 characters) and its NUL */

/* A checksum value: raw bytes, not base64. */
struct s3_checksum {
    enum s3_cksum alg;          /* S3_CKSUM_NONE: absent */
    uint8_t value[S3_CKSUM_MAX]; /* raw digest, big-endian for CRCs */
    uint8_t len;                /* bytes used in value */
};

/* One part named in a CompleteMultipartUpload. */
struct s3_part {
    int number;                 /* 1..10000 */
    char etag[S3_ETAG_MAX];     /* as returned by UploadPart; "" = not checked */
    struct s3_checksum cksum;   /* as sent with UploadPart, or alg NONE */
};

/* One object of a ListObjectsV2 page. */
struct s3_list_entry {
    char *key;                  /* owned by the result */
    uint64_t size;
    char etag[S3_ETAG_MAX];     /* may be "" when the implementation skips it */
    char *upload_id;            /* list-uploads: the upload's id (owned), else NULL */
    int64_t mtime_us;           /* list: when the version took effect; list-uploads: when
                                   the upload was created (store's clock, µs; 0 = unknown) */
};

/* Outcome of one key of a DeleteObjects call. */
struct s3_delete_entry {
    const char *key;            /* points into the request's keys */
    enum s3_code code;          /* S3E_NONE: deleted (or never there) */
    /* A versioned bucket (fs3.h "Versioning"): the version deleted, or the
     * delete marker made ("" otherwise), and whether it is a marker. */
    char version_id[S3_VERSION_ID_MAX];
    bool delete_marker;
};

struct buf;
struct s3_req;
struct s3_result;
typedef void (*s3_cb)(struct s3_req *req, struct s3_result *res);

/* A request.  Fields not used by the op are ignored. */
/* A piece of a body (s3_req.segs): len bytes at p, inside buffer b
 * (buf.h), which the request borrows; gen is b->gen when the sender took
 * its checksum over the pieces (s3_checksum_segs sets it). */
struct s3_seg {
    struct buf *b;
    const uint8_t *p;
    size_t len;
    uint64_t gen;
};

struct s3_req {
    enum s3_op op;              /* set by the s3_*() wrappers */
    enum s3_job job;            /* who issued it (accounting only) */
    const char *key;            /* object key (borrowed); list: unused */

    /* get: byte range [range_start, range_end), range_end -1 = to the end;
     * mpu-copy: the source range, same convention. */
    int64_t range_start;
    int64_t range_end;

    /* put, mpu-part: the body (borrowed), and its checksum computed by the
     * caller before submit (alg NONE: none sent). */
    const uint8_t *body;
    size_t body_len;
    struct s3_checksum cksum;
    /* put, mpu-part: the shared buffer (buf.h) body points into, borrowed
     * like body, or NULL.  With it a checksum computed over the same
     * unchanged bytes is reused (s3_checksum_buf) instead of recomputed. */
    struct buf *body_buf;
    /* put, mpu-part: the body as pieces of shared buffers, in order
     * (borrowed, like body), instead of body: then body is NULL and body_len
     * is their total.  Only to an s3_ops whose segs_ok is set (s3client
     * gathers them into one copy for the others).  segs_memo: the checksum
     * the sender computed over them (alg NONE: none), valid only while every
     * segment's buffer is still at the gen the segment records: the store
     * may reuse it then instead of recomputing, as with a buffer's memo. */
    const struct s3_seg *segs;
    size_t nsegs;
    struct s3_checksum segs_memo;

    /* list, list-uploads: prefix, continuation token ("" or NULL = first
     * page), page size (0 = 1000).  list-uploads (ListMultipartUploads) pages
     * by key then upload id; its token is opaque to the caller. */
    const char *prefix;
    const char *token;
    int max_keys;

    /* delete-many: the keys (borrowed). */
    const char *const *keys;
    size_t nkeys;

    /* mpu-part, mpu-copy, mpu-complete, mpu-abort: the upload id (borrowed). */
    const char *upload_id;
    int part_number;            /* mpu-part, mpu-copy: 1..10000 */
    const char *copy_source;    /* mpu-copy: the source key (same bucket) */

    /* put, mpu-complete, get, head: the If-Match and If-None-Match headers
     * (borrowed, NULL = not sent), as HTTP has them: "*" or a list of quoted
     * ETags.  A write goes ahead only if they hold (412 PreconditionFailed;
     * If-Match of a missing key: 404; If-None-Match takes only "*" on a write:
     * 501); a conditional Complete whose key was written or deleted after its
     * CreateMultipartUpload answers 409 ConditionalRequestConflict.  A read:
     * If-Match failing is 412, If-None-Match matching is 304 with no body. */
    const char *if_match;
    const char *if_none_match;
    /* get, head: If-Modified-Since / If-Unmodified-Since (.set false = not
     * sent) as the first instant of the store's clock (µs) that is later than
     * the date: a version that took effect at or after it was modified since.
     * If-Unmodified-Since and a modified version: 412 (unless If-Match was
     * sent); If-Modified-Since and an unmodified one: 304 (unless
     * If-None-Match was sent).  The HTTP front turns a date D (whole seconds)
     * into D + 1 s on the store's clock. */
    struct s3_since {
        bool set;
        int64_t us;
    } if_modified_since, if_unmodified_since;

    /* put, mpu-create: the object's metadata lines (borrowed, NULL = none;
     * at most S3_META_MAX - 1 bytes, else 400 MetadataTooLarge), stored with
     * the object (a Complete takes its upload's, or these when given) and
     * returned by get and head. */
    const char *meta;

    /* get, head, delete: the version (S3's versionId; borrowed, NULL = the
     * current one).  delete-many: version_ids[i] for keys[i] (the array NULL,
     * or an entry NULL: the current one).  delete, delete-many: whether a
     * GOVERNANCE retention may be bypassed (x-amz-bypass-governance-retention).
     * The engine never sets them: an unversioned bucket with none of them
     * behaves as before versioning existed. */
    const char *version_id;
    const char *const *version_ids;
    bool bypass_governance;

    /* mpu-complete: the parts, in the order the caller lists them. */
    const struct s3_part *parts;
    size_t nparts;
    /* mpu-complete: return the multipart ETag even when a part was listed
     * without its ETag (the HTTP front, whose answer always carries one);
     * otherwise the in-process fake may leave it "" (see "ETags" below). */
    bool want_etag;
    /* head: the caller does not read the ETag (it asks for the size): the
     * in-process fake may leave it "" instead of computing a multipart
     * object's ETag, an MD5 pass over its parts, for nobody.  S3 ignores it. */
    bool skip_etag;
    /* get: the caller accepts an answer that shares the store's bytes
     * (s3_result.body_ref) instead of a copy; others get a malloc'ed body. */
    bool body_by_ref;
    /* get with body_by_ref: the caller also takes an answer in pieces
     * (s3_result.segs) when the range spans several of the store's buffers. */
    bool body_segs;

    s3_cb cb;                   /* completion callback */
    void *arg;                  /* the caller's context, untouched */
};

/* A result, valid during the callback only (see the ownership rule above). */
struct s3_result {
    enum s3_transport transport; /* S3_TR_OK: status and code are valid */
    int status;                 /* HTTP status: 200, 204, 206, 404... */
    enum s3_code code;          /* error code, S3E_NONE on success */
    char message[128];          /* error message, may be "" */

    uint8_t *body;              /* get: the bytes (malloc'ed, see above) */
    size_t body_len;
    struct buf *body_ref;       /* get with s3_req.body_by_ref: when set, body points
                                   into this shared buffer (the store's bytes, no
                                   copy), read-only; the result holds one reference */
    struct s3_seg *segs;        /* get with s3_req.body_segs: when set, the body as
                                   pieces of the store's buffers (read-only), each
                                   holding one reference, owned by the result like
                                   body_ref; body is NULL, body_len their total */
    size_t nsegs;
    uint64_t object_size;       /* get, head: the whole object's size */
    char etag[S3_ETAG_MAX];     /* put, mpu-part, mpu-copy, mpu-complete, head, get;
                                   may be "" when not computed (see below) */
    struct s3_checksum cksum;   /* put, mpu-part: the store's checksum of what it
                                   stored, of the request's algorithm */
    char upload_id[S3_UPLOAD_ID_MAX]; /* mpu-create */

    struct s3_list_entry *entries; /* list, list-uploads: the page (owned by the result) */
    size_t nentries;
    bool truncated;             /* list: more pages follow */
    char next_token[S3_MAX_KEY + 1]; /* list, list-uploads: token of the next page */

    struct s3_delete_entry *deleted; /* delete-many: one per request key, same order */
    size_t ndeleted;

    /* get, head (and a 304): the version's metadata lines ("" = none; see
     * s3_req.meta) and when it took effect, on the store's clock (µs). */
    char meta[S3_META_MAX];
    int64_t mtime_us;

    /* put, mpu-complete, get, head, delete in a versioned bucket: the
     * version written, read or deleted, or the delete marker made or met
     * ("" in a bucket that never had versioning); delete_marker: it is one
     * (a get or head of the current version answers 404 then, of that
     * version 405). */
    char version_id[S3_VERSION_ID_MAX];
    bool delete_marker;
};

/*
 * ETags: every implementation returns the ETag when the request carried an
 * MD5 checksum; implementations may leave it "" otherwise (the in-process fake
 * computes MD5 lazily, so that a CRC32C run does not pay for it).  A "" ETag in
 * a CompleteMultipartUpload part list is not checked by the fake.
 */

struct s3_ops {
    void *impl;                 /* the implementation's state */
    const char *name;           /* "fake", "fault", "client", "curl" */

    /* Starts req (req->op says which).  See the contract at the top. */
    int (*submit)(struct s3_ops *ops, struct s3_req *req);

    /* Abandons req; its callback will not run.  See the contract at the top. */
    void (*cancel)(struct s3_ops *ops, struct s3_req *req);

    /* Takes put and mpu-part bodies as segments (s3_req.segs). */
    bool segs_ok;
};

/* Names and parsing of the tables above.  *_name never returns NULL; *_parse
 * returns -1 for an unknown name. */
const char *s3_op_name(enum s3_op op);
int s3_op_parse(const char *name);
const char *s3_code_name(enum s3_code code);
enum s3_code s3_code_parse(const char *name); /* unknown -> S3E_OTHER */
const char *s3_job_name(enum s3_job job);
const char *s3_cksum_name(enum s3_cksum alg); /* "MD5", "CRC32C", ... */
int s3_cksum_parse(const char *name);         /* case-insensitive; -1 unknown */

/* The default error code of an HTTP status for an op (docs/scenarios.md "Faults"):
 * 404 -> NoSuchKey (NoSuchUpload for multipart part/copy/complete/abort),
 * 403 -> AccessDenied, 500 -> InternalError, 503 -> SlowDown, 400 ->
 * InvalidRequest, anything else >= 300 -> S3E_OTHER, < 300 -> S3E_NONE. */
enum s3_code s3_default_code(enum s3_op op, int status);

/* True when res is a success for its op (transport OK, 2xx, code NONE). */
bool s3_result_ok(const struct s3_result *res);

/* Zeroes res and fills in an answer made by the caller rather than a server
 * (a transport failure, a refusal before any request): transport, status,
 * code and message; nothing to clean up afterwards. */
void s3_result_synth(struct s3_result *res, enum s3_transport tr, int status, enum s3_code code,
                     const char *msg);

/* Computes the checksum of buf with alg into out (alg NONE: out->len = 0). */
void s3_checksum_compute(enum s3_cksum alg, const uint8_t *buf, size_t len,
                         struct s3_checksum *out);
bool s3_checksum_equal(const struct s3_checksum *a, const struct s3_checksum *b);

/* As s3_checksum_compute, over bytes that may lie in the shared buffer b
 * (NULL: plain compute): when they do, a checksum of the same algorithm
 * taken over the same range at the buffer's current write generation is
 * reused, else it is computed and remembered (buf.h "Memo").  A write to the
 * buffer since makes it compute again. */
void s3_checksum_buf(enum s3_cksum alg, struct buf *b, const uint8_t *p, size_t len,
                     struct s3_checksum *out);

/* The checksum of the concatenation of v[0..n), computed (never a memo);
 * records each segment's buffer gen in v[i].gen (NULL b: 0). */
void s3_checksum_segs(enum s3_cksum alg, struct s3_seg *v, size_t n, struct s3_checksum *out);

/* The checksum of req's segments for the store: req->segs_memo when its
 * algorithm is alg and no segment's buffer was written since it was taken
 * (each b->gen still the segment's gen), else computed. */
void s3_checksum_req_segs(enum s3_cksum alg, const struct s3_req *req, struct s3_checksum *out);

/* The quoted MD5 ETag of a single-part object: "\"<32 hex>\"". */
void s3_etag_md5(const uint8_t *buf, size_t len, char out[S3_ETAG_MAX]);

/* A result answered in pieces (segs) as one malloc'ed body (a copy), for
 * code that changes or keeps the body whole.  0, or -1 out of memory (res
 * unchanged). */
int s3_result_flatten(struct s3_result *res);

/* Frees what a result owns (body, entries, deleted) and zeroes those fields.
 * Implementations call it after the callback returns. */
void s3_result_cleanup(struct s3_result *res);

/* The one-line wrappers the engine calls.  Each sets req->op, cb and arg and
 * calls ops->submit(). */
static inline int s3_submit_op(struct s3_ops *s3, enum s3_op op, struct s3_req *req, s3_cb cb,
                               void *arg)
{
    req->op = op;
    req->cb = cb;
    req->arg = arg;
    return s3->submit(s3, req);
}
#define s3_get(s3, req, cb, arg) s3_submit_op((s3), S3_OP_GET, (req), (cb), (arg))
#define s3_head(s3, req, cb, arg) s3_submit_op((s3), S3_OP_HEAD, (req), (cb), (arg))
#define s3_put(s3, req, cb, arg) s3_submit_op((s3), S3_OP_PUT, (req), (cb), (arg))
#define s3_list(s3, req, cb, arg) s3_submit_op((s3), S3_OP_LIST, (req), (cb), (arg))
#define s3_delete(s3, req, cb, arg) s3_submit_op((s3), S3_OP_DELETE, (req), (cb), (arg))
#define s3_delete_many(s3, req, cb, arg) s3_submit_op((s3), S3_OP_DELETE_MANY, (req), (cb), (arg))
#define s3_mpu_create(s3, req, cb, arg) s3_submit_op((s3), S3_OP_MPU_CREATE, (req), (cb), (arg))
#define s3_mpu_part(s3, req, cb, arg) s3_submit_op((s3), S3_OP_MPU_PART, (req), (cb), (arg))
#define s3_mpu_copy(s3, req, cb, arg) s3_submit_op((s3), S3_OP_MPU_COPY, (req), (cb), (arg))
#define s3_mpu_complete(s3, req, cb, arg) s3_submit_op((s3), S3_OP_MPU_COMPLETE, (req), (cb), (arg))
#define s3_mpu_abort(s3, req, cb, arg) s3_submit_op((s3), S3_OP_MPU_ABORT, (req), (cb), (arg))
#define s3_list_uploads(s3, req, cb, arg)                                                         \
    s3_submit_op((s3), S3_OP_LIST_UPLOADS, (req), (cb), (arg))

static inline void s3_cancel(struct s3_ops *s3, struct s3_req *req) { s3->cancel(s3, req); }

#endif /* S3SIM_S3_H */
