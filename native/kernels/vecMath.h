// Math over the `Vec` of the including file (kernel_avx512.cpp, kernel_avx2.cpp), written once.
// Internal linkage, like everything compiled per instruction set.
#pragma once

namespace {

// e^x, ~1 ulp, for x <= 0 (0 below -87.3, where float underflows; NaN stays NaN). Cephes' expf:
// x = n·ln2 + r, e^r by a degree-6 polynomial, 2^n from the exponent bits.
inline Vec::T Exp(Vec::T x) {
  constexpr float kLowest = -87.33654f;
  const Vec::T input = x;
  x = Vec::Max(Vec::Set1(kLowest), x);  // this operand order keeps NaN
  const Vec::T n = Vec::Round(Vec::Mul(x, Vec::Set1(1.44269504088896341f)));
  Vec::T r = Vec::Fnma(n, Vec::Set1(0.693359375f), x);
  r = Vec::Fnma(n, Vec::Set1(-2.12194440e-4f), r);
  Vec::T y = Vec::Set1(1.9875691500e-4f);
  y = Vec::Fma(y, r, Vec::Set1(1.3981999507e-3f));
  y = Vec::Fma(y, r, Vec::Set1(8.3334519073e-3f));
  y = Vec::Fma(y, r, Vec::Set1(4.1665795894e-2f));
  y = Vec::Fma(y, r, Vec::Set1(1.6666665459e-1f));
  y = Vec::Fma(y, r, Vec::Set1(5.0000001201e-1f));
  y = Vec::Add(Vec::Fma(y, Vec::Mul(r, r), r), Vec::Set1(1.0f));
  return Vec::ZeroWhereLess(Vec::Mul(y, Vec::Pow2(n)), input, kLowest);
}

}  // namespace
