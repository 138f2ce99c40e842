/*
 * buf.h - shared, reference-counted byte buffers for the data path (payload
 * bytes the engine uploads and the fake S3 keeps).  Not to be confused with
 * base_buf.h, the growable text/byte builder.
 *
 * Why: an uploaded byte used to be copied at every hand-over (writer part ->
 * request -> store part -> completed object) and checksummed twice (client
 * and store).  A struct buf lets the holders share one copy of the bytes and
 * lets a checksum computed over bytes that have not changed since be reused.
 *
 * References.  buf_new()/buf_adopt() return a buffer with one reference,
 * owned by the caller.  buf_ref() adds one for a new holder; each holder
 * drops its own with buf_unref(), the last one frees the bytes.  A holder
 * that keeps a pointer into the bytes (b->p) keeps a reference for as long.
 * A request that only borrows a buffer for the duration of a call (s3.h's
 * s3_req.body_buf) takes no reference; whoever keeps it past the call
 * (the fake S3 storing a part) takes one.
 *
 * When bytes may change.  Only while the caller holds the only reference
 * (refs == 1): a shared buffer is immutable, its p never moves and its bytes
 * never change, so a holder (the fake S3 keeping a part) may rely on them.
 * Every write goes through this module: buf_append(), buf_write(), or
 * buf_wbytes() (which hands out a pointer to write through); each refuses a
 * shared buffer and bumps the buffer's write generation, gen.  A request
 * borrows the buffer without a reference, so its owner may still write (a
 * buffer recycled while an attempt is in flight, field bug F13's model): the
 * new gen is what keeps a checksum taken before from being reused.  Writing
 * through any other pointer is a contract violation the module cannot see:
 * never do it.
 *
 * Memo (the checksum cache).  buf_memo_put() records a small value (a digest,
 * up to BUF_MEMO_MAX bytes) computed over bytes [off, off+len) at the current
 * gen, under a caller-chosen kind (s3.c uses the checksum algorithm).
 * buf_memo_get() returns it only when kind, off and len match and gen has not
 * moved since: any write after the value was taken, anywhere in the buffer,
 * makes the memo miss, so a stale value is never returned.  buf_wbytes()
 * bumps gen when it hands out the pointer; the writer finishes writing before
 * anybody computes a memo over the buffer again (one thread).
 *
 * The pool.  buf_take() is for large buffers filled once and kept (the
 * writer's parts, the WAL's objects).  When the last reference to such a
 * buffer is dropped its allocation goes to a small pool (up to BUF_POOL_N of
 * BUF_POOL_KEEP bytes or more, their pages still mapped) and the next
 * buf_take reuses it (a mapping of malloc's grown by mremap, nothing copied;
 * a heap block too small is freed and a new one malloc'ed, since realloc
 * would copy its garbage bytes when it cannot grow in place).  Why: a buffer past
 * malloc's mmap threshold (32 MiB) is a fresh mapping costing a page fault
 * for every page written: a third of scenarios/bench/steady-24h.scn's CPU
 * when every writer part was one.  With the pool empty buf_take is malloc, so
 * free heap memory is reused as before.  A buffer from the pool is like a new
 * one: len 0, no memo, a gen never used before; its bytes are garbage to be
 * overwritten.  The pool is shared by every thread (a mutex); it changes
 * where bytes live, never what a run does; malloc's statistics still count
 * its buffers.  Under AddressSanitizer it is off, so that a use after the
 * last unref is caught.
 *
 * Pieces.  A holder may keep a piece of a buffer (a reference and a range):
 * a writer's part made of the blocks a GET shared (s3.h s3_req.segs), the
 * fake S3 keeping them.  stored says a store keeps a piece already, so that
 * keeping another piece of it holds no buffer more (fake_s3/store.c).
 *
 * Pins (borrowed, pinned).  A request borrows its body without a reference,
 * so that its owner may reuse the bytes once the call is answered, as
 * AutoMQ's pooled ByteBuf is released and recycled after a successful
 * retry.  An attempt the client gave up on may still be travelling (the
 * fake's late= fault, field bug F13): it reads the body when it lands, after
 * the owner may have reused the buffer.  buf_pin() keeps the buffer's memory
 * (the struct and an allocation at p) from being freed until buf_unpin():
 * the last buf_unref of a pinned buffer frees nothing (nor pools it) and
 * buf_unpin frees it then.  A pin is not a reference: the owner still holds
 * the only one, may write, grow or trim (p may move: a pinned reader keeps
 * an offset and reads through b->p when it lands, within b->len), and may
 * recycle it.  A store keeping a body copies a pinned buffer instead of
 * sharing it (fake_s3/store.c), since its owner may still rewrite it.
 *
 * The recycler.  struct buf_recycler is one owner's pool of its released
 * buffers (the engine's writers: docs/engine.md "Buffers"), as a pooled
 * allocator hands a released buffer's memory to the next allocation.
 * buf_recycle() keeps a buffer its caller holds alone (refs == 1), else
 * drops the caller's reference; buf_recycled() hands the newest one back
 * like buf_take (len 0, no memo, a new gen) or NULL.  Unlike the process
 * pool above it belongs to one world, so which buffer is reused is part of
 * the run (deterministic), and it works under AddressSanitizer too.
 *
 * Threading: a buffer is used by one thread at a time; the pool is locked.
 */
#ifndef S3SIM_BUF_H
#define S3SIM_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BUF_MEMO_MAX 32 /* bytes of a memo value (a SHA-256) */
#define BUF_MEMO_N 2    /* memo entries kept per buffer (the oldest is replaced) */
#define BUF_POOL_KEEP ((size_t)1 << 20) /* smallest mapping worth keeping (trimmed parts) */
#define BUF_POOL_N 3                    /* mappings the pool keeps */

struct buf_memo {
    uint64_t gen;   /* the buffer's gen when the value was taken */
    size_t off, len; /* the bytes it covers */
    int kind;       /* the caller's tag; 0 = empty entry */
    uint8_t n;      /* bytes in v */
    uint8_t v[BUF_MEMO_MAX];
};

struct buf {
    uint8_t *p;     /* cap bytes (NULL while cap is 0); read freely, write via the API */
    size_t len;     /* bytes written so far */
    size_t cap;     /* bytes allocated at p */
    uint32_t refs;  /* holders */
    uint32_t pins;  /* late readers keeping the memory alive (buf_pin) */
    uint64_t gen;   /* write generation: bumped by every write */
    unsigned memo_next; /* the entry buf_memo_put replaces next */
    bool pooled;    /* from buf_take: its allocation may go to the pool */
    bool stored;    /* a store (the fake S3) keeps a slice of it: a holder of
                       another slice adds no buffer to what it holds */
    struct buf_memo memo[BUF_MEMO_N];
};

/* A buffer of cap bytes (len 0, one reference), or NULL when out of memory. */
struct buf *buf_new(size_t cap);

/* A buffer of cap bytes at least, from the pool when it holds one (see
 * above), else new; len 0, one reference; NULL when out of memory. */
struct buf *buf_take(size_t cap);

/* Frees the pool's buffers (tests; a program need not call it). */
void buf_pool_drain(void);

/* Buffers in the pool now, and buf_take calls it served since the start. */
unsigned buf_pool_len(void);
uint64_t buf_pool_hits(void);

/* What the pool tells the allocation seam of the simulator (sim/alloc.h, its
 * leak gate), which defines them; buf.c has weak no-ops for programs
 * without it.  A block put in the pool belongs to no run any more (the pool
 * outlives runs on purpose); a block taken out of it belongs to the taker's
 * run from then on, as if it had just allocated size bytes. */
void buf_seam_parked(const void *p);
void buf_seam_adopted(const void *p, size_t size);

/* A buffer owning p (malloc'ed, cap bytes, the first len written), one
 * reference.  On NULL (out of memory) p is still the caller's. */
struct buf *buf_adopt(uint8_t *p, size_t len, size_t cap);

/* Adds a reference and returns b. */
struct buf *buf_ref(struct buf *b);

/* Drops a reference; the last one frees the buffer.  NULL is a no-op. */
void buf_unref(struct buf *b);

/* More than one holder. */
static inline bool buf_shared(const struct buf *b)
{
    return b->refs > 1;
}

/* A pin: b's memory stays allocated until the matching buf_unpin, even
 * past its last buf_unref (see "Pins" above).  Not a reference. */
void buf_pin(struct buf *b);

/* Drops a pin; the last one frees a buffer whose references are all gone.
 * NULL is a no-op. */
void buf_unpin(struct buf *b);

/* Copies [off, off+n) of b's bytes as they are now into dst; bytes past
 * b->len (the owner wrote fewer since) are zeros.  For a pinned reader. */
void buf_read_now(const struct buf *b, size_t off, size_t n, uint8_t *dst);

#define BUF_RECYCLE_N 2 /* buffers a recycler keeps */

struct buf_recycler {
    struct buf *v[BUF_RECYCLE_N];
    unsigned n;
    uint64_t reused; /* buffers buf_recycled handed back */
};

/* Keeps b (the caller's reference) for reuse when the caller is its only
 * holder and r has room, else drops the reference.  NULL b is a no-op. */
void buf_recycle(struct buf_recycler *r, struct buf *b);

/* The newest kept buffer, reset as buf_take's (len 0, one reference, no
 * memo, a gen never used before, pooled), or NULL when r keeps none. */
struct buf *buf_recycled(struct buf_recycler *r);

/* Drops every kept buffer. */
void buf_recycler_drain(struct buf_recycler *r);

/* Makes cap at least n (exactly n when it grows).  Sole holder only.
 * Returns 0, -1 when shared, -2 when out of memory (b unchanged). */
int buf_reserve(struct buf *b, size_t n);

/* Gives back the allocation past len (realloc in place).  Sole holder only;
 * a no-op otherwise, or when it fails. */
void buf_trim(struct buf *b);

/* Appends n bytes of src, growing to exactly what is needed when cap is
 * short.  Sole holder only.  Returns 0, or as buf_reserve. */
int buf_append(struct buf *b, const void *src, size_t n);

/* Copies n bytes of src to [off, off+n), which must lie within cap; len
 * becomes at least off+n.  Sole holder only.  Returns 0, or -1 (shared, or
 * out of cap: nothing written). */
int buf_write(struct buf *b, size_t off, const void *src, size_t n);

/* A pointer to write [off, off+n) through (within cap; len becomes at least
 * off+n), gen bumped; NULL when shared or out of cap. */
uint8_t *buf_wbytes(struct buf *b, size_t off, size_t n);

/* The memo: see above.  buf_memo_get copies the value into out (outcap
 * bytes at least) and returns its length, or 0 when there is none valid. */
size_t buf_memo_get(const struct buf *b, int kind, size_t off, size_t len, void *out,
                    size_t outcap);
void buf_memo_put(struct buf *b, int kind, size_t off, size_t len, const void *v, size_t n);

/* Whether [p, p+n) lies within b's written bytes; *off gets p's offset. */
bool buf_holds(const struct buf *b, const void *p, size_t n, size_t *off);

#endif /* S3SIM_BUF_H */
