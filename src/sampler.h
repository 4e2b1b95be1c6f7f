/*
 * sampler.h - the two word distributions training draws from. Not API.
 *
 * Noise words for negative sampling come from the unigram distribution
 * raised to a power (3/4): P(w) = c(w)^0.75 / sum_v c(v)^0.75. The original
 * word2vec fills a 100M-entry table (400 MB) to approximate it; an alias
 * table (Walker/Vose) draws from it exactly with 8 bytes per word and O(1)
 * work per draw: pick a column uniformly, then the column's own word with
 * probability prob[i], else its alias.
 *
 * Sub-sampling keeps an occurrence of w with probability
 *   min(1, (sqrt(f / t) + 1) * t / f),  f = c(w) / total, t = sample,
 * the formula of word2vec.c, stored as a 32-bit threshold per word.
 */
#ifndef W2V_SAMPLER_H
#define W2V_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h"
#include "w2v/error.h"
#include "w2v/vocab.h"

/* One column: both halves of a draw are in the same 8 bytes (one miss). */
typedef struct w2v_alias_col {
    uint32_t prob;    /* P(keep column i) scaled to 2^32, capped */
    uint32_t alias;   /* the other word of column i */
} w2v_alias_col;

typedef struct w2v_alias {
    size_t n;
    w2v_alias_col *col;  /* (n) */
} w2v_alias;

/* Builds the table for weights c(i)^power over the vocabulary's counts. */
int w2v_alias_init(w2v_alias *a, const w2v_vocab *v, double power,
                   w2v_error *err);

/* Builds the table for arbitrary non-negative weights (sum > 0). */
int w2v_alias_init_weights(w2v_alias *a, const double *w, size_t n,
                           w2v_error *err);

void w2v_alias_free(w2v_alias *a);

static inline uint32_t w2v_alias_draw(const w2v_alias *a, w2v_rng *r)
{
    uint64_t x = w2v_rng_next(r);
    uint32_t col = (uint32_t)(((x >> 32) * (uint64_t)a->n) >> 32);
    /* Full columns are their own alias, so the cap costs nothing. */
    w2v_alias_col c = a->col[col];
    /*
     * A select by mask, not a branch: the column is usually a cache miss,
     * and a branch on it, taken at random, would stop the next draws' loads
     * from starting until this one is back.
     */
    uint32_t keep = 0u - (uint32_t)((uint32_t)x < c.prob);
    return (col & keep) | (c.alias & ~keep);
}

/*
 * Keep thresholds: an occurrence of id is kept when a uniform 32-bit draw
 * is below keep[id] (UINT32_MAX = always). sample <= 0 keeps everything.
 * *keep is malloc'ed (n) and owned by the caller.
 */
int w2v_subsample_init(const w2v_vocab *v, double sample, uint32_t **keep,
                       w2v_error *err);

/* The keep probability of the formula above, for tests and reports. */
double w2v_subsample_prob(uint64_t count, uint64_t total, double sample);

#endif /* W2V_SAMPLER_H */
