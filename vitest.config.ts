import { defineConfig } from 'vitest/config';

/** Vitest configuration: real processes and files, so generous timeouts and process isolation. */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: true,
    maxWorkers: 2,
  },
});
