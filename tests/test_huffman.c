/*
 * test_huffman.c - the Huffman tree of hierarchical softmax: prefix-free
 * codes of optimal total length, a consistent tree with the root first on
 * every path, the word2vec.c bit convention and the edge cases.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "huffman.h"
#include "rng.h"

/* ---------------------------------------------------------------------- */
/* Reference                                                               */

/*
 * The weighted path length sum c_i * len_i of an optimal prefix code, by
 * the textbook construction in O(n^2): merge the two lightest subtrees
 * until one is left. Every merge adds its weight once per level below.
 */
static uint64_t optimal_cost(const uint64_t *counts, size_t n)
{
    uint64_t *w = malloc(n * sizeof *w);
    cr_assert_not_null(w);
    memcpy(w, counts, n * sizeof *w);
    uint64_t cost = 0;
    for (size_t live = n; live > 1; live--) {
        size_t a = 0, b = 1;
        if (w[b] < w[a]) {
            a = 1;
            b = 0;
        }
        for (size_t i = 2; i < live; i++) {
            if (w[i] < w[a]) {
                b = a;
                a = i;
            } else if (w[i] < w[b]) {
                b = i;
            }
        }
        uint64_t merged = w[a] + w[b];
        cost += merged;
        /* a becomes the merge; b takes the last live entry's place. */
        w[a] = merged;
        w[b] = w[live - 1];
    }
    free(w);
    return cost;
}

/* ---------------------------------------------------------------------- */
/* Checks                                                                  */

static size_t path_len(const w2v_huffman *h, size_t i)
{
    return h->start[i + 1] - h->start[i];
}

/* Word i's code as a string of '0' and '1' (malloc'ed). */
static char *code_string(const w2v_huffman *h, size_t i)
{
    size_t len = path_len(h, i);
    char *s = malloc(len + 1);
    cr_assert_not_null(s);
    for (size_t j = 0; j < len; j++) {
        uint8_t bit = h->codes[h->start[i] + j];
        cr_assert(bit == 0 || bit == 1, "code bit %u", bit);
        s[j] = (char)('0' + bit);
    }
    s[len] = '\0';
    return s;
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Everything a tree for counts[0, n) must satisfy; returns its weighted
 * path length.
 */
static uint64_t check_tree(const w2v_huffman *h, const uint64_t *counts,
                           size_t n)
{
    cr_assert_eq(h->n, n);
    cr_assert_eq(h->start[0], 0);
    uint64_t cost = 0;
    for (size_t i = 0; i < n; i++) {
        cr_assert_geq(h->start[i + 1], h->start[i]);
        size_t len = path_len(h, i);
        cr_assert_geq(len, n > 1 ? 1 : 0);
        cr_assert_leq(len, n - 1);
        cost += counts[i] * len;
    }

    /* Prefix-free: in sorted order, no code is a prefix of the next. */
    char **codes = malloc(n * sizeof *codes);
    cr_assert_not_null(codes);
    for (size_t i = 0; i < n; i++)
        codes[i] = code_string(h, i);
    qsort(codes, n, sizeof *codes, by_string);
    for (size_t i = 1; i < n; i++) {
        size_t la = strlen(codes[i - 1]);
        cr_assert(strncmp(codes[i - 1], codes[i], la) != 0,
                  "code %s is a prefix of %s", codes[i - 1], codes[i]);
    }
    for (size_t i = 0; i < n; i++)
        free(codes[i]);
    free(codes);

    if (n < 2)
        return cost;

    /*
     * Inner nodes: ids in [0, n-2], the root n-2 first on every path, each
     * node reached by exactly one prefix, every node used. Child weights
     * show the bit convention of word2vec.c: 1 = the heavier side.
     */
    size_t inner = n - 1;
    char **prefix = calloc(inner, sizeof *prefix);
    uint64_t *child = calloc(2 * inner, sizeof *child);
    cr_assert(prefix != NULL && child != NULL);
    for (size_t i = 0; i < n; i++) {
        char *code = code_string(h, i);
        size_t len = path_len(h, i);
        cr_assert_eq(h->points[h->start[i]], n - 2, "word %zu: path starts "
                     "at node %u, not the root", i, h->points[h->start[i]]);
        for (size_t j = 0; j < len; j++) {
            uint32_t node = h->points[h->start[i] + j];
            cr_assert_lt(node, inner, "inner node id %u out of range", node);
            if (prefix[node] == NULL) {
                prefix[node] = malloc(j + 1);
                memcpy(prefix[node], code, j);
                prefix[node][j] = '\0';
            } else {
                cr_assert(strlen(prefix[node]) == j &&
                          strncmp(prefix[node], code, j) == 0,
                          "node %u reached by prefixes %s and %.*s", node,
                          prefix[node], (int)j, code);
            }
            child[2 * node + h->codes[h->start[i] + j]] += counts[i];
        }
        free(code);
    }
    for (size_t k = 0; k < inner; k++) {
        cr_assert_not_null(prefix[k], "inner node %zu is on no path", k);
        cr_assert_geq(child[2 * k + 1], child[2 * k], "node %zu: bit 1 side "
                      "weighs %llu, bit 0 side %llu", k,
                      (unsigned long long)child[2 * k + 1],
                      (unsigned long long)child[2 * k]);
        free(prefix[k]);
    }
    free(prefix);
    free(child);

    /* Frequent words have codes no longer than rarer ones. */
    for (size_t i = 1; i < n; i++)
        if (counts[i - 1] > counts[i])
            cr_assert_leq(path_len(h, i - 1), path_len(h, i), "word %zu",
                          i - 1);
    return cost;
}

static void check_counts(const uint64_t *counts, size_t n)
{
    w2v_huffman h;
    w2v_error err = {0};
    cr_assert_eq(w2v_huffman_build(&h, counts, n, &err), W2V_OK, "%s",
                 err.message);
    uint64_t cost = check_tree(&h, counts, n);
    uint64_t best = optimal_cost(counts, n);
    cr_assert_eq(cost, best, "n = %zu: weighted path length %llu, optimal "
                 "%llu", n, (unsigned long long)cost,
                 (unsigned long long)best);
    w2v_huffman_free(&h);
    cr_assert_null(h.start);
    cr_assert_eq(h.n, 0);
}

static int desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x < y) - (x > y);
}

/* ---------------------------------------------------------------------- */
/* Tests                                                                   */

Test(huffman, zipf_counts_are_optimal)
{
    const size_t n = 2000;
    uint64_t *c = malloc(n * sizeof *c);
    for (size_t i = 0; i < n; i++)
        c[i] = 10000000 / (i + 1);
    check_counts(c, n);
    free(c);
}

Test(huffman, equal_counts)
{
    uint64_t c[37];
    for (size_t n = 2; n <= 37; n++) {
        for (size_t i = 0; i < n; i++)
            c[i] = 5;
        check_counts(c, n);
    }
    /* 32 equal words: a complete tree, every code 5 bits. */
    w2v_huffman h;
    cr_assert_eq(w2v_huffman_build(&h, c, 32, NULL), W2V_OK);
    for (size_t i = 0; i < 32; i++)
        cr_assert_eq(path_len(&h, i), 5);
    w2v_huffman_free(&h);
}

Test(huffman, powers_of_two_give_a_chain)
{
    /* 2^k, ..., 4, 2, 1, 1: word i has a code of i + 1 bits (last two k). */
    uint64_t c[21];
    for (size_t i = 0; i < 20; i++)
        c[i] = (uint64_t)1 << (19 - i);
    c[20] = 1;
    check_counts(c, 21);
    w2v_huffman h;
    cr_assert_eq(w2v_huffman_build(&h, c, 21, NULL), W2V_OK);
    for (size_t i = 0; i < 20; i++)
        cr_assert_eq(path_len(&h, i), i + 1);
    cr_assert_eq(path_len(&h, 20), 20);
    w2v_huffman_free(&h);
}

Test(huffman, random_counts_with_ties_and_zeros)
{
    w2v_rng r;
    w2v_rng_seed(&r, 99, 0);
    for (int trial = 0; trial < 40; trial++) {
        size_t n = 1 + w2v_rng_below(&r, 300);
        uint64_t *c = malloc(n * sizeof *c);
        uint32_t range = trial % 4 == 0 ? 3 : 1u << (trial % 20);
        for (size_t i = 0; i < n; i++)
            c[i] = w2v_rng_below(&r, range);
        qsort(c, n, sizeof *c, desc);
        check_counts(c, n);
        free(c);
    }
}

Test(huffman, one_word)
{
    const uint64_t c[] = {42};
    w2v_huffman h;
    cr_assert_eq(w2v_huffman_build(&h, c, 1, NULL), W2V_OK);
    cr_assert_eq(h.n, 1);
    cr_assert_eq(h.start[0], 0);
    cr_assert_eq(h.start[1], 0);
    w2v_huffman_free(&h);
}

Test(huffman, two_words)
{
    const uint64_t c[] = {9, 4};
    w2v_huffman h;
    cr_assert_eq(w2v_huffman_build(&h, c, 2, NULL), W2V_OK);
    cr_assert_eq(path_len(&h, 0), 1);
    cr_assert_eq(path_len(&h, 1), 1);
    /* The single inner node is 0, the root; the heavier word takes bit 1. */
    cr_assert_eq(h.points[h.start[0]], 0);
    cr_assert_eq(h.points[h.start[1]], 0);
    cr_assert_eq(h.codes[h.start[0]], 1);
    cr_assert_eq(h.codes[h.start[1]], 0);
    check_tree(&h, c, 2);
    w2v_huffman_free(&h);
}

Test(huffman, bad_input_rejected)
{
    const uint64_t unsorted[] = {5, 9, 1};
    const uint64_t late[] = {9, 8, 7, 7, 8};
    w2v_huffman h;
    w2v_error err = {0};
    cr_assert_eq(w2v_huffman_build(&h, unsorted, 3, &err), W2V_ERR_ARG);
    cr_assert_not_null(strstr(err.message, "sorted"), "%s", err.message);
    cr_assert_null(h.start);
    cr_assert_eq(w2v_huffman_build(&h, late, 5, &err), W2V_ERR_ARG);
    cr_assert_eq(w2v_huffman_build(&h, late, 0, &err), W2V_ERR_ARG);
    cr_assert_null(h.points);
    /* Freeing after a failed build, or twice, is harmless. */
    w2v_huffman_free(&h);
    w2v_huffman_free(&h);
}
