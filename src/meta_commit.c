/* meta_commit.c - the atomic commits, the reader's pieces and the cleaner's queries (see meta.h). */
#include "meta_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- Shared validation. ------------------------------------------------------- */

/* A new object id of a commit: -1 passes; PREPARED passes; COMMITTED is
 * redundant; anything else does not exist. */
static int check_new(struct meta *m, int64_t id, const char *what)
{
    const struct meta_object *o;
    if (id == META_ID_NONE)
        return 0;
    o = meta__obj(m, id);
    if (o && o->state == META_PREPARED)
        return 0;
    if (o && o->state == META_COMMITTED)
        return ERR_REDUNDANT;
    /* AutoMQ's S3ObjectControlManager.commitObject logs both at error */
    if (m->env && !o)
        env_logf(m->env, ENV_LOG_ERROR, "controller", "object %lld not exist when commit object "
                 "(%s)", (long long)id, what);
    else if (m->env)
        env_logf(m->env, ENV_LOG_ERROR, "controller", "object %lld is not prepared but try to "
                 "commit (%s)", (long long)id, what);
    return ERR_NOTFOUND;
}

/* Commits a prepared object (fields common to every kind). */
static void commit_obj(struct meta *m, struct meta_object *o, enum meta_kind kind, int64_t size,
                       int32_t attr, int64_t now)
{
    m->stale++;
    meta__dirty_obj(m, o->id);
    o->state = META_COMMITTED;
    o->kind = kind;
    o->size = size;
    o->attributes = attr;
    o->ts = now;
}

/* ---- commitStreamSetObject. ------------------------------------------------------- */

struct span {
    int64_t stream, start, end;
};

static int cmp_span(const void *a, const void *b)
{
    const struct span *x = a, *y = b;
    if (x->stream != y->stream)
        return (x->stream > y->stream) - (x->stream < y->stream);
    return (x->start > y->start) - (x->start < y->start);
}

/* Collects the request's ranges (SSO ranges and stream objects), sorted. */
static int upload_spans(const struct meta_sso_commit *c, struct span **out, size_t *n)
{
    size_t k = c->nranges + c->nsos;
    struct span *s = malloc((k ? k : 1) * sizeof *s);
    if (!s)
        return ERR_NOMEM;
    for (size_t i = 0; i < c->nranges; i++)
        s[i] = (struct span){c->ranges[i].stream, c->ranges[i].start, c->ranges[i].end};
    for (size_t i = 0; i < c->nsos; i++)
        s[c->nranges + i] = (struct span){c->sos[i].stream, c->sos[i].start, c->sos[i].end};
    qsort(s, k, sizeof *s, cmp_span);
    *out = s;
    *n = k;
    return 0;
}

/* Uploads: each live stream's ranges must chain from its end offset.  With
 * apply, advances the end offsets instead of checking. */
static int upload_offsets(struct meta *m, const struct meta_sso_commit *c, bool apply)
{
    struct span *s = NULL;
    size_t n;
    int rc = upload_spans(c, &s, &n);
    int64_t expect = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct meta_stream_slot *slot = meta__slot(m, s[i].stream);
        if (!slot || slot->s.state == META_STREAM_DELETED)
            continue; /* data of a deleted stream: garbage for compaction */
        if (i == 0 || s[i].stream != s[i - 1].stream)
            expect = slot->s.end;
        if (s[i].start != expect)
            rc = ERR_BADSTATE;
        expect = s[i].end;
        if (apply && s[i].end > slot->s.end) {
            slot->s.end = s[i].end;
            meta__dirty_stream(m, s[i].stream);
        }
    }
    free(s);
    if (rc && m->env)
        env_logf(m->env, ENV_LOG_WARN, "controller", "commit wal object %lld: offsets not continuous",
                 (long long)c->id);
    return apply ? 0 : rc;
}

/* Request shape, before looking at the store. */
static bool sso_shape_ok(const struct meta_sso_commit *c)
{
    if (c->id < META_ID_NONE || (c->id == META_ID_NONE && c->nranges))
        return false;
    if ((c->nranges && !c->ranges) || (c->nsos && !c->sos) || (c->ncompacted && !c->compacted))
        return false;
    for (size_t i = 0; i < c->nranges; i++)
        if (c->ranges[i].stream < 0 || c->ranges[i].start < 0 ||
            c->ranges[i].end <= c->ranges[i].start)
            return false;
    for (size_t i = 0; i < c->nsos; i++)
        if (c->sos[i].id < 0 || c->sos[i].stream < 0 || c->sos[i].start < 0 ||
            c->sos[i].end <= c->sos[i].start || c->sos[i].size < 0)
            return false;
    return true;
}

/* All compacted ids are marked (or removed): a retry of an applied request. */
static bool all_gone(const struct meta *m, const int64_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct meta_object *o = meta__obj(m, ids[i]);
        if ((o && o->state != META_MARKED) || ids[i] < 0 || ids[i] >= m->next_id)
            return false;
    }
    return n > 0;
}

/* The request's stream objects: distinct prepared ids (a committed one makes
 * the request redundant). */
static int sso_check_sos(struct meta *m, const struct meta_sso_commit *c)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < c->nsos; i++) {
        if (c->sos[i].id == c->id)
            return ERR_INVAL;
        for (size_t j = 0; j < i; j++)
            if (c->sos[j].id == c->sos[i].id)
                return ERR_INVAL;
        rc = check_new(m, c->sos[i].id, "commit stream object");
    }
    return rc;
}

/* AutoMQ's order: the SSO, then the compacted inputs, then the stream
 * objects, so that a retried force split (id -1) fails on its inputs
 * (F06).  Fixed: the stream objects first, so that the retry is redundant. */
static int sso_validate(struct meta *m, const struct meta_sso_commit *c)
{
    int rc = check_new(m, c->id, "commit wal object");
    if (rc == 0 && !m->mark_not_idempotent)
        rc = sso_check_sos(m, c);
    if (rc)
        return rc;
    if (!m->mark_not_idempotent && c->id == META_ID_NONE && c->nsos == 0 &&
        all_gone(m, c->compacted, c->ncompacted))
        return ERR_REDUNDANT; /* fixed F06: the state is already what was asked */
    rc = meta__check_sources(m, c->compacted, c->ncompacted, "mark destroy object");
    for (size_t i = 0; rc == 0 && i < c->ncompacted; i++) {
        const struct meta_object *o = meta__obj(m, c->compacted[i]);
        if (o->kind != META_KIND_SSO || o->state != META_COMMITTED || o->id == c->id)
            rc = ERR_NOTFOUND;
    }
    if (rc == 0 && m->mark_not_idempotent)
        rc = sso_check_sos(m, c);
    if (rc == 0 && c->ncompacted == 0)
        rc = upload_offsets(m, c, false);
    return rc;
}

/* The new SSO's record: ranges copied and sorted, inherited time and order. */
static int sso_fill(struct meta *m, const struct meta_sso_commit *c, struct meta_range **ranges,
                    int64_t *data_time, int64_t *order_id)
{
    *ranges = NULL;
    *data_time = c->data_time;
    *order_id = c->order_id;
    for (size_t i = 0; i < c->ncompacted; i++) {
        const struct meta_object *o = meta__obj(m, c->compacted[i]);
        if (i == 0 || o->data_time < *data_time)
            *data_time = o->data_time;
        if (c->order_id == META_ID_NONE && (*order_id == META_ID_NONE || o->order_id < *order_id))
            *order_id = o->order_id;
    }
    if (c->ncompacted == 0 && *order_id == META_ID_NONE)
        *order_id = c->id;
    if (!c->nranges)
        return 0;
    *ranges = malloc(c->nranges * sizeof **ranges);
    if (!*ranges)
        return ERR_NOMEM;
    memcpy(*ranges, c->ranges, c->nranges * sizeof **ranges);
    qsort(*ranges, c->nranges, sizeof **ranges, cmp_span);
    return 0;
}

static int sso_reserve(struct meta *m, const struct meta_sso_commit *c)
{
    int rc = meta__reserve(&m->marked, c->ncompacted + c->nsos);
    if (rc == 0)
        rc = meta__reserve(&m->ssos, 1);
    for (size_t i = 0; rc == 0 && i < c->nsos; i++) {
        struct meta_stream_slot *s = meta__slot(m, c->sos[i].stream);
        if (s)
            rc = meta__reserve(&s->objs, c->nsos);
    }
    return rc;
}

/* Commits one stream object of a WAL upload or SSO compaction. */
static void sso_commit_so(struct meta *m, const struct meta_so *so, int64_t now)
{
    struct meta_object *o = meta__obj(m, so->id);
    struct meta_stream_slot *s = meta__slot(m, so->stream);
    bool live = s && s->s.state != META_STREAM_DELETED;
    commit_obj(m, o, META_KIND_STREAM, so->size, so->attributes & ~META_ATTR_TYPE_MASK, now);
    o->stream = so->stream;
    o->start = so->start;
    o->end = so->end;
    if (live)
        meta__push(m, &s->objs, o->id);
    else if (!m->deleted_stream_so_leak)
        meta__do_mark(m, o, META_OP_DEEP_DELETE, now); /* stream deleted meanwhile (#808) */
    /* else F23 (before #808): committed for a stream that is gone, referenced
     * by nothing, never deleted */
}

static int sso_apply(struct meta *m, const struct meta_sso_commit *c, int64_t now)
{
    struct meta_range *ranges;
    int64_t data_time, order_id;
    int rc = sso_reserve(m, c);
    if (rc == 0)
        rc = sso_fill(m, c, &ranges, &data_time, &order_id);
    if (rc)
        return rc;
    if (c->id != META_ID_NONE) {
        struct meta_object *o = meta__obj(m, c->id);
        commit_obj(m, o, META_KIND_SSO, c->size, c->attributes & ~META_ATTR_TYPE_MASK, now);
        o->node = c->node;
        o->order_id = order_id;
        o->data_time = data_time;
        o->ranges = ranges;
        o->nranges = c->nranges;
        meta__push(m, &m->ssos, o->id);
    } else {
        free(ranges);
    }
    for (size_t i = 0; i < c->nsos; i++)
        sso_commit_so(m, &c->sos[i], now);
    for (size_t i = 0; i < c->ncompacted; i++)
        meta__do_mark(m, meta__obj(m, c->compacted[i]), META_OP_DELETE, now);
    if (c->ncompacted == 0)
        upload_offsets(m, c, true);
    meta__tidy(m);
    return 0;
}

/* compacted == [id]: replaceCommittedObject, an attribute rewrite. */
static int sso_replace(struct meta *m, const struct meta_sso_commit *c)
{
    struct meta_object *o = meta__obj(m, c->id);
    if (!o || o->state != META_COMMITTED)
        return ERR_NOTFOUND;
    o->attributes = c->attributes & ~META_ATTR_TYPE_MASK;
    meta__dirty_obj(m, o->id);
    return 0;
}

int meta_commit_sso(struct meta *m, const struct meta_sso_commit *c, int64_t now)
{
    int rc;
    if (meta__req_get(m, c->req_id, &rc))
        return rc;
    if (!sso_shape_ok(c))
        rc = ERR_INVAL;
    else if (c->ncompacted == 1 && c->compacted[0] == c->id && c->id != META_ID_NONE)
        rc = sso_replace(m, c);
    else if ((rc = sso_validate(m, c)) == 0)
        rc = sso_apply(m, c, now);
    meta__req_put(m, c->req_id, rc);
    return rc;
}

/* ---- commitStreamObject. ------------------------------------------------------------- */

static bool links_have(const struct meta_stream_commit *c, int64_t id)
{
    for (size_t i = 0; i < c->nlinks; i++)
        if (c->links[i].id == id)
            return true;
    return false;
}

static bool composite_attr(int32_t attr)
{
    return (attr & META_ATTR_TYPE_MASK) == META_ATTR_TYPE_COMPOSITE;
}

/* Checks each source's op, kind and stream. */
static int stream_sources_ok(struct meta *m, const struct meta_stream_commit *c)
{
    for (size_t i = 0; i < c->nsources; i++) {
        const struct meta_object *o = meta__obj(m, c->sources[i]);
        enum meta_op op = c->ops ? c->ops[i] : META_OP_DELETE;
        if (o->state == META_COMMITTED && o->stream != c->stream)
            return ERR_NOTFOUND; /* not a stream object of this stream */
        if (op == META_OP_KEEP_DATA &&
            (o->state != META_COMMITTED || o->kind != META_KIND_STREAM ||
             !composite_attr(c->attributes) || !links_have(c, o->id)))
            return ERR_INVAL;
        if (op != META_OP_DELETE && op != META_OP_KEEP_DATA && op != META_OP_DEEP_DELETE)
            return ERR_INVAL;
    }
    return 0;
}

/* Each link must be a KEEP_DATA source of this request or already linked. */
static int stream_links_ok(struct meta *m, const struct meta_stream_commit *c)
{
    if (c->id == META_ID_NONE)
        return c->nlinks ? ERR_INVAL : 0;
    if (composite_attr(c->attributes) != (c->nlinks > 0))
        return ERR_INVAL;
    for (size_t i = 0; i < c->nlinks; i++) {
        int64_t id = c->links[i].id;
        bool keep = false;
        for (size_t j = 0; j < c->nsources; j++)
            keep |= c->sources[j] == id && c->ops && c->ops[j] == META_OP_KEEP_DATA;
        if (id < 0 || id >= m->next_id || id == c->id)
            return ERR_INVAL;
        if (!keep && (m->link_owner[id] == META_ID_NONE || !meta__obj(m, m->link_owner[id])))
            return ERR_INVAL;
        for (size_t j = 0; j < i; j++)
            if (c->links[j].id == id)
                return ERR_INVAL;
    }
    return 0;
}

static int stream_validate(struct meta *m, const struct meta_stream_commit *c)
{
    const struct meta_stream_slot *s;
    int rc;
    if (c->stream < 0 || (c->id != META_ID_NONE && (c->start < 0 || c->end <= c->start)) ||
        (c->nsources && !c->sources) || (c->nlinks && !c->links) || c->id < META_ID_NONE)
        return ERR_INVAL;
    if ((rc = check_new(m, c->id, "commit stream object")) != 0)
        return rc;
    s = meta__slot(m, c->stream);
    if (!s || s->s.state == META_STREAM_DELETED)
        return ERR_NOTFOUND;
    if (c->epoch != -1 && c->epoch != s->s.epoch)
        return ERR_BADSTATE;
    if (!m->mark_not_idempotent && c->id == META_ID_NONE && all_gone(m, c->sources, c->nsources))
        return ERR_REDUNDANT; /* fixed F06 */
    if ((rc = meta__check_sources(m, c->sources, c->nsources, "mark destroy object")) != 0)
        return rc;
    if ((rc = stream_sources_ok(m, c)) != 0)
        return rc;
    return stream_links_ok(m, c);
}

/* Commits the new stream object or composite with its links. */
static int stream_commit_new(struct meta *m, const struct meta_stream_commit *c, int64_t now)
{
    struct meta_object *o = meta__obj(m, c->id);
    struct meta_link *links = NULL;
    bool comp = composite_attr(c->attributes);
    if (c->nlinks) {
        links = malloc(c->nlinks * sizeof *links);
        if (!links)
            return ERR_NOMEM;
        memcpy(links, c->links, c->nlinks * sizeof *links);
        for (size_t i = 0; i < c->nlinks; i++)
            obj_key(links[i].id, m->ns, links[i].key, sizeof links[i].key);
    }
    commit_obj(m, o, comp ? META_KIND_COMPOSITE : META_KIND_STREAM, c->size,
               c->attributes & (META_ATTR_TYPE_MASK), now);
    o->stream = c->stream;
    o->start = c->start;
    o->end = c->end;
    o->links = links;
    o->nlinks = c->nlinks;
    for (size_t i = 0; i < c->nlinks; i++) {
        m->link_owner[links[i].id] = o->id;
        meta__dirty_link(m, links[i].id);
    }
    meta__push(m, &meta__slot(m, c->stream)->objs, o->id);
    return 0;
}

static int stream_apply(struct meta *m, const struct meta_stream_commit *c, int64_t now)
{
    int rc = meta__reserve(&m->marked, c->nsources);
    if (rc == 0)
        rc = meta__reserve(&meta__slot(m, c->stream)->objs, 1);
    if (rc == 0 && c->id != META_ID_NONE)
        rc = stream_commit_new(m, c, now);
    if (rc)
        return rc;
    for (size_t i = 0; i < c->nsources; i++) {
        enum meta_op op = c->ops ? c->ops[i] : META_OP_DELETE;
        if (op == META_OP_KEEP_DATA)
            meta__drop(m, c->sources[i]);
        else
            meta__do_mark(m, meta__obj(m, c->sources[i]), op, now);
    }
    meta__tidy(m);
    return 0;
}

int meta_commit_stream(struct meta *m, const struct meta_stream_commit *c, int64_t now)
{
    int rc;
    if (meta__req_get(m, c->req_id, &rc))
        return rc;
    if ((rc = stream_validate(m, c)) == 0)
        rc = stream_apply(m, c, now);
    meta__req_put(m, c->req_id, rc);
    return rc;
}

/* ---- The reader's pieces. ------------------------------------------------------------- */

static int cmp_piece(const void *a, const void *b)
{
    const struct meta_piece *x = a, *y = b;
    if (x->start != y->start)
        return (x->start > y->start) - (x->start < y->start);
    return (x->id > y->id) - (x->id < y->id);
}

/* The SSO's range of stream, or NULL (binary search over sorted ranges). */
static const struct meta_range *sso_range(const struct meta_object *o, int64_t stream)
{
    size_t lo = 0, hi = o->nranges;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (o->ranges[mid].stream < stream)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < o->nranges && o->ranges[lo].stream == stream ? &o->ranges[lo] : NULL;
}

int meta_stream_pieces(const struct meta *m, int64_t stream, int64_t start, int64_t end,
                       struct meta_piece **out, size_t *n)
{
    const struct meta_stream_slot *s = meta__slot(m, stream);
    size_t cap = m->ssos.n + (s ? s->objs.n : 0), k = 0;
    struct meta_piece *p = cap ? malloc(cap * sizeof *p) : NULL;
    *out = NULL;
    *n = 0;
    if (cap && !p)
        return ERR_NOMEM;
    for (size_t i = 0; i < m->ssos.n; i++) {
        const struct meta_object *o = meta__obj(m, m->ssos.v[i]);
        const struct meta_range *r = o && o->state == META_COMMITTED ? sso_range(o, stream) : NULL;
        if (r && r->end > start && r->start < end)
            p[k++] = (struct meta_piece){o->id, META_KIND_SSO, r->start, r->end, o->size};
    }
    for (size_t i = 0; s && i < s->objs.n; i++) {
        const struct meta_object *o = meta__obj(m, s->objs.v[i]);
        if (o && o->state == META_COMMITTED && o->end > start && o->start < end)
            p[k++] = (struct meta_piece){o->id, o->kind, o->start, o->end, o->size};
    }
    if (k == 0) {
        free(p);
        return 0;
    }
    qsort(p, k, sizeof *p, cmp_piece);
    *out = p;
    *n = k;
    return 0;
}

/* ---- Cleaner support. -------------------------------------------------------------------- */

#define META_TTL_TIMER_MIN_US (30 * ENV_USEC_PER_MIN) /* F28's 30 minutes */

/* S3ObjectControlManager arms a HashedWheelTimer per prepared object; the
 * timer fires at the deadline (after #3539), or (F28, before it) after
 * max(now - deadline, 30 min): a future deadline is first looked at 30 min
 * after the prepare, and each look before the deadline re-arms 30 min on. */
int64_t meta__ttl_timer(const struct meta *m, const struct meta_object *o, int64_t now)
{
    int64_t d;
    if (!m->ttl_timer_late)
        return o->deadline;
    d = now - o->deadline > META_TTL_TIMER_MIN_US ? now - o->deadline : META_TTL_TIMER_MIN_US;
    return now > INT64_MAX - d ? INT64_MAX : now + d;
}

int meta_expire_prepared(struct meta *m, int64_t now, size_t max, meta_object_fn fn, void *arg)
{
    int count = 0;
    if (meta__reserve(&m->marked, m->prepared.n) != 0)
        return 0; /* out of memory: try again at the next check */
    for (size_t i = 0; i < m->prepared.n && (max == 0 || (size_t)count < max); i++) {
        struct meta_object *o = meta__obj(m, m->prepared.v[i]);
        if (!o || o->state != META_PREPARED || now < o->ttl_check)
            continue; /* its timer has not fired */
        if (!(now > o->deadline)) {
            o->ttl_check = meta__ttl_timer(m, o, now); /* re-armed */
            meta__dirty_obj(m, o->id);
            continue;
        }
        meta__do_mark(m, o, META_OP_DELETE, now);
        o->ts = 0;
        o->ttl_expired = true;
        count++;
        if (fn)
            fn(arg, o);
    }
    meta__tidy(m);
    return count;
}

int64_t meta_next_deadline(const struct meta *m)
{
    int64_t best = ENV_TIME_NEVER;
    for (size_t i = 0; i < m->prepared.n; i++) {
        const struct meta_object *o = meta__obj(m, m->prepared.v[i]);
        if (o && o->state == META_PREPARED && o->ttl_check < best)
            best = o->ttl_check;
    }
    return best;
}

size_t meta_marked(const struct meta *m, int64_t *out, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < m->marked.n && k < max; i++) {
        const struct meta_object *o = meta__obj(m, m->marked.v[i]);
        if (o && o->state == META_MARKED)
            out[k++] = o->id;
    }
    return k;
}
