/*
 * http_int.h - internals shared by the HTTP front's files: http.c (the
 * libmicrohttpd glue: connections, bodies, suspend/resume, reset),
 * http_ops.c (S3 semantics: routing, auth, one or more s3_ops calls per
 * request) and http_xml.c (XML out and in).  Not a public contract.
 */
#ifndef S3SIM_FAKE_HTTP_INT_H
#define S3SIM_FAKE_HTTP_INT_H

#include "base_buf.h"
#include "http.h"
#include "http_sig.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HR_MAX_HEADERS 64
#define HR_MAX_QUERY 64
#define HR_MAX_BUCKETS 256

/* Buffers are the base library's (base_buf.h: a cap, a sticky failure flag). */
/* Appends s XML-escaped; with url, URL-encoded first (encoding-type=url). */
void hr_buf_add_xml(struct base_buf *b, const char *s, bool url);

struct hr_bucket {
    char name[64];
    char location[32]; /* CreateBucket's LocationConstraint ("" = none: us-east-1) */
    int64_t created;   /* unix seconds (ListBuckets' CreationDate) */
    struct s3_ops *ops;
    bool owned;        /* made by the factory: destroyed by it */
    struct fs3 *store; /* made by the default factory (else NULL) */
    struct fs3_fault *fault;
    struct hr_bacl *acl; /* owner, ACL, tags, CORS (http_acl.h); NULL: made on first use */
};

struct hr_kv {
    const char *name;
    const char *value; /* NULL when the query had no '=' */
};

/* The response being built. */
struct hr_resp {
    int status;
    struct base_buf hdrs; /* "Name: value\n" lines */
    uint8_t *body;      /* malloc'ed */
    size_t body_len;
    uint64_t head_len; /* HEAD: the Content-Length to announce */
    bool head;
    bool reset; /* send part of it, then reset the connection */
    bool hold;  /* never answer */
};

enum hr_state { HR_NEW, HR_BODY, HR_WAITING, HR_DONE, HR_HELD };

/* One request, from its first header to the response being queued. */
struct hr_req {
    struct fs3_http *srv;
    void *conn; /* struct MHD_Connection */
    char reqid[17]; /* x-amz-request-id (and the RequestId of an error body) */
    char id2[48];   /* x-amz-id-2 */
    enum hr_state state;
    bool suspended;
    int user; /* who signed: 1 + index of the key pair (http_acl.h), 0: anonymous */
    uint64_t transit; /* the client's x-s3sim-transit token (0: none) */
    char *raw_uri; /* as received: path?query */
    char *path;    /* raw path (points into a copy of raw_uri) */
    char *query;   /* raw query or "" */
    const char *method;
    struct fs3_sig_header hdr[HR_MAX_HEADERS];
    size_t nhdr;
    bool too_many_headers;
    struct hr_kv q[HR_MAX_QUERY]; /* decoded query pairs (strings in qbuf) */
    size_t nq;
    char *qbuf;
    struct base_buf body; /* the request body, capped */
    bool body_too_big;
    bool over_memory;   /* the body would take the server over max_memory */
    size_t counted;     /* body bytes counted in the server's buffered total */
    bool parsed;        /* hr_parse ran (before the body, to check the signature) */
    bool parse_ok;

    /* Route. */
    char bucket[64];
    char *key;                /* decoded key, malloc'ed; NULL: bucket level */
    struct hr_bucket *b;      /* valid during hr_dispatch only */
    struct s3_checksum cksum; /* the client's, from headers or trailers */
    bool has_cksum;
    struct s3_ops *ops; /* where sreq went (for cancel) */
    bool in_flight;     /* an s3_req of ours is submitted */
    struct s3_req sreq;
    const char *keys1[1];
    int part;           /* partNumber, checked (hr_object_op) */
    const char *upload; /* uploadId, checked non-empty (hr_object_op) */
    bool ranged;        /* GetObject: a Range header that parsed (206) */
    bool by_part;       /* GetObject, HeadObject: ?partNumber (206, x-amz-mp-parts-count) */
    uint32_t mp_parts;  /* by_part: the object's parts (0: not multipart) */
    uint64_t part_start, part_len; /* by_part: the part's bytes */

    /* Multi-step operations. */
    int step;
    void *op; /* per-operation state (malloc'ed) */
    void (*op_free)(void *op);
    char *meta; /* PutObject, CreateMultipartUpload, CopyObject: the metadata lines sent */
    /* The version a write or a delete answered (hr_ver_headers): its id ("" when none) and
     * whether it is a delete marker. */
    char done_vid[S3_VERSION_ID_MAX];
    bool done_marker;

    struct hr_resp resp;
};

/* From http.c: the server's parts that http_ops.c uses. */
const struct fs3_http_config *hr_config(struct fs3_http *h);
/* The wall clock (µs since 1970) when the store's clock read 0: an object
 * version's Last-Modified is this plus its mtime_us. */
int64_t hr_epoch_us(const struct fs3_http *h);
/* The stores' clock now (µs, the loop env's). */
int64_t hr_store_now_us(struct fs3_http *h);
struct hr_bucket *hr_bucket_find(struct fs3_http *h, const char *name);
struct hr_bucket *hr_bucket_at(struct fs3_http *h, size_t i);
size_t hr_bucket_count(struct fs3_http *h);
int hr_bucket_create(struct fs3_http *h, const char *name);
/* True while a request has a call in flight on b's s3_ops: b must not be
 * removed then (its shim would be freed under the call). */
bool hr_bucket_busy(struct fs3_http *h, const struct hr_bucket *b);
void hr_bucket_remove(struct fs3_http *h, struct hr_bucket *b);
void hr_count_auth_failure(struct fs3_http *h);
int64_t hr_wall_secs(void);

/* Marks r done; resumes its connection when it was suspended.  Lock held. */
void hr_finish(struct hr_req *r);

/* From http_ops.c: checks the signature of the headers before the body is
 * read (lock held).  False when r is answered (its error response set). */
bool hr_preauth(struct hr_req *r);
/* From http_ops.c: handles a complete request (lock held).  It ends with
 * hr_finish(r), now or from a later s3 callback. */
void hr_dispatch(struct hr_req *r);
/* Cancels r's call in flight, if any (lock held), and frees its state. */
void hr_abandon(struct hr_req *r);
/* Sets an S3 error response. */
void hr_error(struct hr_req *r, int status, const char *code, const char *msg);
void hr_header(struct hr_req *r, const char *name, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* From http_ops.c, for http_list.c. */
const char *hr_q(const struct hr_req *r, const char *name);
bool hr_has_q(const struct hr_req *r, const char *name);
/* Query parameter name as a plain decimal in [lo, hi]: 1 when absent, 0 when
 * read into *out, -1 when present in any other form (no value, empty, sign,
 * junk, overflow). */
int hr_q_int(const struct hr_req *r, const char *name, long lo, long hi, long *out);
const char *hr_hdr(const struct hr_req *r, const char *name);
void hr_submit(struct hr_req *r, struct s3_ops *ops, enum s3_op op, s3_cb cb);
bool hr_result_failed(struct hr_req *r, const struct s3_result *res);
void hr_xml_body(struct hr_req *r, int status, struct base_buf *xml);
/* Now, as unix seconds on the stores' clock (a CopyObject result's time). */
int64_t hr_mtime(const struct hr_req *r);
/* The first query parameter of r that names a sub-resource not in known
 * (NULL-terminated): one without a value or with an empty one, other than
 * X-Amz-*, response-* and x-id.  NULL when there is none.  Such a request
 * is answered 501 NotImplemented rather than served as another operation. */
const char *hr_unserved(const struct hr_req *r, const char *const *known);

/* From http_obj.c: the object operations and DeleteObjects (lock held).
 * ?acl, ?tagging, ?cors and OPTIONS are http_acl.c's (hr_acl_route). */
void hr_object_op(struct hr_req *r);
void hr_delete_objects(struct hr_req *r);

/* From http_list.c: the listing and bucket operations (lock held). */
void hr_list_objects(struct hr_req *r);
void hr_list_buckets(struct hr_req *r);
void hr_bucket_op(struct hr_req *r);

/* From http_ver.c: versioning and object lock (lock held).  hr_walk_xml
 * calls fn for each element below root: at its start (text NULL) and end,
 * with its path ("Rule/Filter/Prefix").  hr_ver_query puts ?versionId on
 * r->sreq (false: answered, an empty one); hr_ver_headers adds
 * x-amz-version-id, x-amz-delete-marker and a read version's lock headers;
 * hr_ver_put_check checks the lock headers of a PutObject, CopyObject or
 * CreateMultipartUpload before it (false:
 * answered and finished), hr_ver_put_done applies them after; the *_op
 * functions return true when they answered and finished r. */
/* The object lock headers of a write: x-amz-object-lock-mode and -retain-until-date
 * (both or neither), x-amz-object-lock-legal-hold.  hr_ver_lock_read parses and checks them
 * (false: they are wrong; r is answered 400 unless quiet); hr_ver_lock_apply sets them on
 * key's version vid after the write. */
struct hr_lockset {
    bool any;              /* one of them was sent */
    int mode;              /* enum fs3_lock_mode */
    int64_t until_unix_us; /* -retain-until-date */
    int hold;              /* -1 not sent, 0 OFF, 1 ON */
};
bool hr_ver_lock_read(struct hr_req *r, struct hr_lockset *out, bool quiet);
void hr_ver_lock_apply(struct hr_req *r, const char *key, const char *vid,
                       const struct hr_lockset *l);
typedef void (*hr_walk_fn)(void *arg, const char *path, const char *text);
int hr_walk_xml(const char *xml, size_t len, const char *root, hr_walk_fn fn, void *arg);
bool hr_ver_query(struct hr_req *r);
void hr_ver_headers(struct hr_req *r, const struct s3_result *res);
bool hr_ver_put_check(struct hr_req *r);
void hr_ver_put_done(struct hr_req *r, const struct s3_result *res);
/* DeleteObjects' VersionId per Object (*out NULL when none has one). */
int hr_ver_delete_vids(const char *xml, size_t len, size_t nkeys, char ***out);
bool hr_ver_bucket_op(struct hr_req *r);
bool hr_ver_object_op(struct hr_req *r);
void hr_ver_bucket_created(struct hr_req *r);
/* From http_life.c: ?lifecycle on a bucket (true: answered and finished). */
bool hr_life_bucket_op(struct hr_req *r);

/* From http_ck.c: multipart checksums (lock held).  hr_ck_create checks
 * CreateMultipartUpload's x-amz-checksum-algorithm / -type and keeps them in
 * r->meta, hr_ck_part_check an UploadPart's checksum against them,
 * hr_ck_complete a Complete's part checksums, and puts the object's checksum
 * in r->meta and r->sreq.meta (each false: answered and finished); the others
 * add the checksum headers or XML elements to an answer. */
bool hr_ck_create(struct hr_req *r);
void hr_ck_create_done(struct hr_req *r);
bool hr_ck_part_check(struct hr_req *r);
void hr_ck_part_done(struct hr_req *r, const struct s3_result *res);
bool hr_ck_complete(struct hr_req *r, const struct s3_part *parts, size_t n);
void hr_ck_complete_xml(struct hr_req *r, struct base_buf *b);
void hr_ck_list_parts_head(struct hr_req *r, struct base_buf *b, enum s3_cksum *alg);
void hr_ck_part_xml(struct hr_req *r, struct base_buf *b, enum s3_cksum alg, int number,
                    bool upload);
/* The algorithm of an object's kept checksum (its metadata lines), or NONE. */
enum s3_cksum hr_ck_object_alg(const char *meta);
/* GET or HEAD ?partNumber=N of a multipart object with x-amz-checksum-mode:
 * ENABLED: the part's checksum header. */
void hr_ck_by_part(struct hr_req *r, const struct s3_result *res);

/* From http_xml.c. */
int hr_parse_complete(const char *xml, size_t len, struct s3_part **parts, size_t *nparts);
/* A CreateBucket body: its LocationConstraint ("" when none) into location. */
int hr_parse_bucket_config(const char *xml, size_t len, char *location, size_t size);
int hr_parse_delete(const char *xml, size_t len, char ***keys, size_t *nkeys, bool *quiet);
void hr_iso_time(int64_t unix_secs, char out[32]);
void hr_http_time(int64_t unix_secs, char out[40]);
int hr_b64_decode(const char *in, uint8_t *out, size_t outsz);
void hr_b64_encode(const uint8_t *in, size_t n, char *out, size_t outsz);

#endif /* S3SIM_FAKE_HTTP_INT_H */
