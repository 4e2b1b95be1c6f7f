/*
 * w2v/project.h - 2-D maps of the embedding space: choosing words,
 * projecting their vectors with PCA or t-SNE, and writing the coordinates
 * as CSV, TensorBoard Projector TSV or an SVG scatter plot.
 *
 * A word set (w2v_wordset) is a list of model rows, each with a copy of its
 * word and an optional group label; the projections work on any (n, d)
 * float matrix; the writers take a word set and its (n, 2) coordinates.
 */
#ifndef W2V_PROJECT_H
#define W2V_PROJECT_H

#include <stddef.h>
#include <stdint.h>

#include "w2v/error.h"
#include "w2v/knn.h"
#include "w2v/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------- */
/* Word sets                                                               */

typedef struct w2v_wordset w2v_wordset;

/* Group index of a word without a group. */
#define W2V_NO_GROUP ((size_t)-1)

/*
 * The model's rows skip .. skip + n - 1 (the most frequent words after the
 * first `skip`, which are mostly function words), fewer if the model is
 * smaller. No groups. W2V_ERR_EMPTY when no row is left, W2V_ERR_ARG for
 * n == 0. On failure *out is NULL.
 */
int w2v_wordset_top(const w2v_model *m, size_t skip, size_t n,
                    w2v_wordset **out, w2v_error *err);

/*
 * The words listed in the text file at path: one a line, the word up to
 * the first tab or space, then optionally a group label (the rest of the
 * line, surrounding blanks removed). Blank lines and lines whose first
 * character is '#' are skipped, as is a "\r" before the newline. Each word
 * is looked up as given, then with ASCII letters lowercased. Words not in
 * the model and repeated words are skipped and listed
 * (w2v_wordset_missing); groups keep the order of their first use.
 *
 * Errors: W2V_ERR_IO (cannot open or read; names path), W2V_ERR_FORMAT (a
 * NUL byte or invalid UTF-8; names path and line), W2V_ERR_EMPTY when no
 * listed word is in the model (names path). On failure *out is NULL.
 */
int w2v_wordset_read(const w2v_model *m, const char *path,
                     w2v_wordset **out, w2v_error *err);

/*
 * Each seed word followed by its k nearest neighbours by cosine in the
 * index k_index (built on m), all in the seed's group (named after the
 * seed as given). A word already taken by an earlier seed keeps its first
 * group. Seeds not in the model are skipped and listed as missing.
 * W2V_ERR_ARG for no seeds, W2V_ERR_EMPTY when no seed is known.
 */
int w2v_wordset_around(const w2v_model *m, const w2v_knn *k_index,
                       const char *const *seeds, size_t n_seeds, size_t k,
                       w2v_wordset **out, w2v_error *err);

/* Frees the set. NULL is a no-op. */
void w2v_wordset_free(w2v_wordset *ws);

/* Words in the set. */
size_t w2v_wordset_size(const w2v_wordset *ws);

/* Model row of word i (i < size). */
size_t w2v_wordset_id(const w2v_wordset *ws, size_t i);

/* Word i, as the model spells it (NUL-terminated, owned by the set). */
const char *w2v_wordset_word(const w2v_wordset *ws, size_t i);

/* Group index of word i, or W2V_NO_GROUP. */
size_t w2v_wordset_group(const w2v_wordset *ws, size_t i);

/* Number of distinct groups (0 when no word has one). */
size_t w2v_wordset_n_groups(const w2v_wordset *ws);

/* Name of group g (g < n_groups), owned by the set. */
const char *w2v_wordset_group_name(const w2v_wordset *ws, size_t g);

/* Words skipped while building the set (unknown or repeated). */
size_t w2v_wordset_n_missing(const w2v_wordset *ws);

/*
 * Skipped word i (i < n_missing), as given, and in *line its 1-based line
 * in the word file (0 when it came from a seed list); *repeated is 1 when
 * it was skipped as a repeat rather than as unknown. line and repeated may
 * be NULL.
 */
const char *w2v_wordset_missing(const w2v_wordset *ws, size_t i,
                                size_t *line, int *repeated);

/*
 * Copies the vectors of the set's words out of m into a new (size, dim)
 * row-major matrix *out (free with free()); with unit non-zero, every row
 * scaled to unit length (a zero row stays zero), so that Euclidean
 * distances follow cosine similarity.
 */
int w2v_wordset_vectors(const w2v_wordset *ws, const w2v_model *m, int unit,
                        float **out, w2v_error *err);

/* ---------------------------------------------------------------------- */
/* PCA                                                                     */

/*
 * Principal components of x (n, d) row-major: centres the columns, forms
 * the (d, d) covariance with one BLAS rank-k update in double precision
 * and takes its k leading eigenvectors (LAPACK dsyevr). Writes the
 * centred data projected onto them into out (n, k) and, if variance is
 * not NULL, the variance along each into variance (k). Each component is
 * signed so that its largest-magnitude entry is positive, so the result
 * is deterministic.
 *
 * Needs n >= 2 and 1 <= k <= d. W2V_ERR_ARG otherwise, W2V_ERR_NOMEM.
 */
int w2v_pca(const float *x, size_t n, size_t d, size_t k, float *out,
            double *variance, w2v_error *err);

/* ---------------------------------------------------------------------- */
/* t-SNE                                                                   */

/*
 * Progress of t-SNE, called every `progress_every` iterations and after
 * the last: the 1-based iteration, the total, and the Kullback-Leibler
 * divergence of the map from the input similarities (estimated from the
 * same Barnes-Hut pass). Return non-zero to stop (W2V_ERR_STOPPED).
 */
typedef int (*w2v_tsne_progress_fn)(int iteration, int iterations,
                                    double kl, void *user);

typedef struct w2v_tsne_options {
    double perplexity;   /* effective neighbours, default 30 */
    int iterations;      /* gradient steps, default 1000 */
    double theta;        /* Barnes-Hut accuracy, default 0.5; 0 = exact */
    uint64_t seed;       /* jitter added to the initial map, default 1 */
    size_t pca_dims;     /* reduce to this many dims first (0 = no), 50 */
    int threads;         /* worker threads, default 2 */
    double learning_rate; /* 0 = automatic: max(200, n / exaggeration) */
    double exaggeration;  /* early exaggeration of P, default 12 */
    int exaggeration_iters; /* for this many iterations, default 250 */
    int progress_every;   /* default 50 */
    w2v_tsne_progress_fn progress; /* NULL: none */
    void *progress_user;
} w2v_tsne_options;

/* The defaults above. */
w2v_tsne_options w2v_tsne_options_default(void);

/*
 * A 2-D t-SNE map of x (n, d) into out (n, 2): input similarities from a
 * Gaussian per point over its floor(3 * perplexity) nearest neighbours,
 * its width found by bisection so that the perplexity matches; the map
 * starts from the first two principal components scaled to a standard
 * deviation of 1e-4, and follows the gradient with momentum (0.5, then
 * 0.8), per-coordinate gains and early exaggeration. With theta > 0 the
 * repulsive forces come from a Barnes-Hut quadtree (O(n log n) a step),
 * with theta 0 from every pair (O(n^2), for small n and for checking). The
 * same input, options and seed give the same map.
 *
 * Errors: W2V_ERR_ARG for n < 3, a perplexity outside [1, (n - 1) / 3]
 * (the message says the largest allowed), iterations < 1, theta < 0 or a
 * non-finite input; W2V_ERR_STOPPED when progress asks to stop;
 * W2V_ERR_NOMEM. (A worker thread that cannot be started has its share
 * done by the calling thread, with the same result.)
 */
int w2v_tsne(const float *x, size_t n, size_t d,
             const w2v_tsne_options *opt, float *out, w2v_error *err);

/* ---------------------------------------------------------------------- */
/* Writers                                                                 */

/*
 * CSV (RFC 4180) with a header: "word,x,y" and ",group" when the set has
 * groups; words and groups quoted when they hold a comma, quote, CR or LF
 * (quotes doubled); coordinates with 6 significant digits. xy is (n, 2).
 * Written to a temporary and renamed: path holds the whole file or is
 * unchanged. W2V_ERR_IO names path.
 */
int w2v_project_write_csv(const char *path, const w2v_wordset *ws,
                          const float *xy, w2v_error *err);

/*
 * TensorBoard Projector files: prefix + "_vectors.tsv" with the rows of
 * vectors (n, dim) tab-separated, and prefix + "_metadata.tsv" with one
 * word a line, or, when the set has groups, a header "word\tgroup" and
 * word, tab, group lines (words without a group get an empty field). Tabs,
 * CR and LF inside words are written as spaces. Both are written in full
 * under temporary names before either is renamed into place, so each file
 * is complete or unchanged.
 */
int w2v_project_write_tsv(const char *prefix, const w2v_wordset *ws,
                          const float *vectors, size_t dim, w2v_error *err);

/* How the scatter plot looks. */
typedef struct w2v_plot_options {
    double width, height; /* pixels, default 1200 x 900 */
    const char *title;    /* NULL or "": none */
    const char *subtitle; /* a smaller second line (method, counts), NULL */
    double font_size;     /* labels, default 12 */
    double point_radius;  /* 0 (default): 4, 3 or 2 by number of points */
    const char *x_label;  /* axis titles, NULL for none */
    const char *y_label;
    double max_stretch;   /* 1 (default): equal scales on both axes, true
                             to the distances; up to this many times more
                             pixels per unit on one axis to fill the area */
} w2v_plot_options;

w2v_plot_options w2v_plot_options_default(void);

/*
 * An SVG scatter plot of the set at xy (n, 2): axes scaled to the data
 * (see max_stretch) with grid lines and tick labels, one circle and one label for every word (in a group
 * "points"; each point a <g> with its word as tooltip), group colours from
 * w2v_svg_palette with a legend, labels placed greedily beside their point
 * where they overlap no other label or point (a label that fits nowhere is
 * drawn smaller and fainter over the point). Atomic like the other
 * writers. W2V_ERR_ARG for non-finite coordinates.
 */
int w2v_project_write_svg(const char *path, const w2v_wordset *ws,
                          const float *xy, const w2v_plot_options *opt,
                          w2v_error *err);

#ifdef __cplusplus
}
#endif

#endif /* W2V_PROJECT_H */
