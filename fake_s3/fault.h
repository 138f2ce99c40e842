/*
 * fault.h - the fault shim: an s3_ops wrapper over the honest store that
 * matches rules and applies effects (docs/scenarios.md "Faults").
 *
 * Like SQLite's test_vfs.c, it asks its injector first, then forwards to its
 * parent (the store).  A rule is a small counter struct with one "should it
 * fire?" function (fs3_rule_fires, the kernel's should_fail()).
 *
 * Deterministic: every draw (prob=) comes from the env's PRNG, and only when a
 * rule with prob= is otherwise matching the call, so the draw order is fixed
 * by the call order.
 */
#ifndef S3SIM_FAULT_H
#define S3SIM_FAULT_H

#include "env.h"
#include "s3.h"

#define FS3_OP_ANY (-1) /* a rule's op: every op */

/* Object kinds for kind= (a bitmask; the classifier returns one bit). */
enum fs3_kind {
    FS3_KIND_NONE = 0,          /* the key is no object the metadata knows */
    FS3_KIND_SSO = 1 << 0,
    FS3_KIND_STREAM = 1 << 1,
    FS3_KIND_COMPOSITE = 1 << 2,
    FS3_KIND_LINKED = 1 << 3,
    FS3_KIND_PREPARED = 1 << 4,
    FS3_KIND_ANY = 0x1f,
};

enum fs3_effect {
    FS3_EFF_NONE = 0,  /* no fault (used in counters for "not hit") */
    FS3_EFF_STATUS,    /* answer status (+ S3 code) without touching the store */
    FS3_EFF_TIMEOUT,   /* never answer; the client's attempt timeout fires; store unchanged */
    FS3_EFF_LOST,      /* apply on the store, never answer */
    FS3_EFF_STALL,     /* never answer; store unchanged */
    FS3_EFF_DELAY,     /* answer normally, delay_us later */
    FS3_EFF_PARTIAL,   /* half-happen, per op (docs/scenarios.md "Faults") */
    FS3_EFF_STALE,     /* list/get/head see the bucket as of stale_us ago */
    FS3_EFF_RESET,     /* --mode http only: connection reset mid-response */
    FS3_EFF_CORRUPT,   /* get only: answer success with one byte of the body flipped */
    FS3_EFF_LATE,      /* put, mpu-part only: never answer (the caller's attempt times
                          out); applied when it lands, delay_us after its latency,
                          with the body's bytes as they are then */
    FS3_EFF_COUNT
};

/* Returns "status", "timeout", "lost", ... ("none" for FS3_EFF_NONE). */
const char *fs3_effect_name(enum fs3_effect eff);

enum fs3_match {
    FS3_MATCH_ALL = 0, /* every matching call */
    FS3_MATCH_NTH,     /* only the n-th matching call (1-based) */
    FS3_MATCH_AFTER,   /* every matching call after the first n */
    FS3_MATCH_PROB,    /* each matching call with probability prob */
};

/* One fault line.  Plain data: the parser fills it, the shim copies it. */
struct fs3_rule {
    char name[64];            /* "" = unnamed (heal all only) */
    int op;                   /* enum s3_op, or FS3_OP_ANY */
    char key_glob[256];       /* "*" by default; '*' and '?' */
    unsigned kind_mask;       /* FS3_KIND_ANY by default */
    unsigned job_mask;        /* job=: bit (1 << enum s3_job) per engine job; 0 = any job */
    enum fs3_match match;
    int64_t n;                /* nth= / after= */
    double prob;              /* prob=, 0..1 */
    int64_t times;            /* times=N; -1 = always */
    int64_t from_us;          /* active from this virtual time (0) */
    int64_t until_us;         /* active until (ENV_TIME_NEVER) */
    enum fs3_effect effect;
    int status;               /* FS3_EFF_STATUS: HTTP status */
    enum s3_code code;        /* FS3_EFF_STATUS: S3 code (S3E_NONE = default for status/op) */
    int64_t delay_us;         /* FS3_EFF_DELAY; FS3_EFF_LATE: how late it lands */
    int64_t stale_us;         /* FS3_EFF_STALE */
    int64_t corrupt_at;       /* FS3_EFF_CORRUPT: the flipped byte's position in the
                                 answered body; negative counts from its end (-1, the
                                 default: the last byte); clamped to the body */
    int line;                 /* scenario line, for messages (0 = unknown) */
    bool must_fire;           /* the scenario's `must-fire` word: the run is vacuous unless
                                 the rule hit at least one call (judged by the simulator) */
};

/* Fills a rule with the defaults of a bare `fault OP EFFECT` line. */
void fs3_rule_init(struct fs3_rule *rule);

/* Tells what the metadata says the object of key is (one FS3_KIND_* bit, or
 * FS3_KIND_NONE).  Provided by the simulator. */
typedef unsigned (*fs3_classify_fn)(void *arg, const char *key);

/* ---- The shim (fault.c).  Added by the fake helper; additive. ------------ */

struct fs3; /* fs3.h: the store */
struct fs3_fault;

/* How a call ended, for the observer. */
enum fs3_outcome {
    FS3_OUT_ANSWERED = 0, /* its callback ran (with the result below) */
    FS3_OUT_SWALLOWED,    /* timeout, lost, stall: it will never be answered */
    FS3_OUT_CANCELLED,    /* the caller cancelled it before it was answered */
    FS3_OUT_LANDED,       /* late: swallowed at submit, now applied by the store
                             (status and code: the store's answer, unseen) */
};

/* One call as the observer sees it.  Pointers are valid during the hook only. */
struct fs3_call_info {
    enum s3_op op;
    enum s3_job job;             /* req->job */
    const char *key;             /* req->key; list: the prefix ("" if none);
                                    delete-many: the first key */
    size_t nkeys;                /* delete-many: keys in the request, else 0 */
    size_t nkey_errors;          /* delete-many answered: keys whose entry carries an
                                    error code, else 0 */
    const struct s3_delete_entry *deleted; /* delete-many answered: one entry per key
                                    (key, code), ndeleted of them; else NULL */
    size_t ndeleted;
    const char *const *keys;     /* delete-many: the request's keys (nkeys) */
    uint64_t bytes_sent;         /* request body bytes (put, mpu-part) */
    uint64_t bytes_received;     /* response body bytes (get) */
    enum fs3_outcome outcome;
    enum s3_transport transport; /* ANSWERED: as answered; otherwise S3_TR_TIMEOUT
                                    (what the caller will see) */
    int status;                  /* HTTP status; 0 when not answered, except for
                                    lost: what the store answered, unseen */
    enum s3_code code;           /* S3 error code, S3E_NONE on success (lost: the
                                    store's, unseen) */
    enum fs3_effect effect;      /* the effect applied, FS3_EFF_NONE if none */
    const char *rule;            /* the rule's name ("" unnamed or none) */
    int rule_line;               /* the rule's scenario line (0 unknown or none) */
    int64_t submit_us;           /* virtual time of the submit */
    int64_t answer_us;           /* virtual time of the answer / swallow / cancel */
};

/* Called once per call that submit() accepted, when it is answered (just
 * before its callback), swallowed (timeout, stall and late at submit, lost
 * when it is applied) or cancelled while still pending (not after a
 * swallow); a late call is reported once more when it lands (LANDED). */
typedef void (*fs3_observe_fn)(void *arg, const struct fs3_call_info *info);

/* Creates a shim over store.  env and store are borrowed and must outlive it;
 * classify (may be NULL: every key is FS3_KIND_NONE) answers kind= matches.
 * Returns NULL when out of memory. */
struct fs3_fault *fs3_fault_new(struct env *env, struct fs3 *store, fs3_classify_fn classify,
                                void *classify_arg);

/* Frees the shim, its rules and every call it holds (pending, delayed or
 * never to be answered: no callback runs, timers are cancelled).  Free it
 * before the store.  NULL is fine. */
void fs3_fault_free(struct fs3_fault *f);

/* The shim as an s3_ops (name "fault"), owned by the shim. */
struct s3_ops *fs3_fault_ops(struct fs3_fault *f);

/* Adds a copy of rule after the existing ones.  Rules are tried in the order
 * they were added; the first that fires gives the call its effect, and later
 * rules do not see that call.  A stale= rule widens the store's history
 * window (fs3_keep_history).  Returns 0, ERR_INVAL (bad op, effect, prob,
 * negative delay...), or ERR_NOMEM. */
int fs3_fault_add(struct fs3_fault *f, const struct fs3_rule *rule);

/* Drops every late= call its caller gave up on that has not landed yet (a
 * broker crash: the process sending it is gone, so is the rest of its body).
 * Returns how many. */
size_t fs3_fault_cut_late(struct fs3_fault *f);

/* Removes the rules named name (NULL or "all": every rule).  Returns how many
 * were removed.  Calls already hit keep their effect. */
int fs3_fault_heal(struct fs3_fault *f, const char *name);

/* Rules currently installed. */
size_t fs3_fault_nrules(const struct fs3_fault *f);

/* Calls of op (FS3_OP_ANY: all ops) hit by effect eff (FS3_EFF_NONE: not
 * hit by any rule), and calls of op submitted. */
uint64_t fs3_fault_hits(const struct fs3_fault *f, int op, enum fs3_effect eff);
uint64_t fs3_fault_calls(const struct fs3_fault *f, int op);
/* The calls submit() accepted, by the job their request names (req->job) and op, counted at
 * submit: answered, swallowed, cancelled and still pending alike (requests-counted). */
const struct s3_requests *fs3_fault_requests(const struct fs3_fault *f);

/* Sets (or with NULL clears) the observer hook. */
void fs3_fault_observe(struct fs3_fault *f, fs3_observe_fn fn, void *arg);

/* True when name matches glob ('*' any run, '?' one character). */
bool fs3_glob_match(const char *glob, const char *name);

#endif /* S3SIM_FAULT_H */
