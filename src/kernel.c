/*
 * kernel.c - the plain per-pair training kernels. See kernel.h.
 *
 * The weight matrices are shared by all training threads and updated
 * without locks (Hogwild!): two threads may update the same row at the same
 * time and one update may be partly lost. This is the one deliberate data
 * race in w2v; with sparse updates it costs no measurable accuracy and
 * saves all synchronisation.
 */
#include "kernel.h"

#include "simd.h"

#include <math.h>
#include <string.h>

float w2v_dot(const float *a, const float *b, size_t n)
{
    size_t i = 0;
    float t = 0;
#ifdef W2V_HAVE_V8
    /* Two vector sums hide the latency of the multiply-adds. */
    w2v_v8 s0 = w2v_v8_set1(0), s1 = s0;
    for (; i + 16 <= n; i += 16) {
        s0 += w2v_v8_load(a + i) * w2v_v8_load(b + i);
        s1 += w2v_v8_load(a + i + 8) * w2v_v8_load(b + i + 8);
    }
    if (i + 8 <= n) {
        s0 += w2v_v8_load(a + i) * w2v_v8_load(b + i);
        i += 8;
    }
    t = w2v_v8_sum(s0 + s1);
#endif
    for (; i < n; i++)
        t += a[i] * b[i];
    return t;
}

void w2v_axpy(float a, const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] += a * x[i];
}

double w2v_softplus(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

static inline float sigmoid(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

float w2v_kernel_ns_step(const float *h, float *out, size_t dim,
                         const uint32_t *ids, size_t n, float alpha,
                         float *grad, int want_loss)
{
    float loss = 0;
    for (size_t d = 0; d < n; d++) {
        float *o = out + (size_t)ids[d] * dim;
        float x = w2v_dot(h, o, dim);
        float label = d == 0 ? 1.0f : 0.0f;
        float g = alpha * (label - sigmoid(x));
        if (want_loss)
            loss += (float)w2v_softplus(d == 0 ? -x : x);
        w2v_axpy(g, o, grad, dim);  /* uses o before its own update */
        w2v_axpy(g, h, o, dim);
    }
    return loss;
}

float w2v_kernel_hs_step(const float *h, float *nodes, size_t dim,
                         const uint32_t *points, const uint8_t *codes,
                         size_t len, float alpha, float *grad, int want_loss)
{
    float loss = 0;
    for (size_t j = 0; j < len; j++) {
        float *o = nodes + (size_t)points[j] * dim;
        float x = w2v_dot(h, o, dim);
        /* Label 1 - code: the probability of taking branch 0. */
        float label = 1.0f - (float)codes[j];
        float g = alpha * (label - sigmoid(x));
        if (want_loss)
            loss += (float)w2v_softplus(codes[j] ? x : -x);
        w2v_axpy(g, o, grad, dim);
        w2v_axpy(g, h, o, dim);
    }
    return loss;
}

/* Target plus noise ids for one prediction; noise never equals target. */
static size_t draw_targets(const w2v_kernel_model *m, w2v_rng *rng,
                           uint32_t target, uint32_t *ids)
{
    size_t n = 0;
    ids[n++] = target;
    for (int d = 0; d < m->negative; d++) {
        uint32_t w = w2v_alias_draw(m->noise, rng);
        if (w != target)
            ids[n++] = w;
    }
    return n;
}

/*
 * All the outputs for predicting target from h, the noise words already
 * drawn into ids[0, n) (ids[0] = target); the step for h into s->grad.
 */
static void predict_drawn(const w2v_kernel_model *m, w2v_kernel_scratch *s,
                          const float *h, uint32_t target,
                          const uint32_t *ids, size_t n, float alpha,
                          w2v_kernel_loss *loss)
{
    int want = loss != NULL;
    float l = 0;
    if (m->tree != NULL) {
        size_t a = m->tree->start[target], b = m->tree->start[target + 1];
        l += w2v_kernel_hs_step(h, m->out_hs, m->dim, m->tree->points + a,
                                m->tree->codes + a, b - a, alpha, s->grad,
                                want);
    }
    if (m->negative > 0)
        l += w2v_kernel_ns_step(h, m->out_ns, m->dim, ids, n, alpha,
                                s->grad, want);
    if (want) {
        loss->sum += l;
        loss->count++;
    }
}

/* predict_drawn with the noise words drawn now. */
static void predict(const w2v_kernel_model *m, w2v_kernel_scratch *s,
                    w2v_rng *rng, const float *h, uint32_t target,
                    float alpha, w2v_kernel_loss *loss)
{
    size_t n = m->negative > 0 ? draw_targets(m, rng, target, s->ids) : 0;
    predict_drawn(m, s, h, target, s->ids, n, alpha, loss);
}

void w2v_kernel_skipgram(const w2v_kernel_model *m, w2v_kernel_scratch *s,
                         w2v_rng *rng, const uint32_t *sent, size_t len,
                         size_t pos, int win, float alpha,
                         w2v_kernel_loss *loss)
{
    size_t dim = m->dim;
    size_t lo = pos > (size_t)win ? pos - (size_t)win : 0;
    size_t hi = pos + (size_t)win < len ? pos + (size_t)win : len - 1;
    for (size_t c = lo; c <= hi; c++) {
        if (c == pos)
            continue;
        float *h = m->in + (size_t)sent[c] * dim;
        memset(s->grad, 0, dim * sizeof *s->grad);
        predict(m, s, rng, h, sent[pos], alpha, loss);
        w2v_axpy(1.0f, s->grad, h, dim);
    }
}

/* The window [*lo, *hi] of sent[pos] clipped to the sentence; hi - lo. */
static size_t cbow_window(size_t len, size_t pos, int win, size_t *lo,
                          size_t *hi)
{
    *lo = pos > (size_t)win ? pos - (size_t)win : 0;
    *hi = pos + (size_t)win < len ? pos + (size_t)win : len - 1;
    return *hi - *lo;  /* context words: the window less the target */
}

/* One CBOW step around sent[pos] with the noise words ids[0, n). */
static void cbow_step(const w2v_kernel_model *m, w2v_kernel_scratch *s,
                      const uint32_t *sent, size_t len, size_t pos, int win,
                      const uint32_t *ids, size_t n, float alpha,
                      w2v_kernel_loss *loss)
{
    size_t dim = m->dim, lo, hi;
    size_t cw = cbow_window(len, pos, win, &lo, &hi);
    memset(s->h, 0, dim * sizeof *s->h);
    for (size_t c = lo; c <= hi; c++)
        if (c != pos)
            w2v_axpy(1.0f, m->in + (size_t)sent[c] * dim, s->h, dim);
    float inv = 1.0f / (float)cw;
    for (size_t i = 0; i < dim; i++)
        s->h[i] *= inv;
    memset(s->grad, 0, dim * sizeof *s->grad);
    predict_drawn(m, s, s->h, sent[pos], ids, n, alpha, loss);
    /*
     * d(mean)/d(context vector) = 1/cw: the gradient of the average is
     * inv * grad. The mean step scales it by cw (kernel.h says why).
     */
    float scale = m->cbow_mean_step ? 1.0f : inv;
    for (size_t c = lo; c <= hi; c++)
        if (c != pos)
            w2v_axpy(scale, s->grad, m->in + (size_t)sent[c] * dim, dim);
}

void w2v_kernel_cbow(const w2v_kernel_model *m, w2v_kernel_scratch *s,
                     w2v_rng *rng, const uint32_t *sent, size_t len,
                     size_t pos, int win, float alpha, w2v_kernel_loss *loss)
{
    size_t lo, hi;
    if (cbow_window(len, pos, win, &lo, &hi) == 0)
        return;
    size_t n = m->negative > 0 ? draw_targets(m, rng, sent[pos], s->ids) : 0;
    cbow_step(m, s, sent, len, pos, win, s->ids, n, alpha, loss);
}

/*
 * The draws for target sent[pos]: its shrunk window, then (when it has
 * context) its noise words into ids; their output rows and the input row
 * entering the window are prefetched. Returns the number of ids.
 */
static size_t cbow_draw_ahead(const w2v_kernel_model *m, w2v_rng *rng,
                              const uint32_t *sent, size_t len, size_t pos,
                              int window, int *win, uint32_t *ids)
{
    size_t lo, hi;
    *win = window - (int)w2v_rng_below(rng, (uint32_t)window);
    if (cbow_window(len, pos, *win, &lo, &hi) == 0 || m->negative <= 0)
        return 0;
    size_t n = draw_targets(m, rng, sent[pos], ids);
    for (size_t j = 0; j < n; j++)
        w2v_prefetch_row(m->out_ns + (size_t)ids[j] * m->dim, m->dim);
    w2v_prefetch_row(m->in + (size_t)sent[hi] * m->dim, m->dim);
    return n;
}

void w2v_kernel_cbow_range(const w2v_kernel_model *m, w2v_kernel_scratch *s,
                           w2v_rng *rng, const uint32_t *sent, size_t len,
                           size_t from, size_t to, int window, float alpha,
                           uint64_t *predictions, uint64_t loss_every,
                           w2v_kernel_loss *loss)
{
    if (from >= to)
        return;
    int win, next_win;
    uint32_t *ids = s->ids, *next = s->ids_ahead;
    size_t n, next_n = cbow_draw_ahead(m, rng, sent, len, from, window,
                                       &next_win, next);
    for (size_t pos = from; pos < to; pos++) {
        uint32_t *t = ids;
        ids = next;
        next = t;
        n = next_n;
        win = next_win;
        if (pos + 1 < to)
            next_n = cbow_draw_ahead(m, rng, sent, len, pos + 1, window,
                                     &next_win, next);
        w2v_kernel_loss *l =
            loss != NULL && (*predictions)++ % loss_every == 0 ? loss : NULL;
        size_t lo, hi;
        if (cbow_window(len, pos, win, &lo, &hi) > 0)
            cbow_step(m, s, sent, len, pos, win, ids, n, alpha, l);
    }
}
