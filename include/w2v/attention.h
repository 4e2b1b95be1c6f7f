/*
 * w2v/attention.h - one layer of scaled dot-product self-attention over
 * word vectors, as in "Attention Is All You Need" (Vaswani et al., 2017),
 * for showing what a transformer does with its input embeddings.
 *
 * Shapes: n tokens, model dimension D (the word vectors' size), H heads of
 * d_k dimensions each, W = H * d_k.
 *
 *   X        (n, D)    input: token embeddings, plus positional encodings
 *   W_Q, W_K, W_V (D, W)  projection weights; head h owns columns
 *                      [h * d_k, (h + 1) * d_k)
 *   Q = X W_Q, K = X W_K, V = X W_V         (n, W) each
 *   S_h = Q_h K_h^T / sqrt(d_k)              (n, n) per head: scores
 *   A_h = softmax of each row of S_h         (n, n) per head: weights
 *   C_h = A_h V_h                            (n, d_k) per head
 *   C = [C_0 | C_1 | ... | C_{H-1}]          (n, W): context vectors
 *
 * With the causal mask, token i attends only to tokens j <= i: A_h[i][j]
 * is exactly 0 for j > i. The softmax subtracts each row's largest score
 * before exponentiating, so it is finite for any finite scores (and for
 * +infinity scores too: they share the row's weight equally). Each row of
 * A_h sums to 1 up to rounding.
 *
 * The products run on OpenBLAS (cblas_sgemm). Everything is float32.
 */
#ifndef W2V_ATTENTION_H
#define W2V_ATTENTION_H

#include <stddef.h>
#include <stdint.h>

#include "w2v/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Limits the functions below enforce (W2V_ERR_ARG beyond them). */
#define W2V_ATTENTION_MAX_TOKENS 512 /* n */
#define W2V_ATTENTION_MAX_HEADS 64   /* H */
#define W2V_ATTENTION_MAX_DK 1024    /* d_k */
#define W2V_ATTENTION_MAX_WIDTH 4096 /* H * d_k */
#define W2V_ATTENTION_MAX_DIM 65536  /* D */
#define W2V_ATTENTION_SVG_MAX_TOKENS 128 /* n for w2v_attention_svg */

/*
 * The sinusoidal positional encoding of Vaswani et al., written into
 * pe (n, d):
 *
 *   pe[pos][2i]     = sin(pos / 10000^(2i / d))
 *   pe[pos][2i + 1] = cos(pos / 10000^(2i / d))
 *
 * computed in double precision. n, d >= 1.
 */
void w2v_attention_positional(size_t n, size_t d, float *pe);

/*
 * Fills w (d_model, width) with weights drawn uniformly from [-a, a],
 * a = sqrt(3 / d_model): mean 0 and variance 1 / d_model, so that a
 * projection keeps the scale of its input (the Xavier/LeCun idea). The
 * values depend only on (seed, stream, d_model, width): use streams 0, 1,
 * 2 for W_Q, W_K, W_V.
 */
void w2v_attention_init_weights(size_t d_model, size_t width, uint64_t seed,
                                uint64_t stream, float *w);

/*
 * Row-wise softmax of s (rows, cols), in place, subtracting each row's
 * maximum first. causal: row i keeps only columns j <= i and gets exact
 * zeros beyond. Scores must not be NaN.
 */
void w2v_attention_softmax(float *s, size_t rows, size_t cols, int causal);

/* Everything a forward pass computes. Free with w2v_attention_out_free. */
typedef struct w2v_attention_out {
    size_t n, heads, d_k; /* tokens, heads, dimensions per head */
    float *q, *k, *v;     /* (n, heads * d_k) each */
    float *scores;        /* (heads, n, n): Q_h K_h^T / sqrt(d_k), before the
                             mask and the softmax */
    float *weights;       /* (heads, n, n): the attention weights */
    float *context;       /* (n, heads * d_k): the concatenated heads */
} w2v_attention_out;

/*
 * Runs self-attention over x (n, d_model) with weights wq, wk, wv
 * (d_model, heads * d_k) each, as described at the top of the file.
 * W2V_ERR_ARG when a size is 0 or beyond the limits above (the message
 * names it). On success *out owns its arrays; on failure it is zeroed.
 */
int w2v_attention_forward(const float *x, size_t n, size_t d_model,
                          const float *wq, const float *wk, const float *wv,
                          size_t heads, size_t d_k, int causal,
                          w2v_attention_out *out, w2v_error *err);

/* Frees the arrays of out and zeroes it. A zeroed out is a no-op. */
void w2v_attention_out_free(w2v_attention_out *out);

/*
 * Checks n, d_model, heads and d_k against the limits above; W2V_ERR_ARG
 * with a message naming the first one out of range.
 */
int w2v_attention_check_sizes(size_t n, size_t d_model, size_t heads,
                              size_t d_k, w2v_error *err);

/*
 * Draws the attention weights of out as an SVG heatmap at path (written
 * to a temporary and renamed, see w2v/svg.h): one panel per head, four
 * panels a row, each an n x n grid with the query tokens down the left and
 * the key tokens along the top (labels[0, n), NUL-terminated, cut to fit).
 * A cell's colour is its weight on one scale for all heads, from 0 (dark
 * blue) to the largest weight of any head (light yellow), with a legend;
 * up to 24 tokens cells also print their value, and up to 64 carry a
 * tooltip. causal: cells above the diagonal are drawn light grey, as
 * masked. title (NULL for none) heads the picture. W2V_ERR_ARG for more
 * than W2V_ATTENTION_SVG_MAX_TOKENS tokens: a picture of n^2 cells per
 * head grows past what a browser shows well (tens of megabytes).
 */
int w2v_attention_svg(const char *path, const w2v_attention_out *out,
                      const char *const *labels, const char *title,
                      int causal, w2v_error *err);

#ifdef __cplusplus
}
#endif

#endif /* W2V_ATTENTION_H */
