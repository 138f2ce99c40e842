/*
 * cmd.h - the s3sim subcommands that live outside main.c.  Each takes the
 * arguments after the subcommand word (argv[0] is the subcommand itself, as
 * getopt expects) and returns the process exit code of docs/scenarios.md "The command":
 * 0 ok, 1 a run failed, 2 bad input, 3 the bench broke.
 */
#ifndef S3SIM_CMD_H
#define S3SIM_CMD_H

/* s3sim check FILE|DIR...: parses every file (every *.scn below a DIR, in
 * name order) and prints each error as FILE:LINE:COL: message on stderr.
 * Returns 0 when all parse, 2 otherwise (or on a usage error). */
int cmd_check(int argc, char **argv);

/* s3sim bench [--list] [NAME...]: runs the benchmark programs built next to
 * s3sim (all, or those named: bench_heap or heap), one after the other, each
 * in its own process, from the source tree; each prints its figures next to
 * their targets and the memcpy reference of the same run, per CPU second,
 * and this adds the CPU each took.  Never judges a figure.  Returns 0, 2 (a
 * usage error, not in the source tree) or 3 (a benchmark could not start or
 * died) (sim/cmd_bench.c). */
int cmd_bench(int argc, char **argv);

/* s3sim knobs [--metrics | --markdown]: prints every knob (name, type,
 * default, meaning, and the field bug a field-bug knob restores), or every
 * metric, or both tables as the Markdown page docs/knobs.md.  Returns 0, or 2
 * on a usage error. */
int cmd_knobs(int argc, char **argv);

/* s3sim sweep FILE [--op OP|any] [--effect EFFECT] [--seed N] [--variant NAME]
 * [--set KNOB=VALUE]... [--nth K] [--max N] [--swarm] [--trace] [--quiet]: fails the
 * 1st, 2nd, 3rd... call of OP (default any: every S3 call counts) with EFFECT
 * (default status=500), one run each, until no call K comes (sim/sweep.c,
 * tools helper).  Returns 0, 1, 2 or 3 as `run`. */
int cmd_sweep(int argc, char **argv);

/* s3sim shrink FILE --seed N [--variant NAME] [--set KNOB=VALUE]... [--swarm]
 * [-o OUT.scn] [--max-runs N] [--loose] [--quiet]: the smallest scenario found that still fails the
 * same way (sim/shrink.c, tools helper).  Returns 0 (written), 2 (bad input, or the
 * run does not fail), 3 (the bench broke). */
int cmd_shrink(int argc, char **argv);

/* s3sim merge DIR... --report OUT [--report-all] [--quiet]: the reports of
 * the shards of one run set as the unsharded run writes them (sim/merge.c).
 * Returns 0 (all passed), 1 (a run failed), 2 (bad input: a shard missing or
 * twice, not the same run set), 3. */
int cmd_merge(int argc, char **argv);

/* s3sim campaign DIR|FILE... --for DURATION [--jobs N] [--swarm] [--seed-start N]
 * [--set KNOB=VALUE]... --out BUGDIR: seeds until the time is up, one shrunk
 * scenario per failure signature (sim/campaign.c).  Returns 0 (no failure),
 * 1 (failures found and written), 2 (bad input), 3. */
int cmd_campaign(int argc, char **argv);

/* s3sim serve ...: the fake S3 as an S3 server (sim/cmd_serve.c, http helper). */
int cmd_serve(int argc, char **argv);

#endif /* S3SIM_CMD_H */
