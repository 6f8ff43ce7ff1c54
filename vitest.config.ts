import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // The harness runs real training in child processes; two cores are shared, so run files one at a time.
    fileParallelism: false,
    // One private TMPDIR per run, removed at the end (test/support/tmpdir.ts).
    globalSetup: ["test/support/tmpdir.ts"],
  },
});
