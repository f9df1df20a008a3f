import type { Column } from '../columns.js';
import type { BreakdownTable } from '../breakdown.js';
import { BBH_MEAN_LOW } from '../normalise.js';
import { NORM_AVG_NOTE, type Cell, type ReportTable, type Row } from '../table.js';

/** What every output format receives. */
export interface RenderInput {
  table: ReportTable;
  /** Per-task tables (`--breakdown`), or null. */
  breakdown: BreakdownTable[] | null;
  /** Show standard errors (`--stderr`). */
  stderr: boolean;
  /** The scaling plot as SVG (HTML embeds it), or null. */
  plotSvg?: string | null;
  /** A caption (LaTeX: `--caption`, inserted as LaTeX source), or null. */
  caption?: string | null;
}

/** One decimal, as the paper prints, halves rounded away from zero (−0.75 → −0.8); never `-0.0`. */
export function fixed1(x: number): string {
  const r = (Math.sign(x) * Math.round(Math.abs(x) * 10)) / 10;
  return (r === 0 ? 0 : r).toFixed(1);
}

/**
 * The best number of each column (and of Norm. avg.), compared as printed (one decimal, so ties are all
 * best), among whole-benchmark numbers only: a `--limit` run's score is not comparable with the others.
 * A column with fewer than two such numbers has no best: there is nothing to compare.
 */
export function bestCells(table: ReportTable): { has(row: Row, columnId: string | null): boolean } {
  const printed = (x: number) => Number(fixed1(x));
  const top = new Map<string | null, number>();
  const count = new Map<string | null, number>();
  const consider = (key: string | null, value: number) => {
    top.set(key, Math.max(top.get(key) ?? -Infinity, printed(value)));
    count.set(key, (count.get(key) ?? 0) + 1);
  };
  for (const row of table.rows) {
    for (const col of table.columns) {
      const cell = row.cells[col.id];
      if (cell && !cell.partial) consider(col.id, cell.score);
    }
    if (row.normAvg && !row.normAvg.partial) consider(null, row.normAvg.value);
  }
  return {
    has(row, columnId) {
      const best = top.get(columnId);
      if (best === undefined || count.get(columnId)! < 2) return false;
      if (columnId === null) return row.normAvg !== null && !row.normAvg.partial && printed(row.normAvg.value) === best;
      const cell = row.cells[columnId];
      return cell !== undefined && !cell.partial && printed(cell.score) === best;
    },
  };
}

/** The clustered standard error shown beside the naive one with `--stderr`: ` [cl. 1.9]`, or ''. */
export function clusteredText(cell: Cell | undefined, withStderr: boolean): string {
  return withStderr && cell?.clustered ? ` [cl. ${fixed1(cell.clustered.stderr)}]` : '';
}

/** The marker on a cell whose number does not cover the whole benchmark; explained in the notes. */
export const PARTIAL_MARK = '*';

/** The header row's labels: Model, Params, one per column, and Norm. avg. when shown. */
export function headerLabels(table: ReportTable): string[] {
  return ['Model', 'Params', ...(table.showArch ? ['Arch'] : []), ...table.columns.map((c) => c.label), ...(table.showNormAvg ? ['Norm. avg.'] : [])];
}

/**
 * A row's architecture as printed. Records without `model.arch` predate decoder-only support, when every
 * model flan-eval could run was a T5 (buildReportTable counts them as t5 too when deciding on the column).
 */
export function archText(row: Row): string {
  return row.arch ?? 't5';
}

/** The text cells before the scores: model, size, and the architecture when the table mixes them. */
export function leadCells(table: ReportTable, row: Row): string[] {
  return [row.label, row.paramsLabel, ...(table.showArch ? [archText(row)] : [])];
}

/** A row's cells in column order (undefined where the model has no score), then the normalised average. */
export function rowValues(table: ReportTable, row: Row): { cells: (Cell | undefined)[]; norm: Row['normAvg'] } {
  return { cells: table.columns.map((c) => row.cells[c.id]), norm: row.normAvg };
}

/**
 * The notes under a table, in a fixed order: how the normalised average is computed, partial numbers
 * (one per marked cell), then the table's own notes (reference source, unknown sizes or tasks).
 */
export function tableNotes(table: ReportTable, stderr = false): string[] {
  const notes: string[] = [];
  notes.push('Scores are exact-match percentages; a benchmark\'s score is the unweighted mean over its tasks (MMLU subjects, BBH tasks, languages).');
  if (table.showNormAvg) {
    notes.push(NORM_AVG_NOTE);
    // Say which BBH baseline each of our cells used when it is not the 27-task mean (a subset of tasks):
    // the same number the JSON output carries as the cell's `low`.
    for (const row of table.rows) {
      if (row.reference) continue;
      for (const col of table.columns) {
        const cell = row.cells[col.id];
        if (col.benchmark === 'bbh' && cell && Math.abs(cell.low - BBH_MEAN_LOW) > 1e-9) {
          notes.push(`${row.label}, ${col.label}: normalised with random = ${cell.low.toFixed(2)}, the mean over the BBH tasks in its record (${cell.file}).`);
        }
      }
    }
  }
  for (const row of table.rows) {
    for (const col of table.columns) {
      const cell = row.cells[col.id];
      if (cell?.partial) notes.push(`${PARTIAL_MARK} ${row.label}, ${col.label}: ${cell.partial} (${cell.file}).`);
    }
    if (row.normAvg?.partial) notes.push(`${PARTIAL_MARK} ${row.label}, Norm. avg.: built from partial numbers, not comparable with Table 5.`);
  }
  notes.push(...table.notes);
  if (stderr) notes.push('± is one standard error (tasks treated as independent; none is published for the paper\'s rows).');
  const clustered = [...new Set(table.rows.flatMap((r) => table.columns.map((c) => r.cells[c.id]?.clustered?.by).filter((b) => b !== undefined)))];
  if (stderr && clustered.length) {
    const how: Record<string, string> = { problem: 'MGSM by problem across languages', passage: 'TyDiQA by passage', task: 'MMLU and BBH by task (--cluster task)' };
    notes.push(`[cl. …] is the clustered standard error (Miller 2024, "Adding Error Bars to Evals"): ${clustered.sort().map((b) => how[b]).join('; ')}.`);
  }
  return notes;
}

/** The label of one breakdown row, with its level and average membership made visible in plain text. */
export function breakdownLabel(label: string, level: 0 | 1 | 2, inAverage: boolean, indent: string): string {
  const text = level === 2 ? `${indent}${label}` : label;
  return inAverage ? text : `${text} (not in average)`;
}

export function breakdownTitle(column: Column): string {
  return `${column.label}: per task`;
}
