/* conf.c - the knob table and the value parsers (see conf.h). */
#include "conf.h"

#include "env.h"
#include "err.h"
#include "obj.h"
#include "s3.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

__extension__ typedef unsigned __int128 conf_u128;

static const struct conf_knob conf_knobs[CONF_COUNT] = {
#define CONF_ROW_(id, name, type, def, bug, help) {name, type, def, bug, help},
    CONF_TABLE(CONF_ROW_)
#undef CONF_ROW_
};

/* The hardened profile's values and the findings, indexed by knob. */
static const struct {
    enum conf_id id;
    const char *value;
    const char *finding;
} conf_hardened[] = {
#define CONF_HROW_(id, value, finding) {id, value, finding},
    CONF_HARDENED(CONF_HROW_)
#undef CONF_HROW_
};
#define CONF_NHARDENED (sizeof conf_hardened / sizeof conf_hardened[0])

static const char *const conf_profile_names[CONF_PROFILE_COUNT] = {"automq", "hardened"};

/* ---- messages ------------------------------------------------------------ */

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int conf_fail(int rc, char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;
    if (!err || errsz == 0)
        return rc;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    return rc;
}

/* Quotes at most 40 bytes of s for a message (the rest is cut with "..."). */
static const char *conf_shown(const char *s, char *buf, size_t bufsz)
{
    size_t n = strlen(s);
    if (n + 1 <= bufsz && n <= 40) {
        memcpy(buf, s, n + 1);
        return buf;
    }
    snprintf(buf, bufsz, "%.40s...", s);
    return buf;
}

/* ---- numbers --------------------------------------------------------------- */

/* A decimal number: ip + fnum/fden; over is set when ip does not fit 64 bits. */
struct conf_num {
    uint64_t ip;   /* integer part */
    uint64_t fnum; /* fraction numerator (at most 18 digits kept) */
    uint64_t fden; /* fraction denominator (1 when no fraction) */
    bool over;     /* the integer part overflowed */
};

static bool conf_digit(char c) { return c >= '0' && c <= '9'; }

/* Scans "D+[.D+]" at s.  Returns the end, or NULL when s does not start with
 * a well-formed number. */
static const char *conf_num_scan(const char *s, struct conf_num *n)
{
    memset(n, 0, sizeof *n);
    n->fden = 1;
    if (!conf_digit(*s))
        return NULL;
    for (; conf_digit(*s); s++) {
        unsigned d = (unsigned)(*s - '0');
        if (n->ip > (UINT64_MAX - d) / 10)
            n->over = true;
        else
            n->ip = n->ip * 10 + d;
    }
    if (*s != '.')
        return s;
    s++;
    if (!conf_digit(*s))
        return NULL;
    for (int k = 0; conf_digit(*s); s++, k++) {
        if (k < 18) {
            n->fnum = n->fnum * 10 + (uint64_t)(*s - '0');
            n->fden *= 10;
        }
    }
    return s;
}

/* n * unit, truncated toward zero, into *out; false on overflow of int64. */
static bool conf_num_scale(const struct conf_num *n, uint64_t unit, int64_t *out)
{
    conf_u128 v;
    if (n->over)
        return false;
    v = (conf_u128)n->ip * unit + (conf_u128)n->fnum * unit / n->fden;
    if (v > (conf_u128)INT64_MAX)
        return false;
    *out = (int64_t)v;
    return true;
}

int conf_parse_int(const char *s, int64_t *out, char *err, size_t errsz)
{
    char b[64];
    const char *p = s;
    bool neg = false;
    uint64_t v = 0;
    if (*p == '-') {
        neg = true;
        p++;
    }
    if (!conf_digit(*p))
        return conf_fail(ERR_INVAL, err, errsz, "expected an integer, found '%s'",
                         conf_shown(s, b, sizeof b));
    for (; conf_digit(*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > ((uint64_t)INT64_MAX + (neg ? 1u : 0u) - d) / 10)
            return conf_fail(ERR_RANGE, err, errsz, "integer '%s' is out of range",
                             conf_shown(s, b, sizeof b));
        v = v * 10 + d;
    }
    if (*p)
        return conf_fail(ERR_INVAL, err, errsz, "expected an integer, found '%s'",
                         conf_shown(s, b, sizeof b));
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int conf_parse_u64(const char *s, uint64_t *out, char *err, size_t errsz)
{
    char b[64];
    struct conf_num n;
    const char *end = conf_num_scan(s, &n);
    if (!end || *end || n.fden != 1)
        return conf_fail(ERR_INVAL, err, errsz, "expected a non-negative integer, found '%s'",
                         conf_shown(s, b, sizeof b));
    if (n.over)
        return conf_fail(ERR_RANGE, err, errsz, "integer '%s' is out of range",
                         conf_shown(s, b, sizeof b));
    *out = n.ip;
    return 0;
}

/* ---- durations ------------------------------------------------------------- */

static const struct {
    const char *name;
    int64_t us;
} conf_time_units[] = {
    {"h", ENV_USEC_PER_HOUR}, {"m", ENV_USEC_PER_MIN}, {"s", ENV_USEC_PER_SEC},
    {"ms", ENV_USEC_PER_MS},  {"us", 1},
};
#define CONF_NTIME_UNITS (sizeof conf_time_units / sizeof conf_time_units[0])

/* The index of the time unit spelled by [s, s+len), or -1. */
static int conf_time_unit(const char *s, size_t len)
{
    for (size_t i = 0; i < CONF_NTIME_UNITS; i++)
        if (strlen(conf_time_units[i].name) == len && memcmp(conf_time_units[i].name, s, len) == 0)
            return (int)i;
    return -1;
}

int conf_parse_duration(const char *s, int64_t bare_unit_us, int64_t *out, char *err,
                        size_t errsz)
{
    char b[64];
    const char *p = s;
    int64_t total = 0;
    int last = -1;
    conf_shown(s, b, sizeof b);
    do {
        struct conf_num n;
        const char *u = conf_num_scan(p, &n);
        const char *e;
        int64_t part;
        int unit;
        if (!u)
            return conf_fail(ERR_INVAL, err, errsz,
                             "expected a duration such as 250ms, 10s, 1h30m, found '%s'", b);
        for (e = u; *e >= 'a' && *e <= 'z'; e++)
            ;
        if (e == u && !*u && last < 0 && bare_unit_us > 0) {
            if (!conf_num_scale(&n, (uint64_t)bare_unit_us, &total))
                return conf_fail(ERR_RANGE, err, errsz, "duration '%s' is out of range", b);
            *out = total;
            return 0;
        }
        if (e == u && !*u && last >= 0)
            return conf_fail(ERR_INVAL, err, errsz,
                             "expected a unit (ms, s, m, h) after the last number of '%s'", b);
        if (e == u && !*u)
            return conf_fail(ERR_INVAL, err, errsz,
                             "expected a duration with a unit (ms, s, m, h) such as '%ss', "
                             "found the bare number '%s'", b, b);
        unit = conf_time_unit(u, (size_t)(e - u));
        if (unit < 0)
            return conf_fail(ERR_INVAL, err, errsz,
                             "expected a duration unit (ms, s, m, h) in '%s'", b);
        if (unit <= last)
            return conf_fail(ERR_INVAL, err, errsz,
                             "duration '%s': units must go from the largest to the smallest", b);
        if (!conf_num_scale(&n, (uint64_t)conf_time_units[unit].us, &part) ||
            part > INT64_MAX - total)
            return conf_fail(ERR_RANGE, err, errsz, "duration '%s' is out of range", b);
        total += part;
        last = unit;
        p = e;
    } while (*p);
    *out = total;
    return 0;
}

/* ---- sizes and rates ------------------------------------------------------- */

static const struct {
    const char *name;
    uint64_t bytes;
} conf_size_units[] = {
    {"B", 1},
    {"KiB", UINT64_C(1) << 10},
    {"MiB", UINT64_C(1) << 20},
    {"GiB", UINT64_C(1) << 30},
    {"TiB", UINT64_C(1) << 40},
    {"KB", UINT64_C(1000)},
    {"MB", UINT64_C(1000000)},
    {"GB", UINT64_C(1000000000)},
    {"TB", UINT64_C(1000000000000)},
};
#define CONF_NSIZE_UNITS (sizeof conf_size_units / sizeof conf_size_units[0])

/* Parses a size that ends at end (exclusive); shown is the text for messages. */
static int conf_size_span(const char *s, const char *end, bool bare_ok, int64_t *out,
                          const char *shown, char *err, size_t errsz)
{
    struct conf_num n;
    const char *u;
    uint64_t unit = 0;
    if (*s == '-')
        return conf_fail(ERR_RANGE, err, errsz, "a size cannot be negative: '%s'", shown);
    u = conf_num_scan(s, &n);
    if (!u || u > end)
        return conf_fail(ERR_INVAL, err, errsz,
                         "expected a size such as 4KiB, 5MiB, 1GB, found '%s'", shown);
    if (u == end) {
        if (!bare_ok)
            return conf_fail(ERR_INVAL, err, errsz,
                             "expected a size with a unit (B, KiB, MiB, GiB, KB, MB, GB), "
                             "found the bare number '%s'", shown);
        unit = 1;
    }
    for (size_t i = 0; !unit && i < CONF_NSIZE_UNITS; i++)
        if (strlen(conf_size_units[i].name) == (size_t)(end - u) &&
            memcmp(conf_size_units[i].name, u, (size_t)(end - u)) == 0)
            unit = conf_size_units[i].bytes;
    if (!unit)
        return conf_fail(ERR_INVAL, err, errsz,
                         "expected a size unit (B, KiB, MiB, GiB, KB, MB, GB) in '%s'", shown);
    if (!conf_num_scale(&n, unit, out))
        return conf_fail(ERR_RANGE, err, errsz, "size '%s' is out of range", shown);
    return 0;
}

int conf_parse_size(const char *s, bool bare_ok, int64_t *out, char *err, size_t errsz)
{
    char b[64];
    return conf_size_span(s, s + strlen(s), bare_ok, out, conf_shown(s, b, sizeof b), err, errsz);
}

int conf_parse_rate(const char *s, bool bare_ok, int64_t *out, char *err, size_t errsz)
{
    char b[64];
    size_t len = strlen(s);
    conf_shown(s, b, sizeof b);
    if (len >= 2 && strcmp(s + len - 2, "/s") == 0)
        return conf_size_span(s, s + len - 2, true, out, b, err, errsz);
    if (bare_ok) {
        struct conf_num n;
        const char *e = conf_num_scan(s, &n);
        if (e && !*e)
            return conf_size_span(s, e, true, out, b, err, errsz);
    }
    return conf_fail(ERR_INVAL, err, errsz, "expected a rate such as 2MiB/s, found '%s'", b);
}

/* ---- probability and boolean ----------------------------------------------- */

int conf_parse_prob(const char *s, double *out, char *err, size_t errsz)
{
    char b[64];
    struct conf_num n;
    const char *e = conf_num_scan(s, &n);
    double v, max = 1.0;
    conf_shown(s, b, sizeof b);
    if (e && *e == '%') {
        e++;
        max = 100.0;
    }
    if (!e || *e)
        return conf_fail(ERR_INVAL, err, errsz,
                         "expected a probability such as 0.25 or 25%%, found '%s'", b);
    v = (double)n.ip + (double)n.fnum / (double)n.fden;
    if (n.over || v > max)
        return conf_fail(ERR_RANGE, err, errsz, "probability '%s' is above %s", b,
                         max > 1.0 ? "100%" : "1");
    *out = v / max;
    return 0;
}

int conf_parse_bool(const char *s, bool *out, char *err, size_t errsz)
{
    char b[64];
    if (strcasecmp(s, "true") == 0) {
        *out = true;
        return 0;
    }
    if (strcasecmp(s, "false") == 0) {
        *out = false;
        return 0;
    }
    return conf_fail(ERR_INVAL, err, errsz, "expected true or false, found '%s'",
                     conf_shown(s, b, sizeof b));
}

/* ---- the table --------------------------------------------------------------- */

const struct conf_knob *conf_knob(enum conf_id id)
{
    return (unsigned)id < CONF_COUNT ? &conf_knobs[id] : NULL;
}

int conf_lookup(const char *name)
{
    for (int i = 0; i < CONF_COUNT; i++)
        if (strcmp(conf_knobs[i].name, name) == 0)
            return i;
    return -1;
}

const char *conf_type_name(enum conf_type type)
{
    switch (type) {
    case CONF_T_INT: return "integer";
    case CONF_T_COUNT: return "count|unlimited";
    case CONF_T_SIZE: return "size (bare: bytes)";
    case CONF_T_RATE: return "rate";
    case CONF_T_DURATION: return "duration";
    case CONF_T_MINUTES: return "duration (bare: minutes)";
    case CONF_T_MILLIS: return "duration (bare: ms)";
    case CONF_T_TIMEOUT: return "duration|none";
    case CONF_T_PROB: return "probability";
    case CONF_T_BOOL: return "boolean";
    case CONF_T_CKSUM: return "MD5|CRC32C|CRC32|SHA256|NONE";
    case CONF_T_STATUS404: return "204|404";
    case CONF_T_NOTFOUND: return "success|error";
    case CONF_T_REPEAT: return "ok|nosuchupload";
    case CONF_T_PARTCOPY: return "native|get-put";
    case CONF_T_STRING: return "string";
    case CONF_T_PROFILE: return "automq|hardened";
    }
    return "?";
}

/* Parses the scalar (non-string) types. */
static int conf_parse_typed(enum conf_type type, const char *v, int64_t *out, char *err,
                            size_t errsz)
{
    char b[64];
    bool flag = false;
    double p;
    int rc;
    conf_shown(v, b, sizeof b);
    switch (type) {
    case CONF_T_COUNT:
        if (strcmp(v, "unlimited") == 0) {
            *out = -1;
            return 0;
        }
        /* fall through */
    case CONF_T_INT:
        rc = conf_parse_int(v, out, err, errsz);
        if (rc == 0 && *out < 0)
            return conf_fail(ERR_RANGE, err, errsz, "expected a non-negative integer, found '%s'",
                             b);
        return rc;
    case CONF_T_SIZE: return conf_parse_size(v, true, out, err, errsz);
    case CONF_T_RATE:
        rc = conf_parse_rate(v, true, out, err, errsz);
        if (rc == 0 && *out == 0)
            return conf_fail(ERR_RANGE, err, errsz, "a rate must be above 0, found '%s'", b);
        return rc;
    case CONF_T_DURATION: return conf_parse_duration(v, 0, out, err, errsz);
    case CONF_T_MINUTES: return conf_parse_duration(v, ENV_USEC_PER_MIN, out, err, errsz);
    case CONF_T_MILLIS: return conf_parse_duration(v, ENV_USEC_PER_MS, out, err, errsz);
    case CONF_T_TIMEOUT:
        if (strcmp(v, "none") == 0) {
            *out = ENV_TIME_NEVER;
            return 0;
        }
        rc = conf_parse_duration(v, 0, out, err, errsz);
        if (rc == 0 && *out == 0)
            return conf_fail(ERR_RANGE, err, errsz, "a timeout must be above 0 (or none)");
        return rc;
    case CONF_T_PROB:
        rc = conf_parse_prob(v, &p, err, errsz);
        if (rc == 0)
            *out = (int64_t)llround(p * 1e9);
        return rc;
    case CONF_T_BOOL:
        rc = conf_parse_bool(v, &flag, err, errsz);
        if (rc == 0)
            *out = flag;
        return rc;
    case CONF_T_CKSUM:
        rc = s3_cksum_parse(v);
        if (rc < 0 || rc > S3_CKSUM_SHA256) /* SHA1, CRC64NVME: the HTTP front's only */
            return conf_fail(ERR_INVAL, err, errsz,
                             "expected MD5, CRC32C, CRC32, SHA256 or NONE, found '%s'", b);
        *out = rc;
        return 0;
    case CONF_T_STATUS404:
        if (strcmp(v, "204") != 0 && strcmp(v, "404") != 0)
            return conf_fail(ERR_INVAL, err, errsz, "expected 204 or 404, found '%s'", b);
        *out = v[0] == '2' ? 204 : 404;
        return 0;
    case CONF_T_NOTFOUND:
        if (strcmp(v, "success") != 0 && strcmp(v, "error") != 0)
            return conf_fail(ERR_INVAL, err, errsz, "expected success or error, found '%s'", b);
        *out = v[0] == 'e';
        return 0;
    case CONF_T_REPEAT:
        if (strcmp(v, "ok") != 0 && strcmp(v, "nosuchupload") != 0)
            return conf_fail(ERR_INVAL, err, errsz, "expected ok or nosuchupload, found '%s'", b);
        *out = v[0] == 'n';
        return 0;
    case CONF_T_PARTCOPY:
        if (strcmp(v, "native") != 0 && strcmp(v, "get-put") != 0)
            return conf_fail(ERR_INVAL, err, errsz, "expected native or get-put, found '%s'", b);
        *out = v[0] == 'g';
        return 0;
    case CONF_T_PROFILE:
        for (int p = 0; p < CONF_PROFILE_COUNT; p++)
            if (strcmp(v, conf_profile_names[p]) == 0) {
                *out = p;
                return 0;
            }
        return conf_fail(ERR_INVAL, err, errsz, "expected automq or hardened, found '%s'", b);
    case CONF_T_STRING: break;
    }
    return conf_fail(ERR_INVAL, err, errsz, "unsupported knob type");
}

/* Knobs for which 0 makes no sense: periods (a 0 period would fire forever at
 * one instant of virtual time), block and part sizes, budgets and limits. */
static bool conf_positive(enum conf_id id)
{
    switch (id) {
    case CONF_SSO_INTERVAL:
    case CONF_SSO_CACHE_SIZE:
    case CONF_SSO_MAX_NUM:
    case CONF_SSO_MAX_STREAMS:
    case CONF_SSO_MAX_SO_PER_COMMIT:
    case CONF_SO_MAX_SIZE:
    case CONF_BLOCK_SIZE:
    case CONF_PART_SIZE:
    case CONF_WAL_UPLOAD_INTERVAL:
    case CONF_WAL_UPLOAD_THRESHOLD:
    case CONF_MINOR_INTERVAL:
    case CONF_MAJOR_INTERVAL:
    case CONF_MULTIPART_THRESHOLD:
    case CONF_INFLIGHT_MAX:
    case CONF_MIN_PART_SIZE:
    case CONF_CLEANER_INTERVAL:
    case CONF_CLEANER_MAX_PER_ROUND:
    case CONF_PREPARED_TTL:
    case CONF_CLN_DEEP_CONCURRENCY:
    case CONF_RETRY_MAX: return true;
    default: return false;
    }
}

/* S3's bucket naming rules (the subset every region accepts). */
static bool conf_bucket_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool alnum = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9');
        if (!alnum && ((i == 0 || i == n - 1) || (s[i] != '.' && s[i] != '-')))
            return false;
    }
    return true;
}

int conf_parse_value(enum conf_id id, const char *value, int64_t *out, char *err, size_t errsz)
{
    const struct conf_knob *k = conf_knob(id);
    size_t len;
    int rc;
    if (!k)
        return conf_fail(ERR_NOTFOUND, err, errsz, "no such knob");
    if (k->type != CONF_T_STRING) {
        int64_t v;
        rc = conf_parse_typed(k->type, value, &v, err, errsz);
        if (rc == 0 && v == 0 && conf_positive(id))
            return conf_fail(ERR_RANGE, err, errsz, "%s must be above 0", k->name);
        if (rc == 0)
            *out = v;
        return rc;
    }
    len = strlen(value);
    if (len == 0 || len >= CONF_STR_MAX)
        return conf_fail(ERR_INVAL, err, errsz, "expected a string of 1 to %d bytes",
                         CONF_STR_MAX - 1);
    /* Every object key is HEX/_kafka_CLUSTER/ID: a cluster id the engine cannot make a
     * namespace of would fail the world's setup (and used to be reported as out of memory). */
    if (id == CONF_CLUSTER_ID && (len + 7 > OBJ_NS_MAX || strchr(value, '/')))
        return conf_fail(ERR_INVAL, err, errsz, "expected a cluster id of 1 to %d bytes without "
                         "'/' (object keys hold \"_kafka_\" + it, at most %d bytes)",
                         OBJ_NS_MAX - 7, OBJ_NS_MAX);
    if (id == CONF_BUCKET && !conf_bucket_name_ok(value))
        return conf_fail(ERR_INVAL, err, errsz,
                         "expected a bucket name: 3 to 63 of a-z 0-9 . -, starting and "
                         "ending with a letter or digit");
    *out = 0;
    return 0;
}

const char *conf_profile_name(enum conf_profile p)
{
    return (unsigned)p < CONF_PROFILE_COUNT ? conf_profile_names[p] : "?";
}

const char *conf_profile_default(enum conf_id id, enum conf_profile p)
{
    if (p == CONF_PROFILE_HARDENED)
        for (size_t i = 0; i < CONF_NHARDENED; i++)
            if (conf_hardened[i].id == id)
                return conf_hardened[i].value;
    return conf_knobs[id].def;
}

const char *conf_finding(enum conf_id id)
{
    for (size_t i = 0; i < CONF_NHARDENED; i++)
        if (conf_hardened[i].id == id)
            return conf_hardened[i].finding;
    return NULL;
}

/* Gives every knob that is not explicit the default of c's profile. */
static void conf_apply_profile(struct conf *c)
{
    enum conf_profile p = (enum conf_profile)c->v[CONF_PROFILE];
    for (int i = 0; i < CONF_COUNT; i++) {
        const char *def = conf_profile_default((enum conf_id)i, p);
        if (i == CONF_PROFILE || c->expl[i])
            continue;
        /* The defaults are checked by tests/test_conf.c (conf_defaults_parse). */
        if (conf_parse_value((enum conf_id)i, def, &c->v[i], NULL, 0) != 0)
            c->v[i] = 0;
        if (conf_knobs[i].type == CONF_T_STRING)
            snprintf(c->str[i], CONF_STR_MAX, "%s", def);
    }
}

void conf_init(struct conf *c) { conf_init_profile(c, CONF_PROFILE_AUTOMQ); }

void conf_init_profile(struct conf *c, enum conf_profile p)
{
    memset(c, 0, sizeof *c);
    c->v[CONF_PROFILE] = (unsigned)p < CONF_PROFILE_COUNT ? p : CONF_PROFILE_AUTOMQ;
    conf_apply_profile(c);
}

void conf_put(struct conf *c, enum conf_id id, int64_t v, const char *str)
{
    c->v[id] = v;
    if (conf_knobs[id].type == CONF_T_STRING)
        snprintf(c->str[id], CONF_STR_MAX, "%s", str ? str : "");
    c->expl[id] = true;
    if (id == CONF_PROFILE)
        conf_apply_profile(c);
}

int conf_set(struct conf *c, const char *name, const char *value, char *err, size_t errsz)
{
    char b[64];
    int64_t v;
    int id = conf_lookup(name);
    int rc;
    if (id < 0)
        return conf_fail(ERR_NOTFOUND, err, errsz, "unknown knob '%s' (see s3sim knobs)",
                         conf_shown(name, b, sizeof b));
    rc = conf_parse_value((enum conf_id)id, value, &v, err, errsz);
    if (rc != 0)
        return rc == ERR_RANGE ? ERR_INVAL : rc;
    conf_put(c, (enum conf_id)id, v, value);
    return 0;
}

int conf_set_kv(struct conf *c, const char *kv, char *err, size_t errsz)
{
    char name[128];
    const char *eq = strchr(kv, '=');
    size_t n;
    if (!eq || eq == kv)
        return conf_fail(ERR_INVAL, err, errsz, "expected KNOB=VALUE, found '%s'", kv);
    n = (size_t)(eq - kv);
    if (n >= sizeof name)
        return conf_fail(ERR_NOTFOUND, err, errsz, "unknown knob '%.40s...' (see s3sim knobs)",
                         kv);
    memcpy(name, kv, n);
    name[n] = '\0';
    return conf_set(c, name, eq + 1, err, errsz);
}

/* ---- formatting -------------------------------------------------------------- */

char *conf_format_size(int64_t v, const char *suffix, char *buf, size_t bufsz)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (u < 4 && v != 0 && v % 1024 == 0) {
        v /= 1024;
        u++;
    }
    snprintf(buf, bufsz, "%" PRId64 "%s%s", v, units[u], suffix);
    return buf;
}

char *conf_format_duration(int64_t us, char *buf, size_t bufsz)
{
    size_t off = 0;
    if (us == 0) {
        snprintf(buf, bufsz, "0s");
        return buf;
    }
    buf[0] = '\0';
    for (size_t i = 0; i < CONF_NTIME_UNITS && us > 0; i++) {
        int64_t q = us / conf_time_units[i].us;
        if (q == 0)
            continue;
        us -= q * conf_time_units[i].us;
        int n = snprintf(buf + off, bufsz - off, "%" PRId64 "%s", q, conf_time_units[i].name);
        if (n < 0 || (size_t)n >= bufsz - off)
            break;
        off += (size_t)n;
    }
    return buf;
}

char *conf_format(const struct conf *c, enum conf_id id, char *buf, size_t bufsz)
{
    int64_t v = c->v[id];
    switch (conf_knobs[id].type) {
    case CONF_T_COUNT:
        if (v < 0) {
            snprintf(buf, bufsz, "unlimited");
            break;
        }
        /* fall through */
    case CONF_T_INT:
    case CONF_T_STATUS404: snprintf(buf, bufsz, "%" PRId64, v); break;
    case CONF_T_SIZE: return conf_format_size(v, "", buf, bufsz);
    case CONF_T_RATE: return conf_format_size(v, "/s", buf, bufsz);
    case CONF_T_TIMEOUT:
        if (v == ENV_TIME_NEVER) {
            snprintf(buf, bufsz, "none");
            break;
        }
        /* fall through */
    case CONF_T_DURATION:
    case CONF_T_MINUTES:
    case CONF_T_MILLIS: return conf_format_duration(v, buf, bufsz);
    case CONF_T_PROB: snprintf(buf, bufsz, "%.9g", (double)v / 1e9); break;
    case CONF_T_BOOL: snprintf(buf, bufsz, "%s", v ? "true" : "false"); break;
    case CONF_T_CKSUM: snprintf(buf, bufsz, "%s", s3_cksum_name((enum s3_cksum)v)); break;
    case CONF_T_NOTFOUND: snprintf(buf, bufsz, "%s", v ? "error" : "success"); break;
    case CONF_T_REPEAT: snprintf(buf, bufsz, "%s", v ? "nosuchupload" : "ok"); break;
    case CONF_T_PARTCOPY: snprintf(buf, bufsz, "%s", v ? "get-put" : "native"); break;
    case CONF_T_STRING: snprintf(buf, bufsz, "%s", c->str[id]); break;
    case CONF_T_PROFILE: snprintf(buf, bufsz, "%s", conf_profile_name((enum conf_profile)v)); break;
    }
    return buf;
}
