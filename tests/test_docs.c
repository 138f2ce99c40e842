/* test_docs.c - the documentation stays whole: every link of README.md and
 * of the Markdown files of docs/ reaches a file of the repository (and a heading of it when it
 * names one), and every reference to a docs section in the code
 * (`docs/engine.md "SSO compaction"`) names a heading that exists. */
#include <check.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DOC_MAX_HEADINGS 512

static const char *root(void)
{
    const char *r = getenv("S3SIM_SOURCE_DIR");
    ck_assert_msg(r != NULL, "S3SIM_SOURCE_DIR is not set (run through ctest)");
    return r;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) != NULL) {
        size_t got = fread(buf, 1, (size_t)n, f);
        buf[got] = '\0';
    }
    fclose(f);
    return buf;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* ---- Markdown ------------------------------------------------------------------ */

/* The headings of a Markdown text, outside fenced code blocks: their text
 * (backticks removed) and their GitHub anchor. */
struct headings {
    char text[DOC_MAX_HEADINGS][160];
    char slug[DOC_MAX_HEADINGS][160];
    int n;
};

/* GitHub's anchor of a heading: lowercase, spaces to '-', every character
 * but letters, digits, '-' and '_' dropped. */
static void slugify(const char *h, char *out, size_t outsz)
{
    size_t k = 0;
    for (const char *p = h; *p && k + 1 < outsz; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            out[k++] = (char)(c - 'A' + 'a');
        else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')
            out[k++] = c;
        else if (c == ' ')
            out[k++] = '-';
    }
    out[k] = '\0';
}

/* Replaces the fenced code blocks of md by spaces (in place), so that neither
 * their '#' lines nor their brackets count. */
static void blank_fences(char *md)
{
    bool in = false;
    for (char *line = md; *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        bool fence = len >= 3 && strncmp(line, "```", 3) == 0;
        if (in || fence)
            memset(line, ' ', len);
        if (fence)
            in = !in;
        line = nl ? nl + 1 : line + len;
    }
}

static void headings_of(char *md, struct headings *h)
{
    h->n = 0;
    for (char *line = md; *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (line[0] == '#' && h->n < DOC_MAX_HEADINGS) {
            const char *p = line;
            size_t k = 0;
            while (*p == '#')
                p++;
            while (*p == ' ')
                p++;
            for (; p < line + len && k + 1 < sizeof h->text[0]; p++)
                if (*p != '`')
                    h->text[h->n][k++] = *p;
            h->text[h->n][k] = '\0';
            slugify(h->text[h->n], h->slug[h->n], sizeof h->slug[0]);
            h->n++;
        }
        line = nl ? nl + 1 : line + len;
    }
}

/* Reads the Markdown file at dir/name (fences blanked) and its headings. */
static char *md_load(const char *dir, const char *name, struct headings *h)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *md = slurp(path);
    if (md) {
        blank_fences(md);
        headings_of(md, h);
    }
    return md;
}

/* Checks every link [text](target) of the Markdown file rel (relative to the
 * source root).  Returns the number of broken links, each printed. */
static int md_check_links(const char *rel)
{
    char path[4096], dir[4096];
    struct headings *h = calloc(1, sizeof *h), *th = calloc(1, sizeof *th);
    int bad = 0;
    ck_assert(h && th);
    snprintf(path, sizeof path, "%s/%s", root(), rel);
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    char *md = slurp(path);
    ck_assert_msg(md != NULL, "cannot read %s", rel);
    blank_fences(md);
    headings_of(md, h);
    for (char *p = strstr(md, "]("); p; p = strstr(p + 2, "](")) {
        char target[1024], file[8192];
        const char *t = p + 2, *end = strchr(t, ')');
        size_t n = end ? (size_t)(end - t) : 0;
        if (!end || n == 0 || n >= sizeof target || memchr(t, ' ', n) || memchr(t, '\n', n))
            continue;
        memcpy(target, t, n);
        target[n] = '\0';
        if (strncmp(target, "http://", 7) == 0 || strncmp(target, "https://", 8) == 0 ||
            strncmp(target, "mailto:", 7) == 0)
            continue;
        char *anchor = strchr(target, '#');
        if (anchor)
            *anchor++ = '\0';
        if (strstr(target, "..") || target[0] == '/') {
            fprintf(stderr, "%s: link %s leaves the repository\n", rel, t);
            bad++;
            continue;
        }
        snprintf(file, sizeof file, "%s/%s", dir, target);
        if (target[0] && !exists(file)) {
            fprintf(stderr, "%s: link to %s: no such file\n", rel, target);
            bad++;
            continue;
        }
        if (!anchor || !*anchor)
            continue;
        const struct headings *in = h;
        char *tmd = NULL;
        size_t tl = strlen(target);
        if (target[0] && tl > 3 && strcmp(target + tl - 3, ".md") == 0) {
            tmd = md_load(dir, target, th);
            in = th;
        } else if (target[0]) {
            continue; /* an anchor into a non-Markdown file: not checked */
        }
        bool found = false;
        for (int i = 0; i < in->n && !found; i++)
            found = strcmp(in->slug[i], anchor) == 0;
        if (!found) {
            fprintf(stderr, "%s: link %s#%s: no such heading\n", rel, target, anchor);
            bad++;
        }
        free(tmd);
    }
    free(md);
    free(h);
    free(th);
    return bad;
}

/* ---- references from the code --------------------------------------------------- */

/* Copies text with every newline and the comment marks that follow it (" * ",
 * "// ") collapsed into one space, so that a reference wrapped over two
 * comment lines reads as one. */
static char *unwrap(const char *text)
{
    char *out = malloc(strlen(text) + 1), *o = out;
    ck_assert(out);
    for (const char *p = text; *p;) {
        if (*p == '\n') {
            p++;
            while (*p == ' ' || *p == '\t')
                p++;
            if (p[0] == '*' && p[1] != '/')
                p++;
            else if (p[0] == '/' && p[1] == '/')
                p += 2;
            else if (p[0] == '#')
                p++;
            while (*p == ' ' || *p == '\t')
                p++;
            *o++ = ' ';
            continue;
        }
        *o++ = *p++;
    }
    *o = '\0';
    return out;
}

/* Checks every `docs/NAME.md "Heading"` of one source file.  Returns the
 * number of broken references, each printed; *refs counts them all. */
static int src_check_refs(const char *path, const char *rel, int *refs)
{
    char *raw = slurp(path), *text;
    struct headings *h = calloc(1, sizeof *h);
    int bad = 0;
    ck_assert_msg(raw != NULL, "cannot read %s", path);
    ck_assert(h);
    text = unwrap(raw);
    free(raw);
    for (char *p = strstr(text, "docs/"); p; p = strstr(p + 5, "docs/")) {
        char name[128], heading[256], docs[4096];
        const char *q = p + 5;
        size_t n = strspn(q, "abcdefghijklmnopqrstuvwxyz0123456789_-");
        if (n == 0 || n + 3 >= sizeof name || strncmp(q + n, ".md \"", 5) != 0)
            continue;
        memcpy(name, q, n);
        memcpy(name + n, ".md", 4);
        snprintf(docs, sizeof docs, "%s/docs", root());
        char *md = md_load(docs, name, h);
        /* docs/NAME.md "A", "B" and "C": every quoted heading of the list */
        for (const char *hs = q + n + 5;;) {
            const char *he = strchr(hs, '"');
            if (!he || (size_t)(he - hs) >= sizeof heading)
                break;
            memcpy(heading, hs, (size_t)(he - hs));
            heading[he - hs] = '\0';
            (*refs)++;
            bool found = false;
            for (int i = 0; md && i < h->n && !found; i++)
                found = strcmp(h->text[i], heading) == 0;
            if (!found) {
                fprintf(stderr, "%s: docs/%s \"%s\": %s\n", rel, name, heading,
                        md ? "no such heading" : "no such file");
                bad++;
            }
            if (strncmp(he + 1, ", \"", 3) == 0)
                hs = he + 4;
            else if (strncmp(he + 1, " and \"", 6) == 0)
                hs = he + 7;
            else
                break;
        }
        free(md);
    }
    free(text);
    free(h);
    return bad;
}

static int src_walk(const char *dir, const char *rel, int *refs, int *files)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int bad = 0;
    ck_assert_msg(d != NULL, "cannot open %s", dir);
    while ((e = readdir(d)) != NULL) {
        char path[4096], r[4096];
        size_t n = strlen(e->d_name);
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        snprintf(r, sizeof r, "%s/%s", rel, e->d_name);
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            bad += src_walk(path, r, refs, files);
            continue;
        }
        if (n < 3 || e->d_name[n - 2] != '.' || (e->d_name[n - 1] != 'c' && e->d_name[n - 1] != 'h'))
            continue;
        bad += src_check_refs(path, r, refs);
        (*files)++;
    }
    closedir(d);
    return bad;
}

/* The path prefix of the design files users do not have, spelled in two
 * pieces so that this file does not cite it. */
#define OUTSIDE_DIR "shared" "/"

/* Counts, in the files under dir (recursively; .c, .h, .scn, .md, CMake),
 * the lines that cite a section with the section sign or a path under
 * OUTSIDE_DIR, each printed. */
static int outside_refs(const char *dir, const char *rel)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int bad = 0;
    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        char path[4096], r[4096];
        size_t n = strlen(e->d_name);
        struct stat st;
        if (e->d_name[0] == '.' || strncmp(e->d_name, "build", 5) == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        snprintf(r, sizeof r, "%s/%s", rel, e->d_name);
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            bad += outside_refs(path, r);
            continue;
        }
        bool src = (n > 2 && (!strcmp(e->d_name + n - 2, ".c") || !strcmp(e->d_name + n - 2, ".h"))) ||
                   (n > 3 && !strcmp(e->d_name + n - 3, ".md")) ||
                   (n > 4 && !strcmp(e->d_name + n - 4, ".scn")) ||
                   (n > 6 && !strcmp(e->d_name + n - 6, ".cmake")) ||
                   !strcmp(e->d_name, "CMakeLists.txt");
        if (!src)
            continue;
        char *text = slurp(path);
        int line = 1;
        for (const char *p = text; p && *p; p++) {
            if (*p == '\n')
                line++;
            /* U+00A7 in UTF-8, OUTSIDE_DIR, or the word reference and a section number of
             * the engine reference users do not have */
            if (((unsigned char)p[0] == 0xC2 && (unsigned char)p[1] == 0xA7) ||
                strncmp(p, OUTSIDE_DIR, strlen(OUTSIDE_DIR)) == 0 ||
                (strncmp(p, "reference ", 10) == 0 && p[10] >= '0' && p[10] <= '9')) {
                fprintf(stderr, "%s:%d: cites a section of a file outside the repository; "
                                "name a heading of docs/ instead (docs/engine.md \"Heading\")\n",
                        r, line);
                bad++;
                while (*p && *p != '\n')
                    p++;
                if (!*p)
                    break;
                line++;
            }
        }
        free(text);
    }
    closedir(d);
    return bad;
}

/* ---- tests ---------------------------------------------------------------------- */

START_TEST(docs_slugs_are_githubs)
{
    char s[160];
    slugify("`status=404` on `delete` leaves a key behind", s, sizeof s);
    ck_assert_str_eq(s, "status404-on-delete-leaves-a-key-behind");
    slugify("The engine (src/)", s, sizeof s);
    ck_assert_str_eq(s, "the-engine-src");
    slugify("--swarm", s, sizeof s);
    ck_assert_str_eq(s, "--swarm");
}
END_TEST

START_TEST(docs_links_resolve)
{
    char dir[4096];
    int bad = md_check_links("README.md"), files = 1;
    snprintf(dir, sizeof dir, "%s/docs", root());
    DIR *d = opendir(dir);
    struct dirent *e;
    ck_assert_msg(d != NULL, "cannot open docs/");
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        char rel[512];
        if (n > 3 && strcmp(e->d_name + n - 3, ".md") == 0) {
            snprintf(rel, sizeof rel, "docs/%s", e->d_name);
            bad += md_check_links(rel);
            files++;
        }
    }
    closedir(d);
    ck_assert_int_ge(files, 5);
    ck_assert_msg(bad == 0, "%d broken link(s) in README.md and docs/*.md (listed above)", bad);
}
END_TEST

START_TEST(docs_code_references_resolve)
{
    static const char *const dirs[] = {"src", "sim", "fake_s3", "tests", "bench"};
    char dir[4096];
    int bad = 0, refs = 0, files = 0;
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        snprintf(dir, sizeof dir, "%s/%s", root(), dirs[i]);
        if (exists(dir))
            bad += src_walk(dir, dirs[i], &refs, &files);
    }
    ck_assert_int_gt(files, 50);
    ck_assert_msg(bad == 0,
                  "%d of %d references docs/NAME.md \"Heading\" in the code name no heading of "
                  "docs/ (listed above): fix the reference or the heading",
                  bad, refs);
}
END_TEST

START_TEST(docs_no_outside_references)
{
    static const char *const dirs[] = {"src", "sim", "fake_s3", "tests", "bench", "docs",
                                       "scenarios", "cmake", "fuzz", "tools"};
    char dir[4096];
    int bad = 0;
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        snprintf(dir, sizeof dir, "%s/%s", root(), dirs[i]);
        bad += outside_refs(dir, dirs[i]);
    }
    char path[4096];
    static const char *const files[] = {"README.md", "CMakeLists.txt"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", root(), files[i]);
        char *text = slurp(path);
        if (text && (strstr(text, "\xC2\xA7") || strstr(text, OUTSIDE_DIR))) {
            fprintf(stderr, "%s: cites a file outside the repository\n", files[i]);
            bad++;
        }
        free(text);
    }
    ck_assert_msg(bad == 0, "%d line(s) cite sections of files users do not have (listed above)",
                  bad);
}
END_TEST

START_TEST(docs_reference_checker_fails_on_a_bad_one)
{
    char path[] = "/tmp/s3sim_test_docs_XXXXXX";
    int fd = mkstemp(path), refs = 0;
    FILE *f = fdopen(fd, "w");
    ck_assert(f);
    fputs("/* see docs/engine.md \"Object model\" and docs/engine.md\n"
          " * \"No such heading anywhere\" and docs/nosuch.md \"X\"; docs/engine.md\n"
          " * \"Timeouts\", \"Late writes\", \"Nor this one\" and \"Batch delete\" */\n",
          f);
    fclose(f);
    ck_assert_int_eq(src_check_refs(path, "sample.c", &refs), 3);
    ck_assert_int_eq(refs, 7);
    remove(path);
}
END_TEST

static Suite *docs_suite(void)
{
    Suite *s = suite_create("docs");
    TCase *tc = tcase_create("docs");
    tcase_add_test(tc, docs_slugs_are_githubs);
    tcase_add_test(tc, docs_links_resolve);
    tcase_add_test(tc, docs_code_references_resolve);
    tcase_add_test(tc, docs_no_outside_references);
    tcase_add_test(tc, docs_reference_checker_fails_on_a_bad_one);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(docs_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
