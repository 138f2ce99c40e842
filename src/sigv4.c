/* sigv4.c - AWS Signature Version 4 (see sigv4.h). */
#include "sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base_buf.h"
#include "err.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SIGV4_MAX_HEADERS 64
#define SIGV4_MAX_PAIRS 256

/* Ends the buffer: returns 0 with *out owning the string, or ERR_NOMEM (an
 * add failed, or an over-long encoded value marked it failed). */
static int sv_take(struct base_buf *b, char **out)
{
    *out = base_buf_take(b, NULL);
    return *out ? 0 : ERR_NOMEM;
}

void sigv4_hex(const uint8_t *buf, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[buf[i] >> 4];
        out[2 * i + 1] = digits[buf[i] & 15];
    }
    out[2 * n] = '\0';
}

void sigv4_sha256_hex(const void *buf, size_t len, char out[SIGV4_HEX])
{
    uint8_t md[32];
    unsigned int n = 0;
    EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL);
    sigv4_hex(md, 32, out);
}

void sigv4_hmac(const void *key, size_t keylen, const void *msg, size_t len, uint8_t out[32])
{
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, (int)keylen, msg, len, out, &n);
}

/* The signing key is a function of (secret, date, region, service) alone,
 * so a client derives it once a day: the last one is kept, per thread (no
 * locks, no allocation), and four HMACs of five are saved per request.  A
 * field too long for the cache is never cached. */
static _Thread_local struct {
    bool ok;
    char secret[128], date8[9], region[64], service[32];
    uint8_t key[32];
} sigv4_kc;

static bool sigv4_kc_fits(const char *s, size_t cap)
{
    return strnlen(s, cap) < cap;
}

void sigv4_signing_key(const char *secret, const char *date8, const char *region,
                       const char *service, uint8_t out[32])
{
    bool fits = sigv4_kc_fits(secret, sizeof sigv4_kc.secret) &&
                sigv4_kc_fits(region, sizeof sigv4_kc.region) &&
                sigv4_kc_fits(service, sizeof sigv4_kc.service);
    if (fits && sigv4_kc.ok && strncmp(sigv4_kc.date8, date8, 8) == 0 &&
        strcmp(sigv4_kc.secret, secret) == 0 && strcmp(sigv4_kc.region, region) == 0 &&
        strcmp(sigv4_kc.service, service) == 0) {
        memcpy(out, sigv4_kc.key, 32);
        return;
    }
    char k0[256];
    uint8_t k[32];
    int n = snprintf(k0, sizeof k0, "AWS4%s", secret);
    size_t klen = n < 0 ? 0 : (size_t)n >= sizeof k0 ? sizeof k0 - 1 : (size_t)n;
    sigv4_hmac(k0, klen, date8, 8, k);
    sigv4_hmac(k, 32, region, strlen(region), k);
    sigv4_hmac(k, 32, service, strlen(service), k);
    sigv4_hmac(k, 32, "aws4_request", 12, out);
    if (fits) {
        strcpy(sigv4_kc.secret, secret);
        memcpy(sigv4_kc.date8, date8, 8);
        sigv4_kc.date8[8] = 0;
        strcpy(sigv4_kc.region, region);
        strcpy(sigv4_kc.service, service);
        memcpy(sigv4_kc.key, out, 32);
        sigv4_kc.ok = true;
    }
}

int sigv4_scope(const char *amz_date, const char *region, const char *service, char *out,
                size_t outsz)
{
    int n = snprintf(out, outsz, "%.8s/%s/%s/aws4_request", amz_date, region, service);
    return n < 0 || (size_t)n >= outsz ? ERR_LIMIT : 0;
}

void sigv4_amz_date(int64_t unix_secs, char out[SIGV4_DATE])
{
    time_t t = (time_t)unix_secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, SIGV4_DATE, "%Y%m%dT%H%M%SZ", &tm);
}

static bool sv_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

int sigv4_uri_encode(const char *s, size_t len, bool keep_slash, char *out, size_t outsz)
{
    static const char digits[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (sv_unreserved(c) || (keep_slash && c == '/')) {
            if (o + 1 >= outsz)
                return ERR_LIMIT;
            out[o++] = (char)c;
        } else {
            if (o + 3 >= outsz)
                return ERR_LIMIT;
            out[o++] = '%';
            out[o++] = digits[c >> 4];
            out[o++] = digits[c & 15];
        }
    }
    if (o >= outsz)
        return ERR_LIMIT;
    out[o] = '\0';
    return (int)o;
}

static int sv_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int sigv4_uri_decode(const char *s, size_t len, char *out, size_t outsz)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= len)
                return ERR_INVAL;
            hi = sv_hexval(s[i + 1]);
            lo = sv_hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return ERR_INVAL;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (o + 1 >= outsz)
            return ERR_LIMIT;
        out[o++] = c;
    }
    if (o >= outsz)
        return ERR_LIMIT;
    out[o] = '\0';
    return (int)o;
}

/* One query pair, encoded canonically. */
struct sv_pair {
    char *name;
    char *value;
};

static int sv_pair_cmp(const void *a, const void *b)
{
    const struct sv_pair *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

/* Decodes then strictly encodes len bytes of s into a malloc'ed string. */
static int sv_recode(const char *s, size_t len, char **out)
{
    size_t cap = 3 * len + 1;
    char *tmp = malloc(len + 1), *enc = malloc(cap);
    int n, rc = ERR_NOMEM;
    *out = NULL;
    if (!tmp || !enc)
        goto out;
    n = sigv4_uri_decode(s, len, tmp, len + 1);
    if (n < 0) {
        rc = n;
        goto out;
    }
    n = sigv4_uri_encode(tmp, (size_t)n, false, enc, cap);
    if (n < 0) {
        rc = n;
        goto out;
    }
    *out = enc;
    enc = NULL;
    rc = 0;
out:
    free(tmp);
    free(enc);
    return rc;
}

static void sv_pairs_free(struct sv_pair *pairs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(pairs[i].name);
        free(pairs[i].value);
    }
    free(pairs);
}

/* Splits query into canonically encoded pairs (skipping the one named skip). */
static int sv_split_query(const char *query, const char *skip, struct sv_pair **out, size_t *np)
{
    struct sv_pair *pairs = calloc(SIGV4_MAX_PAIRS, sizeof *pairs);
    size_t n = 0;
    int rc = 0;
    const char *p = query ? query : "";
    if (!pairs)
        return ERR_NOMEM;
    while (*p) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t nlen = eq ? (size_t)(eq - p) : len;
        if (len > 0 && !(skip && strlen(skip) == nlen && memcmp(p, skip, nlen) == 0)) {
            if (n == SIGV4_MAX_PAIRS) {
                rc = ERR_LIMIT;
                break;
            }
            rc = sv_recode(p, nlen, &pairs[n].name);
            if (!rc)
                rc = eq ? sv_recode(eq + 1, len - nlen - 1, &pairs[n].value)
                        : sv_recode("", 0, &pairs[n].value);
            n++;
            if (rc)
                break;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    if (rc) {
        sv_pairs_free(pairs, n);
        return rc;
    }
    *out = pairs;
    *np = n;
    return 0;
}

int sigv4_canonical_query(const char *query, const char *skip, char **out)
{
    struct sv_pair *pairs = NULL;
    size_t n = 0;
    struct base_buf b = {0};
    int rc = sv_split_query(query, skip, &pairs, &n);
    *out = NULL;
    if (rc)
        return rc;
    qsort(pairs, n, sizeof *pairs, sv_pair_cmp);
    base_buf_adds(&b, "");
    for (size_t i = 0; i < n; i++) {
        if (i)
            base_buf_adds(&b, "&");
        base_buf_adds(&b, pairs[i].name);
        base_buf_adds(&b, "=");
        base_buf_adds(&b, pairs[i].value);
    }
    sv_pairs_free(pairs, n);
    return sv_take(&b, out);
}

/* One header, lower-cased name, in its original position (for a stable sort). */
struct sv_hdr {
    char name[128];
    const char *value;
    size_t pos;
};

static int sv_hdr_cmp(const void *a, const void *b)
{
    const struct sv_hdr *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Appends value trimmed, with inner runs of spaces and tabs as one space. */
static void sv_put_trimmed(struct base_buf *b, const char *v)
{
    bool space = false, started = false;
    for (; *v; v++) {
        if (*v == ' ' || *v == '\t') {
            space = started;
            continue;
        }
        if (space)
            base_buf_add(b, " ", 1);
        base_buf_add(b, v, 1);
        space = false;
        started = true;
    }
}

/* Sorts and lower-cases r's headers into hs.  Returns the count or an error. */
static int sv_sort_headers(const struct sigv4_req *r, struct sv_hdr *hs)
{
    if (r->nheaders > SIGV4_MAX_HEADERS)
        return ERR_LIMIT;
    for (size_t i = 0; i < r->nheaders; i++) {
        size_t len = strlen(r->headers[i].name);
        if (len == 0 || len >= sizeof hs[i].name)
            return ERR_INVAL;
        for (size_t j = 0; j <= len; j++) {
            char c = r->headers[i].name[j];
            hs[i].name[j] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        hs[i].value = r->headers[i].value ? r->headers[i].value : "";
        hs[i].pos = i;
    }
    qsort(hs, r->nheaders, sizeof *hs, sv_hdr_cmp);
    return (int)r->nheaders;
}

int sigv4_canonical_request(const struct sigv4_req *r, char **out, char *signed_headers,
                            size_t shsz)
{
    struct sv_hdr hs[SIGV4_MAX_HEADERS];
    struct base_buf b = {0}, sh = {0};
    char *cq = NULL;
    int n, rc;
    *out = NULL;
    n = sv_sort_headers(r, hs);
    if (n < 0)
        return n;
    rc = sigv4_canonical_query(r->query, NULL, &cq);
    if (rc)
        return rc;
    base_buf_adds(&b, r->method);
    base_buf_adds(&b, "\n");
    base_buf_adds(&b, r->uri && *r->uri ? r->uri : "/");
    base_buf_adds(&b, "\n");
    base_buf_adds(&b, cq);
    base_buf_adds(&b, "\n");
    free(cq);
    for (int i = 0; i < n; i++) {
        bool same = i > 0 && strcmp(hs[i].name, hs[i - 1].name) == 0;
        if (same) {
            base_buf_adds(&b, ",");
        } else {
            if (i > 0)
                base_buf_adds(&b, "\n");
            base_buf_adds(&b, hs[i].name);
            base_buf_adds(&b, ":");
            if (sh.len)
                base_buf_adds(&sh, ";");
            base_buf_adds(&sh, hs[i].name);
        }
        sv_put_trimmed(&b, hs[i].value);
    }
    base_buf_adds(&b, n > 0 ? "\n\n" : "\n");
    base_buf_adds(&sh, "");
    base_buf_adds(&b, sh.failed ? "" : sh.p);
    base_buf_adds(&b, "\n");
    base_buf_adds(&b, r->payload_hash);
    rc = sh.failed ? ERR_NOMEM : strlen(sh.p) >= shsz ? ERR_LIMIT : 0;
    if (!rc)
        memcpy(signed_headers, sh.p, strlen(sh.p) + 1);
    free(sh.p);
    if (rc) {
        free(b.p);
        return rc;
    }
    return sv_take(&b, out);
}

/* The signature of a canonical request. */
static int sv_sign_creq(const char *creq, const char *amz_date, const struct sigv4_key *k,
                        char sig[SIGV4_HEX])
{
    char scope[SIGV4_SCOPE_MAX], hash[SIGV4_HEX], sts[512];
    uint8_t key[32], mac[32];
    int n;
    if (strlen(amz_date) != 16)
        return ERR_INVAL;
    if (sigv4_scope(amz_date, k->region, k->service, scope, sizeof scope))
        return ERR_LIMIT;
    sigv4_sha256_hex(creq, strlen(creq), hash);
    n = snprintf(sts, sizeof sts, "%s\n%s\n%s\n%s", SIGV4_ALGORITHM, amz_date, scope, hash);
    if (n < 0 || (size_t)n >= sizeof sts)
        return ERR_LIMIT;
    sigv4_signing_key(k->secret_key, amz_date, k->region, k->service, key);
    sigv4_hmac(key, 32, sts, (size_t)n, mac);
    sigv4_hex(mac, 32, sig);
    return 0;
}

int sigv4_signature(const struct sigv4_req *r, const struct sigv4_key *k, char sig[SIGV4_HEX])
{
    char sh[1024], *creq = NULL;
    int rc = sigv4_canonical_request(r, &creq, sh, sizeof sh);
    if (rc)
        return rc;
    rc = sv_sign_creq(creq, r->amz_date, k, sig);
    free(creq);
    return rc;
}

int sigv4_authorization(const struct sigv4_req *r, const struct sigv4_key *k, char *out,
                        size_t outsz, char sig[SIGV4_HEX])
{
    char sh[1024], scope[SIGV4_SCOPE_MAX], s[SIGV4_HEX], *creq = NULL;
    int n, rc = sigv4_canonical_request(r, &creq, sh, sizeof sh);
    if (rc)
        return rc;
    rc = sv_sign_creq(creq, r->amz_date, k, s);
    free(creq);
    if (rc)
        return rc;
    if (sigv4_scope(r->amz_date, k->region, k->service, scope, sizeof scope))
        return ERR_LIMIT;
    n = snprintf(out, outsz, "%s Credential=%s/%s,SignedHeaders=%s,Signature=%s", SIGV4_ALGORITHM,
                 k->access_key, scope, sh, s);
    if (n < 0 || (size_t)n >= outsz)
        return ERR_LIMIT;
    if (sig)
        memcpy(sig, s, SIGV4_HEX);
    return 0;
}

/* Appends "&name=value" (value strictly encoded) to b. */
static void sv_put_param(struct base_buf *b, const char *name, const char *value)
{
    char enc[1024];
    int n = sigv4_uri_encode(value, strlen(value), false, enc, sizeof enc);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if (b->len)
        base_buf_adds(b, "&");
    base_buf_adds(b, name);
    base_buf_adds(b, "=");
    base_buf_add(b, enc, (size_t)n);
}

int sigv4_presign(const struct sigv4_req *r, const struct sigv4_key *k, int expires_secs,
                  char **out)
{
    struct sigv4_req pr = *r;
    struct base_buf q = {0};
    char sh[1024], scope[SIGV4_SCOPE_MAX], cred[512], exp[24], sig[SIGV4_HEX], *creq = NULL;
    int rc;
    *out = NULL;
    /* The signed-headers list comes from the canonical request of the headers. */
    pr.query = NULL;
    pr.payload_hash = SIGV4_UNSIGNED_PAYLOAD;
    rc = sigv4_canonical_request(&pr, &creq, sh, sizeof sh);
    free(creq);
    creq = NULL;
    if (rc)
        return rc;
    if (sigv4_scope(r->amz_date, k->region, k->service, scope, sizeof scope))
        return ERR_LIMIT;
    snprintf(cred, sizeof cred, "%s/%s", k->access_key, scope);
    snprintf(exp, sizeof exp, "%d", expires_secs);
    if (r->query && *r->query)
        base_buf_adds(&q, r->query);
    sv_put_param(&q, "X-Amz-Algorithm", SIGV4_ALGORITHM);
    sv_put_param(&q, "X-Amz-Credential", cred);
    sv_put_param(&q, "X-Amz-Date", r->amz_date);
    sv_put_param(&q, "X-Amz-Expires", exp);
    sv_put_param(&q, "X-Amz-SignedHeaders", sh);
    if (q.failed) {
        free(q.p);
        return ERR_NOMEM;
    }
    pr.query = q.p;
    rc = sigv4_canonical_request(&pr, &creq, sh, sizeof sh);
    if (!rc)
        rc = sv_sign_creq(creq, r->amz_date, k, sig);
    free(creq);
    if (!rc)
        sv_put_param(&q, "X-Amz-Signature", sig);
    if (rc) {
        free(q.p);
        return rc;
    }
    return sv_take(&q, out);
}

void sigv4_chunk_signature(const uint8_t key[32], const char *amz_date, const char *scope,
                           const char *prev_sig, const void *chunk, size_t len, char out[SIGV4_HEX])
{
    char hash[SIGV4_HEX], sts[512];
    uint8_t mac[32];
    int n;
    sigv4_sha256_hex(chunk, len, hash);
    n = snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256-PAYLOAD\n%s\n%s\n%s\n%s\n%s", amz_date, scope,
                 prev_sig, SIGV4_EMPTY_SHA256, hash);
    if (n < 0 || (size_t)n >= sizeof sts)
        n = (int)sizeof sts - 1;
    sigv4_hmac(key, 32, sts, (size_t)n, mac);
    sigv4_hex(mac, 32, out);
}
