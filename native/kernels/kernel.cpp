// Picks the kernel for this CPU and sizes each call's scratch memory.
#include "kernel.h"

#include "kernelBuffers.h"

#include <cstdlib>
#include <cstring>

namespace bge::kernels {

namespace {

enum class Isa { kNone, kAvx2, kAvx512 };

// The widest kernel this CPU runs; BGE_GGUF_CPU_KERNELS=avx2 asks for the AVX2 one (tests run both).
Isa DetectIsa() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  const bool base = __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  const char* choice = std::getenv("BGE_GGUF_CPU_KERNELS");
  const bool avx2Only = choice != nullptr && std::strcmp(choice, "avx2") == 0;
  if (base && !avx2Only && __builtin_cpu_supports("avx512f")) return Isa::kAvx512;
  if (base && __builtin_cpu_supports("avx2")) return Isa::kAvx2;
#endif
  return Isa::kNone;
}

const Isa kIsa = DetectIsa();

int RoundUp(int x, int m) { return (x + m - 1) / m * m; }

}  // namespace

bool Available() { return kIsa != Isa::kNone; }

const char* KernelIsa() {
  switch (kIsa) {
    case Isa::kAvx512: return "avx512";
    case Isa::kAvx2: return "avx2";
    default: return "none";
  }
}

bool Supports(int dk, int dv) {
  return dk > 0 && dv > 0 && dk % 16 == 0 && dv % 16 == 0 && dk <= kMaxHeadDim && dv <= 2 * kMaxHeadDim;
}

bool SupportsMatMul(int n, int k) { return n > 0 && k > 0 && n % 32 == 0 && k % 16 == 0 && k <= kMaxMatMulK; }

void MatMulPanels(const MatMul& g, int panel0, int panel1, std::vector<float>& packed) {
  packed.resize(static_cast<size_t>(g.k) * 32);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (kIsa == Isa::kAvx512) return MatMulPanelsAvx512(g, panel0, panel1, packed.data());
  if (kIsa == Isa::kAvx2) return MatMulPanelsAvx2(g, panel0, panel1, packed.data());
#endif
}

void Gelu(const float* x, float* y, size_t count) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (kIsa == Isa::kAvx512) return GeluAvx512(x, y, count);
  if (kIsa == Isa::kAvx2) return GeluAvx2(x, y, count);
#endif
}

void AttendRows(const Head& head, int row0, int row1, Scratch& scratch, uint64_t generation) {
  // Columns are computed in steps of 32 and rows read up to one vector past their last key.
  const int ldk = RoundUp(head.nKv, 32);
  const int ldp = ldk + 16;
  KernelBuffers b{};
  const bool same = scratch.key == head.k && scratch.generation == generation;
  scratch.kt.resize(static_cast<size_t>(head.dk) * ldk);
  scratch.v.resize(static_cast<size_t>(head.nKv) * head.dv);
  scratch.p.resize(static_cast<size_t>(kSuperRows) * (ldp + head.dk + head.dv));
  b.kt = scratch.kt.data();
  b.ldk = ldk;
  b.v = scratch.v.data();
  b.p = scratch.p.data();
  b.ldp = ldp;
  b.qb = b.p + static_cast<size_t>(kSuperRows) * ldp;
  b.o = b.qb + static_cast<size_t>(kSuperRows) * head.dk;
  b.convertKv = !same;
  scratch.key = head.k;
  scratch.generation = generation;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (kIsa == Isa::kAvx512) return AttendRowsAvx512(head, row0, row1, b);
  if (kIsa == Isa::kAvx2) return AttendRowsAvx2(head, row0, row1, b);
#endif
}

}  // namespace bge::kernels
