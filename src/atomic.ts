/**
 * Whole-file writes that a crash cannot leave half done: the text goes to a temp file beside the target (named
 * by pid, so concurrent writers never share one), is fsync'd, renamed over the target, and the directory is
 * fsync'd. A reader sees the old file or the new one. The one helper every writer of a whole file uses.
 */
import fs from "node:fs";
import path from "node:path";

export interface AtomicWriteOptions {
  /** Create the target's directory first (default true). */
  mkdir?: boolean;
}

const tempOf = (file: string) => path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);

export function writeFileAtomicSync(file: string, text: string | Uint8Array, opts: AtomicWriteOptions = {}): void {
  if (opts.mkdir ?? true) fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = tempOf(file);
  const fd = fs.openSync(temp, "w");
  try {
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, file);
  fsyncPath(path.dirname(file));
}

export async function writeFileAtomic(file: string, text: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  if (opts.mkdir ?? true) await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const temp = tempOf(file);
  const handle = await fs.promises.open(temp, "w");
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.promises.rename(temp, file);
  fsyncPath(path.dirname(file));
}

/** fsync a file or directory; a no-op where the platform cannot fsync a directory (the rename is atomic regardless). */
export function fsyncPath(target: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(target, "r");
    fs.fsyncSync(fd);
  } catch {
    // Not every platform can fsync a directory.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
