/*
 * query.h - what w2v-nearest and w2v-analogy share: finding and loading
 * the model, looking words up, reading queries from standard input.
 */
#ifndef W2V_QUERY_H
#define W2V_QUERY_H

#include <stddef.h>

#include "w2v/w2v.h"

/* A loaded model and its cosine index. */
typedef struct query_model {
    w2v_model *model;
    w2v_knn *knn;
    const char *path;
} query_model;

/*
 * The model path: -model if given, else $W2V_MODEL, else ./vectors.bin.
 * Loads it and indexes the first n_restrict words (0 = all). Prints an
 * error naming prog and returns nonzero on failure.
 */
int query_open(const char *prog, const char *path, size_t n_restrict,
               query_model *q);
void query_close(query_model *q);

/*
 * The id of word in the index: exact match first, then its lowercase
 * form. Prints "prog: unknown word" to stderr and returns -1 when absent.
 */
long query_lookup(const char *prog, const query_model *q, const char *word);

/*
 * Calls fn for each line of standard input (split into words), with a
 * prompt when standard input is a terminal. Returns the worst status fn
 * returned.
 */
int query_stdin(const char *prompt, int (*fn)(char **words, int n,
                                              void *user),
                void *user);

#endif /* W2V_QUERY_H */
