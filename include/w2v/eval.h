/*
 * w2v/eval.h - scoring a model on the standard benchmarks: word analogies
 * (the Google questions-words.txt format) and word similarity (WordSim-353
 * style files).
 *
 * The figures are those of gensim 4.2's
 * KeyedVectors.evaluate_word_analogies(path, restrict_vocab=30000,
 * case_insensitive=True) and evaluate_word_pairs(path, delimiter='\t',
 * case_insensitive=True), question for question. Their conventions:
 *
 * Case. Words are compared in upper case (Python's str.upper: "ß" becomes
 * "SS"). Where several rows of the model fold to the same word ("King",
 * "king"), the first row, i.e. the most frequent word, stands for all of
 * them. Folding covers U+0000-U+052F (Latin, Greek, Cyrillic) and the Latin
 * ligatures U+FB00-U+FB06; other characters are compared as they are. With
 * case_sensitive set, words are compared byte for byte.
 *
 * Restriction. Only the first restrict_vocab rows take part (the model's
 * rows are most frequent first): a question or pair with a word that is not
 * among them is skipped, not scored, and reported as coverage (separately
 * for words outside the restriction and words not in the model at all).
 *
 * Analogies. A question "a b c d" reads "a is to b as c is to ?" and
 * expects d (Athens Greece Baghdad Iraq). 3CosAdd ranks every allowed row x
 * by cos(x, b - a + c) over unit vectors; 3CosMul (Levy and Goldberg 2014)
 * by
 *   cos'(x, b) cos'(x, c) / (cos'(x, a) + epsilon),  cos' = (cos + 1) / 2.
 * The rows of a, b and c are never answers. Of the five best rows left,
 * best first (equal scores: the lower row first), the answer is the first
 * whose folded word is not one of the three inputs' (so a rarer case
 * variant of an input is passed over); if all five are such variants, the
 * fifth. The question is correct when the answer folds to d. Sections whose
 * name begins with "gram" are syntactic, the others semantic; the total
 * sums all sections.
 *
 * Similarity. The cosine of each pair whose two words are allowed, then
 * Spearman's rank correlation with the human scores (tied values get the
 * mean of their ranks, as scipy.stats.spearmanr).
 *
 * Where gensim and w2v differ: a zero vector scores 0 here (gensim divides
 * by its zero norm); cosines of pairs are computed in double precision;
 * whitespace is ASCII whitespace; exactly equal scores rank the lower row
 * first (numpy's order is unspecified). 3CosMul's epsilon defaults to the
 * paper's 0.001 (gensim's most_similar_cosmul uses 1e-6). The readers
 * below are a little more forgiving than gensim's (blank lines, a question
 * before the first section, spaces around fields, extra columns named by a
 * header) and list every line they skip instead of logging it.
 *
 * File formats, and what is reported rather than counted:
 *
 *   analogies   ": name" starts a section; every other line is a question
 *               of exactly four whitespace-separated words. Blank lines are
 *               ignored. A line with another number of words, a question
 *               before the first section and a line with a NUL byte are
 *               skipped and listed with their line number and reason.
 *   similarity  "word1 SEP word2 SEP score" lines, SEP a tab, a comma or
 *               (when a line has neither) spaces, chosen from the first
 *               data line; lines beginning with "#" are comments, blank
 *               lines are ignored, spaces around a field are ignored. When
 *               the first data line's score is not a number it is the
 *               header; the header also fixes the number of columns (the
 *               score is always the third; others are ignored). Every other
 *               line with the wrong number of fields, an empty word or a
 *               score that is not a finite decimal number is listed.
 *
 * Line numbers start at 1.
 */
#ifndef W2V_EVAL_H
#define W2V_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "w2v/error.h"
#include "w2v/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Room for the reason in a w2v_eval_skip; longer reasons are cut. */
#define W2V_EVAL_REASON_MAX 96

/* A line of an evaluation file that was skipped as malformed. */
typedef struct w2v_eval_skip {
    size_t line;                       /* 1-based */
    char reason[W2V_EVAL_REASON_MAX];  /* "expected 4 words, found 3" */
} w2v_eval_skip;

/* ---------------------------------------------------------------------- */
/* Analogy question files                                                  */

typedef struct w2v_analogy_set w2v_analogy_set;

/*
 * Reads an analogy file. W2V_ERR_IO when it cannot be read, W2V_ERR_EMPTY
 * when it holds no well-formed question (the message gives the first
 * malformed line). Malformed lines do not fail the call: they are listed
 * (w2v_analogy_set_skipped). On success *out owns everything; free it with
 * w2v_analogy_set_free. On failure *out is NULL.
 */
int w2v_analogy_set_load(const char *path, w2v_analogy_set **out,
                         w2v_error *err);

/*
 * The same from text[0, len) in memory; name is used in messages. text
 * need not be NUL-terminated and is not kept.
 */
int w2v_analogy_set_parse(const char *text, size_t len, const char *name,
                          w2v_analogy_set **out, w2v_error *err);

/* Frees the set. NULL is a no-op. */
void w2v_analogy_set_free(w2v_analogy_set *s);

/* Number of well-formed questions, in file order. */
size_t w2v_analogy_set_size(const w2v_analogy_set *s);

/* Number of sections (a section may hold no question). */
size_t w2v_analogy_set_sections(const w2v_analogy_set *s);

/* Name of section i (< sections), owned by the set. */
const char *w2v_analogy_set_section_name(const w2v_analogy_set *s, size_t i);

/*
 * Question i (< size): its four words (owned by the set) "a b c d" for
 * "a is to b as c is to d", its section and its line. Any of the out
 * pointers may be NULL.
 */
void w2v_analogy_set_question(const w2v_analogy_set *s, size_t i,
                              const char *words[4], size_t *section,
                              size_t *line);

/* The malformed lines, in file order; *lines is owned by the set. */
size_t w2v_analogy_set_skipped(const w2v_analogy_set *s,
                               const w2v_eval_skip **lines);

/* ---------------------------------------------------------------------- */
/* Analogy evaluation                                                      */

/* Ways to rank the answers to "a b c ?". */
enum w2v_analogy_method {
    W2V_ANALOGY_ADD = 0,  /* 3CosAdd: cos(x, b - a + c) */
    W2V_ANALOGY_MUL = 1   /* 3CosMul, Levy and Goldberg 2014 */
};

/* Analogy settings. Start from w2v_analogy_options_default(). */
typedef struct w2v_analogy_options {
    int method;             /* W2V_ANALOGY_ADD (default) or _MUL */
    size_t restrict_vocab;  /* rows that take part, default 30000; 0 = all */
    int case_sensitive;     /* 0 (default): fold case as described above */
    double mul_epsilon;     /* 3CosMul's epsilon, default 0.001 */
    /*
     * The fast path scores the distinct input words of a block of
     * questions with one sgemm against every allowed row, and combines
     * three rows of cosines per question. block is the most words per
     * sgemm, default 256 (at least 3 are used); the block of scores is
     * also kept under 64 MB.
     */
    size_t block;
    /*
     * 1 = the reference path: one question at a time, a plain loop in
     * double precision, no BLAS. Slow; for tests. Default 0.
     */
    int naive;
} w2v_analogy_options;

/* The defaults above. */
w2v_analogy_options w2v_analogy_options_default(void);

/* What became of one question. */
enum w2v_analogy_outcome {
    W2V_ANALOGY_CORRECT = 0,
    W2V_ANALOGY_WRONG = 1,
    W2V_ANALOGY_SKIPPED_OOV = 2,      /* a word is not in the model */
    W2V_ANALOGY_SKIPPED_RESTRICT = 3  /* a word is beyond restrict_vocab */
};

typedef struct w2v_analogy_answer {
    int outcome;        /* enum w2v_analogy_outcome */
    int64_t predicted;  /* model row of the answer; -1 if skipped or none */
    float score;        /* its score (3CosAdd: a cosine); 0 if none */
} w2v_analogy_answer;

/* Counts for a section, or for a sum of sections. */
typedef struct w2v_analogy_score {
    const char *name;         /* section name; "semantic", "syntactic" and
                                 "total" for the sums */
    int syntactic;            /* 1 when the name begins with "gram" */
    size_t questions;         /* well-formed questions */
    size_t correct;
    size_t wrong;             /* attempted = correct + wrong */
    size_t skipped_oov;       /* a word not in the model */
    size_t skipped_restrict;  /* all in the model, one beyond restrict */
} w2v_analogy_score;

/* A plain result; every pointer in it is owned by it. */
typedef struct w2v_analogy_result {
    size_t n_sections;
    w2v_analogy_score *sections;  /* (n_sections) in file order */
    w2v_analogy_score semantic, syntactic, total;
    size_t n_questions;
    w2v_analogy_answer *answers;  /* (n_questions) in the set's order */
    size_t rows;                  /* rows that took part */
} w2v_analogy_result;

/*
 * Answers every question of s with the model m. opt NULL means the
 * defaults; W2V_ERR_ARG for an unknown method, a block of 0 or a negative
 * epsilon. The model and set are only read. On success *out is a new
 * result (free it with w2v_analogy_result_free); on failure NULL.
 */
int w2v_eval_analogies(const w2v_model *m, const w2v_analogy_set *s,
                       const w2v_analogy_options *opt,
                       w2v_analogy_result **out, w2v_error *err);

/* Frees a result. NULL is a no-op. */
void w2v_analogy_result_free(w2v_analogy_result *r);

/* ---------------------------------------------------------------------- */
/* Word-pair similarity files                                              */

typedef struct w2v_pair_set w2v_pair_set;

/*
 * Reads a word-pair file. W2V_ERR_IO when it cannot be read, W2V_ERR_EMPTY
 * when it holds no well-formed pair. Malformed lines are listed
 * (w2v_pair_set_skipped). On success *out owns everything (free it with
 * w2v_pair_set_free); on failure *out is NULL.
 */
int w2v_pair_set_load(const char *path, w2v_pair_set **out, w2v_error *err);

/* The same from text[0, len) in memory; name is used in messages. */
int w2v_pair_set_parse(const char *text, size_t len, const char *name,
                       w2v_pair_set **out, w2v_error *err);

/* Frees the set. NULL is a no-op. */
void w2v_pair_set_free(w2v_pair_set *s);

/* Number of well-formed pairs, in file order. */
size_t w2v_pair_set_size(const w2v_pair_set *s);

/*
 * Pair i (< size): its words (owned by the set), human score and line. Any
 * of the out pointers may be NULL.
 */
void w2v_pair_set_pair(const w2v_pair_set *s, size_t i, const char **w1,
                       const char **w2, double *score, size_t *line);

/* Line of the header that was skipped, 0 if there was none. */
size_t w2v_pair_set_header_line(const w2v_pair_set *s);

/* The malformed lines, in file order; *lines is owned by the set. */
size_t w2v_pair_set_skipped(const w2v_pair_set *s,
                            const w2v_eval_skip **lines);

/* ---------------------------------------------------------------------- */
/* Similarity evaluation                                                   */

/* Similarity settings. Start from w2v_similarity_options_default(). */
typedef struct w2v_similarity_options {
    size_t restrict_vocab;  /* default 300000 (gensim's); 0 = all */
    int case_sensitive;     /* 0 (default): fold case */
} w2v_similarity_options;

/* The defaults above. */
w2v_similarity_options w2v_similarity_options_default(void);

/* A plain result; every pointer in it is owned by it. */
typedef struct w2v_similarity_result {
    size_t pairs;             /* well-formed pairs */
    size_t used;              /* both words allowed: the pairs scored */
    size_t skipped_oov;       /* a word not in the model */
    size_t skipped_restrict;  /* both in the model, one beyond restrict */
    /*
     * Spearman's rho between the human scores and the cosines of the used
     * pairs; NaN when fewer than two pairs were used or either side is
     * constant (the correlation is undefined).
     */
    double spearman;
    double *cosine;           /* (pairs) NaN for a pair not used */
} w2v_similarity_result;

/*
 * Scores every pair of s with the model m; opt NULL means the defaults.
 * An undefined correlation is not an error (spearman is NaN). On success
 * *out is a new result (free it with w2v_similarity_result_free); on
 * failure NULL.
 */
int w2v_eval_similarity(const w2v_model *m, const w2v_pair_set *s,
                        const w2v_similarity_options *opt,
                        w2v_similarity_result **out, w2v_error *err);

/* Frees a result. NULL is a no-op. */
void w2v_similarity_result_free(w2v_similarity_result *r);

/*
 * Spearman's rank correlation of x and y (n values each): the Pearson
 * correlation of their ranks, tied values sharing the mean of their ranks.
 * W2V_ERR_ARG when n < 2 or x or y is constant; *rho is NaN then.
 */
int w2v_eval_spearman(const double *x, const double *y, size_t n,
                      double *rho, w2v_error *err);

#ifdef __cplusplus
}
#endif

#endif /* W2V_EVAL_H */
