/*
 * test_kernel.c - the training kernels against their objective.
 *
 * kernel.h defines the loss of one prediction; a step must move every
 * parameter by -alpha times its gradient, the gradient of h taken with the
 * output vectors as they were before the step. These tests write that loss
 * again, independently and in double precision, differentiate it by central
 * finite differences, and compare the change the kernels make:
 *
 *   (new - old) / (-alpha)  ==  dL/dparameter    (within 1e-3 relative)
 *
 * for every parameter, touched or not. The fast helpers (w2v_dot, w2v_axpy,
 * w2v_softplus) are checked against naive loops and exact values.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

/* Central differences in double: truncation error ~eps^2, far below tol. */
#define FD_EPS 1e-3
/* A small rate: the float step stays well above float rounding. */
#define ALPHA 1e-2f
/* |got - want| <= REL_TOL * |want| + ABS_TOL (ABS_TOL for tiny gradients). */
#define REL_TOL 1e-3
#define ABS_TOL 1e-4

/* ---------------------------------------------------------------------- */
/* Test data                                                               */

/* xorshift64*: the test's own generator, independent of rng.h. */
static uint64_t kt_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [-scale, scale). */
static float kt_uniform(uint64_t *s, float scale)
{
    double u = (double)(kt_next(s) >> 11) / 9007199254740992.0;
    return (float)((2 * u - 1) * scale);
}

static float *kt_random(uint64_t *s, size_t n, float scale)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    cr_assert_not_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = kt_uniform(s, scale);
    return p;
}

static double *kt_to_double(const float *p, size_t n)
{
    double *d = malloc((n ? n : 1) * sizeof *d);
    cr_assert_not_null(d);
    for (size_t i = 0; i < n; i++)
        d[i] = p[i];
    return d;
}

static int kt_close(double got, double want)
{
    return fabs(got - want) <= REL_TOL * fabs(want) + ABS_TOL;
}

/* ---------------------------------------------------------------------- */
/* The objective, written again in double precision                        */

/* log(1 + e^x), stable for any x. */
static double kt_softplus(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

static double kt_dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/*
 * Negative sampling: -log s(h.o_ids[0]) - sum_j log s(-h.o_ids[j]), and
 * -log s(x) = softplus(-x).
 */
static double kt_ns_loss(const double *h, const double *out, size_t dim,
                         const uint32_t *ids, size_t n)
{
    double l = 0;
    for (size_t d = 0; d < n; d++) {
        double x = kt_dot(h, out + (size_t)ids[d] * dim, dim);
        l += kt_softplus(d == 0 ? -x : x);
    }
    return l;
}

/* Hierarchical softmax: -sum_j log s((1 - 2 c_j) h.o_pj). */
static double kt_hs_loss(const double *h, const double *nodes, size_t dim,
                         const uint32_t *points, const uint8_t *codes,
                         size_t len)
{
    double l = 0;
    for (size_t j = 0; j < len; j++) {
        double x = kt_dot(h, nodes + (size_t)points[j] * dim, dim);
        l += kt_softplus(-(1.0 - 2.0 * codes[j]) * x);
    }
    return l;
}

/* ---------------------------------------------------------------------- */
/* w2v_kernel_ns_step and w2v_kernel_hs_step                               */

typedef struct step_case {
    size_t dim;
    size_t rows;          /* rows of the output matrix */
    const uint32_t *ids;  /* NS: target then noise; HS: path nodes */
    const uint8_t *codes; /* HS only */
    size_t n;
    int hs;
    float scale; /* of the random values */
    uint64_t seed;
} step_case;

static double case_loss(const step_case *c, const double *h, const double *out)
{
    return c->hs ? kt_hs_loss(h, out, c->dim, c->ids, c->codes, c->n)
                 : kt_ns_loss(h, out, c->dim, c->ids, c->n);
}

/*
 * Runs one step on random data and checks the loss, the step added to grad
 * (it must add, so grad starts non-zero) and every output value.
 */
static void check_step(const step_case *c)
{
    uint64_t s = c->seed;
    size_t dim = c->dim, nout = c->rows * dim;
    float *h = kt_random(&s, dim, c->scale);
    float *out = kt_random(&s, nout, c->scale);
    float *grad = kt_random(&s, dim, 1.0f);
    float *h0 = malloc(dim * sizeof *h0);
    float *out0 = malloc(nout * sizeof *out0);
    float *grad0 = malloc(dim * sizeof *grad0);
    cr_assert(h0 && out0 && grad0);
    memcpy(h0, h, dim * sizeof *h);
    memcpy(out0, out, nout * sizeof *out);
    memcpy(grad0, grad, dim * sizeof *grad);
    double *hd = kt_to_double(h, dim);
    double *od = kt_to_double(out, nout);

    /* Finite-difference gradients of the double-precision loss. */
    double loss = case_loss(c, hd, od);
    double *gh = malloc(dim * sizeof *gh);
    double *go = malloc(nout * sizeof *go);
    cr_assert(gh && go);
    for (size_t i = 0; i < dim; i++) {
        double v = hd[i];
        hd[i] = v + FD_EPS;
        double lp = case_loss(c, hd, od);
        hd[i] = v - FD_EPS;
        double lm = case_loss(c, hd, od);
        hd[i] = v;
        gh[i] = (lp - lm) / (2 * FD_EPS);
    }
    for (size_t i = 0; i < nout; i++) {
        double v = od[i];
        od[i] = v + FD_EPS;
        double lp = case_loss(c, hd, od);
        od[i] = v - FD_EPS;
        double lm = case_loss(c, hd, od);
        od[i] = v;
        go[i] = (lp - lm) / (2 * FD_EPS);
    }

    float got_loss =
        c->hs ? w2v_kernel_hs_step(h, out, dim, c->ids, c->codes, c->n, ALPHA,
                                   grad, 1)
              : w2v_kernel_ns_step(h, out, dim, c->ids, c->n, ALPHA, grad, 1);

    cr_assert(fabs(got_loss - loss) <= 1e-5 * fabs(loss) + 1e-6,
              "%s dim %zu: loss %.9g, expected %.9g", c->hs ? "hs" : "ns", dim,
              (double)got_loss, loss);
    cr_assert_arr_eq(h, h0, dim * sizeof *h, "the step must not change h");
    for (size_t i = 0; i < dim; i++) {
        double step = ((double)grad[i] - grad0[i]) / -(double)ALPHA;
        cr_assert(kt_close(step, gh[i]),
                  "%s dim %zu: grad[%zu] took %.7g/-alpha, dL/dh = %.7g",
                  c->hs ? "hs" : "ns", dim, i, step, gh[i]);
    }
    size_t moved = 0;
    for (size_t i = 0; i < nout; i++) {
        double step = ((double)out[i] - out0[i]) / -(double)ALPHA;
        if (go[i] == 0) {
            cr_assert_eq(out[i], out0[i],
                         "%s: row %zu changed but is not in the loss",
                         c->hs ? "hs" : "ns", i / dim);
            continue;
        }
        moved++;
        cr_assert(kt_close(step, go[i]),
                  "%s dim %zu: out[%zu][%zu] moved %.7g/-alpha, dL/do = %.7g",
                  c->hs ? "hs" : "ns", dim, i / dim, i % dim, step, go[i]);
    }
    cr_assert_eq(moved, c->n * dim, "every touched row has a gradient");

    free(h);
    free(out);
    free(grad);
    free(h0);
    free(out0);
    free(grad0);
    free(hd);
    free(od);
    free(gh);
    free(go);
}

Test(kernel, ns_step_is_the_gradient_of_the_ns_loss)
{
    /* Target 3, noise 7 0 11 5: distinct, so no row is updated twice. */
    static const uint32_t ids[] = {3, 7, 0, 11, 5};
    const size_t dims[] = {16, 33, 50};
    for (size_t k = 0; k < 3; k++) {
        step_case c = {dims[k], 12, ids, NULL, 5, 0, 0.5f, 11 + k};
        check_step(&c);
    }
}

Test(kernel, hs_step_is_the_gradient_of_the_hs_loss)
{
    /* A path of four distinct inner nodes, both branch bits present. */
    static const uint32_t points[] = {6, 2, 9, 0};
    static const uint8_t codes[] = {1, 0, 1, 1};
    const size_t dims[] = {16, 31, 48};
    for (size_t k = 0; k < 3; k++) {
        step_case c = {dims[k], 11, points, codes, 4, 1, 0.5f, 21 + k};
        check_step(&c);
    }
}

Test(kernel, steps_with_large_inputs_follow_the_gradient)
{
    /* Scores of several units: sigmoid near saturation on some rows. */
    static const uint32_t ids[] = {1, 4, 2};
    static const uint8_t codes[] = {0, 1, 0};
    step_case ns = {24, 6, ids, NULL, 3, 0, 0.8f, 31};
    step_case hs = {24, 6, ids, codes, 3, 1, 0.8f, 32};
    check_step(&ns);
    check_step(&hs);
}

Test(kernel, loss_is_optional_and_does_not_change_the_step)
{
    uint64_t s = 41;
    size_t dim = 20, rows = 8;
    static const uint32_t ids[] = {2, 5, 7};
    static const uint8_t codes[] = {1, 0, 0};
    float *h = kt_random(&s, dim, 0.5f);
    float *out_a = kt_random(&s, rows * dim, 0.5f);
    float *out_b = malloc(rows * dim * sizeof *out_b);
    float *ga = calloc(dim, sizeof *ga), *gb = calloc(dim, sizeof *gb);
    cr_assert(out_b && ga && gb);
    for (int hs = 0; hs <= 1; hs++) {
        memcpy(out_b, out_a, rows * dim * sizeof *out_a);
        float la =
            hs ? w2v_kernel_hs_step(h, out_a, dim, ids, codes, 3, ALPHA, ga, 1)
               : w2v_kernel_ns_step(h, out_a, dim, ids, 3, ALPHA, ga, 1);
        float lb =
            hs ? w2v_kernel_hs_step(h, out_b, dim, ids, codes, 3, ALPHA, gb, 0)
               : w2v_kernel_ns_step(h, out_b, dim, ids, 3, ALPHA, gb, 0);
        cr_assert_gt(la, 0.0f, "a loss is positive");
        cr_assert_eq(lb, 0.0f, "without want_loss the result is 0");
        cr_assert_arr_eq(out_a, out_b, rows * dim * sizeof *out_a);
        cr_assert_arr_eq(ga, gb, dim * sizeof *ga);
    }
    free(h);
    free(out_a);
    free(out_b);
    free(ga);
    free(gb);
}

Test(kernel, saturated_scores_give_finite_exact_losses)
{
    /* h.o = +-200: exp overflows float; the loss must not. */
    size_t dim = 4;
    float h[4] = {10, 10, 10, 10};
    float out[3 * 4] = {5, 5, 5, 5, 5, 5, 5, 5, -5, -5, -5, -5};
    uint32_t ids[3] = {2, 0, 1}; /* target scores -200, noise +200 */
    float grad[4] = {0, 0, 0, 0};
    float l = w2v_kernel_ns_step(h, out, dim, ids, 3, ALPHA, grad, 1);
    cr_assert(isfinite(l), "loss %g", (double)l);
    cr_assert_float_eq(l, 600.0f, 1e-3f, "3 confident mistakes of 200");
    for (size_t i = 0; i < 4; i++)
        cr_assert(isfinite(grad[i]) && isfinite(out[i]));

    float nodes[4] = {-5, -5, -5, -5};
    uint32_t points[1] = {0};
    uint8_t right[1] = {1}, wrong[1] = {0};
    float ok = w2v_kernel_hs_step(h, nodes, dim, points, right, 1, 0, grad, 1);
    float bad = w2v_kernel_hs_step(h, nodes, dim, points, wrong, 1, 0, grad, 1);
    cr_assert_float_eq(ok, 0.0f, 1e-6f, "code 1 at score -200 is certain");
    cr_assert_float_eq(bad, 200.0f, 1e-3f, "code 0 at score -200 costs 200");
}

/* ---------------------------------------------------------------------- */
/* Skip-gram and CBOW through a kernel model                               */

/*
 * A tiny model: V words, all parameters in one block p = [in | out_ns |
 * out_hs] so that one finite-difference loop covers everything:
 *   in (V, dim), out_ns (V, dim), out_hs (V - 1, dim).
 */
typedef struct tiny {
    size_t V, dim, n_params;
    float *p;
    w2v_alias noise;
    w2v_huffman tree;
    w2v_kernel_model km;
    w2v_kernel_scratch s;
} tiny;

static void tiny_init(tiny *t, size_t V, size_t dim, int negative, int hs,
                      uint64_t seed)
{
    memset(t, 0, sizeof *t);
    t->V = V;
    t->dim = dim;
    t->n_params = (3 * V - 1) * dim;
    uint64_t s = seed;
    t->p = kt_random(&s, t->n_params, 0.5f);
    w2v_error err;
    w2v_error_clear(&err);
    uint64_t *counts = malloc(V * sizeof *counts);
    double *weights = malloc(V * sizeof *weights);
    cr_assert(counts && weights);
    for (size_t i = 0; i < V; i++) {
        counts[i] = 100 - 7 * i; /* descending, as a vocabulary is */
        weights[i] = pow((double)counts[i], 0.75);
    }
    cr_assert_eq(w2v_alias_init_weights(&t->noise, weights, V, &err), W2V_OK,
                 "%s", err.message);
    cr_assert_eq(w2v_huffman_build(&t->tree, counts, V, &err), W2V_OK, "%s",
                 err.message);
    free(counts);
    free(weights);
    t->km.in = t->p;
    t->km.out_ns = t->p + V * dim;
    t->km.out_hs = t->p + 2 * V * dim;
    t->km.dim = dim;
    t->km.negative = negative;
    t->km.noise = negative > 0 ? &t->noise : NULL;
    t->km.tree = hs ? &t->tree : NULL;
    t->s.h = malloc(dim * sizeof(float));
    t->s.grad = malloc(dim * sizeof(float));
    t->s.ids = malloc(((size_t)negative + 1) * sizeof(uint32_t));
    cr_assert(t->s.h && t->s.grad && t->s.ids);
}

static void tiny_free(tiny *t)
{
    free(t->p);
    w2v_alias_free(&t->noise);
    w2v_huffman_free(&t->tree);
    free(t->s.h);
    free(t->s.grad);
    free(t->s.ids);
}

/* One prediction as the test sees it: target plus the noise drawn. */
typedef struct prediction {
    uint32_t ids[16]; /* target, then noise */
    size_t n;
} prediction;

/*
 * Draws the noise of one prediction the way the kernels document it:
 * `negative` draws from the alias table, a draw equal to the target
 * dropped. Returns 0 if two noise words coincide (a row would be updated
 * twice in one step, which is not the plain gradient step).
 */
static int draw_prediction(const tiny *t, w2v_rng *r, uint32_t target,
                           prediction *p)
{
    int distinct = 1;
    p->n = 0;
    p->ids[p->n++] = target;
    for (int d = 0; d < t->km.negative; d++) {
        uint32_t w = w2v_alias_draw(&t->noise, r);
        if (w == target)
            continue;
        for (size_t j = 1; j < p->n; j++)
            distinct &= p->ids[j] != w;
        p->ids[p->n++] = w;
    }
    return distinct;
}

/*
 * The loss of one prediction from input h (double, dim), with the output
 * parameters taken from the double copy pd of the parameter block.
 */
static double tiny_loss(const tiny *t, const double *pd, const double *h,
                        const prediction *pr)
{
    size_t V = t->V, dim = t->dim;
    double l = 0;
    if (t->km.tree != NULL) {
        uint32_t w = pr->ids[0];
        size_t a = t->tree.start[w], b = t->tree.start[w + 1];
        l += kt_hs_loss(h, pd + 2 * V * dim, dim, t->tree.points + a,
                        t->tree.codes + a, b - a);
    }
    if (t->km.negative > 0)
        l += kt_ns_loss(h, pd + V * dim, dim, pr->ids, pr->n);
    return l;
}

/* The CBOW loss: h is the mean of the context words' input vectors. */
static double cbow_loss(const tiny *t, const double *pd, const uint32_t *ctx,
                        size_t n_ctx, const prediction *pr, double *h)
{
    size_t dim = t->dim;
    for (size_t i = 0; i < dim; i++)
        h[i] = 0;
    for (size_t c = 0; c < n_ctx; c++)
        for (size_t i = 0; i < dim; i++)
            h[i] += pd[(size_t)ctx[c] * dim + i];
    for (size_t i = 0; i < dim; i++)
        h[i] /= (double)n_ctx;
    return tiny_loss(t, pd, h, pr);
}

/* The skip-gram loss of one context word: its input row is h. */
static double sg_loss(const tiny *t, const double *pd, uint32_t ctx,
                      const prediction *pr)
{
    return tiny_loss(t, pd, pd + (size_t)ctx * t->dim, pr);
}

/* Finite-difference gradient of every parameter for one loss. */
typedef double (*loss_fn)(const tiny *t, const double *pd, const void *arg);

static void fd_gradient(const tiny *t, double *pd, loss_fn f, const void *arg,
                        double *g)
{
    for (size_t i = 0; i < t->n_params; i++) {
        double v = pd[i];
        pd[i] = v + FD_EPS;
        double lp = f(t, pd, arg);
        pd[i] = v - FD_EPS;
        double lm = f(t, pd, arg);
        pd[i] = v;
        g[i] = (lp - lm) / (2 * FD_EPS);
    }
}

typedef struct cbow_arg {
    const uint32_t *ctx;
    size_t n_ctx;
    const prediction *pr;
    double *h; /* scratch (dim) */
} cbow_arg;

static double cbow_loss_fn(const tiny *t, const double *pd, const void *arg)
{
    const cbow_arg *a = arg;
    return cbow_loss(t, pd, a->ctx, a->n_ctx, a->pr, a->h);
}

typedef struct sg_arg {
    uint32_t ctx;
    const prediction *pr;
} sg_arg;

static double sg_loss_fn(const tiny *t, const double *pd, const void *arg)
{
    const sg_arg *a = arg;
    return sg_loss(t, pd, a->ctx, a->pr);
}

/* A seed whose noise draws for n_pred predictions are all distinct. */
static uint64_t distinct_seed(const tiny *t, uint32_t target, size_t n_pred)
{
    for (uint64_t seed = 1; seed < 1000; seed++) {
        w2v_rng r;
        w2v_rng_seed(&r, seed, 0);
        int ok = 1;
        prediction p;
        for (size_t k = 0; k < n_pred; k++)
            ok &= draw_prediction(t, &r, target, &p);
        if (ok)
            return seed;
    }
    cr_assert_fail("no seed gives distinct noise words");
    return 0;
}

/* Compares the kernel's change to every parameter with want (the step). */
static void check_moves(const tiny *t, const float *before,
                        const double *want_step, const char *what)
{
    size_t V = t->V, dim = t->dim;
    size_t moved = 0;
    for (size_t i = 0; i < t->n_params; i++) {
        const char *block = i < V * dim       ? "in"
                            : i < 2 * V * dim ? "out_ns"
                                              : "out_hs";
        size_t row = (i % (V * dim)) / dim;
        if (want_step[i] == 0) {
            cr_assert_eq(t->p[i], before[i],
                         "%s: %s row %zu changed, not in the loss", what, block,
                         row);
            continue;
        }
        moved++;
        double got = ((double)t->p[i] - before[i]) / -(double)ALPHA;
        double want = want_step[i] / -(double)ALPHA;
        cr_assert(kt_close(got, want),
                  "%s: %s[%zu][%zu] moved %.7g/-alpha, dL/dp %.7g", what, block,
                  row, i % dim, got, want);
    }
    cr_assert_gt(moved, 0, "%s: nothing moved", what);
}

/*
 * CBOW on sent around pos with window win: every parameter, including each
 * context word's input vector, moves by -alpha times the gradient of the
 * loss of the *mean* of the context vectors.
 */
static void check_cbow(int negative, int hs, const uint32_t *sent, size_t len,
                       size_t pos, int win, uint64_t data_seed)
{
    char what[64];
    snprintf(what, sizeof what, "cbow neg %d hs %d pos %zu win %d", negative,
             hs, pos, win);
    tiny t;
    tiny_init(&t, 10, 24, negative, hs, data_seed);
    uint32_t ctx[16];
    size_t n_ctx = 0;
    size_t lo = pos > (size_t)win ? pos - (size_t)win : 0;
    for (size_t c = lo; c < len && c <= pos + (size_t)win; c++)
        if (c != pos)
            ctx[n_ctx++] = sent[c];
    uint64_t seed = distinct_seed(&t, sent[pos], 1);
    w2v_rng rng, copy;
    w2v_rng_seed(&rng, seed, 0);
    copy = rng;
    prediction pr;
    draw_prediction(&t, &copy, sent[pos], &pr);

    double *pd = kt_to_double(t.p, t.n_params);
    double *g = malloc(t.n_params * sizeof *g);
    double *h = calloc(t.dim, sizeof *h);
    float *before = malloc(t.n_params * sizeof *before);
    cr_assert(g && h && before);
    memcpy(before, t.p, t.n_params * sizeof *before);
    cbow_arg arg = {ctx, n_ctx, &pr, h};
    double loss = cbow_loss_fn(&t, pd, &arg);
    fd_gradient(&t, pd, cbow_loss_fn, &arg, g);
    for (size_t i = 0; i < t.n_params; i++)
        g[i] *= -(double)ALPHA;

    w2v_kernel_loss kl = {0, 0};
    w2v_kernel_cbow(&t.km, &t.s, &rng, sent, len, pos, win, ALPHA, &kl);
    cr_assert_eq(kl.count, 1, "%s: one prediction", what);
    cr_assert(fabs(kl.sum - loss) <= 1e-5 * loss + 1e-6,
              "%s: loss %.9g, expected %.9g", what, kl.sum, loss);
    cr_assert_eq(rng.state, copy.state, "%s: not `negative` noise draws", what);
    check_moves(&t, before, g, what);
    free(pd);
    free(g);
    free(h);
    free(before);
    tiny_free(&t);
}

/*
 * Skip-gram: each context word in turn predicts sent[pos] and takes a
 * gradient step, the outputs as left by the previous context word. The
 * test replays that sequence with finite-difference steps in double.
 */
static void check_skipgram(int negative, int hs, const uint32_t *sent,
                           size_t len, size_t pos, int win, uint64_t data_seed)
{
    char what[64];
    snprintf(what, sizeof what, "skip-gram neg %d hs %d pos %zu win %d",
             negative, hs, pos, win);
    tiny t;
    tiny_init(&t, 10, 20, negative, hs, data_seed);
    uint32_t ctx[16];
    size_t n_ctx = 0;
    size_t lo = pos > (size_t)win ? pos - (size_t)win : 0;
    for (size_t c = lo; c < len && c <= pos + (size_t)win; c++)
        if (c != pos)
            ctx[n_ctx++] = sent[c];
    uint64_t seed = distinct_seed(&t, sent[pos], n_ctx);
    w2v_rng rng, copy;
    w2v_rng_seed(&rng, seed, 0);
    copy = rng;

    double *pd = kt_to_double(t.p, t.n_params);
    double *g = malloc(t.n_params * sizeof *g);
    double *total = calloc(t.n_params, sizeof *total);
    float *before = malloc(t.n_params * sizeof *before);
    cr_assert(g && total && before);
    memcpy(before, t.p, t.n_params * sizeof *before);
    double loss = 0;
    for (size_t k = 0; k < n_ctx; k++) {
        prediction pr;
        draw_prediction(&t, &copy, sent[pos], &pr);
        sg_arg arg = {ctx[k], &pr};
        loss += sg_loss_fn(&t, pd, &arg);
        fd_gradient(&t, pd, sg_loss_fn, &arg, g);
        for (size_t i = 0; i < t.n_params; i++) {
            pd[i] -= (double)ALPHA * g[i];
            total[i] -= (double)ALPHA * g[i];
        }
    }

    w2v_kernel_loss kl = {0, 0};
    w2v_kernel_skipgram(&t.km, &t.s, &rng, sent, len, pos, win, ALPHA, &kl);
    cr_assert_eq(kl.count, n_ctx, "%s: one prediction per context word", what);
    cr_assert(fabs(kl.sum - loss) <= 1e-5 * loss + 1e-6,
              "%s: loss %.9g, expected %.9g", what, kl.sum, loss);
    cr_assert_eq(rng.state, copy.state, "%s: unexpected noise draws", what);
    check_moves(&t, before, total, what);
    free(pd);
    free(g);
    free(total);
    free(before);
    tiny_free(&t);
}

/* Distinct words, so that no input row is shared by two positions. */
static const uint32_t sentence[] = {4, 1, 7, 0, 9, 3, 6};
#define SENT_LEN (sizeof sentence / sizeof sentence[0])

Test(kernel, cbow_moves_context_by_gradient_of_the_mean)
{
    check_cbow(3, 0, sentence, SENT_LEN, 3, 2, 51); /* NS, cw = 4 */
    check_cbow(0, 1, sentence, SENT_LEN, 3, 3, 52); /* HS, cw = 6 */
    check_cbow(4, 1, sentence, SENT_LEN, 2, 2, 53); /* both */
}

Test(kernel, cbow_clips_the_window_at_sentence_ends)
{
    check_cbow(3, 1, sentence, SENT_LEN, 0, 3, 61); /* only right side */
    check_cbow(3, 1, sentence, SENT_LEN, 6, 2, 62); /* only left side */
}

Test(kernel, cbow_repeated_context_word_gets_both_shares)
{
    /* Word 5 twice in the context: d(mean)/d(v5) = 2/cw. */
    static const uint32_t sent[] = {5, 2, 8, 5, 1};
    check_cbow(3, 1, sent, 5, 2, 2, 71);
}

Test(kernel, cbow_without_context_does_nothing)
{
    tiny t;
    tiny_init(&t, 10, 16, 3, 1, 81);
    float *before = malloc(t.n_params * sizeof *before);
    cr_assert_not_null(before);
    memcpy(before, t.p, t.n_params * sizeof *before);
    uint32_t one = 4;
    w2v_rng rng;
    w2v_rng_seed(&rng, 1, 0);
    uint64_t state = rng.state;
    w2v_kernel_loss kl = {0, 0};
    w2v_kernel_cbow(&t.km, &t.s, &rng, &one, 1, 0, 5, ALPHA, &kl);
    cr_assert_eq(kl.count, 0);
    cr_assert_eq(rng.state, state, "no noise drawn");
    cr_assert_arr_eq(t.p, before, t.n_params * sizeof *before);
    free(before);
    tiny_free(&t);
}

/*
 * word2vec.c adds the undivided error neu1e = -alpha dL/dh to every context
 * word although h is the mean: that is cw times the gradient of the mean.
 * w2v gives each context word (1/cw) of it. This test pins the factor.
 */
Test(kernel, cbow_step_is_word2vec_c_step_divided_by_cw)
{
    const size_t cw = 4;
    tiny t;
    tiny_init(&t, 10, 24, 5, 0, 91);
    const uint32_t *sent = sentence;
    size_t pos = 3;
    uint32_t ctx[4] = {sent[1], sent[2], sent[4], sent[5]};
    uint64_t seed = distinct_seed(&t, sent[pos], 1);
    w2v_rng rng, copy;
    w2v_rng_seed(&rng, seed, 0);
    copy = rng;
    prediction pr;
    draw_prediction(&t, &copy, sent[pos], &pr);

    /* dL/dh at the mean, by finite differences on h itself. */
    double *pd = kt_to_double(t.p, t.n_params);
    double *h = calloc(t.dim, sizeof *h), *dh = calloc(t.dim, sizeof *dh);
    float *before = malloc(t.n_params * sizeof *before);
    cr_assert(h && dh && before);
    memcpy(before, t.p, t.n_params * sizeof *before);
    cbow_loss(&t, pd, ctx, cw, &pr, h);
    for (size_t i = 0; i < t.dim; i++) {
        double v = h[i];
        h[i] = v + FD_EPS;
        double lp = tiny_loss(&t, pd, h, &pr);
        h[i] = v - FD_EPS;
        double lm = tiny_loss(&t, pd, h, &pr);
        h[i] = v;
        dh[i] = (lp - lm) / (2 * FD_EPS);
    }
    w2v_kernel_cbow(&t.km, &t.s, &rng, sent, SENT_LEN, pos, 2, ALPHA, NULL);

    for (size_t c = 0; c < cw; c++) {
        for (size_t i = 0; i < t.dim; i++) {
            size_t k = (size_t)ctx[c] * t.dim + i;
            double moved = (double)t.p[k] - before[k];
            double w2v_c_step = -(double)ALPHA * dh[i]; /* neu1e */
            cr_assert(kt_close(moved * (double)cw / -(double)ALPHA,
                               w2v_c_step / -(double)ALPHA),
                      "context %zu [%zu]: moved %.7g, "
                      "word2vec.c's step / cw = %.7g",
                      c, i, moved, w2v_c_step / (double)cw);
            if (fabs(dh[i]) > 1e-2)
                cr_assert(!kt_close(moved / -(double)ALPHA,
                                    w2v_c_step / -(double)ALPHA),
                          "the step must not be word2vec.c's undivided one");
        }
    }
    free(pd);
    free(h);
    free(dh);
    free(before);
    tiny_free(&t);
}

/*
 * The mean step (the trainer's default for CBOW) is the gradient step with
 * the context rows' share preconditioned by cw: the output rows move
 * exactly as in the gradient step, each context row cw times as far, so
 * the mean of the context moves by -alpha dL/dh.
 */
static void check_cbow_mean_step(int negative, int hs, size_t pos, int win,
                                 uint64_t data_seed)
{
    tiny g, m;
    tiny_init(&g, 10, 24, negative, hs, data_seed);
    tiny_init(&m, 10, 24, negative, hs, data_seed);
    m.km.cbow_mean_step = 1;
    size_t lo = pos > (size_t)win ? pos - (size_t)win : 0;
    size_t hi = pos + (size_t)win < SENT_LEN ? pos + (size_t)win
                                             : SENT_LEN - 1;
    double cw = (double)(hi - lo);
    float *before = malloc(g.n_params * sizeof *before);
    cr_assert_not_null(before);
    memcpy(before, g.p, g.n_params * sizeof *before);
    w2v_rng r1, r2;
    w2v_rng_seed(&r1, data_seed, 0);
    r2 = r1;
    w2v_kernel_loss l1 = {0, 0}, l2 = {0, 0};
    w2v_kernel_cbow(&g.km, &g.s, &r1, sentence, SENT_LEN, pos, win, ALPHA,
                    &l1);
    w2v_kernel_cbow(&m.km, &m.s, &r2, sentence, SENT_LEN, pos, win, ALPHA,
                    &l2);
    cr_assert_eq(r1.state, r2.state, "the same noise draws");
    cr_assert_float_eq(l1.sum, l2.sum, 1e-9, "the same loss");
    size_t V = g.V, dim = g.dim;
    double moved_ctx = 0;
    for (size_t i = 0; i < g.n_params; i++) {
        size_t row = i / dim;
        int ctx = 0;
        for (size_t c = lo; c <= hi; c++)
            ctx |= c != pos && row < V && sentence[c] == row;
        double want = (double)g.p[i] - before[i];
        if (ctx)
            want *= cw;
        double got = (double)m.p[i] - before[i];
        cr_assert(fabs(got - want) <= 1e-5 * fabs(want) + 1e-7,
                  "param %zu (row %zu%s): moved %.9g, want %.9g", i, row,
                  ctx ? ", context" : "", got, want);
        if (ctx)
            moved_ctx += fabs(got);
    }
    cr_assert_gt(moved_ctx, 0, "the context rows moved");
    free(before);
    tiny_free(&g);
    tiny_free(&m);
}

Test(kernel, cbow_mean_step_is_the_gradient_step_preconditioned_by_cw)
{
    check_cbow_mean_step(3, 0, 3, 2, 121); /* NS, cw = 4 */
    check_cbow_mean_step(0, 1, 3, 3, 122); /* HS, cw = 6 */
    check_cbow_mean_step(4, 1, 0, 3, 123); /* both, clipped: cw = 3 */
}

Test(kernel, skipgram_steps_each_context_word_in_turn)
{
    check_skipgram(3, 0, sentence, SENT_LEN, 3, 2, 101); /* NS */
    check_skipgram(0, 1, sentence, SENT_LEN, 3, 2, 102); /* HS */
    check_skipgram(4, 1, sentence, SENT_LEN, 2, 3, 103); /* both */
}

Test(kernel, skipgram_clips_the_window_at_sentence_ends)
{
    check_skipgram(3, 1, sentence, SENT_LEN, 0, 3, 111);
    check_skipgram(3, 1, sentence, SENT_LEN, 6, 2, 112);
}

/* ---------------------------------------------------------------------- */
/* w2v_dot, w2v_axpy, w2v_softplus                                         */

Test(kernel, dot_matches_naive_sum_for_every_tail_length)
{
    uint64_t s = 7;
    for (size_t n = 0; n <= 70; n++) {
        /* One extra NaN past the end: reading it would poison the sum. */
        float *a = kt_random(&s, n + 1, 1.0f), *b = kt_random(&s, n + 1, 1.0f);
        a[n] = b[n] = NAN;
        double ref = 0, mag = 0;
        for (size_t i = 0; i < n; i++) {
            ref += (double)a[i] * b[i];
            mag += fabs((double)a[i] * b[i]);
        }
        float got = w2v_dot(a, b, n);
        cr_assert(fabs(got - ref) <= 1e-6 * mag + 1e-7,
                  "n = %zu: w2v_dot %.9g, naive %.9g", n, (double)got, ref);
        free(a);
        free(b);
    }
}

Test(kernel, axpy_matches_naive_loop_for_every_tail_length)
{
    uint64_t s = 9;
    for (size_t n = 0; n <= 70; n++) {
        float *x = kt_random(&s, n + 1, 1.0f), *y = kt_random(&s, n + 1, 1.0f);
        x[n] = NAN;
        y[n] = 12345.0f; /* must stay */
        float a = kt_uniform(&s, 2.0f);
        double *ref = kt_to_double(y, n);
        for (size_t i = 0; i < n; i++)
            ref[i] += (double)a * x[i];
        w2v_axpy(a, x, y, n);
        for (size_t i = 0; i < n; i++)
            cr_assert(fabs(y[i] - ref[i]) <= 1e-6 * (fabs(ref[i]) + 1),
                      "n = %zu, i = %zu: %.9g vs %.9g", n, i, (double)y[i],
                      ref[i]);
        cr_assert_eq(y[n], 12345.0f, "n = %zu: wrote past the end", n);
        free(x);
        free(y);
        free(ref);
    }
}

Test(kernel, softplus_is_finite_and_exact_for_large_inputs)
{
    cr_assert_float_eq(w2v_softplus(0), log(2.0), 1e-15);
    cr_assert_float_eq(w2v_softplus(1), log1p(exp(1.0)), 1e-15);
    cr_assert_float_eq(w2v_softplus(-1), log1p(exp(-1.0)), 1e-15);
    /* Large positive: x itself (naive log(1 + e^x) overflows past 709). */
    const double big[] = {30, 100, 709, 710, 1000, 1e6, 1e300};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        double x = big[i], y = w2v_softplus(x);
        cr_assert(isfinite(y), "softplus(%g) = %g", x, y);
        cr_assert(fabs(y - x) <= 1e-12 * x + 1e-13 + exp(-x) * 1.01,
                  "softplus(%g) = %.17g", x, y);
        /* Large negative: e^x to full relative precision, never negative. */
        double z = w2v_softplus(-x), e = exp(-x);
        cr_assert(z >= 0 && isfinite(z), "softplus(%g) = %g", -x, z);
        cr_assert(fabs(z - e) <= 1e-12 * e + 1e-300,
                  "softplus(%g) = %.17g, e^x = %.17g", -x, z, e);
    }
    /* softplus(x) - softplus(-x) = x everywhere. */
    for (double x = -50; x <= 50; x += 0.37)
        cr_assert_float_eq(w2v_softplus(x) - w2v_softplus(-x), x, 1e-12);
}

/*
 * The range form of CBOW draws one target ahead and prefetches; it must
 * give the vectors, the loss and the generator state of the plain kernel
 * called position by position, bit for bit.
 */
static void check_cbow_range(int negative, int hs, int mean_step,
                             const uint32_t *sent, size_t len, int window,
                             uint64_t seed)
{
    tiny a, b;
    tiny_init(&a, 10, 16, negative, hs, seed);
    tiny_init(&b, 10, 16, negative, hs, seed);
    a.km.cbow_mean_step = b.km.cbow_mean_step = mean_step;
    b.s.ids_ahead = malloc(((size_t)negative + 1) * sizeof(uint32_t));
    cr_assert_not_null(b.s.ids_ahead);
    w2v_rng ra, rb;
    w2v_rng_seed(&ra, seed, 0);
    rb = ra;
    w2v_kernel_loss la = {0, 0}, lb = {0, 0};
    uint64_t pa = 0, pb = 0;
    for (size_t pos = 0; pos < len; pos++) {
        int win = window - (int)w2v_rng_below(&ra, (uint32_t)window);
        w2v_kernel_cbow(&a.km, &a.s, &ra, sent, len, pos, win, ALPHA,
                        pa++ % 3 == 0 ? &la : NULL);
    }
    w2v_kernel_cbow_range(&b.km, &b.s, &rb, sent, len, 0, len, window, ALPHA,
                          &pb, 3, &lb);
    cr_assert_eq(pa, pb, "neg %d hs %d: predictions counted", negative, hs);
    cr_assert_eq(ra.state, rb.state, "neg %d hs %d: the same draws",
                 negative, hs);
    cr_assert_eq(la.count, lb.count);
    cr_assert_eq(la.sum, lb.sum, "neg %d hs %d: loss %.9g, %.9g", negative,
                 hs, la.sum, lb.sum);
    cr_assert_eq(memcmp(a.p, b.p, a.n_params * sizeof *a.p), 0,
                 "neg %d hs %d: the vectors differ", negative, hs);
    free(b.s.ids_ahead);
    tiny_free(&a);
    tiny_free(&b);
}

Test(kernel, cbow_range_is_the_plain_kernel_position_by_position)
{
    static const uint32_t sent[] = {4, 1, 7, 0, 9, 3, 6, 4, 4, 2, 8, 5};
    const size_t len = sizeof sent / sizeof sent[0];
    check_cbow_range(3, 0, 1, sent, len, 3, 131);
    check_cbow_range(0, 1, 1, sent, len, 2, 132);
    check_cbow_range(4, 1, 0, sent, len, 4, 133);
    check_cbow_range(5, 0, 1, sent, 1, 3, 134); /* no context at all */
    check_cbow_range(5, 1, 1, sent + 3, 2, 5, 135);
}
