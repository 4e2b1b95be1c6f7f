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

#include "hotrows.h"
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
    int cbow_mean_step;   /* CBOW: 1 = each context row takes the mean's
                             step, 0 = its own gradient step (see
                             w2v_kernel_cbow) */
} w2v_kernel_model;

/* One thread's scratch space. */
typedef struct w2v_kernel_scratch {
    float *h;       /* (dim) the input vector of CBOW (mean of the context) */
    float *grad;    /* (dim) accumulated step for the input vector(s) */
    uint32_t *ids;  /* (negative + 1) target and noise ids */
    uint32_t *ids_ahead;  /* (negative + 1) the next target's, for
                             w2v_kernel_cbow_range */
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
 * CBOW around sent[pos]: the mean h of the cw context input vectors
 * predicts sent[pos]. The gradient of the loss for each context vector is
 * (1/cw) dL/dh. With m->cbow_mean_step == 0 each context vector takes the
 * plain gradient step, -alpha (1/cw) dL/dh. With m->cbow_mean_step == 1 the
 * step is preconditioned by cw: each context vector moves by -alpha dL/dh,
 * so that h itself moves by alpha times its gradient whatever the size of
 * the window (the update word2vec.c and fastText make).
 */
void w2v_kernel_cbow(const w2v_kernel_model *m, w2v_kernel_scratch *s,
                     w2v_rng *rng, const uint32_t *sent, size_t len,
                     size_t pos, int win, float alpha, w2v_kernel_loss *loss);

/*
 * CBOW over the targets sent[from, to): for each, draws the shrunk window
 * (window - a uniform draw below window, as the trainer does for
 * w2v_kernel_cbow) and takes w2v_kernel_cbow's step. The draws are the same
 * and in the same order as calling w2v_kernel_cbow position by position,
 * so the vectors are the same, bit for bit; the difference is that the next
 * target's window and noise words are drawn while the current one trains
 * and their rows prefetched, so that they arrive from memory in time. One
 * prediction in loss_every (counted by *predictions) adds to *loss when
 * loss is not NULL. Needs s->ids_ahead.
 */
void w2v_kernel_cbow_range(const w2v_kernel_model *m, w2v_kernel_scratch *s,
                           w2v_rng *rng, const uint32_t *sent, size_t len,
                           size_t from, size_t to, int window, float alpha,
                           uint64_t *predictions, uint64_t loss_every,
                           w2v_kernel_loss *loss);

/* ---------------------------------------------------------------------- */
/* Batched kernels (kernel_batch.c)                                        */

/*
 * A batch: m input rows x_i against n output rows y_j, with two weights per
 * pair: pos_ij, how often the pair is a positive example (y_j is the word
 * to predict, or for hierarchical softmax a node whose branch bit is 0),
 * and tot_ij >= pos_ij, how often it occurs at all. Its loss is
 *   L = sum_ij  pos_ij softplus(-x_i.y_j) + (tot_ij - pos_ij) softplus(x_i.y_j)
 * i.e. -log s(x.y) for each positive occurrence and -log s(-x.y) for each
 * negative one: the objective in the comment at the top, summed over every
 * pair the batch stands for. Rows may repeat (a context word twice in a
 * window): each occurrence is its own term and its gradient is added.
 *
 * The arithmetic is three small matrix products: scores S = X Y^T (m, n),
 * G = alpha (pos - tot * s(S)), input step dX = G Y (m, dim) and output step
 * dY = G^T X (n, dim). Every row is read once per batch instead of once per
 * pair.
 */
typedef struct w2v_batch {
    float *const *x;     /* (m) rows of the input matrix */
    size_t m;
    float *const *y;     /* (n) rows of an output matrix */
    size_t n;
    const float *pos;    /* (m, n) positive weights */
    const float *tot;    /* (m, n) total weights; 0 = the pair is not used */
    float *dx;           /* NULL: x_i += dX_i; else (m, dim): dX goes here
                            and the x rows are left as they are */
} w2v_batch;

/* Floats of work space a batch step needs for m x n pairs. */
size_t w2v_batch_work_floats(size_t m, size_t n, size_t dim);

/*
 * One SGD step on the batch loss: every x_i and y_j moves by -alpha times
 * its gradient at the point before the step (exactly so even when rows
 * repeat). work holds w2v_batch_work_floats(m, n, dim) floats. Returns L
 * before the step if want_loss, else 0.
 *
 * w2v_batch_step does the products with loops the compiler vectorises;
 * w2v_batch_step_blas gathers the rows and calls cblas_sgemm three times;
 * w2v_batch_step_naive is the reference both are tested against: plain
 * loops in double precision.
 */
float w2v_batch_step(const w2v_batch *b, size_t dim, float alpha,
                     float *work, int want_loss);
float w2v_batch_step_blas(const w2v_batch *b, size_t dim, float alpha,
                          float *work, int want_loss);
float w2v_batch_step_naive(const w2v_batch *b, size_t dim, float alpha,
                           float *work, int want_loss);

/*
 * Not a training step: the memory traffic of one without its arithmetic.
 * Reads every row of X and Y once and writes it back moved by alpha * 1e-9
 * in each coordinate (so that neither pass can be left out; with b->dx the
 * X rows' moves go to dx, as a real step's do), and returns 0.
 * Run in place of a real step by build/bench/kernel-bench, it times
 * everything the batched kernels do except their products: the rows'
 * trips from and to memory, the draws, the windows and the loop.
 */
float w2v_batch_step_touch(const w2v_batch *b, size_t dim, float alpha,
                           float *work, int want_loss);

/* Which batch step the batched kernels use. */
enum w2v_batch_impl {
    W2V_BATCH_LOOPS = 0,
    W2V_BATCH_BLAS = 1,
    W2V_BATCH_NAIVE = 2,
    W2V_BATCH_TOUCH = 3   /* w2v_batch_step_touch: for kernel-bench only */
};

/*
 * v[i] = s(v[i]) = 1 / (1 + e^-v[i]) for i < n, vectorised (an exp
 * polynomial of degree 7 after range reduction; relative error below
 * 1e-6 against expf).
 */
void w2v_sigmoid_array(float *v, size_t n);

/*
 * Batched skip-gram: the targets sent[from, to) in groups of up to `group`
 * consecutive positions. For each group, every target draws its shrunk
 * window and takes `negative` noise words (a draw equal to the target
 * dropped, as in word2vec.c); the noise of a group is drawn while the group
 * before it trains (the first group draws its own, then the next one's), so
 * that its rows are on their way into the cache. Then:
 *   - hierarchical softmax: with s->hs_batched, a target's window is taken
 *     s->hs_rows context words at a time (W2V_HS_ROWS, 4, by default; 0 =
 *     the whole window), each batch holding their input vectors against the
 *     inner nodes of its path: one exact gradient step for those pairs, and
 *     the path moves before the next rows. Every path starts at the root,
 *     so a whole window's step (up to 10 rows) pushes the top nodes too far
 *     at once: on en17m it scored 1.8 points below the pair-by-pair kernel
 *     on the analogies, 4 rows at a time 0.2 above it, for 5% more time.
 *     Without hs_batched, every (context, target) pair takes the plain
 *     kernel's step along the path, one pair after the other;
 *   - negative sampling: one batch holds the input vectors of every position
 *     in the union of the windows against the targets' output vectors and
 *     their noise words, each paired with the contexts of its own target's
 *     window.
 * So the batch is exactly the set of pairs the targets' windows stand for;
 * the one difference from the plain kernel is that a target's noise words
 * are shared by all its context words (HogBatch) instead of drawn afresh for
 * each. Pairs outside a target's window have weight 0.
 *
 * Measured on a 17M-word corpus: groups of one target train fastest (larger
 * groups compute the zero-weight pairs too); sharing noise words among the
 * targets of a group saves rows but costs accuracy (the few noise rows take
 * a group's gradient at once). Hierarchical softmax: see hs_rows above.
 * impl picks the batch step. If loss is not NULL, one group in
 * s->loss_every adds its loss and its number of pairs to it.
 */
#define W2V_HS_ROWS 4   /* context rows per hierarchical-softmax batch */

typedef struct w2v_sg_batch_scratch {
    size_t group;       /* targets per batch */
    size_t max_x;       /* group + 2 * window */
    size_t max_y;       /* the most output rows of a batch */
    float **x, **y;     /* (max_x), (max_y) */
    float **hx;         /* (max_x) one target's context rows (HS) */
    int hs_batched;     /* 1: HS as one batch per target, 0: pair by pair */
    size_t hs_rows;     /* HS: context rows per batch (default W2V_HS_ROWS),
                           0 = the whole window */
    float *pos, *tot;   /* (max_x * max_y) */
    float *work;        /* (w2v_batch_work_floats(max_x, max_y, dim)) */
    int *win;           /* (group) each target's window */
    size_t *first;      /* (group + 1) each target's first noise column */
    uint32_t *ahead;    /* (group * negative) the next group's noise */
    int ahead_ready;    /* ahead holds a draw not used yet */
    float *grad;        /* (dim) a pair's step for its input row (HS) */
    uint64_t groups;    /* groups trained so far */
    uint64_t loss_every;  /* score the loss of one group in this many */
    w2v_hotrows hot_ns;   /* the worker's copy of the hottest output rows */
    w2v_hotrows hot_hs;   /* ... and inner nodes (none unless asked for) */
} w2v_sg_batch_scratch;

/* Allocates the scratch for a model; 0, or -1 when out of memory. */
int w2v_sg_batch_scratch_init(w2v_sg_batch_scratch *s,
                              const w2v_kernel_model *m, size_t group,
                              int window);
void w2v_sg_batch_scratch_free(w2v_sg_batch_scratch *s);

/*
 * Gives the worker its own copy (see hotrows.h) of the output rows of the
 * ns_rows most frequent of `words` words and of the hs_rows inner nodes
 * nearest the root (0 = none; only for the matrices the model has); 0, or
 * -1 when out of memory. The trainer asks for them with more than one
 * worker; alone, a worker shares the rows with nobody.
 */
int w2v_sg_batch_scratch_hot(w2v_sg_batch_scratch *s,
                             const w2v_kernel_model *m, size_t words,
                             size_t ns_rows, size_t hs_rows);

/* Adds the worker's steps on its copied rows to the shared matrices. */
void w2v_sg_batch_scratch_sync(w2v_sg_batch_scratch *s,
                               const w2v_kernel_model *m);

void w2v_kernel_skipgram_batched(const w2v_kernel_model *m,
                                 w2v_sg_batch_scratch *s, w2v_rng *rng,
                                 const uint32_t *sent, size_t len,
                                 size_t from, size_t to, int window,
                                 float alpha, int impl, w2v_kernel_loss *loss);

/*
 * Batched CBOW with negative sampling: the targets sent[from, to) in
 * groups of `group` consecutive positions that share one draw of
 * `negative` noise words (a draw equal to a target is dropped for that
 * target only). For each target of a group the mean h_i of its shrunk
 * window's input vectors (windows drawn as w2v_kernel_cbow_range draws
 * them, the group's windows first, then its noise) predicts it; the group
 * is one batch: the h_i against the targets' output vectors and the noise
 * words' (target i paired with its own output vector and every noise word),
 * one exact gradient step of the group's loss from the point before it.
 * Each context row then moves by the sum of the steps of the windows it is
 * in (scaled by 1/cw_i for cbow_mean_step == 0, as in w2v_kernel_cbow).
 *
 * The objective per target is w2v_kernel_cbow's; what changes is that the
 * group's targets share their noise words, so a group reads group +
 * negative output rows instead of group * (1 + negative), and that a
 * group's windows see the input vectors as they were before the group.
 * The next group's draws are made and its rows prefetched while a group
 * trains. group 1 is w2v_kernel_cbow's step, its products done in the
 * batch step's order. Needs m->tree == NULL and m->negative > 0.
 */
typedef struct w2v_cbow_batch_scratch {
    size_t group;       /* targets per batch */
    float *h, *dh;      /* (group, dim) the means and their steps */
    float **x, **y;     /* (group), (group + negative) */
    float **rows;       /* (group) steps adding into one context row */
    float *pos, *tot;   /* (group * (group + negative)) */
    float *coef;        /* (group) */
    float *work;        /* (w2v_batch_work_floats(group, group + neg, dim)) */
    int *win, *win_ahead;         /* (group) windows */
    uint32_t *noise, *noise_ahead;  /* (negative) */
    size_t *tpos;       /* (group) the positions of a group's targets */
    size_t *wlo, *whi;  /* (group) and their windows, clipped */
    float *scale;       /* (group) each target's context step scale */
    uint64_t groups;    /* groups trained so far */
    uint64_t loss_every;  /* score the loss of one group in this many */
} w2v_cbow_batch_scratch;

int w2v_cbow_batch_scratch_init(w2v_cbow_batch_scratch *s,
                                const w2v_kernel_model *m, size_t group);
void w2v_cbow_batch_scratch_free(w2v_cbow_batch_scratch *s);

void w2v_kernel_cbow_batched(const w2v_kernel_model *m,
                             w2v_cbow_batch_scratch *s, w2v_rng *rng,
                             const uint32_t *sent, size_t len, size_t from,
                             size_t to, int window, float alpha, int impl,
                             w2v_kernel_loss *loss);

#endif /* W2V_KERNEL_H */
