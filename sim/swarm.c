/* swarm.c - the --swarm fault subset of a seed (see swarm.h). */
#include "swarm.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base_prng.h"
#include "err.h"
#include "mdc.h"

#define SWARM_SALT 0x737761726d5f3031ull /* "swarm_01": keeps this stream apart from the world's */

enum swarm_eff { SW_500, SW_503, SW_TIMEOUT, SW_LOST, SW_STALL, SW_DELAY, SW_PARTIAL, SW_STALE,
                 SW_ERROR, SW_NEFF };

/* The ops drawn: the S3 ops, then the broker's requests to the controller (op >= S3_OP_COUNT:
 * rpc-prepare + (op - S3_OP_COUNT), docs/controller.md "RPC faults"). */
#define SWARM_NOPS (S3_OP_COUNT + MDC_OP_COUNT)

/* A draw in [0, n). */
static uint64_t swarm_pick(struct base_prng *p, uint64_t n)
{
    return base_prng_next(p) % n;
}

static bool swarm_allowed(int op, int eff)
{
    /* a request takes timeout, lost, stall, delay= and error=CODE (scn_rule_rpc) */
    if (op >= S3_OP_COUNT)
        return eff == SW_TIMEOUT || eff == SW_LOST || eff == SW_STALL || eff == SW_DELAY ||
               eff == SW_ERROR;
    if (eff == SW_ERROR)
        return false;
    if (eff == SW_PARTIAL)
        return op == S3_OP_PUT || op == S3_OP_GET || op == S3_OP_MPU_PART ||
               op == S3_OP_MPU_COMPLETE || op == S3_OP_DELETE_MANY;
    if (eff == SW_STALE)
        return op == S3_OP_GET || op == S3_OP_HEAD || op == S3_OP_LIST;
    return true;
}

/* The effect's text; delay and stale draw their duration, error= one of the codes AutoMQ's
 * controller can answer the op with (mdc_op_answers, as `s3sim check` allows). */
static void swarm_effect(struct base_prng *p, int op, int eff, char *buf, size_t bufsz)
{
    static const char *const words[] = {"status=500", "status=503", "timeout", "lost",
                                        "stall",      "",           "partial", "", ""};
    if (eff == SW_ERROR) {
        enum mdc_op mop = (enum mdc_op)(op - S3_OP_COUNT);
        int codes[MDC_CODE_COUNT], n = 0;
        for (int c = 1; c < MDC_CODE_COUNT; c++)
            if (mdc_op_answers(mop, (enum mdc_code)c))
                codes[n++] = c;
        snprintf(buf, bufsz, "error=%s",
                 mdc_code_name((enum mdc_code)codes[n ? swarm_pick(p, (uint64_t)n) : 0]));
    } else if (eff == SW_DELAY)
        snprintf(buf, bufsz, "delay=%ds", 1 + (int)swarm_pick(p, 30));
    else if (eff == SW_STALE)
        snprintf(buf, bufsz, "stale=%ds", 1 + (int)swarm_pick(p, 60));
    else
        snprintf(buf, bufsz, "%s", words[eff]);
}

/* Draws up to SWARM_MAX_RULES fault lines into lines[]; returns how many. */
static int swarm_lines(uint64_t seed, int64_t deadline_us, char lines[][128])
{
    struct base_prng p;
    int n, used[SWARM_MAX_RULES][2], k = 0;
    int64_t until_s = deadline_us / ENV_USEC_PER_SEC * 6 / 10;
    base_prng_seed(&p, seed ^ SWARM_SALT);
    n = SWARM_MIN_RULES + (int)swarm_pick(&p, SWARM_MAX_RULES - SWARM_MIN_RULES + 1);
    if (until_s < 1)
        until_s = 1;
    for (int tries = 0; k < n && tries < 64; tries++) {
        int op = (int)swarm_pick(&p, SWARM_NOPS), eff = (int)swarm_pick(&p, SW_NEFF);
        bool dup = false;
        char effect[48], until[48];
        for (int i = 0; i < k; i++)
            dup |= used[i][0] == op && used[i][1] == eff;
        if (dup || !swarm_allowed(op, eff))
            continue;
        used[k][0] = op;
        used[k][1] = eff;
        swarm_effect(&p, op, eff, effect, sizeof effect);
        snprintf(lines[k++], 128, "%s prob=%d%% until=%s %s",
                 op >= S3_OP_COUNT ? mdc_op_name((enum mdc_op)(op - S3_OP_COUNT))
                                   : s3_op_name((enum s3_op)op),
                 1 + (int)swarm_pick(&p, 20),
                 conf_format_duration(until_s * ENV_USEC_PER_SEC, until, sizeof until), effect);
    }
    return k;
}

int swarm_draw(uint64_t seed, struct scn_spec *spec, char *desc, size_t descsz)
{
    char lines[SWARM_MAX_RULES][128];
    struct fs3_rule rules[SWARM_MAX_RULES];
    struct fs3_rule *v;
    int n = swarm_lines(seed, spec->deadline_us, lines);
    size_t off = 0;
    if (descsz)
        desc[0] = '\0';
    if (n == 0)
        return 0;
    for (int i = 0; i < n; i++) {
        struct scn_error e;
        if (scn_parse_fault("--swarm", lines[i], &rules[i], &e) != 0)
            return ERR_INVAL; /* a bug here: every drawn line is a valid one */
    }
    v = realloc(spec->faults, (spec->nfaults + (size_t)n) * sizeof *v);
    if (!v)
        return ERR_NOMEM;
    memcpy(v + spec->nfaults, rules, (size_t)n * sizeof *v);
    spec->faults = v;
    spec->nfaults += (size_t)n;
    for (int i = 0; i < n && off < descsz; i++) {
        int w = snprintf(desc + off, descsz - off, "%s%s", i ? "; " : "", lines[i]);
        off += w > 0 ? (size_t)w : 0;
    }
    return 0;
}

int swarm_apply(uint64_t seed, struct scn_spec *spec, bool cli, char *desc, size_t descsz)
{
    bool draw = cli || spec->swarm;
    if (descsz)
        desc[0] = '\0';
    spec->swarm = false;
    return draw ? swarm_draw(seed, spec, desc, descsz) : 0;
}
