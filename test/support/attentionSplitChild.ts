/**
 * Child process for test/attention-split.test.ts: encodes sequences of the given lengths (and one
 * packed batch of 8 short ones) with three engines on <model>: flashAttention unset (the default),
 * true and false. Prints, per case, which pinned engine the default one equals bit for bit
 * ('flash', 'plain', 'both' or 'neither'), the addon's attention kernel, and the default engine's
 * vectors of the short sequences (for the float64 comparison in the parent).
 */
import { createNativeEngine } from '../../src/runtime/native.js';
import { loadAddon } from '../../src/runtime/nativeBinding.js';
import type { Engine } from '../../src/runtime/types.js';

const [model, lengthsArg] = process.argv.slice(2);
const lengths = lengthsArg.split(',').map(Number);
const sequence = (length: number) => Int32Array.from({ length }, (_, i) => (i === 0 ? 101 : i === length - 1 ? 102 : 1000 + ((i * 7919) % 28000)));
const options = { threads: 2, parallelDecodes: 1, gpu: false } as const;
const engines = {
  auto: await createNativeEngine(model, options),
  flash: await createNativeEngine(model, { ...options, flashAttention: true }),
  plain: await createNativeEngine(model, { ...options, flashAttention: false }),
} satisfies Record<string, Engine>;
const bytes = (vectors: Float32Array[]) => Buffer.concat(vectors.map((v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength)));

async function matches(batch: Int32Array[]): Promise<{ equals: string; vectors: number[][] }> {
  const [auto, flash, plain] = await Promise.all([engines.auto, engines.flash, engines.plain].map((e) => e.encodeBatch(batch, 'cls')));
  const isFlash = bytes(auto).equals(bytes(flash));
  const isPlain = bytes(auto).equals(bytes(plain));
  return { equals: isFlash && isPlain ? 'both' : isFlash ? 'flash' : isPlain ? 'plain' : 'neither', vectors: auto.map((v) => Array.from(v)) };
}

const results: Record<string, { equals: string; vectors: number[][] }> = {};
for (const length of lengths) results[length] = await matches([sequence(length)]);
results.packed = await matches(Array.from({ length: 8 }, (_, i) => sequence(10 + i))); // 108 tokens
for (const engine of Object.values(engines)) await engine.dispose();
console.log(JSON.stringify({ kernel: loadAddon('cpu').addon.cpuKernels().isa, results }));
