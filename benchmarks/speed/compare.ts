import type { ItemOutput } from './worker.js';

export interface Agreement {
  identical: boolean;
  /** Ids of the examples whose outputs differ. */
  mismatches: string[];
  /** Scoring only: largest |Δ log-likelihood| over all choices. */
  maxAbsDelta?: number;
}

/** Scoring tolerance of issue 7: same argmax choice and |Δ loglik| below this. */
export const LOGLIK_TOLERANCE = 1e-3;

/**
 * The stop rule of our backend applied to a reference continuation: keep tokens up to and including the
 * first one after which the decoded text contains a stop string. The reference library runs to
 * max_new_tokens (it has no stop strings), so this is how the two are compared under the same rule.
 */
export function applyStopRule(tokens: readonly number[], stops: readonly string[], decode: (ids: readonly number[]) => string): number[] {
  const live = stops.filter((s) => s.length > 0);
  if (!live.length) return [...tokens];
  for (let j = 1; j <= tokens.length; j++) {
    const text = decode(tokens.slice(0, j));
    if (live.some((s) => text.includes(s))) return tokens.slice(0, j);
  }
  return [...tokens];
}

export function compareGeneration(ours: readonly ItemOutput[], ref: readonly ItemOutput[], stops: readonly (readonly string[])[], decode: (ids: readonly number[]) => string): Agreement {
  const mismatches: string[] = [];
  ours.forEach((o, i) => {
    const r = applyStopRule(ref[i]!.tokens!, stops[i]!, decode);
    const a = o.tokens!;
    if (a.length !== r.length || a.some((t, k) => t !== r[k])) mismatches.push(o.id);
  });
  return { identical: mismatches.length === 0, mismatches };
}

export function compareScoring(ours: readonly ItemOutput[], ref: readonly ItemOutput[]): Agreement {
  const mismatches: string[] = [];
  let maxAbsDelta = 0;
  ours.forEach((o, i) => {
    const a = o.scores!;
    const b = ref[i]!.scores!;
    let bad = a.length !== b.length || argmax(a) !== argmax(b);
    a.forEach((v, k) => {
      const d = Math.abs(v - (b[k] ?? NaN));
      maxAbsDelta = Math.max(maxAbsDelta, Number.isNaN(d) ? Infinity : d);
      if (!(d < LOGLIK_TOLERANCE)) bad = true;
    });
    if (bad) mismatches.push(o.id);
  });
  return { identical: mismatches.length === 0, mismatches, maxAbsDelta };
}

/** First index of the maximum, as a user's argmax would pick. */
export function argmax(xs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i]! > xs[best]!) best = i;
  return best;
}
