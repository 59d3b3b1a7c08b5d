import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs no servers and runs in seconds (`npm test`); `e2e` runs against the
// real local stack (`make test` brings it up first) one file at a time, since the files share it.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // The worker under test is the build of src/ (dist/), made fresh here.
          globalSetup: ['devtools/build.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 180_000,
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
