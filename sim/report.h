/*
 * report.h - the reports of `s3sim run --report DIR` (docs/scenarios.md "Reports").
 *
 *   struct run_result[] --rpt_write()--> DIR/results.json   every run: checks, metrics, counts,
 * waits DIR/junit.xml      one testsuite per file, one testcase per run DIR/index.html
 * self-contained page: runs, timelines, matrix DIR/coverage.json  injected effect x S3 op x engine
 * job
 *
 * The writers only read the results; they never change or keep them.  Every
 * string of a result may hold anything (quotes, markup, control characters,
 * invalid UTF-8): each output format escapes it so the file stays valid
 * (invalid UTF-8 becomes U+FFFD; XML-forbidden control characters are shown
 * as the text "\xNN").  Output depends only on the results (no wall clock, no
 * host name), so the same runs give byte-identical reports.
 *
 * Errors: 0, ERR_INVAL (dir or a run is NULL), ERR_IO (a directory or file
 * could not be created, written or closed; errno is left as the failing call
 * set it), ERR_NOMEM.  On error the files already written are left in place
 * and the one being written may be truncated.
 */
#ifndef S3SIM_REPORT_H
#define S3SIM_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "result.h"

/* Writes the four reports into dir, creating dir and its parents as needed
 * (like mkdir -p).  runs[0..nruns) are borrowed; nruns may be 0.  index.html
 * draws a timeline for every failing run, and for every run when report_all. */
int rpt_write(const char *dir, struct run_result *const *runs, size_t nruns, bool report_all);
/* Creates dir (mkdir -p) and checks that a file can be written there, so
 * that a bad --report fails before any run.  0, or an error with why. */
int rpt_prepare(const char *dir, char *why, size_t whysz);

/* The four writers rpt_write() uses, each to an open stream (not closed).
 * They return ERR_IO when the stream's error flag is set after writing (also
 * after a final fflush), ERR_NOMEM, or 0. */
int rpt_results_json(FILE *f, struct run_result *const *runs, size_t nruns);
int rpt_coverage_json(FILE *f, struct run_result *const *runs, size_t nruns);
int rpt_junit(FILE *f, struct run_result *const *runs, size_t nruns);
int rpt_html(FILE *f, struct run_result *const *runs, size_t nruns, bool report_all);

/* Formats a duration of virtual time, µs, into buf: "0s", "250us", "12ms",
 * "1.250s", "12m31s", "2h05m00s", "1d02h03m" (negative: "-" then the
 * magnitude).  Returns buf. */
char *rpt_fmt_dur(char *buf, size_t size, int64_t us);

#endif /* S3SIM_REPORT_H */
