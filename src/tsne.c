/*
 * tsne.c - t-distributed stochastic neighbour embedding into two
 * dimensions, with Barnes-Hut repulsion. See w2v/project.h.
 *
 * The cost is KL(P || Q) where P holds Gaussian input similarities over
 * each point's nearest neighbours (sparse, symmetric, sums to 1) and
 * Q_ij = w_ij / Z with w_ij = 1 / (1 + |y_i - y_j|^2), Z = sum w over all
 * pairs i != j. Its gradient splits into an attraction over the non-zeros
 * of P and a repulsion over all pairs:
 *
 *   dC/dy_i = 4 (sum_j P_ij w_ij (y_i - y_j) - sum_j w_ij^2 (y_i - y_j) / Z)
 *
 * The repulsion is what costs O(n^2); a quadtree over the map lets a far
 * cell of points act as one point at its centre of mass when the cell's
 * width over its distance is below theta (Barnes-Hut), O(n log n) a step.
 * tsne_gradient with theta 0 visits every pair and is the reference.
 */
#include "w2v/project.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "project_ref.h"
#include "rng.h"
#include "util.h"

#define TSNE_MAX_THREADS 64

w2v_tsne_options w2v_tsne_options_default(void)
{
    w2v_tsne_options o;
    memset(&o, 0, sizeof o);
    o.perplexity = 30;
    o.iterations = 1000;
    o.theta = 0.5;
    o.seed = 1;
    o.pca_dims = 50;
    o.threads = 2;
    o.learning_rate = 0;
    o.exaggeration = 12;
    o.exaggeration_iters = 250;
    o.progress_every = 50;
    return o;
}

/* ---------------------------------------------------------------------- */
/* Running a loop on threads                                               */

/* Work on items [begin, end) as worker t. */
typedef void (*range_fn)(void *ctx, size_t begin, size_t end, int t);

typedef struct range_job {
    range_fn fn;
    void *ctx;
    size_t begin, end;
    int t;
} range_job;

static void *range_main(void *arg)
{
    range_job *j = arg;
    j->fn(j->ctx, j->begin, j->end, j->t);
    return NULL;
}

/*
 * Splits [0, n) into `threads` contiguous parts and runs fn on each, the
 * last on the calling thread. Each part is fixed by n and threads alone,
 * so results that are summed per part in order are repeatable.
 */
static void parallel_for(range_fn fn, void *ctx, size_t n, int threads)
{
    if (threads < 1)
        threads = 1;
    if (threads > TSNE_MAX_THREADS)
        threads = TSNE_MAX_THREADS;
    range_job jobs[TSNE_MAX_THREADS];
    pthread_t tid[TSNE_MAX_THREADS];
    int started[TSNE_MAX_THREADS];
    for (int t = 0; t < threads; t++)
        jobs[t] = (range_job){fn, ctx, n * (size_t)t / (size_t)threads,
                              n * (size_t)(t + 1) / (size_t)threads, t};
    /*
     * A part whose thread cannot start runs here instead, so the work and
     * its result are the same either way.
     */
    for (int t = 0; t < threads - 1; t++)
        started[t] = pthread_create(&tid[t], NULL, range_main, &jobs[t]) == 0;
    range_main(&jobs[threads - 1]);
    for (int t = 0; t < threads - 1; t++) {
        if (started[t])
            pthread_join(tid[t], NULL);
        else
            range_main(&jobs[t]);
    }
}

/* ---------------------------------------------------------------------- */
/* Input similarities                                                      */

/* Rows of squared distances computed per BLAS call. */
#define KNN_BLOCK 256

typedef struct knn_ctx {
    const float *x; /* (n, d) */
    size_t n, d, k;
    const float *sq; /* (n) squared lengths */
    size_t *nb_id;   /* (n, k) neighbour ids, nearest first */
    double *nb_d2;   /* (n, k) their squared distances */
    float *scratch[TSNE_MAX_THREADS]; /* (KNN_BLOCK, n) each */
} knn_ctx;

/* Sifts element at into place in the max-heap (d2, id)[0, len). */
static void heap_down(double *d2, size_t *id, size_t len, size_t at)
{
    for (;;) {
        size_t l = 2 * at + 1, big = at;
        if (l < len && d2[l] > d2[big])
            big = l;
        if (l + 1 < len && d2[l + 1] > d2[big])
            big = l + 1;
        if (big == at)
            return;
        double td = d2[at];
        d2[at] = d2[big];
        d2[big] = td;
        size_t ti = id[at];
        id[at] = id[big];
        id[big] = ti;
        at = big;
    }
}

/* The k smallest of row[0, n) except `self`, sorted, into d2/id (k). */
static void select_nearest(const float *row, size_t n, size_t self, size_t k,
                           double *d2, size_t *id)
{
    size_t len = 0;
    for (size_t j = 0; j < n; j++) {
        if (j == self)
            continue;
        double v = row[j] > 0 ? row[j] : 0;
        if (len < k) {
            d2[len] = v;
            id[len] = j;
            len++;
            if (len == k)
                for (size_t a = k / 2 + 1; a-- > 0;)
                    heap_down(d2, id, k, a);
        } else if (v < d2[0]) {
            d2[0] = v;
            id[0] = j;
            heap_down(d2, id, k, 0);
        }
    }
    /* Heap sort: nearest first. */
    for (size_t end = k; end > 1; end--) {
        double td = d2[0];
        d2[0] = d2[end - 1];
        d2[end - 1] = td;
        size_t ti = id[0];
        id[0] = id[end - 1];
        id[end - 1] = ti;
        heap_down(d2, id, end - 1, 0);
    }
}

/* Nearest neighbours of rows [begin, end), one block of rows per sgemm. */
static void knn_range(void *arg, size_t begin, size_t end, int t)
{
    knn_ctx *c = arg;
    float *dist = c->scratch[t];
    for (size_t i0 = begin; i0 < end; i0 += KNN_BLOCK) {
        size_t rows = end - i0 < KNN_BLOCK ? end - i0 : KNN_BLOCK;
        /* dist (rows, n) = -2 x[i0..] x^T, then + |x_i|^2 + |x_j|^2. */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows,
                    (int)c->n, (int)c->d, -2.0f, c->x + i0 * c->d, (int)c->d,
                    c->x, (int)c->d, 0.0f, dist, (int)c->n);
        for (size_t r = 0; r < rows; r++) {
            float *row = dist + r * c->n;
            for (size_t j = 0; j < c->n; j++)
                row[j] += c->sq[i0 + r] + c->sq[j];
            select_nearest(row, c->n, i0 + r, c->k, c->nb_d2 + (i0 + r) * c->k,
                           c->nb_id + (i0 + r) * c->k);
        }
    }
}

/*
 * The Gaussian conditional p_{j|i} over d2[0, k) (squared distances,
 * nearest first) with its precision bisected until the entropy is
 * log(perplexity); writes the probabilities into p (k).
 */
static void conditional(const double *d2, size_t k, double perplexity,
                        double *p)
{
    double target = log(perplexity);
    double beta = 1, lo = 0, hi = INFINITY;
    double base = d2[0];
    for (int it = 0; it < 200; it++) {
        double sum = 0, dot = 0;
        for (size_t j = 0; j < k; j++) {
            p[j] = exp(-beta * (d2[j] - base));
            sum += p[j];
            dot += (d2[j] - base) * p[j];
        }
        double h = log(sum) + beta * dot / sum;
        if (fabs(h - target) < 1e-6)
            break;
        if (h > target) {
            lo = beta;
            beta = isinf(hi) ? beta * 2 : (beta + hi) / 2;
        } else {
            hi = beta;
            beta = (beta + lo) / 2;
        }
    }
    double sum = 0;
    for (size_t j = 0; j < k; j++)
        sum += p[j];
    for (size_t j = 0; j < k; j++)
        p[j] /= sum;
}

typedef struct cond_ctx {
    const double *nb_d2;
    double *cond; /* (n, k) */
    size_t k;
    double perplexity;
} cond_ctx;

static void cond_range(void *arg, size_t begin, size_t end, int t)
{
    (void)t;
    cond_ctx *c = arg;
    for (size_t i = begin; i < end; i++)
        conditional(c->nb_d2 + i * c->k, c->k, c->perplexity,
                    c->cond + i * c->k);
}

/* One entry of P before merging: a column and a conditional. */
typedef struct p_entry {
    size_t col;
    double val;
} p_entry;

static int cmp_entry(const void *a, const void *b)
{
    size_t x = ((const p_entry *)a)->col, y = ((const p_entry *)b)->col;
    return x < y ? -1 : x > y;
}

/*
 * Buckets every conditional p_{j|i} into row i (column j) and row j
 * (column i): entries (2 n k), row r's in [start[r], start[r + 1]).
 */
static void bucket_rows(size_t n, size_t k, const size_t *nb_id,
                        const double *cond, size_t *start, size_t *fill,
                        p_entry *entries)
{
    memset(start, 0, (n + 1) * sizeof *start);
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < k; a++) {
            start[i + 1]++;
            start[nb_id[i * k + a] + 1]++;
        }
    for (size_t i = 0; i < n; i++)
        start[i + 1] += start[i];
    memcpy(fill, start, (n + 1) * sizeof *fill);
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < k; a++) {
            size_t j = nb_id[i * k + a];
            double v = cond[i * k + a];
            entries[fill[i]++] = (p_entry){j, v};
            entries[fill[j]++] = (p_entry){i, v};
        }
}

/*
 * P = (P_{j|i} + P_{i|j}) / (2n) in compressed rows, from the conditionals
 * cond (n, k) over neighbours nb_id (n, k): each row's entries sorted by
 * column and equal columns summed.
 */
static int symmetrise(size_t n, size_t k, const size_t *nb_id,
                      const double *cond, tsne_sparse *p, w2v_error *err)
{
    size_t total = 2 * n * k;
    size_t *start = malloc((n + 1) * sizeof *start);
    size_t *fill = malloc((n + 1) * sizeof *fill);
    p_entry *entries = malloc((total ? total : 1) * sizeof *entries);
    p->n = n;
    p->row = malloc((n + 1) * sizeof *p->row);
    p->col = malloc((total ? total : 1) * sizeof *p->col);
    p->val = malloc((total ? total : 1) * sizeof *p->val);
    int rc = W2V_OK;
    if (start == NULL || fill == NULL || entries == NULL || p->row == NULL ||
        p->col == NULL || p->val == NULL) {
        tsne_sparse_free(p);
        rc = w2v_fail_nomem(err, "t-SNE similarities");
    } else {
        bucket_rows(n, k, nb_id, cond, start, fill, entries);
        size_t out = 0;
        for (size_t i = 0; i < n; i++) {
            p->row[i] = out;
            p_entry *e = entries + start[i];
            size_t m = start[i + 1] - start[i];
            qsort(e, m, sizeof *e, cmp_entry);
            for (size_t s = 0; s < m; s++) {
                if (out > p->row[i] && p->col[out - 1] == e[s].col) {
                    p->val[out - 1] += e[s].val;
                } else {
                    p->col[out] = e[s].col;
                    p->val[out++] = e[s].val;
                }
            }
        }
        p->row[n] = out;
        for (size_t s = 0; s < out; s++)
            p->val[s] /= 2.0 * (double)n;
    }
    free(start);
    free(fill);
    free(entries);
    return rc;
}

int tsne_nearest(const float *x, size_t n, size_t d, size_t k, int threads,
                 size_t *ids, double *d2, w2v_error *err)
{
    if (threads < 1)
        threads = 1;
    if (threads > TSNE_MAX_THREADS)
        threads = TSNE_MAX_THREADS;
    knn_ctx c;
    memset(&c, 0, sizeof c);
    c.x = x;
    c.n = n;
    c.d = d;
    c.k = k;
    c.nb_id = ids;
    c.nb_d2 = d2;
    float *sq = malloc(n * sizeof *sq);
    int rc = sq == NULL ? w2v_fail_nomem(err, "t-SNE neighbours") : W2V_OK;
    for (int t = 0; rc == W2V_OK && t < threads; t++)
        if ((c.scratch[t] = malloc(KNN_BLOCK * n * sizeof(float))) == NULL)
            rc = w2v_fail_nomem(err, "t-SNE distances");
    if (rc == W2V_OK) {
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t j = 0; j < d; j++)
                s += (double)x[i * d + j] * x[i * d + j];
            sq[i] = (float)s;
        }
        c.sq = sq;
        parallel_for(knn_range, &c, n, threads);
    }
    for (int t = 0; t < threads; t++)
        free(c.scratch[t]);
    free(sq);
    return rc;
}

static int similarities(const float *x, size_t n, size_t d, double perplexity,
                        size_t k, int threads, tsne_sparse *p, w2v_error *err)
{
    memset(p, 0, sizeof *p);
    size_t *nb_id = malloc(n * k * sizeof *nb_id);
    double *nb_d2 = malloc(n * k * sizeof *nb_d2);
    double *cond = malloc(n * k * sizeof *cond);
    int rc = W2V_OK;
    if (nb_id == NULL || nb_d2 == NULL || cond == NULL)
        rc = w2v_fail_nomem(err, "t-SNE neighbours");
    if (rc == W2V_OK)
        rc = tsne_nearest(x, n, d, k, threads, nb_id, nb_d2, err);
    if (rc == W2V_OK) {
        cond_ctx cc = {nb_d2, cond, k, perplexity};
        parallel_for(cond_range, &cc, n, threads);
    }
    if (rc == W2V_OK)
        rc = symmetrise(n, k, nb_id, cond, p, err);
    free(nb_id);
    free(nb_d2);
    free(cond);
    return rc;
}

static size_t neighbours_for(size_t n, double perplexity)
{
    size_t k = (size_t)floor(3 * perplexity);
    return k < n - 1 ? k : n - 1;
}

int tsne_input_similarities(const float *x, size_t n, size_t d,
                            double perplexity, int threads, tsne_sparse *p,
                            w2v_error *err)
{
    return similarities(x, n, d, perplexity, neighbours_for(n, perplexity),
                        threads, p, err);
}

int tsne_input_similarities_exact(const float *x, size_t n, size_t d,
                                  double perplexity, tsne_sparse *p,
                                  w2v_error *err)
{
    return similarities(x, n, d, perplexity, n - 1, 1, p, err);
}

void tsne_sparse_free(tsne_sparse *p)
{
    free(p->row);
    free(p->col);
    free(p->val);
    memset(p, 0, sizeof *p);
}

/* ---------------------------------------------------------------------- */
/* Quadtree                                                                */

/* Below this depth cells are split; deeper, points share a leaf. */
#define QT_MAX_DEPTH 40

typedef struct qt_node {
    double cx, cy, hw; /* centre and half width of the square cell */
    double mx, my;     /* centre of mass of its points */
    size_t count;      /* points inside */
    size_t child;      /* index of the first of 4 children; 0 = leaf */
    size_t point;      /* a point of a leaf (the one it was made for) */
    int depth;
} qt_node;

typedef struct quadtree {
    qt_node *node;
    size_t n, cap;
} quadtree;

static int qt_grow(quadtree *q, size_t more)
{
    if (q->n + more <= q->cap)
        return 1;
    size_t c = q->cap ? q->cap * 2 : 1024;
    while (c < q->n + more)
        c *= 2;
    qt_node *p = realloc(q->node, c * sizeof *p);
    if (p == NULL)
        return 0;
    q->node = p;
    q->cap = c;
    return 1;
}

static int quadrant(const qt_node *nd, double x, double y)
{
    return (x >= nd->cx ? 1 : 0) + (y >= nd->cy ? 2 : 0);
}

/* Makes the 4 children of node at; returns 0 when out of memory. */
static int qt_split(quadtree *q, size_t at)
{
    if (!qt_grow(q, 4))
        return 0;
    qt_node *nd = &q->node[at];
    double h = nd->hw / 2;
    nd->child = q->n;
    for (int c = 0; c < 4; c++) {
        qt_node *ch = &q->node[q->n++];
        memset(ch, 0, sizeof *ch);
        ch->cx = nd->cx + ((c & 1) ? h : -h);
        ch->cy = nd->cy + ((c & 2) ? h : -h);
        ch->hw = h;
        ch->depth = nd->depth + 1;
    }
    return 1;
}

static int qt_insert(quadtree *q, const double *y, size_t i)
{
    double px = y[2 * i], py = y[2 * i + 1];
    size_t at = 0;
    for (;;) {
        qt_node *nd = &q->node[at];
        double c = (double)nd->count;
        nd->mx = (nd->mx * c + px) / (c + 1);
        nd->my = (nd->my * c + py) / (c + 1);
        nd->count++;
        if (nd->child == 0) {
            if (nd->count == 1) {
                nd->point = i;
                return 1;
            }
            /*
             * The leaf's earlier points all sit where `old` does (a leaf
             * only holds more than one when they coincide, or at the depth
             * limit, where it keeps whatever arrives).
             */
            size_t old = nd->point;
            int same = y[2 * old] == px && y[2 * old + 1] == py;
            if (same || nd->depth >= QT_MAX_DEPTH)
                return 1;
            size_t n_old = nd->count - 1;
            if (!qt_split(q, at))
                return 0;
            nd = &q->node[at];
            size_t ch = nd->child + (size_t)quadrant(nd, y[2 * old],
                                                     y[2 * old + 1]);
            q->node[ch].count = n_old;
            q->node[ch].mx = y[2 * old];
            q->node[ch].my = y[2 * old + 1];
            q->node[ch].point = old;
        }
        at = nd->child + (size_t)quadrant(nd, px, py);
    }
}

static int qt_build(quadtree *q, const double *y, size_t n)
{
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 2; c++) {
            lo[c] = fmin(lo[c], y[2 * i + c]);
            hi[c] = fmax(hi[c], y[2 * i + c]);
        }
    q->n = 0;
    if (!qt_grow(q, 1))
        return 0;
    qt_node *root = &q->node[q->n++];
    memset(root, 0, sizeof *root);
    root->cx = (lo[0] + hi[0]) / 2;
    root->cy = (lo[1] + hi[1]) / 2;
    root->hw = fmax(hi[0] - lo[0], hi[1] - lo[1]) / 2 * (1 + 1e-9) + 1e-12;
    for (size_t i = 0; i < n; i++)
        if (!qt_insert(q, y, i))
            return 0;
    return 1;
}

/*
 * Repulsion on point i: sum over other points of w^2 (y_i - y_j) into
 * f[0, 2), and sum of w into the return value, cells far enough away
 * standing in for their points. stack has room for 4 * QT_MAX_DEPTH + 4.
 */
static double qt_repulse(const quadtree *q, const double *y, size_t i,
                         double theta2, double *f, size_t *stack)
{
    double px = y[2 * i], py = y[2 * i + 1], z = 0, fx = 0, fy = 0;
    size_t top = 0;
    stack[top++] = 0;
    while (top > 0) {
        const qt_node *nd = &q->node[stack[--top]];
        if (nd->count == 0)
            continue;
        double dx = px - nd->mx, dy = py - nd->my;
        double d2 = dx * dx + dy * dy;
        double width = 2 * nd->hw;
        if (nd->child == 0 || width * width < theta2 * d2) {
            double cnt = (double)nd->count;
            /* i's own leaf: the point itself, or i among coincident ones. */
            if (nd->child == 0 && (nd->point == i || d2 < 1e-24))
                cnt -= 1;
            double w = 1 / (1 + d2);
            z += cnt * w;
            fx += cnt * w * w * dx;
            fy += cnt * w * w * dy;
            continue;
        }
        for (size_t c = 0; c < 4; c++)
            stack[top++] = nd->child + c;
    }
    f[0] = fx;
    f[1] = fy;
    return z;
}

/* ---------------------------------------------------------------------- */
/* Gradient                                                                */

typedef struct grad_ctx {
    const tsne_sparse *p;
    const double *y;
    const quadtree *q; /* NULL: exact repulsion */
    double theta2;
    double *attr, *rep; /* (n, 2) each */
    double z[TSNE_MAX_THREADS];
    double kl[TSNE_MAX_THREADS]; /* sum of p log(p / w) per part */
    int want_kl;
} grad_ctx;

static void grad_range(void *arg, size_t begin, size_t end, int t)
{
    grad_ctx *c = arg;
    const double *y = c->y;
    size_t n = c->p->n;
    size_t stack[4 * QT_MAX_DEPTH + 8];
    double z = 0, kl = 0;
    for (size_t i = begin; i < end; i++) {
        double ax = 0, ay = 0;
        for (size_t s = c->p->row[i]; s < c->p->row[i + 1]; s++) {
            size_t j = c->p->col[s];
            double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
            double w = 1 / (1 + dx * dx + dy * dy);
            double pw = c->p->val[s] * w;
            ax += pw * dx;
            ay += pw * dy;
            if (c->want_kl)
                kl += c->p->val[s] * log(c->p->val[s] / w);
        }
        c->attr[2 * i] = ax;
        c->attr[2 * i + 1] = ay;
        if (c->q != NULL) {
            z += qt_repulse(c->q, y, i, c->theta2, c->rep + 2 * i, stack);
            continue;
        }
        double rx = 0, ry = 0;
        for (size_t j = 0; j < n; j++) {
            if (j == i)
                continue;
            double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
            double w = 1 / (1 + dx * dx + dy * dy);
            z += w;
            rx += w * w * dx;
            ry += w * w * dy;
        }
        c->rep[2 * i] = rx;
        c->rep[2 * i + 1] = ry;
    }
    c->z[t] = z;
    c->kl[t] = kl;
}

/* The gradient with a quadtree q reused between calls (NULL: none). */
static int gradient(const tsne_sparse *p, const double *y,
                    double exaggeration, double theta, int threads,
                    quadtree *q, double *work, double *grad, double *kl,
                    w2v_error *err)
{
    size_t n = p->n;
    if (threads < 1)
        threads = 1;
    if (threads > TSNE_MAX_THREADS)
        threads = TSNE_MAX_THREADS;
    grad_ctx c;
    memset(&c, 0, sizeof c);
    c.p = p;
    c.y = y;
    c.theta2 = theta * theta;
    c.attr = work;
    c.rep = work + 2 * n;
    c.want_kl = kl != NULL;
    if (theta > 0) {
        if (!qt_build(q, y, n))
            return w2v_fail_nomem(err, "the t-SNE quadtree");
        c.q = q;
    }
    parallel_for(grad_range, &c, n, threads);
    double z = 0, klsum = 0;
    for (int t = 0; t < threads; t++) {
        z += c.z[t];
        klsum += c.kl[t];
    }
    if (!(z > 0))
        z = 1e-300;
    for (size_t i = 0; i < 2 * n; i++)
        grad[i] = 4 * (exaggeration * c.attr[i] - c.rep[i] / z);
    if (kl != NULL)
        *kl = klsum + log(z); /* sum p = 1 */
    return W2V_OK;
}

int tsne_gradient(const tsne_sparse *p, const double *y, double exaggeration,
                  double theta, int threads, double *grad, double *kl,
                  w2v_error *err)
{
    quadtree q = {NULL, 0, 0};
    double *work = malloc(4 * (p->n ? p->n : 1) * sizeof *work);
    if (work == NULL)
        return w2v_fail_nomem(err, "the t-SNE gradient");
    int rc = gradient(p, y, exaggeration, theta, threads, &q, work, grad, kl,
                      err);
    free(q.node);
    free(work);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* The optimiser                                                           */

static int check_options(size_t n, const float *x, size_t d,
                         const w2v_tsne_options *o, w2v_error *err)
{
    if (n < 3)
        return w2v_fail(err, W2V_ERR_ARG, "t-SNE needs at least 3 points, "
                        "got %zu", n);
    double max_perp = (double)(n - 1) / 3;
    if (!(o->perplexity >= 1) || o->perplexity > max_perp)
        return w2v_fail(err, W2V_ERR_ARG, "perplexity %g is out of range "
                        "for %zu points: it must be at least 1 and at most "
                        "(points - 1) / 3 = %.4g", o->perplexity, n, max_perp);
    if (o->iterations < 1)
        return w2v_fail(err, W2V_ERR_ARG, "t-SNE needs at least 1 "
                        "iteration");
    if (!(o->theta >= 0) || !isfinite(o->theta))
        return w2v_fail(err, W2V_ERR_ARG, "t-SNE theta %g must be >= 0",
                        o->theta);
    if (!(o->learning_rate >= 0) || !(o->exaggeration >= 1))
        return w2v_fail(err, W2V_ERR_ARG, "t-SNE learning rate must be >= 0 "
                        "and exaggeration >= 1");
    for (size_t i = 0; i < n * d; i++)
        if (!isfinite(x[i]))
            return w2v_fail(err, W2V_ERR_ARG, "t-SNE input row %zu holds a "
                            "non-finite value", i / d);
    return W2V_OK;
}

/* The map's start: the first two principal components, std 1e-4. */
static int initial_map(const float *z, size_t n, size_t dz, uint64_t seed,
                       double *y, w2v_error *err)
{
    float *pc = malloc(n * 2 * sizeof *pc);
    if (pc == NULL)
        return w2v_fail_nomem(err, "the t-SNE map");
    int rc = W2V_OK;
    if (dz >= 2) {
        rc = w2v_pca(z, n, dz, 2, pc, NULL, err);
    } else {
        for (size_t i = 0; i < n; i++) {
            pc[2 * i] = z[i * dz];
            pc[2 * i + 1] = 0;
        }
    }
    if (rc == W2V_OK) {
        double ss = 0;
        for (size_t i = 0; i < n; i++)
            ss += (double)pc[2 * i] * pc[2 * i];
        double sd = sqrt(ss / (double)n);
        double scale = sd > 0 ? 1e-4 / sd : 1;
        w2v_rng r;
        w2v_rng_seed(&r, seed, 0x75e);
        /* A little jitter keeps coincident points apart. */
        for (size_t i = 0; i < 2 * n; i++)
            y[i] = pc[i] * scale +
                   1e-6 * ((double)w2v_rng_float(&r) - 0.5);
    }
    free(pc);
    return rc;
}

/* One step of gradient descent with momentum and gains. */
static void descend(double *y, const double *grad, double *update,
                    double *gains, size_t n, double momentum, double eta)
{
    for (size_t i = 0; i < 2 * n; i++) {
        int same = (grad[i] > 0) == (update[i] > 0);
        gains[i] = same ? gains[i] * 0.8 : gains[i] + 0.2;
        if (gains[i] < 0.01)
            gains[i] = 0.01;
        update[i] = momentum * update[i] - eta * gains[i] * grad[i];
        y[i] += update[i];
    }
    double mean[2] = {0, 0};
    for (size_t i = 0; i < n; i++) {
        mean[0] += y[2 * i];
        mean[1] += y[2 * i + 1];
    }
    for (size_t i = 0; i < n; i++) {
        y[2 * i] -= mean[0] / (double)n;
        y[2 * i + 1] -= mean[1] / (double)n;
    }
}

typedef struct tsne_state {
    float *z;     /* (n, dz) reduced input */
    double *y;    /* (n, 2) map */
    double *grad, *update, *gains; /* (n, 2) each */
    double *work; /* (n, 4) */
    tsne_sparse p;
    quadtree q;
} tsne_state;

static void state_free(tsne_state *s)
{
    free(s->z);
    free(s->y);
    free(s->grad);
    free(s->update);
    free(s->gains);
    free(s->work);
    tsne_sparse_free(&s->p);
    free(s->q.node);
}

/* x reduced to pca_dims columns by PCA, or copied. */
static int reduce_input(const float *x, size_t n, size_t d,
                        const w2v_tsne_options *o, tsne_state *s,
                        size_t *dz, w2v_error *err)
{
    *dz = o->pca_dims > 0 && o->pca_dims < d ? o->pca_dims : d;
    s->z = malloc(n * *dz * sizeof *s->z);
    if (s->z == NULL)
        return w2v_fail_nomem(err, "the t-SNE input");
    if (*dz < d)
        return w2v_pca(x, n, d, *dz, s->z, NULL, err);
    memcpy(s->z, x, n * d * sizeof *x);
    return W2V_OK;
}

static int optimise(tsne_state *s, size_t n, const w2v_tsne_options *o,
                    w2v_error *err)
{
    double eta = o->learning_rate > 0 ? o->learning_rate
                                      : fmax(200, (double)n / o->exaggeration);
    int every = o->progress_every > 0 ? o->progress_every : 50;
    for (size_t i = 0; i < 2 * n; i++) {
        s->gains[i] = 1;
        s->update[i] = 0;
    }
    for (int it = 0; it < o->iterations; it++) {
        int early = it < o->exaggeration_iters;
        int report = o->progress != NULL &&
                     ((it + 1) % every == 0 || it + 1 == o->iterations);
        double kl = 0;
        int rc = gradient(&s->p, s->y, early ? o->exaggeration : 1,
                          o->theta, o->threads, &s->q, s->work, s->grad,
                          report ? &kl : NULL, err);
        if (rc != W2V_OK)
            return rc;
        descend(s->y, s->grad, s->update, s->gains, n, early ? 0.5 : 0.8,
                eta);
        if (report && o->progress(it + 1, o->iterations, kl,
                                  o->progress_user) != 0)
            return w2v_fail(err, W2V_ERR_STOPPED, "t-SNE stopped at "
                            "iteration %d", it + 1);
    }
    return W2V_OK;
}

int w2v_tsne(const float *x, size_t n, size_t d,
             const w2v_tsne_options *opt, float *out, w2v_error *err)
{
    w2v_tsne_options o = opt != NULL ? *opt : w2v_tsne_options_default();
    int rc = check_options(n, x, d, &o, err);
    if (rc != W2V_OK)
        return rc;
    tsne_state s;
    memset(&s, 0, sizeof s);
    size_t dz = 0;
    rc = reduce_input(x, n, d, &o, &s, &dz, err);
    if (rc == W2V_OK) {
        s.y = malloc(2 * n * sizeof *s.y);
        s.grad = malloc(2 * n * sizeof *s.grad);
        s.update = malloc(2 * n * sizeof *s.update);
        s.gains = malloc(2 * n * sizeof *s.gains);
        s.work = malloc(4 * n * sizeof *s.work);
        if (s.y == NULL || s.grad == NULL || s.update == NULL ||
            s.gains == NULL || s.work == NULL)
            rc = w2v_fail_nomem(err, "the t-SNE map");
    }
    if (rc == W2V_OK)
        rc = tsne_input_similarities(s.z, n, dz, o.perplexity, o.threads,
                                     &s.p, err);
    if (rc == W2V_OK)
        rc = initial_map(s.z, n, dz, o.seed, s.y, err);
    if (rc == W2V_OK)
        rc = optimise(&s, n, &o, err);
    if (rc == W2V_OK)
        for (size_t i = 0; i < 2 * n; i++)
            out[i] = (float)s.y[i];
    state_free(&s);
    return rc;
}
