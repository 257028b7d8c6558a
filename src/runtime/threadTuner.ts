/**
 * Thread count per decode size, chosen by timing decodes on this machine. A small decode (a query)
 * is about a hundred tiny ops, each ending in a barrier where every thread waits for the slowest;
 * when other processes keep the cores busy a waiting thread can lose a whole time slice there, and
 * one thread beats two (4.3 vs 8.0 ms for one query, on a loaded 2-core Xeon), while on an idle
 * machine two win (3.6 vs 7.1 ms). So neither is hard-coded: for each size class the tuner times
 * both and keeps the faster, re-checking now and then as the load changes. The thread count never
 * changes a vector (ggml computes each output element on one thread, whatever their number).
 *
 * Only warm timings count: a decode right after one with another thread count first wakes threads
 * that slept through the last decode, which on a virtual machine can take milliseconds (2-thread
 * decodes measured 2–4× slower then). So trials and re-checks run each choice twice in a row and
 * keep the second timing.
 */

/** Timings kept per choice and size class; the median of these decides. */
const WINDOW = 5;
/** Samples of each choice before the tuner trusts the comparison. */
const MIN_SAMPLES = 3;
/** Every this many decodes of a size class, one runs with the choice not in use, to notice a load change. */
const RECHECK_EVERY = 32;
/**
 * One thread is tried only for decodes that take less than this with all of them: beyond it the
 * barriers are a small share of the decode, and a slow trial would cost more than it can win back.
 */
const TRIAL_LIMIT_MS = 50;

interface SizeClass {
  /** Recent decode times (ms) with all threads (index 0) and with one (index 1). */
  times: [number[], number[]];
  decodes: number;
  /** The choice a re-check is trying (index into times), until its timing comes back. */
  rechecking: 0 | 1 | null;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export class ThreadTuner {
  private readonly classes = new Map<number, SizeClass>();
  /** The thread count of the last decode recorded, of any size. */
  private previous: number | null = null;

  constructor(private readonly threads: number) {}

  /** The thread count for a decode of `tokens` tokens that has the cores to itself. */
  choose(tokens: number): number {
    if (this.threads < 2) return this.threads;
    const size = this.sizeClass(tokens);
    const [all, one] = size.times;
    size.decodes++;
    if (all.length === 0 || median(all) >= TRIAL_LIMIT_MS) return this.threads;
    // trials alternate, so a drift (caches warming, load arriving) falls on both alike
    if (all.length < MIN_SAMPLES || one.length < MIN_SAMPLES) return one.length < all.length ? 1 : this.threads;
    if (size.rechecking !== null) return size.rechecking === 1 ? 1 : this.threads; // until a warm timing comes back
    const best = median(one) < median(all) ? 1 : this.threads;
    if (size.decodes % RECHECK_EVERY !== 0) return best;
    size.rechecking = best === 1 ? 0 : 1;
    return best === 1 ? this.threads : 1;
  }

  /** Records how long a decode of `tokens` tokens took with `threads` threads. */
  record(tokens: number, threads: number, ms: number): void {
    const warm = this.previous === threads;
    this.previous = threads;
    if (!warm || (threads !== 1 && threads !== this.threads)) return;
    const size = this.sizeClass(tokens);
    const arm = threads === this.threads ? 0 : 1;
    const times = size.times[arm];
    // A re-check that beats the choice in use means the load changed: its old timings are stale, so
    // it starts over from this one and the alternating trials decide again.
    if (size.rechecking === arm && ms < median(size.times[1 - arm])) times.length = 0;
    if (size.rechecking === arm) size.rechecking = null;
    times.push(ms);
    if (times.length > WINDOW) times.shift();
  }

  /** Size classes are powers of two: a query of 9–16 tokens, one of 17–32, … */
  private sizeClass(tokens: number): SizeClass {
    const key = Math.ceil(Math.log2(Math.max(1, tokens)));
    let size = this.classes.get(key);
    if (!size) this.classes.set(key, (size = { times: [[], []], decodes: 0, rechecking: null }));
    return size;
  }
}
