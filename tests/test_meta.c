/* test_meta.c - the controller's metadata store (meta.h). */
#include "err.h"
#include "meta.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* ---- Fixture. --------------------------------------------------------------------------- */

#define MIN ENV_USEC_PER_MIN
#define NS "_kafka_test"

static struct meta *mk(bool zero_none, bool not_idem)
{
    struct meta_conf conf = {NS, NULL, zero_none, not_idem, false, false};
    struct meta *m = NULL;
    ck_assert_int_eq(meta_create(&conf, &m), 0);
    for (int s = 1; s <= 3; s++)
        ck_assert_int_eq(meta_stream_create(m, s), 0);
    return m;
}

/* A store with the F28 (late) or F23 (leak) switch. */
static struct meta *mk_bug(bool ttl_late, bool so_leak)
{
    struct meta_conf conf = {NS, NULL, false, false, ttl_late, so_leak};
    struct meta *m = NULL;
    ck_assert_int_eq(meta_create(&conf, &m), 0);
    for (int s = 1; s <= 3; s++)
        ck_assert_int_eq(meta_stream_create(m, s), 0);
    return m;
}

static int64_t prep(struct meta *m, int n, int64_t now)
{
    int64_t first = -7;
    ck_assert_int_eq(meta_prepare(m, n, 60 * MIN, now, &first), 0);
    return first;
}

/* A WAL upload: one SSO with ranges on streams 1 and 2 of n offsets each. */
static int upload(struct meta *m, uint64_t req, int64_t id, int64_t from, int64_t n, int64_t now)
{
    struct meta_range r[2] = {{1, from, from + n}, {2, from, from + n}};
    struct meta_sso_commit c = {.req_id = req, .node = 0, .id = id, .size = 1000,
                                .order_id = -1, .data_time = now, .ranges = r, .nranges = 2};
    return meta_commit_sso(m, &c, now);
}

static enum meta_state state_of(struct meta *m, int64_t id)
{
    const struct meta_object *o = meta_object_get(m, id);
    ck_assert_ptr_nonnull(o);
    return o->state;
}

/* A committed stream object of stream s at [a, b) via a WAL upload. */
static int64_t mk_so(struct meta *m, int64_t s, int64_t a, int64_t b)
{
    int64_t id = prep(m, 1, 0);
    struct meta_so so = {id, 100, s, a, b, 0};
    struct meta_sso_commit c = {.id = -1, .order_id = -1, .sos = &so, .nsos = 1};
    ck_assert_int_eq(meta_commit_sso(m, &c, 1), 0);
    return id;
}

/* ---- Ids and prepare. --------------------------------------------------------------------- */

START_TEST(meta_create_checks_namespace)
{
    struct meta_conf conf = {"", NULL, false, false, false, false};
    struct meta *m = NULL;
    ck_assert_int_eq(meta_create(&conf, &m), ERR_INVAL);
    conf.ns = "a/b";
    ck_assert_int_eq(meta_create(&conf, &m), ERR_INVAL);
    ck_assert_ptr_null(m);
}
END_TEST

START_TEST(meta_ids_from_zero_never_reused)
{
    struct meta *m = mk(false, false);
    const struct meta_object *o;
    int64_t first = -7, ids[1];
    ck_assert_int_eq(meta_next_id(m), 0);
    ck_assert_int_eq(prep(m, 1, 0), 0);
    ck_assert_int_eq(prep(m, 3, 0), 1);
    ck_assert_int_eq(meta_next_id(m), 4);
    ck_assert_int_eq(meta_prepare(m, 0, MIN, 0, &first), ERR_INVAL);
    ck_assert_int_eq(first, -7);
    o = meta_object_get(m, 0);
    ck_assert_int_eq(o->state, META_PREPARED);
    ck_assert_int_eq(o->kind, META_KIND_NONE);
    ck_assert_int_eq(o->deadline, 60 * MIN);
    ck_assert_int_eq(o->ts, 60 * MIN);
    ck_assert_str_eq(o->key, "00000000/_kafka_test/0");
    ck_assert_ptr_null(meta_object_get(m, 4));
    ck_assert_ptr_null(meta_object_get(m, -1));
    /* Remove id 3, prepare again: ids keep growing. */
    ids[0] = 3;
    ck_assert_int_eq(meta_mark(m, ids, NULL, 1, 5), 0);
    ck_assert_int_eq(meta_remove(m, ids, 1, NULL), 0);
    ck_assert_ptr_null(meta_object_get(m, 3));
    ck_assert_int_eq(prep(m, 1, 0), 4);
    meta_destroy(m);
}
END_TEST

START_TEST(meta_id_none_switch)
{
    struct meta *m = mk(false, false), *z = mk(true, false);
    ck_assert_int_eq(meta_id_none(m), -1);
    ck_assert_int_eq(meta_id_none(z), 0);
    ck_assert_str_eq(meta_namespace(m), NS);
    meta_destroy(m);
    meta_destroy(z);
}
END_TEST

/* ---- WAL upload commit. ------------------------------------------------------------------- */

START_TEST(meta_wal_commit_advances_ends)
{
    struct meta *m = mk(false, false);
    int64_t id = prep(m, 2, 0);
    struct meta_range r = {1, 0, 100};
    struct meta_so so = {id + 1, 5000, 2, 0, 50, 0};
    struct meta_sso_commit c = {.id = id, .node = 3, .size = 700, .order_id = -1,
                                .data_time = 9, .ranges = &r, .nranges = 1, .sos = &so, .nsos = 1};
    const struct meta_object *o;
    ck_assert_int_eq(meta_commit_sso(m, &c, 10), 0);
    o = meta_object_get(m, id);
    ck_assert_int_eq(o->state, META_COMMITTED);
    ck_assert_int_eq(o->kind, META_KIND_SSO);
    ck_assert_int_eq(o->size, 700);
    ck_assert_int_eq(o->ts, 10);
    ck_assert_int_eq(o->node, 3);
    ck_assert_int_eq(o->order_id, id); /* order id = the SSO's id */
    ck_assert_int_eq(o->data_time, 9);
    ck_assert_uint_eq(o->nranges, 1);
    o = meta_object_get(m, id + 1);
    ck_assert_int_eq(o->kind, META_KIND_STREAM);
    ck_assert_int_eq(o->stream, 2);
    ck_assert_int_eq(o->end, 50);
    ck_assert_int_eq(meta_stream_get(m, 1)->end, 100);
    ck_assert_int_eq(meta_stream_get(m, 2)->end, 50);
    ck_assert_int_eq(meta_stream_get(m, 3)->end, 0);
    meta_destroy(m);
}
END_TEST

START_TEST(meta_wal_commit_needs_continuity)
{
    struct meta *m = mk(false, false);
    int64_t a = prep(m, 1, 0), b = prep(m, 1, 0);
    ck_assert_int_eq(upload(m, 0, a, 0, 10, 1), 0);
    /* Starts at 11 instead of 10: refused, nothing changed. */
    ck_assert_int_eq(upload(m, 0, b, 11, 10, 2), ERR_BADSTATE);
    ck_assert_int_eq(state_of(m, b), META_PREPARED);
    ck_assert_int_eq(meta_stream_get(m, 1)->end, 10);
    ck_assert_int_eq(upload(m, 0, b, 10, 10, 2), 0);
    ck_assert_int_eq(meta_stream_get(m, 2)->end, 20);
    meta_destroy(m);
}
END_TEST

START_TEST(meta_commit_unknown_expired_redundant)
{
    struct meta *m = mk(false, false);
    int64_t a = prep(m, 1, 0), b;
    ck_assert_int_eq(upload(m, 0, 99, 0, 10, 1), ERR_NOTFOUND);
    ck_assert_int_eq(upload(m, 0, a, 0, 10, 1), 0);
    /* Same commit again, no request id: REDUNDANT, treated as success, nothing changed. */
    ck_assert_int_eq(upload(m, 0, a, 0, 10, 2), ERR_REDUNDANT);
    ck_assert(meta_ok(ERR_REDUNDANT));
    ck_assert(!meta_ok(ERR_NOTFOUND));
    ck_assert_int_eq(meta_stream_get(m, 1)->end, 10);
    ck_assert_int_eq(meta_object_get(m, a)->ts, 1);
    /* A prepared object whose TTL expired cannot be committed. */
    b = prep(m, 1, 0);
    ck_assert_int_eq(meta_expire_prepared(m, 61 * MIN, 0, NULL, NULL), 1);
    ck_assert_int_eq(upload(m, 0, b, 10, 10, 61 * MIN), ERR_NOTFOUND);
    ck_assert_int_eq(meta_stream_get(m, 1)->end, 10);
    meta_destroy(m);
}
END_TEST

START_TEST(meta_commit_idempotent_by_request_id)
{
    struct meta *m = mk(false, false), *f = mk(false, true);
    int64_t a = prep(m, 1, 0);
    ck_assert_int_eq(upload(m, 42, a, 0, 10, 1), 0);
    /* The retry returns the first outcome (0), not REDUNDANT. */
    ck_assert_int_eq(upload(m, 42, a, 0, 10, 2), 0);
    /* A failed outcome is remembered too, even once it would succeed. */
    ck_assert_int_eq(upload(m, 43, 1, 10, 10, 3), ERR_NOTFOUND);
    ck_assert_int_eq(prep(m, 1, 0), 1);
    ck_assert_int_eq(upload(m, 43, 1, 10, 10, 4), ERR_NOTFOUND);
    ck_assert_int_eq(state_of(m, 1), META_PREPARED);
    ck_assert_int_eq(upload(m, 44, 1, 10, 10, 5), 0);
    /* A request without an id (0) is judged, never answered from the remembered ones: applied
     * once, then REDUNDANT. */
    ck_assert_int_eq(prep(m, 1, 0), 2);
    ck_assert_int_eq(upload(m, 0, 2, 20, 10, 6), 0);
    ck_assert_int_eq(state_of(m, 2), META_COMMITTED);
    ck_assert_int_eq(upload(m, 0, 2, 20, 10, 7), ERR_REDUNDANT);
    /* Field-bug mode: no request-id dedupe. */
    a = prep(f, 1, 0);
    ck_assert_int_eq(upload(f, 42, a, 0, 10, 1), 0);
    ck_assert_int_eq(upload(f, 42, a, 0, 10, 2), ERR_REDUNDANT);
    meta_destroy(m);
    meta_destroy(f);
}
END_TEST

/* ---- SSO compaction commit. ---------------------------------------------------------------- */

START_TEST(meta_sso_compaction_commit)
{
    struct meta *m = mk(false, false);
    int64_t a = prep(m, 1, 0), b = prep(m, 1, 0), n;
    struct meta_range r[2] = {{1, 0, 20}, {2, 0, 15}};
    struct meta_so so = {-1, 900, 2, 15, 20, 0};
    int64_t comp[2];
    struct meta_sso_commit c = {.id = -1, .node = 0, .size = 500, .order_id = -1, .ranges = r,
                                .nranges = 2, .sos = &so, .nsos = 1, .compacted = comp,
                                .ncompacted = 2};
    struct meta_piece *p;
    size_t np;
    ck_assert_int_eq(upload(m, 0, a, 0, 10, 100), 0);
    ck_assert_int_eq(upload(m, 0, b, 10, 10, 50), 0);
    n = prep(m, 2, 200);
    c.id = n;
    so.id = n + 1;
    comp[0] = a;
    comp[1] = b;
    ck_assert_int_eq(meta_commit_sso(m, &c, 300), 0);
    ck_assert_int_eq(state_of(m, a), META_MARKED);
    ck_assert_int_eq(state_of(m, b), META_MARKED);
    ck_assert_int_eq(meta_object_get(m, a)->mark_op, META_OP_DELETE);
    ck_assert_int_eq(meta_object_get(m, n)->data_time, 50); /* min of the inputs */
    ck_assert_int_eq(meta_object_get(m, n)->order_id, a);    /* min of the inputs */
    ck_assert_int_eq(meta_stream_get(m, 1)->end, 20);        /* compaction does not move ends */
    ck_assert_int_eq(meta_stream_pieces(m, 2, 0, 100, &p, &np), 0);
    ck_assert_uint_eq(np, 2);
    ck_assert_int_eq(p[0].id, n);
    ck_assert_int_eq(p[0].kind, META_KIND_SSO);
    ck_assert_int_eq(p[0].end, 15);
    ck_assert_int_eq(p[1].id, n + 1);
    ck_assert_int_eq(p[1].kind, META_KIND_STREAM);
    free(p);
    meta_destroy(m);
}
END_TEST

START_TEST(meta_sso_compaction_all_or_nothing)
{
    struct meta *m = mk(false, false);
    int64_t a = prep(m, 1, 0), n;
    struct meta_range r = {1, 0, 10};
    int64_t comp[2];
    struct meta_sso_commit c = {.id = -1, .size = 1, .order_id = -1, .ranges = &r, .nranges = 1,
                                .compacted = comp, .ncompacted = 2};
    ck_assert_int_eq(upload(m, 0, a, 0, 10, 1), 0);
    n = prep(m, 1, 2);
    c.id = n;
    comp[0] = a;
    comp[1] = 77; /* unknown */
    ck_assert_int_eq(meta_commit_sso(m, &c, 3), ERR_NOTFOUND);
    ck_assert_int_eq(state_of(m, n), META_PREPARED);
    ck_assert_int_eq(state_of(m, a), META_COMMITTED);
    comp[1] = a; /* listed twice */
    ck_assert_int_eq(meta_commit_sso(m, &c, 3), ERR_NOTFOUND);
    ck_assert_int_eq(state_of(m, n), META_PREPARED);
    c.ncompacted = 1;
    ck_assert_int_eq(meta_commit_sso(m, &c, 3), 0);
    meta_destroy(m);
}
END_TEST

START_TEST(meta_force_split_retry)
{
    /* {objectId -1, compacted=[sso]} applied, then retried with a new request id. */
    for (int bug = 0; bug < 2; bug++) {
        struct meta *m = mk(false, bug);
        int64_t a = prep(m, 1, 0);
        struct meta_sso_commit c = {.id = -1, .order_id = -1, .compacted = &a, .ncompacted = 1};
        ck_assert_int_eq(upload(m, 0, a, 0, 10, 1), 0);
        c.req_id = 7;
        ck_assert_int_eq(meta_commit_sso(m, &c, 2), 0);
        ck_assert_int_eq(state_of(m, a), META_MARKED);
        c.req_id = 8;
        ck_assert_int_eq(meta_commit_sso(m, &c, 3), bug ? ERR_NOTFOUND : ERR_REDUNDANT);
        meta_destroy(m);
    }
}
END_TEST

START_TEST(meta_force_split_with_outputs_retry)
{
    /* {objectId -1, streamObjects=[n], compacted=[sso]} applied, then retried. */
    for (int bug = 0; bug < 2; bug++) {
        struct meta *m = mk(false, bug);
        int64_t a = prep(m, 1, 0), n;
        struct meta_so so = {-1, 10, 1, 0, 10, 0};
        struct meta_sso_commit c = {.id = -1, .order_id = -1, .sos = &so, .nsos = 1,
                                    .compacted = &a, .ncompacted = 1};
        ck_assert_int_eq(upload(m, 0, a, 0, 10, 1), 0);
        n = prep(m, 1, 2);
        so.id = n;
        ck_assert_int_eq(meta_commit_sso(m, &c, 3), 0);
        ck_assert_int_eq(state_of(m, n), META_COMMITTED);
        /* AutoMQ checks the inputs before the outputs: the retry fails. */
        ck_assert_int_eq(meta_commit_sso(m, &c, 4), bug ? ERR_NOTFOUND : ERR_REDUNDANT);
        meta_destroy(m);
    }
}
END_TEST

START_TEST(meta_sso_output_of_deleted_stream)
{
    struct meta *m = mk(false, false);
    int64_t a = prep(m, 1, 0), n;
    struct meta_so so = {-1, 10, 1, 0, 10, 0};
    struct meta_sso_commit c = {.id = -1, .order_id = -1, .sos = &so, .nsos = 1,
                                .compacted = &a, .ncompacted = 1};
    ck_assert_int_eq(upload(m, 0, a, 0, 10, 1), 0);
    n = prep(m, 1, 2);
    so.id = n;
    ck_assert_int_eq(meta_stream_delete(m, 1, 3), 0);
    ck_assert_int_eq(meta_commit_sso(m, &c, 4), 0);
    ck_assert_int_eq(state_of(m, n), META_MARKED);
    ck_assert(meta_object_get(m, n)->attributes & META_ATTR_DEEP_DELETE);
    meta_destroy(m);
}
END_TEST

/* F23 (before #808): the same commit leaves the stream object committed
 * for a stream that no longer exists, and nothing ever marks it. */
START_TEST(meta_f23_deleted_stream_so_leaks)
{
    struct meta *m = mk_bug(false, true);
    int64_t a = prep(m, 1, 0), n;
    struct meta_so so = {-1, 10, 1, 0, 10, 0};
    struct meta_sso_commit c = {.id = -1, .order_id = -1, .sos = &so, .nsos = 1,
                                .compacted = &a, .ncompacted = 1};
    struct meta_counts mc;
    ck_assert_int_eq(upload(m, 0, a, 0, 10, 1), 0);
    n = prep(m, 1, 2);
    so.id = n;
    ck_assert_int_eq(meta_stream_delete(m, 1, 3), 0);
    ck_assert_int_eq(meta_commit_sso(m, &c, 4), 0);
    ck_assert_int_eq(state_of(m, n), META_COMMITTED);
    meta_count(m, &mc);
    ck_assert_uint_eq(mc.marked, 1); /* the compacted SSO only */
    meta_destroy(m);
}
END_TEST

START_TEST(meta_sso_replace_attributes)
{
    struct meta *m = mk(false, false);
    int64_t a = prep(m, 1, 0);
    struct meta_sso_commit c = {.id = a, .attributes = 5 << 2, .order_id = -1, .compacted = &a,
                                .ncompacted = 1};
    ck_assert_int_eq(meta_commit_sso(m, &c, 1), ERR_NOTFOUND); /* not committed yet */
    ck_assert_int_eq(upload(m, 0, a, 0, 10, 1), 0);
    ck_assert_int_eq(meta_commit_sso(m, &c, 2), 0);
    ck_assert_int_eq(meta_object_get(m, a)->attributes, 5 << 2);
    ck_assert_int_eq(state_of(m, a), META_COMMITTED);
    meta_destroy(m);
}
END_TEST

/* ---- Stream object compaction commit. ------------------------------------------------------- */

START_TEST(meta_stream_physical_merge)
{
    struct meta *m = mk(false, false);
    int64_t s1 = mk_so(m, 3, 0, 10), s2 = mk_so(m, 3, 10, 20), n = prep(m, 1, 0);
    int64_t src[2] = {s1, s2};
    enum meta_op ops[2] = {META_OP_DELETE, META_OP_DELETE};
    struct meta_stream_commit c = {.id = n, .size = 200, .stream = 3, .epoch = 0, .start = 0,
                                   .end = 20, .sources = src, .ops = ops, .nsources = 2};
    struct meta_piece *p;
    size_t np;
    c.epoch = 1;
    ck_assert_int_eq(meta_commit_stream(m, &c, 5), ERR_BADSTATE); /* fenced */
    c.epoch = -1;
    c.stream = 2;
    ck_assert_int_eq(meta_commit_stream(m, &c, 5), ERR_NOTFOUND); /* sources of another stream */
    c.stream = 3;
    ck_assert_int_eq(meta_commit_stream(m, &c, 5), 0);
    ck_assert_int_eq(meta_object_get(m, n)->kind, META_KIND_STREAM);
    ck_assert_int_eq(state_of(m, s1), META_MARKED);
    ck_assert_int_eq(state_of(m, s2), META_MARKED);
    ck_assert_int_eq(meta_stream_pieces(m, 3, 5, 6, &p, &np), 0);
    ck_assert_uint_eq(np, 1);
    ck_assert_int_eq(p[0].id, n);
    free(p);
    ck_assert_int_eq(meta_commit_stream(m, &c, 6), ERR_REDUNDANT);
    meta_destroy(m);
}
END_TEST

/* Builds a composite of two stream objects of stream 3; returns its id. */
static int64_t mk_composite(struct meta *m, int64_t *l1, int64_t *l2)
{
    int64_t n;
    int64_t src[2];
    enum meta_op ops[2] = {META_OP_KEEP_DATA, META_OP_KEEP_DATA};
    struct meta_link links[2];
    struct meta_stream_commit c = {.size = 180, .attributes = META_ATTR_TYPE_COMPOSITE,
                                   .stream = 3, .epoch = -1, .start = 0, .end = 20,
                                   .sources = src, .ops = ops, .nsources = 2, .links = links,
                                   .nlinks = 2};
    *l1 = mk_so(m, 3, 0, 10);
    *l2 = mk_so(m, 3, 10, 20);
    n = prep(m, 1, 0);
    src[0] = *l1;
    src[1] = *l2;
    memset(links, 0, sizeof links);
    links[0] = (struct meta_link){.id = *l1, .start = 0, .end = 10, .size = 90};
    links[1] = (struct meta_link){.id = *l2, .start = 10, .end = 20, .size = 90};
    c.id = n;
    ck_assert_int_eq(meta_commit_stream(m, &c, 5), 0);
    return n;
}

/* The key of an id not yet handed out is no object, at the edge of the by-id
 * arrays too (none yet; exactly full). */
START_TEST(meta_classify_key_unallocated_id)
{
    struct meta *m = mk(false, false);
    char key[OBJ_KEY_MAX];
    int64_t first;
    ck_assert_int_eq(obj_key(0, NS, key, sizeof key), 0);
    ck_assert_int_eq(meta_classify_key(m, key), META_KEY_NONE);
    ck_assert_int_eq(meta_prepare(m, 64, 60 * MIN, 0, &first), 0);
    ck_assert_int_eq(first, 0);
    ck_assert_int_eq(meta_classify_key(m, key), META_KEY_PREPARED);
    ck_assert_int_eq(obj_key(64, NS, key, sizeof key), 0);
    ck_assert_int_eq(meta_classify_key(m, key), META_KEY_NONE);
    meta_destroy(m);
}
END_TEST

START_TEST(meta_stream_composite_links)
{
    struct meta *m = mk(false, false);
    int64_t l1, l2, comp = mk_composite(m, &l1, &l2), ids[1];
    const struct meta_object *o = meta_object_get(m, comp);
    char key[OBJ_KEY_MAX];
    struct meta_counts cnt;
    ck_assert_int_eq(o->kind, META_KIND_COMPOSITE);
    ck_assert_uint_eq(o->nlinks, 2);
    ck_assert_int_eq(obj_key(l1, NS, key, sizeof key), 0);
    ck_assert_str_eq(o->links[0].key, key);
    ck_assert_ptr_null(meta_object_get(m, l1)); /* KEEP_DATA: metadata gone */
    ck_assert_int_eq(meta_classify_key(m, key), META_KEY_LINKED);
    ck_assert_int_eq(meta_classify_key(m, o->key), META_KEY_COMPOSITE);
    meta_count(m, &cnt);
    ck_assert_uint_eq(cnt.composite, 1);
    ck_assert_uint_eq(cnt.links, 2);
    ck_assert_uint_eq(cnt.stream, 0);
    /* Deleting the stream deep-deletes the composite; removing it forgets its links. */
    ck_assert_int_eq(meta_stream_delete(m, 3, 9), 0);
    ck_assert_int_eq(state_of(m, comp), META_MARKED);
    ck_assert(meta_object_get(m, comp)->attributes & META_ATTR_DEEP_DELETE);
    ck_assert_int_eq(meta_classify_key(m, key), META_KEY_LINKED);
    ids[0] = comp;
    ck_assert_int_eq(meta_remove(m, ids, 1, NULL), 0);
    ck_assert_int_eq(meta_classify_key(m, key), META_KEY_NONE);
    meta_destroy(m);
}
END_TEST

/* meta_diff (the image-consistent check) sees a composite whose link differs in any one field
 * from the controller's: its id, either offset, its size, its key. */
START_TEST(meta_diff_sees_each_field_of_a_link)
{
    struct meta *a = mk(false, false), *b = mk(false, false);
    int64_t l1, l2, comp = mk_composite(a, &l1, &l2);
    char why[200];
    ck_assert_int_eq(mk_composite(b, &l1, &l2), comp);
    ck_assert_int_eq(meta_diff(a, b, why, sizeof why), 0);
    for (int field = 0; field < 5; field++) {
        struct meta_rec *recs;
        size_t n, i;
        struct meta_link *x;
        ck_assert_int_eq(meta_snapshot(a, &recs, &n), 0);
        for (i = 0; i < n && !(recs[i].kind == META_REC_OBJECT && recs[i].id == comp); i++)
            ;
        ck_assert_uint_lt(i, n);
        x = &recs[i].obj->links[1];
        switch (field) {
        case 0: x->id = l1; break;
        case 1: x->start++; break;
        case 2: x->end++; break;
        case 3: x->size++; break;
        default: x->key[0] = x->key[0] == 'a' ? 'b' : 'a'; break;
        }
        ck_assert_int_eq(meta_apply(b, &recs[i], 1), 0);
        ck_assert_int_eq(meta_diff(a, b, why, sizeof why), 1);
        ck_assert_msg(strstr(why, "link 1 differs") != NULL, "field %d: %s", field, why);
        meta_recs_free(recs, n);
        /* the controller's record again: the same stores */
        ck_assert_int_eq(meta_snapshot(a, &recs, &n), 0);
        ck_assert_int_eq(meta_apply(b, recs, n), 0);
        meta_recs_free(recs, n);
        ck_assert_int_eq(meta_diff(a, b, why, sizeof why), 0);
    }
    meta_destroy(a);
    meta_destroy(b);
}
END_TEST

START_TEST(meta_stream_composite_relink)
{
    /* A newer composite takes over the links of the old one (old: DELETE). */
    struct meta *m = mk(false, false);
    int64_t l1, l2, old = mk_composite(m, &l1, &l2), l3 = mk_so(m, 3, 20, 30), n = prep(m, 1, 0);
    int64_t src[2] = {old, l3}, ids[1] = {old};
    enum meta_op ops[2] = {META_OP_DELETE, META_OP_KEEP_DATA};
    struct meta_link links[3] = {{.id = l1, .start = 0, .end = 10},
                                 {.id = l2, .start = 10, .end = 20},
                                 {.id = l3, .start = 20, .end = 30}};
    struct meta_stream_commit c = {.id = n, .size = 270, .attributes = META_ATTR_TYPE_COMPOSITE,
                                   .stream = 3, .epoch = -1, .start = 0, .end = 30,
                                   .sources = src, .ops = ops, .nsources = 2, .links = links,
                                   .nlinks = 3};
    char key[OBJ_KEY_MAX];
    ck_assert_int_eq(meta_commit_stream(m, &c, 7), 0);
    ck_assert_int_eq(state_of(m, old), META_MARKED);
    ck_assert(!(meta_object_get(m, old)->attributes & META_ATTR_DEEP_DELETE));
    ck_assert_int_eq(meta_remove(m, ids, 1, NULL), 0);
    obj_key(l1, NS, key, sizeof key);
    ck_assert_int_eq(meta_classify_key(m, key), META_KEY_LINKED); /* still owned by n */
    meta_destroy(m);
}
END_TEST

/* A stream object holds at least one offset: a commit whose range is empty
 * (end == start) or reversed is refused and changes nothing. */
START_TEST(meta_stream_object_needs_offsets)
{
    struct meta *m = mk(false, false);
    int64_t s1 = mk_so(m, 3, 0, 10), n = prep(m, 1, 0);
    enum meta_op op = META_OP_DELETE;
    struct meta_stream_commit c = {.id = n, .size = 100, .stream = 3, .epoch = -1, .start = 10,
                                   .end = 10, .sources = &s1, .ops = &op, .nsources = 1};
    ck_assert_int_eq(meta_commit_stream(m, &c, 5), ERR_INVAL); /* end == start */
    c.start = 11;
    ck_assert_int_eq(meta_commit_stream(m, &c, 5), ERR_INVAL); /* end < start */
    ck_assert_int_eq(state_of(m, s1), META_COMMITTED);
    ck_assert_int_eq(state_of(m, n), META_PREPARED);
    c.start = 0;
    ck_assert_int_eq(meta_commit_stream(m, &c, 5), 0); /* [0, 10) is one */
    ck_assert_int_eq(state_of(m, s1), META_MARKED);
    meta_destroy(m);
}
END_TEST

START_TEST(meta_stream_keep_data_rules)
{
    struct meta *m = mk(false, false);
    int64_t s1 = mk_so(m, 3, 0, 10), n = prep(m, 1, 0);
    enum meta_op op = META_OP_KEEP_DATA;
    struct meta_link link = {.id = s1, .start = 0, .end = 10};
    struct meta_stream_commit c = {.id = n, .size = 1, .stream = 3, .epoch = -1, .start = 0,
                                   .end = 10, .sources = &s1, .ops = &op, .nsources = 1};
    /* KEEP_DATA needs a composite that links the source. */
    ck_assert_int_eq(meta_commit_stream(m, &c, 5), ERR_INVAL);
    c.attributes = META_ATTR_TYPE_COMPOSITE;
    ck_assert_int_eq(meta_commit_stream(m, &c, 5), ERR_INVAL); /* composite without links */
    c.links = &link;
    c.nlinks = 1;
    c.attributes = 0;
    ck_assert_int_eq(meta_commit_stream(m, &c, 5), ERR_INVAL); /* links on a normal object */
    ck_assert_int_eq(state_of(m, s1), META_COMMITTED);
    ck_assert_int_eq(state_of(m, n), META_PREPARED);
    meta_destroy(m);
}
END_TEST

START_TEST(meta_stream_cleanup_retry)
{
    /* CLEANUP: {objectId -1, sources, DEEP_DELETE}, run twice (F06). */
    for (int bug = 0; bug < 2; bug++) {
        struct meta *m = mk(false, bug);
        int64_t s1 = mk_so(m, 3, 0, 10);
        enum meta_op op = META_OP_DEEP_DELETE;
        struct meta_stream_commit c = {.id = -1, .stream = 3, .epoch = -1, .sources = &s1,
                                       .ops = &op, .nsources = 1};
        ck_assert_int_eq(meta_commit_stream(m, &c, 5), 0);
        ck_assert(meta_object_get(m, s1)->attributes & META_ATTR_DEEP_DELETE);
        ck_assert_int_eq(meta_commit_stream(m, &c, 6), bug ? ERR_NOTFOUND : ERR_REDUNDANT);
        meta_destroy(m);
    }
}
END_TEST

/* ---- Mark and remove. ------------------------------------------------------------------------- */

START_TEST(meta_mark_all_or_nothing)
{
    struct meta *m = mk(false, false);
    int64_t a = prep(m, 3, 0);
    int64_t ids[3] = {a, a + 1, 99};
    int64_t out[8];
    ck_assert_int_eq(meta_mark(m, ids, NULL, 3, 5), ERR_NOTFOUND);
    ck_assert_int_eq(state_of(m, a), META_PREPARED);
    ids[2] = a;
    ck_assert_int_eq(meta_mark(m, ids, NULL, 3, 5), ERR_NOTFOUND); /* duplicate */
    ck_assert_int_eq(meta_mark(m, ids, NULL, 2, 5), 0);
    ck_assert_int_eq(state_of(m, a), META_MARKED);
    /* A prepared object marked gets bucket MATCH_ALL. */
    ck_assert_int_eq(meta_object_get(m, a)->attributes & META_ATTR_BUCKET_ALL,
                     META_ATTR_BUCKET_ALL);
    ck_assert_int_eq(meta_object_get(m, a)->ts, 5);
    ids[0] = a + 2;
    ids[1] = a; /* already marked */
    ck_assert_int_eq(meta_mark(m, ids, NULL, 2, 6), ERR_NOTFOUND);
    ck_assert_int_eq(state_of(m, a + 2), META_PREPARED);
    ck_assert_uint_eq(meta_marked(m, out, 8), 2);
    ck_assert_int_eq(out[0], a);
    ck_assert_int_eq(out[1], a + 1);
    meta_destroy(m);
}
END_TEST

START_TEST(meta_remove_only_marked)
{
    struct meta *m = mk(false, false);
    int64_t a = prep(m, 2, 0), ids[3] = {a, a + 1, 500};
    size_t removed = 99;
    ck_assert_int_eq(meta_mark(m, ids, NULL, 1, 1), 0);
    ck_assert_int_eq(meta_remove(m, ids, 2, &removed), ERR_BADSTATE); /* a+1 is prepared */
    ck_assert_uint_eq(removed, 99);
    ck_assert_int_eq(state_of(m, a), META_MARKED);
    ids[1] = 500; /* unknown ids are skipped: already removed */
    ck_assert_int_eq(meta_remove(m, ids, 2, &removed), 0);
    ck_assert_uint_eq(removed, 1);
    ck_assert_ptr_null(meta_object_get(m, a));
    ck_assert_int_eq(meta_remove(m, ids, 2, &removed), 0);
    ck_assert_uint_eq(removed, 0);
    meta_destroy(m);
}
END_TEST

START_TEST(meta_marked_in_order_at_most_n)
{
    struct meta *m = mk(false, false);
    int64_t a = prep(m, 5, 0), out[8];
    int64_t ids[5] = {a + 4, a + 2, a, a + 1, a + 3};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(meta_mark(m, &ids[i], NULL, 1, i), 0);
    ck_assert_uint_eq(meta_marked(m, out, 3), 3);
    ck_assert_int_eq(out[0], a + 4);
    ck_assert_int_eq(out[1], a + 2);
    ck_assert_int_eq(out[2], a);
    ck_assert_uint_lt(meta_object_get(m, a + 4)->mark_seq, meta_object_get(m, a + 2)->mark_seq);
    ck_assert_int_eq(meta_remove(m, &ids[1], 1, NULL), 0);
    ck_assert_uint_eq(meta_marked(m, out, 8), 4);
    ck_assert_int_eq(out[1], a);
    meta_destroy(m);
}
END_TEST

/* ---- Streams. ----------------------------------------------------------------------------------- */

START_TEST(meta_trim_and_delete)
{
    struct meta *m = mk(false, false);
    int64_t a = prep(m, 1, 0), s1;
    ck_assert_int_eq(meta_stream_create(m, 1), ERR_EXISTS);
    ck_assert_int_eq(upload(m, 0, a, 0, 100, 1), 0);
    ck_assert_int_eq(meta_trim(m, 1, 40), 0);
    ck_assert_int_eq(meta_stream_get(m, 1)->start, 40);
    ck_assert_int_eq(meta_trim(m, 1, 10), 0); /* backwards: no-op */
    ck_assert_int_eq(meta_stream_get(m, 1)->start, 40);
    ck_assert_int_eq(meta_trim(m, 1, 101), ERR_RANGE);
    ck_assert_int_eq(meta_trim(m, 9, 1), ERR_NOTFOUND);
    ck_assert_int_eq(state_of(m, a), META_COMMITTED); /* trim marks nothing */
    s1 = mk_so(m, 1, 100, 120);
    ck_assert_int_eq(meta_stream_delete(m, 1, 5), 0);
    ck_assert_int_eq(meta_stream_get(m, 1)->state, META_STREAM_DELETED);
    ck_assert_int_eq(state_of(m, s1), META_MARKED);
    ck_assert_int_eq(meta_object_get(m, s1)->mark_op, META_OP_DEEP_DELETE);
    ck_assert_int_eq(state_of(m, a), META_COMMITTED); /* SSO data goes by compaction */
    ck_assert_int_eq(meta_stream_delete(m, 1, 6), ERR_NOTFOUND);
    ck_assert_int_eq(meta_trim(m, 1, 110), ERR_NOTFOUND);
    meta_destroy(m);
}
END_TEST

START_TEST(meta_stream_table)
{
    struct meta *m = mk(false, false);
    ck_assert_int_eq(meta_stream_get(m, 2)->epoch, 0);
    ck_assert_int_eq(meta_stream_get(m, 2)->state, META_STREAM_OPEN);
    ck_assert_ptr_null(meta_stream_get(m, 8));
    ck_assert_int_eq(meta_stream_limit(m), 4);
    ck_assert_ptr_null(meta_stream_get(m, 0));
    meta_destroy(m);
}
END_TEST

/* ---- TTL, classification, crash survival. ------------------------------------------------------- */

struct expired {
    int n;
    char key[OBJ_KEY_MAX];
};

static int on_expired(void *arg, const struct meta_object *o)
{
    struct expired *e = arg;
    e->n++;
    strcpy(e->key, o->key);
    return 0;
}

START_TEST(meta_ttl_expiry)
{
    struct meta *m = mk(false, false);
    int64_t a = -1, b = -1;
    struct expired e = {0, ""};
    const struct meta_object *o;
    ck_assert_int_eq(meta_next_deadline(m), ENV_TIME_NEVER);
    ck_assert_int_eq(meta_prepare(m, 1, 10, 0, &a), 0);
    ck_assert_int_eq(meta_prepare(m, 1, 5, 0, &b), 0);
    ck_assert_int_eq(meta_next_deadline(m), 5);
    ck_assert_int_eq(meta_expire_prepared(m, 5, 0, on_expired, &e), 0); /* now == deadline */
    ck_assert_int_eq(meta_expire_prepared(m, 6, 0, on_expired, &e), 1);
    ck_assert_int_eq(e.n, 1);
    ck_assert_str_eq(e.key, meta_object_get(m, b)->key);
    o = meta_object_get(m, b);
    ck_assert_int_eq(o->state, META_MARKED);
    ck_assert_int_eq(o->ts, 0);
    ck_assert_int_eq(o->marked_at, 6);
    ck_assert(o->ttl_expired);
    ck_assert_int_eq(o->attributes & META_ATTR_BUCKET_ALL, META_ATTR_BUCKET_ALL);
    ck_assert_int_eq(meta_next_deadline(m), 10);
    ck_assert_int_eq(meta_expire_prepared(m, 100, 0, NULL, NULL), 1);
    ck_assert_int_eq(meta_next_deadline(m), ENV_TIME_NEVER);
    meta_destroy(m);
}
END_TEST

/* #3539's fix: a TTL expires right after its deadline.  F28 (before it): a
 * future deadline is first looked at 30 min after the prepare and then every
 * 30 min: a 10 min TTL expires after 30 min, a 45 min one after 60 min. */
START_TEST(meta_f28_ttl_timer)
{
    for (int late = 0; late <= 1; late++) {
        struct meta *m = mk_bug(late, false);
        int64_t a = -1, b = -1;
        ck_assert_int_eq(meta_prepare(m, 1, 10 * MIN, 0, &a), 0);
        ck_assert_int_eq(meta_next_deadline(m), late ? 30 * MIN : 10 * MIN);
        ck_assert_int_eq(meta_expire_prepared(m, 10 * MIN + 1, 0, NULL, NULL), late ? 0 : 1);
        ck_assert_int_eq(meta_expire_prepared(m, 30 * MIN, 0, NULL, NULL), late ? 1 : 0);
        ck_assert_int_eq(meta_prepare(m, 1, 45 * MIN, 30 * MIN, &b), 0);
        ck_assert_int_eq(meta_expire_prepared(m, 60 * MIN, 0, NULL, NULL), 0);
        ck_assert_int_eq(meta_next_deadline(m), late ? 90 * MIN : 75 * MIN);
        ck_assert_int_eq(meta_expire_prepared(m, 75 * MIN + 1, 0, NULL, NULL), late ? 0 : 1);
        ck_assert_int_eq(meta_expire_prepared(m, 90 * MIN, 0, NULL, NULL), late ? 1 : 0);
        meta_destroy(m);
    }
}
END_TEST

START_TEST(meta_ttl_expiry_at_most_n)
{
    struct meta *m = mk(false, false);
    int64_t a = prep(m, 5, 0), out[8];
    ck_assert_int_eq(meta_expire_prepared(m, 61 * MIN, 2, NULL, NULL), 2);
    ck_assert_int_eq(meta_expire_prepared(m, 61 * MIN, 0, NULL, NULL), 3);
    ck_assert_uint_eq(meta_marked(m, out, 8), 5);
    ck_assert_int_eq(out[0], a);
    meta_destroy(m);
}
END_TEST

START_TEST(meta_classify_keys)
{
    struct meta *m = mk(false, false);
    int64_t a = prep(m, 1, 0), so = mk_so(m, 3, 0, 10), p = prep(m, 1, 0);
    char key[OBJ_KEY_MAX];
    ck_assert_int_eq(upload(m, 0, a, 0, 10, 1), 0);
    ck_assert_int_eq(meta_classify_key(m, meta_object_get(m, a)->key), META_KEY_SSO);
    ck_assert_int_eq(meta_classify_key(m, meta_object_get(m, so)->key), META_KEY_STREAM);
    ck_assert_int_eq(meta_classify_key(m, meta_object_get(m, p)->key), META_KEY_PREPARED);
    obj_key(500, NS, key, sizeof key);
    ck_assert_int_eq(meta_classify_key(m, key), META_KEY_NONE);
    obj_key(a, "_kafka_other", key, sizeof key);
    ck_assert_int_eq(meta_classify_key(m, key), META_KEY_NONE);
    ck_assert_int_eq(meta_classify_key(m, "garbage"), META_KEY_NONE);
    ck_assert_str_eq(meta_key_kind_name(META_KEY_LINKED), "linked");
    ck_assert_str_eq(meta_key_kind_name(META_KEY_SSO), "sso");
    ck_assert_str_eq(meta_state_name(META_MARKED), "mark-destroyed");
    /* A marked object keeps its kind until removed. */
    ck_assert_int_eq(meta_mark(m, &so, NULL, 1, 2), 0);
    ck_assert_int_eq(meta_classify_key(m, meta_object_get(m, so)->key), META_KEY_STREAM);
    meta_destroy(m);
}
END_TEST

static int count_fn(void *arg, const struct meta_object *o)
{
    (void)o;
    (*(int *)arg)++;
    return 0;
}

START_TEST(meta_survives_crash_queries)
{
    /* The store is the replicated log: after a crash of either side the cleaner
     * rebuilds its timers from these queries alone. */
    struct meta *m = mk(false, false);
    int64_t a = prep(m, 1, 0), b = -1, out[4];
    struct meta_counts c;
    int n = 0;
    ck_assert_int_eq(upload(m, 0, a, 0, 10, 1), 0);
    ck_assert_int_eq(meta_prepare(m, 1, 24 * 60 * MIN, 2, &b), 0);
    ck_assert_int_eq(meta_mark(m, &a, NULL, 1, 3), 0);
    ck_assert_int_eq(meta_next_deadline(m), 2 + 24 * 60 * MIN);
    ck_assert_uint_eq(meta_marked(m, out, 4), 1);
    ck_assert_int_eq(out[0], a);
    meta_count(m, &c);
    ck_assert_uint_eq(c.prepared, 1);
    ck_assert_uint_eq(c.marked, 1);
    ck_assert_uint_eq(c.committed, 0);
    ck_assert_int_eq(meta_foreach(m, count_fn, &n), 0);
    ck_assert_int_eq(n, 2);
    meta_destroy(m);
}
END_TEST

START_TEST(meta_pieces_in_order)
{
    struct meta *m = mk(false, false);
    int64_t a = prep(m, 1, 0), b = prep(m, 1, 0), s;
    struct meta_piece *p;
    size_t n;
    ck_assert_int_eq(upload(m, 0, a, 0, 10, 1), 0);
    ck_assert_int_eq(upload(m, 0, b, 10, 10, 1), 0);
    s = mk_so(m, 1, 20, 30);
    ck_assert_int_eq(meta_stream_pieces(m, 1, 0, 100, &p, &n), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(p[0].id, a);
    ck_assert_int_eq(p[1].id, b);
    ck_assert_int_eq(p[1].start, 10);
    ck_assert_int_eq(p[2].id, s);
    free(p);
    ck_assert_int_eq(meta_stream_pieces(m, 1, 12, 13, &p, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(p[0].id, b);
    free(p);
    ck_assert_int_eq(meta_stream_pieces(m, 3, 0, 100, &p, &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(p);
    meta_destroy(m);
}
END_TEST

START_TEST(meta_churn_keeps_queries_right)
{
    /* Thousands of upload / compact / remove cycles: the lazily filtered lists
     * must never change what the queries answer. */
    struct meta *m = mk(false, false);
    int64_t prev = -1, out[4];
    struct meta_counts c;
    for (int i = 0; i < 3000; i++) {
        int64_t id = prep(m, 1, i);
        size_t removed;
        ck_assert_int_eq(upload(m, (uint64_t)i + 1, id, i * 10, 10, i), 0);
        if (prev >= 0) {
            ck_assert_int_eq(meta_mark(m, &prev, NULL, 1, i), 0);
            ck_assert_int_eq(meta_remove(m, &prev, 1, &removed), 0);
            ck_assert_uint_eq(removed, 1);
        }
        prev = id;
    }
    meta_count(m, &c);
    ck_assert_uint_eq(c.committed, 1);
    ck_assert_uint_eq(c.sso, 1);
    ck_assert_uint_eq(c.marked, 0);
    ck_assert_uint_eq(meta_marked(m, out, 4), 0);
    ck_assert_int_eq(meta_next_deadline(m), ENV_TIME_NEVER);
    ck_assert_int_eq(meta_stream_get(m, 1)->end, 30000);
    {
        struct meta_piece *p;
        size_t n;
        ck_assert_int_eq(meta_stream_pieces(m, 2, 0, 30000, &p, &n), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_int_eq(p[0].id, prev);
        free(p);
    }
    meta_destroy(m);
}
END_TEST

static int link_fn(void *arg, const struct meta_link *l, int64_t composite)
{
    int64_t *seen = arg;
    seen[0]++;
    seen[1] = composite;
    seen[2] += l->id;
    return 0;
}

START_TEST(meta_foreach_link_and_bad_links)
{
    struct meta *m = mk(false, false);
    int64_t l1, l2, comp = mk_composite(m, &l1, &l2), seen[3] = {0, 0, 0};
    int64_t s3 = mk_so(m, 3, 20, 30), n = prep(m, 1, 0), src[1] = {s3};
    enum meta_op ops[1] = {META_OP_KEEP_DATA};
    struct meta_link links[2] = {{.id = s3, .start = 20, .end = 30}, {.id = 999, .start = 30, .end = 40}};
    struct meta_stream_commit c = {.id = n, .size = 1, .attributes = META_ATTR_TYPE_COMPOSITE,
                                   .stream = 3, .epoch = -1, .start = 20, .end = 40,
                                   .sources = src, .ops = ops, .nsources = 1, .links = links,
                                   .nlinks = 2};
    ck_assert_int_eq(meta_foreach_link(m, link_fn, seen), 0);
    ck_assert_int_eq(seen[0], 2);
    ck_assert_int_eq(seen[1], comp);
    ck_assert_int_eq(seen[2], l1 + l2);
    /* A link that is neither a KEEP_DATA source nor linked already. */
    ck_assert_int_eq(meta_commit_stream(m, &c, 9), ERR_INVAL);
    links[1].id = n; /* itself */
    ck_assert_int_eq(meta_commit_stream(m, &c, 9), ERR_INVAL);
    links[1].id = s3; /* twice */
    ck_assert_int_eq(meta_commit_stream(m, &c, 9), ERR_INVAL);
    links[1].id = l1; /* owned by comp: may be linked again */
    ck_assert_int_eq(meta_commit_stream(m, &c, 9), 0);
    ck_assert_int_eq(state_of(m, n), META_COMMITTED);
    ck_assert_ptr_null(meta_object_get(m, s3));
    meta_destroy(m);
}
END_TEST

/* A composite's links are judged against the request's nsources sources alone, however long
 * the arrays behind them (a caller may fill fewer than it allocated); object 0, the first id
 * the store hands out, is a source and a link like any other. */
START_TEST(meta_stream_links_of_the_request_only)
{
    struct meta *m = mk(false, false);
    int64_t s0 = mk_so(m, 3, 0, 10), s1 = mk_so(m, 3, 10, 20), n = prep(m, 1, 0);
    int64_t src[2] = {s0, s1};
    enum meta_op ops[2] = {META_OP_KEEP_DATA, META_OP_KEEP_DATA};
    struct meta_link links[2] = {{.id = s0, .start = 0, .end = 10, .size = 90},
                                 {.id = s1, .start = 10, .end = 20, .size = 90}};
    struct meta_stream_commit c = {.id = n, .size = 180, .attributes = META_ATTR_TYPE_COMPOSITE,
                                   .stream = 3, .epoch = -1, .start = 0, .end = 20,
                                   .sources = src, .ops = ops, .nsources = 1, .links = links,
                                   .nlinks = 2};
    const struct meta_object *o;
    char key[OBJ_KEY_MAX];
    ck_assert_int_eq(s0, 0);
    /* s1 sits in the arrays past nsources: not a source, and not linked yet. */
    ck_assert_int_eq(meta_commit_stream(m, &c, 5), ERR_INVAL);
    ck_assert_int_eq(state_of(m, s0), META_COMMITTED);
    ck_assert_int_eq(state_of(m, s1), META_COMMITTED);
    ck_assert_int_eq(state_of(m, n), META_PREPARED);
    c.nsources = 2;
    ck_assert_int_eq(meta_commit_stream(m, &c, 5), 0);
    o = meta_object_get(m, n);
    ck_assert_int_eq(o->kind, META_KIND_COMPOSITE);
    ck_assert_uint_eq(o->nlinks, 2);
    ck_assert_int_eq(o->links[0].id, 0);
    ck_assert_ptr_null(meta_object_get(m, s0)); /* KEEP_DATA: its data lives on as a link */
    ck_assert_int_eq(obj_key(0, NS, key, sizeof key), 0);
    ck_assert_int_eq(meta_classify_key(m, key), META_KEY_LINKED);
    meta_destroy(m);
}
END_TEST

/* A composite's link id outside the ids the controller handed out (negative, or far past the next
 * id) is refused before it indexes anything, and the commit changes nothing. */
START_TEST(meta_stream_link_ids_out_of_range)
{
    struct meta *m = mk(false, false);
    int64_t s0 = mk_so(m, 3, 0, 10), n = prep(m, 1, 0);
    int64_t src[1] = {s0};
    enum meta_op ops[1] = {META_OP_KEEP_DATA};
    const int64_t bad[] = {-1, -1000000000000, INT64_C(1) << 40};
    struct meta_link links[2] = {{.id = s0, .start = 0, .end = 10, .size = 90},
                                 {.id = -1, .start = 10, .end = 20, .size = 90}};
    struct meta_stream_commit c = {.id = n, .size = 180, .attributes = META_ATTR_TYPE_COMPOSITE,
                                   .stream = 3, .epoch = -1, .start = 0, .end = 10,
                                   .sources = src, .ops = ops, .nsources = 1, .links = links,
                                   .nlinks = 2};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        links[1].id = bad[i];
        ck_assert_int_eq(meta_commit_stream(m, &c, 5), ERR_INVAL);
        ck_assert_int_eq(state_of(m, s0), META_COMMITTED);
        ck_assert_int_eq(state_of(m, n), META_PREPARED);
    }
    meta_destroy(m);
}
END_TEST

START_TEST(meta_sso_request_shape)
{
    struct meta *m = mk(false, false);
    int64_t a = prep(m, 3, 0), so1 = mk_so(m, 3, 0, 10);
    struct meta_range r = {1, 0, 10}, bad = {1, 10, 10};
    struct meta_so sos[2] = {{a + 1, 1, 2, 0, 10, 0}, {a + 1, 1, 2, 10, 20, 0}};
    struct meta_sso_commit c = {.id = -1, .order_id = -1, .ranges = &r, .nranges = 1};
    ck_assert_int_eq(meta_commit_sso(m, &c, 1), ERR_INVAL); /* ranges without an object */
    c.id = a;
    c.ranges = &bad;
    ck_assert_int_eq(meta_commit_sso(m, &c, 1), ERR_INVAL); /* empty range */
    c.ranges = &r;
    c.sos = sos;
    c.nsos = 2;
    ck_assert_int_eq(meta_commit_sso(m, &c, 1), ERR_INVAL); /* the same id twice */
    sos[1].id = a;
    ck_assert_int_eq(meta_commit_sso(m, &c, 1), ERR_INVAL); /* the SSO's own id */
    c.nsos = 1;
    sos[0].id = a;
    ck_assert_int_eq(meta_commit_sso(m, &c, 1), ERR_INVAL); /* the SSO's own id, first */
    sos[0].id = a + 1;
    c.nsos = 2;
    sos[1].id = a + 2;
    c.compacted = &so1;
    c.ncompacted = 1;
    ck_assert_int_eq(meta_commit_sso(m, &c, 1), ERR_NOTFOUND); /* a stream object is no SSO */
    c.ncompacted = 0;
    ck_assert_int_eq(meta_commit_sso(m, &c, 1), 0);
    ck_assert_int_eq(meta_stream_get(m, 2)->end, 20);
    meta_destroy(m);
}
END_TEST

START_TEST(meta_upload_to_deleted_stream)
{
    /* Data of a stream deleted meanwhile: no continuity check, its stream
     * objects are marked at once, the other streams advance. */
    struct meta *m = mk(false, false);
    int64_t a = prep(m, 2, 0);
    struct meta_range r[2] = {{1, 0, 10}, {2, 50, 60}};
    struct meta_so so = {a + 1, 1, 2, 60, 70, 0};
    struct meta_sso_commit c = {.id = a, .order_id = -1, .ranges = r, .nranges = 2, .sos = &so,
                                .nsos = 1};
    ck_assert_int_eq(meta_stream_delete(m, 2, 0), 0);
    ck_assert_int_eq(meta_commit_sso(m, &c, 1), 0);
    ck_assert_int_eq(meta_stream_get(m, 1)->end, 10);
    ck_assert_int_eq(meta_stream_get(m, 2)->end, 0);
    ck_assert_int_eq(state_of(m, a + 1), META_MARKED);
    ck_assert_int_eq(meta_object_get(m, a + 1)->mark_op, META_OP_DEEP_DELETE);
    meta_destroy(m);
}
END_TEST

START_TEST(meta_mark_keep_data_and_stream_errors)
{
    struct meta *m = mk(false, false);
    int64_t s = mk_so(m, 3, 0, 10);
    enum meta_op op = META_OP_KEEP_DATA;
    ck_assert_int_eq(meta_mark(m, &s, &op, 1, 1), 0);
    ck_assert_ptr_null(meta_object_get(m, s)); /* metadata dropped, bytes kept */
    ck_assert_int_eq(meta_stream_create(m, -1), ERR_INVAL);
    ck_assert_int_eq(meta_stream_create(m, 40), 0);
    ck_assert_int_eq(meta_stream_limit(m), 41);
    ck_assert_int_eq(meta_stream_delete(m, 39, 1), ERR_NOTFOUND); /* below the limit, never made */
    ck_assert_int_eq(meta_stream_delete(m, 40, 1), 0);
    ck_assert_int_eq(meta_trim(m, 40, 0), ERR_NOTFOUND);
    meta_destroy(m);
}
END_TEST

/* ---- Suite. ------------------------------------------------------------------------------------- */

static Suite *meta_suite(void)
{
    Suite *s = suite_create("meta");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, meta_create_checks_namespace);
    tcase_add_test(tc, meta_ids_from_zero_never_reused);
    tcase_add_test(tc, meta_id_none_switch);
    tcase_add_test(tc, meta_wal_commit_advances_ends);
    tcase_add_test(tc, meta_wal_commit_needs_continuity);
    tcase_add_test(tc, meta_commit_unknown_expired_redundant);
    tcase_add_test(tc, meta_commit_idempotent_by_request_id);
    tcase_add_test(tc, meta_sso_compaction_commit);
    tcase_add_test(tc, meta_sso_compaction_all_or_nothing);
    tcase_add_test(tc, meta_force_split_retry);
    tcase_add_test(tc, meta_force_split_with_outputs_retry);
    tcase_add_test(tc, meta_sso_output_of_deleted_stream);
    tcase_add_test(tc, meta_f23_deleted_stream_so_leaks);
    tcase_add_test(tc, meta_sso_replace_attributes);
    tcase_add_test(tc, meta_stream_physical_merge);
    tcase_add_test(tc, meta_classify_key_unallocated_id);
    tcase_add_test(tc, meta_stream_composite_links);
    tcase_add_test(tc, meta_stream_composite_relink);
    tcase_add_test(tc, meta_diff_sees_each_field_of_a_link);
    tcase_add_test(tc, meta_stream_keep_data_rules);
    tcase_add_test(tc, meta_stream_object_needs_offsets);
    tcase_add_test(tc, meta_stream_cleanup_retry);
    tcase_add_test(tc, meta_mark_all_or_nothing);
    tcase_add_test(tc, meta_remove_only_marked);
    tcase_add_test(tc, meta_marked_in_order_at_most_n);
    tcase_add_test(tc, meta_trim_and_delete);
    tcase_add_test(tc, meta_stream_table);
    tcase_add_test(tc, meta_ttl_expiry);
    tcase_add_test(tc, meta_f28_ttl_timer);
    tcase_add_test(tc, meta_ttl_expiry_at_most_n);
    tcase_add_test(tc, meta_classify_keys);
    tcase_add_test(tc, meta_survives_crash_queries);
    tcase_add_test(tc, meta_pieces_in_order);
    tcase_add_test(tc, meta_churn_keeps_queries_right);
    tcase_add_test(tc, meta_foreach_link_and_bad_links);
    tcase_add_test(tc, meta_stream_links_of_the_request_only);
    tcase_add_test(tc, meta_stream_link_ids_out_of_range);
    tcase_add_test(tc, meta_sso_request_shape);
    tcase_add_test(tc, meta_upload_to_deleted_stream);
    tcase_add_test(tc, meta_mark_keep_data_and_stream_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(meta_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
