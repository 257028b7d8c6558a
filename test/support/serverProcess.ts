/** Runs `bge-gguf serve` as a real child process (the CLI from src/ through tsx) for HTTP tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './fixtures.js';

export interface ServerProcess {
  base: string;
  child: ChildProcess;
  stderr: () => string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

export function runCli(args: string[], input?: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), ...args], { cwd: repoRoot, env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end(input ?? '');
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

export async function startServer(args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'serve', '--port', '0', ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const base = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      stdout += d;
      const match = /on (http:\/\/\S+)/.exec(stdout);
      if (match) resolve(match[1]);
    });
    void exited.then((code) => reject(new Error(`bge-gguf serve exited (${code}) before listening:\n${stderr}`)));
  });
  return {
    base,
    child,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Polls /metrics until the server reports no request in flight or queued (fails after `ms`). */
export async function waitIdle(base: string, ms: number, headers: Record<string, string> = {}): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const text = await (await fetch(`${base}/metrics`, { headers })).text();
    if (/^bge_gguf_in_flight 0$/m.test(text) && /^bge_gguf_queue_depth 0$/m.test(text)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`still busy after ${ms} ms`);
}

/** Polls /metrics until a request is in flight. */
export async function waitBusy(base: string): Promise<void> {
  for (;;) {
    const text = await (await fetch(`${base}/metrics`)).text();
    if (/^bge_gguf_in_flight [1-9]/m.test(text)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}
