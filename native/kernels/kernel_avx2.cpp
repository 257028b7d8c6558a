// The attention kernel for AVX2 (8 floats per vector, 4 query rows per block: 16 registers).
// Compiled with -mavx2 -mfma -mf16c; called only when the CPU has them (kernel.cpp).
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#include <cstdint>

namespace {

struct Vec {
  using T = __m256;
  static constexpr int kWidth = 8;
  static constexpr int kGemmRows = 6;  // rows of A per block of the matrix product: 12 accumulators
  static constexpr int kRows = 4;
  static T Load(const float* p) { return _mm256_loadu_ps(p); }
  static void Store(float* p, T x) { _mm256_storeu_ps(p, x); }
  static T Set1(float x) { return _mm256_set1_ps(x); }
  static T Zero() { return _mm256_setzero_ps(); }
  static T Fma(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static T Add(T a, T b) { return _mm256_add_ps(a, b); }
  static T Sub(T a, T b) { return _mm256_sub_ps(a, b); }
  static T Mul(T a, T b) { return _mm256_mul_ps(a, b); }
  static T Max(T a, T b) { return _mm256_max_ps(a, b); }
  static T Div(T a, T b) { return _mm256_div_ps(a, b); }
  static T Abs(T x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }
  static T CopySign(T a, T b) {
    const T sign = _mm256_set1_ps(-0.0f);
    return _mm256_or_ps(_mm256_andnot_ps(sign, a), _mm256_and_ps(sign, b));
  }
  static float ReduceAdd(T x) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
  }
  static float ReduceMax(T x) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)));
  }
  static T FromF16(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static void Transpose(T r[kWidth]) {
    T t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
      t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
      u[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
      u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
      u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
      u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; i++) {
      r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
      r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
    }
  }
  static T KeepFirst(T x, int count, float fill) {
    if (count >= kWidth) return x;
    const T keep = _mm256_cmp_ps(_mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_ps(static_cast<float>(count)), _CMP_LT_OQ);
    return _mm256_blendv_ps(_mm256_set1_ps(fill), x, keep);
  }
  static unsigned FiniteBits(T x) {
    return static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(x, _mm256_set1_ps(-__builtin_inff()), _CMP_NEQ_UQ)));
  }
  static T Fnma(T a, T b, T c) { return _mm256_fnmadd_ps(a, b, c); }
  static T Round(T x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static T Pow2(T n) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23)); }
  static T ZeroWhereLess(T x, T of, float limit) { return _mm256_andnot_ps(_mm256_cmp_ps(of, _mm256_set1_ps(limit), _CMP_LT_OQ), x); }
};

}  // namespace

#define BGE_ATTENTION_ENTRY AttendRowsAvx2
#include "attention_impl.h"
#define BGE_GEMM_ENTRY MatMulPanelsAvx2
#include "gemm_impl.h"
#define BGE_GELU_ENTRY GeluAvx2
#include "gelu_impl.h"
#endif
