#include "heads.h"

#include <algorithm>
#include <thread>
#include <vector>

#include "common.h"

namespace bge {

namespace {

constexpr size_t kRowBlock = 16;  // rows that share each weight row while it is in L1

class LinearWorker : public Napi::AsyncWorker {
 public:
  LinearWorker(Napi::Env env, Napi::Float32Array rows, size_t count, Napi::Float32Array weight, Napi::Float32Array bias,
               size_t in, size_t out, unsigned threads)
      : Napi::AsyncWorker(env, "bge-gguf:linear"),
        deferred_(Napi::Promise::Deferred::New(env)),
        rowsRef_(Napi::Persistent(rows)),
        weightRef_(Napi::Persistent(weight)),
        biasRef_(Napi::Persistent(bias)),
        rows_(rows.Data()),
        weight_(weight.Data()),
        bias_(bias.Data()),
        count_(count),
        in_(in),
        out_(out),
        threads_(threads) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    // Transposed (in x out) so the innermost loop runs over contiguous outputs: it vectorizes
    // without reassociating a sum, and each weight row is reused by a block of token rows.
    std::vector<float> transposed(in_ * out_);
    for (size_t o = 0; o < out_; ++o)
      for (size_t i = 0; i < in_; ++i) transposed[i * out_ + o] = weight_[o * in_ + i];
    result_.assign(count_ * out_, 0.0f);
    const size_t blocks = (count_ + kRowBlock - 1) / kRowBlock;
    const unsigned workers = static_cast<unsigned>(std::max<size_t>(1, std::min<size_t>(threads_, blocks)));
    auto run = [&](unsigned worker) {
      for (size_t b = worker; b < blocks; b += workers) {
        const size_t first = b * kRowBlock;
        const size_t last = std::min(count_, first + kRowBlock);
        for (size_t r = first; r < last; ++r) std::copy(bias_, bias_ + out_, result_.data() + r * out_);
        for (size_t i = 0; i < in_; ++i) {
          const float* w = transposed.data() + i * out_;
          for (size_t r = first; r < last; ++r) {
            const float x = rows_[r * in_ + i];
            float* y = result_.data() + r * out_;
            for (size_t o = 0; o < out_; ++o) y[o] += x * w[o];
          }
        }
      }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < workers; ++t) pool.emplace_back(run, t);
    run(0);
    for (auto& thread : pool) thread.join();
  }

  void OnOK() override {
    Napi::Float32Array out = Napi::Float32Array::New(Env(), result_.size());
    std::copy(result_.begin(), result_.end(), out.Data());
    deferred_.Resolve(out);
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::Float32Array> rowsRef_, weightRef_, biasRef_;  // keep the inputs alive
  const float* rows_;
  const float* weight_;
  const float* bias_;
  size_t count_, in_, out_;
  unsigned threads_;
  std::vector<float> result_;
};

size_t Count(Napi::Env env, const Napi::Value& value, const char* what) {
  const double n = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : -1.0;
  if (!(n >= 0 && n <= 1e9) || static_cast<double>(static_cast<size_t>(n)) != n) {
    throw CodedError(env, kInvalidInput, std::string("applyLinear: ") + what + " must be a non-negative integer");
  }
  return static_cast<size_t>(n);
}

Napi::Float32Array Floats(Napi::Env env, const Napi::Value& value, const char* what) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw CodedError(env, kInvalidInput, std::string("applyLinear: ") + what + " must be a Float32Array");
  }
  return value.As<Napi::Float32Array>();
}

}  // namespace

Napi::Value ApplyLinear(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Float32Array rows = Floats(env, info[0], "rows");
  const size_t count = Count(env, info[1], "count");
  Napi::Float32Array weight = Floats(env, info[2], "weight");
  Napi::Float32Array bias = Floats(env, info[3], "bias");
  const size_t threads = std::max<size_t>(1, Count(env, info[4], "threads"));
  const size_t out = bias.ElementLength();
  if (out == 0 || weight.ElementLength() % out != 0) throw CodedError(env, kInvalidInput, "applyLinear: weight is not out x in");
  const size_t in = weight.ElementLength() / out;
  if (rows.ElementLength() < count * in) throw CodedError(env, kInvalidInput, "applyLinear: rows holds fewer than count x in values");
  auto* worker = new LinearWorker(env, rows, count, weight, bias, in, out, static_cast<unsigned>(std::min<size_t>(threads, 64)));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace bge
