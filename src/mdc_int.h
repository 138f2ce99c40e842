/* mdc_int.h - internals shared by mdc.c (the image, the own streams) and mdc_rpc.c (the
 * requests).  Not a contract. */
#ifndef S3SIM_MDC_INT_H
#define S3SIM_MDC_INT_H

#include "mdc.h"

struct mdc_rpc;
struct mdc_msg;

/* A batch the controller appended, waiting for its turn in the image. */
struct mdc_due {
    int64_t end;      /* apply batches < end */
    int64_t appended; /* when the controller appended it */
    int64_t due;      /* when the image applies it */
};

struct mdc {
    struct env *env;
    struct ctl *ctl;
    struct mdc_conf conf;
    struct meta *img;      /* the image; NULL while crashed */
    int64_t applied;       /* next log offset to apply */
    bool registered;       /* a reader of ctl's log */
    struct mdc_due *q;     /* pending batches, in log order: q[qhead..qn) */
    size_t qhead, qn, qcap;
    env_id timer;          /* at q[qhead].due */
    struct mdc_waiter {
        int64_t target;
        mdc_ready_fn fn;
        void *arg;
    } *w;                  /* mdc_when_current waiters */
    size_t nw, wcap;
    struct meta_stream *own; /* by stream id: the broker's own view */
    size_t nown;
    struct mdc_stats stats;
    uint64_t rs;           /* the lag draws' own stream, seeded from the run's PRNG */
    int64_t epoch;         /* the broker's node epoch (conf.node >= 0) */
    uint64_t rpc_seq;      /* request ids */
    struct mdc_rpc *rpcs;  /* requests in flight (a list) */
    struct mdc_msg *msgs;  /* their deliveries and answers on their way (a list) */
    int next_kind;         /* mdc_next_kind: the next request's kind + 1; 0: untagged */
    mdc_fault_fn fault;
    void *fault_arg;
    struct mdc_rpc_stats rstats;
};

/* mdc_rpc.c */
void mdc__rpc_crash(struct mdc *d);
void mdc__rpc_free_all(struct mdc *d);
void mdc__own_refresh(struct mdc *d, int64_t stream);


#endif /* S3SIM_MDC_INT_H */
