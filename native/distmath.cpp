// quanteval's distribution math: log-softmax, KL divergence, argmax and top-K/tail extraction
// over rows of a next-token distribution, on every core and in SIMD.
//
// Why native code (see bench/README.md, "Distribution math", for the measurements): the same
// loops in JavaScript run on one thread and call Math.exp once per vocabulary entry; at 32k-256k
// vocabularies that costs more than the forward pass of a small or GPU-served model. Compiled with
// -O3 -march=native the exp below vectorises (8 doubles per AVX-512 instruction) and the rows are
// split over std::threads, so the math scales with cores and SIMD width. Worker threads over a
// SharedArrayBuffer would only give the core count; WebAssembly SIMD has no vector exp and no
// threads without cross-origin isolation tricks in Node; ggml has no fused KLD/top-K op.
//
// Everything is float64 inside (sums, exp), as the JS reference in src/metrics/distributionDrift.ts,
// so results agree with it to ~1e-12 relative. Loaded with koffi (src/metrics/nativeDistMath.ts);
// built at first use by src/metrics/buildDistMath.ts with the system C++ compiler.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

namespace {

// exp(x) for x <= 0 in a form the compiler vectorises (no libm call, no branch): Cody-Waite
// reduction x = k ln2 + r, |r| <= ln2/2, and a degree-12 Taylor polynomial (error < 1e-15
// relative). Inputs below -708 return 0 exactly, as Math.exp does for the tail that matters.
inline double exp_nonpos(double x) {
  const double y = x < -708.0 ? -708.0 : x;
  const double k = std::floor(y * 1.4426950408889634 + 0.5);
  const double r = (y - k * 0.6931471803691238) - k * 1.9082149292705877e-10;
  double p = 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  const int64_t bits = (static_cast<int64_t>(k) + 1023) << 52;
  double scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return x < -708.0 ? 0.0 : p * scale;
}

// Vocabulary entries a thread is given at least. Starting a thread costs tens of microseconds,
// more when the cores are still held by llama.cpp's OpenMP team spinning after a decode: a
// call smaller than this runs on the calling thread alone. At a 512-entry vocabulary one
// perplexity chunk (256 rows, 131k entries, ~0.2 ms of work) ran 1-7 ms on two threads
// between decodes; at 32k and above every call still gets every thread.
constexpr int64_t kMinEntriesPerThread = 1 << 18;

// Runs f(row) for rows [0, n) of rowLen entries each, split into contiguous ranges over up to
// nThreads threads (fewer when the work is small, see above). Each row is computed the same
// way whatever the split, so results do not depend on it.
template <class F>
void parallel_rows(int64_t n, int64_t rowLen, int nThreads, F f) {
  const int64_t byWork = std::max<int64_t>(1, n * std::max<int64_t>(1, rowLen) / kMinEntriesPerThread);
  const int t = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>({static_cast<int64_t>(nThreads), n, byWork})));
  if (t == 1) {
    for (int64_t r = 0; r < n; r++) f(r);
    return;
  }
  std::vector<std::thread> pool;
  pool.reserve(t - 1);
  for (int i = 1; i < t; i++) {
    pool.emplace_back([=] {
      for (int64_t r = n * i / t; r < n * (i + 1) / t; r++) f(r);
    });
  }
  for (int64_t r = 0; r < n / t; r++) f(r);
  for (auto &th : pool) th.join();
}

// Max of a row and whether it holds NaN or +Inf (a broken model); -Inf (a masked token) is
// fine. GCC/Clang vector extensions, because neither compiler vectorises a float max
// reduction by itself without -ffinite-math-only (which would drop the NaN check).
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
inline float row_max(const float *x, int32_t n, bool *bad) {
  v8f m = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
  v8i flags = {0, 0, 0, 0, 0, 0, 0, 0};
  int32_t i = 0;
  for (; i + 8 <= n; i += 8) {
    v8f v;
    std::memcpy(&v, x + i, sizeof v);
    m = v > m ? v : m;
    flags |= ~(v <= FLT_MAX);
  }
  float r = m[0];
  int32_t f = flags[0];
  for (int l = 1; l < 8; l++) {
    r = m[l] > r ? m[l] : r;
    f |= flags[l];
  }
  for (; i < n; i++) {
    r = x[i] > r ? x[i] : r;
    f |= !(x[i] <= FLT_MAX);
  }
  *bad = f != 0;
  return r;
}

// First index holding the row's maximum (ties: lowest index wins, as llama.cpp's strict '>').
inline int32_t row_argmax(const float *x, int32_t n) {
  bool bad;
  const float m = row_max(x, n, &bad);
  for (int32_t i = 0; i < n; i++)
    if (x[i] == m) return i;
  return 0;
}

}  // namespace

extern "C" {

/** ABI version; bumped with any signature change so a stale cached library is rebuilt. */
int32_t qe_distmath_version() { return 2; }

/**
 * dst row <- src row - max - ln sum exp(src row - max), float64 inside; src may be dst (in place)
 * or llama.cpp's own logits buffer, so the rows reach the caller's array in this one pass and
 * are never copied first. A row holding NaN or +Inf, or no finite maximum, is filled with NaN
 * so the caller names it; returns how many such rows.
 */
int64_t qe_log_softmax_into(const float *src, float *dst, int64_t nRows, int32_t nVocab, int32_t nThreads) {
  std::vector<uint8_t> bad(static_cast<size_t>(nRows), 0);
  parallel_rows(nRows, nVocab, nThreads, [&](int64_t r) {
    const float *x = src + r * static_cast<int64_t>(nVocab);
    float *y = dst + r * static_cast<int64_t>(nVocab);
    bool isBad;
    const float mf = row_max(x, nVocab, &isBad);
    if (isBad || !std::isfinite(mf)) {
      for (int32_t i = 0; i < nVocab; i++) y[i] = NAN;
      bad[r] = 1;
      return;
    }
    const double m = mf;
    double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int32_t i = 0;
    for (; i + 8 <= nVocab; i += 8)
      for (int l = 0; l < 8; l++) s[l] += exp_nonpos(static_cast<double>(x[i + l]) - m);
    for (; i < nVocab; i++) s[0] += exp_nonpos(static_cast<double>(x[i]) - m);
    const double lse = std::log(((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])));
    for (int32_t j = 0; j < nVocab; j++) y[j] = static_cast<float>(static_cast<double>(x[j]) - m - lse);
  });
  int64_t n = 0;
  for (auto b : bad) n += b;
  return n;
}

/** qe_log_softmax_into in place. */
int64_t qe_log_softmax(float *rows, int64_t nRows, int32_t nVocab, int32_t nThreads) {
  return qe_log_softmax_into(rows, rows, nRows, nVocab, nThreads);
}

/**
 * Per row r of two log-softmax matrices: kld[r] = sum over base log-probs > floor of
 * p_base (ln p_base - ln p_variant) in float64, and the argmax of each row.
 */
void qe_drift_rows(const float *base, const float *variant, int64_t nRows, int32_t nVocab, double floor, int32_t nThreads,
                   double *kld, int32_t *argBase, int32_t *argVariant) {
  parallel_rows(nRows, nVocab, nThreads, [&](int64_t r) {
    const float *b = base + r * static_cast<int64_t>(nVocab);
    const float *v = variant + r * static_cast<int64_t>(nVocab);
    double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int32_t i = 0;
    for (; i + 8 <= nVocab; i += 8) {
      for (int l = 0; l < 8; l++) {
        const double lb = b[i + l];
        const double term = exp_nonpos(lb) * (lb - static_cast<double>(v[i + l]));
        s[l] += lb > floor ? term : 0.0;
      }
    }
    for (; i < nVocab; i++) {
      const double lb = b[i];
      if (lb > floor) s[0] += exp_nonpos(lb) * (lb - static_cast<double>(v[i]));
    }
    kld[r] = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    argBase[r] = row_argmax(b, nVocab);
    argVariant[r] = row_argmax(v, nVocab);
  });
}

/**
 * Per row of a log-softmax matrix: the k largest log-probs in descending order (ties: lower
 * index first) with their token ids, and the probability mass of every other entry,
 * sum exp(lp) over the rest in float64 (summed directly, not 1 - sum of the top K, which cancels).
 */
void qe_top_k(const float *rows, int64_t nRows, int32_t nVocab, int32_t k, int32_t nThreads, int32_t *outIds, float *outLogprobs,
              double *outTail) {
  parallel_rows(nRows, nVocab, nThreads, [&](int64_t r) {
    const float *x = rows + r * static_cast<int64_t>(nVocab);
    int32_t *ids = outIds + r * k;
    float *lps = outLogprobs + r * k;
    // ids[0..filled) kept sorted best first; an entry enters when it beats the current last.
    int32_t filled = 0;
    for (int32_t i = 0; i < nVocab; i++) {
      const float v = x[i];
      if (filled == k && !(v > lps[k - 1])) continue;
      int32_t j = filled < k ? filled++ : k - 1;
      while (j > 0 && v > lps[j - 1]) {
        lps[j] = lps[j - 1];
        ids[j] = ids[j - 1];
        j--;
      }
      lps[j] = v;
      ids[j] = i;
    }
    // Among equal values the lower ids entered first and stay ahead, so the top set is every
    // entry above the last kept value plus the ones equal to it up to its id.
    double tail = 0;
    if (filled == k) {
      const float last = lps[k - 1];
      const int32_t lastId = ids[k - 1];
      double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      int32_t i = 0;
      for (; i + 8 <= nVocab; i += 8) {
        for (int l = 0; l < 8; l++) {
          const float v = x[i + l];
          const bool inTop = v > last || (v == last && i + l <= lastId);
          const double e = exp_nonpos(v);
          s[l] += inTop ? 0.0 : e;
        }
      }
      for (; i < nVocab; i++) {
        const float v = x[i];
        if (!(v > last || (v == last && i <= lastId))) s[0] += exp_nonpos(v);
      }
      tail = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    }
    for (int32_t j = filled; j < k; j++) {
      ids[j] = -1;
      lps[j] = -INFINITY;
    }
    outTail[r] = tail;
  });
}

}  // extern "C"
