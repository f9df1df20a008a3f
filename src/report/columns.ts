import { BENCHMARKS, type BenchmarkName, type RunRecord } from '../types.js';

/**
 * A report column is one benchmark × prompt format. The paper's six (Table 5, in its order) are the
 * paper's protocol exactly: default shots, MMLU on the validation split, answers generated. Anything else
 * (zero-shot, `--split test`, `--scoring loglik`, MGSM direct, …) is its own column with a label that says
 * how it differs, and never enters the normalised average: mixing protocols would make it incomparable
 * with Table 5.
 */

/** docs/protocol.md §3 default shots, i.e. the paper's. */
export const PAPER_SHOTS: Readonly<Record<BenchmarkName, number>> = { mmlu: 5, bbh: 3, tydiqa: 1, mgsm: 8 };

/** The split the paper used where a benchmark has several (MMLU: validation). */
const PAPER_SPLIT: Partial<Record<BenchmarkName, string>> = { mmlu: 'val' };

export const BENCHMARK_LABELS: Readonly<Record<BenchmarkName, string>> = { mmlu: 'MMLU', bbh: 'BBH', tydiqa: 'TyDiQA', mgsm: 'MGSM' };

/** Table 5's six columns, in its order; `key` is the column name of data/flan-t5-paper-table5.csv. */
export const PAPER_COLUMNS = [
  { benchmark: 'mmlu', cot: false, key: 'mmlu_direct' },
  { benchmark: 'mmlu', cot: true, key: 'mmlu_cot' },
  { benchmark: 'bbh', cot: false, key: 'bbh_direct' },
  { benchmark: 'bbh', cot: true, key: 'bbh_cot' },
  { benchmark: 'tydiqa', cot: false, key: 'tydiqa_direct' },
  { benchmark: 'mgsm', cot: true, key: 'mgsm_cot' },
] as const satisfies readonly { benchmark: BenchmarkName; cot: boolean; key: string }[];

export interface Column {
  /** Stable identifier, e.g. `mmlu_cot` for a paper column, `mmlu_direct_0shot_test` otherwise. */
  id: string;
  /** Header text, e.g. `MMLU CoT`, `MMLU direct 0-shot test`. */
  label: string;
  benchmark: BenchmarkName;
  cot: boolean;
  shots: number;
  split: string | null;
  scoring: 'generate' | 'loglik';
  /** Position among the paper's six, or -1 for other columns. */
  paperIndex: number;
}

export function paperColumn(index: number): Column {
  const p = PAPER_COLUMNS[index]!;
  return {
    id: p.key,
    label: `${BENCHMARK_LABELS[p.benchmark]} ${p.cot ? 'CoT' : 'direct'}`,
    benchmark: p.benchmark,
    cot: p.cot,
    shots: PAPER_SHOTS[p.benchmark],
    split: PAPER_SPLIT[p.benchmark] ?? null,
    scoring: 'generate',
    paperIndex: index,
  };
}

/** The column a run record's score belongs in. */
export function columnOf(record: Pick<RunRecord, 'benchmark' | 'format'>): Column {
  const { benchmark } = record;
  const { cot, shots, scoring } = record.format;
  const paperSplit = PAPER_SPLIT[benchmark] ?? null;
  // Benchmarks without splits may record null; MMLU records always name theirs.
  const split = paperSplit === null ? null : record.format.split;
  const index = PAPER_COLUMNS.findIndex((p) => p.benchmark === benchmark && p.cot === cot);
  if (index >= 0 && shots === PAPER_SHOTS[benchmark] && split === paperSplit && scoring === 'generate') return paperColumn(index);
  const parts = [BENCHMARK_LABELS[benchmark], cot ? 'CoT' : 'direct'];
  const idParts: string[] = [benchmark, cot ? 'cot' : 'direct'];
  if (shots !== PAPER_SHOTS[benchmark]) {
    parts.push(`${shots}-shot`);
    idParts.push(`${shots}shot`);
  }
  if (split !== paperSplit && split !== null) {
    parts.push(split);
    idParts.push(split);
  }
  if (scoring !== 'generate') {
    parts.push(scoring);
    idParts.push(scoring);
  }
  return { id: idParts.join('_'), label: parts.join(' '), benchmark, cot, shots, split, scoring, paperIndex: -1 };
}

/** Paper columns first in Table 5's order, then the others by benchmark, direct before CoT, shots, split, scoring. */
export function compareColumns(a: Column, b: Column): number {
  const pa = a.paperIndex < 0 ? Infinity : a.paperIndex;
  const pb = b.paperIndex < 0 ? Infinity : b.paperIndex;
  if (pa !== pb) return pa - pb;
  return (
    BENCHMARKS.indexOf(a.benchmark) - BENCHMARKS.indexOf(b.benchmark) ||
    Number(a.cot) - Number(b.cot) ||
    a.shots - b.shots ||
    (a.split ?? '').localeCompare(b.split ?? '') ||
    a.scoring.localeCompare(b.scoring)
  );
}
