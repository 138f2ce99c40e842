/* shrink.c - `s3sim shrink`: the smallest scenario that still fails the same way (see tools.h).
 *
 * Every candidate is written as scenario text and parsed back (scnw_reparse),
 * so a candidate that would not make a valid file (a heal of a removed rule,
 * an append to a removed stream) is rejected without a run, and the spec that
 * runs is exactly what the printed file runs.  A candidate is accepted when
 * its one world run fails with the same signature (tools_signature).
 *
 *   1. ddmin over the lines: events, top-level faults, checks (remove half,
 *      then quarters, ... then one at a time)
 *   2. values: deadline, streams, append bytes, load rates and ends, every
 *      ends, race-delete counts, fault times= (lowest first, then bisection)
 *   3. knobs back to their defaults, one at a time
 *   4. ddmin again (a shorter deadline leaves late lines dead)
 */
#include "tools.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "err.h"
#include "scn_write.h"
#include "swarm.h"

#define SHR_DEFAULT_RUNS 2000

struct shr {
    const struct shrink_opts *o;
    struct scn_spec cur;  /* the smallest spec so far that fails as the input (reparsed) */
    char sig[512];        /* how it fails */
    int runs, max_runs, accepted;
    int64_t tail_us;      /* converged: the input's time from its last action to its
                             deadline, which no shorter deadline may cut (0: none) */
};

/* The campaign's time box (sim/campaign.c): past o->deadline or once
 * *o->stop is set, candidates are rejected without a run. */
static bool shr_out_of_time(const struct shrink_opts *o)
{
    struct timespec ts;
    if (o->stop && *o->stop)
        return true;
    if (o->deadline <= 0)
        return false;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 >= o->deadline;
}

/* Judges cand (always consumed).  Returns 1 when it fails the same way (it
 * becomes s->cur), 0 when not or when it is no valid file, ERR_NOMEM. */
static int shr_try(struct shr *s, struct scn_spec *cand, const char *what)
{
    struct scn_spec rp;
    struct scn_error e;
    struct run_result r = {0};
    char sig[512];
    int rc;
    if (s->runs >= s->max_runs || shr_out_of_time(s->o)) {
        scn_spec_free(cand);
        return 0;
    }
    rc = scnw_reparse(cand, s->o->file, &rp, &e);
    scn_spec_free(cand);
    if (rc)
        return rc == ERR_NOMEM ? rc : 0;
    s->runs++;
    rc = tools_run(&rp, s->o->file, NULL, &r);
    tools_signature(&r, !s->o->loose, sig, sizeof sig);
    run_result_free(&r);
    if (rc == ERR_NOMEM || strcmp(sig, s->sig) != 0) {
        scn_spec_free(&rp);
        return rc == ERR_NOMEM ? rc : 0;
    }
    scn_spec_free(&s->cur);
    s->cur = rp;
    s->accepted++;
    if (s->o->log)
        fprintf(s->o->log, "shrink: run %d: %s: still %s\n", s->runs, what, s->sig);
    return 1;
}

/* ---- 1. lines ------------------------------------------------------------------------- */

/* Units of a spec: events, then faults, then checks (the implicit checks,
 * line 0, always last, which the writer leaves out and a reparse adds back,
 * are no units). */
static size_t shr_nunits(const struct scn_spec *sp)
{
    size_t n = sp->nevents + sp->nfaults + sp->nchecks;
    for (size_t i = sp->nchecks; i-- > 0 && sp->checks[i].line == 0;)
        n--;
    return n;
}

/* cur without the units [from, to) into *out. */
static int shr_without(const struct scn_spec *cur, size_t from, size_t to, struct scn_spec *out)
{
    size_t u = 0, k;
    int rc = scnw_copy(out, cur);
    if (rc)
        return rc;
    k = 0;
    for (size_t i = 0; i < cur->nevents; i++, u++)
        if (u < from || u >= to)
            out->events[k++] = cur->events[i];
    out->nevents = k;
    k = 0;
    for (size_t i = 0; i < cur->nfaults; i++, u++)
        if (u < from || u >= to)
            out->faults[k++] = cur->faults[i];
    out->nfaults = k;
    k = 0;
    for (size_t i = 0; i < cur->nchecks; i++, u++)
        if (u < from || u >= to || !cur->checks[i].line)
            out->checks[k++] = cur->checks[i];
    out->nchecks = k;
    return 0;
}

/* Removes chunks of 1/n of the units, n = 2, 4, ... down to single units;
 * after a success the same granularity is tried again on what is left. */
static int shr_ddmin(struct shr *s)
{
    size_t n = 2;
    for (;;) {
        size_t nu = shr_nunits(&s->cur), chunk;
        int rc = 0;
        if (nu == 0 || s->runs >= s->max_runs)
            return 0;
        if (n > nu)
            n = nu;
        chunk = (nu + n - 1) / n;
        for (size_t from = 0; from < nu && rc == 0; from += chunk) {
            struct scn_spec cand;
            char what[96];
            size_t to = from + chunk < nu ? from + chunk : nu;
            if ((rc = shr_without(&s->cur, from, to, &cand)) != 0)
                return rc;
            snprintf(what, sizeof what, "dropped %zu of %zu lines", to - from, nu);
            rc = shr_try(s, &cand, what);
        }
        if (rc < 0)
            return rc;
        if (rc == 1)
            n = n > 2 ? n - 1 : 2;
        else if (chunk == 1)
            return 0;
        else
            n *= 2;
    }
}

/* ---- 2. values ------------------------------------------------------------------------ */

/* One numeric field of a spec: get and set it (i: the event or fault index). */
struct shr_field {
    const char *name;
    bool (*get)(const struct scn_spec *sp, size_t i, int64_t *v, int64_t *min, int64_t *q);
    void (*set)(struct scn_spec *sp, size_t i, int64_t v);
};

static int shr_try_value(struct shr *s, const struct shr_field *f, size_t i, int64_t v);

/* Lowers field i: its minimum (at least floor) first, else bisection down
 * to the quantum. */
static int shr_lower(struct shr *s, const struct shr_field *f, size_t i, int64_t floor)
{
    int64_t v, min, q, lo, hi;
    int rc;
    if (!f->get(&s->cur, i, &v, &min, &q))
        return 0;
    if (floor > min)
        min = floor;
    if (v <= min)
        return 0;
    if ((rc = shr_try_value(s, f, i, min)) != 0)
        return rc < 0 ? rc : 0;
    lo = min;
    hi = v;
    while (hi - lo > q && s->runs < s->max_runs) {
        int64_t mid = lo + (hi - lo) / 2;
        mid -= (mid - min) % q;
        if (mid <= lo)
            mid = lo + q;
        if (mid >= hi)
            break;
        rc = shr_try_value(s, f, i, mid);
        if (rc < 0)
            return rc;
        if (rc == 1)
            hi = mid;
        else
            lo = mid;
    }
    return 0;
}

#define SEC ENV_USEC_PER_SEC

static bool get_deadline(const struct scn_spec *sp, size_t i, int64_t *v, int64_t *min, int64_t *q)
{
    *v = sp->deadline_us;
    *min = SEC;
    *q = SEC;
    return i == 0;
}
static void set_deadline(struct scn_spec *sp, size_t i, int64_t v) { (void)i, sp->deadline_us = v; }

static bool get_streams(const struct scn_spec *sp, size_t i, int64_t *v, int64_t *min, int64_t *q)
{
    *v = sp->streams;
    *min = 1;
    *q = 1;
    return i == 0;
}
static void set_streams(struct scn_spec *sp, size_t i, int64_t v) { (void)i, sp->streams = (int)v; }

/* Event fields: append bytes, load rate, load until=, every until=, race-delete count=. */
static bool get_ev(const struct scn_spec *sp, size_t i, int64_t *v, int64_t *min, int64_t *q)
{
    const struct scn_event *e = &sp->events[i / 5];
    const struct scn_action *a = &e->act;
    switch (i % 5) {
    case 0: *v = a->bytes, *min = a->record, *q = a->record; return a->kind == SCN_ACT_APPEND;
    case 1: *v = a->rate, *min = 1024, *q = 1024; return a->kind == SCN_ACT_LOAD;
    case 2:
        *v = a->until_us, *min = e->at_us + SEC, *q = SEC;
        return a->kind == SCN_ACT_LOAD && a->until_us != ENV_TIME_NEVER;
    case 3:
        *v = e->until_us, *min = e->at_us + e->period_us, *q = SEC;
        return e->period_us > 0 && e->until_us != ENV_TIME_NEVER;
    default: *v = a->count, *min = 1, *q = 1; return a->kind == SCN_ACT_RACE_DELETE;
    }
}

static void set_ev(struct scn_spec *sp, size_t i, int64_t v)
{
    struct scn_event *e = &sp->events[i / 5];
    switch (i % 5) {
    case 0: e->act.bytes = v; break;
    case 1: e->act.rate = v; break;
    case 2: e->act.until_us = v; break;
    case 3: e->until_us = v; break;
    default: e->act.count = v; break;
    }
}

static bool get_times(const struct scn_spec *sp, size_t i, int64_t *v, int64_t *min, int64_t *q)
{
    *v = sp->faults[i].times;
    *min = 1;
    *q = 1;
    return *v > 1;
}
static void set_times(struct scn_spec *sp, size_t i, int64_t v) { sp->faults[i].times = v; }

/* "load 2 rate = 16KiB/s": what a value step changes, for the log. */
static void shr_label(const struct shr_field *f, const struct scn_spec *sp, size_t i, int64_t v,
                      char *buf, size_t bufsz)
{
    static const char *const evf[] = {"bytes", "rate", "until", "every until", "count"};
    char t[48];
    if (f->get == get_deadline) {
        snprintf(buf, bufsz, "deadline = %s", conf_format_duration(v, t, sizeof t));
    } else if (f->get == get_ev) {
        const char *val = i % 5 == 1   ? conf_format_size(v, "/s", t, sizeof t)
                          : i % 5 == 0 ? conf_format_size(v, "", t, sizeof t)
                          : i % 5 == 4 ? (snprintf(t, sizeof t, "%" PRId64, v), t)
                                       : conf_format_duration(v, t, sizeof t);
        snprintf(buf, bufsz, "event %zu (%s) %s = %s", i / 5 + 1,
                 scn_act_name(sp->events[i / 5].act.kind), evf[i % 5], val);
    } else {
        snprintf(buf, bufsz, "%s %zu = %" PRId64, f->name, i + 1, v);
    }
}

static int shr_try_value(struct shr *s, const struct shr_field *f, size_t i, int64_t v)
{
    struct scn_spec cand;
    char what[160];
    int rc = scnw_copy(&cand, &s->cur);
    if (rc)
        return rc;
    f->set(&cand, i, v);
    shr_label(f, &s->cur, i, v, what, sizeof what);
    return shr_try(s, &cand, what);
}

static int shr_values(struct shr *s)
{
    static const struct shr_field deadline = {"deadline", get_deadline, set_deadline};
    static const struct shr_field streams = {"streams", get_streams, set_streams};
    static const struct shr_field ev = {"event field", get_ev, set_ev};
    static const struct shr_field times = {"fault times", get_times, set_times};
    /* `converged` is judged from the last action on: a deadline that leaves
     * the world less time to settle than the input did fails it for nothing. */
    int64_t floor = s->tail_us ? s->cur.last_action_us + s->tail_us : 0;
    int rc = shr_lower(s, &deadline, 0, (floor + SEC - 1) / SEC * SEC);
    if (!rc)
        rc = shr_lower(s, &streams, 0, 0);
    for (size_t i = 0; !rc && i < s->cur.nevents * 5; i++)
        rc = shr_lower(s, &ev, i, 0);
    for (size_t i = 0; !rc && i < s->cur.nfaults; i++)
        rc = shr_lower(s, &times, i, 0);
    return rc;
}

/* ---- 3. knobs ------------------------------------------------------------------------- */

static int shr_knobs(struct shr *s)
{
    struct conf def;
    /* The profile stays (it is compared to itself); every other knob is tried back at its
     * default under that profile. */
    conf_init_profile(&def, (enum conf_profile)conf_get(&s->cur.conf, CONF_PROFILE));
    for (int id = 0; id < CONF_COUNT; id++) {
        struct scn_spec cand;
        char what[160];
        int rc;
        if (def.v[id] == s->cur.conf.v[id] && strcmp(def.str[id], s->cur.conf.str[id]) == 0)
            continue;
        if ((rc = scnw_copy(&cand, &s->cur)) != 0)
            return rc;
        cand.conf.v[id] = def.v[id];
        memcpy(cand.conf.str[id], def.str[id], sizeof def.str[id]);
        snprintf(what, sizeof what, "knob %s back to its default", conf_knob((enum conf_id)id)->name);
        if ((rc = shr_try(s, &cand, what)) < 0)
            return rc;
    }
    return 0;
}

/* ---- the whole ------------------------------------------------------------------------- */

/* s->cur = the input written and parsed back, s->sig = how it fails. */
static int shr_start(struct shr *s, const struct scn_spec *spec)
{
    struct scn_error e;
    struct run_result r = {0};
    char msg[1024];
    int rc = scnw_reparse(spec, s->o->file, &s->cur, &e);
    if (rc) {
        if (s->o->log && rc != ERR_NOMEM)
            fprintf(s->o->log, "shrink: the scenario cannot be written back: %s\n",
                    scn_error_format(&e, msg, sizeof msg));
        return rc;
    }
    if (!scnw_same(spec, &s->cur, msg, sizeof msg)) {
        if (s->o->log)
            fprintf(s->o->log, "shrink: the scenario written back differs: %s\n", msg);
        return ERR_PARSE;
    }
    s->runs++;
    rc = tools_run(&s->cur, s->o->file, NULL, &r);
    tools_signature(&r, !s->o->loose, s->sig, sizeof s->sig);
    run_result_free(&r);
    if (rc == ERR_NOMEM)
        return rc;
    if (strncmp(s->sig, "check=converged", 15) == 0 ||
        strncmp(s->sig, "check=expect-fail converged", 27) == 0)
        s->tail_us = s->cur.deadline_us - s->cur.last_action_us;
    return s->sig[0] ? 0 : ERR_INVAL;
}

int shrink_spec(const struct scn_spec *spec, const struct shrink_opts *o, struct scn_spec *out,
                struct shrink_stats *st)
{
    struct shr s = {.o = o, .max_runs = o->max_runs > 0 ? o->max_runs : SHR_DEFAULT_RUNS};
    int rc = shr_start(&s, spec);
    memset(out, 0, sizeof *out);
    if (!rc)
        rc = shr_ddmin(&s);
    if (!rc)
        rc = shr_values(&s);
    if (!rc)
        rc = shr_knobs(&s);
    if (!rc)
        rc = shr_ddmin(&s);
    if (st) {
        st->runs = s.runs;
        st->accepted = s.accepted;
        snprintf(st->signature, sizeof st->signature, "%s", s.sig);
    }
    if (rc)
        scn_spec_free(&s.cur);
    else
        *out = s.cur;
    return rc;
}

/* ---- the command ----------------------------------------------------------------------- */

struct shrink_args {
    const char *path, *variant, *out;
    const char **sets;
    size_t nsets;
    bool have_seed, quiet, loose, swarm;
    uint64_t seed;
    int max_runs;
};

static int shrink_usage(const char *msg, const char *arg)
{
    fprintf(stderr, "s3sim shrink: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    fprintf(stderr, "usage: s3sim shrink FILE --seed N [--variant NAME] [--set KNOB=VALUE]...\n"
                    "                    [--swarm] [-o OUT.scn] [--max-runs N] [--loose] [--quiet]\n");
    return 2;
}

static bool shrink_num(const char *s, uint64_t *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return errno == 0 && *end == '\0';
}

static int shrink_parse_args(int argc, char **argv, struct shrink_args *a)
{
    uint64_t n;
    a->variant = "base";
    if (!(a->sets = calloc((size_t)argc + 1, sizeof *a->sets)))
        return 3;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(k, "--quiet") == 0 || strcmp(k, "--loose") == 0 || strcmp(k, "--swarm") == 0) {
            *(k[2] == 'q' ? &a->quiet : k[2] == 'l' ? &a->loose : &a->swarm) = true;
            continue;
        }
        if (k[0] != '-') {
            if (a->path)
                return shrink_usage("one scenario file only", k);
            a->path = k;
            continue;
        }
        if (!v)
            return shrink_usage("option needs a value", k);
        i++;
        if (strcmp(k, "--seed") == 0 && shrink_num(v, &a->seed))
            a->have_seed = true;
        else if (strcmp(k, "--variant") == 0)
            a->variant = v;
        else if (strcmp(k, "--set") == 0 && strchr(v, '='))
            a->sets[a->nsets++] = v;
        else if (strcmp(k, "-o") == 0)
            a->out = v;
        else if (strcmp(k, "--max-runs") == 0 && shrink_num(v, &n) && n >= 1 && n <= 1000000)
            a->max_runs = (int)n;
        else
            return shrink_usage("bad option or value", k);
    }
    if (!a->path)
        return shrink_usage("no scenario file given", NULL);
    if (!a->have_seed)
        return shrink_usage("--seed N is required (the seed of the failing run)", NULL);
    return 0;
}

static size_t shrink_lines(const struct scn_spec *sp)
{
    return shr_nunits(sp);
}

/* Writes the result with a header that says where it came from. */
static int shrink_write(const struct shrink_args *a, const struct scn_spec *res,
                        const struct shrink_stats *st)
{
    char *text = scnw_text(res);
    FILE *fp = a->out ? fopen(a->out, "w") : stdout;
    int rc = 0;
    if (!text || !fp) {
        if (!fp)
            fprintf(stderr, "s3sim shrink: cannot write %s: %s\n", a->out, strerror(errno));
        free(text);
        return text ? 2 : 3;
    }
    fprintf(fp, "# shrunk by: s3sim shrink %s --variant %s --seed %" PRIu64 "%s (%d runs)\n",
            a->path, a->variant, a->seed, a->swarm ? " --swarm" : "", st->runs);
    for (size_t i = 0; i < a->nsets; i++)
        fprintf(fp, "#   --set %s\n", a->sets[i]);
    fprintf(fp, "# fails as the original: %s\n", st->signature);
    fputs(text, fp);
    if (fflush(fp) != 0 || (a->out && fclose(fp) != 0)) {
        fprintf(stderr, "s3sim shrink: cannot write %s\n", a->out ? a->out : "stdout");
        rc = 3;
    }
    free(text);
    return rc;
}

int cmd_shrink(int argc, char **argv)
{
    struct shrink_args a = {0};
    struct scn_file *f = NULL;
    struct scn_spec spec = {0}, res = {0};
    struct scn_error e;
    struct shrink_stats st = {0};
    struct shrink_opts o = {0};
    char msg[1024];
    int rc = shrink_parse_args(argc, argv, &a);
    if (rc)
        goto out;
    rc = scn_parse_file(a.path, &f, &e);
    if (rc == 0)
        rc = scn_resolve(f, a.variant, a.sets, a.nsets, &spec, &e);
    if (rc) {
        fprintf(stderr, "%s\n", scn_error_format(&e, msg, sizeof msg));
        rc = rc == ERR_NOMEM ? 3 : 2;
        goto out;
    }
    spec.seed = a.seed;
    spec.have_seeds = false; /* the shrunk file is about its one seed */
    if (spec.swarm)
        a.swarm = true; /* the file's `swarm`: its drawn rules become fault lines */
    if (swarm_apply(a.seed, &spec, a.swarm, msg, sizeof msg) != 0) {
        rc = 3;
        goto out;
    }
    if (a.swarm && !a.quiet)
        fprintf(stderr, "shrink: --swarm adds: %s\n", msg);
    o.file = a.path;
    o.max_runs = a.max_runs;
    o.loose = a.loose;
    o.log = a.quiet ? NULL : stderr;
    rc = shrink_spec(&spec, &o, &res, &st);
    if (rc == ERR_INVAL)
        fprintf(stderr, "s3sim shrink: %s %s seed=%" PRIu64 " passes: nothing to shrink\n",
                a.path, a.variant, a.seed);
    else if (rc)
        fprintf(stderr, "s3sim shrink: %s\n", err_str(rc));
    if (rc) {
        rc = rc == ERR_NOMEM ? 3 : 2;
        goto out;
    }
    if (!a.quiet)
        fprintf(stderr, "shrink: %zu lines -> %zu lines, deadline %s, in %d runs; fails with %s\n",
                shrink_lines(&spec), shrink_lines(&res),
                conf_format_duration(res.deadline_us, msg, sizeof msg), st.runs, st.signature);
    rc = shrink_write(&a, &res, &st);
out:
    scn_spec_free(&spec);
    scn_spec_free(&res);
    scn_free(f);
    free(a.sets);
    return rc;
}
