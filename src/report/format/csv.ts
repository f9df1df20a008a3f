import { stringify } from 'csv-stringify/sync';
import { archText, type RenderInput } from './common.js';

/**
 * CSV for spreadsheets and scripts: one row per model, one column per benchmark × format named by its
 * stable id (`mmlu_direct` … as in data/flan-t5-paper-table5.csv), numbers rounded to 2 decimals, empty
 * where a model has no score. `source` is `ours` or the reference name. `partial` lists the columns whose
 * number does not cover the whole benchmark.
 *
 * With `--breakdown` a second table follows after one empty line, in long form: one row per model ×
 * column × task (`task` empty for the headline average, `category` set for MMLU category rows).
 */

function round2(x: number | null | undefined): number | '' {
  return x === null || x === undefined ? '' : Math.round(x * 100) / 100 + 0;
}

export function renderCsv({ table, breakdown, stderr }: RenderInput): string {
  const header = ['model', 'params', 'params_label', ...(table.showArch ? ['arch'] : []), 'source'];
  // A column's clustered error gets its own CSV column when some row has one.
  const clustered = new Set(table.columns.filter((c) => stderr && table.rows.some((r) => r.cells[c.id]?.clustered)).map((c) => c.id));
  for (const c of table.columns) header.push(c.id, ...(stderr ? [`${c.id}_stderr`] : []), ...(clustered.has(c.id) ? [`${c.id}_stderr_clustered`] : []));
  if (table.showNormAvg) header.push('norm_avg', ...(stderr ? ['norm_avg_stderr'] : []));
  header.push('partial');
  const rows = table.rows.map((row) => {
    const out: (string | number)[] = [row.label, row.params ?? '', row.paramsLabel, ...(table.showArch ? [archText(row)] : []), row.reference ? (table.reference ?? 'reference') : 'ours'];
    for (const c of table.columns) {
      const cell = row.cells[c.id];
      out.push(round2(cell?.score));
      if (stderr) out.push(round2(cell?.stderr));
      if (clustered.has(c.id)) out.push(round2(cell?.clustered?.stderr));
    }
    if (table.showNormAvg) {
      out.push(round2(row.normAvg?.value));
      if (stderr) out.push(round2(row.normAvg?.stderr));
    }
    out.push(table.columns.filter((c) => row.cells[c.id]?.partial).map((c) => c.id).join(' '));
    return out;
  });
  let text = stringify([header, ...rows]);
  if (breakdown && breakdown.length) {
    const long: (string | number)[][] = [['model', 'column', 'category', 'task', 'in_average', 'n', 'score', 'stderr']];
    for (const b of breakdown) {
      let category = '';
      for (const r of b.rows) {
        if (r.level === 1) category = r.label;
        r.values.forEach((v, i) => {
          if (!v) return;
          long.push([
            b.models[i]!,
            b.column.id,
            r.level === 0 ? '' : category,
            r.level === 2 ? r.label : '',
            r.inAverage ? 'yes' : 'no',
            v.n ?? '',
            round2(v.score),
            round2(v.stderr),
          ]);
        });
      }
    }
    text += `\n${stringify(long)}`;
  }
  return text;
}
