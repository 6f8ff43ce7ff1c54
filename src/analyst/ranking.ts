/**
 * Rank agreement between two rungs (issue 14's proxy fidelity): does the cheap rung order layers the way the
 * expensive one does? Both take "higher is better" values per layer (negate a loss before calling). Pure.
 */

/** Ranks 1..n, ties sharing their average rank (Spearman's convention). */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]!.v === order[start]!.v) end++;
    for (let k = start; k <= end; k++) ranks[order[k]!.i] = (start + end) / 2 + 1;
    start = end + 1;
  }
  return ranks;
}

/** Spearman's rho: Pearson's correlation of the average ranks; null below 3 layers or with a constant side. */
export function spearman(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) throw new Error(`spearman: ${x.length} values against ${y.length}`);
  if (x.length < 3) return null;
  const rx = averageRanks(x);
  const ry = averageRanks(y);
  const mean = (r: number[]) => r.reduce((a, b) => a + b, 0) / r.length;
  const mx = mean(rx);
  const my = mean(ry);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < rx.length; i++) {
    sxy += (rx[i]! - mx) * (ry[i]! - my);
    sxx += (rx[i]! - mx) ** 2;
    syy += (ry[i]! - my) ** 2;
  }
  return sxx === 0 || syy === 0 ? null : sxy / Math.sqrt(sxx * syy);
}

export interface PairwiseAgreement {
  /** Pairs the reference (y) orders: equal reference values are left out. */
  pairs: number;
  /** Pairs the proxy (x) orders the same way. */
  agree: number;
  /** Pairs the proxy ties (counted as half agreement). */
  tied: number;
  /** (agree + tied / 2) / pairs; null without pairs. */
  share: number | null;
}

/** Of all pairs the reference orders, the share the proxy orders the same way (Kendall's concordance). */
export function pairwiseAgreement(x: readonly number[], y: readonly number[]): PairwiseAgreement {
  if (x.length !== y.length) throw new Error(`pairwiseAgreement: ${x.length} values against ${y.length}`);
  let pairs = 0;
  let agree = 0;
  let tied = 0;
  for (let i = 0; i < x.length; i++) {
    for (let j = i + 1; j < x.length; j++) {
      const dy = y[i]! - y[j]!;
      if (dy === 0) continue;
      pairs++;
      const dx = x[i]! - x[j]!;
      if (dx === 0) tied++;
      else if (Math.sign(dx) === Math.sign(dy)) agree++;
    }
  }
  return { pairs, agree, tied, share: pairs === 0 ? null : (agree + tied / 2) / pairs };
}
