/** The Python virtualenv the parity reference runs in: numpy, tokenizers, safetensors (no torch). */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const REQUIREMENTS = ['numpy>=1.24', 'tokenizers>=0.15', 'safetensors>=0.4'];

export function venvPython(venvDir) {
  return process.platform === 'win32' ? join(venvDir, 'Scripts', 'python.exe') : join(venvDir, 'bin', 'python');
}

/**
 * Creates (once) and returns the venv's python; a marker file records what was installed, so a
 * change of `requirements` reinstalls. `purpose` names the environment in the error.
 */
export function ensureVenv(venvDir, log, { requirements = REQUIREMENTS, purpose = 'parity: the Python reference environment', timeoutMs = 10 * 60_000 } = {}) {
  const py = venvPython(venvDir);
  const marker = join(venvDir, '.bge-gguf-requirements');
  const wanted = requirements.join('\n');
  if (existsSync(py) && existsSync(marker) && readFileSync(marker, 'utf8') === wanted) return py;
  log(`creating ${venvDir} (${requirements.join(', ')})`);
  const base = process.env.PYTHON || 'python3';
  try {
    if (!existsSync(py)) execFileSync(base, ['-m', 'venv', venvDir], { stdio: 'inherit' });
    execFileSync(py, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...requirements], { stdio: 'inherit', timeout: timeoutMs });
  } catch (error) {
    throw new Error(`${purpose}: could not set it up in ${venvDir} (${error.message}); it needs ${base} with venv and pip, and PyPI`);
  }
  writeFileSync(marker, wanted);
  return py;
}
