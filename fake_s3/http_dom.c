/* http_dom.c - a bounded element tree over expat for the small XML bodies of
 * the ACL, tagging and CORS operations (see http_acl.h). */
#include "http_acl.h"

#include <expat.h>
#include <stdlib.h>
#include <string.h>

#define HR_DOM_DEPTH 8
#define HR_DOM_TEXT 4096

struct hr_dom_ctx {
    XML_Parser p;
    struct hr_dom *root;
    struct hr_dom *stack[HR_DOM_DEPTH];
    struct hr_dom *last[HR_DOM_DEPTH]; /* the last child of stack[i] */
    int depth;
    size_t nodes;
    size_t tlen;
    bool bad;
};

static const char *hr_dom_local(const char *name)
{
    const char *c = strrchr(name, ' '); /* expat's namespace separator */
    return c ? c + 1 : name;
}

static void hr_dom_stop(struct hr_dom_ctx *x)
{
    x->bad = true;
    XML_StopParser(x->p, XML_FALSE);
}

static void XMLCALL hr_dom_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    struct hr_dom_ctx *x = ud;
    if (x->bad)
        return;
    if (x->depth == HR_DOM_DEPTH || ++x->nodes > HR_DOM_MAX_NODES || (x->depth == 0 && x->root)) {
        hr_dom_stop(x);
        return;
    }
    struct hr_dom *n = calloc(1, sizeof *n);
    if (!n || !(n->name = strdup(hr_dom_local(name))) || !(n->text = calloc(1, 1))) {
        if (n)
            free(n->name);
        free(n);
        hr_dom_stop(x);
        return;
    }
    for (size_t i = 0; attrs[i] && attrs[i + 1]; i += 2)
        if (strcmp(hr_dom_local(attrs[i]), "type") == 0 && !n->type)
            n->type = strdup(attrs[i + 1]);
    if (x->depth == 0) {
        x->root = n;
    } else {
        struct hr_dom *parent = x->stack[x->depth - 1];
        if (x->last[x->depth - 1])
            x->last[x->depth - 1]->next = n;
        else
            parent->child = n;
        x->last[x->depth - 1] = n;
    }
    x->stack[x->depth] = n;
    x->last[x->depth] = NULL;
    x->depth++;
    x->tlen = 0;
}

static void XMLCALL hr_dom_end(void *ud, const XML_Char *name)
{
    struct hr_dom_ctx *x = ud;
    (void)name;
    if (!x->bad && x->depth > 0)
        x->depth--;
    x->tlen = x->depth > 0 ? strlen(x->stack[x->depth - 1]->text) : 0;
}

static void XMLCALL hr_dom_chars(void *ud, const XML_Char *s, int len)
{
    struct hr_dom_ctx *x = ud;
    if (x->bad || x->depth == 0)
        return;
    struct hr_dom *n = x->stack[x->depth - 1];
    if (x->tlen + (size_t)len >= HR_DOM_TEXT) {
        hr_dom_stop(x);
        return;
    }
    char *t = realloc(n->text, x->tlen + (size_t)len + 1);
    if (!t) {
        hr_dom_stop(x);
        return;
    }
    memcpy(t + x->tlen, s, (size_t)len);
    x->tlen += (size_t)len;
    t[x->tlen] = '\0';
    n->text = t;
}

struct hr_dom *hr_dom_parse(const char *xml, size_t len)
{
    struct hr_dom_ctx x = {0};
    if (len > (size_t)INT32_MAX)
        return NULL;
    x.p = XML_ParserCreateNS(NULL, ' ');
    if (!x.p)
        return NULL;
    XML_SetUserData(x.p, &x);
    XML_SetElementHandler(x.p, hr_dom_start, hr_dom_end);
    XML_SetCharacterDataHandler(x.p, hr_dom_chars);
    bool ok = XML_Parse(x.p, xml ? xml : "", (int)len, XML_TRUE) == XML_STATUS_OK;
    XML_ParserFree(x.p);
    if (!ok || x.bad || !x.root) {
        hr_dom_free(x.root);
        return NULL;
    }
    return x.root;
}

void hr_dom_free(struct hr_dom *d)
{
    while (d) {
        struct hr_dom *next = d->next;
        hr_dom_free(d->child);
        free(d->name);
        free(d->text);
        free(d->type);
        free(d);
        d = next;
    }
}

struct hr_dom *hr_dom_child(const struct hr_dom *d, const char *name)
{
    for (struct hr_dom *c = d ? d->child : NULL; c; c = c->next)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

const char *hr_dom_text(const struct hr_dom *d, const char *name)
{
    const struct hr_dom *c = hr_dom_child(d, name);
    return c ? c->text : NULL;
}
