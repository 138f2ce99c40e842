/* http_xml.c - XML out (escaping into a buffer) and in (expat) for the HTTP front. */
#include "err.h"
#include "http_int.h"

#include <expat.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* --- XML escaping into a buffer -------------------------------------------- */

void hr_buf_add_xml(struct base_buf *b, const char *s, bool url)
{
    static const char d[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
        if (url && !plain) {
            char e[3] = {'%', d[c >> 4], d[c & 15]};
            base_buf_add(b, e, 3);
        } else if (c == '&') {
            base_buf_adds(b, "&amp;");
        } else if (c == '<') {
            base_buf_adds(b, "&lt;");
        } else if (c == '>') {
            base_buf_adds(b, "&gt;");
        } else if (c == '"') {
            base_buf_adds(b, "&quot;");
        } else if (c == '\'') {
            base_buf_adds(b, "&apos;");
        } else if (c < 0x20 && c != '\t' && c != '\n') {
            base_buf_addf(b, "&#%u;", c);
        } else {
            base_buf_add(b, s, 1);
        }
    }
}

/* --- times and base64 ------------------------------------------------------- */

void hr_iso_time(int64_t unix_secs, char out[32])
{
    time_t t = (time_t)unix_secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

void hr_http_time(int64_t unix_secs, char out[40])
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)unix_secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int hr_b64_decode(const char *in, uint8_t *out, size_t outsz)
{
    size_t len = strlen(in);
    uint8_t tmp[96];
    int n;
    if (len == 0 || len % 4 || len / 4 * 3 > sizeof tmp)
        return ERR_INVAL;
    n = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)len);
    if (n < 0)
        return ERR_INVAL;
    if (in[len - 1] == '=')
        n--;
    if (in[len - 2] == '=')
        n--;
    if ((size_t)n > outsz)
        return ERR_LIMIT;
    memcpy(out, tmp, (size_t)n);
    return n;
}

void hr_b64_encode(const uint8_t *in, size_t n, char *out, size_t outsz)
{
    if (outsz < (n + 2) / 3 * 4 + 1) {
        if (outsz)
            out[0] = '\0';
        return;
    }
    EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

/* --- parsing: CompleteMultipartUpload and Delete bodies ------------------- */

#define HR_XML_TEXT_MAX (S3_MAX_KEY * 6 + 1)

struct hr_xml {
    XML_Parser p;
    int depth;
    char path[4][32]; /* element names at depth 1..4 */
    char text[HR_XML_TEXT_MAX];
    size_t tlen;
    bool overflow;
    bool bad;
    /* complete */
    struct s3_part *parts;
    size_t nparts, cap;
    /* delete */
    char **keys;
    size_t nkeys, kcap;
    bool quiet;
    /* CreateBucketConfiguration */
    char location[32];
    bool location_bad;
};

static const char *hr_local(const char *name)
{
    const char *c = strrchr(name, ' '); /* expat namespace separator */
    return c ? c + 1 : name;
}

static void XMLCALL hr_xml_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    struct hr_xml *x = ud;
    (void)attrs;
    if (x->depth < 4)
        snprintf(x->path[x->depth], sizeof x->path[0], "%s", hr_local(name));
    x->depth++;
    x->tlen = 0;
    x->text[0] = '\0';
    if (x->depth == 2 && strcmp(hr_local(name), "Part") == 0) {
        if (x->nparts == S3_MAX_PARTS) {
            x->bad = true;
            XML_StopParser(x->p, XML_FALSE);
            return;
        }
        if (x->nparts == x->cap) {
            size_t cap = x->cap ? x->cap * 2 : 16;
            struct s3_part *np = realloc(x->parts, cap * sizeof *np);
            if (!np) {
                x->bad = true;
                XML_StopParser(x->p, XML_FALSE);
                return;
            }
            x->parts = np;
            x->cap = cap;
        }
        memset(&x->parts[x->nparts++], 0, sizeof x->parts[0]);
    }
}

static void XMLCALL hr_xml_text(void *ud, const XML_Char *s, int len)
{
    struct hr_xml *x = ud;
    if (x->tlen + (size_t)len >= sizeof x->text) {
        x->overflow = true;
        return;
    }
    memcpy(x->text + x->tlen, s, (size_t)len);
    x->tlen += (size_t)len;
    x->text[x->tlen] = '\0';
}

static void hr_xml_part_field(struct hr_xml *x, const char *el)
{
    struct s3_part *pt = &x->parts[x->nparts - 1];
    if (strcmp(el, "PartNumber") == 0) {
        char *end;
        long v = strtol(x->text, &end, 10);
        pt->number = (*end || v < 1 || v > S3_MAX_PARTS) ? -1 : (int)v;
    } else if (strcmp(el, "ETag") == 0) {
        if (x->tlen >= sizeof pt->etag)
            pt->number = -1;
        else
            memcpy(pt->etag, x->text, x->tlen + 1);
    } else if (strncmp(el, "Checksum", 8) == 0) {
        int alg = s3_cksum_parse(el + 8);
        int n = alg > 0 ? hr_b64_decode(x->text, pt->cksum.value, sizeof pt->cksum.value) : -1;
        if (n > 0) {
            pt->cksum.alg = (enum s3_cksum)alg;
            pt->cksum.len = (uint8_t)n;
        }
    }
}

static void XMLCALL hr_xml_end(void *ud, const XML_Char *name)
{
    struct hr_xml *x = ud;
    const char *el = hr_local(name);
    if (x->overflow) {
        x->bad = true;
        XML_StopParser(x->p, XML_FALSE);
        return;
    }
    if (x->depth == 3 && x->nparts > 0 && strcmp(x->path[1], "Part") == 0)
        hr_xml_part_field(x, el);
    if (x->depth == 3 && strcmp(x->path[1], "Object") == 0 && strcmp(el, "Key") == 0) {
        if (x->nkeys == S3_MAX_DELETE_KEYS + 1 || strlen(x->text) > S3_MAX_KEY) {
            x->bad = true;
            XML_StopParser(x->p, XML_FALSE);
            return;
        }
        if (x->nkeys == x->kcap) {
            size_t cap = x->kcap ? x->kcap * 2 : 64;
            char **nk = realloc(x->keys, cap * sizeof *nk);
            if (!nk) {
                x->bad = true;
                XML_StopParser(x->p, XML_FALSE);
                return;
            }
            x->keys = nk;
            x->kcap = cap;
        }
        x->keys[x->nkeys] = strdup(x->text);
        if (!x->keys[x->nkeys])
            x->bad = true;
        else
            x->nkeys++;
    }
    if (x->depth == 2 && strcmp(el, "Quiet") == 0)
        x->quiet = strcmp(x->text, "true") == 0;
    if (x->depth == 2 && strcmp(el, "LocationConstraint") == 0) {
        x->location_bad = x->tlen >= sizeof x->location;
        if (!x->location_bad)
            memcpy(x->location, x->text, x->tlen + 1);
    }
    x->depth--;
}

static int hr_xml_run(struct hr_xml *x, const char *xml, size_t len, const char *root)
{
    x->p = XML_ParserCreateNS(NULL, ' ');
    if (!x->p)
        return ERR_NOMEM;
    XML_SetUserData(x->p, x);
    XML_SetElementHandler(x->p, hr_xml_start, hr_xml_end);
    XML_SetCharacterDataHandler(x->p, hr_xml_text);
    enum XML_Status st = XML_Parse(x->p, xml, (int)len, XML_TRUE);
    XML_ParserFree(x->p);
    if (st != XML_STATUS_OK || x->bad || strcmp(x->path[0], root) != 0)
        return ERR_PARSE;
    return 0;
}

/* Frees what the parse allocated and the caller did not take: a body may
 * hold elements of the other request's kind (Object/Key in a Complete,
 * Part in a Delete), which are allocated as they come. */
static void hr_xml_free(struct hr_xml *x)
{
    for (size_t i = 0; i < x->nkeys; i++)
        free(x->keys[i]);
    free(x->keys);
    free(x->parts);
    free(x);
}

int hr_parse_complete(const char *xml, size_t len, struct s3_part **parts, size_t *nparts)
{
    struct hr_xml *x = calloc(1, sizeof *x);
    int rc;
    if (!x)
        return ERR_NOMEM;
    rc = len > INT32_MAX ? ERR_LIMIT : hr_xml_run(x, xml, len, "CompleteMultipartUpload");
    for (size_t i = 0; !rc && i < x->nparts; i++)
        if (x->parts[i].number < 1)
            rc = ERR_PARSE;
    if (!rc && x->nparts == 0)
        rc = ERR_PARSE;
    if (!rc) {
        *parts = x->parts;
        *nparts = x->nparts;
        x->parts = NULL;
    }
    hr_xml_free(x);
    return rc;
}

int hr_parse_delete(const char *xml, size_t len, char ***keys, size_t *nkeys, bool *quiet)
{
    struct hr_xml *x = calloc(1, sizeof *x);
    int rc;
    if (!x)
        return ERR_NOMEM;
    rc = len > INT32_MAX ? ERR_LIMIT : hr_xml_run(x, xml, len, "Delete");
    if (!rc && x->nkeys > S3_MAX_DELETE_KEYS)
        rc = ERR_LIMIT;
    if (!rc && x->nkeys == 0)
        rc = ERR_PARSE;
    if (!rc) {
        *keys = x->keys;
        *nkeys = x->nkeys;
        *quiet = x->quiet;
        x->keys = NULL;
        x->nkeys = 0;
    }
    hr_xml_free(x);
    return rc;
}

int hr_parse_bucket_config(const char *xml, size_t len, char *location, size_t size)
{
    struct hr_xml *x = calloc(1, sizeof *x);
    int rc;
    if (!x)
        return ERR_NOMEM;
    rc = len > INT32_MAX ? ERR_LIMIT : hr_xml_run(x, xml, len, "CreateBucketConfiguration");
    if (!rc && (x->location_bad || strlen(x->location) >= size))
        rc = ERR_PARSE;
    if (!rc)
        snprintf(location, size, "%s", x->location);
    hr_xml_free(x);
    return rc;
}
