/** `bge-gguf convert <hf-dir> <out.gguf>`: Hugging Face BERT checkpoint → GGUF. */
import { Command, Option } from 'commander';
import { convertHfToGguf, OUT_TYPES, type OutType } from '../convert/convert.js';
import { InvalidInputError } from '../errors.js';

export function convertCommand(): Command {
  return new Command('convert')
    .description('convert a Hugging Face BERT checkpoint folder (config.json, model.safetensors, tokenizer.json or vocab.txt) to a GGUF')
    .argument('<hf-dir>', 'the checkpoint folder (modules.json + 1_Pooling/config.json give the pooling when present)')
    .argument('<out.gguf>', 'the GGUF file to write')
    .addOption(new Option('--type <type>', 'tensor type of the weight matrices; norms, biases and position embeddings stay F32').choices(OUT_TYPES).default('f16'))
    .option('--name <name>', 'general.name in the GGUF (default: the folder name)')
    .addOption(new Option('--pooling <pooling>', "overrides the checkpoint's sentence-transformers pooling").choices(['mean', 'cls', 'last']))
    .option('--json', 'print the conversion summary as JSON')
    .action(async (hfDir: string, outPath: string, options: { type: OutType; name?: string; pooling?: 'mean' | 'cls' | 'last'; json?: boolean }) => {
      if (!outPath.toLowerCase().endsWith('.gguf')) throw new InvalidInputError(`the output file should end in .gguf (got ${outPath})`);
      const summary = await convertHfToGguf(hfDir, outPath, { type: options.type, pooling: options.pooling, name: options.name });
      if (options.json) {
        console.log(JSON.stringify(summary, null, 2));
        return;
      }
      const mib = (summary.fileBytes / 2 ** 20).toFixed(1);
      console.log(
        `wrote ${summary.outPath} (${mib} MiB, ${summary.type}): ${summary.layers} layers, hidden ${summary.hidden}, ` +
          `${summary.vocabSize} tokens, pooling ${summary.pooling ?? 'not set'}, ${summary.tensorCount} tensors`,
      );
    });
}
