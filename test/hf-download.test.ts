import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BgeGgufError, ModelNotFoundError } from '../src/errors.js';
import { hfCachePath, parseHfUri, resolveModelFile } from '../src/models/resolve.js';
import { FlagModel } from '../src/api/FlagModel.js';
import { repoRoot } from './support/fixtures.js';
import { sha256, startFakeHub, type FakeHub } from './support/fakeHub.js';

const run = promisify(execFile);
let hub: FakeHub;
let root: string;
let cache: string;
const saved = { ...process.env };

beforeAll(async () => {
  hub = await startFakeHub();
});
afterAll(async () => {
  await hub.close();
});
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'bge-gguf-hf-'));
  cache = join(root, 'cache');
  process.env.BGE_GGUF_CACHE = cache;
  process.env.HF_ENDPOINT = hub.url;
  delete process.env.HF_HUB_OFFLINE;
  delete process.env.BGE_GGUF_OFFLINE;
  hub.files.clear();
  hub.requests.length = 0;
});
afterEach(() => {
  process.env = { ...saved };
  rmSync(root, { recursive: true, force: true });
});

function payload(bytes: number, seed = 1): Buffer {
  const data = Buffer.alloc(bytes);
  let x = seed;
  for (let i = 0; i < bytes; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    data[i] = x >>> 24;
  }
  return data;
}

async function failure(promise: Promise<unknown>): Promise<BgeGgufError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BgeGgufError);
  return error as BgeGgufError;
}

/** Every file under a folder (to prove nothing lands outside the cache and no .part/.lock is left). */
function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe('hf: URIs are confined to the cache', () => {
  const hostile = [
    'hf:a/b/../../../../outside.gguf',
    'hf:a/b/sub/../../../outside.gguf',
    'hf:../b/x.gguf',
    'hf:a/../x.gguf',
    'hf:..//x.gguf',
    'hf:a/b@../x.gguf',
    'hf:a/b@..%2F..%2F/x.gguf',
    'hf:a/b//x.gguf',
    'hf:a/b///etc/x.gguf',
    'hf:/etc/b/x.gguf',
    'hf:a/b/./x.gguf',
    'hf:a/b/sub\\..\\..\\x.gguf',
    'hf:a\\..\\b/c/x.gguf',
    'hf:a/b/%2e%2e/x.gguf',
    'hf:a/b/x\u0000.gguf',
    'hf:a/b/x\n.gguf',
    'hf:a/b/x.gguf/',
    'hf:a/b/.hidden.gguf',
    'hf:a/b/x.txt',
    'hf:a/b',
    'hf:C:/b/x.gguf',
    'hf:a/b@/x.gguf',
    'hf:a/b/.../x.gguf',
    'hf:a/b@refs/pr/../x.gguf',
    'hf:a/b@refs/pr/1/../x.gguf',
  ];

  it.each(hostile)('%j is refused with a typed error before any request', async (uri) => {
    expect(() => parseHfUri(uri)).toThrow(ModelNotFoundError);
    const error = await failure(resolveModelFile(uri));
    expect(error.code).toBe('MODEL_NOT_FOUND');
    expect(hub.requests).toEqual([]);
    expect(listFiles(root)).toEqual([]);
  });

  it('offline, no hf: URI reaches a local file outside the cache', async () => {
    writeFileSync(join(root, 'secret.gguf'), 'not a model');
    process.env.HF_HUB_OFFLINE = '1';
    const error = await failure(resolveModelFile('hf:a/b/../../../../secret.gguf'));
    expect(error.code).toBe('MODEL_NOT_FOUND');
  });

  it('a symbolic link planted in the cache cannot send a download outside it', async () => {
    const outside = join(root, 'outside');
    mkdirSync(outside);
    mkdirSync(join(cache, 'hf'), { recursive: true });
    symlinkSync(outside, join(cache, 'hf', 'evil'));
    hub.files.set('evil/repo/x.gguf', { body: payload(100) });
    const error = await failure(resolveModelFile('hf:evil/repo/x.gguf'));
    expect(error.code).toBe('MODEL_NOT_FOUND');
    expect(error.message).toMatch(/outside the model cache/);
    expect(listFiles(outside)).toEqual([]);
  });

  it('accepts the names the hub uses (dots, dashes, underscores, revisions, sub-folders)', () => {
    const uri = 'hf:ChristianAzinn/bge-small-en-v1.5-gguf@a1b2c3d/sub_dir/bge-small-en-v1.5.Q8_0.gguf';
    expect(parseHfUri(uri)).toEqual({ repo: 'ChristianAzinn/bge-small-en-v1.5-gguf', revision: 'a1b2c3d', file: 'sub_dir/bge-small-en-v1.5.Q8_0.gguf' });
    expect(hfCachePath(parseHfUri(uri)).startsWith(join(cache, 'hf') + '/')).toBe(true);
    expect(parseHfUri('hf:org/repo@refs/pr/3/m.gguf')).toEqual({ repo: 'org/repo', revision: 'refs/pr/3', file: 'm.gguf' });
  });

  it('a pull-request revision is requested as one encoded path segment, as the hub expects', async () => {
    hub.files.set('org/repo/m.gguf', { body: payload(1000) });
    const path = await resolveModelFile('hf:org/repo@refs/pr/3/m.gguf');
    expect(hub.requests[0].path).toBe('/org/repo/resolve/refs%2Fpr%2F3/m.gguf');
    expect(path).toBe(join(cache, 'hf', 'org', 'repo', 'refs', 'pr', '3', 'm.gguf'));
  });

  it("FlagModel.load('') is an error, not the embedded default model", async () => {
    const error = await failure(FlagModel.load(''));
    expect(error.code).toBe('MODEL_NOT_FOUND');
    expect(error.message).toMatch(/empty string/);
  });
});

describe('hf: downloads', () => {
  it('downloads through the redirect, checks size and sha256, reports progress, leaves no part or lock file', async () => {
    const body = payload(300_000);
    hub.files.set('org/repo/m.gguf', { body });
    const seen: { downloaded: number; total: number | null }[] = [];
    const path = await resolveModelFile('hf:org/repo/m.gguf', { onDownloadProgress: (p) => seen.push(p) });
    expect(sha256(readFileSync(path))).toBe(sha256(body));
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)).toEqual({ downloaded: body.length, total: body.length });
    expect(seen.every((p, i) => i === 0 || p.downloaded >= seen[i - 1].downloaded)).toBe(true);
    expect(listFiles(cache)).toEqual([path]);
    // a second call is served from the cache
    const before = hub.requests.length;
    expect(await resolveModelFile('hf:org/repo/m.gguf')).toBe(path);
    expect(hub.requests.length).toBe(before);
  });

  it('a sha256 that differs from the hub\'s X-Linked-Etag is a NETWORK error and nothing is cached', async () => {
    hub.files.set('org/repo/bad.gguf', { body: payload(50_000), linkedEtag: sha256(Buffer.from('something else')) });
    const error = await failure(resolveModelFile('hf:org/repo/bad.gguf'));
    expect(error.code).toBe('NETWORK');
    expect(error.message).toMatch(/sha256/);
    expect(listFiles(cache)).toEqual([]);
  });

  it('a size that differs from X-Linked-Size is a NETWORK error and nothing is cached', async () => {
    const body = payload(50_000);
    hub.files.set('org/repo/short.gguf', { body, linkedSize: body.length - 10 });
    const error = await failure(resolveModelFile('hf:org/repo/short.gguf'));
    expect(error.code).toBe('NETWORK');
    expect(listFiles(cache)).toEqual([]);
  });

  it('a cut connection keeps the part file and the next call resumes it with a Range request', async () => {
    const body = payload(400_000, 7);
    hub.files.set('org/repo/cut.gguf', { body, behaviour: 'cut', cutTimes: 1 });
    const error = await failure(resolveModelFile('hf:org/repo/cut.gguf'));
    expect(error.code).toBe('NETWORK');
    const parts = listFiles(cache).filter((f) => f.includes('.part'));
    expect(parts.length).toBe(1);
    const kept = readFileSync(parts[0]).length;
    expect(kept).toBeGreaterThan(0);
    const seen: number[] = [];
    const path = await resolveModelFile('hf:org/repo/cut.gguf', { onDownloadProgress: (p) => seen.push(p.downloaded) });
    expect(sha256(readFileSync(path))).toBe(sha256(body));
    expect(hub.requests.filter((r) => r.path.startsWith('/cdn/')).at(-1)?.range).toBe(`bytes=${kept}-`);
    expect(seen[0]).toBeGreaterThan(kept);
    expect(listFiles(cache)).toEqual([path]);
  });

  it('a server that ignores Range gets the whole file again, not a part glued to a full copy', async () => {
    const body = payload(300_000, 11);
    hub.files.set('org/repo/norange.gguf', { body, behaviour: 'cut', cutTimes: 1, ignoreRange: true });
    expect((await failure(resolveModelFile('hf:org/repo/norange.gguf'))).code).toBe('NETWORK');
    const path = await resolveModelFile('hf:org/repo/norange.gguf');
    expect(hub.requests.filter((r) => r.path.startsWith('/cdn/')).at(-1)?.range).toMatch(/^bytes=\d+-$/);
    expect(sha256(readFileSync(path))).toBe(sha256(body));
  });

  it('a part and a lock left by a process that died are taken over and the part resumed', async () => {
    const body = payload(100_000, 9);
    hub.files.set('org/repo/left.gguf', { body });
    const target = hfCachePath(parseHfUri('hf:org/repo/left.gguf'));
    mkdirSync(join(target, '..'), { recursive: true });
    const dead = 999_999_999;
    writeFileSync(`${target}.lock`, `${dead} 0123456789ab`);
    writeFileSync(`${target}.part-${dead}-deadbeef`, body.subarray(0, 30_000));
    const path = await resolveModelFile('hf:org/repo/left.gguf');
    expect(sha256(readFileSync(path))).toBe(sha256(body));
    expect(hub.requests.filter((r) => r.path.startsWith('/cdn/')).at(-1)?.range).toBe('bytes=30000-');
    expect(listFiles(cache)).toEqual([path]);
  });

  it('a hub that never answers times out with a NETWORK error (connect timeout)', async () => {
    hub.files.set('org/repo/hang.gguf', { body: payload(10), behaviour: 'hang' });
    const error = await failure(resolveModelFile('hf:org/repo/hang.gguf', { connectTimeoutMs: 200 }));
    expect(error.code).toBe('NETWORK');
    expect(error.message).toMatch(/no response .* within 200 ms/);
  });

  it('a download that stalls mid-body times out with a NETWORK error (idle timeout), through FlagModel.load too', async () => {
    hub.files.set('org/repo/stall.gguf', { body: payload(200_000), behaviour: 'stall' });
    const error = await failure(resolveModelFile('hf:org/repo/stall.gguf', { idleTimeoutMs: 200 }));
    expect(error.code).toBe('NETWORK');
    expect(error.message).toMatch(/stalled/);
    const viaLoad = await failure(FlagModel.load('hf:org/repo/stall.gguf', { downloadIdleTimeoutMs: 200 }));
    expect(viaLoad.code).toBe('NETWORK');
  });

  it('the timeouts can be set by environment variable', async () => {
    hub.files.set('org/repo/hang.gguf', { body: payload(10), behaviour: 'hang' });
    process.env.BGE_GGUF_CONNECT_TIMEOUT_MS = '150';
    const error = await failure(resolveModelFile('hf:org/repo/hang.gguf'));
    expect(error.message).toMatch(/within 150 ms/);
  });

  it('an AbortSignal cancels a download in progress (CANCELLED) and one already aborted sends no request', async () => {
    hub.files.set('org/repo/slow.gguf', { body: payload(300_000), behaviour: 'slow' });
    const controller = new AbortController();
    const error = await failure(resolveModelFile('hf:org/repo/slow.gguf', { signal: controller.signal, onDownloadProgress: () => controller.abort() }));
    expect(error.code).toBe('CANCELLED');
    expect(listFiles(cache).filter((f) => f.endsWith('.gguf'))).toEqual([]);
    hub.requests.length = 0;
    const early = await failure(resolveModelFile('hf:org/repo/slow.gguf', { signal: AbortSignal.abort() }));
    expect(early.code).toBe('CANCELLED');
    expect(hub.requests).toEqual([]);
  });

  it('offline mode (HF_HUB_OFFLINE) is a clear NETWORK error without any request', async () => {
    hub.files.set('org/repo/m.gguf', { body: payload(10) });
    for (const value of ['1', 'true', 'YES']) {
      process.env.HF_HUB_OFFLINE = value;
      const error = await failure(resolveModelFile('hf:org/repo/m.gguf'));
      expect(error.code).toBe('NETWORK');
      expect(error.message).toMatch(/offline mode is on/);
    }
    expect(hub.requests).toEqual([]);
    delete process.env.HF_HUB_OFFLINE;
    const path = await resolveModelFile('hf:org/repo/m.gguf');
    process.env.HF_HUB_OFFLINE = '1';
    expect(await resolveModelFile('hf:org/repo/m.gguf')).toBe(path); // cached files load offline
  });

  it('an error thrown by onDownloadProgress reaches the caller unchanged', async () => {
    hub.files.set('org/repo/m.gguf', { body: payload(100_000) });
    const mine = new Error('mine');
    const error = await resolveModelFile('hf:org/repo/m.gguf', {
      onDownloadProgress: () => {
        throw mine;
      },
    }).catch((e: unknown) => e);
    expect(error).toBe(mine);
  });

  it('a caller waiting for another download of the same file can be cancelled', async () => {
    hub.files.set('org/repo/slow.gguf', { body: payload(300_000), behaviour: 'slow' });
    const first = resolveModelFile('hf:org/repo/slow.gguf');
    const controller = new AbortController();
    const second = resolveModelFile('hf:org/repo/slow.gguf', { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    expect((await failure(second)).code).toBe('CANCELLED');
    expect(sha256(readFileSync(await first))).toBe(sha256(hub.files.get('org/repo/slow.gguf')!.body));
  });

  it('a missing file is a NETWORK error naming the 404', async () => {
    const error = await failure(resolveModelFile('hf:org/repo/none.gguf'));
    expect(error.code).toBe('NETWORK');
    expect(error.message).toMatch(/HTTP 404/);
  });

  it('two concurrent calls in one process share one download', async () => {
    const body = payload(200_000, 5);
    hub.files.set('org/repo/twice.gguf', { body, behaviour: 'slow' });
    const [a, b] = await Promise.all([resolveModelFile('hf:org/repo/twice.gguf'), resolveModelFile('hf:org/repo/twice.gguf')]);
    expect(a).toBe(b);
    expect(sha256(readFileSync(a))).toBe(sha256(body));
    expect(hub.requests.filter((r) => r.path.startsWith('/cdn/')).length).toBe(1);
  });

  it('two processes downloading the same file: one download, an intact file, no leftovers', async () => {
    const body = payload(1_000_000, 3);
    hub.files.set('org/repo/shared.gguf', { body, behaviour: 'slow' });
    const child = () =>
      run(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/support/downloadChild.ts'), 'hf:org/repo/shared.gguf'], { env: process.env, cwd: repoRoot, timeout: 60_000 });
    const results = await Promise.all([child(), child()]);
    const outputs = results.map((r) => JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { path?: string; code?: string });
    const target = hfCachePath(parseHfUri('hf:org/repo/shared.gguf'));
    expect(outputs).toEqual([{ path: target }, { path: target }]);
    expect(sha256(readFileSync(target))).toBe(sha256(body));
    expect(hub.requests.filter((r) => r.path.startsWith('/cdn/')).length).toBe(1);
    expect(listFiles(cache)).toEqual([target]);
  });
});
