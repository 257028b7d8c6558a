import { BgeGgufError } from '../errors.js';
import { createNodeLlamaCppEngine } from './nodeLlamaCpp.js';
import type { GgufFile } from '../gguf/types.js';
import type { Engine, EngineOptions } from './types.js';

export type EngineChoice = 'auto' | 'native' | 'node-llama-cpp';

let warned = false;

/**
 * The native engine when its addon loads; otherwise node-llama-cpp, with one warning line.
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
    if (choice === 'native') throw cause instanceof BgeGgufError ? cause : new BgeGgufError('NATIVE_UNAVAILABLE', String(cause), { cause });
    if (!warned) {
      warned = true;
      console.warn(`bge-gguf: native addon unavailable (${(cause as Error).message}); using node-llama-cpp (slower). Run \`npm run build:native\` to fix.`);
    }
    return createNodeLlamaCppEngine(path, options);
  }
  return native.createNativeEngine(path, options, gguf);
}
