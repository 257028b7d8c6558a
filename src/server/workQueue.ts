import { ApiError } from './httpError.js';

interface Waiting {
  start: () => void;
  fail: (error: unknown) => void;
}

/**
 * At most `concurrency` jobs run; up to `maxWaiting` more wait in line; beyond that a request gets
 * 429 with Retry-After. A waiting job whose signal aborts leaves the line without ever running.
 */
export class WorkQueue {
  private running = 0;
  private readonly waiting: Waiting[] = [];

  constructor(
    readonly concurrency: number,
    readonly maxWaiting: number,
  ) {}

  /** Jobs waiting for a slot. */
  get depth(): number {
    return this.waiting.length;
  }

  get active(): number {
    return this.running;
  }

  async run<T>(task: () => Promise<T>, signal: AbortSignal): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxWaiting) {
        throw new ApiError(429, `the server is busy: ${this.running} requests running and ${this.waiting.length} waiting; retry later`, 'rate_limit_exceeded', null, {
          'retry-after': '1',
        });
      }
      await new Promise<void>((resolve, reject) => {
        const entry: Waiting = {
          start: () => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          },
          fail: reject,
        };
        const onAbort = () => {
          const at = this.waiting.indexOf(entry);
          if (at !== -1) this.waiting.splice(at, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(entry);
      });
      // the finishing job handed its slot over: running already counts this one
    } else {
      if (signal.aborted) throw signal.reason;
      this.running++;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next.start();
      else this.running--;
    }
  }
}
