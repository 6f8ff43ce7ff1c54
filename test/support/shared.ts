/**
 * The shared data tests may use (../shared next to the repository, e.g. ../shared/asi-arch), found relative to
 * the repository, never at an absolute path. Absent: the test is skipped and says so on stderr, naming the path.
 */
import fs from "node:fs";
import path from "node:path";
import { PROJECT_ROOT } from "../../src/paths.ts";

export const SHARED_DIR = path.resolve(PROJECT_ROOT, "..", "shared");

/** The path under ../shared; `have` is false (and a SKIP line is printed once) when any of `needs` is missing. */
export function sharedData(rel: string, needs: readonly string[] = [""], what = rel): { dir: string; have: boolean } {
  const dir = path.join(SHARED_DIR, rel);
  const missing = needs.map((n) => path.join(dir, n)).filter((p) => !fs.existsSync(p));
  if (missing.length) process.stderr.write(`SKIP: tests on ${what} skipped: ${missing[0]} not found (../shared next to the repository)\n`);
  return { dir, have: missing.length === 0 };
}
