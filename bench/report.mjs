// Turns measurements into the printed tables, the issue's pass/fail targets and the JSON record.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The issue's targets: bge-gguf's speed over a peer's, per workload. */
export const TARGETS = [
  { workload: 'passages', peer: 'llama-embedding', min: 1.0 },
  { workload: 'queries', peer: 'llama-embedding', min: 1.3 },
  { workload: 'passages', peer: 'node-llama-cpp', min: 2.0 },
  { workload: 'queries', peer: 'node-llama-cpp', min: 7.0 },
];
/** Single short query latency: bge-gguf at most 1.2x llama-embedding's one-sequence decode. */
export const LATENCY_TARGET = { peer: 'llama-embedding', maxRatio: 1.2 };

const fmt = (n, digits = 1) => (n == null || Number.isNaN(n) ? '-' : n.toFixed(digits));

function table(headers, rows, leftColumns = 4) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i < leftColumns ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The measurement bge-gguf is compared against: the contender's best row for the workload. */
export function bestRow(rows, workload, contender, config) {
  const candidates = rows.filter((r) => r.workload === workload && r.contender === contender && r.textsPerSec && (config === undefined || r.config === config));
  return candidates.sort((a, b) => b.textsPerSec - a.textsPerSec)[0] ?? null;
}

/** The bge-gguf addon variants measured in a run (row configs), the first being the reference. */
export function bgeVariants(run) {
  return [...new Set(run.rows.filter((r) => r.contender === 'bge-gguf').map((r) => r.config))];
}

export function throughputTable(runs) {
  const rows = [];
  for (const run of runs) {
    const primary = bgeVariants(run)[0];
    for (const workload of ['passages', 'queries']) {
      const ours = bestRow(run.rows, workload, 'bge-gguf', primary);
      for (const r of run.rows.filter((x) => x.workload === workload)) {
        const best = r.contender === 'bge-gguf' || bestRow(run.rows, workload, r.contender) === r;
        const ratio = ours && r.textsPerSec && best && r !== ours ? ours.textsPerSec / r.textsPerSec : null;
        rows.push([
          run.model, run.type, workload, r.contender + (r.config ? ` (${r.config})` : '') + (best || !r.config ? '' : ' *'),
          fmt(r.textsPerSec), fmt(r.tokensPerSec, 0), fmt(r.maxRssMiB, 0), ratio ? `${fmt(ratio, 2)}x` : r.error ? 'error' : '',
        ]);
      }
    }
  }
  return table(['model', 'type', 'workload', 'contender', 'texts/s', 'tokens/s', 'peak RSS MiB', 'bge-gguf ×'], rows);
}

export function latencyTable(runs) {
  const rows = [];
  for (const run of runs) {
    const ours = Object.entries(run.latency).find(([k]) => k.startsWith('bge-gguf'))?.[1];
    for (const [contender, l] of Object.entries(run.latency)) {
      const ratio = ours && l && l !== ours ? ours.medianMs / l.medianMs : null;
      rows.push([run.model, run.type, `${l.tokens} tokens`, contender, fmt(l.medianMs, 2), fmt(l.p90Ms, 2), ratio ? `${fmt(ratio, 2)}` : '']);
    }
  }
  return table(['model', 'type', 'query', 'contender', 'median ms', 'p90 ms', 'bge-gguf/peer'], rows);
}

/** The contender's fastest latency entry (keys are "contender" or "contender (build)"). */
function bestLatency(run, contender) {
  const entries = Object.entries(run.latency).filter(([k, v]) => v && (k === contender || k.startsWith(`${contender} (`)));
  entries.sort((a, b) => a[1].medianMs - b[1].medianMs);
  return entries.length ? { key: entries[0][0], value: entries[0][1] } : null;
}

/** Pass/fail per target, for every bge-gguf addon variant measured. */
export function evaluateTargets(runs) {
  const verdicts = [];
  for (const run of runs) {
    for (const variant of bgeVariants(run)) {
      const addon = variant ?? 'default';
      for (const t of TARGETS) {
        const ours = bestRow(run.rows, t.workload, 'bge-gguf', variant);
        const peer = bestRow(run.rows, t.workload, t.peer);
        if (!ours || !peer) continue;
        const ratio = ours.textsPerSec / peer.textsPerSec;
        // What llama.cpp's own best packing reaches over the same peer: a bound for any engine on its kernels.
        const llama = t.peer === 'llama-embedding' ? null : bestRow(run.rows, t.workload, 'llama-embedding');
        const ceiling = llama ? llama.textsPerSec / peer.textsPerSec : null;
        verdicts.push({ model: run.model, type: run.type, addon, target: `${t.workload}: >= ${t.min}x ${t.peer}${peer.config ? ` (${peer.config})` : ''}`, value: ratio, ceiling, pass: ratio >= t.min });
      }
      const ours = run.latency[variant ? `bge-gguf (${variant})` : 'bge-gguf'];
      const peer = bestLatency(run, LATENCY_TARGET.peer);
      if (ours && peer) {
        const ratio = ours.medianMs / peer.value.medianMs;
        verdicts.push({ model: run.model, type: run.type, addon, target: `1-query latency: <= ${LATENCY_TARGET.maxRatio}x ${peer.key} one-sequence decode`, value: ratio, pass: ratio <= LATENCY_TARGET.maxRatio });
      }
    }
  }
  return verdicts;
}

export function targetsTable(verdicts) {
  return table(['model', 'type', 'bge-gguf', 'result', 'target', 'value', 'llama-embedding reaches'],
    verdicts.map((v) => [v.model, v.type, v.addon, v.pass ? 'PASS' : 'FAIL', v.target, `${fmt(v.value, 2)}x`, v.ceiling ? `${fmt(v.ceiling, 2)}x` : '']), 5);
}

/** Lines comparing the from-source addon with the prebuilt-linked one (texts/s ratio, latency ratio). */
export function addonComparison(runs) {
  const lines = [];
  for (const run of runs) {
    const variants = bgeVariants(run);
    if (variants.length < 2) continue;
    const [a, b] = variants;
    const parts = ['passages', 'queries'].map((w) => {
      const ra = bestRow(run.rows, w, 'bge-gguf', a);
      const rb = bestRow(run.rows, w, 'bge-gguf', b);
      return ra && rb ? `${w} ${fmt(rb.textsPerSec / ra.textsPerSec, 2)}x` : `${w} -`;
    });
    const la = run.latency[`bge-gguf (${a})`];
    const lb = run.latency[`bge-gguf (${b})`];
    if (la && lb) parts.push(`1-query latency ${fmt(lb.medianMs / la.medianMs, 2)}x`);
    lines.push(`${run.model} ${run.type}: ${b} / ${a}: ${parts.join(', ')}`);
  }
  return lines;
}

export function writeJson(record, root, outPath) {
  const dir = join(root, 'bench', 'results');
  const path = outPath ?? join(dir, `bench-${record.startedAt.replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(path), { recursive: true });
  const text = `${JSON.stringify(record, null, 2)}\n`;
  writeFileSync(path, text);
  writeFileSync(join(dir, 'latest.json'), text);
  return path;
}
