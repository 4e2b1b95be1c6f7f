/*
 * query.h - what the query tools share: w2v-nearest and w2v-analogy their
 * common options and main loop, looking words up and suggesting spellings
 * for unknown ones, reading queries from standard input and writing JSON;
 * all three, w2v-eval too, finding and loading the model.
 */
#ifndef W2V_QUERY_H
#define W2V_QUERY_H

#include <stddef.h>
#include <stdio.h>

#include "cli.h"
#include "w2v/w2v.h"

/* Output formats (-format). */
enum query_format {
    QUERY_TEXT = 0,
    QUERY_JSON = 1
};

/* At most this many spelling suggestions for an unknown word... */
#define QUERY_SUGGEST_MAX 5
/* ...at most this edit distance (in characters) from it... */
#define QUERY_SUGGEST_DISTANCE 2
/* ...taken from this many of the most frequent words. */
#define QUERY_SUGGEST_ROWS 100000

/* A loaded model and its cosine index. */
typedef struct query_model {
    w2v_model *model;
    w2v_knn *knn;
    const char *path;
} query_model;

/* The options every query tool takes, and its state while it answers. */
typedef struct query_tool {
    const char *model_path; /* -model FILE, or NULL */
    size_t k;               /* -k: answers per query (default 10) */
    size_t restrict_n;      /* -restrict N (default 0 = all) */
    const char *format_arg; /* -format text|json (default text) */
    int format;             /* enum query_format, from format_arg */
    query_model q;          /* the model, once open */
    w2v_neighbor *nb;       /* (k) answers of the current query */
} query_tool;

/* The defaults above. */
void query_tool_init(query_tool *t);

/*
 * Puts the four common options (-model, -k with k_help, -restrict,
 * -format) into opts[0, 4), bound to t; returns 4, the number filled.
 */
size_t query_tool_options(query_tool *t, const char *k_help,
                          cli_option *opts);

/*
 * The function that answers a query: words[0, n), from the command line
 * (line 0) or line `line` of standard input; returns an exit status.
 */
typedef int (*query_fn)(char **words, int n, size_t line, void *user);

/*
 * Runs a query tool whose options are parsed: checks -format, loads the
 * model, answers words[0, n_words) with one call of fn when n_words > 0,
 * else each line of standard input (prompt shown on a terminal), then
 * frees everything and checks that standard output was written. Returns
 * the exit status: the worst of fn's, or that of the failure.
 */
int query_tool_run(const char *prog, query_tool *t, char **words,
                   int n_words, const char *prompt, query_fn fn, void *user);

/*
 * Parses a -format value ("text" or "json") into *format. Prints a message
 * naming prog and returns CLI_EXIT_USAGE for anything else, else 0.
 */
int query_parse_format(const char *prog, const char *value, int *format);

/* The model path: path if not NULL, else $W2V_MODEL, else ./vectors.bin. */
const char *query_model_path(const char *path);

/*
 * Loads the model at path into *m. Returns 0, or after printing the
 * loader's message naming prog (and, when the file does not exist, how to
 * make one) the exit status: CLI_EXIT_USAGE for a model that cannot be
 * read or is malformed, CLI_EXIT_FAIL when memory runs out.
 */
int query_load(const char *prog, const char *path, w2v_model **m);

/*
 * The model path as query_model_path gives it. Loads it and indexes the first n_restrict words (0 = all). Returns 0, or
 * after printing the loader's message naming prog, the exit status:
 * CLI_EXIT_USAGE for a model that cannot be read or is malformed (the
 * message names the file and the byte offset or line), CLI_EXIT_FAIL when
 * memory runs out. On failure q holds nothing to close.
 */
int query_open(const char *prog, const char *path, size_t n_restrict,
               query_model *q);

/* Frees the model and index. A zeroed q is a no-op. */
void query_close(query_model *q);

/* Why a word has no id in the index. */
enum query_miss {
    QUERY_FOUND = 0,
    QUERY_UNKNOWN = 1,   /* not in the model */
    QUERY_RESTRICTED = 2 /* in the model, but outside -restrict */
};

/* The result of looking a word up. */
typedef struct query_word {
    const char *text; /* the word as given, NUL-terminated */
    int miss;         /* enum query_miss */
    size_t id;        /* row in the index when miss is QUERY_FOUND */
    size_t rank;      /* 1-based row in the model when QUERY_RESTRICTED */
    size_t n_suggest; /* close spellings found (when missed) */
    size_t suggest[QUERY_SUGGEST_MAX]; /* their ids, best first */
} query_word;

/*
 * Looks word up in the index: the exact bytes first, then the word with
 * ASCII letters lowercased. When it is missing, *out lists up to
 * QUERY_SUGGEST_MAX words of the index (among its first QUERY_SUGGEST_ROWS)
 * within QUERY_SUGGEST_DISTANCE edits of it (characters of UTF-8, ASCII
 * case ignored), fewest edits first, then most frequent. Returns 1 when
 * found, else 0. Prints nothing.
 */
int query_lookup(const query_model *q, const char *word, query_word *out);

/*
 * Prints why w was not found to stderr, with its suggestions:
 *   prog: unknown word "catt" (not in FILE); did you mean cat, cart?
 */
void query_report_miss(const char *prog, const query_model *q,
                       const query_word *w);

/*
 * Calls fn for each line of standard input that holds a word, with the
 * line split at ASCII whitespace into n words (any number) and its 1-based
 * line number. When standard input is a terminal, a prompt is printed to
 * stderr before each line, and a line "EXIT" or "exit" ends the loop. A
 * line with a NUL byte is reported and skipped (status CLI_EXIT_FAIL).
 * Standard output is flushed after each line, so answers appear as they are
 * computed. Returns the worst (highest) status fn returned.
 */
int query_stdin(const char *prog, const char *prompt, query_fn fn,
                void *user);

/*
 * Writes s[0, len) as a JSON string, quotes included. Valid UTF-8 is kept;
 * '"', '\\' and control characters are escaped; a byte that is not part of
 * valid UTF-8 becomes U+FFFD, so the output is always valid JSON.
 */
void query_json_string(FILE *f, const char *s, size_t len);

/* query_json_string of a NUL-terminated string. */
void query_json_cstr(FILE *f, const char *s);

/*
 * Writes the JSON members of a miss, after the caller's own members:
 *   ,"error":"unknown word","suggestions":["cat","cart"]
 */
void query_json_miss(FILE *f, const query_model *q, const query_word *w);

/*
 * Writes "[{"word":"dog","score":0.812345},...]" for nb[0, n).
 */
void query_json_neighbors(FILE *f, const query_model *q,
                          const w2v_neighbor *nb, size_t n);

/* Prints nb[0, n) as "  word                 0.8123" lines. */
void query_print_neighbors(FILE *f, const query_model *q,
                           const w2v_neighbor *nb, size_t n);

#endif /* W2V_QUERY_H */
