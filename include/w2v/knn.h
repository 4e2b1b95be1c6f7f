/*
 * w2v/knn.h - nearest neighbours by cosine similarity.
 *
 * The index covers the model's first `restrict` rows (the most frequent
 * words). It keeps the inverse length of each row, not a copy of the
 * matrix, so building it costs one pass over the rows; a query is one BLAS
 * matrix-vector product over the model's own (n, dim) matrix, scaled to
 * cosines, then a partial selection of the top k. Unit-length rows are
 * computed on first use (w2v_knn_unit).
 *
 * Queries, w2v_knn_unit included, may run from many threads at once.
 */
#ifndef W2V_KNN_H
#define W2V_KNN_H

#include <stddef.h>
#include <stdint.h>

#include "w2v/error.h"
#include "w2v/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct w2v_knn w2v_knn;

/* One answer: a row id and its cosine similarity to the query. */
typedef struct w2v_neighbor {
    size_t id;
    float score;
} w2v_neighbor;

/*
 * Builds an index over the model's first n_restrict rows (0 = all; more
 * than the model has = all). The index reads the model's matrix: the model
 * must outlive the index and its vectors must not change meanwhile. A zero
 * vector has cosine 0 with everything. W2V_ERR_EMPTY for a model without
 * rows; on failure *out is NULL.
 */
int w2v_knn_new(const w2v_model *m, size_t n_restrict, w2v_knn **out,
                w2v_error *err);

/* Frees the index. NULL is a no-op. */
void w2v_knn_free(w2v_knn *k);

/*
 * Unit-length copy of row id (id < the index's size; a zero row stays
 * zero): dim floats owned by the index, valid until w2v_knn_free. Computed
 * on the first call for that row, then kept.
 */
const float *w2v_knn_unit(const w2v_knn *k, size_t id);

/* Rows in the index. */
size_t w2v_knn_size(const w2v_knn *k);

/*
 * The kmax rows most similar to query (dim floats, need not be unit length)
 * by cosine, best first, equal scores by lower id, skipping the ids in
 * exclude[0, n_exclude) (exclude may be NULL when n_exclude is 0). out has
 * room for kmax; *n_out receives how many were found (fewer when the index
 * is small). A zero query scores 0 with every row.
 */
int w2v_knn_query(const w2v_knn *k, const float *query, size_t kmax,
                  const size_t *exclude, size_t n_exclude, w2v_neighbor *out,
                  size_t *n_out, w2v_error *err);

/*
 * 3CosAdd analogy: the rows nearest to unit(a) - unit(b) + unit(c), i.e.
 * "a is to b as ? is to c" (king man woman -> queen), excluding a, b, c.
 * The score of row x is cos(x, unit(a) - unit(b) + unit(c)). Results as for
 * w2v_knn_query; W2V_ERR_ARG when a, b or c is outside the index.
 */
int w2v_knn_analogy(const w2v_knn *k, size_t a, size_t b, size_t c,
                    size_t kmax, w2v_neighbor *out, size_t *n_out,
                    w2v_error *err);

/* The epsilon of 3CosMul (Levy and Goldberg 2014 use 0.001). */
#define W2V_KNN_MUL_EPSILON 0.001f

/*
 * 3CosMul analogy (Levy and Goldberg 2014) for the same question, "a is to
 * b as ? is to c": x should be like a and c and unlike b, as in 3CosAdd's
 * a - b + c, but the three similarities are multiplied instead of added, so
 * that no single large one dominates. With cosines shifted into [0, 1],
 * cos'(x, y) = (cos(x, y) + 1) / 2, row x scores
 *
 *   cos'(x, a) cos'(x, c) / (cos'(x, b) + W2V_KNN_MUL_EPSILON)
 *
 * in float, which is gensim's most_similar_cosmul(positive=[a, c],
 * negative=[b]) but for gensim's epsilon of 1e-6. Scores lie in
 * [0, 1 / W2V_KNN_MUL_EPSILON]. A zero row has cos' 1/2 with everything.
 * Three BLAS matrix-vector products give the cosines. a, b, c are excluded;
 * results and errors as for w2v_knn_analogy.
 */
int w2v_knn_analogy_mul(const w2v_knn *k, size_t a, size_t b, size_t c,
                        size_t kmax, w2v_neighbor *out, size_t *n_out,
                        w2v_error *err);

#ifdef __cplusplus
}
#endif

#endif /* W2V_KNN_H */
