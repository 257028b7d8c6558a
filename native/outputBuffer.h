// A host buffer type for llama.cpp's per-context output buffer on the CPU (see outputBuffer.cpp).
#pragma once

namespace bge {

// Gives the CPU device a host buffer type whose buffers start as untouched zero pages (addon init).
void UseLazyZeroOutputBuffers();

}  // namespace bge
