// The bench's texts: every text cell of FlagEmbedding's ICL example CSVs (labels excluded),
// and helpers for repeating them and describing their token lengths.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCsv } from '../dist/prompt/taskExamples.js';

const LABEL_COLUMNS = new Set(['label', 'label_text']);

/** Every distinct non-empty text cell in dir/*.csv, in file then row order. */
export function loadExampleTexts(dir) {
  const files = readdirSync(dir).filter((f) => f.endsWith('.csv')).sort();
  if (files.length === 0) throw new Error(`no *.csv files in ${dir}`);
  const seen = new Set();
  const texts = [];
  for (const file of files) {
    const [header, ...rows] = parseCsv(readFileSync(join(dir, file), 'utf8'));
    if (!header) continue;
    const names = header.map((h) => h.trim().toLowerCase());
    const textColumns = names.map((n, i) => (LABEL_COLUMNS.has(n) ? -1 : i)).filter((i) => i >= 0);
    for (const row of rows) {
      for (const c of textColumns) {
        const cell = (row[c] ?? '').trim();
        if (cell === '' || seen.has(cell)) continue;
        seen.add(cell);
        texts.push(cell);
      }
    }
  }
  return { texts };
}

/** texts repeated in order until `count` items. */
export function repeatTo(texts, count) {
  if (texts.length === 0) throw new Error('cannot repeat an empty text list');
  return Array.from({ length: count }, (_, i) => texts[i % texts.length]);
}

/** p in [0, 100]; nearest-rank percentile of an unsorted numeric array. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function lengthStats(lengths) {
  return {
    count: lengths.length,
    total: lengths.reduce((a, b) => a + b, 0),
    min: Math.min(...lengths),
    p50: percentile(lengths, 50),
    p90: percentile(lengths, 90),
    max: Math.max(...lengths),
  };
}

export function median(values) {
  return percentile(values, 50);
}
