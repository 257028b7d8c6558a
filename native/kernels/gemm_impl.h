// C = A·Wᵀ for F32 activations A (M rows of K) and F16/F32 weights W (N rows of K), over the same
// `Vec` as attention_impl.h: W is converted and packed 32 columns at a time, then every block of RB
// rows of A runs through the packed panel (K × 32 floats, in L2).
#include <cstring>

#include "kernel.h"

namespace {

constexpr int kPanel = 32;  // columns of C per packed panel (kernel.cpp sizes the buffer for it)
static_assert(kPanel % Vec::kWidth == 0, "a panel is whole vectors");

// packed[k][j] = W[n0 + j][k] as floats: W blocks of W rows × W values, transposed in registers.
void PackPanel(const bge::kernels::MatMul& g, int n0, float* packed) {
  constexpr int W = Vec::kWidth;
  for (int j0 = 0; j0 < kPanel; j0 += W) {
    for (int k = 0; k < g.k; k += W) {
      Vec::T block[W];
      for (int j = 0; j < W; j++) {
        const char* src = g.w + static_cast<size_t>(n0 + j0 + j) * g.wRowBytes;
        block[j] = g.wF16 ? Vec::FromF16(reinterpret_cast<const uint16_t*>(src) + k) : Vec::Load(reinterpret_cast<const float*>(src) + k);
      }
      Vec::Transpose(block);
      for (int i = 0; i < W; i++) Vec::Store(packed + (k + i) * kPanel + j0, block[i]);
    }
  }
}

// C[m0 .. m0 + kRows)[n0 .. n0 + 32) from the packed panel (kRows <= Vec::kGemmRows).
template <int kRows>
void PanelRows(const bge::kernels::MatMul& g, int m0, int n0, const float* packed) {
  constexpr int V = kPanel / Vec::kWidth;
  Vec::T acc[kRows][V];
  for (int r = 0; r < kRows; r++)
    for (int i = 0; i < V; i++) acc[r][i] = Vec::Zero();
  const float* a[kRows];
  for (int r = 0; r < kRows; r++) a[r] = reinterpret_cast<const float*>(g.a + static_cast<size_t>(m0 + r) * g.aRowBytes);
  for (int k = 0; k < g.k; k++) {
    Vec::T w[V];
    for (int i = 0; i < V; i++) w[i] = Vec::Load(packed + k * kPanel + i * Vec::kWidth);
    for (int r = 0; r < kRows; r++) {
      const Vec::T x = Vec::Set1(a[r][k]);
      for (int i = 0; i < V; i++) acc[r][i] = Vec::Fma(x, w[i], acc[r][i]);
    }
  }
  for (int r = 0; r < kRows; r++) {
    float* c = reinterpret_cast<float*>(g.c + static_cast<size_t>(m0 + r) * g.cRowBytes) + n0;
    for (int i = 0; i < V; i++) Vec::Store(c + i * Vec::kWidth, acc[r][i]);
  }
}

template <int kRows>
void PanelTail(const bge::kernels::MatMul& g, int m0, int rows, int n0, const float* packed) {
  if constexpr (kRows > 1) {
    if (rows < kRows) return PanelTail<kRows - 1>(g, m0, rows, n0, packed);
  }
  PanelRows<kRows>(g, m0, n0, packed);
}

}  // namespace

namespace bge::kernels {

void BGE_GEMM_ENTRY(const MatMul& g, int panel0, int panel1, float* packed) {
  constexpr int RB = Vec::kGemmRows;
  for (int p = panel0; p < panel1; p++) {
    const int n0 = p * kPanel;
    PackPanel(g, n0, packed);
    int m = 0;
    for (; m + RB <= g.m; m += RB) PanelRows<RB>(g, m, n0, packed);
    if (m < g.m) PanelTail<RB>(g, m, g.m - m, n0, packed);
  }
}

}  // namespace bge::kernels
