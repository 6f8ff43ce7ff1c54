/**
 * The HTTP API and the UI's files (hono). Reads are JSON over the archive's live view (never a lock); writes
 * (steering) need the token, sent as `Authorization: Bearer <token>`. On a loopback bind reads are open to the
 * machine; on any other host every /api request needs the token. Ids are checked against a strict pattern and
 * files are served from a fixed list, so no request names a path. Every response carries a strict CSP.
 */
import { timingSafeEqual } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Hono, type Context } from "hono";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import { TERMINAL_STATUSES } from "../contracts/experiment.ts";
import { UserError } from "../errors.ts";
import { PROJECT_ROOT } from "../paths.ts";
import { pausedBy } from "../steering/state.ts";
import { steer } from "../steering/steer.ts";
import { candidateDetails, curvesOf } from "./details.ts";
import { leaderboard, type Row } from "./rows.ts";
import type { ArchiveView, ViewEvent } from "./view.ts";

export interface ApiOptions {
  token: string;
  /** Reads need the token too (a non-loopback bind). */
  readsNeedToken: boolean;
  /** Host headers accepted (DNS-rebinding guard); null accepts any. */
  allowedHosts: ReadonlySet<string> | null;
}

const ID = /^[A-Za-z0-9._-]{1,64}$/;
const UI_DIR = path.join(PROJECT_ROOT, "src", "ui");
const UPLOT_DIR = path.join(PROJECT_ROOT, "node_modules", "uplot", "dist");
/** Every file the UI is made of: name -> [path, content type]. Nothing else is served. */
const ASSETS: Record<string, [string, string]> = {
  "app.js": [path.join(UI_DIR, "app.js"), "text/javascript; charset=utf-8"],
  "style.css": [path.join(UI_DIR, "style.css"), "text/css; charset=utf-8"],
  "uPlot.js": [path.join(UPLOT_DIR, "uPlot.iife.min.js"), "text/javascript; charset=utf-8"],
  "uPlot.css": [path.join(UPLOT_DIR, "uPlot.min.css"), "text/css; charset=utf-8"],
};
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SteerBody = z.discriminatedUnion("action", [
  z.strictObject({ action: z.enum(["pause", "resume"]), campaign: z.string().nullable().default(null), why: z.string().nullable().default(null) }),
  z.strictObject({ action: z.enum(["veto", "pin", "unpin"]), experimentId: z.string(), why: z.string().nullable().default(null) }),
  z.strictObject({
    action: z.literal("note"), text: z.string(), experimentId: z.string().nullable().default(null),
    campaign: z.string().nullable().default(null), why: z.string().nullable().default(null),
  }),
]);

function sameToken(given: string | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function bearer(c: Context): string | undefined {
  const header = c.req.header("authorization");
  if (header?.startsWith("Bearer ")) return header.slice(7).trim();
  return c.req.query("token") ?? undefined; // EventSource cannot send headers
}

export function buildApp(view: ArchiveView, opts: ApiOptions): Hono {
  const app = new Hono();

  app.onError((err, c) => {
    if (err instanceof UserError) return c.json({ error: err.message }, 400);
    process.stderr.write(`archlab serve: ${err.stack ?? String(err)}\n`);
    return c.json({ error: "internal error" }, 500);
  });
  app.use("*", async (c, next) => {
    const host = c.req.header("host") ?? "";
    if (opts.allowedHosts && !opts.allowedHosts.has(host.toLowerCase())) return c.json({ error: "unexpected Host header" }, 421);
    await next();
    c.header("Content-Security-Policy", CSP);
    c.header("X-Content-Type-Options", "nosniff");
    c.header("X-Frame-Options", "DENY");
    c.header("Referrer-Policy", "no-referrer");
    c.header("Cache-Control", "no-store");
  });
  app.use("/api/*", async (c, next) => {
    const write = c.req.method !== "GET" && c.req.method !== "HEAD";
    if ((write || opts.readsNeedToken) && !sameToken(bearer(c), opts.token)) {
      return c.json({ error: write ? "writes need the token archlab serve printed (Authorization: Bearer <token>)" : "this server needs its token" }, 401);
    }
    await next();
  });

  const id = (c: Context, name = "id"): string => {
    const value = c.req.param(name) ?? "";
    if (!ID.test(value)) throw new UserError(`not an experiment id: ${JSON.stringify(value.slice(0, 80))}`);
    return value;
  };
  const notFound = (c: Context, what: string) => c.json({ error: `no ${what} in this archive` }, 404);

  app.get("/", (c) => c.html(fs.readFileSync(path.join(UI_DIR, "index.html"), "utf8")));
  app.get("/favicon.ico", (c) => c.body(null, 204));
  app.get("/assets/:file", (c) => {
    const asset = ASSETS[c.req.param("file")];
    if (!asset) return c.text("not found", 404);
    c.header("Content-Type", asset[1]);
    return c.body(fs.readFileSync(asset[0]));
  });

  app.get("/api/overview", async (c) => {
    const archive = await view.archive();
    const s = view.steering;
    return c.json({
      archive: path.basename(path.resolve(view.dir)), experiments: view.rows.rows.size,
      campaigns: archive.campaigns().map((k) => ({ id: k.id, name: k.name, startedAt: k.startedAt, endedAt: k.endedAt, stopReason: k.stopReason })),
      writer: archive.writer, pinned: [...s.pinned.keys()], vetoed: [...s.vetoed.keys()],
      paused: s.global?.action === "pause" ? s.global : null,
    });
  });

  app.get("/api/leaderboard", async (c) => {
    const q = c.req.query();
    const limit = Math.min(Math.max(Number(q.limit ?? 50) || 50, 1), 1000);
    const offset = Math.max(Number(q.offset ?? 0) || 0, 0);
    const search = (q.q ?? "").trim().toLowerCase();
    let matched: Set<string> | null = null;
    if (search) {
      matched = new Set();
      for (const row of view.rows.rows.values()) {
        if (row.name.toLowerCase().includes(search) || (await view.motivation(row.id)).includes(search)) matched.add(row.id);
      }
    }
    const sorted = view.rows.sorted(q.sort ?? "fitness", q.order === "asc" || q.order === "desc" ? q.order : null, new Set(view.steering.pinned.keys()));
    const result = leaderboard(sorted, {
      status: (q.status ?? "").split(",").filter(Boolean), campaign: q.campaign || null, proposer: q.proposer || null,
      rung: q.rung || null, confirmed: q.confirmed || null, matched, limit, offset,
    });
    const metricKeys = new Set<string>();
    for (const r of result.rows) for (const k of Object.keys(r.metrics)) metricKeys.add(k);
    return c.json({
      total: result.total, offset, limit, metricKeys: [...metricKeys].sort(),
      rows: result.rows.map((r) => ({ ...r, pinned: view.steering.pinned.has(r.id), vetoed: view.steering.vetoed.has(r.id) })),
    });
  });

  app.get("/api/experiments/:id", async (c) => {
    const archive = await view.archive();
    const key = id(c);
    if (!archive.getExperiment(key)) return notFound(c, `experiment ${key}`);
    return c.json(await candidateDetails(archive, key, view.steering));
  });

  app.get("/api/experiments/:id/diff/:other", async (c) => {
    const archive = await view.archive();
    const [a, b] = [id(c, "other"), id(c)];
    for (const k of [a, b]) if (!archive.getExperiment(k)) return notFound(c, `experiment ${k}`);
    return c.json({ from: a, to: b, diff: await archive.diff(a, b) });
  });

  /** The tree, one level at a time: the children (or the roots) as summaries with their child counts. */
  app.get("/api/lineage", (c) => {
    const parent = c.req.query("parent");
    if (parent !== undefined && !ID.test(parent)) throw new UserError("not an experiment id");
    const ids = parent === undefined ? view.rows.roots : view.rows.children(parent);
    const limit = Math.min(Math.max(Number(c.req.query("limit") ?? 500) || 500, 1), 5000);
    const nodes = ids.slice(0, limit).map((k) => node(view, view.rows.rows.get(k)!));
    return c.json({ parent: parent ?? null, total: ids.length, nodes, fitnessRange: fitnessRange(view) });
  });

  /** The ancestors of an experiment, root first: what to expand to show it. */
  app.get("/api/lineage/path/:id", (c) => {
    const key = id(c);
    const out: string[] = [];
    let row = view.rows.rows.get(key);
    if (!row) return notFound(c, `experiment ${key}`);
    const seen = new Set<string>();
    while (row && !seen.has(row.id)) {
      seen.add(row.id);
      out.unshift(row.id);
      row = row.parentId ? view.rows.rows.get(row.parentId) : undefined;
    }
    return c.json({ path: out });
  });

  app.get("/api/campaigns/:id", async (c) => {
    const archive = await view.archive();
    const key = c.req.param("id");
    const campaign = archive.campaigns().find((k) => k.id === key);
    if (!campaign) return notFound(c, "such campaign");
    const ledger = archive.ledger({ campaign: campaign.id });
    const rows = [...view.rows.rows.values()].filter((r) => r.campaign === campaign.id);
    const experiments = rows.map((r) => archive.getExperiment(r.id)!);
    const sum = (f: (e: (typeof experiments)[number]) => number) => experiments.reduce((s, e) => s + f(e), 0);
    const statuses: Record<string, number> = {};
    for (const r of rows) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    return c.json({
      campaign,
      budget: (campaign.config as { budget?: unknown }).budget ?? null,
      spent: {
        experiments: rows.length, statuses,
        hours: ((campaign.endedAt ? Date.parse(campaign.endedAt) : Date.now()) - Date.parse(campaign.startedAt)) / 3_600_000,
        cpuHours: sum((e) => e.costs.cpuSeconds) / 3600, gpuHours: sum((e) => e.costs.gpuSeconds) / 3600,
        llmDollars: sum((e) => e.costs.llmDollars), tokensIn: sum((e) => e.costs.llmTokensIn), tokensOut: sum((e) => e.costs.llmTokensOut),
        ledgerEntries: ledger.length,
      },
      inFlight: rows.filter((r) => !TERMINAL_STATUSES.includes(r.status)).map((r) => ({ ...r, progress: view.progress.get(r.id) ?? null })),
      recent: rows.filter((r) => TERMINAL_STATUSES.includes(r.status)).slice(-20).reverse(),
      paused: pausedBy(view.steering, campaign),
      steering: view.steering.log.filter((r) => !("campaign" in r) || r.campaign === null || r.campaign === campaign.id || r.campaign === campaign.name).slice(-50),
    });
  });

  app.get("/api/compare", async (c) => {
    const archive = await view.archive();
    const ids = (c.req.query("ids") ?? "").split(",").filter(Boolean).slice(0, 8);
    if (ids.length < 2) throw new UserError("compare needs ids=a,b[,c...]");
    for (const k of ids) {
      if (!ID.test(k)) throw new UserError("not an experiment id");
      if (!archive.getExperiment(k)) return notFound(c, `experiment ${k}`);
    }
    const experiments = ids.map((k) => archive.getExperiment(k)!);
    const diffs: { from: string; to: string; diff: string | null }[] = [];
    for (const e of experiments.slice(1)) diffs.push({ from: ids[0]!, to: e.id, diff: await archive.diff(ids[0]!, e.id).catch(() => null) });
    return c.json({
      rows: ids.map((k) => view.rows.rows.get(k) ?? null), experiments,
      curves: ids.flatMap((k) => curvesOf(archive, k)), diffs,
    });
  });

  app.get("/api/steering", (c) => c.json({ log: view.steering.log }));
  app.post("/api/steering", async (c) => {
    const parsed = SteerBody.safeParse(await c.req.json().catch(() => null));
    if (!parsed.success) return c.json({ error: `bad steering request: ${parsed.error.issues[0]?.message}` }, 400);
    const body = parsed.data;
    const who = `ui (${(c.req.header("x-archlab-who") ?? "browser").slice(0, 60)})`;
    const record = steer(await view.archive(), { ...body, who } as never);
    return c.json({ record });
  });

  /** Server-sent events: experiments, campaign and steering changes from the journals; live progress. */
  app.get("/api/events", (c) => streamSSE(c, async (stream) => {
    const queue: ViewEvent[] = [];
    let wake: (() => void) | null = null;
    const off = view.subscribe((e) => {
      queue.push(e);
      wake?.();
    });
    stream.onAbort(() => {
      off();
      wake?.();
    });
    await stream.writeSSE({ event: "hello", data: JSON.stringify({ experiments: view.rows.rows.size }) });
    while (!stream.aborted) {
      if (queue.length === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 15_000); // a comment line keeps proxies from closing an idle stream
        });
        wake = null;
        if (queue.length === 0 && !stream.aborted) await stream.write(": keep-alive\n\n");
        continue;
      }
      const e = queue.shift()!;
      await stream.writeSSE({ event: e.type, data: JSON.stringify(e) });
    }
    off();
  }));

  app.notFound((c) => c.json({ error: "not found" }, 404));
  return app;
}

function node(view: ArchiveView, r: Row) {
  return {
    id: r.id, name: r.name, status: r.status, fitness: r.fitness, proposer: r.proposer,
    children: view.rows.children(r.id).length, pinned: view.steering.pinned.has(r.id), vetoed: view.steering.vetoed.has(r.id),
  };
}

function fitnessRange(view: ArchiveView): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of view.rows.rows.values()) if (r.fitness !== null) { lo = Math.min(lo, r.fitness); hi = Math.max(hi, r.fitness); }
  return Number.isFinite(lo) ? [lo, hi] : null;
}
