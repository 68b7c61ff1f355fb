import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The machine has 2 cores; e2e files start emulators and must not starve each other.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
