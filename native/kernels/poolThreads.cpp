#include "poolThreads.h"

#include "../threadpool.h"
#include "ggml.h"

namespace bge::kernels {

namespace {

thread_local ggml_threadpool_t gPendingPool = nullptr;

}  // namespace

void SetPoolForNewContext(ggml_threadpool_t pool) { gPendingPool = pool; }
ggml_threadpool_t PoolForNewContext() { return gPendingPool; }

PoolThreads::PoolThreads(ggml_threadpool_t pool) {
  ggml_backend_dev_t device = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
  if (device != nullptr) cpu_ = ggml_backend_dev_init(device, nullptr);
  using SetPool = void (*)(ggml_backend_t, ggml_threadpool_t);
  auto setPool = reinterpret_cast<SetPool>(CpuBackendProc("ggml_backend_cpu_set_threadpool"));
  if (cpu_ != nullptr && pool != nullptr && setPool != nullptr) setPool(cpu_, pool);
  ggml_init_params params{ggml_tensor_overhead() * 2 + ggml_graph_overhead_custom(2, false), nullptr, true};
  ctx_ = ggml_init(params);
  ggml_tensor* node = ggml_custom_4d(ctx_, GGML_TYPE_F32, 1, 1, 1, 1, nullptr, 0, &PoolThreads::Operation, GGML_N_TASKS_MAX, this);
  graph_ = ggml_new_graph_custom(ctx_, 2, false);
  ggml_build_forward_expand(graph_, node);
}

PoolThreads::~PoolThreads() {
  if (cpu_ != nullptr) ggml_backend_free(cpu_);
  if (ctx_ != nullptr) ggml_free(ctx_);
}

void PoolThreads::Operation(ggml_tensor*, int ith, int, void* self) {
  auto* pool = static_cast<PoolThreads*>(self);
  (*pool->task_)(ith);
}

void PoolThreads::Run(int n, const std::function<void(int)>& task) {
  if (n <= 1 || cpu_ == nullptr) {
    for (int i = 0; i < n; i++) task(i);
    return;
  }
  if (n != threads_) {
    using SetThreads = void (*)(ggml_backend_t, int);
    auto setThreads = reinterpret_cast<SetThreads>(CpuBackendProc("ggml_backend_set_n_threads"));
    if (setThreads == nullptr) {
      for (int i = 0; i < n; i++) task(i);
      return;
    }
    setThreads(cpu_, n);
    threads_ = n;
  }
  task_ = &task;
  ggml_backend_graph_compute(cpu_, graph_);
  task_ = nullptr;
}

}  // namespace bge::kernels
