// What kernel.cpp hands the per-instruction-set kernels: the scratch memory of one call, sized.
#pragma once

#include "kernel.h"

namespace bge::kernels {

constexpr int kMaxHeadDim = 256;
constexpr int kSuperRows = 64;  // query rows handled together (a multiple of every kernel's block)

struct KernelBuffers {
  float* kt;       // dk rows of ldk floats: K transposed, zero past nKv
  int ldk;
  float* v;        // nKv rows of dv floats
  float* p;        // kSuperRows rows of ldp floats: scores, then probabilities
  int ldp;
  float* qb;       // kSuperRows rows of dk floats
  float* o;        // kSuperRows rows of dv floats: the weighted sums of V
  bool convertKv;  // false when kt and v already hold this head's K and V
};

void AttendRowsAvx512(const Head& head, int row0, int row1, const KernelBuffers& buffers);
void AttendRowsAvx2(const Head& head, int row0, int row1, const KernelBuffers& buffers);
void MatMulPanelsAvx512(const MatMul& g, int panel0, int panel1, float* packed);
void MatMulPanelsAvx2(const MatMul& g, int panel0, int panel1, float* packed);
void GeluAvx512(const float* x, float* y, size_t count);
void GeluAvx2(const float* x, float* y, size_t count);

}  // namespace bge::kernels
