/* http_obj.c - the object operations of the HTTP front (see http.h): get, head,
 * put, copy, delete, delete-objects and multipart.  Lock held throughout. */
#include "err.h"
#include "fs3.h"
#include "http_acl.h"
#include "http_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define HR_XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"
#define HR_XML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

static void hr_req_reset(struct hr_req *r)
{
    const char *vid = hr_q(r, "versionId");
    memset(&r->sreq, 0, sizeof r->sreq);
    r->sreq.key = r->key;
    r->sreq.range_end = -1;
    r->sreq.version_id = vid && *vid ? vid : NULL; /* (hr_ver_query refused an empty one) */
}

static void hr_etag_header(struct hr_req *r, const char *etag)
{
    if (etag && *etag)
        hr_header(r, "ETag", "%s", etag);
}

/* The metadata headers S3 keeps with an object, in the case it answers them. */
static const char *const hr_meta_names[] = {"Content-Type",     "Content-Encoding",
                                            "Content-Disposition", "Content-Language",
                                            "Cache-Control",    "Expires"};

/* S3: user-defined metadata (the x-amz-meta-* names after the prefix, and
 * their values) at most 2 KiB. */
#define HR_USER_META_MAX 2048

/* Answers a failed hr_meta_collect (rc) and finishes r. */
static void hr_meta_fail(struct hr_req *r, int rc)
{
    if (rc == ERR_LIMIT)
        hr_error(r, 400, "MetadataTooLarge",
                 "Your metadata headers exceed the maximum allowed metadata size.");
    else
        hr_error(r, 500, "InternalError", "out of memory");
    hr_finish(r);
}

/* The request's metadata headers as the store's lines ("Name: value\n"):
 * the system ones above and every x-amz-meta-* (its name lower-cased, as S3
 * returns it).  r->meta owns them; NULL when none was sent.  ERR_LIMIT when
 * the user metadata is over HR_USER_META_MAX. */
static int hr_meta_collect(struct hr_req *r)
{
    struct base_buf b = {0};
    size_t user = 0;
    free(r->meta);
    r->meta = NULL;
    for (size_t i = 0; i < sizeof hr_meta_names / sizeof *hr_meta_names; i++) {
        const char *v = hr_hdr(r, hr_meta_names[i]);
        if (v)
            base_buf_addf(&b, "%s: %s\n", hr_meta_names[i], v);
    }
    for (size_t i = 0; i < r->nhdr; i++) {
        const char *n = r->hdr[i].name;
        if (strncasecmp(n, "x-amz-meta-", 11) != 0)
            continue;
        user += strlen(n + 11) + strlen(r->hdr[i].value);
        for (const char *p = n; *p; p++)
            base_buf_addf(&b, "%c", *p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        base_buf_addf(&b, ": %s\n", r->hdr[i].value);
    }
    if (b.failed || user > HR_USER_META_MAX) {
        base_buf_free(&b);
        return b.failed ? ERR_NOMEM : ERR_LIMIT;
    }
    if (b.len)
        r->meta = base_buf_take(&b, NULL);
    base_buf_free(&b);
    return 0;
}

/* GET and HEAD return the stored checksum of a whole object only with
 * x-amz-checksum-mode: ENABLED. */
static bool hr_checksum_mode(const struct hr_req *r)
{
    const char *m = hr_hdr(r, "x-amz-checksum-mode");
    return m && strcasecmp(m, "ENABLED") == 0 && !r->ranged && !r->by_part;
}

/* Appends the client's checksum of a PutObject body (verified by
 * hr_payload) to r->meta, "x-amz-checksum-<alg>: <base64>": the store keeps
 * it with the object's metadata.  An MD5 is the ETag already. */
static int hr_meta_add_cksum(struct hr_req *r)
{
    struct base_buf b = {0};
    char v[64], name[40];
    if (!r->has_cksum || r->cksum.alg == S3_CKSUM_MD5 || r->cksum.alg == S3_CKSUM_NONE)
        return 0;
    snprintf(name, sizeof name, "%s", s3_cksum_name(r->cksum.alg));
    for (char *p = name; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    hr_b64_encode(r->cksum.value, r->cksum.len, v, sizeof v);
    if (r->meta)
        base_buf_adds(&b, r->meta);
    base_buf_addf(&b, "x-amz-checksum-%s: %s\n", name, v);
    if (b.failed) {
        base_buf_free(&b);
        return ERR_NOMEM;
    }
    free(r->meta);
    r->meta = base_buf_take(&b, NULL);
    base_buf_free(&b);
    return 0;
}

/* A stored version's metadata lines and its Last-Modified as headers (its
 * checksum only with cksum: not on a 304). */
static void hr_version_headers(struct hr_req *r, const struct s3_result *res, bool cksum)
{
    char t[40];
    bool typed = false, cktyped = strstr(res->meta, "x-amz-checksum-type:") != NULL;
    for (const char *p = res->meta; *p;) {
        const char *colon = strchr(p, ':'), *nl = strchr(p, '\n');
        if (!colon || !nl || colon > nl)
            break;
        typed |= colon - p == 12 && strncasecmp(p, "Content-Type", 12) == 0;
        /* The object's checksum only when asked for, and for the whole object. */
        if (strncmp(p, "x-amz-checksum-", 15) != 0 || (cksum && hr_checksum_mode(r))) {
            /* Not hr_header: a name or value may be longer than its buffer. */
            base_buf_addf(&r->resp.hdrs, "%.*s: %.*s\n", (int)(colon - p), p,
                          (int)(nl - colon - 2), colon + 2);
            /* A PutObject's checksum is of the full object; a multipart
             * object's says its type (http_ck.c). */
            if (strncmp(p, "x-amz-checksum-", 15) == 0 && !cktyped)
                hr_header(r, "x-amz-checksum-type", "FULL_OBJECT");
        }
        p = nl + 1;
    }
    if (!typed)
        hr_header(r, "Content-Type", "binary/octet-stream");
    hr_http_time((hr_epoch_us(r->srv) + res->mtime_us) / 1000000, t);
    hr_header(r, "Last-Modified", "%s", t);
}

/* The checksum sent to the store: always an MD5 (the client's Content-MD5,
 * or one of our own), so that the store keeps every object's ETag and
 * listings show it.  Another checksum of the client's was verified on the
 * body already (hr_payload) and is echoed from r->cksum. */
static void hr_put_cksum(struct hr_req *r)
{
    if (r->has_cksum && r->cksum.alg == S3_CKSUM_MD5)
        r->sreq.cksum = r->cksum;
    else
        s3_checksum_compute(S3_CKSUM_MD5, (const uint8_t *)r->sreq.body, r->sreq.body_len,
                            &r->sreq.cksum);
}

static void hr_echo_cksum(struct hr_req *r, const struct s3_result *res)
{
    char name[40], v[64];
    const struct s3_checksum *ck = res->cksum.alg == r->cksum.alg ? &res->cksum : &r->cksum;
    if (!r->has_cksum || ck->alg == S3_CKSUM_MD5 || ck->alg == S3_CKSUM_NONE || !ck->len)
        return;
    snprintf(name, sizeof name, "x-amz-checksum-%s", s3_cksum_name(ck->alg));
    for (char *p = name; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    hr_b64_encode(ck->value, ck->len, v, sizeof v);
    hr_header(r, name, "%s", v);
}

/* The ETag of a put: the store's, or the MD5 of the body. */
static void hr_put_etag(struct hr_req *r, const struct s3_result *res)
{
    char etag[S3_ETAG_MAX];
    if (res->etag[0]) {
        hr_etag_header(r, res->etag);
        return;
    }
    s3_etag_md5((const uint8_t *)r->sreq.body, r->sreq.body_len, etag);
    hr_etag_header(r, etag);
}

/* --- get and head -------------------------------------------------------------- */

/* The If-Match / If-None-Match headers onto the store request. */
/* An HTTP date (IMF-fixdate, as S3 and its clients send) as the store's
 * clock; false when absent or malformed (ignored, as S3 ignores it). */
static bool hr_since(struct hr_req *r, const char *name, struct s3_since *out)
{
    const char *v = hr_hdr(r, name);
    struct tm tm = {0};
    const char *end;
    out->set = false;
    if (!v || !(end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm)) || *end)
        return false;
    /* The first microsecond after the date, on the store's clock (it counts
     * from the server's start). */
    out->us = ((int64_t)timegm(&tm) + 1) * 1000000 - hr_epoch_us(r->srv);
    out->set = true;
    return true;
}

static void hr_conditions(struct hr_req *r)
{
    r->sreq.if_match = hr_hdr(r, "If-Match");
    r->sreq.if_none_match = hr_hdr(r, "If-None-Match");
    hr_since(r, "If-Modified-Since", &r->sreq.if_modified_since);
    hr_since(r, "If-Unmodified-Since", &r->sreq.if_unmodified_since);
}

/* A 304 Not Modified (If-None-Match named the object's ETag): the ETag and
 * no body.  True when res was one. */
static bool hr_not_modified(struct hr_req *r, const struct s3_result *res)
{
    if (res->transport != S3_TR_OK || res->status != 304)
        return false;
    hr_etag_header(r, res->etag);
    hr_version_headers(r, res, false);
    r->resp.status = 304;
    return true;
}

static void hr_get_done(struct s3_req *req, struct s3_result *res)
{
    struct hr_req *r = req->arg;
    r->in_flight = false;
    hr_ver_headers(r, res);
    if (hr_not_modified(r, res)) {
        ;
    } else if (!hr_result_failed(r, res)) {
        bool ranged = r->ranged;
        hr_etag_header(r, res->etag);
        hr_version_headers(r, res, true);
        hr_header(r, "Accept-Ranges", "bytes");
        if (r->mp_parts)
            hr_header(r, "x-amz-mp-parts-count", "%u", r->mp_parts);
        hr_ck_by_part(r, res);
        if (ranged && res->body_len > 0)
            hr_header(r, "Content-Range", "bytes %lld-%lld/%llu", (long long)req->range_start,
                      (long long)req->range_start + (long long)res->body_len - 1,
                      (unsigned long long)res->object_size);
        r->resp.status = ranged ? 206 : 200;
        free(r->resp.body);
        r->resp.body = res->body;
        r->resp.body_len = res->body_len;
        res->body = NULL;
        res->body_len = 0;
    } else if (res->transport == S3_TR_RESET && res->body && res->body_len) {
        /* A reset in the middle of the object's bytes, not of an error body. */
        free(r->resp.body);
        r->resp.status = 200;
        r->resp.body = res->body;
        r->resp.body_len = res->body_len;
        res->body = NULL;
    }
    hr_finish(r);
}

/* bytes=-N needs the size first: head, then get the tail. */
static void hr_suffix_done(struct s3_req *req, struct s3_result *res)
{
    struct hr_req *r = req->arg;
    int64_t n = (int64_t)(intptr_t)r->op;
    r->in_flight = false;
    r->op = NULL;
    if (hr_not_modified(r, res) || hr_result_failed(r, res)) {
        hr_finish(r);
        return;
    }
    if (n <= 0 || res->object_size == 0) {
        hr_error(r, 416, "InvalidRange", "The requested range is not satisfiable");
        hr_finish(r);
        return;
    }
    hr_req_reset(r);
    r->sreq.range_start = (int64_t)res->object_size > n ? (int64_t)res->object_size - n : 0;
    hr_conditions(r);
    hr_submit(r, r->ops, S3_OP_GET, hr_get_done);
}

/* Reads a run of decimal digits at *p (no sign, no space); a value past
 * INT64_MAX reads as INT64_MAX.  False when there is no digit. */
static bool hr_range_num(const char **p, int64_t *out)
{
    const char *s = *p;
    int64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++)
        v = v > (INT64_MAX - (*s - '0')) / 10 ? INT64_MAX : v * 10 + (*s - '0');
    if (s == *p)
        return false;
    *p = s;
    *out = v;
    return true;
}

/* Parses a Range header "bytes=A-B", "bytes=A-" or "bytes=-N" (one range);
 * returns false when it should be ignored (absent or malformed, as S3 does).
 * A last position past INT64_MAX reads as open-ended, a first one as
 * unsatisfiable (the store answers 416); *end is exclusive, -1 open. */
static bool hr_parse_range(const char *h, int64_t *start, int64_t *end, int64_t *suffix)
{
    int64_t a, b;
    *suffix = -1;
    if (!h || strncmp(h, "bytes=", 6) != 0)
        return false;
    h += 6;
    if (*h == '-') {
        h++;
        if (!hr_range_num(&h, &a) || *h)
            return false;
        *suffix = a;
        return true;
    }
    if (!hr_range_num(&h, &a) || *h++ != '-')
        return false;
    if (!*h) {
        *start = a;
        *end = -1;
        return true;
    }
    if (!hr_range_num(&h, &b) || *h || b < a)
        return false;
    *start = a;
    *end = b == INT64_MAX ? -1 : b + 1;
    return true;
}

/* ?partNumber=N on GET or HEAD: the part's bytes as a range (S3: "a ranged
 * GET for the part").  The parts are read from the store (a bucket of the
 * default factory).  False when r is answered. */
static bool hr_by_part(struct hr_req *r)
{
    long n;
    int rc;
    if (!hr_has_q(r, "partNumber"))
        return true;
    if (hr_q_int(r, "partNumber", 1, S3_MAX_PARTS, &n) != 0) {
        hr_error(r, 400, "InvalidArgument",
                 "Part number must be an integer between 1 and 10000, inclusive");
    } else if (hr_hdr(r, "Range")) {
        hr_error(r, 400, "InvalidRequest",
                 "Cannot specify both Range header and partNumber query parameter");
    } else if (!r->b->store) {
        hr_error(r, 501, "NotImplemented", "partNumber is served on serve's own buckets only");
    } else if ((rc = fs3_object_part(r->b->store, r->key, (int)n, &r->part_start, &r->part_len,
                                     &r->mp_parts)) == ERR_RANGE) {
        hr_error(r, 400, "InvalidPart", "The requested partnumber is not satisfiable");
    } else {
        /* Absent: the GET or HEAD answers 404 itself. */
        r->by_part = rc == 0;
        return true;
    }
    hr_finish(r);
    return false;
}

static void hr_get(struct hr_req *r)
{
    int64_t suffix;
    hr_req_reset(r);
    if (!hr_by_part(r))
        return;
    if (r->by_part) {
        r->ranged = true;
        r->sreq.range_start = (int64_t)r->part_start;
        r->sreq.range_end = (int64_t)(r->part_start + r->part_len);
        hr_conditions(r);
        hr_submit(r, r->b->ops, S3_OP_GET, hr_get_done);
        return;
    }
    r->ranged =
        hr_parse_range(hr_hdr(r, "Range"), &r->sreq.range_start, &r->sreq.range_end, &suffix);
    if (r->ranged && suffix >= 0) {
        r->op = (void *)(intptr_t)suffix;
        r->op_free = NULL;
        hr_conditions(r);
        hr_submit(r, r->b->ops, S3_OP_HEAD, hr_suffix_done);
        return;
    }
    hr_conditions(r);
    hr_submit(r, r->b->ops, S3_OP_GET, hr_get_done);
}

static void hr_head_done(struct s3_req *req, struct s3_result *res)
{
    struct hr_req *r = req->arg;
    r->in_flight = false;
    hr_ver_headers(r, res);
    if (hr_not_modified(r, res)) {
        r->resp.head = true;
    } else if (!hr_result_failed(r, res)) {
        hr_etag_header(r, res->etag);
        hr_version_headers(r, res, true);
        hr_header(r, "Accept-Ranges", "bytes");
        r->resp.status = 200;
        r->resp.head = true;
        r->resp.head_len = res->object_size;
        if (r->by_part && r->part_len && r->part_start + r->part_len <= res->object_size) {
            hr_header(r, "Content-Range", "bytes %llu-%llu/%llu",
                      (unsigned long long)r->part_start,
                      (unsigned long long)(r->part_start + r->part_len - 1),
                      (unsigned long long)res->object_size);
            r->resp.status = 206;
            r->resp.head_len = r->part_len;
        }
        if (r->mp_parts)
            hr_header(r, "x-amz-mp-parts-count", "%u", r->mp_parts);
        hr_ck_by_part(r, res);
    }
    hr_finish(r);
}

/* --- put, delete ------------------------------------------------------------ */

static void hr_put_done(struct s3_req *req, struct s3_result *res)
{
    struct hr_req *r = req->arg;
    r->in_flight = false;
    hr_ver_put_done(r, res);
    if (r->sreq.op == S3_OP_MPU_PART)
        hr_ck_part_done(r, res);
    if (!hr_result_failed(r, res)) {
        hr_put_etag(r, res);
        hr_echo_cksum(r, res);
        r->resp.status = 200;
    }
    hr_finish(r);
}

static void hr_put(struct hr_req *r)
{
    hr_req_reset(r);
    r->sreq.body = (const uint8_t *)(r->body.p ? r->body.p : "");
    r->sreq.body_len = r->body.len;
    hr_put_cksum(r);
    hr_conditions(r);
    int mrc = hr_meta_collect(r);
    if (!mrc)
        mrc = hr_meta_add_cksum(r);
    if (mrc) {
        hr_meta_fail(r, mrc);
        return;
    }
    r->sreq.meta = r->meta;
    if (!hr_ver_put_check(r))
        return;
    hr_submit(r, r->b->ops, S3_OP_PUT, hr_put_done);
}

static void hr_nocontent_done(struct s3_req *req, struct s3_result *res)
{
    struct hr_req *r = req->arg;
    r->in_flight = false;
    hr_ver_headers(r, res);
    if (!hr_result_failed(r, res))
        r->resp.status = 204;
    hr_finish(r);
}

/* --- copy: get the source, then put it (or upload it as a part) ------------- */

struct hr_copy {
    struct s3_ops *dst_ops;
    char *src_key;
    char *src_vid;                      /* x-amz-copy-source's ?versionId, or NULL */
    char got_vid[S3_VERSION_ID_MAX];    /* the source version read */
    uint8_t *data;
    size_t len;
    bool part;
};

static void hr_copy_free(void *p)
{
    struct hr_copy *c = p;
    free(c->src_key);
    free(c->src_vid);
    free(c->data);
    free(c);
}

static void hr_copy_put_done(struct s3_req *req, struct s3_result *res)
{
    struct hr_req *r = req->arg;
    struct hr_copy *c = r->op;
    struct base_buf b = {0};
    char t[32], etag[S3_ETAG_MAX];
    r->in_flight = false;
    if (!c->part)
        hr_ver_put_done(r, res);
    if (c->got_vid[0])
        hr_header(r, "x-amz-copy-source-version-id", "%s", c->got_vid);
    if (!hr_result_failed(r, res)) {
        /* The store's mpu-copy computes no MD5: then the ETag stays "" (a ""
         * part ETag is not checked at completion). */
        if (res->etag[0] || !c->data)
            snprintf(etag, sizeof etag, "%s", res->etag);
        else
            s3_etag_md5(c->data, c->len, etag);
        hr_iso_time(hr_mtime(r), t);
        base_buf_addf(&b, HR_XML_HEAD "<%s xmlns=\"" HR_XMLNS "\"><LastModified>%s</LastModified>",
                      c->part ? "CopyPartResult" : "CopyObjectResult", t);
        base_buf_adds(&b, "<ETag>");
        hr_buf_add_xml(&b, etag, false);
        base_buf_addf(&b, "</ETag></%s>", c->part ? "CopyPartResult" : "CopyObjectResult");
        hr_xml_body(r, 200, &b);
    }
    hr_finish(r);
}

static void hr_copy_get_done(struct s3_req *req, struct s3_result *res)
{
    struct hr_req *r = req->arg;
    struct hr_copy *c = r->op;
    int part = r->sreq.part_number;
    const char *upload = r->sreq.upload_id;
    r->in_flight = false;
    if (res->transport == S3_TR_OK && res->status == 304) {
        /* x-amz-copy-source-if-none-match named the source's ETag. */
        hr_error(r, 412, "PreconditionFailed",
                 "At least one of the pre-conditions you specified did not hold");
        hr_finish(r);
        return;
    }
    if (hr_result_failed(r, res)) {
        hr_finish(r);
        return;
    }
    c->data = res->body;
    c->len = res->body_len;
    res->body = NULL;
    memcpy(c->got_vid, res->version_id, sizeof c->got_vid);
    hr_req_reset(r);
    r->sreq.body = c->data ? c->data : (const uint8_t *)"";
    r->sreq.body_len = c->len;
    r->sreq.part_number = part;
    r->sreq.upload_id = upload;
    s3_checksum_compute(S3_CKSUM_MD5, r->sreq.body, c->len, &r->sreq.cksum);
    if (!c->part) {
        /* x-amz-metadata-directive: COPY (the default) keeps the source's
         * metadata, REPLACE takes the request's. */
        const char *dir = hr_hdr(r, "x-amz-metadata-directive");
        int mrc = 0;
        free(r->meta);
        r->meta = NULL;
        if (dir && strcasecmp(dir, "REPLACE") == 0)
            mrc = hr_meta_collect(r);
        else if (res->meta[0] && !(r->meta = strdup(res->meta)))
            mrc = ERR_NOMEM;
        if (mrc) {
            hr_meta_fail(r, mrc);
            return;
        }
        r->sreq.meta = r->meta;
        hr_conditions(r);
    }
    hr_submit(r, c->dst_ops, c->part ? S3_OP_MPU_PART : S3_OP_PUT, hr_copy_put_done);
}

/* Parses x-amz-copy-source ("/bucket/key" or "bucket/key", URL-encoded). */
static struct hr_bucket *hr_copy_source(struct hr_req *r, struct hr_copy *c)
{
    const char *src = hr_hdr(r, "x-amz-copy-source");
    char *s = strdup(src ? src : ""), *key;
    struct hr_bucket *b = NULL;
    if (!s)
        return NULL;
    /* "?versionId=V": that version of the source (S3 takes no other parameter). */
    if (strncmp(s + strcspn(s, "?"), "?versionId=", 11) == 0 &&
        !(c->src_vid = strdup(s + strcspn(s, "?") + 11))) {
        free(s);
        return NULL;
    }
    s[strcspn(s, "?")] = '\0';
    for (char *p = s, *o = s;; p++) {
        if (*p == '%' && p[1] && p[2]) {
            char hx[3] = {p[1], p[2], 0};
            *o++ = (char)strtol(hx, NULL, 16);
            p += 2;
        } else if ((*o++ = *p) == '\0') {
            break;
        }
    }
    key = strchr(s + (s[0] == '/'), '/');
    if (key && key[1] && strlen(key + 1) <= S3_MAX_KEY) {
        *key++ = '\0';
        b = hr_bucket_find(r->srv, s + (s[0] == '/'));
        c->src_key = b ? strdup(key) : NULL;
        if (!c->src_key)
            b = NULL;
    }
    free(s);
    return b;
}

/* Whether a CopyObject changes something besides the bytes (S3 refuses a
 * copy onto itself that does not): the metadata directive REPLACE, a
 * storage class, a website redirect or encryption. */
static bool hr_copy_changes(struct hr_req *r)
{
    const char *dir = hr_hdr(r, "x-amz-metadata-directive");
    return (dir && strcasecmp(dir, "REPLACE") == 0) || hr_hdr(r, "x-amz-storage-class") ||
           hr_hdr(r, "x-amz-website-redirect-location") ||
           hr_hdr(r, "x-amz-server-side-encryption");
}

static void hr_copy(struct hr_req *r, bool part)
{
    struct hr_copy *c = calloc(1, sizeof *c);
    struct hr_bucket *src;
    int64_t suffix;
    if (!c) {
        hr_error(r, 500, "InternalError", "out of memory");
        hr_finish(r);
        return;
    }
    r->op = c;
    r->op_free = hr_copy_free;
    c->part = part;
    c->dst_ops = r->b->ops;
    if (!part && !hr_ver_put_check(r))
        return;
    src = hr_copy_source(r, c);
    if (!src) {
        hr_error(r, 400, "InvalidArgument",
                 "Copy Source must mention the source bucket and key: "
                 "sourcebucket/sourcekey");
        hr_finish(r);
        return;
    }
    if (!part && src == r->b && strcmp(c->src_key, r->key) == 0 && !hr_copy_changes(r)) {
        hr_error(r, 400, "InvalidRequest",
                 "This copy request is illegal because it is trying to copy an object to itself "
                 "without changing the object's metadata, storage class, website redirect "
                 "location or encryption attributes.");
        hr_finish(r);
        return;
    }
    hr_req_reset(r);
    if (part) {
        const char *range = hr_hdr(r, "x-amz-copy-source-range");
        r->sreq.part_number = r->part;
        r->sreq.upload_id = r->upload;
        /* Unlike Range on a GET, a malformed copy range is an error (S3:
         * bytes=first-last only). */
        if (range && (!hr_parse_range(range, &r->sreq.range_start, &r->sreq.range_end, &suffix) ||
                      suffix >= 0 || r->sreq.range_end < 0)) {
            hr_error(r, 400, "InvalidArgument",
                     "The x-amz-copy-source-range value must be of the form bytes=first-last "
                     "where first and last are the zero-based offsets of the first and last "
                     "bytes to copy");
            hr_finish(r);
            return;
        }
    }
    r->sreq.key = c->src_key;
    r->sreq.version_id = c->src_vid;
    if (part && src == r->b && !c->src_vid) {
        r->sreq.key = r->key;
        r->sreq.copy_source = c->src_key;
        r->sreq.body = NULL;
        c->part = true;
        hr_submit(r, src->ops, S3_OP_MPU_COPY, hr_copy_put_done);
        return;
    }
    /* The part fields ride along the source's get (it ignores them). */
    r->sreq.if_match = hr_hdr(r, "x-amz-copy-source-if-match");
    r->sreq.if_none_match = hr_hdr(r, "x-amz-copy-source-if-none-match");
    hr_since(r, "x-amz-copy-source-if-modified-since", &r->sreq.if_modified_since);
    hr_since(r, "x-amz-copy-source-if-unmodified-since", &r->sreq.if_unmodified_since);
    hr_submit(r, src->ops, S3_OP_GET, hr_copy_get_done);
}

/* --- multipart ------------------------------------------------------------ */

static void hr_mpu_create_done(struct s3_req *req, struct s3_result *res)
{
    struct hr_req *r = req->arg;
    struct base_buf b = {0};
    r->in_flight = false;
    if (!hr_result_failed(r, res)) {
        hr_ck_create_done(r);
        base_buf_adds(&b,
                      HR_XML_HEAD "<InitiateMultipartUploadResult xmlns=\"" HR_XMLNS "\"><Bucket>");
        hr_buf_add_xml(&b, r->bucket, false);
        base_buf_adds(&b, "</Bucket><Key>");
        hr_buf_add_xml(&b, r->key, false);
        base_buf_adds(&b, "</Key><UploadId>");
        hr_buf_add_xml(&b, res->upload_id, false);
        base_buf_adds(&b, "</UploadId></InitiateMultipartUploadResult>");
        hr_xml_body(r, 200, &b);
    }
    hr_finish(r);
}

/* Reads partNumber into r->part; answers 400 when it is missing or malformed. */
static bool hr_part_number(struct hr_req *r)
{
    long n;
    if (hr_q_int(r, "partNumber", 1, S3_MAX_PARTS, &n) != 0) {
        hr_error(r, 400, "InvalidArgument",
                 "Part number must be an integer between 1 and 10000, "
                 "inclusive");
        hr_finish(r);
        return false;
    }
    r->part = (int)n;
    return true;
}

static void hr_mpu_part(struct hr_req *r)
{
    hr_req_reset(r);
    r->sreq.upload_id = r->upload;
    r->sreq.part_number = r->part;
    r->sreq.body = (const uint8_t *)(r->body.p ? r->body.p : "");
    r->sreq.body_len = r->body.len;
    hr_put_cksum(r);
    if (!hr_ck_part_check(r))
        return;
    hr_submit(r, r->b->ops, S3_OP_MPU_PART, hr_put_done);
}

static void hr_complete_done(struct s3_req *req, struct s3_result *res)
{
    struct hr_req *r = req->arg;
    struct base_buf b = {0};
    r->in_flight = false;
    hr_ver_headers(r, res);
    if (!hr_result_failed(r, res)) {
        base_buf_adds(&b, HR_XML_HEAD "<CompleteMultipartUploadResult xmlns=\"" HR_XMLNS
                                      "\"><Location>/");
        hr_buf_add_xml(&b, r->bucket, false);
        base_buf_adds(&b, "/");
        hr_buf_add_xml(&b, r->key, true);
        base_buf_adds(&b, "</Location><Bucket>");
        hr_buf_add_xml(&b, r->bucket, false);
        base_buf_adds(&b, "</Bucket><Key>");
        hr_buf_add_xml(&b, r->key, false);
        base_buf_adds(&b, "</Key><ETag>");
        hr_buf_add_xml(&b, res->etag, false);
        base_buf_adds(&b, "</ETag>");
        hr_ck_complete_xml(r, &b);
        base_buf_adds(&b, "</CompleteMultipartUploadResult>");
        hr_xml_body(r, 200, &b);
    }
    hr_finish(r);
}

static void hr_mpu_complete(struct hr_req *r)
{
    struct s3_part *parts = NULL;
    size_t n = 0;
    int rc = hr_parse_complete(r->body.p ? r->body.p : "", r->body.len, &parts, &n);
    if (rc) {
        hr_error(r, 400, "MalformedXML",
                 "The XML you provided was not well-formed or did not "
                 "validate against our published schema");
        hr_finish(r);
        return;
    }
    r->op = parts;
    r->op_free = free;
    hr_req_reset(r);
    r->sreq.upload_id = r->upload;
    r->sreq.parts = parts;
    r->sreq.nparts = n;
    r->sreq.want_etag = true;
    hr_conditions(r);
    if (!hr_ck_complete(r, parts, n))
        return;
    hr_submit(r, r->b->ops, S3_OP_MPU_COMPLETE, hr_complete_done);
}

static void hr_post(struct hr_req *r)
{
    if (hr_has_q(r, "uploads")) {
        int mrc;
        hr_req_reset(r);
        if ((mrc = hr_meta_collect(r)) != 0) {
            hr_meta_fail(r, mrc);
            return;
        }
        if (!hr_ck_create(r) || !hr_ver_put_check(r))
            return;
        r->sreq.meta = r->meta;
        hr_submit(r, r->b->ops, S3_OP_MPU_CREATE, hr_mpu_create_done);
    } else if (hr_has_q(r, "uploadId")) {
        hr_mpu_complete(r);
    } else {
        hr_error(r, 405, "MethodNotAllowed",
                 "The specified method is not allowed against this "
                 "resource.");
        hr_finish(r);
    }
}

/* --- ListParts ------------------------------------------------------------ */

struct hr_parts {
    struct base_buf xml;
    struct hr_req *r;
    enum s3_cksum alg; /* the upload's checksum algorithm (http_ck.c), or NONE */
    long marker, max;
    int last;     /* the last part listed */
    size_t n;     /* parts listed */
    bool more;    /* a part after max */
    int64_t epoch_us, created_us; /* the store's clock's epoch; the upload's creation */
};

static bool hr_part_xml(void *arg, int number, uint64_t size, const char *etag)
{
    struct hr_parts *p = arg;
    char t[32];
    if (number <= p->marker)
        return true;
    if ((long)p->n == p->max) {
        p->more = true;
        return false;
    }
    /* The parts' times are the upload's (the store keeps no time per part). */
    hr_iso_time((p->epoch_us + p->created_us) / 1000000, t);
    base_buf_addf(&p->xml, "<Part><PartNumber>%d</PartNumber><LastModified>%s</LastModified>",
                  number, t);
    base_buf_adds(&p->xml, "<ETag>");
    hr_buf_add_xml(&p->xml, etag, false);
    base_buf_addf(&p->xml, "</ETag><Size>%llu</Size>", (unsigned long long)size);
    hr_ck_part_xml(p->r, &p->xml, p->alg, number, true);
    base_buf_adds(&p->xml, "</Part>");
    p->last = number;
    p->n++;
    return true;
}

/* ListParts (GET ?uploadId): max-parts (1000), part-number-marker; the parts
 * are read from the store (a bucket of the default factory). */
static void hr_list_parts(struct hr_req *r)
{
    struct hr_parts p = {.max = 1000, .epoch_us = hr_epoch_us(r->srv), .r = r};
    struct base_buf b = {0};
    int rc;
    if (hr_q_int(r, "max-parts", 0, 1L << 30, &p.max) < 0 ||
        hr_q_int(r, "part-number-marker", 0, S3_MAX_PARTS, &p.marker) < 0) {
        hr_error(r, 400, "InvalidArgument", "max-parts and part-number-marker are integers");
        hr_finish(r);
        return;
    }
    if (p.max > 1000)
        p.max = 1000;
    if (!r->b->store) {
        hr_error(r, 501, "NotImplemented", "ListParts is served on serve's own buckets only");
        hr_finish(r);
        return;
    }
    {
        struct base_buf head = {0};
        hr_ck_list_parts_head(r, &head, &p.alg);
        base_buf_free(&head);
    }
    rc = fs3_each_part(r->b->store, r->key, r->upload, &p.created_us, hr_part_xml, &p);
    if (rc) {
        base_buf_free(&p.xml);
        hr_error(r, 404, "NoSuchUpload",
                 "The specified upload does not exist. The upload ID may be invalid, or the "
                 "upload may have been aborted or completed.");
        hr_finish(r);
        return;
    }
    base_buf_adds(&b, HR_XML_HEAD "<ListPartsResult xmlns=\"" HR_XMLNS "\"><Bucket>");
    hr_buf_add_xml(&b, r->bucket, false);
    base_buf_adds(&b, "</Bucket><Key>");
    hr_buf_add_xml(&b, r->key, false);
    base_buf_adds(&b, "</Key><UploadId>");
    hr_buf_add_xml(&b, r->upload, false);
    const char *who = hr_acl_upload_owner(r, r->upload);
    for (int k = 0; k < 2; k++) {
        base_buf_adds(&b, k ? "</Initiator><Owner><ID>" : "</UploadId><Initiator><ID>");
        hr_buf_add_xml(&b, who, false);
        base_buf_adds(&b, "</ID><DisplayName>");
        hr_buf_add_xml(&b, who, false);
        base_buf_adds(&b, "</DisplayName>");
    }
    base_buf_addf(&b,
                  "</Owner><StorageClass>STANDARD</StorageClass><PartNumberMarker>%ld</PartNumberMarker>"
                  "<MaxParts>%ld</MaxParts><IsTruncated>%s</IsTruncated>",
                  p.marker, p.max, p.more ? "true" : "false");
    hr_ck_list_parts_head(r, &b, &p.alg);
    /* Only on a truncated page: the SDK v3's paginator goes on while there
     * is a marker (a string to it: "0" would start over, forever). */
    if (p.more)
        base_buf_addf(&b, "<NextPartNumberMarker>%d</NextPartNumberMarker>", p.last);
    if (p.xml.len)
        base_buf_add(&b, p.xml.p, p.xml.len);
    base_buf_adds(&b, "</ListPartsResult>");
    if (p.xml.failed)
        b.failed = true;
    base_buf_free(&p.xml);
    hr_xml_body(r, 200, &b);
    hr_finish(r);
}

/* --- GetObjectAttributes --------------------------------------------------- */

/* Whether x-amz-object-attributes (comma-separated) names attr. */
static bool hr_attr_wanted(const struct hr_req *r, const char *attr)
{
    const char *h = hr_hdr(r, "x-amz-object-attributes");
    size_t n = strlen(attr);
    for (const char *p = h; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t len = strcspn(p, ", ");
        if (len == n && strncasecmp(p, attr, n) == 0)
            return true;
        p += len;
    }
    return false;
}

static void hr_attributes_done(struct s3_req *req, struct s3_result *res)
{
    struct hr_req *r = req->arg;
    struct base_buf b = {0};
    char t[40];
    r->in_flight = false;
    if (hr_result_failed(r, res)) {
        hr_finish(r);
        return;
    }
    enum s3_cksum obj_alg = hr_ck_object_alg(res->meta); /* for the parts' checksums */
    base_buf_adds(&b, HR_XML_HEAD "<GetObjectAttributesResponse xmlns=\"" HR_XMLNS "\">");
    if (hr_attr_wanted(r, "ETag")) {
        /* Unquoted, as S3 gives it here. */
        size_t len = strlen(res->etag);
        const char *e = res->etag + (len >= 2 && res->etag[0] == '"');
        len -= len >= 2 && res->etag[0] == '"' ? 2 : 0;
        base_buf_addf(&b, "<ETag>%.*s</ETag>", (int)len, e);
    }
    for (const char *p = res->meta; hr_attr_wanted(r, "Checksum") && *p;) {
        const char *colon = strchr(p, ':'), *nl = strchr(p, '\n');
        char name[16];
        int alg = -1;
        if (!colon || !nl || colon > nl)
            break;
        if (strncmp(p, "x-amz-checksum-", 15) == 0 && colon - p - 15 < (long)sizeof name) {
            snprintf(name, sizeof name, "%.*s", (int)(colon - p - 15), p + 15);
            alg = s3_cksum_parse(name);
        }
        if (alg > S3_CKSUM_MD5) {
            const char *an = s3_cksum_name((enum s3_cksum)alg);
            const char *ty = strstr(res->meta, "x-amz-checksum-type: COMPOSITE") ? "COMPOSITE"
                                                                                 : "FULL_OBJECT";
            base_buf_addf(&b,
                          "<Checksum><Checksum%s>%.*s</Checksum%s>"
                          "<ChecksumType>%s</ChecksumType></Checksum>",
                          an, (int)(nl - colon - 2), colon + 2, an, ty);
            break;
        }
        p = nl + 1;
    }
    if (hr_attr_wanted(r, "ObjectParts") && r->b->store) {
        uint64_t start, len;
        uint32_t nparts = 0;
        /* Headers here, not query parameters (as S3 has them). */
        const char *mh = hr_hdr(r, "x-amz-max-parts"), *kh = hr_hdr(r, "x-amz-part-number-marker");
        long max = mh ? strtol(mh, NULL, 10) : 1000, marker = kh ? strtol(kh, NULL, 10) : 0;
        max = max < 0 || max > 1000 ? 1000 : max;
        marker = marker < 0 ? 0 : marker;
        fs3_object_part(r->b->store, r->key, 1, &start, &len, &nparts);
        if (nparts) {
            long n = 0, last = marker;
            base_buf_addf(&b, "<ObjectParts><PartsCount>%u</PartsCount>"
                              "<PartNumberMarker>%ld</PartNumberMarker><MaxParts>%ld</MaxParts>",
                          nparts, marker, max);
            for (long i = marker + 1; i <= (long)nparts && n < max; i++, n++) {
                fs3_object_part(r->b->store, r->key, (int)i, &start, &len, &nparts);
                base_buf_addf(&b, "<Part><PartNumber>%ld</PartNumber><Size>%llu</Size>", i,
                              (unsigned long long)len);
                hr_ck_part_xml(r, &b, obj_alg, (int)i, false);
                base_buf_adds(&b, "</Part>");
                last = i;
            }
            base_buf_addf(&b, "<IsTruncated>%s</IsTruncated>",
                          last < (long)nparts ? "true" : "false");
            if (last < (long)nparts)
                base_buf_addf(&b, "<NextPartNumberMarker>%ld</NextPartNumberMarker>", last);
            base_buf_adds(&b, "</ObjectParts>");
        }
    }
    if (hr_attr_wanted(r, "StorageClass"))
        base_buf_adds(&b, "<StorageClass>STANDARD</StorageClass>");
    if (hr_attr_wanted(r, "ObjectSize"))
        base_buf_addf(&b, "<ObjectSize>%llu</ObjectSize>", (unsigned long long)res->object_size);
    base_buf_adds(&b, "</GetObjectAttributesResponse>");
    hr_http_time((hr_epoch_us(r->srv) + res->mtime_us) / 1000000, t);
    hr_header(r, "Last-Modified", "%s", t);
    hr_xml_body(r, 200, &b);
    hr_finish(r);
}

/* GetObjectAttributes (GET ?attributes): ETag, Checksum, ObjectParts (a
 * multipart object's part sizes, paged by x-amz-max-parts and
 * x-amz-part-number-marker),
 * StorageClass, ObjectSize, as x-amz-object-attributes names them. */
static void hr_attributes(struct hr_req *r)
{
    if (!hr_hdr(r, "x-amz-object-attributes")) {
        hr_error(r, 400, "InvalidArgument", "x-amz-object-attributes header is required");
        hr_finish(r);
        return;
    }
    hr_req_reset(r);
    hr_submit(r, r->b->ops, S3_OP_HEAD, hr_attributes_done);
}

/* The query parameters of the object operations served. */
static const char *const hr_object_params[] = {
    "uploadId", "partNumber", "versionId", "uploads", "acl", "max-parts", "part-number-marker",
    "attributes", "retention", "legal-hold", NULL};

/* Sub-resources not served (501).  True when
 * r is answered. */
static bool hr_object_subresource(struct hr_req *r)
{
    const char *sub = hr_unserved(r, hr_object_params);
    if (sub) {
        char msg[160];
        snprintf(msg, sizeof msg, "the object sub-resource '%.80s' is not served by s3sim", sub);
        hr_error(r, 501, "NotImplemented", msg);
        hr_finish(r);
        return true;
    }
    if (!hr_ver_query(r) || hr_ver_object_op(r))
        return true;
    return false;
}

void hr_object_op(struct hr_req *r)
{
    if (hr_object_subresource(r))
        return;
    const char *m = r->method;
    bool upload = hr_has_q(r, "uploadId");
    bool copy = hr_hdr(r, "x-amz-copy-source") != NULL;
    r->upload = hr_q(r, "uploadId");
    if (upload && !*r->upload) {
        hr_error(r, 400, "InvalidArgument", "uploadId must not be empty");
        hr_finish(r);
        return;
    }
    if (strcmp(m, "GET") == 0 && hr_has_q(r, "attributes")) {
        hr_attributes(r);
    } else if (strcmp(m, "GET") == 0 && !upload) {
        hr_get(r);
    } else if (strcmp(m, "GET") == 0) {
        hr_list_parts(r);
    } else if (strcmp(m, "HEAD") == 0) {
        hr_req_reset(r);
        if (!hr_by_part(r))
            return;
        hr_conditions(r);
        hr_submit(r, r->b->ops, S3_OP_HEAD, hr_head_done);
    } else if (strcmp(m, "PUT") == 0 && upload) {
        if (hr_part_number(r)) {
            if (copy)
                hr_copy(r, true);
            else
                hr_mpu_part(r);
        }
    } else if (strcmp(m, "PUT") == 0) {
        if (copy)
            hr_copy(r, false);
        else
            hr_put(r);
    } else if (strcmp(m, "POST") == 0) {
        hr_post(r);
    } else if (strcmp(m, "DELETE") == 0) {
        const char *bp = hr_hdr(r, "x-amz-bypass-governance-retention");
        hr_req_reset(r);
        r->sreq.upload_id = upload ? r->upload : NULL;
        r->sreq.bypass_governance = bp && strcasecmp(bp, "true") == 0;
        hr_submit(r, r->b->ops, upload ? S3_OP_MPU_ABORT : S3_OP_DELETE, hr_nocontent_done);
    } else {
        hr_error(r, upload ? 501 : 405, upload ? "NotImplemented" : "MethodNotAllowed",
                 "not supported by s3sim");
        hr_finish(r);
    }
}

/* --- DeleteObjects ------------------------------------------------------------ */

struct hr_delete {
    char **keys;
    char **vids; /* VersionId per key (NULL: none sent) */
    size_t n;
    bool quiet;
};

static void hr_delete_free(void *p)
{
    struct hr_delete *d = p;
    for (size_t i = 0; i < d->n; i++) {
        free(d->keys[i]);
        free(d->vids ? d->vids[i] : NULL);
    }
    free(d->keys);
    free(d->vids);
    free(d);
}

static void hr_delete_many_done(struct s3_req *req, struct s3_result *res)
{
    struct hr_req *r = req->arg;
    struct hr_delete *d = r->op;
    struct base_buf b = {0};
    r->in_flight = false;
    if (!hr_result_failed(r, res)) {
        base_buf_adds(&b, HR_XML_HEAD "<DeleteResult xmlns=\"" HR_XMLNS "\">");
        for (size_t i = 0; i < res->ndeleted && i < d->n; i++) {
            enum s3_code code = res->deleted[i].code;
            if (code == S3E_NONE && d->quiet)
                continue;
            base_buf_adds(&b, code == S3E_NONE ? "<Deleted><Key>" : "<Error><Key>");
            hr_buf_add_xml(&b, d->keys[i], false);
            if (code == S3E_NONE) {
                const struct s3_delete_entry *de = &res->deleted[i];
                base_buf_adds(&b, "</Key>");
                /* A marker made: its id; a version deleted: its id (and
                 * whether it was a marker). */
                if (de->version_id[0] && d->vids && d->vids[i])
                    base_buf_addf(&b, "<VersionId>%s</VersionId>", de->version_id);
                if (de->delete_marker)
                    base_buf_adds(&b, "<DeleteMarker>true</DeleteMarker>");
                if (de->version_id[0] && de->delete_marker && !(d->vids && d->vids[i]))
                    base_buf_addf(&b, "<DeleteMarkerVersionId>%s</DeleteMarkerVersionId>",
                                  de->version_id);
                base_buf_adds(&b, "</Deleted>");
            } else {
                base_buf_addf(&b, "</Key><Code>%s</Code><Message>%s</Message></Error>",
                              s3_code_name(code), s3_code_name(code));
            }
        }
        base_buf_adds(&b, "</DeleteResult>");
        hr_xml_body(r, 200, &b);
    }
    hr_finish(r);
}

void hr_delete_objects(struct hr_req *r)
{
    struct hr_delete *d = calloc(1, sizeof *d);
    int rc =
        d ? hr_parse_delete(r->body.p ? r->body.p : "", r->body.len, &d->keys, &d->n, &d->quiet)
          : ERR_NOMEM;
    if (rc) {
        free(d);
        hr_error(r, rc == ERR_NOMEM ? 500 : 400, rc == ERR_NOMEM ? "InternalError" : "MalformedXML",
                 "The XML you provided was not well-formed or did not validate against our "
                 "published schema");
        hr_finish(r);
        return;
    }
    r->op = d;
    r->op_free = hr_delete_free;
    if (hr_ver_delete_vids(r->body.p, r->body.len, d->n, &d->vids)) {
        hr_error(r, 400, "MalformedXML",
                 "The XML you provided was not well-formed or did not validate against our "
                 "published schema");
        hr_finish(r);
        return;
    }
    hr_req_reset(r);
    r->sreq.key = NULL;
    r->sreq.keys = (const char *const *)d->keys;
    r->sreq.nkeys = d->n;
    r->sreq.version_ids = (const char *const *)d->vids;
    {
        const char *bp = hr_hdr(r, "x-amz-bypass-governance-retention");
        r->sreq.bypass_governance = bp && strcasecmp(bp, "true") == 0;
    }
    hr_submit(r, r->b->ops, S3_OP_DELETE_MANY, hr_delete_many_done);
}
