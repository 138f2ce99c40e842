/* cmp_plan.c - SSO compaction planning, pure functions over index data (see cmp.h, docs/engine.md
 * "Plans and batches"). */
#include "cmp.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mdc.h"

#define LOGC "sso-compaction"

/* A group: a run of blocks of one stream, contiguous in the sorted array. */
struct grp {
    bool split;    /* SPLIT (stream object) or COMPACT (into the new SSO) */
    size_t first;  /* into the sorted block array */
    size_t n;
};

/* A growable array of groups. */
struct grpv {
    struct grp *v;
    size_t n, cap;
};

/* A piece of a plan under construction: blocks [first, first + n) of the
 * sorted array, as a stream object or as COMPACT blocks. */
struct seg {
    bool split;
    size_t first, n;
};

struct segv {
    struct seg *v;
    size_t n, cap;
};

void cmp_limits_default(struct cmp_limits *lim)
{
    lim->cache_size = UINT64_C(200) << 20;
    lim->split_size = UINT64_C(8) << 20;
    lim->max_streams_per_sso = 20000;
    lim->max_so_per_commit = 10000;
    lim->dead_kept = false;
}

bool cmp_block_live(const struct mdc *md, const struct cmp_block *b)
{
    const struct meta_stream *s = mdc_stream_get(md, b->e.stream);
    return s && s->state != META_STREAM_DELETED && b->end > s->start;
}

void cmp_analysis_free(struct cmp_analysis *a)
{
    for (size_t i = 0; i < a->nplans; i++) {
        free(a->plans[i].b);
        free(a->plans[i].out);
    }
    free(a->plans);
    free(a->compacted);
    free(a->excluded);
    memset(a, 0, sizeof *a);
}

static int grow(void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    void *n = realloc(*v, ncap * elem);
    if (!n)
        return ERR_NOMEM;
    *v = n;
    *cap = ncap;
    return 0;
}

static int grp_push(struct grpv *g, bool split, size_t first, size_t n)
{
    if (grow((void **)&g->v, &g->cap, g->n + 1, sizeof *g->v))
        return ERR_NOMEM;
    g->v[g->n++] = (struct grp){split, first, n};
    return 0;
}

static int seg_push(struct segv *s, bool split, size_t first, size_t n)
{
    if (grow((void **)&s->v, &s->cap, s->n + 1, sizeof *s->v))
        return ERR_NOMEM;
    s->v[s->n++] = (struct seg){split, first, n};
    return 0;
}

static int block_order(const void *a, const void *b)
{
    const struct cmp_block *x = a, *y = b;
    if (x->e.stream != y->e.stream)
        return (x->e.stream > y->e.stream) - (x->e.stream < y->e.stream);
    if (x->e.start != y->e.start)
        return (x->e.start > y->e.start) - (x->e.start < y->e.start);
    return (x->obj > y->obj) - (x->obj < y->obj);
}

static uint64_t run_bytes(const struct cmp_block *b, size_t first, size_t n)
{
    uint64_t s = 0;
    for (size_t i = first; i < first + n; i++)
        s += (uint32_t)b[i].e.size;
    return s;
}

/*
 * Groups sorted blocks (docs/engine.md "Plans and batches", step 2).  split_all: every run is SPLIT
 * (force split), and only contiguity cuts runs.  ERR_CORRUPT on an overlap.
 */
static int group_blocks(const struct cmp_block *b, size_t n, uint64_t split_size, bool split_all,
                        struct env *env, struct grpv *out)
{
    size_t first = 0;
    for (size_t i = 1; i <= n; i++) {
        bool same = i < n && b[i].e.stream == b[i - 1].e.stream;
        if (same && b[i].e.start == b[i - 1].end)
            continue;
        if (same && b[i].e.start < b[i - 1].end) {
            if (env)
                env_logf(env, ENV_LOG_ERROR, LOGC,
                         "FATAL: overlapping blocks of stream %lld at offset %lld (objects %lld "
                         "and %lld), no compaction plan",
                         (long long)b[i].e.stream, (long long)b[i].e.start,
                         (long long)b[i - 1].obj, (long long)b[i].obj);
            return ERR_CORRUPT;
        }
        /* A gap cuts the run as SPLIT; a new stream (or the end) cuts it by size. */
        bool split = split_all || same || run_bytes(b, first, i - first) >= split_size;
        if (grp_push(out, split, first, i - first))
            return ERR_NOMEM;
        first = i;
    }
    return 0;
}

/* Index of the candidate whose id is id, or n. */
static size_t src_find(const struct cmp_src *src, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (src[i].id == id)
            return i;
    return n;
}

static bool src_has_stream(const struct cmp_src *s, int64_t stream)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->b[i].e.stream == stream)
            return true;
    return false;
}

static size_t src_nstreams(const struct cmp_src *s)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++)
        if (i == 0 || s->b[i].e.stream != s->b[i - 1].e.stream)
            k++;
    return k;
}

/* A (stream, candidate) pair, for the filter. */
struct pair {
    int64_t stream;
    size_t src;
};

static int pair_order(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    if (x->stream != y->stream)
        return (x->stream > y->stream) - (x->stream < y->stream);
    return (x->src > y->src) - (x->src < y->src);
}

/* Filter (docs/engine.md "Plans and batches", step 1): in[i] = candidate i is not excluded, has
 * blocks and shares a stream with another such candidate.  Sorts (stream, candidate)
 * pairs, so that 500 candidates of thousands of streams stay cheap. */
static int filter_shared(const struct cmp_src *src, size_t n, const bool *excl, bool *in)
{
    size_t total = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        in[i] = false;
        if (!excl[i])
            total += src[i].n;
    }
    struct pair *p = malloc((total ? total : 1) * sizeof *p);
    if (!p)
        return ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; !excl[i] && k < src[i].n; k++)
            if (k == 0 || src[i].b[k].e.stream != src[i].b[k - 1].e.stream)
                p[m++] = (struct pair){src[i].b[k].e.stream, i};
    if (m)
        qsort(p, m, sizeof *p, pair_order);
    for (size_t a = 0, b; a < m; a = b) {
        for (b = a + 1; b < m && p[b].stream == p[a].stream; b++)
            ;
        bool shared = false; /* two different candidates hold this stream */
        for (size_t k = a + 1; k < b && !shared; k++)
            shared = p[k].src != p[a].src;
        for (size_t k = a; shared && k < b; k++)
            in[p[k].src] = true;
    }
    free(p);
    return 0;
}

/* Gathers and sorts the blocks of the candidates with in[i]. */
static int gather(const struct cmp_src *src, size_t n, const bool *in, struct cmp_block **out,
                  size_t *nout)
{
    size_t total = 0, k = 0;
    for (size_t i = 0; i < n; i++)
        if (in[i])
            total += src[i].n;
    struct cmp_block *b = malloc((total ? total : 1) * sizeof *b);
    if (!b)
        return ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        if (in[i]) {
            memcpy(b + k, src[i].b, src[i].n * sizeof *b);
            k += src[i].n;
        }
    qsort(b, total, sizeof *b, block_order);
    *out = b;
    *nout = total;
    return 0;
}

/* Excludes every candidate holding a block of group g.  Returns how many. */
static size_t exclude_group(const struct cmp_src *src, size_t n, const struct cmp_block *b,
                            const struct grp *g, bool *excl)
{
    size_t k = 0;
    for (size_t i = g->first; i < g->first + g->n; i++) {
        size_t s = src_find(src, n, b[i].obj);
        if (s < n && !excl[s]) {
            excl[s] = true;
            k++;
        }
    }
    return k;
}

/* Excludes every candidate holding stream.  Returns how many. */
static size_t exclude_stream(const struct cmp_src *src, size_t n, int64_t stream, bool *excl)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!excl[i] && src_has_stream(&src[i], stream)) {
            excl[i] = true;
            k++;
        }
    return k;
}

/* Sum of the stream counts of the candidates holding stream (its "dispersion"). */
static size_t dispersion(const struct cmp_src *src, size_t n, const bool *in, int64_t stream)
{
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        if (in[i] && src_has_stream(&src[i], stream))
            d += src_nstreams(&src[i]);
    return d;
}

/*
 * The limits (docs/engine.md "Plans and batches", step 3).  Returns the number of candidates newly
 * excluded (0: within the limits).
 */
static size_t apply_limits(const struct cmp_src *src, size_t n, const bool *in, bool *excl,
                           const struct cmp_block *b, const struct grpv *g,
                           const struct cmp_limits *lim)
{
    size_t nsplit = 0, ncompact = 0, min_split = g->n, min_compact = g->n, best = SIZE_MAX;
    for (size_t i = 0; i < g->n; i++) {
        if (g->v[i].split) {
            nsplit++;
            if (min_split == g->n || g->v[i].n < g->v[min_split].n)
                min_split = i;
        } else {
            ncompact++;
        }
    }
    if (nsplit > lim->max_so_per_commit)
        return exclude_group(src, n, b, &g->v[min_split], excl);
    if (ncompact <= lim->max_streams_per_sso)
        return 0;
    for (size_t i = 0; i < g->n; i++) {
        if (g->v[i].split)
            continue;
        size_t d = dispersion(src, n, in, b[g->v[i].first].e.stream);
        if (d < best) {
            best = d;
            min_compact = i;
        }
    }
    return exclude_stream(src, n, b[g->v[min_compact].first].e.stream, excl);
}

/* Closes the plan under construction: lays out its segments (SPLIT ones
 * first, one output each; then the COMPACT ones as one output). */
static int plan_close(struct cmp_analysis *a, const struct cmp_block *b, struct segv *segs,
                      uint64_t bytes)
{
    if (segs->n == 0)
        return 0;
    struct cmp_plan *np = realloc(a->plans, (a->nplans + 1) * sizeof *np);
    if (!np)
        return ERR_NOMEM;
    a->plans = np;
    struct cmp_plan *p = &a->plans[a->nplans];
    memset(p, 0, sizeof *p);
    size_t nb = 0, nout = 0;
    bool compact = false;
    for (size_t i = 0; i < segs->n; i++) {
        nb += segs->v[i].n;
        nout += segs->v[i].split;
        compact |= !segs->v[i].split;
    }
    p->b = malloc(nb * sizeof *p->b);
    p->out = malloc((nout + compact) * sizeof *p->out);
    if (!p->b || !p->out) {
        free(p->b);
        free(p->out);
        return ERR_NOMEM;
    }
    a->nplans++;
    for (int pass = 0; pass < 2; pass++) {
        size_t start = p->nb;
        for (size_t i = 0; i < segs->n; i++) {
            const struct seg *s = &segs->v[i];
            if (s->split != (pass == 0))
                continue;
            memcpy(p->b + p->nb, b + s->first, s->n * sizeof *p->b);
            if (s->split)
                p->out[p->nout++] = (struct cmp_out){true, p->nb, s->n};
            p->nb += s->n;
        }
        if (pass == 1 && p->nb > start)
            p->out[p->nout++] = (struct cmp_out){false, start, p->nb - start};
    }
    p->bytes = bytes;
    segs->n = 0;
    return 0;
}

/* Packs groups into plans within cache_size, splitting at block granularity
 * (docs/engine.md "Plans and batches", step 4). */
static int pack(struct cmp_analysis *a, const struct cmp_block *b, const struct grpv *g,
                uint64_t cache)
{
    struct segv segs = {0};
    uint64_t bytes = 0;
    int rc = 0;
    for (size_t gi = 0; rc == 0 && gi < g->n; gi++) {
        const struct grp *gr = &g->v[gi];
        size_t i = gr->first, end = gr->first + gr->n;
        while (rc == 0 && i < end) {
            size_t k = i;
            while (k < end && bytes + (uint32_t)b[k].e.size <= cache)
                bytes += (uint32_t)b[k++].e.size;
            if (k > i) {
                rc = seg_push(&segs, gr->split, i, k - i);
                a->nsplit += gr->split;
                a->has_sso |= !gr->split;
            }
            if (rc == 0 && k < end) {
                rc = plan_close(a, b, &segs, bytes);
                bytes = 0;
            }
            i = k;
        }
    }
    if (rc == 0)
        rc = plan_close(a, b, &segs, bytes);
    free(segs.v);
    return rc;
}

static int check_sizes(const struct cmp_src *src, size_t n, uint64_t cache, struct env *env)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < src[i].n; k++)
            if ((uint64_t)(uint32_t)src[i].b[k].e.size > cache) {
                if (env)
                    env_logf(env, ENV_LOG_ERROR, LOGC,
                             "block of object %lld (stream %lld, %d bytes) is larger than the "
                             "compaction cache size %llu",
                             (long long)src[i].id, (long long)src[i].b[k].e.stream,
                             (int)src[i].b[k].e.size, (unsigned long long)cache);
                return ERR_LIMIT;
            }
    return 0;
}

/* compacted = candidates in the plans, then the empty ones; excluded = the
 * rest. */
static int fill_lists(struct cmp_analysis *a, const struct cmp_src *src, size_t n, const bool *in,
                      bool dead_kept)
{
    a->compacted = malloc((n ? n : 1) * sizeof *a->compacted);
    a->excluded = malloc((n ? n : 1) * sizeof *a->excluded);
    if (!a->compacted || !a->excluded)
        return ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        if (in[i])
            a->compacted[a->ncompacted++] = src[i].id;
    for (size_t i = 0; i < n; i++) {
        if (src[i].n == 0 && !dead_kept)
            a->compacted[a->ncompacted++] = src[i].id; /* out of date (#896) */
        else if (!in[i])
            a->excluded[a->nexcluded++] = src[i].id;
    }
    return 0;
}

/* One grouping pass with the current exclusions; *more: candidates were
 * excluded by the limits, group again. */
static int analyze_pass(const struct cmp_src *src, size_t n, const struct cmp_limits *lim,
                        struct env *env, bool *excl, bool *in, struct cmp_analysis *out,
                        bool *more)
{
    struct cmp_block *b = NULL;
    struct grpv g = {0};
    size_t nb;
    int rc = filter_shared(src, n, excl, in);
    if (rc == 0)
        rc = gather(src, n, in, &b, &nb);
    if (rc == 0)
        rc = group_blocks(b, nb, lim->split_size, false, env, &g);
    *more = rc == 0 && apply_limits(src, n, in, excl, b, &g, lim) > 0;
    if (rc == 0 && !*more)
        rc = pack(out, b, &g, lim->cache_size);
    if (rc == 0 && !*more)
        rc = fill_lists(out, src, n, in, lim->dead_kept);
    free(b);
    free(g.v);
    return rc;
}

int cmp_analyze(const struct cmp_src *src, size_t n, const struct cmp_limits *lim,
                struct env *env, struct cmp_analysis *out)
{
    memset(out, 0, sizeof *out);
    int rc = check_sizes(src, n, lim->cache_size, env);
    bool *excl = calloc(n ? 2 * n : 1, sizeof *excl);
    bool more = true;
    if (rc == 0 && !excl)
        rc = ERR_NOMEM;
    while (rc == 0 && more)
        rc = analyze_pass(src, n, lim, env, excl, excl + n, out, &more);
    free(excl);
    if (rc)
        cmp_analysis_free(out);
    return rc;
}

int cmp_split_plans(const struct cmp_src *src, const struct cmp_limits *lim,
                    struct cmp_analysis *out)
{
    memset(out, 0, sizeof *out);
    struct grpv g = {0};
    struct cmp_block *b = malloc((src->n ? src->n : 1) * sizeof *b);
    int rc = check_sizes(src, 1, lim->cache_size, NULL);
    if (!b)
        rc = ERR_NOMEM;
    if (rc == 0 && src->n) {
        memcpy(b, src->b, src->n * sizeof *b);
        qsort(b, src->n, sizeof *b, block_order);
        rc = group_blocks(b, src->n, 0, true, NULL, &g);
    }
    if (rc == 0)
        rc = pack(out, b, &g, lim->cache_size);
    if (rc == 0 && !(src->n == 0 && lim->dead_kept)) { /* F25: an empty SSO is not split */
        out->compacted = malloc(sizeof *out->compacted);
        if (!out->compacted)
            rc = ERR_NOMEM;
        else
            out->compacted[out->ncompacted++] = src->id;
    }
    free(b);
    free(g.v);
    if (rc)
        cmp_analysis_free(out);
    return rc;
}
