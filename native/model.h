// A loaded GGUF model (llama_model) and its JS wrapper.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "llama.h"

namespace bge {

struct ContextState;

// Owned jointly by the JS Model and every context created from it, so the weights outlive
// any decode still running when the JS side disposes the model.
struct ModelState {
  llama_model* model = nullptr;
  const llama_vocab* vocab = nullptr;
  std::string path;
  bool vocabOnly = false;
  bool onCpu = true;  // no layer offloaded to a GPU
  bool disposed = false;  // JS thread only
  std::vector<std::weak_ptr<ContextState>> contexts;  // JS thread only

  ModelState() = default;
  ModelState(const ModelState&) = delete;
  ModelState& operator=(const ModelState&) = delete;
  ~ModelState();

  int32_t VocabSize() const { return llama_vocab_n_tokens(vocab); }
  std::string Meta(const std::string& key) const;  // "" when absent
  bool Causal() const;
};

class ModelWrap : public Napi::ObjectWrap<ModelWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit ModelWrap(const Napi::CallbackInfo& info);
  void Attach(std::shared_ptr<ModelState> state) { state_ = std::move(state); }

 private:
  ModelState& Live(Napi::Env env);  // throws DISPOSED after dispose()
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Tokenize(const Napi::CallbackInfo& info);
  Napi::Value Detokenize(const Napi::CallbackInfo& info);
  Napi::Value CreateContext(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  std::shared_ptr<ModelState> state_;
};

// loadModel(path, {gpuLayers, useMmap, vocabOnly}) -> Promise<Model>
Napi::Value LoadModel(const Napi::CallbackInfo& info);

}  // namespace bge
