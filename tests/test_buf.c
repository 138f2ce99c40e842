/* test_buf.c - shared, reference-counted buffers (src/base/buf.h): sharing,
 * slicing (a range within the written bytes), the write generation, the memo,
 * and the checksum cache built on it (s3_checksum_buf) refusing a buffer
 * changed since, down to the fake S3 answering BadDigest for a recycled
 * body (field bug F13's model) instead of trusting a cached checksum. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
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

static Suite *buf_suite(void)
{
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, buf_refs_share_one_copy);
    tcase_add_test(tc, buf_adopt_takes_the_block);
    tcase_add_test(tc, buf_slices_lie_within_the_written_bytes);
    tcase_add_test(tc, buf_every_write_moves_the_generation);
    tcase_add_test(tc, buf_memo_refuses_a_changed_buffer);
    tcase_add_test(tc, cksum_buf_reuses_and_refuses);
    tcase_add_test(tc, store_refuses_a_recycled_body_with_a_cached_checksum);
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
