/* payload.c - see payload.h. */
#include "payload.h"

#include <string.h>

#include "base_prng.h"

static uint64_t sim_payload_state(uint64_t seed, int64_t stream, int64_t offset)
{
    uint64_t st = seed ^ ((uint64_t)stream * UINT64_C(0x9e3779b97f4a7c15));
    uint64_t a = base_splitmix64(&st);
    st = a ^ (uint64_t)offset;
    return base_splitmix64(&st);
}

/* Word i of a record's payload: a Weyl sequence from the record's state,
 * through one multiply-xorshift.  Inlined and without a loop-carried chain,
 * so filling and checking run at a few GB/s. */
static inline uint64_t sim_payload_word(uint64_t h, uint64_t i)
{
    uint64_t z = h + i * UINT64_C(0x9e3779b97f4a7c15);
    z = (z ^ (z >> 31)) * UINT64_C(0xbf58476d1ce4e5b9);
    return z ^ (z >> 29);
}

void sim_payload_fill(uint64_t seed, int64_t stream, int64_t offset, uint8_t *buf, size_t len)
{
    uint64_t h = sim_payload_state(seed, stream, offset);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t v = sim_payload_word(h, i / 8);
        memcpy(buf + i, &v, 8);
    }
    if (i < len) {
        uint64_t v = sim_payload_word(h, i / 8);
        memcpy(buf + i, &v, len - i);
    }
}

long sim_payload_check(uint64_t seed, int64_t stream, int64_t offset, const uint8_t *buf,
                       size_t len)
{
    uint64_t h = sim_payload_state(seed, stream, offset);
    uint64_t want[512]; /* 4 KiB of expected bytes at a time: one memcmp per chunk */
    for (size_t i = 0; i < len; i += sizeof want) {
        size_t n = len - i < sizeof want ? len - i : sizeof want;
        for (size_t k = 0; k < (n + 7) / 8; k++)
            want[k] = sim_payload_word(h, i / 8 + k);
        if (memcmp(buf + i, want, n) != 0) {
            const uint8_t *w = (const uint8_t *)want;
            for (size_t j = 0; j < n; j++)
                if (buf[i + j] != w[j])
                    return (long)(i + j);
        }
    }
    return -1;
}
