/*
 * vclock.h - the virtual clock of --mode http (docs/http.md "Time in --mode
 * http"): the struct env_clock (env.h) shared by the engine's loop (party 0)
 * and the fake S3's timer thread (party 1).
 *
 * Virtual time runs at 1/scale of real time only while both loops sleep.  It
 * stands still while either runs callbacks (the engine's jobs, the front's
 * timers), and it never runs past a sleeping loop's earliest timer: a loop
 * woken late by a busy machine finds its timer due at exactly its virtual
 * time, instead of a virtual time pushed on by the lateness divided by the
 * scale.  A request between the two is told by its token (env.h, transit):
 * the clock stands still from the client's send until the front parks it on
 * its loop, and from the front's answer until the client has it, so time on
 * the wire and in the front's handler threads is not virtual time either.
 */
#ifndef S3SIM_VCLOCK_H
#define S3SIM_VCLOCK_H

#include <stdint.h>

#include "env.h"

struct sim_vclock;

/* A clock at virtual time 0, running at 1/scale of real time (scale > 0).
 * Returns NULL when out of memory. */
struct sim_vclock *sim_vclock_new(double scale);
void sim_vclock_free(struct sim_vclock *c);

/* The struct env_clock to hand to env_real and the front (owned by c). */
const struct env_clock *sim_vclock_ops(struct sim_vclock *c);

#endif
