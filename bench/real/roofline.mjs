// FLOP count of a BERT encoder pass and the CPU's F32 FLOP roofline, derived from /proc/cpuinfo.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Multiply-add FLOPs (2 per MAC) of one sequence of `tokens` through the encoder (matmuls and attention). */
export function encoderFlops(config, tokens) {
  const h = config.hidden_size;
  const f = config.intermediate_size;
  const perLayer = 2 * tokens * (4 * h * h + 2 * h * f) + 2 * 2 * tokens * tokens * h;
  return perLayer * config.num_hidden_layers;
}

/**
 * F32 peak of `threads` cores: SIMD lanes (AVX-512: 16, AVX2: 8, SSE: 4) x 2 (FMA) x FMA units per core
 * (BGE_GGUF_BENCH_FMA_UNITS, default 2 as on server cores) x clock (the highest "cpu MHz" reported).
 */
export function cpuRoofline(threads) {
  let text = '';
  try { text = readFileSync('/proc/cpuinfo', 'utf8'); } catch { /* not Linux */ }
  const flags = new Set((text.match(/^flags\s*:(.*)$/m)?.[1] ?? '').trim().split(/\s+/));
  const mhzList = [...text.matchAll(/^cpu MHz\s*:\s*([\d.]+)/gm)].map((m) => Number(m[1]));
  const mhz = mhzList.length ? Math.max(...mhzList) : Math.max(...cpus().map((c) => c.speed));
  const lanes = flags.has('avx512f') ? 16 : flags.has('avx2') && flags.has('fma') ? 8 : 4;
  const fmaUnits = Number(process.env.BGE_GGUF_BENCH_FMA_UNITS ?? 2);
  const cores = Math.min(threads, cpus().length);
  const gflops = (cores * lanes * 2 * (flags.has('fma') ? fmaUnits : 1) * mhz) / 1000;
  const isa = lanes === 16 ? 'AVX-512' : lanes === 8 ? 'AVX2' : 'SSE';
  const extras = ['avx512_vnni', 'avx_vnni', 'avx512_bf16', 'amx_tile'].filter((f) => flags.has(f));
  return { gflops, cores, mhz, lanes, fmaUnits, isa, extras, model: text.match(/^model name\s*:\s*(.*)$/m)?.[1] ?? cpus()[0]?.model };
}
