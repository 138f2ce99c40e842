/*
 * timeline.h - the engine's jobs on a run's timeline, drawn from the typed
 * events the engine sends through env->event (src/env.h, env_eventf()).
 *
 * A START opens a bar on its lane for its id; the END of the same lane and id
 * closes it (the bar spans START to END and carries the END's text and failed
 * flag); an INSTANT, or an END with no open START, is a mark.  A bar still open
 * when the run is judged is drawn up to then as a failure, "(still running)".
 *
 * Only the typed fields decide what is drawn: the text is the label, so
 * rewording an engine trace line changes no bar, mark, lane or failure.
 */
#ifndef S3SIM_TIMELINE_H
#define S3SIM_TIMELINE_H

#include "env.h"
#include "result.h"

#include <stddef.h>
#include <stdint.h>

#define SIM_TIMELINE_OPEN 16 /* bars open at once; more START while full are marks */

struct sim_timeline {
    struct sim_timeline_bar {
        enum env_lane lane;
        uint64_t id;    /* the job's id from its START */
        int64_t t0;     /* when it started */
        char label[96]; /* the START's text, for "(still running)" */
    } open[SIM_TIMELINE_OPEN];
    size_t nopen;      /* bars open now */
    size_t max_events; /* stop adding to the result at this many events */
};

/* Starts an empty timeline that adds at most max_events events to a result. */
void sim_timeline_init(struct sim_timeline *tl, size_t max_events);

/* The timeline lane of an engine lane. */
enum run_lane sim_timeline_lane(enum env_lane lane);

/* Draws ev, which happened at now, into r (a bar when it closes one). */
void sim_timeline_event(struct sim_timeline *tl, struct run_result *r, int64_t now,
                        const struct env_event *ev);

/* Draws every bar still open as a failed bar up to now, "(still running)",
 * lane by lane.  The bars stay open: a job that ends after the run was judged
 * (while the world shuts down) is still drawn when its END comes. */
void sim_timeline_finish(struct sim_timeline *tl, struct run_result *r, int64_t now);

#endif /* S3SIM_TIMELINE_H */
