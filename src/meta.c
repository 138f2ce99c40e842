/* meta.c - the controller's metadata store: ids, streams, mark, remove, queries (see meta.h). */
#include "meta_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- Small vectors and the request map. ------------------------------------- */

int meta__reserve(struct meta_idvec *v, size_t extra)
{
    size_t cap = v->cap ? v->cap : 16;
    int64_t *p;
    if (v->n + extra <= v->cap)
        return 0;
    while (cap < v->n + extra)
        cap *= 2;
    p = realloc(v->v, cap * sizeof *p);
    if (!p)
        return ERR_NOMEM;
    v->v = p;
    v->cap = cap;
    return 0;
}

void meta__push(struct meta *m, struct meta_idvec *v, int64_t id)
{
    v->v[v->n++] = id;
    m->listed++;
}

static size_t req_slot(const struct meta_reqmap *r, uint64_t key)
{
    size_t i = (size_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> 20) & (r->cap - 1);
    while (r->keys[i] && r->keys[i] != key)
        i = (i + 1) & (r->cap - 1);
    return i;
}

int meta__req_get(const struct meta *m, uint64_t req, int *rc)
{
    size_t i;
    if (!req || m->mark_not_idempotent || !m->reqs.cap)
        return 0;
    i = req_slot(&m->reqs, req);
    if (m->reqs.keys[i] != req)
        return 0;
    *rc = m->reqs.vals[i];
    return 1;
}

/* Grows the request map; keeps the old one on failure. */
static int req_grow(struct meta_reqmap *r)
{
    struct meta_reqmap n = {0};
    n.cap = r->cap ? r->cap * 2 : 256;
    n.keys = calloc(n.cap, sizeof *n.keys);
    n.vals = calloc(n.cap, sizeof *n.vals);
    if (!n.keys || !n.vals) {
        free(n.keys);
        free(n.vals);
        return ERR_NOMEM;
    }
    for (size_t i = 0; i < r->cap; i++) {
        if (r->keys[i]) {
            size_t j = req_slot(&n, r->keys[i]);
            n.keys[j] = r->keys[i];
            n.vals[j] = r->vals[i];
        }
    }
    n.n = r->n;
    free(r->keys);
    free(r->vals);
    *r = n;
    return 0;
}

void meta__req_put(struct meta *m, uint64_t req, int rc)
{
    size_t i;
    if (!req || m->mark_not_idempotent || rc == ERR_NOMEM)
        return;
    if ((m->reqs.n + 1) * 2 > m->reqs.cap && req_grow(&m->reqs) != 0)
        return; /* out of memory: the outcome is simply not remembered */
    i = req_slot(&m->reqs, req);
    if (!m->reqs.keys[i])
        m->reqs.n++;
    m->reqs.keys[i] = req;
    m->reqs.vals[i] = rc;
    if (m->journal) {
        m->jreq = true;
        m->jreq_id = req;
        m->jreq_rc = rc;
    }
}

/* ---- Create and destroy. ------------------------------------------------------- */

int meta_create(const struct meta_conf *conf, struct meta **out)
{
    struct meta *m;
    size_t n = conf && conf->ns ? strlen(conf->ns) : 0;
    if (n == 0 || n > OBJ_NS_MAX || strchr(conf->ns, '/'))
        return ERR_INVAL;
    m = calloc(1, sizeof *m);
    if (!m)
        return ERR_NOMEM;
    memcpy(m->ns, conf->ns, n + 1);
    m->env = conf->env;
    m->id_zero_is_none = conf->id_zero_is_none;
    m->mark_not_idempotent = conf->mark_not_idempotent;
    m->ttl_timer_late = conf->ttl_timer_late;
    m->deleted_stream_so_leak = conf->deleted_stream_so_leak;
    *out = m;
    return 0;
}

int meta_create_like(const struct meta *m, struct meta **out)
{
    struct meta_conf c = {.ns = m->ns,
                          .env = m->env,
                          .id_zero_is_none = m->id_zero_is_none,
                          .mark_not_idempotent = m->mark_not_idempotent,
                          .ttl_timer_late = m->ttl_timer_late,
                          .deleted_stream_so_leak = m->deleted_stream_so_leak};
    return meta_create(&c, out);
}

void meta__free_object(struct meta_object *o)
{
    if (!o)
        return;
    free(o->ranges);
    free(o->links);
    free(o);
}

void meta_destroy(struct meta *m)
{
    if (!m)
        return;
    for (int64_t i = 0; i < m->next_id; i++)
        meta__free_object(m->objs[i]);
    free(m->objs);
    free(m->link_owner);
    for (size_t i = 0; i < m->nstreams; i++)
        free(m->streams[i].objs.v);
    free(m->streams);
    free(m->prepared.v);
    free(m->marked.v);
    free(m->ssos.v);
    free(m->reqs.keys);
    free(m->reqs.vals);
    free(m->jobjs.v);
    free(m->jstreams.v);
    free(m->jlinks.v);
    free(m);
}

const char *meta_namespace(const struct meta *m) { return m->ns; }

int64_t meta_id_none(const struct meta *m) { return m->id_zero_is_none ? 0 : META_ID_NONE; }

/* ---- Internal accessors. ------------------------------------------------------------ */

struct meta_object *meta__obj(const struct meta *m, int64_t id)
{
    if (id < 0 || id >= m->next_id)
        return NULL;
    return m->objs[id];
}

struct meta_stream_slot *meta__slot(const struct meta *m, int64_t id)
{
    if (id < 0 || (uint64_t)id >= m->nstreams || !m->streams[id].used)
        return NULL;
    return &m->streams[id];
}

/* ---- Streams. ------------------------------------------------------------------------ */

int meta_stream_create(struct meta *m, int64_t id)
{
    if (id < 0 || id > INT32_MAX)
        return ERR_INVAL;
    if (meta__slot(m, id))
        return ERR_EXISTS;
    if ((uint64_t)id >= m->nstreams) {
        size_t n = m->nstreams ? m->nstreams : 8;
        struct meta_stream_slot *p;
        while (n <= (uint64_t)id)
            n *= 2;
        p = realloc(m->streams, n * sizeof *p);
        if (!p)
            return ERR_NOMEM;
        memset(p + m->nstreams, 0, (n - m->nstreams) * sizeof *p);
        m->streams = p;
        m->nstreams = n;
    }
    m->streams[id].used = true;
    m->streams[id].s = (struct meta_stream){id, META_STREAM_OPEN, 0, 0, 0};
    meta__dirty_stream(m, id);
    return 0;
}

int meta_trim(struct meta *m, int64_t stream, int64_t new_start)
{
    struct meta_stream_slot *s = meta__slot(m, stream);
    if (!s || s->s.state == META_STREAM_DELETED)
        return ERR_NOTFOUND;
    if (new_start > s->s.end)
        return ERR_RANGE;
    if (new_start > s->s.start) {
        s->s.start = new_start;
        meta__dirty_stream(m, stream);
    }
    return 0;
}

int meta_stream_delete(struct meta *m, int64_t stream, int64_t now)
{
    struct meta_stream_slot *s = meta__slot(m, stream);
    if (!s || s->s.state == META_STREAM_DELETED)
        return ERR_NOTFOUND;
    if (meta__reserve(&m->marked, s->objs.n) != 0)
        return ERR_NOMEM;
    s->s.state = META_STREAM_DELETED;
    meta__dirty_stream(m, stream);
    for (size_t i = 0; i < s->objs.n; i++) {
        struct meta_object *o = meta__obj(m, s->objs.v[i]);
        if (o && o->state == META_COMMITTED)
            meta__do_mark(m, o, META_OP_DEEP_DELETE, now);
    }
    meta__tidy(m);
    return 0;
}

const struct meta_stream *meta_stream_get(const struct meta *m, int64_t id)
{
    struct meta_stream_slot *s = meta__slot(m, id);
    return s ? &s->s : NULL;
}

int64_t meta_stream_limit(const struct meta *m)
{
    for (size_t i = m->nstreams; i > 0; i--)
        if (m->streams[i - 1].used)
            return (int64_t)i;
    return 0;
}

/* ---- Prepare, mark, remove. ----------------------------------------------------------- */

/* Grows the by-id arrays to hold at least n ids. */
int meta__grow_ids(struct meta *m, size_t n)
{
    size_t cap = m->cap ? m->cap : 64;
    struct meta_object **o;
    int64_t *l;
    if (n <= m->cap)
        return 0;
    while (cap < n)
        cap *= 2;
    o = realloc(m->objs, cap * sizeof *o);
    if (!o)
        return ERR_NOMEM;
    m->objs = o;
    l = realloc(m->link_owner, cap * sizeof *l);
    if (!l)
        return ERR_NOMEM;
    m->link_owner = l;
    for (size_t i = m->cap; i < cap; i++) {
        m->objs[i] = NULL;
        m->link_owner[i] = META_ID_NONE;
    }
    m->cap = cap;
    return 0;
}

int meta_prepare(struct meta *m, int count, int64_t ttl_us, int64_t now, int64_t *first)
{
    size_t need;
    if (count < 1 || ttl_us < 0)
        return ERR_INVAL;
    need = (size_t)m->next_id + (size_t)count;
    if (meta__grow_ids(m, need) != 0 || meta__reserve(&m->prepared, (size_t)count) != 0)
        return ERR_NOMEM;
    for (int i = 0; i < count; i++) {
        struct meta_object *o = calloc(1, sizeof *o);
        int64_t id = m->next_id + i;
        if (!o) {
            for (int j = 0; j < i; j++)
                meta__free_object(m->objs[m->next_id + j]), m->objs[m->next_id + j] = NULL;
            return ERR_NOMEM;
        }
        o->id = id;
        o->state = META_PREPARED;
        o->kind = META_KIND_NONE;
        o->deadline = o->ts = ttl_us > INT64_MAX - now ? INT64_MAX : now + ttl_us;
        o->ttl_check = meta__ttl_timer(m, o, now);
        o->marked_at = -1;
        o->node = o->order_id = o->stream = META_ID_NONE;
        o->start = o->end = -1;
        obj_key(id, m->ns, o->key, sizeof o->key);
        m->objs[id] = o;
        meta__dirty_obj(m, id);
    }
    for (int i = 0; i < count; i++)
        meta__push(m, &m->prepared, m->next_id + i);
    *first = m->next_id;
    m->next_id += count;
    return 0;
}

void meta__do_mark(struct meta *m, struct meta_object *o, enum meta_op op, int64_t now)
{
    if (o->state == META_PREPARED)
        o->attributes = (o->attributes & ~(int32_t)(0xffff << META_ATTR_BUCKET_SHIFT)) |
                        META_ATTR_BUCKET_ALL;
    if (op == META_OP_DEEP_DELETE)
        o->attributes |= META_ATTR_DEEP_DELETE;
    o->state = META_MARKED;
    o->ts = now;
    o->marked_at = now;
    o->mark_seq = ++m->mark_seq;
    o->mark_op = op;
    m->stale++;
    meta__dirty_obj(m, o->id);
    meta__push(m, &m->marked, o->id);
}

void meta__drop(struct meta *m, int64_t id)
{
    struct meta_object *o = meta__obj(m, id);
    if (!o)
        return;
    for (size_t i = 0; i < o->nlinks; i++) {
        int64_t l = o->links[i].id;
        if (l >= 0 && l < m->next_id && m->link_owner[l] == id) {
            m->link_owner[l] = META_ID_NONE;
            meta__dirty_link(m, l);
        }
    }
    meta__free_object(o);
    m->objs[id] = NULL;
    m->stale++;
    meta__dirty_obj(m, id);
}

/* Keeps in v only the ids for which keep() holds. */
static void filter(struct meta *m, struct meta_idvec *v,
                   bool (*keep)(const struct meta_object *o))
{
    size_t out = 0;
    for (size_t i = 0; i < v->n; i++) {
        const struct meta_object *o = meta__obj(m, v->v[i]);
        if (o && keep(o))
            v->v[out++] = v->v[i];
    }
    v->n = out;
}

static bool is_prepared(const struct meta_object *o) { return o->state == META_PREPARED; }
static bool is_marked(const struct meta_object *o) { return o->state == META_MARKED; }
static bool is_committed(const struct meta_object *o) { return o->state == META_COMMITTED; }

/* Every query skips stale entries, so filtering is only about memory and
 * speed: a full pass runs once the state changes since the last one reach
 * half the entries pushed since, which keeps it amortized O(1) per change. */
void meta__tidy(struct meta *m)
{
    if (m->stale * 2 < m->listed + 64)
        return;
    filter(m, &m->prepared, is_prepared);
    filter(m, &m->marked, is_marked);
    filter(m, &m->ssos, is_committed);
    m->listed = m->prepared.n + m->marked.n + m->ssos.n;
    for (size_t i = 0; i < m->nstreams; i++) {
        if (m->streams[i].used) {
            filter(m, &m->streams[i].objs, is_committed);
            m->listed += m->streams[i].objs.n;
        }
    }
    m->stale = 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Checks that ids are known, not marked, and distinct; logs AutoMQ's line on the first missing
 * one, at AutoMQ's level (S3ObjectControlManager.markDestroyObjects: log.error). */
int meta__check_sources(struct meta *m, const int64_t *ids, size_t n, const char *what)
{
    int64_t *s;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        const struct meta_object *o = meta__obj(m, ids[i]);
        if (!o || o->state == META_MARKED) {
            if (m->env)
                env_logf(m->env, ENV_LOG_ERROR, "controller", "object %lld not exist when %s",
                         (long long)ids[i], what);
            return ERR_NOTFOUND;
        }
    }
    if (n < 2)
        return 0;
    s = malloc(n * sizeof *s);
    if (!s)
        return ERR_NOMEM;
    memcpy(s, ids, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_i64);
    for (size_t i = 1; i < n; i++)
        if (s[i] == s[i - 1])
            rc = ERR_NOTFOUND; /* the second mark would find it marked */
    free(s);
    return rc;
}

int meta_mark(struct meta *m, const int64_t *ids, const enum meta_op *ops, size_t n, int64_t now)
{
    int rc = meta__check_sources(m, ids, n, "mark destroy object");
    if (rc)
        return rc;
    if (meta__reserve(&m->marked, n) != 0)
        return ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        enum meta_op op = ops ? ops[i] : META_OP_DELETE;
        if (op == META_OP_KEEP_DATA)
            meta__drop(m, ids[i]);
        else
            meta__do_mark(m, meta__obj(m, ids[i]), op, now);
    }
    meta__tidy(m);
    return 0;
}

int meta_remove(struct meta *m, const int64_t *ids, size_t n, size_t *removed)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        const struct meta_object *o = meta__obj(m, ids[i]);
        if (o && o->state != META_MARKED)
            return ERR_BADSTATE;
    }
    for (size_t i = 0; i < n; i++) {
        if (meta__obj(m, ids[i])) {
            meta__drop(m, ids[i]);
            count++;
        }
    }
    meta__tidy(m);
    if (removed)
        *removed = count;
    return 0;
}

/* ---- Queries. ---------------------------------------------------------------------------- */

const struct meta_object *meta_object_get(const struct meta *m, int64_t id)
{
    return meta__obj(m, id);
}

int64_t meta_next_id(const struct meta *m) { return m->next_id; }

int meta_foreach(const struct meta *m, meta_object_fn fn, void *arg)
{
    for (int64_t i = 0; i < m->next_id; i++) {
        int rc;
        if (m->objs[i] && (rc = fn(arg, m->objs[i])) != 0)
            return rc;
    }
    return 0;
}

int meta_foreach_link(const struct meta *m, meta_link_fn fn, void *arg)
{
    for (int64_t i = 0; i < m->next_id; i++) {
        const struct meta_object *o = m->objs[i];
        for (size_t j = 0; o && j < o->nlinks; j++) {
            int64_t l = o->links[j].id;
            int rc;
            if (m->link_owner[l] == o->id && (rc = fn(arg, &o->links[j], o->id)) != 0)
                return rc;
        }
    }
    return 0;
}

enum meta_key_kind meta_classify_key(const struct meta *m, const char *key)
{
    int64_t id;
    const struct meta_object *o;
    if (obj_key_parse(key, &id) != 0 || id >= m->next_id)
        return META_KEY_NONE;
    o = m->objs[id];
    if (o) {
        if (strcmp(o->key, key) != 0)
            return META_KEY_NONE;
        if (o->state == META_PREPARED)
            return META_KEY_PREPARED;
        switch (o->kind) {
        case META_KIND_SSO: return META_KEY_SSO;
        case META_KIND_STREAM: return META_KEY_STREAM;
        case META_KIND_COMPOSITE: return META_KEY_COMPOSITE;
        case META_KIND_NONE: return META_KEY_PREPARED; /* marked while prepared */
        }
        return META_KEY_NONE;
    }
    if (m->link_owner[id] != META_ID_NONE && m->objs[m->link_owner[id]]) {
        char k[OBJ_KEY_MAX];
        if (obj_key(id, m->ns, k, sizeof k) == 0 && strcmp(k, key) == 0)
            return META_KEY_LINKED;
    }
    return META_KEY_NONE;
}

const char *meta_key_kind_name(enum meta_key_kind k)
{
    switch (k) {
    case META_KEY_NONE: return "none";
    case META_KEY_SSO: return "sso";
    case META_KEY_STREAM: return "stream";
    case META_KEY_COMPOSITE: return "composite";
    case META_KEY_LINKED: return "linked";
    case META_KEY_PREPARED: return "prepared";
    }
    return "none";
}

const char *meta_state_name(enum meta_state s)
{
    switch (s) {
    case META_PREPARED: return "prepared";
    case META_COMMITTED: return "committed";
    case META_MARKED: return "mark-destroyed";
    }
    return "?";
}

void meta_count(const struct meta *m, struct meta_counts *c)
{
    memset(c, 0, sizeof *c);
    for (int64_t i = 0; i < m->next_id; i++) {
        const struct meta_object *o = m->objs[i];
        if (!o)
            continue;
        if (o->state == META_PREPARED)
            c->prepared++;
        else if (o->state == META_MARKED)
            c->marked++;
        else {
            c->committed++;
            c->sso += o->kind == META_KIND_SSO;
            c->stream += o->kind == META_KIND_STREAM;
            c->composite += o->kind == META_KIND_COMPOSITE;
        }
        for (size_t j = 0; j < o->nlinks; j++)
            c->links += m->link_owner[o->links[j].id] == o->id;
    }
}
