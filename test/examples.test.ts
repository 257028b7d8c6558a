import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './support/fixtures.js';
import { startServer, type ServerProcess } from './support/serverProcess.js';

/**
 * Runs every file in examples/ as written, offline, with the embedded model. `bge-gguf` resolves to
 * src/ through examples/tsconfig.json (tsx paths), so no build is needed.
 */
function runExample(file: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join('examples', file)], {
    cwd: repoRoot,
    env: { ...process.env, TSX_TSCONFIG_PATH: join(repoRoot, 'examples', 'tsconfig.json'), HF_HUB_OFFLINE: '1', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('examples/ run as written', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => server?.stop());

  it('seed-notebook.mjs prints the similarity matrices', async () => {
    const out = await runExample('seed-notebook.mjs');
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/\[\s*\[\s*1\.0000/);
  });

  it('retrieval-topk.mjs finds the right passage first', async () => {
    const out = await runExample('retrieval-topk.mjs');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/how do plants make energy\?\n\s+[\d.]+\s+Photosynthesis/);
    expect(out.stdout).toMatch(/llama\.cpp use\?\n\s+[\d.]+\s+GGUF is the file format/);
  });

  it('server-openai.mjs talks to bge-gguf serve with the official client', async () => {
    const out = await runExample('server-openai.mjs', { BGE_GGUF_URL: server.base });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/2 vectors of 128 dimensions, \d+ tokens/);
  });

  it('langchain.mjs picks the matching document', async () => {
    const out = await runExample('langchain.mjs');
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/best match: BGE models turn text into vectors\./);
  });

  it("the README's JavaScript snippets are the example files", () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    for (const file of ['seed-notebook.mjs', 'retrieval-topk.mjs', 'server-openai.mjs', 'langchain.mjs']) {
      const code = readFileSync(join(repoRoot, 'examples', file), 'utf8').trim();
      expect(readme, file).toContain(code);
    }
  });
});
