/** Record ids: a kind's letter and a zero-padded number (e000042, c000003, l000120, n000007). */
export const ID_PREFIX = { experiment: "e", campaign: "c", ledger: "l", note: "n" } as const;
export type IdKind = keyof typeof ID_PREFIX;

export function formatId(kind: IdKind, n: number): string {
  return `${ID_PREFIX[kind]}${String(n).padStart(6, "0")}`;
}

/** The number in an id of this kind, or null when the id is not one. */
export function idNumber(kind: IdKind, id: string): number | null {
  const match = new RegExp(`^${ID_PREFIX[kind]}(\\d+)$`).exec(id);
  return match ? Number(match[1]) : null;
}
