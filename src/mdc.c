/* mdc.c - the broker's metadata client: the lagging image, the own streams, the requests (mdc.h). */
#include "mdc_int.h"

#include <stdlib.h>
#include <string.h>

#include "cln.h"
#include "conf.h"
#include "err.h"

void mdc_conf_from(struct mdc_conf *conf, const struct conf *c)
{
    memset(conf, 0, sizeof *conf);
    conf->lag_us = conf_get(c, CONF_IMAGE_LAG);
    conf->node = 0;
    conf->rpc_latency_us = conf_get(c, CONF_RPC_LATENCY);
    conf->rpc_timeout_us = conf_get(c, CONF_RPC_TIMEOUT);
    conf->retry_base_us = conf_get(c, CONF_RPC_RETRY_BASE);
    conf->retry_max = conf_get(c, CONF_RPC_RETRY_MAX);
    conf->snapshot_append = !conf_bool(c, CONF_IMAGE_SNAPSHOT_UPSERT);
}

static int mdc_image_load(struct mdc *d);

/* ---- The lag. ---------------------------------------------------------------------------------- */

/* The quantile function of the lag in thousandths of the median, piecewise linear between
 * these points (probability in millionths): most batches within a few times the median, p99 at
 * ten times, the slowest at thirty.  Integer arithmetic only: the same draw on every machine. */
static const struct {
    int64_t p, x;
} mdc_lag_q[] = {
    {0, 200}, {500000, 1000}, {900000, 3000}, {990000, 10000}, {999000, 20000}, {1000000, 30000},
};

int64_t mdc_lag_draw(int64_t lag_us, uint64_t random)
{
    int64_t u = (int64_t)(random % 1000000), x = 0;
    if (lag_us <= 0)
        return 0;
    for (size_t i = 1; i < sizeof mdc_lag_q / sizeof mdc_lag_q[0]; i++) {
        if (u < mdc_lag_q[i].p) {
            int64_t p0 = mdc_lag_q[i - 1].p, x0 = mdc_lag_q[i - 1].x;
            x = x0 + (mdc_lag_q[i].x - x0) * (u - p0) / (mdc_lag_q[i].p - p0);
            break;
        }
    }
    if (lag_us > INT64_MAX / 30000)
        return INT64_MAX / 1000;
    return lag_us * x / 1000;
}

/* ---- The image. -------------------------------------------------------------------------------- */

/* Calls the waiters whose target the image reached (one at a time: a callback may add more). */
static void mdc_wake(struct mdc *d)
{
    for (size_t i = 0; i < d->nw;) {
        if (d->w[i].target <= d->applied) {
            struct mdc_waiter w = d->w[i];
            memmove(d->w + i, d->w + i + 1, (d->nw - i - 1) * sizeof *d->w);
            d->nw--;
            w.fn(w.arg);
            i = 0;
        } else {
            i++;
        }
    }
}

int mdc_when_current(struct mdc *d, mdc_ready_fn fn, void *arg)
{
    int64_t target = ctl_log_end(d->ctl);
    if (d->img && d->applied >= target) {
        fn(arg);
        return 0;
    }
    if (d->nw == d->wcap) {
        size_t cap = d->wcap ? d->wcap * 2 : 4;
        struct mdc_waiter *p = realloc(d->w, cap * sizeof *p);
        if (!p)
            return ERR_NOMEM;
        d->w = p;
        d->wcap = cap;
    }
    d->w[d->nw++] = (struct mdc_waiter){target, fn, arg};
    return 0;
}

bool mdc_is_current(const struct mdc *d)
{
    return d->img && d->applied >= ctl_log_end(d->ctl);
}

void mdc_current_cancel(struct mdc *d, void *arg)
{
    for (size_t i = 0; i < d->nw;) {
        if (d->w[i].arg == arg) {
            memmove(d->w + i, d->w + i + 1, (d->nw - i - 1) * sizeof *d->w);
            d->nw--;
        } else {
            i++;
        }
    }
}

/* Applies the batches of the log up to end (exclusive). */
static void mdc_apply_to(struct mdc *d, int64_t end)
{
    int64_t before = d->applied;
    while (d->img && d->applied < end) {
        const struct ctl_batch *b = ctl_log_at(d->ctl, d->applied);
        if (!b || meta_apply(d->img, b->recs, b->n) != 0) {
            /* dropped behind a snapshot (cannot happen while registered) or out of memory:
             * the image starts over from the snapshot */
            mdc_image_load(d);
            return;
        }
        d->applied++;
        d->stats.batches++;
    }
    if (d->applied != before && d->nw)
        mdc_wake(d);
}

static void mdc_arm(struct mdc *d);

static void mdc_on_due(void *arg)
{
    struct mdc *d = arg;
    int64_t now = env_now(d->env);
    d->timer = 0;
    while (d->qhead < d->qn && d->q[d->qhead].due <= now) {
        struct mdc_due *e = &d->q[d->qhead++];
        if (now - e->appended > d->stats.lag_max_us)
            d->stats.lag_max_us = now - e->appended;
        mdc_apply_to(d, e->end);
    }
    if (d->qhead == d->qn)
        d->qhead = d->qn = 0;
    mdc_arm(d);
}

static void mdc_arm(struct mdc *d)
{
    if (d->timer || d->qhead == d->qn)
        return;
    d->timer = env_timer(d->env, d->q[d->qhead].due - env_now(d->env), mdc_on_due, d);
}

/* A new controller's snapshot, loaded on the image (KRaft hands a snapshot to a broker whose log
 * position the new leader does not serve), then the image goes on from the snapshot's offset.
 * Fixed (#3370, the image deltas' finishSnapshot): the image becomes the snapshot's state, each
 * object upserted by id and whatever the snapshot does not hold removed.  F05 (before #3370,
 * !metadata.image.snapshot.upsert): the snapshot's records are replayed on top of the image in
 * append mode, so every object the image already listed is listed again, and the entries the
 * snapshot no longer holds stay. */
static void mdc_load_snapshot(struct mdc *d)
{
    const struct meta_rec *r;
    size_t n;
    int64_t off;
    ctl_snapshot_get(d->ctl, &r, &n, &off);
    env_cancel(d->env, d->timer);
    d->timer = 0;
    d->qhead = d->qn = 0;
    if (d->conf.snapshot_append) {
        meta_set_append_mode(d->img, true);
        if (meta_apply(d->img, r, n) != 0) {
            mdc_image_load(d);
            return;
        }
        meta_set_append_mode(d->img, false);
    } else {
        struct meta *m = NULL;
        if (meta_create_like(d->img, &m) != 0 || meta_apply(m, r, n) != 0) {
            meta_destroy(m);
            mdc_image_load(d);
            return;
        }
        meta_replayed(m);
        meta_destroy(d->img);
        d->img = m;
    }
    d->applied = off;
    d->stats.snapshots++;
    env_tracef(d->env, "mdc snapshot loaded offset=%lld records=%zu", (long long)off, n);
    mdc_apply_to(d, ctl_log_end(d->ctl));
}

/* The controller appended batch offset (-1: a new controller's snapshot). */
static void mdc_on_batch(void *arg, int64_t offset)
{
    struct mdc *d = arg;
    int64_t now = env_now(d->env), due;
    if (!d->img)
        return;
    if (offset < 0) {
        mdc_load_snapshot(d);
        return;
    }
    if (d->conf.lag_us <= 0) {
        mdc_apply_to(d, offset + 1);
        return;
    }
    /* An own stream (a 64-bit LCG, its high bits): the lags do not shift the run's other
     * draws (the fault rules' probabilities), so a lag changes only the timing. */
    d->rs = d->rs * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
    due = now + mdc_lag_draw(d->conf.lag_us, d->rs >> 11);
    if (d->qn > d->qhead && d->q[d->qn - 1].due > due)
        due = d->q[d->qn - 1].due; /* in log order */
    if (d->qn == d->qcap) {
        size_t cap = d->qcap ? d->qcap * 2 : 32;
        struct mdc_due *p = realloc(d->q, cap * sizeof *p);
        if (!p) {
            mdc_apply_to(d, offset + 1); /* no room to wait: applied now */
            return;
        }
        d->q = p;
        d->qcap = cap;
    }
    d->q[d->qn++] = (struct mdc_due){offset + 1, now, due};
    mdc_arm(d);
}

void mdc_catch_up(struct mdc *d)
{
    env_cancel(d->env, d->timer);
    d->timer = 0;
    d->qhead = d->qn = 0;
    mdc_apply_to(d, ctl_log_end(d->ctl));
}

/* ---- The own streams: copied from the controller's answers. ------------------------------------ */

void mdc__own_refresh(struct mdc *d, int64_t stream)
{
    const struct meta_stream *s = meta_stream_get(ctl_store(d->ctl), stream);
    if (!s || stream < 0)
        return;
    if ((size_t)stream >= d->nown) {
        size_t n = d->nown ? d->nown : 8;
        struct meta_stream *p;
        while (n <= (size_t)stream)
            n *= 2;
        if (!(p = realloc(d->own, n * sizeof *p)))
            return;
        for (size_t i = d->nown; i < n; i++)
            p[i] = (struct meta_stream){.id = -1};
        d->own = p;
        d->nown = n;
    }
    d->own[stream] = *s;
}

/* Opening the broker's streams (AutoMQ: openStream answers each stream's epoch and offsets). */
static void mdc_own_open(struct mdc *d)
{
    int64_t n = meta_stream_limit(ctl_store(d->ctl));
    for (int64_t i = 0; i < n; i++)
        mdc__own_refresh(d, i);
}

void mdc_stream_open(struct mdc *d, int64_t id) { mdc__own_refresh(d, id); }

const struct meta_stream *mdc_stream_own(struct mdc *d, int64_t id)
{
    if (id < 0)
        return NULL;
    if ((size_t)id >= d->nown || d->own[id].id != id)
        mdc__own_refresh(d, id); /* a stream it has not opened yet: opened now */
    if ((size_t)id >= d->nown || d->own[id].id != id)
        return NULL;
    return &d->own[id];
}

/* ---- Lifetime. --------------------------------------------------------------------------------- */

static void mdc_image_drop(struct mdc *d)
{
    env_cancel(d->env, d->timer);
    d->timer = 0;
    d->qhead = d->qn = 0;
    if (d->registered)
        ctl_reader_remove(d->ctl, &d->applied);
    d->registered = false;
    meta_destroy(d->img);
    d->img = NULL;
}

/* The image rebuilt from the controller's snapshot and log. */
static int mdc_image_load(struct mdc *d)
{
    struct meta *m;
    int rc;
    mdc_image_drop(d);
    if ((rc = ctl_replay(d->ctl, &m, NULL)) < 0)
        return rc;
    d->img = m;
    d->applied = ctl_log_end(d->ctl);
    d->stats.reloads++;
    if ((rc = ctl_reader_add(d->ctl, &d->applied, mdc_on_batch, d)) < 0) {
        meta_destroy(d->img);
        d->img = NULL;
        return rc;
    }
    d->registered = true;
    return 0;
}

int mdc_restart(struct mdc *d)
{
    int rc;
    mdc_crash(d);
    if ((rc = mdc_image_load(d)) < 0)
        return rc;
    /* a broker's start registers it: a new node epoch (AutoMQ's broker registration) */
    if (d->conf.node >= 0 && (rc = ctl_node_register(d->ctl, d->conf.node)) > 0)
        d->epoch = rc;
    mdc_own_open(d);
    return 0;
}

void mdc_crash(struct mdc *d)
{
    mdc__rpc_crash(d);
    mdc_image_drop(d);
}

int mdc_new(struct env *env, struct ctl *ctl, const struct mdc_conf *conf, struct mdc **out)
{
    struct mdc *d;
    int rc;
    if (!env || !ctl || !conf || conf->lag_us < 0)
        return ERR_INVAL;
    if (!(d = calloc(1, sizeof *d)))
        return ERR_NOMEM;
    d->env = env;
    d->ctl = ctl;
    d->conf = *conf;
    if (d->conf.rpc_timeout_us <= 0) /* a zeroed conf (tests): AutoMQ's values */
        d->conf.rpc_timeout_us = 30 * ENV_USEC_PER_SEC;
    if (d->conf.retry_base_us <= 0)
        d->conf.retry_base_us = 500 * ENV_USEC_PER_MS;
    d->rs = conf->lag_us > 0 ? env_rand(env) : 0;
    if ((rc = mdc_restart(d)) < 0) {
        mdc_free(d);
        return rc;
    }
    d->stats.reloads = 0;
    *out = d;
    return 0;
}

void mdc_free(struct mdc *d)
{
    if (!d)
        return;
    mdc_crash(d);
    mdc__rpc_free_all(d);
    free(d->q);
    free(d->w);
    free(d->own);
    free(d);
}

const struct meta *mdc_image(const struct mdc *d) { return d->img; }
const struct mdc_stats *mdc_stats(const struct mdc *d) { return &d->stats; }
int64_t mdc_applied(const struct mdc *d) { return d->applied; }

/* ---- Reads. ------------------------------------------------------------------------------------ */

/* With no lag the image is the controller's state: anything changed on the controller's store
 * outside its operations (tests do) is logged first.  A no-op in the engine: every operation
 * logs its own changes. */
static const struct meta *mdc_img(const struct mdc *d)
{
    if (d->img && d->conf.lag_us <= 0)
        ctl_sync(d->ctl);
    return d->img;
}

const struct meta_object *mdc_object_get(const struct mdc *d, int64_t id)
{
    const struct meta *m = mdc_img(d);
    return m ? meta_object_get(m, id) : NULL;
}

const struct meta_stream *mdc_stream_get(const struct mdc *d, int64_t id)
{
    const struct meta *m = mdc_img(d);
    return m ? meta_stream_get(m, id) : NULL;
}

int64_t mdc_stream_limit(const struct mdc *d)
{
    const struct meta *m = mdc_img(d);
    return m ? meta_stream_limit(m) : 0;
}

int mdc_foreach(const struct mdc *d, meta_object_fn fn, void *arg)
{
    const struct meta *m = mdc_img(d);
    return m ? meta_foreach(m, fn, arg) : 0;
}

int mdc_stream_pieces(const struct mdc *d, int64_t stream, int64_t start, int64_t end,
                      struct meta_piece **out, size_t *n)
{
    const struct meta *m = mdc_img(d);
    if (!m) {
        *out = NULL;
        *n = 0;
        return 0;
    }
    return meta_stream_pieces(m, stream, start, end, out, n);
}

const char *mdc_namespace(const struct mdc *d) { return ctl_namespace(d->ctl); }

int64_t mdc_objects_count(const struct mdc *d, int64_t at_least)
{
    const struct meta *m = mdc_img(d);
    struct meta_counts c;
    if (!m || meta_next_id(m) < at_least)
        return 0;
    meta_count(m, &c);
    return (int64_t)c.committed;
}
int64_t mdc_id_none(const struct mdc *d) { return meta_id_none(ctl_store(d->ctl)); }

int mdc_mark(struct mdc *d, const int64_t *ids, const enum meta_op *ops, size_t n)
{
    return ctl_mark(d->ctl, ids, ops, n, env_now(d->env));
}

int64_t mdc_epoch(const struct mdc *d) { return d->epoch; }

int mdc_writer_guard(void *md, const char *key)
{
    return md ? cln_writer_guard(((struct mdc *)md)->ctl, key) : 0;
}
