/*
 * svg.c - an SVG document writer with XML escaping. See w2v/svg.h.
 *
 * Elements go straight to the output file, one per line, indented by group
 * depth. The only state is the open file, the group depth and the first
 * error of a drawing call, which w2v_svg_finish reports.
 */
#include "w2v/svg.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct w2v_svg {
    w2v_outfile out;
    int depth;       /* open groups */
    w2v_error first; /* first failed drawing call; code W2V_OK if none */
};

/* ---------------------------------------------------------------------- */
/* Escaping                                                                */

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

/*
 * Length of the valid UTF-8 sequence at p[0, n) that XML 1.0 allows as
 * character data, or 0 if the bytes there are not one (then the caller
 * writes U+FFFD for p[0] and moves on by one byte). Overlong forms,
 * surrogates, code points above U+10FFFF, the non-characters U+FFFE and
 * U+FFFF and the control characters other than tab, newline and carriage
 * return are all rejected.
 */
static size_t xml_char_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    if (c < 0x80)
        return (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') ? 1 : 0;
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[len] || cp > 0x10FFFF)
        return 0;
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)
        return 0;
    return len;
}

/* Writes text[0, len) as XML character data or attribute value. */
static void write_escaped(FILE *fp, const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        size_t k = xml_char_len(p + i, len - i);
        if (k == 0) {
            fputs(replacement, fp);
            i++;
            continue;
        }
        if (k > 1) {
            fwrite(p + i, 1, k, fp);
            i += k;
            continue;
        }
        switch (p[i]) {
        case '&': fputs("&amp;", fp); break;
        case '<': fputs("&lt;", fp); break;
        case '>': fputs("&gt;", fp); break;
        case '"': fputs("&quot;", fp); break;
        case '\'': fputs("&apos;", fp); break;
        default: fputc(p[i], fp); break;
        }
        i++;
    }
}

/* ---------------------------------------------------------------------- */
/* Small writers                                                           */

/* A number as SVG reads it: up to 7 significant digits, no trailing 0s. */
static void write_num(FILE *fp, double v)
{
    if (v == 0)
        v = 0; /* no "-0" */
    fprintf(fp, "%.7g", v);
}

static void write_attr_num(FILE *fp, const char *name, double v)
{
    fprintf(fp, " %s=\"", name);
    write_num(fp, v);
    fputc('"', fp);
}

static void write_attr_str(FILE *fp, const char *name, const char *v)
{
    fprintf(fp, " %s=\"", name);
    write_escaped(fp, v, strlen(v));
    fputc('"', fp);
}

static void indent(const w2v_svg *s)
{
    for (int i = 0; i <= s->depth; i++)
        fputs("  ", s->out.fp);
}

static void write_style(FILE *fp, const w2v_svg_style *st)
{
    if (st == NULL)
        return;
    if (st->fill != NULL)
        write_attr_str(fp, "fill", st->fill);
    if (st->stroke != NULL)
        write_attr_str(fp, "stroke", st->stroke);
    if (st->stroke_width > 0 && isfinite(st->stroke_width))
        write_attr_num(fp, "stroke-width", st->stroke_width);
    if (st->opacity > 0 && st->opacity < 1)
        write_attr_num(fp, "opacity", st->opacity);
    if (st->dash != NULL)
        write_attr_str(fp, "stroke-dasharray", st->dash);
}

/*
 * Records a bad argument: the call returns W2V_ERR_ARG and, if it is the
 * first failure, w2v_svg_finish will report what.
 */
static int bad_arg(w2v_svg *s, const char *what)
{
    if (s != NULL && s->first.code == W2V_OK)
        w2v_fail(&s->first, W2V_ERR_ARG, "SVG %s", what);
    return W2V_ERR_ARG;
}

static int all_finite(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

/* ---------------------------------------------------------------------- */
/* Documents                                                               */

w2v_svg_style w2v_svg_style_default(void)
{
    w2v_svg_style st;
    memset(&st, 0, sizeof st);
    return st;
}

w2v_svg_text_style w2v_svg_text_style_default(void)
{
    w2v_svg_text_style st;
    memset(&st, 0, sizeof st);
    st.size = 12;
    return st;
}

int w2v_svg_begin(const char *path, double width, double height,
                  const double *viewbox, w2v_svg **out, w2v_error *err)
{
    *out = NULL;
    double vb[4] = {0, 0, width, height};
    if (viewbox != NULL)
        memcpy(vb, viewbox, sizeof vb);
    if (!isfinite(width) || !isfinite(height) || width <= 0 || height <= 0)
        return w2v_fail(err, W2V_ERR_ARG, "SVG size %g x %g: both must be "
                        "positive and finite", width, height);
    if (!all_finite(vb, 4) || vb[2] <= 0 || vb[3] <= 0)
        return w2v_fail(err, W2V_ERR_ARG, "SVG viewBox %g %g %g %g: needs "
                        "finite numbers and a positive width and height",
                        vb[0], vb[1], vb[2], vb[3]);
    w2v_svg *s = calloc(1, sizeof *s);
    if (s == NULL)
        return w2v_fail_nomem(err, "an SVG writer");
    int rc = w2v_outfile_open(&s->out, path, err);
    if (rc != W2V_OK) {
        free(s);
        return rc;
    }
    FILE *fp = s->out.fp;
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\"", fp);
    write_attr_num(fp, "width", width);
    write_attr_num(fp, "height", height);
    fputs(" viewBox=\"", fp);
    for (int i = 0; i < 4; i++) {
        if (i > 0)
            fputc(' ', fp);
        write_num(fp, vb[i]);
    }
    fputs("\" font-family=\"sans-serif\">\n", fp);
    *out = s;
    return W2V_OK;
}

int w2v_svg_finish(w2v_svg *s, w2v_error *err)
{
    if (s == NULL)
        return w2v_fail(err, W2V_ERR_ARG, "no SVG document to finish");
    if (s->first.code != W2V_OK) {
        int code = s->first.code;
        w2v_fail(err, code, "%s: %s; the file was not written", s->out.path,
                 s->first.message);
        w2v_svg_free(s);
        return code;
    }
    while (s->depth > 0)
        w2v_svg_group_end(s);
    fputs("</svg>\n", s->out.fp);
    int rc = w2v_outfile_commit(&s->out, err);
    free(s);
    return rc;
}

void w2v_svg_free(w2v_svg *s)
{
    if (s == NULL)
        return;
    w2v_outfile_abort(&s->out);
    free(s);
}

/* ---------------------------------------------------------------------- */
/* Shapes                                                                  */

int w2v_svg_rect(w2v_svg *s, double x, double y, double w, double h,
                 const w2v_svg_style *style)
{
    double v[4] = {x, y, w, h};
    if (s == NULL || !all_finite(v, 4) || w < 0 || h < 0)
        return bad_arg(s, "rect: coordinates must be finite, sizes >= 0");
    FILE *fp = s->out.fp;
    indent(s);
    fputs("<rect", fp);
    write_attr_num(fp, "x", x);
    write_attr_num(fp, "y", y);
    write_attr_num(fp, "width", w);
    write_attr_num(fp, "height", h);
    write_style(fp, style);
    fputs("/>\n", fp);
    return W2V_OK;
}

int w2v_svg_circle(w2v_svg *s, double cx, double cy, double r,
                   const w2v_svg_style *style)
{
    double v[3] = {cx, cy, r};
    if (s == NULL || !all_finite(v, 3) || r < 0)
        return bad_arg(s, "circle: coordinates must be finite, radius >= 0");
    FILE *fp = s->out.fp;
    indent(s);
    fputs("<circle", fp);
    write_attr_num(fp, "cx", cx);
    write_attr_num(fp, "cy", cy);
    write_attr_num(fp, "r", r);
    write_style(fp, style);
    fputs("/>\n", fp);
    return W2V_OK;
}

int w2v_svg_line(w2v_svg *s, double x1, double y1, double x2, double y2,
                 const w2v_svg_style *style)
{
    double v[4] = {x1, y1, x2, y2};
    if (s == NULL || !all_finite(v, 4))
        return bad_arg(s, "line: coordinates must be finite");
    FILE *fp = s->out.fp;
    indent(s);
    fputs("<line", fp);
    write_attr_num(fp, "x1", x1);
    write_attr_num(fp, "y1", y1);
    write_attr_num(fp, "x2", x2);
    write_attr_num(fp, "y2", y2);
    w2v_svg_style st = style != NULL ? *style : w2v_svg_style_default();
    if (st.stroke == NULL)
        st.stroke = "black";
    write_style(fp, &st);
    fputs("/>\n", fp);
    return W2V_OK;
}

/* ---------------------------------------------------------------------- */
/* Text                                                                    */

static void write_text_style(FILE *fp, double x, double y,
                             const w2v_svg_text_style *st)
{
    double size = st->size > 0 && isfinite(st->size) ? st->size : 12;
    write_attr_num(fp, "font-size", size);
    if (st->fill != NULL)
        write_attr_str(fp, "fill", st->fill);
    if (st->anchor == W2V_SVG_ANCHOR_MIDDLE)
        fputs(" text-anchor=\"middle\"", fp);
    else if (st->anchor == W2V_SVG_ANCHOR_END)
        fputs(" text-anchor=\"end\"", fp);
    if (st->baseline == W2V_SVG_BASELINE_MIDDLE)
        fputs(" dominant-baseline=\"central\"", fp);
    else if (st->baseline == W2V_SVG_BASELINE_HANGING)
        fputs(" dominant-baseline=\"hanging\"", fp);
    if (st->rotate != 0 && isfinite(st->rotate)) {
        fputs(" transform=\"rotate(", fp);
        write_num(fp, st->rotate);
        fputc(' ', fp);
        write_num(fp, x);
        fputc(' ', fp);
        write_num(fp, y);
        fputs(")\"", fp);
    }
    if (st->bold)
        fputs(" font-weight=\"bold\"", fp);
    if (st->family != NULL)
        write_attr_str(fp, "font-family", st->family);
    if (st->halo != NULL) {
        /* The outline is painted first, under the glyphs. */
        write_attr_str(fp, "stroke", st->halo);
        write_attr_num(fp, "stroke-width", size * 0.25);
        fputs(" stroke-linejoin=\"round\" paint-order=\"stroke\"", fp);
    }
    if (st->opacity > 0 && st->opacity < 1)
        write_attr_num(fp, "opacity", st->opacity);
}

int w2v_svg_text_n(w2v_svg *s, double x, double y, const char *text,
                   size_t len, const w2v_svg_text_style *style)
{
    double v[2] = {x, y};
    if (s == NULL || (text == NULL && len > 0) || !all_finite(v, 2))
        return bad_arg(s, "text: needs finite coordinates and a string");
    w2v_svg_text_style st =
        style != NULL ? *style : w2v_svg_text_style_default();
    FILE *fp = s->out.fp;
    indent(s);
    fputs("<text", fp);
    write_attr_num(fp, "x", x);
    write_attr_num(fp, "y", y);
    write_text_style(fp, x, y, &st);
    fputc('>', fp);
    if (len > 0)
        write_escaped(fp, text, len);
    fputs("</text>\n", fp);
    return W2V_OK;
}

int w2v_svg_text(w2v_svg *s, double x, double y, const char *text,
                 const w2v_svg_text_style *style)
{
    return w2v_svg_text_n(s, x, y, text, text != NULL ? strlen(text) : 0,
                          style);
}

int w2v_svg_title(w2v_svg *s, const char *text)
{
    if (s == NULL || text == NULL)
        return bad_arg(s, "title: needs a string");
    indent(s);
    fputs("<title>", s->out.fp);
    write_escaped(s->out.fp, text, strlen(text));
    fputs("</title>\n", s->out.fp);
    return W2V_OK;
}

/* ---------------------------------------------------------------------- */
/* Groups                                                                  */

int w2v_svg_group_begin(w2v_svg *s, const char *id,
                        const w2v_svg_style *style)
{
    if (s == NULL)
        return bad_arg(s, "group: no document");
    if (s->depth >= 1000)
        return bad_arg(s, "group: more than 1000 nested groups");
    FILE *fp = s->out.fp;
    indent(s);
    fputs("<g", fp);
    if (id != NULL)
        write_attr_str(fp, "id", id);
    write_style(fp, style);
    fputs(">\n", fp);
    s->depth++;
    return W2V_OK;
}

int w2v_svg_group_end(w2v_svg *s)
{
    if (s == NULL || s->depth == 0)
        return bad_arg(s, "group end without an open group");
    s->depth--;
    indent(s);
    fputs("</g>\n", s->out.fp);
    return W2V_OK;
}

/* ---------------------------------------------------------------------- */
/* Colours and text metrics                                                */

const char *w2v_svg_palette(size_t i)
{
    static const char *const colours[W2V_SVG_PALETTE_SIZE] = {
        "#1f77b4", /* blue */
        "#d62728", /* red */
        "#2ca02c", /* green */
        "#ff7f0e", /* orange */
        "#9467bd", /* purple */
        "#8c564b", /* brown */
        "#e377c2", /* pink */
        "#17becf", /* cyan */
        "#7f7f7f", /* grey */
        "#b5b512", /* olive */
        "#393b79", /* navy */
        "#e7969c", /* salmon */
    };
    return colours[i % W2V_SVG_PALETTE_SIZE];
}

void w2v_svg_ramp(double t, char out[8])
{
    /* Anchor colours at t = 0, 0.25, 0.5, 0.75, 1. */
    static const unsigned char stops[5][3] = {
        {0x1b, 0x1f, 0x4b}, {0x2c, 0x5d, 0x8a}, {0x2a, 0x9d, 0x8f},
        {0x8c, 0xc5, 0x6b}, {0xf9, 0xf3, 0xa5},
    };
    if (!(t > 0))
        t = 0;
    if (t > 1)
        t = 1;
    double pos = t * 4;
    int k = (int)pos;
    if (k > 3)
        k = 3;
    double f = pos - k;
    unsigned rgb[3];
    for (int c = 0; c < 3; c++)
        rgb[c] = (unsigned)lround(stops[k][c] +
                                  f * (stops[k + 1][c] - stops[k][c]));
    snprintf(out, 8, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

/* Relative advance of one ASCII character in a typical sans-serif font. */
static double ascii_advance(unsigned char c)
{
    if (strchr("iljtfrI.,;:'!|` ", c) != NULL)
        return 0.32;
    if (strchr("mwMW@", c) != NULL)
        return 0.88;
    if (c >= 'A' && c <= 'Z')
        return 0.68;
    if (c >= '0' && c <= '9')
        return 0.56;
    return 0.55;
}

double w2v_svg_text_width(const char *text, size_t len, double size)
{
    const unsigned char *p = (const unsigned char *)text;
    double w = 0;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        if (c < 0x80) {
            w += ascii_advance((unsigned char)c);
            i++;
            continue;
        }
        /* East Asian scripts (from E2 BA 80, U+2E80) are about square. */
        size_t k = xml_char_len(p + i, len - i);
        w += (k >= 3 && c >= 0xE2 && !(c == 0xE2 && p[i + 1] < 0xBA))
                 ? 1.0
                 : 0.6;
        i += k > 0 ? k : 1;
    }
    return w * size;
}
