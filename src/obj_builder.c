/* obj_builder.c - the in-memory object builder of obj.h: records -> blocks -> index -> footer. */
#include "obj.h"

#include "buf.h"
#include "err.h"

#include <stdlib.h>
#include <string.h>

void obj_builder_init(struct obj_builder *b, const struct obj_builder_conf *conf)
{
    memset(b, 0, sizeof *b);
    if (conf)
        b->conf = *conf;
    else
        b->conf.int32_guard = true;
    if (b->conf.block_size == 0)
        b->conf.block_size = OBJ_BLOCK_SIZE_DEFAULT;
}

void obj_builder_free(struct obj_builder *b)
{
    if (b->mb)
        buf_unref(b->mb);
    else
        free(b->buf);
    free(b->e);
    b->mb = NULL;
    b->buf = NULL;
    b->e = NULL;
    b->len = b->cap = b->n = b->ecap = 0;
    b->open = false;
}

/* Makes room for extra more bytes in b->buf. */
static int grow(struct obj_builder *b, size_t extra)
{
    size_t cap = b->cap ? b->cap : 4096;
    uint8_t *p;
    if (extra > SIZE_MAX / 2 - b->len)
        return ERR_NOMEM;
    if (b->len + extra <= b->cap)
        return 0;
    while (cap < b->len + extra)
        cap *= 2;
    if (b->mb) {
        if (buf_reserve(b->mb, cap))
            return ERR_NOMEM;
        b->buf = b->mb->p;
        b->cap = b->mb->cap;
        return 0;
    }
    p = realloc(b->buf, cap);
    if (!p)
        return ERR_NOMEM;
    b->buf = p;
    b->cap = cap;
    return 0;
}

static int push_entry(struct obj_builder *b, const struct obj_index_entry *e)
{
    if (b->n == b->ecap) {
        size_t cap = b->ecap ? b->ecap * 2 : 64;
        struct obj_index_entry *p = realloc(b->e, cap * sizeof *p);
        if (!p)
            return ERR_NOMEM;
        b->e = p;
        b->ecap = cap;
    }
    b->e[b->n++] = *e;
    return 0;
}

/* Writes the open block's header and records its index entry. */
static int close_block(struct obj_builder *b)
{
    uint8_t *h;
    if (!b->open)
        return 0;
    h = b->buf + b->cur.pos;
    h[0] = OBJ_BLOCK_MAGIC;
    h[1] = OBJ_BLOCK_FLAG;
    obj_put_u32(h + 2, (uint32_t)(uint64_t)b->cur_records);
    obj_put_u32(h + 6, (uint32_t)(b->cur.size - OBJ_BLOCK_HEADER));
    b->cur.count = (int32_t)(uint32_t)(uint64_t)b->cur_records;
    b->cur.end_delta = (int32_t)(uint32_t)(uint64_t)(b->next_offset - b->cur.start);
    b->open = false;
    return push_entry(b, &b->cur);
}

/* Whether (stream, start) may follow what the builder holds. */
static bool in_order(const struct obj_builder *b, int64_t stream, int64_t start)
{
    int64_t ls, le;
    if (b->open) {
        ls = b->cur.stream;
        le = b->next_offset;
    } else if (b->n) {
        ls = b->e[b->n - 1].stream;
        le = obj_entry_end(&b->e[b->n - 1]);
    } else {
        return true;
    }
    return stream > ls || (stream == ls && start >= le);
}

/* Whether record r must start a new block. */
static bool must_cut(const struct obj_builder *b, const struct obj_record *r, size_t rsize)
{
    /* Offsets may jump forward inside a block (sparse offsets, as Kafka's
     * compacted batches leave them); the span is what the guard bounds. */
    if (!b->open || r->stream != b->cur.stream)
        return true;
    if (b->cur_payload >= b->conf.block_size || (uint64_t)b->cur.size + rsize > INT32_MAX)
        return true;
    if (b->conf.int32_guard &&
        (r->base + r->count - b->cur.start > INT32_MAX || b->cur_records >= INT32_MAX))
        return true;
    return false;
}

int obj_builder_reserve(struct obj_builder *b, size_t bytes)
{
    uint8_t *p;
    if (b->failed)
        return ERR_BADSTATE;
    if (bytes <= b->cap)
        return 0;
    if (b->mb) {
        if (buf_reserve(b->mb, bytes))
            return ERR_NOMEM;
        b->buf = b->mb->p;
        b->cap = b->mb->cap;
        return 0;
    }
    if (!(p = realloc(b->buf, bytes)))
        return ERR_NOMEM; /* the builder stays usable: it grows as it goes */
    b->buf = p;
    b->cap = bytes;
    return 0;
}

int obj_builder_reserve_map(struct obj_builder *b, size_t bytes)
{
    struct buf *m;
    if (b->failed)
        return ERR_BADSTATE;
    if (b->buf || b->mb)
        return obj_builder_reserve(b, bytes);
    if (!(m = buf_take(bytes)))
        return ERR_NOMEM;
    b->mb = m;
    b->buf = m->p;
    b->cap = m->cap;
    return 0;
}

int obj_builder_reserve_in(struct obj_builder *b, struct buf *m, size_t bytes)
{
    if (b->failed || b->buf || b->mb) {
        buf_unref(m);
        return ERR_BADSTATE;
    }
    b->mb = m;
    b->buf = m->p;
    b->cap = m->cap;
    return obj_builder_reserve(b, bytes);
}

int obj_builder_add(struct obj_builder *b, const struct obj_record *r)
{
    uint8_t *payload;
    int rc = obj_builder_add_space(b, r, &payload);
    if (rc == 0 && r->len)
        memcpy(payload, r->payload, r->len);
    return rc;
}

int obj_builder_add_space(struct obj_builder *b, const struct obj_record *r, uint8_t **payload)
{
    size_t rsize = OBJ_RECORD_HEADER + (size_t)r->len;
    struct obj_record hdr = *r;
    int rc;
    if (b->failed)
        return ERR_BADSTATE;
    if (r->count < 1 || r->len > INT32_MAX || r->stream < 0 || r->base < 0 ||
        r->base > INT64_MAX - r->count || !in_order(b, r->stream, r->base))
        return ERR_INVAL;
    if (rsize + OBJ_BLOCK_HEADER > INT32_MAX)
        return ERR_LIMIT;
    if (must_cut(b, r, rsize)) {
        if ((rc = close_block(b)) != 0 || (rc = grow(b, OBJ_BLOCK_HEADER)) != 0)
            goto fail;
        memset(&b->cur, 0, sizeof b->cur);
        b->cur.stream = r->stream;
        b->cur.start = r->base;
        b->cur.pos = (int64_t)b->len;
        b->cur.size = OBJ_BLOCK_HEADER;
        b->cur_payload = 0;
        b->cur_records = 0;
        b->len += OBJ_BLOCK_HEADER;
        b->open = true;
    }
    if ((rc = grow(b, rsize)) != 0)
        goto fail;
    hdr.payload = NULL; /* the header only: the caller writes the payload through *payload */
    obj_record_encode(b->buf + b->len, &hdr);
    *payload = b->buf + b->len + OBJ_RECORD_HEADER;
    b->len += rsize;
    b->cur.size += (int32_t)rsize;
    b->cur_payload += r->len;
    b->cur_records++;
    b->next_offset = r->base + r->count;
    return 0;
fail:
    b->failed = true;
    return rc;
}

int obj_builder_add_raw(struct obj_builder *b, const struct obj_index_entry *e,
                        const uint8_t *bytes, size_t len, unsigned parse_flags)
{
    struct obj_index_entry ne = *e;
    int rc;
    if (b->failed)
        return ERR_BADSTATE;
    rc = obj_group_parse(bytes, len, e, parse_flags, NULL, NULL);
    if (rc)
        return rc;
    if (!in_order(b, e->stream, e->start))
        return ERR_INVAL;
    if ((rc = close_block(b)) != 0 || (rc = grow(b, len)) != 0) {
        b->failed = true;
        return rc;
    }
    ne.pos = (int64_t)b->len;
    memcpy(b->buf + b->len, bytes, len);
    b->len += len;
    if ((rc = push_entry(b, &ne)) != 0)
        b->failed = true;
    return rc;
}

size_t obj_builder_size(const struct obj_builder *b)
{
    return b->len + (b->n + (b->open ? 1 : 0)) * OBJ_ENTRY_SIZE + OBJ_FOOTER_SIZE;
}

/* Closes the open block, regroups, writes index and footer. */
static int finish0(struct obj_builder *b)
{
    size_t ilen;
    int64_t ipos;
    int rc = b->failed ? ERR_BADSTATE : close_block(b);
    if (rc)
        return rc;
    if (b->conf.group_limit)
        b->n = obj_index_regroup(b->e, b->n, b->conf.group_limit, b->conf.int32_guard);
    if (b->n > UINT32_MAX / OBJ_ENTRY_SIZE)
        return ERR_LIMIT;
    ilen = b->n * OBJ_ENTRY_SIZE;
    if ((rc = grow(b, ilen + OBJ_FOOTER_SIZE)) != 0)
        return rc;
    ipos = (int64_t)b->len;
    for (size_t i = 0; i < b->n; i++)
        obj_entry_encode(b->buf + b->len + i * OBJ_ENTRY_SIZE, &b->e[i]);
    b->len += ilen;
    obj_footer_encode(b->buf + b->len, ipos, (uint32_t)ilen, false);
    b->len += OBJ_FOOTER_SIZE;
    return 0;
}

static void reset(struct obj_builder *b)
{
    struct obj_builder_conf conf = b->conf;
    obj_builder_free(b);
    obj_builder_init(b, &conf);
}

int obj_builder_finish(struct obj_builder *b, uint8_t **out, size_t *out_len)
{
    int rc = finish0(b);
    if (rc == 0 && b->mb) { /* the buffer stays buf.h's: a copy */
        if (!(*out = malloc(b->len ? b->len : 1)))
            rc = ERR_NOMEM;
        else
            memcpy(*out, b->buf, b->len);
        *out_len = b->len;
    } else if (rc == 0) {
        *out = b->buf;
        *out_len = b->len;
        b->buf = NULL;
    }
    reset(b);
    return rc;
}

int obj_builder_finish_buf(struct obj_builder *b, struct buf **out)
{
    int rc = finish0(b);
    *out = NULL;
    if (rc == 0 && b->mb) {
        /* The bytes were written through b->buf: tell the buffer (its gen
         * moves, len becomes the object's size). */
        if (!buf_wbytes(b->mb, 0, b->len))
            rc = ERR_INTERNAL;
        else {
            b->mb->len = b->len;
            *out = b->mb;
            b->mb = NULL;
            b->buf = NULL;
        }
    } else if (rc == 0) {
        if (!(*out = buf_adopt(b->buf, b->len, b->cap)))
            rc = ERR_NOMEM;
        else
            b->buf = NULL;
    }
    reset(b);
    return rc;
}
