/** `archlab serve`: browse the archive (and steer its campaigns) at http://127.0.0.1:PORT. */
import { Command } from "commander";
import { DEFAULT_ARCHIVE_DIR } from "../archive/archive.ts";
import { UserError } from "../errors.ts";
import { startServer } from "../serve/server.ts";

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("browse the archive in a web UI (leaderboard, candidates, lineage, live campaigns, compare) and steer from it")
    .option("--archive <dir>", "archive directory", DEFAULT_ARCHIVE_DIR)
    .option("--host <host>", "address to bind (non-loopback needs --token)", "127.0.0.1")
    .option("--port <n>", "port (0: any free one)", "8737")
    .option("--token <token>", "the token writes need (default: $ARCHLAB_SERVE_TOKEN, else a new one, printed)")
    .action(async (opts: { archive: string; host: string; port: string; token?: string }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port must be 0-65535, not "${opts.port}"`);
      const server = await startServer({ archive: opts.archive, host: opts.host, port, token: opts.token ?? process.env.ARCHLAB_SERVE_TOKEN });
      process.stdout.write(`archlab serve: ${opts.archive} at ${server.url}/#token=${server.token}\n`
        + `  write token: ${server.token} (steering from the UI or Authorization: Bearer <token>)\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      await server.close();
    });
}
