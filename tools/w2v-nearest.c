/*
 * w2v-nearest - the words closest to a word by cosine similarity.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "query.h"

typedef struct nearest {
    query_model q;
    size_t k;
} nearest;

/* Prints the neighbours of one word; 1 if it is unknown. */
static int show(nearest *s, const char *word)
{
    long id = query_lookup("w2v-nearest", &s->q, word);
    if (id < 0)
        return CLI_EXIT_FAIL;
    w2v_neighbor *nb = malloc(s->k * sizeof *nb);
    if (nb == NULL)
        return CLI_EXIT_FAIL;
    size_t n = 0, ex = (size_t)id;
    w2v_error err;
    w2v_error_clear(&err);
    const float *query = w2v_knn_unit(s->q.knn, (size_t)id);
    if (w2v_knn_query(s->q.knn, query, s->k, &ex, 1, nb, &n, &err) !=
        W2V_OK) {
        fprintf(stderr, "w2v-nearest: %s\n", err.message);
        free(nb);
        return CLI_EXIT_FAIL;
    }
    printf("%s:\n", word);
    const w2v_vocab *v = w2v_model_vocab(s->q.model);
    for (size_t i = 0; i < n; i++)
        printf("  %-20s %.4f\n", w2v_vocab_word(v, nb[i].id),
               (double)nb[i].score);
    free(nb);
    return CLI_EXIT_OK;
}

static int show_line(char **words, int n, void *user)
{
    int worst = 0;
    for (int i = 0; i < n; i++) {
        int rc = show(user, words[i]);
        if (rc > worst)
            worst = rc;
    }
    return worst;
}

int main(int argc, char **argv)
{
    const char *model = NULL;
    nearest s;
    memset(&s, 0, sizeof s);
    s.k = 10;
    size_t restrict_n = 0;
    const cli_option opts[] = {
        {"model", NULL, CLI_STRING, &model, 0, 0, "FILE",
         "word2vec text or binary model (default $W2V_MODEL, else "
         "vectors.bin)"},
        {"k", NULL, CLI_SIZE, &s.k, 1, 100000, "N",
         "neighbours to show (default 10)"},
        {"restrict", NULL, CLI_SIZE, &restrict_n, 0, 4e9, "N",
         "search only the N most frequent words (default 0 = all)"},
        {NULL, NULL, 0, NULL, 0, 0, NULL, NULL}};
    int npos = 0, help = 0;
    int rc = cli_parse("w2v-nearest", opts, argc, argv, &npos, &help);
    if (rc != 0)
        return rc;
    if (help) {
        printf("Usage: w2v-nearest [options] [WORD...]\nPrints the k "
               "nearest words by cosine similarity. With no WORD, reads "
               "words\nfrom standard input, one query per line.\n\n"
               "Options:\n");
        cli_print_options(opts);
        return CLI_EXIT_OK;
    }
    if (query_open("w2v-nearest", model, restrict_n, &s.q) != 0)
        return CLI_EXIT_FAIL;
    if (npos > 0)
        rc = show_line(argv + 1, npos, &s);
    else
        rc = query_stdin("Enter word (EXIT to break): ", show_line, &s);
    query_close(&s.q);
    return rc;
}
