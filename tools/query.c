/*
 * query.c - model lookup and query input for the query tools. See query.h.
 */
#define _POSIX_C_SOURCE 200809L

#include "query.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int query_open(const char *prog, const char *path, size_t n_restrict,
               query_model *q)
{
    memset(q, 0, sizeof *q);
    if (path == NULL)
        path = getenv("W2V_MODEL");
    if (path == NULL || path[0] == '\0')
        path = "vectors.bin";
    q->path = path;
    w2v_error err;
    w2v_error_clear(&err);
    if (w2v_model_load(path, &q->model, &err) != W2V_OK ||
        w2v_knn_new(q->model, n_restrict, &q->knn, &err) != W2V_OK) {
        fprintf(stderr, "%s: %s\n", prog, err.message);
        if (access(path, F_OK) != 0)
            fprintf(stderr, "%s: train a model with w2v-train, then pass it "
                    "with -model FILE or set W2V_MODEL\n", prog);
        w2v_model_free(q->model);
        q->model = NULL;
        return 1;
    }
    return 0;
}

void query_close(query_model *q)
{
    w2v_knn_free(q->knn);
    w2v_model_free(q->model);
    memset(q, 0, sizeof *q);
}

long query_lookup(const char *prog, const query_model *q, const char *word)
{
    const w2v_vocab *v = w2v_model_vocab(q->model);
    size_t len = strlen(word);
    int64_t id = w2v_vocab_find(v, word, len);
    if (id < 0) {
        char *lower = malloc(len + 1);
        if (lower != NULL) {
            for (size_t i = 0; i <= len; i++)
                lower[i] = (char)tolower((unsigned char)word[i]);
            id = w2v_vocab_find(v, lower, len);
            free(lower);
        }
    }
    if (id < 0) {
        fprintf(stderr, "%s: unknown word \"%s\" (not in %s)\n", prog, word,
                q->path);
        return -1;
    }
    if ((size_t)id >= w2v_knn_size(q->knn)) {
        fprintf(stderr, "%s: \"%s\" is word %lld, outside -restrict %zu\n",
                prog, word, (long long)id + 1, w2v_knn_size(q->knn));
        return -1;
    }
    return (long)id;
}

int query_stdin(const char *prompt, int (*fn)(char **words, int n,
                                              void *user),
                void *user)
{
    int tty = isatty(STDIN_FILENO);
    char *line = NULL;
    size_t cap = 0;
    int worst = 0;
    for (;;) {
        if (tty) {
            fputs(prompt, stdout);
            fflush(stdout);
        }
        if (getline(&line, &cap, stdin) < 0)
            break;
        char *words[64];
        int n = 0;
        for (char *tok = strtok(line, " \t\r\n"); tok != NULL && n < 64;
             tok = strtok(NULL, " \t\r\n"))
            words[n++] = tok;
        if (n == 0)
            continue;
        if (tty && (strcmp(words[0], "EXIT") == 0 ||
                    strcmp(words[0], "exit") == 0))
            break;
        int rc = fn(words, n, user);
        if (rc > worst)
            worst = rc;
        fflush(stdout);
    }
    if (tty)
        fputc('\n', stdout);
    free(line);
    return worst;
}
