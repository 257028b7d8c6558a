#include "common.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "llama.h"

namespace bge {

Napi::Error CodedError(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

namespace {

thread_local bool tCapturing = false;
thread_local std::string tCaptured;
int gPrintLevel = GGML_LOG_LEVEL_NONE;  // NONE = print nothing

int PrintLevelFromEnv() {
  const char* value = std::getenv("BGE_GGUF_LOG");
  if (value == nullptr) return GGML_LOG_LEVEL_NONE;
  if (std::strcmp(value, "debug") == 0) return GGML_LOG_LEVEL_DEBUG;
  if (std::strcmp(value, "info") == 0) return GGML_LOG_LEVEL_INFO;
  if (std::strcmp(value, "warn") == 0) return GGML_LOG_LEVEL_WARN;
  if (std::strcmp(value, "error") == 0) return GGML_LOG_LEVEL_ERROR;
  return GGML_LOG_LEVEL_NONE;
}

void OnLog(ggml_log_level level, const char* text, void* /*user*/) {
  if (text == nullptr) return;
  // CONT continues the previous line; treat it like the level before it for printing.
  static thread_local int lastLevel = GGML_LOG_LEVEL_INFO;
  const int effective = level == GGML_LOG_LEVEL_CONT ? lastLevel : static_cast<int>(level);
  lastLevel = effective;
  if (gPrintLevel != GGML_LOG_LEVEL_NONE && effective >= gPrintLevel) {
    std::fputs(text, stderr);
  }
  if (tCapturing && effective >= GGML_LOG_LEVEL_WARN && tCaptured.size() < 4096) {
    tCaptured += text;
  }
}

}  // namespace

void BeginLogCapture() {
  tCapturing = true;
  tCaptured.clear();
}

std::string TakeCapturedLog() {
  tCapturing = false;
  std::string out;
  out.reserve(tCaptured.size());
  for (char c : tCaptured) out += (c == '\n' || c == '\r') ? ' ' : c;
  tCaptured.clear();
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

void InstallLogger() {
  gPrintLevel = PrintLevelFromEnv();
  llama_log_set(OnLog, nullptr);
}

AddonData* GetAddonData(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

}  // namespace bge
