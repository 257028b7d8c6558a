// `npm run bench -- --real`: bge-gguf vs transformers.js (ONNX Runtime) vs FlagEmbedding on the real
// all-MiniLM-L6-v2 checkpoint (issue 15). Each contender runs in its own process per round; rounds are
// interleaved (the order rotates) and repeated; the tables give medians and min–max spreads, every row
// its cosine against the float64 reference, and the targets. See docs/benchmarks.md.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runProcess, runWorker } from '../child.mjs';
import { loadExampleTexts, median, percentile, repeatTo } from '../corpus.mjs';
import { openTokenCounter } from '../tokens.mjs';
import { ensureOnnx } from './onnx-env.mjs';
import { cpuRoofline, encoderFlops } from './roofline.mjs';
import { ensureCheckpoint } from '../../scripts/fetch-checkpoint.mjs';
import { ensureVenv as ensureReferenceVenv, venvPython } from '../../scripts/parity/python-env.mjs';
import { defaultExamplesDir } from '../../dist/prompt/taskExamples.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cacheDir = join(root, '.cache', 'bench-real');
const workDir = join(cacheDir, 'tmp');
const MODEL = 'all-minilm-l6-v2';
const SHORT_QUERY_MAX_TOKENS = 16;
const LONG_TOKENS = 512;
const BATCH = 32; // transformers.js and FlagEmbedding batch size (texts sorted by length first)
const HF_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt', 'modules.json'];

const CONTENDERS = {
  'bge-gguf f32': { kind: 'bge-gguf', type: 'f32' },
  'bge-gguf f16': { kind: 'bge-gguf', type: 'f16' },
  'bge-gguf q8_0': { kind: 'bge-gguf', type: 'q8_0' },
  'transformers.js fp32': { kind: 'transformers', dtype: 'fp32' },
  'transformers.js int8': { kind: 'transformers', dtype: 'int8' },
  FlagEmbedding: { kind: 'flagembedding' },
  // GPU rows (--gpu): every layer on the CUDA addon's device; never in the default set.
  'bge-gguf f16 gpu': { kind: 'bge-gguf', type: 'f16', gpu: true },
  'bge-gguf q8_0 gpu': { kind: 'bge-gguf', type: 'q8_0', gpu: true },
};
const GPU_CONTENDERS = ['bge-gguf f16', 'bge-gguf f16 gpu', 'bge-gguf q8_0', 'bge-gguf q8_0 gpu'];

const HELP = `Usage: npm run bench -- --real [flags]
  --rounds N        interleaved rounds, each contender once per round in its own process (default 3)
  --passages N      passage texts per round (default 1000)
  --queries N       short queries per round (default 1000)
  --long N          ${LONG_TOKENS}-token passages per round, for GFLOP/s (default 32)
  --latency N       single-query latency samples per round, the first dropped (default 30)
  --contenders a,b  subset of: ${Object.keys(CONTENDERS).join(', ')} (default: all; FlagEmbedding only where
  --gpu             the GPU addon against the CPU on the same texts: bge-gguf f16/q8_0 with and without
                    every layer on the GPU (npm run bench -- --gpu; needs a CUDA device)
                    its venv exists: BGE_GGUF_BENCH_FLAGEMBEDDING_VENV or .cache/flagembedding-venv)
  --threads N       threads for every contender (default 2)
  --out FILE        JSON record (default bench/results/real-<date>.json)
Env: BGE_GGUF_BENCH_TORCH_VENV  a venv with torch + transformers for the ONNX export (else the bench makes one)`;

const log = (msg) => console.log(`[bench-real ${(performance.now() / 1000).toFixed(0).padStart(4)}s] ${msg}`);

function readRealArgs(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      real: { type: 'boolean' }, rounds: { type: 'string' }, passages: { type: 'string' }, queries: { type: 'string' },
      long: { type: 'string' }, latency: { type: 'string' }, contenders: { type: 'string' }, threads: { type: 'string' },
      out: { type: 'string' }, gpu: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) { console.log(HELP); process.exit(0); }
  const int = (v, d, name) => {
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${v}`);
    return n;
  };
  const contenders = values.contenders
    ? values.contenders.split(',').map((s) => s.trim())
    : values.gpu ? GPU_CONTENDERS : Object.keys(CONTENDERS).filter((c) => !CONTENDERS[c].gpu);
  for (const c of contenders) if (!CONTENDERS[c]) throw new Error(`unknown contender "${c}"; use ${Object.keys(CONTENDERS).join(', ')}`);
  return {
    rounds: int(values.rounds, 3, 'rounds'), passages: int(values.passages, 1000, 'passages'), queries: int(values.queries, 1000, 'queries'),
    long: int(values.long, 32, 'long'), latency: int(values.latency, 30, 'latency'), threads: int(values.threads, 2, 'threads'),
    contenders, out: values.out ?? null,
  };
}

async function prepareModels(contenders) {
  const checkpoint = ensureCheckpoint({ log });
  mkdirSync(workDir, { recursive: true });
  const ggufs = {};
  const { convertHfToGguf } = await import('../../dist/convert/index.js');
  for (const type of ['f32', 'f16', 'q8_0']) {
    ggufs[type] = join(cacheDir, `${MODEL}-${type}-mean.gguf`);
    if (!existsSync(ggufs[type])) {
      log(`converting ${checkpoint} to ${type} GGUF (bge-gguf's converter)`);
      await convertHfToGguf(checkpoint, ggufs[type], { type, name: 'all-MiniLM-L6-v2', pooling: 'mean' });
    }
  }
  const hfDir = join(cacheDir, MODEL);
  if (contenders.some((c) => CONTENDERS[c].kind === 'transformers')) {
    mkdirSync(hfDir, { recursive: true });
    for (const f of HF_FILES) copyFileSync(join(checkpoint, f), join(hfDir, f));
    ensureOnnx(root, checkpoint, hfDir, log);
  }
  return { checkpoint, ggufs, hfDir };
}

function flagEmbeddingPython() {
  const dir = process.env.BGE_GGUF_BENCH_FLAGEMBEDDING_VENV || join(root, '.cache', 'flagembedding-venv');
  const py = venvPython(dir);
  return existsSync(py) ? py : null;
}

async function buildWorkloads(args, gguf) {
  const { texts } = loadExampleTexts(defaultExamplesDir());
  const counter = await openTokenCounter(gguf);
  try {
    const len = new Map(texts.map((t) => [t, counter.count(t)]));
    const fits = texts.filter((t) => len.get(t) <= LONG_TOKENS);
    const short = fits.filter((t) => len.get(t) <= SHORT_QUERY_MAX_TOKENS);
    const queryLength = percentile(short.map((t) => len.get(t)), 50);
    // Long passages: corpus texts joined until over 512 tokens; every contender truncates to 512.
    const long = [];
    for (let i = 0; long.length < args.long; ) {
      let text = '';
      while (counter.count(text) < LONG_TOKENS + 8) text += `${text ? ' ' : ''}${fits[i++ % fits.length]}`;
      long.push(text);
    }
    const passages = repeatTo(fits, args.passages);
    const tokens = (list) => list.reduce((s, t) => s + len.get(t), 0);
    return {
      distinct: fits,
      passages, passageTokens: tokens(passages),
      queries: repeatTo(short, args.queries), queryTokens: tokens(repeatTo(short, args.queries)),
      long,
      latency: repeatTo(short.filter((t) => len.get(t) === queryLength), args.latency),
      queryLength,
    };
  } finally {
    await counter.dispose();
  }
}

function referenceVectors(checkpoint, texts) {
  const python = ensureReferenceVenv(join(root, '.cache', 'parity-venv'), log);
  const req = join(workDir, 'reference-request.json');
  const res = join(workDir, 'reference-response.json');
  writeFileSync(req, JSON.stringify({ checkpoint, max_length: LONG_TOKENS, texts }));
  const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  execFileSync(python, [join(root, 'scripts', 'parity', 'reference.py'), req, res], { stdio: 'inherit', env });
  return JSON.parse(readFileSync(res, 'utf8')).mean;
}

function cosine(a, b) {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return dot / Math.sqrt(na * nb);
}

function agreement(vectors, ref) {
  if (!vectors?.length || !ref?.length) return null;
  const cos = vectors.map((v, i) => cosine(v, ref[i]));
  return { min: Math.min(...cos), mean: cos.reduce((s, c) => s + c, 0) / cos.length, n: cos.length };
}

async function runContender(name, models, args, paths, round, fePython) {
  const c = CONTENDERS[name];
  const job = {
    ...paths, threads: args.threads, warmup: 8, latencyTexts: paths.latencyTexts, batchSize: BATCH,
    vectorsOf: round === 0 ? paths.distinct : 0,
    modelPath: c.type ? models.ggufs[c.type] : null, gpu: c.gpu ?? false, modelDir: c.kind === 'flagembedding' ? models.checkpoint : models.hfDir, dtype: c.dtype ?? null,
  };
  const jobPath = join(workDir, `job-${name.replace(/\W+/g, '-')}.json`);
  writeFileSync(jobPath, JSON.stringify(job));
  if (c.kind === 'flagembedding') {
    const env = { ...process.env, OMP_NUM_THREADS: String(args.threads), MKL_NUM_THREADS: String(args.threads), TOKENIZERS_PARALLELISM: 'false' };
    const { code, stdout, stderr } = await runProcess(fePython, [join(root, 'bench', 'real', 'worker_flagembedding.py'), jobPath], { env, timeoutMs: 30 * 60_000 });
    const line = stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
    if (code !== 0 || !line) throw new Error(`FlagEmbedding worker failed (code ${code}): ${stderr.trim().split('\n').slice(-5).join(' | ')}`);
    return JSON.parse(line.slice('BENCH_RESULT '.length));
  }
  const script = join(root, 'bench', 'real', c.kind === 'bge-gguf' ? 'worker-bge-gguf.mjs' : 'worker-transformers.mjs');
  return runWorker(script, jobPath);
}

const fmt = (x, d = 1) => (x == null || Number.isNaN(x) ? '–' : x.toFixed(d));
const spread = (xs, d = 1) => (xs.length ? `${fmt(median(xs), d)} (${fmt(Math.min(...xs), d)}–${fmt(Math.max(...xs), d)})` : '–');

function summarize(name, results, wl, flopsLong, ref, feRef) {
  const ok = results.filter((r) => !r.error);
  if (!ok.length) return { name, error: results[0]?.error ?? 'no result' };
  const first = ok.find((r) => r.vectors?.length);
  const lat = ok.flatMap((r) => r.latencyMs.slice(1));
  return {
    name,
    rounds: ok.length,
    passagesPerSec: ok.map((r) => wl.passages.length / (r.passagesMs / 1000)),
    queriesPerSec: ok.map((r) => wl.queries.length / (r.queriesMs / 1000)),
    longPerSec: ok.map((r) => wl.long.length / (r.longMs / 1000)),
    gflops: ok.map((r) => (flopsLong * wl.long.length) / (r.longMs / 1000) / 1e9),
    latencyP50Ms: lat.length ? percentile(lat, 50) : null,
    latencyP90Ms: lat.length ? percentile(lat, 90) : null,
    roundLatencyP50Ms: ok.map((r) => percentile(r.latencyMs.slice(1), 50)),
    peakRssMiB: Math.max(...ok.map((r) => r.maxRssMiB)),
    vsReference: agreement(first?.vectors, ref),
    vsFlagEmbedding: agreement(first?.vectors, feRef),
    info: ok[0].info,
  };
}

function printTables(rows, roof, wl) {
  console.log(`\nReal all-MiniLM-L6-v2, ${wl.passages.length} passages (${(wl.passageTokens / wl.passages.length).toFixed(0)} tokens avg), ${wl.queries.length} queries (${(wl.queryTokens / wl.queries.length).toFixed(1)} avg), ${wl.long.length} × ${LONG_TOKENS}-token passages; median (min–max) over rounds\n`);
  console.log('| contender | passages/s | queries/s | 1-query p50 / p90 ms | 512-tok passages/s | GFLOP/s (512) | of roofline | peak RSS MiB | cos vs float64 ref (min / mean) | cos vs FlagEmbedding (min / mean) |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    if (r.error) { console.log(`| ${r.name} | failed: ${r.error} |`); continue; }
    const agr = (a) => (a ? `${a.min.toFixed(5)} / ${a.mean.toFixed(6)}` : '–');
    console.log(`| ${r.name} | ${spread(r.passagesPerSec)} | ${spread(r.queriesPerSec, 0)} | ${fmt(r.latencyP50Ms, 2)} / ${fmt(r.latencyP90Ms, 2)} | ${spread(r.longPerSec, 2)} | ${spread(r.gflops)} | ${fmt(median(r.gflops) / roof.gflops, 2)} | ${fmt(r.peakRssMiB, 0)} | ${agr(r.vsReference)} | ${agr(r.vsFlagEmbedding)} |`);
  }
  console.log(`\nRoofline: ${roof.model}, ${roof.cores} cores × ${roof.mhz} MHz × ${roof.lanes} F32 lanes (${roof.isa}) × 2 (FMA) × ${roof.fmaUnits} FMA units = ${roof.gflops.toFixed(0)} GFLOP/s F32 (${roof.extras.join(', ') || 'no VNNI/BF16/AMX'}; FMA units assumed, BGE_GGUF_BENCH_FMA_UNITS)`);
}

function targets(rows, roof) {
  const by = Object.fromEntries(rows.filter((r) => !r.error).map((r) => [r.name, r]));
  const m = (r, k) => (r ? median(r[k]) : null);
  const out = [];
  const add = (what, value, goal, pass) => out.push({ what, value, goal, pass });
  const f16 = by['bge-gguf f16'], q8 = by['bge-gguf q8_0'], t32 = by['transformers.js fp32'], t8 = by['transformers.js int8'];
  if (f16 && t32) add('F16 passages/s ÷ transformers.js fp32', m(f16, 'passagesPerSec') / m(t32, 'passagesPerSec'), '≥ 1.3', m(f16, 'passagesPerSec') / m(t32, 'passagesPerSec') >= 1.3);
  if (t32) {
    for (const r of [by['bge-gguf f32'], f16, q8].filter(Boolean)) add(`${r.name} 1-query p50 ÷ transformers.js fp32`, r.latencyP50Ms / t32.latencyP50Ms, '≤ 1.0', r.latencyP50Ms <= t32.latencyP50Ms);
  }
  if (q8 && t8) add('Q8_0 passages/s ÷ transformers.js int8', m(q8, 'passagesPerSec') / m(t8, 'passagesPerSec'), '≥ 1.0', m(q8, 'passagesPerSec') >= m(t8, 'passagesPerSec'));
  if (q8?.vsReference) add('Q8_0 mean cosine vs float64 reference', q8.vsReference.mean, '≥ 0.9995', q8.vsReference.mean >= 0.9995);
  if (q8) add('Q8_0 embedded peak RSS (MiB, Node included)', q8.peakRssMiB, '≤ 150', q8.peakRssMiB <= 150);
  for (const r of [by['bge-gguf f32'], f16].filter(Boolean)) add(`${r.name} share of the F32 roofline (512-token passages)`, m(r, 'gflops') / roof.gflops, '≥ 0.6', m(r, 'gflops') / roof.gflops >= 0.6);
  console.log('\n| target | value | goal | |\n|---|---|---|---|');
  for (const t of out) console.log(`| ${t.what} | ${t.value.toFixed(t.value < 1.01 && t.value > 0.99 ? 5 : 3)} | ${t.goal} | ${t.pass ? 'PASS' : 'FAIL'} |`);
  return out;
}

export async function runReal(argv) {
  const args = readRealArgs(argv);
  const fePython = flagEmbeddingPython();
  const contenders = args.contenders.filter((c) => CONTENDERS[c].kind !== 'flagembedding' || fePython);
  if (contenders.length < args.contenders.length) log('FlagEmbedding skipped: no venv (BGE_GGUF_BENCH_FLAGEMBEDDING_VENV or .cache/flagembedding-venv)');
  const models = await prepareModels(contenders);
  const wl = await buildWorkloads(args, models.ggufs.f32);
  const write = (name, value) => { const p = join(workDir, `${name}.json`); writeFileSync(p, JSON.stringify(value)); return p; };
  const paths = {
    passagesPath: write('passages', wl.passages), queriesPath: write('queries', wl.queries), longPath: write('long', wl.long),
    latencyTexts: wl.latency, distinct: Math.min(wl.distinct.length, wl.passages.length),
  };
  log(`float64 reference on ${paths.distinct} distinct passages`);
  const ref = referenceVectors(models.checkpoint, wl.distinct.slice(0, paths.distinct));
  const results = Object.fromEntries(contenders.map((c) => [c, []]));
  const loads = [];
  for (let round = 0; round < args.rounds; round++) {
    const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]);
    for (const name of order) {
      loads.push(loadavg()[0]);
      log(`round ${round + 1}/${args.rounds}: ${name} (load ${loadavg()[0].toFixed(2)})`);
      try {
        results[name].push(await runContender(name, models, args, paths, round, fePython));
      } catch (error) {
        log(`  failed: ${error.message.split('\n').slice(0, 3).join(' | ')}`);
        results[name].push({ error: error.message.split('\n')[0] });
      }
    }
  }
  const config = JSON.parse(readFileSync(join(models.checkpoint, 'config.json'), 'utf8'));
  const flopsLong = encoderFlops(config, LONG_TOKENS);
  const feRef = results.FlagEmbedding?.find((r) => r.vectors?.length)?.vectors ?? null;
  const rows = contenders.map((c) => summarize(c, results[c], wl, flopsLong, ref, feRef));
  const roof = cpuRoofline(args.threads);
  printTables(rows, roof, wl);
  const targetRows = targets(rows, roof);
  console.log(`\nload average during the run: ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} (${cpus().length} CPUs)`);
  const out = args.out ?? join(root, 'bench', 'results', `real-${new Date().toISOString().slice(0, 19).replace(/:/g, '-')}.json`);
  mkdirSync(dirname(out), { recursive: true });
  const record = { date: new Date().toISOString(), args, cpu: roof, node: process.version, flopsPer512TokenPassage: flopsLong, loadAverages: loads, rows, targets: targetRows };
  writeFileSync(out, JSON.stringify(record, null, 1));
  log(`wrote ${out}`);
}
