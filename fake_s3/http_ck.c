/* http_ck.c - multipart checksums in the HTTP front (docs/http.md
 * "Multipart checksums"): x-amz-checksum-algorithm and x-amz-checksum-type at
 * CreateMultipartUpload, each part's checksum (sent, or computed when the
 * client sent none), the object's composite ("<alg of the parts' checksums>-N")
 * or full-object checksum at CompleteMultipartUpload, then kept with the
 * object as its metadata lines "x-amz-checksum-<alg>: V" and
 * "x-amz-checksum-type: T" (GetObject and HeadObject answer them with
 * x-amz-checksum-mode: ENABLED), and shown by ListParts and
 * GetObjectAttributes.  The upload's algorithm and type ride in its metadata
 * lines; checksums are computed over the store's bytes when needed
 * (fs3.h "Multipart checksums"), so buckets without a store of ours answer
 * 501 when an algorithm is asked.  Lock held throughout. */
#include "err.h"
#include "fs3.h"
#include "http_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HR_CK_ALG "x-amz-checksum-algorithm: "
#define HR_CK_TYPE "x-amz-checksum-type: "

/* "crc32" for CRC32 (header names are lower case). */
static void hr_ck_lower(enum s3_cksum alg, char out[16])
{
    snprintf(out, 16, "%s", s3_cksum_name(alg));
    for (char *p = out; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
}

/* The value of metadata line name (with its ": ") in meta, into out. */
static bool hr_ck_line(const char *meta, const char *name, char *out, size_t size)
{
    size_t n = strlen(name);
    for (const char *p = meta; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncasecmp(p, name, n) == 0) {
            size_t len = strcspn(p + n, "\n");
            snprintf(out, size, "%.*s", (int)len, p + n);
            return true;
        }
    }
    return false;
}

/* The upload's algorithm and type (false: none asked, or no store). */
static bool hr_ck_upload(struct hr_req *r, enum s3_cksum *alg, bool *full)
{
    const char *meta;
    char v[32];
    int a;
    if (!r->b->store || !r->upload ||
        fs3_upload_meta(r->b->store, r->key, r->upload, &meta) != 0 ||
        !hr_ck_line(meta, HR_CK_ALG, v, sizeof v) || (a = s3_cksum_parse(v)) <= S3_CKSUM_MD5)
        return false;
    *alg = (enum s3_cksum)a;
    *full = hr_ck_line(meta, HR_CK_TYPE, v, sizeof v) && strcmp(v, "FULL_OBJECT") == 0;
    return true;
}

static bool hr_ck_sha(enum s3_cksum alg) { return alg == S3_CKSUM_SHA1 || alg == S3_CKSUM_SHA256; }

bool hr_ck_create(struct hr_req *r)
{
    const char *a = hr_hdr(r, "x-amz-checksum-algorithm"), *t = hr_hdr(r, "x-amz-checksum-type");
    int alg = a ? s3_cksum_parse(a) : S3_CKSUM_NONE;
    bool full;
    struct base_buf b = {0};
    if (!a && !t)
        return true;
    if (!a || alg <= S3_CKSUM_MD5) {
        hr_error(r, 400, "InvalidRequest",
                 a ? "Checksum algorithm provided is unsupported. Please try again with any of "
                     "the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]"
                   : "The x-amz-checksum-type header can only be used with the "
                     "x-amz-checksum-algorithm header.");
        goto answered;
    }
    if (t && strcasecmp(t, "COMPOSITE") != 0 && strcasecmp(t, "FULL_OBJECT") != 0) {
        hr_error(r, 400, "InvalidRequest", "Value for x-amz-checksum-type header is invalid.");
        goto answered;
    }
    full = t ? strcasecmp(t, "FULL_OBJECT") == 0 : alg == S3_CKSUM_CRC64NVME;
    if ((full && hr_ck_sha((enum s3_cksum)alg)) || (!full && alg == S3_CKSUM_CRC64NVME)) {
        hr_error(r, 400, "InvalidRequest",
                 "The FULL_OBJECT checksum type cannot be used with the sha checksum algorithm "
                 "(and CRC64NVME is FULL_OBJECT only).");
        goto answered;
    }
    if (!r->b->store) {
        hr_error(r, 501, "NotImplemented",
                 "multipart checksums are served on buckets with s3sim's own store only");
        goto answered;
    }
    if (r->meta)
        base_buf_adds(&b, r->meta);
    base_buf_addf(&b, HR_CK_ALG "%s\n" HR_CK_TYPE "%s\n", s3_cksum_name((enum s3_cksum)alg),
                  full ? "FULL_OBJECT" : "COMPOSITE");
    if (b.failed) {
        base_buf_free(&b);
        hr_error(r, 500, "InternalError", "out of memory");
        goto answered;
    }
    free(r->meta);
    r->meta = base_buf_take(&b, NULL);
    base_buf_free(&b);
    return true;
answered:
    hr_finish(r);
    return false;
}

void hr_ck_create_done(struct hr_req *r)
{
    char v[32];
    if (hr_ck_line(r->meta, HR_CK_ALG, v, sizeof v))
        hr_header(r, "x-amz-checksum-algorithm", "%s", v);
    if (hr_ck_line(r->meta, HR_CK_TYPE, v, sizeof v))
        hr_header(r, "x-amz-checksum-type", "%s", v);
}

bool hr_ck_part_check(struct hr_req *r)
{
    enum s3_cksum alg;
    bool full;
    char want[16], got[16];
    if (!r->has_cksum || r->cksum.alg == S3_CKSUM_MD5 || !hr_ck_upload(r, &alg, &full) ||
        r->cksum.alg == alg)
        return true;
    hr_ck_lower(alg, want);
    hr_ck_lower(r->cksum.alg, got);
    char msg[160];
    snprintf(msg, sizeof msg,
             "Checksum Type mismatch occurred, expected checksum Type: %s, actual checksum "
             "Type: %s",
             want, got);
    hr_error(r, 400, "InvalidRequest", msg);
    hr_finish(r);
    return false;
}

void hr_ck_part_done(struct hr_req *r, const struct s3_result *res)
{
    enum s3_cksum alg;
    bool full;
    struct s3_checksum ck;
    char name[48], low[16], v[64];
    if (!s3_result_ok(res) || (r->has_cksum && r->cksum.alg != S3_CKSUM_MD5) ||
        !hr_ck_upload(r, &alg, &full) ||
        fs3_upload_part_cksum(r->b->store, r->key, r->upload, r->part, alg, &ck) != 0)
        return;
    hr_ck_lower(alg, low);
    snprintf(name, sizeof name, "x-amz-checksum-%s", low);
    hr_b64_encode(ck.value, ck.len, v, sizeof v);
    hr_header(r, name, "%s", v);
}

bool hr_ck_complete(struct hr_req *r, const struct s3_part *parts, size_t n)
{
    enum s3_cksum alg;
    bool full;
    struct s3_checksum ck, part;
    struct base_buf cat = {0}, meta = {0};
    const char *um;
    char low[16], hname[48], v[80], msg[200];
    if (!hr_ck_upload(r, &alg, &full))
        return true;
    for (size_t i = 0; i < n; i++) {
        if (fs3_upload_part_cksum(r->b->store, r->key, r->upload, parts[i].number, alg, &part))
            return true; /* a missing part: the store answers InvalidPart */
        if (parts[i].cksum.alg == S3_CKSUM_NONE && !full) {
            hr_ck_lower(alg, low);
            snprintf(msg, sizeof msg,
                     "The upload was created using a %s checksum. The complete request must "
                     "include the checksum for each part. It was missing for part %d in the "
                     "request.",
                     low, parts[i].number);
            hr_error(r, 400, "InvalidRequest", msg);
            goto answered;
        }
        if (parts[i].cksum.alg != S3_CKSUM_NONE &&
            (parts[i].cksum.alg != alg || !s3_checksum_equal(&parts[i].cksum, &part))) {
            hr_error(r, 400, "InvalidPart",
                     "One or more of the specified parts could not be found. The part may not "
                     "have been uploaded, or the specified entity tag may not have matched the "
                     "part's entity tag.");
            goto answered;
        }
        base_buf_add(&cat, (const char *)part.value, part.len);
    }
    if (cat.failed) {
        hr_error(r, 500, "InternalError", "out of memory");
        goto answered;
    }
    if (full) {
        if (fs3_upload_cksum(r->b->store, r->key, r->upload, parts, n, alg, &ck)) {
            hr_error(r, 500, "InternalError", "out of memory");
            goto answered;
        }
        hr_b64_encode(ck.value, ck.len, v, sizeof v);
    } else {
        s3_checksum_compute(alg, (const uint8_t *)(cat.p ? cat.p : ""), cat.len, &ck);
        hr_b64_encode(ck.value, ck.len, v, sizeof v);
        snprintf(v + strlen(v), sizeof v - strlen(v), "-%zu", n);
    }
    base_buf_free(&cat);
    /* The object's checksum, when the client sent it with the Complete. */
    hr_ck_lower(alg, low);
    snprintf(hname, sizeof hname, "x-amz-checksum-%s", low);
    const char *sent = hr_hdr(r, hname);
    size_t vlen = strcspn(v, "-");
    if (sent && (strncmp(sent, v, vlen) != 0 || (sent[vlen] && sent[vlen] != '-'))) {
        hr_error(r, 400, "BadDigest",
                 "The checksum you specified did not match the calculated checksum.");
        goto answered;
    }
    /* The object's metadata: the upload's, its algorithm line replaced by the value. */
    fs3_upload_meta(r->b->store, r->key, r->upload, &um);
    for (const char *p = um; *p;) {
        size_t len = strcspn(p, "\n");
        if (strncasecmp(p, HR_CK_ALG, strlen(HR_CK_ALG)) != 0 &&
            strncasecmp(p, HR_CK_TYPE, strlen(HR_CK_TYPE)) != 0)
            base_buf_addf(&meta, "%.*s\n", (int)len, p);
        p += len + (p[len] == '\n');
    }
    base_buf_addf(&meta, "%s: %s\n" HR_CK_TYPE "%s\n", hname, v,
                  full ? "FULL_OBJECT" : "COMPOSITE");
    if (meta.failed) {
        base_buf_free(&meta);
        hr_error(r, 500, "InternalError", "out of memory");
        goto answered;
    }
    free(r->meta);
    r->meta = base_buf_take(&meta, NULL);
    base_buf_free(&meta);
    r->sreq.meta = r->meta;
    return true;
answered:
    base_buf_free(&cat);
    hr_finish(r);
    return false;
}

void hr_ck_complete_xml(struct hr_req *r, struct base_buf *b)
{
    char t[16];
    const char *alg = NULL;
    for (int a = S3_CKSUM_CRC32C; a <= S3_CKSUM_LAST && !alg; a++) {
        char low[16], name[48], v[80];
        hr_ck_lower((enum s3_cksum)a, low);
        snprintf(name, sizeof name, "x-amz-checksum-%s: ", low);
        if (hr_ck_line(r->meta, name, v, sizeof v)) {
            alg = s3_cksum_name((enum s3_cksum)a);
            base_buf_addf(b, "<Checksum%s>%s</Checksum%s>", alg, v, alg);
        }
    }
    if (alg && hr_ck_line(r->meta, HR_CK_TYPE, t, sizeof t))
        base_buf_addf(b, "<ChecksumType>%s</ChecksumType>", t);
}

/* ListParts' head: the upload's algorithm and type. */
void hr_ck_list_parts_head(struct hr_req *r, struct base_buf *b, enum s3_cksum *alg)
{
    bool full;
    *alg = S3_CKSUM_NONE;
    if (!hr_ck_upload(r, alg, &full))
        return;
    base_buf_addf(b, "<ChecksumAlgorithm>%s</ChecksumAlgorithm><ChecksumType>%s</ChecksumType>",
                  s3_cksum_name(*alg), full ? "FULL_OBJECT" : "COMPOSITE");
}

/* One part's checksum element of a ListParts answer (upload) or of
 * GetObjectAttributes' ObjectParts (a completed object's part). */
void hr_ck_part_xml(struct hr_req *r, struct base_buf *b, enum s3_cksum alg, int number,
                    bool upload)
{
    struct s3_checksum ck;
    char v[64];
    int rc = upload ? fs3_upload_part_cksum(r->b->store, r->key, r->upload, number, alg, &ck)
                    : fs3_object_part_cksum(r->b->store, r->key, number, alg, &ck);
    if (alg <= S3_CKSUM_MD5 || rc)
        return;
    hr_b64_encode(ck.value, ck.len, v, sizeof v);
    base_buf_addf(b, "<Checksum%s>%s</Checksum%s>", s3_cksum_name(alg), v, s3_cksum_name(alg));
}

enum s3_cksum hr_ck_object_alg(const char *meta)
{
    for (int a = S3_CKSUM_CRC32C; a <= S3_CKSUM_LAST; a++) {
        char low[16], name[48], v[80];
        hr_ck_lower((enum s3_cksum)a, low);
        snprintf(name, sizeof name, "x-amz-checksum-%s: ", low);
        if (hr_ck_line(meta, name, v, sizeof v))
            return (enum s3_cksum)a;
    }
    return S3_CKSUM_NONE;
}

void hr_ck_by_part(struct hr_req *r, const struct s3_result *res)
{
    const char *m = hr_hdr(r, "x-amz-checksum-mode");
    enum s3_cksum alg = hr_ck_object_alg(res->meta);
    struct s3_checksum ck;
    char low[16], name[48], v[64];
    long n;
    if (!r->by_part || !r->mp_parts || !m || strcasecmp(m, "ENABLED") != 0 ||
        alg == S3_CKSUM_NONE || !r->b->store || !s3_result_ok(res) ||
        hr_q_int(r, "partNumber", 1, S3_MAX_PARTS, &n) != 0 ||
        fs3_object_part_cksum(r->b->store, r->key, (int)n, alg, &ck) != 0)
        return;
    hr_ck_lower(alg, low);
    snprintf(name, sizeof name, "x-amz-checksum-%s", low);
    hr_b64_encode(ck.value, ck.len, v, sizeof v);
    hr_header(r, name, "%s", v);
}
