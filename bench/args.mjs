// Command-line flags of `npm run bench` (node bench/run.mjs [flags]).
import { parseArgs } from 'node:util';
import { SHAPES, TYPE_NAMES } from './models.mjs';

// bge-gguf-invariant: bge-gguf with batchInvariant: true (first addon variant only), to show its cost.
export const CONTENDERS = ['bge-gguf', 'bge-gguf-invariant', 'node-llama-cpp', 'llama-embedding'];

const HELP = `Usage: npm run bench -- [flags]
  --quick                 bge-small only, f32+q8_0, smaller corpus (a fast check)
  --models small,base     model shapes (default: small,base)
  --types f32,f16,q8_0    weight types (default: f32,q8_0 for small, q8_0 for base)
  --contenders a,b,c      subset of ${CONTENDERS.join(',')}
  --passages N            passage texts (default 1000; --quick 320)
  --queries N             short queries (default 1000; --quick 300)
  --latency N             single-query latency samples (default 30)
  --llama-batches a,b     llama-embedding batch sizes tried (default: passages 512,1024, queries 128,512;
                          sizes below a workload's longest text are skipped)
  --addons prebuilt,source  bge-gguf native addon variants (default: every one built)
  --threads N             threads for every contender (default 2)
  --out FILE              JSON result path (default bench/results/bench-<date>.json)
  --report FILE           print the tables of a saved JSON result again; measures nothing
  --real                  instead: bge-gguf vs transformers.js vs FlagEmbedding on the real all-MiniLM-L6-v2
                          checkpoint (npm run bench -- --real --help)
  --gpu                   instead: the GPU addon against the CPU on the real checkpoint (bge-gguf f16/q8_0)`;

function list(value, allowed, what) {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    if (allowed && !allowed.includes(item)) throw new Error(`unknown ${what} "${item}"; use ${allowed.join(', ')}`);
  }
  if (items.length === 0) throw new Error(`--${what} needs at least one value`);
  return items;
}

function count(value, name) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${value}`);
  return n;
}

export function readArgs(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      models: { type: 'string' },
      types: { type: 'string' },
      contenders: { type: 'string' },
      passages: { type: 'string' },
      queries: { type: 'string' },
      latency: { type: 'string' },
      'llama-batches': { type: 'string' },
      addons: { type: 'string' },
      threads: { type: 'string' },
      out: { type: 'string' },
      report: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const quick = values.quick;
  const models = values.models ? list(values.models, Object.keys(SHAPES), 'models') : quick ? ['small'] : ['small', 'base'];
  const explicitTypes = values.types ? list(values.types, TYPE_NAMES, 'types') : null;
  // The default run (small f32 + q8_0, base q8_0) takes about 13 minutes on 2 idle cores;
  // each more small type adds about 4 minutes, each more base type about 6.
  const typesFor = (model) => explicitTypes ?? (quick || model === 'small' ? ['f32', 'q8_0'] : ['q8_0']);
  return {
    quick,
    runs: models.flatMap((model) => typesFor(model).map((type) => ({ model, type }))),
    contenders: values.contenders ? list(values.contenders, CONTENDERS, 'contenders') : CONTENDERS,
    passages: values.passages ? count(values.passages, 'passages') : quick ? 320 : 1000,
    queries: values.queries ? count(values.queries, 'queries') : quick ? 300 : 1000,
    latency: values.latency ? count(values.latency, 'latency') : quick ? 20 : 30,
    // null: per workload, passages 512,1024 and queries 128,512 (the fastest settings in our runs)
    llamaBatches: values['llama-batches'] ? list(values['llama-batches'], null, 'llama-batches').map((b) => count(b, 'llama-batches')) : null,
    addons: values.addons ? list(values.addons, null, 'addons') : [],
    threads: values.threads ? count(values.threads, 'threads') : 2,
    out: values.out ?? null,
    report: values.report ?? null,
  };
}
