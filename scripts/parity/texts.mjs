/**
 * The parity text set: every query, positive and passage in FlagEmbedding's few-shot example CSVs
 * (the package's data/icl-examples), plus texts longer than 512 tokens.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** RFC 4180 CSV: quoted fields may hold commas, newlines and doubled quotes. */
export function parseCsv(source) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (quoted) {
      if (c === '"' && source[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && source[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => r.some((f) => f.trim() !== ''));
}

const QUERY_COLUMNS = ['query'];
const POSITIVE_COLUMNS = ['pos', 'positive'];
const PASSAGE_COLUMNS = ['text', 'sent1', 'sent2', 'sum1', 'sum2'];

/** One CSV → its query/positive pairs and its other passages (label columns are left out). */
function readExamples(path) {
  const [header = [], ...rows] = parseCsv(readFileSync(path, 'utf8'));
  const cols = header.map((h) => h.trim().toLowerCase());
  const q = cols.findIndex((c) => QUERY_COLUMNS.includes(c));
  const p = cols.findIndex((c) => POSITIVE_COLUMNS.includes(c));
  const pairs = [];
  const passages = [];
  for (const r of rows) {
    if (q >= 0 && p >= 0 && r[q]?.trim() && r[p]?.trim()) pairs.push({ query: r[q], positive: r[p] });
    cols.forEach((c, i) => {
      if (PASSAGE_COLUMNS.includes(c) && r[i]?.trim()) passages.push(r[i]);
    });
  }
  return { pairs, passages };
}

/**
 * quick: a few files (CI); full: all of them. Returns unique texts (queries, positives, passages,
 * long texts), the query/positive pairs, and the candidate passages for ranking (all positives).
 */
export function buildTextSet(dataDir, { quick }) {
  if (!existsSync(dataDir)) {
    throw new Error(`parity: ${dataDir} is missing; it holds FlagEmbedding's icl-examples CSVs (data/icl-examples in the package)`);
  }
  const files = readdirSync(dataDir).filter((f) => f.endsWith('.csv')).sort();
  const examples = files.map((f) => ({ file: f, ...readExamples(join(dataDir, f)) }));
  const pairFiles = examples.filter((e) => e.pairs.length > 0);
  const otherFiles = examples.filter((e) => e.pairs.length === 0 && e.passages.length > 0);
  const usedPairs = quick ? pairFiles.filter((_, i) => i % 4 === 0) : pairFiles;
  const usedOthers = quick ? otherFiles.filter((_, i) => i % 6 === 0) : otherFiles;

  const pairs = usedPairs.flatMap((e) => e.pairs);
  const passages = usedOthers.flatMap((e) => e.passages);
  const allPositives = pairFiles.flatMap((e) => e.pairs.map((p) => p.positive));
  const allPassages = otherFiles.flatMap((e) => e.passages);
  // Longer than 512 tokens: exercise truncation and the full position table.
  const long = [allPositives.join(' '), allPassages.join('\n')];
  if (!quick) long.push(allPassages.slice().reverse().join(' — '), examples.flatMap((e) => e.passages).join(' '));

  const texts = [...new Set([...pairs.flatMap((p) => [p.query, p.positive]), ...passages, ...long])];
  const candidates = [...new Set(pairs.map((p) => p.positive))];
  return { texts, pairs, candidates, longTexts: long, files: [...usedPairs, ...usedOthers].map((e) => e.file) };
}
