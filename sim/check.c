/* check.c - judging a run: the checks of docs/scenarios.md "Checks" over a world.
 *
 * Each check is a judge function that reads the world and says whether its
 * property held, with one line of detail.  The table below maps check kinds
 * to judges; world_judge() walks the scenario's check lines, applies
 * expect-fail, and fills the run result. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "err.h"
#include "mdc.h"
#include "payload.h"
#include "reads.h"
#include "world_int.h"

#define VERIFY_WINDOW_US (6 * ENV_USEC_PER_HOUR) /* virtual time allowed for reads */

static char *fmtdup(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return strdup(buf);
}

static const char *dur(int64_t us, char *buf) { return env_fmt_duration(us, buf, 32); }

static void snapshot_metrics(struct world *w);

/* ---- bucket walks ---------------------------------------------------------------- */

struct key_walk {
    struct world *w;
    uint64_t bad;
    char first[300];
    bool need_owned; /* converged: keys must be committed (not prepared/unknown) */
    uint64_t strangers; /* keys race-put wrote, still holding its bytes */
};

static bool walk_orphan(void *arg, const char *key, uint64_t size)
{
    struct key_walk *k = arg;
    enum meta_key_kind kind = meta_classify_key(eng_meta(k->w->eng), key);
    bool bad = kind == META_KEY_NONE || (k->need_owned && kind == META_KEY_PREPARED);
    /* An object race-put wrote that the engine never took over is not the engine's orphan. */
    if (kind == META_KEY_NONE && world_foreign_key(k->w, key, size)) {
        bad = false;
        k->strangers++;
    }
    if (bad && k->bad++ == 0)
        snprintf(k->first, sizeof k->first, "%s (%s)", key, meta_key_kind_name(kind));
    return true;
}

struct obj_walk {
    struct world *w;
    uint64_t bad, objects;
    char first[400];
};

static void obj_missing(struct obj_walk *o, const char *fmt, const char *key, int64_t id)
{
    if (o->bad++ == 0)
        snprintf(o->first, sizeof o->first, fmt, key, id);
}

static int walk_missing(void *arg, const struct meta_object *ob)
{
    struct obj_walk *o = arg;
    uint64_t size = 0;
    if (ob->state != META_COMMITTED)
        return 0;
    o->objects++;
    if (!fs3_key_exists(o->w->store, ob->key, &size))
        obj_missing(o, "%s (object %" PRId64 ") is missing", ob->key, ob->id);
    else if (ob->kind != META_KIND_COMPOSITE && (int64_t)size != ob->size)
        obj_missing(o, "%s (object %" PRId64 ") has the wrong size", ob->key, ob->id);
    for (size_t i = 0; ob->kind == META_KIND_COMPOSITE && i < ob->nlinks; i++)
        if (!fs3_key_exists(o->w->store, ob->links[i].key, NULL))
            obj_missing(o, "%s (linked by composite %" PRId64 ") is missing", ob->links[i].key,
                        ob->id);
    return 0;
}

struct upload_walk {
    struct world *w;
    uint64_t bad, n;
    char first[400];
};

static bool walk_upload(void *arg, const char *key, const char *upload_id, int64_t created)
{
    struct upload_walk *u = arg;
    char b[32];
    u->n++;
    if (meta_classify_key(eng_meta(u->w->eng), key) != META_KEY_PREPARED && u->bad++ == 0)
        snprintf(u->first, sizeof u->first, "%s (upload %.24s, opened at %s)", key, upload_id,
                 dur(created, b));
    return true;
}

/* ---- quiescence (converged) ----------------------------------------------------- */

static bool quiescent_locked(struct world *w, char *why, size_t whysz)
{
    struct meta_counts mc;
    struct key_walk kw = {w, 0, "", true, 0};
    struct obj_walk ow = {w, 0, 0, ""};
    /* http mode: the client's view (the front may still hold a request
     * whose client gave up on it). */
    uint64_t inflight = w->http ? world_http_inflight(w) : fs3_inflight(w->store);
    if (inflight) {
        snprintf(why, whysz, "%" PRIu64 " S3 calls in flight", inflight);
        return false;
    }
    if (w->waits.n) {
        snprintf(why, whysz, "%zu waits pending (oldest: %s: %s)", w->waits.n, w->waits.v[0].who,
                 w->waits.v[0].what);
        return false;
    }
    if (!eng_idle(w->eng)) {
        snprintf(why, whysz, "an engine job is running");
        return false;
    }
    meta_count(eng_meta(w->eng), &mc);
    if (mc.prepared || mc.marked) {
        snprintf(why, whysz, "%zu objects prepared, %zu marked for deletion", mc.prepared,
                 mc.marked);
        return false;
    }
    if (!w->store)
        return true; /* --endpoint: no store to inspect */
    if (fs3_nuploads(w->store)) {
        snprintf(why, whysz, "%" PRIu64 " multipart uploads open", fs3_nuploads(w->store));
        return false;
    }
    fs3_each_key(w->store, walk_orphan, &kw);
    if (kw.bad) {
        snprintf(why, whysz, "%" PRIu64 " keys not owned by a committed object, first %s", kw.bad,
                 kw.first);
        return false;
    }
    meta_foreach(eng_meta(w->eng), walk_missing, &ow);
    if (ow.bad) {
        snprintf(why, whysz, "%" PRIu64 " committed keys missing or wrong, first %s", ow.bad,
                 ow.first);
        return false;
    }
    return true;
}

bool world_quiescent(struct world *w, char *why, size_t whysz)
{
    bool q;
    world_lock(w);
    q = quiescent_locked(w, why, whysz);
    world_unlock(w);
    return q;
}

/* ---- judges -------------------------------------------------------------------------- */

struct verdict {
    bool held;
    char *detail;
};

/* With match= (expect-fail only): the first wait pending whose "who: what" contains the
 * text, or NULL. */
static const struct sim_wait *hang_match(const struct world *w, const char *text)
{
    for (size_t i = 0; i < w->waits.n; i++) {
        const struct sim_wait *x = &w->waits.v[i];
        char *line = fmtdup("%s: %s", x->who, x->what);
        bool hit = line && strstr(line, text);
        free(line);
        if (hit)
            return x;
    }
    return NULL;
}

static struct verdict judge_no_hang_raw(struct world *w, const struct scn_check *c);

static struct verdict judge_no_hang(struct world *w, const struct scn_check *c)
{
    struct verdict v = judge_no_hang_raw(w, c);
    const struct sim_wait *x;
    char b1[32];
    if (!c->has_match || v.held)
        return v;
    /* A hang: it counts (the check fails) only when a pending wait says the text. */
    x = hang_match(w, c->match);
    if (x) {
        char *d = fmtdup("%s; the wait matching \"%s\": %s: %s (since %s)", v.detail, c->match,
                         x->who, x->what, dur(x->since, b1));
        free(v.detail);
        v.detail = d;
        return v;
    }
    {
        char *d = fmtdup("a hang, but no wait pending says \"%s\" (%s)", c->match, v.detail);
        free(v.detail);
        return (struct verdict){true, d};
    }
}

static struct verdict judge_no_hang_raw(struct world *w, const struct scn_check *c)
{
    char b1[32], b2[32], b3[32];
    int64_t thr = conf_get(&w->spec->conf, CONF_HANG_THRESHOLD);
    const struct sim_wait *old = sim_waits_oldest(&w->waits);
    (void)c;
    if (w->hang)
        return (struct verdict){false,
            fmtdup("hang at %s: no event left while %zu waits pending; oldest: %s: %s (waiting %s)",
                   dur(w->hang_at, b1), w->waits.n, old ? old->who : "?",
                   old ? old->what : "?", dur(old ? w->hang_at - old->since : 0, b2))};
    for (size_t i = 0; i < w->waits.n; i++) {
        const struct sim_wait *x = &w->waits.v[i];
        if (w->now - x->since > thr) {
            w->hang = true;
            w->hang_at = w->now;
            return (struct verdict){false,
                fmtdup("hang: %s: %s (waiting %s, since %s); %zu waits pending; last progress at %s",
                       x->who, x->what, dur(w->now - x->since, b1), dur(x->since, b2), w->waits.n,
                       w->waits.last_progress >= 0 ? dur(w->waits.last_progress, b3) : "never")};
        }
    }
    return (struct verdict){true, fmtdup("%zu waits pending at the end, none older than %s",
                                         w->waits.n, dur(thr, b1))};
}

static struct verdict judge_converged(struct world *w, const struct scn_check *c)
{
    char b1[32], b2[32];
    int64_t within = c->within_us == ENV_TIME_NEVER ? w->spec->deadline_us : c->within_us;
    if (w->converged_at >= 0 && w->converged_at <= within)
        return (struct verdict){true, fmtdup("quiescent at %s", dur(w->converged_at, b1))};
    if (w->converged_at >= 0)
        return (struct verdict){false, fmtdup("quiescent only at %s, after within=%s",
                                              dur(w->converged_at, b1), dur(within, b2))};
    return (struct verdict){false, fmtdup("never quiescent after %s: %s",
                                          dur(w->spec->last_action_us, b1),
                                          w->converged_why[0] ? w->converged_why : "not probed")};
}

static struct verdict not_judged(void)
{
    return (struct verdict){true, strdup("not judged: --endpoint has no fake store to inspect")};
}

static struct verdict judge_no_orphans(struct world *w, const struct scn_check *c)
{
    struct key_walk kw = {w, 0, "", false, 0};
    uint64_t nkeys;
    (void)c;
    if (!w->store)
        return not_judged();
    world_lock(w);
    fs3_each_key(w->store, walk_orphan, &kw);
    nkeys = fs3_nkeys(w->store);
    world_unlock(w);
    if (kw.bad)
        return (struct verdict){false, fmtdup("%" PRIu64 " orphan keys, first %s", kw.bad,
                                              kw.first)};
    if (kw.strangers)
        return (struct verdict){true, fmtdup("%" PRIu64 " keys, all owned but %" PRIu64 " that "
                                             "race-put wrote", nkeys, kw.strangers)};
    return (struct verdict){true, fmtdup("%" PRIu64 " keys, all owned", nkeys)};
}

/* Every image (the broker's, the read path's), once the log is applied, equals the
 * controller's state (docs/controller.md). */
static struct verdict judge_image_consistent(struct world *w, const struct scn_check *c)
{
    char why[200];
    int n = 0;
    (void)c;
    for (int i = 0; i < 2; i++) {
        struct mdc *d = eng_mdc(w->eng, i);
        if (!d || !mdc_image(d))
            continue; /* the broker is down: no image */
        mdc_catch_up(d);
        n++;
        if (meta_diff(eng_meta(w->eng), mdc_image(d), why, sizeof why) != 0)
            return (struct verdict){false, fmtdup("image %s differs from the controller: %s",
                                                  i == 0 ? "of the broker" : "of the read path",
                                                  why)};
        if (meta_listed_dups(mdc_image(d)) > 0)
            return (struct verdict){false, fmtdup("image %s lists %zu stream objects twice "
                                                  "under their stream (F05)",
                                                  i == 0 ? "of the broker" : "of the read path",
                                                  meta_listed_dups(mdc_image(d)))};
    }
    return (struct verdict){true, fmtdup("%d images equal the controller's state", n)};
}

static struct verdict judge_no_missing(struct world *w, const struct scn_check *c)
{
    struct obj_walk ow = {w, 0, 0, ""};
    (void)c;
    if (!w->store)
        return not_judged();
    world_lock(w);
    meta_foreach(eng_meta(w->eng), walk_missing, &ow);
    world_unlock(w);
    if (ow.bad)
        return (struct verdict){false, fmtdup("%" PRIu64 " missing: %s", ow.bad, ow.first)};
    return (struct verdict){true, fmtdup("%" PRIu64 " committed objects present", ow.objects)};
}

static struct verdict judge_no_dangling(struct world *w, const struct scn_check *c)
{
    struct upload_walk uw = {w, 0, 0, ""};
    (void)c;
    if (!w->store)
        return not_judged();
    world_lock(w);
    fs3_each_upload(w->store, walk_upload, &uw);
    world_unlock(w);
    if (uw.bad)
        return (struct verdict){false, fmtdup("%" PRIu64 " dangling multipart uploads, first %s",
                                              uw.bad, uw.first)};
    return (struct verdict){true, fmtdup("%" PRIu64 " open uploads, all of prepared objects",
                                         uw.n)};
}

static struct verdict judge_memory(struct world *w, const struct scn_check *c)
{
    char b1[32], b2[32];
    int64_t peak = (int64_t)eng_metrics(w->eng)->memory_peak;
    bool held = scn_cmp_holds(c->cmp, peak, c->value);
    return (struct verdict){held, fmtdup("memory.peak %s (want %s %s)",
                                         env_fmt_size((uint64_t)peak, b1, 32),
                                         scn_cmp_name(c->cmp),
                                         env_fmt_size((uint64_t)c->value, b2, 32))};
}

static struct verdict judge_log(struct world *w, const struct scn_check *c)
{
    size_t i = (size_t)(c - w->spec->checks);
    int64_t n = (int64_t)w->log_matches[i];
    bool held = scn_cmp_holds(c->cmp, n, c->value);
    if (c->has_except)
        return (struct verdict){held, fmtdup("%" PRId64 " %s lines%s%s%s not holding \"%s\" "
                                             "(want %s %" PRId64 ")", n,
                                             env_level_name(c->level),
                                             c->has_match ? " match \"" : "",
                                             c->has_match ? c->match : "",
                                             c->has_match ? "\"" : "", c->except,
                                             scn_cmp_name(c->cmp), c->value)};
    if (c->has_match)
        return (struct verdict){held, fmtdup("%" PRId64 " %s lines match \"%s\" (want %s %" PRId64
                                             ")", n, env_level_name(c->level), c->match,
                                             scn_cmp_name(c->cmp), c->value)};
    return (struct verdict){held, fmtdup("%" PRId64 " %s lines (want %s %" PRId64 ")", n,
                                         env_level_name(c->level), scn_cmp_name(c->cmp),
                                         c->value)};
}

static struct verdict judge_metric(struct world *w, const struct scn_check *c)
{
    int64_t v = c->metric >= 0 && c->metric < METRIC_COUNT ? w->metrics[c->metric] : 0;
    bool held = scn_cmp_holds(c->cmp, v, c->value);
    return (struct verdict){held, fmtdup("%s = %" PRId64 " (want %s %" PRId64 ")",
                                         metric_name(c->metric), v, scn_cmp_name(c->cmp),
                                         c->value)};
}

static struct verdict judge_no_data_loss(struct world *w, const struct scn_check *c)
{
    (void)c;
    if (w->dataloss[0])
        return (struct verdict){false, strdup(w->dataloss)};
    return (struct verdict){true, fmtdup("%" PRIu64 " acknowledged records read back intact",
                                         w->records_checked)};
}

static struct verdict judge_no_error_log(struct world *w, const struct scn_check *c)
{
    (void)c;
    if (!conf_bool(&w->spec->conf, CONF_CHECK_ERROR_LOG))
        return (struct verdict){true, strdup("not judged: check.error.log is false")};
    if (w->err_lines)
        return (struct verdict){false, fmtdup("%" PRIu64 " engine log lines at error level or "
                                              "FATAL (and no `log error` line expects them), "
                                              "first %s", w->err_lines, w->err_first)};
    return (struct verdict){true, strdup("no engine log line at error level or FATAL")};
}

static struct verdict judge_caught_up(struct world *w, const struct scn_check *c)
{
    char detail[400];
    bool held;
    if (!conf_bool(&w->spec->conf, CONF_CHECK_CAUGHT_UP))
        return (struct verdict){true, strdup("not judged: check.caught.up is false")};
    if (c->at_us == ENV_TIME_NEVER && w->caught_done && !w->caught_held)
        return (struct verdict){false, fmtdup("at the quiescent moment: %s", w->caught_detail)};
    /* At the end too (the engine goes on compacting after the quiescent
     * moment), or only now for a moment check or a run never quiescent. */
    held = world_caught_up(w, c->at_us == ENV_TIME_NEVER && w->http ? w->reached_at : w->now,
                           detail, sizeof detail);
    if (held && c->at_us == ENV_TIME_NEVER && w->caught_done)
        return (struct verdict){true, fmtdup("%s; at the end: %s", w->caught_detail, detail)};
    return (struct verdict){held, strdup(detail)};
}

static struct verdict judge_reads_correct(struct world *w, const struct scn_check *c)
{
    (void)c;
    if (w->reads_bad)
        return (struct verdict){false, fmtdup("%" PRIu64 " wrong answers of %" PRId64 " reads, "
                                              "first %s", w->reads_bad,
                                              w->metrics[METRIC_READS], w->reads_first)};
    return (struct verdict){true, fmtdup("%" PRId64 " reads, %" PRId64 " payload bytes "
                                         "compared, all right (%" PRId64 " reads failed)",
                                         w->metrics[METRIC_READS], w->metrics[METRIC_READS_BYTES],
                                         w->metrics[METRIC_READS_FAILED])};
}

static struct verdict judge_failures_explained(struct world *w, const struct scn_check *c)
{
    char detail[1024];
    bool held;
    (void)c;
    if (!conf_bool(&w->spec->conf, CONF_CHECK_FAILURES_EXPLAINED))
        return (struct verdict){true, strdup("not judged: check.failures.explained is false")};
    if (!w->store || w->http)
        return (struct verdict){true, strdup("not judged: the fake S3 is not this process's "
                                             "(--endpoint, --mode http)")};
    world_lock(w);
    held = world_failures_explained(w, detail, sizeof detail);
    world_unlock(w);
    return (struct verdict){held, strdup(detail)};
}

static struct verdict judge_writes_once(struct world *w, const struct scn_check *c)
{
    char detail[600];
    bool held;
    (void)c;
    if (!conf_bool(&w->spec->conf, CONF_CHECK_WRITES_ONCE))
        return (struct verdict){true, strdup("not judged: check.writes.once is false")};
    if (!w->store || w->http)
        return (struct verdict){true, strdup("not judged: the fake S3 is not this process's "
                                             "(--endpoint, --mode http)")};
    world_lock(w);
    held = world_writes_once(w, detail, sizeof detail);
    world_unlock(w);
    return (struct verdict){held, strdup(detail)};
}

static struct verdict judge_requests_counted(struct world *w, const struct scn_check *c)
{
    char detail[1200];
    bool held;
    (void)c;
    if (!conf_bool(&w->spec->conf, CONF_CHECK_REQUESTS_COUNTED))
        return (struct verdict){true, strdup("not judged: check.requests.counted is false")};
    if (w->http && w->store && w->fault) {
        /* The in-process front: its counts are shown, not judged (docs/checks.md). */
        uint64_t sent, received;
        world_lock(w);
        world_requests_totals(w, &sent, &received);
        world_unlock(w);
        return (struct verdict){true, fmtdup("not judged in --mode http (docs/checks.md): the "
                                             "engine counts %" PRIu64 " requests sent, the HTTP "
                                             "front received %" PRIu64, sent, received)};
    }
    if (!w->store || !w->fault || w->http)
        return (struct verdict){true, strdup("not judged: the fake S3 is not this process's "
                                             "(--endpoint; docs/checks.md)")};
    world_lock(w);
    held = world_requests_counted(w, detail, sizeof detail);
    world_unlock(w);
    return (struct verdict){held, strdup(detail)};
}

static struct verdict judge_vacuous(struct world *w, const struct scn_check *c)
{
    char detail[1024];
    (void)c;
    /* The gate holds when the run judged something (it fails when vacuous). */
    bool vac = world_vacuous(w, detail, sizeof detail);
    return (struct verdict){!vac, strdup(detail)};
}

/* no-leak is judged after the world is torn down (world_judge_leaks in
 * check_health.c); until then it is satisfied. */
static struct verdict judge_no_leak(struct world *w, const struct scn_check *c)
{
    (void)w;
    return (struct verdict){!c->expect_fail, strdup("judged after the world is torn down")};
}

typedef struct verdict (*judge_fn)(struct world *w, const struct scn_check *c);

static const judge_fn judges[SCN_CHK_COUNT] = {
    [SCN_CHK_NO_HANG] = judge_no_hang,
    [SCN_CHK_CONVERGED] = judge_converged,
    [SCN_CHK_NO_ORPHANS] = judge_no_orphans,
    [SCN_CHK_NO_MISSING] = judge_no_missing,
    [SCN_CHK_NO_DANGLING_UPLOADS] = judge_no_dangling,
    [SCN_CHK_NO_DATA_LOSS] = judge_no_data_loss,
    [SCN_CHK_MEMORY] = judge_memory,
    [SCN_CHK_LOG] = judge_log,
    [SCN_CHK_METRIC] = judge_metric,
    [SCN_CHK_NO_ERROR_LOG] = judge_no_error_log,
    [SCN_CHK_CAUGHT_UP] = judge_caught_up,
    [SCN_CHK_IMAGE_CONSISTENT] = judge_image_consistent,
    [SCN_CHK_VACUOUS] = judge_vacuous,
    [SCN_CHK_READS_CORRECT] = judge_reads_correct,
    [SCN_CHK_FAILURES_EXPLAINED] = judge_failures_explained,
    [SCN_CHK_NO_LEAK] = judge_no_leak,
    [SCN_CHK_WRITES_ONCE] = judge_writes_once,
    [SCN_CHK_REQUESTS_COUNTED] = judge_requests_counted,
};

/* Timer of an `at TIME expect` check: judged now, over the world as it is. */
void world_judge_moment(void *arg)
{
    struct world_moment *m = arg;
    struct world *w = m->w;
    const struct scn_check *c = &w->spec->checks[m->check];
    char b[32];
    struct verdict v;
    world_clock(w);
    if (w->moments_pending)
        w->moments_pending--;
    snapshot_metrics(w);
    v = judges[c->kind](w, c);
    m->held = v.held;
    m->detail = fmtdup("at %s: %s", dur(w->now, b), v.detail ? v.detail : "");
    free(v.detail);
    world_tracef(w, "check", "at line %d: %s %s", c->line, scn_check_name(c->kind),
                 m->held ? "held" : "did not hold");
}

/* ---- no-data-loss: read every acknowledged record back ------------------------------ */

struct verify {
    struct world *w;
    int stream;
    size_t run;
    int64_t expect, hi;
    uint32_t size;
    int retries;   /* re-reads of the current run after an object vanished */
};

static void verify_next(struct verify *v);

static void verify_fail(struct world *w, const char *fmt, ...)
{
    va_list ap;
    if (w->dataloss[0])
        return;
    va_start(ap, fmt);
    vsnprintf(w->dataloss, sizeof w->dataloss, fmt, ap);
    va_end(ap);
}

static void verify_rec(void *arg, int64_t offset, const uint8_t *payload, size_t len)
{
    struct verify *v = arg;
    struct world *w = v->w;
    long at;
    if (offset < v->expect || offset >= v->hi)
        return; /* outside the run (a batch overlapping it): not ours to judge */
    if (offset > v->expect) {
        verify_fail(w, "stream %d: records %" PRId64 "..%" PRId64 " acknowledged but not read back",
                    v->stream, v->expect, offset - 1);
        v->expect = offset;
    }
    if (len != v->size)
        verify_fail(w, "stream %d offset %" PRId64 ": %zu payload bytes, want %u", v->stream,
                    offset, len, v->size);
    else if ((at = sim_payload_check(w->seed, v->stream, offset, payload, len)) >= 0)
        verify_fail(w, "stream %d offset %" PRId64 ": payload differs at byte %ld", v->stream,
                    offset, at);
    v->expect = offset + 1;
    w->records_checked++;
}

static void verify_done(void *arg, int rc)
{
    struct verify *v = arg;
    /* An object may vanish under a read when a compaction committed and its
     * inputs were deleted meanwhile (the engine keeps running while the
     * records are read back): plan the rest of the run again from the
     * metadata, as a consumer would.  Lost data fails again. */
    if (rc == ERR_NOTFOUND && v->retries < 3 && v->expect < v->hi) {
        v->retries++;
        if (eng_read(v->w->eng, v->stream, v->expect, v->hi, verify_rec, verify_done, v) == 0)
            return;
    }
    v->retries = 0;
    if (rc)
        verify_fail(v->w, "stream %d: reading offsets %" PRId64 "..%" PRId64 " failed: %s",
                    v->stream, v->expect, v->hi - 1, err_str(rc));
    else if (v->expect < v->hi)
        verify_fail(v->w, "stream %d: records %" PRId64 "..%" PRId64
                    " acknowledged but not read back", v->stream, v->expect, v->hi - 1);
    v->run++;
    verify_next(v);
}

/* Starts the read of the next acknowledged run still expected to be there. */
static void verify_next(struct verify *v)
{
    struct world *w = v->w;
    for (; v->stream <= w->nstreams; v->stream++, v->run = 0) {
        const struct meta_stream *ms = meta_stream_get(eng_meta(w->eng), v->stream);
        struct world_stream *s = &w->streams[v->stream];
        if (!ms || ms->state == META_STREAM_DELETED)
            continue;
        for (; v->run < s->n; v->run++) {
            const struct world_run *r = &s->runs[v->run];
            int64_t lo = r->base > ms->start ? r->base : ms->start;
            int64_t hi = r->base + r->count;
            int rc;
            if (lo >= hi)
                continue;
            v->expect = lo;
            v->hi = hi;
            v->size = r->size;
            rc = eng_read(w->eng, v->stream, lo, hi, verify_rec, verify_done, v);
            if (rc == 0)
                return;
            verify_fail(w, "stream %d: the read path refused offsets %" PRId64 "..%" PRId64
                        ": %s", v->stream, lo, hi - 1, err_str(rc));
        }
    }
    w->verify_pending = 0;
    w->stop = true;
}

void world_verify_data(struct world *w)
{
    struct verify v = {w, 1, 0, 0, 0, 0, 0};
    bool was_hang = w->hang;
    int64_t hang_at = w->hang_at;
    /* Judge data, not availability: the reads run with every fault healed. */
    world_lock(w);
    if (w->fault)
        fs3_fault_heal(w->fault, NULL);
    world_rpc_heal(w, NULL);
    world_unlock(w);
    w->verify_pending = 1;
    w->stop = false;
    verify_next(&v);
    if (w->verify_pending)
        world_run_loop(w, w->now + VERIFY_WINDOW_US);
    if (w->verify_pending && !w->stop)
        verify_fail(w, "the read-back of acknowledged records did not finish (stream %d)",
                    v.stream);
    w->verify_pending = 0;
    w->hang = was_hang;
    w->hang_at = hang_at;
}

/* ---- metrics and the verdict -------------------------------------------------------- */

static void snapshot_metrics(struct world *w)
{
    const struct eng_metrics *em = eng_metrics(w->eng);
    struct meta_counts mc;
    int64_t *m = w->metrics;
    meta_count(eng_meta(w->eng), &mc);
    m[METRIC_WAL_UPLOADS] = (int64_t)em->wal_uploads;
    m[METRIC_OBJECTS_IDS] = meta_next_id(eng_meta(w->eng));
    m[METRIC_BROKER_HALTS] = (int64_t)em->broker_halts;
    m[METRIC_SSO_RUNS] = (int64_t)em->sso_runs;
    m[METRIC_SSO_COMMITS] = (int64_t)em->sso_commits;
    m[METRIC_SSO_FAILURES] = (int64_t)em->sso_failures;
    m[METRIC_FORCE_SPLITS] = (int64_t)em->force_splits;
    m[METRIC_STREAM_COMMITS] = (int64_t)em->stream_commits;
    m[METRIC_STREAM_FAILURES] = (int64_t)em->stream_failures;
    m[METRIC_COMPOSITE_CREATED] = (int64_t)em->composite_created;
    m[METRIC_CLEANER_DELETED] = (int64_t)em->cleaner_deleted;
    m[METRIC_CLEANER_FAILURES] = (int64_t)em->cleaner_failures;
    m[METRIC_S3_RETRIES] = (int64_t)em->s3_retries;
    m[METRIC_S3_TIMEOUTS] = (int64_t)em->s3_timeouts;
    m[METRIC_S3_REQUESTS] = 0;
    for (int o = 0; o < S3_OP_COUNT; o++)
        m[METRIC_S3_REQUESTS_OP + o] = 0;
    for (int j = 0; j < S3_JOB_COUNT; j++) {
        m[METRIC_S3_REQUESTS_JOB + j] = 0;
        for (int o = 0; o < S3_OP_COUNT; o++) {
            int64_t n = (int64_t)em->s3_requests.n[j][o];
            m[METRIC_S3_REQUESTS] += n;
            m[METRIC_S3_REQUESTS_OP + o] += n;
            m[METRIC_S3_REQUESTS_JOB + j] += n;
        }
    }
    m[METRIC_MEMORY_PEAK] = (int64_t)em->memory_peak;
    m[METRIC_IMAGE_LAG_MAX] = (int64_t)em->image_lag_max_us;
    m[METRIC_RPC_CALLS_PREPARE] = (int64_t)em->rpc_calls[MDC_OP_PREPARE];
    m[METRIC_RPC_CALLS_COMMIT_SSO] = (int64_t)em->rpc_calls[MDC_OP_COMMIT_SSO];
    m[METRIC_RPC_CALLS_COMMIT_STREAM] = (int64_t)em->rpc_calls[MDC_OP_COMMIT_STREAM];
    m[METRIC_RPC_CALLS_TRIM] = (int64_t)em->rpc_calls[MDC_OP_TRIM];
    m[METRIC_RPC_CALLS_DELETE_STREAM] = (int64_t)em->rpc_calls[MDC_OP_DELETE_STREAM];
    m[METRIC_RPC_CALLS] = 0;
    for (int i = 0; i < MDC_OP_COUNT; i++)
        m[METRIC_RPC_CALLS] += (int64_t)em->rpc_calls[i];
    m[METRIC_RPC_RETRIES] = (int64_t)em->rpc_retries;
    m[METRIC_RPC_FENCED] = (int64_t)em->rpc_fenced;
    m[METRIC_OBJECTS_LIVE] = (int64_t)mc.committed;
    m[METRIC_OBJECTS_SSO] = (int64_t)mc.sso;
    m[METRIC_OBJECTS_STREAM] = (int64_t)mc.stream;
    m[METRIC_OBJECTS_COMPOSITE] = (int64_t)mc.composite;
    m[METRIC_OBJECTS_PREPARED] = (int64_t)mc.prepared;
    m[METRIC_OBJECTS_MARKED] = (int64_t)mc.marked;
    if (!w->store)
        return;
    world_lock(w);
    m[METRIC_BUCKET_KEYS] = (int64_t)fs3_nkeys(w->store);
    m[METRIC_BUCKET_BYTES] = (int64_t)fs3_nbytes(w->store);
    m[METRIC_BUCKET_UPLOADS_OPEN] = (int64_t)fs3_nuploads(w->store);
    world_unlock(w);
}

static void copy_waits(struct world *w)
{
    struct run_result *r = w->res;
    r->last_progress_us = w->waits.last_progress;
    r->waits = calloc(w->waits.n + 1, sizeof *r->waits);
    if (!r->waits)
        return;
    for (size_t i = 0; i < w->waits.n; i++) {
        const struct sim_wait *x = &w->waits.v[i];
        r->waits[i] = (struct run_wait){strdup(x->who), strdup(x->what), x->since,
                                        w->now - x->since};
        run_result_event(r, x->since, w->now, RUN_LANE_WAIT, -1, -1, FS3_EFF_NONE, true, x->who);
    }
    r->nwaits = w->waits.n;
}

static void copy_metrics(struct world *w)
{
    struct run_result *r = w->res;
    r->metrics = calloc(METRIC_COUNT, sizeof *r->metrics);
    if (!r->metrics)
        return;
    for (int i = 0; i < METRIC_COUNT; i++)
        r->metrics[i] = (struct run_metric){metric_name(i), w->metrics[i]};
    r->nmetrics = METRIC_COUNT;
}

static char *check_args_plain(const struct scn_check *c);

/* The arguments as written, with "at TIME" first for a check at a moment. */
static char *check_args(const struct scn_check *c)
{
    char b[32];
    char *a = check_args_plain(c), *out;
    if (c->at_us == ENV_TIME_NEVER || !a)
        return a;
    out = fmtdup("at=%s%s%s", dur(c->at_us, b), *a ? " " : "", a);
    free(a);
    return out;
}

static char *check_args_plain(const struct scn_check *c)
{
    char b[32];
    switch (c->kind) {
    case SCN_CHK_CONVERGED:
        return c->within_us == ENV_TIME_NEVER ? strdup("")
                                              : fmtdup("within=%s", dur(c->within_us, b));
    case SCN_CHK_MEMORY: return fmtdup("<= %" PRId64, c->value);
    case SCN_CHK_LOG:
        return fmtdup("%s%s%s%s%s%s%s count %s %" PRId64, env_level_name(c->level),
                      c->has_match ? " match=\"" : "", c->has_match ? c->match : "",
                      c->has_match ? "\"" : "", c->has_except ? " except=\"" : "",
                      c->has_except ? c->except : "", c->has_except ? "\"" : "",
                      scn_cmp_name(c->cmp), c->value);
    case SCN_CHK_METRIC:
        return fmtdup("%s %s %" PRId64, metric_name(c->metric), scn_cmp_name(c->cmp), c->value);
    case SCN_CHK_NO_HANG:
        return c->has_match ? fmtdup("match=\"%s\"", c->match) : strdup("");
    default: return strdup("");
    }
}

/* Every failed check, a hang first (it explains most of the others), then in
 * file order: "check=a: detail; check=b: detail".  NULL when none failed. */
char *world_failed_summary(const struct run_result *r, const struct scn_spec *s)
{
    size_t cap = 64, off = 0;
    char *out = NULL;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < r->nchecks; i++) {
            const struct run_check *rc = &r->checks[i];
            bool hang = s->checks[i].kind == SCN_CHK_NO_HANG;
            char *part;
            size_t n;
            if (rc->ok || hang != (pass == 0))
                continue;
            part = rc->expect_fail
                       ? fmtdup("check=%s: held but expect-fail says it must not: %s", rc->name,
                                rc->detail ? rc->detail : "")
                       : fmtdup("check=%s: %s", rc->name, rc->detail ? rc->detail : "");
            n = part ? strlen(part) : 0;
            if (!part || !(out = out ? out : calloc(1, cap))) {
                free(part);
                return out;
            }
            if (off + n + 3 > cap) {
                char *no;
                while (off + n + 3 > cap)
                    cap *= 2;
                if (!(no = realloc(out, cap))) {
                    free(part);
                    return out;
                }
                out = no;
            }
            off += (size_t)snprintf(out + off, cap - off, "%s%s", off ? "; " : "", part);
            free(part);
        }
    return out;
}

void world_judge(struct world *w)
{
    const struct scn_spec *s = w->spec;
    struct run_result *r = w->res;
    bool need_data = false;
    struct verdict *v = calloc(s->nchecks + 1, sizeof *v);

    snapshot_metrics(w);
    world_reads_close(w); /* the reads done by the deadline are judged, not the late ones */
    r->vtime_us = w->now;
    for (size_t i = 0; v && i < s->nchecks; i++) {
        const struct scn_check *c = &s->checks[i];
        if (c->at_us != ENV_TIME_NEVER) {
            char b[32], b2[32];
            bool seen = w->moments && w->moments[i].detail;
            v[i].held = seen && w->moments[i].held;
            v[i].detail = seen ? strdup(w->moments[i].detail)
                               : fmtdup("never judged: the run ended at %s, before %s",
                                        dur(w->now, b), dur(c->at_us, b2));
            continue;
        }
        if (c->kind == SCN_CHK_NO_DATA_LOSS) {
            need_data = true;
            continue;
        }
        if (c->kind == SCN_CHK_VACUOUS)
            continue; /* after no-data-loss: it reads records.acked */
        v[i] = judges[c->kind](w, c);
    }
    copy_waits(w);
    copy_metrics(w);
    if (need_data && v) {
        int64_t end = w->now;
        world_verify_data(w);
        for (size_t i = 0; i < s->nchecks; i++)
            if (s->checks[i].kind == SCN_CHK_NO_DATA_LOSS && s->checks[i].at_us == ENV_TIME_NEVER)
                v[i] = judges[SCN_CHK_NO_DATA_LOSS](w, &s->checks[i]);
        w->now = end;
    }
    for (size_t i = 0; v && i < s->nchecks; i++)
        if (s->checks[i].kind == SCN_CHK_VACUOUS)
            v[i] = judges[SCN_CHK_VACUOUS](w, &s->checks[i]);
    r->checks = calloc(s->nchecks + 1, sizeof *r->checks);
    for (size_t i = 0; v && r->checks && i < s->nchecks; i++) {
        const struct scn_check *c = &s->checks[i];
        struct run_check *rc = &r->checks[i];
        rc->name = strdup(scn_check_name(c->kind));
        rc->args = check_args(c);
        rc->expect_fail = c->expect_fail;
        rc->held = v[i].held;
        rc->ok = v[i].held != c->expect_fail;
        rc->detail = v[i].detail;
        rc->line = c->line;
        v[i].detail = NULL;
        r->nchecks++;
    }
    if (!v || !r->checks) {
        r->verdict = RUN_ERROR;
        r->summary = strdup("out of memory while judging");
    } else {
        r->summary = world_failed_summary(r, s);
        r->verdict = r->summary ? RUN_FAIL : RUN_PASS;
    }
    r->hang = w->hang;
    for (size_t i = 0; v && i < s->nchecks; i++)
        free(v[i].detail);
    free(v);
    snprintf(r->trace_hex, sizeof r->trace_hex, "%s", sim_trace_finish(&w->trace));
}

void detail_addf(struct detail_buf *d, const char *fmt, ...)
{
    va_list ap;
    int k;
    if (d->len + 1 >= d->sz)
        return;
    va_start(ap, fmt);
    k = vsnprintf(d->out + d->len, d->sz - d->len, fmt, ap);
    va_end(ap);
    if (k > 0)
        d->len += (size_t)k < d->sz - d->len ? (size_t)k : d->sz - d->len - 1;
}

void detail_sep(struct detail_buf *d, const char *sep)
{
    if (d->n++)
        detail_addf(d, "%s", sep);
}
