/*
 * plot.c - writing 2-D maps: CSV, TensorBoard Projector TSV and an SVG
 * scatter plot with labels placed to avoid each other. See w2v/project.h.
 */
#include "w2v/project.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "w2v/svg.h"

/* ---------------------------------------------------------------------- */
/* CSV and TSV                                                             */

/* s as one RFC 4180 field: quoted when it holds , " CR or LF. */
static void csv_field(FILE *fp, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (; *s != '\0'; s++) {
        if (*s == '"')
            fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

static int check_coords(const float *xy, size_t n, w2v_error *err)
{
    for (size_t i = 0; i < 2 * n; i++)
        if (!isfinite(xy[i]))
            return w2v_fail(err, W2V_ERR_ARG, "coordinate of point %zu is "
                            "not finite", i / 2);
    return W2V_OK;
}

int w2v_project_write_csv(const char *path, const w2v_wordset *ws,
                          const float *xy, w2v_error *err)
{
    size_t n = w2v_wordset_size(ws);
    int groups = w2v_wordset_n_groups(ws) > 0;
    int rc = check_coords(xy, n, err);
    if (rc != W2V_OK)
        return rc;
    w2v_outfile o;
    rc = w2v_outfile_open(&o, path, err);
    if (rc != W2V_OK)
        return rc;
    fputs(groups ? "word,x,y,group\r\n" : "word,x,y\r\n", o.fp);
    for (size_t i = 0; i < n; i++) {
        csv_field(o.fp, w2v_wordset_word(ws, i));
        fprintf(o.fp, ",%.6g,%.6g", xy[2 * i], xy[2 * i + 1]);
        if (groups) {
            size_t g = w2v_wordset_group(ws, i);
            fputc(',', o.fp);
            if (g != W2V_NO_GROUP)
                csv_field(o.fp, w2v_wordset_group_name(ws, g));
        }
        fputs("\r\n", o.fp);
    }
    return w2v_outfile_commit(&o, err);
}

/* s with tabs, CR and LF as spaces: one TSV field. */
static void tsv_field(FILE *fp, const char *s)
{
    for (; *s != '\0'; s++)
        fputc(*s == '\t' || *s == '\r' || *s == '\n' ? ' ' : *s, fp);
}

static int tsv_open(w2v_outfile *o, const char *prefix, const char *suffix,
                    w2v_error *err)
{
    size_t len = strlen(prefix) + strlen(suffix) + 1;
    char *path = malloc(len);
    if (path == NULL)
        return w2v_fail_nomem(err, "a file name");
    snprintf(path, len, "%s%s", prefix, suffix);
    int rc = w2v_outfile_open(o, path, err);
    free(path);
    return rc;
}

int w2v_project_write_tsv(const char *prefix, const w2v_wordset *ws,
                          const float *vectors, size_t dim, w2v_error *err)
{
    if (prefix == NULL || prefix[0] == '\0')
        return w2v_fail(err, W2V_ERR_ARG, "empty TSV prefix");
    size_t n = w2v_wordset_size(ws);
    w2v_outfile vec, meta;
    int rc = tsv_open(&vec, prefix, "_vectors.tsv", err);
    if (rc != W2V_OK)
        return rc;
    rc = tsv_open(&meta, prefix, "_metadata.tsv", err);
    if (rc != W2V_OK) {
        w2v_outfile_abort(&vec);
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < dim; j++)
            fprintf(vec.fp, j ? "\t%.6g" : "%.6g", vectors[i * dim + j]);
        fputc('\n', vec.fp);
    }
    int groups = w2v_wordset_n_groups(ws) > 0;
    if (groups)
        fputs("word\tgroup\n", meta.fp);
    for (size_t i = 0; i < n; i++) {
        tsv_field(meta.fp, w2v_wordset_word(ws, i));
        if (groups) {
            size_t g = w2v_wordset_group(ws, i);
            fputc('\t', meta.fp);
            if (g != W2V_NO_GROUP)
                tsv_field(meta.fp, w2v_wordset_group_name(ws, g));
        }
        fputc('\n', meta.fp);
    }
    /* Catch a full disk on either before renaming the first into place. */
    if (fflush(vec.fp) != 0 || fflush(meta.fp) != 0 || ferror(vec.fp) ||
        ferror(meta.fp)) {
        w2v_outfile_abort(&vec);
        w2v_outfile_abort(&meta);
        return w2v_fail(err, W2V_ERR_IO, "%s_*.tsv: write failed; the files "
                        "were not changed", prefix);
    }
    rc = w2v_outfile_commit(&vec, err);
    if (rc != W2V_OK) {
        w2v_outfile_abort(&meta);
        return rc;
    }
    return w2v_outfile_commit(&meta, err);
}

/* ---------------------------------------------------------------------- */
/* Plot geometry                                                           */

w2v_plot_options w2v_plot_options_default(void)
{
    w2v_plot_options o;
    memset(&o, 0, sizeof o);
    o.width = 1200;
    o.height = 900;
    o.font_size = 12;
    o.point_radius = 0;
    o.max_stretch = 1;
    return o;
}

/* An axis-aligned box in pixels. */
typedef struct box {
    double x0, y0, x1, y1;
} box;

static int overlap(const box *a, const box *b)
{
    return a->x0 < b->x1 && b->x0 < a->x1 && a->y0 < b->y1 && b->y0 < a->y1;
}

/*
 * Boxes already placed, bucketed into a grid of square cells so that a
 * new box is tested only against its neighbours.
 */
#define GRID_CELL 40.0

typedef struct grid {
    size_t cols, rows;
    size_t **cell; /* (rows * cols) arrays of box ids */
    size_t *len, *cap;
    box *boxes;
    size_t n, n_cap;
} grid;

static int grid_init(grid *g, double width, double height)
{
    memset(g, 0, sizeof *g);
    g->cols = (size_t)(width / GRID_CELL) + 1;
    g->rows = (size_t)(height / GRID_CELL) + 1;
    size_t cells = g->cols * g->rows;
    g->cell = calloc(cells, sizeof *g->cell);
    g->len = calloc(cells, sizeof *g->len);
    g->cap = calloc(cells, sizeof *g->cap);
    return g->cell != NULL && g->len != NULL && g->cap != NULL;
}

static void grid_free(grid *g)
{
    for (size_t c = 0; g->cell != NULL && c < g->cols * g->rows; c++)
        free(g->cell[c]);
    free(g->cell);
    free(g->len);
    free(g->cap);
    free(g->boxes);
}

/* Cell range [c0, c1] x [r0, r1] that b touches, clamped to the grid. */
static void grid_span(const grid *g, const box *b, size_t *c0, size_t *c1,
                      size_t *r0, size_t *r1)
{
    double v[4] = {b->x0 / GRID_CELL, b->x1 / GRID_CELL, b->y0 / GRID_CELL,
                   b->y1 / GRID_CELL};
    size_t lim[4] = {g->cols - 1, g->cols - 1, g->rows - 1, g->rows - 1};
    size_t *out[4] = {c0, c1, r0, r1};
    for (int i = 0; i < 4; i++) {
        double f = floor(v[i]);
        *out[i] = f < 0 ? 0 : f > (double)lim[i] ? lim[i] : (size_t)f;
    }
}

static int grid_hits(const grid *g, const box *b)
{
    size_t c0, c1, r0, r1;
    grid_span(g, b, &c0, &c1, &r0, &r1);
    for (size_t r = r0; r <= r1; r++)
        for (size_t c = c0; c <= c1; c++) {
            size_t at = r * g->cols + c;
            for (size_t k = 0; k < g->len[at]; k++)
                if (overlap(b, &g->boxes[g->cell[at][k]]))
                    return 1;
        }
    return 0;
}

static int grid_add(grid *g, const box *b)
{
    if (g->n == g->n_cap) {
        size_t c = g->n_cap ? 2 * g->n_cap : 256;
        box *p = realloc(g->boxes, c * sizeof *p);
        if (p == NULL)
            return 0;
        g->boxes = p;
        g->n_cap = c;
    }
    size_t id = g->n;
    g->boxes[g->n++] = *b;
    size_t c0, c1, r0, r1;
    grid_span(g, b, &c0, &c1, &r0, &r1);
    for (size_t r = r0; r <= r1; r++)
        for (size_t c = c0; c <= c1; c++) {
            size_t at = r * g->cols + c;
            if (g->len[at] == g->cap[at]) {
                size_t nc = g->cap[at] ? 2 * g->cap[at] : 8;
                size_t *p = realloc(g->cell[at], nc * sizeof *p);
                if (p == NULL)
                    return 0;
                g->cell[at] = p;
                g->cap[at] = nc;
            }
            g->cell[at][g->len[at]++] = id;
        }
    return 1;
}

/* A round step near range / target: 1, 2 or 5 times a power of ten. */
static double nice_step(double range, int target)
{
    double raw = range / target;
    double p = pow(10, floor(log10(raw)));
    double m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

/* The frame: where data coordinates land on the page. */
typedef struct frame {
    box area;        /* plot area in pixels */
    double x0, y1;   /* data at the area's left and top edges */
    double sx, sy;   /* pixels per data unit on each axis */
    double xmax, ymin; /* data at the right and bottom edges */
} frame;

static double px_x(const frame *f, double x)
{
    return f->area.x0 + (x - f->x0) * f->sx;
}

static double px_y(const frame *f, double y)
{
    return f->area.y0 + (f->y1 - y) * f->sy;
}

/*
 * Scales for the data in the area less a margin that leaves room for
 * labels at the edges (more on the right, where labels go first): equal
 * on both axes, or, to fill more of the area, one up to max_stretch times
 * the other.
 */
static void fit_frame(frame *f, const float *xy, size_t n, double font,
                      double max_stretch)
{
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 2; c++) {
            lo[c] = fmin(lo[c], xy[2 * i + c]);
            hi[c] = fmax(hi[c], xy[2 * i + c]);
        }
    double w = f->area.x1 - f->area.x0, h = f->area.y1 - f->area.y0;
    double pad_left = 2 * font, pad_right = 7 * font, pad_y = 2 * font;
    double dx = hi[0] - lo[0], dy = hi[1] - lo[1];
    if (!(dx > 0) && !(dy > 0))
        dx = dy = 1;
    double fx = dx > 0 ? (w - pad_left - pad_right) / dx : INFINITY;
    double fy = dy > 0 ? (h - 2 * pad_y) / dy : INFINITY;
    double s = fmin(fx, fy);
    double stretch = max_stretch >= 1 ? max_stretch : 1;
    f->sx = fmin(fx, s * stretch);
    f->sy = fmin(fy, s * stretch);
    /* Centred on the data, shifted left by half the extra right margin. */
    double cx = (lo[0] + hi[0]) / 2 + (pad_right - pad_left) / 2 / f->sx;
    double cy = (lo[1] + hi[1]) / 2;
    f->x0 = cx - w / 2 / f->sx;
    f->xmax = cx + w / 2 / f->sx;
    f->y1 = cy + h / 2 / f->sy;
    f->ymin = cy - h / 2 / f->sy;
}

/* A tick label with as many decimals as the step needs. */
static void tick_label(double v, double step, char *buf, size_t cap)
{
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (fabs(v) < step * 1e-6)
        v = 0;
    snprintf(buf, cap, "%.*f", dec, v);
}

/* ---------------------------------------------------------------------- */
/* Drawing                                                                 */

typedef struct plot {
    w2v_svg *svg;
    const w2v_wordset *ws;
    const float *xy;
    const w2v_plot_options *o;
    frame f;
    double font;
} plot;

static void draw_axes(plot *p)
{
    const frame *f = &p->f;
    w2v_svg_style bg = w2v_svg_style_default();
    bg.fill = "#fbfbfd";
    bg.stroke = "#c8c8d0";
    bg.stroke_width = 1;
    w2v_svg_rect(p->svg, f->area.x0, f->area.y0, f->area.x1 - f->area.x0,
                 f->area.y1 - f->area.y0, &bg);
    w2v_svg_style grid_line = w2v_svg_style_default();
    grid_line.stroke = "#e4e4ea";
    grid_line.stroke_width = 1;
    w2v_svg_text_style ts = w2v_svg_text_style_default();
    ts.size = 11;
    ts.fill = "#666670";
    char buf[64];
    /* About 8 grid lines across and 6 down (the area is wider). */
    double step_x = nice_step(f->xmax - f->x0, 8);
    double step_y = nice_step(f->y1 - f->ymin, 6);
    w2v_svg_group_begin(p->svg, "axes", NULL);
    ts.anchor = W2V_SVG_ANCHOR_MIDDLE;
    ts.baseline = W2V_SVG_BASELINE_HANGING;
    for (double v = ceil(f->x0 / step_x) * step_x; v <= f->xmax;
         v += step_x) {
        double x = px_x(f, v);
        w2v_svg_line(p->svg, x, f->area.y0, x, f->area.y1, &grid_line);
        tick_label(v, step_x, buf, sizeof buf);
        w2v_svg_text(p->svg, x, f->area.y1 + 6, buf, &ts);
    }
    ts.anchor = W2V_SVG_ANCHOR_END;
    ts.baseline = W2V_SVG_BASELINE_MIDDLE;
    for (double v = ceil(f->ymin / step_y) * step_y; v <= f->y1;
         v += step_y) {
        double y = px_y(f, v);
        w2v_svg_line(p->svg, f->area.x0, y, f->area.x1, y, &grid_line);
        tick_label(v, step_y, buf, sizeof buf);
        w2v_svg_text(p->svg, f->area.x0 - 6, y, buf, &ts);
    }
    ts.size = 12;
    ts.fill = "#444450";
    if (p->o->x_label != NULL) {
        ts.anchor = W2V_SVG_ANCHOR_MIDDLE;
        ts.baseline = W2V_SVG_BASELINE_HANGING;
        w2v_svg_text(p->svg, (f->area.x0 + f->area.x1) / 2, f->area.y1 + 24,
                     p->o->x_label, &ts);
    }
    if (p->o->y_label != NULL) {
        ts.anchor = W2V_SVG_ANCHOR_MIDDLE;
        ts.baseline = W2V_SVG_BASELINE_ALPHABETIC;
        ts.rotate = -90;
        w2v_svg_text(p->svg, f->area.x0 - 40, (f->area.y0 + f->area.y1) / 2,
                     p->o->y_label, &ts);
    }
    w2v_svg_group_end(p->svg);
}

/* The colour of word i's group (the first palette colour without one). */
static const char *point_colour(const w2v_wordset *ws, size_t i)
{
    size_t g = w2v_wordset_group(ws, i);
    return w2v_svg_palette(g == W2V_NO_GROUP ? 0 : g);
}

/* c ("#rrggbb") darkened towards black by f in [0, 1], into out (8). */
static void darken(const char *c, double f, char out[8])
{
    unsigned rgb[3] = {0, 0, 0};
    if (sscanf(c, "#%2x%2x%2x", &rgb[0], &rgb[1], &rgb[2]) != 3)
        rgb[0] = rgb[1] = rgb[2] = 0x40;
    for (int k = 0; k < 3; k++)
        rgb[k] = (unsigned)lround(rgb[k] * (1 - f));
    snprintf(out, 8, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

/* Point radius: the option, or smaller as the points get many. */
static double point_radius(const plot *p)
{
    if (p->o->point_radius > 0)
        return p->o->point_radius;
    size_t n = w2v_wordset_size(p->ws);
    return n <= 300 ? 4 : n <= 1500 ? 3 : 2;
}

static void draw_points(plot *p, grid *g, int *ok)
{
    size_t n = w2v_wordset_size(p->ws);
    double r = point_radius(p);
    w2v_svg_style st = w2v_svg_style_default();
    st.stroke = "white";
    st.stroke_width = r >= 3 ? 0.8 : 0.4;
    w2v_svg_group_begin(p->svg, "points", NULL);
    for (size_t i = 0; i < n; i++) {
        double x = px_x(&p->f, p->xy[2 * i]), y = px_y(&p->f, p->xy[2 * i + 1]);
        st.fill = point_colour(p->ws, i);
        w2v_svg_group_begin(p->svg, NULL, NULL);
        w2v_svg_title(p->svg, w2v_wordset_word(p->ws, i));
        w2v_svg_circle(p->svg, x, y, r, &st);
        w2v_svg_group_end(p->svg);
        box b = {x - r, y - r, x + r, y + r};
        *ok &= grid_add(g, &b);
    }
    w2v_svg_group_end(p->svg);
}

/* Rings of candidate positions around a point, 8 directions each. */
#define LABEL_RINGS 6

/*
 * Where a label of w x h may go around a point at (x, y) of radius r:
 * the box for candidate c (0 = right of the point, then left, above,
 * below, the four diagonals, then the same further out). Returns 0 past
 * the last candidate.
 */
static int candidate(int c, double x, double y, double r, double w, double h,
                     box *b)
{
    static const double dir[8][2] = {{1, 0},  {-1, 0}, {0, -1}, {0, 1},
                                     {1, -1}, {1, 1},  {-1, -1}, {-1, 1}};
    if (c >= 8 * LABEL_RINGS)
        return 0;
    const double *d = dir[c % 8];
    double gap = r + 2 + (c / 8) * (h * 0.8);
    double cx = x + d[0] * (gap + w / 2), cy = y + d[1] * (gap + h / 2);
    if (d[0] == 0)
        cx = x;
    if (d[1] == 0)
        cy = y;
    *b = (box){cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2};
    return 1;
}

/* Where a label went. */
typedef struct label_pos {
    box b;       /* its box (text starts at b.x0, centred on b's middle) */
    int placed;  /* 0: crowded out, drawn small beside its point */
    int far;     /* placed beyond the first ring: gets a leader line */
} label_pos;

/*
 * Greedy placement in word order (the most frequent words first for
 * -top): each label takes the first candidate box inside the plot area
 * that overlaps no point and no label placed before it.
 */
static void place_labels(plot *p, grid *g, label_pos *pos, int *ok)
{
    size_t n = w2v_wordset_size(p->ws);
    double r = point_radius(p), fs = p->font;
    const box *area = &p->f.area;
    for (size_t i = 0; i < n; i++) {
        const char *word = w2v_wordset_word(p->ws, i);
        double x = px_x(&p->f, p->xy[2 * i]), y = px_y(&p->f, p->xy[2 * i + 1]);
        double w = w2v_svg_text_width(word, strlen(word), fs) + 2;
        double h = fs * 1.05;
        box b;
        pos[i].placed = 0;
        for (int c = 0; !pos[i].placed && candidate(c, x, y, r, w, h, &b);
             c++) {
            if (b.x0 < area->x0 + 1 || b.x1 > area->x1 - 1 ||
                b.y0 < area->y0 + 1 || b.y1 > area->y1 - 1 ||
                grid_hits(g, &b))
                continue;
            pos[i].placed = 1;
            pos[i].far = c >= 8;
            pos[i].b = b;
            *ok &= grid_add(g, &b);
        }
        if (!pos[i].placed) {
            double small = fs * 0.7;
            pos[i].b = (box){x + r + 1, y - small / 2, x + r + 1, y + small / 2};
        }
    }
}

/* The point of box b nearest to (x, y). */
static void nearest_on_box(const box *b, double x, double y, double *bx,
                           double *by)
{
    *bx = x < b->x0 ? b->x0 : x > b->x1 ? b->x1 : x;
    *by = y < b->y0 ? b->y0 : y > b->y1 ? b->y1 : y;
}

static void draw_leaders(plot *p, const label_pos *pos)
{
    size_t n = w2v_wordset_size(p->ws);
    double r = point_radius(p);
    w2v_svg_style st = w2v_svg_style_default();
    st.stroke = "#9a9aa8";
    st.stroke_width = 0.7;
    w2v_svg_group_begin(p->svg, "leaders", NULL);
    for (size_t i = 0; i < n; i++) {
        if (!pos[i].placed || !pos[i].far)
            continue;
        double x = px_x(&p->f, p->xy[2 * i]), y = px_y(&p->f, p->xy[2 * i + 1]);
        double bx, by;
        nearest_on_box(&pos[i].b, x, y, &bx, &by);
        double dx = bx - x, dy = by - y, len = sqrt(dx * dx + dy * dy);
        if (len <= r + 1)
            continue;
        w2v_svg_line(p->svg, x + dx / len * r, y + dy / len * r, bx, by, &st);
    }
    w2v_svg_group_end(p->svg);
}

static void draw_labels(plot *p, const label_pos *pos)
{
    size_t n = w2v_wordset_size(p->ws);
    w2v_svg_text_style ts = w2v_svg_text_style_default();
    ts.baseline = W2V_SVG_BASELINE_MIDDLE;
    ts.halo = "white";
    w2v_svg_group_begin(p->svg, "labels", NULL);
    for (size_t i = 0; i < n; i++) {
        char colour[8];
        darken(point_colour(p->ws, i), 0.35, colour);
        ts.fill = colour;
        /* A crowded-out label is small and faint, so it reads when zoomed
           without hiding the labels that did fit. */
        ts.size = pos[i].placed ? p->font : p->font * 0.7;
        ts.opacity = pos[i].placed ? 0 : 0.55;
        ts.halo = pos[i].placed ? "white" : NULL;
        w2v_svg_text(p->svg, pos[i].b.x0, (pos[i].b.y0 + pos[i].b.y1) / 2,
                     w2v_wordset_word(p->ws, i), &ts);
    }
    w2v_svg_group_end(p->svg);
}

/* Most groups the legend lists before "and N more". */
#define LEGEND_MAX 30

static void draw_legend(plot *p, double x, double y)
{
    size_t ng = w2v_wordset_n_groups(p->ws);
    if (ng == 0)
        return;
    size_t shown = ng <= LEGEND_MAX ? ng : LEGEND_MAX - 1;
    double row = 20;
    w2v_svg_group_begin(p->svg, "legend", NULL);
    w2v_svg_style frame_st = w2v_svg_style_default();
    frame_st.fill = "white";
    frame_st.stroke = "#c8c8d0";
    frame_st.stroke_width = 1;
    double hgt = 30 + row * (double)(shown + (shown < ng));
    w2v_svg_rect(p->svg, x, y, p->o->width - x - 16, hgt, &frame_st);
    w2v_svg_text_style ts = w2v_svg_text_style_default();
    ts.size = 13;
    ts.bold = 1;
    ts.fill = "#333340";
    ts.baseline = W2V_SVG_BASELINE_MIDDLE;
    w2v_svg_text(p->svg, x + 12, y + 16, "groups", &ts);
    ts.bold = 0;
    ts.size = 12.5;
    w2v_svg_style dot = w2v_svg_style_default();
    for (size_t gi = 0; gi < shown; gi++) {
        double cy = y + 36 + row * (double)gi;
        dot.fill = w2v_svg_palette(gi);
        w2v_svg_circle(p->svg, x + 18, cy, 5.5, &dot);
        w2v_svg_text(p->svg, x + 30, cy, w2v_wordset_group_name(p->ws, gi),
                     &ts);
    }
    if (shown < ng) {
        char buf[64];
        snprintf(buf, sizeof buf, "and %zu more", ng - shown);
        ts.fill = "#777780";
        w2v_svg_text(p->svg, x + 30, y + 36 + row * (double)shown, buf, &ts);
    }
    w2v_svg_group_end(p->svg);
}

static void draw_titles(plot *p)
{
    w2v_svg_text_style ts = w2v_svg_text_style_default();
    ts.baseline = W2V_SVG_BASELINE_ALPHABETIC;
    if (p->o->title != NULL && p->o->title[0] != '\0') {
        w2v_svg_title(p->svg, p->o->title);
        ts.size = 22;
        ts.bold = 1;
        ts.fill = "#222230";
        w2v_svg_text(p->svg, p->f.area.x0, 34, p->o->title, &ts);
    }
    if (p->o->subtitle != NULL && p->o->subtitle[0] != '\0') {
        ts.size = 13;
        ts.bold = 0;
        ts.fill = "#666670";
        w2v_svg_text(p->svg, p->f.area.x0, 56, p->o->subtitle, &ts);
    }
}

int w2v_project_write_svg(const char *path, const w2v_wordset *ws,
                          const float *xy, const w2v_plot_options *opt,
                          w2v_error *err)
{
    w2v_plot_options o = opt != NULL ? *opt : w2v_plot_options_default();
    if (!(o.width >= 200) || !(o.height >= 200) || !isfinite(o.width) ||
        !isfinite(o.height))
        return w2v_fail(err, W2V_ERR_ARG, "plot size %g x %g: at least 200 "
                        "x 200", o.width, o.height);
    size_t n = w2v_wordset_size(ws);
    int rc = check_coords(xy, n, err);
    if (rc != W2V_OK)
        return rc;
    plot p = {NULL, ws, xy, &o, {{0, 0, 0, 0}, 0, 0, 0, 0, 0, 0},
              o.font_size > 0 ? o.font_size : 12};
    double legend_w = w2v_wordset_n_groups(ws) > 0 ? 190 : 0;
    p.f.area = (box){70, 72, o.width - 24 - legend_w, o.height - 56};
    fit_frame(&p.f, xy, n, p.font, o.max_stretch);
    grid g;
    if (!grid_init(&g, o.width, o.height)) {
        grid_free(&g);
        return w2v_fail_nomem(err, "the label layout");
    }
    rc = w2v_svg_begin(path, o.width, o.height, NULL, &p.svg, err);
    if (rc != W2V_OK) {
        grid_free(&g);
        return rc;
    }
    w2v_svg_style white = w2v_svg_style_default();
    white.fill = "white";
    w2v_svg_rect(p.svg, 0, 0, o.width, o.height, &white);
    draw_titles(&p);
    draw_axes(&p);
    int ok = 1;
    label_pos *pos = malloc((n ? n : 1) * sizeof *pos);
    ok = pos != NULL;
    if (ok) {
        draw_points(&p, &g, &ok);
        place_labels(&p, &g, pos, &ok);
        draw_leaders(&p, pos);
        draw_labels(&p, pos);
    }
    free(pos);
    draw_legend(&p, p.f.area.x1 + 14, p.f.area.y0);
    grid_free(&g);
    if (!ok) {
        w2v_svg_free(p.svg);
        return w2v_fail_nomem(err, "the label layout");
    }
    return w2v_svg_finish(p.svg, err);
}
