/*
 * reads.h - the scenario's consumers (`read`) and out-of-band writer (`race-put`), both
 * extensions of the scenario language (docs/scenarios.md "Actions").  See reads.c.
 */
#ifndef S3SIM_READS_H
#define S3SIM_READS_H

#include <stdbool.h>
#include <stdint.h>

#include "scn.h"

struct world;
struct world_timed;

/* A `read` line fired: each consumer it names fetches from its position. */
void world_do_read(struct world *w, struct world_timed *t);
/* The run is being judged: fetches still in flight are no longer judged or counted. */
void world_reads_close(struct world *w);
/* Frees the consumers and the out-of-band keys (after the engine: no fetch is left). */
void world_reads_free(struct world *w);

/* A `race-put` line fired: the object goes into the bucket now, behind the engine's back. */
void world_do_race_put(struct world *w, const struct scn_action *a);
/* True when key, of that size, is an object race-put wrote (no-orphans leaves it out). */
bool world_foreign_key(const struct world *w, const char *key, uint64_t size);

#endif /* S3SIM_READS_H */
