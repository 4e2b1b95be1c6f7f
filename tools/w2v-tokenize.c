/*
 * w2v-tokenize - raw text to token ids with a model's vocabulary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "query.h"

#define PROG "w2v-tokenize"

/* Standard input is read whole, up to this many bytes. */
#define MAX_INPUT ((size_t)64 << 20)

/* All of standard input, malloc'ed; NULL (after a message) on failure. */
static char *read_stdin(size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *s = malloc(cap);
    while (s != NULL) {
        n += fread(s + n, 1, cap - n, stdin);
        if (n < cap)
            break;
        if (cap >= MAX_INPUT) {
            fprintf(stderr, PROG ": standard input is longer than %zu MB\n",
                    MAX_INPUT >> 20);
            free(s);
            return NULL;
        }
        char *ns = realloc(s, cap * 2);
        if (ns == NULL)
            free(s);
        s = ns;
        cap *= 2;
    }
    if (s == NULL) {
        fprintf(stderr, PROG ": out of memory reading standard input\n");
        return NULL;
    }
    if (ferror(stdin)) {
        fprintf(stderr, PROG ": cannot read standard input\n");
        free(s);
        return NULL;
    }
    *len = n;
    return s;
}

/* The text of token i as it appears in the normalised text. */
static void token_text(const w2v_tokenizer *t, const w2v_encoding *e,
                       size_t i, const char **s, size_t *len)
{
    const w2v_tok *k = &e->tokens[i];
    if (k->len == 0) {
        *s = w2v_tokenizer_token(t, k->id);
        *len = strlen(*s);
    } else {
        *s = e->text + k->start;
        *len = k->len;
    }
}

static void print_text(const w2v_tokenizer *t, const w2v_encoding *e)
{
    size_t v = w2v_tokenizer_unk_id(t);
    char buf[32];
    printf("normalised: ");
    for (size_t i = 0; i < e->text_len; i++) {
        if (e->text[i] == '\n')
            fputs(" | ", stdout);
        else
            putchar(e->text[i]);
    }
    printf("\n%zu token%s; vocabulary %s words, then %s = %zu and %s = "
           "%zu\n\n", e->n, e->n == 1 ? "" : "s", cli_thousands(v, buf,
           sizeof buf), W2V_TOKEN_UNK, v, W2V_TOKEN_EOT, v + 1);
    printf("  %5s  %9s  %s\n", "pos", "id", "token");
    for (size_t i = 0; i < e->n; i++) {
        const char *s;
        size_t len;
        token_text(t, e, i, &s, &len);
        size_t id = e->tokens[i].id;
        printf("  %5zu  %9zu  %.*s%s\n", i, id, (int)len, s,
               id == v ? "  -> " W2V_TOKEN_UNK : "");
    }
}

static void print_json(const w2v_tokenizer *t, const w2v_encoding *e)
{
    size_t v = w2v_tokenizer_unk_id(t);
    fputs("{\"normalised\":", stdout);
    query_json_string(stdout, e->text, e->text_len);
    printf(",\"vocab_size\":%zu,\"unk_id\":%zu,\"eot_id\":%zu,\"tokens\":[",
           v, v, v + 1);
    for (size_t i = 0; i < e->n; i++) {
        const char *s;
        size_t len;
        token_text(t, e, i, &s, &len);
        fputs(i ? ",{\"token\":" : "{\"token\":", stdout);
        query_json_string(stdout, s, len);
        printf(",\"id\":%zu%s}", e->tokens[i].id,
               e->tokens[i].id == v ? ",\"unknown\":true" : "");
    }
    fputs("]}\n", stdout);
}

/* Notes each unknown word on stderr, once per distinct word. */
static void note_unknown(const w2v_tokenizer *t, const w2v_encoding *e)
{
    size_t v = w2v_tokenizer_unk_id(t);
    for (size_t i = 0; i < e->n; i++) {
        const w2v_tok *k = &e->tokens[i];
        if (k->id != v)
            continue;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = e->tokens[j].id == v && e->tokens[j].len == k->len &&
                   memcmp(e->text + e->tokens[j].start, e->text + k->start,
                          k->len) == 0;
        if (!seen)
            fprintf(stderr, PROG ": note: \"%.*s\" is not in the vocabulary;"
                    " it becomes " W2V_TOKEN_UNK " (id %zu)\n", (int)k->len,
                    e->text + k->start, v);
    }
}

static int tokenize(const char *model_path, const char *text, size_t len,
                    int json)
{
    w2v_model *m = NULL;
    int rc = query_load(PROG, query_model_path(model_path), &m);
    if (rc != 0)
        return rc;
    w2v_tokenizer *t = NULL;
    w2v_encoding e = {0};
    w2v_error err;
    w2v_error_clear(&err);
    if (w2v_tokenizer_new(w2v_model_vocab(m), &t, &err) != W2V_OK ||
        w2v_tokenizer_encode(t, text, len, &e, &err) != W2V_OK) {
        fprintf(stderr, PROG ": %s\n", err.message);
        rc = CLI_EXIT_FAIL;
    } else if (e.n == 0) {
        fprintf(stderr, PROG ": the text has no words (only letters a-z "
                "and digits make words; see -help)\n");
        rc = CLI_EXIT_USAGE;
    } else {
        note_unknown(t, &e);
        if (json)
            print_json(t, &e);
        else
            print_text(t, &e);
    }
    w2v_encoding_free(&e);
    w2v_tokenizer_free(t);
    w2v_model_free(m);
    if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout))) {
        fprintf(stderr, PROG ": cannot write standard output\n");
        rc = CLI_EXIT_FAIL;
    }
    return rc;
}

int main(int argc, char **argv)
{
    const char *model_path = NULL;
    int json = 0;
    cli_option opts[] = {
        {"model", NULL, CLI_STRING, &model_path, 0, 0, "FILE",
         "the model (default $W2V_MODEL, else ./vectors.bin)"},
        {"json", NULL, CLI_SWITCH, &json, 0, 0, NULL,
         "print one JSON object instead of a table"},
        {NULL, NULL, 0, NULL, 0, 0, NULL, NULL},
    };
    int npos = 0, help = 0;
    int rc = cli_parse(PROG, opts, argc, argv, &npos, &help);
    if (rc != 0)
        return rc;
    if (help) {
        printf(
            "Usage: " PROG " [options] [TEXT...]\n"
            "Turns TEXT (the arguments joined by spaces; without any, all of\n"
            "standard input) into token ids of the model's vocabulary.\n"
            "\n"
            "The text is normalised as the corpora were: ASCII letters in\n"
            "lower case, each digit spelled out as a word (1984 -> one nine\n"
            "eight four), accents removed from Latin letters, anything else\n"
            "a word separator. Each line is a document; " W2V_TOKEN_EOT "\n"
            "(id V + 1, V words in the vocabulary) goes between documents,\n"
            "and so does the literal text " W2V_TOKEN_EOT ". A word the\n"
            "vocabulary lacks becomes " W2V_TOKEN_UNK " (id V), with a note\n"
            "on stderr.\n"
            "Exit status: 0 done, 1 out of memory or output failed, 2 a bad\n"
            "command line, a model that cannot be read or a text without\n"
            "words.\n\nOptions:\n");
        cli_print_options(opts);
        return CLI_EXIT_OK;
    }
    size_t len = 0;
    char *text = npos > 0 ? cli_join_args(argv + 1, npos, &len) : read_stdin(&len);
    if (text == NULL) {
        if (npos > 0)
            fprintf(stderr, PROG ": out of memory\n");
        return CLI_EXIT_FAIL;
    }
    rc = tokenize(model_path, text, len, json);
    free(text);
    return rc;
}
