// A fixed set of threads that run one task at a time, the caller taking part as thread 0.
// Idle threads sleep (no spinning between decodes, as for llama.cpp's own threadpool).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace bge::kernels {

class Workers {
 public:
  Workers() = default;
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;
  ~Workers();

  // Runs task(index) for index 0..n-1 on n threads and returns when every call has.
  void Run(int n, const std::function<void(int)>& task);

 private:
  void Loop(int index);

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::vector<std::thread> threads_;
  const std::function<void(int)>* task_ = nullptr;
  uint64_t round_ = 0;
  int active_ = 0;
  int pending_ = 0;
  bool stop_ = false;
};

}  // namespace bge::kernels
