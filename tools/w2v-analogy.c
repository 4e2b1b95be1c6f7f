/*
 * w2v-analogy - "a is to b as ? is to c": the words nearest to a - b + c
 * (3CosAdd) or best by 3CosMul, excluding the three inputs.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "query.h"

#define PROG "w2v-analogy"

enum method { METHOD_ADD, METHOD_MUL };

typedef struct analogy {
    query_tool t; /* model, -k, -format and the answers */
    int method;   /* enum method */
} analogy;

static const char *const method_names[] = {"add", "mul"};

/* {"a":"king","b":"man","c":"woman","method":"add" (no closing brace) */
static void json_question(const analogy *s, char **words)
{
    static const char *const keys[3] = {"{\"a\":", ",\"b\":", ",\"c\":"};
    for (int i = 0; i < 3; i++) {
        fputs(keys[i], stdout);
        query_json_cstr(stdout, words[i]);
    }
    printf(",\"method\":\"%s\"", method_names[s->method]);
}

/* Reports the unknown words of a question; CLI_EXIT_FAIL. */
static int report_misses(const analogy *s, char **words,
                         const query_word *w)
{
    for (int i = 0; i < 3; i++)
        if (w[i].miss != QUERY_FOUND)
            query_report_miss(PROG, &s->t.q, &w[i]);
    if (s->t.format == QUERY_JSON) {
        json_question(s, words);
        fputs(",\"error\":\"unknown word\",\"unknown\":[", stdout);
        int first = 1;
        for (int i = 0; i < 3; i++) {
            if (w[i].miss == QUERY_FOUND)
                continue;
            fputs(first ? "{\"word\":" : ",{\"word\":", stdout);
            query_json_cstr(stdout, words[i]);
            query_json_miss(stdout, &s->t.q, &w[i]);
            putchar('}');
            first = 0;
        }
        fputs("]}\n", stdout);
    }
    return CLI_EXIT_FAIL;
}

/* Answers one question a b c. */
static int solve(char **words, int n, size_t line, void *user)
{
    analogy *s = user;
    if (n != 3) {
        fprintf(stderr, PROG ": line %zu: expected three words A B C, got "
                "%d\n", line, n);
        if (s->t.format == QUERY_JSON)
            printf("{\"line\":%zu,\"error\":\"expected three words, got "
                   "%d\"}\n", line, n);
        return CLI_EXIT_FAIL;
    }
    query_word w[3];
    int found = 0;
    for (int i = 0; i < 3; i++)
        found += query_lookup(&s->t.q, words[i], &w[i]);
    if (found < 3)
        return report_misses(s, words, w);
    size_t got = 0;
    w2v_error err;
    w2v_error_clear(&err);
    int rc = s->method == METHOD_MUL
                 ? w2v_knn_analogy_mul(s->t.q.knn, w[0].id, w[1].id, w[2].id,
                                       s->t.k, s->t.nb, &got, &err)
                 : w2v_knn_analogy(s->t.q.knn, w[0].id, w[1].id, w[2].id,
                                   s->t.k, s->t.nb, &got, &err);
    if (rc != W2V_OK) {
        fprintf(stderr, PROG ": %s\n", err.message);
        return CLI_EXIT_FAIL;
    }
    if (s->t.format == QUERY_JSON) {
        json_question(s, words);
        fputs(",\"answers\":", stdout);
        query_json_neighbors(stdout, &s->t.q, s->t.nb, got);
        fputs("}\n", stdout);
    } else {
        printf("%s - %s + %s%s:\n", words[0], words[1], words[2],
               s->method == METHOD_MUL ? " (3CosMul)" : "");
        query_print_neighbors(stdout, &s->t.q, s->t.nb, got);
    }
    return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
    const char *method = "add";
    analogy s;
    memset(&s, 0, sizeof s);
    query_tool_init(&s.t);
    cli_option opts[6];
    size_t n = query_tool_options(&s.t, "answers to show (default 10)",
                                  opts);
    opts[n++] = (cli_option){"method", NULL, CLI_STRING, &method, 0, 0,
                             "add|mul", "3CosAdd or 3CosMul (default add)"};
    opts[n] = (cli_option){NULL, NULL, 0, NULL, 0, 0, NULL, NULL};
    int npos = 0, help = 0;
    int rc = cli_parse(PROG, opts, argc, argv, &npos, &help);
    if (rc != 0)
        return rc;
    if (help) {
        printf(
            "Usage: " PROG " [options] [A B C]\n"
            "\"A is to B as ? is to C\" (king man woman -> queen): the words\n"
            "x other than A, B and C that score best by\n"
            "  add  3CosAdd: cos(x, A - B + C), over unit vectors\n"
            "  mul  3CosMul (Levy and Goldberg 2014):\n"
            "       cos'(x, A) cos'(x, C) / (cos'(x, B) + 0.001),\n"
            "       where cos' = (cos + 1) / 2\n"
            "With no words, reads \"A B C\" lines from standard input, with "
            "a\nprompt on a terminal.\n"
            "\n"
            "Words are looked up as given, then with ASCII letters in lower\n"
            "case. An unknown word is reported on stderr with close\n"
            "spellings from the vocabulary, and the exit status is 1.\n"
            "-format json writes one JSON object a question, a line each:\n"
            "  {\"a\":\"king\",\"b\":\"man\",\"c\":\"woman\",\"method\":"
            "\"add\",\"answers\":[{\"word\":\"queen\",\"score\":0.71},...]}\n"
            "Exit status: 0 all answered, 1 an unknown word or a line "
            "without\nthree words, 2 a bad command line or a model that "
            "cannot be read.\n\nOptions:\n");
        cli_print_options(opts);
        return CLI_EXIT_OK;
    }
    if (strcmp(method, "add") == 0) {
        s.method = METHOD_ADD;
    } else if (strcmp(method, "mul") == 0) {
        s.method = METHOD_MUL;
    } else {
        fprintf(stderr, PROG ": -method %s: expected add or mul\n", method);
        return CLI_EXIT_USAGE;
    }
    if (npos != 0 && npos != 3) {
        fprintf(stderr, PROG ": need three words A B C (got %d); see "
                PROG " -help\n", npos);
        return CLI_EXIT_USAGE;
    }
    return query_tool_run(PROG, &s.t, argv + 1, npos,
                          "Enter three words (EXIT to break): ", solve, &s);
}
