/*
 * prng.h - the run's one random stream: xoshiro256** (Blackman and Vigna),
 * seeded by expanding the 64-bit scenario seed with splitmix64.
 *
 * Draw order is part of determinism: every consumer draws through
 * sim_prng_next() (via env->random) in event order, one draw per decision.
 * The same seed gives the same sequence on every platform (pure 64-bit
 * integer arithmetic, no floating point in the generator).
 */
#ifndef S3SIM_PRNG_H
#define S3SIM_PRNG_H

#include <stdint.h>

struct sim_prng {
    uint64_t s[4]; /* xoshiro256** state; never all zero */
};

/* One splitmix64 step: advances *state and returns the next output. */
uint64_t sim_splitmix64(uint64_t *state);

void sim_prng_seed(struct sim_prng *p, uint64_t seed);
uint64_t sim_prng_next(struct sim_prng *p);

#endif /* S3SIM_PRNG_H */
