import type { BreakdownTable } from '../breakdown.js';
import type { Cell, Row } from '../table.js';
import { breakdownLabel, breakdownTitle, fixed1, headerLabels, leadCells, rowValues, tableNotes, type RenderInput } from './common.js';

/**
 * A booktabs `tabular` to paste into a paper (`\usepackage{booktabs}`): \toprule/\midrule/\bottomrule,
 * no vertical rules; rows stay in size order, so the paper's rows sit next to ours. Minus signs are typeset as `$-$`; the notes follow as LaTeX comments so the table compiles as is.
 */

const SPECIAL: Record<string, string> = {
  '\\': '\\textbackslash{}',
  '&': '\\&',
  '%': '\\%',
  $: '\\$',
  '#': '\\#',
  _: '\\_',
  '{': '\\{',
  '}': '\\}',
  '~': '\\textasciitilde{}',
  '^': '\\textasciicircum{}',
};

export function latexEscape(text: string): string {
  return text.replace(/[\\&%$#_{}~^]/g, (ch) => SPECIAL[ch]!);
}

function num(x: number): string {
  const s = fixed1(x);
  return s.startsWith('-') ? `$-$${s.slice(1)}` : s;
}

function scoreText(value: number, stderr: number | null, withStderr: boolean): string {
  return withStderr && stderr !== null ? `${num(value)} $\\pm$ ${fixed1(stderr)}` : num(value);
}

function cellText(cell: Cell | undefined, withStderr: boolean): string {
  if (!cell) return '--';
  return scoreText(cell.score, cell.stderr, withStderr) + (cell.partial ? '$^{*}$' : '');
}

function normText(norm: Row['normAvg'], withStderr: boolean): string {
  return norm ? scoreText(norm.value, norm.stderr, withStderr) + (norm.partial ? '$^{*}$' : '') : '--';
}

function tabular(header: string[], rows: string[][], spec: string): string[] {
  return [
    `\\begin{tabular}{${spec}}`,
    '\\toprule',
    `${header.join(' & ')} \\\\`,
    '\\midrule',
    ...rows.map((r) => `${r.join(' & ')} \\\\`),
    '\\bottomrule',
    '\\end{tabular}',
  ];
}

function breakdownLatex(b: BreakdownTable, withStderr: boolean): string[] {
  const header = ['Task', ...b.models.map(latexEscape)];
  const rows = b.rows.map((r) => {
    const label = latexEscape(breakdownLabel(r.label, r.level, r.inAverage, ''));
    return [
      r.level === 0 ? `\\textbf{${label}}` : r.level === 1 ? `\\textit{${label}}` : `\\quad ${label}`,
      ...r.values.map((v) => (v ? scoreText(v.score, v.stderr, withStderr) : '--')),
    ];
  });
  return ['', `% ${breakdownTitle(b.column)}`, ...tabular(header, rows, `l${'r'.repeat(b.models.length)}`)];
}

export function renderLatex({ table, breakdown, stderr }: RenderInput): string {
  const header = headerLabels(table).map(latexEscape);
  const rows = table.rows.map((row) => {
    const { cells, norm } = rowValues(table, row);
    return [
      ...leadCells(table, row).map(latexEscape),
      ...cells.map((c) => cellText(c, stderr)),
      ...(table.showNormAvg ? [normText(norm, stderr)] : []),
    ];
  });
  const lines = [
    '% flan-eval report; needs \\usepackage{booktabs}',
    ...tabular(header, rows, `lr${table.showArch ? 'l' : ''}${'r'.repeat(header.length - (table.showArch ? 3 : 2))}`),
    ...tableNotes(table, stderr).map((n) => `% ${n}`),
  ];
  for (const b of breakdown ?? []) lines.push(...breakdownLatex(b, stderr));
  return `${lines.join('\n')}\n`;
}
