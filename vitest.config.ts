import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/globalSetup.ts'],
    // llama.cpp runs in-process: separate processes keep a native crash or a leaked context contained
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
