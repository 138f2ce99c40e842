/*
 * base_heap.h - the timer heap shared by every event loop of the tree: the
 * simulator's world (virtual time), the engine's real-clock env (env_real.c)
 * and the fake S3's HTTP loop (fake_s3/http_loop.c).
 *
 * A 4-ary min-heap of one-shot events, each a callback fn(arg) due at a time
 * (4 children per node: half the depth of a binary heap, and the four
 * children share a cache line or two).
 *
 * Order (the tie-break rule): events come out by (time, seq).  seq is a
 * counter the heap increments at every push, so two events due at the same
 * time come out in the order they were pushed (FIFO), whatever the heap's
 * internal layout.  This rule, with the run's single PRNG, is what makes a
 * simulated run a pure function of its inputs (libuv's timers use the same
 * rule: timeout, then start id).
 *
 * Cancellation is O(1) and lazy: every event lives in a slot; a handle is
 * (generation << 32 | slot), never 0.  Cancelling bumps the slot's
 * generation and clears its fn; the node stays in the array, dead, and its
 * slot stays taken until the node reaches the top (pop, peek), where both
 * are dropped.  A stale handle (its event fired or was cancelled) is
 * recognised by its generation and ignored.  Dead nodes are never more than
 * the live ones plus 1024: past that the array is compacted and re-heaped
 * (O(n), amortised over as many cancels).  Since (time, seq) is a total
 * order, the layout never changes which event comes out next.
 *
 * A node is 16 bytes (four children fill one cache line): the due time, and
 * seq (40 bits: 10^12 pushes) above the slot (24 bits: 16 M events pending
 * at once; a push past that fails as out of memory).
 *
 * Memory: the heap owns its two arrays; it never owns an arg.  Out of memory
 * is reported by base_heap_push() returning 0, and leaves the heap as it was.
 * Not thread-safe: a heap is used by one thread at a time (http_loop.c holds
 * its lock around every call).
 */
#ifndef S3SIM_BASE_HEAP_H
#define S3SIM_BASE_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An event's callback: the same shape as env_timer_cb. */
typedef void (*base_heap_fn)(void *arg);

struct base_heap_node {
    int64_t time;     /* due time (the user's unit: µs in this tree) */
    uint64_t seqslot; /* push order (the tie-break) << 24 | index into slots */
};

struct base_heap_slot {
    base_heap_fn fn;    /* NULL when the slot is free or its event cancelled */
    void *arg;          /* the callback's argument, borrowed */
    uint32_t gen;       /* bumped each time the slot is freed; never 0 */
    uint32_t next_free; /* free list link; BASE_HEAP_NO_SLOT ends it */
};

struct base_heap {
    struct base_heap_node *nodes; /* the heap array (live and dead nodes) */
    uint32_t n, cap;              /* nodes used / allocated */
    uint32_t live;                /* nodes whose event is still pending */
    struct base_heap_slot *slots; /* one per event ever pending at once */
    uint32_t nslots, slot_cap;    /* slots used / allocated */
    uint32_t free_head;           /* first free slot, or UINT32_MAX */
    uint64_t seq;                 /* next sequence number */
};

void base_heap_init(struct base_heap *h);

/* Frees h's arrays (pending events are dropped, never called) and leaves h
 * empty and usable again. */
void base_heap_free(struct base_heap *h);

/* Schedules fn(arg) at time (any value; a time already past is fine, it comes
 * out first).  fn must not be NULL.  Returns the event's handle (never 0), or
 * 0 when out of memory, with the heap unchanged. */
uint64_t base_heap_push(struct base_heap *h, int64_t time, base_heap_fn fn, void *arg);

/* Cancels a pending event in O(1) (its node is dropped later).  A stale
 * handle (fired, cancelled) or 0 does nothing.  Returns true when an event
 * was cancelled. */
bool base_heap_cancel(struct base_heap *h, uint64_t handle);

/* Number of pending events (cancelled ones not counted). */
static inline uint32_t base_heap_len(const struct base_heap *h)
{
    return h->live;
}

/* Drops the dead nodes at the top (base_heap.c). */
void base_heap_skip_dead(struct base_heap *h);

/* Due time of the next pending event; INT64_MAX when there is none. */
static inline int64_t base_heap_peek_time(struct base_heap *h)
{
    if (h->n && !h->slots[h->nodes[0].seqslot & 0xffffff].fn)
        base_heap_skip_dead(h);
    return h->n ? h->nodes[0].time : INT64_MAX;
}

/* Removes the next event (smallest (time, seq)) and returns its callback,
 * argument and due time.  Returns false, touching nothing, when the heap is
 * empty.  The caller runs fn(arg) afterwards: fn may push and cancel. */
bool base_heap_pop(struct base_heap *h, base_heap_fn *fn, void **arg, int64_t *time);

#endif /* S3SIM_BASE_HEAP_H */
