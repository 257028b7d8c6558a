// The attention kernel, written once over a vector type `Vec` that the including file defines
// (kernel_avx512.cpp, kernel_avx2.cpp) and compiled once per instruction set. Everything here has
// internal linkage, and no standard-library template is used, so no function compiled for one
// instruction set can be merged into code that runs on a CPU without it.
#include <cstring>

#include "kernel.h"
#include "kernelBuffers.h"

namespace {

constexpr int RB = Vec::kRows;     // query rows per block
constexpr int W = Vec::kWidth;     // floats per vector
constexpr int CH = 2 * W;          // columns per step of the products
constexpr uint16_t kF16MinusInf = 0xFC00;

inline int RoundDown(int x, int m) { return x / m * m; }
inline int RoundUp(int x, int m) { return (x + m - 1) / m * m; }
inline int Min(int a, int b) { return a < b ? a : b; }
inline int Max(int a, int b) { return a > b ? a : b; }

// W mask values from `row` at j (values past `limit` read as -inf), as floats.
inline Vec::T LoadMask(const uint16_t* row, int j, int limit) {
  if (j + W <= limit) return Vec::FromF16(row + j);
  uint16_t tail[W];
  for (int i = 0; i < W; i++) tail[i] = j + i < limit ? row[j + i] : kF16MinusInf;
  return Vec::FromF16(tail);
}

// Rows of `dk` (or `dv`) values of type F16/F32 into floats.
inline void ToFloats(const char* src, bool f16, int count, float* dst) {
  if (!f16) {
    std::memcpy(dst, src, sizeof(float) * count);
    return;
  }
  const uint16_t* h = reinterpret_cast<const uint16_t*>(src);
  for (int i = 0; i < count; i += W) Vec::Store(dst + i, Vec::FromF16(h + i));
}

// K transposed (kt[d][j], row length ldk, zero past nKv) and V as rows of floats.
void ConvertKv(const bge::attention::Head& h, const bge::attention::KernelBuffers& b) {
  float row[bge::attention::kMaxHeadDim];
  for (int j = 0; j < h.nKv; j++) {
    ToFloats(h.k + j * h.kRowBytes, h.kvF16, h.dk, row);
    for (int d = 0; d < h.dk; d++) b.kt[d * b.ldk + j] = row[d];
    ToFloats(h.v + j * h.vRowBytes, h.kvF16, h.dv, b.v + static_cast<size_t>(j) * h.dv);
  }
  for (int d = 0; d < h.dk; d++) std::memset(b.kt + d * b.ldk + h.nKv, 0, sizeof(float) * (b.ldk - h.nKv));
}

// First and one-past-last key with a finite mask value ([0, nKv) without a mask; empty if none).
void KeyRange(const bge::attention::Head& h, int row, int* lo, int* hi) {
  *lo = 0;
  *hi = h.nKv;
  if (h.mask == nullptr) return;
  const uint16_t* m = reinterpret_cast<const uint16_t*>(reinterpret_cast<const char*>(h.mask) + row * h.maskRowBytes);
  int first = h.nKv;
  for (int j = 0; j < h.nKv; j += W) {
    const unsigned bits = Vec::FiniteBits(LoadMask(m, j, h.nKv));
    if (bits != 0) {
      first = j + __builtin_ctz(bits);
      break;
    }
  }
  if (first == h.nKv) {
    *lo = *hi = 0;
    return;
  }
  int last = first;
  for (int j = RoundDown(h.nKv - 1, W); j >= RoundDown(first, W); j -= W) {
    const unsigned bits = Vec::FiniteBits(LoadMask(m, j, h.nKv));
    if (bits != 0) {
      last = j + 31 - __builtin_clz(bits);
      break;
    }
  }
  *lo = first;
  *hi = last + 1;
}

// scores[r][c0..c1) = q[r]·k[c] for the block's RB query rows (rows past the head are zeros).
void Scores(const float* qb, int dk, const float* kt, int ldk, int c0, int c1, float* s, int ldp) {
  for (int c = c0; c < c1; c += CH) {
    Vec::T acc[RB][2];
    for (int r = 0; r < RB; r++) acc[r][0] = acc[r][1] = Vec::Zero();
    for (int d = 0; d < dk; d++) {
      const Vec::T k0 = Vec::Load(kt + d * ldk + c);
      const Vec::T k1 = Vec::Load(kt + d * ldk + c + W);
      for (int r = 0; r < RB; r++) {
        const Vec::T q = Vec::Set1(qb[r * dk + d]);
        acc[r][0] = Vec::Fma(q, k0, acc[r][0]);
        acc[r][1] = Vec::Fma(q, k1, acc[r][1]);
      }
    }
    for (int r = 0; r < RB; r++) {
      Vec::Store(s + r * ldp + c, acc[r][0]);
      Vec::Store(s + r * ldp + c + W, acc[r][1]);
    }
  }
}

// Turns one row's scores on [lo, hi) into unnormalized probabilities exp(x - max) in place, zero
// on the rest of [from, to), and returns their sum (0 for an empty range). Vectors start at lo.
float Softmax(float* s, const uint16_t* mask, int nKv, float scale, int lo, int hi, int from, int to) {
  if (lo >= hi) {
    std::memset(s + from, 0, sizeof(float) * (to - from));
    return 0.0f;
  }
  const Vec::T vscale = Vec::Set1(scale);
  Vec::T vmax = Vec::Set1(-__builtin_inff());
  for (int j = lo; j < hi; j += W) {
    Vec::T x = Vec::Mul(Vec::Load(s + j), vscale);
    if (mask != nullptr) x = Vec::Add(x, LoadMask(mask, j, nKv));
    x = Vec::KeepFirst(x, hi - j, -__builtin_inff());
    Vec::Store(s + j, x);
    vmax = Vec::Max(vmax, x);
  }
  const Vec::T rowMax = Vec::Set1(Vec::ReduceMax(vmax));
  Vec::T sum = Vec::Zero();
  for (int j = lo; j < hi; j += W) {
    const Vec::T p = Vec::Exp(Vec::Sub(Vec::Load(s + j), rowMax));
    Vec::Store(s + j, p);
    sum = Vec::Add(sum, p);
  }
  std::memset(s + from, 0, sizeof(float) * (lo - from));
  const int written = lo + RoundUp(hi - lo, W);
  if (written < to) std::memset(s + written, 0, sizeof(float) * (to - written));
  return Vec::ReduceAdd(sum);
}

// out[r][c, c + kVectors·W) = (p[r]·v over keys [from, to)) / sum[r] for the block's valid rows.
template <int kVectors>
void MixColumns(const float* p, int ldp, const float* v, int dv, int c, int from, int to, const float* inverseSum,
                int rows, char* out, size_t outRowBytes) {
  Vec::T acc[RB][kVectors];
  for (int r = 0; r < RB; r++)
    for (int i = 0; i < kVectors; i++) acc[r][i] = Vec::Zero();
  for (int j = from; j < to; j++) {
    Vec::T vj[kVectors];
    for (int i = 0; i < kVectors; i++) vj[i] = Vec::Load(v + j * dv + c + i * W);
    for (int r = 0; r < RB; r++) {
      const Vec::T w = Vec::Set1(p[r * ldp + j]);
      for (int i = 0; i < kVectors; i++) acc[r][i] = Vec::Fma(w, vj[i], acc[r][i]);
    }
  }
  for (int r = 0; r < rows; r++) {
    float* o = reinterpret_cast<float*>(out + r * outRowBytes) + c;
    const Vec::T scale = Vec::Set1(inverseSum[r]);
    for (int i = 0; i < kVectors; i++) Vec::Store(o + i * W, Vec::Mul(acc[r][i], scale));
  }
}

void Mix(const float* p, int ldp, const float* v, int dv, int from, int to, const float* inverseSum, int rows,
         char* out, size_t outRowBytes) {
  int c = 0;
  for (; c + CH <= dv; c += CH) MixColumns<2>(p, ldp, v, dv, c, from, to, inverseSum, rows, out, outRowBytes);
  for (; c < dv; c += W) MixColumns<1>(p, ldp, v, dv, c, from, to, inverseSum, rows, out, outRowBytes);
}

}  // namespace

namespace bge::attention {

void BGE_ATTENTION_ENTRY(const Head& h, int row0, int row1, const KernelBuffers& b) {
  if (b.convertKv) ConvertKv(h, b);
  for (int r0 = row0; r0 < row1; r0 += RB) {
    const int rows = Min(RB, row1 - r0);
    int lo[RB], hi[RB];
    int from = h.nKv, to = 0;
    for (int r = 0; r < RB; r++) {
      if (r < rows) {
        std::memcpy(b.qb + r * h.dk, h.q + (r0 + r) * h.qRowBytes, sizeof(float) * h.dk);
        KeyRange(h, r0 + r, &lo[r], &hi[r]);
      } else {
        std::memset(b.qb + r * h.dk, 0, sizeof(float) * h.dk);
        lo[r] = hi[r] = 0;
      }
      if (lo[r] < hi[r]) {
        from = Min(from, lo[r]);
        to = Max(to, hi[r]);
      }
    }
    float inverseSum[RB];
    if (from < to) {
      Scores(b.qb, h.dk, b.kt, b.ldk, RoundDown(from, CH), RoundUp(to, CH), b.p, b.ldp);
      for (int r = 0; r < RB; r++) {
        const uint16_t* mask = h.mask == nullptr || r >= rows ? nullptr
            : reinterpret_cast<const uint16_t*>(reinterpret_cast<const char*>(h.mask) + (r0 + r) * h.maskRowBytes);
        const float sum = Softmax(b.p + r * b.ldp, mask, h.nKv, h.scale, lo[r], hi[r], from, to);
        inverseSum[r] = sum == 0.0f ? 0.0f : 1.0f / sum;
      }
    } else {
      from = to = 0;
      for (int r = 0; r < RB; r++) inverseSum[r] = 0.0f;
    }
    Mix(b.p, b.ldp, b.v, h.dv, from, to, inverseSum, rows, h.out + r0 * h.outRowBytes, h.outRowBytes);
  }
}

}  // namespace bge::attention
