// llama.cpp's CPU flash attention (ggml-cpu's ops.cpp) copies and converts K, V and the mask for
// every 64-row tile of queries, for every head, in scalar code: on 512-token BERT passages it took
// 23-46% of the decode. Its F16/F32 matrix products reach about 0.4-0.6 of the F32 peak. This
// backend computes attention as two matrix products per head, and matrix products with F16/F32
// weights with a register-blocked kernel over packed panels of the weights (kernel.h); it takes no
// other operation but GELU (tanh approximation; ggml looks it up in a table indexed by x rounded to
// F16), computed in F32.
//
// How it gets the operations: it registers as a ggml "ACCEL" device, like ggml's BLAS backend.
// llama.cpp adds every ACCEL backend to each context's scheduler ahead of the CPU backend. The
// scheduler gives it a matrix product whose weights sit in a buffer it can read, and moves to it
// each attention whose inputs sit in host memory and whose compute buffer type (the CPU's) it
// shares. Weights never move: its buffer type is the CPU's, which llama.cpp skips when it places
// weights. Operations it declines run on the CPU as before. Each operation it takes is a graph split,
// which costs a thread wake-up on each side, so small ones are declined.
#include "backend.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ggml-backend-impl.h"
#include "ggml-backend.h"
#include "ggml.h"
#include "kernel.h"
#include "poolThreads.h"

namespace bge {

namespace {

constexpr const char* kName = "BGE-CPU";
constexpr double kMinFlopsPerThread = 4e6;
// Matrix products from these decode sizes on (one sequence per decode, 2 threads, an AMX Xeon,
// median ms of an all-MiniLM decode, llama.cpp's kernels → these): F32 13 tokens 4.8 → 5.8, 16:
// 5.8 → 5.6, 32: 11.0 → 7.9, 512: 172 → 77; F16 32: 6.3 → 6.9, 48: 10.1 → 8.8, 512: 122 → 70.
// Below, ggml's kernels for a few rows (AMX's for F16) and the graph splits win.
constexpr int64_t kMinMatMulRowsF32 = 16;
constexpr int64_t kMinMatMulRowsF16 = 48;
constexpr int64_t kMinGeluRows = 64;

std::atomic<uint64_t> gAttention{0};
std::atomic<uint64_t> gMatMuls{0};
std::atomic<uint64_t> gGelus{0};
bool gRegistered = false;

struct BackendState {
  explicit BackendState(ggml_threadpool_t threadpool) : pool(threadpool) {}
  int threads = 1;
  uint64_t generation = 0;
  kernels::PoolThreads pool;
  std::vector<kernels::Scratch> scratch;
  std::vector<std::vector<float>> panels;  // per thread: a packed panel of weights
};

void MatMul(BackendState& state, const ggml_tensor* dst) {
  const ggml_tensor* w = dst->src[0];
  const ggml_tensor* a = dst->src[1];
  kernels::MatMul g{};
  g.a = static_cast<const char*>(a->data);
  g.aRowBytes = a->nb[1];
  g.w = static_cast<const char*>(w->data);
  g.wRowBytes = w->nb[1];
  g.wF16 = w->type == GGML_TYPE_F16;
  g.c = static_cast<char*>(dst->data);
  g.cRowBytes = dst->nb[1];
  g.m = static_cast<int>(a->ne[1]);
  g.n = static_cast<int>(w->ne[1]);
  g.k = static_cast<int>(w->ne[0]);
  const int panels = g.n / 32;
  const int threads = std::min(state.threads, panels);
  if (static_cast<int>(state.panels.size()) < threads) state.panels.resize(threads);
  std::atomic<int> next{0};
  state.pool.Run(threads, [&](int thread) {
    for (int p = next++; p < panels; p = next++) kernels::MatMulPanels(g, p, p + 1, state.panels[thread]);
  });
  gMatMuls.fetch_add(1, std::memory_order_relaxed);
}

// Weights stay where llama.cpp put them; ggml's AMX buffer type keeps F16 weights unchanged
// (it repacks only the quantized types it has tiles for), so they are read there too.
bool ReadableWeights(const ggml_tensor* w) {
  if (w->buffer == nullptr || ggml_backend_buffer_get_usage(w->buffer) != GGML_BACKEND_BUFFER_USAGE_WEIGHTS) return false;
  ggml_backend_buffer_type_t buft = ggml_backend_buffer_get_type(w->buffer);
  return ggml_backend_buft_is_host(buft) || (w->type == GGML_TYPE_F16 && std::strcmp(ggml_backend_buft_name(buft), "AMX") == 0);
}

// A matrix product with F16/F32 weights over a large enough decode: below it, ggml's kernels for
// few rows and the graph splits this adds (a thread wake-up each) win.
bool SupportedMatMul(const ggml_tensor* op) {
  const ggml_tensor* w = op->src[0];
  const ggml_tensor* a = op->src[1];
  if (w == nullptr || a == nullptr || (w->type != GGML_TYPE_F16 && w->type != GGML_TYPE_F32)) return false;
  if (a->type != GGML_TYPE_F32 || op->type != GGML_TYPE_F32 || !ggml_is_contiguous(w) || !ReadableWeights(w)) return false;
  if (w->ne[2] != 1 || w->ne[3] != 1 || a->ne[2] != 1 || a->ne[3] != 1 || a->nb[0] != sizeof(float)) return false;
  if (op->nb[0] != sizeof(float) || op->ne[0] != w->ne[1] || op->ne[1] != a->ne[1]) return false;
  const int64_t minRows = w->type == GGML_TYPE_F16 ? kMinMatMulRowsF16 : kMinMatMulRowsF32;
  return a->ne[1] >= minRows && a->ne[1] <= INT32_MAX && kernels::SupportsMatMul(static_cast<int>(w->ne[1]), static_cast<int>(w->ne[0]));
}

// GELU over rows of a multiple of 16 floats, from kMinGeluRows rows (tokens).
bool SupportedGelu(const ggml_tensor* op) {
  const ggml_tensor* x = op->src[0];
  return ggml_get_unary_op(op) == GGML_UNARY_OP_GELU && x != nullptr && x->type == GGML_TYPE_F32 && op->type == GGML_TYPE_F32 &&
         ggml_is_contiguous(x) && ggml_is_contiguous(op) && ggml_nelements(x) == ggml_nelements(op) && x->ne[0] % 16 == 0 &&
         ggml_nrows(x) >= kMinGeluRows;
}

// Flash attention without ALiBi, soft-capping or sinks, F16/F32 K and V, rows contiguous.
bool SupportedAttention(const ggml_tensor* op) {
  const ggml_tensor* q = op->src[0];
  const ggml_tensor* k = op->src[1];
  const ggml_tensor* v = op->src[2];
  const ggml_tensor* mask = op->src[3];
  const ggml_tensor* sinks = op->src[4];
  if (q == nullptr || k == nullptr || v == nullptr || sinks != nullptr) return false;
  if (op->type != GGML_TYPE_F32 || q->type != GGML_TYPE_F32) return false;
  if (k->type != v->type || (k->type != GGML_TYPE_F16 && k->type != GGML_TYPE_F32)) return false;
  if (mask != nullptr && (mask->type != GGML_TYPE_F16 || mask->ne[0] < k->ne[1] || mask->ne[1] < q->ne[1] ||
                          mask->nb[0] != sizeof(uint16_t))) {
    return false;
  }
  float maxBias = 0.0f, softcap = 0.0f;
  std::memcpy(&maxBias, reinterpret_cast<const float*>(op->op_params) + 1, sizeof(float));
  std::memcpy(&softcap, reinterpret_cast<const float*>(op->op_params) + 2, sizeof(float));
  if (maxBias != 0.0f || softcap != 0.0f) return false;
  const int64_t dk = k->ne[0], dv = v->ne[0];
  if (q->ne[0] != dk || !kernels::Supports(static_cast<int>(dk), static_cast<int>(dv))) return false;
  if (q->nb[0] != sizeof(float) || k->nb[0] != ggml_type_size(k->type) || v->nb[0] != ggml_type_size(v->type)) return false;
  if (op->ne[0] != dv || op->nb[0] != sizeof(float) || !ggml_is_contiguous(op)) return false;
  if (q->ne[2] % k->ne[2] != 0 || q->ne[2] % v->ne[2] != 0 || q->ne[3] % k->ne[3] != 0 || q->ne[3] % v->ne[3] != 0) return false;
  return k->ne[1] == v->ne[1] && k->ne[1] <= INT32_MAX && q->ne[1] <= INT32_MAX;
}

bool Supported(const ggml_tensor* op) {
  switch (op->op) {
    case GGML_OP_FLASH_ATTN_EXT: return SupportedAttention(op);
    case GGML_OP_MUL_MAT: return SupportedMatMul(op);
    case GGML_OP_UNARY: return SupportedGelu(op);
    default: return false;
  }
}

void Gelu(BackendState& state, const ggml_tensor* dst) {
  const ggml_tensor* x = dst->src[0];
  const int64_t rows = ggml_nrows(x), width = x->ne[0];
  const int threads = static_cast<int>(std::min<int64_t>(state.threads, rows));
  state.pool.Run(threads, [&](int thread) {
    const int64_t r0 = rows * thread / threads, r1 = rows * (thread + 1) / threads;
    kernels::Gelu(static_cast<const float*>(x->data) + r0 * width, static_cast<float*>(dst->data) + r0 * width, static_cast<size_t>((r1 - r0) * width));
  });
  gGelus.fetch_add(1, std::memory_order_relaxed);
}

// dst[dv, head, row, stream] = attention(q[dk, row, head, stream], k, v, mask), as ggml defines it.
void FlashAttention(BackendState& state, const ggml_tensor* dst) {
  const ggml_tensor* q = dst->src[0];
  const ggml_tensor* k = dst->src[1];
  const ggml_tensor* v = dst->src[2];
  const ggml_tensor* mask = dst->src[3];
  float scale = 1.0f;
  std::memcpy(&scale, dst->op_params, sizeof(float));

  // Tasks are row ranges of one head, about four per thread: enough to even out the threads,
  // few enough that each converts a head's K and V about once.
  const int64_t rows = q->ne[1], heads = q->ne[2], streams = q->ne[3];
  const int64_t chunks = std::min<int64_t>((4 * state.threads + heads * streams - 1) / (heads * streams), (rows + 7) / 8);
  const int64_t rowsPerTask = ((rows + chunks - 1) / chunks + 7) / 8 * 8;
  const int64_t tasks = streams * heads * chunks;
  // Waking a thread costs tens of microseconds: small operations (short decodes) run on one.
  const double flops = 2.0 * rows * k->ne[1] * (k->ne[0] + v->ne[0]) * heads * streams;
  const int threads = flops < kMinFlopsPerThread ? 1 : static_cast<int>(std::min<int64_t>(state.threads, tasks));
  if (static_cast<int>(state.scratch.size()) < threads) state.scratch.resize(threads);
  const uint64_t generation = ++state.generation;
  std::atomic<int64_t> next{0};

  state.pool.Run(threads, [&](int thread) {
    kernels::Scratch& scratch = state.scratch[thread];
    for (int64_t task = next++; task < tasks; task = next++) {
      const int64_t chunk = task % chunks;
      const int64_t head = task / chunks % heads;
      const int64_t stream = task / chunks / heads;
      const int64_t kHead = head / (heads / k->ne[2]), vHead = head / (heads / v->ne[2]);
      const int64_t kStream = stream / (streams / k->ne[3]), vStream = stream / (streams / v->ne[3]);
      kernels::Head h{};
      h.q = static_cast<const char*>(q->data) + head * q->nb[2] + stream * q->nb[3];
      h.qRowBytes = q->nb[1];
      h.k = static_cast<const char*>(k->data) + kHead * k->nb[2] + kStream * k->nb[3];
      h.kRowBytes = k->nb[1];
      h.v = static_cast<const char*>(v->data) + vHead * v->nb[2] + vStream * v->nb[3];
      h.vRowBytes = v->nb[1];
      h.kvF16 = k->type == GGML_TYPE_F16;
      if (mask != nullptr) {
        h.mask = reinterpret_cast<const uint16_t*>(static_cast<const char*>(mask->data) + (head % mask->ne[2]) * mask->nb[2] +
                                                   (stream % mask->ne[3]) * mask->nb[3]);
        h.maskRowBytes = mask->nb[1];
      }
      // ggml's output is permuted: one row of dv floats per (stream, row, head).
      h.out = static_cast<char*>(dst->data) + (stream * dst->ne[2] * dst->ne[1] + head) * dst->nb[1];
      h.outRowBytes = dst->ne[1] * dst->nb[1];
      h.n = static_cast<int>(rows);
      h.nKv = static_cast<int>(k->ne[1]);
      h.dk = static_cast<int>(k->ne[0]);
      h.dv = static_cast<int>(v->ne[0]);
      h.scale = scale;
      const int64_t row0 = chunk * rowsPerTask;
      if (row0 >= rows) continue;
      kernels::AttendRows(h, static_cast<int>(row0), static_cast<int>(std::min(rows, row0 + rowsPerTask)), scratch, generation);
    }
  });
  gAttention.fetch_add(1, std::memory_order_relaxed);
}

// --- backend ---

BackendState* StateOf(ggml_backend_t backend) { return static_cast<BackendState*>(backend->context); }

const char* BackendName(ggml_backend_t) { return kName; }

void BackendFree(ggml_backend_t backend) {
  delete StateOf(backend);
  delete backend;
}

ggml_status GraphCompute(ggml_backend_t backend, ggml_cgraph* graph) {
  for (int i = 0; i < ggml_graph_n_nodes(graph); i++) {
    const ggml_tensor* node = ggml_graph_node(graph, i);
    switch (node->op) {
      case GGML_OP_NONE:
      case GGML_OP_RESHAPE:
      case GGML_OP_VIEW:
      case GGML_OP_PERMUTE:
      case GGML_OP_TRANSPOSE:
        break;
      case GGML_OP_FLASH_ATTN_EXT:
        FlashAttention(*StateOf(backend), node);
        break;
      case GGML_OP_MUL_MAT:
        MatMul(*StateOf(backend), node);
        break;
      case GGML_OP_UNARY:
        Gelu(*StateOf(backend), node);
        break;
      default:
        return GGML_STATUS_FAILED;
    }
  }
  return GGML_STATUS_SUCCESS;
}

void SetThreads(ggml_backend_t backend, int threads) { StateOf(backend)->threads = std::max(1, threads); }

ggml_guid_t Guid() {
  static ggml_guid guid = {0x62, 0x67, 0x65, 0x2d, 0x67, 0x67, 0x75, 0x66, 0x2d, 0x61, 0x74, 0x74, 0x6e, 0x00, 0x00, 0x01};
  return &guid;
}

ggml_backend_i BackendInterface() {
  ggml_backend_i i{};
  i.get_name = BackendName;
  i.free = BackendFree;
  i.graph_compute = GraphCompute;
  return i;
}

// --- device and registry ---

const char* DeviceName(ggml_backend_dev_t) { return kName; }
const char* DeviceDescription(ggml_backend_dev_t) { return "bge-gguf CPU kernels"; }
void DeviceMemory(ggml_backend_dev_t, size_t* free, size_t* total) { *free = *total = 0; }
enum ggml_backend_dev_type DeviceType(ggml_backend_dev_t) { return GGML_BACKEND_DEVICE_TYPE_ACCEL; }

void DeviceProps(ggml_backend_dev_t dev, ggml_backend_dev_props* props) {
  std::memset(props, 0, sizeof(*props));
  props->name = DeviceName(dev);
  props->description = DeviceDescription(dev);
  props->type = GGML_BACKEND_DEVICE_TYPE_ACCEL;
}

ggml_backend_t InitBackend(ggml_backend_dev_t dev, const char*) {
  return new ggml_backend{Guid(), BackendInterface(), dev, new BackendState(kernels::PoolForNewContext())};
}

// The CPU's: compute buffers are shared with the CPU backend, and llama.cpp never puts weights in it.
ggml_backend_buffer_type_t DeviceBufferType(ggml_backend_dev_t) { return ggml_backend_cpu_buffer_type(); }
bool DeviceSupportsOp(ggml_backend_dev_t, const ggml_tensor* op) { return Supported(op); }
bool DeviceSupportsBufferType(ggml_backend_dev_t, ggml_backend_buffer_type_t buft) {
  return ggml_backend_buft_is_host(buft) || std::strcmp(ggml_backend_buft_name(buft), "AMX") == 0;  // see ReadableWeights
}
bool DeviceOffloadOp(ggml_backend_dev_t, const ggml_tensor*) { return false; }

const char* RegName(ggml_backend_reg_t) { return kName; }
size_t RegDeviceCount(ggml_backend_reg_t) { return 1; }
ggml_backend_dev_t RegDevice(ggml_backend_reg_t reg, size_t index);
void* RegProcAddress(ggml_backend_reg_t, const char* name) {
  // llama.cpp passes each decode's thread count to every backend that has this function.
  if (std::strcmp(name, "ggml_backend_set_n_threads") == 0) return reinterpret_cast<void*>(&SetThreads);
  return nullptr;
}

ggml_backend_reg gRegistry;
ggml_backend_device gDevice;

ggml_backend_dev_t RegDevice(ggml_backend_reg_t, size_t index) { return index == 0 ? &gDevice : nullptr; }

const char* IsaName() { return gRegistered ? kernels::KernelIsa() : "ggml"; }

}  // namespace

void RegisterKernelBackend() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* choice = std::getenv("BGE_GGUF_CPU_KERNELS");
    if (choice != nullptr && std::string(choice) == "ggml") return;
    if (!kernels::Available()) return;
    ggml_backend_device_i device{};
    device.get_name = DeviceName;
    device.get_description = DeviceDescription;
    device.get_memory = DeviceMemory;
    device.get_type = DeviceType;
    device.get_props = DeviceProps;
    device.init_backend = InitBackend;
    device.get_buffer_type = DeviceBufferType;
    device.supports_op = DeviceSupportsOp;
    device.supports_buft = DeviceSupportsBufferType;
    device.offload_op = DeviceOffloadOp;
    gDevice = ggml_backend_device{device, &gRegistry, nullptr};
    ggml_backend_reg_i registry{};
    registry.get_name = RegName;
    registry.get_device_count = RegDeviceCount;
    registry.get_device = RegDevice;
    registry.get_proc_address = RegProcAddress;
    gRegistry = ggml_backend_reg{GGML_BACKEND_API_VERSION, registry, nullptr};
    ggml_backend_register(&gRegistry);
    gRegistered = true;
  });
}

KernelStatus GetKernelStatus() {
  return {IsaName(), gAttention.load(std::memory_order_relaxed), gMatMuls.load(std::memory_order_relaxed), gGelus.load(std::memory_order_relaxed)};
}

}  // namespace bge
