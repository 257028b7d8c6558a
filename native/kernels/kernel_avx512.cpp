// The attention kernel for AVX-512 (16 floats per vector, 8 query rows per block).
// Compiled with -mavx512f -mfma -mf16c; called only when the CPU has them (kernel.cpp).
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#include <cstdint>

namespace {

struct Vec {
  using T = __m512;
  static constexpr int kWidth = 16;
  static constexpr int kGemmRows = 12;  // rows of A per block of the matrix product: 24 accumulators
  static constexpr int kRows = 8;
  static T Load(const float* p) { return _mm512_loadu_ps(p); }
  static void Store(float* p, T x) { _mm512_storeu_ps(p, x); }
  static T Set1(float x) { return _mm512_set1_ps(x); }
  static T Zero() { return _mm512_setzero_ps(); }
  static T Fma(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static T Add(T a, T b) { return _mm512_add_ps(a, b); }
  static T Sub(T a, T b) { return _mm512_sub_ps(a, b); }
  static T Mul(T a, T b) { return _mm512_mul_ps(a, b); }
  static T Max(T a, T b) { return _mm512_max_ps(a, b); }
  static T Div(T a, T b) { return _mm512_div_ps(a, b); }
  static T Abs(T x) { return _mm512_abs_ps(x); }
  // |a| with the sign of b
  static T CopySign(T a, T b) {
    const __m512i sign = _mm512_set1_epi32(static_cast<int>(0x80000000u));
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_andnot_si512(sign, _mm512_castps_si512(a)), _mm512_and_si512(sign, _mm512_castps_si512(b))));
  }
  static float ReduceAdd(T x) { return _mm512_reduce_add_ps(x); }
  static float ReduceMax(T x) { return _mm512_reduce_max_ps(x); }
  static T FromF16(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  // r[i] lane j becomes r[j] lane i.
  static void Transpose(T r[kWidth]) {
    T t[16], u[16];
    for (int i = 0; i < 16; i += 2) {
      t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
      u[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
      u[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
      u[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
      u[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; i++) {
      t[i] = _mm512_shuffle_f32x4(u[i], u[i + 4], 0x88);
      t[i + 4] = _mm512_shuffle_f32x4(u[i], u[i + 4], 0xdd);
      t[i + 8] = _mm512_shuffle_f32x4(u[i + 8], u[i + 12], 0x88);
      t[i + 12] = _mm512_shuffle_f32x4(u[i + 8], u[i + 12], 0xdd);
    }
    for (int i = 0; i < 4; i++) {
      r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
      r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
      r[i + 4] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0x88);
      r[i + 12] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0xdd);
    }
  }
  // Lanes at index >= count become `fill`.
  static T KeepFirst(T x, int count, float fill) {
    if (count >= kWidth) return x;
    return _mm512_mask_mov_ps(_mm512_set1_ps(fill), static_cast<__mmask16>((1u << count) - 1), x);
  }
  // Bit i set when lane i is not -inf.
  static unsigned FiniteBits(T x) { return _mm512_cmp_ps_mask(x, _mm512_set1_ps(-__builtin_inff()), _CMP_NEQ_UQ); }
  static T Fnma(T a, T b, T c) { return _mm512_fnmadd_ps(a, b, c); }  // c - a·b
  static T Round(T x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // 2^n for lanes holding whole numbers n in [-126, 127]
  static T Pow2(T n) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23)); }
  // x with lanes set to 0 where `of` < `limit`
  static T ZeroWhereLess(T x, T of, float limit) {
    return _mm512_maskz_mov_ps(static_cast<__mmask16>(~_mm512_cmp_ps_mask(of, _mm512_set1_ps(limit), _CMP_LT_OQ)), x);
  }
};

}  // namespace

#define BGE_ATTENTION_ENTRY AttendRowsAvx512
#include "attention_impl.h"
#define BGE_GEMM_ENTRY MatMulPanelsAvx512
#include "gemm_impl.h"
#define BGE_GELU_ENTRY GeluAvx512
#include "gelu_impl.h"
#endif
