/** Threads default to the cores the process can use (cgroup quota aware); more are clamped with a warning. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FlagModel } from '../src/api/FlagModel.js';
import { availableCores, cgroupCpuLimit, resolveThreads } from '../src/runtime/threads.js';
import { fixturePath } from './support/fixtures.js';

/** A fake /sys/fs/cgroup tree and /proc/self/cgroup file. */
function cgroupTree(procCgroup: string, files: Record<string, string>): { root: string; proc: string } {
  const root = mkdtempSync(join(tmpdir(), 'bge-gguf-cgroup-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  writeFileSync(join(root, 'proc-cgroup'), procCgroup);
  return { root, proc: join(root, 'proc-cgroup') };
}

describe('cgroup CPU quota', () => {
  it('reads cgroup v2 cpu.max along the path, the tightest ancestor winning', () => {
    const { root, proc } = cgroupTree('0::/app/worker\n', { 'app/worker/cpu.max': 'max 100000\n', 'app/cpu.max': '150000 100000\n', 'cpu.max': 'max 100000\n' });
    expect(cgroupCpuLimit(root, proc)).toBe(1.5);
  });

  it('reads cgroup v1 cfs quota and period; -1 is no limit', () => {
    const limited = cgroupTree('3:cpu,cpuacct:/docker/abc\n0::/\n', { 'cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '300000', 'cpu,cpuacct/docker/abc/cpu.cfs_period_us': '100000' });
    expect(cgroupCpuLimit(limited.root, limited.proc)).toBe(3);
    const unlimited = cgroupTree('1:cpu:/\n', { 'cpu/cpu.cfs_quota_us': '-1', 'cpu/cpu.cfs_period_us': '100000' });
    expect(cgroupCpuLimit(unlimited.root, unlimited.proc)).toBe(Infinity);
  });

  it('the available cores never exceed the CPU affinity count', () => {
    expect(availableCores()).toBeGreaterThanOrEqual(1);
    expect(availableCores()).toBeLessThanOrEqual(availableParallelism());
  });
});

describe('threads option', () => {
  it('defaults to the available cores and clamps a larger value with one warning per value', () => {
    const warn = console.warn;
    const warnings: string[] = [];
    console.warn = (message: string) => void warnings.push(message);
    try {
      expect(resolveThreads(undefined, 2)).toBe(2);
      expect(resolveThreads(1, 2)).toBe(1);
      expect(resolveThreads(9, 2)).toBe(2);
      expect(resolveThreads(9, 2)).toBe(2);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/threads 9 is more than the 2 cores.*using 2/);
    } finally {
      console.warn = warn;
    }
  });

  it('a model asked for 64 threads still encodes (llama.cpp would otherwise stall on oversubscribed cores)', async () => {
    const warn = console.warn;
    console.warn = () => {};
    const model = await FlagModel.load(fixturePath('tiny-bert-f32.gguf'), { threads: 64 });
    try {
      const vectors = await model.encode(['one text', 'and another one']);
      expect(vectors).toHaveLength(2);
    } finally {
      console.warn = warn;
      await model.dispose();
    }
  }, 30_000);
});
