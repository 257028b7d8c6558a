// Contender (c): llama.cpp's own `llama-embedding` example, built from the bundled sources.
// It packs prompts in input order into decodes of up to -b tokens (and 256 sequences).
// Encode time comes from its log timestamps: first `batch_decode` line to the perf summary
// (decodes + pooling + normalization; no model load, no tokenization, no output printing —
// `--embd-output-format none` prints nothing). Its "prompt eval time" counter is not used:
// it reads 0 when all prompts fit in one decode.
import { writeFileSync } from 'node:fs';
import { runProcess } from '../child.mjs';

const SEPARATOR = '<|bench-separator|>';
const SEGFAULT_EXIT = 128 + 11;

/** Milliseconds of a `--log-timestamps` prefix (minutes.seconds.millis.micros). */
function stampMs(line) {
  const m = /^\S*?(\d+)\.(\d{2})\.(\d{3})\.(\d{3}) /.exec(line);
  return m ? (+m[1] * 60 + +m[2]) * 1000 + +m[3] + +m[4] / 1000 : null;
}

function parseLog(log) {
  const lines = log.split('\n');
  const decodeStamps = lines.filter((l) => l.includes('batch_decode: n_tokens')).map(stampMs);
  const endLine = lines.find((l) => l.includes('llama_perf_context_print:'));
  const end = endLine ? stampMs(endLine) : null;
  const tokens = lines.filter((l) => l.includes('batch_decode: n_tokens'))
    .reduce((sum, l) => sum + Number(/n_tokens = (\d+)/.exec(l)?.[1] ?? 0), 0);
  const rss = /Maximum resident set size \(kbytes\):\s*(\d+)/.exec(log);
  if (decodeStamps.length === 0 || decodeStamps.includes(null) || end == null || !rss) {
    throw new Error(`could not parse llama-embedding's log:\n${log.slice(-1500)}`);
  }
  const bounds = [...decodeStamps, end];
  return {
    encodeMs: end - decodeStamps[0],
    decodeMs: bounds.slice(1).map((t, i) => t - bounds[i]),
    tokens,
    maxRssMiB: Number(rss[1]) / 1024,
  };
}

/** Keeps the meaningful part of a failure log: llama.cpp's lines, not /usr/bin/time's report. */
function failureTail(log) {
  return log.split('\n').filter((l) => !l.startsWith('\t')).slice(-8).join('\n');
}

// (build, model) pairs whose quantized matmuls crash in ggml's AMX path (llama.cpp issue #20824;
// seen with GGML_NATIVE builds on Sapphire Rapids): those run with --no-repack, which keeps the
// weights in plain CPU buffers.
const needsNoRepack = new Set();

/**
 * Embeds `texts` with one llama-embedding process. build = { binary, cwd } from
 * scripts/build-llama-tools.mjs. batchTokens sets -c/-b/-ub (the example raises the batch to the
 * context size and encoders need ubatch = batch).
 */
export async function runLlamaEmbedding({ build, modelPath, texts, threads, batchTokens, workDir, tag, outputFormat = 'none', timeoutMs = 30 * 60_000 }) {
  const promptPath = `${workDir}/llama-embedding-${tag}.txt`;
  writeFileSync(promptPath, texts.join(SEPARATOR));
  const attempt = (noRepack) => runProcess('/usr/bin/time', [
    '-v', build.binary,
    '-m', modelPath, '-f', promptPath, '--embd-separator', SEPARATOR,
    '--pooling', 'cls', '--no-escape', '-t', String(threads), '-tb', String(threads),
    '-c', String(batchTokens), '-b', String(batchTokens), '-ub', String(batchTokens),
    '--embd-output-format', outputFormat, '--log-timestamps', '--log-prefix', '-lv', '4',
    // a context smaller than the default 256 parallel sequences trips an assert in llama.cpp
    ...(batchTokens < 256 ? ['-np', String(batchTokens)] : []),
    ...(noRepack ? ['--no-repack'] : []),
  ], { cwd: build.cwd, timeoutMs });
  const key = `${build.binary}\n${modelPath}`;
  let noRepack = needsNoRepack.has(key);
  let result = await attempt(noRepack);
  if (result.code === SEGFAULT_EXIT && !noRepack) {
    needsNoRepack.add(key);
    noRepack = true;
    result = await attempt(true);
  }
  if (result.code !== 0) throw new Error(`llama-embedding exited with ${result.code}:\n${failureTail(result.stderr)}`);
  // With printed vectors the perf summary may not reach the log before exit: such runs are not timed.
  if (outputFormat !== 'none') return { sample: parseFirstVectors(result.stdout, 3), noRepack };
  const parsed = parseLog(result.stderr);
  return { ...parsed, count: texts.length, decodes: parsed.decodeMs.length, noRepack, sample: [] };
}

/** The first n vectors of `--embd-output-format array` output ([[...],[...],...]). */
function parseFirstVectors(stdout, n) {
  const start = stdout.indexOf('[[');
  if (start < 0) return [];
  const out = [];
  let pos = start + 1;
  while (out.length < n) {
    const open = stdout.indexOf('[', pos);
    const close = stdout.indexOf(']', open);
    if (open < 0 || close < 0) break;
    out.push(stdout.slice(open + 1, close).split(',').map(Number));
    pos = close + 1;
  }
  return out;
}
