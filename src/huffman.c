/*
 * huffman.c - Huffman codes for hierarchical softmax. See huffman.h.
 *
 * Counts are sorted, so the classic two-queue construction runs in O(V):
 * leaves are consumed from the rare end, new inner nodes are created in
 * non-decreasing weight order and so form a second sorted queue.
 */
#include "huffman.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void w2v_huffman_free(w2v_huffman *h)
{
    free(h->start);
    free(h->points);
    free(h->codes);
    memset(h, 0, sizeof *h);
}

int w2v_huffman_build(w2v_huffman *h, const uint64_t *counts, size_t n,
                      w2v_error *err)
{
    memset(h, 0, sizeof *h);
    if (n == 0 || n > UINT32_MAX / 2)
        return w2v_fail(err, W2V_ERR_ARG, "Huffman tree of %zu words", n);
    for (size_t i = 1; i < n; i++)
        if (counts[i] > counts[i - 1])
            return w2v_fail(err, W2V_ERR_ARG, "Huffman counts not sorted");
    /* Nodes 0..n-1 are leaves, n..2n-2 inner nodes (inner id = node - n). */
    size_t nodes = 2 * n - 1;
    uint64_t *weight = malloc(nodes * sizeof *weight);
    uint32_t *parent = malloc(nodes * sizeof *parent);
    uint8_t *bit = malloc(nodes * sizeof *bit);
    uint32_t *depth = malloc(nodes * sizeof *depth);
    h->start = malloc((n + 1) * sizeof *h->start);
    if (!weight || !parent || !bit || !depth || !h->start) {
        free(weight);
        free(parent);
        free(bit);
        free(depth);
        w2v_huffman_free(h);
        return w2v_fail_nomem(err, "the Huffman tree");
    }
    for (size_t i = 0; i < n; i++)
        weight[i] = counts[i];
    size_t leaf = n;      /* next leaf to take is leaf - 1 (rarest first) */
    size_t inner = n;     /* next inner node to take */
    for (size_t k = n; k < nodes; k++) {
        size_t pick[2];
        for (int j = 0; j < 2; j++) {
            if (leaf > 0 && (inner >= k || weight[leaf - 1] <= weight[inner]))
                pick[j] = --leaf;
            else
                pick[j] = inner++;
        }
        weight[k] = weight[pick[0]] + weight[pick[1]];
        parent[pick[0]] = (uint32_t)k;
        parent[pick[1]] = (uint32_t)k;
        bit[pick[0]] = 0; /* the lighter child is 0, as in word2vec.c */
        bit[pick[1]] = 1;
    }
    /* Depths top-down: parents have larger ids than their children. */
    depth[nodes - 1] = 0;
    for (size_t k = nodes - 1; k-- > 0;)
        depth[k] = depth[parent[k]] + 1;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        h->start[i] = total;
        total += depth[i];
    }
    h->start[n] = total;
    h->points = malloc((total ? total : 1) * sizeof *h->points);
    h->codes = malloc(total ? total : 1);
    if (!h->points || !h->codes) {
        free(weight);
        free(parent);
        free(bit);
        free(depth);
        w2v_huffman_free(h);
        return w2v_fail_nomem(err, "the Huffman codes");
    }
    for (size_t i = 0; i < n; i++) {
        /* Walk up from the leaf, filling the path from its end. */
        size_t pos = h->start[i + 1];
        for (size_t node = i; node != nodes - 1; node = parent[node]) {
            pos--;
            h->codes[pos] = bit[node];
            h->points[pos] = (uint32_t)(parent[node] - n);
        }
    }
    h->n = n;
    free(weight);
    free(parent);
    free(bit);
    free(depth);
    return W2V_OK;
}
