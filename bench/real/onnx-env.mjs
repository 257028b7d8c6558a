// The Python step that makes the ONNX files transformers.js runs: a venv under .cache/ with onnx and
// onnxruntime (quantization), plus torch and transformers (export) unless BGE_GGUF_BENCH_TORCH_VENV
// names a venv that already has those two (torch from PyPI is several GB).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureVenv as ensureVenvWith, venvPython } from '../../scripts/parity/python-env.mjs';

const ONNX_REQUIREMENTS = ['onnx>=1.15', 'onnxruntime>=1.17'];
// transformers 5 changed BertModel.forward's positional arguments, which the tracing export passes.
const TORCH_REQUIREMENTS = ['torch>=2.1', 'transformers>=4.36,<5'];

function ensureVenv(dir, requirements, log) {
  return ensureVenvWith(dir, log, { requirements, purpose: 'bench: the ONNX export environment', timeoutMs: 30 * 60_000 });
}

function sitePackages(venvDir) {
  const lib = join(venvDir, 'lib');
  const py = readdirSync(lib).find((d) => d.startsWith('python'));
  return join(lib, py, 'site-packages');
}

/** Exports <checkpoint> to <outDir>/onnx/{model,model_int8}.onnx once; returns that folder. */
export function ensureOnnx(root, checkpoint, outDir, log) {
  const onnxDir = join(outDir, 'onnx');
  if (existsSync(join(onnxDir, 'model.onnx')) && existsSync(join(onnxDir, 'model_int8.onnx'))) return onnxDir;
  const torchVenv = process.env.BGE_GGUF_BENCH_TORCH_VENV;
  const ownVenv = join(root, '.cache', 'bench-onnx-venv');
  let python;
  let env = process.env;
  if (torchVenv) {
    ensureVenv(ownVenv, ONNX_REQUIREMENTS, log);
    python = venvPython(torchVenv);
    // torch and transformers from the given venv, onnx and onnxruntime from ours (same Python version).
    env = { ...process.env, PYTHONPATH: [sitePackages(ownVenv), process.env.PYTHONPATH].filter(Boolean).join(':') };
  } else {
    python = ensureVenv(ownVenv, [...ONNX_REQUIREMENTS, ...TORCH_REQUIREMENTS], log);
  }
  log(`exporting ${checkpoint} to ONNX fp32 and int8 (${python})`);
  execFileSync(python, [join(root, 'bench', 'real', 'export_onnx.py'), checkpoint, outDir], { stdio: 'inherit', env, timeout: 30 * 60_000 });
  return onnxDir;
}
