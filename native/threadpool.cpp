#include "threadpool.h"

#include "ggml-backend.h"

namespace bge {

void* CpuBackendProc(const char* name) {
  ggml_backend_dev_t cpu = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
  if (cpu == nullptr) return nullptr;
  return ggml_backend_reg_get_proc_address(ggml_backend_dev_backend_reg(cpu), name);
}

namespace {

using NewFn = ggml_threadpool_t (*)(ggml_threadpool_params*);
using FreeFn = void (*)(ggml_threadpool_t);

}  // namespace

ggml_threadpool_t NewCpuThreadpool(int nThreads) {
  auto create = reinterpret_cast<NewFn>(CpuBackendProc("ggml_threadpool_new"));
  if (create == nullptr) return nullptr;
  ggml_threadpool_params params = ggml_threadpool_params_default(nThreads);
  // No polling between decodes: the default (50) spins a core for ~0.1 s after every encode, which
  // a desktop app or an idle service pays for; measured cost of sleeping instead: ~0.1 ms per encode.
  params.poll = 0;
  return create(&params);
}

void FreeCpuThreadpool(ggml_threadpool_t pool) {
  if (pool == nullptr) return;
  auto release = reinterpret_cast<FreeFn>(CpuBackendProc("ggml_threadpool_free"));
  if (release != nullptr) release(pool);
}

}  // namespace bge
