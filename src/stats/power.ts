import { logFactorial, normalQuantile } from '../report/stats.js';

/**
 * Sample sizes and power for `compare`'s paired test (McNemar), for `flan-eval plan`. Each example is
 * scored by both runs, so the outcome pairs are (right, right), (right, wrong), (wrong, right), (wrong,
 * wrong) with probabilities p11, p10, p01, p00. Only the discordant pairs inform the test; with
 * ψ = p10 + p01 (the discordant share) and δ = p10 − p01 (the drop, as a proportion), Connor's (1987)
 * normal approximation to McNemar's test gives
 *
 *   n = ( z_{1−α/2} √ψ + z_{power} √(ψ − δ²) )² / δ²,     power(n) = Φ( (|δ|√n − z_{1−α/2} √ψ) / √(ψ − δ²) ).
 *
 * That approximation overstates the power of the exact test `compare` runs by up to ~0.06 at small n, so
 * `plan` reports the exact power (`exactPairedPower`: the discordant count is Binomial(n, ψ), and given
 * it, the right→wrong count is Binomial(m, p10/ψ) against the exact test's critical value) and searches
 * the sample size from Connor's starting point.
 *
 * ψ follows from the baseline accuracy p1, the current p2 = p1 − δ and the correlation ρ of the two runs'
 * per-example outcomes: p11 = p1·p2 + ρ·√(p1(1−p1)·p2(1−p2)), ψ = p1 + p2 − 2·p11. ρ = 0 is two unrelated
 * models (the least pairing gains); a code change to the same model correlates much more. The formula
 * is checked against a seeded simulation of the exact test `compare` runs (test/stats/power.test.ts).
 */

/** Standard normal CDF, by the complementary error function (Numerical Recipes' erfc, |error| < 1.2e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const erfc =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

export interface PairedDesign {
  /** Baseline accuracy, proportion 0..1. */
  baseline: number;
  /** The change to detect, proportion (> 0). */
  delta: number;
  /** Correlation of the two runs' per-example outcomes, 0..1. */
  correlation: number;
  alpha: number;
}

export interface DiscordantCells {
  /** Right before, wrong after (the drop's examples). */
  p10: number;
  /** Wrong before, right after. */
  p01: number;
  /** p10 + p01. */
  psi: number;
  /** The accuracy after the change: baseline − delta, or baseline + delta when it cannot fall that far. */
  current: number;
  direction: 'drop' | 'rise';
  /** Whether the correlation was more than these accuracies allow and was capped. */
  capped: boolean;
}

/** The discordant cells of a paired design; throws RangeError when the change leaves 0..1. */
export function discordantCells(d: PairedDesign): DiscordantCells {
  const p1 = d.baseline;
  const direction = p1 - d.delta >= 0 ? 'drop' : 'rise';
  const p2 = direction === 'drop' ? p1 - d.delta : p1 + d.delta;
  if (p2 > 1) throw new RangeError(`a change of ${d.delta} from ${p1} leaves the range 0..1`);
  // Two accuracies this far apart cannot correlate more than p11 = min(p1, p2) allows (every example
  // right after the drop was right before): cap there, where only the change itself flips.
  const p11 = Math.min(p1 * p2 + d.correlation * Math.sqrt(p1 * (1 - p1) * p2 * (1 - p2)), Math.min(p1, p2));
  const p10 = Math.max(p1 - p11, 0);
  const p01 = Math.max(p2 - p11, 0);
  const capped = p11 === Math.min(p1, p2) && d.correlation > 0 && p1 * p2 + d.correlation * Math.sqrt(p1 * (1 - p1) * p2 * (1 - p2)) > p11 + 1e-12;
  return { p10, p01, psi: p10 + p01, current: p2, direction, capped };
}

/** Connor's normal-approximation sample size for the paired test to detect `delta` at `power` (rounded up). */
export function pairedSampleSize(d: PairedDesign, power: number): number {
  const { psi } = discordantCells(d);
  const za = normalQuantile(1 - d.alpha / 2);
  const zb = normalQuantile(power);
  const n = (za * Math.sqrt(psi) + zb * Math.sqrt(Math.max(psi - d.delta ** 2, 0))) ** 2 / d.delta ** 2;
  return Math.ceil(n - 1e-9);
}

/** Connor's normal-approximation power of the paired test with `n` examples. */
export function pairedPower(d: PairedDesign, n: number): number {
  const { psi } = discordantCells(d);
  const za = normalQuantile(1 - d.alpha / 2);
  const spread = Math.sqrt(Math.max(psi - d.delta ** 2, 1e-300));
  return normalCdf((d.delta * Math.sqrt(n) - za * Math.sqrt(psi)) / spread);
}

/**
 * The smallest change (proportion) the exact test detects with `n` examples at `power`, by bisection on
 * the power curve; null when even the largest possible change is not detected.
 */
export function minimumDetectable(d: Omit<PairedDesign, 'delta'>, n: number, power: number): number | null {
  const feasible = (delta: number) => {
    try {
      discordantCells({ ...d, delta });
      return true;
    } catch {
      return false;
    }
  };
  // Search the direction small changes take (a drop, unless the baseline is 0), up to the largest change
  // the correlation allows: power rises with the change there.
  let hi = d.baseline > 0 ? d.baseline : 1;
  while (hi > 1e-6 && !feasible(hi)) hi *= 0.999;
  if (exactPairedPower({ ...d, delta: hi }, n) < power) return null;
  let lo = 1e-9;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (feasible(mid) && exactPairedPower({ ...d, delta: mid }, n) >= power) hi = mid;
    else lo = mid;
  }
  return hi;
}

function logBinomial(n: number, k: number, p: number): number {
  if (p <= 0) return k === 0 ? 0 : -Infinity;
  if (p >= 1) return k === n ? 0 : -Infinity;
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k) + k * Math.log(p) + (n - k) * Math.log(1 - p);
}

/**
 * The exact power of `compare`'s test (two-sided exact McNemar at alpha, in the direction of the change)
 * with `n` examples. Sums over the plausible discordant counts (mass below 1e-15 left out).
 */
export function exactPairedPower(d: PairedDesign, n: number): number {
  const { p10, p01, psi, direction } = discordantCells(d);
  if (psi <= 0 || n <= 0) return 0;
  // Probability that a discordant example goes the way of the change.
  const q = (direction === 'drop' ? p10 : p01) / psi;
  const mean = n * psi;
  const sd = Math.sqrt(n * psi * (1 - psi));
  const lo = Math.max(0, Math.floor(mean - 12 * sd - 10));
  const hi = Math.min(n, Math.ceil(mean + 12 * sd + 10));
  let power = 0;
  for (let m = lo; m <= hi; m++) {
    const pm = Math.exp(logBinomial(n, m, psi));
    if (pm < 1e-15) continue;
    // The largest j with 2·P(Bin(m, ½) ≤ j) < alpha: the test rejects when min(worse, better) ≤ j.
    let cum = 0;
    let j = -1;
    while (j + 1 <= m) {
      const next = cum + Math.exp(logBinomial(m, j + 1, 0.5));
      if (2 * next >= d.alpha) break;
      cum = next;
      j++;
    }
    if (j < 0) continue;
    // Reject in the change's direction: the other side's count is at most j.
    let tail = 0;
    for (let k = m - j; k <= m; k++) tail += Math.exp(logBinomial(m, k, q));
    power += pm * tail;
  }
  return Math.min(1, power);
}

/**
 * The fewest examples with which the exact test reaches `power`: from Connor's approximation, grown
 * until the exact power reaches it, then bisected. (The exact power saw-tooths a little with n; this
 * finds a point on the rising edge, within a few examples of the first.)
 */
export function exactSampleSize(d: PairedDesign, power: number, max = 10_000_000): number | null {
  let hi = Math.max(1, pairedSampleSize(d, power));
  let lo = 0;
  while (exactPairedPower(d, hi) < power) {
    lo = hi;
    hi = Math.ceil(hi * 1.05) + 1;
    if (hi > max) return null;
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (exactPairedPower(d, mid) >= power) hi = mid;
    else lo = mid;
  }
  return hi;
}
