/* http_auth.c - the key pairs of the HTTP front and AWS Signature V2 (the
 * "Signing and authenticating REST requests" scheme: HMAC-SHA1 over the
 * verb, Content-MD5, Content-Type, Date, the x-amz-* headers and the
 * resource with its sub-resources), in a header or a presigned query.  See
 * http_acl.h. */
#include "http_acl.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int hr_user_find(const struct fs3_http_config *c, const char *ak, const char **secret)
{
    if (c->access_key && strcmp(ak, c->access_key) == 0) {
        *secret = c->secret_key;
        return 1;
    }
    for (size_t i = 0; i < c->nusers; i++) {
        if (strcmp(ak, c->users[i].access_key) == 0) {
            *secret = c->users[i].secret_key;
            return (int)i + 2;
        }
    }
    return 0;
}

const char *hr_user_name(const struct fs3_http_config *c, int u)
{
    if (u == 1 || (u > 1 && (size_t)(u - 2) >= c->nusers))
        return "s3sim"; /* the config's own pair, whatever its access key */
    if (u < 1)
        return "anonymous";
    const struct fs3_http_user *us = &c->users[u - 2];
    return us->name && *us->name ? us->name : us->access_key;
}

/* The sub-resources that are part of the V2 canonical resource: AWS's list,
 * plus the later ones clients sign (botocore's list). */
static const char *const hr_v2_subres[] = {"accelerate",
                                           "acl",
                                           "analytics",
                                           "cors",
                                           "defaultObjectAcl",
                                           "delete",
                                           "inventory",
                                           "legal-hold",
                                           "lifecycle",
                                           "location",
                                           "logging",
                                           "metrics",
                                           "notification",
                                           "object-lock",
                                           "partNumber",
                                           "policy",
                                           "replication",
                                           "requestPayment",
                                           "response-cache-control",
                                           "response-content-disposition",
                                           "response-content-encoding",
                                           "response-content-language",
                                           "response-content-type",
                                           "response-expires",
                                           "restore",
                                           "retention",
                                           "select",
                                           "select-type",
                                           "storageClass",
                                           "tagging",
                                           "torrent",
                                           "uploadId",
                                           "uploads",
                                           "versionId",
                                           "versioning",
                                           "versions",
                                           "website",
                                           NULL};

static bool hr_v2_is_subres(const char *n)
{
    for (const char *const *s = hr_v2_subres; *s; s++)
        if (strcmp(*s, n) == 0)
            return true;
    return false;
}

static int hr_v2_cmp_kv(const void *a, const void *b)
{
    const struct hr_kv *x = *(const struct hr_kv *const *)a, *y = *(const struct hr_kv *const *)b;
    return strcmp(x->name, y->name);
}

static int hr_v2_cmp_hdr(const void *a, const void *b)
{
    const struct fs3_sig_header *x = *(const struct fs3_sig_header *const *)a;
    const struct fs3_sig_header *y = *(const struct fs3_sig_header *const *)b;
    return strcasecmp(x->name, y->name);
}

/* Appends a header value with its folding whitespace unfolded and trimmed. */
static void hr_v2_add_value(struct base_buf *b, const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    bool space = false;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '\r' || v[i] == '\n' || v[i] == '\t' || v[i] == ' ') {
            space = true;
            continue;
        }
        if (space)
            base_buf_add(b, " ", 1);
        space = false;
        base_buf_add(b, &v[i], 1);
    }
}

/* The string to sign of r with resource path res, date as given (the Date,
 * "" with x-amz-date, or Expires when presigned). */
static void hr_v2_string(const struct hr_req *r, const char *res, const char *date,
                         struct base_buf *b)
{
    const char *md5 = hr_hdr(r, "Content-MD5"), *ct = hr_hdr(r, "Content-Type");
    base_buf_addf(b, "%s\n%s\n%s\n%s\n", r->method, md5 ? md5 : "", ct ? ct : "", date);
    const struct fs3_sig_header *amz[HR_MAX_HEADERS];
    size_t n = 0;
    for (size_t i = 0; i < r->nhdr; i++)
        if (strncasecmp(r->hdr[i].name, "x-amz-", 6) == 0)
            amz[n++] = &r->hdr[i];
    qsort(amz, n, sizeof amz[0], hr_v2_cmp_hdr);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcasecmp(amz[i]->name, amz[i - 1]->name) == 0) {
            base_buf_add(b, ",", 1);
        } else {
            if (i > 0)
                base_buf_add(b, "\n", 1);
            for (const char *p = amz[i]->name; *p; p++) {
                char c = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
                base_buf_add(b, &c, 1);
            }
            base_buf_add(b, ":", 1);
        }
        hr_v2_add_value(b, amz[i]->value);
    }
    if (n)
        base_buf_add(b, "\n", 1);
    base_buf_adds(b, res);
    const struct hr_kv *sub[HR_MAX_QUERY];
    size_t ns = 0;
    for (size_t i = 0; i < r->nq; i++)
        if (hr_v2_is_subres(r->q[i].name))
            sub[ns++] = &r->q[i];
    qsort(sub, ns, sizeof sub[0], hr_v2_cmp_kv);
    for (size_t i = 0; i < ns; i++) {
        base_buf_adds(b, i ? "&" : "?");
        base_buf_adds(b, sub[i]->name);
        if (sub[i]->value && *sub[i]->value) {
            base_buf_add(b, "=", 1);
            base_buf_adds(b, sub[i]->value);
        }
    }
}

static bool hr_v2_matches(const struct hr_req *r, const char *res, const char *date,
                          const char *secret, const char *want)
{
    struct base_buf b = {0};
    uint8_t mac[20];
    unsigned int mlen = sizeof mac;
    char sig[40];
    hr_v2_string(r, res, date, &b);
    bool ok = !b.failed && b.p;
    if (ok) {
        HMAC(EVP_sha1(), secret, (int)strlen(secret), (const unsigned char *)b.p, b.len, mac,
             &mlen);
        hr_b64_encode(mac, sizeof mac, sig, sizeof sig);
        ok = strlen(want) == strlen(sig) && CRYPTO_memcmp(want, sig, strlen(sig)) == 0;
    }
    base_buf_free(&b);
    return ok;
}

/* Clients sign the path as they sent it, or decoded; virtual-host requests
 * sign "/bucket" before it. */
static bool hr_v2_verify(const struct hr_req *r, const char *date, const char *secret,
                         const char *want)
{
    if (hr_v2_matches(r, r->path, date, secret, want))
        return true;
    size_t n = strlen(r->bucket);
    char *alt = malloc(strlen(r->path) + n + 2);
    bool ok = false;
    if (alt) {
        snprintf(alt, strlen(r->path) + n + 2, "/%s%s", r->bucket, r->path);
        ok = r->bucket[0] && strncmp(r->path + 1, r->bucket, n) != 0 &&
             hr_v2_matches(r, alt, date, secret, want);
        if (!ok && !r->key && r->bucket[0]) { /* botocore signs "/bucket/" for "/bucket" */
            snprintf(alt, strlen(r->path) + n + 2, "/%s/", r->bucket);
            ok = strcmp(alt, r->path) != 0 && hr_v2_matches(r, alt, date, secret, want);
        }
        if (!ok && r->key) {
            snprintf(alt, strlen(r->path) + n + 2, "/%s/%s", r->bucket, r->key);
            ok = strcmp(alt, r->path) != 0 && hr_v2_matches(r, alt, date, secret, want);
        }
        free(alt);
    }
    return ok;
}

static bool hr_v2_fail(struct hr_req *r, const char *code, const char *msg)
{
    hr_count_auth_failure(r->srv);
    hr_error(r, 403, code, msg);
    return false;
}

bool hr_is_v2_query(const struct hr_req *r)
{
    return hr_has_q(r, "AWSAccessKeyId") && hr_has_q(r, "Signature");
}

static bool hr_v2_date(const char *v, int64_t *out)
{
    struct tm tm = {0};
    const char *end;
    if (!v)
        return false;
    end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end) {
        memset(&tm, 0, sizeof tm);
        end = strptime(v, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    }
    if (!end || *end)
        return false;
    *out = (int64_t)timegm(&tm);
    return true;
}

bool hr_auth_v2(struct hr_req *r)
{
    const struct fs3_http_config *c = hr_config(r->srv);
    const char *authz = hr_hdr(r, "Authorization"), *secret = NULL;
    char ak[128], sig[64], date[64];
    int64_t now = hr_wall_secs();
    if (authz) {
        const char *colon = strrchr(authz + 4, ':');
        size_t n = colon ? (size_t)(colon - (authz + 4)) : 0;
        if (!colon || n == 0 || n >= sizeof ak || strlen(colon + 1) >= sizeof sig)
            return hr_v2_fail(r, "AccessDenied", "malformed AWS Authorization header");
        memcpy(ak, authz + 4, n);
        ak[n] = '\0';
        snprintf(sig, sizeof sig, "%s", colon + 1);
        const char *xd = hr_hdr(r, "x-amz-date"), *d = xd ? xd : hr_hdr(r, "Date");
        int64_t t;
        if (!hr_v2_date(d, &t))
            return hr_v2_fail(r, "AccessDenied",
                              "AWS authentication requires a valid Date or x-amz-date header");
        if (t > now + c->max_skew_secs || t < now - c->max_skew_secs)
            return hr_v2_fail(r, "RequestTimeTooSkewed",
                              "The difference between the request time and the current time is "
                              "too large.");
        snprintf(date, sizeof date, "%s", xd ? "" : d);
    } else {
        const char *a = hr_q(r, "AWSAccessKeyId"), *s = hr_q(r, "Signature");
        long exp;
        if (strlen(a) >= sizeof ak || strlen(s) >= sizeof sig ||
            hr_q_int(r, "Expires", 0, LONG_MAX, &exp) != 0)
            return hr_v2_fail(r, "AccessDenied",
                              "Query-string authentication requires the Signature, Expires and "
                              "AWSAccessKeyId parameters");
        snprintf(ak, sizeof ak, "%s", a);
        snprintf(sig, sizeof sig, "%s", s);
        if (now > exp)
            return hr_v2_fail(r, "AccessDenied", "Request has expired");
        snprintf(date, sizeof date, "%ld", exp);
    }
    int u = hr_user_find(c, ak, &secret);
    if (!u)
        return hr_v2_fail(r, "InvalidAccessKeyId",
                          "The AWS Access Key Id you provided does not exist in our records.");
    if (!hr_v2_verify(r, date, secret, sig))
        return hr_v2_fail(r, "SignatureDoesNotMatch",
                          "The request signature we calculated does not match the signature you "
                          "provided. Check your key and signing method.");
    r->user = u;
    return true;
}
