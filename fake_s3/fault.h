/*
 * fault.h - the fault shim: an s3_ops wrapper over the honest store that
 * matches rules and applies effects (SCENARIOS.md §2, "Faults").
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
    FS3_EFF_PARTIAL,   /* half-happen, per op (SCENARIOS.md) */
    FS3_EFF_STALE,     /* list/get/head see the bucket as of stale_us ago */
    FS3_EFF_RESET,     /* --mode http only: connection reset mid-response */
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
    enum fs3_match match;
    int64_t n;                /* nth= / after= */
    double prob;              /* prob=, 0..1 */
    int64_t times;            /* times=N; -1 = always */
    int64_t from_us;          /* active from this virtual time (0) */
    int64_t until_us;         /* active until (ENV_TIME_NEVER) */
    enum fs3_effect effect;
    int status;               /* FS3_EFF_STATUS: HTTP status */
    enum s3_code code;        /* FS3_EFF_STATUS: S3 code (S3E_NONE = default for status/op) */
    int64_t delay_us;         /* FS3_EFF_DELAY */
    int64_t stale_us;         /* FS3_EFF_STALE */
    int line;                 /* scenario line, for messages (0 = unknown) */
};

/* Fills a rule with the defaults of a bare `fault OP EFFECT` line. */
void fs3_rule_init(struct fs3_rule *rule);

/* Tells what the metadata says the object of key is (one FS3_KIND_* bit, or
 * FS3_KIND_NONE).  Provided by the simulator. */
typedef unsigned (*fs3_classify_fn)(void *arg, const char *key);

#endif /* S3SIM_FAULT_H */
