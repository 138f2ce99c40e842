/* cmd_check.c - `s3sim check` and `s3sim knobs` (see cmd.h). */
#include "cmd.h"

#include "conf.h"
#include "err.h"
#include "metric_names.h"
#include "scn.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- check -------------------------------------------------------------------------- */

/* A growable list of paths. */
struct cmd_paths {
    char **v;
    size_t n, cap;
};

static int cmd_paths_add(struct cmd_paths *p, const char *path)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        char **v = realloc(p->v, cap * sizeof *v);
        if (!v)
            return ERR_NOMEM;
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n] = strdup(path);
    if (!p->v[p->n])
        return ERR_NOMEM;
    p->n++;
    return 0;
}

static int cmd_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.scn below dir, depth first; sorted by the caller. */
static int cmd_walk(struct cmd_paths *p, const char *dir, int depth)
{
    DIR *d;
    struct dirent *e;
    int rc = 0;
    if (depth > 32)
        return 0;
    d = opendir(dir);
    if (!d)
        return ERR_IO;
    while (!rc && (e = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;
        size_t n = strlen(e->d_name);
        if (e->d_name[0] == '.')
            continue;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
            continue;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            rc = cmd_walk(p, path, depth + 1);
        else if (n > 4 && strcmp(e->d_name + n - 4, ".scn") == 0)
            rc = cmd_paths_add(p, path);
    }
    closedir(d);
    return rc;
}

/* One check as a file would write it ("at 5m expect-fail metric s3.calls >= 1"). */
static void cmd_fmt_check(const struct scn_check *c, char *buf, size_t sz)
{
    char t[48], v[48];
    int n = 0;
    if (c->at_us != ENV_TIME_NEVER)
        n = snprintf(buf, sz, "at %s ", env_fmt_duration(c->at_us, t, sizeof t));
    n += snprintf(buf + n, sz - (size_t)n, "%s %s", c->expect_fail ? "expect-fail" : "expect",
                  scn_check_name(c->kind));
    switch (c->kind) {
    case SCN_CHK_CONVERGED:
        if (c->within_us != ENV_TIME_NEVER)
            snprintf(buf + n, sz - (size_t)n, " within=%s",
                     env_fmt_duration(c->within_us, t, sizeof t));
        break;
    case SCN_CHK_MEMORY:
        snprintf(buf + n, sz - (size_t)n, " %s %s", scn_cmp_name(c->cmp),
                 env_fmt_size((uint64_t)c->value, v, sizeof v));
        break;
    case SCN_CHK_LOG:
        snprintf(buf + n, sz - (size_t)n, " %s%s%s%s count %s %lld", env_level_name(c->level),
                 c->has_match ? " match=\"" : "", c->has_match ? c->match : "",
                 c->has_match ? "\"" : "", scn_cmp_name(c->cmp), (long long)c->value);
        break;
    case SCN_CHK_METRIC:
        snprintf(buf + n, sz - (size_t)n, " %s %s %lld", metric_name(c->metric),
                 scn_cmp_name(c->cmp), (long long)c->value);
        break;
    case SCN_CHK_NO_HANG:
        if (c->has_match)
            snprintf(buf + n, sz - (size_t)n, " match=\"%s\"", c->match);
        break;
    default: break;
    }
}

/* Where a resolved check comes from, for --explain. */
static void cmd_origin(const struct scn_file *f, size_t sec, const struct scn_check *c, char *buf,
                       size_t sz)
{
    const struct scn_section *b = &f->sections[0];
    if (c->line == 0) {
        snprintf(buf, sz, "implicit (docs/checks.md)");
        return;
    }
    if (sec == 0 || c->line < f->sections[sec].line) {
        snprintf(buf, sz, "line %d%s", c->line, sec ? ", inherited from the base" : "");
        return;
    }
    for (size_t i = 0; i < b->nlines; i++)
        if (b->lines[i].kind == SCN_L_CHECK && scn_check_same(&b->lines[i].check, c)) {
            snprintf(buf, sz, "line %d, replaces the base's line %d", c->line, b->lines[i].line);
            return;
        }
    snprintf(buf, sz, "line %d, added by the variant", c->line);
}

/* --explain: per variant, the resolved list of expectations and where each
 * comes from. */
static void cmd_explain(const struct scn_file *f)
{
    for (size_t i = 0; i < f->nsections; i++) {
        struct scn_spec spec;
        struct scn_error err;
        char t[32];
        if (scn_resolve(f, f->sections[i].name, NULL, 0, &spec, &err) != 0)
            continue;
        printf("  variant %s: deadline %s, %zu actions, %zu fault rules from the start%s\n",
               spec.variant, env_fmt_duration(spec.deadline_us, t, sizeof t), spec.nevents,
               spec.nfaults, spec.swarm ? ", swarm: each seed adds 2..5 drawn fault rules" : "");
        if (spec.have_seeds)
            printf("    seeds %" PRIu64 "..%" PRIu64 " (run without --seed/--seeds)\n",
                   spec.seeds_lo, spec.seeds_hi);
        for (size_t k = 0; k < spec.nchecks; k++) {
            char line[1400], origin[96];
            cmd_fmt_check(&spec.checks[k], line, sizeof line);
            cmd_origin(f, i, &spec.checks[k], origin, sizeof origin);
            printf("    %-60s  # %s\n", line, origin);
        }
        scn_spec_free(&spec);
    }
}

static bool cmd_explaining;

/* Parses one file; prints its error.  Returns true when it parsed. */
static bool cmd_check_one(const char *path)
{
    struct scn_file *f = NULL;
    struct scn_error err;
    char msg[1024];
    if (scn_parse_file(path, &f, &err) != 0) {
        fprintf(stderr, "%s\n", scn_error_format(&err, msg, sizeof msg));
        return false;
    }
    /* Each variant as a run resolves it: the scenario.max.* limits too. */
    for (size_t i = 0; i < f->nsections; i++) {
        struct scn_spec spec;
        if (scn_resolve(f, f->sections[i].name, NULL, 0, &spec, &err) != 0) {
            fprintf(stderr, "%s\n", scn_error_format(&err, msg, sizeof msg));
            scn_free(f);
            return false;
        }
        scn_spec_free(&spec);
    }
    printf("ok %s (%s, %zu variant%s)\n", path, f->name, scn_variant_count(f),
           scn_variant_count(f) == 1 ? "" : "s");
    if (cmd_explaining)
        cmd_explain(f);
    scn_free(f);
    return true;
}

int cmd_check(int argc, char **argv)
{
    struct cmd_paths paths = {0};
    int bad = 0, rc = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: s3sim check [--explain] FILE|DIR...\n");
        return 2;
    }
    for (int i = 1; i < argc && !rc; i++) {
        struct stat st;
        if (strcmp(argv[i], "--explain") == 0) {
            cmd_explaining = true;
            continue;
        }
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            size_t first = paths.n;
            rc = cmd_walk(&paths, argv[i], 0);
            if (paths.n > first) /* (qsort of a NULL array is UB, even of 0 elements) */
                qsort(paths.v + first, paths.n - first, sizeof *paths.v, cmd_cmp_str);
            if (rc == ERR_IO)
                fprintf(stderr, "%s: cannot read the directory\n", argv[i]);
        } else {
            rc = cmd_paths_add(&paths, argv[i]);
        }
    }
    if (!rc && paths.n == 0) {
        fprintf(stderr, "s3sim check: no *.scn file found\n");
        bad++;
    }
    for (size_t i = 0; i < paths.n; i++) {
        if (!rc && !cmd_check_one(paths.v[i]))
            bad++;
        free(paths.v[i]);
    }
    free(paths.v);
    if (rc == ERR_NOMEM) {
        fprintf(stderr, "s3sim check: out of memory\n");
        return 3;
    }
    return rc || bad ? 2 : 0;
}

/* ---- knobs -------------------------------------------------------------------------- */

static void cmd_print_knobs(void)
{
    printf("%-52s %-28s %-10s %-10s %s\n", "KNOB", "TYPE", "AUTOMQ", "HARDENED", "MEANING");
    for (int i = 0; i < CONF_COUNT; i++) {
        const struct conf_knob *k = conf_knob((enum conf_id)i);
        const char *finding = conf_finding((enum conf_id)i);
        printf("%-52s %-28s %-10s %-10s %s", k->name, conf_type_name(k->type),
               conf_profile_default((enum conf_id)i, CONF_PROFILE_AUTOMQ),
               conf_profile_default((enum conf_id)i, CONF_PROFILE_HARDENED), k->help);
        if (k->bug)
            printf(" [field bug %s]", k->bug);
        if (finding && finding[0])
            printf(" [guard of ours, AutoMQ lacks it; fixes scenarios/%s%s.scn]",
                   strchr(finding, '/') ? "" : "findings/", finding);
        else if (finding)
            printf(" [guard of ours, AutoMQ lacks it]");
        printf("\n");
    }
}

/* Writes text with the characters that would break a Markdown table cell
 * escaped (`|`, `*`, and `<` so that a help text never opens an HTML tag). */
static void cmd_md_cell(const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p == '|' || *p == '<' || *p == '*')
            putchar('\\');
        putchar(*p);
    }
}

/* docs/knobs.md: the knob and metric tables as Markdown.  The build target
 * `knobs-doc` writes it and the ctest test `docs/knobs` fails when it differs,
 * so the page cannot drift from the tables. */
static void cmd_print_markdown(void)
{
    struct conf c;
    conf_init(&c);
    printf("# Knobs and metrics\n\n"
           "<!-- Generated by `s3sim knobs --markdown` from the knob table (src/conf.h) and the\n"
           "     metric table (sim/metric_names.h). Do not edit: run\n"
           "     `cmake --build build --target knobs-doc` and commit the result. -->\n\n"
           "A knob is set in a scenario with `set KNOB VALUE` or on the command line with\n"
           "`--set KNOB=VALUE` (the command line wins). Value syntax per type is in\n"
           "[scenarios.md](scenarios.md#values). A knob that AutoMQ also has keeps AutoMQ's\n"
           "name and unit. A field-bug knob's default is the fixed behaviour; its other value\n"
           "restores the bug named in the last column (see [engine.md](engine.md#field-bugs)).\n"
           "`engine.profile` picks the defaults: `automq` (the default) is AutoMQ's behaviour,\n"
           "`hardened` turns on every guard of ours that AutoMQ lacks; the last column names\n"
           "the file of `scenarios/findings/` that shows what AutoMQ does without the guard.\n\n"
           "## Knobs\n\n"
           "| knob | type | default (automq) | hardened | meaning | field bug or finding |\n"
           "| --- | --- | --- | --- | --- | --- |\n");
    for (int i = 0; i < CONF_COUNT; i++) {
        const struct conf_knob *k = conf_knob((enum conf_id)i);
        const char *finding = conf_finding((enum conf_id)i);
        printf("| `%s` | ", k->name);
        cmd_md_cell(conf_type_name(k->type));
        printf(" | `%s` | `%s` | ", k->def,
               conf_profile_default((enum conf_id)i, CONF_PROFILE_HARDENED));
        cmd_md_cell(k->help);
        printf(" | ");
        if (k->bug)
            cmd_md_cell(k->bug);
        if (finding && finding[0])
            printf("guard; finding `%s`", finding);
        else if (finding)
            printf("guard");
        printf(" |\n");
    }
    printf("\n## Metrics\n\n"
           "Counters of one run, read by `expect metric NAME OP N` (scenarios.md,\n"
           "[checks](scenarios.md#checks)) and written to results.json.\n\n"
           "| metric | meaning |\n"
           "| --- | --- |\n");
    for (int i = 0; i < metric_count(); i++) {
        printf("| `%s` | ", metric_name(i));
        cmd_md_cell(metric_help(i));
        printf(" |\n");
    }
}

static void cmd_print_metrics(void)
{
    printf("%-34s %s\n", "METRIC", "MEANING");
    for (int i = 0; i < metric_count(); i++)
        printf("%-34s %s\n", metric_name(i), metric_help(i));
}

int cmd_knobs(int argc, char **argv)
{
    if (argc == 1) {
        cmd_print_knobs();
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--metrics") == 0) {
        cmd_print_metrics();
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--markdown") == 0) {
        cmd_print_markdown();
        return 0;
    }
    fprintf(stderr, "usage: s3sim knobs [--metrics | --markdown]\n");
    return 2;
}
