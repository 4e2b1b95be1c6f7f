/*
 * rng.h - a small, fast, seedable random generator (SplitMix64).
 * Each training thread owns one; nothing here is shared. Not API.
 */
#ifndef W2V_RNG_H
#define W2V_RNG_H

#include <stdint.h>

typedef struct w2v_rng {
    uint64_t state;
} w2v_rng;

/* Seeds so that (seed, stream) pairs give unrelated sequences. */
static inline void w2v_rng_seed(w2v_rng *r, uint64_t seed, uint64_t stream)
{
    r->state = seed * 0x9E3779B97F4A7C15ULL + stream * 0xD1B54A32D192ED03ULL +
               0x2545F4914F6CDD1DULL;
}

static inline uint64_t w2v_rng_next(w2v_rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) without modulo bias worth caring about (n < 2^32). */
static inline uint32_t w2v_rng_below(w2v_rng *r, uint32_t n)
{
    return (uint32_t)(((w2v_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform float in [0, 1) with 24 random bits. */
static inline float w2v_rng_float(w2v_rng *r)
{
    return (float)(w2v_rng_next(r) >> 40) * (1.0f / 16777216.0f);
}

#endif /* W2V_RNG_H */
