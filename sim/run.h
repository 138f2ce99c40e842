/*
 * run.h - `s3sim run` and `s3sim replay`: expand files and directories, parse
 * everything before any run starts, expand (file, variant, seed) runs, execute
 * them on --jobs threads (one world per run), print one line per run in a
 * fixed order, the summary line, the reports, and return the exit code of
 * docs/scenarios.md "The command".
 */
#ifndef S3SIM_RUN_H
#define S3SIM_RUN_H

/* argv[0] is "run" or "replay".  Returns 0, 1, 2 or 3. */
int cmd_run(int argc, char **argv);

#endif /* S3SIM_RUN_H */
