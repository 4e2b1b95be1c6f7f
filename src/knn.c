/*
 * knn.c - cosine nearest neighbours, one BLAS product per query over the
 * model's own matrix. See w2v/knn.h.
 *
 * The index does not copy the matrix. It keeps each row's inverse length
 * and turns dot products into cosines after the product:
 *
 *   cos(row i, q) = (row i . q / |q|) / |row i|
 *
 * A unit-length copy of every row would cost a second matrix: for a 300-d,
 * 70k-word model that is 85 MB written (and page-faulted in) at start-up,
 * several times longer than answering a query. w2v_knn_unit still hands out
 * unit rows, normalised one at a time on first use into a buffer whose
 * untouched pages cost nothing.
 *
 * Rows so long or so short that their dot products could overflow or lose
 * precision in float (lengths outside [W2V_KNN_MIN_NORM, W2V_KNN_MAX_NORM])
 * make the index fall back to normalising every row up front and searching
 * the unit copy, as a plain cosine index does.
 */
#include "w2v/knn.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Row lengths the fast path accepts; see the top of the file. */
#define W2V_KNN_MIN_NORM 1e-15
#define W2V_KNN_MAX_NORM 1e15

/* States of a row of the unit buffer. */
enum { UNIT_EMPTY = 0, UNIT_BUSY = 1, UNIT_READY = 2 };

struct w2v_knn {
    size_t n, dim;
    const float *rows;   /* (n, dim) the rows searched: the model's, or unit */
    float *inv_norm;     /* (n) turns a dot product with rows into a cosine:
                            1/|row|, or 1 when rows is the unit copy; 0 for a
                            zero row */
    float *unit;         /* (n, dim) unit rows, written on demand */
    atomic_uchar *state; /* (n) UNIT_* of each row of unit */
};

/* ---------------------------------------------------------------------- */
/* Building the index                                                      */

/*
 * 1/|v| in double precision (no overflow for any float row), 0 for a zero
 * row.
 */
static double inv_length(const float *v, size_t dim)
{
    double ss = 0;
    for (size_t j = 0; j < dim; j++)
        ss += (double)v[j] * v[j];
    return ss > 0 ? 1.0 / sqrt(ss) : 0.0;
}

/* unit[0, dim) = v scaled by inv (double, then rounded once). */
static void scale_row(const float *v, size_t dim, double inv, float *unit)
{
    for (size_t j = 0; j < dim; j++)
        unit[j] = (float)(v[j] * inv);
}

/*
 * Fills k->inv_norm from the rows' float sums of squares (BLAS sdot, fast).
 * Returns 0 when some row's length is outside the safe range, so that the
 * caller falls back to the unit copy.
 */
static int fast_norms(w2v_knn *k)
{
    const float lo = (float)(W2V_KNN_MIN_NORM * W2V_KNN_MIN_NORM);
    const float hi = (float)(W2V_KNN_MAX_NORM * W2V_KNN_MAX_NORM);
    const int dim = (int)k->dim;
    for (size_t i = 0; i < k->n; i++) {
        const float *v = k->rows + i * k->dim;
        float ss = cblas_sdot(dim, v, 1, v, 1);
        if (ss >= lo && ss <= hi) {
            k->inv_norm[i] = (float)(1.0 / sqrt((double)ss));
            continue;
        }
        /* 0 is a zero row, or squares that underflowed: tell them apart. */
        if (ss != 0 || inv_length(v, k->dim) != 0)
            return 0;
        k->inv_norm[i] = 0.0f;
    }
    return 1;
}

/* The fallback: every row normalised now, and searched as unit rows. */
static void unit_copy_all(w2v_knn *k, const float *model_rows)
{
    for (size_t i = 0; i < k->n; i++) {
        const float *v = model_rows + i * k->dim;
        double inv = inv_length(v, k->dim);
        scale_row(v, k->dim, inv, k->unit + i * k->dim);
        k->inv_norm[i] = inv > 0 ? 1.0f : 0.0f;
        atomic_store_explicit(&k->state[i], UNIT_READY,
                              memory_order_relaxed);
    }
    k->rows = k->unit;
}

int w2v_knn_new(const w2v_model *m, size_t n_restrict, w2v_knn **out,
                w2v_error *err)
{
    *out = NULL;
    size_t n = w2v_model_size(m), dim = w2v_model_dim(m), bytes;
    if (n_restrict > 0 && n_restrict < n)
        n = n_restrict;
    if (n == 0)
        return w2v_fail(err, W2V_ERR_EMPTY, "the model has no words");
    /* BLAS takes int sizes. */
    if (n > INT_MAX || dim > INT_MAX)
        return w2v_fail(err, W2V_ERR_ARG, "a %zu x %zu matrix is too big "
                        "for the neighbour index (at most %d rows and "
                        "columns)", n, dim, INT_MAX);
    if (!w2v_mul_size(n, dim * sizeof(float), &bytes))
        return w2v_fail_nomem(err, "the neighbour index");
    w2v_knn *k = calloc(1, sizeof *k);
    if (k == NULL)
        return w2v_fail_nomem(err, "the neighbour index");
    k->n = n;
    k->dim = dim;
    k->rows = w2v_model_vector_const(m, 0);
    k->inv_norm = malloc(n * sizeof *k->inv_norm);
    k->state = malloc(n * sizeof *k->state);
    /* Reserved, not touched: the kernel maps its pages on first write. */
    k->unit = w2v_alloc_aligned(bytes);
    if (k->inv_norm == NULL || k->state == NULL || k->unit == NULL) {
        w2v_knn_free(k);
        return w2v_fail_nomem(err, "the neighbour index");
    }
    for (size_t i = 0; i < n; i++)
        atomic_init(&k->state[i], UNIT_EMPTY);
    if (!fast_norms(k))
        unit_copy_all(k, w2v_model_vector_const(m, 0));
    *out = k;
    return W2V_OK;
}

void w2v_knn_free(w2v_knn *k)
{
    if (k == NULL)
        return;
    w2v_free_aligned(k->unit);
    free(k->inv_norm);
    free(k->state);
    free(k);
}

/*
 * The first caller to claim a row normalises it; others that ask for the
 * same row meanwhile wait the few hundred nanoseconds that takes. The
 * release store publishes the row to every later acquire load.
 */
const float *w2v_knn_unit(const w2v_knn *k, size_t id)
{
    float *u = k->unit + id * k->dim;
    atomic_uchar *st = &k->state[id];
    if (atomic_load_explicit(st, memory_order_acquire) == UNIT_READY)
        return u;
    unsigned char expected = UNIT_EMPTY;
    if (atomic_compare_exchange_strong_explicit(st, &expected, UNIT_BUSY,
                                                memory_order_acquire,
                                                memory_order_acquire)) {
        /* k->rows is the model's matrix here: the copy is never lazy. */
        const float *v = k->rows + id * k->dim;
        scale_row(v, k->dim, inv_length(v, k->dim), u);
        atomic_store_explicit(st, UNIT_READY, memory_order_release);
        return u;
    }
    while (atomic_load_explicit(st, memory_order_acquire) != UNIT_READY)
        ;
    return u;
}

size_t w2v_knn_size(const w2v_knn *k)
{
    return k->n;
}

/* ---------------------------------------------------------------------- */
/* Top k                                                                   */

/*
 * Is a a worse answer than b? A lower score, or the same score and a higher
 * id: the order of the final sort, so that the top k kept are the first k
 * of the full ranking even when scores tie (zero rows all score 0).
 */
static int worse(const w2v_neighbor *a, const w2v_neighbor *b)
{
    return a->score < b->score || (a->score == b->score && a->id > b->id);
}

/* Sifts a heap of answers down from i; the worst of the best is on top. */
static void sift_down(w2v_neighbor *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && worse(&h[l], &h[m]))
            m = l;
        if (r < n && worse(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        w2v_neighbor t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static int is_excluded(size_t id, const size_t *ex, size_t n_ex)
{
    for (size_t i = 0; i < n_ex; i++)
        if (ex[i] == id)
            return 1;
    return 0;
}

static int by_score_desc(const void *pa, const void *pb)
{
    const w2v_neighbor *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

/*
 * The kmax best of scores[0, n) but the excluded ids into out, best first;
 * returns how many (min(kmax, n - excluded)). A heap of kmax: O(n log k).
 */
static size_t select_top(const float *scores, size_t n, size_t kmax,
                         const size_t *exclude, size_t n_exclude,
                         w2v_neighbor *out)
{
    size_t h = 0;
    for (size_t i = 0; i < n; i++) {
        if (n_exclude > 0 && is_excluded(i, exclude, n_exclude))
            continue;
        w2v_neighbor c = {i, scores[i]};
        if (h < kmax) {
            out[h++] = c;
            if (h == kmax)
                for (size_t j = h / 2 + 1; j-- > 0;)
                    sift_down(out, h, j);
        } else if (worse(&out[0], &c)) {
            out[0] = c;
            sift_down(out, h, 0);
        }
    }
    qsort(out, h, sizeof *out, by_score_desc);
    return h;
}

/* ---------------------------------------------------------------------- */
/* Queries                                                                 */

/*
 * scores[0, n) = cosine of every row with query (dim floats); unit (dim)
 * is scratch. The query is scaled to unit length first, so that no dot
 * product can overflow or underflow whatever its length.
 */
static void cosines(const w2v_knn *k, const float *query, float *unit,
                    float *scores)
{
    scale_row(query, k->dim, inv_length(query, k->dim), unit);
    /* scores = rows (n, dim) . unit (dim) */
    cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)k->n, (int)k->dim, 1.0f,
                k->rows, (int)k->dim, unit, 1, 0.0f, scores, 1);
    for (size_t i = 0; i < k->n; i++)
        scores[i] *= k->inv_norm[i];
}

int w2v_knn_query(const w2v_knn *k, const float *query, size_t kmax,
                  const size_t *exclude, size_t n_exclude, w2v_neighbor *out,
                  size_t *n_out, w2v_error *err)
{
    *n_out = 0;
    if (kmax == 0)
        return W2V_OK;
    /* (n) scores, then (dim) the unit query */
    float *scores = malloc((k->n + k->dim) * sizeof *scores);
    if (scores == NULL)
        return w2v_fail_nomem(err, "query scores");
    cosines(k, query, scores + k->n, scores);
    *n_out = select_top(scores, k->n, kmax, exclude, n_exclude, out);
    free(scores);
    return W2V_OK;
}

int w2v_knn_analogy(const w2v_knn *k, size_t a, size_t b, size_t c,
                    size_t kmax, w2v_neighbor *out, size_t *n_out,
                    w2v_error *err)
{
    *n_out = 0;
    if (a >= k->n || b >= k->n || c >= k->n)
        return w2v_fail(err, W2V_ERR_ARG, "analogy word outside the index");
    float *q = malloc(k->dim * sizeof *q);
    if (q == NULL)
        return w2v_fail_nomem(err, "an analogy query");
    const float *ua = w2v_knn_unit(k, a), *ub = w2v_knn_unit(k, b),
                *uc = w2v_knn_unit(k, c);
    for (size_t j = 0; j < k->dim; j++)
        q[j] = ua[j] - ub[j] + uc[j];
    size_t ex[3] = {a, b, c};
    int rc = w2v_knn_query(k, q, kmax, ex, 3, out, n_out, err);
    free(q);
    return rc;
}

int w2v_knn_analogy_mul(const w2v_knn *k, size_t a, size_t b, size_t c,
                        size_t kmax, w2v_neighbor *out, size_t *n_out,
                        w2v_error *err)
{
    *n_out = 0;
    if (a >= k->n || b >= k->n || c >= k->n)
        return w2v_fail(err, W2V_ERR_ARG, "analogy word outside the index");
    if (kmax == 0)
        return W2V_OK;
    size_t n = k->n, dim = k->dim;
    /* (n) cosines with a, b and c; the first becomes the scores */
    float *cos_a = malloc(3 * n * sizeof *cos_a);
    if (cos_a == NULL)
        return w2v_fail_nomem(err, "an analogy query");
    float *cos_b = cos_a + n, *cos_c = cos_b + n;
    /*
     * Three matrix-vector products over the rows. One sgemm of (n, dim) by
     * (dim, 3) would read the rows once, but OpenBLAS packs both operands
     * for it and, with only 3 columns, takes twice as long as this.
     */
    const size_t ids[3] = {a, b, c};
    float *dst[3] = {cos_a, cos_b, cos_c};
    for (int t = 0; t < 3; t++)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)dim, 1.0f,
                    k->rows, (int)dim, w2v_knn_unit(k, ids[t]), 1, 0.0f,
                    dst[t], 1);
    float *scores = cos_a;
    for (size_t i = 0; i < n; i++) {
        float s = k->inv_norm[i];
        float pa = (cos_a[i] * s + 1) / 2;
        float pb = (cos_b[i] * s + 1) / 2;
        float pc = (cos_c[i] * s + 1) / 2;
        scores[i] = pa * pc / (pb + W2V_KNN_MUL_EPSILON);
    }
    *n_out = select_top(scores, n, kmax, ids, 3, out);
    free(cos_a);
    return W2V_OK;
}
