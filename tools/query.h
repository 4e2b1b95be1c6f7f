/*
 * query.h - what w2v-nearest and w2v-analogy share: finding and loading
 * the model, looking words up and suggesting spellings for unknown ones,
 * reading queries from standard input, and writing JSON.
 */
#ifndef W2V_QUERY_H
#define W2V_QUERY_H

#include <stddef.h>
#include <stdio.h>

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

/*
 * Parses a -format value ("text" or "json") into *format. Prints a message
 * naming prog and returns CLI_EXIT_USAGE for anything else, else 0.
 */
int query_parse_format(const char *prog, const char *value, int *format);

/*
 * The model path: path if not NULL, else $W2V_MODEL, else ./vectors.bin.
 * Loads it and indexes the first n_restrict words (0 = all). Returns 0, or
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
int query_stdin(const char *prog, const char *prompt,
                int (*fn)(char **words, int n, size_t line, void *user),
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
