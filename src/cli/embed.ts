/** `bge-gguf embed [texts…]`: vectors for texts given as arguments or one per line on stdin. */
import { createWriteStream } from 'node:fs';
import { Command, Option } from 'commander';
import { InvalidInputError } from '../errors.js';
import { similarityMatrix } from '../vectors/similarity.js';
import { embedOutputs, m3OutputsUnavailable } from '../api/embedOutputs.js';
import { loadModel } from './loadModel.js';
import { addModelOptions, modelSpec } from './options.js';
import { FORMATS, shortFloat, vectorWriter, type Format } from './output.js';
import { progressBar } from './progress.js';

/** Up to this many texts, `embed` without --format prints a readable summary and their similarity matrix. */
const SMALL = 10;
/** From this many texts on, a TTY stderr shows a progress bar. */
const PROGRESS_FROM = 256;

interface EmbedOptions {
  query?: boolean;
  format?: Format;
  similarity?: boolean;
  sparse?: boolean;
  colbert?: boolean;
  output?: string;
  model?: string;
  pooling?: 'cls' | 'mean';
  threads?: number;
  batchSize?: number;
  cpu?: boolean;
  progress: boolean;
}

export function embedCommand(): Command {
  const command = new Command('embed')
    .description('embed texts given as arguments, or one per line on stdin (output line N is input line N; an empty line is an error)')
    .argument('[texts...]', 'texts to embed (none: read stdin)')
    .option('-q, --query', "embed as queries (with the model's query instruction)")
    .addOption(new Option('-f, --format <format>', `vector output; default: a readable summary for up to ${SMALL} texts, else jsonl`).choices(FORMATS))
    .option('-s, --similarity', 'print the similarity matrix of the texts (the default for 2 to 10 texts without --format)')
    .option('--sparse', "BGE-M3: each text's lexical weights ({token id: weight}) as lexical_weights (jsonl or json)")
    .option('--colbert', "BGE-M3: each text's ColBERT vectors as colbert_vecs (jsonl or json)")
    .option('-o, --output <file>', 'write the vectors to a file instead of stdout')
    .option('--no-progress', 'no progress bar (shown on a terminal for 256 texts or more)');
  return addModelOptions(command).action(async (texts: string[], options: EmbedOptions) => {
    const input = texts.length > 0 ? texts : await readStdinLines();
    if (input.length === 0) throw new InvalidInputError('no text given; pass texts as arguments or one per line on stdin');
    const m3 = { sparse: options.sparse, colbert: options.colbert };
    const wantsM3 = Boolean(m3.sparse || m3.colbert);
    const format = options.format ?? (input.length > SMALL || wantsM3 ? 'jsonl' : undefined);
    if (wantsM3 && format !== 'jsonl' && format !== 'json') {
      throw new InvalidInputError(`--sparse and --colbert add lexical_weights / colbert_vecs to each text's record, which --format ${format} cannot hold; use --format jsonl or --format json`);
    }
    if (options.similarity && input.length > 2000) throw new InvalidInputError(`--similarity on ${input.length} texts would print a ${input.length}×${input.length} matrix; use it on at most 2000`);
    if (!options.output && (format === 'npy' || format === 'f32') && process.stdout.isTTY) {
      throw new InvalidInputError(`--format ${format} is binary: redirect stdout to a file or use --output <file>`);
    }
    const model = await loadModel(modelSpec(options));
    try {
      const unavailable = m3OutputsUnavailable(model, m3);
      if (unavailable) throw unavailable;
      const bar = options.progress && process.stderr.isTTY && input.length >= PROGRESS_FROM ? progressBar(input.length) : null;
      const keep = format === undefined || options.similarity;
      const kept: Float32Array[] = [];
      const out = options.output ? createWriteStream(options.output) : null;
      const write = (chunk: string | Buffer) => (out ? out.write(chunk) : process.stdout.write(chunk));
      const writer = format ? vectorWriter(format, write) : null;
      writer?.start(input.length, model.dimension);
      try {
        const size = options.batchSize ?? 256;
        for (let index = 0; index < input.length; index += size) {
          const { dense: vectors, ...extras } = await embedOutputs(model, input.slice(index, index + size), { kind: options.query ? 'queries' : 'corpus', ...m3 });
          writer?.batch(index, vectors, extras);
          if (keep) kept.push(...vectors);
          bar?.update(index + vectors.length);
        }
      } finally {
        bar?.stop();
      }
      writer?.end();
      if (out) await new Promise((resolve) => out.end(resolve));
      if (format === undefined && input.length === 1) printOne(kept[0], model.engineKind);
      if ((format === undefined && input.length > 1) || options.similarity) printMatrix(input, similarityMatrix(kept, kept), format !== undefined && !options.output);
    } finally {
      await model.dispose();
    }
  });
}

function printOne(v: Float32Array, engine: string): void {
  console.log(`dimension ${v.length}, norm ${Math.hypot(...v).toFixed(4)}, engine ${engine}`);
  console.log(`[${Array.from(v, shortFloat).join(',')}]`);
}

/** The matrix goes to stdout, or to stderr when stdout already carries the vectors. */
function printMatrix(texts: string[], matrix: number[][], toStderr: boolean): void {
  const say = toStderr ? console.error : console.log;
  const label = (t: string, i: number) => `[${i}] ${t.length > 48 ? `${t.slice(0, 45)}...` : t}`;
  texts.forEach((t, i) => say(label(t, i)));
  say(`\nsimilarity (dot product of normalized vectors):\n      ${texts.map((_, j) => `[${j}]`.padStart(7)).join('')}`);
  matrix.forEach((row, i) => say(`${`[${i}]`.padEnd(6)}${row.map((x) => x.toFixed(4).padStart(7)).join('')}`));
}

/** stdin, one text per line; a final newline ends the last line; an empty line is an error naming it. */
export async function readStdinLines(): Promise<string[]> {
  if (process.stdin.isTTY) return [];
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return [];
  const lines = text.replace(/\r?\n$/, '').split(/\r?\n/);
  const empty = lines.findIndex((l) => l.trim() === '');
  if (empty !== -1) {
    throw new InvalidInputError(`stdin line ${empty + 1} is empty; every line is one text and output line N is input line N, so remove or fill empty lines`);
  }
  return lines;
}

