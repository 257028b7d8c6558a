/** `bge-gguf convert <hf-dir> <out.gguf> [--type f32|f16|q8_0]`: Hugging Face BERT checkpoint → GGUF. */
import { InvalidInputError } from '../errors.js';
import { convertHfToGguf, OUT_TYPES, type OutType } from '../convert/convert.js';
import { parseArgs, stringFlag, type ParsedArgs } from './args.js';

const USAGE = `usage: bge-gguf convert <hf-dir> <out.gguf> [--type f32|f16|q8_0] [--name NAME] [--pooling mean|cls|last] [--json]
  <hf-dir>  a Hugging Face BERT checkpoint folder: config.json, model.safetensors, tokenizer.json or vocab.txt
            (modules.json + 1_Pooling/config.json give the pooling when present)
  --type    tensor type of the weight matrices (default f16); norms, biases and position embeddings stay F32
  --name    general.name in the GGUF (default: the folder name)
  --pooling overrides the checkpoint's sentence-transformers pooling
  --json    prints the conversion summary as JSON`;

const POOLINGS = ['mean', 'cls', 'last'] as const;

function parse(argv: string[]): ParsedArgs {
  try {
    return parseArgs(argv, ['json', 'help']);
  } catch (error) {
    throw new InvalidInputError(`${(error as Error).message}\n${USAGE}`);
  }
}

function flag(args: ParsedArgs, name: string): string | undefined {
  try {
    return stringFlag(args, name);
  } catch (error) {
    throw new InvalidInputError((error as Error).message);
  }
}

function choice<T extends string>(args: ParsedArgs, name: string, allowed: readonly T[]): T | undefined {
  const value = flag(args, name);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new InvalidInputError(`--${name} must be one of ${allowed.join(', ')} (got "${value}")`);
  }
  return value as T;
}

export async function runConvert(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    console.log(USAGE);
    return 0;
  }
  const args = parse(argv);
  const known = new Set(['type', 'name', 'pooling', 'json', 'help']);
  const unknown = [...args.flags.keys()].filter((f) => !known.has(f));
  if (unknown.length) throw new InvalidInputError(`unknown option --${unknown[0]}\n${USAGE}`);
  if (args.positionals.length !== 2) {
    throw new InvalidInputError(`convert needs a checkpoint folder and an output file (got ${args.positionals.length} arguments)\n${USAGE}`);
  }
  const [hfDir, outPath] = args.positionals;
  if (!outPath.toLowerCase().endsWith('.gguf')) throw new InvalidInputError(`the output file should end in .gguf (got ${outPath})`);
  const type: OutType = choice(args, 'type', OUT_TYPES) ?? 'f16';
  const pooling = choice(args, 'pooling', POOLINGS);
  const name = flag(args, 'name');

  const summary = await convertHfToGguf(hfDir, outPath, { type, pooling, name });
  if (args.flags.get('json') === true) {
    console.log(JSON.stringify(summary, null, 2));
  } else {
    const mib = (summary.fileBytes / 2 ** 20).toFixed(1);
    console.log(
      `wrote ${summary.outPath} (${mib} MiB, ${summary.type}): ${summary.layers} layers, hidden ${summary.hidden}, ` +
        `${summary.vocabSize} tokens, pooling ${summary.pooling ?? 'not set'}, ${summary.tensorCount} tensors`,
    );
  }
  return 0;
}
