/*
 * test_report.c - the reports (sim/report*.c): results.json, junit.xml,
 * index.html, coverage.json.
 *
 * Sections: fixture (run results built by hand: a pass, a failure, a hang with
 * waits, 100 000 calls over 24 h, nasty strings), helpers (files, expat,
 * python3's json module), tests.
 */
#include <check.h>
#include <errno.h>
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "report.h"
#include "report_int.h"
#include "result.h"

/* ---- fixture ------------------------------------------------------------ */

/* A string with everything that breaks a naive writer: quotes, markup, a
 * backslash, control characters, tab and newline, UTF-8 (2, 3, 4 bytes), an
 * invalid byte, a CDATA end and an XML comment end. */
#define NASTY                                                                                      \
    "q\"<&>'\\ \x01\x1f\t\n \xc3\xa9\xe6\x97\xa5\xe6\x9c\xac\xf0\x9f\x99\x82 \xff ]]> -- end"

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    ck_assert_ptr_nonnull(p);
    return p;
}

static struct run_result *run_new(const char *file, const char *scn, const char *variant,
                                  uint64_t seed, enum run_verdict v)
{
    struct run_result *r = calloc(1, sizeof *r);
    ck_assert_ptr_nonnull(r);
    r->file = xstrdup(file);
    r->scenario = xstrdup(scn);
    r->variant = xstrdup(variant);
    r->seed = seed;
    r->verdict = v;
    r->summary =
        xstrdup(v == RUN_PASS ? "" : "check=log: 14 error lines match \"Delete\" (want 0)");
    char replay[512];
    snprintf(replay, sizeof replay, "build/bin/s3sim replay %s --variant %s --seed %llu", file,
             variant, (unsigned long long)seed);
    r->replay = xstrdup(replay);
    snprintf(r->trace_hex, sizeof r->trace_hex, "%s",
             "9c41d0e2a7b3e0f1d2c3b4a5968778695a4b3c2d1e0f9e8d7c6b5a4938271605");
    r->vtime_us = INT64_C(1800000000);
    r->wall_seconds = 0.25;
    r->last_progress_us = -1;
    return r;
}

static void run_check(struct run_result *r, const char *name, const char *args, bool xfail,
                      bool held, const char *detail, int line)
{
    struct run_check *c = realloc(r->checks, (r->nchecks + 1) * sizeof *c);
    ck_assert_ptr_nonnull(c);
    r->checks = c;
    c = &r->checks[r->nchecks++];
    c->name = xstrdup(name);
    c->args = xstrdup(args);
    c->expect_fail = xfail;
    c->held = held;
    c->ok = held != xfail;
    c->detail = xstrdup(detail);
    c->line = line;
}

static void run_metric(struct run_result *r, const char *name, int64_t value)
{
    struct run_metric *m = realloc(r->metrics, (r->nmetrics + 1) * sizeof *m);
    ck_assert_ptr_nonnull(m);
    r->metrics = m;
    char **n = realloc(r->metric_names, (r->nmetrics + 1) * sizeof *n);
    ck_assert_ptr_nonnull(n);
    r->metric_names = n;
    n[r->nmetrics] = xstrdup(name);
    m[r->nmetrics].name = n[r->nmetrics];
    m[r->nmetrics].value = value;
    r->nmetrics++;
}

static void run_wait(struct run_result *r, const char *who, const char *what, int64_t since)
{
    struct run_wait *w = realloc(r->waits, (r->nwaits + 1) * sizeof *w);
    ck_assert_ptr_nonnull(w);
    r->waits = w;
    w = &r->waits[r->nwaits++];
    w->who = xstrdup(who);
    w->what = xstrdup(what);
    w->since_us = since;
    w->age_us = r->vtime_us - since;
    /* sim/check.c also puts each pending wait on the wait lane. */
    ck_assert_int_eq(
        run_result_event(r, since, r->vtime_us, RUN_LANE_WAIT, -1, -1, FS3_EFF_NONE, true, who), 0);
}

/* Counts one S3 call on every counter and adds its timeline mark. */
static void run_call(struct run_result *r, int64_t t, enum s3_op op, enum s3_job job, int effect,
                     bool failed, const char *key)
{
    r->ops++;
    r->calls_by_op[op]++;
    r->calls_by_job[job]++;
    r->faults_by_op[op][effect] += effect != FS3_EFF_NONE;
    r->coverage[effect][op][job]++;
    char label[300]; /* as sim/world.c labels a call: "op key" */
    snprintf(label, sizeof label, "%s %s", s3_op_name(op), key);
    ck_assert_int_eq(run_result_event(r, t, t + 20000, RUN_LANE_S3, op, job, effect, failed, label),
                     0);
}

static struct run_result *run_pass(void)
{
    struct run_result *r = run_new("scenarios/field/composite-delete-404.scn",
                                   "composite-delete-404", "base", 42, RUN_PASS);
    run_check(r, "no-hang", "", false, true, "no wait pending", 0);
    run_check(r, "log", "error match=\"Delete composite object\" count == 0", false, true,
              "0 lines", 12);
    run_metric(r, "s3.calls", 3);
    /* two sends of a commit of SSO compaction, one lost, one answered an error */
    run_metric(r, "rpc.calls.commit-sso", 2);
    r->rpc_coverage[FS3_EFF_LOST][MDC_OP_COMMIT_SSO][S3_JOB_SSO_COMPACTION] = 1;
    r->rpc_coverage[FS3_EFF_STATUS][MDC_OP_COMMIT_SSO][S3_JOB_SSO_COMPACTION] = 1;
    run_call(r, 1000000, S3_OP_PUT, S3_JOB_WAL_UPLOAD, FS3_EFF_NONE, false, "wal/1");
    run_call(r, 2000000, S3_OP_GET, S3_JOB_READER, FS3_EFF_NONE, false, "wal/1");
    run_call(r, 3000000, S3_OP_DELETE, S3_JOB_CLEANER, FS3_EFF_STATUS, true, "wal/1");
    ck_assert_int_eq(
        run_result_event(r, 900000, 1100000, RUN_LANE_WAL, -1, -1, 0, false, "upload 1"), 0);
    return r;
}

static struct run_result *run_fail(void)
{
    struct run_result *r = run_new("scenarios/field/composite-delete-404.scn",
                                   "composite-delete-404", "field-bug", 42, RUN_FAIL);
    run_check(r, "no-hang", "", false, true, "no wait pending", 0);
    run_check(r, "log", "error match=\"Delete composite object\" count == 0", false, false,
              "14 error lines match \"Delete composite object\" (want 0)", 12);
    run_metric(r, "cleaner.failures", 14);
    for (int i = 0; i < 30; i++)
        run_call(r, INT64_C(60000000) * i, i % 3 ? S3_OP_DELETE : S3_OP_DELETE_MANY, S3_JOB_CLEANER,
                 i % 2 ? FS3_EFF_STATUS : FS3_EFF_NONE, i % 2, "obj/7");
    ck_assert_int_eq(run_result_event(r, 600000000, 660000000, RUN_LANE_SSO, -1, -1, 0, true,
                                      "compaction run 3"),
                     0);
    ck_assert_int_eq(
        run_result_event(r, 700000000, 700000000, RUN_LANE_CRASH, -1, -1, 0, false, "crash broker"),
        0);
    return r;
}

static struct run_result *run_hang(void)
{
    struct run_result *r = run_new("scenarios/field/f01-parked-blocks.scn", "f01-parked-blocks",
                                   "field-bug", 7, RUN_FAIL);
    r->hang = true;
    r->last_progress_us = INT64_C(600000000);
    run_check(r, "no-hang", "", false, false, "3 waits pending, oldest for 20m00s", 0);
    run_wait(r, "compaction run 3, plan 2", "2 parked blocks of object 1042", 600000000);
    run_wait(r, "compaction run 3", "plan 2 to finish", 590000000);
    run_wait(r, "sso compaction", "run 3 to commit", 580000000);
    run_call(r, 500000000, S3_OP_MPU_CREATE, S3_JOB_SSO_COMPACTION, FS3_EFF_NONE, false, "o/1042");
    run_call(r, 550000000, S3_OP_MPU_PART, S3_JOB_SSO_COMPACTION, FS3_EFF_TIMEOUT, true, "o/1042");
    return r;
}

/* 100 000 S3 calls over 24 h of virtual time, with faults and engine steps. */
static struct run_result *run_dense(void)
{
    static const enum s3_op ops[] = {S3_OP_PUT, S3_OP_GET, S3_OP_MPU_PART, S3_OP_DELETE_MANY};
    struct run_result *r = run_new("scenarios/soak/day.scn", "day", "base", 1, RUN_FAIL);
    char key[32];

    r->vtime_us = INT64_C(86400000000);
    run_check(r, "converged", "", false, false, "never quiescent", 4);
    for (int i = 0; i < 100000; i++) {
        snprintf(key, sizeof key, "obj/%06d", i);
        run_call(r, INT64_C(864000) * i, ops[i % 4], (enum s3_job)(1 + i % 5),
                 i % 97 == 0 ? FS3_EFF_STATUS : FS3_EFF_NONE, i % 50 == 0, key);
    }
    for (int i = 0; i < 1440; i++) {
        ck_assert_int_eq(run_result_event(r, INT64_C(60000000) * i, INT64_C(60000000) * i + 800000,
                                          RUN_LANE_WAL, -1, -1, 0, false, "upload"),
                         0);
        ck_assert_int_eq(run_result_event(r, INT64_C(60000000) * i + 5, INT64_C(60000000) * i + 5,
                                          RUN_LANE_CLEANER, -1, -1, 0, i % 100 == 0, "delete"),
                         0);
    }
    for (int i = 0; i < 288; i++)
        ck_assert_int_eq(run_result_event(r, INT64_C(300000000) * i,
                                          INT64_C(300000000) * i + 120000000, RUN_LANE_SSO, -1, -1,
                                          0, false, "plan"),
                         0);
    return r;
}

static struct run_result *run_nasty(void)
{
    struct run_result *r = run_new("scenarios/" NASTY ".scn", NASTY, NASTY, 7, RUN_FAIL);
    free(r->summary);
    r->summary = xstrdup("check=" NASTY);
    run_check(r, NASTY, NASTY, true, true, NASTY, 3);
    run_metric(r, NASTY, -5);
    run_wait(r, NASTY, NASTY, 1000);
    r->swarm = xstrdup(NASTY);
    run_call(r, 5, S3_OP_HEAD, S3_JOB_OTHER, FS3_EFF_STALE, false, NASTY);
    return r;
}

struct runs {
    struct run_result *v[5];
    size_t n;
};

static void runs_std(struct runs *rs)
{
    rs->v[0] = run_pass();
    rs->v[1] = run_fail();
    rs->v[2] = run_hang();
    rs->v[3] = run_nasty();
    rs->n = 4;
}

static void runs_free(struct runs *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        run_result_free(rs->v[i]);
        free(rs->v[i]);
    }
}

/* ---- helpers ------------------------------------------------------------ */

static char tmpdir[64];

static void tmp_setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_report_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void tmp_teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
}

static char *path_of(const char *dir, const char *name)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

/* Reads a whole file (NUL-terminated); *len gets its size. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* What expat saw in junit.xml. */
struct jx {
    int suites, cases, failures, errors;
    long tests_attr;      /* <testsuites tests=...> */
    char first_case[64];  /* name of the first testcase */
    char nasty_case[256]; /* the testcase name that starts with 'q' */
    char fail_msg[512];   /* message of the first failure */
};

static void jx_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
    struct jx *x = arg;
    const char *tname = NULL, *msg = NULL;

    for (int i = 0; attrs[i]; i += 2) {
        if (strcmp(attrs[i], "name") == 0)
            tname = attrs[i + 1];
        if (strcmp(attrs[i], "message") == 0)
            msg = attrs[i + 1];
        if (strcmp(name, "testsuites") == 0 && strcmp(attrs[i], "tests") == 0)
            x->tests_attr = strtol(attrs[i + 1], NULL, 10);
    }
    if (strcmp(name, "testsuite") == 0)
        x->suites++;
    if (strcmp(name, "testcase") == 0) {
        if (x->cases++ == 0)
            snprintf(x->first_case, sizeof x->first_case, "%s", tname ? tname : "");
        if (tname && tname[0] == 'q')
            snprintf(x->nasty_case, sizeof x->nasty_case, "%s", tname);
    }
    if (strcmp(name, "failure") == 0 && x->failures++ == 0)
        snprintf(x->fail_msg, sizeof x->fail_msg, "%s", msg ? msg : "");
    if (strcmp(name, "error") == 0)
        x->errors++;
}

static void jx_end(void *arg, const XML_Char *name)
{
    (void)arg, (void)name;
}

static void junit_parse(const char *path, struct jx *x)
{
    size_t len;
    char *buf = slurp(path, &len);
    XML_Parser p = XML_ParserCreate(NULL);

    memset(x, 0, sizeof *x);
    x->tests_attr = -1;
    XML_SetUserData(p, x);
    XML_SetElementHandler(p, jx_start, jx_end);
    ck_assert_msg(XML_Parse(p, buf, (int)len, 1) == XML_STATUS_OK, "junit.xml: %s at line %lu",
                  XML_ErrorString(XML_GetErrorCode(p)), (unsigned long)XML_GetCurrentLineNumber(p));
    XML_ParserFree(p);
    free(buf);
}

/* Runs python3 on a script; returns its exit status and its first output line. */
static int python(const char *script, const char *arg, char *out, size_t outlen)
{
    char spath[128], cmd[512];
    snprintf(spath, sizeof spath, "%s/check.py", tmpdir);
    FILE *f = fopen(spath, "w");
    ck_assert_ptr_nonnull(f);
    fputs(script, f);
    ck_assert_int_eq(fclose(f), 0);
    snprintf(cmd, sizeof cmd, "python3 '%s' '%s'", spath, arg);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    out[0] = '\0';
    if (!fgets(out, (int)outlen, p))
        out[0] = '\0';
    out[strcspn(out, "\n")] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Writes through fn to a memory stream and returns the text (caller frees). */
static char *mem_json(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    rpt_json_str(f, s);
    ck_assert_int_eq(fclose(f), 0);
    return buf;
}

static char *mem_xml(const char *s, bool attr)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    rpt_xml_str(f, s, attr);
    ck_assert_int_eq(fclose(f), 0);
    return buf;
}

/* ---- tests: the files --------------------------------------------------- */

START_TEST(report_writes_four_files)
{
    struct runs rs;
    char dir[128];
    struct stat st;

    runs_std(&rs);
    snprintf(dir, sizeof dir, "%s/a/b/reports", tmpdir); /* parents created too */
    ck_assert_int_eq(rpt_write(dir, rs.v, rs.n, false), 0);
    const char *names[] = {"results.json", "junit.xml", "index.html", "coverage.json"};
    for (size_t i = 0; i < 4; i++) {
        ck_assert_msg(stat(path_of(dir, names[i]), &st) == 0, "%s missing", names[i]);
        ck_assert_int_gt(st.st_size, 100);
    }
    /* Writing again into the existing directory works too. */
    ck_assert_int_eq(rpt_write(dir, rs.v, rs.n, true), 0);
    runs_free(&rs);
}
END_TEST

static const char json_check_py[] =
    "import json, sys\n"
    "d = json.load(open(sys.argv[1], encoding='utf-8'))\n"
    "runs = d['runs']\n"
    "assert d['summary'] == {'runs': 4, 'passed': 1, 'failed': 3, 'errors': 0}, d['summary']\n"
    "assert len(runs) == 4\n"
    "keys = ['scenario', 'file', 'variant', 'seed', 'verdict', 'summary', 'checks', 'metrics',\n"
    "        'vtime_us', 'vtime', 'calls_by_op', 'faults_by_op', 'calls_by_job', 'bytes_read',\n"
    "        'bytes_written', 'trace', 'trace_short', 'replay', 'hang', 'last_progress_us',\n"
    "        'waits', 'ops', 'faults']\n"
    "for r in runs:\n"
    "    for k in keys:\n"
    "        assert k in r, k\n"
    "p, f, h, n = runs\n"
    "assert p['verdict'] == 'PASS' and f['verdict'] == 'FAIL', (p['verdict'], f['verdict'])\n"
    "assert p['seed'] == 42 and p['vtime_us'] == 1800000000 and p['vtime'] == '30m00s'\n"
    "assert p['calls_by_op']['put'] == 1 and p['faults_by_op'] == {'delete': {'status': 1}}\n"
    "assert p['calls_by_job']['cleaner'] == 1 and p['metrics'] == {'s3.calls': 3, 'rpc.calls.commit-sso': 2}\n"
    "assert f['checks'][1] == {'name': 'log', 'args': 'error match=\"Delete composite object\" "
    "count == 0', 'expect_fail': False, 'held': False, 'ok': False, 'detail': '14 error lines "
    "match \"Delete composite object\" (want 0)', 'line': 12}, f['checks'][1]\n"
    "assert f['faults_by_op'] == {'delete': {'status': 10}, 'delete-many': {'status': 5}}, "
    "f['faults_by_op']\n"
    "assert h['hang'] is True and h['last_progress'] == '10m00s' and len(h['waits']) == 3\n"
    "assert h['waits'][0] == {'who': 'compaction run 3, plan 2', 'what': '2 parked blocks of "
    "object 1042', 'since_us': 600000000, 'since': '10m00s', 'age_us': 1200000000, 'age': "
    "'20m00s'}, h['waits'][0]\n"
    "assert p['last_progress_us'] is None and p['swarm'] is None\n"
    "assert p['trace_short'] == '9c41d0e2a7b3' and len(p['trace']) == 64\n"
    "assert n['scenario'] == n['variant'] == n['checks'][0]['detail'] == n['waits'][0]['what']\n"
    "assert list(n['metrics'].values()) == [-5]\n"
    "print(json.dumps(n['variant']))\n";

/* The NASTY string as json.dumps (ensure_ascii) prints it after a round trip:
 * everything back as it was, the invalid byte as U+FFFD. */
#define NASTY_JSON                                                                                 \
    "\"q\\\"<&>'\\\\ \\u0001\\u001f\\t\\n \\u00e9\\u65e5\\u672c\\ud83d\\ude42 \\ufffd ]]> -- "     \
    "end\""

START_TEST(report_results_json_parses)
{
    struct runs rs;
    char out[512];

    runs_std(&rs);
    ck_assert_int_eq(rpt_write(tmpdir, rs.v, rs.n, false), 0);
    ck_assert_int_eq(python(json_check_py, path_of(tmpdir, "results.json"), out, sizeof out), 0);
    ck_assert_str_eq(out, NASTY_JSON);
    runs_free(&rs);
}
END_TEST

static const char cov_check_py[] =
    "import json, sys\n"
    "d = json.load(open(sys.argv[1], encoding='utf-8'))\n"
    "m = d['matrix']\n"
    "assert d['runs'] == 4 and 'none' not in m and len(m) == 11, d['runs']\n"
    "assert m['lost']['rpc-commit-sso']['by_job']['sso-compaction'] == 1\n"
    "assert m['error']['rpc-commit-sso']['total'] == 1 and m['status']['rpc-commit-sso']['total'] == 0\n"
    "assert m['status']['rpc-trim']['applicable'] is False and m['error']['put']['applicable'] is False\n"
    "assert m['partial']['rpc-prepare']['applicable'] is False\n"
    "assert ['error', 'rpc-trim'] in d['unhit'] and ['error', 'rpc-commit-sso'] not in d['unhit']\n"
    "assert d['calls']['rpc-commit-sso'] == 2, d['calls']\n"
    "assert m['status']['delete']['total'] == 11, m['status']['delete']\n"
    "assert m['status']['delete']['by_job']['cleaner'] == 11\n"
    "assert m['status']['delete-many']['total'] == 5\n"
    "assert m['timeout']['mpu-part']['by_job']['sso-compaction'] == 1\n"
    "assert m['stale']['head']['by_job']['other'] == 1\n"
    "assert m['stale']['put']['applicable'] is False and m['stale']['put']['total'] == 0\n"
    "assert ['status', 'get'] in d['unhit'] and ['status', 'delete'] not in d['unhit']\n"
    "assert ['stale', 'put'] not in d['unhit']\n"
    "assert m['corrupt']['get']['applicable'] is True and ['corrupt', 'get'] in d['unhit']\n"
    "assert m['corrupt']['put']['applicable'] is False\n"
    "assert d['cells']['hit'] == 6, d['cells']\n"
    "assert d['calls']['put'] == 1 and d['calls']['delete'] == 21, d['calls']\n"
    "print('ok')\n";

START_TEST(report_coverage_json_sums_runs)
{
    struct runs rs;
    char out[64];

    runs_std(&rs);
    ck_assert_int_eq(rpt_write(tmpdir, rs.v, rs.n, false), 0);
    ck_assert_int_eq(python(cov_check_py, path_of(tmpdir, "coverage.json"), out, sizeof out), 0);
    ck_assert_str_eq(out, "ok");
    /* The page shows the same matrix: hit cells, grey zeros, n/a cells. */
    char *html = slurp(path_of(tmpdir, "index.html"), NULL);
    ck_assert_ptr_nonnull(
        strstr(html, "<td class=\"hit\" title=\"status on delete: cleaner 11\">11</td>"));
    ck_assert_ptr_nonnull(
        strstr(html, "<td class=\"zero\" title=\"status on get: no run hit this\">0</td>"));
    ck_assert_ptr_nonnull(
        strstr(html, "<td class=\"na\" title=\"stale on put: not applicable\">n/a</td>"));
    ck_assert_ptr_nonnull(strstr(html, "<tr><th>(all calls)</th><td class=\"calls\">1</td>"));
    ck_assert_ptr_null(strstr(html, "none on "));
    free(html);
    runs_free(&rs);
}
END_TEST

START_TEST(report_junit_parses_and_counts)
{
    struct runs rs;
    struct jx x;

    runs_std(&rs);
    ck_assert_int_eq(rpt_write(tmpdir, rs.v, rs.n, false), 0);
    junit_parse(path_of(tmpdir, "junit.xml"), &x);
    ck_assert_int_eq(x.cases, (int)rs.n);
    ck_assert_int_eq(x.tests_attr, (long)rs.n);
    ck_assert_int_eq(x.failures, 3);
    ck_assert_int_eq(x.errors, 0);
    ck_assert_int_eq(x.suites, 3); /* two runs share composite-delete-404.scn */
    ck_assert_str_eq(x.first_case, "base seed=42");
    ck_assert_str_eq(x.fail_msg, "check=log: 14 error lines match \"Delete\" (want 0); replay: "
                                 "build/bin/s3sim replay scenarios/field/composite-delete-404.scn "
                                 "--variant field-bug --seed 42");
    /* The nasty name comes back intact; controls XML forbids are shown as
     * \xNN text, the invalid byte as U+FFFD. */
    ck_assert_str_eq(x.nasty_case, "q\"<&>'\\ \\x01\\x1F\t\n \xc3\xa9\xe6\x97\xa5\xe6\x9c\xac"
                                   "\xf0\x9f\x99\x82 \xef\xbf\xbd ]]> -- end seed=7");
    char *xml = slurp(path_of(tmpdir, "junit.xml"), NULL);
    ck_assert_ptr_nonnull(strstr(xml, "classname=\"scenarios.field.composite-delete-404\""));
    ck_assert_ptr_nonnull(strstr(xml,
                                 "<testsuite name=\"scenarios/field/composite-delete-404.scn\" "
                                 "tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"0\""));
    ck_assert_ptr_nonnull(strstr(xml, "compaction run 3, plan 2 waits for 2 parked blocks"));
    free(xml);
    runs_free(&rs);
}
END_TEST

/* Suites follow the first appearance of their file; an ERROR run is an
 * <error>, and the counts add up. */
START_TEST(report_junit_groups_by_file)
{
    struct run_result *v[3] = {run_new("b.scn", "b", "base", 1, RUN_PASS),
                               run_new("a.scn", "a", "base", 1, RUN_ERROR),
                               run_new("b.scn", "b", "v2", 1, RUN_FAIL)};
    struct jx x;

    ck_assert_int_eq(rpt_write(tmpdir, v, 3, false), 0);
    junit_parse(path_of(tmpdir, "junit.xml"), &x);
    ck_assert_int_eq(x.suites, 2);
    ck_assert_int_eq(x.cases, 3);
    ck_assert_int_eq(x.failures, 1);
    ck_assert_int_eq(x.errors, 1);
    char *xml = slurp(path_of(tmpdir, "junit.xml"), NULL);
    char *b = strstr(xml, "<testsuite name=\"b.scn\" tests=\"2\" failures=\"1\" errors=\"0\"");
    char *a = strstr(xml, "<testsuite name=\"a.scn\" tests=\"1\" failures=\"0\" errors=\"1\"");
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_msg(b < a, "wrong order");
    ck_assert_ptr_nonnull(strstr(xml, "<testsuites name=\"s3sim\" tests=\"3\" failures=\"1\" "
                                      "errors=\"1\" time=\"0.750\">"));
    free(xml);
    for (int i = 0; i < 3; i++) {
        run_result_free(v[i]);
        free(v[i]);
    }
}
END_TEST

/* Every element of index.html is closed, in order (html.parser keeps
 * self-closing SVG tags apart); prints the number of <svg>. */
static const char html_check_py[] =
    "import sys\n"
    "from html.parser import HTMLParser\n"
    "class P(HTMLParser):\n"
    "    def __init__(s):\n"
    "        super().__init__(); s.stack = []; s.svg = 0\n"
    "    def handle_starttag(s, tag, a):\n"
    "        if tag not in ('meta', 'br'): s.stack.append(tag)\n"
    "        s.svg += tag == 'svg'\n"
    "    def handle_endtag(s, tag):\n"
    "        assert s.stack and s.stack[-1] == tag, (tag, s.stack[-5:], s.getpos())\n"
    "        s.stack.pop()\n"
    "p = P(); p.feed(open(sys.argv[1], encoding='utf-8').read()); p.close()\n"
    "assert p.stack == [], p.stack\n"
    "print(p.svg)\n";

static void assert_self_contained(const char *html)
{
    const char *bad[] = {"http://", "https://", "src=", "<link", "@import", "url(", "//cdn"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(strstr(html, bad[i]) == NULL, "index.html holds \"%s\"", bad[i]);
}

START_TEST(report_html_self_contained_one_svg_per_failure)
{
    struct runs rs;

    runs_std(&rs);
    ck_assert_int_eq(rpt_write(tmpdir, rs.v, rs.n, false), 0);
    char *html = slurp(path_of(tmpdir, "index.html"), NULL);
    assert_self_contained(html);
    ck_assert_uint_eq(count_of(html, "<svg"), 3); /* the three failing runs */
    ck_assert_uint_eq(count_of(html, "<section class=\"run\""), 3);
    /* Failures come first in the runs table. */
    char *fail = strstr(html, "<tr class=\"bad\"><td data-v=\"0\" class=\"FAIL\">");
    char *pass = strstr(html, "<tr><td data-v=\"1\" class=\"PASS\">");
    ck_assert_ptr_nonnull(fail);
    ck_assert_ptr_nonnull(pass);
    ck_assert_msg(fail < pass, "wrong order");
    /* The hang: its waits table, bars, and the hang marker. */
    ck_assert_ptr_nonnull(strstr(html, "<h4>Pending waits (3): hang found</h4>"));
    ck_assert_ptr_nonnull(strstr(html, "<title>compaction run 3, plan 2 waits for 2 parked blocks "
                                       "of object 1042\nsince 10m00s, pending for 20m00s</title>"));
    ck_assert_ptr_nonnull(strstr(html, "class=\"hang\"><title>hang found at 30m00s</title>"));
    ck_assert_ptr_null(strstr(html, ">wait events</text>")); /* the wait rows say it all */
    /* A fault mark's hover title. */
    ck_assert_ptr_nonnull(strstr(html, "<title>mpu-part (sso-compaction) o/1042\nt=9m10s, took "
                                       "20ms\ninjected fault: timeout\nfailed</title>"));
    /* The nasty strings are escaped: no raw markup from them. */
    ck_assert_ptr_null(strstr(html, "q\"<&>"));
    ck_assert_ptr_nonnull(strstr(html, "q&quot;&lt;&amp;&gt;&#39;\\ \\x01\\x1F"));
    ck_assert_ptr_nonnull(strstr(html, "<script>"));
    ck_assert_uint_eq(count_of(html, "<script"), 1);
    free(html);
    char out[64];
    ck_assert_int_eq(python(html_check_py, path_of(tmpdir, "index.html"), out, sizeof out), 0);
    ck_assert_str_eq(out, "3");

    ck_assert_int_eq(rpt_write(tmpdir, rs.v, rs.n, true), 0);
    html = slurp(path_of(tmpdir, "index.html"), NULL);
    ck_assert_uint_eq(count_of(html, "<svg"), 4); /* report_all: every run */
    free(html);
    runs_free(&rs);
}
END_TEST

/* 100 000 calls over 24 h: the dense rows are binned, the page stays small
 * and still shows every op, the faults and the engine lanes. */
START_TEST(report_dense_timeline_bounded)
{
    struct run_result *r = run_dense();
    size_t len;

    ck_assert_int_eq(rpt_write(tmpdir, &r, 1, false), 0);
    char *html = slurp(path_of(tmpdir, "index.html"), &len);
    assert_self_contained(html);
    ck_assert_uint_eq(count_of(html, "<svg"), 1);
    ck_assert_uint_lt(len, 1024 * 1024);
    /* Binned columns, with faults in some of them. */
    ck_assert_uint_ge(count_of(html, "class=\"bf\"/>"), 100);
    ck_assert_uint_ge(count_of(html, "class=\"bk\"/>"), 400);
    ck_assert_uint_ge(count_of(html, "class=\"bcleaner\"/>"), 400);
    ck_assert_ptr_nonnull(strstr(html, " calls, 1 faults, "));
    /* 4 op rows and 5 engine rows. */
    const char *rows[] = {">put</text>",         ">get</text>",
                          ">mpu-part</text>",    ">delete-many</text>",
                          ">WAL uploads</text>", ">SSO compaction</text>",
                          ">cleaner</text>",     ">stream compaction</text>",
                          ">crashes</text>"};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        ck_assert_msg(strstr(html, rows[i]) != NULL, "row %s missing", rows[i]);
    ck_assert_ptr_null(strstr(html, ">head</text>"));
    /* The axis of a day ticks every few hours. */
    ck_assert_ptr_nonnull(strstr(html, "class=\"tick\">3h</text>"));
    free(html);
    run_result_free(r);
    free(r);
}
END_TEST

/* More waits than rows: the first ones get a bar, a last row counts the
 * rest, the table lists them all.  Wait-lane events with no pending waits
 * get their own row. */
START_TEST(report_many_waits_and_wait_events)
{
    struct run_result *r = run_new("w.scn", "w", "base", 3, RUN_FAIL);
    char who[32];

    r->hang = true;
    for (int i = 0; i < 100; i++) {
        snprintf(who, sizeof who, "waiter %d", i);
        run_wait(r, who, "something", 1000 * i);
    }
    ck_assert_int_eq(rpt_write(tmpdir, &r, 1, false), 0);
    char *html = slurp(path_of(tmpdir, "index.html"), NULL);
    ck_assert_uint_eq(count_of(html, "class=\"wait\"><title>"), 40);
    ck_assert_ptr_nonnull(strstr(html, ">+60 more waits (see the table)</text>"));
    ck_assert_ptr_nonnull(strstr(html, "<h4>Pending waits (100): hang found</h4>"));
    ck_assert_ptr_nonnull(strstr(html, "<td>waiter 99</td><td>something</td>"));
    free(html);
    run_result_free(r);
    free(r);

    r = run_new("w.scn", "w", "base", 4, RUN_FAIL);
    ck_assert_int_eq(run_result_event(r, 10, 20000000, RUN_LANE_WAIT, -1, -1, 0, true, "a wait"),
                     0);
    ck_assert_int_eq(rpt_write(tmpdir, &r, 1, false), 0);
    html = slurp(path_of(tmpdir, "index.html"), NULL);
    ck_assert_ptr_nonnull(strstr(html, ">wait events</text>"));
    ck_assert_ptr_nonnull(strstr(html, "class=\"x\"><title>a wait\nt=10us, took 19.999s\nfailed"));
    free(html);
    run_result_free(r);
    free(r);
}
END_TEST

/* Absurd values (negative times, an end before the start, unknown ops,
 * lanes and effects, a judgement at INT64_MAX) neither crash the writers nor
 * blow up the picture. */
START_TEST(report_absurd_values)
{
    struct run_result *r = run_new("x.scn", "x", "base", UINT64_MAX, RUN_ERROR);

    run_wait(r, "w", "x", -5);
    r->waits[0].since_us = INT64_MIN;
    r->waits[0].age_us = INT64_MAX;
    r->vtime_us = INT64_MAX;
    r->last_progress_us = INT64_MIN;
    r->wall_seconds = -1.0 / 0.0;
    memset(r->trace_hex, '<', sizeof r->trace_hex); /* not even NUL-terminated */
    ck_assert_int_eq(run_result_event(r, -5, -10, RUN_LANE_S3, 99, 99, 99, true, NULL), 0);
    ck_assert_int_eq(run_result_event(r, -5, INT64_MAX, RUN_LANE_S3, 1, -1, 0, false, "head"), 0);
    ck_assert_int_eq(run_result_event(r, 7, 3, (enum run_lane)77, -1, -1, 0, false, "?"), 0);
    ck_assert_int_eq(
        run_result_event(r, INT64_MAX, INT64_MAX, RUN_LANE_CRASH, -1, -1, 0, false, "late"), 0);

    ck_assert_int_eq(rpt_write(tmpdir, &r, 1, true), 0);
    size_t len;
    char *html = slurp(path_of(tmpdir, "index.html"), &len);
    ck_assert_uint_lt(len, 100000);
    ck_assert_uint_eq(count_of(html, "<svg"), 1);
    ck_assert_ptr_null(strstr(html, "<<"));
    free(html);
    struct jx x;
    junit_parse(path_of(tmpdir, "junit.xml"), &x);
    ck_assert_int_eq(x.errors, 1);
    char out[64];
    ck_assert_int_eq(python("import json,sys\nd=json.load(open(sys.argv[1]))\n"
                            "r=d['runs'][0]\nassert r['wall_seconds'] is None and r['trace']==''\n"
                            "assert r['seed']==18446744073709551615\nprint('ok')\n",
                            path_of(tmpdir, "results.json"), out, sizeof out),
                     0);
    ck_assert_str_eq(out, "ok");
    run_result_free(r);
    free(r);
}
END_TEST

START_TEST(report_empty_run_list)
{
    struct jx x;
    char out[64];

    ck_assert_int_eq(rpt_write(tmpdir, NULL, 0, false), 0);
    junit_parse(path_of(tmpdir, "junit.xml"), &x);
    ck_assert_int_eq(x.cases, 0);
    ck_assert_int_eq(x.tests_attr, 0);
    ck_assert_int_eq(python("import json,sys\nd=json.load(open(sys.argv[1]))\n"
                            "assert d['runs']==[] and d['summary']['runs']==0\nprint('ok')\n",
                            path_of(tmpdir, "results.json"), out, sizeof out),
                     0);
    ck_assert_str_eq(out, "ok");
    char *html = slurp(path_of(tmpdir, "index.html"), NULL);
    ck_assert_uint_eq(count_of(html, "<svg"), 0);
    free(html);
}
END_TEST

START_TEST(report_same_runs_same_bytes)
{
    struct runs rs;
    char d1[128], d2[128];
    const char *names[] = {"results.json", "junit.xml", "index.html", "coverage.json"};

    runs_std(&rs);
    snprintf(d1, sizeof d1, "%s/1", tmpdir);
    snprintf(d2, sizeof d2, "%s/2", tmpdir);
    ck_assert_int_eq(rpt_write(d1, rs.v, rs.n, true), 0);
    ck_assert_int_eq(rpt_write(d2, rs.v, rs.n, true), 0);
    for (size_t i = 0; i < 4; i++) {
        size_t l1, l2;
        char *a = slurp(path_of(d1, names[i]), &l1);
        char *b = slurp(path_of(d2, names[i]), &l2);
        ck_assert_uint_eq(l1, l2);
        ck_assert_msg(memcmp(a, b, l1) == 0, "%s differs", names[i]);
        free(a);
        free(b);
    }
    runs_free(&rs);
}
END_TEST

/* ---- tests: escaping and formatting ------------------------------------- */

START_TEST(report_json_escaping)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"", "\"\""},
        {"plain", "\"plain\""},
        {"a\"b\\c/d", "\"a\\\"b\\\\c/d\""},
        {"\n\t\r\x01\x1f\x7f", "\"\\n\\t\\r\\u0001\\u001f\\u007f\""},
        {"\xc3\xa9\xe2\x82\xac\xf0\x9f\x99\x82", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x99\x82\""},
        {"\xff", "\"\\ufffd\""},
        {"\xc0\xaf", "\"\\ufffd\\ufffd\""},            /* overlong '/' */
        {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""}, /* a surrogate */
        {"\xe2\x82", "\"\\ufffd\\ufffd\""},            /* truncated */
        {"\xef\xbf\xbd", "\"\xef\xbf\xbd\""},          /* a real U+FFFD passes */
        {"</script>", "\"</script>\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = mem_json(cases[i].in);
        ck_assert_str_eq(s, cases[i].out);
        free(s);
    }
    char *s = mem_json(NULL);
    ck_assert_str_eq(s, "null");
    free(s);
}
END_TEST

START_TEST(report_xml_escaping)
{
    char *s = mem_xml("a<b>&\"'\t\n\r\x01\x7f\xff\xef\xbf\xbe", false);
    ck_assert_str_eq(s, "a&lt;b&gt;&amp;&quot;&#39;\t\n&#13;\\x01\\x7F\xef\xbf\xbd\\uFFFE");
    free(s);
    s = mem_xml("a\tb\nc", true);
    ck_assert_str_eq(s, "a&#9;b&#10;c");
    free(s);
    s = mem_xml(NULL, true);
    ck_assert_str_eq(s, "");
    free(s);
    s = mem_xml("\xe6\x97\xa5 ]]>", false);
    ck_assert_str_eq(s, "\xe6\x97\xa5 ]]&gt;");
    free(s);
}
END_TEST

START_TEST(report_utf8_decoder)
{
    uint32_t cp;
    ck_assert_uint_eq(rpt_utf8_next((const unsigned char *)"A", 1, &cp), 1);
    ck_assert_uint_eq(cp, 'A');
    ck_assert_uint_eq(rpt_utf8_next((const unsigned char *)"\xc3\xa9", 2, &cp), 2);
    ck_assert_uint_eq(cp, 0xe9);
    ck_assert_uint_eq(rpt_utf8_next((const unsigned char *)"\xf0\x9f\x99\x82", 4, &cp), 4);
    ck_assert_uint_eq(cp, 0x1f642);
    ck_assert_uint_eq(rpt_utf8_next((const unsigned char *)"\xf0\x9f\x99\x82", 3, &cp), 1);
    ck_assert_uint_eq(cp, 0xfffd);
    ck_assert_uint_eq(rpt_utf8_next((const unsigned char *)"\xf4\x90\x80\x80", 4, &cp), 1);
    ck_assert_uint_eq(cp, 0xfffd); /* above U+10FFFF */
    ck_assert_uint_eq(rpt_utf8_next((const unsigned char *)"\xe0\x80\x80", 3, &cp), 1);
    ck_assert_uint_eq(cp, 0xfffd); /* overlong */
    ck_assert_uint_eq(rpt_utf8_next((const unsigned char *)"\x80", 1, &cp), 1);
    ck_assert_uint_eq(cp, 0xfffd); /* a lone continuation byte */
}
END_TEST

START_TEST(report_fmt_durations)
{
    static const struct {
        int64_t us;
        const char *s;
    } cases[] = {
        {0, "0s"},
        {250, "250us"},
        {12000, "12ms"},
        {12345, "12.345ms"},
        {1000000, "1s"},
        {1250000, "1.250s"},
        {751000000, "12m31s"},
        {INT64_C(7500000000), "2h05m00s"},
        {INT64_C(86400000000), "1d00h00m"},
        {INT64_C(93780000000), "1d02h03m"},
        {-1500000, "-1.500s"},
        {INT64_MIN, "-106751991d04h00m"},
    };
    char buf[40];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_str_eq(rpt_fmt_dur(buf, sizeof buf, cases[i].us), cases[i].s);
    char tiny[4];
    ck_assert_str_eq(rpt_fmt_dur(tiny, sizeof tiny, 751000000), "12m"); /* truncated, not overrun */
}
END_TEST

/* ---- tests: failures ---------------------------------------------------- */

START_TEST(report_bad_arguments)
{
    struct run_result *r = run_new("x.scn", "x", "base", 1, RUN_PASS);
    struct run_result *v[2] = {r, NULL};

    ck_assert_int_eq(rpt_write(NULL, v, 1, false), ERR_INVAL);
    ck_assert_int_eq(rpt_write("", v, 1, false), ERR_INVAL);
    ck_assert_int_eq(rpt_write(tmpdir, NULL, 1, false), ERR_INVAL);
    ck_assert_int_eq(rpt_write(tmpdir, v, 2, false), ERR_INVAL);
    run_result_free(r);
    free(r);
}
END_TEST

START_TEST(report_directory_errors)
{
    struct runs rs;
    char file[128], dir[160];

    runs_std(&rs);
    /* dir is a regular file, or under one. */
    snprintf(file, sizeof file, "%s/plain", tmpdir);
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_eq(rpt_write(file, rs.v, rs.n, false), ERR_IO);
    ck_assert_int_eq(errno, ENOTDIR);
    snprintf(dir, sizeof dir, "%s/sub", file);
    ck_assert_int_eq(rpt_write(dir, rs.v, rs.n, false), ERR_IO);
    /* A report file that cannot be opened (it is a directory). */
    snprintf(dir, sizeof dir, "%s/rep", tmpdir);
    ck_assert_int_eq(mkdir(dir, 0777), 0);
    ck_assert_int_eq(mkdir(path_of(dir, "junit.xml"), 0777), 0);
    ck_assert_int_eq(rpt_write(dir, rs.v, rs.n, false), ERR_IO);
    /* A directory without write permission (unless we are root). */
    if (geteuid() != 0) {
        snprintf(dir, sizeof dir, "%s/ro", tmpdir);
        ck_assert_int_eq(mkdir(dir, 0555), 0);
        ck_assert_int_eq(rpt_write(dir, rs.v, rs.n, false), ERR_IO);
    }
    runs_free(&rs);
}
END_TEST

/* Every writer reports a full disk (/dev/full) as ERR_IO. */
START_TEST(report_write_errors)
{
    struct runs rs;

    runs_std(&rs);
    for (int w = 0; w < 4; w++) {
        FILE *f = fopen("/dev/full", "w");
        ck_assert_ptr_nonnull(f);
        int rc = w == 0   ? rpt_results_json(f, rs.v, rs.n)
                 : w == 1 ? rpt_junit(f, rs.v, rs.n)
                 : w == 2 ? rpt_coverage_json(f, rs.v, rs.n)
                          : rpt_html(f, rs.v, rs.n, true);
        ck_assert_int_eq(rc, ERR_IO);
        fclose(f);
    }
    runs_free(&rs);
}
END_TEST

/* ---- suite -------------------------------------------------------------- */

static Suite *report_suite(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("files");
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, report_writes_four_files);
    tcase_add_test(tc, report_results_json_parses);
    tcase_add_test(tc, report_coverage_json_sums_runs);
    tcase_add_test(tc, report_junit_parses_and_counts);
    tcase_add_test(tc, report_junit_groups_by_file);
    tcase_add_test(tc, report_html_self_contained_one_svg_per_failure);
    tcase_add_test(tc, report_dense_timeline_bounded);
    tcase_add_test(tc, report_many_waits_and_wait_events);
    tcase_add_test(tc, report_absurd_values);
    tcase_add_test(tc, report_empty_run_list);
    tcase_add_test(tc, report_same_runs_same_bytes);
    tcase_add_test(tc, report_bad_arguments);
    tcase_add_test(tc, report_directory_errors);
    tcase_add_test(tc, report_write_errors);
    suite_add_tcase(s, tc);

    TCase *te = tcase_create("escaping");
    tcase_add_test(te, report_json_escaping);
    tcase_add_test(te, report_xml_escaping);
    tcase_add_test(te, report_utf8_decoder);
    tcase_add_test(te, report_fmt_durations);
    suite_add_tcase(s, te);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(report_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
