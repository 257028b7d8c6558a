// bge-gguf native addon: a small Node-API surface over llama.cpp's C API for batched embeddings.
#include <napi.h>

#include <mutex>
#include <string>
#include <vector>

#include "common.h"
#include "context.h"
#include "heads.h"
#include "ggml-backend.h"
#include "llama.h"
#include "model.h"
#include "outputBuffer.h"
#include "kernels/backend.h"

#ifndef BGE_GGUF_DYNAMIC_BACKENDS
#define BGE_GGUF_DYNAMIC_BACKENDS 0
#endif

namespace bge {
namespace {

std::once_flag gInitOnce;

bool HasGpuDevice() {
  for (size_t i = 0; i < ggml_backend_dev_count(); ++i) {
    const auto type = ggml_backend_dev_type(ggml_backend_dev_get(i));
    if (type == GGML_BACKEND_DEVICE_TYPE_GPU || type == GGML_BACKEND_DEVICE_TYPE_IGPU) return true;
  }
  return false;
}

// init({backendsDir, fallbackBackendFiles}) once per addon: logger, ggml backends, llama backend.
// The fallback files are loaded only when backendsDir yields no GPU (e.g. CUDA built with its runtime).
// Prebuilt llama.cpp libraries load their backends (the CPU one best for this CPU, GPU ones)
// from a directory at run time; a from-source static build has them linked in.
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string backendsDir;
  std::vector<std::string> backendFiles;
  if (info.Length() > 0 && info[0].IsObject()) {
    Napi::Object options = info[0].As<Napi::Object>();
    if (options.Get("backendsDir").IsString()) backendsDir = options.Get("backendsDir").As<Napi::String>().Utf8Value();
    if (options.Get("fallbackBackendFiles").IsArray()) {
      Napi::Array files = options.Get("fallbackBackendFiles").As<Napi::Array>();
      for (uint32_t i = 0; i < files.Length(); ++i) {
        if (files.Get(i).IsString()) backendFiles.push_back(files.Get(i).As<Napi::String>().Utf8Value());
      }
    }
  }
  std::call_once(gInitOnce, [&] {
    InstallLogger();
    if (BGE_GGUF_DYNAMIC_BACKENDS) {
      if (!backendsDir.empty()) ggml_backend_load_all_from_path(backendsDir.c_str());
      for (const auto& file : backendFiles) {
        if (!HasGpuDevice()) ggml_backend_load(file.c_str());
      }
    }
    llama_backend_init();
    UseLazyZeroOutputBuffers();  // once the CPU backend is loaded, before any context
    // CPU-only addons: with a GPU the scheduler would weigh these kernels against the GPU backend
    // for the layers left on the CPU, a combination no one has measured.
    if (!HasGpuDevice()) RegisterKernelBackend();
  });
  return env.Undefined();
}

const char* DeviceTypeName(enum ggml_backend_dev_type type) {
  switch (type) {
    case GGML_BACKEND_DEVICE_TYPE_CPU: return "cpu";
    case GGML_BACKEND_DEVICE_TYPE_GPU: return "gpu";
    case GGML_BACKEND_DEVICE_TYPE_IGPU: return "igpu";
    case GGML_BACKEND_DEVICE_TYPE_ACCEL: return "accel";
    default: return "other";
  }
}

// devices() -> [{name, description, type, backend}] of every loaded ggml device.
Napi::Value Devices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const size_t count = ggml_backend_dev_count();
  Napi::Array out = Napi::Array::New(env, count);
  for (size_t i = 0; i < count; ++i) {
    ggml_backend_dev_t device = ggml_backend_dev_get(i);
    Napi::Object item = Napi::Object::New(env);
    item.Set("name", ggml_backend_dev_name(device));
    item.Set("description", ggml_backend_dev_description(device));
    item.Set("type", DeviceTypeName(ggml_backend_dev_type(device)));
    ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(device);
    item.Set("backend", reg != nullptr ? ggml_backend_reg_name(reg) : "");
    out.Set(static_cast<uint32_t>(i), item);
  }
  return out;
}

// cpuKernels() -> {isa, attention, matMul, gelu}: which of the addon's CPU kernels run ('ggml': none, llama.cpp's
// own do), and how many operations of each they have run.
Napi::Value CpuKernels(const Napi::CallbackInfo& info) {
  const KernelStatus status = GetKernelStatus();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("isa", status.isa);
  out.Set("attention", Napi::Number::New(info.Env(), static_cast<double>(status.attention)));
  out.Set("matMul", Napi::Number::New(info.Env(), static_cast<double>(status.matMul)));
  out.Set("gelu", Napi::Number::New(info.Env(), static_cast<double>(status.gelu)));
  return out;
}

Napi::Value SystemInfo(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), llama_print_system_info()); }

}  // namespace
}  // namespace bge

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  using namespace bge;
  auto* data = new AddonData();
  data->modelConstructor = Napi::Persistent(ModelWrap::Define(env));
  data->contextConstructor = Napi::Persistent(ContextWrap::Define(env));
  env.SetInstanceData<AddonData>(data);

  exports.Set("dynamicBackends", Napi::Boolean::New(env, BGE_GGUF_DYNAMIC_BACKENDS != 0));
  exports.Set("init", Napi::Function::New(env, Init, "init"));
  exports.Set("devices", Napi::Function::New(env, Devices, "devices"));
  exports.Set("cpuKernels", Napi::Function::New(env, CpuKernels, "cpuKernels"));
  exports.Set("systemInfo", Napi::Function::New(env, SystemInfo, "systemInfo"));
  exports.Set("loadModel", Napi::Function::New(env, LoadModel, "loadModel"));
  exports.Set("applyLinear", Napi::Function::New(env, ApplyLinear, "applyLinear"));
  return exports;
}

NODE_API_MODULE(bge_gguf, InitAddon)
