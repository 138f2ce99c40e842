/* payload.c - see payload.h. */
#include "payload.h"

#include <stdatomic.h>
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

/* With AVX-512 (F and DQ: 64-bit lanes and their multiply), eight words per
 * step, the same words as sim_payload_word: lane k of step j is word
 * 8 j + k.  Chosen at run time; other machines take the scalar loops. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(S3SIM_NO_AVX512)
#include <immintrin.h>
#define SIM_PAYLOAD_AVX512 1

#define SIM_AVX512 __attribute__((target("avx512f,avx512dq")))

SIM_AVX512 static inline __m512i sim_payload_mix8(__m512i z)
{
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 31)),
                           _mm512_set1_epi64((long long)UINT64_C(0xbf58476d1ce4e5b9)));
    return _mm512_xor_si512(z, _mm512_srli_epi64(z, 29));
}

/* The first weyl value of words i..i+7 and the step to the next eight. */
SIM_AVX512 static inline __m512i sim_payload_z8(uint64_t h, uint64_t i)
{
    const uint64_t g = UINT64_C(0x9e3779b97f4a7c15);
    return _mm512_set_epi64((long long)(h + (i + 7) * g), (long long)(h + (i + 6) * g),
                            (long long)(h + (i + 5) * g), (long long)(h + (i + 4) * g),
                            (long long)(h + (i + 3) * g), (long long)(h + (i + 2) * g),
                            (long long)(h + (i + 1) * g), (long long)(h + i * g));
}

/* Fills the whole words of buf[0..n*8); returns n. */
SIM_AVX512 static size_t sim_payload_fill8(uint64_t h, uint8_t *buf, size_t nwords)
{
    __m512i z = sim_payload_z8(h, 0);
    const __m512i step = _mm512_set1_epi64((long long)(UINT64_C(0x9e3779b97f4a7c15) * 8));
    size_t k = 0;
    for (; k + 8 <= nwords; k += 8) {
        _mm512_storeu_si512((void *)(buf + 8 * k), sim_payload_mix8(z));
        z = _mm512_add_epi64(z, step);
    }
    return k;
}

/* Compares the whole words of buf[0..n*8) eight at a time: returns the
 * index of the first group of eight that differs (its words are then
 * compared one by one), or the number of words compared. */
SIM_AVX512 static size_t sim_payload_check8(uint64_t h, const uint8_t *buf, size_t nwords)
{
    __m512i z = sim_payload_z8(h, 0);
    const __m512i step = _mm512_set1_epi64((long long)(UINT64_C(0x9e3779b97f4a7c15) * 8));
    size_t k = 0;
    for (; k + 8 <= nwords; k += 8) {
        __m512i got = _mm512_loadu_si512((const void *)(buf + 8 * k));
        if (_mm512_cmpneq_epi64_mask(got, sim_payload_mix8(z)))
            return k;
        z = _mm512_add_epi64(z, step);
    }
    return k;
}

static int sim_payload_avx512(void)
{
    /* Worker threads may ask first at once: each computes the same answer, and the atomic
     * (relaxed: nothing else is published with it) keeps that a defined, TSan-clean race. */
    static _Atomic int has = -1;
    int v = atomic_load_explicit(&has, memory_order_relaxed);
    if (v < 0) {
        v = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
        atomic_store_explicit(&has, v, memory_order_relaxed);
    }
    return v;
}
#endif

void sim_payload_fill(uint64_t seed, int64_t stream, int64_t offset, uint8_t *buf, size_t len)
{
    uint64_t h = sim_payload_state(seed, stream, offset);
    size_t i = 0;
#ifdef SIM_PAYLOAD_AVX512
    if (len >= 64 && sim_payload_avx512())
        i = 8 * sim_payload_fill8(h, buf, len / 8);
#endif
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
    size_t i = 0;
#ifdef SIM_PAYLOAD_AVX512
    if (len >= 64 && sim_payload_avx512())
        i = 8 * sim_payload_check8(h, buf, len / 8); /* then the rest, or the differing group */
#endif
    for (; i < len; i += 8) {
        uint64_t v = sim_payload_word(h, i / 8), got = 0;
        size_t n = len - i < 8 ? len - i : 8;
        memcpy(&got, buf + i, n);
        if (n < 8)
            memset((uint8_t *)&v + n, 0, 8 - n); /* only the bytes held: as memcpy laid them */
        if (got != v) {
            const uint8_t *w = (const uint8_t *)&v;
            for (size_t j = 0; j < n; j++)
                if (buf[i + j] != w[j])
                    return (long)(i + j);
        }
    }
    return -1;
}
