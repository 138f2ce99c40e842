/* cost.c - see cost.h. */
#include "cost.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

#define COST_GB (1024.0 * 1024.0 * 1024.0)
#define COST_MONTH_S (730.0 * 3600.0)

static struct cost_table cost_table_in_use;
static int cost_chosen;

void cost_default(struct cost_table *t)
{
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "aws-s3-standard-us-east-1");
    /* PUT, COPY, POST, LIST: $0.005 per 1,000. */
    t->per_1000[S3_OP_PUT] = 0.005;
    t->per_1000[S3_OP_LIST] = 0.005;
    t->per_1000[S3_OP_MPU_CREATE] = 0.005;
    t->per_1000[S3_OP_MPU_PART] = 0.005;
    t->per_1000[S3_OP_MPU_COPY] = 0.005;
    t->per_1000[S3_OP_MPU_COMPLETE] = 0.005;
    t->per_1000[S3_OP_LIST_UPLOADS] = 0.005;
    /* GET and all other requests: $0.0004 per 1,000. */
    t->per_1000[S3_OP_GET] = 0.0004;
    t->per_1000[S3_OP_HEAD] = 0.0004;
    /* DELETE and CANCEL (delete, delete-many, mpu-abort): free. */
    t->storage_gb_month = 0.023;
}

const struct cost_table *cost_current(void)
{
    if (!cost_chosen) {
        cost_default(&cost_table_in_use);
        cost_chosen = 1;
    }
    return &cost_table_in_use;
}

void cost_use(const struct cost_table *t)
{
    if (t)
        cost_table_in_use = *t;
    else
        cost_default(&cost_table_in_use);
    cost_chosen = 1;
}

static int cost_op(const char *name)
{
    for (int op = 0; op < S3_OP_COUNT; op++)
        if (strcmp(s3_op_name(op), name) == 0)
            return op;
    return -1;
}

/* A price: a finite non-negative decimal. */
static int cost_price(const char *s, double *v)
{
    char *end;
    if (!s || !*s)
        return -1;
    errno = 0;
    *v = strtod(s, &end);
    return errno || *end || !isfinite(*v) || *v < 0 ? -1 : 0;
}

int cost_load(const char *path, struct cost_table *t, char *why, size_t whysz)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    int lineno = 0;
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", path);
    if (!f) {
        snprintf(why, whysz, "%s: cannot read: %s", path, strerror(errno));
        return ERR_IO;
    }
    while (fgets(line, sizeof line, f)) {
        char *tok[4], *save = NULL, *hash = strchr(line, '#');
        int n = 0, col;
        lineno++;
        if (hash)
            *hash = '\0';
        for (char *p = strtok_r(line, " \t\r\n", &save); p; p = strtok_r(NULL, " \t\r\n", &save))
            if (n++ < 4)
                tok[n - 1] = p;
        if (n == 0)
            continue;
        col = (int)(tok[0] - line) + 1;
        if (strcmp(tok[0], "name") == 0 && n == 2 && strlen(tok[1]) < sizeof t->name) {
            snprintf(t->name, sizeof t->name, "%s", tok[1]);
        } else if (strcmp(tok[0], "storage") == 0 && n == 2) {
            if (cost_price(tok[1], &t->storage_gb_month)) {
                snprintf(why, whysz, "%s:%d:%d: storage wants USD per GB-month (0.023)", path,
                         lineno, (int)(tok[1] - line) + 1);
                fclose(f);
                return ERR_PARSE;
            }
        } else if (strcmp(tok[0], "request") == 0 && n == 3) {
            int op = cost_op(tok[1]);
            if (op < 0) {
                snprintf(why, whysz, "%s:%d:%d: unknown op '%s' (get, put, mpu-part, ...)", path,
                         lineno, (int)(tok[1] - line) + 1, tok[1]);
                fclose(f);
                return ERR_PARSE;
            }
            if (cost_price(tok[2], &t->per_1000[op])) {
                snprintf(why, whysz, "%s:%d:%d: request wants USD per 1,000 requests (0.005)",
                         path, lineno, (int)(tok[2] - line) + 1);
                fclose(f);
                return ERR_PARSE;
            }
        } else {
            snprintf(why, whysz, "%s:%d:%d: wants 'name NAME', 'storage USD' or "
                     "'request OP USD'", path, lineno, col);
            fclose(f);
            return ERR_PARSE;
        }
    }
    fclose(f);
    return 0;
}

void cost_of(const struct run_result *r, const struct cost_table *t, struct run_cost *out)
{
    memset(out, 0, sizeof *out);
    for (int op = 0; op < S3_OP_COUNT; op++) {
        double p = t->per_1000[op] / 1000.0;
        out->by_op[op] = (double)r->calls_by_op[op] * p;
        out->requests += out->by_op[op];
        for (int j = 0; j < S3_JOB_COUNT; j++)
            out->by_job[j] += (double)r->calls_by_op_job[op][j] * p;
    }
    out->gb_months = r->stored_byte_seconds / COST_GB / COST_MONTH_S;
    out->storage = out->gb_months * t->storage_gb_month;
}
