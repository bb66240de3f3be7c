/* The streaming anomaly detector's per-point work, compiled.
 *
 * detector.py explains *what* is computed and why; this file is how it is computed fast
 * enough to score a fleet, an ingest or a replay (the pure Python detector it replaced
 * managed ~80k points a second; a point here costs about a microsecond).
 *
 * Everything a detector remembers lives in one caller-owned buffer (the "arena"): a Det
 * header, then arrays of doubles. No allocation happens per point, the Python object owns
 * the memory, and the part before `persist_bytes` is the whole saved state (the sorted
 * copies of the windows after it are rebuilt from the windows on load).
 *
 * It was ported from that Python detector and checked against it until both gave the same
 * scores, episodes and saved state to the last bit; sums therefore still run left to right
 * from the oldest value, and the phase of a time is taken with Python's floor division.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define MIN_FOR_TAIL 256
#define MIN_YOUNG 30
#define P_FLOOR 1e-12
#define FLOOR_SHARE 0.02
#define MAX_BINS 2016
#define STEP_SAMPLES 16
#define SCORE_DECADES 10.0
#define STRONG_MARGIN 0.3
#define GATE_LOW 0.5
#define GATE_HIGH 0.8
#define REPEATS 3
#define MAX_SEASONS 2
#define MAX_VALUE 1e150
/* Values entering and leaving a sorted window wait in two small sorted buffers and are
 * merged into it once either fills: a merge of the window every BUF points instead of a
 * shift of half the window on every point. */
#define BUF 64
/* Every STRIDE-th value of S, searched first: a small index that stays in the first-level
 * cache narrows each search of S to one short run, instead of a chain of misses across S. */
#define STRIDE 16
#define ARENA_MAGIC 0x6f70636b4b524e35LL /* "opckKRN5" */

enum { T_VALUE, T_JUMP, T_LEVEL, T_SPREAD, T_VALUE_R, T_LEVEL_R, T_DRIFT, T_DRIFT_R, T_SEASON0 };

typedef struct { int64_t off, cap, head, len; } Ring; /* FIFO of doubles in the arena */

typedef struct {
    int64_t size, tail, lag, stale;
    Ring pending, window;
    int64_t off_s, ns, off_i, ni, off_d, nd; /* sorted = (S minus D) plus I */
    int64_t off_idx, nidx; /* S[0], S[STRIDE], S[2 * STRIDE], ... */
    int64_t buffers_sorted; /* I and D are kept in arrival order until someone needs order */
} Tail;

typedef struct {
    int64_t size, lag, since_recentre, has_line;
    Ring pending, window;
    double shift, sx, sxx, stx, line, slope, r2;
} Fit;

typedef struct {
    int64_t exists, bins, has_baseline, off_values, off_stamps;
    double period, width, alpha, baseline;
} Phase;

typedef struct {
    double threshold, release, quiet_seconds, hold_seconds;
    int64_t cooldown, quiet;
    int64_t has_open, start, end, peak_at; /* ordinals of points */
    double start_s, end_s, peak, peak_s;
    int64_t since_active; /* -1: never active */
    double last_peak;
    int64_t age, was_high;
    double last_high;
} Tracker;

typedef struct {
    int64_t magic, window, tail, lag, level_span, spread_span, season_span, nseasons;
    int64_t seasons[MAX_SEASONS]; /* seconds of each period, in the caller's order */
    int64_t ntails, persist_bytes, total_bytes;
    double sensitivity, jump_alpha;
    int64_t count, seen, has_fast, has_last, has_last_seconds, has_step, ngaps, has_band;
    double fast, last, last_seconds, step, gaps[STEP_SAMPLES], band[3];
    int64_t why, high; /* reason of the last scored point: tail index + 1, side */
    Ring recent, steps, season_recent;
    Tracker tracker;
    Fit fit;
    Phase phases[MAX_SEASONS];
    Tail tails[T_SEASON0 + MAX_SEASONS];
} Det;

#define AT(det, off) (((double *)(void *)(det)) + (off))

/* ---- floor division ---------------------------------------------------------------- */

/* Python's float % and // (the result of % takes the divisor's sign, so a time before
 * 1970 still falls in a phase bin of [0, period)). */
static double py_mod(double v, double w) {
    double mod = fmod(v, w);
    if (mod != 0.0) {
        if ((w < 0) != (mod < 0)) mod += w;
    } else {
        mod = copysign(0.0, w);
    }
    return mod;
}

static double py_floordiv(double v, double w) {
    double mod = fmod(v, w);
    double div = (v - mod) / w;
    if (mod != 0.0 && ((w < 0) != (mod < 0))) div -= 1.0;
    if (div != 0.0) {
        double fl = floor(div);
        if (div - fl > 0.5) fl += 1.0;
        return fl;
    }
    return copysign(0.0, v / w);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---- rings ----------------------------------------------------------------------- */

static void layout_ring(Ring *r, int64_t *cursor, int64_t cap) {
    r->off = *cursor;
    r->cap = cap;
    r->head = r->len = 0;
    *cursor += cap;
}

/* Append x; when the ring was full, the value it pushed out goes to *old and 1 is returned. */
static int ring_enter(Det *d, Ring *r, double x, double *old) {
    double *v = AT(d, r->off);
    if (r->len < r->cap) {
        v[(r->head + r->len) % r->cap] = x;
        r->len++;
        return 0;
    }
    *old = v[r->head];
    v[r->head] = x;
    r->head = r->head + 1 < r->cap ? r->head + 1 : 0;
    return 1;
}

static double ring_pop(Det *d, Ring *r) {
    double x = AT(d, r->off)[r->head];
    r->head = r->head + 1 < r->cap ? r->head + 1 : 0;
    r->len--;
    return x;
}

static double ring_at(Det *d, const Ring *r, int64_t i) { /* i-th oldest */
    return AT(d, r->off)[(r->head + i) % r->cap];
}

/* The mean, summed left to right from the oldest (two runs, no modulo per value). */
static double ring_mean(Det *d, const Ring *r) {
    const double *v = AT(d, r->off);
    int64_t first = r->cap - r->head < r->len ? r->cap - r->head : r->len;
    double s = 0.0;
    for (int64_t i = 0; i < first; i++) s += v[r->head + i];
    for (int64_t i = 0; i < r->len - first; i++) s += v[i];
    return s / (double)r->len;
}

/* ---- sorted windows --------------------------------------------------------------- */

/* Branch-free binary searches: the position of x among values drawn from the same
 * distribution is unpredictable, so a branch per step would be mispredicted half the time. */
static int64_t lower_bound(const double *v, int64_t n, double x) {
    const double *base = v;
    while (n > 1) {
        int64_t half = n >> 1;
        base = base[half - 1] < x ? base + half : base;
        n -= half;
    }
    return (base - v) + (n == 1 && *base < x);
}

static int64_t upper_bound(const double *v, int64_t n, double x) {
    const double *base = v;
    while (n > 1) {
        int64_t half = n >> 1;
        base = base[half - 1] <= x ? base + half : base;
        n -= half;
    }
    return (base - v) + (n == 1 && *base <= x);
}

/* (values < x, values <= x) of a short sorted array (a merge buffer, a stretch of S):
 * counted outright, two values per instruction, rather than searched. */
static void count2(const double *v, int64_t n, double x, int64_t *lt, int64_t *le) {
    int64_t below = 0, at_most = 0, i = 0;
#ifdef __SSE2__
    __m128d xx = _mm_set1_pd(x);
    __m128i b = _mm_setzero_si128(), m = _mm_setzero_si128();
    for (; i + 2 <= n; i += 2) { /* a true comparison is all ones: -1 */
        __m128d a = _mm_loadu_pd(v + i);
        b = _mm_sub_epi64(b, _mm_castpd_si128(_mm_cmplt_pd(a, xx)));
        m = _mm_sub_epi64(m, _mm_castpd_si128(_mm_cmple_pd(a, xx)));
    }
    int64_t lanes[4];
    _mm_storeu_si128((__m128i *)(void *)lanes, b);
    _mm_storeu_si128((__m128i *)(void *)(lanes + 2), m);
    below = lanes[0] + lanes[1];
    at_most = lanes[2] + lanes[3];
#endif
    for (; i < n; i++) {
        below += v[i] < x;
        at_most += v[i] <= x;
    }
    *lt = below;
    *le = at_most;
}

static void index_rebuild(Det *d, Tail *t) {
    const double *s = AT(d, t->off_s);
    double *idx = AT(d, t->off_idx);
    int64_t k = 0;
    for (int64_t i = 0; i < t->ns; i += STRIDE) idx[k++] = s[i];
    t->nidx = k;
}

/* (values of S < x, values of S <= x), through the index. */
static void rank_s(Det *d, const Tail *t, double x, int64_t *lt, int64_t *le) {
    const double *s = AT(d, t->off_s), *idx = AT(d, t->off_idx);
    /* Samples < x put the first value >= x just after the last such sample. */
    int64_t j = lower_bound(idx, t->nidx, x);
    int64_t lo = j > 0 ? (j - 1) * STRIDE + 1 : 0;
    int64_t hi = j > 0 ? (j * STRIDE < t->ns ? j * STRIDE : t->ns) : 0;
    int64_t below, at_most;
    count2(s + lo, hi - lo, x, &below, &at_most);
    int64_t at = lo + below;
    *lt = at;
    if (at_most < hi - lo || !(at < t->ns && s[at] == x)) { *le = lo + at_most; return; }
    /* x runs to the end of the stretch (quantised series repeat values thousands of times):
     * samples <= x put the end after the last such sample. */
    j = upper_bound(idx, t->nidx, x);
    lo = (j - 1) * STRIDE;
    hi = j * STRIDE < t->ns ? j * STRIDE : t->ns;
    *le = lo + upper_bound(s + lo, hi - lo, x);
}

/* A merge buffer is short (BUF values): insertion sort beats anything with more set-up
 * (a bottom-up merge sort measured slower). */
static void buffer_sort(double *v, int64_t n) {
    for (int64_t i = 1; i < n; i++) {
        double x = v[i];
        int64_t j = i;
        for (; j > 0 && v[j - 1] > x; j--) v[j] = v[j - 1];
        v[j] = x;
    }
}

/* Counting needs no order; merging and the order statistics do. */
static void sort_buffers(Det *d, Tail *t) {
    if (t->buffers_sorted) return;
    buffer_sort(AT(d, t->off_i), t->ni);
    buffer_sort(AT(d, t->off_d), t->nd);
    t->buffers_sorted = 1;
}

static void tail_resort(Det *d, Tail *t) {
    double *s = AT(d, t->off_s);
    for (int64_t i = 0; i < t->window.len; i++) s[i] = ring_at(d, &t->window, i);
    qsort(s, (size_t)t->window.len, sizeof(double), cmp_double);
    t->ns = t->window.len;
    t->ni = t->nd = 0;
    t->stale = 0;
    index_rebuild(d, t);
}

/* First i >= from with s[i] >= x (n if none), probing from `from` in growing steps: the
 * buffered values are sorted, so each is found a short way past the last. */
static int64_t gallop_lower(const double *s, int64_t from, int64_t n, double x) {
    int64_t lo = from, p = from, step = 1;
    while (p < n && s[p] < x) { lo = p + 1; p += step; step <<= 1; }
    if (p > n) p = n;
    return lo + lower_bound(s + lo, p - lo, x);
}

/* First i < end with s[i] > x (end if none), probing back from end in growing steps. */
static int64_t gallop_upper_back(const double *s, int64_t end, double x) {
    int64_t hi = end, q = end - 1, step = 1;
    while (q >= 0 && s[q] > x) { hi = q; q -= step; step <<= 1; }
    int64_t lo = q < 0 ? 0 : q + 1;
    return lo + upper_bound(s + lo, hi - lo, x);
}

/* Merge the buffers into S: take D's values out of S, then put I's in, each a run at a
 * time (a search per buffered value and a memmove per run, not a step per window value). */
static void tail_flush(Det *d, Tail *t) {
    sort_buffers(d, t);
    double *s = AT(d, t->off_s), *in = AT(d, t->off_i), *del = AT(d, t->off_d);
    int64_t w = 0, r = 0; /* S[0..w) is final; S[r..ns) still to be read */
    for (int64_t j = 0; j < t->nd; j++) {
        int64_t at = gallop_lower(s, r, t->ns, del[j]); /* present: D is within S */
        if (at >= t->ns) continue; /* cannot be absent; if it were, drop nothing past S */
        memmove(s + w, s + r, (size_t)(at - r) * sizeof(double));
        w += at - r;
        r = at + 1;
    }
    memmove(s + w, s + r, (size_t)(t->ns - r) * sizeof(double));
    int64_t kept = w + (t->ns - r), end = kept, out = kept + t->ni;
    if (out > t->size + BUF) { /* only departures missing from S could get here */
        t->stale = 1; /* rebuilt from the window when next asked */
        t->ni = t->nd = 0;
        return;
    }
    for (int64_t b = t->ni - 1; b >= 0; b--) { /* from the back: each run moves once */
        int64_t at = gallop_upper_back(s, end, in[b]);
        out -= end - at;
        memmove(s + out, s + at, (size_t)(end - at) * sizeof(double));
        s[--out] = in[b];
        end = at;
    }
    t->ns = kept + t->ni;
    t->ni = t->nd = 0;
    index_rebuild(d, t);
}

static void tail_add(Det *d, Tail *t, double x) {
    AT(d, t->off_i)[t->ni++] = x;
    t->buffers_sorted = 0;
    if (t->ni == BUF) tail_flush(d, t);
}

static void tail_remove(Det *d, Tail *t, double x) {
    double *in = AT(d, t->off_i);
    for (int64_t k = 0; k < t->ni; k++) {
        if (in[k] == x) { /* joined after the last merge: just forget it */
            in[k] = in[--t->ni];
            t->buffers_sorted = 0;
            return;
        }
    }
    AT(d, t->off_d)[t->nd++] = x;
    t->buffers_sorted = 0;
    if (t->nd == BUF) tail_flush(d, t);
}

static inline int64_t tail_n(const Tail *t) { return t->ns + t->ni - t->nd; }

/* How many values of the window are below x, and how many at or below it. */
static void tail_ranks(Det *d, const Tail *t, double x, int64_t *lt, int64_t *le) {
    int64_t s_lt, s_le, i_lt, i_le, d_lt, d_le;
    rank_s(d, t, x, &s_lt, &s_le);
    count2(AT(d, t->off_i), t->ni, x, &i_lt, &i_le);
    count2(AT(d, t->off_d), t->nd, x, &d_lt, &d_le);
    *lt = s_lt + i_lt - d_lt;
    *le = s_le + i_le - d_le;
}

/* The m smallest values ascending (low) and the m largest descending (high). */
static void tail_ends(Det *d, Tail *t, int64_t m, double *low, double *high) {
    sort_buffers(d, t);
    const double *s = AT(d, t->off_s), *in = AT(d, t->off_i), *del = AT(d, t->off_d);
    int64_t a = 0, b = 0, c = 0;
    for (int64_t k = 0; k < m; k++) {
        while (a < t->ns && c < t->nd && s[a] == del[c]) { a++; c++; }
        if (b >= t->ni || (a < t->ns && s[a] <= in[b])) low[k] = s[a++]; else low[k] = in[b++];
    }
    a = t->ns - 1; b = t->ni - 1; c = t->nd - 1;
    for (int64_t k = 0; k < m; k++) {
        while (a >= 0 && c >= 0 && s[a] == del[c]) { a--; c--; }
        if (b < 0 || (a >= 0 && s[a] >= in[b])) high[k] = s[a--]; else high[k] = in[b--];
    }
}

static double exp_tail(double distance, double scale, int64_t k, int64_t n) {
    if (scale <= 0.0) return P_FLOOR;
    double p = ((double)k / (double)(n + 1)) * exp(-distance / scale);
    return p > P_FLOOR ? p : P_FLOOR;
}

/* Median of the m values at one end of the window, as tail_ends gives them (ascending
 * from the bottom, or descending from the top: the median is the same). */
static double median_of(const double *v, int64_t m) {
    int64_t mid = m / 2;
    if (m % 2) return v[mid];
    return 0.5 * (v[mid - 1] + v[mid]);
}

static void tail_surprise(Det *d, Tail *t, double x, double *up, double *lo) {
    if (t->stale) tail_resort(d, t);
    int64_t n = tail_n(t);
    if (n == 0) { *up = *lo = 1.0; return; }
    int64_t lt, le;
    tail_ranks(d, t, x, &lt, &le);
    int64_t above = n - lt, below = le;
    double upper = (double)(above + 1) / (double)(n + 1);
    double lower = (double)(below + 1) / (double)(n + 1);
    double lowv[64], highv[64];
    if (n < MIN_FOR_TAIL) {
        if (n >= MIN_YOUNG && (above == 0 || below == 0)) {
            tail_ends(d, t, 1, lowv, highv);
            double low = lowv[0], high = highv[0], scale = high - low, p;
            if (x > high) {
                p = exp_tail(x - high, scale, 1, n);
                if (p < upper) upper = p;
            } else if (x < low) {
                p = exp_tail(low - x, scale, 1, n);
                if (p < lower) lower = p;
            }
        }
        *up = upper; *lo = lower;
        return;
    }
    int64_t k = t->tail < n / 4 ? t->tail : n / 4;
    /* Inside the bulk (ranks alone decide): most points end here. */
    if (above > k && below > k) { *up = upper; *lo = lower; return; }
    tail_ends(d, t, k + 1, lowv, highv);
    double top = highv[k], bottom = lowv[k];
    double floor_ = FLOOR_SHARE * (top - bottom);
    if (above < REPEATS && x > top) {
        double scale = (median_of(highv, k) - top) / log(2.0);
        if (!(scale > floor_)) scale = floor_;
        double p = exp_tail(x - top, scale, k, n);
        if (p < upper) upper = p;
    }
    if (below < REPEATS && x < bottom) {
        double scale = (bottom - median_of(lowv, k)) / log(2.0);
        if (!(scale > floor_)) scale = floor_;
        double p = exp_tail(bottom - x, scale, k, n);
        if (p < lower) lower = p;
    }
    *up = upper; *lo = lower;
}

static void tail_push(Det *d, Tail *t, double x, int keep_sorted) {
    double old;
    ring_enter(d, &t->pending, x, &old);
    if (t->pending.len <= t->lag) return;
    x = ring_pop(d, &t->pending);
    int left = ring_enter(d, &t->window, x, &old);
    if (!keep_sorted) { t->stale = 1; return; }
    if (t->stale) { tail_resort(d, t); return; }
    tail_add(d, t, x);
    if (left) tail_remove(d, t, old);
}

static void tail_judge(Det *d, Tail *t, double x, double *up, double *lo) {
    tail_surprise(d, t, x, up, lo);
    tail_push(d, t, x, 1);
}

/* (low, high) of the bulk: the window with `tail` values cut from each end. */
static int tail_band(Det *d, Tail *t, double *low, double *high) {
    if (t->stale) tail_resort(d, t);
    int64_t n = tail_n(t);
    if (n == 0) return 0;
    int64_t k = t->tail < n / 4 ? t->tail : n / 4;
    double lowv[64], highv[64];
    tail_ends(d, t, k + 1, lowv, highv);
    *low = lowv[k];
    *high = highv[k];
    return 1;
}

/* ---- trend line ------------------------------------------------------------------- */

static void fit_refit(Fit *f) {
    int64_t n = f->window.len;
    if (n < 3) { f->has_line = 0; f->slope = 0.0; f->r2 = 0.0; return; }
    double mean_t = (double)(n - 1) / 2.0;
    double var_t = (double)((n * n - 1) * n) / 12.0;
    double cov = f->stx - mean_t * f->sx;
    double slope = cov / var_t;
    double ahead = (double)(n - 1 + f->pending.len + 1) - mean_t;
    f->slope = slope;
    f->line = f->shift + f->sx / (double)n + slope * ahead;
    f->has_line = 1;
    double var_x = f->sxx - f->sx * f->sx / (double)n;
    if (var_x <= 0.0) { f->r2 = 0.0; return; }
    double r2 = cov * cov / (var_t * var_x);
    f->r2 = r2 < 0.0 ? 0.0 : (r2 > 1.0 ? 1.0 : r2);
}

static void fit_recentre(Det *d, Fit *f) {
    double s = 0.0;
    for (int64_t i = 0; i < f->window.len; i++) s += ring_at(d, &f->window, i);
    f->shift = s / (double)f->window.len;
    f->sx = f->sxx = f->stx = 0.0;
    for (int64_t i = 0; i < f->window.len; i++) {
        double dv = ring_at(d, &f->window, i) - f->shift;
        f->sx += dv;
        f->sxx += dv * dv;
        f->stx += (double)i * dv;
    }
    f->since_recentre = 0;
}

static void fit_push(Det *d, Fit *f, double x) {
    double old;
    ring_enter(d, &f->pending, x, &old);
    if (f->pending.len <= f->lag) return;
    x = ring_pop(d, &f->pending);
    double dv = x - f->shift;
    f->stx += (double)f->window.len * dv;
    f->sx += dv;
    f->sxx += dv * dv;
    if (ring_enter(d, &f->window, x, &old)) {
        double o = old - f->shift;
        f->sx -= o;
        f->sxx -= o * o;
        f->stx -= f->sx;
    }
    f->since_recentre++;
    if (f->since_recentre >= f->size) fit_recentre(d, f);
    fit_refit(f);
}

/* ---- same-phase memory ------------------------------------------------------------ */

static void phase_create(Phase *ph, double period, double step) {
    double per_step = period / (step > 1e-9 ? step : 1e-9);
    double bins = nearbyint(per_step);
    if (bins > MAX_BINS) bins = MAX_BINS;
    if (bins < 1) bins = 1;
    ph->exists = 1;
    ph->period = period;
    ph->bins = (int64_t)bins;
    ph->width = period / (double)ph->bins;
    double alpha = 2.0 / (per_step + 1.0);
    ph->alpha = alpha < 1.0 ? alpha : 1.0;
    ph->has_baseline = 0;
}

static int64_t phase_index(const Phase *ph, double ts) {
    double q = py_floordiv(py_mod(ts, ph->period), ph->width);
    int64_t i = (int64_t)q % ph->bins;
    return i < 0 ? i + ph->bins : i;
}

/* The deviation stored in bin i about one period before ts; 0 when there is none. */
static int phase_recall(Det *d, const Phase *ph, int64_t i, double ts, double *value) {
    double stamp = AT(d, ph->off_stamps)[i];
    if (isnan(stamp)) return 0;
    double age = ts - stamp;
    if (!(0.5 * ph->period <= age && age <= 1.5 * ph->period)) return 0;
    *value = AT(d, ph->off_values)[i];
    return 1;
}

static void phase_remember(Det *d, const Phase *ph, int64_t i, double ts, double deviation,
                           int anomalous) {
    double before;
    int known = phase_recall(d, ph, i, ts, &before);
    AT(d, ph->off_values)[i] = anomalous && known ? before : deviation;
    AT(d, ph->off_stamps)[i] = ts;
}

/* ---- episodes --------------------------------------------------------------------- */

typedef struct { double *out; int64_t n; } Closings; /* 5 doubles per closed episode */

static void emit(const Tracker *tr, Closings *c, int64_t at) {
    double *o = c->out + 5 * c->n++;
    o[0] = (double)tr->start; o[1] = (double)tr->end; o[2] = tr->peak;
    o[3] = (double)tr->peak_at; o[4] = (double)at;
}

/* A tracker with no history: nothing open, never active. */
static void tracker_setup(Tracker *tr, double threshold, double release, int64_t cooldown,
                          int64_t quiet, double quiet_seconds, double hold_seconds) {
    memset(tr, 0, sizeof *tr);
    tr->threshold = threshold;
    tr->release = release;
    tr->cooldown = cooldown;
    tr->quiet = quiet;
    tr->quiet_seconds = quiet_seconds;
    tr->hold_seconds = hold_seconds;
    tr->since_active = -1;
}

static int tracker_start(Tracker *tr, int64_t at, double secs, double score) {
    tr->has_open = 1;
    tr->start = tr->end = tr->peak_at = at;
    tr->start_s = tr->end_s = tr->peak_s = secs;
    tr->peak = score;
    tr->last_high = secs;
    tr->since_active = 0;
    tr->last_peak = score;
    tr->age = 0;
    return 1;
}

static int tracker_observe(Tracker *tr, int64_t at, double secs, double score, int settled,
                           Closings *c) {
    int high = score >= tr->threshold;
    int onset = high && !tr->was_high;
    tr->was_high = high;
    if (tr->has_open) tr->age++;
    if (high && onset && tr->since_active >= 0
        && !(!tr->has_open && tr->since_active >= tr->cooldown)
        && !(tr->has_open && tr->age < tr->quiet)
        && score >= tr->last_peak + STRONG_MARGIN) {
        if (tr->has_open) emit(tr, c, at);
        return tracker_start(tr, at, secs, score);
    }
    int hot = tr->since_active >= 0 && tr->since_active < tr->cooldown;
    if (high || (score >= tr->release && (tr->has_open || hot))) {
        tr->since_active = 0;
        if (tr->has_open) {
            if (high) tr->last_high = secs;
            if (score > tr->peak) { tr->peak = score; tr->peak_at = at; tr->peak_s = secs; }
            tr->end = at;
            tr->end_s = secs;
            tr->last_peak = tr->peak;
            return 0;
        }
        if (high && !hot) return tracker_start(tr, at, secs, score);
        return 0;
    }
    if (tr->since_active >= 0) tr->since_active++;
    if (tr->has_open && tr->since_active >= 0) {
        double calm = secs - tr->end_s;
        int waited = tr->since_active >= tr->quiet && secs - tr->last_high >= tr->quiet_seconds;
        int new_normal = tr->since_active >= tr->cooldown && calm >= tr->hold_seconds;
        if (waited && (settled || new_normal)) {
            emit(tr, c, at);
            tr->has_open = 0;
        }
    }
    return 0;
}

/* ---- the detector ----------------------------------------------------------------- */

static double combine(double p, double q, double weight) {
    if (q <= p) return p;
    if (weight >= 1.0) return q;
    return pow(p, 1.0 - weight) * pow(q, weight);
}

/* Tail probabilities of a statistic, gated by its residual around the trend line. */
static void judge_gated(Det *d, int name, double stat, int has_line, double line, double gate,
                        double best, double *up, double *lo) {
    tail_judge(d, &d->tails[name], stat, up, lo);
    if (!has_line) return;
    int resid_name = name == T_VALUE ? T_VALUE_R : name == T_DRIFT ? T_DRIFT_R : T_LEVEL_R;
    Tail *resid_tail = &d->tails[resid_name];
    double resid = stat - line;
    double least = *up < *lo ? *up : *lo;
    if (gate > 0.0 && 2.0 * least < best) {
        double r_up, r_lo;
        tail_surprise(d, resid_tail, resid, &r_up, &r_lo);
        *up = combine(*up, r_up, gate);
        *lo = combine(*lo, r_lo, gate);
    }
    tail_push(d, resid_tail, resid, gate > 0.0);
}

static void learn_step(Det *d, double seconds) {
    int had = d->has_last_seconds;
    double last = d->last_seconds;
    d->last_seconds = seconds;
    d->has_last_seconds = 1;
    if (!had || seconds <= last) return;
    d->gaps[d->ngaps++] = seconds - last;
    if (d->ngaps < STEP_SAMPLES) return;
    double sorted[STEP_SAMPLES];
    memcpy(sorted, d->gaps, sizeof sorted);
    qsort(sorted, STEP_SAMPLES, sizeof(double), cmp_double);
    d->step = (sorted[STEP_SAMPLES / 2 - 1] + sorted[STEP_SAMPLES / 2]) / 2;
    d->has_step = 1;
    d->ngaps = 0;
    for (int64_t s = 0; s < d->nseasons; s++) {
        double period = (double)d->seasons[s];
        if (d->step * 4 <= period) phase_create(&d->phases[s], period, d->step);
    }
}

#define VOTE(name, u, l)                                                          \
    do {                                                                          \
        double p_ = 2.0 * ((u) < (l) ? (u) : (l));                                \
        if (p_ < best) { best = p_; why = (name) + 1; high = (u) < (l); }         \
    } while (0)

/* Score one point; 1 when it opened an episode (closings appended to c). */
static double detector_update(Det *d, double seconds, double x, int *opened, Closings *c) {
    int64_t at = d->seen++;
    *opened = 0;
    /* Missing, or so large that the trend line's sums of squares would overflow: nothing
     * derived from such a value may reach a sorted window (NaN has no place in an order).
     * A point without a time has no phase either. */
    if (!(fabs(x) <= MAX_VALUE) || !isfinite(seconds)) return 0.0;
    if (!d->has_step) learn_step(d, seconds);
    Fit *fit = &d->fit;
    int has_line = fit->has_line;
    double level_line = fit->line, value_line = 0.0, drift_line = 0.0;
    if (has_line) {
        value_line = level_line + fit->slope * (double)(d->level_span - 1) / 2;
        /* The drift's mean is centred (season_span - level_span) / 2 points further back. */
        drift_line = level_line - fit->slope * (double)(d->season_span - d->level_span) / 2;
    }
    double gate = (fit->r2 - GATE_LOW) / (GATE_HIGH - GATE_LOW);
    double best = 1.0, up, lo;
    int64_t why = 0, high = 0;

    judge_gated(d, T_VALUE, x, has_line, value_line, gate, best, &up, &lo);
    VOTE(T_VALUE, up, lo);

    if (!d->has_fast) {
        d->fast = x;
        d->has_fast = 1;
    } else {
        tail_judge(d, &d->tails[T_JUMP], x - d->fast, &up, &lo);
        d->fast = d->fast + d->jump_alpha * (x - d->fast);
        VOTE(T_JUMP, up, lo);
    }

    double old;
    if (d->has_last) ring_enter(d, &d->steps, fabs(x - d->last), &old);
    d->last = x;
    d->has_last = 1;
    ring_enter(d, &d->recent, x, &old);
    ring_enter(d, &d->season_recent, x, &old);
    int has_level = 0;
    double level = 0.0;
    double deviations[MAX_SEASONS];
    int64_t bins[MAX_SEASONS];
    int has_deviation[MAX_SEASONS] = {0, 0};
    if (d->recent.len == d->level_span) {
        has_level = 1;
        level = ring_mean(d, &d->recent);
        judge_gated(d, T_LEVEL, level, has_line, level_line, gate, best, &up, &lo);
        fit_push(d, fit, level);
        VOTE(T_LEVEL, up, lo);
    }
    int has_season_level = d->season_recent.len == d->season_span;
    double season_level = has_season_level ? ring_mean(d, &d->season_recent) : 0.0;
    int any_phase = 0;
    for (int64_t s = 0; s < d->nseasons; s++) any_phase |= (int)d->phases[s].exists;
    if (any_phase && has_season_level) {
        for (int64_t s = 0; s < d->nseasons; s++) {
            Phase *ph = &d->phases[s];
            if (!ph->exists) continue;
            if (!ph->has_baseline) {
                ph->baseline = season_level;
                ph->has_baseline = 1;
            } else {
                ph->baseline += ph->alpha * (season_level - ph->baseline);
            }
            double deviation = season_level - ph->baseline, before;
            deviations[s] = deviation;
            has_deviation[s] = 1;
            bins[s] = phase_index(ph, seconds);
            if (!phase_recall(d, ph, bins[s], seconds, &before)) continue;
            double residual = deviation - before;
            Tail *t = &d->tails[T_SEASON0 + s];
            int64_t needed = d->window < ph->bins ? d->window : ph->bins;
            if (t->window.len < needed) {
                tail_push(d, t, residual, 1);
                continue;
            }
            tail_judge(d, t, residual, &up, &lo);
            VOTE(T_SEASON0 + s, up, lo);
        }
    }

    int drift_votes = 0;
    if (has_season_level) {
        /* A mean of season_span points moves slowly (about one independent value per
         * season_span): it learns until its window holds as many independent values as
         * the level's does at MIN_FOR_TAIL (1,024 values for spans 48 and 12). */
        Tail *t = &d->tails[T_DRIFT];
        int64_t needed = MIN_FOR_TAIL * d->season_span / d->level_span;
        if (needed > d->window) needed = d->window;
        if (t->window.len < needed) {
            tail_push(d, t, season_level, 1);
            if (has_line)
                tail_push(d, &d->tails[T_DRIFT_R], season_level - drift_line, gate > 0.0);
        } else {
            judge_gated(d, T_DRIFT, season_level, has_line, drift_line, gate, best, &up, &lo);
            VOTE(T_DRIFT, up, lo);
            drift_votes = 1;
        }
    }

    if (d->steps.len == d->spread_span) {
        tail_judge(d, &d->tails[T_SPREAD], ring_mean(d, &d->steps), &up, &lo);
        VOTE(T_SPREAD, up, lo);
    }

    /* Bonferroni over the statistics (value, jump, level, spread and the seasons, voting
     * yet or not: a young series gets no discount for having fewer), and the drift once it
     * votes: it learns for a thousand points, and short series should not pay for a
     * statistic that cannot speak for them. */
    double p = best * (double)(4 + drift_votes + d->nseasons);
    if (p > 1.0) p = 1.0;
    double score = 0.0;
    if (p < 1.0) {
        score = -log10(p) / SCORE_DECADES;
        if (score > 1.0) score = 1.0;
    }
    d->why = why;
    d->high = high;
    int anomalous = score >= d->tracker.release;
    for (int64_t s = 0; s < d->nseasons; s++)
        if (has_deviation[s])
            phase_remember(d, &d->phases[s], bins[s], seconds, deviations[s], anomalous);
    d->count++;

    /* Settled: the level is back where it normally lay before the open episode. */
    int settled = 1;
    if (d->has_band) {
        d->band[0] += d->band[2];
        d->band[1] += d->band[2];
        settled = !has_level || (d->band[0] <= level && level <= d->band[1]);
    }
    *opened = tracker_observe(&d->tracker, at, seconds, score, settled, c);
    if (*opened) {
        int around_line = gate >= 0.5 && has_line;
        double low, hi;
        d->has_band = tail_band(d, &d->tails[around_line ? T_LEVEL_R : T_LEVEL], &low, &hi);
        if (d->has_band) {
            double width = hi - low;
            if (around_line) {
                d->band[0] = level_line + low - width;
                d->band[1] = level_line + hi + width;
                d->band[2] = fit->slope;
            } else {
                d->band[0] = low - width;
                d->band[1] = hi + width;
                d->band[2] = 0.0;
            }
        }
    } else if (!d->tracker.has_open) {
        d->has_band = 0;
    }
    return score;
}

/* ---- layout ----------------------------------------------------------------------- */

typedef struct {
    double sensitivity, jump_alpha;
    long long window, tail, lag, level_span, spread_span, season_span, cooldown, quiet;
    double quiet_seconds, hold_seconds;
    PyObject *seasons;
} Params;

static int parse_params(PyObject *args, Params *p) {
    return PyArg_ParseTuple(args, "ddLLLLLLLLddO", &p->sensitivity, &p->jump_alpha, &p->window,
                            &p->tail, &p->lag, &p->level_span, &p->spread_span, &p->season_span,
                            &p->cooldown, &p->quiet, &p->quiet_seconds, &p->hold_seconds,
                            &p->seasons);
}

static void layout_tail(Tail *t, int64_t *cursor, int64_t size, int64_t tail, int64_t lag) {
    t->size = size; t->tail = tail; t->lag = lag; t->stale = 0;
    layout_ring(&t->pending, cursor, lag + 1);
    layout_ring(&t->window, cursor, size);
}

static int64_t header_doubles(void) { return (int64_t)((sizeof(Det) + 7) / 8); }

/* Fill a Det for these parameters (offsets in doubles from the arena start). */
static int build(const Params *p, Det *d) {
    memset(d, 0, sizeof *d);
    if (p->window < 4 || p->tail < 1 || p->tail > 60 || p->lag < 0 || p->level_span < 1
        || p->spread_span < 1 || p->season_span < 1 || p->cooldown < 0 || p->quiet < 0) {
        PyErr_SetString(PyExc_ValueError, "detector parameters out of range");
        return -1;
    }
    Py_ssize_t nseasons = PySequence_Length(p->seasons);
    if (nseasons < 0 || nseasons > MAX_SEASONS) {
        PyErr_SetString(PyExc_ValueError, "at most two seasons");
        return -1;
    }
    d->magic = ARENA_MAGIC;
    d->window = p->window; d->tail = p->tail; d->lag = p->lag;
    d->level_span = p->level_span; d->spread_span = p->spread_span;
    d->season_span = p->season_span; d->nseasons = nseasons;
    for (Py_ssize_t s = 0; s < nseasons; s++) {
        PyObject *item = PySequence_GetItem(p->seasons, s);
        if (item == NULL) return -1;
        long long period = PyLong_AsLongLong(item);
        Py_DECREF(item);
        if (period <= 0) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "bad season period");
            return -1;
        }
        d->seasons[s] = period;
    }
    d->ntails = T_SEASON0 + nseasons;
    d->sensitivity = p->sensitivity;
    d->jump_alpha = p->jump_alpha;
    double threshold = 1.0 - p->sensitivity;
    tracker_setup(&d->tracker, threshold, threshold * 0.5, p->cooldown, p->quiet,
                  p->quiet_seconds, p->hold_seconds);

    int64_t cursor = header_doubles();
    layout_ring(&d->recent, &cursor, p->level_span);
    layout_ring(&d->steps, &cursor, p->spread_span);
    layout_ring(&d->season_recent, &cursor, p->season_span);
    d->fit.size = p->window;
    d->fit.lag = p->lag;
    layout_ring(&d->fit.pending, &cursor, p->lag + 1);
    layout_ring(&d->fit.window, &cursor, p->window);
    for (int64_t s = 0; s < nseasons; s++) {
        d->phases[s].off_values = cursor; cursor += MAX_BINS;
        d->phases[s].off_stamps = cursor; cursor += MAX_BINS;
    }
    for (int64_t i = 0; i < d->ntails; i++) {
        /* The drift waits as long as its mean spans: judged against means none of whose
         * points it shares. */
        int64_t lag = i == T_DRIFT || i == T_DRIFT_R ? p->season_span : p->lag;
        layout_tail(&d->tails[i], &cursor, p->window, p->tail, lag);
    }
    d->persist_bytes = cursor * 8;
    /* The sorted copies come last: they are not saved, only rebuilt. */
    for (int64_t i = 0; i < d->ntails; i++) {
        Tail *t = &d->tails[i];
        t->off_s = cursor; cursor += p->window + BUF;
        t->off_i = cursor; cursor += BUF;
        t->off_d = cursor; cursor += BUF;
        t->off_idx = cursor; cursor += (p->window + BUF) / STRIDE + 1;
    }
    d->total_bytes = cursor * 8;
    return 0;
}

static Det *arena_of(Py_buffer *buf) {
    if (buf->len < (Py_ssize_t)sizeof(Det) || ((uintptr_t)buf->buf & 7)) {
        PyErr_SetString(PyExc_ValueError, "not a detector arena");
        return NULL;
    }
    Det *d = (Det *)buf->buf;
    if (d->magic != ARENA_MAGIC || buf->len < d->total_bytes) {
        PyErr_SetString(PyExc_ValueError, "not a detector arena");
        return NULL;
    }
    return d;
}

/* ---- Python functions ------------------------------------------------------------- */

static PyObject *py_sizes(PyObject *self, PyObject *args) {
    Params p;
    Det d;
    if (!parse_params(args, &p) || build(&p, &d) < 0) return NULL;
    return Py_BuildValue("LL", (long long)d.total_bytes, (long long)d.persist_bytes);
}

static PyObject *py_init(PyObject *self, PyObject *args) {
    Py_buffer buf;
    PyObject *rest;
    if (PyTuple_GET_SIZE(args) < 1) {
        PyErr_SetString(PyExc_TypeError, "init(arena, *params)");
        return NULL;
    }
    if (PyObject_GetBuffer(PyTuple_GET_ITEM(args, 0), &buf, PyBUF_WRITABLE) < 0) return NULL;
    rest = PyTuple_GetSlice(args, 1, PyTuple_GET_SIZE(args));
    Params p;
    Det d;
    int ok = rest != NULL && parse_params(rest, &p) && build(&p, &d) == 0;
    Py_XDECREF(rest);
    if (ok && buf.len < d.total_bytes) {
        PyErr_SetString(PyExc_ValueError, "arena too small");
        ok = 0;
    }
    if (ok) {
        memset(buf.buf, 0, (size_t)d.total_bytes);
        memcpy(buf.buf, &d, sizeof d);
        Det *a = (Det *)buf.buf;
        for (int64_t s = 0; s < a->nseasons; s++) {
            double *stamps = AT(a, a->phases[s].off_stamps);
            for (int64_t i = 0; i < MAX_BINS; i++) stamps[i] = NAN;
        }
    }
    PyBuffer_Release(&buf);
    if (!ok) return NULL;
    Py_RETURN_NONE;
}

/* Forget the sorted copies (they are rebuilt from the windows when next asked). */
static void drop_sorted(Det *d) {
    for (int64_t i = 0; i < d->ntails; i++) {
        Tail *t = &d->tails[i];
        t->stale = 1;
        t->ns = t->ni = t->nd = t->nidx = 0;
    }
}

/* The saved state: the arena up to persist_bytes, as if no sorted copy existed (so a
 * detector and its restored twin save the same bytes). */
static PyObject *py_dump(PyObject *self, PyObject *args) {
    Py_buffer buf;
    if (!PyArg_ParseTuple(args, "w*", &buf)) return NULL;
    Det *d = arena_of(&buf);
    PyObject *result = NULL;
    if (d != NULL) {
        result = PyBytes_FromStringAndSize(buf.buf, (Py_ssize_t)d->persist_bytes);
        if (result != NULL) drop_sorted((Det *)(void *)PyBytes_AS_STRING(result));
    }
    PyBuffer_Release(&buf);
    return result;
}

/* A ring of the saved state laid out as the fresh one, its position inside it. */
static int same_ring(const Ring *saved, const Ring *fresh) {
    return saved->off == fresh->off && saved->cap == fresh->cap && saved->head >= 0
           && saved->head < (fresh->cap > 0 ? fresh->cap : 1) && saved->len >= 0
           && saved->len <= fresh->cap;
}

/* Whether a saved header can be trusted in place of the fresh one: the same layout, and
 * every position and count inside its bounds (a damaged store must raise an error, not
 * send a write past an array). */
static int same_layout(const Det *saved, const Det *fresh) {
    if (saved->magic != fresh->magic || saved->window != fresh->window
        || saved->tail != fresh->tail || saved->lag != fresh->lag
        || saved->level_span != fresh->level_span || saved->spread_span != fresh->spread_span
        || saved->season_span != fresh->season_span || saved->nseasons != fresh->nseasons
        || saved->seasons[0] != fresh->seasons[0] || saved->seasons[1] != fresh->seasons[1]
        || saved->ntails != fresh->ntails || saved->persist_bytes != fresh->persist_bytes
        || saved->total_bytes != fresh->total_bytes || saved->ngaps < 0
        || saved->ngaps >= STEP_SAMPLES || saved->why < 0 || saved->why > fresh->ntails
        || !same_ring(&saved->recent, &fresh->recent) || !same_ring(&saved->steps, &fresh->steps)
        || !same_ring(&saved->season_recent, &fresh->season_recent)
        || saved->fit.size != fresh->fit.size || saved->fit.lag != fresh->fit.lag
        || !same_ring(&saved->fit.pending, &fresh->fit.pending)
        || !same_ring(&saved->fit.window, &fresh->fit.window))
        return 0;
    for (int64_t s = 0; s < fresh->nseasons; s++) {
        const Phase *a = &saved->phases[s], *b = &fresh->phases[s];
        if (a->off_values != b->off_values || a->off_stamps != b->off_stamps
            || (a->exists && (a->bins < 1 || a->bins > MAX_BINS || !(a->period > 0.0)
                              || !(a->width > 0.0) || !isfinite(a->period)
                              || !isfinite(a->width))))
            return 0;
    }
    for (int64_t i = 0; i < fresh->ntails; i++) {
        const Tail *a = &saved->tails[i], *b = &fresh->tails[i];
        if (a->size != b->size || a->tail != b->tail || a->lag != b->lag
            || a->off_s != b->off_s || a->off_i != b->off_i || a->off_d != b->off_d
            || a->off_idx != b->off_idx || !same_ring(&a->pending, &b->pending)
            || !same_ring(&a->window, &b->window))
            return 0;
    }
    return 1;
}

/* Every remembered value is a number (NaN has no place in a sorted window); a phase bin's
 * time may be NaN, which marks it empty. */
static int finite_values(const double *saved, const Det *fresh) {
    for (int64_t i = header_doubles(); i < fresh->persist_bytes / 8; i++) {
        int stamp = 0;
        for (int64_t s = 0; s < fresh->nseasons; s++) {
            int64_t from = fresh->phases[s].off_stamps;
            stamp |= i >= from && i < from + MAX_BINS;
        }
        if (!isfinite(saved[i]) && !(stamp && isnan(saved[i]))) return 0;
    }
    return 1;
}

/* Write a saved state back into an arena laid out for the same parameters. */
static PyObject *py_load(PyObject *self, PyObject *args) {
    Py_buffer buf, data;
    if (!PyArg_ParseTuple(args, "w*y*", &buf, &data)) return NULL;
    Det *d = arena_of(&buf);
    int ok = d != NULL;
    if (ok) {
        Det saved;
        ok = data.len == d->persist_bytes;
        if (ok) {
            memcpy(&saved, data.buf, sizeof saved);
            ok = same_layout(&saved, d) && finite_values(data.buf, d);
        }
        if (!ok) PyErr_SetString(PyExc_ValueError, "saved detector does not fit this layout");
    }
    if (ok) {
        memcpy(buf.buf, data.buf, (size_t)data.len);
        drop_sorted(d);
    }
    PyBuffer_Release(&buf);
    PyBuffer_Release(&data);
    if (!ok) return NULL;
    Py_RETURN_NONE;
}

/* Per-point flags: bit 0 opened, bits 1-4 which statistic (tail index + 1), bit 5 its side
 * (high), bit 6 an episode is open after the point. */
static int32_t point_flags(const Det *d, int opened) {
    return opened | (int32_t)(d->why << 1) | (int32_t)(d->high << 5)
        | (int32_t)(d->tracker.has_open << 6);
}

static PyObject *closings_tuple(const double *out, int64_t n) {
    PyObject *closings = PyTuple_New(n);
    for (int64_t k = 0; closings != NULL && k < n; k++) {
        const double *o = out + 5 * k;
        PyObject *item = Py_BuildValue("(LLdLL)", (long long)o[0], (long long)o[1], o[2],
                                       (long long)o[3], (long long)o[4]);
        if (item == NULL) { Py_CLEAR(closings); break; }
        PyTuple_SET_ITEM(closings, k, item);
    }
    return closings;
}

static PyObject *open_tuple(const Tracker *tr) {
    if (!tr->has_open) Py_RETURN_NONE;
    return Py_BuildValue("(LLdL)", (long long)tr->start, (long long)tr->end, tr->peak,
                         (long long)tr->peak_at);
}

/* Score many points: scores into `scores`, (position, flags) of each point that opened an
 * episode into `opened`, 5 doubles per closed episode into `closed`; returns the counts. */
static PyObject *py_score(PyObject *self, PyObject *args) {
    Py_buffer arena, secs, vals, scores, opened_buf, closed;
    if (!PyArg_ParseTuple(args, "w*y*y*w*w*w*", &arena, &secs, &vals, &scores, &opened_buf,
                          &closed))
        return NULL;
    PyObject *result = NULL;
    Det *d = arena_of(&arena);
    Py_ssize_t n = secs.len / (Py_ssize_t)sizeof(double);
    if (d == NULL) goto done;
    if (vals.len != secs.len || scores.len < secs.len
        || opened_buf.len < n * 2 * (Py_ssize_t)sizeof(int32_t)
        || closed.len < n * 5 * (Py_ssize_t)sizeof(double)) {
        PyErr_SetString(PyExc_ValueError, "score: buffer sizes do not match");
        goto done;
    }
    const double *s = secs.buf, *v = vals.buf;
    double *out = scores.buf;
    int32_t *op = opened_buf.buf;
    Py_ssize_t nopened = 0;
    Closings c = {closed.buf, 0};
    for (Py_ssize_t i = 0; i < n; i++) {
        int opened;
        out[i] = detector_update(d, s[i], v[i], &opened, &c);
        if (opened) {
            op[2 * nopened] = (int32_t)i;
            op[2 * nopened + 1] = point_flags(d, opened);
            nopened++;
        }
    }
    result = Py_BuildValue("(nn)", nopened, (Py_ssize_t)c.n);
done:
    PyBuffer_Release(&arena); PyBuffer_Release(&secs); PyBuffer_Release(&vals);
    PyBuffer_Release(&scores); PyBuffer_Release(&opened_buf); PyBuffer_Release(&closed);
    return result;
}

/* One point, for live telemetry: (score, flags, closings). */
static PyObject *py_score_one(PyObject *self, PyObject *args) {
    Py_buffer arena;
    double seconds, value;
    if (!PyArg_ParseTuple(args, "w*dd", &arena, &seconds, &value)) return NULL;
    Det *d = arena_of(&arena);
    PyObject *result = NULL;
    if (d != NULL) {
        double out[10];
        Closings c = {out, 0};
        int opened;
        double score = detector_update(d, seconds, value, &opened, &c);
        result = Py_BuildValue("(diN)", score, (int)point_flags(d, opened),
                               closings_tuple(out, c.n));
    }
    PyBuffer_Release(&arena);
    return result;
}

/* (points seen, points scored, flags of the last point, open episode or None). */
static PyObject *py_status(PyObject *self, PyObject *args) {
    Py_buffer arena;
    if (!PyArg_ParseTuple(args, "w*", &arena)) return NULL;
    Det *d = arena_of(&arena);
    PyObject *result = NULL;
    if (d != NULL)
        result = Py_BuildValue("(LLiN)", (long long)d->seen, (long long)d->count,
                               (int)point_flags(d, 0), open_tuple(&d->tracker));
    PyBuffer_Release(&arena);
    return result;
}

/* ---- a tracker alone (hysteresis over scores computed elsewhere) ------------------ */

static Tracker *tracker_of(Py_buffer *buf) {
    if (buf->len != (Py_ssize_t)sizeof(Tracker) || ((uintptr_t)buf->buf & 7)) {
        PyErr_SetString(PyExc_ValueError, "not an episode tracker");
        return NULL;
    }
    return (Tracker *)buf->buf;
}

static PyObject *py_tracker_size(PyObject *self, PyObject *args) {
    return PyLong_FromSize_t(sizeof(Tracker));
}

static PyObject *py_tracker_init(PyObject *self, PyObject *args) {
    Py_buffer buf;
    double threshold, release, quiet_seconds, hold_seconds;
    long long cooldown, quiet;
    if (!PyArg_ParseTuple(args, "w*ddLLdd", &buf, &threshold, &release, &cooldown, &quiet,
                          &quiet_seconds, &hold_seconds))
        return NULL;
    Tracker *tr = tracker_of(&buf);
    if (tr != NULL)
        tracker_setup(tr, threshold, release, cooldown, quiet, quiet_seconds, hold_seconds);
    PyBuffer_Release(&buf);
    if (tr == NULL) return NULL;
    Py_RETURN_NONE;
}

/* (opened, closings, open episode or None) after one more score. */
static PyObject *py_tracker_observe(PyObject *self, PyObject *args) {
    Py_buffer buf;
    long long at;
    double seconds, score;
    int settled;
    if (!PyArg_ParseTuple(args, "w*Lddp", &buf, &at, &seconds, &score, &settled)) return NULL;
    Tracker *tr = tracker_of(&buf);
    PyObject *result = NULL;
    if (tr != NULL) {
        double out[10];
        Closings c = {out, 0};
        int opened = tracker_observe(tr, at, seconds, score, settled, &c);
        result = Py_BuildValue("(ON)", opened ? Py_True : Py_False, closings_tuple(out, c.n));
    }
    PyBuffer_Release(&buf);
    return result;
}

/* Close the open episode without a calm (the end of a batch): it is returned, or None. */
static PyObject *py_tracker_close(PyObject *self, PyObject *args) {
    Py_buffer buf;
    if (!PyArg_ParseTuple(args, "w*", &buf)) return NULL;
    Tracker *tr = tracker_of(&buf);
    PyObject *result = tr == NULL ? NULL : open_tuple(tr);
    if (tr != NULL) tr->has_open = 0;
    PyBuffer_Release(&buf);
    return result;
}

static PyObject *py_tracker_open(PyObject *self, PyObject *args) {
    Py_buffer buf;
    if (!PyArg_ParseTuple(args, "w*", &buf)) return NULL;
    Tracker *tr = tracker_of(&buf);
    PyObject *result = tr == NULL ? NULL : open_tuple(tr);
    PyBuffer_Release(&buf);
    return result;
}

/* Number of values in a statistic's window (tests look at whether a tail learned). */
static PyObject *py_window_len(PyObject *self, PyObject *args) {
    Py_buffer arena;
    int which;
    if (!PyArg_ParseTuple(args, "w*i", &arena, &which)) return NULL;
    Det *d = arena_of(&arena);
    PyObject *result = NULL;
    if (d != NULL) {
        if (which < 0 || which >= d->ntails)
            PyErr_SetString(PyExc_IndexError, "no such statistic");
        else
            result = PyLong_FromLongLong((long long)d->tails[which].window.len);
    }
    PyBuffer_Release(&arena);
    return result;
}

static PyMethodDef methods[] = {
    {"sizes", py_sizes, METH_VARARGS, "(total, persisted) arena bytes for these parameters."},
    {"init", py_init, METH_VARARGS, "Lay out a fresh detector in the arena."},
    {"dump", py_dump, METH_VARARGS, "The saved part of an arena, as bytes."},
    {"load", py_load, METH_VARARGS, "Write a dump back into an arena of the same layout."},
    {"score", py_score, METH_VARARGS, "Score many points; returns the number of closings."},
    {"score_one", py_score_one, METH_VARARGS, "Score one point."},
    {"status", py_status, METH_VARARGS, "Counters, reason and the open episode."},
    {"window_len", py_window_len, METH_VARARGS, "Values in one statistic's window."},
    {"tracker_size", py_tracker_size, METH_NOARGS, "Bytes of an episode tracker."},
    {"tracker_init", py_tracker_init, METH_VARARGS, "Start a tracker afresh."},
    {"tracker_observe", py_tracker_observe, METH_VARARGS, "Feed a tracker one score."},
    {"tracker_close", py_tracker_close, METH_VARARGS, "Close a tracker's open episode."},
    {"tracker_open", py_tracker_open, METH_VARARGS, "A tracker's open episode or None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernel", NULL, -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__kernel(void) { return PyModule_Create(&module); }
