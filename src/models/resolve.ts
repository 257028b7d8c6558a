import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BgeGgufError, ModelNotFoundError } from '../errors.js';
import { cacheDir } from './paths.js';
import { defaultModel } from './registry.js';

export interface HfUri {
  repo: string; // "org/name"
  file: string; // path inside the repo
  revision: string;
}

/** Parses `hf:<org>/<repo>/<file.gguf>` with an optional `@revision` after the repo. */
export function parseHfUri(uri: string): HfUri {
  const match = /^hf:([^/\s]+)\/([^/@\s]+)(?:@([^/\s]+))?\/(.+\.gguf)$/i.exec(uri);
  if (!match) {
    throw new ModelNotFoundError(`"${uri}" is not a valid hf: URI; expected hf:<org>/<repo>/<file>.gguf (e.g. hf:ChristianAzinn/bge-small-en-v1.5-gguf/bge-small-en-v1.5.Q8_0.gguf)`);
  }
  return { repo: `${match[1]}/${match[2]}`, file: match[4], revision: match[3] ?? 'main' };
}

export function hfCachePath(hf: HfUri): string {
  return join(cacheDir(), 'hf', hf.repo, hf.revision, hf.file);
}

/**
 * Resolves what a user passed to a local GGUF path: nothing → the embedded default model,
 * `hf:` → a cached download, anything else → an existing local file.
 */
export async function resolveModelFile(pathOrUri?: string, options: { signal?: AbortSignal } = {}): Promise<string> {
  if (pathOrUri === undefined || pathOrUri === '') {
    const { name, path } = defaultModel();
    if (!existsSync(path)) throw new ModelNotFoundError(`the embedded default model ${name} is missing at ${path}; reinstall bge-gguf`);
    return path;
  }
  if (typeof pathOrUri !== 'string') throw new ModelNotFoundError(`model must be a path or hf: URI string, got ${typeof pathOrUri}`);
  if (pathOrUri.startsWith('hf:')) return downloadHf(parseHfUri(pathOrUri), options.signal);
  const path = resolvePath(pathOrUri);
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new ModelNotFoundError(`no model file at ${path}; pass a local .gguf path, an hf:<org>/<repo>/<file>.gguf URI, or nothing for the embedded default`);
  }
  return path;
}

async function downloadHf(hf: HfUri, signal?: AbortSignal): Promise<string> {
  const target = hfCachePath(hf);
  if (existsSync(target)) return target;
  const where = `hf:${hf.repo}/${hf.file}`;
  if (process.env.HF_HUB_OFFLINE === '1' || process.env.BGE_GGUF_OFFLINE === '1') {
    throw new BgeGgufError('NETWORK', `${where} is not in the cache (${target}) and offline mode is on (HF_HUB_OFFLINE/BGE_GGUF_OFFLINE); download it once online or pass a local path`);
  }
  const endpoint = (process.env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/$/, '');
  const url = `${endpoint}/${hf.repo}/resolve/${encodeURIComponent(hf.revision)}/${hf.file.split('/').map(encodeURIComponent).join('/')}`;
  const headers: Record<string, string> = {};
  if (process.env.HF_TOKEN) headers.authorization = `Bearer ${process.env.HF_TOKEN}`;
  let response: Response;
  try {
    response = await fetch(url, { headers, signal, redirect: 'follow' });
  } catch (cause) {
    if (signal?.aborted) throw new BgeGgufError('CANCELLED', `download of ${where} was cancelled`);
    throw new BgeGgufError('NETWORK', `could not download ${where} from ${endpoint} (offline or unreachable: ${(cause as Error).message}); download the file yourself and pass its local path, or place it at ${target}`, { cause });
  }
  if (!response.ok || !response.body) {
    const hint = response.status === 401 || response.status === 403 ? ' (gated or private: set HF_TOKEN)' : response.status === 404 ? ' (no such repo or file)' : '';
    throw new BgeGgufError('NETWORK', `could not download ${where}: HTTP ${response.status}${hint}`);
  }
  mkdirSync(dirname(target), { recursive: true });
  const partial = `${target}.part-${process.pid}`;
  try {
    await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), createWriteStream(partial), { signal });
    renameSync(partial, target);
  } catch (cause) {
    rmSync(partial, { force: true });
    throw new BgeGgufError(signal?.aborted ? 'CANCELLED' : 'NETWORK', `download of ${where} failed: ${(cause as Error).message}`, { cause });
  }
  return target;
}
