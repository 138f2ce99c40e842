/*
 * heap.h - the simulator's event heap: a binary min-heap of one-shot events.
 *
 * Order: events fire by (time, seq).  seq is a counter incremented at every
 * schedule, so two events due at the same virtual time fire in the order
 * they were scheduled (FIFO), whatever the heap's internal layout.  This tie
 * rule, together with the single PRNG, is what makes a run a pure function of
 * its inputs (libuv's timers use the same rule: timeout, then start id).
 *
 * Cancellation is O(log n): every event lives in a slot that knows its heap
 * position; an event id is (generation << 32 | slot), so a stale id (fired or
 * cancelled, slot reused) is recognised and ignored.
 */
#ifndef S3SIM_HEAP_H
#define S3SIM_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*sim_event_fn)(void *arg);

struct sim_heap_node {
    int64_t time; /* due time, µs */
    uint64_t seq; /* schedule order, the tie-break */
    uint32_t slot; /* index into slots */
};

struct sim_heap_slot {
    sim_event_fn fn; /* NULL when the slot is free */
    void *arg;
    uint32_t pos;  /* position in nodes while scheduled */
    uint32_t gen;  /* bumped each time the slot is freed */
    uint32_t next_free;
};

struct sim_heap {
    struct sim_heap_node *nodes; /* the heap array */
    uint32_t n, cap;             /* nodes used / allocated */
    struct sim_heap_slot *slots;
    uint32_t nslots, free_head;  /* free list through next_free; UINT32_MAX = none */
    uint64_t seq;                /* next sequence number */
};

void sim_heap_init(struct sim_heap *h);
void sim_heap_free(struct sim_heap *h);

/* Schedules fn(arg) at time.  Returns the event id (never 0), 0 on ENOMEM. */
uint64_t sim_heap_push(struct sim_heap *h, int64_t time, sim_event_fn fn, void *arg);

/* Cancels a scheduled event; a stale or 0 id does nothing.  Returns true when
 * an event was removed. */
bool sim_heap_cancel(struct sim_heap *h, uint64_t id);

/* Number of scheduled events. */
static inline uint32_t sim_heap_len(const struct sim_heap *h) { return h->n; }

/* Due time of the next event; INT64_MAX when empty. */
static inline int64_t sim_heap_peek_time(const struct sim_heap *h)
{
    return h->n ? h->nodes[0].time : INT64_MAX;
}

/* Removes the next event and returns it in *fn, *arg, *time.  Returns false
 * when the heap is empty.  The caller runs fn(arg) afterwards. */
bool sim_heap_pop(struct sim_heap *h, sim_event_fn *fn, void **arg, int64_t *time);

#endif /* S3SIM_HEAP_H */
