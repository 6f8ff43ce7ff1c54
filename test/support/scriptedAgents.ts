/**
 * Scripted LLM agents for end-to-end tests: routes each chat request of the scripted OpenAI-compatible server
 * to a per-role script by the reply schema's name the client sends (`<role>_reply`), so tests script what each
 * agent answers regardless of call order. A role with an empty script gets its default reply (none for the
 * researcher, engineer and debugger: their replies must be scripted).
 */
import { reply, type OpenAIServer, type RecordedRequest, type ScriptedReply } from "./openaiServer.ts";

export const DEFAULT_REPLIES: Record<string, unknown> = {
  novelty: { verdict: "novel", similar_to: [], reason: "No archived design changes this mechanism." },
  judge: { performance: 0.6, innovation: 0.4, complexity: 0.8, rationale: "On par with the parent at no extra cost." },
  analyst: {
    design_evaluation: "The design does what its motivation says.",
    results_analysis: "Loss and recall moved little against the parent.",
    expectation_vs_reality: "The expected gain in recall did not show at this scale.",
    theoretical_explanation: "At two layers and thirty steps the state is rarely saturated.",
    synthesis: "Keep the change; test it on longer sequences.",
    citations: [],
  },
  summariser: { experience: "The change was neutral at the tiny proxy scale; try it where the state saturates." },
};

/** The role a request is for, from the schema name the client asks for (json_schema name or tool name). */
export function roleOf(req: RecordedRequest): string {
  const name: string | undefined = req.body?.response_format?.json_schema?.name ?? req.body?.tools?.[0]?.function?.name;
  return name ? name.replace(/_reply$/, "") : "unknown";
}

export interface AgentScript {
  /** Queue replies for one role (json values are wrapped as reply.json). */
  add(role: string, ...replies: (ScriptedReply | Record<string, unknown>)[]): void;
  /** Roles in the order their requests arrived. */
  calls(): string[];
  /** The requests of one role, in order. */
  requests(role: string): RecordedRequest[];
}

/** Installs the router on `server` (reset first); `capacity` requests at most. */
export function scriptAgents(server: OpenAIServer, capacity = 200): AgentScript {
  server.reset();
  const queues = new Map<string, ScriptedReply[]>();
  const seen: { role: string; req: RecordedRequest }[] = [];
  const route = (req: RecordedRequest): ScriptedReply => {
    const role = roleOf(req);
    seen.push({ role, req });
    const next = queues.get(role)?.shift();
    if (next) return next;
    if (DEFAULT_REPLIES[role]) return reply.json(DEFAULT_REPLIES[role]);
    return reply.text(`(no scripted reply for role ${role})`);
  };
  for (let i = 0; i < capacity; i++) server.enqueue(reply.fn(route));
  const isReply = (r: unknown): r is ScriptedReply => typeof r === "object" && r !== null && "kind" in r && ["json", "text", "status", "fn"].includes(String((r as { kind: unknown }).kind));
  return {
    add: (role, ...replies) => queues.set(role, [...(queues.get(role) ?? []), ...replies.map((r) => (isReply(r) ? r : reply.json(r)))]),
    calls: () => seen.map((s) => s.role),
    requests: (role) => seen.filter((s) => s.role === role).map((s) => s.req),
  };
}
