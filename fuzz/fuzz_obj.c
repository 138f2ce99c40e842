/* fuzz_obj.c - the object and composite readers on arbitrary bytes: the tail
 * parse (footer + index) of a normal object, the walk of every data block
 * group its index names, and the composite parse. */
#include "composite.h"
#include "err.h"
#include "obj.h"

#include <stdint.h>
#include <stdlib.h>

static int count_records(void *arg, const struct obj_record *r)
{
    size_t *n = arg;
    (void)r;
    (*n)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct obj_index idx = {0};
    struct cobj c;
    uint64_t from = 0;
    size_t records = 0;
    unsigned flags = size && (data[0] & 1) ? OBJ_PARSE_WRAP_OK : 0;
    /* The reader's two steps: the tail, then the re-read when it asks. */
    uint64_t ts = obj_tail_start(size);
    int rc = obj_tail_parse(data + ts, size - ts, ts, size, flags, &idx, &from);
    if (rc == OBJ_REREAD) {
        if (from > size)
            abort();
        rc = obj_tail_parse(data + from, size - from, from, size, flags | OBJ_PARSE_FINAL, &idx,
                            &from);
    }
    if (rc == 0) {
        for (size_t i = 0; i < idx.n; i++) {
            const struct obj_index_entry *e = &idx.e[i];
            if (e->pos < 0 || e->size < 0 || (uint64_t)e->pos + (uint64_t)e->size > size)
                abort(); /* the index decoder let an entry out of the object */
            obj_group_parse(data + e->pos, (size_t)e->size, e, flags, count_records, &records);
        }
        obj_index_free(&idx);
    }
    if (cobj_parse(data, size, flags, &c) == 0)
        cobj_free(&c);
    return 0;
}
