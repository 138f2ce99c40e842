/*
 * scn_int.h - internals of the scenario parser, shared by scn.c (directives,
 * files), scn_lex.c (lines into words, value helpers), scn_act.c (actions,
 * fault rules, checks) and scn_resolve.c (variants, validation).  Not a
 * contract: use scn.h.
 */
#ifndef S3SIM_SCN_INT_H
#define S3SIM_SCN_INT_H

#include "scn.h"

/* One word of a line, decoded (quotes and escapes removed). */
struct scn_tok {
    char *text;  /* NUL-terminated, inside the context's buffer */
    int col;     /* 1-based column (characters) of the word's first character */
    int eq;      /* byte offset in text of the first '=' outside quotes, or -1 */
    int vcol;    /* column of the character after that '=' (the value) */
    bool quoted; /* some part of the word was quoted */
};

/* The state of one line being parsed. */
struct scn_ctx {
    const char *fname;       /* for messages */
    struct scn_error *err;   /* filled by scn_fail */
    int line;                /* 1-based */
    int end_col;             /* column just after the last word */
    struct scn_tok toks[SCN_MAX_WORDS];
    int ntok;
    char buf[SCN_MAX_LINE + SCN_MAX_WORDS + 1]; /* decoded words */
};

/* Records "fname:line:col: msg" in cx->err and returns ERR_PARSE. */
int scn_fail(struct scn_ctx *cx, int col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Same, for an error without a context (file level). */
int scn_fail_at(struct scn_error *err, const char *fname, int line, int col, const char *fmt,
                ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* Checks that [s, s+len) is valid UTF-8 without NUL or control bytes (tab
 * allowed) and splits it into words.  len <= SCN_MAX_LINE. */
int scn_lex_line(struct scn_ctx *cx, const char *s, size_t len);

/* A word of the form key=value with key in [a-z_]+ (so "==" and "<=" are not). */
bool scn_is_named(const struct scn_tok *t);
/* True when t is named and its key is key. */
bool scn_key_is(const struct scn_tok *t, const char *key);
/* The value text and column of a word: after '=' for a named word. */
const char *scn_vtext(const struct scn_tok *t);
int scn_vcol(const struct scn_tok *t);

/* Value helpers: parse the value of t and report errors at its column. */
int scn_val_duration(struct scn_ctx *cx, const struct scn_tok *t, int64_t *out);
int scn_val_size(struct scn_ctx *cx, const struct scn_tok *t, int64_t *out);
int scn_val_int(struct scn_ctx *cx, const struct scn_tok *t, int64_t min, int64_t max,
                int64_t *out);
int scn_val_name(struct scn_ctx *cx, const struct scn_tok *t, char *out, size_t outsz,
                 const char *what);
int scn_val_text(struct scn_ctx *cx, const struct scn_tok *t, char *out, size_t outsz,
                 const char *what);

/* Named arguments of a directive or action: the words from toks[from] on
 * are sorted into named (by position in keys, a NULL-terminated list) and
 * positional words.  Unknown and repeated keys are errors naming `what`. */
#define SCN_MAX_KEYS 16
struct scn_args {
    const struct scn_tok *named[SCN_MAX_KEYS];
    const struct scn_tok *pos[SCN_MAX_WORDS];
    int npos;
};
int scn_args_split(struct scn_ctx *cx, int from, const char *const *keys, const char *what,
                   struct scn_args *a);

/* Parsers of the parts of a line (scn_act.c).  Each starts at toks[from]. */
int scn_parse_action(struct scn_ctx *cx, int from, int64_t at_us, struct scn_action *a);
int scn_parse_rule(struct scn_ctx *cx, int from, struct fs3_rule *r);
int scn_parse_check(struct scn_ctx *cx, int from, bool expect_fail, struct scn_check *c);

/* True when a and b are the same check for variant merging. */
bool scn_check_same(const struct scn_check *a, const struct scn_check *b);

/* Resolves section idx of f (0 = base) without overrides; used by the parser
 * to validate every variant. */
int scn_resolve_section(const struct scn_file *f, size_t idx, const char *const *overrides,
                        size_t noverrides, struct scn_spec *out, struct scn_error *err);
/* The same; limits false leaves out the scenario.max.* limits, which the
 * parse cannot judge (--set may raise them): they are checked when a run,
 * `s3sim check` or any caller resolves the variant. */
int scn_resolve_section_opt(const struct scn_file *f, size_t idx, const char *const *overrides,
                            size_t noverrides, bool limits, struct scn_spec *out,
                            struct scn_error *err);

#endif /* S3SIM_SCN_INT_H */
