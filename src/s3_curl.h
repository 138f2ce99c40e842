/*
 * s3_curl.h - a struct s3_ops over HTTP: the libcurl multi interface, driven
 * by env_real's poll loop, every request signed with SigV4 (sigv4.h).
 *
 *   s3_put(ops, req) ──► build URL + headers, sign ──► curl easy handle ──► multi
 *   env_real loop: fd ready / timer ──► curl_multi_socket_action ──► done?
 *        └──► status, headers, body ──► expat (XML) ──► struct s3_result ──► req->cb
 *
 * Contract of s3.h: submit() never calls back from inside itself; a failing
 * submit (ERR_INVAL, ERR_NOMEM) never calls back; cancel() removes the
 * transfer and no callback follows.  Connections are reused by the multi
 * handle (keep-alive, at most max_connections to the host).
 *
 * Results are mapped onto the same fields as the fake's:
 *   an HTTP answer              transport S3_TR_OK, status, code from <Error><Code>
 *                               (or s3_default_code() when there is no body)
 *   200 whose body is <Error>   (CompleteMultipartUpload) status 200 with that code
 *   timeout_ms elapsed          S3_TR_TIMEOUT
 *   connection reset / cut      S3_TR_RESET;  refused: S3_TR_CONNECT;  else S3_TR_OTHER
 * ETags come from the ETag header (or the XML of copy and complete); a
 * x-amz-checksum-* answer header fills res->cksum.  The request's checksum is
 * sent as Content-MD5 or x-amz-checksum-{crc32c,crc32,sha256}.
 * list-uploads is GET /?uploads&prefix&max-uploads with key-marker and
 * upload-id-marker; its opaque token is "<NextUploadIdMarker>\n<NextKeyMarker>"
 * (ERR_LIMIT from the parse when that does not fit S3_MAX_KEY; a token
 * without the newline fails the submit with ERR_INVAL).
 *
 * One of the three real-runtime exceptions (with env_real and sigv4): it
 * reads the wall clock for x-amz-date.  One thread: the env_real's.
 */
#ifndef S3SIM_S3_CURL_H
#define S3SIM_S3_CURL_H

#include "env_real.h"
#include "s3.h"

#include <stdbool.h>

struct s3_curl;

struct s3_curl_config {
    const char *endpoint; /* "http://127.0.0.1:9000" (no trailing path) */
    const char *region;   /* "us-east-1" */
    const char *bucket;
    const char *access_key;
    const char *secret_key;
    bool virtual_host;       /* https://bucket.host/key instead of host/bucket/key */
    bool unsigned_payload;   /* sign bodies as UNSIGNED-PAYLOAD (no SHA-256 pass) */
    long timeout_ms;         /* per attempt, real time; 0 = none */
    long connect_timeout_ms; /* 0 = curl's default */
    long max_connections;    /* to the host; 0 = 16 */
};

/* Fills the credentials and region from AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY and AWS_REGION (or AWS_DEFAULT_REGION) where cfg
 * leaves them NULL.  The strings are the environment's.  Returns 0, or
 * ERR_NOTFOUND when the credentials are still missing. */
int s3_curl_config_from_env(struct s3_curl_config *cfg);

/* Creates a client on er's loop.  The config's strings are copied.  Returns
 * 0, ERR_INVAL (no endpoint, bucket or credentials), ERR_NOMEM, ERR_IO (curl). */
int s3_curl_new(struct env_real *er, const struct s3_curl_config *cfg, struct s3_curl **out);

/* Cancels every call in flight (no callbacks), frees the client.  NULL is fine. */
void s3_curl_free(struct s3_curl *c);

/* The client as an s3_ops (name "curl"), owned by the client. */
struct s3_ops *s3_curl_ops(struct s3_curl *c);

/* Calls in flight. */
size_t s3_curl_inflight(const struct s3_curl *c);

/* --- XML (s3_curl_xml.c), exposed for the unit tests ---------------------------- */

/* Parses an S3 answer body of op into res: <Error> (code, message),
 * ListBucketResult, InitiateMultipartUploadResult, CompleteMultipartUploadResult,
 * CopyPartResult, DeleteResult (matched to keys, in order).  Returns 0,
 * ERR_PARSE or ERR_NOMEM; res may be partly filled on error. */
int s3_curl_parse(enum s3_op op, const char *body, size_t len, const char *const *keys,
                  size_t nkeys, struct s3_result *res);

/* The request bodies: <Delete> of keys, <CompleteMultipartUpload> of parts.
 * Malloc'ed, NUL-terminated; NULL when out of memory. */
char *s3_curl_delete_xml(const char *const *keys, size_t nkeys, size_t *len);
char *s3_curl_complete_xml(const struct s3_part *parts, size_t nparts, size_t *len);

#endif /* S3SIM_S3_CURL_H */
