/** The per-size thread choice (src/runtime/threadTuner.ts), driven by simulated decode times. */
import { describe, expect, it } from 'vitest';
import { ThreadTuner } from '../src/runtime/threadTuner.js';

/**
 * Runs `decodes` decodes of `tokens` tokens whose time is `ms(threads, cold)` (cold: the previous
 * decode used another thread count); returns the counts chosen.
 */
function drive(tuner: ThreadTuner, tokens: number, decodes: number, ms: (threads: number, cold: boolean) => number): number[] {
  const chosen: number[] = [];
  for (let i = 0; i < decodes; i++) {
    const threads = tuner.choose(tokens);
    const cold = lastThreads !== null && lastThreads !== threads;
    lastThreads = threads;
    chosen.push(threads);
    tuner.record(tokens, threads, ms(threads, cold));
  }
  return chosen;
}
let lastThreads: number | null = null;

const count = (xs: number[], x: number) => xs.filter((y) => y === x).length;

describe('ThreadTuner', () => {
  it('settles on one thread when one is faster (a loaded machine), re-checking all threads now and then', () => {
    const chosen = drive(new ThreadTuner(2), 13, 200, (t) => (t === 1 ? 4 : 8));
    expect(chosen.slice(0, 12)).toEqual([2, 2, 1, 1, 2, 2, 1, 1, 2, 2, 1, 1]); // trials in pairs, the second timed
    expect(chosen.slice(12, 26).every((t) => t === 1)).toBe(true);
    expect(count(chosen.slice(12), 2)).toBeGreaterThan(0); // re-checks
    expect(count(chosen.slice(12), 2)).toBeLessThan(20);
  });

  it('keeps all threads when they are faster (an idle machine)', () => {
    const chosen = drive(new ThreadTuner(2), 13, 200, (t) => (t === 1 ? 7 : 3.6));
    expect(count(chosen, 1)).toBeLessThan(24); // three trials, then only re-checks
    expect(count(chosen.slice(-20), 1)).toBeLessThanOrEqual(2); // at most a re-check (two decodes)
  });

  it('follows a change of load within one re-check', () => {
    const tuner = new ThreadTuner(2);
    drive(tuner, 13, 100, (t) => (t === 1 ? 7 : 3.6));
    const loaded = drive(tuner, 13, 60, (t) => (t === 1 ? 4 : 9));
    expect(loaded.slice(-20).filter((t) => t === 1).length).toBeGreaterThan(15);
    const idle = drive(tuner, 13, 60, (t) => (t === 1 ? 7 : 3.6));
    expect(idle.slice(-20).filter((t) => t === 2).length).toBeGreaterThan(15);
  });

  it('times only warm decodes: waking threads after a change of thread count does not count against them', () => {
    // a virtual machine: two threads take 3.6 ms, but 12 ms right after a one-thread decode
    const chosen = drive(new ThreadTuner(2), 13, 200, (t, cold) => (t === 1 ? 6 : cold ? 12 : 3.6));
    expect(count(chosen.slice(-40), 2)).toBeGreaterThan(35);
  });

  it('never tries one thread for decodes that are long with all of them', () => {
    const chosen = drive(new ThreadTuner(4), 512, 100, (t) => (t === 1 ? 10 : 120));
    expect(count(chosen, 1)).toBe(0);
  });

  it('decides each size class on its own timings', () => {
    const tuner = new ThreadTuner(2);
    drive(tuner, 12, 50, (t) => (t === 1 ? 3 : 6));
    drive(tuner, 200, 50, (t) => (t === 1 ? 40 : 25));
    expect(tuner.choose(10)).toBe(1);
    expect(tuner.choose(180)).toBe(2);
  });

  it('a single-thread engine always uses its one thread', () => {
    expect(count(drive(new ThreadTuner(1), 13, 20, () => 5), 1)).toBe(20);
  });
});
