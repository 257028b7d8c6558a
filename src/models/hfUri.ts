import { existsSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { ModelNotFoundError } from '../errors.js';
import { cacheDir } from './paths.js';

export interface HfUri {
  repo: string; // "org/name"
  file: string; // path inside the repo
  revision: string;
}

const EXAMPLE = 'hf:ChristianAzinn/bge-small-en-v1.5-gguf/bge-small-en-v1.5.Q8_0.gguf';
/** Hub ids: letters, digits, '-', '_', '.'; not starting with '.' or '-' (so never "." or ".."). */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,95}$/;
/** A path segment of a file in the repo: a sane charset, no separators, not "." or "..". */
const FILE_SEGMENT = /^[A-Za-z0-9_+=@,()[\]][A-Za-z0-9._+=@,()[\] -]{0,254}$/;

function invalid(uri: string, why: string): ModelNotFoundError {
  return new ModelNotFoundError(`"${uri}" is not a valid hf: URI (${why}); expected hf:<org>/<repo>[@revision]/<file>.gguf, e.g. ${EXAMPLE}`);
}

/**
 * Parses `hf:<org>/<repo>[@revision]/<path/to/file>.gguf`. Every part is checked against the hub's
 * naming rules, so no part can climb out of the cache folder ("..", absolute paths, backslashes,
 * empty segments, control characters are refused).
 */
export function parseHfUri(uri: string): HfUri {
  if (typeof uri !== 'string' || !uri.startsWith('hf:')) throw invalid(String(uri), 'it must start with "hf:"');
  if (uri.includes('\\')) throw invalid(uri, 'backslashes are not allowed');
  const parts = uri.slice(3).split('/');
  if (parts.length < 3) throw invalid(uri, 'it needs an org, a repo and a file');
  const [org, repoAndRevision, ...fileParts] = parts;
  const at = repoAndRevision.indexOf('@');
  const repo = at < 0 ? repoAndRevision : repoAndRevision.slice(0, at);
  let revision = at < 0 ? 'main' : repoAndRevision.slice(at + 1);
  // the hub's pull-request and conversion refs: @refs/pr/3/file.gguf
  if (revision === 'refs' && /^(pr|convert)$/.test(fileParts[0] ?? '') && /^\d+$/.test(fileParts[1] ?? '') && fileParts.length > 2) {
    revision = `refs/${fileParts.shift()}/${fileParts.shift()}`;
  }
  if (!NAME.test(org) || org.includes('..')) throw invalid(uri, `bad org name ${JSON.stringify(org)}`);
  if (!NAME.test(repo) || repo.includes('..')) throw invalid(uri, `bad repo name ${JSON.stringify(repo)}`);
  if (!revision.split('/').every((part) => NAME.test(part) && !part.includes('..'))) throw invalid(uri, `bad revision ${JSON.stringify(revision)}`);
  for (const segment of fileParts) {
    if (!FILE_SEGMENT.test(segment) || segment.includes('..')) throw invalid(uri, `bad file path segment ${JSON.stringify(segment)}`);
  }
  const file = fileParts.join('/');
  if (!/\.gguf$/i.test(file)) throw invalid(uri, 'the file must be a .gguf');
  return { repo: `${org}/${repo}`, file, revision };
}

/** Where an hf: file is cached, proven to lie inside the cache folder (symlinks resolved). */
export function hfCachePath(hf: HfUri): string {
  const root = resolve(cacheDir());
  const target = resolve(root, 'hf', ...hf.repo.split('/'), ...hf.revision.split('/'), ...hf.file.split('/'));
  assertInside(root, target);
  return target;
}

/** Throws unless `target` (and what its nearest existing ancestor really is) lies inside `root`. */
export function assertInside(root: string, target: string): void {
  const lexical = relative(root, target);
  if (lexical === '' || lexical.startsWith('..') || isAbsolute(lexical)) {
    throw new ModelNotFoundError(`refusing ${target}: it is outside the model cache ${root}`);
  }
  if (!existsSync(root)) return;
  const realRoot = realpathSync(root);
  let existing = target;
  while (!existsSync(existing)) existing = dirname(existing);
  const real = join(realpathSync(existing), relative(existing, target));
  const inside = relative(realRoot, real);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
    throw new ModelNotFoundError(`refusing ${target}: it resolves to ${real}, outside the model cache ${realRoot} (a symbolic link in the cache?)`);
  }
}
