/*
 * test_svg.c - the SVG writer: documents parse as XML whatever bytes the
 * text holds, shapes and text carry their attributes, bad arguments and
 * unwritable paths fail without leaving a file, colours and text widths.
 */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "w2v/svg.h"
#include "xmlcheck.h"

TestSuite(svg, .init = tu_scratch_init, .fini = tu_scratch_fini);

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */

static w2v_svg *begin(const char *path, double w, double h)
{
    w2v_svg *s = NULL;
    w2v_error err = {0};
    cr_assert_eq(w2v_svg_begin(path, w, h, NULL, &s, &err), W2V_OK, "%s",
                 err.message);
    cr_assert_not_null(s);
    return s;
}

static void finish(w2v_svg *s)
{
    w2v_error err = {0};
    cr_assert_eq(w2v_svg_finish(s, &err), W2V_OK, "%s", err.message);
}

/* Parses the file at path as XML, failing the test if it is not. */
static xc_doc parse_file(const char *path)
{
    size_t len = 0;
    char *text = tu_read_file(path, &len);
    xc_doc d;
    char why[256];
    cr_assert_eq(xc_parse(text, len, &d, why, sizeof why), 0,
                 "%s is not well-formed XML: %s\n%s", path, why, text);
    free(text);
    return d;
}

static const xc_element *first_named(const xc_doc *d, const char *name)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->el[i].name, name) == 0)
            return &d->el[i];
    cr_assert_fail("no <%s> element", name);
    return NULL;
}

static void assert_attr(const xc_element *e, const char *attr,
                        const char *expect)
{
    char *v = xc_attr(e, attr);
    cr_assert_not_null(v, "<%s> has no %s attribute", e->name, attr);
    cr_assert_str_eq(v, expect, "<%s %s>", e->name, attr);
    free(v);
}

/* ---------------------------------------------------------------------- */
/* The checker itself                                                      */

Test(svg, checker_rejects_broken_xml)
{
    static const char *const bad[] = {
        "<a><b></a></b>", "<a>x &y; </a>", "<a b='1' b='2'/>",
        "<a>\x01</a>",    "<a>\xff</a>",   "<a/><b/>",
        "<a x=\"<\"/>",   "<a>",           "text",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        xc_doc d;
        char why[256];
        cr_expect_neq(xc_parse(bad[i], strlen(bad[i]), &d, why, sizeof why),
                      0, "accepted %s", bad[i]);
    }
    const char *good = "<?xml version=\"1.0\"?>\n<!-- c --><a x='&amp;'>"
                       "t&lt;&#233;<b/></a>\n";
    xc_doc d;
    char why[256];
    cr_assert_eq(xc_parse(good, strlen(good), &d, why, sizeof why), 0, "%s",
                 why);
    cr_assert_eq(d.n, 2);
    cr_assert_str_eq(d.el[0].text, "t<\xc3\xa9");
    char *x = xc_attr(&d.el[0], "x");
    cr_assert_str_eq(x, "&");
    free(x);
    xc_free(&d);
}

/* ---------------------------------------------------------------------- */
/* Documents                                                               */

Test(svg, every_element_with_its_attributes)
{
    char *path = tu_path(tu_scratch(), "all.svg");
    w2v_svg *s = begin(path, 640, 480);
    cr_assert_eq(w2v_svg_title(s, "A & B"), W2V_OK);
    w2v_svg_style st = w2v_svg_style_default();
    st.fill = w2v_svg_palette(1);
    st.stroke = "black";
    st.stroke_width = 1.5;
    st.opacity = 0.5;
    cr_assert_eq(w2v_svg_group_begin(s, "cells", NULL), W2V_OK);
    cr_assert_eq(w2v_svg_rect(s, 10, 20, 30, 40, &st), W2V_OK);
    cr_assert_eq(w2v_svg_group_end(s), W2V_OK);
    cr_assert_eq(w2v_svg_circle(s, 100.25, 200, 3, NULL), W2V_OK);
    st.dash = "4 2";
    cr_assert_eq(w2v_svg_line(s, 0, 0, 640, 480, &st), W2V_OK);
    w2v_svg_text_style ts = w2v_svg_text_style_default();
    ts.size = 14;
    ts.anchor = W2V_SVG_ANCHOR_END;
    ts.baseline = W2V_SVG_BASELINE_MIDDLE;
    ts.rotate = -45;
    ts.bold = 1;
    ts.halo = "white";
    cr_assert_eq(w2v_svg_text(s, 50, 60, "label", &ts), W2V_OK);
    finish(s);

    xc_doc d = parse_file(path);
    const xc_element *root = &d.el[0];
    cr_assert_str_eq(root->name, "svg");
    assert_attr(root, "width", "640");
    assert_attr(root, "height", "480");
    assert_attr(root, "viewBox", "0 0 640 480");
    assert_attr(root, "xmlns", "http://www.w3.org/2000/svg");
    cr_assert_str_eq(first_named(&d, "title")->text, "A & B");
    const xc_element *g = first_named(&d, "g");
    assert_attr(g, "id", "cells");
    const xc_element *r = first_named(&d, "rect");
    cr_assert_eq(r->depth, 2, "the rect is inside the group");
    assert_attr(r, "x", "10");
    assert_attr(r, "height", "40");
    assert_attr(r, "fill", w2v_svg_palette(1));
    assert_attr(r, "stroke-width", "1.5");
    assert_attr(r, "opacity", "0.5");
    const xc_element *c = first_named(&d, "circle");
    assert_attr(c, "cx", "100.25");
    cr_assert_null(xc_attr(c, "fill"), "unset fields are omitted");
    const xc_element *l = first_named(&d, "line");
    assert_attr(l, "x2", "640");
    assert_attr(l, "stroke-dasharray", "4 2");
    const xc_element *t = first_named(&d, "text");
    cr_assert_str_eq(t->text, "label");
    assert_attr(t, "font-size", "14");
    assert_attr(t, "text-anchor", "end");
    assert_attr(t, "dominant-baseline", "central");
    assert_attr(t, "transform", "rotate(-45 50 60)");
    assert_attr(t, "font-weight", "bold");
    assert_attr(t, "stroke", "white");
    xc_free(&d);
    cr_assert_eq(tu_count_entries(tu_scratch(), ".tmp"), 0,
                 "no temporary left behind");
    free(path);
}

Test(svg, viewbox_and_open_groups_closed_by_finish)
{
    char *path = tu_path(tu_scratch(), "vb.svg");
    w2v_svg *s = NULL;
    double vb[4] = {-1, -2, 3, 4};
    cr_assert_eq(w2v_svg_begin(path, 300, 400, vb, &s, NULL), W2V_OK);
    cr_assert_eq(w2v_svg_group_begin(s, NULL, NULL), W2V_OK);
    cr_assert_eq(w2v_svg_group_begin(s, "inner", NULL), W2V_OK);
    cr_assert_eq(w2v_svg_rect(s, 0, 0, 1, 1, NULL), W2V_OK);
    finish(s);
    xc_doc d = parse_file(path);
    assert_attr(&d.el[0], "viewBox", "-1 -2 3 4");
    cr_assert_eq(xc_count(&d, "g"), 2);
    xc_free(&d);
    free(path);
}

/* ---------------------------------------------------------------------- */
/* Escaping                                                                */

Test(svg, markup_characters_are_escaped)
{
    char *path = tu_path(tu_scratch(), "esc.svg");
    w2v_svg *s = begin(path, 100, 100);
    const char *nasty = "<b>Tom & \"Jerry\"'s</b> ]]> &amp;";
    cr_assert_eq(w2v_svg_group_begin(s, nasty, NULL), W2V_OK);
    cr_assert_eq(w2v_svg_text(s, 1, 2, nasty, NULL), W2V_OK);
    w2v_svg_style st = w2v_svg_style_default();
    st.fill = "\"><script>";
    cr_assert_eq(w2v_svg_rect(s, 0, 0, 1, 1, &st), W2V_OK);
    finish(s);
    xc_doc d = parse_file(path);
    cr_assert_str_eq(first_named(&d, "text")->text, nasty);
    assert_attr(first_named(&d, "g"), "id", nasty);
    assert_attr(first_named(&d, "rect"), "fill", "\"><script>");
    cr_assert_eq(xc_count(&d, "script"), 0);
    xc_free(&d);
    free(path);
}

Test(svg, invalid_utf8_and_forbidden_characters_become_fffd)
{
    /* Each input with what the text must read as after parsing. */
    static const struct {
        const char *in;
        size_t len;
        const char *out;
    } cases[] = {
        {"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x90\xb1", 17,
         "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x90\xb1"},
        {"a\xff" "b", 3, "a\xef\xbf\xbd" "b"},
        {"\xc0\x80", 2, "\xef\xbf\xbd\xef\xbf\xbd"},      /* overlong NUL */
        {"\x80x", 2, "\xef\xbf\xbdx"},                    /* lone tail */
        {"\xed\xa0\x80", 3,
         "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},         /* surrogate */
        {"\xef\xbf\xbe", 3,
         "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},         /* U+FFFE */
        {"x\x01y\x1f", 4, "x\xef\xbf\xbdy\xef\xbf\xbd"},  /* controls */
        {"n\0ul", 4, "n\xef\xbf\xbdul"},                  /* NUL */
        {"tab\there", 8, "tab\there"},
        {"cut\xe6\x97", 5, "cut\xef\xbf\xbd\xef\xbf\xbd"}, /* truncated */
        {"\xf4\x90\x80\x80", 4,
         "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* > 10FFFF */
    };
    size_t n = sizeof cases / sizeof cases[0];
    char *path = tu_path(tu_scratch(), "utf8.svg");
    w2v_svg *s = begin(path, 100, 100);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(w2v_svg_text_n(s, 0, (double)i, cases[i].in,
                                    cases[i].len, NULL), W2V_OK);
    cr_assert_eq(w2v_svg_title(s, "\xfe\xfe"), W2V_OK);
    cr_assert_eq(w2v_svg_group_begin(s, "id\x02\xff", NULL), W2V_OK);
    finish(s);
    xc_doc d = parse_file(path);
    cr_assert_eq(xc_count(&d, "text"), n);
    size_t k = 0;
    for (size_t i = 0; i < d.n; i++) {
        if (strcmp(d.el[i].name, "text") != 0)
            continue;
        cr_expect_str_eq(d.el[i].text, cases[k].out, "case %zu", k);
        k++;
    }
    xc_free(&d);
    free(path);
}

/* ---------------------------------------------------------------------- */
/* Bad arguments and paths                                                 */

Test(svg, bad_drawing_argument_fails_finish_and_keeps_the_target)
{
    char *path = tu_write_file(NULL, "old.svg", "old", 3);
    w2v_svg *s = begin(path, 100, 100);
    cr_assert_eq(w2v_svg_rect(s, 0, 0, 1, 1, NULL), W2V_OK);
    cr_assert_eq(w2v_svg_circle(s, NAN, 0, 1, NULL), W2V_ERR_ARG);
    cr_assert_eq(w2v_svg_rect(s, 0, 0, -1, 1, NULL), W2V_ERR_ARG);
    cr_assert_eq(w2v_svg_line(s, 0, INFINITY, 1, 1, NULL), W2V_ERR_ARG);
    cr_assert_eq(w2v_svg_text(s, 0, 0, "ok", NULL), W2V_OK);
    w2v_error err = {0};
    cr_assert_eq(w2v_svg_finish(s, &err), W2V_ERR_ARG);
    cr_assert(strstr(err.message, "circle") != NULL, "%s", err.message);
    cr_assert(strstr(err.message, "old.svg") != NULL, "%s", err.message);
    char *now = tu_read_file(path, NULL);
    cr_assert_str_eq(now, "old", "target unchanged");
    free(now);
    cr_assert_eq(tu_count_entries(tu_scratch(), NULL), 1, "no temporary");
    free(path);
}

Test(svg, group_end_without_group)
{
    char *path = tu_path(tu_scratch(), "g.svg");
    w2v_svg *s = begin(path, 10, 10);
    cr_assert_eq(w2v_svg_group_end(s), W2V_ERR_ARG);
    cr_assert_neq(w2v_svg_finish(s, NULL), W2V_OK);
    cr_assert_not(tu_exists(path));
    free(path);
}

Test(svg, bad_sizes_and_unwritable_paths)
{
    char *path = tu_path(tu_scratch(), "x.svg");
    w2v_svg *s = (w2v_svg *)1;
    w2v_error err = {0};
    cr_assert_eq(w2v_svg_begin(path, 0, 10, NULL, &s, &err), W2V_ERR_ARG);
    cr_assert_null(s);
    cr_assert_eq(w2v_svg_begin(path, 10, NAN, NULL, &s, &err), W2V_ERR_ARG);
    double vb[4] = {0, 0, 0, 1};
    cr_assert_eq(w2v_svg_begin(path, 10, 10, vb, &s, &err), W2V_ERR_ARG);
    cr_assert_not(tu_exists(path));
    char *bad = tu_path(tu_scratch(), "no/such/dir.svg");
    cr_assert_eq(w2v_svg_begin(bad, 10, 10, NULL, &s, &err), W2V_ERR_IO);
    cr_assert_null(s);
    cr_assert(strstr(err.message, "no/such/dir.svg") != NULL, "%s",
              err.message);
    cr_assert_eq(w2v_svg_finish(NULL, NULL), W2V_ERR_ARG);
    w2v_svg_free(NULL);
    s = begin(path, 10, 10);
    w2v_svg_free(s);
    cr_assert_not(tu_exists(path), "free abandons the document");
    cr_assert_eq(tu_count_entries(tu_scratch(), NULL), 0);
    free(bad);
    free(path);
}

/* ---------------------------------------------------------------------- */
/* Colours and widths                                                      */

Test(svg, palette_colours_are_distinct_and_wrap)
{
    for (size_t i = 0; i < W2V_SVG_PALETTE_SIZE; i++) {
        const char *c = w2v_svg_palette(i);
        cr_assert_eq(strlen(c), 7);
        cr_assert_eq(c[0], '#');
        for (size_t j = 0; j < i; j++)
            cr_assert_str_neq(c, w2v_svg_palette(j));
        cr_assert_str_eq(c, w2v_svg_palette(i + W2V_SVG_PALETTE_SIZE));
    }
}

/* Relative luminance-ish brightness of "#rrggbb". */
static double brightness(const char *c)
{
    unsigned r, g, b;
    cr_assert_eq(sscanf(c, "#%2x%2x%2x", &r, &g, &b), 3, "%s", c);
    return 0.3 * r + 0.59 * g + 0.11 * b;
}

Test(svg, ramp_runs_dark_to_light_and_clamps)
{
    char lo[8], hi[8], prev[8], cur[8], nan_c[8];
    w2v_svg_ramp(0, lo);
    w2v_svg_ramp(1, hi);
    cr_assert_str_eq(lo, "#1b1f4b");
    cr_assert_str_eq(hi, "#f9f3a5");
    w2v_svg_ramp(-3, cur);
    cr_assert_str_eq(cur, lo);
    w2v_svg_ramp(7, cur);
    cr_assert_str_eq(cur, hi);
    w2v_svg_ramp(NAN, nan_c);
    cr_assert_str_eq(nan_c, lo);
    w2v_svg_ramp(0, prev);
    for (int i = 1; i <= 100; i++) {
        w2v_svg_ramp(i / 100.0, cur);
        cr_assert_geq(brightness(cur), brightness(prev), "at %d", i);
        memcpy(prev, cur, sizeof cur);
    }
}

Test(svg, text_width_estimates)
{
    double iii = w2v_svg_text_width("iii", 3, 10);
    double mmm = w2v_svg_text_width("mmm", 3, 10);
    double abc = w2v_svg_text_width("abc", 3, 10);
    cr_assert_lt(iii, abc);
    cr_assert_lt(abc, mmm);
    cr_assert_float_eq(w2v_svg_text_width("abc", 3, 20), 2 * abc, 1e-9);
    cr_assert_float_eq(w2v_svg_text_width("", 0, 10), 0, 1e-12);
    /* One code point, however many bytes. */
    double e = w2v_svg_text_width("\xc3\xa9", 2, 10);
    cr_assert(e > 4 && e < 8, "%g", e);
    double cjk = w2v_svg_text_width("\xe6\x97\xa5", 3, 10);
    cr_assert_float_eq(cjk, 10, 1e-9);
    cr_assert_gt(w2v_svg_text_width("\xff\xfe", 2, 10), 0);
}
