/* bench_ref.h - what every benchmark prints next to its figures: memcpy's
 * bandwidth per CPU second, measured in the same run, and the machine's load.
 * On a shared machine a figure is only read against the memcpy of the same
 * moment: "compaction at 40% of memcpy" means something on any machine and
 * under any load; "2 GB/s" does not.  Figures, never assertions. */
#ifndef S3SIM_BENCH_REF_H
#define S3SIM_BENCH_REF_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* CPU seconds of this process: the fair clock on a shared machine. */
static inline double bench_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* memcpy bandwidth in bytes per CPU second, over buffers larger than the
 * caches (64 MiB, 16 copies). */
static inline double bench_memcpy_per_cpu_s(void)
{
    size_t n = (size_t)64 << 20;
    uint8_t *a = malloc(n), *b = malloc(n);
    double c0, bw;
    if (!a || !b) {
        free(a);
        free(b);
        return 0;
    }
    memset(a, 1, n);
    memset(b, 2, n);
    c0 = bench_cpu_s();
    for (int i = 0; i < 16; i++) {
        memcpy(i & 1 ? a : b, i & 1 ? b : a, n);
        __asm__ __volatile__("" ::: "memory");
    }
    bw = (double)n * 16 / (bench_cpu_s() - c0);
    free(a);
    free(b);
    return bw;
}

/* Prints the reference line: memcpy per CPU second and the 1-minute load. */
static inline void bench_ref_print(const char *who)
{
    double load[1] = {-1};
    double bw = bench_memcpy_per_cpu_s();
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &load[0]) != 1)
            load[0] = -1;
        fclose(f);
    }
    printf("%s: memcpy %.0f MiB/s per CPU second (the reference of this run), "
           "load average %.1f\n",
           who, bw / 1048576.0, load[0]);
}

#endif /* S3SIM_BENCH_REF_H */
