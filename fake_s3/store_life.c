/* store_life.c - the bucket's lifecycle rules, applied on the world's clock
 * (fs3.h "Lifecycle"): the s3.lifecycle.abort.incomplete knob's rule
 * (fs3_config.lifecycle_abort_us) and the rules set over HTTP
 * (PutBucketLifecycleConfiguration), by one timer and one pass.  The bucket
 * acts on its own, as S3 does: no call, no fault shim. */
#include "err.h"
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

struct fs3_life {
    struct fs3_lc_rule *rules; /* id and prefix malloc'ed */
    size_t n;
};

static void fs3_lifecycle_fire(void *arg);

static int64_t fs3_life_day(const struct fs3 *s)
{
    return s->cfg.lifecycle_day_us > 0 ? s->cfg.lifecycle_day_us : 86400 * ENV_USEC_PER_SEC;
}

static bool fs3_life_applies(const struct fs3_lc_rule *r, const char *key)
{
    return r->enabled && strncmp(key, r->prefix, strlen(r->prefix)) == 0;
}

/* Whether upload u is due for abortion now. */
static bool fs3_life_abort_due(const struct fs3 *s, const struct fs3_upload *u, int64_t now)
{
    int64_t limit = s->cfg.lifecycle_abort_us;
    if (limit != ENV_TIME_NEVER && limit >= 0 && now - u->created_us >= limit)
        return true;
    for (size_t i = 0; s->life && i < s->life->n; i++) {
        const struct fs3_lc_rule *r = &s->life->rules[i];
        if (r->abort_days > 0 && fs3_life_applies(r, u->key) &&
            now - u->created_us >= r->abort_days * fs3_life_day(s))
            return true;
    }
    return false;
}

static bool fs3_life_expiring(const struct fs3 *s)
{
    for (size_t i = 0; s->life && i < s->life->n; i++)
        if (s->life->rules[i].enabled &&
            (s->life->rules[i].expire_days > 0 || s->life->rules[i].expire_at != ENV_TIME_NEVER))
            return true;
    return false;
}

/* Arms the pass at the earliest moment an open upload reaches a rule's age
 * (and, while an expiration rule exists, within a lifecycle minute). */
void fs3_lifecycle_arm(struct fs3 *s)
{
    int64_t limit = s->cfg.lifecycle_abort_us, first = ENV_TIME_NEVER, now = env_now(s->env);
    bool knob = limit != ENV_TIME_NEVER && limit >= 0;
    if (!knob && !s->life)
        return;
    for (size_t i = 0; i < s->uploads.cap; i++) {
        const struct fs3_upload *u = (const struct fs3_upload *)s->uploads.slots[i];
        if (u && knob && u->created_us + limit < first)
            first = u->created_us + limit;
        for (size_t j = 0; u && s->life && j < s->life->n; j++) {
            const struct fs3_lc_rule *r = &s->life->rules[j];
            int64_t at = u->created_us + r->abort_days * fs3_life_day(s);
            if (r->abort_days > 0 && fs3_life_applies(r, u->key) && at < first)
                first = at;
        }
    }
    if (fs3_life_expiring(s)) {
        int64_t pass = fs3_life_day(s) / 1440;
        pass = pass < 100 * ENV_USEC_PER_MS ? 100 * ENV_USEC_PER_MS : pass;
        if (now + pass < first)
            first = now + pass;
    }
    if (first == ENV_TIME_NEVER || (s->lifecycle_timer && s->lifecycle_at <= first))
        return;
    env_cancel(s->env, s->lifecycle_timer);
    s->lifecycle_at = first > now ? first : now;
    s->lifecycle_timer = env_timer(s->env, s->lifecycle_at - now, fs3_lifecycle_fire, s);
}

struct fs3_life_keys {
    char **v;
    size_t n, cap;
    bool failed;
};

static bool fs3_life_key(void *arg, const char *key, uint64_t size)
{
    struct fs3_life_keys *k = arg;
    (void)size;
    if (k->n == k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 64;
        char **v = realloc(k->v, cap * sizeof *v);
        if (!v) {
            k->failed = true;
            return false;
        }
        k->v = v;
        k->cap = cap;
    }
    if (!(k->v[k->n] = strdup(key))) {
        k->failed = true;
        return false;
    }
    k->n++;
    return true;
}

/* Expires every object an expiration rule says is due.  Returns how many. */
static size_t fs3_life_expire(struct fs3 *s, int64_t now)
{
    struct fs3_life_keys k = {0};
    size_t n = 0;
    if (!fs3_life_expiring(s))
        return 0;
    fs3_each_key(s, fs3_life_key, &k); /* a copy: expiring changes the key set */
    for (size_t i = 0; i < k.n; i++) {
        struct fs3_obj *o = fs3_lookup(s, k.v[i], FS3_AS_OF_NOW);
        for (size_t j = 0; o && j < s->life->n; j++) {
            const struct fs3_lc_rule *r = &s->life->rules[j];
            if (!fs3_life_applies(r, k.v[i]))
                continue;
            if ((r->expire_days > 0 && now - o->mtime >= r->expire_days * fs3_life_day(s)) ||
                (r->expire_at != ENV_TIME_NEVER && now >= r->expire_at)) {
                n += fs3_ver_expire(s, k.v[i]) == 0;
                break;
            }
        }
        free(k.v[i]);
    }
    free(k.v);
    return n;
}

/* Aborts every upload a rule says is due, expires the objects due, then
 * re-arms for the next. */
static void fs3_lifecycle_fire(void *arg)
{
    struct fs3 *s = arg;
    int64_t now = env_now(s->env);
    size_t n = 0, x;
    s->lifecycle_timer = 0;
    for (size_t i = 0; i < s->uploads.cap; i++) {
        struct fs3_upload *u = (struct fs3_upload *)s->uploads.slots[i];
        if (u && fs3_life_abort_due(s, u, now)) {
            fs3_upload_drop(s, u);
            n++;
            i = (size_t)-1; /* the table may have moved entries: scan again */
        }
    }
    if (n)
        env_tracef(s->env, "fs3 lifecycle rule aborted %zu incomplete multipart uploads", n);
    if ((x = fs3_life_expire(s, now)) != 0)
        env_tracef(s->env, "fs3 lifecycle rule expired %zu objects", x);
    fs3_lifecycle_arm(s);
}

static void fs3_life_rules_free(struct fs3_lc_rule *rules, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)rules[i].id);
        free((char *)rules[i].prefix);
    }
    free(rules);
}

int fs3_lifecycle_set(struct fs3 *s, const struct fs3_lc_rule *rules, size_t n)
{
    struct fs3_life *l = NULL;
    if (n) {
        if (!(l = calloc(1, sizeof *l)) || !(l->rules = calloc(n, sizeof *l->rules))) {
            free(l);
            return ERR_NOMEM;
        }
        for (; l->n < n; l->n++) {
            struct fs3_lc_rule *r = &l->rules[l->n];
            *r = rules[l->n];
            r->id = strdup(rules[l->n].id ? rules[l->n].id : "");
            r->prefix = strdup(rules[l->n].prefix ? rules[l->n].prefix : "");
            if (!r->id || !r->prefix) {
                l->n++;
                fs3_life_rules_free(l->rules, l->n);
                free(l);
                return ERR_NOMEM;
            }
        }
    }
    fs3_lifecycle_free(s);
    s->life = l;
    /* Rules changed: the pass is armed again from scratch. */
    env_cancel(s->env, s->lifecycle_timer);
    s->lifecycle_timer = 0;
    fs3_lifecycle_arm(s);
    return 0;
}

size_t fs3_lifecycle_get(const struct fs3 *s, const struct fs3_lc_rule **rules)
{
    *rules = s->life ? s->life->rules : NULL;
    return s->life ? s->life->n : 0;
}

void fs3_lifecycle_free(struct fs3 *s)
{
    if (!s->life)
        return;
    fs3_life_rules_free(s->life->rules, s->life->n);
    free(s->life);
    s->life = NULL;
}
