/* cmd_serve.c - `s3sim serve`: the fake S3, faults included, as a standalone
 * S3 server on 127.0.0.1 (docs/scenarios.md "The command"; fake_s3/http.h).
 *
 *   s3sim serve [--port N] [--access-key K --secret-key S] [--seed N]
 *               [--fault "FAULT LINE"]... [--scenario FILE]
 *               [--region R] [--threads N] [--bucket NAME]... [--latency-ms N]
 *               [--set KNOB=VALUE]... [--bind ADDR] [--max-memory SIZE]
 *               [--user AK:SK[:NAME]]... [--users FILE] [--lifecycle-day DURATION]
 *
 * --user, --users: more key pairs (docs/http.md "Users and access"; a bad
 * one is FILE:LINE:COL and exit 2).
 * --lifecycle-day: how long a day of the lifecycle rules set over HTTP lasts
 * (24h; shorter to watch Expiration and AbortIncompleteMultipartUpload act).
 * --bind: the IPv4 address to listen on (127.0.0.1; another one draws a
 * warning).  --max-memory: request bodies in memory at once (1GiB; over it
 * a request is answered 503 SlowDown).  The secret key is printed only when
 * it is the default (no --secret-key, no AWS_SECRET_ACCESS_KEY).
 * Every bucket created (CreateBucket, or --bucket up front) is an honest
 * store under a fault shim holding the --fault rules and the scenario's
 * top-level fault lines.  The stores follow s3.min.part.size and
 * s3.delete.missing (the scenario's set lines, then --set); they answer with
 * no latency and no bandwidth limit unless --latency-ms, --set s3.latency or
 * --set s3.bandwidth say otherwise.  It prints its endpoint and credentials on one line
 * on stdout, then serves until SIGINT or SIGTERM.  Exit: 0 after a signal,
 * 2 on bad usage or a fault line that does not parse, 3 when it cannot bind.
 */
#include "cmd.h"
#include "conf.h"
#include "err.h"
#include "http.h"
#include "scn.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERVE_MAX_RULES 256
#define SERVE_MAX_BUCKETS 16
#define SERVE_MAX_USERS 64

struct serve_opts {
    struct fs3_http_config cfg;
    struct fs3_rule rules[SERVE_MAX_RULES];
    size_t nrules;
    const char *buckets[SERVE_MAX_BUCKETS];
    size_t nbuckets;
    const char *scenario;
    struct conf conf; /* defaults, the scenario's set lines, then --set */
    const char *sets[64];
    size_t nsets;
    bool latency_set, bandwidth_set;
    struct fs3_config store;
    bool seed_set;
    bool verbose;
    bool key_default; /* no key given: ours, printed */
    struct fs3_http_user users[SERVE_MAX_USERS]; /* --user and --users (their strings in ustr) */
    char *ustr[SERVE_MAX_USERS];
    size_t nusers;
    int64_t lifecycle_day_us; /* --lifecycle-day (0: 24 h) */
};

static void serve_free(struct serve_opts *o)
{
    for (size_t i = 0; i < o->nusers; i++)
        free(o->ustr[i]);
    free(o);
}

static int serve_usage(const char *msg)
{
    if (msg)
        fprintf(stderr, "s3sim serve: %s\n", msg);
    fprintf(stderr,
            "usage: s3sim serve [--port N] [--access-key K --secret-key S] [--seed N]\n"
            "                   [--fault \"FAULT LINE\"]... [--scenario FILE] [--region R]\n"
            "                   [--threads N] [--bucket NAME]... [--latency-ms N]\n"
            "                   [--set KNOB=VALUE]... [--bind ADDR] [--max-memory SIZE]\n"
            "                   [--user AK:SK[:NAME]]... [--users FILE]\n"
            "                   [--lifecycle-day DURATION]\n");
    return 2;
}

static bool serve_num(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static int serve_add_fault(struct serve_opts *o, const char *line)
{
    struct scn_error err;
    char msg[512];
    if (o->nrules == SERVE_MAX_RULES)
        return serve_usage("too many --fault lines");
    if (scn_parse_fault("--fault", line, &o->rules[o->nrules], &err)) {
        fprintf(stderr, "s3sim serve: %s\n", scn_error_format(&err, msg, sizeof msg));
        return 2;
    }
    o->nrules++;
    return 0;
}

/* A field of a user: 1 to max bytes of printable ASCII other than space and
 * the characters in bad.  0, or the offset of the first bad byte + 1. */
static size_t serve_user_field(const char *s, size_t n, size_t max, const char *bad)
{
    if (n == 0)
        return 1;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~' || strchr(bad, s[i]) || i >= max)
            return i + 1;
    return 0;
}

/* Adds the user of fields f[0..nf) (access key, secret key, name) found at
 * where (an option, or FILE:LINE); col[i]: each field's column (1-based).
 * Takes line (malloc'ed; the fields point into it).  0 or 2. */
static int serve_add_user(struct serve_opts *o, const char *where, char *line, char **f,
                          const size_t *col, size_t nf)
{
    static const char *const what[] = {"access key", "secret key", "name"};
    static const size_t max[] = {127, 127, 64};
    static const char *const bad[] = {":/,=\"", "", ":\"<>&'"};
    if (nf < 2 || nf > 3) {
        fprintf(stderr, "s3sim serve: %s:%zu: expected ACCESS_KEY SECRET_KEY [NAME], found %zu "
                        "field%s\n", where, nf ? col[nf - 1] : 1, nf, nf == 1 ? "" : "s");
        free(line);
        return 2;
    }
    for (size_t i = 0; i < nf; i++) {
        size_t at = serve_user_field(f[i], strlen(f[i]), max[i], bad[i]);
        if (at) {
            fprintf(stderr, "s3sim serve: %s:%zu: bad %s: 1 to %zu printable characters "
                            "without spaces%s%s\n", where, col[i] + at - 1, what[i], max[i],
                    *bad[i] ? " or any of " : "", bad[i]);
            free(line);
            return 2;
        }
    }
    /* Names are canonical IDs: unique, and "s3sim" is the server's own pair. */
    const char *name = nf == 3 ? f[2] : f[0];
    bool dup = (o->cfg.access_key && strcmp(o->cfg.access_key, f[0]) == 0) ||
               strcmp(name, "s3sim") == 0;
    for (size_t i = 0; i < o->nusers; i++)
        dup = dup || strcmp(o->users[i].access_key, f[0]) == 0 ||
              strcmp(o->users[i].name ? o->users[i].name : o->users[i].access_key, name) == 0;
    if (dup || o->nusers == SERVE_MAX_USERS) {
        fprintf(stderr, "s3sim serve: %s:%zu: %s\n", where, col[0],
                dup ? "this access key or name is taken (\"s3sim\" is the server's own pair)"
                    : "too many users (at most 64)");
        free(line);
        return 2;
    }
    o->ustr[o->nusers] = line;
    o->users[o->nusers++] = (struct fs3_http_user){f[0], f[1], nf == 3 ? f[2] : NULL};
    return 0;
}

/* --user AK:SK[:NAME] */
static int serve_user_opt(struct serve_opts *o, const char *val)
{
    char *line = strdup(val), *f[4];
    size_t col[4], nf = 0;
    if (!line)
        return 3;
    for (char *p = line; nf < 4; nf++) {
        f[nf] = p;
        col[nf] = (size_t)(p - line) + 1;
        p = strchr(p, ':');
        if (!p) {
            nf++;
            break;
        }
        *p++ = '\0';
    }
    return serve_add_user(o, "--user", line, f, col, nf);
}

/* --users FILE: one user a line, "ACCESS_KEY SECRET_KEY [NAME]" separated by
 * spaces or tabs; blank lines and lines starting with '#' are skipped. */
static int serve_users_file(struct serve_opts *o, const char *path)
{
    FILE *fp = fopen(path, "r");
    char buf[1024], where[600];
    size_t lineno = 0;
    if (!fp) {
        fprintf(stderr, "s3sim serve: --users %s: cannot open it\n", path);
        return 2;
    }
    while (fgets(buf, sizeof buf, fp)) {
        lineno++;
        snprintf(where, sizeof where, "%s:%zu", path, lineno);
        size_t len = strlen(buf);
        if (len == sizeof buf - 1 && buf[len - 1] != '\n') {
            fprintf(stderr, "s3sim serve: %s:1: line too long (at most 1022 characters)\n",
                    where);
            fclose(fp);
            return 2;
        }
        buf[strcspn(buf, "\r\n")] = '\0';
        size_t lead = strspn(buf, " \t");
        if (!buf[lead] || buf[lead] == '#')
            continue;
        char *line = strdup(buf), *f[4];
        size_t col[4], nf = 0;
        if (!line) {
            fclose(fp);
            return 3;
        }
        for (char *p = line + lead; *p && nf < 4;) {
            f[nf] = p;
            col[nf++] = (size_t)(p - line) + 1;
            p += strcspn(p, " \t");
            if (*p)
                *p++ = '\0';
            p += strspn(p, " \t");
        }
        int rc = serve_add_user(o, where, line, f, col, nf);
        if (rc) {
            fclose(fp);
            return rc;
        }
    }
    fclose(fp);
    return 0;
}

/* One option with its value; returns 0, or an exit code. */
static int serve_opt(struct serve_opts *o, const char *opt, const char *val)
{
    long long v;
    if (!strcmp(opt, "--port")) {
        if (!serve_num(val, 0, 65535, &v)) {
            fprintf(stderr, "s3sim serve: --port %s: expected a port number from 0 to 65535\n",
                    val);
            return 2;
        }
        o->cfg.port = (int)v;
    } else if (!strcmp(opt, "--access-key"))
        o->cfg.access_key = val;
    else if (!strcmp(opt, "--secret-key"))
        o->cfg.secret_key = val;
    else if (!strcmp(opt, "--seed") && serve_num(val, 0, INT64_MAX, &v)) {
        o->cfg.seed = (uint64_t)v;
        o->seed_set = true;
    } else if (!strcmp(opt, "--fault"))
        return serve_add_fault(o, val);
    else if (!strcmp(opt, "--scenario"))
        o->scenario = val;
    else if (!strcmp(opt, "--user"))
        return serve_user_opt(o, val);
    else if (!strcmp(opt, "--users"))
        return serve_users_file(o, val);
    else if (!strcmp(opt, "--bind"))
        o->cfg.bind_addr = val;
    else if (!strcmp(opt, "--max-memory")) {
        char msg[CONF_ERR_MAX];
        int64_t b;
        if (conf_parse_size(val, false, &b, msg, sizeof msg) != 0 || b <= 0) {
            fprintf(stderr, "s3sim serve: --max-memory %s: %s\n", val,
                    b <= 0 ? "expected a size above 0 such as 512MiB" : msg);
            return 2;
        }
        o->cfg.max_memory = (uint64_t)b;
    } else if (!strcmp(opt, "--lifecycle-day")) {
        char msg[CONF_ERR_MAX];
        int64_t d = 0;
        int rc = conf_parse_duration(val, 0, &d, msg, sizeof msg);
        if (rc != 0 || d <= 0) {
            fprintf(stderr, "s3sim serve: --lifecycle-day %s: %s\n", val,
                    rc ? msg : "expected a duration above 0 such as 2s");
            return 2;
        }
        o->lifecycle_day_us = d;
    } else if (!strcmp(opt, "--region"))
        o->cfg.region = val;
    else if (!strcmp(opt, "--threads") && serve_num(val, 1, 256, &v))
        o->cfg.threads = (unsigned)v;
    else if (!strcmp(opt, "--latency-ms") && serve_num(val, 0, 60000, &v)) {
        o->cfg.latency_us = v * ENV_USEC_PER_MS;
        o->latency_set = true;
    } else if (!strcmp(opt, "--set") && o->nsets < sizeof o->sets / sizeof o->sets[0]) {
        o->sets[o->nsets++] = val;
        o->latency_set |= strncmp(val, "s3.latency=", 11) == 0;
        o->bandwidth_set |= strncmp(val, "s3.bandwidth=", 13) == 0;
    } else if (!strcmp(opt, "--bucket") && o->nbuckets < SERVE_MAX_BUCKETS)
        o->buckets[o->nbuckets++] = val;
    else if (!strcmp(opt, "--seed") || !strcmp(opt, "--threads") || !strcmp(opt, "--latency-ms")) {
        fprintf(stderr, "s3sim serve: %s %s: expected %s\n", opt, val,
                !strcmp(opt, "--seed")      ? "a number from 0 to 2^63-1"
                : !strcmp(opt, "--threads") ? "a number from 1 to 256"
                                            : "a number of milliseconds from 0 to 60000");
        return 2;
    } else
        return serve_usage("bad option or value");
    return 0;
}

/* The scenario's seed and top-level fault lines. */
static int serve_scenario(struct serve_opts *o)
{
    struct scn_file *f = NULL;
    struct scn_spec spec;
    struct scn_error err;
    char msg[512];
    if (scn_parse_file(o->scenario, &f, &err) || scn_resolve(f, NULL, NULL, 0, &spec, &err)) {
        fprintf(stderr, "s3sim serve: %s\n", scn_error_format(&err, msg, sizeof msg));
        scn_free(f);
        return 2;
    }
    if (!o->seed_set)
        o->cfg.seed = spec.seed;
    o->conf = spec.conf;
    for (size_t i = 0; i < spec.nfaults; i++) {
        if (o->nrules == SERVE_MAX_RULES) {
            scn_spec_free(&spec);
            scn_free(f);
            return serve_usage("too many fault lines");
        }
        o->rules[o->nrules++] = spec.faults[i];
    }
    scn_spec_free(&spec);
    scn_free(f);
    return 0;
}

/* The stores' config: the knobs after --set; latency and bandwidth only when
 * asked for (a test server answers at once by default). */
static int serve_store_config(struct serve_opts *o)
{
    char err[256];
    for (size_t i = 0; i < o->nsets; i++) {
        if (conf_set_kv(&o->conf, o->sets[i], err, sizeof err)) {
            fprintf(stderr, "s3sim serve: --set %s: %s\n", o->sets[i], err);
            return 2;
        }
    }
    fs3_config_init(&o->store);
    o->store.min_part_size = (uint64_t)conf_get(&o->conf, CONF_MIN_PART_SIZE);
    o->store.delete_missing_status = (int)conf_get(&o->conf, CONF_DELETE_MISSING);
    o->store.complete_repeat_ok = conf_get(&o->conf, CONF_COMPLETE_REPEAT) == 0;
    o->store.lifecycle_abort_us = conf_get(&o->conf, CONF_LIFECYCLE_ABORT);
    if (o->lifecycle_day_us)
        o->store.lifecycle_day_us = o->lifecycle_day_us;
    o->store.latency_us = o->cfg.latency_us;
    if (o->latency_set && o->cfg.latency_us == 0)
        o->store.latency_us = conf_get(&o->conf, CONF_LATENCY);
    o->store.bandwidth = o->bandwidth_set ? (uint64_t)conf_get(&o->conf, CONF_BANDWIDTH) : 0;
    o->cfg.store = &o->store;
    return 0;
}

static int serve_parse(struct serve_opts *o, int argc, char **argv)
{
    int rc;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
            o->verbose = true;
            continue;
        }
        if (i + 1 >= argc)
            return serve_usage("an option is missing its value");
        rc = serve_opt(o, argv[i], argv[i + 1]);
        if (rc)
            return rc;
        i++;
    }
    if ((o->cfg.access_key == NULL) != (o->cfg.secret_key == NULL))
        return serve_usage("--access-key and --secret-key go together");
    if (!o->cfg.access_key) {
        const char *ak = getenv("AWS_ACCESS_KEY_ID"), *sk = getenv("AWS_SECRET_ACCESS_KEY");
        o->cfg.access_key = ak && sk ? ak : "s3sim";
        o->cfg.secret_key = ak && sk ? sk : "s3sim-secret";
        o->key_default = !(ak && sk);
    }
    for (size_t i = 0; i < o->nusers; i++)
        if (strcmp(o->users[i].access_key, o->cfg.access_key) == 0) {
            fprintf(stderr, "s3sim serve: user %s: the server's own access key is not a second "
                            "user's\n", o->cfg.access_key);
            return 2;
        }
    if (!o->cfg.region)
        o->cfg.region = getenv("AWS_REGION") ? getenv("AWS_REGION") : "us-east-1";
    conf_init(&o->conf);
    rc = o->scenario ? serve_scenario(o) : 0;
    return rc ? rc : serve_store_config(o);
}

static void serve_log(void *arg, enum env_level level, const char *component, const char *line)
{
    (void)arg;
    fprintf(stderr, "%s %s: %s\n", env_level_name(level), component, line);
}

/* Creates the --bucket buckets through the server's own CreateBucket path:
 * a bucket made this way is the same as one a client creates. */
static int serve_buckets(struct fs3_http *h, struct serve_opts *o);

int cmd_serve(int argc, char **argv)
{
    struct serve_opts *o = calloc(1, sizeof *o);
    struct fs3_http *h = NULL;
    sigset_t set;
    int sig = 0, rc;
    if (!o)
        return 3;
    rc = serve_parse(o, argc, argv);
    if (rc) {
        serve_free(o);
        return rc;
    }
    o->cfg.users = o->users;
    o->cfg.nusers = o->nusers;
    o->cfg.rules = o->rules;
    o->cfg.nrules = o->nrules;
    if (o->verbose)
        o->cfg.log = serve_log;
    /* Block the signals before any thread starts, then wait for them here. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    const char *bind = o->cfg.bind_addr ? o->cfg.bind_addr : "127.0.0.1";
    if (strncmp(bind, "127.", 4) != 0)
        fprintf(stderr, "s3sim serve: warning: listening on %s: other machines can reach this "
                        "test server (its key pair is not a secret)\n", bind);
    rc = fs3_http_start(&o->cfg, &h);
    if (rc) {
        fprintf(stderr, "s3sim serve: cannot listen on %s:%d: %s\n", bind, o->cfg.port,
                rc == ERR_INVAL ? "--bind wants an IPv4 address" : err_str(rc));
        serve_free(o);
        return rc == ERR_INVAL ? 2 : 3;
    }
    rc = serve_buckets(h, o);
    if (rc) {
        fs3_http_stop(h);
        serve_free(o);
        return rc;
    }
    /* The secret key is printed only when it is our default: a key given by
     * option or environment stays out of logs. */
    printf("s3sim serve: endpoint=http://%s:%d region=%s access_key=%s secret_key=%s "
           "faults=%zu seed=%" PRIu64 "\n",
           bind, fs3_http_port(h), o->cfg.region, o->cfg.access_key,
           o->key_default ? o->cfg.secret_key : "(given)", o->nrules, o->cfg.seed);
    fflush(stdout);
    sigwait(&set, &sig);
    struct fs3_http_stats st;
    fs3_http_get_stats(h, &st);
    fprintf(stderr,
            "s3sim serve: stopping on signal %d: %" PRIu64 " requests, %" PRIu64 " errors, %" PRIu64
            " auth failures, %" PRIu64 " resets, %" PRIu64 " held\n",
            sig, st.requests, st.errors, st.auth_failures, st.resets, st.held);
    fs3_http_stop(h);
    serve_free(o);
    return 0;
}

static int serve_buckets(struct fs3_http *h, struct serve_opts *o)
{
    for (size_t i = 0; i < o->nbuckets; i++) {
        int rc = fs3_http_create_bucket(h, o->buckets[i]);
        if (rc) {
            fprintf(stderr, "s3sim serve: --bucket %s: %s\n", o->buckets[i], err_str(rc));
            return 2;
        }
    }
    return 0;
}
