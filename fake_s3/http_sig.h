/*
 * http_sig.h - the fake S3's side of AWS Signature V4: it recomputes the
 * signature of a received request and checks it, parses Authorization headers
 * and presigned queries, and decodes aws-chunked bodies (signed chunks, or
 * unsigned chunks with trailing x-amz-checksum-* headers).
 *
 * The client's signer lives in src/sigv4.c; fake_s3/ may not include it (the
 * seam rule of docs/design.md "Dependency rules"), so this is a second implementation of the same
 * published algorithm, checked against the same documentation vectors in
 * tests/test_sigv4.c.  Pure functions; no clock is read here.
 *
 * Errors: ERR_INVAL for malformed input, ERR_LIMIT for size caps, ERR_NOMEM,
 * ERR_CHECKSUM for a chunk signature that does not match.
 */
#ifndef S3SIM_FAKE_HTTP_SIG_H
#define S3SIM_FAKE_HTTP_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FS3_SIG_HEX 65

/* A received header (borrowed). */
struct fs3_sig_header {
    const char *name;
    const char *value;
};

/* What the verifier needs of a request.  All borrowed. */
struct fs3_sig_input {
    const char *method;
    const char *uri;                      /* the path exactly as received (still encoded) */
    const char *query;                    /* the query as received, without '?'; may be NULL */
    const struct fs3_sig_header *headers; /* every header of the request */
    size_t nheaders;
    const char *signed_headers; /* "host;range;x-amz-date" */
    const char *payload_hash;   /* x-amz-content-sha256, or UNSIGNED-PAYLOAD */
    const char *amz_date;       /* "20130524T000000Z" */
    const char *region;
    const char *service;
};

/* A parsed Authorization header or presigned query. */
struct fs3_sig_auth {
    char access_key[128];
    char date8[9];
    char region[64];
    char service[16];
    char signed_headers[1024];
    char signature[FS3_SIG_HEX];
    char amz_date[17]; /* presigned: X-Amz-Date */
    int64_t expires;   /* presigned: X-Amz-Expires; 0 for a header */
};

/* Computes the signature of in with secret into sig, and the signing key into
 * key (for chunk signatures).  ERR_INVAL when a signed header is missing or an
 * input is malformed. */
int fs3_sig_compute(const struct fs3_sig_input *in, const char *secret, char sig[FS3_SIG_HEX],
                    uint8_t key[32]);

/* Parses "AWS4-HMAC-SHA256 Credential=AK/date/region/s3/aws4_request,
 * SignedHeaders=...,Signature=..." (spaces after commas allowed). */
int fs3_sig_parse_auth(const char *header, struct fs3_sig_auth *out);

/* Parses the X-Amz-* parameters of a presigned query (raw, still encoded). */
int fs3_sig_parse_presigned(const char *query, struct fs3_sig_auth *out);

/* The signature of one chunk of an aws-chunked body (see sigv4.h). */
void fs3_sig_chunk(const uint8_t key[32], const char *amz_date, const char *scope, const char *prev,
                   const void *chunk, size_t len, char out[FS3_SIG_HEX]);

/* Constant-time comparison of two hex signatures. */
bool fs3_sig_equal(const char *a, const char *b);

/* Parses "20130524T000000Z" into seconds since the epoch (UTC). */
int fs3_sig_parse_date(const char *amz_date, int64_t *unix_secs);

/* Decoding of an aws-chunked body.  With key NULL the chunks are not signed
 * (STREAMING-UNSIGNED-PAYLOAD-TRAILER); otherwise each chunk's signature is
 * checked, chained from seed.  The decoded bytes replace the body in place
 * (*len shrinks).  Trailing headers (after the last chunk) are copied, as
 * "name:value" lines, into trailers (NUL-terminated, cut at trailers_sz).
 * Returns 0, ERR_INVAL on a malformed body, ERR_CHECKSUM on a bad chunk
 * signature. */
struct fs3_chunk_ctx {
    const uint8_t *key; /* signing key, or NULL: unsigned chunks */
    const char *amz_date;
    const char *scope;
    const char *seed; /* the request's signature */
};
int fs3_sig_dechunk(const struct fs3_chunk_ctx *ctx, uint8_t *body, size_t *len, char *trailers,
                    size_t trailers_sz);

#endif /* S3SIM_FAKE_HTTP_SIG_H */
