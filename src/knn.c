/*
 * knn.c - cosine nearest neighbours over a unit-length copy of the
 * vectors, one BLAS sgemv per query. See w2v/knn.h.
 */
#include "w2v/knn.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct w2v_knn {
    size_t n, dim;
    float *unit; /* (n, dim) rows scaled to length 1 (zero rows stay 0) */
};

int w2v_knn_new(const w2v_model *m, size_t n_restrict, w2v_knn **out,
                w2v_error *err)
{
    *out = NULL;
    size_t n = w2v_model_size(m), dim = w2v_model_dim(m), bytes;
    if (n_restrict > 0 && n_restrict < n)
        n = n_restrict;
    if (n == 0)
        return w2v_fail(err, W2V_ERR_EMPTY, "the model has no words");
    if (!w2v_mul_size(n, dim * sizeof(float), &bytes))
        return w2v_fail_nomem(err, "the neighbour index");
    w2v_knn *k = calloc(1, sizeof *k);
    float *u = w2v_alloc_aligned(bytes);
    if (k == NULL || u == NULL) {
        free(k);
        w2v_free_aligned(u);
        return w2v_fail_nomem(err, "the neighbour index");
    }
    for (size_t i = 0; i < n; i++) {
        const float *v = w2v_model_vector_const(m, i);
        double ss = 0;
        for (size_t j = 0; j < dim; j++)
            ss += (double)v[j] * v[j];
        float inv = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
        for (size_t j = 0; j < dim; j++)
            u[i * dim + j] = v[j] * inv;
    }
    k->n = n;
    k->dim = dim;
    k->unit = u;
    *out = k;
    return W2V_OK;
}

void w2v_knn_free(w2v_knn *k)
{
    if (k == NULL)
        return;
    w2v_free_aligned(k->unit);
    free(k);
}

const float *w2v_knn_unit(const w2v_knn *k, size_t id)
{
    return k->unit + id * k->dim;
}

size_t w2v_knn_size(const w2v_knn *k)
{
    return k->n;
}

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

int w2v_knn_query(const w2v_knn *k, const float *query, size_t kmax,
                  const size_t *exclude, size_t n_exclude, w2v_neighbor *out,
                  size_t *n_out, w2v_error *err)
{
    *n_out = 0;
    if (kmax == 0)
        return W2V_OK;
    float *scores = malloc(k->n * sizeof *scores);
    if (scores == NULL)
        return w2v_fail_nomem(err, "query scores");
    double ss = 0;
    for (size_t j = 0; j < k->dim; j++)
        ss += (double)query[j] * query[j];
    float inv = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
    /* scores = unit (n, dim) . query (dim) / |query| */
    cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)k->n, (int)k->dim, inv,
                k->unit, (int)k->dim, query, 1, 0.0f, scores, 1);
    size_t h = 0;
    for (size_t i = 0; i < k->n; i++) {
        if (is_excluded(i, exclude, n_exclude))
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
    free(scores);
    qsort(out, h, sizeof *out, by_score_desc);
    *n_out = h;
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
