/*
 * test_kernel_batch.c - the batched kernels against their objective.
 *
 * kernel.h defines the loss of a batch (weighted pairs of input and output
 * rows) and says a step moves every row by -alpha times its gradient taken
 * before the step. These tests write that loss again in double precision,
 * differentiate it by central finite differences, and compare:
 *   - the naive reference step against the finite-difference gradient;
 *   - the vectorised and the BLAS steps against the naive one;
 *   - the batched skip-gram kernel against the skip-gram objective written
 *     pair by pair (each context word of each target's window against the
 *     target and the group's shared noise words, and the target's Huffman
 *     path), which is what a group of targets stands for.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

#define FD_EPS 1e-3
#define ALPHA 1e-2f
#define REL_TOL 1e-3
#define ABS_TOL 1e-4

/* xorshift64*: the test's own generator, independent of rng.h. */
static uint64_t bt_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

static double bt_unit(uint64_t *s)
{
    return (double)(bt_next(s) >> 11) / 9007199254740992.0;
}

static double bt_softplus(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

static int bt_close(double got, double want)
{
    return fabs(got - want) <= REL_TOL * fabs(want) + ABS_TOL;
}

/* ---------------------------------------------------------------------- */
/* A random batch over one parameter block                                 */

/*
 * p = [in (rows_in, dim) | out (rows_out, dim)]; the batch's x[i] and y[j]
 * point into it by row index, with repeats.
 */
typedef struct rbatch {
    size_t dim, rows_in, rows_out, m, n, n_params;
    float *p;
    size_t *xi, *yj;    /* (m), (n) row indices */
    float **x, **y;
    float *pos, *tot;   /* (m, n) */
    float *work;
} rbatch;

static void rbatch_init(rbatch *b, size_t m, size_t n, size_t dim,
                        uint64_t seed)
{
    memset(b, 0, sizeof *b);
    uint64_t s = seed;
    b->dim = dim;
    b->m = m;
    b->n = n;
    b->rows_in = m > 2 ? m - 1 : m;  /* fewer rows than uses: repeats */
    b->rows_out = n > 2 ? n - 1 : n;
    b->n_params = (b->rows_in + b->rows_out) * dim;
    b->p = malloc(b->n_params * sizeof *b->p);
    b->xi = malloc(m * sizeof *b->xi);
    b->yj = malloc(n * sizeof *b->yj);
    b->x = malloc(m * sizeof *b->x);
    b->y = malloc(n * sizeof *b->y);
    b->pos = malloc(m * n * sizeof *b->pos);
    b->tot = malloc(m * n * sizeof *b->tot);
    b->work = malloc(w2v_batch_work_floats(m, n, dim) * sizeof(float));
    cr_assert(b->p && b->xi && b->yj && b->x && b->y && b->pos && b->tot &&
              b->work);
    for (size_t k = 0; k < b->n_params; k++)
        b->p[k] = (float)(bt_unit(&s) - 0.5);
    for (size_t i = 0; i < m; i++) {
        b->xi[i] = i < b->rows_in ? i : bt_next(&s) % b->rows_in;
        b->x[i] = b->p + b->xi[i] * dim;
    }
    for (size_t j = 0; j < n; j++) {
        b->yj[j] = j < b->rows_out ? j : bt_next(&s) % b->rows_out;
        b->y[j] = b->p + (b->rows_in + b->yj[j]) * dim;
    }
    /* Weights: unused pairs, pure positives, pure negatives and mixes. */
    for (size_t k = 0; k < m * n; k++) {
        unsigned r = (unsigned)(bt_next(&s) % 6);
        static const float P[6] = {0, 1, 0, 0, 1, 2};
        static const float T[6] = {0, 1, 1, 3, 2, 2};
        b->pos[k] = P[r];
        b->tot[k] = T[r];
    }
}

static void rbatch_free(rbatch *b)
{
    free(b->p);
    free(b->xi);
    free(b->yj);
    free(b->x);
    free(b->y);
    free(b->pos);
    free(b->tot);
    free(b->work);
}

/*
 * Makes every second use of a row the same row as the use before it, in x
 * and in y: the repeats a fast step that updates two rows in one pass must
 * still add up.
 */
static void rbatch_repeat_side_by_side(rbatch *b)
{
    for (size_t i = 1; i < b->m; i += 2) {
        b->xi[i] = b->xi[i - 1];
        b->x[i] = b->x[i - 1];
    }
    for (size_t j = 1; j < b->n; j += 2) {
        b->yj[j] = b->yj[j - 1];
        b->y[j] = b->y[j - 1];
    }
}

static w2v_batch rbatch_view(const rbatch *b)
{
    w2v_batch v = {b->x, b->m, b->y, b->n, b->pos, b->tot, NULL};
    return v;
}

/* The batch loss in double, with parameters from pd. */
static double rbatch_loss(const rbatch *b, const double *pd)
{
    double l = 0;
    size_t dim = b->dim;
    for (size_t i = 0; i < b->m; i++)
        for (size_t j = 0; j < b->n; j++) {
            const double *x = pd + b->xi[i] * dim;
            const double *y = pd + (b->rows_in + b->yj[j]) * dim;
            double s = 0;
            for (size_t k = 0; k < dim; k++)
                s += x[k] * y[k];
            double p = b->pos[i * b->n + j], t = b->tot[i * b->n + j];
            l += p * bt_softplus(-s) + (t - p) * bt_softplus(s);
        }
    return l;
}

/* ---------------------------------------------------------------------- */
/* Batch steps                                                             */

Test(kernel_batch, naive_step_is_the_gradient_of_the_batch_loss)
{
    rbatch b;
    rbatch_init(&b, 5, 4, 7, 11);
    double *pd = malloc(b.n_params * sizeof *pd);
    float *before = malloc(b.n_params * sizeof *before);
    cr_assert(pd && before);
    for (size_t k = 0; k < b.n_params; k++)
        pd[k] = before[k] = b.p[k];
    double l0 = rbatch_loss(&b, pd);
    w2v_batch v = rbatch_view(&b);
    float l = w2v_batch_step_naive(&v, b.dim, ALPHA, b.work, 1);
    cr_assert(bt_close(l, l0), "loss %g, want %g", (double)l, l0);
    size_t moved = 0;
    for (size_t k = 0; k < b.n_params; k++) {
        double keep = pd[k];
        pd[k] = keep + FD_EPS;
        double lp = rbatch_loss(&b, pd);
        pd[k] = keep - FD_EPS;
        double lm = rbatch_loss(&b, pd);
        pd[k] = keep;
        double want = (lp - lm) / (2 * FD_EPS);
        double got = ((double)b.p[k] - before[k]) / -(double)ALPHA;
        cr_assert(bt_close(got, want), "param %zu moved %.7g/-alpha, dL/dp %.7g",
                  k, got, want);
        moved += want != 0;
    }
    cr_assert_gt(moved, b.n_params / 2);
    free(pd);
    free(before);
    rbatch_free(&b);
}

typedef float (*step_fn)(const w2v_batch *, size_t, float, float *, int);

/* The fast step equals the naive one on the same batch, every parameter. */
static void compare_repeats_with_naive(step_fn fast, const char *name,
                                       size_t m, size_t n, size_t dim,
                                       uint64_t seed, int side_by_side)
{
    rbatch a, r;
    rbatch_init(&a, m, n, dim, seed);
    rbatch_init(&r, m, n, dim, seed);
    if (side_by_side) {
        rbatch_repeat_side_by_side(&a);
        rbatch_repeat_side_by_side(&r);
    }
    w2v_batch va = rbatch_view(&a), vr = rbatch_view(&r);
    /* A large rate makes the steps large against rounding. */
    float la = fast(&va, dim, 0.5f, a.work, 1);
    float lr = w2v_batch_step_naive(&vr, dim, 0.5f, r.work, 1);
    cr_assert(fabs(la - lr) <= 1e-5 * fabs(lr) + 1e-5,
              "%s %zux%zu dim %zu: loss %g, naive %g", name, m, n, dim,
              (double)la, (double)lr);
    for (size_t k = 0; k < a.n_params; k++)
        cr_assert(fabsf(a.p[k] - r.p[k]) <= 2e-6f * (1 + fabsf(r.p[k])),
                  "%s %zux%zu dim %zu: param %zu is %.9g, naive %.9g", name,
                  m, n, dim, k, (double)a.p[k], (double)r.p[k]);
    /* Without the loss the step is the same. */
    rbatch c;
    rbatch_init(&c, m, n, dim, seed);
    if (side_by_side)
        rbatch_repeat_side_by_side(&c);
    w2v_batch vc = rbatch_view(&c);
    cr_assert_eq(fast(&vc, dim, 0.5f, c.work, 0), 0.0f);
    cr_assert_eq(memcmp(c.p, a.p, a.n_params * sizeof *a.p), 0,
                 "%s: the loss changed the step", name);
    rbatch_free(&a);
    rbatch_free(&r);
    rbatch_free(&c);
}

static void compare_with_naive(step_fn fast, const char *name, size_t m,
                               size_t n, size_t dim, uint64_t seed)
{
    compare_repeats_with_naive(fast, name, m, n, dim, seed, 0);
}

Test(kernel_batch, vectorised_step_equals_the_naive_step)
{
    static const size_t shapes[][3] = {{1, 1, 1},  {1, 6, 100}, {6, 1, 100},
                                       {6, 6, 100}, {18, 13, 300},
                                       {3, 40, 17}, {25, 7, 33}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        compare_with_naive(w2v_batch_step, "loops", shapes[s][0],
                           shapes[s][1], shapes[s][2], 100 + s);
}

Test(kernel_batch, vectorised_step_adds_up_rows_repeated_side_by_side)
{
    static const size_t shapes[][3] = {{2, 2, 8},  {6, 6, 100}, {7, 5, 33},
                                       {18, 13, 300}, {4, 9, 17}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        compare_repeats_with_naive(w2v_batch_step, "loops, side by side",
                                   shapes[s][0], shapes[s][1], shapes[s][2],
                                   300 + s, 1);
}

Test(kernel_batch, blas_step_equals_the_naive_step)
{
    static const size_t shapes[][3] = {{1, 1, 1},  {1, 6, 100}, {6, 1, 100},
                                       {6, 6, 100}, {18, 13, 300},
                                       {3, 40, 17}, {25, 7, 33}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        compare_with_naive(w2v_batch_step_blas, "blas", shapes[s][0],
                           shapes[s][1], shapes[s][2], 200 + s);
}

Test(kernel_batch, unused_pairs_change_nothing)
{
    rbatch b;
    rbatch_init(&b, 4, 3, 8, 5);
    for (size_t k = 0; k < b.m * b.n; k++)
        b.pos[k] = b.tot[k] = 0;
    float *before = malloc(b.n_params * sizeof *before);
    cr_assert_not_null(before);
    memcpy(before, b.p, b.n_params * sizeof *before);
    w2v_batch v = rbatch_view(&b);
    cr_assert_eq(w2v_batch_step(&v, b.dim, ALPHA, b.work, 1), 0.0f);
    cr_assert_eq(w2v_batch_step_blas(&v, b.dim, ALPHA, b.work, 1), 0.0f);
    cr_assert_eq(memcmp(before, b.p, b.n_params * sizeof *before), 0);
    free(before);
    rbatch_free(&b);
}

/* The touch step moves each row by alpha 1e-9 per use, and nothing else. */
Test(kernel_batch, touch_step_moves_each_row_once_per_use)
{
    rbatch b;
    rbatch_init(&b, 5, 4, 9, 12);
    for (size_t k = 0; k < b.n_params; k++)
        b.p[k] = 0.0f;
    const float alpha = 1e3f, c = alpha * 1e-9f;
    w2v_batch v = rbatch_view(&b);
    cr_assert_eq(w2v_batch_step_touch(&v, b.dim, alpha, b.work, 1), 0.0f);
    size_t uses_x[5] = {0}, uses_y[4] = {0};
    for (size_t i = 0; i < b.m; i++)
        uses_x[b.xi[i]]++;
    for (size_t j = 0; j < b.n; j++)
        uses_y[b.yj[j]]++;
    cr_assert(b.rows_in < b.m, "the batch repeats an input row");
    for (size_t r = 0; r < b.rows_in + b.rows_out; r++) {
        size_t uses = r < b.rows_in ? uses_x[r] : uses_y[r - b.rows_in];
        for (size_t k = 0; k < b.dim; k++)
            cr_assert_float_eq(b.p[r * b.dim + k], (float)uses * c, 1e-12f,
                               "row %zu coordinate %zu", r, k);
    }
    /* With dx the input rows' moves go there and the rows stay. */
    float *dx = malloc(b.m * b.dim * sizeof *dx);
    cr_assert_not_null(dx);
    for (size_t k = 0; k < b.n_params; k++)
        b.p[k] = 0.0f;
    v.dx = dx;
    w2v_batch_step_touch(&v, b.dim, alpha, b.work, 0);
    for (size_t k = 0; k < b.rows_in * b.dim; k++)
        cr_assert_eq(b.p[k], 0.0f);
    for (size_t k = 0; k < b.m * b.dim; k++)
        cr_assert_float_eq(dx[k], c, 1e-12f);
    free(dx);
    rbatch_free(&b);
}

Test(kernel_batch, saturated_scores_stay_finite)
{
    rbatch b;
    rbatch_init(&b, 3, 3, 4, 9);
    for (size_t k = 0; k < b.n_params; k++)
        b.p[k] = (k % 2) ? 40.0f : -40.0f;  /* scores of +-6400 */
    w2v_batch v = rbatch_view(&b);
    float l = w2v_batch_step(&v, b.dim, ALPHA, b.work, 1);
    cr_assert(isfinite(l) && l >= 0, "loss %g", (double)l);
    for (size_t k = 0; k < b.n_params; k++)
        cr_assert(isfinite(b.p[k]), "param %zu is %g", k, (double)b.p[k]);
    rbatch_free(&b);
}

Test(kernel_batch, sigmoid_array_is_accurate_everywhere)
{
    enum { N = 20001 };
    float *v = malloc(N * sizeof *v);
    cr_assert_not_null(v);
    for (int i = 0; i < N; i++)
        v[i] = -100.0f + 0.01f * (float)i;
    w2v_sigmoid_array(v, N);
    for (int i = 0; i < N; i++) {
        double x = -100.0f + 0.01f * (float)i;  /* the float v[i] held */
        double want = 1 / (1 + exp(-x));
        cr_assert(v[i] >= 0 && v[i] <= 1, "s(%g) = %g", x, (double)v[i]);
        cr_assert(fabs(v[i] - want) <= 1e-6 * want + 1e-30 ||
                      (want < 1e-37 && v[i] < 1e-37f),
                  "s(%g) = %.9g, want %.9g", x, (double)v[i], want);
    }
    float big[4] = {INFINITY, -INFINITY, 1e30f, -1e30f};
    w2v_sigmoid_array(big, 4);
    cr_assert_eq(big[0], 1.0f);
    cr_assert(big[1] >= 0 && big[1] < 1e-37f);
    cr_assert_eq(big[2], 1.0f);
    cr_assert(big[3] >= 0 && big[3] < 1e-37f);
    free(v);
}

/* ---------------------------------------------------------------------- */
/* Batched skip-gram against the pair-by-pair objective                    */

#define TV 10     /* words */
#define TDIM 8

/* A tiny model: p = [in (V, dim) | out_ns (V, dim) | out_hs (V - 1, dim)]. */
typedef struct tiny {
    size_t n_params;
    float *p;
    w2v_alias noise;
    w2v_huffman tree;
    w2v_kernel_model km;
} tiny;

static void tiny_init(tiny *t, int negative, int hs, uint64_t seed)
{
    memset(t, 0, sizeof *t);
    t->n_params = (3 * TV - 1) * TDIM;
    t->p = malloc(t->n_params * sizeof *t->p);
    cr_assert_not_null(t->p);
    uint64_t s = seed;
    for (size_t k = 0; k < t->n_params; k++)
        t->p[k] = (float)(bt_unit(&s) - 0.5);
    uint64_t counts[TV];
    double weights[TV];
    for (size_t i = 0; i < TV; i++) {
        counts[i] = 100 - 7 * i;
        weights[i] = pow((double)counts[i], 0.75);
    }
    w2v_error err;
    w2v_error_clear(&err);
    cr_assert_eq(w2v_alias_init_weights(&t->noise, weights, TV, &err), W2V_OK);
    cr_assert_eq(w2v_huffman_build(&t->tree, counts, TV, &err), W2V_OK);
    t->km.in = t->p;
    t->km.out_ns = t->p + TV * TDIM;
    t->km.out_hs = t->p + 2 * TV * TDIM;
    t->km.dim = TDIM;
    t->km.negative = negative;
    t->km.noise = negative > 0 ? &t->noise : NULL;
    t->km.tree = hs ? &t->tree : NULL;
}

static void tiny_free(tiny *t)
{
    free(t->p);
    w2v_alias_free(&t->noise);
    w2v_huffman_free(&t->tree);
}

/* What one group stands for: its targets' windows and noise words. */
typedef struct sg_case {
    const uint32_t *sent;
    size_t len, from, to;
    int win[16];
    uint32_t noise[16][8];  /* each target's noise words */
    size_t n_noise[16];
} sg_case;

static double dotd(const double *a, const double *b)
{
    double s = 0;
    for (size_t k = 0; k < TDIM; k++)
        s += a[k] * b[k];
    return s;
}

/* The pair-by-pair skip-gram loss of the group, parameters from pd. */
static double sg_case_loss(const tiny *t, const sg_case *c, const double *pd)
{
    const double *in = pd, *out = pd + TV * TDIM, *nodes = pd + 2 * TV * TDIM;
    double l = 0;
    for (size_t pos = c->from; pos < c->to; pos++) {
        size_t w = (size_t)c->win[pos - c->from];
        size_t lo = pos > w ? pos - w : 0;
        size_t hi = pos + w < c->len ? pos + w : c->len - 1;
        uint32_t target = c->sent[pos];
        for (size_t ctx = lo; ctx <= hi; ctx++) {
            if (ctx == pos)
                continue;
            const double *x = in + (size_t)c->sent[ctx] * TDIM;
            if (t->km.tree != NULL)
                for (size_t k = t->tree.start[target];
                     k < t->tree.start[target + 1]; k++) {
                    double s = dotd(x, nodes + (size_t)t->tree.points[k] * TDIM);
                    l += bt_softplus(t->tree.codes[k] ? s : -s);
                }
            if (t->km.negative > 0) {
                l += bt_softplus(-dotd(x, out + (size_t)target * TDIM));
                const uint32_t *noise = c->noise[pos - c->from];
                for (size_t k = 0; k < c->n_noise[pos - c->from]; k++)
                    l += bt_softplus(dotd(x, out + (size_t)noise[k] * TDIM));
            }
        }
    }
    return l;
}

/*
 * Replays the kernel's draws on a copy of its generator: each target's
 * window, then each target's `negative` noise words, a draw equal to that
 * target dropped.
 */
static void sg_case_draws(const tiny *t, sg_case *c, w2v_rng r, int window)
{
    for (size_t pos = c->from; pos < c->to; pos++)
        c->win[pos - c->from] =
            window - (int)w2v_rng_below(&r, (uint32_t)window);
    for (size_t pos = c->from; pos < c->to; pos++) {
        size_t b = pos - c->from;
        c->n_noise[b] = 0;
        for (int d = 0; d < t->km.negative; d++) {
            uint32_t w = w2v_alias_draw(&t->noise, &r);
            if (w != c->sent[pos])
                c->noise[b][c->n_noise[b]++] = w;
        }
    }
}

static void check_sg_group(int negative, int hs, size_t from, size_t to,
                           int impl, uint64_t seed)
{
    static const uint32_t sent[] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8};
    const size_t len = sizeof sent / sizeof sent[0];
    const int window = 3;
    tiny t;
    tiny_init(&t, negative, hs, seed);
    w2v_sg_batch_scratch s;
    cr_assert_eq(w2v_sg_batch_scratch_init(&s, &t.km, to - from, window),
                 0);
    s.loss_every = 1;
    s.hs_batched = hs; /* the pair-by-pair form is not one gradient step */
    s.hs_rows = 0;     /* nor is a window taken a few rows at a time */
    w2v_rng rng;
    w2v_rng_seed(&rng, seed, 0);
    sg_case c = {sent, len, from, to, {0}, {{0}}, {0}};
    sg_case_draws(&t, &c, rng, window);
    double *pd = malloc(t.n_params * sizeof *pd);
    float *before = malloc(t.n_params * sizeof *before);
    cr_assert(pd && before);
    for (size_t k = 0; k < t.n_params; k++)
        pd[k] = before[k] = t.p[k];
    double l0 = sg_case_loss(&t, &c, pd);
    w2v_kernel_loss kl = {0, 0};
    w2v_kernel_skipgram_batched(&t.km, &s, &rng, sent, len, from, to, window,
                                ALPHA, impl, &kl);
    char what[96];
    snprintf(what, sizeof what, "neg %d hs %d targets [%zu, %zu) impl %d",
             negative, hs, from, to, impl);
    cr_assert(bt_close(kl.sum, l0), "%s: loss %g, want %g", what, kl.sum, l0);
    size_t moved = 0;
    for (size_t k = 0; k < t.n_params; k++) {
        double keep = pd[k];
        pd[k] = keep + FD_EPS;
        double lp = sg_case_loss(&t, &c, pd);
        pd[k] = keep - FD_EPS;
        double lm = sg_case_loss(&t, &c, pd);
        pd[k] = keep;
        double want = (lp - lm) / (2 * FD_EPS);
        double got = ((double)t.p[k] - before[k]) / -(double)ALPHA;
        if (want == 0)
            cr_assert_eq(t.p[k], before[k], "%s: param %zu not in the loss "
                         "moved", what, k);
        else
            cr_assert(bt_close(got, want), "%s: param %zu moved %.7g/-alpha, "
                      "dL/dp %.7g", what, k, got, want);
        moved += want != 0;
    }
    cr_assert_gt(moved, 0, "%s: nothing moved", what);
    free(pd);
    free(before);
    w2v_sg_batch_scratch_free(&s);
    tiny_free(&t);
}

Test(kernel_batch, skipgram_group_of_one_is_the_window_gradient)
{
    for (size_t pos = 0; pos < 12; pos += 5)
        check_sg_group(5, 0, pos, pos + 1, W2V_BATCH_LOOPS, 21 + pos);
}

Test(kernel_batch, skipgram_group_is_the_gradient_of_its_pairs)
{
    check_sg_group(5, 0, 2, 8, W2V_BATCH_LOOPS, 31);
    check_sg_group(5, 0, 0, 12, W2V_BATCH_BLAS, 32);
    check_sg_group(3, 0, 6, 12, W2V_BATCH_NAIVE, 33);
}

Test(kernel_batch, skipgram_hs_batched_is_the_window_gradient)
{
    /* One target's window against its Huffman path: one exact step. */
    for (size_t pos = 0; pos < 12; pos += 4)
        check_sg_group(0, 1, pos, pos + 1, W2V_BATCH_LOOPS, 41 + pos);
    check_sg_group(0, 1, 6, 7, W2V_BATCH_BLAS, 51);
    check_sg_group(0, 1, 11, 12, W2V_BATCH_NAIVE, 52);
}

/* The plain skip-gram kernel over every target of sent, windows from rng. */
static void plain_skipgram(tiny *t, w2v_rng *rng, const uint32_t *sent,
                           size_t len, int window)
{
    w2v_kernel_scratch ps;
    ps.h = malloc(TDIM * sizeof(float));
    ps.grad = malloc(TDIM * sizeof(float));
    ps.ids = malloc(sizeof(uint32_t));
    cr_assert(ps.h && ps.grad && ps.ids);
    for (size_t pos = 0; pos < len; pos++) {
        int win = window - (int)w2v_rng_below(rng, (uint32_t)window);
        w2v_kernel_skipgram(&t->km, &ps, rng, sent, len, pos, win, ALPHA,
                            NULL);
    }
    free(ps.h);
    free(ps.grad);
    free(ps.ids);
}

/*
 * Batched hierarchical softmax one context row at a time moves the path
 * after every pair, as the plain kernel does: the same vectors up to the
 * order of float sums; and hs_rows > 1 differs from both.
 */
Test(kernel_batch, skipgram_hs_one_row_at_a_time_is_the_plain_kernel)
{
    static const uint32_t sent[] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8};
    const size_t len = sizeof sent / sizeof sent[0];
    const int window = 3;
    for (size_t r = 0; r < 2; r++) {
        tiny a, b;
        tiny_init(&a, 0, 1, 81);
        tiny_init(&b, 0, 1, 81);
        w2v_sg_batch_scratch s;
        cr_assert_eq(w2v_sg_batch_scratch_init(&s, &a.km, 1, window), 0);
        cr_assert_eq(s.hs_rows, W2V_HS_ROWS);
        s.hs_batched = 1;
        s.hs_rows = r == 0 ? 1 : 4;
        w2v_rng ra, rb;
        w2v_rng_seed(&ra, 81, 0);
        rb = ra;
        w2v_kernel_skipgram_batched(&a.km, &s, &ra, sent, len, 0, len, window,
                                    ALPHA, W2V_BATCH_LOOPS, NULL);
        plain_skipgram(&b, &rb, sent, len, window);
        double worst = 0;
        for (size_t k = 0; k < a.n_params; k++) {
            double d = fabs((double)a.p[k] - b.p[k]) /
                       (fabs((double)b.p[k]) + 1e-3);
            worst = d > worst ? d : worst;
        }
        if (r == 0)
            cr_assert_lt(worst, 1e-5, "hs_rows 1: relative difference %g",
                         worst);
        else
            cr_assert_gt(worst, 1e-4, "hs_rows 4 moved like the pairs (%g)",
                         worst);
        w2v_sg_batch_scratch_free(&s);
        tiny_free(&a);
        tiny_free(&b);
    }
}

Test(kernel_batch, skipgram_hs_pair_by_pair_is_the_plain_kernel)
{
    /* Hierarchical softmax pair by pair: with one target per group the
     * batched kernel gives the plain kernel's vectors, bit for bit. */
    static const uint32_t sent[] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8};
    const size_t len = sizeof sent / sizeof sent[0];
    const int window = 3;
    tiny a, b;
    tiny_init(&a, 0, 1, 71);
    tiny_init(&b, 0, 1, 71);
    w2v_sg_batch_scratch s;
    cr_assert_eq(w2v_sg_batch_scratch_init(&s, &a.km, 1, window), 0);
    w2v_rng ra, rb;
    w2v_rng_seed(&ra, 71, 0);
    rb = ra;
    w2v_kernel_skipgram_batched(&a.km, &s, &ra, sent, len, 0, len, window,
                                ALPHA, W2V_BATCH_LOOPS, NULL);
    plain_skipgram(&b, &rb, sent, len, window);
    cr_assert_eq(memcmp(a.p, b.p, a.n_params * sizeof *a.p), 0);
    w2v_sg_batch_scratch_free(&s);
    tiny_free(&a);
    tiny_free(&b);
}

Test(kernel_batch, skipgram_hs_and_ns_is_hs_then_ns)
{
    /* With both objectives a group takes the HS step, then the NS step
     * from the moved inputs: the same as the two kernels one after the
     * other with the same draws, bit for bit. */
    static const uint32_t sent[] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8};
    const size_t len = sizeof sent / sizeof sent[0];
    tiny both, one;
    tiny_init(&both, 4, 1, 61);
    tiny_init(&one, 4, 1, 61);
    w2v_sg_batch_scratch s;
    cr_assert_eq(w2v_sg_batch_scratch_init(&s, &both.km, 5, 3), 0);
    w2v_rng r0, r1;
    w2v_rng_seed(&r0, 61, 0);
    r1 = r0;
    w2v_kernel_skipgram_batched(&both.km, &s, &r0, sent, len, 2, 7, 3, ALPHA,
                                W2V_BATCH_LOOPS, NULL);
    w2v_kernel_model hs = one.km, ns = one.km;
    hs.negative = 0;
    ns.tree = NULL;
    w2v_rng r2 = r1;
    s.ahead_ready = 0;  /* the NS pass draws its own noise, as `both` did */
    w2v_kernel_skipgram_batched(&hs, &s, &r1, sent, len, 2, 7, 3, ALPHA,
                                W2V_BATCH_LOOPS, NULL);
    w2v_kernel_skipgram_batched(&ns, &s, &r2, sent, len, 2, 7, 3, ALPHA,
                                W2V_BATCH_LOOPS, NULL);
    cr_assert_eq(memcmp(both.p, one.p, both.n_params * sizeof *both.p), 0);
    w2v_sg_batch_scratch_free(&s);
    tiny_free(&both);
    tiny_free(&one);
}

Test(kernel_batch, skipgram_on_copied_rows_is_the_same_training)
{
    /* One worker training on its own copy of the hottest rows (synced
     * every 2 targets and at the end) moves the weights as it does on the
     * shared rows; only the rounding of shared + (local - snap) differs. */
    static const uint32_t sent[] = {0, 1, 4, 1, 5, 9, 2, 6, 5, 3, 0, 8, 1};
    const size_t len = sizeof sent / sizeof sent[0];
    tiny hot, plain;
    tiny_init(&hot, 4, 1, 17);
    tiny_init(&plain, 4, 1, 17);
    w2v_sg_batch_scratch sh, sp;
    cr_assert_eq(w2v_sg_batch_scratch_init(&sh, &hot.km, 1, 3), 0);
    cr_assert_eq(w2v_sg_batch_scratch_init(&sp, &plain.km, 1, 3), 0);
    cr_assert_eq(w2v_sg_batch_scratch_hot(&sh, &hot.km, TV, 3, 4), 0);
    cr_assert_eq(sh.hot_ns.lo, 0);
    cr_assert_eq(sh.hot_ns.n, 3);
    cr_assert_eq(sh.hot_hs.lo, TV - 1 - 4, "the nodes nearest the root");
    cr_assert_eq(sh.hot_hs.n, 4);
    sh.hot_ns.every = sh.hot_hs.every = 2;
    w2v_rng rh, rp;
    w2v_rng_seed(&rh, 5, 0);
    rp = rh;
    for (int pass = 0; pass < 3; pass++) {
        w2v_kernel_skipgram_batched(&hot.km, &sh, &rh, sent, len, 0, len, 3,
                                    ALPHA, W2V_BATCH_LOOPS, NULL);
        w2v_sg_batch_scratch_sync(&sh, &hot.km);
        w2v_kernel_skipgram_batched(&plain.km, &sp, &rp, sent, len, 0, len,
                                    3, ALPHA, W2V_BATCH_LOOPS, NULL);
    }
    double moved = 0;
    for (size_t k = 0; k < hot.n_params; k++) {
        cr_assert_float_eq(hot.p[k], plain.p[k], 1e-5f, "parameter %zu", k);
    }
    /* The copied rows did train: the same steps reached the shared rows. */
    tiny start;
    tiny_init(&start, 4, 1, 17);
    for (size_t k = TV * TDIM; k < TV * TDIM + 3 * TDIM; k++)
        moved += fabs((double)hot.p[k] - (double)start.p[k]);
    cr_assert_gt(moved, 1e-3, "the copied output rows");
    moved = 0;
    for (size_t k = (2 * TV + 5) * TDIM; k < (2 * TV + 9) * TDIM; k++)
        moved += fabs((double)hot.p[k] - (double)start.p[k]);
    cr_assert_gt(moved, 1e-3, "the copied inner nodes");
    tiny_free(&start);
    w2v_sg_batch_scratch_free(&sh);
    w2v_sg_batch_scratch_free(&sp);
    tiny_free(&hot);
    tiny_free(&plain);
}

Test(kernel_batch, skipgram_single_word_sentence_does_nothing)
{
    tiny t;
    tiny_init(&t, 5, 1, 3);
    w2v_sg_batch_scratch s;
    cr_assert_eq(w2v_sg_batch_scratch_init(&s, &t.km, 4, 5), 0);
    float *before = malloc(t.n_params * sizeof *before);
    cr_assert_not_null(before);
    memcpy(before, t.p, t.n_params * sizeof *before);
    uint32_t one = 2;
    w2v_rng rng;
    w2v_rng_seed(&rng, 1, 0);
    w2v_kernel_loss kl = {0, 0};
    w2v_kernel_skipgram_batched(&t.km, &s, &rng, &one, 1, 0, 1, 5, ALPHA,
                                W2V_BATCH_LOOPS, &kl);
    cr_assert_eq(memcmp(before, t.p, t.n_params * sizeof *before), 0);
    cr_assert_eq(kl.count, 0);
    free(before);
    w2v_sg_batch_scratch_free(&s);
    tiny_free(&t);
}

/* ---------------------------------------------------------------------- */
/* Batched CBOW against the per-target objective                           */

/* What one CBOW group stands for: its windows and its shared noise. */
typedef struct cbow_case {
    const uint32_t *sent;
    size_t len, from, to;
    int win[16];
    uint32_t noise[8];
} cbow_case;

/*
 * sum_i w_i L_i over the group's targets with context, where L_i is the
 * CBOW loss of target i (the mean of its window's input vectors against
 * its output vector and each shared noise word but itself), and w_i is 1,
 * or with by_cw the number of its context words.
 */
static double cbow_case_loss(const tiny *t, const cbow_case *c,
                             const double *pd, int by_cw)
{
    const double *in = pd, *out = pd + TV * TDIM;
    double l = 0;
    for (size_t pos = c->from; pos < c->to; pos++) {
        size_t w = (size_t)c->win[pos - c->from];
        size_t lo = pos > w ? pos - w : 0;
        size_t hi = pos + w < c->len ? pos + w : c->len - 1;
        if (hi == lo)
            continue;
        double h[TDIM] = {0};
        for (size_t ctx = lo; ctx <= hi; ctx++)
            for (size_t k = 0; ctx != pos && k < TDIM; k++)
                h[k] += in[(size_t)c->sent[ctx] * TDIM + k] / (double)(hi - lo);
        uint32_t target = c->sent[pos];
        double li = bt_softplus(-dotd(h, out + (size_t)target * TDIM));
        for (int d = 0; d < t->km.negative; d++)
            if (c->noise[d] != target)
                li += bt_softplus(dotd(h, out + (size_t)c->noise[d] * TDIM));
        l += (by_cw ? (double)(hi - lo) : 1.0) * li;
    }
    return l;
}

/* The kernel's draws, replayed: the group's windows, then its noise. */
static void cbow_case_draws(const tiny *t, cbow_case *c, w2v_rng r,
                            int window)
{
    for (size_t pos = c->from; pos < c->to; pos++)
        c->win[pos - c->from] =
            window - (int)w2v_rng_below(&r, (uint32_t)window);
    for (int d = 0; d < t->km.negative; d++)
        c->noise[d] = w2v_alias_draw(&t->noise, &r);
}

static double fd(const tiny *t, const cbow_case *c, double *pd, size_t k,
                 int by_cw)
{
    double keep = pd[k];
    pd[k] = keep + FD_EPS;
    double lp = cbow_case_loss(t, c, pd, by_cw);
    pd[k] = keep - FD_EPS;
    double lm = cbow_case_loss(t, c, pd, by_cw);
    pd[k] = keep;
    return (lp - lm) / (2 * FD_EPS);
}

/*
 * One group: output rows move by -alpha dL/dy; input rows by -alpha dL/dx
 * (gradient step) or by -alpha d(sum_i cw_i L_i)/dx (mean step: each
 * window's context rows take the step of its mean).
 */
static void check_cbow_group(int negative, const uint32_t *sent, size_t len,
                             size_t from, size_t to, int mean_step, int impl,
                             uint64_t seed)
{
    const int window = 3;
    tiny t;
    tiny_init(&t, negative, 0, seed);
    t.km.cbow_mean_step = mean_step;
    w2v_cbow_batch_scratch s;
    cr_assert_eq(w2v_cbow_batch_scratch_init(&s, &t.km, to - from), 0);
    s.loss_every = 1;
    w2v_rng rng;
    w2v_rng_seed(&rng, seed, 0);
    cbow_case c = {sent, len, from, to, {0}, {0}};
    cbow_case_draws(&t, &c, rng, window);
    double *pd = malloc(t.n_params * sizeof *pd);
    float *before = malloc(t.n_params * sizeof *before);
    cr_assert(pd && before);
    for (size_t k = 0; k < t.n_params; k++)
        pd[k] = before[k] = t.p[k];
    double l0 = cbow_case_loss(&t, &c, pd, 0);
    w2v_kernel_loss kl = {0, 0};
    w2v_kernel_cbow_batched(&t.km, &s, &rng, sent, len, from, to, window,
                            ALPHA, impl, &kl);
    char what[96];
    snprintf(what, sizeof what, "neg %d targets [%zu, %zu) mean %d impl %d",
             negative, from, to, mean_step, impl);
    cr_assert(bt_close(kl.sum, l0), "%s: loss %g, want %g", what, kl.sum, l0);
    size_t moved = 0;
    for (size_t k = 0; k < t.n_params; k++) {
        int input = k < TV * TDIM;
        double want = fd(&t, &c, pd, k, input && mean_step);
        double got = ((double)t.p[k] - before[k]) / -(double)ALPHA;
        if (want == 0)
            cr_assert_eq(t.p[k], before[k], "%s: param %zu not in the loss "
                         "moved", what, k);
        else
            cr_assert(bt_close(got, want), "%s: param %zu moved %.7g/-alpha, "
                      "want %.7g", what, k, got, want);
        moved += want != 0;
    }
    if (kl.count > 0)
        cr_assert_gt(moved, 0, "%s: nothing moved", what);
    else
        cr_assert_eq(memcmp(before, t.p, t.n_params * sizeof *before), 0,
                     "%s: no target has context, yet rows moved", what);
    free(pd);
    free(before);
    w2v_cbow_batch_scratch_free(&s);
    tiny_free(&t);
}

static const uint32_t cbow_sent[] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8};
#define CBOW_LEN (sizeof cbow_sent / sizeof cbow_sent[0])

Test(kernel_batch, cbow_target_is_the_gradient_of_its_mean)
{
    for (size_t pos = 0; pos < CBOW_LEN; pos += 4) {
        check_cbow_group(5, cbow_sent, CBOW_LEN, pos, pos + 1, 0,
                         W2V_BATCH_LOOPS, 41 + pos);
        check_cbow_group(5, cbow_sent, CBOW_LEN, pos, pos + 1, 1,
                         W2V_BATCH_LOOPS, 51 + pos);
    }
}

Test(kernel_batch, cbow_group_is_the_gradient_of_its_targets)
{
    /* Overlapping windows, the word 1 and 5 repeated, noise shared. */
    check_cbow_group(5, cbow_sent, CBOW_LEN, 1, 6, 0, W2V_BATCH_LOOPS, 61);
    check_cbow_group(5, cbow_sent, CBOW_LEN, 2, 10, 1, W2V_BATCH_LOOPS, 62);
    check_cbow_group(4, cbow_sent, CBOW_LEN, 0, 12, 1, W2V_BATCH_BLAS, 63);
    check_cbow_group(3, cbow_sent, CBOW_LEN, 5, 12, 0, W2V_BATCH_NAIVE, 64);
    /* A target without context (a one-word sentence) is left out. */
    check_cbow_group(5, cbow_sent + 4, 1, 0, 1, 1, W2V_BATCH_LOOPS, 65);
}

/*
 * A range is its groups one after the other: the next group's draws come
 * ahead of the current one's training, but in the same order, so training
 * [from, to) at once and group by group gives the same vectors, loss and
 * generator state, bit for bit.
 */
Test(kernel_batch, cbow_range_is_its_groups_in_turn)
{
    for (size_t group = 1; group <= 4; group += 3) {
        tiny a, b;
        tiny_init(&a, 5, 0, 71);
        tiny_init(&b, 5, 0, 71);
        a.km.cbow_mean_step = b.km.cbow_mean_step = 1;
        w2v_cbow_batch_scratch sa, sb;
        cr_assert_eq(w2v_cbow_batch_scratch_init(&sa, &a.km, group), 0);
        cr_assert_eq(w2v_cbow_batch_scratch_init(&sb, &b.km, group), 0);
        sa.loss_every = sb.loss_every = 1;
        w2v_rng ra, rb;
        w2v_rng_seed(&ra, 72, 0);
        rb = ra;
        w2v_kernel_loss la = {0, 0}, lb = {0, 0};
        w2v_kernel_cbow_batched(&a.km, &sa, &ra, cbow_sent, CBOW_LEN, 0,
                                CBOW_LEN, 4, 0.1f, W2V_BATCH_LOOPS, &la);
        for (size_t t0 = 0; t0 < CBOW_LEN; t0 += group) {
            size_t t1 = t0 + group < CBOW_LEN ? t0 + group : CBOW_LEN;
            w2v_kernel_cbow_batched(&b.km, &sb, &rb, cbow_sent, CBOW_LEN, t0,
                                    t1, 4, 0.1f, W2V_BATCH_LOOPS, &lb);
        }
        cr_assert_eq(ra.state, rb.state, "group %zu: the same draws", group);
        cr_assert_eq(la.count, lb.count);
        cr_assert_eq(la.count, CBOW_LEN);
        cr_assert_eq(la.sum, lb.sum, "group %zu: loss", group);
        cr_assert_eq(memcmp(a.p, b.p, a.n_params * sizeof *a.p), 0,
                     "group %zu: the vectors differ", group);
        w2v_cbow_batch_scratch_free(&sa);
        w2v_cbow_batch_scratch_free(&sb);
        tiny_free(&a);
        tiny_free(&b);
    }
}
