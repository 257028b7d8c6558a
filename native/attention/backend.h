// A ggml backend that runs llama.cpp's flash-attention operations on the CPU with the kernel in
// kernel.h, and nothing else. See backend.cpp for why and how it joins llama.cpp's scheduler.
#pragma once

#include <cstdint>

namespace bge {

// Registers the backend with ggml once, at addon init after the CPU backend has loaded; does
// nothing when this CPU has no kernel or BGE_GGUF_ATTENTION=ggml asks for llama.cpp's own.
void RegisterAttentionBackend();

struct AttentionStatus {
  const char* kernel;  // "avx512", "avx2" or "ggml" (llama.cpp's CPU kernel runs every attention)
  uint64_t operations; // attention operations this backend has run since the addon loaded
};
AttentionStatus GetAttentionStatus();

}  // namespace bge
