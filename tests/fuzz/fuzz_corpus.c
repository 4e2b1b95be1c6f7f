/*
 * fuzz_corpus.c - the corpus reader (plain and gzip, told apart by
 * content) and the tokeniser: every block of the input, twice (a rewind in
 * between), then a vocabulary built from it.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdlib.h>

#include "fuzz_file.h"
#include "w2v/w2v.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_all(w2v_corpus *c, char *buf, size_t cap)
{
    size_t len;
    w2v_error err;
    w2v_error_clear(&err);
    while (w2v_corpus_read(c, buf, cap, &len, &err) == W2V_OK && len > 0) {
        w2v_tokens t;
        const char *word;
        size_t wlen;
        w2v_tokens_init(&t, buf, len);
        while (w2v_tokens_next(&t, &word, &wlen) != W2V_TOKEN_END)
            ;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    w2v_error err;
    w2v_error_clear(&err);
    w2v_corpus *c;
    if (w2v_corpus_open(path, &c, &err) != W2V_OK)
        return 0;
    size_t cap = W2V_CORPUS_MIN_BLOCK;
    char *buf = malloc(cap);
    if (buf != NULL) {
        read_all(c, buf, cap);
        if (w2v_corpus_rewind(c, &err) == W2V_OK)
            read_all(c, buf, cap);
        w2v_vocab_options vo = w2v_vocab_options_default();
        vo.min_count = 1;
        w2v_vocab *v;
        if (w2v_vocab_build(c, &vo, &v, &err) == W2V_OK)
            w2v_vocab_free(v);
    }
    free(buf);
    w2v_corpus_close(c);
    return 0;
}
