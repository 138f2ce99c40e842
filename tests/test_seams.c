/* test_seams.c - the seam helpers: err.h's table, env.h's helpers, s3.h's
 * name tables, default codes and checksums (known vectors). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "err.h"
#include "s3.h"

/* ---- err ------------------------------------------------------------------------------ */

START_TEST(seams_err_table)
{
    ck_assert_str_eq(err_name(ERR_OK), "ERR_OK");
    ck_assert_str_eq(err_name(ERR_TIMEOUT), "ERR_TIMEOUT");
    ck_assert_str_eq(err_str(ERR_NOMEM), "out of memory");
    ck_assert_str_eq(err_name(-9999), "ERR_UNKNOWN");
    ck_assert_str_eq(err_str(12345), "unknown error");
}
END_TEST

/* ---- env helpers over a stub env ------------------------------------------------------- */

struct stub {
    uint64_t next;
    int logs, waits, updates, ends, traces;
    char last[256];
};

static uint64_t stub_random(struct env *e) { return ((struct stub *)e->impl)->next; }

static void stub_log(struct env *e, enum env_level l, const char *c, const char *line)
{
    struct stub *s = e->impl;
    s->logs++;
    snprintf(s->last, sizeof s->last, "%s %s %s", env_level_name(l), c, line);
}

static env_id stub_wait_begin(struct env *e, const char *who, const char *what)
{
    struct stub *s = e->impl;
    s->waits++;
    snprintf(s->last, sizeof s->last, "%s: %s", who, what);
    return 7;
}

static void stub_wait_update(struct env *e, env_id id, const char *what)
{
    struct stub *s = e->impl;
    s->updates += id == 7;
    snprintf(s->last, sizeof s->last, "%s", what);
}

static void stub_wait_end(struct env *e, env_id id) { ((struct stub *)e->impl)->ends += id == 7; }

static void stub_trace(struct env *e, const char *line)
{
    struct stub *s = e->impl;
    s->traces++;
    snprintf(s->last, sizeof s->last, "%s", line);
}

START_TEST(seams_env_helpers_format_and_forward)
{
    struct stub s = {0};
    struct env e = {.impl = &s, .random = stub_random, .log = stub_log,
                    .wait_begin = stub_wait_begin, .wait_update = stub_wait_update,
                    .wait_end = stub_wait_end, .trace = stub_trace};
    env_logf(&e, ENV_LOG_WARN, "cleaner", "deleted %d of %d", 3, 4);
    ck_assert_str_eq(s.last, "warn cleaner deleted 3 of 4");
    env_id id = env_wait_beginf(&e, "wal upload 1", "put of %s", "k");
    ck_assert_uint_eq(id, 7);
    ck_assert_str_eq(s.last, "wal upload 1: put of k");
    env_wait_updatef(&e, id, "attempt %d", 2);
    ck_assert_str_eq(s.last, "attempt 2");
    env_wait_updatef(&e, 0, "ignored");
    env_wait_end(&e, id);
    env_wait_end(&e, 0);
    ck_assert_int_eq(s.updates, 1);
    ck_assert_int_eq(s.ends, 1);
    env_tracef(&e, "commit sso=%d", 12);
    ck_assert_str_eq(s.last, "commit sso=12");
    /* rand_below: the high bits of x * n; n = 0 gives 0. */
    s.next = UINT64_MAX;
    ck_assert_uint_eq(env_rand_below(&e, 10), 9);
    ck_assert_uint_eq(env_rand_below(&e, 0), 0);
    s.next = 0;
    ck_assert(env_rand_unit(&e) == 0.0);
    /* Without sinks the helpers do nothing. */
    struct env bare = {.impl = &s};
    env_logf(&bare, ENV_LOG_INFO, "x", "y");
    ck_assert_uint_eq(env_wait_beginf(&bare, "a", "b"), 0);
    env_wait_updatef(&bare, 3, "c");
    env_tracef(&bare, "d");
    ck_assert_int_eq(s.logs, 1);
    ck_assert_str_eq(env_level_name(ENV_LOG_DEBUG), "debug");
    ck_assert_str_eq(env_level_name((enum env_level)42), "?");
}
END_TEST

START_TEST(seams_env_formats_durations_and_sizes)
{
    char b[32];
    ck_assert_str_eq(env_fmt_duration(0, b, sizeof b), "0s");
    ck_assert_str_eq(env_fmt_duration(250 * ENV_USEC_PER_MS, b, sizeof b), "250ms");
    ck_assert_str_eq(env_fmt_duration(1500 * ENV_USEC_PER_MS, b, sizeof b), "1.500s");
    ck_assert_str_eq(env_fmt_duration(45 * ENV_USEC_PER_SEC, b, sizeof b), "45s");
    ck_assert_str_eq(env_fmt_duration(12 * ENV_USEC_PER_MIN + 31 * ENV_USEC_PER_SEC, b, sizeof b),
                     "12m31s");
    ck_assert_str_eq(env_fmt_duration(30 * ENV_USEC_PER_MIN, b, sizeof b), "30m00s");
    ck_assert_str_eq(env_fmt_duration(ENV_USEC_PER_HOUR + 2 * ENV_USEC_PER_MIN + 3 * ENV_USEC_PER_SEC,
                                      b, sizeof b), "1h02m03s");
    ck_assert_str_eq(env_fmt_duration(-1, b, sizeof b), "-");
    ck_assert_str_eq(env_fmt_size(512, b, sizeof b), "512B");
    ck_assert_str_eq(env_fmt_size(1536, b, sizeof b), "1.5KiB");
    ck_assert_str_eq(env_fmt_size(5u << 20, b, sizeof b), "5.0MiB");
    ck_assert_str_eq(env_fmt_size(UINT64_C(3) << 40, b, sizeof b), "3.0TiB");
}
END_TEST

/* ---- s3 tables and checksums ------------------------------------------------------------ */

START_TEST(seams_s3_names_round_trip)
{
    for (int op = 0; op < S3_OP_COUNT; op++)
        ck_assert_int_eq(s3_op_parse(s3_op_name((enum s3_op)op)), op);
    ck_assert_int_eq(s3_op_parse("bogus"), -1);
    ck_assert_str_eq(s3_op_name(S3_OP_DELETE_MANY), "delete-many");
    ck_assert_str_eq(s3_op_name((enum s3_op)99), "?");
    for (int c = 1; c < S3E_COUNT; c++)
        ck_assert_int_eq(s3_code_parse(s3_code_name((enum s3_code)c)), c);
    ck_assert_int_eq(s3_code_parse("NoSuchThing"), S3E_OTHER);
    ck_assert_int_eq(s3_code_parse(""), S3E_NONE);
    ck_assert_int_eq(s3_code_parse(NULL), S3E_NONE);
    ck_assert_str_eq(s3_code_name((enum s3_code)999), "UnknownError");
    ck_assert_str_eq(s3_job_name(S3_JOB_CLEANER), "cleaner");
    ck_assert_str_eq(s3_job_name((enum s3_job)77), "?");
    ck_assert_int_eq(s3_cksum_parse("crc32c"), S3_CKSUM_CRC32C);
    ck_assert_int_eq(s3_cksum_parse("sha1"), S3_CKSUM_SHA1);
    ck_assert_int_eq(s3_cksum_parse("crc64nvme"), S3_CKSUM_CRC64NVME);
    ck_assert_int_eq(s3_cksum_parse("sha512"), -1);
    ck_assert_str_eq(s3_cksum_name(S3_CKSUM_SHA256), "SHA256");
    ck_assert_str_eq(s3_cksum_name((enum s3_cksum)9), "?");
}
END_TEST

START_TEST(seams_s3_default_codes)
{
    ck_assert_int_eq(s3_default_code(S3_OP_GET, 404), S3E_NO_SUCH_KEY);
    ck_assert_int_eq(s3_default_code(S3_OP_MPU_PART, 404), S3E_NO_SUCH_UPLOAD);
    ck_assert_int_eq(s3_default_code(S3_OP_MPU_COMPLETE, 404), S3E_NO_SUCH_UPLOAD);
    ck_assert_int_eq(s3_default_code(S3_OP_PUT, 403), S3E_ACCESS_DENIED);
    ck_assert_int_eq(s3_default_code(S3_OP_PUT, 500), S3E_INTERNAL_ERROR);
    ck_assert_int_eq(s3_default_code(S3_OP_PUT, 503), S3E_SLOW_DOWN);
    ck_assert_int_eq(s3_default_code(S3_OP_PUT, 400), S3E_INVALID_REQUEST);
    /* Conditional writes: 409 on a write is ConditionalRequestConflict, 412
     * PreconditionFailed anywhere, 304 an answer rather than an error. */
    ck_assert_int_eq(s3_default_code(S3_OP_PUT, 409), S3E_CONDITIONAL_CONFLICT);
    ck_assert_int_eq(s3_default_code(S3_OP_MPU_COMPLETE, 409), S3E_CONDITIONAL_CONFLICT);
    ck_assert_int_eq(s3_default_code(S3_OP_GET, 409), S3E_OTHER);
    ck_assert_int_eq(s3_default_code(S3_OP_PUT, 412), S3E_PRECONDITION_FAILED);
    ck_assert_int_eq(s3_default_code(S3_OP_GET, 412), S3E_PRECONDITION_FAILED);
    ck_assert_int_eq(s3_default_code(S3_OP_GET, 304), S3E_NONE);
    ck_assert_int_eq(s3_default_code(S3_OP_PUT, 200), S3E_NONE);
    struct s3_result ok = {.transport = S3_TR_OK, .status = 204};
    ck_assert(s3_result_ok(&ok));
    ok.code = S3E_INTERNAL_ERROR; /* 200 with an error body */
    ck_assert(!s3_result_ok(&ok));
    struct s3_result lost = {.transport = S3_TR_TIMEOUT};
    ck_assert(!s3_result_ok(&lost));
}
END_TEST

START_TEST(seams_s3_checksums_known_vectors)
{
    const uint8_t *v = (const uint8_t *)"123456789";
    struct s3_checksum c, d;
    s3_checksum_compute(S3_CKSUM_CRC32C, v, 9, &c);
    ck_assert_uint_eq(c.len, 4);
    ck_assert_uint_eq((uint32_t)c.value[0] << 24 | c.value[1] << 16 | c.value[2] << 8 | c.value[3],
                      0xe3069283u);
    s3_checksum_compute(S3_CKSUM_CRC32, v, 9, &c);
    ck_assert_uint_eq((uint32_t)c.value[0] << 24 | c.value[1] << 16 | c.value[2] << 8 | c.value[3],
                      0xcbf43926u);
    /* The CRC catalogue's check value of CRC-64/NVME; SHA-1("abc") of FIPS 180. */
    s3_checksum_compute(S3_CKSUM_CRC64NVME, v, 9, &c);
    ck_assert_uint_eq(c.len, 8);
    ck_assert_uint_eq((uint64_t)c.value[0] << 56 | (uint64_t)c.value[1] << 48 |
                          (uint64_t)c.value[2] << 40 | (uint64_t)c.value[3] << 32 |
                          (uint64_t)c.value[4] << 24 | (uint64_t)c.value[5] << 16 |
                          (uint64_t)c.value[6] << 8 | c.value[7],
                      UINT64_C(0xae8b14860a799888));
    s3_checksum_compute(S3_CKSUM_SHA1, (const uint8_t *)"abc", 3, &c);
    ck_assert_uint_eq(c.len, 20);
    ck_assert_uint_eq(c.value[0], 0xa9);
    ck_assert_uint_eq(c.value[19], 0x9d);
    s3_checksum_compute(S3_CKSUM_SHA256, (const uint8_t *)"abc", 3, &c);
    ck_assert_uint_eq(c.len, 32);
    ck_assert_uint_eq(c.value[0], 0xba);
    ck_assert_uint_eq(c.value[31], 0xad);
    s3_checksum_compute(S3_CKSUM_MD5, (const uint8_t *)"", 0, &c);
    ck_assert_uint_eq(c.len, 16);
    ck_assert_uint_eq(c.value[0], 0xd4);
    s3_checksum_compute(S3_CKSUM_MD5, (const uint8_t *)"", 0, &d);
    ck_assert(s3_checksum_equal(&c, &d));
    d.value[3] ^= 1;
    ck_assert(!s3_checksum_equal(&c, &d));
    s3_checksum_compute(S3_CKSUM_NONE, v, 9, &c);
    ck_assert_uint_eq(c.len, 0);
    char etag[S3_ETAG_MAX];
    s3_etag_md5((const uint8_t *)"", 0, etag);
    ck_assert_str_eq(etag, "\"d41d8cd98f00b204e9800998ecf8427e\"");
}
END_TEST

START_TEST(seams_s3_result_cleanup_frees_everything)
{
    struct s3_result r = {0};
    r.body = malloc(10);
    r.body_len = 10;
    r.entries = calloc(2, sizeof *r.entries);
    r.nentries = 2;
    r.entries[0].key = strdup("a");
    r.entries[1].key = strdup("b");
    r.entries[1].upload_id = strdup("u");
    r.deleted = calloc(1, sizeof *r.deleted);
    r.ndeleted = 1;
    s3_result_cleanup(&r);
    ck_assert_ptr_null(r.body);
    ck_assert_ptr_null(r.entries);
    ck_assert_ptr_null(r.deleted);
    ck_assert_uint_eq(r.nentries + r.ndeleted + r.body_len, 0);
    s3_result_cleanup(&r); /* idempotent */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("seams");
    TCase *tc = tcase_create("seams");
    tcase_add_test(tc, seams_err_table);
    tcase_add_test(tc, seams_env_helpers_format_and_forward);
    tcase_add_test(tc, seams_env_formats_durations_and_sizes);
    tcase_add_test(tc, seams_s3_names_round_trip);
    tcase_add_test(tc, seams_s3_default_codes);
    tcase_add_test(tc, seams_s3_checksums_known_vectors);
    tcase_add_test(tc, seams_s3_result_cleanup_frees_everything);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
