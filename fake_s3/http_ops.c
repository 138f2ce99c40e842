/* http_ops.c - S3 semantics of the HTTP front: parsing, authentication,
 * payloads and checksums, and the object operations (see http.h).  Every
 * function here runs with the loop lock held. */
#include "err.h"
#include "http_acl.h"
#include "http_int.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HR_XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"

/* --- small helpers ---------------------------------------------------------- */

const char *hr_q(const struct hr_req *r, const char *name)
{
    for (size_t i = 0; i < r->nq; i++)
        if (strcmp(r->q[i].name, name) == 0)
            return r->q[i].value ? r->q[i].value : "";
    return NULL;
}

bool hr_has_q(const struct hr_req *r, const char *name)
{
    return hr_q(r, name) != NULL;
}

int hr_q_int(const struct hr_req *r, const char *name, long lo, long hi, long *out)
{
    const char *v = hr_q(r, name);
    long n = 0;
    if (!v)
        return 1;
    if (!*v)
        return -1;
    for (; *v; v++) {
        if (*v < '0' || *v > '9' || n > (LONG_MAX - (*v - '0')) / 10)
            return -1;
        n = n * 10 + (*v - '0');
    }
    if (n < lo || n > hi)
        return -1;
    *out = n;
    return 0;
}

const char *hr_hdr(const struct hr_req *r, const char *name)
{
    for (size_t i = 0; i < r->nhdr; i++)
        if (strcasecmp(r->hdr[i].name, name) == 0)
            return r->hdr[i].value;
    return NULL;
}

int64_t hr_mtime(const struct hr_req *r)
{
    return (hr_epoch_us(r->srv) + hr_store_now_us(r->srv)) / 1000000;
}

const char *hr_unserved(const struct hr_req *r, const char *const *known)
{
    for (size_t i = 0; i < r->nq; i++) {
        const char *n = r->q[i].name;
        bool ok = r->q[i].value && *r->q[i].value; /* a valued parameter: not a sub-resource */
        ok = ok || strncasecmp(n, "x-amz-", 6) == 0 || strncmp(n, "response-", 9) == 0 ||
             strcmp(n, "x-id") == 0;
        for (const char *const *k = known; !ok && *k; k++)
            ok = strcmp(n, *k) == 0;
        if (!ok)
            return n;
    }
    return NULL;
}

void hr_header(struct hr_req *r, const char *name, const char *fmt, ...)
{
    char v[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof v, fmt, ap);
    va_end(ap);
    base_buf_addf(&r->resp.hdrs, "%s: %s\n", name, v);
}

static void hr_set_body(struct hr_req *r, int status, struct base_buf *b)
{
    free(r->resp.body);
    r->resp.status = status;
    r->resp.body = (uint8_t *)b->p;
    r->resp.body_len = b->failed ? 0 : b->len;
    b->p = NULL;
    b->len = b->cap = 0;
}

void hr_xml_body(struct hr_req *r, int status, struct base_buf *xml)
{
    hr_header(r, "Content-Type", "application/xml");
    hr_set_body(r, status, xml);
}

void hr_error(struct hr_req *r, int status, const char *code, const char *msg)
{
    struct base_buf b = {0};
    base_buf_adds(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>");
    hr_buf_add_xml(&b, code, false);
    base_buf_adds(&b, "</Code><Message>");
    hr_buf_add_xml(&b, msg && *msg ? msg : code, false);
    base_buf_adds(&b, "</Message>");
    if (r->key) {
        base_buf_adds(&b, "<Key>");
        hr_buf_add_xml(&b, r->key, false);
        base_buf_adds(&b, "</Key>");
    }
    if (r->bucket[0]) {
        base_buf_adds(&b, "<BucketName>");
        hr_buf_add_xml(&b, r->bucket, false);
        base_buf_adds(&b, "</BucketName>");
    }
    base_buf_addf(&b, "<RequestId>%s</RequestId><HostId>%s</HostId></Error>", r->reqid, r->id2);
    hr_xml_body(r, status, &b);
}

/* --- s3 calls ------------------------------------------------------------------ */

void hr_submit(struct hr_req *r, struct s3_ops *ops, enum s3_op op, s3_cb cb)
{
    int rc = s3_submit_op(ops, op, &r->sreq, cb, r);
    if (rc) {
        hr_error(r, 500, "InternalError", err_str(rc));
        hr_finish(r);
        return;
    }
    r->ops = ops;
    r->in_flight = true;
}

void hr_abandon(struct hr_req *r)
{
    if (r->in_flight) {
        s3_cancel(r->ops, &r->sreq);
        r->in_flight = false;
    }
    if (r->op && r->op_free)
        r->op_free(r->op);
    r->op = NULL;
}

/* Turns a failed result into the response (error body, reset or hold).
 * Returns false when res is a success. */
bool hr_result_failed(struct hr_req *r, const struct s3_result *res)
{
    if (res->transport == S3_TR_TIMEOUT) {
        r->resp.hold = true;
        return true;
    }
    if (res->transport != S3_TR_OK) {
        hr_error(r, 500, "InternalError", "connection reset by the fault shim");
        r->resp.reset = true;
        return true;
    }
    if (res->status >= 300 || res->code != S3E_NONE) {
        enum s3_code code =
            res->code != S3E_NONE ? res->code : s3_default_code(r->sreq.op, res->status);
        hr_error(r, res->status, s3_code_name(code), res->message);
        return true;
    }
    return false;
}

/* --- request parsing -------------------------------------------------------- */

static int hr_hex(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Decodes %XX (and '+' as a space, as forms do) in place; false on a bad escape. */
static bool hr_unescape(char *s)
{
    char *o = s;
    for (; *s; s++) {
        if (*s == '%') {
            int v = 0;
            for (int i = 1; i <= 2; i++) {
                int d = hr_hex(s[i]);
                if (d < 0)
                    return false;
                v = v * 16 + d;
            }
            *o++ = (char)v;
            s += 2;
        } else {
            *o++ = *s == '+' ? ' ' : *s;
        }
    }
    *o = '\0';
    return true;
}

static bool hr_parse_query(struct hr_req *r)
{
    r->qbuf = strdup(r->query);
    if (!r->qbuf)
        return false;
    for (char *p = r->qbuf, *next; p && *p; p = next) {
        next = strchr(p, '&');
        if (next)
            *next++ = '\0';
        if (!*p)
            continue;
        if (r->nq == HR_MAX_QUERY)
            return false;
        char *eq = strchr(p, '=');
        if (eq)
            *eq++ = '\0';
        if (!hr_unescape(p) || (eq && !hr_unescape(eq)))
            return false;
        r->q[r->nq++] = (struct hr_kv){p, eq};
    }
    return true;
}

/* Bucket and key from the path (path style) or the Host (virtual host). */
static bool hr_parse_target(struct hr_req *r)
{
    char *rest, host[256];
    const char *h = hr_hdr(r, "Host");
    if (h && strlen(h) >= sizeof host)
        return false;
    strcpy(host, h ? h : "");
    host[strcspn(host, ":")] = '\0';
    rest = r->path + 1;
    char *dot = strchr(host, '.');
    bool vhost = false;
    if (dot && host[0] && (host[0] < '0' || host[0] > '9')) {
        *dot = '\0';
        vhost = hr_bucket_find(r->srv, host) || strcmp(dot + 1, "localhost") == 0 ||
                strncmp(dot + 1, "s3.", 3) == 0;
        if (vhost && strlen(host) >= sizeof r->bucket)
            return false;
        if (vhost)
            strcpy(r->bucket, host);
    }
    if (!vhost) {
        size_t n = strcspn(rest, "/");
        if (n >= sizeof r->bucket)
            return false;
        memcpy(r->bucket, rest, n);
        r->bucket[n] = '\0';
        if (!hr_unescape(r->bucket))
            return false;
        rest += n;
        if (*rest == '/')
            rest++;
    }
    if (*rest || (vhost && r->path[1])) {
        /* Keys are decoded strictly: a '+' in a path is a '+'. */
        size_t len = strlen(rest);
        if (len > 3 * S3_MAX_KEY)
            return false;
        r->key = malloc(len + 1);
        if (!r->key)
            return false;
        size_t o = 0;
        bool ok = true;
        for (size_t i = 0; ok && i < len; i++) {
            if (rest[i] == '%') {
                char hx[3] = {rest[i + 1], rest[i + 1] ? rest[i + 2] : 0, 0};
                char *end;
                long v = strtol(hx, &end, 16);
                ok = !*end && hx[0] && hx[1] && hx[0] != '-' && hx[0] != '+';
                r->key[o++] = (char)v;
                i += 2;
            } else {
                r->key[o++] = rest[i];
            }
        }
        r->key[o] = '\0';
        if (!ok || o == 0 || o > S3_MAX_KEY || strlen(r->key) != o) {
            free(r->key);
            r->key = NULL;
            return ok && o == 0;
        }
    }
    return true;
}

static bool hr_parse_once(struct hr_req *r)
{
    r->path = strdup(r->raw_uri);
    if (!r->path || r->path[0] != '/')
        return false;
    char *q = strchr(r->path, '?');
    r->query = q ? q + 1 : "";
    if (q)
        *q = '\0';
    return hr_parse_query(r) && hr_parse_target(r);
}

/* Parses r once: hr_preauth may have done it before the body came. */
static bool hr_parse(struct hr_req *r)
{
    if (!r->parsed) {
        r->parsed = true;
        r->parse_ok = hr_parse_once(r);
    }
    return r->parse_ok;
}

/* --- authentication ------------------------------------------------------- */

static bool hr_auth_fail(struct hr_req *r, const char *code, const char *msg)
{
    hr_count_auth_failure(r->srv);
    hr_error(r, 403, code, msg);
    return false;
}

/* Checks the signature with the raw path, then with the path re-encoded
 * strictly (clients differ in which characters they escape). */
static int hr_verify(struct hr_req *r, struct fs3_sig_input *in, const char *secret,
                     const char *want, uint8_t key[32])
{
    static const char hexd[] = "0123456789ABCDEF";
    char sig[FS3_SIG_HEX], *dec, *enc;
    int rc = fs3_sig_compute(in, secret, sig, key);
    if (rc || fs3_sig_equal(sig, want))
        return rc;
    dec = strdup(r->path);
    enc = dec ? malloc(3 * strlen(dec) + 1) : NULL;
    rc = ERR_CHECKSUM;
    if (enc) {
        size_t o = 0;
        bool ok = true;
        for (char *p = dec, *w = dec;; p++) { /* decode in place, strictly */
            if (*p == '%') {
                int hi = hr_hex(p[1]), lo = hi >= 0 ? hr_hex(p[2]) : -1;
                ok = ok && hi >= 0 && lo >= 0;
                *w++ = (char)(ok ? hi * 16 + lo : 0);
                p += ok ? 2 : 0;
            } else if ((*w++ = *p) == '\0') {
                break;
            }
        }
        for (const unsigned char *p = (const unsigned char *)dec; ok && *p; p++) {
            unsigned char ch = *p;
            if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                ch == '-' || ch == '.' || ch == '_' || ch == '~' || ch == '/') {
                enc[o++] = (char)ch;
            } else {
                enc[o++] = '%';
                enc[o++] = hexd[ch >> 4];
                enc[o++] = hexd[ch & 15];
            }
        }
        enc[o] = '\0';
        if (ok && strcmp(enc, r->path) != 0) {
            in->uri = enc;
            if (fs3_sig_compute(in, secret, sig, key) == 0 && fs3_sig_equal(sig, want))
                rc = 0;
        }
    }
    free(dec);
    free(enc);
    return rc;
}

static bool hr_check_skew(struct hr_req *r, const char *amz_date, int64_t expires)
{
    int64_t t, now = hr_wall_secs();
    if (fs3_sig_parse_date(amz_date, &t))
        return hr_auth_fail(r, "AccessDenied",
                            "AWS authentication requires a valid Date or "
                            "x-amz-date header");
    if (expires) {
        if (now > t + expires)
            return hr_auth_fail(r, "AccessDenied", "Request has expired");
        if (t > now + hr_config(r->srv)->max_skew_secs)
            return hr_auth_fail(r, "RequestTimeTooSkewed",
                                "The difference between the request "
                                "time and the current time is too large.");
        return true;
    }
    if (t > now + hr_config(r->srv)->max_skew_secs || t < now - hr_config(r->srv)->max_skew_secs)
        return hr_auth_fail(r, "RequestTimeTooSkewed",
                            "The difference between the request time and the current time is too "
                            "large.");
    return true;
}

/* The verified signing context, kept for the chunk signatures. */
struct hr_authctx {
    uint8_t key[32];
    char seed[FS3_SIG_HEX];
    char amz_date[17];
    char scope[160];
    bool ok;
};

static bool hr_authenticate(struct hr_req *r, struct hr_authctx *ac)
{
    const struct fs3_http_config *c = hr_config(r->srv);
    const char *authz = hr_hdr(r, "Authorization");
    struct fs3_sig_auth a;
    const char *date, *payload, *secret = NULL;
    if ((authz && strncmp(authz, "AWS ", 4) == 0) || (!authz && hr_is_v2_query(r)))
        return hr_auth_v2(r);
    if (authz) {
        if (fs3_sig_parse_auth(authz, &a))
            return hr_auth_fail(r, "AccessDenied", "unsupported or malformed Authorization");
        date = hr_hdr(r, "x-amz-date");
        payload = hr_hdr(r, "x-amz-content-sha256");
    } else if (hr_has_q(r, "X-Amz-Algorithm")) {
        if (fs3_sig_parse_presigned(r->query, &a))
            return hr_auth_fail(r, "AuthorizationQueryParametersError", "malformed presigned URL");
        date = a.amz_date;
        payload = "UNSIGNED-PAYLOAD";
    } else {
        r->user = 0; /* anonymous: judged by the ACLs (hr_acl_route) */
        return true;
    }
    int user = hr_user_find(c, a.access_key, &secret);
    if (!user)
        return hr_auth_fail(r, "InvalidAccessKeyId",
                            "The AWS Access Key Id you provided does not "
                            "exist in our records.");
    if (!date || !hr_check_skew(r, date, a.expires))
        return date ? false : hr_auth_fail(r, "AccessDenied", "missing x-amz-date");
    if (c->check_region && strcmp(a.region, c->region) != 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "the region '%.40s' is wrong; expecting '%.40s'", a.region,
                 c->region);
        hr_count_auth_failure(r->srv);
        hr_error(r, 400, "AuthorizationHeaderMalformed", msg);
        return false;
    }
    if (strncmp(date, a.date8, 8) != 0)
        return hr_auth_fail(r, "SignatureDoesNotMatch", "credential date does not match");
    struct fs3_sig_input in = {r->method,
                               r->path,
                               r->query,
                               r->hdr,
                               r->nhdr,
                               a.signed_headers,
                               payload ? payload : "UNSIGNED-PAYLOAD",
                               date,
                               a.region,
                               a.service};
    int rc = hr_verify(r, &in, secret, a.signature, ac->key);
    if (rc && c->log) {
        char line[1024];
        int n = snprintf(line, sizeof line, "signature mismatch: %s %.300s?%.300s signed=%.200s",
                         r->method, r->path, r->query, a.signed_headers);
        (void)n;
        c->log(c->log_arg, ENV_LOG_DEBUG, "http", line);
    }
    if (rc) {
        return hr_auth_fail(r, "SignatureDoesNotMatch",
                            "The request signature we calculated does not match the signature you "
                            "provided. Check your key and signing method.");
    }
    snprintf(ac->seed, sizeof ac->seed, "%s", a.signature);
    snprintf(ac->amz_date, sizeof ac->amz_date, "%s", date);
    snprintf(ac->scope, sizeof ac->scope, "%s/%s/%s/aws4_request", a.date8, a.region, a.service);
    ac->ok = true;
    r->user = user;
    return true;
}

/* --- payloads and checksums ------------------------------------------------- */

/* By enum s3_cksum. */
static const char *const hr_ck_headers[] = {
    NULL, "Content-MD5", "x-amz-checksum-crc32c", "x-amz-checksum-crc32", "x-amz-checksum-sha256",
    "x-amz-checksum-sha1", "x-amz-checksum-crc64nvme"};

/* Reads a checksum "name:value" from trailer lines into r->cksum. */
static bool hr_trailer_cksum(struct hr_req *r, const char *trailers)
{
    for (int alg = S3_CKSUM_CRC32C; alg <= S3_CKSUM_LAST; alg++) {
        const char *h = hr_ck_headers[alg];
        size_t n = strlen(h);
        for (const char *p = trailers; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
            if (strncasecmp(p, h, n) == 0 && p[n] == ':') {
                char v[80];
                size_t len = strcspn(p + n + 1, "\r\n");
                if (len >= sizeof v)
                    return false;
                memcpy(v, p + n + 1, len);
                v[len] = '\0';
                int got = hr_b64_decode(v, r->cksum.value, sizeof r->cksum.value);
                if (got <= 0)
                    return false;
                r->cksum.alg = (enum s3_cksum)alg;
                r->cksum.len = (uint8_t)got;
                r->has_cksum = true;
            }
        }
    }
    return true;
}

static bool hr_header_cksum(struct hr_req *r)
{
    for (int alg = S3_CKSUM_LAST; alg >= S3_CKSUM_MD5; alg--) {
        const char *v = hr_hdr(r, hr_ck_headers[alg]);
        if (!v || r->has_cksum)
            continue;
        int got = hr_b64_decode(v, r->cksum.value, sizeof r->cksum.value);
        if (got <= 0) {
            hr_error(r, 400, alg == S3_CKSUM_MD5 ? "InvalidDigest" : "InvalidRequest",
                     "The checksum you specified is not valid.");
            return false;
        }
        r->cksum.alg = (enum s3_cksum)alg;
        r->cksum.len = (uint8_t)got;
        r->has_cksum = true;
    }
    return true;
}

/* Decodes an aws-chunked body, checks the payload hash, reads checksums. */
static bool hr_payload(struct hr_req *r, const struct hr_authctx *ac)
{
    const char *ph = hr_hdr(r, "x-amz-content-sha256");
    const char *ce = hr_hdr(r, "Content-Encoding");
    bool chunked = (ph && strncmp(ph, "STREAMING-", 10) == 0) || (ce && strstr(ce, "aws-chunked"));
    char trailers[512] = "";
    if (chunked) {
        bool sign = ac->ok && ph && strncmp(ph, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", 34) == 0;
        struct fs3_chunk_ctx cc = {sign ? ac->key : NULL, ac->amz_date, ac->scope, ac->seed};
        size_t len = r->body.len;
        int rc = r->body.p
                     ? fs3_sig_dechunk(&cc, (uint8_t *)r->body.p, &len, trailers, sizeof trailers)
                     : ERR_INVAL;
        if (rc == ERR_CHECKSUM) {
            hr_count_auth_failure(r->srv);
            hr_error(r, 403, "SignatureDoesNotMatch", "a chunk signature does not match");
            return false;
        }
        if (rc) {
            hr_error(r, 400, "IncompleteBody", "malformed aws-chunked body");
            return false;
        }
        r->body.len = len;
        const char *dl = hr_hdr(r, "x-amz-decoded-content-length");
        if (dl && strtoull(dl, NULL, 10) != len) {
            hr_error(r, 400, "IncompleteBody", "x-amz-decoded-content-length does not match");
            return false;
        }
        if (!hr_trailer_cksum(r, trailers)) {
            hr_error(r, 400, "InvalidRequest", "malformed checksum trailer");
            return false;
        }
    } else if (ac->ok && ph && strlen(ph) == 64) {
        struct s3_checksum sh;
        char hex[FS3_SIG_HEX];
        s3_checksum_compute(S3_CKSUM_SHA256, (const uint8_t *)r->body.p, r->body.len, &sh);
        for (int i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", sh.value[i]);
        if (strcasecmp(hex, ph) != 0) {
            hr_error(r, 400, "XAmzContentSHA256Mismatch",
                     "The provided 'x-amz-content-sha256' header does not match what was "
                     "computed.");
            return false;
        }
    }
    /* A Complete's x-amz-checksum-* is the object's, not its body's (http_ck.c). */
    if (strcmp(r->method, "POST") == 0 && r->key && hr_has_q(r, "uploadId"))
        return true;
    if (!hr_header_cksum(r))
        return false;
    if (r->has_cksum) {
        struct s3_checksum got;
        s3_checksum_compute(r->cksum.alg, (const uint8_t *)r->body.p, r->body.len, &got);
        if (!s3_checksum_equal(&got, &r->cksum)) {
            hr_error(r, 400, "BadDigest",
                     r->cksum.alg == S3_CKSUM_MD5
                         ? "The Content-MD5 you specified did not match what we received."
                         : "The checksum you specified did not match the calculated checksum.");
            return false;
        }
    }
    return true;
}

/* --- dispatch ------------------------------------------------------------------ */

bool hr_preauth(struct hr_req *r)
{
    struct hr_authctx ac = {0};
    if (r->too_many_headers || !hr_parse(r)) {
        hr_error(r, 400, "InvalidRequest", "malformed request");
        return false;
    }
    if (!hr_authenticate(r, &ac))
        return false;
    /* An anonymous client may make the server read a large body only into a
     * bucket anyone may write to. */
    return r->user || hr_acl_preauth_anon(r);
}

void hr_dispatch(struct hr_req *r)
{
    struct hr_authctx ac = {0};
    if (r->too_many_headers || !hr_parse(r)) {
        hr_error(r, 400, "InvalidRequest", "malformed request");
        goto done;
    }
    if (r->body_too_big || r->body.failed) {
        hr_error(r, 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size");
        goto done;
    }
    if (r->over_memory) {
        hr_error(r, 503, "SlowDown", "Please reduce your request rate.");
        goto done;
    }
    if (hr_config(r->srv)->access_key && !hr_authenticate(r, &ac))
        goto done;
    if (!hr_payload(r, &ac))
        goto done;
    if (hr_acl_route(r)) /* access, ?acl, ?tagging, ?cors, OPTIONS */
        return;
    if (!r->bucket[0]) {
        if (strcmp(r->method, "GET") == 0)
            hr_list_buckets(r);
        else
            hr_error(r, 405, "MethodNotAllowed", "The specified method is not allowed");
        goto done;
    }
    r->b = hr_bucket_find(r->srv, r->bucket);
    if (!r->key) {
        hr_bucket_op(r); /* finishes by itself */
        return;
    }
    if (!r->b) {
        hr_error(r, 404, "NoSuchBucket", "The specified bucket does not exist");
        goto done;
    }
    hr_object_op(r); /* finishes by itself */
    return;
done:
    hr_finish(r);
}
