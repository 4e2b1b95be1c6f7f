/*
 * w2v/corpus.h - a streaming reader for plain or gzip text corpora.
 *
 * A corpus is whitespace-separated words; a newline ends a sentence. Plain
 * and gzip files are detected from their content (zlib reads both), "-" is
 * standard input. The reader hands out blocks of text that always end on a
 * word boundary, so blocks can be tokenised independently (by several
 * threads) and no word is ever split.
 *
 * Memory is bounded by the block size, whatever the corpus size. Standard
 * input cannot be read twice, so when it must be (a vocabulary pass, then
 * training epochs) the first pass copies it to an unlinked temporary file
 * (in $TMPDIR, else /tmp): disk, not memory, grows with the corpus.
 *
 * The reader is strict. It stops with W2V_ERR_FORMAT, naming the file and the
 * byte offset (of the uncompressed text), on a NUL or other control byte
 * (binary data is not a corpus) and on a word longer than W2V_MAX_WORD_BYTES
 * (a run of that many bytes without whitespace is not text either). A
 * corrupt or truncated gzip stream is W2V_ERR_FORMAT too. Lines may be of
 * any length: text8, one 100 MB line, is a valid corpus.
 */
#ifndef W2V_CORPUS_H
#define W2V_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#include "w2v/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The longest word a corpus may contain, in bytes. */
#define W2V_MAX_WORD_BYTES 65536

/* The smallest buffer w2v_corpus_read accepts. */
#define W2V_CORPUS_MIN_BLOCK (4 * W2V_MAX_WORD_BYTES)

typedef struct w2v_corpus w2v_corpus;

/*
 * Opens path ("-" for standard input) for reading. On success *out owns the
 * open file; free it with w2v_corpus_close. On failure *out is NULL.
 */
int w2v_corpus_open(const char *path, w2v_corpus **out, w2v_error *err);

/* Closes the corpus and frees it. NULL is a no-op. */
void w2v_corpus_close(w2v_corpus *c);

/* The name used in messages: the path, or "standard input" for "-". */
const char *w2v_corpus_path(const w2v_corpus *c);

/*
 * Reads the next block of text into buf (cap bytes, at least
 * W2V_CORPUS_MIN_BLOCK). The block ends after a whitespace byte (preferably
 * a newline) or at the end of the corpus, so no word is split. *len is the
 * number of bytes stored; 0 means the end of the corpus. Not thread-safe:
 * callers sharing one corpus serialise their calls.
 */
int w2v_corpus_read(w2v_corpus *c, char *buf, size_t cap, size_t *len,
                    w2v_error *err);

/*
 * Goes back to the start for another pass. Standard input is replayed from
 * its temporary copy (the rest of the stream is copied first).
 */
int w2v_corpus_rewind(w2v_corpus *c, w2v_error *err);

/* Bytes of text handed out since the last rewind (the next byte's offset). */
uint64_t w2v_corpus_offset(const w2v_corpus *c);

/* Token kinds returned by w2v_tokens_next. */
enum w2v_token {
    W2V_TOKEN_END = 0,  /* no more tokens in this block */
    W2V_TOKEN_WORD = 1, /* a word: *word, *len are set */
    W2V_TOKEN_EOL = 2   /* a newline: the end of a sentence */
};

/* An iterator over the words of one block. Plain data; no cleanup needed. */
typedef struct w2v_tokens {
    const char *pos; /* next byte to look at */
    const char *end; /* one past the block */
} w2v_tokens;

/* Starts iterating over text[0, len). */
void w2v_tokens_init(w2v_tokens *t, const char *text, size_t len);

/*
 * Returns the next token. Words are maximal runs of bytes other than space,
 * tab, vertical tab, form feed, carriage return and newline; *word points
 * into the block (not NUL-terminated) and *len is its length.
 */
int w2v_tokens_next(w2v_tokens *t, const char **word, size_t *len);

#ifdef __cplusplus
}
#endif

#endif /* W2V_CORPUS_H */
