/* test_buf.c - shared, reference-counted buffers (src/base/buf.h): sharing,
 * slicing (a range within the written bytes), the write generation, the memo,
 * and the checksum cache built on it (s3_checksum_buf) refusing a buffer
 * changed since, down to the fake S3 answering BadDigest for a recycled
 * body (field bug F13's model) instead of trusting a cached checksum. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fault.h"
#include "fs3.h"
#include "s3.h"
#include "testenv.h"

START_TEST(buf_refs_share_one_copy)
{
    struct buf *b = buf_new(16);
    ck_assert_ptr_nonnull(b);
    ck_assert(!buf_shared(b));
    ck_assert_int_eq(buf_append(b, "hello", 5), 0);
    struct buf *c = buf_ref(b);
    ck_assert_ptr_eq(c, b);
    ck_assert(buf_shared(b));
    /* A shared buffer is immutable: growing, appending and writing are
     * refused, the generation does not move. */
    uint64_t g = b->gen;
    ck_assert_int_eq(buf_reserve(b, 1 << 20), -1);
    ck_assert_uint_eq(b->cap, 16);
    ck_assert_int_eq(buf_append(c, " you", 4), -1);
    ck_assert_int_eq(buf_write(c, 0, "J", 1), -1);
    ck_assert_ptr_null(buf_wbytes(b, 0, 1));
    ck_assert_uint_eq(b->gen, g);
    ck_assert_uint_eq(b->len, 5);
    ck_assert(memcmp(b->p, "hello", 5) == 0);
    buf_unref(c); /* one holder left: the bytes are still there, writable */
    ck_assert(!buf_shared(b));
    ck_assert_int_eq(buf_append(b, " you", 4), 0);
    ck_assert_int_eq(buf_append(b, "0123456789", 10), 0); /* grows to what it needs */
    ck_assert_uint_eq(b->cap, 19);
    ck_assert(memcmp(b->p, "hello you0123456789", 19) == 0);
    buf_unref(b);
    buf_unref(NULL);
}
END_TEST

START_TEST(buf_adopt_takes_the_block)
{
    uint8_t *p = malloc(8);
    memcpy(p, "abcdefgh", 8);
    struct buf *b = buf_adopt(p, 8, 8);
    ck_assert_ptr_eq(b->p, p);
    ck_assert_uint_eq(b->len, 8);
    buf_unref(b); /* frees p: ASan would report a leak otherwise */
}
END_TEST

START_TEST(buf_slices_lie_within_the_written_bytes)
{
    struct buf *b = buf_new(64);
    size_t off = 99;
    ck_assert_int_eq(buf_append(b, "0123456789", 10), 0);
    ck_assert(buf_holds(b, b->p, 10, &off));
    ck_assert_uint_eq(off, 0);
    ck_assert(buf_holds(b, b->p + 3, 4, &off));
    ck_assert_uint_eq(off, 3);
    ck_assert(buf_holds(b, b->p + 10, 0, &off));
    ck_assert_uint_eq(off, 10);
    ck_assert(!buf_holds(b, b->p + 3, 8, &off));  /* past len, within cap */
    ck_assert(!buf_holds(b, b->p + 11, 0, &off));
    char other[10];
    ck_assert(!buf_holds(b, other, 1, &off));
    buf_unref(b);
}
END_TEST

START_TEST(buf_every_write_moves_the_generation)
{
    struct buf *b = buf_new(32);
    uint64_t g = b->gen;
    ck_assert_int_eq(buf_append(b, "ab", 2), 0);
    ck_assert_uint_gt(b->gen, g);
    g = b->gen;
    ck_assert_int_eq(buf_write(b, 0, "x", 1), 0);
    ck_assert_uint_gt(b->gen, g);
    g = b->gen;
    uint8_t *w = buf_wbytes(b, 2, 4);
    ck_assert_ptr_nonnull(w);
    ck_assert_uint_gt(b->gen, g);
    ck_assert_uint_eq(b->len, 6);
    g = b->gen;
    ck_assert_int_eq(buf_write(b, 30, "xyz", 3), -1); /* out of cap: nothing */
    ck_assert_ptr_null(buf_wbytes(b, 33, 0));
    ck_assert_uint_eq(b->gen, g);
    buf_unref(b);
}
END_TEST

START_TEST(buf_memo_refuses_a_changed_buffer)
{
    struct buf *b = buf_new(32);
    uint8_t v[BUF_MEMO_MAX], want[4] = {1, 2, 3, 4};
    ck_assert_int_eq(buf_append(b, "0123456789", 10), 0);
    buf_memo_put(b, 7, 0, 10, want, 4);
    ck_assert_uint_eq(buf_memo_get(b, 7, 0, 10, v, sizeof v), 4);
    ck_assert(memcmp(v, want, 4) == 0);
    ck_assert_uint_eq(buf_memo_get(b, 8, 0, 10, v, sizeof v), 0); /* other kind */
    ck_assert_uint_eq(buf_memo_get(b, 7, 1, 9, v, sizeof v), 0);  /* other range */
    ck_assert_uint_eq(buf_memo_get(b, 7, 0, 9, v, sizeof v), 0);
    /* A write anywhere, even outside the range and with the same byte,
     * makes the value unusable. */
    ck_assert_int_eq(buf_write(b, 20, "z", 1), 0);
    ck_assert_uint_eq(buf_memo_get(b, 7, 0, 10, v, sizeof v), 0);
    buf_memo_put(b, 7, 0, 10, want, 4);
    ck_assert_uint_eq(buf_memo_get(b, 7, 0, 10, v, sizeof v), 4);
    ck_assert_ptr_nonnull(buf_wbytes(b, 0, 1));
    ck_assert_uint_eq(buf_memo_get(b, 7, 0, 10, v, sizeof v), 0);
    buf_unref(b);
}
END_TEST

/* The cache is used: a value planted at the current generation is what
 * s3_checksum_buf returns (proof that it does not recompute), and after a
 * write it is the true checksum again. */
/* buf_take: its allocation reused through the pool like a new buffer (len
 * 0, no memo, a generation never seen), small ones and full pools freed --
 * or, under ASan (pool off), always freed. */
START_TEST(buf_take_pools_freed_buffers)
{
    buf_pool_drain();
    struct buf *b = buf_take(BUF_POOL_KEEP);
    ck_assert_ptr_nonnull(b);
    ck_assert(b->pooled);
    ck_assert_uint_ge(b->cap, BUF_POOL_KEEP);
    ck_assert_int_eq(buf_append(b, "abc", 3), 0);
    ck_assert_int_eq(buf_reserve(b, 3 * BUF_POOL_KEEP), 0);
    ck_assert(memcmp(b->p, "abc", 3) == 0);
    buf_trim(b);
    ck_assert_uint_lt(b->cap, BUF_POOL_KEEP);
    unsigned n0 = buf_pool_len();
    buf_unref(b); /* too small to keep */
    ck_assert_uint_eq(buf_pool_len(), n0);

    b = buf_take(2 * BUF_POOL_KEEP);
    ck_assert_int_eq(buf_append(b, "abc", 3), 0);
    uint8_t v = 7, out[BUF_MEMO_MAX];
    buf_memo_put(b, 1, 0, 3, &v, 1);
    ck_assert_uint_eq(buf_memo_get(b, 1, 0, 3, out, sizeof out), 1);
    uint64_t g = b->gen, hits = buf_pool_hits();
    uint8_t *p = b->p;
    buf_unref(b);
    struct buf *c = buf_take(BUF_POOL_KEEP); /* smaller: no realloc */
    ck_assert_ptr_nonnull(c);
    if (buf_pool_hits() > hits) { /* the pool is on: the same bytes, a new buffer */
        ck_assert_ptr_eq(c->p, p);
        ck_assert_uint_gt(c->gen, g);
    }
    ck_assert_uint_eq(c->refs, 1);
    ck_assert_uint_eq(c->len, 0);
    ck_assert_uint_ge(c->cap, BUF_POOL_KEEP);
    ck_assert_uint_eq(buf_memo_get(c, 1, 0, 3, out, sizeof out), 0);
    buf_unref(c);
    c = buf_take(4 * BUF_POOL_KEEP); /* larger: grown */
    ck_assert_uint_ge(c->cap, 4 * BUF_POOL_KEEP);
    ck_assert_uint_eq(c->len, 0);
    buf_unref(c);

    /* The pool keeps at most BUF_POOL_N buffers; buffers of buf_new never. */
    struct buf *v2[BUF_POOL_N + 1];
    for (unsigned i = 0; i <= BUF_POOL_N; i++)
        ck_assert_ptr_nonnull(v2[i] = buf_take(BUF_POOL_KEEP));
    for (unsigned i = 0; i <= BUF_POOL_N; i++)
        buf_unref(v2[i]);
    ck_assert_uint_le(buf_pool_len(), BUF_POOL_N);
    buf_pool_drain();
    buf_unref(buf_new(2 * BUF_POOL_KEEP));
    ck_assert_uint_eq(buf_pool_len(), 0);
}
END_TEST

/* A pin keeps the memory past the last reference, does not make the buffer
 * shared (its owner still writes, grows, trims), and a pinned reader sees
 * the bytes of the moment it reads, zeros past what the owner wrote. */
START_TEST(buf_pin_keeps_memory_but_not_bytes)
{
    struct buf *b = buf_new(8);
    uint8_t out[8];
    ck_assert_int_eq(buf_append(b, "good", 4), 0);
    buf_pin(b);
    ck_assert_uint_eq(b->pins, 1);
    ck_assert(!buf_shared(b));
    uint64_t g = b->gen;
    uint8_t v = 7, m[BUF_MEMO_MAX];
    buf_memo_put(b, 1, 0, 4, &v, 1);
    ck_assert_int_eq(buf_write(b, 0, "evil", 4), 0); /* the owner recycles it */
    ck_assert_uint_gt(b->gen, g);
    ck_assert_uint_eq(buf_memo_get(b, 1, 0, 4, m, sizeof m), 0);
    ck_assert_int_eq(buf_reserve(b, 1 << 16), 0); /* p may move */
    buf_read_now(b, 2, 4, out);
    ck_assert_int_eq(memcmp(out, "il\0\0", 4), 0);
    buf_unref(b); /* the owner's last reference: the pin keeps the memory */
    ck_assert_uint_eq(b->refs, 0);
    buf_read_now(b, 0, 4, out);
    ck_assert_int_eq(memcmp(out, "evil", 4), 0);
    buf_pin(b);
    buf_unpin(b);
    ck_assert_uint_eq(b->pins, 1);
    buf_unpin(b); /* the last pin of a buffer nobody holds frees it (ASan: no leak) */
    buf_unpin(NULL);

    /* Unpinned while still held: nothing freed. */
    b = buf_new(4);
    buf_pin(b);
    buf_unpin(b);
    ck_assert_uint_eq(b->refs, 1);
    ck_assert_int_eq(buf_append(b, "x", 1), 0);
    buf_unref(b);
}
END_TEST

/* The recycler keeps a buffer its caller held alone and hands it back as a
 * new one (same memory, len 0, a new gen, no memo); a shared buffer or one
 * past its room is only unreferenced. */
START_TEST(buf_recycler_reuses_sole_buffers)
{
    struct buf_recycler r = {0};
    struct buf *b = buf_new(16), *c = buf_new(16), *d = buf_new(16), *e = buf_new(16);
    uint8_t v = 7, m[BUF_MEMO_MAX];
    ck_assert_ptr_null(buf_recycled(&r));
    ck_assert_int_eq(buf_append(b, "abc", 3), 0);
    buf_memo_put(b, 1, 0, 3, &v, 1);
    uint64_t g = b->gen;
    uint8_t *p = b->p;
    buf_pin(b);
    buf_recycle(&r, b);
    ck_assert_uint_eq(r.n, 1);
    struct buf *x = buf_recycled(&r);
    ck_assert_ptr_eq(x, b);
    ck_assert_ptr_eq(x->p, p);
    ck_assert_uint_eq(x->len, 0);
    ck_assert_uint_eq(x->refs, 1);
    ck_assert_uint_eq(x->pins, 1); /* a late reader still sees it */
    ck_assert_uint_gt(x->gen, g);
    ck_assert_uint_eq(buf_memo_get(x, 1, 0, 3, m, sizeof m), 0);
    ck_assert_uint_eq(r.reused, 1);
    buf_unpin(x);
    /* shared: not kept, the caller's reference dropped */
    buf_ref(c);
    buf_recycle(&r, c);
    ck_assert_uint_eq(r.n, 0);
    ck_assert_uint_eq(c->refs, 1);
    /* full: the extra one dropped (freed) */
    buf_recycle(&r, x);
    buf_recycle(&r, d);
    buf_recycle(&r, e);
    ck_assert_uint_eq(r.n, BUF_RECYCLE_N);
    ck_assert_ptr_eq(buf_recycled(&r), d); /* the newest first */
    buf_unref(d);
    buf_recycle(&r, NULL);
    buf_recycler_drain(&r);
    ck_assert_uint_eq(r.n, 0);
    buf_unref(c);
}
END_TEST

/* s3.h's contract: compute writes the whole result over whatever out held (alg NONE: len 0), so a
 * caller may compute into a reused struct, and the bytes past len are zero. */
START_TEST(cksum_compute_overwrites_out)
{
    static const enum s3_cksum algs[] = {S3_CKSUM_NONE, S3_CKSUM_CRC32C, S3_CKSUM_MD5};
    for (unsigned i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        struct s3_checksum ck;
        memset(&ck, 0xA5, sizeof ck);
        s3_checksum_compute(algs[i], (const uint8_t *)"abc", 3, &ck);
        ck_assert_int_eq(ck.alg, algs[i]);
        ck_assert_int_eq(ck.len, algs[i] == S3_CKSUM_NONE ? 0 : algs[i] == S3_CKSUM_MD5 ? 16 : 4);
        for (size_t j = ck.len; j < sizeof ck.value; j++)
            ck_assert_int_eq(ck.value[j], 0);
    }
}
END_TEST

START_TEST(cksum_buf_reuses_and_refuses)
{
    struct buf *b = buf_new(4096);
    struct s3_checksum ck, truth;
    uint8_t fake[16];
    for (int i = 0; i < 4096; i++)
        buf_append(b, &(uint8_t){(uint8_t)(i * 7)}, 1);
    s3_checksum_compute(S3_CKSUM_MD5, b->p + 100, 1000, &truth);
    s3_checksum_buf(S3_CKSUM_MD5, b, b->p + 100, 1000, &ck);
    ck_assert(s3_checksum_equal(&ck, &truth));
    memset(fake, 0xAB, sizeof fake);
    buf_memo_put(b, S3_CKSUM_MD5, 100, 1000, fake, 16);
    s3_checksum_buf(S3_CKSUM_MD5, b, b->p + 100, 1000, &ck);
    ck_assert(memcmp(ck.value, fake, 16) == 0);
    ck_assert_int_eq(ck.alg, S3_CKSUM_MD5);
    ck_assert_int_eq(ck.len, 16);
    /* Other algorithm, other range, bytes outside b: computed. */
    s3_checksum_buf(S3_CKSUM_MD5, b, b->p + 100, 999, &ck);
    ck_assert(memcmp(ck.value, fake, 16) != 0);
    buf_write(b, 4000, "q", 1);
    s3_checksum_buf(S3_CKSUM_MD5, b, b->p + 100, 1000, &ck);
    ck_assert(s3_checksum_equal(&ck, &truth));
    buf_unref(b);
}
END_TEST

/* F13's recycled buffer: the client computed the checksum over the body,
 * then the buffer was reused for other bytes while the request was still
 * in flight.  The store must verify what it received: BadDigest, never the
 * client's cached checksum matched against itself. */
static struct s3_result put_through_store(struct buf *b, const struct s3_checksum *ck)
{
    struct tenv t;
    struct fs3 *s;
    struct s3_req req;
    struct s3_result res;
    tenv_init(&t, 3);
    s = fs3_new(&t.env, NULL);
    memset(&req, 0, sizeof req);
    memset(&res, 0, sizeof res);
    req.op = S3_OP_PUT;
    req.key = "k";
    req.body = b->p;
    req.body_len = b->len;
    req.body_buf = b;
    req.cksum = *ck;
    ck_assert_int_eq(fs3_exec(s, &req, FS3_AS_OF_NOW, &res), 0);
    fs3_free(s);
    tenv_free(&t);
    return res;
}

START_TEST(store_refuses_a_recycled_body_with_a_cached_checksum)
{
    static const enum s3_cksum algs[] = {S3_CKSUM_MD5, S3_CKSUM_CRC32C, S3_CKSUM_SHA256};
    for (size_t a = 0; a < sizeof algs / sizeof algs[0]; a++) {
        struct buf *b = buf_new(1 << 16);
        struct s3_checksum ck;
        struct s3_result res;
        for (int i = 0; i < (1 << 16); i++)
            buf_append(b, &(uint8_t){(uint8_t)(i ^ (i >> 8))}, 1);
        s3_checksum_buf(algs[a], b, b->p, b->len, &ck); /* the client, before submit */
        res = put_through_store(b, &ck);
        ck_assert_int_eq(res.status, 200);
        s3_result_cleanup(&res);
        /* Recycled: one byte changes after the checksum was taken. */
        buf_write(b, 12345, &(uint8_t){(uint8_t)(b->p[12345] + 1)}, 1);
        res = put_through_store(b, &ck);
        ck_assert_int_eq(res.status, 400);
        ck_assert_int_eq(res.code, S3E_BAD_DIGEST);
        s3_result_cleanup(&res);
        /* Rewritten with the very same bytes: still a new generation, the
         * store recomputes, and the (correct) checksum matches. */
        buf_write(b, 12345, &(uint8_t){(uint8_t)(b->p[12345] - 1)}, 1);
        res = put_through_store(b, &ck);
        ck_assert_int_eq(res.status, 200);
        s3_result_cleanup(&res);
        buf_unref(b);
    }
}
END_TEST

/* ---- the fake S3 keeping bytes by reference ---- */

static struct tenv ST;
static struct fs3 *SS;

static void store_open(void)
{
    struct fs3_config cfg;
    fs3_config_init(&cfg);
    cfg.min_part_size = 1;
    tenv_init(&ST, 5);
    SS = fs3_new(&ST.env, &cfg);
    ck_assert_ptr_nonnull(SS);
}

static void store_close(void)
{
    fs3_free(SS);
    tenv_free(&ST);
}

/* Runs req on the store now; returns the status, res kept for the caller. */
static int exec(struct s3_req *req, enum s3_op op, struct s3_result *res)
{
    req->op = op;
    memset(res, 0, sizeof *res);
    ck_assert_int_eq(fs3_exec(SS, req, FS3_AS_OF_NOW, res), 0);
    return res->status;
}

static struct buf *filled(size_t n, uint8_t salt)
{
    struct buf *b = buf_new(n);
    uint8_t *w = buf_wbytes(b, 0, n);
    for (size_t i = 0; i < n; i++)
        w[i] = (uint8_t)(i * 31 + salt);
    return b;
}

static void get_equals(const char *key, int64_t start, int64_t end, const uint8_t *want,
                       size_t n)
{
    struct s3_req req = {.key = key, .range_start = start, .range_end = end};
    struct s3_result res;
    ck_assert_int_lt(exec(&req, S3_OP_GET, &res), 300);
    ck_assert_uint_eq(res.body_len, n);
    ck_assert(memcmp(res.body, want, n) == 0);
    s3_result_cleanup(&res);
}

/* A pinned body is copied, never kept by reference: its owner may recycle
 * the bytes while a late attempt still reads them (field bug F13). */
START_TEST(store_copies_a_pinned_body)
{
    store_open();
    struct buf *b = filled(100000, 1);
    buf_pin(b);
    struct s3_req req = {.key = "a", .body = b->p, .body_len = b->len, .body_buf = b};
    struct s3_result res;
    ck_assert_int_eq(exec(&req, S3_OP_PUT, &res), 200);
    s3_result_cleanup(&res);
    ck_assert_uint_eq(b->refs, 1); /* a copy: the owner holds it alone */
    uint8_t *want = malloc(b->len);
    memcpy(want, b->p, b->len);
    ck_assert_int_eq(buf_write(b, 0, "xyz", 3), 0);
    get_equals("a", 0, -1, want, b->len);
    free(want);
    buf_unpin(b);
    buf_unref(b);
    store_close();
}
END_TEST

START_TEST(store_keeps_a_put_body_by_reference)
{
    store_open();
    struct buf *b = filled(100000, 1), *small = buf_new(1 << 20);
    struct s3_req req = {.key = "a", .body = b->p, .body_len = b->len, .body_buf = b};
    struct s3_result res;
    ck_assert_int_eq(exec(&req, S3_OP_PUT, &res), 200);
    s3_result_cleanup(&res);
    ck_assert_uint_eq(b->refs, 2); /* the store's */
    ck_assert_int_eq(buf_write(b, 0, "x", 1), -1); /* immutable while stored */
    get_equals("a", 0, -1, b->p, b->len);
    get_equals("a", 99990, 100000, b->p + 99990, 10);
    /* A small body in a large buffer is copied: the bucket keeps its bytes,
     * not the buffer's slack. */
    buf_append(small, "tiny", 4);
    req = (struct s3_req){.key = "s", .body = small->p, .body_len = 4, .body_buf = small};
    ck_assert_int_eq(exec(&req, S3_OP_PUT, &res), 200);
    s3_result_cleanup(&res);
    ck_assert_uint_eq(small->refs, 1);
    get_equals("s", 0, -1, (const uint8_t *)"tiny", 4);
    req = (struct s3_req){.key = "a"};
    ck_assert_int_eq(exec(&req, S3_OP_DELETE, &res), 204);
    s3_result_cleanup(&res);
    ck_assert_uint_eq(b->refs, 1); /* deleted: the store let go */
    ck_assert_int_eq(buf_write(b, 0, "x", 1), 0);
    buf_unref(b);
    buf_unref(small);
    store_close();
}
END_TEST

START_TEST(store_links_parts_and_shares_copies)
{
    store_open();
    struct buf *p1 = filled(70000, 2), *p2 = filled(50000, 3);
    struct s3_result res;
    struct s3_req req = {.key = "m"};
    char id[S3_UPLOAD_ID_MAX];
    ck_assert_int_eq(exec(&req, S3_OP_MPU_CREATE, &res), 200);
    snprintf(id, sizeof id, "%s", res.upload_id);
    s3_result_cleanup(&res);
    struct buf *parts[2] = {p1, p2};
    for (int i = 0; i < 2; i++) {
        req = (struct s3_req){.key = "m", .upload_id = id, .part_number = i + 1,
                              .body = parts[i]->p, .body_len = parts[i]->len,
                              .body_buf = parts[i]};
        ck_assert_int_eq(exec(&req, S3_OP_MPU_PART, &res), 200);
        s3_result_cleanup(&res);
        ck_assert_uint_eq(parts[i]->refs, 2);
    }
    struct s3_part cp[2] = {{.number = 1}, {.number = 2}};
    req = (struct s3_req){.key = "m", .upload_id = id, .parts = cp, .nparts = 2};
    ck_assert_int_eq(exec(&req, S3_OP_MPU_COMPLETE, &res), 200);
    s3_result_cleanup(&res);
    /* Linked, not assembled: the object holds the part buffers themselves. */
    ck_assert_uint_eq(p1->refs, 2);
    ck_assert_uint_eq(p2->refs, 2);
    uint8_t *whole = malloc(120000);
    memcpy(whole, p1->p, 70000);
    memcpy(whole + 70000, p2->p, 50000);
    get_equals("m", 0, -1, whole, 120000);
    get_equals("m", 69990, 70010, whole + 69990, 20); /* across the seam */
    /* UploadPartCopy of a range across the seam shares both buffers. */
    req = (struct s3_req){.key = "c"};
    ck_assert_int_eq(exec(&req, S3_OP_MPU_CREATE, &res), 200);
    snprintf(id, sizeof id, "%s", res.upload_id);
    s3_result_cleanup(&res);
    req = (struct s3_req){.key = "c", .upload_id = id, .part_number = 1, .copy_source = "m",
                          .range_start = 60000, .range_end = 80000};
    ck_assert_int_eq(exec(&req, S3_OP_MPU_COPY, &res), 200);
    s3_result_cleanup(&res);
    ck_assert_uint_eq(p1->refs, 3);
    ck_assert_uint_eq(p2->refs, 3);
    struct s3_part one = {.number = 1};
    req = (struct s3_req){.key = "c", .upload_id = id, .parts = &one, .nparts = 1};
    ck_assert_int_eq(exec(&req, S3_OP_MPU_COMPLETE, &res), 200);
    s3_result_cleanup(&res);
    get_equals("c", 0, -1, whole + 60000, 20000);
    /* The ETag of the copied object (computed over two segments) is its
     * bytes' MD5, as S3 would have it. */
    req = (struct s3_req){.key = "c"};
    ck_assert_int_eq(exec(&req, S3_OP_HEAD, &res), 200);
    char want[S3_ETAG_MAX];
    struct s3_checksum md5;
    uint8_t d[16];
    s3_checksum_compute(S3_CKSUM_MD5, whole + 60000, 20000, &md5);
    memcpy(d, md5.value, 16);
    s3_checksum_compute(S3_CKSUM_MD5, d, 16, &md5);
    for (int i = 0; i < 16; i++)
        snprintf(want + 1 + 2 * i, 3, "%02x", md5.value[i]);
    want[0] = '"';
    snprintf(want + 33, sizeof want - 33, "-1\"");
    ck_assert_str_eq(res.etag, want);
    s3_result_cleanup(&res);
    free(whole);
    store_close();
    ck_assert_uint_eq(p1->refs, 1);
    ck_assert_uint_eq(p2->refs, 1);
    buf_unref(p1);
    buf_unref(p2);
}
END_TEST

/* A GET asked with body_by_ref answers a slice of the stored buffer itself
 * (a reference, no copy) when the range lies in one segment, a copy when it
 * spans two; the fault layer's corrupt damages a private copy, never the
 * store's bytes. */
static struct s3_result got;
static int ngot;
static void got_cb(struct s3_req *req, struct s3_result *res)
{
    (void)req;
    got = *res; /* taken: body and body_ref are ours now */
    res->body = NULL;
    res->body_ref = NULL;
    ngot++;
}

START_TEST(store_get_answers_a_shared_slice)
{
    store_open();
    struct buf *b = filled(100000, 4), *p1 = filled(70000, 5), *p2 = filled(50000, 6);
    struct s3_req req = {.key = "a", .body = b->p, .body_len = b->len, .body_buf = b};
    struct s3_result res;
    char id[S3_UPLOAD_ID_MAX];
    ck_assert_int_eq(exec(&req, S3_OP_PUT, &res), 200);
    s3_result_cleanup(&res);
    req = (struct s3_req){.key = "a", .range_start = 1000, .range_end = 5000, .body_by_ref = true};
    ck_assert_int_eq(exec(&req, S3_OP_GET, &res), 206);
    ck_assert_ptr_eq(res.body_ref, b);
    ck_assert_ptr_eq(res.body, b->p + 1000);
    ck_assert_uint_eq(res.body_len, 4000);
    ck_assert_uint_eq(b->refs, 3); /* ours, the store's, the answer's */
    s3_result_cleanup(&res);
    ck_assert_uint_eq(b->refs, 2);
    ck_assert_ptr_null(res.body_ref);
    /* Without body_by_ref: a copy, as before. */
    req.body_by_ref = false;
    ck_assert_int_eq(exec(&req, S3_OP_GET, &res), 206);
    ck_assert_ptr_null(res.body_ref);
    ck_assert(res.body != b->p + 1000 && memcmp(res.body, b->p + 1000, 4000) == 0);
    s3_result_cleanup(&res);
    /* Across the seam of two linked parts: a copy of both. */
    req = (struct s3_req){.key = "m"};
    ck_assert_int_eq(exec(&req, S3_OP_MPU_CREATE, &res), 200);
    snprintf(id, sizeof id, "%s", res.upload_id);
    s3_result_cleanup(&res);
    struct buf *parts[2] = {p1, p2};
    struct s3_part pl[2] = {{.number = 1}, {.number = 2}};
    for (int i = 0; i < 2; i++) {
        req = (struct s3_req){.key = "m", .upload_id = id, .part_number = i + 1,
                              .body = parts[i]->p, .body_len = parts[i]->len,
                              .body_buf = parts[i]};
        ck_assert_int_eq(exec(&req, S3_OP_MPU_PART, &res), 200);
        s3_result_cleanup(&res);
    }
    req = (struct s3_req){.key = "m", .upload_id = id, .parts = pl, .nparts = 2};
    ck_assert_int_eq(exec(&req, S3_OP_MPU_COMPLETE, &res), 200);
    s3_result_cleanup(&res);
    req = (struct s3_req){.key = "m", .range_start = 69990, .range_end = 70010, .body_by_ref = true};
    ck_assert_int_eq(exec(&req, S3_OP_GET, &res), 206);
    ck_assert_ptr_null(res.body_ref);
    ck_assert(memcmp(res.body, p1->p + 69990, 10) == 0 && memcmp(res.body + 10, p2->p, 10) == 0);
    s3_result_cleanup(&res);
    req.range_start = 70000; /* within the second part: its buffer */
    ck_assert_int_eq(exec(&req, S3_OP_GET, &res), 206);
    ck_assert_ptr_eq(res.body_ref, p2);
    s3_result_cleanup(&res);
    /* corrupt through the fault layer: the answer is damaged, the bucket not. */
    struct fs3_fault *f = fs3_fault_new(&ST.env, SS, NULL, NULL);
    struct fs3_rule r;
    fs3_rule_init(&r);
    r.op = S3_OP_GET;
    r.effect = FS3_EFF_CORRUPT;
    r.corrupt_at = 0;
    ck_assert_int_eq(fs3_fault_add(f, &r), 0);
    req = (struct s3_req){.key = "a", .range_start = 10, .range_end = 20, .body_by_ref = true};
    ngot = 0;
    ck_assert_int_eq(s3_submit_op(fs3_fault_ops(f), S3_OP_GET, &req, got_cb, NULL), 0);
    tenv_run(&ST);
    ck_assert_int_eq(ngot, 1);
    ck_assert_ptr_null(got.body_ref);
    ck_assert_int_eq(got.body[0], b->p[10] ^ 0xff);
    ck_assert(memcmp(got.body + 1, b->p + 11, 9) == 0);
    ck_assert_uint_eq(b->refs, 2);
    s3_result_cleanup(&got);
    fs3_fault_free(f);
    get_equals("a", 10, 20, b->p + 10, 10); /* the stored bytes are intact */
    buf_unref(b);
    buf_unref(p1);
    buf_unref(p2);
    store_close();
}
END_TEST


/* A body in pieces (s3_req.segs): the client's one checksum over the pieces
 * is reused by the store only while no piece's buffer was written since;
 * a recycled piece (F13's model) is recomputed and refused. */
START_TEST(store_refuses_a_recycled_piece_with_a_cached_checksum)
{
    static const enum s3_cksum algs[] = {S3_CKSUM_MD5, S3_CKSUM_CRC32C, S3_CKSUM_SHA256};
    for (size_t a = 0; a < sizeof algs / sizeof algs[0]; a++) {
        struct buf *x = filled(40000, 3), *y = filled(30000, 9);
        struct s3_seg v[2] = {{x, x->p + 100, 20000, 0}, {y, y->p, 30000, 0}};
        struct s3_checksum whole, ck;
        uint8_t *cat = malloc(50000);
        memcpy(cat, x->p + 100, 20000);
        memcpy(cat + 20000, y->p, 30000);
        s3_checksum_compute(algs[a], cat, 50000, &whole);
        s3_checksum_segs(algs[a], v, 2, &ck); /* the client, before submit */
        ck_assert(s3_checksum_equal(&ck, &whole));
        ck_assert_uint_eq(v[1].gen, y->gen);
        store_open();
        struct s3_req req = {.key = "k", .body_len = 50000, .segs = v, .nsegs = 2,
                             .cksum = ck, .segs_memo = ck};
        struct s3_result res;
        ck_assert_int_eq(exec(&req, S3_OP_PUT, &res), 200);
        s3_result_cleanup(&res);
        get_equals("k", 0, -1, cat, 50000);
        /* A memo that lies is believed only while the gens hold: here one
         * does not (y was written), so the store computes and refuses a
         * body whose piece changed after the checksum. */
        store_close();
        store_open();
        ck_assert_int_eq(buf_write(y, 777, &(uint8_t){(uint8_t)(y->p[777] + 1)}, 1), 0);
        ck_assert_uint_ne(v[1].gen, y->gen);
        req = (struct s3_req){.key = "k", .body_len = 50000, .segs = v, .nsegs = 2,
                              .cksum = ck, .segs_memo = ck};
        ck_assert_int_eq(exec(&req, S3_OP_PUT, &res), 400);
        ck_assert_int_eq(res.code, S3E_BAD_DIGEST);
        s3_result_cleanup(&res);
        /* Without a memo the store computes: the changed piece is refused. */
        req.segs_memo.alg = S3_CKSUM_NONE;
        ck_assert_int_eq(exec(&req, S3_OP_PUT, &res), 400);
        s3_result_cleanup(&res);
        store_close();
        free(cat);
        buf_unref(x);
        buf_unref(y);
    }
}
END_TEST

/* The store keeps a piece of a buffer it stores already by reference (a
 * block a GET shared, sent back in a compacted part), a large piece of a
 * new buffer too, and copies a small piece of a large new buffer; a GET
 * across pieces asked with body_segs answers the pieces, each a reference. */
START_TEST(store_keeps_pieces_by_reference_and_answers_them)
{
    store_open();
    struct buf *a = filled(1 << 20, 1), *big = filled(1 << 20, 2);
    struct s3_req req = {.key = "src", .body = a->p, .body_len = a->len, .body_buf = a};
    struct s3_result res;
    ck_assert_int_eq(exec(&req, S3_OP_PUT, &res), 200);
    s3_result_cleanup(&res);
    ck_assert(a->stored);
    ck_assert_uint_eq(a->refs, 2);
    /* 1000 bytes of the stored a (by reference), 4 KiB of big (copied: a
     * small piece of a new buffer), 200,000 bytes of a (by reference). */
    struct s3_seg v[3] = {{a, a->p + 5000, 1000, 0}, {big, big->p, 4096, 0},
                          {a, a->p + 100000, 200000, 0}};
    uint8_t *cat = malloc(205096);
    memcpy(cat, a->p + 5000, 1000);
    memcpy(cat + 1000, big->p, 4096);
    memcpy(cat + 5096, a->p + 100000, 200000);
    req = (struct s3_req){.key = "out", .body_len = 205096, .segs = v, .nsegs = 3};
    ck_assert_int_eq(exec(&req, S3_OP_PUT, &res), 200);
    s3_result_cleanup(&res);
    ck_assert_uint_eq(a->refs, 4);   /* two pieces of it kept */
    ck_assert_uint_eq(big->refs, 1); /* copied */
    get_equals("out", 0, -1, cat, 205096);
    /* Across the pieces, in pieces. */
    req = (struct s3_req){.key = "out", .range_start = 500, .range_end = 105096,
                          .body_by_ref = true, .body_segs = true};
    ck_assert_int_eq(exec(&req, S3_OP_GET, &res), 206);
    ck_assert_ptr_null(res.body);
    ck_assert_uint_eq(res.nsegs, 3);
    ck_assert_uint_eq(res.body_len, 104596);
    ck_assert_ptr_eq(res.segs[0].b, a);
    ck_assert_ptr_eq(res.segs[0].p, a->p + 5500);
    ck_assert_ptr_eq(res.segs[2].b, a);
    ck_assert_uint_eq(a->refs, 6);
    size_t at = 0;
    for (size_t i = 0; i < res.nsegs; i++) {
        ck_assert(memcmp(res.segs[i].p, cat + 500 + at, res.segs[i].len) == 0);
        at += res.segs[i].len;
    }
    ck_assert_uint_eq(at, 104596);
    ck_assert_int_eq(s3_result_flatten(&res), 0); /* one copy, references dropped */
    ck_assert_uint_eq(a->refs, 4);
    ck_assert(memcmp(res.body, cat + 500, 104596) == 0);
    s3_result_cleanup(&res);
    /* Within one piece: the shared slice, as before; without body_segs a
     * range across pieces is a copy. */
    req = (struct s3_req){.key = "out", .range_start = 6000, .range_end = 7000,
                          .body_by_ref = true, .body_segs = true};
    ck_assert_int_eq(exec(&req, S3_OP_GET, &res), 206);
    ck_assert_ptr_eq(res.body_ref, a);
    ck_assert_uint_eq(res.nsegs, 0);
    s3_result_cleanup(&res);
    req = (struct s3_req){.key = "out", .range_start = 500, .range_end = 105096,
                          .body_by_ref = true};
    ck_assert_int_eq(exec(&req, S3_OP_GET, &res), 206);
    ck_assert_ptr_null(res.body_ref);
    ck_assert_ptr_null(res.segs);
    ck_assert(memcmp(res.body, cat + 500, 104596) == 0);
    s3_result_cleanup(&res);
    store_close();
    ck_assert_uint_eq(a->refs, 1);
    free(cat);
    buf_unref(a);
    buf_unref(big);
}
END_TEST
static Suite *buf_suite(void)
{
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, buf_refs_share_one_copy);
    tcase_add_test(tc, buf_adopt_takes_the_block);
    tcase_add_test(tc, buf_slices_lie_within_the_written_bytes);
    tcase_add_test(tc, buf_every_write_moves_the_generation);
    tcase_add_test(tc, buf_memo_refuses_a_changed_buffer);
    tcase_add_test(tc, buf_take_pools_freed_buffers);
    tcase_add_test(tc, buf_pin_keeps_memory_but_not_bytes);
    tcase_add_test(tc, buf_recycler_reuses_sole_buffers);
    tcase_add_test(tc, cksum_buf_reuses_and_refuses);
    tcase_add_test(tc, cksum_compute_overwrites_out);
    tcase_add_test(tc, store_refuses_a_recycled_body_with_a_cached_checksum);
    tcase_add_test(tc, store_keeps_a_put_body_by_reference);
    tcase_add_test(tc, store_copies_a_pinned_body);
    tcase_add_test(tc, store_links_parts_and_shares_copies);
    tcase_add_test(tc, store_get_answers_a_shared_slice);
    tcase_add_test(tc, store_refuses_a_recycled_piece_with_a_cached_checksum);
    tcase_add_test(tc, store_keeps_pieces_by_reference_and_answers_them);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(buf_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
