// An embedding context (llama_context with pooled embeddings) and its JS wrapper.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>
#include <string>

#include "llama.h"
#include "model.h"
#include "threadpool.h"

namespace bge {

struct ContextState {
  llama_context* ctx = nullptr;
  ggml_threadpool_t threadpool = nullptr;  // freed after ctx, which uses it
  std::shared_ptr<ModelState> model;
  std::string pooling;
  int32_t nEmbd = 0;
  int32_t nBatch = 0;
  int32_t nSeqMax = 0;
  int32_t maxSeqLen = 0;  // longest single sequence: min(nBatch, training context)
  int32_t nVocab = 0;
  int32_t threads = 0;
  bool causal = true;
  std::atomic<bool> abort{false};  // read by llama.cpp's abort callback on the worker thread
  bool busy = false;               // JS thread only: an encode is queued or running
  bool disposed = false;           // JS thread only

  ContextState() = default;
  ContextState(const ContextState&) = delete;
  ContextState& operator=(const ContextState&) = delete;
  ~ContextState() { Release(); }

  // Frees the llama context and drops the model reference; JS thread, never while busy.
  void Release();
  // Marks disposed; frees now when idle, else aborts the running decode and frees when it ends.
  void Dispose();
};

class ContextWrap : public Napi::ObjectWrap<ContextWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit ContextWrap(const Napi::CallbackInfo& info);
  void Attach(std::shared_ptr<ContextState> state) { state_ = std::move(state); }

 private:
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Encode(const Napi::CallbackInfo& info);
  Napi::Value Cancel(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  std::shared_ptr<ContextState> state_;
};

// model.createContext({nCtx, nBatch, nSeqMax, pooling, threads}) -> Context
Napi::Value NewContextObject(Napi::Env env, const std::shared_ptr<ModelState>& model, const Napi::Object& options);

}  // namespace bge
