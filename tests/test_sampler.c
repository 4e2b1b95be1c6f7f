/*
 * test_sampler.c - the alias table of noise words (unigram^0.75 and
 * arbitrary weights) and the sub-sampling keep probabilities.
 *
 * Statistical checks use a fixed seed, so they are deterministic; their
 * tolerances are still chosen so that a correct sampler would fail them
 * with negligible probability under any seed (5 standard errors per word,
 * a chi-square bound of df + 5 sqrt(2 df)).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "sampler.h"
#include "w2v/vocab.h"

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */

/* A finalised vocabulary of n words "w<i>" with the given counts. */
static w2v_vocab *vocab_with_counts(const uint64_t *counts, size_t n)
{
    w2v_vocab *v = NULL;
    cr_assert_eq(w2v_vocab_new(&v, NULL), W2V_OK);
    for (size_t i = 0; i < n; i++) {
        char w[32];
        snprintf(w, sizeof w, "w%zu", i);
        cr_assert_eq(w2v_vocab_add(v, w, strlen(w), counts[i], NULL, NULL),
                     W2V_OK);
    }
    cr_assert_eq(w2v_vocab_finalize(v, 0, 0, NULL), W2V_OK);
    cr_assert_eq(w2v_vocab_size(v), n);
    return v;
}

/*
 * The exact probability of each outcome implied by the table: column col
 * is picked with probability 1/n, then keeps its own word when a uniform
 * 32-bit value is <= prob[col], i.e. with probability (prob + 1) / 2^32.
 */
static double *table_probs(const w2v_alias *a)
{
    double *p = calloc(a->n, sizeof *p);
    cr_assert_not_null(p);
    for (size_t col = 0; col < a->n; col++) {
        double own = ((double)a->col[col].prob + 1.0) / 4294967296.0;
        cr_assert_lt(a->col[col].alias, a->n);
        p[col] += own / (double)a->n;
        p[a->col[col].alias] += (1.0 - own) / (double)a->n;
    }
    return p;
}

/* Draws `draws` samples; returns per-word counts (n). */
static uint64_t *draw_counts(const w2v_alias *a, size_t draws, uint64_t seed)
{
    uint64_t *seen = calloc(a->n, sizeof *seen);
    cr_assert_not_null(seen);
    w2v_rng r;
    w2v_rng_seed(&r, seed, 0);
    for (size_t i = 0; i < draws; i++) {
        uint32_t w = w2v_alias_draw(a, &r);
        cr_assert_lt(w, a->n);
        seen[w]++;
    }
    return seen;
}

/*
 * Checks observed counts against probabilities p: every word with an
 * expected count >= 100 within 5 standard errors, and a chi-square over
 * all words with p > 0 below df + 5 sqrt(2 df). Words with p == 0 must
 * never be drawn.
 */
static void check_distribution(const uint64_t *seen, const double *p,
                               size_t n, size_t draws)
{
    double chi2 = 0;
    size_t cells = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == 0) {
            cr_assert_eq(seen[i], 0, "word %zu has weight 0 but was drawn "
                         "%llu times", i, (unsigned long long)seen[i]);
            continue;
        }
        double e = p[i] * (double)draws;
        double d = (double)seen[i] - e;
        if (e >= 100) {
            double se = sqrt((double)draws * p[i] * (1 - p[i]));
            cr_assert_leq(fabs(d), 5 * se, "word %zu: %llu draws, expected "
                          "%.1f +- %.1f", i, (unsigned long long)seen[i], e,
                          se);
        }
        chi2 += d * d / e;
        cells++;
    }
    double df = (double)cells - 1;
    if (df > 0)
        cr_assert_lt(chi2, df + 5 * sqrt(2 * df), "chi-square %.1f over %.0f "
                     "degrees of freedom", chi2, df);
}

/* ---------------------------------------------------------------------- */
/* Alias table                                                             */

Test(sampler, unigram_power_three_quarters)
{
    /* A Zipf profile: count(i) = 1,000,000 / (i + 1), 1000 words. */
    const size_t n = 1000, draws = 2000000;
    uint64_t *counts = malloc(n * sizeof *counts);
    for (size_t i = 0; i < n; i++)
        counts[i] = 1000000 / (i + 1);
    w2v_vocab *v = vocab_with_counts(counts, n);
    w2v_alias a;
    w2v_error err = {0};
    cr_assert_eq(w2v_alias_init(&a, v, 0.75, &err), W2V_OK, "%s",
                 err.message);
    cr_assert_eq(a.n, n);

    /* The formula, computed here: P(i) = c(i)^0.75 / sum c^0.75. */
    double *want = malloc(n * sizeof *want), z = 0;
    for (size_t i = 0; i < n; i++)
        z += want[i] = pow((double)w2v_vocab_count(v, i), 0.75);
    for (size_t i = 0; i < n; i++)
        want[i] /= z;

    /* The table itself encodes the formula up to 32-bit rounding. */
    double *exact = table_probs(&a);
    for (size_t i = 0; i < n; i++)
        cr_assert_lt(fabs(exact[i] - want[i]), 1e-8, "word %zu: table %.10g,"
                     " formula %.10g", i, exact[i], want[i]);

    /* And draws follow it. */
    uint64_t *seen = draw_counts(&a, draws, 42);
    check_distribution(seen, want, n, draws);
    /* Sanity of the profile: the top word is drawn most. */
    for (size_t i = 1; i < n; i++)
        cr_assert_geq(seen[0], seen[i]);

    free(seen);
    free(exact);
    free(want);
    w2v_alias_free(&a);
    cr_assert_null(a.col);
    cr_assert_eq(a.n, 0);
    w2v_vocab_free(v);
    free(counts);
}

Test(sampler, power_one_and_zero)
{
    const uint64_t counts[] = {60, 30, 10};
    w2v_vocab *v = vocab_with_counts(counts, 3);
    w2v_alias a;
    cr_assert_eq(w2v_alias_init(&a, v, 1.0, NULL), W2V_OK);
    double *p = table_probs(&a);
    cr_assert_lt(fabs(p[0] - 0.6), 1e-9);
    cr_assert_lt(fabs(p[1] - 0.3), 1e-9);
    cr_assert_lt(fabs(p[2] - 0.1), 1e-9);
    free(p);
    w2v_alias_free(&a);
    cr_assert_eq(w2v_alias_init(&a, v, 0.0, NULL), W2V_OK);
    p = table_probs(&a);
    for (size_t i = 0; i < 3; i++)
        cr_assert_lt(fabs(p[i] - 1.0 / 3), 1e-9);
    free(p);
    w2v_alias_free(&a);
    w2v_vocab_free(v);
}

Test(sampler, arbitrary_weights_with_zeros)
{
    const double w[] = {0, 5, 0, 1, 2.5, 0, 0, 8, 0, 0.5};
    const size_t n = sizeof w / sizeof *w, draws = 2000000;
    w2v_alias a;
    w2v_error err = {0};
    cr_assert_eq(w2v_alias_init_weights(&a, w, n, &err), W2V_OK, "%s",
                 err.message);
    double sum = 0, p[sizeof w / sizeof *w];
    for (size_t i = 0; i < n; i++)
        sum += w[i];
    for (size_t i = 0; i < n; i++)
        p[i] = w[i] / sum;
    double *exact = table_probs(&a);
    for (size_t i = 0; i < n; i++)
        cr_assert_lt(fabs(exact[i] - p[i]), 1e-8, "word %zu", i);
    free(exact);
    uint64_t *seen = draw_counts(&a, draws, 7);
    check_distribution(seen, p, n, draws);
    free(seen);
    w2v_alias_free(&a);
}

Test(sampler, single_positive_weight_is_always_drawn)
{
    const double w[] = {0, 0, 3, 0};
    w2v_alias a;
    cr_assert_eq(w2v_alias_init_weights(&a, w, 4, NULL), W2V_OK);
    w2v_rng r;
    w2v_rng_seed(&r, 1, 2);
    for (int i = 0; i < 100000; i++)
        cr_assert_eq(w2v_alias_draw(&a, &r), 2);
    w2v_alias_free(&a);

    const double one[] = {0.25};
    cr_assert_eq(w2v_alias_init_weights(&a, one, 1, NULL), W2V_OK);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(w2v_alias_draw(&a, &r), 0);
    w2v_alias_free(&a);
}

Test(sampler, bad_weights_rejected)
{
    w2v_alias a;
    w2v_error err = {0};
    const double zeros[] = {0, 0, 0};
    const double negative[] = {1, -0.5, 2};
    const double nan_w[] = {1, NAN, 2};
    const double inf_w[] = {1, INFINITY, 2};
    cr_assert_eq(w2v_alias_init_weights(&a, zeros, 0, &err), W2V_ERR_ARG);
    cr_assert_eq(w2v_alias_init_weights(&a, zeros, 3, &err), W2V_ERR_ARG);
    cr_assert_null(a.col);
    cr_assert_eq(w2v_alias_init_weights(&a, negative, 3, &err), W2V_ERR_ARG);
    cr_assert_null(a.col);
    cr_assert_eq(w2v_alias_init_weights(&a, nan_w, 3, &err), W2V_ERR_ARG);
    cr_assert_eq(w2v_alias_init_weights(&a, inf_w, 3, &err), W2V_ERR_ARG);
    cr_assert_eq(err.code, W2V_ERR_ARG);
    cr_assert_neq(err.message[0], '\0');
    /* Freeing a table that failed to build is harmless. */
    w2v_alias_free(&a);

    w2v_vocab *v = NULL;
    cr_assert_eq(w2v_vocab_new(&v, NULL), W2V_OK);
    cr_assert_eq(w2v_alias_init(&a, v, 0.75, &err), W2V_ERR_ARG);
    w2v_vocab_free(v);
}

/* ---------------------------------------------------------------------- */
/* Sub-sampling                                                            */

/* The formula of word2vec.c, written out independently. */
static double keep_formula(double count, double total, double t)
{
    double f = count / total;
    double p = (sqrt(f / t) + 1) * t / f;
    return p < 1 ? p : 1;
}

Test(sampler, subsample_prob_is_the_formula)
{
    static const uint64_t totals[] = {1000, 17000000, 1000000000000ULL};
    static const double samples[] = {1e-5, 1e-4, 1e-3, 0.5};
    for (size_t a = 0; a < 3; a++) {
        for (size_t b = 0; b < 4; b++) {
            uint64_t total = totals[a];
            for (uint64_t c = 1; c <= total; c = c * 3 + 1) {
                double got = w2v_subsample_prob(c, total, samples[b]);
                double want = keep_formula((double)c, (double)total,
                                           samples[b]);
                cr_assert_leq(fabs(got - want), 1e-12 * want, "count %llu "
                              "total %llu sample %g: %.17g != %.17g",
                              (unsigned long long)c,
                              (unsigned long long)total, samples[b], got,
                              want);
                cr_assert(got > 0 && got <= 1);
            }
        }
    }
    /* Known values: f = 0.01, t = 1e-3: (sqrt(10) + 1) / 10. */
    cr_assert_lt(fabs(w2v_subsample_prob(100, 10000, 1e-3) -
                      (sqrt(10.0) + 1) / 10), 1e-15);
    /* A word at exactly f = t is kept with probability 1 (capped from 2). */
    cr_assert_eq(w2v_subsample_prob(1, 1000, 1e-3), 1.0);
    /* Off, or a count of 0: always kept. */
    cr_assert_eq(w2v_subsample_prob(500, 1000, 0), 1.0);
    cr_assert_eq(w2v_subsample_prob(500, 1000, -1), 1.0);
    cr_assert_eq(w2v_subsample_prob(0, 1000, 1e-3), 1.0);
}

Test(sampler, subsample_keep_rate_matches_the_formula)
{
    const uint64_t counts[] = {1000000, 300000, 100000, 30000, 10000, 1000,
                               100, 10};
    const size_t n = sizeof counts / sizeof *counts, trials = 1000000;
    const double sample = 1e-3;
    w2v_vocab *v = vocab_with_counts(counts, n);
    uint64_t total = w2v_vocab_total(v);
    uint32_t *keep = NULL;
    w2v_error err = {0};
    cr_assert_eq(w2v_subsample_init(v, sample, &keep, &err), W2V_OK, "%s",
                 err.message);
    w2v_rng r;
    w2v_rng_seed(&r, 2024, 1);
    for (size_t id = 0; id < n; id++) {
        double p = keep_formula((double)w2v_vocab_count(v, id),
                                (double)total, sample);
        if (p >= 1) {
            cr_assert_eq(keep[id], UINT32_MAX, "word %zu always kept", id);
            continue;
        }
        /* The threshold is p scaled to 2^32. */
        cr_assert_lt(fabs((double)keep[id] - p * 4294967296.0), 1.0);
        /* The trainer's rule: keep when a uniform 32-bit draw < keep. */
        size_t kept = 0;
        for (size_t i = 0; i < trials; i++)
            kept += (uint32_t)w2v_rng_next(&r) < keep[id];
        double rate = (double)kept / (double)trials;
        double se = sqrt(p * (1 - p) / (double)trials);
        cr_assert_leq(fabs(rate - p), 5 * se, "word %zu: kept %.5f, formula "
                      "%.5f +- %.5f", id, rate, p, se);
    }
    /* The frequent words are really thinned, the rare ones are not. */
    cr_assert_lt(keep[0], UINT32_MAX / 10);
    cr_assert_eq(keep[n - 1], UINT32_MAX);
    free(keep);

    /* sample 0 keeps everything. */
    cr_assert_eq(w2v_subsample_init(v, 0, &keep, NULL), W2V_OK);
    for (size_t id = 0; id < n; id++)
        cr_assert_eq(keep[id], UINT32_MAX);
    free(keep);
    w2v_vocab_free(v);
}
