/* cln.c - the controller's cleaner: lifecycle check, generations, TTL
 * expiry, shallow deletes, crash and restart (see cln.h). */
#include "cln_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "err.h"

#define CLN_WHO "cleaner"

static void cln_check_fire(void *arg);
static void cln_ttl_fire(void *arg);

/* ---- conf ---------------------------------------------------------------------- */

void cln_conf_from(struct cln_conf *conf, const struct conf *c)
{
    memset(conf, 0, sizeof *conf);
    conf->interval_us = conf_get(c, CONF_CLEANER_INTERVAL);
    conf->retention_us = conf_get(c, CONF_DELETE_RETENTION);
    conf->max_per_round = (int)conf_get(c, CONF_CLEANER_MAX_PER_ROUND);
    conf->backoff_us = conf_get(c, CONF_RETRY_BACKOFF);
    conf->backoff_max_us = conf_get(c, CONF_RETRY_BACKOFF_MAX);
    conf->not_found_error = conf_get(c, CONF_NOT_FOUND) != 0;
    conf->dedup_inflight = conf_bool(c, CONF_CLEANER_DEDUP);
    conf->redelete_us = conf_get(c, CONF_CLEANER_REDELETE);
    conf->retry_cap = conf_bool(c, CONF_CLN_RETRY_CAP);
    conf->obj_backoff = conf_bool(c, CONF_CLN_OBJ_BACKOFF);
    conf->batch_halving = conf_bool(c, CONF_CLN_BATCH_HALVING);
    conf->ttl_during_clean = conf_bool(c, CONF_CLN_TTL_DURING_CLEAN);
    conf->round_every_check = conf_bool(c, CONF_CLN_ROUND_EVERY_CHECK);
    conf->notify_per_key = conf_bool(c, CONF_CLN_NOTIFY_PER_KEY);
    conf->gone_links = conf_bool(c, CONF_CLN_GONE_LINKS);
    conf->ttl_aborts = conf_bool(c, CONF_CLN_TTL_ABORTS);
    conf->deep_concurrency = (int)conf_get(c, CONF_CLN_DEEP_CONCURRENCY);
    s3c_conf_from(&conf->s3c, c);
}

/* ---- per-object state ------------------------------------------------------------ */

struct cln_obj *cln__obj(struct cln *c, int64_t id)
{
    if (id < 0)
        return NULL;
    if ((size_t)id >= c->nobjs) {
        size_t n = c->nobjs ? c->nobjs : 1024;
        struct cln_obj *o;
        while (n <= (size_t)id)
            n *= 2;
        o = realloc(c->objs, n * sizeof *o);
        if (!o)
            return NULL;
        memset(o + c->nobjs, 0, (n - c->nobjs) * sizeof *o);
        c->objs = o;
        c->nobjs = n;
    }
    return &c->objs[id];
}

/* The delay before retry n (n >= 1): backoff doubling, capped. */
static int64_t cln_backoff(const struct cln *c, uint32_t n)
{
    int64_t b = c->conf.backoff_us > 0 ? c->conf.backoff_us : ENV_USEC_PER_SEC;
    for (uint32_t i = 1; i < n && b < c->conf.backoff_max_us; i++)
        b *= 2;
    return b < c->conf.backoff_max_us ? b : c->conf.backoff_max_us;
}

void cln__failed(struct cln *c, int64_t id)
{
    struct cln_obj *o = cln__obj(c, id);
    c->stats.failures++;
    if (!o)
        return;
    if (o->fails < UINT32_MAX)
        o->fails++;
    if (c->conf.obj_backoff)
        o->next_try = env_now(c->env) + cln_backoff(c, o->fails);
}

void cln__succeeded(struct cln *c, int64_t id)
{
    struct cln_obj *o = cln__obj(c, id);
    if (o) {
        o->fails = 0;
        o->next_try = 0;
    }
}

void cln__metadata(char *buf, size_t n, int64_t id)
{
    snprintf(buf, n,
             "S3ObjectMetadata(objectId=%" PRId64 ", objectSize=-1, type=UNKNOWN, "
             "offsetRanges=[], committedTimestamp=-1, dataTimestamp=-1)",
             id);
}

/* ---- lifetime -------------------------------------------------------------------- */

static int cln_start(struct cln *c)
{
    struct s3c_conf sc = c->conf.s3c;
    int rc;
    if (c->conf.retry_cap && (sc.retry_max < 0 || sc.retry_max > CLN_ATTEMPTS))
        sc.retry_max = CLN_ATTEMPTS;
    rc = s3c_new(c->env, c->inner, &sc, &c->s3c);
    if (rc)
        return rc;
    c->down = false;
    c->last_swap = env_now(c->env);
    c->threshold = c->last_swap - c->conf.retention_us;
    c->check_timer = env_timer(c->env, c->conf.interval_us, cln_check_fire, c);
    return 0;
}

int cln_new(struct env *env, struct s3_ops *inner, struct ctl *ctl,
            const struct cln_conf *conf, struct cln **out)
{
    struct cln *c;
    int rc;
    if (!env || !inner || !ctl || !conf || conf->interval_us <= 0 || conf->retention_us < 0 ||
        conf->max_per_round < 1)
        return ERR_INVAL;
    c = calloc(1, sizeof *c);
    if (!c)
        return ERR_NOMEM;
    c->env = env;
    c->inner = inner;
    c->ctl = ctl;
    c->conf = *conf;
    rc = cln_start(c);
    if (rc) {
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

static void cln_clean_free(struct cln_clean *cl)
{
    struct cln *c = cl->c;
    for (size_t i = 0; i < cl->nbatches; i++) {
        struct cln_batch *b = &cl->batches[i];
        for (size_t k = 0; k < b->n; k++) {
            struct cln_obj *o = cln__obj(c, b->ids[k]);
            if (o && o->inflight)
                o->inflight--;
        }
        free(b->ids);
        free(b->keys);
        free(b->kp);
    }
    for (size_t i = 0; i < cl->ndeeps; i++) {
        struct cln_obj *o = cln__obj(c, cl->deeps[i].id);
        if (o && o->inflight)
            o->inflight--;
        cln__deep_free(&cl->deeps[i]);
    }
    env_wait_end(c->env, cl->wait);
    free(cl->batches);
    free(cl->deeps);
    free(cl->group_left);
    free(cl->group_failed);
    free(cl);
}

/* Drops every volatile thing; S3 calls are cancelled first (no callback). */
static void cln_drop(struct cln *c)
{
    env_cancel(c->env, c->check_timer);
    env_cancel(c->env, c->ttl_timer);
    c->check_timer = c->ttl_timer = 0;
    if (c->s3c) {
        c->stats.s3_retries += s3c_stats(c->s3c)->retries;
        c->stats.s3_timeouts += s3c_stats(c->s3c)->timeouts;
    }
    s3c_requests_add(&c->stats.s3_sent, c->s3c);
    s3c_free(c->s3c);
    c->s3c = NULL;
    while (c->cleans) {
        struct cln_clean *cl = c->cleans;
        c->cleans = cl->next;
        cln_clean_free(cl);
    }
    c->ncleans = 0;
    while (c->aborts) {
        struct cln_abort *a = c->aborts;
        c->aborts = a->next;
        env_wait_end(c->env, a->wait);
        free(a);
    }
    c->naborts = 0;
    cln__redel_drop(c);
    if (c->objs)
        memset(c->objs, 0, c->nobjs * sizeof *c->objs);
}

void cln_free(struct cln *c)
{
    if (!c)
        return;
    cln_drop(c);
    cln__redel_free(c);
    free(c->objs);
    free(c->buf);
    free(c);
}

void cln_set_uploads(struct cln *c, cln_uploads_fn fn, void *arg)
{
    c->uploads = fn;
    c->uploads_arg = arg;
}

void cln_crash(struct cln *c)
{
    if (c->down)
        return;
    cln_drop(c);
    c->down = true;
    env_logf(c->env, ENV_LOG_INFO, CLN_WHO, "controller crashed: cleaner state dropped");
}

static void cln_ttl_arm(struct cln *c);

void cln_restart(struct cln *c)
{
    if (!c->down)
        return;
    if (cln_start(c) != 0) {
        env_logf(c->env, ENV_LOG_ERROR, CLN_WHO, "cleaner restart failed: out of memory");
        return;
    }
    cln_ttl_arm(c);
    env_logf(c->env, ENV_LOG_INFO, CLN_WHO, "cleaner restarted: timers rebuilt from metadata");
}

bool cln_idle(const struct cln *c)
{
    return c->ncleans == 0 && c->naborts == 0 && !c->redel_busy;
}

size_t cln_backing_off(const struct cln *c)
{
    size_t n = 0;
    int64_t now = env_now(c->env);
    for (size_t i = 0; i < c->nobjs; i++)
        n += c->objs[i].next_try > now;
    return n;
}

const struct cln_stats *cln_stats(const struct cln *c) { return &c->stats; }

const struct s3c *cln_client(const struct cln *c) { return c->s3c; }

int cln_writer_guard(void *ctl, const char *key)
{
    const struct meta_object *o;
    int64_t id;
    if (!ctl || !key || obj_key_parse(key, &id) != 0)
        return 0;
    o = ctl_object_get(ctl, id);
    return !o || o->state == META_MARKED ? ERR_ABORTED : 0;
}

/* ---- TTL expiry of prepared objects (docs/engine.md "Prepared objects and their TTL") -------- */

static void cln_abort_forget(struct cln *c, struct cln_abort *a);

static void cln_abort_cb(struct s3_req *req, struct s3_result *res)
{
    struct cln_abort *a = req->arg;
    struct cln *c = a->c;
    int rc = s3c_result_err(res);
    if (rc == 0 || rc == ERR_NOTFOUND) {
        c->stats.aborts++;
        env_logf(c->env, ENV_LOG_INFO, CLN_WHO, "aborted multipart upload %s of expired %s",
                 a->upload_id, a->key);
    } else {
        env_logf(c->env, ENV_LOG_WARN, CLN_WHO, "abort of multipart upload %s of %s failed: %s",
                 a->upload_id, a->key, err_str(rc));
    }
    cln_abort_forget(c, a);
}

static void cln_abort_start(struct cln *c, const char *key, const char *upload_id);

/* Aborts the uploads the ledger hook knows for key (when listing failed). */
static size_t cln_abort_known(struct cln *c, const char *key)
{
    char ids[4][S3_UPLOAD_ID_MAX];
    size_t n = c->uploads ? c->uploads(c->uploads_arg, key, ids, 4) : 0;
    for (size_t i = 0; i < n; i++)
        cln_abort_start(c, key, ids[i]);
    return n;
}

static void cln_abort_forget(struct cln *c, struct cln_abort *a)
{
    struct cln_abort **pp = &c->aborts;
    while (*pp && *pp != a)
        pp = &(*pp)->next;
    if (*pp)
        *pp = a->next;
    c->naborts--;
    env_wait_end(c->env, a->wait);
    free(a);
}

/* The uploads of an expired key, listed: abort each (the list sees those
 * whose creation answer was lost too).  A failed list falls back to the
 * uploads the ledger knows. */
static void cln_list_cb(struct s3_req *req, struct s3_result *res)
{
    struct cln_abort *a = req->arg;
    struct cln *c = a->c;
    size_t n = 0;
    if (s3c_result_err(res) == 0) {
        for (size_t i = 0; i < res->nentries; i++) {
            const struct s3_list_entry *e = &res->entries[i];
            if (e->key && e->upload_id && strcmp(e->key, a->key) == 0) {
                cln_abort_start(c, a->key, e->upload_id);
                n++;
            }
        }
    } else {
        n = cln_abort_known(c, a->key);
        env_logf(c->env, ENV_LOG_WARN, CLN_WHO, "listing the uploads of expired %s failed: %s; "
                 "aborting the %zu the ledger knows", a->key, err_str(s3c_result_err(res)), n);
    }
    cln_abort_forget(c, a);
}

static struct cln_abort *cln_abort_new(struct cln *c, const char *key, const char *upload_id)
{
    struct cln_abort *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->c = c;
    a->listing = upload_id == NULL;
    snprintf(a->key, sizeof a->key, "%s", key);
    snprintf(a->upload_id, sizeof a->upload_id, "%s", upload_id ? upload_id : "");
    a->req.job = S3_JOB_CLEANER;
    a->req.key = a->key;
    if (a->listing)
        a->req.prefix = a->key;
    else
        a->req.upload_id = a->upload_id;
    return a;
}

static void cln_abort_link(struct cln *c, struct cln_abort *a)
{
    if (a->listing)
        a->wait = env_wait_beginf(c->env, CLN_WHO, "list of the multipart uploads of expired %s "
                                  "(to abort them)", a->key);
    else
        a->wait = env_wait_beginf(c->env, CLN_WHO, "abort of multipart upload %s of expired %s",
                                  a->upload_id, a->key);
    a->next = c->aborts;
    c->aborts = a;
    c->naborts++;
}

static void cln_abort_start(struct cln *c, const char *key, const char *upload_id)
{
    struct cln_abort *a = cln_abort_new(c, key, upload_id);
    if (!a)
        return;
    if (s3_mpu_abort(s3c_ops(c->s3c), &a->req, cln_abort_cb, a) != 0) {
        free(a);
        return;
    }
    cln_abort_link(c, a);
}

static int cln_on_expired(void *arg, const struct meta_object *o)
{
    struct cln *c = arg;
    struct cln_abort *a;
    c->stats.expired++;
    if (!c->conf.ttl_aborts) {
        /* AutoMQ: marked only; an open upload stays until a bucket lifecycle rule ends it. */
        env_logf(c->env, ENV_LOG_INFO, CLN_WHO, "prepared object %" PRId64 " expired at its "
                 "deadline, marked for deletion", o->id);
        return 0;
    }
    a = cln_abort_new(c, o->key, NULL);
    env_logf(c->env, ENV_LOG_INFO, CLN_WHO, "prepared object %" PRId64 " expired at its deadline, "
             "marked for deletion; its open uploads are aborted", o->id);
    if (a && s3_list_uploads(s3c_ops(c->s3c), &a->req, cln_list_cb, a) == 0) {
        cln_abort_link(c, a);
        return 0;
    }
    free(a);
    cln_abort_known(c, o->key);
    return 0;
}

/* Sets the TTL timer at the earliest deadline (AutoMQ marks when now >
 * deadline: one microsecond after it). */
static void cln_ttl_arm(struct cln *c)
{
    int64_t d = ctl_next_deadline(c->ctl), now = env_now(c->env), at;
    if (d == ENV_TIME_NEVER)
        return;
    at = d + 1 > now ? d + 1 : now;
    if (c->ttl_timer && c->ttl_at <= at)
        return;
    env_cancel(c->env, c->ttl_timer);
    c->ttl_at = at;
    c->ttl_timer = env_timer(c->env, at - now, cln_ttl_fire, c);
}

static void cln_expire(struct cln *c)
{
    ctl_expire_prepared(c->ctl, env_now(c->env), (size_t)c->conf.max_per_round, cln_on_expired,
                         c);
    cln_ttl_arm(c);
}

static void cln_ttl_fire(void *arg)
{
    struct cln *c = arg;
    c->ttl_timer = 0;
    /* AutoMQ's timer only queues the id; the next lifecycle check (skipped
     * while a clean is in flight) marks it. */
    if (!c->conf.ttl_during_clean && c->conf.dedup_inflight && c->ncleans > 0)
        return;
    cln_expire(c);
}

/* ---- shallow deletes -------------------------------------------------------------- */

static void cln_clean_finish(struct cln_clean *cl)
{
    struct cln *c = cl->c;
    struct cln_clean **pp = &c->cleans;
    while (*pp && *pp != cl)
        pp = &(*pp)->next;
    if (*pp)
        *pp = cl->next;
    c->ncleans--;
    cln_clean_free(cl);
}

void cln__part_done(struct cln_clean *cl)
{
    if (--cl->parts_left == 0) {
        cln_clean_finish(cl);
        return;
    }
    env_wait_updatef(cl->c->env, cl->wait, "clean %" PRIu64 ": %zu of %zu delete steps left "
                     "(DeleteObjects batches and composite deep deletes)", cl->seq, cl->parts_left,
                     cl->nbatches + cl->ndeeps);
}

static void cln_log_failed_keys(struct cln *c, const struct cln_batch *b,
                                const struct s3_result *res, const bool *ok)
{
    char keys[600];
    size_t len = 0, nfail = 0;
    keys[0] = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (ok[i])
            continue;
        if (nfail++ < 10 && len < sizeof keys - 1)
            len += (size_t)snprintf(keys + len, sizeof keys - len, "%s%s", len ? "," : "",
                                    b->keys[i]);
        if (len >= sizeof keys)
            len = sizeof keys - 1;
    }
    /* res: S3's answer to the call (a whole call's 404 or 403 as such; 200 when the keys
     * failed one by one), or a transport failure. */
    if (res->transport != S3_TR_OK)
        env_logf(c->env, ENV_LOG_WARN, CLN_WHO,
                 "Failed to delete the S3Object from S3, objectKeys: [%s]%s (%zu keys): "
                 "transport failure (%s) %s", keys, nfail > 10 ? "..." : "", nfail,
                 err_str(s3c_result_err(res)), res->code ? s3_code_name(res->code) : "");
    else
        env_logf(c->env, ENV_LOG_WARN, CLN_WHO,
                 "Failed to delete the S3Object from S3, objectKeys: [%s]%s (%zu keys): "
                 "status %d %s", keys, nfail > 10 ? "..." : "", nfail, res->status,
                 res->code ? s3_code_name(res->code) : err_str(s3c_result_err(res)));
}

static void cln_batch_cb(struct s3_req *req, struct s3_result *res)
{
    struct cln_batch *b = req->arg;
    struct cln_clean *cl = b->cl;
    struct cln *c = cl->c;
    bool whole_ok = res->transport == S3_TR_OK && res->status >= 200 && res->status < 300 &&
                    res->ndeleted == b->n;
    bool *ok = calloc(b->n ? b->n : 1, sizeof *ok);
    int64_t *done = malloc((b->n ? b->n : 1) * sizeof *done);
    size_t ndone = 0, removed = 0;
    if (!ok || !done) {
        free(ok);
        free(done);
        for (size_t i = 0; i < b->n; i++)
            cln__failed(c, b->ids[i]);
        cln__part_done(cl);
        return;
    }
    /* AutoMQ notifies a batch only when all of it succeeded; per key is a guard of ours. */
    if (!c->conf.notify_per_key)
        for (size_t i = 0; whole_ok && i < b->n; i++)
            whole_ok = res->deleted[i].code == S3E_NONE;
    for (size_t i = 0; i < b->n; i++) {
        ok[i] = whole_ok && res->deleted[i].code == S3E_NONE;
        if (ok[i]) {
            done[ndone++] = b->ids[i];
            cln__succeeded(c, b->ids[i]);
        } else {
            cln__failed(c, b->ids[i]);
        }
    }
    if (ndone < b->n)
        cln_log_failed_keys(c, b, res, ok);
    for (size_t i = 0; i < b->n; i++) {
        const struct meta_object *o = ok[i] ? ctl_object_get(c->ctl, b->ids[i]) : NULL;
        if (o && o->ttl_expired)
            cln__redel_add(c, b->keys[i]);
    }
    if (ndone && ctl_remove(c->ctl, done, ndone, &removed) == 0) {
        c->stats.deleted += removed;
        env_eventf(c->env, ENV_LANE_CLEANER, ENV_EVENT_INSTANT, cl->seq, false,
                   "cleaner removed %zu objects after DeleteObjects", removed);
    }
    free(ok);
    free(done);
    cln__part_done(cl);
}

static int cln_batch_start(struct cln *c, struct cln_batch *b)
{
    b->req.job = S3_JOB_CLEANER;
    b->req.key = b->kp[0];
    b->req.keys = b->kp;
    b->req.nkeys = b->n;
    c->stats.delete_calls++;
    return s3_delete_many(s3c_ops(c->s3c), &b->req, cln_batch_cb, b);
}

/* ---- building a clean ------------------------------------------------------------- */

struct cln_pick {
    int64_t id;
    uint32_t fails;
};

static int cln_pick_cmp(const void *a, const void *b)
{
    const struct cln_pick *x = a, *y = b;
    if (x->fails != y->fails)
        return x->fails < y->fails ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Cuts the normal picks into batches: objects that failed k times go with
 * objects that failed k times, at most 1000 >> k a batch. */
static int cln_make_batches(struct cln *c, struct cln_clean *cl, struct cln_pick *p, size_t n)
{
    size_t i = 0;
    if (c->conf.batch_halving)
        qsort(p, n, sizeof *p, cln_pick_cmp);
    cl->batches = calloc(n ? n : 1, sizeof *cl->batches);
    if (!cl->batches)
        return ERR_NOMEM;
    while (i < n) {
        uint32_t f = p[i].fails;
        size_t lim = f >= 10 ? 1 : (size_t)CLN_MAX_KEYS >> f, k = 0;
        struct cln_batch *b = &cl->batches[cl->nbatches];
        bool halve = c->conf.batch_halving;
        if (!halve)
            lim = CLN_MAX_KEYS; /* AutoMQ: batches of 1000 whatever failed before */
        while (i + k < n && k < lim && (!halve || p[i + k].fails == f))
            k++;
        b->cl = cl;
        b->ids = malloc(k * sizeof *b->ids);
        b->keys = malloc(k * sizeof *b->keys);
        b->kp = malloc(k * sizeof *b->kp);
        if (!b->ids || !b->keys || !b->kp) {
            free(b->ids), free(b->keys), free(b->kp);
            return ERR_NOMEM;
        }
        cl->nbatches++;
        for (size_t j = 0; j < k; j++) {
            const struct meta_object *o = ctl_object_get(c->ctl, p[i + j].id);
            b->ids[j] = p[i + j].id;
            snprintf(b->keys[j], OBJ_KEY_MAX, "%s", o ? o->key : "");
            b->kp[j] = b->keys[j];
            cln__obj(c, b->ids[j])->inflight++;
        }
        b->n = k;
        i += k;
    }
    return 0;
}

static int cln_make_deeps(struct cln *c, struct cln_clean *cl, const struct cln_pick *p, size_t n)
{
    cl->deeps = calloc(n ? n : 1, sizeof *cl->deeps);
    cl->ngroups = (n + CLN_GROUP - 1) / CLN_GROUP;
    cl->group_left = calloc(cl->ngroups ? cl->ngroups : 1, sizeof *cl->group_left);
    cl->group_failed = calloc(cl->ngroups ? cl->ngroups : 1, sizeof *cl->group_failed);
    if (!cl->deeps || !cl->group_left || !cl->group_failed)
        return ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const struct meta_object *o = ctl_object_get(c->ctl, p[i].id);
        struct cln_deep *d = &cl->deeps[i];
        d->cl = cl;
        d->group = i / CLN_GROUP;
        d->id = p[i].id;
        d->attributes = o->attributes;
        snprintf(d->key, sizeof d->key, "%s", o->key);
        cl->group_left[d->group]++;
        cln__obj(c, d->id)->inflight++;
    }
    cl->ndeeps = n;
    return 0;
}

static bool cln_is_deep(const struct meta_object *o)
{
    return o->kind == META_KIND_COMPOSITE && (o->attributes & META_ATTR_DEEP_DELETE);
}

/* Marked ids into c->buf, oldest first; returns the count (0 on no memory). */
static size_t cln_marked(struct cln *c)
{
    for (;;) {
        size_t n = ctl_marked(c->ctl, c->buf, c->bufcap);
        int64_t *nb;
        if (n < c->bufcap)
            return n;
        nb = realloc(c->buf, (c->bufcap ? c->bufcap * 2 : 4096) * sizeof *nb);
        if (!nb)
            return n;
        c->buf = nb;
        c->bufcap = c->bufcap ? c->bufcap * 2 : 4096;
    }
}

/* Chooses up to max_per_round old-generation ids ready for an attempt;
 * normal ones into p[0..*nn), composites to deep-delete into q[0..*nq).
 * Returns true when old-generation ids were left out by the cap. */
static bool cln_choose(struct cln *c, struct cln_pick *p, size_t *nn, struct cln_pick *q,
                       size_t *nq)
{
    size_t n = cln_marked(c), k = 0;
    int64_t now = env_now(c->env);
    *nn = *nq = 0;
    for (size_t i = 0; i < n; i++) {
        const struct meta_object *o = ctl_object_get(c->ctl, c->buf[i]);
        struct cln_obj *s = cln__obj(c, c->buf[i]);
        if (!o || !s)
            continue;
        if (o->marked_at >= c->threshold)
            break; /* mark order is time order: the rest is the new generation */
        if (s->next_try > now || (c->conf.dedup_inflight && s->inflight))
            continue;
        if (k >= (size_t)c->conf.max_per_round)
            return true;
        if (cln_is_deep(o))
            q[(*nq)++] = (struct cln_pick){o->id, s->fails};
        else
            p[(*nn)++] = (struct cln_pick){o->id, s->fails};
        k++;
    }
    return false;
}

static void cln_clean_start(struct cln *c, struct cln_clean *cl)
{
    cl->parts_left = cl->nbatches + cl->ndeeps;
    cl->wait = env_wait_beginf(c->env, CLN_WHO, "clean %" PRIu64 ": %zu DeleteObjects batches "
                               "and %zu composite deep deletes in flight", cl->seq, cl->nbatches,
                               cl->ndeeps);
    cl->next = c->cleans;
    c->cleans = cl;
    c->ncleans++;
    c->stats.cleans++;
    /* An extra part keeps the clean alive while its steps are submitted. */
    cl->parts_left++;
    for (size_t i = 0; i < cl->nbatches; i++) {
        if (cln_batch_start(c, &cl->batches[i]) != 0) {
            for (size_t k = 0; k < cl->batches[i].n; k++)
                cln__failed(c, cl->batches[i].ids[k]);
            cl->parts_left--;
        }
    }
    cln__deep_pump(cl);
    cln__part_done(cl);
}

/* One delete round over the old generation; returns true when the cap left
 * old-generation ids for another round. */
static bool cln_round(struct cln *c)
{
    size_t cap = (size_t)c->conf.max_per_round, nn, nq;
    struct cln_pick *p = malloc(cap * sizeof *p), *q = malloc(cap * sizeof *q);
    struct cln_clean *cl = NULL;
    bool more = false;
    if (!p || !q)
        goto out;
    more = cln_choose(c, p, &nn, q, &nq);
    if (nn + nq == 0)
        goto out;
    cl = calloc(1, sizeof *cl);
    if (!cl)
        goto out;
    cl->c = c;
    cl->seq = ++c->clean_seq;
    if (cln_make_batches(c, cl, p, nn) != 0 || cln_make_deeps(c, cl, q, nq) != 0) {
        cln_clean_free(cl);
        goto out;
    }
    env_eventf(c->env, ENV_LANE_CLEANER, ENV_EVENT_INSTANT, cl->seq, false,
               "cleaner clean %" PRIu64 " objects=%zu composites=%zu", cl->seq, nn, nq);
    cln_clean_start(c, cl);
out:
    free(p);
    free(q);
    return more;
}

/* ---- the lifecycle check ------------------------------------------------------------ */

/* AutoMQ's check (S3ObjectControlManager.checkS3ObjectsLifecycle, after
 * #1062): the whole check, TTL expiry included, is skipped while the last
 * clean is in flight; the old generation is deleted once per retention
 * period, when the generations swap, and while more than max_per_round ids
 * are left the swap waits and the next check deletes again.  The guards
 * cleaner.ttl.during.clean and cleaner.round.every.check change that; with
 * cleaner.dedup.inflight false (F10, before #1062) every check deletes what
 * is past its retention, in flight or not. */
static void cln_check(struct cln *c)
{
    int64_t now = env_now(c->env);
    bool busy = c->conf.dedup_inflight && c->ncleans > 0;
    bool per_retention = c->conf.dedup_inflight && !c->conf.round_every_check;
    if (busy && !c->conf.ttl_during_clean) {
        env_eventf(c->env, ENV_LANE_CLEANER, ENV_EVENT_INSTANT, 0, false,
                   "cleaner check skipped: the last deletion is not finished");
        return;
    }
    cln_expire(c);
    cln__redel_pump(c);
    if (!per_retention) {
        if (now - c->last_swap >= c->conf.retention_us) {
            c->threshold = c->last_swap;
            c->last_swap = now;
        }
        if (!busy)
            cln_round(c);
        return;
    }
    if (busy || now - c->last_swap < c->conf.retention_us)
        return;
    /* The candidate swap: ids marked before last_swap are the old generation. */
    c->threshold = c->last_swap;
    if (!cln_round(c))
        c->last_swap = now;
}

static void cln_check_fire(void *arg)
{
    struct cln *c = arg;
    c->check_timer = env_timer(c->env, c->conf.interval_us, cln_check_fire, c);
    cln_check(c);
}

void cln_check_now(struct cln *c)
{
    if (!c->down)
        cln_check(c);
}
