import type { TaskScore } from '../types.js';
import type { Column } from './columns.js';
import type { ReportTable } from './table.js';

/**
 * `--breakdown`: one table per column with the models side by side and a row per task (MMLU subject,
 * BBH task, language), under the benchmark's headline average. MMLU subjects are grouped by category
 * when a subject → category map is given (the unweighted mean of the category's subjects, like the
 * headline).
 */

export interface BreakdownValue {
  score: number;
  stderr: number | null;
  n: number | null;
}

export interface BreakdownRow {
  label: string;
  /** 0: the headline average, 1: an MMLU category, 2: a task. */
  level: 0 | 1 | 2;
  /** False for tasks reported but left out of the headline average (MGSM `en`, TyDiQA `english`). */
  inAverage: boolean;
  /** One per model, in `models` order; null where that model has no score for the row. */
  values: (BreakdownValue | null)[];
}

export interface BreakdownTable {
  column: Column;
  models: string[];
  rows: BreakdownRow[];
}

function meanOf(tasks: readonly TaskScore[]): BreakdownValue {
  const score = tasks.reduce((a, t) => a + t.score, 0) / tasks.length;
  const stderr = Math.sqrt(tasks.reduce((a, t) => a + t.stderr ** 2, 0)) / tasks.length;
  return { score, stderr, n: tasks.reduce((a, t) => a + t.n, 0) };
}

/** MMLU's subject → category map and the order to list categories in. */
export interface CategoryMap {
  subjectCategory: Readonly<Record<string, string>>;
  order: readonly string[];
}

const UNCATEGORISED = 'uncategorised';

export function buildBreakdown(table: ReportTable, mmluCategories: CategoryMap | null = null): BreakdownTable[] {
  const out: BreakdownTable[] = [];
  for (const column of table.columns) {
    const rows = table.rows.filter((r) => !r.reference && r.records[column.id]);
    if (rows.length === 0) continue;
    const records = rows.map((r) => r.records[column.id]!);
    const taskNames = [...new Set(records.flatMap((r) => Object.keys(r.result.tasks)))].sort();
    const inAverage = (task: string) => records.some((r) => r.result.averageTasks.includes(task));
    const taskRow = (task: string): BreakdownRow => ({
      label: task,
      level: 2,
      inAverage: inAverage(task),
      values: records.map((r) => {
        const t = r.result.tasks[task];
        return t ? { score: t.score, stderr: t.stderr, n: t.n } : null;
      }),
    });
    const body: BreakdownRow[] = [
      {
        label: 'average',
        level: 0,
        inAverage: true,
        values: records.map((r) => ({ score: r.result.score, stderr: r.result.stderr, n: r.n })),
      },
    ];
    if (column.benchmark === 'mmlu' && mmluCategories) {
      const categoryOf = (t: string) => (Object.hasOwn(mmluCategories.subjectCategory, t) ? mmluCategories.subjectCategory[t]! : UNCATEGORISED);
      const rank = (c: string) => (mmluCategories.order.includes(c) ? mmluCategories.order.indexOf(c) : mmluCategories.order.length);
      const categories = [...new Set(taskNames.map(categoryOf))].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
      for (const category of categories) {
        const members = taskNames.filter((t) => categoryOf(t) === category);
        body.push({
          label: category,
          level: 1,
          inAverage: true,
          values: records.map((r) => {
            const scores = members.map((t) => r.result.tasks[t]).filter((t): t is TaskScore => t !== undefined);
            return scores.length ? meanOf(scores) : null;
          }),
        });
        body.push(...members.map(taskRow));
      }
    } else {
      body.push(...taskNames.map(taskRow));
    }
    out.push({ column, models: rows.map((r) => r.label), rows: body });
    // Secondary metrics (TyDiQA's F1, docs/protocol.md §4 "report F1 too") get a table of their own, same rows.
    const metricNames = [...new Set(records.flatMap((r) => Object.keys(r.result.metrics ?? {})))].sort();
    for (const metric of metricNames) {
      const metricRow = (label: string, level: 0 | 2, pick: (r: (typeof records)[number]) => number | undefined, inAvg: boolean): BreakdownRow => ({
        label,
        level,
        inAverage: inAvg,
        values: records.map((r) => {
          const v = pick(r);
          return v === undefined ? null : { score: v, stderr: null, n: null };
        }),
      });
      out.push({
        column: { ...column, id: `${column.id}_${metric}`, label: `${column.label} ${metric.toUpperCase()}` },
        models: rows.map((r) => r.label),
        rows: [
          metricRow('average', 0, (r) => r.result.metrics?.[metric], true),
          ...taskNames.map((t) => metricRow(t, 2, (r) => r.result.tasks[t]?.metrics?.[metric], inAverage(t))),
        ],
      });
    }
  }
  return out;
}
