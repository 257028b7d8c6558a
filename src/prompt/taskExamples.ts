/**
 * FlagEmbedding's few-shot examples for MTEB tasks: <dataDir>/<Task>.csv (first column → query,
 * second → response) + instructions.json (task → instruction).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from '../packageRoot.cjs';
import { BgeGgufError, InvalidInputError } from '../errors.js';
import type { IclExample } from './icl.js';

export interface TaskExamples {
  task: string;
  instruction: string;
  examples: Array<Required<{ [K in keyof IclExample]: string }>>;
}

export interface TaskExamplesOptions {
  /** Folder with <Task>.csv and instructions.json; default BGE_GGUF_ICL_EXAMPLES or the package's data/icl-examples. */
  dataDir?: string;
}

const QUERY_COLUMNS = ['query', 'text', 'sent1', 'sum1'];
const RESPONSE_COLUMNS = ['pos', 'positive', 'label', 'label_text', 'sent2', 'sum2', 'response'];

/**
 * The default data folder: BGE_GGUF_ICL_EXAMPLES, else the copy of FlagEmbedding's examples that
 * ships in the package (data/icl-examples, MIT, its LICENSE beside it).
 */
export function defaultExamplesDir(): string {
  if (process.env.BGE_GGUF_ICL_EXAMPLES) return resolve(process.env.BGE_GGUF_ICL_EXAMPLES);
  return join(packageRoot(), 'data', 'icl-examples');
}

/** Task names that have examples in the folder. */
export function listExampleTasks(options: TaskExamplesOptions = {}): string[] {
  const dir = examplesDir(options);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.csv'))
    .map((f) => f.slice(0, -4))
    .sort();
}

export function loadTaskExamples(taskName: string, options: TaskExamplesOptions = {}): TaskExamples {
  if (typeof taskName !== 'string' || taskName === '') throw new InvalidInputError('loadTaskExamples: taskName must be a non-empty string such as "MSMARCO"');
  const dir = examplesDir(options);
  const instructions = readInstructions(dir);
  const csvPath = join(dir, `${taskName}.csv`);
  const instruction = instructions[taskName];
  if (!existsSync(csvPath) || typeof instruction !== 'string') {
    const known = listExampleTasks({ dataDir: dir });
    throw new InvalidInputError(`no few-shot examples for task "${taskName}" in ${dir}; known tasks: ${known.join(', ')}`);
  }
  const rows = parseCsv(readFileSync(csvPath, 'utf8')).filter((row) => row.some((cell) => cell.trim() !== ''));
  if (rows.length === 0) throw new InvalidInputError(`${csvPath} is empty (it needs a header row such as "query,pos")`);
  const header = rows[0].map((h) => h.trim().toLowerCase());
  const q = header.findIndex((h) => QUERY_COLUMNS.includes(h));
  const r = header.findIndex((h) => RESPONSE_COLUMNS.includes(h));
  if (q < 0 || r < 0) {
    throw new InvalidInputError(`${csvPath}: header ${JSON.stringify(rows[0])} has no query column (${QUERY_COLUMNS.join('/')}) and response column (${RESPONSE_COLUMNS.join('/')})`);
  }
  const examples = rows.slice(1).map((row) => ({ instruct: instruction, query: row[q] ?? '', response: row[r] ?? '' }));
  return { task: taskName, instruction, examples };
}

function examplesDir(options: TaskExamplesOptions): string {
  const dir = options.dataDir ? resolve(options.dataDir) : defaultExamplesDir();
  if (!existsSync(join(dir, 'instructions.json'))) {
    throw new InvalidInputError(
      `no ICL examples folder at ${dir} (instructions.json missing); pass { dataDir } or set BGE_GGUF_ICL_EXAMPLES to a folder with <Task>.csv files and instructions.json`,
    );
  }
  return dir;
}

function readInstructions(dir: string): Record<string, unknown> {
  const path = join(dir, 'instructions.json');
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('expected an object of task → instruction');
    return parsed as Record<string, unknown>;
  } catch (cause) {
    throw new BgeGgufError('INVALID_INPUT', `${path} is not valid: ${(cause as Error).message}`, { cause });
  }
}

/**
 * RFC 4180 CSV: comma-separated, fields optionally in double quotes (which may hold commas, line
 * breaks and "" for a quote). Accepts \n, \r\n and \r line ends and a leading UTF-8 BOM.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let fieldStarted = false; // a quote opens a quoted field only as its first character
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endField = () => {
    row.push(field);
    field = '';
    fieldStarted = false;
  };
  const endRow = () => {
    endField();
    rows.push(row);
    row = [];
  };
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (c === '"' && !fieldStarted) {
      quoted = true;
      fieldStarted = true;
    } else if (c === ',') endField();
    else if (c === '\n') endRow();
    else if (c === '\r') {
      if (text[i + 1] === '\n') i++;
      endRow();
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (quoted) throw new InvalidInputError('CSV ends inside a quoted field (a closing " is missing)');
  if (fieldStarted || row.length > 0) endRow();
  return rows;
}
