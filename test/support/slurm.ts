/**
 * A real single-node Slurm on localhost for the tests (../shared/notes/slurm-localhost.md): munged, slurmctld and
 * slurmd started from a config in a temp dir (SLURM_CONF points every client at it), stopped by the pids in their
 * pid files. `startSlurm()` returns null, with the reason, where the binaries are absent or we are not root.
 */
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";

export interface LocalSlurm {
  dir: string;
  /** SLURM_CONF for clients (sbatch, squeue, scontrol, scancel). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

const BINARIES = ["/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/sbin/munged", "/usr/bin/sbatch"];

/** Why a real Slurm cannot be started here, or null when it can. */
export function slurmUnavailable(): string | null {
  const missing = BINARIES.filter((b) => !fs.existsSync(b));
  if (missing.length) return `slurm binaries absent (${missing.join(", ")}): apt-get install slurm-wlm munge`;
  if (process.getuid?.() !== 0) return "starting slurmctld/slurmd needs root";
  return null;
}

function config(dir: string, cpus: number, ports: [number, number]): string {
  return `ClusterName=archlabci
SlurmctldHost=localhost
SlurmctldPort=${ports[0]}
SlurmdPort=${ports[1]}
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=${dir}/state
SlurmdSpoolDir=${dir}/spool
SlurmctldPidFile=${dir}/slurmctld.pid
SlurmdPidFile=${dir}/slurmd.pid
SlurmctldLogFile=${dir}/log/slurmctld.log
SlurmdLogFile=${dir}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=1,sched_interval=2
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=${dir}/log/jobcomp.txt
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
MailProg=/bin/true
KillWait=5
MinJobAge=300
NodeName=localhost CPUs=${cpus} RealMemory=16000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function twoFreePorts(): Promise<[number, number]> {
  const first = await freePort();
  for (;;) {
    const second = await freePort();
    if (second !== first) return [first, second];
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pidIn(file: string): number | null {
  try {
    const pid = Number(fs.readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export async function startSlurm(opts: { cpus?: number } = {}): Promise<LocalSlurm> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "archlab-slurm-"));
  fs.chmodSync(dir, 0o755);
  for (const sub of ["state", "spool", "log", "munge"]) fs.mkdirSync(path.join(dir, sub));
  const conf = path.join(dir, "slurm.conf");
  // Free ports, so two test runs on one machine (a CI clone and a worktree) do not meet.
  fs.writeFileSync(conf, config(dir, opts.cpus ?? Math.max(2, os.cpus().length), await twoFreePorts()));
  await execa("chown", ["-R", "slurm:slurm", path.join(dir, "state"), path.join(dir, "log")]);
  await execa("chown", ["munge:munge", path.join(dir, "munge")]);
  const env = { SLURM_CONF: conf };
  const socket = path.join(dir, "munge", "munge.socket");
  const pids = [path.join(dir, "slurmd.pid"), path.join(dir, "slurmctld.pid"), path.join(dir, "munge", "munged.pid")];
  const stop = async () => {
    // Jobs first (a test that failed midway may leave some), so no slurmstepd outlives its slurmd.
    const jobs = await execa("squeue", ["-h", "-o", "%i"], { env, reject: false });
    const ids = String(jobs.stdout ?? "").split("\n").map((s) => s.trim()).filter(Boolean);
    if (ids.length && jobs.exitCode === 0) {
      await execa("scancel", ids, { env, reject: false });
      for (let i = 0; i < 100; i++) {
        const left = await execa("squeue", ["-h", "-o", "%i"], { env, reject: false });
        if (left.exitCode !== 0 || !String(left.stdout).trim()) break;
        await sleep(100);
      }
    }
    for (const file of pids) {
      const pid = pidIn(file);
      if (pid === null) continue;
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        continue;
      }
      for (let i = 0; i < 50; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          break;
        }
        await sleep(100);
      }
    }
  };
  try {
    // Our own munged on its own socket, so a system munged (or another test's) is left alone.
    await execa("runuser", ["-u", "munge", "--", "/usr/sbin/munged", "--socket", socket,
      "--pid-file", pids[2]!, "--log-file", path.join(dir, "munge", "munged.log"), "--seed-file", path.join(dir, "munge", "seed")]);
    // Slurm's munge plugin takes the socket from AuthInfo; cred_expire also sets how long a requeued job waits
    // before it may start again (default 120 s; starting it earlier fails with "Job credential revoked").
    fs.appendFileSync(conf, `AuthInfo=socket=${socket},cred_expire=10\n`);
    await execa("/usr/sbin/slurmctld", ["-f", conf], { env });
    await execa("/usr/sbin/slurmd", ["-f", conf, "-N", "localhost"], { env });
    for (let i = 0; i < 150; i++) {
      const { stdout } = await execa("sinfo", ["-h", "-n", "localhost", "-o", "%T"], { env, reject: false });
      if (stdout.trim() === "idle") return { dir, env, stop };
      await sleep(200);
    }
    throw new Error(`slurm did not reach idle; see ${dir}/log`);
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * A directory holding an `sbatch` that logs its arguments (one line per call) to `<dir>/sbatch-calls` and then
 * execs the real one: put it first on PATH to count submissions.
 */
export function sbatchCounter(dir: string): { bin: string; calls: () => string[] } {
  const bin = path.join(dir, "bin");
  const log = path.join(dir, "sbatch-calls");
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, "sbatch"), `#!/bin/sh\necho "$*" >> '${log}'\nexec /usr/bin/sbatch "$@"\n`, { mode: 0o755 });
  return { bin, calls: () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").filter(Boolean) : []) };
}
