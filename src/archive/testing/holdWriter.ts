/**
 * Test helper, run as its own process: opens an archive for writing, prints one JSON line when it holds the lock,
 * and waits to be signalled. `node --import tsx src/archive/testing/holdWriter.ts <archive dir>`
 */
import { Archive } from "../archive.ts";

const dir = process.argv[2];
if (!dir) throw new Error("usage: holdWriter.ts <archive dir>");
await Archive.open(dir, { mode: "write" });
process.stdout.write(JSON.stringify({ ready: true, pid: process.pid }) + "\n");
setInterval(() => {}, 1 << 30);
