/* obj.c - normal object format: records, blocks, index, footer, tail read (see obj.h). */
#include "obj.h"

#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Big-endian helpers. ---------------------------------------------------- */

void obj_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

void obj_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

uint64_t obj_get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

uint32_t obj_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int32_t get_i32(const uint8_t *p) { return (int32_t)obj_get_u32(p); }
static int64_t get_i64(const uint8_t *p) { return (int64_t)obj_get_u64(p); }

/* Wraps a 64-bit delta to 32 bits the way Java's (int) cast does. */
static int32_t wrap32(int64_t v) { return (int32_t)(uint32_t)(uint64_t)v; }

/* ---- Records. ---------------------------------------------------------------- */

size_t obj_record_encode(uint8_t *out, const struct obj_record *r)
{
    out[0] = OBJ_RECORD_MAGIC;
    obj_put_u64(out + 1, (uint64_t)r->stream);
    obj_put_u64(out + 9, (uint64_t)r->epoch);
    obj_put_u64(out + 17, (uint64_t)r->base);
    obj_put_u32(out + 25, (uint32_t)r->count);
    obj_put_u32(out + 29, r->len);
    if (r->len && r->payload) /* NULL: the caller writes the payload (obj_builder_add_space) */
        memcpy(out + OBJ_RECORD_HEADER, r->payload, r->len);
    return OBJ_RECORD_HEADER + (size_t)r->len;
}

int obj_record_decode(const uint8_t *buf, size_t len, struct obj_record *r, size_t *used)
{
    int32_t plen;
    if (len < OBJ_RECORD_HEADER || buf[0] != OBJ_RECORD_MAGIC)
        return ERR_CORRUPT;
    plen = get_i32(buf + 29);
    if (plen < 0 || (size_t)plen > len - OBJ_RECORD_HEADER)
        return ERR_CORRUPT;
    r->stream = get_i64(buf + 1);
    r->epoch = get_i64(buf + 9);
    r->base = get_i64(buf + 17);
    r->count = get_i32(buf + 25);
    r->len = (uint32_t)plen;
    r->payload = buf + OBJ_RECORD_HEADER;
    *used = OBJ_RECORD_HEADER + (size_t)plen;
    return 0;
}

/* ---- Blocks and groups. -------------------------------------------------------- */

struct group_walk {
    const struct obj_index_entry *e; /* the entry being walked */
    int64_t next;                    /* expected next offset */
    int64_t records;                 /* record batches seen */
};

/* Walks the records of one block's data area. */
static int walk_block(struct group_walk *w, const uint8_t *p, size_t dlen, int32_t nrec,
                      obj_record_fn fn, void *arg)
{
    size_t off = 0;
    int32_t seen = 0;
    while (off < dlen) {
        struct obj_record r;
        size_t used;
        int rc = obj_record_decode(p + off, dlen - off, &r, &used);
        if (rc)
            return rc;
        /* The first record starts the entry; later ones may leave a hole
         * (sparse offsets) but never go back. */
        if (r.stream != w->e->stream || r.count < 1 || seen == INT32_MAX ||
            r.base > INT64_MAX - r.count || /* its end offset must be representable */
            (w->records + seen == 0 ? r.base != w->e->start : r.base < w->next))
            return ERR_CORRUPT;
        w->next = r.base + r.count;
        seen++;
        off += used;
        if (fn && (rc = fn(arg, &r)) != 0)
            return rc;
    }
    if (seen != nrec)
        return ERR_CORRUPT;
    w->records += seen;
    return 0;
}

int obj_group_parse(const uint8_t *buf, size_t len, const struct obj_index_entry *e,
                    unsigned flags, obj_record_fn fn, void *arg)
{
    struct group_walk w = {e, e->start, 0};
    size_t off = 0;
    if (e->size < 0 || len != (size_t)e->size || len == 0)
        return ERR_CORRUPT;
    while (off < len) {
        const uint8_t *h = buf + off;
        int32_t nrec, dlen;
        int rc;
        if (len - off < OBJ_BLOCK_HEADER || h[0] != OBJ_BLOCK_MAGIC || h[1] != OBJ_BLOCK_FLAG)
            return ERR_CORRUPT;
        nrec = get_i32(h + 2);
        dlen = get_i32(h + 6);
        if (nrec < 1 || dlen < 0 || (size_t)dlen > len - off - OBJ_BLOCK_HEADER)
            return ERR_CORRUPT;
        rc = walk_block(&w, h + OBJ_BLOCK_HEADER, (size_t)dlen, nrec, fn, arg);
        if (rc)
            return rc;
        off += OBJ_BLOCK_HEADER + (size_t)dlen;
    }
    if (w.records != e->count)
        return ERR_CORRUPT;
    if (flags & OBJ_PARSE_WRAP_OK) {
        if (wrap32(w.next - e->start) != e->end_delta)
            return ERR_CORRUPT;
    } else if (w.next != obj_entry_end(e)) {
        return ERR_CORRUPT;
    }
    return 0;
}

/* ---- Index and footer. ------------------------------------------------------------ */

void obj_entry_encode(uint8_t *out, const struct obj_index_entry *e)
{
    obj_put_u64(out, (uint64_t)e->stream);
    obj_put_u64(out + 8, (uint64_t)e->start);
    obj_put_u32(out + 16, (uint32_t)e->end_delta);
    obj_put_u32(out + 20, (uint32_t)e->count);
    obj_put_u64(out + 24, (uint64_t)e->pos);
    obj_put_u32(out + 32, (uint32_t)e->size);
}

void obj_entry_decode(const uint8_t *in, struct obj_index_entry *e)
{
    e->stream = get_i64(in);
    e->start = get_i64(in + 8);
    e->end_delta = get_i32(in + 16);
    e->count = get_i32(in + 20);
    e->pos = get_i64(in + 24);
    e->size = get_i32(in + 32);
}

void obj_footer_encode(uint8_t *out, int64_t index_pos, uint32_t index_len, bool composite)
{
    memset(out, 0, OBJ_FOOTER_SIZE);
    obj_put_u64(out, (uint64_t)index_pos);
    obj_put_u32(out + 8, index_len);
    obj_put_u64(out + 40, composite ? OBJ_COMPOSITE_MAGIC : OBJ_MAGIC);
}

int obj_footer_decode(const uint8_t *buf, uint64_t obj_size, struct obj_footer *f)
{
    uint64_t magic = obj_get_u64(buf + 40);
    int64_t pos = get_i64(buf);
    uint32_t ilen = obj_get_u32(buf + 8);
    if (magic != OBJ_MAGIC && magic != OBJ_COMPOSITE_MAGIC)
        return ERR_CORRUPT;
    for (int i = 12; i < 40; i++)
        if (buf[i])
            return ERR_CORRUPT;
    if (obj_size < OBJ_FOOTER_SIZE || pos < 0 ||
        (uint64_t)pos > obj_size - OBJ_FOOTER_SIZE ||
        (uint64_t)ilen != obj_size - OBJ_FOOTER_SIZE - (uint64_t)pos)
        return ERR_CORRUPT;
    f->index_pos = pos;
    f->index_len = ilen;
    f->composite = magic == OBJ_COMPOSITE_MAGIC;
    return 0;
}

/* Sanity of one decoded entry against the previous one. */
static bool entry_sane(const struct obj_index_entry *e, const struct obj_index_entry *prev,
                       int64_t data_end, unsigned flags)
{
    if (e->stream < 0 || e->start < 0 || e->pos < 0 || e->count < 1 ||
        e->size < OBJ_BLOCK_HEADER)
        return false;
    if (e->pos > data_end || (int64_t)e->size > data_end - e->pos)
        return false;
    if (!(flags & OBJ_PARSE_WRAP_OK) && (e->end_delta < 1 || e->start > INT64_MAX - e->end_delta))
        return false;
    if (prev && (e->stream < prev->stream || (e->stream == prev->stream && e->start <= prev->start)))
        return false;
    if (prev && !(flags & OBJ_PARSE_WRAP_OK) && e->stream == prev->stream &&
        e->start < obj_entry_end(prev))
        return false; /* overlapping entries */
    return true;
}

int obj_index_decode(const uint8_t *buf, size_t len, int64_t data_end, unsigned flags,
                     struct obj_index *idx)
{
    size_t n = len / OBJ_ENTRY_SIZE;
    idx->e = NULL;
    idx->n = 0;
    if (len % OBJ_ENTRY_SIZE)
        return ERR_CORRUPT;
    if (n == 0)
        return 0;
    idx->e = malloc(n * sizeof *idx->e);
    if (!idx->e)
        return ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        obj_entry_decode(buf + i * OBJ_ENTRY_SIZE, &idx->e[i]);
        if (!entry_sane(&idx->e[i], i ? &idx->e[i - 1] : NULL, data_end, flags)) {
            obj_index_free(idx);
            return ERR_CORRUPT;
        }
    }
    idx->n = n;
    return 0;
}

void obj_index_free(struct obj_index *idx)
{
    free(idx->e);
    idx->e = NULL;
    idx->n = 0;
}

size_t obj_index_find(const struct obj_index *idx, int64_t stream, int64_t offset)
{
    size_t lo = 0, hi = idx->n;
    /* First entry not below (stream, offset) by end: (stream, end) > (stream, offset). */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct obj_index_entry *e = &idx->e[mid];
        if (e->stream < stream || (e->stream == stream && obj_entry_end(e) <= offset))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < idx->n && idx->e[lo].stream != stream)
        return idx->n;
    return lo;
}

/* Whether entry x can join group g. */
static bool can_join(const struct obj_index_entry *g, const struct obj_index_entry *x,
                     uint32_t limit, bool guard)
{
    int64_t gend = g->start + g->end_delta;
    if (x->stream != g->stream || x->start < gend || x->pos != g->pos + g->size)
        return false;
    if ((uint64_t)g->size + (uint64_t)x->size > limit)
        return false;
    if (guard && (obj_entry_end(x) - g->start > INT32_MAX || (int64_t)g->count + x->count > INT32_MAX))
        return false;
    return true;
}

size_t obj_index_regroup(struct obj_index_entry *e, size_t n, uint32_t limit, bool guard)
{
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        struct obj_index_entry *g = out ? &e[out - 1] : NULL;
        if (g && can_join(g, &e[i], limit, guard)) {
            int64_t end = obj_entry_end(&e[i]);
            g->end_delta = wrap32(end - g->start);
            g->count = wrap32((int64_t)g->count + e[i].count);
            g->size += e[i].size;
        } else {
            e[out++] = e[i];
        }
    }
    return out;
}

/* ---- Tail read. --------------------------------------------------------------------- */

uint64_t obj_tail_start(uint64_t size)
{
    uint64_t want = OBJ_TAIL_BASE + size / (UINT64_C(1) << 20) * OBJ_ENTRY_SIZE;
    return size > want ? size - want : 0;
}

int obj_tail_parse(const uint8_t *buf, size_t len, uint64_t buf_start, uint64_t obj_size,
                   unsigned flags, struct obj_index *idx, uint64_t *reread_from)
{
    struct obj_footer f;
    int rc;
    idx->e = NULL;
    idx->n = 0;
    if (buf_start > obj_size || obj_size - buf_start != len)
        return ERR_INVAL;
    if (len < OBJ_FOOTER_SIZE)
        return ERR_CORRUPT;
    rc = obj_footer_decode(buf + len - OBJ_FOOTER_SIZE, obj_size, &f);
    if (rc)
        return rc;
    if (f.composite)
        return ERR_CORRUPT;
    if ((uint64_t)f.index_pos < buf_start) {
        if (flags & OBJ_PARSE_FINAL)
            return ERR_CORRUPT;
        *reread_from = (uint64_t)f.index_pos;
        return OBJ_REREAD;
    }
    return obj_index_decode(buf + ((uint64_t)f.index_pos - buf_start), f.index_len, f.index_pos,
                            flags, idx);
}

/* ---- Keys. -------------------------------------------------------------------------- */

int obj_namespace(const char *cluster, char *out, size_t outsz)
{
    size_t n = cluster ? strlen(cluster) : 0;
    if (n == 0 || n + 7 > OBJ_NS_MAX || outsz < n + 8)
        return ERR_INVAL;
    memcpy(out, "_kafka_", 7);
    memcpy(out + 7, cluster, n + 1);
    return 0;
}

/* Lowercase hex of id, at least 8 digits, reversed, into out; returns length. */
static size_t rev_hex(int64_t id, char *out)
{
    static const char digits[] = "0123456789abcdef";
    uint64_t v = (uint64_t)id;
    size_t n = 0;
    /* Least significant digit first is already the reversed order. */
    do {
        out[n++] = digits[v & 15];
        v >>= 4;
    } while (v);
    while (n < 8)
        out[n++] = '0';
    out[n] = 0;
    return n;
}

int obj_key(int64_t id, const char *ns, char *out, size_t outsz)
{
    char hex[24];
    size_t need;
    if (id < 0 || !ns || !*ns || strchr(ns, '/'))
        return ERR_INVAL;
    /* "%s/%s/%lld" of (reversed hex, ns, id), written by hand: keys are made
     * for every object an S3 call names (a percent of a field run's CPU in
     * snprintf). */
    size_t nh = rev_hex(id, hex), nn = strlen(ns), nd = 0;
    char dec[24];
    uint64_t v = (uint64_t)id;
    do {
        dec[sizeof dec - ++nd] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    need = nh + 1 + nn + 1 + nd;
    if (need + 1 > outsz)
        return ERR_RANGE;
    memcpy(out, hex, nh);
    out[nh] = '/';
    memcpy(out + nh + 1, ns, nn);
    out[nh + 1 + nn] = '/';
    memcpy(out + nh + nn + 2, dec + sizeof dec - nd, nd);
    out[need] = 0;
    return 0;
}

int obj_key_parse(const char *key, int64_t *id)
{
    const char *s1 = key ? strchr(key, '/') : NULL;
    const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    const char *p;
    char hex[24];
    uint64_t v = 0;
    if (!s2 || s2 == s1 + 1 || strchr(s2 + 1, '/') || !s2[1])
        return ERR_PARSE;
    for (p = s2 + 1; *p; p++) {
        if (*p < '0' || *p > '9' || p - s2 > 19 || (p == s2 + 1 && *p == '0' && p[1]))
            return ERR_PARSE;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v > (uint64_t)INT64_MAX)
        return ERR_PARSE;
    rev_hex((int64_t)v, hex);
    if ((size_t)(s1 - key) != strlen(hex) || memcmp(key, hex, strlen(hex)) != 0)
        return ERR_PARSE;
    *id = (int64_t)v;
    return 0;
}
