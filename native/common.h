// Shared helpers of the bge-gguf addon: coded JS errors, llama.cpp log capture, addon-wide data.
#pragma once

#include <napi.h>

#include <string>

namespace bge {

// Error codes the TypeScript side maps onto BgeGgufError subclasses.
constexpr const char* kInvalidInput = "INVALID_INPUT";
constexpr const char* kDisposed = "DISPOSED";
constexpr const char* kEncodeFailed = "ENCODE_FAILED";
constexpr const char* kCancelled = "CANCELLED";
constexpr const char* kLoadFailed = "MODEL_LOAD_FAILED";
constexpr const char* kNotFound = "MODEL_NOT_FOUND";
constexpr const char* kBusy = "BUSY";

Napi::Error CodedError(Napi::Env env, const char* code, const std::string& message);

// Starts collecting llama.cpp/ggml error and warning lines logged on the calling thread.
void BeginLogCapture();
// Returns (and clears) what was collected since BeginLogCapture on this thread, one line.
std::string TakeCapturedLog();
// Routes llama.cpp logs: captured per thread; printed to stderr when BGE_GGUF_LOG=debug|info|warn.
void InstallLogger();

struct AddonData {
  Napi::FunctionReference modelConstructor;
  Napi::FunctionReference contextConstructor;
};

AddonData* GetAddonData(Napi::Env env);

}  // namespace bge
