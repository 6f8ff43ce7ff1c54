/**
 * Reading an archive in a test's assertions: open read-only, run fn, close, even when fn throws.
 */
import fs from "node:fs";
import path from "node:path";
import { Archive } from "../../src/archive/archive.ts";
import type { Experiment } from "../../src/contracts/experiment.ts";

export async function readArchive<T>(dir: string, fn: (archive: Archive) => T | Promise<T>): Promise<T> {
  const archive = await Archive.open(dir, { mode: "read", warn: () => {} });
  try {
    return await fn(archive);
  } finally {
    await archive.close();
  }
}

/** The experiments in the archive at dir; none while it has no db.json (a campaign still starting). */
export async function experimentsIn(dir: string): Promise<Experiment[]> {
  if (!fs.existsSync(path.join(dir, "db.json"))) return [];
  return readArchive(dir, (archive) => archive.experiments());
}
