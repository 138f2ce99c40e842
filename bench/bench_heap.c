/* bench_heap.c - event heap: schedule-and-fire per second on one core.
 * Target (issue 2): >= 10 million per second. */
#include <stdio.h>
#include <time.h>

#include "base_heap.h"
#include "base_prng.h"
#include "bench_ref.h"

static unsigned long fired;
static void on_fire(void *arg)
{
    (void)arg;
    fired++;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
    struct base_heap h;
    struct base_prng p;
    const unsigned long n = 20000000, depth = 10000;
    base_heap_fn fn;
    void *arg;
    int64_t t = 0;
    base_heap_init(&h);
    base_prng_seed(&p, 1);
    bench_ref_print("bench_heap");
    /* A steady state of `depth` pending events, like a busy world: each fire
     * schedules one new event a random delay ahead. */
    for (unsigned long i = 0; i < depth; i++)
        base_heap_push(&h, (int64_t)(base_prng_next(&p) % 1000000), on_fire, NULL);
    double t0 = now_s();
    for (unsigned long i = 0; i < n; i++) {
        base_heap_pop(&h, &fn, &arg, &t);
        fn(arg);
        base_heap_push(&h, t + (int64_t)(base_prng_next(&p) % 1000000), on_fire, NULL);
    }
    double dt = now_s() - t0;
    printf("heap: %.1f M schedule-and-fire per CPU second (%lu events, %lu pending; target >= 10 M/s)\n",
           (double)n / dt / 1e6, fired, depth);
    base_heap_free(&h);
    return 0;
}
