/** BGE-M3 checkpoint folder: colbert_linear.pt + sparse_linear.pt (torch state dicts) → the heads sidecar GGUF. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidInputError } from '../errors.js';
import { m3HeadsPath, writeM3Heads, type M3Heads } from '../heads/m3HeadsFile.js';
import type { LinearHead } from '../heads/linear.js';
import { readTensorAsF32 } from './safetensors.js';
import { readTorchStateDict } from './torchCheckpoint.js';

export function hasM3Heads(dir: string): boolean {
  return existsSync(join(dir, 'colbert_linear.pt')) && existsSync(join(dir, 'sparse_linear.pt'));
}

async function linearFrom(path: string): Promise<LinearHead> {
  const tensors = await readTorchStateDict(path);
  const weight = tensors.find((t) => t.name === 'weight');
  const bias = tensors.find((t) => t.name === 'bias');
  if (!weight || !bias || weight.shape.length !== 2 || bias.shape.length !== 1 || bias.shape[0] !== weight.shape[0]) {
    throw new InvalidInputError(`${path} is not a torch.nn.Linear state dict (weight [out, in] and bias [out])`);
  }
  const [outFeatures, inFeatures] = weight.shape;
  return { weight: await readTensorAsF32(weight), bias: await readTensorAsF32(bias), inFeatures, outFeatures };
}

export async function readM3HeadsFromCheckpoint(dir: string): Promise<M3Heads> {
  return { colbert: await linearFrom(join(dir, 'colbert_linear.pt')), sparse: await linearFrom(join(dir, 'sparse_linear.pt')) };
}

/** Writes `<modelPath minus .gguf>.m3-heads.gguf` from the checkpoint's .pt files; returns its path. */
export async function convertM3Heads(dir: string, modelPath: string): Promise<string> {
  const out = m3HeadsPath(modelPath);
  await writeM3Heads(out, await readM3HeadsFromCheckpoint(dir));
  return out;
}
