/*
 * store_mpu.c - multipart uploads of the honest bucket: create, UploadPart,
 * UploadPartCopy, CompleteMultipartUpload, AbortMultipartUpload (fs3.h).
 *
 * An upload keeps its parts in an array indexed by part number.  Part MD5s
 * are computed only when needed (an MD5 checksum on the part, or a non-empty
 * part ETag at complete).
 */
#include "err.h"
#include "store_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void fs3_part_free(struct fs3_part *p)
{
    if (p) {
        fs3_segs_free(&p->segs);
        free(p);
    }
}

void fs3_upload_free(struct fs3_upload *u)
{
    if (!u)
        return;
    for (int i = 0; i < u->cap; i++)
        fs3_part_free(u->parts[i]);
    free(u->parts);
    free(u->key);
    free(u->meta);
    free(u);
}

/* The upload named by req, or NULL after a 404 NoSuchUpload in res (also
 * when the key is not the upload's, as S3 answers). */
static struct fs3_upload *fs3_upload_find(struct fs3 *s, const struct s3_req *req,
                                          struct s3_result *res)
{
    size_t len = strlen(req->upload_id);
    struct fs3_upload *u =
        (struct fs3_upload *)fs3_tab_get(&s->uploads, req->upload_id, len,
                                         fs3_hash(req->upload_id, len));
    if (!u || strcmp(u->key, req->key) != 0) {
        fs3_res_error(res, 404, S3E_NO_SUCH_UPLOAD,
                      "The specified upload does not exist. The upload ID may be invalid, or "
                      "the upload may have been aborted or completed.");
        return NULL;
    }
    return u;
}

void fs3_upload_drop(struct fs3 *s, struct fs3_upload *u)
{
    fs3_tab_del(&s->uploads, &u->h);
    fs3_upload_free(u);
}

static int fs3_mpu_create(struct fs3 *s, const struct s3_req *req, struct s3_result *res)
{
    if (strlen(req->key) > S3_MAX_KEY) {
        fs3_res_error(res, 400, S3E_INVALID_ARGUMENT, "KeyTooLongError: Your key is too long");
        return 0;
    }
    struct fs3_upload *u = calloc(1, sizeof *u);
    int mrc;
    if (!u || !(u->key = strdup(req->key))) {
        free(u);
        return ERR_NOMEM;
    }
    if ((mrc = fs3_meta_take(req, &u->meta, res)) != 0) {
        fs3_upload_free(u);
        return mrc == 1 ? 0 : mrc;
    }
    s->upload_seq++;
    snprintf(u->id, sizeof u->id, "fs3u%016" PRIx64,
             s->upload_seq * UINT64_C(0x9e3779b97f4a7c15));
    u->h = (struct fs3_hnode){fs3_hash(u->id, strlen(u->id)), (uint32_t)strlen(u->id), u->id};
    u->created_us = env_now(s->env);
    if (fs3_tab_put(&s->uploads, &u->h)) {
        fs3_upload_free(u);
        return ERR_NOMEM;
    }
    res->status = 200;
    snprintf(res->upload_id, sizeof res->upload_id, "%s", u->id);
    fs3_lifecycle_arm(s);
    return 0;
}

static bool fs3_part_number_bad(int number, struct s3_result *res)
{
    if (number >= 1 && number <= S3_MAX_PARTS)
        return false;
    fs3_res_error(res, 400, S3E_INVALID_ARGUMENT,
                  "Part number must be an integer between 1 and 10000, inclusive");
    return true;
}

/* Stores the bytes as part number of u (replacing an earlier one): a body
 * [data, data+len) in the request's buffer b, or (src != NULL) the range
 * [start, start+len) of src's segments. */
static int fs3_part_store(struct fs3_upload *u, int number, const struct s3_req *body,
                          const struct fs3_segs *src, uint64_t start, size_t len,
                          const uint8_t *md5)
{
    if (number >= u->cap) {
        int cap = u->cap ? u->cap : 16;
        while (cap <= number)
            cap *= 2;
        if (cap > S3_MAX_PARTS + 1)
            cap = S3_MAX_PARTS + 1;
        struct fs3_part **n = realloc(u->parts, (size_t)cap * sizeof *n);
        if (!n)
            return ERR_NOMEM;
        memset(n + u->cap, 0, (size_t)(cap - u->cap) * sizeof *n);
        u->parts = n;
        u->cap = cap;
    }
    struct fs3_part *p = calloc(1, sizeof *p);
    if (!p)
        return ERR_NOMEM;
    p->size = len;
    p->md5_known = md5 != NULL;
    if (md5)
        memcpy(p->md5, md5, 16);
    if (src ? fs3_segs_slice(&p->segs, src, start, start + len)
            : fs3_segs_take_req(&p->segs, body)) {
        fs3_part_free(p); /* the pieces taken before the failure, and their array */
        return ERR_NOMEM;
    }
    fs3_part_free(u->parts[number]);
    u->parts[number] = p;
    return 0;
}

static int fs3_mpu_part(struct fs3 *s, const struct s3_req *req, struct s3_result *res)
{
    struct fs3_upload *u;
    uint8_t md5[16];
    bool md5_known;
    if (fs3_part_number_bad(req->part_number, res) || !(u = fs3_upload_find(s, req, res)) ||
        fs3_verify_cksum(req, req->body, req->body_len, res, md5, &md5_known))
        return 0;
    if (fs3_part_store(u, req->part_number, req, NULL, 0, req->body_len,
                       md5_known ? md5 : NULL))
        return ERR_NOMEM;
    res->status = 200;
    if (md5_known)
        fs3_etag_hex(md5, 0, res->etag);
    return 0;
}

static int fs3_mpu_copy(struct fs3 *s, const struct s3_req *req, struct s3_result *res)
{
    struct fs3_upload *u;
    struct fs3_obj *src;
    uint64_t start = 0, end;
    if (fs3_part_number_bad(req->part_number, res) || !(u = fs3_upload_find(s, req, res)))
        return 0;
    if (!(src = fs3_lookup(s, req->copy_source, FS3_AS_OF_NOW))) {
        fs3_res_error(res, 404, S3E_NO_SUCH_KEY, "The specified key does not exist.");
        return 0;
    }
    end = src->size;
    if (!(req->range_start == 0 && req->range_end < 0)) {
        start = (uint64_t)req->range_start;
        if (req->range_end >= 0)
            end = (uint64_t)req->range_end;
        if (start >= src->size || end > src->size || end <= start) {
            fs3_res_error(res, 416, S3E_INVALID_RANGE, "The requested range is not satisfiable");
            return 0;
        }
    }
    if (fs3_part_store(u, req->part_number, NULL, &src->segs, start, end - start, NULL))
        return ERR_NOMEM;
    res->status = 200;
    return 0;
}

static const uint8_t *fs3_part_md5(struct fs3_part *p)
{
    struct s3_checksum ck;
    if (!p->md5_known) {
        if (fs3_segs_cksum(S3_CKSUM_MD5, &p->segs, 0, p->size, &ck))
            return NULL;
        memcpy(p->md5, ck.value, 16);
        p->md5_known = true;
    }
    return p->md5;
}

/* Compares two ETags, ignoring surrounding quotes and hex case. */
static bool fs3_etag_same(const char *a, const char *b)
{
    size_t la, lb;
    if (*a == '"')
        a++;
    if (*b == '"')
        b++;
    la = strlen(a);
    lb = strlen(b);
    if (la && a[la - 1] == '"')
        la--;
    if (lb && b[lb - 1] == '"')
        lb--;
    return la == lb && strncasecmp(a, b, la) == 0;
}

/* Checks the part list of a complete: order, then each part, then sizes.
 * Returns true when res got an error. */
static bool fs3_complete_check(struct fs3 *s, struct fs3_upload *u, const struct s3_req *req,
                               struct s3_result *res)
{
    char etag[S3_ETAG_MAX];
    for (size_t i = 1; i < req->nparts; i++)
        if (req->parts[i].number <= req->parts[i - 1].number) {
            fs3_res_error(res, 400, S3E_INVALID_PART_ORDER,
                          "The list of parts was not in ascending order.");
            return true;
        }
    for (size_t i = 0; i < req->nparts; i++) {
        const struct s3_part *rp = &req->parts[i];
        struct fs3_part *p = rp->number >= 1 && rp->number < u->cap ? u->parts[rp->number] : NULL;
        struct s3_checksum ck;
        bool bad = !p;
        if (p && rp->etag[0]) {
            const uint8_t *md5 = fs3_part_md5(p);
            if (!md5)
                return fs3_res_error(res, 500, S3E_INTERNAL_ERROR, "out of memory"), true;
            fs3_etag_hex(md5, 0, etag);
            bad = !fs3_etag_same(etag, rp->etag);
        }
        if (p && !bad && rp->cksum.alg != S3_CKSUM_NONE) {
            if (fs3_segs_cksum(rp->cksum.alg, &p->segs, 0, p->size, &ck))
                return fs3_res_error(res, 500, S3E_INTERNAL_ERROR, "out of memory"), true;
            bad = !s3_checksum_equal(&ck, &rp->cksum);
        }
        if (bad) {
            fs3_res_error(res, 400, S3E_INVALID_PART,
                          "One or more of the specified parts could not be found or the "
                          "specified entity tag might not have matched the part's entity tag.");
            return true;
        }
    }
    for (size_t i = 0; i + 1 < req->nparts; i++)
        if (u->parts[req->parts[i].number]->size < s->cfg.min_part_size) {
            fs3_res_error(res, 400, S3E_ENTITY_TOO_SMALL,
                          "Your proposed upload is smaller than the minimum allowed size");
            return true;
        }
    return false;
}

/* The multipart ETag: MD5 of the parts' MD5s, "-N". */
static void fs3_complete_etag(struct fs3_upload *u, const struct s3_req *req, char *out)
{
    uint8_t d[16], *md5s = malloc(req->nparts * 16);
    if (!md5s)
        return;
    for (size_t i = 0; i < req->nparts; i++) {
        const uint8_t *md5 = fs3_part_md5(u->parts[req->parts[i].number]);
        if (!md5) { /* out of memory: the ETag stays "" (computed when asked) */
            free(md5s);
            return;
        }
        memcpy(md5s + 16 * i, md5, 16);
    }
    fs3_md5(md5s, req->nparts * 16, d);
    free(md5s);
    fs3_etag_hex(d, (uint32_t)req->nparts, out);
}

/* Remembers a completion (a full ring forgets the oldest); out of memory,
 * it is not remembered (a repeat then answers NoSuchUpload). */
static void fs3_done_add(struct fs3 *s, const struct fs3_upload *u, const char *etag)
{
    struct fs3_done *d;
    if (!s->done && !(s->done = calloc(FS3_DONE_MAX, sizeof *s->done)))
        return;
    d = &s->done[s->done_next];
    s->done_next = (s->done_next + 1) % FS3_DONE_MAX;
    free(d->key);
    d->key = strdup(u->key);
    memcpy(d->id, u->id, sizeof d->id);
    memcpy(d->etag, etag, sizeof d->etag);
}

/* A repeated Complete of a completed upload: 200 and its ETag (true), or
 * false (res untouched) when the upload was not completed lately. */
static bool fs3_done_repeat(struct fs3 *s, const struct s3_req *req, struct s3_result *res)
{
    for (size_t i = 0; s->cfg.complete_repeat_ok && s->done && i < FS3_DONE_MAX; i++) {
        const struct fs3_done *d = &s->done[i];
        if (d->key && strcmp(d->id, req->upload_id) == 0 && strcmp(d->key, req->key) == 0) {
            memcpy(res->etag, d->etag, sizeof res->etag);
            res->status = 200;
            return true;
        }
    }
    return false;
}

static int fs3_mpu_complete(struct fs3 *s, const struct s3_req *req, struct s3_result *res)
{
    struct fs3_upload *u;
    struct fs3_obj *o;
    uint64_t total = 0, off = 0;
    bool want_etag = true; /* and see below */
    if (fs3_done_repeat(s, req, res))
        return 0;
    if (!(u = fs3_upload_find(s, req, res)))
        return 0;
    if (req->nparts == 0) {
        fs3_res_error(res, 400, S3E_MALFORMED_XML,
                      "The XML you provided was not well-formed or did not validate against "
                      "our published schema");
        return 0;
    }
    if (fs3_complete_check(s, u, req, res) || fs3_write_conditions(s, req, u->created_us, res))
        return 0;
    for (size_t i = 0; i < req->nparts; i++) {
        total += u->parts[req->parts[i].number]->size;
        /* The ETag now only when every part was named by its ETag, or the
         * caller asks (the HTTP front): the engine's UploadPartCopy parts
         * carry none, and their MD5 would be the store's only MD5 pass over
         * the copied bytes.  Left "", it is computed when asked
         * (fs3_obj_etag), as s3.h allows. */
        want_etag &= req->parts[i].etag[0] != 0;
    }
    want_etag |= req->want_etag;
    if (!(o = fs3_obj_new(total)) || !(o->part_sizes = malloc(req->nparts * sizeof(uint64_t)))) {
        fs3_obj_free(o);
        return ERR_NOMEM;
    }
    o->nparts = (uint32_t)req->nparts;
    for (size_t i = 0; i < req->nparts; i++) { /* the parts' bytes, linked */
        struct fs3_part *p = u->parts[req->parts[i].number];
        if (fs3_segs_slice(&o->segs, &p->segs, 0, p->size)) {
            fs3_obj_free(o);
            return ERR_NOMEM;
        }
        o->part_sizes[i] = p->size;
        off += p->size;
    }
    if (want_etag)
        fs3_complete_etag(u, req, o->etag);
    if (req->meta) { /* the caller's (the HTTP front adds the checksum) */
        if (!(o->meta = strdup(req->meta))) {
            fs3_obj_free(o);
            return ERR_NOMEM;
        }
    } else {
        o->meta = u->meta; /* the object takes the upload's metadata */
        u->meta = NULL;
    }
    memcpy(res->etag, o->etag, sizeof res->etag);
    if (fs3_set(s, req->key, strlen(req->key), o)) {
        memset(res->etag, 0, sizeof res->etag);
        return ERR_NOMEM;
    }
    fs3_done_add(s, u, res->etag);
    fs3_upload_drop(s, u);
    res->status = 200;
    return 0;
}

static int fs3_mpu_abort(struct fs3 *s, const struct s3_req *req, struct s3_result *res)
{
    struct fs3_upload *u = fs3_upload_find(s, req, res);
    if (!u)
        return 0;
    fs3_upload_drop(s, u);
    res->status = 204;
    return 0;
}

bool fs3_upload_open_for(struct fs3 *s, const char *key)
{
    if (s->uploads.n == 0)
        return false;
    for (size_t i = 0; i < s->uploads.cap; i++) {
        struct fs3_upload *u = (struct fs3_upload *)s->uploads.slots[i];
        if (u && strcmp(u->key, key) == 0)
            return true;
    }
    return false;
}

static int fs3_upload_cmp(const void *a, const void *b);

/* ListMultipartUploads: open uploads whose key starts with the prefix, by
 * (key, upload id), max_keys (1000) a page.  The token is the upload id of
 * the last upload of the previous page; if that upload is gone meanwhile, the
 * listing starts again from the first (a repeat is harmless to callers that
 * abort what they find). */
static int fs3_list_uploads(struct fs3 *s, const struct s3_req *req, struct s3_result *res)
{
    const char *prefix = req->prefix ? req->prefix : "";
    size_t plen = strlen(prefix), n = 0, start = 0;
    size_t max = req->max_keys > 0 && req->max_keys < 1000 ? (size_t)req->max_keys : 1000;
    struct fs3_upload **a = malloc((s->uploads.n ? s->uploads.n : 1) * sizeof *a);
    int rc = 0;
    if (!a)
        return ERR_NOMEM;
    for (size_t i = 0; i < s->uploads.cap; i++) {
        struct fs3_upload *u = (struct fs3_upload *)s->uploads.slots[i];
        if (u && strncmp(u->key, prefix, plen) == 0)
            a[n++] = u;
    }
    qsort(a, n, sizeof *a, fs3_upload_cmp);
    for (size_t i = 0; req->token && *req->token && i < n; i++)
        if (strcmp(a[i]->id, req->token) == 0)
            start = i + 1;
    res->entries = calloc(max, sizeof *res->entries);
    if (!res->entries)
        rc = ERR_NOMEM;
    for (size_t i = start; rc == 0 && i < n; i++) {
        struct s3_list_entry *le;
        if (res->nentries == max) {
            res->truncated = true;
            snprintf(res->next_token, sizeof res->next_token, "%s", a[i - 1]->id);
            break;
        }
        le = &res->entries[res->nentries];
        le->key = strdup(a[i]->key);
        le->upload_id = strdup(a[i]->id);
        le->mtime_us = a[i]->created_us;
        if (!le->key || !le->upload_id) {
            free(le->key);
            free(le->upload_id);
            le->key = le->upload_id = NULL;
            rc = ERR_NOMEM;
            break;
        }
        res->nentries++;
    }
    free(a);
    if (rc)
        return rc;
    res->status = 200;
    return 0;
}

int fs3_exec_mpu(struct fs3 *s, const struct s3_req *req, struct s3_result *res)
{
    switch (req->op) {
    case S3_OP_MPU_CREATE: return fs3_mpu_create(s, req, res);
    case S3_OP_MPU_PART: return fs3_mpu_part(s, req, res);
    case S3_OP_MPU_COPY: return fs3_mpu_copy(s, req, res);
    case S3_OP_MPU_COMPLETE: return fs3_mpu_complete(s, req, res);
    case S3_OP_MPU_ABORT: return fs3_mpu_abort(s, req, res);
    case S3_OP_LIST_UPLOADS: return fs3_list_uploads(s, req, res);
    default: break;
    }
    return ERR_INVAL;
}

/* ---- Inspection of uploads. ----------------------------------------------- */

static int fs3_upload_cmp(const void *a, const void *b)
{
    const struct fs3_upload *x = *(const struct fs3_upload *const *)a;
    const struct fs3_upload *y = *(const struct fs3_upload *const *)b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->id, y->id);
}

void fs3_each_upload(struct fs3 *s, fs3_upload_fn fn, void *arg)
{
    size_t n = 0;
    struct fs3_upload **a = malloc((s->uploads.n ? s->uploads.n : 1) * sizeof *a);
    if (!a)
        return;
    for (size_t i = 0; i < s->uploads.cap; i++)
        if (s->uploads.slots[i])
            a[n++] = (struct fs3_upload *)s->uploads.slots[i];
    qsort(a, n, sizeof *a, fs3_upload_cmp);
    for (size_t i = 0; i < n; i++)
        if (!fn(arg, a[i]->key, a[i]->id, a[i]->created_us))
            break;
    free(a);
}

int fs3_abort_upload(struct fs3 *s, const char *upload_id)
{
    size_t len = strlen(upload_id);
    struct fs3_upload *u =
        (struct fs3_upload *)fs3_tab_get(&s->uploads, upload_id, len, fs3_hash(upload_id, len));
    if (!u)
        return ERR_NOTFOUND;
    fs3_upload_drop(s, u);
    return 0;
}

int fs3_each_part(struct fs3 *s, const char *key, const char *upload_id, int64_t *created_us,
                  fs3_part_fn fn, void *arg)
{
    size_t len = strlen(upload_id);
    struct fs3_upload *u =
        (struct fs3_upload *)fs3_tab_get(&s->uploads, upload_id, len, fs3_hash(upload_id, len));
    char etag[S3_ETAG_MAX];
    if (!u || strcmp(u->key, key) != 0)
        return ERR_NOTFOUND;
    *created_us = u->created_us;
    for (int i = 1; i < u->cap; i++) {
        if (!u->parts[i])
            continue;
        fs3_etag_hex(fs3_part_md5(u->parts[i]), 0, etag);
        if (!fn(arg, i, u->parts[i]->size, etag))
            break;
    }
    return 0;
}

int fs3_object_part(struct fs3 *s, const char *key, int number, uint64_t *start, uint64_t *len,
                    uint32_t *nparts)
{
    struct fs3_obj *o = fs3_lookup(s, key, FS3_AS_OF_NOW);
    if (!o)
        return ERR_NOTFOUND;
    *nparts = o->nparts;
    *start = 0;
    *len = o->size;
    if (number < 1 || (uint32_t)number > (o->nparts ? o->nparts : 1))
        return ERR_RANGE;
    for (int i = 0; o->nparts && i < number; i++) {
        *start += i ? o->part_sizes[i - 1] : 0;
        *len = o->part_sizes[i];
    }
    return 0;
}
