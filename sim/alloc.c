/* alloc.c - the allocation seam (alloc.h): the --wrap targets of malloc,
 * calloc, realloc, strdup and strndup.  The linker sends our code's calls
 * here; __real_NAME is the C library's (or a sanitizer's) allocator. */
#include "alloc.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

#define ALLOC_MAX_SITES 2048
/* A bound on malloc's bookkeeping and rounding per allocation (a chunk's
 * header and its alignment to 16 bytes on 64-bit glibc). */
#define ALLOC_SLOP 32

enum alloc_mode { ALLOC_OFF, ALLOC_NTH, ALLOC_SITE, ALLOC_RATE };

/* The injection and recording state of one thread (alloc.h: injection is
 * per thread, so a test's worker threads and other jobs are left alone). */
struct alloc_thread {
    enum alloc_mode mode;          /* what fails */
    uint64_t calls;                /* allocations made by this thread */
    uint64_t bytes;                /* bytes they asked for, plus ALLOC_SLOP each */
    uint64_t countdown;            /* ALLOC_NTH/ALLOC_SITE: fail when it reaches 0 */
    const void *site;              /* ALLOC_SITE: the call site */
    uint64_t rng;                  /* ALLOC_RATE: splitmix64 state */
    uint32_t ppm;                  /* ALLOC_RATE: failures per million */
    uint64_t injected;             /* failures injected since the mode was set */
    bool recording;                /* sim_alloc_record on */
    size_t nsites;                 /* sites recorded */
    const void *sites[ALLOC_MAX_SITES]; /* in order of first allocation */
};

static _Thread_local struct alloc_thread alloc_t;
static atomic_uint_fast64_t alloc_failed; /* the process's failures, real or injected */

static uint64_t alloc_splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static void alloc_record(struct alloc_thread *t, const void *site)
{
    for (size_t i = t->nsites; i-- > 0;)
        if (t->sites[i] == site)
            return;
    if (t->nsites < ALLOC_MAX_SITES)
        t->sites[t->nsites++] = site;
}

/* Whether this allocation, made from site, is to fail. */
static bool alloc_inject(const void *site)
{
    struct alloc_thread *t = &alloc_t;
    bool fail = false;
    t->calls++;
    if (t->recording)
        alloc_record(t, site);
    switch (t->mode) {
    case ALLOC_OFF:
        return false;
    case ALLOC_NTH:
        fail = --t->countdown == 0;
        break;
    case ALLOC_SITE:
        fail = site == t->site && --t->countdown == 0;
        break;
    case ALLOC_RATE:
        fail = alloc_splitmix(&t->rng) % 1000000u < t->ppm;
        break;
    }
    if (fail) {
        if (t->mode != ALLOC_RATE)
            t->mode = ALLOC_OFF;
        t->injected++;
    }
    return fail;
}

static void *alloc_failed_now(void)
{
    atomic_fetch_add_explicit(&alloc_failed, 1, memory_order_relaxed);
    return NULL;
}

static void *alloc_malloc(size_t n, const void *site)
{
    void *p;
    alloc_t.bytes += n + ALLOC_SLOP;
    if (alloc_inject(site))
        return alloc_failed_now();
    p = __real_malloc(n);
    return p ? p : alloc_failed_now();
}

void *__wrap_malloc(size_t n) { return alloc_malloc(n, __builtin_return_address(0)); }

void *__wrap_calloc(size_t n, size_t size)
{
    void *p;
    alloc_t.bytes += (size && n > (SIZE_MAX >> 8) / size ? SIZE_MAX >> 8 : n * size) + ALLOC_SLOP;
    if (alloc_inject(__builtin_return_address(0)))
        return alloc_failed_now();
    p = __real_calloc(n, size);
    /* calloc(0, ...) may answer NULL without failing. */
    return p || !n || !size ? p : alloc_failed_now();
}

void *__wrap_realloc(void *old, size_t n)
{
    void *p;
    alloc_t.bytes += n + ALLOC_SLOP;
    if (alloc_inject(__builtin_return_address(0)))
        return alloc_failed_now();
    p = __real_realloc(old, n);
    return p || !n ? p : alloc_failed_now();
}

char *__wrap_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = alloc_malloc(n, __builtin_return_address(0));
    return p ? memcpy(p, s, n) : NULL;
}

char *__wrap_strndup(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    char *p = alloc_malloc(n + 1, __builtin_return_address(0));
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

uint64_t sim_alloc_failures(void)
{
    return atomic_load_explicit(&alloc_failed, memory_order_relaxed);
}

uint64_t sim_alloc_calls(void) { return alloc_t.calls; }
uint64_t sim_alloc_bytes(void) { return alloc_t.bytes; }

void sim_alloc_fail_nth(uint64_t n)
{
    alloc_t.mode = n ? ALLOC_NTH : ALLOC_OFF;
    alloc_t.countdown = n;
    alloc_t.injected = 0;
}

void sim_alloc_fail_site(const void *site, uint64_t nth)
{
    alloc_t.mode = nth ? ALLOC_SITE : ALLOC_OFF;
    alloc_t.site = site;
    alloc_t.countdown = nth;
    alloc_t.injected = 0;
}

void sim_alloc_fail_rate(uint64_t seed, uint32_t ppm)
{
    alloc_t.mode = ppm ? ALLOC_RATE : ALLOC_OFF;
    alloc_t.rng = seed;
    alloc_t.ppm = ppm;
    alloc_t.injected = 0;
}

void sim_alloc_fail_off(void)
{
    alloc_t.mode = ALLOC_OFF;
    alloc_t.injected = 0;
}

uint64_t sim_alloc_injected(void) { return alloc_t.injected; }

void sim_alloc_record(int on)
{
    if (on && !alloc_t.recording)
        alloc_t.nsites = 0;
    alloc_t.recording = on != 0;
}

size_t sim_alloc_sites(const void **sites, size_t cap)
{
    for (size_t i = 0; i < cap && i < alloc_t.nsites; i++)
        sites[i] = alloc_t.sites[i];
    return alloc_t.nsites;
}

void sim_alloc_threads_ready(void)
{
    static atomic_bool done;
    if (!atomic_exchange(&done, true))
        (void)mallinfo2();
}
