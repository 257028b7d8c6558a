import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BgeGgufError } from '../errors.js';
import { cacheDir } from './paths.js';
import { assertInside, hfCachePath, type HfUri } from './hfUri.js';
import { acquireDownloadLock, isProcessAlive } from './downloadLock.js';

export interface DownloadProgress {
  /** Bytes of the file on disk so far (a resumed download starts above 0). */
  downloaded: number;
  /** The file's size when the hub reports it, else null. */
  total: number | null;
}

export interface DownloadOptions {
  signal?: AbortSignal;
  onDownloadProgress?: (progress: DownloadProgress) => void;
  /** Longest wait for the hub's response headers (default 30 s, or $BGE_GGUF_CONNECT_TIMEOUT_MS). */
  connectTimeoutMs?: number;
  /** Longest pause between two chunks of the body (default 60 s, or $BGE_GGUF_IDLE_TIMEOUT_MS). */
  idleTimeoutMs?: number;
}

export function isOffline(): boolean {
  return ['HF_HUB_OFFLINE', 'BGE_GGUF_OFFLINE'].some((name) => /^(1|true|yes|on)$/i.test(process.env[name] ?? ''));
}

/** Part files being written by this process (so a retry in the same process can adopt an idle one). */
const activeParts = new Set<string>();

/**
 * Downloads an hf: file into the cache once. Concurrent callers (threads or processes) wait on a
 * lock; each writer uses its own part file and renames it into place, so readers never see a
 * partial file. A part left by an interrupted download is resumed with a Range request; size
 * and sha256 are checked against what the hub reports (X-Linked-Size / X-Linked-Etag).
 */
export async function downloadHf(hf: HfUri, options: DownloadOptions = {}): Promise<string> {
  const target = hfCachePath(hf);
  if (existsSync(target)) return target;
  const where = `hf:${hf.repo}/${hf.file}`;
  if (isOffline()) {
    throw new BgeGgufError('NETWORK', `${where} is not in the cache (${target}) and offline mode is on (HF_HUB_OFFLINE/BGE_GGUF_OFFLINE); download it once online or pass a local path`);
  }
  const timeouts = {
    connect: timeoutOption('connectTimeoutMs', options.connectTimeoutMs, 'BGE_GGUF_CONNECT_TIMEOUT_MS', 30_000),
    idle: timeoutOption('idleTimeoutMs', options.idleTimeoutMs, 'BGE_GGUF_IDLE_TIMEOUT_MS', 60_000),
  };
  mkdirSync(dirname(target), { recursive: true });
  assertInside(cacheDir(), target); // again, now that the folders exist (a symlink planted in the cache)
  const release = await acquireDownloadLock(`${target}.lock`, () => existsSync(target), options.signal);
  try {
    if (existsSync(target)) return target; // another process finished it while we waited
    const part = adoptPart(target) ?? `${target}.part-${process.pid}-${randomBytes(4).toString('hex')}`;
    activeParts.add(part);
    try {
      await fetchInto(hf, where, part, options, timeouts);
    } finally {
      activeParts.delete(part);
    }
    renameSync(part, target);
    return target;
  } finally {
    release();
  }
}

function timeoutOption(name: string, value: number | undefined, env: string, fallback: number): number {
  const chosen = value ?? (process.env[env] ? Number(process.env[env]) : fallback);
  if (!Number.isFinite(chosen) || chosen <= 0) {
    throw new BgeGgufError('INVALID_INPUT', `${value !== undefined ? name : env} must be a positive number of milliseconds, got ${String(value ?? process.env[env])}`);
  }
  return chosen;
}

/** A part file of this target whose writer is gone (dead process, or a failed attempt of this one): renamed to a fresh name of ours. */
function adoptPart(target: string): string | undefined {
  const prefix = `${basename(target)}.part`;
  for (const name of readdirSync(dirname(target))) {
    if (!name.startsWith(prefix)) continue;
    const path = join(dirname(target), name);
    const pid = Number(/^\.part-(\d+)/.exec(name.slice(basename(target).length))?.[1]);
    const idle = pid === process.pid ? !activeParts.has(path) : !isProcessAlive(pid);
    if (!idle) continue;
    const mine = `${target}.part-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      renameSync(path, mine);
      return mine;
    } catch {
      // another process adopted it first
    }
  }
  return undefined;
}

interface Expected {
  size: number | null;
  sha256: string | null;
}

async function fetchInto(hf: HfUri, where: string, part: string, options: DownloadOptions, timeouts: { connect: number; idle: number }): Promise<void> {
  const endpoint = (process.env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/$/, '');
  const url = `${endpoint}/${hf.repo}/resolve/${encodeURIComponent(hf.revision)}/${hf.file.split('/').map(encodeURIComponent).join('/')}`;
  const controller = new AbortController();
  let reason: 'connect' | 'idle' | 'cancel' | null = null;
  const stop = (why: 'connect' | 'idle' | 'cancel') => {
    reason ??= why;
    controller.abort();
  };
  const onAbort = () => stop('cancel');
  let callbackError: { error: unknown } | undefined; // the caller's onDownloadProgress threw: rethrown as is
  if (options.signal?.aborted) throw new BgeGgufError('CANCELLED', `download of ${where} was cancelled`);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const arm = (why: 'connect' | 'idle', ms: number) => {
    clearTimeout(timer);
    timer = setTimeout(() => stop(why), ms);
  };
  const fail = (cause: unknown): BgeGgufError => {
    if (cause instanceof BgeGgufError) return cause;
    if (reason === 'cancel') return new BgeGgufError('CANCELLED', `download of ${where} was cancelled`, { cause });
    if (reason === 'connect') return new BgeGgufError('NETWORK', `no response from ${endpoint} for ${where} within ${timeouts.connect} ms; check the connection or HF_ENDPOINT, or pass a local path`, { cause });
    if (reason === 'idle') return new BgeGgufError('NETWORK', `the download of ${where} stalled (no data for ${timeouts.idle} ms); try again — it resumes where it stopped`, { cause });
    return new BgeGgufError('NETWORK', `could not download ${where} from ${endpoint} (offline or unreachable: ${(cause as Error).message}); download the file yourself and pass its local path`, { cause });
  };
  try {
    let have = existsSync(part) ? statSync(part).size : 0;
    let hash = createHash('sha256');
    if (have > 0) await hashFile(part, hash); // before the request, so the response is not left waiting
    for (let attempt = 0; ; attempt++) {
      arm('connect', timeouts.connect);
      const { response, expected } = await request(url, have, controller.signal, where);
      if (response.status === 416 || (response.status === 206 && contentRangeStart(response) !== have)) {
        // the part does not match what the server has: start again without Range
        await response.body?.cancel().catch(() => {});
        rmSync(part, { force: true });
        [have, hash] = [0, createHash('sha256')];
        if (attempt === 0) continue;
        throw new BgeGgufError('NETWORK', `${endpoint} answered a byte-range request for ${where} with HTTP ${response.status}`);
      }
      if (have > 0 && response.status !== 206) {
        rmSync(part, { force: true }); // the server ignored Range: its body is the whole file
        [have, hash] = [0, createHash('sha256')];
      }
      const total = expected.size ?? totalFromHeaders(response, have);
      arm('idle', timeouts.idle);
      const size = await streamBody(response, part, have, hash, (downloaded) => {
        arm('idle', timeouts.idle);
        try {
          options.onDownloadProgress?.({ downloaded, total });
        } catch (error) {
          callbackError = { error };
          throw error;
        }
      });
      clearTimeout(timer);
      verify(where, part, size, hash.digest('hex'), { size: total, sha256: expected.sha256 });
      return;
    }
  } catch (cause) {
    if (callbackError) throw callbackError.error;
    throw fail(cause);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** GET with the hub's redirects followed by hand, keeping the LFS size and sha256 the hub reports before the CDN answers. */
async function request(url: string, have: number, signal: AbortSignal, where: string): Promise<{ response: Response; expected: Expected }> {
  const expected: Expected = { size: null, sha256: null };
  let current = new URL(url);
  const origin = current.origin;
  for (let hop = 0; hop < 10; hop++) {
    const headers: Record<string, string> = { 'accept-encoding': 'identity' };
    if (process.env.HF_TOKEN && current.origin === origin) headers.authorization = `Bearer ${process.env.HF_TOKEN}`;
    if (have > 0) headers.range = `bytes=${have}-`;
    const response = await fetch(current, { headers, signal, redirect: 'manual' });
    const linkedSize = response.headers.get('x-linked-size');
    if (expected.size === null && linkedSize && /^\d+$/.test(linkedSize)) expected.size = Number(linkedSize);
    expected.sha256 ??= sha256Etag(response.headers.get('x-linked-etag')) ?? sha256Etag(response.headers.get('etag'));
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel().catch(() => {});
      current = new URL(location, current);
      continue;
    }
    if (response.ok || response.status === 416) return { response, expected };
    await response.body?.cancel().catch(() => {});
    const hint = response.status === 401 || response.status === 403 ? ' (gated or private: set HF_TOKEN)' : response.status === 404 ? ' (no such repo, revision or file)' : '';
    throw new BgeGgufError('NETWORK', `could not download ${where}: HTTP ${response.status}${hint}`);
  }
  throw new BgeGgufError('NETWORK', `could not download ${where}: too many redirects`);
}

/** An ETag that is a sha256 (LFS files); git blob ETags (sha1) and weak tags are not checksums of the content. */
function sha256Etag(value: string | null): string | null {
  const tag = value?.replace(/^W\//, '').replace(/"/g, '').trim().toLowerCase();
  return tag && /^[0-9a-f]{64}$/.test(tag) ? tag : null;
}

function contentRangeStart(response: Response): number | null {
  const match = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '');
  return match ? Number(match[1]) : null;
}

function totalFromHeaders(response: Response, have: number): number | null {
  const range = /\/(\d+)$/.exec(response.headers.get('content-range') ?? '');
  if (range) return Number(range[1]);
  const length = response.headers.get('content-length');
  return length && /^\d+$/.test(length) ? have + Number(length) : null;
}

async function hashFile(path: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

async function streamBody(response: Response, part: string, have: number, hash: Hash, progress: (downloaded: number) => void): Promise<number> {
  if (!response.body) throw new BgeGgufError('NETWORK', 'the hub answered without a body');
  let file: FileHandle | undefined;
  let size = have;
  try {
    file = await open(part, have > 0 ? 'a' : 'w');
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      await file.write(value);
      hash.update(value);
      size += value.byteLength;
      progress(size);
    }
  } finally {
    await file?.close();
  }
  return size;
}

function verify(where: string, part: string, size: number, sha256: string, expected: Expected): void {
  if (expected.size !== null && size < expected.size) {
    throw new BgeGgufError('NETWORK', `the download of ${where} ended early (${size} of ${expected.size} bytes); try again — it resumes where it stopped`);
  }
  let problem: string | null = null;
  if (expected.size !== null && size > expected.size) problem = `${size} bytes arrived, the hub reports ${expected.size}`;
  else if (expected.sha256 !== null && sha256 !== expected.sha256) problem = `sha256 ${sha256} differs from the hub's ${expected.sha256}`;
  if (problem === null) return;
  rmSync(part, { force: true }); // wrong bytes cannot be resumed
  throw new BgeGgufError('NETWORK', `the download of ${where} is corrupt (${problem}); it was deleted, try again`);
}
