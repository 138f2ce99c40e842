/*
 * store_int.h - internals shared by store.c (bucket, history, objects),
 * store_mpu.c (multipart uploads) and store_ops.c (the async s3_ops).
 * Not a contract: only fake_s3/store*.c include it.
 */
#ifndef S3SIM_STORE_INT_H
#define S3SIM_STORE_INT_H

#include "buf.h"
#include "fs3.h"

/* The head of anything kept in a hash table: its key and the key's hash. */
struct fs3_hnode {
    uint64_t hash; /* fs3_hash(key, klen) */
    uint32_t klen; /* bytes of key, without the NUL */
    char *key;     /* NUL-terminated, owned by the item (usually inline) */
};

/* An open-addressing table (linear probing) of hnode pointers. */
struct fs3_tab {
    struct fs3_hnode **slots; /* cap entries, NULL = empty */
    size_t cap;               /* a power of two, or 0 */
    size_t n;                 /* used slots */
};

/* Stored bytes are held by reference (buf.h), never copied between the
 * request, the part and the completed object: a run of bytes [p, p+len)
 * within a shared buffer b, of which the holder owns one reference.  A
 * shared buffer is immutable (buf.h), so the bytes never change under the
 * store, and a checksum the client took over them stays reusable. */
struct fs3_seg {
    struct buf *b;
    const uint8_t *p;
    uint64_t len;
};

/* An object's or a part's bytes: segments in order. */
struct fs3_segs {
    struct fs3_seg *v;
    uint32_t n, cap;
};

/* An object's bytes and lazily computed ETag. */
struct fs3_obj {
    uint64_t size;        /* bytes in segs */
    uint64_t *part_sizes; /* multipart: each part's size (malloc'ed), else NULL */
    uint32_t nparts;      /* multipart: parts, else 0 */
    char etag[S3_ETAG_MAX]; /* "" until computed */
    char *meta;           /* metadata lines (malloc'ed), or NULL */
    int64_t mtime;        /* when this version took effect (fs3_set) */
    struct fs3_segs segs; /* the bytes */
};

/* A superseded version of a key (stale view history). */
struct fs3_ver {
    struct fs3_ver *next; /* the next older version */
    int64_t t;            /* when this version took effect */
    struct fs3_obj *obj;  /* NULL: the key was absent from t on */
};

/* One key of the bucket (or a tombstone kept for the history). */
struct fs3_ent {
    struct fs3_hnode h;   /* key: the object key */
    struct fs3_obj *obj;  /* current version, NULL = deleted */
    int64_t mtime;        /* when the current version took effect */
    struct fs3_ver *hist; /* superseded versions, newest first */
    uint32_t refs;        /* history log records that name this entry */
    char keybuf[];        /* the key */
};

/* A history log record: at time t a version of e was superseded. */
struct fs3_hrec {
    int64_t t;
    struct fs3_ent *e;
};

struct fs3_part {
    uint64_t size;
    bool md5_known;           /* md5 holds the part's MD5 */
    uint8_t md5[16];
    struct fs3_segs segs;     /* the bytes */
};

struct fs3_upload {
    struct fs3_hnode h;       /* key: the upload id */
    char id[32];              /* the upload id */
    char *key;                /* the object key (malloc'ed) */
    int64_t created_us;
    char *meta;               /* the object's metadata lines (malloc'ed), or NULL */
    struct fs3_part **parts;  /* index = part number, NULL = not uploaded */
    int cap;                  /* entries in parts */
};

/* A completed upload, remembered for a repeated Complete (fs3_config). */
#define FS3_DONE_MAX 1024
struct fs3_done {
    char id[32];
    char *key; /* malloc'ed; NULL = a free slot */
    char etag[S3_ETAG_MAX];
};

struct fs3_call; /* store_ops.c */

struct fs3 {
    struct env *env;
    struct fs3_config cfg;
    struct s3_ops ops;        /* fs3_ops() */

    struct fs3_tab keys;      /* struct fs3_ent */
    struct fs3_ent **sorted;  /* every entry, by key, when sorted_ok */
    size_t nsorted;
    bool sorted_ok;
    uint64_t nkeys, nbytes;   /* live keys and their bytes */

    struct fs3_hrec *hlog;    /* history log, oldest first from hhead */
    size_t hhead, hlen, hcap;

    struct fs3_tab uploads;   /* struct fs3_upload */
    uint64_t upload_seq;      /* upload ids */
    struct fs3_done *done;    /* the last FS3_DONE_MAX completions, a ring (or NULL) */
    size_t done_next;
    env_id lifecycle_timer;   /* the lifecycle rule's next pass (0: none armed) */
    int64_t lifecycle_at;     /* when it fires */
    struct fs3_life *life;    /* rules set over HTTP (store_life.c), or NULL */

    struct fs3_verset *ver;   /* versioning and object lock (store_ver.c); NULL:
                                 never configured, the plain path */

    struct fs3_call *calls;   /* pending calls of fs3_ops() */
    struct fs3_call *free_calls;
    uint64_t inflight;
};

/* store.c */
uint64_t fs3_hash(const char *key, size_t klen);
struct fs3_hnode *fs3_tab_get(const struct fs3_tab *t, const char *key, size_t klen, uint64_t h);
int fs3_tab_put(struct fs3_tab *t, struct fs3_hnode *node);
void fs3_tab_del(struct fs3_tab *t, struct fs3_hnode *node);
void fs3_tab_free(struct fs3_tab *t);
struct fs3_obj *fs3_obj_new(uint64_t size); /* segs empty: the caller fills them */
/* Segments (store.c).  take: the bytes [p, p+len), by reference when they
 * lie in b (the request's shared buffer) and b wastes little, else copied
 * into a new buffer.  slice: references to [start, end) of src.  Both append
 * to dst and return 0 or ERR_NOMEM (dst unchanged).  copy_out: the bytes
 * [start, end) into dst.  cksum: the checksum of [start, end), reused from
 * the buffer's memo when the range is one segment (s3_checksum_buf). */
int fs3_segs_take(struct fs3_segs *dst, struct buf *b, const uint8_t *p, size_t len);
/* A put's or a part's body (req->segs, or req->body), as fs3_segs_take
 * takes each piece; on failure dst is as it was. */
int fs3_segs_take_req(struct fs3_segs *dst, const struct s3_req *req);
int fs3_segs_slice(struct fs3_segs *dst, const struct fs3_segs *src, uint64_t start,
                   uint64_t end);
void fs3_segs_copy_out(const struct fs3_segs *s, uint64_t start, uint64_t end, uint8_t *dst);
int fs3_segs_cksum(enum s3_cksum alg, const struct fs3_segs *s, uint64_t start, uint64_t end,
                   struct s3_checksum *out);
void fs3_segs_free(struct fs3_segs *s);
void fs3_obj_free(struct fs3_obj *o);
void fs3_md5(const uint8_t *buf, size_t len, uint8_t out[16]);
const char *fs3_obj_etag(struct fs3_obj *o); /* computed once, then cached */
void fs3_etag_hex(const uint8_t md5[16], uint32_t nparts, char out[S3_ETAG_MAX]);
int fs3_set(struct fs3 *s, const char *key, size_t klen, struct fs3_obj *obj);
struct fs3_obj *fs3_lookup(struct fs3 *s, const char *key, int64_t as_of);
void fs3_res_error(struct s3_result *res, int status, enum s3_code code, const char *msg);
/* The write conditions of req (s3.h: if_match, if_none_match) against the
 * key's current object; since_us >= 0: a write or delete of the key after
 * it is a conflict (409).  1 when they fail (res holds the answer). */
/* A malloc'ed copy of req's metadata in *out (NULL when none); 1 when
 * res holds the answer (too large), ERR_NOMEM, or 0. */
int fs3_meta_take(const struct s3_req *req, char **out, struct s3_result *res);
/* Whether a multipart upload of key is open (store_mpu.c). */
bool fs3_upload_open_for(struct fs3 *s, const char *key);
int fs3_write_conditions(struct fs3 *s, const struct s3_req *req, int64_t since_us,
                         struct s3_result *res);
int fs3_verify_cksum(const struct s3_req *req, const uint8_t *buf, size_t len,
                     struct s3_result *res, uint8_t md5_out[16], bool *md5_known);

/* The plain operations, with no versioning (store.c): fs3_exec without its
 * cleanup on failure; a get or head answered from the given version (NULL:
 * 404 NoSuchKey). */
int fs3_exec_plain(struct fs3 *s, const struct s3_req *req, int64_t as_of_us,
                   struct s3_result *res);
int fs3_get_obj(const struct s3_req *req, struct fs3_obj *o, struct s3_result *res);
int fs3_head_obj(const struct s3_req *req, struct fs3_obj *o, struct s3_result *res);

/* store_ver.c: fs3_exec of a versioned bucket, or of a request naming a
 * version; freeing the versions. */
struct fs3_verset;
int fs3_ver_exec(struct fs3 *s, const struct s3_req *req, int64_t as_of_us,
                 struct s3_result *res);
void fs3_ver_free(struct fs3 *s);

/* store_mpu.c */
int fs3_exec_mpu(struct fs3 *s, const struct s3_req *req, struct s3_result *res);
void fs3_upload_free(struct fs3_upload *u);
void fs3_upload_drop(struct fs3 *s, struct fs3_upload *u); /* out of the table, freed */

/* store_life.c: the bucket's lifecycle rules (the s3.lifecycle.abort.incomplete
 * knob's rule and those set over HTTP): arms the next pass (after a new
 * upload or a change of the rules); frees the rules. */
struct fs3_life;
void fs3_lifecycle_arm(struct fs3 *s);
void fs3_lifecycle_free(struct fs3 *s);
/* store_ver.c: a lifecycle expiration of key's current version (a delete
 * marker when versioning is on, else the object goes). */
int fs3_ver_expire(struct fs3 *s, const char *key);

/* store_ops.c */
void fs3_ops_init(struct fs3 *s);
void fs3_calls_free(struct fs3 *s);

#endif /* S3SIM_STORE_INT_H */
