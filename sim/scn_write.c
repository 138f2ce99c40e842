/* scn_write.c - a scn_spec back into scenario text; spec comparison and copy (see scn_write.h). */
#include "scn_write.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "metric_names.h"

/* A growing text buffer; oom sticks once set. */
struct scnw_buf {
    char *p;
    size_t n, cap;
    bool oom;
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void scnw_put(struct scnw_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (b->oom)
        return;
    for (;;) {
        size_t room = b->cap - b->n;
        va_start(ap, fmt);
        n = vsnprintf(b->p ? b->p + b->n : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if ((size_t)n < room) {
            b->n += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap : 1024;
        while (cap - b->n <= (size_t)n)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
}

/* A quoted text value: "..." with \" and \\ as the only escapes. */
static void scnw_quoted(struct scnw_buf *b, const char *s)
{
    scnw_put(b, "\"");
    for (; *s; s++)
        scnw_put(b, "%s%c", *s == '"' || *s == '\\' ? "\\" : "", *s);
    scnw_put(b, "\"");
}

/* A glob or name: bare when it has no space, quote, backslash or '#'. */
static void scnw_word(struct scnw_buf *b, const char *s)
{
    if (s[0] && !s[strcspn(s, " \t\"\\#")])
        scnw_put(b, "%s", s);
    else
        scnw_quoted(b, s);
}

static const char *dur(int64_t us, char *buf)
{
    return conf_format_duration(us, buf, 48);
}

static const char *size(int64_t bytes, char *buf)
{
    return conf_format_size(bytes, "", buf, 48);
}

/* ---- knobs ---------------------------------------------------------------------------- */

/* A knob value as text the knob parser reads back to the same value. */
static void scnw_knob(struct scnw_buf *b, const struct conf *c, enum conf_id id)
{
    const struct conf_knob *k = conf_knob(id);
    char v[CONF_STR_MAX + 64];
    scnw_put(b, "set %s ", k->name);
    if (k->type == CONF_T_STRING) {
        scnw_quoted(b, conf_str(c, id));
    } else if (k->type == CONF_T_PROB) {
        int64_t ppb = conf_get(c, id);
        scnw_put(b, "%" PRId64 ".%09" PRId64, ppb / 1000000000, ppb % 1000000000);
    } else {
        scnw_put(b, "%s", conf_format(c, id, v, sizeof v));
    }
    scnw_put(b, "\n");
}

static void scnw_knobs(struct scnw_buf *b, const struct conf *c)
{
    struct conf def;
    /* The profile line first (when not the default); then what differs from its defaults. */
    conf_init_profile(&def, (enum conf_profile)conf_get(c, CONF_PROFILE));
    if (conf_get(c, CONF_PROFILE) != CONF_PROFILE_AUTOMQ)
        scnw_knob(b, c, CONF_PROFILE);
    for (int id = 0; id < CONF_COUNT; id++) {
        if (id == CONF_PROFILE)
            continue;
        bool str = conf_knob((enum conf_id)id)->type == CONF_T_STRING;
        if (str ? strcmp(def.str[id], c->str[id]) != 0 : def.v[id] != c->v[id])
            scnw_knob(b, c, (enum conf_id)id);
    }
}

/* ---- actions -------------------------------------------------------------------------- */

static void scnw_stream(struct scnw_buf *b, const char *key, int stream)
{
    if (stream == 0)
        scnw_put(b, " %s=all", key);
    else
        scnw_put(b, " %s=%d", key, stream);
}

static void scnw_load(struct scnw_buf *b, const struct scn_action *a)
{
    char t[48];
    scnw_put(b, " rate=%s", conf_format_size(a->rate, "/s", t, sizeof t));
    if (a->record != 1024)
        scnw_put(b, " record=%s", size(a->record, t));
    for (int i = 0; i < a->nstreams; i++)
        scnw_put(b, "%s%d", i ? "," : " streams=", a->streams[i]);
    if (a->until_us != ENV_TIME_NEVER)
        scnw_put(b, " until=%s", dur(a->until_us, t));
}

/* " KEY=OFFSET" or " KEY=P%" of trim's to= and read's from=. */
static void scnw_offset(struct scnw_buf *b, const char *key, int64_t offset, int32_t ppm)
{
    if (ppm < 0) {
        scnw_put(b, " %s=%" PRId64, key, offset);
        return;
    }
    /* ppm / 10^4 is the percentage; up to 4 decimals, trailing zeros cut. */
    char frac[8];
    int n = snprintf(frac, sizeof frac, "%04d", (int)(ppm % 10000));
    while (n > 0 && frac[n - 1] == '0')
        frac[--n] = '\0';
    scnw_put(b, " %s=%d%s%s%%", key, (int)(ppm / 10000), n ? "." : "", frac);
}

static void scnw_trim(struct scnw_buf *b, const struct scn_action *a)
{
    scnw_stream(b, "stream", a->stream);
    scnw_offset(b, "to", a->to_offset, a->to_ppm);
}

static void scnw_read(struct scnw_buf *b, const struct scn_action *a)
{
    char t[48];
    scnw_stream(b, "stream", a->stream);
    if (a->from_offset >= 0 || a->from_ppm >= 0)
        scnw_offset(b, "from", a->from_offset, a->from_ppm);
    if (a->bytes > 0)
        scnw_put(b, " bytes=%s", size(a->bytes, t));
}

static void scnw_race_put(struct scnw_buf *b, const struct scn_action *a)
{
    char t[48];
    if (a->key[0]) {
        scnw_put(b, " key=");
        scnw_word(b, a->key);
    } else if (a->put_next && a->put_id > 0) {
        scnw_put(b, " id=next+%" PRId64, a->put_id);
    } else if (a->put_next) {
        scnw_put(b, " id=next");
    } else {
        scnw_put(b, " id=%" PRId64, a->put_id);
    }
    if (a->bytes != 1024)
        scnw_put(b, " bytes=%s", size(a->bytes, t));
}

static void scnw_race(struct scnw_buf *b, const struct scn_action *a)
{
    static const char *const targets[] = {"live", "marked", "composite",
                                          "linked", "prepared", "any"};
    scnw_put(b, " target=%s", (unsigned)a->race <= SCN_RACE_ANY ? targets[a->race] : "any");
    if (strcmp(a->key, "*") != 0) {
        scnw_put(b, " key=");
        scnw_word(b, a->key);
    }
    if (a->count != 1)
        scnw_put(b, " count=%" PRId64, a->count);
}

static void scnw_action(struct scnw_buf *b, const struct scn_action *a)
{
    static const char *const nodes[] = {"broker", "controller", "all"};
    char t[48], rule[600];
    if (a->kind == SCN_ACT_FAULT) {
        scnw_put(b, "%s", scn_rule_format(&a->rule, rule, sizeof rule));
        return;
    }
    scnw_put(b, "%s", scn_act_name(a->kind));
    switch (a->kind) {
    case SCN_ACT_APPEND:
        scnw_stream(b, "stream", a->stream);
        scnw_put(b, " bytes=%s", size(a->bytes, t));
        if (a->record != 1024)
            scnw_put(b, " record=%s", size(a->record, t));
        if (a->gap != 0)
            scnw_put(b, " gap=%" PRId64, a->gap);
        break;
    case SCN_ACT_LOAD: scnw_load(b, a); break;
    case SCN_ACT_TRIM: scnw_trim(b, a); break;
    case SCN_ACT_DELETE_STREAM: scnw_stream(b, "stream", a->stream); break;
    case SCN_ACT_COMPACT:
        scnw_put(b, " %s%s", a->compact == SCN_COMPACT_SSO ? "sso" : "stream",
                 a->force ? " force" : "");
        break;
    case SCN_ACT_CRASH:
        if (a->node != SCN_NODE_BROKER)
            scnw_put(b, " node=%s", (unsigned)a->node <= SCN_NODE_ALL ? nodes[a->node] : "all");
        if (a->restart_after_us != ENV_USEC_PER_SEC)
            scnw_put(b, " restart_after=%s", dur(a->restart_after_us, t));
        break;
    case SCN_ACT_RACE_DELETE: scnw_race(b, a); break;
    case SCN_ACT_READ: scnw_read(b, a); break;
    case SCN_ACT_RACE_PUT: scnw_race_put(b, a); break;
    case SCN_ACT_HEAL:
        scnw_put(b, " ");
        if (a->heal_all)
            scnw_put(b, "all");
        else
            scnw_word(b, a->heal);
        break;
    case SCN_ACT_FAULT: break;
    }
}

static void scnw_event(struct scnw_buf *b, const struct scn_event *e)
{
    char t[48];
    if (e->period_us > 0) {
        scnw_put(b, "every %s", dur(e->period_us, t));
        if (e->at_us > 0)
            scnw_put(b, " from=%s", dur(e->at_us, t));
        if (e->until_us != ENV_TIME_NEVER)
            scnw_put(b, " until=%s", dur(e->until_us, t));
    } else {
        scnw_put(b, "at %s", dur(e->at_us, t));
    }
    scnw_put(b, " ");
    scnw_action(b, &e->act);
    scnw_put(b, "\n");
}

/* ---- checks --------------------------------------------------------------------------- */

static void scnw_check(struct scnw_buf *b, const struct scn_check *c)
{
    char t[48];
    if (c->at_us != ENV_TIME_NEVER)
        scnw_put(b, "at %s ", dur(c->at_us, t));
    scnw_put(b, "%s %s", c->expect_fail ? "expect-fail" : "expect", scn_check_name(c->kind));
    switch (c->kind) {
    case SCN_CHK_CONVERGED:
        if (c->within_us != ENV_TIME_NEVER)
            scnw_put(b, " within=%s", dur(c->within_us, t));
        break;
    case SCN_CHK_MEMORY: scnw_put(b, " %s %s", scn_cmp_name(c->cmp), size(c->value, t)); break;
    case SCN_CHK_LOG:
        scnw_put(b, " %s", env_level_name(c->level));
        if (c->has_match) {
            scnw_put(b, " match=");
            scnw_quoted(b, c->match);
        }
        scnw_put(b, " count %s %" PRId64, scn_cmp_name(c->cmp), c->value);
        break;
    case SCN_CHK_METRIC:
        scnw_put(b, " %s %s %" PRId64, metric_name(c->metric), scn_cmp_name(c->cmp), c->value);
        break;
    case SCN_CHK_NO_HANG:
        if (c->has_match) {
            scnw_put(b, " match=");
            scnw_quoted(b, c->match);
        }
        break;
    default: break;
    }
    scnw_put(b, "\n");
}

char *scnw_text(const struct scn_spec *s)
{
    struct scnw_buf b = {0};
    char t[48], rule[600];
    scnw_put(&b, "scenario %s\n", s->scenario);
    if (s->description[0]) {
        scnw_put(&b, "description ");
        scnw_quoted(&b, s->description);
        scnw_put(&b, "\n");
    }
    scnw_put(&b, "seed %" PRIu64 "\n", s->seed);
    if (s->have_seeds)
        scnw_put(&b, "seeds %" PRIu64 "..%" PRIu64 "\n", s->seeds_lo, s->seeds_hi);
    if (s->swarm)
        scnw_put(&b, "swarm\n");
    scnw_put(&b, "deadline %s\n", dur(s->deadline_us, t));
    scnw_knobs(&b, &s->conf);
    scnw_put(&b, "streams %d\n", s->streams);
    if (s->nfaults)
        scnw_put(&b, "\n");
    for (size_t i = 0; i < s->nfaults; i++)
        scnw_put(&b, "%s\n", scn_rule_format(&s->faults[i], rule, sizeof rule));
    if (s->nevents)
        scnw_put(&b, "\n");
    for (size_t i = 0; i < s->nevents; i++)
        scnw_event(&b, &s->events[i]);
    scnw_put(&b, "\n");
    for (size_t i = 0; i < s->nchecks; i++)
        if (s->checks[i].line != 0 || s->checks[i].expect_fail)
            scnw_check(&b, &s->checks[i]);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* ---- comparison ----------------------------------------------------------------------- */

static bool scnw_rule_same(const struct fs3_rule *a, const struct fs3_rule *b)
{
    return strcmp(a->name, b->name) == 0 && a->op == b->op &&
           strcmp(a->key_glob, b->key_glob) == 0 && a->kind_mask == b->kind_mask &&
           a->job_mask == b->job_mask &&
           a->match == b->match && a->n == b->n && a->prob == b->prob && a->times == b->times &&
           a->from_us == b->from_us && a->until_us == b->until_us && a->effect == b->effect &&
           a->status == b->status && a->code == b->code && a->delay_us == b->delay_us &&
           a->stale_us == b->stale_us;
}

static bool scnw_action_same(const struct scn_action *a, const struct scn_action *b)
{
    if (a->kind != b->kind || a->stream != b->stream || a->bytes != b->bytes ||
        a->record != b->record || a->gap != b->gap || a->rate != b->rate ||
        a->nstreams != b->nstreams || a->until_us != b->until_us ||
        a->to_offset != b->to_offset || a->to_ppm != b->to_ppm || a->compact != b->compact ||
        a->force != b->force || a->node != b->node || a->restart_after_us != b->restart_after_us ||
        a->race != b->race || strcmp(a->key, b->key) != 0 || a->count != b->count ||
        strcmp(a->heal, b->heal) != 0 || a->heal_all != b->heal_all)
        return false;
    for (int i = 0; i < a->nstreams && i < SCN_MAX_LIST; i++)
        if (a->streams[i] != b->streams[i])
            return false;
    return a->kind != SCN_ACT_FAULT || scnw_rule_same(&a->rule, &b->rule);
}

static bool scnw_check_same(const struct scn_check *a, const struct scn_check *b)
{
    return a->kind == b->kind && a->expect_fail == b->expect_fail && a->within_us == b->within_us &&
           a->cmp == b->cmp && a->value == b->value && a->level == b->level &&
           a->has_match == b->has_match && strcmp(a->match, b->match) == 0 &&
           a->metric == b->metric;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static bool scnw_differ(char *why, size_t whysz, const char *fmt, ...)
{
    va_list ap;
    if (why && whysz) {
        va_start(ap, fmt);
        vsnprintf(why, whysz, fmt, ap);
        va_end(ap);
    }
    return false;
}

static bool scnw_conf_same(const struct conf *a, const struct conf *b, char *why, size_t whysz)
{
    for (int id = 0; id < CONF_COUNT; id++) {
        bool str = conf_knob((enum conf_id)id)->type == CONF_T_STRING;
        if (str ? strcmp(a->str[id], b->str[id]) != 0 : a->v[id] != b->v[id])
            return scnw_differ(why, whysz, "knob %s differs", conf_knob((enum conf_id)id)->name);
    }
    return true;
}

bool scnw_same(const struct scn_spec *a, const struct scn_spec *b, char *why, size_t whysz)
{
    if (strcmp(a->scenario, b->scenario) != 0 || strcmp(a->description, b->description) != 0)
        return scnw_differ(why, whysz, "scenario name or description differs");
    if (a->seed != b->seed || a->deadline_us != b->deadline_us || a->streams != b->streams)
        return scnw_differ(why, whysz, "seed, deadline or streams differs");
    if (a->swarm != b->swarm || a->have_seeds != b->have_seeds || a->seeds_lo != b->seeds_lo ||
        a->seeds_hi != b->seeds_hi)
        return scnw_differ(why, whysz, "swarm or seeds differs");
    if (a->last_action_us != b->last_action_us)
        return scnw_differ(why, whysz, "last action time differs");
    if (!scnw_conf_same(&a->conf, &b->conf, why, whysz))
        return false;
    if (a->nevents != b->nevents)
        return scnw_differ(why, whysz, "%zu events against %zu", a->nevents, b->nevents);
    for (size_t i = 0; i < a->nevents; i++) {
        const struct scn_event *x = &a->events[i], *y = &b->events[i];
        if (x->at_us != y->at_us || x->period_us != y->period_us || x->until_us != y->until_us ||
            !scnw_action_same(&x->act, &y->act))
            return scnw_differ(why, whysz, "event %zu (line %d) differs", i + 1, x->line);
    }
    if (a->nfaults != b->nfaults)
        return scnw_differ(why, whysz, "%zu faults against %zu", a->nfaults, b->nfaults);
    for (size_t i = 0; i < a->nfaults; i++)
        if (!scnw_rule_same(&a->faults[i], &b->faults[i]))
            return scnw_differ(why, whysz, "fault %zu (line %d) differs", i + 1, a->faults[i].line);
    if (a->nchecks != b->nchecks)
        return scnw_differ(why, whysz, "%zu checks against %zu", a->nchecks, b->nchecks);
    for (size_t i = 0; i < a->nchecks; i++)
        if (!scnw_check_same(&a->checks[i], &b->checks[i]))
            return scnw_differ(why, whysz, "check %zu (line %d) differs", i + 1, a->checks[i].line);
    return true;
}

/* ---- copy and reparse ----------------------------------------------------------------- */

static void *scnw_dup(const void *p, size_t n, size_t elem, bool *oom)
{
    void *q;
    if (n == 0)
        return NULL;
    q = malloc(n * elem);
    if (!q)
        *oom = true;
    else
        memcpy(q, p, n * elem);
    return q;
}

int scnw_copy(struct scn_spec *dst, const struct scn_spec *src)
{
    bool oom = false;
    *dst = *src;
    dst->events = scnw_dup(src->events, src->nevents, sizeof *src->events, &oom);
    dst->faults = scnw_dup(src->faults, src->nfaults, sizeof *src->faults, &oom);
    dst->checks = scnw_dup(src->checks, src->nchecks, sizeof *src->checks, &oom);
    if (oom) {
        scn_spec_free(dst);
        return ERR_NOMEM;
    }
    return 0;
}

int scnw_reparse(const struct scn_spec *spec, const char *name, struct scn_spec *out,
                 struct scn_error *err)
{
    struct scn_file *f = NULL;
    char *text = scnw_text(spec);
    int rc;
    memset(out, 0, sizeof *out);
    memset(err, 0, sizeof *err);
    if (!text) {
        snprintf(err->file, sizeof err->file, "%s", name);
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return ERR_NOMEM;
    }
    rc = scn_parse_buf(name, text, strlen(text), &f, err);
    free(text);
    if (rc == 0)
        rc = scn_resolve(f, NULL, NULL, 0, out, err);
    scn_free(f);
    return rc;
}
