/*
 * huffman.h - the binary Huffman tree of hierarchical softmax. Not API.
 *
 * For V words the tree has V - 1 inner nodes, numbered 0 .. V-2 (the root
 * is V-2); each inner node owns one output vector. A word's path is the
 * list of inner nodes from the root down and the branch bits taken at each
 * (1 = the heavier side, as in word2vec.c). Frequent words get short
 * codes, so the expected path length is minimal.
 */
#ifndef W2V_HUFFMAN_H
#define W2V_HUFFMAN_H

#include <stddef.h>
#include <stdint.h>

#include "w2v/error.h"

typedef struct w2v_huffman {
    size_t n;            /* words */
    size_t *start;       /* (n + 1) word i's path is [start[i], start[i+1]) */
    uint32_t *points;    /* (sum of lengths) inner node ids, root first */
    uint8_t *codes;      /* (sum of lengths) branch bits, root first */
} w2v_huffman;

/*
 * Builds the tree for counts sorted in descending order (a finalised
 * vocabulary). n == 1 gives one word with an empty path.
 */
int w2v_huffman_build(w2v_huffman *h, const uint64_t *counts, size_t n,
                      w2v_error *err);

void w2v_huffman_free(w2v_huffman *h);

#endif /* W2V_HUFFMAN_H */
