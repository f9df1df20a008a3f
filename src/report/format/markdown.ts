import type { BreakdownTable } from '../breakdown.js';
import type { Cell, Row } from '../table.js';
import { breakdownLabel, breakdownTitle, clusteredText, fixed1, headerLabels, leadCells, PARTIAL_MARK, rowValues, tableNotes, type RenderInput } from './common.js';

/**
 * GitHub-flavoured Markdown: readable as plain text in a terminal (columns padded) and rendered as a
 * table in a job summary or PR comment. Numbers are right-aligned.
 */

const NONE = '–';

/** `|` would end a cell; nothing else in our labels needs escaping. */
function esc(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function scoreText(value: number, stderr: number | null, withStderr: boolean): string {
  return withStderr && stderr !== null ? `${fixed1(value)} ± ${fixed1(stderr)}` : fixed1(value);
}

function cellText(cell: Cell | undefined, withStderr: boolean): string {
  if (!cell) return NONE;
  return scoreText(cell.score, cell.stderr, withStderr) + clusteredText(cell, withStderr) + (cell.partial ? PARTIAL_MARK : '');
}

function normText(norm: Row['normAvg'], withStderr: boolean): string {
  return norm ? scoreText(norm.value, norm.stderr, withStderr) + (norm.partial ? PARTIAL_MARK : '') : NONE;
}

/** A padded pipe table; `align[i]` is 'l' or 'r'. */
export function pipeTable(header: string[], rows: string[][], align: ('l' | 'r')[]): string {
  const cols = header.map((h, i) => Math.max(3, h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (align[i] === 'r' ? c.padStart(cols[i]!) : c.padEnd(cols[i]!))).join(' | ')} |`;
  const rule = `| ${cols.map((w, i) => (align[i] === 'r' ? `${'-'.repeat(w - 1)}:` : `:${'-'.repeat(w - 1)}`)).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

function breakdownMarkdown(b: BreakdownTable, withStderr: boolean): string {
  const header = ['Task', ...b.models.map(esc)];
  const rows = b.rows.map((r) => [
    esc(breakdownLabel(r.level === 0 ? `**${r.label}**` : r.level === 1 ? `*${r.label}*` : r.label, r.level, r.inAverage, '')),
    ...r.values.map((v) => (v ? scoreText(v.score, v.stderr, withStderr) : NONE)),
  ]);
  return `### ${breakdownTitle(b.column)}\n\n${pipeTable(header, rows, ['l', ...b.models.map(() => 'r' as const)])}`;
}

export function renderMarkdown({ table, breakdown, stderr }: RenderInput): string {
  const header = headerLabels(table).map(esc);
  const rows = table.rows.map((row) => {
    const { cells, norm } = rowValues(table, row);
    return [
      ...leadCells(table, row).map(esc),
      ...cells.map((c) => cellText(c, stderr)),
      ...(table.showNormAvg ? [normText(norm, stderr)] : []),
    ];
  });
  const align = header.map((_, i) => (i === 0 || (table.showArch && i === 2) ? 'l' : 'r') as 'l' | 'r');
  const parts = [pipeTable(header, rows, align), tableNotes(table, stderr).map((n) => `- ${esc(n).replace(/^\*/, '\\*')}`).join('\n')];
  for (const b of breakdown ?? []) parts.push(breakdownMarkdown(b, stderr));
  return `${parts.join('\n\n')}\n`;
}
