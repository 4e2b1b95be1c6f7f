/*
 * planted.h - a synthetic corpus with planted analogies, for the training
 * and tool tests (test_train.c, test_tools.c).
 *
 * Eight "person" words differ along three independent binary attributes:
 * royalty (king/queen/prince/princess vs man/woman/boy/girl), gender and
 * age. Every sentence holds one person word and, next to it, one word from
 * the context pool of each of its three attributes, plus filler words. A
 * model that learns from co-occurrence therefore places the persons at the
 * corners of a cube, and offsets such as king - man + woman land on queen.
 */
#ifndef W2V_TEST_PLANTED_H
#define W2V_TEST_PLANTED_H

#include <stddef.h>
#include <stdint.h>

/* "a is to b as expect is to c": expect = nearest(a - b + c). */
typedef struct planted_analogy {
    const char *a, *b, *c, *expect;
} planted_analogy;

/* Analogies the corpus plants, one per attribute and then some. */
extern const planted_analogy planted_analogies[];
extern const size_t planted_n_analogies;

/*
 * Generates n_sentences sentences from seed (same seed, same text). Returns
 * a malloc'ed buffer of *len bytes (not NUL-terminated) or NULL when out of
 * memory; *words receives the number of words in it.
 */
char *planted_text(size_t n_sentences, uint64_t seed, size_t *len,
                   uint64_t *words);

/* Writes planted_text(n_sentences, seed) to path; 0 on success. */
int planted_write(const char *path, size_t n_sentences, uint64_t seed,
                  uint64_t *words);

#endif /* W2V_TEST_PLANTED_H */
