import { UsageError } from '../errors.js';
import type { LoadedRecord } from '../results/read.js';
import { taskClusteredError } from '../stats/clustered.js';
import type { ClusteredStderr, RunRecord } from '../types.js';
import { type Column, columnOf, compareColumns, paperColumn, PAPER_COLUMNS } from './columns.js';
import { normalisedAverage, randomBaseline } from './normalise.js';
import { loadReference, REFERENCE_SOURCE, type ReferenceName, type ReferenceRow } from './reference.js';

/**
 * The report as data: rows (models) × columns (benchmark × format), built once from run records and
 * rendered by each output format. Every format shows the same numbers because they all read this.
 */

export interface Cell {
  /** Raw score, percent. */
  score: number;
  /** Standard error in points (null for published numbers, which come without one). */
  stderr: number | null;
  /** The clustered standard error beside it (MGSM by problem, TyDiQA by passage, by task on request), or null. */
  clustered: ClusteredStderr | null;
  /** Examples scored (null for published numbers). */
  n: number | null;
  /** Random-guess score the column is normalised with. */
  low: number;
  /** Why this number does not cover the whole benchmark (a `--limit`, a task subset, a shard, failures), or null. */
  partial: string | null;
  /** The run record it came from (null for published numbers). */
  file: string | null;
}

export interface Row {
  label: string;
  /** The model family, for one line per family in the plot (`Xenova/flan-t5`, `Flan-T5 (paper)`). */
  family: string;
  params: number | null;
  paramsLabel: string;
  /** Architecture (config.json model_type: t5, llama, …); null when the records predate it. */
  arch: string | null;
  reference: boolean;
  cells: Record<string, Cell>;
  /**
   * Normalised average over the paper's six columns; `published` when copied from the paper, `partial`
   * when one of the six is a partial number (so the average is marked too).
   */
  normAvg: { value: number; stderr: number | null; published: boolean; partial: boolean } | null;
  /** Our rows only: the records behind the row, by column id. */
  records: Record<string, RunRecord>;
}

export interface ReportTable {
  columns: Column[];
  rows: Row[];
  /** Whether the architecture column is shown: the rows mix architectures (e.g. Flan-T5 and Llama). */
  showArch: boolean;
  /** Whether the normalised-average column is shown: some row has all six paper columns. */
  showNormAvg: boolean;
  reference: ReferenceName | null;
  /** Caveats to print under the table (partial coverage, unknown BBH tasks, a model without a size). */
  notes: string[];
}

/** Parameter counts in the paper's style: two significant digits, `77M`, `250M`, `780M`, `2.9B`, `11B`. */
export function formatParams(params: number | null): string {
  if (params === null || !Number.isFinite(params) || params <= 0) return '?';
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [scale, unit] of units) {
    if (params >= scale * 0.9995 || unit === 'K') {
      const v = Number((params / scale).toPrecision(2));
      // Rounding can carry into the next unit (999.6M → 1000M): show it there instead.
      if (v >= 1000 && unit !== 'T') continue;
      return `${v}${unit}`;
    }
  }
  return String(params);
}

/** A size word of a model name, with the separator before it. */
const SIZE_WORD = /([-_ ]?)\b(small|base|large|xl|xxl)\b/gi;

/** A model family: the name without its size word (`Xenova/flan-t5-small` → `Xenova/flan-t5`). */
export function modelFamily(name: string): string {
  const stripped = name.replace(SIZE_WORD, '').replace(/[-_]+(?=\s|$)/g, '');
  return stripped || name;
}

/** A parameter-count word of a model name (`8B`, `540B`), with the separator before it: how the paper names PaLM sizes. */
const PARAMS_WORD = /([-_ ]?)\b(\d+(?:\.\d+)?[KMBT])\b/g;

/** The labels split around their one size word, or null when some label has none or several. */
function splitOnSize(labels: readonly string[], word: RegExp): { head: string; word: string; tail: string }[] | null {
  const split = labels.map((l) => {
    const m = [...l.matchAll(word)];
    return m.length === 1 ? { head: l.slice(0, m[0]!.index + m[0]![1]!.length), word: m[0]![2]!, tail: l.slice(m[0]!.index + m[0]![0].length) } : null;
  });
  const first = split[0];
  if (!first || split.some((s) => !s || s.head !== first.head || s.tail !== first.tail)) return null;
  return split as { head: string; word: string; tail: string }[];
}

/**
 * One name for a family's rows that the table's labels can be read back from: the row's own label when
 * the family has one row (`test-t5-small`, not `test-t5`), else the labels with the size words gathered
 * in braces, in the order given (`Flan-T5-{Small,Base} (paper)`, or with parameter counts as size words,
 * `Flan-PaLM {8B,62B,540B} (paper)`); the family name when the labels differ elsewhere too.
 */
export function familyLabel(labels: readonly string[]): string {
  if (labels.length === 1) return labels[0]!;
  const split = splitOnSize(labels, SIZE_WORD) ?? splitOnSize(labels, PARAMS_WORD);
  if (!split) return modelFamily(labels[0]!);
  return `${split[0]!.head}{${split.map((s) => s.word).join(',')}}${split[0]!.tail}`;
}

/** Say why a record's number is not a full-benchmark number, or null when it is. */
function partialReason(r: RunRecord): string | null {
  const reasons: string[] = [];
  if (r.selection.tasks) reasons.push(`${r.selection.tasks.length} selected task${r.selection.tasks.length === 1 ? '' : 's'}`);
  if (r.selection.limit !== null) reasons.push(`first ${r.selection.limit} examples per task`);
  if (r.selection.shard) reasons.push(`shard ${r.selection.shard.index + 1}/${r.selection.shard.count}`);
  if (r.missingTasks?.length) reasons.push(`${r.missingTasks.length} task${r.missingTasks.length === 1 ? '' : 's'} missing from the data (${r.missingTasks.join(', ')})`);
  if (r.failed > 0) reasons.push(`${r.failed} failed example${r.failed === 1 ? '' : 's'} counted wrong`);
  const missing = Object.values(r.result.tasks).reduce((a, t) => a + (t.missing ?? 0), 0);
  if (missing > 0) reasons.push(`${missing} example${missing === 1 ? '' : 's'} without a prediction counted wrong`);
  return reasons.length ? reasons.join(', ') : null;
}

/** Which of two records for the same model and column to show: complete over partial, more examples, newer. */
function preferRecord(candidate: RunRecord, current: RunRecord): { keepNew: boolean; reason: string } {
  const completeA = partialReason(candidate) === null;
  const completeB = partialReason(current) === null;
  if (completeA !== completeB) return { keepNew: completeA, reason: 'complete' };
  if (candidate.n !== current.n) return { keepNew: candidate.n > current.n, reason: `larger (n = ${Math.max(candidate.n, current.n)})` };
  if (candidate.createdAt !== current.createdAt) return { keepNew: candidate.createdAt > current.createdAt, reason: 'newer' };
  return { keepNew: false, reason: 'named first' };
}

/**
 * A record's clustered standard error: the one `run` recorded (MGSM, TyDiQA), else, with `byTask`, the
 * by-task one for MMLU and BBH, computed from the record's per-task scores (src/stats/clustered.ts).
 */
function clusteredOf(record: RunRecord, byTask: boolean): ClusteredStderr | null {
  if (record.result.clustered) return record.result.clustered;
  if (!byTask || (record.benchmark !== 'mmlu' && record.benchmark !== 'bbh')) return null;
  const scores = record.result.averageTasks.map((t) => record.result.tasks[t]!.score);
  if (scores.length < 2) return null;
  return { by: 'task', stderr: taskClusteredError(scores), clusters: scores.length };
}

function ourRows(loaded: readonly LoadedRecord[], notes: string[], clusterByTask: boolean): { rows: Row[]; columns: Map<string, Column> } {
  const columns = new Map<string, Column>();
  const byModel = new Map<string, { name: string; dtype: string; params: number | null; arch: string | null; cells: Record<string, Cell>; records: Record<string, RunRecord>; files: Record<string, string> }>();
  for (const { record, file } of loaded) {
    const col = columnOf(record);
    columns.set(col.id, col);
    const key = `${record.model.name}\u0000${record.model.dtype}`;
    let row = byModel.get(key);
    if (!row) {
      row = { name: record.model.name, dtype: record.model.dtype, params: record.model.params, arch: record.model.arch ?? null, cells: {}, records: {}, files: {} };
      byModel.set(key, row);
    }
    if (row.params === null) row.params = record.model.params;
    row.arch ??= record.model.arch ?? null;
    const clash = row.files[col.id];
    if (clash) {
      const other = row.records[col.id]!;
      if (record.selection.shard || other.selection.shard) {
        throw new UsageError(`${clash} and ${file} are shards of ${record.model.name} on ${col.label}; combine them with \`flan-eval merge\` and report the merged record`);
      }
      // A results folder accumulates runs (a full run next to a quick nightly subset, a rerun after a
      // fix): show the most complete, then the newest, and say which file was left out.
      const { keepNew, reason } = preferRecord(record, other);
      notes.push(`${keepNew ? clash : file}: not shown; ${keepNew ? file : clash} holds ${record.model.name} on ${col.label} too and is ${reason}.`);
      if (!keepNew) continue;
      // Drop the caveats of the record being replaced.
      const replaced = notes.findIndex((n) => n.startsWith(`${clash}: BBH task`));
      if (replaced >= 0) notes.splice(replaced, 1);
    }
    const { low, unknownTasks } = randomBaseline(record.benchmark, record.result.averageTasks);
    if (unknownTasks.length) {
      notes.push(`${file}: BBH task${unknownTasks.length === 1 ? '' : 's'} ${unknownTasks.join(', ')} not among the 27 known; normalised with the 27-task mean random baseline.`);
    }
    row.files[col.id] = file;
    row.records[col.id] = record;
    row.cells[col.id] = { score: record.result.score, stderr: record.result.stderr, clustered: clusteredOf(record, clusterByTask), n: record.n, low, partial: partialReason(record), file };
  }
  const dtypesByName = new Map<string, Set<string>>();
  for (const r of byModel.values()) dtypesByName.set(r.name, (dtypesByName.get(r.name) ?? new Set()).add(r.dtype));
  const rows: Row[] = [...byModel.values()].map((r) => {
    const label = dtypesByName.get(r.name)!.size > 1 ? `${r.name} (${r.dtype})` : r.name;
    if (r.params === null) notes.push(`${label}: parameter count unknown (not in its run records); listed last and left out of the plot.`);
    return {
      label,
      family: modelFamily(label),
      params: r.params,
      paramsLabel: formatParams(r.params),
      arch: r.arch,
      reference: false,
      cells: r.cells,
      normAvg: null,
      records: r.records,
    };
  });
  for (const row of rows) {
    const six = PAPER_COLUMNS.map((p) => row.cells[p.key]);
    const avg = normalisedAverage(six.map((c) => (c ? { raw: c.score, low: c.low, stderr: c.stderr } : null)));
    if (avg) row.normAvg = { ...avg, published: false, partial: six.some((c) => c?.partial) };
  }
  return { rows, columns };
}

function referenceRow(ref: ReferenceRow): Row {
  const cells: Record<string, Cell> = {};
  PAPER_COLUMNS.forEach((p, i) => {
    const col = paperColumn(i);
    cells[p.key] = { score: ref.scores[p.key]!, stderr: null, clustered: null, n: null, low: randomBaseline(col.benchmark, []).low, partial: null, file: null };
  });
  const label = `${ref.model} (paper)`;
  // The PaLM rows end in their size as a parameter count (`PaLM 62B`), which modelFamily leaves alone
  // (for our rows a count in a name is not a size ladder: `Qwen2.5-0.5B-Instruct`). Drop the row's own
  // size label so PaLM 8B, 62B and 540B make one family, one line in the plot.
  const sizeSuffix = [' ', '-', '_'].map((sep) => sep + ref.paramsLabel).find((suffix) => ref.model.endsWith(suffix));
  const name = sizeSuffix ? ref.model.slice(0, -sizeSuffix.length) : ref.model;
  return {
    label,
    family: modelFamily(`${name} (paper)`),
    params: ref.params,
    paramsLabel: ref.paramsLabel,
    arch: ref.arch,
    reference: true,
    cells,
    normAvg: { value: ref.normAvg, stderr: null, published: true, partial: false },
    records: {},
  };
}

/**
 * Rows sorted by parameter count (unknown sizes last), whatever their architecture, so Flan-T5 runs,
 * decoder-only runs and the paper's T5 and PaLM rows read as one scaling ladder; at equal size, the
 * paper's rows (in Table 5's order: T5 then Flan-T5, PaLM then Flan-PaLM then cont-PaLM) come before
 * ours so each of our models sits right under its published counterpart.
 */
function compareRows(a: Row, b: Row, refOrder: Map<string, number>): number {
  const pa = a.params ?? Infinity;
  const pb = b.params ?? Infinity;
  if (pa !== pb) return pa - pb;
  if (a.reference !== b.reference) return a.reference ? -1 : 1;
  if (a.reference) return refOrder.get(a.label)! - refOrder.get(b.label)!;
  return a.label < b.label ? -1 : a.label > b.label ? 1 : 0;
}

export function buildReportTable(loaded: readonly LoadedRecord[], options: { reference?: ReferenceName | null; clusterByTask?: boolean } = {}): ReportTable {
  const notes: string[] = [];
  const { rows, columns } = ourRows(loaded, notes, options.clusterByTask ?? false);
  const reference = options.reference ?? null;
  const refRows = reference ? loadReference(reference).map(referenceRow) : [];
  if (reference) {
    for (let i = 0; i < PAPER_COLUMNS.length; i++) if (!columns.has(PAPER_COLUMNS[i]!.key)) columns.set(PAPER_COLUMNS[i]!.key, paperColumn(i));
    notes.push(`Rows marked (paper): ${REFERENCE_SOURCE[reference]}; their normalised average is the published one.`);
  }
  const refOrder = new Map(refRows.map((r, i) => [r.label, i]));
  const all = [...rows, ...refRows].sort((a, b) => compareRows(a, b, refOrder));
  return {
    columns: [...columns.values()].sort(compareColumns),
    rows: all,
    showArch: new Set(all.map((r) => r.arch ?? 't5')).size > 1,
    showNormAvg: all.some((r) => r.normAvg !== null),
    reference,
    notes,
  };
}

/** A short description of the normalised average, for notes under every table. */
export const NORM_AVG_NOTE =
  'Norm. avg.: mean of the six paper columns, each normalised as 100·(score − random)/(100 − random); random = 25 for MMLU, the mean of the per-task random baselines of the BBH tasks in the record (26.63 over all 27 tasks), 0 for TyDiQA and MGSM.';
