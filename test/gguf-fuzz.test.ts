/**
 * GGUF fuzz (issue 10): seeded mutations of tiny BERT, Mistral, Gemma-2, Qwen2 and XLM-R GGUFs (header,
 * metadata values, tokenizer arrays, tensor infos, byte flips, truncation; for XLM-R's SentencePiece
 * unigram vocabulary also its precompiled charsmap, scores, token types and flags), each loaded through
 * the public API in a child process (FlagAutoModel.encode; the XLM-R reranker with FlagReranker.computeScore,
 * the XLM-R encoder with BGEM3FlagModel.encode). No case may kill the process or throw an untyped error.
 * BGE_GGUF_FUZZ_SEED replays another campaign; `npm run soak` runs 5,000 cases.
 */
import { describe, expect, it } from 'vitest';
import { badOutcomes, knownErrorCodes, runCampaign } from './support/fuzz/campaign.js';

const SEED = Number(process.env.BGE_GGUF_FUZZ_SEED ?? 20261205);

describe('GGUF fuzz', () => {
  it('620 mutated files (bert, llama, gemma2, qwen2, xlmr reranker and encoder): zero deaths by signal, every failure a typed error', { timeout: 600_000 }, async () => {
    const cases = { bert: 200, llama: 120, gemma2: 90, qwen2: 90, xlmr: 60, 'xlmr-m3': 60 };
    const results = await runCampaign({ seed: SEED, cases, parallel: 2, batchSize: 50 });
    const outcomes: Record<string, number> = {};
    for (const r of results) {
      const key = r.death ? `death ${r.death}` : r.untyped ? 'untyped' : r.generatorError ? 'generator error' : r.ok ? 'loaded and encoded' : r.code!;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }
    console.log(`fuzz seed ${SEED}: ${results.length} cases`, outcomes);
    expect(results.length).toBe(620);
    const bad = badOutcomes(results, knownErrorCodes());
    expect(bad.map((r) => `${r.base} #${r.index} (${r.label}): ${r.death ?? r.untyped ?? r.generatorError ?? r.code}`)).toEqual([]);
    // the campaign exercises the validator and llama.cpp's own checks, not only the happy path
    expect(outcomes.CORRUPT_MODEL).toBeGreaterThan(100);
    expect(outcomes.MODEL_LOAD_FAILED).toBeGreaterThan(50);
    // and llama.cpp really ran: harmless mutations load and encode (no NATIVE_UNAVAILABLE pass)
    expect(outcomes.NATIVE_UNAVAILABLE).toBeUndefined();
    expect(outcomes['loaded and encoded']).toBeGreaterThan(50);
    // the XLM-R files reach the UGM edits and both entry points score or encode the harmless ones
    const xlmr = results.filter((r) => r.base === 'xlmr' || r.base === 'xlmr-m3');
    expect(xlmr.filter((r) => r.label.includes('precompiled_charsmap')).length).toBeGreaterThan(15);
    expect(xlmr.filter((r) => r.ok && r.base === 'xlmr').length).toBeGreaterThan(10);
    expect(xlmr.filter((r) => r.ok && r.base === 'xlmr-m3').length).toBeGreaterThan(10);
  });
});
