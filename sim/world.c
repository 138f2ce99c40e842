/* world.c - one run: setup, the env of the engine, the S3 observer, the event
 * loop with hang detection, teardown.  See world.h. */
#include "world_int.h"

#include <inttypes.h>
#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "conf.h"
#include "err.h"
#include "payload.h"
#include "reads.h"

#define WORLD_MAX_EVENTS 400000 /* timeline marks kept per run */

/* ---- trace and timeline ------------------------------------------------------ */

void world_tracef(struct world *w, const char *actor, const char *fmt, ...)
{
    va_list ap;
    world_clock(w);
    va_start(ap, fmt);
    sim_trace_vfmt(&w->trace, w->now, actor, 768, fmt, ap);
    va_end(ap);
}

void world_event(struct world *w, enum run_lane lane, int64_t t0, bool failed, const char *fmt,
                 ...)
{
    char label[256];
    va_list ap;
    if (w->res->nevents >= WORLD_MAX_EVENTS)
        return;
    va_start(ap, fmt);
    vsnprintf(label, sizeof label, fmt, ap);
    va_end(ap);
    run_result_event(w->res, t0, w->now, lane, -1, -1, FS3_EFF_NONE, failed, label);
}

/* ---- the env given to the engine and the fake S3 ----------------------------- */

/* In http mode, time and timers are env_real's (scaled); the rest is the
 * world's own, as in sim mode. */
static int64_t world_env_now(struct env *env)
{
    struct world *w = env->impl;
    if (w->http) {
        int64_t t = world_http_now(w);
        if (t > w->now)
            w->now = t;
    }
    return w->now;
}

void world_clock(struct world *w)
{
    if (w->http)
        (void)world_env_now(&w->env);
}

static env_id world_env_timer(struct env *env, int64_t delay_us, env_timer_cb cb, void *arg)
{
    struct world *w = env->impl;
    int64_t at = w->now + (delay_us > 0 ? delay_us : 0);
    if (w->http)
        return world_http_timer(w, delay_us, cb, arg);
    if (delay_us == ENV_TIME_NEVER || at < w->now)
        at = INT64_MAX - 1;
    return base_heap_push(&w->heap, at, cb, arg);
}

static void world_env_cancel(struct env *env, env_id id)
{
    if (((struct world *)env->impl)->http) {
        world_http_cancel(env->impl, id);
        return;
    }
    base_heap_cancel(&((struct world *)env->impl)->heap, id);
}

static uint64_t world_env_random(struct env *env)
{
    return base_prng_next(&((struct world *)env->impl)->prng);
}

/* True when line holds one of the '|'-separated texts of a log check's except=. */
static bool world_log_excepted(const char *line, const char *except)
{
    char text[SCN_TEXT_MAX];
    while (*except) {
        size_t n = strcspn(except, "|");
        memcpy(text, except, n);
        text[n] = '\0';
        if (strstr(line, text))
            return true;
        except += n + (except[n] == '|');
    }
    return false;
}

static void world_env_log(struct env *env, enum env_level level, const char *component,
                          const char *line)
{
    struct world *w = env->impl;
    const struct scn_spec *s = w->spec;
    if (level == ENV_LOG_ERROR)
        w->metrics[METRIC_LOG_ERROR]++;
    else if (level == ENV_LOG_WARN)
        w->metrics[METRIC_LOG_WARN]++;
    else if (level == ENV_LOG_INFO)
        w->metrics[METRIC_LOG_INFO]++;
    bool named = false; /* a `log` line of the file names this line by its text */
    for (size_t i = 0; i < s->nchecks; i++) {
        const struct scn_check *c = &s->checks[i];
        if (c->kind == SCN_CHK_LOG && c->level == level &&
            (!c->has_match || strstr(line, c->match)) &&
            (!c->has_except || !world_log_excepted(line, c->except))) {
            w->log_matches[i]++;
            named |= c->has_match;
        }
    }
    if (!named)
        world_note_log(w, level, component, line);
    if (level <= ENV_LOG_INFO)
        world_tracef(w, "log", "%s %s: %s", env_level_name(level), component, line);
}

static env_id world_env_wait_begin(struct env *env, const char *who, const char *what)
{
    struct world *w = env->impl;
    world_clock(w);
    return sim_waits_begin(&w->waits, w->now, who, what);
}

static void world_env_wait_update(struct env *env, env_id id, const char *what)
{
    sim_waits_update(&((struct world *)env->impl)->waits, id, what);
}

static void world_env_wait_end(struct env *env, env_id id)
{
    struct world *w = env->impl;
    world_clock(w);
    sim_waits_end(&w->waits, w->now, id);
}

/* Engine trace lines feed the run's trace hash, nothing else: the timeline is
 * drawn from the typed events below, so rewording a line changes no picture. */
static void world_env_trace(struct env *env, const char *line)
{
    struct world *w = env->impl;
    sim_trace_line(&w->trace, w->now, "eng", line);
}

/* The same line, hashed from its format and arguments (sim/trace.h). */
static void world_env_trace_fmt(struct env *env, const char *fmt, va_list ap)
{
    struct world *w = env->impl;
    sim_trace_vfmt(&w->trace, w->now, "eng", 512, fmt, ap);
}

/* Typed engine events (job starts, ends, marks) draw the engine lanes of the
 * timeline; their text was hashed by world_env_trace just before. */
static void world_env_event(struct env *env, const struct env_event *ev)
{
    struct world *w = env->impl;
    sim_timeline_event(&w->timeline, w->res, w->now, ev);
}

static void world_env_init(struct world *w)
{
    w->env = (struct env){
        .impl = w,
        .now = world_env_now,
        .timer_start = world_env_timer,
        .timer_cancel = world_env_cancel,
        .random = world_env_random,
        .log = world_env_log,
        .wait_begin = world_env_wait_begin,
        .wait_update = world_env_wait_update,
        .wait_end = world_env_wait_end,
        .trace = world_env_trace,
        .trace_fmt = world_env_trace_fmt,
        .event = world_env_event,
    };
}

/* ---- the S3 observer: trace, metrics, coverage, timeline --------------------- */

/* Stored bytes over time, for the storage cost: the bucket changes at S3
 * calls (and at race-deletes, which the next call's sample picks up). */
static void world_stored_sample(struct world *w)
{
    if (w->http)
        return; /* the store is shared with the HTTP server's thread: not priced */
    if (w->now > w->stored_at)
        w->res->stored_byte_seconds +=
            (double)w->stored_bytes * (double)(w->now - w->stored_at) / 1e6;
    w->stored_at = w->now > w->stored_at ? w->now : w->stored_at;
    w->stored_bytes = w->store ? fs3_nbytes(w->store) : 0;
}

/* A late= call lands (fake_s3/fault.c): the store applied it, after the
 * caller gave up; its answer (a 2xx, or BadDigest for recycled bytes under a
 * precomputed checksum) went nowhere. */
static void world_observe_landed(struct world *w, const struct fs3_call_info *ci)
{
    bool stored = ci->transport == S3_TR_OK && ci->status >= 200 && ci->status < 300 &&
                  ci->code == S3E_NONE;
    w->metrics[METRIC_S3_LATE_LANDED]++;
    w->metrics[METRIC_S3_LATE_STORED] += stored;
    world_stored_sample(w);
    world_tracef(w, "s3", "%s %s job=%s landed %d%s%s fault=late%s%s", s3_op_name(ci->op),
                 ci->key ? ci->key : "", s3_job_name(ci->job), ci->status, ci->code ? " " : "",
                 ci->code ? s3_code_name(ci->code) : "", ci->rule && *ci->rule ? " rule=" : "",
                 ci->rule ? ci->rule : "");
    if (w->res->nevents < WORLD_MAX_EVENTS) {
        char label[300];
        snprintf(label, sizeof label, "%s %s landed late", s3_op_name(ci->op),
                 ci->key ? ci->key : "");
        run_result_event(w->res, ci->submit_us, ci->answer_us, RUN_LANE_S3, (int)ci->op,
                         (int)ci->job, (int)ci->effect, !stored, label);
    }
}

void world_observe(void *arg, const struct fs3_call_info *ci)
{
    struct world *w = arg;
    struct run_result *r = w->res;
    bool fault = ci->effect != FS3_EFF_NONE;
    bool failed = ci->outcome != FS3_OUT_ANSWERED || ci->transport != S3_TR_OK ||
                  ci->status >= 300 || ci->code != S3E_NONE;
    unsigned op = (unsigned)ci->op < S3_OP_COUNT ? (unsigned)ci->op : 0;
    unsigned job = (unsigned)ci->job < S3_JOB_COUNT ? (unsigned)ci->job : 0;

    world_note_key_call(w, ci);
    if (ci->outcome == FS3_OUT_LANDED) { /* a late= call, counted at its submit */
        world_observe_landed(w, ci);
        return;
    }
    w->metrics[METRIC_S3_CALLS]++;
    w->metrics[METRIC_S3_CALLS_OP + op]++;
    w->metrics[METRIC_S3_CALLS_JOB + job]++;
    w->metrics[METRIC_S3_BYTES_READ] += (int64_t)ci->bytes_received;
    w->metrics[METRIC_S3_BYTES_WRITTEN] += (int64_t)ci->bytes_sent;
    if (ci->op == S3_OP_DELETE_MANY && (int64_t)ci->nkeys > w->metrics[METRIC_S3_MAX_KEYS_PER_DELETE])
        w->metrics[METRIC_S3_MAX_KEYS_PER_DELETE] = (int64_t)ci->nkeys;
    if (ci->job == S3_JOB_READER && ci->op == S3_OP_GET && !w->reads_closed &&
        w->metrics[METRIC_READS] > 0) {
        /* the scenario's reads (the no-data-loss read-back comes after reads_closed) */
        if (ci->status == 404 || ci->code == S3E_NO_SUCH_KEY)
            w->metrics[METRIC_READS_NOT_FOUND]++;
        if ((int64_t)ci->bytes_received > w->metrics[METRIC_READS_GET_MAX])
            w->metrics[METRIC_READS_GET_MAX] = (int64_t)ci->bytes_received;
    }
    if (failed || fault || ci->nkey_errors) {
        w->s3_failed++;
        w->s3_failed_job[job]++;
    }
    w->s3_unanswered += ci->outcome == FS3_OUT_SWALLOWED || ci->outcome == FS3_OUT_CANCELLED;
    r->calls_by_op[op]++;
    r->calls_by_job[job]++;
    r->calls_by_op_job[op][job]++;
    world_stored_sample(w);
    r->bytes_read += ci->bytes_received;
    r->bytes_written += ci->bytes_sent;
    if (fault) {
        unsigned eff = (unsigned)ci->effect < FS3_EFF_COUNT ? (unsigned)ci->effect : 0;
        w->metrics[METRIC_S3_FAULTS]++;
        w->metrics[METRIC_S3_FAULTS_OP + op]++;
        r->faults_by_op[op][eff]++;
        r->coverage[eff][op][job]++;
        w->fault_at_job[job] = w->now;
        world_note_fired(w, ci->rule);
    }
    r->ops++;

    {
        static const char *const outs[] = {"answered", "swallowed", "cancelled"};
        char what[600];
        int n = snprintf(what, sizeof what, "%s %s job=%s %s", s3_op_name(ci->op),
                         ci->key ? ci->key : "", s3_job_name(ci->job),
                         outs[ci->outcome <= FS3_OUT_CANCELLED ? ci->outcome : 0]);
        if (ci->outcome == FS3_OUT_ANSWERED && n > 0 && (size_t)n < sizeof what)
            n += snprintf(what + n, sizeof what - (size_t)n, " %d%s%s", ci->status,
                          ci->code ? " " : "", ci->code ? s3_code_name(ci->code) : "");
        if (ci->nkeys && n > 0 && (size_t)n < sizeof what)
            n += snprintf(what + n, sizeof what - (size_t)n, " keys=%zu", ci->nkeys);
        if (fault && n > 0 && (size_t)n < sizeof what)
            snprintf(what + n, sizeof what - (size_t)n, " fault=%s%s%s",
                     fs3_effect_name(ci->effect), ci->rule && *ci->rule ? " rule=" : "",
                     ci->rule ? ci->rule : "");
        world_tracef(w, "s3", "%s", what);
    }
    if (r->nevents < WORLD_MAX_EVENTS) {
        char label[300];
        snprintf(label, sizeof label, "%s %s", s3_op_name(ci->op), ci->key ? ci->key : "");
        run_result_event(r, ci->submit_us, ci->answer_us, RUN_LANE_S3, (int)ci->op, (int)ci->job,
                         (int)ci->effect, failed, label);
    }
}

static unsigned world_classify(void *arg, const char *key)
{
    struct world *w = arg;
    if (!w->eng)
        return FS3_KIND_NONE;
    switch (meta_classify_key(eng_meta(w->eng), key)) {
    case META_KEY_SSO: return FS3_KIND_SSO;
    case META_KEY_STREAM: return FS3_KIND_STREAM;
    case META_KEY_COMPOSITE: return FS3_KIND_COMPOSITE;
    case META_KEY_LINKED: return FS3_KIND_LINKED;
    case META_KEY_PREPARED: return FS3_KIND_PREPARED;
    default: return FS3_KIND_NONE;
    }
}

/* ---- engine hooks: payload and acknowledgements ----------------------------- */

static void world_payload(void *arg, int64_t stream, int64_t offset, uint8_t *buf, size_t len)
{
    struct world *w = arg;
    sim_payload_fill(w->seed, stream, offset, buf, len);
}

static void world_ack(void *arg, int64_t stream, int64_t base, int64_t count, uint32_t size)
{
    struct world *w = arg;
    struct world_stream *s;
    if (stream < 1 || stream > w->nstreams || count <= 0)
        return;
    s = &w->streams[stream];
    w->metrics[METRIC_RECORDS_ACKED] += count;
    /* Merge with the previous run when contiguous and of the same size. */
    if (s->n && s->runs[s->n - 1].size == size &&
        s->runs[s->n - 1].base + s->runs[s->n - 1].count == base) {
        s->runs[s->n - 1].count += count;
        return;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct world_run *nr = realloc(s->runs, cap * sizeof *nr);
        if (!nr)
            return;
        s->runs = nr;
        s->cap = cap;
    }
    s->runs[s->n++] = (struct world_run){base, count, size};
}

/* ---- the loop ------------------------------------------------------------------- */

/* The run-level memory budget (--max-memory): the process's heap in use,
 * from malloc's own statistics.  Over it, the run stops and is an error
 * naming what holds the bytes.  Only the verdict of an exceeded run depends
 * on it: below the budget nothing changes, so traces stay deterministic. */
/* The process's virtual size (/proc/self/statm), a bound above the heap in
 * use that costs a read instead of mallinfo2's walk over every free chunk;
 * UINT64_MAX when it cannot be read (then mallinfo2 decides). */
static uint64_t world_vm_size(void)
{
    char t[64];
    unsigned long long pages;
    ssize_t n;
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return UINT64_MAX;
    n = read(fd, t, sizeof t - 1);
    close(fd);
    if (n <= 0)
        return UINT64_MAX;
    t[n] = 0;
    if (sscanf(t, "%llu", &pages) != 1)
        return UINT64_MAX;
    return (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void world_memory_check(struct world *w)
{
    struct mallinfo2 mi;
    uint64_t used;
    char a[32], b[32], c[32];
    if (!w->max_memory || world_vm_size() <= w->max_memory)
        return;
    mi = mallinfo2();
    used = (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
    if (used <= w->max_memory)
        return;
    snprintf(w->mem_over, sizeof w->mem_over,
             "memory budget: the process holds %s of heap, over --max-memory %s, at t=%.3fs; "
             "the fake S3 stores %s, %lld records acknowledged, %u events queued (the rest: the "
             "engine's buffers)",
             env_fmt_size(used, a, sizeof a), env_fmt_size(w->max_memory, b, sizeof b),
             (double)w->now / 1e6, env_fmt_size(w->store ? fs3_nbytes(w->store) : 0, c, sizeof c),
             (long long)w->metrics[METRIC_RECORDS_ACKED], base_heap_len(&w->heap));
    w->stop = true;
}

/* An allocation failed somewhere since the world was created (sim/alloc.h):
 * the run stops at once and is judged an ERROR by world_finish. */
bool world_nomem(struct world *w)
{
    if (sim_alloc_failures() == w->alloc_failed0)
        return false;
    if (w->nomem_at < 0)
        w->nomem_at = w->now;
    w->stop = true;
    return true;
}

/* Fires events in order until the heap is empty, the next event is after
 * until, a hang is found, or something sets w->stop. */
void world_run_loop(struct world *w, int64_t until)
{
    base_heap_fn fn;
    void *arg;
    int64_t t;
    if (w->http) {
        world_http_run(w, until, false);
        return;
    }
    while (!w->stop) {
        uint32_t real =
            base_heap_len(&w->heap) - (w->probe_pending ? 1 : 0) - (uint32_t)w->moments_pending;
        if (real == 0 && w->waits.n > 0) {
            /* Nothing left that could ever end the pending waits. */
            w->hang = true;
            w->hang_at = w->now;
            return;
        }
        if (base_heap_peek_time(&w->heap) > until)
            return;
        /* mallinfo2() walks every free chunk of every arena: in a run of
         * sparse events it was half the CPU when taken every 100 ms of
         * virtual time, and still 2.5 % of the field runs when taken every
         * 4096 allocations.  It is read when the heap may have grown 8 MiB:
         * when this thread's allocations asked for 8 MiB since the last
         * reading (sim_alloc_bytes: an upper bound of what they can add), or
         * a cheap gauge (the fake S3's bytes plus the program break) moved
         * 8 MiB up, and every 64 Ki events (allocations outside the seam:
         * the C library's, OpenSSL's). */
        if (w->max_memory) {
            uint64_t gauge = (w->store ? fs3_nbytes(w->store) : 0) + (uint64_t)(uintptr_t)sbrk(0);
            if (sim_alloc_bytes() - w->mem_checked_bytes >= (8u << 20) ||
                gauge >= w->mem_gauge + (8u << 20) || (++w->nevents_fired & 65535) == 0) {
                w->mem_checked_bytes = sim_alloc_bytes();
                w->mem_gauge = gauge;
                world_memory_check(w);
                if (w->stop)
                    return;
            }
        }
        if (world_nomem(w))
            return;
        if (!base_heap_pop(&w->heap, &fn, &arg, &t))
            return;
        if (t > w->now)
            w->now = t;
        if (w->vtime_out)
            atomic_store_explicit(w->vtime_out, w->now, memory_order_relaxed);
        fn(arg);
    }
}

static int world_setup(struct world *w, const struct world_http_opts *hopts)
{
    const struct conf *c = &w->spec->conf;
    struct fs3_config fc;
    struct eng_hooks hooks = {world_payload, world_ack, w, world_halt};
    int rc;

    base_heap_init(&w->heap);
    base_prng_seed(&w->prng, w->seed);
    sim_waits_init(&w->waits);
    rc = sim_trace_init(&w->trace, NULL);
    if (rc)
        return rc;
    world_env_init(w);
    w->converged_at = -1;
    w->disrupt_at = -1;
    for (int i = 0; i < S3_JOB_COUNT; i++)
        w->fault_at_job[i] = -1;
    sim_timeline_init(&w->timeline, WORLD_MAX_EVENTS);
    w->nstreams = w->spec->streams;
    w->streams = calloc((size_t)w->nstreams + 1, sizeof *w->streams);
    w->log_matches = calloc(w->spec->nchecks + 1, sizeof *w->log_matches);
    if (!w->streams || !w->log_matches)
        return ERR_NOMEM;

    fs3_config_init(&fc);
    fc.min_part_size = (uint64_t)conf_get(c, CONF_MIN_PART_SIZE);
    fc.delete_missing_status = (int)conf_get(c, CONF_DELETE_MISSING);
    fc.complete_repeat_ok = conf_get(c, CONF_COMPLETE_REPEAT) == 0;
    fc.latency_us = conf_get(c, CONF_LATENCY);
    fc.bandwidth = (uint64_t)conf_get(c, CONF_BANDWIDTH);
    fc.lifecycle_abort_us = conf_get(c, CONF_LIFECYCLE_ABORT);
    /* History must start at time 0 for any stale= rule, even one added late. */
    for (size_t i = 0; i < w->spec->nfaults; i++)
        if (w->spec->faults[i].effect == FS3_EFF_STALE && w->spec->faults[i].stale_us > fc.history_us)
            fc.history_us = w->spec->faults[i].stale_us;
    for (size_t i = 0; i < w->spec->nevents; i++) {
        const struct fs3_rule *r = &w->spec->events[i].act.rule;
        if (w->spec->events[i].act.kind == SCN_ACT_FAULT && r->effect == FS3_EFF_STALE &&
            r->stale_us > fc.history_us)
            fc.history_us = r->stale_us;
    }
    if (hopts) {
        struct s3_ops *ops = NULL;
        rc = world_http_setup(w, hopts, &fc, &ops);
        if (rc)
            return rc;
        w->eng = eng_new(&w->env, ops, c, &hooks, w->nstreams);
        if (!w->eng)
            return ERR_NOMEM;
        world_http_start_clock(w);
        world_schedule_events(w);
        return 0;
    }
    w->store = fs3_new(&w->env, &fc);
    if (!w->store)
        return ERR_NOMEM;
    w->fault = fs3_fault_new(&w->env, w->store, world_classify, w);
    if (!w->fault)
        return ERR_NOMEM;
    fs3_fault_observe(w->fault, world_observe, w);
    for (size_t i = 0; i < w->spec->nfaults; i++) {
        rc = world_apply_fault(w, &w->spec->faults[i]);
        if (rc)
            return rc;
    }
    w->eng = eng_new(&w->env, fs3_fault_ops(w->fault), c, &hooks, w->nstreams);
    if (!w->eng)
        return ERR_NOMEM;
    if (w->nrpc)
        eng_set_rpc_fault(w->eng, world_rpc_fault, w);
    world_schedule_events(w);
    return 0;
}

static void world_teardown(struct world *w)
{
    if (w->eng)
        eng_free(w->eng);
    world_reads_free(w); /* after the engine: no read is left to call back */
    world_http_teardown(w);
    fs3_fault_free(w->fault);
    fs3_free(w->store);
    for (int i = 0; i <= w->nstreams && w->streams; i++)
        free(w->streams[i].runs);
    free(w->streams);
    for (size_t i = 0; i < w->nloads; i++)
        free(w->loads[i]);
    free(w->loads);
    free(w->timed);
    for (size_t i = 0; i < w->nowned; i++)
        free(w->owned[i]);
    free(w->owned);
    free(w->log_matches);
    free(w->fired);
    w->fired = NULL;
    w->nfired = 0;
    free(w->rpc_rules);
    w->rpc_rules = NULL;
    w->nrpc = 0;
    for (size_t i = 0; w->moments && i < w->spec->nchecks; i++)
        free(w->moments[i].detail);
    free(w->moments);
    w->moments = NULL;
    sim_waits_free(&w->waits);
    base_heap_free(&w->heap);
    sim_trace_free(&w->trace);
}

struct world *world_create(const struct scn_spec *spec, const char *file,
                           const struct world_opts *opts, struct run_result *res, int *rcp)
{
    return world_create_mode(spec, file, opts, NULL, res, rcp);
}

struct world *world_create_mode(const struct scn_spec *spec, const char *file,
                                const struct world_opts *opts,
                                const struct world_http_opts *hopts, struct run_result *res,
                                int *rcp)
{
    uint64_t failed0 = sim_alloc_failures();
    struct world *w = calloc(1, sizeof *w);
    int rc;
    if (!w) {
        *rcp = ERR_NOMEM;
        return NULL;
    }
    w->spec = spec;
    w->file = file;
    w->res = res;
    w->alloc_failed0 = failed0;
    w->nomem_at = -1;
    w->seed = spec->seed;
    res->seed = spec->seed;
    res->last_progress_us = -1;
    rc = world_setup(w, hopts);
    if (rc) {
        world_destroy(w);
        *rcp = rc;
        return NULL;
    }
    w->trace.echo = opts ? opts->trace_out : NULL;
    w->vtime_out = opts ? opts->vtime_us : NULL;
    w->max_memory = opts ? opts->max_memory : 0;
    *rcp = 0;
    return w;
}

void world_destroy(struct world *w)
{
    if (!w)
        return;
    world_teardown(w);
    world_keyset_free(w);
    free(w);
}

void world_finish(struct world *w)
{
    if (w->http)
        world_http_run(w, w->spec->deadline_us, true);
    else
        world_run_loop(w, w->spec->deadline_us);
    /* http mode stops at convergence: the world is judged as it is then. */
    w->reached_at = w->now;
    if (!w->hang)
        w->now = w->spec->deadline_us;
    world_stored_sample(w);
    /* A job still running when the run is judged (a hung compaction) is
     * drawn as a bar up to now. */
    sim_timeline_finish(&w->timeline, w->res, w->now);
    world_judge(w);
    if (w->mem_over[0]) {
        /* The run did not finish: its checks judged a cut world. */
        w->res->verdict = RUN_ERROR;
        free(w->res->summary);
        w->res->summary = strdup(w->mem_over);
    }
    if (world_nomem(w)) {
        /* Whatever the engine made of the NULL, the world is not the
         * scenario's any more (sim/alloc.h): no verdict, an ERROR. */
        char msg[200];
        uint64_t n = sim_alloc_failures() - w->alloc_failed0;
        snprintf(msg, sizeof msg,
                 "out of memory: %" PRIu64 " allocation%s failed, the run stopped at t=%.3fs", n,
                 n == 1 ? "" : "s", (double)w->nomem_at / 1e6);
        w->res->verdict = RUN_ERROR;
        free(w->res->summary);
        w->res->summary = strdup(msg);
    }
}

void world_leaks_end(const struct scn_spec *spec, struct run_result *res)
{
    struct sim_alloc_leaks l;
    uint64_t failed0 = sim_alloc_failures();
    run_result_forget(res); /* the report keeps them */
    sim_alloc_span_end(&l);
    if (!spec)
        return;
    world_judge_leaks(spec, res, &l);
    if (sim_alloc_failures() != failed0) { /* sim/alloc.h: no verdict, an ERROR */
        res->verdict = RUN_ERROR;
        free(res->summary);
        res->summary = strdup("out of memory while judging no-leak");
    }
}

int world_run(const struct scn_spec *spec, const char *file, const struct world_opts *opts,
              struct run_result *res)
{
    int rc;
    struct world *w;
    sim_alloc_span_begin();
    w = world_create(spec, file, opts, res, &rc);
    if (!w) {
        world_leaks_end(NULL, res);
        res->verdict = RUN_ERROR;
        free(res->summary);
        res->summary = strdup(rc == ERR_NOMEM ? "out of memory while setting up the world"
                                              : "the world could not be set up");
        return rc;
    }
    world_finish(w);
    world_destroy(w);
    world_leaks_end(spec, res);
    return 0;
}
