/* store_ck.c - checksums over what the store keeps, for the multipart
 * checksums S3 has (fs3.h "Multipart checksums"): a part of an open upload,
 * the listed parts of an upload as one object, a part of a multipart object,
 * and the upload's metadata lines (where the HTTP front keeps the upload's
 * checksum algorithm and type).  A checksum is a function of the bytes, so
 * none is stored: each is computed when asked, over the segments (from a
 * shared buffer's memo when the range is one segment). */
#include "err.h"
#include "store_int.h"

#include <string.h>

static struct fs3_upload *fs3_ck_upload(struct fs3 *s, const char *key, const char *upload_id)
{
    size_t len = strlen(upload_id);
    struct fs3_upload *u = (struct fs3_upload *)fs3_tab_get(&s->uploads, upload_id, len,
                                                            fs3_hash(upload_id, len));
    return u && strcmp(u->key, key) == 0 ? u : NULL;
}

int fs3_upload_meta(struct fs3 *s, const char *key, const char *upload_id, const char **meta)
{
    struct fs3_upload *u = fs3_ck_upload(s, key, upload_id);
    if (!u)
        return ERR_NOTFOUND;
    *meta = u->meta ? u->meta : "";
    return 0;
}

int fs3_upload_part_cksum(struct fs3 *s, const char *key, const char *upload_id, int number,
                          enum s3_cksum alg, struct s3_checksum *out)
{
    struct fs3_upload *u = fs3_ck_upload(s, key, upload_id);
    struct fs3_part *p = u && number >= 1 && number < u->cap ? u->parts[number] : NULL;
    if (!p)
        return ERR_NOTFOUND;
    return fs3_segs_cksum(alg, &p->segs, 0, p->size, out);
}

int fs3_upload_cksum(struct fs3 *s, const char *key, const char *upload_id,
                     const struct s3_part *parts, size_t n, enum s3_cksum alg,
                     struct s3_checksum *out)
{
    struct fs3_upload *u = fs3_ck_upload(s, key, upload_id);
    struct fs3_segs all = {0};
    uint64_t size = 0;
    int rc = 0;
    if (!u)
        return ERR_NOTFOUND;
    for (size_t i = 0; !rc && i < n; i++) {
        int k = parts[i].number;
        struct fs3_part *p = k >= 1 && k < u->cap ? u->parts[k] : NULL;
        if (!p)
            rc = ERR_NOTFOUND;
        else if (!(rc = fs3_segs_slice(&all, &p->segs, 0, p->size)))
            size += p->size;
    }
    if (!rc)
        rc = fs3_segs_cksum(alg, &all, 0, size, out);
    fs3_segs_free(&all);
    return rc;
}

int fs3_object_part_cksum(struct fs3 *s, const char *key, int number, enum s3_cksum alg,
                          struct s3_checksum *out)
{
    struct fs3_obj *o = fs3_lookup(s, key, FS3_AS_OF_NOW);
    uint64_t start, len;
    uint32_t nparts;
    int rc = fs3_object_part(s, key, number, &start, &len, &nparts);
    if (rc)
        return rc;
    return fs3_segs_cksum(alg, &o->segs, start, start + len, out);
}
