/**
 * Secrets never reach a candidate (its environment is built from scratch, harness.ts), but a run without the
 * sandbox can still read the orchestrator's environment through /proc. So the values of known secret variables
 * are cut from every log and error tail before it is stored or sent to an LLM.
 */
const SECRET_NAME = /(^|_)(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)$|^OPENAI_API_KEY$|API_KEY/i;
const MIN_SECRET = 6; // shorter values would redact ordinary words

export const REDACTED = "[redacted]";

export function secretValues(env: NodeJS.ProcessEnv = process.env): string[] {
  return Object.entries(env)
    .filter(([name, value]) => SECRET_NAME.test(name) && typeof value === "string" && value.length >= MIN_SECRET)
    .map(([, value]) => value as string)
    .sort((a, b) => b.length - a.length);
}

export function redact(text: string, secrets: readonly string[] = secretValues()): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join(REDACTED);
  return out;
}
