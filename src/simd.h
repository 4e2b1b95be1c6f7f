/*
 * simd.h - eight-float vectors for the training kernels. Not API.
 *
 * GCC and Clang vector extensions: the compiler maps a v8 to one AVX
 * register (or two SSE registers) and its operators to vector
 * instructions, so the kernels say what they compute without intrinsics
 * and still build for any x86-64 or ARM target. Other compilers get the
 * plain loops (W2V_HAVE_V8 undefined). Loads and stores are unaligned:
 * rows of a matrix of any width start anywhere.
 */
#ifndef W2V_SIMD_H
#define W2V_SIMD_H

#include <stddef.h>

#if defined(__GNUC__) || defined(__clang__)
#define W2V_HAVE_V8 1

/*
 * Without AVX a 32-byte vector is passed in memory, which GCC warns may
 * differ between compilers; these helpers are static and inlined, so no
 * vector crosses an interface.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

typedef float w2v_v8 __attribute__((vector_size(32)));
/* The same vector at any float alignment, allowed to alias float. */
typedef float w2v_v8u __attribute__((vector_size(32), aligned(4), may_alias));

static inline w2v_v8 w2v_v8_load(const float *p)
{
    return *(const w2v_v8u *)p;
}

static inline void w2v_v8_store(float *p, w2v_v8 v)
{
    *(w2v_v8u *)p = v;
}

static inline w2v_v8 w2v_v8_set1(float a)
{
    w2v_v8 v = {a, a, a, a, a, a, a, a};
    return v;
}

static inline float w2v_v8_sum(w2v_v8 v)
{
    return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}

/*
 * Sixteen floats, where the target has 512-bit vectors (AVX-512): the
 * batched kernels take rows 16 floats at a time first, then 8, then 4.
 */
#if defined(__AVX512F__)
#define W2V_HAVE_V16 1
typedef float w2v_v16 __attribute__((vector_size(64)));
typedef float w2v_v16u __attribute__((vector_size(64), aligned(4), may_alias));

static inline w2v_v16 w2v_v16_load(const float *p)
{
    return *(const w2v_v16u *)p;
}

static inline void w2v_v16_store(float *p, w2v_v16 v)
{
    *(w2v_v16u *)p = v;
}

static inline w2v_v16 w2v_v16_set1(float a)
{
    w2v_v16 v = {a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a};
    return v;
}

static inline float w2v_v16_sum(w2v_v16 v)
{
    float s[8];
    for (int i = 0; i < 8; i++)
        s[i] = v[i] + v[i + 8];
    return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}
#endif

/*
 * Four floats, for the last four of a row whose width is 4 more than a
 * multiple of 8 (100 and 300, the common sizes): one vector step instead
 * of four scalar ones.
 */
typedef float w2v_v4 __attribute__((vector_size(16)));
typedef float w2v_v4u __attribute__((vector_size(16), aligned(4), may_alias));

static inline w2v_v4 w2v_v4_load(const float *p)
{
    return *(const w2v_v4u *)p;
}

static inline void w2v_v4_store(float *p, w2v_v4 v)
{
    *(w2v_v4u *)p = v;
}

static inline w2v_v4 w2v_v4_set1(float a)
{
    w2v_v4 v = {a, a, a, a};
    return v;
}

static inline float w2v_v4_sum(w2v_v4 v)
{
    return (v[0] + v[2]) + (v[1] + v[3]);
}
#endif

/*
 * Horizontal sums. A dot product ends by adding up the lanes of its
 * accumulator, which costs more than its multiply-adds when rows are as
 * short as 100 floats; four accumulators folded to four lanes each and then
 * summed together take a few shuffles for all four.
 */
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)
#define W2V_SHUFFLE(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#endif

/* Lane i of the result is the sum of lanes i and i + 4 of v. */
static inline w2v_v4 w2v_v8_fold4(w2v_v8 v)
{
#ifdef W2V_SHUFFLE
    return W2V_SHUFFLE(v, v, 0, 1, 2, 3) + W2V_SHUFFLE(v, v, 4, 5, 6, 7);
#else
    w2v_v4 r = {v[0] + v[4], v[1] + v[5], v[2] + v[6], v[3] + v[7]};
    return r;
#endif
}

#ifdef W2V_HAVE_V16
/* Lane i of the result is the sum of lanes i, i + 4, i + 8, i + 12 of v. */
static inline w2v_v4 w2v_v16_fold4(w2v_v16 v)
{
#ifdef W2V_SHUFFLE
    w2v_v8 h = W2V_SHUFFLE(v, v, 0, 1, 2, 3, 4, 5, 6, 7) +
               W2V_SHUFFLE(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
    return w2v_v8_fold4(h);
#else
    w2v_v4 r = {(v[0] + v[8]) + (v[4] + v[12]), (v[1] + v[9]) + (v[5] + v[13]),
                (v[2] + v[10]) + (v[6] + v[14]),
                (v[3] + v[11]) + (v[7] + v[15])};
    return r;
#endif
}
#endif

/* {sum of a's lanes, b's, c's, d's}. */
static inline w2v_v4 w2v_v4_sum4(w2v_v4 a, w2v_v4 b, w2v_v4 c, w2v_v4 d)
{
#ifdef W2V_SHUFFLE
    w2v_v4 ab = W2V_SHUFFLE(a, b, 0, 4, 1, 5) + W2V_SHUFFLE(a, b, 2, 6, 3, 7);
    w2v_v4 cd = W2V_SHUFFLE(c, d, 0, 4, 1, 5) + W2V_SHUFFLE(c, d, 2, 6, 3, 7);
    return W2V_SHUFFLE(ab, cd, 0, 1, 4, 5) + W2V_SHUFFLE(ab, cd, 2, 3, 6, 7);
#else
    w2v_v4 r = {(a[0] + a[2]) + (a[1] + a[3]), (b[0] + b[2]) + (b[1] + b[3]),
                (c[0] + c[2]) + (c[1] + c[3]), (d[0] + d[2]) + (d[1] + d[3])};
    return r;
#endif
}

/* Asks for the cache line holding p ahead of a read. */
static inline void w2v_prefetch(const void *p)
{
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(p, 0, 3);
#else
    (void)p;
#endif
}

/* Asks for the cache lines of a row of n floats ahead of their use. */
static inline void w2v_prefetch_row(const float *row, size_t n)
{
#if defined(__GNUC__) || defined(__clang__)
    const char *p = (const char *)row, *end = (const char *)(row + n);
    for (; p < end; p += 64)
        __builtin_prefetch(p, 1, 3);
#else
    (void)row;
    (void)n;
#endif
}

#endif /* W2V_SIMD_H */
