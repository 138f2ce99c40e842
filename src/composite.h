/*
 * composite.h - the composite object format (docs/format.md "A composite object").
 *
 * A composite object holds no record data: it lists linked normal objects
 * and carries their index entries, whose positions are positions INSIDE the
 * linked object.  Big-endian:
 *
 *   objects block   magic 0x52 (1 B), object count u32, then per linked
 *                   object 14 B: objectId u64, blockStartIndex u32,
 *                   bucketIndex u16.  Link i owns index entries
 *                   [blockStart_i, blockStart_{i+1}) (the last one up to the
 *                   total count).
 *   indexes block   the 36-byte entries of all links, in order.
 *   footer (48 B)   indexesBlockStart u64 (= size of the objects block),
 *                   indexesBlockLength u32, 28 zero bytes, magic
 *                   0x88e241b785f4cff8.
 *
 * All entries are of one stream in offset order (the writer checks it; the
 * parser checks it again).  AutoMQ requires each entry to start exactly where
 * the previous one ended; here an entry may also start later (sparse offsets,
 * obj.h), never earlier.  The composite's size in the metadata is
 * its RETAINED size: the sum of its entries' sizes (#1532).
 */
#ifndef S3SIM_COMPOSITE_H
#define S3SIM_COMPOSITE_H

#include "obj.h"

#define COBJ_MAGIC 0x52
#define COBJ_LINK_SIZE 14
#define COBJ_HEADER 5 /* magic + count */

struct cobj_link {
    int64_t id;           /* linked object id */
    uint32_t block_start; /* first index entry owned by this link */
    int16_t bucket;       /* bucket index (always 0 here) */
};

/* A parsed composite object, or the contents of a writer.  Owns its arrays. */
struct cobj {
    struct cobj_link *links; /* in order, block_start non-decreasing */
    size_t nlinks;
    struct obj_index idx;    /* merged index, positions relative to each link */
};

/* A composite writer: add components in offset order, then finish. */
struct cobj_writer {
    struct cobj c;        /* links and entries so far */
    size_t lcap, ecap;    /* allocated slots */
    uint64_t retained;    /* sum of the entries' sizes */
};

void cobj_writer_init(struct cobj_writer *w);

/* Adds linked object id with its entries e[0..n) (copied).  Every entry must
 * be of the same stream as those before and start at or after the previous
 * one's end, and n >= 1 (else ERR_INVAL, nothing added).  ERR_NOMEM. */
int cobj_writer_add(struct cobj_writer *w, int64_t id, int16_t bucket,
                    const struct obj_index_entry *e, size_t n);

/* The range covered so far, [*start, *end) of *stream; false when empty. */
bool cobj_writer_range(const struct cobj_writer *w, int64_t *stream, int64_t *start,
                       int64_t *end);

/* Serialises objects block + indexes + footer into a malloc'ed buffer the
 * caller frees.  ERR_INVAL when empty, ERR_NOMEM, ERR_LIMIT. */
int cobj_writer_finish(const struct cobj_writer *w, uint8_t **out, size_t *out_len);

void cobj_writer_free(struct cobj_writer *w);

/*
 * Parses a whole composite object buf[0..len) into c (allocated; free with
 * cobj_free).  Checks the footer (composite magic, bounds), the objects
 * magic, that the objects block ends exactly at the indexes start, that
 * block_start values are non-decreasing, start at 0 and stay within the
 * entry count, and the index (sorted, one stream, no overlap).  ERR_CORRUPT,
 * ERR_NOMEM.
 */
int cobj_parse(const uint8_t *buf, size_t len, unsigned flags, struct cobj *c);

void cobj_free(struct cobj *c);

/* The link owning index entry k (k < c->idx.n), by binary search. */
size_t cobj_link_of(const struct cobj *c, size_t k);

/* Number of entries owned by link i. */
size_t cobj_link_entries(const struct cobj *c, size_t i);

#endif /* S3SIM_COMPOSITE_H */
