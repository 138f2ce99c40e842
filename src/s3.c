/* s3.c - name tables, default codes and checksums of s3.h. */
#include "s3.h"
#include "buf.h"

#include <isa-l/crc.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const s3_op_names[] = {
#define S3_OP_NAME_(e, s) s,
    S3_OP_TABLE(S3_OP_NAME_)
#undef S3_OP_NAME_
};

static const char *const s3_code_names[] = {
#define S3_CODE_NAME_(e, s) s,
    S3_CODE_TABLE(S3_CODE_NAME_)
#undef S3_CODE_NAME_
};

static const char *const s3_job_names[] = {
#define S3_JOB_NAME_(e, s) s,
    S3_JOB_TABLE(S3_JOB_NAME_)
#undef S3_JOB_NAME_
};

static const char *const s3_cksum_names[] = {"NONE",   "MD5",  "CRC32C",   "CRC32",
                                              "SHA256", "SHA1", "CRC64NVME"};

const char *s3_op_name(enum s3_op op)
{
    return (unsigned)op < S3_OP_COUNT ? s3_op_names[op] : "?";
}

int s3_op_parse(const char *name)
{
    for (int i = 0; i < S3_OP_COUNT; i++)
        if (strcmp(name, s3_op_names[i]) == 0)
            return i;
    return -1;
}

const char *s3_code_name(enum s3_code code)
{
    return (unsigned)code < S3E_COUNT ? s3_code_names[code] : "UnknownError";
}

enum s3_code s3_code_parse(const char *name)
{
    if (!name || !*name)
        return S3E_NONE;
    for (int i = 1; i < S3E_COUNT; i++)
        if (strcmp(name, s3_code_names[i]) == 0)
            return (enum s3_code)i;
    return S3E_OTHER;
}

const char *s3_job_name(enum s3_job job)
{
    return (unsigned)job < S3_JOB_COUNT ? s3_job_names[job] : "?";
}

const char *s3_cksum_name(enum s3_cksum alg)
{
    return (unsigned)alg <= S3_CKSUM_LAST ? s3_cksum_names[alg] : "?";
}

int s3_cksum_parse(const char *name)
{
    for (int i = 0; i <= S3_CKSUM_LAST; i++)
        if (strcasecmp(name, s3_cksum_names[i]) == 0)
            return i;
    return -1;
}

enum s3_code s3_default_code(enum s3_op op, int status)
{
    switch (status) {
    case 404:
        if (op == S3_OP_MPU_PART || op == S3_OP_MPU_COPY || op == S3_OP_MPU_COMPLETE ||
            op == S3_OP_MPU_ABORT)
            return S3E_NO_SUCH_UPLOAD;
        return S3E_NO_SUCH_KEY;
    case 403: return S3E_ACCESS_DENIED;
    case 500: return S3E_INTERNAL_ERROR;
    case 503: return S3E_SLOW_DOWN;
    case 400: return S3E_INVALID_REQUEST;
    case 409:
        if (op == S3_OP_PUT || op == S3_OP_MPU_COMPLETE)
            return S3E_CONDITIONAL_CONFLICT;
        return S3E_OTHER;
    case 412: return S3E_PRECONDITION_FAILED;
    case 304: return S3E_NONE; /* Not Modified: an answer, not an error */
    default: return status >= 300 ? S3E_OTHER : S3E_NONE;
    }
}

bool s3_result_ok(const struct s3_result *res)
{
    return res->transport == S3_TR_OK && res->status >= 200 && res->status < 300 &&
           res->code == S3E_NONE;
}

void s3_result_synth(struct s3_result *res, enum s3_transport tr, int status, enum s3_code code,
                     const char *msg)
{
    memset(res, 0, sizeof *res);
    res->transport = tr;
    res->status = status;
    res->code = code;
    snprintf(res->message, sizeof res->message, "%s", msg);
}

static void s3_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* The digests, fetched from OpenSSL's default provider once per process.
 * Handing EVP_Digest the legacy EVP_md5() makes it fetch the provider's
 * implementation again on every call (a method-store lookup, an error-queue
 * mark, a reference taken and dropped), from every run thread at once; a
 * fetched EVP_MD is immutable and shared safely.  If a fetch fails (a
 * provider configuration without MD5), the legacy object is used. */
static EVP_MD *s3_md_md5, *s3_md_sha256, *s3_md_sha1;
static pthread_once_t s3_md_once = PTHREAD_ONCE_INIT;

static void s3_md_fetch(void)
{
    s3_md_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
    s3_md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    s3_md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
}

static const EVP_MD *s3_md(enum s3_cksum alg)
{
    pthread_once(&s3_md_once, s3_md_fetch);
    if (alg == S3_CKSUM_MD5)
        return s3_md_md5 ? s3_md_md5 : EVP_md5();
    if (alg == S3_CKSUM_SHA1)
        return s3_md_sha1 ? s3_md_sha1 : EVP_sha1();
    return s3_md_sha256 ? s3_md_sha256 : EVP_sha256();
}

static void s3_digest(const EVP_MD *md, const uint8_t *buf, size_t len, uint8_t *out)
{
    unsigned int n = 0;
    EVP_Digest(buf, len, out, &n, md, NULL);
}

/* CRC-64/NVME (S3's CRC64NVME): reflected, polynomial 0xad93d23594c93659,
 * initial value and final xor all ones.  A byte-wise table: this checksum
 * is only computed on what HTTP clients send. */
static uint64_t s3_crc64nvme_table[256];
static pthread_once_t s3_crc64_once = PTHREAD_ONCE_INIT;

static void s3_crc64nvme_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint64_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ UINT64_C(0x9a6c9329ac4bc9b5) : c >> 1;
        s3_crc64nvme_table[i] = c;
    }
}

static uint64_t s3_crc64nvme(const uint8_t *buf, size_t len)
{
    uint64_t c = ~UINT64_C(0);
    pthread_once(&s3_crc64_once, s3_crc64nvme_init);
    for (size_t i = 0; i < len; i++)
        c = s3_crc64nvme_table[(c ^ buf[i]) & 0xff] ^ (c >> 8);
    return ~c;
}

void s3_checksum_compute(enum s3_cksum alg, const uint8_t *buf, size_t len,
                         struct s3_checksum *out)
{
    uint64_t c64;
    uint32_t crc;
    memset(out, 0, sizeof *out);
    out->alg = alg;
    switch (alg) {
    case S3_CKSUM_NONE: break;
    case S3_CKSUM_MD5:
        s3_digest(s3_md(S3_CKSUM_MD5), buf, len, out->value);
        out->len = 16;
        break;
    case S3_CKSUM_SHA256:
        s3_digest(s3_md(S3_CKSUM_SHA256), buf, len, out->value);
        out->len = 32;
        break;
    case S3_CKSUM_SHA1:
        s3_digest(s3_md(S3_CKSUM_SHA1), buf, len, out->value);
        out->len = 20;
        break;
    case S3_CKSUM_CRC64NVME:
        c64 = s3_crc64nvme(buf, len);
        for (int i = 0; i < 8; i++)
            out->value[i] = (uint8_t)(c64 >> (56 - 8 * i));
        out->len = 8;
        break;
    case S3_CKSUM_CRC32C:
    case S3_CKSUM_CRC32:
        crc = 0;
        while (len > 0) {
            /* ISA-L takes an int length: feed it in 1 GiB slices. */
            int n = len > (1u << 30) ? (1 << 30) : (int)len;
            if (alg == S3_CKSUM_CRC32C)
                crc = ~crc32_iscsi((unsigned char *)buf, n, ~crc);
            else
                crc = crc32_gzip_refl(crc, (unsigned char *)buf, (uint64_t)n);
            buf += n;
            len -= (size_t)n;
        }
        s3_put_be32(out->value, crc);
        out->len = 4;
        break;
    }
}

void s3_checksum_buf(enum s3_cksum alg, struct buf *b, const uint8_t *p, size_t len,
                     struct s3_checksum *out)
{
    size_t off;
    if (alg == S3_CKSUM_NONE || !b || !buf_holds(b, p, len, &off)) {
        s3_checksum_compute(alg, p, len, out);
        return;
    }
    memset(out, 0, sizeof *out);
    out->alg = alg;
    out->len = (uint8_t)buf_memo_get(b, (int)alg, off, len, out->value, sizeof out->value);
    if (out->len)
        return;
    s3_checksum_compute(alg, p, len, out);
    buf_memo_put(b, (int)alg, off, len, out->value, out->len);
}

void s3_checksum_segs(enum s3_cksum alg, struct s3_seg *v, size_t n, struct s3_checksum *out)
{
    EVP_MD_CTX *x = NULL;
    uint64_t c64 = ~UINT64_C(0);
    uint32_t crc = 0;
    unsigned int dn = 0;
    bool md = alg == S3_CKSUM_MD5 || alg == S3_CKSUM_SHA256 || alg == S3_CKSUM_SHA1;
    for (size_t i = 0; i < n; i++)
        v[i].gen = v[i].b ? v[i].b->gen : 0;
    if (n == 1 || alg == S3_CKSUM_NONE) {
        s3_checksum_compute(alg, n ? v[0].p : NULL, n ? v[0].len : 0, out);
        return;
    }
    memset(out, 0, sizeof *out);
    out->alg = alg;
    if (md && (!(x = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(x, s3_md(alg), NULL))) {
        EVP_MD_CTX_free(x);
        out->alg = S3_CKSUM_NONE; /* out of memory: no checksum, never a wrong one */
        return;
    }
    if (alg == S3_CKSUM_CRC64NVME)
        pthread_once(&s3_crc64_once, s3_crc64nvme_init);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = v[i].p;
        size_t len = v[i].len;
        if (md) {
            EVP_DigestUpdate(x, p, len);
            continue;
        }
        if (alg == S3_CKSUM_CRC64NVME) {
            for (size_t k = 0; k < len; k++)
                c64 = s3_crc64nvme_table[(c64 ^ p[k]) & 0xff] ^ (c64 >> 8);
            continue;
        }
        while (len > 0) {
            int m = len > (1u << 30) ? (1 << 30) : (int)len;
            if (alg == S3_CKSUM_CRC32C)
                crc = ~crc32_iscsi((unsigned char *)p, m, ~crc);
            else
                crc = crc32_gzip_refl(crc, (unsigned char *)p, (uint64_t)m);
            p += m;
            len -= (size_t)m;
        }
    }
    if (md) {
        EVP_DigestFinal_ex(x, out->value, &dn);
        EVP_MD_CTX_free(x);
        out->len = (uint8_t)dn;
    } else if (alg == S3_CKSUM_CRC64NVME) {
        c64 = ~c64;
        for (int i = 0; i < 8; i++)
            out->value[i] = (uint8_t)(c64 >> (56 - 8 * i));
        out->len = 8;
    } else {
        s3_put_be32(out->value, crc);
        out->len = 4;
    }
}

void s3_checksum_req_segs(enum s3_cksum alg, const struct s3_req *req, struct s3_checksum *out)
{
    bool same = req->segs_memo.alg == alg && alg != S3_CKSUM_NONE;
    for (size_t i = 0; same && i < req->nsegs; i++)
        same = req->segs[i].b && req->segs[i].b->gen == req->segs[i].gen;
    if (same) {
        *out = req->segs_memo;
        return;
    }
    /* A segment's bytes changed (or no memo): compute over what is there
     * now, on a copy of the list (the request's is borrowed). */
    struct s3_seg one, *v = req->nsegs <= 1 ? &one : malloc(req->nsegs * sizeof *v);
    if (!v) {
        memset(out, 0, sizeof *out); /* out of memory: a checksum that matches nothing */
        out->alg = alg;
        return;
    }
    if (req->nsegs)
        memcpy(v, req->segs, req->nsegs * sizeof *v);
    s3_checksum_segs(alg, v, req->nsegs, out);
    if (v != &one)
        free(v);
}

bool s3_checksum_equal(const struct s3_checksum *a, const struct s3_checksum *b)
{
    return a->alg == b->alg && a->len == b->len && memcmp(a->value, b->value, a->len) == 0;
}

void s3_etag_md5(const uint8_t *buf, size_t len, char out[S3_ETAG_MAX])
{
    uint8_t d[16];
    s3_digest(s3_md(S3_CKSUM_MD5), buf, len, d);
    out[0] = '"';
    for (int i = 0; i < 16; i++)
        snprintf(out + 1 + 2 * i, 3, "%02x", d[i]);
    out[33] = '"';
    out[34] = 0;
}

int s3_result_flatten(struct s3_result *res)
{
    uint8_t *p;
    size_t at = 0;
    if (!res->segs)
        return 0;
    if (!(p = malloc(res->body_len ? res->body_len : 1)))
        return -1;
    for (size_t i = 0; i < res->nsegs; i++) {
        memcpy(p + at, res->segs[i].p, res->segs[i].len);
        at += res->segs[i].len;
        buf_unref(res->segs[i].b);
    }
    free(res->segs);
    res->segs = NULL;
    res->nsegs = 0;
    res->body = p;
    return 0;
}

void s3_result_cleanup(struct s3_result *res)
{
    for (size_t i = 0; i < res->nsegs; i++)
        buf_unref(res->segs[i].b);
    free(res->segs);
    res->segs = NULL;
    res->nsegs = 0;
    if (res->body_ref)
        buf_unref(res->body_ref);
    else
        free(res->body);
    res->body = NULL;
    res->body_ref = NULL;
    res->body_len = 0;
    for (size_t i = 0; i < res->nentries; i++) {
        free(res->entries[i].key);
        free(res->entries[i].upload_id);
    }
    free(res->entries);
    res->entries = NULL;
    res->nentries = 0;
    free(res->deleted);
    res->deleted = NULL;
    res->ndeleted = 0;
}
