/* test_cost.c - the price of a run (sim/cost.c): the default table, table
 * files, request and storage cost per op and per engine job, and what a real
 * run records for them. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cost.h"
#include "err.h"
#include "report.h"
#include "scn.h"
#include "tools.h"

#define NEAR(a, b) (fabs((a) - (b)) <= 1e-12 + 1e-9 * fabs(b))

START_TEST(default_table_is_aws_standard)
{
    struct cost_table t;
    cost_default(&t);
    ck_assert(NEAR(t.per_1000[S3_OP_PUT], 0.005));
    ck_assert(NEAR(t.per_1000[S3_OP_MPU_PART], 0.005));
    ck_assert(NEAR(t.per_1000[S3_OP_LIST], 0.005));
    ck_assert(NEAR(t.per_1000[S3_OP_GET], 0.0004));
    ck_assert(NEAR(t.per_1000[S3_OP_HEAD], 0.0004));
    ck_assert(t.per_1000[S3_OP_DELETE] == 0 && t.per_1000[S3_OP_DELETE_MANY] == 0 &&
              t.per_1000[S3_OP_MPU_ABORT] == 0);
    ck_assert(NEAR(t.storage_gb_month, 0.023));
}
END_TEST

START_TEST(cost_by_op_and_job)
{
    struct run_result r = {0};
    struct cost_table t;
    struct run_cost c;
    cost_default(&t);
    r.calls_by_op[S3_OP_PUT] = 2000;
    r.calls_by_op_job[S3_OP_PUT][S3_JOB_WAL_UPLOAD] = 1500;
    r.calls_by_op_job[S3_OP_PUT][S3_JOB_SSO_COMPACTION] = 500;
    r.calls_by_op[S3_OP_GET] = 10000;
    r.calls_by_op_job[S3_OP_GET][S3_JOB_READER] = 10000;
    r.calls_by_op[S3_OP_DELETE_MANY] = 7;
    r.calls_by_op_job[S3_OP_DELETE_MANY][S3_JOB_CLEANER] = 7;
    /* 2 GiB kept for one 730-hour month: 2 GB-months. */
    r.stored_byte_seconds = 2.0 * 1024 * 1024 * 1024 * 730 * 3600;
    cost_of(&r, &t, &c);
    ck_assert(NEAR(c.by_op[S3_OP_PUT], 0.01));
    ck_assert(NEAR(c.by_op[S3_OP_GET], 0.004));
    ck_assert(c.by_op[S3_OP_DELETE_MANY] == 0);
    ck_assert(NEAR(c.requests, 0.014));
    ck_assert(NEAR(c.by_job[S3_JOB_WAL_UPLOAD], 0.0075));
    ck_assert(NEAR(c.by_job[S3_JOB_SSO_COMPACTION], 0.0025));
    ck_assert(NEAR(c.by_job[S3_JOB_READER], 0.004));
    ck_assert(c.by_job[S3_JOB_CLEANER] == 0);
    ck_assert(NEAR(c.gb_months, 2.0));
    ck_assert(NEAR(c.storage, 0.046));
}
END_TEST

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(table_files)
{
    char path[] = "/tmp/test_cost.XXXXXX";
    char why[512];
    struct cost_table t;
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    write_file(path, "# a cheaper store\nname cheap-store\nstorage 0.01\n"
                     "request put 0.001   # per 1,000\nrequest get 0\n");
    ck_assert_int_eq(cost_load(path, &t, why, sizeof why), 0);
    ck_assert_str_eq(t.name, "cheap-store");
    ck_assert(NEAR(t.storage_gb_month, 0.01));
    ck_assert(NEAR(t.per_1000[S3_OP_PUT], 0.001));
    ck_assert(t.per_1000[S3_OP_MPU_PART] == 0); /* not named: free */
    write_file(path, "name x\nrequest putt 0.1\n");
    ck_assert_int_eq(cost_load(path, &t, why, sizeof why), ERR_PARSE);
    ck_assert_msg(strstr(why, ":2:9: unknown op 'putt'") != NULL, "%s", why);
    write_file(path, "storage -1\n");
    ck_assert_int_eq(cost_load(path, &t, why, sizeof why), ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(why, ":1:9:"));
    write_file(path, "request put 0.1 extra\n");
    ck_assert_int_eq(cost_load(path, &t, why, sizeof why), ERR_PARSE);
    write_file(path, "price put 1\n");
    ck_assert_int_eq(cost_load(path, &t, why, sizeof why), ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(why, ":1:1:"));
    unlink(path);
    ck_assert_int_eq(cost_load(path, &t, why, sizeof why), ERR_IO);
}
END_TEST

/* A real run: every call is counted by (op, job), the bucket's bytes are
 * integrated, and results.json carries the cost under the table in use. */
START_TEST(real_run_records_cost)
{
    static const char text[] =
        "scenario priced\nseed 3\ndeadline 2m\nset s3.wal.upload.interval.ms 2000\nstreams 2\n"
        "at 0s load rate=64KiB/s streams=all until=1m\nexpect no-data-loss\n";
    struct scn_file *f = NULL;
    struct scn_spec sp;
    struct scn_error e;
    struct run_result r = {0};
    struct run_cost c;
    struct run_result *rp = &r;
    uint64_t sum = 0;
    char *json = NULL;
    size_t len = 0;
    FILE *mf;
    ck_assert_int_eq(scn_parse_buf("priced.scn", text, strlen(text), &f, &e), 0);
    ck_assert_int_eq(scn_resolve(f, NULL, NULL, 0, &sp, &e), 0);
    ck_assert_int_eq(tools_run(&sp, "priced.scn", NULL, &r), 0);
    for (int op = 0; op < S3_OP_COUNT; op++) {
        uint64_t row = 0;
        for (int j = 0; j < S3_JOB_COUNT; j++)
            row += r.calls_by_op_job[op][j];
        ck_assert_uint_eq(row, r.calls_by_op[op]);
        sum += row;
    }
    ck_assert_uint_eq(sum, r.ops);
    ck_assert_uint_gt(r.calls_by_op_job[S3_OP_PUT][S3_JOB_WAL_UPLOAD] +
                          r.calls_by_op_job[S3_OP_MPU_PART][S3_JOB_WAL_UPLOAD], 0);
    /* About 64KiB/s x 2 streams x 60 s written, kept for the rest of the run. */
    ck_assert(r.stored_byte_seconds > 1e6 && r.stored_byte_seconds < 120.0 * 8e6 * 2);
    cost_use(NULL);
    cost_of(&r, cost_current(), &c);
    ck_assert(c.requests > 0 && c.storage > 0);
    mf = open_memstream(&json, &len);
    ck_assert_int_eq(rpt_results_json(mf, &rp, 1), 0);
    fclose(mf);
    ck_assert_ptr_nonnull(strstr(json, "\"cost\": {\"table\": \"aws-s3-standard-us-east-1\""));
    ck_assert_ptr_nonnull(strstr(json, "\"requests_by_job\": {"));
    free(json);
    run_result_free(&r);
    scn_spec_free(&sp);
    scn_free(f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cost");
    TCase *tc = tcase_create("cost");
    SRunner *sr;
    int nf;
    tcase_add_test(tc, default_table_is_aws_standard);
    tcase_add_test(tc, cost_by_op_and_job);
    tcase_add_test(tc, table_files);
    tcase_add_test(tc, real_run_records_cost);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? 1 : 0;
}
