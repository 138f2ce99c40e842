/*
 * report_svg.c - the SVG timeline of one run, inline in index.html.
 *
 *   time axis (nice ticks) ......................................
 *   get        |  |   |||  <>  |                       one row per S3 op that was called
 *   put        |      |                                (calls; <> injected fault; v failed)
 *   wal        [==]   [==]  [==]                       one row per engine lane (spans and points)
 *   sso        [=======]  o commit
 *   ...
 *   wait: who  [=========================]!           a hang's pending waits, since -> found
 *
 * Dense rows: a row with more than RPT_DENSE events is drawn as RPT_NBINS
 * columns of RPT_PLOT_W / RPT_NBINS pixels; each column with several events
 * becomes one bar whose height grows with the log of its count, red when a
 * fault is among them, titled "N calls, M faults".  So the picture stays
 * readable, and its size bounded (about RPT_NBINS marks per row), whatever the
 * number of calls.  Colours and shapes come from index.html's stylesheet.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "report.h"
#include "report_int.h"

#define RPT_LABEL_W 160 /* left column of row names, px */
#define RPT_PLOT_W 1000 /* the time axis, px */
#define RPT_RIGHT_W 50
#define RPT_AXIS_H 22 /* the tick labels on top */
#define RPT_ROW_H 18
#define RPT_LEGEND_H 26
#define RPT_NBINS 500 /* columns of a dense row (2 px each) */
#define RPT_DENSE 400 /* a row with more events than this is binned */
#define RPT_MAX_WAIT_ROWS 40

/* One row of the picture. */
struct rpt_row {
    char name[48];   /* row label (waits use their who instead) */
    size_t first, n; /* the row's events: order[first .. first+n) */
};

struct rpt_svg {
    FILE *f;
    const struct run_result *r;
    int64_t tmax;                 /* the right edge, µs (> 0) */
    int op_row[S3_OP_COUNT];      /* row of each op, -1 if none */
    int lane_row[RUN_LANE_COUNT]; /* row of each lane (S3 excluded), -1 if none */
    struct rpt_row rows[S3_OP_COUNT + RUN_LANE_COUNT];
    int nrows;
    size_t *order;  /* event indices grouped by row */
    int nwait_rows; /* rows for r->waits */
};

struct rpt_bin {
    uint32_t n, faults, failed;
    size_t rep; /* an event of the bin (a fault if any) */
    int64_t t0, t1;
};

static double rpt_x(const struct rpt_svg *s, int64_t t)
{
    if (t < 0)
        t = 0;
    if (t > s->tmax)
        t = s->tmax;
    return RPT_LABEL_W + (double)t * RPT_PLOT_W / (double)s->tmax;
}

static int rpt_row_of(const struct rpt_svg *s, const struct run_event *e)
{
    if (e->lane == RUN_LANE_S3)
        return e->op >= 0 && e->op < S3_OP_COUNT ? s->op_row[e->op] : -1;
    return (unsigned)e->lane < RUN_LANE_COUNT ? s->lane_row[e->lane] : -1;
}

static void rpt_add_row(struct rpt_svg *s, int *slot, const char *name)
{
    *slot = s->nrows;
    snprintf(s->rows[s->nrows].name, sizeof s->rows[0].name, "%s", name);
    s->nrows++;
}

/* Groups the event indices by row (a counting sort): row k's events are
 * order[rows[k].first ..], in their original order. */
static int rpt_svg_group(struct rpt_svg *s)
{
    const struct run_result *r = s->r;
    size_t count[S3_OP_COUNT + RUN_LANE_COUNT] = {0}, pos[S3_OP_COUNT + RUN_LANE_COUNT], acc = 0;

    s->order = malloc((r->nevents ? r->nevents : 1) * sizeof *s->order);
    if (!s->order)
        return ERR_NOMEM;
    for (size_t i = 0; i < r->nevents; i++) {
        int row = rpt_row_of(s, &r->events[i]);
        if (row >= 0)
            count[row]++;
    }
    for (int k = 0; k < s->nrows; k++) {
        s->rows[k].first = pos[k] = acc;
        s->rows[k].n = count[k];
        acc += count[k];
    }
    for (size_t i = 0; i < r->nevents; i++) {
        int row = rpt_row_of(s, &r->events[i]);
        if (row >= 0)
            s->order[pos[row]++] = i;
    }
    return 0;
}

/* Chooses the rows and the time range, and groups the events by row. */
static int rpt_svg_layout(struct rpt_svg *s)
{
    static const enum run_lane always[] = {RUN_LANE_WAL, RUN_LANE_SSO, RUN_LANE_STREAM,
                                           RUN_LANE_CLEANER, RUN_LANE_CRASH};
    static const char *const names[RUN_LANE_COUNT] = {
        "",        "WAL uploads", "SSO compaction", "stream compaction",
        "cleaner", "crashes",     "wait events",    "actions"};
    const struct run_result *r = s->r;
    bool op_used[S3_OP_COUNT] = {false}, lane_used[RUN_LANE_COUNT] = {false};

    s->tmax = r->vtime_us > r->last_progress_us ? r->vtime_us : r->last_progress_us;
    for (size_t i = 0; i < r->nevents; i++) {
        const struct run_event *e = &r->events[i];
        /* Starts only: an end past the judgement (a call never answered)
         * must not squash the picture; rpt_x() clamps it. */
        s->tmax = e->t0_us > s->tmax ? e->t0_us : s->tmax;
        if (e->lane == RUN_LANE_S3 && e->op >= 0 && e->op < S3_OP_COUNT)
            op_used[e->op] = true;
        else if ((unsigned)e->lane < RUN_LANE_COUNT)
            lane_used[e->lane] = true;
    }
    for (size_t i = 0; i < r->nwaits; i++)
        s->tmax = r->waits[i].since_us > s->tmax ? r->waits[i].since_us : s->tmax;
    if (s->tmax <= 0)
        s->tmax = 1;
    memset(s->op_row, -1, sizeof s->op_row);
    memset(s->lane_row, -1, sizeof s->lane_row);
    for (int op = 0; op < S3_OP_COUNT; op++)
        if (op_used[op] || r->calls_by_op[op])
            rpt_add_row(s, &s->op_row[op], s3_op_name(op));
    for (size_t k = 0; k < sizeof always / sizeof always[0]; k++)
        lane_used[always[k]] = true;
    /* The pending waits get a row each (rpt_wait_bars), so their copies on
     * the wait lane would only repeat them. */
    if (r->nwaits > 0)
        lane_used[RUN_LANE_WAIT] = false;
    for (int l = RUN_LANE_WAL; l < RUN_LANE_COUNT; l++)
        if (lane_used[l])
            rpt_add_row(s, &s->lane_row[l], names[l]);
    s->nwait_rows = r->nwaits > RPT_MAX_WAIT_ROWS ? RPT_MAX_WAIT_ROWS + 1 : (int)r->nwaits;
    return rpt_svg_group(s);
}

/* ---- marks -------------------------------------------------------------- */

static void rpt_event_title(FILE *f, const struct run_event *e)
{
    char b1[40], b2[40];

    const char *label = e->label ? e->label : "";

    fputs("<title>", f);
    if (e->lane == RUN_LANE_S3) {
        const char *op = s3_op_name(e->op);
        size_t n = strlen(op);
        fprintf(f, "%s", op);
        if (e->job >= 0 && e->job < S3_JOB_COUNT)
            fprintf(f, " (%s)", s3_job_name(e->job));
        putc(' ', f);
        if (strncmp(label, op, n) == 0 && label[n] == ' ')
            label += n + 1; /* the label already names the op */
    }
    rpt_xml_str(f, label, false);
    fprintf(f, "\nt=%s", rpt_fmt_dur(b1, sizeof b1, e->t0_us));
    if (e->t1_us > e->t0_us)
        fprintf(f, ", took %s",
                rpt_fmt_dur(b2, sizeof b2,
                            e->t0_us < 0 && e->t1_us > INT64_MAX + e->t0_us ? INT64_MAX
                                                                            : e->t1_us - e->t0_us));
    if (e->effect > FS3_EFF_NONE)
        fprintf(f, "\ninjected fault: %s", rpt_effect_name(e->effect));
    if (e->failed)
        fputs("\nfailed", f);
    fputs("</title>", f);
}

static const char *rpt_mark_class(const struct run_event *e)
{
    if (e->effect > FS3_EFF_NONE)
        return "f";
    if (e->failed)
        return "x";
    return e->lane == RUN_LANE_S3 ? "k" : rpt_lane_name(e->lane);
}

/* One event: a bar when it spans more than a pixel and a half, else a point
 * shaped by kind (S3 tick, fault diamond, failure triangle, crash triangle,
 * lane dot). */
static void rpt_mark(struct rpt_svg *s, const struct run_event *e)
{
    FILE *f = s->f;
    double x0 = rpt_x(s, e->t0_us), x1 = rpt_x(s, e->t1_us);
    const char *cls = rpt_mark_class(e), *tag = "path";

    if (x1 - x0 >= 1.5) {
        fprintf(f, "<rect x=\"%.1f\" y=\"5\" width=\"%.1f\" height=\"8\" class=\"%s\">", x0,
                x1 - x0, cls);
        rpt_event_title(f, e);
        fputs("</rect>", f);
        if (e->effect > FS3_EFF_NONE)
            fprintf(f, "<path d=\"M%.1f 2l5 7-5 7-5-7z\" class=\"f\"/>", x0);
        fputc('\n', f);
        return;
    }
    if (e->effect > FS3_EFF_NONE) {
        fprintf(f, "<path d=\"M%.1f 2l5 7-5 7-5-7z\" class=\"f\">", x0);
    } else if (e->failed) {
        fprintf(f, "<path d=\"M%.1f 15l-5-10h10z\" class=\"x\">", x0);
    } else if (e->lane == RUN_LANE_S3) {
        fprintf(f, "<rect x=\"%.1f\" y=\"3\" width=\"1.5\" height=\"12\" class=\"k\">", x0 - 0.75);
        tag = "rect";
    } else if (e->lane == RUN_LANE_CRASH) {
        fprintf(f, "<path d=\"M%.1f 2l6 13h-12z\" class=\"crash\">", x0);
    } else {
        fprintf(f, "<circle cx=\"%.1f\" cy=\"9\" r=\"4\" class=\"%s\">", x0, cls);
        tag = "circle";
    }
    rpt_event_title(f, e);
    fprintf(f, "</%s>\n", tag);
}

/* A column of several events: a bar whose height grows with the log of the
 * count, in the row's colour, with its faults (red) and failures (orange)
 * stacked on top in proportion, at least 2 px each so that one fault among
 * hundreds of calls still shows. */
static void rpt_bar(struct rpt_svg *s, const struct rpt_bin *b, int col, uint32_t maxn,
                    const char *cls)
{
    char t0[40], t1[40];
    double h = 4.0 + 10.0 * log1p((double)b->n) / log1p((double)maxn), y = 16.0 - h;
    double hf = b->faults ? fmax(2.0, h * b->faults / b->n) : 0.0;
    double hx = b->failed ? fmin(fmax(2.0, h * b->failed / b->n), h - hf) : 0.0;
    int x = RPT_LABEL_W + col * (RPT_PLOT_W / RPT_NBINS);

    fprintf(s->f,
            "<g><title>%" PRIu32 " %s, %" PRIu32 " faults, %" PRIu32 " failed\nt=%s..%s"
            "</title><rect x=\"%d\" y=\"%.1f\" width=\"2\" height=\"%.1f\" class=\"b%s\"/>",
            b->n, strcmp(cls, "k") == 0 ? "calls" : "events", b->faults, b->failed,
            rpt_fmt_dur(t0, sizeof t0, b->t0), rpt_fmt_dur(t1, sizeof t1, b->t1), x, y, h, cls);
    if (hf > 0)
        fprintf(s->f, "<rect x=\"%d\" y=\"%.1f\" width=\"2\" height=\"%.1f\" class=\"bf\"/>", x, y,
                hf);
    if (hx > 0)
        fprintf(s->f, "<rect x=\"%d\" y=\"%.1f\" width=\"2\" height=\"%.1f\" class=\"bx\"/>", x,
                y + hf, hx);
    fputs("</g>\n", s->f);
}

/* A dense row: count the events per column, then one mark per column. */
static int rpt_binned(struct rpt_svg *s, const struct rpt_row *row)
{
    struct rpt_bin *bins = calloc(RPT_NBINS, sizeof *bins);
    uint32_t maxn = 1;
    const char *cls = "k";

    if (!bins)
        return ERR_NOMEM;
    for (size_t k = 0; k < row->n; k++) {
        size_t i = s->order[row->first + k];
        const struct run_event *e = &s->r->events[i];
        int64_t t = e->t0_us < 0 ? 0 : e->t0_us;
        int col = (int)((double)t * RPT_NBINS / (double)s->tmax);
        struct rpt_bin *b = &bins[col >= RPT_NBINS ? RPT_NBINS - 1 : col];
        if (b->n == 0 || (e->effect > FS3_EFF_NONE && !b->faults))
            b->rep = i;
        b->t0 = b->n == 0 || t < b->t0 ? t : b->t0;
        b->t1 = b->n == 0 || t > b->t1 ? t : b->t1;
        b->n++;
        b->faults += e->effect > FS3_EFF_NONE;
        b->failed += e->failed;
        maxn = b->n > maxn ? b->n : maxn;
        cls = e->lane == RUN_LANE_S3 ? "k" : rpt_lane_name(e->lane);
    }
    for (int c = 0; c < RPT_NBINS; c++) {
        if (bins[c].n == 1)
            rpt_mark(s, &s->r->events[bins[c].rep]);
        else if (bins[c].n > 1)
            rpt_bar(s, &bins[c], c, maxn, cls);
    }
    free(bins);
    return 0;
}

/* ---- frame: rows, axis, waits, legend ----------------------------------- */

/* A tick label: only the units that are not zero ("3h", "1h30m", "500ms"). */
static char *rpt_fmt_tick(char *buf, size_t size, int64_t us)
{
    static const struct {
        int64_t us;
        const char *unit;
    } units[] = {{INT64_C(86400000000), "d"},
                 {INT64_C(3600000000), "h"},
                 {60000000, "m"},
                 {1000000, "s"},
                 {1000, "ms"},
                 {1, "us"}};
    size_t n = 0;

    buf[0] = '\0';
    for (size_t k = 0; k < sizeof units / sizeof units[0] && n + 1 < size; k++) {
        if (us / units[k].us == 0)
            continue;
        int w = snprintf(buf + n, size - n, "%" PRId64 "%s", us / units[k].us, units[k].unit);
        n += w > 0 ? (size_t)w : 0;
        us %= units[k].us;
    }
    if (n == 0)
        snprintf(buf, size, "0");
    return buf;
}

/* Tick labels on top and vertical grid lines down to the legend, at a
 * round step that gives at most 10 intervals. */
static void rpt_axis(struct rpt_svg *s, int height)
{
    static const int64_t steps[] = {1,
                                    10,
                                    100,
                                    1000,
                                    2000,
                                    5000,
                                    10000,
                                    20000,
                                    50000,
                                    100000,
                                    200000,
                                    500000,
                                    1000000,
                                    2000000,
                                    5000000,
                                    10000000,
                                    15000000,
                                    30000000,
                                    60000000,
                                    120000000,
                                    300000000,
                                    600000000,
                                    900000000,
                                    1800000000,
                                    INT64_C(3600000000),
                                    INT64_C(7200000000),
                                    INT64_C(10800000000),
                                    INT64_C(21600000000),
                                    INT64_C(43200000000),
                                    INT64_C(86400000000),
                                    INT64_C(172800000000),
                                    INT64_C(604800000000)};
    int64_t step = s->tmax / 10 + 1; /* beyond weeks: no round step */
    char b[40];

    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++)
        if (s->tmax / steps[k] <= 10) {
            step = steps[k];
            break;
        }
    for (int64_t t = 0; t <= s->tmax; t += step) {
        double x = rpt_x(s, t);
        fprintf(s->f,
                "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" class=\"grid\"/>"
                "<text x=\"%.1f\" y=\"14\" class=\"tick\">%s</text>\n",
                x, RPT_AXIS_H - 4, x, height - RPT_LEGEND_H, x, rpt_fmt_tick(b, sizeof b, t));
        if (s->tmax - t < step)
            break; /* no overflow near INT64_MAX */
    }
}

/* The background and name of row k (absolute coordinates). */
static void rpt_row_bg(struct rpt_svg *s, int k, const char *name, bool wait)
{
    int y = RPT_AXIS_H + k * RPT_ROW_H;

    fprintf(s->f,
            "<rect x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"%s\"/>"
            "<text x=\"4\" y=\"%d\" class=\"%s\">",
            y, RPT_LABEL_W + RPT_PLOT_W + RPT_RIGHT_W, RPT_ROW_H, k % 2 ? "r1" : "r0", y + 13,
            wait ? "lab wlab" : "lab");
    rpt_xml_str(s->f, name, false);
    fputs("</text>\n", s->f);
}

static void rpt_rows_bg(struct rpt_svg *s)
{
    const struct run_result *r = s->r;
    char name[48];

    for (int k = 0; k < s->nrows; k++)
        rpt_row_bg(s, k, s->rows[k].name, false);
    for (int k = 0; k < s->nwait_rows; k++) {
        if (k == RPT_MAX_WAIT_ROWS)
            snprintf(name, sizeof name, "+%zu more waits (see the table)",
                     r->nwaits - RPT_MAX_WAIT_ROWS);
        else
            snprintf(name, sizeof name, "%.28s", r->waits[k].who ? r->waits[k].who : "?");
        rpt_row_bg(s, s->nrows + k, name, true);
    }
}

/* The waits of a hang: bars from their start to the moment of judgement. */
static void rpt_wait_bars(struct rpt_svg *s)
{
    const struct run_result *r = s->r;
    char b1[40], b2[40];

    for (int k = 0; k < s->nwait_rows && k < RPT_MAX_WAIT_ROWS; k++) {
        const struct run_wait *w = &r->waits[k];
        double x0 = rpt_x(s, w->since_us), x1 = rpt_x(s, r->vtime_us);
        fprintf(s->f,
                "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"10\" class=\"wait\">"
                "<title>",
                x0, RPT_AXIS_H + (s->nrows + k) * RPT_ROW_H + 4, x1 - x0 > 1 ? x1 - x0 : 1);
        rpt_xml_str(s->f, w->who, false);
        fputs(" waits for ", s->f);
        rpt_xml_str(s->f, w->what, false);
        fprintf(s->f, "\nsince %s, pending for %s</title></rect>\n",
                rpt_fmt_dur(b1, sizeof b1, w->since_us), rpt_fmt_dur(b2, sizeof b2, w->age_us));
    }
}

static void rpt_markers(struct rpt_svg *s, int height)
{
    const struct run_result *r = s->r;
    char b[40];
    int y1 = RPT_AXIS_H, y2 = height - RPT_LEGEND_H;

    if (r->last_progress_us >= 0)
        fprintf(s->f,
                "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" class=\"prog\"><title>"
                "last progress at %s</title></line>\n",
                rpt_x(s, r->last_progress_us), y1, rpt_x(s, r->last_progress_us), y2,
                rpt_fmt_dur(b, sizeof b, r->last_progress_us));
    if (r->hang)
        fprintf(s->f,
                "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" class=\"hang\"><title>"
                "hang found at %s</title></line>\n",
                rpt_x(s, r->vtime_us), y1, rpt_x(s, r->vtime_us), y2,
                rpt_fmt_dur(b, sizeof b, r->vtime_us));
}

static void rpt_legend(struct rpt_svg *s, int height)
{
    int y = height - RPT_LEGEND_H + 6;

    fprintf(
        s->f,
        "<g transform=\"translate(%d,%d)\" class=\"legend\">"
        "<rect x=\"0\" y=\"1\" width=\"1.5\" height=\"12\" class=\"k\"/><text x=\"6\" y=\"12\">S3 "
        "call</text>"
        "<path d=\"M80 0l5 7-5 7-5-7z\" class=\"f\"/><text x=\"90\" y=\"12\">injected fault</text>"
        "<path d=\"M200 13l-5-10h10z\" class=\"x\"/><text x=\"210\" y=\"12\">failed</text>"
        "<rect x=\"270\" y=\"2\" width=\"2\" height=\"12\" class=\"bk\"/><rect x=\"270\" y=\"2\" "
        "width=\"2\" height=\"3\" class=\"bf\"/>"
        "<rect x=\"273\" y=\"5\" width=\"2\" height=\"9\" class=\"bk\"/>"
        "<text x=\"280\" y=\"12\">many calls in a column (red part: faults)</text>"
        "<rect x=\"520\" y=\"3\" width=\"24\" height=\"8\" class=\"sso\"/><text x=\"550\" "
        "y=\"12\">engine step</text>"
        "<rect x=\"640\" y=\"3\" width=\"24\" height=\"10\" class=\"wait\"/><text x=\"670\" "
        "y=\"12\">pending wait</text>"
        "<line x1=\"770\" y1=\"0\" x2=\"770\" y2=\"14\" class=\"hang\"/><text x=\"776\" "
        "y=\"12\">hang found</text>"
        "<line x1=\"860\" y1=\"0\" x2=\"860\" y2=\"14\" class=\"prog\"/><text x=\"866\" "
        "y=\"12\">last progress</text>"
        "</g>\n",
        RPT_LABEL_W, y);
}

int rpt_svg_timeline(FILE *f, const struct run_result *r)
{
    struct rpt_svg s = {.f = f, .r = r};
    int rc = rpt_svg_layout(&s), height, width = RPT_LABEL_W + RPT_PLOT_W + RPT_RIGHT_W;

    if (rc)
        goto out;
    height = RPT_AXIS_H + (s.nrows + s.nwait_rows) * RPT_ROW_H + RPT_LEGEND_H;
    /* Inline SVG in HTML5 needs no xmlns (and the page holds no URL at all). */
    fprintf(f, "<svg class=\"tl\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n",
            width, height, width, height);
    rpt_rows_bg(&s);
    rpt_axis(&s, height);
    for (int k = 0; k < s.nrows && rc == 0; k++) {
        const struct rpt_row *row = &s.rows[k];
        fprintf(f, "<g transform=\"translate(0,%d)\">\n", RPT_AXIS_H + k * RPT_ROW_H);
        if (row->n > RPT_DENSE)
            rc = rpt_binned(&s, row);
        else
            for (size_t j = 0; j < row->n; j++)
                rpt_mark(&s, &r->events[s.order[row->first + j]]);
        fputs("</g>\n", f);
    }
    rpt_wait_bars(&s);
    rpt_markers(&s, height);
    rpt_legend(&s, height);
    fputs("</svg>\n", f);
out:
    free(s.order);
    return rc;
}
