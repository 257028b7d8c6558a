/** `bge-gguf models`: every registry name and what loading it needs. */
import { Command } from 'commander';
import { defaultModel, registryNames, lookupModel } from '../models/registry.js';

/** Embedder classes FlagAutoModel can load today. */
const LOADABLE = new Set(['FlagModel', 'BGEM3FlagModel', 'FlagICLModel', 'FlagLLMModel']);

export function modelNeeds(name: string): { class: string; needs: string } {
  const entry = lookupModel(name)!.entry;
  if (name === defaultModel().name) return { class: entry.class, needs: 'bundled (the default model; works offline)' };
  if (!LOADABLE.has(entry.class)) return { class: entry.class, needs: `not supported (bge-gguf has no ${entry.class} yet)` };
  if (entry.gguf) return { class: entry.class, needs: `download on first use: ${entry.gguf}` };
  if (entry.class === 'FlagICLModel' || entry.class === 'FlagLLMModel') return { class: entry.class, needs: "your own GGUF (llama.cpp's convert_hf_to_gguf.py), then --model file.gguf" };
  return { class: entry.class, needs: 'your own GGUF: convert a checkpoint (bge-gguf convert <hf-dir> out.gguf for BERT models), then --model out.gguf' };
}

export function modelsCommand(): Command {
  return new Command('models')
    .description('list the model names FlagAutoModel knows and what each needs (bundled, hf: download, convert, not supported)')
    .option('--json', 'one JSON object per model')
    .action((options: { json?: boolean }) => {
      const rows = registryNames().map((name) => ({ name, ...modelNeeds(name) }));
      if (options.json) {
        for (const row of rows) console.log(JSON.stringify(row));
        return;
      }
      const width = Math.max(...rows.map((r) => r.name.length));
      const classWidth = Math.max(...rows.map((r) => r.class.length));
      for (const row of rows) console.log(`${row.name.padEnd(width)}  ${row.class.padEnd(classWidth)}  ${row.needs}`);
    });
}
