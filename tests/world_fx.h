/* world_fx.h - a scenario world for unit tests (test_check, test_reads): parse
 * a scenario's text, run its world to a virtual time, read the result. */
#ifndef WORLD_FX_H
#define WORLD_FX_H

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "meta.h"
#include "obj.h"
#include "scn.h"
#include "world_int.h"

struct fx {
    struct scn_file *file;
    struct scn_spec spec;
    struct run_result res;
    struct world *w;
};

/* Parses text (named name in messages), resolves variant (NULL: the base),
 * creates the world and runs it to until. */
static inline void fx_run_text(struct fx *f, const char *name, const char *text,
                               const char *variant, int64_t until)
{
    struct scn_error e;
    int rc;
    memset(f, 0, sizeof *f);
    rc = scn_parse_buf(name, text, strlen(text), &f->file, &e);
    ck_assert_msg(rc == 0, "parse: %d:%d: %s", e.line, e.col, e.msg);
    rc = scn_resolve(f->file, variant, NULL, 0, &f->spec, &e);
    ck_assert_msg(rc == 0, "resolve: %s", e.msg);
    f->w = world_create(&f->spec, name, NULL, &f->res, &rc);
    ck_assert_ptr_nonnull(f->w);
    world_run_loop(f->w, until);
}

/* Runs the world to its end and judges it (f->res), then frees the world. */
static inline void fx_finish(struct fx *f)
{
    world_finish(f->w);
    world_destroy(f->w);
    f->w = NULL;
}

static inline void fx_free(struct fx *f)
{
    run_result_free(&f->res);
    scn_spec_free(&f->spec);
    scn_free(f->file);
}

static inline const struct run_check *fx_check(const struct fx *f, const char *name)
{
    for (size_t i = 0; i < f->res.nchecks; i++)
        if (strcmp(f->res.checks[i].name, name) == 0)
            return &f->res.checks[i];
    ck_abort_msg("no check %s in the result", name);
    return NULL;
}

/* A metric of the running world; -1 once it is freed. */
static inline int64_t fx_metric(const struct fx *f, enum metric_id id)
{
    return f->w ? f->w->metrics[id] : -1;
}

/* A meta_foreach callback: the key of the first committed object, into arg
 * (OBJ_KEY_MAX bytes, empty at first). */
static inline int first_committed(void *arg, const struct meta_object *o)
{
    char *key = arg;
    if (o->state == META_COMMITTED && !key[0])
        snprintf(key, OBJ_KEY_MAX, "%s", o->key);
    return 0;
}

#endif /* WORLD_FX_H */
