/*
 * w2v/svg.h - a small writer of SVG 1.1 documents.
 *
 * The writer knows nothing of models: it draws rectangles, circles, lines
 * and text into groups, in user coordinates (x to the right, y down), and
 * escapes every string it is given so that the document is well-formed XML
 * whatever the bytes: markup characters become entities, bytes that are not
 * valid UTF-8 and characters XML forbids (control characters, U+FFFE,
 * U+FFFF) become U+FFFD.
 *
 * The document is written under a temporary name next to the target and
 * renamed over it by w2v_svg_finish, so the target holds either a complete
 * picture or whatever it held before.
 *
 * Drawing calls check their arguments (finite numbers, sizes not negative)
 * and return W2V_ERR_ARG without writing anything for bad ones. The first
 * such error is kept: w2v_svg_finish then fails and leaves the target
 * untouched, so a caller may draw a whole picture and check only once.
 *
 * Colours are CSS colour strings as SVG accepts them ("#1f77b4", "none",
 * "white"); w2v_svg_palette and w2v_svg_ramp make them.
 */
#ifndef W2V_SVG_H
#define W2V_SVG_H

#include <stddef.h>

#include "w2v/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct w2v_svg w2v_svg;

/*
 * How a shape is painted. Zero-initialised, or from w2v_svg_style_default,
 * every field is "omitted" and SVG's defaults apply (black fill, no
 * stroke).
 */
typedef struct w2v_svg_style {
    const char *fill;    /* fill colour; NULL: attribute omitted */
    const char *stroke;  /* stroke colour; NULL: omitted */
    double stroke_width; /* > 0 to write it; otherwise omitted */
    double opacity;      /* in (0, 1); 0 or >= 1 means opaque (omitted) */
    const char *dash;    /* stroke-dasharray such as "4 2"; NULL: omitted */
} w2v_svg_style;

/* Which point of the text sits at its x coordinate. */
enum w2v_svg_anchor {
    W2V_SVG_ANCHOR_START = 0, /* text begins at x */
    W2V_SVG_ANCHOR_MIDDLE,    /* text is centred on x */
    W2V_SVG_ANCHOR_END        /* text ends at x */
};

/* Which line of the text sits at its y coordinate. */
enum w2v_svg_baseline {
    W2V_SVG_BASELINE_ALPHABETIC = 0, /* the usual baseline */
    W2V_SVG_BASELINE_MIDDLE,         /* centred vertically on y */
    W2V_SVG_BASELINE_HANGING         /* top of the text at y */
};

/* How text is drawn. Zero-initialised means 12-unit black sans-serif. */
typedef struct w2v_svg_text_style {
    double size;                    /* font size; <= 0 means 12 */
    const char *fill;               /* NULL: black */
    enum w2v_svg_anchor anchor;     /* horizontal alignment */
    enum w2v_svg_baseline baseline; /* vertical alignment */
    double rotate;     /* degrees, clockwise, about (x, y); 0 for none */
    int bold;          /* non-zero: font-weight bold */
    const char *family; /* font-family list; NULL: inherit (sans-serif) */
    const char *halo;   /* NULL, or a colour outlining the glyphs under the
                           fill, which keeps labels readable over shapes */
    double opacity;     /* as in w2v_svg_style */
} w2v_svg_text_style;

/* All fields omitted. */
w2v_svg_style w2v_svg_style_default(void);

/* 12-unit black text, anchored at its start on the alphabetic baseline. */
w2v_svg_text_style w2v_svg_text_style_default(void);

/*
 * Starts a document of width x height (in pixels, both > 0 and finite) to
 * be written to path. viewbox is {min_x, min_y, width, height} of the user
 * coordinate system, or NULL for {0, 0, width, height}. The root element
 * sets font-family sans-serif. On success *out owns the open temporary
 * file; on failure *out is NULL and nothing was created.
 *
 * Errors: W2V_ERR_ARG for a bad size or viewbox, W2V_ERR_IO when the
 * temporary cannot be created (the message names path).
 */
int w2v_svg_begin(const char *path, double width, double height,
                  const double *viewbox, w2v_svg **out, w2v_error *err);

/*
 * Closes any open groups, ends the document, flushes and syncs it and
 * renames it over the target, then frees s. If an earlier drawing call
 * failed, or writing fails (disk full), the temporary is removed, the
 * target is left as it was and that error is returned. s is freed in every
 * case; NULL returns W2V_ERR_ARG.
 */
int w2v_svg_finish(w2v_svg *s, w2v_error *err);

/*
 * Abandons the document: removes the temporary and frees s, leaving the
 * target as it was. NULL is a no-op.
 */
void w2v_svg_free(w2v_svg *s);

/*
 * A rectangle with its top-left corner at (x, y). w and h must be >= 0.
 * style may be NULL (all omitted). Returns W2V_OK or W2V_ERR_ARG.
 */
int w2v_svg_rect(w2v_svg *s, double x, double y, double w, double h,
                 const w2v_svg_style *style);

/* A circle of radius r >= 0 centred on (cx, cy). */
int w2v_svg_circle(w2v_svg *s, double cx, double cy, double r,
                   const w2v_svg_style *style);

/*
 * A straight line from (x1, y1) to (x2, y2). Lines have no fill; without a
 * stroke in style they are drawn in black, 1 unit wide.
 */
int w2v_svg_line(w2v_svg *s, double x1, double y1, double x2, double y2,
                 const w2v_svg_style *style);

/*
 * text (NUL-terminated bytes, any content; escaped as described at the top)
 * at (x, y). style may be NULL for the defaults. An empty text writes an
 * empty element.
 */
int w2v_svg_text(w2v_svg *s, double x, double y, const char *text,
                 const w2v_svg_text_style *style);

/*
 * Like w2v_svg_text for text[0, len), which may contain NUL bytes (they
 * are replaced like other control characters).
 */
int w2v_svg_text_n(w2v_svg *s, double x, double y, const char *text,
                   size_t len, const w2v_svg_text_style *style);

/*
 * Opens a group (<g>): id (NULL for none; escaped) names it, style is
 * inherited by its children (NULL for none). Groups nest; close each with
 * w2v_svg_group_end.
 */
int w2v_svg_group_begin(w2v_svg *s, const char *id,
                        const w2v_svg_style *style);

/* Closes the innermost open group; W2V_ERR_ARG when none is open. */
int w2v_svg_group_end(w2v_svg *s);

/*
 * A <title> element: at the top of the document it names the picture; as
 * the first child of a group it becomes the group's tooltip in browsers.
 */
int w2v_svg_title(w2v_svg *s, const char *text);

/*
 * The i-th colour of a categorical palette of W2V_SVG_PALETTE_SIZE
 * colours chosen to be told apart on white and in print (i wraps around).
 * A constant "#rrggbb" string.
 */
#define W2V_SVG_PALETTE_SIZE 12
const char *w2v_svg_palette(size_t i);

/*
 * A sequential colour for t in [0, 1] (clamped; NaN counts as 0), from
 * dark blue through teal and green to light yellow, for heatmap cells.
 * Writes "#rrggbb" and a NUL into out[0, 8).
 */
void w2v_svg_ramp(double t, char out[8]);

/*
 * An estimate of the width of text[0, len) drawn at font size `size` in a
 * proportional sans-serif font, for laying out labels without a font
 * engine: about 0.6 * size per character (UTF-8 code point), narrower for
 * i, l, dots and the like, wider for m, w and capitals.
 */
double w2v_svg_text_width(const char *text, size_t len, double size);

#ifdef __cplusplus
}
#endif

#endif /* W2V_SVG_H */
