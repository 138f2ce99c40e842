/*
 * sigv4.h - AWS Signature Version 4 for S3, as pure functions over strings.
 *
 *   request (method, URI, query, headers, payload hash)
 *        │ sigv4_canonical_request()
 *        ▼
 *   canonical request ──SHA-256──► string to sign ◄── date, scope
 *                                        │ HMAC(signing key)
 *   secret, date, region, service ───────┘ sigv4_signing_key()
 *        ▼
 *   signature ──► Authorization header (sigv4_sign) or X-Amz-Signature (sigv4_presign)
 *        └──► seed of the chunk signatures of an aws-chunked body (sigv4_chunk_signature)
 *
 * Nothing here reads a clock or keeps state: the caller passes the date
 * ("20130524T000000Z").  Used by the libcurl client (src/s3_curl.c).  The
 * fake S3's HTTP front has its own verifier (fake_s3/http_sig.c), because
 * fake_s3/ may only see the seam headers.
 *
 * Errors: ERR_LIMIT when an output buffer is too small, ERR_INVAL on a
 * malformed input, ERR_NOMEM.  Outputs are NUL-terminated.
 */
#ifndef S3SIM_SIGV4_H
#define S3SIM_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define SIGV4_STREAMING_PAYLOAD "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
#define SIGV4_STREAMING_UNSIGNED_TRAILER "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
#define SIGV4_HEX 65  /* 64 hex digits and a NUL */
#define SIGV4_DATE 17 /* "YYYYMMDDTHHMMSSZ" and a NUL */
#define SIGV4_SCOPE_MAX 160

/* One header to sign.  Borrowed; the name in any case, the value untrimmed. */
struct sigv4_header {
    const char *name;
    const char *value;
};

/* What is signed of a request.  All strings borrowed. */
struct sigv4_req {
    const char *method;                 /* "GET", "PUT", ... */
    const char *uri;                    /* the path as sent, already URI-encoded */
    const char *query;                  /* the query as sent, without '?'; NULL or "" = none */
    const struct sigv4_header *headers; /* the headers to sign (host included) */
    size_t nheaders;
    const char *payload_hash; /* hex SHA-256, UNSIGNED-PAYLOAD or STREAMING-... */
    const char *amz_date;     /* "20130524T000000Z" */
};

/* The credentials and the scope's region and service.  Borrowed. */
struct sigv4_key {
    const char *access_key;
    const char *secret_key;
    const char *region;  /* "us-east-1" */
    const char *service; /* "s3" */
};

/* SHA-256 of buf as 64 lower-case hex digits. */
void sigv4_sha256_hex(const void *buf, size_t len, char out[SIGV4_HEX]);

/* HMAC-SHA256(key, msg) into out. */
void sigv4_hmac(const void *key, size_t keylen, const void *msg, size_t len, uint8_t out[32]);

/* The signing key: HMAC chain over "AWS4"+secret, date (8 digits), region,
 * service, "aws4_request". */
void sigv4_signing_key(const char *secret, const char *date8, const char *region,
                       const char *service, uint8_t out[32]);

/* "20130524/us-east-1/s3/aws4_request" into out.  Returns 0 or ERR_LIMIT. */
int sigv4_scope(const char *amz_date, const char *region, const char *service, char *out,
                size_t outsz);

/* Formats seconds since the epoch (UTC) as "20130524T000000Z". */
void sigv4_amz_date(int64_t unix_secs, char out[SIGV4_DATE]);

/* RFC 3986 encoding of len bytes of s as S3 wants it: unreserved characters
 * (A-Z a-z 0-9 - . _ ~) kept, everything else %XX (upper-case); '/' kept when
 * keep_slash.  Returns the output length, or ERR_LIMIT. */
int sigv4_uri_encode(const char *s, size_t len, bool keep_slash, char *out, size_t outsz);

/* Percent-decodes len bytes of s into out ('+' stays '+').  Returns the
 * length, ERR_INVAL on a bad escape, ERR_LIMIT when out is too small. */
int sigv4_uri_decode(const char *s, size_t len, char *out, size_t outsz);

/* The canonical query string of a query as sent: each name and value
 * decoded, encoded again strictly, sorted by name then value, joined with '&';
 * a name without '=' gets an empty value.  Pairs named in skip (NULL or a
 * name such as "X-Amz-Signature") are left out.  *out is malloc'ed (the
 * caller frees it).  Returns 0, ERR_NOMEM or ERR_INVAL. */
int sigv4_canonical_query(const char *query, const char *skip, char **out);

/* The canonical request of r, malloc'ed into *out, and the signed-headers
 * list ("host;range;x-amz-date") into signed_headers.  Header names are
 * lower-cased, values trimmed with inner runs of spaces collapsed, repeated
 * names joined with ','. Returns 0, ERR_NOMEM, ERR_LIMIT or ERR_INVAL. */
int sigv4_canonical_request(const struct sigv4_req *r, char **out, char *signed_headers,
                            size_t shsz);

/* The hex signature of r under k.  Returns 0 or an error of
 * sigv4_canonical_request. */
int sigv4_signature(const struct sigv4_req *r, const struct sigv4_key *k, char sig[SIGV4_HEX]);

/* The Authorization header value of r under k:
 * "AWS4-HMAC-SHA256 Credential=AK/scope,SignedHeaders=...,Signature=...".
 * The signature alone also goes to sig when sig is not NULL (the seed of a
 * chunked body).  Returns 0, ERR_LIMIT, ERR_NOMEM or ERR_INVAL. */
int sigv4_authorization(const struct sigv4_req *r, const struct sigv4_key *k, char *out,
                        size_t outsz, char sig[SIGV4_HEX]);

/* A presigned URL's query: r->query (may be empty) plus X-Amz-Algorithm,
 * -Credential, -Date, -Expires and -SignedHeaders, signed with UNSIGNED-PAYLOAD
 * (r->payload_hash is ignored), then X-Amz-Signature.  r->headers must hold
 * host.  *out is malloc'ed.  Returns 0 or an error. */
int sigv4_presign(const struct sigv4_req *r, const struct sigv4_key *k, int expires_secs,
                  char **out);

/* The signature of one chunk of an aws-chunked body:
 * HMAC(key, "AWS4-HMAC-SHA256-PAYLOAD\n" date "\n" scope "\n" prev "\n"
 *           SHA256("") "\n" SHA256(chunk)).
 * prev is the seed signature for the first chunk, then the previous chunk's;
 * the last chunk is empty. */
void sigv4_chunk_signature(const uint8_t key[32], const char *amz_date, const char *scope,
                           const char *prev_sig, const void *chunk, size_t len,
                           char out[SIGV4_HEX]);

/* The lower-case hex form of n bytes. out holds 2n+1. */
void sigv4_hex(const uint8_t *buf, size_t n, char *out);

#endif /* S3SIM_SIGV4_H */
