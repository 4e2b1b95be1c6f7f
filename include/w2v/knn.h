/*
 * w2v/knn.h - nearest neighbours by cosine similarity.
 *
 * The index keeps a unit-length copy of the model's first `restrict` rows
 * ((n, dim) floats, one aligned block) and answers a query with one BLAS
 * matrix-vector product over it, then a partial selection of the top k.
 * Queries are read-only and may run from many threads at once.
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
 * Builds an index over the model's first n_restrict rows (0 = all). The
 * model must outlive the index. Zero vectors stay zero (score 0).
 */
int w2v_knn_new(const w2v_model *m, size_t n_restrict, w2v_knn **out,
                w2v_error *err);

/* Frees the index. NULL is a no-op. */
void w2v_knn_free(w2v_knn *k);

/* Unit-length copy of row id (id < the index's size). */
const float *w2v_knn_unit(const w2v_knn *k, size_t id);

/* Rows in the index. */
size_t w2v_knn_size(const w2v_knn *k);

/*
 * The k most similar rows to query (dim floats, need not be unit length),
 * best first, skipping the ids in exclude[0, n_exclude). out has room for
 * k; *n_out receives how many were found (fewer when the index is small).
 */
int w2v_knn_query(const w2v_knn *k, const float *query, size_t kmax,
                  const size_t *exclude, size_t n_exclude, w2v_neighbor *out,
                  size_t *n_out, w2v_error *err);

/*
 * 3CosAdd analogy: the rows nearest to unit(a) - unit(b) + unit(c), i.e.
 * "a is to b as ? is to c" (king man woman -> queen), excluding a, b, c.
 */
int w2v_knn_analogy(const w2v_knn *k, size_t a, size_t b, size_t c,
                    size_t kmax, w2v_neighbor *out, size_t *n_out,
                    w2v_error *err);

#ifdef __cplusplus
}
#endif

#endif /* W2V_KNN_H */
