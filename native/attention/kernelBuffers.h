// What kernel.cpp hands the per-instruction-set kernels: the scratch memory of one call, sized.
#pragma once

#include "kernel.h"

namespace bge::attention {

constexpr int kMaxHeadDim = 256;
constexpr int kMaxRows = 8;  // query rows per block, the most any kernel uses

struct KernelBuffers {
  float* kt;       // dk rows of ldk floats: K transposed, zero past nKv
  int ldk;
  float* v;        // nKv rows of dv floats
  float* p;        // kMaxRows rows of ldp floats: scores, then probabilities
  int ldp;
  float* qb;       // kMaxRows rows of dk floats
  bool convertKv;  // false when kt and v already hold this head's K and V
};

void AttendRowsAvx512(const Head& head, int row0, int row1, const KernelBuffers& buffers);
void AttendRowsAvx2(const Head& head, int row0, int row1, const KernelBuffers& buffers);

}  // namespace bge::attention
