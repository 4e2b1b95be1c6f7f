/*
 * xmlcheck.h - a minimal XML well-formedness checker for the tests of the
 * SVG writers (test_svg.c, test_project.c).
 *
 * It accepts what the writers produce and what XML 1.0 requires of it: one
 * root element, an optional declaration, comments, properly nested and
 * matched tags, quoted attribute values without '<', unique attribute names
 * per element, '&' only in the five named entities or character references,
 * and valid UTF-8 with no characters XML forbids. DTDs, CDATA sections and
 * processing instructions other than the declaration are rejected, which is
 * stricter than XML and fine for these tests.
 */
#ifndef W2V_TEST_XMLCHECK_H
#define W2V_TEST_XMLCHECK_H

#include <stddef.h>

/* One element: its name, the raw attribute text and its decoded text. */
typedef struct xc_element {
    char *name;  /* element name */
    char *attrs; /* everything between the name and '>' (raw) */
    char *text;  /* character data directly inside, entities decoded */
    int depth;   /* 0 for the root */
} xc_element;

typedef struct xc_doc {
    xc_element *el; /* in document order */
    size_t n;
} xc_doc;

/*
 * Parses doc[0, len). Returns 0 and fills *out when the document is
 * well-formed; otherwise returns -1 and writes the byte offset and cause of
 * the first problem into why[0, why_cap).
 */
int xc_parse(const char *doc, size_t len, xc_doc *out, char *why,
             size_t why_cap);

/* Frees what xc_parse allocated. */
void xc_free(xc_doc *d);

/* Number of elements named name. */
size_t xc_count(const xc_doc *d, const char *name);

/*
 * The value of attribute attr of element e, decoded, malloc'ed; NULL if e
 * has no such attribute.
 */
char *xc_attr(const xc_element *e, const char *attr);

#endif /* W2V_TEST_XMLCHECK_H */
