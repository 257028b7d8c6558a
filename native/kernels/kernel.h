// The addon's CPU kernels: attention for one head as two matrix products (scores = Q·Kᵀ, row
// softmax, out = P·V), and C = A·Wᵀ with F16/F32 weights. Plain C++ over raw pointers (no ggml), so
// the backend in backend.cpp only maps tensors onto them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace bge::kernels {

struct Head {
  const char* q;        // n rows of dk floats
  size_t qRowBytes;
  const char* k;        // nKv rows of dk values (F16 or F32)
  size_t kRowBytes;
  const char* v;        // nKv rows of dv values (same type as k)
  size_t vRowBytes;
  bool kvF16;
  const uint16_t* mask; // n rows of nKv F16 values added to the scaled scores, or null
  size_t maskRowBytes;
  char* out;            // n rows of dv floats
  size_t outRowBytes;
  int n, nKv, dk, dv;
  float scale;
};

// C (m rows of n floats) = A (m rows of k floats) · Wᵀ (W: n rows of k F16 or F32 values).
struct MatMul {
  const char* a;
  size_t aRowBytes;
  const char* w;
  size_t wRowBytes;
  bool wF16;
  char* c;
  size_t cRowBytes;
  int m, n, k;
};

constexpr int kMaxMatMulK = 16384;

// Whether the kernel takes this shape: n a multiple of 32 (panels), k of 16.
bool SupportsMatMul(int n, int k);
// Panels [panel0, panel1) of 32 columns of C; `packed` is this thread's scratch.
void MatMulPanels(const MatMul& g, int panel0, int panel1, std::vector<float>& packed);

// y = GELU(x) (tanh approximation) for `count` floats, a multiple of 16.
void Gelu(const float* x, float* y, size_t count);

// Per-thread buffers, kept between calls. K and V of the last head converted stay valid until
// `key` changes, so consecutive row ranges of one head convert them once.
struct Scratch {
  std::vector<float> kt, v, mask, p;
  const void* key = nullptr;
  uint64_t generation = 0;
};

// Whether this CPU runs a vector kernel (AVX-512 or AVX2 with FMA and F16C); the backend declines
// every operation otherwise, and llama.cpp's own CPU kernel runs.
bool Available();
// "avx512", "avx2" or "none".
const char* KernelIsa();
bool Supports(int dk, int dv);

// Rows [row0, row1) of `head`. Each row's result depends only on its own mask row, never on where
// the row's keys sit in the batch: sums run from the row's first unmasked key, so a sequence gets
// the same bits alone and packed with others.
void AttendRows(const Head& head, int row0, int row1, Scratch& scratch, uint64_t generation);

}  // namespace bge::kernels
