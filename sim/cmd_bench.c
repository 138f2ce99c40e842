/* cmd_bench.c - `s3sim bench [--list] [NAME...]`: runs the benchmark
 * programs (bench/bench_*.c, built next to s3sim) one after the other, each
 * in a process of its own, from the source tree (they read scenarios/bench/).
 *
 * Each benchmark prints its figures next to their targets and the memcpy
 * bandwidth measured in the same run, per CPU second (bench/bench_ref.h);
 * this command adds the CPU each one took and never judges a figure: a
 * benchmark is a measure, not a test (docs/performance.md).  Exit: 0 when
 * every benchmark ran to its end, 2 on a usage error (an unknown name, not in
 * the source tree), 3 when one could not start or died. */
#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"

extern char **environ;

/* Every benchmark, in the order they run, with what it measures. */
static const struct bench_prog {
    const char *name;
    const char *what;
} progs[] = {
    {"bench_heap", "event heap schedule-and-fire (>= 10 M/s)"},
    {"bench_field", "100 seeds of scenarios/field, MD5 (<= 60 s of CPU), projected from seeds 1..5"},
    {"bench_compaction", "SSO compaction vs memcpy (>= 40 %); compaction-memory.scn (<= 64 MiB)"},
    {"bench_sim", "WAL upload + read-back with CRC32C (>= 1 GB/s); load-8x1h"},
    {"bench_steady", "steady-24h virtual:CPU (>= 10,000x) and peak RSS; cleaner drain"},
    {"bench_fake", "fake S3 small operations (reference)"},
    {"bench_obj", "object format build/parse, metadata commits (reference)"},
    {"bench_http", "HTTP front vs peers (>= 20x the fastest; peers skipped when absent)"},
};
#define NPROGS (sizeof progs / sizeof progs[0])

/* The directory s3sim was started from (the benchmarks are built there). */
static int exe_dir(char *out, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", out, cap - 1);
    char *slash;
    if (n <= 0)
        return -1;
    out[n] = '\0';
    if (!(slash = strrchr(out, '/')))
        return -1;
    *slash = '\0';
    return 0;
}

static int find_prog(const char *arg)
{
    for (size_t i = 0; i < NPROGS; i++)
        if (strcmp(arg, progs[i].name) == 0 || strcmp(arg, progs[i].name + 6) == 0)
            return (int)i;
    return -1;
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* Runs one benchmark; returns 0 when it ran to its end, 3 otherwise. */
static int run_prog(const char *dir, const struct bench_prog *p)
{
    char path[PATH_MAX + 32];
    char *argv[] = {(char *)p->name, NULL};
    struct rusage ru;
    struct stat st;
    pid_t pid;
    int status, rc;
    snprintf(path, sizeof path, "%s/%s", dir, p->name);
    printf("=== %s: %s\n", p->name, p->what);
    fflush(stdout);
    if (stat(path, &st) != 0) {
        printf("=== %s: not built (%s)\n\n", p->name, path);
        return 0;
    }
    if ((rc = posix_spawn(&pid, path, NULL, NULL, argv, environ)) != 0) {
        fprintf(stderr, "s3sim bench: cannot start %s: %s\n", path, strerror(rc));
        return 3;
    }
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR) {
            fprintf(stderr, "s3sim bench: waiting for %s: %s\n", path, strerror(errno));
            return 3;
        }
    printf("=== %s: %.2f s of CPU (user %.2f, system %.2f)", p->name,
           tv_s(ru.ru_utime) + tv_s(ru.ru_stime), tv_s(ru.ru_utime), tv_s(ru.ru_stime));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        printf("\n\n");
        return 0;
    }
    if (WIFEXITED(status))
        printf(", exit %d\n\n", WEXITSTATUS(status));
    else
        printf(", killed by signal %d\n\n", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return 3;
}

int cmd_bench(int argc, char **argv)
{
    char dir[PATH_MAX];
    bool want[NPROGS] = {false};
    bool any = false;
    int rc = 0;
    struct stat st;
    for (int i = 1; i < argc; i++) {
        int k;
        if (strcmp(argv[i], "--list") == 0) {
            for (size_t j = 0; j < NPROGS; j++)
                printf("%-18s %s\n", progs[j].name, progs[j].what);
            return 0;
        }
        if ((k = find_prog(argv[i])) < 0) {
            fprintf(stderr, "s3sim bench: unknown benchmark '%s' (s3sim bench --list)\n",
                    argv[i]);
            return 2;
        }
        want[k] = any = true;
    }
    if (stat("scenarios/bench", &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "s3sim bench: run it from the source tree (no scenarios/bench/ here)\n");
        return 2;
    }
    if (exe_dir(dir, sizeof dir)) {
        fprintf(stderr, "s3sim bench: cannot find the directory of s3sim\n");
        return 3;
    }
    for (size_t j = 0; j < NPROGS; j++)
        if (!any || want[j])
            rc |= run_prog(dir, &progs[j]);
    return rc ? 3 : 0;
}
