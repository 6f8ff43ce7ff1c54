/**
 * `archlab serve`'s server: the archive's live view behind the API, on 127.0.0.1 by default. The write token
 * comes from the caller (flag or $ARCHLAB_SERVE_TOKEN) or is made here; a non-loopback host without a given
 * token is refused, and there every request needs the token.
 */
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { UserError } from "../errors.ts";
import { buildApp } from "./api.ts";
import { ArchiveView } from "./view.ts";

export interface ServeOptions {
  archive: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  token?: string;
}

export interface RunningServer {
  url: string;
  token: string;
  view: ArchiveView;
  close: () => Promise<void>;
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const host = opts.host ?? "127.0.0.1";
  const loopback = isLoopback(host);
  if (!loopback && !opts.token) {
    throw new UserError(`refusing to serve on ${host} without a token: pass --token or set ARCHLAB_SERVE_TOKEN (or bind 127.0.0.1)`);
  }
  if (opts.token !== undefined && opts.token.length < 16) throw new UserError("the token must be at least 16 characters");
  const token = opts.token ?? randomBytes(24).toString("base64url");
  const view = await ArchiveView.open(opts.archive);
  const port = opts.port ?? 8737;
  let server: ServerType;
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    const allowed = new Set<string>();
    server = serve({ fetch: (req) => app.fetch(req), hostname: host, port }, (info) => resolve(info));
    const app = buildApp(view, { token, readsNeedToken: !loopback, allowedHosts: loopback ? allowed : null });
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(err.code === "EADDRINUSE" ? new UserError(`port ${port} on ${host} is in use (pass --port N, or 0 for any free port)`) : err));
    server.once("listening", () => {
      const p = (server.address() as AddressInfo).port;
      for (const h of ["127.0.0.1", "localhost", "[::1]", host]) allowed.add(`${h}:${p}`);
    });
  }).catch(async (err) => {
    await view.close();
    throw err;
  });
  const shown = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shown}:${address.port}`,
    token,
    view,
    close: async () => {
      await new Promise<void>((resolve) => {
        (server as ServerType & { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      });
      await view.close();
    },
  };
}
