import { similarityMatrix } from '../vectors/similarity.js';
import { parseArgs, type ParsedArgs } from './args.js';
import { loadModelFromArgs } from './loadModel.js';

const BOOLEAN = ['query', 'json', 'cpu'];

/** `bge-gguf embed [texts…]`: one text → its vector; several → their similarity matrix. */
export async function runEmbed(argv: string[]): Promise<number> {
  const args: ParsedArgs = parseArgs(argv, BOOLEAN);
  const texts = args.positionals.length > 0 ? args.positionals : await readStdinLines();
  if (texts.length === 0) {
    console.error('bge-gguf embed: no text given; pass texts as arguments or one per line on stdin');
    return 2;
  }
  const model = await loadModelFromArgs(args);
  try {
    const vectors = args.flags.get('query') === true ? await model.encodeQueries(texts) : await model.encodeCorpus(texts);
    if (args.flags.get('json') === true) {
      for (let i = 0; i < texts.length; i++) console.log(JSON.stringify({ text: texts[i], embedding: Array.from(vectors[i]) }));
    } else if (texts.length === 1) {
      const v = vectors[0];
      console.log(`dimension ${v.length}, norm ${Math.hypot(...v).toFixed(4)}, engine ${model.engineKind}`);
      console.log(JSON.stringify(Array.from(v, (x) => Number(x.toFixed(6)))));
    } else {
      printMatrix(texts, similarityMatrix(vectors, vectors));
    }
  } finally {
    await model.dispose();
  }
  return 0;
}

function printMatrix(texts: string[], matrix: number[][]): void {
  const label = (t: string, i: number) => `[${i}] ${t.length > 48 ? `${t.slice(0, 45)}...` : t}`;
  texts.forEach((t, i) => console.log(label(t, i)));
  console.log(`\nsimilarity (dot product of normalized vectors):\n      ${texts.map((_, j) => `[${j}]`.padStart(7)).join('')}`);
  matrix.forEach((row, i) => console.log(`${`[${i}]`.padEnd(6)}${row.map((x) => x.toFixed(4).padStart(7)).join('')}`));
}

async function readStdinLines(): Promise<string[]> {
  if (process.stdin.isTTY) return [];
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
}
