#include "model.h"

#include <sys/stat.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common.h"
#include "context.h"
#include "mappedPages.h"

namespace bge {

ModelState::~ModelState() {
  if (model != nullptr) llama_model_free(model);
}

std::string ModelState::Meta(const std::string& key) const {
  char buf[512];
  const int32_t n = llama_model_meta_val_str(model, key.c_str(), buf, sizeof(buf));
  if (n < 0) return "";
  if (static_cast<size_t>(n) < sizeof(buf)) return std::string(buf, n);
  std::string big(static_cast<size_t>(n) + 1, '\0');
  llama_model_meta_val_str(model, key.c_str(), big.data(), big.size());
  big.resize(n);
  return big;
}

bool ModelState::Causal() const {
  const std::string arch = Meta("general.architecture");
  const std::string flag = Meta(arch + ".attention.causal");
  if (flag == "true") return true;
  if (flag == "false") return false;
  // Encoder architectures that llama.cpp runs without a KV cache (bidirectional attention).
  static const char* const kEncoders[] = {"bert",       "nomic-bert", "nomic-bert-moe", "jina-bert-v2",
                                          "jina-bert-v3", "neo-bert",  "modern-bert",    "eurobert",
                                          "t5encoder"};
  for (const char* name : kEncoders) {
    if (arch == name) return false;
  }
  return true;
}

namespace {

// True when the path names a readable file with the GGUF magic; else sets an error code and message.
bool CheckGgufFile(const std::string& path, const char** code, std::string* message) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    *code = kNotFound;
    *message = "model file not found: " + path;
    return false;
  }
  if (S_ISDIR(st.st_mode)) {
    *code = kLoadFailed;
    *message = path + " is a directory; pass the path of a .gguf file";
    return false;
  }
  FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    *code = kLoadFailed;
    *message = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  char magic[4] = {0, 0, 0, 0};
  const size_t got = std::fread(magic, 1, 4, file);
  std::fclose(file);
  if (got != 4 || std::memcmp(magic, "GGUF", 4) != 0) {
    *code = kLoadFailed;
    *message = path + " is not a GGUF file (it does not start with the GGUF magic bytes)";
    return false;
  }
  return true;
}

class LoadModelWorker : public Napi::AsyncWorker {
 public:
  LoadModelWorker(Napi::Env env, std::string path, llama_model_params params)
      : Napi::AsyncWorker(env, "bge-gguf:loadModel"),
        deferred_(Napi::Promise::Deferred::New(env)),
        path_(std::move(path)),
        params_(params) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    if (!CheckGgufFile(path_, &code_, &message_)) {
      SetError(message_);
      return;
    }
    BeginLogCapture();
    llama_model* model = llama_model_load_from_file(path_.c_str(), params_);
    const std::string log = TakeCapturedLog();
    if (model == nullptr) {
      code_ = kLoadFailed;
      message_ = "llama.cpp could not load " + path_ + (log.empty() ? "" : ": " + log);
      SetError(message_);
      return;
    }
    if (params_.load_mode == LLAMA_LOAD_MODE_MMAP && !params_.vocab_only) ReleaseMappedPages(path_);
    state_ = std::make_shared<ModelState>();
    state_->model = model;
    state_->vocab = llama_model_get_vocab(model);
    state_->path = path_;
    state_->vocabOnly = params_.vocab_only;
    state_->onCpu = params_.n_gpu_layers == 0;
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object object = GetAddonData(env)->modelConstructor.New({});
    ModelWrap::Unwrap(object)->Attach(std::move(state_));
    deferred_.Resolve(object);
  }

  void OnError(const Napi::Error& error) override {
    deferred_.Reject(CodedError(Env(), code_, message_.empty() ? error.Message() : message_).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::string path_;
  llama_model_params params_;
  std::shared_ptr<ModelState> state_;
  const char* code_ = kLoadFailed;
  std::string message_;
};

bool OptionalBool(const Napi::Object& options, const char* key, bool fallback) {
  Napi::Value value = options.Get(key);
  if (value.IsUndefined() || value.IsNull()) return fallback;
  if (!value.IsBoolean()) {
    throw CodedError(options.Env(), kInvalidInput, std::string("option ") + key + " must be a boolean");
  }
  return value.As<Napi::Boolean>().Value();
}

// Accepts an Int32Array or an array of integers; checks every id against the vocabulary.
std::vector<llama_token> ReadTokenIds(Napi::Env env, Napi::Value value, int32_t vocabSize) {
  std::vector<llama_token> tokens;
  if (value.IsTypedArray() && value.As<Napi::TypedArray>().TypedArrayType() == napi_int32_array) {
    Napi::Int32Array array = value.As<Napi::Int32Array>();
    tokens.assign(array.Data(), array.Data() + array.ElementLength());
  } else if (value.IsArray()) {
    Napi::Array array = value.As<Napi::Array>();
    tokens.reserve(array.Length());
    for (uint32_t i = 0; i < array.Length(); ++i) {
      Napi::Value item = array.Get(i);
      if (!item.IsNumber()) throw CodedError(env, kInvalidInput, "token ids must be integers");
      const double id = item.As<Napi::Number>().DoubleValue();
      if (!(id >= INT32_MIN && id <= INT32_MAX) || id != static_cast<double>(static_cast<int32_t>(id))) {
        throw CodedError(env, kInvalidInput, "token ids must be integers");
      }
      tokens.push_back(static_cast<llama_token>(id));
    }
  } else {
    throw CodedError(env, kInvalidInput, "tokens must be an Int32Array or an array of integers");
  }
  for (llama_token id : tokens) {
    if (id < 0 || id >= vocabSize) {
      throw CodedError(env, kInvalidInput,
                       "token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                           std::to_string(vocabSize - 1) + ")");
    }
  }
  return tokens;
}

}  // namespace

Napi::Value LoadModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    throw CodedError(env, kInvalidInput, "loadModel(path, options): path must be a string");
  }
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  if (path.empty()) throw CodedError(env, kInvalidInput, "model path must not be empty");
  Napi::Object options = info.Length() > 1 && info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);

  llama_model_params params = llama_model_default_params();
  Napi::Value gpuLayers = options.Get("gpuLayers");
  params.n_gpu_layers = 0;
  if (gpuLayers.IsNumber()) params.n_gpu_layers = gpuLayers.As<Napi::Number>().Int32Value();
  params.load_mode = OptionalBool(options, "useMmap", true) ? LLAMA_LOAD_MODE_MMAP : LLAMA_LOAD_MODE_NONE;
  params.vocab_only = OptionalBool(options, "vocabOnly", false);

  auto* worker = new LoadModelWorker(env, path, params);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Function ModelWrap::Define(Napi::Env env) {
  return DefineClass(env, "Model",
                     {
                         InstanceMethod<&ModelWrap::Info>("info"),
                         InstanceMethod<&ModelWrap::Tokenize>("tokenize"),
                         InstanceMethod<&ModelWrap::Detokenize>("detokenize"),
                         InstanceMethod<&ModelWrap::CreateContext>("createContext"),
                         InstanceMethod<&ModelWrap::Dispose>("dispose"),
                     });
}

ModelWrap::ModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelWrap>(info) {}

ModelState& ModelWrap::Live(Napi::Env env) {
  if (!state_ || state_->disposed) throw CodedError(env, kDisposed, "the model has been disposed");
  return *state_;
}

Napi::Value ModelWrap::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ModelState& m = Live(env);
  const std::string arch = m.Meta("general.architecture");
  const std::string pooling = m.Meta(arch + ".pooling_type");
  int poolingType = -1;
  if (!pooling.empty()) {
    char* end = nullptr;
    const long parsed = std::strtol(pooling.c_str(), &end, 10);
    if (end != pooling.c_str() && *end == '\0') poolingType = static_cast<int>(parsed);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("arch", arch);
  out.Set("name", m.Meta("general.name"));
  // A vocab-only load skips the hyper-parameters; the GGUF keys still hold them.
  const auto metaInt = [&](const std::string& key) { return std::atoi(m.Meta(arch + "." + key).c_str()); };
  out.Set("nEmbd", m.vocabOnly ? metaInt("embedding_length") : llama_model_n_embd_out(m.model));
  out.Set("nCtxTrain", m.vocabOnly ? metaInt("context_length") : llama_model_n_ctx_train(m.model));
  out.Set("nVocab", m.VocabSize());
  out.Set("poolingType", poolingType);
  out.Set("causal", m.Causal());
  out.Set("bos", llama_vocab_bos(m.vocab));
  out.Set("eos", llama_vocab_eos(m.vocab));
  out.Set("sep", llama_vocab_sep(m.vocab));
  out.Set("addBos", llama_vocab_get_add_bos(m.vocab));
  out.Set("addEos", llama_vocab_get_add_eos(m.vocab));
  out.Set("addSep", llama_vocab_get_add_sep(m.vocab));
  out.Set("vocabOnly", m.vocabOnly);
  return out;
}

Napi::Value ModelWrap::Tokenize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ModelState& m = Live(env);
  if (info.Length() < 1 || !info[0].IsString()) throw CodedError(env, kInvalidInput, "text must be a string");
  const std::string text = info[0].As<Napi::String>().Utf8Value();
  const bool addSpecial = info.Length() > 1 && info[1].ToBoolean().Value();
  const bool parseSpecial = info.Length() > 2 && info[2].ToBoolean().Value();
  if (text.size() > static_cast<size_t>(INT32_MAX / 2)) {
    throw CodedError(env, kInvalidInput, "text is too long to tokenize (" + std::to_string(text.size()) + " bytes)");
  }
  std::vector<llama_token> tokens(text.size() + 8);
  int32_t n = llama_tokenize(m.vocab, text.data(), static_cast<int32_t>(text.size()), tokens.data(),
                             static_cast<int32_t>(tokens.size()), addSpecial, parseSpecial);
  if (n < 0 && n != INT32_MIN) {
    tokens.resize(static_cast<size_t>(-n));
    n = llama_tokenize(m.vocab, text.data(), static_cast<int32_t>(text.size()), tokens.data(),
                       static_cast<int32_t>(tokens.size()), addSpecial, parseSpecial);
  }
  if (n < 0) throw CodedError(env, kInvalidInput, "llama.cpp could not tokenize the text");
  Napi::Int32Array out = Napi::Int32Array::New(env, static_cast<size_t>(n));
  if (n > 0) std::memcpy(out.Data(), tokens.data(), static_cast<size_t>(n) * sizeof(llama_token));
  return out;
}

Napi::Value ModelWrap::Detokenize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ModelState& m = Live(env);
  if (info.Length() < 1) throw CodedError(env, kInvalidInput, "detokenize(tokens): tokens are required");
  const std::vector<llama_token> tokens = ReadTokenIds(env, info[0], m.VocabSize());
  const bool removeSpecial = info.Length() > 1 && info[1].ToBoolean().Value();
  const bool unparseSpecial = info.Length() > 2 && info[2].ToBoolean().Value();
  if (tokens.empty()) return Napi::String::New(env, "");
  std::string text(tokens.size() * 8 + 16, '\0');
  int32_t n = llama_detokenize(m.vocab, tokens.data(), static_cast<int32_t>(tokens.size()), text.data(),
                               static_cast<int32_t>(text.size()), removeSpecial, unparseSpecial);
  if (n < 0) {
    text.resize(static_cast<size_t>(-n));
    n = llama_detokenize(m.vocab, tokens.data(), static_cast<int32_t>(tokens.size()), text.data(),
                         static_cast<int32_t>(text.size()), removeSpecial, unparseSpecial);
  }
  if (n < 0) throw CodedError(env, kInvalidInput, "llama.cpp could not detokenize the tokens");
  text.resize(static_cast<size_t>(n));
  return Napi::String::New(env, text);
}

Napi::Value ModelWrap::CreateContext(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Live(env);
  if (state_->vocabOnly) {
    throw CodedError(env, kInvalidInput, "the model was loaded with vocabOnly; load it with weights to encode");
  }
  Napi::Object options = info.Length() > 0 && info[0].IsObject() ? info[0].As<Napi::Object>() : Napi::Object::New(env);
  return NewContextObject(env, state_, options);
}

Napi::Value ModelWrap::Dispose(const Napi::CallbackInfo& info) {
  if (state_ && !state_->disposed) {
    state_->disposed = true;
    for (auto& weak : state_->contexts) {
      if (auto context = weak.lock()) context->Dispose();
    }
    state_->contexts.clear();
    state_.reset();  // the weights are freed once no running decode holds them
  }
  return info.Env().Undefined();
}

}  // namespace bge
