/* run.c - see run.h. */
#include "run.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "alloc.h"
#include "conf.h"
#include "err.h"
#include "report.h"
#include "cost.h"
#include "progress.h"
#include "rundump.h"
#include "scn.h"
#include "shard.h"
#include "swarm.h"
#include "tools.h"
#include "world.h"
#include "world_http.h"

#define RUN_MAX_SEEDS 1000000

struct run_opts {
    bool replay;
    bool have_seed, have_seeds;
    uint64_t seed, seed_lo, seed_hi;
    const char *variant;       /* NULL or "all": every variant */
    const char **sets;         /* --set KNOB=VALUE */
    size_t nsets;
    const char **faults;       /* --fault "FAULT LINE", added before the file's own */
    struct fs3_rule *rules;    /* the parsed --fault lines */
    size_t nfaults;
    int jobs;
    const char *report;
    uint64_t max_memory;       /* --max-memory SIZE (default 4GiB): the run-level budget */
    bool report_all;
    bool trace;
    bool quiet;
    bool swarm;
    const char *mode;
    double time_scale;         /* --time-scale (http mode), 0: default */
    const char *endpoint;      /* --endpoint URL (http mode) */
    const char *bucket;        /* --bucket NAME (with --endpoint) */
    const char **paths;
    size_t npaths;
    struct shard_spec shard;   /* --shard K/N or the CI variables; n == 0: all runs */
    bool shard_given;          /* --shard given (the CI variables are not read) */
    const char *timings;       /* --timings FILE: balances the shards */
    size_t total;              /* runs of the unsharded set */
    struct progress *progress; /* the progress line on a terminal, or NULL */
};

/* One (file, variant, seed) run. */
struct run_job {
    struct scn_file *file;
    char variant[SCN_NAME_MAX];
    uint64_t seed;
    size_t index;              /* place in the unsharded order */
    size_t slot;               /* place in this run's jobs (the progress line) */
    struct run_result res;
    int rc;
    bool done;
};

struct run_pool {
    struct run_job *jobs;
    size_t njobs;
    const struct run_opts *o;
    size_t next;               /* next job to start */
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

/* ---- arguments ----------------------------------------------------------------------- */

static int run_usage(const char *msg, const char *arg)
{
    fprintf(stderr, "s3sim: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    fprintf(stderr, "usage: s3sim run FILE|DIR... [--seed N | --seeds A..B] [--variant NAME|all]\n"
                    "                 [--set KNOB=VALUE]... [--mode sim|http] [--swarm] [--jobs N]\n"
                    "                 [--report DIR] [--report-all] [--trace] [--quiet]\n"
                    "                 [--fault \"FAULT LINE\"]... [--time-scale F]\n"
                    "                 [--endpoint URL [--bucket NAME]]\n"
                    "                 [--shard K/N|none] [--timings FILE] [--prices FILE]\n"
                    "                 [--max-memory SIZE]\n"
                    "       s3sim replay FILE --seed N [--variant NAME] [--fault \"FAULT LINE\"]...\n");
    return 2;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;
    if (!s || !*s || *s == '-' || *s == '+')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static int run_parse_args(int argc, char **argv, struct run_opts *o)
{
    o->replay = strcmp(argv[0], "replay") == 0;
    o->jobs = 1;
    o->mode = "sim";
    o->max_memory = (uint64_t)4 << 30;
    o->paths = calloc((size_t)argc, sizeof *o->paths);
    o->sets = calloc((size_t)argc, sizeof *o->sets);
    o->faults = calloc((size_t)argc, sizeof *o->faults);
    o->rules = calloc((size_t)argc, sizeof *o->rules);
    if (!o->paths || !o->sets || !o->faults || !o->rules)
        return run_usage("out of memory", NULL);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;
        if (strcmp(a, "--seed") == 0) {
            if (!parse_u64(v, &o->seed))
                return run_usage("--seed wants a non-negative integer", v);
            o->have_seed = true;
        } else if (strcmp(a, "--seeds") == 0) {
            const char *dots = v ? strstr(v, "..") : NULL;
            char lo[32];
            if (!dots || (size_t)(dots - v) >= sizeof lo)
                return run_usage("--seeds wants A..B", v);
            memcpy(lo, v, (size_t)(dots - v));
            lo[dots - v] = 0;
            if (!parse_u64(lo, &o->seed_lo) || !parse_u64(dots + 2, &o->seed_hi) ||
                o->seed_hi < o->seed_lo || o->seed_hi - o->seed_lo >= RUN_MAX_SEEDS)
                return run_usage("--seeds wants A..B with A <= B (at most 1000000 seeds)", v);
            o->have_seeds = true;
        } else if (strcmp(a, "--variant") == 0) {
            if (!v)
                return run_usage("--variant wants a name", NULL);
            o->variant = v;
        } else if (strcmp(a, "--set") == 0) {
            if (!v || !strchr(v, '='))
                return run_usage("--set wants KNOB=VALUE", v);
            o->sets[o->nsets++] = v;
        } else if (strcmp(a, "--fault") == 0) {
            struct scn_error e;
            char msg[1024];
            if (!v)
                return run_usage("--fault wants a fault line", NULL);
            if (scn_parse_fault("--fault", v, &o->rules[o->nfaults], &e)) {
                fprintf(stderr, "%s\n", scn_error_format(&e, msg, sizeof msg));
                return 2;
            }
            o->faults[o->nfaults++] = v;
        } else if (strcmp(a, "--mode") == 0) {
            if (!v || (strcmp(v, "sim") && strcmp(v, "http")))
                return run_usage("--mode wants sim or http", v);
            o->mode = v;
        } else if (strcmp(a, "--time-scale") == 0) {
            char *end = NULL;
            double f = v ? strtod(v, &end) : 0;
            if (!v || !end || *end || !(f > 0 && f <= 1000))
                return run_usage("--time-scale wants a factor in (0, 1000]", v);
            o->time_scale = f;
        } else if (strcmp(a, "--endpoint") == 0) {
            if (!v || strncmp(v, "http", 4) != 0)
                return run_usage("--endpoint wants a URL (http://host:port)", v);
            o->endpoint = v;
        } else if (strcmp(a, "--bucket") == 0) {
            if (!v)
                return run_usage("--bucket wants a bucket name", NULL);
            o->bucket = v;
        } else if (strcmp(a, "--jobs") == 0) {
            uint64_t n;
            if (!parse_u64(v, &n) || n < 1 || n > 256)
                return run_usage("--jobs wants 1..256", v);
            o->jobs = (int)n;
        } else if (strcmp(a, "--shard") == 0) {
            if (v && strcmp(v, "none") == 0)
                o->shard.n = 0;
            else if (shard_parse(v, &o->shard))
                return run_usage("--shard wants K/N with 1 <= K <= N (or none)", v);
            o->shard_given = true;
        } else if (strcmp(a, "--prices") == 0) {
            struct cost_table t;
            char why[512];
            if (!v)
                return run_usage("--prices wants a price table file", NULL);
            if (cost_load(v, &t, why, sizeof why)) {
                fprintf(stderr, "%s\n", why);
                return 2;
            }
            cost_use(&t);
        } else if (strcmp(a, "--timings") == 0) {
            if (!v)
                return run_usage("--timings wants a file (DIR/timings.tsv of a --report)", NULL);
            o->timings = v;
        } else if (strcmp(a, "--max-memory") == 0) {
            char msg[CONF_ERR_MAX];
            int64_t b = 0;
            if (!v || conf_parse_size(v, false, &b, msg, sizeof msg) != 0 || b <= 0)
                return run_usage("--max-memory wants a size above 0 such as 4GiB", v);
            o->max_memory = (uint64_t)b;
        } else if (strcmp(a, "--report") == 0) {
            if (!v)
                return run_usage("--report wants a directory", NULL);
            o->report = v;
        } else {
            takes = false;
            if (strcmp(a, "--trace") == 0)
                o->trace = true;
            else if (strcmp(a, "--quiet") == 0)
                o->quiet = true;
            else if (strcmp(a, "--swarm") == 0)
                o->swarm = true;
            else if (strcmp(a, "--report-all") == 0)
                o->report_all = true;
            else if (a[0] == '-' && a[1])
                return run_usage("unknown option", a);
            else
                o->paths[o->npaths++] = a;
        }
        if (takes)
            i++;
    }
    if (o->npaths == 0)
        return run_usage("no scenario file or directory given", NULL);
    if (o->have_seed && o->have_seeds)
        return run_usage("--seed and --seeds exclude each other", NULL);
    if (o->quiet && o->trace)
        return run_usage("--quiet and --trace exclude each other", NULL);
    if (o->replay) {
        o->trace = true;
        if (!o->have_seed)
            return run_usage("replay needs --seed N", NULL);
        if (o->npaths != 1)
            return run_usage("replay takes one scenario file", NULL);
    }
    if (strcmp(o->mode, "http") != 0 && (o->time_scale > 0 || o->endpoint))
        return run_usage("--time-scale and --endpoint need --mode http", NULL);
    if (o->bucket && !o->endpoint)
        return run_usage("--bucket needs --endpoint", NULL);
    if (o->endpoint && o->nfaults)
        return run_usage("--fault needs the fake S3: it cannot be used with --endpoint", NULL);
    if (!o->shard_given && !o->replay) {
        char why[256];
        if (shard_from_env(&o->shard, why, sizeof why))
            return run_usage(why, NULL);
    }
    if (o->replay && o->shard_given)
        return run_usage("replay runs one run: --shard does not apply", NULL);
    return 0;
}

/* ---- files ---------------------------------------------------------------------------- */

struct path_list {
    char **v;
    size_t n, cap;
};

static int path_add(struct path_list *l, const char *p)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **nv = realloc(l->v, cap * sizeof *nv);
        if (!nv)
            return ERR_NOMEM;
        l->v = nv;
        l->cap = cap;
    }
    if (!(l->v[l->n] = strdup(p)))
        return ERR_NOMEM;
    l->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.scn below dir, recursively; sorted by path at the end. */
static int path_walk(struct path_list *l, const char *dir, int depth)
{
    DIR *d;
    struct dirent *e;
    int rc = 0;
    if (depth > 32)
        return 0;
    if (!(d = opendir(dir)))
        return ERR_IO;
    while (rc == 0 && (e = readdir(d))) {
        char p[4096];
        struct stat st;
        size_t n = strlen(e->d_name);
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", e->d_name);
        if (stat(p, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            rc = path_walk(l, p, depth + 1);
        else if (n > 4 && strcmp(e->d_name + n - 4, ".scn") == 0)
            rc = path_add(l, p);
    }
    closedir(d);
    return rc;
}

static int run_collect(const struct run_opts *o, struct path_list *l)
{
    for (size_t i = 0; i < o->npaths; i++) {
        struct stat st;
        size_t first = l->n;
        if (stat(o->paths[i], &st) != 0) {
            fprintf(stderr, "%s: cannot read: %s\n", o->paths[i], strerror(errno));
            return 2;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (path_add(l, o->paths[i]))
                return 3;
            continue;
        }
        if (path_walk(l, o->paths[i], 0)) {
            fprintf(stderr, "%s: cannot read the directory\n", o->paths[i]);
            return 2;
        }
        if (l->n > first) /* (qsort of a NULL array is UB, even of 0 elements) */
            qsort(l->v + first, l->n - first, sizeof *l->v, cmp_str);
    }
    if (l->n == 0) {
        fprintf(stderr, "s3sim: no *.scn file found\n");
        return 2;
    }
    return 0;
}

/* ---- jobs ------------------------------------------------------------------------------ */

static int job_add(struct run_job **jobs, size_t *n, size_t *cap, struct scn_file *f,
                   const char *variant, uint64_t seed)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        struct run_job *nj = realloc(*jobs, nc * sizeof *nj);
        if (!nj)
            return ERR_NOMEM;
        *jobs = nj;
        *cap = nc;
    }
    memset(&(*jobs)[*n], 0, sizeof **jobs);
    (*jobs)[*n].file = f;
    snprintf((*jobs)[*n].variant, SCN_NAME_MAX, "%s", variant);
    (*jobs)[*n].seed = seed;
    (*jobs)[*n].index = *n;
    (*n)++;
    return 0;
}

/* The seeds of the file without --seed/--seeds: its `seeds A..B` range, else its
 * seed N (resolve the base once to read them). */
static void file_seeds(const struct scn_file *f, uint64_t *lo, uint64_t *hi)
{
    struct scn_spec sp;
    struct scn_error e;
    *lo = *hi = 1;
    if (scn_resolve(f, NULL, NULL, 0, &sp, &e) == 0) {
        *lo = sp.have_seeds ? sp.seeds_lo : sp.seed;
        *hi = sp.have_seeds ? sp.seeds_hi : sp.seed;
        scn_spec_free(&sp);
    }
}

static int run_expand(const struct run_opts *o, struct scn_file **files, size_t nfiles,
                      struct run_job **jobs, size_t *njobs)
{
    size_t cap = 0;
    bool all = !o->variant || strcmp(o->variant, "all") == 0;
    for (size_t i = 0; i < nfiles; i++) {
        struct scn_file *f = files[i];
        uint64_t lo, hi;
        file_seeds(f, &lo, &hi);
        if (o->have_seeds || o->have_seed) {
            lo = o->have_seeds ? o->seed_lo : o->seed;
            hi = o->have_seeds ? o->seed_hi : lo;
        }
        size_t nv = scn_variant_count(f);
        bool found = all || strcmp(o->variant, "base") == 0;
        for (size_t k = 0; !found && k < nv; k++)
            found = strcmp(scn_variant_name(f, k), o->variant) == 0;
        if (!found) {
            if (nfiles == 1) {
                fprintf(stderr, "%s: no variant named '%s'\n", f->path, o->variant);
                return 2;
            }
            continue;
        }
        for (uint64_t seed = lo;; seed++) {
            if (all || strcmp(o->variant, "base") == 0)
                if (job_add(jobs, njobs, &cap, f, "base", seed))
                    return 3;
            for (size_t k = 0; k < nv; k++) {
                const char *vn = scn_variant_name(f, k);
                if ((all || strcmp(o->variant, vn) == 0) && job_add(jobs, njobs, &cap, f, vn, seed))
                    return 3;
            }
            if (seed == hi)
                break;
        }
    }
    return 0;
}

/* --endpoint: fault lines (and race-delete and race-put, which change the
 * fake store behind the engine's back) need the fake S3.  Returns 0, or 2 after saying which job. */
static int run_refuse_faults(const struct run_opts *o, struct run_job *jobs, size_t njobs)
{
    for (size_t i = 0; o->endpoint && i < njobs; i++) {
        struct scn_spec sp;
        struct scn_error e;
        int line = 0;
        if (scn_resolve(jobs[i].file, jobs[i].variant, o->sets, o->nsets, &sp, &e) != 0)
            continue;
        if (sp.nfaults)
            line = sp.faults[0].line ? sp.faults[0].line : -1;
        for (size_t k = 0; !line && k < sp.nevents; k++) {
            enum scn_act_kind kd = sp.events[k].act.kind;
            if (kd == SCN_ACT_FAULT || kd == SCN_ACT_HEAL || kd == SCN_ACT_RACE_DELETE ||
                kd == SCN_ACT_RACE_PUT)
                line = sp.events[k].line;
        }
        scn_spec_free(&sp);
        if (line) {
            fprintf(stderr, "%s:%d: variant %s: fault lines (and race-delete, race-put) need the fake S3; "
                    "they cannot run with --endpoint %s\n", jobs[i].file->path, line > 0 ? line : 0,
                    jobs[i].variant, o->endpoint);
            return 2;
        }
    }
    return 0;
}

/* --mode http: a late= fault (the in-process fake reads a late attempt's body
 * from the client's buffer when it lands; over HTTP the body went over the
 * wire before the attempt timed out).  Returns 0, or 2 after saying where. */
static int run_refuse_late(const struct run_opts *o, struct run_job *jobs, size_t njobs)
{
    static const char why[] = "late= needs --mode sim: the in-process fake reads a late attempt's "
                              "body from the engine's buffer when it lands, which a body sent over "
                              "HTTP cannot model";
    if (strcmp(o->mode, "http") != 0)
        return 0;
    for (size_t i = 0; i < o->nfaults; i++)
        if (o->rules[i].effect == FS3_EFF_LATE) {
            fprintf(stderr, "--fault \"%s\": %s\n", o->faults[i], why);
            return 2;
        }
    for (size_t i = 0; i < njobs; i++) {
        struct scn_spec sp;
        struct scn_error e;
        int line = 0;
        if (scn_resolve(jobs[i].file, jobs[i].variant, o->sets, o->nsets, &sp, &e) != 0)
            continue;
        for (size_t k = 0; !line && k < sp.nfaults; k++)
            if (sp.faults[k].effect == FS3_EFF_LATE)
                line = sp.faults[k].line;
        for (size_t k = 0; !line && k < sp.nevents; k++)
            if (sp.events[k].act.kind == SCN_ACT_FAULT &&
                sp.events[k].act.rule.effect == FS3_EFF_LATE)
                line = sp.events[k].line;
        scn_spec_free(&sp);
        if (line) {
            fprintf(stderr, "%s:%d: variant %s: %s\n", jobs[i].file->path, line,
                    jobs[i].variant, why);
            return 2;
        }
    }
    return 0;
}

/* Does a --set name engine.profile? */
static bool run_sets_profile(const struct run_opts *o)
{
    for (size_t i = 0; i < o->nsets; i++)
        if (strncmp(o->sets[i], "engine.profile=", 15) == 0)
            return true;
    return false;
}

static void job_replay_line(struct run_job *j, const struct run_opts *o)
{
    char buf[4096];
    int n = snprintf(buf, sizeof buf, "build/bin/s3sim replay %s --variant %s --seed %" PRIu64,
                     j->file->path, j->variant, j->seed);
    for (size_t i = 0; i < o->nsets && n > 0 && (size_t)n < sizeof buf; i++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, " --set %s", o->sets[i]);
    for (size_t i = 0; i < o->nfaults && n > 0 && (size_t)n < sizeof buf; i++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, " --fault \"%s\"", o->faults[i]);
    if (o->swarm && n > 0 && (size_t)n < sizeof buf)
        n += snprintf(buf + n, sizeof buf - (size_t)n, " --swarm");
    /* http mode is not deterministic: the replay runs it again, not the same. */
    if (strcmp(o->mode, "http") == 0 && n > 0 && (size_t)n < sizeof buf)
        n += snprintf(buf + n, sizeof buf - (size_t)n, " --mode http");
    if (o->time_scale > 0 && n > 0 && (size_t)n < sizeof buf)
        n += snprintf(buf + n, sizeof buf - (size_t)n, " --time-scale %g", o->time_scale);
    if (o->endpoint && n > 0 && (size_t)n < sizeof buf)
        n += snprintf(buf + n, sizeof buf - (size_t)n, " --endpoint %s", o->endpoint);
    if (o->bucket && n > 0 && (size_t)n < sizeof buf)
        n += snprintf(buf + n, sizeof buf - (size_t)n, " --bucket %s", o->bucket);
    /* A profile other than the default is named even when the file sets it (the same value). */
    if (j->res.profile[0] && strcmp(j->res.profile, "automq") != 0 && !run_sets_profile(o) &&
        n > 0 && (size_t)n < sizeof buf)
        snprintf(buf + n, sizeof buf - (size_t)n, " --set engine.profile=%s", j->res.profile);
    j->res.replay = strdup(buf);
}

static void job_execute(struct run_job *j, const struct run_opts *o, FILE *trace_out)
{
    struct scn_spec sp;
    struct scn_error e;
    struct world_opts wo = {trace_out, NULL, o->max_memory};
    char label[160];
    struct timespec t0, t1;
    int rc = scn_resolve(j->file, j->variant, o->sets, o->nsets, &sp, &e);
    j->res.file = strdup(j->file->path);
    j->res.scenario = strdup(j->file->name);
    j->res.variant = strdup(j->variant);
    j->res.seed = j->seed;
    if (!rc)
        snprintf(j->res.profile, sizeof j->res.profile, "%s",
                 conf_profile_name((enum conf_profile)conf_get(&sp.conf, CONF_PROFILE)));
    job_replay_line(j, o);
    if (rc) {
        char msg[1024];
        j->res.verdict = RUN_ERROR;
        j->res.summary = strdup(scn_error_format(&e, msg, sizeof msg));
        j->rc = rc;
        return;
    }
    sp.seed = j->seed;
    for (size_t i = o->nfaults; i-- > 0;)
        tools_add_fault(&sp, &o->rules[i], true);
    if (o->swarm || sp.swarm) { /* --swarm, or the file's `swarm` directive */
        char desc[1024];
        if (swarm_apply(j->seed, &sp, o->swarm, desc, sizeof desc) == 0)
            j->res.swarm = strdup(desc);
    }
    snprintf(label, sizeof label, "%s %s seed=%" PRIu64, j->file->name, j->variant, j->seed);
    /* http mode runs in real time: its virtual clock is not published. */
    if (strcmp(o->mode, "http") != 0)
        wo.vtime_us = progress_begin(o->progress, j->slot, label, sp.deadline_us);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (strcmp(o->mode, "http") == 0) {
        struct world_http_opts ho = {o->time_scale, o->endpoint, o->bucket};
        j->rc = world_run_http(&sp, j->file->path, &wo, &ho, &j->res);
    } else {
        j->rc = world_run(&sp, j->file->path, &wo, &j->res);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    j->res.wall_seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (wo.vtime_us)
        progress_end(o->progress, j->slot);
    scn_spec_free(&sp);
}

static void *pool_worker(void *arg)
{
    struct run_pool *p = arg;
    for (;;) {
        size_t i;
        pthread_mutex_lock(&p->mu);
        i = p->next++;
        pthread_mutex_unlock(&p->mu);
        if (i >= p->njobs)
            return NULL;
        job_execute(&p->jobs[i], p->o, NULL);
        pthread_mutex_lock(&p->mu);
        p->jobs[i].done = true;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
}

/* --shard: keeps the jobs of slice K of N in place (in their order). */
static int run_shard(const struct run_opts *o, struct run_job *jobs, size_t *njobs)
{
    struct shard_timings t = {0};
    struct shard_key *keys;
    unsigned *of;
    size_t kept = 0;
    char why[512];
    int rc = 0;
    if (o->shard.n == 0)
        return 0;
    if (o->timings) {
        rc = shard_timings_load(o->timings, &t, why, sizeof why);
        if (rc == ERR_IO && errno == ENOENT) {
            if (!o->quiet)
                fprintf(stderr, "s3sim: %s: no such file; shards split round-robin\n",
                        o->timings);
            rc = 0;
        } else if (rc) {
            fprintf(stderr, "%s\n", why);
            return rc == ERR_NOMEM ? 3 : 2;
        }
    }
    keys = calloc(*njobs + 1, sizeof *keys);
    of = calloc(*njobs + 1, sizeof *of);
    if (keys && of) {
        for (size_t i = 0; i < *njobs; i++)
            keys[i] = (struct shard_key){jobs[i].file->path, jobs[i].variant, jobs[i].seed};
        rc = shard_assign(keys, *njobs, o->shard.n, &t, of);
    }
    if (!keys || !of || rc) {
        rc = 3;
    } else {
        for (size_t i = 0; i < *njobs; i++)
            if (of[i] == o->shard.k - 1)
                jobs[kept++] = jobs[i];
        if (!o->quiet)
            fprintf(stderr, "shard %u/%u (%s%s): %zu of %zu runs\n", o->shard.k, o->shard.n,
                    o->shard.source, t.n ? ", balanced by --timings" : "", kept, *njobs);
        *njobs = kept;
    }
    free(keys);
    free(of);
    shard_timings_free(&t);
    return rc;
}

/* ---- output ---------------------------------------------------------------------------- */

/* " profile=hardened" on the run line when the profile is not the default. */
static const char *run_profile_shown(const struct run_result *r)
{
    return r->profile[0] && strcmp(r->profile, "automq") != 0 ? r->profile : "";
}

static const char *run_profile_sep(const struct run_result *r)
{
    return run_profile_shown(r)[0] ? " profile=" : "";
}

static void print_result(const struct run_job *j, const struct run_opts *o)
{
    const struct run_result *r = &j->res;
    char t[32];
    progress_hold(o->progress);
    env_fmt_duration(r->vtime_us, t, sizeof t);
    if (r->verdict == RUN_PASS) {
        if (!o->quiet)
            printf("PASS %s %s seed=%" PRIu64 "%s%s t=%s ops=%" PRIu64 " trace=%.12s%s%s%s\n",
                   r->scenario, r->variant, r->seed, run_profile_sep(r), run_profile_shown(r), t,
                   r->ops, r->trace_hex,
                   r->swarm ? " swarm=\"" : "", r->swarm ? r->swarm : "", r->swarm ? "\"" : "");
    } else {
        /* Every failed check, then the trace hash like a PASS line. */
        printf("%s %s %s seed=%" PRIu64 "%s%s t=%s %s%s%.12s\n",
               r->verdict == RUN_ERROR ? "ERROR" : "FAIL", r->scenario, r->variant, r->seed,
               run_profile_sep(r), run_profile_shown(r), t, r->summary ? r->summary : "",
               r->verdict == RUN_FAIL ? " trace=" : "", r->verdict == RUN_FAIL ? r->trace_hex : "");
        if (r->swarm)
            printf("     swarm: %s\n", r->swarm);
        printf("     replay: %s\n", r->replay ? r->replay : "");
        fflush(stdout);
        if (r->hang && r->nwaits) {
            fprintf(stderr, "hang report for %s %s seed=%" PRIu64 ": %zu waits pending, "
                    "last progress at %s\n", r->scenario, r->variant, r->seed, r->nwaits,
                    r->last_progress_us >= 0 ? env_fmt_duration(r->last_progress_us, t, sizeof t)
                                             : "never");
            for (size_t i = 0; i < r->nwaits; i++) {
                char a[32], s[32];
                fprintf(stderr, "  - %s: %s (since %s, waiting %s)\n", r->waits[i].who,
                        r->waits[i].what, env_fmt_duration(r->waits[i].since_us, s, sizeof s),
                        env_fmt_duration(r->waits[i].age_us, a, sizeof a));
            }
        }
    }
    fflush(stdout);
    progress_release(o->progress);
}

static int run_all(struct run_job *jobs, size_t njobs, const struct run_opts *o)
{
    struct run_pool p = {jobs, njobs, o, 0, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};
    pthread_t th[256];
    int nth = o->jobs < (int)njobs ? o->jobs : (int)njobs;
    int started = 0;
    if (nth <= 1 || o->trace) {
        for (size_t i = 0; i < njobs; i++) {
            job_execute(&jobs[i], o, o->trace ? stdout : NULL);
            print_result(&jobs[i], o);
        }
        return 0;
    }
    sim_alloc_threads_ready();
    for (int i = 0; i < nth; i++)
        if (pthread_create(&th[i], NULL, pool_worker, &p) == 0)
            started++;
    if (started == 0)
        pool_worker(&p);
    /* Print in job order, whatever order the threads finish in. */
    for (size_t i = 0; i < njobs; i++) {
        pthread_mutex_lock(&p.mu);
        while (!jobs[i].done)
            pthread_cond_wait(&p.cv, &p.mu);
        pthread_mutex_unlock(&p.mu);
        print_result(&jobs[i], o);
    }
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    return 0;
}

static int run_report(const struct run_opts *o, struct run_job *jobs, size_t njobs)
{
    struct run_result **rs = calloc(njobs + 1, sizeof *rs);
    size_t *idx = calloc(njobs + 1, sizeof *idx);
    struct rundump_head h = {o->shard.n ? o->shard.k : 1, o->shard.n ? o->shard.n : 1, o->total,
                             o->report_all};
    int rc;
    if (!rs || !idx) {
        free(rs);
        free(idx);
        return ERR_NOMEM;
    }
    for (size_t i = 0; i < njobs; i++) {
        rs[i] = &jobs[i].res;
        idx[i] = jobs[i].index;
    }
    rc = rpt_write(o->report, rs, njobs, o->report_all);
    if (rc == 0)
        rc = rundump_save(o->report, &h, rs, idx, njobs);
    free(rs);
    free(idx);
    if (rc)
        fprintf(stderr, "s3sim: writing the reports into %s failed: %s\n", o->report, err_str(rc));
    else if (!o->quiet)
        fprintf(stderr, "reports: %s/index.html (results.json, junit.xml, coverage.json)\n",
                o->report);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    struct run_opts o = {0};
    struct path_list pl = {0};
    struct scn_file **files = NULL;
    struct run_job *jobs = NULL;
    size_t njobs = 0, passed = 0, failed = 0;
    int rc = run_parse_args(argc, argv, &o);
    bool broke = false;

    if (rc == 0)
        rc = run_collect(&o, &pl);
    if (rc == 0 && o.report) {
        /* Bad input, found before any run rather than after all of them. */
        char why[512];
        if (rpt_prepare(o.report, why, sizeof why) != 0) {
            fprintf(stderr, "s3sim: --report %s: %s\n", o.report, why);
            rc = 2;
        }
    }
    if (rc == 0 && !(files = calloc(pl.n, sizeof *files)))
        rc = 3;
    /* Parse everything (and check the --set overrides) before any run starts. */
    for (size_t i = 0; rc == 0 && i < pl.n; i++) {
        struct scn_error e;
        struct scn_spec sp;
        char msg[1024];
        int prc = scn_parse_file(pl.v[i], &files[i], &e);
        /* Every variant, with the overrides: the scenario.max.* limits. */
        for (size_t k = 0; prc == 0 && k < files[i]->nsections; k++)
            if ((prc = scn_resolve(files[i], files[i]->sections[k].name, o.sets, o.nsets, &sp,
                                   &e)) == 0)
                scn_spec_free(&sp);
        if (prc) {
            fprintf(stderr, "%s\n", scn_error_format(&e, msg, sizeof msg));
            rc = prc == ERR_NOMEM ? 3 : 2;
        }
    }
    if (rc == 0)
        rc = run_expand(&o, files, pl.n, &jobs, &njobs);
    if (rc == 0)
        rc = run_refuse_faults(&o, jobs, njobs);
    if (rc == 0)
        rc = run_refuse_late(&o, jobs, njobs);
    o.total = njobs;
    if (rc == 0)
        rc = run_shard(&o, jobs, &njobs);
    if (rc == 0) {
        for (size_t i = 0; i < njobs; i++)
            jobs[i].slot = i;
        o.progress = progress_start(njobs, !o.quiet && !o.trace);
        run_all(jobs, njobs, &o);
        progress_stop(o.progress);
        o.progress = NULL;
        for (size_t i = 0; i < njobs; i++) {
            if (jobs[i].res.verdict == RUN_PASS)
                passed++;
            else
                failed++;
            broke |= jobs[i].res.verdict == RUN_ERROR;
        }
        printf("%zu passed, %zu failed\n", passed, failed);
        rc = broke ? 3 : failed ? 1 : 0;
        if (o.report && run_report(&o, jobs, njobs) != 0 && rc == 0)
            rc = 3;
    }
    for (size_t i = 0; i < njobs; i++)
        run_result_free(&jobs[i].res);
    free(jobs);
    for (size_t i = 0; i < pl.n; i++) {
        if (files)
            scn_free(files[i]);
        free(pl.v[i]);
    }
    free(files);
    free(pl.v);
    free(o.paths);
    free(o.sets);
    free(o.faults);
    free(o.rules);
    return rc;
}
