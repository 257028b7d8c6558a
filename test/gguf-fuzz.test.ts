/**
 * GGUF fuzz (issue 10): seeded mutations of tiny BERT, Mistral, Gemma-2 and Qwen2 GGUFs (header, metadata
 * values, tokenizer arrays, tensor infos, byte flips, truncation), each loaded through the public
 * API and encoded in a child process. No case may kill the process or throw an untyped error.
 * BGE_GGUF_FUZZ_SEED replays another campaign; `npm run soak` runs 5,000 cases.
 */
import { describe, expect, it } from 'vitest';
import { badOutcomes, knownErrorCodes, runCampaign } from './support/fuzz/campaign.js';

const SEED = Number(process.env.BGE_GGUF_FUZZ_SEED ?? 20261205);

describe('GGUF fuzz', () => {
  it('500 mutated files (bert, llama, gemma2, qwen2): zero deaths by signal, every failure a typed error', { timeout: 600_000 }, async () => {
    const results = await runCampaign({ seed: SEED, cases: { bert: 200, llama: 120, gemma2: 90, qwen2: 90 }, parallel: 2, batchSize: 50 });
    const outcomes: Record<string, number> = {};
    for (const r of results) {
      const key = r.death ? `death ${r.death}` : r.untyped ? 'untyped' : r.generatorError ? 'generator error' : r.ok ? 'loaded and encoded' : r.code!;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }
    console.log(`fuzz seed ${SEED}: ${results.length} cases`, outcomes);
    expect(results.length).toBe(500);
    const bad = badOutcomes(results, knownErrorCodes());
    expect(bad.map((r) => `${r.base} #${r.index} (${r.label}): ${r.death ?? r.untyped ?? r.generatorError ?? r.code}`)).toEqual([]);
    // the campaign exercises the validator and llama.cpp's own checks, not only the happy path
    expect(outcomes.CORRUPT_MODEL).toBeGreaterThan(100);
    expect(outcomes.MODEL_LOAD_FAILED).toBeGreaterThan(50);
    // and llama.cpp really ran: harmless mutations load and encode (no NATIVE_UNAVAILABLE pass)
    expect(outcomes.NATIVE_UNAVAILABLE).toBeUndefined();
    expect(outcomes['loaded and encoded']).toBeGreaterThan(50);
  });
});
