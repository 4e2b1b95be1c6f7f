/*
 * sampler.c - alias table for noise words and sub-sampling thresholds.
 * See sampler.h.
 */
#include "sampler.h"

#include <math.h>
#include <stdlib.h>

#include "util.h"

void w2v_alias_free(w2v_alias *a)
{
    free(a->col);
    a->col = NULL;
    a->n = 0;
}

int w2v_alias_init_weights(w2v_alias *a, const double *w, size_t n,
                           w2v_error *err)
{
    a->n = 0;
    a->col = NULL;
    if (n == 0 || n > UINT32_MAX)
        return w2v_fail(err, W2V_ERR_ARG, "alias table of %zu words", n);
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        /* A negative weight would become a negative probability. */
        if (!(w[i] >= 0))
            return w2v_fail(err, W2V_ERR_ARG, "noise weight %zu is %g", i,
                            w[i]);
        sum += w[i];
    }
    if (!(sum > 0) || !isfinite(sum))
        return w2v_fail(err, W2V_ERR_ARG, "noise weights sum to %g", sum);
    double *scaled = malloc(n * sizeof *scaled);
    uint32_t *small = malloc(n * sizeof *small);
    uint32_t *large = malloc(n * sizeof *large);
    a->col = malloc(n * sizeof *a->col);
    if (!scaled || !small || !large || !a->col) {
        free(scaled);
        free(small);
        free(large);
        w2v_alias_free(a);
        return w2v_fail_nomem(err, "the noise table");
    }
    /* Vose's method: columns of mean height 1, small ones topped up. */
    size_t ns = 0, nl = 0;
    for (size_t i = 0; i < n; i++) {
        scaled[i] = w[i] * (double)n / sum;
        if (scaled[i] < 1.0)
            small[ns++] = (uint32_t)i;
        else
            large[nl++] = (uint32_t)i;
    }
    while (ns > 0 && nl > 0) {
        uint32_t s = small[--ns], l = large[nl - 1];
        double p = scaled[s] * 4294967296.0;
        a->col[s].prob = p >= 4294967295.0 ? UINT32_MAX : (uint32_t)p;
        a->col[s].alias = l;
        scaled[l] -= 1.0 - scaled[s];
        if (scaled[l] < 1.0) {
            nl--;
            small[ns++] = l;
        }
    }
    /* Left-overs are 1 up to rounding: always keep their own word. */
    while (nl > 0) {
        uint32_t l = large[--nl];
        a->col[l].prob = UINT32_MAX;
        a->col[l].alias = l;
    }
    while (ns > 0) {
        uint32_t s = small[--ns];
        a->col[s].prob = UINT32_MAX;
        a->col[s].alias = s;
    }
    a->n = n;
    free(scaled);
    free(small);
    free(large);
    return W2V_OK;
}

int w2v_alias_init(w2v_alias *a, const w2v_vocab *v, double power,
                   w2v_error *err)
{
    size_t n = w2v_vocab_size(v);
    double *w = malloc((n ? n : 1) * sizeof *w);
    if (w == NULL)
        return w2v_fail_nomem(err, "the noise table");
    for (size_t i = 0; i < n; i++)
        w[i] = pow((double)w2v_vocab_count(v, i), power);
    int rc = w2v_alias_init_weights(a, w, n, err);
    free(w);
    return rc;
}

double w2v_subsample_prob(uint64_t count, uint64_t total, double sample)
{
    if (sample <= 0 || count == 0)
        return 1.0;
    double t = sample * (double)total;
    double p = (sqrt((double)count / t) + 1.0) * t / (double)count;
    return p < 1.0 ? p : 1.0;
}

int w2v_subsample_init(const w2v_vocab *v, double sample, uint32_t **keep,
                       w2v_error *err)
{
    size_t n = w2v_vocab_size(v);
    *keep = malloc((n ? n : 1) * sizeof **keep);
    if (*keep == NULL)
        return w2v_fail_nomem(err, "sub-sampling thresholds");
    uint64_t total = w2v_vocab_total(v);
    for (size_t i = 0; i < n; i++) {
        double p = w2v_subsample_prob(w2v_vocab_count(v, i), total, sample);
        (*keep)[i] = p >= 1.0 ? UINT32_MAX : (uint32_t)(p * 4294967296.0);
    }
    return W2V_OK;
}
