/* rundump.c - see rundump.h. */
#include "rundump.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "shard.h"

/* ---- writing ----------------------------------------------------------------------------- */

static void rd_str(FILE *f, const char *s)
{
    putc(' ', f);
    if (!s) {
        putc('~', f);
        return;
    }
    if (!*s)
        fputs("%00", f); /* "" (a NUL never occurs inside a C string) */
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= ' ' || *p == '%' || *p == '~' || *p == 0x7f)
            fprintf(f, "%%%02X", *p);
        else
            putc(*p, f);
    }
}

static void rd_run(FILE *f, const struct run_result *r, size_t idx)
{
    fprintf(f, "run %zu %d %" PRIu64 " %" PRId64 " %" PRIu64 " %.9g %d %" PRId64 " %" PRIu64
               " %" PRIu64,
            idx, (int)r->verdict, r->seed, r->vtime_us, r->ops,
            isfinite(r->wall_seconds) ? r->wall_seconds : 0.0, r->hang ? 1 : 0,
            r->last_progress_us, r->bytes_read, r->bytes_written);
    rd_str(f, r->trace_hex);
    putc('\n', f);
    fputs("str file", f), rd_str(f, r->file), putc('\n', f);
    fputs("str scenario", f), rd_str(f, r->scenario), putc('\n', f);
    fputs("str variant", f), rd_str(f, r->variant), putc('\n', f);
    fputs("str summary", f), rd_str(f, r->summary), putc('\n', f);
    fputs("str replay", f), rd_str(f, r->replay), putc('\n', f);
    fputs("str swarm", f), rd_str(f, r->swarm), putc('\n', f);
    fputs("str profile", f), rd_str(f, r->profile), putc('\n', f);
    for (size_t i = 0; i < r->nchecks; i++) {
        const struct run_check *c = &r->checks[i];
        fprintf(f, "check %d %d %d %d", c->expect_fail, c->held, c->ok, c->line);
        rd_str(f, c->name), rd_str(f, c->args), rd_str(f, c->detail), putc('\n', f);
    }
    for (size_t i = 0; i < r->nmetrics; i++) {
        fprintf(f, "metric %" PRId64, r->metrics[i].value);
        rd_str(f, r->metrics[i].name), putc('\n', f);
    }
    for (size_t i = 0; i < r->nwaits; i++) {
        fprintf(f, "wait %" PRId64 " %" PRId64, r->waits[i].since_us, r->waits[i].age_us);
        rd_str(f, r->waits[i].who), rd_str(f, r->waits[i].what), putc('\n', f);
    }
    for (size_t i = 0; i < r->nevents; i++) {
        const struct run_event *e = &r->events[i];
        fprintf(f, "event %" PRId64 " %" PRId64 " %d %d %d %d %d", e->t0_us, e->t1_us,
                (int)e->lane, e->op, e->job, e->effect, e->failed ? 1 : 0);
        rd_str(f, e->label), putc('\n', f);
    }
    for (int op = 0; op < S3_OP_COUNT; op++) {
        if (r->calls_by_op[op])
            fprintf(f, "calls %d %" PRIu64 "\n", op, r->calls_by_op[op]);
        for (int e = 0; e < FS3_EFF_COUNT; e++)
            if (r->faults_by_op[op][e])
                fprintf(f, "fault %d %d %" PRIu64 "\n", op, e, r->faults_by_op[op][e]);
    }
    for (int j = 0; j < S3_JOB_COUNT; j++)
        if (r->calls_by_job[j])
            fprintf(f, "job %d %" PRIu64 "\n", j, r->calls_by_job[j]);
    for (int op = 0; op < S3_OP_COUNT; op++)
        for (int j = 0; j < S3_JOB_COUNT; j++)
            if (r->calls_by_op_job[op][j])
                fprintf(f, "opjob %d %d %" PRIu64 "\n", op, j, r->calls_by_op_job[op][j]);
    if (r->stored_byte_seconds != 0)
        fprintf(f, "stored %.17g\n", r->stored_byte_seconds);
    for (int e = 0; e < FS3_EFF_COUNT; e++)
        for (int op = 0; op < S3_OP_COUNT; op++)
            for (int j = 0; j < S3_JOB_COUNT; j++)
                if (r->coverage[e][op][j])
                    fprintf(f, "cov %d %d %d %" PRIu64 "\n", e, op, j, r->coverage[e][op][j]);
    for (int e = 0; e < FS3_EFF_COUNT; e++)
        for (int op = 0; op < MDC_OP_COUNT; op++)
            for (int j = 0; j < S3_JOB_COUNT; j++)
                if (r->rpc_coverage[e][op][j])
                    fprintf(f, "rcov %d %d %d %" PRIu64 "\n", e, op, j,
                            r->rpc_coverage[e][op][j]);
    fputs("end\n", f);
}

int rundump_write(FILE *f, const struct rundump_head *h, struct run_result *const *runs,
                  const size_t *idx, size_t n)
{
    fprintf(f, "s3sim-runs 1 shard %u %u total %zu report-all %d\n", h->shard_k, h->shard_n,
            h->total, h->report_all ? 1 : 0);
    for (size_t i = 0; i < n; i++)
        rd_run(f, runs[i], idx ? idx[i] : i);
    return fflush(f) != 0 || ferror(f) ? ERR_IO : 0;
}

/* ---- reading ----------------------------------------------------------------------------- */

struct rd_in {
    char *tok[16];
    size_t ntok;
};

static void rd_split(char *line, struct rd_in *in)
{
    char *save = NULL;
    in->ntok = 0;
    for (char *t = strtok_r(line, " ", &save); t && in->ntok < 16; t = strtok_r(NULL, " ", &save))
        in->tok[in->ntok++] = t;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decodes an escaped token into a fresh string (*out NULL for "~").
 * Returns 0, -1 (malformed), ERR_NOMEM. */
static int rd_unesc(const char *t, char **out)
{
    size_t n = strlen(t), k = 0;
    char *s;
    *out = NULL;
    if (strcmp(t, "~") == 0)
        return 0;
    if (!(s = malloc(n + 1)))
        return ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        if (t[i] != '%') {
            s[k++] = t[i];
            continue;
        }
        if (i + 2 >= n) {
            free(s);
            return -1;
        }
        int hi = hexval(t[i + 1]), lo = hi < 0 ? -1 : hexval(t[i + 2]);
        if (hi < 0 || lo < 0) {
            free(s);
            return -1;
        }
        if (hi || lo)
            s[k++] = (char)(hi * 16 + lo);
        i += 2;
    }
    s[k] = '\0';
    *out = s;
    return 0;
}

static bool rd_i64(const char *t, int64_t *v)
{
    char *end;
    errno = 0;
    *v = strtoll(t, &end, 10);
    return t && *t && !errno && !*end;
}

static bool rd_u64(const char *t, uint64_t *v)
{
    char *end;
    if (!t || *t < '0' || *t > '9')
        return false;
    errno = 0;
    *v = strtoull(t, &end, 10);
    return !errno && !*end;
}

static bool rd_int(const char *t, int lo, int hi, int *v)
{
    int64_t x;
    if (!rd_i64(t, &x) || x < lo || x >= hi)
        return false;
    *v = (int)x;
    return true;
}

static int rd_grow(void **v, size_t n, size_t *cap, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 16;
    void *nv = realloc(*v, nc * elem);
    if (!nv)
        return ERR_NOMEM;
    *v = nv;
    *cap = nc;
    return 0;
}

struct rd_caps {
    size_t checks, metrics, waits;
};

/* One line of a run block into r.  Returns 0, -1 (malformed), ERR_NOMEM. */
static int rd_field(struct rd_in *in, struct run_result *r, struct rd_caps *caps)
{
    const char *k = in->tok[0];
    int a, b, c, rc = 0;
    uint64_t n;
    if (strcmp(k, "str") == 0 && in->ntok == 3 && strcmp(in->tok[1], "profile") == 0) {
        char *v;
        if ((rc = rd_unesc(in->tok[2], &v)))
            return rc;
        if (!v || strlen(v) >= sizeof r->profile) {
            free(v);
            return -1;
        }
        memcpy(r->profile, v, strlen(v) + 1);
        free(v);
        return 0;
    }
    if (strcmp(k, "str") == 0 && in->ntok == 3) {
        char **dst = strcmp(in->tok[1], "file") == 0       ? &r->file
                     : strcmp(in->tok[1], "scenario") == 0 ? &r->scenario
                     : strcmp(in->tok[1], "variant") == 0  ? &r->variant
                     : strcmp(in->tok[1], "summary") == 0  ? &r->summary
                     : strcmp(in->tok[1], "replay") == 0   ? &r->replay
                     : strcmp(in->tok[1], "swarm") == 0    ? &r->swarm
                                                           : NULL;
        if (!dst || *dst)
            return -1;
        return rd_unesc(in->tok[2], dst);
    }
    if (strcmp(k, "check") == 0 && in->ntok == 8) {
        struct run_check *ch;
        int ef, held, ok, line;
        if (!rd_int(in->tok[1], 0, 2, &ef) || !rd_int(in->tok[2], 0, 2, &held) ||
            !rd_int(in->tok[3], 0, 2, &ok) || !rd_int(in->tok[4], 0, 1 << 30, &line))
            return -1;
        if ((rc = rd_grow((void **)&r->checks, r->nchecks, &caps->checks, sizeof *r->checks)))
            return rc;
        ch = &r->checks[r->nchecks];
        memset(ch, 0, sizeof *ch);
        r->nchecks++;
        ch->expect_fail = ef, ch->held = held, ch->ok = ok, ch->line = line;
        if ((rc = rd_unesc(in->tok[5], &ch->name)) || (rc = rd_unesc(in->tok[6], &ch->args)) ||
            (rc = rd_unesc(in->tok[7], &ch->detail)))
            return rc;
        return 0;
    }
    if (strcmp(k, "metric") == 0 && in->ntok == 3) {
        int64_t v;
        char *name;
        size_t cap = caps->metrics;
        if (!rd_i64(in->tok[1], &v))
            return -1;
        if ((rc = rd_grow((void **)&r->metrics, r->nmetrics, &caps->metrics, sizeof *r->metrics)))
            return rc;
        if (caps->metrics != cap || !r->metric_names) {
            char **nn = realloc(r->metric_names, caps->metrics * sizeof *nn);
            if (!nn)
                return ERR_NOMEM;
            r->metric_names = nn;
        }
        if ((rc = rd_unesc(in->tok[2], &name)))
            return rc;
        if (!name)
            return -1;
        r->metric_names[r->nmetrics] = name;
        r->metrics[r->nmetrics].name = name;
        r->metrics[r->nmetrics].value = v;
        r->nmetrics++;
        return 0;
    }
    if (strcmp(k, "wait") == 0 && in->ntok == 5) {
        struct run_wait *w;
        int64_t since, age;
        if (!rd_i64(in->tok[1], &since) || !rd_i64(in->tok[2], &age))
            return -1;
        if ((rc = rd_grow((void **)&r->waits, r->nwaits, &caps->waits, sizeof *r->waits)))
            return rc;
        w = &r->waits[r->nwaits++];
        memset(w, 0, sizeof *w);
        w->since_us = since, w->age_us = age;
        if ((rc = rd_unesc(in->tok[3], &w->who)) || (rc = rd_unesc(in->tok[4], &w->what)))
            return rc;
        return 0;
    }
    if (strcmp(k, "event") == 0 && in->ntok == 9) {
        int64_t t0, t1;
        int lane, op, job, eff, failed;
        char *label;
        if (!rd_i64(in->tok[1], &t0) || !rd_i64(in->tok[2], &t1) ||
            !rd_int(in->tok[3], 0, RUN_LANE_COUNT, &lane) ||
            !rd_int(in->tok[4], -1, S3_OP_COUNT, &op) ||
            !rd_int(in->tok[5], -1, S3_JOB_COUNT, &job) ||
            !rd_int(in->tok[6], -1, FS3_EFF_COUNT, &eff) || !rd_int(in->tok[7], 0, 2, &failed))
            return -1;
        if ((rc = rd_unesc(in->tok[8], &label)))
            return rc;
        rc = run_result_event(r, t0, t1, (enum run_lane)lane, op, job, eff, failed, label);
        free(label);
        return rc;
    }
    if (strcmp(k, "calls") == 0 && in->ntok == 3 && rd_int(in->tok[1], 0, S3_OP_COUNT, &a) &&
        rd_u64(in->tok[2], &n)) {
        r->calls_by_op[a] = n;
        return 0;
    }
    if (strcmp(k, "fault") == 0 && in->ntok == 4 && rd_int(in->tok[1], 0, S3_OP_COUNT, &a) &&
        rd_int(in->tok[2], 0, FS3_EFF_COUNT, &b) && rd_u64(in->tok[3], &n)) {
        r->faults_by_op[a][b] = n;
        return 0;
    }
    if (strcmp(k, "job") == 0 && in->ntok == 3 && rd_int(in->tok[1], 0, S3_JOB_COUNT, &a) &&
        rd_u64(in->tok[2], &n)) {
        r->calls_by_job[a] = n;
        return 0;
    }
    if (strcmp(k, "opjob") == 0 && in->ntok == 4 && rd_int(in->tok[1], 0, S3_OP_COUNT, &a) &&
        rd_int(in->tok[2], 0, S3_JOB_COUNT, &b) && rd_u64(in->tok[3], &n)) {
        r->calls_by_op_job[a][b] = n;
        return 0;
    }
    if (strcmp(k, "stored") == 0 && in->ntok == 2) {
        char *end;
        errno = 0;
        r->stored_byte_seconds = strtod(in->tok[1], &end);
        return errno || *end || !(r->stored_byte_seconds >= 0) ? -1 : 0;
    }
    if (strcmp(k, "cov") == 0 && in->ntok == 5 && rd_int(in->tok[1], 0, FS3_EFF_COUNT, &a) &&
        rd_int(in->tok[2], 0, S3_OP_COUNT, &b) && rd_int(in->tok[3], 0, S3_JOB_COUNT, &c) &&
        rd_u64(in->tok[4], &n)) {
        r->coverage[a][b][c] = n;
        return 0;
    }
    if (strcmp(k, "rcov") == 0 && in->ntok == 5 && rd_int(in->tok[1], 0, FS3_EFF_COUNT, &a) &&
        rd_int(in->tok[2], 0, MDC_OP_COUNT, &b) && rd_int(in->tok[3], 0, S3_JOB_COUNT, &c) &&
        rd_u64(in->tok[4], &n)) {
        r->rpc_coverage[a][b][c] = n;
        return 0;
    }
    return -1;
}

/* The "run ..." line into a zeroed r. */
static int rd_run_line(struct rd_in *in, struct run_result *r, size_t *idx)
{
    uint64_t ix;
    int verdict, hang;
    char *end, *trace;
    int rc;
    if (in->ntok != 12 || !rd_u64(in->tok[1], &ix) || !rd_int(in->tok[2], 0, 4, &verdict) ||
        !rd_u64(in->tok[3], &r->seed) || !rd_i64(in->tok[4], &r->vtime_us) ||
        !rd_u64(in->tok[5], &r->ops) || !rd_int(in->tok[7], 0, 2, &hang) ||
        !rd_i64(in->tok[8], &r->last_progress_us) || !rd_u64(in->tok[9], &r->bytes_read) ||
        !rd_u64(in->tok[10], &r->bytes_written))
        return -1;
    if (verdict != RUN_PASS && verdict != RUN_FAIL && verdict != RUN_ERROR)
        return -1;
    errno = 0;
    r->wall_seconds = strtod(in->tok[6], &end);
    if (errno || *end)
        return -1;
    if ((rc = rd_unesc(in->tok[11], &trace)))
        return rc;
    if (trace && strlen(trace) < sizeof r->trace_hex)
        memcpy(r->trace_hex, trace, strlen(trace) + 1);
    free(trace);
    r->verdict = (enum run_verdict)verdict;
    r->hang = hang;
    *idx = (size_t)ix;
    return 0;
}

void rundump_free(struct rundump *d)
{
    for (size_t i = 0; i < d->n; i++)
        run_result_free(&d->runs[i]);
    free(d->runs);
    free(d->idx);
    memset(d, 0, sizeof *d);
}

int rundump_read(const char *path, struct rundump *d, char *why, size_t whysz)
{
    FILE *fp = fopen(path, "r");
    char *line = NULL;
    size_t lcap = 0, cap = 0;
    struct rd_caps caps = {0};
    bool in_run = false;
    int lineno = 0, rc = 0;
    struct rd_in in;
    memset(d, 0, sizeof *d);
    if (!fp) {
        snprintf(why, whysz, "%s: cannot read: %s", path, strerror(errno));
        return ERR_IO;
    }
    while (rc == 0 && getline(&line, &lcap, fp) >= 0) {
        size_t len = strlen(line);
        lineno++;
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        rd_split(line, &in);
        if (lineno == 1) {
            unsigned k, n, ra;
            size_t total;
            char extra;
            if (in.ntok != 9 || strcmp(in.tok[0], "s3sim-runs") || strcmp(in.tok[1], "1") ||
                strcmp(in.tok[2], "shard") || sscanf(in.tok[3], "%u%c", &k, &extra) != 1 ||
                sscanf(in.tok[4], "%u%c", &n, &extra) != 1 || strcmp(in.tok[5], "total") ||
                sscanf(in.tok[6], "%zu%c", &total, &extra) != 1 ||
                strcmp(in.tok[7], "report-all") || sscanf(in.tok[8], "%u%c", &ra, &extra) != 1 ||
                k < 1 || k > n || ra > 1) {
                rc = -1;
                break;
            }
            d->head.shard_k = k, d->head.shard_n = n, d->head.total = total;
            d->head.report_all = ra;
            continue;
        }
        if (in.ntok == 0) {
            rc = -1;
            break;
        }
        if (!in_run) {
            if (strcmp(in.tok[0], "run") != 0) {
                rc = -1;
                break;
            }
            if ((rc = rd_grow((void **)&d->runs, d->n, &cap, sizeof *d->runs)))
                break;
            size_t *ni = realloc(d->idx, cap * sizeof *ni);
            if (!ni) {
                rc = ERR_NOMEM;
                break;
            }
            d->idx = ni;
            memset(&d->runs[d->n], 0, sizeof *d->runs);
            d->n++;
            memset(&caps, 0, sizeof caps);
            rc = rd_run_line(&in, &d->runs[d->n - 1], &d->idx[d->n - 1]);
            if (rc == 0 && d->idx[d->n - 1] >= d->head.total)
                rc = -1;
            in_run = true;
            continue;
        }
        if (strcmp(in.tok[0], "end") == 0 && in.ntok == 1) {
            struct run_result *r = &d->runs[d->n - 1];
            if (!r->file || !r->scenario || !r->variant)
                rc = -1;
            in_run = false;
            continue;
        }
        rc = rd_field(&in, &d->runs[d->n - 1], &caps);
    }
    if (rc == 0 && lineno == 0)
        rc = -1, lineno = 1;
    if (rc == 0 && in_run)
        rc = -1, lineno++;
    if (rc == -1) {
        snprintf(why, whysz, "%s:%d:1: not a valid s3sim runs file line", path, lineno);
        rc = ERR_PARSE;
    } else if (rc == 0 && ferror(fp)) {
        snprintf(why, whysz, "%s: read error", path);
        rc = ERR_IO;
    } else if (rc) {
        snprintf(why, whysz, "%s: %s", path, err_str(rc));
    }
    free(line);
    fclose(fp);
    if (rc)
        rundump_free(d);
    return rc;
}

int rundump_save(const char *dir, const struct rundump_head *h, struct run_result *const *runs,
                 const size_t *idx, size_t n)
{
    static const char *const names[] = {"runs.dat", "timings.tsv"};
    int rc = 0;
    for (int k = 0; k < 2 && rc == 0; k++) {
        char path[4096];
        FILE *f;
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        if (!(f = fopen(path, "w")))
            return ERR_IO;
        rc = k == 0 ? rundump_write(f, h, runs, idx, n) : shard_timings_write(f, runs, n);
        if (fclose(f) != 0 && rc == 0)
            rc = ERR_IO;
    }
    return rc;
}
