/*
 * kernel_batch.c - the batched training kernels. See kernel.h.
 *
 * A batch step reads every row it touches once, computes all m x n scores
 * before changing anything, and then applies the exact gradient of the
 * batch loss. The order of the passes is what makes repeated rows safe
 * without de-duplication:
 *   1. S = X Y^T                      (reads X and Y)
 *   2. G = alpha (l - s(S))
 *   3. dX = G Y into work             (reads Y before it changes)
 *   4. y_j += sum_i G_ij x_i in place (reads X before it changes; a row
 *                                      that repeats accumulates both terms)
 *   5. x_i += dX_i in place           (again accumulating repeats)
 *
 * Like the plain kernels, these update the shared weight matrices without
 * locks (Hogwild!); see kernel.c.
 */
#include "kernel.h"

#include "simd.h"
#include "util.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Work-space blocks start on 16-float (64-byte) boundaries. */
static size_t round16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

size_t w2v_batch_work_floats(size_t m, size_t n, size_t dim)
{
    /* Room for either layout: loops G, G^T, dX; BLAS G, X, Y, dX, dY. */
    return 2 * round16(m * n) + 2 * round16(m * dim) + 2 * round16(n * dim);
}

/* ---------------------------------------------------------------------- */
/* Sigmoid                                                                 */

/*
 * e^x for x in [-87, 87]: x = k ln2 + r with |r| <= ln2 / 2, then
 * e^r by its Taylor series to degree 7 (truncation below 5e-9 relative)
 * and 2^k by building the float's exponent bits. Written so that the
 * compiler vectorises the loop that calls it.
 */
static inline float exp_poly(float x)
{
    const float ln2_hi = 0.693145751953125f;     /* exact in 16 bits */
    const float ln2_lo = 1.428606820309417e-06f; /* ln 2 - ln2_hi */
    x = x < -87.0f ? -87.0f : (x > 87.0f ? 87.0f : x);
    float k = floorf(x * 1.44269504088896341f + 0.5f);
    float r = (x - k * ln2_hi) - k * ln2_lo;
    float p = 1.0f / 5040;
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t bits = ((int32_t)k + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

#ifdef W2V_HAVE_V8
typedef int32_t w2v_v8i __attribute__((vector_size(32)));

/* exp_poly on eight lanes; k is rounded by the 1.5 * 2^23 trick. */
static inline w2v_v8 exp_poly8(w2v_v8 x)
{
    const float ln2_hi = 0.693145751953125f;
    const float ln2_lo = 1.428606820309417e-06f;
    const w2v_v8 lo = w2v_v8_set1(-87.0f), hi = w2v_v8_set1(87.0f);
    w2v_v8i below = x < lo, above = x > hi;   /* lanes of -1 or 0 */
    x = (w2v_v8)(((w2v_v8i)x & ~below) | ((w2v_v8i)lo & below));
    x = (w2v_v8)(((w2v_v8i)x & ~above) | ((w2v_v8i)hi & above));
    const w2v_v8 magic = w2v_v8_set1(12582912.0f);
    w2v_v8 k = (x * 1.44269504088896341f + magic) - magic;
    w2v_v8 r = (x - k * ln2_hi) - k * ln2_lo;
    w2v_v8 p = w2v_v8_set1(1.0f / 5040);
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    w2v_v8i e = (__builtin_convertvector(k, w2v_v8i) + 127) << 23;
    return p * (w2v_v8)e;
}
#endif

void w2v_sigmoid_array(float *v, size_t n)
{
    size_t i = 0;
#ifdef W2V_HAVE_V8
    const w2v_v8 one = w2v_v8_set1(1.0f);
    for (; i + 8 <= n; i += 8)
        w2v_v8_store(v + i, one / (one + exp_poly8(-w2v_v8_load(v + i))));
#endif
    for (; i < n; i++)
        v[i] = 1.0f / (1.0f + exp_poly(-v[i]));
}

/* ---------------------------------------------------------------------- */
/* Batch steps                                                             */

/* The batch loss from the scores g (m, n), before they become steps. */
static float batch_loss(const w2v_batch *b, const float *g)
{
    double l = 0;
    for (size_t k = 0; k < b->m * b->n; k++)
        if (b->tot[k] != 0) {
            double x = g[k];
            l += b->pos[k] * w2v_softplus(-x) +
                 (b->tot[k] - b->pos[k]) * w2v_softplus(x);
        }
    return (float)l;
}

/* g (m, n): scores in, alpha (pos - tot s(score)) out. */
static void scores_to_steps(const w2v_batch *b, float *g, float alpha)
{
    size_t mn = b->m * b->n;
    w2v_sigmoid_array(g, mn);
    for (size_t k = 0; k < mn; k++)
        g[k] = alpha * (b->pos[k] - b->tot[k] * g[k]);
}

/*
 * The vectorised products. Rows are combined four at a time so that each
 * load of the row being written serves four multiply-adds; leftovers go
 * two and one at a time. Without vector extensions the same functions are
 * plain loops.
 */

/*
 * d = sum_q c[q] r[q] (acc 0) or d += sum_q c[q] r[q] (acc 1), q < K, in
 * one pass over d. Inlined with K a constant (1 to 8), so each K gets its
 * own unrolled loop: the typical window's 6 rows take one pass instead of
 * one of 4 and one of 2.
 */
static inline __attribute__((always_inline)) void
lincomb_k(float *d, const float *const *r, const float *c, const size_t K,
          size_t dim, int acc)
{
    /*
     * The row pointers are copied out first: the vector stores to d may
     * alias anything, and the pointers would otherwise be loaded again
     * after each one.
     */
    const float *rows[8];
    for (size_t q = 0; q < K; q++)
        rows[q] = r[q];
    r = rows;
    size_t k = 0;
#ifdef W2V_HAVE_V16
    {
        w2v_v16 v[8];
        for (size_t q = 0; q < K; q++)
            v[q] = w2v_v16_set1(c[q]);
        for (; k + 16 <= dim; k += 16) {
            w2v_v16 a = acc ? w2v_v16_load(d + k) : w2v_v16_set1(0);
            for (size_t q = 0; q < K; q++)
                a += v[q] * w2v_v16_load(r[q] + k);
            w2v_v16_store(d + k, a);
        }
    }
#endif
#ifdef W2V_HAVE_V8
    {
        w2v_v8 v[8];
        for (size_t q = 0; q < K; q++)
            v[q] = w2v_v8_set1(c[q]);
        for (; k + 8 <= dim; k += 8) {
            /* Two sums, so that the multiply-adds form two shorter chains. */
            w2v_v8 a = acc ? w2v_v8_load(d + k) : w2v_v8_set1(0);
            w2v_v8 e = w2v_v8_set1(0);
            for (size_t q = 0; q + 1 < K; q += 2) {
                a += v[q] * w2v_v8_load(r[q] + k);
                e += v[q + 1] * w2v_v8_load(r[q + 1] + k);
            }
            if (K % 2)
                a += v[K - 1] * w2v_v8_load(r[K - 1] + k);
            w2v_v8_store(d + k, K > 1 ? a + e : a);
        }
    }
    if (k + 4 <= dim) {
        w2v_v4 a = acc ? w2v_v4_load(d + k) : w2v_v4_set1(0);
        for (size_t q = 0; q < K; q++)
            a += c[q] * w2v_v4_load(r[q] + k);
        w2v_v4_store(d + k, a);
        k += 4;
    }
#endif
    for (; k < dim; k++) {
        float a = acc ? d[k] : 0.0f;
        for (size_t q = 0; q < K; q++)
            a += c[q] * r[q][k];
        d[k] = a;
    }
}

/*
 * d0 (=|+=) sum_q c0[q] r[q] and d1 (=|+=) sum_q c1[q] r[q], q < K (K <= 6),
 * in one pass: each load of a row of r serves two multiply-adds, and the two
 * sums are independent chains. Inlined with K a constant, like lincomb_k.
 */
static inline __attribute__((always_inline)) void
lincomb2_k(float *d0, float *d1, const float *const *r, const float *c0,
           const float *c1, const size_t K, size_t dim, int acc)
{
    const float *rows[6];
    for (size_t q = 0; q < K; q++)
        rows[q] = r[q];
    r = rows;
    size_t k = 0;
#ifdef W2V_HAVE_V16
    {
        w2v_v16 u[6], v[6];
        for (size_t q = 0; q < K; q++) {
            u[q] = w2v_v16_set1(c0[q]);
            v[q] = w2v_v16_set1(c1[q]);
        }
        for (; k + 16 <= dim; k += 16) {
            w2v_v16 a = acc ? w2v_v16_load(d0 + k) : w2v_v16_set1(0);
            w2v_v16 e = acc ? w2v_v16_load(d1 + k) : w2v_v16_set1(0);
            for (size_t q = 0; q < K; q++) {
                w2v_v16 t = w2v_v16_load(r[q] + k);
                a += u[q] * t;
                e += v[q] * t;
            }
            w2v_v16_store(d0 + k, a);
            w2v_v16_store(d1 + k, e);
        }
    }
#endif
#ifdef W2V_HAVE_V8
    {
        w2v_v8 u[6], v[6];
        for (size_t q = 0; q < K; q++) {
            u[q] = w2v_v8_set1(c0[q]);
            v[q] = w2v_v8_set1(c1[q]);
        }
        for (; k + 8 <= dim; k += 8) {
            w2v_v8 a = acc ? w2v_v8_load(d0 + k) : w2v_v8_set1(0);
            w2v_v8 e = acc ? w2v_v8_load(d1 + k) : w2v_v8_set1(0);
            for (size_t q = 0; q < K; q++) {
                w2v_v8 t = w2v_v8_load(r[q] + k);
                a += u[q] * t;
                e += v[q] * t;
            }
            w2v_v8_store(d0 + k, a);
            w2v_v8_store(d1 + k, e);
        }
    }
    if (k + 4 <= dim) {
        w2v_v4 a = acc ? w2v_v4_load(d0 + k) : w2v_v4_set1(0);
        w2v_v4 e = acc ? w2v_v4_load(d1 + k) : w2v_v4_set1(0);
        for (size_t q = 0; q < K; q++) {
            w2v_v4 t = w2v_v4_load(r[q] + k);
            a += c0[q] * t;
            e += c1[q] * t;
        }
        w2v_v4_store(d0 + k, a);
        w2v_v4_store(d1 + k, e);
        k += 4;
    }
#endif
    for (; k < dim; k++) {
        float a = acc ? d0[k] : 0.0f, e = acc ? d1[k] : 0.0f;
        for (size_t q = 0; q < K; q++) {
            a += c0[q] * r[q][k];
            e += c1[q] * r[q][k];
        }
        d0[k] = a;
        d1[k] = e;
    }
}

/* lincomb into d0 and d1 at once, with weights c0 and c1, 6 rows a pass. */
static void lincomb2(float *d0, float *d1, const float *const *r,
                     const float *c0, const float *c1, size_t n, size_t dim,
                     int acc)
{
    if (n == 0 && !acc) {
        memset(d0, 0, dim * sizeof *d0);
        memset(d1, 0, dim * sizeof *d1);
    }
    for (size_t q = 0; q < n; q += 6, acc = 1) {
        const float *const *rq = r + q;
        const float *u = c0 + q, *v = c1 + q;
        switch (n - q < 6 ? n - q : 6) {
        case 1: lincomb2_k(d0, d1, rq, u, v, 1, dim, acc); break;
        case 2: lincomb2_k(d0, d1, rq, u, v, 2, dim, acc); break;
        case 3: lincomb2_k(d0, d1, rq, u, v, 3, dim, acc); break;
        case 4: lincomb2_k(d0, d1, rq, u, v, 4, dim, acc); break;
        case 5: lincomb2_k(d0, d1, rq, u, v, 5, dim, acc); break;
        default: lincomb2_k(d0, d1, rq, u, v, 6, dim, acc); break;
        }
    }
}

/* d += r. */
static void add_row(float *d, const float *r, size_t dim)
{
    size_t k = 0;
#ifdef W2V_HAVE_V8
    for (; k + 8 <= dim; k += 8)
        w2v_v8_store(d + k, w2v_v8_load(d + k) + w2v_v8_load(r + k));
    if (k + 4 <= dim) {
        w2v_v4_store(d + k, w2v_v4_load(d + k) + w2v_v4_load(r + k));
        k += 4;
    }
#endif
    for (; k < dim; k++)
        d[k] += r[k];
}

/* d (=|+=) sum_q c[q] r[q] over q < n, up to 8 rows per pass. */
static void lincomb(float *d, const float *const *r, const float *c,
                    size_t n, size_t dim, int acc)
{
    if (n == 0 && !acc)
        memset(d, 0, dim * sizeof *d);
    for (size_t q = 0; q < n; q += 8, acc = 1) {
        const float *const *rq = r + q;
        const float *cq = c + q;
        switch (n - q < 8 ? n - q : 8) {
        case 1: lincomb_k(d, rq, cq, 1, dim, acc); break;
        case 2: lincomb_k(d, rq, cq, 2, dim, acc); break;
        case 3: lincomb_k(d, rq, cq, 3, dim, acc); break;
        case 4: lincomb_k(d, rq, cq, 4, dim, acc); break;
        case 5: lincomb_k(d, rq, cq, 5, dim, acc); break;
        case 6: lincomb_k(d, rq, cq, 6, dim, acc); break;
        case 7: lincomb_k(d, rq, cq, 7, dim, acc); break;
        default: lincomb_k(d, rq, cq, 8, dim, acc); break;
        }
    }
}

#ifdef W2V_HAVE_V8
/*
 * out[i * ld + j] = x[i] . y[j] for i < RX, j < KY (RX * KY <= 12): RX rows
 * of x against KY rows of y in one pass over both, each product in its own
 * register, so that RX * KY independent sums are in flight (a pass of one
 * row against four runs on the multiply-add's latency) and each load
 * serves RX or KY multiply-adds. Inlined with RX and KY constants.
 */
static inline __attribute__((always_inline)) void
dots_block(const float *const *x, const size_t RX, const float *const *y,
           const size_t KY, size_t dim, float *out, size_t ld)
{
    const float *xr[2], *yr[6];
    for (size_t i = 0; i < RX; i++)
        xr[i] = x[i];
    for (size_t j = 0; j < KY; j++)
        yr[j] = y[j];
    w2v_v4 s[2][6];
    for (size_t i = 0; i < RX; i++)
        for (size_t j = 0; j < KY; j++)
            s[i][j] = w2v_v4_set1(0);
    size_t c = 0;
#ifdef W2V_HAVE_V16
    if (dim >= 16) {
        w2v_v16 a[2][6];
        for (size_t i = 0; i < RX; i++)
            for (size_t j = 0; j < KY; j++)
                a[i][j] = w2v_v16_set1(0);
        for (; c + 16 <= dim; c += 16) {
            w2v_v16 xv[2];
            for (size_t i = 0; i < RX; i++)
                xv[i] = w2v_v16_load(xr[i] + c);
            for (size_t j = 0; j < KY; j++) {
                w2v_v16 yv = w2v_v16_load(yr[j] + c);
                for (size_t i = 0; i < RX; i++)
                    a[i][j] += xv[i] * yv;
            }
        }
        for (size_t i = 0; i < RX; i++)
            for (size_t j = 0; j < KY; j++)
                s[i][j] = w2v_v16_fold4(a[i][j]);
    }
#endif
    if (c + 8 <= dim) {
        w2v_v8 a[2][6];
        for (size_t i = 0; i < RX; i++)
            for (size_t j = 0; j < KY; j++)
                a[i][j] = w2v_v8_set1(0);
        for (; c + 8 <= dim; c += 8) {
            w2v_v8 xv[2];
            for (size_t i = 0; i < RX; i++)
                xv[i] = w2v_v8_load(xr[i] + c);
            for (size_t j = 0; j < KY; j++) {
                w2v_v8 yv = w2v_v8_load(yr[j] + c);
                for (size_t i = 0; i < RX; i++)
                    a[i][j] += xv[i] * yv;
            }
        }
        for (size_t i = 0; i < RX; i++)
            for (size_t j = 0; j < KY; j++)
                s[i][j] += w2v_v8_fold4(a[i][j]);
    }
    if (c + 4 <= dim) {
        for (size_t i = 0; i < RX; i++) {
            w2v_v4 xv = w2v_v4_load(xr[i] + c);
            for (size_t j = 0; j < KY; j++)
                s[i][j] += xv * w2v_v4_load(yr[j] + c);
        }
        c += 4;
    }
    for (size_t i = 0; i < RX; i++)
        for (size_t j = 0; j < KY; j++) {
            float t = w2v_v4_sum(s[i][j]);
            for (size_t k = c; k < dim; k++)
                t += xr[i][k] * yr[j][k];
            out[i * ld + j] = t;
        }
}

/* One or two rows of x against up to six rows of y. */
static void dots_rows(const float *const *x, size_t rx, const float *const *y,
                      size_t ky, size_t dim, float *out, size_t ld)
{
#define W2V_DOTS_CASE(R, K)                                                \
    case (R) * 8 + (K):                                                    \
        dots_block(x, R, y, K, dim, out, ld);                              \
        break
    switch (rx * 8 + ky) {
    W2V_DOTS_CASE(1, 1); W2V_DOTS_CASE(1, 2); W2V_DOTS_CASE(1, 3);
    W2V_DOTS_CASE(1, 4); W2V_DOTS_CASE(1, 5); W2V_DOTS_CASE(1, 6);
    W2V_DOTS_CASE(2, 1); W2V_DOTS_CASE(2, 2); W2V_DOTS_CASE(2, 3);
    W2V_DOTS_CASE(2, 4); W2V_DOTS_CASE(2, 5); W2V_DOTS_CASE(2, 6);
    default: break;
    }
#undef W2V_DOTS_CASE
}
#endif

/* g (m, n) = X Y^T: two rows of X against six of Y per pass. */
static void scores(const w2v_batch *b, size_t dim, float *g)
{
    size_t m = b->m, n = b->n;
#ifdef W2V_HAVE_V8
    for (size_t i = 0; i < m; i += 2)
        for (size_t j = 0; j < n; j += 6)
            dots_rows((const float *const *)b->x + i, m - i < 2 ? 1 : 2,
                      (const float *const *)b->y + j, n - j < 6 ? n - j : 6,
                      dim, g + i * n + j, n);
#else
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            float t = 0;
            for (size_t k = 0; k < dim; k++)
                t += b->x[i][k] * b->y[j][k];
            g[i * n + j] = t;
        }
#endif
}

float w2v_batch_step(const w2v_batch *b, size_t dim, float alpha,
                     float *work, int want_loss)
{
    size_t m = b->m, n = b->n;
    if (m == 0 || n == 0)
        return 0;
    float *g = work;                    /* (m, n) */
    float *gt = g + round16(m * n);     /* (n, m) G transposed */
    float *dx = b->dx ? b->dx : gt + round16(m * n);  /* (m, dim) */
    scores(b, dim, g);
    float loss = want_loss ? batch_loss(b, g) : 0;
    scores_to_steps(b, g, alpha);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++)
            gt[j * m + i] = g[i * n + j];
    /* dX = G Y before Y moves; then Y += G^T X before X moves; X += dX. */
    const float *const *y = (const float *const *)b->y;
    const float *const *x = (const float *const *)b->x;
    size_t i = 0, j = 0;
    for (; i + 2 <= m; i += 2)
        lincomb2(dx + i * dim, dx + (i + 1) * dim, y, g + i * n,
                 g + (i + 1) * n, n, dim, 0);
    if (i < m)
        lincomb(dx + i * dim, y, g + i * n, n, dim, 0);
    /* A noise word drawn twice is one row twice: those go one at a time. */
    while (j < n) {
        if (j + 1 < n && b->y[j] != b->y[j + 1]) {
            lincomb2(b->y[j], b->y[j + 1], x, gt + j * m, gt + (j + 1) * m,
                     m, dim, 1);
            j += 2;
        } else {
            lincomb(b->y[j], x, gt + j * m, m, dim, 1);
            j++;
        }
    }
    for (i = 0; i < m && b->dx == NULL; i++)
        add_row(b->x[i], dx + i * dim, dim);
    return loss;
}

float w2v_batch_step_blas(const w2v_batch *b, size_t dim, float alpha,
                          float *work, int want_loss)
{
    size_t m = b->m, n = b->n;
    if (m == 0 || n == 0)
        return 0;
    float *g = work;                   /* (m, n) */
    float *xs = g + round16(m * n);    /* (m, dim) gathered X */
    float *ys = xs + round16(m * dim); /* (n, dim) gathered Y */
    float *dy = ys + round16(n * dim) + round16(m * dim); /* (n, dim) */
    float *dx = b->dx ? b->dx : ys + round16(n * dim);   /* (m, dim) */
    for (size_t i = 0; i < m; i++)
        memcpy(xs + i * dim, b->x[i], dim * sizeof(float));
    for (size_t j = 0; j < n; j++)
        memcpy(ys + j * dim, b->y[j], dim * sizeof(float));
    int M = (int)m, N = (int)n, D = (int)dim;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, D, 1.0f, xs, D,
                ys, D, 0.0f, g, N);
    float loss = want_loss ? batch_loss(b, g) : 0;
    scores_to_steps(b, g, alpha);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, D, N, 1.0f, g,
                N, ys, D, 0.0f, dx, D);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, N, D, M, 1.0f, g, N,
                xs, D, 0.0f, dy, D);
    for (size_t j = 0; j < n; j++)
        w2v_axpy(1.0f, dy + j * dim, b->y[j], dim);
    for (size_t i = 0; i < m && b->dx == NULL; i++)
        w2v_axpy(1.0f, dx + i * dim, b->x[i], dim);
    return loss;
}

float w2v_batch_step_naive(const w2v_batch *b, size_t dim, float alpha,
                           float *work, int want_loss)
{
    size_t m = b->m, n = b->n;
    float *g = work;                   /* (m, n) */
    float *dx = b->dx ? b->dx : work + round16(m * n); /* (m, dim) */
    double loss = 0;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double x = 0;
            for (size_t k = 0; k < dim; k++)
                x += (double)b->x[i][k] * b->y[j][k];
            double p = b->pos[i * n + j], t = b->tot[i * n + j];
            loss += p * w2v_softplus(-x) + (t - p) * w2v_softplus(x);
            g[i * n + j] = (float)(alpha * (p - t / (1 + exp(-x))));
        }
    for (size_t i = 0; i < m; i++)
        for (size_t k = 0; k < dim; k++) {
            double d = 0;
            for (size_t j = 0; j < n; j++)
                d += (double)g[i * n + j] * b->y[j][k];
            dx[i * dim + k] = (float)d;
        }
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < m; i++)
            for (size_t k = 0; k < dim; k++)
                b->y[j][k] += g[i * n + j] * b->x[i][k];
    for (size_t i = 0; i < m && b->dx == NULL; i++)
        for (size_t k = 0; k < dim; k++)
            b->x[i][k] += dx[i * dim + k];
    return want_loss ? (float)loss : 0;
}

float w2v_batch_step_touch(const w2v_batch *b, size_t dim, float alpha,
                           float *work, int want_loss)
{
    (void)work;
    (void)want_loss;
    const float c = alpha * 1e-9f;
    for (size_t i = 0; i < b->m; i++)
        for (size_t k = 0; k < dim; k++) {
            if (b->dx != NULL)
                b->dx[i * dim + k] = c;  /* the caller moves the rows */
            else
                b->x[i][k] += c;
        }
    for (size_t j = 0; j < b->n; j++)
        for (size_t k = 0; k < dim; k++)
            b->y[j][k] += c;
    return 0;
}

typedef float (*batch_step_fn)(const w2v_batch *, size_t, float, float *,
                               int);

static batch_step_fn step_fn(int impl)
{
    if (impl == W2V_BATCH_BLAS)
        return w2v_batch_step_blas;
    if (impl == W2V_BATCH_NAIVE)
        return w2v_batch_step_naive;
    if (impl == W2V_BATCH_TOUCH)
        return w2v_batch_step_touch;
    return w2v_batch_step;
}

/* ---------------------------------------------------------------------- */
/* Skip-gram                                                               */

int w2v_sg_batch_scratch_init(w2v_sg_batch_scratch *s,
                              const w2v_kernel_model *m, size_t group,
                              int window)
{
    memset(s, 0, sizeof *s);
    s->group = group;
    s->max_x = group + 2 * (size_t)window;
    s->max_y = group * (1 + (size_t)(m->negative > 0 ? m->negative : 0));
    /* Hierarchical softmax batches one target's path at a time. */
    for (size_t w = 0; m->tree != NULL && w < m->tree->n; w++) {
        size_t len = m->tree->start[w + 1] - m->tree->start[w];
        s->max_y = len > s->max_y ? len : s->max_y;
    }
    size_t pairs = s->max_x * s->max_y;
    s->x = malloc(s->max_x * sizeof *s->x);
    s->hx = malloc(s->max_x * sizeof *s->hx);
    s->y = malloc(s->max_y * sizeof *s->y);
    s->pos = malloc(pairs * sizeof *s->pos);
    s->tot = malloc(pairs * sizeof *s->tot);
    s->win = malloc(group * sizeof *s->win);
    s->grad = w2v_alloc_aligned(m->dim * sizeof *s->grad);
    s->first = malloc((group + 1) * sizeof *s->first);
    s->ahead = malloc((group * (size_t)m->negative + 1) * sizeof *s->ahead);
    s->work = w2v_alloc_aligned(
        w2v_batch_work_floats(s->max_x, s->max_y, m->dim) * sizeof(float));
    s->loss_every = 64;
    s->hs_rows = W2V_HS_ROWS;
    w2v_hotrows_init(&s->hot_ns, 0, 0, m->dim);   /* none; cannot fail */
    w2v_hotrows_init(&s->hot_hs, 0, 0, m->dim);
    if (!s->x || !s->hx || !s->y || !s->pos || !s->tot || !s->win || !s->first ||
        !s->ahead || !s->grad || !s->work)
        return -1;
    return 0;
}

int w2v_sg_batch_scratch_hot(w2v_sg_batch_scratch *s,
                             const w2v_kernel_model *m, size_t words,
                             size_t ns_rows, size_t hs_rows)
{
    w2v_hotrows_free(&s->hot_ns);
    w2v_hotrows_free(&s->hot_hs);
    size_t dim = m->dim, nodes = words > 0 ? words - 1 : 0;
    ns_rows = m->out_ns == NULL ? 0 : (ns_rows < words ? ns_rows : words);
    hs_rows = m->tree == NULL ? 0 : (hs_rows < nodes ? hs_rows : nodes);
    /* The inner nodes nearest the root are the last ones built. */
    if (w2v_hotrows_init(&s->hot_ns, 0, ns_rows, dim) != 0 ||
        w2v_hotrows_init(&s->hot_hs, nodes - hs_rows, hs_rows, dim) != 0)
        return -1;
    return 0;
}

void w2v_sg_batch_scratch_sync(w2v_sg_batch_scratch *s,
                               const w2v_kernel_model *m)
{
    w2v_hotrows_sync(&s->hot_ns, m->out_ns);
    w2v_hotrows_sync(&s->hot_hs, m->out_hs);
}

void w2v_sg_batch_scratch_free(w2v_sg_batch_scratch *s)
{
    w2v_hotrows_free(&s->hot_ns);
    w2v_hotrows_free(&s->hot_hs);
    free(s->x);
    free(s->hx);
    free(s->y);
    free(s->pos);
    free(s->tot);
    free(s->win);
    free(s->first);
    free(s->ahead);
    w2v_free_aligned(s->grad);
    w2v_free_aligned(s->work);
    memset(s, 0, sizeof *s);
}

/* One group of targets: their windows, as positions [lo, hi]. */
typedef struct sg_group {
    const uint32_t *sent;
    size_t t0, count;   /* targets sent[t0, t0 + count) */
    size_t lo, hi;      /* the union of their windows */
    const int *win;
} sg_group;

/* Window [*a, *z] of sent[t] with half-width w, clipped to the sentence. */
static size_t clip_window(size_t len, size_t t, size_t w, size_t *a,
                          size_t *z)
{
    *a = t > w ? t - w : 0;
    *z = t + w < len ? t + w : len - 1;
    return *z - *a;
}

/* Window of target b clipped to the sentence: [*a, *z]. */
static void target_window(const sg_group *g, size_t len, size_t b, size_t *a,
                          size_t *z)
{
    clip_window(len, g->t0 + b, (size_t)g->win[b], a, z);
}

/*
 * A target's path is a run of the points and codes arrays and its nodes are
 * rows anywhere in out_hs: all of it is fetched a target ahead (the rows of
 * the target at t, the path arrays of the one after it), since the deep
 * nodes of a path are rarely in cache.
 */
static void prefetch_paths(const w2v_kernel_model *m, const w2v_hotrows *hot,
                           const uint32_t *sent, size_t len, size_t t)
{
    const w2v_huffman *tree = m->tree;
    if (t + 1 < len) {
        uint32_t u = sent[t + 1];
        w2v_prefetch(tree->start + u);
        w2v_prefetch(tree->points + tree->start[u]);
        w2v_prefetch(tree->codes + tree->start[u]);
    }
    if (t < len) {
        uint32_t w = sent[t];
        for (size_t j = tree->start[w]; j < tree->start[w + 1]; j++)
            w2v_prefetch_row(w2v_hotrows_row(hot, m->out_hs, tree->points[j]),
                             m->dim);
    }
}

/*
 * Hierarchical softmax, batched: for each target, the input rows of its
 * window, s->hs_rows at a time, against the inner nodes of its path, every
 * pair weighted 1 with label 1 - code (the branch-0 probability, as in the
 * plain kernel).
 */
static float group_hs_batched(const w2v_kernel_model *m,
                              w2v_sg_batch_scratch *s, const sg_group *g,
                              size_t len, float alpha, batch_step_fn step,
                              int want)
{
    size_t dim = m->dim;
    const w2v_huffman *tree = m->tree;
    float l = 0;
    for (size_t b = 0; b < g->count; b++) {
        size_t t = g->t0 + b, a, z;
        uint32_t w = g->sent[t];
        size_t p0 = tree->start[w], n = tree->start[w + 1] - p0;
        prefetch_paths(m, &s->hot_hs, g->sent, len, t + 1);
        target_window(g, len, b, &a, &z);
        if (n == 0 || z == a)
            continue;
        size_t nx = 0;
        for (size_t c = a; c <= z; c++)
            if (c != t)
                s->hx[nx++] = s->x[c - g->lo];
        for (size_t j = 0; j < n; j++) {
            s->y[j] = w2v_hotrows_row(&s->hot_hs, m->out_hs,
                                      tree->points[p0 + j]);
            s->pos[j] = 1.0f - (float)tree->codes[p0 + j];
        }
        size_t rows = s->hs_rows ? s->hs_rows : nx;
        rows = rows < nx ? rows : nx;
        for (size_t i = 1; i < rows; i++)
            memcpy(s->pos + i * n, s->pos, n * sizeof *s->pos);
        for (size_t i = 0; i < rows * n; i++)
            s->tot[i] = 1.0f;
        for (size_t c0 = 0; c0 < nx; c0 += rows) {
            size_t k = nx - c0 < rows ? nx - c0 : rows;
            w2v_batch bt = {s->hx + c0, k, s->y, n, s->pos, s->tot, NULL};
            l += step(&bt, dim, alpha, s->work, want);
        }
    }
    return l;
}

/*
 * Hierarchical softmax pair by pair, as in the plain kernel: the nodes of
 * the path move after each context word instead of once per window.
 */
static float group_hs(const w2v_kernel_model *m, w2v_sg_batch_scratch *s,
                      const sg_group *g, size_t len, float alpha, int want)
{
    size_t dim = m->dim;
    const w2v_huffman *tree = m->tree;
    float l = 0;
    for (size_t b = 0; b < g->count; b++) {
        size_t t = g->t0 + b, a, z;
        uint32_t w = g->sent[t];
        size_t p0 = tree->start[w], p1 = tree->start[w + 1];
        target_window(g, len, b, &a, &z);
        for (size_t c = a; c <= z; c++) {
            if (c == t)
                continue;
            float *x = s->x[c - g->lo];
            memset(s->grad, 0, dim * sizeof *s->grad);
            l += w2v_kernel_hs_step(x, m->out_hs, dim, tree->points + p0,
                                    tree->codes + p0, p1 - p0, alpha, s->grad,
                                    want);
            w2v_axpy(1.0f, s->grad, x, dim);
        }
    }
    return l;
}

/* n noise words into ids. */
static void draw_noise(const w2v_kernel_model *m, w2v_rng *rng, uint32_t *ids,
                       size_t n)
{
    for (size_t d = 0; d < n; d++)
        ids[d] = w2v_alias_draw(m->noise, rng);
}

/*
 * Moves the rows of s->x that some pair uses (a nonzero weight in tot) to
 * the front of s->hx, with their weight rows; returns their number. With
 * one target per group that leaves out the target's own input row, a
 * seventh of the work at the mean window of 3.
 */
static size_t used_rows(w2v_sg_batch_scratch *s, size_t nx, size_t n)
{
    size_t k = 0;
    for (size_t r = 0; r < nx; r++) {
        const float *tot = s->tot + r * n;
        size_t j = 0;
        while (j < n && tot[j] == 0)
            j++;
        if (j == n)
            continue;
        if (k != r) {
            memcpy(s->pos + k * n, s->pos + r * n, n * sizeof *s->pos);
            memcpy(s->tot + k * n, tot, n * sizeof *s->tot);
        }
        s->hx[k++] = s->x[r];
    }
    return k;
}

/*
 * Negative sampling: the group's targets, then each target's own noise
 * words, paired only with the contexts of that target's window.
 */
static float group_ns(const w2v_kernel_model *m, w2v_sg_batch_scratch *s,
                      const sg_group *g, size_t len, w2v_rng *rng,
                      float alpha, batch_step_fn step, int want)
{
    size_t dim = m->dim, nx = g->hi - g->lo + 1, n = g->count;
    for (size_t b = 0; b < g->count; b++)
        s->y[b] = w2v_hotrows_row(&s->hot_ns, m->out_ns, g->sent[g->t0 + b]);
    /* first[b] .. first[b + 1]: the columns of target b's noise words. */
    size_t *first = s->first;
    size_t k = (size_t)m->negative;
    if (!s->ahead_ready)
        draw_noise(m, rng, s->ahead, g->count * k);
    for (size_t b = 0; b < g->count; b++) {
        uint32_t target = g->sent[g->t0 + b];
        first[b] = n;
        for (size_t d = 0; d < k; d++) {
            uint32_t w = s->ahead[b * k + d];
            if (w != target)
                s->y[n++] = w2v_hotrows_row(&s->hot_ns, m->out_ns, w);
        }
    }
    /*
     * The next group's noise is drawn now and its rows fetched while this
     * group computes: noise rows are random, and waiting for them from
     * memory would otherwise take longer than the arithmetic.
     */
    draw_noise(m, rng, s->ahead, s->group * k);
    for (size_t d = 0; d < s->group * k; d++)
        w2v_prefetch_row(w2v_hotrows_row(&s->hot_ns, m->out_ns, s->ahead[d]),
                         dim);
    s->ahead_ready = 1;
    first[g->count] = n;
    memset(s->pos, 0, nx * n * sizeof *s->pos);
    memset(s->tot, 0, nx * n * sizeof *s->tot);
    for (size_t b = 0; b < g->count; b++) {
        size_t t = g->t0 + b, a, z;
        target_window(g, len, b, &a, &z);
        for (size_t c = a; c <= z; c++) {
            if (c == t)
                continue;
            float *pos = s->pos + (c - g->lo) * n;
            float *tot = s->tot + (c - g->lo) * n;
            pos[b] = tot[b] = 1.0f;
            for (size_t j = first[b]; j < first[b + 1]; j++)
                tot[j] = 1.0f;
        }
    }
    size_t used = used_rows(s, nx, n);
    w2v_batch bt = {s->hx, used, s->y, n, s->pos, s->tot, NULL};
    return step(&bt, dim, alpha, s->work, want);
}

void w2v_kernel_skipgram_batched(const w2v_kernel_model *m,
                                 w2v_sg_batch_scratch *s, w2v_rng *rng,
                                 const uint32_t *sent, size_t len,
                                 size_t from, size_t to, int window,
                                 float alpha, int impl, w2v_kernel_loss *loss)
{
    batch_step_fn step = step_fn(impl);
    size_t dim = m->dim;
    if (m->out_ns != NULL)
        w2v_hotrows_load(&s->hot_ns, m->out_ns);
    if (m->tree != NULL)
        w2v_hotrows_load(&s->hot_hs, m->out_hs);
    for (size_t t0 = from; t0 < to; t0 += s->group) {
        sg_group g = {sent, t0, to - t0 < s->group ? to - t0 : s->group, 0, 0,
                      s->win};
        uint64_t pairs = 0;
        g.lo = SIZE_MAX;
        for (size_t b = 0; b < g.count; b++) {
            size_t a, z;
            s->win[b] = window - (int)w2v_rng_below(rng, (uint32_t)window);
            target_window(&g, len, b, &a, &z);
            g.lo = a < g.lo ? a : g.lo;
            g.hi = z > g.hi ? z : g.hi;
            pairs += z - a;
        }
        if (pairs == 0)
            continue;
        for (size_t c = g.lo; c <= g.hi; c++)
            s->x[c - g.lo] = m->in + (size_t)sent[c] * dim;
        /* The next group's target rows and the input row entering. */
        size_t next = t0 + g.count, enter = next + (size_t)window;
        if (next < to && m->out_ns != NULL)
            w2v_prefetch_row(
                w2v_hotrows_row(&s->hot_ns, m->out_ns, sent[next]), dim);
        if (enter < len)
            w2v_prefetch_row(m->in + (size_t)sent[enter] * dim, dim);
        int want = loss != NULL && s->groups++ % s->loss_every == 0;
        float l = 0;
        w2v_hotrows_tick(&s->hot_ns, m->out_ns, g.count);
        w2v_hotrows_tick(&s->hot_hs, m->out_hs, g.count);
        if (m->tree != NULL && s->hs_batched)
            l += group_hs_batched(m, s, &g, len, alpha, step, want);
        else if (m->tree != NULL)
            l += group_hs(m, s, &g, len, alpha, want);
        if (m->negative > 0)
            l += group_ns(m, s, &g, len, rng, alpha, step, want);
        if (want) {
            loss->sum += l;
            loss->count += pairs;
        }
    }
}

/* ---------------------------------------------------------------------- */
/* CBOW                                                                    */

int w2v_cbow_batch_scratch_init(w2v_cbow_batch_scratch *s,
                                const w2v_kernel_model *m, size_t group)
{
    memset(s, 0, sizeof *s);
    size_t k = (size_t)(m->negative > 0 ? m->negative : 0);
    size_t n = group + k, dim = m->dim;
    s->group = group;
    s->h = w2v_alloc_aligned(group * round16(dim) * sizeof(float));
    s->dh = w2v_alloc_aligned(group * round16(dim) * sizeof(float));
    s->x = malloc(group * sizeof *s->x);
    s->y = malloc(n * sizeof *s->y);
    s->rows = malloc(group * sizeof *s->rows);
    s->pos = malloc(group * n * sizeof *s->pos);
    s->tot = malloc(group * n * sizeof *s->tot);
    s->coef = malloc(group * sizeof *s->coef);
    s->work = w2v_alloc_aligned(w2v_batch_work_floats(group, n, dim) *
                                sizeof(float));
    s->win = malloc(group * sizeof *s->win);
    s->win_ahead = malloc(group * sizeof *s->win_ahead);
    s->noise = malloc((k + 1) * sizeof *s->noise);
    s->noise_ahead = malloc((k + 1) * sizeof *s->noise_ahead);
    s->tpos = malloc(group * sizeof *s->tpos);
    s->wlo = malloc(group * sizeof *s->wlo);
    s->whi = malloc(group * sizeof *s->whi);
    s->scale = malloc(group * sizeof *s->scale);
    s->loss_every = 64;
    if (!s->h || !s->dh || !s->x || !s->y || !s->rows || !s->pos || !s->tot ||
        !s->coef || !s->work || !s->win || !s->win_ahead || !s->noise ||
        !s->noise_ahead || !s->tpos || !s->wlo || !s->whi || !s->scale)
        return -1;
    return 0;
}

void w2v_cbow_batch_scratch_free(w2v_cbow_batch_scratch *s)
{
    w2v_free_aligned(s->h);
    w2v_free_aligned(s->dh);
    free(s->x);
    free(s->y);
    free(s->rows);
    free(s->pos);
    free(s->tot);
    free(s->coef);
    w2v_free_aligned(s->work);
    free(s->win);
    free(s->win_ahead);
    free(s->noise);
    free(s->noise_ahead);
    free(s->tpos);
    free(s->wlo);
    free(s->whi);
    free(s->scale);
    memset(s, 0, sizeof *s);
}

/*
 * The draws for the group of count targets at t0: their windows into win,
 * then the noise words into noise; the rows the group will read first
 * (targets' and noise words' output rows, the input rows entering the
 * window) are prefetched.
 */
static void cbow_group_draw(const w2v_kernel_model *m, w2v_rng *rng,
                            const uint32_t *sent, size_t len, size_t t0,
                            size_t count, int window, int *win,
                            uint32_t *noise)
{
    size_t dim = m->dim;
    for (size_t b = 0; b < count; b++)
        win[b] = window - (int)w2v_rng_below(rng, (uint32_t)window);
    draw_noise(m, rng, noise, (size_t)m->negative);
    for (size_t b = 0; b < count; b++)
        w2v_prefetch_row(m->out_ns + (size_t)sent[t0 + b] * dim, dim);
    for (int d = 0; d < m->negative; d++)
        w2v_prefetch_row(m->out_ns + (size_t)noise[d] * dim, dim);
    for (size_t b = 0; b < count; b++) {
        size_t enter = t0 + b + (size_t)window;
        if (enter < len)
            w2v_prefetch_row(m->in + (size_t)sent[enter] * dim, dim);
    }
}

/*
 * The targets of a group with context: their positions into s->tpos, their
 * context means into s->h, their x and y rows and the pair weights.
 * Returns their number.
 */
static size_t cbow_group_batch(const w2v_kernel_model *m,
                               w2v_cbow_batch_scratch *s,
                               const uint32_t *sent, size_t len, size_t t0,
                               size_t count, size_t *n_out)
{
    size_t dim = m->dim, stride = round16(dim), nt = 0;
    size_t k = (size_t)m->negative;
    const float *ctx[16];
    float coef[16];
    for (size_t b = 0; b < count; b++) {
        size_t t = t0 + b, a, z;
        size_t cw = clip_window(len, t, (size_t)s->win[b], &a, &z);
        if (cw == 0)
            continue;
        float inv = 1.0f / (float)cw;
        float *h = s->h + nt * stride;
        size_t q = 0;
        int acc = 0;
        for (size_t c = a; c <= z; c++) {
            if (c != t) {
                ctx[q] = m->in + (size_t)sent[c] * dim;
                coef[q++] = inv;
            }
            if (q == 16 || (c == z && q > 0)) {
                lincomb(h, ctx, coef, q, dim, acc);
                acc = 1;
                q = 0;
            }
        }
        s->x[nt] = h;
        s->tpos[nt] = t;
        s->wlo[nt] = a;
        s->whi[nt] = z;
        s->scale[nt] = m->cbow_mean_step ? 1.0f : inv;
        s->y[nt] = m->out_ns + (size_t)sent[t] * dim;
        nt++;
    }
    size_t n = nt + k;
    for (size_t d = 0; d < k; d++)
        s->y[nt + d] = m->out_ns + (size_t)s->noise[d] * dim;
    memset(s->pos, 0, nt * n * sizeof *s->pos);
    for (size_t i = 0; i < nt; i++) {
        float *pos = s->pos + i * n, *tot = s->tot + i * n;
        uint32_t target = sent[s->tpos[i]];
        memset(tot, 0, nt * sizeof *tot);
        pos[i] = tot[i] = 1.0f;
        for (size_t d = 0; d < k; d++)
            tot[nt + d] = s->noise[d] != target ? 1.0f : 0.0f;
    }
    *n_out = n;
    return nt;
}

/*
 * Each input row in the union of the group's windows takes the steps of
 * the windows it is a context of, in one pass over it.
 */
static void cbow_group_inputs(const w2v_kernel_model *m,
                              w2v_cbow_batch_scratch *s, const uint32_t *sent,
                              size_t nt)
{
    size_t dim = m->dim;
    size_t lo = s->wlo[0], hi = s->whi[nt - 1];
    for (size_t i = 0; i < nt; i++) {
        lo = s->wlo[i] < lo ? s->wlo[i] : lo;
        hi = s->whi[i] > hi ? s->whi[i] : hi;
    }
    for (size_t c = lo; c <= hi; c++) {
        size_t q = 0;
        for (size_t i = 0; i < nt; i++)
            if (c >= s->wlo[i] && c <= s->whi[i] && c != s->tpos[i]) {
                s->rows[q] = s->dh + i * dim;
                s->coef[q++] = s->scale[i];
            }
        if (q > 0)
            lincomb(m->in + (size_t)sent[c] * dim,
                    (const float *const *)s->rows, s->coef, q, dim, 1);
    }
}

void w2v_kernel_cbow_batched(const w2v_kernel_model *m,
                             w2v_cbow_batch_scratch *s, w2v_rng *rng,
                             const uint32_t *sent, size_t len, size_t from,
                             size_t to, int window, float alpha, int impl,
                             w2v_kernel_loss *loss)
{
    if (from >= to)
        return;
    batch_step_fn step = step_fn(impl);
    size_t G = s->group;
    size_t count = to - from < G ? to - from : G;
    cbow_group_draw(m, rng, sent, len, from, count, window, s->win_ahead,
                    s->noise_ahead);
    for (size_t t0 = from; t0 < to; t0 += G) {
        count = to - t0 < G ? to - t0 : G;
        int *wt = s->win;
        s->win = s->win_ahead;
        s->win_ahead = wt;
        uint32_t *nz = s->noise;
        s->noise = s->noise_ahead;
        s->noise_ahead = nz;
        size_t next = t0 + count;
        if (next < to)
            cbow_group_draw(m, rng, sent, len, next,
                            to - next < G ? to - next : G, window,
                            s->win_ahead, s->noise_ahead);
        size_t n;
        size_t nt = cbow_group_batch(m, s, sent, len, t0, count, &n);
        if (nt == 0)
            continue;
        int want = loss != NULL && s->groups++ % s->loss_every == 0;
        w2v_batch bt = {s->x, nt, s->y, n, s->pos, s->tot, s->dh};
        float l = step(&bt, m->dim, alpha, s->work, want);
        cbow_group_inputs(m, s, sent, nt);
        if (want) {
            loss->sum += l;
            loss->count += nt;
        }
    }
}
