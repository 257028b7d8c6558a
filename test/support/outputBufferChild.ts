/**
 * Child process for test/output-buffer-memory.test.ts: loads <model> on the native engine, encodes a
 * short sequence, then one of <tokens> tokens, and prints the peak RSS (MiB) before and after the long one.
 */
import { readFileSync } from 'node:fs';
import { createNativeEngine } from '../../src/runtime/native.js';

const [model, tokensArg] = process.argv.slice(2);
const peakMiB = () => Number(readFileSync('/proc/self/status', 'utf8').match(/VmHWM:\s+(\d+)/)![1]) / 1024;
const engine = await createNativeEngine(model, { threads: 1, parallelDecodes: 1, gpu: false });
const ids = (n: number) => Int32Array.from({ length: n }, (_, i) => 1000 + ((i * 7919) % 200000));
await engine.encodeBatch([ids(8)], 'cls');
const before = peakMiB();
const [vector] = await engine.encodeBatch([ids(Number(tokensArg))], 'cls');
const after = peakMiB();
await engine.dispose();
console.log(JSON.stringify({ before, after, finite: vector.every(Number.isFinite) }));
