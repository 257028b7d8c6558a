/** `bge-gguf rerank --model <reranker> --query q [documents…]`: documents sorted by relevance to the query. */
import { Command } from 'commander';
import { FlagAutoReranker } from '../api/FlagAutoReranker.js';
import type { FlagReranker } from '../api/FlagReranker.js';
import { InvalidInputError } from '../errors.js';
import { readStdinLines } from './embed.js';
import { integer } from './options.js';

export interface RerankCommandOptions {
  /** GGUF path, hf: URI or registry name (bge-reranker-v2-m3 with modelPath). */
  model: string;
  query: string;
  documents: string[];
  /** Sigmoid scores in [0, 1] instead of raw logits. */
  normalize?: boolean;
  /** Print only the best N. */
  topN?: number;
  /** One JSON object per line ({index, score, document}) instead of a table. */
  json?: boolean;
  maxLength?: number;
  threads?: number;
  batchSize?: number;
  /** Run on the CPU even when a GPU is found. */
  cpu?: boolean;
}

/**
 * `bge-gguf rerank --model <gguf> --query q doc1 doc2 …`: the documents sorted by relevance to the
 * query, best first. Returns the exit code; `print` receives each output line.
 */
export async function runRerank(options: RerankCommandOptions, print: (line: string) => void = console.log): Promise<number> {
  if (!options.model) throw new InvalidInputError('bge-gguf rerank: --model is required (a reranker GGUF, an hf: URI or a registry name)');
  if (typeof options.query !== 'string' || options.query === '') throw new InvalidInputError('bge-gguf rerank: --query is required');
  if (!options.documents?.length) throw new InvalidInputError('bge-gguf rerank: give the documents to rank as arguments or one per line on stdin');
  const reranker: FlagReranker = await FlagAutoReranker.fromFinetuned(options.model, {
    threads: options.threads,
    batchSize: options.batchSize,
    maxLength: options.maxLength,
    ...(options.cpu ? { gpu: false as const } : {}),
  });
  try {
    const { results } = await reranker.rank(options.query, options.documents, { normalize: options.normalize ?? false, topN: options.topN });
    if (options.json) {
      for (const r of results) print(JSON.stringify({ index: r.index, score: r.score, document: r.document }));
    } else {
      const shorten = (t: string) => (t.length > 70 ? `${t.slice(0, 67)}...` : t).replace(/\s+/g, ' ');
      for (const r of results) print(`${r.score.toFixed(6).padStart(11)}  [${r.index}] ${shorten(r.document)}`);
    }
  } finally {
    await reranker.dispose();
  }
  return 0;
}

type RerankFlags = Omit<RerankCommandOptions, 'documents'>;

export function rerankCommand(): Command {
  return new Command('rerank')
    .description('rank documents (arguments, or one per line on stdin) by relevance to a query with a cross-encoder reranker; best first')
    .argument('[documents...]', 'documents to rank (none: read stdin, one per line; an empty line is an error)')
    .requiredOption('-m, --model <model>', 'a reranker .gguf, an hf: URI or a registry reranker name (bge-gguf models)')
    .requiredOption('-q, --query <query>', 'the query the documents are scored against')
    .option('-n, --normalize', 'sigmoid scores in [0, 1] (default: the raw logits, as FlagReranker)')
    .option('--top-n <n>', 'print only the best N', integer())
    .option('--json', 'one JSON object per line: {index, score, document}')
    .option('--max-length <n>', 'most tokens of a query/document pair (default 512)', integer())
    .option('--threads <n>', 'CPU threads (default: all cores)', integer())
    .option('--batch-size <n>', 'most pairs in one decode', integer())
    .option('--cpu', 'never use a GPU')
    .addHelpText('after', '\nOutput: one line per document, best first: score, [input index], document (or JSON lines with --json).')
    .action(async (documents: string[], flags: RerankFlags) => {
      const input = documents.length > 0 ? documents : await readStdinLines();
      process.exitCode = await runRerank({ ...flags, documents: input });
    });
}
