/*
 * campaign.h - `s3sim campaign`: a time-boxed search for new failures, for the
 * nightly job (see cmd.h for the command line, docs/tools.md for its use).
 *
 *   files × variants × seeds seed-start, seed-start+1, ... ──(--jobs threads)──►
 *     one run each (--swarm: each seed adds a random fault mix) until the time
 *     for searching is up (two thirds of --for once a failure is known, else all)
 *   failures ─► grouped by signature ─► one run per signature shrunk (sim/shrink.c)
 *     in the time left ─► BUGDIR/<slug>.scn (replay line and seed in its header)
 *   time the shrinks left over ─► search again (two thirds of it), shrink what is new, ...
 *
 * Everything a campaign writes comes from its seeds: two campaigns over the
 * same seeds find the same signatures (the time box decides how many seeds).
 */
#ifndef S3SIM_CAMPAIGN_H
#define S3SIM_CAMPAIGN_H

#include <stddef.h>

#include "result.h"

/* How r failed, for grouping: tools_signature() with numbers masked (the
 * failing check, its detail's shape), and for a hang the shape of the
 * pending waits: each distinct masked "who: what", sorted, joined by " | ".
 * "" when r passed.  Returns buf. */
char *campaign_signature(const struct run_result *r, char *buf, size_t bufsz);

/* A file name for a signature: lower-case letters, digits and '-', at most 60
 * of them, then '-' and 8 hex digits of a hash of the whole signature (two
 * signatures that share their first 60 characters still get two files).
 * bufsz >= 72.  Returns buf. */
char *campaign_slug(const char *signature, char *buf, size_t bufsz);

#endif /* S3SIM_CAMPAIGN_H */
