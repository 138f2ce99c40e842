/* metric_names.c - the metric name table (see metric_names.h). */
#include "metric_names.h"

#include <string.h>

struct metric_row {
    const char *name; /* "s3.calls" */
    const char *help; /* one line of meaning */
};

static const struct metric_row metric_rows[METRIC_COUNT] = {
#define METRIC_ROW_(id, name, help) {name, help},
    METRIC_TABLE(METRIC_ROW_)
#undef METRIC_ROW_
#define METRIC_CALLS_(e, s) {"s3.calls." s, "S3 " s " calls that reached the fake S3"},
    S3_OP_TABLE(METRIC_CALLS_)
#undef METRIC_CALLS_
#define METRIC_FAULTS_(e, s) {"s3.faults." s, "S3 " s " calls hit by a fault rule"},
    S3_OP_TABLE(METRIC_FAULTS_)
#undef METRIC_FAULTS_
#define METRIC_JOBS_(e, s) {"s3.calls.job." s, "S3 calls issued by the " s " job"},
    S3_JOB_TABLE(METRIC_JOBS_)
#undef METRIC_JOBS_
#define METRIC_REQS_(e, s) {"s3.requests." s, "S3 " s " requests the engine counts as sent"},
    S3_OP_TABLE(METRIC_REQS_)
#undef METRIC_REQS_
#define METRIC_REQJ_(e, s) {"s3.requests.job." s, "S3 requests the engine counts as sent by " \
                            "the " s " job"},
    S3_JOB_TABLE(METRIC_REQJ_)
#undef METRIC_REQJ_
};

const char *metric_name(int id)
{
    return id >= 0 && id < METRIC_COUNT ? metric_rows[id].name : NULL;
}

const char *metric_help(int id)
{
    return id >= 0 && id < METRIC_COUNT ? metric_rows[id].help : NULL;
}

int metric_index(const char *name)
{
    for (int i = 0; i < METRIC_COUNT; i++)
        if (strcmp(metric_rows[i].name, name) == 0)
            return i;
    return -1;
}

int metric_count(void) { return METRIC_COUNT; }
