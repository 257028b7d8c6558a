// A ggml backend that runs three of llama.cpp's CPU operations on the addon's own kernels
// (kernel.h): flash attention, matrix products with F16/F32 weights over decodes of 16+ tokens (F32)
// or 48+ (F16), and GELU over decodes of 64+ tokens.
// See backend.cpp for why and how it joins llama.cpp's scheduler.
#pragma once

#include <cstdint>

namespace bge {

// Registers the backend with ggml once, at addon init after the CPU backend has loaded; does
// nothing when this CPU has no kernel or BGE_GGUF_CPU_KERNELS=ggml asks for llama.cpp's own.
void RegisterKernelBackend();

struct KernelStatus {
  const char* isa;      // "avx512", "avx2" or "ggml" (llama.cpp's CPU kernels run everything)
  uint64_t attention;   // attention operations run since the addon loaded
  uint64_t matMul;      // matrix products run since the addon loaded
  uint64_t gelu;        // GELU operations run since the addon loaded
};
KernelStatus GetKernelStatus();

}  // namespace bge
