/*
 * w2v-nearest - the words closest to a word by cosine similarity.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "query.h"

#define PROG "w2v-nearest"

/* Answers one word; CLI_EXIT_FAIL when it is unknown. */
static int show(query_tool *s, const char *word)
{
    query_word w;
    if (!query_lookup(&s->q, word, &w)) {
        query_report_miss(PROG, &s->q, &w);
        if (s->format == QUERY_JSON) {
            fputs("{\"word\":", stdout);
            query_json_cstr(stdout, word);
            query_json_miss(stdout, &s->q, &w);
            fputs("}\n", stdout);
        }
        return CLI_EXIT_FAIL;
    }
    size_t n = 0;
    w2v_error err;
    w2v_error_clear(&err);
    const float *query = w2v_knn_unit(s->q.knn, w.id);
    if (w2v_knn_query(s->q.knn, query, s->k, &w.id, 1, s->nb, &n, &err) !=
        W2V_OK) {
        fprintf(stderr, PROG ": %s\n", err.message);
        return CLI_EXIT_FAIL;
    }
    const char *match = w2v_vocab_word(w2v_model_vocab(s->q.model), w.id);
    if (s->format == QUERY_JSON) {
        fputs("{\"word\":", stdout);
        query_json_cstr(stdout, word);
        fputs(",\"match\":", stdout);
        query_json_cstr(stdout, match);
        fputs(",\"neighbors\":", stdout);
        query_json_neighbors(stdout, &s->q, s->nb, n);
        fputs("}\n", stdout);
    } else {
        if (strcmp(match, word) == 0)
            printf("%s:\n", word);
        else
            printf("%s (%s):\n", word, match);
        query_print_neighbors(stdout, &s->q, s->nb, n);
    }
    return CLI_EXIT_OK;
}

/* Every word is a query of its own; the worst status wins. */
static int show_words(char **words, int n, size_t line, void *user)
{
    (void)line;
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
    query_tool s;
    query_tool_init(&s);
    cli_option opts[5];
    query_tool_options(&s, "neighbours to show (default 10)", opts);
    opts[4] = (cli_option){NULL, NULL, 0, NULL, 0, 0, NULL, NULL};
    int npos = 0, help = 0;
    int rc = cli_parse(PROG, opts, argc, argv, &npos, &help);
    if (rc != 0)
        return rc;
    if (help) {
        printf(
            "Usage: " PROG " [options] [WORD...]\n"
            "Prints the k nearest words to each WORD by cosine similarity.\n"
            "With no WORD, reads words from standard input, one or more a\n"
            "line (each answered on its own), with a prompt on a terminal.\n"
            "\n"
            "A word is looked up as given, then with ASCII letters in lower\n"
            "case. An unknown word is reported on stderr with close\n"
            "spellings from the vocabulary, and the exit status is 1.\n"
            "-format json writes one JSON object a query, a line each:\n"
            "  {\"word\":\"cat\",\"match\":\"cat\",\"neighbors\":"
            "[{\"word\":\"dog\",\"score\":0.81},...]}\n"
            "  {\"word\":\"catt\",\"error\":\"unknown word\","
            "\"suggestions\":[\"cat\"]}\n"
            "Exit status: 0 all answered, 1 an unknown word, 2 a bad command\n"
            "line or a model that cannot be read.\n\nOptions:\n");
        cli_print_options(opts);
        return CLI_EXIT_OK;
    }
    return query_tool_run(PROG, &s, argv + 1, npos,
                          "Enter words (EXIT to break): ", show_words, &s);
}
