/*
 * w2v/model.h - a trained model: a vocabulary and one vector per word, and
 * the word2vec file formats.
 *
 * File formats (both as written by the original word2vec.c, byte for byte):
 *
 *   header   "<words> <dim>\n" in decimal
 *   text     per word: "<word> " then for each value "%f " then "\n"
 *   binary   per word: "<word> " then dim IEEE-754 float32 values in
 *            little-endian byte order, then "\n"
 *
 * Rows are in vocabulary order, most frequent first. Words are written
 * whole, whatever their length or bytes. The loader detects text or binary
 * from the content, not the file name, and also reads the variants other
 * tools write (no space before the newline in text rows; no newline after a
 * binary row, as gensim writes). It is strict: a truncated file, a header
 * that disagrees with the rows, a short row, a value that is not a number, a
 * NaN or infinity, an empty or duplicated word are errors that give the file
 * and the byte offset (binary) or line (text).
 */
#ifndef W2V_MODEL_H
#define W2V_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "w2v/error.h"
#include "w2v/vocab.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct w2v_model w2v_model;

/* File formats for w2v_model_save. */
enum w2v_format {
    W2V_FORMAT_BINARY = 0,
    W2V_FORMAT_TEXT = 1
};

/*
 * Creates a model of dim-dimensional vectors for vocab's words, all zero.
 * The model takes ownership of vocab, also on failure.
 */
int w2v_model_new(w2v_vocab *vocab, size_t dim, w2v_model **out,
                  w2v_error *err);

/* Frees the model. NULL is a no-op. */
void w2v_model_free(w2v_model *m);

/* Number of words (rows). */
size_t w2v_model_size(const w2v_model *m);

/* Vector dimension (columns). */
size_t w2v_model_dim(const w2v_model *m);

/* The model's vocabulary, owned by the model. */
const w2v_vocab *w2v_model_vocab(const w2v_model *m);

/* Row id: dim floats, owned by the model; id must be < size. */
float *w2v_model_vector(w2v_model *m, size_t id);
const float *w2v_model_vector_const(const w2v_model *m, size_t id);

/*
 * Writes the model in the given format to a temporary file in the same
 * directory, then renames it to path: path is complete or untouched.
 */
int w2v_model_save(const w2v_model *m, const char *path, int format,
                   w2v_error *err);

/*
 * Reads a word2vec text or binary file. Counts are not stored in those
 * formats; the loaded vocabulary gives each word a count that decreases
 * with its row, so the file's order is kept.
 */
int w2v_model_load(const char *path, w2v_model **out, w2v_error *err);

#ifdef __cplusplus
}
#endif

#endif /* W2V_MODEL_H */
