/**
 * A local HTTP server standing in for the Hugging Face hub (set HF_ENDPOINT to its url).
 * Each file is served the way the hub serves an LFS file: /<org>/<repo>/resolve/<rev>/<file>
 * answers 302 with X-Linked-Size and X-Linked-Etag (sha256) pointing at /cdn/<file>, which
 * honours Range requests. Behaviours per file simulate stalls, cut connections and bad hashes.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HubFile {
  body: Buffer;
  /** What the hub claims (defaults: the real size and sha256). */
  linkedSize?: number;
  linkedEtag?: string;
  /** 'hang': never answer; 'stall': send half the body then nothing; 'cut': send half and close the connection. */
  behaviour?: 'hang' | 'stall' | 'cut' | 'slow';
  /** With 'cut': only the first N requests are cut. */
  cutTimes?: number;
  /** Answer Range requests with the whole file (200), as some servers do. */
  ignoreRange?: boolean;
}

export interface HubRequest {
  path: string;
  range: string | undefined;
}

export interface FakeHub {
  url: string;
  files: Map<string, HubFile>;
  requests: HubRequest[];
  close(): Promise<void>;
}

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

export async function startFakeHub(): Promise<FakeHub> {
  const files = new Map<string, HubFile>();
  const requests: HubRequest[] = [];
  const cuts = new Map<string, number>();
  const open = new Set<ServerResponse>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    open.add(res);
    res.on('close', () => open.delete(res));
    const path = new URL(req.url ?? '/', 'http://x').pathname; // raw: an encoded revision stays one segment
    requests.push({ path, range: req.headers.range });
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (resolve) {
      const key = decodeURIComponent(`${resolve[1]}/${resolve[3]}`);
      const file = files.get(key);
      if (!file) return void res.writeHead(404).end('not found');
      if (file.behaviour === 'hang') return; // never answers
      res.writeHead(302, {
        location: `/cdn/${key}`,
        'x-linked-size': String(file.linkedSize ?? file.body.length),
        'x-linked-etag': `"${file.linkedEtag ?? sha256(file.body)}"`,
        etag: '"0123456789abcdef0123456789abcdef01234567"', // a git sha1, as the hub sends: not a content hash
      });
      return void res.end();
    }
    const cdn = /^\/cdn\/(.+)$/.exec(decodeURIComponent(path));
    const file = cdn ? files.get(cdn[1]) : undefined;
    if (!cdn || !file) return void res.writeHead(404).end('not found');
    const range = file.ignoreRange ? null : /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const body = file.body.subarray(start);
    res.writeHead(range ? 206 : 200, {
      'content-length': String(body.length),
      ...(range ? { 'content-range': `bytes ${start}-${file.body.length - 1}/${file.body.length}` } : {}),
    });
    const half = body.subarray(0, Math.floor(body.length / 2));
    const cutCount = cuts.get(cdn[1]) ?? 0;
    if (file.behaviour === 'stall') return void res.write(half);
    if (file.behaviour === 'cut' && cutCount < (file.cutTimes ?? Infinity)) {
      cuts.set(cdn[1], cutCount + 1);
      res.write(half, () => setTimeout(() => res.destroy(), 20));
      return;
    }
    if (file.behaviour === 'slow') return void sendSlowly(res, body);
    res.end(body);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    files,
    requests,
    close: () =>
      new Promise<void>((done) => {
        for (const res of open) res.destroy();
        server.close(() => done());
      }),
  };
}

/** The body in 32 chunks over ~1.6 s, so that two clients overlap. */
function sendSlowly(res: ServerResponse, body: Buffer): void {
  const step = Math.ceil(body.length / 32);
  let at = 0;
  const next = () => {
    if (res.destroyed) return;
    if (at >= body.length) return void res.end();
    res.write(body.subarray(at, at + step));
    at += step;
    setTimeout(next, 50);
  };
  next();
}
