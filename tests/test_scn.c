/* test_scn.c - the scenario parser (sim/scn.h): every directive, action, fault form,
 * check, variant merging and the documented examples.  Errors, fuzzing and the
 * commands are in test_scn_errors.c. */
#include "err.h"
#include "fault.h"
#include "fs3.h"
#include "metric_names.h"
#include "mdc.h"
#include "scn.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers -------------------------------------------------------------------------- */

#define HDR "scenario t\n"

static struct scn_file *parse_ok(const char *text)
{
    struct scn_file *f = NULL;
    struct scn_error err;
    char msg[1024];
    int rc = scn_parse_buf("t.scn", text, strlen(text), &f, &err);
    ck_assert_msg(rc == 0, "parse failed: %s", scn_error_format(&err, msg, sizeof msg));
    ck_assert_ptr_nonnull(f);
    return f;
}

/* The spec of variant (NULL: base); the caller frees it. */
static void resolve_ok(const struct scn_file *f, const char *variant, struct scn_spec *s)
{
    struct scn_error err;
    char msg[1024];
    int rc = scn_resolve(f, variant, NULL, 0, s, &err);
    ck_assert_msg(rc == 0, "resolve: %s", scn_error_format(&err, msg, sizeof msg));
}

/* The one event of a one-action scenario. */
static struct scn_event one_event(const char *text)
{
    struct scn_file *f = parse_ok(text);
    struct scn_spec s;
    struct scn_event e;
    resolve_ok(f, NULL, &s);
    ck_assert_uint_eq(s.nevents, 1);
    e = s.events[0];
    scn_spec_free(&s);
    scn_free(f);
    return e;
}

/* The one explicit check (the first) of a scenario. */
static struct scn_check one_check(const char *text)
{
    struct scn_file *f = parse_ok(text);
    struct scn_spec s;
    struct scn_check c;
    resolve_ok(f, NULL, &s);
    ck_assert_uint_ge(s.nchecks, 1);
    c = s.checks[0];
    scn_spec_free(&s);
    scn_free(f);
    return c;
}

/* The one top-level fault rule. */
static struct fs3_rule one_rule(const char *line)
{
    char text[1024];
    struct scn_file *f;
    struct scn_spec s;
    struct fs3_rule r;
    snprintf(text, sizeof text, HDR "%s\n", line);
    f = parse_ok(text);
    resolve_ok(f, NULL, &s);
    ck_assert_uint_eq(s.nfaults, 1);
    r = s.faults[0];
    scn_spec_free(&s);
    scn_free(f);
    return r;
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

/* ---- directives ------------------------------------------------------------------------ */

START_TEST(scn_minimal_defaults)
{
    struct scn_file *f = parse_ok("scenario a-1\n");
    struct scn_spec s;
    struct conf c;
    resolve_ok(f, NULL, &s);
    conf_init(&c);
    ck_assert_str_eq(s.scenario, "a-1");
    ck_assert_str_eq(s.variant, "base");
    ck_assert_str_eq(s.description, "");
    ck_assert(s.seed == 1);
    ck_assert_int_eq(s.deadline_us, ENV_USEC_PER_HOUR);
    ck_assert_int_eq(s.streams, 0);
    ck_assert_mem_eq(&s.conf, &c, sizeof c);
    ck_assert_uint_eq(s.nevents, 0);
    ck_assert_uint_eq(s.nfaults, 0);
    ck_assert_uint_eq(s.nchecks, 7); /* the implicit no-hang, no-error-log,
                                        failures-explained, writes-once,
                                        requests-counted, no-leak and vacuous gate */
    ck_assert_int_eq(s.checks[0].kind, SCN_CHK_NO_HANG);
    ck_assert_int_eq(s.checks[1].kind, SCN_CHK_NO_ERROR_LOG);
    ck_assert_int_eq(s.checks[2].kind, SCN_CHK_FAILURES_EXPLAINED);
    ck_assert_int_eq(s.checks[3].kind, SCN_CHK_WRITES_ONCE);
    ck_assert_int_eq(s.checks[4].kind, SCN_CHK_REQUESTS_COUNTED);
    ck_assert_int_eq(s.checks[5].kind, SCN_CHK_NO_LEAK);
    ck_assert_int_eq(s.checks[6].kind, SCN_CHK_VACUOUS);
    ck_assert_int_eq(s.checks[0].line, 0);
    ck_assert(!s.checks[0].expect_fail);
    ck_assert_uint_eq(scn_variant_count(f), 0);
    scn_spec_free(&s);
    scn_free(f);
}
END_TEST

START_TEST(scn_scalar_directives)
{
    struct scn_file *f = parse_ok("# leading comment\n\n  scenario x # trailing\n"
                                  "description \"a \\\"quoted\\\" \\\\ text # not a comment\"\n"
                                  "seed 42\ndeadline 1h30m\nstreams 7\r\n"
                                  "set s3.op.timeout 30s\nset s3.retry.max=3\n"
                                  "set cluster.id \"c 1\"\nset s3.region=\"r 2\"\n");
    struct scn_spec s;
    resolve_ok(f, NULL, &s);
    ck_assert_str_eq(f->name, "x");
    ck_assert_str_eq(s.description, "a \"quoted\" \\ text # not a comment");
    ck_assert(s.seed == 42);
    ck_assert_int_eq(s.deadline_us, 90 * ENV_USEC_PER_MIN);
    ck_assert_int_eq(s.streams, 7);
    ck_assert_int_eq(conf_get(&s.conf, CONF_OP_TIMEOUT), 30 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(conf_get(&s.conf, CONF_RETRY_MAX), 3);
    ck_assert_str_eq(conf_str(&s.conf, CONF_CLUSTER_ID), "c 1");
    ck_assert_str_eq(conf_str(&s.conf, CONF_REGION), "r 2");
    scn_spec_free(&s);
    scn_free(f);
}
END_TEST

/* swarm and seeds A..B (extensions): a variant may add swarm; seeds is the base's. */
START_TEST(scn_swarm_and_seeds)
{
    struct scn_file *f = parse_ok("scenario x\nseed 7\nseeds 3..12\nvariant plain\n"
                                  "variant sw\nswarm\n");
    struct scn_spec s;
    resolve_ok(f, NULL, &s);
    ck_assert(!s.swarm);
    ck_assert(s.have_seeds);
    ck_assert(s.seeds_lo == 3 && s.seeds_hi == 12);
    ck_assert(s.seed == 7); /* seed N stays the seed of one run */
    scn_spec_free(&s);
    resolve_ok(f, "sw", &s);
    ck_assert(s.swarm);
    ck_assert(s.have_seeds && s.seeds_lo == 3 && s.seeds_hi == 12);
    scn_spec_free(&s);
    scn_free(f);
    f = parse_ok("scenario x\nswarm\nseeds 4..4\nvariant v\nstreams 1\n");
    resolve_ok(f, "v", &s);
    ck_assert(s.swarm); /* inherited from the base */
    ck_assert(s.seeds_lo == 4 && s.seeds_hi == 4);
    scn_spec_free(&s);
    scn_free(f);
    f = parse_ok("scenario x\n");
    resolve_ok(f, NULL, &s);
    ck_assert(!s.swarm && !s.have_seeds && s.seed == 1);
    scn_spec_free(&s);
    scn_free(f);
}
END_TEST

START_TEST(scn_set_automq_forms)
{
    /* Lines pasted from server.properties, in both forms. */
    struct scn_file *f = parse_ok(HDR "set s3.wal.upload.interval.ms=5000\n"
                                      "set s3.stream.set.object.compaction.interval.minutes 2\n"
                                      "set s3.stream.object.compaction.max.size.bytes=1073741824\n"
                                      "set s3.object.block.size 1048576\n"
                                      "set s3.retry.max = 4\nset s3.inflight.max= 9\n"
                                      "set s3.object.part.size =8MiB\n");
    struct scn_spec s;
    resolve_ok(f, NULL, &s);
    ck_assert_int_eq(conf_get(&s.conf, CONF_WAL_UPLOAD_INTERVAL), 5 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(conf_get(&s.conf, CONF_SSO_INTERVAL), 2 * ENV_USEC_PER_MIN);
    ck_assert_int_eq(conf_get(&s.conf, CONF_SO_MAX_SIZE), 1LL << 30);
    ck_assert_int_eq(conf_get(&s.conf, CONF_BLOCK_SIZE), 1LL << 20);
    ck_assert_int_eq(conf_get(&s.conf, CONF_RETRY_MAX), 4);
    ck_assert_int_eq(conf_get(&s.conf, CONF_INFLIGHT_MAX), 9);
    ck_assert_int_eq(conf_get(&s.conf, CONF_PART_SIZE), 8LL << 20);
    scn_spec_free(&s);
    scn_free(f);
}
END_TEST

START_TEST(scn_at_and_every)
{
    struct scn_event e = one_event(HDR "at 8m10s compact sso\n");
    ck_assert_int_eq(e.at_us, 490 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(e.period_us, 0);
    ck_assert_int_eq(e.until_us, ENV_TIME_NEVER);
    ck_assert_int_eq(e.line, 2);
    ck_assert_int_eq(e.act.kind, SCN_ACT_COMPACT);
    ck_assert_int_eq(e.act.col, 10);
    e = one_event(HDR "every 15s from=46m until=49m crash node=controller restart_after=1s\n");
    ck_assert_int_eq(e.period_us, 15 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(e.at_us, 46 * ENV_USEC_PER_MIN);
    ck_assert_int_eq(e.until_us, 49 * ENV_USEC_PER_MIN);
    ck_assert_int_eq(e.act.kind, SCN_ACT_CRASH);
    e = one_event(HDR "every 1m until=5m compact stream\n");
    ck_assert_int_eq(e.at_us, 0);
    ck_assert_int_eq(e.until_us, 5 * ENV_USEC_PER_MIN);
    e = one_event(HDR "every 250ms compact sso\n");
    ck_assert_int_eq(e.period_us, 250000);
    ck_assert_int_eq(e.until_us, ENV_TIME_NEVER);
}
END_TEST

/* ---- actions ----------------------------------------------------------------------------- */

START_TEST(scn_action_append)
{
    struct scn_event e = one_event(HDR "streams 2\nat 0s append stream=2 bytes=5MiB\n");
    ck_assert_int_eq(e.act.kind, SCN_ACT_APPEND);
    ck_assert_int_eq(e.act.stream, 2);
    ck_assert_int_eq(e.act.stream_col, 14);
    ck_assert_int_eq(e.act.bytes, 5LL << 20);
    ck_assert_int_eq(e.act.record, 1024);
    ck_assert_int_eq(e.act.gap, 0);
    e = one_event(HDR "streams 1\nat 1s append record=100B gap=2147483648 bytes=1MB stream=all\n");
    ck_assert_int_eq(e.act.stream, 0);
    ck_assert_int_eq(e.act.bytes, 1000000);
    ck_assert_int_eq(e.act.record, 100);
    ck_assert_int_eq(e.act.gap, 2147483648LL);
}
END_TEST

START_TEST(scn_action_load)
{
    struct scn_event e = one_event(HDR "streams 3\nat 0s load rate=32KiB/s streams=1,3 "
                                       "until=40m record=512B\n");
    ck_assert_int_eq(e.act.kind, SCN_ACT_LOAD);
    ck_assert_int_eq(e.act.rate, 32768);
    ck_assert_int_eq(e.act.record, 512);
    ck_assert_int_eq(e.act.nstreams, 2);
    ck_assert_int_eq(e.act.streams[0], 1);
    ck_assert_int_eq(e.act.streams[1], 3);
    ck_assert_int_eq(e.act.until_us, 40 * ENV_USEC_PER_MIN);
    e = one_event(HDR "at 0s load rate=1MB/s streams=all\n");
    ck_assert_int_eq(e.act.nstreams, 0);
    ck_assert_int_eq(e.act.until_us, ENV_TIME_NEVER);
    ck_assert_int_eq(e.act.record, 1024);
}
END_TEST

START_TEST(scn_action_trim_delete_compact)
{
    struct scn_event e = one_event(HDR "streams 2\nat 1m trim stream=1 to=1000\n");
    ck_assert_int_eq(e.act.kind, SCN_ACT_TRIM);
    ck_assert_int_eq(e.act.stream, 1);
    ck_assert_int_eq(e.act.to_offset, 1000);
    ck_assert_int_eq(e.act.to_ppm, -1);
    e = one_event(HDR "streams 2\nat 1m trim to=12.5% stream=2\n");
    ck_assert_int_eq(e.act.to_offset, -1);
    ck_assert_int_eq(e.act.to_ppm, 125000);
    e = one_event(HDR "streams 2\nat 1m delete-stream stream=2\n");
    ck_assert_int_eq(e.act.kind, SCN_ACT_DELETE_STREAM);
    ck_assert_int_eq(e.act.stream, 2);
    e = one_event(HDR "at 1m compact sso\n");
    ck_assert_int_eq(e.act.compact, SCN_COMPACT_SSO);
    ck_assert(!e.act.force);
    e = one_event(HDR "at 1m compact stream force\n");
    ck_assert_int_eq(e.act.compact, SCN_COMPACT_STREAM);
    ck_assert(e.act.force);
}
END_TEST

START_TEST(scn_action_crash_race)
{
    struct scn_event e = one_event(HDR "at 1m crash\n");
    ck_assert_int_eq(e.act.kind, SCN_ACT_CRASH);
    ck_assert_int_eq(e.act.node, SCN_NODE_BROKER);
    ck_assert_int_eq(e.act.restart_after_us, ENV_USEC_PER_SEC);
    e = one_event(HDR "at 1m crash restart_after=1m30s node=all\n");
    ck_assert_int_eq(e.act.node, SCN_NODE_ALL);
    ck_assert_int_eq(e.act.restart_after_us, 90 * ENV_USEC_PER_SEC);
    e = one_event(HDR "at 1m crash node=controller\n");
    ck_assert_int_eq(e.act.node, SCN_NODE_CONTROLLER);
    e = one_event(HDR "at 1m race-delete target=marked\n");
    ck_assert_int_eq(e.act.kind, SCN_ACT_RACE_DELETE);
    ck_assert_int_eq(e.act.race, SCN_RACE_MARKED);
    ck_assert_str_eq(e.act.key, "*");
    ck_assert_int_eq(e.act.count, 1);
    e = one_event(HDR "at 1m race-delete count=3 key=\"*/_kafka_*/12*\" target=linked\n");
    ck_assert_int_eq(e.act.race, SCN_RACE_LINKED);
    ck_assert_str_eq(e.act.key, "*/_kafka_*/12*");
    ck_assert_int_eq(e.act.count, 3);
    ck_assert_int_eq(one_event(HDR "at 0s race-delete target=live\n").act.race, SCN_RACE_LIVE);
    ck_assert_int_eq(one_event(HDR "at 0s race-delete target=composite\n").act.race,
                     SCN_RACE_COMPOSITE);
    ck_assert_int_eq(one_event(HDR "at 0s race-delete target=prepared\n").act.race,
                     SCN_RACE_PREPARED);
    ck_assert_int_eq(one_event(HDR "at 0s race-delete target=any\n").act.race, SCN_RACE_ANY);
}
END_TEST

START_TEST(scn_action_read_race_put)
{
    struct scn_event e = one_event(HDR "streams 2\nat 1m read stream=all\n");
    ck_assert_int_eq(e.act.kind, SCN_ACT_READ);
    ck_assert_int_eq(e.act.stream, 0);
    ck_assert_int_eq(e.act.from_offset, -1);
    ck_assert_int_eq(e.act.from_ppm, -1);
    ck_assert_int_eq(e.act.bytes, 0);
    e = one_event(HDR "streams 2\nat 1m read bytes=64KiB from=12 stream=2\n");
    ck_assert_int_eq(e.act.stream, 2);
    ck_assert_int_eq(e.act.from_offset, 12);
    ck_assert_int_eq(e.act.bytes, 65536);
    e = one_event(HDR "streams 2\nevery 10s from=1m read stream=1 from=100%\n");
    ck_assert_int_eq(e.period_us, 10 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(e.act.from_ppm, 1000000);
    ck_assert_int_eq(e.act.from_offset, -1);
    ck_assert_str_eq(scn_act_name(SCN_ACT_READ), "read");
    e = one_event(HDR "at 1m race-put id=next\n");
    ck_assert_int_eq(e.act.kind, SCN_ACT_RACE_PUT);
    ck_assert(e.act.put_next);
    ck_assert_int_eq(e.act.put_id, 0);
    ck_assert_str_eq(e.act.key, "");
    ck_assert_int_eq(e.act.bytes, 1024);
    e = one_event(HDR "at 1m race-put id=next+3 bytes=2KiB\n");
    ck_assert(e.act.put_next);
    ck_assert_int_eq(e.act.put_id, 3);
    ck_assert_int_eq(e.act.bytes, 2048);
    e = one_event(HDR "at 1m race-put id=42\n");
    ck_assert(!e.act.put_next);
    ck_assert_int_eq(e.act.put_id, 42);
    e = one_event(HDR "at 1m race-put key=\"a/_kafka_x/7\" bytes=0B\n");
    ck_assert_str_eq(e.act.key, "a/_kafka_x/7");
    ck_assert_int_eq(e.act.put_id, -1);
    ck_assert_int_eq(e.act.bytes, 0);
    ck_assert_str_eq(scn_act_name(SCN_ACT_RACE_PUT), "race-put");
}
END_TEST

/* A read line brings reads-correct with it (before failures-explained, writes-once,
 * requests-counted, no-leak and the vacuous gate); a file's own line replaces it. */
START_TEST(scn_read_implies_reads_correct)
{
    struct scn_file *f = parse_ok(HDR "streams 1\nat 1m read stream=1\n");
    struct scn_spec s;
    size_t n = 0;
    resolve_ok(f, NULL, &s);
    ck_assert_uint_ge(s.nchecks, 6);
    ck_assert_int_eq(s.checks[s.nchecks - 6].kind, SCN_CHK_READS_CORRECT);
    ck_assert_int_eq(s.checks[s.nchecks - 6].line, 0);
    ck_assert_int_eq(s.checks[s.nchecks - 5].kind, SCN_CHK_FAILURES_EXPLAINED);
    ck_assert_int_eq(s.checks[s.nchecks - 4].kind, SCN_CHK_WRITES_ONCE);
    ck_assert_int_eq(s.checks[s.nchecks - 3].kind, SCN_CHK_REQUESTS_COUNTED);
    ck_assert_int_eq(s.checks[s.nchecks - 2].kind, SCN_CHK_NO_LEAK);
    ck_assert_int_eq(s.checks[s.nchecks - 1].kind, SCN_CHK_VACUOUS);
    scn_spec_free(&s);
    scn_free(f);
    f = parse_ok(HDR "streams 1\nat 1m read stream=1\nexpect-fail reads-correct\n");
    resolve_ok(f, NULL, &s);
    for (size_t i = 0; i < s.nchecks; i++)
        n += s.checks[i].kind == SCN_CHK_READS_CORRECT;
    ck_assert_uint_eq(n, 1);
    scn_spec_free(&s);
    scn_free(f);
    f = parse_ok(HDR "streams 1\nat 1m append stream=1 bytes=1KiB\n");
    resolve_ok(f, NULL, &s);
    for (size_t i = 0; i < s.nchecks; i++)
        ck_assert_int_ne(s.checks[i].kind, SCN_CHK_READS_CORRECT);
    scn_spec_free(&s);
    scn_free(f);
}
END_TEST

START_TEST(scn_action_fault_heal)
{
    struct scn_file *f = parse_ok(HDR "at 20m fault name=x get status=500 until=30m\n"
                                      "at 25m heal x\nat 31m heal all\n");
    struct scn_spec s;
    resolve_ok(f, NULL, &s);
    ck_assert_uint_eq(s.nevents, 3);
    ck_assert_uint_eq(s.nfaults, 0);
    ck_assert_int_eq(s.events[0].act.kind, SCN_ACT_FAULT);
    ck_assert_str_eq(s.events[0].act.rule.name, "x");
    ck_assert_int_eq(s.events[0].act.rule.op, S3_OP_GET);
    ck_assert_int_eq(s.events[0].act.rule.until_us, 30 * ENV_USEC_PER_MIN);
    ck_assert_int_eq(s.events[0].act.rule.line, 2);
    ck_assert_int_eq(s.events[1].act.kind, SCN_ACT_HEAL);
    ck_assert_str_eq(s.events[1].act.heal, "x");
    ck_assert(!s.events[1].act.heal_all);
    ck_assert(s.events[2].act.heal_all);
    ck_assert_int_eq(s.last_action_us, 31 * ENV_USEC_PER_MIN);
    scn_spec_free(&s);
    scn_free(f);
}
END_TEST

START_TEST(scn_last_action)
{
    struct scn_file *f = parse_ok(HDR "deadline 3h\nat 0s load rate=1MB/s until=40m\n"
                                      "every 1m until=20m compact sso\nat 10m compact sso\n");
    struct scn_spec s;
    resolve_ok(f, NULL, &s);
    ck_assert_int_eq(s.last_action_us, 40 * ENV_USEC_PER_MIN);
    scn_spec_free(&s);
    scn_free(f);
    f = parse_ok(HDR "deadline 3h\nevery 1m compact sso\n");
    resolve_ok(f, NULL, &s);
    ck_assert_int_eq(s.last_action_us, 3 * ENV_USEC_PER_HOUR);
    scn_spec_free(&s);
    scn_free(f);
}
END_TEST

/* ---- faults ------------------------------------------------------------------------------ */

START_TEST(scn_fault_defaults_and_ops)
{
    struct fs3_rule r = one_rule("fault get timeout");
    ck_assert_str_eq(r.name, "");
    ck_assert_int_eq(r.op, S3_OP_GET);
    ck_assert_str_eq(r.key_glob, "*");
    ck_assert_uint_eq(r.kind_mask, FS3_KIND_ANY);
    ck_assert_int_eq(r.match, FS3_MATCH_ALL);
    ck_assert_int_eq(r.times, -1);
    ck_assert_int_eq(r.from_us, 0);
    ck_assert_int_eq(r.until_us, ENV_TIME_NEVER);
    ck_assert_int_eq(r.effect, FS3_EFF_TIMEOUT);
    ck_assert_int_eq(r.line, 2);
    static const char *const ops[] = {"get",       "head",     "put",        "list",
                                      "delete",    "delete-many", "mpu-create", "mpu-part",
                                      "mpu-copy",  "mpu-complete", "mpu-abort", "list-uploads"};
    for (int i = 0; i < S3_OP_COUNT; i++) {
        char line[128];
        snprintf(line, sizeof line, "fault %s stall", ops[i]);
        ck_assert_int_eq(one_rule(line).op, i);
    }
    ck_assert_int_eq(one_rule("fault any stall").op, FS3_OP_ANY);
}
END_TEST

START_TEST(scn_fault_effects)
{
    struct fs3_rule r = one_rule("fault put status=503");
    ck_assert_int_eq(r.effect, FS3_EFF_STATUS);
    ck_assert_int_eq(r.status, 503);
    ck_assert_int_eq(r.code, S3E_NONE);
    r = one_rule("fault head status=404:NoSuchKey");
    ck_assert_int_eq(r.status, 404);
    ck_assert_int_eq(r.code, S3E_NO_SUCH_KEY);
    r = one_rule("fault mpu-complete status=200:InternalError");
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(r.code, S3E_INTERNAL_ERROR);
    ck_assert_int_eq(one_rule("fault get lost").effect, FS3_EFF_LOST);
    ck_assert_int_eq(one_rule("fault get stall").effect, FS3_EFF_STALL);
    ck_assert_int_eq(one_rule("fault get reset").effect, FS3_EFF_RESET);
    r = one_rule("fault get delay=20s");
    ck_assert_int_eq(r.effect, FS3_EFF_DELAY);
    ck_assert_int_eq(r.delay_us, 20 * ENV_USEC_PER_SEC);
    r = one_rule("fault list stale=30s");
    ck_assert_int_eq(r.effect, FS3_EFF_STALE);
    ck_assert_int_eq(r.stale_us, 30 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(one_rule("fault mpu-part partial").effect, FS3_EFF_PARTIAL);
    ck_assert_int_eq(one_rule("fault mpu-complete partial").effect, FS3_EFF_PARTIAL);
    ck_assert_int_eq(one_rule("fault delete-many partial").effect, FS3_EFF_PARTIAL);
    ck_assert_int_eq(one_rule("fault put partial").effect, FS3_EFF_PARTIAL);
    ck_assert_int_eq(one_rule("fault get partial").effect, FS3_EFF_PARTIAL);
    r = one_rule("fault get corrupt");
    ck_assert_int_eq(r.effect, FS3_EFF_CORRUPT);
    ck_assert_int_eq(r.corrupt_at, -1);
    ck_assert_int_eq(one_rule("fault get byte=0 corrupt").corrupt_at, 0);
    ck_assert_int_eq(one_rule("fault any corrupt byte=-84").corrupt_at, -84);
    {
        /* byte= is written back only when it is not the default. */
        char line[600];
        struct fs3_rule back;
        struct scn_error err;
        const char *forms[] = {"fault get corrupt", "fault name=c get kind=sso times=1 corrupt byte=-48"};
        for (int i = 0; i < 2; i++) {
            r = one_rule(forms[i]);
            scn_rule_format(&r, line, sizeof line);
            ck_assert_str_eq(line, forms[i]);
            ck_assert_int_eq(scn_parse_fault("fmt", line, &back, &err), 0);
            back.line = r.line;
            ck_assert(memcmp(&back, &r, sizeof back) == 0);
        }
    }
}
END_TEST

START_TEST(scn_fault_effect_before_op)
{
    /* Named arguments come in any order, so status= may even precede the op. */
    struct fs3_rule r = one_rule("fault status=500 name=n get");
    ck_assert_int_eq(r.op, S3_OP_GET);
    ck_assert_int_eq(r.status, 500);
    r = one_rule("fault timeout put");
    ck_assert_int_eq(r.op, S3_OP_PUT);
    ck_assert_int_eq(r.effect, FS3_EFF_TIMEOUT);
}
END_TEST

START_TEST(scn_fault_counters)
{
    struct fs3_rule r = one_rule("fault kind=linked,composite times=4 name=n1 "
                                 "delete-many from=45m prob=25% until=50m key=a?b* status=500");
    ck_assert_str_eq(r.name, "n1");
    ck_assert_int_eq(r.op, S3_OP_DELETE_MANY);
    ck_assert_uint_eq(r.kind_mask, FS3_KIND_LINKED | FS3_KIND_COMPOSITE);
    ck_assert_int_eq(r.times, 4);
    ck_assert_int_eq(r.match, FS3_MATCH_PROB);
    ck_assert_double_eq_tol(r.prob, 0.25, 1e-12);
    ck_assert_int_eq(r.from_us, 45 * ENV_USEC_PER_MIN);
    ck_assert_int_eq(r.until_us, 50 * ENV_USEC_PER_MIN);
    ck_assert_str_eq(r.key_glob, "a?b*");
    ck_assert_int_eq(r.status, 500);
    r = one_rule("fault put nth=3 timeout");
    ck_assert_int_eq(r.match, FS3_MATCH_NTH);
    ck_assert_int_eq(r.n, 3);
    r = one_rule("fault put timeout after=0 times=always");
    ck_assert_int_eq(r.match, FS3_MATCH_AFTER);
    ck_assert_int_eq(r.n, 0);
    ck_assert_int_eq(r.times, -1);
    ck_assert_uint_eq(one_rule("fault get kind=sso stall").kind_mask, FS3_KIND_SSO);
    ck_assert_uint_eq(one_rule("fault get kind=stream stall").kind_mask, FS3_KIND_STREAM);
    ck_assert_uint_eq(one_rule("fault get kind=prepared stall").kind_mask, FS3_KIND_PREPARED);
    ck_assert_uint_eq(one_rule("fault get kind=any stall").kind_mask, FS3_KIND_ANY);
}
END_TEST

START_TEST(scn_fault_rpc_kinds)
{
    /* kind= of an rpc op is its sender, a mask of enum mdc_kind in job_mask (0: any); a list
     * that names every kind of the op is any; formatted, a rule parses back to itself. */
    const char *forms[] = {"fault name=k rpc-commit-stream kind=minor,cleanup nth=2 lost",
                           "fault rpc-prepare kind=wal-upload,major after=3 timeout",
                           "fault rpc-commit-sso kind=force-split times=2 error=OBJECT_NOT_EXIST",
                           "fault rpc-trim from=1m until=2m stall"};
    char line[600];
    struct fs3_rule r = one_rule(forms[0]), back;
    struct scn_error err;
    ck_assert_uint_eq(r.job_mask, 1u << MDC_KIND_MINOR | 1u << MDC_KIND_CLEANUP);
    ck_assert_uint_eq(one_rule("fault rpc-commit-sso kind=sso-compaction lost").job_mask,
                      1u << MDC_KIND_SSO_COMPACTION);
    ck_assert_uint_eq(one_rule("fault rpc-prepare kind=stream-compaction lost").job_mask,
                      1u << MDC_KIND_MINOR | 1u << MDC_KIND_MAJOR | 1u << MDC_KIND_CLEANUP);
    ck_assert_uint_eq(one_rule("fault rpc-commit-stream kind=stream-compaction lost").job_mask, 0);
    ck_assert_uint_eq(one_rule("fault rpc-commit-sso kind=any lost").job_mask, 0);
    ck_assert_uint_eq(one_rule("fault rpc-commit-sso lost").job_mask, 0);
    ck_assert_uint_eq(one_rule("fault rpc-commit-sso lost").kind_mask, FS3_KIND_ANY);
    for (int i = 0; i < 4; i++) {
        r = one_rule(forms[i]);
        scn_rule_format(&r, line, sizeof line);
        ck_assert_str_eq(line, forms[i]);
        ck_assert_int_eq(scn_parse_fault("fmt", line, &back, &err), 0);
        back.line = r.line;
        ck_assert(memcmp(&back, &r, sizeof back) == 0);
    }
    ck_assert_int_eq(scn_parse_fault("f", "rpc-commit-sso kind=cleanup lost", &r, &err), ERR_PARSE);
    ck_assert_int_eq(err.col, 21);
    ck_assert_int_eq(scn_parse_fault("f", "rpc-trim kind=any lost", &r, &err), ERR_PARSE);
    ck_assert_int_eq(scn_parse_fault("f", "rpc-prepare job=wal-upload lost", &r, &err), ERR_PARSE);
}
END_TEST

START_TEST(scn_fault_line_api)
{
    struct fs3_rule r;
    struct scn_error err;
    ck_assert_int_eq(scn_parse_fault("--fault", "fault name=z put status=503 nth=2", &r, &err), 0);
    ck_assert_str_eq(r.name, "z");
    ck_assert_int_eq(r.op, S3_OP_PUT);
    ck_assert_int_eq(r.n, 2);
    ck_assert_int_eq(scn_parse_fault("--fault", "get stall", &r, &err), 0);
    ck_assert_int_eq(r.effect, FS3_EFF_STALL);
    ck_assert_int_eq(scn_parse_fault("--fault", "get", &r, &err), ERR_PARSE);
    ck_assert_int_eq(err.line, 1);
    ck_assert_int_eq(err.col, 4);
    ck_assert_str_eq(err.file, "--fault");
    ck_assert_int_eq(scn_parse_fault("--fault", "get stall\nput stall", &r, &err), ERR_PARSE);
}
END_TEST

START_TEST(scn_rule_format_round_trips)
{
    /* Every fault rule of every-form.scn, formatted, parses back to itself. */
    char path[1024], line[600];
    struct scn_file *f;
    struct scn_error err;
    int n = 0;
    ck_assert_int_eq(scn_parse_file(data_path("every-form.scn", path, sizeof path), &f, &err), 0);
    for (size_t i = 0; i < f->sections[0].nlines; i++) {
        const struct scn_line *l = &f->sections[0].lines[i];
        const struct fs3_rule *r = l->kind == SCN_L_FAULT ? &l->act.rule
                                   : l->kind == SCN_L_EVENT && l->event.act.kind == SCN_ACT_FAULT
                                       ? &l->event.act.rule
                                       : NULL;
        struct fs3_rule back;
        if (!r)
            continue;
        n++;
        scn_rule_format(r, line, sizeof line);
        ck_assert_msg(scn_parse_fault("fmt", line, &back, &err) == 0, "%s: %s", line, err.msg);
        back.line = r->line;
        ck_assert_msg(back.prob == r->prob, "'%s' reads back as %.17g, not %.17g", line,
                      back.prob, r->prob);
        ck_assert_msg(memcmp(&back, r, sizeof back) == 0, "round trip of '%s'", line);
    }
    ck_assert_int_eq(n, 15);
    {
        /* A glob that needs quotes and escapes, a kind list, a fraction. */
        struct fs3_rule r = one_rule("fault name=q list key=\"a \\\"b\\\\#\" kind=sso,linked "
                                     "prob=0.1 times=3 from=1h until=1h30m500ms stale=2s");
        struct fs3_rule back;
        ck_assert_str_eq(r.key_glob, "a \"b\\#");
        scn_rule_format(&r, line, sizeof line);
        ck_assert_str_eq(line, "fault name=q list key=\"a \\\"b\\\\#\" kind=sso,linked "
                               "prob=0.1 times=3 from=1h until=1h30m500ms "
                               "stale=2s");
        ck_assert_int_eq(scn_parse_fault("fmt", line, &back, &err), 0);
        ck_assert_str_eq(back.key_glob, r.key_glob);
        ck_assert(back.prob == r.prob);
    }
    scn_free(f);
}
END_TEST

START_TEST(scn_rules_accepted_by_the_shim)
{
    /* Every rule the parser accepts, the fault shim accepts too. */
    char path[1024];
    struct scn_file *f;
    struct scn_error err;
    struct env env;
    struct fs3 *store;
    struct fs3_fault *shim;
    int n = 0;
    memset(&env, 0, sizeof env);
    store = fs3_new(&env, NULL);
    shim = fs3_fault_new(&env, store, NULL, NULL);
    ck_assert_ptr_nonnull(shim);
    ck_assert_int_eq(scn_parse_file(data_path("every-form.scn", path, sizeof path), &f, &err), 0);
    for (size_t k = 0; k < f->nsections; k++)
        for (size_t i = 0; i < f->sections[k].nlines; i++) {
            const struct scn_line *l = &f->sections[k].lines[i];
            if (l->kind == SCN_L_FAULT) {
                ck_assert_int_eq(fs3_fault_add(shim, &l->act.rule), 0);
                n++;
            } else if (l->kind == SCN_L_EVENT && l->event.act.kind == SCN_ACT_FAULT) {
                ck_assert_int_eq(fs3_fault_add(shim, &l->event.act.rule), 0);
                n++;
            }
        }
    ck_assert_uint_eq(fs3_fault_nrules(shim), (size_t)n);
    ck_assert_int_eq(fs3_fault_heal(shim, "a"), 1);
    fs3_fault_free(shim);
    fs3_free(store);
    scn_free(f);
}
END_TEST

/* ---- checks -------------------------------------------------------------------------------- */

START_TEST(scn_checks_every_kind)
{
    struct scn_check c = one_check(HDR "expect no-hang\n");
    ck_assert_int_eq(c.kind, SCN_CHK_NO_HANG);
    ck_assert_int_eq(c.line, 2);
    c = one_check(HDR "expect converged\n");
    ck_assert_int_eq(c.kind, SCN_CHK_CONVERGED);
    ck_assert_int_eq(c.within_us, ENV_TIME_NEVER);
    c = one_check(HDR "expect converged within=2h\n");
    ck_assert_int_eq(c.within_us, 2 * ENV_USEC_PER_HOUR);
    ck_assert_int_eq(one_check(HDR "expect no-orphans\n").kind, SCN_CHK_NO_ORPHANS);
    ck_assert_int_eq(one_check(HDR "expect no-missing\n").kind, SCN_CHK_NO_MISSING);
    ck_assert_int_eq(one_check(HDR "expect no-dangling-uploads\n").kind,
                     SCN_CHK_NO_DANGLING_UPLOADS);
    ck_assert_int_eq(one_check(HDR "expect no-data-loss\n").kind, SCN_CHK_NO_DATA_LOSS);
    c = one_check(HDR "expect memory <= 200MiB\n");
    ck_assert_int_eq(c.kind, SCN_CHK_MEMORY);
    ck_assert_int_eq(c.cmp, SCN_CMP_LE);
    ck_assert_int_eq(c.value, 200LL << 20);
    c = one_check(HDR "expect log error match=\"Delete composite object\" count == 0\n");
    ck_assert_int_eq(c.kind, SCN_CHK_LOG);
    ck_assert_int_eq(c.level, ENV_LOG_ERROR);
    ck_assert(c.has_match);
    ck_assert_str_eq(c.match, "Delete composite object");
    ck_assert_int_eq(c.cmp, SCN_CMP_EQ);
    ck_assert_int_eq(c.value, 0);
    c = one_check(HDR "expect log warn count >= 3 match=x\n");
    ck_assert_int_eq(c.level, ENV_LOG_WARN);
    ck_assert_int_eq(c.cmp, SCN_CMP_GE);
    ck_assert_str_eq(c.match, "x");
    c = one_check(HDR "expect log info count < 5\n");
    ck_assert_int_eq(c.level, ENV_LOG_INFO);
    ck_assert(!c.has_match);
    ck_assert_int_eq(c.cmp, SCN_CMP_LT);
    c = one_check(HDR "expect log debug count > 5\n");
    ck_assert_int_eq(c.level, ENV_LOG_DEBUG);
    ck_assert_int_eq(c.cmp, SCN_CMP_GT);
    c = one_check(HDR "expect metric s3.calls.delete-many <= 12\n");
    ck_assert_int_eq(c.kind, SCN_CHK_METRIC);
    ck_assert_int_eq(c.metric, METRIC_S3_CALLS_OP + S3_OP_DELETE_MANY);
    ck_assert_int_eq(c.value, 12);
    c = one_check(HDR "expect-fail metric objects.composite.created >= 1\n");
    ck_assert(c.expect_fail);
    ck_assert_int_eq(c.metric, METRIC_COMPOSITE_CREATED);
}
END_TEST

START_TEST(scn_cmp_semantics)
{
    ck_assert(scn_cmp_holds(SCN_CMP_EQ, 3, 3));
    ck_assert(!scn_cmp_holds(SCN_CMP_EQ, 3, 4));
    ck_assert(scn_cmp_holds(SCN_CMP_LE, 3, 3));
    ck_assert(!scn_cmp_holds(SCN_CMP_LE, 4, 3));
    ck_assert(scn_cmp_holds(SCN_CMP_GE, 3, 3));
    ck_assert(!scn_cmp_holds(SCN_CMP_GE, 2, 3));
    ck_assert(!scn_cmp_holds(SCN_CMP_LT, 3, 3));
    ck_assert(scn_cmp_holds(SCN_CMP_LT, 2, 3));
    ck_assert(!scn_cmp_holds(SCN_CMP_GT, 3, 3));
    ck_assert(scn_cmp_holds(SCN_CMP_GT, 4, 3));
    ck_assert_str_eq(scn_cmp_name(SCN_CMP_GE), ">=");
    ck_assert_str_eq(scn_check_name(SCN_CHK_NO_DANGLING_UPLOADS), "no-dangling-uploads");
    ck_assert_str_eq(scn_act_name(SCN_ACT_RACE_DELETE), "race-delete");
}
END_TEST

/* ---- variants ------------------------------------------------------------------------------ */

static const char *const variant_text =
    HDR "seed 5\nstreams 2\nset s3.op.timeout 30s\nset s3.retry.max 5\n"
        "fault name=f1 get timeout\n"
        "at 1m compact sso\n"
        "expect converged within=1h\n"                       /* 8 */
        "expect log error count == 0\n"                      /* 9 */
        "expect log error match=\"a\" count == 0\n"          /* 10 */
        "expect metric s3.calls >= 1\n"                      /* 11 */
        "expect metric s3.faults >= 0\n"                     /* 12 */
        "expect no-orphans\n"                                /* 13 */
        "variant v1\n"                                       /* 14 */
        "set s3.op.timeout 5s\n"
        "expect-fail converged within=2h\n"                  /* 16 */
        "expect log error match=\"a\" count == 3\n"          /* 17 */
        "expect metric s3.calls >= 7\n"                      /* 18 */
        "expect log warn count == 0\n"                       /* 19 */
        "fault name=f2 put stall\n"
        "at 2m heal f1\n"
        "variant v2\n"
        "seed 9\nstreams 3\nat 3m delete-stream stream=3\nheal f1\n";

START_TEST(scn_variant_merge)
{
    struct scn_file *f = parse_ok(variant_text);
    struct scn_spec b, v;
    ck_assert_uint_eq(scn_variant_count(f), 2);
    ck_assert_str_eq(scn_variant_name(f, 0), "v1");
    ck_assert_str_eq(scn_variant_name(f, 1), "v2");
    ck_assert_ptr_null(scn_variant_name(f, 2));
    resolve_ok(f, NULL, &b);
    resolve_ok(f, "v1", &v);
    ck_assert_str_eq(v.variant, "v1");
    /* set overrides; the rest of the base's sets stay. */
    ck_assert_int_eq(conf_get(&b.conf, CONF_OP_TIMEOUT), 30 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(conf_get(&v.conf, CONF_OP_TIMEOUT), 5 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(conf_get(&v.conf, CONF_RETRY_MAX), 5);
    ck_assert(v.seed == 5);
    /* actions and faults are added. */
    ck_assert_uint_eq(b.nevents, 1);
    ck_assert_uint_eq(v.nevents, 2);
    ck_assert_uint_eq(b.nfaults, 1);
    ck_assert_uint_eq(v.nfaults, 2);
    ck_assert_str_eq(v.faults[1].name, "f2");
    /* checks: base 6 + implicit no-hang, caught-up (base expects converged),
     * failures-explained, writes-once, requests-counted, no-leak and vacuous;
     * v1 replaces 3 in place (converged by an expect-fail: no caught-up) and
     * adds 1. */
    ck_assert_uint_eq(b.nchecks, 13);
    ck_assert_int_eq(b.checks[7].kind, SCN_CHK_CAUGHT_UP);
    ck_assert_int_eq(b.checks[8].kind, SCN_CHK_FAILURES_EXPLAINED);
    ck_assert_int_eq(b.checks[9].kind, SCN_CHK_WRITES_ONCE);
    ck_assert_int_eq(b.checks[10].kind, SCN_CHK_REQUESTS_COUNTED);
    ck_assert_int_eq(b.checks[11].kind, SCN_CHK_NO_LEAK);
    ck_assert_uint_eq(v.nchecks, 13);
    ck_assert_int_eq(v.checks[12].kind, SCN_CHK_VACUOUS);
    ck_assert_int_eq(v.checks[0].line, 16);
    ck_assert(v.checks[0].expect_fail);
    ck_assert_int_eq(v.checks[0].within_us, 2 * ENV_USEC_PER_HOUR);
    ck_assert_int_eq(v.checks[1].line, 9);  /* log error without match: not the same check */
    ck_assert_int_eq(v.checks[2].line, 17); /* log error match="a": replaced */
    ck_assert_int_eq(v.checks[2].value, 3);
    ck_assert_int_eq(v.checks[3].line, 18); /* metric s3.calls: replaced */
    ck_assert_int_eq(v.checks[4].line, 12); /* metric s3.faults: kept */
    ck_assert_int_eq(v.checks[5].line, 13);
    ck_assert_int_eq(v.checks[6].line, 19); /* log warn: added */
    ck_assert_int_eq(v.checks[7].kind, SCN_CHK_NO_HANG); /* the implicit one comes last */
    scn_spec_free(&b);
    scn_spec_free(&v);
    resolve_ok(f, "v2", &v);
    ck_assert(v.seed == 9);
    ck_assert_int_eq(v.streams, 3);
    ck_assert_uint_eq(v.nfaults, 0); /* the top-level heal removed f1 */
    ck_assert_uint_eq(v.nevents, 2);
    scn_spec_free(&v);
    scn_free(f);
}
END_TEST

START_TEST(scn_variant_duplicate_base_checks)
{
    struct scn_file *f = parse_ok(HDR "expect no-orphans\nexpect no-orphans\nvariant v\n"
                                      "expect-fail no-orphans\n");
    struct scn_spec v;
    resolve_ok(f, "v", &v);
    ck_assert_uint_eq(v.nchecks, 8); /* + no-hang, no-error-log, failures-explained,
                                        writes-once, requests-counted, no-leak, vacuous */
    ck_assert(v.checks[0].expect_fail);
    ck_assert_int_eq(v.checks[1].kind, SCN_CHK_NO_HANG);
    scn_spec_free(&v);
    /* An expect-fail no-hang replaces the implicit one. */
    scn_free(f);
    f = parse_ok(HDR "variant v\nexpect-fail no-hang\n");
    resolve_ok(f, "v", &v);
    ck_assert_uint_eq(v.nchecks, 7); /* + no-error-log, failures-explained, writes-once,
                                        requests-counted, no-leak, vacuous */
    ck_assert(v.checks[0].expect_fail);
    scn_spec_free(&v);
    scn_free(f);
}
END_TEST

START_TEST(scn_resolve_overrides)
{
    struct scn_file *f = parse_ok(HDR "set s3.retry.max 5\n");
    struct scn_spec s;
    struct scn_error err;
    const char *good[] = {"s3.retry.max=7", "deletion.not.found=error"};
    const char *bad[] = {"s3.retry.max=7", "no.such=1"};
    const char *badval[] = {"hang.threshold=15"};
    char msg[1024];
    ck_assert_int_eq(scn_resolve(f, "base", good, 2, &s, &err), 0);
    ck_assert_int_eq(conf_get(&s.conf, CONF_RETRY_MAX), 7);
    ck_assert_int_eq(conf_get(&s.conf, CONF_NOT_FOUND), 1);
    scn_spec_free(&s);
    ck_assert_int_eq(scn_resolve(f, NULL, bad, 2, &s, &err), ERR_PARSE);
    ck_assert_str_eq(scn_error_format(&err, msg, sizeof msg),
                     "--set: no.such=1: unknown knob 'no.such' (see s3sim knobs)");
    ck_assert_ptr_null(s.events);
    ck_assert_int_eq(scn_resolve(f, NULL, badval, 1, &s, &err), ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "bare number"));
    ck_assert_int_eq(scn_resolve(f, "nope", NULL, 0, &s, &err), ERR_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "no variant named nope"));
    scn_free(f);
}
END_TEST

START_TEST(scn_resolve_profile)
{
    /* The profile's defaults come before every set line and --set, whatever their order; a
     * variant may change the profile and keeps the base's explicit knobs. */
    struct scn_file *f = parse_ok(HDR "set upload.check.prepared false\n"
                                      "set engine.profile hardened\n"
                                      "variant back\n"
                                      "set engine.profile automq\n");
    struct scn_spec s;
    struct scn_error err;
    const char *to_auto[] = {"engine.profile=automq"};
    const char *one[] = {"cleaner.redelete.delay=10s", "engine.profile=hardened"};
    resolve_ok(f, "base", &s);
    ck_assert_int_eq(conf_get(&s.conf, CONF_PROFILE), CONF_PROFILE_HARDENED);
    ck_assert(!conf_bool(&s.conf, CONF_UPLOAD_CHECK_PREPARED));
    ck_assert_int_eq(conf_get(&s.conf, CONF_CLEANER_REDELETE), 2 * ENV_USEC_PER_MIN);
    scn_spec_free(&s);
    resolve_ok(f, "back", &s);
    ck_assert_int_eq(conf_get(&s.conf, CONF_PROFILE), CONF_PROFILE_AUTOMQ);
    ck_assert_int_eq(conf_get(&s.conf, CONF_CLEANER_REDELETE), 0);
    scn_spec_free(&s);
    ck_assert_int_eq(scn_resolve(f, "base", to_auto, 1, &s, &err), 0);
    ck_assert_int_eq(conf_get(&s.conf, CONF_CLEANER_REDELETE), 0);
    scn_spec_free(&s);
    ck_assert_int_eq(scn_resolve(f, "back", one, 2, &s, &err), 0);
    ck_assert_int_eq(conf_get(&s.conf, CONF_CLEANER_REDELETE), 10 * ENV_USEC_PER_SEC);
    ck_assert(!conf_bool(&s.conf, CONF_UPLOAD_CHECK_PREPARED));
    scn_spec_free(&s);
    scn_free(f);
}
END_TEST

/* ---- examples -------------------------------------------------------------------------------- */

START_TEST(scn_example_section6)
{
    char path[1024];
    struct scn_file *f;
    struct scn_error err;
    struct scn_spec b, v;
    char msg[1024];
    int rc = scn_parse_file(data_path("composite-delete-after-failover.scn", path, sizeof path),
                            &f, &err);
    ck_assert_msg(rc == 0, "%s", scn_error_format(&err, msg, sizeof msg));
    ck_assert_str_eq(f->name, "composite-delete-after-failover");
    ck_assert_uint_eq(scn_variant_count(f), 1);
    resolve_ok(f, NULL, &b);
    ck_assert(b.seed == 7);
    ck_assert_int_eq(b.deadline_us, 3 * ENV_USEC_PER_HOUR);
    ck_assert_int_eq(b.streams, 1);
    ck_assert_int_eq(conf_get(&b.conf, CONF_WAL_UPLOAD_INTERVAL), 5 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(conf_get(&b.conf, CONF_SO_SPLIT_SIZE), 64 * 1024);
    ck_assert_int_eq(conf_get(&b.conf, CONF_MINOR_SIZE), 64 * 1024);
    ck_assert_int_eq(conf_get(&b.conf, CONF_MAJOR_INTERVAL), 10 * ENV_USEC_PER_MIN);
    ck_assert_uint_eq(b.nevents, 4);
    ck_assert_uint_eq(b.nfaults, 1);
    ck_assert_str_eq(b.faults[0].name, "slow-delete");
    ck_assert_uint_eq(b.faults[0].kind_mask, FS3_KIND_LINKED);
    ck_assert_int_eq(b.faults[0].delay_us, 20 * ENV_USEC_PER_SEC);
    ck_assert_uint_eq(b.nchecks, 12); /* 4 + no-hang, no-error-log (its `log error` line
                                         has match=), caught-up, failures-explained,
                                         writes-once, requests-counted, no-leak, vacuous */
    ck_assert_int_eq(b.last_action_us, 50 * ENV_USEC_PER_MIN);
    resolve_ok(f, "field-bug", &v);
    ck_assert_int_eq(conf_get(&v.conf, CONF_NOT_FOUND), 1);
    ck_assert_uint_eq(v.nchecks, 11); /* expect-fail converged: no caught-up */
    ck_assert(!v.checks[0].expect_fail);
    ck_assert(v.checks[1].expect_fail && v.checks[1].kind == SCN_CHK_CONVERGED);
    ck_assert(v.checks[3].expect_fail && v.checks[3].kind == SCN_CHK_LOG);
    scn_spec_free(&b);
    scn_spec_free(&v);
    scn_free(f);
}
END_TEST

START_TEST(scn_example_every_form)
{
    char path[1024];
    struct scn_file *f;
    struct scn_error err;
    struct scn_spec s;
    char msg[1024];
    int rc = scn_parse_file(data_path("every-form.scn", path, sizeof path), &f, &err);
    ck_assert_msg(rc == 0, "%s", scn_error_format(&err, msg, sizeof msg));
    ck_assert_str_eq(f->description, "all the forms, with \"escapes\" and a \\ backslash");
    for (size_t i = 0; i <= scn_variant_count(f); i++) {
        rc = scn_resolve(f, i ? scn_variant_name(f, i - 1) : NULL, NULL, 0, &s, &err);
        ck_assert_msg(rc == 0, "%s", scn_error_format(&err, msg, sizeof msg));
        scn_spec_free(&s);
    }
    resolve_ok(f, NULL, &s);
    ck_assert(s.seed == UINT64_MAX);
    ck_assert_uint_eq(s.nfaults, 13); /* 14 top-level rules, a healed */
    ck_assert_str_eq(conf_str(&s.conf, CONF_CLUSTER_ID), "my cluster");
    scn_spec_free(&s);
    scn_free(f);
}
END_TEST

START_TEST(scn_section2_forms)
{
    /* The forms written in docs/scenarios.md "The file format", one by one. */
    static const char *const lines[] = {
        "seed 1",
        "deadline 250ms",
        "deadline 1.5s",
        "deadline 10m",
        "deadline 1h30m",
        "deadline 8m10s",
        "set s3.stream.object.split.size 4KiB",
        "set s3.stream.object.split.size 5MiB",
        "set s3.bandwidth 2MiB/s",
        "set compaction.flush.each.batch true",
        "set compaction.flush.each.batch false",
        "at 0s race-delete target=any key=*/_kafka_*/12*",
        "at 0s read stream=all",
        "at 0s read stream=1 from=50% bytes=1MiB",
        "every 10s read stream=1 from=100%",
        "at 0s race-put id=next",
        "at 0s race-put key=x/_kafka_y/3 bytes=4KiB",
        "fault get prob=0.25 timeout",
        "fault get prob=25% timeout",
        "at 20m heal all",
        "fault mpu-complete status=200:InternalError",
        "at 0s append stream=all bytes=1MiB",
        "at 0s load rate=2MiB/s streams=all",
        "at 0s trim stream=1 to=50%",
        "at 0s crash node=broker",
        "at 0s crash",
        "at 0s compact stream force",
        "expect memory <= 200MiB",
        "expect log error match=\"Delete composite object\" count == 0",
        "expect metric s3.calls.delete-many <= 10",
        "expect metric s3.max.keys.per.delete <= 1000",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, HDR "streams 1\n%s\n", lines[i]);
        scn_free(parse_ok(text));
    }
}
END_TEST

START_TEST(scn_every_metric_name_parses)
{
    /* Every metric of the table is accepted by expect metric. */
    for (int i = 0; i < metric_count(); i++) {
        char text[256];
        snprintf(text, sizeof text, HDR "expect metric %s >= 0\n", metric_name(i));
        scn_free(parse_ok(text));
        ck_assert_int_eq(metric_index(metric_name(i)), i);
    }
    ck_assert_int_eq(metric_index("s3.calls.mpu-copy"), METRIC_S3_CALLS_OP + S3_OP_MPU_COPY);
    ck_assert_int_eq(metric_index("s3.faults.list"), METRIC_S3_FAULTS_OP + S3_OP_LIST);
    ck_assert_int_eq(metric_index("s3.calls.job.cleaner"), METRIC_S3_CALLS_JOB + S3_JOB_CLEANER);
    ck_assert_int_eq(metric_index("memory.peak"), METRIC_MEMORY_PEAK);
    ck_assert_int_eq(metric_index("nope"), -1);
    ck_assert_ptr_null(metric_name(METRIC_COUNT));
}
END_TEST

static Suite *scn_suite(void)
{
    Suite *s = suite_create("scn");
    TCase *tc = tcase_create("scn");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, scn_minimal_defaults);
    tcase_add_test(tc, scn_scalar_directives);
    tcase_add_test(tc, scn_swarm_and_seeds);
    tcase_add_test(tc, scn_set_automq_forms);
    tcase_add_test(tc, scn_at_and_every);
    tcase_add_test(tc, scn_action_append);
    tcase_add_test(tc, scn_action_load);
    tcase_add_test(tc, scn_action_trim_delete_compact);
    tcase_add_test(tc, scn_action_crash_race);
    tcase_add_test(tc, scn_action_fault_heal);
    tcase_add_test(tc, scn_last_action);
    tcase_add_test(tc, scn_fault_defaults_and_ops);
    tcase_add_test(tc, scn_fault_effects);
    tcase_add_test(tc, scn_fault_effect_before_op);
    tcase_add_test(tc, scn_fault_counters);
    tcase_add_test(tc, scn_fault_line_api);
    tcase_add_test(tc, scn_rule_format_round_trips);
    tcase_add_test(tc, scn_action_read_race_put);
    tcase_add_test(tc, scn_read_implies_reads_correct);
    tcase_add_test(tc, scn_fault_rpc_kinds);
    tcase_add_test(tc, scn_rules_accepted_by_the_shim);
    tcase_add_test(tc, scn_checks_every_kind);
    tcase_add_test(tc, scn_cmp_semantics);
    tcase_add_test(tc, scn_variant_merge);
    tcase_add_test(tc, scn_variant_duplicate_base_checks);
    tcase_add_test(tc, scn_resolve_overrides);
    tcase_add_test(tc, scn_resolve_profile);
    tcase_add_test(tc, scn_example_section6);
    tcase_add_test(tc, scn_example_every_form);
    tcase_add_test(tc, scn_section2_forms);
    tcase_add_test(tc, scn_every_metric_name_parses);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(scn_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
