/*
 * attention_svg.c - the attention weights as a labelled SVG heatmap, one
 * panel per head, drawn with the SVG writer. See w2v/attention.h.
 */
#include "w2v/attention.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util.h"
#include "w2v/svg.h"

/* Layout, in SVG user units (pixels). */
#define FONT 11.0
#define LABEL_MAX_W 110.0 /* longer labels are cut */
#define MARGIN 16.0
#define HEADER_H 34.0     /* the picture's title */
#define PANEL_TITLE_H 20.0
#define PANEL_GAP 28.0
#define PANELS_PER_ROW 4
#define LEGEND_H 56.0
#define LEGEND_STEPS 32
#define VALUES_UP_TO 24   /* tokens: print each cell's value */
#define TOOLTIPS_UP_TO 64 /* tokens: give each cell a tooltip */
#define MASKED_FILL "#e8e8e8"

typedef struct layout {
    size_t n, heads;
    double cell;    /* cell side */
    double label_w; /* room for the row labels (and the column labels) */
    double panel_w, panel_h;
    double max_w;   /* largest weight over all heads: the top of the scale */
} layout;

/* How many bytes of label fit in LABEL_MAX_W (cut at a UTF-8 boundary). */
static size_t label_fit(const char *s)
{
    size_t len = strlen(s);
    while (len > 0 && w2v_svg_text_width(s, len, FONT) > LABEL_MAX_W) {
        len--;
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
            len--;
    }
    return len;
}

static layout make_layout(const w2v_attention_out *o,
                          const char *const *labels)
{
    layout l;
    l.n = o->n;
    l.heads = o->heads;
    l.cell = o->n <= 16 ? 34.0 : fmax(4.0, floor(544.0 / (double)o->n));
    l.label_w = 0;
    for (size_t i = 0; i < o->n; i++) {
        double w = w2v_svg_text_width(labels[i], label_fit(labels[i]), FONT);
        if (w > l.label_w)
            l.label_w = w;
    }
    l.label_w += 8;
    l.panel_w = l.label_w + (double)o->n * l.cell + PANEL_GAP;
    l.panel_h = PANEL_TITLE_H + l.label_w + (double)o->n * l.cell + PANEL_GAP;
    l.max_w = 0;
    for (size_t i = 0; i < o->heads * o->n * o->n; i++)
        if (o->weights[i] > l.max_w)
            l.max_w = o->weights[i];
    if (!(l.max_w > 0))
        l.max_w = 1;
    return l;
}

/* The token labels down the left and, turned upwards, along the top. */
static void draw_labels(w2v_svg *s, const layout *l, double left, double top,
                        const char *const *labels)
{
    w2v_svg_text_style rows = w2v_svg_text_style_default();
    rows.size = FONT;
    rows.anchor = W2V_SVG_ANCHOR_END;
    rows.baseline = W2V_SVG_BASELINE_MIDDLE;
    w2v_svg_text_style cols = rows;
    cols.anchor = W2V_SVG_ANCHOR_START;
    cols.rotate = -90;
    for (size_t i = 0; i < l->n; i++) {
        double mid = (double)i * l->cell + l->cell / 2;
        size_t fit = label_fit(labels[i]);
        w2v_svg_text_n(s, left - 4, top + mid, labels[i], fit, &rows);
        w2v_svg_text_n(s, left + mid, top - 4, labels[i], fit, &cols);
    }
}

/* One cell: its colour, maybe its value and a tooltip. */
static void draw_cell(w2v_svg *s, const layout *l, double x, double y,
                      float w, int masked, const char *query,
                      const char *key)
{
    char fill[8], tip[256], val[16];
    double t = w / l->max_w;
    w2v_svg_ramp(t, fill);
    w2v_svg_style st = w2v_svg_style_default();
    st.fill = masked ? MASKED_FILL : fill;
    st.stroke = "white";
    st.stroke_width = l->cell >= 12 ? 1 : 0;
    int tooltip = l->n <= TOOLTIPS_UP_TO;
    if (tooltip) {
        snprintf(tip, sizeof tip, "%s -> %s: %.4f%s", query, key, (double)w,
                 masked ? " (masked)" : "");
        w2v_svg_group_begin(s, NULL, NULL);
        w2v_svg_title(s, tip);
    }
    w2v_svg_rect(s, x, y, l->cell, l->cell, &st);
    if (l->n <= VALUES_UP_TO && !masked) {
        w2v_svg_text_style ts = w2v_svg_text_style_default();
        ts.size = 9;
        ts.anchor = W2V_SVG_ANCHOR_MIDDLE;
        ts.baseline = W2V_SVG_BASELINE_MIDDLE;
        ts.fill = t > 0.55 ? "black" : "white";
        snprintf(val, sizeof val, "%.2f", (double)w);
        w2v_svg_text(s, x + l->cell / 2, y + l->cell / 2, val, &ts);
    }
    if (tooltip)
        w2v_svg_group_end(s);
}

/* Panel h with its top-left corner at (px, py). */
static void draw_panel(w2v_svg *s, const layout *l, size_t h, double px,
                       double py, const w2v_attention_out *o,
                       const char *const *labels, int causal)
{
    char name[32];
    snprintf(name, sizeof name, "head %zu", h + 1);
    w2v_svg_group_begin(s, name, NULL);
    w2v_svg_text_style ts = w2v_svg_text_style_default();
    ts.size = 13;
    ts.bold = 1;
    double left = px + l->label_w, top = py + PANEL_TITLE_H + l->label_w;
    w2v_svg_text(s, left, py + 14, name, &ts);
    draw_labels(s, l, left, top, labels);
    const float *w = o->weights + h * l->n * l->n;
    for (size_t i = 0; i < l->n; i++)
        for (size_t j = 0; j < l->n; j++)
            draw_cell(s, l, left + (double)j * l->cell,
                      top + (double)i * l->cell, w[i * l->n + j],
                      causal && j > i, labels[i], labels[j]);
    w2v_svg_group_end(s);
}

/* The colour scale, 0 to the largest weight. */
static void draw_legend(w2v_svg *s, const layout *l, double x, double y,
                        int causal)
{
    w2v_svg_text_style ts = w2v_svg_text_style_default();
    ts.size = FONT;
    w2v_svg_text(s, x, y + 12, "attention weight (rows: query token; "
                 "columns: the key token it attends to; each row sums to 1)",
                 &ts);
    double bw = 8, by = y + 20;
    for (int i = 0; i < LEGEND_STEPS; i++) {
        char fill[8];
        w2v_svg_ramp((double)i / (LEGEND_STEPS - 1), fill);
        w2v_svg_style st = w2v_svg_style_default();
        st.fill = fill;
        w2v_svg_rect(s, x + i * bw, by, bw, 12, &st);
    }
    char hi[32];
    snprintf(hi, sizeof hi, "%.3f", l->max_w);
    w2v_svg_text(s, x, by + 26, "0", &ts);
    ts.anchor = W2V_SVG_ANCHOR_END;
    w2v_svg_text(s, x + LEGEND_STEPS * bw, by + 26, hi, &ts);
    if (causal) {
        w2v_svg_style st = w2v_svg_style_default();
        st.fill = MASKED_FILL;
        double mx = x + LEGEND_STEPS * bw + 24;
        w2v_svg_rect(s, mx, by, 12, 12, &st);
        ts.anchor = W2V_SVG_ANCHOR_START;
        w2v_svg_text(s, mx + 18, by + 10, "masked (causal): weight 0", &ts);
    }
}

int w2v_attention_svg(const char *path, const w2v_attention_out *out,
                      const char *const *labels, const char *title,
                      int causal, w2v_error *err)
{
    if (out == NULL || out->n == 0 || out->heads == 0 || labels == NULL)
        return w2v_fail(err, W2V_ERR_ARG, "%s: nothing to draw", path);
    if (out->n > W2V_ATTENTION_SVG_MAX_TOKENS)
        return w2v_fail(err, W2V_ERR_ARG, "%s: %zu tokens are too many for "
                        "a heatmap; at most %d", path, out->n,
                        W2V_ATTENTION_SVG_MAX_TOKENS);
    layout l = make_layout(out, labels);
    size_t per_row = out->heads < PANELS_PER_ROW ? out->heads : PANELS_PER_ROW;
    size_t rows = (out->heads + PANELS_PER_ROW - 1) / PANELS_PER_ROW;
    double width = 2 * MARGIN + (double)per_row * l.panel_w;
    double height = MARGIN + HEADER_H + (double)rows * l.panel_h + LEGEND_H;
    width = fmax(width, 2 * MARGIN + 560);
    w2v_svg *s = NULL;
    int rc = w2v_svg_begin(path, width, height, NULL, &s, err);
    if (rc != W2V_OK)
        return rc;
    w2v_svg_title(s, title ? title : "attention weights");
    w2v_svg_style bg = w2v_svg_style_default();
    bg.fill = "white";
    w2v_svg_rect(s, 0, 0, width, height, &bg);
    if (title != NULL) {
        w2v_svg_text_style ts = w2v_svg_text_style_default();
        ts.size = 15;
        ts.bold = 1;
        w2v_svg_text(s, MARGIN, MARGIN + 14, title, &ts);
    }
    for (size_t h = 0; h < out->heads; h++)
        draw_panel(s, &l, h,
                   MARGIN + (double)(h % PANELS_PER_ROW) * l.panel_w,
                   MARGIN + HEADER_H + (double)(h / PANELS_PER_ROW) * l.panel_h,
                   out, labels, causal);
    draw_legend(s, &l, MARGIN, height - LEGEND_H, causal);
    return w2v_svg_finish(s, err);
}
