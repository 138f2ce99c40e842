/* report.c - rpt_write() and the helpers the writers share (see report.h). */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "err.h"
#include "report_int.h"

/* fault.h declares fs3_effect_name(), but fake_s3/fault.c is another
 * module's; the report keeps its own copy of the names so that it links
 * without the fault shim.  The static assert keeps it in step with the enum. */
static const char *const rpt_effect_names[] = {
    "none", "status", "timeout", "lost", "stall", "delay", "partial", "stale", "reset", "corrupt",
    "late",
};
_Static_assert(sizeof rpt_effect_names / sizeof rpt_effect_names[0] == FS3_EFF_COUNT,
               "rpt_effect_names must follow enum fs3_effect");

static const char *const rpt_lane_names[] = {
    "s3", "wal", "sso", "stream", "cleaner", "crash", "wait", "action",
};
_Static_assert(sizeof rpt_lane_names / sizeof rpt_lane_names[0] == RUN_LANE_COUNT,
               "rpt_lane_names must follow enum run_lane");

const char *rpt_effect_name(int effect)
{
    return effect >= 0 && effect < FS3_EFF_COUNT ? rpt_effect_names[effect] : "?";
}

const char *rpt_lane_name(enum run_lane lane)
{
    return (unsigned)lane < RUN_LANE_COUNT ? rpt_lane_names[lane] : "?";
}

const char *rpt_verdict_name(enum run_verdict v)
{
    switch (v) {
    case RUN_PASS: return "PASS";
    case RUN_FAIL: return "FAIL";
    default: return "ERROR";
    }
}

bool rpt_failing(const struct run_result *r)
{
    return r->verdict != RUN_PASS;
}

uint64_t rpt_faults_total(const struct run_result *r)
{
    uint64_t n = 0;
    for (int op = 0; op < S3_OP_COUNT; op++)
        for (int e = 1; e < FS3_EFF_COUNT; e++)
            n += r->faults_by_op[op][e];
    return n;
}

bool rpt_effect_applies(int effect, int op)
{
    if (effect == FS3_EFF_STALE)
        return op == S3_OP_GET || op == S3_OP_HEAD || op == S3_OP_LIST;
    if (effect == FS3_EFF_CORRUPT)
        return op == S3_OP_GET;
    if (effect == FS3_EFF_LATE)
        return op == S3_OP_PUT || op == S3_OP_MPU_PART;
    if (effect == FS3_EFF_PARTIAL)
        return op == S3_OP_PUT || op == S3_OP_GET || op == S3_OP_MPU_PART ||
               op == S3_OP_MPU_COMPLETE || op == S3_OP_DELETE_MANY;
    return effect > FS3_EFF_NONE && effect < FS3_EFF_COUNT;
}

char *rpt_trace_hex(char *out, size_t size, const struct run_result *r)
{
    size_t n = 0;

    for (size_t i = 0; i < sizeof r->trace_hex && r->trace_hex[i] && n + 1 < size; i++)
        if (strchr("0123456789abcdefABCDEF", r->trace_hex[i]))
            out[n++] = r->trace_hex[i];
    if (size)
        out[n] = '\0';
    return out;
}

int rpt_finish(FILE *f)
{
    if (fflush(f) != 0 || ferror(f))
        return ERR_IO;
    return 0;
}

/* ---- UTF-8 and escaping ------------------------------------------------- */

size_t rpt_utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    uint32_t c = s[0], min;
    size_t len;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, c &= 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, c &= 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, c &= 0x07, min = 0x10000;
    } else {
        goto bad;
    }
    if (len > n)
        goto bad;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            goto bad;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        goto bad;
    *cp = c;
    return len;
bad:
    *cp = 0xfffd;
    return 1;
}

void rpt_json_str(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n;

    if (!s) {
        fputs("null", f);
        return;
    }
    n = strlen(s);
    putc('"', f);
    while (n > 0) {
        uint32_t cp;
        size_t len = rpt_utf8_next(p, n, &cp);
        if (cp == '"' || cp == '\\') {
            putc('\\', f);
            putc((int)cp, f);
        } else if (cp == '\n') {
            fputs("\\n", f);
        } else if (cp == '\t') {
            fputs("\\t", f);
        } else if (cp == '\r') {
            fputs("\\r", f);
        } else if (cp < 0x20 || cp == 0x7f) {
            fprintf(f, "\\u%04x", (unsigned)cp);
        } else if (cp == 0xfffd && len == 1) {
            fputs("\\ufffd", f); /* an invalid byte */
        } else {
            fwrite(p, 1, len, f);
        }
        p += len;
        n -= len;
    }
    putc('"', f);
}

void rpt_xml_str(FILE *f, const char *s, bool attr)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = s ? strlen(s) : 0;

    while (n > 0) {
        uint32_t cp;
        size_t len = rpt_utf8_next(p, n, &cp);
        switch (cp) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        case '\t': fputs(attr ? "&#9;" : "\t", f); break;
        case '\n': fputs(attr ? "&#10;" : "\n", f); break;
        case '\r': fputs("&#13;", f); break;
        default:
            if (cp < 0x20 || cp == 0x7f)
                fprintf(f, "\\x%02X", (unsigned)cp);
            else if (cp == 0xfffe || cp == 0xffff)
                fprintf(f, "\\u%04X", (unsigned)cp);
            else if (cp == 0xfffd && len == 1)
                fputs("\xef\xbf\xbd", f); /* an invalid byte */
            else
                fwrite(p, 1, len, f);
        }
        p += len;
        n -= len;
    }
}

/* ---- durations ---------------------------------------------------------- */

char *rpt_fmt_dur(char *buf, size_t size, int64_t us)
{
    const char *sign = us < 0 ? "-" : "";
    uint64_t u = us < 0 ? (uint64_t)0 - (uint64_t)us : (uint64_t)us;
    uint64_t s = u / 1000000, frac = u % 1000000;

    if (u == 0)
        snprintf(buf, size, "0s");
    else if (u < 1000)
        snprintf(buf, size, "%s%" PRIu64 "us", sign, u);
    else if (u < 1000000 && u % 1000 == 0)
        snprintf(buf, size, "%s%" PRIu64 "ms", sign, u / 1000);
    else if (u < 1000000)
        snprintf(buf, size, "%s%" PRIu64 ".%03" PRIu64 "ms", sign, u / 1000, u % 1000);
    else if (s < 60 && frac == 0)
        snprintf(buf, size, "%s%" PRIu64 "s", sign, s);
    else if (s < 60)
        snprintf(buf, size, "%s%" PRIu64 ".%03" PRIu64 "s", sign, s, frac / 1000);
    else if (s < 3600)
        snprintf(buf, size, "%s%" PRIu64 "m%02" PRIu64 "s", sign, s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, size, "%s%" PRIu64 "h%02" PRIu64 "m%02" PRIu64 "s", sign, s / 3600,
                 s / 60 % 60, s % 60);
    else
        snprintf(buf, size, "%s%" PRIu64 "d%02" PRIu64 "h%02" PRIu64 "m", sign, s / 86400,
                 s / 3600 % 24, s / 60 % 60);
    return buf;
}

/* ---- rpt_write ---------------------------------------------------------- */

/* mkdir -p: creates every missing component of dir. */
static int rpt_mkdirs(const char *dir)
{
    struct stat st;
    char *p = strdup(dir);
    int rc = 0;

    if (!p)
        return ERR_NOMEM;
    for (char *q = p + 1; *q; q++) {
        if (*q != '/')
            continue;
        *q = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            rc = ERR_IO;
        *q = '/';
        if (rc)
            goto out;
    }
    if (mkdir(p, 0777) != 0 && errno != EEXIST)
        rc = ERR_IO;
    else if (stat(p, &st) != 0)
        rc = ERR_IO;
    else if (!S_ISDIR(st.st_mode))
        rc = ERR_IO, errno = ENOTDIR;
out:
    free(p);
    return rc;
}

int rpt_prepare(const char *dir, char *why, size_t whysz)
{
    char probe[4096];
    FILE *fp;
    int rc = rpt_mkdirs(dir);
    if (rc) {
        snprintf(why, whysz, "cannot create the directory: %s",
                 rc == ERR_NOMEM ? "out of memory" : strerror(errno));
        return rc;
    }
    if (snprintf(probe, sizeof probe, "%s/.s3sim-probe", dir) >= (int)sizeof probe) {
        snprintf(why, whysz, "path too long");
        return ERR_INVAL;
    }
    if (!(fp = fopen(probe, "w"))) {
        snprintf(why, whysz, "cannot write into it: %s", strerror(errno));
        return ERR_IO;
    }
    fclose(fp);
    unlink(probe);
    return 0;
}

enum rpt_kind { RPT_RESULTS, RPT_JUNIT, RPT_COVERAGE, RPT_HTML };

static int rpt_write_one(const char *dir, const char *name, enum rpt_kind kind,
                         struct run_result *const *runs, size_t nruns, bool report_all)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *path = malloc(len);
    FILE *f;
    int rc;

    if (!path)
        return ERR_NOMEM;
    snprintf(path, len, "%s/%s", dir, name);
    f = fopen(path, "w");
    free(path);
    if (!f)
        return ERR_IO;
    switch (kind) {
    case RPT_RESULTS: rc = rpt_results_json(f, runs, nruns); break;
    case RPT_JUNIT: rc = rpt_junit(f, runs, nruns); break;
    case RPT_COVERAGE: rc = rpt_coverage_json(f, runs, nruns); break;
    default: rc = rpt_html(f, runs, nruns, report_all); break;
    }
    if (fclose(f) != 0 && rc == 0)
        rc = ERR_IO;
    return rc;
}

int rpt_write(const char *dir, struct run_result *const *runs, size_t nruns, bool report_all)
{
    static const struct {
        const char *name;
        enum rpt_kind kind;
    } files[] = {
        {"results.json", RPT_RESULTS},
        {"junit.xml", RPT_JUNIT},
        {"coverage.json", RPT_COVERAGE},
        {"index.html", RPT_HTML},
    };
    int rc;

    if (!dir || !*dir || (nruns > 0 && !runs))
        return ERR_INVAL;
    for (size_t i = 0; i < nruns; i++)
        if (!runs[i])
            return ERR_INVAL;
    rc = rpt_mkdirs(dir);
    for (size_t i = 0; rc == 0 && i < sizeof files / sizeof files[0]; i++)
        rc = rpt_write_one(dir, files[i].name, files[i].kind, runs, nruns, report_all);
    return rc;
}
