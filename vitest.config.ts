import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The machine has 2 cores; e2e files start emulators and must not starve each other.
    maxWorkers: 2,
    reporters: ['default'],
    // The AWS SDK's notice that its 2027 releases need Node 22 (we run on 20.19+): not test output.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
