/**
 * Reading an archive in a test's assertions: `withArchive` read-only, its warnings silenced.
 */
import fs from "node:fs";
import path from "node:path";
import { withArchive, type Archive } from "../../src/archive/archive.ts";
import type { Experiment } from "../../src/contracts/experiment.ts";

export function readArchive<T>(dir: string, fn: (archive: Archive) => T | Promise<T>): Promise<T> {
  return withArchive(dir, { mode: "read", warn: () => {} }, fn);
}

/** The experiments in the archive at dir; none while it has no db.json (a campaign still starting). */
export async function experimentsIn(dir: string): Promise<Experiment[]> {
  if (!fs.existsSync(path.join(dir, "db.json"))) return [];
  return readArchive(dir, (archive) => archive.experiments());
}
