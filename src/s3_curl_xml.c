/* s3_curl_xml.c - the S3 XML of the libcurl client: answers parsed with expat,
 * request bodies written (see s3_curl.h). */
#include "base_buf.h"
#include "err.h"
#include "s3_curl.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SX_DEPTH 8
#define SX_TEXT_MAX (6 * S3_MAX_KEY + 64)

struct sx {
    XML_Parser p;
    enum s3_op op;
    struct s3_result *res;
    const char *const *keys;
    size_t nkeys;
    char el[SX_DEPTH][40]; /* local element names by depth */
    int depth;
    char text[SX_TEXT_MAX];
    size_t tlen;
    bool overflow;
    int rc;
    size_t cap;                   /* entries allocated */
    char del_key[S3_MAX_KEY + 1]; /* DeleteResult: the current entry's key */
    enum s3_code del_code;
    char next_key[S3_MAX_KEY + 1];   /* ListMultipartUploadsResult: NextKeyMarker */
    char next_id[S3_UPLOAD_ID_MAX];  /* NextUploadIdMarker */
};

static const char *sx_local(const char *name)
{
    const char *c = strrchr(name, ' ');
    return c ? c + 1 : name;
}

static void sx_fail(struct sx *x, int rc)
{
    if (!x->rc)
        x->rc = rc;
    XML_StopParser(x->p, XML_FALSE);
}

static void XMLCALL sx_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    struct sx *x = ud;
    (void)attrs;
    if (x->depth < SX_DEPTH)
        snprintf(x->el[x->depth], sizeof x->el[0], "%s", sx_local(name));
    x->depth++;
    x->tlen = 0;
    x->text[0] = '\0';
    x->overflow = false;
    if (x->depth == 2 && (strcmp(x->el[1], "Contents") == 0 ||
                          (strcmp(x->el[1], "Upload") == 0 &&
                           strcmp(x->el[0], "ListMultipartUploadsResult") == 0))) {
        struct s3_result *r = x->res;
        if (r->nentries == x->cap) {
            size_t cap = x->cap ? x->cap * 2 : 64;
            struct s3_list_entry *e = realloc(r->entries, cap * sizeof *e);
            if (!e) {
                sx_fail(x, ERR_NOMEM);
                return;
            }
            r->entries = e;
            x->cap = cap;
        }
        memset(&r->entries[r->nentries++], 0, sizeof r->entries[0]);
    }
    if (x->depth == 2) {
        x->del_key[0] = '\0';
        x->del_code = S3E_NONE;
    }
}

static void XMLCALL sx_text(void *ud, const XML_Char *s, int len)
{
    struct sx *x = ud;
    if (x->tlen + (size_t)len >= sizeof x->text) {
        x->overflow = true;
        return;
    }
    memcpy(x->text + x->tlen, s, (size_t)len);
    x->tlen += (size_t)len;
    x->text[x->tlen] = '\0';
}

static void sx_copy(char *dst, size_t dsz, const struct sx *x)
{
    /* Truncates silently, by design: the fields are bounded (ETag, code). */
    size_t n = strlen(x->text);
    if (dsz == 0)
        return;
    if (n >= dsz)
        n = dsz - 1;
    memcpy(dst, x->text, n);
    dst[n] = '\0';
}

/* Marks the first not yet reported request key equal to key with code. */
static void sx_mark_deleted(struct sx *x, const char *key, enum s3_code code)
{
    struct s3_result *r = x->res;
    for (size_t i = 0; i < r->ndeleted; i++) {
        if (r->deleted[i].code == S3E_OTHER && strcmp(r->deleted[i].key, key) == 0) {
            r->deleted[i].code = code;
            return;
        }
    }
}

static void sx_list_field(struct sx *x, const char *el)
{
    struct s3_list_entry *e = &x->res->entries[x->res->nentries - 1];
    if (strcmp(el, "Key") == 0 && !e->key) {
        e->key = strdup(x->text);
        if (!e->key)
            sx_fail(x, ERR_NOMEM);
    } else if (strcmp(el, "Size") == 0) {
        e->size = strtoull(x->text, NULL, 10);
    } else if (strcmp(el, "ETag") == 0) {
        sx_copy(e->etag, sizeof e->etag, x);
    }
}

/* ListMultipartUploadsResult: its page fields and the Upload entries. */
static void sx_uploads_field(struct sx *x, const char *el)
{
    struct s3_result *r = x->res;
    if (x->depth == 2) {
        if (strcmp(el, "IsTruncated") == 0)
            r->truncated = strcmp(x->text, "true") == 0;
        else if (strcmp(el, "NextKeyMarker") == 0)
            sx_copy(x->next_key, sizeof x->next_key, x);
        else if (strcmp(el, "NextUploadIdMarker") == 0)
            sx_copy(x->next_id, sizeof x->next_id, x);
        return;
    }
    if (x->depth != 3 || strcmp(x->el[1], "Upload") != 0 || r->nentries == 0)
        return;
    struct s3_list_entry *e = &r->entries[r->nentries - 1];
    char **dst = strcmp(el, "Key") == 0 ? &e->key : strcmp(el, "UploadId") == 0 ? &e->upload_id
                                                                                : NULL;
    if (dst && !*dst && !(*dst = strdup(x->text)))
        sx_fail(x, ERR_NOMEM);
}

/* The opaque next token of list-uploads: "<upload-id-marker>\n<key-marker>"
 * (s3_curl.c splits it at the first newline). */
static int sx_uploads_token(struct sx *x)
{
    struct s3_result *r = x->res;
    int n;
    if (!r->truncated)
        return 0;
    n = snprintf(r->next_token, sizeof r->next_token, "%s\n%s", x->next_id, x->next_key);
    if (n < 0 || (size_t)n >= sizeof r->next_token || strchr(x->next_id, '\n'))
        return ERR_LIMIT;
    return 0;
}

static void XMLCALL sx_end(void *ud, const XML_Char *name)
{
    struct sx *x = ud;
    const char *el = sx_local(name), *root = x->el[0];
    struct s3_result *r = x->res;
    if (x->overflow) {
        sx_fail(x, ERR_PARSE);
        return;
    }
    if (x->depth == 2 && strcmp(root, "Error") == 0) {
        if (strcmp(el, "Code") == 0)
            r->code = s3_code_parse(x->text);
        else if (strcmp(el, "Message") == 0)
            sx_copy(r->message, sizeof r->message, x);
    } else if (x->depth == 2 && strcmp(root, "ListBucketResult") == 0) {
        if (strcmp(el, "IsTruncated") == 0)
            r->truncated = strcmp(x->text, "true") == 0;
        else if (strcmp(el, "NextContinuationToken") == 0)
            sx_copy(r->next_token, sizeof r->next_token, x);
    } else if (x->depth == 3 && strcmp(root, "ListBucketResult") == 0 &&
               strcmp(x->el[1], "Contents") == 0 && r->nentries > 0) {
        sx_list_field(x, el);
    } else if (strcmp(root, "ListMultipartUploadsResult") == 0) {
        sx_uploads_field(x, el);
    } else if (x->depth == 2 && strcmp(el, "UploadId") == 0) {
        sx_copy(r->upload_id, sizeof r->upload_id, x);
    } else if (x->depth == 2 && strcmp(el, "ETag") == 0) {
        sx_copy(r->etag, sizeof r->etag, x);
    } else if (x->depth == 3 && strcmp(root, "DeleteResult") == 0) {
        if (strcmp(el, "Key") == 0)
            sx_copy(x->del_key, sizeof x->del_key, x);
        else if (strcmp(el, "Code") == 0)
            x->del_code = s3_code_parse(x->text);
    } else if (x->depth == 2 && strcmp(root, "DeleteResult") == 0) {
        bool ok = strcmp(el, "Deleted") == 0;
        if (ok || strcmp(el, "Error") == 0)
            sx_mark_deleted(x, x->del_key,
                            ok ? S3E_NONE : (x->del_code ? x->del_code : S3E_INTERNAL_ERROR));
    }
    x->depth--;
}

/* DeleteResult: one entry per request key, S3E_OTHER until reported. */
static int sx_prepare_deleted(struct sx *x)
{
    struct s3_result *r = x->res;
    if (x->op != S3_OP_DELETE_MANY || !x->nkeys)
        return 0;
    r->deleted = calloc(x->nkeys, sizeof *r->deleted);
    if (!r->deleted)
        return ERR_NOMEM;
    r->ndeleted = x->nkeys;
    for (size_t i = 0; i < x->nkeys; i++)
        r->deleted[i] = (struct s3_delete_entry){.key = x->keys[i], .code = S3E_OTHER};
    return 0;
}

int s3_curl_parse(enum s3_op op, const char *body, size_t len, const char *const *keys,
                  size_t nkeys, struct s3_result *res)
{
    struct sx *x = calloc(1, sizeof *x);
    int rc;
    if (!x)
        return ERR_NOMEM;
    *x = (struct sx){.op = op, .res = res, .keys = keys, .nkeys = nkeys};
    rc = sx_prepare_deleted(x);
    x->p = rc ? NULL : XML_ParserCreateNS(NULL, ' ');
    if (!rc && !x->p)
        rc = ERR_NOMEM;
    if (!rc) {
        XML_SetUserData(x->p, x);
        XML_SetElementHandler(x->p, sx_start, sx_end);
        XML_SetCharacterDataHandler(x->p, sx_text);
        if (len > INT32_MAX || XML_Parse(x->p, body, (int)len, XML_TRUE) != XML_STATUS_OK)
            rc = x->rc ? x->rc : ERR_PARSE;
        else
            rc = x->rc;
        XML_ParserFree(x->p);
    }
    if (!rc && op == S3_OP_LIST_UPLOADS)
        rc = sx_uploads_token(x);
    /* Keys the answer did not mention count as failed (InternalError). */
    for (size_t i = 0; i < res->ndeleted; i++)
        if (res->deleted[i].code == S3E_OTHER)
            res->deleted[i].code = S3E_INTERNAL_ERROR;
    free(x);
    return rc;
}

/* --- request bodies ---------------------------------------------------------- */

static void sx_put_escaped(struct base_buf *o, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': base_buf_adds(o, "&amp;"); break;
        case '<': base_buf_adds(o, "&lt;"); break;
        case '>': base_buf_adds(o, "&gt;"); break;
        case '"': base_buf_adds(o, "&quot;"); break;
        case '\'': base_buf_adds(o, "&apos;"); break;
        default:
            if ((unsigned char)*s < 0x20) {
                char e[8];
                snprintf(e, sizeof e, "&#%u;", (unsigned char)*s);
                base_buf_adds(o, e);
            } else {
                base_buf_add(o, s, 1);
            }
        }
    }
}

char *s3_curl_delete_xml(const char *const *keys, size_t nkeys, size_t *len)
{
    struct base_buf o = {0};
    base_buf_adds(&o,
                  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Delete xmlns=\"http://s3.amazonaws"
                  ".com/doc/2006-03-01/\"><Quiet>false</Quiet>");
    for (size_t i = 0; i < nkeys; i++) {
        base_buf_adds(&o, "<Object><Key>");
        sx_put_escaped(&o, keys[i]);
        base_buf_adds(&o, "</Key></Object>");
    }
    base_buf_adds(&o, "</Delete>");
    return base_buf_take(&o, len);
}

static void sx_put_b64(struct base_buf *o, const uint8_t *v, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t w = (uint32_t)v[i] << 16 | (i + 1 < n ? (uint32_t)v[i + 1] << 8 : 0) |
                     (i + 2 < n ? v[i + 2] : 0);
        char q[4] = {t[w >> 18 & 63], t[w >> 12 & 63], i + 1 < n ? t[w >> 6 & 63] : '=',
                     i + 2 < n ? t[w & 63] : '='};
        base_buf_add(o, q, 4);
    }
}

char *s3_curl_complete_xml(const struct s3_part *parts, size_t nparts, size_t *len)
{
    struct base_buf o = {0};
    char num[32];
    base_buf_adds(&o,
                  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUpload xmlns=\""
                  "http://s3.amazonaws.com/doc/2006-03-01/\">");
    for (size_t i = 0; i < nparts; i++) {
        snprintf(num, sizeof num, "%d", parts[i].number);
        base_buf_adds(&o, "<Part><PartNumber>");
        base_buf_adds(&o, num);
        base_buf_adds(&o, "</PartNumber>");
        if (parts[i].etag[0]) {
            base_buf_adds(&o, "<ETag>");
            sx_put_escaped(&o, parts[i].etag);
            base_buf_adds(&o, "</ETag>");
        }
        const struct s3_checksum *ck = &parts[i].cksum;
        if (ck->alg > S3_CKSUM_MD5 && ck->len) {
            base_buf_adds(&o, "<Checksum");
            base_buf_adds(&o, s3_cksum_name(ck->alg));
            base_buf_adds(&o, ">");
            sx_put_b64(&o, ck->value, ck->len);
            base_buf_adds(&o, "</Checksum");
            base_buf_adds(&o, s3_cksum_name(ck->alg));
            base_buf_adds(&o, ">");
        }
        base_buf_adds(&o, "</Part>");
    }
    base_buf_adds(&o, "</CompleteMultipartUpload>");
    return base_buf_take(&o, len);
}
