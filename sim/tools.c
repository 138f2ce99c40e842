/* tools.c - helpers shared by sweep and shrink (see tools.h). */
#include "tools.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "world.h"

int tools_run(const struct scn_spec *spec, const char *file, FILE *trace, struct run_result *res)
{
    struct world_opts wo = {trace, NULL, 0};
    int rc;
    res->file = strdup(file);
    res->scenario = strdup(spec->scenario);
    res->variant = strdup(spec->variant);
    res->seed = spec->seed;
    rc = world_run(spec, file, &wo, res);
    if (res->verdict == RUN_ERROR && !res->summary)
        res->summary = strdup("the bench broke");
    return rc;
}

static void tools_print_hang(const struct run_result *r)
{
    char t[32], a[32], s[32];
    fprintf(stderr, "hang report for %s %s seed=%" PRIu64 ": %zu waits pending, last progress at %s\n",
            r->scenario, r->variant, r->seed, r->nwaits,
            r->last_progress_us >= 0 ? env_fmt_duration(r->last_progress_us, t, sizeof t)
                                     : "never");
    for (size_t i = 0; i < r->nwaits; i++)
        fprintf(stderr, "  - %s: %s (since %s, waiting %s)\n", r->waits[i].who, r->waits[i].what,
                env_fmt_duration(r->waits[i].since_us, s, sizeof s),
                env_fmt_duration(r->waits[i].age_us, a, sizeof a));
}

void tools_print_result(FILE *out, const struct run_result *r, bool quiet, const char *suffix)
{
    char t[32];
    const char *sfx = suffix ? suffix : "";
    env_fmt_duration(r->vtime_us, t, sizeof t);
    if (r->verdict == RUN_PASS) {
        if (!quiet)
            fprintf(out, "PASS %s %s seed=%" PRIu64 " t=%s ops=%" PRIu64 " trace=%.12s%s%s\n",
                    r->scenario, r->variant, r->seed, t, r->ops, r->trace_hex, *sfx ? " " : "",
                    sfx);
    } else {
        fprintf(out, "%s %s %s seed=%" PRIu64 " t=%s %s%s%s\n",
                r->verdict == RUN_ERROR ? "ERROR" : "FAIL", r->scenario, r->variant, r->seed, t,
                r->summary ? r->summary : "", *sfx ? " " : "", sfx);
        fprintf(out, "     replay: %s\n", r->replay ? r->replay : "");
        if (r->hang && r->nwaits)
            tools_print_hang(r);
    }
    fflush(out);
}

void tools_shape(const char *text, char *buf, size_t bufsz, size_t *off)
{
    for (const char *p = text; *p && *off + 2 < bufsz; p++) {
        /* A number starts a word: the 3 of "s3.faults" or "sso-2x" is part of a name. */
        bool word_start = p == text || !(isalnum((unsigned char)p[-1]) || p[-1] == '_' ||
                                         p[-1] == '.');
        if (*p >= '0' && *p <= '9' && word_start) {
            while (p[1] && (strchr("0123456789.", p[1]) || (p[1] >= 'a' && p[1] <= 'z') ||
                            (p[1] >= 'A' && p[1] <= 'Z')))
                p++;
            buf[(*off)++] = 'N';
        } else {
            buf[(*off)++] = *p;
        }
    }
    buf[*off] = '\0';
}

char *tools_signature(const struct run_result *r, bool shape, char *buf, size_t bufsz)
{
    buf[0] = '\0';
    if (r->verdict == RUN_PASS)
        return buf;
    if (r->verdict == RUN_ERROR) {
        snprintf(buf, bufsz, "error");
        return buf;
    }
    if (r->hang) {
        snprintf(buf, bufsz, "hang");
        return buf;
    }
    for (size_t i = 0; i < r->nchecks; i++) {
        const struct run_check *c = &r->checks[i];
        int n;
        if (c->ok)
            continue;
        n = snprintf(buf, bufsz, "check=%s%s%s%s", c->expect_fail ? "expect-fail " : "",
                     c->name, c->args && c->args[0] ? " " : "", c->args ? c->args : "");
        if (shape && n > 0 && (size_t)n + 2 < bufsz && c->detail) {
            size_t off = (size_t)n;
            tools_shape(": ", buf, bufsz, &off);
            tools_shape(c->detail, buf, bufsz, &off);
        }
        return buf;
    }
    snprintf(buf, bufsz, "fail");
    return buf;
}

int tools_add_fault(struct scn_spec *spec, const struct fs3_rule *rule, bool first)
{
    struct fs3_rule *v = realloc(spec->faults, (spec->nfaults + 1) * sizeof *v);
    if (!v)
        return ERR_NOMEM;
    spec->faults = v;
    if (first) {
        memmove(v + 1, v, spec->nfaults * sizeof *v);
        v[0] = *rule;
    } else {
        v[spec->nfaults] = *rule;
    }
    spec->nfaults++;
    return 0;
}
