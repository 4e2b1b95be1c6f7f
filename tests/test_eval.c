/*
 * test_eval.c - the evaluation module: analogy answers on hand-made models,
 * gensim's case and restriction conventions, 3CosMul against 3CosAdd, the
 * batched sgemm path against the naive reference, Spearman's rho with ties,
 * the two file parsers and their reports of malformed lines, and w2v-eval's
 * command line.
 */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "rng.h"
#include "testutil.h"
#include "w2v/eval.h"
#include "w2v/model.h"
#include "w2v/vocab.h"

TestSuite(eval, .init = tu_scratch_init, .fini = tu_scratch_fini);

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */

/*
 * Writes words[i] with values (n, dim) as a word2vec text model in the
 * scratch directory and loads it, as a user's file would be.
 */
static w2v_model *text_model(const char *const *words, const float *values,
                             size_t n, size_t dim)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    fprintf(f, "%zu %zu\n", n, dim);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s", words[i]);
        for (size_t j = 0; j < dim; j++)
            fprintf(f, " %.6f", (double)values[i * dim + j]);
        fprintf(f, "\n");
    }
    fclose(f);
    char *path = tu_write_file(NULL, "model.txt", buf, len);
    w2v_model *m = NULL;
    w2v_error err = {0};
    cr_assert_eq(w2v_model_load(path, &m, &err), W2V_OK, "%s", err.message);
    free(buf);
    free(path);
    return m;
}

/* Writes text to the scratch file name; returns its path (malloc'ed). */
static char *put(const char *name, const char *text)
{
    return tu_write_file(NULL, name, text, strlen(text));
}

static w2v_analogy_set *analogies(const char *text)
{
    w2v_analogy_set *s = NULL;
    w2v_error err = {0};
    cr_assert_eq(w2v_analogy_set_parse(text, strlen(text), "test", &s, &err),
                 W2V_OK, "%s", err.message);
    return s;
}

static w2v_pair_set *pairs(const char *text)
{
    w2v_pair_set *s = NULL;
    w2v_error err = {0};
    cr_assert_eq(w2v_pair_set_parse(text, strlen(text), "test", &s, &err),
                 W2V_OK, "%s", err.message);
    return s;
}

static w2v_analogy_result *run(const w2v_model *m, const w2v_analogy_set *s,
                               const w2v_analogy_options *o)
{
    w2v_analogy_result *r = NULL;
    w2v_error err = {0};
    cr_assert_eq(w2v_eval_analogies(m, s, o, &r, &err), W2V_OK, "%s",
                 err.message);
    cr_assert_not_null(r);
    return r;
}

static const char *answer_word(const w2v_model *m,
                               const w2v_analogy_result *r, size_t i)
{
    int64_t id = r->answers[i].predicted;
    return id < 0 ? "(none)" : w2v_vocab_word(w2v_model_vocab(m),
                                              (size_t)id);
}

/* ---------------------------------------------------------------------- */
/* A royal family in four dimensions: royal, male, female, young           */

static const char *const family_words[] = {
    "man", "woman", "king", "queen", "boy", "girl", "prince", "princess",
    "banana",
};

static const float family_values[] = {
    0, 1, 0, 0,     /* man */
    0, 0, 1, 0,     /* woman */
    1, 1, 0, 0,     /* king */
    1, 0, 1, 0,     /* queen */
    0, 1, 0, 1,     /* boy */
    0, 0, 1, 1,     /* girl */
    1, 1, 0, 1,     /* prince */
    1, 0, 1, 1,     /* princess */
    -1, -1, -1, 0,  /* banana: far from everything */
};

static w2v_model *family(void)
{
    return text_model(family_words, family_values, 9, 4);
}

Test(eval, known_answers_and_sections)
{
    w2v_model *m = family();
    /* "a b c d": a is to b as c is to d; the answer is near b - a + c. */
    w2v_analogy_set *s = analogies(": royalty\n"
                                   "man king woman queen\n"
                                   "man woman king queen\n"
                                   "boy prince girl princess\n"
                                   ": gram-age\n"
                                   "man boy woman girl\n"
                                   "king prince queen princess\n"
                                   "man boy woman banana\n");
    cr_assert_eq(w2v_analogy_set_size(s), 6);
    cr_assert_eq(w2v_analogy_set_sections(s), 2);
    cr_assert_str_eq(w2v_analogy_set_section_name(s, 1), "gram-age");
    w2v_analogy_result *r = run(m, s, NULL);
    const char *expect[] = {"queen", "queen", "princess", "girl",
                            "princess", "girl"};
    for (size_t i = 0; i < 6; i++)
        cr_expect_str_eq(answer_word(m, r, i), expect[i], "question %zu",
                         i);
    for (size_t i = 0; i < 5; i++)
        cr_expect_eq(r->answers[i].outcome, W2V_ANALOGY_CORRECT);
    cr_expect_eq(r->answers[5].outcome, W2V_ANALOGY_WRONG);
    /* q = unit(king) - unit(man) + unit(woman) = (.7071, -.2929, 1, 0);
     * unit(queen) = (.7071, 0, .7071, 0); cos = (.5 + .7071) / |q|. */
    cr_expect_float_eq(r->answers[0].score,
                       (0.5 + 0.70710678) /
                           sqrt(0.5 + 0.29289322 * 0.29289322 + 1),
                       1e-5);
    cr_assert_eq(r->n_sections, 2);
    cr_expect_eq(r->sections[0].syntactic, 0);
    cr_expect_eq(r->sections[1].syntactic, 1, "\"gram\" prefix: syntactic");
    cr_expect_eq(r->sections[0].correct, 3);
    cr_expect_eq(r->sections[1].correct, 2);
    cr_expect_eq(r->sections[1].wrong, 1);
    cr_expect_eq(r->semantic.correct, 3);
    cr_expect_eq(r->syntactic.correct, 2);
    cr_expect_eq(r->total.correct, 5);
    cr_expect_eq(r->total.wrong, 1);
    cr_expect_eq(r->total.questions, 6);
    w2v_analogy_result_free(r);
    w2v_analogy_set_free(s);
    w2v_model_free(m);
}

Test(eval, inputs_are_never_answers)
{
    /* b - a + c is c itself when a == b: c is excluded all the same. */
    w2v_model *m = family();
    w2v_analogy_set *s = analogies(": x\nking king queen queen\n");
    w2v_analogy_result *r = run(m, s, NULL);
    cr_expect_str_neq(answer_word(m, r, 0), "queen");
    cr_expect_str_neq(answer_word(m, r, 0), "king");
    cr_expect_eq(r->answers[0].outcome, W2V_ANALOGY_WRONG);
    w2v_analogy_result_free(r);
    w2v_analogy_set_free(s);
    w2v_model_free(m);
}

/* ---------------------------------------------------------------------- */
/* Case and restriction                                                    */

Test(eval, case_insensitive_uses_the_first_variant)
{
    /*
     * "Paris" (row 0) and "paris" (row 1) fold to PARIS: gensim keeps the
     * first row, so a question with "paris" uses Paris's vector. Paris
     * points at France, paris at Spain.
     */
    const char *words[] = {"Paris", "paris", "France", "Spain", "Rome",
                           "Italy", "Madrid"};
    const float values[] = {
        1, 0, 0, 0,       /* Paris */
        0, 0, 1, 0,       /* paris */
        1, 1, 0, 0,       /* France */
        0, 1, 1, 0,       /* Spain */
        0, 0, 0, 1,       /* Rome */
        0, 1, 0, 1,       /* Italy */
        0, 0, 1, 0.01f,   /* Madrid */
    };
    w2v_model *m = text_model(words, values, 7, 4);
    /* ITALY - ROME + PARIS, PARIS being row 0: unit vectors give
     * (1, .71, 0, -.29), nearest France (the only row near Paris). */
    w2v_analogy_set *s = analogies(": capitals\nrome italy paris france\n");
    w2v_analogy_result *r = run(m, s, NULL);
    cr_expect_str_eq(answer_word(m, r, 0), "France");
    cr_expect_eq(r->answers[0].outcome, W2V_ANALOGY_CORRECT,
                 "FRANCE folds to the expected word");
    w2v_analogy_result_free(r);

    /* Case-sensitive: "rome" and "italy" are not in the model at all. */
    w2v_analogy_options o = w2v_analogy_options_default();
    o.case_sensitive = 1;
    r = run(m, s, &o);
    cr_expect_eq(r->answers[0].outcome, W2V_ANALOGY_SKIPPED_OOV);
    cr_expect_eq(r->total.skipped_oov, 1);
    w2v_analogy_result_free(r);
    w2v_analogy_set_free(s);

    /* Case-sensitive with "paris" itself: Italy - Rome + paris =
     * (0, .71, 1, -.29): Spain (cos .96) beats Madrid (.79). */
    s = analogies(": capitals\nRome Italy paris Spain\n");
    r = run(m, s, &o);
    cr_expect_str_eq(answer_word(m, r, 0), "Spain");
    cr_expect_eq(r->answers[0].outcome, W2V_ANALOGY_CORRECT);
    w2v_analogy_result_free(r);
    w2v_analogy_set_free(s);
    w2v_model_free(m);
}

Test(eval, case_variants_of_inputs_are_passed_over)
{
    /*
     * "KING" (row 9) is a rarer variant of the input "king": not excluded
     * by row, but gensim drops any answer whose folded word is an input's,
     * so the next best, queen, is the answer. KING is made the best match.
     */
    const char *words[] = {"man", "woman", "king", "queen", "boy", "girl",
                           "prince", "princess", "banana", "KING"};
    float values[10 * 4];
    memcpy(values, family_values, sizeof family_values);
    /* woman - man + king = (.71, -.29, 1, 0): KING (cos .9997) is nearer
     * than queen (.959). */
    const float king_variant[4] = {0.7f, -0.3f, 1, 0};
    memcpy(values + 36, king_variant, sizeof king_variant);
    w2v_model *m = text_model(words, values, 10, 4);
    w2v_analogy_set *s = analogies(": royalty\nman woman king queen\n");
    w2v_analogy_result *r = run(m, s, NULL);
    cr_expect_str_eq(answer_word(m, r, 0), "queen");
    cr_expect_eq(r->answers[0].outcome, W2V_ANALOGY_CORRECT);
    w2v_analogy_result_free(r);

    /* Case-sensitive, KING is a word of its own and wins. */
    w2v_analogy_options o = w2v_analogy_options_default();
    o.case_sensitive = 1;
    r = run(m, s, &o);
    cr_expect_str_eq(answer_word(m, r, 0), "KING");
    cr_expect_eq(r->answers[0].outcome, W2V_ANALOGY_WRONG);
    w2v_analogy_result_free(r);
    w2v_analogy_set_free(s);
    w2v_model_free(m);
}

Test(eval, unicode_folding_as_python_upper)
{
    /* Python: "straße".upper() == "STRASSE", "ﬁsh".upper() == "FISH". */
    const char *words[] = {"stra\xc3\x9f" "e", "\xef\xac\x81sh", "fish",
                           "x", "\xd0\xbc\xd0\xb8\xd1\x80"};
    const float values[] = {
        1, 0, 0, /* straße */
        0, 1, 0, /* ﬁsh, first to fold to FISH */
        0, 1, 1, /* fish */
        0, 0, 1, /* x */
        1, 1, 1, /* мир */
    };
    w2v_model *m = text_model(words, values, 5, 3);
    w2v_pair_set *p = pairs("STRASSE\tFISH\t1\n"
                            "fish\tx\t2\n"
                            "\xd0\x9c\xd0\x98\xd0\xa0\tx\t3\n");
    w2v_similarity_result *r = NULL;
    cr_assert_eq(w2v_eval_similarity(m, p, NULL, &r, NULL), W2V_OK);
    cr_expect_eq(r->used, 3, "STRASSE, FISH and MIR (Cyrillic) are found");
    /* FISH is row 1, the ligature word, orthogonal to straße. */
    cr_expect_float_eq(r->cosine[0], 0.0, 1e-12);
    /* fish -> row 1 (0, 1, 0) against x (0, 0, 1): 0, not row 2's 1/√2 */
    cr_expect_float_eq(r->cosine[1], 0.0, 1e-12);
    cr_expect_float_eq(r->cosine[2], 1 / sqrt(3.0), 1e-7);
    w2v_similarity_result_free(r);
    w2v_pair_set_free(p);
    w2v_model_free(m);
}

Test(eval, restriction_skips_and_limits_answers)
{
    /* Rows 0-3 of the family plus boy (4); restrict to 5 rows. */
    w2v_model *m = family();
    w2v_analogy_set *s = analogies(": r\n"
                                   "man woman king queen\n"    /* inside */
                                   "man boy woman girl\n"      /* girl: 5 */
                                   "man woman king unicorn\n"  /* not there */
                                   "man woman boy girl\n");    /* answer? */
    w2v_analogy_options o = w2v_analogy_options_default();
    o.restrict_vocab = 5;
    w2v_analogy_result *r = run(m, s, &o);
    cr_expect_eq(r->rows, 5);
    cr_expect_eq(r->answers[0].outcome, W2V_ANALOGY_CORRECT);
    cr_expect_eq(r->answers[1].outcome, W2V_ANALOGY_SKIPPED_RESTRICT);
    cr_expect_eq(r->answers[2].outcome, W2V_ANALOGY_SKIPPED_OOV);
    cr_expect_eq(r->answers[3].outcome, W2V_ANALOGY_SKIPPED_RESTRICT);
    cr_expect_eq(r->total.questions, 4);
    cr_expect_eq(r->total.correct + r->total.wrong, 1);
    cr_expect_eq(r->total.skipped_restrict, 2);
    cr_expect_eq(r->total.skipped_oov, 1);
    cr_expect_eq(r->answers[1].predicted, -1);
    w2v_analogy_result_free(r);
    w2v_analogy_set_free(s);

    /* prince is row 6: outside 6 rows, found with all 9. */
    s = analogies(": r\nman king boy prince\n");
    o.restrict_vocab = 6;
    r = run(m, s, &o);
    cr_expect_eq(r->answers[0].outcome, W2V_ANALOGY_SKIPPED_RESTRICT);
    w2v_analogy_result_free(r);
    o.restrict_vocab = 0; /* all rows */
    r = run(m, s, &o);
    cr_expect_eq(r->rows, 9);
    cr_expect_eq(r->answers[0].outcome, W2V_ANALOGY_CORRECT);
    w2v_analogy_result_free(r);
    w2v_analogy_set_free(s);
    w2v_model_free(m);
}

/* ---------------------------------------------------------------------- */
/* 3CosMul                                                                 */

Test(eval, cosmul_differs_from_cosadd)
{
    /*
     * a, b, c are the unit axes e1, e2, e3, so a candidate's cosines with
     * them are its first three coordinates:
     *   x1 = (0, .9, -.3, √.1, 0):  cos a, b, c = 0, .9, -.3
     *   x2 = (.1, .3, .3, 0, .9):   cos a, b, c = .1, .3, .3
     * 3CosAdd: cos(x, b - a + c) ∝ cb + cc - ca:  x1 .6,  x2 .5  -> x1.
     * 3CosMul: ((1+cb)/2)((1+cc)/2) / ((1+ca)/2 + .001):
     *   x1 .95 * .35 / .501 = .6637,  x2 .65 * .65 / .551 = .7668 -> x2.
     * One large similarity (x1 to b) dominates the sum, not the product.
     */
    const char *words[] = {"a", "b", "c", "x1", "x2"};
    const float values[] = {
        1, 0, 0, 0, 0,
        0, 1, 0, 0, 0,
        0, 0, 1, 0, 0,
        0, 0.9f, -0.3f, 0.316228f, 0,
        0.1f, 0.3f, 0.3f, 0, 0.9f,
    };
    w2v_model *m = text_model(words, values, 5, 5);
    w2v_analogy_set *s = analogies(": t\na b c x2\n");
    w2v_analogy_options o = w2v_analogy_options_default();
    for (int naive = 0; naive <= 1; naive++) {
        o.naive = naive;
        o.method = W2V_ANALOGY_ADD;
        w2v_analogy_result *r = run(m, s, &o);
        cr_expect_str_eq(answer_word(m, r, 0), "x1");
        cr_expect_eq(r->answers[0].outcome, W2V_ANALOGY_WRONG);
        cr_expect_float_eq(r->answers[0].score, 0.6 / sqrt(3.0), 1e-5);
        w2v_analogy_result_free(r);
        o.method = W2V_ANALOGY_MUL;
        r = run(m, s, &o);
        cr_expect_str_eq(answer_word(m, r, 0), "x2");
        cr_expect_eq(r->answers[0].outcome, W2V_ANALOGY_CORRECT);
        cr_expect_float_eq(r->answers[0].score, 0.65 * 0.65 / 0.551, 1e-5);
        w2v_analogy_result_free(r);
    }
    w2v_analogy_set_free(s);
    w2v_model_free(m);
}

Test(eval, bad_options)
{
    w2v_model *m = family();
    w2v_analogy_set *s = analogies(": t\nman king woman queen\n");
    w2v_analogy_options o = w2v_analogy_options_default();
    w2v_analogy_result *r = NULL;
    w2v_error err = {0};
    o.method = 7;
    cr_expect_eq(w2v_eval_analogies(m, s, &o, &r, &err), W2V_ERR_ARG);
    cr_expect_null(r);
    o = w2v_analogy_options_default();
    o.block = 0;
    cr_expect_eq(w2v_eval_analogies(m, s, &o, &r, &err), W2V_ERR_ARG);
    o = w2v_analogy_options_default();
    o.mul_epsilon = -1;
    cr_expect_eq(w2v_eval_analogies(m, s, &o, &r, &err), W2V_ERR_ARG);
    cr_expect_null(r);
    w2v_analogy_set_free(s);
    w2v_model_free(m);
}

/* ---------------------------------------------------------------------- */
/* Batched against naive                                                   */

enum { RANDOM_WORDS = 2000, RANDOM_DIM = 50, RANDOM_QUESTIONS = 500 };

/*
 * A random model of 2000 words in which every odd row is the row before it
 * plus one shared offset (and a little noise), so that "w2k w2k+1 w2m
 * w2m+1" is an analogy a model can get right. Every 50th word is an
 * upper-case variant of an earlier one ("W12" after "w12"), so that
 * folding matters. Returns the model and, in *text, 500 generated
 * questions in 5 sections: half planted, half random, a few with an
 * unknown word.
 */
static w2v_model *random_model(char **text)
{
    char **words = malloc(RANDOM_WORDS * sizeof *words);
    float *values = malloc(RANDOM_WORDS * RANDOM_DIM * sizeof *values);
    cr_assert(words && values);
    w2v_rng rng;
    w2v_rng_seed(&rng, 42, 0);
    float offset[RANDOM_DIM];
    for (size_t j = 0; j < RANDOM_DIM; j++)
        offset[j] = w2v_rng_float(&rng) - 0.5f;
    for (size_t i = 0; i < RANDOM_WORDS; i++) {
        words[i] = malloc(16);
        if (i % 50 == 49)
            snprintf(words[i], 16, "W%zu", i - 40);
        else
            snprintf(words[i], 16, "w%zu", i);
        float *v = values + i * RANDOM_DIM;
        for (size_t j = 0; j < RANDOM_DIM; j++) {
            float noise = w2v_rng_float(&rng) - 0.5f;
            v[j] = i % 2 ? v[j - RANDOM_DIM] + offset[j] + 0.3f * noise
                         : noise;
        }
    }
    w2v_model *m = text_model((const char *const *)words, values,
                              RANDOM_WORDS, RANDOM_DIM);
    size_t len = 0;
    FILE *f = open_memstream(text, &len);
    for (size_t i = 0; i < RANDOM_QUESTIONS; i++) {
        if (i % 100 == 0)
            fprintf(f, ": %ssection-%zu\n", i % 200 ? "gram" : "", i / 100);
        uint32_t pair[2] = {2 * w2v_rng_below(&rng, RANDOM_WORDS / 2),
                            2 * w2v_rng_below(&rng, RANDOM_WORDS / 2)};
        for (int k = 0; k < 4; k++) {
            uint32_t id = w2v_rng_below(&rng, RANDOM_WORDS);
            if (i % 2 == 0) /* planted: a b = one pair, c d another */
                id = pair[k / 2] + (uint32_t)(k % 2);
            if (i % 97 == 3 && k == 2)
                fprintf(f, "nosuchword");
            else if (w2v_rng_below(&rng, 10) == 0)
                fprintf(f, "W%u", id); /* folds to w<id>, if there */
            else
                fprintf(f, "%s", words[id]);
            fprintf(f, k < 3 ? " " : "\n");
        }
    }
    fclose(f);
    for (size_t i = 0; i < RANDOM_WORDS; i++)
        free(words[i]);
    free(words);
    free(values);
    return m;
}

/*
 * Compares the batched and naive answers. Float sgemm and double loops
 * round differently, so two rows whose scores are within 1e-5 may swap:
 * such near-ties are counted, and must be rare; anything else must match.
 */
static void compare_paths(const w2v_model *m, const w2v_analogy_set *s,
                          int method, size_t block, size_t restrict_vocab)
{
    w2v_analogy_options o = w2v_analogy_options_default();
    o.method = method;
    o.block = block;
    o.restrict_vocab = restrict_vocab;
    w2v_analogy_result *fast = run(m, s, &o);
    o.naive = 1;
    w2v_analogy_result *ref = run(m, s, &o);
    size_t attempted = 0, near_ties = 0;
    for (size_t i = 0; i < fast->n_questions; i++) {
        const w2v_analogy_answer *a = &fast->answers[i], *b = &ref->answers[i];
        if (a->outcome == W2V_ANALOGY_SKIPPED_OOV ||
            a->outcome == W2V_ANALOGY_SKIPPED_RESTRICT) {
            cr_expect_eq(a->outcome, b->outcome);
            continue;
        }
        attempted++;
        cr_expect_float_eq(a->score, b->score, 1e-5, "question %zu", i);
        if (a->predicted != b->predicted) {
            near_ties++;
            cr_expect(fabsf(a->score - b->score) < 1e-5f,
                      "question %zu: %s (%f) against %s (%f)", i,
                      answer_word(m, fast, i), (double)a->score,
                      answer_word(m, ref, i), (double)b->score);
            continue;
        }
        cr_expect_eq(a->outcome, b->outcome, "question %zu", i);
    }
    cr_log_info("%s, block %zu, restrict %zu: %zu attempted, %zu correct, "
                "%zu near-ties", method == W2V_ANALOGY_ADD ? "add" : "mul",
                block, restrict_vocab, attempted, fast->total.correct,
                near_ties);
    cr_expect_leq(near_ties, 2, "%zu near-ties", near_ties);
    /* All four words among 1500 of 2000 rows: about 0.75^4 = 32%. */
    cr_expect_gt(attempted, RANDOM_QUESTIONS / 5, "%zu attempted",
                 attempted);
    cr_expect_gt(fast->total.correct, 0, "some answers are right");
    cr_expect_eq(fast->total.correct + fast->total.wrong, attempted);
    for (size_t k = 0; k < fast->n_sections; k++) {
        cr_expect_eq(fast->sections[k].skipped_oov,
                     ref->sections[k].skipped_oov);
        cr_expect_eq(fast->sections[k].skipped_restrict,
                     ref->sections[k].skipped_restrict);
    }
    w2v_analogy_result_free(fast);
    w2v_analogy_result_free(ref);
}

Test(eval, batched_matches_naive_add, .timeout = 60)
{
    char *text;
    w2v_model *m = random_model(&text);
    w2v_analogy_set *s = analogies(text);
    cr_assert_eq(w2v_analogy_set_size(s), RANDOM_QUESTIONS);
    compare_paths(m, s, W2V_ANALOGY_ADD, 256, 0);
    compare_paths(m, s, W2V_ANALOGY_ADD, 7, 1500);
    compare_paths(m, s, W2V_ANALOGY_ADD, 1, 0);
    w2v_analogy_set_free(s);
    free(text);
    w2v_model_free(m);
}

Test(eval, batched_matches_naive_mul, .timeout = 60)
{
    char *text;
    w2v_model *m = random_model(&text);
    w2v_analogy_set *s = analogies(text);
    compare_paths(m, s, W2V_ANALOGY_MUL, 256, 0);
    compare_paths(m, s, W2V_ANALOGY_MUL, 7, 1500);
    w2v_analogy_set_free(s);
    free(text);
    w2v_model_free(m);
}

/* ---------------------------------------------------------------------- */
/* Spearman                                                                */

Test(eval, spearman_with_ties_hand_worked)
{
    /*
     * x = 3 1 4 1 5: the two 1s share ranks 1 and 2 -> 1.5 each;
     *   ranks 3 1.5 4 1.5 5.
     * y = 9 2 6 5 3: ranks 5 1 4 3 2.
     * Both rank vectors have mean 3. Deviations:
     *   dx = 0 -1.5 1 -1.5 2,  dy = 2 -2 1 0 -1
     *   sum dx dy = 0 + 3 + 1 + 0 - 2 = 2
     *   sum dx^2 = 0 + 2.25 + 1 + 2.25 + 4 = 9.5,  sum dy^2 = 10
     * rho = 2 / sqrt(95) = 0.20519567...
     * (scipy.stats.spearmanr gives the same.)
     */
    const double x[] = {3, 1, 4, 1, 5}, y[] = {9, 2, 6, 5, 3};
    double rho = 0;
    cr_assert_eq(w2v_eval_spearman(x, y, 5, &rho, NULL), W2V_OK);
    cr_expect_float_eq(rho, 2 / sqrt(95.0), 1e-12);

    /*
     * Ties on both sides: x = 10 20 20 30 -> ranks 1 2.5 2.5 4,
     * y = 1 3 2 2 -> ranks 1 4 2.5 2.5; dx = -1.5 0 0 1.5,
     * dy = -1.5 1.5 0 0: sum dx dy = 2.25, sum dx^2 = sum dy^2 = 4.5,
     * rho = 0.5.
     */
    const double x2[] = {10, 20, 20, 30}, y2[] = {1, 3, 2, 2};
    cr_assert_eq(w2v_eval_spearman(x2, y2, 4, &rho, NULL), W2V_OK);
    cr_expect_float_eq(rho, 0.5, 1e-12);

    /* A perfect inverse, and the undefined cases. */
    const double up[] = {1, 2, 3}, down[] = {30, 20, 10}, flat[] = {4, 4, 4};
    cr_assert_eq(w2v_eval_spearman(up, down, 3, &rho, NULL), W2V_OK);
    cr_expect_float_eq(rho, -1.0, 1e-12);
    w2v_error err = {0};
    cr_expect_eq(w2v_eval_spearman(up, flat, 3, &rho, &err), W2V_ERR_ARG);
    cr_expect(isnan(rho));
    cr_expect_eq(w2v_eval_spearman(up, down, 1, &rho, &err), W2V_ERR_ARG);
    cr_expect(isnan(rho));
}

/* ---------------------------------------------------------------------- */
/* Similarity                                                              */

Test(eval, similarity_scores_and_coverage)
{
    w2v_model *m = family();
    /* CRLF, a header, a comment, an unknown word, a word beyond the
     * restriction (banana is row 8), a case difference. */
    w2v_pair_set *p = pairs("Word 1\tWord 2\tHuman (mean)\r\n"
                            "# a comment\r\n"
                            "king\tqueen\t8\r\n"
                            "man\tboy\t6.5\r\n"
                            "KING\tbanana\t0.5\r\n"
                            "man\tunicorn\t3\r\n"
                            "woman\tgirl\t7\r\n");
    cr_expect_eq(w2v_pair_set_header_line(p), 1);
    cr_expect_eq(w2v_pair_set_size(p), 5);
    const w2v_eval_skip *sk;
    cr_expect_eq(w2v_pair_set_skipped(p, &sk), 0);
    w2v_similarity_options o = w2v_similarity_options_default();
    cr_expect_eq(o.restrict_vocab, 300000);
    o.restrict_vocab = 8;
    w2v_similarity_result *r = NULL;
    cr_assert_eq(w2v_eval_similarity(m, p, &o, &r, NULL), W2V_OK);
    cr_expect_eq(r->pairs, 5);
    cr_expect_eq(r->used, 3);
    cr_expect_eq(r->skipped_restrict, 1);
    cr_expect_eq(r->skipped_oov, 1);
    cr_expect_float_eq(r->cosine[0], 0.5, 1e-12);           /* king queen */
    cr_expect_float_eq(r->cosine[1], 1 / sqrt(2.0), 1e-12); /* man boy */
    cr_expect(isnan(r->cosine[2]) && isnan(r->cosine[3]));
    /* human 8, 6.5, 7 against cosines .5, .707, .707: ranks 3 1 2 against
     * 1 2.5 2.5 -> rho = -0.866... (dx = 1 -1 0, dy = -1 .5 .5). */
    cr_expect_float_eq(r->spearman, -1.5 / sqrt(2 * 1.5), 1e-12);
    w2v_similarity_result_free(r);

    /* All rows: banana counts too. */
    r = NULL;
    cr_assert_eq(w2v_eval_similarity(m, p, NULL, &r, NULL), W2V_OK);
    cr_expect_eq(r->used, 4);
    cr_expect_float_eq(r->cosine[2], -2 / sqrt(6.0), 1e-7);
    w2v_similarity_result_free(r);

    /* Case-sensitive: KING is unknown. */
    o = w2v_similarity_options_default();
    o.case_sensitive = 1;
    cr_assert_eq(w2v_eval_similarity(m, p, &o, &r, NULL), W2V_OK);
    cr_expect_eq(r->used, 3);
    cr_expect_eq(r->skipped_oov, 2);
    w2v_similarity_result_free(r);
    w2v_pair_set_free(p);

    /* One pair found: rho is undefined, not an error. */
    p = pairs("king,queen,8\nman,unicorn,3\n");
    cr_assert_eq(w2v_eval_similarity(m, p, NULL, &r, NULL), W2V_OK);
    cr_expect_eq(r->used, 1);
    cr_expect(isnan(r->spearman));
    w2v_similarity_result_free(r);
    w2v_pair_set_free(p);
    w2v_model_free(m);
}

Test(eval, similarity_separators_and_extra_columns)
{
    /* set1.csv style: the header names 5 columns, the score is the 3rd. */
    w2v_pair_set *p = pairs("Word 1,Word 2,Human (mean),1,2\n"
                            "love,sex,6.77,9,6\n"
                            "tiger , cat ,7.35,9,7\n"
                            "a,b,5\n");
    cr_assert_eq(w2v_pair_set_size(p), 2);
    const char *w1, *w2;
    double score;
    size_t line;
    w2v_pair_set_pair(p, 1, &w1, &w2, &score, &line);
    cr_expect_str_eq(w1, "tiger");
    cr_expect_str_eq(w2, "cat");
    cr_expect_float_eq(score, 7.35, 1e-12);
    cr_expect_eq(line, 3);
    const w2v_eval_skip *sk;
    cr_assert_eq(w2v_pair_set_skipped(p, &sk), 1);
    cr_expect_eq(sk[0].line, 4);
    cr_expect(strstr(sk[0].reason, "expected 5 fields") != NULL, "%s",
              sk[0].reason);
    w2v_pair_set_free(p);

    /* Space-separated (MEN style), no header. */
    p = pairs("sun sunlight 50.000000\nautomobile car 50\n");
    cr_expect_eq(w2v_pair_set_header_line(p), 0);
    cr_assert_eq(w2v_pair_set_size(p), 2);
    w2v_pair_set_pair(p, 0, &w1, &w2, &score, NULL);
    cr_expect_str_eq(w2, "sunlight");
    cr_expect_float_eq(score, 50, 0);
    w2v_pair_set_free(p);
}

/* ---------------------------------------------------------------------- */
/* Malformed lines                                                         */

Test(eval, malformed_analogy_lines_are_reported)
{
    static const char text[] =
        "a b c d\n"              /* 1: before any section */
        ": first\n"              /* 2 */
        "man king woman queen\n" /* 3 */
        "man king woman\n"       /* 4: three words */
        "a b c d e\n"            /* 5: five words */
        "\n"                     /* 6: blank, ignored */
        "a b\0c d\n"             /* 7: NUL byte */
        ":nospace x y z\n"       /* 8: not a header: four words */
        ": second\r\n"           /* 9: CRLF header */
        "boy prince girl princess\r\n"; /* 10 */
    w2v_analogy_set *s = NULL;
    w2v_error err = {0};
    cr_assert_eq(w2v_analogy_set_parse(text, sizeof text - 1, "t", &s, &err),
                 W2V_OK, "%s", err.message);
    cr_expect_eq(w2v_analogy_set_size(s), 3);
    cr_expect_eq(w2v_analogy_set_sections(s), 2);
    cr_expect_str_eq(w2v_analogy_set_section_name(s, 1), "second");
    const w2v_eval_skip *sk;
    size_t n = w2v_analogy_set_skipped(s, &sk);
    cr_assert_eq(n, 4);
    const size_t lines[] = {1, 4, 5, 7};
    for (size_t i = 0; i < n; i++)
        cr_expect_eq(sk[i].line, lines[i], "skip %zu: line %zu", i,
                     sk[i].line);
    cr_expect(strstr(sk[0].reason, "before the first") != NULL);
    cr_expect_str_eq(sk[1].reason, "expected 4 words, found 3");
    cr_expect_str_eq(sk[2].reason, "expected 4 words, found 5");
    cr_expect(strstr(sk[3].reason, "NUL") != NULL);
    const char *w[4];
    size_t section, line;
    w2v_analogy_set_question(s, 2, w, &section, &line);
    cr_expect_str_eq(w[3], "princess", "CR is not part of the word");
    cr_expect_eq(section, 1);
    cr_expect_eq(line, 10);
    w2v_analogy_set_question(s, 1, w, NULL, &line);
    cr_expect_str_eq(w[0], ":nospace");
    cr_expect_eq(line, 8);
    /* The malformed lines are not counted anywhere. */
    w2v_model *m = family();
    w2v_analogy_result *r = run(m, s, NULL);
    cr_expect_eq(r->total.questions, 3);
    w2v_analogy_result_free(r);
    w2v_model_free(m);
    w2v_analogy_set_free(s);
}

Test(eval, malformed_similarity_lines_are_reported)
{
    w2v_pair_set *p = pairs("# WordSim-like\n"       /* 1 */
                            "Word 1\tWord 2\tScore\n" /* 2: header */
                            "tiger\tcat\t7.35\n"      /* 3 */
                            "tiger\tcat\n"            /* 4: two fields */
                            "book\tpaper\tabc\n"      /* 5: not a number */
                            "\tpaper\t3\n"            /* 6: empty word */
                            "\n"                      /* 7: blank */
                            "a\tb\tnan\n"             /* 8: not decimal */
                            "a\tb\t1\t2\n"            /* 9: four fields */
                            "c\td\t-2.5e-1\n");       /* 10 */
    cr_expect_eq(w2v_pair_set_header_line(p), 2);
    cr_expect_eq(w2v_pair_set_size(p), 2);
    const w2v_eval_skip *sk;
    size_t n = w2v_pair_set_skipped(p, &sk);
    cr_assert_eq(n, 5);
    const size_t lines[] = {4, 5, 6, 8, 9};
    for (size_t i = 0; i < n; i++)
        cr_expect_eq(sk[i].line, lines[i], "skip %zu: line %zu (%s)", i,
                     sk[i].line, sk[i].reason);
    cr_expect_str_eq(sk[0].reason,
                     "expected 3 fields separated by tabs, found 2");
    cr_expect_str_eq(sk[1].reason, "score \"abc\" is not a number");
    cr_expect_str_eq(sk[2].reason, "an empty word");
    double score;
    w2v_pair_set_pair(p, 1, NULL, NULL, &score, NULL);
    cr_expect_float_eq(score, -0.25, 0);
    w2v_pair_set_free(p);
}

Test(eval, files_without_data_are_errors)
{
    w2v_analogy_set *s = (w2v_analogy_set *)1;
    w2v_error err = {0};
    const char *t = ": only\nthree words here\n";
    cr_expect_eq(w2v_analogy_set_parse(t, strlen(t), "q.txt", &s, &err),
                 W2V_ERR_EMPTY);
    cr_expect_null(s);
    cr_expect(strstr(err.message, "q.txt") && strstr(err.message, "line 2"),
              "%s", err.message);
    w2v_pair_set *p = (w2v_pair_set *)1;
    t = "Word 1\tWord 2\tScore\n";
    cr_expect_eq(w2v_pair_set_parse(t, strlen(t), "ws.tab", &p, &err),
                 W2V_ERR_EMPTY);
    cr_expect_null(p);
    cr_expect_eq(w2v_analogy_set_parse("", 0, "e", &s, &err), W2V_ERR_EMPTY);

    char *missing = tu_path(tu_scratch(), "missing.txt");
    cr_expect_eq(w2v_analogy_set_load(missing, &s, &err), W2V_ERR_IO);
    cr_expect(strstr(err.message, "missing.txt") != NULL, "%s", err.message);
    cr_expect_eq(w2v_pair_set_load(tu_scratch(), &p, &err), W2V_ERR_IO);
    cr_expect(strstr(err.message, "directory") != NULL, "%s", err.message);
    cr_expect_null(p);
    free(missing);

    /* Frees of NULL are no-ops. */
    w2v_analogy_set_free(NULL);
    w2v_pair_set_free(NULL);
    w2v_analogy_result_free(NULL);
    w2v_similarity_result_free(NULL);
}

Test(eval, load_from_files)
{
    char *q = put("q.txt", ": s\nman king woman queen\n");
    char *ws = put("ws.tab", "king\tqueen\t8\n");
    w2v_analogy_set *s = NULL;
    w2v_pair_set *p = NULL;
    cr_assert_eq(w2v_analogy_set_load(q, &s, NULL), W2V_OK);
    cr_assert_eq(w2v_pair_set_load(ws, &p, NULL), W2V_OK);
    cr_expect_eq(w2v_analogy_set_size(s), 1);
    cr_expect_eq(w2v_pair_set_size(p), 1);
    w2v_analogy_set_free(s);
    w2v_pair_set_free(p);
    free(q);
    free(ws);
}

/* ---------------------------------------------------------------------- */
/* The w2v-eval tool                                                       */

/* Runs cmd with sh in the scratch directory; returns its exit status and
 * its standard output and error (malloc'ed) in *out. */
static int run_tool(const char *cmd, char **out)
{
    char *log = tu_path(tu_scratch(), "tool.log");
    char *full = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&full, &len);
    fprintf(f, "cd '%s' && %s >'%s' 2>&1", tu_scratch(), cmd, log);
    fclose(f);
    int st = system(full);
    cr_assert(st != -1 && WIFEXITED(st), "%s", full);
    *out = tu_read_file(log, NULL);
    free(log);
    free(full);
    return WEXITSTATUS(st);
}

Test(eval, tool_command_line)
{
    w2v_model *m = family();
    w2v_model_free(m); /* leaves model.txt in the scratch directory */
    free(put("q.txt", ": royalty\nman king woman queen\nman king woman\n"));
    free(put("a.tab", "king\tqueen\t8\nman\tboy\t6\nman\tgirl\t2\n"));
    free(put("b.csv", "king,queen,8\nboy,girl,9\nman,woman,1\n"));
    char *out;

    /* No default question file here: say how to get one, exit 2. */
    int rc = run_tool(W2V_BIN_DIR "/w2v-eval -model model.txt", &out);
    cr_expect_eq(rc, 2, "%s", out);
    cr_expect(strstr(out, "eval/fetch-eval-data.sh") != NULL, "%s", out);
    cr_expect(strstr(out, "-analogies") != NULL, "%s", out);
    free(out);

    /* -similarity twice, JSON, a malformed line reported by number. */
    rc = run_tool(W2V_BIN_DIR "/w2v-eval -model model.txt -analogies q.txt "
                  "-similarity a.tab --similarity=b.csv -format json", &out);
    cr_expect_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "q.txt:3: expected 4 words, found 3") != NULL,
              "%s", out);
    cr_expect(strstr(out, "\"file\": \"a.tab\"") != NULL, "%s", out);
    cr_expect(strstr(out, "\"file\": \"b.csv\"") != NULL, "%s", out);
    cr_expect(strstr(out, "\"correct\": 1") != NULL, "%s", out);
    cr_expect(strstr(out, "\"malformed\": [{\"line\": 3") != NULL, "%s",
              out);
    free(out);

    /* The table. */
    rc = run_tool("W2V_MODEL=model.txt " W2V_BIN_DIR "/w2v-eval -analogies "
                  "q.txt -similarity a.tab", &out);
    cr_expect_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "royalty") != NULL, "%s", out);
    cr_expect(strstr(out, "Spearman rho") != NULL, "%s", out);
    free(out);

    /* Usage errors and unreadable files: exit 2. */
    const char *bad[] = {
        "-model model.txt -analogies q.txt -method sub",
        "-model model.txt -analogies q.txt -format xml",
        "-model model.txt -analogies q.txt -similarity",
        "-model model.txt -analogies missing.txt",
        "-model missing.bin -analogies q.txt",
        "-model model.txt -analogies q.txt extra",
        "-model model.txt -no-analogies",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "%s/w2v-eval %s", W2V_BIN_DIR, bad[i]);
        rc = run_tool(cmd, &out);
        cr_expect_eq(rc, 2, "%s: %d\n%s", bad[i], rc, out);
        free(out);
    }
}
