/*
 * store.c - the honest bucket: keys, objects, the stale-view history, the
 * single-object operations (put, get, head, list, delete, delete-many) and the
 * inspection API.  Multipart uploads are in store_mpu.c, the asynchronous
 * s3_ops in store_ops.c.  See fs3.h for the contract.
 */
#include "err.h"
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Hash table. ---------------------------------------------------------- */

static uint64_t fs3_mix(uint64_t x)
{
    x ^= x >> 32;
    x *= UINT64_C(0xd6e8feb86659fd93);
    x ^= x >> 32;
    x *= UINT64_C(0xd6e8feb86659fd93);
    x ^= x >> 32;
    return x;
}

/* Eight bytes at a time, then a final avalanche: keys are short strings. */
uint64_t fs3_hash(const char *key, size_t klen)
{
    uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ klen;
    while (klen >= 8) {
        uint64_t w;
        memcpy(&w, key, 8);
        h = (h ^ w) * UINT64_C(0xbf58476d1ce4e5b9);
        h ^= h >> 29;
        key += 8;
        klen -= 8;
    }
    if (klen) {
        uint64_t w = 0;
        memcpy(&w, key, klen);
        h = (h ^ w) * UINT64_C(0x94d049bb133111eb);
    }
    return fs3_mix(h);
}

static bool fs3_node_is(const struct fs3_hnode *n, const char *key, size_t klen, uint64_t h)
{
    return n->hash == h && n->klen == klen && memcmp(n->key, key, klen) == 0;
}

struct fs3_hnode *fs3_tab_get(const struct fs3_tab *t, const char *key, size_t klen, uint64_t h)
{
    if (!t->cap)
        return NULL;
    size_t mask = t->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct fs3_hnode *n = t->slots[i];
        if (!n)
            return NULL;
        if (fs3_node_is(n, key, klen, h))
            return n;
    }
}

static void fs3_tab_place(struct fs3_hnode **slots, size_t cap, struct fs3_hnode *node)
{
    size_t mask = cap - 1, i = node->hash & mask;
    while (slots[i])
        i = (i + 1) & mask;
    slots[i] = node;
}

/* Inserts node (whose key is not in t).  Keeps the load under 1/2. */
int fs3_tab_put(struct fs3_tab *t, struct fs3_hnode *node)
{
    if ((t->n + 1) * 2 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct fs3_hnode **slots = calloc(cap, sizeof *slots);
        if (!slots)
            return ERR_NOMEM;
        for (size_t i = 0; i < t->cap; i++)
            if (t->slots[i])
                fs3_tab_place(slots, cap, t->slots[i]);
        free(t->slots);
        t->slots = slots;
        t->cap = cap;
    }
    fs3_tab_place(t->slots, t->cap, node);
    t->n++;
    return 0;
}

/* Removes node (which is in t) by backward-shift deletion. */
void fs3_tab_del(struct fs3_tab *t, struct fs3_hnode *node)
{
    size_t mask = t->cap - 1, i = node->hash & mask;
    while (t->slots[i] != node)
        i = (i + 1) & mask;
    for (size_t j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
        size_t home = t->slots[j]->hash & mask;
        /* Move j back to the hole i when its home is not in (i, j]. */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            t->slots[i] = t->slots[j];
            i = j;
        }
    }
    t->slots[i] = NULL;
    t->n--;
}

void fs3_tab_free(struct fs3_tab *t)
{
    free(t->slots);
    memset(t, 0, sizeof *t);
}

/* ---- Objects and ETags. --------------------------------------------------- */

struct fs3_obj *fs3_obj_new(uint64_t size)
{
    struct fs3_obj *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->size = size;
    return o;
}

/* ---- Segments. ------------------------------------------------------------- */

static int fs3_segs_push(struct fs3_segs *s, struct buf *b, const uint8_t *p, uint64_t len)
{
    if (s->n == s->cap) {
        uint32_t cap = s->cap ? 2 * s->cap : 1;
        struct fs3_seg *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return ERR_NOMEM;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = (struct fs3_seg){b, p, len};
    b->stored = true;
    return 0;
}

/* As fs3_segs_take, where the body holds held bytes of b in all (len, or
 * more for a body of several pieces of b). */
static int fs3_segs_take_held(struct fs3_segs *dst, struct buf *b, const uint8_t *p, size_t len,
                              size_t held)
{
    size_t off;
    if (len == 0)
        return 0;
    /* By reference when the bytes are in b and the body holds a quarter of
     * b at least (a small body in a large buffer is copied, so that the
     * bucket's memory stays about its bytes: a part of an object built in
     * one buffer is kept, the object's other parts follow), or when the
     * bucket keeps b already (a slice of stored bytes a GET shared, sent
     * back as a piece of a body: sharing it adds no buffer, as
     * UploadPartCopy shares its source's).  Never a pinned buffer: a late
     * attempt still reads it, so its owner may recycle its bytes (buf.h
     * "Pins"), which a bucket keeping them would see change. */
    if (b && !b->pins && buf_holds(b, p, len, &off) &&
        (b->stored || (held <= b->cap && (held >= b->cap / 4 || b->cap - held <= 4096)))) {
        if (fs3_segs_push(dst, b, p, len))
            return ERR_NOMEM;
        buf_ref(b);
        return 0;
    }
    struct buf *c = buf_new(len);
    if (!c || buf_append(c, p, len) || fs3_segs_push(dst, c, c->p, len)) {
        buf_unref(c);
        return ERR_NOMEM;
    }
    return 0;
}

int fs3_segs_take(struct fs3_segs *dst, struct buf *b, const uint8_t *p, size_t len)
{
    return fs3_segs_take_held(dst, b, p, len, len);
}

int fs3_segs_take_req(struct fs3_segs *dst, const struct s3_req *req)
{
    uint32_t n0 = dst->n;
    struct buf *hb = NULL; /* the last buffer whose pieces were summed, and their bytes */
    size_t held = 0;
    if (!req->nsegs)
        return fs3_segs_take(dst, req->body_buf, req->body, req->body_len);
    for (size_t i = 0; i < req->nsegs; i++) {
        struct buf *b = req->segs[i].b;
        /* A buffer the bucket does not keep yet (the sender's own bytes,
         * between its references) is kept when the body's pieces of it
         * cover it (the quarter rule over all of them). */
        if (b && !b->stored && b != hb) {
            hb = b;
            held = 0;
            for (size_t k = 0; k < req->nsegs; k++)
                held += req->segs[k].b == b ? req->segs[k].len : 0;
        }
        if (fs3_segs_take_held(dst, b, req->segs[i].p, req->segs[i].len,
                               b == hb ? held : req->segs[i].len)) {
            while (dst->n > n0)
                buf_unref(dst->v[--dst->n].b);
            return ERR_NOMEM;
        }
    }
    return 0;
}

int fs3_segs_slice(struct fs3_segs *dst, const struct fs3_segs *src, uint64_t start,
                   uint64_t end)
{
    uint32_t n0 = dst->n;
    uint64_t at = 0;
    for (uint32_t i = 0; i < src->n && at < end; i++) {
        const struct fs3_seg *g = &src->v[i];
        uint64_t s = start > at ? start - at : 0, e = end - at < g->len ? end - at : g->len;
        if (s < e) {
            if (fs3_segs_push(dst, g->b, g->p + s, e - s)) {
                while (dst->n > n0)
                    buf_unref(dst->v[--dst->n].b);
                return ERR_NOMEM;
            }
            buf_ref(g->b);
        }
        at += g->len;
    }
    return 0;
}

void fs3_segs_copy_out(const struct fs3_segs *s, uint64_t start, uint64_t end, uint8_t *dst)
{
    uint64_t at = 0;
    for (uint32_t i = 0; i < s->n && at < end; i++) {
        const struct fs3_seg *g = &s->v[i];
        uint64_t a = start > at ? start - at : 0, e = end - at < g->len ? end - at : g->len;
        if (a < e) {
            memcpy(dst, g->p + a, e - a);
            dst += e - a;
        }
        at += g->len;
    }
}

int fs3_segs_cksum(enum s3_cksum alg, const struct fs3_segs *s, uint64_t start, uint64_t end,
                   struct s3_checksum *out)
{
    uint64_t at = 0;
    for (uint32_t i = 0; i < s->n; i++) { /* within one segment: its buffer's memo */
        const struct fs3_seg *g = &s->v[i];
        if (start >= at && end <= at + g->len) {
            s3_checksum_buf(alg, g->b, g->p + (start - at), end - start, out);
            return 0;
        }
        at += g->len;
    }
    uint8_t *tmp = malloc(end - start ? end - start : 1);
    if (!tmp)
        return ERR_NOMEM;
    fs3_segs_copy_out(s, start, end, tmp);
    s3_checksum_compute(alg, tmp, end - start, out);
    free(tmp);
    return 0;
}

void fs3_segs_free(struct fs3_segs *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        buf_unref(s->v[i].b);
    free(s->v);
    memset(s, 0, sizeof *s);
}

void fs3_obj_free(struct fs3_obj *o)
{
    if (o) {
        free(o->part_sizes);
        free(o->meta);
        fs3_segs_free(&o->segs);
    }
    free(o);
}

void fs3_etag_hex(const uint8_t md5[16], uint32_t nparts, char out[S3_ETAG_MAX])
{
    static const char hex[] = "0123456789abcdef";
    char *p = out;
    *p++ = '"';
    for (int i = 0; i < 16; i++) {
        *p++ = hex[md5[i] >> 4];
        *p++ = hex[md5[i] & 15];
    }
    if (nparts)
        p += snprintf(p, 16, "-%u", nparts);
    *p++ = '"';
    *p = 0;
}

/* MD5 through s3.h (openssl's headers clash with err.h's ERR_STATE). */
void fs3_md5(const uint8_t *buf, size_t len, uint8_t out[16])
{
    struct s3_checksum ck;
    s3_checksum_compute(S3_CKSUM_MD5, buf, len, &ck);
    memcpy(out, ck.value, 16);
}

/* Computes (once) and returns the object's ETag. */
const char *fs3_obj_etag(struct fs3_obj *o)
{
    uint8_t d[16];
    struct s3_checksum ck;
    if (o->etag[0])
        return o->etag;
    if (!o->part_sizes) {
        if (fs3_segs_cksum(S3_CKSUM_MD5, &o->segs, 0, o->size, &ck))
            return "";
        fs3_etag_hex(ck.value, 0, o->etag);
        return o->etag;
    }
    uint8_t *md5s = malloc((size_t)o->nparts * 16);
    uint64_t off = 0;
    if (!md5s)
        return "";
    for (uint32_t i = 0; i < o->nparts; i++) {
        if (fs3_segs_cksum(S3_CKSUM_MD5, &o->segs, off, off + o->part_sizes[i], &ck)) {
            free(md5s);
            return "";
        }
        memcpy(md5s + 16 * i, ck.value, 16);
        off += o->part_sizes[i];
    }
    fs3_md5(md5s, (size_t)o->nparts * 16, d);
    free(md5s);
    fs3_etag_hex(d, o->nparts, o->etag);
    return o->etag;
}

/* ---- Results. ------------------------------------------------------------- */

void fs3_res_error(struct s3_result *res, int status, enum s3_code code, const char *msg)
{
    res->transport = S3_TR_OK;
    res->status = status;
    res->code = code;
    snprintf(res->message, sizeof res->message, "%s", msg);
}

static size_t fs3_cksum_len(enum s3_cksum alg)
{
    switch (alg) {
    case S3_CKSUM_MD5: return 16;
    case S3_CKSUM_SHA256: return 32;
    case S3_CKSUM_SHA1: return 20;
    case S3_CKSUM_CRC64NVME: return 8;
    case S3_CKSUM_CRC32C:
    case S3_CKSUM_CRC32: return 4;
    case S3_CKSUM_NONE: break;
    }
    return 0;
}

/* Verifies the request's checksum of buf, when one was sent.  On success
 * res->cksum holds the store's checksum (same algorithm) and, for MD5,
 * md5_out the digest.  Returns 0, or 1 after filling an error into res. */
int fs3_verify_cksum(const struct s3_req *req, const uint8_t *buf, size_t len,
                     struct s3_result *res, uint8_t md5_out[16], bool *md5_known)
{
    *md5_known = false;
    if (req->cksum.alg == S3_CKSUM_NONE)
        return 0;
    if ((unsigned)req->cksum.alg > S3_CKSUM_LAST ||
        req->cksum.len != fs3_cksum_len(req->cksum.alg)) {
        fs3_res_error(res, 400, S3E_INVALID_DIGEST, "The checksum you specified is not valid.");
        return 1;
    }
    /* Reused when the client computed it over the same, unchanged bytes of
     * the same shared buffer (s3_checksum_buf), or of the same segments
     * (s3_checksum_req_segs): a write since recomputes. */
    if (req->nsegs)
        s3_checksum_req_segs(req->cksum.alg, req, &res->cksum);
    else
        s3_checksum_buf(req->cksum.alg, req->body_buf, buf, len, &res->cksum);
    if (!s3_checksum_equal(&res->cksum, &req->cksum)) {
        memset(&res->cksum, 0, sizeof res->cksum);
        fs3_res_error(res, 400, S3E_BAD_DIGEST,
                      "The checksum you specified did not match what we received.");
        return 1;
    }
    if (req->cksum.alg == S3_CKSUM_MD5) {
        memcpy(md5_out, res->cksum.value, 16);
        *md5_known = true;
    }
    return 0;
}

static bool fs3_key_too_long(const char *key, size_t klen, struct s3_result *res)
{
    (void)key;
    if (klen <= S3_MAX_KEY)
        return false;
    fs3_res_error(res, 400, S3E_INVALID_ARGUMENT, "KeyTooLongError: Your key is too long");
    return true;
}

/* ---- Keys and the history. ------------------------------------------------ */

static struct fs3_ent *fs3_ent_find(struct fs3 *s, const char *key, size_t klen, uint64_t h)
{
    return (struct fs3_ent *)fs3_tab_get(&s->keys, key, klen, h);
}

static void fs3_ent_drop(struct fs3 *s, struct fs3_ent *e)
{
    fs3_tab_del(&s->keys, &e->h);
    s->sorted_ok = false;
    free(e);
}

static int fs3_hlog_push(struct fs3 *s, struct fs3_ent *e, int64_t now)
{
    if (s->hhead + s->hlen == s->hcap) {
        if (s->hhead > s->hcap / 2) {
            memmove(s->hlog, s->hlog + s->hhead, s->hlen * sizeof *s->hlog);
            s->hhead = 0;
        } else {
            size_t cap = s->hcap ? s->hcap * 2 : 256;
            struct fs3_hrec *n = realloc(s->hlog, cap * sizeof *n);
            if (!n)
                return ERR_NOMEM;
            s->hlog = n;
            s->hcap = cap;
        }
    }
    s->hlog[s->hhead + s->hlen++] = (struct fs3_hrec){now, e};
    e->refs++;
    return 0;
}

/* Drops the versions no view in [now - window, now] can see. */
static void fs3_prune(struct fs3 *s, int64_t now)
{
    int64_t cutoff = now - s->cfg.history_us;
    while (s->hlen && s->hlog[s->hhead].t <= cutoff) {
        struct fs3_ent *e = s->hlog[s->hhead].e;
        struct fs3_ver **pv = &e->hist;
        s->hhead++;
        s->hlen--;
        /* The oldest record of e names its oldest version: the tail. */
        while (*pv && (*pv)->next)
            pv = &(*pv)->next;
        if (*pv) {
            fs3_obj_free((*pv)->obj);
            free(*pv);
            *pv = NULL;
        }
        if (--e->refs == 0 && !e->obj && !e->hist)
            fs3_ent_drop(s, e);
    }
    if (!s->hlen)
        s->hhead = 0;
}

static struct fs3_ent *fs3_ent_new(struct fs3 *s, const char *key, size_t klen, uint64_t h)
{
    struct fs3_ent *e = malloc(sizeof *e + klen + 1);
    if (!e)
        return NULL;
    memcpy(e->keybuf, key, klen);
    e->keybuf[klen] = 0;
    e->h = (struct fs3_hnode){h, (uint32_t)klen, e->keybuf};
    e->obj = NULL;
    e->hist = NULL;
    e->refs = 0;
    if (fs3_tab_put(&s->keys, &e->h)) {
        free(e);
        return NULL;
    }
    s->sorted_ok = false;
    return e;
}

/* Keeps e's current version in the history (window on), else frees it. */
static int fs3_supersede(struct fs3 *s, struct fs3_ent *e, int64_t now)
{
    if (s->cfg.history_us <= 0) {
        fs3_obj_free(e->obj);
        return 0;
    }
    struct fs3_ver *v = malloc(sizeof *v);
    if (!v)
        return ERR_NOMEM;
    if (fs3_hlog_push(s, e, now)) {
        free(v);
        return ERR_NOMEM;
    }
    *v = (struct fs3_ver){e->hist, e->mtime, e->obj};
    e->hist = v;
    return 0;
}

/* Makes obj (NULL: absent) the current version of key, now.  Takes obj. */
int fs3_set(struct fs3 *s, const char *key, size_t klen, struct fs3_obj *obj)
{
    int64_t now = env_now(s->env);
    uint64_t h = fs3_hash(key, klen);
    struct fs3_ent *e = fs3_ent_find(s, key, klen, h);
    bool fresh = !e;
    if (!e && !obj)
        return 0;
    if (!e && !(e = fs3_ent_new(s, key, klen, h))) {
        fs3_obj_free(obj);
        return ERR_NOMEM;
    }
    if (!fresh && !e->obj && !obj)
        return 0; /* deleting a tombstone */
    if (!fresh) {
        uint64_t size = e->obj ? e->obj->size : 0;
        bool had = e->obj != NULL;
        if (fs3_supersede(s, e, now)) {
            fs3_obj_free(obj);
            return ERR_NOMEM;
        }
        s->nkeys -= had;
        s->nbytes -= size;
    }
    e->obj = obj;
    e->mtime = now;
    if (obj)
        obj->mtime = now;
    if (obj) {
        s->nkeys++;
        s->nbytes += obj->size;
    } else if (!e->refs && !e->hist && !fs3_upload_open_for(s, key)) {
        /* (A tombstone stays while an upload of the key is open: its
         * conditional Complete must see the delete as a conflict.) */
        fs3_ent_drop(s, e);
    }
    if (s->hlen)
        fs3_prune(s, now);
    return 0;
}

/* The version of key visible as of as_of (FS3_AS_OF_NOW: current). */
struct fs3_obj *fs3_lookup(struct fs3 *s, const char *key, int64_t as_of)
{
    size_t klen = strlen(key);
    struct fs3_ent *e = fs3_ent_find(s, key, klen, fs3_hash(key, klen));
    if (!e)
        return NULL;
    if (as_of >= e->mtime)
        return e->obj;
    for (struct fs3_ver *v = e->hist; v; v = v->next)
        if (as_of >= v->t)
            return v->obj;
    return NULL;
}

static struct fs3_obj *fs3_ent_at(const struct fs3_ent *e, int64_t as_of)
{
    if (as_of >= e->mtime)
        return e->obj;
    for (struct fs3_ver *v = e->hist; v; v = v->next)
        if (as_of >= v->t)
            return v->obj;
    return NULL;
}

void fs3_keep_history(struct fs3 *s, int64_t window_us)
{
    if (window_us > s->cfg.history_us)
        s->cfg.history_us = window_us;
}

/* ---- Conditional requests. ------------------------------------------------ */

/* Whether the If-Match / If-None-Match list h ("*", or ETags separated by
 * commas, quoted or not, weak W/ prefixes allowed) names etag (quoted). */
static bool fs3_etag_listed(const char *h, const char *etag)
{
    size_t elen;
    if (*etag == '"')
        etag++;
    elen = strcspn(etag, "\"");
    for (;;) {
        const char *t;
        size_t n;
        h += strspn(h, " \t,");
        if (!*h)
            return false;
        if (*h == '*')
            return true;
        if (h[0] == 'W' && h[1] == '/')
            h += 2;
        if (*h == '"') {
            t = ++h;
            n = strcspn(t, "\"");
            h = t + n + (t[n] == '"');
        } else {
            t = h;
            n = strcspn(t, " \t,");
            h = t + n;
        }
        if (n == elen && memcmp(t, etag, n) == 0)
            return true;
    }
}

int fs3_write_conditions(struct fs3 *s, const struct s3_req *req, int64_t since_us,
                         struct s3_result *res)
{
    const char *inm = req->if_none_match, *im = req->if_match;
    struct fs3_ent *e;
    struct fs3_obj *o;
    size_t klen;
    if (!inm && !im)
        return 0;
    if (inm && strcmp(inm + strspn(inm, " \t"), "*") != 0) {
        fs3_res_error(res, 501, S3E_NOT_IMPLEMENTED,
                      "A header you provided implies functionality that is not implemented");
        return 1;
    }
    klen = strlen(req->key);
    e = fs3_ent_find(s, req->key, klen, fs3_hash(req->key, klen));
    o = e ? e->obj : NULL;
    if (since_us >= 0 && e && e->mtime > since_us) {
        fs3_res_error(res, 409, S3E_CONDITIONAL_CONFLICT,
                      "A conflicting conditional operation is currently in progress against "
                      "this resource. Please try again.");
        return 1;
    }
    if (im && !o) {
        fs3_res_error(res, 404, S3E_NO_SUCH_KEY, "The specified key does not exist.");
        return 1;
    }
    if ((im && !fs3_etag_listed(im, fs3_obj_etag(o))) || (inm && o)) {
        fs3_res_error(res, 412, S3E_PRECONDITION_FAILED,
                      "At least one of the pre-conditions you specified did not hold");
        return 1;
    }
    return 0;
}

int fs3_meta_take(const struct s3_req *req, char **out, struct s3_result *res)
{
    size_t n;
    *out = NULL;
    if (!req->meta || !*req->meta)
        return 0;
    n = strlen(req->meta);
    if (n >= S3_META_MAX) {
        fs3_res_error(res, 400, S3E_METADATA_TOO_LARGE,
                      "Your metadata headers exceed the maximum allowed metadata size.");
        return 1;
    }
    if (!(*out = malloc(n + 1)))
        return ERR_NOMEM;
    memcpy(*out, req->meta, n + 1);
    return 0;
}

/* The version's metadata and time into a get or head answer. */
static void fs3_res_meta(struct s3_result *res, const struct fs3_obj *o)
{
    snprintf(res->meta, sizeof res->meta, "%s", o->meta ? o->meta : "");
    res->mtime_us = o->mtime;
}

/* GET and HEAD: If-Match failing answers 412, If-None-Match matching 304
 * (RFC 9110's order: If-Match first).  1 when answered. */
static int fs3_read_conditions(const struct s3_req *req, struct fs3_obj *o,
                               struct s3_result *res)
{
    if ((req->if_match && !fs3_etag_listed(req->if_match, fs3_obj_etag(o))) ||
        (!req->if_match && req->if_unmodified_since.set &&
         o->mtime >= req->if_unmodified_since.us)) {
        fs3_res_error(res, 412, S3E_PRECONDITION_FAILED,
                      "At least one of the pre-conditions you specified did not hold");
        return 1;
    }
    if ((req->if_none_match && fs3_etag_listed(req->if_none_match, fs3_obj_etag(o))) ||
        (!req->if_none_match && req->if_modified_since.set &&
         o->mtime < req->if_modified_since.us)) {
        res->status = 304;
        res->code = S3E_NONE;
        res->object_size = o->size;
        fs3_res_meta(res, o);
        snprintf(res->etag, sizeof res->etag, "%s", fs3_obj_etag(o));
        return 1;
    }
    return 0;
}

/* ---- Single-object operations. -------------------------------------------- */

static int fs3_exec_put(struct fs3 *s, const struct s3_req *req, struct s3_result *res)
{
    size_t klen = strlen(req->key);
    uint8_t md5[16];
    bool md5_known;
    if (fs3_key_too_long(req->key, klen, res) ||
        fs3_verify_cksum(req, req->body, req->body_len, res, md5, &md5_known) ||
        fs3_write_conditions(s, req, -1, res))
        return 0;
    char *meta;
    int mrc = fs3_meta_take(req, &meta, res);
    if (mrc)
        return mrc == 1 ? 0 : mrc;
    struct fs3_obj *o = fs3_obj_new(req->body_len);
    if (!o) {
        free(meta);
        return ERR_NOMEM;
    }
    o->meta = meta;
    if (fs3_segs_take_req(&o->segs, req)) {
        fs3_obj_free(o);
        return ERR_NOMEM;
    }
    if (md5_known)
        fs3_etag_hex(md5, 0, o->etag);
    if (fs3_set(s, req->key, klen, o))
        return ERR_NOMEM;
    res->status = 200;
    memcpy(res->etag, o->etag, sizeof res->etag);
    return 0;
}

static int fs3_exec_get(struct fs3 *s, const struct s3_req *req, int64_t as_of,
                        struct s3_result *res)
{
    return fs3_get_obj(req, fs3_lookup(s, req->key, as_of), res);
}

/* [start, end) of an object as pieces of its segments, each a reference
 * (s3_result.segs); nothing when a segment has no buffer.  0 or -1. */
static int fs3_get_segs(const struct fs3_segs *s, uint64_t start, uint64_t end,
                        struct s3_result *res)
{
    struct fs3_segs v = {0};
    if (fs3_segs_slice(&v, s, start, end))
        return -1;
    for (uint32_t i = 0; i < v.n; i++)
        if (!v.v[i].b) {
            fs3_segs_free(&v);
            return 0;
        }
    if (!(res->segs = malloc(v.n * sizeof *res->segs))) {
        fs3_segs_free(&v);
        return -1;
    }
    for (uint32_t i = 0; i < v.n; i++) /* the slice's references become the result's */
        res->segs[i] = (struct s3_seg){v.v[i].b, v.v[i].p, (size_t)v.v[i].len, 0};
    res->nsegs = v.n;
    free(v.v);
    return 0;
}

int fs3_get_obj(const struct s3_req *req, struct fs3_obj *o, struct s3_result *res)
{
    uint64_t start = 0, end;
    if (!o) {
        fs3_res_error(res, 404, S3E_NO_SUCH_KEY, "The specified key does not exist.");
        return 0;
    }
    if (fs3_read_conditions(req, o, res))
        return 0;
    end = o->size;
    res->status = 200;
    /* No range (0, -1), or a range S3 would ignore as malformed: all of it. */
    if (!(req->range_start == 0 && req->range_end < 0) &&
        !(req->range_end >= 0 && req->range_end <= req->range_start)) {
        if ((uint64_t)req->range_start >= o->size) {
            fs3_res_error(res, 416, S3E_INVALID_RANGE, "The requested range is not satisfiable");
            res->object_size = o->size;
            return 0;
        }
        start = (uint64_t)req->range_start;
        if (req->range_end >= 0 && (uint64_t)req->range_end < o->size)
            end = (uint64_t)req->range_end;
        res->status = 206;
    }
    if (req->body_by_ref && end > start) { /* within one segment: its bytes, shared */
        uint64_t at = 0;
        for (uint32_t i = 0; i < o->segs.n && at < end; i++) {
            const struct fs3_seg *g = &o->segs.v[i];
            if (g->b && start >= at && end <= at + g->len) {
                res->body_ref = buf_ref(g->b);
                res->body = (uint8_t *)(uintptr_t)(g->p + (start - at)); /* read-only */
                break;
            }
            at += g->len;
        }
        if (!res->body_ref && req->body_segs && fs3_get_segs(&o->segs, start, end, res) < 0)
            return ERR_NOMEM;
        if (res->segs) {
            res->body_len = end - start;
            res->object_size = o->size;
            memcpy(res->etag, o->etag, sizeof res->etag);
            fs3_res_meta(res, o);
            return 0;
        }
    }
    if (!res->body && !(res->body = malloc(end - start ? end - start : 1)))
        return ERR_NOMEM;
    if (!res->body_ref)
        fs3_segs_copy_out(&o->segs, start, end, res->body);
    res->body_len = end - start;
    res->object_size = o->size;
    memcpy(res->etag, o->etag, sizeof res->etag);
    fs3_res_meta(res, o);
    return 0;
}

static int fs3_exec_head(struct fs3 *s, const struct s3_req *req, int64_t as_of,
                         struct s3_result *res)
{
    return fs3_head_obj(req, fs3_lookup(s, req->key, as_of), res);
}

int fs3_head_obj(const struct s3_req *req, struct fs3_obj *o, struct s3_result *res)
{
    if (!o) {
        fs3_res_error(res, 404, S3E_NO_SUCH_KEY, "The specified key does not exist.");
        return 0;
    }
    if (fs3_read_conditions(req, o, res))
        return 0;
    res->status = 200;
    res->object_size = o->size;
    snprintf(res->etag, sizeof res->etag, "%s",
             req->skip_etag && !o->etag[0] ? "" : fs3_obj_etag(o));
    fs3_res_meta(res, o);
    return 0;
}

static int fs3_exec_delete(struct fs3 *s, const struct s3_req *req, struct s3_result *res)
{
    size_t klen = strlen(req->key);
    if (fs3_key_too_long(req->key, klen, res))
        return 0;
    if (!fs3_lookup(s, req->key, FS3_AS_OF_NOW)) {
        if (s->cfg.delete_missing_status == 404)
            fs3_res_error(res, 404, S3E_NO_SUCH_KEY, "The specified key does not exist.");
        else
            res->status = 204;
        return 0;
    }
    if (fs3_set(s, req->key, klen, NULL))
        return ERR_NOMEM;
    res->status = 204;
    return 0;
}

static int fs3_exec_delete_many(struct fs3 *s, const struct s3_req *req, struct s3_result *res)
{
    if (req->nkeys == 0 || req->nkeys > S3_MAX_DELETE_KEYS) {
        fs3_res_error(res, 400, S3E_MALFORMED_XML,
                      "The XML you provided was not well-formed or did not validate against "
                      "our published schema");
        return 0;
    }
    res->deleted = calloc(req->nkeys, sizeof *res->deleted);
    if (!res->deleted)
        return ERR_NOMEM;
    res->ndeleted = req->nkeys;
    for (size_t i = 0; i < req->nkeys; i++) {
        size_t klen = strlen(req->keys[i]);
        res->deleted[i].key = req->keys[i];
        if (klen > S3_MAX_KEY)
            res->deleted[i].code = S3E_INVALID_ARGUMENT;
        else if (fs3_set(s, req->keys[i], klen, NULL))
            res->deleted[i].code = S3E_INTERNAL_ERROR;
    }
    res->status = 200;
    return 0;
}

/* ---- Listing. ------------------------------------------------------------- */

static int fs3_ent_cmp(const void *a, const void *b)
{
    const struct fs3_ent *x = *(const struct fs3_ent *const *)a;
    const struct fs3_ent *y = *(const struct fs3_ent *const *)b;
    return strcmp(x->h.key, y->h.key);
}

/* Sorts every entry (tombstones too) by key, once per change of the key set. */
static int fs3_sort(struct fs3 *s)
{
    if (s->sorted_ok)
        return 0;
    struct fs3_ent **a = realloc(s->sorted, (s->keys.n ? s->keys.n : 1) * sizeof *a);
    if (!a)
        return ERR_NOMEM;
    s->sorted = a;
    s->nsorted = 0;
    for (size_t i = 0; i < s->keys.cap; i++)
        if (s->keys.slots[i])
            a[s->nsorted++] = (struct fs3_ent *)s->keys.slots[i];
    qsort(a, s->nsorted, sizeof *a, fs3_ent_cmp);
    s->sorted_ok = true;
    return 0;
}

/* The first sorted index whose key is >= key (after: > key). */
static size_t fs3_lower(struct fs3 *s, const char *key, bool after)
{
    size_t lo = 0, hi = s->nsorted;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->sorted[mid]->h.key, key);
        if (c < 0 || (after && c == 0))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int fs3_exec_list(struct fs3 *s, const struct s3_req *req, int64_t as_of,
                         struct s3_result *res)
{
    const char *prefix = req->prefix ? req->prefix : "";
    size_t plen = strlen(prefix), i, cap;
    int max = req->max_keys == 0 ? 1000 : req->max_keys > 1000 ? 1000 : req->max_keys;
    if (req->max_keys < 0) {
        fs3_res_error(res, 400, S3E_INVALID_ARGUMENT, "max-keys must be >= 0");
        return 0;
    }
    if (fs3_sort(s))
        return ERR_NOMEM;
    i = fs3_lower(s, prefix, false);
    if (req->token && req->token[0] && strcmp(req->token, prefix) >= 0)
        i = fs3_lower(s, req->token, true);
    cap = 16;
    res->entries = malloc(cap * sizeof *res->entries);
    if (!res->entries)
        return ERR_NOMEM;
    res->status = 200;
    for (; i < s->nsorted && strncmp(s->sorted[i]->h.key, prefix, plen) == 0; i++) {
        struct fs3_obj *o = fs3_ent_at(s->sorted[i], as_of);
        if (!o)
            continue;
        if (res->nentries == (size_t)max) {
            res->truncated = true;
            snprintf(res->next_token, sizeof res->next_token, "%s",
                     res->entries[res->nentries - 1].key);
            break;
        }
        if (res->nentries == cap) {
            struct s3_list_entry *n = realloc(res->entries, 2 * cap * sizeof *n);
            if (!n)
                return ERR_NOMEM;
            res->entries = n;
            cap *= 2;
        }
        struct s3_list_entry *le = &res->entries[res->nentries];
        memset(le, 0, sizeof *le);
        if (!(le->key = strdup(s->sorted[i]->h.key)))
            return ERR_NOMEM;
        res->nentries++;
        le->size = o->size;
        le->mtime_us = o->mtime;
        memcpy(le->etag, o->etag, sizeof le->etag);
    }
    return 0;
}

/* ---- Dispatch. ------------------------------------------------------------ */

int fs3_validate(const struct s3_req *req)
{
    if (!req || !req->cb || (unsigned)req->op >= S3_OP_COUNT)
        return ERR_INVAL;
    switch (req->op) {
    case S3_OP_LIST:
    case S3_OP_LIST_UPLOADS: return 0;
    case S3_OP_DELETE_MANY:
        if (req->nkeys && !req->keys)
            return ERR_INVAL;
        for (size_t i = 0; i < req->nkeys; i++)
            if (!req->keys[i] || !req->keys[i][0])
                return ERR_INVAL;
        return 0;
    default: break;
    }
    if (!req->key || !req->key[0])
        return ERR_INVAL;
    if ((req->op == S3_OP_PUT || req->op == S3_OP_MPU_PART) && req->body_len && !req->body &&
        !req->nsegs)
        return ERR_INVAL;
    if ((req->op == S3_OP_GET || req->op == S3_OP_MPU_COPY) && req->range_start < 0)
        return ERR_INVAL;
    if (req->op == S3_OP_MPU_COPY && (!req->copy_source || !req->copy_source[0]))
        return ERR_INVAL;
    if ((req->op == S3_OP_MPU_PART || req->op == S3_OP_MPU_COPY ||
         req->op == S3_OP_MPU_COMPLETE || req->op == S3_OP_MPU_ABORT) &&
        !req->upload_id)
        return ERR_INVAL;
    if (req->op == S3_OP_MPU_COMPLETE && req->nparts && !req->parts)
        return ERR_INVAL;
    return 0;
}

int fs3_exec(struct fs3 *s, const struct s3_req *req, int64_t as_of_us, struct s3_result *res)
{
    int rc;
    res->transport = S3_TR_OK;
    /* A bucket that never had versioning, asked for no version: as before
     * versioning existed (store_ver.c otherwise). */
    if (s->ver || req->version_id || req->version_ids)
        rc = fs3_ver_exec(s, req, as_of_us, res);
    else
        rc = fs3_exec_plain(s, req, as_of_us, res);
    if (rc)
        s3_result_cleanup(res);
    return rc;
}

int fs3_exec_plain(struct fs3 *s, const struct s3_req *req, int64_t as_of_us,
                   struct s3_result *res)
{
    int rc;
    switch (req->op) {
    case S3_OP_PUT: rc = fs3_exec_put(s, req, res); break;
    case S3_OP_GET: rc = fs3_exec_get(s, req, as_of_us, res); break;
    case S3_OP_HEAD: rc = fs3_exec_head(s, req, as_of_us, res); break;
    case S3_OP_LIST: rc = fs3_exec_list(s, req, as_of_us, res); break;
    case S3_OP_DELETE: rc = fs3_exec_delete(s, req, res); break;
    case S3_OP_DELETE_MANY: rc = fs3_exec_delete_many(s, req, res); break;
    default: rc = fs3_exec_mpu(s, req, res); break;
    }
    return rc;
}

/* ---- Inspection. ---------------------------------------------------------- */

void fs3_each_key(struct fs3 *s, fs3_key_fn fn, void *arg)
{
    if (fs3_sort(s))
        return;
    for (size_t i = 0; i < s->nsorted; i++)
        if (s->sorted[i]->obj && !fn(arg, s->sorted[i]->h.key, s->sorted[i]->obj->size))
            return;
}

bool fs3_key_exists(struct fs3 *s, const char *key, uint64_t *size)
{
    struct fs3_obj *o = fs3_lookup(s, key, FS3_AS_OF_NOW);
    if (o && size)
        *size = o->size;
    return o != NULL;
}

int fs3_remove(struct fs3 *s, const char *key)
{
    if (!fs3_lookup(s, key, FS3_AS_OF_NOW))
        return ERR_NOTFOUND;
    return fs3_set(s, key, strlen(key), NULL);
}

uint64_t fs3_nkeys(const struct fs3 *s) { return s->nkeys; }
uint64_t fs3_nbytes(const struct fs3 *s) { return s->nbytes; }
uint64_t fs3_nuploads(const struct fs3 *s) { return s->uploads.n; }
uint64_t fs3_inflight(const struct fs3 *s) { return s->inflight; }
uint64_t fs3_nversions(const struct fs3 *s) { return s->hlen; }

void fs3_inflight_add(struct fs3 *s, int delta)
{
    s->inflight += (uint64_t)(int64_t)delta;
}

/* ---- Lifecycle. ----------------------------------------------------------- */

void fs3_config_init(struct fs3_config *cfg)
{
    cfg->min_part_size = FS3_MIN_PART_DEFAULT;
    cfg->delete_missing_status = 204;
    cfg->latency_us = FS3_LATENCY_DEFAULT;
    cfg->bandwidth = FS3_BANDWIDTH_DEFAULT;
    cfg->history_us = 0;
    cfg->lifecycle_abort_us = ENV_TIME_NEVER;
    cfg->lifecycle_day_us = 86400 * ENV_USEC_PER_SEC;
    cfg->complete_repeat_ok = true;
}

const struct fs3_config *fs3_config(const struct fs3 *s) { return &s->cfg; }

struct fs3 *fs3_new(struct env *env, const struct fs3_config *cfg)
{
    struct fs3 *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->env = env;
    if (cfg)
        s->cfg = *cfg;
    else
        fs3_config_init(&s->cfg);
    fs3_ops_init(s);
    return s;
}

static void fs3_ent_free(struct fs3_ent *e)
{
    struct fs3_ver *v = e->hist;
    while (v) {
        struct fs3_ver *next = v->next;
        fs3_obj_free(v->obj);
        free(v);
        v = next;
    }
    fs3_obj_free(e->obj);
    free(e);
}

void fs3_free(struct fs3 *s)
{
    if (!s)
        return;
    env_cancel(s->env, s->lifecycle_timer);
    fs3_calls_free(s);
    fs3_ver_free(s);
    fs3_lifecycle_free(s);
    for (size_t i = 0; i < s->keys.cap; i++)
        if (s->keys.slots[i])
            fs3_ent_free((struct fs3_ent *)s->keys.slots[i]);
    for (size_t i = 0; i < s->uploads.cap; i++)
        if (s->uploads.slots[i])
            fs3_upload_free((struct fs3_upload *)s->uploads.slots[i]);
    fs3_tab_free(&s->keys);
    fs3_tab_free(&s->uploads);
    for (size_t i = 0; s->done && i < FS3_DONE_MAX; i++)
        free(s->done[i].key);
    free(s->done);
    free(s->sorted);
    free(s->hlog);
    free(s);
}
