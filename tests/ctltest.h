/* ctltest.h - a controller and a broker metadata client (no image lag) for the unit tests of
 * the engine's parts: a test sets up metadata on the controller's store directly through M
 * (meta.h's operations); the client's reads see it (with no lag, each read first logs what the
 * store changed: ctl_sync). */
#ifndef S3SIM_CTLTEST_H
#define S3SIM_CTLTEST_H

#include <check.h>

#include "ctl.h"
#include "mdc.h"

static struct ctl *CTL;
static struct mdc *MD;
#define M ctl_store_mut(CTL)

static void ctltest_new(struct env *env, const struct meta_conf *mc)
{
    struct ctl_conf cc = {*mc, 1000000};
    struct mdc_conf dc = {0};
    ck_assert_int_eq(ctl_new(env, &cc, &CTL), 0);
    ck_assert_int_eq(mdc_new(env, CTL, &dc, &MD), 0);
}

static void ctltest_free(void)
{
    mdc_free(MD);
    MD = NULL;
    ctl_free(CTL);
    CTL = NULL;
}

#endif /* S3SIM_CTLTEST_H */
