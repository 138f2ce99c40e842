/*
 * swarm.h - `s3sim run --swarm` (docs/scenarios.md "The command"): each seed draws a random
 * subset of fault kinds (op × effect, each with a random probability) on top
 * of the file's own faults, so that many seeds explore many fault mixes
 * (swarm testing, Groce et al. 2012).
 *
 * The draw comes from its own generator seeded from the run seed (not the
 * world's random stream), so a run stays a pure function of (file, variant,
 * knobs, seed, --swarm), and the world's draws are the same as without
 * --swarm up to the first call the added rules see.
 *
 * What is drawn: 2 to 5 distinct (op, effect) pairs, the op among the S3 ops
 * and the broker's requests to the controller (rpc-prepare ... rpc-delete-stream);
 * effects among status=500, status=503, timeout, lost, stall, delay=1s..30s,
 * partial (put, get, mpu-part, mpu-complete, delete-many), stale=1s..60s (get,
 * head, list), and on an rpc-* op only timeout, lost, stall, delay= and
 * error=CODE, a code the controller can answer that op with (as `s3sim check`
 * allows: mdc_op_answers);
 * each rule fires with prob= 1%..20% and only until= 60% of the deadline
 * (whole seconds, at least 1s), so that a scenario that converges once its
 * faults stop can still converge.  The rules are unnamed: `heal all` heals
 * them too.
 */
#ifndef S3SIM_SWARM_H
#define S3SIM_SWARM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scn.h"

#define SWARM_MIN_RULES 2
#define SWARM_MAX_RULES 5

/* Appends the rules drawn for seed to spec->faults (after the file's own, so
 * those are tried first) and writes them into desc as fault lines without
 * the word fault, joined by "; " ("put prob=7% until=36m status=503; get
 * prob=2% until=36m stale=12s"); each part re-parses with scn_parse_fault to
 * the rule added.  desc is cut to descsz (512 bytes always suffice).
 * Depends only on seed and spec->deadline_us.  Returns 0 or ERR_NOMEM (then
 * spec is unchanged). */
int swarm_draw(uint64_t seed, struct scn_spec *spec, char *desc, size_t descsz);

/* The draw of a run: when cli (--swarm) or the file's `swarm` directive
 * (spec->swarm) asks for it, swarm_draw once (both at once draw once) and
 * clear spec->swarm, so that a spec written back (scnw_text: shrink, campaign)
 * carries the drawn rules as its own fault lines and does not draw again.
 * desc is "" when nothing was drawn.  Returns 0 or ERR_NOMEM. */
int swarm_apply(uint64_t seed, struct scn_spec *spec, bool cli, char *desc, size_t descsz);

#endif /* S3SIM_SWARM_H */
