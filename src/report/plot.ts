import type { ReportTable } from './table.js';

/**
 * The scaling plot: score against parameter count (log x), one small panel per report column (the
 * normalised average last), one line per model family in each: ours solid and in colour, the paper's
 * dashed (Flan-T5) and dotted (T5) in grey so they read as reference. One panel per column rather than
 * all columns in one frame: with the paper's two families there would be 20+ crossing lines, and
 * independent y scales keep MGSM's 0–5 range readable next to MMLU's 25–55. Rendered to SVG server-side
 * with vega-lite → vega (no browser, no canvas: vega estimates text widths), so a report is one
 * self-contained file.
 */

interface Point {
  params: number;
  score: number;
  column: string;
  family: string;
  model: string;
}

const SOLID: number[] = [1, 0];
const REFERENCE_DASHES: number[][] = [
  [6, 4],
  [2, 3],
  [8, 3, 2, 3],
];
const REFERENCE_GREYS = ['#6e7781', '#a8b1bb', '#8c959f'];
const OUR_COLOURS = ['#0969da', '#cf222e', '#1a7f37', '#8250df', '#bf8700', '#1b7c83', '#e16f24', '#bf3989'];

export function plotPoints(table: ReportTable): Point[] {
  const points: Point[] = [];
  for (const row of table.rows) {
    if (row.params === null) continue;
    for (const col of table.columns) {
      const cell = row.cells[col.id];
      if (cell) points.push({ params: row.params, score: cell.score, column: col.label, family: row.family, model: row.label });
    }
    if (table.showNormAvg && row.normAvg) points.push({ params: row.params, score: row.normAvg.value, column: 'Norm. avg.', family: row.family, model: row.label });
  }
  return points;
}

/** The vega-lite specification (exported for tests: it is plain data). */
export function scalingPlotSpec(table: ReportTable): Record<string, unknown> {
  const points = plotPoints(table);
  const columns = [...table.columns.map((c) => c.label), ...(table.showNormAvg ? ['Norm. avg.'] : [])].filter((c) => points.some((p) => p.column === c));
  const families = [...new Set(table.rows.filter((r) => r.params !== null).map((r) => r.family))];
  const referenceFamilies = new Set(table.rows.filter((r) => r.reference).map((r) => r.family));
  const ours = families.filter((f) => !referenceFamilies.has(f));
  // "Flan-T5 (paper)" before "T5 (paper)": the instruction-tuned curve is the one to compare with.
  const refs = families.filter((f) => referenceFamilies.has(f)).sort();
  const domain = [...ours, ...refs];
  const colours = [...ours.map((_, i) => OUR_COLOURS[i % OUR_COLOURS.length]!), ...refs.map((_, i) => REFERENCE_GREYS[i % REFERENCE_GREYS.length]!)];
  const dashes = [...ours.map(() => SOLID), ...refs.map((_, i) => REFERENCE_DASHES[i % REFERENCE_DASHES.length]!)];
  // Ticks at the sizes present, but not two so close that their labels collide (our 77M next to the paper's 80M).
  const ticks: number[] = [];
  for (const v of [...new Set(points.map((p) => p.params))].sort((a, b) => a - b)) if (!ticks.length || v / ticks[ticks.length - 1]! >= 1.5) ticks.push(v);
  const legend = { title: 'Models', orient: 'bottom', direction: 'vertical', labelLimit: 400, symbolType: 'stroke', symbolStrokeWidth: 2, symbolSize: 400 };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Score vs. model size', anchor: 'start', fontSize: 15 },
    background: 'white',
    data: { values: points },
    facet: { field: 'column', type: 'nominal', sort: columns, header: { title: null, labelFontSize: 12, labelFontWeight: 'bold' } },
    columns: Math.min(4, columns.length),
    spacing: { row: 24, column: 18 },
    resolve: { scale: { y: 'independent' }, axis: { x: 'independent' } },
    spec: {
      width: 210,
      height: 150,
      mark: { type: 'line', point: { filled: true, size: 28 }, strokeWidth: 1.8 },
      encoding: {
        x: {
          field: 'params',
          type: 'quantitative',
          scale: { type: 'log', nice: false, padding: 10 },
          axis: {
            title: 'Parameters (log scale)',
            values: ticks,
            // The table's labels: two significant digits with K/M/B.
            labelExpr:
              "datum.value >= 1e9 ? format(datum.value / 1e9, '.2~r') + 'B' : datum.value >= 1e6 ? format(datum.value / 1e6, '.2~r') + 'M' : format(datum.value / 1e3, '.2~r') + 'K'",
            labelOverlap: 'greedy',
            grid: false,
          },
        },
        y: { field: 'score', type: 'quantitative', scale: { zero: false }, axis: { title: 'Score (%)', tickCount: 5, format: '.3~r' } },
        color: { field: 'family', type: 'nominal', scale: { domain, range: colours }, legend },
        strokeDash: { field: 'family', type: 'nominal', scale: { domain, range: dashes }, legend },
        order: { field: 'params', type: 'quantitative' },
        tooltip: [{ field: 'model' }, { field: 'column' }, { field: 'score', format: '.1f' }],
      },
    },
  };
}

/** Render the plot as an SVG document, or null when no row has a known parameter count. */
export async function renderScalingPlot(table: ReportTable): Promise<string | null> {
  if (plotPoints(table).length === 0) return null;
  // Loaded on demand: vega is large, and most reports (md, csv) never draw.
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const spec = compile(scalingPlotSpec(table) as never).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
