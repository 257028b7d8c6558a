// GELU, tanh approximation (ggml's GGML_UNARY_OP_GELU), in F32 over the same `Vec` as
// attention_impl.h: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), tanh from e^(−2|y|). ggml's CPU
// kernel looks it up in a table indexed by x rounded to F16.
#include "vecMath.h"

namespace bge::kernels {

void BGE_GELU_ENTRY(const float* x, float* y, size_t count) {
  const Vec::T half = Vec::Set1(0.5f), one = Vec::Set1(1.0f), minusTwo = Vec::Set1(-2.0f);
  const Vec::T c0 = Vec::Set1(0.7978845608028654f), c1 = Vec::Set1(0.044715f);
  for (size_t i = 0; i < count; i += Vec::kWidth) {
    const Vec::T v = Vec::Load(x + i);
    const Vec::T inner = Vec::Mul(c0, Vec::Fma(Vec::Mul(c1, v), Vec::Mul(v, v), v));
    const Vec::T e = Exp(Vec::Mul(minusTwo, Vec::Abs(inner)));
    const Vec::T t = Vec::CopySign(Vec::Div(Vec::Sub(one, e), Vec::Add(one, e)), inner);
    Vec::Store(y + i, Vec::Mul(Vec::Mul(half, v), Vec::Add(one, t)));
  }
}

}  // namespace bge::kernels
