/**
 * How many threads llama.cpp gets. More threads than the cores the process may actually use stall
 * its per-layer thread barriers (measured on 2 cores: threads 3 → 800 ms for one 2-text encode
 * instead of 12 ms; 8 → 5.6 s; 64 → no result in 60 s), so the default is the usable cores and a
 * larger request is clamped with a warning.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

/** CPUs a cgroup quota allows (v2 cpu.max, v1 cpu.cfs_quota_us / cpu.cfs_period_us), Infinity when none. */
export function cgroupCpuLimit(root = '/sys/fs/cgroup', procCgroup = '/proc/self/cgroup'): number {
  let lines: string[];
  try {
    lines = readFileSync(procCgroup, 'utf8').split('\n');
  } catch {
    return Infinity;
  }
  let limit = Infinity;
  const v2 = lines.find((l) => l.startsWith('0::'));
  if (v2) {
    for (const dir of ancestors(root, v2.slice(3))) {
      const [quota, period] = read(join(dir, 'cpu.max')).split(/\s+/);
      if (quota && quota !== 'max' && Number(period) > 0) limit = Math.min(limit, Number(quota) / Number(period));
    }
  }
  const v1 = lines.map((l) => l.split(':')).find((parts) => parts[1]?.split(',').includes('cpu'));
  if (v1) {
    for (const controller of [v1[1], 'cpu', 'cpu,cpuacct']) {
      for (const dir of ancestors(join(root, controller), v1.slice(2).join(':'))) {
        const quota = Number(read(join(dir, 'cpu.cfs_quota_us')));
        const period = Number(read(join(dir, 'cpu.cfs_period_us')));
        if (quota > 0 && period > 0) limit = Math.min(limit, quota / period);
      }
    }
  }
  return limit;
}

/** The folder of a cgroup path and its parents up to the hierarchy's root. */
function ancestors(root: string, path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  return parts.map((_, i) => join(root, ...parts.slice(0, parts.length - i))).concat(root);
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Cores this process can run on: CPU affinity (os.availableParallelism) and the cgroup CPU quota. */
export function availableCores(): number {
  return Math.max(1, Math.min(availableParallelism(), Math.ceil(cgroupCpuLimit())));
}

const warned = new Set<number>();

/** The thread count to use: the available cores by default; a larger request clamped, with one warning per value. */
export function resolveThreads(requested: number | undefined, cores = availableCores()): number {
  if (requested === undefined) return cores;
  if (requested <= cores) return requested;
  if (!warned.has(requested)) {
    warned.add(requested);
    console.warn(
      `bge-gguf: threads ${requested} is more than the ${cores} cores this process can use (CPU affinity and cgroup quota); ` +
        `using ${cores}: extra threads stall llama.cpp's thread barriers (3 threads on 2 cores made an encode 60x slower)`,
    );
  }
  return cores;
}
