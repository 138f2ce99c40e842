/* scn_act.c - actions, fault rules and checks of scenario lines (see scn_int.h). */
#include "scn_int.h"

#include "err.h"
#include "mdc.h"
#include "metric_names.h"
#include "s3.h"

#include <stdio.h>
#include <string.h>

#define SCN_OPS_LIST                                                                               \
    "get, head, put, list, delete, delete-many, mpu-create, mpu-part, mpu-copy, mpu-complete, "    \
    "mpu-abort, list-uploads, any, rpc-prepare, rpc-commit-sso, rpc-commit-stream, rpc-trim, "     \
    "rpc-delete-stream"
#define SCN_EFFECTS_LIST \
    "status=CODE, timeout, lost, stall, delay=D, partial, stale=D, reset, corrupt, late=D, " \
    "error=CODE"

/* ---- small parts ------------------------------------------------------------------ */

/* stream=ID|all into *stream (0 = all). */
static int scn_stream_arg(struct scn_ctx *cx, const struct scn_tok *t, bool all_ok, int *stream)
{
    int64_t v;
    if (all_ok && strcmp(scn_vtext(t), "all") == 0) {
        *stream = 0;
        return 0;
    }
    if (scn_val_int(cx, t, 1, SCN_MAX_STREAMS, &v))
        return ERR_PARSE;
    *stream = (int)v;
    return 0;
}

/* streams=all|ID,ID.. of load. */
static int scn_streams_list(struct scn_ctx *cx, const struct scn_tok *t, struct scn_action *a)
{
    const char *v = scn_vtext(t);
    int col = scn_vcol(t);
    if (strcmp(v, "all") == 0)
        return 0;
    for (;;) {
        char num[32];
        size_t n = strcspn(v, ",");
        int64_t id;
        char msg[CONF_ERR_MAX];
        if (n == 0 || n >= sizeof num)
            return scn_fail(cx, col, "expected all or a list of stream ids such as 1,2,3");
        memcpy(num, v, n);
        num[n] = '\0';
        if (conf_parse_int(num, &id, msg, sizeof msg) != 0)
            return scn_fail(cx, col, "expected a stream id: %s", msg);
        if (id < 1 || id > SCN_MAX_STREAMS)
            return scn_fail(cx, col, "expected a stream id from 1 to %d, found %lld",
                            SCN_MAX_STREAMS, (long long)id);
        if (a->nstreams == SCN_MAX_LIST)
            return scn_fail(cx, col, "at most %d stream ids in streams= (or use all)",
                            SCN_MAX_LIST);
        a->streams[a->nstreams++] = (int)id;
        col += (int)n + 1;
        if (!v[n])
            return 0;
        v += n + 1;
    }
}

/* A required named argument. */
static int scn_need(struct scn_ctx *cx, const struct scn_tok *t, const char *key,
                    const char *what)
{
    if (!t)
        return scn_fail(cx, cx->end_col, "%s needs %s=", what, key);
    return 0;
}

/* No positional word beyond the n expected ones. */
static int scn_no_more(struct scn_ctx *cx, const struct scn_args *a, int n, const char *what)
{
    if (a->npos > n)
        return scn_fail(cx, a->pos[n]->col, "unexpected '%s' in %s", a->pos[n]->text, what);
    return 0;
}

/* ---- actions --------------------------------------------------------------------- */

static int scn_act_append(struct scn_ctx *cx, int from, struct scn_action *a)
{
    static const char *const keys[] = {"stream", "bytes", "record", "gap", NULL};
    struct scn_args g;
    int rc = scn_args_split(cx, from, keys, "append", &g);
    if (!rc)
        rc = scn_no_more(cx, &g, 0, "append");
    if (!rc)
        rc = scn_need(cx, g.named[0], "stream", "append");
    if (!rc)
        rc = scn_need(cx, g.named[1], "bytes", "append");
    if (!rc && (rc = scn_stream_arg(cx, g.named[0], true, &a->stream)) == 0)
        a->stream_col = g.named[0]->col;
    if (!rc && (rc = scn_val_size(cx, g.named[1], &a->bytes)) == 0)
        a->val_col = scn_vcol(g.named[1]);
    if (!rc && g.named[2] && (rc = scn_val_size(cx, g.named[2], &a->record)) == 0 &&
        a->record == 0)
        rc = scn_fail(cx, scn_vcol(g.named[2]), "record= must be above 0");
    if (!rc && g.named[3])
        rc = scn_val_int(cx, g.named[3], 0, INT64_MAX / 2, &a->gap);
    return rc;
}

static int scn_act_load(struct scn_ctx *cx, int from, int64_t at_us, struct scn_action *a)
{
    static const char *const keys[] = {"rate", "record", "streams", "until", NULL};
    struct scn_args g;
    int rc = scn_args_split(cx, from, keys, "load", &g);
    if (!rc)
        rc = scn_no_more(cx, &g, 0, "load");
    if (!rc)
        rc = scn_need(cx, g.named[0], "rate", "load");
    if (!rc) {
        char msg[CONF_ERR_MAX];
        if (conf_parse_rate(scn_vtext(g.named[0]), false, &a->rate, msg, sizeof msg) != 0)
            rc = scn_fail(cx, scn_vcol(g.named[0]), "%s", msg);
        else if (a->rate == 0)
            rc = scn_fail(cx, scn_vcol(g.named[0]), "rate= must be above 0");
        a->val_col = scn_vcol(g.named[0]);
    }
    if (!rc && g.named[1] && (rc = scn_val_size(cx, g.named[1], &a->record)) == 0 &&
        a->record == 0)
        rc = scn_fail(cx, scn_vcol(g.named[1]), "record= must be above 0");
    if (!rc && g.named[2] && (rc = scn_streams_list(cx, g.named[2], a)) == 0)
        a->stream_col = g.named[2]->col;
    if (!rc && g.named[3] && (rc = scn_val_duration(cx, g.named[3], &a->until_us)) == 0 &&
        a->until_us <= at_us)
        rc = scn_fail(cx, scn_vcol(g.named[3]), "until= must be later than the action's time");
    return rc;
}

/* OFFSET|P% of trim's to= and read's from=: *offset or *ppm is set, the other stays -1. */
static int scn_offset_or_pct(struct scn_ctx *cx, const struct scn_tok *t, int64_t *offset,
                             int32_t *ppm)
{
    const char *v = scn_vtext(t);
    size_t n = strlen(v);
    if (n > 0 && v[n - 1] == '%') {
        double p;
        char msg[CONF_ERR_MAX];
        if (conf_parse_prob(v, &p, msg, sizeof msg) != 0)
            return scn_fail(cx, scn_vcol(t), "expected an offset or P%%: %s", msg);
        *ppm = (int32_t)(p * 1e6 + 0.5);
        return 0;
    }
    return scn_val_int(cx, t, 0, INT64_MAX, offset);
}

static int scn_act_trim(struct scn_ctx *cx, int from, struct scn_action *a)
{
    static const char *const keys[] = {"stream", "to", NULL};
    struct scn_args g;
    int rc = scn_args_split(cx, from, keys, "trim", &g);
    if (!rc)
        rc = scn_no_more(cx, &g, 0, "trim");
    if (!rc)
        rc = scn_need(cx, g.named[0], "stream", "trim");
    if (!rc)
        rc = scn_need(cx, g.named[1], "to", "trim");
    if (!rc && (rc = scn_stream_arg(cx, g.named[0], false, &a->stream)) == 0)
        a->stream_col = g.named[0]->col;
    if (rc)
        return rc;
    return scn_offset_or_pct(cx, g.named[1], &a->to_offset, &a->to_ppm);
}

static int scn_act_delete_stream(struct scn_ctx *cx, int from, struct scn_action *a)
{
    static const char *const keys[] = {"stream", NULL};
    struct scn_args g;
    int rc = scn_args_split(cx, from, keys, "delete-stream", &g);
    if (!rc)
        rc = scn_no_more(cx, &g, 0, "delete-stream");
    if (!rc)
        rc = scn_need(cx, g.named[0], "stream", "delete-stream");
    if (!rc && (rc = scn_stream_arg(cx, g.named[0], false, &a->stream)) == 0)
        a->stream_col = g.named[0]->col;
    return rc;
}

static int scn_act_compact(struct scn_ctx *cx, int from, struct scn_action *a)
{
    struct scn_args g;
    int rc = scn_args_split(cx, from, NULL, "compact", &g);
    if (rc)
        return rc;
    if (g.npos == 0)
        return scn_fail(cx, cx->end_col, "compact needs sso or stream");
    if (strcmp(g.pos[0]->text, "sso") == 0)
        a->compact = SCN_COMPACT_SSO;
    else if (strcmp(g.pos[0]->text, "stream") == 0)
        a->compact = SCN_COMPACT_STREAM;
    else
        return scn_fail(cx, g.pos[0]->col, "expected sso or stream, found '%s'", g.pos[0]->text);
    if (g.npos > 1 && strcmp(g.pos[1]->text, "force") == 0)
        a->force = true;
    else if (g.npos > 1)
        return scn_fail(cx, g.pos[1]->col, "expected force or the end of the line, found '%s'",
                        g.pos[1]->text);
    return scn_no_more(cx, &g, 2, "compact");
}

static int scn_act_crash(struct scn_ctx *cx, int from, struct scn_action *a)
{
    static const char *const keys[] = {"node", "restart_after", NULL};
    struct scn_args g;
    int rc = scn_args_split(cx, from, keys, "crash", &g);
    if (!rc)
        rc = scn_no_more(cx, &g, 0, "crash");
    if (!rc && g.named[0]) {
        const char *v = scn_vtext(g.named[0]);
        if (strcmp(v, "broker") == 0)
            a->node = SCN_NODE_BROKER;
        else if (strcmp(v, "controller") == 0)
            a->node = SCN_NODE_CONTROLLER;
        else if (strcmp(v, "all") == 0)
            a->node = SCN_NODE_ALL;
        else
            rc = scn_fail(cx, scn_vcol(g.named[0]),
                          "expected broker, controller or all, found '%s'", v);
    }
    if (!rc && g.named[1])
        rc = scn_val_duration(cx, g.named[1], &a->restart_after_us);
    return rc;
}

static int scn_act_race(struct scn_ctx *cx, int from, struct scn_action *a)
{
    static const char *const keys[] = {"target", "key", "count", NULL};
    static const char *const targets[] = {"live",   "marked",   "composite",
                                          "linked", "prepared", "any"};
    struct scn_args g;
    int rc = scn_args_split(cx, from, keys, "race-delete", &g);
    if (!rc)
        rc = scn_no_more(cx, &g, 0, "race-delete");
    if (!rc)
        rc = scn_need(cx, g.named[0], "target", "race-delete");
    if (rc)
        return rc;
    rc = -1;
    for (int i = 0; i < 6; i++)
        if (strcmp(scn_vtext(g.named[0]), targets[i]) == 0) {
            a->race = (enum scn_race)i;
            rc = 0;
        }
    if (rc)
        return scn_fail(cx, scn_vcol(g.named[0]),
                        "expected live, marked, composite, linked, prepared or any, found '%s'",
                        scn_vtext(g.named[0]));
    if (g.named[1])
        rc = scn_val_text(cx, g.named[1], a->key, sizeof a->key, "key=");
    if (!rc && g.named[1] && !a->key[0])
        rc = scn_fail(cx, scn_vcol(g.named[1]), "key= needs a glob");
    if (!rc && g.named[2])
        rc = scn_val_int(cx, g.named[2], 1, 1000000, &a->count);
    return rc;
}

/* read stream=ID|all [from=OFFSET|P%] [bytes=SIZE] (extension): a consumer's fetch through
 * the engine's read path. */
static int scn_act_read(struct scn_ctx *cx, int from, struct scn_action *a)
{
    static const char *const keys[] = {"stream", "from", "bytes", NULL};
    struct scn_args g;
    int rc = scn_args_split(cx, from, keys, "read", &g);
    if (!rc)
        rc = scn_no_more(cx, &g, 0, "read");
    if (!rc)
        rc = scn_need(cx, g.named[0], "stream", "read");
    if (!rc && (rc = scn_stream_arg(cx, g.named[0], true, &a->stream)) == 0)
        a->stream_col = g.named[0]->col;
    if (!rc && g.named[1])
        rc = scn_offset_or_pct(cx, g.named[1], &a->from_offset, &a->from_ppm);
    if (!rc && g.named[2] && (rc = scn_val_size(cx, g.named[2], &a->bytes)) == 0) {
        a->val_col = scn_vcol(g.named[2]);
        if (a->bytes == 0)
            rc = scn_fail(cx, a->val_col, "bytes= must be above 0 (leave it out to read up to "
                          "the acknowledged end)");
    }
    return rc;
}

/* race-put id=next|next+N|N | key=KEY [bytes=SIZE] (extension): an out-of-band writer puts an
 * object into the bucket behind the engine's back. */
static int scn_act_race_put(struct scn_ctx *cx, int from, struct scn_action *a)
{
    static const char *const keys[] = {"id", "key", "bytes", NULL};
    struct scn_args g;
    int rc = scn_args_split(cx, from, keys, "race-put", &g);
    a->key[0] = '\0';
    a->bytes = 1024;
    if (!rc)
        rc = scn_no_more(cx, &g, 0, "race-put");
    if (rc)
        return rc;
    if (!g.named[0] == !g.named[1])
        return scn_fail(cx, g.named[1] ? g.named[1]->col : cx->end_col,
                        "race-put needs one of id=next|next+N|N or key=KEY");
    if (g.named[0]) {
        const char *v = scn_vtext(g.named[0]);
        if (strncmp(v, "next", 4) == 0) {
            a->put_next = true;
            a->put_id = 0;
            if (v[4] == '+') {
                char msg[CONF_ERR_MAX];
                if (conf_parse_int(v + 5, &a->put_id, msg, sizeof msg) != 0 || a->put_id < 0 ||
                    a->put_id > 1000000)
                    return scn_fail(cx, scn_vcol(g.named[0]) + 5,
                                    "expected next+N with N from 0 to 1000000, found '%s'", v);
            } else if (v[4]) {
                return scn_fail(cx, scn_vcol(g.named[0]),
                                "expected next, next+N or an object id, found '%s'", v);
            }
        } else if ((rc = scn_val_int(cx, g.named[0], 0, INT64_C(1) << 48, &a->put_id)) != 0) {
            return rc;
        }
    } else {
        if ((rc = scn_val_text(cx, g.named[1], a->key, sizeof a->key, "key=")) != 0)
            return rc;
        if (!a->key[0])
            return scn_fail(cx, scn_vcol(g.named[1]), "key= needs a key");
    }
    if (g.named[2])
        rc = scn_val_size(cx, g.named[2], &a->bytes);
    if (!rc && a->bytes > (INT64_C(64) << 20))
        rc = scn_fail(cx, scn_vcol(g.named[2]), "race-put bytes= is at most 64MiB");
    return rc;
}

static int scn_act_heal(struct scn_ctx *cx, int from, struct scn_action *a)
{
    if (from >= cx->ntok)
        return scn_fail(cx, cx->end_col, "heal needs a rule name or all");
    if (from + 1 < cx->ntok)
        return scn_fail(cx, cx->toks[from + 1].col, "unexpected '%s' after heal NAME",
                        cx->toks[from + 1].text);
    a->heal_col = cx->toks[from].col;
    if (strcmp(cx->toks[from].text, "all") == 0) {
        a->heal_all = true;
        return 0;
    }
    return scn_val_text(cx, &cx->toks[from], a->heal, sizeof a->heal, "a rule name");
}

static void scn_action_defaults(struct scn_action *a)
{
    memset(a, 0, sizeof *a);
    a->record = 1024;
    a->until_us = ENV_TIME_NEVER;
    a->to_offset = -1;
    a->to_ppm = -1;
    a->node = SCN_NODE_BROKER;
    a->restart_after_us = ENV_USEC_PER_SEC;
    a->race = SCN_RACE_ANY;
    snprintf(a->key, sizeof a->key, "*");
    a->count = 1;
    a->from_offset = -1;
    a->from_ppm = -1;
    a->put_id = -1;
}

int scn_parse_action(struct scn_ctx *cx, int from, int64_t at_us, struct scn_action *a)
{
    const char *w;
    scn_action_defaults(a);
    if (from >= cx->ntok)
        return scn_fail(cx, cx->end_col, "expected an action (append, load, trim, delete-stream, "
                                         "compact, crash, race-delete, race-put, read, fault, heal)");
    w = cx->toks[from].text;
    a->col = cx->toks[from].col;
    if (strcmp(w, "append") == 0)
        return a->kind = SCN_ACT_APPEND, scn_act_append(cx, from + 1, a);
    if (strcmp(w, "load") == 0)
        return a->kind = SCN_ACT_LOAD, scn_act_load(cx, from + 1, at_us, a);
    if (strcmp(w, "trim") == 0)
        return a->kind = SCN_ACT_TRIM, scn_act_trim(cx, from + 1, a);
    if (strcmp(w, "delete-stream") == 0)
        return a->kind = SCN_ACT_DELETE_STREAM, scn_act_delete_stream(cx, from + 1, a);
    if (strcmp(w, "compact") == 0)
        return a->kind = SCN_ACT_COMPACT, scn_act_compact(cx, from + 1, a);
    if (strcmp(w, "crash") == 0)
        return a->kind = SCN_ACT_CRASH, scn_act_crash(cx, from + 1, a);
    if (strcmp(w, "race-delete") == 0)
        return a->kind = SCN_ACT_RACE_DELETE, scn_act_race(cx, from + 1, a);
    if (strcmp(w, "race-put") == 0)
        return a->kind = SCN_ACT_RACE_PUT, scn_act_race_put(cx, from + 1, a);
    if (strcmp(w, "read") == 0)
        return a->kind = SCN_ACT_READ, scn_act_read(cx, from + 1, a);
    if (strcmp(w, "fault") == 0)
        return a->kind = SCN_ACT_FAULT, scn_parse_rule(cx, from + 1, &a->rule);
    if (strcmp(w, "heal") == 0)
        return a->kind = SCN_ACT_HEAL, scn_act_heal(cx, from + 1, a);
    return scn_fail(cx, a->col,
                    "unknown action '%s' (expected append, load, trim, delete-stream, compact, "
                    "crash, race-delete, race-put, read, fault or heal)", w);
}

/* ---- fault rules ------------------------------------------------------------------ */

enum { RK_NAME, RK_KEY, RK_KIND, RK_NTH, RK_AFTER, RK_PROB, RK_TIMES, RK_FROM, RK_UNTIL,
       RK_STATUS, RK_DELAY, RK_STALE, RK_BYTE, RK_JOB, RK_ERROR, RK_LATE };

static void scn_rule_defaults(struct fs3_rule *r, int line)
{
    memset(r, 0, sizeof *r);
    r->op = FS3_OP_ANY;
    snprintf(r->key_glob, sizeof r->key_glob, "*");
    r->kind_mask = FS3_KIND_ANY;
    r->match = FS3_MATCH_ALL;
    r->times = -1;
    r->from_us = 0;
    r->until_us = ENV_TIME_NEVER;
    r->effect = FS3_EFF_NONE;
    r->code = S3E_NONE;
    r->corrupt_at = -1;
    r->line = line;
}

static int scn_rule_name(struct scn_ctx *cx, const struct scn_tok *t, struct fs3_rule *r)
{
    const char *v = scn_vtext(t);
    size_t n = strlen(v);
    if (n == 0 || n >= sizeof r->name ||
        n != strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."))
        return scn_fail(cx, scn_vcol(t),
                        "expected a rule name of 1 to %zu characters a-z, A-Z, 0-9, -, _, .",
                        sizeof r->name - 1);
    if (strcmp(v, "all") == 0)
        return scn_fail(cx, scn_vcol(t), "a rule cannot be named all (heal all heals every rule)");
    memcpy(r->name, v, n + 1);
    return 0;
}

static int scn_rule_kind(struct scn_ctx *cx, const struct scn_tok *t, struct fs3_rule *r)
{
    static const struct {
        const char *name;
        unsigned mask;
    } kinds[] = {{"sso", FS3_KIND_SSO},       {"stream", FS3_KIND_STREAM},
                 {"composite", FS3_KIND_COMPOSITE}, {"linked", FS3_KIND_LINKED},
                 {"prepared", FS3_KIND_PREPARED},   {"any", FS3_KIND_ANY}};
    const char *v = scn_vtext(t);
    r->kind_mask = 0;
    for (;;) {
        size_t n = strcspn(v, ",");
        unsigned m = 0;
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
            if (strlen(kinds[i].name) == n && memcmp(kinds[i].name, v, n) == 0)
                m = kinds[i].mask;
        if (!m)
            return scn_fail(cx, scn_vcol(t) + (int)(v - scn_vtext(t)),
                            "expected sso, stream, composite, linked, prepared or any");
        r->kind_mask |= m;
        if (!v[n])
            return 0;
        v += n + 1;
    }
}

/* job=JOB[,JOB...]: the engine job that issued the call (names as in the trace's job=). */
static int scn_rule_job(struct scn_ctx *cx, const struct scn_tok *t, struct fs3_rule *r)
{
    const char *v = scn_vtext(t);
    r->job_mask = 0;
    for (;;) {
        size_t n = strcspn(v, ",");
        int j = -1;
        for (int i = 0; i < S3_JOB_COUNT; i++)
            if (strlen(s3_job_name((enum s3_job)i)) == n &&
                memcmp(s3_job_name((enum s3_job)i), v, n) == 0)
                j = i;
        if (j < 0)
            return scn_fail(cx, scn_vcol(t) + (int)(v - scn_vtext(t)),
                            "expected an engine job: wal-upload, sso-compaction, force-split, "
                            "stream-compaction, cleaner, reader or other");
        r->job_mask |= 1u << (unsigned)j;
        if (!v[n])
            return 0;
        v += n + 1;
    }
}

static int scn_rule_status(struct scn_ctx *cx, const struct scn_tok *t, struct fs3_rule *r)
{
    char num[16];
    const char *v = scn_vtext(t);
    const char *colon = strchr(v, ':');
    size_t n = colon ? (size_t)(colon - v) : strlen(v);
    int64_t st;
    if (n == 0 || n >= sizeof num || conf_parse_int((memcpy(num, v, n), num[n] = '\0', num), &st,
                                                    NULL, 0) != 0 || st < 100 || st > 599)
        return scn_fail(cx, scn_vcol(t), "expected status=CODE[:S3Code] with an HTTP status "
                                         "from 100 to 599, such as 503 or 404:NoSuchKey");
    r->status = (int)st;
    if (colon) {
        r->code = s3_code_parse(colon + 1);
        if (!colon[1] || (r->code == S3E_OTHER && strcmp(colon + 1, "UnknownError") != 0))
            return scn_fail(cx, scn_vcol(t) + (int)n + 1,
                            "unknown S3 error code '%s' (such as NoSuchKey, InternalError, "
                            "SlowDown, NoSuchUpload)", colon + 1);
    } else if (st < 300) {
        return scn_fail(cx, scn_vcol(t), "a %d status needs an error code, such as "
                                         "status=200:InternalError", (int)st);
    }
    r->effect = FS3_EFF_STATUS;
    return 0;
}

/* The effects that are named values (status=, delay=, stale=, late=). */
static int scn_rule_effect_value(struct scn_ctx *cx, int key, const struct scn_tok *t,
                                 struct fs3_rule *r)
{
    if (key == RK_STATUS)
        return scn_rule_status(cx, t, r);
    if (key == RK_DELAY) {
        r->effect = FS3_EFF_DELAY;
        return scn_val_duration(cx, t, &r->delay_us);
    }
    if (key == RK_LATE) { /* (extension) lands that long after its normal latency */
        r->effect = FS3_EFF_LATE;
        return scn_val_duration(cx, t, &r->delay_us);
    }
    if (key == RK_ERROR) {
        /* an RPC's error answer: kept as a status effect whose status is the code
         * (scn_rule_rpc checks the op can answer it) */
        int code = mdc_code_parse(scn_vtext(t));
        if (code < 0)
            return scn_fail(cx, scn_vcol(t), "unknown error code '%s' (NODE_EPOCH_EXPIRED, "
                            "NODE_EPOCH_NOT_EXIST, OBJECT_NOT_EXIST, COMPACTED_OBJECTS_NOT_FOUND, "
                            "REDUNDANT_OPERATION, STREAM_FENCED, STREAM_NOT_EXIST, "
                            "UNKNOWN_SERVER_ERROR)", scn_vtext(t));
        r->effect = FS3_EFF_STATUS;
        r->status = code;
        r->code = S3E_NONE;
        return 0;
    }
    r->effect = FS3_EFF_STALE;
    if (scn_val_duration(cx, t, &r->stale_us))
        return ERR_PARSE;
    if (r->stale_us == 0)
        return scn_fail(cx, scn_vcol(t), "stale= must be above 0s");
    return 0;
}

static int scn_rule_effect_word(const char *w)
{
    static const struct {
        const char *name;
        enum fs3_effect eff;
    } words[] = {{"timeout", FS3_EFF_TIMEOUT}, {"lost", FS3_EFF_LOST},
                 {"stall", FS3_EFF_STALL},     {"partial", FS3_EFF_PARTIAL},
                 {"reset", FS3_EFF_RESET},     {"corrupt", FS3_EFF_CORRUPT}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(w, words[i].name) == 0)
            return (int)words[i].eff;
    return -1;
}

/* The op and effect words and the effect values.  Named arguments may come in
 * any order (docs/scenarios.md "Directives"), so the effect may even precede the op; the op
 * and effect words are disjoint sets, which keeps that unambiguous. */
static int scn_rule_positional(struct scn_ctx *cx, int from, const struct scn_args *g,
                               struct fs3_rule *r, const struct scn_tok **op_tok,
                               const struct scn_tok **eff)
{
    static const int effkeys[] = {RK_STATUS, RK_DELAY, RK_STALE, RK_ERROR, RK_LATE};
    for (int i = from; i < cx->ntok; i++) {
        const struct scn_tok *t = &cx->toks[i];
        int key = -1, e, op;
        for (int k = 0; k < 5; k++)
            if (g->named[effkeys[k]] == t)
                key = effkeys[k];
        if (scn_is_named(t) && key < 0)
            continue;
        if (key < 0 && strcmp(t->text, "must-fire") == 0) {
            r->must_fire = true;
            continue;
        }
        e = key < 0 ? scn_rule_effect_word(t->text) : -1;
        op = strcmp(t->text, "any") == 0 ? FS3_OP_ANY : s3_op_parse(t->text);
        if (op == -1 && mdc_op_parse(t->text) >= 0)
            op = SCN_OP_RPC + mdc_op_parse(t->text);
        if (key < 0 && e < 0 && (op != -1 || strcmp(t->text, "any") == 0)) {
            if (*op_tok)
                return scn_fail(cx, t->col, "a fault has one operation; the first is at column %d",
                                (*op_tok)->col);
            r->op = op;
            *op_tok = t;
            continue;
        }
        if (key < 0 && e < 0 && !*op_tok)
            return scn_fail(cx, t->col, "expected an S3 operation (" SCN_OPS_LIST "), found '%s'",
                            t->text);
        if (key < 0 && e < 0)
            return scn_fail(cx, t->col, "expected an effect (" SCN_EFFECTS_LIST "), found '%s'",
                            t->text);
        if (*eff)
            return scn_fail(cx, t->col, "a fault has one effect; the first is at column %d",
                            (*eff)->col);
        *eff = t;
        if (key >= 0 && scn_rule_effect_value(cx, key, t, r))
            return ERR_PARSE;
        if (key < 0)
            r->effect = (enum fs3_effect)e;
    }
    return 0;
}

/* nth=, after=, prob=, times=, from=, until=. */
static int scn_rule_counters(struct scn_ctx *cx, const struct scn_args *g, struct fs3_rule *r)
{
    const struct scn_tok *m = NULL;
    char msg[CONF_ERR_MAX];
    for (int k = RK_NTH; k <= RK_PROB; k++) {
        if (!g->named[k])
            continue;
        if (m)
            return scn_fail(cx, g->named[k]->col, "nth=, after= and prob= exclude each other");
        m = g->named[k];
    }
    if (g->named[RK_NTH] && scn_val_int(cx, g->named[RK_NTH], 1, INT64_MAX, &r->n) == 0)
        r->match = FS3_MATCH_NTH;
    else if (g->named[RK_AFTER] && scn_val_int(cx, g->named[RK_AFTER], 0, INT64_MAX, &r->n) == 0)
        r->match = FS3_MATCH_AFTER;
    else if (g->named[RK_PROB]) {
        if (conf_parse_prob(scn_vtext(g->named[RK_PROB]), &r->prob, msg, sizeof msg) != 0)
            return scn_fail(cx, scn_vcol(g->named[RK_PROB]), "%s", msg);
        r->match = FS3_MATCH_PROB;
    } else if (m) {
        return ERR_PARSE;
    }
    if (g->named[RK_TIMES] && strcmp(scn_vtext(g->named[RK_TIMES]), "always") != 0 &&
        scn_val_int(cx, g->named[RK_TIMES], 1, INT64_MAX, &r->times))
        return ERR_PARSE;
    if (g->named[RK_FROM] && scn_val_duration(cx, g->named[RK_FROM], &r->from_us))
        return ERR_PARSE;
    if (g->named[RK_UNTIL] && scn_val_duration(cx, g->named[RK_UNTIL], &r->until_us))
        return ERR_PARSE;
    if (g->named[RK_UNTIL] && r->until_us <= r->from_us)
        return scn_fail(cx, scn_vcol(g->named[RK_UNTIL]), "until= must be later than from=");
    return 0;
}

/* The kinds an RPC op has, "a, b, c", into buf (with the group stream-compaction). */
static const char *scn_rpc_kinds(enum mdc_op op, char *buf, size_t size)
{
    unsigned m = mdc_op_kinds(op);
    size_t off = 0;
    buf[0] = '\0';
    for (int k = 0; k < MDC_KIND_COUNT && off < size; k++)
        if (m >> k & 1u)
            off += (size_t)snprintf(buf + off, size - off, "%s%s", off ? ", " : "",
                                    mdc_kind_name((enum mdc_kind)k));
    if (m >> MDC_KIND_MINOR & 1u && off < size)
        snprintf(buf + off, size - off, ", stream-compaction");
    return buf;
}

/* kind=KIND[,KIND...] of an RPC op: the sender of the request (mdc.h enum mdc_kind; the group
 * stream-compaction is minor, major and cleanup; any), one the op can have; into r->job_mask,
 * bit (1 << enum mdc_kind) each (0: any). */
static int scn_rule_rpc_kind(struct scn_ctx *cx, const struct scn_tok *t, enum mdc_op op,
                             struct fs3_rule *r)
{
    const unsigned stream = 1u << MDC_KIND_MINOR | 1u << MDC_KIND_MAJOR | 1u << MDC_KIND_CLEANUP;
    const char *v = scn_vtext(t);
    char list[160];
    unsigned mask = 0;
    if (!mdc_op_kinds(op))
        return scn_fail(cx, t->col, "kind= does not apply to %s (only the stream's owner sends "
                        "it: it has one kind)", mdc_op_name(op));
    for (;;) {
        size_t n = strcspn(v, ",");
        char w[32];
        int col = scn_vcol(t) + (int)(v - scn_vtext(t));
        int k;
        unsigned m;
        if (n == 0 || n >= sizeof w)
            return scn_fail(cx, col, "expected a kind of %s (%s or any)", mdc_op_name(op),
                            scn_rpc_kinds(op, list, sizeof list));
        memcpy(w, v, n);
        w[n] = '\0';
        k = mdc_kind_parse(w);
        m = strcmp(w, "any") == 0                 ? mdc_op_kinds(op)
            : strcmp(w, "stream-compaction") == 0 ? stream & mdc_op_kinds(op)
            : k > MDC_KIND_OTHER                  ? 1u << k & mdc_op_kinds(op)
                                                  : 0;
        if (!m && (k > MDC_KIND_OTHER || strcmp(w, "stream-compaction") == 0))
            return scn_fail(cx, col, "%s never sends %s (its kinds: %s)", w, mdc_op_name(op),
                            scn_rpc_kinds(op, list, sizeof list));
        if (!m)
            return scn_fail(cx, col, "expected a kind of %s (%s or any), found '%s'",
                            mdc_op_name(op), scn_rpc_kinds(op, list, sizeof list), w);
        mask |= m;
        if (!v[n])
            break;
        v += n + 1;
    }
    r->job_mask = mask == mdc_op_kinds(op) ? 0 : mask;
    return 0;
}

/* An RPC op's rule (docs/controller.md "RPC faults"): kind= names the request's sender; no key=
 * or job= (a request has no S3 key; its sender is its kind=), the effects timeout, lost, stall,
 * delay= and error=CODE, and a code the op can be answered with. */
static int scn_rule_rpc(struct scn_ctx *cx, const struct scn_args *g, const struct scn_tok *eff,
                        struct fs3_rule *r)
{
    enum mdc_op op = (enum mdc_op)(r->op - SCN_OP_RPC);
    if (g->named[RK_KEY])
        return scn_fail(cx, g->named[RK_KEY]->col, "key= does not apply to %s (a request to the "
                        "controller has no S3 key)", mdc_op_name(op));
    if (g->named[RK_JOB])
        return scn_fail(cx, g->named[RK_JOB]->col, "job= does not apply to %s (the sender of a "
                        "request is its kind=)", mdc_op_name(op));
    if (g->named[RK_KIND] && scn_rule_rpc_kind(cx, g->named[RK_KIND], op, r))
        return ERR_PARSE;
    if (g->named[RK_STATUS] || (r->effect != FS3_EFF_STATUS && r->effect != FS3_EFF_TIMEOUT &&
                                r->effect != FS3_EFF_LOST && r->effect != FS3_EFF_STALL &&
                                r->effect != FS3_EFF_DELAY))
        return scn_fail(cx, eff->col, "%s takes timeout, lost, stall, delay=D or error=CODE",
                        mdc_op_name(op));
    if (r->effect == FS3_EFF_STATUS && !mdc_op_answers(op, (enum mdc_code)r->status)) {
        char list[256] = "";
        size_t off = 0;
        for (int c = 1; c < MDC_CODE_COUNT; c++)
            if (mdc_op_answers(op, (enum mdc_code)c) && off < sizeof list)
                off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", off ? ", " : "",
                                        mdc_code_name((enum mdc_code)c));
        return scn_fail(cx, scn_vcol(eff), "%s is never answered %s (AutoMQ's controller answers "
                        "it with: %s)", mdc_op_name(op), mdc_code_name((enum mdc_code)r->status),
                        list);
    }
    return 0;
}

/* Effects that only some ops have. */
static int scn_rule_compat(struct scn_ctx *cx, const struct scn_tok *eff, struct fs3_rule *r)
{
    int op = r->op;
    if (r->effect == FS3_EFF_STALE && op != FS3_OP_ANY && op != S3_OP_GET && op != S3_OP_HEAD &&
        op != S3_OP_LIST)
        return scn_fail(cx, eff->col, "stale= applies to get, head and list only");
    /* The fake's partial (fake_s3/fault.c): mpu-create, delete and mpu-abort
     * are applied and answered 500 InternalError; mpu-copy stores half. */
    if (r->effect == FS3_EFF_PARTIAL && op != FS3_OP_ANY && op != S3_OP_MPU_PART &&
        op != S3_OP_MPU_COMPLETE && op != S3_OP_DELETE_MANY && op != S3_OP_PUT &&
        op != S3_OP_GET && op != S3_OP_MPU_CREATE && op != S3_OP_MPU_COPY &&
        op != S3_OP_DELETE && op != S3_OP_MPU_ABORT)
        return scn_fail(cx, eff->col, "partial applies to mpu-part, mpu-copy, mpu-complete, "
                                      "mpu-create, mpu-abort, delete, delete-many, put and get "
                                      "only");
    if (r->effect == FS3_EFF_CORRUPT && op != FS3_OP_ANY && op != S3_OP_GET)
        return scn_fail(cx, eff->col, "corrupt applies to get only (the body of an answer)");
    if (r->effect == FS3_EFF_LATE && op != FS3_OP_ANY && op != S3_OP_PUT && op != S3_OP_MPU_PART)
        return scn_fail(cx, eff->col, "late= applies to put and mpu-part only (an attempt still "
                                      "sending its body after the client gave up)");
    return 0;
}

int scn_parse_rule(struct scn_ctx *cx, int from, struct fs3_rule *r)
{
    static const char *const keys[] = {"name", "key",   "kind",  "nth",    "after", "prob",
                                       "times", "from", "until", "status", "delay", "stale",
                                       "byte",  "job",   "error", "late",  NULL};
    struct scn_args g;
    const struct scn_tok *eff = NULL, *op = NULL;
    int rc;
    scn_rule_defaults(r, cx->line);
    rc = scn_args_split(cx, from, keys, "fault", &g);
    if (!rc)
        rc = scn_rule_positional(cx, from, &g, r, &op, &eff);
    if (rc)
        return rc;
    if (!op)
        return scn_fail(cx, cx->end_col, "expected an S3 operation (" SCN_OPS_LIST ")");
    if (!eff)
        return scn_fail(cx, cx->end_col, "expected an effect (" SCN_EFFECTS_LIST ")");
    if (r->op >= SCN_OP_RPC && scn_rule_rpc(cx, &g, eff, r))
        return ERR_PARSE;
    if (r->op < SCN_OP_RPC && g.named[RK_ERROR])
        return scn_fail(cx, g.named[RK_ERROR]->col,
                        "error=CODE applies to the rpc-* operations only (S3 ops: status=CODE)");
    if (g.named[RK_NAME] && scn_rule_name(cx, g.named[RK_NAME], r))
        return ERR_PARSE;
    if (r->must_fire && !r->name[0])
        return scn_fail(cx, cx->toks[from].col,
                        "must-fire needs a named rule (name=NAME): the report names it");
    if (g.named[RK_KEY] &&
        scn_val_text(cx, g.named[RK_KEY], r->key_glob, sizeof r->key_glob, "key="))
        return ERR_PARSE;
    if (g.named[RK_KEY] && !r->key_glob[0])
        return scn_fail(cx, scn_vcol(g.named[RK_KEY]), "key= needs a glob");
    if (r->op < SCN_OP_RPC && g.named[RK_KIND] && scn_rule_kind(cx, g.named[RK_KIND], r))
        return ERR_PARSE;
    if (g.named[RK_JOB] && scn_rule_job(cx, g.named[RK_JOB], r))
        return ERR_PARSE;
    if (scn_rule_counters(cx, &g, r))
        return ERR_PARSE;
    if (g.named[RK_BYTE] && r->effect != FS3_EFF_CORRUPT)
        return scn_fail(cx, g.named[RK_BYTE]->col, "byte= goes with the corrupt effect only");
    if (g.named[RK_BYTE] &&
        scn_val_int(cx, g.named[RK_BYTE], INT64_MIN + 1, INT64_MAX, &r->corrupt_at))
        return ERR_PARSE;
    return r->op >= SCN_OP_RPC ? 0 : scn_rule_compat(cx, eff, r);
}
