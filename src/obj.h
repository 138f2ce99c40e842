/*
 * obj.h - AutoMQ's normal object format, byte for byte, and object keys.
 *
 * Layout of a normal object (docs/format.md "A normal object"), all integers
 * big-endian:
 *
 *   [data block]* [index block] [footer 48 B]
 *
 *   record batch  33 B header: magic 0x22, streamId u64, epoch u64,
 *                 baseOffset u64, count i32, payload length i32; payload.
 *   data block    10 B header: magic 0x5A, flag 0x02, record count i32,
 *                 data length i32; then the record batches of ONE stream in
 *                 offset order.  Offsets may jump forward between batches
 *                 (sparse offsets, like Kafka's compacted batches); the index
 *                 entry spans from the first base to the last end.
 *   index entry   36 B: streamId u64, startOffset u64, endOffsetDelta i32,
 *                 recordCount i32, startPosition u64, size i32.  Sorted by
 *                 (stream, start).  An entry may cover a GROUP of physically
 *                 consecutive blocks of the same stream (compaction writers
 *                 group up to 1 MiB).
 *   footer        indexStartPosition u64, indexBlockLength u32, 28 zero
 *                 bytes, magic u64 (normal ...cff7, composite ...cff8).
 *
 * Readers never trust a length: every parser checks bounds before reading
 * and answers ERR_CORRUPT on anything malformed.
 *
 * The int32 guard (F12): a block or a group is cut before its end-offset
 * delta or its record count would pass INT32_MAX.  With the guard off
 * (field-bug mode) the delta wraps silently, as AutoMQ's did before #3339.
 *
 * Composite objects are in composite.h.
 */
#ifndef S3SIM_OBJ_H
#define S3SIM_OBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OBJ_RECORD_MAGIC 0x22
#define OBJ_RECORD_HEADER 33
#define OBJ_BLOCK_MAGIC 0x5A
#define OBJ_BLOCK_FLAG 0x02
#define OBJ_BLOCK_HEADER 10
#define OBJ_ENTRY_SIZE 36
#define OBJ_FOOTER_SIZE 48
#define OBJ_MAGIC UINT64_C(0x88e241b785f4cff7)
#define OBJ_COMPOSITE_MAGIC UINT64_C(0x88e241b785f4cff8)
#define OBJ_GROUP_LIMIT (1u << 20)       /* compaction writers' group size */
#define OBJ_BLOCK_SIZE_DEFAULT (512u << 10) /* s3.object.block.size */
#define OBJ_TAIL_BASE 8192u              /* tail read: 8 KiB + 36 B per MiB */
#define OBJ_KEY_MAX 128                  /* longest key we build, with NUL */
#define OBJ_NS_MAX 96                    /* longest namespace, without NUL */

/* Parse flags. */
#define OBJ_PARSE_WRAP_OK 1u /* accept negative/wrapped end-offset deltas (F12 field-bug mode) */
#define OBJ_PARSE_FINAL 2u   /* obj_tail_parse: this is the re-read; no further re-read */

/* obj_tail_parse's "read more" answer (positive, not an error). */
#define OBJ_REREAD 1

/* A decoded record batch.  payload points into the buffer it was decoded
 * from (borrowed; lives as long as that buffer). */
struct obj_record {
    int64_t stream;         /* streamId */
    int64_t epoch;          /* epoch */
    int64_t base;           /* baseOffset */
    int32_t count;          /* offsets covered: [base, base + count) */
    uint32_t len;           /* payload length (<= INT32_MAX) */
    const uint8_t *payload; /* payload bytes (borrowed) */
};

/* One index entry (a block or a group of blocks). */
struct obj_index_entry {
    int64_t stream;    /* streamId */
    int64_t start;     /* first offset */
    int32_t end_delta; /* end offset - start (may be wrapped in field-bug mode) */
    int32_t count;     /* record batches in the block(s) */
    int64_t pos;       /* startPosition: byte offset of the first block */
    int32_t size;      /* bytes of the block(s), headers included */
};

/* A decoded index: owns its array (free with obj_index_free). */
struct obj_index {
    struct obj_index_entry *e; /* entries, sorted by (stream, start) */
    size_t n;                  /* number of entries */
};

struct obj_footer {
    int64_t index_pos;  /* indexStartPosition */
    uint32_t index_len; /* indexBlockLength */
    bool composite;     /* magic was the composite one */
};

/* End offset of an entry (exclusive): start + end_delta. */
static inline int64_t obj_entry_end(const struct obj_index_entry *e)
{
    return e->start + e->end_delta;
}

/* ---- Big-endian helpers (bounds are the caller's business). ------------ */
void obj_put_u64(uint8_t *p, uint64_t v);
void obj_put_u32(uint8_t *p, uint32_t v);
uint64_t obj_get_u64(const uint8_t *p);
uint32_t obj_get_u32(const uint8_t *p);

/* ---- Records and blocks. -------------------------------------------------- */

/* Encodes r (header + payload) at out, which has room for
 * OBJ_RECORD_HEADER + r->len bytes.  Returns the bytes written. */
size_t obj_record_encode(uint8_t *out, const struct obj_record *r);

/* Decodes the record batch at buf[0..len).  On success sets *r (payload
 * borrowed from buf) and *used to the encoded size.  ERR_CORRUPT: bad magic,
 * header or payload beyond len, negative length. */
int obj_record_decode(const uint8_t *buf, size_t len, struct obj_record *r, size_t *used);

/* Called for each record of a group; a nonzero return stops the walk and is
 * returned by obj_group_parse. */
typedef int (*obj_record_fn)(void *arg, const struct obj_record *r);

/*
 * Walks the data blocks of one index entry: buf[0..len) must be exactly the
 * bytes [e->pos, e->pos + e->size) of the object.  Validates every block
 * (magic 0x5A, flag 0x02, lengths in bounds, records exactly filling the
 * block, block record count), that the record counts sum to e->count, that
 * every record is of e->stream, that the first starts at e->start, that
 * offsets never go back (they may jump forward), and that the last ends at
 * the entry's end (modulo 2^32 with OBJ_PARSE_WRAP_OK).  fn may be NULL (check
 * only).  Returns 0, ERR_CORRUPT, or fn's nonzero return.
 */
int obj_group_parse(const uint8_t *buf, size_t len, const struct obj_index_entry *e,
                    unsigned flags, obj_record_fn fn, void *arg);

/* ---- Index and footer. ---------------------------------------------------- */

void obj_entry_encode(uint8_t *out, const struct obj_index_entry *e); /* 36 bytes */
void obj_entry_decode(const uint8_t *in, struct obj_index_entry *e);  /* 36 bytes */

/* Writes the 48-byte footer. */
void obj_footer_encode(uint8_t *out, int64_t index_pos, uint32_t index_len, bool composite);

/* Decodes the footer (the last 48 bytes of an object of obj_size bytes).
 * ERR_CORRUPT unless the magic is one of the two, the 28 pad bytes are zero
 * and index_pos + index_len + 48 == obj_size. */
int obj_footer_decode(const uint8_t *buf, uint64_t obj_size, struct obj_footer *f);

/*
 * Decodes an index block buf[0..len) into idx (allocated; free with
 * obj_index_free).  Checks: len a multiple of 36, stream/start/pos >= 0,
 * count >= 1, size >= OBJ_BLOCK_HEADER, pos + size <= data_end (pass
 * INT64_MAX when positions are not in this object, as in a composite),
 * end_delta >= 1 (unless OBJ_PARSE_WRAP_OK), strictly increasing
 * (stream, start), no overlap between entries of a stream (unless
 * OBJ_PARSE_WRAP_OK).  ERR_CORRUPT, ERR_NOMEM.
 */
int obj_index_decode(const uint8_t *buf, size_t len, int64_t data_end, unsigned flags,
                     struct obj_index *idx);
void obj_index_free(struct obj_index *idx);

/* The first entry of stream whose end is above offset (entries ending at or
 * below offset are skipped), or idx->n when none.  Binary search. */
size_t obj_index_find(const struct obj_index *idx, int64_t stream, int64_t offset);

/*
 * Regroups e[0..n) in place: merges each entry into the previous group when
 * both are of the same stream, offsets do not go back, positions are
 * adjacent, the group's size stays <= limit and (guard) the group's delta and
 * record count stay <= INT32_MAX.  With guard false the delta wraps (F12).
 * Returns the new count.
 */
size_t obj_index_regroup(struct obj_index_entry *e, size_t n, uint32_t limit, bool guard);

/* ---- Tail read. ---------------------------------------------------------- */

/* First byte of the tail read of an object of size bytes:
 * max(0, size - (8192 + size / 1MiB * 36)). */
uint64_t obj_tail_start(uint64_t size);

/*
 * Parses the tail buf[0..len) = bytes [buf_start, obj_size) of a normal
 * object.  Returns 0 with idx filled (allocated); OBJ_REREAD with
 * *reread_from = the index start when the index begins before buf_start (the
 * reader then reads [*reread_from, obj_size) and calls again with
 * OBJ_PARSE_FINAL); ERR_CORRUPT on a bad footer or index, on a composite
 * magic, or when a FINAL parse still lacks bytes; ERR_INVAL if
 * buf_start + len != obj_size.
 */
int obj_tail_parse(const uint8_t *buf, size_t len, uint64_t buf_start, uint64_t obj_size,
                   unsigned flags, struct obj_index *idx, uint64_t *reread_from);

/* ---- Builder: records -> blocks -> index -> footer, in memory. ------------ */

/* Block cuts count the payload bytes of the block being filled.  AutoMQ's
 * writer counts the object's running size instead and never resets it
 * between streams, so its later blocks can be cut earlier (a harmless quirk,
 * docs/format.md "A normal object"); objects here are the same format but not always the same
 * blocks. */
struct obj_builder_conf {
    uint32_t block_size;  /* cut a block once its payload bytes reach this (0: default 512 KiB) */
    uint32_t group_limit; /* regroup index entries up to this many bytes (0: one entry per block) */
    bool int32_guard;     /* true: cut before int32 overflow; false: wrap (F12 field bug) */
};

struct obj_builder {
    struct obj_builder_conf conf; /* copied at init */
    uint8_t *buf;                 /* data blocks written so far (owned; mb->p with mb) */
    struct buf *mb;               /* the buffer buf is in (obj_builder_reserve_map), or NULL */
    size_t len, cap;              /* used and allocated bytes of buf */
    struct obj_index_entry *e;    /* one entry per finished block (owned) */
    size_t n, ecap;               /* entries used and allocated */
    bool open;                    /* a block is being filled */
    struct obj_index_entry cur;   /* the open block */
    uint64_t cur_payload;         /* payload bytes in the open block */
    int64_t cur_records;          /* record batches in the open block */
    int64_t next_offset;          /* end offset of the open block */
    bool failed;                  /* an allocation failed: builder unusable */
};

/* Initialises b (no allocation).  conf NULL: defaults, guard on. */
void obj_builder_init(struct obj_builder *b, const struct obj_builder_conf *conf);

/* Appends a record batch.  Records must come in (stream, offset) order
 * without overlap (base >= the previous end; a jump forward is fine), of
 * count >= 1 and len <= INT32_MAX.  A new block starts with a new stream,
 * once the block's payload reached block_size, or (guard) before the block's
 * offset span or record count would pass INT32_MAX.  ERR_INVAL (order,
 * count, negative ids), ERR_LIMIT (a record too large for a block), ERR_NOMEM
 * (then the builder is unusable). */
int obj_builder_add(struct obj_builder *b, const struct obj_record *r);

/* As obj_builder_add, but r->payload is not read: *payload gets where the
 * record's r->len payload bytes go, which the caller writes before the next
 * call on b (one copy less when the payload is generated in place). */
int obj_builder_add_space(struct obj_builder *b, const struct obj_record *r, uint8_t **payload);

/* Allocates room for bytes bytes of object (blocks, index and footer) at
 * once instead of doubling as records come.  ERR_NOMEM leaves the builder
 * usable. */
int obj_builder_reserve(struct obj_builder *b, size_t bytes);

/* As obj_builder_reserve on an empty builder, the bytes in a buffer of
 * buf.h's buf_take (pages already mapped when it comes from its pool); then
 * finish with obj_builder_finish_buf.  ERR_NOMEM leaves the builder usable
 * (as before the call). */
int obj_builder_reserve_map(struct obj_builder *b, size_t bytes);
/* As obj_builder_reserve_map, in m (one reference, given to the builder even
 * on error; a recycled buffer, buf.h) instead of one of buf_take's.  For an
 * empty builder only: one that holds a buffer (records in its own, or
 * another buffer given before) or has failed gets ERR_BADSTATE, m's
 * reference is released and the builder is left as it was. */
int obj_builder_reserve_in(struct obj_builder *b, struct buf *m, size_t bytes);

/* Appends the raw bytes of an index entry of another object (one or more
 * whole blocks, e.g. read for compaction).  The bytes are validated with
 * obj_group_parse and copied; the entry is re-positioned.  Same order rule. */
int obj_builder_add_raw(struct obj_builder *b, const struct obj_index_entry *e,
                        const uint8_t *bytes, size_t len, unsigned parse_flags);

/* Bytes the object would have if finished now (approximately: the open
 * block's header counted). */
size_t obj_builder_size(const struct obj_builder *b);

/* Closes the open block, regroups, writes index and footer and hands the
 * whole object to the caller: *out is malloc'ed, the caller frees it.  The
 * builder is left empty (as after init) either way.  ERR_NOMEM. */
int obj_builder_finish(struct obj_builder *b, uint8_t **out, size_t *out_len);

/* As obj_builder_finish, the object handed over as a shared buffer (one
 * reference, the caller's; len = the object's size): the buffer of
 * obj_builder_reserve_map, or one adopting the malloc'ed bytes. */
struct buf;
int obj_builder_finish_buf(struct obj_builder *b, struct buf **out);

/* Frees what the builder holds (safe on an empty builder). */
void obj_builder_free(struct obj_builder *b);

/* ---- Keys (docs/engine.md "Object keys"). ---------------------------------------------------- */

/* Writes "_kafka_" + cluster into out (OBJ_NS_MAX + 1 bytes).  ERR_INVAL if
 * empty or too long. */
int obj_namespace(const char *cluster, char *out, size_t outsz);

/* Writes the key of object id: reverse(printf("%08x", id)) + "/" + ns + "/" +
 * decimal(id).  ERR_INVAL: id < 0, ns empty; ERR_RANGE: out too small. */
int obj_key(int64_t id, const char *ns, char *out, size_t outsz);

/* Parses a data-object key back to its id: three '/'-separated parts, the
 * last decimal, the first the reversed hex of the same id.  ERR_PARSE
 * otherwise. */
int obj_key_parse(const char *key, int64_t *id);

#endif /* S3SIM_OBJ_H */
