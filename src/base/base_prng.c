/* base_prng.c - xoshiro256** and splitmix64 (see base_prng.h). */
#include "base_prng.h"

uint64_t base_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

void base_prng_seed(struct base_prng *p, uint64_t seed)
{
    uint64_t st = seed;
    for (int i = 0; i < 4; i++)
        p->s[i] = base_splitmix64(&st);
}

static inline uint64_t bp_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t base_prng_next(struct base_prng *p)
{
    uint64_t *s = p->s;
    uint64_t result = bp_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = bp_rotl(s[3], 45);
    return result;
}
