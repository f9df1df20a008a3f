import { UsageError } from '../errors.js';
import { readPredictions, type LoadedRecord } from '../results/read.js';
import type { BenchmarkName, ClusterBy, ClusteredStderr, PredictionLine, RunRecord } from '../types.js';
import { compareIds } from '../runner/ids.js';
import { type Column, columnOf, compareColumns } from './columns.js';
import { clusterOfLine } from '../benchmarks/clusters.js';
import { clusteredTaskMeanError, clustersRepeat, type Observation } from '../stats/clustered.js';
import { mcnemarExact, normalQuantile, pairedDifference, type PairedTask } from './stats.js';

/**
 * `compare`: a regression check between two sets of runs. Records are paired by benchmark × format (and
 * by model when a side holds several models), examples by id. A pair is a regression when its score fell
 * by at least `maxDrop` points AND the fall is significant at `alpha` by an exact McNemar test on the
 * examples whose outcome changed. Both conditions: a tiny but certain drop (one example out of 6,000
 * flipping after a tokenizer fix) is not worth a red build, and a large-looking drop on 20 examples may
 * be noise.
 *
 * Configuration differences (model, data, prompts, decoding, versions) are reported beside the scores,
 * never folded into the verdict: they explain a change, they are not one.
 */

export interface CompareOptions {
  /** Points; a drop of at least this much can fail the check. */
  maxDrop: number;
  /** Significance level of the McNemar test; the confidence interval is at 1 − alpha. */
  alpha: number;
  /**
   * Targets of flipped examples whose prediction lines carry none (older runs): id → target, looked up
   * from the benchmark's examples for this record, or null when the data is not at hand.
   */
  targetsFor?: (record: RunRecord) => Promise<ReadonlyMap<string, string> | null>;
  /**
   * `task`: cluster the confidence interval by task (MMLU subjects, BBH tasks as a sample of tasks).
   * Otherwise MGSM is clustered by problem and TyDiQA by passage (where passages repeat), others not.
   */
  cluster?: 'task';
}

export interface ConfigDifference {
  /** What differs, e.g. "model hash", "prompts". Hashes are kept in full (Markdown shortens them). */
  what: string;
  baseline: string;
  current: string;
  /** A sentence for the summary, e.g. "1,531 of 1,531 examples have a different prompt". */
  detail?: string;
}

export type Verdict =
  | 'regression'
  | 'drop, not significant'
  | 'drop below --max-drop'
  | 'improvement'
  | 'no significant change'
  | 'no change'
  | 'no common examples';

/** One example whose outcome changed between the runs. */
export interface Flip {
  id: string;
  task: string;
  /** 'worse': right in the baseline and wrong now; 'better': the reverse. */
  direction: 'worse' | 'better';
  /** The raw predictions, baseline then current. */
  before: string;
  after: string;
  /** The extracted answers that were compared with the target. */
  beforeAnswer: string;
  afterAnswer: string;
  /** The gold answer: from the prediction line, else from the benchmark's data; null when neither has it. */
  target: string | null;
}

export interface PairResult {
  column: Column;
  /** The model name(s): one name when both sides ran the same model, else `baseline → current`. */
  model: string;
  baselineFile: string;
  currentFile: string;
  /** Examples scored in both runs (within the tasks both headline averages use). */
  n: number;
  onlyBaseline: number;
  onlyCurrent: number;
  /** Common examples whose inference failed (`error` set; counted wrong), per side. */
  failedBaseline: number;
  failedCurrent: number;
  /** Task-weighted accuracies on the common examples, and their paired difference. */
  baseline: number;
  current: number;
  delta: number;
  /** Standard error of delta, points: the clustered one when `clustered` is set (the CI uses it), else naive. */
  stderr: number;
  /** The naive (independent examples) standard error of delta, points. */
  naiveStderr: number;
  /** How the examples were clustered for `stderr` and `ci`, or null (independent). */
  clustered: { by: ClusterBy; clusters: number } | null;
  ci: [number, number];
  /** Right in the baseline and wrong now / wrong in the baseline and right now. */
  worse: number;
  better: number;
  p: number;
  significant: boolean;
  verdict: Verdict;
  config: ConfigDifference[];
  /** Every example that flipped, in id order; `worse` + `better` of them. */
  flips: Flip[];
  /** Where the flips' targets came from: 'predictions', 'data' (the benchmark's examples) or 'unavailable'. */
  targetsFrom: 'predictions' | 'data' | 'unavailable' | 'none needed';
}

export interface CompareResult {
  options: CompareOptions;
  pairs: PairResult[];
  /** Records with no counterpart on the other side. */
  onlyBaseline: { file: string; model: string; column: string }[];
  onlyCurrent: { file: string; model: string; column: string }[];
  regression: boolean;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** What differs between two records' configurations, plus the per-example prompt changes. */
export function configDifferences(a: RunRecord, b: RunRecord, promptChanges: { changed: number; of: number }): ConfigDifference[] {
  const out: ConfigDifference[] = [];
  const add = (what: string, x: string, y: string, detail?: string) => {
    if (x !== y) out.push({ what, baseline: x, current: y, ...(detail ? { detail } : {}) });
  };
  add('model', a.model.name, b.model.name);
  add('model dtype', a.model.dtype, b.model.dtype);
  if (a.model.hash !== b.model.hash) {
    const changed = [...new Set([...Object.keys(a.model.files), ...Object.keys(b.model.files)])].filter((f) => a.model.files[f] !== b.model.files[f]).sort();
    add('model hash', a.model.hash, b.model.hash, changed.length ? `files that differ: ${changed.join(', ')}` : undefined);
  }
  if (a.data.hash !== b.data.hash) {
    const changed = [...new Set([...Object.keys(a.data.files), ...Object.keys(b.data.files)])].filter((f) => a.data.files[f] !== b.data.files[f]).sort();
    const shown = changed.slice(0, 5).join(', ') + (changed.length > 5 ? ` and ${changed.length - 5} more` : '');
    add('data hash', a.data.hash, b.data.hash, changed.length ? `data files that differ: ${shown}` : undefined);
  }
  if (a.promptsHash !== b.promptsHash || promptChanges.changed > 0) {
    out.push({
      what: 'prompts',
      baseline: a.promptsHash,
      current: b.promptsHash,
      detail: `${count(promptChanges.changed)} of ${count(promptChanges.of)} common examples have a different prompt hash`,
    });
  }
  add('decoding: max new tokens', String(a.decoding.maxNewTokens), String(b.decoding.maxNewTokens));
  add('decoding: stop sequences', JSON.stringify(a.decoding.stopByTask ?? a.decoding.stop), JSON.stringify(b.decoding.stopByTask ?? b.decoding.stop));
  add('scoring', a.format.scoring, b.format.scoring);
  add('selection', JSON.stringify(a.selection), JSON.stringify(b.selection));
  add('config hash', a.configHash, b.configHash);
  add('flan-eval version', a.versions.flanEval, b.versions.flanEval);
  add('onnxruntime version', a.versions.onnxruntime, b.versions.onnxruntime);
  return out;
}

interface Keyed {
  key: string;
  column: Column;
  loaded: LoadedRecord;
}

/**
 * Pair records by column id when each side has at most one record per column (so two different models
 * can be compared), otherwise by model name and column id.
 */
function keyRecords(baseline: readonly LoadedRecord[], current: readonly LoadedRecord[]): { base: Keyed[]; cur: Keyed[] } {
  const unique = (side: readonly LoadedRecord[]) => new Set(side.map((l) => columnOf(l.record).id)).size === side.length;
  const byColumnOnly = unique(baseline) && unique(current);
  const keyed = (side: readonly LoadedRecord[], role: string): Keyed[] => {
    const seen = new Map<string, string>();
    return side.map((l) => {
      const column = columnOf(l.record);
      const key = byColumnOnly ? column.id : `${l.record.model.name}\u0000${column.id}`;
      const clash = seen.get(key);
      if (clash) {
        throw new UsageError(`${role}: ${clash} and ${l.file} both hold ${l.record.model.name} on ${column.label}; keep one (or merge shards with \`flan-eval merge\`)`);
      }
      seen.set(key, l.file);
      return { key, column, loaded: l };
    });
  };
  return { base: keyed(baseline, 'baseline'), cur: keyed(current, 'current') };
}

function verdictOf(delta: number, worse: number, better: number, p: number, options: CompareOptions, n: number): { significant: boolean; verdict: Verdict } {
  if (n === 0) return { significant: false, verdict: 'no common examples' };
  const significant = p < options.alpha;
  if (delta === 0 && worse === better) return { significant, verdict: 'no change' };
  if (delta > 0) return { significant, verdict: significant && better > worse ? 'improvement' : 'no significant change' };
  // The task-weighted delta and the pooled McNemar counts can disagree in direction when tasks differ
  // in size; only a fall that both see is a regression. 1e-9 absorbs floating-point error, so a drop of
  // exactly --max-drop points counts as reaching it.
  if (!significant || worse <= better) return { significant, verdict: 'drop, not significant' };
  if (-delta + 1e-9 >= options.maxDrop) return { significant, verdict: 'regression' };
  return { significant, verdict: 'drop below --max-drop' };
}

export async function comparePair(base: LoadedRecord, cur: LoadedRecord, column: Column, options: CompareOptions): Promise<PairResult> {
  const [basePreds, curPreds] = await Promise.all([readPredictions(base), readPredictions(cur)]);
  // Only the tasks in both headline averages count, so the change matches the number users see.
  const curAverage = new Set(cur.record.result.averageTasks);
  const tasks = base.record.result.averageTasks.filter((t) => curAverage.has(t));
  const inTasks = new Set(tasks);
  const curById = new Map<string, PredictionLine>();
  for (const line of curPreds) if (inTasks.has(line.task)) curById.set(line.id, line);
  const paired = new Map<string, { diffs: number[]; baselineCorrect: number; currentCorrect: number }>();
  let worse = 0;
  let better = 0;
  let promptChanged = 0;
  let n = 0;
  let onlyBaseline = 0;
  let failedBaseline = 0;
  let failedCurrent = 0;
  const matched = new Set<string>();
  const flips: Flip[] = [];
  const observations: Observation[] = [];
  for (const b of basePreds) {
    if (!inTasks.has(b.task)) continue;
    const c = curById.get(b.id);
    if (!c) {
      onlyBaseline++;
      continue;
    }
    matched.add(b.id);
    n++;
    if (b.error !== undefined) failedBaseline++;
    if (c.error !== undefined) failedCurrent++;
    if (b.promptHash !== c.promptHash) promptChanged++;
    const t = paired.get(b.task) ?? { diffs: [], baselineCorrect: 0, currentCorrect: 0 };
    paired.set(b.task, t);
    t.diffs.push(Number(c.correct) - Number(b.correct));
    const cluster = options.cluster === 'task' ? b.task : clusterOfLine(base.record.benchmark, b);
    if (cluster !== undefined) observations.push({ task: b.task, cluster, x: Number(c.correct) - Number(b.correct) });
    t.baselineCorrect += Number(b.correct);
    t.currentCorrect += Number(c.correct);
    if (b.correct !== c.correct) {
      if (b.correct) worse++;
      else better++;
      const target = c.target ?? b.target ?? null;
      flips.push({ id: b.id, task: b.task, direction: b.correct ? 'worse' : 'better', before: b.prediction, after: c.prediction, beforeAnswer: b.answer, afterAnswer: c.answer, target });
    }
  }
  flips.sort((x, y) => compareIds(x.id, y.id));
  const targetsFrom = await fillTargets(flips, cur.record, options);
  const onlyCurrent = curById.size - matched.size;
  const pairedTasks: PairedTask[] = [...paired].map(([task, t]) => ({ task, ...t }));
  const diff = pairedDifference(pairedTasks, 1 - options.alpha);
  const clustered = clusteredDelta(base.record.benchmark, observations, n, options);
  const stderr = clustered ? clustered.stderr : diff.stderr;
  const z = normalQuantile(1 - options.alpha / 2);
  const p = mcnemarExact(worse, better);
  const { significant, verdict } = verdictOf(diff.delta, worse, better, p, options, n);
  const sameModel = base.record.model.name === cur.record.model.name;
  return {
    column,
    model: sameModel ? cur.record.model.name : `${base.record.model.name} → ${cur.record.model.name}`,
    baselineFile: base.file,
    currentFile: cur.file,
    n,
    onlyBaseline,
    onlyCurrent,
    failedBaseline,
    failedCurrent,
    baseline: diff.baseline,
    current: diff.current,
    delta: diff.delta,
    stderr,
    naiveStderr: diff.stderr,
    clustered: clustered ? { by: clustered.by, clusters: clustered.clusters } : null,
    ci: clustered ? [diff.delta - z * stderr, diff.delta + z * stderr] : diff.ci,
    worse,
    better,
    p,
    significant,
    verdict,
    config: configDifferences(base.record, cur.record, { changed: promptChanged, of: n }),
    flips,
    targetsFrom,
  };
}

/**
 * The clustered standard error of Δ (points) when the examples cluster: by task on request, else by the
 * benchmark's own clusters (MGSM problems, TyDiQA passages) when every common example has a key and some
 * key repeats. Null: the examples are treated as independent (the naive error).
 */
function clusteredDelta(benchmark: BenchmarkName, observations: readonly Observation[], n: number, options: CompareOptions): (ClusteredStderr & { clusters: number }) | null {
  if (n === 0 || observations.length !== n) return null;
  if (options.cluster === 'task') {
    const c = clusteredTaskMeanError(observations, 'overall');
    return { by: 'task', stderr: 100 * c.stderr, clusters: c.clusters };
  }
  if (!clustersRepeat(observations)) return null;
  const c = clusteredTaskMeanError(observations, 'task');
  return { by: benchmark === 'tydiqa' ? 'passage' : 'problem', stderr: 100 * c.stderr, clusters: c.clusters };
}

/**
 * Prediction lines written before they carried `target` have none: take it from the benchmark's examples
 * (the current record's format and selection), and say where it came from.
 */
async function fillTargets(flips: Flip[], record: RunRecord, options: CompareOptions): Promise<PairResult['targetsFrom']> {
  if (flips.length === 0) return 'none needed';
  const lacking = flips.filter((f) => f.target === null);
  if (lacking.length === 0) return 'predictions';
  const targets = options.targetsFor ? await options.targetsFor(record) : null;
  if (!targets) return 'unavailable';
  for (const f of lacking) f.target = targets.get(f.id) ?? null;
  return 'data';
}

export async function compareRuns(baseline: readonly LoadedRecord[], current: readonly LoadedRecord[], options: CompareOptions): Promise<CompareResult> {
  const { base, cur } = keyRecords(baseline, current);
  const curByKey = new Map(cur.map((k) => [k.key, k]));
  const baseKeys = new Set(base.map((k) => k.key));
  const pairs: PairResult[] = [];
  const describe = (k: Keyed) => ({ file: k.loaded.file, model: k.loaded.record.model.name, column: k.column.label });
  const onlyBaseline: CompareResult['onlyBaseline'] = [];
  for (const b of base) {
    const c = curByKey.get(b.key);
    if (!c) onlyBaseline.push(describe(b));
    else pairs.push(await comparePair(b.loaded, c.loaded, c.column, options));
  }
  const onlyCurrent = cur.filter((k) => !baseKeys.has(k.key)).map(describe);
  pairs.sort((x, y) => compareColumns(x.column, y.column) || x.model.localeCompare(y.model));
  return { options, pairs, onlyBaseline, onlyCurrent, regression: pairs.some((p) => p.verdict === 'regression') };
}
