/*
 * fuzz_model.c - the model loaders: word2vec text, word2vec binary and the
 * native format, picked by content as w2v_model_load_format does. A model
 * that loads is read end to end (every vector, every word).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <string.h>

#include "fuzz_file.h"
#include "w2v/w2v.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    w2v_error err;
    w2v_error_clear(&err);
    w2v_model *m;
    int format;
    if (w2v_model_load_format(path, &m, &format, &err) != W2V_OK)
        return 0;
    const w2v_vocab *v = w2v_model_vocab(m);
    volatile float sum = 0;
    volatile size_t bytes = 0;
    for (size_t i = 0; i < w2v_model_size(m); i++) {
        const float *row = w2v_model_vector_const(m, i);
        for (size_t d = 0; d < w2v_model_dim(m); d++)
            sum += row[d];
        bytes += strlen(w2v_vocab_word(v, i));
    }
    (void)sum; /* volatile: the reads above are not optimised away */
    (void)bytes;
    w2v_model_free(m);
    return 0;
}
