/*
 * attention.c - scaled dot-product self-attention: positional encodings,
 * seeded projection weights, the per-head products on cblas_sgemm and a
 * stable softmax. See w2v/attention.h; the naive reference it is tested
 * against is in tests/test_attention.c.
 */
#include "w2v/attention.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "util.h"

/* ---------------------------------------------------------------------- */
/* Inputs: positions and weights                                           */

void w2v_attention_positional(size_t n, size_t d, float *pe)
{
    for (size_t pos = 0; pos < n; pos++) {
        for (size_t j = 0; j < d; j++) {
            /* Columns 2i and 2i + 1 share the frequency 1 / 10000^(2i/d). */
            double expo = (double)(j - j % 2) / (double)d;
            double angle = (double)pos / pow(10000.0, expo);
            pe[pos * d + j] = (float)(j % 2 == 0 ? sin(angle) : cos(angle));
        }
    }
}

void w2v_attention_init_weights(size_t d_model, size_t width, uint64_t seed,
                                uint64_t stream, float *w)
{
    w2v_rng r;
    w2v_rng_seed(&r, seed, stream + 1);
    /* Uniform on [-a, a] has variance a^2 / 3: a = sqrt(3 / D) gives 1/D. */
    float a = (float)sqrt(3.0 / (double)d_model);
    for (size_t i = 0; i < d_model * width; i++)
        w[i] = (2.0f * w2v_rng_float(&r) - 1.0f) * a;
}

/* ---------------------------------------------------------------------- */
/* Softmax                                                                 */

/* Softmax of row[0, m) in place; the row's other entries are untouched. */
static void softmax_row(float *row, size_t m)
{
    float max = row[0];
    for (size_t j = 1; j < m; j++)
        if (row[j] > max)
            max = row[j];
    if (isinf(max)) {
        /*
         * +inf: the infinite scores share the weight; -inf (every score
         * -inf): nothing to prefer, so all share it.
         */
        size_t count = 0;
        for (size_t j = 0; j < m; j++)
            count += row[j] == max;
        for (size_t j = 0; j < m; j++)
            row[j] = row[j] == max ? 1.0f / (float)count : 0.0f;
        return;
    }
    double sum = 0;
    for (size_t j = 0; j < m; j++) {
        /* s - max <= 0: exp never overflows, and the max gives exp(0). */
        row[j] = expf(row[j] - max);
        sum += row[j];
    }
    float inv = (float)(1.0 / sum);
    for (size_t j = 0; j < m; j++)
        row[j] *= inv;
}

void w2v_attention_softmax(float *s, size_t rows, size_t cols, int causal)
{
    for (size_t i = 0; i < rows; i++) {
        float *row = s + i * cols;
        size_t m = causal ? (i + 1 < cols ? i + 1 : cols) : cols;
        softmax_row(row, m);
        for (size_t j = m; j < cols; j++)
            row[j] = 0.0f;
    }
}

/* ---------------------------------------------------------------------- */
/* Forward pass                                                            */

int w2v_attention_check_sizes(size_t n, size_t d_model, size_t heads,
                              size_t d_k, w2v_error *err)
{
    if (n == 0)
        return w2v_fail(err, W2V_ERR_ARG, "no tokens to attend over");
    if (n > W2V_ATTENTION_MAX_TOKENS)
        return w2v_fail(err, W2V_ERR_ARG, "%zu tokens; at most %d are "
                        "allowed", n, W2V_ATTENTION_MAX_TOKENS);
    if (d_model == 0 || d_model > W2V_ATTENTION_MAX_DIM)
        return w2v_fail(err, W2V_ERR_ARG, "model dimension %zu is not in "
                        "[1, %d]", d_model, W2V_ATTENTION_MAX_DIM);
    if (heads == 0 || heads > W2V_ATTENTION_MAX_HEADS)
        return w2v_fail(err, W2V_ERR_ARG, "heads %zu is not in [1, %d]",
                        heads, W2V_ATTENTION_MAX_HEADS);
    if (d_k == 0 || d_k > W2V_ATTENTION_MAX_DK)
        return w2v_fail(err, W2V_ERR_ARG, "d_k %zu is not in [1, %d]", d_k,
                        W2V_ATTENTION_MAX_DK);
    if (heads * d_k > W2V_ATTENTION_MAX_WIDTH)
        return w2v_fail(err, W2V_ERR_ARG, "heads x d_k = %zu x %zu = %zu is "
                        "more than %d", heads, d_k, heads * d_k,
                        W2V_ATTENTION_MAX_WIDTH);
    return W2V_OK;
}

void w2v_attention_out_free(w2v_attention_out *out)
{
    if (out == NULL)
        return;
    free(out->q);
    free(out->k);
    free(out->v);
    free(out->scores);
    free(out->weights);
    free(out->context);
    memset(out, 0, sizeof *out);
}

/* Allocates out's arrays for n tokens and width w = heads * d_k. */
static int alloc_out(w2v_attention_out *out, size_t n, size_t heads,
                     size_t w, w2v_error *err)
{
    /* The limits keep these products far from overflow. */
    size_t nw = n * w * sizeof(float), hnn = heads * n * n * sizeof(float);
    out->q = malloc(nw);
    out->k = malloc(nw);
    out->v = malloc(nw);
    out->context = malloc(nw);
    out->scores = malloc(hnn);
    out->weights = malloc(hnn);
    if (!out->q || !out->k || !out->v || !out->context || !out->scores ||
        !out->weights) {
        w2v_attention_out_free(out);
        return w2v_fail_nomem(err, "the attention outputs");
    }
    return W2V_OK;
}

/* c (m, n) = a (m, k) b (k, n), all row-major and dense. */
static void matmul(const float *a, const float *b, float *c, size_t m,
                   size_t k, size_t n)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n,
                (int)k, 1.0f, a, (int)k, b, (int)n, 0.0f, c, (int)n);
}

/* Scores, weights and context of head h; Q, K, V are computed. */
static void attend_head(w2v_attention_out *o, size_t h, int causal)
{
    size_t n = o->n, dk = o->d_k, w = o->heads * dk;
    float *s = o->scores + h * n * n;   /* (n, n) */
    float *a = o->weights + h * n * n;  /* (n, n) */
    const float *qh = o->q + h * dk;    /* (n, dk), row stride w */
    const float *kh = o->k + h * dk;
    const float *vh = o->v + h * dk;
    float scale = (float)(1.0 / sqrt((double)dk));
    /* S_h = Q_h K_h^T / sqrt(d_k): the head's columns, leading dim w. */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)n,
                (int)dk, scale, qh, (int)w, kh, (int)w, 0.0f, s, (int)n);
    memcpy(a, s, n * n * sizeof(float));
    w2v_attention_softmax(a, n, n, causal);
    /* C_h = A_h V_h, written into the head's columns of context. */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)dk,
                (int)n, 1.0f, a, (int)n, vh, (int)w, 0.0f, o->context + h * dk,
                (int)w);
}

int w2v_attention_forward(const float *x, size_t n, size_t d_model,
                          const float *wq, const float *wk, const float *wv,
                          size_t heads, size_t d_k, int causal,
                          w2v_attention_out *out, w2v_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = w2v_attention_check_sizes(n, d_model, heads, d_k, err);
    if (rc != W2V_OK)
        return rc;
    size_t w = heads * d_k;
    rc = alloc_out(out, n, heads, w, err);
    if (rc != W2V_OK)
        return rc;
    out->n = n;
    out->heads = heads;
    out->d_k = d_k;
    matmul(x, wq, out->q, n, d_model, w);
    matmul(x, wk, out->k, n, d_model, w);
    matmul(x, wv, out->v, n, d_model, w);
    for (size_t h = 0; h < heads; h++)
        attend_head(out, h, causal);
    return W2V_OK;
}
