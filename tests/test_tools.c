/* test_tools.c - the scenario writer, --swarm draws, s3sim sweep and s3sim shrink. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "err.h"
#include "mdc.h"
#include "scn.h"
#include "scn_write.h"
#include "swarm.h"
#include "tools.h"

static const char *src_root(void)
{
    const char *root = getenv("S3SIM_SOURCE_DIR");
    if (!root)
        root = access("tests/data", F_OK) == 0 ? "." : ".."; /* run by hand from build/ */
    return root;
}

static struct scn_file *parse_text(const char *text)
{
    struct scn_file *f = NULL;
    struct scn_error e;
    char msg[1024];
    int rc = scn_parse_buf("t.scn", text, strlen(text), &f, &e);
    ck_assert_msg(rc == 0, "parse: %s", scn_error_format(&e, msg, sizeof msg));
    return f;
}

static void resolve_ok(const struct scn_file *f, const char *variant, struct scn_spec *s)
{
    struct scn_error e;
    char msg[1024];
    int rc = scn_resolve(f, variant, NULL, 0, s, &e);
    ck_assert_msg(rc == 0, "resolve: %s", scn_error_format(&e, msg, sizeof msg));
}

/* ---- the writer -------------------------------------------------------------------------- */

/* parse(write(spec)) of the base and every variant of path resolves to an equal spec. */
static int round_trip_file(const char *path)
{
    struct scn_file *f = NULL;
    struct scn_error e;
    char msg[1024];
    int n = 0;
    ck_assert_msg(scn_parse_file(path, &f, &e) == 0, "%s", scn_error_format(&e, msg, sizeof msg));
    for (size_t v = 0; v <= scn_variant_count(f); v++) {
        const char *vn = v == 0 ? "base" : scn_variant_name(f, v - 1);
        struct scn_spec a, b;
        char why[256] = "";
        char *text;
        resolve_ok(f, vn, &a);
        text = scnw_text(&a);
        ck_assert_ptr_nonnull(text);
        int rc = scnw_reparse(&a, path, &b, &e);
        ck_assert_msg(rc == 0, "%s %s: written text does not parse: %s\n%s", path, vn,
                      scn_error_format(&e, msg, sizeof msg), text);
        ck_assert_msg(scnw_same(&a, &b, why, sizeof why), "%s %s: %s\n%s", path, vn, why, text);
        free(text);
        scn_spec_free(&a);
        scn_spec_free(&b);
        n++;
    }
    scn_free(f);
    return n;
}

/* Every *.scn below dir. */
static int round_trip_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;
    if (!d)
        return 0;
    while ((de = readdir(d))) {
        char p[2048];
        struct stat st;
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (stat(p, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            n += round_trip_dir(p);
        else if (len > 4 && strcmp(de->d_name + len - 4, ".scn") == 0)
            n += round_trip_file(p);
    }
    closedir(d);
    return n;
}

START_TEST(tools_write_round_trips_every_file)
{
    char p[1024];
    int n;
    snprintf(p, sizeof p, "%s/scenarios", src_root());
    n = round_trip_dir(p);
    snprintf(p, sizeof p, "%s/tests/data", src_root());
    n += round_trip_dir(p);
    ck_assert_int_ge(n, 10);
}
END_TEST

START_TEST(tools_write_notices_a_difference)
{
    struct scn_file *f = parse_text("scenario a\nstreams 2\nat 1s append stream=1 bytes=4KiB\n"
                                    "fault name=x put nth=2 status=503\nexpect no-orphans\n");
    struct scn_spec a, b;
    char why[256] = "";
    resolve_ok(f, NULL, &a);
    ck_assert_int_eq(scnw_copy(&b, &a), 0);
    ck_assert(scnw_same(&a, &b, why, sizeof why));
    b.events[0].act.bytes++;
    ck_assert(!scnw_same(&a, &b, why, sizeof why));
    ck_assert_str_eq(why, "event 1 (line 3) differs");
    b.events[0].act.bytes--;
    b.faults[0].n = 3;
    ck_assert(!scnw_same(&a, &b, why, sizeof why));
    ck_assert_str_eq(why, "fault 1 (line 4) differs");
    b.faults[0].n = 2;
    b.conf.v[CONF_OP_TIMEOUT] = 1;
    ck_assert(!scnw_same(&a, &b, why, sizeof why));
    ck_assert_str_eq(why, "knob s3.op.timeout differs");
    scn_spec_free(&a);
    scn_spec_free(&b);
    scn_free(f);
}
END_TEST

START_TEST(tools_write_reparse_refuses_a_bad_spec)
{
    struct scn_file *f = parse_text("scenario a\nstreams 2\nat 1s append stream=2 bytes=4KiB\n");
    struct scn_spec a, b;
    struct scn_error e;
    resolve_ok(f, NULL, &a);
    a.streams = 1; /* the append now names a stream that does not exist */
    ck_assert_int_eq(scnw_reparse(&a, "x.scn", &b, &e), ERR_PARSE);
    ck_assert_int_eq(e.line, 6); /* scenario, seed, deadline, streams, blank, at */
    ck_assert_ptr_null(b.events);
    scn_spec_free(&a);
    scn_free(f);
}
END_TEST


/* ---- swarm ------------------------------------------------------------------------------- */

static const char *const SWARM_FILE = "scenario sw\ndeadline 10m\nstreams 1\n"
                                      "fault name=own put nth=1 status=503\n";

START_TEST(tools_swarm_same_seed_same_subset)
{
    struct scn_file *f = parse_text(SWARM_FILE);
    struct scn_spec a, b;
    char da[512], db[512];
    char why[256] = "";
    resolve_ok(f, NULL, &a);
    resolve_ok(f, NULL, &b);
    ck_assert_int_eq(swarm_draw(42, &a, da, sizeof da), 0);
    ck_assert_int_eq(swarm_draw(42, &b, db, sizeof db), 0);
    ck_assert_str_eq(da, db);
    ck_assert_msg(scnw_same(&a, &b, why, sizeof why), "%s", why);
    /* The file's own rule stays first; 2..5 rules are added after it. */
    ck_assert_str_eq(a.faults[0].name, "own");
    ck_assert_uint_ge(a.nfaults, 1 + SWARM_MIN_RULES);
    ck_assert_uint_le(a.nfaults, 1 + SWARM_MAX_RULES);
    scn_spec_free(&a);
    scn_spec_free(&b);
    scn_free(f);
}
END_TEST

START_TEST(tools_swarm_rules_are_bounded_and_printed)
{
    struct scn_file *f = parse_text(SWARM_FILE);
    int distinct = 0;
    char first[512] = "";
    for (uint64_t seed = 1; seed <= 50; seed++) {
        struct scn_spec sp;
        char desc[512], *save = NULL, *part;
        size_t i = 1;
        resolve_ok(f, NULL, &sp);
        ck_assert_int_eq(swarm_draw(seed, &sp, desc, sizeof desc), 0);
        if (seed == 1)
            snprintf(first, sizeof first, "%s", desc);
        else
            distinct += strcmp(first, desc) != 0;
        for (part = strtok_r(desc, ";", &save); part; part = strtok_r(NULL, ";", &save), i++) {
            struct fs3_rule r;
            struct scn_error e;
            const struct fs3_rule *got = &sp.faults[i];
            ck_assert_uint_lt(i, sp.nfaults);
            ck_assert_int_eq(scn_parse_fault("desc", part, &r, &e), 0);
            ck_assert_int_eq(r.op, got->op);
            ck_assert_int_eq(r.effect, got->effect);
            ck_assert(r.prob == got->prob);
            ck_assert_int_eq(got->match, FS3_MATCH_PROB);
            ck_assert(got->prob >= 0.01 && got->prob <= 0.2);
            ck_assert_int_eq(got->until_us, 6 * ENV_USEC_PER_MIN); /* 60% of 10m */
            ck_assert_int_ne(got->effect, FS3_EFF_RESET);
            ck_assert_str_eq(got->name, "");
        }
        ck_assert_uint_eq(i, sp.nfaults);
        scn_spec_free(&sp);
    }
    ck_assert_int_ge(distinct, 45);
    scn_free(f);
}
END_TEST

/* The file's `swarm` directive draws as --swarm does, once even with both, and the spec it
 * leaves writes back without `swarm` (its drawn rules are its own fault lines now). */
START_TEST(tools_swarm_directive_draws_once)
{
    struct scn_file *f = parse_text("scenario sw\ndeadline 10m\nstreams 1\nseeds 1..3\nswarm\n"
                                    "fault name=own put nth=1 status=503\n");
    struct scn_file *g = parse_text(SWARM_FILE);
    struct scn_spec a, b, c, r;
    char da[512], db[512], dc[512], why[256] = "";
    struct scn_error e;
    char *text;
    resolve_ok(f, NULL, &a);
    resolve_ok(g, NULL, &b);
    resolve_ok(g, NULL, &c);
    ck_assert(a.swarm && !b.swarm);
    ck_assert_int_eq(swarm_apply(9, &a, false, da, sizeof da), 0);
    ck_assert_int_eq(swarm_apply(9, &b, true, db, sizeof db), 0);
    ck_assert_str_eq(da, db);
    ck_assert(!a.swarm);
    ck_assert_uint_eq(a.nfaults, b.nfaults);
    ck_assert_uint_ge(a.nfaults, 1 + SWARM_MIN_RULES);
    /* without either: nothing drawn */
    ck_assert_int_eq(swarm_apply(9, &c, false, dc, sizeof dc), 0);
    ck_assert_str_eq(dc, "");
    ck_assert_uint_eq(c.nfaults, 1);
    /* both: one draw */
    scn_spec_free(&a);
    resolve_ok(f, NULL, &a);
    ck_assert_int_eq(swarm_apply(9, &a, true, da, sizeof da), 0);
    ck_assert_uint_eq(a.nfaults, b.nfaults);
    text = scnw_text(&a);
    ck_assert_ptr_null(strstr(text, "swarm"));
    ck_assert_ptr_nonnull(strstr(text, "seeds 1..3\n"));
    ck_assert_int_eq(scnw_reparse(&a, "t.scn", &r, &e), 0);
    ck_assert_msg(scnw_same(&a, &r, why, sizeof why), "%s", why);
    free(text);
    scn_spec_free(&r);
    scn_spec_free(&a);
    scn_spec_free(&b);
    scn_spec_free(&c);
    scn_free(f);
    scn_free(g);
}
END_TEST

/* The swarm draws rules on the broker's requests to the controller too, each with an effect and
 * an error= code that `s3sim check` accepts for its op, and they fire in a run. */
START_TEST(tools_swarm_draws_rpc_rules)
{
    struct scn_file *f = parse_text(SWARM_FILE);
    int rpc = 0, errors = 0, ops[MDC_OP_COUNT] = {0};
    for (uint64_t seed = 1; seed <= 200; seed++) {
        struct scn_spec sp;
        char desc[512];
        resolve_ok(f, NULL, &sp);
        ck_assert_int_eq(swarm_draw(seed, &sp, desc, sizeof desc), 0);
        for (size_t i = 1; i < sp.nfaults; i++) {
            const struct fs3_rule *r = &sp.faults[i];
            enum mdc_op op;
            if (r->op < SCN_OP_RPC)
                continue;
            op = (enum mdc_op)(r->op - SCN_OP_RPC);
            ck_assert_int_lt(op, MDC_OP_COUNT);
            ck_assert_msg(r->effect == FS3_EFF_TIMEOUT || r->effect == FS3_EFF_LOST ||
                          r->effect == FS3_EFF_STALL || r->effect == FS3_EFF_DELAY ||
                          r->effect == FS3_EFF_STATUS, "seed %llu: %s", (unsigned long long)seed,
                          desc);
            if (r->effect == FS3_EFF_STATUS) {
                ck_assert_msg(mdc_op_answers(op, (enum mdc_code)r->status), "%s", desc);
                errors++;
            }
            ck_assert_ptr_nonnull(strstr(desc, mdc_op_name(op)));
            ops[op]++;
            rpc++;
        }
        scn_spec_free(&sp);
    }
    ck_assert_int_ge(rpc, 50);
    ck_assert_int_ge(errors, 5);
    for (int op = 0; op < MDC_OP_COUNT; op++)
        ck_assert_msg(ops[op] > 0, "%s never drawn", mdc_op_name((enum mdc_op)op));
    scn_free(f);
}
END_TEST

/* ---- sweep -------------------------------------------------------------------------------- */

/* Two WAL uploads of one stream: two puts, then the read-back. */
static const char *const SMALL =
    "scenario small\nseed 3\ndeadline 2m\nset s3.wal.upload.interval.ms 5000\nstreams 1\n"
    "at 0s append stream=1 bytes=8KiB\nat 30s append stream=1 bytes=8KiB\n"
    "expect converged within=2m\nexpect no-data-loss\nexpect no-orphans\n";

static char *read_all(FILE *fp)
{
    long n;
    char *buf;
    fflush(fp);
    n = ftell(fp);
    rewind(fp);
    buf = calloc((size_t)n + 1, 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
    return buf;
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

START_TEST(tools_sweep_stops_when_call_k_never_comes)
{
    struct scn_file *f = parse_text(SMALL);
    struct scn_spec sp;
    struct run_result base = {0};
    struct sweep_opts o = {.file = "small.scn", .variant = "base"};
    struct sweep_stats st;
    FILE *out = tmpfile();
    char *text;
    resolve_ok(f, NULL, &sp);
    ck_assert_int_eq(tools_run(&sp, "small.scn", NULL, &base), 0);
    ck_assert_uint_ge(base.calls_by_op[S3_OP_PUT], 2);
    snprintf(o.op, sizeof o.op, "put");
    snprintf(o.effect, sizeof o.effect, "status=500");
    ck_assert_int_eq(sweep_spec(&sp, &o, out, &st), 0);
    /* One run per put call the unfaulted run makes, then the run of K = puts + 1
     * sees fewer puts than K and ends the sweep (it is not printed). */
    ck_assert(st.done);
    ck_assert_uint_eq(st.runs, base.calls_by_op[S3_OP_PUT]);
    ck_assert_int_eq(st.last_k, (int64_t)st.runs + 1);
    ck_assert_uint_lt(st.last_calls, (uint64_t)st.last_k);
    ck_assert_uint_eq(st.passed + st.failed, st.runs);
    text = read_all(out);
    ck_assert_int_eq(count_of(text, "fault=\"put nth="), (int)st.runs);
    ck_assert_int_eq(count_of(text, "fault=\"put nth=1 status=500\""), 1);
    ck_assert_int_eq(count_of(text, "PASS small base seed=3 "), (int)st.passed);
    free(text);
    fclose(out);
    run_result_free(&base);
    scn_spec_free(&sp);
    scn_free(f);
}
END_TEST

START_TEST(tools_sweep_failures_carry_a_replay_line)
{
    static const char *const sets[] = {"s3.op.timeout=none"};
    struct scn_file *f = parse_text(SMALL);
    struct scn_spec sp;
    struct sweep_opts o = {.file = "small.scn", .variant = "base", .sets = sets, .nsets = 1};
    struct sweep_stats st;
    struct scn_error e;
    FILE *out = tmpfile();
    char *text;
    ck_assert_int_eq(scn_resolve(f, NULL, sets, 1, &sp, &e), 0);
    snprintf(o.op, sizeof o.op, "put");
    snprintf(o.effect, sizeof o.effect, "stall");
    o.nth = 1; /* a stalled put without a client timeout never ends: the run fails */
    ck_assert_int_eq(sweep_spec(&sp, &o, out, &st), 0);
    ck_assert_uint_eq(st.runs, 1);
    ck_assert_uint_eq(st.failed, 1);
    ck_assert(!st.done);
    text = read_all(out);
    ck_assert_msg(strstr(text, "FAIL small base seed=3 ") == text, "%s", text);
    ck_assert_msg(strstr(text, "     replay: build/bin/s3sim sweep small.scn --variant base --seed 3 "
                               "--op put --effect stall --nth 1 --trace --set s3.op.timeout=none\n"),
                  "%s", text);
    free(text);
    fclose(out);
    scn_spec_free(&sp);
    scn_free(f);
}
END_TEST

START_TEST(tools_sweep_refuses_a_bad_op_or_effect)
{
    struct scn_file *f = parse_text(SMALL);
    struct scn_spec sp;
    struct sweep_opts o = {.file = "small.scn", .variant = "base"};
    struct sweep_stats st;
    struct scn_error e;
    struct fs3_rule r;
    resolve_ok(f, NULL, &sp);
    snprintf(o.op, sizeof o.op, "putt");
    snprintf(o.effect, sizeof o.effect, "status=500");
    ck_assert_int_eq(sweep_spec(&sp, &o, stdout, &st), ERR_PARSE);
    ck_assert_uint_eq(st.runs, 0);
    snprintf(o.op, sizeof o.op, "put");
    snprintf(o.effect, sizeof o.effect, "stale=1s"); /* stale is for get, head, list */
    ck_assert_int_eq(sweep_rule(&o, 1, &r, &e), ERR_PARSE);
    snprintf(o.effect, sizeof o.effect, "delay=2s");
    ck_assert_int_eq(sweep_rule(&o, 7, &r, &e), 0);
    ck_assert_int_eq(r.match, FS3_MATCH_NTH);
    ck_assert_int_eq(r.n, 7);
    ck_assert_int_eq(r.delay_us, 2 * ENV_USEC_PER_SEC);
    scn_spec_free(&sp);
    scn_free(f);
}
END_TEST

/* ---- shrink ------------------------------------------------------------------------------- */

/* A race-delete of live objects among lines that have nothing to do with the loss. */
static const char *const RACE =
    "scenario race\nseed 5\ndeadline 5m\nset s3.wal.upload.interval.ms 2000\n"
    "set s3.retry.backoff 500ms\nstreams 3\n"
    "fault name=slow put until=1m delay=2s\n"
    "fault name=flaky get prob=10% until=2m status=503\n"
    "at 0s load rate=16KiB/s until=2m\n"
    "at 10s append stream=2 bytes=64KiB\n"
    "every 30s from=20s until=2m compact sso\n"
    "at 1m crash node=broker restart_after=2s\n"
    "at 1m30s race-delete target=live count=2\n"
    "at 2m10s trim stream=3 to=10%\n"
    "at 2m20s heal all\n"
    "expect no-data-loss\nexpect no-dangling-uploads\nexpect metric s3.calls >= 1\n";

START_TEST(tools_shrink_keeps_the_race_delete)
{
    struct scn_file *f = parse_text(RACE);
    struct scn_spec sp, out, again;
    struct shrink_opts o = {.file = "race.scn"};
    struct shrink_stats st;
    struct run_result r = {0};
    struct scn_error e;
    char sig[512];
    resolve_ok(f, NULL, &sp);
    ck_assert_int_eq(shrink_spec(&sp, &o, &out, &st), 0);
    ck_assert_str_eq(st.signature, "check=no-data-loss: stream N: reading offsets N failed: not found");
    ck_assert_int_le(st.runs, 2000);
    /* Only the lines the loss needs are left: a race-delete of live objects,
     * something for it to delete, and the failing check. */
    ck_assert_uint_lt(out.nevents, sp.nevents);
    ck_assert_uint_eq(out.nfaults, 0);
    ck_assert_int_eq(out.events[out.nevents - 1].act.kind, SCN_ACT_RACE_DELETE);
    ck_assert_int_eq(out.events[out.nevents - 1].act.race, SCN_RACE_LIVE);
    ck_assert_int_le(out.deadline_us, sp.deadline_us);
    ck_assert_int_eq(out.checks[0].kind, SCN_CHK_NO_DATA_LOSS);
    ck_assert_uint_eq(out.nchecks, 8); /* and the implicit no-hang, no-error-log,
                                          failures-explained, writes-once,
                                          requests-counted, no-leak, vacuous */
    /* The printed file reproduces the failure. */
    ck_assert_int_eq(scnw_reparse(&out, "shrunk.scn", &again, &e), 0);
    ck_assert_int_eq(tools_run(&again, "shrunk.scn", NULL, &r), 0);
    ck_assert_str_eq(tools_signature(&r, false, sig, sizeof sig), "check=no-data-loss");
    run_result_free(&r);
    scn_spec_free(&again);
    scn_spec_free(&out);
    scn_spec_free(&sp);
    scn_free(f);
}
END_TEST

START_TEST(tools_shrink_refuses_a_passing_run)
{
    struct scn_file *f = parse_text(SMALL);
    struct scn_spec sp, out;
    struct shrink_opts o = {.file = "small.scn"};
    struct shrink_stats st;
    resolve_ok(f, NULL, &sp);
    ck_assert_int_eq(shrink_spec(&sp, &o, &out, &st), ERR_INVAL);
    ck_assert_str_eq(st.signature, "");
    ck_assert_int_eq(st.runs, 1);
    ck_assert_ptr_null(out.events);
    scn_spec_free(&sp);
    scn_free(f);
}
END_TEST

START_TEST(tools_shrink_keeps_a_hang_a_hang)
{
    static const char *const sets[] = {"s3.op.timeout=none", "hang.threshold=1m"};
    struct scn_file *f = parse_text(
        "scenario h\nseed 2\ndeadline 10m\nset s3.wal.upload.interval.ms 5000\nstreams 2\n"
        "fault name=st put nth=2 stall\nfault name=x get prob=5% status=503\n"
        "at 0s load rate=8KiB/s until=1m\nat 20s crash node=controller\n"
        "at 2m append stream=2 bytes=4KiB\nexpect no-orphans\n");
    struct scn_spec sp, out;
    struct shrink_opts o = {.file = "h.scn", .max_runs = 300};
    struct shrink_stats st;
    struct scn_error e;
    ck_assert_int_eq(scn_resolve(f, NULL, sets, 2, &sp, &e), 0);
    ck_assert_int_eq(shrink_spec(&sp, &o, &out, &st), 0);
    ck_assert_str_eq(st.signature, "hang");
    ck_assert_int_le(st.runs, 300);
    ck_assert_uint_eq(out.nfaults, 1);
    ck_assert_int_eq(out.faults[0].effect, FS3_EFF_STALL);
    ck_assert_int_lt(out.deadline_us, sp.deadline_us);
    ck_assert_int_eq(out.conf.v[CONF_OP_TIMEOUT], ENV_TIME_NEVER); /* the --set is kept */
    scn_spec_free(&out);
    scn_spec_free(&sp);
    scn_free(f);
}
END_TEST


/* ---- the commands ------------------------------------------------------------------------- */

/* Writes text to a new temporary file; returns its path in buf. */
static const char *tmp_scn(const char *text, char *buf, size_t bufsz)
{
    int fd;
    FILE *fp;
    snprintf(buf, bufsz, "/tmp/test_tools_XXXXXX");
    fd = mkstemp(buf);
    ck_assert_int_ge(fd, 0);
    fp = fdopen(fd, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
    return buf;
}

static int run_cmd(int (*fn)(int, char **), const char *a0, const char *a1, const char *a2,
                   const char *a3, const char *a4, const char *a5)
{
    char *argv[8] = {(char *)a0, (char *)a1, (char *)a2, (char *)a3, (char *)a4, (char *)a5};
    int argc = 0;
    while (argc < 6 && argv[argc])
        argc++;
    return fn(argc, argv);
}

START_TEST(tools_cmd_shrink_writes_a_file_that_parses)
{
    char in[64], out[80];
    struct scn_file *f = NULL;
    struct scn_error e;
    tmp_scn(RACE, in, sizeof in);
    snprintf(out, sizeof out, "%s.out.scn", in);
    ck_assert_int_eq(run_cmd(cmd_shrink, "shrink", in, "--quiet", NULL, NULL, NULL), 2); /* no seed */
    ck_assert_int_eq(run_cmd(cmd_shrink, "shrink", in, "--seed", "5", "-o", out), 0);
    ck_assert_int_eq(scn_parse_file(out, &f, &e), 0);
    ck_assert_int_eq(scn_variant_count(f), 0);
    scn_free(f);
    unlink(out);
    unlink(in);
    tmp_scn(SMALL, in, sizeof in);
    ck_assert_int_eq(run_cmd(cmd_shrink, "shrink", in, "--seed", "3", "--quiet", NULL), 2);
    unlink(in);
    ck_assert_int_eq(run_cmd(cmd_shrink, "shrink", "/nonexistent.scn", "--seed", "3", NULL, NULL),
                     2);
}
END_TEST

START_TEST(tools_cmd_sweep_exit_codes)
{
    char in[64];
    tmp_scn(SMALL, in, sizeof in);
    ck_assert_int_eq(run_cmd(cmd_sweep, "sweep", in, "--op", "put", "--quiet", NULL), 0);
    ck_assert_int_eq(run_cmd(cmd_sweep, "sweep", in, "--op", "nope", NULL, NULL), 2);
    ck_assert_int_eq(run_cmd(cmd_sweep, "sweep", in, "--effect", "bogus", NULL, NULL), 2);
    ck_assert_int_eq(run_cmd(cmd_sweep, "sweep", in, "--variant", "nope", NULL, NULL), 2);
    ck_assert_int_eq(run_cmd(cmd_sweep, "sweep", NULL, NULL, NULL, NULL, NULL), 2);
    unlink(in);
}
END_TEST

static Suite *tools_suite(void)
{
    Suite *s = suite_create("tools");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, tools_write_round_trips_every_file);
    tcase_add_test(tc, tools_write_notices_a_difference);
    tcase_add_test(tc, tools_write_reparse_refuses_a_bad_spec);
    tcase_add_test(tc, tools_swarm_same_seed_same_subset);
    tcase_add_test(tc, tools_swarm_rules_are_bounded_and_printed);
    tcase_add_test(tc, tools_swarm_draws_rpc_rules);
    tcase_add_test(tc, tools_swarm_directive_draws_once);
    tcase_add_test(tc, tools_sweep_stops_when_call_k_never_comes);
    tcase_add_test(tc, tools_sweep_failures_carry_a_replay_line);
    tcase_add_test(tc, tools_sweep_refuses_a_bad_op_or_effect);
    tcase_add_test(tc, tools_shrink_keeps_the_race_delete);
    tcase_add_test(tc, tools_shrink_refuses_a_passing_run);
    tcase_add_test(tc, tools_shrink_keeps_a_hang_a_hang);
    tcase_add_test(tc, tools_cmd_shrink_writes_a_file_that_parses);
    tcase_add_test(tc, tools_cmd_sweep_exit_codes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(tools_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
