/**
 * A checkpoint folder's weights, whichever way they are saved: model*.safetensors, else
 * pytorch_model*.bin (torch.save archives, read without Python). Names and shapes up front, values on demand.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ModelNotFoundError } from '../errors.js';
import { readSafetensorsHeader, readTensorAsF32 } from './safetensors.js';
import { openTorchStateDict } from './torchFile.js';

export interface CheckpointTensor {
  name: string;
  /** PyTorch order. */
  shape: number[];
  read(): Promise<Float32Array>;
}

export async function checkpointTensors(dir: string): Promise<{ tensors: CheckpointTensor[]; close: () => void }> {
  const files = readdirSync(dir).sort();
  const safetensors = files.filter((f) => f.startsWith('model') && f.endsWith('.safetensors'));
  if (safetensors.length > 0) {
    const tensors: CheckpointTensor[] = [];
    for (const file of safetensors) {
      for (const t of (await readSafetensorsHeader(join(dir, file))).tensors) tensors.push({ name: t.name, shape: t.shape, read: () => readTensorAsF32(t) });
    }
    return { tensors, close: () => {} };
  }
  const bins = files.filter((f) => f.startsWith('pytorch_model') && f.endsWith('.bin'));
  if (bins.length === 0) throw new ModelNotFoundError(`${dir} has no model.safetensors or pytorch_model.bin; download the checkpoint's weights into it`);
  const opened = bins.map((f) => openTorchStateDict(join(dir, f)));
  return {
    tensors: opened.flatMap((o) => o.tensors.map((t) => ({ name: t.name, shape: t.shape, read: async () => t.read() }))),
    close: () => opened.forEach((o) => o.close()),
  };
}
