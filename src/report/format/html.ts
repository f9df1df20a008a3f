import type { BreakdownTable } from '../breakdown.js';
import type { Cell, Row } from '../table.js';
import { breakdownTitle, clusteredText, fixed1, headerLabels, leadCells, PARTIAL_MARK, rowValues, tableNotes, type RenderInput } from './common.js';

/**
 * One self-contained HTML page: inline CSS, the scaling plot's SVG inlined, no scripts and no external
 * requests, so it can be uploaded as a CI artifact and opened anywhere.
 */

export function htmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

const CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; margin: 2rem auto; max-width: 1280px; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .25rem; }
p.meta { color: #59636e; margin-top: 0; }
table { border-collapse: collapse; margin: .75rem 0; font-variant-numeric: tabular-nums; }
th, td { padding: .3rem .6rem; text-align: right; white-space: nowrap; }
thead th { white-space: normal; min-width: 4.5em; }
th:first-child, td:first-child { text-align: left; }
thead th { border-top: 2px solid #1f2328; border-bottom: 1px solid #1f2328; vertical-align: bottom; }
tbody tr:last-child td { border-bottom: 2px solid #1f2328; }
tr.reference td { color: #59636e; font-style: italic; }
tr.level0 td { font-weight: 600; }
tr.level1 td { font-style: italic; background: #f6f8fa; }
tr.level2 td:first-child { padding-left: 1.6rem; }
tr.out td { color: #59636e; }
td.norm, th.norm { border-left: 1px solid #d0d7de; font-weight: 600; }
td.none { color: #8c959f; }
.se { color: #59636e; font-size: .85em; }
ul.notes { color: #424a53; font-size: .9em; padding-left: 1.2rem; }
div.scroll { overflow-x: auto; }
table.main td .se { display: block; line-height: 1.1; }
figure { margin: 1rem 0; }
figure svg { max-width: 100%; height: auto; }
`;

function scoreHtml(value: number, stderr: number | null, withStderr: boolean): string {
  return withStderr && stderr !== null ? `${fixed1(value)}<span class="se"> ± ${fixed1(stderr)}</span>` : fixed1(value);
}

function cellHtml(cell: Cell | undefined, withStderr: boolean, cls = ''): string {
  const c = cls ? ` class="${cls}"` : '';
  if (!cell) return `<td class="none${cls ? ` ${cls}` : ''}">–</td>`;
  const title = cell.n !== null ? ` title="n = ${cell.n}${cell.partial ? `; ${htmlEscape(cell.partial)}` : ''}"` : '';
  const mark = cell.partial ? PARTIAL_MARK : '';
  const se = withStderr && cell.stderr !== null ? `<span class="se">± ${fixed1(cell.stderr)}${htmlEscape(clusteredText(cell, withStderr))}</span>` : '';
  return `<td${c}${title}>${fixed1(cell.score)}${mark}${se}</td>`;
}

function normHtml(norm: Row['normAvg'], withStderr: boolean): string {
  if (!norm) return '<td class="none norm">–</td>';
  const se = withStderr && norm.stderr !== null ? `<span class="se">± ${fixed1(norm.stderr)}</span>` : '';
  return `<td class="norm">${fixed1(norm.value)}${norm.partial ? PARTIAL_MARK : ''}${se}</td>`;
}

function breakdownHtml(b: BreakdownTable, withStderr: boolean): string {
  const head = `<tr><th>Task</th>${b.models.map((m) => `<th>${htmlEscape(m)}</th>`).join('')}</tr>`;
  const body = b.rows
    .map((r) => {
      const cls = [`level${r.level}`, ...(r.inAverage ? [] : ['out'])].join(' ');
      const label = htmlEscape(r.label) + (r.inAverage ? '' : ' <span class="se">(not in average)</span>');
      const cells = r.values.map((v) => (v ? `<td${v.n !== null ? ` title="n = ${v.n}"` : ''}>${scoreHtml(v.score, v.stderr, withStderr)}</td>` : '<td class="none">–</td>'));
      return `<tr class="${cls}"><td>${label}</td>${cells.join('')}</tr>`;
    })
    .join('\n');
  return `<h2>${htmlEscape(breakdownTitle(b.column))}</h2>\n<div class="scroll"><table>\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table></div>`;
}

export function renderHtml({ table, breakdown, stderr, plotSvg }: RenderInput): string {
  const header = headerLabels(table);
  const head = `<tr>${header.map((h, i) => `<th${table.showNormAvg && i === header.length - 1 ? ' class="norm"' : ''}>${htmlEscape(h)}</th>`).join('')}</tr>`;
  const body = table.rows
    .map((row) => {
      const { cells, norm } = rowValues(table, row);
      const tds = [...leadCells(table, row).map((t) => `<td>${htmlEscape(t)}</td>`), ...cells.map((c) => cellHtml(c, stderr))];
      if (table.showNormAvg) tds.push(normHtml(norm, stderr));
      return `<tr${row.reference ? ' class="reference"' : ''}>${tds.join('')}</tr>`;
    })
    .join('\n');
  const notes = tableNotes(table, stderr);
  const parts = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>flan-eval report</title>',
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    '<h1>flan-eval report</h1>',
    `<p class="meta">${table.rows.filter((r) => !r.reference).length} model(s), ${table.columns.length} benchmark × format column(s)${table.reference ? `, with the published rows of ${htmlEscape(table.reference)}` : ''}.</p>`,
    `<div class="scroll"><table class="main">\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table></div>`,
    `<ul class="notes">\n${notes.map((n) => `<li>${htmlEscape(n)}</li>`).join('\n')}\n</ul>`,
  ];
  if (plotSvg) parts.push('<h2>Scaling</h2>', `<figure>\n${plotSvg}\n</figure>`);
  for (const b of breakdown ?? []) parts.push(breakdownHtml(b, stderr));
  parts.push('</body>', '</html>');
  return `${parts.join('\n')}\n`;
}
