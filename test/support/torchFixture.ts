/** torch.save-format files written by test/support/torch_save_like.py (Python's own pickle and zipfile). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = join(dirname(fileURLToPath(import.meta.url)), 'torch_save_like.py');

export interface TorchFixtureTensor {
  name: string;
  shape: number[];
  values: Float32Array;
  dtype?: 'float32' | 'float16' | 'bfloat16';
  /** Store as the transpose of a contiguous storage (a non-contiguous tensor). */
  transposed?: boolean;
}

export function writeTorchStateDict(out: string, archive: string, tensors: TorchFixtureTensor[]): void {
  const dir = mkdtempSync(join(tmpdir(), 'bge-torch-'));
  try {
    const args = [script, out, archive];
    tensors.forEach((t, i) => {
      const raw = join(dir, `${i}.f32`);
      writeFileSync(raw, Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength));
      args.push(`${t.name}:${t.dtype ?? 'float32'}:${t.shape.join('x')}:${raw}`);
      if (t.transposed) args.push('--transpose', t.name);
    });
    execFileSync(process.env.PYTHON || 'python3', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
