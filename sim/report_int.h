/*
 * report_int.h - helpers shared by the report writers (sim/report*.c).
 * Internal to the report module; the contract is report.h.
 *
 * All writers print to a FILE * and ignore individual fprintf results: a
 * stream remembers its first error, and rpt_finish() turns it into ERR_IO.
 */
#ifndef S3SIM_REPORT_INT_H
#define S3SIM_REPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "result.h"

/* Decodes one UTF-8 character of s[0..n), n >= 1.  Returns the bytes it
 * takes (1..4) and sets *cp; an invalid, overlong, surrogate or truncated
 * sequence takes 1 byte and gives U+FFFD. */
size_t rpt_utf8_next(const unsigned char *s, size_t n, uint32_t *cp);

/* Writes s as a quoted JSON string ("null" when s is NULL).  Control
 * characters, quotes and backslashes are escaped; valid UTF-8 passes
 * through; invalid bytes become \ufffd. */
void rpt_json_str(FILE *f, const char *s);

/* Writes s escaped for XML/HTML text or (attr) a double-quoted attribute
 * value.  NULL writes nothing.  & < > " ' become entities; characters XML
 * 1.0 forbids (controls but tab/newline/CR, U+FFFE, U+FFFF) become the text
 * "\xNN" / "\uFFFE"; invalid UTF-8 becomes U+FFFD; in attributes tab,
 * newline and CR become character references so they survive. */
void rpt_xml_str(FILE *f, const char *s, bool attr);

/* fflush(f), then ERR_IO if the stream's error flag is set, else 0. */
int rpt_finish(FILE *f);

/* Name tables. */
const char *rpt_effect_name(int effect);          /* "status", ...; "none"; "?" */
const char *rpt_verdict_name(enum run_verdict v); /* "PASS", "FAIL", "ERROR" */
const char *rpt_lane_name(enum run_lane lane);    /* "wal", "sso", ... */

/* Copies the run's trace hash into out (at most size - 1 characters, and
 * at most 64), keeping only hex digits, so that it is safe in any format
 * unescaped.  size 13 gives the 12-digit short form.  Returns out. */
char *rpt_trace_hex(char *out, size_t size, const struct run_result *r);

/* True for a run the reports treat as failing (FAIL or ERROR). */
bool rpt_failing(const struct run_result *r);

/* Sum of r->faults_by_op over every op and injected effect. */
uint64_t rpt_faults_total(const struct run_result *r);

/* False when docs/scenarios.md "Faults" says effect cannot apply to op (stale only on
 * get/head/list; partial only on put/get/mpu-part/mpu-complete/delete-many).
 * The matrix shows such cells as "n/a" rather than as an unhit gap. */
bool rpt_effect_applies(int effect, int op);

/* Writes the <svg> timeline of one run.  Returns 0 or ERR_NOMEM (I/O
 * errors are left on the stream).  Defined in report_svg.c. */
int rpt_svg_timeline(FILE *f, const struct run_result *r);

/* Writes the coverage matrix (summed over runs) as an HTML table: effects x
 * ops, per-job counts in each cell's title, unhit cells as a grey "0".
 * Defined in report_cov.c, next to coverage.json. */
void rpt_html_coverage(FILE *f, struct run_result *const *runs, size_t nruns);

/* What a run costs under cost_current() (sim/cost.h); report_cost.c.
 * rpt_json_cost writes the "cost" field of a run object; rpt_html_cost_cell
 * one <td> of the runs table; rpt_html_cost the tables by op and by job. */
void rpt_json_cost(FILE *f, const struct run_result *r);
void rpt_html_cost_cell(FILE *f, const struct run_result *r);
void rpt_html_cost(FILE *f, struct run_result *const *runs, size_t nruns);

#endif /* S3SIM_REPORT_INT_H */
