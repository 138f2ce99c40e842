/* composite.c - composite object writer and parser (see composite.h). */
#include "composite.h"

#include "err.h"

#include <stdlib.h>
#include <string.h>

void cobj_writer_init(struct cobj_writer *w) { memset(w, 0, sizeof *w); }

void cobj_writer_free(struct cobj_writer *w)
{
    cobj_free(&w->c);
    memset(w, 0, sizeof *w);
}

void cobj_free(struct cobj *c)
{
    free(c->links);
    c->links = NULL;
    c->nlinks = 0;
    obj_index_free(&c->idx);
}

/* Checks that e[0..n) continue the writer's run. */
static bool continues(const struct cobj_writer *w, const struct obj_index_entry *e, size_t n)
{
    const struct obj_index_entry *prev = w->c.idx.n ? &w->c.idx.e[w->c.idx.n - 1] : NULL;
    for (size_t i = 0; i < n; i++) {
        if (e[i].count < 1 || e[i].size < OBJ_BLOCK_HEADER || e[i].end_delta < 1 || e[i].pos < 0)
            return false;
        if (prev && (e[i].stream != prev->stream || e[i].start < obj_entry_end(prev)))
            return false;
        prev = &e[i];
    }
    return true;
}

int cobj_writer_add(struct cobj_writer *w, int64_t id, int16_t bucket,
                    const struct obj_index_entry *e, size_t n)
{
    if (id < 0 || n == 0 || !continues(w, e, n) || w->c.idx.n + n > UINT32_MAX)
        return ERR_INVAL;
    if (w->c.nlinks == w->lcap) {
        size_t cap = w->lcap ? w->lcap * 2 : 8;
        struct cobj_link *p = realloc(w->c.links, cap * sizeof *p);
        if (!p)
            return ERR_NOMEM;
        w->c.links = p;
        w->lcap = cap;
    }
    if (w->c.idx.n + n > w->ecap) {
        size_t cap = w->ecap ? w->ecap : 16;
        struct obj_index_entry *p;
        while (cap < w->c.idx.n + n)
            cap *= 2;
        p = realloc(w->c.idx.e, cap * sizeof *p);
        if (!p)
            return ERR_NOMEM;
        w->c.idx.e = p;
        w->ecap = cap;
    }
    w->c.links[w->c.nlinks++] = (struct cobj_link){id, (uint32_t)w->c.idx.n, bucket};
    memcpy(w->c.idx.e + w->c.idx.n, e, n * sizeof *e);
    w->c.idx.n += n;
    for (size_t i = 0; i < n; i++)
        w->retained += (uint64_t)e[i].size;
    return 0;
}

bool cobj_writer_range(const struct cobj_writer *w, int64_t *stream, int64_t *start,
                       int64_t *end)
{
    if (!w->c.idx.n)
        return false;
    *stream = w->c.idx.e[0].stream;
    *start = w->c.idx.e[0].start;
    *end = obj_entry_end(&w->c.idx.e[w->c.idx.n - 1]);
    return true;
}

int cobj_writer_finish(const struct cobj_writer *w, uint8_t **out, size_t *out_len)
{
    size_t head = COBJ_HEADER + w->c.nlinks * COBJ_LINK_SIZE;
    size_t ilen = w->c.idx.n * OBJ_ENTRY_SIZE;
    uint8_t *buf, *p;
    if (!w->c.nlinks)
        return ERR_INVAL;
    if (w->c.idx.n > UINT32_MAX / OBJ_ENTRY_SIZE || w->c.nlinks > UINT32_MAX)
        return ERR_LIMIT;
    buf = malloc(head + ilen + OBJ_FOOTER_SIZE);
    if (!buf)
        return ERR_NOMEM;
    buf[0] = COBJ_MAGIC;
    obj_put_u32(buf + 1, (uint32_t)w->c.nlinks);
    p = buf + COBJ_HEADER;
    for (size_t i = 0; i < w->c.nlinks; i++, p += COBJ_LINK_SIZE) {
        obj_put_u64(p, (uint64_t)w->c.links[i].id);
        obj_put_u32(p + 8, w->c.links[i].block_start);
        p[12] = (uint8_t)((uint16_t)w->c.links[i].bucket >> 8);
        p[13] = (uint8_t)(uint16_t)w->c.links[i].bucket;
    }
    for (size_t i = 0; i < w->c.idx.n; i++, p += OBJ_ENTRY_SIZE)
        obj_entry_encode(p, &w->c.idx.e[i]);
    obj_footer_encode(p, (int64_t)head, (uint32_t)ilen, true);
    *out = buf;
    *out_len = head + ilen + OBJ_FOOTER_SIZE;
    return 0;
}

/* Decodes the objects block buf[0..head) into c->links. */
static int parse_links(const uint8_t *buf, size_t head, size_t nentries, struct cobj *c)
{
    uint32_t count;
    if (head < COBJ_HEADER || buf[0] != COBJ_MAGIC)
        return ERR_CORRUPT;
    count = obj_get_u32(buf + 1);
    if (count == 0 || (head - COBJ_HEADER) / COBJ_LINK_SIZE != count ||
        (head - COBJ_HEADER) % COBJ_LINK_SIZE)
        return ERR_CORRUPT;
    c->links = malloc(count * sizeof *c->links);
    if (!c->links)
        return ERR_NOMEM;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *p = buf + COBJ_HEADER + (size_t)i * COBJ_LINK_SIZE;
        struct cobj_link *l = &c->links[i];
        l->id = (int64_t)obj_get_u64(p);
        l->block_start = obj_get_u32(p + 8);
        l->bucket = (int16_t)(uint16_t)((unsigned)p[12] << 8 | p[13]);
        if (l->id < 0 || l->block_start > nentries || (i == 0 && l->block_start != 0) ||
            (i > 0 && l->block_start < c->links[i - 1].block_start))
            return ERR_CORRUPT;
    }
    c->nlinks = count;
    return 0;
}

/* Checks that the merged index is one stream in offset order, without overlap. */
static bool index_contiguous(const struct obj_index *idx)
{
    for (size_t i = 1; i < idx->n; i++)
        if (idx->e[i].stream != idx->e[0].stream ||
            idx->e[i].start < obj_entry_end(&idx->e[i - 1]))
            return false;
    return true;
}

int cobj_parse(const uint8_t *buf, size_t len, unsigned flags, struct cobj *c)
{
    struct obj_footer f;
    int rc;
    memset(c, 0, sizeof *c);
    if (len < OBJ_FOOTER_SIZE)
        return ERR_CORRUPT;
    rc = obj_footer_decode(buf + len - OBJ_FOOTER_SIZE, len, &f);
    if (rc == 0 && !f.composite)
        rc = ERR_CORRUPT;
    if (rc)
        return rc;
    rc = obj_index_decode(buf + f.index_pos, f.index_len, INT64_MAX, flags, &c->idx);
    if (rc)
        goto out;
    rc = c->idx.n && index_contiguous(&c->idx) ? parse_links(buf, (size_t)f.index_pos, c->idx.n, c)
                                   : ERR_CORRUPT;
out:
    if (rc)
        cobj_free(c);
    return rc;
}

size_t cobj_link_of(const struct cobj *c, size_t k)
{
    size_t lo = 0, hi = c->nlinks;
    /* Last link whose block_start <= k. */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->links[mid].block_start <= k)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

size_t cobj_link_entries(const struct cobj *c, size_t i)
{
    size_t end = i + 1 < c->nlinks ? c->links[i + 1].block_start : c->idx.n;
    return end - c->links[i].block_start;
}
