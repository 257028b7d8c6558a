// Runs the kernels' parallel work on the threads of the context's own ggml threadpool, as a graph of
// one ggml custom operation computed by a CPU backend bound to that pool: the decode keeps the same
// two (or n) threads throughout. With threads of their own (a third thread beside ggml's two,
// sleeping between operations), 2-thread decodes right after a 1-thread one ran 2-4x slower on a
// 2-vCPU VM, most likely because the woken thread landed on the vCPU already busy.
#pragma once

#include <functional>

#include "ggml-backend.h"

namespace bge::kernels {

// The pool llama.cpp's next context will run on: set by native/context.cpp around context
// creation (the kernel backend is created inside it), read by the backend's init.
void SetPoolForNewContext(ggml_threadpool_t pool);
ggml_threadpool_t PoolForNewContext();

class PoolThreads {
 public:
  explicit PoolThreads(ggml_threadpool_t pool);  // null: ggml starts threads per call
  PoolThreads(const PoolThreads&) = delete;
  PoolThreads& operator=(const PoolThreads&) = delete;
  ~PoolThreads();

  // Runs task(index) for index 0..n-1, n at most the pool's size; returns when every call has.
  void Run(int n, const std::function<void(int)>& task);

 private:
  static void Operation(ggml_tensor* node, int ith, int nth, void* self);

  ggml_backend_t cpu_ = nullptr;
  ggml_context* ctx_ = nullptr;
  ggml_cgraph* graph_ = nullptr;
  int threads_ = 0;
  const std::function<void(int)>* task_ = nullptr;
};

}  // namespace bge::kernels
