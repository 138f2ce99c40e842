/* bench_sim.c - whole-simulation figures (issue 3): runs the scenarios of
 * scenarios/bench/ through the simulator and prints virtual time per wall
 * second and payload throughput.  Figures, never assertions.
 *
 *   load-8x1h.scn       1 h of a steady 8-stream load: target <= 1 s wall
 *   (the payload figure is records acknowledged x record size; every one of
 *   them is read back by no-data-loss)
 *   wal-throughput.scn  WAL upload + read back: target >= 1 GB/s of payload
 *                       per core with CRC32C (the MD5 figure is printed too)
 */
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metric_names.h"
#include "scn.h"
#include "world.h"
#include "bench_ref.h"

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t metric(const struct run_result *r, int id)
{
    return id < (int)r->nmetrics ? r->metrics[id].value : 0;
}

static int bench_one(const char *path, const char *override, double record, const char *target)
{
    struct scn_file *f = NULL;
    struct scn_spec sp;
    struct scn_error e;
    struct run_result r;
    const char *ov[1] = {override};
    double w0, c0, wall, cpu;
    if (scn_parse_file(path, &f, &e) || scn_resolve(f, NULL, ov, override ? 1 : 0, &sp, &e)) {
        char msg[1024];
        fprintf(stderr, "bench_sim: %s\n", scn_error_format(&e, msg, sizeof msg));
        scn_free(f);
        return 1;
    }
    memset(&r, 0, sizeof r);
    w0 = clock_s(CLOCK_MONOTONIC);
    c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    world_run(&sp, path, NULL, &r);
    wall = clock_s(CLOCK_MONOTONIC) - w0;
    cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    {
        double vt = (double)r.vtime_us / 1e6;
        double written = (double)metric(&r, METRIC_S3_BYTES_WRITTEN);
        double payload = (double)metric(&r, METRIC_RECORDS_ACKED) * record;
        printf("%-16s %-28s %s  virtual %.0fs  wall %.3fs  cpu %.3fs  virtual/cpu %.0fx  "
               "payload %.1f MB acked and read back (S3 bytes written %.1f MB): "
               "%.2f GB/s of payload per core (cpu)%s\n",
               sp.scenario, override ? override : "(file's knobs)",
               r.verdict == RUN_PASS ? "PASS" : "FAIL", vt, wall, cpu, vt / cpu, payload / 1e6,
               written / 1e6, payload / 1e9 / cpu, target);
    }
    run_result_free(&r);
    scn_spec_free(&sp);
    scn_free(f);
    return 0;
}

int main(int argc, char **argv)
{
    int rc = 0;
    mallopt(M_MMAP_THRESHOLD, 32 << 20); /* as s3sim does (sim/main.c) */
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    bench_ref_print("bench_sim");
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            rc |= bench_one(argv[i], NULL, 1024, "");
        return rc;
    }
    rc |= bench_one("scenarios/bench/load-8x1h.scn", NULL, 1024, " (target: 1 h in <= 1 s)");
    rc |= bench_one("scenarios/bench/load-8x1h.scn", "s3.checksum.algorithm=MD5", 1024, "");
    rc |= bench_one("scenarios/bench/wal-throughput.scn", NULL, 65536,
                    " (target >= 1 GB/s with CRC32C)");
    rc |= bench_one("scenarios/bench/wal-throughput.scn", "s3.checksum.algorithm=MD5", 65536,
                    " (MD5: no target)");
    return rc;
}
