/*
 * scn.h - scenario files: lexer, parser, validation and variant resolution
 * (the grammar is docs/scenarios.md "The file format").
 *
 *   text ─► scn_parse_file()/scn_parse_buf() ─► struct scn_file (the AST: the
 *           base section and one section per variant, each a list of lines)
 *        ─► scn_resolve(file, variant, --set overrides) ─► struct scn_spec
 *           (what one run executes: seed, deadline, knobs, streams, timed
 *           events, faults active from the start, checks)
 *
 * Everything is checked at parse time: syntax, values, knob names and values,
 * metric and check names, and, for the base and every variant, stream ids
 * beyond `streams N` and heals of undefined rule names (scn_parse_* resolves
 * each variant once).  So a file that parses resolves, except for bad --set
 * overrides.
 *
 * Errors: every function that fails fills a struct scn_error: the file name,
 * the 1-based line and column (in characters) of the offending token, and a
 * sentence saying what was expected.  scn_error_format() prints it as
 * "FILE:LINE:COL: message".  Non-UTF-8 input, NUL bytes, control characters,
 * lines over SCN_MAX_LINE bytes, files over SCN_MAX_FILE bytes, numbers that
 * overflow and empty files are errors like any other.
 *
 * Units everywhere: times and durations in microseconds (int64_t, ENV_TIME_NEVER
 * = never/forever), sizes in bytes, rates in bytes per second.  Times of `at`,
 * `from=`, `until=` are absolute virtual times (from the start of the run).
 *
 * Ownership: a struct scn_file and a struct scn_spec own their arrays; free
 * them with scn_free() and scn_spec_free().  Everything else is plain data.
 */
#ifndef S3SIM_SCN_H
#define S3SIM_SCN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "env.h"
#include "fault.h"

/* A fault rule's op for the broker's requests to the controller: SCN_OP_RPC + enum mdc_op
 * (rpc-prepare, ...); such a rule goes to the metadata client's fault hook, not the fake S3,
 * and its error=CODE is kept as effect status with status = enum mdc_code. */
#define SCN_OP_RPC 1000
#define SCN_MAX_LINE 4096           /* bytes in one line, newline excluded */
#define SCN_MAX_FILE (16 << 20)     /* bytes in one file */
#define SCN_MAX_WORDS 64            /* words in one line */
#define SCN_NAME_MAX 64             /* scenario, variant, fault names, NUL included */
#define SCN_TEXT_MAX 1024           /* description, log match text, NUL included */
#define SCN_MAX_STREAMS 1000000     /* largest `streams N` */
#define SCN_MAX_LIST 128            /* ids in a load's streams= list */
#define SCN_MAX_DIRECTIVES 5000     /* directives in one file (bounds memory and time) */
#define SCN_MAX_VARIANTS 64         /* variants in one file */
#define SCN_MAX_SEEDS 1000000       /* seeds in a `seeds A..B` range (as run --seeds) */

/* ---- errors ------------------------------------------------------------------ */

struct scn_error {
    char file[256];    /* the file name as given ("--set" for overrides) */
    int line;          /* 1-based; 0 when the error has no line (file unreadable) */
    int col;           /* 1-based column of the offending token (characters) */
    char msg[512];     /* what was expected */
};

/* "FILE:LINE:COL: msg" (or "FILE: msg" when line is 0) into buf.  Returns buf. */
char *scn_error_format(const struct scn_error *err, char *buf, size_t bufsz);

/* ---- actions -------------------------------------------------------------- */

enum scn_act_kind {
    SCN_ACT_APPEND,        /* append stream=ID|all bytes=SIZE [record=SIZE] [gap=N] */
    SCN_ACT_LOAD,          /* load rate=RATE [record=SIZE] [streams=all|ID,..] [until=TIME] */
    SCN_ACT_TRIM,          /* trim stream=ID to=OFFSET|P% */
    SCN_ACT_DELETE_STREAM, /* delete-stream stream=ID */
    SCN_ACT_COMPACT,       /* compact sso|stream [force] */
    SCN_ACT_CRASH,         /* crash [node=broker|controller|all] [restart_after=D] */
    SCN_ACT_RACE_DELETE,   /* race-delete target=KIND [key=GLOB] [count=N] */
    SCN_ACT_FAULT,         /* fault ... : add a rule */
    SCN_ACT_HEAL,          /* heal NAME|all : remove rules */
    SCN_ACT_READ,          /* read stream=ID|all [from=OFFSET|P%] [bytes=SIZE] (extension) */
    SCN_ACT_RACE_PUT,      /* race-put id=next[+N]|N|key=KEY [bytes=SIZE] (extension) */
};

enum scn_compact { SCN_COMPACT_SSO, SCN_COMPACT_STREAM };

enum scn_node { SCN_NODE_BROKER, SCN_NODE_CONTROLLER, SCN_NODE_ALL };

enum scn_race {
    SCN_RACE_LIVE,      /* committed objects not marked */
    SCN_RACE_MARKED,    /* marked for deletion, not yet deleted */
    SCN_RACE_COMPOSITE, /* composite objects' own keys */
    SCN_RACE_LINKED,    /* objects linked by a composite */
    SCN_RACE_PREPARED,  /* prepared, not yet committed */
    SCN_RACE_ANY,
};

/* One action, a tagged struct: only the fields of its kind are meaningful;
 * the others keep the defaults noted. */
struct scn_action {
    enum scn_act_kind kind;
    int col;                  /* column of the action word */

    int stream;               /* append: 1..N or 0 = all; trim, delete-stream: 1..N */
    int stream_col;           /* column of the stream=/streams= argument (0 if none) */
    int64_t bytes;            /* append: bytes to append */
    int val_col;              /* append: column of bytes=; load: of rate= (for limits) */
    int64_t record;           /* append, load: record size (default 1 KiB) */
    int64_t gap;              /* append: offsets jump by gap before the first record (0) */

    int64_t rate;             /* load: bytes per second */
    int streams[SCN_MAX_LIST]; /* load: the listed stream ids */
    int nstreams;             /* load: 0 = all streams */
    int64_t until_us;         /* load: stops at this time (ENV_TIME_NEVER: never) */

    int64_t to_offset;        /* trim: the new start offset, or -1 when to=P% */
    int32_t to_ppm;           /* trim: P% as parts per million of the end offset, or -1 */

    enum scn_compact compact; /* compact: which */
    bool force;               /* compact: force (run even if the schedule would not) */

    enum scn_node node;       /* crash: which side (default broker) */
    int64_t restart_after_us; /* crash: pause before the restart (default 1s) */

    enum scn_race race;       /* race-delete: kind of object removed */
    char key[256];            /* race-delete: key glob ("*") */
    int64_t count;            /* race-delete: up to this many objects (1) */

    int64_t from_offset;      /* read: the first offset, or -1 (from_ppm, or the start) */
    int32_t from_ppm;         /* read: from=P% of the acknowledged end, as ppm, or -1 */
                              /* read: bytes = the most payload bytes a read returns
                                 (0: up to the acknowledged end) */

    int64_t put_id;           /* race-put: the object id, or -1 with put_next / a key= */
    bool put_next;            /* race-put: id=next[+put_id]: the next id the controller hands
                                 out (+put_id), resolved when the action fires */
                              /* race-put: key (key= given, else ""), bytes (the body size) */

    struct fs3_rule rule;     /* fault: the rule (rule.line = the source line) */

    char heal[SCN_NAME_MAX];  /* heal: the rule name; "" with heal_all */
    bool heal_all;            /* heal: every rule */
    int heal_col;             /* heal: column of the name */
};

/* `at TIME ACTION` (period_us 0) or `every PERIOD [from=] [until=] ACTION`:
 * fires at at_us, at_us + period_us, ... while the time is < until_us. */
struct scn_event {
    int line;                 /* source line */
    int col;                  /* column of TIME (at) or PERIOD (every) */
    int64_t at_us;            /* at: TIME; every: from= (default 0) */
    int64_t period_us;        /* every: PERIOD; 0 for at */
    int64_t until_us;         /* every: until= (ENV_TIME_NEVER); at: ENV_TIME_NEVER */
    struct scn_action act;
};

/* ---- checks ------------------------------------------------------------------ */

#define SCN_CHECK_TABLE(X)                                                     \
    X(SCN_CHK_NO_HANG, "no-hang")                                              \
    X(SCN_CHK_CONVERGED, "converged")                                          \
    X(SCN_CHK_NO_ORPHANS, "no-orphans")                                        \
    X(SCN_CHK_NO_MISSING, "no-missing")                                        \
    X(SCN_CHK_NO_DANGLING_UPLOADS, "no-dangling-uploads")                      \
    X(SCN_CHK_NO_DATA_LOSS, "no-data-loss")                                    \
    X(SCN_CHK_MEMORY, "memory")                                                \
    X(SCN_CHK_LOG, "log")                                                      \
    X(SCN_CHK_METRIC, "metric")                                                \
    X(SCN_CHK_NO_ERROR_LOG, "no-error-log")                                    \
    X(SCN_CHK_CAUGHT_UP, "caught-up")                                          \
    X(SCN_CHK_IMAGE_CONSISTENT, "image-consistent")                            \
    X(SCN_CHK_VACUOUS, "vacuous")                                              \
    X(SCN_CHK_READS_CORRECT, "reads-correct")                                  \
    X(SCN_CHK_FAILURES_EXPLAINED, "failures-explained")                        \
    X(SCN_CHK_NO_LEAK, "no-leak")                                              \
    X(SCN_CHK_WRITES_ONCE, "writes-once")                                      \
    X(SCN_CHK_REQUESTS_COUNTED, "requests-counted")

enum scn_check_kind {
#define SCN_CHK_ENUM_(e, s) e,
    SCN_CHECK_TABLE(SCN_CHK_ENUM_)
#undef SCN_CHK_ENUM_
    SCN_CHK_COUNT
};

enum scn_cmp { SCN_CMP_EQ, SCN_CMP_LE, SCN_CMP_GE, SCN_CMP_LT, SCN_CMP_GT };

struct scn_check {
    enum scn_check_kind kind;
    bool expect_fail;         /* an expect-fail line: the check must NOT hold */
    int line;                 /* source line; 0 for the implicit no-hang */
    int64_t within_us;        /* converged: within= (ENV_TIME_NEVER: the deadline) */
    enum scn_cmp cmp;         /* memory, log, metric: the comparison */
    int64_t value;            /* memory: bytes; log, metric: N */
    enum env_level level;     /* log: the level */
    bool has_match;           /* log: match= given */
    char match[SCN_TEXT_MAX]; /* log: the text ("" without match=) */
    bool has_except;          /* log: except= given (extension) */
    char except[SCN_TEXT_MAX]; /* log: texts separated by '|'; a line holding one is not
                                  counted */
    int metric;               /* metric: enum metric_id (metric_names.h) */
    int64_t at_us;            /* `at TIME expect ...`: judged at TIME; ENV_TIME_NEVER: at the
                                 end (the usual case) */
    int col;                  /* column of the check word (0 for implicit checks) */
    int at_col;               /* `at TIME expect`: column of TIME */
};

/* ---- the AST --------------------------------------------------------------- */

enum scn_line_kind {
    SCN_L_SEED,      /* seed N */
    SCN_L_DEADLINE,  /* deadline DURATION */
    SCN_L_STREAMS,   /* streams N */
    SCN_L_SET,       /* set KNOB VALUE */
    SCN_L_EVENT,     /* at / every */
    SCN_L_FAULT,     /* top-level fault: active from 0 (or its from=) */
    SCN_L_HEAL,      /* top-level heal: removes the rules defined so far */
    SCN_L_CHECK,     /* expect / expect-fail */
    SCN_L_SWARM,     /* swarm (extension): each seed draws its fault rules (sim/swarm.h) */
    SCN_L_SEEDS,     /* seeds A..B (extension, base only): the file's default seed range */
};

/* One directive.  Only the field of its kind is meaningful. */
struct scn_line {
    enum scn_line_kind kind;
    int line;                 /* source line */
    int col;                  /* column of the directive's first argument */
    uint64_t seed;            /* SCN_L_SEED; SCN_L_SEEDS: A */
    uint64_t seed_hi;         /* SCN_L_SEEDS: B */
    int64_t deadline_us;      /* SCN_L_DEADLINE */
    int streams;              /* SCN_L_STREAMS */
    int knob;                 /* SCN_L_SET: enum conf_id */
    int64_t value;            /* SCN_L_SET: the parsed value */
    char str[CONF_STR_MAX];   /* SCN_L_SET: the text of a string knob's value */
    struct scn_event event;   /* SCN_L_EVENT */
    struct scn_action act;    /* SCN_L_FAULT (act.rule), SCN_L_HEAL (act.heal/heal_all) */
    struct scn_check check;   /* SCN_L_CHECK */
};

/* The base (section 0) or one variant. */
struct scn_section {
    char name[SCN_NAME_MAX];  /* "base" for section 0, else the variant name */
    int line;                 /* line of `variant NAME` (the scenario line for the base) */
    struct scn_line *lines;   /* in file order */
    size_t nlines;
    size_t cap;               /* allocated lines */
};

struct scn_file {
    char path[256];                    /* as given to the parser */
    char name[SCN_NAME_MAX];           /* scenario NAME */
    char description[SCN_TEXT_MAX];    /* "" without a description line */
    struct scn_section *sections;      /* [0] = base, [1..] = variants in file order */
    size_t nsections;
};

/* ---- the effective spec of one run -------------------------------------------- */

struct scn_spec {
    char scenario[SCN_NAME_MAX];       /* scenario NAME */
    char variant[SCN_NAME_MAX];        /* "base" or the variant name */
    char description[SCN_TEXT_MAX];
    uint64_t seed;                     /* default 1 (the caller applies --seed) */
    bool swarm;                        /* `swarm`: each seed adds its drawn fault rules, as
                                          under --swarm (swarm_apply, sim/swarm.h) */
    bool have_seeds;                   /* `seeds A..B`: the range `s3sim run FILE` runs */
    uint64_t seeds_lo, seeds_hi;       /*   without --seed/--seeds (seed N stays the seed of
                                          one run) */
    int64_t deadline_us;               /* default 1h */
    int streams;                       /* streams 1..streams exist at time 0 (default 0) */
    struct conf conf;                  /* defaults, then set lines, then overrides */
    struct scn_event *events;          /* base's then the variant's, in file order */
    size_t nevents;
    struct fs3_rule *faults;           /* top-level rules (base's, then the variant's), minus
                                          those a later top-level heal removed */
    size_t nfaults;
    struct scn_check *checks;          /* base's, a variant line replacing in place the base
                                          lines of the same check, then the variant's new
                                          ones; then the implicit checks (line 0): no-hang
                                          if none, no-error-log unless a `log error` line
                                          or its own line, caught-up when `expect converged`
                                          and no caught-up line, and the vacuous gate */
    size_t nchecks;
    int64_t last_action_us;            /* the last `at`, the end of the last every/load:
                                          the earliest moment `converged` may be judged */
};

/* ---- API ----------------------------------------------------------------------- */

/* Parses and validates the file at path.  Returns 0 and *out (free with
 * scn_free), or ERR_IO (unreadable), ERR_PARSE (bad content, err says where),
 * ERR_NOMEM.  err may not be NULL. */
int scn_parse_file(const char *path, struct scn_file **out, struct scn_error *err);

/* Same, from memory: name is used in messages; buf need not be NUL-terminated. */
int scn_parse_buf(const char *name, const char *buf, size_t len, struct scn_file **out,
                  struct scn_error *err);

/* Parses one fault line ("[fault] [name=N] OP ... EFFECT", the `s3sim serve
 * --fault` form) into *out.  name is used in messages.  Returns 0 or
 * ERR_PARSE (err says where). */
int scn_parse_fault(const char *name, const char *text, struct fs3_rule *out,
                    struct scn_error *err);

/* Writes rule as one fault line ("fault name=x get kind=linked nth=2
 * status=503") that scn_parse_fault reads back to the same rule (line
 * aside); defaults are left out.  For replay lines, traces and reports.
 * Returns buf (cut to bufsz; 1024 bytes always suffice). */
char *scn_rule_format(const struct fs3_rule *r, char *buf, size_t bufsz);

/* Frees a file (NULL is fine). */
void scn_free(struct scn_file *f);

/* Number of variants (sections minus the base) and the name of variant i. */
size_t scn_variant_count(const struct scn_file *f);
const char *scn_variant_name(const struct scn_file *f, size_t i);

/* The effective spec of variant (NULL or "base": the base run), with the
 * overrides ("KNOB=VALUE", the --set form) applied after the file's set lines.
 * Returns 0, ERR_NOTFOUND (no such variant), ERR_PARSE (a bad override or a
 * validation error; err says which), ERR_NOMEM.  On failure *out is empty.
 * Free with scn_spec_free. */
int scn_resolve(const struct scn_file *f, const char *variant, const char *const *overrides,
                size_t noverrides, struct scn_spec *out, struct scn_error *err);

void scn_spec_free(struct scn_spec *s);

/* Name tables ("converged", "==", "delete-stream", ...). */
const char *scn_check_name(enum scn_check_kind kind);
const char *scn_cmp_name(enum scn_cmp cmp);
const char *scn_act_name(enum scn_act_kind kind);

/* True when a and b are the same check for variant merging (a variant's line
 * replaces the base's line of the same check). */
bool scn_check_same(const struct scn_check *a, const struct scn_check *b);

/* True when `value cmp limit` holds. */
bool scn_cmp_holds(enum scn_cmp cmp, int64_t value, int64_t limit);

#endif /* S3SIM_SCN_H */
