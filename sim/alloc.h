/*
 * alloc.h - the process's one allocation seam: every malloc, calloc, realloc,
 * strdup and strndup call of src/, fake_s3/, sim/ and the programs linked
 * with them goes through sim/alloc.c (the linker's --wrap, set on the s3sim_sim
 * library in CMakeLists.txt), which counts the calls that fail.
 *
 * What an allocation failure means for a run: the run ends at once as an
 * ERROR (exit 3, "out of memory"), whatever the engine made of the NULL.  The
 * engine survives a NULL (it gives up the job, or tries again later), but a
 * world in which the bench could not allocate is no longer the world the
 * scenario describes: a PASS or FAIL judged on it would be a verdict about
 * the bench, not about the engine under test.  So a failure is never a crash,
 * never a leak and never a verdict.
 *
 * free is wrapped too, so that a run can be judged for leaks (the `no-leak`
 * check, docs/checks.md): between sim_alloc_span_begin() and
 * sim_alloc_span_end() on a thread, every block that thread's code
 * allocates is entered in a table of live blocks, and leaves it when any
 * thread's code frees it.  What is left at the end was never freed.
 *
 * The counters are process state (an allocator has no world to hang off):
 * an allocation failure on any thread ends every run going on at that moment,
 * which under --jobs N is what running out of memory means for all of them.
 *
 * Fault injection, for tests in the spirit of SQLite's malloc tests: on the
 * calling thread only, fail the Nth allocation from now, or the Nth one made
 * from one call site, or each one with a seeded probability.
 */
#ifndef S3SIM_ALLOC_H
#define S3SIM_ALLOC_H

#include <stddef.h>
#include <stdint.h>

/* Allocation failures (real or injected) in the whole process so far. */
uint64_t sim_alloc_failures(void);

/* Call before starting threads that run worlds.  glibc sets up its malloc
 * state on its first call, without a lock; under ASan, which replaces malloc
 * and mallopt but not mallinfo2, that first call can be the memory budget's
 * mallinfo2 in two worker threads at once: both then take glibc's main arena
 * as their own, and the second to exit aborts in
 * __malloc_arena_thread_freeres ("a->attached_threads > 0", seen in CI's
 * ci/github-workflow with --jobs 2).  This makes the first call here. */
void sim_alloc_threads_ready(void);

/* Allocations made by the calling thread so far (successful or not). */
uint64_t sim_alloc_calls(void);
/* The bytes those allocations asked for (realloc: the new size), plus a bound
 * on malloc's overhead for each: what they can have added to the heap. */
uint64_t sim_alloc_bytes(void);

/* Injection, calling thread only.  sim_alloc_fail_nth(n): the nth allocation
 * from now fails (n >= 1), the others succeed; 0 turns it off.
 * sim_alloc_fail_site(site, nth): the nth allocation made from site (a return
 * address, as sim_alloc_sites() lists) fails.  sim_alloc_fail_rate(seed, ppm):
 * each allocation fails with probability ppm per million, from a PRNG seeded
 * with seed (same seed, same failures); ppm 0 turns it off.  Each call
 * replaces the previous injection.  Returns nothing: injection cannot fail. */
void sim_alloc_fail_nth(uint64_t n);
void sim_alloc_fail_site(const void *site, uint64_t nth);
void sim_alloc_fail_rate(uint64_t seed, uint32_t ppm);
void sim_alloc_fail_off(void);

/* Failures injected on the calling thread since the last sim_alloc_fail_*
 * (sim_alloc_fail_off resets it to 0). */
uint64_t sim_alloc_injected(void);

/* Site recording, calling thread only: while on, each distinct call site is
 * remembered (up to cap), in the order of its first allocation.
 * sim_alloc_sites() copies at most cap of them into sites (may be NULL with
 * cap 0) and returns how many there are; recording stops when it is turned
 * off or the table (2048 sites) is full. */
void sim_alloc_record(int on);
size_t sim_alloc_sites(const void **sites, size_t cap);

/* Leak spans, calling thread only.  sim_alloc_span_begin() starts one (a
 * begin inside a span is counted and only the outermost end ends it).
 * Blocks allocated from then on by our code (malloc, calloc, realloc,
 * strdup, strndup; a realloc keeps a block's span and site) are live until
 * freed through free or realloc from any thread.  Blocks allocated outside
 * every span, or inside the C library (getline, open_memstream, asprintf:
 * the wrap never sees them) are not counted, and freeing them is fine.
 * sim_alloc_forget(p): p is kept past the span on purpose (a run's report);
 * it is no longer counted.  sim_alloc_span_end() reports the span's blocks
 * still live and forgets them.  sim_alloc_live(): the span's blocks live
 * now (0 outside a span; a scan of the table: for tests).
 * Costs a lock and a probe of a hash table per allocation and free. */
#define SIM_ALLOC_LEAK_SITES 4
struct sim_alloc_leak_site {
    const void *site;   /* return address of the allocating call */
    uint64_t blocks;    /* blocks leaked from it */
};
struct sim_alloc_leaks {
    uint64_t allocs;    /* blocks allocated in the span */
    uint64_t blocks;    /* of them, never freed */
    uint64_t bytes;     /* the bytes they were asked for with */
    uint64_t lost;      /* blocks the table had no memory to enter (not judged) */
    size_t nsites;      /* distinct sites of the first leaked blocks, first first */
    struct sim_alloc_leak_site sites[SIM_ALLOC_LEAK_SITES];
};
void sim_alloc_span_begin(void);
void sim_alloc_forget(const void *p);
void sim_alloc_span_end(struct sim_alloc_leaks *out);
uint64_t sim_alloc_live(void);

#endif
