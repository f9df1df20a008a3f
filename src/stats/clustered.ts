/**
 * Clustered standard errors, following Miller (2024), "Adding Error Bars to Evals: A Statistical Approach
 * to Language Model Evaluations" (arXiv:2411.00640), Appendix A. When examples come in groups that share
 * something — MGSM's problems, each asked in eleven languages; TyDiQA questions about one passage — their
 * outcomes are correlated and the naive standard error (which assumes independence) is too small.
 * The clustered estimator sums residuals within each cluster before squaring:
 *
 *   SE_clustered(mean) = sqrt( Σ_c ( Σ_{i∈c} (x_i − x̄) )² ) / n
 *
 * (the CLT variance plus the within-cluster cross terms (1/n²) Σ_c Σ_{i≠j∈c} r_i r_j). As in the paper,
 * no finite-cluster correction: Inspect's `stderr(cluster=…)` multiplies the variance by C/(C−1), which
 * matters with few clusters (×1.05 on the error with MGSM's 10 problems of a `--limit 10` run).
 * With one example per cluster it is the population-variance standard error, sqrt((n−1)/n) times the
 * naive one.
 *
 * Our headline score is not one mean but the mean over tasks of per-task means, so each example enters
 * with weight w_i = 1/(T·n_task) and the estimator becomes sqrt(Σ_c (Σ_{i∈c} w_i r_i)²). Two ways to centre
 * the residuals, depending on what a cluster is:
 * - clusters that cut across tasks (a problem in several languages, a passage): tasks are fixed strata
 *   (the paper's language set is not a sample), so r_i = x_i − x̄_task;
 * - tasks as clusters (MMLU subjects, BBH tasks treated as a sample of possible tasks): r_i = x_i − S, the
 *   overall score, so each cluster's sum is (x̄_task − S)/T and the error is sqrt(Σ_t (x̄_t − S)²)/T.
 * For `compare`, x_i is the paired difference current − baseline (−1, 0, 1) of one example: the same
 * formula gives the clustered standard error of Δ.
 */

export interface Observation {
  task: string;
  /** The cluster this example belongs to (e.g. `problem 17`); clusters may span tasks. */
  cluster: string;
  /** The outcome: 0/1 correctness, or a paired difference. */
  x: number;
}

export interface ClusteredError {
  /** In the unit of x (multiply by 100 for points). */
  stderr: number;
  /** Number of clusters that held an observation. */
  clusters: number;
}

/**
 * The clustered standard error of the mean over tasks of per-task means of `x`. `centre: 'task'` for
 * clusters that cut across tasks (residuals from each task's mean), `'overall'` when the clusters are the
 * tasks themselves (residuals from the overall score).
 */
export function clusteredTaskMeanError(observations: readonly Observation[], centre: 'task' | 'overall'): ClusteredError {
  const byTask = new Map<string, { sum: number; n: number }>();
  for (const o of observations) {
    const t = byTask.get(o.task) ?? { sum: 0, n: 0 };
    t.sum += o.x;
    t.n++;
    byTask.set(o.task, t);
  }
  const T = byTask.size;
  if (T === 0) return { stderr: 0, clusters: 0 };
  let overall = 0;
  for (const t of byTask.values()) overall += t.sum / t.n / T;
  const sums = new Map<string, number>();
  for (const o of observations) {
    const t = byTask.get(o.task)!;
    const residual = o.x - (centre === 'task' ? t.sum / t.n : overall);
    sums.set(o.cluster, (sums.get(o.cluster) ?? 0) + residual / (T * t.n));
  }
  let variance = 0;
  for (const s of sums.values()) variance += s * s;
  return { stderr: Math.sqrt(variance), clusters: sums.size };
}

/** Whether some cluster holds two or more observations (otherwise clustering changes nothing). */
export function clustersRepeat(observations: readonly Observation[]): boolean {
  const seen = new Set<string>();
  for (const o of observations) {
    if (seen.has(o.cluster)) return true;
    seen.add(o.cluster);
  }
  return false;
}

/**
 * The task-clustered standard error of a mean over tasks, from the per-task scores alone (a run record
 * holds them): sqrt(Σ_t (s_t − S)²)/T, in the unit of the scores. The same number
 * `clusteredTaskMeanError(…, 'overall')` gives from the examples, so `report` needs no predictions.
 */
export function taskClusteredError(taskScores: readonly number[]): number {
  const T = taskScores.length;
  if (T === 0) return 0;
  const mean = taskScores.reduce((a, s) => a + s, 0) / T;
  return Math.sqrt(taskScores.reduce((a, s) => a + (s - mean) ** 2, 0)) / T;
}
