import { defineConfig } from 'vitest/config';

/**
 * Vitest configuration: real processes and files, so generous timeouts and process
 * isolation. One run, two groups: every test file, then the container test alone (it
 * builds and runs the real image and needs the machine to itself). Every failure of both
 * is reported and fails the run.
 */
/** CONTAINER_TESTS build and run the real image: alone, after every other file. */
const CONTAINER_TESTS = ['test/container/image.test.ts', 'test/container/s6-overlay.test.ts', 'test/container/s6.test.ts'];

export default defineConfig({
  test: {
    // secrets.ts first: its log directory is made outside the run's TMPDIR, and its
    // teardown (the scan for test credentials) runs last.
    globalSetup: ['test/setup/secrets.ts', 'test/setup/tmpdir.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['test/**/*.test.ts'],
          exclude: CONTAINER_TESTS,
          fileParallelism: true,
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'container',
          include: CONTAINER_TESTS,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
