/*
 * cost.h - what a run would cost on a priced S3: its requests (calls by op,
 * each op at its price per 1,000 requests) and its storage (the bucket's bytes
 * integrated over the run's virtual time, at a price per GB-month), per op and
 * per engine job, so that two engine settings compare by their S3 bill.
 *
 * The default table is AWS S3 Standard in US East (N. Virginia) as AWS
 * publishes it: PUT, COPY, POST and LIST requests (put, mpu-create, mpu-part,
 * mpu-copy, mpu-complete, list, list-uploads) $0.005 per 1,000; GET and all
 * other requests (get, head) $0.0004 per 1,000; DELETE and CANCEL requests
 * (delete, delete-many, mpu-abort) free; storage $0.023 per GB-month (the first
 * 50 TB; GB = 2^30 bytes, a month = 730 hours).  A failed or faulted call is
 * priced like any other (S3 bills requests, not successes).
 *
 * Another table: `--prices FILE` (run, merge), a text file of lines
 *   name NAME                   the table's name, shown in the reports
 *   storage USD                 per GB-month
 *   request OP USD              per 1,000 requests of OP (an s3 op name)
 * ('#' starts a comment).  Ops the file does not name cost nothing.
 */
#ifndef S3SIM_COST_H
#define S3SIM_COST_H

#include <stddef.h>

#include "result.h"

struct cost_table {
    char name[64];
    double per_1000[S3_OP_COUNT];   /* USD per 1,000 requests */
    double storage_gb_month;        /* USD per GB-month */
};

struct run_cost {
    double requests;                /* USD */
    double storage;                 /* USD */
    double by_op[S3_OP_COUNT];
    double by_job[S3_JOB_COUNT];
    double gb_months;               /* stored GB-months */
};

/* The table the reports use: AWS S3 Standard unless cost_use() chose another. */
const struct cost_table *cost_current(void);

/* Uses t (copied) for the reports written from now on (NULL: the default). */
void cost_use(const struct cost_table *t);

/* The built-in table (AWS S3 Standard, US East). */
void cost_default(struct cost_table *t);

/* Loads a table file.  Returns 0, ERR_IO (why: cannot read) or ERR_PARSE
 * (why: FILE:LINE:COL: what). */
int cost_load(const char *path, struct cost_table *t, char *why, size_t whysz);

/* Prices run r under t. */
void cost_of(const struct run_result *r, const struct cost_table *t, struct run_cost *out);

#endif /* S3SIM_COST_H */
