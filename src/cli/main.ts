#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { BgeGgufError } from '../errors.js';
import { packageRoot } from '../models/paths.js';
import { convertCommand } from './convert.js';
import { doctorCommand } from './doctor.js';
import { embedCommand } from './embed.js';
import { modelsCommand } from './models.js';
import { serveCommand } from './serve.js';

function version(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

export function buildProgram(): Command {
  const program = new Command('bge-gguf')
    .description('BGE embeddings on GGUF / llama.cpp: embed texts, serve an OpenAI-compatible HTTP API, convert checkpoints')
    .version(version(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', '\nMODEL (--model) is a local .gguf, an hf:<org>/<repo>/<file>.gguf URI or a registry name (bge-gguf models); default: the embedded all-MiniLM-L6-v2.');
  program.addCommand(embedCommand());
  program.addCommand(serveCommand());
  program.addCommand(convertCommand());
  program.addCommand(modelsCommand());
  program.addCommand(doctorCommand());
  // ── more subcommands go here, one file each ──
  // rerank: the XLM-R / FlagReranker helper adds `bge-gguf rerank` (src/cli/rerank.ts)
  return program;
}

buildProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    const prefix = error instanceof BgeGgufError ? `error (${error.code})` : 'error';
    console.error(`bge-gguf: ${prefix}: ${(error as Error).message ?? String(error)}`);
    process.exitCode = 1;
  });
