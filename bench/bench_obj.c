/*
 * bench_obj.c - the object format and the metadata store on one core:
 *   - build: 1 KiB records into 8 MiB objects (512 KiB blocks), MiB/s;
 *   - parse: tail parse + full block/record validation of those objects, MiB/s;
 *   - meta:  WAL-upload-like commits (prepare, commit 2 ranges, mark, remove) per second;
 *   - keys:  key classification per second (the fault shim asks it on every call).
 * Prints figures only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "meta.h"
#include "obj.h"
#include "bench_ref.h"

#define OBJ_BYTES (8u << 20)
#define REC 1024u
#define OBJECTS 64

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint8_t *build_one(size_t *len)
{
    static uint8_t payload[REC];
    struct obj_builder b;
    uint8_t *out = NULL;
    obj_builder_init(&b, NULL);
    for (uint32_t i = 0; i < OBJ_BYTES / REC; i++) {
        struct obj_record r = {1 + i / 1024, 0, i % 1024, 1, REC, payload};
        if (obj_builder_add(&b, &r) != 0)
            abort();
    }
    if (obj_builder_finish(&b, &out, len) != 0)
        abort();
    obj_builder_free(&b);
    return out;
}

static int count_rec(void *arg, const struct obj_record *r)
{
    (*(uint64_t *)arg) += r->len;
    return 0;
}

static void bench_format(void)
{
    uint8_t *objs[OBJECTS];
    size_t lens[OBJECTS];
    uint64_t seen = 0;
    double t0 = wall(), t1;
    for (int i = 0; i < OBJECTS; i++)
        objs[i] = build_one(&lens[i]);
    t1 = wall();
    printf("obj build:   %8.0f MiB/s (%d objects of %u MiB, 1 KiB records)\n",
           OBJECTS * (OBJ_BYTES / 1048576.0) / (t1 - t0), OBJECTS, OBJ_BYTES >> 20);
    t0 = wall();
    for (int i = 0; i < OBJECTS; i++) {
        struct obj_index idx;
        uint64_t ts = obj_tail_start(lens[i]), from;
        if (obj_tail_parse(objs[i] + ts, lens[i] - ts, ts, lens[i], 0, &idx, &from) != 0)
            abort();
        for (size_t k = 0; k < idx.n; k++)
            if (obj_group_parse(objs[i] + idx.e[k].pos, (size_t)idx.e[k].size, &idx.e[k], 0,
                                count_rec, &seen) != 0)
                abort();
        obj_index_free(&idx);
        free(objs[i]);
    }
    t1 = wall();
    printf("obj parse:   %8.0f MiB/s (tail + every block and record checked)\n",
           (double)seen / 1048576.0 / (t1 - t0));
}

static void bench_meta(void)
{
    struct meta_conf conf = {"_kafka_bench", NULL, false, false, false, false};
    struct meta *m;
    const int n = 200000;
    int64_t prev = -1;
    uint64_t hits = 0;
    double t0, t1;
    if (meta_create(&conf, &m) != 0)
        abort();
    for (int s = 1; s <= 2; s++)
        meta_stream_create(m, s);
    t0 = wall();
    for (int i = 0; i < n; i++) {
        int64_t id;
        struct meta_range r[2] = {{1, i * 10, i * 10 + 10}, {2, i * 10, i * 10 + 10}};
        struct meta_sso_commit c = {.req_id = (uint64_t)i + 1, .order_id = -1, .size = 1,
                                    .ranges = r, .nranges = 2};
        if (meta_prepare(m, 1, ENV_USEC_PER_HOUR, i, &id) != 0)
            abort();
        c.id = id;
        if (meta_commit_sso(m, &c, i) != 0)
            abort();
        if (prev >= 0 && (meta_mark(m, &prev, NULL, 1, i) != 0 ||
                          meta_remove(m, &prev, 1, NULL) != 0))
            abort();
        prev = id;
    }
    t1 = wall();
    printf("meta commit: %8.0f cycles/s (prepare, commit, mark, remove)\n", n / (t1 - t0));
    t0 = wall();
    for (int i = 0; i < n; i++) {
        char key[OBJ_KEY_MAX];
        obj_key(i, "_kafka_bench", key, sizeof key);
        hits += meta_classify_key(m, key) != META_KEY_NONE;
    }
    t1 = wall();
    printf("meta keys:   %8.0f classifications/s (%llu known)\n", n / (t1 - t0),
           (unsigned long long)hits);
    meta_destroy(m);
}

int main(void)
{
    bench_ref_print("bench_obj");
    bench_format();
    bench_meta();
    return 0;
}
