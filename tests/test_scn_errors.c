/* test_scn_errors.c - scenario parse errors (exact FILE:LINE:COL and message),
 * limits, a fuzz pass over mutated files, and `s3sim check` / `s3sim knobs`
 * (sim/cmd.h).  The well-formed grammar is in test_scn.c. */
#include "cmd.h"
#include "conf.h"
#include "err.h"
#include "metric_names.h"
#include "scn.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers -------------------------------------------------------------------------- */

#define HDR "scenario t\n"

/* Asserts that text fails at line:col with a message containing want. */
static void parse_err(const char *text, int line, int col, const char *want)
{
    struct scn_file *f = NULL;
    struct scn_error err;
    char msg[1024];
    int rc = scn_parse_buf("t.scn", text, strlen(text), &f, &err);
    ck_assert_msg(rc == ERR_PARSE, "parsed, but should fail with '%s':\n%s", want, text);
    ck_assert_ptr_null(f);
    scn_error_format(&err, msg, sizeof msg);
    ck_assert_msg(err.line == line && err.col == col, "want %d:%d, got %s\n(text: %s)", line, col,
                  msg, text);
    ck_assert_msg(strstr(err.msg, want) != NULL, "want '%s' in '%s'", want, msg);
    ck_assert_str_eq(err.file, "t.scn");
}

/* A file of tests/data. */
static const char *data_path(const char *name, char *buf, size_t bufsz)
{
    const char *root = getenv("S3SIM_SOURCE_DIR");
    if (!root)
        root = access("tests/data", F_OK) == 0 ? "." : ".."; /* run by hand from build/ */
    snprintf(buf, bufsz, "%s/tests/data/%s", root, name);
    return buf;
}

/* ---- errors ------------------------------------------------------------------------------- */

struct err_case {
    const char *text;
    int line, col;
    const char *want;
};

static const struct err_case err_cases[] = {
    /* file level */
    {"", 1, 1, "expected scenario NAME"},
    {"# only a comment\n\n", 1, 1, "expected scenario NAME"},
    {"seed 1\nscenario x\n", 1, 1, "expected scenario NAME as the first directive"},
    {"scenario Bad_Name\n", 1, 10, "expected a scenario name"},
    {"scenario\n", 1, 9, "expected scenario NAME"},
    {"scenario a b\n", 1, 12, "unexpected 'b'"},
    {HDR "scenario y\n", 2, 1, "scenario given twice"},
    {HDR "frobnicate 1\n", 2, 1, "unknown directive 'frobnicate'"},
    /* lexing */
    {HDR "description \"open\n", 2, 13, "unterminated quoted string"},
    {HDR "description \"a\\nb\"\n", 2, 15, "unknown escape"},
    {HDR "description \"\xc3\xa9\" \"x\xff\"\n", 2, 19, "invalid UTF-8 byte 0xff"},
    {HDR "seed \xc0\xaf\n", 2, 6, "invalid UTF-8"},
    {HDR "seed 1\x01\n", 2, 7, "control character 0x01"},
    {HDR "seed 1\rx\n", 2, 7, "control character 0x0d"},
    /* scalars */
    {HDR "seed -1\n", 2, 6, "expected a non-negative integer"},
    {HDR "seed 18446744073709551616\n", 2, 6, "out of range"},
    {HDR "deadline 10\n", 2, 10, "bare number"},
    {HDR "deadline 0s\n", 2, 10, "above 0s"},
    {HDR "deadline 1e999s\n", 2, 10, "expected a duration"},
    {HDR "streams 2000000\n", 2, 9, "from 0 to 1000000"},
    {HDR "streams x\n", 2, 9, "expected an integer"},
    {HDR "description a b\n", 2, 15, "unexpected 'b'"},
    {HDR "variant v\ndescription \"x\"\n", 3, 1, "description belongs to the base"},
    /* set */
    {HDR "set no.such.knob 5\n", 2, 5, "unknown knob 'no.such.knob'"},
    {HDR "set s3.op.timeout\n", 2, 18, "expected set KNOB VALUE"},
    {HDR "set s3.op.timeout=10\n", 2, 19, "s3.op.timeout: expected a duration with a unit"},
    {HDR "set s3.object.part.size 99999999999TiB\n", 2, 25, "out of range"},
    {HDR "set s3.object.part.size -5\n", 2, 25, "negative"},
    {HDR "set s3.delete.missing 500\n", 2, 23, "expected 204 or 404"},
    {HDR "set compaction.flush.each.batch maybe\n", 2, 33, "expected true or false"},
    {HDR "set s3.retry.max 3 4\n", 2, 20, "unexpected '4'"},
    {HDR "set s3.retry.max = 3 4\n", 2, 22, "value with spaces goes in double quotes"},
    {HDR "set s3.retry.max =\n", 2, 19, "expected an integer"},
    {HDR "set cluster.id=\n", 2, 16, "expected a string of 1 to 127 bytes"},
    {HDR "set\n", 2, 4, "expected set KNOB VALUE"},
    /* at / every */
    {HDR "at 5 compact sso\n", 2, 4, "bare number"},
    {HDR "at 5s\n", 2, 6, "expected an action"},
    {HDR "at 5s explode\n", 2, 7, "unknown action 'explode'"},
    {HDR "every 0s compact sso\n", 2, 7, "period above 0s"},
    {HDR "every 1m from=5m until=5m compact sso\n", 2, 24, "until= must be later"},
    {HDR "every 1m compact sso from=5m\n", 2, 22, "unknown argument 'from='"},
    /* actions */
    {HDR "streams 1\nat 0s append bytes=1KiB\n", 3, 24, "append needs stream="},
    {HDR "streams 1\nat 0s append stream=1\n", 3, 22, "append needs bytes="},
    {HDR "streams 1\nat 0s append stream=1 bytes=100\n", 3, 29, "bare number"},
    {HDR "streams 1\nat 0s append stream=1 bytes=1KiB record=0B\n", 3, 41, "above 0"},
    {HDR "streams 1\nat 0s append stream=1 bytes=1KiB bytes=2KiB\n", 3, 34, "given twice"},
    {HDR "streams 1\nat 0s append stream=1 bytes=1KiB extra\n", 3, 34, "unexpected 'extra'"},
    {HDR "streams 1\nat 0s append stream=one bytes=1KiB\n", 3, 21, "expected an integer"},
    {HDR "streams 1\nat 0s append stream=0 bytes=1KiB\n", 3, 21, "from 1 to"},
    {HDR "streams 1\nat 0s append stream=2 bytes=1KiB\n", 3, 14, "stream 2 does not exist"},
    {HDR "streams 1\nat 0s append stream=1 bytes=1KiB gap=-1\n", 3, 38, "from 0 to"},
    {HDR "at 0s load record=1KiB\n", 2, 23, "load needs rate="},
    {HDR "at 0s load rate=1MiB\n", 2, 17, "expected a rate"},
    {HDR "at 0s load rate=0B/s\n", 2, 17, "above 0"},
    {HDR "streams 2\nat 0s load rate=1MiB/s streams=1,,2\n", 3, 34, "list of stream ids"},
    {HDR "streams 2\nat 0s load rate=1MiB/s streams=1,3\n", 3, 24, "stream 3 does not exist"},
    {HDR "at 5m load rate=1MiB/s until=5m\n", 2, 30, "later than the action's time"},
    {HDR "streams 1\nat 0s trim stream=1\n", 3, 20, "trim needs to="},
    {HDR "streams 1\nat 0s trim stream=1 to=150%\n", 3, 24, "above 100%"},
    {HDR "streams 1\nat 0s trim stream=1 to=x\n", 3, 24, "expected an integer"},
    {HDR "at 0s delete-stream\n", 2, 20, "delete-stream needs stream="},
    {HDR "streams 1\nat 0s delete-stream stream=all\n", 3, 28, "expected an integer"},
    {HDR "streams 1\nat 0s trim stream=all to=5\n", 3, 19, "expected an integer"},
    {HDR "set cluster.id=\"a\" b\n", 2, 20, "unexpected 'b'"},
    {HDR "at 0s compact\n", 2, 14, "compact needs sso or stream"},
    {HDR "at 0s compact all\n", 2, 15, "expected sso or stream"},
    {HDR "at 0s compact sso now\n", 2, 19, "expected force"},
    {HDR "at 0s crash node=kernel\n", 2, 18, "expected broker, controller or all"},
    {HDR "at 0s crash restart_after=1\n", 2, 27, "bare number"},
    {HDR "at 0s race-delete\n", 2, 18, "race-delete needs target="},
    {HDR "at 0s race-delete target=old\n", 2, 26, "expected live, marked"},
    {HDR "at 0s race-delete target=any count=0\n", 2, 36, "from 1 to"},
    {HDR "at 0s read\n", 2, 11, "read needs stream="},
    {HDR "streams 1\nat 0s read stream=2\n", 3, 12, "stream 2 does not exist"},
    {HDR "streams 1\nat 0s read stream=1 from=x\n", 3, 26, "expected an integer"},
    {HDR "streams 1\nat 0s read stream=1 from=101%\n", 3, 26, "above 100%"},
    {HDR "streams 1\nat 0s read stream=1 bytes=0B\n", 3, 27, "bytes= must be above 0"},
    {HDR "streams 1\nat 0s read stream=1 bytes=5\n", 3, 27, "expected a size"},
    {HDR "streams 1\nat 0s read stream=1 to=5\n", 3, 21, "unknown argument"},
    {HDR "streams 1\nat 0s read stream=1 now\n", 3, 21, "unexpected 'now' in read"},
    {HDR "at 0s race-put\n", 2, 15, "race-put needs one of id="},
    {HDR "at 0s race-put id=next key=a\n", 2, 24, "race-put needs one of id="},
    {HDR "at 0s race-put id=nextx\n", 2, 19, "expected next, next+N or an object id"},
    {HDR "at 0s race-put id=nest\n", 2, 19, "expected an integer"},
    {HDR "at 0s race-put id=next+x\n", 2, 24, "expected next+N"},
    {HDR "at 0s race-put id=-1\n", 2, 19, "from 0 to"},
    {HDR "at 0s race-put key=\"\"\n", 2, 20, "key= needs a key"},
    {HDR "at 0s race-put id=1 bytes=65MiB\n", 2, 27, "at most 64MiB"},
    {HDR "at 0s heal\n", 2, 11, "heal needs a rule name"},
    {HDR "at 0s heal a b\n", 2, 14, "unexpected 'b'"},
    {HDR "at 0s heal nope\n", 2, 12, "no fault line of the base defines a rule named nope"},
    {HDR "heal nope\n", 2, 6, "no fault line"},
    {HDR "at 0s heal v1f\nvariant v1\nfault name=v1f get stall\n", 2, 12, "no fault line"},
    {HDR "variant v1\nat 0s heal nope\n", 3, 12, "the base or variant v1"},
    /* faults */
    {HDR "fault\n", 2, 6, "expected an S3 operation"},
    {HDR "fault fetch timeout\n", 2, 7, "expected an S3 operation (get, head"},
    {HDR "fault get put timeout\n", 2, 11, "one operation; the first is at column 7"},
    {HDR "fault timeout\n", 2, 14, "expected an S3 operation"},
    {HDR "fault get\n", 2, 10, "expected an effect"},
    {HDR "fault get explode\n", 2, 11, "expected an effect"},
    {HDR "fault get timeout stall\n", 2, 19, "one effect"},
    {HDR "fault get timeout delay=1s\n", 2, 19, "one effect"},
    {HDR "fault get status=700\n", 2, 18, "from 100 to 599"},
    {HDR "fault get status=abc\n", 2, 18, "expected status=CODE"},
    {HDR "fault get status=404:NoSuchThing\n", 2, 22, "unknown S3 error code 'NoSuchThing'"},
    {HDR "fault get status=200\n", 2, 18, "needs an error code"},
    {HDR "fault get delay=5\n", 2, 17, "bare number"},
    {HDR "fault put stale=5s\n", 2, 11, "stale= applies to get, head and list"},
    {HDR "fault list stale=0s\n", 2, 18, "above 0s"},
    {HDR "fault head partial\n", 2, 12, "partial applies to"},
    {HDR "fault put corrupt\n", 2, 11, "corrupt applies to get only"},
    {HDR "fault get timeout byte=3\n", 2, 19, "byte= goes with the corrupt effect only"},
    {HDR "fault get corrupt byte=x\n", 2, 24, "expected an integer"},
    {HDR "fault get late=30s\n", 2, 11, "late= applies to put and mpu-part only"},
    /* swarm, seeds A..B (extensions) */
    {HDR "swarm 3\n", 2, 7, "unexpected '3' after swarm"},
    {HDR "seeds\n", 2, 6, "expected seeds A..B"},
    {HDR "seeds 5\n", 2, 7, "expected seeds A..B (such as 1..8)"},
    {HDR "seeds 1..\n", 2, 10, "seeds A..B: B:"},
    {HDR "seeds x..3\n", 2, 7, "seeds A..B: A:"},
    {HDR "seeds 9..3\n", 2, 7, "A <= B"},
    {HDR "seeds 0..1000000\n", 2, 7, "at most 1000000 seeds"},
    {HDR "seeds 1..2 3\n", 2, 12, "unexpected '3'"},
    {HDR "variant v\nseeds 1..2\n", 3, 1, "seeds belongs to the base scenario"},
    {HDR "fault delete late=30s\n", 2, 14, "late= applies to put and mpu-part only"},
    {HDR "fault put late=30x\n", 2, 16, "expected a duration unit"},
    {HDR "fault put late=1s timeout\n", 2, 19, "a fault has one effect"},
    {HDR "fault rpc-prepare late=1s\n", 2, 19, "takes timeout, lost, stall, delay=D or error=CODE"},
    {HDR "fault get timeout nth=0\n", 2, 23, "from 1 to"},
    {HDR "fault get timeout nth=1 prob=0.5\n", 2, 25, "exclude each other"},
    {HDR "fault get timeout prob=2\n", 2, 24, "above 1"},
    {HDR "fault get timeout times=0\n", 2, 25, "from 1 to"},
    {HDR "fault get timeout times=never\n", 2, 25, "expected an integer"},
    {HDR "fault get timeout from=10m until=5m\n", 2, 34, "later than from="},
    {HDR "fault get timeout kind=sso,blob\n", 2, 28, "expected sso, stream"},
    {HDR "fault get timeout job=cleaner,reaper\n", 2, 31, "expected an engine job"},
    {HDR "fault get timeout name=all\n", 2, 24, "cannot be named all"},
    {HDR "fault get timeout name=\"a b\"\n", 2, 24, "expected a rule name"},
    {HDR "fault get timeout key=\"\"\n", 2, 23, "key= needs a glob"},
    {HDR "fault get timeout color=red\n", 2, 19, "unknown argument 'color='"},
    /* checks */
    {HDR "expect\n", 2, 7, "expected a check"},
    {HDR "expect happiness\n", 2, 8, "unknown check 'happiness'"},
    {HDR "expect no-orphans now\n", 2, 19, "unexpected 'now'"},
    {HDR "expect converged within=2\n", 2, 25, "bare number"},
    {HDR "expect converged after=2h\n", 2, 18, "unknown argument 'after='"},
    {HDR "expect memory 200MiB\n", 2, 15, "expected a comparison"},
    {HDR "expect memory <=\n", 2, 17, "expected a size"},
    {HDR "expect memory <= 200\n", 2, 18, "bare number"},
    {HDR "expect log fatal count == 0\n", 2, 12, "expected a log level"},
    {HDR "expect log error == 0\n", 2, 18, "expected count"},
    {HDR "expect log error count = 0\n", 2, 24, "expected a comparison"},
    {HDR "expect log error count =< 0\n", 2, 24, "expected a comparison"},
    {HDR "expect log error count == x\n", 2, 27, "expected an integer"},
    {HDR "expect log error count == 99999999999999999999\n", 2, 27, "out of range"},
    {HDR "expect log error count == 0 extra\n", 2, 29, "unexpected 'extra'"},
    {HDR "expect log error count ==\n", 2, 26, "expected a number"},
    {HDR "expect metric s3.nothing >= 1\n", 2, 15, "unknown metric 's3.nothing'"},
    {HDR "expect metric s3.calls != 1\n", 2, 24, "expected a comparison"},
    {HDR "expect-fail\n", 2, 12, "expected a check"},
    /* variants */
    {HDR "variant\n", 2, 8, "expected variant NAME"},
    {HDR "variant base\n", 2, 9, "cannot be named base"},
    {HDR "variant all\n", 2, 9, "cannot be named all"},
    {HDR "variant v\nvariant v\n", 3, 9, "variant v given twice (first on line 2)"},
    {HDR "variant V\n", 2, 9, "expected a variant name"},
    {HDR "streams 1\nvariant v\nstreams 0\nat 0s delete-stream stream=1\n", 5, 21,
     "stream 1 does not exist: the scenario has no streams (add streams N)"},
    {HDR "at 0s append stream=1 bytes=1KiB\n", 2, 14, "has no streams"},
};

START_TEST(scn_errors_table)
{
    /* Every case is tried, and every mismatch is listed before failing. */
    static char report[1 << 15];
    int bad = 0;
    report[0] = '\0';
    for (size_t i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
        const struct err_case *c = &err_cases[i];
        struct scn_file *f = NULL;
        struct scn_error err;
        char msg[1024];
        int rc = scn_parse_buf("t.scn", c->text, strlen(c->text), &f, &err);
        scn_error_format(&err, msg, sizeof msg);
        if (rc == ERR_PARSE && !f && err.line == c->line && err.col == c->col &&
            strstr(err.msg, c->want) && strcmp(err.file, "t.scn") == 0)
            continue;
        bad++;
        snprintf(report + strlen(report), sizeof report - strlen(report),
                 "case %zu: want %d:%d '%s', got rc=%d %s\n", i, c->line, c->col, c->want, rc,
                 rc ? msg : "(parsed)");
        scn_free(f);
    }
    ck_assert_msg(bad == 0, "%d error cases failed:\n%s", bad, report);
}
END_TEST

START_TEST(scn_errors_limits)
{
    /* An overlong line, a NUL byte, too many words, a huge file. */
    size_t n = SCN_MAX_LINE + 100;
    char *text = malloc(n + 64);
    struct scn_file *f;
    struct scn_error err;
    int rc;
    ck_assert_ptr_nonnull(text);
    strcpy(text, HDR "description \"");
    memset(text + strlen(text), 'a', n);
    strcpy(text + strlen(HDR) + 13 + n, "\"\n");
    parse_err(text, 2, SCN_MAX_LINE + 1, "line too long");
    free(text);
    rc = scn_parse_buf("t.scn", HDR "seed 1\0 2\n", strlen(HDR) + 10, &f, &err);
    ck_assert_int_eq(rc, ERR_PARSE);
    ck_assert_int_eq(err.line, 2);
    ck_assert_int_eq(err.col, 7);
    ck_assert_ptr_nonnull(strstr(err.msg, "NUL byte"));
    {
        char words[SCN_MAX_WORDS * 3 + 64] = HDR "expect";
        for (int i = 0; i < SCN_MAX_WORDS; i++)
            strcat(words, " x");
        parse_err(words, 2, 8 + 2 * (SCN_MAX_WORDS - 1), "too many words");
    }
    rc = scn_parse_buf("t.scn", "", (size_t)SCN_MAX_FILE + 1, &f, &err);
    ck_assert_int_eq(rc, ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "file too large"));
}
END_TEST

/* Asserts that text parses but resolving it (every variant, with sets)
 * fails at line:col with a message containing want. */
static void resolve_err(const char *text, const char *const *sets, size_t nsets, int line,
                        int col, const char *want)
{
    struct scn_file *f = NULL;
    struct scn_error err;
    struct scn_spec sp;
    char msg[1024];
    int rc = ERR_PARSE;
    ck_assert_int_eq(scn_parse_buf("t.scn", text, strlen(text), &f, &err), 0);
    for (size_t i = 0; f && i < f->nsections; i++) {
        rc = scn_resolve(f, f->sections[i].name, sets, nsets, &sp, &err);
        if (rc)
            break;
        scn_spec_free(&sp);
    }
    scn_free(f);
    ck_assert_msg(rc == ERR_PARSE, "resolved, but should fail with '%s':\n%s", want, text);
    scn_error_format(&err, msg, sizeof msg);
    ck_assert_msg(err.line == line && err.col == col, "want %d:%d, got %s", line, col, msg);
    ck_assert_msg(strstr(err.msg, want) != NULL, "want '%s' in '%s'", want, msg);
}

static void resolve_ok(const char *text, const char *const *sets, size_t nsets)
{
    struct scn_file *f = NULL;
    struct scn_error err;
    struct scn_spec sp;
    char msg[1024];
    ck_assert_int_eq(scn_parse_buf("t.scn", text, strlen(text), &f, &err), 0);
    for (size_t i = 0; i < f->nsections; i++) {
        int rc = scn_resolve(f, f->sections[i].name, sets, nsets, &sp, &err);
        ck_assert_msg(rc == 0, "%s", scn_error_format(&err, msg, sizeof msg));
        scn_spec_free(&sp);
    }
    scn_free(f);
}

/* What a scenario may ask for is bounded; each limit names its knob. */
START_TEST(scn_errors_run_limits)
{
    resolve_err(HDR "streams 1\nat 1s append stream=1 bytes=900GiB\n", NULL, 0, 3, 29,
                "append bytes=900.0GiB is above the limit of 4.0GiB (raise it with set "
                "scenario.max.append.bytes");
    resolve_err(HDR "streams 1\nat 0s load rate=4TiB/s until=1s\n", NULL, 0, 3, 17,
                "scenario.max.load.rate");
    resolve_err(HDR "deadline 2147483647m\n", NULL, 0, 2, 10, "scenario.max.deadline");
    /* in a variant */
    resolve_err(HDR "streams 1\nvariant v\nat 0s load rate=2GiB/s until=1s\n", NULL, 0, 4, 17,
                "scenario.max.load.rate");
    /* the total of many reasonable actions */
    resolve_err(HDR "deadline 100h\nstreams 1\nat 0s load rate=100MiB/s\n", NULL, 0, 4, 17,
                "scenario.max.write.bytes");
    resolve_err(HDR "deadline 10h\nstreams 1\nevery 1s append stream=1 bytes=1MiB\n", NULL, 0, 4,
                32, "ask for 35.2GiB before the deadline, above the limit of 16.0GiB");
    /* raised by a set line or by --set */
    resolve_ok(HDR "streams 1\nset scenario.max.append.bytes 1TiB\nset scenario.max.write.bytes "
                   "1TiB\nat 1s append stream=1 bytes=900GiB\n",
               NULL, 0);
    const char *sets[] = {"scenario.max.deadline=40000000h"};
    resolve_ok(HDR "deadline 2147483647m\n", sets, 1);
    /* the usual sizes pass */
    resolve_ok(HDR "deadline 2h\nstreams 4\nat 0s load rate=256MiB/s until=4s\n", NULL, 0);
}
END_TEST

START_TEST(scn_errors_caps)
{
    /* More directives or variants than the caps: an error on the first one over. */
    size_t cap = (size_t)(SCN_MAX_DIRECTIVES + 2) * 20 + 64;
    char *text = malloc(cap);
    size_t n;
    ck_assert_ptr_nonnull(text);
    n = (size_t)snprintf(text, cap, HDR);
    for (int i = 1; i < SCN_MAX_DIRECTIVES + 1; i++)
        n += (size_t)snprintf(text + n, cap - n, "at 1s compact sso\n");
    parse_err(text, SCN_MAX_DIRECTIVES + 1, 1, "too many directives");
    n = (size_t)snprintf(text, cap, HDR);
    for (int i = 0; i <= SCN_MAX_VARIANTS; i++)
        n += (size_t)snprintf(text + n, cap - n, "variant v%d\n", i);
    parse_err(text, SCN_MAX_VARIANTS + 2, 1, "too many variants");
    free(text);
}
END_TEST

START_TEST(scn_errors_columns_count_characters)
{
    /* A multi-byte character before the error counts as one column. */
    parse_err(HDR "description \"\xc3\xa9\xe2\x82\xac\" extra\n", 2, 18, "unexpected 'extra'");
    /* A tab is one column. */
    parse_err(HDR "\tseed\tx\n", 2, 7, "expected a non-negative integer");
}
END_TEST

START_TEST(scn_errors_file)
{
    struct scn_file *f;
    struct scn_error err;
    char msg[1024];
    ck_assert_int_eq(scn_parse_file("/nonexistent/x.scn", &f, &err), ERR_IO);
    ck_assert_ptr_null(f);
    scn_error_format(&err, msg, sizeof msg);
    ck_assert_msg(strncmp(msg, "/nonexistent/x.scn: cannot open", 31) == 0, "%s", msg);
}
END_TEST

/* ---- fuzz --------------------------------------------------------------------------------- */

static uint64_t fz_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Parses buf and frees whatever came out; checks only that nothing crashes
 * (ASan/UBSan builds make this strict) and that errors have a position. */
static void fz_parse(const char *buf, size_t len)
{
    struct scn_file *f = NULL;
    struct scn_error err;
    int rc = scn_parse_buf("fz.scn", buf, len, &f, &err);
    if (rc == 0) {
        for (size_t i = 0; i <= scn_variant_count(f); i++) {
            struct scn_spec s;
            int rrc = scn_resolve(f, i ? scn_variant_name(f, i - 1) : NULL, NULL, 0, &s, &err);
            /* A parsed file resolves, unless it asks for more than a
             * scenario.max.* limit allows (then at a line and column). */
            if (rrc) {
                ck_assert_int_eq(rrc, ERR_PARSE);
                ck_assert_ptr_nonnull(strstr(err.msg, "scenario.max."));
                ck_assert_int_ge(err.line, 1);
                ck_assert_int_ge(err.col, 1);
                continue;
            }
            scn_spec_free(&s);
        }
        scn_free(f);
    } else {
        ck_assert_int_eq(rc, ERR_PARSE);
        ck_assert_int_ge(err.line, 1);
        ck_assert_int_ge(err.col, 1);
        ck_assert_ptr_null(f);
    }
}

START_TEST(scn_fuzz_truncations_and_mutations)
{
    char path[1024];
    FILE *fp = fopen(data_path("every-form.scn", path, sizeof path), "rb");
    char *src, *buf;
    size_t len;
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    static const char alphabet[] = " \t\n\"\\#=%:,/*?.-0123456789smhBKiMGaz\xc3\xa9\xff";
    ck_assert_ptr_nonnull(fp);
    src = malloc(1 << 16);
    len = fread(src, 1, 1 << 16, fp);
    fclose(fp);
    buf = malloc(len + 1);
    /* Every truncation. */
    for (size_t n = 0; n <= len; n += 7)
        fz_parse(src, n);
    /* Random byte mutations of the valid file. */
    for (int round = 0; round < 400; round++) {
        memcpy(buf, src, len);
        for (int k = 0; k < 1 + (int)(fz_next(&seed) % 8); k++) {
            size_t at = fz_next(&seed) % len;
            buf[at] = (fz_next(&seed) & 1) ? (char)fz_next(&seed)
                                           : alphabet[fz_next(&seed) % (sizeof alphabet - 1)];
        }
        fz_parse(buf, len);
    }
    /* Pure noise after a valid header. */
    for (int round = 0; round < 200; round++) {
        size_t n = strlen(HDR);
        memcpy(buf, HDR, n);
        for (; n < 600 && n < len; n++)
            buf[n] = alphabet[fz_next(&seed) % (sizeof alphabet - 1)];
        fz_parse(buf, n);
    }
    free(buf);
    free(src);
}
END_TEST

/* ---- commands ------------------------------------------------------------------------------- */

START_TEST(scn_cmd_check_exit_codes)
{
    char good[1024], good2[1024], dir[1024];
    char bad[] = "/tmp/s3sim-test-scn-XXXXXX";
    int fd = mkstemp(bad);
    char *argv_good[] = {"check", good, good2, NULL};
    char *argv_bad[] = {"check", good, bad, NULL};
    char *argv_dir[] = {"check", dir, NULL};
    char *argv_none[] = {"check", NULL};
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "scenario x\nat 5 compact sso\n", 28), 28);
    close(fd);
    data_path("composite-delete-after-failover.scn", good, sizeof good);
    data_path("every-form.scn", good2, sizeof good2);
    data_path("", dir, sizeof dir);
    ck_assert(freopen("/dev/null", "w", stdout) != NULL);
    ck_assert(freopen("/dev/null", "w", stderr) != NULL);
    ck_assert_int_eq(cmd_check(3, argv_good), 0);
    ck_assert_int_eq(cmd_check(3, argv_bad), 2);
    ck_assert_int_eq(cmd_check(2, argv_dir), 0);
    ck_assert_int_eq(cmd_check(1, argv_none), 2);
    unlink(bad);
    /* A directory with no *.scn is an error, as for run. */
    char empty[] = "/tmp/s3sim-test-empty-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(empty));
    char *argv_empty[] = {"check", empty, NULL};
    ck_assert_int_eq(cmd_check(2, argv_empty), 2);
    /* A FIFO named x.scn is refused, not read (it would block forever). */
    char fifo[128];
    snprintf(fifo, sizeof fifo, "%s/x.scn", empty);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    ck_assert_int_eq(cmd_check(2, argv_empty), 2);
    struct scn_file *f = NULL;
    struct scn_error err;
    ck_assert_int_ne(scn_parse_file(fifo, &f, &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "not a regular file"));
    unlink(fifo);
    rmdir(empty);
}
END_TEST

START_TEST(scn_cmd_knobs_prints_every_knob)
{
    char out[] = "/tmp/s3sim-test-knobs-XXXXXX";
    int fd = mkstemp(out);
    char *argv_k[] = {"knobs", NULL};
    char *argv_m[] = {"knobs", "--metrics", NULL};
    char *argv_bad[] = {"knobs", "--nope", NULL};
    static char text[1 << 16];
    FILE *fp;
    size_t n;
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert(freopen(out, "w", stdout) != NULL);
    ck_assert(freopen("/dev/null", "w", stderr) != NULL);
    ck_assert_int_eq(cmd_knobs(1, argv_k), 0);
    ck_assert_int_eq(cmd_knobs(2, argv_m), 0);
    ck_assert_int_eq(cmd_knobs(2, argv_bad), 2);
    fflush(stdout);
    fp = fopen(out, "r");
    ck_assert_ptr_nonnull(fp);
    n = fread(text, 1, sizeof text - 1, fp);
    text[n] = '\0';
    fclose(fp);
    unlink(out);
    for (int i = 0; i < CONF_COUNT; i++)
        ck_assert_msg(strstr(text, conf_knob((enum conf_id)i)->name), "missing knob %d", i);
    for (int i = 0; i < metric_count(); i++)
        ck_assert_msg(strstr(text, metric_name(i)), "missing metric %s", metric_name(i));
    ck_assert_ptr_nonnull(strstr(text, "[field bug F04: error ="));
}
END_TEST

static Suite *scn_errors_suite(void)
{
    Suite *s = suite_create("scn_errors");
    TCase *tc = tcase_create("scn_errors");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, scn_errors_table);
    tcase_add_test(tc, scn_errors_limits);
    tcase_add_test(tc, scn_errors_caps);
    tcase_add_test(tc, scn_errors_run_limits);
    tcase_add_test(tc, scn_errors_columns_count_characters);
    tcase_add_test(tc, scn_errors_file);
    tcase_add_test(tc, scn_fuzz_truncations_and_mutations);
    tcase_add_test(tc, scn_cmd_check_exit_codes);
    tcase_add_test(tc, scn_cmd_knobs_prints_every_knob);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(scn_errors_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
