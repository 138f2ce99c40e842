/* test_cmp.c - SSO compaction planning: pure functions over index data (cmp.h).  The
 * execution against the fake S3 is in test_cmp_exec.c. */
#include "cmp.h"
#include "err.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* ---- Planning fixture. ------------------------------------------------------------------- */

#define KB 1024u
#define MB (1024u * 1024u)

/* A block of object obj, stream s, offsets [a, b), size bytes at position pos. */
static struct cmp_block blk(int64_t obj, int64_t s, int64_t a, int64_t b, uint32_t size,
                            int64_t pos)
{
    struct cmp_block k;
    memset(&k, 0, sizeof k);
    k.obj = obj;
    k.e.stream = s;
    k.e.start = a;
    k.e.end_delta = (int32_t)(b - a);
    k.e.count = 1;
    k.e.pos = pos;
    k.e.size = (int32_t)size;
    k.end = b;
    return k;
}

static struct cmp_limits lim_of(uint64_t cache, uint64_t split)
{
    struct cmp_limits l;
    cmp_limits_default(&l);
    l.cache_size = cache;
    l.split_size = split;
    return l;
}

static bool has_id(const int64_t *v, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == id)
            return true;
    return false;
}

/* Every block of every plan, in plan order, must be sorted by (stream, start)
 * within each output; plans stay within the cache. */
static size_t check_plans(const struct cmp_analysis *a, uint64_t cache)
{
    size_t total = 0;
    for (size_t p = 0; p < a->nplans; p++) {
        const struct cmp_plan *pl = &a->plans[p];
        uint64_t bytes = 0;
        for (size_t i = 0; i < pl->nb; i++)
            bytes += (uint32_t)pl->b[i].e.size;
        ck_assert_uint_eq(bytes, pl->bytes);
        ck_assert_uint_le(bytes, cache);
        for (size_t o = 0; o < pl->nout; o++) {
            const struct cmp_out *out = &pl->out[o];
            ck_assert_uint_ge(out->n, 1);
            for (size_t i = out->first + 1; i < out->first + out->n; i++) {
                const struct cmp_block *x = &pl->b[i - 1], *y = &pl->b[i];
                ck_assert(x->e.stream < y->e.stream ||
                          (x->e.stream == y->e.stream && x->end <= y->e.start));
                if (out->split) /* a stream object: one stream, contiguous */
                    ck_assert(x->e.stream == y->e.stream && x->end == y->e.start);
            }
        }
        total += pl->nb;
    }
    return total;
}

/* ---- Planning tests. ------------------------------------------------------------------------ */

START_TEST(cmp_plan_small_streams_compact)
{
    struct cmp_block a[] = {blk(10, 1, 0, 10, 100, 0), blk(10, 2, 0, 5, 50, 100)};
    struct cmp_block b[] = {blk(11, 1, 10, 20, 100, 0), blk(11, 2, 5, 9, 40, 100)};
    struct cmp_src src[] = {{11, b, 2}, {10, a, 2}};
    struct cmp_limits l = lim_of(200 * MB, 8 * MB);
    struct cmp_analysis an;
    ck_assert_int_eq(cmp_analyze(src, 2, &l, NULL, &an), 0);
    ck_assert_uint_eq(an.nplans, 1);
    ck_assert_uint_eq(an.nsplit, 0);
    ck_assert(an.has_sso);
    ck_assert_uint_eq(an.plans[0].nout, 1);
    ck_assert(!an.plans[0].out[0].split);
    ck_assert_uint_eq(an.plans[0].nb, 4);
    ck_assert_int_eq(an.plans[0].b[0].e.stream, 1);
    ck_assert_int_eq(an.plans[0].b[0].obj, 10);
    ck_assert_int_eq(an.plans[0].b[1].obj, 11);
    ck_assert_int_eq(an.plans[0].b[3].e.start, 5);
    ck_assert_uint_eq(an.ncompacted, 2);
    ck_assert(has_id(an.compacted, an.ncompacted, 10) && has_id(an.compacted, an.ncompacted, 11));
    ck_assert_uint_eq(check_plans(&an, l.cache_size), 4);
    cmp_analysis_free(&an);
    ck_assert_uint_eq(an.nplans, 0);
}
END_TEST

START_TEST(cmp_plan_large_run_split)
{
    /* Stream 1 has 8 MiB over two SSOs: split out; stream 2 stays in the SSO. */
    struct cmp_block a[] = {blk(1, 1, 0, 10, 4 * MB, 0), blk(1, 2, 0, 5, 50, 4 * MB)};
    struct cmp_block b[] = {blk(2, 1, 10, 20, 4 * MB, 0), blk(2, 2, 5, 9, 40, 4 * MB)};
    struct cmp_src src[] = {{2, b, 2}, {1, a, 2}};
    struct cmp_limits l = lim_of(200 * MB, 8 * MB);
    struct cmp_analysis an;
    ck_assert_int_eq(cmp_analyze(src, 2, &l, NULL, &an), 0);
    ck_assert_uint_eq(an.nplans, 1);
    ck_assert_uint_eq(an.nsplit, 1);
    ck_assert(an.has_sso);
    const struct cmp_plan *p = &an.plans[0];
    ck_assert_uint_eq(p->nout, 2);
    ck_assert(p->out[0].split);
    ck_assert_uint_eq(p->out[0].n, 2);
    ck_assert_int_eq(p->b[p->out[0].first].e.stream, 1);
    ck_assert(!p->out[1].split); /* the COMPACT output comes last */
    ck_assert_int_eq(p->b[p->out[1].first].e.stream, 2);
    check_plans(&an, l.cache_size);
    cmp_analysis_free(&an);
    /* Just below the split size: everything compacts. */
    l.split_size = 8 * MB + 1;
    ck_assert_int_eq(cmp_analyze(src, 2, &l, NULL, &an), 0);
    ck_assert_uint_eq(an.nsplit, 0);
    ck_assert_uint_eq(an.plans[0].nout, 1);
    cmp_analysis_free(&an);
}
END_TEST

START_TEST(cmp_plan_gap_cuts_split)
{
    /* Stream 1: [0,10) in A, [20,30) in B: the run before the gap becomes a
     * stream object however small; the run after it joins the new SSO. */
    struct cmp_block a[] = {blk(1, 1, 0, 10, 100, 0), blk(1, 2, 0, 5, 10, 100)};
    struct cmp_block b[] = {blk(2, 1, 20, 30, 100, 0), blk(2, 2, 5, 6, 10, 100)};
    struct cmp_src src[] = {{1, a, 2}, {2, b, 2}};
    struct cmp_limits l = lim_of(200 * MB, 8 * MB);
    struct cmp_analysis an;
    ck_assert_int_eq(cmp_analyze(src, 2, &l, NULL, &an), 0);
    ck_assert_uint_eq(an.nsplit, 1);
    const struct cmp_plan *p = &an.plans[0];
    ck_assert(p->out[0].split);
    ck_assert_uint_eq(p->out[0].n, 1);
    ck_assert_int_eq(p->b[p->out[0].first].e.start, 0);
    ck_assert(!p->out[1].split);
    ck_assert_uint_eq(p->out[1].n, 3);
    ck_assert_int_eq(p->b[p->out[1].first].e.start, 20);
    cmp_analysis_free(&an);
}
END_TEST

START_TEST(cmp_plan_overlap_no_plan)
{
    struct cmp_block a[] = {blk(1, 1, 0, 10, 100, 0)};
    struct cmp_block b[] = {blk(2, 1, 5, 15, 100, 0)};
    struct cmp_src src[] = {{1, a, 1}, {2, b, 1}};
    struct cmp_limits l = lim_of(200 * MB, 8 * MB);
    struct cmp_analysis an;
    ck_assert_int_eq(cmp_analyze(src, 2, &l, NULL, &an), ERR_CORRUPT);
    ck_assert_uint_eq(an.nplans, 0);
    ck_assert_ptr_null(an.compacted);
}
END_TEST

START_TEST(cmp_plan_filter_and_empties)
{
    /* C shares no stream: left for force split.  D has no live block: compacted. */
    struct cmp_block a[] = {blk(1, 1, 0, 10, 100, 0)};
    struct cmp_block b[] = {blk(2, 1, 10, 20, 100, 0)};
    struct cmp_block c[] = {blk(3, 3, 0, 10, 100, 0)};
    struct cmp_src src[] = {{1, a, 1}, {2, b, 1}, {3, c, 1}, {4, NULL, 0}};
    struct cmp_limits l = lim_of(200 * MB, 8 * MB);
    struct cmp_analysis an;
    ck_assert_int_eq(cmp_analyze(src, 4, &l, NULL, &an), 0);
    ck_assert_uint_eq(an.ncompacted, 3);
    ck_assert(has_id(an.compacted, an.ncompacted, 4));
    ck_assert(!has_id(an.compacted, an.ncompacted, 3));
    ck_assert_uint_eq(an.nexcluded, 1);
    ck_assert_int_eq(an.excluded[0], 3);
    ck_assert_uint_eq(check_plans(&an, l.cache_size), 2);
    cmp_analysis_free(&an);
    /* Nothing shared, one empty: no plan, the empty one still compacted. */
    struct cmp_src two[] = {{3, c, 1}, {4, NULL, 0}};
    ck_assert_int_eq(cmp_analyze(two, 2, &l, NULL, &an), 0);
    ck_assert_uint_eq(an.nplans, 0);
    ck_assert(!an.has_sso);
    ck_assert_uint_eq(an.ncompacted, 1);
    ck_assert_int_eq(an.compacted[0], 4);
    cmp_analysis_free(&an);
}
END_TEST

/* F25 (before #896): the SSO with no live block is not listed as compacted,
 * and its force split has nothing to do (it is never deleted). */
START_TEST(cmp_plan_f25_dead_kept)
{
    struct cmp_block a[] = {blk(1, 1, 0, 10, 100, 0)};
    struct cmp_block b[] = {blk(2, 1, 10, 20, 100, 0)};
    struct cmp_src src[] = {{1, a, 1}, {2, b, 1}, {4, NULL, 0}};
    struct cmp_limits l = lim_of(200 * MB, 8 * MB);
    struct cmp_analysis an;
    l.dead_kept = true;
    ck_assert_int_eq(cmp_analyze(src, 3, &l, NULL, &an), 0);
    ck_assert_uint_eq(an.ncompacted, 2);
    ck_assert(!has_id(an.compacted, an.ncompacted, 4));
    cmp_analysis_free(&an);
    ck_assert_int_eq(cmp_split_plans(&src[2], &l, &an), 0);
    ck_assert_uint_eq(an.ncompacted, 0);
    ck_assert_uint_eq(an.nplans, 0);
    cmp_analysis_free(&an);
    l.dead_kept = false; /* fixed: the empty SSO's split compacts it away */
    ck_assert_int_eq(cmp_split_plans(&src[2], &l, &an), 0);
    ck_assert_uint_eq(an.ncompacted, 1);
    cmp_analysis_free(&an);
}
END_TEST

START_TEST(cmp_plan_pack_within_cache)
{
    /* 3 SSOs x 2 streams x 4 blocks of 1 MiB; cache 3 MiB: plans of <= 3 blocks,
     * a group split at block granularity, every block planned once. */
    struct cmp_block bl[3][8];
    struct cmp_src src[3];
    for (int o = 0; o < 3; o++) {
        for (int s = 0; s < 2; s++)
            for (int k = 0; k < 4; k++)
                bl[o][s * 4 + k] = blk(o + 1, s + 1, o * 40 + k * 10, o * 40 + k * 10 + 10, MB,
                                       (s * 4 + k) * MB);
        src[o] = (struct cmp_src){o + 1, bl[o], 8};
    }
    struct cmp_limits l = lim_of(3 * MB, 64 * MB);
    struct cmp_analysis an;
    ck_assert_int_eq(cmp_analyze(src, 3, &l, NULL, &an), 0);
    ck_assert_uint_eq(an.nplans, 8);
    ck_assert_uint_eq(check_plans(&an, l.cache_size), 24);
    /* Global write order of the COMPACT blocks is (stream, offset). */
    int64_t last_s = 0, last_e = 0;
    for (size_t p = 0; p < an.nplans; p++)
        for (size_t i = 0; i < an.plans[p].nb; i++) {
            const struct cmp_block *b = &an.plans[p].b[i];
            ck_assert(b->e.stream > last_s || (b->e.stream == last_s && b->e.start == last_e));
            last_s = b->e.stream;
            last_e = b->end;
        }
    cmp_analysis_free(&an);
    /* A block larger than the cache fails the run. */
    l.cache_size = MB - 1;
    ck_assert_int_eq(cmp_analyze(src, 3, &l, NULL, &an), ERR_LIMIT);
}
END_TEST

START_TEST(cmp_plan_split_across_plans)
{
    /* One 4-block split run with cache 3 blocks: two stream objects. */
    struct cmp_block a[] = {blk(1, 1, 0, 10, MB, 0), blk(1, 1, 10, 20, MB, MB)};
    struct cmp_block b[] = {blk(2, 1, 20, 30, MB, 0), blk(2, 1, 30, 40, MB, MB)};
    struct cmp_src src[] = {{1, a, 2}, {2, b, 2}};
    struct cmp_limits l = lim_of(3 * MB, 2 * MB);
    struct cmp_analysis an;
    ck_assert_int_eq(cmp_analyze(src, 2, &l, NULL, &an), 0);
    ck_assert_uint_eq(an.nplans, 2);
    ck_assert_uint_eq(an.nsplit, 2);
    ck_assert(!an.has_sso);
    ck_assert_uint_eq(an.plans[0].nb, 3);
    ck_assert_uint_eq(an.plans[1].nb, 1);
    ck_assert(an.plans[1].out[0].split);
    cmp_analysis_free(&an);
}
END_TEST

START_TEST(cmp_plan_limit_stream_objects)
{
    /* Two split groups (streams 1 and 2, from A+B and C+D), at most one stream
     * object per commit: the group with fewer blocks is dropped with its SSOs. */
    struct cmp_block a[] = {blk(1, 1, 0, 10, MB, 0)};
    struct cmp_block b[] = {blk(2, 1, 10, 20, MB, 0), blk(2, 1, 20, 30, MB, MB)};
    struct cmp_block c[] = {blk(3, 2, 0, 10, MB, 0)};
    struct cmp_block d[] = {blk(4, 2, 10, 20, MB, 0)};
    struct cmp_src src[] = {{1, a, 1}, {2, b, 2}, {3, c, 1}, {4, d, 1}};
    struct cmp_limits l = lim_of(200 * MB, MB);
    struct cmp_analysis an;
    ck_assert_int_eq(cmp_analyze(src, 4, &l, NULL, &an), 0);
    ck_assert_uint_eq(an.nsplit, 2);
    cmp_analysis_free(&an);
    l.max_so_per_commit = 1;
    ck_assert_int_eq(cmp_analyze(src, 4, &l, NULL, &an), 0);
    ck_assert_uint_eq(an.nsplit, 1);
    ck_assert_uint_eq(an.ncompacted, 2);
    ck_assert(has_id(an.compacted, 2, 1) && has_id(an.compacted, 2, 2));
    ck_assert_uint_eq(an.nexcluded, 2);
    cmp_analysis_free(&an);
}
END_TEST

START_TEST(cmp_plan_limit_streams_per_sso)
{
    /* A and B share streams 1, 2; C and D share stream 3 only.  At most 2
     * streams in the new SSO: stream 3 has the smallest dispersion. */
    struct cmp_block a[] = {blk(1, 1, 0, 1, 10, 0), blk(1, 2, 0, 1, 10, 10)};
    struct cmp_block b[] = {blk(2, 1, 1, 2, 10, 0), blk(2, 2, 1, 2, 10, 10)};
    struct cmp_block c[] = {blk(3, 3, 0, 1, 10, 0)};
    struct cmp_block d[] = {blk(4, 3, 1, 2, 10, 0)};
    struct cmp_src src[] = {{1, a, 2}, {2, b, 2}, {3, c, 1}, {4, d, 1}};
    struct cmp_limits l = lim_of(200 * MB, 8 * MB);
    l.max_streams_per_sso = 2;
    struct cmp_analysis an;
    ck_assert_int_eq(cmp_analyze(src, 4, &l, NULL, &an), 0);
    ck_assert_uint_eq(an.ncompacted, 2);
    ck_assert(has_id(an.excluded, an.nexcluded, 3) && has_id(an.excluded, an.nexcluded, 4));
    ck_assert_uint_eq(check_plans(&an, l.cache_size), 4);
    cmp_analysis_free(&an);
}
END_TEST

START_TEST(cmp_plan_force_split_runs)
{
    /* One SSO: stream 1 [0,10)[10,20) then a gap [30,40); stream 2 [0,5).
     * Runs: 3 stream objects; cache of 2 blocks cuts the first run. */
    struct cmp_block a[] = {blk(7, 1, 0, 10, 100, 0), blk(7, 1, 10, 20, 100, 100),
                            blk(7, 1, 30, 40, 100, 200), blk(7, 2, 0, 5, 100, 300)};
    struct cmp_src src = {7, a, 4};
    struct cmp_limits l = lim_of(1000, 8 * MB);
    struct cmp_analysis an;
    ck_assert_int_eq(cmp_split_plans(&src, &l, &an), 0);
    ck_assert_uint_eq(an.nplans, 1);
    ck_assert_uint_eq(an.nsplit, 3);
    ck_assert(!an.has_sso);
    ck_assert_uint_eq(an.ncompacted, 1);
    ck_assert_int_eq(an.compacted[0], 7);
    check_plans(&an, l.cache_size);
    cmp_analysis_free(&an);
    l.cache_size = 200;
    ck_assert_int_eq(cmp_split_plans(&src, &l, &an), 0);
    ck_assert_uint_eq(an.nplans, 2);
    ck_assert_uint_eq(an.nsplit, 3);
    cmp_analysis_free(&an);
    /* No live block: a pure deletion. */
    struct cmp_src none = {8, NULL, 0};
    ck_assert_int_eq(cmp_split_plans(&none, &l, &an), 0);
    ck_assert_uint_eq(an.nplans, 0);
    ck_assert_uint_eq(an.ncompacted, 1);
    cmp_analysis_free(&an);
}
END_TEST

/* cmp_split_plans sorts the blocks it is given: the engine hands it one parsed index, which the
 * parser accepts only in (stream, start) order, so the sort is a guard for other callers. */
START_TEST(cmp_plan_force_split_blocks_out_of_order)
{
    struct cmp_block a[] = {blk(7, 2, 0, 5, 100, 300), blk(7, 1, 30, 40, 100, 200),
                            blk(7, 1, 0, 10, 100, 0), blk(7, 1, 10, 20, 100, 100)};
    struct cmp_src src = {7, a, 4};
    struct cmp_limits l = lim_of(1000, 8 * MB);
    struct cmp_analysis an;
    ck_assert_int_eq(cmp_split_plans(&src, &l, &an), 0);
    ck_assert_uint_eq(an.nplans, 1);
    ck_assert_uint_eq(an.nsplit, 3);
    ck_assert_uint_eq(check_plans(&an, l.cache_size), 4);
    ck_assert_int_eq(an.plans[0].b[0].e.stream, 1);
    ck_assert_int_eq(an.plans[0].b[0].e.start, 0);
    cmp_analysis_free(&an);
}
END_TEST

START_TEST(cmp_plan_many_candidates)
{
    /* 300 SSOs x 100 streams (30000 blocks): every block planned exactly once,
     * in (stream, offset) order within the new SSO.  (The filter sorts pairs;
     * a quadratic one takes minutes here.) */
    enum { NS = 300, NST = 100 };
    struct cmp_block *bl = malloc((size_t)NS * NST * sizeof *bl);
    struct cmp_src *src = malloc(NS * sizeof *src);
    ck_assert_ptr_nonnull(bl);
    ck_assert_ptr_nonnull(src);
    for (int o = 0; o < NS; o++) {
        for (int s = 0; s < NST; s++)
            bl[o * NST + s] = blk(o + 1, s + 1, o * 10, o * 10 + 10, 1000, s * 1000);
        src[o] = (struct cmp_src){o + 1, bl + o * NST, NST};
    }
    struct cmp_limits l = lim_of(200 * MB, 8 * MB);
    struct cmp_analysis an;
    ck_assert_int_eq(cmp_analyze(src, NS, &l, NULL, &an), 0);
    ck_assert_uint_eq(an.ncompacted, NS);
    ck_assert_uint_eq(an.nplans, 1);
    ck_assert_uint_eq(check_plans(&an, l.cache_size), (size_t)NS * NST);
    cmp_analysis_free(&an);
    free(bl);
    free(src);
}
END_TEST

/* ---- Suite. ----------------------------------------------------------------------------------- */

static Suite *cmp_suite(void)
{
    Suite *s = suite_create("cmp");
    TCase *tp = tcase_create("plan");
    tcase_add_test(tp, cmp_plan_small_streams_compact);
    tcase_add_test(tp, cmp_plan_large_run_split);
    tcase_add_test(tp, cmp_plan_gap_cuts_split);
    tcase_add_test(tp, cmp_plan_overlap_no_plan);
    tcase_add_test(tp, cmp_plan_filter_and_empties);
    tcase_add_test(tp, cmp_plan_f25_dead_kept);
    tcase_add_test(tp, cmp_plan_pack_within_cache);
    tcase_add_test(tp, cmp_plan_split_across_plans);
    tcase_add_test(tp, cmp_plan_limit_stream_objects);
    tcase_add_test(tp, cmp_plan_limit_streams_per_sso);
    tcase_add_test(tp, cmp_plan_force_split_runs);
    tcase_add_test(tp, cmp_plan_force_split_blocks_out_of_order);
    tcase_add_test(tp, cmp_plan_many_candidates);
    suite_add_tcase(s, tp);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cmp_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
