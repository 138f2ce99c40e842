/* ctl.c - the controller: the store as its metadata log applied, snapshots, failover (ctl.h). */
#include "ctl.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "obj.h"

#define CTL_READERS 8

struct ctl {
    struct env *env;
    struct ctl_conf conf;
    char ns[OBJ_NS_MAX + 1];
    struct meta *m;            /* the state: snapshot + log applied */
    struct ctl_batch *log;     /* batches [base, base + nlog) */
    size_t nlog, cap;
    int64_t base;
    struct meta_rec *snap;     /* the latest snapshot */
    size_t nsnap;
    int64_t snap_off;          /* it covers batches < snap_off */
    int64_t since_snap;        /* records appended since */
    struct {
        const int64_t *applied;
        ctl_listen_fn fn;
        void *arg;
    } readers[CTL_READERS];
    struct ctl_stats stats;
};

static int ctl_store_new(const struct ctl *c, struct meta **out)
{
    int rc = meta_create(&c->conf.meta, out);
    if (rc == 0)
        meta_journal(*out, true);
    return rc;
}

int ctl_new(struct env *env, const struct ctl_conf *conf, struct ctl **out)
{
    struct ctl *c;
    size_t n = conf && conf->meta.ns ? strlen(conf->meta.ns) : 0;
    int rc;
    if (!conf || n == 0 || n > OBJ_NS_MAX || conf->snapshot_records < 1)
        return ERR_INVAL;
    if (!(c = calloc(1, sizeof *c)))
        return ERR_NOMEM;
    c->env = env;
    c->conf = *conf;
    memcpy(c->ns, conf->meta.ns, n + 1);
    c->conf.meta.ns = c->ns;
    if ((rc = ctl_store_new(c, &c->m)) < 0) {
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

static void ctl_drop_log(struct ctl *c, size_t k)
{
    for (size_t i = 0; i < k; i++)
        meta_recs_free(c->log[i].recs, c->log[i].n);
    if (k < c->nlog) /* memmove's pointers may not be NULL, even for 0 bytes (UBSan) */
        memmove(c->log, c->log + k, (c->nlog - k) * sizeof *c->log);
    c->nlog -= k;
    c->base += (int64_t)k;
}

void ctl_free(struct ctl *c)
{
    if (!c)
        return;
    ctl_drop_log(c, c->nlog);
    free(c->log);
    meta_recs_free(c->snap, c->nsnap);
    meta_destroy(c->m);
    free(c);
}

const struct meta *ctl_store(const struct ctl *c) { return c->m; }
const struct ctl_stats *ctl_stats(const struct ctl *c) { return &c->stats; }

/* ---- The log. --------------------------------------------------------------------------------- */

int64_t ctl_log_end(const struct ctl *c) { return c->base + (int64_t)c->nlog; }

const struct ctl_batch *ctl_log_at(const struct ctl *c, int64_t offset)
{
    if (offset < c->base || offset >= ctl_log_end(c))
        return NULL;
    return &c->log[offset - c->base];
}

void ctl_snapshot_get(const struct ctl *c, const struct meta_rec **recs, size_t *n,
                      int64_t *offset)
{
    *recs = c->snap;
    *n = c->nsnap;
    *offset = c->snap_off;
}

int ctl_reader_add(struct ctl *c, const int64_t *applied, ctl_listen_fn fn, void *arg)
{
    for (int i = 0; i < CTL_READERS; i++) {
        if (!c->readers[i].applied) {
            c->readers[i].applied = applied;
            c->readers[i].fn = fn;
            c->readers[i].arg = arg;
            return 0;
        }
    }
    return ERR_BUSY;
}

void ctl_reader_remove(struct ctl *c, const int64_t *applied)
{
    for (int i = 0; i < CTL_READERS; i++)
        if (c->readers[i].applied == applied)
            c->readers[i].applied = NULL;
}

/* Drops the batches that the snapshot covers and no reader still needs. */
static void ctl_truncate(struct ctl *c)
{
    int64_t keep = c->snap_off;
    for (int i = 0; i < CTL_READERS; i++)
        if (c->readers[i].applied && *c->readers[i].applied < keep)
            keep = *c->readers[i].applied;
    if (keep > c->base)
        ctl_drop_log(c, (size_t)(keep - c->base));
}

int ctl_snapshot_now(struct ctl *c)
{
    struct meta_rec *r;
    size_t n;
    int rc = meta_snapshot(c->m, &r, &n);
    if (rc)
        return rc;
    meta_recs_free(c->snap, c->nsnap);
    c->snap = r;
    c->nsnap = n;
    c->snap_off = ctl_log_end(c);
    c->since_snap = 0;
    c->stats.snapshots++;
    ctl_truncate(c);
    if (c->env)
        env_tracef(c->env, "ctl snapshot offset=%lld records=%zu", (long long)c->snap_off, n);
    return 0;
}

/* Appends what the last operation changed as one batch.  Out of memory: the records stay in
 * the journal (taken again, whole, by the next append). */
static void ctl_append(struct ctl *c)
{
    struct meta_rec *r;
    size_t n;
    int64_t off;
    if (c->nlog == c->cap) { /* room first: records once taken have no way back */
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct ctl_batch *p = realloc(c->log, cap * sizeof *p);
        if (!p)
            return;
        c->log = p;
        c->cap = cap;
    }
    if (meta_journal_take(c->m, &r, &n) != 0)
        return;
    if (n == 0) {
        free(r);
        return;
    }
    c->log[c->nlog++] = (struct ctl_batch){r, n};
    off = ctl_log_end(c) - 1;
    c->stats.records += n;
    c->stats.batches++;
    c->since_snap += (int64_t)n;
    if (c->since_snap >= c->conf.snapshot_records)
        ctl_snapshot_now(c);
    else
        ctl_truncate(c);
    for (int i = 0; i < CTL_READERS; i++)
        if (c->readers[i].applied && c->readers[i].fn)
            c->readers[i].fn(c->readers[i].arg, off);
}

/* ---- Operations. ------------------------------------------------------------------------------ */

#define CTL_OP(call)                                                                               \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        ctl_append(c);                                                                             \
        return rc_;                                                                                \
    } while (0)

/* The epoch is state of the store, written to the log as a node record (AutoMQ's
 * NodeWALMetadataRecord, written by getOpeningStreams at the broker's start): a new controller
 * replays it and goes on fencing the older epochs. */
int ctl_node_register(struct ctl *c, int64_t node)
{
    int64_t old = meta_node_epoch(c->m, node);
    int rc = meta_node_register(c->m, node);
    ctl_append(c);
    if (rc > 0 && c->env) {
        if (old == 0)
            env_logf(c->env, ENV_LOG_INFO, "controller",
                     "[GetOpeningStreams]: create new node metadata. nodeId=%lld, nodeEpoch=%d, "
                     "failoverMode=false", (long long)node, rc);
        else
            env_logf(c->env, ENV_LOG_INFO, "controller",
                     "[GetOpeningStreams]: update node epoch. nodeId=%lld, oldNodeEpoch=%lld, "
                     "newNodeEpoch=%d, failoverMode=false", (long long)node, (long long)old, rc);
    }
    return rc;
}

int ctl_node_check(const struct ctl *c, int64_t node, int64_t epoch)
{
    int64_t cur = meta_node_epoch(c->m, node);
    if (cur == 0)
        return ERR_NOTFOUND;
    return epoch < cur ? ERR_ABORTED : 0;
}

int ctl_stream_create(struct ctl *c, int64_t id) { CTL_OP(meta_stream_create(c->m, id)); }

int ctl_trim(struct ctl *c, int64_t stream, int64_t new_start)
{
    CTL_OP(meta_trim(c->m, stream, new_start));
}

int ctl_stream_delete(struct ctl *c, int64_t stream, int64_t now)
{
    CTL_OP(meta_stream_delete(c->m, stream, now));
}

int ctl_prepare(struct ctl *c, int count, int64_t ttl_us, int64_t now, int64_t *first)
{
    CTL_OP(meta_prepare(c->m, count, ttl_us, now, first));
}

int ctl_commit_sso(struct ctl *c, const struct meta_sso_commit *req, int64_t now)
{
    CTL_OP(meta_commit_sso(c->m, req, now));
}

int ctl_commit_stream(struct ctl *c, const struct meta_stream_commit *req, int64_t now)
{
    CTL_OP(meta_commit_stream(c->m, req, now));
}

int ctl_mark(struct ctl *c, const int64_t *ids, const enum meta_op *ops, size_t n, int64_t now)
{
    CTL_OP(meta_mark(c->m, ids, ops, n, now));
}

int ctl_remove(struct ctl *c, const int64_t *ids, size_t n, size_t *removed)
{
    CTL_OP(meta_remove(c->m, ids, n, removed));
}

int ctl_expire_prepared(struct ctl *c, int64_t now, size_t max, meta_object_fn fn, void *arg)
{
    CTL_OP(meta_expire_prepared(c->m, now, max, fn, arg));
}

struct meta *ctl_store_mut(struct ctl *c) { return c->m; }
void ctl_sync(struct ctl *c) { ctl_append(c); }

/* ---- Queries. --------------------------------------------------------------------------------- */

const struct meta_object *ctl_object_get(const struct ctl *c, int64_t id)
{
    return meta_object_get(c->m, id);
}

const char *ctl_namespace(const struct ctl *c) { return c->ns; }
int64_t ctl_next_deadline(const struct ctl *c) { return meta_next_deadline(c->m); }

size_t ctl_marked(const struct ctl *c, int64_t *out, size_t max)
{
    return meta_marked(c->m, out, max);
}

int ctl_foreach_link(const struct ctl *c, meta_link_fn fn, void *arg)
{
    return meta_foreach_link(c->m, fn, arg);
}

/* ---- Replay and failover. --------------------------------------------------------------------- */

int ctl_replay(const struct ctl *c, struct meta **out, size_t *applied_records)
{
    struct meta *m;
    size_t total = c->nsnap;
    int rc = meta_create(&c->conf.meta, &m);
    if (rc)
        return rc;
    rc = meta_apply(m, c->snap, c->nsnap);
    for (int64_t off = c->snap_off; rc == 0 && off < ctl_log_end(c); off++) {
        const struct ctl_batch *b = ctl_log_at(c, off);
        rc = meta_apply(m, b->recs, b->n);
        total += b->n;
    }
    if (rc) {
        meta_destroy(m);
        return rc;
    }
    meta_replayed(m);
    meta_journal(m, true);
    *out = m;
    if (applied_records)
        *applied_records = total;
    return 0;
}

int ctl_failover(struct ctl *c)
{
    struct meta *m;
    size_t n;
    char why[160];
    int rc = ctl_replay(c, &m, &n);
    if (rc)
        return rc;
    if (meta_diff(c->m, m, why, sizeof why) != 0 && c->env)
        env_logf(c->env, ENV_LOG_ERROR, "controller", "replayed metadata differs: %s", why);
    meta_destroy(c->m);
    c->m = m;
    c->stats.failovers++;
    c->stats.replayed += n;
    ctl_snapshot_now(c);
    for (int i = 0; i < CTL_READERS; i++)
        if (c->readers[i].applied && c->readers[i].fn)
            c->readers[i].fn(c->readers[i].arg, -1);
    if (c->env)
        env_logf(c->env, ENV_LOG_INFO, "controller",
                 "loaded snapshot at offset %lld and %lld log batches: %zu records",
                 (long long)c->snap_off, (long long)(ctl_log_end(c) - c->snap_off), n);
    return 0;
}
