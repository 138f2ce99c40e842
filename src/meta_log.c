/*
 * meta_log.c - the store as a log of records (see meta.h "Records"): the journal that turns
 * an operation's changes into records, applying records to another store (a replayed
 * controller, a broker's image), the full-state record list of a snapshot, and the
 * comparison of two stores.
 */
#include "meta_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- The journal hooks. ------------------------------------------------------------------- */

static void jpush(struct meta *m, struct meta_idvec *v, int64_t id)
{
    if (!m->journal)
        return;
    if (meta__reserve(v, 1) != 0) {
        m->jlost = true; /* the next take writes the whole state */
        return;
    }
    v->v[v->n++] = id;
}

void meta__dirty_obj(struct meta *m, int64_t id) { jpush(m, &m->jobjs, id); }
void meta__dirty_stream(struct meta *m, int64_t id) { jpush(m, &m->jstreams, id); }
void meta__dirty_link(struct meta *m, int64_t id) { jpush(m, &m->jlinks, id); }

void meta_journal(struct meta *m, bool on)
{
    m->journal = on;
    m->jlost = false;
    m->jobjs.n = m->jstreams.n = m->jlinks.n = 0;
    m->jnext = m->next_id;
    m->jreq = false;
    memset(m->jnode, 0, sizeof m->jnode);
}

int meta_node_register(struct meta *m, int64_t node)
{
    if (node < 0 || node >= META_NODES)
        return ERR_INVAL;
    m->node_epoch[node]++;
    if (m->journal)
        m->jnode[node] = true;
    return (int)m->node_epoch[node];
}

int64_t meta_node_epoch(const struct meta *m, int64_t node)
{
    return node >= 0 && node < META_NODES ? m->node_epoch[node] : 0;
}


/* ---- Records. ----------------------------------------------------------------------------- */

static struct meta_object *obj_copy(const struct meta_object *o)
{
    struct meta_object *c = malloc(sizeof *c);
    if (!c)
        return NULL;
    *c = *o;
    c->ranges = NULL;
    c->links = NULL;
    if (o->nranges && !(c->ranges = malloc(o->nranges * sizeof *c->ranges)))
        goto fail;
    if (o->nlinks && !(c->links = malloc(o->nlinks * sizeof *c->links)))
        goto fail;
    if (o->nranges)
        memcpy(c->ranges, o->ranges, o->nranges * sizeof *c->ranges);
    if (o->nlinks)
        memcpy(c->links, o->links, o->nlinks * sizeof *c->links);
    return c;
fail:
    meta__free_object(c);
    return NULL;
}

void meta_recs_free(struct meta_rec *r, size_t n)
{
    if (!r)
        return;
    for (size_t i = 0; i < n; i++)
        meta__free_object(r[i].obj);
    free(r);
}

struct recbuf {
    struct meta_rec *v;
    size_t n, cap;
    int rc;
};

static struct meta_rec *rb_add(struct recbuf *b, enum meta_rec_kind kind, int64_t id)
{
    if (b->rc)
        return NULL;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        struct meta_rec *p = realloc(b->v, cap * sizeof *p);
        if (!p) {
            b->rc = ERR_NOMEM;
            return NULL;
        }
        b->v = p;
        b->cap = cap;
    }
    memset(&b->v[b->n], 0, sizeof b->v[b->n]);
    b->v[b->n].kind = kind;
    b->v[b->n].id = id;
    return &b->v[b->n++];
}

static void rb_object(struct recbuf *b, const struct meta *m, int64_t id)
{
    const struct meta_object *o = meta__obj(m, id);
    struct meta_rec *r = rb_add(b, o ? META_REC_OBJECT : META_REC_REMOVE, id);
    if (r && o && !(r->obj = obj_copy(o))) {
        b->n--;
        b->rc = ERR_NOMEM;
    }
}

static void rb_stream(struct recbuf *b, const struct meta *m, int64_t id)
{
    const struct meta_stream_slot *s = meta__slot(m, id);
    struct meta_rec *r = s ? rb_add(b, META_REC_STREAM, id) : NULL;
    if (r)
        r->stream = s->s;
}

static void rb_link(struct recbuf *b, const struct meta *m, int64_t id)
{
    struct meta_rec *r = rb_add(b, META_REC_LINK, id);
    if (r)
        r->owner = id >= 0 && id < m->next_id ? m->link_owner[id] : META_ID_NONE;
}

static void rb_node(struct recbuf *b, const struct meta *m, int64_t node)
{
    struct meta_rec *r = rb_add(b, META_REC_NODE, node);
    if (r)
        r->owner = m->node_epoch[node];
}

static int rb_done(struct recbuf *b, struct meta_rec **out, size_t *n)
{
    if (b->rc) {
        meta_recs_free(b->v, b->n);
        *out = NULL;
        *n = 0;
        return b->rc;
    }
    *out = b->v;
    *n = b->n;
    return 0;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Ids in first-touched order, each once (v is small: one operation's touches). */
static bool seen_before(const struct meta_idvec *v, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (v->v[j] == v->v[i])
            return true;
    return false;
}

int meta_snapshot(const struct meta *m, struct meta_rec **out, size_t *n)
{
    struct recbuf b = {0};
    struct meta_rec *r = rb_add(&b, META_REC_NEXT_ID, m->next_id);
    (void)r;
    for (size_t i = 0; i < m->nstreams; i++)
        if (m->streams[i].used)
            rb_stream(&b, m, (int64_t)i);
    for (int64_t id = 0; id < m->next_id; id++)
        if (m->objs[id])
            rb_object(&b, m, id);
    for (int64_t id = 0; id < m->next_id; id++)
        if (m->link_owner[id] != META_ID_NONE)
            rb_link(&b, m, id);
    for (int64_t node = 0; node < META_NODES; node++)
        if (m->node_epoch[node])
            rb_node(&b, m, node);
    for (size_t i = 0; i < m->reqs.cap; i++) {
        if (m->reqs.keys[i] && (r = rb_add(&b, META_REC_REQ, 0))) {
            r->req = m->reqs.keys[i];
            r->rc = m->reqs.vals[i];
        }
    }
    return rb_done(&b, out, n);
}

int meta_journal_take(struct meta *m, struct meta_rec **out, size_t *n)
{
    struct recbuf b = {0};
    int rc;
    if (m->jlost) {
        rc = meta_snapshot(m, out, n);
        if (rc == 0)
            meta_journal(m, m->journal);
        return rc;
    }
    if (m->next_id != m->jnext)
        rb_add(&b, META_REC_NEXT_ID, m->next_id);
    if (m->jstreams.n > 1)
        for (size_t i = 0; i < m->jstreams.n; i++)
            if (!seen_before(&m->jstreams, i))
                rb_stream(&b, m, m->jstreams.v[i]);
    if (m->jstreams.n == 1)
        rb_stream(&b, m, m->jstreams.v[0]);
    if (m->jobjs.n > 64) { /* many touches (a TTL expiry round): dedupe through a sorted copy */
        size_t k = m->jobjs.n;
        int64_t *u = malloc(k * sizeof *u);
        bool *done = calloc(k, sizeof *done);
        if (!u || !done) {
            b.rc = ERR_NOMEM;
        } else {
            memcpy(u, m->jobjs.v, k * sizeof *u);
            qsort(u, k, sizeof *u, cmp_id);
            for (size_t i = 0; i < k; i++) {
                int64_t *at = bsearch(&m->jobjs.v[i], u, k, sizeof *u, cmp_id);
                size_t j = (size_t)(at - u);
                while (j > 0 && u[j - 1] == u[j])
                    j--; /* the first of equal ids carries the mark */
                if (!done[j]) {
                    done[j] = true;
                    rb_object(&b, m, m->jobjs.v[i]);
                }
            }
        }
        free(u);
        free(done);
    } else {
        for (size_t i = 0; i < m->jobjs.n; i++)
            if (!seen_before(&m->jobjs, i))
                rb_object(&b, m, m->jobjs.v[i]);
    }
    for (size_t i = 0; i < m->jlinks.n; i++)
        if (!seen_before(&m->jlinks, i))
            rb_link(&b, m, m->jlinks.v[i]);
    for (int64_t node = 0; node < META_NODES; node++)
        if (m->jnode[node])
            rb_node(&b, m, node);
    if (m->jreq) {
        struct meta_rec *r = rb_add(&b, META_REC_REQ, 0);
        if (r) {
            r->req = m->jreq_id;
            r->rc = m->jreq_rc;
        }
    }
    if ((rc = rb_done(&b, out, n)) != 0) {
        m->jlost = true; /* out of memory: the next take writes the whole state */
        return rc;
    }
    meta_journal(m, m->journal);
    return 0;
}

/* ---- Applying records. ------------------------------------------------------------------------ */

static int ensure_ids(struct meta *m, int64_t next)
{
    if (next <= m->next_id)
        return 0;
    if (meta__grow_ids(m, (size_t)next) != 0)
        return ERR_NOMEM;
    m->next_id = next;
    return 0;
}

static int apply_stream(struct meta *m, const struct meta_stream *st)
{
    struct meta_stream_slot *s = meta__slot(m, st->id);
    int rc;
    if (!s) {
        if ((rc = meta_stream_create(m, st->id)) < 0)
            return rc;
        s = meta__slot(m, st->id);
    }
    s->s = *st;
    return 0;
}

/* Puts id on the lists its new state belongs to, unless the old state already did (in append
 * mode, F05 before #3370: every record appends, so a replayed snapshot lists objects twice). */
static int apply_lists(struct meta *m, const struct meta_object *old, const struct meta_object *o)
{
    bool app = m->append_mode;
    struct meta_idvec *v = NULL;
    if (o->state == META_PREPARED && (app || !old || old->state != META_PREPARED))
        v = &m->prepared;
    else if (o->state == META_MARKED && (app || !old || old->state != META_MARKED))
        v = &m->marked;
    else if (o->state == META_COMMITTED && (app || !old || old->state != META_COMMITTED)) {
        if (o->kind == META_KIND_SSO) {
            v = &m->ssos;
        } else {
            struct meta_stream_slot *s = meta__slot(m, o->stream);
            if (s && s->s.state != META_STREAM_DELETED)
                v = &s->objs;
        }
    }
    if (!v)
        return 0;
    if (meta__reserve(v, 1) != 0)
        return ERR_NOMEM;
    meta__push(m, v, o->id);
    return 0;
}

static int apply_object(struct meta *m, const struct meta_object *src)
{
    struct meta_object *o, *old;
    int rc = ensure_ids(m, src->id + 1);
    if (rc)
        return rc;
    if (!(o = obj_copy(src)))
        return ERR_NOMEM;
    old = m->objs[src->id];
    if ((rc = apply_lists(m, old, o)) != 0) {
        meta__free_object(o);
        return rc;
    }
    meta__free_object(old);
    m->objs[src->id] = o;
    if (o->mark_seq > m->mark_seq)
        m->mark_seq = o->mark_seq;
    m->stale++;
    return 0;
}

int meta_apply(struct meta *m, const struct meta_rec *r, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        switch (r[i].kind) {
        case META_REC_NEXT_ID: rc = ensure_ids(m, r[i].id); break;
        case META_REC_STREAM: rc = apply_stream(m, &r[i].stream); break;
        case META_REC_OBJECT: rc = apply_object(m, r[i].obj); break;
        case META_REC_REMOVE:
            if (r[i].id >= 0 && r[i].id < m->next_id)
                meta__drop(m, r[i].id);
            break;
        case META_REC_LINK:
            if ((rc = ensure_ids(m, r[i].id + 1)) == 0)
                m->link_owner[r[i].id] = r[i].owner;
            break;
        case META_REC_REQ: meta__req_put(m, r[i].req, r[i].rc); break;
        case META_REC_NODE:
            if (r[i].id < 0 || r[i].id >= META_NODES)
                rc = ERR_INVAL;
            else
                m->node_epoch[r[i].id] = r[i].owner;
            break;
        default: rc = ERR_INVAL;
        }
    }
    meta__tidy(m);
    return rc;
}


/* Insertion of the marked ids by mark order; the list is short after a filter. */
static void sort_marked(struct meta *m)
{
    struct meta_idvec *v = &m->marked;
    for (size_t i = 1; i < v->n; i++) {
        int64_t id = v->v[i];
        uint64_t s = m->objs[id] ? m->objs[id]->mark_seq : 0;
        size_t j = i;
        while (j > 0) {
            const struct meta_object *p = m->objs[v->v[j - 1]];
            if ((p ? p->mark_seq : 0) <= s)
                break;
            v->v[j] = v->v[j - 1];
            j--;
        }
        v->v[j] = id;
    }
}

void meta_replayed(struct meta *m)
{
    m->stale = m->listed + 64; /* filter every list now */
    meta__tidy(m);
    /* qsort's array may not be NULL, even with no element (UBSan). */
    if (m->prepared.n > 1)
        qsort(m->prepared.v, m->prepared.n, sizeof *m->prepared.v, cmp_id);
    if (m->ssos.n > 1)
        qsort(m->ssos.v, m->ssos.n, sizeof *m->ssos.v, cmp_id);
    sort_marked(m);
}

void meta_set_append_mode(struct meta *m, bool on) { m->append_mode = on; }

/* ---- Comparing two stores. -------------------------------------------------------------------- */

static int obj_diff(const struct meta_object *a, const struct meta_object *b, char *why,
                    size_t len)
{
#define FIELD(f)                                                                                   \
    if (a->f != b->f) {                                                                            \
        snprintf(why, len, "object %lld: %s %lld != %lld", (long long)a->id, #f,                   \
                 (long long)a->f, (long long)b->f);                                                \
        return 1;                                                                                  \
    }
    FIELD(state)
    FIELD(kind)
    FIELD(size)
    FIELD(attributes)
    FIELD(ts)
    FIELD(deadline)
    FIELD(ttl_check)
    FIELD(marked_at)
    FIELD(mark_seq)
    FIELD(mark_op)
    FIELD(ttl_expired)
    FIELD(node)
    FIELD(order_id)
    FIELD(data_time)
    FIELD(nranges)
    FIELD(stream)
    FIELD(start)
    FIELD(end)
    FIELD(nlinks)
#undef FIELD
    if (strcmp(a->key, b->key) != 0 ||
        (a->nranges && memcmp(a->ranges, b->ranges, a->nranges * sizeof *a->ranges) != 0)) {
        snprintf(why, len, "object %lld: key or ranges differ", (long long)a->id);
        return 1;
    }
    for (size_t i = 0; i < a->nlinks; i++) {
        const struct meta_link *x = &a->links[i], *y = &b->links[i];
        if (x->id != y->id || x->start != y->start || x->end != y->end || x->size != y->size ||
            strcmp(x->key, y->key) != 0) {
            snprintf(why, len, "object %lld: link %zu differs", (long long)a->id, i);
            return 1;
        }
    }
    return 0;
}

int meta_diff(const struct meta *a, const struct meta *b, char *why, size_t len)
{
    size_t ns = a->nstreams > b->nstreams ? a->nstreams : b->nstreams;
    if (a->next_id != b->next_id) {
        snprintf(why, len, "next object id %lld != %lld", (long long)a->next_id,
                 (long long)b->next_id);
        return 1;
    }
    for (int node = 0; node < META_NODES; node++) {
        if (a->node_epoch[node] != b->node_epoch[node]) {
            snprintf(why, len, "node %d: epoch %lld != %lld", node,
                     (long long)a->node_epoch[node], (long long)b->node_epoch[node]);
            return 1;
        }
    }
    for (size_t i = 0; i < ns; i++) {
        const struct meta_stream *x = meta_stream_get(a, (int64_t)i);
        const struct meta_stream *y = meta_stream_get(b, (int64_t)i);
        if (!x != !y || (x && (x->state != y->state || x->epoch != y->epoch ||
                               x->start != y->start || x->end != y->end))) {
            snprintf(why, len, "stream %zu differs", i);
            return 1;
        }
    }
    for (int64_t id = 0; id < a->next_id; id++) {
        const struct meta_object *x = a->objs[id], *y = b->objs[id];
        if (!x != !y) {
            snprintf(why, len, "object %lld %s", (long long)id,
                     x ? "missing from the second" : "missing from the first");
            return 1;
        }
        if (x && obj_diff(x, y, why, len))
            return 1;
        if (a->link_owner[id] != b->link_owner[id]) {
            snprintf(why, len, "link %lld: owner %lld != %lld", (long long)id,
                     (long long)a->link_owner[id], (long long)b->link_owner[id]);
            return 1;
        }
    }
    return 0;
}

size_t meta_listed_dups(const struct meta *m)
{
    size_t dups = 0;
    for (size_t i = 0; i < m->nstreams; i++) {
        const struct meta_idvec *v = &m->streams[i].objs;
        int64_t *s;
        if (!m->streams[i].used || v->n < 2 || !(s = malloc(v->n * sizeof *s)))
            continue;
        memcpy(s, v->v, v->n * sizeof *s);
        qsort(s, v->n, sizeof *s, cmp_id);
        for (size_t j = 1; j < v->n; j++)
            dups += s[j] == s[j - 1] && m->objs[s[j]] && m->objs[s[j]]->state == META_COMMITTED;
        free(s);
    }
    return dups;
}
