/*
 * w2v/tokenizer.h - raw text to token ids with a model's vocabulary: the
 * input layer of a language model whose embedding matrix is the model.
 *
 * Token ids. A vocabulary of V words gives V + 2 ids:
 *
 *   0 .. V-1   the vocabulary's words, in its order (row i of the model)
 *   V          W2V_TOKEN_UNK "<|unk|>": a word the vocabulary lacks
 *   V + 1      W2V_TOKEN_EOT "<|endoftext|>": between two documents
 *
 * Normalisation. The text is changed the way w2v's corpora were prepared
 * (corpora/build-demo-corpus.sh, the text8 convention), so that a word is
 * looked up as the trainer saw it:
 *
 *   - ASCII letters are lowercased: "The" -> "the".
 *   - Each digit becomes a word of its own, spelled out in English:
 *     "1984" -> "one nine eight four", "mp3" -> "mp three".
 *   - Latin letters with accents (UTF-8; U+00C0 .. U+024F, U+1E00 ..
 *     U+1EFF, and the Kelvin and Angstrom signs) lose them: "Café" ->
 *     "cafe", "Việt" -> "viet"; that is every character whose canonical
 *     decomposition is a letter a-z and combining marks. Non-spacing marks
 *     (general category Mn, Unicode 14.0) are dropped, so a decomposed "e"
 *     + U+0301 is "e" as well. Letters without a base letter in a-z (æ, ø,
 *     ß, ł, ...) are separators, as in the corpora.
 *   - Every other byte or character (punctuation, other scripts, bytes that
 *     are not valid UTF-8) separates words: "don't" -> "don t".
 *   - A line end ("\n", "\r\n" or "\r") or the literal text "<|endoftext|>"
 *     ends a document. One <|endoftext|> id goes between two documents that
 *     hold words; documents without words add nothing.
 *
 * A word the vocabulary lacks becomes <|unk|>, never an error; the
 * encoding counts them. Words are looked up exactly as normalised: a model
 * trained on text that was not normalised this way may hold words (capitals,
 * punctuation) that the tokenizer never produces.
 */
#ifndef W2V_TOKENIZER_H
#define W2V_TOKENIZER_H

#include <stddef.h>

#include "w2v/error.h"
#include "w2v/vocab.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The special tokens, as printed and written to vocabulary files. */
#define W2V_TOKEN_UNK "<|unk|>"
#define W2V_TOKEN_EOT "<|endoftext|>"

typedef struct w2v_tokenizer w2v_tokenizer;

/*
 * A tokenizer over vocab, which it borrows: vocab must outlive it and not
 * change while it is used. W2V_ERR_EMPTY for an empty vocabulary. Encoding
 * is read-only and may run from many threads at once.
 */
int w2v_tokenizer_new(const w2v_vocab *vocab, w2v_tokenizer **out,
                      w2v_error *err);

/* Frees the tokenizer (not the vocabulary). NULL is a no-op. */
void w2v_tokenizer_free(w2v_tokenizer *t);

/* Number of ids: the vocabulary's size + 2. */
size_t w2v_tokenizer_size(const w2v_tokenizer *t);

/* The id of <|unk|>: the vocabulary's size V. */
size_t w2v_tokenizer_unk_id(const w2v_tokenizer *t);

/* The id of <|endoftext|>: V + 1. */
size_t w2v_tokenizer_eot_id(const w2v_tokenizer *t);

/*
 * The text of token id (a word of the vocabulary, or a special token's
 * name), NUL-terminated, owned by the tokenizer's vocabulary or constant;
 * id must be < w2v_tokenizer_size.
 */
const char *w2v_tokenizer_token(const w2v_tokenizer *t, size_t id);

/* One token of an encoding. */
typedef struct w2v_tok {
    size_t id;    /* token id, < w2v_tokenizer_size */
    size_t start; /* where its word starts in the encoding's text */
    size_t len;   /* its word's length in bytes there; 0 for <|endoftext|> */
} w2v_tok;

/* The result of w2v_tokenizer_encode. Free with w2v_encoding_free. */
typedef struct w2v_encoding {
    w2v_tok *tokens; /* (n) in text order */
    size_t n;          /* number of tokens */
    size_t n_unk;      /* how many are <|unk|> */
    char *text;        /* the normalised text: words separated by one space,
                          documents by "\n"; NUL-terminated */
    size_t text_len;   /* its length in bytes */
} w2v_encoding;

/*
 * Normalises text[0, len) (see the top of the file) and maps each word to
 * its id. On success *out owns its arrays; an input without any word gives
 * n = 0 and W2V_OK (the caller decides whether that is an error). On
 * failure (W2V_ERR_NOMEM) *out is zeroed.
 */
int w2v_tokenizer_encode(const w2v_tokenizer *t, const char *text,
                         size_t len, w2v_encoding *out, w2v_error *err);

/* Frees what an encoding owns and zeroes it. A zeroed encoding is a no-op. */
void w2v_encoding_free(w2v_encoding *e);

/*
 * The normalised form of text[0, len) alone, as in w2v_encoding.text:
 * a malloc'ed NUL-terminated string (free with free()) and its length in
 * *out_len (may be NULL). NULL when out of memory.
 */
char *w2v_tokenizer_normalize(const char *text, size_t len, size_t *out_len,
                              w2v_error *err);

#ifdef __cplusplus
}
#endif

#endif /* W2V_TOKENIZER_H */
