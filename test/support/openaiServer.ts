/**
 * A scripted OpenAI-compatible server on 127.0.0.1 for tests (DESIGN §7): the real `@langchain/openai` client
 * talks to it over HTTP. Each POST /v1/chat/completions takes the next queued reply; replies adapt to the form
 * the client asked for (a tool call when the request carries `tools`, message content otherwise). Every request
 * is recorded. POST /v1/embeddings answers with deterministic bag-of-words vectors (float or base64).
 *
 *   const server = await startOpenAIServer();
 *   server.enqueue(reply.json({ name: "x" }), reply.status(429), reply.text("{not json"));
 *   const model = new ChatOpenAI({ apiKey: "k", configuration: { baseURL: server.url } });
 *   ... server.chatRequests()[1].body.messages ...
 *   await server.close();
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

export type ScriptedReply =
  /** A structured answer: tool-call arguments when the request has tools, else message content (JSON text). */
  | { kind: "json"; value: unknown; usage?: Usage }
  /** Raw text in the same slot (content, or tool-call arguments): e.g. malformed JSON or prose. */
  | { kind: "text"; text: string; usage?: Usage }
  /** An HTTP error with an OpenAI-style error body. */
  | { kind: "status"; status: number; message?: string; code?: string; headers?: Record<string, string> }
  /** Computed from the request. */
  | { kind: "fn"; fn: (req: RecordedRequest) => ScriptedReply };

export const reply = {
  json: (value: unknown, usage?: Usage): ScriptedReply => ({ kind: "json", value, usage }),
  text: (text: string, usage?: Usage): ScriptedReply => ({ kind: "text", text, usage }),
  status: (status: number, opts: { message?: string; code?: string; retryAfter?: number } = {}): ScriptedReply => ({
    kind: "status", status, message: opts.message, code: opts.code,
    headers: opts.retryAfter === undefined ? undefined : { "retry-after": String(opts.retryAfter) },
  }),
  fn: (fn: (req: RecordedRequest) => ScriptedReply): ScriptedReply => ({ kind: "fn", fn }),
};

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body (null when the body was not JSON). */
  body: any;
  /** What the server answered: an HTTP status. */
  status: number;
}

export interface OpenAIServer {
  /** The base URL to give the client, e.g. http://127.0.0.1:PORT/v1 */
  readonly url: string;
  readonly requests: RecordedRequest[];
  enqueue(...replies: ScriptedReply[]): void;
  /** Replies queued and not yet consumed. */
  pending(): number;
  /** Forgets the recorded requests and the queued replies. */
  reset(): void;
  chatRequests(): RecordedRequest[];
  embeddingRequests(): RecordedRequest[];
  /** All text the client sent in one chat request (messages joined), for assertions. */
  promptText(req: RecordedRequest): string;
  close(): Promise<void>;
}

export interface ServerOptions {
  replies?: ScriptedReply[];
  /** Embedding dimensions (default 64). */
  dims?: number;
  /** Require this bearer token (401 otherwise). */
  apiKey?: string;
}

export async function startOpenAIServer(opts: ServerOptions = {}): Promise<OpenAIServer> {
  const queue: ScriptedReply[] = [...(opts.replies ?? [])];
  const requests: RecordedRequest[] = [];
  const dims = opts.dims ?? 64;
  let counter = 0;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      let body: any = null;
      try {
        body = raw ? JSON.parse(raw) : null;
      } catch {
        body = null;
      }
      const path = (req.url ?? "").split("?")[0]!;
      const rec: RecordedRequest = { method: req.method ?? "", path, headers: req.headers, body, status: 200 };
      requests.push(rec);
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        rec.status = status;
        res.writeHead(status, { "content-type": "application/json", ...headers });
        res.end(JSON.stringify(payload));
      };
      if (opts.apiKey !== undefined && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
        send(401, { error: { message: "Incorrect API key provided", type: "invalid_request_error", code: "invalid_api_key" } });
        return;
      }
      if (req.method === "POST" && path.endsWith("/chat/completions")) {
        let next = queue.shift();
        while (next?.kind === "fn") next = next.fn(rec);
        if (!next) {
          send(400, { error: { message: "scripted server: no reply queued", type: "invalid_request_error" } });
          return;
        }
        if (next.kind === "status") {
          send(next.status, { error: { message: next.message ?? `scripted HTTP ${next.status}`, type: "server_error", code: next.code ?? null } }, next.headers);
          return;
        }
        send(200, completion(body, next, ++counter));
        return;
      }
      if (req.method === "POST" && path.endsWith("/embeddings")) {
        const inputs: string[] = Array.isArray(body?.input) ? body.input : [String(body?.input ?? "")];
        const base64 = body?.encoding_format === "base64";
        const data = inputs.map((text, index) => {
          const v = embed(text, dims);
          return { object: "embedding", index, embedding: base64 ? Buffer.from(new Float32Array(v).buffer).toString("base64") : v };
        });
        const tokens = inputs.reduce((n, t) => n + approxTokens(t), 0);
        send(200, { object: "list", data, model: body?.model ?? "embed", usage: { prompt_tokens: tokens, total_tokens: tokens } });
        return;
      }
      send(404, { error: { message: `scripted server: no route ${req.method} ${path}`, type: "invalid_request_error" } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueue: (...replies) => void queue.push(...replies),
    pending: () => queue.length,
    reset: () => {
      requests.length = 0;
      queue.length = 0;
    },
    chatRequests: () => requests.filter((r) => r.path.endsWith("/chat/completions")),
    embeddingRequests: () => requests.filter((r) => r.path.endsWith("/embeddings")),
    promptText: (r) => (r.body?.messages ?? []).map((m: any) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content))).join("\n\n"),
    close: () => new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((err) => (err ? reject(err) : resolve()));
    }),
  };
}

function approxTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** A chat.completion answering `next` in the form the request asked for. */
function completion(body: any, next: Extract<ScriptedReply, { kind: "json" | "text" }>, n: number): unknown {
  const text = next.kind === "json" ? JSON.stringify(next.value) : next.text;
  const promptChars = JSON.stringify(body?.messages ?? "").length;
  const usage = next.usage ?? { prompt_tokens: Math.ceil(promptChars / 4), completion_tokens: approxTokens(text) };
  const tool = Array.isArray(body?.tools) && body.tools.length > 0 ? body.tools[0] : null;
  const message = tool
    ? {
      role: "assistant", content: null,
      tool_calls: [{ id: `call_${n}`, type: "function", function: { name: tool.function?.name ?? "extract", arguments: text } }],
    }
    : { role: "assistant", content: text };
  return {
    id: `chatcmpl-${n}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: body?.model ?? "scripted",
    choices: [{ index: 0, message, finish_reason: tool ? "tool_calls" : "stop", logprobs: null }],
    usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
  };
}

/** A deterministic unit vector: hashed bag of lower-cased words, so similar texts have similar vectors. */
export function embed(text: string, dims: number): number[] {
  const v = new Array<number>(dims).fill(0);
  for (const word of text.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length > 2)) {
    let h = 2166136261;
    for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 16777619) >>> 0;
    v[h % dims]! += 1;
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}
