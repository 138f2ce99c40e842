/* world_http.c - a world in http mode: the HTTP front, the client, the real
 * loop.  See world_http.h. */
#include "world_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env_real.h"
#include "err.h"
#include "fault.h"
#include "http.h"
#include "s3_curl.h"
#include "vclock.h"
#include "world_int.h"

#define WH_ACCESS "s3sim-access"
#define WH_SECRET "s3sim-secret"
#define WH_MAX_REAL_US (3600LL * ENV_USEC_PER_SEC) /* one loop call at most */

/* One observed call, copied on the server's thread under the loop lock. */
struct wh_obs {
    struct fs3_call_info ci;
    char *key, *rule;
};

/* --endpoint: one call in flight to the other server, counted on our side. */
struct wh_call {
    struct s3_req in;   /* the caller's request with our callback: what s3_curl holds */
    struct s3_req *out; /* the caller's */
    struct world_http *wh;
    int64_t submit_us;
    struct wh_call *next, *prev;
};

struct world_http {
    struct world *w;
    struct env_real *er;
    struct env *renv;
    struct fs3_http *front;
    struct fs3_loop *loop;
    struct s3_curl *curl;
    struct fs3_config fc;
    struct sim_vclock *clock; /* with the in-process front: the shared virtual clock */
    double scale;
    int64_t t0;      /* env_real time of the world's time 0 */
    int64_t loop_t0; /* the front's loop env time at the world's time 0 */
    struct wh_obs *q; /* under the loop lock */
    size_t nq, capq;
    int64_t until;
    bool finishing;  /* world_finish: stop once converged */
    struct s3_ops counted;  /* --endpoint: the client with every call observed */
    struct wh_call *calls;  /* its calls in flight */
};

/* ---- lock and clock ------------------------------------------------------------ */

void world_lock(struct world *w)
{
    if (w->http && w->http->loop)
        fs3_loop_lock(w->http->loop);
}

void world_unlock(struct world *w)
{
    if (w->http && w->http->loop)
        fs3_loop_unlock(w->http->loop);
}

int64_t world_http_now(struct world *w)
{
    int64_t t = env_now(w->http->renv) - w->http->t0;
    return t > 0 ? t : 0;
}

env_id world_http_timer(struct world *w, int64_t delay_us, env_timer_cb cb, void *arg)
{
    return env_timer(w->http->renv, delay_us, cb, arg);
}

void world_http_cancel(struct world *w, env_id id) { env_cancel(w->http->renv, id); }

uint64_t world_http_inflight(struct world *w) { return s3_curl_inflight(w->http->curl); }

/* ---- the observer: queued on the server's threads, drained on the engine's ---- */

static void wh_observe(void *arg, const struct fs3_call_info *ci)
{
    struct world_http *wh = arg;
    struct wh_obs *o;
    if (wh->nq == wh->capq) {
        size_t cap = wh->capq ? wh->capq * 2 : 256;
        struct wh_obs *nq = realloc(wh->q, cap * sizeof *nq);
        if (!nq)
            return;
        wh->q = nq;
        wh->capq = cap;
    }
    o = &wh->q[wh->nq++];
    o->ci = *ci;
    o->ci.deleted = NULL; /* the server's, gone once the hook returns */
    o->ci.ndeleted = 0;
    o->ci.keys = NULL;
    o->key = ci->key ? strdup(ci->key) : NULL;
    o->rule = ci->rule ? strdup(ci->rule) : NULL;
}

static void wh_drain(struct world_http *wh)
{
    struct wh_obs *q;
    size_t n;
    if (!wh->loop)
        return;
    fs3_loop_lock(wh->loop);
    q = wh->q;
    n = wh->nq;
    wh->q = NULL;
    wh->nq = wh->capq = 0;
    fs3_loop_unlock(wh->loop);
    for (size_t i = 0; i < n; i++) {
        q[i].ci.key = q[i].key;
        q[i].ci.rule = q[i].rule;
        q[i].ci.submit_us -= wh->loop_t0; /* into the world's time */
        q[i].ci.answer_us -= wh->loop_t0;
        world_observe(wh->w, &q[i].ci);
        free(q[i].key);
        free(q[i].rule);
    }
    free(q);
}

/* ---- the bucket: made by the front's factory, so that it dies before the loop -- */

static int wh_create(void *arg, struct env *env, const char *name, struct s3_ops **ops)
{
    struct world_http *wh = arg;
    struct world *w = wh->w;
    if (strcmp(name, conf_str(&w->spec->conf, CONF_BUCKET)) != 0 || w->store)
        return ERR_INVAL;
    w->store = fs3_new(env, &wh->fc);
    if (!w->store)
        return ERR_NOMEM;
    w->fault = fs3_fault_new(env, w->store, NULL, NULL);
    if (!w->fault)
        return ERR_NOMEM;
    fs3_fault_observe(w->fault, wh_observe, wh);
    for (size_t i = 0; i < w->spec->nfaults; i++) {
        int rc = world_apply_fault(w, &w->spec->faults[i]);
        if (rc)
            return rc;
    }
    *ops = fs3_fault_ops(w->fault);
    return 0;
}

static struct fs3 *wh_store(void *arg, const char *name)
{
    struct world_http *wh = arg;
    (void)name;
    return wh->w->store;
}

static void wh_destroy(void *arg, const char *name, struct s3_ops *ops)
{
    struct world_http *wh = arg;
    (void)name;
    (void)ops;
    fs3_fault_free(wh->w->fault);
    fs3_free(wh->w->store);
    wh->w->fault = NULL;
    wh->w->store = NULL;
}

/* ---- setup and teardown ------------------------------------------------------------ */

/* ---- --endpoint: calls counted on the client side ------------------------------- */

/* With another server there is no fault shim to observe the calls, so the
 * client is wrapped: each call is reported to world_observe() when it is
 * answered or cancelled, as the shim reports them, so that the s3.* metrics,
 * the coverage of ops by job and the ops= of the verdict line mean the same
 * in both cases (no effect is ever applied: the faults are the server's own). */
static void wh_call_observe(struct wh_call *c, enum fs3_outcome out, const struct s3_result *res)
{
    const struct s3_req *q = &c->in;
    struct fs3_call_info ci = {0};
    ci.op = q->op;
    ci.job = q->job;
    ci.key = q->op == S3_OP_LIST || q->op == S3_OP_LIST_UPLOADS ? (q->prefix ? q->prefix : "")
             : q->op == S3_OP_DELETE_MANY ? (q->nkeys ? q->keys[0] : "")
                                          : (q->key ? q->key : "");
    ci.nkeys = q->op == S3_OP_DELETE_MANY ? q->nkeys : 0;
    ci.bytes_sent = q->op == S3_OP_PUT || q->op == S3_OP_MPU_PART ? q->body_len : 0;
    ci.bytes_received = res ? res->body_len : 0;
    ci.outcome = out;
    ci.transport = res ? res->transport : S3_TR_TIMEOUT;
    ci.status = res ? res->status : 0;
    ci.code = res ? res->code : S3E_NONE;
    ci.effect = FS3_EFF_NONE;
    ci.rule = "";
    ci.submit_us = c->submit_us;
    ci.answer_us = world_http_now(c->wh->w);
    world_observe(c->wh->w, &ci);
}

static void wh_call_unlink(struct wh_call *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        c->wh->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
}

static void wh_call_done(struct s3_req *in, struct s3_result *res)
{
    struct wh_call *c = in->arg;
    struct s3_req *out = c->out;
    wh_call_unlink(c);
    wh_call_observe(c, FS3_OUT_ANSWERED, res);
    free(c);
    out->cb(out, res);
}

static int wh_counted_submit(struct s3_ops *ops, struct s3_req *req)
{
    struct world_http *wh = ops->impl;
    struct s3_ops *inner = s3_curl_ops(wh->curl);
    struct wh_call *c = calloc(1, sizeof *c);
    int rc;
    if (!c)
        return ERR_NOMEM;
    c->in = *req;
    c->in.cb = wh_call_done;
    c->in.arg = c;
    c->out = req;
    c->wh = wh;
    c->submit_us = world_http_now(wh->w);
    if ((rc = inner->submit(inner, &c->in))) {
        free(c);
        return rc;
    }
    c->next = wh->calls;
    if (wh->calls)
        wh->calls->prev = c;
    wh->calls = c;
    return 0;
}

static void wh_counted_cancel(struct s3_ops *ops, struct s3_req *req)
{
    struct world_http *wh = ops->impl;
    struct s3_ops *inner = s3_curl_ops(wh->curl);
    for (struct wh_call *c = wh->calls; c; c = c->next) {
        if (c->out == req) {
            inner->cancel(inner, &c->in);
            wh_call_unlink(c);
            wh_call_observe(c, FS3_OUT_CANCELLED, NULL);
            free(c);
            return;
        }
    }
}

/* --endpoint: the client only, to another server; no store, no faults.  The
 * bucket is --bucket, else s3.bucket.  The region is s3.region when it was set
 * to something other than its default, else AWS_REGION / AWS_DEFAULT_REGION,
 * else the default (us-east-1). */
static int wh_client_endpoint(struct world_http *wh, const struct world_http_opts *o)
{
    const struct conf *c = &wh->w->spec->conf;
    const char *region = conf_str(c, CONF_REGION);
    struct s3_curl_config cc = {0};
    cc.endpoint = o->endpoint;
    cc.bucket = o->bucket && *o->bucket ? o->bucket : conf_str(c, CONF_BUCKET);
    if (strcmp(region, conf_knob(CONF_REGION)->def) != 0)
        cc.region = region;
    if (s3_curl_config_from_env(&cc))
        return ERR_NOTFOUND;
    return s3_curl_new(wh->er, &cc, &wh->curl);
}

int world_http_setup(struct world *w, const struct world_http_opts *o, const struct fs3_config *fc,
                     struct s3_ops **ops)
{
    struct world_http *wh = calloc(1, sizeof *wh);
    struct env_real_config ec = {0};
    struct fs3_http_config hc = {0};
    struct s3_curl_config cc = {0};
    char url[64];
    int rc;
    if (!wh)
        return ERR_NOMEM;
    w->http = wh;
    wh->w = w;
    wh->fc = *fc;
    wh->scale = o && o->time_scale > 0 ? o->time_scale : 0.01;
    ec.seed = w->seed;
    ec.time_scale = wh->scale;
    if (!(o && o->endpoint)) {
        /* Our own front: virtual time that does not depend on load. */
        if (!(wh->clock = sim_vclock_new(wh->scale)))
            return ERR_NOMEM;
        ec.clock = sim_vclock_ops(wh->clock);
    }
    if ((rc = env_real_new(&ec, &wh->er)))
        return rc;
    wh->renv = env_real_env(wh->er);
    if (o && o->endpoint) {
        if ((rc = wh_client_endpoint(wh, o)))
            return rc;
        wh->counted = (struct s3_ops){wh, "counted", wh_counted_submit, wh_counted_cancel, false};
        *ops = &wh->counted;
        return 0;
    }
    hc.access_key = WH_ACCESS;
    hc.secret_key = WH_SECRET;
    hc.region = conf_str(&w->spec->conf, CONF_REGION);
    hc.check_region = true; /* a client signing for another region fails, as on AWS */
    hc.threads = 2;
    hc.time_scale = wh->scale;
    hc.seed = w->seed;
    hc.factory = (struct fs3_http_factory){wh_create, wh_destroy, wh, wh_store};
    if ((rc = fs3_http_start(&hc, &wh->front)))
        return rc;
    wh->loop = fs3_http_loop(wh->front);
    if (wh->clock)
        fs3_loop_set_clock(wh->loop, sim_vclock_ops(wh->clock));
    if ((rc = fs3_http_create_bucket(wh->front, conf_str(&w->spec->conf, CONF_BUCKET))))
        return rc;
    snprintf(url, sizeof url, "http://127.0.0.1:%d", fs3_http_port(wh->front));
    cc.endpoint = url;
    cc.region = conf_str(&w->spec->conf, CONF_REGION);
    cc.bucket = conf_str(&w->spec->conf, CONF_BUCKET);
    cc.access_key = WH_ACCESS;
    cc.secret_key = WH_SECRET;
    cc.unsigned_payload = true;
    if ((rc = s3_curl_new(wh->er, &cc, &wh->curl)))
        return rc;
    *ops = s3_curl_ops(wh->curl);
    return 0;
}

/* Time 0 of the world: now (after the slow parts of the setup). */
void world_http_start_clock(struct world *w)
{
    struct world_http *wh = w->http;
    wh->t0 = env_now(wh->renv);
    w->now = 0;
    if (wh->loop) {
        fs3_loop_lock(wh->loop);
        wh->loop_t0 = env_now(fs3_loop_env(wh->loop));
        fs3_loop_unlock(wh->loop);
    }
}

void world_http_teardown(struct world *w)
{
    struct world_http *wh = w->http;
    if (!wh)
        return;
    s3_curl_free(wh->curl); /* calls no callback: what is left in flight is only freed */
    while (wh->calls) {
        struct wh_call *c = wh->calls;
        wh->calls = c->next;
        free(c);
    }
    fs3_http_stop(wh->front);
    env_real_free(wh->er);
    for (size_t i = 0; i < wh->nq; i++) {
        free(wh->q[i].key);
        free(wh->q[i].rule);
    }
    free(wh->q);
    sim_vclock_free(wh->clock); /* after the loops that read it */
    free(wh);
    w->http = NULL;
}

/* ---- the loop ------------------------------------------------------------------------- */

static bool wh_done(void *arg)
{
    struct world *w = arg;
    struct world_http *wh = w->http;
    wh_drain(wh);
    world_clock(w);
    if (world_nomem(w) || w->stop || w->now >= wh->until)
        return true;
    if (wh->finishing && w->converged_at >= 0)
        return true;
    if (w->waits.n > 0 && env_real_timers(wh->er) <= (w->probe_pending ? 1u : 0u) &&
        s3_curl_inflight(wh->curl) == 0) {
        /* Nothing left that could ever end the pending waits. */
        w->hang = true;
        w->hang_at = w->now;
        return true;
    }
    return false;
}

void world_http_run(struct world *w, int64_t until, bool finishing)
{
    struct world_http *wh = w->http;
    int64_t span;
    double real;
    world_clock(w);
    span = until > w->now ? until - w->now : 0;
    real = (double)span * wh->scale;
    if (wh->clock) /* virtual time stands still while work runs: real time is only a backstop */
        real = real * 20 + 60.0 * ENV_USEC_PER_SEC;
    wh->until = until;
    wh->finishing = finishing;
    env_real_run_until(wh->er, wh_done, w,
                       real > (double)WH_MAX_REAL_US ? WH_MAX_REAL_US
                                                     : (int64_t)real + 2 * ENV_USEC_PER_SEC);
    wh_drain(wh);
    wh->finishing = false;
}

int world_run_http(const struct scn_spec *spec, const char *file, const struct world_opts *opts,
                   const struct world_http_opts *hopts, struct run_result *res)
{
    int rc;
    struct world *w;
    sim_alloc_span_begin();
    w = world_create_mode(spec, file, opts, hopts ? hopts : &(struct world_http_opts){0}, res,
                          &rc);
    if (!w) {
        world_leaks_end(NULL, res);
        res->verdict = RUN_ERROR;
        free(res->summary);
        res->summary = strdup(rc == ERR_NOMEM     ? "out of memory while setting up the world"
                              : rc == ERR_NOTFOUND ? "--endpoint: AWS_ACCESS_KEY_ID and "
                                                     "AWS_SECRET_ACCESS_KEY are not set"
                                                   : "the HTTP front or the client could not "
                                                     "start");
        return rc;
    }
    world_finish(w);
    world_destroy(w);
    world_leaks_end(spec, res);
    return 0;
}
