import type { BreakdownTable } from '../breakdown.js';
import { BENCHMARK_LABELS, type Column } from '../columns.js';
import type { Cell, ReportTable, Row } from '../table.js';
import { bestCells, breakdownLabel, breakdownTitle, clusteredText, fixed1, leadCells, PARTIAL_MARK, rowValues, tableNotes, type RenderInput } from './common.js';

/**
 * A `table` float laid out like Table 5 of the Flan-T5 paper, to \input into a paper that loads booktabs
 * (nothing else): a two-level header (each benchmark over its Direct/CoT columns, with \cmidrule under the
 * benchmark), \toprule/\midrule/\bottomrule and no vertical rules, our rows first and then each reference
 * family (T5, Flan-T5) in a block of its own under a \midrule, as the paper groups its rows; the best
 * whole-benchmark number of each column in bold; the notes as a footnote-sized paragraph under the table.
 * Minus signs are typeset as `$-$`, and the notes' Unicode (·, −, ±) as math, so pdflatex needs no
 * Unicode set-up.
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

/** Characters of our notes and labels that pdflatex's default input encoding does not know. */
const UNICODE: Record<string, string> = {
  '−': '$-$',
  '·': '$\\cdot$',
  '±': '$\\pm$',
  '×': '$\\times$',
  '→': '$\\to$',
  '≤': '$\\leq$',
  '≥': '$\\geq$',
  '√': '$\\surd$',
  '–': '--',
  '—': '---',
  '…': '\\ldots{}',
};

export function latexEscape(text: string): string {
  return text
    .replace(/[\\&%$#_{}~^]/g, (ch) => SPECIAL[ch]!)
    .replace(/[−·±×→≤≥√–—…]/g, (ch) => UNICODE[ch]!)
    .replace(/"([^"]*)"/g, "``$1''");
}

function num(x: number): string {
  const s = fixed1(x);
  return s.startsWith('-') ? `$-$${s.slice(1)}` : s;
}

function scoreText(value: number, stderr: number | null, withStderr: boolean, bold = false, mark = '', clustered = ''): string {
  const v = (bold ? `\\textbf{${num(value)}}` : num(value)) + mark;
  // The error in a smaller size, as papers set it, so that --stderr does not double the table's width.
  return withStderr && stderr !== null ? `${v}\\,{\\scriptsize$\\pm$${fixed1(stderr)}${clustered}}` : v;
}

const MARK = `$^{${PARTIAL_MARK}}$`;

const BOLD_NOTE = 'Bold: the best number in its column among whole-benchmark numbers (ties at one decimal all bold).';

function cellText(cell: Cell | undefined, withStderr: boolean, bold: boolean): string {
  if (!cell) return '--';
  return scoreText(cell.score, cell.stderr, withStderr, bold, cell.partial ? MARK : '', clusteredText(cell, withStderr));
}

function normText(norm: Row['normAvg'], withStderr: boolean, bold: boolean): string {
  return norm ? scoreText(norm.value, norm.stderr, withStderr, bold, norm.partial ? MARK : '') : '--';
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

/**
 * The columns before the scores, left to right (their cells are `leadCells` in common.ts, in the same
 * order): the header, the \\cmidrule positions and the column spec follow from this list.
 */
function leadColumns(table: ReportTable): readonly { header: string; align: 'l' | 'r' }[] {
  return [{ header: 'Model', align: 'l' }, { header: 'Params', align: 'r' }, ...(table.showArch ? [{ header: 'Arch', align: 'l' as const }] : [])];
}

/** `MMLU direct 0-shot` under the MMLU group → `Direct 0-shot`. */
function subLabel(col: Column): string {
  const rest = col.label.slice(BENCHMARK_LABELS[col.benchmark].length).trim();
  return rest.charAt(0).toUpperCase() + rest.slice(1);
}

/** The two header rows: runs of adjacent columns of one benchmark share a \\multicolumn with a \\cmidrule under it. */
function headerRows(table: ReportTable): string[] {
  const leads = leadColumns(table);
  const lead = leads.length;
  const top: string[] = leads.map(() => '');
  const rules: string[] = [];
  for (let i = 0; i < table.columns.length; ) {
    const benchmark = table.columns[i]!.benchmark;
    let j = i;
    while (j < table.columns.length && table.columns[j]!.benchmark === benchmark) j++;
    top.push(`\\multicolumn{${j - i}}{c}{${BENCHMARK_LABELS[benchmark]}}`);
    rules.push(`\\cmidrule(lr){${lead + i + 1}-${lead + j}}`);
    i = j;
  }
  if (table.showNormAvg) top.push('');
  const bottom = [...leads.map((c) => c.header), ...table.columns.map(subLabel), ...(table.showNormAvg ? ['Norm. avg.'] : [])];
  return [`${top.join(' & ')} \\\\`, rules.join(' '), `${bottom.map(latexEscape).join(' & ')} \\\\`];
}

/** Our rows in one block, then each reference family in its own, in the order the reference lists them. */
function rowBlocks(table: ReportTable): Row[][] {
  const blocks = new Map<string, Row[]>();
  blocks.set('', table.rows.filter((r) => !r.reference));
  for (const row of table.rows.filter((r) => r.reference)) blocks.set(row.family, [...(blocks.get(row.family) ?? []), row]);
  return [...blocks.values()].filter((b) => b.length > 0);
}

/** The notes as typeset text: the partial mark as a superscript, as in the table. */
function noteText(note: string): string {
  return note.startsWith(`${PARTIAL_MARK} `) ? `${MARK}\\,${latexEscape(note.slice(2))}` : latexEscape(note);
}

export function renderLatex({ table, breakdown, stderr, caption }: RenderInput): string {
  const best = bestCells(table);
  const bodyRow = (row: Row): string => {
    const { cells, norm } = rowValues(table, row);
    const texts = [
      ...leadCells(table, row).map(latexEscape),
      ...cells.map((c, i) => cellText(c, stderr, best.has(row, table.columns[i]!.id))),
      ...(table.showNormAvg ? [normText(norm, stderr, best.has(row, null))] : []),
    ];
    return `${texts.join(' & ')} \\\\`;
  };
  const spec = [...leadColumns(table).map((c) => c.align), ...table.columns.map(() => 'r'), ...(table.showNormAvg ? ['r'] : [])].join('');
  const blocks = rowBlocks(table).map((b) => b.map(bodyRow));
  const notes = [...tableNotes(table, stderr), BOLD_NOTE];
  const lines = [
    '% flan-eval report; needs \\usepackage{booktabs}',
    '\\begin{table*}[t]',
    '\\centering',
    // Table 5's size: a paper's tables are set smaller than its text, and with tighter columns 8 numbers fit.
    '\\small',
    '\\setlength{\\tabcolsep}{4pt}',
    ...(caption ? [`\\caption{${caption}}`] : []),
    `\\begin{tabular}{${spec}}`,
    '\\toprule',
    ...headerRows(table),
    '\\midrule',
    ...blocks.flatMap((b, i) => (i === 0 ? b : ['\\midrule', ...b])),
    '\\bottomrule',
    '\\end{tabular}',
    '',
    '\\smallskip',
    '{\\footnotesize\\raggedright',
    ...notes.map((n) => `${noteText(n)}\\par`),
    '}',
    '\\end{table*}',
  ];
  for (const b of breakdown ?? []) lines.push(...breakdownLatex(b, stderr));
  return `${lines.join('\n')}\n`;
}

