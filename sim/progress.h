/*
 * progress.h - the progress line of `s3sim run` on a terminal: a run that has
 * taken more than 2 s of wall time shows, on one updating stderr line, the
 * virtual time it reached, its deadline and the rate (virtual seconds per
 * wall second).  A 24 h virtual run otherwise prints nothing until it ends.
 *
 *   job_execute ─ progress_begin(slot) ─► world_run stores the virtual time in
 *   the slot as events fire ─► the progress thread reads it once a second ─►
 *   "\r<line>" on stderr; progress_hold() erases it while a result line is printed
 *
 * Nothing is printed (progress_start returns NULL) when stderr is not a
 * terminal, or with --quiet or --trace; every function accepts NULL.  The line
 * never reaches stdout, the reports or the trace: runs stay byte-identical.
 */
#ifndef S3SIM_PROGRESS_H
#define S3SIM_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct progress;

/* A progress line for nslots runs, or NULL (not a terminal, enabled false,
 * out of memory). */
struct progress *progress_start(size_t nslots, bool enabled);

/* Run slot started: its label ("scenario variant seed=N") and deadline.
 * Returns where world_run stores the virtual time (world_opts.vtime_us), or
 * NULL when p is NULL. */
_Atomic int64_t *progress_begin(struct progress *p, size_t slot, const char *label,
                                int64_t deadline_us);

/* Run slot ended. */
void progress_end(struct progress *p, size_t slot);

/* Erases the line if one is shown and keeps it from being drawn until
 * progress_release(): around the printing of a result line. */
void progress_hold(struct progress *p);
void progress_release(struct progress *p);

/* Stops the thread, erases the line, frees p. */
void progress_stop(struct progress *p);

#endif /* S3SIM_PROGRESS_H */
