/*
 * fuzz_vocab.c - the vocabulary reader ("word count" lines), with and
 * without a min-count and a size limit.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>

#include "fuzz_file.h"
#include "w2v/w2v.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    w2v_error err;
    w2v_error_clear(&err);
    w2v_vocab *v;
    if (w2v_vocab_load(path, 1, 0, &v, &err) == W2V_OK)
        w2v_vocab_free(v);
    if (w2v_vocab_load(path, 3, 2, &v, &err) == W2V_OK)
        w2v_vocab_free(v);
    return 0;
}
