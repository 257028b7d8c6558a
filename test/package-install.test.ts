/**
 * The npm package as a user gets it: `npm pack`, installed into a fresh project whose PATH has no
 * cmake, C/C++ compiler or git, runs on the native addon from ESM and CommonJS, and still does after
 * the project folder is moved (what electron-builder, a Docker COPY or a deploy step does).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './support/fixtures.js';

const TOOLS = ['cmake', 'cc', 'c++', 'gcc', 'g++', 'clang', 'git', 'make', 'ninja'];

function which(command: string, path = process.env.PATH ?? ''): string | null {
  for (const dir of path.split(':')) {
    const file = join(dir, command);
    if (dir && existsSync(file)) return file;
  }
  return null;
}

function folderBytes(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const inner = folderBytes(path);
      bytes += inner.bytes;
      files += inner.files;
    } else if (entry.isFile()) {
      bytes += statSync(path).size;
      files++;
    }
  }
  return { bytes, files };
}

const USE_ESM = `import { FlagModel } from 'bge-gguf';
const model = await FlagModel.load();
const [vector] = await model.encode(['a relocated install']);
console.log(JSON.stringify({ engine: model.engineKind, dim: vector.length }));
await model[Symbol.asyncDispose]();
`;
const USE_CJS = `const { FlagModel, loadTaskExamples } = require('bge-gguf');
FlagModel.load().then(async (model) => {
  console.log(JSON.stringify({ engine: model.engineKind, examples: loadTaskExamples('MSMARCO').examples.length }));
  await model.dispose();
});
`;

describe('the packed npm package, installed without a toolchain', () => {
  const work = mkdtempSync(join(tmpdir(), 'bge-gguf-pack-'));
  const bin = join(work, 'bin');
  let project = join(work, 'app');
  let tarball = '';
  const env = () => ({ ...process.env, PATH: bin, npm_config_update_notifier: 'false' });
  const run = (file: string) => JSON.parse(execFileSync(process.execPath, [file], { cwd: project, env: env(), encoding: 'utf8' }).trim().split('\n').pop()!);

  beforeAll(() => {
    // What `npm pack` runs as prepack (the prebuilt addon); dist/ is CI's `npm install` (prepare) build.
    for (const built of ['dist/index.js', 'dist/cjs/index.js', 'dist/cjs/index.d.ts']) {
      expect(existsSync(join(repoRoot, built)), `${built} is missing: run npm run build`).toBe(true);
    }
    execFileSync(process.execPath, ['scripts/llama-headers.mjs', '--check'], { cwd: repoRoot, stdio: 'pipe' });
    execFileSync(process.execPath, ['scripts/build-native.mjs', '--prebuild'], { cwd: repoRoot, stdio: 'pipe' });
    const packed = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: repoRoot, encoding: 'utf8' }));
    tarball = join(work, packed[0].filename);
    console.log(`tarball: ${(statSync(tarball).size / 1e6).toFixed(1)} MB, ${packed[0].entryCount} files, unpacked ${(packed[0].unpackedSize / 1e6).toFixed(1)} MB`);

    // A PATH with node, npm and a shell only.
    mkdirSync(bin);
    for (const tool of ['node', 'npm', 'npx', 'sh', 'env']) symlinkSync(which(tool)!, join(bin, tool));
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', private: true }));
    writeFileSync(join(project, 'use.mjs'), USE_ESM);
    writeFileSync(join(project, 'use.cjs'), USE_CJS);
    const started = Date.now();
    // bge-gguf comes from the tarball; its dependencies from npm's cache (the registry only when missing there).
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: project, env: env(), stdio: 'pipe' });
    console.log(`npm install: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 240_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('has no compiler, cmake or git on the PATH it installs and runs with', () => {
    for (const tool of TOOLS) expect(which(tool, bin), tool).toBeNull();
  });

  it('ships only what users run: no parity scripts, fixture generators, orphan source maps or absolute build paths', () => {
    const installed = join(project, 'node_modules', 'bge-gguf');
    const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(files.filter((f) => /parity|bench\/|synthetic|test\/|\.map$|\.llama/.test(f))).toEqual([]);
    for (const required of ['LICENSE', 'NOTICE', 'data/icl-examples/LICENSE', 'models/all-minilm-l6-v2-q8_0.gguf', 'prebuilds/linux-x64/bge_gguf.node']) {
      expect(files, required).toContain(`package/${required}`);
    }
    const size = folderBytes(installed);
    console.log(`installed bge-gguf: ${(size.bytes / 1e6).toFixed(1)} MB, ${size.files} files`);
    expect(size.bytes).toBeLessThanOrEqual(40e6);
    expect(existsSync(join(installed, '.llama')), 'nothing is cloned at install').toBe(false);
    const prebuilds = join(installed, 'prebuilds', 'linux-x64');
    for (const file of readdirSync(prebuilds)) {
      expect(readFileSync(join(prebuilds, file)).includes(repoRoot), `${file} holds the build machine's path`).toBe(false);
    }
  });

  it('runs on the native engine from ESM and from CommonJS (require), with the task examples shipped', () => {
    expect(run('use.mjs')).toEqual({ engine: 'native', dim: 384 });
    expect(run('use.cjs')).toEqual({ engine: 'native', examples: 3 });
  });

  it('type-checks for CommonJS (.cts) and ESM (.mts) consumers', () => {
    const use = `import { FlagModel, type FlagModelOptions } from 'bge-gguf';\nconst options: FlagModelOptions = { threads: 1 };\nexport const model: Promise<FlagModel> = FlagModel.load(undefined, options);\n`;
    writeFileSync(join(project, 'check.cts'), use);
    writeFileSync(join(project, 'check.mts'), use);
    const tsconfig = { compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: ['check.cts', 'check.mts'] };
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(tsconfig));
    const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    execFileSync(process.execPath, [tsc, '-p', project], { cwd: project, env: env(), stdio: 'pipe' });
  });

  it('still runs natively after the project folder moved', () => {
    const moved = join(work, 'moved-app');
    renameSync(project, moved);
    project = moved;
    expect(run('use.mjs')).toEqual({ engine: 'native', dim: 384 });
    expect(run('use.cjs').engine).toBe('native');
  });
});
