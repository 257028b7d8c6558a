import { readGguf } from '../gguf/reader.js';
import { GgmlType, type GgufFile, type GgufTensorInfo } from '../gguf/types.js';
import { isAddonBuilt } from './nativeBinding.js';

/**
 * Which CPU build of llama.cpp should run a model, when both are built. Measured on this
 * project's AVX-512/AMX Xeon (docs/benchmarks.md): node-llama-cpp's prebuilt libraries are
 * about 2x faster on quantized weights (AMX kernels, weight repacking) and on par on F16, but
 * about 1.5x slower on F32, where their GCC 11 build spills tinyBLAS's accumulators to the
 * stack. So an F32 model goes to the from-source build (`npm run build:native -- --from-source`)
 * when it exists, everything else to the prebuilt one. `gguf`: the file's header when the caller
 * has already read it.
 */
export async function preferredCpuVariant(path: string, gguf?: GgufFile): Promise<'cpu' | 'source'> {
  if (process.env.BGE_GGUF_NATIVE_ADDON || !isAddonBuilt('source')) return 'cpu';
  try {
    return cpuVariantFor((gguf ?? (await readGguf(path))).tensors);
  } catch {
    return 'cpu'; // unreadable: llama.cpp's loader reports why
  }
}

/** 'source' when every weight matrix is F32, else 'cpu' (the prebuilt libraries). */
export function cpuVariantFor(tensors: readonly GgufTensorInfo[]): 'cpu' | 'source' {
  const matrices = tensors.filter((t) => t.shape.length >= 2);
  return matrices.length > 0 && matrices.every((t) => t.type === GgmlType.F32) ? 'source' : 'cpu';
}
