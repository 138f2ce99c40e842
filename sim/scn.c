/* scn.c - scenario files: directives, sections, the parse entry points (see scn.h). */
#include "scn_int.h"

#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The parse of one file: the context of the current line plus the file. */
struct scn_parser {
    struct scn_ctx cx;
    struct scn_file *f;
    bool have_scenario;
    size_t ndirectives;
};

/* ---- sections ---------------------------------------------------------------------- */

static int scn_section_add(struct scn_file *f, const char *name, int line)
{
    struct scn_section *s = realloc(f->sections, (f->nsections + 1) * sizeof *s);
    if (!s)
        return ERR_NOMEM;
    f->sections = s;
    s = &f->sections[f->nsections++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->line = line;
    return 0;
}

/* A new zeroed line at the end of the current section, or NULL. */
static struct scn_line *scn_line_add(struct scn_parser *p, enum scn_line_kind kind, int col)
{
    struct scn_section *s = &p->f->sections[p->f->nsections - 1];
    struct scn_line *l;
    if (s->nlines == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct scn_line *n = realloc(s->lines, cap * sizeof *n);
        if (!n)
            return NULL;
        s->lines = n;
        s->cap = cap;
    }
    l = &s->lines[s->nlines++];
    memset(l, 0, sizeof *l);
    l->kind = kind;
    l->line = p->cx.line;
    l->col = col;
    return l;
}

/* ---- directives ------------------------------------------------------------------- */

/* Exactly n arguments after the directive word. */
static int scn_nargs(struct scn_ctx *cx, int n, const char *usage)
{
    if (cx->ntok - 1 < n)
        return scn_fail(cx, cx->end_col, "expected %s", usage);
    if (cx->ntok - 1 > n)
        return scn_fail(cx, cx->toks[n + 1].col,
                        "unexpected '%s' after %s (a value with spaces goes in double quotes)",
                        cx->toks[n + 1].text, usage);
    return 0;
}

static int scn_dir_scenario(struct scn_parser *p)
{
    struct scn_ctx *cx = &p->cx;
    if (p->have_scenario)
        return scn_fail(cx, cx->toks[0].col, "scenario given twice (the first line names it)");
    if (scn_nargs(cx, 1, "scenario NAME"))
        return ERR_PARSE;
    p->have_scenario = true;
    p->f->sections[0].line = cx->line;
    return scn_val_name(cx, &cx->toks[1], p->f->name, sizeof p->f->name, "scenario name");
}

static int scn_dir_variant(struct scn_parser *p)
{
    struct scn_ctx *cx = &p->cx;
    char name[SCN_NAME_MAX];
    if (scn_nargs(cx, 1, "variant NAME") ||
        scn_val_name(cx, &cx->toks[1], name, sizeof name, "variant name"))
        return ERR_PARSE;
    if (strcmp(name, "base") == 0 || strcmp(name, "all") == 0)
        return scn_fail(cx, cx->toks[1].col, "a variant cannot be named %s (--variant %s has "
                                             "its own meaning)", name, name);
    if (p->f->nsections > SCN_MAX_VARIANTS)
        return scn_fail(cx, cx->toks[0].col, "too many variants (at most %d in one file)",
                        SCN_MAX_VARIANTS);
    for (size_t i = 1; i < p->f->nsections; i++)
        if (strcmp(p->f->sections[i].name, name) == 0)
            return scn_fail(cx, cx->toks[1].col, "variant %s given twice (first on line %d)",
                            name, p->f->sections[i].line);
    return scn_section_add(p->f, name, cx->line);
}

/* seed, deadline, streams, description. */
static int scn_dir_scalar(struct scn_parser *p, const char *w)
{
    struct scn_ctx *cx = &p->cx;
    struct scn_line *l;
    char msg[CONF_ERR_MAX];
    int64_t v;
    if (strcmp(w, "description") == 0) {
        if (scn_nargs(cx, 1, "description \"TEXT\""))
            return ERR_PARSE;
        if (p->f->nsections > 1)
            return scn_fail(cx, cx->toks[0].col, "description belongs to the base scenario, "
                                                 "before the first variant");
        return scn_val_text(cx, &cx->toks[1], p->f->description, sizeof p->f->description,
                            "the description");
    }
    if (scn_nargs(cx, 1, strcmp(w, "seed") == 0       ? "seed N"
                         : strcmp(w, "deadline") == 0 ? "deadline DURATION"
                                                      : "streams N"))
        return ERR_PARSE;
    l = scn_line_add(p, SCN_L_SEED, cx->toks[1].col);
    if (!l)
        return ERR_NOMEM;
    if (strcmp(w, "seed") == 0) {
        if (conf_parse_u64(cx->toks[1].text, &l->seed, msg, sizeof msg) != 0)
            return scn_fail(cx, cx->toks[1].col, "%s", msg);
        return 0;
    }
    if (strcmp(w, "deadline") == 0) {
        l->kind = SCN_L_DEADLINE;
        if (scn_val_duration(cx, &cx->toks[1], &l->deadline_us))
            return ERR_PARSE;
        if (l->deadline_us == 0)
            return scn_fail(cx, cx->toks[1].col, "deadline must be above 0s");
        return 0;
    }
    l->kind = SCN_L_STREAMS;
    if (scn_val_int(cx, &cx->toks[1], 0, SCN_MAX_STREAMS, &v))
        return ERR_PARSE;
    l->streams = (int)v;
    return 0;
}

/* swarm; seeds A..B (extensions, docs/scenarios.md). */
static int scn_dir_swarm_seeds(struct scn_parser *p, bool seeds)
{
    struct scn_ctx *cx = &p->cx;
    struct scn_line *l;
    char msg[CONF_ERR_MAX], lo[32];
    const char *t, *dots;
    if (!seeds) {
        if (scn_nargs(cx, 0, "swarm (no argument)"))
            return ERR_PARSE;
        return scn_line_add(p, SCN_L_SWARM, cx->toks[0].col) ? 0 : ERR_NOMEM;
    }
    if (scn_nargs(cx, 1, "seeds A..B"))
        return ERR_PARSE;
    if (p->f->nsections > 1)
        return scn_fail(cx, cx->toks[0].col, "seeds belongs to the base scenario, before the "
                                             "first variant (every variant runs the same seeds)");
    if (!(l = scn_line_add(p, SCN_L_SEEDS, cx->toks[1].col)))
        return ERR_NOMEM;
    t = cx->toks[1].text;
    dots = strstr(t, "..");
    if (!dots || (size_t)(dots - t) >= sizeof lo)
        return scn_fail(cx, cx->toks[1].col, "expected seeds A..B (such as 1..8), found '%s'", t);
    memcpy(lo, t, (size_t)(dots - t));
    lo[dots - t] = '\0';
    if (conf_parse_u64(lo, &l->seed, msg, sizeof msg) != 0)
        return scn_fail(cx, cx->toks[1].col, "seeds A..B: A: %s", msg);
    if (conf_parse_u64(dots + 2, &l->seed_hi, msg, sizeof msg) != 0)
        return scn_fail(cx, cx->toks[1].col + (int)(dots - t) + 2, "seeds A..B: B: %s", msg);
    if (l->seed_hi < l->seed || l->seed_hi - l->seed >= SCN_MAX_SEEDS)
        return scn_fail(cx, cx->toks[1].col, "seeds A..B wants A <= B and at most %d seeds",
                        SCN_MAX_SEEDS);
    return 0;
}

/* Splits the words of a set line into knob name and value.  Accepted, as in
 * a Java properties file: K V, K=V, K = V, K= V, K =V. */
static int scn_set_split(struct scn_ctx *cx, char *name, size_t namesz, const char **value,
                         int *vcol)
{
    const struct scn_tok *k = &cx->toks[1], *v = cx->ntok > 2 ? &cx->toks[2] : NULL;
    const struct scn_tok *w = cx->ntok > 3 ? &cx->toks[3] : NULL;
    int n = 1;
    *value = "";
    *vcol = cx->end_col;
    if (k->eq > 0 && (k->text[k->eq + 1] || !v)) {
        *value = k->text + k->eq + 1; /* K=V */
        *vcol = k->vcol;
    } else if (k->eq > 0) {
        *value = v->text; /* K= V */
        *vcol = v->col;
        n = 2;
    } else if (v && v->eq == 0 && (v->text[1] || !w)) {
        *value = v->text + 1; /* K =V */
        *vcol = v->vcol;
        n = 2;
    } else if (v && v->eq == 0) {
        *value = w->text; /* K = V */
        *vcol = w->col;
        n = 3;
    } else if (v) {
        *value = v->text; /* K V */
        *vcol = v->col;
        n = 2;
    } else {
        return scn_fail(cx, cx->end_col, "expected set KNOB VALUE or set KNOB=VALUE");
    }
    if (cx->ntok > n + 1)
        return scn_fail(cx, cx->toks[n + 1].col, "unexpected '%s' after set KNOB VALUE (a "
                        "value with spaces goes in double quotes)", cx->toks[n + 1].text);
    snprintf(name, namesz, "%.*s", k->eq > 0 ? k->eq : (int)strlen(k->text), k->text);
    return 0;
}

static int scn_dir_set(struct scn_parser *p)
{
    struct scn_ctx *cx = &p->cx;
    char name[128], msg[CONF_ERR_MAX];
    const char *value = NULL;
    int vcol = 0, id;
    struct scn_line *l;
    if (cx->ntok < 2)
        return scn_fail(cx, cx->end_col, "expected set KNOB VALUE or set KNOB=VALUE");
    if (scn_set_split(cx, name, sizeof name, &value, &vcol))
        return ERR_PARSE;
    id = conf_lookup(name);
    if (id < 0)
        return scn_fail(cx, cx->toks[1].col, "unknown knob '%s' (see s3sim knobs)", name);
    l = scn_line_add(p, SCN_L_SET, cx->toks[1].col);
    if (!l)
        return ERR_NOMEM;
    l->knob = id;
    if (conf_parse_value((enum conf_id)id, value, &l->value, msg, sizeof msg) != 0)
        return scn_fail(cx, vcol, "%s: %s", name, msg);
    if (conf_knob((enum conf_id)id)->type == CONF_T_STRING)
        snprintf(l->str, sizeof l->str, "%s", value);
    return 0;
}

/* `at TIME expect CHECK ...`: a state check judged at TIME.  The line was
 * added as an event; it becomes a check line. */
static int scn_dir_at_expect(struct scn_parser *p, struct scn_line *l, int i)
{
    struct scn_ctx *cx = &p->cx;
    int64_t at = l->event.at_us;
    int col = l->event.col;
    int rc;
    memset(&l->event, 0, sizeof l->event);
    l->kind = SCN_L_CHECK;
    rc = scn_parse_check(cx, i + 1, cx->toks[i].text[6] == '-', &l->check);
    if (rc)
        return rc;
    l->check.at_us = at;
    l->check.at_col = col;
    switch (l->check.kind) {
    case SCN_CHK_NO_ORPHANS:
    case SCN_CHK_NO_MISSING:
    case SCN_CHK_NO_DANGLING_UPLOADS:
    case SCN_CHK_MEMORY:
    case SCN_CHK_LOG:
    case SCN_CHK_METRIC:
    case SCN_CHK_NO_ERROR_LOG:
    case SCN_CHK_CAUGHT_UP:
    case SCN_CHK_IMAGE_CONSISTENT:
    case SCN_CHK_READS_CORRECT: return 0;
    default:
        return scn_fail(cx, l->check.col, "%s is judged over the whole run, not at a moment "
                        "(at TIME expect takes no-orphans, no-missing, no-dangling-uploads, "
                        "memory, log, metric, no-error-log, caught-up, image-consistent, "
                        "reads-correct)",
                        scn_check_name(l->check.kind));
    }
}

static int scn_dir_event(struct scn_parser *p, bool every)
{
    struct scn_ctx *cx = &p->cx;
    struct scn_line *l;
    struct scn_event *e;
    const struct scn_tok *until = NULL;
    int i = 2;
    if (cx->ntok < 2)
        return scn_fail(cx, cx->end_col, every ? "expected every PERIOD ACTION"
                                               : "expected at TIME ACTION");
    l = scn_line_add(p, SCN_L_EVENT, cx->toks[1].col);
    if (!l)
        return ERR_NOMEM;
    e = &l->event;
    e->line = cx->line;
    e->col = cx->toks[1].col;
    e->until_us = ENV_TIME_NEVER;
    if (scn_val_duration(cx, &cx->toks[1], every ? &e->period_us : &e->at_us))
        return ERR_PARSE;
    if (every && e->period_us == 0)
        return scn_fail(cx, cx->toks[1].col, "every needs a period above 0s");
    for (; every && i < cx->ntok; i++) {
        const struct scn_tok *t = &cx->toks[i];
        if (scn_key_is(t, "from")) {
            if (scn_val_duration(cx, t, &e->at_us))
                return ERR_PARSE;
        } else if (scn_key_is(t, "until")) {
            until = t;
            if (scn_val_duration(cx, t, &e->until_us))
                return ERR_PARSE;
        } else {
            break;
        }
    }
    if (until && e->until_us <= e->at_us)
        return scn_fail(cx, scn_vcol(until), "until= must be later than from=");
    if (!every && i < cx->ntok &&
        (strcmp(cx->toks[i].text, "expect") == 0 || strcmp(cx->toks[i].text, "expect-fail") == 0))
        return scn_dir_at_expect(p, l, i);
    return scn_parse_action(cx, i, e->at_us, &e->act);
}

static int scn_dir_fault_heal(struct scn_parser *p, bool fault)
{
    struct scn_ctx *cx = &p->cx;
    struct scn_line *l = scn_line_add(p, fault ? SCN_L_FAULT : SCN_L_HEAL, cx->toks[0].col);
    if (!l)
        return ERR_NOMEM;
    /* A top-level fault or heal is parsed as the action, so both forms agree. */
    return scn_parse_action(cx, 0, 0, &l->act);
}

static int scn_dir_expect(struct scn_parser *p, bool fail)
{
    struct scn_ctx *cx = &p->cx;
    struct scn_line *l = scn_line_add(p, SCN_L_CHECK, cx->ntok > 1 ? cx->toks[1].col : 1);
    if (!l)
        return ERR_NOMEM;
    return scn_parse_check(cx, 1, fail, &l->check);
}

static int scn_directive(struct scn_parser *p)
{
    struct scn_ctx *cx = &p->cx;
    const char *w = cx->toks[0].text;
    if (!p->have_scenario && strcmp(w, "scenario") != 0)
        return scn_fail(cx, cx->toks[0].col, "expected scenario NAME as the first directive, "
                                             "found '%s'", w);
    if (++p->ndirectives > SCN_MAX_DIRECTIVES)
        return scn_fail(cx, 1, "too many directives (at most %d in one file)",
                        SCN_MAX_DIRECTIVES);
    if (strcmp(w, "scenario") == 0)
        return scn_dir_scenario(p);
    if (strcmp(w, "variant") == 0)
        return scn_dir_variant(p);
    if (strcmp(w, "description") == 0 || strcmp(w, "seed") == 0 || strcmp(w, "deadline") == 0 ||
        strcmp(w, "streams") == 0)
        return scn_dir_scalar(p, w);
    if (strcmp(w, "set") == 0)
        return scn_dir_set(p);
    if (strcmp(w, "swarm") == 0 || strcmp(w, "seeds") == 0)
        return scn_dir_swarm_seeds(p, w[1] == 'e');
    if (strcmp(w, "at") == 0 || strcmp(w, "every") == 0)
        return scn_dir_event(p, w[0] == 'e');
    if (strcmp(w, "fault") == 0 || strcmp(w, "heal") == 0)
        return scn_dir_fault_heal(p, w[0] == 'f');
    if (strcmp(w, "expect") == 0 || strcmp(w, "expect-fail") == 0)
        return scn_dir_expect(p, w[6] == '-');
    return scn_fail(cx, cx->toks[0].col,
                    "unknown directive '%s' (expected scenario, description, seed, seeds, "
                    "deadline, set, streams, swarm, at, every, fault, heal, expect, expect-fail or variant)", w);
}

/* ---- files --------------------------------------------------------------------------- */

static int scn_parse_lines(struct scn_parser *p, const char *buf, size_t len)
{
    size_t off = 0;
    int rc;
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
        off = 3; /* a UTF-8 byte order mark */
    for (p->cx.line = 1; off < len; p->cx.line++) {
        const char *nl = memchr(buf + off, '\n', len - off);
        size_t n = nl ? (size_t)(nl - (buf + off)) : len - off;
        size_t used = n;
        if (used > 0 && buf[off + used - 1] == '\r')
            used--;
        if (used > SCN_MAX_LINE)
            return scn_fail(&p->cx, SCN_MAX_LINE + 1, "line too long (more than %d bytes)",
                            SCN_MAX_LINE);
        rc = scn_lex_line(&p->cx, buf + off, used);
        if (!rc && p->cx.ntok > 0)
            rc = scn_directive(p);
        if (rc)
            return rc;
        off += n + (nl ? 1 : 0);
    }
    if (!p->have_scenario)
        return scn_fail_at(p->cx.err, p->cx.fname, 1, 1,
                           "empty scenario: expected scenario NAME as the first directive");
    return 0;
}

/* Resolves the base and every variant once, so that references are checked. */
static int scn_validate(struct scn_file *f, struct scn_error *err)
{
    for (size_t i = 0; i < f->nsections; i++) {
        struct scn_spec spec;
        int rc = scn_resolve_section_opt(f, i, NULL, 0, false, &spec, err);
        if (rc)
            return rc;
        scn_spec_free(&spec);
    }
    return 0;
}

int scn_parse_buf(const char *name, const char *buf, size_t len, struct scn_file **out,
                  struct scn_error *err)
{
    struct scn_parser *p;
    int rc;
    *out = NULL;
    memset(err, 0, sizeof *err);
    if (len > SCN_MAX_FILE)
        return scn_fail_at(err, name, 1, 1, "file too large (more than %d bytes)", SCN_MAX_FILE);
    p = calloc(1, sizeof *p);
    if (!p || !(p->f = calloc(1, sizeof *p->f))) {
        free(p);
        return scn_fail_at(err, name, 0, 0, "out of memory"), ERR_NOMEM;
    }
    p->cx.fname = name;
    p->cx.err = err;
    snprintf(p->f->path, sizeof p->f->path, "%s", name);
    rc = scn_section_add(p->f, "base", 1);
    if (!rc)
        rc = scn_parse_lines(p, buf, len);
    if (rc == ERR_NOMEM)
        scn_fail_at(err, name, p->cx.line, 1, "out of memory");
    if (!rc)
        rc = scn_validate(p->f, err);
    if (rc)
        scn_free(p->f);
    else
        *out = p->f;
    free(p);
    return rc;
}

int scn_parse_file(const char *path, struct scn_file **out, struct scn_error *err)
{
    /* O_NONBLOCK: a FIFO (or device) named x.scn must not block the open. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    FILE *fp = NULL;
    char *buf = NULL;
    size_t len = 0;
    int rc;
    *out = NULL;
    memset(err, 0, sizeof *err);
    if (fd < 0)
        return scn_fail_at(err, path, 0, 0, "cannot open: %s", strerror(errno)), ERR_IO;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return scn_fail_at(err, path, 0, 0, "not a regular file"), ERR_IO;
    }
    if (!(fp = fdopen(fd, "rb"))) {
        close(fd);
        return scn_fail_at(err, path, 0, 0, "cannot open: %s", strerror(errno)), ERR_IO;
    }
    buf = malloc(SCN_MAX_FILE + 1);
    if (!buf) {
        fclose(fp);
        return scn_fail_at(err, path, 0, 0, "out of memory"), ERR_NOMEM;
    }
    len = fread(buf, 1, SCN_MAX_FILE + 1, fp);
    if (ferror(fp)) {
        rc = scn_fail_at(err, path, 0, 0, "cannot read: %s", strerror(errno));
        rc = ERR_IO;
    } else {
        rc = scn_parse_buf(path, buf, len, out, err);
    }
    fclose(fp);
    free(buf);
    return rc;
}

int scn_parse_fault(const char *name, const char *text, struct fs3_rule *out,
                    struct scn_error *err)
{
    struct scn_ctx *cx = calloc(1, sizeof *cx);
    size_t len = strlen(text);
    int rc;
    memset(err, 0, sizeof *err);
    if (!cx)
        return scn_fail_at(err, name, 0, 0, "out of memory"), ERR_NOMEM;
    cx->fname = name;
    cx->err = err;
    cx->line = 1;
    if (len > SCN_MAX_LINE || strchr(text, '\n'))
        rc = scn_fail(cx, 1, "expected one fault line of at most %d bytes", SCN_MAX_LINE);
    else
        rc = scn_lex_line(cx, text, len);
    if (!rc) {
        int from = cx->ntok > 0 && strcmp(cx->toks[0].text, "fault") == 0 ? 1 : 0;
        rc = scn_parse_rule(cx, from, out);
    }
    free(cx);
    return rc;
}

void scn_free(struct scn_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->nsections; i++)
        free(f->sections[i].lines);
    free(f->sections);
    free(f);
}

size_t scn_variant_count(const struct scn_file *f) { return f->nsections - 1; }

const char *scn_variant_name(const struct scn_file *f, size_t i)
{
    return i + 1 < f->nsections ? f->sections[i + 1].name : NULL;
}

char *scn_error_format(const struct scn_error *err, char *buf, size_t bufsz)
{
    if (err->line > 0)
        snprintf(buf, bufsz, "%s:%d:%d: %s", err->file, err->line, err->col, err->msg);
    else
        snprintf(buf, bufsz, "%s: %s", err->file, err->msg);
    return buf;
}
