/* scn_resolve.c - the effective spec of one variant, and its validation (see scn.h). */
#include "scn_int.h"

#include "err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Checks of the spec being built, with where each came from. */
enum { SCN_FROM_BASE, SCN_FROM_REPLACED, SCN_FROM_DROPPED, SCN_FROM_VARIANT };

struct scn_build {
    struct scn_spec *s;
    unsigned char *origin; /* per check: SCN_FROM_* */
    size_t cap_events, cap_faults, cap_checks, cap_origin;
};

/* Grows *arr (of elem bytes) to hold n + 1 elements. */
static int scn_grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    void *p;
    size_t c;
    if (n < *cap)
        return 0;
    c = *cap ? *cap * 2 : 8;
    p = realloc(*arr, c * elem);
    if (!p)
        return ERR_NOMEM;
    *arr = p;
    *cap = c;
    return 0;
}

static int scn_add_check(struct scn_build *b, const struct scn_check *c, bool variant)
{
    struct scn_spec *s = b->s;
    if (variant) {
        bool replaced = false;
        for (size_t i = 0; i < s->nchecks; i++) {
            if (b->origin[i] != SCN_FROM_BASE || !scn_check_same(&s->checks[i], c))
                continue;
            if (!replaced) {
                s->checks[i] = *c;
                b->origin[i] = SCN_FROM_REPLACED;
                replaced = true;
            } else {
                b->origin[i] = SCN_FROM_DROPPED;
            }
        }
        if (replaced)
            return 0;
    }
    if (scn_grow((void **)&s->checks, &b->cap_checks, s->nchecks, sizeof *s->checks))
        return ERR_NOMEM;
    if (scn_grow((void **)&b->origin, &b->cap_origin, s->nchecks, 1))
        return ERR_NOMEM;
    s->checks[s->nchecks] = *c;
    b->origin[s->nchecks++] = variant ? SCN_FROM_VARIANT : SCN_FROM_BASE;
    return 0;
}

/* Removes the top-level rules named by a top-level heal. */
static void scn_heal_faults(struct scn_spec *s, const struct scn_action *a)
{
    size_t k = 0;
    for (size_t i = 0; i < s->nfaults; i++)
        if (!a->heal_all && strcmp(s->faults[i].name, a->heal) != 0)
            s->faults[k++] = s->faults[i];
    s->nfaults = k;
}

static int scn_apply_line(struct scn_build *b, const struct scn_line *l, bool variant)
{
    struct scn_spec *s = b->s;
    switch (l->kind) {
    case SCN_L_SEED: s->seed = l->seed; return 0;
    case SCN_L_DEADLINE: s->deadline_us = l->deadline_us; return 0;
    case SCN_L_SWARM: s->swarm = true; return 0;
    case SCN_L_SEEDS:
        s->have_seeds = true;
        s->seeds_lo = l->seed;
        s->seeds_hi = l->seed_hi;
        return 0;
    case SCN_L_STREAMS: s->streams = l->streams; return 0;
    case SCN_L_SET:
        /* conf_put: a profile line re-applies its defaults to the knobs no line set. */
        conf_put(&s->conf, (enum conf_id)l->knob, l->value, l->str);
        return 0;
    case SCN_L_EVENT:
        if (scn_grow((void **)&s->events, &b->cap_events, s->nevents, sizeof *s->events))
            return ERR_NOMEM;
        s->events[s->nevents++] = l->event;
        return 0;
    case SCN_L_FAULT:
        if (scn_grow((void **)&s->faults, &b->cap_faults, s->nfaults, sizeof *s->faults))
            return ERR_NOMEM;
        s->faults[s->nfaults++] = l->act.rule;
        return 0;
    case SCN_L_HEAL: scn_heal_faults(s, &l->act); return 0;
    case SCN_L_CHECK: return scn_add_check(b, &l->check, variant);
    }
    return 0;
}

/* ---- validation ----------------------------------------------------------------------- */

/* The rule names that fault lines of the base and section idx define, sorted,
 * so that each heal is one binary search (files may be large). */
struct scn_names {
    const char **v;
    size_t n;
};

static int scn_name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int scn_names_collect(const struct scn_file *f, size_t idx, struct scn_names *names)
{
    size_t cap = f->sections[0].nlines + (idx ? f->sections[idx].nlines : 0);
    names->n = 0;
    names->v = malloc((cap ? cap : 1) * sizeof *names->v);
    if (!names->v)
        return ERR_NOMEM;
    for (size_t k = 0; k < (idx ? 2u : 1u); k++) {
        const struct scn_section *sec = &f->sections[k == 0 ? 0 : idx];
        for (size_t i = 0; i < sec->nlines; i++) {
            const struct scn_line *l = &sec->lines[i];
            if (l->kind == SCN_L_FAULT && l->act.rule.name[0])
                names->v[names->n++] = l->act.rule.name;
            else if (l->kind == SCN_L_EVENT && l->event.act.kind == SCN_ACT_FAULT &&
                     l->event.act.rule.name[0])
                names->v[names->n++] = l->event.act.rule.name;
        }
    }
    qsort(names->v, names->n, sizeof *names->v, scn_name_cmp);
    return 0;
}

static int scn_check_action(const struct scn_file *f, size_t idx, const struct scn_spec *s,
                            const struct scn_names *names, const struct scn_action *a, int line,
                            struct scn_error *err)
{
    const char *key = a->heal;
    int bad = a->stream > s->streams ? a->stream : 0;
    if (a->kind == SCN_ACT_HEAL && !a->heal_all &&
        !bsearch(&key, names->v, names->n, sizeof *names->v, scn_name_cmp))
        return scn_fail_at(err, f->path, line, a->heal_col,
                           "heal %s: no fault line of %s%s defines a rule named %s", a->heal,
                           idx ? "the base or variant " : "the base", idx ? s->variant : "",
                           a->heal);
    for (int i = 0; !bad && i < a->nstreams; i++)
        if (a->streams[i] > s->streams)
            bad = a->streams[i];
    if (bad && s->streams == 0)
        return scn_fail_at(err, f->path, line, a->stream_col,
                           "stream %d does not exist: the scenario has no streams (add streams N)",
                           bad);
    if (bad)
        return scn_fail_at(err, f->path, line, a->stream_col,
                           "stream %d does not exist: the scenario has streams 1..%d", bad,
                           s->streams);
    return 0;
}

static int scn_validate_refs(const struct scn_file *f, size_t idx, const struct scn_spec *s,
                             struct scn_error *err)
{
    struct scn_names names;
    int rc = scn_names_collect(f, idx, &names);
    for (size_t k = 0; !rc && k < (idx ? 2u : 1u); k++) {
        const struct scn_section *sec = &f->sections[k == 0 ? 0 : idx];
        for (size_t i = 0; !rc && i < sec->nlines; i++) {
            const struct scn_line *l = &sec->lines[i];
            if (l->kind == SCN_L_EVENT)
                rc = scn_check_action(f, idx, s, &names, &l->event.act, l->line, err);
            else if (l->kind == SCN_L_HEAL)
                rc = scn_check_action(f, idx, s, &names, &l->act, l->line, err);
        }
    }
    if (rc == ERR_NOMEM)
        scn_fail_at(err, f->path, 0, 0, "out of memory");
    free(names.v);
    return rc;
}

/* ---- limits: what a scenario may ask for (scenario.max.* knobs) ------------------------ */

/* Times an event fires before the deadline. */
static double scn_firings(const struct scn_event *e, int64_t deadline_us)
{
    int64_t end = e->until_us < deadline_us ? e->until_us : deadline_us;
    if (e->period_us <= 0)
        return e->at_us < deadline_us ? 1.0 : 0.0;
    return end > e->at_us ? ceil((double)(end - e->at_us) / (double)e->period_us) : 0.0;
}

/* Bytes one firing at at_us asks for: an append's bytes, a load's rate over
 * its run (up to until= or the deadline). */
static double scn_event_bytes(const struct scn_action *a, int64_t at_us, int64_t deadline_us)
{
    if (a->kind == SCN_ACT_APPEND)
        return (double)a->bytes;
    if (a->kind == SCN_ACT_LOAD) {
        int64_t end = a->until_us < deadline_us ? a->until_us : deadline_us;
        return end > at_us ? (double)a->rate * (double)(end - at_us) / ENV_USEC_PER_SEC : 0.0;
    }
    return 0.0;
}

static int scn_over(struct scn_error *err, const struct scn_file *f, int line, int col,
                    const char *what, const char *asked, const char *limit, const char *knob)
{
    return scn_fail_at(err, f->path, line, col,
                       "%s%s%s is above the limit of %s (raise it with set %s or --set %s=...)",
                       what, what[strlen(what) - 1] == '=' ? "" : " ", asked, limit, knob, knob);
}

static int scn_validate_limits(const struct scn_file *f, size_t idx, const struct scn_spec *s,
                               struct scn_error *err)
{
    const int64_t max_dl = conf_get(&s->conf, CONF_MAX_DEADLINE);
    const int64_t max_rate = conf_get(&s->conf, CONF_MAX_LOAD_RATE);
    const int64_t max_append = conf_get(&s->conf, CONF_MAX_APPEND_BYTES);
    const double max_total = (double)conf_get(&s->conf, CONF_MAX_WRITE_BYTES);
    char a[48], b[48];
    double total = 0;
    int total_line = 0, total_col = 0;
    for (size_t k = 0; k < (idx ? 2u : 1u); k++) {
        const struct scn_section *sec = &f->sections[k == 0 ? 0 : idx];
        for (size_t i = 0; i < sec->nlines; i++) {
            const struct scn_line *l = &sec->lines[i];
            if (l->kind == SCN_L_DEADLINE && l->deadline_us > max_dl)
                return scn_over(err, f, l->line, l->col, "deadline",
                                env_fmt_duration(l->deadline_us, a, sizeof a),
                                env_fmt_duration(max_dl, b, sizeof b), "scenario.max.deadline");
            if (l->kind != SCN_L_EVENT)
                continue;
            const struct scn_action *act = &l->event.act;
            if (act->kind == SCN_ACT_APPEND && act->bytes > max_append) {
                env_fmt_size((uint64_t)act->bytes, a, sizeof a);
                return scn_over(err, f, l->line, act->val_col, "append bytes=", a,
                                env_fmt_size((uint64_t)max_append, b, sizeof b),
                                "scenario.max.append.bytes");
            }
            if (act->kind == SCN_ACT_LOAD && act->rate > max_rate) {
                env_fmt_size((uint64_t)act->rate, a, sizeof a);
                env_fmt_size((uint64_t)max_rate, b, sizeof b);
                strncat(a, "/s", sizeof a - strlen(a) - 1);
                strncat(b, "/s", sizeof b - strlen(b) - 1);
                return scn_over(err, f, l->line, act->val_col, "load rate=", a, b,
                                "scenario.max.load.rate");
            }
            double n = scn_event_bytes(act, l->event.at_us, s->deadline_us) *
                       scn_firings(&l->event, s->deadline_us);
            if (n > 0 && total <= max_total) {
                total += n;
                total_line = l->line;
                total_col = act->val_col;
            }
        }
    }
    if (total > max_total) {
        env_fmt_size(total >= 1.8e19 ? UINT64_MAX : (uint64_t)total, a, sizeof a);
        return scn_fail_at(err, f->path, total_line, total_col,
                           "the appends and loads up to here ask for %s before the deadline, above "
                           "the limit of %s (raise it with set scenario.max.write.bytes or --set "
                           "scenario.max.write.bytes=...)",
                           a, env_fmt_size((uint64_t)max_total, b, sizeof b));
    }
    return 0;
}

/* ---- resolution ------------------------------------------------------------------------ */

static void scn_finish(struct scn_spec *s)
{
    s->last_action_us = 0;
    for (size_t i = 0; i < s->nevents; i++) {
        const struct scn_event *e = &s->events[i];
        int64_t end = e->at_us;
        if (e->period_us > 0)
            end = e->until_us;
        if (e->act.kind == SCN_ACT_LOAD && e->act.until_us > end)
            end = e->act.until_us;
        if (end > s->deadline_us)
            end = s->deadline_us;
        if (end > s->last_action_us)
            s->last_action_us = end;
    }
}

static int scn_apply_overrides(const struct scn_file *f, struct scn_spec *s,
                               const char *const *overrides, size_t n, struct scn_error *err)
{
    (void)f;
    for (size_t i = 0; i < n; i++) {
        char msg[CONF_ERR_MAX];
        if (conf_set_kv(&s->conf, overrides[i], msg, sizeof msg) != 0)
            return scn_fail_at(err, "--set", 0, 0, "%s: %s", overrides[i], msg);
    }
    return 0;
}

static int scn_add_implicit_kind(struct scn_build *b, enum scn_check_kind kind)
{
    struct scn_check c;
    memset(&c, 0, sizeof c);
    c.kind = kind;
    c.within_us = ENV_TIME_NEVER;
    c.at_us = ENV_TIME_NEVER;
    c.metric = -1;
    return scn_add_check(b, &c, false);
}

/* The checks every run has unless the file says otherwise (docs/checks.md):
 * no-hang; no-error-log unless the file has a `log error` line without
 * match= (it then says how many error lines it wants, or which it excepts)
 * or its own no-error-log line (the lines a `log ... match=` line names are
 * not counted: world.c); caught-up
 * when the file expects converged and has no caught-up line of its own;
 * reads-correct when the file has a read action and no reads-correct line of its own
 * (extension); failures-explained, writes-once and requests-counted unless the file has
 * its own line (extensions);
 * no-leak unless the file has its own no-leak line (extension); the vacuous
 * gate always, last. */
static int scn_add_implicit(struct scn_build *b)
{
    bool hang = false, errlog = false, conv = false, caught = false, reads = false;
    bool reads_chk = false, explained = false, leak = false;
    bool once = false, counted = false;
    int rc = 0;
    for (size_t i = 0; i < b->s->nevents; i++)
        reads |= b->s->events[i].act.kind == SCN_ACT_READ;
    for (size_t i = 0; i < b->s->nchecks; i++) {
        const struct scn_check *c = &b->s->checks[i];
        if (b->origin[i] == SCN_FROM_DROPPED)
            continue;
        hang |= c->kind == SCN_CHK_NO_HANG;
        errlog |= (c->kind == SCN_CHK_LOG && c->level == ENV_LOG_ERROR && !c->has_match) ||
                  (c->kind == SCN_CHK_NO_ERROR_LOG && c->at_us == ENV_TIME_NEVER);
        conv |= c->kind == SCN_CHK_CONVERGED && !c->expect_fail;
        caught |= c->kind == SCN_CHK_CAUGHT_UP && c->at_us == ENV_TIME_NEVER;
        reads_chk |= c->kind == SCN_CHK_READS_CORRECT && c->at_us == ENV_TIME_NEVER;
        explained |= c->kind == SCN_CHK_FAILURES_EXPLAINED;
        leak |= c->kind == SCN_CHK_NO_LEAK;
        once |= c->kind == SCN_CHK_WRITES_ONCE;
        counted |= c->kind == SCN_CHK_REQUESTS_COUNTED;
    }
    if (!hang)
        rc = scn_add_implicit_kind(b, SCN_CHK_NO_HANG);
    if (!rc && !errlog)
        rc = scn_add_implicit_kind(b, SCN_CHK_NO_ERROR_LOG);
    if (!rc && conv && !caught)
        rc = scn_add_implicit_kind(b, SCN_CHK_CAUGHT_UP);
    if (!rc && reads && !reads_chk)
        rc = scn_add_implicit_kind(b, SCN_CHK_READS_CORRECT);
    if (!rc && !explained)
        rc = scn_add_implicit_kind(b, SCN_CHK_FAILURES_EXPLAINED);
    if (!rc && !once)
        rc = scn_add_implicit_kind(b, SCN_CHK_WRITES_ONCE);
    if (!rc && !counted)
        rc = scn_add_implicit_kind(b, SCN_CHK_REQUESTS_COUNTED);
    if (!rc && !leak)
        rc = scn_add_implicit_kind(b, SCN_CHK_NO_LEAK);
    if (!rc)
        rc = scn_add_implicit_kind(b, SCN_CHK_VACUOUS);
    return rc;
}

/* Vacuity at check time: an action or a check at a moment after the
 * deadline would never happen, and the run would pass without it. */
static int scn_validate_times(const struct scn_file *f, const struct scn_spec *s,
                              struct scn_error *err)
{
    char d1[32], d2[32];
    for (size_t i = 0; i < s->nevents; i++) {
        const struct scn_event *e = &s->events[i];
        if (e->at_us > s->deadline_us)
            return scn_fail_at(err, f->path, e->line, e->col,
                               "%s at %s is after the deadline (%s): it would never run and the "
                               "run would judge a world without it (move it, or raise deadline)",
                               scn_act_name(e->act.kind), conf_format_duration(e->at_us, d1, 32),
                               conf_format_duration(s->deadline_us, d2, 32));
    }
    for (size_t i = 0; i < s->nchecks; i++) {
        const struct scn_check *c = &s->checks[i];
        if (c->at_us != ENV_TIME_NEVER && c->at_us > s->deadline_us)
            return scn_fail_at(err, f->path, c->line, c->at_col,
                               "at %s expect %s is after the deadline (%s): it would never be "
                               "judged", conf_format_duration(c->at_us, d1, 32),
                               scn_check_name(c->kind),
                               conf_format_duration(s->deadline_us, d2, 32));
    }
    return 0;
}

/* Drops the checks a variant replaced twice over. */
static void scn_compact_checks(struct scn_build *b)
{
    size_t k = 0;
    for (size_t i = 0; i < b->s->nchecks; i++)
        if (b->origin[i] != SCN_FROM_DROPPED)
            b->s->checks[k++] = b->s->checks[i];
    b->s->nchecks = k;
}

int scn_resolve_section(const struct scn_file *f, size_t idx, const char *const *overrides,
                        size_t noverrides, struct scn_spec *out, struct scn_error *err)
{
    return scn_resolve_section_opt(f, idx, overrides, noverrides, true, out, err);
}

int scn_resolve_section_opt(const struct scn_file *f, size_t idx, const char *const *overrides,
                            size_t noverrides, bool limits, struct scn_spec *out,
                            struct scn_error *err)
{
    struct scn_build b = {.s = out};
    int rc = 0;
    memset(out, 0, sizeof *out);
    snprintf(out->scenario, sizeof out->scenario, "%s", f->name);
    snprintf(out->variant, sizeof out->variant, "%s", f->sections[idx].name);
    snprintf(out->description, sizeof out->description, "%s", f->description);
    out->seed = 1;
    out->deadline_us = ENV_USEC_PER_HOUR;
    conf_init(&out->conf);
    for (size_t k = 0; k < 2 && !rc; k++) {
        const struct scn_section *sec = &f->sections[k == 0 ? 0 : idx];
        if (k == 1 && idx == 0)
            break;
        for (size_t i = 0; i < sec->nlines && !rc; i++)
            rc = scn_apply_line(&b, &sec->lines[i], k == 1);
    }
    if (!rc)
        rc = scn_add_implicit(&b);
    if (rc == ERR_NOMEM)
        scn_fail_at(err, f->path, 0, 0, "out of memory");
    if (!rc)
        scn_compact_checks(&b);
    if (!rc)
        rc = scn_apply_overrides(f, out, overrides, noverrides, err);
    if (!rc)
        rc = scn_validate_refs(f, idx, out, err);
    if (!rc && limits)
        rc = scn_validate_limits(f, idx, out, err);
    if (!rc)
        rc = scn_validate_times(f, out, err);
    free(b.origin);
    if (rc) {
        scn_spec_free(out);
        return rc == ERR_NOMEM ? rc : ERR_PARSE;
    }
    scn_finish(out);
    return 0;
}

int scn_resolve(const struct scn_file *f, const char *variant, const char *const *overrides,
                size_t noverrides, struct scn_spec *out, struct scn_error *err)
{
    memset(out, 0, sizeof *out);
    memset(err, 0, sizeof *err);
    if (!variant || strcmp(variant, "base") == 0)
        return scn_resolve_section(f, 0, overrides, noverrides, out, err);
    for (size_t i = 1; i < f->nsections; i++)
        if (strcmp(f->sections[i].name, variant) == 0)
            return scn_resolve_section(f, i, overrides, noverrides, out, err);
    scn_fail_at(err, f->path, 0, 0, "no variant named %s", variant);
    return ERR_NOTFOUND;
}

void scn_spec_free(struct scn_spec *s)
{
    free(s->events);
    free(s->faults);
    free(s->checks);
    s->events = NULL;
    s->faults = NULL;
    s->checks = NULL;
    s->nevents = s->nfaults = s->nchecks = 0;
}
