/*
 * w2v-analogy - "a is to b as ? is to c": the words nearest to
 * a - b + c (3CosAdd), excluding the three inputs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "query.h"

typedef struct analogy {
    query_model q;
    size_t k;
} analogy;

static int solve(char **words, int n, void *user)
{
    analogy *s = user;
    if (n != 3) {
        fprintf(stderr, "w2v-analogy: need three words (a b c for a - b + "
                "c), got %d\n", n);
        return CLI_EXIT_USAGE;
    }
    long id[3];
    int bad = 0;
    for (int i = 0; i < 3; i++)
        bad |= (id[i] = query_lookup("w2v-analogy", &s->q, words[i])) < 0;
    if (bad)
        return CLI_EXIT_FAIL;
    w2v_neighbor *nb = malloc(s->k * sizeof *nb);
    if (nb == NULL)
        return CLI_EXIT_FAIL;
    size_t got = 0;
    w2v_error err;
    w2v_error_clear(&err);
    if (w2v_knn_analogy(s->q.knn, (size_t)id[0], (size_t)id[1],
                        (size_t)id[2], s->k, nb, &got, &err) != W2V_OK) {
        fprintf(stderr, "w2v-analogy: %s\n", err.message);
        free(nb);
        return CLI_EXIT_FAIL;
    }
    printf("%s - %s + %s:\n", words[0], words[1], words[2]);
    const w2v_vocab *v = w2v_model_vocab(s->q.model);
    for (size_t i = 0; i < got; i++)
        printf("  %-20s %.4f\n", w2v_vocab_word(v, nb[i].id),
               (double)nb[i].score);
    free(nb);
    return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
    const char *model = NULL;
    analogy s;
    memset(&s, 0, sizeof s);
    s.k = 10;
    size_t restrict_n = 0;
    const cli_option opts[] = {
        {"model", NULL, CLI_STRING, &model, 0, 0, "FILE",
         "word2vec text or binary model (default $W2V_MODEL, else "
         "vectors.bin)"},
        {"k", NULL, CLI_SIZE, &s.k, 1, 100000, "N",
         "answers to show (default 10)"},
        {"restrict", NULL, CLI_SIZE, &restrict_n, 0, 4e9, "N",
         "search only the N most frequent words (default 0 = all)"},
        {NULL, NULL, 0, NULL, 0, 0, NULL, NULL}};
    int npos = 0, help = 0;
    int rc = cli_parse("w2v-analogy", opts, argc, argv, &npos, &help);
    if (rc != 0)
        return rc;
    if (help) {
        printf("Usage: w2v-analogy [options] [A B C]\n\"A is to B as ? is "
               "to C\": prints the words nearest to A - B + C,\nexcluding "
               "A, B and C (king man woman -> queen). With no words, reads\n"
               "\"A B C\" lines from standard input.\n\nOptions:\n");
        cli_print_options(opts);
        return CLI_EXIT_OK;
    }
    if (npos != 0 && npos != 3) {
        fprintf(stderr, "w2v-analogy: need three words A B C (got %d); see "
                "w2v-analogy -help\n", npos);
        return CLI_EXIT_USAGE;
    }
    if (query_open("w2v-analogy", model, restrict_n, &s.q) != 0)
        return CLI_EXIT_FAIL;
    if (npos == 3)
        rc = solve(argv + 1, 3, &s);
    else
        rc = query_stdin("Enter three words (EXIT to break): ", solve, &s);
    query_close(&s.q);
    return rc;
}
