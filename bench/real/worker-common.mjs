// Shared by the real-checkpoint workers: one job in, the timed workloads run in a fixed order, one result out.
import { readFileSync } from 'node:fs';
import { latencies, readJob, report, timed } from '../child.mjs';

/**
 * job: { passagesPath, queriesPath, longPath, latencyTexts, threads, warmup, vectorsOf (how many passage
 * vectors to return for the fidelity check, 0 for none), ... }. embed(list, kind) -> Float32Array[] | number[][].
 */
export async function runJob(load) {
  const job = readJob();
  const read = (p) => JSON.parse(readFileSync(p, 'utf8'));
  const passages = read(job.passagesPath);
  const queries = read(job.queriesPath);
  const long = read(job.longPath);
  const loaded = await timed(() => load(job));
  const { embed, embedOne, info } = loaded.value;
  await embed(passages.slice(0, job.warmup), 'passages');
  const p = await timed(() => embed(passages, 'passages'));
  const q = await timed(() => embed(queries, 'queries'));
  const l = await timed(() => embed(long, 'passages'));
  const latencyMs = await latencies(job.latencyTexts, embedOne);
  const vectors = p.value.slice(0, job.vectorsOf).map((v) => Array.from(v));
  const queryVectors = job.vectorsOf ? q.value.slice(0, 3).map((v) => Array.from(v)) : [];
  report({ info, loadMs: loaded.ms, passagesMs: p.ms, queriesMs: q.ms, longMs: l.ms, latencyMs, vectors, queryVectors, count: p.value.length });
}
