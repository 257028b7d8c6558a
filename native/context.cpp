#include "context.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>
#include <vector>

#include "common.h"
#include "kernels/poolThreads.h"

namespace bge {

namespace {

constexpr int32_t kMaxSequences = 256;  // LLAMA_MAX_SEQ

bool AbortRequested(void* data) { return static_cast<ContextState*>(data)->abort.load(); }

// `value` as an integer in min..max, `fallback` when undefined; `what` names it in the error.
int32_t IntegerIn(Napi::Env env, const Napi::Value& value, const std::string& what, int32_t fallback, int32_t min,
                  int32_t max) {
  if (value.IsUndefined()) return fallback;
  const double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : -1.0;
  // Range first (rejects NaN and infinities), so the integer test never converts an unrepresentable value.
  if (!value.IsNumber() || !(number >= min && number <= max) || std::floor(number) != number) {
    throw CodedError(env, kInvalidInput,
                     what + " must be an integer in " + std::to_string(min) + ".." + std::to_string(max));
  }
  return static_cast<int32_t>(number);
}

int32_t OptionalInt(const Napi::Object& options, const char* key, int32_t fallback, int32_t min, int32_t max) {
  Napi::Value value = options.Get(key);
  if (value.IsNull()) return fallback;  // options may spell "unset" as null
  return IntegerIn(options.Env(), value, std::string("option ") + key, fallback, min, max);
}

enum llama_pooling_type PoolingFromName(Napi::Env env, const std::string& name) {
  if (name == "mean") return LLAMA_POOLING_TYPE_MEAN;
  if (name == "cls") return LLAMA_POOLING_TYPE_CLS;
  if (name == "last") return LLAMA_POOLING_TYPE_LAST;
  if (name == "rank") return LLAMA_POOLING_TYPE_RANK;
  if (name == "none") return LLAMA_POOLING_TYPE_NONE;
  throw CodedError(env, kInvalidInput, "option pooling must be 'mean', 'cls', 'last', 'rank' or 'none'");
}

// One encode call: the batch is built on the JS thread, decoded on a libuv worker thread.
class EncodeWorker : public Napi::AsyncWorker {
 public:
  EncodeWorker(Napi::Env env, std::shared_ptr<ContextState> state, llama_batch batch, int32_t nSeqs)
      : Napi::AsyncWorker(env, "bge-gguf:encode"),
        deferred_(Napi::Promise::Deferred::New(env)),
        state_(std::move(state)),
        batch_(batch),
        nSeqs_(nSeqs) {}

  ~EncodeWorker() override { llama_batch_free(batch_); }

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    ContextState& s = *state_;
    if (s.abort.load()) return Fail(kCancelled, "encode was cancelled");
    // Causal models keep a KV cache (null for encoders): start every batch from an empty one.
    // Clearing the metadata is enough, emptied cells are masked out.
    llama_memory_clear(llama_get_memory(s.ctx), false);
    BeginLogCapture();
    const int32_t rc = llama_decode(s.ctx, batch_);
    const std::string log = TakeCapturedLog();
    if (rc == 2 || (rc != 0 && s.abort.load())) return Fail(kCancelled, "encode was cancelled");
    if (rc != 0) {
      return Fail(kEncodeFailed, "llama_decode failed with status " + std::to_string(rc) + (log.empty() ? "" : ": " + log));
    }
    const size_t dim = static_cast<size_t>(s.nEmbd);
    if (s.pooling == "none") return CopyTokenStates(dim);
    output_.resize(static_cast<size_t>(nSeqs_) * dim);
    for (int32_t seq = 0; seq < nSeqs_; ++seq) {
      const float* pooled = llama_get_embeddings_seq(s.ctx, seq);
      if (pooled == nullptr) {
        return Fail(kEncodeFailed, "llama.cpp returned no pooled embedding for sequence " + std::to_string(seq));
      }
      std::memcpy(output_.data() + static_cast<size_t>(seq) * dim, pooled, dim * sizeof(float));
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (Finish()) {
      deferred_.Reject(CodedError(env, kDisposed, "the context was disposed while encoding").Value());
      return;
    }
    // cancel() promises a rejection even when the decode finished before it saw the flag.
    if (state_->abort.load()) {
      deferred_.Reject(CodedError(env, kCancelled, "encode was cancelled").Value());
      return;
    }
    Napi::Float32Array out = Napi::Float32Array::New(env, output_.size());
    if (!output_.empty()) std::memcpy(out.Data(), output_.data(), output_.size() * sizeof(float));
    deferred_.Resolve(out);
  }

  void OnError(const Napi::Error& error) override {
    Napi::Env env = Env();
    if (Finish()) {
      deferred_.Reject(CodedError(env, kDisposed, "the context was disposed while encoding").Value());
      return;
    }
    deferred_.Reject(CodedError(env, code_, message_.empty() ? error.Message() : message_).Value());
  }

 private:
  // Pooling none: every token's hidden state, in batch order (sequence after sequence).
  void CopyTokenStates(size_t dim) {
    const float* states = llama_get_embeddings(state_->ctx);
    if (states == nullptr) return Fail(kEncodeFailed, "llama.cpp returned no token embeddings");
    output_.assign(states, states + static_cast<size_t>(batch_.n_tokens) * dim);
  }

  void Fail(const char* code, std::string message) {
    code_ = code;
    message_ = std::move(message);
    SetError(message_);
  }

  // Back on the JS thread: frees the context if it was disposed meanwhile; returns whether it was.
  bool Finish() {
    state_->busy = false;
    if (!state_->disposed) return false;
    state_->Release();
    return true;
  }

  Napi::Promise::Deferred deferred_;
  std::shared_ptr<ContextState> state_;
  llama_batch batch_;
  int32_t nSeqs_;
  std::vector<float> output_;
  const char* code_ = kEncodeFailed;
  std::string message_;
};

}  // namespace

void ContextState::Release() {
  if (ctx != nullptr) {
    llama_free(ctx);
    ctx = nullptr;
  }
  FreeCpuThreadpool(threadpool);
  threadpool = nullptr;
  model.reset();
}

void ContextState::Dispose() {
  if (disposed) return;
  disposed = true;
  if (busy) {
    abort.store(true);
  } else {
    Release();
  }
}

Napi::Value NewContextObject(Napi::Env env, const std::shared_ptr<ModelState>& model, const Napi::Object& options) {
  Napi::Value poolingValue = options.Get("pooling");
  if (!poolingValue.IsString()) {
    throw CodedError(env, kInvalidInput, "option pooling must be 'mean', 'cls', 'last', 'rank' or 'none'");
  }
  const std::string poolingName = poolingValue.As<Napi::String>().Utf8Value();
  const enum llama_pooling_type pooling = PoolingFromName(env, poolingName);

  const int32_t hardwareThreads = static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency()));
  const int32_t nBatch = OptionalInt(options, "nBatch", 512, 1, 1 << 20);
  const int32_t nCtx = OptionalInt(options, "nCtx", nBatch, nBatch, 1 << 20);
  // Every sequence holds at least one token, and llama.cpp asserts (aborting the process) when
  // n_seq_max exceeds n_batch.
  const int32_t nSeqLimit = std::min(nBatch, kMaxSequences);
  const int32_t nSeqMax = OptionalInt(options, "nSeqMax", nSeqLimit, 1, nSeqLimit);
  const int32_t threads = OptionalInt(options, "threads", hardwareThreads, 1, 1024);

  auto state = std::make_shared<ContextState>();
  state->model = model;
  state->pooling = poolingName;
  state->causal = model->Causal();
  // Rank pooling returns the classifier head's outputs (n_cls_out scores) per sequence, not a vector.
  state->nEmbd = pooling == LLAMA_POOLING_TYPE_RANK ? static_cast<int32_t>(llama_model_n_cls_out(model->model))
                                                   : llama_model_n_embd_out(model->model);
  state->nVocab = model->VocabSize();
  state->nBatch = nBatch;
  state->nSeqMax = nSeqMax;
  state->threads = threads;
  const int32_t trainCtx = llama_model_n_ctx_train(model->model);
  state->maxSeqLen = trainCtx > 0 ? std::min(nBatch, trainCtx) : nBatch;

  // llama.cpp reserves its graph for n_seq_max sequences of equal length, rounding the token count
  // up to a multiple of n_seq_max but not the outputs, and then aborts on mean pooling's matrix
  // product (batchTokens 300 with 256 sequences did). Give it a multiple; the limits above stay.
  const int32_t llamaBatch = (nBatch + nSeqMax - 1) / nSeqMax * nSeqMax;

  llama_context_params params = llama_context_default_params();
  params.n_ctx = static_cast<uint32_t>(std::max(nCtx, llamaBatch));
  params.n_batch = static_cast<uint32_t>(llamaBatch);
  // llama.cpp pools per micro-batch and cannot split non-causal batches: one ubatch per decode.
  params.n_ubatch = static_cast<uint32_t>(llamaBatch);
  params.n_seq_max = static_cast<uint32_t>(nSeqMax);
  // One KV buffer shared by all sequences keeps every sequence's capacity at n_ctx
  // (a split cache would give each only n_ctx / n_seq_max).
  params.kv_unified = true;
  params.n_threads = threads;
  params.n_threads_batch = threads;
  params.embeddings = true;
  params.pooling_type = pooling;
  params.no_perf = true;
  Napi::Value flash = options.Get("flashAttention");
  if (flash.IsBoolean()) {
    params.flash_attn_type = flash.As<Napi::Boolean>().Value() ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
  } else if (model->onCpu) {
    // What "auto" resolves to on a CPU, said outright: auto checks that attention runs on the
    // layer's device, and the addon's kernel backend (kernels/backend.h) is another device.
    params.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_ENABLED;
  }
  params.abort_callback = AbortRequested;
  params.abort_callback_data = state.get();

  // The pool exists before the context: the addon's kernel backend, created inside it, runs on it too.
  state->threadpool = NewCpuThreadpool(threads);
  kernels::SetPoolForNewContext(state->threadpool);
  BeginLogCapture();
  state->ctx = llama_init_from_model(model->model, params);
  kernels::SetPoolForNewContext(nullptr);
  const std::string log = TakeCapturedLog();
  if (state->ctx == nullptr) {
    throw CodedError(env, kLoadFailed, "llama.cpp could not create a context" + (log.empty() ? "" : ": " + log));
  }
  if (state->threadpool != nullptr) llama_attach_threadpool(state->ctx, state->threadpool, state->threadpool);

  auto& contexts = model->contexts;
  contexts.erase(std::remove_if(contexts.begin(), contexts.end(), [](const auto& weak) { return weak.expired(); }),
                 contexts.end());
  contexts.push_back(state);

  Napi::Object object = GetAddonData(env)->contextConstructor.New({});
  ContextWrap::Unwrap(object)->Attach(std::move(state));
  return object;
}

Napi::Function ContextWrap::Define(Napi::Env env) {
  return DefineClass(env, "Context",
                     {
                         InstanceMethod<&ContextWrap::Info>("info"),
                         InstanceMethod<&ContextWrap::Encode>("encode"),
                         InstanceMethod<&ContextWrap::Cancel>("cancel"),
                         InstanceMethod<&ContextWrap::Dispose>("dispose"),
                     });
}

ContextWrap::ContextWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ContextWrap>(info) {}

Napi::Value ContextWrap::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!state_ || state_->disposed) throw CodedError(env, kDisposed, "the context has been disposed");
  Napi::Object out = Napi::Object::New(env);
  out.Set("nCtx", llama_n_ctx(state_->ctx));
  out.Set("nBatch", state_->nBatch);
  out.Set("nSeqMax", state_->nSeqMax);
  out.Set("maxSeqLen", state_->maxSeqLen);
  out.Set("nEmbd", state_->nEmbd);
  out.Set("pooling", state_->pooling);
  out.Set("threads", state_->threads);
  out.Set("causal", state_->causal);
  return out;
}

Napi::Value ContextWrap::Encode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!state_ || state_->disposed) throw CodedError(env, kDisposed, "the context has been disposed");
  ContextState& s = *state_;
  if (s.busy) throw CodedError(env, kBusy, "this context is already encoding; wait for the previous call");
  if (info.Length() < 1 || !info[0].IsArray()) {
    throw CodedError(env, kInvalidInput, "encode(sequences): sequences must be an array of Int32Array");
  }
  Napi::Array array = info[0].As<Napi::Array>();
  const uint32_t nSeqs = array.Length();
  if (nSeqs == 0) throw CodedError(env, kInvalidInput, "encode(sequences): at least one sequence is required");
  if (nSeqs > static_cast<uint32_t>(s.nSeqMax)) {
    throw CodedError(env, kInvalidInput,
                     std::to_string(nSeqs) + " sequences exceed this context's limit of " + std::to_string(s.nSeqMax));
  }

  std::vector<Napi::Int32Array> seqs;
  seqs.reserve(nSeqs);
  size_t total = 0;
  for (uint32_t i = 0; i < nSeqs; ++i) {
    Napi::Value item = array.Get(i);
    if (!item.IsTypedArray() || item.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
      throw CodedError(env, kInvalidInput, "sequence " + std::to_string(i) + " is not an Int32Array of token ids");
    }
    Napi::Int32Array seq = item.As<Napi::Int32Array>();
    const size_t length = seq.ElementLength();
    if (length == 0) throw CodedError(env, kInvalidInput, "sequence " + std::to_string(i) + " is empty");
    if (length > static_cast<size_t>(s.maxSeqLen)) {
      throw CodedError(env, kInvalidInput,
                       "sequence " + std::to_string(i) + " has " + std::to_string(length) +
                           " tokens; this context allows at most " + std::to_string(s.maxSeqLen) + " per sequence");
    }
    for (size_t t = 0; t < length; ++t) {
      const int32_t id = seq[t];
      if (id < 0 || id >= s.nVocab) {
        throw CodedError(env, kInvalidInput,
                         "sequence " + std::to_string(i) + " holds token id " + std::to_string(id) +
                             " outside the vocabulary (0.." + std::to_string(s.nVocab - 1) + ")");
      }
    }
    total += length;
    seqs.push_back(seq);
  }
  // Optional thread count for this decode (at most the context's): lets several contexts of one
  // model decode side by side without oversubscribing the cores.
  const int32_t threads = IntegerIn(env, info[1], "encode(sequences, threads): threads", s.threads, 1, s.threads);
  if (total > static_cast<size_t>(s.nBatch)) {
    throw CodedError(env, kInvalidInput,
                     "the sequences hold " + std::to_string(total) + " tokens in all; one encode takes at most " +
                         std::to_string(s.nBatch));
  }

  llama_batch batch = llama_batch_init(static_cast<int32_t>(total), 0, 1);
  int32_t k = 0;
  for (uint32_t i = 0; i < nSeqs; ++i) {
    const Napi::Int32Array& seq = seqs[i];
    for (size_t t = 0; t < seq.ElementLength(); ++t, ++k) {
      batch.token[k] = seq[t];
      batch.pos[k] = static_cast<llama_pos>(t);
      batch.n_seq_id[k] = 1;
      batch.seq_id[k][0] = static_cast<llama_seq_id>(i);
      batch.logits[k] = 1;
    }
  }
  batch.n_tokens = k;

  llama_set_n_threads(s.ctx, threads, threads);
  s.abort.store(false);
  s.busy = true;
  auto* worker = new EncodeWorker(env, state_, batch, static_cast<int32_t>(nSeqs));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value ContextWrap::Cancel(const Napi::CallbackInfo& info) {
  if (state_ && state_->busy) state_->abort.store(true);
  return info.Env().Undefined();
}

Napi::Value ContextWrap::Dispose(const Napi::CallbackInfo& info) {
  if (state_) {
    state_->Dispose();
    state_.reset();
  }
  return info.Env().Undefined();
}

}  // namespace bge
