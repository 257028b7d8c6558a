/**
 * `bge-gguf convert` on a bge-m3 checkpoint laid out like BAAI's (XLMRobertaModel safetensors,
 * sentencepiece.bpe.model + tokenizer.json, colbert_linear.pt and sparse_linear.pt saved in float16 as
 * torch.save writes them): one call gives the GGUF and the heads sidecar, and BGEM3FlagModel.load
 * then matches the float64 reference.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BGEM3FlagModel } from '../src/api/BGEM3FlagModel.js';
import { convertHfToGguf } from '../src/convert/index.js';
import { m3HeadsPath } from '../src/heads/m3HeadsFile.js';
import { readSafetensorsHeader, readTensorAsF32 } from '../src/convert/safetensors.js';
import { readGguf, readTensorF32 } from '../src/gguf/reader.js';
import { writeTorchStateDict } from './support/torchFixture.js';
import { cosine } from './support/bertReference.js';
import { m3Reference } from './support/m3Reference.js';
import { writeSyntheticM3, type M3Weights } from './support/synthetic/m3.js';
import type { XlmrWeights } from './support/synthetic/xlmr.js';
import { writeXlmrCheckpoint, xlmrVocab } from './support/xlmrCheckpoint.js';
import { xlmrVocabPath } from './support/xlmrFixture.js';

const root = join(resolve(dirname(fileURLToPath(import.meta.url))), 'fixtures', `m3-checkpoint-${process.pid}`);
const checkpoint = join(root, 'bge-m3');
const out = join(root, 'out', 'bge-m3-f32.gguf');
let weights: M3Weights;

beforeAll(async () => {
  const written = await writeSyntheticM3(checkpoint, { layers: 2, hidden: 32, heads: 4, ffn: 64, maxPositions: 8192, seed: 7, vocabGguf: xlmrVocabPath(), headsDtype: 'float16' });
  rmSync(written.modelPath); // keep only what BAAI publishes
  weights = written.weights;
  const encoderOnly = { encoder: weights.encoder } as XlmrWeights;
  writeXlmrCheckpoint(checkpoint, encoderOnly, await xlmrVocab(xlmrVocabPath()), { architecture: 'XLMRobertaModel', tokenizerFiles: ['sentencepiece.bpe.model', 'tokenizer.json'] });
  mkdirSync(dirname(out), { recursive: true });
}, 120_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('convert a BAAI-layout bge-m3 checkpoint', () => {
  it('writes the GGUF and the heads sidecar in one call; BGEM3FlagModel loads them and matches the reference', async () => {
    const summary = await convertHfToGguf(checkpoint, out, { type: 'f32' });
    expect(summary.architecture).toBe('XLMRobertaModel');
    expect(summary.m3HeadsPath).toBe(m3HeadsPath(out));
    expect(existsSync(m3HeadsPath(out))).toBe(true);
    const model = await BGEM3FlagModel.load(out, { threads: 2, flashAttention: false });
    try {
      const texts = ['What is BGE M3?', 'Le modèle BGE-M3 produit des vecteurs denses, lexicaux et multi-vecteurs.', '東京は日本の首都です。'];
      const got = await model.encode(texts, { returnSparse: true, returnColbertVecs: true });
      let cos = 1;
      let lexical = 0;
      texts.forEach((t, i) => {
        const ref = m3Reference(weights, model.tokenize(t));
        cos = Math.min(cos, cosine(got.denseVecs![i], ref.dense), ...got.colbertVecs![i].map((v, k) => cosine(v, ref.colbert[k])));
        expect(Object.keys(got.lexicalWeights![i]).sort()).toEqual([...ref.lexical.keys()].map(String).sort());
        for (const [id, w] of ref.lexical) lexical = Math.max(lexical, Math.abs(got.lexicalWeights![i][String(id)] - w));
      });
      console.log(`m3 converted checkpoint: worst cosine ${cos}, worst lexical |diff| ${lexical}`);
      expect(cos).toBeGreaterThanOrEqual(0.99999);
      expect(lexical).toBeLessThanOrEqual(1e-4);
    } finally {
      await model.dispose();
    }
  }, 120_000);

  it('reads pytorch_model.bin (torch.save) instead of safetensors: the same GGUF, tensor for tensor', async () => {
    const binDir = join(root, 'bge-m3-bin');
    mkdirSync(binDir, { recursive: true });
    for (const f of readdirSync(checkpoint)) if (!f.endsWith('.safetensors')) copyFileSync(join(checkpoint, f), join(binDir, f));
    const { tensors } = await readSafetensorsHeader(join(checkpoint, 'model.safetensors'));
    // the float tensors (position_ids, an int64 buffer the converter skips, is left out of this writer)
    const floats = tensors.filter((t) => !t.name.endsWith('position_ids'));
    const fromSafetensors = await Promise.all(floats.map(async (t) => ({ name: t.name, shape: t.shape, values: await readTensorAsF32(t) })));
    writeTorchStateDict(join(binDir, 'pytorch_model.bin'), 'pytorch_model', fromSafetensors);
    const binOut = join(root, 'out', 'bge-m3-from-bin-f32.gguf');
    const summary = await convertHfToGguf(binDir, binOut, { type: 'f32' });
    expect(summary.m3HeadsPath).toBe(m3HeadsPath(binOut));
    const [a, b] = [await readGguf(out), await readGguf(binOut)];
    expect(b.tensors.map((t) => [t.name, t.shape])).toEqual(a.tensors.map((t) => [t.name, t.shape]));
    for (const t of a.tensors) {
      const other = b.tensors.find((x) => x.name === t.name)!;
      const [x, y] = [await readTensorF32(binOut, other), await readTensorF32(out, t)];
      expect(Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength)), t.name).toBe(true);
    }
  }, 120_000);
});
