/*
 * wait.h - the wait registry (docs/design.md "Seams"): who waits, on what, since when.
 *
 * The engine registers a wait (through env->wait_begin) every time it waits
 * for an outcome, and ends it when the outcome arrives.  no-hang reads it: a
 * wait still pending when no event is left, or older than hang.threshold at
 * the deadline, is a hang, and the report lists every pending wait with its
 * age and the last moment the engine made progress (the last wait_end).
 */
#ifndef S3SIM_WAIT_H
#define S3SIM_WAIT_H

#include <stddef.h>
#include <stdint.h>

struct sim_wait {
    uint64_t id;     /* never 0 */
    int64_t since;   /* virtual time it began, µs */
    char *who;       /* "compaction run 3, plan 2" (owned) */
    char *what;      /* "2 parked blocks of object 1042" (owned) */
};

struct sim_waits {
    struct sim_wait *v; /* pending waits, in begin order */
    size_t n, cap;
    uint64_t next_id;
    int64_t last_progress; /* time of the last wait_end, -1 if none */
    uint64_t begun, ended; /* totals */
};

void sim_waits_init(struct sim_waits *w);
void sim_waits_free(struct sim_waits *w);

/* Returns the new wait's id, 0 on ENOMEM. */
uint64_t sim_waits_begin(struct sim_waits *w, int64_t now, const char *who, const char *what);
void sim_waits_update(struct sim_waits *w, uint64_t id, const char *what);
void sim_waits_end(struct sim_waits *w, int64_t now, uint64_t id);

/* The oldest pending wait, or NULL. */
const struct sim_wait *sim_waits_oldest(const struct sim_waits *w);

#endif /* S3SIM_WAIT_H */
