/*
 * cli.c - option parsing and number formatting for the tools. See cli.h.
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 99;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static const cli_option *find_option(const cli_option *opts, const char *name,
                                     size_t len)
{
    for (const cli_option *o = opts; o->name != NULL; o++) {
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
        if (o->alias && strlen(o->alias) == len &&
            strncmp(o->alias, name, len) == 0)
            return o;
    }
    return NULL;
}

static void unknown_option(const char *prog, const cli_option *opts,
                           const char *arg, const char *name)
{
    const char *best = NULL;
    size_t best_d = 3;
    for (const cli_option *o = opts; o->name != NULL; o++) {
        size_t d = edit_distance(name, o->name);
        if (d < best_d) {
            best_d = d;
            best = o->name;
        }
    }
    if (best != NULL)
        fprintf(stderr, "%s: unknown option %s (did you mean -%s?)\n", prog,
                arg, best);
    else
        fprintf(stderr, "%s: unknown option %s (see %s -help)\n", prog, arg,
                prog);
}

static int bad_value(const char *prog, const cli_option *o, const char *v,
                     const char *why)
{
    fprintf(stderr, "%s: -%s %s: %s\n", prog, o->name, v, why);
    return CLI_EXIT_USAGE;
}

/*
 * An unsigned option (CLI_SIZE, CLI_U64): v is digits with an optional
 * leading minus. Parsed with strtoull, whose range is the whole of
 * uint64_t (a seed may be any 64-bit value), and compared with the limits
 * as integers: a double limit of 2^64 - 1 rounds to 2^64.
 */
static int set_unsigned(const char *prog, const cli_option *o, const char *v)
{
    uint64_t hi = o->max >= 18446744073709551615.0 ? UINT64_MAX
                                                    : (uint64_t)o->max;
    uint64_t lo = o->min > 0 ? (uint64_t)o->min : 0;
    if (o->kind == CLI_SIZE && hi > SIZE_MAX)
        hi = SIZE_MAX;
    char why[128];
    snprintf(why, sizeof why, "out of range [%llu, %llu]",
             (unsigned long long)lo, (unsigned long long)hi);
    if (v[0] == '-')
        return bad_value(prog, o, v, "must not be negative");
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno == ERANGE || *end != '\0' || x < lo || x > hi)
        return bad_value(prog, o, v, why);
    if (o->kind == CLI_SIZE)
        *(size_t *)o->dest = (size_t)x;
    else
        *(uint64_t *)o->dest = (uint64_t)x;
    return 0;
}

static int set_value(const char *prog, const cli_option *o, const char *v)
{
    if (o->kind == CLI_STRING) {
        if (v[0] == '\0')
            return bad_value(prog, o, "\"\"", "empty value");
        *(const char **)o->dest = v;
        return 0;
    }
    char *end;
    errno = 0;
    if (o->kind == CLI_DOUBLE) {
        double d = strtod(v, &end);
        if (end == v || *end != '\0' || errno == ERANGE || !isfinite(d))
            return bad_value(prog, o, v, "not a number");
        if (d < o->min || d > o->max) {
            char why[128];
            snprintf(why, sizeof why, "out of range [%g, %g]", o->min,
                     o->max);
            return bad_value(prog, o, v, why);
        }
        *(double *)o->dest = d;
        return 0;
    }
    /* Integers: decimal digits only, optional leading minus. */
    const char *p = v[0] == '-' ? v + 1 : v;
    if (*p == '\0' || strspn(p, "0123456789") != strlen(p))
        return bad_value(prog, o, v, "not a whole number");
    if (o->kind == CLI_SIZE || o->kind == CLI_U64)
        return set_unsigned(prog, o, v);
    long long x = strtoll(v, &end, 10);
    if (errno == ERANGE || (double)x < o->min || (double)x > o->max) {
        char why[128];
        snprintf(why, sizeof why, "out of range [%.0f, %.0f]", o->min,
                 o->max);
        return bad_value(prog, o, v, why);
    }
    *(int *)o->dest = (int)x;
    return 0;
}

int cli_parse(const char *prog, const cli_option *opts, int argc,
              char **argv, int *n_positional, int *help)
{
    int npos = 0;
    *help = 0;
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        if (arg[0] != '-' || arg[1] == '\0' ||
            ((arg[1] >= '0' && arg[1] <= '9') && arg[1] != '\0')) {
            argv[1 + npos++] = arg; /* a word, or "-" for stdin */
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            for (i++; i < argc; i++)
                argv[1 + npos++] = argv[i];
            break;
        }
        const char *name = arg + 1 + (arg[1] == '-');
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        if ((len == 1 && name[0] == 'h') || (len == 4 &&
                                             !strncmp(name, "help", 4))) {
            *help = 1;
            continue;
        }
        const cli_option *o = find_option(opts, name, len);
        if (o == NULL) {
            char nm[80];
            snprintf(nm, sizeof nm, "%.*s", (int)(len < 79 ? len : 79), name);
            unknown_option(prog, opts, arg, nm);
            return CLI_EXIT_USAGE;
        }
        if (o->kind == CLI_SWITCH) {
            if (eq != NULL) {
                fprintf(stderr, "%s: -%s takes no value\n", prog, o->name);
                return CLI_EXIT_USAGE;
            }
            *(int *)o->dest = 1;
            continue;
        }
        const char *value = eq ? eq + 1 : NULL;
        if (value == NULL) {
            if (i + 1 >= argc) {
                fprintf(stderr, "%s: -%s needs a value (%s)\n", prog,
                        o->name, o->arg ? o->arg : "VALUE");
                return CLI_EXIT_USAGE;
            }
            value = argv[++i];
        }
        if (set_value(prog, o, value) != 0)
            return CLI_EXIT_USAGE;
    }
    *n_positional = npos;
    return 0;
}

void cli_print_options(const cli_option *opts)
{
    for (const cli_option *o = opts; o->name != NULL; o++) {
        char left[64];
        if (o->alias)
            snprintf(left, sizeof left, "-%s, -%s %s", o->name, o->alias,
                     o->arg ? o->arg : "");
        else
            snprintf(left, sizeof left, "-%s %s", o->name,
                     o->arg ? o->arg : "");
        printf("  %-24s %s\n", left, o->help);
    }
}

const char *cli_thousands(uint64_t n, char *buf, size_t size)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)n);
    size_t j = 0;
    for (int i = 0; i < len && j + 2 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            buf[j++] = ',';
        buf[j++] = digits[i];
    }
    buf[j] = '\0';
    return buf;
}

const char *cli_si(double v, char *buf, size_t size)
{
    if (v >= 1e9)
        snprintf(buf, size, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, size, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, size, "%.1fk", v / 1e3);
    else
        snprintf(buf, size, "%.0f", v);
    return buf;
}

const char *cli_duration(double s, char *buf, size_t size)
{
    if (!(s >= 0) || s > 1e8)
        s = 0;
    unsigned long t = (unsigned long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, size, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, size, "%lu:%02lu", t / 60, t % 60);
    return buf;
}

char *cli_join_args(char **argv, int n, size_t *len)
{
    size_t total = 1;
    for (int i = 0; i < n; i++)
        total += strlen(argv[i]) + 1;
    char *s = malloc(total);
    if (s == NULL)
        return NULL;
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(argv[i]);
        if (i > 0)
            s[at++] = ' ';
        memcpy(s + at, argv[i], l);
        at += l;
    }
    s[at] = '\0';
    *len = at;
    return s;
}
