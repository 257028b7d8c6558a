/**
 * The embedded default model (models/all-minilm-l6-v2-q8_0.gguf, real all-MiniLM-L6-v2 weights)
 * on real retrieval examples: every query ranks its own positive passage above all the others.
 * The files were chosen because an independent float64 forward pass of the original checkpoint
 * (scripts/parity/reference.py) ranks every positive first on them with mean pooling, by a cosine
 * margin of at least 0.2; `npm run parity` re-checks that reference on the whole example set.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagModel } from '../src/index.js';
import { defaultModel } from '../src/models/registry.js';
import { parseCsv, sharedDataDir } from './support/fixtures.js';

const RETRIEVAL_FILES = ['MSMARCO', 'NQ', 'HotpotQA', 'FiQA2018', 'SciFact', 'QuoraRetrieval', 'ArguAna', 'FEVER', 'DBPedia'];

interface Pair {
  task: string;
  query: string;
  positive: string;
}

function pairs(): Pair[] {
  return RETRIEVAL_FILES.flatMap((task) => {
    const [header, ...rows] = parseCsv(readFileSync(join(sharedDataDir, `${task}.csv`), 'utf8'));
    const q = header.findIndex((h) => h.trim() === 'query');
    const p = header.findIndex((h) => ['pos', 'positive'].includes(h.trim()));
    return rows.filter((r) => r[q]?.trim() && r[p]?.trim()).map((r) => ({ task, query: r[q], positive: r[p] }));
  });
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);

let model: FlagModel;
let examples: Pair[];
let queries: Float32Array[];
let passages: Float32Array[];

beforeAll(async () => {
  examples = pairs();
  model = await FlagModel.load(undefined, { threads: 2 });
  queries = await model.encodeQueries(examples.map((e) => e.query));
  passages = await model.encodeCorpus(examples.map((e) => e.positive));
});

afterAll(async () => {
  await model?.dispose();
});

describe('embedded default model on real retrieval examples', () => {
  it('is the shipped all-MiniLM-L6-v2 GGUF, mean-pooled, 384 dimensions', () => {
    expect(existsSync(defaultModel().path)).toBe(true);
    expect(defaultModel().name).toBe('all-MiniLM-L6-v2');
    expect(model.poolingMethod).toBe('mean');
    expect(model.dimension).toBe(384);
    expect(examples.length).toBeGreaterThanOrEqual(25);
  });

  it('returns unit-norm vectors', () => {
    for (const v of [...queries, ...passages]) expect(Math.sqrt(dot(v, v))).toBeCloseTo(1, 5);
  });

  it("ranks each query's own positive above every other passage", () => {
    const misses = examples.flatMap((e, i) => {
      const own = dot(queries[i], passages[i]);
      const beaten = passages.filter((p, j) => j !== i && dot(queries[i], p) >= own).length;
      return beaten ? [`${e.task}: "${e.query.slice(0, 60)}" has ${beaten} passages scoring >= its positive`] : [];
    });
    expect(misses).toEqual([]);
  });

  // The float64 reference gives 0.79 (paraphrase) and 0.03 (unrelated) for these three texts.
  it('scores unrelated text lower than a paraphrase', async () => {
    const [a, b, c] = await model.encode(['How do I bake sourdough bread at home?', 'A home recipe for baking sourdough loaves', 'The stock market fell sharply on Monday.']);
    expect(dot(a, b)).toBeGreaterThan(dot(a, c) + 0.3);
  });
});
