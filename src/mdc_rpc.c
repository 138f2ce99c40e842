/* mdc_rpc.c - the broker's requests to the controller: asynchronous RPCs with request ids,
 * latency, AutoMQ's retry policy, node epochs and the fault hook (mdc.h "Requests"). */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mdc_int.h"

#define MDC_RETRY_DELAY_MAX_US (10 * ENV_USEC_PER_SEC) /* ControllerRequestSender: 10 s */

static const char *const mdc_op_names[MDC_OP_COUNT] = {
    "rpc-prepare", "rpc-commit-sso", "rpc-commit-stream", "rpc-trim", "rpc-delete-stream",
};

static const char *const mdc_code_names[MDC_CODE_COUNT] = {
    "NONE",
    "NODE_EPOCH_EXPIRED",
    "NODE_EPOCH_NOT_EXIST",
    "OBJECT_NOT_EXIST",
    "COMPACTED_OBJECTS_NOT_FOUND",
    "REDUNDANT_OPERATION",
    "STREAM_FENCED",
    "STREAM_NOT_EXIST",
    "UNKNOWN_SERVER_ERROR",
};

/* Which codes AutoMQ's controller answers each request with (StreamControlManager,
 * S3ObjectControlManager): a prepare fails only as a whole; the commits check the node epoch,
 * the objects and (stream object) the stream; trim and delete check the stream's epoch and
 * existence.  REDUNDANT_OPERATION is what a commit of an already committed object meets. */
static const char *const mdc_kind_names[MDC_KIND_COUNT] = {
    "other", "wal-upload", "sso-compaction", "force-split", "minor", "major", "cleanup",
};

#define B(c) (1u << (c))
/* Who sends each request: the WAL upload, SSO compaction and force split prepare and commit
 * stream set objects; the stream object compactor prepares and commits stream objects. */
static const unsigned mdc_kinds[MDC_OP_COUNT] = {
    [MDC_OP_PREPARE] = B(MDC_KIND_WAL_UPLOAD) | B(MDC_KIND_SSO_COMPACTION) |
                       B(MDC_KIND_FORCE_SPLIT) | B(MDC_KIND_MINOR) | B(MDC_KIND_MAJOR) |
                       B(MDC_KIND_CLEANUP),
    [MDC_OP_COMMIT_SSO] =
        B(MDC_KIND_WAL_UPLOAD) | B(MDC_KIND_SSO_COMPACTION) | B(MDC_KIND_FORCE_SPLIT),
    [MDC_OP_COMMIT_STREAM] = B(MDC_KIND_MINOR) | B(MDC_KIND_MAJOR) | B(MDC_KIND_CLEANUP),
};

static const unsigned mdc_answers[MDC_OP_COUNT] = {
    [MDC_OP_PREPARE] = B(MDC_UNKNOWN_SERVER_ERROR),
    [MDC_OP_COMMIT_SSO] = B(MDC_NODE_EPOCH_EXPIRED) | B(MDC_NODE_EPOCH_NOT_EXIST) |
                          B(MDC_OBJECT_NOT_EXIST) | B(MDC_COMPACTED_OBJECTS_NOT_FOUND) |
                          B(MDC_REDUNDANT_OPERATION) | B(MDC_UNKNOWN_SERVER_ERROR),
    [MDC_OP_COMMIT_STREAM] = B(MDC_NODE_EPOCH_EXPIRED) | B(MDC_NODE_EPOCH_NOT_EXIST) |
                             B(MDC_OBJECT_NOT_EXIST) | B(MDC_COMPACTED_OBJECTS_NOT_FOUND) |
                             B(MDC_REDUNDANT_OPERATION) | B(MDC_STREAM_FENCED) |
                             B(MDC_STREAM_NOT_EXIST) | B(MDC_UNKNOWN_SERVER_ERROR),
    [MDC_OP_TRIM] = B(MDC_STREAM_FENCED) | B(MDC_STREAM_NOT_EXIST) | B(MDC_UNKNOWN_SERVER_ERROR),
    [MDC_OP_DELETE_STREAM] =
        B(MDC_STREAM_FENCED) | B(MDC_STREAM_NOT_EXIST) | B(MDC_UNKNOWN_SERVER_ERROR),
};
#undef B

const char *mdc_op_name(enum mdc_op op)
{
    return (unsigned)op < MDC_OP_COUNT ? mdc_op_names[op] : "?";
}

int mdc_op_parse(const char *name)
{
    for (int i = 0; i < MDC_OP_COUNT; i++)
        if (strcmp(name, mdc_op_names[i]) == 0)
            return i;
    return -1;
}

const char *mdc_code_name(enum mdc_code code)
{
    return (unsigned)code < MDC_CODE_COUNT ? mdc_code_names[code] : "?";
}

int mdc_code_parse(const char *name)
{
    for (int i = 1; i < MDC_CODE_COUNT; i++)
        if (strcmp(name, mdc_code_names[i]) == 0)
            return i;
    return -1;
}

const char *mdc_kind_name(enum mdc_kind kind)
{
    return (unsigned)kind < MDC_KIND_COUNT ? mdc_kind_names[kind] : "?";
}

int mdc_kind_parse(const char *name)
{
    for (int i = 0; i < MDC_KIND_COUNT; i++)
        if (strcmp(name, mdc_kind_names[i]) == 0)
            return i;
    return -1;
}

unsigned mdc_op_kinds(enum mdc_op op) { return (unsigned)op < MDC_OP_COUNT ? mdc_kinds[op] : 0; }

void mdc_next_kind(struct mdc *d, enum mdc_kind kind) { d->next_kind = (int)kind + 1; }

bool mdc_op_answers(enum mdc_op op, enum mdc_code code)
{
    return (unsigned)op < MDC_OP_COUNT && code > MDC_NONE && code < MDC_CODE_COUNT &&
           (mdc_answers[op] >> code & 1u);
}

void mdc_set_fault_hook(struct mdc *d, mdc_fault_fn fn, void *arg)
{
    d->fault = fn;
    d->fault_arg = arg;
}

bool mdc_rpc_busy(const struct mdc *d) { return d->rpcs != NULL || d->msgs != NULL; }

const struct mdc_rpc_stats *mdc_rpc_stats(const struct mdc *d) { return &d->rstats; }

/* ---- A request. ---------------------------------------------------------------------------- */

struct mdc_rpc {
    struct mdc_rpc *next;
    struct mdc *d;
    enum mdc_op op;
    enum mdc_kind kind;   /* who sent it (mdc_next_kind, or from the payload) */
    uint64_t id;          /* request id */
    int64_t epoch;        /* the node epoch it was sent under */
    int sends;
    uint64_t gen;         /* the current send; older deliveries' answers are ignored */
    mdc_done_fn done;     /* NULL: forgotten (crash, cancel) */
    void *arg;
    env_id timeout;       /* the broker's request timeout of the current send */
    env_id retry;         /* the backoff before the next send */
    size_t pending;       /* deliveries and answers still on their way */
    /* the payload, owned */
    int count;
    int64_t ttl_us, stream, offset;
    struct meta_sso_commit sso;
    struct meta_stream_commit so;
};

/* One delivery or answer on its way (a timer's argument). */
struct mdc_msg {
    struct mdc_msg *next; /* d->msgs */
    struct mdc_rpc *r;
    uint64_t gen;
    int send;             /* which send of the request (for the trace) */
    env_id timer;
    bool answer;          /* false: the request to the controller */
    bool answer_lost;     /* deliver, apply, but the answer never comes */
    bool late;            /* stalled: applied after the broker gave up on it */
    enum mdc_code code;   /* injected error (not applied) */
    int rc;               /* the answer */
    int64_t first;
};

static void mdc_rpc_unlink_free(struct mdc_rpc *r)
{
    struct mdc *d = r->d;
    for (struct mdc_rpc **p = &d->rpcs; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
    free((void *)r->sso.ranges);
    free((void *)r->sso.sos);
    free((void *)r->sso.compacted);
    free((void *)r->so.sources);
    free((void *)r->so.ops);
    free((void *)r->so.links);
    free(r);
}

/* Frees r when nothing refers to it any more. */
static void mdc_rpc_maybe_free(struct mdc_rpc *r)
{
    if (!r->done && !r->pending && !r->timeout && !r->retry)
        mdc_rpc_unlink_free(r);
}

static void mdc_rpc_finish(struct mdc_rpc *r, int rc, int64_t first)
{
    mdc_done_fn done = r->done;
    void *arg = r->arg;
    struct mdc *d = r->d;
    r->done = NULL;
    env_cancel(d->env, r->timeout);
    env_cancel(d->env, r->retry);
    r->timeout = r->retry = 0;
    r->gen++; /* answers of earlier sends are ignored */
    mdc_rpc_maybe_free(r);
    if (done)
        done(arg, rc, first);
}

static void mdc_rpc_send(struct mdc_rpc *r);

static void mdc_on_retry(void *arg)
{
    struct mdc_rpc *r = arg;
    r->retry = 0;
    if (!r->done) {
        mdc_rpc_maybe_free(r);
        return;
    }
    mdc_rpc_send(r);
}

/* AutoMQ's ControllerRequestSender.retryTask: base << (sends - 1), at most 10 s. */
static void mdc_rpc_retry(struct mdc_rpc *r, const char *why)
{
    struct mdc *d = r->d;
    int64_t delay = d->conf.retry_base_us;
    if (d->conf.retry_max > 0 && r->sends >= d->conf.retry_max) {
        env_logf(d->env, ENV_LOG_ERROR, "controller-request",
                 "Task: %s request %llu, retry count exceed max retry count: %lld",
                 mdc_op_name(r->op), (unsigned long long)r->id, (long long)d->conf.retry_max);
        mdc_rpc_finish(r, ERR_TIMEOUT, -1);
        return;
    }
    for (int i = 1; i < r->sends && delay < MDC_RETRY_DELAY_MAX_US; i++)
        delay *= 2;
    if (delay > MDC_RETRY_DELAY_MAX_US)
        delay = MDC_RETRY_DELAY_MAX_US;
    r->gen++;
    env_cancel(d->env, r->timeout);
    r->timeout = 0;
    env_logf(d->env, ENV_LOG_WARN, "controller-request", "Retry task: %s request %llu (%s), delay : %lld ms",
             mdc_op_name(r->op), (unsigned long long)r->id, why, (long long)(delay / 1000));
    r->retry = env_timer(d->env, delay, mdc_on_retry, r);
}

static void mdc_on_timeout(void *arg)
{
    struct mdc_rpc *r = arg;
    r->timeout = 0;
    if (!r->done) {
        mdc_rpc_maybe_free(r);
        return;
    }
    r->d->rstats.timeouts++;
    env_logf(r->d->env, ENV_LOG_WARN, "controller-request", "Timeout while sending %s request %llu",
             mdc_op_name(r->op), (unsigned long long)r->id);
    mdc_rpc_retry(r, "timeout");
}

/* The controller's answer code for an rc of its store. */
static enum mdc_code mdc_code_of(enum mdc_op op, int rc)
{
    switch (rc) {
    case 0: return MDC_NONE;
    case ERR_REDUNDANT: return MDC_REDUNDANT_OPERATION;
    case ERR_NOTFOUND:
        return op == MDC_OP_TRIM || op == MDC_OP_DELETE_STREAM ? MDC_STREAM_NOT_EXIST
               : op == MDC_OP_PREPARE                          ? MDC_UNKNOWN_SERVER_ERROR
                                                               : MDC_COMPACTED_OBJECTS_NOT_FOUND;
    case ERR_BADSTATE:
        return op == MDC_OP_COMMIT_SSO ? MDC_UNKNOWN_SERVER_ERROR : MDC_STREAM_FENCED;
    default: return MDC_UNKNOWN_SERVER_ERROR;
    }
}

/* Applies the request at the controller: its answer rc (and prepare's first id). */
static int mdc_rpc_apply(struct mdc_rpc *r, int64_t *first)
{
    struct mdc *d = r->d;
    struct ctl *c = d->ctl;
    int64_t now = env_now(d->env);
    int rc;
    if (d->conf.node >= 0 && r->op != MDC_OP_PREPARE &&
        (rc = ctl_node_check(c, d->conf.node, r->epoch)) != 0)
        return rc == ERR_ABORTED ? -1000 - MDC_NODE_EPOCH_EXPIRED : -1000 - MDC_NODE_EPOCH_NOT_EXIST;
    switch (r->op) {
    case MDC_OP_PREPARE: return ctl_prepare(c, r->count, r->ttl_us, now, first);
    case MDC_OP_COMMIT_SSO: return ctl_commit_sso(c, &r->sso, now);
    case MDC_OP_COMMIT_STREAM: return ctl_commit_stream(c, &r->so, now);
    case MDC_OP_TRIM: return ctl_trim(c, r->stream, r->offset);
    case MDC_OP_DELETE_STREAM: return ctl_stream_delete(c, r->stream, now);
    default: return ERR_INVAL;
    }
}

/* The broker handles an answer (ControllerObjectManager / ControllerStreamManager). */
static void mdc_rpc_answer(struct mdc_rpc *r, enum mdc_code code, int rc, int64_t first)
{
    struct mdc *d = r->d;
    switch (code) {
    case MDC_NONE:
    case MDC_REDUNDANT_OPERATION:
        if (r->op == MDC_OP_COMMIT_SSO) {
            for (size_t i = 0; i < r->sso.nranges; i++)
                mdc__own_refresh(d, r->sso.ranges[i].stream);
            for (size_t i = 0; i < r->sso.nsos; i++)
                mdc__own_refresh(d, r->sso.sos[i].stream);
        } else if (r->op == MDC_OP_TRIM || r->op == MDC_OP_DELETE_STREAM) {
            mdc__own_refresh(d, r->stream);
            first = r->stream;
        }
        mdc_rpc_finish(r, code == MDC_NONE ? 0 : ERR_REDUNDANT, first);
        return;
    case MDC_NODE_EPOCH_EXPIRED:
    case MDC_NODE_EPOCH_NOT_EXIST:
        if (r->op == MDC_OP_PREPARE)
            break;
        env_logf(d->env, ENV_LOG_ERROR, "controller-request",
                 "Node epoch expired or not exist: %s request %llu epoch %lld, code: %s",
                 mdc_op_name(r->op), (unsigned long long)r->id, (long long)r->epoch,
                 mdc_code_name(code));
        mdc_rpc_finish(r, ERR_ABORTED,
                       r->op == MDC_OP_TRIM || r->op == MDC_OP_DELETE_STREAM ? r->stream : -1);
        return;
    case MDC_OBJECT_NOT_EXIST:
    case MDC_COMPACTED_OBJECTS_NOT_FOUND:
        if (r->op != MDC_OP_COMMIT_SSO && r->op != MDC_OP_COMMIT_STREAM)
            break;
        mdc_rpc_finish(r, ERR_NOTFOUND, -1);
        return;
    case MDC_STREAM_NOT_EXIST:
    case MDC_STREAM_FENCED:
        if (r->op == MDC_OP_PREPARE || r->op == MDC_OP_COMMIT_SSO)
            break;
        /* The caller hears which (the exception's type in AutoMQ: StreamFencedException or
         * StreamNotExistException); nothing else differs. */
        if (r->op == MDC_OP_COMMIT_STREAM)
            env_logf(d->env, ENV_LOG_WARN, "controller-request",
                     "Stream fenced or not exist: %s request %llu stream %lld, code: %s",
                     mdc_op_name(r->op), (unsigned long long)r->id, (long long)r->so.stream,
                     mdc_code_name(code));
        else /* ControllerStreamManager.trimStream / deleteStream log these at error */
            env_logf(d->env, ENV_LOG_ERROR, "controller-request",
                     "Unexpected error while %s stream: request %llu stream %lld, code: %s",
                     r->op == MDC_OP_TRIM ? "trimming" : "deleting", (unsigned long long)r->id,
                     (long long)r->stream, mdc_code_name(code));
        mdc_rpc_finish(r, code == MDC_STREAM_FENCED ? ERR_BADSTATE : ERR_NOTFOUND,
                       r->op == MDC_OP_COMMIT_STREAM ? -1 : r->stream);
        return;
    default:
        break;
    }
    (void)rc;
    env_logf(d->env, ENV_LOG_ERROR, "controller-request",
             "Error while sending %s request %llu, code: %s, retry later", mdc_op_name(r->op),
             (unsigned long long)r->id, mdc_code_name(code));
    mdc_rpc_retry(r, mdc_code_name(code));
}

static void mdc_msg_unlink(struct mdc *d, struct mdc_msg *m)
{
    for (struct mdc_msg **p = &d->msgs; *p; p = &(*p)->next)
        if (*p == m) {
            *p = m->next;
            return;
        }
}

static void mdc_on_msg(void *arg)
{
    struct mdc_msg *m = arg;
    struct mdc_rpc *r = m->r;
    struct mdc *d = r->d;
    r->pending--;
    mdc_msg_unlink(d, m);
    if (!m->answer) {
        /* at the controller */
        int64_t first = -1;
        int rc = 0;
        enum mdc_code code = m->code;
        if (code == MDC_NONE) {
            rc = mdc_rpc_apply(r, &first);
            code = rc <= -1000 ? (enum mdc_code)(-1000 - rc) : mdc_code_of(r->op, rc);
            env_tracef(d->env, "rpc %s request=%llu send=%d applied code=%s%s",
                       mdc_op_name(r->op), (unsigned long long)r->id, m->send,
                       mdc_code_name(code), m->late ? " late" : "");
        }
        /* rpc.fenced counts the refusals at the controller: the requests of an epoch that a
         * broker restart ended find nobody to hear their answer */
        if (code == MDC_NODE_EPOCH_EXPIRED || code == MDC_NODE_EPOCH_NOT_EXIST)
            d->rstats.fenced++;
        if (m->answer_lost || m->late || !r->done || m->gen != r->gen) {
            free(m);
            mdc_rpc_maybe_free(r);
            return;
        }
        m->answer = true;
        m->code = code;
        m->rc = rc;
        m->first = first;
        r->pending++;
        m->next = d->msgs;
        d->msgs = m;
        m->timer = env_timer(d->env, d->conf.rpc_latency_us, mdc_on_msg, m);
        return;
    }
    /* back at the broker */
    if (!r->done || m->gen != r->gen) {
        free(m);
        mdc_rpc_maybe_free(r);
        return;
    }
    {
        enum mdc_code code = m->code;
        int rc = m->rc;
        int64_t first = m->first;
        free(m);
        mdc_rpc_answer(r, code, rc, first);
    }
}

static int mdc_msg_post(struct mdc_rpc *r, int64_t after, const struct mdc_msg *tmpl)
{
    struct mdc_msg *m = malloc(sizeof *m);
    if (!m)
        return ERR_NOMEM;
    *m = *tmpl;
    m->r = r;
    m->gen = r->gen;
    m->send = r->sends;
    r->pending++;
    m->next = r->d->msgs;
    r->d->msgs = m;
    m->timer = env_timer(r->d->env, after, mdc_on_msg, m);
    return 0;
}

static void mdc_rpc_send(struct mdc_rpc *r)
{
    struct mdc *d = r->d;
    struct mdc_fault f = {MDC_EFF_NONE, 0, MDC_NONE};
    struct mdc_msg tmpl = {0};
    int64_t lat = d->conf.rpc_latency_us;
    r->sends++;
    r->gen++;
    d->rstats.calls[r->op]++;
    if (r->sends > 1)
        d->rstats.retries++;
    if (d->fault)
        d->fault(d->fault_arg, r->op, r->kind, &f);
    env_tracef(d->env, "rpc %s request=%llu send=%d%s%s", mdc_op_name(r->op),
               (unsigned long long)r->id, r->sends, f.effect ? " fault=" : "",
               f.effect == MDC_EFF_TIMEOUT ? "timeout"
               : f.effect == MDC_EFF_LOST  ? "lost"
               : f.effect == MDC_EFF_STALL ? "stall"
               : f.effect == MDC_EFF_DELAY ? "delay"
               : f.effect == MDC_EFF_ERROR ? mdc_code_name(f.code)
                                           : "");
    r->timeout = env_timer(d->env, d->conf.rpc_timeout_us, mdc_on_timeout, r);
    switch (f.effect) {
    case MDC_EFF_TIMEOUT:
        return; /* never delivered */
    case MDC_EFF_LOST:
        tmpl.answer_lost = true;
        break;
    case MDC_EFF_STALL:
        tmpl.late = true;
        lat += d->conf.rpc_timeout_us;
        break;
    case MDC_EFF_DELAY:
        lat += f.delay_us;
        break;
    case MDC_EFF_ERROR:
        tmpl.code = f.code;
        break;
    default:
        break;
    }
    if (mdc_msg_post(r, lat, &tmpl) != 0)
        env_logf(d->env, ENV_LOG_WARN, "controller-request", "out of memory sending %s",
                 mdc_op_name(r->op)); /* the timeout sends it again */
}

static struct mdc_rpc *mdc_rpc_new(struct mdc *d, enum mdc_op op, mdc_done_fn done, void *arg)
{
    struct mdc_rpc *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->d = d;
    r->op = op;
    r->kind = d->next_kind ? (enum mdc_kind)(d->next_kind - 1) : MDC_KIND_OTHER;
    d->next_kind = 0;
    r->id = ++d->rpc_seq;
    r->epoch = d->epoch;
    r->done = done;
    r->arg = arg;
    r->next = d->rpcs;
    d->rpcs = r;
    return r;
}

static void *mdc_dup(const void *p, size_t n, size_t size, bool *fail)
{
    void *q;
    if (!n || !p)
        return NULL;
    if (!(q = malloc(n * size))) {
        *fail = true;
        return NULL;
    }
    memcpy(q, p, n * size);
    return q;
}

int mdc_prepare(struct mdc *d, int count, int64_t ttl_us, mdc_done_fn done, void *arg)
{
    struct mdc_rpc *r = mdc_rpc_new(d, MDC_OP_PREPARE, done, arg);
    if (!r)
        return ERR_NOMEM;
    r->count = count;
    r->ttl_us = ttl_us;
    mdc_rpc_send(r);
    return 0;
}

/* Sends a request whose arrays were copied, or drops it when a copy failed. */
static int mdc_rpc_send_copied(struct mdc_rpc *r, bool fail)
{
    if (fail) {
        r->done = NULL;
        mdc_rpc_maybe_free(r);
        return ERR_NOMEM;
    }
    mdc_rpc_send(r);
    return 0;
}

/* The request id a commit carries: unique across the brokers and their epochs (bit 62 set, the
 * node, the epoch, the request's sequence number), never clashing with the stream object
 * compactor's own ids (bit 63).  AutoMQ's requests carry none; only the controller's
 * request-id dedupe (controller.request.dedupe, a guard of ours) reads it. */
static uint64_t mdc_req_id(const struct mdc *d, const struct mdc_rpc *r)
{
    return UINT64_C(0x4000000000000000) | ((uint64_t)(d->conf.node + 1) & 0xff) << 52 |
           ((uint64_t)d->epoch & 0xfffff) << 32 | (r->id & 0xffffffff);
}

int mdc_commit_sso(struct mdc *d, const struct meta_sso_commit *req, mdc_done_fn done, void *arg)
{
    struct mdc_rpc *r = mdc_rpc_new(d, MDC_OP_COMMIT_SSO, done, arg);
    bool fail = false;
    if (!r)
        return ERR_NOMEM;
    r->sso = *req;
    if (!r->sso.req_id) /* remembered by the controller under controller.request.dedupe */
        r->sso.req_id = mdc_req_id(d, r);
    r->sso.ranges = mdc_dup(req->ranges, req->nranges, sizeof *req->ranges, &fail);
    r->sso.sos = mdc_dup(req->sos, req->nsos, sizeof *req->sos, &fail);
    r->sso.compacted = mdc_dup(req->compacted, req->ncompacted, sizeof *req->compacted, &fail);
    if (r->kind == MDC_KIND_OTHER)
        r->kind = req->ncompacted ? MDC_KIND_SSO_COMPACTION : MDC_KIND_WAL_UPLOAD;
    return mdc_rpc_send_copied(r, fail);
}

int mdc_commit_stream(struct mdc *d, const struct meta_stream_commit *req, mdc_done_fn done,
                      void *arg)
{
    struct mdc_rpc *r = mdc_rpc_new(d, MDC_OP_COMMIT_STREAM, done, arg);
    bool fail = false;
    if (!r)
        return ERR_NOMEM;
    r->so = *req;
    r->so.sources = mdc_dup(req->sources, req->nsources, sizeof *req->sources, &fail);
    r->so.ops = mdc_dup(req->ops, req->nsources, sizeof *req->ops, &fail);
    r->so.links = mdc_dup(req->links, req->nlinks, sizeof *req->links, &fail);
    if (r->kind == MDC_KIND_OTHER)
        r->kind = req->id == META_ID_NONE                       ? MDC_KIND_CLEANUP
                  : (req->attributes & META_ATTR_TYPE_MASK) == META_ATTR_TYPE_COMPOSITE
                      ? MDC_KIND_MAJOR
                                                                : MDC_KIND_MINOR;
    return mdc_rpc_send_copied(r, fail);
}

int mdc_trim(struct mdc *d, int64_t stream, int64_t new_start, mdc_done_fn done, void *arg)
{
    struct mdc_rpc *r = mdc_rpc_new(d, MDC_OP_TRIM, done, arg);
    if (!r)
        return ERR_NOMEM;
    r->stream = stream;
    r->offset = new_start;
    mdc_rpc_send(r);
    return 0;
}

int mdc_stream_delete(struct mdc *d, int64_t stream, mdc_done_fn done, void *arg)
{
    struct mdc_rpc *r = mdc_rpc_new(d, MDC_OP_DELETE_STREAM, done, arg);
    if (!r)
        return ERR_NOMEM;
    r->stream = stream;
    mdc_rpc_send(r);
    return 0;
}

bool mdc_stream_deleting(const struct mdc *d, int64_t stream)
{
    for (const struct mdc_rpc *r = d->rpcs; r; r = r->next)
        if (r->op == MDC_OP_DELETE_STREAM && r->stream == stream && r->done)
            return true;
    return false;
}

/* Nobody waits for r any more: its timers stop; a message on its way still arrives. */
static void mdc_rpc_abandon(struct mdc *d, struct mdc_rpc *r)
{
    r->done = NULL;
    env_cancel(d->env, r->timeout);
    env_cancel(d->env, r->retry);
    r->timeout = r->retry = 0;
    mdc_rpc_maybe_free(r);
}

void mdc_cancel(struct mdc *d, void *arg)
{
    for (struct mdc_rpc *r = d->rpcs, *next; r; r = next) {
        next = r->next;
        if (r->done && r->arg == arg)
            mdc_rpc_abandon(d, r);
    }
}

/* Broker crash: every request is forgotten; those on their way still reach the controller
 * (their answers find nobody). */
void mdc__rpc_crash(struct mdc *d)
{
    for (struct mdc_rpc *r = d->rpcs, *next; r; r = next) {
        next = r->next;
        mdc_rpc_abandon(d, r);
    }
}

/* The client goes away: the messages on their way too. */
void mdc__rpc_free_all(struct mdc *d)
{
    while (d->msgs) {
        struct mdc_msg *m = d->msgs;
        d->msgs = m->next;
        env_cancel(d->env, m->timer);
        free(m);
    }
    while (d->rpcs) {
        struct mdc_rpc *r = d->rpcs;
        env_cancel(d->env, r->timeout);
        env_cancel(d->env, r->retry);
        mdc_rpc_unlink_free(r);
    }
}
