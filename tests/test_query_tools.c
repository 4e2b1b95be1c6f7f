/*
 * test_query_tools.c - w2v-nearest and w2v-analogy through the built
 * binaries, on tiny hand-made models whose answers are worked out below:
 * neighbours and scores, several words, standard input, -restrict, JSON
 * (checked by a small validator) with odd bytes in words, unknown words
 * and their suggestions, 3CosAdd against 3CosMul, and exit status 2 with
 * the file and offset for every kind of bad model. Then the library side:
 * 3CosMul and the lazily normalised index against naive loops.
 */
/* posix_openpt and friends, for a terminal on standard input */
#define _XOPEN_SOURCE 700

#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rng.h"
#include "testutil.h"
#include "w2v/knn.h"
#include "w2v/model.h"
#include "w2v/vocab.h"

TestSuite(querytools, .init = tu_scratch_init, .fini = tu_scratch_fini);
TestSuite(queryknn);

/* ---------------------------------------------------------------------- */
/* Running the tools                                                       */

typedef tu_run run;

/* tu_run_tool with $W2V_MODEL set to env_model (NULL: unset). */
static run run_env(const char *tool, const char *input, size_t input_len,
                   const char *env_model, const char *const *args)
{
    return tu_run_tool(tool, input, input_len, env_model, args);
}

static run run_tool(const char *tool, const char *input,
                    const char *const *args)
{
    return run_env(tool, input, input ? strlen(input) : 0, NULL, args);
}

static void run_free(run *r)
{
    tu_run_free(r);
}

/* Writes text to the scratch directory as name; returns the path. */
static char *model_file(const char *name, const char *text)
{
    return tu_write_file(NULL, name, text, strlen(text));
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---------------------------------------------------------------------- */
/* A JSON checker                                                          */

/*
 * Just enough of RFC 8259 to tell whether a line is one valid JSON value:
 * strings must have valid escapes, no raw control characters and valid
 * UTF-8. Each function advances *p past what it accepted, or returns 0.
 */
static int json_value(const char **p);

static void json_ws(const char **p)
{
    while (**p == ' ' || **p == '\t' || **p == '\r' || **p == '\n')
        (*p)++;
}

static int json_string(const char **p)
{
    const unsigned char *s = (const unsigned char *)*p;
    if (*s++ != '"')
        return 0;
    for (;;) {
        unsigned c = *s;
        if (c == '"')
            break;
        if (c < 0x20)
            return 0; /* includes the end of the text */
        if (c == '\\') {
            if (s[1] == 'u') {
                for (int k = 2; k < 6; k++)
                    if (strchr("0123456789abcdefABCDEF", s[k]) == NULL ||
                        s[k] == '\0')
                        return 0;
                s += 6;
            } else if (s[1] != '\0' && strchr("\"\\/bfnrt", s[1]) != NULL) {
                s += 2;
            } else {
                return 0;
            }
            continue;
        }
        size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2
                               : c >= 0xe0 && c <= 0xef   ? 3
                               : c >= 0xf0 && c <= 0xf4   ? 4
                                                          : 0;
        if (len == 0)
            return 0;
        for (size_t k = 1; k < len; k++)
            if ((s[k] & 0xc0) != 0x80)
                return 0;
        s += len;
    }
    *p = (const char *)s + 1;
    return 1;
}

static int json_digits(const char **p)
{
    const char *s = *p;
    while (**p >= '0' && **p <= '9')
        (*p)++;
    return *p > s;
}

static int json_number(const char **p)
{
    if (**p == '-')
        (*p)++;
    if (!json_digits(p))
        return 0;
    if (**p == '.') {
        (*p)++;
        if (!json_digits(p))
            return 0;
    }
    if (**p == 'e' || **p == 'E') {
        (*p)++;
        if (**p == '+' || **p == '-')
            (*p)++;
        if (!json_digits(p))
            return 0;
    }
    return 1;
}

/* '{' members '}' when object, else '[' elements ']'. */
static int json_container(const char **p, int object)
{
    (*p)++;
    json_ws(p);
    if (**p == (object ? '}' : ']')) {
        (*p)++;
        return 1;
    }
    for (;;) {
        if (object) {
            if (!json_string(p))
                return 0;
            json_ws(p);
            if (*(*p)++ != ':')
                return 0;
            json_ws(p);
        }
        if (!json_value(p))
            return 0;
        json_ws(p);
        char c = *(*p)++;
        if (c == (object ? '}' : ']'))
            return 1;
        if (c != ',')
            return 0;
        json_ws(p);
    }
}

static int json_value(const char **p)
{
    switch (**p) {
    case '{':
        return json_container(p, 1);
    case '[':
        return json_container(p, 0);
    case '"':
        return json_string(p);
    case 't':
        return strncmp(*p, "true", 4) == 0 ? (*p += 4, 1) : 0;
    case 'f':
        return strncmp(*p, "false", 5) == 0 ? (*p += 5, 1) : 0;
    case 'n':
        return strncmp(*p, "null", 4) == 0 ? (*p += 4, 1) : 0;
    default:
        return json_number(p);
    }
}

/* Is every line of text one valid JSON value? Returns the line count. */
static size_t expect_json_lines(const char *text)
{
    size_t lines = 0;
    const char *p = text;
    while (*p != '\0') {
        const char *start = p;
        json_ws(&p);
        cr_assert(json_value(&p), "line %zu is not valid JSON near "
                  "offset %td:\n%s", lines + 1, p - start, start);
        while (*p == ' ' || *p == '\t')
            p++;
        cr_assert(*p == '\n', "line %zu: more after the value: %s",
                  lines + 1, p);
        p++;
        lines++;
    }
    return lines;
}

Test(querytools, the_json_checker_itself)
{
    const char *good = "{\"a\":[1,-2.5e3,\"x\\u00e9\\\"\",true,null],"
                       "\"b\":{}}\n[]\n\"caf\xc3\xa9\"\n";
    cr_assert_eq(expect_json_lines(good), 3);
    const char *bad[] = {"{\"a\":1", "{\"a\" 1}", "[1,]", "\"\x01\"",
                         "\"\\x\"", "\"\xff\"", "{a:1}", "01x", "\"open"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *p = bad[i];
        int ok = json_value(&p) && *p == '\0';
        cr_assert(!ok, "accepted bad JSON: %s", bad[i]);
    }
}

/* ---------------------------------------------------------------------- */
/* A compass                                                               */

/*
 * Rows, most frequent first. Cosines with east: ene 2/sqrt(5) = 0.894427,
 * ne 1/sqrt(2) = 0.707107, north and south 0 (a tie: the lower row, north,
 * first), west -1. With north: ne 0.707107, ene 1/sqrt(5) = 0.447214.
 */
static const char compass[] = "6 2\n"
                              "east 1.0 0.0 \n"
                              "ene 2.0 1.0 \n"
                              "ne 1.0 1.0 \n"
                              "north 0.0 1.0 \n"
                              "south 0.0 -1.0 \n"
                              "west -1.0 0.0 \n";

static const char east_3[] = "east:\n"
                             "  ene                  0.8944\n"
                             "  ne                   0.7071\n"
                             "  north                0.0000\n";
static const char north_2[] = "north:\n"
                              "  ne                   0.7071\n"
                              "  ene                  0.4472\n";

Test(querytools, nearest_known_neighbours_and_scores)
{
    char *m = model_file("compass.txt", compass);
    run r = run_tool("w2v-nearest", NULL, ARGS("-model", m, "-k", "3",
                                               "east"));
    cr_assert_eq(r.status, 0, "status %d: %s", r.status, r.err);
    cr_assert_str_eq(r.out, east_3);
    cr_assert_str_eq(r.err, "");
    run_free(&r);

    /* All of them: the tie north / south in row order, west last. */
    r = run_tool("w2v-nearest", NULL, ARGS("-model", m, "east"));
    cr_assert_eq(r.status, 0);
    cr_assert_str_eq(r.out, "east:\n"
                            "  ene                  0.8944\n"
                            "  ne                   0.7071\n"
                            "  north                0.0000\n"
                            "  south                0.0000\n"
                            "  west                 -1.0000\n");
    run_free(&r);

    /* The binary format gives the same answers. */
    w2v_model *loaded = NULL;
    w2v_error err = {0};
    cr_assert_eq(w2v_model_load(m, &loaded, &err), W2V_OK, "%s",
                 err.message);
    char *bin = tu_path(tu_scratch(), "compass.bin");
    cr_assert_eq(w2v_model_save(loaded, bin, W2V_FORMAT_BINARY, &err),
                 W2V_OK, "%s", err.message);
    w2v_model_free(loaded);
    r = run_tool("w2v-nearest", NULL, ARGS("-model", bin, "-k", "3",
                                           "east"));
    cr_assert_eq(r.status, 0);
    cr_assert_str_eq(r.out, east_3);
    run_free(&r);
    free(bin);
    free(m);
}

/*
 * Every tool reads the native format and answers exactly as from the
 * word2vec text it came from; a damaged native file is exit status 2 with
 * the file and the byte offset.
 */
Test(querytools, every_tool_reads_the_native_format)
{
    char *txt = model_file("compass.txt", compass);
    w2v_model *loaded = NULL;
    w2v_error err = {0};
    cr_assert_eq(w2v_model_load(txt, &loaded, &err), W2V_OK, "%s",
                 err.message);
    char *nat = tu_path(tu_scratch(), "compass.w2v");
    cr_assert_eq(w2v_model_save(loaded, nat, W2V_FORMAT_NATIVE, &err),
                 W2V_OK, "%s", err.message);
    w2v_model_free(loaded);
    char *qs = model_file("q.txt", ": s\neast west north south\n"
                                   "east ene ne north\n");
    const char *tools[] = {"w2v-nearest", "w2v-analogy", "w2v-eval"};
    for (int i = 0; i < 3; i++) {
        char *out[2];
        const char *paths[2] = {txt, nat};
        for (int f = 0; f < 2; f++) {
            run r = i == 0   ? run_tool(tools[i], NULL,
                                        ARGS("-model", paths[f], "-format",
                                             "json", "east", "ne"))
                    : i == 1 ? run_tool(tools[i], NULL,
                                        ARGS("-model", paths[f], "-method",
                                             "mul", "east", "west", "north"))
                             : run_tool(tools[i], NULL,
                                        ARGS("-model", paths[f],
                                             "-analogies", qs, "-format",
                                             "json"));
            cr_assert_eq(r.status, 0, "%s %s: %s", tools[i], paths[f],
                         r.err);
            out[f] = r.out;
            free(r.err);
        }
        if (i == 2) {
            /* w2v-eval's json holds timings: compare the answers only. */
            char *a = strstr(out[0], "\"analogies\"");
            char *b = strstr(out[1], "\"analogies\"");
            cr_assert(a != NULL && b != NULL);
            char *ea = strstr(a, "\"seconds\""), *eb = strstr(b,
                                                              "\"seconds\"");
            if (ea != NULL && eb != NULL) {
                *ea = '\0';
                *eb = '\0';
            }
            cr_assert_str_eq(a, b);
        } else {
            cr_assert_str_eq(out[0], out[1], "%s", tools[i]);
        }
        free(out[0]);
        free(out[1]);
    }

    size_t len;
    char *bytes = tu_read_file(nat, &len);
    char *cut = tu_write_file(NULL, "cut.w2v", bytes, len - 10);
    run r = run_tool("w2v-nearest", NULL, ARGS("-model", cut, "east"));
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert(strstr(r.err, "cut.w2v: byte") != NULL, "%s", r.err);
    cr_assert(strstr(r.err, "truncated") != NULL, "%s", r.err);
    cr_assert_str_eq(r.out, "");
    run_free(&r);
    bytes[140] ^= 1; /* inside the matrix: the matrix sum tells */
    char *flip = tu_write_file(NULL, "flip.w2v", bytes, len);
    r = run_tool("w2v-analogy", NULL, ARGS("-model", flip, "a", "b", "c"));
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert(strstr(r.err, "flip.w2v: byte 72:") != NULL, "%s", r.err);
    run_free(&r);
    r = run_tool("w2v-eval", NULL, ARGS("-model", flip, "-analogies", qs));
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert(strstr(r.err, "matrix sum") != NULL, "%s", r.err);
    run_free(&r);
    free(flip);
    free(cut);
    free(bytes);
    free(qs);
    free(nat);
    free(txt);
}

Test(querytools, nearest_several_words_and_case)
{
    char *m = model_file("compass.txt", compass);
    run r = run_tool("w2v-nearest", NULL, ARGS("-model", m, "-k", "3",
                                               "east", "north"));
    cr_assert_eq(r.status, 0);
    char want[512];
    snprintf(want, sizeof want, "%s%s", east_3,
             "north:\n"
             "  ne                   0.7071\n"
             "  ene                  0.4472\n"
             "  east                 0.0000\n");
    cr_assert_str_eq(r.out, want);
    run_free(&r);

    /* Not in the model as given, found in lower case, and said so. */
    r = run_tool("w2v-nearest", NULL, ARGS("-model", m, "-k", "1", "EAST"));
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_str_eq(r.out, "EAST (east):\n"
                            "  ene                  0.8944\n");
    run_free(&r);
    free(m);
}

Test(querytools, nearest_reads_standard_input)
{
    char *m = model_file("compass.txt", compass);
    /* Blank lines are skipped; each word of a line is a query. */
    run r = run_tool("w2v-nearest", "east\n\n  \t\nnorth\n",
                     ARGS("-model", m, "-k", "3"));
    cr_assert_eq(r.status, 0, "%s", r.err);
    char want[512];
    snprintf(want, sizeof want, "%s%s", east_3,
             "north:\n"
             "  ne                   0.7071\n"
             "  ene                  0.4472\n"
             "  east                 0.0000\n");
    cr_assert_str_eq(r.out, want, "no prompt when stdin is not a terminal");
    run_free(&r);

    r = run_tool("w2v-nearest", "north east\n", ARGS("-model", m, "-k", "2"));
    cr_assert_eq(r.status, 0);
    snprintf(want, sizeof want, "%s%s", north_2,
             "east:\n"
             "  ene                  0.8944\n"
             "  ne                   0.7071\n");
    cr_assert_str_eq(r.out, want);
    run_free(&r);

    /* The model comes from $W2V_MODEL when -model is not given. */
    r = run_env("w2v-nearest", "north\n", 6, m, ARGS("-k", "2"));
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_str_eq(r.out, north_2);
    run_free(&r);

    /* A line with a NUL byte is reported, the others answered. */
    static const char nul[] = "east\0north\nnorth\n";
    r = run_env("w2v-nearest", nul, sizeof nul - 1, NULL,
                ARGS("-model", m, "-k", "2"));
    cr_assert_eq(r.status, 1);
    cr_assert_str_eq(r.out, north_2);
    cr_assert(strstr(r.err, "line 1 of standard input has a NUL byte") !=
              NULL, "%s", r.err);
    run_free(&r);
    free(m);
}

/*
 * On a terminal the tool prompts (on stderr, so that stdout keeps only
 * answers) and stops at EXIT; a pseudo-terminal stands in for the user.
 */
Test(querytools, prompt_on_a_terminal)
{
    char *m = model_file("compass.txt", compass);
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    cr_assert_geq(master, 0);
    cr_assert_eq(grantpt(master), 0);
    cr_assert_eq(unlockpt(master), 0);
    const char *slave = ptsname(master);
    cr_assert_not_null(slave);
    char *out_path = tu_path(tu_scratch(), "tty-out.txt");
    char *err_path = tu_path(tu_scratch(), "tty-err.txt");
    char *exe = tu_path(W2V_BIN_DIR, "w2v-nearest");
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        setsid();
        int in = open(slave, O_RDWR);
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || o < 0 || e < 0)
            _exit(126);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        close(master);
        execl(exe, exe, "-model", m, "-k", "1", (char *)NULL);
        _exit(127);
    }
    static const char typed[] = "east\nEXIT\nnorth\n";
    cr_assert_eq(write(master, typed, sizeof typed - 1),
                 (ssize_t)(sizeof typed - 1));
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    close(master);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
    char *out = tu_read_file(out_path, NULL);
    char *err = tu_read_file(err_path, NULL);
    /* north, after EXIT, is never read. */
    cr_assert_str_eq(out, "east:\n  ene                  0.8944\n");
    cr_assert_str_eq(err, "Enter words (EXIT to break): "
                          "Enter words (EXIT to break): \n");
    free(out);
    free(err);
    free(exe);
    free(out_path);
    free(err_path);
    free(m);
}

Test(querytools, nearest_restrict)
{
    char *m = model_file("compass.txt", compass);
    /* Only east, ene, ne are searched. */
    run r = run_tool("w2v-nearest", NULL, ARGS("-model", m, "-restrict", "3",
                                               "east"));
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_str_eq(r.out, "east:\n"
                            "  ene                  0.8944\n"
                            "  ne                   0.7071\n");
    run_free(&r);

    /* west is row 6: outside, an error with status 1, naming the row. */
    r = run_tool("w2v-nearest", NULL, ARGS("-model", m, "-restrict", "3",
                                           "west", "east"));
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "\"west\" is word 6") != NULL, "%s", r.err);
    cr_assert(strstr(r.err, "-restrict 3") != NULL, "%s", r.err);
    cr_assert(strstr(r.out, "east:\n") != NULL, "east is still answered");
    run_free(&r);

    /* A restriction beyond the model's size is the whole model. */
    r = run_tool("w2v-nearest", NULL, ARGS("-model", m, "-restrict", "100",
                                           "-k", "3", "east"));
    cr_assert_eq(r.status, 0);
    cr_assert_str_eq(r.out, east_3);
    run_free(&r);
    free(m);
}

Test(querytools, nearest_json)
{
    char *m = model_file("compass.txt", compass);
    run r = run_tool("w2v-nearest", NULL, ARGS("-model", m, "-k", "2",
                                               "-format", "json", "east",
                                               "NORTH"));
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_eq(expect_json_lines(r.out), 2);
    cr_assert_str_eq(r.out,
                     "{\"word\":\"east\",\"match\":\"east\",\"neighbors\":["
                     "{\"word\":\"ene\",\"score\":0.894427},"
                     "{\"word\":\"ne\",\"score\":0.707107}]}\n"
                     "{\"word\":\"NORTH\",\"match\":\"north\",\"neighbors\":["
                     "{\"word\":\"ne\",\"score\":0.707107},"
                     "{\"word\":\"ene\",\"score\":0.447214}]}\n");
    run_free(&r);

    /* An unknown word is an error entry among the answers. */
    r = run_tool("w2v-nearest", "east\neats\n",
                 ARGS("-model", m, "-k", "1", "-format", "json"));
    cr_assert_eq(r.status, 1);
    cr_assert_eq(expect_json_lines(r.out), 2);
    cr_assert(strstr(r.out, "{\"word\":\"eats\",\"error\":\"unknown word\","
                            "\"suggestions\":[\"east\"]}\n") != NULL,
              "%s", r.out);
    run_free(&r);

    /* -restrict misses say so. */
    r = run_tool("w2v-nearest", NULL,
                 ARGS("-model", m, "-restrict", "2", "-format", "json",
                      "west"));
    cr_assert_eq(r.status, 1);
    cr_assert_eq(expect_json_lines(r.out), 1);
    cr_assert(strstr(r.out, "\"error\":\"outside -restrict\",\"rank\":6,"
                            "\"restrict\":2") != NULL, "%s", r.out);
    run_free(&r);
    free(m);
}

/*
 * Words with a quote, a backslash, a control byte, UTF-8 and a byte that
 * is not UTF-8, all pointing roughly east, in that order of closeness.
 */
static const char odd_words[] = "6 2\n"
                                "plain 1.0 0.0\n"
                                "say\"hi 1.0 0.1\n"
                                "back\\slash 1.0 0.2\n"
                                "ctl\x01x 1.0 0.3\n"
                                "caf\xc3\xa9 1.0 0.4\n"
                                "bad\xff"
                                "byte 1.0 0.5\n";

Test(querytools, json_escapes_odd_bytes)
{
    char *m = model_file("odd.txt", odd_words);
    run r = run_tool("w2v-nearest", NULL, ARGS("-model", m, "-k", "5",
                                               "-format", "json", "plain",
                                               "qu\"o\\te\x02"));
    cr_assert_eq(r.status, 1, "the second word is unknown: %s", r.err);
    cr_assert_eq(expect_json_lines(r.out), 2, "%s", r.out);
    const char *want[] = {
        "{\"word\":\"say\\\"hi\",",       "{\"word\":\"back\\\\slash\",",
        "{\"word\":\"ctl\\u0001x\",",     "{\"word\":\"caf\xc3\xa9\",",
        "{\"word\":\"bad\\ufffdbyte\",",  "{\"word\":\"qu\\\"o\\\\te\\u0002\"",
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        cr_assert(strstr(r.out, want[i]) != NULL, "no %s in\n%s", want[i],
                  r.out);
    run_free(&r);

    /* Text output writes the words as they are. */
    r = run_tool("w2v-nearest", NULL, ARGS("-model", m, "-k", "1",
                                           "caf\xc3\xa9"));
    cr_assert_eq(r.status, 0);
    cr_assert(strstr(r.out, "  bad\xff"
                            "byte") != NULL, "%s", r.out);
    run_free(&r);
    free(m);
}

Test(querytools, unknown_words_and_suggestions)
{
    char *m = model_file("compass.txt", compass);
    /* A swap of two letters is one edit: eats -> east. */
    run r = run_tool("w2v-nearest", NULL, ARGS("-model", m, "-k", "1",
                                               "north", "eats"));
    cr_assert_eq(r.status, 1);
    cr_assert_str_eq(r.out, "north:\n  ne                   0.7071\n");
    cr_assert(strstr(r.err, "unknown word \"eats\"") != NULL, "%s", r.err);
    cr_assert(strstr(r.err, "did you mean east?") != NULL, "%s", r.err);
    run_free(&r);

    /* Fewest edits first: nort -> north (1), ne is 3 away, not offered. */
    r = run_tool("w2v-nearest", NULL, ARGS("-model", m, "nort"));
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "did you mean north?") != NULL, "%s", r.err);
    run_free(&r);

    /* Fewest edits first: nx is 1 from ne, 2 from the more frequent ene,
     * more from the others. */
    r = run_tool("w2v-nearest", NULL, ARGS("-model", m, "nx"));
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "did you mean ne, ene?") != NULL, "%s", r.err);
    run_free(&r);

    /* Then the more frequent: est is 1 from east (row 1) and west (row 6),
     * 2 from ene. */
    r = run_tool("w2v-nearest", NULL, ARGS("-model", m, "est"));
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "did you mean east, west, ene?") != NULL, "%s",
              r.err);
    run_free(&r);

    /* Nothing close: no suggestion, still a clear message. */
    r = run_tool("w2v-nearest", NULL, ARGS("-model", m, "zebra"));
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "unknown word \"zebra\"") != NULL, "%s", r.err);
    cr_assert(strstr(r.err, "did you mean") == NULL, "%s", r.err);
    run_free(&r);

    /* Case is ignored when suggesting. */
    r = run_tool("w2v-nearest", NULL, ARGS("-model", m, "WESTT"));
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "did you mean west?") != NULL, "%s", r.err);
    run_free(&r);

    /* Characters, not bytes: cafe is one edit from café. */
    char *odd = model_file("odd.txt", odd_words);
    r = run_tool("w2v-nearest", NULL, ARGS("-model", odd, "cafe"));
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "did you mean caf\xc3\xa9?") != NULL, "%s",
              r.err);
    run_free(&r);
    free(odd);
    free(m);
}

/* ---------------------------------------------------------------------- */
/* Analogies                                                               */

/*
 * "alpha is to beta as ? is to gamma", where 3CosAdd and 3CosMul disagree.
 *
 *   alpha (1,0,0)  beta (2,1,1)  gamma (0,2,1)
 *   addwins (0,1,1), |.| = sqrt 2     mulwins (2,1,2), |.| = 3
 *
 *              cos(x, alpha)   cos(x, beta)          cos(x, gamma)
 *   addwins    0               2/sqrt12 = 0.577350   3/sqrt10 = 0.948683
 *   mulwins    2/3 = 0.666667  7/(3 sqrt6) = 0.952579 4/(3 sqrt5) = 0.596285
 *
 * 3CosAdd: x . (alpha - beta + gamma over unit vectors) / |x| is the sum of
 * the cosines, and |unit(alpha) - unit(beta) + unit(gamma)| = 0.521115:
 *   addwins (0 - 0.577350 + 0.948683) / 0.521115 = 0.712573
 *   mulwins (0.666667 - 0.952579 + 0.596285) / 0.521115 = 0.595591
 * 3CosMul with cos' = (cos + 1) / 2, alpha and gamma positive, beta
 * negative:
 *   addwins 0.5 * 0.974342 / (0.788675 + 0.001) = 0.616926
 *   mulwins 0.833333 * 0.798142 / (0.976290 + 0.001) = 0.680575
 * With beta's and alpha's roles swapped 3CosMul would pick addwins
 * (0.788675 * 0.974342 / 0.501 = 1.53 against 0.93), so the test also pins
 * the roles down.
 */
static const char triad[] = "5 3\n"
                            "alpha 1 0 0\n"
                            "beta 2 1 1\n"
                            "gamma 0 2 1\n"
                            "addwins 0 1 1\n"
                            "mulwins 2 1 2\n";

Test(querytools, analogy_add_and_mul_disagree)
{
    char *m = model_file("triad.txt", triad);
    run r = run_tool("w2v-analogy", NULL, ARGS("-model", m, "alpha", "beta",
                                               "gamma"));
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_str_eq(r.out, "alpha - beta + gamma:\n"
                            "  addwins              0.7126\n"
                            "  mulwins              0.5956\n");
    run_free(&r);

    r = run_tool("w2v-analogy", NULL, ARGS("-model", m, "-method", "add",
                                           "alpha", "beta", "gamma"));
    cr_assert_eq(r.status, 0);
    cr_assert(strstr(r.out, "  addwins              0.7126\n") != NULL);
    run_free(&r);

    r = run_tool("w2v-analogy", NULL, ARGS("-model", m, "-method", "mul",
                                           "alpha", "beta", "gamma"));
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_str_eq(r.out, "alpha - beta + gamma (3CosMul):\n"
                            "  mulwins              0.6806\n"
                            "  addwins              0.6169\n");
    run_free(&r);

    r = run_tool("w2v-analogy", NULL,
                 ARGS("-model", m, "-method", "mul", "-format", "json", "-k",
                      "1", "alpha", "beta", "gamma"));
    cr_assert_eq(r.status, 0);
    cr_assert_eq(expect_json_lines(r.out), 1);
    cr_assert_str_eq(r.out, "{\"a\":\"alpha\",\"b\":\"beta\",\"c\":"
                            "\"gamma\",\"method\":\"mul\",\"answers\":["
                            "{\"word\":\"mulwins\",\"score\":0.680575}]}\n");
    run_free(&r);
    free(m);
}

Test(querytools, analogy_stdin_unknown_words_and_json)
{
    char *m = model_file("triad.txt", triad);
    /* A good line, a line of two words, an unknown word. */
    run r = run_tool("w2v-analogy",
                     "alpha beta gamma\n\nalpha beta\nalpah beta gamma\n",
                     ARGS("-model", m, "-k", "1"));
    cr_assert_eq(r.status, 1);
    cr_assert_str_eq(r.out, "alpha - beta + gamma:\n"
                            "  addwins              0.7126\n");
    cr_assert(strstr(r.err, "line 3: expected three words A B C, got 2") !=
              NULL, "%s", r.err);
    cr_assert(strstr(r.err, "unknown word \"alpah\"") != NULL, "%s", r.err);
    cr_assert(strstr(r.err, "did you mean alpha?") != NULL, "%s", r.err);
    run_free(&r);

    r = run_tool("w2v-analogy", "alpha beta gamma\nalpah bta gamma\nx y\n",
                 ARGS("-model", m, "-k", "1", "-format", "json"));
    cr_assert_eq(r.status, 1);
    cr_assert_eq(expect_json_lines(r.out), 3, "%s", r.out);
    cr_assert(strstr(r.out, "\"error\":\"unknown word\",\"unknown\":["
                            "{\"word\":\"alpah\",\"error\":\"unknown word\","
                            "\"suggestions\":[\"alpha\"]},"
                            "{\"word\":\"bta\",\"error\":\"unknown word\","
                            "\"suggestions\":[\"beta\"]}]}\n") != NULL,
              "%s", r.out);
    cr_assert(strstr(r.out, "{\"line\":3,\"error\":\"expected three words, "
                            "got 2\"}\n") != NULL, "%s", r.out);
    run_free(&r);
    free(m);
}

Test(querytools, bad_command_lines_exit_2)
{
    char *m = model_file("triad.txt", triad);
    struct {
        const char *tool;
        const char *const *args;
        const char *message;
    } cases[] = {
        {"w2v-analogy", ARGS("-model", m, "-method", "sub", "a", "b", "c"),
         "-method sub: expected add or mul"},
        {"w2v-analogy", ARGS("-model", m, "-format", "xml", "a", "b", "c"),
         "-format xml: expected text or json"},
        {"w2v-nearest", ARGS("-model", m, "-format", "yaml", "a"),
         "-format yaml: expected text or json"},
        {"w2v-analogy", ARGS("-model", m, "alpha", "beta"),
         "need three words"},
        {"w2v-nearest", ARGS("-model", m, "-k", "0", "alpha"), "-k 0"},
        {"w2v-nearest", ARGS("-model", m, "-k", "ten", "alpha"), "-k ten"},
        {"w2v-nearest", ARGS("-model", m, "-restrict", "-3", "alpha"),
         "-restrict -3"},
        {"w2v-nearest", ARGS("-modle", m, "alpha"), "did you mean -model"},
        {"w2v-analogy", ARGS("-model", m, "-method"), "needs a value"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        run r = run_tool(cases[i].tool, NULL, cases[i].args);
        cr_assert_eq(r.status, 2, "case %zu: status %d", i, r.status);
        cr_assert(strstr(r.err, cases[i].message) != NULL,
                  "case %zu: no \"%s\" in: %s", i, cases[i].message, r.err);
        cr_assert_str_eq(r.out, "");
        run_free(&r);
    }
    free(m);
}

/* ---------------------------------------------------------------------- */
/* Bad models                                                              */

/* A binary row: word, a space, dim little-endian floats, a newline. */
static size_t binary_row(unsigned char *p, const char *word, const float *v,
                         size_t dim)
{
    size_t n = strlen(word);
    memcpy(p, word, n);
    p[n++] = ' ';
    for (size_t j = 0; j < dim; j++) {
        uint32_t u;
        memcpy(&u, &v[j], 4);
        for (int b = 0; b < 4; b++)
            p[n++] = (unsigned char)(u >> (8 * b));
    }
    p[n++] = '\n';
    return n;
}

/*
 * header + rows a, b, c of 4 floats (19 bytes each), the second value of
 * row b replaced by bad_b1; returns the length.
 */
static size_t binary_model(unsigned char *buf, const char *header,
                           float bad_b1)
{
    const float a[4] = {1, 2, 3, 4}, c[4] = {1, 2, -3, 4};
    float b[4] = {1, -2, 3, 4};
    b[1] = bad_b1;
    size_t n = strlen(header);
    memcpy(buf, header, n);
    n += binary_row(buf + n, "a", a, 4);
    n += binary_row(buf + n, "b", b, 4);
    n += binary_row(buf + n, "c", c, 4);
    return n;
}

Test(querytools, bad_models_exit_2_with_file_and_offset)
{
    unsigned char bin[256];
    /* "3 4\n" is 4 bytes; rows start at 4, 23 and 42; b's values at 25. */
    size_t full = binary_model(bin, "3 4\n", -2);
    cr_assert_eq(full, 61);
    struct {
        const char *name;
        const void *data;
        size_t len;       /* 0: the data is a string */
        const char *where;
        const char *why;
    } cases[] = {
        {"truncated.bin", bin, 54, "byte 44", "truncated"},
        {"text-short-row.txt", "3 2\na 1.0 2.0\nb 3.0 4.0\nc 5.0\n", 0,
         "text-short-row.txt:4:", "row 3 has 1 values"},
        {"text-long-row.txt", "2 2\na 1.0 2.0 3.0\nb 3.0 4.0\n", 0,
         "text-long-row.txt:2:", "more than 2 values"},
        {"text-lying-dim.txt", "2 3\na 1.0 2.0\nb 3.0 4.0\n", 0,
         "text-lying-dim.txt:2:", "the header says more"},
        {"text-lying-count.txt", "5 2\na 1.0 2.0\nb 3.0 4.0\n", 0,
         "byte 24", "truncated"},
        {"text-short-count.txt", "1 2\na 1.0 2.0\nb 3.0 4.0\n", 0,
         "byte 14", "data after the 1 rows"},
        {"not-a-number.txt", "2 2\na 1.0 2.0\nb 3.0 x4.0\n", 0,
         "not-a-number.txt:3:", "\"x4.0\", is not a number"},
        {"nan.txt", "2 2\na 1.0 nan\nb 1 1\n", 0, "nan.txt:2:", "is nan"},
        {"inf.txt", "2 2\na 1.0 2\nb -inf 1\n", 0, "inf.txt:3:", "is -inf"},
        {"duplicate.txt", "2 2\na 1.0 2.0\na 3.0 4.0\n", 0, "byte 14",
         "duplicate word \"a\""},
        {"no-header.bin", "hello world\n", 0, "byte 0", "header"},
        {"huge-header.bin", "1000000 1000000\na 1 2\n", 0, "1000000 words",
         "truncated, or a lying header"},
        {"empty.bin", "", 0, "empty.bin", "empty file"},
    };
    unsigned char nan_bin[256], inf_bin[256], lying[256], lying_dim[256],
        dup_bin[256];
    size_t n_nan = binary_model(nan_bin, "3 4\n", NAN);
    size_t n_inf = binary_model(inf_bin, "3 4\n", -INFINITY);
    size_t n_lying = binary_model(lying, "4 4\n", -2);
    size_t n_dim = binary_model(lying_dim, "3 3\n", -2);
    size_t n_dup = binary_model(dup_bin, "3 4\n", -2);
    dup_bin[42] = 'a';
    struct {
        const char *name;
        const unsigned char *data;
        size_t len;
        const char *where;
        const char *why;
    } bins[] = {
        {"nan.bin", nan_bin, n_nan, "byte 29", "value 2 of row 2 is not "
         "finite"},
        {"inf.bin", inf_bin, n_inf, "byte 29", "not finite"},
        {"lying-count.bin", lying, n_lying, "byte 61", "truncated"},
        {"lying-dim.bin", lying_dim, n_dim, "byte 18", "expected a word"},
        {"duplicate.bin", dup_bin, n_dup, "byte 42", "duplicate word \"a\""},
    };
    size_t n_cases = sizeof cases / sizeof *cases;
    size_t n_bins = sizeof bins / sizeof *bins;
    for (size_t i = 0; i < n_cases + n_bins; i++) {
        const char *name, *where, *why;
        char *path;
        if (i < n_cases) {
            name = cases[i].name;
            where = cases[i].where;
            why = cases[i].why;
            size_t len = cases[i].len ? cases[i].len
                                      : strlen(cases[i].data);
            path = tu_write_file(NULL, name, cases[i].data, len);
        } else {
            size_t j = i - n_cases;
            name = bins[j].name;
            where = bins[j].where;
            why = bins[j].why;
            path = tu_write_file(NULL, name, bins[j].data, bins[j].len);
        }
        const char *tool = i % 2 ? "w2v-analogy" : "w2v-nearest";
        run r = i % 2 ? run_tool(tool, NULL, ARGS("-model", path, "a", "b",
                                                  "c"))
                      : run_tool(tool, NULL, ARGS("-model", path, "a"));
        cr_assert_eq(r.status, 2, "%s with %s: status %d: %s", tool, name,
                     r.status, r.err);
        cr_assert(strstr(r.err, name) != NULL, "%s: no file name in: %s",
                  name, r.err);
        cr_assert(strstr(r.err, where) != NULL, "%s: no \"%s\" in: %s",
                  name, where, r.err);
        cr_assert(strstr(r.err, why) != NULL, "%s: no \"%s\" in: %s", name,
                  why, r.err);
        cr_assert_str_eq(r.out, "");
        run_free(&r);
        free(path);
    }

    /* A directory and a missing file. */
    run r = run_tool("w2v-nearest", NULL, ARGS("-model", tu_scratch(), "a"));
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "is a directory") != NULL, "%s", r.err);
    run_free(&r);
    char *missing = tu_path(tu_scratch(), "missing.bin");
    r = run_tool("w2v-analogy", NULL, ARGS("-model", missing, "a", "b", "c"));
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "missing.bin: cannot open model") != NULL, "%s",
              r.err);
    cr_assert(strstr(r.err, "W2V_MODEL") != NULL, "a hint: %s", r.err);
    run_free(&r);
    free(missing);
}

/* ---------------------------------------------------------------------- */
/* The library: 3CosMul and the lazy index                                 */

/* A model of the given words, in that row order, with values (n, dim). */
static w2v_model *make_model(const char *const *words, size_t n, size_t dim,
                             const float *values)
{
    w2v_vocab *v = NULL;
    cr_assert_eq(w2v_vocab_new(&v, NULL), W2V_OK);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(w2v_vocab_add(v, words[i], strlen(words[i]), n - i,
                                   NULL, NULL), W2V_OK);
    w2v_model *m = NULL;
    cr_assert_eq(w2v_model_new(v, dim, &m, NULL), W2V_OK);
    memcpy(w2v_model_vector(m, 0), values, n * dim * sizeof(float));
    return m;
}

static w2v_model *random_model(size_t n, size_t dim, uint64_t seed,
                               float scale)
{
    char **words = calloc(n, sizeof *words);
    float *values = calloc(n * dim, sizeof *values);
    cr_assert(words != NULL && values != NULL);
    w2v_rng r;
    w2v_rng_seed(&r, seed, 0);
    for (size_t i = 0; i < n; i++) {
        words[i] = malloc(24);
        cr_assert_not_null(words[i]);
        snprintf(words[i], 24, "w%zu", i);
    }
    for (size_t k = 0; k < n * dim; k++)
        values[k] = (2 * w2v_rng_float(&r) - 1) * scale;
    w2v_model *m = make_model((const char *const *)words, n, dim, values);
    for (size_t i = 0; i < n; i++)
        free(words[i]);
    free(words);
    free(values);
    return m;
}

static w2v_knn *index_of(const w2v_model *m, size_t n_restrict)
{
    w2v_knn *k = NULL;
    w2v_error err = {0};
    cr_assert_eq(w2v_knn_new(m, n_restrict, &k, &err), W2V_OK, "%s",
                 err.message);
    return k;
}

/* Cosine in double precision; 0 when either vector is zero. */
static double cosine(const float *x, const float *y, size_t dim)
{
    double xy = 0, xx = 0, yy = 0;
    for (size_t j = 0; j < dim; j++) {
        xy += (double)x[j] * y[j];
        xx += (double)x[j] * x[j];
        yy += (double)y[j] * y[j];
    }
    return xx > 0 && yy > 0 ? xy / sqrt(xx * yy) : 0;
}

typedef struct scored {
    size_t id;
    double score;
} scored;

static int by_score(const void *pa, const void *pb)
{
    const scored *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

/*
 * The naive 3CosMul: every row x of the first n but a, b, c scored in
 * double by cos'(x, a) cos'(x, c) / (cos'(x, b) + epsilon), sorted; the
 * best `top` go to best[].
 */
static size_t naive_mul(const w2v_model *m, size_t n, size_t a, size_t b,
                        size_t c, size_t top, scored *best)
{
    size_t dim = w2v_model_dim(m), got = 0;
    scored *all = malloc(n * sizeof *all);
    cr_assert_not_null(all);
    const float *va = w2v_model_vector_const(m, a),
                *vb = w2v_model_vector_const(m, b),
                *vc = w2v_model_vector_const(m, c);
    for (size_t i = 0; i < n; i++) {
        if (i == a || i == b || i == c)
            continue;
        const float *x = w2v_model_vector_const(m, i);
        double pa = (cosine(x, va, dim) + 1) / 2;
        double pb = (cosine(x, vb, dim) + 1) / 2;
        double pc = (cosine(x, vc, dim) + 1) / 2;
        all[got].id = i;
        all[got].score = pa * pc / (pb + W2V_KNN_MUL_EPSILON);
        got++;
    }
    qsort(all, got, sizeof *all, by_score);
    if (top > got)
        top = got;
    memcpy(best, all, top * sizeof *best);
    free(all);
    return top;
}

/*
 * got[0, n) against want[0, n): the same scores within tol, and the same
 * ids wherever the naive scores are not within tol of a neighbour's (the
 * float path may order near-ties either way).
 */
static void expect_same_ranking(const w2v_neighbor *got, const scored *want,
                                size_t n, double tol)
{
    for (size_t i = 0; i < n; i++) {
        cr_assert_leq(fabs(got[i].score - want[i].score), tol,
                      "rank %zu: %.7f vs naive %.7f", i,
                      (double)got[i].score, want[i].score);
        int near_tie = (i > 0 && want[i - 1].score - want[i].score < tol) ||
                       (i + 1 < n && want[i].score - want[i + 1].score < tol);
        if (!near_tie)
            cr_assert_eq(got[i].id, want[i].id, "rank %zu: id %zu, naive "
                         "%zu", i, got[i].id, want[i].id);
    }
}

Test(queryknn, mul_hand_worked_triad)
{
    const char *const words[] = {"alpha", "beta", "gamma", "addwins",
                                 "mulwins"};
    const float values[] = {1, 0, 0, 2, 1, 1, 0, 2, 1, 0, 1, 1, 2, 1, 2};
    w2v_model *m = make_model(words, 5, 3, values);
    w2v_knn *k = index_of(m, 0);
    w2v_neighbor out[5];
    size_t n = 99;
    w2v_error err = {0};
    cr_assert_eq(w2v_knn_analogy_mul(k, 0, 1, 2, 5, out, &n, &err), W2V_OK,
                 "%s", err.message);
    cr_assert_eq(n, 2, "everything but the three words");
    cr_assert_eq(out[0].id, 4);
    cr_assert_eq(out[1].id, 3);
    cr_assert_leq(fabs(out[0].score - 0.680575), 2e-6, "%.7f",
                  (double)out[0].score);
    cr_assert_leq(fabs(out[1].score - 0.616926), 2e-6, "%.7f",
                  (double)out[1].score);
    cr_assert_eq(w2v_knn_analogy(k, 0, 1, 2, 5, out, &n, &err), W2V_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(out[0].id, 3);
    cr_assert_leq(fabs(out[0].score - 0.712573), 2e-6);
    cr_assert_leq(fabs(out[1].score - 0.595591), 2e-6);

    /* kmax 0, and ids outside the index. */
    n = 99;
    cr_assert_eq(w2v_knn_analogy_mul(k, 0, 1, 2, 0, out, &n, NULL), W2V_OK);
    cr_assert_eq(n, 0);
    cr_assert_eq(w2v_knn_analogy_mul(k, 0, 5, 2, 1, out, &n, &err),
                 W2V_ERR_ARG);
    cr_assert_eq(n, 0);
    w2v_knn_free(k);
    k = index_of(m, 3);
    cr_assert_eq(w2v_knn_analogy_mul(k, 0, 1, 3, 1, out, &n, NULL),
                 W2V_ERR_ARG);
    w2v_knn_free(k);
    w2v_model_free(m);
}

Test(queryknn, mul_matches_a_naive_loop)
{
    enum { TOP = 10 };
    const size_t n = 800, dim = 40;
    w2v_model *m = random_model(n, dim, 91, 1.0f);
    /* A zero row: cos' 1/2 with everything, 0.25 / 0.501 as a candidate. */
    memset(w2v_model_vector(m, 17), 0, dim * sizeof(float));
    const size_t restricts[] = {0, 300};
    for (size_t r = 0; r < 2; r++) {
        w2v_knn *k = index_of(m, restricts[r]);
        size_t rows = w2v_knn_size(k);
        for (size_t t = 0; t < 12; t++) {
            size_t a = (t * 37) % rows, b = (t * 53 + 5) % rows,
                   c = (t * 71 + 9) % rows;
            if (a == b || b == c || a == c)
                continue;
            scored want[TOP];
            size_t nw = naive_mul(m, rows, a, b, c, TOP, want);
            w2v_neighbor got[TOP];
            size_t ng = 0;
            cr_assert_eq(w2v_knn_analogy_mul(k, a, b, c, TOP, got, &ng,
                                             NULL), W2V_OK);
            cr_assert_eq(ng, nw);
            expect_same_ranking(got, want, ng, 1e-5);
        }
        w2v_knn_free(k);
    }
    /* The zero row's score, asked for alone. */
    w2v_knn *k = index_of(m, 0);
    w2v_neighbor got[800];
    size_t ng;
    cr_assert_eq(w2v_knn_analogy_mul(k, 1, 2, 3, 800, got, &ng, NULL),
                 W2V_OK);
    cr_assert_eq(ng, 797);
    int seen = 0;
    for (size_t i = 0; i < ng; i++)
        if (got[i].id == 17) {
            cr_assert_leq(fabs(got[i].score - 0.25 / 0.501), 1e-6);
            seen = 1;
        }
    cr_assert(seen);
    w2v_knn_free(k);
    w2v_model_free(m);
}

/* The naive nearest neighbours of query among the first n rows. */
static size_t naive_nearest(const w2v_model *m, const float *query,
                            size_t skip, size_t top, scored *best)
{
    size_t n = w2v_model_size(m), dim = w2v_model_dim(m), got = 0;
    scored *all = malloc(n * sizeof *all);
    cr_assert_not_null(all);
    for (size_t i = 0; i < n; i++)
        if (i != skip) {
            all[got].id = i;
            all[got].score = cosine(query, w2v_model_vector_const(m, i), dim);
            got++;
        }
    qsort(all, got, sizeof *all, by_score);
    memcpy(best, all, top * sizeof *best);
    free(all);
    return top;
}

/*
 * Rows so long or short that float dot products would overflow or lose
 * precision switch the index to its normalised copy; answers and unit rows
 * stay right at every scale.
 */
Test(queryknn, extreme_magnitudes)
{
    enum { TOP = 8 };
    const float scales[] = {1e-30f, 1e-12f, 1.0f, 1e12f, 1e30f};
    for (size_t s = 0; s < sizeof scales / sizeof *scales; s++) {
        w2v_model *m = random_model(300, 16, 7 + s, scales[s]);
        /* One row far out of scale with the others. */
        float *odd = w2v_model_vector(m, 5);
        for (size_t j = 0; j < 16; j++)
            odd[j] *= s % 2 ? 1e8f : 1e-8f;
        w2v_knn *k = index_of(m, 0);
        for (size_t q = 0; q < 300; q += 29) {
            scored want[TOP];
            naive_nearest(m, w2v_model_vector_const(m, q), q, TOP, want);
            w2v_neighbor got[TOP];
            size_t n;
            cr_assert_eq(w2v_knn_query(k, w2v_model_vector_const(m, q), TOP,
                                       &q, 1, got, &n, NULL), W2V_OK);
            cr_assert_eq(n, TOP);
            for (size_t i = 0; i < n; i++)
                cr_assert(isfinite(got[i].score), "scale %g: a score is %g",
                          (double)scales[s], (double)got[i].score);
            expect_same_ranking(got, want, n, 1e-5);
        }
        for (size_t i = 0; i < 300; i += 7) {
            const float *u = w2v_knn_unit(k, i);
            double len = 0;
            for (size_t j = 0; j < 16; j++)
                len += (double)u[j] * u[j];
            cr_assert_leq(fabs(sqrt(len) - 1), 1e-6, "scale %g row %zu: "
                          "length %g", (double)scales[s], i, sqrt(len));
        }
        w2v_knn_free(k);
        w2v_model_free(m);
    }
}

/* Threads asking for the same unit rows at once all get the same rows. */
enum { UNIT_ROWS = 2000, UNIT_DIM = 24, UNIT_THREADS = 4 };

typedef struct unit_job {
    const w2v_knn *k;
    const float *want; /* (UNIT_ROWS, UNIT_DIM) from a second index */
    size_t start;
    int bad;
} unit_job;

static void *read_units(void *arg)
{
    unit_job *j = arg;
    for (size_t t = 0; t < UNIT_ROWS; t++) {
        size_t i = (j->start + t * 7) % UNIT_ROWS;
        const float *u = w2v_knn_unit(j->k, i);
        if (memcmp(u, j->want + i * UNIT_DIM, UNIT_DIM * sizeof(float)) != 0)
            j->bad++;
    }
    return NULL;
}

Test(queryknn, lazy_unit_rows_under_threads)
{
    w2v_model *m = random_model(UNIT_ROWS, UNIT_DIM, 3, 1.0f);
    w2v_knn *ref = index_of(m, 0), *k = index_of(m, 0);
    float *want = malloc(UNIT_ROWS * UNIT_DIM * sizeof *want);
    cr_assert_not_null(want);
    for (size_t i = 0; i < UNIT_ROWS; i++) {
        const float *u = w2v_knn_unit(ref, i);
        cr_assert_eq(u, w2v_knn_unit(ref, i), "a row is computed once");
        memcpy(want + i * UNIT_DIM, u, UNIT_DIM * sizeof *want);
        cr_assert_leq(fabs(cosine(u, w2v_model_vector_const(m, i),
                                  UNIT_DIM) - 1), 1e-6);
    }
    pthread_t tid[UNIT_THREADS];
    unit_job jobs[UNIT_THREADS];
    for (size_t t = 0; t < UNIT_THREADS; t++) {
        jobs[t] = (unit_job){k, want, t, 0};
        cr_assert_eq(pthread_create(&tid[t], NULL, read_units, &jobs[t]), 0);
    }
    for (size_t t = 0; t < UNIT_THREADS; t++)
        pthread_join(tid[t], NULL);
    for (size_t t = 0; t < UNIT_THREADS; t++)
        cr_assert_eq(jobs[t].bad, 0, "thread %zu: %d rows differ", t,
                     jobs[t].bad);
    free(want);
    w2v_knn_free(ref);
    w2v_knn_free(k);
    w2v_model_free(m);
}

/* ---------------------------------------------------------------------- */
/* Loading large binary models                                             */

/*
 * Models of at least 4 MB of vectors load on two threads (words on one,
 * vectors on the other). What they load must be exact, and a problem must
 * be reported as a single pass would: the first in the file, whichever
 * thread saw it.
 */
TestSuite(queryload, .init = tu_scratch_init, .fini = tu_scratch_fini);

enum { BIG_ROWS = 5000, BIG_DIM = 256 };

/* A saved random model and the byte offset of each row's start. */
typedef struct big_model {
    w2v_model *m;
    unsigned char *bytes;
    size_t len;
    size_t row_at[BIG_ROWS + 1]; /* [BIG_ROWS]: the end */
} big_model;

static big_model *big_model_new(void)
{
    big_model *b = calloc(1, sizeof *b);
    cr_assert_not_null(b);
    b->m = random_model(BIG_ROWS, BIG_DIM, 12, 1.0f);
    char *path = tu_path(tu_scratch(), "big.bin");
    cr_assert_eq(w2v_model_save(b->m, path, W2V_FORMAT_BINARY, NULL),
                 W2V_OK);
    b->bytes = (unsigned char *)tu_read_file(path, &b->len);
    free(path);
    size_t at = strlen("5000 256\n");
    cr_assert_eq(memcmp(b->bytes, "5000 256\n", at), 0);
    for (size_t i = 0; i < BIG_ROWS; i++) {
        b->row_at[i] = at;
        at += strlen(w2v_vocab_word(w2v_model_vocab(b->m), i)) + 1 +
              BIG_DIM * 4 + 1;
    }
    b->row_at[BIG_ROWS] = at;
    cr_assert_eq(at, b->len);
    return b;
}

static void big_model_free(big_model *b)
{
    w2v_model_free(b->m);
    free(b->bytes);
    free(b);
}

/* Offset of value j of row i. */
static size_t big_value_at(const big_model *b, size_t i, size_t j)
{
    size_t word = strlen(w2v_vocab_word(w2v_model_vocab(b->m), i));
    return b->row_at[i] + word + 1 + 4 * j;
}

/* Loads bytes[0, len) from a file; returns the status, message in err. */
static int load_bytes(const unsigned char *bytes, size_t len, w2v_model **m,
                      w2v_error *err)
{
    char *path = tu_write_file(NULL, "damaged.bin", bytes, len);
    w2v_error_clear(err);
    int rc = w2v_model_load(path, m, err);
    free(path);
    return rc;
}

Test(queryload, two_threads_load_exactly)
{
    big_model *b = big_model_new();
    w2v_model *m = NULL;
    w2v_error err;
    cr_assert_eq(load_bytes(b->bytes, b->len, &m, &err), W2V_OK, "%s",
                 err.message);
    cr_assert_eq(w2v_model_size(m), BIG_ROWS);
    for (size_t i = 0; i < BIG_ROWS; i++) {
        cr_assert_str_eq(w2v_vocab_word(w2v_model_vocab(m), i),
                         w2v_vocab_word(w2v_model_vocab(b->m), i));
        cr_assert_eq(memcmp(w2v_model_vector_const(m, i),
                            w2v_model_vector_const(b->m, i),
                            BIG_DIM * sizeof(float)), 0, "row %zu", i);
    }
    w2v_model_free(m);
    big_model_free(b);
}

/* Puts a NaN at value j of row i. */
static void put_nan(big_model *b, unsigned char *bytes, size_t i, size_t j)
{
    static const unsigned char nan_le[4] = {0x00, 0x00, 0xc0, 0x7f};
    memcpy(bytes + big_value_at(b, i, j), nan_le, 4);
}

/* Makes row i's word a copy of row j's, of the same length. */
static void put_duplicate(big_model *b, unsigned char *bytes, size_t i,
                          size_t j)
{
    const char *w = w2v_vocab_word(w2v_model_vocab(b->m), j);
    cr_assert_eq(strlen(w), strlen(w2v_vocab_word(w2v_model_vocab(b->m), i)));
    memcpy(bytes + b->row_at[i], w, strlen(w));
}

Test(queryload, two_threads_report_the_first_problem)
{
    big_model *b = big_model_new();
    unsigned char *d = malloc(b->len);
    cr_assert_not_null(d);
    w2v_model *m = (w2v_model *)1;
    w2v_error err;
    char want[160];

    /* A NaN late in the file, found by the vector thread. */
    memcpy(d, b->bytes, b->len);
    put_nan(b, d, 3000, 7);
    cr_assert_eq(load_bytes(d, b->len, &m, &err), W2V_ERR_FORMAT);
    cr_assert_null(m);
    snprintf(want, sizeof want, "byte %zu: value 8 of row 3001 is not "
             "finite", big_value_at(b, 3000, 7));
    cr_assert(strstr(err.message, want) != NULL, "%s", err.message);

    /* A duplicated word (row 500 repeats row 100) before a NaN (row 900):
     * the word thread's problem comes first. */
    memcpy(d, b->bytes, b->len);
    put_duplicate(b, d, 500, 100);
    put_nan(b, d, 900, 0);
    cr_assert_eq(load_bytes(d, b->len, &m, &err), W2V_ERR_FORMAT);
    snprintf(want, sizeof want, "byte %zu (row 501): duplicate word \"w100\"",
             b->row_at[500]);
    cr_assert(strstr(err.message, want) != NULL, "%s", err.message);

    /* A NaN (row 400) before a duplicated word (row 4000). */
    memcpy(d, b->bytes, b->len);
    put_nan(b, d, 400, 255);
    put_duplicate(b, d, 4000, 1000);
    cr_assert_eq(load_bytes(d, b->len, &m, &err), W2V_ERR_FORMAT);
    snprintf(want, sizeof want, "byte %zu: value 256 of row 401 is not "
             "finite", big_value_at(b, 400, 255));
    cr_assert(strstr(err.message, want) != NULL, "%s", err.message);

    /* A word running into a newline (row 2000) before a NaN (row 2000's
     * successor): the word is reported. */
    memcpy(d, b->bytes, b->len);
    d[b->row_at[2000] + 4] = '\n';
    put_nan(b, d, 2001, 3);
    cr_assert_eq(load_bytes(d, b->len, &m, &err), W2V_ERR_FORMAT);
    snprintf(want, sizeof want, "byte %zu", b->row_at[2000]);
    cr_assert(strstr(err.message, want) != NULL, "%s", err.message);
    cr_assert(strstr(err.message, "expected a word followed by a space") !=
              NULL, "%s", err.message);

    /* Cut inside the vector of row 2500 (both threads see it). */
    size_t cut = big_value_at(b, 2500, 100);
    cr_assert_eq(load_bytes(b->bytes, cut, &m, &err), W2V_ERR_FORMAT);
    snprintf(want, sizeof want, "byte %zu: file ends inside the vector of "
             "row 2501: truncated", big_value_at(b, 2500, 0));
    cr_assert(strstr(err.message, want) != NULL, "%s", err.message);

    /* The same through w2v-nearest: exit status 2 and the message. */
    memcpy(d, b->bytes, b->len);
    put_nan(b, d, 4999, 0);
    char *path = tu_write_file(NULL, "nan-late.bin", d, b->len);
    run r = run_tool("w2v-nearest", NULL, ARGS("-model", path, "w1"));
    cr_assert_eq(r.status, 2, "%s", r.err);
    snprintf(want, sizeof want, "nan-late.bin: byte %zu: value 1 of row "
             "5000 is not finite", big_value_at(b, 4999, 0));
    cr_assert(strstr(r.err, want) != NULL, "%s", r.err);
    run_free(&r);
    free(path);
    free(d);
    big_model_free(b);
}
