/**
 * The offline engineer (DESIGN §2.4): genome -> a real PyTorch layer file that satisfies the layer contract
 * and calls the fast primitives (experiments/archlab_ops) instead of re-implementing recurrences.
 * The output is deterministic: the same genome always gives the same file (and code hash).
 */
import { genomeKey, genomeName, normalise, type Genome } from "../contracts/genome.ts";

const HEADS: Record<Genome["heads"], string> = {
  half: "max(1, num_heads // 2)",
  x1: "num_heads",
  x2: "num_heads * 2",
};

const FEATURE_MAPS: Record<Genome["feature_map"], string | null> = {
  identity: null,
  elu1: "F.elu(t) + 1.0",
  relu: "F.relu(t)",
  silu: "F.silu(t)",
};

export function generateLayer(input: Genome, motivation = ""): string {
  const g = normalise(input);
  const isDelta = g.update === "delta" || g.update === "gated_delta";
  const usesGate = g.output_gate !== "none";
  const imports = new Set<string>();
  const init: string[] = [];
  const fwd: string[] = [];

  init.push(
    `self.num_heads = ${HEADS[g.heads]}`,
    `assert hidden_size % self.num_heads == 0, f"hidden_size {hidden_size} is not divisible by {self.num_heads} heads"`,
    `self.head_k_dim = hidden_size // self.num_heads`,
    g.expand_v === 1 ? `self.head_v_dim = self.head_k_dim` : `self.head_v_dim = self.head_k_dim * ${g.expand_v}`,
    `self.key_dim = self.num_heads * self.head_k_dim`,
    `self.value_dim = self.num_heads * self.head_v_dim`,
    `self.chunk_size = chunk_size`,
    `self.q_proj = nn.Linear(hidden_size, self.key_dim, bias=False)`,
    `self.k_proj = nn.Linear(hidden_size, self.key_dim, bias=False)`,
    `self.v_proj = nn.Linear(hidden_size, self.value_dim, bias=False)`,
  );
  fwd.push(
    `batch, seq_len, _ = hidden_states.shape`,
    `q = self.q_proj(hidden_states)`,
    `k = self.k_proj(hidden_states)`,
    `v = self.v_proj(hidden_states)`,
  );
  // With a short conv, a silu feature map is the conv's own activation (as in fla's DeltaNet), not a second silu.
  const convActivation = g.feature_map === "silu" ? `"silu"` : "None";
  const fmap = g.short_conv > 0 && g.feature_map === "silu" ? null : FEATURE_MAPS[g.feature_map];
  const convInit = g.short_conv > 0 ? [
    `# causal depthwise convolutions give each token a little local context before it enters the state`,
    `self.q_conv = ShortConv(self.key_dim, kernel_size=${g.short_conv}, activation=${convActivation})`,
    `self.k_conv = ShortConv(self.key_dim, kernel_size=${g.short_conv}, activation=${convActivation})`,
    `self.v_conv = ShortConv(self.value_dim, kernel_size=${g.short_conv}, activation="silu")`,
  ] : [];
  if (g.short_conv > 0) {
    imports.add("ShortConv");
    fwd.push(`q, _ = self.q_conv(q)`, `k, _ = self.k_conv(k)`, `v, _ = self.v_conv(v)`);
  }
  fwd.push(
    `q = q.view(batch, seq_len, self.num_heads, self.head_k_dim)`,
    `k = k.view(batch, seq_len, self.num_heads, self.head_k_dim)`,
    `v = v.view(batch, seq_len, self.num_heads, self.head_v_dim)`,
  );
  if (fmap) fwd.push(`q, k = (${fmap} for t in (q, k))`);
  if (g.qk_norm === "l2") {
    imports.add("l2norm");
    fwd.push(`q, k = l2norm(q), l2norm(k)`);
  }

  switch (g.update) {
    case "additive":
      imports.add("linear_attention");
      fwd.push(`o, _ = linear_attention(q, k, v, chunk_size=self.chunk_size)`);
      break;
    case "decay_fixed":
      imports.add("decayed_linear_attention");
      init.push(
        `# RetNet's fixed per-head decay: head h forgets at rate 2^(-5-h), from long to short memory`,
        `self.register_buffer("log_decay", torch.log(1 - 2.0 ** (-5.0 - torch.arange(self.num_heads, dtype=torch.float32))), persistent=False)`,
      );
      fwd.push(`o, _ = decayed_linear_attention(q, k, v, self.log_decay, chunk_size=self.chunk_size)`);
      break;
    case "decay_data":
      imports.add("decayed_linear_attention");
      init.push(`self.a_proj = nn.Linear(hidden_size, self.num_heads, bias=True)`);
      fwd.push(
        `# data-dependent per-head forgetting, kept gentle (log-sigmoid / 16) as in GLA`,
        `g = F.logsigmoid(self.a_proj(hidden_states).float()) / 16.0`,
        `o, _ = decayed_linear_attention(q, k, v, g, chunk_size=self.chunk_size)`,
      );
      break;
    case "decay_dim":
      imports.add("decayed_linear_attention");
      init.push(
        `# GLA's per-key-dimension forget gate, through a low-rank projection`,
        `self.gk_proj = nn.Sequential(nn.Linear(hidden_size, 16, bias=False), nn.Linear(16, self.key_dim, bias=True))`,
      );
      fwd.push(
        `g = F.logsigmoid(self.gk_proj(hidden_states).float()) / 16.0`,
        `o, _ = decayed_linear_attention(q, k, v, g.view(batch, seq_len, self.num_heads, self.head_k_dim), chunk_size=self.chunk_size)`,
      );
      break;
    case "delta":
      imports.add("delta_rule");
      init.push(`self.b_proj = nn.Linear(hidden_size, self.num_heads, bias=False)`);
      fwd.push(
        `beta = torch.sigmoid(self.b_proj(hidden_states).float())`,
        `o, _ = delta_rule(q, k, v, beta, chunk_size=self.chunk_size)`,
      );
      break;
    case "gated_delta":
      imports.add("gated_delta_rule");
      init.push(
        `self.b_proj = nn.Linear(hidden_size, self.num_heads, bias=False)`,
        `self.a_proj = nn.Linear(hidden_size, self.num_heads, bias=False)`,
        `# Mamba2-style decay: g = -exp(A_log) * softplus(a + dt_bias), A in [1, 16], dt in [1e-3, 1e-1]`,
        `self.A_log = nn.Parameter(torch.log(torch.empty(self.num_heads).uniform_(1, 16)))`,
        `dt = torch.exp(torch.rand(self.num_heads) * (math.log(0.1) - math.log(0.001)) + math.log(0.001))`,
        `self.dt_bias = nn.Parameter(dt + torch.log(-torch.expm1(-dt)))`,
      );
      fwd.push(
        `beta = torch.sigmoid(self.b_proj(hidden_states).float())`,
        `g = -self.A_log.float().exp() * F.softplus(self.a_proj(hidden_states).float() + self.dt_bias)`,
        `o, _ = gated_delta_rule(q, k, v, g, beta, chunk_size=self.chunk_size)`,
      );
      break;
  }

  init.push(...convInit); // after the update's parameters: the same creation (and init) order as the baselines

  if (g.paths === 2) {
    imports.add("decayed_linear_attention");
    init.push(
      `# a second, fast-forgetting path (half-lives of a few tokens) for local detail, mixed in per head`,
      `self.register_buffer("fast_log_decay", torch.log(1 - 2.0 ** (-1.0 - torch.arange(self.num_heads, dtype=torch.float32) / self.num_heads)), persistent=False)`,
      `self.path_gate = nn.Linear(hidden_size, self.num_heads, bias=True)`,
    );
    fwd.push(
      `fast, _ = decayed_linear_attention(${isDelta ? "q, k" : "l2norm(q), l2norm(k)"}, v, self.fast_log_decay, chunk_size=self.chunk_size)`,
      `mix = torch.sigmoid(self.path_gate(hidden_states)).unsqueeze(-1)`,
      `o = o + mix * fast.to(o.dtype)`,
    );
    if (!isDelta) imports.add("l2norm");
  }

  if (usesGate) init.push(`self.g_proj = nn.Linear(hidden_size, self.value_dim, bias=False)`);
  if (g.output_norm === "rms" && g.output_gate === "swish") {
    imports.add("GatedRMSNorm");
    init.push(`self.o_norm = GatedRMSNorm(self.head_v_dim, activation="silu")`);
    fwd.push(`o = self.o_norm(o, self.g_proj(hidden_states).view(batch, seq_len, self.num_heads, self.head_v_dim))`);
  } else {
    if (g.output_norm === "rms") {
      imports.add("RMSNorm");
      init.push(`self.o_norm = RMSNorm(self.head_v_dim)`);
      fwd.push(`o = self.o_norm(o)`);
    }
    if (usesGate) {
      const act = g.output_gate === "swish" ? "F.silu" : "torch.sigmoid";
      fwd.push(`o = o * ${act}(self.g_proj(hidden_states)).view(batch, seq_len, self.num_heads, self.head_v_dim)`);
    }
  }
  init.push(`self.o_proj = nn.Linear(self.value_dim, hidden_size, bias=False)`);
  fwd.push(`o = self.o_proj(o.reshape(batch, seq_len, self.value_dim))`, `return o, None, past_key_values`);

  const genes = Object.entries(g).map(([k, v]) => `${k}=${v}`).join(", ");
  const doc = motivation.trim() ? `\n\n${wrap(motivation.trim(), 100)}` : "";
  return [
    `"""${genomeName(g)}: a layer generated by archlab from genome ${genomeKey(g)}.`,
    ``,
    `Genome: ${genes}.${doc}`,
    `"""`,
    `import math`,
    ``,
    `import torch`,
    `import torch.nn as nn`,
    `import torch.nn.functional as F`,
    ``,
    `from archlab_ops import ${[...imports].sort().join(", ")}`,
    ``,
    ``,
    `class DeltaNet(nn.Module):`,
    `    def __init__(self, *, hidden_size: int = 1024, num_heads: int = 4, layer_idx: int | None = None,`,
    `                 chunk_size: int = ${g.chunk_size}, **kwargs):`,
    `        super().__init__()`,
    ...init.map((l) => `        ${l}`),
    ``,
    `    def forward(self, hidden_states: torch.Tensor, attention_mask=None, past_key_values=None,`,
    `                use_cache: bool = False, **kwargs):`,
    ...fwd.map((l) => `        ${l}`),
    ``,
  ].join("\n");
}

function wrap(text: string, width: number): string {
  const out: string[] = [];
  for (const para of text.split(/\n\s*\n/)) {
    let line = "";
    for (const word of para.split(/\s+/)) {
      if (line && line.length + word.length + 1 > width) {
        out.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    out.push(line, "");
  }
  return out.join("\n").trim().replaceAll('"""', "'''");
}
