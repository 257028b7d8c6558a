import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { codeDir, packageRoot } from '../models/paths.js';

/**
 * Starts src/server/<name> as a worker thread: the compiled .js beside this file in dist/; from src/
 * (tests, `node --import tsx`), the TypeScript source through tsx's loader (Node 20 workers ignore
 * --import for their entry file).
 */
export function spawnWorker(name: string, workerData?: unknown): Worker {
  const js = join(codeDir(), 'server', `${name}.js`);
  if (existsSync(js)) return new Worker(js, { workerData });
  const ts = pathToFileURL(join(codeDir(), 'server', `${name}.ts`)).href;
  const tsxApi = pathToFileURL(createRequire(join(packageRoot(), 'package.json')).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const code = `import(${JSON.stringify(tsxApi)}).then((tsx) => tsx.register()).then(() => import(${JSON.stringify(ts)}))`;
  return new Worker(code, { eval: true, workerData });
}
