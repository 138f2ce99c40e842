/* test_obj.c - the object format (obj.h) and composite objects (composite.h). */
#include "alloc.h"
#include "buf.h"
#include "composite.h"
#include "err.h"
#include "obj.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* ---- Helpers. ---------------------------------------------------------------------- */

static uint8_t payload_byte(int64_t stream, int64_t off, size_t i)
{
    return (uint8_t)(stream * 31 + off * 7 + (int64_t)i);
}

/* Adds one record of count offsets with a len-byte payload derived from (stream, base). */
static int add_rec(struct obj_builder *b, int64_t stream, int64_t base, int32_t count, uint32_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    struct obj_record r = {stream, 7, base, count, len, p};
    int rc;
    for (uint32_t i = 0; i < len; i++)
        p[i] = payload_byte(stream, base, i);
    rc = obj_builder_add(b, &r);
    free(p);
    return rc;
}

struct collect {
    int64_t next;    /* expected base */
    int n;           /* records seen */
    int bad;         /* payload mismatches */
};

static int collect_fn(void *arg, const struct obj_record *r)
{
    struct collect *c = arg;
    if (r->base != c->next)
        c->bad++;
    for (uint32_t i = 0; i < r->len; i++)
        if (r->payload[i] != payload_byte(r->stream, r->base, i))
            c->bad++;
    c->next = r->base + r->count;
    c->n++;
    return 0;
}

/* Builds the standard test object: streams 1..3, 20 records each of 1 offset and
 * 100 bytes, blocks cut at 250 bytes of payload. */
static void build_std(uint32_t group_limit, uint8_t **buf, size_t *len)
{
    struct obj_builder_conf conf = {250, group_limit, true};
    struct obj_builder b;
    obj_builder_init(&b, &conf);
    for (int s = 1; s <= 3; s++)
        for (int o = 0; o < 20; o++)
            ck_assert_int_eq(add_rec(&b, s, 1000 + o, 1, 100), 0);
    ck_assert_int_eq(obj_builder_finish(&b, buf, len), 0);
    obj_builder_free(&b);
}

/* Reads the index of a whole object through the tail helper. */
static int read_index(const uint8_t *buf, size_t len, unsigned flags, struct obj_index *idx)
{
    uint64_t ts = obj_tail_start(len), from = 0;
    int rc = obj_tail_parse(buf + ts, len - ts, ts, len, flags, idx, &from);
    if (rc == OBJ_REREAD)
        rc = obj_tail_parse(buf + from, len - from, from, len, flags | OBJ_PARSE_FINAL, idx, &from);
    return rc;
}

/* ---- Records. ----------------------------------------------------------------------- */

START_TEST(obj_record_roundtrip)
{
    uint8_t buf[64], pl[5] = {1, 2, 3, 4, 5};
    struct obj_record r = {42, 3, 1000, 17, 5, pl}, d;
    size_t used, n = obj_record_encode(buf, &r);
    ck_assert_uint_eq(n, 38);
    ck_assert_uint_eq(buf[0], 0x22);
    ck_assert_uint_eq(buf[8], 42); /* big-endian streamId at 1..8 */
    ck_assert_int_eq(obj_record_decode(buf, n, &d, &used), 0);
    ck_assert_uint_eq(used, n);
    ck_assert_int_eq(d.stream, 42);
    ck_assert_int_eq(d.epoch, 3);
    ck_assert_int_eq(d.base, 1000);
    ck_assert_int_eq(d.count, 17);
    ck_assert_uint_eq(d.len, 5);
    ck_assert_mem_eq(d.payload, pl, 5);
    /* Truncated payload, truncated header, bad magic, negative length. */
    ck_assert_int_eq(obj_record_decode(buf, n - 1, &d, &used), ERR_CORRUPT);
    ck_assert_int_eq(obj_record_decode(buf, 32, &d, &used), ERR_CORRUPT);
    buf[0] = 0x23;
    ck_assert_int_eq(obj_record_decode(buf, n, &d, &used), ERR_CORRUPT);
    buf[0] = 0x22;
    buf[29] = 0x80;
    ck_assert_int_eq(obj_record_decode(buf, n, &d, &used), ERR_CORRUPT);
}
END_TEST

/* ---- Builder and readers. ---------------------------------------------------------------- */

START_TEST(obj_builder_roundtrip)
{
    uint8_t *buf;
    size_t len;
    struct obj_index idx;
    struct obj_footer f;
    build_std(0, &buf, &len);
    ck_assert_int_eq(obj_footer_decode(buf + len - 48, len, &f), 0);
    ck_assert(!f.composite);
    ck_assert_uint_eq(obj_get_u64(buf + len - 8), OBJ_MAGIC);
    ck_assert_int_eq(read_index(buf, len, 0, &idx), 0);
    /* 20 records of 100 bytes, cut when >= 250 bytes: blocks of 3 records -> 7 per stream. */
    ck_assert_uint_eq(idx.n, 21);
    ck_assert_int_eq(idx.e[0].stream, 1);
    ck_assert_int_eq(idx.e[0].start, 1000);
    ck_assert_int_eq(idx.e[0].end_delta, 3);
    ck_assert_int_eq(idx.e[0].count, 3);
    ck_assert_int_eq(idx.e[0].pos, 0);
    ck_assert_int_eq(idx.e[0].size, 10 + 3 * 133);
    ck_assert_int_eq(obj_entry_end(&idx.e[6]), 1020);
    for (int s = 1; s <= 3; s++) {
        struct collect c = {1000, 0, 0};
        size_t i = obj_index_find(&idx, s, 1000);
        for (; i < idx.n && idx.e[i].stream == s; i++)
            ck_assert_int_eq(obj_group_parse(buf + idx.e[i].pos, (size_t)idx.e[i].size, &idx.e[i],
                                             0, collect_fn, &c), 0);
        ck_assert_int_eq(c.n, 20);
        ck_assert_int_eq(c.bad, 0);
        ck_assert_int_eq(c.next, 1020);
    }
    obj_index_free(&idx);
    free(buf);
}
END_TEST

/* Reserving in a buffer already the builder's (a recycled upload's buffer, or buf_take's): the
 * buffer grows and the call says so (the WAL builds every object this way). */
START_TEST(obj_builder_reserve_grows_its_buffer)
{
    struct obj_builder_conf conf = {250, 0, true};
    struct obj_builder b;
    struct buf *m = buf_new(64), *out = NULL;
    struct obj_index idx;
    obj_builder_init(&b, &conf);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(obj_builder_reserve_in(&b, m, 16384), 0);
    ck_assert_uint_ge(b.cap, 16384);
    ck_assert_int_eq(obj_builder_reserve(&b, 32768), 0);
    ck_assert_uint_ge(b.cap, 32768);
    ck_assert_int_eq(obj_builder_reserve(&b, 100), 0); /* already room */
    for (int o = 0; o < 20; o++)
        ck_assert_int_eq(add_rec(&b, 1, 1000 + o, 1, 100), 0);
    ck_assert_int_eq(obj_builder_finish_buf(&b, &out), 0);
    ck_assert_int_eq(read_index(out->p, out->len, 0, &idx), 0);
    ck_assert_uint_eq(idx.n, 7);
    ck_assert_int_eq(obj_entry_end(&idx.e[6]), 1020);
    obj_index_free(&idx);
    buf_unref(out);
    obj_builder_free(&b);
    /* From buf_take's pool: the map, then a larger reserve. */
    obj_builder_init(&b, &conf);
    ck_assert_int_eq(obj_builder_reserve_map(&b, 4096), 0);
    ck_assert_int_eq(obj_builder_reserve_map(&b, 3u << 20), 0);
    ck_assert_uint_ge(b.cap, 3u << 20);
    obj_builder_free(&b);
}
END_TEST

/* Checks that an object of stream 1's 20 records [1000, 1020) (add_rec, 100 bytes each, blocks
 * of 250) reads back record for record. */
static void assert_std_stream1(const uint8_t *buf, size_t len)
{
    struct obj_index idx;
    struct collect c = {1000, 0, 0};
    ck_assert_int_eq(read_index(buf, len, 0, &idx), 0);
    ck_assert_uint_eq(idx.n, 7);
    for (size_t i = 0; i < idx.n; i++)
        ck_assert_int_eq(obj_group_parse(buf + idx.e[i].pos, (size_t)idx.e[i].size, &idx.e[i], 0,
                                         collect_fn, &c), 0);
    ck_assert_int_eq(c.n, 20);
    ck_assert_int_eq(c.bad, 0);
    obj_index_free(&idx);
}

/* obj_builder_reserve_in is for an empty builder: one that holds records in a buffer of its
 * own, that builds in another buffer already, or that failed refuses it with ERR_BADSTATE,
 * releases the buffer's reference (the builder's "even on error") and goes on as before: its
 * records read back, nothing leaks. */
START_TEST(obj_builder_reserve_in_refuses_a_builder_in_use)
{
    struct obj_builder_conf conf = {250, 0, true};
    struct obj_builder b;
    struct buf *m, *m2, *out = NULL;
    struct sim_alloc_leaks lk;
    uint8_t *bytes, p[8] = {0};
    struct obj_record r = {1, 7, 1000, 1, sizeof p, p};
    size_t len;
    sim_alloc_span_begin();
    /* Records in its own (malloc'ed) buffer. */
    obj_builder_init(&b, &conf);
    for (int o = 0; o < 20; o++)
        ck_assert_int_eq(add_rec(&b, 1, 1000 + o, 1, 100), 0);
    ck_assert_ptr_nonnull(m = buf_new(64));
    ck_assert_int_eq(obj_builder_reserve_in(&b, m, 16384), ERR_BADSTATE);
    ck_assert_ptr_null(b.mb);
    ck_assert_int_eq(obj_builder_finish(&b, &bytes, &len), 0);
    assert_std_stream1(bytes, len);
    free(bytes);
    obj_builder_free(&b);
    /* Already building in another buffer: that one stays. */
    obj_builder_init(&b, &conf);
    ck_assert_ptr_nonnull(m = buf_new(64));
    ck_assert_ptr_nonnull(m2 = buf_new(64));
    ck_assert_int_eq(obj_builder_reserve_in(&b, m, 4096), 0);
    ck_assert_int_eq(obj_builder_reserve_in(&b, m2, 8192), ERR_BADSTATE);
    ck_assert_ptr_eq(b.mb, m);
    for (int o = 0; o < 20; o++)
        ck_assert_int_eq(add_rec(&b, 1, 1000 + o, 1, 100), 0);
    ck_assert_int_eq(obj_builder_finish_buf(&b, &out), 0);
    ck_assert_ptr_eq(out, m);
    assert_std_stream1(out->p, out->len);
    buf_unref(out);
    obj_builder_free(&b);
    /* Failed (its first block's buffer could not be allocated). */
    obj_builder_init(&b, &conf);
    sim_alloc_fail_nth(1);
    ck_assert_int_eq(obj_builder_add(&b, &r), ERR_NOMEM);
    sim_alloc_fail_off();
    ck_assert_ptr_nonnull(m = buf_new(64));
    ck_assert_int_eq(obj_builder_reserve_in(&b, m, 4096), ERR_BADSTATE);
    ck_assert_ptr_null(b.mb);
    obj_builder_free(&b);
    sim_alloc_span_end(&lk);
    ck_assert_msg(lk.blocks == 0, "%llu of %llu blocks leaked (%llu bytes)",
                  (unsigned long long)lk.blocks, (unsigned long long)lk.allocs,
                  (unsigned long long)lk.bytes);
}
END_TEST

START_TEST(obj_builder_groups)
{
    uint8_t *buf;
    size_t len;
    struct obj_index idx;
    struct collect c = {1000, 0, 0};
    /* Each block is 409 bytes; a group limit of 1000 holds two blocks. */
    build_std(1000, &buf, &len);
    ck_assert_int_eq(read_index(buf, len, 0, &idx), 0);
    ck_assert_uint_eq(idx.n, 12); /* per stream 7 blocks -> groups of 2,2,2,1 */
    ck_assert_int_eq(idx.e[0].count, 6);
    ck_assert_int_eq(idx.e[0].end_delta, 6);
    ck_assert_int_eq(idx.e[0].size, 2 * 409);
    ck_assert_int_eq(idx.e[3].count, 2);
    for (size_t i = 0; i < 4; i++)
        ck_assert_int_eq(obj_group_parse(buf + idx.e[i].pos, (size_t)idx.e[i].size, &idx.e[i], 0,
                                         collect_fn, &c), 0);
    ck_assert_int_eq(c.n, 20);
    ck_assert_int_eq(c.bad, 0);
    obj_index_free(&idx);
    free(buf);
}
END_TEST

START_TEST(obj_builder_order_rules)
{
    struct obj_builder b;
    uint8_t *buf = NULL;
    size_t len = 0;
    struct obj_index idx;
    obj_builder_init(&b, NULL);
    ck_assert_int_eq(add_rec(&b, 2, 10, 5, 3), 0);
    ck_assert_int_eq(add_rec(&b, 2, 12, 1, 3), ERR_INVAL); /* overlaps [10, 15) */
    ck_assert_int_eq(add_rec(&b, 1, 100, 1, 3), ERR_INVAL); /* stream goes back */
    ck_assert_int_eq(add_rec(&b, 2, 20, 0, 3), ERR_INVAL);  /* count 0 */
    ck_assert_int_eq(add_rec(&b, -1, 20, 1, 3), ERR_INVAL);
    ck_assert_int_eq(add_rec(&b, 2, 20, 1, 3), 0);          /* a jump: same block */
    ck_assert_int_eq(add_rec(&b, 3, 0, 1, 0), 0);
    ck_assert_uint_gt(obj_builder_size(&b), 0);
    ck_assert_int_eq(obj_builder_finish(&b, &buf, &len), 0);
    ck_assert_int_eq(read_index(buf, len, 0, &idx), 0);
    ck_assert_uint_eq(idx.n, 2);
    ck_assert_int_eq(idx.e[0].start, 10);
    ck_assert_int_eq(idx.e[0].end_delta, 11);
    ck_assert_int_eq(idx.e[0].count, 2);
    ck_assert_int_eq(obj_group_parse(buf, (size_t)idx.e[0].size, &idx.e[0], 0, NULL, NULL), 0);
    ck_assert_uint_eq(obj_index_find(&idx, 2, 15), 0);
    ck_assert_uint_eq(obj_index_find(&idx, 2, 20), 0);
    ck_assert_uint_eq(obj_index_find(&idx, 2, 21), idx.n);
    ck_assert_uint_eq(obj_index_find(&idx, 4, 0), idx.n);
    ck_assert_uint_eq(obj_index_find(&idx, 3, 0), 1);
    ck_assert_uint_eq(obj_index_find(&idx, 1, 0), idx.n);
    obj_index_free(&idx);
    free(buf);
    /* An empty object is a valid object with an empty index. */
    ck_assert_int_eq(obj_builder_finish(&b, &buf, &len), 0);
    ck_assert_uint_eq(len, 48);
    ck_assert_int_eq(read_index(buf, len, 0, &idx), 0);
    ck_assert_uint_eq(idx.n, 0);
    free(buf);
    obj_builder_free(&b);
}
END_TEST

START_TEST(obj_builder_add_raw_copies_blocks)
{
    uint8_t *src, *dst;
    size_t slen, dlen;
    struct obj_index si, di;
    struct obj_builder_conf conf = {0, OBJ_GROUP_LIMIT, true};
    struct obj_builder b;
    struct collect c = {1000, 0, 0};
    build_std(0, &src, &slen);
    ck_assert_int_eq(read_index(src, slen, 0, &si), 0);
    obj_builder_init(&b, &conf);
    /* Copy stream 2 only, block by block; the compaction writer regroups. */
    for (size_t i = obj_index_find(&si, 2, 0); i < si.n && si.e[i].stream == 2; i++)
        ck_assert_int_eq(obj_builder_add_raw(&b, &si.e[i], src + si.e[i].pos,
                                             (size_t)si.e[i].size, 0), 0);
    /* Corrupt bytes are refused. */
    {
        uint8_t bad[409];
        memcpy(bad, src + si.e[0].pos, sizeof bad);
        bad[0] = 0x5B;
        ck_assert_int_eq(obj_builder_add_raw(&b, &si.e[0], bad, sizeof bad, 0), ERR_CORRUPT);
    }
    ck_assert_int_eq(obj_builder_finish(&b, &dst, &dlen), 0);
    ck_assert_int_eq(read_index(dst, dlen, 0, &di), 0);
    ck_assert_uint_eq(di.n, 1);
    ck_assert_int_eq(di.e[0].stream, 2);
    ck_assert_int_eq(di.e[0].count, 20);
    ck_assert_int_eq(di.e[0].end_delta, 20);
    ck_assert_int_eq(obj_group_parse(dst, (size_t)di.e[0].size, &di.e[0], 0, collect_fn, &c), 0);
    ck_assert_int_eq(c.n, 20);
    ck_assert_int_eq(c.bad, 0);
    obj_index_free(&si);
    obj_index_free(&di);
    obj_builder_free(&b);
    free(src);
    free(dst);
}
END_TEST

/* ---- Tail read. ------------------------------------------------------------------------- */

START_TEST(obj_tail_start_formula)
{
    ck_assert_uint_eq(obj_tail_start(100), 0);
    ck_assert_uint_eq(obj_tail_start(8192), 0);
    ck_assert_uint_eq(obj_tail_start(10000), 10000 - 8192);
    ck_assert_uint_eq(obj_tail_start(UINT64_C(10) << 20), (UINT64_C(10) << 20) - 8192 - 360);
}
END_TEST

START_TEST(obj_tail_reread_once)
{
    /* 400 streams of one record: a 14400-byte index that the 8 KiB tail misses. */
    struct obj_builder b;
    uint8_t *buf;
    size_t len;
    uint64_t ts, from = 0;
    struct obj_index idx;
    obj_builder_init(&b, NULL);
    for (int s = 0; s < 400; s++)
        ck_assert_int_eq(add_rec(&b, s, 5, 1, 8), 0);
    ck_assert_int_eq(obj_builder_finish(&b, &buf, &len), 0);
    ts = obj_tail_start(len);
    ck_assert_uint_gt(ts, 0);
    ck_assert_int_eq(obj_tail_parse(buf + ts, len - ts, ts, len, 0, &idx, &from), OBJ_REREAD);
    ck_assert_uint_eq(from, len - 48 - 400 * 36);
    ck_assert_ptr_null(idx.e);
    /* The same short tail on the final attempt is an error. */
    ck_assert_int_eq(obj_tail_parse(buf + ts, len - ts, ts, len, OBJ_PARSE_FINAL, &idx, &from),
                     ERR_CORRUPT);
    ck_assert_int_eq(obj_tail_parse(buf + from, len - from, from, len, OBJ_PARSE_FINAL, &idx,
                                    &from), 0);
    ck_assert_uint_eq(idx.n, 400);
    obj_index_free(&idx);
    /* Tail bytes that do not end at the object's end. */
    ck_assert_int_eq(obj_tail_parse(buf, 100, 0, len, 0, &idx, &from), ERR_INVAL);
    free(buf);
    obj_builder_free(&b);
}
END_TEST

/* ---- Corruption. ------------------------------------------------------------------------ */

START_TEST(obj_footer_corrupt)
{
    uint8_t *buf;
    size_t len;
    struct obj_footer f;
    struct obj_index idx;
    uint64_t from;
    build_std(0, &buf, &len);
    buf[len - 1] ^= 1; /* magic */
    ck_assert_int_eq(obj_footer_decode(buf + len - 48, len, &f), ERR_CORRUPT);
    ck_assert_int_eq(read_index(buf, len, 0, &idx), ERR_CORRUPT);
    buf[len - 1] ^= 1;
    buf[len - 20] = 1; /* padding */
    ck_assert_int_eq(obj_footer_decode(buf + len - 48, len, &f), ERR_CORRUPT);
    buf[len - 20] = 0;
    /* The index position points past the object. */
    obj_put_u64(buf + len - 48, len);
    ck_assert_int_eq(obj_footer_decode(buf + len - 48, len, &f), ERR_CORRUPT);
    obj_put_u64(buf + len - 48, UINT64_MAX);
    ck_assert_int_eq(obj_footer_decode(buf + len - 48, len, &f), ERR_CORRUPT);
    /* The index length disagrees with the object size. */
    obj_put_u64(buf + len - 48, len - 48 - 21 * 36);
    obj_put_u32(buf + len - 40, 21 * 36 + 36);
    ck_assert_int_eq(obj_footer_decode(buf + len - 48, len, &f), ERR_CORRUPT);
    obj_put_u32(buf + len - 40, 21 * 36);
    ck_assert_int_eq(obj_footer_decode(buf + len - 48, len, &f), 0);
    /* Truncated objects: the footer is not where it should be. */
    ck_assert_int_eq(read_index(buf, len - 1, 0, &idx), ERR_CORRUPT);
    ck_assert_int_eq(obj_tail_parse(buf + len - 47, 47, len - 47, len, 0, &idx, &from),
                     ERR_CORRUPT);
    free(buf);
}
END_TEST

START_TEST(obj_index_corrupt)
{
    uint8_t raw[3 * 36];
    struct obj_index idx;
    struct obj_index_entry e[3] = {
        {1, 0, 10, 2, 0, 100},
        {1, 10, 10, 2, 100, 100},
        {2, 0, 10, 2, 200, 100},
    };
    for (int i = 0; i < 3; i++)
        obj_entry_encode(raw + i * 36, &e[i]);
    ck_assert_int_eq(obj_index_decode(raw, sizeof raw, 300, 0, &idx), 0);
    ck_assert_uint_eq(idx.n, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(idx.e[i].stream, e[i].stream);
        ck_assert_int_eq(idx.e[i].start, e[i].start);
        ck_assert_int_eq(idx.e[i].end_delta, e[i].end_delta);
        ck_assert_int_eq(idx.e[i].count, e[i].count);
        ck_assert_int_eq(idx.e[i].pos, e[i].pos);
        ck_assert_int_eq(idx.e[i].size, e[i].size);
    }
    obj_index_free(&idx);
    ck_assert_int_eq(obj_index_decode(raw, sizeof raw - 1, 300, 0, &idx), ERR_CORRUPT);
    /* Positions beyond the data area. */
    ck_assert_int_eq(obj_index_decode(raw, sizeof raw, 299, 0, &idx), ERR_CORRUPT);
    ck_assert_ptr_null(idx.e);
    /* Unsorted. */
    obj_entry_encode(raw, &e[2]);
    obj_entry_encode(raw + 72, &e[0]);
    ck_assert_int_eq(obj_index_decode(raw, sizeof raw, 300, 0, &idx), ERR_CORRUPT);
    /* Duplicate start. */
    obj_entry_encode(raw, &e[0]);
    obj_entry_encode(raw + 36, &e[0]);
    ck_assert_int_eq(obj_index_decode(raw, 72, 300, 0, &idx), ERR_CORRUPT);
    /* Insane entries: zero count, tiny size, negative delta, huge position. */
    e[1].count = 0;
    obj_entry_encode(raw + 36, &e[1]);
    ck_assert_int_eq(obj_index_decode(raw, 72, 300, 0, &idx), ERR_CORRUPT);
    e[1].count = 2;
    e[1].size = 9;
    obj_entry_encode(raw + 36, &e[1]);
    ck_assert_int_eq(obj_index_decode(raw, 72, 300, 0, &idx), ERR_CORRUPT);
    e[1].size = 100;
    e[1].end_delta = -5;
    obj_entry_encode(raw + 36, &e[1]);
    ck_assert_int_eq(obj_index_decode(raw, 72, 300, 0, &idx), ERR_CORRUPT);
    ck_assert_int_eq(obj_index_decode(raw, 72, 300, OBJ_PARSE_WRAP_OK, &idx), 0);
    obj_index_free(&idx);
    e[1].end_delta = 10;
    e[1].pos = INT64_MAX - 10;
    obj_entry_encode(raw + 36, &e[1]);
    ck_assert_int_eq(obj_index_decode(raw, 72, INT64_MAX, 0, &idx), ERR_CORRUPT);
}
END_TEST

/* Applies one corruption at offset off of entry 0's bytes and expects ERR_CORRUPT. */
static void expect_group_corrupt(size_t off, uint8_t val, size_t len_delta)
{
    uint8_t *buf;
    size_t len;
    struct obj_index idx;
    build_std(1000, &buf, &len);
    ck_assert_int_eq(read_index(buf, len, 0, &idx), 0);
    buf[idx.e[0].pos + (int64_t)off] = val;
    ck_assert_msg(obj_group_parse(buf + idx.e[0].pos, (size_t)idx.e[0].size - len_delta, &idx.e[0],
                                  0, NULL, NULL) == ERR_CORRUPT,
                  "corruption at %zu = 0x%02x (len -%zu) not detected", off, val, len_delta);
    obj_index_free(&idx);
    free(buf);
}

START_TEST(obj_group_corrupt)
{
    expect_group_corrupt(0, 0x5B, 0);        /* first block magic */
    expect_group_corrupt(409, 0x00, 0);      /* second block magic */
    expect_group_corrupt(1, 0x03, 0);        /* flag */
    expect_group_corrupt(6, 0x7f, 0);        /* data length points out of bounds */
    expect_group_corrupt(9, 0xff, 0);        /* data length shorter than its records */
    expect_group_corrupt(5, 0x04, 0);        /* block record count != records */
    expect_group_corrupt(10, 0x21, 0);       /* record magic */
    expect_group_corrupt(18, 0x09, 0);       /* record of another stream */
    expect_group_corrupt(34, 0x09, 0);       /* first record does not start the entry */
    expect_group_corrupt(167, 0x00, 0);      /* second record goes back */
    expect_group_corrupt(0, 0x5A, 1);        /* truncated group */
}
END_TEST

START_TEST(obj_group_count_mismatch)
{
    uint8_t *buf;
    size_t len;
    struct obj_index idx;
    build_std(0, &buf, &len);
    ck_assert_int_eq(read_index(buf, len, 0, &idx), 0);
    idx.e[0].count = 4;
    ck_assert_int_eq(obj_group_parse(buf, (size_t)idx.e[0].size, &idx.e[0], 0, NULL, NULL),
                     ERR_CORRUPT);
    idx.e[0].count = 3;
    idx.e[0].end_delta = 4;
    ck_assert_int_eq(obj_group_parse(buf, (size_t)idx.e[0].size, &idx.e[0], 0, NULL, NULL),
                     ERR_CORRUPT);
    idx.e[0].end_delta = 3;
    ck_assert_int_eq(obj_group_parse(buf, (size_t)idx.e[0].size, &idx.e[0], 0, NULL, NULL), 0);
    obj_index_free(&idx);
    free(buf);
}
END_TEST

/* ---- int32 guard (F12). -------------------------------------------------------------------- */

static void build_sparse(bool guard, uint8_t **buf, size_t *len)
{
    struct obj_builder_conf conf = {0, OBJ_GROUP_LIMIT, guard};
    struct obj_builder b;
    obj_builder_init(&b, &conf);
    /* Two batches of 0x7fff0000 offsets each: together they pass INT32_MAX. */
    ck_assert_int_eq(add_rec(&b, 1, 100, 0x7fff0000, 16), 0);
    ck_assert_int_eq(add_rec(&b, 1, 100 + 0x7fff0000, 0x7fff0000, 16), 0);
    ck_assert_int_eq(obj_builder_finish(&b, buf, len), 0);
    obj_builder_free(&b);
}

START_TEST(obj_int32_guard_sparse_offsets)
{
    /* Two one-offset records 3e9 offsets apart: the block's span passes INT32_MAX. */
    for (int guard = 0; guard < 2; guard++) {
        struct obj_builder_conf conf = {0, 0, guard};
        struct obj_builder b;
        uint8_t *buf;
        size_t len;
        struct obj_index idx;
        obj_builder_init(&b, &conf);
        ck_assert_int_eq(add_rec(&b, 1, 0, 1, 4), 0);
        ck_assert_int_eq(add_rec(&b, 1, INT64_C(3000000000), 1, 4), 0);
        ck_assert_int_eq(obj_builder_finish(&b, &buf, &len), 0);
        ck_assert_int_eq(read_index(buf, len, OBJ_PARSE_WRAP_OK, &idx), 0);
        ck_assert_uint_eq(idx.n, guard ? 2 : 1);
        if (guard) {
            ck_assert_int_eq(idx.e[0].end_delta, 1);
            ck_assert_int_eq(idx.e[1].start, INT64_C(3000000000));
        } else {
            ck_assert_int_eq(idx.e[0].end_delta, (int32_t)(uint32_t)UINT64_C(3000000001));
            ck_assert_int_lt(obj_entry_end(&idx.e[0]), 0);
        }
        obj_index_free(&idx);
        free(buf);
        obj_builder_free(&b);
    }
}
END_TEST

START_TEST(obj_group_sparse_offsets)
{
    /* Offsets may jump forward inside a group, never back; the first record starts the entry. */
    struct obj_builder_conf conf = {0, OBJ_GROUP_LIMIT, true};
    struct obj_builder b;
    uint8_t *buf;
    size_t len;
    struct obj_index idx;
    struct collect c = {0, 0, 0};
    obj_builder_init(&b, &conf);
    ck_assert_int_eq(add_rec(&b, 1, 5, 2, 4), 0);
    ck_assert_int_eq(add_rec(&b, 1, 100, 3, 4), 0);
    ck_assert_int_eq(obj_builder_finish(&b, &buf, &len), 0);
    ck_assert_int_eq(read_index(buf, len, 0, &idx), 0);
    ck_assert_uint_eq(idx.n, 1);
    ck_assert_int_eq(idx.e[0].start, 5);
    ck_assert_int_eq(obj_entry_end(&idx.e[0]), 103);
    c.next = 5;
    ck_assert_int_eq(obj_group_parse(buf, (size_t)idx.e[0].size, &idx.e[0], 0, collect_fn, &c), 0);
    ck_assert_int_eq(c.n, 2);
    ck_assert_int_eq(c.bad, 1); /* collect_fn counts the jump from 7 to 100 */
    idx.e[0].start = 4;         /* the first record must start the entry */
    idx.e[0].end_delta = 99;
    ck_assert_int_eq(obj_group_parse(buf, (size_t)idx.e[0].size, &idx.e[0], 0, NULL, NULL),
                     ERR_CORRUPT);
    obj_index_free(&idx);
    free(buf);
    obj_builder_free(&b);
}
END_TEST

START_TEST(obj_int32_guard_cuts)
{
    uint8_t *buf;
    size_t len;
    struct obj_index idx;
    build_sparse(true, &buf, &len);
    ck_assert_int_eq(read_index(buf, len, 0, &idx), 0);
    ck_assert_uint_eq(idx.n, 2);
    ck_assert_int_eq(idx.e[0].end_delta, 0x7fff0000);
    ck_assert_int_eq(idx.e[1].start, 100 + 0x7fff0000);
    ck_assert_int_eq(obj_entry_end(&idx.e[1]), 100 + 2 * (int64_t)0x7fff0000);
    for (size_t i = 0; i < 2; i++)
        ck_assert_int_eq(obj_group_parse(buf + idx.e[i].pos, (size_t)idx.e[i].size, &idx.e[i], 0,
                                         NULL, NULL), 0);
    obj_index_free(&idx);
    free(buf);
}
END_TEST

START_TEST(obj_int32_guard_off_wraps)
{
    uint8_t *buf;
    size_t len;
    struct obj_index idx;
    build_sparse(false, &buf, &len);
    /* A strict reader refuses the wrapped delta ... */
    ck_assert_int_eq(read_index(buf, len, 0, &idx), ERR_CORRUPT);
    /* ... a field-bug reader sees an entry that ends before it starts. */
    ck_assert_int_eq(read_index(buf, len, OBJ_PARSE_WRAP_OK, &idx), 0);
    ck_assert_uint_eq(idx.n, 1);
    ck_assert_int_lt(idx.e[0].end_delta, 0);
    ck_assert_int_eq(idx.e[0].end_delta, (int32_t)(uint32_t)(2u * 0x7fff0000u));
    ck_assert_int_lt(obj_entry_end(&idx.e[0]), idx.e[0].start);
    ck_assert_int_eq(obj_group_parse(buf, (size_t)idx.e[0].size, &idx.e[0], OBJ_PARSE_WRAP_OK,
                                     NULL, NULL), 0);
    obj_index_free(&idx);
    free(buf);
}
END_TEST

START_TEST(obj_regroup_limits)
{
    struct obj_index_entry e[6] = {
        {1, 0, 10, 1, 0, 100},
        {1, 10, 10, 1, 100, 100},
        {1, 20, 10, 1, 200, 100},   /* limit 250: starts a new group */
        {1, 31, 10, 1, 300, 100},   /* an offset jump joins */
        {2, 41, 10, 1, 400, 100},   /* other stream */
        {2, 51, 10, 1, 600, 100},   /* position gap */
    };
    struct obj_index_entry big[2] = {
        {1, 0, 0x7fff0000, 1, 0, 100},
        {1, 0x7fff0000, 0x7fff0000, 1, 100, 100},
    };
    size_t n = obj_index_regroup(e, 6, 250, true);
    ck_assert_uint_eq(n, 4);
    ck_assert_int_eq(e[0].end_delta, 20);
    ck_assert_int_eq(e[0].count, 2);
    ck_assert_int_eq(e[0].size, 200);
    ck_assert_int_eq(e[1].start, 20);
    ck_assert_int_eq(e[1].end_delta, 21); /* [20, 41) across the jump */
    ck_assert_int_eq(e[1].size, 200);
    ck_assert_int_eq(e[2].stream, 2);
    ck_assert_int_eq(e[3].pos, 600);
    ck_assert_uint_eq(obj_index_regroup(big, 2, OBJ_GROUP_LIMIT, true), 2);
    ck_assert_uint_eq(obj_index_regroup(big, 2, OBJ_GROUP_LIMIT, false), 1);
    ck_assert_int_lt(big[0].end_delta, 0);
}
END_TEST

/* ---- Keys. ----------------------------------------------------------------------------- */

START_TEST(obj_key_format)
{
    char k[OBJ_KEY_MAX], ns[OBJ_NS_MAX + 1];
    int64_t id;
    ck_assert_int_eq(obj_namespace("abc", ns, sizeof ns), 0);
    ck_assert_str_eq(ns, "_kafka_abc");
    ck_assert_int_eq(obj_namespace("", ns, sizeof ns), ERR_INVAL);
    /* "_kafka_abc" and its NUL fit 11 bytes exactly, not 10. */
    ck_assert_int_eq(obj_namespace("abc", ns, 11), 0);
    ck_assert_int_eq(obj_namespace("abc", ns, 10), ERR_INVAL);
    ck_assert_int_eq(obj_key(27039, ns, k, sizeof k), 0);
    ck_assert_str_eq(k, "f9960000/_kafka_abc/27039");
    ck_assert_int_eq(obj_key(0, ns, k, sizeof k), 0);
    ck_assert_str_eq(k, "00000000/_kafka_abc/0");
    ck_assert_int_eq(obj_key_parse(k, &id), 0);
    ck_assert_int_eq(id, 0);
    ck_assert_int_eq(obj_key(INT64_C(0x123456789), ns, k, sizeof k), 0);
    ck_assert_str_eq(k, "987654321/_kafka_abc/4886718345");
    ck_assert_int_eq(obj_key_parse(k, &id), 0);
    ck_assert_int_eq(id, INT64_C(0x123456789));
    ck_assert_int_eq(obj_key_parse("f9960000/_kafka_abc/27039", &id), 0);
    ck_assert_int_eq(id, 27039);
    ck_assert_int_eq(obj_key(-1, ns, k, sizeof k), ERR_INVAL);
    ck_assert_int_eq(obj_key(1, "", k, sizeof k), ERR_INVAL);
    ck_assert_int_eq(obj_key(1, ns, k, 10), ERR_RANGE);
    /* "00000000/_kafka_abc/1" and its NUL fit 22 bytes exactly, not 21. */
    ck_assert_int_eq(obj_key(1, ns, k, 21), ERR_RANGE);
    ck_assert_int_eq(obj_key(1, ns, k, 22), 0);
    ck_assert_str_eq(k, "10000000/_kafka_abc/1");
    ck_assert_int_eq(obj_key(INT64_MAX, ns, k, sizeof k), 0);
    ck_assert_str_eq(k, "fffffffffffffff7/_kafka_abc/9223372036854775807");
}
END_TEST

START_TEST(obj_key_parse_rejects)
{
    int64_t id = 77;
    const char *bad[] = {
        "", "f9960000/27039", "f9960000/ns/27039/x", "f9960000/ns/2703a", "f9960000/ns/",
        "f9960001/ns/27039", "/ns/27039", "f9960000/ns/-27039", "00000000/ns/00",
        "f9960000//27039", "sparse/ns/node-1", "00000000/ns/99999999999999999999",
        "00000000/ns/", /* no id at all: not object 0 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(obj_key_parse(bad[i], &id) == ERR_PARSE, "accepted %s", bad[i]);
    ck_assert_int_eq(obj_key_parse(NULL, &id), ERR_PARSE);
    ck_assert_int_eq(id, 77);
}
END_TEST

/* ---- Composite objects. ----------------------------------------------------------------------- */

static void comp_build(uint8_t **buf, size_t *len, uint64_t *retained)
{
    struct obj_index_entry a[2] = {{5, 0, 10, 2, 0, 100}, {5, 10, 10, 2, 100, 50}};
    struct obj_index_entry b[1] = {{5, 20, 5, 1, 0, 70}};
    struct cobj_writer w;
    int64_t s, st, en;
    cobj_writer_init(&w);
    ck_assert(!cobj_writer_range(&w, &s, &st, &en));
    ck_assert_int_eq(cobj_writer_add(&w, 11, 0, a, 2), 0);
    ck_assert_int_eq(cobj_writer_add(&w, 12, 0, b, 1), 0);
    ck_assert(cobj_writer_range(&w, &s, &st, &en));
    ck_assert_int_eq(s, 5);
    ck_assert_int_eq(st, 0);
    ck_assert_int_eq(en, 25);
    *retained = w.retained;
    ck_assert_int_eq(cobj_writer_finish(&w, buf, len), 0);
    cobj_writer_free(&w);
}

START_TEST(obj_composite_roundtrip)
{
    uint8_t *buf;
    size_t len;
    uint64_t retained;
    struct cobj c;
    struct obj_footer f;
    comp_build(&buf, &len, &retained);
    ck_assert_uint_eq(retained, 220);
    ck_assert_uint_eq(len, 5 + 2 * 14 + 3 * 36 + 48);
    ck_assert_uint_eq(buf[0], 0x52);
    ck_assert_uint_eq(obj_get_u64(buf + len - 8), OBJ_COMPOSITE_MAGIC);
    ck_assert_int_eq(obj_footer_decode(buf + len - 48, len, &f), 0);
    ck_assert(f.composite);
    ck_assert_int_eq(f.index_pos, 33);
    ck_assert_int_eq(cobj_parse(buf, len, 0, &c), 0);
    ck_assert_uint_eq(c.nlinks, 2);
    ck_assert_int_eq(c.links[1].id, 12);
    ck_assert_uint_eq(c.links[1].block_start, 2);
    ck_assert_uint_eq(c.idx.n, 3);
    ck_assert_int_eq(c.idx.e[2].pos, 0); /* position inside the linked object */
    ck_assert_uint_eq(cobj_link_of(&c, 0), 0);
    ck_assert_uint_eq(cobj_link_of(&c, 1), 0);
    ck_assert_uint_eq(cobj_link_of(&c, 2), 1);
    ck_assert_uint_eq(cobj_link_entries(&c, 0), 2);
    ck_assert_uint_eq(cobj_link_entries(&c, 1), 1);
    cobj_free(&c);
    /* A composite is not a normal object for the tail reader. */
    {
        struct obj_index idx;
        ck_assert_int_eq(read_index(buf, len, 0, &idx), ERR_CORRUPT);
    }
    free(buf);
}
END_TEST

START_TEST(obj_composite_writer_rejects)
{
    struct obj_index_entry a = {5, 0, 10, 2, 0, 100};
    struct obj_index_entry jump = {5, 11, 10, 2, 0, 100};
    struct obj_index_entry back = {5, 9, 10, 2, 0, 100};
    struct obj_index_entry other = {6, 10, 10, 2, 0, 100};
    struct cobj_writer w;
    uint8_t *buf;
    size_t len;
    cobj_writer_init(&w);
    ck_assert_int_eq(cobj_writer_finish(&w, &buf, &len), ERR_INVAL);
    ck_assert_int_eq(cobj_writer_add(&w, 1, 0, &a, 1), 0);
    ck_assert_int_eq(cobj_writer_add(&w, 2, 0, &back, 1), ERR_INVAL);
    ck_assert_int_eq(cobj_writer_add(&w, 2, 0, &other, 1), ERR_INVAL);
    ck_assert_int_eq(cobj_writer_add(&w, 2, 0, &a, 0), ERR_INVAL);
    ck_assert_int_eq(cobj_writer_add(&w, -1, 0, &a, 1), ERR_INVAL);
    ck_assert_uint_eq(w.c.nlinks, 1);
    ck_assert_uint_eq(w.retained, 100);
    ck_assert_int_eq(cobj_writer_add(&w, 2, 0, &jump, 1), 0); /* sparse offsets */
    ck_assert_uint_eq(w.c.nlinks, 2);
    cobj_writer_free(&w);
}
END_TEST

START_TEST(obj_composite_corrupt)
{
    uint8_t *buf;
    size_t len;
    uint64_t retained;
    struct cobj c;
    comp_build(&buf, &len, &retained);
    buf[0] = 0x53; /* objects magic */
    ck_assert_int_eq(cobj_parse(buf, len, 0, &c), ERR_CORRUPT);
    buf[0] = 0x52;
    obj_put_u32(buf + 1, 3); /* count disagrees with the block size */
    ck_assert_int_eq(cobj_parse(buf, len, 0, &c), ERR_CORRUPT);
    obj_put_u32(buf + 1, 2);
    obj_put_u32(buf + 5 + 14 + 8, 4); /* block start beyond the entries */
    ck_assert_int_eq(cobj_parse(buf, len, 0, &c), ERR_CORRUPT);
    obj_put_u32(buf + 5 + 14 + 8, 2);
    obj_put_u32(buf + 5 + 8, 1); /* first link must start at 0 */
    ck_assert_int_eq(cobj_parse(buf, len, 0, &c), ERR_CORRUPT);
    obj_put_u32(buf + 5 + 8, 0);
    buf[len - 1] ^= 1; /* the normal magic is not a composite */
    ck_assert_int_eq(cobj_parse(buf, len, 0, &c), ERR_CORRUPT);
    buf[len - 1] ^= 1;
    ck_assert_int_eq(cobj_parse(buf, len - 1, 0, &c), ERR_CORRUPT);
    ck_assert_int_eq(cobj_parse(buf, 20, 0, &c), ERR_CORRUPT);
    obj_put_u64(buf + 33 + 36 + 8, 5); /* second entry overlaps the first */
    ck_assert_int_eq(cobj_parse(buf, len, 0, &c), ERR_CORRUPT);
    obj_put_u64(buf + 33 + 36 + 8, 10);
    ck_assert_int_eq(cobj_parse(buf, len, 0, &c), 0);
    cobj_free(&c);
    free(buf);
}
END_TEST

/* ---- Fuzz: mutated objects never crash a parser (run under ASan in CI). ---------------- */

static uint64_t fz_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static int fz_rec(void *arg, const struct obj_record *r)
{
    /* Touch every payload byte: ASan tells if one lies outside the buffer. */
    uint32_t sum = 0;
    for (uint32_t i = 0; i < r->len; i++)
        sum += r->payload[i];
    *(uint32_t *)arg += sum;
    return 0;
}

/* Parses buf[0..len) as a normal object as far as it goes; returns the first error. */
static int fz_parse_normal(const uint8_t *buf, size_t len)
{
    struct obj_index idx;
    uint32_t sum = 0;
    int rc = read_index(buf, len, 0, &idx);
    for (size_t i = 0; rc == 0 && i < idx.n; i++)
        rc = obj_group_parse(buf + idx.e[i].pos, (size_t)idx.e[i].size, &idx.e[i], 0, fz_rec, &sum);
    obj_index_free(&idx);
    return rc;
}

START_TEST(obj_fuzz_mutations)
{
    uint8_t *obj, *comp, *m;
    size_t olen, clen;
    uint64_t x = 0x9e3779b97f4a7c15u, retained;
    int ok = 0, corrupt = 0;
    build_std(1000, &obj, &olen);
    comp_build(&comp, &clen, &retained);
    m = malloc(olen > clen ? olen : clen);
    for (int it = 0; it < 20000; it++) {
        bool use_comp = it % 4 == 3;
        const uint8_t *src = use_comp ? comp : obj;
        size_t len = use_comp ? clen : olen, flips = 1 + fz_next(&x) % 4;
        struct cobj c;
        int rc;
        memcpy(m, src, len);
        for (size_t f = 0; f < flips; f++) {
            size_t at = fz_next(&x) % len;
            /* Bias towards the structure: the footer, the index, headers. */
            if (fz_next(&x) % 2)
                at = len - 1 - fz_next(&x) % (len < 400 ? len : 400);
            m[at] = (uint8_t)fz_next(&x);
        }
        if (fz_next(&x) % 8 == 0)
            len -= fz_next(&x) % len; /* truncated */
        rc = use_comp ? cobj_parse(m, len, 0, &c) : fz_parse_normal(m, len);
        if (use_comp && rc == 0)
            cobj_free(&c);
        ck_assert_msg(rc == 0 || rc == ERR_CORRUPT || rc == ERR_INVAL, "iteration %d: rc %d", it, rc);
        ok += rc == 0;
        corrupt += rc != 0;
    }
    ck_assert_int_gt(corrupt, 10000);
    ck_assert_int_gt(ok, 0); /* payload-only flips stay valid */
    free(m);
    free(obj);
    free(comp);
}
END_TEST

/* ---- Suite. ------------------------------------------------------------------------------- */

static Suite *obj_suite(void)
{
    Suite *s = suite_create("obj");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, obj_record_roundtrip);
    tcase_add_test(tc, obj_builder_roundtrip);
    tcase_add_test(tc, obj_builder_groups);
    tcase_add_test(tc, obj_builder_reserve_grows_its_buffer);
    tcase_add_test(tc, obj_builder_reserve_in_refuses_a_builder_in_use);
    tcase_add_test(tc, obj_builder_order_rules);
    tcase_add_test(tc, obj_builder_add_raw_copies_blocks);
    tcase_add_test(tc, obj_tail_start_formula);
    tcase_add_test(tc, obj_tail_reread_once);
    tcase_add_test(tc, obj_footer_corrupt);
    tcase_add_test(tc, obj_index_corrupt);
    tcase_add_test(tc, obj_group_corrupt);
    tcase_add_test(tc, obj_group_count_mismatch);
    tcase_add_test(tc, obj_int32_guard_cuts);
    tcase_add_test(tc, obj_int32_guard_sparse_offsets);
    tcase_add_test(tc, obj_group_sparse_offsets);
    tcase_add_test(tc, obj_int32_guard_off_wraps);
    tcase_add_test(tc, obj_regroup_limits);
    tcase_add_test(tc, obj_key_format);
    tcase_add_test(tc, obj_key_parse_rejects);
    tcase_add_test(tc, obj_composite_roundtrip);
    tcase_add_test(tc, obj_composite_writer_rejects);
    tcase_add_test(tc, obj_composite_corrupt);
    tcase_add_test(tc, obj_fuzz_mutations);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(obj_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
