/**
 * The statistics behind `compare`. Both runs score the same examples, so the tests are paired: only the
 * examples whose outcome changed carry information about a change in accuracy.
 */

/** log(n!) by summation, cached: n is at most the size of a benchmark (≈ 15k for MMLU test). */
const logFactorials: number[] = [0];
export function logFactorial(n: number): number {
  for (let i = logFactorials.length; i <= n; i++) logFactorials.push(logFactorials[i - 1]! + Math.log(i));
  return logFactorials[n]!;
}

/**
 * Exact McNemar test, two-sided: among the b + c discordant pairs (b: right before and wrong now, c: the
 * reverse), under "no change" each is equally likely to go either way, so min(b, c) ~ Binomial(b + c, ½).
 * p = min(1, 2·P(X ≤ min(b, c))). Exact rather than the χ² approximation because a nightly run on a
 * small suite may have only a handful of discordant pairs, where χ² is badly off. Sums in log space so
 * thousands of pairs do not underflow.
 */
export function mcnemarExact(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  const logTerms: number[] = [];
  for (let i = 0; i <= k; i++) logTerms.push(logFactorial(n) - logFactorial(i) - logFactorial(n - i) - n * Math.LN2);
  const max = Math.max(...logTerms);
  const tail = Math.exp(max) * logTerms.reduce((a, t) => a + Math.exp(t - max), 0);
  return Math.min(1, 2 * tail);
}

/**
 * The standard normal quantile (inverse CDF), by Acklam's rational approximation (relative error below
 * 1.2e-9, far finer than the one decimal a confidence interval is printed with).
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/** Per-task paired outcomes: for each aligned example, current − baseline correctness ∈ {−1, 0, 1}. */
export interface PairedTask {
  task: string;
  diffs: readonly number[];
  baselineCorrect: number;
  currentCorrect: number;
}

export interface PairedDifference {
  /** Task-weighted (unweighted mean over tasks, like the headline score) baseline and current accuracy, %. */
  baseline: number;
  current: number;
  /** current − baseline, points. */
  delta: number;
  /** Standard error of delta, points. */
  stderr: number;
  /** Two-sided confidence interval for delta at `level`, points. */
  ci: [number, number];
}

/**
 * The change in a benchmark score as the paper computes it (mean over tasks of per-task accuracy),
 * measured on the examples both runs scored, with a normal-approximation confidence interval for the
 * paired difference: Var(Δ) = Σ_t s_t²/n_t / T², where s_t² is the sample variance of the per-example
 * differences in task t. Pairing removes the between-example variance that two independent standard
 * errors would count twice. Deterministic (no resampling), so a CI job prints the same numbers each run.
 */
export function pairedDifference(tasks: readonly PairedTask[], level = 0.95): PairedDifference {
  const used = tasks.filter((t) => t.diffs.length > 0);
  if (used.length === 0) return { baseline: 0, current: 0, delta: 0, stderr: 0, ci: [0, 0] };
  let baseline = 0;
  let current = 0;
  let delta = 0;
  let variance = 0;
  for (const t of used) {
    const n = t.diffs.length;
    const mean = t.diffs.reduce((a, d) => a + d, 0) / n;
    const s2 = n > 1 ? t.diffs.reduce((a, d) => a + (d - mean) ** 2, 0) / (n - 1) : 0;
    baseline += t.baselineCorrect / n;
    current += t.currentCorrect / n;
    delta += mean;
    variance += s2 / n;
  }
  const T = used.length;
  const stderr = (100 * Math.sqrt(variance)) / T;
  const z = normalQuantile(1 - (1 - level) / 2);
  const d = (100 * delta) / T;
  return { baseline: (100 * baseline) / T, current: (100 * current) / T, delta: d, stderr, ci: [d - z * stderr, d + z * stderr] };
}
