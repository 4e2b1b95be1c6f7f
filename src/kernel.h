/*
 * kernel.h - the training kernels: one SGD step of skip-gram or CBOW with
 * negative sampling and/or hierarchical softmax. Not API.
 *
 * The kernels know nothing of files or threads: they read and write the
 * weight matrices they are handed, draw noise words from the rng they are
 * handed, and report the loss. This is the one replaceable place where the
 * arithmetic of training happens.
 *
 * Objective, for an input vector h and a target word w with noise words
 * n_1..n_k (negative sampling):
 *   L = -log s(h . o_w) - sum_j log s(-h . o_nj),   s(x) = 1 / (1 + e^-x)
 * and for hierarchical softmax, over the inner nodes p_j of w's path with
 * branch bits c_j:
 *   L = -sum_j log s((1 - 2 c_j) h . o_pj).
 * A step moves every parameter by -alpha times its gradient; the gradient
 * for h uses the output vectors as they were before the step.
 */
#ifndef W2V_KERNEL_H
#define W2V_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "huffman.h"
#include "rng.h"
#include "sampler.h"

/* Shared, read-mostly state of a run: the matrices and the samplers. */
typedef struct w2v_kernel_model {
    float *in;            /* (V, dim) input vectors: the embeddings */
    float *out_ns;        /* (V, dim) output vectors for negative sampling */
    float *out_hs;        /* (V - 1, dim) inner-node vectors for HS */
    size_t dim;
    int negative;         /* noise words per prediction; 0 = no NS */
    const w2v_alias *noise;
    const w2v_huffman *tree;  /* NULL = no HS */
} w2v_kernel_model;

/* One thread's scratch space, (dim) floats each. */
typedef struct w2v_kernel_scratch {
    float *h;       /* the input vector of CBOW (mean of the context) */
    float *grad;    /* accumulated step for the input vector(s) */
    uint32_t *ids;  /* (negative + 1) target and noise ids */
} w2v_kernel_scratch;

/* Loss accounting: the sum of L over predictions, and their number. */
typedef struct w2v_kernel_loss {
    double sum;
    uint64_t count;
} w2v_kernel_loss;

float w2v_dot(const float *a, const float *b, size_t n);
void w2v_axpy(float a, const float *x, float *y, size_t n);

/* log(1 + e^x), computed without overflow. */
double w2v_softplus(double x);

/*
 * Negative sampling step for input h against ids[0] (label 1) and
 * ids[1..n) (label 0). Updates out rows; adds the step for h to grad.
 * Returns the loss of the prediction if want_loss, else 0.
 */
float w2v_kernel_ns_step(const float *h, float *out, size_t dim,
                         const uint32_t *ids, size_t n, float alpha,
                         float *grad, int want_loss);

/* Hierarchical softmax step for input h along one word's path. */
float w2v_kernel_hs_step(const float *h, float *nodes, size_t dim,
                         const uint32_t *points, const uint8_t *codes,
                         size_t len, float alpha, float *grad, int want_loss);

/*
 * Skip-gram around sent[pos] with window win (already shrunk): each
 * context word's input vector predicts sent[pos] and is updated.
 */
void w2v_kernel_skipgram(const w2v_kernel_model *m, w2v_kernel_scratch *s,
                         w2v_rng *rng, const uint32_t *sent, size_t len,
                         size_t pos, int win, float alpha,
                         w2v_kernel_loss *loss);

/*
 * CBOW around sent[pos]: the mean of the context input vectors predicts
 * sent[pos]; each context vector moves by the step of the mean divided by
 * the number of context words (the gradient of the mean).
 */
void w2v_kernel_cbow(const w2v_kernel_model *m, w2v_kernel_scratch *s,
                     w2v_rng *rng, const uint32_t *sent, size_t len,
                     size_t pos, int win, float alpha, w2v_kernel_loss *loss);

#endif /* W2V_KERNEL_H */
