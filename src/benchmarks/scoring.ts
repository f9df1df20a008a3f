import type { BenchmarkName, BenchmarkScore, ItemScore, TaskScore } from '../types.js';
import { clusteredTaskMeanError, clustersRepeat } from '../stats/clustered.js';
import type { PreparedItem } from './adapter.js';

/** Cut a prediction at the earliest occurrence of any stop sequence (docs/protocol.md §4). */
export function truncateAtStop(text: string, stops: readonly string[]): string {
  let cut = text.length;
  for (const s of stops) {
    if (!s) continue;
    const i = text.indexOf(s);
    if (i >= 0 && i < cut) cut = i;
  }
  return text.slice(0, cut);
}

/**
 * The offset just after the last match of a global regex, or -1. (Searching a lower-cased copy would not
 * do: lower-casing can change the length of a string, e.g. "İ", and so the offsets.)
 */
export function endOfLast(re: RegExp, text: string): number {
  let end = -1;
  for (const m of text.matchAll(re)) end = m.index + m[0].length;
  return end;
}

/** Mean of 0/1 outcomes as a percentage, with the binomial standard error of that mean (in points). */
export function percentWithStderr(values: readonly number[]): { score: number; stderr: number } {
  const n = values.length;
  if (n === 0) return { score: 0, stderr: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  // Sample standard deviation / sqrt(n), as lm-evaluation-harness reports it; 0 when n = 1.
  const variance = n > 1 ? values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1) : 0;
  return { score: 100 * mean, stderr: 100 * Math.sqrt(variance / n) };
}

/**
 * The aggregate every benchmark shares: per-task accuracy (missing predictions count as wrong), then the
 * unweighted mean over `averageTasks`. Secondary metrics (TyDiQA F1) are averaged the same way. The
 * benchmark's standard error treats tasks as independent: sqrt(sum se_t²) / T.
 */
export function aggregateByTask(
  benchmark: BenchmarkName,
  items: readonly PreparedItem[],
  scores: ReadonlyMap<string, ItemScore>,
  tasks: readonly string[],
  averageTasks: readonly string[],
  /** What the items' `cluster` keys group (MGSM: problem, TyDiQA: passage); omitted when they have none. */
  clusterBy?: 'problem' | 'passage',
): BenchmarkScore {
  const byTask = new Map<string, PreparedItem[]>();
  for (const t of tasks) byTask.set(t, []);
  for (const item of items) {
    const list = byTask.get(item.task);
    if (list) list.push(item);
    else byTask.set(item.task, [item]);
  }
  const out: Record<string, TaskScore> = {};
  // Code-point order, like the adapters' sorted task lists: localeCompare depends on the ICU build and
  // locale, and a report's row order must not.
  for (const [task, list] of [...byTask].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const outcomes: number[] = [];
    const metricValues = new Map<string, number[]>();
    let missing = 0;
    for (const item of list) {
      const s = scores.get(item.id);
      if (!s) missing++;
      outcomes.push(s?.correct ? 1 : 0);
      for (const k of Object.keys(s?.metrics ?? {})) if (!metricValues.has(k)) metricValues.set(k, []);
    }
    // Secondary metrics: an item missing a metric counts as 0 for it, like a missing prediction.
    for (const item of list) {
      const s = scores.get(item.id);
      for (const [k, vals] of metricValues) vals.push(s?.metrics?.[k] ?? 0);
    }
    const { score, stderr } = percentWithStderr(outcomes);
    const ts: TaskScore = { score, n: list.length, stderr };
    if (metricValues.size) ts.metrics = Object.fromEntries([...metricValues].map(([k, vals]) => [k, percentWithStderr(vals).score]));
    if (missing) ts.missing = missing;
    out[task] = ts;
  }
  const avg = averageTasks.filter((t) => out[t] && out[t].n > 0);
  const score = avg.length ? avg.reduce((a, t) => a + out[t]!.score, 0) / avg.length : 0;
  const stderr = avg.length ? Math.sqrt(avg.reduce((a, t) => a + out[t]!.stderr ** 2, 0)) / avg.length : 0;
  const result: BenchmarkScore = { benchmark, score, stderr, tasks: out, averageTasks: avg };
  if (clusterBy) {
    // Missing predictions count as wrong here too, like in the score.
    const inAverage = new Set(avg);
    const observations = items
      .filter((i) => inAverage.has(i.task) && i.cluster !== undefined)
      .map((i) => ({ task: i.task, cluster: i.cluster!, x: scores.get(i.id)?.correct ? 1 : 0 }));
    if (clustersRepeat(observations)) {
      const c = clusteredTaskMeanError(observations, 'task');
      result.clustered = { by: clusterBy, stderr: 100 * c.stderr, clusters: c.clusters };
    }
  }
  const metricNames = new Set(avg.flatMap((t) => Object.keys(out[t]!.metrics ?? {})));
  if (metricNames.size) {
    result.metrics = Object.fromEntries([...metricNames].map((m) => [m, avg.reduce((a, t) => a + (out[t]!.metrics?.[m] ?? 0), 0) / avg.length]));
  }
  return result;
}
