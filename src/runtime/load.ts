import { BgeGgufError } from '../errors.js';
import { createNodeLlamaCppEngine } from './nodeLlamaCpp.js';
import type { GgufFile } from '../gguf/types.js';
import type { Engine, EngineOptions } from './types.js';

export type EngineChoice = 'auto' | 'native' | 'node-llama-cpp';

let warned = false;

/**
 * What the fallback costs and how a user's project fixes it. Measured: 1,000 texts on 2 cores took
 * 276 s on node-llama-cpp (one sequence per decode) and 12.6 s on the native addon.
 */
export const FALLBACK_COST = 'about 20x slower (1,000 texts: 276 s instead of 12.6 s on 2 cores)';
export const NATIVE_FIX =
  'run `npm rebuild bge-gguf --build-from-source` in your project (needs cmake and a C++ compiler); `npx bge-gguf doctor` shows the details';

/**
 * The native engine when its addon loads; otherwise node-llama-cpp, with one warning (reason, cost, fix);
 * `engine: 'native'` makes that an error. An explicit `engine: 'node-llama-cpp'` does not warn.
 * BGE_GGUF_ENGINE=native|node-llama-cpp overrides 'auto'.
 * `gguf`: the file's header when the caller has already read it.
 */
export async function loadEngine(path: string, options: EngineOptions & { engine?: EngineChoice } = {}, gguf?: GgufFile): Promise<Engine> {
  const choice = options.engine && options.engine !== 'auto' ? options.engine : ((process.env.BGE_GGUF_ENGINE as EngineChoice | undefined) ?? 'auto');
  if (choice === 'node-llama-cpp') return createNodeLlamaCppEngine(path, options);
  let native: typeof import('./native.js');
  try {
    native = await import('./native.js');
    if (!native.isNativeAvailable()) throw new BgeGgufError('NATIVE_UNAVAILABLE', native.nativeLoadError() ?? 'the native addon is not built');
  } catch (cause) {
    const reason = (cause as Error)?.message ?? String(cause);
    if (choice === 'native') {
      throw new BgeGgufError('NATIVE_UNAVAILABLE', `engine 'native' was requested but ${reason}; to fix: ${NATIVE_FIX}`, { cause });
    }
    if (!warned) {
      warned = true;
      console.warn(
        `bge-gguf: the native addon cannot load (${reason}); running on node-llama-cpp instead, ${FALLBACK_COST}. ` +
          `To fix: ${NATIVE_FIX}. Pass engine: 'node-llama-cpp' to choose the fallback knowingly.`,
      );
    }
    return createNodeLlamaCppEngine(path, options);
  }
  return native.createNativeEngine(path, options, gguf);
}
