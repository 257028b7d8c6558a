// A persistent ggml CPU threadpool for one context.
#pragma once

#include "ggml.h"

namespace bge {

// Without an attached pool, ggml creates and joins fresh worker threads for every decode; on a
// busy process (Node's own threads) that makes single-query latency erratic (measured 4-50 ms for
// a 4 ms decode). llama.cpp's own tools attach a pool the same way. Returns nullptr when the
// CPU backend is not loaded (llama.cpp then falls back to its per-decode threads).
ggml_threadpool_t NewCpuThreadpool(int nThreads);
void FreeCpuThreadpool(ggml_threadpool_t pool);

// A function of the CPU backend by name (nullptr when absent). The CPU backend may be a dynamically
// loaded library (prebuilt llama.cpp), so its functions are looked up through the backend registry
// instead of being linked.
void* CpuBackendProc(const char* name);

}  // namespace bge
