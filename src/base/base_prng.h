/*
 * base_prng.h - the tree's one pseudo-random generator: xoshiro256**
 * (Blackman and Vigna), seeded by expanding a 64-bit seed with splitmix64.
 *
 * Users: the simulator's run stream (sim/world.c, behind env->random), the
 * swarm's fault mixes (sim/swarm.c), the payload bytes (sim/payload.c, which
 * uses splitmix64 alone), and the real-clock envs (src/env_real.c,
 * fake_s3/http_loop.c).
 *
 * The same seed gives the same sequence on every platform: pure 64-bit
 * integer arithmetic, no floating point, no global state.  Draw order is part
 * of a simulated run's determinism: every consumer draws through one
 * generator, in event order.  Not thread-safe: one generator per thread.
 */
#ifndef S3SIM_BASE_PRNG_H
#define S3SIM_BASE_PRNG_H

#include <stdint.h>

struct base_prng {
    uint64_t s[4]; /* xoshiro256** state; never all zero once seeded */
};

/* One splitmix64 step: advances *state by the golden gamma and returns the
 * mixed output.  Also usable on its own as a stateless hash of a counter. */
uint64_t base_splitmix64(uint64_t *state);

/* Seeds p from seed: four splitmix64 outputs of the state seed (any seed,
 * 0 included, gives a valid non-zero state). */
void base_prng_seed(struct base_prng *p, uint64_t seed);

/* The next 64 random bits, advancing p. */
uint64_t base_prng_next(struct base_prng *p);

#endif /* S3SIM_BASE_PRNG_H */
