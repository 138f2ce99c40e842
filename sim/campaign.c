/* campaign.c - `s3sim campaign`: seeds until the time is up, one shrunk file per failure
 * signature (see campaign.h). */
#include "campaign.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "cmd.h"
#include "conf.h"
#include "err.h"
#include "scn.h"
#include "scn_write.h"
#include "swarm.h"
#include "tools.h"

/* ---- signatures -------------------------------------------------------------------------- */

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *campaign_signature(const struct run_result *r, char *buf, size_t bufsz)
{
    size_t off;
    char **shapes;
    size_t n = 0;
    tools_signature(r, true, buf, bufsz);
    if (!r->hang || !buf[0] || r->nwaits == 0)
        return buf;
    /* The hang's wait shape: who waits on what, numbers masked, each once. */
    if (!(shapes = calloc(r->nwaits, sizeof *shapes)))
        return buf;
    for (size_t i = 0; i < r->nwaits; i++) {
        char one[512], raw[512];
        size_t o = 0;
        snprintf(raw, sizeof raw, "%s: %s", r->waits[i].who ? r->waits[i].who : "?",
                 r->waits[i].what ? r->waits[i].what : "?");
        one[0] = '\0';
        tools_shape(raw, one, sizeof one, &o);
        if (!(shapes[n] = strdup(one)))
            break;
        n++;
    }
    qsort(shapes, n, sizeof *shapes, cmp_cstr);
    off = strlen(buf);
    for (size_t i = 0; i < n; i++) {
        if (i && strcmp(shapes[i], shapes[i - 1]) == 0)
            continue;
        if (off + 1 < bufsz)
            off += (size_t)snprintf(buf + off, bufsz - off, "%s%s", i ? " | " : ": ", shapes[i]);
        if (off >= bufsz)
            off = bufsz - 1;
    }
    for (size_t i = 0; i < n; i++)
        free(shapes[i]);
    free(shapes);
    return buf;
}

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

char *campaign_slug(const char *signature, char *buf, size_t bufsz)
{
    size_t n = 0;
    bool dash = true; /* no leading dash */
    if (bufsz < 72) {
        if (bufsz)
            buf[0] = '\0';
        return buf;
    }
    for (const char *p = signature; *p && n < 60; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            buf[n++] = c;
            dash = false;
        } else if (!dash) {
            buf[n++] = '-';
            dash = true;
        }
    }
    while (n && buf[n - 1] == '-')
        n--;
    snprintf(buf + n, bufsz - n, "%s%08x", n ? "-" : "", fnv1a(signature));
    return buf;
}

/* ---- the command -------------------------------------------------------------------------- */

struct cp_target {
    struct scn_file *file;
    char variant[SCN_NAME_MAX];
};

struct cp_sig {
    char *sig;
    char slug[80];
    size_t target;          /* the first failing run: target and seed */
    uint64_t seed;
    size_t count;           /* failing runs with this signature */
    char *summary;          /* the FAIL line's reason of the first */
    char path[4096];        /* the file written ("" before) */
    int shrink_runs;
    size_t lines_before, lines_after;
    bool shrunk;            /* shrink_spec ran to its end */
    bool vacuous;           /* the shrunk spec had no action left: the original is kept */
};

struct cp_opts {
    const char **paths;
    size_t npaths;
    const char **sets;
    size_t nsets;
    const char *variant;    /* NULL or "all": every variant */
    const char *out;
    int64_t for_us;
    uint64_t seed_start;
    int jobs;
    bool swarm, quiet;
};

struct cp {
    struct cp_opts o;
    struct scn_file **files;
    size_t nfiles;
    struct cp_target *targets;
    size_t ntargets;
    pthread_mutex_t mu;
    uint64_t next;          /* next run: target next % ntargets, seed seed_start + next / ntargets */
    size_t runs, failures, errors;
    uint64_t last_seed;     /* highest seed begun */
    struct cp_sig *sigs;
    size_t nsigs;
    size_t nwritten;        /* sigs[0..nwritten) are shrunk and written */
    double t0, t_search, t_end; /* monotonic seconds: start, search ends (at the latest), end */
    int rc;                 /* ERR_NOMEM seen */
};

static volatile sig_atomic_t cp_stop;

static void cp_on_sigint(int sig)
{
    (void)sig;
    cp_stop = 1;
    signal(SIGINT, SIG_DFL); /* a second Ctrl-C ends the process */
}

static double cp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cp_usage(const char *msg, const char *arg)
{
    fprintf(stderr, "s3sim campaign: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    fprintf(stderr, "usage: s3sim campaign DIR|FILE... --for DURATION --out BUGDIR [--jobs N]\n"
                    "                      [--swarm] [--seed-start N] [--variant NAME|all]\n"
                    "                      [--set KNOB=VALUE]... [--quiet]\n");
    return 2;
}

static int cp_parse_args(int argc, char **argv, struct cp_opts *o)
{
    o->jobs = 1;
    o->seed_start = 1;
    o->paths = calloc((size_t)argc + 1, sizeof *o->paths);
    o->sets = calloc((size_t)argc + 1, sizeof *o->sets);
    if (!o->paths || !o->sets)
        return 3;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char err[256];
        if (strcmp(a, "--swarm") == 0) {
            o->swarm = true;
            continue;
        }
        if (strcmp(a, "--quiet") == 0) {
            o->quiet = true;
            continue;
        }
        if (a[0] != '-' || !a[1]) {
            o->paths[o->npaths++] = a;
            continue;
        }
        if (!v)
            return cp_usage("option needs a value", a);
        i++;
        if (strcmp(a, "--for") == 0) {
            if (conf_parse_duration(v, 0, &o->for_us, err, sizeof err) || o->for_us <= 0)
                return cp_usage("--for wants a duration (90s, 10m, 1h30m)", v);
        } else if (strcmp(a, "--out") == 0) {
            o->out = v;
        } else if (strcmp(a, "--jobs") == 0) {
            uint64_t n;
            if (conf_parse_u64(v, &n, err, sizeof err) || n < 1 || n > 256)
                return cp_usage("--jobs wants 1..256", v);
            o->jobs = (int)n;
        } else if (strcmp(a, "--seed-start") == 0) {
            if (conf_parse_u64(v, &o->seed_start, err, sizeof err))
                return cp_usage("--seed-start wants a non-negative integer", v);
        } else if (strcmp(a, "--set") == 0 && strchr(v, '=')) {
            o->sets[o->nsets++] = v;
        } else if (strcmp(a, "--variant") == 0) {
            o->variant = v;
        } else {
            return cp_usage("bad option or value", a);
        }
    }
    if (o->npaths == 0)
        return cp_usage("no scenario file or directory given", NULL);
    if (!o->for_us)
        return cp_usage("--for DURATION is required (how long to search)", NULL);
    if (!o->out)
        return cp_usage("--out BUGDIR is required (where the found scenarios go)", NULL);
    return 0;
}

/* Every *.scn below dir (a "bench" directory is left out: its runs last
 * hours, as scripts/run.sh leaves it out), sorted by path. */
static int cp_walk(const char *dir, char ***v, size_t *n, int depth)
{
    struct dirent **ents = NULL;
    int ne = scandir(dir, &ents, NULL, alphasort), rc = 0;
    if (ne < 0)
        return ERR_IO;
    for (int i = 0; i < ne; i++) {
        const char *nm = ents[i]->d_name;
        size_t len = strlen(nm);
        char p[4096];
        struct stat st;
        if (rc == 0 && nm[0] != '.') {
            snprintf(p, sizeof p, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", nm);
            if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
                if (strcmp(nm, "bench") != 0 && depth < 32)
                    rc = cp_walk(p, v, n, depth + 1);
            } else if (len > 4 && strcmp(nm + len - 4, ".scn") == 0) {
                char **nv = realloc(*v, (*n + 1) * sizeof *nv);
                if (!nv || !(nv[*n] = strdup(p))) {
                    if (nv)
                        *v = nv;
                    rc = ERR_NOMEM;
                } else {
                    *v = nv;
                    (*n)++;
                }
            }
        }
        free(ents[i]);
    }
    free(ents);
    return rc;
}

/* Parses every file (any error: exit 2 before a run) and lists the targets. */
static int cp_load(struct cp *c)
{
    char **paths = NULL;
    size_t np = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < c->o.npaths; i++) {
        struct stat st;
        if (stat(c->o.paths[i], &st) != 0) {
            fprintf(stderr, "%s: cannot read: %s\n", c->o.paths[i], strerror(errno));
            rc = 2;
        } else if (S_ISDIR(st.st_mode)) {
            if (cp_walk(c->o.paths[i], &paths, &np, 0)) {
                fprintf(stderr, "%s: cannot read the directory\n", c->o.paths[i]);
                rc = 2;
            }
        } else {
            char **nv = realloc(paths, (np + 1) * sizeof *nv);
            if (!nv || !(nv[np] = strdup(c->o.paths[i])))
                rc = 3;
            if (nv)
                paths = nv;
            if (!rc)
                np++;
        }
    }
    if (rc == 0 && np == 0) {
        fprintf(stderr, "s3sim campaign: no *.scn file found\n");
        rc = 2;
    }
    if (rc == 0 && !(c->files = calloc(np, sizeof *c->files)))
        rc = 3;
    for (size_t i = 0; rc == 0 && i < np; i++) {
        struct scn_error e;
        struct scn_spec sp;
        char msg[1024];
        bool all = !c->o.variant || strcmp(c->o.variant, "all") == 0;
        int prc = scn_parse_file(paths[i], &c->files[i], &e);
        c->nfiles = i + 1;
        if (prc == 0 && (prc = scn_resolve(c->files[i], NULL, c->o.sets, c->o.nsets, &sp, &e)) == 0)
            scn_spec_free(&sp);
        if (prc) {
            fprintf(stderr, "%s\n", scn_error_format(&e, msg, sizeof msg));
            rc = prc == ERR_NOMEM ? 3 : 2;
            break;
        }
        size_t nv = scn_variant_count(c->files[i]);
        for (size_t k = 0; k <= nv; k++) {
            const char *vn = k == 0 ? "base" : scn_variant_name(c->files[i], k - 1);
            struct cp_target *nt;
            if (!all && strcmp(c->o.variant, vn) != 0)
                continue;
            if (!(nt = realloc(c->targets, (c->ntargets + 1) * sizeof *nt))) {
                rc = 3;
                break;
            }
            c->targets = nt;
            nt[c->ntargets].file = c->files[i];
            snprintf(nt[c->ntargets].variant, sizeof nt[c->ntargets].variant, "%s", vn);
            c->ntargets++;
        }
    }
    if (rc == 0 && c->ntargets == 0) {
        fprintf(stderr, "s3sim campaign: no file has a variant named '%s'\n", c->o.variant);
        rc = 2;
    }
    for (size_t i = 0; i < np; i++)
        free(paths[i]);
    free(paths);
    return rc;
}

/* The spec of run (target t, seed): the file's variant with the --set knobs,
 * the seed, and with --swarm the seed's fault mix (desc gets its text). */
static int cp_spec(const struct cp *c, size_t t, uint64_t seed, struct scn_spec *sp, char *desc,
                   size_t descsz)
{
    struct scn_error e;
    int rc = scn_resolve(c->targets[t].file, c->targets[t].variant, c->o.sets, c->o.nsets, sp, &e);
    desc[0] = '\0';
    if (rc)
        return rc;
    sp->seed = seed;
    sp->have_seeds = false; /* a kept file is about its one seed */
    if ((rc = swarm_apply(seed, sp, c->o.swarm, desc, descsz)) != 0)
        scn_spec_free(sp);
    return rc;
}

static char *cp_replay(const struct cp *c, size_t t, uint64_t seed)
{
    char buf[4096];
    size_t n = (size_t)snprintf(buf, sizeof buf, "build/bin/s3sim replay %s --variant %s --seed %"
                                PRIu64 "%s", c->targets[t].file->path, c->targets[t].variant,
                                seed, c->o.swarm ? " --swarm" : "");
    for (size_t i = 0; i < c->o.nsets && n < sizeof buf; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, " --set %s", c->o.sets[i]);
    return strdup(buf);
}

/* Called with c->mu held: counts r and keeps the first run of a new signature. */
static void cp_record(struct cp *c, size_t t, uint64_t seed, const struct run_result *r)
{
    char sig[1024];
    struct cp_sig *ns;
    c->runs++;
    if (r->verdict == RUN_PASS)
        return;
    c->failures++;
    c->errors += r->verdict == RUN_ERROR;
    campaign_signature(r, sig, sizeof sig);
    for (size_t i = 0; i < c->nsigs; i++) {
        if (strcmp(c->sigs[i].sig, sig) != 0)
            continue;
        c->sigs[i].count++;
        /* Keep the earliest run of the signature whatever order threads finish in. */
        if (seed < c->sigs[i].seed || (seed == c->sigs[i].seed && t < c->sigs[i].target)) {
            char *sum = strdup(r->summary ? r->summary : "");
            if (sum) {
                free(c->sigs[i].summary);
                c->sigs[i].summary = sum;
                c->sigs[i].seed = seed;
                c->sigs[i].target = t;
            }
        }
        return;
    }
    if (!(ns = realloc(c->sigs, (c->nsigs + 1) * sizeof *ns))) {
        c->rc = ERR_NOMEM;
        return;
    }
    c->sigs = ns;
    memset(&ns[c->nsigs], 0, sizeof *ns);
    ns[c->nsigs].sig = strdup(sig);
    ns[c->nsigs].summary = strdup(r->summary ? r->summary : "");
    if (!ns[c->nsigs].sig || !ns[c->nsigs].summary) {
        free(ns[c->nsigs].sig);
        free(ns[c->nsigs].summary);
        c->rc = ERR_NOMEM;
        return;
    }
    campaign_slug(sig, ns[c->nsigs].slug, sizeof ns[c->nsigs].slug);
    ns[c->nsigs].target = t;
    ns[c->nsigs].seed = seed;
    ns[c->nsigs].count = 1;
    c->nsigs++;
}

/* Searching is over: the time is up, or two thirds of it once a failure is known. */
static bool cp_search_over(const struct cp *c, double now)
{
    return cp_stop || now >= c->t_end || (c->nsigs > c->nwritten && now >= c->t_search);
}

static void *cp_worker(void *arg)
{
    struct cp *c = arg;
    for (;;) {
        uint64_t g, seed;
        size_t t;
        struct scn_spec sp;
        struct run_result r = {0};
        char desc[1024];
        pthread_mutex_lock(&c->mu);
        if (cp_search_over(c, cp_now()) || c->rc) {
            pthread_mutex_unlock(&c->mu);
            return NULL;
        }
        g = c->next++;
        t = (size_t)(g % c->ntargets);
        seed = c->o.seed_start + g / c->ntargets;
        if (seed > c->last_seed)
            c->last_seed = seed;
        pthread_mutex_unlock(&c->mu);
        if (cp_spec(c, t, seed, &sp, desc, sizeof desc) != 0) {
            pthread_mutex_lock(&c->mu);
            c->rc = ERR_NOMEM;
            pthread_mutex_unlock(&c->mu);
            return NULL;
        }
        tools_run(&sp, c->targets[t].file->path, NULL, &r);
        scn_spec_free(&sp);
        pthread_mutex_lock(&c->mu);
        cp_record(c, t, seed, &r);
        pthread_mutex_unlock(&c->mu);
        run_result_free(&r);
    }
}

static void cp_fmt_left(double secs, char *buf, size_t sz)
{
    conf_format_duration(secs > 0 ? (int64_t)secs * 1000000 : 0, buf, sz);
}

/* One updating line on a terminal, at most once a second. */
static void cp_progress(struct cp *c, bool final)
{
    char left[40];
    double now = cp_now(), el = now - c->t0;
    pthread_mutex_lock(&c->mu);
    cp_fmt_left(c->t_end - now, left, sizeof left);
    fprintf(stderr, "\r\033[Kcampaign: %zu runs (%.1f/s), seeds %" PRIu64 "..%" PRIu64
            ", %zu failures, %zu signatures, %s left%s", c->runs,
            el > 0 ? (double)c->runs / el : 0.0, c->o.seed_start, c->last_seed, c->failures,
            c->nsigs, left, final ? "\n" : "");
    pthread_mutex_unlock(&c->mu);
    fflush(stderr);
}

static void cp_search(struct cp *c, bool tty)
{
    pthread_t th[256];
    int started = 0;
    double last = 0;
    sim_alloc_threads_ready();
    for (int i = 0; i < c->o.jobs; i++)
        if (pthread_create(&th[i], NULL, cp_worker, c) == 0)
            started++;
    if (started == 0) {
        cp_worker(c);
        return;
    }
    /* The threads stop themselves at the deadline; this thread only reports. */
    for (;;) {
        struct timespec nap = {0, 100 * 1000 * 1000};
        bool over;
        nanosleep(&nap, NULL);
        pthread_mutex_lock(&c->mu);
        over = cp_search_over(c, cp_now()) || c->rc;
        pthread_mutex_unlock(&c->mu);
        if (over)
            break;
        if (tty && cp_now() - last >= 1.0) {
            cp_progress(c, false);
            last = cp_now();
        }
    }
    if (tty)
        fprintf(stderr, "\r\033[Kcampaign: searching over, waiting for the runs in flight\n");
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
}

/* The scenario text with the --set knobs' lines taken out: the file fails
 * when run with the same --set and shows whether it passes without them. */
static void cp_strip_sets(const struct cp *c, char *text)
{
    for (size_t i = 0; i < c->o.nsets; i++) {
        char pre[256];
        const char *eq = strchr(c->o.sets[i], '=');
        size_t kl = (size_t)(eq - c->o.sets[i]);
        char *p = text;
        snprintf(pre, sizeof pre, "set %.*s ", (int)kl, c->o.sets[i]);
        while ((p = strstr(p, pre)) != NULL) {
            char *nl;
            if (p != text && p[-1] != '\n') {
                p++;
                continue;
            }
            nl = strchr(p, '\n');
            {
                char *rest = nl ? nl + 1 : p + strlen(p);
                memmove(p, rest, strlen(rest) + 1);
            }
        }
    }
}

/* Writes BUGDIR/<slug>.scn for s from spec (shrunk or not). */
static int cp_write(struct cp *c, struct cp_sig *s, const struct scn_spec *spec, const char *desc)
{
    char *text = scnw_text(spec), *replay = cp_replay(c, s->target, s->seed);
    FILE *fp;
    int rc = 0;
    snprintf(s->path, sizeof s->path, "%s/%s.scn", c->o.out, s->slug);
    if (!text || !replay || !(fp = fopen(s->path, "w"))) {
        if (text && replay)
            fprintf(stderr, "s3sim campaign: cannot write %s: %s\n", s->path, strerror(errno));
        s->path[0] = '\0';
        free(text);
        free(replay);
        return text && replay ? ERR_IO : ERR_NOMEM;
    }
    cp_strip_sets(c, text);
    fprintf(fp, "# found by s3sim campaign: %s variant %s, original seed %" PRIu64 "%s\n",
            c->targets[s->target].file->path, c->targets[s->target].variant, s->seed,
            c->o.swarm ? " (--swarm)" : "");
    fprintf(fp, "# original run: %s\n", replay);
    if (desc && *desc)
        fprintf(fp, "# --swarm added: %s\n", desc);
    fprintf(fp, "# signature: %s\n", s->sig);
    fprintf(fp, "# failed: %s\n", s->summary);
    fprintf(fp, "# seen in %zu of %zu runs (seeds %" PRIu64 "..%" PRIu64 ")\n", s->count, c->runs,
            c->o.seed_start, c->last_seed);
    if (s->shrink_runs)
        fprintf(fp, "# shrunk in %d runs%s: %zu lines -> %zu\n", s->shrink_runs,
                s->shrunk ? "" : " (cut short by the time box: maybe not the smallest)",
                s->lines_before, s->lines_after);
    else
        fprintf(fp, "# not shrunk (%s): the original run as one file\n",
                s->vacuous ? "the smallest failing scenario had no action left, a vacuous "
                             "failure" : cp_stop ? "stopped by Ctrl-C" : "no time left");
    fprintf(fp, "# replay: build/bin/s3sim run %s", s->path);
    for (size_t i = 0; i < c->o.nsets; i++)
        fprintf(fp, " --set %s", c->o.sets[i]);
    fputs("\n", fp);
    fputs(text, fp);
    if (fclose(fp) != 0)
        rc = ERR_IO;
    free(text);
    free(replay);
    return rc;
}

static size_t cp_lines(const struct scn_spec *sp)
{
    return sp->nevents + sp->nfaults + sp->nchecks;
}

/* Shrinks each signature's first run in its share of the time left, and
 * writes it (unshrunk when no time is left or Ctrl-C came). */
static int cp_shrink_all(struct cp *c, bool tty)
{
    int rc = 0;
    for (size_t i = c->nwritten; i < c->nsigs && rc != ERR_NOMEM; i++, c->nwritten = i) {
        struct cp_sig *s = &c->sigs[i];
        struct scn_spec sp, out = {0};
        char desc[1024];
        double now = cp_now(), share = (c->t_end - now) / (double)(c->nsigs - i);
        int src = cp_spec(c, s->target, s->seed, &sp, desc, sizeof desc);
        if (src) {
            rc = src;
            break;
        }
        if (!cp_stop && share > 0) {
            struct shrink_opts so = {.file = c->targets[s->target].file->path,
                                     .max_runs = 1000000,
                                     .deadline = now + share,
                                     .stop = &cp_stop};
            struct shrink_stats st = {0};
            if (tty && !c->o.quiet)
                fprintf(stderr, "campaign: shrinking %zu/%zu (%s, up to %.0fs): %s\n", i + 1,
                        c->nsigs, c->targets[s->target].file->path, share, s->sig);
            int srk = shrink_spec(&sp, &so, &out, &st);
            s->shrink_runs = st.runs;
            /* A shrink that dropped every action fails vacuously (a lower bound
             * on a metric of a world that did nothing): keep the original. */
            if (srk == 0 && out.nevents == 0 && sp.nevents > 0) {
                s->vacuous = true;
                scn_spec_free(&out);
                srk = ERR_INVAL;
            }
            if (srk == 0) {
                s->shrunk = cp_now() < so.deadline && !cp_stop;
                s->lines_before = cp_lines(&sp);
                s->lines_after = cp_lines(&out);
                rc = cp_write(c, s, &out, desc);
                scn_spec_free(&out);
                scn_spec_free(&sp);
                continue;
            }
            if (srk == ERR_NOMEM)
                rc = srk;
            s->shrink_runs = 0; /* could not shrink (e.g. not writable): the original below */
        }
        /* The original run as one file (scnw_reparse proves it writes back). */
        {
            struct scn_spec rp;
            struct scn_error e;
            if (scnw_reparse(&sp, c->targets[s->target].file->path, &rp, &e) == 0) {
                scn_spec_free(&rp);
                if (cp_write(c, s, &sp, desc) == ERR_NOMEM)
                    rc = ERR_NOMEM;
            } else if (!c->o.quiet) {
                fprintf(stderr, "s3sim campaign: %s seed %" PRIu64 " cannot be written as one "
                        "file; replay: %s\n", c->targets[s->target].file->path, s->seed,
                        s->sig);
            }
        }
        scn_spec_free(&sp);
    }
    return rc;
}

static void cp_summary(const struct cp *c, FILE *f)
{
    char took[40];
    conf_format_duration((int64_t)(cp_now() - c->t0) * 1000000, took, sizeof took);
    fprintf(f, "campaign: %zu runs in %s, seeds %" PRIu64 "..%" PRIu64 " of %zu file variants, "
            "%zu failed (%zu errors), %zu signatures%s\n", c->runs, took, c->o.seed_start,
            c->last_seed, c->ntargets, c->failures, c->errors, c->nsigs,
            cp_stop ? " (stopped by Ctrl-C)" : "");
    for (size_t i = 0; i < c->nsigs; i++) {
        const struct cp_sig *s = &c->sigs[i];
        fprintf(f, "  %zux %s\n     first: %s %s seed=%" PRIu64 "\n     file: %s%s\n", s->count,
                s->sig, c->targets[s->target].file->path, c->targets[s->target].variant,
                s->seed, s->path[0] ? s->path : "(not written)",
                s->path[0] ? (s->shrink_runs ? (s->shrunk ? " (shrunk)" : " (partly shrunk)")
                                             : " (not shrunk)")
                           : "");
    }
}

int cmd_campaign(int argc, char **argv)
{
    struct cp c = {.mu = PTHREAD_MUTEX_INITIALIZER};
    bool tty;
    int rc = cp_parse_args(argc, argv, &c.o);
    struct sigaction sa = {0}, old;
    if (rc == 0)
        rc = cp_load(&c);
    if (rc == 0 && mkdir(c.o.out, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "s3sim campaign: cannot create %s: %s\n", c.o.out, strerror(errno));
        rc = 2;
    }
    if (rc == 0) {
        tty = !c.o.quiet && isatty(2);
        cp_stop = 0;
        sa.sa_handler = cp_on_sigint;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old);
        c.t0 = cp_now();
        c.t_end = c.t0 + (double)c.o.for_us / 1e6;
        c.t_search = c.t0 + (double)c.o.for_us / 1e6 * 2.0 / 3.0;
        c.last_seed = c.o.seed_start;
        if (!c.o.quiet)
            fprintf(stderr, "campaign: %zu file variants, seeds from %" PRIu64 ", %d jobs, for "
                    "%s%s -> %s\n", c.ntargets, c.o.seed_start, c.o.jobs,
                    conf_format_duration(c.o.for_us, (char[40]){0}, 40),
                    c.o.swarm ? ", --swarm" : "", c.o.out);
        /* Search, shrink what is new, and search again in the time the
         * shrinks left over (two thirds of it), until the time is up. */
        for (;;) {
            double left;
            cp_search(&c, tty);
            if (tty)
                cp_progress(&c, true);
            if (c.rc == 0)
                c.rc = cp_shrink_all(&c, tty);
            left = c.t_end - cp_now();
            if (c.rc || cp_stop || left < 1.0)
                break;
            c.t_search = cp_now() + left * 2.0 / 3.0;
        }
        sigaction(SIGINT, &old, NULL);
        cp_summary(&c, stdout);
        {
            char path[4200];
            FILE *f;
            snprintf(path, sizeof path, "%s/campaign.txt", c.o.out);
            if ((f = fopen(path, "w")) != NULL) {
                cp_summary(&c, f);
                fclose(f);
            }
        }
        rc = c.rc == ERR_NOMEM ? 3 : c.errors ? 3 : c.nsigs ? 1 : 0;
    }
    for (size_t i = 0; i < c.nsigs; i++) {
        free(c.sigs[i].sig);
        free(c.sigs[i].summary);
    }
    free(c.sigs);
    free(c.targets);
    for (size_t i = 0; i < c.nfiles; i++)
        scn_free(c.files[i]);
    free(c.files);
    free(c.o.paths);
    free(c.o.sets);
    return rc;
}
