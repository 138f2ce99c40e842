/* err.c - message table of err.h. */
#include "err.h"

struct err_entry {
    int code;         /* the enum value */
    const char *name; /* "ERR_TIMEOUT" */
    const char *msg;  /* one short sentence */
};

static const struct err_entry err_table[] = {
#define ERR_ROW_(name, value, msg) {value, #name, msg},
    ERR_TABLE(ERR_ROW_)
#undef ERR_ROW_
};

static const struct err_entry *err_find(int rc)
{
    for (unsigned i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
        if (err_table[i].code == rc)
            return &err_table[i];
    return 0;
}

const char *err_str(int rc)
{
    const struct err_entry *e = err_find(rc);
    return e ? e->msg : "unknown error";
}

const char *err_name(int rc)
{
    const struct err_entry *e = err_find(rc);
    return e ? e->name : "ERR_UNKNOWN";
}
