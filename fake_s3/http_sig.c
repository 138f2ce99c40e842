/* http_sig.c - the fake S3's SigV4 verifier and aws-chunked decoder (see http_sig.h). */
#include "http_sig.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "err.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define FS3_SIG_MAX_PAIRS 128

static void hs_hex(const uint8_t *b, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[b[i] >> 4];
        out[2 * i + 1] = d[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static void hs_sha256_hex(const void *buf, size_t len, char out[FS3_SIG_HEX])
{
    uint8_t md[32];
    unsigned int n = 0;
    EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL);
    hs_hex(md, 32, out);
}

static void hs_hmac(const void *k, size_t kl, const void *m, size_t ml, uint8_t out[32])
{
    unsigned int n = 32;
    HMAC(EVP_sha256(), k, (int)kl, m, ml, out, &n);
}

/* A small growable string; once failed, it stays failed. */
struct hs_str {
    char *p;
    size_t len, cap;
    bool bad;
};

static void hs_add(struct hs_str *s, const char *src, size_t n)
{
    if (s->bad)
        return;
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 512;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *p = realloc(s->p, cap);
        if (!p) {
            s->bad = true;
            return;
        }
        s->p = p;
        s->cap = cap;
    }
    memcpy(s->p + s->len, src, n);
    s->len += n;
    s->p[s->len] = '\0';
}

static void hs_adds(struct hs_str *s, const char *src)
{
    hs_add(s, src, strlen(src));
}

static int hs_xval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes then strictly re-encodes s[0..n) onto out. */
static int hs_add_recoded(struct hs_str *out, const char *s, size_t n)
{
    static const char d[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            int hi = i + 2 < n ? hs_xval(s[i + 1]) : -1;
            int lo = i + 2 < n ? hs_xval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return ERR_INVAL;
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        }
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            char ch = (char)c;
            hs_add(out, &ch, 1);
        } else {
            char e[3] = {'%', d[c >> 4], d[c & 15]};
            hs_add(out, e, 3);
        }
    }
    return 0;
}

static int hs_strp_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The canonical query: pairs re-encoded as "name=value", sorted (a '=' sorts
 * before every encoded character, so sorting the joined pair sorts by name
 * then value), X-Amz-Signature left out. */
static int hs_canonical_query(const char *q, struct hs_str *out)
{
    char *pairs[FS3_SIG_MAX_PAIRS];
    size_t n = 0;
    int rc = 0;
    for (const char *p = q ? q : ""; *p;) {
        size_t len = strcspn(p, "&");
        const char *eq = memchr(p, '=', len);
        size_t nl = eq ? (size_t)(eq - p) : len;
        if (len && !(nl == 15 && memcmp(p, "X-Amz-Signature", 15) == 0)) {
            struct hs_str one = {0};
            if (n == FS3_SIG_MAX_PAIRS) {
                rc = ERR_LIMIT;
                break;
            }
            rc = hs_add_recoded(&one, p, nl);
            hs_adds(&one, "=");
            if (!rc && eq)
                rc = hs_add_recoded(&one, eq + 1, len - nl - 1);
            if (rc || one.bad) {
                free(one.p);
                rc = rc ? rc : ERR_NOMEM;
                break;
            }
            pairs[n++] = one.p;
        }
        p += len + (p[len] == '&');
    }
    if (!rc)
        qsort(pairs, n, sizeof pairs[0], hs_strp_cmp);
    for (size_t i = 0; i < n; i++) {
        if (!rc) {
            if (i)
                hs_adds(out, "&");
            hs_adds(out, pairs[i]);
        }
        free(pairs[i]);
    }
    return rc;
}

/* Appends "name:value\n" for the signed header name (its values joined with
 * ',', each trimmed and with inner runs of blanks collapsed). */
static int hs_add_header(struct hs_str *out, const struct fs3_sig_input *in, const char *name,
                         size_t nl)
{
    bool found = false;
    hs_add(out, name, nl);
    hs_adds(out, ":");
    for (size_t i = 0; i < in->nheaders; i++) {
        const char *v = in->headers[i].value ? in->headers[i].value : "";
        if (strlen(in->headers[i].name) != nl || strncasecmp(in->headers[i].name, name, nl))
            continue;
        if (found)
            hs_adds(out, ",");
        found = true;
        bool blank = false, started = false;
        for (; *v; v++) {
            if (*v == ' ' || *v == '\t') {
                blank = started;
                continue;
            }
            if (blank)
                hs_adds(out, " ");
            hs_add(out, v, 1);
            blank = false;
            started = true;
        }
    }
    hs_adds(out, "\n");
    return found ? 0 : ERR_INVAL;
}

void fs3_sig_chunk(const uint8_t key[32], const char *amz_date, const char *scope, const char *prev,
                   const void *chunk, size_t len, char out[FS3_SIG_HEX])
{
    char h[FS3_SIG_HEX], sts[512];
    uint8_t mac[32];
    hs_sha256_hex(chunk, len, h);
    int n = snprintf(sts, sizeof sts,
                     "AWS4-HMAC-SHA256-PAYLOAD\n%s\n%s\n%s\n"
                     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n%s",
                     amz_date, scope, prev, h);
    hs_hmac(key, 32, sts, n > 0 && (size_t)n < sizeof sts ? (size_t)n : 0, mac);
    hs_hex(mac, 32, out);
}

/* The signing key is a function of (secret, date, region, service) alone: a
 * client's requests of one day all use the same.  The last one is kept per
 * thread (the front's connections may run on several; no locks, no
 * allocation), which saves four HMACs of five per request.  Fields too long
 * for the cache are never cached. */
static _Thread_local struct {
    bool ok;
    char secret[128], date8[9], region[64], service[32];
    uint8_t key[32];
} hs_kc;

static void hs_signing_key(const char *secret, const struct fs3_sig_input *in, uint8_t key[32])
{
    bool fits = strnlen(secret, sizeof hs_kc.secret) < sizeof hs_kc.secret &&
                strnlen(in->region, sizeof hs_kc.region) < sizeof hs_kc.region &&
                strnlen(in->service, sizeof hs_kc.service) < sizeof hs_kc.service;
    if (fits && hs_kc.ok && strncmp(hs_kc.date8, in->amz_date, 8) == 0 &&
        strcmp(hs_kc.secret, secret) == 0 && strcmp(hs_kc.region, in->region) == 0 &&
        strcmp(hs_kc.service, in->service) == 0) {
        memcpy(key, hs_kc.key, 32);
        return;
    }
    char k0[300];
    int n = snprintf(k0, sizeof k0, "AWS4%s", secret);
    size_t kl = n < 0 ? 0 : (size_t)n >= sizeof k0 ? sizeof k0 - 1 : (size_t)n;
    hs_hmac(k0, kl, in->amz_date, 8, key);
    hs_hmac(key, 32, in->region, strlen(in->region), key);
    hs_hmac(key, 32, in->service, strlen(in->service), key);
    hs_hmac(key, 32, "aws4_request", 12, key);
    if (fits) {
        strcpy(hs_kc.secret, secret);
        memcpy(hs_kc.date8, in->amz_date, 8);
        hs_kc.date8[8] = 0;
        strcpy(hs_kc.region, in->region);
        strcpy(hs_kc.service, in->service);
        memcpy(hs_kc.key, key, 32);
        hs_kc.ok = true;
    }
}

int fs3_sig_compute(const struct fs3_sig_input *in, const char *secret, char sig[FS3_SIG_HEX],
                    uint8_t key[32])
{
    struct hs_str cr = {0};
    char h[FS3_SIG_HEX], sts[512];
    uint8_t mac[32];
    int rc, n;
    if (!in->amz_date || strlen(in->amz_date) != 16 || !in->signed_headers)
        return ERR_INVAL;
    hs_adds(&cr, in->method);
    hs_adds(&cr, "\n");
    hs_adds(&cr, in->uri && *in->uri ? in->uri : "/");
    hs_adds(&cr, "\n");
    rc = hs_canonical_query(in->query, &cr);
    hs_adds(&cr, "\n");
    for (const char *p = in->signed_headers; !rc && *p;) {
        size_t len = strcspn(p, ";");
        rc = len ? hs_add_header(&cr, in, p, len) : ERR_INVAL;
        p += len + (p[len] == ';');
    }
    hs_adds(&cr, "\n");
    hs_adds(&cr, in->signed_headers);
    hs_adds(&cr, "\n");
    hs_adds(&cr, in->payload_hash ? in->payload_hash : "UNSIGNED-PAYLOAD");
    if (!rc && cr.bad)
        rc = ERR_NOMEM;
    if (!rc) {
        hs_sha256_hex(cr.p, cr.len, h);
        n = snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%.8s/%s/%s/aws4_request\n%s",
                     in->amz_date, in->amz_date, in->region, in->service, h);
        if (n < 0 || (size_t)n >= sizeof sts)
            rc = ERR_LIMIT;
        else {
            hs_signing_key(secret, in, key);
            hs_hmac(key, 32, sts, (size_t)n, mac);
            hs_hex(mac, 32, sig);
        }
    }
    free(cr.p);
    return rc;
}

bool fs3_sig_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    return la == lb && CRYPTO_memcmp(a, b, la) == 0;
}

int fs3_sig_parse_date(const char *d, int64_t *unix_secs)
{
    struct tm tm = {0};
    if (!d || strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z')
        return ERR_INVAL;
    for (int i = 0; i < 15; i++)
        if (i != 8 && (d[i] < '0' || d[i] > '9'))
            return ERR_INVAL;
    if (sscanf(d, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) != 6)
        return ERR_INVAL;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *unix_secs = (int64_t)timegm(&tm);
    return 0;
}

/* Splits "AK/20130524/us-east-1/s3/aws4_request" (len bytes) into out. */
static int hs_parse_credential(const char *c, size_t len, struct fs3_sig_auth *out)
{
    char buf[512], *parts[5];
    int n = 0;
    if (len >= sizeof buf)
        return ERR_LIMIT;
    memcpy(buf, c, len);
    buf[len] = '\0';
    /* The access key may not hold '/', so split from the left. */
    for (char *p = buf, *s; n < 5 && p; p = s) {
        s = strchr(p, '/');
        if (s)
            *s++ = '\0';
        parts[n++] = p;
    }
    if (n != 5 || strcmp(parts[4], "aws4_request") || strlen(parts[1]) != 8 ||
        strlen(parts[0]) >= sizeof out->access_key || strlen(parts[2]) >= sizeof out->region ||
        strlen(parts[3]) >= sizeof out->service || !*parts[0])
        return ERR_INVAL;
    strcpy(out->access_key, parts[0]);
    strcpy(out->date8, parts[1]);
    strcpy(out->region, parts[2]);
    strcpy(out->service, parts[3]);
    return 0;
}

/* Copies the value of "name=" within [p, end) up to ',' into dst. */
static int hs_auth_field(const char *h, const char *name, char *dst, size_t dsz, const char **val,
                         size_t *vlen)
{
    const char *p = strstr(h, name);
    size_t len;
    if (!p)
        return ERR_INVAL;
    p += strlen(name);
    len = strcspn(p, ", ");
    if (val) {
        *val = p;
        *vlen = len;
        return 0;
    }
    if (len >= dsz)
        return ERR_LIMIT;
    memcpy(dst, p, len);
    dst[len] = '\0';
    return 0;
}

int fs3_sig_parse_auth(const char *h, struct fs3_sig_auth *out)
{
    const char *cred;
    size_t clen;
    int rc;
    memset(out, 0, sizeof *out);
    if (strncmp(h, "AWS4-HMAC-SHA256 ", 17) != 0)
        return ERR_INVAL;
    rc = hs_auth_field(h, "Credential=", NULL, 0, &cred, &clen);
    if (!rc)
        rc = hs_parse_credential(cred, clen, out);
    if (!rc)
        rc = hs_auth_field(h, "SignedHeaders=", out->signed_headers, sizeof out->signed_headers,
                           NULL, NULL);
    if (!rc)
        rc = hs_auth_field(h, "Signature=", out->signature, sizeof out->signature, NULL, NULL);
    return rc;
}

/* Finds name=value in a raw query and decodes value into dst. */
static int hs_query_get(const char *q, const char *name, char *dst, size_t dsz)
{
    size_t nl = strlen(name);
    for (const char *p = q; p && *p;) {
        size_t len = strcspn(p, "&");
        if (len > nl && p[nl] == '=' && memcmp(p, name, nl) == 0) {
            size_t o = 0;
            for (size_t i = nl + 1; i < len; i++) {
                char c = p[i];
                if (c == '%') {
                    int hi = i + 2 < len ? hs_xval(p[i + 1]) : -1;
                    int lo = i + 2 < len ? hs_xval(p[i + 2]) : -1;
                    if (hi < 0 || lo < 0)
                        return ERR_INVAL;
                    c = (char)(hi * 16 + lo);
                    i += 2;
                }
                if (o + 1 >= dsz)
                    return ERR_LIMIT;
                dst[o++] = c;
            }
            dst[o] = '\0';
            return 0;
        }
        p += len + (p[len] == '&');
    }
    return ERR_NOTFOUND;
}

int fs3_sig_parse_presigned(const char *q, struct fs3_sig_auth *out)
{
    char alg[32], cred[512], exp[24];
    int rc;
    memset(out, 0, sizeof *out);
    rc = hs_query_get(q, "X-Amz-Algorithm", alg, sizeof alg);
    if (!rc && strcmp(alg, "AWS4-HMAC-SHA256") != 0)
        rc = ERR_INVAL;
    if (!rc)
        rc = hs_query_get(q, "X-Amz-Credential", cred, sizeof cred);
    if (!rc)
        rc = hs_parse_credential(cred, strlen(cred), out);
    if (!rc)
        rc = hs_query_get(q, "X-Amz-Date", out->amz_date, sizeof out->amz_date);
    if (!rc)
        rc = hs_query_get(q, "X-Amz-Expires", exp, sizeof exp);
    if (!rc)
        rc =
            hs_query_get(q, "X-Amz-SignedHeaders", out->signed_headers, sizeof out->signed_headers);
    if (!rc)
        rc = hs_query_get(q, "X-Amz-Signature", out->signature, sizeof out->signature);
    if (!rc) {
        char *end;
        long long e = strtoll(exp, &end, 10);
        if (*end || e < 1 || e > 604800)
            return ERR_INVAL;
        out->expires = e;
    }
    return rc == ERR_NOTFOUND ? ERR_INVAL : rc;
}

/* Reads one line ending in CRLF at body[*pos..len); returns its length. */
static int hs_line(const uint8_t *body, size_t len, size_t *pos, const char **line)
{
    for (size_t i = *pos; i + 1 < len; i++) {
        if (body[i] == '\r' && body[i + 1] == '\n') {
            *line = (const char *)body + *pos;
            int n = (int)(i - *pos);
            *pos = i + 2;
            return n;
        }
        if (i - *pos > 4096)
            return ERR_INVAL;
    }
    return ERR_INVAL;
}

/* Parses "hex[;chunk-signature=sig]" (n bytes). */
static int hs_chunk_head(const char *l, int n, size_t *size, char sig[FS3_SIG_HEX])
{
    size_t v = 0;
    int i = 0;
    sig[0] = '\0';
    for (; i < n && hs_xval(l[i]) >= 0; i++) {
        if (v > (SIZE_MAX >> 5))
            return ERR_INVAL;
        v = v * 16 + (size_t)hs_xval(l[i]);
    }
    if (i == 0)
        return ERR_INVAL;
    if (i < n) {
        static const char key[] = ";chunk-signature=";
        if (n - i != (int)(sizeof key - 1) + 64 || memcmp(l + i, key, sizeof key - 1))
            return ERR_INVAL;
        memcpy(sig, l + i + sizeof key - 1, 64);
        sig[64] = '\0';
    }
    *size = v;
    return 0;
}

/* Copies the trailer lines after the last chunk into trailers. */
static int hs_trailers(const uint8_t *body, size_t len, size_t pos, char *tr, size_t trsz)
{
    size_t o = 0;
    if (trsz)
        tr[0] = '\0';
    for (;;) {
        const char *l;
        int n = hs_line(body, len, &pos, &l);
        if (n < 0)
            return pos >= len ? 0 : ERR_INVAL; /* a missing final CRLF is tolerated */
        if (n == 0)
            return 0;
        if (o + (size_t)n + 2 < trsz) {
            memcpy(tr + o, l, (size_t)n);
            o += (size_t)n;
            tr[o++] = '\n';
            tr[o] = '\0';
        }
    }
}

int fs3_sig_dechunk(const struct fs3_chunk_ctx *ctx, uint8_t *body, size_t *len, char *trailers,
                    size_t trailers_sz)
{
    size_t pos = 0, out = 0, total = *len;
    char prev[FS3_SIG_HEX], sig[FS3_SIG_HEX], want[FS3_SIG_HEX];
    if (ctx->key)
        snprintf(prev, sizeof prev, "%s", ctx->seed);
    for (;;) {
        const char *l;
        size_t size;
        int n = hs_line(body, total, &pos, &l);
        if (n < 0 || hs_chunk_head(l, n, &size, sig))
            return ERR_INVAL;
        if (size > total - pos)
            return ERR_INVAL;
        if (ctx->key) {
            if (!sig[0])
                return ERR_INVAL;
            fs3_sig_chunk(ctx->key, ctx->amz_date, ctx->scope, prev, body + pos, size, want);
            if (!fs3_sig_equal(want, sig))
                return ERR_CHECKSUM;
            memcpy(prev, want, sizeof prev);
        }
        memmove(body + out, body + pos, size);
        out += size;
        pos += size;
        if (size == 0) {
            int rc = hs_trailers(body, total, pos, trailers, trailers_sz);
            *len = out;
            return rc;
        }
        if (pos + 2 > total || body[pos] != '\r' || body[pos + 1] != '\n')
            return ERR_INVAL;
        pos += 2;
    }
}
