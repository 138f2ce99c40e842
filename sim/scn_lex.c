/* scn_lex.c - scenario lines into words, errors, value helpers (see scn_int.h). */
#include "scn_int.h"

#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- errors ------------------------------------------------------------------ */

static void scn_vfail(struct scn_error *err, const char *fname, int line, int col,
                      const char *fmt, va_list ap)
{
    snprintf(err->file, sizeof err->file, "%s", fname ? fname : "");
    err->line = line;
    err->col = col;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
}

int scn_fail(struct scn_ctx *cx, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    scn_vfail(cx->err, cx->fname, cx->line, col, fmt, ap);
    va_end(ap);
    return ERR_PARSE;
}

int scn_fail_at(struct scn_error *err, const char *fname, int line, int col, const char *fmt,
                ...)
{
    va_list ap;
    va_start(ap, fmt);
    scn_vfail(err, fname, line, col, fmt, ap);
    va_end(ap);
    return ERR_PARSE;
}

/* ---- UTF-8 ------------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when the
 * bytes are not one (overlong forms, surrogates and values above U+10FFFF
 * included). */
static size_t scn_utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min, cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, min = 0x80, cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, min = 0x800, cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, min = 0x10000, cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* Checks the bytes of a line: valid UTF-8, no NUL, no control byte but tab. */
static int scn_check_bytes(struct scn_ctx *cx, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    int col = 1;
    for (size_t i = 0; i < len; col++) {
        size_t n = scn_utf8_len(u + i, len - i);
        if (n == 0)
            return scn_fail(cx, col, "invalid UTF-8 byte 0x%02x: a scenario is UTF-8 text", u[i]);
        if (u[i] == 0)
            return scn_fail(cx, col, "NUL byte: a scenario is UTF-8 text");
        if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f)
            return scn_fail(cx, col, "control character 0x%02x: a scenario is UTF-8 text", u[i]);
        i += n;
    }
    return 0;
}

/* ---- words ------------------------------------------------------------------- */

static bool scn_space(char c) { return c == ' ' || c == '\t'; }

/* The column advance of byte c: continuation bytes take no column. */
static int scn_col_step(char c) { return ((unsigned char)c & 0xc0) == 0x80 ? 0 : 1; }

/* Copies a quoted part starting at s[*i] == '"' into *o. */
static int scn_lex_quoted(struct scn_ctx *cx, const char *s, size_t len, size_t *i, int *col,
                          char **o)
{
    int qcol = *col;
    (*i)++;
    (*col)++;
    for (;;) {
        if (*i >= len)
            return scn_fail(cx, qcol, "unterminated quoted string: expected a closing \"");
        if (s[*i] == '"')
            break;
        if (s[*i] == '\\') {
            if (*i + 1 >= len || (s[*i + 1] != '"' && s[*i + 1] != '\\'))
                return scn_fail(cx, *col, "unknown escape: only \\\" and \\\\ are allowed");
            (*i)++;
            (*col)++;
        }
        *(*o)++ = s[*i];
        *col += scn_col_step(s[*i]);
        (*i)++;
    }
    (*i)++;
    (*col)++;
    return 0;
}

int scn_lex_line(struct scn_ctx *cx, const char *s, size_t len)
{
    char *o = cx->buf;
    size_t i = 0;
    int col = 1;
    int rc = scn_check_bytes(cx, s, len);
    cx->ntok = 0;
    cx->end_col = 1;
    if (rc)
        return rc;
    for (;;) {
        struct scn_tok *t;
        while (i < len && scn_space(s[i]))
            i++, col++;
        if (i >= len || s[i] == '#')
            break;
        if (cx->ntok == SCN_MAX_WORDS)
            return scn_fail(cx, col, "too many words on one line (at most %d)", SCN_MAX_WORDS);
        t = &cx->toks[cx->ntok++];
        t->text = o;
        t->col = col;
        t->eq = -1;
        t->vcol = 0;
        t->quoted = false;
        while (i < len && !scn_space(s[i]) && s[i] != '#') {
            if (s[i] == '"') {
                t->quoted = true;
                rc = scn_lex_quoted(cx, s, len, &i, &col, &o);
                if (rc)
                    return rc;
                continue;
            }
            if (s[i] == '=' && t->eq < 0) {
                t->eq = (int)(o - t->text);
                t->vcol = col + 1;
            }
            *o++ = s[i];
            col += scn_col_step(s[i]);
            i++;
        }
        *o++ = '\0';
        cx->end_col = col;
    }
    return 0;
}

/* ---- named words --------------------------------------------------------------- */

bool scn_is_named(const struct scn_tok *t)
{
    if (t->eq <= 0)
        return false;
    for (int k = 0; k < t->eq; k++)
        if (!((t->text[k] >= 'a' && t->text[k] <= 'z') || t->text[k] == '_'))
            return false;
    return true;
}

bool scn_key_is(const struct scn_tok *t, const char *key)
{
    size_t n = strlen(key);
    return scn_is_named(t) && (size_t)t->eq == n && memcmp(t->text, key, n) == 0;
}

const char *scn_vtext(const struct scn_tok *t)
{
    return scn_is_named(t) ? t->text + t->eq + 1 : t->text;
}

int scn_vcol(const struct scn_tok *t) { return scn_is_named(t) ? t->vcol : t->col; }

int scn_args_split(struct scn_ctx *cx, int from, const char *const *keys, const char *what,
                   struct scn_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = from; i < cx->ntok; i++) {
        const struct scn_tok *t = &cx->toks[i];
        int k;
        if (!scn_is_named(t)) {
            a->pos[a->npos++] = t;
            continue;
        }
        for (k = 0; keys && keys[k]; k++)
            if (scn_key_is(t, keys[k]))
                break;
        if (!keys || !keys[k]) {
            char list[256] = "";
            for (int j = 0; keys && keys[j]; j++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s=",
                         j ? ", " : "", keys[j]);
            return scn_fail(cx, t->col, "unknown argument '%.*s=' for %s (expected %s)", t->eq,
                            t->text, what, keys && keys[0] ? list : "no named argument");
        }
        if (a->named[k])
            return scn_fail(cx, t->col, "%s= given twice (first at column %d)", keys[k],
                            a->named[k]->col);
        a->named[k] = t;
    }
    return 0;
}

/* ---- values ------------------------------------------------------------------- */

int scn_val_duration(struct scn_ctx *cx, const struct scn_tok *t, int64_t *out)
{
    char msg[CONF_ERR_MAX];
    if (conf_parse_duration(scn_vtext(t), 0, out, msg, sizeof msg) != 0)
        return scn_fail(cx, scn_vcol(t), "%s", msg);
    return 0;
}

int scn_val_size(struct scn_ctx *cx, const struct scn_tok *t, int64_t *out)
{
    char msg[CONF_ERR_MAX];
    if (conf_parse_size(scn_vtext(t), false, out, msg, sizeof msg) != 0)
        return scn_fail(cx, scn_vcol(t), "%s", msg);
    return 0;
}

int scn_val_int(struct scn_ctx *cx, const struct scn_tok *t, int64_t min, int64_t max,
                int64_t *out)
{
    char msg[CONF_ERR_MAX];
    if (conf_parse_int(scn_vtext(t), out, msg, sizeof msg) != 0)
        return scn_fail(cx, scn_vcol(t), "%s", msg);
    if (*out < min || *out > max)
        return scn_fail(cx, scn_vcol(t), "expected an integer from %lld to %lld, found %lld",
                        (long long)min, (long long)max, (long long)*out);
    return 0;
}

int scn_val_name(struct scn_ctx *cx, const struct scn_tok *t, char *out, size_t outsz,
                 const char *what)
{
    const char *v = scn_vtext(t);
    size_t n = strlen(v);
    if (n == 0 || n >= outsz || n != strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-"))
        return scn_fail(cx, scn_vcol(t), "expected a %s of 1 to %zu characters a-z, 0-9, -", what,
                        outsz - 1);
    memcpy(out, v, n + 1);
    return 0;
}

int scn_val_text(struct scn_ctx *cx, const struct scn_tok *t, char *out, size_t outsz,
                 const char *what)
{
    const char *v = scn_vtext(t);
    size_t n = strlen(v);
    if (n >= outsz)
        return scn_fail(cx, scn_vcol(t), "%s is too long (at most %zu bytes)", what, outsz - 1);
    memcpy(out, v, n + 1);
    return 0;
}
