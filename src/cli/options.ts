import { InvalidArgumentError, Option, type Command } from 'commander';
import type { ModelSpec } from './loadModel.js';

/** Commander parser for a whole number >= min. */
export function integer(min = 1) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number >= ${min}, got "${value}"`);
    return n;
  };
}

/** The options every model-loading subcommand shares. */
export function addModelOptions(command: Command): Command {
  return command
    .option('-m, --model <model>', 'a .gguf file, an hf: URI or a registry name (default: the embedded model)')
    .addOption(new Option('--pooling <method>', 'pooling for BERT models').choices(['cls', 'mean']))
    .option('--threads <n>', 'CPU threads (default: all cores)', integer())
    .option('--batch-size <n>', 'most texts in one decode', integer())
    .option('--cpu', 'never use a GPU');
}

export function modelSpec(options: { model?: string; pooling?: 'cls' | 'mean'; threads?: number; batchSize?: number; cpu?: boolean }): ModelSpec {
  return { model: options.model, pooling: options.pooling, threads: options.threads, batchSize: options.batchSize, cpu: options.cpu };
}
