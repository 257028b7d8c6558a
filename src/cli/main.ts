#!/usr/bin/env node
import { BgeGgufError } from '../errors.js';
import { registryNames } from '../models/registry.js';

const HELP = `bge-gguf — BGE embeddings on GGUF / llama.cpp

  bge-gguf embed [text…] [--query] [--json] [--model M] [--pooling cls|mean] [--threads N] [--cpu]
      one text: prints its vector; several: their similarity matrix; no text: one per line on stdin
  bge-gguf serve [--port 8080] [--host 127.0.0.1] [--model M]
  bge-gguf convert <hf-dir> <out.gguf> [--type f32|f16|q8_0]
  bge-gguf models            lists the model names FlagAutoModel knows
  bge-gguf doctor [--model M] [--no-encode]   native addon, CPU backend, GPUs, versions, a timed encode

  M is a local .gguf, an hf:<org>/<repo>/<file>.gguf URI, or a registry name; default: the embedded model.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'embed':
      return (await import('./embed.js')).runEmbed(rest);
    case 'serve':
      return (await import('./serve.js')).runServe(rest);
    case 'convert':
      return (await import('./convert.js')).runConvert(rest);
    case 'doctor': {
      const model = rest.includes('--model') ? rest[rest.indexOf('--model') + 1] : undefined;
      console.log(await (await import('./doctor.js')).runDoctor({ model, encode: !rest.includes('--no-encode') }));
      return 0;
    }
    case 'models':
      console.log(registryNames().join('\n'));
      return 0;
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      console.log(HELP);
      return 0;
    default:
      console.error(`bge-gguf: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const prefix = error instanceof BgeGgufError ? `error (${error.code})` : 'error';
    console.error(`bge-gguf: ${prefix}: ${(error as Error).message ?? String(error)}`);
    process.exitCode = 1;
  },
);
