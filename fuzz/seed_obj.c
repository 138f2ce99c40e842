/* seed_obj.c - writes fuzz_obj's seed corpus: engine objects built with the
 * engine's own builder (obj_builder: several streams, block sizes, grouped
 * and ungrouped indexes) and composite objects (cobj_writer).
 *   seed_obj DIR */
#include "composite.h"
#include "err.h"
#include "obj.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void save(const char *dir, const char *name, const uint8_t *b, size_t n)
{
    char path[4096];
    FILE *fp;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!(fp = fopen(path, "wb")) || fwrite(b, 1, n, fp) != n) {
        fprintf(stderr, "seed_obj: cannot write %s\n", path);
        exit(1);
    }
    fclose(fp);
}

/* One normal object: nstreams streams of nrec records of len bytes. */
static void normal(const char *dir, int k, int nstreams, int nrec, uint32_t len, uint32_t block,
                   uint32_t group, struct obj_index *idx_out)
{
    struct obj_builder_conf conf = {block, group, true};
    struct obj_builder b;
    uint8_t *p = calloc(1, len ? len : 1), *buf;
    size_t n;
    char name[64];
    obj_builder_init(&b, &conf);
    for (int s = 1; s <= nstreams; s++)
        for (int o = 0; o < nrec; o++) {
            struct obj_record r = {s, 3, 100 + (int64_t)o * 2, 2, len, p};
            memset(p, 'a' + (o % 26), len);
            if (obj_builder_add(&b, &r) != 0)
                exit(1);
        }
    if (obj_builder_finish(&b, &buf, &n) != 0)
        exit(1);
    obj_builder_free(&b);
    snprintf(name, sizeof name, "normal-%02d", k);
    save(dir, name, buf, n);
    if (idx_out) {
        uint64_t from = 0, ts = obj_tail_start(n);
        int rc = obj_tail_parse(buf + ts, n - ts, ts, n, 0, idx_out, &from);
        if (rc == OBJ_REREAD)
            rc = obj_tail_parse(buf + from, n - from, from, n, OBJ_PARSE_FINAL, idx_out, &from);
        if (rc)
            exit(1);
    }
    free(buf);
    free(p);
}

int main(int argc, char **argv)
{
    struct obj_index idx[3];
    struct cobj_writer w;
    uint8_t *buf;
    size_t n;
    if (argc != 2) {
        fprintf(stderr, "usage: seed_obj DIR\n");
        return 2;
    }
    normal(argv[1], 0, 1, 1, 10, 0, 0, NULL);
    normal(argv[1], 1, 1, 20, 100, 250, 0, NULL);
    normal(argv[1], 2, 3, 20, 100, 250, 1000, NULL);
    normal(argv[1], 3, 2, 5, 0, 64, 0, NULL);
    normal(argv[1], 4, 4, 40, 33, 512, 4096, NULL);
    normal(argv[1], 5, 1, 300, 40, 256, 0, NULL); /* an index larger than the tail read */
    normal(argv[1], 6, 1, 10, 50, 100, 0, &idx[0]);
    normal(argv[1], 7, 1, 8, 70, 100, 300, &idx[1]);
    normal(argv[1], 8, 1, 3, 20, 100, 0, &idx[2]);
    /* composites of one stream (the indexes above are of stream 1) */
    for (int c = 0; c < 3; c++) {
        char name[64];
        cobj_writer_init(&w);
        for (int i = 0; i <= c; i++) {
            struct obj_index *x = &idx[i];
            /* linked objects cover successive offsets: shift each one's */
            for (size_t k = 0; k < x->n && i > 0; k++)
                x->e[k].start += 10000 * i;
            if (cobj_writer_add(&w, 100 + i, 0, x->e, x->n) != 0)
                exit(1);
            for (size_t k = 0; k < x->n && i > 0; k++)
                x->e[k].start -= 10000 * i;
        }
        if (cobj_writer_finish(&w, &buf, &n) != 0)
            exit(1);
        cobj_writer_free(&w);
        snprintf(name, sizeof name, "composite-%02d", c);
        save(argv[1], name, buf, n);
        free(buf);
    }
    for (int i = 0; i < 3; i++)
        obj_index_free(&idx[i]);
    return 0;
}
