/*
 * world.h - one run = one world (docs/design.md "The simulator (sim/)"): the clock, the event heap,
 * the PRNG, the fake S3 and its fault shim, the engine, the actors, the trace and
 * the checks, all hanging off one struct (no globals), so that --jobs N runs
 * N worlds on N threads.
 *
 *   scn_spec ─► world_run() ─► events fire in (time, seq) order until the
 *   deadline or a hang ─► checks judged ─► struct run_result
 */
#ifndef S3SIM_WORLD_H
#define S3SIM_WORLD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "result.h"
#include "scn.h"

struct world_opts {
    FILE *trace_out;     /* --trace: every trace line is printed here (NULL: not) */
    _Atomic int64_t *vtime_us; /* the virtual time reached, stored (relaxed) as events
                                  fire, for the progress line of sim/progress.c (NULL: not) */
    uint64_t max_memory; /* --max-memory: the process's heap in use above which the run ends
                            as an error (exit 3) naming what grew; 0: no budget.  Read from
                            malloc's statistics every 4096 allocations of the running
                            thread and when the fake S3's bytes or the program break
                            grew 8 MiB (not under ASan, whose
                            allocator keeps none) */
};

/* Runs spec (whose seed is the run's seed) and fills *res (zeroed by the
 * caller; free with run_result_free).  file: the scenario path, for the
 * replay line.  Returns 0, or a negative err code when the bench itself broke
 * (then res->verdict is RUN_ERROR and res->summary says where). */
int world_run(const struct scn_spec *spec, const char *file, const struct world_opts *opts,
              struct run_result *res);

#endif /* S3SIM_WORLD_H */
