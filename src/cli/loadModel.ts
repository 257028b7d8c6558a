import { FlagAutoModel } from '../api/FlagAutoModel.js';
import { FlagModel } from '../api/FlagModel.js';
import type { FlagICLModel } from '../api/FlagICLModel.js';
import type { FlagLLMModel } from '../api/FlagLLMModel.js';
import { intFlag, stringFlag, type ParsedArgs } from './args.js';

export type AnyModel = FlagModel | FlagICLModel | FlagLLMModel;

/** --model (path, hf: URI or registry name; default: the embedded model), --pooling, --threads, --batch-size. */
export async function loadModelFromArgs(args: ParsedArgs): Promise<AnyModel> {
  const model = stringFlag(args, 'model');
  const pooling = stringFlag(args, 'pooling') as 'cls' | 'mean' | undefined;
  const options = {
    threads: intFlag(args, 'threads'),
    batchSize: intFlag(args, 'batch-size'),
    ...(pooling ? { poolingMethod: pooling } : {}),
    ...(args.flags.get('cpu') === true ? { gpu: false as const } : {}),
  };
  if (!model) return FlagModel.load(undefined, options);
  return FlagAutoModel.fromFinetuned(model, options) as Promise<AnyModel>; // TODO(lead): bge-m3 now loads as BGEM3FlagModel
}
