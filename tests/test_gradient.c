/*
 * test_gradient.c - finite-difference checks of the training objectives
 * against the updates the kernels apply (src/kernel.h).
 *
 * For each kernel: the loss is written out again here, independently, in
 * double precision; its gradient is taken by central differences; then the
 * kernel runs once with a small rate alpha and every parameter it touched
 * must have moved by -alpha times that gradient. Target ids are distinct,
 * so no row is updated twice and the step is exactly first order.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "huffman.h"
#include "kernel.h"
#include "rng.h"

#define DIM 16
#define ROWS 12
#define ALPHA 0.01f
#define EPS 1e-4

static double sigmoid_d(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

static double dot_d(const double *a, const double *b)
{
    double s = 0;
    for (int i = 0; i < DIM; i++)
        s += a[i] * b[i];
    return s;
}

/* -log s(+-x), written from the definition, not from the kernel. */
static double nll(double x, int positive)
{
    return -log(sigmoid_d(positive ? x : -x));
}

/* Negative sampling: ids[0] is the target, the rest noise. */
static double loss_ns(const double *h, double (*out)[DIM],
                      const uint32_t *ids, int n)
{
    double l = 0;
    for (int d = 0; d < n; d++)
        l += nll(dot_d(h, out[ids[d]]), d == 0);
    return l;
}

/* Hierarchical softmax: branch bit 0 is the positive label. */
static double loss_hs(const double *h, double (*nodes)[DIM],
                      const uint32_t *points, const uint8_t *codes, int n)
{
    double l = 0;
    for (int j = 0; j < n; j++)
        l += nll(dot_d(h, nodes[points[j]]), codes[j] == 0);
    return l;
}

static void fill_random(w2v_rng *r, double *v, size_t n, double scale)
{
    for (size_t i = 0; i < n; i++)
        v[i] = scale * (2.0 * w2v_rng_float(r) - 1.0);
}

static void to_float(float *dst, const double *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (float)src[i];
}

/* Central difference of f with respect to *x. */
#define FD(x, expr)                                                         \
    ({                                                                      \
        double saved_ = (x);                                                \
        (x) = saved_ + EPS;                                                 \
        double up_ = (expr);                                                \
        (x) = saved_ - EPS;                                                 \
        double down_ = (expr);                                              \
        (x) = saved_;                                                       \
        (up_ - down_) / (2 * EPS);                                          \
    })

static void expect_step(double moved, double grad, const char *what, int i)
{
    double want = -(double)ALPHA * grad;
    double tol = 2e-3 * fabs(want) + 2e-7;
    cr_expect(fabs(moved - want) <= tol,
              "%s[%d]: moved %.9g, -alpha * gradient %.9g", what, i, moved,
              want);
}

Test(gradient, negative_sampling_step)
{
    w2v_rng r;
    w2v_rng_seed(&r, 11, 0);
    double h[DIM], out[ROWS][DIM];
    fill_random(&r, h, DIM, 0.8);
    fill_random(&r, &out[0][0], ROWS * DIM, 0.8);
    const uint32_t ids[] = {3, 7, 1, 10, 5};
    const int n = 5;

    float hf[DIM], outf[ROWS * DIM], grad[DIM] = {0};
    to_float(hf, h, DIM);
    to_float(outf, &out[0][0], ROWS * DIM);
    float loss = w2v_kernel_ns_step(hf, outf, DIM, ids, n, ALPHA, grad, 1);
    cr_expect_float_eq(loss, loss_ns(h, out, ids, n), 1e-4);

    for (int k = 0; k < DIM; k++)
        expect_step(grad[k], FD(h[k], loss_ns(h, out, ids, n)), "h", k);
    for (int d = 0; d < n; d++) {
        for (int k = 0; k < DIM; k++) {
            double g = FD(out[ids[d]][k], loss_ns(h, out, ids, n));
            float before = (float)out[ids[d]][k];
            expect_step(outf[ids[d] * DIM + k] - before, g, "out", k);
        }
    }
    /* Rows that were not targets are untouched. */
    for (int k = 0; k < DIM; k++)
        cr_expect_eq(outf[0 * DIM + k], (float)out[0][k]);
}

Test(gradient, hierarchical_softmax_step)
{
    w2v_rng r;
    w2v_rng_seed(&r, 12, 0);
    double h[DIM], nodes[ROWS][DIM];
    fill_random(&r, h, DIM, 0.8);
    fill_random(&r, &nodes[0][0], ROWS * DIM, 0.8);
    const uint32_t points[] = {11, 4, 8, 0};
    const uint8_t codes[] = {1, 0, 0, 1};
    const int n = 4;

    float hf[DIM], nf[ROWS * DIM], grad[DIM] = {0};
    to_float(hf, h, DIM);
    to_float(nf, &nodes[0][0], ROWS * DIM);
    float loss = w2v_kernel_hs_step(hf, nf, DIM, points, codes, n, ALPHA,
                                    grad, 1);
    cr_expect_float_eq(loss, loss_hs(h, nodes, points, codes, n), 1e-4);
    for (int k = 0; k < DIM; k++)
        expect_step(grad[k],
                    FD(h[k], loss_hs(h, nodes, points, codes, n)), "h", k);
    for (int j = 0; j < n; j++) {
        for (int k = 0; k < DIM; k++) {
            double g = FD(nodes[points[j]][k],
                          loss_hs(h, nodes, points, codes, n));
            float before = (float)nodes[points[j]][k];
            expect_step(nf[points[j] * DIM + k] - before, g, "node", k);
        }
    }
}

/* A CBOW/skip-gram model with HS only: no noise draws, fully determined. */
typedef struct hs_model {
    w2v_huffman tree;
    double in[ROWS][DIM];
    double nodes[ROWS - 1][DIM];
    float inf[ROWS * DIM];
    float nodesf[(ROWS - 1) * DIM];
    float h[DIM], grad[DIM];
    w2v_kernel_model km;
    w2v_kernel_scratch s;
} hs_model;

static void hs_model_init(hs_model *m, uint64_t seed)
{
    uint64_t counts[ROWS];
    for (int i = 0; i < ROWS; i++)
        counts[i] = (uint64_t)(100 - 7 * i);
    cr_assert_eq(w2v_huffman_build(&m->tree, counts, ROWS, NULL), W2V_OK);
    w2v_rng r;
    w2v_rng_seed(&r, seed, 0);
    fill_random(&r, &m->in[0][0], ROWS * DIM, 0.8);
    fill_random(&r, &m->nodes[0][0], (ROWS - 1) * DIM, 0.8);
    to_float(m->inf, &m->in[0][0], ROWS * DIM);
    to_float(m->nodesf, &m->nodes[0][0], (ROWS - 1) * DIM);
    memset(&m->km, 0, sizeof m->km);
    m->km.in = m->inf;
    m->km.out_hs = m->nodesf;
    m->km.dim = DIM;
    m->km.negative = 0;
    m->km.tree = &m->tree;
    m->s.h = m->h;
    m->s.grad = m->grad;
    m->s.ids = NULL;
}

/* The HS loss of predicting target from the mean of ctx[0, n). */
static double loss_cbow(hs_model *m, const uint32_t *ctx, int n,
                        uint32_t target)
{
    double h[DIM] = {0};
    for (int c = 0; c < n; c++)
        for (int k = 0; k < DIM; k++)
            h[k] += m->in[ctx[c]][k] / n;
    size_t a = m->tree.start[target], b = m->tree.start[target + 1];
    return loss_hs(h, m->nodes, m->tree.points + a, m->tree.codes + a,
                   (int)(b - a));
}

Test(gradient, cbow_gets_the_gradient_of_the_mean)
{
    hs_model m;
    hs_model_init(&m, 13);
    /* Sentence 2 9 5 [7] 0 4: target 7 at position 3, window 3. */
    const uint32_t sent[] = {2, 9, 5, 7, 0, 4};
    const uint32_t ctx[] = {2, 9, 5, 0, 4};
    w2v_rng rng;
    w2v_rng_seed(&rng, 1, 0);
    w2v_kernel_cbow(&m.km, &m.s, &rng, sent, 6, 3, 3, ALPHA, NULL);
    for (int c = 0; c < 5; c++) {
        for (int k = 0; k < DIM; k++) {
            double g = FD(m.in[ctx[c]][k], loss_cbow(&m, ctx, 5, 7));
            float moved = m.inf[ctx[c] * DIM + k] - (float)m.in[ctx[c]][k];
            expect_step(moved, g, "context", k);
        }
    }
    /* The target's own input vector is not part of its context. */
    for (int k = 0; k < DIM; k++)
        cr_expect_eq(m.inf[7 * DIM + k], (float)m.in[7][k]);
    w2v_huffman_free(&m.tree);
}

Test(gradient, cbow_differs_from_word2vec_c_by_the_context_size)
{
    /*
     * word2vec.c adds the undivided error at the mean to every context
     * word: cw = 5 times the gradient of the mean. Check that our step is
     * that error divided by cw, i.e. one fifth of word2vec.c's.
     */
    hs_model m;
    hs_model_init(&m, 14);
    const uint32_t sent[] = {2, 9, 5, 7, 0, 4};
    const uint32_t ctx[] = {2, 9, 5, 0, 4};
    double hmean[DIM] = {0};
    for (int c = 0; c < 5; c++)
        for (int k = 0; k < DIM; k++)
            hmean[k] += m.in[ctx[c]][k] / 5;
    size_t a = m.tree.start[7], b = m.tree.start[8];
    w2v_rng rng;
    w2v_rng_seed(&rng, 1, 0);
    w2v_kernel_cbow(&m.km, &m.s, &rng, sent, 6, 3, 3, ALPHA, NULL);
    for (int k = 0; k < DIM; k++) {
        /* dL/dh at the mean, by finite differences on h itself. */
        double g = FD(hmean[k], loss_hs(hmean, m.nodes, m.tree.points + a,
                                        m.tree.codes + a, (int)(b - a)));
        double word2vec_c_step = -(double)ALPHA * g;
        float moved = m.inf[2 * DIM + k] - (float)m.in[2][k];
        cr_expect(fabs(moved - word2vec_c_step / 5) <=
                      2e-3 * fabs(word2vec_c_step / 5) + 2e-7,
                  "dim %d: moved %g, word2vec.c would move %g", k, moved,
                  word2vec_c_step);
    }
    w2v_huffman_free(&m.tree);
}

Test(gradient, skipgram_context_predicts_the_centre)
{
    hs_model m;
    hs_model_init(&m, 15);
    /* One context word: the step is exactly first order. */
    const uint32_t sent[] = {6, 3};
    w2v_rng rng;
    w2v_rng_seed(&rng, 1, 0);
    w2v_kernel_skipgram(&m.km, &m.s, &rng, sent, 2, 1, 1, ALPHA, NULL);
    size_t a = m.tree.start[3], b = m.tree.start[4];
    for (int k = 0; k < DIM; k++) {
        double g = FD(m.in[6][k], loss_hs(m.in[6], m.nodes,
                                          m.tree.points + a,
                                          m.tree.codes + a, (int)(b - a)));
        expect_step(m.inf[6 * DIM + k] - (float)m.in[6][k], g, "in", k);
    }
    w2v_huffman_free(&m.tree);
}

Test(gradient, dot_and_axpy_match_naive_loops)
{
    float a[71], b[71], y[71], y2[71];
    w2v_rng r;
    w2v_rng_seed(&r, 16, 0);
    for (int i = 0; i < 71; i++) {
        a[i] = w2v_rng_float(&r) - 0.5f;
        b[i] = w2v_rng_float(&r) - 0.5f;
        y[i] = y2[i] = w2v_rng_float(&r);
    }
    for (size_t n = 0; n <= 71; n++) {
        double want = 0;
        for (size_t i = 0; i < n; i++)
            want += (double)a[i] * b[i];
        cr_expect(fabs(w2v_dot(a, b, n) - want) < 1e-5, "dot n=%zu", n);
    }
    w2v_axpy(0.5f, a, y, 71);
    for (int i = 0; i < 71; i++)
        cr_expect_float_eq(y[i], y2[i] + 0.5f * a[i], 1e-6);
}

Test(gradient, softplus_is_finite_and_right)
{
    cr_expect_float_eq(w2v_softplus(0), log(2.0), 1e-12);
    cr_expect_float_eq(w2v_softplus(1000), 1000, 1e-9);
    cr_expect(w2v_softplus(-1000) >= 0 && w2v_softplus(-1000) < 1e-300);
    cr_expect_float_eq(w2v_softplus(3), log1p(exp(3.0)), 1e-12);
}
