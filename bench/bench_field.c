/* bench_field.c - seeds per CPU second (issue 12): every file of
 * scenarios/field (all variants, default knobs: MD5 checksums) over seeds
 * 1..N (default 5) through `s3sim run --jobs 1`, its CPU time (user + system
 * of the child) projected to 100 seeds.  Target: <= 60 s of CPU for 100
 * seeds.  A figure, never an assertion; run from the source tree (as the
 * bench target does):
 *
 *   build/bin/bench_field [N]
 */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_ref.h"

int main(int argc, char **argv)
{
    int seeds = argc > 1 ? atoi(argv[1]) : 5;
    char exe[PATH_MAX], s3sim[PATH_MAX + 16], range[32];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    struct rusage ru;
    pid_t pid;
    int st;
    if (seeds < 1 || n <= 0) {
        fprintf(stderr, "usage: bench_field [SEEDS >= 1]\n");
        return 2;
    }
    exe[n] = 0;
    snprintf(s3sim, sizeof s3sim, "%s/s3sim", dirname(exe));
    snprintf(range, sizeof range, "1..%d", seeds);
    bench_ref_print("bench_field");
    fflush(stdout);
    if ((pid = fork()) == 0) {
        if (!freopen("/dev/null", "w", stdout))
            _exit(127);
        execl(s3sim, s3sim, "run", "scenarios/field", "--seeds", range, "--jobs", "1", "--quiet",
              (char *)NULL);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &st, 0) != pid) {
        perror("bench_field");
        return 1;
    }
    getrusage(RUSAGE_CHILDREN, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    printf("bench_field: scenarios/field seeds %s (%s): %.2f s of CPU = %.0f s projected for 100 "
           "seeds (target <= 60 s)\n",
           range, WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "all passed" : "SOME FAILED", cpu,
           cpu * 100.0 / seeds);
    return 0;
}
