/** Child process for the concurrent-download test: resolves one hf: URI and prints the path (or the error code). */
import { resolveModelFile } from '../../src/models/resolve.js';

const uri = process.argv[2];
resolveModelFile(uri).then(
  (path) => console.log(JSON.stringify({ path })),
  (error: { code?: string; message: string }) => console.log(JSON.stringify({ code: error.code ?? 'UNTYPED', message: error.message })),
);
