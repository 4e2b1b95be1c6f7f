/*
 * w2v/vocab.h - the vocabulary: words, their counts, and a hash lookup.
 *
 * Words are byte strings (any bytes but whitespace and NUL, any length) with
 * 64-bit counts. Ids are dense, 0 .. size-1. After w2v_vocab_finalize the
 * ids are ordered by count, most frequent first (ties by byte order, so the
 * order is deterministic), which is the order of every model file w2v writes.
 *
 * Lookups are read-only and may run from many threads at once; adding words
 * may not run concurrently with anything else.
 */
#ifndef W2V_VOCAB_H
#define W2V_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "w2v/corpus.h"
#include "w2v/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct w2v_vocab w2v_vocab;

/* Creates an empty vocabulary. *out is NULL on failure. */
int w2v_vocab_new(w2v_vocab **out, w2v_error *err);

/* Frees the vocabulary. NULL is a no-op. */
void w2v_vocab_free(w2v_vocab *v);

/* Number of words. */
size_t w2v_vocab_size(const w2v_vocab *v);

/* The id of word[0, len), or -1 when it is not in the vocabulary. */
int64_t w2v_vocab_find(const w2v_vocab *v, const char *word, size_t len);

/* Word id as a NUL-terminated string, owned by v; id must be < size. */
const char *w2v_vocab_word(const w2v_vocab *v, size_t id);

/* Length in bytes of word id. */
size_t w2v_vocab_word_len(const w2v_vocab *v, size_t id);

/* Count of word id. */
uint64_t w2v_vocab_count(const w2v_vocab *v, size_t id);

/* Sum of all counts. */
uint64_t w2v_vocab_total(const w2v_vocab *v);

/*
 * Adds count to word[0, len), inserting it if new; *id (may be NULL)
 * receives its id. W2V_ERR_ARG for an empty word or one containing
 * whitespace or NUL (it could not be written to a model file).
 */
int w2v_vocab_add(w2v_vocab *v, const char *word, size_t len, uint64_t count,
                  int64_t *id, w2v_error *err);

/*
 * Makes room for `words` words of text_bytes bytes in all (each word's
 * length + 1), so that adding that many allocates nothing more: a loader
 * that knows the size from a file header saves the reallocations and the
 * rehashing of growing one word at a time. Changes nothing else.
 */
int w2v_vocab_reserve(w2v_vocab *v, size_t words, size_t text_bytes,
                      w2v_error *err);

/*
 * Drops words with count < min_count, sorts by count (descending; ties by
 * byte order), keeps at most max_words (0 = no limit) and renumbers ids.
 */
int w2v_vocab_finalize(w2v_vocab *v, uint64_t min_count, size_t max_words,
                       w2v_error *err);

/* Settings for w2v_vocab_build. */
typedef struct w2v_vocab_options {
    uint64_t min_count;  /* drop words seen fewer times (default 5) */
    size_t max_words;    /* keep at most this many, 0 = all (default 0) */
    /*
     * While counting, when the number of distinct words exceeds this, the
     * rarest are pruned (count <= 1, then <= 2, ...) so that memory stays
     * bounded on huge corpora; counts of pruned words are lost, as in the
     * original word2vec. Default 30,000,000.
     */
    size_t max_distinct;
    /*
     * Threads for the counting pass (default 1, 0 = all online cores, at
     * most 256). They read the corpus's blocks in turn and count into
     * tables of their own, summed at the end: the counts and the finalised
     * vocabulary are the same as with one thread, except when pruning
     * happens, since each thread then prunes its own table at
     * max_distinct / threads.
     */
    size_t threads;
} w2v_vocab_options;

/* The defaults above. */
w2v_vocab_options w2v_vocab_options_default(void);

/*
 * Counts every word of the corpus (one full pass, then rewinds it) and
 * finalises the result. W2V_ERR_EMPTY when the corpus has no words, or none
 * reaches min_count (the message gives the highest count seen).
 */
int w2v_vocab_build(w2v_corpus *corpus, const w2v_vocab_options *opt,
                    w2v_vocab **out, w2v_error *err);

/*
 * Writes "word count\n" lines, one per id (the word2vec -save-vocab format),
 * to a temporary file renamed to path when complete.
 */
int w2v_vocab_save(const w2v_vocab *v, const char *path, w2v_error *err);

/*
 * Reads a file written by w2v_vocab_save (or word2vec -save-vocab). Strict:
 * every line must be "word count" with a decimal count; duplicates, empty
 * words and junk are errors naming the line. The result is finalised with
 * the given limits.
 */
int w2v_vocab_load(const char *path, uint64_t min_count, size_t max_words,
                   w2v_vocab **out, w2v_error *err);

/* A deep copy of v. */
int w2v_vocab_clone(const w2v_vocab *v, w2v_vocab **out, w2v_error *err);

#ifdef __cplusplus
}
#endif

#endif /* W2V_VOCAB_H */
