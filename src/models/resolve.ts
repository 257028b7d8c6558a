import { existsSync, statSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { ModelNotFoundError } from '../errors.js';
import { downloadHf, type DownloadOptions } from './download.js';
import { parseHfUri } from './hfUri.js';
import { defaultModel } from './registry.js';

export { hfCachePath, parseHfUri, type HfUri } from './hfUri.js';
export type { DownloadOptions, DownloadProgress } from './download.js';

/**
 * Resolves what a user passed to a local GGUF path: nothing → the embedded default model,
 * `hf:` → a cached download, anything else → an existing local file. An empty string is an
 * error, not the default (it is almost always an unset variable).
 */
export async function resolveModelFile(pathOrUri?: string, options: DownloadOptions = {}): Promise<string> {
  if (pathOrUri === undefined) {
    const { name, path } = defaultModel();
    if (!existsSync(path)) throw new ModelNotFoundError(`the embedded default model ${name} is missing at ${path}; reinstall bge-gguf`);
    return path;
  }
  if (typeof pathOrUri !== 'string') throw new ModelNotFoundError(`model must be a path or hf: URI string, got ${pathOrUri === null ? 'null' : typeof pathOrUri}`);
  if (pathOrUri.trim() === '') {
    throw new ModelNotFoundError('model is an empty string; pass a local .gguf path, an hf:<org>/<repo>/<file>.gguf URI, or leave it out (undefined) for the embedded default');
  }
  if (pathOrUri.includes('\0')) throw new ModelNotFoundError('model path contains a NUL character');
  if (pathOrUri.startsWith('hf:')) return downloadHf(parseHfUri(pathOrUri), options);
  const path = resolvePath(pathOrUri);
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new ModelNotFoundError(`no model file at ${path}; pass a local .gguf path, an hf:<org>/<repo>/<file>.gguf URI, or nothing for the embedded default`);
  }
  return path;
}
