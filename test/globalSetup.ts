import { ensureFixtures } from './support/fixtures.js';

/** Runs once before all test files: writes the synthetic GGUF fixtures that are missing or stale. */
export default async function setup(): Promise<void> {
  await ensureFixtures();
}
