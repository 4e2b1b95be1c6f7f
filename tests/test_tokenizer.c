/*
 * test_tokenizer.c - normalisation as the corpora were prepared (case,
 * digits, accents, punctuation, documents), ids of words and of the two
 * special tokens, and unknown words.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "w2v/tokenizer.h"
#include "w2v/vocab.h"

TestSuite(tokenizer);

/* A vocabulary of words in that id order. */
static w2v_vocab *vocab_of(const char *const *words, size_t n)
{
    w2v_vocab *v = NULL;
    cr_assert_eq(w2v_vocab_new(&v, NULL), W2V_OK);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(w2v_vocab_add(v, words[i], strlen(words[i]), 100 - i,
                                   NULL, NULL), W2V_OK);
    cr_assert_eq(w2v_vocab_finalize(v, 0, 0, NULL), W2V_OK);
    return v;
}

/* The normalised form of s. */
static void expect_norm(const char *s, const char *want)
{
    size_t n = 0;
    char *got = w2v_tokenizer_normalize(s, strlen(s), &n, NULL);
    cr_assert_not_null(got);
    cr_expect_str_eq(got, want, "normalising \"%s\"", s);
    cr_expect_eq(n, strlen(want));
    free(got);
}

Test(tokenizer, lowercase_and_punctuation)
{
    expect_norm("The sky was blue.", "the sky was blue");
    expect_norm("  Don't   STOP!!  ", "don t stop");
    expect_norm("a--b,c;d\te", "a b c d e");
    expect_norm("", "");
    expect_norm("?!.,", "");
}

Test(tokenizer, digits_are_spelled_out)
{
    expect_norm("1984", "one nine eight four");
    expect_norm("mp3 player", "mp three player");
    expect_norm("2nd", "two nd");
    expect_norm("0", "zero");
    /* all digits: the most the text can grow */
    size_t n = 1000;
    char *in = malloc(n), *want = malloc(6 * n);
    memset(in, '7', n);
    for (size_t i = 0; i < n; i++)
        memcpy(want + 6 * i, "seven ", 6);
    want[6 * n - 1] = '\0';
    size_t len = 0;
    char *got = w2v_tokenizer_normalize(in, n, &len, NULL);
    cr_assert_str_eq(got, want);
    cr_assert_eq(len, 6 * n - 1);
    free(got);
    free(in);
    free(want);
}

Test(tokenizer, accents_are_removed)
{
    expect_norm("Caf\xc3\xa9 na\xc3\xafve \xc3\x85ngstr\xc3\xb6m",
                "cafe naive angstrom");
    /* Latin Extended Additional, the Kelvin sign */
    expect_norm("Vi\xe1\xbb\x87t \xe1\xb9\xa1 \xe2\x84\xaa", "viet s k");
    /* non-spacing marks of any script are dropped: Hebrew sheva, the
       combining right arrow above */
    expect_norm("a\xd6\xb0" "b c\xe2\x83\x97" "d", "ab cd");
    /* e + combining acute accent is e */
    expect_norm("cafe\xcc\x81s", "cafes");
    /* letters with no base letter in a-z separate words */
    expect_norm("stra\xc3\x9f" "e \xc3\xa6on", "stra e on");
    /* other scripts and invalid UTF-8 separate words */
    expect_norm("ab\xce\xb1\xce\xb2" "cd", "ab cd");
    expect_norm("ab\xff" "cd\xc3", "ab cd");
    expect_norm("ab\xc0\xaf" "cd", "ab cd");
}

Test(tokenizer, documents)
{
    expect_norm("one two\nthree\r\nfour", "one two\nthree\nfour");
    expect_norm("\n\nfirst\n\n\nsecond\n", "first\nsecond");
    expect_norm("a<|endoftext|>b", "a\nb");
    expect_norm("<|endoftext|>a<|endoftext|><|endoftext|>", "a");
    expect_norm("a<|endoftext", "a endoftext");
}

Test(tokenizer, ids_and_special_tokens)
{
    static const char *const words[] = {"the", "sky", "was", "blue"};
    w2v_vocab *v = vocab_of(words, 4);
    w2v_tokenizer *t = NULL;
    cr_assert_eq(w2v_tokenizer_new(v, &t, NULL), W2V_OK);
    cr_assert_eq(w2v_tokenizer_size(t), 6);
    cr_assert_eq(w2v_tokenizer_unk_id(t), 4);
    cr_assert_eq(w2v_tokenizer_eot_id(t), 5);
    cr_assert_str_eq(w2v_tokenizer_token(t, 1), "sky");
    cr_assert_str_eq(w2v_tokenizer_token(t, 4), "<|unk|>");
    cr_assert_str_eq(w2v_tokenizer_token(t, 5), "<|endoftext|>");

    const char *text = "The sky was GREEN.\nThe sky";
    w2v_encoding e;
    cr_assert_eq(w2v_tokenizer_encode(t, text, strlen(text), &e, NULL),
                 W2V_OK);
    static const size_t want[] = {0, 1, 2, 4, 5, 0, 1};
    cr_assert_eq(e.n, 7);
    cr_assert_eq(e.n_unk, 1);
    for (size_t i = 0; i < e.n; i++)
        cr_expect_eq(e.tokens[i].id, want[i], "token %zu", i);
    cr_assert_str_eq(e.text, "the sky was green\nthe sky");
    cr_expect_eq(e.tokens[3].start, 12);
    cr_expect_eq(e.tokens[3].len, 5);
    cr_expect_eq(e.tokens[4].len, 0);
    cr_expect_eq(memcmp(e.text + e.tokens[3].start, "green", 5), 0);
    w2v_encoding_free(&e);
    w2v_encoding_free(&e);

    cr_assert_eq(w2v_tokenizer_encode(t, "...", 3, &e, NULL), W2V_OK);
    cr_assert_eq(e.n, 0);
    w2v_encoding_free(&e);
    w2v_tokenizer_free(t);
    w2v_tokenizer_free(NULL);
    w2v_vocab_free(v);
}

Test(tokenizer, empty_vocabulary_is_an_error)
{
    w2v_vocab *v = NULL;
    cr_assert_eq(w2v_vocab_new(&v, NULL), W2V_OK);
    w2v_tokenizer *t = (w2v_tokenizer *)1;
    w2v_error err = {0};
    cr_assert_eq(w2v_tokenizer_new(v, &t, &err), W2V_ERR_EMPTY);
    cr_assert_null(t);
    cr_assert_neq(err.message[0], '\0');
    w2v_vocab_free(v);
}

Test(tokenizer, a_long_word_is_unknown_not_cut)
{
    static const char *const words[] = {"abc"};
    w2v_vocab *v = vocab_of(words, 1);
    w2v_tokenizer *t = NULL;
    cr_assert_eq(w2v_tokenizer_new(v, &t, NULL), W2V_OK);
    size_t n = 5000;
    char *text = malloc(n);
    memset(text, 'a', n);
    memcpy(text, "abc ", 4);
    w2v_encoding e;
    cr_assert_eq(w2v_tokenizer_encode(t, text, n, &e, NULL), W2V_OK);
    cr_assert_eq(e.n, 2);
    cr_assert_eq(e.tokens[0].id, 0);
    cr_assert_eq(e.tokens[1].id, 1);
    cr_assert_eq(e.tokens[1].len, n - 4);
    w2v_encoding_free(&e);
    free(text);
    w2v_tokenizer_free(t);
    w2v_vocab_free(v);
}
