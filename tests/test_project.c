/*
 * test_project.c - 2-D maps: PCA against a naive power iteration, the
 * t-SNE gradient against the exact sum over all pairs, t-SNE keeping
 * planted clusters apart, word sets, the CSV, TSV and SVG writers, and the
 * w2v-project command line with its bad inputs.
 */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "project_ref.h"
#include "rng.h"
#include "testutil.h"
#include "w2v/w2v.h"
#include "xmlcheck.h"

TestSuite(project, .init = tu_scratch_init, .fini = tu_scratch_fini);

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */

/* A standard normal deviate (Box-Muller). */
static double gauss(w2v_rng *r)
{
    double u = ((double)w2v_rng_float(r) + 1e-9) / (1 + 2e-9);
    double v = w2v_rng_float(r);
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

/*
 * n points in d dims around `clusters` centres (coordinates N(0, spread^2))
 * with unit noise; label[i] = i % clusters. Returns (n, d), malloc'ed.
 */
static float *planted_clusters(size_t n, size_t d, size_t clusters,
                               double spread, uint64_t seed, size_t *label)
{
    w2v_rng r;
    w2v_rng_seed(&r, seed, 7);
    double *centre = malloc(clusters * d * sizeof *centre);
    float *x = malloc(n * d * sizeof *x);
    cr_assert(centre != NULL && x != NULL);
    for (size_t i = 0; i < clusters * d; i++)
        centre[i] = spread * gauss(&r);
    for (size_t i = 0; i < n; i++) {
        label[i] = i % clusters;
        for (size_t j = 0; j < d; j++)
            x[i * d + j] = (float)(centre[label[i] * d + j] + gauss(&r));
    }
    free(centre);
    return x;
}

/* Pearson correlation of column c of a and b, both (n, k). */
static double correlation(const float *a, const float *b, size_t n, size_t k,
                          size_t c)
{
    double ma = 0, mb = 0;
    for (size_t i = 0; i < n; i++) {
        ma += a[i * k + c];
        mb += b[i * k + c];
    }
    ma /= (double)n;
    mb /= (double)n;
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
        double da = a[i * k + c] - ma, db = b[i * k + c] - mb;
        sab += da * db;
        saa += da * da;
        sbb += db * db;
    }
    return sab / sqrt(saa * sbb);
}

/*
 * Fraction of each point's k nearest neighbours in the map y (n, 2) that
 * share its label.
 */
static double knn_agreement(const float *y, const size_t *label, size_t n,
                            size_t k)
{
    size_t agree = 0;
    double *d2 = malloc(n * sizeof *d2);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
            d2[j] = j == i ? INFINITY : dx * dx + dy * dy;
        }
        for (size_t t = 0; t < k; t++) {
            size_t best = 0;
            for (size_t j = 1; j < n; j++)
                if (d2[j] < d2[best])
                    best = j;
            agree += label[best] == label[i];
            d2[best] = INFINITY;
        }
    }
    free(d2);
    return (double)agree / (double)(n * k);
}

/* A model of words[0, n) with vectors values (n, dim). */
static w2v_model *make_model(const char *const *words, size_t n, size_t dim,
                             const float *values)
{
    w2v_vocab *v = NULL;
    cr_assert_eq(w2v_vocab_new(&v, NULL), W2V_OK);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(w2v_vocab_add(v, words[i], strlen(words[i]), 1000 - i,
                                   NULL, NULL), W2V_OK);
    cr_assert_eq(w2v_vocab_finalize(v, 0, 0, NULL), W2V_OK);
    w2v_model *m = NULL;
    cr_assert_eq(w2v_model_new(v, dim, &m, NULL), W2V_OK);
    for (size_t i = 0; i < n; i++)
        memcpy(w2v_model_vector(m, i), values + i * dim, dim * sizeof(float));
    return m;
}

/*
 * Twelve words in three groups of four, each group around its own axis
 * of a 6-d space, so neighbours stay within a group.
 */
static const char *const zoo_words[12] = {
    "cat", "dog", "horse", "cow",           /* axis 0 */
    "paris", "rome", "berlin", "madrid",    /* axis 2 */
    "one", "two", "three", "four",          /* axis 4 */
};

static w2v_model *zoo_model(void)
{
    float v[12 * 6];
    memset(v, 0, sizeof v);
    for (size_t i = 0; i < 12; i++) {
        size_t axis = (i / 4) * 2;
        v[i * 6 + axis] = 1;
        v[i * 6 + axis + 1] = 0.1f * (float)(i % 4);
        v[i * 6 + (axis + 3) % 6] = 0.05f * (float)(i % 3);
    }
    return make_model(zoo_words, 12, 6, v);
}

/* The zoo model saved as word2vec text in the scratch directory. */
static char *zoo_file(void)
{
    w2v_model *m = zoo_model();
    char *path = tu_path(tu_scratch(), "zoo.txt");
    cr_assert_eq(w2v_model_save(m, path, W2V_FORMAT_TEXT, NULL), W2V_OK);
    w2v_model_free(m);
    return path;
}

static w2v_wordset *read_words(const w2v_model *m, const char *text)
{
    char *path = tu_write_file(NULL, "words.txt", text, strlen(text));
    w2v_wordset *ws = NULL;
    w2v_error err = {0};
    cr_assert_eq(w2v_wordset_read(m, path, &ws, &err), W2V_OK, "%s",
                 err.message);
    free(path);
    return ws;
}

/* ---------------------------------------------------------------------- */
/* PCA                                                                     */

Test(project, pca_matches_the_naive_reference)
{
    size_t n = 400, d = 24, k = 3;
    w2v_rng r;
    w2v_rng_seed(&r, 11, 0);
    float *x = malloc(n * d * sizeof *x);
    /* Variances falling off by column, then mixed by a fixed rotation-ish
       shear so the components are not the axes. */
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < d; j++)
            x[i * d + j] = (float)(gauss(&r) * (8.0 / (1.0 + (double)j)) + 3);
        for (size_t j = 1; j < d; j++)
            x[i * d + j] += 0.5f * x[i * d + j - 1];
    }
    float *fast = malloc(n * k * sizeof *fast);
    float *ref = malloc(n * k * sizeof *ref);
    double vf[3], vr[3];
    w2v_error err = {0};
    cr_assert_eq(w2v_pca(x, n, d, k, fast, vf, &err), W2V_OK, "%s",
                 err.message);
    cr_assert_eq(w2v_pca_naive(x, n, d, k, ref, vr, &err), W2V_OK, "%s",
                 err.message);
    for (size_t c = 0; c < k; c++) {
        double corr = correlation(fast, ref, n, k, c);
        cr_log_info("PCA component %zu: correlation with the reference "
                    "%.10f", c, corr);
        cr_expect_gt(corr, 0.9999, "component %zu: correlation %.8f", c,
                     corr);
        cr_expect_float_eq(vf[c], vr[c], 1e-6 * vr[c], "variance %zu", c);
        if (c > 0)
            cr_expect_geq(vf[c - 1], vf[c], "largest first");
    }
    free(x);
    free(fast);
    free(ref);
}

Test(project, pca_of_a_line_and_its_sign)
{
    /* Points on the direction (3, 4) / 5 with a little of (-4, 3) / 5. */
    float x[8 * 2];
    for (int i = 0; i < 8; i++) {
        /* s is even in t and sums to 0: uncorrelated with t. */
        double t = i - 3.5;
        double s = (fabs(t) == 3.5 || fabs(t) == 0.5) ? 0.01 : -0.01;
        x[2 * i] = (float)(0.6 * t - 0.8 * s + 1);
        x[2 * i + 1] = (float)(0.8 * t + 0.6 * s - 2);
    }
    float out[8 * 2];
    double var[2];
    cr_assert_eq(w2v_pca(x, 8, 2, 2, out, var, NULL), W2V_OK);
    for (int i = 0; i < 8; i++) {
        /* The largest entry of (0.6, 0.8) is positive: t itself. */
        cr_expect_float_eq(out[2 * i], i - 3.5, 1e-4, "point %d", i);
        cr_expect_float_eq(fabs(out[2 * i + 1]), 0.01, 1e-4, "point %d: %g %g",
                           i, out[2 * i], out[2 * i + 1]);
    }
    cr_expect_float_eq(var[0], 6.0, 1e-4);
}

Test(project, pca_bad_arguments)
{
    float x[6] = {1, 2, 3, 4, 5, 6};
    float out[6];
    w2v_error err = {0};
    cr_expect_eq(w2v_pca(x, 1, 6, 1, out, NULL, &err), W2V_ERR_ARG);
    cr_expect(strstr(err.message, "at least 2") != NULL, "%s", err.message);
    cr_expect_eq(w2v_pca(x, 3, 2, 3, out, NULL, &err), W2V_ERR_ARG);
    cr_expect_eq(w2v_pca(x, 3, 2, 0, out, NULL, &err), W2V_ERR_ARG);
}

/* ---------------------------------------------------------------------- */
/* t-SNE internals                                                         */

Test(project, similarities_are_symmetric_and_sum_to_one)
{
    size_t n = 120, d = 5, label[120];
    float *x = planted_clusters(n, d, 3, 4, 5, label);
    tsne_sparse p;
    w2v_error err = {0};
    cr_assert_eq(tsne_input_similarities(x, n, d, 10, 2, &p, &err), W2V_OK,
                 "%s", err.message);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t s = p.row[i]; s < p.row[i + 1]; s++) {
            size_t j = p.col[s];
            cr_assert_neq(j, i, "no self-similarity");
            cr_assert_gt(p.val[s], 0);
            if (s > p.row[i])
                cr_assert_gt(j, p.col[s - 1], "columns sorted, unique");
            sum += p.val[s];
            /* p_ij == p_ji */
            int found = 0;
            for (size_t t = p.row[j]; t < p.row[j + 1]; t++)
                if (p.col[t] == i) {
                    cr_assert_float_eq(p.val[t], p.val[s], 1e-15);
                    found = 1;
                }
            cr_assert(found, "(%zu, %zu) without (%zu, %zu)", i, j, j, i);
        }
    cr_expect_float_eq(sum, 1, 1e-9);
    tsne_sparse_free(&p);
    free(x);
}

/* Relative difference |a - b| / |b| of two (n, 2) gradients. */
static double rel_diff(const double *a, const double *b, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < 2 * n; i++) {
        num += (a[i] - b[i]) * (a[i] - b[i]);
        den += b[i] * b[i];
    }
    return sqrt(num / den);
}

Test(project, barnes_hut_gradient_matches_the_exact_one)
{
    size_t n = 300, d = 8, label[300];
    float *x = planted_clusters(n, d, 4, 3, 9, label);
    tsne_sparse p;
    cr_assert_eq(tsne_input_similarities_exact(x, n, d, 20, &p, NULL),
                 W2V_OK);
    w2v_rng r;
    w2v_rng_seed(&r, 3, 1);
    double *y = malloc(2 * n * sizeof *y);
    for (size_t i = 0; i < 2 * n; i++)
        y[i] = 5 * gauss(&r);
    double *exact = malloc(2 * n * sizeof *exact);
    double *bh = malloc(2 * n * sizeof *bh);
    double kl_exact, kl_bh;
    cr_assert_eq(tsne_gradient(&p, y, 1, 0, 1, exact, &kl_exact, NULL),
                 W2V_OK);
    /* theta 0 still walks the tree, down to every leaf. */
    cr_assert_eq(tsne_gradient(&p, y, 1, 1e-12, 2, bh, &kl_bh, NULL),
                 W2V_OK);
    cr_expect_lt(rel_diff(bh, exact, n), 1e-9);
    cr_expect_float_eq(kl_bh, kl_exact, 1e-9);
    cr_assert_eq(tsne_gradient(&p, y, 1, 0.5, 2, bh, &kl_bh, NULL), W2V_OK);
    double e = rel_diff(bh, exact, n);
    cr_log_info("Barnes-Hut gradient at theta 0.5: relative error %.5f", e);
    cr_expect_lt(e, 0.05, "theta 0.5: relative error %g", e);
    cr_expect_float_eq(kl_bh, kl_exact, 0.02 * fabs(kl_exact));
    /* Exaggeration scales the attraction only. */
    cr_assert_eq(tsne_gradient(&p, y, 4, 0, 1, bh, NULL, NULL), W2V_OK);
    cr_expect_gt(rel_diff(bh, exact, n), 0.01);
    tsne_sparse_free(&p);
    free(x);
    free(y);
    free(exact);
    free(bh);
}

Test(project, gradient_with_coincident_points)
{
    /* Duplicates share a quadtree leaf; the gradient stays finite. */
    size_t n = 40, d = 3, label[40];
    float *x = planted_clusters(n, d, 2, 3, 4, label);
    tsne_sparse p;
    cr_assert_eq(tsne_input_similarities(x, n, d, 5, 1, &p, NULL), W2V_OK);
    double y[80], ge[80], gb[80];
    for (size_t i = 0; i < n; i++) {
        y[2 * i] = (double)(i % 5);
        y[2 * i + 1] = (double)(i % 3);
    }
    cr_assert_eq(tsne_gradient(&p, y, 1, 0, 1, ge, NULL, NULL), W2V_OK);
    cr_assert_eq(tsne_gradient(&p, y, 1, 1e-12, 1, gb, NULL, NULL), W2V_OK);
    for (size_t i = 0; i < 2 * n; i++)
        cr_assert(isfinite(gb[i]));
    cr_expect_lt(rel_diff(gb, ge, n), 1e-9);
    tsne_sparse_free(&p);
    free(x);
}

/* ---------------------------------------------------------------------- */
/* t-SNE                                                                   */

Test(project, tsne_separates_planted_clusters, .timeout = 120)
{
    size_t n = 600, d = 60, label[600];
    float *x = planted_clusters(n, d, 6, 3, 21, label);
    float *y = malloc(2 * n * sizeof *y);
    w2v_tsne_options o = w2v_tsne_options_default();
    o.iterations = 500;
    w2v_error err = {0};
    cr_assert_eq(w2v_tsne(x, n, d, &o, y, &err), W2V_OK, "%s", err.message);
    double agree = knn_agreement(y, label, n, 10);
    cr_log_info("Barnes-Hut t-SNE, 600 points in 6 clusters: 10-NN label "
                "agreement %.4f", agree);
    cr_expect_gt(agree, 0.95, "10-NN label agreement %.4f", agree);
    free(x);
    free(y);
}

Test(project, exact_tsne_separates_clusters_too)
{
    size_t n = 90, d = 10, label[90];
    float *x = planted_clusters(n, d, 3, 3, 2, label);
    float *y = malloc(2 * n * sizeof *y);
    w2v_tsne_options o = w2v_tsne_options_default();
    o.theta = 0;
    o.perplexity = 10;
    o.iterations = 1000;
    cr_assert_eq(w2v_tsne(x, n, d, &o, y, NULL), W2V_OK);
    double agree = knn_agreement(y, label, n, 5);
    cr_log_info("exact t-SNE, 90 points in 3 clusters: 5-NN label "
                "agreement %.4f", agree);
    cr_expect_gt(agree, 0.95, "5-NN label agreement %.4f", agree);
    free(x);
    free(y);
}

typedef struct progress_log {
    int calls, last_iter, stop_at;
    double last_kl;
} progress_log;

static int log_progress(int it, int total, double kl, void *user)
{
    progress_log *l = user;
    cr_assert_gt(it, l->last_iter);
    cr_assert_leq(it, total);
    cr_assert(isfinite(kl) && kl >= 0, "KL %g", kl);
    l->calls++;
    l->last_iter = it;
    l->last_kl = kl;
    return l->stop_at > 0 && it >= l->stop_at;
}

Test(project, tsne_is_repeatable_and_reports_progress)
{
    size_t n = 150, d = 20, label[150];
    float *x = planted_clusters(n, d, 3, 3, 8, label);
    float *a = malloc(2 * n * sizeof *a), *b = malloc(2 * n * sizeof *b);
    progress_log log = {0, 0, 0, 0};
    w2v_tsne_options o = w2v_tsne_options_default();
    o.iterations = 120;
    o.progress = log_progress;
    o.progress_user = &log;
    o.progress_every = 25;
    cr_assert_eq(w2v_tsne(x, n, d, &o, a, NULL), W2V_OK);
    cr_expect_eq(log.calls, 5, "25, 50, 75, 100 and the last (120)");
    cr_expect_eq(log.last_iter, 120);
    o.progress = NULL;
    cr_assert_eq(w2v_tsne(x, n, d, &o, b, NULL), W2V_OK);
    cr_expect_eq(memcmp(a, b, 2 * n * sizeof *a), 0, "same seed, same map");
    o.seed = 99;
    cr_assert_eq(w2v_tsne(x, n, d, &o, b, NULL), W2V_OK);
    cr_expect_neq(memcmp(a, b, 2 * n * sizeof *a), 0, "seed matters");
    /* Asked to stop. */
    log = (progress_log){0, 0, 50, 0};
    o.progress = log_progress;
    w2v_error err = {0};
    cr_expect_eq(w2v_tsne(x, n, d, &o, b, &err), W2V_ERR_STOPPED);
    cr_expect_eq(log.last_iter, 50);
    free(x);
    free(a);
    free(b);
}

Test(project, tsne_bad_arguments)
{
    size_t label[30];
    float *x = planted_clusters(30, 4, 2, 3, 1, label);
    float y[60];
    w2v_error err = {0};
    w2v_tsne_options o = w2v_tsne_options_default();
    cr_expect_eq(w2v_tsne(x, 2, 4, &o, y, &err), W2V_ERR_ARG);
    cr_expect(strstr(err.message, "at least 3") != NULL, "%s", err.message);
    cr_expect_eq(w2v_tsne(x, 30, 4, &o, y, &err), W2V_ERR_ARG);
    cr_expect(strstr(err.message, "perplexity 30") != NULL &&
              strstr(err.message, "9.667") != NULL, "%s", err.message);
    o.perplexity = 5;
    o.iterations = 0;
    cr_expect_eq(w2v_tsne(x, 30, 4, &o, y, &err), W2V_ERR_ARG);
    o.iterations = 10;
    o.theta = -1;
    cr_expect_eq(w2v_tsne(x, 30, 4, &o, y, &err), W2V_ERR_ARG);
    o.theta = 0.5;
    x[17] = NAN;
    cr_expect_eq(w2v_tsne(x, 30, 4, &o, y, &err), W2V_ERR_ARG);
    cr_expect(strstr(err.message, "row 4") != NULL, "%s", err.message);
    free(x);
}

/* ---------------------------------------------------------------------- */
/* Word sets                                                               */

Test(project, top_and_skip)
{
    w2v_model *m = zoo_model();
    w2v_wordset *ws = NULL;
    cr_assert_eq(w2v_wordset_top(m, 2, 3, &ws, NULL), W2V_OK);
    cr_assert_eq(w2v_wordset_size(ws), 3);
    cr_expect_str_eq(w2v_wordset_word(ws, 0), "horse");
    cr_expect_eq(w2v_wordset_id(ws, 2), 4);
    cr_expect_eq(w2v_wordset_n_groups(ws), 0);
    cr_expect_eq(w2v_wordset_group(ws, 0), W2V_NO_GROUP);
    w2v_wordset_free(ws);
    cr_assert_eq(w2v_wordset_top(m, 10, 100, &ws, NULL), W2V_OK);
    cr_expect_eq(w2v_wordset_size(ws), 2, "as many as the model has");
    w2v_wordset_free(ws);
    w2v_error err = {0};
    cr_expect_eq(w2v_wordset_top(m, 12, 5, &ws, &err), W2V_ERR_EMPTY);
    cr_expect_null(ws);
    cr_expect_eq(w2v_wordset_top(m, 0, 0, &ws, &err), W2V_ERR_ARG);
    w2v_wordset_free(NULL);
    w2v_model_free(m);
}

Test(project, word_list_with_groups_comments_and_misses)
{
    w2v_model *m = zoo_model();
    w2v_wordset *ws = read_words(m,
        "# animals first\n"
        "cat\tanimals\n"
        "  Dog   animals  \r\n"
        "\n"
        "zebra animals\n"
        "paris big cities\n"
        "cat again\n"
        "one\n"
        "rome big cities\n");
    cr_assert_eq(w2v_wordset_size(ws), 5);
    const char *expect[5] = {"cat", "dog", "paris", "one", "rome"};
    for (size_t i = 0; i < 5; i++)
        cr_expect_str_eq(w2v_wordset_word(ws, i), expect[i]);
    cr_assert_eq(w2v_wordset_n_groups(ws), 2);
    cr_expect_str_eq(w2v_wordset_group_name(ws, 0), "animals");
    cr_expect_str_eq(w2v_wordset_group_name(ws, 1), "big cities");
    cr_expect_eq(w2v_wordset_group(ws, 1), 0);
    cr_expect_eq(w2v_wordset_group(ws, 3), W2V_NO_GROUP);
    cr_expect_eq(w2v_wordset_group(ws, 4), 1);
    cr_assert_eq(w2v_wordset_n_missing(ws), 2);
    size_t line;
    int rep;
    cr_expect_str_eq(w2v_wordset_missing(ws, 0, &line, &rep), "zebra");
    cr_expect_eq(line, 5);
    cr_expect_eq(rep, 0);
    cr_expect_str_eq(w2v_wordset_missing(ws, 1, &line, &rep), "cat");
    cr_expect_eq(line, 7);
    cr_expect_eq(rep, 1);
    float *v = NULL;
    cr_assert_eq(w2v_wordset_vectors(ws, m, 1, &v, NULL), W2V_OK);
    for (size_t i = 0; i < 5; i++) {
        double ss = 0;
        for (size_t j = 0; j < 6; j++)
            ss += v[i * 6 + j] * v[i * 6 + j];
        cr_expect_float_eq(ss, 1, 1e-6);
    }
    free(v);
    w2v_wordset_free(ws);
    w2v_model_free(m);
}

Test(project, bad_word_lists)
{
    w2v_model *m = zoo_model();
    w2v_wordset *ws = (w2v_wordset *)1;
    w2v_error err = {0};
    char *path = tu_write_file(NULL, "none.txt", "zebra\nyak x\n", 12);
    cr_expect_eq(w2v_wordset_read(m, path, &ws, &err), W2V_ERR_EMPTY);
    cr_expect_null(ws);
    cr_expect(strstr(err.message, "none of the 2") != NULL, "%s",
              err.message);
    free(path);
    path = tu_write_file(NULL, "nul.txt", "cat\ndo\0g\n", 9);
    cr_expect_eq(w2v_wordset_read(m, path, &ws, &err), W2V_ERR_FORMAT);
    cr_expect(strstr(err.message, "nul.txt:2") != NULL, "%s", err.message);
    free(path);
    path = tu_write_file(NULL, "latin1.txt", "cat\n\ncaf\xe9\n", 10);
    cr_expect_eq(w2v_wordset_read(m, path, &ws, &err), W2V_ERR_FORMAT);
    cr_expect(strstr(err.message, "latin1.txt:3") != NULL &&
              strstr(err.message, "UTF-8") != NULL, "%s", err.message);
    free(path);
    path = tu_path(tu_scratch(), "missing.txt");
    cr_expect_eq(w2v_wordset_read(m, path, &ws, &err), W2V_ERR_IO);
    cr_expect(strstr(err.message, "missing.txt") != NULL, "%s", err.message);
    free(path);
    w2v_model_free(m);
}

Test(project, neighbourhoods_of_seeds)
{
    w2v_model *m = zoo_model();
    w2v_knn *k = NULL;
    cr_assert_eq(w2v_knn_new(m, 0, &k, NULL), W2V_OK);
    const char *seeds[3] = {"cat", "unicorn", "paris"};
    w2v_wordset *ws = NULL;
    cr_assert_eq(w2v_wordset_around(m, k, seeds, 3, 3, &ws, NULL), W2V_OK);
    cr_assert_eq(w2v_wordset_size(ws), 8);
    cr_assert_eq(w2v_wordset_n_groups(ws), 2);
    cr_expect_str_eq(w2v_wordset_group_name(ws, 0), "cat");
    cr_expect_str_eq(w2v_wordset_group_name(ws, 1), "paris");
    for (size_t i = 0; i < 8; i++) {
        size_t id = w2v_wordset_id(ws, i);
        cr_expect_eq(w2v_wordset_group(ws, i), id / 4,
                     "%s in the group of its own seed",
                     w2v_wordset_word(ws, i));
    }
    cr_expect_eq(w2v_wordset_n_missing(ws), 1);
    cr_expect_str_eq(w2v_wordset_missing(ws, 0, NULL, NULL), "unicorn");
    w2v_wordset_free(ws);
    w2v_error err = {0};
    const char *bad[1] = {"unicorn"};
    cr_expect_eq(w2v_wordset_around(m, k, bad, 1, 3, &ws, &err),
                 W2V_ERR_EMPTY);
    cr_expect_eq(w2v_wordset_around(m, k, bad, 0, 3, &ws, &err),
                 W2V_ERR_ARG);
    w2v_knn_free(k);
    w2v_model_free(m);
}

/* ---------------------------------------------------------------------- */
/* Writers                                                                 */

/* A model whose words need quoting and escaping. */
static w2v_model *odd_model(void)
{
    static const char *const words[4] = {"plain", "a,b", "say\"hi\"",
                                         "<&tag>"};
    float v[4 * 2] = {1, 0, 0, 1, -1, 0, 0.5f, 0.5f};
    return make_model(words, 4, 2, v);
}

Test(project, csv_quotes_words_and_has_a_header)
{
    w2v_model *m = odd_model();
    w2v_wordset *ws = NULL;
    cr_assert_eq(w2v_wordset_top(m, 0, 4, &ws, NULL), W2V_OK);
    float xy[8] = {1.5f, -2, 0, 0, 3, 4, -1e-3f, 1e6f};
    char *path = tu_path(tu_scratch(), "out.csv");
    cr_assert_eq(w2v_project_write_csv(path, ws, xy, NULL), W2V_OK);
    char *text = tu_read_file(path, NULL);
    cr_expect_str_eq(text, "word,x,y\r\n"
                           "plain,1.5,-2\r\n"
                           "\"a,b\",0,0\r\n"
                           "\"say\"\"hi\"\"\",3,4\r\n"
                           "<&tag>,-0.001,1e+06\r\n");
    free(text);
    w2v_wordset_free(ws);
    w2v_model_free(m);

    m = zoo_model();
    ws = read_words(m, "cat pets, mostly\nparis\n");
    cr_assert_eq(w2v_project_write_csv(path, ws, xy, NULL), W2V_OK);
    text = tu_read_file(path, NULL);
    cr_expect_str_eq(text, "word,x,y,group\r\n"
                           "cat,1.5,-2,\"pets, mostly\"\r\n"
                           "paris,0,0,\r\n");
    free(text);
    xy[1] = NAN;
    w2v_error err = {0};
    cr_expect_eq(w2v_project_write_csv(path, ws, xy, &err), W2V_ERR_ARG);
    char *bad = tu_path(tu_scratch(), "no/dir/out.csv");
    xy[1] = 0;
    cr_expect_eq(w2v_project_write_csv(bad, ws, xy, &err), W2V_ERR_IO);
    cr_expect(strstr(err.message, "no/dir/out.csv") != NULL, "%s",
              err.message);
    cr_expect_eq(tu_count_entries(tu_scratch(), ".tmp"), 0);
    free(bad);
    free(path);
    w2v_wordset_free(ws);
    w2v_model_free(m);
}

Test(project, tensorboard_tsv_files)
{
    w2v_model *m = zoo_model();
    w2v_wordset *ws = read_words(m, "cat\tanimals\nparis\n");
    float vec[2 * 3] = {1, 2.5f, -3, 0, 0, 1e-7f};
    char *prefix = tu_path(tu_scratch(), "tb");
    cr_assert_eq(w2v_project_write_tsv(prefix, ws, vec, 3, NULL), W2V_OK);
    char *vp = tu_path(tu_scratch(), "tb_vectors.tsv");
    char *mp = tu_path(tu_scratch(), "tb_metadata.tsv");
    char *v = tu_read_file(vp, NULL), *md = tu_read_file(mp, NULL);
    cr_expect_str_eq(v, "1\t2.5\t-3\n0\t0\t1e-07\n");
    cr_expect_str_eq(md, "word\tgroup\ncat\tanimals\nparis\t\n");
    free(v);
    free(md);
    w2v_wordset_free(ws);
    ws = read_words(m, "cat\ndog\n");
    cr_assert_eq(w2v_project_write_tsv(prefix, ws, vec, 3, NULL), W2V_OK);
    md = tu_read_file(mp, NULL);
    cr_expect_str_eq(md, "cat\ndog\n", "no header without groups");
    free(md);
    char *bad = tu_path(tu_scratch(), "nodir/tb");
    w2v_error err = {0};
    cr_expect_eq(w2v_project_write_tsv(bad, ws, vec, 3, &err), W2V_ERR_IO);
    cr_expect_eq(tu_count_entries(tu_scratch(), ".tmp"), 0);
    free(bad);
    free(vp);
    free(mp);
    free(prefix);
    w2v_wordset_free(ws);
    w2v_model_free(m);
}

/* The element of d named name whose id attribute is id. */
static size_t find_group(const xc_doc *d, const char *id)
{
    for (size_t i = 0; i < d->n; i++) {
        char *v = xc_attr(&d->el[i], "id");
        int hit = v != NULL && strcmp(v, id) == 0;
        free(v);
        if (hit)
            return i;
    }
    cr_assert_fail("no element with id %s", id);
    return 0;
}

/* Children of the element at `at` named name, in document order. */
static size_t children(const xc_doc *d, size_t at, const char *name,
                       const xc_element **out, size_t max)
{
    size_t n = 0;
    for (size_t i = at + 1; i < d->n && d->el[i].depth > d->el[at].depth;
         i++)
        if (strcmp(d->el[i].name, name) == 0 && n < max)
            out[n++] = &d->el[i];
    return n;
}

static void check_plot(const char *path, const w2v_wordset *ws)
{
    size_t len;
    char *text = tu_read_file(path, &len);
    xc_doc d;
    char why[256];
    cr_assert_eq(xc_parse(text, len, &d, why, sizeof why), 0,
                 "not well-formed: %s", why);
    free(text);
    size_t n = w2v_wordset_size(ws);
    const xc_element **el = malloc((n + 1) * sizeof *el);
    cr_expect_eq(children(&d, find_group(&d, "points"), "circle", el, n + 1),
                 n, "one point per word");
    size_t got = children(&d, find_group(&d, "labels"), "text", el, n + 1);
    cr_assert_eq(got, n, "one label per word");
    for (size_t i = 0; i < n; i++)
        cr_expect_str_eq(el[i]->text, w2v_wordset_word(ws, i));
    if (w2v_wordset_n_groups(ws) > 0) {
        size_t lg = find_group(&d, "legend");
        const xc_element *t[64];
        size_t nt = children(&d, lg, "text", t, 64);
        cr_expect_eq(nt, w2v_wordset_n_groups(ws) + 1, "heading + groups");
        for (size_t g = 0; g + 1 < nt; g++)
            cr_expect_str_eq(t[g + 1]->text, w2v_wordset_group_name(ws, g));
    }
    free(el);
    xc_free(&d);
}

Test(project, svg_plot_parses_and_labels_every_point)
{
    w2v_model *m = odd_model();
    w2v_wordset *ws = NULL;
    cr_assert_eq(w2v_wordset_top(m, 0, 4, &ws, NULL), W2V_OK);
    float xy[8] = {0, 0, 1, 1, 2, 0.5f, -1, 3};
    char *path = tu_path(tu_scratch(), "plot.svg");
    w2v_plot_options o = w2v_plot_options_default();
    o.title = "Title & <more>";
    cr_assert_eq(w2v_project_write_svg(path, ws, xy, &o, NULL), W2V_OK);
    check_plot(path, ws);
    w2v_wordset_free(ws);
    w2v_model_free(m);

    /* Many crowded points in groups still get one label each. */
    m = zoo_model();
    ws = read_words(m, "cat a\ndog a\nhorse b\ncow b\nparis c\nrome c\n"
                       "berlin d\nmadrid d\none e\ntwo e\nthree\nfour f\n");
    float many[24];
    for (int i = 0; i < 24; i++)
        many[i] = (float)(i % 5) * 0.01f;
    cr_assert_eq(w2v_project_write_svg(path, ws, many, NULL, NULL), W2V_OK);
    check_plot(path, ws);
    /* All at one point: a degenerate range. */
    memset(many, 0, sizeof many);
    cr_assert_eq(w2v_project_write_svg(path, ws, many, NULL, NULL), W2V_OK);
    check_plot(path, ws);
    many[5] = INFINITY;
    w2v_error err = {0};
    char *other = tu_path(tu_scratch(), "bad.svg");
    cr_expect_eq(w2v_project_write_svg(other, ws, many, NULL, &err),
                 W2V_ERR_ARG);
    cr_expect_not(tu_exists(other));
    free(other);
    free(path);
    w2v_wordset_free(ws);
    w2v_model_free(m);
}

/* ---------------------------------------------------------------------- */
/* The tool                                                                */

typedef struct run {
    int status;
    char *err; /* standard error */
} run;

#define ARGS(...) ((const char *const[]){"w2v-project", __VA_ARGS__, NULL})

static run run_project(const char *const *args)
{
    char *exe = tu_path(W2V_BIN_DIR, "w2v-project");
    char *err_path = tu_path(tu_scratch(), "stderr.txt");
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int o = open("/dev/null", O_WRONLY);
        if (e < 0 || o < 0)
            _exit(126);
        dup2(o, 1);
        dup2(e, 2);
        unsetenv("W2V_MODEL");
        execv(exe, (char *const *)(uintptr_t)args);
        _exit(127);
    }
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    run r;
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    cr_assert_neq(r.status, 127, "cannot run %s", exe);
    r.err = tu_read_file(err_path, NULL);
    free(exe);
    free(err_path);
    return r;
}

static void expect_fail(const char *const *args, int status,
                        const char *message)
{
    run r = run_project(args);
    cr_expect_eq(r.status, status, "exit %d, stderr: %s", r.status, r.err);
    cr_expect(strstr(r.err, message) != NULL, "wanted \"%s\" in: %s",
              message, r.err);
    free(r.err);
}

Test(project, tool_writes_all_three_outputs)
{
    char *model = zoo_file();
    char *csv = tu_path(tu_scratch(), "m.csv");
    char *svg = tu_path(tu_scratch(), "m.svg");
    char *tsv = tu_path(tu_scratch(), "m");
    char *words = tu_write_file(NULL, "w.txt",
        "cat animals\ndog animals\nhorse animals\nparis cities\n"
        "rome cities\nberlin cities\nunicorn animals\n", 85);
    run r = run_project(ARGS("-model", model, "-words", words, "-method",
                             "tsne", "-perplexity", "1.5", "-iter", "200",
                             "-csv", csv, "-svg", svg, "-tsv", tsv));
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.err, "w.txt:7: unknown word \"unicorn\" skipped") !=
              NULL, "%s", r.err);
    cr_expect(strstr(r.err, "KL divergence") != NULL, "progress: %s", r.err);
    free(r.err);
    char *text = tu_read_file(csv, NULL);
    cr_expect(strncmp(text, "word,x,y,group\r\ncat,", 20) == 0, "%s", text);
    free(text);
    char *md = tu_path(tu_scratch(), "m_metadata.tsv");
    text = tu_read_file(md, NULL);
    cr_expect_str_eq(text, "word\tgroup\ncat\tanimals\ndog\tanimals\n"
                           "horse\tanimals\nparis\tcities\nrome\tcities\n"
                           "berlin\tcities\n");
    free(text);
    w2v_model *m = zoo_model();
    w2v_wordset *ws = read_words(m, "cat animals\ndog animals\nhorse animals\n"
                                    "paris cities\nrome cities\nberlin cities\n");
    check_plot(svg, ws);
    w2v_wordset_free(ws);

    /* PCA of the top words, and seeds with neighbours. */
    r = run_project(ARGS("-model", model, "-top", "10", "-skip", "1",
                         "-method", "pca", "-csv", csv, "-quiet"));
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_str_eq(r.err, "", "-quiet");
    free(r.err);
    text = tu_read_file(csv, NULL);
    cr_expect(strncmp(text, "word,x,y\r\ndog,", 14) == 0, "%s", text);
    free(text);
    r = run_project(ARGS("-model", model, "-around", "cat,one", "-k", "3",
                         "-method", "pca", "-svg", svg, "-quiet"));
    cr_assert_eq(r.status, 0, "%s", r.err);
    free(r.err);
    text = tu_read_file(svg, NULL);
    xc_doc d;
    char why[256];
    cr_assert_eq(xc_parse(text, strlen(text), &d, why, sizeof why), 0, "%s",
                 why);
    cr_expect_eq(xc_count(&d, "circle"), 8 + 2, "2 seeds x (1 + 3), and "
                 "2 legend dots");
    xc_free(&d);
    free(text);
    w2v_model_free(m);
    free(md);
    free(words);
    free(model);
    free(csv);
    free(svg);
    free(tsv);
}

Test(project, tool_bad_inputs)
{
    char *model = zoo_file();
    char *csv = tu_path(tu_scratch(), "out.csv");
    char *two = tu_write_file(NULL, "two.txt", "cat\ndog\nzebra\n", 14);
    char *none = tu_write_file(NULL, "none.txt", "zebra\nyak\n", 10);
    expect_fail(ARGS("-model", model, "-words", two, "-csv", csv), 2,
                "only 2 words to project; a map needs at least 3");
    expect_fail(ARGS("-model", model, "-words", none, "-csv", csv), 2,
                "none of the 2 listed words");
    expect_fail(ARGS("-model", model, "-top", "12", "-perplexity", "5",
                     "-csv", csv), 2,
                "-perplexity 5 is too large for 12 words: at most");
    expect_fail(ARGS("-model", model, "-top", "5", "-csv",
                     "/nonexistent-dir/out.csv"), 1,
                "/nonexistent-dir/out.csv");
    expect_fail(ARGS("-model", model, "-csv", csv), 2, "no words chosen");
    expect_fail(ARGS("-model", model, "-top", "5", "-words", two, "-csv",
                     csv), 2, "more than one word source");
    expect_fail(ARGS("-model", model, "-top", "5"), 2, "nothing to write");
    expect_fail(ARGS("-model", model, "-words", two, "-skip", "2", "-csv",
                     csv), 2, "-skip goes with -top");
    expect_fail(ARGS("-model", model, "-top", "5", "-k", "2", "-csv", csv),
                2, "-k goes with -around");
    expect_fail(ARGS("-model", model, "-top", "5", "-method", "umap",
                     "-csv", csv), 2, "-method \"umap\"");
    expect_fail(ARGS("-model", model, "-around", "unicorn", "-csv", csv), 2,
                "none of the 1 seed words");
    char *missing = tu_path(tu_scratch(), "missing.bin");
    expect_fail(ARGS("-model", missing, "-top", "5", "-csv", csv), 2,
                "missing.bin");
    cr_expect_not(tu_exists(csv), "no output after a failure");
    cr_expect_eq(tu_count_entries(tu_scratch(), ".tmp"), 0);
    free(missing);
    free(model);
    free(csv);
    free(two);
    free(none);
}

/* ---------------------------------------------------------------------- */
/* The neighbour search of t-SNE against a naive one                      */

Test(project, nearest_neighbours_match_a_naive_search)
{
    size_t n = 700, d = 12, k = 15, label[700];
    /* More rows than one BLAS block, so blocks and threads both split. */
    float *x = planted_clusters(n, d, 5, 2, 13, label);
    size_t *ids = malloc(n * k * sizeof *ids);
    double *d2 = malloc(n * k * sizeof *d2);
    cr_assert_eq(tsne_nearest(x, n, d, k, 2, ids, d2, NULL), W2V_OK);
    double *ref = malloc(n * sizeof *ref);
    size_t mismatched = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            double s = 0;
            for (size_t c = 0; c < d; c++) {
                double t = (double)x[i * d + c] - x[j * d + c];
                s += t * t;
            }
            ref[j] = j == i ? INFINITY : s;
        }
        for (size_t t = 0; t < k; t++) {
            size_t best = 0;
            for (size_t j = 1; j < n; j++)
                if (ref[j] < ref[best])
                    best = j;
            cr_expect_float_eq(d2[i * k + t], ref[best],
                               1e-4 * (1 + ref[best]), "row %zu rank %zu", i,
                               t);
            /* Ties and float rounding may swap near-equal neighbours. */
            mismatched += ids[i * k + t] != best;
            ref[best] = INFINITY;
        }
    }
    cr_expect_lt(mismatched, n * k / 100, "%zu of %zu ids differ",
                 mismatched, n * k);
    free(x);
    free(ids);
    free(d2);
    free(ref);
}
