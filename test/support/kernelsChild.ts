/**
 * Child process for test/cpu-kernels.test.ts: reads {model, pooling, sequences} as JSON on stdin,
 * encodes the sequences in one call (one decode) on the native engine, and prints the pooled vectors
 * and the addon's CPU kernel status. The parent sets BGE_GGUF_CPU_KERNELS to pick the kernels.
 */
import { readFileSync } from 'node:fs';
import { createNativeEngine } from '../../src/runtime/native.js';
import { loadAddon } from '../../src/runtime/nativeBinding.js';
import type { Pooling } from '../../src/runtime/types.js';

const { model, pooling, sequences } = JSON.parse(readFileSync(0, 'utf8')) as { model: string; pooling: Pooling; sequences: number[][] };
const batchTokens = sequences.reduce((sum, s) => sum + s.length, 0);
const engine = await createNativeEngine(model, { threads: 2, parallelDecodes: 1, gpu: false, batchTokens, batchInvariant: false });
const vectors = await engine.encodeBatch(sequences.map((s) => Int32Array.from(s)), pooling);
await engine.dispose();
console.log(JSON.stringify({ kernels: loadAddon('cpu').addon.cpuKernels(), vectors: vectors.map((v) => Array.from(v)) }));
