/**
 * Candidate code is untrusted (README "Safety"). With bubblewrap the candidate process (harness.run, started by
 * the trusted evaluator) runs in new user, pid, ipc, uts, net and cgroup namespaces with every capability
 * dropped, in a new session, killed with its parent; it sees a fresh /proc of its own pid namespace, a minimal
 * /dev, tmpfs /tmp and home, read-only the interpreter, /usr, experiments/ (venv included), the candidate file,
 * the spec and any corpus, and read-write only its work directory. prlimit caps processes, file size, CPU time
 * and (CPU runs) address space. Every process of the run ends when the namespace's first process does.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execaSync } from "execa";
import { UserError } from "../errors.ts";

/** The namespace, capability and lifetime flags, used by every sandboxed run and by the availability probe. */
export const ISOLATION_FLAGS = [
  "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net", "--unshare-cgroup-try",
  "--cap-drop", "ALL", "--new-session", "--die-with-parent", "--hostname", "sandbox",
];

export interface SandboxPaths {
  /** The only writable directory (the candidate's cwd). */
  workDir: string;
  /** Files and folders the run reads: interpreter prefix, experiments/, the candidate file, the spec, a corpus. */
  readOnly: string[];
  /** Home inside the sandbox (a tmpfs). */
  home: string;
}

export interface SandboxLimits {
  /** Processes (RLIMIT_NPROC; the kernel does not enforce it for real uid 0, see README). */
  nproc: number;
  fsizeBytes: number;
  cpuSeconds: number;
  /** Address space; null for GPU runs (CUDA maps huge virtual ranges). */
  asBytes: number | null;
}

export const SANDBOX_HOME = "/home/candidate";

/** The full bwrap argument list that wraps `command`. */
export function sandboxArgs(paths: SandboxPaths, limits: SandboxLimits, opts: { gpu: boolean }, command: string[]): string[] {
  const readOnly = [...new Set(paths.readOnly.flatMap(withTarget))].filter((p) => !underUsr(p));
  return [
    ...ISOLATION_FLAGS,
    "--tmpfs", "/tmp",
    "--tmpfs", "/home",
    "--dir", paths.home,
    "--ro-bind", "/usr", "/usr",
    ...["bin", "lib", "lib64", "sbin"].flatMap((d) => rootDirArgs(d)),
    ...readOnly.flatMap((p) => ["--ro-bind", p, p]),
    "--bind", paths.workDir, paths.workDir,
    "--proc", "/proc",
    ...(opts.gpu ? ["--dev-bind", "/dev", "/dev", "--ro-bind", "/sys", "/sys"] : ["--dev", "/dev"]),
    "--chdir", paths.workDir,
    "--",
    "/usr/bin/prlimit",
    `--nproc=${limits.nproc}`, `--fsize=${limits.fsizeBytes}`, `--cpu=${limits.cpuSeconds}`,
    ...(limits.asBytes === null ? [] : [`--as=${limits.asBytes}`]),
    "--",
    ...command,
  ];
}

/** /bin, /lib... as the host has them: a symlink into /usr (merged /usr) or a read-only bind. */
function rootDirArgs(name: string): string[] {
  const host = `/${name}`;
  try {
    const stat = fs.lstatSync(host);
    if (stat.isSymbolicLink()) return ["--symlink", fs.readlinkSync(host), host];
    return ["--ro-bind", host, host];
  } catch {
    return [];
  }
}

/**
 * A path and, when it is (or passes through) a symbolic link, where it really is: a checkout whose
 * experiments/.venv links to another checkout's venv runs with both bound, so the link resolves inside.
 */
function withTarget(p: string): string[] {
  const abs = path.resolve(p);
  try {
    const real = fs.realpathSync(abs);
    return real === abs ? [abs] : [abs, real];
  } catch {
    return [abs];
  }
}

function underUsr(p: string): boolean {
  return p === "/usr" || p.startsWith("/usr/");
}

/** The interpreter's own prefix (a pyenv or conda install outside /usr) and, for a venv, the venv. */
export function interpreterPaths(python: string): string[] {
  const real = fs.realpathSync(python);
  const roots = [path.dirname(path.dirname(real))];
  const venv = path.dirname(path.dirname(path.resolve(python)));
  if (fs.existsSync(path.join(venv, "pyvenv.cfg"))) roots.push(venv);
  return roots;
}

/** bwrap's absolute path on this process's PATH (what every sandboxed run executes), or null. */
export function findBwrap(env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, "bwrap");
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

let available: boolean | undefined;

/** bwrap runs here with exactly the flags (and wrapper) real runs use (checked once per process). */
export function sandboxAvailable(): boolean {
  const bwrap = findBwrap();
  if (bwrap === null) return false;
  if (available === undefined) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-bwrap-probe-"));
    try {
      const args = sandboxArgs(
        { workDir: dir, readOnly: [], home: SANDBOX_HOME },
        { nproc: 64, fsizeBytes: 1 << 20, cpuSeconds: 10, asBytes: 1 << 30 },
        { gpu: false },
        ["/usr/bin/true"],
      );
      execaSync(bwrap, args, { timeout: 10_000, stdin: "ignore", env: { PATH: "/usr/bin:/bin" }, extendEnv: false });
      available = true;
    } catch {
      available = false;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return available;
}

/** How a run is isolated: auto (bwrap when it works), bwrap (required), none (the user opted out). */
export type SandboxMode = "auto" | "bwrap" | "none";
export const SANDBOX_MODES = ["auto", "bwrap", "none"] as const;

export const INSTALL_HINT = "install bubblewrap (apt-get install bubblewrap) or opt out with `sandbox: none` (--sandbox none)";

/**
 * Whether to sandbox a run (pure policy; `available` is sandboxAvailable()). LLM-written code never runs
 * unsandboxed under auto; offline-generated or hand-written code does, with a warning (`warn` is set).
 */
export function resolveSandbox(mode: SandboxMode, available: boolean, llmWritten: boolean): { sandboxed: boolean; warn?: string } {
  if (mode === "none") return { sandboxed: false, warn: "sandbox: none: candidate code runs unsandboxed" };
  if (available) return { sandboxed: true };
  if (mode === "bwrap") throw new UserError(`sandbox: bwrap, but bubblewrap does not work here: ${INSTALL_HINT}`);
  if (llmWritten) throw new UserError(`refusing to run LLM-written code without a sandbox: ${INSTALL_HINT}`);
  return { sandboxed: false, warn: "bubblewrap is not available: candidate code runs unsandboxed (recorded as sandboxed: false)" };
}
