/*
 * eng.c - the engine facade (eng.h): one broker side and one controller
 * side over one metadata store.
 *
 *   broker:     s3c client -> wr_ctx (writers) -> wal (uploads); the SSO
 *               compaction (cmp.h) on the same client; the stream object
 *               compaction (scmp.h, its own client), crashed and restarted
 *               in place
 *   controller: the cleaner (cln.h, its own client), crashed and restarted
 *               in place
 *   every client sees S3 through the cleaner's upload ledger, so that TTL
 *   expiry can abort the multipart uploads a crashed broker left open
 *   reads:      reader.h over their own s3c client, so that a broker
 *               crash does not cut the no-data-loss read-back
 *
 * A crash frees one side's objects (cancelling their S3 calls, timers and
 * waits: no callback runs); a restart builds them again from the metadata,
 * which survives.  Cumulative counters of a side are folded into the
 * engine's totals before its objects go.
 */
#include "eng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cln.h"
#include "cmp.h"
#include "conf.h"
#include "err.h"
#include "ctl.h"
#include "mdc.h"
#include "meta.h"
#include "obj.h"
#include "reader.h"
#include "s3client.h"
#include "scmp.h"
#include "wal.h"
#include "writer.h"

struct eng {
    struct env *env;
    struct s3_ops *s3;         /* the raw S3 (fault shim or curl), seen through the ledger */
    struct cln_ledger *ledger; /* open multipart uploads by key, for TTL aborts */
    const struct conf *conf;
    struct eng_hooks hooks;
    struct ctl *ctl;   /* the controller: its metadata log survives crashes */
    struct mdc *bmd;   /* the broker's metadata client (its image is lost by a crash) */
    struct mdc *rmd;   /* the read path's own client and image (survives broker crashes) */
    struct wr_mem mem; /* every buffered byte (memory.peak) */
    struct eng_metrics metrics;
    struct wal_stats wal_base; /* totals of WAL uploaders freed by crashes */
    uint64_t bs3_retries, bs3_timeouts; /* totals of broker clients freed by crashes */
    struct s3_requests bs3_sent;        /* requests those clients sent */
    /* broker side */
    bool broker_up;
    struct s3c *bs3;
    struct wr_ctx *bwr;
    struct wal *wal;
    struct scmp *scmp; /* stream object compaction (crash/restart keep its counters) */
    struct cmp *cmp;   /* SSO compaction and force split */
    /* controller side */
    bool ctrl_up;
    struct cln *cln;
    /* the read path */
    struct s3c *rs3;
    struct eng_read *reads; /* reads in flight */
    /* a halt (wal.upload.retry false) */
    env_id halt_timer;    /* the halt, on a timer: never inside the WAL's callback */
    env_id restart_timer; /* the restart after a halt when there is no halt hook */
    bool halt_pending;    /* the halt's timer could not be started (out of memory): the next
                             eng_append halts the broker */
};

#define ENG_HALT_PAUSE_US ENV_USEC_PER_SEC /* crash's default restart_after */

static void eng_reads_cancel(struct eng *e);

/* ---- sides ----------------------------------------------------------------- */

static int eng_client(struct eng *e, struct s3c **out)
{
    struct s3c_conf cc;
    s3c_conf_from(&cc, e->conf);
    return s3c_new(e->env, e->s3, &cc, out);
}

static void eng_broker_down(struct eng *e)
{
    env_cancel(e->env, e->halt_timer);
    e->halt_timer = 0;
    e->halt_pending = false;
    if (e->wal) {
        const struct wal_stats *s = wal_stats(e->wal);
        e->wal_base.uploads += s->uploads;
        e->wal_base.records_acked += s->records_acked;
        e->wal_base.retries += s->retries;
        e->wal_base.dropped += s->dropped;
        e->wal_base.objects += s->objects;
    }
    cmp_free(e->cmp);
    e->cmp = NULL;
    wal_free(e->wal);
    e->wal = NULL;
    if (e->scmp)
        scmp_crash(e->scmp);
    wr_ctx_free(e->bwr);
    e->bwr = NULL;
    if (e->bs3) {
        e->bs3_retries += s3c_stats(e->bs3)->retries;
        e->bs3_timeouts += s3c_stats(e->bs3)->timeouts;
    }
    s3c_requests_add(&e->bs3_sent, e->bs3);
    s3c_free(e->bs3);
    e->bs3 = NULL;
    if (e->bmd)
        mdc_crash(e->bmd);
    e->broker_up = false;
}

static int eng_scmp_up(struct eng *e)
{
    struct scmp_conf sc;
    if (e->scmp) {
        scmp_restart(e->scmp);
        return 0;
    }
    scmp_conf_from(&sc, e->conf);
    return scmp_new(e->env, e->s3, e->bmd, &e->mem, &sc, &e->scmp);
}

static int eng_cmp_up(struct eng *e)
{
    struct cmp_conf cc;
    struct cmp_deps d = {e->env, s3c_ops(e->bs3), e->bmd, e->conf, &e->mem, &e->metrics};
    cmp_conf_from(&cc, e->conf);
    return cmp_new(&d, &cc, &e->cmp);
}

static void eng_on_restart(void *arg)
{
    struct eng *e = arg;
    e->restart_timer = 0;
    eng_restart_broker(e);
}

static void eng_on_halt(void *arg)
{
    struct eng *e = arg;
    e->halt_timer = 0;
    e->halt_pending = false;
    if (!e->broker_up)
        return;
    e->metrics.broker_halts++;
    env_tracef(e->env, "eng halt broker");
    if (e->hooks.halt) {
        e->hooks.halt(e->hooks.arg);
        return;
    }
    eng_crash_broker(e);
    env_cancel(e->env, e->restart_timer);
    e->restart_timer = env_timer(e->env, ENG_HALT_PAUSE_US, eng_on_restart, e);
    if (!e->restart_timer) { /* out of memory: restart now rather than never */
        env_logf(e->env, ENV_LOG_ERROR, "broker",
                 "broker restart after a halt not scheduled: out of memory; restarting at once");
        eng_restart_broker(e);
    }
}

/* The WAL asks for Runtime.halt(1): the broker goes down on a timer (never inside the WAL's
 * callback).  Without a timer (out of memory) the next eng_append halts it. */
static void eng_halt(void *arg)
{
    struct eng *e = arg;
    if (e->halt_timer || e->halt_pending)
        return;
    if (!(e->halt_timer = env_timer(e->env, 0, eng_on_halt, e))) {
        e->halt_pending = true;
        env_logf(e->env, ENV_LOG_ERROR, "broker",
                 "broker halt not scheduled: out of memory; the next append halts it");
    }
}

static int eng_broker_up(struct eng *e)
{
    struct wr_conf wc;
    struct wal_conf lc;
    int rc;
    wr_conf_from(&wc, e->conf);
    wal_conf_from(&lc, e->conf);
    if ((rc = mdc_restart(e->bmd)) < 0 || (rc = eng_client(e, &e->bs3)) < 0 ||
        (rc = wr_ctx_new(e->env, s3c_ops(e->bs3), &wc, &e->mem, &e->bwr)) < 0 ||
        (rc = wal_new(e->env, e->bmd, e->bwr, &e->mem, &lc, &e->hooks, &e->wal)) < 0 ||
        (rc = eng_scmp_up(e)) < 0 || (rc = eng_cmp_up(e)) < 0) {
        eng_broker_down(e);
        return rc;
    }
    wr_ctx_set_guard(e->bwr, cln_writer_guard, e->ctl); /* no late write after a TTL expiry */
    wal_set_halt(e->wal, eng_halt, e);
    e->broker_up = true;
    return 0;
}

/* The active controller dies: a standby takes over at once, rebuilding the metadata from the
 * snapshot and the log; the cleaner (the active controller's job) is down until the restart. */
static void eng_ctrl_down(struct eng *e)
{
    if (e->cln)
        cln_crash(e->cln);
    if (ctl_failover(e->ctl) < 0)
        env_logf(e->env, ENV_LOG_ERROR, "controller", "controller failover failed: out of memory");
    e->ctrl_up = false;
}

static int eng_ctrl_up(struct eng *e)
{
    struct cln_conf cc;
    int rc;
    if (e->cln) {
        cln_restart(e->cln);
    } else {
        cln_conf_from(&cc, e->conf);
        if ((rc = cln_new(e->env, e->s3, e->ctl, &cc, &e->cln)) < 0)
            return rc;
        cln_set_uploads(e->cln, cln_ledger_uploads, e->ledger);
    }
    e->ctrl_up = true;
    return 0;
}

/* ---- the facade ------------------------------------------------------------- */

static int eng_meta_new(struct eng *e, int nstreams)
{
    struct ctl_conf cc;
    struct mdc_conf dc;
    char ns[OBJ_NS_MAX + 1];
    int rc = obj_namespace(conf_str(e->conf, CONF_CLUSTER_ID), ns, sizeof ns);
    if (rc)
        return rc;
    memset(&cc, 0, sizeof cc);
    cc.meta.ns = ns;
    cc.meta.env = e->env;
    cc.meta.id_zero_is_none = conf_bool(e->conf, CONF_ID_ZERO_NONE);
    cc.meta.mark_not_idempotent = !conf_bool(e->conf, CONF_CTL_REQ_DEDUPE);
    cc.meta.ttl_timer_late = !conf_bool(e->conf, CONF_TTL_AT_DEADLINE);
    cc.meta.deleted_stream_so_leak = !conf_bool(e->conf, CONF_DELETED_STREAM_SO_MARK);
    cc.snapshot_records = conf_get(e->conf, CONF_SNAPSHOT_RECORDS);
    if (cc.snapshot_records < 1)
        cc.snapshot_records = 1;
    if ((rc = ctl_new(e->env, &cc, &e->ctl)) < 0)
        return rc;
    for (int s = 1; s <= nstreams; s++)
        if ((rc = ctl_stream_create(e->ctl, s)) < 0)
            return rc;
    mdc_conf_from(&dc, e->conf);
    if ((rc = mdc_new(e->env, e->ctl, &dc, &e->bmd)) < 0)
        return rc;
    dc.node = -1; /* the read path's client: no broker, no epoch */
    if ((rc = mdc_new(e->env, e->ctl, &dc, &e->rmd)) < 0)
        return rc;
    return 0;
}

struct eng *eng_new(struct env *env, struct s3_ops *s3, const struct conf *conf,
                    const struct eng_hooks *hooks, int nstreams)
{
    struct eng *e;
    if (!env || !s3 || !conf || !hooks || !hooks->payload || nstreams < 0)
        return NULL;
    if (!(e = calloc(1, sizeof *e)))
        return NULL;
    e->env = env;
    if (cln_ledger_new(s3, &e->ledger) < 0) {
        free(e);
        return NULL;
    }
    e->s3 = cln_ledger_ops(e->ledger);
    e->conf = conf;
    e->hooks = *hooks;
    if (eng_meta_new(e, nstreams) < 0 || eng_client(e, &e->rs3) < 0 || eng_ctrl_up(e) < 0 ||
        eng_broker_up(e) < 0) {
        eng_free(e);
        return NULL;
    }
    return e;
}

void eng_free(struct eng *e)
{
    if (!e)
        return;
    eng_broker_down(e);
    env_cancel(e->env, e->restart_timer);
    scmp_free(e->scmp);
    cln_free(e->cln);
    eng_reads_cancel(e);
    s3c_free(e->rs3);
    mdc_free(e->bmd);
    mdc_free(e->rmd);
    ctl_free(e->ctl);
    cln_ledger_free(e->ledger);
    free(e);
}

int eng_append(struct eng *e, int64_t stream, int64_t count, uint32_t record_size, int64_t gap)
{
    if (e->halt_pending)
        eng_on_halt(e);
    if (!e->broker_up)
        return ERR_BADSTATE;
    return wal_append(e->wal, stream, count, record_size, gap, NULL);
}

static void eng_trimmed(void *arg, int rc, int64_t first)
{
    struct eng *e = arg;
    if (!meta_ok(rc))
        env_logf(e->env, ENV_LOG_WARN, "stream", "trim refused: %s", err_str(rc));
    else if (e->broker_up && e->scmp)
        scmp_trimmed(e->scmp, first); /* first: the trimmed stream */
}

/* The trim request is sent (0); the controller's answer comes later (eng_trimmed). */
int eng_trim(struct eng *e, int64_t stream, int64_t offset)
{
    const struct meta_stream *ms = mdc_stream_own(e->bmd, stream);
    if (!ms || ms->state == META_STREAM_DELETED)
        return ERR_NOTFOUND;
    if (offset > ms->end)
        offset = ms->end;
    return mdc_trim(e->bmd, stream, offset, eng_trimmed, e);
}

int64_t eng_stream_end(struct eng *e, int64_t stream)
{
    const struct meta_stream *ms = mdc_stream_own(e->bmd, stream);
    return ms && ms->state != META_STREAM_DELETED ? ms->end : -1;
}

static void eng_deleted(void *arg, int rc, int64_t stream)
{
    struct eng *e = arg;
    if (rc == 0 && e->wal)
        wal_drop_stream(e->wal, stream);
    else if (rc)
        env_logf(e->env, ENV_LOG_WARN, "stream", "delete of stream %lld refused: %s",
                 (long long)stream, err_str(rc));
}

/* The delete request is sent (0); its answer drops the stream's buffered records. */
int eng_delete_stream(struct eng *e, int64_t stream)
{
    return mdc_stream_delete(e->bmd, stream, eng_deleted, e);
}

int eng_compact_sso(struct eng *e, bool force)
{
    return e->broker_up ? cmp_compact_now(e->cmp, force) : ERR_BADSTATE;
}

int eng_compact_stream(struct eng *e, bool force)
{
    return e->broker_up ? scmp_compact_now(e->scmp, force) : ERR_BADSTATE;
}

void eng_crash_broker(struct eng *e)
{
    if (!e->broker_up)
        return;
    env_logf(e->env, ENV_LOG_WARN, "broker", "broker crashed: unacknowledged records dropped");
    env_tracef(e->env, "eng crash broker");
    eng_broker_down(e);
}

void eng_restart_broker(struct eng *e)
{
    if (e->broker_up)
        return;
    env_tracef(e->env, "eng restart broker");
    if (eng_broker_up(e) < 0)
        env_logf(e->env, ENV_LOG_ERROR, "broker", "broker restart failed: out of memory");
}

void eng_crash_controller(struct eng *e)
{
    if (!e->ctrl_up)
        return;
    env_tracef(e->env, "eng crash controller");
    eng_ctrl_down(e);
}

void eng_restart_controller(struct eng *e)
{
    if (e->ctrl_up)
        return;
    env_tracef(e->env, "eng restart controller");
    if (eng_ctrl_up(e) < 0)
        env_logf(e->env, ENV_LOG_ERROR, "controller", "controller restart failed");
}

void eng_set_rpc_fault(struct eng *e, mdc_fault_fn fn, void *arg)
{
    mdc_set_fault_hook(e->bmd, fn, arg);
}

bool eng_idle(struct eng *e)
{
    if (e->broker_up &&
        (!wal_idle(e->wal) || wr_ctx_live(e->bwr) || s3c_pending(e->bs3) || !cmp_idle(e->cmp)))
        return false;
    if (e->broker_up && e->scmp && !scmp_idle(e->scmp))
        return false;
    if (e->ctrl_up && !cln_idle(e->cln))
        return false;
    return !mdc_rpc_busy(e->bmd); /* a request on its way still changes the metadata */
}

/* Adds one client's retried and timed-out attempts and its sent requests (c
 * may be NULL: crashed). */
static void eng_add_client(struct eng *e, const struct s3c *c)
{
    if (c) {
        e->metrics.s3_retries += s3c_stats(c)->retries;
        e->metrics.s3_timeouts += s3c_stats(c)->timeouts;
        s3c_requests_add(&e->metrics.s3_requests, c);
    }
}

/* Adds the sent requests of a job's clients freed by crashes. */
static void eng_add_sent(struct eng *e, const struct s3_requests *r)
{
    for (int j = 0; j < S3_JOB_COUNT; j++)
        for (int o = 0; o < S3_OP_COUNT; o++)
            e->metrics.s3_requests.n[j][o] += r->n[j][o];
}

/* s3.retries, s3.timeouts and the requests sent: every client of every job,
 * the live ones and those freed by crashes. */
static void eng_client_counts(struct eng *e)
{
    e->metrics.s3_retries = e->bs3_retries;
    e->metrics.s3_timeouts = e->bs3_timeouts;
    e->metrics.s3_requests = e->bs3_sent;
    eng_add_client(e, e->bs3);
    eng_add_client(e, e->rs3);
    if (e->scmp) {
        e->metrics.s3_retries += scmp_stats(e->scmp)->s3_retries;
        e->metrics.s3_timeouts += scmp_stats(e->scmp)->s3_timeouts;
        eng_add_sent(e, &scmp_stats(e->scmp)->s3_sent);
        eng_add_client(e, scmp_client(e->scmp));
    }
    if (e->cln) {
        e->metrics.s3_retries += cln_stats(e->cln)->s3_retries;
        e->metrics.s3_timeouts += cln_stats(e->cln)->s3_timeouts;
        eng_add_sent(e, &cln_stats(e->cln)->s3_sent);
        eng_add_client(e, cln_client(e->cln));
    }
}

const struct eng_metrics *eng_metrics(struct eng *e)
{
    const struct wal_stats *s = e->wal ? wal_stats(e->wal) : NULL;
    e->metrics.records_acked = e->wal_base.records_acked + (s ? s->records_acked : 0);
    e->metrics.wal_uploads = e->wal_base.uploads + (s ? s->uploads : 0);
    if (e->scmp) {
        const struct scmp_stats *ss = scmp_stats(e->scmp);
        e->metrics.stream_commits = ss->commits;
        e->metrics.stream_failures = ss->failures;
        e->metrics.composite_created = ss->composites;
    }
    if (e->cln) {
        e->metrics.cleaner_deleted = cln_stats(e->cln)->deleted;
        e->metrics.cleaner_failures = cln_stats(e->cln)->failures;
    }
    eng_client_counts(e);
    e->metrics.memory_now = e->mem.now;
    e->metrics.memory_peak = e->mem.peak;
    e->metrics.image_lag_max_us = mdc_stats(e->bmd)->lag_max_us > mdc_stats(e->rmd)->lag_max_us
                                      ? mdc_stats(e->bmd)->lag_max_us
                                      : mdc_stats(e->rmd)->lag_max_us;
    for (int i = 0; i < MDC_OP_COUNT; i++)
        e->metrics.rpc_calls[i] = mdc_rpc_stats(e->bmd)->calls[i];
    e->metrics.rpc_retries = mdc_rpc_stats(e->bmd)->retries;
    e->metrics.rpc_fenced = mdc_rpc_stats(e->bmd)->fenced;
    return &e->metrics;
}

const struct meta *eng_meta(struct eng *e)
{
    return ctl_store(e->ctl);
}

const struct meta *eng_image(struct eng *e, int i)
{
    struct mdc *d = i == 0 ? e->bmd : i == 1 ? e->rmd : NULL;
    return d ? mdc_image(d) : NULL;
}

struct ctl *eng_ctl(struct eng *e)
{
    return e->ctl;
}

struct mdc *eng_mdc(struct eng *e, int i)
{
    return i == 0 ? e->bmd : i == 1 ? e->rmd : NULL;
}

/* ---- the read path (no-data-loss) ---------------------------------------- */

struct eng_read {
    struct eng *e;
    struct eng_read *next, *prev; /* e->reads */
    struct rd_read *rd;
    bool waiting; /* for the image to catch up (mdc_when_current) */
    int64_t stream, start, end;
    eng_rec_fn rec;
    eng_done_fn done;
    void *arg;
};

static void eng_read_unlink(struct eng_read *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        r->e->reads = r->next;
    if (r->next)
        r->next->prev = r->prev;
}

static void eng_reads_cancel(struct eng *e)
{
    while (e->reads) {
        struct eng_read *r = e->reads;
        e->reads = r->next;
        if (r->waiting)
            mdc_current_cancel(e->rmd, r);
        else
            rd_read_cancel(r->rd);
        free(r);
    }
}

static int eng_read_rec(void *arg, const struct obj_record *rec)
{
    struct eng_read *r = arg;
    r->rec(r->arg, rec->base, rec->payload, rec->len);
    return 0;
}

static void eng_read_done(void *arg, int rc, int64_t next)
{
    struct eng_read *r = arg;
    eng_done_fn done = r->done;
    void *darg = r->arg;
    (void)next;
    eng_read_unlink(r);
    free(r);
    done(darg, rc);
}

/* The image holds what was committed before the read was asked: the read starts. */
static void eng_read_go(void *arg)
{
    struct eng_read *r = arg;
    struct eng *e = r->e;
    struct rd_conf rc_;
    int rc;
    memset(&rc_, 0, sizeof rc_);
    rc_.env = e->env;
    rc_.s3 = s3c_ops(e->rs3);
    rc_.mdc = e->rmd;
    rc_.parse_flags = conf_bool(e->conf, CONF_INT32_GUARD) ? 0 : OBJ_PARSE_WRAP_OK;
    rc_.retries = -1;
    r->waiting = false;
    rc = rd_read_start(&rc_, r->stream, r->start, r->end, eng_read_rec, eng_read_done, r, &r->rd);
    if (rc < 0)
        eng_read_done(r, rc, r->start);
}

int eng_read(struct eng *e, int64_t stream, int64_t start, int64_t end, eng_rec_fn rec,
             eng_done_fn done, void *arg)
{
    struct eng_read *r;
    int rc;
    if (!rec || !done)
        return ERR_INVAL;
    if (!(r = calloc(1, sizeof *r)))
        return ERR_NOMEM;
    r->e = e;
    r->rec = rec;
    r->done = done;
    r->arg = arg;
    r->stream = stream;
    r->start = start;
    r->end = end;
    r->next = e->reads;
    if (e->reads)
        e->reads->prev = r;
    e->reads = r;
    r->waiting = true;
    rc = mdc_when_current(e->rmd, eng_read_go, r);
    if (rc < 0) {
        eng_read_unlink(r);
        free(r);
    }
    return rc;
}
