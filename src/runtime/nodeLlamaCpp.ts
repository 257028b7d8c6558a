import { resolveThreads } from './threads.js';
import { BgeGgufError, DisposedError, InvalidInputError } from '../errors.js';
import { poolingFromGguf, type Engine, type EngineOptions, type ModelInfo, type Pooling, type TokenizeOptions } from './types.js';

/**
 * Fallback engine on node-llama-cpp's public API: one sequence per decode, pooling fixed
 * to the GGUF's pooling_type (node-llama-cpp does not let us choose it).
 */
export async function createNodeLlamaCppEngine(path: string, options: EngineOptions = {}): Promise<Engine> {
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
  const gpu = options.gpu === undefined || options.gpu === 'auto' ? 'auto' : options.gpu;
  let llama;
  let model;
  try {
    llama = await getLlama({ gpu, logLevel: LlamaLogLevel.error, build: 'never' });
    model = await llama.loadModel({ modelPath: path, useMmap: options.useMmap ?? true, gpuLayers: options.gpu === false ? 0 : 'auto' });
  } catch (cause) {
    throw new BgeGgufError('MODEL_LOAD_FAILED', `node-llama-cpp could not load ${path}: ${(cause as Error).message}`, { cause });
  }
  const meta = model.fileInfo.metadata as unknown as Record<string, Record<string, unknown>> & { general: { architecture: string; name?: string } };
  const arch = String(meta.general.architecture);
  const archMeta = (meta[arch] ?? {}) as Record<string, unknown>;
  const ggufPooling = poolingFromGguf(archMeta.pooling_type);
  const trainContextLength = model.trainContextSize;
  const info: ModelInfo = {
    arch,
    embeddingDim: model.embeddingVectorSize,
    trainContextLength,
    ggufPooling,
    causal: archMeta.causal_attention === undefined ? arch !== 'bert' : Boolean(archMeta.causal_attention),
    bosId: model.tokens.bos,
    eosId: model.tokens.eos ?? model.tokens.sep,
    addBos: model.tokens.shouldPrependBosToken,
    addEos: model.tokens.shouldAppendEosToken,
    vocabSize: (meta.tokenizer as unknown as { ggml: { tokens: unknown[] } })?.ggml?.tokens?.length ?? 0,
    name: String(meta.general.name ?? path),
  };
  const context = await model.createEmbeddingContext({
    threads: resolveThreads(options.threads),
    contextSize: trainContextLength + 1, // node-llama-cpp refuses inputs of length >= contextSize
    batchSize: trainContextLength + 1,
  });
  let disposed = false;
  const check = () => {
    if (disposed) throw new DisposedError('this model');
  };
  // Rank pooling: node-llama-cpp's ranking context (llama.cpp's RANK pooling) on our token ids. Its
  // public rank() builds its own pair, so the per-sequence evaluation is reached through its internal
  // method; it returns sigmoid(logit), turned back into the logit the native engine returns.
  let ranking: Awaited<ReturnType<typeof model.createRankingContext>> | null = null;
  const rankSequences = async (sequences: Int32Array[], signal?: AbortSignal): Promise<Float32Array[]> => {
    ranking ??= await model.createRankingContext({ contextSize: trainContextLength + 1, batchSize: trainContextLength + 1 });
    const evaluate = (ranking as unknown as { _evaluateRankingForInput?: (input: number[]) => Promise<number> })._evaluateRankingForInput;
    if (typeof evaluate !== 'function') {
      throw new BgeGgufError('UNSUPPORTED_MODEL', 'this node-llama-cpp version cannot score token ids for reranking; build the native addon (npm run build:native)');
    }
    const out: Float32Array[] = [];
    for (const sequence of sequences) {
      if (signal?.aborted) throw new BgeGgufError('CANCELLED', 'encoding was cancelled by its AbortSignal');
      const p = await evaluate.call(ranking, Array.from(sequence));
      out.push(Float32Array.of(Math.log(p) - Math.log1p(-p)));
    }
    return out;
  };

  return {
    kind: 'node-llama-cpp',
    info,
    limits: { batchTokens: trainContextLength, maxSequences: 1, parallelDecodes: 1 },
    tokenize(text: string, opts: TokenizeOptions): Int32Array {
      check();
      if (typeof text !== 'string') throw new InvalidInputError(`tokenize: expected a string, got ${typeof text}`);
      const content = model.tokenize(text, opts.parseSpecial ?? false) as number[];
      if (!opts.addSpecial) return Int32Array.from(content);
      const prefix = info.addBos && info.bosId !== null ? [info.bosId] : [];
      const sep = model.tokens.sep;
      const suffixId = arch === 'bert' ? sep : info.addEos ? info.eosId : null;
      return Int32Array.from([...prefix, ...content, ...(suffixId !== null && suffixId !== undefined ? [suffixId] : [])]);
    },
    detokenize(tokens: ArrayLike<number>): string {
      check();
      return model.detokenize(Array.from(tokens) as never);
    },
    async encodeBatch(sequences: Int32Array[], pooling: Pooling, signal?: AbortSignal): Promise<Float32Array[]> {
      check();
      if (pooling === 'rank') return rankSequences(sequences, signal);
      if (ggufPooling !== pooling) {
        throw new BgeGgufError('UNSUPPORTED_MODEL', `the node-llama-cpp fallback can only pool as the GGUF says (${ggufPooling ?? 'none'}), not '${pooling}'; the native addon pools any way (npm rebuild bge-gguf --build-from-source when it does not load)`);
      }
      const out: Float32Array[] = [];
      for (const sequence of sequences) {
        if (signal?.aborted) throw new BgeGgufError('CANCELLED', 'encoding was cancelled by its AbortSignal');
        for (const id of sequence) {
          if (!Number.isInteger(id) || id < 0 || id >= info.vocabSize) throw new InvalidInputError(`token id ${id} is outside the vocabulary (0..${info.vocabSize - 1})`);
        }
        const embedding = await context.getEmbeddingFor(Array.from(sequence) as never);
        out.push(Float32Array.from(embedding.vector));
      }
      return out;
    },
    async dispose(): Promise<void> {
      if (disposed) return;
      disposed = true;
      await ranking?.dispose();
      await context.dispose();
      await model.dispose();
    },
  };
}
