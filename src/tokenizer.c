/*
 * tokenizer.c - text normalisation as the corpora were prepared, and the
 * word -> id lookup with the two special tokens. See w2v/tokenizer.h.
 */
#include "w2v/tokenizer.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unicode_marks.h"
#include "util.h"

struct w2v_tokenizer {
    const w2v_vocab *vocab; /* borrowed */
    size_t v;               /* its size: the id of <|unk|> */
};

/* ---------------------------------------------------------------------- */
/* Normalisation                                                           */

static const char *const digit_names[10] = {
    "zero", "one", "two", "three", "four",
    "five", "six", "seven", "eight", "nine",
};

/* The longest expansion of one input byte: " seven " for a digit. */
#define MAX_EXPANSION 7

/*
 * Base letters of U+00C0 .. U+024F: the character's canonical decomposition
 * without its combining marks, lowercased, when that is one letter a-z;
 * '.' when it is not (the character then separates words).
 */
#define LATIN_FIRST 0xC0
#define LATIN_LAST 0x24F
static const char latin_base[LATIN_LAST - LATIN_FIRST + 2] =
    "aaaaaa.ceeeeiiii.nooooo..uuuuy..aaaaaa.ceeeeiiii" /* U+00C0 */
    ".nooooo..uuuuy.yaaaaaaccccccccdd..eeeeeeeeeegggg" /* U+00F0 */
    "gggghh..iiiiiiiii...jjkk.llllll....nnnnnn...oooo" /* U+0120 */
    "oo..rrrrrrsssssssstttt..uuuuuuuuuuuuwwyyyzzzzzz." /* U+0150 */
    "................................oo.............u" /* U+0180 */
    "u............................aaiioouuuuuuuuuu.aa" /* U+01B0 */
    "aa....ggkkoooo..j...gg..nnaa....aaaaeeeeiiiioooo" /* U+01E0 */
    "rrrruuuusstt..hh......aaeeooooooooyy............" /* U+0210 */
    "................";                                /* U+0240 */

/* The same for Latin Extended Additional, U+1E00 .. U+1EFF. */
#define LATIN_ADD_FIRST 0x1E00
#define LATIN_ADD_LAST 0x1EFF
static const char latin_add_base[LATIN_ADD_LAST - LATIN_ADD_FIRST + 2] =
    "aabbbbbbccddddddddddeeeeeeeeeeffgghhhhhhhhhhiiii" /* U+1E00 */
    "kkkkkkllllllllmmmmmmnnnnnnnnoooooooopppprrrrrrrr" /* U+1E30 */
    "ssssssssssttttttttuuuuuuuuuuvvvvwwwwwwwwwwxxxxyy" /* U+1E60 */
    "zzzzzzhtwy......aaaaaaaaaaaaaaaaaaaaaaaaeeeeeeee" /* U+1E90 */
    "eeeeeeeeiiiioooooooooooooooooooooooouuuuuuuuuuuu" /* U+1EC0 */
    "uuyyyyyyyy......";                                /* U+1EF0 */

/* KELVIN SIGN and ANGSTROM SIGN decompose to K and A-ring. */
#define KELVIN_SIGN 0x212A
#define ANGSTROM_SIGN 0x212B

/*
 * Is cp a non-spacing mark (category Mn)? Those are dropped, as the
 * corpora's NFD + strip of \p{Mn} did. A binary search of the ranges.
 */
static int is_combining(uint32_t cp)
{
    size_t lo = 0, hi = W2V_N_MARK_RANGES;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < w2v_mark_ranges[mid][0])
            hi = mid;
        else if (cp > w2v_mark_ranges[mid][1])
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

/* The base letter of cp in a-z, or 0 when it has none. */
static char base_letter(uint32_t cp)
{
    char c = '.';
    if (cp >= LATIN_FIRST && cp <= LATIN_LAST)
        c = latin_base[cp - LATIN_FIRST];
    else if (cp >= LATIN_ADD_FIRST && cp <= LATIN_ADD_LAST)
        c = latin_add_base[cp - LATIN_ADD_FIRST];
    else if (cp == KELVIN_SIGN)
        c = 'k';
    else if (cp == ANGSTROM_SIGN)
        c = 'a';
    return c == '.' ? 0 : c;
}

/*
 * Decodes one UTF-8 character at s[0, n) (n >= 1, s[0] >= 0x80). Returns
 * its length and the code point in *cp, or 0 when the bytes are not valid
 * UTF-8 (overlong, surrogate, beyond U+10FFFF or cut short).
 */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t len;
    uint32_t c, min;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        len = 2, c = s[0] & 0x1Fu, min = 0x80;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        len = 3, c = s[0] & 0x0Fu, min = 0x800;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        len = 4, c = s[0] & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3Fu);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

/* The writer of normalised text: separators collapse to one. */
typedef struct norm_out {
    char *buf;
    size_t len;
    int sep;     /* a separator was seen since the last letter */
    int doc_end; /* a document ended since the last letter */
} norm_out;

/* Appends letter c, after the separator the state calls for. */
static void norm_letter(norm_out *o, char c)
{
    if (o->len > 0 && (o->sep || o->doc_end))
        o->buf[o->len++] = o->doc_end ? '\n' : ' ';
    o->sep = 0;
    o->doc_end = 0;
    o->buf[o->len++] = c;
}

/* Appends a digit as a word of its own. */
static void norm_digit(norm_out *o, int d)
{
    o->sep = 1;
    for (const char *p = digit_names[d]; *p; p++)
        norm_letter(o, *p);
    o->sep = 1;
}

/*
 * Handles the character at s[i] (i < n), a byte >= 0x80; returns how many
 * bytes it took.
 */
static size_t norm_utf8(norm_out *o, const unsigned char *s, size_t n,
                        size_t i)
{
    uint32_t cp = 0;
    size_t len = utf8_decode(s + i, n - i, &cp);
    if (len == 0) {
        o->sep = 1;
        return 1;
    }
    if (is_combining(cp))
        return len;
    char c = base_letter(cp);
    if (c != 0)
        norm_letter(o, c);
    else
        o->sep = 1;
    return len;
}

/*
 * Normalises s[0, n) into o->buf, which has room for n bytes, MAX_EXPANSION
 * - 1 more for each digit, and a NUL.
 */
static void normalize_into(norm_out *o, const unsigned char *s, size_t n)
{
    static const char eot[] = W2V_TOKEN_EOT;
    const size_t eot_len = sizeof eot - 1;
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c >= 'a' && c <= 'z') {
            norm_letter(o, (char)c);
        } else if (c >= 'A' && c <= 'Z') {
            norm_letter(o, (char)(c - 'A' + 'a'));
        } else if (c >= '0' && c <= '9') {
            norm_digit(o, c - '0');
        } else if (c == '\n' || c == '\r') {
            o->doc_end = o->len > 0;
        } else if (c == '<' && n - i >= eot_len &&
                   memcmp(s + i, eot, eot_len) == 0) {
            o->doc_end = o->len > 0;
            i += eot_len;
            continue;
        } else if (c >= 0x80) {
            i += norm_utf8(o, s, n, i);
            continue;
        } else {
            o->sep = 1;
        }
        i++;
    }
    o->buf[o->len] = '\0';
}

char *w2v_tokenizer_normalize(const char *text, size_t len, size_t *out_len,
                              w2v_error *err)
{
    /* Only a digit grows (to at most MAX_EXPANSION bytes): count them. */
    size_t digits = 0;
    for (size_t i = 0; i < len; i++)
        digits += text[i] >= '0' && text[i] <= '9';
    size_t cap = 0;
    if (!w2v_mul_size(digits, MAX_EXPANSION - 1, &cap) ||
        cap > SIZE_MAX - 2 - len) {
        w2v_fail(err, W2V_ERR_NOMEM, "text of %zu bytes is too long", len);
        return NULL;
    }
    cap += len;
    norm_out o = {malloc(cap + 2), 0, 0, 0};
    if (o.buf == NULL) {
        w2v_fail_nomem(err, "the normalised text");
        return NULL;
    }
    normalize_into(&o, (const unsigned char *)text, len);
    if (out_len != NULL)
        *out_len = o.len;
    return o.buf;
}

/* ---------------------------------------------------------------------- */
/* The tokenizer                                                           */

int w2v_tokenizer_new(const w2v_vocab *vocab, w2v_tokenizer **out,
                      w2v_error *err)
{
    *out = NULL;
    if (vocab == NULL || w2v_vocab_size(vocab) == 0)
        return w2v_fail(err, W2V_ERR_EMPTY,
                        "a tokenizer needs a non-empty vocabulary");
    w2v_tokenizer *t = malloc(sizeof *t);
    if (t == NULL)
        return w2v_fail_nomem(err, "a tokenizer");
    t->vocab = vocab;
    t->v = w2v_vocab_size(vocab);
    *out = t;
    return W2V_OK;
}

void w2v_tokenizer_free(w2v_tokenizer *t)
{
    free(t);
}

size_t w2v_tokenizer_size(const w2v_tokenizer *t)
{
    return t->v + 2;
}

size_t w2v_tokenizer_unk_id(const w2v_tokenizer *t)
{
    return t->v;
}

size_t w2v_tokenizer_eot_id(const w2v_tokenizer *t)
{
    return t->v + 1;
}

const char *w2v_tokenizer_token(const w2v_tokenizer *t, size_t id)
{
    if (id == t->v)
        return W2V_TOKEN_UNK;
    if (id == t->v + 1)
        return W2V_TOKEN_EOT;
    return w2v_vocab_word(t->vocab, id);
}

void w2v_encoding_free(w2v_encoding *e)
{
    if (e == NULL)
        return;
    free(e->tokens);
    free(e->text);
    memset(e, 0, sizeof *e);
}

/* Number of tokens in normalised text s[0, n): words plus line ends. */
static size_t count_tokens(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\n' || ((i == 0 || s[i - 1] == ' ' || s[i - 1] == '\n')))
            count++;
    return count;
}

int w2v_tokenizer_encode(const w2v_tokenizer *t, const char *text,
                         size_t len, w2v_encoding *out, w2v_error *err)
{
    memset(out, 0, sizeof *out);
    size_t n_text = 0;
    char *norm = w2v_tokenizer_normalize(text, len, &n_text, err);
    if (norm == NULL)
        return err ? err->code : W2V_ERR_NOMEM;
    size_t cap = count_tokens(norm, n_text);
    w2v_tok *tok = malloc((cap ? cap : 1) * sizeof *tok);
    if (tok == NULL) {
        free(norm);
        return w2v_fail_nomem(err, "the tokens");
    }
    size_t n = 0, n_unk = 0, i = 0;
    while (i < n_text) {
        if (norm[i] == '\n') {
            tok[n++] = (w2v_tok){t->v + 1, i, 0};
            i++;
            continue;
        }
        size_t start = i;
        while (i < n_text && norm[i] != ' ' && norm[i] != '\n')
            i++;
        int64_t id = w2v_vocab_find(t->vocab, norm + start, i - start);
        if (id < 0)
            n_unk++;
        tok[n++] = (w2v_tok){id < 0 ? t->v : (size_t)id, start, i - start};
        if (i < n_text && norm[i] == ' ')
            i++;
    }
    *out = (w2v_encoding){tok, n, n_unk, norm, n_text};
    return W2V_OK;
}
