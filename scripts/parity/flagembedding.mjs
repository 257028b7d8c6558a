/**
 * `npm run parity -- --reference flagembedding`: FlagEmbedding's own classes (pip flagembedding
 * 1.4.2, transformers < 5, torch CPU, in a venv under .cache/) against bge-gguf on the same weights.
 *
 * - FlagModel on the real all-MiniLM-L6-v2 checkpoint, CLS and mean pooling, queries with BGE's
 *   retrieval instruction, every parity text as a passage; bge-gguf on the GGUFs its converter makes
 *   from that checkpoint (F32, F16, Q8_0).
 * - WordPiece: the test suite's 10,000 generated strings and every code point, our ids vs the Rust tokenizer.
 * - FlagICLModel on a tiny random Mistral (scripts/parity/flagembedding-icl.mjs).
 *
 * Prints, per weight type and pooling: ids identical, cosine min/mean, positives whose rank changed.
 * Not run in CI (the venv is ~6 GB with PyPI's default torch wheel); exits 1 when ids differ or a
 * cosine is under its target.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureCheckpoint } from '../fetch-checkpoint.mjs';
import { venvPython } from './python-env.mjs';
import { buildTextSet } from './texts.mjs';
import { fuzzTexts } from './multilingual-fuzz.mjs';

export const FE_REQUIREMENTS = ['flagembedding==1.4.2', 'transformers<5', 'torch'];
const INSTRUCTION = 'Represent this sentence for searching relevant passages: ';
const TYPES = ['f32', 'f16', 'q8_0'];
const POOLINGS = ['cls', 'mean'];
const MIN_COSINE = { f32: 0.99999, f16: 0.999, q8_0: 0.995 };
const MAX_LENGTH = 512;

/** The venv with FlagEmbedding (created once; PyPI only, torch's default wheel). */
export function ensureFlagEmbeddingVenv(venvDir, log) {
  const py = venvPython(venvDir);
  const marker = join(venvDir, '.bge-gguf-requirements');
  const wanted = FE_REQUIREMENTS.join('\n');
  if (existsSync(py) && existsSync(marker) && readFileSync(marker, 'utf8') === wanted) return py;
  log(`creating ${venvDir} (${FE_REQUIREMENTS.join(', ')}; torch from PyPI is large, this takes minutes)`);
  const base = process.env.PYTHON || 'python3';
  if (!existsSync(py)) execFileSync(base, ['-m', 'venv', venvDir], { stdio: 'inherit' });
  execFileSync(py, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...FE_REQUIREMENTS], { stdio: 'inherit', timeout: 60 * 60 * 1000 });
  writeFileSync(marker, wanted);
  return py;
}

/** Runs flagembedding_reference.py; a response for the same request and script is reused. */
export function runFlagEmbedding(python, root, request, workDir, name) {
  const requestPath = join(workDir, `${name}-request.json`);
  const responsePath = join(workDir, `${name}-response.json`);
  const script = join(root, 'scripts', 'parity', 'flagembedding_reference.py');
  const key = createHash('sha256').update(JSON.stringify(request)).update(readFileSync(script)).digest('hex');
  const keyPath = join(workDir, `${name}-response.key`);
  if (existsSync(responsePath) && existsSync(keyPath) && readFileSync(keyPath, 'utf8') === key) return JSON.parse(readFileSync(responsePath, 'utf8'));
  writeFileSync(requestPath, JSON.stringify(request));
  execFileSync(python, [join(root, 'scripts', 'parity', 'flagembedding_reference.py'), requestPath, responsePath], {
    stdio: ['ignore', 'inherit', 'pipe'],
    env: { ...process.env, OMP_NUM_THREADS: '2', CUDA_VISIBLE_DEVICES: '' },
    maxBuffer: 64 * 1024 * 1024,
  });
  writeFileSync(keyPath, key);
  return JSON.parse(readFileSync(responsePath, 'utf8'));
}

const sameIds = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const min = (xs) => xs.reduce((a, b) => Math.min(a, b), Infinity);
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** 1-based rank of each query's positive among the candidates (ties count against it). */
export function positiveRanks(pairs, candidates, queryVector, passageVector, cosine) {
  return pairs.map(({ query, positive }) => {
    const q = queryVector(query);
    const own = cosine(q, passageVector(positive));
    return 1 + candidates.filter((c) => c !== positive && cosine(q, passageVector(c)) >= own).length;
  });
}

/** One row: ids identical, cosines and rank changes of ours against FlagEmbedding's. */
export function compareRows({ label, ours, theirs, pairs, candidates, queries, passages, cosine, target }) {
  const qIndex = new Map(queries.map((t, i) => [t, i]));
  const pIndex = new Map(passages.map((t, i) => [t, i]));
  const idsSame = [...ours.queries.ids.map((ids, i) => sameIds(ids, theirs.queries.ids[i])), ...ours.passages.ids.map((ids, i) => sameIds(ids, theirs.passages.ids[i]))];
  const cos = [
    ...ours.queries.vectors.map((v, i) => cosine(v, theirs.queries.vectors[i])),
    ...ours.passages.vectors.map((v, i) => cosine(v, theirs.passages.vectors[i])),
  ];
  const texts = [...queries, ...passages];
  const rank = (side) => positiveRanks(pairs, candidates, (q) => side.queries.vectors[qIndex.get(q)], (p) => side.passages.vectors[pIndex.get(p)], cosine);
  const ourRanks = rank(ours);
  const theirRanks = rank(theirs);
  const worst = cos.indexOf(min(cos));
  const sameIdsCos = cos.filter((_, i) => idsSame[i]);
  return {
    label,
    inputs: texts.length,
    idsIdentical: idsSame.filter(Boolean).length,
    idsDiffer: texts.filter((_, i) => !idsSame[i]).map((t) => t.slice(0, 80)),
    minCosine: cos[worst],
    meanCosine: mean(cos),
    worstText: texts[worst].slice(0, 80),
    minCosineSameIds: sameIdsCos.length ? min(sameIdsCos) : null,
    target,
    pairs: pairs.length,
    rankChanges: ourRanks.filter((r, i) => r !== theirRanks[i]).length,
    accuracyAt1: ourRanks.filter((r) => r === 1).length / ourRanks.length,
    referenceAccuracyAt1: theirRanks.filter((r) => r === 1).length / theirRanks.length,
    pass: idsSame.every(Boolean) && cos[worst] >= target,
  };
}

export function printRows(rows) {
  const header = ['case', 'inputs', 'ids =', 'min cos', 'mean cos', 'min cos (same ids)', 'target', 'rank changes', 'acc@1', 'FE acc@1', 'pass'];
  const lines = rows.map((r) => [
    r.label, String(r.inputs), `${r.idsIdentical}/${r.inputs}`, r.minCosine.toFixed(7), r.meanCosine.toFixed(7), r.minCosineSameIds?.toFixed(7) ?? '-', `>=${r.target}`,
    `${r.rankChanges}/${r.pairs}`, r.accuracyAt1.toFixed(3), r.referenceAccuracyAt1.toFixed(3), r.pass ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(fmt(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(fmt(l));
}

async function encoderRows({ root, python, workDir, log, engine }) {
  const checkpoint = ensureCheckpoint({ log });
  const { FlagModel, cosineSimilarity: cosine } = await import(pathToFileURL(join(root, 'dist', 'index.js')).href);
  const { convertHfToGguf } = await import(pathToFileURL(join(root, 'dist', 'convert', 'index.js')).href);
  const { defaultExamplesDir } = await import(pathToFileURL(join(root, 'dist', 'prompt', 'taskExamples.js')).href);
  const set = buildTextSet(defaultExamplesDir(), { quick: false });
  const queries = [...new Set(set.pairs.map((p) => p.query))];
  const passages = set.texts;
  log(`encoder: ${queries.length} queries (with the instruction), ${passages.length} passages, ${set.pairs.length} pairs`);
  const rows = [];
  for (const pooling of POOLINGS) {
    const started = Date.now();
    const theirs = runFlagEmbedding(python, root, { kind: 'encoder', checkpoint, pooling, instruction: INSTRUCTION, queries, passages, max_length: MAX_LENGTH }, workDir, `encoder-${pooling}`);
    log(`FlagModel ${pooling}: ${((Date.now() - started) / 1000).toFixed(1)} s (${JSON.stringify(theirs.versions)})`);
    for (const type of TYPES) {
      const gguf = join(workDir, `all-minilm-l6-v2-${type}-${pooling}.gguf`);
      await convertHfToGguf(checkpoint, gguf, { type, name: 'all-MiniLM-L6-v2', pooling });
      const model = await FlagModel.load(gguf, { poolingMethod: pooling, threads: 2, engine, queryInstructionForRetrieval: INSTRUCTION });
      let ours;
      try {
        ours = {
          queries: { ids: queries.map((q) => Array.from(model.tokenize(INSTRUCTION + q))), vectors: await model.encodeQueries(queries) },
          passages: { ids: passages.map((p) => Array.from(model.tokenize(p))), vectors: await model.encodeCorpus(passages) },
        };
      } finally {
        await model.dispose();
      }
      rows.push(compareRows({ label: `FlagModel ${type} ${pooling}`, ours, theirs, pairs: set.pairs, candidates: set.candidates, queries, passages, cosine, target: MIN_COSINE[type] }));
    }
  }
  return rows;
}

/**
 * Our WordPiece ids against the Rust tokenizer (BertTokenizerFast's) on the test suite's fuzz
 * strings and on every code point U+0080-U+3FFFF between two letters ("a" + c + "b").
 */
async function fuzzRows({ root, python, workDir }) {
  const { readGguf } = await import(pathToFileURL(join(root, 'dist', 'gguf', 'reader.js')).href);
  const { WordPieceTokenizer } = await import(pathToFileURL(join(root, 'dist', 'tokens', 'wordpiece.js')).href);
  const ours = WordPieceTokenizer.fromGguf(await readGguf(join(root, 'models', 'all-minilm-l6-v2-q8_0.gguf')));
  const tokenizer = join(root, 'models', 'all-minilm-l6-v2', 'tokenizer.json');
  // Python strings cannot hold lone surrogates; those texts stay in the JS test only.
  const sets = {
    'fuzz strings': fuzzTexts(20261205, 10_000).filter((t) => t.isWellFormed()),
    'code points U+0080-U+3FFFF': Array.from({ length: 0x40000 - 0x80 }, (_, i) => 0x80 + i).filter((cp) => cp < 0xd800 || cp > 0xdfff).map((cp) => `a${String.fromCodePoint(cp)}b`),
  };
  const rows = [];
  for (const [name, texts] of Object.entries(sets)) {
    const theirs = runFlagEmbedding(python, root, { kind: 'tokenize', tokenizer, texts }, workDir, `wordpiece-${rows.length}`);
    const differ = texts.filter((t, i) => !sameIds(ours.encode(t), theirs.ids[i]));
    rows.push({ name, texts: texts.length, identical: texts.length - differ.length, examples: differ.slice(0, 5) });
  }
  return rows;
}

export async function runFlagEmbeddingParity({ root, build, log, engine = 'auto' }) {
  const started = Date.now();
  const python = ensureFlagEmbeddingVenv(join(root, '.cache', 'flagembedding-venv'), log);
  build();
  const workDir = join(root, '.cache', 'parity', 'flagembedding');
  mkdirSync(workDir, { recursive: true });
  const rows = await encoderRows({ root, python, workDir, log, engine });
  const fuzz = await fuzzRows({ root, python, workDir });
  const { iclRows } = await import('./flagembedding-icl.mjs');
  rows.push(...(await iclRows({ root, python, workDir, log, engine, compareRows })));
  printRows(rows);
  for (const f of fuzz) {
    console.log(`WordPiece vs the Rust tokenizer (all-MiniLM-L6-v2 tokenizer.json), ${f.name}: ${f.identical}/${f.texts} identical`);
    for (const t of f.examples) console.log(`  differs: ${JSON.stringify(t.slice(0, 80))}`);
  }
  for (const r of rows) for (const t of r.idsDiffer.slice(0, 5)) console.log(`  ${r.label}: ids differ for ${JSON.stringify(t)}`);
  const seconds = (Date.now() - started) / 1000;
  console.log(`flagembedding parity in ${seconds.toFixed(1)} s`);
  const out = join(root, 'bench', 'results', 'parity-flagembedding.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), seconds, rows, fuzz }, null, 2));
  const failed = [...rows.filter((r) => !r.pass).map((r) => r.label), ...fuzz.filter((f) => f.identical < f.texts).map((f) => f.name)];
  if (failed.length) {
    console.log(`parity: FAILED (${failed.join(', ')})`);
    process.exitCode = 1;
  }
}
