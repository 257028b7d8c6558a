import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { BgeGgufError } from '../errors.js';

const POLL_MS = 100;
const TOUCH_MS = 2_000;
/** A lock its holder has not touched for this long is abandoned (a frozen or reused PID). */
const STALE_MS = 30_000;

export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the lock file of one download (O_EXCL create), or waits while a live holder has it.
 * Resolves with the release function, or with a no-op once `done()` says the holder finished.
 * A lock whose process is gone, or that was not touched for 30 s, is taken over: if two takers
 * race there, both still write distinct part files that are renamed atomically, so the cached
 * file is never a mix.
 */
export async function acquireDownloadLock(path: string, done: () => boolean, signal: AbortSignal | undefined): Promise<() => void> {
  const token = `${process.pid} ${randomBytes(6).toString('hex')}`;
  for (;;) {
    if (signal?.aborted) throw new BgeGgufError('CANCELLED', 'the download was cancelled while waiting for another download of the same file');
    try {
      writeFileSync(path, token, { flag: 'wx' });
      const touch = setInterval(() => {
        try {
          const now = new Date();
          utimesSync(path, now, now);
        } catch {
          // the lock was taken over; nothing to keep alive
        }
      }, TOUCH_MS);
      touch.unref();
      return () => {
        clearInterval(touch);
        if (readQuietly(path) === token) rmSync(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (done()) return () => {};
    const holder = readQuietly(path);
    if (holder !== null && isAbandoned(path, holder)) {
      rmSync(path, { force: true });
      continue;
    }
    await sleep(POLL_MS);
  }
}

function readQuietly(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function isAbandoned(path: string, holder: string): boolean {
  if (holder !== '' && !isProcessAlive(Number(holder.split(' ')[0]))) return true; // '' = being written
  try {
    return Date.now() - statSync(path).mtimeMs > STALE_MS;
  } catch {
    return false;
  }
}
