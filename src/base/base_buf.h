/*
 * base_buf.h - the tree's one growable byte buffer, with an optional size cap
 * and a sticky failure flag (in the manner of curl's dynbuf).
 *
 * Users: the fake S3's HTTP front (request bodies under a cap, XML answers,
 * headers), the engine's SigV4 signer (canonical requests, query strings) and
 * its libcurl client (request bodies in XML).
 *
 * A zeroed struct is an empty buffer without a cap: `struct base_buf b = {0};`.
 * Set max before the first add to cap it.  The bytes are always followed by a
 * NUL (not counted in len), so a buffer of text is a C string once p is set.
 *
 * Failure is sticky: an add that would take len past max (toobig), that
 * would overflow size_t, or that cannot allocate (out of memory) sets failed,
 * keeps what was added before, and every later add does nothing and returns
 * false.  So a writer may make many adds and test once, at the end
 * (base_buf_take() or the failed flag).
 *
 * Ownership: the buffer owns p until base_buf_take() hands it to the caller
 * or base_buf_free() frees it.  Not thread-safe.
 */
#ifndef S3SIM_BASE_BUF_H
#define S3SIM_BASE_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct base_buf {
    char *p;     /* the bytes and a NUL; NULL until the first add that allocates */
    size_t len;  /* bytes held, the NUL not counted */
    size_t cap;  /* bytes allocated at p */
    size_t max;  /* the cap on len; 0 = no cap */
    bool failed; /* an add failed: later adds do nothing */
    bool toobig; /* ... and the failure was the cap (or a size_t overflow) */
};

/* Appends n bytes of src (src may be NULL when n is 0).  Returns true, or
 * false when the buffer has failed (now or before). */
bool base_buf_add(struct base_buf *b, const void *src, size_t n);

/* Appends the C string s. */
bool base_buf_adds(struct base_buf *b, const char *s);

/* Appends printf-formatted text, of any length. */
bool base_buf_addf(struct base_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Ends the buffer and hands its bytes over.  On success returns a string the
 * caller now owns (free() it; "" when nothing was added) and its length in
 * *len (len may be NULL).  When the buffer has failed, or the empty string
 * cannot be allocated, frees the bytes and returns NULL.  Either way the
 * buffer is left empty and unfailed, its max kept, ready for reuse. */
char *base_buf_take(struct base_buf *b, size_t *len);

/* Frees the bytes and leaves the buffer empty and unfailed, its max kept. */
void base_buf_free(struct base_buf *b);

#endif /* S3SIM_BASE_BUF_H */
