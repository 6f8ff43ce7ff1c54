/**
 * The steering journal: `<archive>/steering.jsonl`, one SteeringAction per line. Appended by any process
 * (CLI, server) without the archive's writer lock: each append is one write(2) of one whole line on a file
 * opened O_APPEND, then fsync — Linux serialises O_APPEND writes on a local filesystem, so concurrent appends
 * never interleave, and a crash can at worst leave a last line without its newline, which readers ignore.
 * Nothing ever rewrites the file; the campaign only reads it.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { SteeringAction, type NewSteeringAction } from "../contracts/steering.ts";
import { ArchiveCorruptError } from "../archive/errors.ts";

export const STEERING_FILE = "steering.jsonl";

export function steeringPath(archiveDir: string): string {
  return path.join(archiveDir, STEERING_FILE);
}

/** Validates and appends one action; durable when it returns. */
export function appendSteering(archiveDir: string, input: NewSteeringAction, now: Date = new Date()): SteeringAction {
  const record = SteeringAction.parse({
    ...input,
    id: `s${now.getTime().toString(36)}${randomBytes(3).toString("hex")}`,
    at: now.toISOString(),
  });
  const fd = fs.openSync(steeringPath(archiveDir), "a", 0o644);
  try {
    fs.writeSync(fd, `${JSON.stringify(record)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return record;
}

/** Parses journal lines; a bad line is corruption named by its text (a torn last line never gets here). */
export function parseSteeringLines(archiveDir: string, lines: readonly string[]): SteeringAction[] {
  return lines.map((line) => {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      throw new ArchiveCorruptError(`archive ${archiveDir}: ${STEERING_FILE} has a line that is not JSON: ${line.slice(0, 80)}`);
    }
    const parsed = SteeringAction.safeParse(raw);
    if (!parsed.success) {
      throw new ArchiveCorruptError(`archive ${archiveDir}: ${STEERING_FILE} has an invalid record (${parsed.error.issues[0]?.message}): ${line.slice(0, 80)}`);
    }
    return parsed.data;
  });
}

/** Every complete record, oldest first ([] when nobody has steered this archive). */
export function readSteering(archiveDir: string): SteeringAction[] {
  let text: string;
  try {
    text = fs.readFileSync(steeringPath(archiveDir), "utf8");
  } catch {
    return [];
  }
  const end = text.lastIndexOf("\n");
  return parseSteeringLines(archiveDir, end < 0 ? [] : text.slice(0, end).split("\n").filter((l) => l.trim() !== ""));
}
