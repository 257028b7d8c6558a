// The attention kernel, written once over a vector type `Vec` that the including file defines
// (kernel_avx512.cpp, kernel_avx2.cpp) and compiled once per instruction set. Everything here has
// internal linkage, and no standard-library template is used, so no function compiled for one
// instruction set can be merged into code that runs on a CPU without it.
#include <cstring>

#include "kernel.h"
#include "kernelBuffers.h"
#include "vecMath.h"

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

// K transposed (kt[d][j], row length ldk, zero past nKv) and V as rows of floats. K goes through
// a block of W rows at a time, so each row of kt is written W floats at a time.
void ConvertKv(const bge::kernels::Head& h, const bge::kernels::KernelBuffers& b) {
  float rows[W * bge::kernels::kMaxHeadDim];
  for (int j0 = 0; j0 < h.nKv; j0 += W) {
    const int n = Min(W, h.nKv - j0);
    for (int i = 0; i < n; i++) {
      ToFloats(h.k + (j0 + i) * h.kRowBytes, h.kvF16, h.dk, rows + i * h.dk);
      ToFloats(h.v + (j0 + i) * h.vRowBytes, h.kvF16, h.dv, b.v + static_cast<size_t>(j0 + i) * h.dv);
    }
    for (int d = 0; d < h.dk; d++) {
      float* dst = b.kt + d * b.ldk + j0;
      for (int i = 0; i < n; i++) dst[i] = rows[i * h.dk + d];
    }
  }
  for (int d = 0; d < h.dk; d++) std::memset(b.kt + d * b.ldk + h.nKv, 0, sizeof(float) * (b.ldk - h.nKv));
}

// First and one-past-last key with a finite mask value ([0, nKv) without a mask; empty if none).
void KeyRange(const bge::kernels::Head& h, int row, int* lo, int* hi) {
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
    const Vec::T p = Exp(Vec::Sub(Vec::Load(s + j), rowMax));
    Vec::Store(s + j, p);
    sum = Vec::Add(sum, p);
  }
  std::memset(s + from, 0, sizeof(float) * (lo - from));
  const int written = lo + RoundUp(hi - lo, W);
  if (written < to) std::memset(s + written, 0, sizeof(float) * (to - written));
  return Vec::ReduceAdd(sum);
}

// o[r][c, c + kVectors·W) += p[r]·v over keys [from, to), for the block's RB rows.
template <int kVectors>
void MixColumns(const float* p, int ldp, const float* v, int dv, int c, int from, int to, float* o) {
  Vec::T acc[RB][kVectors];
  for (int r = 0; r < RB; r++)
    for (int i = 0; i < kVectors; i++) acc[r][i] = Vec::Load(o + r * dv + c + i * W);
  for (int j = from; j < to; j++) {
    Vec::T vj[kVectors];
    for (int i = 0; i < kVectors; i++) vj[i] = Vec::Load(v + j * dv + c + i * W);
    for (int r = 0; r < RB; r++) {
      const Vec::T w = Vec::Set1(p[r * ldp + j]);
      for (int i = 0; i < kVectors; i++) acc[r][i] = Vec::Fma(w, vj[i], acc[r][i]);
    }
  }
  for (int r = 0; r < RB; r++)
    for (int i = 0; i < kVectors; i++) Vec::Store(o + r * dv + c + i * W, acc[r][i]);
}

void Mix(const float* p, int ldp, const float* v, int dv, int from, int to, float* o) {
  int c = 0;
  for (; c + CH <= dv; c += CH) MixColumns<2>(p, ldp, v, dv, c, from, to, o);
  for (; c < dv; c += W) MixColumns<1>(p, ldp, v, dv, c, from, to, o);
}

// RB query rows and the keys they attend to.
struct Block {
  int row0, rows;
  int lo[RB], hi[RB];
  int from, to;  // union of the rows' key ranges (empty: from >= to)
};

}  // namespace

namespace bge::kernels {

// Rows are taken kSuperRows at a time, and keys a tile at a time within them, so a tile of K or V
// stays in cache while every block of rows uses it (K and V of an 8k-token head are 2 MB each).
void BGE_ATTENTION_ENTRY(const Head& h, int row0, int row1, const KernelBuffers& b) {
  using bge::kernels::kSuperRows;
  constexpr int kTile = 256;  // keys
  static_assert(kSuperRows % RB == 0 && kTile % CH == 0, "blocks and tiles must divide evenly");
  if (b.convertKv) ConvertKv(h, b);
  Block blocks[kSuperRows / RB];
  for (int s0 = row0; s0 < row1; s0 += kSuperRows) {
    const int count = (Min(kSuperRows, row1 - s0) + RB - 1) / RB;
    int from = h.nKv, to = 0;
    for (int k = 0; k < count; k++) {
      Block& blk = blocks[k];
      blk.row0 = s0 + k * RB;
      blk.rows = Min(RB, row1 - blk.row0);
      blk.from = h.nKv;
      blk.to = 0;
      float* qb = b.qb + k * RB * h.dk;
      for (int r = 0; r < RB; r++) {
        if (r < blk.rows) {
          std::memcpy(qb + r * h.dk, h.q + (blk.row0 + r) * h.qRowBytes, sizeof(float) * h.dk);
          KeyRange(h, blk.row0 + r, &blk.lo[r], &blk.hi[r]);
        } else {
          std::memset(qb + r * h.dk, 0, sizeof(float) * h.dk);
          blk.lo[r] = blk.hi[r] = 0;
        }
        if (blk.lo[r] < blk.hi[r]) {
          blk.from = Min(blk.from, blk.lo[r]);
          blk.to = Max(blk.to, blk.hi[r]);
        }
      }
      from = Min(from, blk.from);
      to = Max(to, blk.to);
    }
    // scores, then each row's softmax
    for (int t0 = RoundDown(from, kTile); t0 < to; t0 += kTile) {
      for (int k = 0; k < count; k++) {
        const Block& blk = blocks[k];
        const int c0 = Max(RoundDown(blk.from, CH), t0), c1 = Min(RoundUp(blk.to, CH), t0 + kTile);
        if (c0 < c1) Scores(b.qb + k * RB * h.dk, h.dk, b.kt, b.ldk, c0, c1, b.p + k * RB * b.ldp, b.ldp);
      }
    }
    float inverseSum[kSuperRows];
    for (int k = 0; k < count; k++) {
      const Block& blk = blocks[k];
      for (int r = 0; r < RB; r++) {
        float sum = 0.0f;
        if (blk.from < blk.to) {
          const uint16_t* mask = h.mask == nullptr || r >= blk.rows ? nullptr
              : reinterpret_cast<const uint16_t*>(reinterpret_cast<const char*>(h.mask) + (blk.row0 + r) * h.maskRowBytes);
          sum = Softmax(b.p + (k * RB + r) * b.ldp, mask, h.nKv, h.scale, blk.lo[r], blk.hi[r], blk.from, blk.to);
        }
        inverseSum[k * RB + r] = sum == 0.0f ? 0.0f : 1.0f / sum;
      }
    }
    // out = (p·v) / sum
    std::memset(b.o, 0, sizeof(float) * count * RB * h.dv);
    for (int t0 = from; t0 < to; t0 += kTile) {
      for (int k = 0; k < count; k++) {
        const Block& blk = blocks[k];
        const int j0 = Max(blk.from, t0), j1 = Min(blk.to, t0 + kTile);
        if (j0 < j1) Mix(b.p + k * RB * b.ldp, b.ldp, b.v, h.dv, j0, j1, b.o + k * RB * h.dv);
      }
    }
    for (int k = 0; k < count; k++) {
      const Block& blk = blocks[k];
      for (int r = 0; r < blk.rows; r++) {
        float* out = reinterpret_cast<float*>(h.out + (blk.row0 + r) * h.outRowBytes);
        const float* o = b.o + (k * RB + r) * h.dv;
        const Vec::T scale = Vec::Set1(inverseSum[k * RB + r]);
        for (int c = 0; c < h.dv; c += W) Vec::Store(out + c, Vec::Mul(Vec::Load(o + c), scale));
      }
    }
  }
}

}  // namespace bge::kernels
