/* scn_check.c - expect / expect-fail lines and the name tables (see scn_int.h). */
#include "scn_int.h"

#include "err.h"
#include "metric_names.h"

#include <stdio.h>
#include <string.h>

static const char *const scn_check_names[] = {
#define SCN_CHK_NAME_(e, s) s,
    SCN_CHECK_TABLE(SCN_CHK_NAME_)
#undef SCN_CHK_NAME_
};

static const char *const scn_cmp_names[] = {"==", "<=", ">=", "<", ">"};

static const char *const scn_act_names[] = {"append",  "load",  "trim",        "delete-stream",
                                            "compact", "crash", "race-delete", "fault",
                                            "heal",    "read",  "race-put"};

const char *scn_check_name(enum scn_check_kind kind)
{
    return (unsigned)kind < SCN_CHK_COUNT ? scn_check_names[kind] : "?";
}

const char *scn_cmp_name(enum scn_cmp cmp)
{
    return (unsigned)cmp <= SCN_CMP_GT ? scn_cmp_names[cmp] : "?";
}

const char *scn_act_name(enum scn_act_kind kind)
{
    return (unsigned)kind <= SCN_ACT_RACE_PUT ? scn_act_names[kind] : "?";
}

bool scn_cmp_holds(enum scn_cmp cmp, int64_t value, int64_t limit)
{
    switch (cmp) {
    case SCN_CMP_EQ: return value == limit;
    case SCN_CMP_LE: return value <= limit;
    case SCN_CMP_GE: return value >= limit;
    case SCN_CMP_LT: return value < limit;
    case SCN_CMP_GT: return value > limit;
    }
    return false;
}

bool scn_check_same(const struct scn_check *a, const struct scn_check *b)
{
    if (a->kind != b->kind || a->at_us != b->at_us)
        return false;
    if (a->kind == SCN_CHK_LOG)
        return a->level == b->level && a->has_match == b->has_match &&
               strcmp(a->match, b->match) == 0 && a->has_except == b->has_except &&
               strcmp(a->except, b->except) == 0;
    if (a->kind == SCN_CHK_METRIC)
        return a->metric == b->metric;
    return true;
}

/* ---- parts ------------------------------------------------------------------------ */

/* The positional word i of g, or an error saying what was expected there. */
static const struct scn_tok *scn_pos(struct scn_ctx *cx, const struct scn_args *g, int i,
                                     const char *expected)
{
    if (i < g->npos)
        return g->pos[i];
    scn_fail(cx, cx->end_col, "expected %s", expected);
    return NULL;
}

static int scn_cmp_word(struct scn_ctx *cx, const struct scn_tok *t, enum scn_cmp *out)
{
    for (int i = 0; i <= SCN_CMP_GT; i++)
        if (strcmp(t->text, scn_cmp_names[i]) == 0) {
            *out = (enum scn_cmp)i;
            return 0;
        }
    return scn_fail(cx, t->col, "expected a comparison (==, <=, >=, <, >), found '%s'", t->text);
}

static int scn_level_word(struct scn_ctx *cx, const struct scn_tok *t, enum env_level *out)
{
    static const char *const levels[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcmp(t->text, levels[i]) == 0) {
            *out = (enum env_level)i;
            return 0;
        }
    return scn_fail(cx, t->col, "expected a log level (error, warn, info, debug), found '%s'",
                    t->text);
}

static int scn_no_more_pos(struct scn_ctx *cx, const struct scn_args *g, int n)
{
    if (g->npos > n)
        return scn_fail(cx, g->pos[n]->col, "unexpected '%s' at the end of the check",
                        g->pos[n]->text);
    return 0;
}

/* ---- the checks with arguments ------------------------------------------------------ */

static int scn_chk_memory(struct scn_ctx *cx, const struct scn_args *g, struct scn_check *c)
{
    const struct scn_tok *op = scn_pos(cx, g, 0, "a comparison and a size: memory <= SIZE");
    const struct scn_tok *v;
    if (!op || scn_cmp_word(cx, op, &c->cmp))
        return ERR_PARSE;
    v = scn_pos(cx, g, 1, "a size such as 200MiB");
    if (!v || scn_val_size(cx, v, &c->value))
        return ERR_PARSE;
    return scn_no_more_pos(cx, g, 2);
}

static int scn_chk_log(struct scn_ctx *cx, const struct scn_args *g, struct scn_check *c)
{
    const struct scn_tok *t = scn_pos(cx, g, 0, "a log level (error, warn, info, debug)");
    if (!t || scn_level_word(cx, t, &c->level))
        return ERR_PARSE;
    if (g->named[0]) {
        c->has_match = true;
        if (scn_val_text(cx, g->named[0], c->match, sizeof c->match, "match="))
            return ERR_PARSE;
    }
    if (g->named[1]) {
        c->has_except = true;
        if (scn_val_text(cx, g->named[1], c->except, sizeof c->except, "except="))
            return ERR_PARSE;
        if (!c->except[0] || strstr(c->except, "||") || c->except[0] == '|' ||
            c->except[strlen(c->except) - 1] == '|')
            return scn_fail(cx, g->named[1]->col, "except= holds texts separated by '|', none "
                                                  "of them empty");
    }
    t = scn_pos(cx, g, 1, "count OP N");
    if (!t)
        return ERR_PARSE;
    if (strcmp(t->text, "count") != 0)
        return scn_fail(cx, t->col, "expected count (log LEVEL [match=\"TEXT\"] count OP N), "
                                    "found '%s'", t->text);
    t = scn_pos(cx, g, 2, "a comparison (==, <=, >=, <, >)");
    if (!t || scn_cmp_word(cx, t, &c->cmp))
        return ERR_PARSE;
    t = scn_pos(cx, g, 3, "a number");
    if (!t || scn_val_int(cx, t, INT64_MIN, INT64_MAX, &c->value))
        return ERR_PARSE;
    return scn_no_more_pos(cx, g, 4);
}

static int scn_chk_metric(struct scn_ctx *cx, const struct scn_args *g, struct scn_check *c)
{
    const struct scn_tok *t = scn_pos(cx, g, 0, "a metric name (see s3sim knobs --metrics)");
    if (!t)
        return ERR_PARSE;
    c->metric = metric_index(t->text);
    if (c->metric < 0)
        return scn_fail(cx, t->col, "unknown metric '%s' (see s3sim knobs --metrics)", t->text);
    t = scn_pos(cx, g, 1, "a comparison (==, <=, >=, <, >)");
    if (!t || scn_cmp_word(cx, t, &c->cmp))
        return ERR_PARSE;
    t = scn_pos(cx, g, 2, "a number");
    if (!t || scn_val_int(cx, t, INT64_MIN, INT64_MAX, &c->value))
        return ERR_PARSE;
    return scn_no_more_pos(cx, g, 3);
}

int scn_parse_check(struct scn_ctx *cx, int from, bool expect_fail, struct scn_check *c)
{
    static const char *const no_keys[] = {NULL};
    static const char *const conv_keys[] = {"within", NULL};
    static const char *const log_keys[] = {"match", NULL};
    static const char *const log_line_keys[] = {"match", "except", NULL};
    const struct scn_tok *t;
    struct scn_args g;
    int kind = -1;
    memset(c, 0, sizeof *c);
    c->expect_fail = expect_fail;
    c->line = cx->line;
    c->within_us = ENV_TIME_NEVER;
    c->metric = -1;
    c->at_us = ENV_TIME_NEVER;
    if (from >= cx->ntok)
        return scn_fail(cx, cx->end_col, "expected a check (no-hang, converged, no-orphans, "
                                         "no-missing, no-dangling-uploads, no-data-loss, "
                                         "memory, log, metric, no-error-log, caught-up, "
                                         "image-consistent)");
    t = &cx->toks[from];
    for (int i = 0; i < SCN_CHK_COUNT; i++)
        if (strcmp(t->text, scn_check_names[i]) == 0)
            kind = i;
    if (kind < 0)
        return scn_fail(cx, t->col, "unknown check '%s' (expected no-hang, converged, "
                                    "no-orphans, no-missing, no-dangling-uploads, no-data-loss, "
                                    "memory, log, metric, no-error-log, caught-up, "
                                    "image-consistent, reads-correct, failures-explained, "
                                    "no-leak, writes-once, requests-counted)",
                        t->text);
    if (kind == SCN_CHK_VACUOUS)
        return scn_fail(cx, t->col, "vacuous is a gate the bench always applies, not a check a "
                                    "file can expect");
    c->kind = (enum scn_check_kind)kind;
    c->col = t->col;
    if (scn_args_split(cx, from + 1,
                       kind == SCN_CHK_CONVERGED                         ? conv_keys
                       : kind == SCN_CHK_LOG ? log_line_keys
                       : kind == SCN_CHK_NO_HANG ? log_keys
                                                                         : no_keys,
                       t->text, &g))
        return ERR_PARSE;
    switch (c->kind) {
    case SCN_CHK_MEMORY: return scn_chk_memory(cx, &g, c);
    case SCN_CHK_LOG: return scn_chk_log(cx, &g, c);
    case SCN_CHK_METRIC: return scn_chk_metric(cx, &g, c);
    case SCN_CHK_CONVERGED:
        if (g.named[0] && scn_val_duration(cx, g.named[0], &c->within_us))
            return ERR_PARSE;
        return scn_no_more_pos(cx, &g, 0);
    case SCN_CHK_NO_HANG:
        /* expect-fail no-hang match="TEXT": the run hangs, and a wait pending then says
         * TEXT (the hang report names what the engine waits for). */
        if (g.named[0]) {
            if (!expect_fail)
                return scn_fail(cx, g.named[0]->col, "match= goes with expect-fail no-hang (the "
                                "text of a wait pending at the hang)");
            c->has_match = true;
            if (scn_val_text(cx, g.named[0], c->match, sizeof c->match, "match="))
                return ERR_PARSE;
        }
        return scn_no_more_pos(cx, &g, 0);
    default: return scn_no_more_pos(cx, &g, 0);
    }
}
