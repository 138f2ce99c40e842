/*
 * http.h - the fake S3 served as S3 REST over HTTP (libmicrohttpd), so that
 * real clients (awscli, boto3, s3cmd, the AWS SDKs, the engine's own libcurl
 * client) can talk to it, faults included.
 *
 *   client ──HTTP──► MHD thread pool ──► auth (SigV4) ──► route (bucket, key, query)
 *                                                            │ s3_req, under the loop lock
 *                                         bucket table ──────┴──► struct s3_ops (fault shim ►
 * store) │ callback (zero-delay timer, │ or later on the timer thread) client ◄── XML / bytes /
 * held / reset ◄── response ◄──────────────┘
 *
 * Each bucket is one struct s3_ops (normally the fault shim over a store).
 * Buckets are registered up front with fs3_http_add_bucket(), or made on
 * CreateBucket: by the config's factory, or by default as a store (fs3.h,
 * latency_us, no bandwidth limit) under a fault shim holding the config's
 * rules (copied).
 * Every call into a bucket's s3_ops, and every timer, runs with the loop's
 * lock held (http_loop.h); hold it too to inspect or change a store from
 * outside (fs3_http_loop()).
 *
 * What is served: ListBuckets, CreateBucket, DeleteBucket, HeadBucket,
 * GetBucketLocation, ListObjects (V1 and V2, prefix, delimiter, paging,
 * encoding-type=url), versioning and object lock (http_ver.c), ListObjectVersions,
 * GetObject (Range), HeadObject, PutObject, CopyObject, DeleteObject,
 * DeleteObjects, CreateMultipartUpload, UploadPart, UploadPartCopy,
 * CompleteMultipartUpload, AbortMultipartUpload.  Other sub-resources answer
 * 501 NotImplemented.
 *
 * Authentication: SigV4 or SigV2 in the Authorization header or a presigned
 * query, with the configured key pair or one of users (unsigned requests are
 * anonymous: ACLs, tagging and CORS in http_acl.h); UNSIGNED-PAYLOAD; aws-chunked bodies (signed
 * chunks, or unsigned chunks with x-amz-checksum-* trailers).  Errors:
 * 403 InvalidAccessKeyId, SignatureDoesNotMatch, RequestTimeTooSkewed,
 * AccessDenied (expired presigned URL), 400 XAmzContentSHA256Mismatch,
 * BadDigest (Content-MD5 or x-amz-checksum-* mismatch), 400 for malformed
 * requests, 413-style EntityTooLarge (400) over the body cap.
 *
 * Fault effects seen by the client: a result with transport S3_TR_RESET is
 * answered by half a response and a TCP reset; S3_TR_TIMEOUT (and a call that
 * never completes: stall, lost) holds the connection open without an answer;
 * delay= happens in real time (scaled).
 */
#ifndef S3SIM_FAKE_HTTP_H
#define S3SIM_FAKE_HTTP_H

#include "env.h"
#include "fault.h"
#include "fs3.h"
#include "http_loop.h"
#include "s3.h"

#include <stddef.h>
#include <stdint.h>

struct fs3_http;

/* Makes and unmakes buckets on CreateBucket / DeleteBucket.  Both run with
 * the loop lock held; env is the loop's env, for the store and the shim. */
struct fs3_http_factory {
    int (*create)(void *arg, struct env *env, const char *name, struct s3_ops **ops);
    void (*destroy)(void *arg, const char *name, struct s3_ops *ops);
    void *arg;
    /* The store behind a bucket just made (NULL, or no function: none).  With
     * it the front serves what reads the store directly (ListParts,
     * ?partNumber, GetObjectAttributes' parts, versioning, object lock). */
    struct fs3 *(*store)(void *arg, const char *name);
};

/* One more key pair (see fs3_http_config.users).  name is its canonical ID
 * and display name in owners and grants (NULL: the access key). */
struct fs3_http_user {
    const char *access_key;
    const char *secret_key;
    const char *name;
};

struct fs3_http_config {
    const char *bind_addr;  /* "127.0.0.1" by default (NULL) */
    int port;               /* 0: any free port (see fs3_http_port) */
    const char *access_key; /* NULL: no authentication at all */
    const char *secret_key;
    const char *region;    /* "us-east-1" by default */
    /* More key pairs besides access_key's (borrowed: they must outlive the
     * server).  Each request is its signer's (or anonymous when unsigned):
     * buckets and objects have owners, ACLs judge access (http_acl.h). */
    const struct fs3_http_user *users;
    size_t nusers;
    unsigned threads;      /* MHD thread pool; 0 = 4 */
    size_t max_body;       /* bytes of one request body; 0 = 256 MiB */
    int64_t max_skew_secs; /* RequestTimeTooSkewed beyond this; 0 = 900 */
    double time_scale;     /* env time per real time (see http_loop.h); 0 = 1 */
    uint64_t seed;         /* the loop env's random stream */
    fs3_loop_log_fn log;   /* request log and store log; may be NULL */
    void *log_arg;
    struct fs3_http_factory factory; /* create NULL: the default store + shim */
    bool fixed_buckets;              /* refuse CreateBucket of a new name (403) */
    bool check_region;               /* refuse a signature scoped to another region than
                                        region, as AWS does (400); off: any region */
    const struct fs3_rule *rules;    /* default factory: every new bucket's fault rules */
    size_t nrules;
    int64_t latency_us;             /* default factory: the store's median latency (0) */
    const struct fs3_config *store; /* default factory: the stores' config, copied (NULL:
                                       fs3 defaults, latency_us, no bandwidth limit) */
    /* Hostile clients.  Request bodies in memory at once are capped at
     * max_memory (0 = 1 GiB): a request that would go over is answered 503
     * SlowDown, as S3 does.  A connection idle for idle_timeout_secs (0 = 30)
     * is closed; at most max_connections (0 = 256) are open, more are closed
     * on accept.  With authentication, a body larger than preauth_body
     * (0 = 64 KiB) is read only after the headers' signature verified. */
    uint64_t max_memory;
    unsigned idle_timeout_secs;
    unsigned max_connections;
    size_t preauth_body;
};

/* Binds and starts serving.  Returns 0, ERR_NOMEM, ERR_IO (cannot bind). */
int fs3_http_start(const struct fs3_http_config *cfg, struct fs3_http **out);

/* The port it listens on. */
int fs3_http_port(const struct fs3_http *h);

/* The loop whose lock guards the buckets' s3_ops and whose env they use. */
struct fs3_loop *fs3_http_loop(struct fs3_http *h);

/* Registers a bucket served by ops (borrowed; it must outlive the server or
 * its removal).  Takes the loop lock itself.  ERR_EXISTS, ERR_INVAL (name),
 * ERR_LIMIT, ERR_NOMEM. */
int fs3_http_add_bucket(struct fs3_http *h, const char *name, struct s3_ops *ops);

/* Creates a bucket as CreateBucket does (the factory or the default store
 * and shim).  Takes the loop lock.  ERR_EXISTS, ERR_INVAL (name),
 * ERR_UNSUPPORTED (fixed buckets), ERR_LIMIT, ERR_NOMEM. */
int fs3_http_create_bucket(struct fs3_http *h, const char *name);

/* Counters of what was served (for the bench and tests). */
struct fs3_http_stats {
    uint64_t requests;      /* requests answered, held or reset */
    uint64_t errors;        /* answered with status >= 400 */
    uint64_t auth_failures; /* 403 from the signature check */
    uint64_t resets;        /* connections reset by the reset effect */
    uint64_t held;          /* requests held without answer */
    uint64_t over_memory;   /* answered 503 SlowDown over max_memory */
    uint64_t refused;       /* connections closed on accept over max_connections */
    uint64_t buffered;      /* request body bytes in memory now */
};
void fs3_http_get_stats(struct fs3_http *h, struct fs3_http_stats *out);

/* Stops serving (held connections are closed), destroys the buckets the
 * factory made, frees everything.  NULL is fine. */
void fs3_http_stop(struct fs3_http *h);

#endif /* S3SIM_FAKE_HTTP_H */
