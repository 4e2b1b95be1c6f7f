/*
 * test_attention.c - the BLAS forward pass against a naive triple-loop
 * reference in double precision (several shapes, with and without the
 * causal mask), the softmax on huge and infinite scores, the causal zeros,
 * rows summing to 1, positional encodings, seeded weights and size limits.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "testutil.h"
#include "w2v/attention.h"
#include "xmlcheck.h"

TestSuite(attention);
TestSuite(attnsvg, .init = tu_scratch_init, .fini = tu_scratch_fini);

/* ---------------------------------------------------------------------- */
/* The naive reference                                                     */

/* Everything the reference computes, in double. */
typedef struct ref_out {
    double *q, *k, *v; /* (n, w) */
    double *weights;   /* (heads, n, n) */
    double *context;   /* (n, w) */
} ref_out;

/* y (n, w) = x (n, d) m (d, w), one dot product at a time. */
static void ref_project(const float *x, const float *m, size_t n, size_t d,
                        size_t w, double *y)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < w; j++) {
            double s = 0;
            for (size_t t = 0; t < d; t++)
                s += (double)x[i * d + t] * m[t * w + j];
            y[i * w + j] = s;
        }
}

/* One head: scores, softmax (row max subtracted), weights x V. */
static void ref_head(ref_out *r, size_t n, size_t w, size_t dk, size_t h,
                     int causal)
{
    double *a = r->weights + h * n * n;
    for (size_t i = 0; i < n; i++) {
        size_t m = causal ? i + 1 : n;
        double max = -INFINITY, sum = 0;
        for (size_t j = 0; j < m; j++) {
            double s = 0;
            for (size_t t = 0; t < dk; t++)
                s += r->q[i * w + h * dk + t] * r->k[j * w + h * dk + t];
            a[i * n + j] = s / sqrt((double)dk);
            if (a[i * n + j] > max)
                max = a[i * n + j];
        }
        for (size_t j = 0; j < m; j++)
            sum += a[i * n + j] = exp(a[i * n + j] - max);
        for (size_t j = 0; j < n; j++)
            a[i * n + j] = j < m ? a[i * n + j] / sum : 0.0;
        for (size_t t = 0; t < dk; t++) {
            double c = 0;
            for (size_t j = 0; j < n; j++)
                c += a[i * n + j] * r->v[j * w + h * dk + t];
            r->context[i * w + h * dk + t] = c;
        }
    }
}

static ref_out reference(const float *x, size_t n, size_t d, const float *wq,
                         const float *wk, const float *wv, size_t heads,
                         size_t dk, int causal)
{
    size_t w = heads * dk;
    ref_out r = {
        malloc(n * w * sizeof(double)), malloc(n * w * sizeof(double)),
        malloc(n * w * sizeof(double)),
        malloc(heads * n * n * sizeof(double)),
        malloc(n * w * sizeof(double)),
    };
    ref_project(x, wq, n, d, w, r.q);
    ref_project(x, wk, n, d, w, r.k);
    ref_project(x, wv, n, d, w, r.v);
    for (size_t h = 0; h < heads; h++)
        ref_head(&r, n, w, dk, h, causal);
    return r;
}

static void ref_free(ref_out *r)
{
    free(r->q);
    free(r->k);
    free(r->v);
    free(r->weights);
    free(r->context);
}

/* max |got - want| / max |want|: relative error, normwise. */
static double rel_err(const float *got, const double *want, size_t n)
{
    double diff = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (d > diff)
            diff = d;
        if (fabs(want[i]) > scale)
            scale = fabs(want[i]);
    }
    return scale > 0 ? diff / scale : diff;
}

static float *random_matrix(size_t rows, size_t cols, uint64_t seed,
                            float scale)
{
    w2v_rng r;
    w2v_rng_seed(&r, seed, 7);
    float *m = malloc(rows * cols * sizeof *m);
    for (size_t i = 0; i < rows * cols; i++)
        m[i] = (2.0f * w2v_rng_float(&r) - 1.0f) * scale;
    return m;
}

/* ---------------------------------------------------------------------- */
/* BLAS against the reference                                              */

static void compare_shape(size_t n, size_t d, size_t heads, size_t dk,
                          int causal, uint64_t seed)
{
    size_t w = heads * dk;
    float *x = random_matrix(n, d, seed, 1.0f);
    float *wq = malloc(d * w * sizeof *wq);
    float *wk = malloc(d * w * sizeof *wk);
    float *wv = malloc(d * w * sizeof *wv);
    w2v_attention_init_weights(d, w, seed, 0, wq);
    w2v_attention_init_weights(d, w, seed, 1, wk);
    w2v_attention_init_weights(d, w, seed, 2, wv);
    w2v_attention_out o;
    w2v_error err = {0};
    cr_assert_eq(w2v_attention_forward(x, n, d, wq, wk, wv, heads, dk,
                                       causal, &o, &err), W2V_OK, "%s",
                 err.message);
    cr_assert_eq(o.n, n);
    cr_assert_eq(o.heads, heads);
    cr_assert_eq(o.d_k, dk);
    ref_out r = reference(x, n, d, wq, wk, wv, heads, dk, causal);
    double eq = rel_err(o.q, r.q, n * w), ek = rel_err(o.k, r.k, n * w);
    double ev = rel_err(o.v, r.v, n * w);
    double ea = rel_err(o.weights, r.weights, heads * n * n);
    double ec = rel_err(o.context, r.context, n * w);
    cr_expect_lt(eq, 1e-5, "Q: n=%zu d=%zu H=%zu dk=%zu: %g", n, d, heads,
                 dk, eq);
    cr_expect_lt(ek, 1e-5, "K: %g", ek);
    cr_expect_lt(ev, 1e-5, "V: %g", ev);
    cr_expect_lt(ea, 1e-5, "weights: n=%zu d=%zu H=%zu dk=%zu causal=%d: "
                 "%g", n, d, heads, dk, causal, ea);
    cr_expect_lt(ec, 1e-5, "context: n=%zu d=%zu H=%zu dk=%zu causal=%d: "
                 "%g", n, d, heads, dk, causal, ec);
    ref_free(&r);
    w2v_attention_out_free(&o);
    w2v_attention_out_free(&o);
    free(x);
    free(wq);
    free(wk);
    free(wv);
}

Test(attention, blas_matches_the_naive_reference)
{
    static const size_t shapes[][4] = {
        {1, 1, 1, 1},   {8, 100, 1, 64}, {8, 100, 4, 16}, {13, 7, 3, 5},
        {40, 50, 2, 8}, {2, 300, 8, 32}, {64, 32, 1, 1},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int causal = 0; causal < 2; causal++)
            compare_shape(shapes[s][0], shapes[s][1], shapes[s][2],
                          shapes[s][3], causal, 100 + s);
}

Test(attention, rows_sum_to_one_and_causal_zeros)
{
    size_t n = 9, d = 20, heads = 3, dk = 4, w = heads * dk;
    float *x = random_matrix(n, d, 5, 2.0f);
    float *wm = random_matrix(d, w, 6, 1.0f);
    for (int causal = 0; causal < 2; causal++) {
        w2v_attention_out o;
        cr_assert_eq(w2v_attention_forward(x, n, d, wm, wm, wm, heads, dk,
                                           causal, &o, NULL), W2V_OK);
        for (size_t h = 0; h < heads; h++)
            for (size_t i = 0; i < n; i++) {
                const float *row = o.weights + (h * n + i) * n;
                double sum = 0;
                for (size_t j = 0; j < n; j++) {
                    cr_assert(row[j] >= 0 && row[j] <= 1);
                    if (causal && j > i)
                        cr_assert_eq(row[j], 0.0f, "head %zu [%zu][%zu]", h,
                                     i, j);
                    sum += row[j];
                }
                cr_assert_lt(fabs(sum - 1), 1e-6, "row %zu sums to %g", i,
                             sum);
            }
        if (causal)
            for (size_t h = 0; h < heads; h++)
                cr_assert_eq(o.weights[h * n * n], 1.0f,
                             "the first token attends only to itself");
        w2v_attention_out_free(&o);
    }
    free(x);
    free(wm);
}

/* ---------------------------------------------------------------------- */
/* Softmax                                                                 */

Test(attention, softmax_is_finite_for_huge_scores)
{
    float s[4 * 3] = {
        1e30f, 1e30f - 1e24f, -1e30f,   /* huge, close */
        3.4e38f, -3.4e38f, 0.0f,        /* difference overflows float */
        1000.0f, 999.0f, 998.0f,        /* exp would overflow unshifted */
        -1e4f, -1e4f, -1e4f,            /* exp would underflow unshifted */
    };
    w2v_attention_softmax(s, 4, 3, 0);
    for (size_t i = 0; i < 12; i++)
        cr_assert(isfinite(s[i]), "entry %zu is %g", i, s[i]);
    cr_expect_eq(s[3], 1.0f);
    cr_expect_eq(s[4], 0.0f);
    double e1 = exp(-1.0), e2 = exp(-2.0), z = 1 + e1 + e2;
    cr_expect_float_eq(s[6], 1 / z, 1e-6);
    cr_expect_float_eq(s[7], e1 / z, 1e-6);
    cr_expect_float_eq(s[8], e2 / z, 1e-6);
    for (size_t j = 9; j < 12; j++)
        cr_expect_float_eq(s[j], 1.0f / 3, 1e-7);
    cr_expect_float_eq(s[0] + s[1] + s[2], 1.0f, 1e-6);
}

Test(attention, softmax_of_infinite_scores)
{
    float s[2 * 3] = {INFINITY, 1.0f, INFINITY,
                      -INFINITY, -INFINITY, -INFINITY};
    w2v_attention_softmax(s, 2, 3, 0);
    cr_expect_eq(s[0], 0.5f);
    cr_expect_eq(s[1], 0.0f);
    cr_expect_eq(s[2], 0.5f);
    for (size_t j = 3; j < 6; j++)
        cr_expect_float_eq(s[j], 1.0f / 3, 1e-7);
}

Test(attention, causal_softmax_ignores_masked_scores)
{
    /* A huge masked score must not pull weight from the allowed ones. */
    float s[3 * 3] = {0, 1e30f, 1e30f, 1, 1, 1e30f, 2, 0, 0};
    w2v_attention_softmax(s, 3, 3, 1);
    cr_expect_eq(s[0], 1.0f);
    cr_expect_eq(s[1], 0.0f);
    cr_expect_eq(s[2], 0.0f);
    cr_expect_float_eq(s[3], 0.5f, 1e-7);
    cr_expect_float_eq(s[4], 0.5f, 1e-7);
    cr_expect_eq(s[5], 0.0f);
}

Test(attention, huge_inputs_stay_finite)
{
    size_t n = 4, d = 3;
    float x[4 * 3] = {1e18f, 0, 0, 0, 1e18f, 0, 1e18f, 1e18f, 0, 0, 0, 1};
    float eye[3 * 3] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    w2v_attention_out o;
    cr_assert_eq(w2v_attention_forward(x, n, d, eye, eye, eye, 1, 3, 0, &o,
                                       NULL), W2V_OK);
    for (size_t i = 0; i < n * n; i++)
        cr_assert(isfinite(o.weights[i]), "weight %zu is %g", i,
                  o.weights[i]);
    w2v_attention_out_free(&o);
}

/* ---------------------------------------------------------------------- */
/* Positions, weights, limits                                              */

Test(attention, sinusoidal_positions)
{
    size_t n = 50, d = 10;
    float *pe = malloc(n * d * sizeof *pe);
    w2v_attention_positional(n, d, pe);
    for (size_t j = 0; j < d; j++)
        cr_expect_eq(pe[j], j % 2 ? 1.0f : 0.0f, "position 0, column %zu", j);
    /* column 0: sin(pos); column 1: cos(pos); column 8: sin(pos / 10^3.2) */
    cr_expect_float_eq(pe[7 * d + 0], sin(7.0), 1e-6);
    cr_expect_float_eq(pe[7 * d + 1], cos(7.0), 1e-6);
    cr_expect_float_eq(pe[49 * d + 8], sin(49 / pow(10000, 0.8)), 1e-6);
    cr_expect_float_eq(pe[49 * d + 9], cos(49 / pow(10000, 0.8)), 1e-6);
    free(pe);
}

Test(attention, seeded_weights)
{
    size_t d = 100, w = 64;
    float *a = malloc(d * w * sizeof *a), *b = malloc(d * w * sizeof *b);
    w2v_attention_init_weights(d, w, 42, 0, a);
    w2v_attention_init_weights(d, w, 42, 0, b);
    cr_assert_eq(memcmp(a, b, d * w * sizeof *a), 0, "same seed, same values");
    w2v_attention_init_weights(d, w, 42, 1, b);
    cr_assert_neq(memcmp(a, b, d * w * sizeof *a), 0, "streams differ");
    double sum = 0, sq = 0, lim = sqrt(3.0 / (double)d);
    for (size_t i = 0; i < d * w; i++) {
        cr_assert_leq(fabs(a[i]), lim);
        sum += a[i];
        sq += (double)a[i] * a[i];
    }
    double mean = sum / (double)(d * w), var = sq / (double)(d * w);
    cr_expect_lt(fabs(mean), 0.01, "mean %g", mean);
    cr_expect_lt(fabs(var * (double)d - 1.0), 0.1, "variance x D = %g",
                 var * (double)d);
    free(a);
    free(b);
}

Test(attention, sizes_out_of_range)
{
    static const size_t bad[][4] = {
        {0, 10, 1, 4},    {513, 10, 1, 4},    {4, 0, 1, 4},
        {4, 10, 0, 4},    {4, 10, 65, 4},     {4, 10, 1, 0},
        {4, 10, 1, 1025}, {4, 10, 64, 1024},
    };
    static const char *const what[] = {
        "no tokens", "513 tokens", "dimension 0", "heads 0", "heads 65",
        "d_k 0", "d_k 1025", "65536 is more than 4096",
    };
    float one = 1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        w2v_error err = {0};
        w2v_attention_out o;
        cr_assert_eq(w2v_attention_forward(&one, bad[i][0], bad[i][1], &one,
                                           &one, &one, bad[i][2], bad[i][3],
                                           0, &o, &err), W2V_ERR_ARG);
        cr_expect(strstr(err.message, what[i]) != NULL, "%s", err.message);
        cr_assert_null(o.q);
    }
}

/* ---------------------------------------------------------------------- */
/* The heatmap                                                             */

Test(attnsvg, heatmap_is_well_formed_and_labelled)
{
    size_t n = 5, d = 6, heads = 2, dk = 3;
    float *x = random_matrix(n, d, 9, 1.0f);
    float *wm = random_matrix(d, heads * dk, 10, 1.0f);
    w2v_attention_out o;
    cr_assert_eq(w2v_attention_forward(x, n, d, wm, wm, wm, heads, dk, 1, &o,
                                       NULL), W2V_OK);
    static const char *const labels[] = {"a<b", "caf\xc3\xa9", "x&y",
                                         "averyveryveryverylongwordindeed",
                                         "\xff"};
    char *path = tu_path(tu_scratch(), "h.svg");
    w2v_error err = {0};
    cr_assert_eq(w2v_attention_svg(path, &o, labels, "t\"itle", 1, &err),
                 W2V_OK, "%s", err.message);
    size_t len = 0;
    char *text = tu_read_file(path, &len);
    xc_doc doc;
    char why[256];
    cr_assert_eq(xc_parse(text, len, &doc, why, sizeof why), 0, "%s", why);
    size_t panels = 0, masked = 0;
    for (size_t i = 0; i < doc.n; i++) {
        panels += strcmp(doc.el[i].name, "g") == 0 &&
                  strstr(doc.el[i].attrs, "id=\"head ") != NULL;
        masked += strcmp(doc.el[i].name, "rect") == 0 &&
                  strstr(doc.el[i].attrs, "#e8e8e8") != NULL;
    }
    cr_expect_eq(panels, 2);
    /* 10 cells above the diagonal per head, and the legend's sample */
    cr_expect_eq(masked, 2 * 10 + 1);
    cr_expect(strstr(text, "a&lt;b") != NULL);
    xc_free(&doc);
    free(text);
    free(path);
    w2v_attention_out_free(&o);
    free(x);
    free(wm);
}

Test(attnsvg, heatmap_limits)
{
    w2v_attention_out o = {0};
    o.n = W2V_ATTENTION_SVG_MAX_TOKENS + 1;
    o.heads = 1;
    const char *labels[1] = {"x"};
    char *path = tu_path(tu_scratch(), "h.svg");
    w2v_error err = {0};
    cr_assert_eq(w2v_attention_svg(path, &o, labels, NULL, 0, &err),
                 W2V_ERR_ARG);
    cr_expect(strstr(err.message, "at most 128") != NULL, "%s", err.message);
    cr_assert_eq(w2v_attention_svg("/nonexistent/dir/h.svg", &o, NULL, NULL,
                                   0, &err), W2V_ERR_ARG);
    cr_expect(!tu_exists(path));
    free(path);
}
