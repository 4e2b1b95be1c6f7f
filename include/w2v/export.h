/*
 * w2v/export.h - a model as the embedding layer of a language model: the
 * matrix W_E as NumPy .npy and as safetensors, and the id -> token list.
 *
 * The embedding matrix has V + 2 rows of D float32 (V words, D the model's
 * dimension), row i = token id i as w2v/tokenizer.h numbers them:
 *
 *   rows 0 .. V-1  the model's vectors, unchanged
 *   row V          <|unk|>: the mean of the V word vectors, so an unknown
 *                  word starts from "an average word" rather than from a
 *                  point no word is near
 *   row V + 1      <|endoftext|>: zeros; a model that uses it learns it
 *
 * .npy, format version 1.0 (written; 1.0, 2.0 and 3.0 are read):
 *
 *   offset  size  field
 *        0     6  magic "\x93NUMPY"
 *        6     1  major version 1
 *        7     1  minor version 0
 *        8     2  u16 little-endian: header length H
 *       10     H  ASCII: {'descr': '<f4', 'fortran_order': False,
 *                 'shape': (R, C), } then spaces and one "\n", so that
 *                 10 + H is a multiple of 64 (versions 2.0 and 3.0 have a
 *                 u32 header length at 8 and the header at 12)
 *   10 + H        R * C float32, little-endian, row-major (C order)
 *
 * The reader takes what the writer writes and nothing else: descr '<f4',
 * fortran_order False and a 2-D shape, keys in any order, and exactly
 * R * C * 4 bytes after the header. Every value must be finite. Anything
 * else (float64, Fortran order, 1-D or 3-D, a short file) is an error
 * naming the file and the byte offset.
 *
 * safetensors:
 *
 *   offset  size  field
 *        0     8  u64 little-endian: header length N, a multiple of 8
 *        8     N  UTF-8 JSON: {"embedding.weight":{"dtype":"F32",
 *                 "shape":[R,C],"data_offsets":[0,R*C*4]},
 *                 "__metadata__":{...string: string...}} then spaces up to
 *                 the 8-byte boundary
 *    8 + N        the tensor data: R * C float32, little-endian, row-major
 *
 * data_offsets are relative to the start of the data. PyTorch's
 * safetensors.torch.load_file gives {"embedding.weight": tensor (R, C)},
 * ready for torch.nn.Embedding.from_pretrained. The reader parses the JSON
 * header strictly, finds the named tensor, and requires dtype F32, a 2-D
 * shape, offsets that match the shape and lie within the file, and finite
 * values.
 *
 * Every writer writes a temporary file in the target's directory and
 * renames it over the target when complete: the target is whole or
 * untouched. Big-endian hosts are refused (W2V_ERR_ARG) by writers and
 * readers alike.
 */
#ifndef W2V_EXPORT_H
#define W2V_EXPORT_H

#include <stddef.h>

#include "w2v/error.h"
#include "w2v/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The safetensors tensor name w2v-export uses. */
#define W2V_EXPORT_TENSOR "embedding.weight"

/*
 * The embedding matrix of m as described above: *out is malloc'ed,
 * (*rows, *cols) = (V + 2, D), free with free(). *out is NULL on failure.
 */
int w2v_export_embedding(const w2v_model *m, float **out, size_t *rows,
                         size_t *cols, w2v_error *err);

/*
 * Row id of the embedding matrix of m, without building the matrix: the
 * word's vector, the mean vector (<|unk|>) or zeros (<|endoftext|>), into
 * out (D). W2V_ERR_ARG for an id >= V + 2.
 */
int w2v_export_token_vector(const w2v_model *m, size_t id, float *out,
                            w2v_error *err);

/*
 * Writes data (rows, cols), rows, cols >= 1, as a .npy version 1.0 file.
 */
int w2v_export_npy_write(const char *path, const float *data, size_t rows,
                         size_t cols, w2v_error *err);

/*
 * Reads a 2-D float32 .npy file: *data malloc'ed (rows, cols), free with
 * free(). W2V_ERR_IO when it cannot be read, W2V_ERR_FORMAT (with the
 * byte offset) when it is not such a file. *data is NULL on failure.
 */
int w2v_export_npy_read(const char *path, float **data, size_t *rows,
                        size_t *cols, w2v_error *err);

/*
 * Writes data (rows, cols) as a safetensors file holding one F32 tensor
 * called name, with the metadata pairs meta[0], meta[1], meta[2], ...
 * (n_meta pairs, 2 * n_meta strings; n_meta 0 writes no __metadata__).
 * Names and metadata are written as JSON strings, escaped as needed.
 */
int w2v_export_safetensors_write(const char *path, const char *name,
                                 const float *data, size_t rows, size_t cols,
                                 const char *const *meta, size_t n_meta,
                                 w2v_error *err);

/*
 * Reads tensor name from a safetensors file; it must be a 2-D F32 tensor.
 * *data malloc'ed (rows, cols), free with free(); NULL on failure.
 * W2V_ERR_NOTFOUND when the file is valid but has no such tensor.
 */
int w2v_export_safetensors_read(const char *path, const char *name,
                                float **data, size_t *rows, size_t *cols,
                                w2v_error *err);

/*
 * Writes the id -> token list: line i holds the token of id i, words of
 * the vocabulary then <|unk|> and <|endoftext|>, V + 2 lines.
 */
int w2v_export_vocab_write(const w2v_model *m, const char *path,
                           w2v_error *err);

#ifdef __cplusplus
}
#endif

#endif /* W2V_EXPORT_H */
