/*
 * w2v/model.h - a trained model: a vocabulary and one vector per word, and
 * its file formats: the two of the original word2vec.c and w2v's own
 * native format, which is used in place through mmap.
 *
 * word2vec formats (as written by the original word2vec.c, byte for byte):
 *
 *   header   "<words> <dim>\n" in decimal
 *   text     per word: "<word> " then for each value "%f " then "\n"
 *   binary   per word: "<word> " then dim IEEE-754 float32 values in
 *            little-endian byte order, then "\n"
 *
 * Rows are in vocabulary order, most frequent first. Words are written
 * whole, whatever their length or bytes. The loader detects the format
 * from the content, not the file name, and also reads the variants other
 * tools write (no space before the newline in text rows; no newline after a
 * binary row, as gensim writes). It is strict: a truncated file, a header
 * that disagrees with the rows, a short row, a value that is not a number, a
 * NaN or infinity, an empty or duplicated word are errors that give the file
 * and the byte offset (binary) or line (text).
 *
 * Native format, version 1. Little-endian only: every integer and float is
 * little-endian, and a big-endian host refuses to write or read the format
 * (the word2vec formats work everywhere). Offsets are from the start of the
 * file. The matrix sits at a multiple of 64 bytes, so a mapped file is used
 * in place, without a copy or a parse: loading maps the file and checks it.
 *
 *   offset  size  field
 *   ------  ----  ---------------------------------------------------------
 *        0     8  magic: 89 57 32 56 0d 0a 1a 0a ("\x89W2V\r\n\x1a\n";
 *                 the high first byte and the line ends catch transfers
 *                 in text mode, as PNG's signature does)
 *        8     4  u32 version: 1 (W2V_NATIVE_VERSION)
 *       12     4  u32 flags: 0 (no flag is defined in version 1; any set
 *                 bit is an error)
 *       16     8  u64 words: n >= 1, the rows
 *       24     8  u64 dim >= 1, the columns
 *       32     8  u64 matrix offset: a multiple of 64, >= 88
 *       40     8  u64 matrix bytes: n * dim * 4
 *       48     8  u64 vocabulary offset: a multiple of 8
 *       56     8  u64 vocabulary bytes
 *       64     8  u64 file bytes: the size of the whole file
 *       72     8  u64 matrix sum: the matrix read as m = n * dim u32 words
 *                 x[0, m), sum of x[i] * (i + 1) modulo 2^64 (a check that
 *                 costs nothing beyond the pass that looks for NaN)
 *       80     4  u32 checksum: CRC-32 (zlib's crc32) of the 88 header
 *                 bytes with these four taken as zero, continued over the
 *                 vocabulary section
 *       84     4  u32 reserved: 0
 *       88        zero padding up to the matrix offset
 *   matrix        n rows of dim float32, row i = word i: (n, dim)
 *   vocabulary    n u64 counts, in row order; then per row a u32 length
 *                 len >= 1 and the word's len bytes (no NUL, no padding)
 *
 * w2v writes the matrix at 128 and the vocabulary at the first multiple of
 * 8 after the matrix; a reader takes the offsets from the header. The
 * sections may not overlap each other or the header and must lie within the
 * file; file bytes must be the file's size. The loader checks all of that,
 * the version, the flags, the checksum, every word (non-empty, no
 * whitespace or NUL, no duplicate), the matrix sum, and that no value is
 * NaN or infinite, and reports the byte offset of the first problem. A
 * native file keeps the words' counts; the word2vec formats do not.
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
    W2V_FORMAT_BINARY = 0, /* word2vec binary */
    W2V_FORMAT_TEXT = 1,   /* word2vec text */
    W2V_FORMAT_NATIVE = 2  /* w2v's own, memory-mappable (see above) */
};

/* The native format's magic bytes, version and sizes (see above). */
#define W2V_NATIVE_MAGIC "\x89W2V\r\n\x1a\n"
#define W2V_NATIVE_VERSION 1
#define W2V_NATIVE_HEADER_BYTES 88
#define W2V_NATIVE_ALIGN 64

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

/*
 * Row id: dim floats, owned by the model; id must be < size. The rows of a
 * loaded native model live in a private mapping of the file: writing to
 * them changes the model, never the file.
 */
float *w2v_model_vector(w2v_model *m, size_t id);
const float *w2v_model_vector_const(const w2v_model *m, size_t id);

/*
 * Writes the model in the given format (enum w2v_format) to a temporary
 * file in the same directory, then renames it to path: path is complete or
 * untouched. W2V_ERR_ARG for the native format on a big-endian host.
 */
int w2v_model_save(const w2v_model *m, const char *path, int format,
                   w2v_error *err);

/*
 * The same for a matrix that is not a model: rows[i * dim, (i + 1) * dim)
 * is the vector of word i of vocab, for every word. Nothing is copied, so a
 * trainer's matrix can be written without holding it twice.
 */
int w2v_model_save_matrix(const w2v_vocab *vocab, const float *rows,
                          size_t dim, const char *path, int format,
                          w2v_error *err);

/*
 * Reads a model in any of the three formats, told apart by the content:
 * the native magic, else word2vec text or binary. Counts are not stored in
 * the word2vec formats; the loaded vocabulary then gives each word a count
 * that decreases with its row, so the file's order is kept. A native file
 * is mapped, not read: its pages come from the page cache.
 */
int w2v_model_load(const char *path, w2v_model **out, w2v_error *err);

/* w2v_model_load that also tells which format the file was in. */
int w2v_model_load_format(const char *path, w2v_model **out, int *format,
                          w2v_error *err);

/* "binary", "text" or "native"; "unknown" for anything else. */
const char *w2v_format_name(int format);

#ifdef __cplusplus
}
#endif

#endif /* W2V_MODEL_H */
