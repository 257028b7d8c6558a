/**
 * BGE-M3's colbert_linear and sparse_linear live beside the model GGUF in a small sidecar GGUF:
 * llama.cpp refuses a model file with tensors its graph does not use ("wrong number of tensors").
 * `<model>.gguf` → `<model>.m3-heads.gguf`.
 */
import { existsSync } from 'node:fs';
import { BgeGgufError, InvalidInputError } from '../errors.js';
import { readGguf, readTensorF32 } from '../gguf/reader.js';
import { GgmlType, gv, type GgufTensorInput } from '../gguf/types.js';
import { writeGguf } from '../gguf/writer.js';
import type { LinearHead } from './linear.js';

export interface M3Heads {
  colbert: LinearHead;
  sparse: LinearHead;
}

export const M3_HEADS_ARCH = 'bge-m3-heads';

export function m3HeadsPath(modelPath: string): string {
  return `${modelPath.replace(/\.gguf$/i, '')}.m3-heads.gguf`;
}

/** Writes the sidecar; weights as torch stores them (out × in). `type` F32 (default) or F16 for the matrices. */
export async function writeM3Heads(path: string, heads: M3Heads, type: GgmlType.F32 | GgmlType.F16 = GgmlType.F32): Promise<void> {
  checkHeads(heads, path);
  const tensors: GgufTensorInput[] = [];
  for (const [name, head] of [['colbert_linear', heads.colbert], ['sparse_linear', heads.sparse]] as const) {
    tensors.push({ name: `${name}.weight`, shape: [head.inFeatures, head.outFeatures], type, data: head.weight });
    tensors.push({ name: `${name}.bias`, shape: [head.outFeatures], type: GgmlType.F32, data: head.bias });
  }
  await writeGguf(path, [
    ['general.architecture', gv.str(M3_HEADS_ARCH)],
    ['general.type', gv.str('adapter')],
    [`${M3_HEADS_ARCH}.embedding_length`, gv.u32(heads.colbert.inFeatures)],
  ], tensors);
}

/** The error for sparse or ColBERT outputs asked of a model without its heads sidecar. */
export function missingM3Heads(modelPath: string): BgeGgufError {
  return new BgeGgufError('MODEL_NOT_FOUND', `BGE-M3's sparse and ColBERT heads were not found: expected ${m3HeadsPath(modelPath)} beside the model (bge-gguf convert writes it from colbert_linear.pt and sparse_linear.pt); without it only dense vectors are available`);
}

/** Reads the sidecar of `modelPath`; null when there is none (dense vectors still work). */
export async function readM3Heads(modelPath: string, hidden: number): Promise<M3Heads | null> {
  const path = m3HeadsPath(modelPath);
  if (!existsSync(path)) return null;
  const file = await readGguf(path);
  if (file.metadata.get('general.architecture')?.value !== M3_HEADS_ARCH) throw new InvalidInputError(`${path} is not a BGE-M3 heads file (general.architecture is not ${M3_HEADS_ARCH})`);
  const linear = async (name: string): Promise<LinearHead> => {
    const weight = file.tensors.find((t) => t.name === `${name}.weight`);
    const bias = file.tensors.find((t) => t.name === `${name}.bias`);
    if (!weight || !bias || weight.shape.length !== 2) throw new InvalidInputError(`${path} has no ${name}.weight / ${name}.bias`);
    const [inFeatures, outFeatures] = weight.shape;
    return { weight: await readTensorF32(path, weight), bias: await readTensorF32(path, bias), inFeatures, outFeatures };
  };
  const heads = { colbert: await linear('colbert_linear'), sparse: await linear('sparse_linear') };
  checkHeads(heads, path, hidden);
  return heads;
}

function checkHeads(heads: M3Heads, where: string, hidden = heads.colbert.inFeatures): void {
  const { colbert, sparse } = heads;
  const ok = (h: LinearHead) => h.weight.length === h.inFeatures * h.outFeatures && h.bias.length === h.outFeatures && h.inFeatures === hidden;
  if (!ok(colbert) || !ok(sparse) || sparse.outFeatures !== 1) {
    throw new InvalidInputError(`${where}: the heads do not fit a model of hidden size ${hidden} (colbert_linear ${colbert.inFeatures}→${colbert.outFeatures}, sparse_linear ${sparse.inFeatures}→${sparse.outFeatures}; sparse must have 1 output)`);
  }
}
