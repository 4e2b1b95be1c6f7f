/*
 * test_knn.c - cosine nearest neighbours: known answers on a hand-made
 * model, exclusions, restriction, analogies, and the BLAS path against a
 * naive loop over every row.
 */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "w2v/knn.h"
#include "w2v/model.h"
#include "w2v/vocab.h"

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */

/* A model of the given words, in that row order, with values (n, dim). */
static w2v_model *make_model(const char *const *words, size_t n, size_t dim,
                             const float *values)
{
    w2v_vocab *v = NULL;
    cr_assert_eq(w2v_vocab_new(&v, NULL), W2V_OK);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(w2v_vocab_add(v, words[i], strlen(words[i]), n - i,
                                   NULL, NULL), W2V_OK);
    cr_assert_eq(w2v_vocab_finalize(v, 0, 0, NULL), W2V_OK);
    w2v_model *m = NULL;
    cr_assert_eq(w2v_model_new(v, dim, &m, NULL), W2V_OK);
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(w2v_vocab_word(w2v_model_vocab(m), i), words[i]);
        memcpy(w2v_model_vector(m, i), values + i * dim, dim * sizeof(float));
    }
    return m;
}

static w2v_knn *index_of(const w2v_model *m, size_t n_restrict)
{
    w2v_knn *k = NULL;
    w2v_error err = {0};
    cr_assert_eq(w2v_knn_new(m, n_restrict, &k, &err), W2V_OK, "%s",
                 err.message);
    cr_assert_not_null(k);
    return k;
}

/* The reference: cosine of x and y in double precision (0 for a zero). */
static double cosine(const float *x, const float *y, size_t dim)
{
    double xy = 0, xx = 0, yy = 0;
    for (size_t j = 0; j < dim; j++) {
        xy += (double)x[j] * y[j];
        xx += (double)x[j] * x[j];
        yy += (double)y[j] * y[j];
    }
    return xx > 0 && yy > 0 ? xy / sqrt(xx * yy) : 0;
}

/* ---------------------------------------------------------------------- */
/* A compass of 2-d vectors                                                */

enum { EAST, FAR_EAST, ENE, NE, NORTH, ZERO, WEST, N_COMPASS };

static const char *const compass_words[N_COMPASS] = {
    "east", "far-east", "ene", "ne", "north", "zero", "west",
};

static const float compass_values[N_COMPASS * 2] = {
    1, 0,   /* east */
    10, 0,  /* far-east: same direction, longer */
    2, 1,   /* ene: cos to east 2 / sqrt(5) */
    1, 1,   /* ne: cos to east 1 / sqrt(2) */
    0, 1,   /* north: cos 0 */
    0, 0,   /* zero: score 0 by definition */
    -1, 0,  /* west: cos -1 */
};

static w2v_model *compass(void)
{
    return make_model(compass_words, N_COMPASS, 2, compass_values);
}

/* Expects out[0, n) to be exactly the ids with the scores given. */
static void expect_neighbours(const w2v_neighbor *out, size_t n,
                              const size_t *ids, const double *scores,
                              size_t want)
{
    cr_assert_eq(n, want, "%zu neighbours, expected %zu", n, want);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(out[i].id, ids[i], "rank %zu: id %zu (%s), expected "
                     "%zu (%s)", i, out[i].id, compass_words[out[i].id],
                     ids[i], compass_words[ids[i]]);
        cr_assert_leq(fabs(out[i].score - scores[i]), 1e-6, "rank %zu: "
                      "score %.7f, expected %.7f", i, (double)out[i].score,
                      scores[i]);
    }
}

Test(knn, known_neighbours_in_order)
{
    w2v_model *m = compass();
    w2v_knn *k = index_of(m, 0);
    cr_assert_eq(w2v_knn_size(k), N_COMPASS);
    w2v_neighbor out[N_COMPASS];
    size_t n = 99;
    size_t ex = EAST;
    w2v_error err = {0};
    cr_assert_eq(w2v_knn_query(k, w2v_knn_unit(k, EAST), 10, &ex, 1, out, &n,
                               &err), W2V_OK, "%s", err.message);
    /* north and zero tie at 0: the lower id first. */
    const size_t ids[] = {FAR_EAST, ENE, NE, NORTH, ZERO, WEST};
    const double scores[] = {1, 2 / sqrt(5), 1 / sqrt(2), 0, 0, -1};
    expect_neighbours(out, n, ids, scores, 6);

    /* The query need not be unit length. */
    const float q[2] = {3.5f, 0};
    cr_assert_eq(w2v_knn_query(k, q, 10, &ex, 1, out, &n, NULL), W2V_OK);
    expect_neighbours(out, n, ids, scores, 6);

    /* Top 3 only. */
    cr_assert_eq(w2v_knn_query(k, q, 3, &ex, 1, out, &n, NULL), W2V_OK);
    expect_neighbours(out, n, ids, scores, 3);

    /* Without exclusions the query's own row comes first (a tie with
     * far-east at 1; the lower id wins). */
    cr_assert_eq(w2v_knn_query(k, q, 2, NULL, 0, out, &n, NULL), W2V_OK);
    const size_t self[] = {EAST, FAR_EAST};
    const double one[] = {1, 1};
    expect_neighbours(out, n, self, one, 2);

    /* kmax 0 finds nothing and succeeds. */
    n = 99;
    cr_assert_eq(w2v_knn_query(k, q, 0, NULL, 0, out, &n, NULL), W2V_OK);
    cr_assert_eq(n, 0);
    w2v_knn_free(k);
    w2v_knn_free(NULL);
    w2v_model_free(m);
}

Test(knn, ties_keep_the_lowest_ids)
{
    /*
     * Rows 0-5 share one direction (they tie), row 6 is the best match and
     * comes last, row 7 is orthogonal. Every top k must be the first k of
     * the full ranking 6, 0, 1, 2, 3, 4, 5, 7: among ties, lower ids first.
     */
    const char *const words[] = {"a", "b", "c", "d", "e", "f", "best",
                                 "other"};
    float values[8 * 2];
    for (size_t i = 0; i < 12; i++)
        values[i] = 2.0f; /* equal rows, so equal scores to the last bit */
    values[12] = 1.0f;
    values[13] = 0.0f;
    values[14] = 0.0f;
    values[15] = 1.0f;
    w2v_model *m = make_model(words, 8, 2, values);
    w2v_knn *k = index_of(m, 0);
    const float q[2] = {1, 0.25f};
    const size_t ranking[] = {6, 0, 1, 2, 3, 4, 5, 7};
    w2v_neighbor out[8];
    size_t n;
    for (size_t kmax = 1; kmax <= 8; kmax++) {
        cr_assert_eq(w2v_knn_query(k, q, kmax, NULL, 0, out, &n, NULL),
                     W2V_OK);
        cr_assert_eq(n, kmax);
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(out[i].id, ranking[i], "k %zu rank %zu: id %zu, "
                         "expected %zu", kmax, i, out[i].id, ranking[i]);
    }
    w2v_knn_free(k);
    w2v_model_free(m);
}

Test(knn, unit_rows)
{
    w2v_model *m = compass();
    w2v_knn *k = index_of(m, 0);
    for (size_t i = 0; i < N_COMPASS; i++) {
        const float *u = w2v_knn_unit(k, i);
        double len = sqrt((double)u[0] * u[0] + (double)u[1] * u[1]);
        if (i == ZERO) {
            cr_assert_eq(u[0], 0.0f);
            cr_assert_eq(u[1], 0.0f);
        } else {
            cr_assert_leq(fabs(len - 1), 1e-6, "row %zu has length %g", i,
                          len);
        }
    }
    const float *u = w2v_knn_unit(k, NE);
    cr_assert_leq(fabs(u[0] - 1 / sqrt(2)), 1e-6);
    /* The model itself is left as it was. */
    cr_assert_eq(w2v_model_vector_const(m, FAR_EAST)[0], 10.0f);
    w2v_knn_free(k);
    w2v_model_free(m);
}

Test(knn, exclusions)
{
    w2v_model *m = compass();
    w2v_knn *k = index_of(m, 0);
    const size_t ex[] = {EAST, FAR_EAST, NORTH, EAST};
    w2v_neighbor out[N_COMPASS];
    size_t n;
    cr_assert_eq(w2v_knn_query(k, w2v_knn_unit(k, EAST), N_COMPASS, ex, 4,
                               out, &n, NULL), W2V_OK);
    const size_t ids[] = {ENE, NE, ZERO, WEST};
    const double scores[] = {2 / sqrt(5), 1 / sqrt(2), 0, -1};
    expect_neighbours(out, n, ids, scores, 4);

    /* Excluding every row leaves nothing. */
    const size_t all[] = {0, 1, 2, 3, 4, 5, 6};
    cr_assert_eq(w2v_knn_query(k, w2v_knn_unit(k, EAST), 3, all, N_COMPASS,
                               out, &n, NULL), W2V_OK);
    cr_assert_eq(n, 0);
    w2v_knn_free(k);
    w2v_model_free(m);
}

Test(knn, restrict_to_the_first_rows)
{
    w2v_model *m = compass();
    w2v_knn *k = index_of(m, 4);
    cr_assert_eq(w2v_knn_size(k), 4);
    w2v_neighbor out[N_COMPASS];
    size_t n;
    const float west[2] = {-1, 0};
    cr_assert_eq(w2v_knn_query(k, west, N_COMPASS, NULL, 0, out, &n, NULL),
                 W2V_OK);
    cr_assert_eq(n, 4);
    for (size_t i = 0; i < n; i++)
        cr_assert_lt(out[i].id, 4);
    /* Best for west among east, far-east, ene, ne is ne. */
    cr_assert_eq(out[0].id, NE);
    cr_assert_leq(fabs(out[0].score + 1 / sqrt(2)), 1e-6);
    w2v_knn_free(k);

    /* A restriction beyond the model's size is the whole model. */
    k = index_of(m, 1000);
    cr_assert_eq(w2v_knn_size(k), N_COMPASS);
    w2v_knn_free(k);
    w2v_model_free(m);
}

Test(knn, empty_model)
{
    w2v_vocab *v = NULL;
    cr_assert_eq(w2v_vocab_new(&v, NULL), W2V_OK);
    w2v_model *m = NULL;
    cr_assert_eq(w2v_model_new(v, 3, &m, NULL), W2V_OK);
    w2v_knn *k = (w2v_knn *)1;
    w2v_error err = {0};
    cr_assert_eq(w2v_knn_new(m, 0, &k, &err), W2V_ERR_EMPTY);
    cr_assert_null(k);
    cr_assert_neq(err.message[0], '\0');
    w2v_model_free(m);
}

/* ---------------------------------------------------------------------- */
/* Analogies                                                               */

enum { KING, MAN, WOMAN, QUEEN, PRINCE, APPLE, BOY, N_ROYAL };

static const char *const royal_words[N_ROYAL] = {
    "king", "man", "woman", "queen", "prince", "apple", "boy",
};

/* Axes: royalty, gender (+ male), fruitiness. */
static const float royal_values[N_ROYAL * 3] = {
    1.0f, 1.0f, 0.1f,   /* king */
    0.0f, 1.0f, 0.1f,   /* man */
    0.0f, -1.0f, 0.1f,  /* woman */
    1.0f, -1.0f, 0.1f,  /* queen */
    0.8f, 0.9f, 0.3f,   /* prince */
    0.0f, 0.0f, 1.0f,   /* apple */
    0.1f, 0.8f, 0.2f,   /* boy */
};

Test(knn, analogy_king_man_woman_queen)
{
    w2v_model *m = make_model(royal_words, N_ROYAL, 3, royal_values);
    w2v_knn *k = index_of(m, 0);
    w2v_neighbor out[N_ROYAL];
    size_t n;
    w2v_error err = {0};
    cr_assert_eq(w2v_knn_analogy(k, KING, MAN, WOMAN, N_ROYAL, out, &n,
                                 &err), W2V_OK, "%s", err.message);
    /* Every row but the three words of the question. */
    cr_assert_eq(n, N_ROYAL - 3);
    cr_assert_eq(out[0].id, QUEEN, "got %s", royal_words[out[0].id]);
    /* The score is the cosine with unit(king) - unit(man) + unit(woman). */
    float q[3];
    for (size_t j = 0; j < 3; j++)
        q[j] = w2v_knn_unit(k, KING)[j] - w2v_knn_unit(k, MAN)[j] +
               w2v_knn_unit(k, WOMAN)[j];
    for (size_t i = 0; i < n; i++) {
        cr_assert(out[i].id != KING && out[i].id != MAN &&
                  out[i].id != WOMAN, "a word of the question came back");
        double want = cosine(q, royal_values + out[i].id * 3, 3);
        cr_assert_leq(fabs(out[i].score - want), 1e-6, "%s: %.7f vs %.7f",
                      royal_words[out[i].id], (double)out[i].score, want);
        if (i > 0)
            cr_assert_geq(out[i - 1].score, out[i].score);
    }
    cr_assert_gt(out[0].score, 0.9);

    /* The reverse question: queen is to woman as ? is to man -> king. */
    cr_assert_eq(w2v_knn_analogy(k, QUEEN, WOMAN, MAN, 1, out, &n, NULL),
                 W2V_OK);
    cr_assert_eq(n, 1);
    cr_assert_eq(out[0].id, KING);

    /* Ids outside the index are an argument error. */
    cr_assert_eq(w2v_knn_analogy(k, KING, N_ROYAL, WOMAN, 1, out, &n, &err),
                 W2V_ERR_ARG);
    cr_assert_eq(n, 0);
    w2v_knn_free(k);

    /* With the index restricted to 3 rows, queen is outside it. */
    k = index_of(m, 3);
    cr_assert_eq(w2v_knn_analogy(k, KING, MAN, QUEEN, 1, out, &n, NULL),
                 W2V_ERR_ARG);
    w2v_knn_free(k);
    w2v_model_free(m);
}

/* ---------------------------------------------------------------------- */
/* BLAS against a naive loop                                               */

static w2v_model *random_model(size_t n, size_t dim, uint64_t seed)
{
    char **words = calloc(n, sizeof *words);
    float *values = calloc(n * dim, sizeof *values);
    cr_assert(words != NULL && values != NULL);
    w2v_rng r;
    w2v_rng_seed(&r, seed, 0);
    for (size_t i = 0; i < n; i++) {
        words[i] = malloc(32);
        snprintf(words[i], 32, "r%zu", i);
    }
    for (size_t k = 0; k < n * dim; k++)
        values[k] = 2 * w2v_rng_float(&r) - 1;
    w2v_model *m = make_model((const char *const *)words, n, dim, values);
    for (size_t i = 0; i < n; i++)
        free(words[i]);
    free(words);
    free(values);
    return m;
}

typedef struct scored {
    size_t id;
    double score;
} scored;

static int by_score(const void *pa, const void *pb)
{
    const scored *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

/*
 * The naive answer: the cosine of query with every row but `skip`, sorted;
 * fills best[0, k).
 */
static void naive_top(const w2v_model *m, const float *query, size_t skip,
                      size_t k, scored *best)
{
    size_t n = w2v_model_size(m), dim = w2v_model_dim(m), c = 0;
    scored *all = malloc(n * sizeof *all);
    cr_assert_not_null(all);
    for (size_t i = 0; i < n; i++) {
        if (i == skip)
            continue;
        all[c].id = i;
        all[c].score = cosine(query, w2v_model_vector_const(m, i), dim);
        c++;
    }
    qsort(all, c, sizeof *all, by_score);
    memcpy(best, all, k * sizeof *best);
    free(all);
}

static void compare_with_naive(const w2v_model *m, const w2v_knn *k,
                               const float *query, size_t skip)
{
    enum { TOP = 10 };
    scored want[TOP];
    naive_top(m, query, skip, TOP, want);
    w2v_neighbor got[TOP];
    size_t n;
    cr_assert_eq(w2v_knn_query(k, query, TOP, &skip, 1, got, &n, NULL),
                 W2V_OK);
    cr_assert_eq(n, TOP);
    for (size_t i = 0; i < TOP; i++) {
        cr_assert_eq(got[i].id, want[i].id, "rank %zu: id %zu, naive %zu",
                     i, got[i].id, want[i].id);
        cr_assert_leq(fabs(got[i].score - want[i].score), 1e-5, "rank %zu: "
                      "%.7f vs %.7f", i, (double)got[i].score,
                      want[i].score);
    }
}

Test(knn, blas_matches_a_naive_loop)
{
    const size_t n = 1000, dim = 50;
    w2v_model *m = random_model(n, dim, 77);
    w2v_knn *k = index_of(m, 0);
    /* Rows of the model as queries (excluding themselves)... */
    for (size_t q = 0; q < n; q += 37)
        compare_with_naive(m, k, w2v_model_vector_const(m, q), q);
    /* ...and vectors that are not rows, of any length. */
    w2v_rng r;
    w2v_rng_seed(&r, 78, 0);
    float query[50];
    for (int t = 0; t < 20; t++) {
        float scale = t % 2 ? 1000.0f : 0.001f;
        for (size_t j = 0; j < dim; j++)
            query[j] = (2 * w2v_rng_float(&r) - 1) * scale;
        compare_with_naive(m, k, query, n);
    }
    w2v_knn_free(k);
    w2v_model_free(m);
}

/* Queries from several threads at once give the single-thread answers. */
enum { CONC_K = 5, CONC_THREADS = 4 };

typedef struct job {
    const w2v_knn *k;
    const w2v_model *m;
    const w2v_neighbor *want; /* (rows, CONC_K) answers from one thread */
    size_t first;
    int mismatches;
} job;

static void *query_many(void *arg)
{
    job *j = arg;
    w2v_neighbor got[CONC_K];
    for (int round = 0; round < 3; round++) {
        for (size_t q = j->first; q < w2v_model_size(j->m);
             q += CONC_THREADS) {
            size_t n;
            const float *v = w2v_model_vector_const(j->m, q);
            if (w2v_knn_query(j->k, v, CONC_K, &q, 1, got, &n, NULL) !=
                    W2V_OK || n != CONC_K) {
                j->mismatches++;
                continue;
            }
            /* Field by field: the struct's padding is not part of it. */
            const w2v_neighbor *want = j->want + q * CONC_K;
            for (size_t i = 0; i < CONC_K; i++)
                if (got[i].id != want[i].id || got[i].score != want[i].score)
                    j->mismatches++;
        }
    }
    return NULL;
}

Test(knn, concurrent_queries)
{
    const size_t rows = 400;
    w2v_model *m = random_model(rows, 32, 5);
    w2v_knn *k = index_of(m, 0);
    w2v_neighbor *want = calloc(rows * CONC_K, sizeof *want);
    cr_assert_not_null(want);
    for (size_t q = 0; q < rows; q++) {
        size_t n;
        cr_assert_eq(w2v_knn_query(k, w2v_model_vector_const(m, q), CONC_K,
                                   &q, 1, want + q * CONC_K, &n, NULL),
                     W2V_OK);
        cr_assert_eq(n, CONC_K);
    }
    pthread_t tid[CONC_THREADS];
    job jobs[CONC_THREADS];
    for (size_t t = 0; t < CONC_THREADS; t++) {
        jobs[t] = (job){k, m, want, t, 0};
        cr_assert_eq(pthread_create(&tid[t], NULL, query_many, &jobs[t]), 0);
    }
    for (size_t t = 0; t < CONC_THREADS; t++)
        pthread_join(tid[t], NULL);
    for (size_t t = 0; t < CONC_THREADS; t++)
        cr_assert_eq(jobs[t].mismatches, 0, "thread %zu: %d answers differ",
                     t, jobs[t].mismatches);
    /* And they agree with the naive loop. */
    compare_with_naive(m, k, w2v_model_vector_const(m, 3), 3);
    free(want);
    w2v_knn_free(k);
    w2v_model_free(m);
}
