/*
 * bench_compaction.c - issue 4 figures.  Figures, never assertions.
 *
 *   throughput  SSO compaction over the in-process fake S3 (sim mode): bytes
 *               of input SSOs compacted per wall second, printed next to the
 *               memcpy bandwidth measured in the same run (target >= 40%);
 *   memory      the engine's memory.peak during the run, next to cache.size
 *               and cache.size + one part per open writer (target: within).
 *
 * Two shapes: every stream into the new SSO (one multipart writer across
 * plans), and every stream split out into stream objects.  Checksums NONE and
 * CRC32C (the client computes them before sending; MD5 would dominate).
 * No compacted byte is copied here since session 7: a chunk's GET shares
 * the stored bytes (one segment or several), the compactor hands each block
 * to the writer's part by reference (wr_write_ref), the part goes to the
 * fake S3 as the body's segments, which it keeps by reference and links at
 * CompleteMultipartUpload.  What is left is CRC32C over each part (once, by
 * the client) and the bookkeeping: with no checksum the figure is many
 * times memcpy's, a measure of the bookkeeping only.
 */
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "../tests/testenv.h"
#include "cmp.h"
#include "conf.h"
#include "eng.h"
#include "err.h"
#include "fs3.h"
#include "ctl.h"
#include "mdc.h"
#include "meta.h"
#include "obj.h"
#include "s3client.h"
#include "scn.h"
#include "world.h"
#include "writer.h"

#define MIB (UINT64_C(1) << 20)
#define NSSO 32
#define NSTREAM 8
#define PER_STREAM (1 * MIB) /* bytes of each stream in each SSO */
#define REC (64u << 10)

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU seconds of this process: the fair clock on a shared machine. */
static double cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Minor page faults of this process so far. */
static long faults(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

/* memcpy bandwidth, bytes per second (wall, and per CPU second in *cpu_bw),
 * over a buffer larger than the caches. */
static double memcpy_bw(double *cpu_bw)
{
    size_t n = 64 * MIB;
    uint8_t *a = malloc(n), *b = malloc(n);
    if (!a || !b)
        abort();
    memset(a, 1, n);
    memset(b, 2, n);
    double t0 = wall(), c0 = cpu();
    int reps = 16;
    for (int i = 0; i < reps; i++) {
        memcpy(i & 1 ? a : b, i & 1 ? b : a, n);
        __asm__ __volatile__("" ::: "memory");
    }
    double bw = (double)n * reps / (wall() - t0);
    *cpu_bw = (double)n * reps / (cpu() - c0);
    free(a);
    free(b);
    return bw;
}

struct world {
    struct tenv t;
    struct conf conf;
    struct fs3 *store;
    struct s3c *cl;
    struct meta *meta; /* the controller's store, set up directly */
    struct ctl *ctl;
    struct mdc *md;
    struct wr_mem mem;
    struct eng_metrics met;
    struct cmp *cmp;
    uint64_t input;
};

static void knob(struct world *w, const char *k, const char *v)
{
    char err[CONF_ERR_MAX];
    if (conf_set(&w->conf, k, v, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        abort();
    }
}

/* One WAL-upload-like SSO holding PER_STREAM bytes of every stream. */
static void put_sso(struct world *w, uint8_t *payload)
{
    struct obj_builder b;
    struct meta_range r[NSTREAM];
    uint8_t *buf;
    size_t len;
    int64_t id;
    obj_builder_init(&b, NULL);
    for (int s = 1; s <= NSTREAM; s++) {
        int64_t base = meta_stream_get(w->meta, s)->end;
        int64_t n = PER_STREAM / REC;
        for (int64_t k = 0; k < n; k++) {
            struct obj_record rec = {s, 0, base + k, 1, REC, payload};
            if (obj_builder_add(&b, &rec))
                abort();
        }
        r[s - 1] = (struct meta_range){s, base, base + n};
    }
    if (obj_builder_finish(&b, &buf, &len) || meta_prepare(w->meta, 1, ENV_USEC_PER_HOUR, 0, &id))
        abort();
    struct s3_req req = {.op = S3_OP_PUT, .key = meta_object_get(w->meta, id)->key, .body = buf,
                         .body_len = len};
    struct s3_result res;
    memset(&res, 0, sizeof res);
    if (fs3_exec(w->store, &req, FS3_AS_OF_NOW, &res) || res.status != 200)
        abort();
    s3_result_cleanup(&res);
    free(buf);
    struct meta_sso_commit c = {.node = 0, .id = id, .size = (int64_t)len, .order_id = -1,
                                .data_time = 0, .ranges = r, .nranges = NSTREAM};
    if (meta_commit_sso(w->meta, &c, 0))
        abort();
    w->input += len;
}

static long bench_one(const char *shape, const char *split, const char *cksum, double mbw,
                      double mcpu, bool print)
{
    struct world w;
    struct fs3_config cfg;
    struct meta_conf mc = {"_kafka_bench", NULL, false, false, false, false};
    struct s3c_conf sc;
    struct cmp_conf cc;
    static uint8_t payload[REC];
    memset(&w, 0, sizeof w);
    tenv_init(&w.t, 1);
    conf_init(&w.conf);
    knob(&w, "s3.stream.set.object.compaction.interval.minutes", "600");
    knob(&w, "s3.stream.set.object.compaction.cache.size", "64MiB");
    knob(&w, "s3.stream.set.object.compaction.stream.split.size", split);
    knob(&w, "s3.checksum.algorithm", cksum);
    fs3_config_init(&cfg);
    cfg.bandwidth = 0;
    w.store = fs3_new(&w.t.env, &cfg);
    struct ctl_conf ctc = {mc, 1000000};
    struct mdc_conf mdcc = {0};
    if (!w.store || ctl_new(&w.t.env, &ctc, &w.ctl) || mdc_new(&w.t.env, w.ctl, &mdcc, &w.md))
        abort();
    w.meta = ctl_store_mut(w.ctl);
    for (int s = 1; s <= NSTREAM; s++)
        meta_stream_create(w.meta, s);
    for (int i = 0; i < NSSO; i++)
        put_sso(&w, payload);
    s3c_conf_from(&sc, &w.conf);
    cmp_conf_from(&cc, &w.conf);
    if (s3c_new(&w.t.env, fs3_ops(w.store), &sc, &w.cl))
        abort();
    ctl_sync(w.ctl);
    struct cmp_deps d = {&w.t.env, s3c_ops(w.cl), w.md, &w.conf, &w.mem, &w.met};
    if (cmp_new(&d, &cc, &w.cmp))
        abort();
    long f0 = faults();
    double t0 = wall(), c0 = cpu();
    cmp_compact_now(w.cmp, false);
    while (!cmp_idle(w.cmp) && tenv_step_until(&w.t, ENV_TIME_NEVER))
        ;
    double dt = wall() - t0, dc = cpu() - c0;
    long nf = faults() - f0;
    uint64_t cache = (uint64_t)conf_get(&w.conf, CONF_SSO_CACHE_SIZE);
    if (!print)
        goto out;
    uint64_t part = (uint64_t)conf_get(&w.conf, CONF_MULTIPART_THRESHOLD);
    printf("sso compaction %-13s cksum=%-6s input %" PRIu64 " MiB in %.3f s wall: %.0f MiB/s "
           "= %.0f%% of memcpy (%.0f MiB/s); commits=%" PRIu64 " failures=%" PRIu64 "\n",
           shape, cksum, w.input / MIB, dt, (double)w.input / dt / MIB,
           100.0 * ((double)w.input / dt) / mbw, mbw / MIB, w.met.sso_commits, w.met.sso_failures);
    printf("  per CPU second: %.0f MiB/s = %.0f%% of memcpy per CPU second (%.0f MiB/s); "
           "%ld page faults\n",
           (double)w.input / dc / MIB, 100.0 * ((double)w.input / dc) / mcpu, mcpu / MIB, nf);
    printf("  memory.peak %.1f MiB; cache.size %.1f MiB; cache.size + one %.0f MiB part per open "
           "writer (%s) = %.1f MiB\n",
           (double)w.mem.peak / MIB, (double)cache / MIB, (double)part / MIB,
           strcmp(shape, "into-sso") ? "1 stream object + 1 SSO" : "1 SSO",
           (double)(cache + part * (strcmp(shape, "into-sso") ? 2 : 1)) / MIB);
out:
    cmp_free(w.cmp);
    s3c_free(w.cl);
    fs3_free(w.store);
    mdc_free(w.md);
    ctl_free(w.ctl);
    tenv_free(&w.t);
    return nf;
}

/* The benchmark scenario: memory.peak of a whole engine run, from the report. */
static void bench_scenario(const char *path)
{
    struct scn_file *f = NULL;
    struct scn_spec sp;
    struct scn_error e;
    struct run_result r;
    if (scn_parse_file(path, &f, &e) || scn_resolve(f, NULL, NULL, 0, &sp, &e)) {
        char msg[1024];
        fprintf(stderr, "bench_compaction: %s\n", scn_error_format(&e, msg, sizeof msg));
        scn_free(f);
        return;
    }
    memset(&r, 0, sizeof r);
    double t0 = wall(), peak = -1;
    world_run(&sp, path, NULL, &r);
    for (size_t i = 0; i < r.nmetrics; i++)
        if (!strcmp(r.metrics[i].name, "memory.peak"))
            peak = (double)r.metrics[i].value / MIB;
    printf("%s %s in %.2f s wall: memory.peak %.1f MiB (cache.size 32 MiB; + one 32 MiB part "
           "per open writer = 64 MiB)\n",
           sp.scenario, r.verdict == RUN_PASS ? "PASS" : "FAIL", wall() - t0, peak);
    run_result_free(&r);
    scn_spec_free(&sp);
    scn_free(f);
}

int main(void)
{
    /* Keep freed buffers in the heap instead of returning them to the
     * kernel: otherwise every 16 MiB read or part is a fresh mmap whose
     * pages fault in zeroed (as a broker's pooled buffers would not). */
    mallopt(M_MMAP_THRESHOLD, 512 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    double mcpu, mbw = memcpy_bw(&mcpu);
    printf("memcpy bandwidth: %.0f MiB/s wall, %.0f MiB/s per CPU second\n", mbw / MIB,
           mcpu / MIB);
    /* Warm-up: the four runs below, unprinted, until a round of them faults (almost) no page in: the
     * figures are of a process whose heap has grown to its working size
     * (buf_take's pool keeps up to three parts out of the heap, so that
     * takes more than one round). */
    int rounds = 0;
    long f = 0;
    do {
        f = bench_one("into-sso", "1GiB", "NONE", mbw, mcpu, false);
        f += bench_one("into-sso", "1GiB", "CRC32C", mbw, mcpu, false);
        f += bench_one("split-streams", "1MiB", "NONE", mbw, mcpu, false);
        f += bench_one("split-streams", "1MiB", "CRC32C", mbw, mcpu, false);
    } while (++rounds < 8 && f > 256);
    printf("warm-up: %d rounds of the four runs, %ld page faults in the last\n", rounds, f);
    bench_one("into-sso", "1GiB", "NONE", mbw, mcpu, true);
    bench_one("into-sso", "1GiB", "CRC32C", mbw, mcpu, true);
    bench_one("split-streams", "1MiB", "NONE", mbw, mcpu, true);
    bench_one("split-streams", "1MiB", "CRC32C", mbw, mcpu, true);
    bench_scenario("scenarios/bench/compaction-memory.scn");
    return 0;
}
