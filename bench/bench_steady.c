/* bench_steady.c - issue 5 figures.  Figures, never assertions.
 *
 *   steady-24h.scn   24 h of 16 streams x 1 KiB/s with every engine job at
 *                    its default period, hourly trims, two stream deletions:
 *                    virtual time / CPU time (target >= 10000) and peak RSS
 *                    (target <= 1.5 x bucket.bytes at the end + 64 MiB)
 *   cleaner drain    100 000 marked objects deleted by the cleaner over the
 *                    fake S3, <= 1000 keys a DeleteObjects: wall time
 *                    (target <= 1 s)
 */
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "../tests/testenv.h"
#include "cln.h"
#include "fs3.h"
#include "ctl.h"
#include "meta.h"
#include "scn.h"
#include "world.h"
#include "bench_ref.h"

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static int bench_steady(const char *path)
{
    struct scn_file *f = NULL;
    struct scn_spec sp;
    struct scn_error e;
    struct run_result r;
    double w0, c0, wall, cpu;
    int64_t bucket = -1;
    if (scn_parse_file(path, &f, &e) || scn_resolve(f, NULL, NULL, 0, &sp, &e)) {
        char msg[1024];
        fprintf(stderr, "bench_steady: %s\n", scn_error_format(&e, msg, sizeof msg));
        scn_free(f);
        return 1;
    }
    memset(&r, 0, sizeof r);
    w0 = wall_s();
    c0 = cpu_s();
    world_run(&sp, path, NULL, &r);
    wall = wall_s() - w0;
    cpu = cpu_s() - c0;
    for (size_t i = 0; i < r.nmetrics; i++)
        if (strcmp(r.metrics[i].name, "bucket.bytes") == 0)
            bucket = r.metrics[i].value;
    printf("%-22s %s  virtual %.0fs  wall %.2fs  cpu %.2fs  virtual/cpu %.0fx (target >= 10000x)"
           "  S3 calls %" PRIu64 "\n",
           sp.scenario, r.verdict == RUN_PASS ? "PASS" : "FAIL", (double)r.vtime_us / 1e6, wall,
           cpu, (double)r.vtime_us / 1e6 / cpu, r.ops);
    printf("%-22s peak RSS %.1f MiB (target <= 1.5 x bucket.bytes + 64 MiB = %.1f MiB)\n", "",
           (double)peak_rss_kib() / 1024.0,
           bucket < 0 ? -1.0 : 1.5 * (double)bucket / 1048576.0 + 64.0);
    run_result_free(&r);
    scn_spec_free(&sp);
    scn_free(f);
    return 0;
}

/* ---- the cleaner draining a backlog ------------------------------------------------- */

static struct s3_ops *g_back;
static size_t g_max_keys, g_calls;

static int count_submit(struct s3_ops *ops, struct s3_req *req)
{
    (void)ops;
    if (req->op == S3_OP_DELETE_MANY) {
        g_calls++;
        if (req->nkeys > g_max_keys)
            g_max_keys = req->nkeys;
    }
    return g_back->submit(g_back, req);
}

static void count_cancel(struct s3_ops *ops, struct s3_req *req)
{
    (void)ops;
    g_back->cancel(g_back, req);
}

static int bench_drain(int n)
{
    struct tenv t;
    struct fs3 *s;
    struct meta *m;
    struct ctl *ctl = NULL;
    struct meta_conf mc = {"_kafka_bench", NULL, false, false, false, false};
    struct meta_so *so = calloc((size_t)n, sizeof *so);
    int64_t *ids = calloc((size_t)n, sizeof *ids);
    struct meta_sso_commit c = {.id = -1, .order_id = -1};
    struct s3_ops count = {NULL, "count", count_submit, count_cancel, false};
    struct cln_conf cc;
    struct cln *cl;
    struct meta_counts cnt;
    uint8_t body[16] = {0};
    int64_t first, t0;
    double w0, wall;
    if (!so || !ids)
        return 1;
    tenv_init(&t, 1);
    s = fs3_new(&t.env, NULL);
    struct ctl_conf ctc = {mc, 1000000};
    if (!s || ctl_new(&t.env, &ctc, &ctl) || !(m = ctl_store_mut(ctl)) || meta_stream_create(m, 1) ||
        meta_prepare(m, n, ENV_USEC_PER_HOUR, 0, &first))
        return 1;
    for (int i = 0; i < n; i++) {
        struct s3_req req = {.op = S3_OP_PUT, .body = body, .body_len = sizeof body};
        struct s3_result res;
        so[i] = (struct meta_so){first + i, (int64_t)sizeof body, 1, i, i + 1, 0};
        ids[i] = first + i;
        req.key = meta_object_get(m, first + i)->key;
        memset(&res, 0, sizeof res);
        fs3_exec(s, &req, FS3_AS_OF_NOW, &res);
        s3_result_cleanup(&res);
    }
    c.sos = so;
    c.nsos = (size_t)n;
    if (meta_commit_sso(m, &c, 0) || meta_mark(m, ids, NULL, (size_t)n, 0))
        return 1;
    g_back = fs3_ops(s);
    memset(&cc, 0, sizeof cc);
    cc.interval_us = ENV_USEC_PER_SEC;
    cc.retention_us = ENV_USEC_PER_MIN;
    cc.max_per_round = 2000;
    cc.backoff_us = ENV_USEC_PER_SEC;
    cc.backoff_max_us = 60 * ENV_USEC_PER_SEC;
    cc.dedup_inflight = true;
    s3c_conf_default(&cc.s3c);
    tenv_run_until(&t, 2 * ENV_USEC_PER_MIN); /* the backlog is old by now */
    if (cln_new(&t.env, &count, ctl, &cc, &cl))
        return 1;
    t0 = t.now;
    w0 = wall_s();
    do {
        if (!tenv_step_until(&t, ENV_TIME_NEVER))
            break;
        meta_count(m, &cnt);
    } while (cnt.marked > 0 || !cln_idle(cl));
    wall = wall_s() - w0;
    printf("cleaner drain          %d marked objects deleted (%" PRIu64 " removed, %zu keys left) "
           "in wall %.3fs, virtual %.0fs; %zu DeleteObjects, at most %zu keys a call\n",
           n, cln_stats(cl)->deleted, (size_t)fs3_nkeys(s), wall,
           (double)(t.now - t0) / 1e6, g_calls, g_max_keys);
    cln_free(cl);
    ctl_free(ctl);
    fs3_free(s);
    tenv_free(&t);
    free(so);
    free(ids);
    return 0;
}

int main(int argc, char **argv)
{
    int rc = 0;
    mallopt(M_MMAP_THRESHOLD, 32 << 20); /* as s3sim does (sim/main.c) */
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    bench_ref_print("bench_steady");
    rc |= bench_drain(100000);
    rc |= bench_steady(argc > 1 ? argv[1] : "scenarios/bench/steady-24h.scn");
    return rc;
}
