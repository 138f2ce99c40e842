/* test_conf.c - the knob table and the value parsers (src/conf.h). */
#include "conf.h"
#include "env.h"
#include "err.h"
#include "s3.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ----------------------------------------------------------------- */

static int64_t dur(const char *s, int64_t bare)
{
    int64_t v = -42;
    char err[CONF_ERR_MAX] = "";
    int rc = conf_parse_duration(s, bare, &v, err, sizeof err);
    ck_assert_msg(rc == 0, "duration '%s': %s", s, err);
    return v;
}

static int dur_err(const char *s, int64_t bare, char *err, size_t errsz)
{
    int64_t v = -42;
    int rc = conf_parse_duration(s, bare, &v, err, errsz);
    if (rc != 0)
        ck_assert_int_eq(v, -42); /* untouched on failure */
    return rc;
}

static int64_t size(const char *s, bool bare)
{
    int64_t v = -42;
    char err[CONF_ERR_MAX] = "";
    int rc = conf_parse_size(s, bare, &v, err, sizeof err);
    ck_assert_msg(rc == 0, "size '%s': %s", s, err);
    return v;
}

static int64_t knob(struct conf *c, const char *name, const char *value)
{
    char err[CONF_ERR_MAX] = "";
    int rc = conf_set(c, name, value, err, sizeof err);
    ck_assert_msg(rc == 0, "set %s %s: %s", name, value, err);
    return conf_get(c, (enum conf_id)conf_lookup(name));
}

/* ---- the table ----------------------------------------------------------------- */

START_TEST(conf_defaults_parse)
{
    /* Every default in the table parses with its own type. */
    for (int i = 0; i < CONF_COUNT; i++) {
        const struct conf_knob *k = conf_knob((enum conf_id)i);
        int64_t v;
        char err[CONF_ERR_MAX] = "";
        ck_assert_ptr_nonnull(k);
        ck_assert_msg(conf_parse_value((enum conf_id)i, k->def, &v, err, sizeof err) == 0,
                      "%s default %s: %s", k->name, k->def, err);
        ck_assert_int_eq(conf_lookup(k->name), i);
        ck_assert_ptr_nonnull(k->help);
    }
    ck_assert_ptr_null(conf_knob(CONF_COUNT));
}
END_TEST

START_TEST(conf_contract_defaults)
{
    /* The names and defaults of AutoMQ's knobs (docs/knobs.md "Knobs"). */
    struct conf c;
    conf_init(&c);
    ck_assert_int_eq(conf_get(&c, CONF_SSO_INTERVAL), 5 * ENV_USEC_PER_MIN);
    ck_assert_int_eq(conf_get(&c, CONF_SSO_CACHE_SIZE), 200LL << 20);
    ck_assert_int_eq(conf_get(&c, CONF_SSO_STREAM_SPLIT_SIZE), 8LL << 20);
    ck_assert_int_eq(conf_get(&c, CONF_SSO_FORCE_SPLIT_AGE), 120 * ENV_USEC_PER_MIN);
    ck_assert_int_eq(conf_get(&c, CONF_SSO_MAX_NUM), 500);
    ck_assert_int_eq(conf_get(&c, CONF_SSO_MAX_STREAMS), 20000);
    ck_assert_int_eq(conf_get(&c, CONF_SSO_MAX_SO_PER_COMMIT), 10000);
    ck_assert_int_eq(conf_get(&c, CONF_SO_MAX_SIZE), 10LL << 30);
    ck_assert_int_eq(conf_get(&c, CONF_SO_SPLIT_SIZE), 8LL << 20);
    ck_assert_int_eq(conf_get(&c, CONF_BLOCK_SIZE), 512LL << 10);
    ck_assert_int_eq(conf_get(&c, CONF_PART_SIZE), 16LL << 20);
    ck_assert_int_eq(conf_get(&c, CONF_DELETE_RETENTION), ENV_USEC_PER_MIN);
    ck_assert_int_eq(conf_get(&c, CONF_WAL_UPLOAD_INTERVAL), 60 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(conf_get(&c, CONF_MINOR_INTERVAL), 10 * ENV_USEC_PER_MIN);
    ck_assert_int_eq(conf_get(&c, CONF_MAJOR_INTERVAL), 60 * ENV_USEC_PER_MIN);
    ck_assert_int_eq(conf_get(&c, CONF_MINOR_SIZE), 4LL << 20);
    ck_assert_int_eq(conf_get(&c, CONF_MULTIPART_THRESHOLD), 32LL << 20);
    ck_assert_int_eq(conf_get(&c, CONF_CHECKSUM), S3_CKSUM_MD5);
    ck_assert_int_eq(conf_get(&c, CONF_OP_TIMEOUT), 10 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(conf_get(&c, CONF_READ_TIMEOUT), 2 * ENV_USEC_PER_MIN);
    ck_assert_int_eq(conf_get(&c, CONF_RETRY_MAX), -1);
    ck_assert_int_eq(conf_get(&c, CONF_RETRY_BACKOFF), ENV_USEC_PER_SEC);
    ck_assert_int_eq(conf_get(&c, CONF_MIN_PART_SIZE), 5LL << 20);
    ck_assert_int_eq(conf_get(&c, CONF_DELETE_MISSING), 204);
    ck_assert_int_eq(conf_get(&c, CONF_LATENCY), 20 * ENV_USEC_PER_MS);
    ck_assert_int_eq(conf_get(&c, CONF_BANDWIDTH), 1LL << 30);
    ck_assert_int_eq(conf_get(&c, CONF_HANG_THRESHOLD), 15 * ENV_USEC_PER_MIN);
    ck_assert(conf_bool(&c, CONF_FLUSH_EACH_BATCH));
    ck_assert_int_eq(conf_get(&c, CONF_NOT_FOUND), 0);
    ck_assert_str_eq(conf_str(&c, CONF_CLUSTER_ID), "s3sim");
    ck_assert_int_eq(conf_lookup("s3.stream.set.object.compaction.interval.minutes"),
                     CONF_SSO_INTERVAL);
    ck_assert_int_eq(conf_lookup("deletion.not.found"), CONF_NOT_FOUND);
    ck_assert_int_eq(conf_lookup("no.such.knob"), -1);
}
END_TEST

START_TEST(conf_field_bug_knobs_default_fixed)
{
    /* Every field-bug knob names its bug, and its default is the fixed behaviour. */
    struct conf c;
    int nbug = 0;
    conf_init(&c);
    for (int i = 0; i < CONF_COUNT; i++) {
        const struct conf_knob *k = conf_knob((enum conf_id)i);
        if (!k->bug)
            continue;
        nbug++;
        ck_assert_msg(k->bug[0] == 'F', "%s: %s", k->name, k->bug);
    }
    ck_assert_int_ge(nbug, 16);
    ck_assert(!conf_bool(&c, CONF_RELEASE_WAITS_PENDING));
    ck_assert(conf_bool(&c, CONF_COMPLETE_WAITERS));
    ck_assert(conf_bool(&c, CONF_INT32_GUARD));
    ck_assert(conf_bool(&c, CONF_FORCE_SPLIT_WAIT));
    ck_assert(!conf_bool(&c, CONF_ID_ZERO_NONE));
    ck_assert(conf_bool(&c, CONF_CLEANER_DEDUP));
    ck_assert(conf_bool(&c, CONF_COPY_BACKOFF));
    ck_assert(!conf_bool(&c, CONF_SCMP_TRIM_CLEANUP));
    ck_assert(!conf_bool(&c, CONF_CTL_REQ_DEDUPE));
}
END_TEST

/* ---- durations ------------------------------------------------------------------ */

START_TEST(conf_duration_forms)
{
    ck_assert_int_eq(dur("250ms", 0), 250000);
    ck_assert_int_eq(dur("1.5s", 0), 1500000);
    ck_assert_int_eq(dur("10m", 0), 600000000LL);
    ck_assert_int_eq(dur("1h30m", 0), 5400LL * ENV_USEC_PER_SEC);
    ck_assert_int_eq(dur("8m10s", 0), 490LL * ENV_USEC_PER_SEC);
    ck_assert_int_eq(dur("0s", 0), 0);
    ck_assert_int_eq(dur("1s500ms", 0), 1500000);
    ck_assert_int_eq(dur("2h3m4s5ms6us", 0),
                     2 * ENV_USEC_PER_HOUR + 3 * ENV_USEC_PER_MIN + 4 * ENV_USEC_PER_SEC + 5006);
    ck_assert_int_eq(dur("0.001ms", 0), 1);
    ck_assert_int_eq(dur("5", ENV_USEC_PER_MIN), 5 * ENV_USEC_PER_MIN);
    ck_assert_int_eq(dur("60000", ENV_USEC_PER_MS), 60 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(dur("30s", ENV_USEC_PER_MIN), 30 * ENV_USEC_PER_SEC);
}
END_TEST

/* A cluster id the engine cannot make a key namespace of (over 89 bytes, or with '/') is
 * refused as a knob value, not met as a failed world setup. */
START_TEST(conf_cluster_id_must_make_a_namespace)
{
    char err[CONF_ERR_MAX], id[100];
    int64_t v;
    memset(id, 'a', 89);
    id[89] = 0;
    ck_assert_int_eq(conf_parse_value(CONF_CLUSTER_ID, id, &v, err, sizeof err), 0);
    id[89] = 'a';
    id[90] = 0;
    ck_assert_int_eq(conf_parse_value(CONF_CLUSTER_ID, id, &v, err, sizeof err), ERR_INVAL);
    ck_assert_ptr_nonnull(strstr(err, "cluster id of 1 to 89 bytes"));
    ck_assert_int_eq(conf_parse_value(CONF_CLUSTER_ID, "a/b", &v, err, sizeof err), ERR_INVAL);
}
END_TEST

START_TEST(conf_duration_errors)
{
    char err[CONF_ERR_MAX];
    ck_assert_int_eq(dur_err("10", 0, err, sizeof err), ERR_INVAL);
    ck_assert_ptr_nonnull(strstr(err, "bare number"));
    ck_assert_int_eq(dur_err("10x", 0, err, sizeof err), ERR_INVAL);
    ck_assert_ptr_nonnull(strstr(err, "unit"));
    ck_assert_int_eq(dur_err("30m1h", 0, err, sizeof err), ERR_INVAL);
    ck_assert_ptr_nonnull(strstr(err, "largest"));
    ck_assert_int_eq(dur_err("1m1m", 0, err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(dur_err("1h30", 0, err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(dur_err("", 0, err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(dur_err("-1s", 0, err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(dur_err(".5s", 0, err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(dur_err("1.s", 0, err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(dur_err("1e999s", 0, err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(dur_err("1 s", 0, err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(dur_err("9999999999999h", 0, err, sizeof err), ERR_RANGE);
    ck_assert_ptr_nonnull(strstr(err, "out of range"));
    ck_assert_int_eq(dur_err("99999999999999999999999s", 0, err, sizeof err), ERR_RANGE);
    ck_assert_int_eq(dur_err("2562047788h54s775ms807us", 0, err, sizeof err), 0); /* INT64_MAX */
    ck_assert_int_eq(dur_err("2562047788h54s775ms808us", 0, err, sizeof err), ERR_RANGE);
    ck_assert_int_eq(dur_err("99999999999999999999", ENV_USEC_PER_MIN, err, sizeof err),
                     ERR_RANGE);
}
END_TEST

/* ---- sizes, rates, probabilities, integers, booleans ------------------------------ */

START_TEST(conf_size_forms)
{
    ck_assert_int_eq(size("4KiB", false), 4096);
    ck_assert_int_eq(size("5MiB", false), 5LL << 20);
    ck_assert_int_eq(size("1GiB", false), 1LL << 30);
    ck_assert_int_eq(size("2TiB", false), 2LL << 40);
    ck_assert_int_eq(size("7B", false), 7);
    ck_assert_int_eq(size("3KB", false), 3000);
    ck_assert_int_eq(size("3MB", false), 3000000);
    ck_assert_int_eq(size("3GB", false), 3000000000LL);
    ck_assert_int_eq(size("1.5MiB", false), 1572864);
    ck_assert_int_eq(size("0B", false), 0);
    ck_assert_int_eq(size("1024", true), 1024);
}
END_TEST

START_TEST(conf_size_errors)
{
    char err[CONF_ERR_MAX];
    int64_t v;
    ck_assert_int_eq(conf_parse_size("1024", false, &v, err, sizeof err), ERR_INVAL);
    ck_assert_ptr_nonnull(strstr(err, "bare number"));
    ck_assert_int_eq(conf_parse_size("-5MiB", false, &v, err, sizeof err), ERR_RANGE);
    ck_assert_ptr_nonnull(strstr(err, "negative"));
    ck_assert_int_eq(conf_parse_size("-5", true, &v, err, sizeof err), ERR_RANGE);
    ck_assert_int_eq(conf_parse_size("5mib", false, &v, err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(conf_parse_size("MiB", false, &v, err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(conf_parse_size("1e999", true, &v, err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(conf_parse_size("9999999999TiB", false, &v, err, sizeof err), ERR_RANGE);
    ck_assert_ptr_nonnull(strstr(err, "out of range"));
    ck_assert_int_eq(conf_parse_size("18446744073709551616", true, &v, err, sizeof err),
                     ERR_RANGE);
}
END_TEST

START_TEST(conf_rate_forms)
{
    int64_t v;
    char err[CONF_ERR_MAX];
    ck_assert_int_eq(conf_parse_rate("2MiB/s", false, &v, err, sizeof err), 0);
    ck_assert_int_eq(v, 2LL << 20);
    ck_assert_int_eq(conf_parse_rate("32KiB/s", false, &v, err, sizeof err), 0);
    ck_assert_int_eq(v, 32768);
    ck_assert_int_eq(conf_parse_rate("1000/s", false, &v, err, sizeof err), 0);
    ck_assert_int_eq(v, 1000);
    ck_assert_int_eq(conf_parse_rate("500", true, &v, err, sizeof err), 0);
    ck_assert_int_eq(v, 500);
    ck_assert_int_eq(conf_parse_rate("2MiB", false, &v, err, sizeof err), ERR_INVAL);
    ck_assert_ptr_nonnull(strstr(err, "rate"));
    ck_assert_int_eq(conf_parse_rate("500", false, &v, err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(conf_parse_rate("2MiB/m", false, &v, err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(conf_parse_rate("/s", false, &v, err, sizeof err), ERR_INVAL);
}
END_TEST

START_TEST(conf_prob_forms)
{
    double p;
    char err[CONF_ERR_MAX];
    ck_assert_int_eq(conf_parse_prob("0.25", &p, err, sizeof err), 0);
    ck_assert_double_eq_tol(p, 0.25, 1e-12);
    ck_assert_int_eq(conf_parse_prob("25%", &p, err, sizeof err), 0);
    ck_assert_double_eq_tol(p, 0.25, 1e-12);
    ck_assert_int_eq(conf_parse_prob("12.5%", &p, err, sizeof err), 0);
    ck_assert_double_eq_tol(p, 0.125, 1e-12);
    ck_assert_int_eq(conf_parse_prob("0", &p, err, sizeof err), 0);
    ck_assert_double_eq(p, 0.0);
    ck_assert_int_eq(conf_parse_prob("1", &p, err, sizeof err), 0);
    ck_assert_double_eq(p, 1.0);
    ck_assert_int_eq(conf_parse_prob("100%", &p, err, sizeof err), 0);
    ck_assert_double_eq(p, 1.0);
    ck_assert_int_eq(conf_parse_prob("1.5", &p, err, sizeof err), ERR_RANGE);
    ck_assert_int_eq(conf_parse_prob("101%", &p, err, sizeof err), ERR_RANGE);
    ck_assert_int_eq(conf_parse_prob("-0.1", &p, err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(conf_parse_prob("half", &p, err, sizeof err), ERR_INVAL);
    ck_assert_ptr_nonnull(strstr(err, "probability"));
    ck_assert_int_eq(conf_parse_prob("1e-3", &p, err, sizeof err), ERR_INVAL);
}
END_TEST

START_TEST(conf_int_and_bool)
{
    int64_t v;
    uint64_t u;
    bool b;
    char err[CONF_ERR_MAX];
    ck_assert_int_eq(conf_parse_int("42", &v, err, sizeof err), 0);
    ck_assert_int_eq(v, 42);
    ck_assert_int_eq(conf_parse_int("-7", &v, err, sizeof err), 0);
    ck_assert_int_eq(v, -7);
    ck_assert_int_eq(conf_parse_int("9223372036854775807", &v, err, sizeof err), 0);
    ck_assert_int_eq(v, INT64_MAX);
    ck_assert_int_eq(conf_parse_int("-9223372036854775808", &v, err, sizeof err), 0);
    ck_assert_int_eq(v, INT64_MIN);
    ck_assert_int_eq(conf_parse_int("9223372036854775808", &v, err, sizeof err), ERR_RANGE);
    ck_assert_int_eq(conf_parse_int("-9223372036854775809", &v, err, sizeof err), ERR_RANGE);
    ck_assert_int_eq(conf_parse_int("4x", &v, err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(conf_parse_int("", &v, err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(conf_parse_int("-", &v, err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(conf_parse_u64("18446744073709551615", &u, err, sizeof err), 0);
    ck_assert(u == UINT64_MAX);
    ck_assert_int_eq(conf_parse_u64("18446744073709551616", &u, err, sizeof err), ERR_RANGE);
    ck_assert_int_eq(conf_parse_u64("1.5", &u, err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(conf_parse_bool("true", &b, err, sizeof err), 0);
    ck_assert(b);
    ck_assert_int_eq(conf_parse_bool("FALSE", &b, err, sizeof err), 0);
    ck_assert(!b);
    ck_assert_int_eq(conf_parse_bool("yes", &b, err, sizeof err), ERR_INVAL);
    ck_assert_ptr_nonnull(strstr(err, "true or false"));
}
END_TEST

/* ---- conf_set ------------------------------------------------------------------ */

START_TEST(conf_set_every_type)
{
    struct conf c;
    conf_init(&c);
    /* AutoMQ's bare units. */
    ck_assert_int_eq(knob(&c, "s3.wal.upload.interval.ms", "5000"), 5 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(knob(&c, "s3.wal.upload.interval.ms", "2s"), 2 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(knob(&c, "s3.object.delete.retention.minutes", "10"), 10 * ENV_USEC_PER_MIN);
    ck_assert_int_eq(knob(&c, "s3.stream.object.split.size", "65536"), 65536);
    ck_assert_int_eq(knob(&c, "s3.stream.object.split.size", "64KiB"), 65536);
    ck_assert_int_eq(knob(&c, "s3.stream.object.compaction.max.size.bytes", "1073741824"),
                     1LL << 30);
    ck_assert_int_eq(knob(&c, "stream.compaction.major.interval", "1h30m"),
                     90 * ENV_USEC_PER_MIN);
    ck_assert_int_eq(knob(&c, "s3.op.timeout", "none"), ENV_TIME_NEVER);
    ck_assert_int_eq(knob(&c, "s3.op.timeout", "30s"), 30 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(knob(&c, "s3.retry.max", "3"), 3);
    ck_assert_int_eq(knob(&c, "s3.retry.max", "unlimited"), -1);
    ck_assert_int_eq(knob(&c, "s3.bandwidth", "2MiB/s"), 2LL << 20);
    ck_assert_int_eq(knob(&c, "s3.checksum.algorithm", "crc32c"), S3_CKSUM_CRC32C);
    ck_assert_int_eq(knob(&c, "s3.checksum.algorithm", "SHA256"), S3_CKSUM_SHA256);
    ck_assert_int_eq(knob(&c, "s3.checksum.algorithm", "NONE"), S3_CKSUM_NONE);
    ck_assert_int_eq(knob(&c, "s3.delete.missing", "404"), 404);
    ck_assert_int_eq(knob(&c, "deletion.not.found", "error"), 1);
    ck_assert_int_eq(knob(&c, "compaction.flush.each.batch", "false"), 0);
    ck_assert_int_eq(knob(&c, "s3.stream.set.object.compaction.max.num", "12"), 12);
    knob(&c, "cluster.id", "prod-7");
    ck_assert_str_eq(conf_str(&c, CONF_CLUSTER_ID), "prod-7");
}
END_TEST

START_TEST(conf_set_errors)
{
    struct conf c, before;
    char err[CONF_ERR_MAX];
    conf_init(&c);
    before = c;
    ck_assert_int_eq(conf_set(&c, "no.such", "1", err, sizeof err), ERR_NOTFOUND);
    ck_assert_str_eq(err, "unknown knob 'no.such' (see s3sim knobs)");
    ck_assert_int_eq(conf_set(&c, "hang.threshold", "15", err, sizeof err), ERR_INVAL);
    ck_assert_ptr_nonnull(strstr(err, "bare number"));
    ck_assert_int_eq(conf_set(&c, "s3.delete.missing", "200", err, sizeof err), ERR_INVAL);
    ck_assert_str_eq(err, "expected 204 or 404, found '200'");
    ck_assert_int_eq(conf_set(&c, "deletion.not.found", "ignore", err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(conf_set(&c, "s3.checksum.algorithm", "SHA1", err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(conf_set(&c, "s3.retry.max", "-1", err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(conf_set(&c, "s3.op.timeout", "0s", err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(conf_set(&c, "s3.bandwidth", "0B/s", err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(conf_set(&c, "s3.object.part.size", "-1", err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(conf_set(&c, "s3.object.part.size", "1e999", err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(conf_set(&c, "cluster.id", "", err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(conf_set(&c, "s3.wal.upload.interval.ms", "0", err, sizeof err), ERR_INVAL);
    ck_assert_str_eq(err, "s3.wal.upload.interval.ms must be above 0");
    ck_assert_int_eq(conf_set(&c, "stream.compaction.minor.interval", "0s", err, sizeof err),
                     ERR_INVAL);
    ck_assert_int_eq(conf_set(&c, "s3.object.block.size", "0", err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(conf_set(&c, "s3.retry.max", "0", err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(conf_set_kv(&c, "novalue", err, sizeof err), ERR_INVAL);
    ck_assert_int_eq(conf_set_kv(&c, "=5", err, sizeof err), ERR_INVAL);
    ck_assert_mem_eq(&c, &before, sizeof c);
    ck_assert_int_eq(conf_set_kv(&c, "s3.retry.max=4", err, sizeof err), 0);
    ck_assert_int_eq(conf_get(&c, CONF_RETRY_MAX), 4);
}
END_TEST

START_TEST(conf_format_round_trips)
{
    /* conf_format's output parses back to the same value, for every knob. */
    struct conf c, d;
    char buf[CONF_STR_MAX + 8];
    conf_init(&c);
    knob(&c, "s3.op.timeout", "none");
    knob(&c, "s3.retry.backoff", "1s500ms");
    knob(&c, "s3.object.block.size", "1000");
    for (int i = 0; i < CONF_COUNT; i++) {
        char err[CONF_ERR_MAX] = "";
        const struct conf_knob *k = conf_knob((enum conf_id)i);
        conf_format(&c, (enum conf_id)i, buf, sizeof buf);
        d = c;
        ck_assert_msg(conf_set(&d, k->name, buf, err, sizeof err) == 0, "%s %s: %s", k->name,
                      buf, err);
        ck_assert_int_eq(conf_get(&d, (enum conf_id)i), conf_get(&c, (enum conf_id)i));
    }
    ck_assert_str_eq(conf_format(&c, CONF_SSO_CACHE_SIZE, buf, sizeof buf), "200MiB");
    ck_assert_str_eq(conf_format(&c, CONF_OP_TIMEOUT, buf, sizeof buf), "none");
    ck_assert_str_eq(conf_format(&c, CONF_RETRY_MAX, buf, sizeof buf), "unlimited");
    ck_assert_str_eq(conf_format(&c, CONF_RETRY_BACKOFF, buf, sizeof buf), "1s500ms");
    ck_assert_str_eq(conf_format(&c, CONF_BANDWIDTH, buf, sizeof buf), "1GiB/s");
    ck_assert_str_eq(conf_format(&c, CONF_CHECKSUM, buf, sizeof buf), "MD5");
    ck_assert_str_eq(conf_format(&c, CONF_NOT_FOUND, buf, sizeof buf), "success");
    ck_assert_str_eq(conf_format(&c, CONF_BLOCK_SIZE, buf, sizeof buf), "1000B");
}
END_TEST

START_TEST(conf_profile_defaults)
{
    /* automq: every guard of ours off; hardened: each guard at its CONF_HARDENED value, and
     * every hardened value parses, differs from AutoMQ's, names a finding, is no field bug. */
    struct conf a, h;
    int nguard = 0;
    conf_init(&a);
    conf_init_profile(&h, CONF_PROFILE_HARDENED);
    ck_assert_int_eq(conf_get(&a, CONF_PROFILE), CONF_PROFILE_AUTOMQ);
    ck_assert_int_eq(conf_get(&h, CONF_PROFILE), CONF_PROFILE_HARDENED);
    for (int i = 0; i < CONF_COUNT; i++) {
        const struct conf_knob *k = conf_knob((enum conf_id)i);
        const char *hv = conf_profile_default((enum conf_id)i, CONF_PROFILE_HARDENED);
        int64_t v;
        ck_assert_str_eq(conf_profile_default((enum conf_id)i, CONF_PROFILE_AUTOMQ), k->def);
        ck_assert_msg(conf_parse_value((enum conf_id)i, hv, &v, NULL, 0) == 0, "%s", k->name);
        if (i == CONF_PROFILE)
            continue;
        if (!conf_finding((enum conf_id)i)) {
            ck_assert_msg(a.v[i] == h.v[i], "%s differs without a finding", k->name);
            continue;
        }
        nguard++;
        ck_assert_msg(k->bug == NULL, "%s is a guard and a field-bug knob", k->name);
        ck_assert_msg(a.v[i] != h.v[i], "%s: same value under both profiles", k->name);
        ck_assert_int_eq(h.v[i], v);
    }
    ck_assert_int_ge(nguard, 2);
    ck_assert(!conf_bool(&a, CONF_UPLOAD_CHECK_PREPARED));
    ck_assert(conf_bool(&h, CONF_UPLOAD_CHECK_PREPARED));
    ck_assert_int_eq(conf_get(&a, CONF_CLEANER_REDELETE), 0);
    ck_assert_int_eq(conf_get(&h, CONF_CLEANER_REDELETE), 2 * ENV_USEC_PER_MIN);
    ck_assert_str_eq(conf_finding(CONF_CLEANER_REDELETE), "late-write-resurrects");
    ck_assert_ptr_null(conf_finding(CONF_OP_TIMEOUT));
}
END_TEST

START_TEST(conf_profile_set_order)
{
    /* The profile is applied before explicit values, whatever the order of the sets. */
    struct conf c;
    char err[CONF_ERR_MAX] = "";
    char buf[64];
    conf_init(&c);
    ck_assert_int_eq(conf_set(&c, "upload.check.prepared", "false", err, sizeof err), 0);
    ck_assert_int_eq(conf_set(&c, "engine.profile", "hardened", err, sizeof err), 0);
    ck_assert(!conf_bool(&c, CONF_UPLOAD_CHECK_PREPARED)); /* explicit: kept */
    ck_assert_int_eq(conf_get(&c, CONF_CLEANER_REDELETE), 2 * ENV_USEC_PER_MIN);
    ck_assert_str_eq(conf_format(&c, CONF_PROFILE, buf, sizeof buf), "hardened");
    /* And back: the profile's defaults go, the explicit value stays. */
    ck_assert_int_eq(conf_set_kv(&c, "engine.profile=automq", err, sizeof err), 0);
    ck_assert_int_eq(conf_get(&c, CONF_CLEANER_REDELETE), 0);
    ck_assert(!conf_bool(&c, CONF_UPLOAD_CHECK_PREPARED));
    ck_assert_int_eq(conf_set_kv(&c, "cleaner.redelete.delay=30s", err, sizeof err), 0);
    ck_assert_int_eq(conf_set_kv(&c, "engine.profile=hardened", err, sizeof err), 0);
    ck_assert_int_eq(conf_get(&c, CONF_CLEANER_REDELETE), 30 * ENV_USEC_PER_SEC);
    ck_assert_int_eq(conf_set(&c, "engine.profile", "paranoid", err, sizeof err), ERR_INVAL);
    ck_assert_str_eq(err, "expected automq or hardened, found 'paranoid'");
    ck_assert_int_eq(conf_get(&c, CONF_PROFILE), CONF_PROFILE_HARDENED);
}
END_TEST

static Suite *conf_suite(void)
{
    Suite *s = suite_create("conf");
    TCase *tc = tcase_create("conf");
    tcase_add_test(tc, conf_defaults_parse);
    tcase_add_test(tc, conf_contract_defaults);
    tcase_add_test(tc, conf_field_bug_knobs_default_fixed);
    tcase_add_test(tc, conf_profile_defaults);
    tcase_add_test(tc, conf_profile_set_order);
    tcase_add_test(tc, conf_duration_forms);
    tcase_add_test(tc, conf_duration_errors);
    tcase_add_test(tc, conf_cluster_id_must_make_a_namespace);
    tcase_add_test(tc, conf_size_forms);
    tcase_add_test(tc, conf_size_errors);
    tcase_add_test(tc, conf_rate_forms);
    tcase_add_test(tc, conf_prob_forms);
    tcase_add_test(tc, conf_int_and_bool);
    tcase_add_test(tc, conf_set_every_type);
    tcase_add_test(tc, conf_set_errors);
    tcase_add_test(tc, conf_format_round_trips);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(conf_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
