/* env.c - helpers over struct env (see env.h). */
#include "env.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *env_level_name(enum env_level level)
{
    switch (level) {
    case ENV_LOG_ERROR: return "error";
    case ENV_LOG_WARN: return "warn";
    case ENV_LOG_INFO: return "info";
    case ENV_LOG_DEBUG: return "debug";
    }
    return "?";
}

uint64_t env_rand_below(struct env *env, uint64_t n)
{
    uint64_t x = env_rand(env);
    if (n == 0)
        return 0;
    /* Multiply-shift: the high 64 bits of x * n are uniform enough for
     * simulation purposes and cost one draw, which keeps draw order fixed. */
    __extension__ typedef unsigned __int128 env_u128;
    return (uint64_t)(((env_u128)x * n) >> 64);
}

double env_rand_unit(struct env *env)
{
    return (double)(env_rand(env) >> 11) * (1.0 / 9007199254740992.0);
}

void env_logf(struct env *env, enum env_level level, const char *component, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    if (!env->log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    env->log(env, level, component, line);
}

env_id env_wait_beginf(struct env *env, const char *who, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    if (!env->wait_begin)
        return 0;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return env->wait_begin(env, who, what);
}

void env_wait_updatef(struct env *env, env_id id, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    if (!id || !env->wait_update)
        return;
    va_start(ap, fmt);
    if (fmt[0] == '%' && fmt[1] == 's' && !fmt[2]) { /* a text built already: no copy */
        const char *text = va_arg(ap, const char *);
        va_end(ap);
        if (text && strnlen(text, sizeof what) < sizeof what) {
            env->wait_update(env, id, text);
            return;
        }
        va_start(ap, fmt);
    }
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    env->wait_update(env, id, what);
}

void env_tracef(struct env *env, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    if (env->trace_fmt) {
        va_start(ap, fmt);
        env->trace_fmt(env, fmt, ap);
        va_end(ap);
        return;
    }
    if (!env->trace)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    env->trace(env, line);
}

void env_eventf(struct env *env, enum env_lane lane, enum env_event_kind kind, uint64_t id,
                bool failed, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    if (!env->trace && !env->trace_fmt && !env->event)
        return;
    if (env->trace_fmt) {
        va_start(ap, fmt);
        env->trace_fmt(env, fmt, ap);
        va_end(ap);
    }
    if (!env->event && (env->trace_fmt || !env->trace))
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (env->trace && !env->trace_fmt)
        env->trace(env, line);
    if (env->event)
        env->event(env, &(struct env_event){lane, kind, id, failed, line});
}

char *env_fmt_duration(int64_t us, char *buf, size_t bufsz)
{
    int64_t ms = us / 1000;
    int64_t h = ms / 3600000, m = (ms / 60000) % 60, s = (ms / 1000) % 60, rest = ms % 1000;
    if (us < 0) {
        snprintf(buf, bufsz, "-");
        return buf;
    }
    if (ms < 1000 && ms > 0)
        snprintf(buf, bufsz, "%" PRId64 "ms", ms);
    else if (h)
        snprintf(buf, bufsz, "%" PRId64 "h%02" PRId64 "m%02" PRId64 "s", h, m, s);
    else if (m)
        snprintf(buf, bufsz, "%" PRId64 "m%02" PRId64 "s", m, s);
    else if (rest)
        snprintf(buf, bufsz, "%" PRId64 ".%03" PRId64 "s", s, rest);
    else
        snprintf(buf, bufsz, "%" PRId64 "s", s);
    return buf;
}

char *env_fmt_size(uint64_t bytes, char *buf, size_t bufsz)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)bytes;
    unsigned u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, bufsz, "%" PRIu64 "B", bytes);
    else
        snprintf(buf, bufsz, "%.1f%s", v, units[u]);
    return buf;
}
