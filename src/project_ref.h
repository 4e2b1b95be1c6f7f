/*
 * project_ref.h - the naive references and internals of the projections,
 * for the tests (test_project.c) to compare the fast paths against. Not
 * API.
 */
#ifndef W2V_PROJECT_REF_H
#define W2V_PROJECT_REF_H

#include <stddef.h>

#include "w2v/error.h"

/*
 * PCA the slow and simple way: the covariance by three nested loops in
 * double precision, then each of the k leading eigenvectors by power
 * iteration on the covariance with the ones before deflated away. Same
 * outputs and sign convention as w2v_pca.
 */
int w2v_pca_naive(const float *x, size_t n, size_t d, size_t k, float *out,
                  double *variance, w2v_error *err);

/*
 * Sparse symmetric input similarities P in compressed rows: row i holds
 * the columns col[row[i], row[i + 1]) with values val[...] (all > 0), and
 * the values sum to 1.
 */
typedef struct tsne_sparse {
    size_t n;
    size_t *row; /* (n + 1) */
    size_t *col; /* (nnz) */
    double *val; /* (nnz) */
} tsne_sparse;

/*
 * P for x (n, d): Gaussian conditionals over each point's k nearest
 * neighbours with the bandwidth bisected to the perplexity, symmetrised
 * and normalised. k = min(n - 1, floor(3 * perplexity)).
 */
int tsne_input_similarities(const float *x, size_t n, size_t d,
                            double perplexity, int threads, tsne_sparse *p,
                            w2v_error *err);

/*
 * The k nearest neighbours of every row of x (n, d) by Euclidean distance,
 * the row itself left out: ids (n, k) nearest first, their squared
 * distances in d2 (n, k). Distances come from one BLAS product per block
 * of rows (|a|^2 + |b|^2 - 2 a.b, in float), the selection from a heap.
 */
int tsne_nearest(const float *x, size_t n, size_t d, size_t k, int threads,
                 size_t *ids, double *d2, w2v_error *err);

/*
 * tsne_input_similarities over all pairs (every j != i), for checking.
 */
int tsne_input_similarities_exact(const float *x, size_t n, size_t d,
                                  double perplexity, tsne_sparse *p,
                                  w2v_error *err);

void tsne_sparse_free(tsne_sparse *p);

/*
 * The t-SNE gradient at map y (n, 2) into grad (n, 2), with P scaled by
 * exaggeration; *kl receives KL(P || Q) (unexaggerated P). theta > 0 uses
 * the Barnes-Hut quadtree with `threads` threads, theta 0 every pair.
 */
int tsne_gradient(const tsne_sparse *p, const double *y, double exaggeration,
                  double theta, int threads, double *grad, double *kl,
                  w2v_error *err);

#endif /* W2V_PROJECT_REF_H */
