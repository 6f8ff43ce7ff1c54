/**
 * Candidate code is untrusted: when bubblewrap is installed the harness runs inside it with no network, a
 * read-only root (so nothing outside the run directory can be written) and only the run directory writable. Without bwrap it still runs in a child
 * process with a clean environment and the harness's own time and memory limits.
 */
import { execaSync } from "execa";

let available: boolean | undefined;

/** bwrap exists and can actually create namespaces here (checked once per process). */
export function sandboxAvailable(): boolean {
  if (available === undefined) {
    try {
      execaSync("bwrap", ["--ro-bind", "/", "/", "--unshare-net", "--die-with-parent", "true"], { timeout: 10_000 });
      available = true;
    } catch {
      available = false;
    }
  }
  return available;
}

/** The bwrap argument list that wraps `command` so it can write only to `writableDir`. */
export function sandboxArgs(writableDir: string, opts: { gpu: boolean }): string[] {
  return [
    "--ro-bind", "/", "/",
    ...(opts.gpu ? ["--dev-bind", "/dev", "/dev"] : ["--dev", "/dev"]),
    "--proc", "/proc",
    "--bind", writableDir, writableDir,
    "--unshare-net",
    "--unshare-ipc",
    "--die-with-parent",
    "--",
  ];
}
