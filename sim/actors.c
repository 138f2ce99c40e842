/* actors.c - the scenario's actions, fired from the event heap: the producer
 * (append, load), the trimmer, stream deletion, compaction triggers, crashes
 * and restarts, racing deleters, fault rules. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mdc.h"
#include "reads.h"
#include "world_int.h"

#define WORLD_LOAD_TICK_US (100 * ENV_USEC_PER_MS) /* a load appends every 100ms */


static void world_act(struct world *w, const struct scn_action *a, int line,
                      struct world_timed *t);

/* The metadata client's fault hook: the first rpc-* rule that fires for this send decides
 * (counters as the fake S3's rules: kind= (the sender, in job_mask) picks the sends a rule
 * counts, then times, from, until, nth, after, prob from the run's PRNG). */
/* rpc.faults.OP by enum mdc_op. */
static const enum metric_id world_rpc_fault_metric[MDC_OP_COUNT] = {
    [MDC_OP_PREPARE] = METRIC_RPC_FAULTS_PREPARE,
    [MDC_OP_COMMIT_SSO] = METRIC_RPC_FAULTS_COMMIT_SSO,
    [MDC_OP_COMMIT_STREAM] = METRIC_RPC_FAULTS_COMMIT_STREAM,
    [MDC_OP_TRIM] = METRIC_RPC_FAULTS_TRIM,
    [MDC_OP_DELETE_STREAM] = METRIC_RPC_FAULTS_DELETE_STREAM,
};

void world_rpc_fault(void *arg, enum mdc_op op, enum mdc_kind kind, struct mdc_fault *out)
{
    struct world *w = arg;
    for (size_t i = 0; i < w->nrpc; i++) {
        struct world_rpc_rule *x = &w->rpc_rules[i];
        const struct fs3_rule *r = &x->r;
        bool fire = false;
        if (x->healed || r->op != SCN_OP_RPC + (int)op ||
            (r->job_mask && !(r->job_mask >> kind & 1u)) ||
            (r->times >= 0 && x->hits >= r->times) || w->now < r->from_us || w->now >= r->until_us)
            continue;
        x->seen++;
        switch (r->match) {
        case FS3_MATCH_ALL: fire = true; break;
        case FS3_MATCH_NTH: fire = x->seen == r->n; break;
        case FS3_MATCH_AFTER: fire = x->seen > r->n; break;
        case FS3_MATCH_PROB: fire = env_rand_unit(&w->env) < r->prob; break;
        }
        if (!fire)
            continue;
        x->hits++;
        world_note_fired(w, r->name);
        w->metrics[METRIC_RPC_FAULTS]++;
        w->metrics[world_rpc_fault_metric[op]]++;
        if (w->res) {
            int e = r->effect == FS3_EFF_STATUS || (unsigned)r->effect >= FS3_EFF_COUNT
                        ? FS3_EFF_STATUS /* error=CODE */
                        : (int)r->effect;
            w->res->rpc_coverage[e][op][run_rpc_job(kind)]++;
        }
        world_tracef(w, "fault", "%s rule=%s line=%d", mdc_op_name(op), r->name[0] ? r->name : "-", r->line);
        switch (r->effect) {
        case FS3_EFF_TIMEOUT: out->effect = MDC_EFF_TIMEOUT; break;
        case FS3_EFF_LOST: out->effect = MDC_EFF_LOST; break;
        case FS3_EFF_STALL: out->effect = MDC_EFF_STALL; break;
        case FS3_EFF_DELAY:
            out->effect = MDC_EFF_DELAY;
            out->delay_us = r->delay_us;
            break;
        default:
            out->effect = MDC_EFF_ERROR;
            out->code = (enum mdc_code)r->status;
            break;
        }
        return;
    }
}

void world_rpc_heal(struct world *w, const char *name)
{
    for (size_t i = 0; i < w->nrpc; i++)
        if (!name || strcmp(w->rpc_rules[i].r.name, name) == 0)
            w->rpc_rules[i].healed = true;
}

int world_apply_fault(struct world *w, const struct fs3_rule *rule)
{
    int rc;
    if (rule->op >= SCN_OP_RPC) {
        struct world_rpc_rule *v = realloc(w->rpc_rules, (w->nrpc + 1) * sizeof *v);
        if (!v)
            return ERR_NOMEM;
        w->rpc_rules = v;
        v[w->nrpc++] = (struct world_rpc_rule){*rule, 0, 0, false};
        if (w->eng)
            eng_set_rpc_fault(w->eng, world_rpc_fault, w);
        world_tracef(w, "act", "fault add %s op=%s", rule->name[0] ? rule->name : "-",
                     mdc_op_name((enum mdc_op)(rule->op - SCN_OP_RPC)));
        return 0;
    }
    rc = w->fault ? fs3_fault_add(w->fault, rule) : ERR_UNSUPPORTED;
    world_tracef(w, "act", "fault add %s op=%s effect=%s rc=%d", rule->name[0] ? rule->name : "-",
                 rule->op == FS3_OP_ANY ? "any" : s3_op_name((enum s3_op)rule->op),
                 fs3_effect_name(rule->effect), rc);
    return rc;
}

/* ---- refused actions ------------------------------------------------------------ */

/* An action of the file's that the engine refused
 * (docs/scenarios.md "Refused actions"): what the file said did not happen,
 * so the run must not pass as if it had.  The simulator logs it at error level, where the no-error-log
 * gate fails the run unless the file expects it (`expect log error
 * match="refused by the engine" ...`).  The controller's own refusals (a trim
 * or delete of a stream it no longer has) come later, as the engine's error
 * lines. */
static void world_refused(struct world *w, int line, const char *what, int rc)
{
    w->metrics[METRIC_ACTIONS_REFUSED]++;
    env_logf(&w->env, ENV_LOG_ERROR, "scenario", "line %d: %s refused by the engine: %s (%s)",
             line, what, err_str(rc), err_name(rc));
}

/* ---- the producer -------------------------------------------------------------- */

static int world_append(struct world *w, int stream, int64_t count, int64_t record, int64_t gap)
{
    int rc;
    if (count <= 0)
        return 0;
    rc = eng_append(w->eng, stream, count, (uint32_t)record, gap);
    world_tracef(w, "producer", "append stream=%d count=%" PRId64 " record=%" PRId64
                 " gap=%" PRId64 " rc=%d", stream, count, record, gap, rc);
    return rc;
}

/* stream=all appends to every stream not deleted; stream=ID to that one, or is refused. */
static void world_do_append(struct world *w, const struct scn_action *a, int line)
{
    int64_t record = a->record > 0 ? a->record : 1024;
    int64_t count = (a->bytes + record - 1) / record;
    char what[64];
    int rc = 0;
    for (int s = a->stream ? a->stream : 1; s <= (a->stream ? a->stream : w->nstreams); s++) {
        int r = world_append(w, s, count, record, a->gap);
        if (r && !rc && !(a->stream == 0 && r == ERR_NOTFOUND)) {
            rc = r;
            snprintf(what, sizeof what, "append stream=%d", s);
        }
    }
    if (rc)
        world_refused(w, line, what, rc);
}

static void world_load_tick(void *arg)
{
    struct world_load *l = arg;
    struct world *w = l->w;
    const struct scn_action *a = &l->act;
    int n = a->nstreams ? a->nstreams : w->nstreams;
    int64_t record = a->record > 0 ? a->record : 1024;
    double per_stream, want;
    int64_t count;

    world_clock(w);
    if (w->now >= a->until_us || n <= 0)
        return;
    /* rate is the total over the listed streams, split evenly. */
    per_stream = (double)a->rate * ((double)WORLD_LOAD_TICK_US / 1e6) / (double)n;
    want = per_stream / (double)record + l->carry;
    count = (int64_t)want;
    l->carry = want - (double)count;
    for (int i = 0; i < n && count > 0; i++) {
        int s = a->nstreams ? a->streams[i] : i + 1;
        if (eng_append(w->eng, s, count, (uint32_t)record, 0) == 0)
            continue;
    }
    if (count > 0)
        world_tracef(w, "producer", "load tick streams=%d count=%" PRId64 " record=%" PRId64, n,
                     count, record);
    if (w->now + WORLD_LOAD_TICK_US < a->until_us)
        env_timer(&w->env, WORLD_LOAD_TICK_US, world_load_tick, l);
}

static void world_start_load(struct world *w, const struct scn_action *a)
{
    struct world_load *l = calloc(1, sizeof *l);
    struct world_load **nl = realloc(w->loads, (w->nloads + 1) * sizeof *nl);
    if (!l || !nl) {
        free(l);
        if (nl)
            w->loads = nl;
        return;
    }
    w->loads = nl;
    w->loads[w->nloads++] = l;
    l->w = w;
    l->act = *a;
    world_load_tick(l);
}

/* ---- trim, delete, compact ---------------------------------------------------------- */

static void world_do_trim(struct world *w, const struct scn_action *a, int line)
{
    int64_t to = a->to_offset;
    int64_t end = eng_stream_end(w->eng, a->stream);
    if (a->to_ppm >= 0)
        to = end < 0 ? 0 : (end / 1000000) * a->to_ppm + (end % 1000000) * a->to_ppm / 1000000;
    int rc = eng_trim(w->eng, a->stream, to);
    world_tracef(w, "act", "trim stream=%d to=%" PRId64 " rc=%d", a->stream, to, rc);
    if (rc) {
        char what[64];
        snprintf(what, sizeof what, "trim stream=%d", a->stream);
        world_refused(w, line, what, rc);
    }
}

/* ---- crashes ----------------------------------------------------------------------- */

struct world_restart {
    struct world *w;
    enum scn_node node;
};

static void world_restart(void *arg)
{
    struct world_restart *r = arg;
    struct world *w = r->w;
    world_clock(w);
    if (r->node != SCN_NODE_CONTROLLER && w->broker_down) {
        eng_restart_broker(w->eng);
        w->broker_down = false;
    }
    if (r->node != SCN_NODE_BROKER && w->controller_down) {
        eng_restart_controller(w->eng);
        w->controller_down = false;
    }
    w->disrupt_at = w->now;
    world_tracef(w, "act", "restart node=%d", (int)r->node);
    world_event(w, RUN_LANE_CRASH, w->now, false, "restart");
}

static void world_do_crash(struct world *w, const struct scn_action *a)
{
    struct world_restart *r = malloc(sizeof *r);
    void **nr = realloc(w->owned, (w->nowned + 1) * sizeof *nr);
    if (nr) {
        w->owned = nr;
        if (r)
            w->owned[w->nowned++] = r;
    }
    if (!nr) {
        free(r);
        r = NULL;
    }
    if (a->node != SCN_NODE_CONTROLLER && !w->broker_down) {
        size_t cut = 0;
        eng_crash_broker(w->eng);
        w->broker_down = true;
        world_lock(w); /* the broker's late= attempts die with it (its calls were cancelled) */
        if (w->fault)
            cut = fs3_fault_cut_late(w->fault);
        world_unlock(w);
        if (cut)
            world_tracef(w, "s3", "crash: %zu late attempt%s cut", cut, cut > 1 ? "s" : "");
    }
    if (a->node != SCN_NODE_BROKER && !w->controller_down) {
        eng_crash_controller(w->eng);
        w->controller_down = true;
    }
    w->disrupt_at = w->now;
    world_tracef(w, "act", "crash node=%d", (int)a->node);
    world_event(w, RUN_LANE_CRASH, w->now, true, "crash %s",
                a->node == SCN_NODE_BROKER       ? "broker"
                : a->node == SCN_NODE_CONTROLLER ? "controller"
                                                 : "all");
    if (!r)
        return;
    r->w = w;
    r->node = a->node;
    env_timer(&w->env, a->restart_after_us, world_restart, r);
}

void world_halt(void *arg)
{
    struct world *w = arg;
    struct scn_action a;
    memset(&a, 0, sizeof a);
    a.kind = SCN_ACT_CRASH;
    a.node = SCN_NODE_BROKER;
    a.restart_after_us = ENV_USEC_PER_SEC; /* crash's default pause */
    world_clock(w);
    world_tracef(w, "act", "halt node=broker");
    world_do_crash(w, &a);
}

/* ---- racing deleters ---------------------------------------------------------------- */

struct world_cands {
    struct world *w;
    const struct scn_action *a;
    char (*keys)[OBJ_KEY_MAX];
    int64_t *ids; /* composite marked: the object id, else -1 */
    size_t n, cap;
};

static int world_cand_add(struct world_cands *c, const char *key, int64_t composite)
{
    if (!fs3_key_exists(c->w->store, key, NULL) || !fs3_glob_match(c->a->key, key))
        return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        void *nk = realloc(c->keys, cap * sizeof *c->keys);
        if (!nk)
            return ERR_NOMEM;
        c->keys = nk;
        void *ni = realloc(c->ids, cap * sizeof *c->ids);
        if (!ni)
            return ERR_NOMEM;
        c->ids = ni;
        c->cap = cap;
    }
    snprintf(c->keys[c->n], OBJ_KEY_MAX, "%s", key);
    c->ids[c->n++] = composite;
    return 0;
}

static int world_cand_object(void *arg, const struct meta_object *o)
{
    struct world_cands *c = arg;
    bool composite = o->kind == META_KIND_COMPOSITE;
    bool take = false;
    switch (c->a->race) {
    case SCN_RACE_LIVE: take = o->state == META_COMMITTED; break;
    case SCN_RACE_MARKED: take = o->state == META_MARKED; break;
    case SCN_RACE_COMPOSITE: take = composite && o->state != META_PREPARED; break;
    case SCN_RACE_PREPARED: take = o->state == META_PREPARED; break;
    case SCN_RACE_ANY: take = true; break;
    case SCN_RACE_LINKED: take = false; break;
    }
    if (!take)
        return 0;
    return world_cand_add(c, o->key, composite && o->state == META_MARKED ? o->id : -1);
}

static int world_cand_link(void *arg, const struct meta_link *l, int64_t composite)
{
    struct world_cands *c = arg;
    (void)composite;
    if (c->a->race != SCN_RACE_LINKED && c->a->race != SCN_RACE_ANY)
        return 0;
    return world_cand_add(c, l->key, -1);
}

/* True when key is linked by a composite other than skip that is not marked:
 * its bytes belong to that live composite. */
struct world_link_owner {
    const struct meta *m;
    const char *key;
    int64_t skip;
    bool live;
};

static int world_link_owned(void *arg, const struct meta_link *l, int64_t composite)
{
    struct world_link_owner *o = arg;
    const struct meta_object *c;
    if (composite == o->skip || strcmp(l->key, o->key) != 0)
        return 0;
    c = meta_object_get(o->m, composite);
    if (c && c->state != META_MARKED)
        o->live = true;
    return 0;
}

/* A marked composite goes as a second cleaner would take it: when it is
 * marked for deep delete, its links first (those no live composite took
 * over), then its own key. */
static void world_race_remove(struct world *w, const char *key, int64_t composite)
{
    const struct meta *m = eng_meta(w->eng);
    const struct meta_object *o = composite >= 0 ? meta_object_get(m, composite) : NULL;
    for (size_t i = 0; o && (o->attributes & META_ATTR_DEEP_DELETE) && i < o->nlinks; i++) {
        struct world_link_owner own = {m, o->links[i].key, composite, false};
        meta_foreach_link(m, world_link_owned, &own);
        if (!own.live && fs3_remove(w->store, o->links[i].key) == 0)
            world_tracef(w, "racer", "remove linked %s", o->links[i].key);
    }
    fs3_remove(w->store, key);
    world_tracef(w, "racer", "remove %s", key);
}

static void world_do_race(struct world *w, const struct scn_action *a)
{
    struct world_cands c = {w, a, NULL, NULL, 0, 0};
    const struct meta *m = eng_meta(w->eng);
    if (!w->store) {
        world_tracef(w, "racer", "skipped: no fake store (--endpoint)");
        return;
    }
    world_lock(w);
    meta_foreach(m, world_cand_object, &c);
    meta_foreach_link(m, world_cand_link, &c);
    /* Choose up to count candidates with the run's random stream
     * (partial Fisher-Yates: one draw per chosen key). */
    for (int64_t k = 0; k < a->count && (size_t)k < c.n; k++) {
        size_t j = (size_t)k + (size_t)env_rand_below(&w->env, c.n - (size_t)k);
        char tmp[OBJ_KEY_MAX];
        int64_t tid = c.ids[j];
        memcpy(tmp, c.keys[j], OBJ_KEY_MAX);
        memcpy(c.keys[j], c.keys[k], OBJ_KEY_MAX);
        memcpy(c.keys[k], tmp, OBJ_KEY_MAX);
        c.ids[j] = c.ids[k];
        c.ids[k] = tid;
        world_race_remove(w, c.keys[k], c.ids[k]);
    }
    world_unlock(w);
    world_event(w, RUN_LANE_ACTION, w->now, false, "race-delete %zu candidates", c.n);
    free(c.keys);
    free(c.ids);
}

/* ---- dispatch and scheduling -------------------------------------------------------- */

static void world_act(struct world *w, const struct scn_action *a, int line,
                      struct world_timed *t)
{
    char what[64];
    int rc;
    world_tracef(w, "act", "line %d %s", line, scn_act_name(a->kind));
    switch (a->kind) {
    case SCN_ACT_APPEND: world_do_append(w, a, line); break;
    case SCN_ACT_LOAD: world_start_load(w, a); break;
    case SCN_ACT_TRIM: world_do_trim(w, a, line); break;
    case SCN_ACT_DELETE_STREAM:
        if ((rc = eng_delete_stream(w->eng, a->stream))) {
            snprintf(what, sizeof what, "delete-stream stream=%d", a->stream);
            world_refused(w, line, what, rc);
        }
        world_event(w, RUN_LANE_ACTION, w->now, false, "delete-stream %d", a->stream);
        break;
    case SCN_ACT_COMPACT:
        rc = a->compact == SCN_COMPACT_SSO ? eng_compact_sso(w->eng, a->force)
                                           : eng_compact_stream(w->eng, a->force);
        if (rc) {
            snprintf(what, sizeof what, "compact %s%s",
                     a->compact == SCN_COMPACT_SSO ? "sso" : "stream", a->force ? " force" : "");
            world_refused(w, line, what, rc);
        }
        break;
    case SCN_ACT_CRASH: world_do_crash(w, a); break;
    case SCN_ACT_RACE_DELETE: world_do_race(w, a); break;
    case SCN_ACT_RACE_PUT: world_do_race_put(w, a); break;
    case SCN_ACT_READ:
        if (t)
            world_do_read(w, t);
        break;
    case SCN_ACT_FAULT:
        world_lock(w);
        world_apply_fault(w, &a->rule);
        world_unlock(w);
        break;
    case SCN_ACT_HEAL:
        world_lock(w);
        if (w->fault)
            fs3_fault_heal(w->fault, a->heal_all ? NULL : a->heal);
        world_rpc_heal(w, a->heal_all ? NULL : a->heal);
        world_unlock(w);
        break;
    }
}

static void world_timed_fire(void *arg)
{
    struct world_timed *t = arg;
    struct world *w = t->w;
    const struct scn_event *ev = t->ev;
    world_clock(w);
    world_act(w, &ev->act, ev->line, t);
    if (ev->period_us > 0 && w->now + ev->period_us < ev->until_us &&
        w->now + ev->period_us <= w->spec->deadline_us) {
        env_timer(&w->env, ev->period_us, world_timed_fire, t);
    }
}

/* The convergence probe: every second of virtual time after the last action
 * (until found, or `within`), the cheap conditions first. */
static void world_probe(void *arg)
{
    struct world *w = arg;
    world_clock(w);
    w->probe_pending = false;
    if (w->converged_at >= 0)
        return;
    if (world_quiescent(w, w->converged_why, sizeof w->converged_why)) {
        w->converged_at = w->now;
        world_tracef(w, "check", "converged");
        /* caught-up is judged at the quiescent moment (docs/checks.md). */
        w->caught_held = world_caught_up(w, w->now, w->caught_detail, sizeof w->caught_detail);
        w->caught_done = true;
        return;
    }
    if (w->now + ENV_USEC_PER_SEC <= w->spec->deadline_us) {
        env_timer(&w->env, ENV_USEC_PER_SEC, world_probe, w);
        w->probe_pending = true;
    }
}

void world_schedule_events(struct world *w)
{
    const struct scn_spec *s = w->spec;
    w->timed = calloc(s->nevents + 1, sizeof *w->timed);
    for (size_t i = 0; w->timed && i < s->nevents; i++) {
        struct world_timed *t = &w->timed[i];
        t->w = w;
        t->ev = &s->events[i];
        t->next = s->events[i].at_us;
        env_timer(&w->env, s->events[i].at_us, world_timed_fire, t);
    }
    w->moments = calloc(s->nchecks + 1, sizeof *w->moments);
    for (size_t i = 0; w->moments && i < s->nchecks; i++) {
        w->moments[i].w = w;
        w->moments[i].check = i;
        if (s->checks[i].at_us == ENV_TIME_NEVER)
            continue;
        env_timer(&w->env, s->checks[i].at_us, world_judge_moment, &w->moments[i]);
        w->moments_pending++;
    }
    for (size_t i = 0; i < s->nchecks; i++)
        if (s->checks[i].kind == SCN_CHK_CONVERGED) {
            /* After every action of the same moment (scheduled later, same
             * time: fires after them by the heap's FIFO rule). */
            env_timer(&w->env, s->last_action_us, world_probe, w);
            w->probe_pending = true;
            break;
        }
}
