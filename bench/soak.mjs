// `npm run soak`: long robustness runs (bounded; not part of CI). Prints one table.
//   20k encodes (RSS series), 200 load/encode/dispose cycles (RSS, with and without MALLOC_ARENA_MAX=1),
//   1,000 concurrent encodes compared bit for bit with sequential ones, the GGUF fuzz at 5,000 cases.
// Flags: --encodes N --cycles N --concurrent N --fuzz N --seed N --threads N (default 2)
//        --skip encodes,cycles,arena,concurrent,fuzz
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FlagModel } from '../src/index.ts';
import { badOutcomes, knownErrorCodes, runCampaign } from '../test/support/fuzz/campaign.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = join(root, 'models', 'all-minilm-l6-v2-q8_0.gguf');
const { values } = parseArgs({
  options: {
    encodes: { type: 'string', default: '20000' },
    cycles: { type: 'string', default: '200' },
    concurrent: { type: 'string', default: '1000' },
    fuzz: { type: 'string', default: '5000' },
    seed: { type: 'string', default: '20261205' },
    skip: { type: 'string', default: '' },
    threads: { type: 'string', default: '2' },
  },
});
const n = (name) => {
  const v = Number(values[name]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
  return v;
};
const skip = new Set(values.skip.split(',').filter(Boolean));
const rows = [];
const row = (check, result, detail) => {
  rows.push({ check, result, detail });
  console.error(`[soak] ${check}: ${result} ${detail}`);
};
const seconds = (t0) => `${((performance.now() - t0) / 1000).toFixed(0)} s`;

function memoryChild(mode, count, env = {}) {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(root, 'test/support/memoryChild.ts'), mode, String(count), MODEL, String(n('threads'))], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 1 << 24,
  });
  return JSON.parse(out.trim().split('\n').pop());
}
/** 'bounded' when the second half's median is within 50 MB of the first half's (spikes aside). */
const verdict = (rss) => {
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const half = Math.floor(rss.length / 2);
  return median(rss.slice(half)) - median(rss.slice(Math.floor(half / 2), half)) < 50 ? 'bounded' : 'GROWS';
};
const series = (rss) => {
  const at = (f) => rss[Math.min(rss.length - 1, Math.floor(f * (rss.length - 1)))];
  const sorted = [...rss].sort((a, b) => a - b);
  return `RSS MB first ${rss[0]}, at 25% ${at(0.25)}, 50% ${at(0.5)}, 75% ${at(0.75)}, last ${rss.at(-1)}; median ${sorted[Math.floor(sorted.length / 2)]}, max ${sorted.at(-1)}`;
};

if (!skip.has('encodes')) {
  const t0 = performance.now();
  const r = memoryChild('encodes', n('encodes'));
  const rest = r.rss.slice(Math.floor(r.rss.length / 10));
  const flat = Math.max(...rest) - Math.min(...rest) < 50;
  row(`${n('encodes')} encodes, one model`, flat ? 'flat' : 'GROWS', `${series(r.rss)} (${seconds(t0)})`);
}
if (!skip.has('cycles')) {
  const t0 = performance.now();
  const r = memoryChild('cycles', n('cycles'));
  row(`${n('cycles')} load/encode/dispose cycles`, verdict(r.rss), `${series(r.rss)} (${seconds(t0)})`);
}
if (!skip.has('arena')) {
  const t0 = performance.now();
  const r = memoryChild('cycles', n('cycles'), { MALLOC_ARENA_MAX: '1' });
  row(`${n('cycles')} cycles, MALLOC_ARENA_MAX=1`, verdict(r.rss), `${series(r.rss)} (${seconds(t0)})`);
}
if (!skip.has('concurrent')) {
  const t0 = performance.now();
  const count = n('concurrent');
  const texts = Array.from({ length: count }, (_, i) => `concurrent text ${i}: ${'retrieval augmented generation '.repeat(1 + (i % 7))}`);
  const model = await FlagModel.load(MODEL, { threads: n('threads'), gpu: false });
  const sequential = [];
  for (const t of texts) sequential.push(await model.encode(t));
  const concurrent = await Promise.all(texts.map((t) => model.encode(t)));
  await model.dispose();
  const same = (a, b) => a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
  const differing = texts.filter((_, i) => !same(sequential[i], concurrent[i])).length;
  row(`${count} concurrent encodes vs sequential`, differing === 0 ? 'bit-identical' : `${differing} DIFFER`, `(${seconds(t0)})`);
}
if (!skip.has('fuzz')) {
  const t0 = performance.now();
  const total = n('fuzz');
  const share = Math.round(total * 0.15);
  const results = await runCampaign({
    seed: n('seed'),
    cases: { bert: total - 5 * share, llama: share, gemma2: share, qwen2: share, xlmr: share, 'xlmr-m3': share },
    parallel: 2,
    batchSize: 50,
    onBatch: (done, all) => process.stderr.write(`\r[soak] fuzz ${done}/${all}`),
  });
  process.stderr.write('\n');
  const bad = badOutcomes(results, knownErrorCodes());
  const outcomes = {};
  for (const r of results) {
    const key = r.death ? `death ${r.death}` : r.untyped ? 'untyped' : r.generatorError ? 'generator error' : r.ok ? 'ok' : r.code;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  }
  const deaths = results.filter((r) => r.death).length;
  row(`GGUF fuzz, ${results.length} cases, seed ${n('seed')}`, bad.length === 0 ? '0 deaths' : `${deaths} deaths, ${bad.length} bad`, `${JSON.stringify(outcomes)} (${seconds(t0)})`);
  for (const r of bad) console.log(`  ${r.base} #${r.index} ${r.death ?? r.untyped ?? r.generatorError ?? r.code}: ${r.label}`);
}

console.log(`\nbge-gguf soak — ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, threads ${n('threads')}, load average ${loadavg()[0].toFixed(1)}, node ${process.version}\n`);
console.log('| check | result | detail |\n| --- | --- | --- |');
for (const r of rows) console.log(`| ${r.check} | ${r.result} | ${r.detail} |`);
