/* sweep.c - `s3sim sweep`: fail the 1st, 2nd, 3rd... call of an op, one run each (see tools.h). */
#include "tools.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "err.h"
#include "mdc.h"
#include "scn_write.h"
#include "swarm.h"

int sweep_rule(const struct sweep_opts *o, int64_t k, struct fs3_rule *rule,
               struct scn_error *err)
{
    char line[256];
    snprintf(line, sizeof line, "fault %s nth=%" PRId64 " %s", o->op, k, o->effect);
    return scn_parse_fault("--op/--effect", line, rule, err);
}

/* The self-contained command that repeats run K of the sweep, with its trace. */
static char *sweep_replay(const struct sweep_opts *o, uint64_t seed, int64_t k)
{
    char buf[4096];
    size_t n = (size_t)snprintf(buf, sizeof buf,
                                "build/bin/s3sim sweep %s --variant %s --seed %" PRIu64
                                " --op %s --effect %s --nth %" PRId64 " --trace%s",
                                o->file, o->variant ? o->variant : "base", seed, o->op,
                                o->effect, k, o->swarm ? " --swarm" : "");
    for (size_t i = 0; i < o->nsets && n < sizeof buf; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, " --set %s", o->sets[i]);
    return strdup(buf);
}

/* One run of spec with rule first; res filled. */
static int sweep_one(const struct scn_spec *spec, const struct fs3_rule *rule,
                     const struct sweep_opts *o, FILE *trace, struct run_result *res)
{
    struct scn_spec sp;
    int rc = scnw_copy(&sp, spec);
    if (rc)
        return rc;
    rc = tools_add_fault(&sp, rule, true);
    if (rc == 0)
        rc = tools_run(&sp, o->file, trace, res);
    scn_spec_free(&sp);
    return rc == ERR_NOMEM ? rc : 0;
}

static uint64_t sweep_calls(const struct run_result *r, int op)
{
    if (op >= SCN_OP_RPC) { /* rpc.calls.OP: the metric names the op without its rpc- */
        const char *name = mdc_op_name((enum mdc_op)(op - SCN_OP_RPC)) + strlen("rpc-");
        for (size_t i = 0; i < r->nmetrics; i++)
            if (strncmp(r->metrics[i].name, "rpc.calls.", 10) == 0 &&
                strcmp(r->metrics[i].name + 10, name) == 0)
                return (uint64_t)r->metrics[i].value;
        return 0;
    }
    return op == FS3_OP_ANY ? r->ops : r->calls_by_op[op];
}

/* The run with a rule that never fires: a later run whose trace equals this
 * one's did not fire its rule either (the trace names a rule's op and effect,
 * not its nth=), so no call K was left before the rule was healed. */
static int sweep_baseline(const struct scn_spec *spec, const struct sweep_opts *o,
                          struct run_result *base)
{
    struct fs3_rule never;
    struct scn_error e;
    int rc = sweep_rule(o, INT64_MAX, &never, &e);
    if (rc)
        return rc;
    return sweep_one(spec, &never, o, NULL, base);
}

static void sweep_count(struct sweep_stats *st, const struct run_result *r)
{
    st->runs++;
    if (r->verdict == RUN_PASS)
        st->passed++;
    else
        st->failed++;
    if (r->verdict == RUN_ERROR)
        st->errors++;
}

int sweep_spec(const struct scn_spec *spec, const struct sweep_opts *o, FILE *out,
               struct sweep_stats *st)
{
    struct run_result base = {0};
    struct fs3_rule rule;
    struct scn_error e;
    int rc = sweep_rule(o, 1, &rule, &e);
    memset(st, 0, sizeof *st);
    if (rc)
        return rc;
    if (o->nth == 0 && (rc = sweep_baseline(spec, o, &base)) != 0)
        goto out;
    for (int64_t k = o->nth ? o->nth : 1;; k++) {
        struct run_result r = {0};
        char sfx[600], txt[512];
        if (o->max_runs && (int64_t)st->runs >= o->max_runs)
            break;
        if ((rc = sweep_rule(o, k, &rule, &e)) != 0 ||
            (rc = sweep_one(spec, &rule, o, o->trace, &r)) != 0) {
            run_result_free(&r);
            goto out;
        }
        st->last_k = k;
        st->last_calls = sweep_calls(&r, rule.op);
        if (o->nth == 0 && (st->last_calls < (uint64_t)k ||
                            strcmp(r.trace_hex, base.trace_hex) == 0)) {
            run_result_free(&r);
            st->done = true;
            break; /* call K never came while the rule was installed */
        }
        r.replay = sweep_replay(o, spec->seed, k);
        scn_rule_format(&rule, txt, sizeof txt);
        snprintf(sfx, sizeof sfx, "fault=\"%s\"", txt + strlen("fault "));
        tools_print_result(out, &r, o->quiet, sfx);
        sweep_count(st, &r);
        run_result_free(&r);
        if (o->nth)
            break;
    }
out:
    run_result_free(&base);
    return rc;
}

/* ---- the command ----------------------------------------------------------------------- */

struct sweep_args {
    struct sweep_opts o;
    const char *path;
    bool have_seed;
    uint64_t seed;
    const char **sets;
};

static int sweep_usage(const char *msg, const char *arg)
{
    fprintf(stderr, "s3sim sweep: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    fprintf(stderr, "usage: s3sim sweep FILE [--op OP|any] [--effect EFFECT] [--seed N]\n"
                    "                   [--variant NAME] [--set KNOB=VALUE]... [--nth K]\n"
                    "                   [--max N] [--swarm] [--trace] [--quiet]\n");
    return 2;
}

static bool sweep_num(const char *s, uint64_t *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return errno == 0 && *end == '\0';
}

static int sweep_parse_args(int argc, char **argv, struct sweep_args *a)
{
    uint64_t n;
    snprintf(a->o.op, sizeof a->o.op, "any");
    snprintf(a->o.effect, sizeof a->o.effect, "status=500");
    a->o.variant = "base";
    if (!(a->sets = calloc((size_t)argc + 1, sizeof *a->sets)))
        return 3;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(k, "--trace") == 0) {
            a->o.trace = stdout;
            continue;
        }
        if (strcmp(k, "--quiet") == 0 || strcmp(k, "--swarm") == 0) {
            *(k[2] == 'q' ? &a->o.quiet : &a->o.swarm) = true;
            continue;
        }
        if (k[0] != '-') {
            if (a->path)
                return sweep_usage("one scenario file only", k);
            a->path = k;
            continue;
        }
        if (!v)
            return sweep_usage("option needs a value", k);
        i++;
        if (strcmp(k, "--op") == 0 && strlen(v) < sizeof a->o.op)
            snprintf(a->o.op, sizeof a->o.op, "%s", v);
        else if (strcmp(k, "--effect") == 0 && strlen(v) < sizeof a->o.effect)
            snprintf(a->o.effect, sizeof a->o.effect, "%s", v);
        else if (strcmp(k, "--variant") == 0)
            a->o.variant = v;
        else if (strcmp(k, "--set") == 0 && strchr(v, '='))
            a->sets[a->o.nsets++] = v;
        else if (strcmp(k, "--seed") == 0 && sweep_num(v, &a->seed))
            a->have_seed = true;
        else if (strcmp(k, "--nth") == 0 && sweep_num(v, &n) && n >= 1 && n <= INT64_MAX)
            a->o.nth = (int64_t)n;
        else if (strcmp(k, "--max") == 0 && sweep_num(v, &n) && n >= 1 && n <= INT64_MAX)
            a->o.max_runs = (int64_t)n;
        else
            return sweep_usage("bad option or value", k);
    }
    a->o.sets = a->sets;
    if (!a->path)
        return sweep_usage("no scenario file given", NULL);
    a->o.file = a->path;
    return 0;
}

int cmd_sweep(int argc, char **argv)
{
    struct sweep_args a = {0};
    struct scn_file *f = NULL;
    struct scn_spec spec = {0};
    struct scn_error e;
    struct sweep_stats st = {0};
    struct fs3_rule probe;
    char msg[1024];
    int rc = sweep_parse_args(argc, argv, &a);
    if (rc)
        goto out;
    rc = scn_parse_file(a.path, &f, &e);
    if (rc == 0)
        rc = scn_resolve(f, a.o.variant, a.o.sets, a.o.nsets, &spec, &e);
    if (rc == 0)
        rc = sweep_rule(&a.o, 1, &probe, &e);
    if (rc) {
        fprintf(stderr, "%s\n", scn_error_format(&e, msg, sizeof msg));
        rc = rc == ERR_NOMEM ? 3 : 2;
        goto out;
    }
    if (a.have_seed)
        spec.seed = a.seed;
    if (spec.swarm)
        a.o.swarm = true; /* the file's `swarm` directive */
    if (swarm_apply(spec.seed, &spec, a.o.swarm, msg, sizeof msg) != 0) {
        rc = 3;
        goto out;
    }
    if (a.o.swarm && !a.o.quiet)
        fprintf(stderr, "sweep: --swarm adds: %s\n", msg);
    rc = sweep_spec(&spec, &a.o, stdout, &st);
    if (rc) {
        fprintf(stderr, "s3sim sweep: %s\n", err_str(rc));
        rc = rc == ERR_NOMEM ? 3 : 2;
        goto out;
    }
    printf("%zu passed, %zu failed\n", st.passed, st.failed);
    if (st.done && !a.o.quiet)
        fprintf(stderr, "sweep: no call %" PRId64 " of %s came while the rule was installed: "
                "done after %zu runs\n", st.last_k, a.o.op, st.runs);
    else if (!a.o.nth && !a.o.quiet)
        fprintf(stderr, "sweep: stopped by --max after %zu runs\n", st.runs);
    rc = st.errors ? 3 : st.failed ? 1 : 0;
out:
    scn_spec_free(&spec);
    scn_free(f);
    free(a.sets);
    return rc;
}
