/* test_shard.c - `s3sim run --shard K/N` (the split, the CI variables, the
 * timings file) and `s3sim merge` (the runs file, refusing partial merges,
 * reports equal to the unsharded run's). */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "err.h"
#include "report.h"
#include "run.h"
#include "rundump.h"
#include "shard.h"

/* A scenario of a few virtual seconds with two variants: 3 runs per seed. */
static const char tiny_scn[] =
    "scenario tiny\nseed 1\ndeadline 30s\nstreams 2\n"
    "fault put prob=20% status=500\n"
    "at 0s load rate=16KiB/s streams=all until=10s\n"
    "expect no-data-loss\n"
    "variant a\nset s3.wal.upload.interval.ms 2000\n"
    "variant b\nat 5s crash\n";

static char tmpdir[256];

static void mk_tmp(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_shard.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void rm_rf(const char *path)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    ck_assert_int_eq(system(cmd), 0);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf;
    long n;
    ck_assert_msg(f != NULL, "cannot read %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = calloc((size_t)n + 1, 1);
    ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return buf;
}

/* Runs the s3sim command line words (NULL-terminated) through cmd_run or cmd_merge. */
static int run_cmd(int (*fn)(int, char **), const char *const *words)
{
    char *argv[32];
    int argc = 0;
    for (; words[argc]; argc++)
        argv[argc] = (char *)words[argc];
    argv[argc] = NULL;
    fflush(stdout);
    return fn(argc, argv);
}

/* ---- the split ------------------------------------------------------------------------- */

START_TEST(parse_shard)
{
    struct shard_spec s;
    ck_assert_int_eq(shard_parse("1/1", &s), 0);
    ck_assert_uint_eq(s.k, 1);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_int_eq(shard_parse("3/7", &s), 0);
    ck_assert_uint_eq(s.k, 3);
    ck_assert_uint_eq(s.n, 7);
    const char *bad[] = {"0/4", "5/4", "1/0", "4", "/4", "1/", "a/4", "1/4x", "-1/4", "1/100001",
                         "", NULL};
    for (int i = 0; bad[i]; i++)
        ck_assert_msg(shard_parse(bad[i], &s) != 0, "accepted %s", bad[i]);
    ck_assert_int_ne(shard_parse(NULL, &s), 0);
}
END_TEST

static void clear_env(void)
{
    const char *v[] = {"TEST_SHARD_INDEX", "TEST_TOTAL_SHARDS", "TEST_SHARD_STATUS_FILE",
                       "CI_NODE_INDEX", "CI_NODE_TOTAL", "JOB_COMPLETION_INDEX", "S3SIM_SHARDS",
                       NULL};
    for (int i = 0; v[i]; i++)
        unsetenv(v[i]);
}

START_TEST(env_variables)
{
    struct shard_spec s;
    char why[256], status[300];
    struct stat st;
    clear_env();
    ck_assert_int_eq(shard_from_env(&s, why, sizeof why), 0);
    ck_assert_uint_eq(s.n, 0);

    /* Bazel: 0-based, and the status file is touched. */
    mk_tmp();
    snprintf(status, sizeof status, "%s/status", tmpdir);
    setenv("TEST_SHARD_INDEX", "2", 1), setenv("TEST_TOTAL_SHARDS", "3", 1);
    setenv("TEST_SHARD_STATUS_FILE", status, 1);
    ck_assert_int_eq(shard_from_env(&s, why, sizeof why), 0);
    ck_assert_uint_eq(s.k, 3);
    ck_assert_uint_eq(s.n, 3);
    ck_assert_int_eq(stat(status, &st), 0);
    setenv("TEST_SHARD_INDEX", "3", 1);
    ck_assert_int_ne(shard_from_env(&s, why, sizeof why), 0);
    ck_assert_ptr_nonnull(strstr(why, "TEST_SHARD_INDEX=3"));
    clear_env();
    rm_rf(tmpdir);

    /* GitLab: 1-based; CI_NODE_TOTAL=1 alone is a job without parallel:. */
    setenv("CI_NODE_INDEX", "1", 1), setenv("CI_NODE_TOTAL", "4", 1);
    ck_assert_int_eq(shard_from_env(&s, why, sizeof why), 0);
    ck_assert_uint_eq(s.k, 1);
    ck_assert_uint_eq(s.n, 4);
    setenv("CI_NODE_INDEX", "0", 1);
    ck_assert_int_ne(shard_from_env(&s, why, sizeof why), 0);
    unsetenv("CI_NODE_INDEX"), setenv("CI_NODE_TOTAL", "1", 1);
    ck_assert_int_eq(shard_from_env(&s, why, sizeof why), 0);
    ck_assert_uint_eq(s.n, 0);
    clear_env();

    /* Kubernetes Indexed Job: 0-based JOB_COMPLETION_INDEX, count in S3SIM_SHARDS. */
    setenv("JOB_COMPLETION_INDEX", "4", 1);
    ck_assert_int_eq(shard_from_env(&s, why, sizeof why), 0);
    ck_assert_uint_eq(s.n, 0); /* without S3SIM_SHARDS the index is not ours */
    setenv("S3SIM_SHARDS", "5", 1);
    ck_assert_int_eq(shard_from_env(&s, why, sizeof why), 0);
    ck_assert_uint_eq(s.k, 5);
    ck_assert_uint_eq(s.n, 5);
    setenv("S3SIM_SHARDS", "x", 1);
    ck_assert_int_ne(shard_from_env(&s, why, sizeof why), 0);
    clear_env();
}
END_TEST

/* Every run lands in exactly one shard, and (round-robin) shard sizes differ by at most one. */
START_TEST(split_round_robin)
{
    static const size_t sizes[] = {0, 1, 2, 6, 7, 22, 101};
    struct shard_key keys[101];
    unsigned of[101];
    for (size_t i = 0; i < 101; i++)
        keys[i] = (struct shard_key){"f.scn", "base", i};
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
        size_t n = sizes[si];
        for (unsigned ns = 1; ns <= 7; ns++) {
            size_t count[7] = {0}, seen[101] = {0};
            ck_assert_int_eq(shard_assign(keys, n, ns, NULL, of), 0);
            for (unsigned k = 0; k < ns; k++)
                for (size_t i = 0; i < n; i++)
                    if (of[i] == k)
                        seen[i]++, count[k]++;
            for (size_t i = 0; i < n; i++)
                ck_assert_msg(seen[i] == 1, "n=%zu N=%u: run %zu in %zu shards", n, ns, i,
                              seen[i]);
            for (unsigned k = 0; k < ns; k++)
                ck_assert(count[k] + 1 >= (n + ns - 1) / ns && count[k] <= (n + ns - 1) / ns);
        }
    }
}
END_TEST

START_TEST(split_timings_balanced)
{
    struct shard_key keys[40];
    char path[300], text[8192];
    size_t off;
    struct shard_timings t;
    char why[512];
    unsigned of[40];
    mk_tmp();
    snprintf(path, sizeof path, "%s/timings.tsv", tmpdir);
    off = (size_t)snprintf(text, sizeof text, "s3sim-timings 1\n");
    /* 30 of the 40 runs known: run i took i seconds (one long, many short). */
    for (int i = 0; i < 30; i++)
        off += (size_t)snprintf(text + off, sizeof text - off, "%d.5\tbase\t%d\tdir/f.scn\n", i, i);
    write_file(path, text);
    ck_assert_int_eq(shard_timings_load(path, &t, why, sizeof why), 0);
    ck_assert_uint_eq(t.n, 30);
    for (int i = 0; i < 40; i++)
        keys[i] = (struct shard_key){"dir/f.scn", "base", (uint64_t)i};
    ck_assert(shard_timings_get(&t, &keys[29]) == 29.5);
    ck_assert(shard_timings_get(&t, &keys[35]) < 0);
    for (unsigned ns = 1; ns <= 7; ns++) {
        double load[7] = {0}, mean = 0, max = 0, min = 1e9;
        size_t seen[40] = {0};
        for (int i = 0; i < 30; i++)
            mean += i + 0.5;
        mean /= 30;
        ck_assert_int_eq(shard_assign(keys, 40, ns, &t, of), 0);
        for (unsigned k = 0; k < ns; k++)
            for (int i = 0; i < 40; i++)
                if (of[i] == k) {
                    seen[i]++;
                    load[k] += i < 30 ? i + 0.5 : mean;
                }
        for (int i = 0; i < 40; i++)
            ck_assert_uint_eq(seen[i], 1);
        for (unsigned k = 0; k < ns; k++)
            max = load[k] > max ? load[k] : max, min = load[k] < min ? load[k] : min;
        /* LPT: loads differ by at most the longest run. */
        ck_assert_msg(max - min <= 29.5, "N=%u: loads %.1f..%.1f", ns, min, max);
    }
    shard_timings_free(&t);

    write_file(path, "s3sim-timings 1\n1.0\tbase\n");
    ck_assert_int_eq(shard_timings_load(path, &t, why, sizeof why), ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(why, ":2:1:"));
    write_file(path, "{\"format\": \"s3sim-results\"}\n");
    ck_assert_int_eq(shard_timings_load(path, &t, why, sizeof why), ERR_PARSE);
    write_file(path, "s3sim-timings 1\n-1\tbase\t1\tf.scn\n");
    ck_assert_int_eq(shard_timings_load(path, &t, why, sizeof why), ERR_PARSE);
    rm_rf(tmpdir);
    snprintf(path, sizeof path, "%s/none.tsv", tmpdir);
    ck_assert_int_eq(shard_timings_load(path, &t, why, sizeof why), ERR_IO);
}
END_TEST

/* The command: for N = 1..7, the runs of the N shards' runs.dat are exactly
 * the unsharded runs, each once, with the same verdict and trace. */
START_TEST(command_shards_cover_once)
{
    char scn[300], dir[300], sub[320], path[340], why[512];
    struct rundump all;
    mk_tmp();
    snprintf(scn, sizeof scn, "%s/tiny.scn", tmpdir);
    write_file(scn, tiny_scn);
    snprintf(dir, sizeof dir, "%s/all", tmpdir);
    clear_env();
    const char *w_all[] = {"run", scn, "--seeds", "1..4", "--quiet", "--report", dir, NULL};
    ck_assert_int_le(run_cmd(cmd_run, w_all), 1);
    snprintf(path, sizeof path, "%s/runs.dat", dir);
    ck_assert_int_eq(rundump_read(path, &all, why, sizeof why), 0);
    ck_assert_uint_eq(all.n, 12);
    ck_assert_uint_eq(all.head.total, 12);
    for (unsigned ns = 1; ns <= 7; ns++) {
        size_t seen[12] = {0};
        for (unsigned k = 1; k <= ns; k++) {
            char spec[16];
            struct rundump d;
            snprintf(spec, sizeof spec, "%u/%u", k, ns);
            snprintf(sub, sizeof sub, "%s/n%u-%u", tmpdir, ns, k);
            const char *w[] = {"run", scn, "--seeds", "1..4", "--quiet", "--shard", spec,
                               "--report", sub, NULL};
            ck_assert_int_le(run_cmd(cmd_run, w), 1);
            snprintf(path, sizeof path, "%s/runs.dat", sub);
            ck_assert_int_eq(rundump_read(path, &d, why, sizeof why), 0);
            ck_assert_uint_eq(d.head.total, 12);
            ck_assert_uint_eq(d.head.shard_k, k);
            ck_assert_uint_eq(d.head.shard_n, ns);
            for (size_t i = 0; i < d.n; i++) {
                size_t ix = d.idx[i];
                ck_assert_uint_lt(ix, 12);
                seen[ix]++;
                ck_assert_str_eq(d.runs[i].variant, all.runs[ix].variant);
                ck_assert_uint_eq(d.runs[i].seed, all.runs[ix].seed);
                ck_assert_int_eq(d.runs[i].verdict, all.runs[ix].verdict);
                ck_assert_str_eq(d.runs[i].trace_hex, all.runs[ix].trace_hex);
            }
            rundump_free(&d);
        }
        for (size_t i = 0; i < 12; i++)
            ck_assert_msg(seen[i] == 1, "N=%u: run %zu ran %zu times", ns, i, seen[i]);
    }
    rundump_free(&all);
    rm_rf(tmpdir);
}
END_TEST

/* ---- the runs file and merge ------------------------------------------------------------ */

static void fill_run(struct run_result *r, int i)
{
    char buf[64];
    memset(r, 0, sizeof *r);
    snprintf(buf, sizeof buf, "dir/f %d.scn", i);
    r->file = strdup(buf);
    r->scenario = strdup("tab\there \"q\" 100% ~x");
    r->variant = strdup(i % 2 ? "base" : "v");
    r->seed = (uint64_t)i * 1000003u;
    r->verdict = i == 1 ? RUN_FAIL : RUN_PASS;
    r->summary = i == 1 ? strdup("check=log: 3 lines\nmore") : NULL;
    r->replay = strdup("build/bin/s3sim replay x --seed 1");
    r->swarm = i == 1 ? strdup("") : NULL;
    snprintf(r->profile, sizeof r->profile, "%s", i == 2 ? "hardened" : "");
    snprintf(r->trace_hex, sizeof r->trace_hex, "%064x", i + 7);
    r->vtime_us = -5 + i;
    r->ops = 12;
    r->wall_seconds = 0.25 * i;
    r->hang = i == 1;
    r->last_progress_us = i == 1 ? 42 : -1;
    r->bytes_read = 1, r->bytes_written = UINT64_MAX;
    r->checks = calloc(2, sizeof *r->checks);
    r->nchecks = 2;
    r->checks[0] = (struct run_check){strdup("log"), strdup(""), true, false, true,
                                      strdup("\x01\xff bytes"), 7};
    r->checks[1] = (struct run_check){strdup("no-hang"), strdup("a b"), false, true, true, NULL, 0};
    r->metrics = calloc(1, sizeof *r->metrics);
    r->metric_names = calloc(1, sizeof *r->metric_names);
    r->metric_names[0] = strdup("s3.calls.put");
    r->metrics[0] = (struct run_metric){r->metric_names[0], -9};
    r->nmetrics = 1;
    r->waits = calloc(1, sizeof *r->waits);
    r->waits[0] = (struct run_wait){strdup("sso"), strdup("upload 3"), 5, 6};
    r->nwaits = 1;
    ck_assert_int_eq(run_result_event(r, 1, 2, RUN_LANE_S3, S3_OP_PUT, 0, FS3_EFF_STATUS, true,
                                      "key a/b"), 0);
    ck_assert_int_eq(run_result_event(r, 3, 3, RUN_LANE_CRASH, -1, -1, FS3_EFF_NONE, false, ""),
                     0);
    r->calls_by_op[S3_OP_PUT] = 11;
    r->faults_by_op[S3_OP_PUT][FS3_EFF_STATUS] = 2;
    r->calls_by_job[S3_JOB_COUNT - 1] = 4;
    r->coverage[FS3_EFF_STATUS][S3_OP_PUT][0] = 2;
    r->rpc_coverage[FS3_EFF_LOST][MDC_OP_COMMIT_STREAM][S3_JOB_STREAM_COMPACTION] = 3;
    r->calls_by_op_job[S3_OP_PUT][S3_JOB_COUNT - 1] = 11;
    r->stored_byte_seconds = 1234.5678901234567 * (i + 1);
}

START_TEST(runs_file_round_trip)
{
    struct run_result rs[3];
    struct run_result *p[3] = {&rs[0], &rs[1], &rs[2]};
    size_t idx[3] = {4, 0, 2};
    struct rundump_head h = {2, 3, 5, true};
    struct rundump d;
    char path[300], why[512];
    char *a, *b;
    FILE *f;
    mk_tmp();
    for (int i = 0; i < 3; i++)
        fill_run(&rs[i], i);
    snprintf(path, sizeof path, "%s/runs.dat", tmpdir);
    f = fopen(path, "w");
    ck_assert_int_eq(rundump_write(f, &h, p, idx, 3), 0);
    fclose(f);
    ck_assert_int_eq(rundump_read(path, &d, why, sizeof why), 0);
    ck_assert_uint_eq(d.n, 3);
    ck_assert_uint_eq(d.head.shard_k, 2);
    ck_assert_uint_eq(d.head.shard_n, 3);
    ck_assert_uint_eq(d.head.total, 5);
    ck_assert(d.head.report_all);
    ck_assert_uint_eq(d.idx[0], 4);
    ck_assert_uint_eq(d.idx[2], 2);
    /* Field by field through the results.json writer: the same text. */
    for (int i = 0; i < 3; i++) {
        struct run_result *x = &rs[i], *y = &d.runs[i];
        FILE *fa = open_memstream(&a, &(size_t){0}), *fb = open_memstream(&b, &(size_t){0});
        ck_assert_int_eq(rpt_results_json(fa, &x, 1), 0);
        ck_assert_int_eq(rpt_results_json(fb, &y, 1), 0);
        fclose(fa), fclose(fb);
        ck_assert_str_eq(a, b);
        free(a), free(b);
        ck_assert_uint_eq(y->nevents, 2);
        ck_assert_str_eq(y->events[0].label, "key a/b");
        ck_assert_int_eq(y->events[0].effect, FS3_EFF_STATUS);
        ck_assert(y->events[0].failed);
        ck_assert_uint_eq(y->coverage[FS3_EFF_STATUS][S3_OP_PUT][0], 2);
        ck_assert_uint_eq(
            y->rpc_coverage[FS3_EFF_LOST][MDC_OP_COMMIT_STREAM][S3_JOB_STREAM_COMPACTION], 3);
        ck_assert_uint_eq(y->bytes_written, UINT64_MAX);
        ck_assert_str_eq(y->scenario, x->scenario);
    }
    ck_assert_ptr_null(d.runs[0].swarm);
    ck_assert_str_eq(d.runs[1].swarm, "");
    ck_assert_str_eq(d.runs[1].summary, "check=log: 3 lines\nmore");
    rundump_free(&d);

    /* Broken files: FILE:LINE:1, never a crash. */
    static const char *const broken[] = {
        "", "s3sim-runs 2 shard 1 1 total 1 report-all 0\n",
        "s3sim-runs 1 shard 2 1 total 1 report-all 0\n",
        "s3sim-runs 1 shard 1 1 total 1 report-all 0\nrun 0 0 1 0 0 0 0 -1 0 0 ~\n",
        "s3sim-runs 1 shard 1 1 total 1 report-all 0\nrun 1 0 1 0 0 0 0 -1 0 0 ~\nend\n",
        "s3sim-runs 1 shard 1 1 total 1 report-all 0\nrun 0 0 1 0 0 0 0 -1 0 0 ~\nstr file %4\nend\n",
        "s3sim-runs 1 shard 1 1 total 1 report-all 0\nrun 0 0 1 0 0 0 0 -1 0 0 ~\n"
        "event 1 2 99 0 0 0 0 x\nend\n",
        "s3sim-runs 1 shard 1 1 total 1 report-all 0\nrun 0 0 1 0 0 0 0 -1 0 0 ~\nend\n",
        NULL};
    for (int i = 0; broken[i]; i++) {
        write_file(path, broken[i]);
        ck_assert_msg(rundump_read(path, &d, why, sizeof why) == ERR_PARSE, "broken %d", i);
        ck_assert_ptr_nonnull(strstr(why, "runs.dat:"));
    }
    for (int i = 0; i < 3; i++)
        run_result_free(&rs[i]);
    rm_rf(tmpdir);
}
END_TEST

static char *strip_times(char *s)
{
    /* results.json wall_seconds lines and junit time="..." attributes. */
    char *o = s, *w = s;
    while (*o) {
        if (strncmp(o, "time=\"", 6) == 0) {
            char *q = strchr(o + 6, '"');
            o = q ? q + 1 : o + 6;
            continue;
        }
        if (strncmp(o, "\"wall_seconds\": ", 16) == 0) {
            char *nl = strchr(o, '\n');
            o = nl ? nl : o + strlen(o);
            continue;
        }
        *w++ = *o++;
    }
    *w = '\0';
    return s;
}

/* Four shards merged give the unsharded reports (times aside); a missing or
 * repeated shard is refused. */
START_TEST(merge_equals_unsharded)
{
    static const char *const reports[] = {"results.json", "junit.xml", "coverage.json",
                                          "index.html", NULL};
    char scn[300], all[300], out[300], sh[4][300], path[400], path2[400];
    mk_tmp();
    clear_env();
    snprintf(scn, sizeof scn, "%s/tiny.scn", tmpdir);
    write_file(scn, tiny_scn);
    snprintf(all, sizeof all, "%s/all", tmpdir);
    snprintf(out, sizeof out, "%s/merged", tmpdir);
    const char *w_all[] = {"run", scn, "--seeds", "1..3", "--quiet", "--report", all, NULL};
    int rc_all = run_cmd(cmd_run, w_all);
    for (int k = 0; k < 4; k++) {
        char spec[8];
        snprintf(spec, sizeof spec, "%d/4", k + 1);
        snprintf(sh[k], sizeof sh[k], "%s/s%d", tmpdir, k + 1);
        const char *w[] = {"run", scn, "--seeds", "1..3", "--quiet", "--shard", spec,
                           "--report", sh[k], NULL};
        ck_assert_int_le(run_cmd(cmd_run, w), 1);
    }
    const char *w_merge[] = {"merge", sh[3], sh[1], sh[0], sh[2], "--report", out, "--quiet",
                             NULL};
    ck_assert_int_eq(run_cmd(cmd_merge, w_merge), rc_all);
    for (int i = 0; reports[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", all, reports[i]);
        snprintf(path2, sizeof path2, "%s/%s", out, reports[i]);
        char *a = strip_times(read_all(path)), *b = strip_times(read_all(path2));
        ck_assert_msg(strcmp(a, b) == 0, "%s differs", reports[i]);
        ck_assert(i >= 2 || strstr(a, "tiny") != NULL);
        free(a), free(b);
    }
    /* A shard missing, a shard twice, a directory without runs.dat. */
    const char *w_missing[] = {"merge", sh[0], sh[1], sh[2], "--report", out, NULL};
    ck_assert_int_eq(run_cmd(cmd_merge, w_missing), 2);
    const char *w_twice[] = {"merge", sh[0], sh[1], sh[2], sh[3], sh[3], "--report", out, NULL};
    ck_assert_int_eq(run_cmd(cmd_merge, w_twice), 2);
    const char *w_other[] = {"merge", all, sh[0], "--report", out, NULL};
    ck_assert_int_eq(run_cmd(cmd_merge, w_other), 2);
    const char *w_nodir[] = {"merge", tmpdir, "--report", out, NULL};
    ck_assert_int_eq(run_cmd(cmd_merge, w_nodir), 2);
    const char *w_noout[] = {"merge", all, NULL};
    ck_assert_int_eq(run_cmd(cmd_merge, w_noout), 2);
    rm_rf(tmpdir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("shard");
    TCase *tc = tcase_create("shard");
    SRunner *sr;
    int nf;
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, parse_shard);
    tcase_add_test(tc, env_variables);
    tcase_add_test(tc, split_round_robin);
    tcase_add_test(tc, split_timings_balanced);
    tcase_add_test(tc, command_shards_cover_once);
    tcase_add_test(tc, runs_file_round_trip);
    tcase_add_test(tc, merge_equals_unsharded);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf ? 1 : 0;
}
