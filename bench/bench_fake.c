/*
 * bench_fake.c - small operations per second through the fault shim's s3_ops
 * over the in-process store: put 1 KiB, get it, delete it, in waves of 256
 * calls in flight, with 10 fault rules installed that never match.  Virtual
 * time and completions come from tests/testenv.h.  Prints the figure and the
 * target (2 M ops/s per core).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tests/testenv.h"
#include "fault.h"
#include "fs3.h"
#include "bench_ref.h"

#define WAVE 256
#define ROUNDS 4000 /* ROUNDS * WAVE * 3 ops */
#define TARGET 2000000.0

static uint64_t answered, failed;

static void done(struct s3_req *req, struct s3_result *res)
{
    (void)req;
    answered++;
    failed += !s3_result_ok(res);
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Ten rules that never fire on this workload: other ops, other keys, a
 * window in the future, a spent nth. */
static void add_rules(struct fs3_fault *f)
{
    static const int ops[] = {S3_OP_MPU_COPY, S3_OP_LIST, S3_OP_HEAD, S3_OP_MPU_COMPLETE};
    struct fs3_rule r;
    for (int i = 0; i < 4; i++) {
        fs3_rule_init(&r);
        r.op = ops[i];
        r.effect = FS3_EFF_STATUS;
        r.status = 500;
        fs3_fault_add(f, &r);
    }
    for (int op = S3_OP_GET; op <= S3_OP_DELETE; op++) {
        fs3_rule_init(&r);
        r.op = op;
        snprintf(r.key_glob, sizeof r.key_glob, "never/*/match?");
        r.effect = FS3_EFF_TIMEOUT;
        fs3_fault_add(f, &r);
    }
    fs3_rule_init(&r);
    r.op = FS3_OP_ANY;
    r.from_us = ENV_TIME_NEVER - 1;
    r.effect = FS3_EFF_STALL;
    fs3_fault_add(f, &r);
}

int main(void)
{
    struct tenv t;
    static struct s3_req reqs[WAVE];
    static char keys[WAVE][48];
    static uint8_t body[1024];
    tenv_init(&t, 1);
    bench_ref_print("bench_fake");
    struct fs3 *s = fs3_new(&t.env, NULL);
    struct fs3_fault *f = fs3_fault_new(&t.env, s, NULL, NULL);
    if (!s || !f)
        return 1;
    add_rules(f);
    struct s3_ops *ops = fs3_fault_ops(f);
    memset(body, 'b', sizeof body);
    for (int i = 0; i < WAVE; i++)
        snprintf(keys[i], sizeof keys[i], "prefix/wal/%08d/object-%d", i * 7919, i);

    double t0 = wall();
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < WAVE; i++) {
            reqs[i] = (struct s3_req){.key = keys[i], .body = body, .body_len = sizeof body};
            s3_put(ops, &reqs[i], done, NULL);
        }
        tenv_run(&t);
        for (int i = 0; i < WAVE; i++) {
            reqs[i] = (struct s3_req){.key = keys[i], .range_end = -1};
            s3_get(ops, &reqs[i], done, NULL);
        }
        tenv_run(&t);
        for (int i = 0; i < WAVE; i++) {
            reqs[i] = (struct s3_req){.key = keys[i]};
            s3_delete(ops, &reqs[i], done, NULL);
        }
        tenv_run(&t);
    }
    double secs = wall() - t0;
    double rate = (double)answered / secs;
    printf("bench_fake: %" PRIu64 " small ops (put 1KiB, get, delete) through the fault shim "
           "(10 non-matching rules) in %.3f s\n",
           answered, secs);
    printf("bench_fake: %.2f M ops/s per core (target 2.00 M ops/s)%s\n", rate / 1e6,
           rate >= TARGET ? "" : "  BELOW TARGET");
    if (failed)
        printf("bench_fake: %" PRIu64 " calls failed (unexpected)\n", failed);
    fs3_fault_free(f);
    fs3_free(s);
    tenv_free(&t);
    return failed ? 1 : 0;
}
