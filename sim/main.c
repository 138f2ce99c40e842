/* main.c - the s3sim command: dispatch to the subcommands (docs/scenarios.md "The command"). */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "run.h"

static int usage(void)
{
    fprintf(stderr,
            "usage: s3sim run FILE|DIR... [--seed N | --seeds A..B] [--variant NAME|all]\n"
            "                 [--set KNOB=VALUE]... [--mode sim|http] [--swarm] [--jobs N]\n"
            "                 [--report DIR] [--report-all] [--trace] [--quiet]\n"
            "                 [--shard K/N|none] [--timings FILE] [--prices FILE]\n"
            "       s3sim replay FILE --seed N [--variant NAME]\n"
            "       s3sim shrink FILE --seed N [--variant NAME] [-o OUT.scn]\n"
            "       s3sim sweep FILE [--op OP] [--effect EFFECT] [--seed N] [--variant NAME]\n"
            "       s3sim serve [--port N] [--access-key K --secret-key S] [--seed N]\n"
            "                   [--fault \"FAULT LINE\"]... [--scenario FILE]\n"
            "       s3sim merge DIR... --report OUT [--report-all]\n"
            "       s3sim campaign DIR|FILE... --for DURATION --out BUGDIR [--jobs N] [--swarm]\n"
            "                      [--seed-start N] [--set KNOB=VALUE]...\n"
            "       s3sim knobs [--metrics | --markdown]\n"
            "       s3sim bench [--list] [NAME...]   (from the source tree)\n"
            "       s3sim check FILE...\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";
    /* Object bodies of up to tens of MiB come and go all the time: keep them
     * in the heap instead of a fresh mmap (and page faults) for each one. */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    if (strcmp(cmd, "run") == 0 || strcmp(cmd, "replay") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "check") == 0)
        return cmd_check(argc - 1, argv + 1);
    if (strcmp(cmd, "knobs") == 0)
        return cmd_knobs(argc - 1, argv + 1);
    if (strcmp(cmd, "sweep") == 0)
        return cmd_sweep(argc - 1, argv + 1);
    if (strcmp(cmd, "shrink") == 0)
        return cmd_shrink(argc - 1, argv + 1);
    if (strcmp(cmd, "merge") == 0)
        return cmd_merge(argc - 1, argv + 1);
    if (strcmp(cmd, "campaign") == 0)
        return cmd_campaign(argc - 1, argv + 1);
    if (strcmp(cmd, "bench") == 0)
        return cmd_bench(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage();
        return 0;
    }
    if (*cmd)
        fprintf(stderr, "s3sim: unknown command '%s'\n", cmd);
    return usage();
}
