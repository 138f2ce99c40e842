/* shard.c - see shard.h. */
#include "shard.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"

#define SHARD_MAX 100000u

static bool shard_num(const char *s, uint64_t *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return errno == 0 && *end == '\0';
}

int shard_parse(const char *s, struct shard_spec *out)
{
    const char *slash = s ? strchr(s, '/') : NULL;
    char k[24];
    uint64_t kv, nv;
    if (!slash || (size_t)(slash - s) >= sizeof k)
        return -1;
    memcpy(k, s, (size_t)(slash - s));
    k[slash - s] = '\0';
    if (!shard_num(k, &kv) || !shard_num(slash + 1, &nv) || nv < 1 || nv > SHARD_MAX || kv < 1 ||
        kv > nv)
        return -1;
    out->k = (unsigned)kv;
    out->n = (unsigned)nv;
    out->source = "--shard";
    return 0;
}

/* index (0- or 1-based as base says) and total from two variables. */
static int shard_env_pair(const char *ivar, const char *nvar, unsigned base, struct shard_spec *out,
                          char *why, size_t whysz)
{
    const char *is = getenv(ivar), *ns = getenv(nvar);
    uint64_t i, n;
    if (!shard_num(ns, &n) || n < 1 || n > SHARD_MAX) {
        snprintf(why, whysz, "%s=%s: wants a shard count 1..%u", nvar, ns ? ns : "", SHARD_MAX);
        return -1;
    }
    if (!is && n == 1 && base == 1)
        return 0; /* GitLab sets CI_NODE_TOTAL=1 alone for a job without parallel: */
    if (!shard_num(is, &i) || i < base || i - base >= n) {
        snprintf(why, whysz, "%s=%s: wants %u..%" PRIu64 " (with %s=%" PRIu64 ")", ivar,
                 is ? is : "(unset)", base, n - 1 + base, nvar, n);
        return -1;
    }
    out->k = (unsigned)(i - base + 1);
    out->n = (unsigned)n;
    out->source = ivar;
    return 0;
}

int shard_from_env(struct shard_spec *out, char *why, size_t whysz)
{
    memset(out, 0, sizeof *out);
    if (getenv("TEST_TOTAL_SHARDS")) {
        const char *status = getenv("TEST_SHARD_STATUS_FILE");
        if (shard_env_pair("TEST_SHARD_INDEX", "TEST_TOTAL_SHARDS", 0, out, why, whysz))
            return -1;
        /* Bazel: touching the file says this test knows how to shard. */
        if (status && *status) {
            int fd = open(status, O_WRONLY | O_CREAT, 0644);
            if (fd >= 0)
                close(fd);
        }
        return 0;
    }
    if (getenv("CI_NODE_TOTAL"))
        return shard_env_pair("CI_NODE_INDEX", "CI_NODE_TOTAL", 1, out, why, whysz);
    if (getenv("S3SIM_SHARDS"))
        return shard_env_pair("JOB_COMPLETION_INDEX", "S3SIM_SHARDS", 0, out, why, whysz);
    return 0;
}

/* ---- timings -------------------------------------------------------------------------- */

static int timing_cmp(const char *fa, const char *va, uint64_t sa, const char *fb, const char *vb,
                      uint64_t sb)
{
    int c = strcmp(fa, fb);
    if (!c)
        c = strcmp(va, vb);
    if (!c)
        c = sa < sb ? -1 : sa > sb;
    return c;
}

static int timing_qcmp(const void *a, const void *b)
{
    const struct shard_timing *x = a, *y = b;
    return timing_cmp(x->file, x->variant, x->seed, y->file, y->variant, y->seed);
}

void shard_timings_free(struct shard_timings *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].file);
        free(t->v[i].variant);
    }
    free(t->v);
    memset(t, 0, sizeof *t);
}

/* One "SECONDS\tVARIANT\tSEED\tFILE" line into *tm.  Returns 0, -1 (malformed), ERR_NOMEM. */
static int timing_line(char *line, struct shard_timing *tm)
{
    char *f[4], *p = line, *end;
    uint64_t seed;
    for (int i = 0; i < 4; i++) {
        f[i] = p;
        p = i < 3 ? strchr(p, '\t') : p + strlen(p);
        if (!p)
            return -1;
        if (i < 3)
            *p++ = '\0';
    }
    errno = 0;
    tm->seconds = strtod(f[0], &end);
    if (errno || *end || !(tm->seconds >= 0) || !isfinite(tm->seconds) || !*f[1] || !*f[3] ||
        !shard_num(f[2], &seed))
        return -1;
    tm->seed = seed;
    tm->variant = strdup(f[1]);
    tm->file = strdup(f[3]);
    if (!tm->variant || !tm->file) {
        free(tm->variant);
        free(tm->file);
        return ERR_NOMEM;
    }
    return 0;
}

int shard_timings_load(const char *path, struct shard_timings *t, char *why, size_t whysz)
{
    FILE *fp = fopen(path, "r");
    char line[8192];
    size_t cap = 0;
    int lineno = 0, rc = 0;
    memset(t, 0, sizeof *t);
    if (!fp) {
        snprintf(why, whysz, "%s: cannot read: %s", path, strerror(errno));
        return ERR_IO;
    }
    while (fgets(line, sizeof line, fp)) {
        size_t len = strlen(line);
        lineno++;
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        else if (!feof(fp)) {
            snprintf(why, whysz, "%s:%d:1: line too long", path, lineno);
            rc = ERR_PARSE;
            break;
        }
        if (lineno == 1) {
            if (strcmp(line, "s3sim-timings 1") != 0) {
                snprintf(why, whysz, "%s:1:1: not a timings file (wants 's3sim-timings 1')",
                         path);
                rc = ERR_PARSE;
                break;
            }
            continue;
        }
        if (!len || line[0] == '#')
            continue;
        if (t->n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            struct shard_timing *nv = realloc(t->v, nc * sizeof *nv);
            if (!nv) {
                rc = ERR_NOMEM;
                break;
            }
            t->v = nv;
            cap = nc;
        }
        rc = timing_line(line, &t->v[t->n]);
        if (rc == -1) {
            snprintf(why, whysz, "%s:%d:1: wants SECONDS<TAB>VARIANT<TAB>SEED<TAB>FILE", path,
                     lineno);
            rc = ERR_PARSE;
        }
        if (rc)
            break;
        t->n++;
    }
    if (!rc && lineno == 0) {
        snprintf(why, whysz, "%s:1:1: empty, not a timings file", path);
        rc = ERR_PARSE;
    }
    fclose(fp);
    if (rc) {
        shard_timings_free(t);
        return rc;
    }
    qsort(t->v, t->n, sizeof *t->v, timing_qcmp);
    return 0;
}

double shard_timings_get(const struct shard_timings *t, const struct shard_key *k)
{
    size_t lo = 0, hi = t ? t->n : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct shard_timing *m = &t->v[mid];
        int c = timing_cmp(k->file, k->variant, k->seed, m->file, m->variant, m->seed);
        if (c == 0)
            return m->seconds;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

int shard_timings_write(FILE *f, struct run_result *const *runs, size_t n)
{
    fputs("s3sim-timings 1\n", f);
    for (size_t i = 0; i < n; i++) {
        const struct run_result *r = runs[i];
        /* A tab or newline in a path would break the line: such a run is left
         * out and counts as an unknown (mean) run next time. */
        if (!r->file || !r->variant || strpbrk(r->file, "\t\n") || strpbrk(r->variant, "\t\n"))
            continue;
        fprintf(f, "%.6f\t%s\t%" PRIu64 "\t%s\n",
                isfinite(r->wall_seconds) && r->wall_seconds >= 0 ? r->wall_seconds : 0.0,
                r->variant, r->seed, r->file);
    }
    return fflush(f) != 0 || ferror(f) ? ERR_IO : 0;
}

/* ---- assignment ------------------------------------------------------------------------ */

struct lpt_item {
    double cost;
    size_t idx;
};

static int lpt_cmp(const void *a, const void *b)
{
    const struct lpt_item *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost > y->cost ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

int shard_assign(const struct shard_key *keys, size_t nkeys, unsigned nshards,
                 const struct shard_timings *timings, unsigned *shard_of)
{
    struct lpt_item *items;
    double *load, known = 0, mean;
    size_t nknown = 0;
    if (nshards < 1)
        return ERR_INVAL;
    if (!timings || timings->n == 0) {
        for (size_t i = 0; i < nkeys; i++)
            shard_of[i] = (unsigned)(i % nshards);
        return 0;
    }
    items = calloc(nkeys ? nkeys : 1, sizeof *items);
    load = calloc(nshards, sizeof *load);
    if (!items || !load) {
        free(items);
        free(load);
        return ERR_NOMEM;
    }
    for (size_t i = 0; i < nkeys; i++) {
        items[i].idx = i;
        items[i].cost = shard_timings_get(timings, &keys[i]);
        if (items[i].cost >= 0) {
            known += items[i].cost;
            nknown++;
        }
    }
    mean = nknown ? known / (double)nknown : 1.0;
    /* A run recorded as 0 s still costs a start: a floor keeps a file of
     * zeros from piling every run onto shard 1. */
    for (size_t i = 0; i < nkeys; i++)
        items[i].cost = items[i].cost < 0 ? mean : items[i].cost < 1e-3 ? 1e-3 : items[i].cost;
    /* Longest first, each onto the least loaded shard (lowest number on a tie). */
    qsort(items, nkeys, sizeof *items, lpt_cmp);
    for (size_t i = 0; i < nkeys; i++) {
        unsigned best = 0;
        for (unsigned s = 1; s < nshards; s++)
            if (load[s] < load[best])
                best = s;
        load[best] += items[i].cost;
        shard_of[items[i].idx] = best;
    }
    free(items);
    free(load);
    return 0;
}
