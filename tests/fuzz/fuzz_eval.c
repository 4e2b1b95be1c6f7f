/*
 * fuzz_eval.c - the evaluation-file parsers: the same bytes as analogy
 * questions and as a word-similarity set, then scored on a tiny model so
 * that what parses is also used.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <string.h>

#include "w2v/w2v.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A three-word model: "a", "b", "c" with small distinct vectors. */
static w2v_model *tiny_model(void)
{
    w2v_error err;
    w2v_error_clear(&err);
    w2v_vocab *v;
    w2v_model *m;
    if (w2v_vocab_new(&v, &err) != W2V_OK)
        return NULL;
    const char *words[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++)
        w2v_vocab_add(v, words[i], 1, (uint64_t)(10 - i), NULL, &err);
    if (w2v_model_new(v, 2, &m, &err) != W2V_OK)
        return NULL;
    for (size_t i = 0; i < 4; i++) {
        float *row = w2v_model_vector(m, i);
        row[0] = (float)i + 1;
        row[1] = (float)(i % 2) - 0.5f;
    }
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    w2v_error err;
    w2v_error_clear(&err);
    w2v_model *m = tiny_model();
    w2v_analogy_set *as;
    if (w2v_analogy_set_parse(text, size, "fuzz", &as, &err) == W2V_OK) {
        w2v_analogy_options o = w2v_analogy_options_default();
        w2v_analogy_result *r;
        if (m != NULL && w2v_eval_analogies(m, as, &o, &r, &err) == W2V_OK)
            w2v_analogy_result_free(r);
        w2v_analogy_set_free(as);
    }
    w2v_pair_set *ps;
    if (w2v_pair_set_parse(text, size, "fuzz", &ps, &err) == W2V_OK) {
        w2v_similarity_options o = w2v_similarity_options_default();
        w2v_similarity_result *r;
        if (m != NULL && w2v_eval_similarity(m, ps, &o, &r, &err) == W2V_OK)
            w2v_similarity_result_free(r);
        w2v_pair_set_free(ps);
    }
    w2v_model_free(m);
    return 0;
}
