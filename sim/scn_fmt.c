/* scn_fmt.c - fault rules back into scenario text (see scn.h). */
#include "scn_int.h"

#include "mdc.h"
#include "s3.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Appends printf output to buf at *off, never past bufsz. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void scn_put(char *buf, size_t bufsz, size_t *off, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (*off >= bufsz)
        return;
    va_start(ap, fmt);
    n = vsnprintf(buf + *off, bufsz - *off, fmt, ap);
    va_end(ap);
    if (n > 0)
        *off += (size_t)n < bufsz - *off ? (size_t)n : bufsz - *off - 1;
}

/* A glob, quoted when it holds a space, a quote, a backslash or a '#'. */
static void scn_put_glob(char *buf, size_t bufsz, size_t *off, const char *g)
{
    if (!g[strcspn(g, " \t\"\\#")]) {
        scn_put(buf, bufsz, off, " key=%s", g);
        return;
    }
    scn_put(buf, bufsz, off, " key=\"");
    for (; *g; g++)
        scn_put(buf, bufsz, off, "%s%c", *g == '"' || *g == '\\' ? "\\" : "", *g);
    scn_put(buf, bufsz, off, "\"");
}

static void scn_put_kind(char *buf, size_t bufsz, size_t *off, unsigned mask)
{
    static const char *const names[] = {"sso", "stream", "composite", "linked", "prepared"};
    const char *sep = " kind=";
    if ((mask & FS3_KIND_ANY) == FS3_KIND_ANY)
        return;
    for (int i = 0; i < 5; i++)
        if (mask & (1u << i)) {
            scn_put(buf, bufsz, off, "%s%s", sep, names[i]);
            sep = ",";
        }
}

static void scn_put_effect(char *buf, size_t bufsz, size_t *off, const struct fs3_rule *r)
{
    char d[48];
    if (r->op >= SCN_OP_RPC && r->effect == FS3_EFF_STATUS) {
        scn_put(buf, bufsz, off, " error=%s", mdc_code_name((enum mdc_code)r->status));
        return;
    }
    switch (r->effect) {
    case FS3_EFF_STATUS:
        scn_put(buf, bufsz, off, " status=%d", r->status);
        if (r->code != S3E_NONE)
            scn_put(buf, bufsz, off, ":%s", s3_code_name(r->code));
        break;
    case FS3_EFF_TIMEOUT: scn_put(buf, bufsz, off, " timeout"); break;
    case FS3_EFF_LOST: scn_put(buf, bufsz, off, " lost"); break;
    case FS3_EFF_STALL: scn_put(buf, bufsz, off, " stall"); break;
    case FS3_EFF_PARTIAL: scn_put(buf, bufsz, off, " partial"); break;
    case FS3_EFF_RESET: scn_put(buf, bufsz, off, " reset"); break;
    case FS3_EFF_CORRUPT:
        scn_put(buf, bufsz, off, " corrupt");
        if (r->corrupt_at != -1)
            scn_put(buf, bufsz, off, " byte=%" PRId64, r->corrupt_at);
        break;
    case FS3_EFF_DELAY:
        scn_put(buf, bufsz, off, " delay=%s", conf_format_duration(r->delay_us, d, sizeof d));
        break;
    case FS3_EFF_STALE:
        scn_put(buf, bufsz, off, " stale=%s", conf_format_duration(r->stale_us, d, sizeof d));
        break;
    case FS3_EFF_LATE:
        scn_put(buf, bufsz, off, " late=%s", conf_format_duration(r->delay_us, d, sizeof d));
        break;
    default: break;
    }
}

char *scn_rule_format(const struct fs3_rule *r, char *buf, size_t bufsz)
{
    size_t off = 0;
    char d[48];
    if (bufsz == 0)
        return buf;
    buf[0] = '\0';
    scn_put(buf, bufsz, &off, "fault");
    if (r->name[0])
        scn_put(buf, bufsz, &off, " name=%s", r->name);
    scn_put(buf, bufsz, &off, " %s", r->op == FS3_OP_ANY    ? "any"
                                     : r->op >= SCN_OP_RPC ? mdc_op_name((enum mdc_op)(r->op - SCN_OP_RPC))
                                                           : s3_op_name((enum s3_op)r->op));
    if (strcmp(r->key_glob, "*") != 0)
        scn_put_glob(buf, bufsz, &off, r->key_glob);
    if (r->op >= SCN_OP_RPC) {
        const char *sep = " kind="; /* an RPC's kind= is its sender (scn_rule_rpc_kind) */
        for (int k = 0; k < MDC_KIND_COUNT; k++)
            if (r->job_mask >> k & 1u) {
                scn_put(buf, bufsz, &off, "%s%s", sep, mdc_kind_name((enum mdc_kind)k));
                sep = ",";
            }
    } else {
        scn_put_kind(buf, bufsz, &off, r->kind_mask);
    }
    if (r->job_mask && r->op < SCN_OP_RPC) {
        const char *sep = " job=";
        for (int j = 0; j < S3_JOB_COUNT; j++)
            if (r->job_mask & (1u << (unsigned)j)) {
                scn_put(buf, bufsz, &off, "%s%s", sep, s3_job_name((enum s3_job)j));
                sep = ",";
            }
    }
    if (r->match == FS3_MATCH_NTH)
        scn_put(buf, bufsz, &off, " nth=%" PRId64, r->n);
    else if (r->match == FS3_MATCH_AFTER)
        scn_put(buf, bufsz, &off, " after=%" PRId64, r->n);
    else if (r->match == FS3_MATCH_PROB) {
        /* Plain decimal (the parser takes no exponent): the fewest digits
         * that read back as the same double (0.14, not 0.14000000000000001),
         * trailing zeros cut. */
        size_t n = 0;
        for (int prec = 1; prec <= 17; prec++) {
            n = (size_t)snprintf(d, sizeof d, "%.*f", prec, r->prob);
            if (strtod(d, NULL) == r->prob)
                break;
        }
        while (n > 3 && d[n - 1] == '0' && d[n - 2] != '.')
            d[--n] = '\0';
        scn_put(buf, bufsz, &off, " prob=%s", d);
    }
    if (r->times >= 0)
        scn_put(buf, bufsz, &off, " times=%" PRId64, r->times);
    if (r->from_us > 0)
        scn_put(buf, bufsz, &off, " from=%s", conf_format_duration(r->from_us, d, sizeof d));
    if (r->until_us != ENV_TIME_NEVER)
        scn_put(buf, bufsz, &off, " until=%s", conf_format_duration(r->until_us, d, sizeof d));
    scn_put_effect(buf, bufsz, &off, r);
    if (r->must_fire)
        scn_put(buf, bufsz, &off, " must-fire");
    return buf;
}
