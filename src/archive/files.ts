/**
 * Out-of-line content: candidate code, content-addressed (`code/<sha256>.py`), and long text per experiment
 * (`texts/<id>/<kind>.md`). Every write is atomic (temp file + rename), so a reader sees a whole file or none.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../atomic.ts";
import { UserError } from "../errors.ts";
import { ArchiveCorruptError } from "./errors.ts";

const HASH = /^[0-9a-f]{64}$/;
const KIND = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function codeHash(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

export class ContentFiles {
  constructor(readonly root: string, readonly label: string) {}

  codePath(hash: string): string {
    if (!HASH.test(hash)) throw new UserError(`not a code hash (64 hex digits): "${hash}"`);
    return path.join(this.root, "code", `${hash}.py`);
  }

  async putCode(text: string): Promise<string> {
    const hash = codeHash(text);
    const file = this.codePath(hash);
    if (!fs.existsSync(file)) await writeFileAtomic(file, text);
    return hash;
  }

  async readCode(hash: string): Promise<string> {
    const file = this.codePath(hash);
    let text: string;
    try {
      text = await fs.promises.readFile(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        throw new ArchiveCorruptError(`archive ${this.label}: code ${hash} is missing (${file})`);
      }
      throw err;
    }
    if (codeHash(text) !== hash) throw new ArchiveCorruptError(`archive ${this.label}: code file ${file} does not match its hash`);
    return text;
  }

  textPath(id: string, kind: string): string {
    checkId(id);
    if (!KIND.test(kind)) throw new UserError(`text kind must be lower-case letters, digits, - or _, not "${kind}"`);
    return path.join(this.root, "texts", id, `${kind}.md`);
  }

  async writeText(id: string, kind: string, text: string): Promise<string> {
    const file = this.textPath(id, kind);
    await writeFileAtomic(file, text);
    return file;
  }

  async readText(id: string, kind: string): Promise<string | null> {
    try {
      return await fs.promises.readFile(this.textPath(id, kind), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw err;
    }
  }

  textKinds(id: string): string[] {
    checkId(id);
    try {
      return fs.readdirSync(path.join(this.root, "texts", id))
        .filter((name) => name.endsWith(".md"))
        .map((name) => name.slice(0, -3))
        .sort();
    } catch {
      return [];
    }
  }

  runDir(id: string, stage: string): string {
    checkId(id);
    if (!KIND.test(stage)) throw new UserError(`stage name must be lower-case letters, digits, - or _, not "${stage}"`);
    return path.join(this.root, "runs", id, stage);
  }
}

function checkId(id: string): void {
  if (!ID.test(id)) throw new UserError(`not a valid record id: "${id}"`);
}
