// llama.cpp sizes every context's output buffer for logits, n_vocab floats per output token, even
// when the model has no LM head and only embeddings come back, and zero-fills it. An encoder
// outputs every token, so a 512-token decode of a 30k-vocabulary BERT writes 60 MiB of zeros, and
// an 8k-token decode of bge-m3 (250k vocabulary) 8 GB. llama.cpp takes that buffer from the output
// device's host buffer type, which the CPU device leaves unset; this one hands out fresh anonymous
// mappings, which already read as zero, so the first clear is skipped and pages nothing writes
// never use memory. Everything else about the buffer is an ordinary host buffer.
#include "outputBuffer.h"

#include <cstring>

#include "ggml-backend-impl.h"

#ifdef _WIN32
#include <windows.h>
#else
#include <sys/mman.h>
#endif

namespace bge {

namespace {

struct Mapping {
  void* base = nullptr;
  size_t size = 0;
  bool fresh = true;  // nothing written yet through this interface: every byte is still zero
};

void* MapZeroed(size_t size) {
#ifdef _WIN32
  return VirtualAlloc(nullptr, size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
#else
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
#endif
}

void Unmap(void* base, size_t size) {
#ifdef _WIN32
  (void)size;
  VirtualFree(base, 0, MEM_RELEASE);
#else
  munmap(base, size);
#endif
}

Mapping* MappingOf(ggml_backend_buffer_t buffer) { return static_cast<Mapping*>(buffer->context); }

void FreeBuffer(ggml_backend_buffer_t buffer) {
  Mapping* m = MappingOf(buffer);
  Unmap(m->base, m->size);
  delete m;
}

void* GetBase(ggml_backend_buffer_t buffer) { return MappingOf(buffer)->base; }

void MemsetTensor(ggml_backend_buffer_t buffer, ggml_tensor* tensor, uint8_t value, size_t offset, size_t size) {
  MappingOf(buffer)->fresh = false;
  std::memset(static_cast<char*>(tensor->data) + offset, value, size);
}

void SetTensor(ggml_backend_buffer_t buffer, ggml_tensor* tensor, const void* data, size_t offset, size_t size) {
  MappingOf(buffer)->fresh = false;
  std::memcpy(static_cast<char*>(tensor->data) + offset, data, size);
}

void GetTensor(ggml_backend_buffer_t, const ggml_tensor* tensor, void* data, size_t offset, size_t size) {
  std::memcpy(data, static_cast<const char*>(tensor->data) + offset, size);
}

bool CopyTensor(ggml_backend_buffer_t buffer, const ggml_tensor* src, ggml_tensor* dst) {
  if (!ggml_backend_buffer_is_host(src->buffer)) return false;
  MappingOf(buffer)->fresh = false;
  std::memcpy(dst->data, src->data, ggml_nbytes(src));
  return true;
}

// llama.cpp clears the buffer right after allocating it; a fresh mapping is zero already.
void Clear(ggml_backend_buffer_t buffer, uint8_t value) {
  Mapping* m = MappingOf(buffer);
  const bool zero = m->fresh && value == 0;
  m->fresh = false;
  if (!zero) std::memset(m->base, value, buffer->size);
}

const ggml_backend_buffer_i kBufferInterface = {
    /* .free_buffer   = */ FreeBuffer,
    /* .get_base      = */ GetBase,
    /* .init_tensor   = */ nullptr,
    /* .memset_tensor = */ MemsetTensor,
    /* .set_tensor    = */ SetTensor,
    /* .get_tensor    = */ GetTensor,
    /* .set_tensor_2d = */ nullptr,
    /* .get_tensor_2d = */ nullptr,
    /* .cpy_tensor    = */ CopyTensor,
    /* .clear         = */ Clear,
    /* .reset         = */ nullptr,
};

const char* TypeName(ggml_backend_buffer_type_t) { return "CPU_LazyZero"; }

ggml_backend_buffer_t AllocBuffer(ggml_backend_buffer_type_t type, size_t size) {
  const size_t mapped = size == 0 ? 1 : size;
  void* base = MapZeroed(mapped);
  if (base == nullptr) return nullptr;  // llama.cpp reports the failed allocation
  auto* mapping = new Mapping{base, mapped, true};
  return ggml_backend_buffer_init(type, kBufferInterface, mapping, size);
}

size_t Alignment(ggml_backend_buffer_type_t) { return 64; }  // ggml's TENSOR_ALIGNMENT; mappings are page aligned

bool IsHost(ggml_backend_buffer_type_t) { return true; }

ggml_backend_buffer_type lazyZeroType = {
    /* .iface = */ {TypeName, AllocBuffer, Alignment, nullptr, nullptr, IsHost},
    /* .device = */ nullptr,
    /* .context = */ nullptr,
};

ggml_backend_buffer_type_t LazyZeroType(ggml_backend_dev_t) { return &lazyZeroType; }

}  // namespace

void UseLazyZeroOutputBuffers() {
  ggml_backend_dev_t cpu = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
  if (cpu == nullptr || cpu->iface.get_host_buffer_type == LazyZeroType) return;
  if (cpu->iface.get_host_buffer_type != nullptr) return;  // a CPU backend with its own host buffers: keep them
  lazyZeroType.device = cpu;
  cpu->iface.get_host_buffer_type = LazyZeroType;
}

}  // namespace bge
