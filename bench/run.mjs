#!/usr/bin/env node
// `npm run bench`: bge-gguf vs node-llama-cpp vs llama.cpp's llama-embedding on the same texts,
// the same random-weight BGE-shaped GGUFs and the same thread count. See docs/benchmarks.md.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readArgs } from './args.mjs';
import { runWorker } from './child.mjs';
import { runLlamaEmbedding } from './contenders/llama-embedding.mjs';
import { lengthStats, loadExampleTexts, percentile, repeatTo } from './corpus.mjs';
import { ensureModel } from './models.mjs';
import { addonComparison, evaluateTargets, latencyTable, targetsTable, throughputTable, writeJson } from './report.mjs';
import { openTokenCounter } from './tokens.mjs';
import { buildLlamaTools } from '../scripts/build-llama-tools.mjs';
import { defaultExamplesDir } from '../dist/prompt/taskExamples.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const examplesDir = defaultExamplesDir();
const workDir = join(root, '.cache', 'bench-tmp');
const SHORT_QUERY_MAX_TOKENS = 16;
const WARMUP_TEXTS = 8;
const LLAMA_BATCHES = { passages: [512, 1024], queries: [128, 512] };
// bge-gguf's native addon variants (src/runtime/nativeBinding.ts: BGE_GGUF_NATIVE_ADDON picks one).
const ADDON_ENV = { prebuilt: 'cpu', source: 'source' };
const ADDON_FILE = { prebuilt: 'bge_gguf.node', source: 'bge_gguf_source.node' };

/** The addon variants to measure: those asked for, else every one that is built (prebuilt first). */
function addonVariants(asked) {
  for (const a of asked) if (!(a in ADDON_ENV)) throw new Error(`unknown addon "${a}"; use ${Object.keys(ADDON_ENV).join(', ')}`);
  if (asked.length) return asked;
  const built = Object.keys(ADDON_FILE).filter((a) => existsSync(join(root, 'build', 'Release', ADDON_FILE[a])));
  return built.length ? built : ['prebuilt'];
}

const log = (msg) => console.log(`[bench ${((performance.now()) / 1000).toFixed(0).padStart(4)}s] ${msg}`);

function cosine(a, b) {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return dot / Math.sqrt(na * nb);
}

function summarizeLatency(samples, tokens) {
  if (!samples?.length) return null;
  return { tokens, samples: samples.length, medianMs: percentile(samples, 50), p90Ms: percentile(samples, 90), minMs: Math.min(...samples) };
}

function row(workload, contender, config, set, res) {
  const seconds = res.encodeMs / 1000;
  return {
    workload, contender, config, texts: set.texts.length, tokens: set.tokens,
    encodeMs: res.encodeMs, textsPerSec: set.texts.length / seconds, tokensPerSec: set.tokens / seconds,
    maxRssMiB: res.maxRssMiB, loadMs: res.loadMs ?? null, engine: res.engine ?? null,
    tokensReported: res.tokens ?? null, decodes: res.decodes ?? null, sample: res.sample,
  };
}

/** Corpus and query sets with their token statistics. */
async function buildWorkloads(args, tokenizerModel) {
  const { texts } = loadExampleTexts(examplesDir);
  const counter = await openTokenCounter(tokenizerModel);
  try {
    const lengthOf = new Map(texts.map((t) => [t, counter.count(t)]));
    const set = (list) => ({ texts: list, tokens: list.reduce((s, t) => s + lengthOf.get(t), 0), lengths: lengthStats(list.map((t) => lengthOf.get(t))) });
    const fits = texts.filter((t) => lengthOf.get(t) <= 512);
    const short = texts.filter((t) => lengthOf.get(t) <= SHORT_QUERY_MAX_TOKENS);
    const queryLength = percentile(short.map((t) => lengthOf.get(t)), 50);
    const latencyPool = short.filter((t) => lengthOf.get(t) === queryLength);
    return {
      distinctTexts: texts.length,
      droppedOver512: texts.length - fits.length,
      passages: set(repeatTo(fits, args.passages)),
      queries: set(repeatTo(short, args.queries)),
      latency: { texts: repeatTo(latencyPool, args.latency), tokens: queryLength, distinct: latencyPool.length },
    };
  } finally {
    await counter.dispose();
  }
}

async function runJsContender(contender, modelPath, workload, set, args, latencyTexts, env) {
  const textsPath = join(workDir, `${workload}.json`);
  const jobPath = join(workDir, `job-${contender}-${workload}.json`);
  writeFileSync(jobPath, JSON.stringify({
    modelPath, textsPath, workload, threads: args.threads, warmup: WARMUP_TEXTS, latencyTexts,
    batchInvariant: contender === 'bge-gguf-invariant',
  }));
  // bge-gguf-invariant is the bge-gguf worker with batchInvariant on
  const script = join(root, 'bench', 'contenders', `${contender === 'bge-gguf-invariant' ? 'bge-gguf' : contender}.mjs`);
  return runWorker(script, jobPath, { env });
}

async function benchModel(run, wl, args, llamaBuilds) {
  const modelPath = await ensureModel(root, run.model, run.type, log);
  const rows = [];
  const latency = {};
  const bge = args.contenders.includes('bge-gguf');
  const variants = args.addons;
  for (const workload of ['passages', 'queries']) {
    const set = wl[workload];
    writeFileSync(join(workDir, `${workload}.json`), JSON.stringify(set.texts));
    const latencyTexts = workload === 'queries' ? wl.latency.texts : [];
    const jsContenders = [
      ...(bge ? variants.map((v) => ['bge-gguf', v]) : []),
      ...(args.contenders.includes('bge-gguf-invariant') ? [['bge-gguf-invariant', variants[0]]] : []),
      ...(args.contenders.includes('node-llama-cpp') ? [['node-llama-cpp', null]] : []),
    ];
    for (const [contender, addon] of jsContenders) {
      const label = addon;
      log(`${run.model} ${run.type} ${workload}: ${contender}${label ? ` (${label} addon)` : ''}`);
      try {
        const env = addon ? { ...process.env, BGE_GGUF_NATIVE_ADDON: ADDON_ENV[addon] } : process.env;
        const res = await runJsContender(contender, modelPath, workload, set, args, latencyTexts, env);
        rows.push(row(workload, contender, label, set, res));
        const latencyKey = addon ? `${contender} (${label})` : contender;
        if (res.latencyMs?.length) latency[latencyKey] = summarizeLatency(res.latencyMs.slice(1), wl.latency.tokens);
      } catch (error) {
        log(`  failed: ${error.message}`);
        rows.push({ workload, contender, config: label, error: error.message.split('\n')[0] });
      }
    }
    const batches = (args.llamaBatches ?? LLAMA_BATCHES[workload]).filter((b) => b >= set.lengths.max);
    for (const build of llamaBuilds) {
      for (const batch of batches) {
        const config = `${build.name} -b ${batch}`;
        log(`${run.model} ${run.type} ${workload}: llama-embedding (${config})`);
        try {
          const res = await runLlamaEmbedding({ build, modelPath, texts: set.texts, threads: args.threads, batchTokens: batch, workDir, tag: workload });
          if (res.tokens !== set.tokens) log(`  note: llama-embedding decoded ${res.tokens} tokens, the bench counted ${set.tokens}`);
          rows.push(row(workload, 'llama-embedding', `${config}${res.noRepack ? ' --no-repack' : ''}`, set, res));
        } catch (error) {
          log(`  failed: ${error.message}`);
          rows.push({ workload, contender: 'llama-embedding', config, error: error.message.split('\n')[0] });
        }
      }
    }
    if (llamaBuilds.length) await attachLlamaSample(rows, workload, set, { build: llamaBuilds[0], modelPath, threads: args.threads, workDir });
  }
  for (const build of llamaBuilds) {
    // One sequence per decode: the batch holds exactly one query of the latency length.
    log(`${run.model} ${run.type} latency: llama-embedding (${build.name}) one-sequence decodes`);
    try {
      const res = await runLlamaEmbedding({ build, modelPath, texts: wl.latency.texts, threads: args.threads, batchTokens: wl.latency.tokens, workDir, tag: 'latency' });
      if (res.decodes !== wl.latency.texts.length) throw new Error(`expected ${wl.latency.texts.length} one-sequence decodes, saw ${res.decodes}`);
      latency[`llama-embedding (${build.name}${res.noRepack ? ' --no-repack' : ''})`] = summarizeLatency(res.decodeMs.slice(1), wl.latency.tokens);
    } catch (error) {
      log(`  failed: ${error.message}`);
    }
  }
  return { ...run, modelPath, rows, latency, agreement: agreement(rows) };
}

/** llama-embedding's first vectors of a workload (a separate small run: timed runs print nothing). */
async function attachLlamaSample(rows, workload, set, { build, modelPath, threads, workDir }) {
  const llamaRows = rows.filter((r) => r.workload === workload && r.contender === 'llama-embedding' && !r.error);
  if (llamaRows.length === 0) return;
  try {
    // Filler texts after the three wanted: llama-embedding's asynchronous log can lose the tail of
    // its output at exit when stdout is a pipe.
    const texts = [...set.texts.slice(0, 3), ...Array(16).fill('filler')];
    const res = await runLlamaEmbedding({ build, modelPath, texts, threads, batchTokens: 1024, workDir, tag: 'sample', outputFormat: 'array' });
    if (res.sample.length < 3) throw new Error(`only ${res.sample.length} vectors came back`);
    for (const r of llamaRows) r.sample = res.sample;
  } catch (error) {
    log(`  llama-embedding sample run failed: ${error.message}`);
  }
}

/** Cosine of bge-gguf's first vectors against each peer's: all contenders must embed alike. */
function agreement(rows) {
  const out = {};
  for (const workload of ['passages', 'queries']) {
    const ours = rows.find((r) => r.workload === workload && r.contender === 'bge-gguf' && r.sample?.length);
    if (!ours) continue;
    for (const peer of rows.filter((r) => r.workload === workload && r !== ours && r.sample?.length)) {
      const key = `${workload} vs ${peer.contender}${peer.contender === 'bge-gguf' ? ` (${peer.config})` : ''}`;
      const n = Math.min(ours.sample.length, peer.sample.length);
      const minCos = Math.min(...ours.sample.slice(0, n).map((v, i) => cosine(v, peer.sample[i])));
      out[key] = Math.min(out[key] ?? 1, minCos);
    }
  }
  return out;
}

/** Prints the throughput, latency and target tables of measured runs; returns the target verdicts. */
function printReport(runs, args) {
  const verdicts = evaluateTargets(runs);
  console.log(`\nThroughput (${args.threads} threads; * = a slower llama-embedding setting; ratio = bge-gguf texts/s over the peer's best)\n`);
  console.log(throughputTable(runs));
  console.log(`\nSingle short query latency (median of ${args.latency - 1}; llama-embedding: one sequence per decode, log-timestamp gaps)\n`);
  console.log(latencyTable(runs));
  console.log('\nTargets (issue 5)\n');
  console.log(targetsTable(verdicts));
  const addonLines = addonComparison(runs);
  if (addonLines.length) console.log(`\nNative addon, texts/s and latency ratios:\n${addonLines.join('\n')}`);
  for (const r of runs) {
    const parts = Object.entries(r.agreement ?? {}).map(([k, v]) => `${k} ${v.toFixed(5)}`);
    if (parts.length) console.log(`agreement ${r.model} ${r.type} (min cosine of first vectors): ${parts.join('; ')}`);
  }
  return verdicts;
}

async function main() {
  if (process.argv.includes('--real') || process.argv.includes('--gpu')) {
    // The real-checkpoint comparison with transformers.js and FlagEmbedding (issue 15), or with --gpu the
    // GPU addon against the CPU on the same texts: bench/real/.
    const { runReal } = await import('./real/run-real.mjs');
    await runReal(process.argv.slice(2));
    return;
  }
  const args = readArgs(process.argv.slice(2));
  if (args.report) {
    // Re-print a saved run's tables (with this version's report code) without measuring anything.
    const record = JSON.parse(readFileSync(args.report, 'utf8'));
    printReport(record.runs, record.args);
    return;
  }
  args.addons = addonVariants(args.addons);
  const startedAt = new Date().toISOString();
  mkdirSync(workDir, { recursive: true });
  const loadAtStart = loadavg()[0];
  if (loadAtStart > 0.5) log(`warning: load average ${loadAtStart.toFixed(1)} — other processes share the cores; numbers will be noisy`);
  const llamaBuilds = args.contenders.includes('llama-embedding') ? buildLlamaTools({ quiet: true }) : [];

  const firstModel = await ensureModel(root, args.runs[0].model, args.runs[0].type, log);
  const wl = await buildWorkloads(args, firstModel);
  log(`corpus: ${wl.distinctTexts} distinct texts from ${examplesDir}; passages ${wl.passages.texts.length} texts, ${wl.passages.tokens} tokens, lengths ${JSON.stringify(wl.passages.lengths)}`);
  log(`queries: ${wl.queries.texts.length} texts (<= ${SHORT_QUERY_MAX_TOKENS} tokens), lengths ${JSON.stringify(wl.queries.lengths)}; latency: ${wl.latency.texts.length} single queries of ${wl.latency.tokens} tokens`);

  const runs = [];
  for (const run of args.runs) runs.push(await benchModel(run, wl, args, llamaBuilds));

  const verdicts = printReport(runs, args);
  const totalSeconds = performance.now() / 1000;
  const record = {
    startedAt, totalSeconds, args,
    machine: { cpu: cpus()[0]?.model, logicalCores: cpus().length, node: process.version, loadAverage: { start: loadAtStart, end: loadavg()[0] } },
    corpus: {
      source: examplesDir, distinctTexts: wl.distinctTexts, droppedOver512: wl.droppedOver512,
      passages: { texts: wl.passages.texts.length, tokens: wl.passages.tokens, lengths: wl.passages.lengths },
      queries: { texts: wl.queries.texts.length, tokens: wl.queries.tokens, lengths: wl.queries.lengths },
      latency: { samples: wl.latency.texts.length, tokens: wl.latency.tokens, distinct: wl.latency.distinct },
    },
    runs: runs.map((r) => ({ ...r, rows: r.rows.map(({ sample, ...rest }) => rest) })),
    targets: verdicts,
  };
  const path = writeJson(record, root, args.out);
  console.log(`\nwrote ${path} (and bench/results/latest.json); total ${totalSeconds.toFixed(0)} s`);
}

main().catch((error) => {
  console.error(`bench: ${process.env.BENCH_DEBUG ? error.stack : error.message}`);
  process.exit(1);
});
