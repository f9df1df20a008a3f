import { textWidth } from './fontMetrics.js';
import { formatParams, familyLabel, type ReportTable, type Row } from './table.js';

/**
 * The scaling plot, drawn like Figure 4 of the Flan-T5 paper: score against parameter count on a log
 * axis, one line per model family, every model size labelled on the axis. Ours are solid and in colour,
 * the paper's dashed (Flan-T5) and dotted (T5) in grey so they read as reference. Each of our points has
 * a ±1 standard-error bar (the paper publishes none); a point from a partial run (`--limit`, a task
 * subset, a shard, failures) is hollow.
 *
 * Two layouts (`--plot-layout`):
 * - `single` (the default when some row has a Norm. avg.): one panel of the normalised average, sized for
 *   a paper's column (about 330 px wide with 11 px text, so text is ~8 pt when set 3.3 in wide);
 * - `grid`: one panel per report column plus the normalised average, three to a row, each with its own
 *   y scale so MGSM's 0–5 stays readable next to MMLU's 25–55.
 *
 * Rendered to SVG server-side with vega-lite → vega (no browser, no canvas), so a report is one
 * self-contained file; `png.ts` rasterises that SVG.
 */

export const PLOT_LAYOUTS = ['single', 'grid'] as const;
export type PlotLayout = (typeof PLOT_LAYOUTS)[number];

export interface PlotPoint {
  /** From the run records (or the paper's size label), never from the model's name. */
  params: number;
  score: number;
  /** Score ± one standard error, or null where there is none (the paper's rows). */
  lo: number | null;
  hi: number | null;
  /** Panel: a column label, or `Norm. avg.`. */
  panel: string;
  /** Legend entry: the family's name as the table writes it (`familyLabel`). */
  family: string;
  model: string;
  /** Drawn hollow: not a whole-benchmark number. */
  partial: boolean;
}

export const NORM_PANEL = 'Norm. avg.';

/** Sizes closer than this ratio share one axis label (our 77M next to the paper's 80M: `77M/80M`). */
const SAME_SIZE = 1.2;

const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';
const LABEL_SIZE = 11;
const TITLE_SIZE = 12;

const SOLID: number[] = [1, 0];
const REFERENCE_DASHES: number[][] = [
  [6, 4],
  [2, 3],
  [8, 3, 2, 3],
];
const REFERENCE_GREYS = ['#6e7781', '#a8b1bb', '#8c959f'];
const OUR_COLOURS = ['#0969da', '#cf222e', '#1a7f37', '#8250df', '#bf8700', '#1b7c83', '#e16f24', '#bf3989'];

interface Geometry {
  width: number;
  height: number;
}
const GEOMETRY: Record<PlotLayout, Geometry> = { single: { width: 270, height: 200 }, grid: { width: 220, height: 150 } };
/** Pixels between the plot's edge and the smallest and largest size (vega-lite's scale padding). */
const X_PADDING = 12;

/** The legend name of each family, from the labels of its rows in size order. */
function familyNames(table: ReportTable): Map<string, string> {
  const members = new Map<string, string[]>();
  for (const row of table.rows) if (row.params !== null) members.set(row.family, [...(members.get(row.family) ?? []), row.label]);
  return new Map([...members].map(([family, labels]) => [family, familyLabel(labels)]));
}

function point(row: Row, names: Map<string, string>, panel: string, score: number, stderr: number | null, partial: boolean): PlotPoint {
  return {
    params: row.params!,
    score,
    lo: stderr === null ? null : score - stderr,
    hi: stderr === null ? null : score + stderr,
    panel,
    family: names.get(row.family)!,
    model: row.label,
    partial,
  };
}

export function plotPoints(table: ReportTable): PlotPoint[] {
  const names = familyNames(table);
  const points: PlotPoint[] = [];
  for (const row of table.rows) {
    if (row.params === null) continue;
    for (const col of table.columns) {
      const cell = row.cells[col.id];
      if (cell) points.push(point(row, names, col.label, cell.score, cell.stderr, cell.partial !== null));
    }
    if (table.showNormAvg && row.normAvg) points.push(point(row, names, NORM_PANEL, row.normAvg.value, row.normAvg.stderr, row.normAvg.partial));
  }
  return points;
}

/** The layout a report gets without `--plot-layout`: the paper's one panel where there is a Norm. avg. */
export function defaultLayout(table: ReportTable): PlotLayout {
  return plotPoints(table).some((p) => p.panel === NORM_PANEL) ? 'single' : 'grid';
}

export interface SizeTicks {
  /** Every size present (a tick mark each). */
  values: number[];
  /** Size → label; sizes sharing a label with a neighbour map to '' (the group's first carries it). */
  labels: Map<number, string>;
  /** Label angle: 0, or -40 where horizontal labels would overlap at the panel's width. */
  angle: number;
}

/**
 * Pixels between two angled labels' anchors below which they would still overlap: at -40° a label's
 * neighbour is sin 40° × the gap away across the text, which must exceed the text's height.
 */
const MIN_ANGLED_GAP = (LABEL_SIZE * 1.1) / Math.sin((40 * Math.PI) / 180);

/**
 * A tick at every model size, each labelled in the table's style. Sizes within `SAME_SIZE` of each other
 * (the same model counted two ways: 77M measured, 80M published) share one label, `77M/80M`, and so do
 * sizes too close on the axis for even angled labels (the paper's PaLM 8B beside T5-XXL's 11B on an axis
 * that runs to 540B: `8B/11B`). If horizontal labels would touch at this width, they are set at an angle
 * rather than dropped.
 */
export function sizeTicks(params: readonly number[], width: number): SizeTicks {
  const values = [...new Set(params)].sort((a, b) => a - b);
  // Where vega puts each label: a log scale over [min, max], inset by the padding.
  const lo = Math.log(values[0]!);
  const span = Math.log(values[values.length - 1]!) - lo || 1;
  const x = (v: number) => X_PADDING + ((Math.log(v) - lo) / span) * (width - 2 * X_PADDING);
  const groups: number[][] = [];
  for (const v of values) {
    const last = groups[groups.length - 1];
    if (last && (v / last[0]! < SAME_SIZE || x(v) - x(last[last.length - 1]!) < MIN_ANGLED_GAP)) last.push(v);
    else groups.push([v]);
  }
  const labels = new Map<number, string>();
  for (const g of groups) {
    g.forEach((v) => labels.set(v, ''));
    labels.set(g[0]!, [...new Set(g.map((v) => formatParams(v)))].join('/'));
  }
  const half = (text: string) => textWidth(text, LABEL_SIZE) / 2;
  let overlap = false;
  for (let i = 1; i < groups.length; i++) {
    const a = groups[i - 1]![0]!;
    const b = groups[i]![0]!;
    if (x(b) - x(a) < half(labels.get(a)!) + half(labels.get(b)!) + 4) overlap = true;
  }
  return { values, labels, angle: overlap ? -40 : 0 };
}

/** A vega expression mapping each tick value to its label. */
function labelExpr(labels: Map<number, string>): string {
  return `${[...labels].map(([v, l]) => `datum.value === ${v} ? ${JSON.stringify(l)} : `).join('')}''`;
}

/** One panel: lines, error bars, then points on top (filled, or white with a coloured edge when partial). */
function panel(panelName: string, points: PlotPoint[], geometry: Geometry, withTitle: boolean, scales: Scales): Record<string, unknown> {
  const ticks = sizeTicks(
    points.filter((p) => p.panel === panelName).map((p) => p.params),
    geometry.width,
  );
  const x = {
    field: 'params',
    type: 'quantitative',
    scale: { type: 'log', nice: false, padding: X_PADDING },
    axis: {
      title: 'Parameters (log scale)',
      values: ticks.values,
      labelExpr: labelExpr(ticks.labels),
      labelOverlap: false,
      labelAngle: ticks.angle,
      ...(ticks.angle ? { labelAlign: 'right', labelBaseline: 'top' } : {}),
      grid: false,
    },
  };
  const isNorm = panelName === NORM_PANEL;
  const y = {
    field: 'score',
    type: 'quantitative',
    scale: { zero: false, nice: true },
    axis: { title: isNorm ? 'Normalised average' : 'Exact match (%)', tickCount: 5, format: '~r' },
  };
  const family = { field: 'family', type: 'nominal' };
  const color = { ...family, scale: { domain: scales.domain, range: scales.color }, legend: LEGEND };
  const strokeDash = { ...family, scale: { domain: scales.domain, range: scales.strokeDash }, legend: LEGEND };
  // One legend, from color and strokeDash (same field, same title: vega-lite merges them); the points'
  // fill and stroke have scales of their own, with the same colours, and no legend.
  const colourOnly = color;
  return {
    ...(withTitle ? { title: { text: panelName, fontSize: TITLE_SIZE, fontWeight: 'bold', anchor: 'middle' } } : {}),
    width: geometry.width,
    height: geometry.height,
    transform: [{ filter: { field: 'panel', equal: panelName } }],
    layer: [
      {
        mark: { type: 'line', strokeWidth: 1.8 },
        encoding: { x, y, color, strokeDash, order: { field: 'params', type: 'quantitative' } },
      },
      {
        transform: [{ filter: 'datum.lo !== null' }],
        mark: { type: 'errorbar', ticks: { size: 5 }, thickness: 1.2 },
        encoding: { x, y: { field: 'lo', type: 'quantitative', title: y.axis.title }, y2: { field: 'hi' }, color },
      },
      {
        mark: { type: 'point', filled: true, size: 42, strokeWidth: 1.5, opacity: 1 },
        encoding: {
          x,
          y,
          stroke: colourOnly,
          fill: { ...colourOnly, condition: { test: 'datum.partial', value: 'white' } },
          tooltip: [{ field: 'model' }, { field: 'panel' }, { field: 'score', format: '.1f' }],
        },
      },
    ],
  };
}

/** The vega-lite specification (exported for tests: it is plain data). */
export function scalingPlotSpec(table: ReportTable, layout: PlotLayout = defaultLayout(table)): Record<string, unknown> {
  const points = plotPoints(table);
  const panels = [...table.columns.map((c) => c.label), ...(table.showNormAvg ? [NORM_PANEL] : [])].filter((c) => points.some((p) => p.panel === c));
  const shown = layout === 'single' ? panels.filter((p) => p === NORM_PANEL) : panels;
  const names = familyNames(table);
  const referenceFamilies = new Set(table.rows.filter((r) => r.reference).map((r) => names.get(r.family)));
  const inPanels = points.filter((p) => shown.includes(p.panel));
  // Legend entries only for families drawn (a model without a Norm. avg. is not in the single panel).
  const families = [...new Set(inPanels.map((p) => p.family))];
  const ours = families.filter((f) => !referenceFamilies.has(f));
  // "Flan-T5 (paper)" before "T5 (paper)": the instruction-tuned curve is the one to compare with.
  const refs = families.filter((f) => referenceFamilies.has(f)).sort();
  const domain = [...ours, ...refs];
  const scales: Scales = {
    domain,
    color: [...ours.map((_, i) => OUR_COLOURS[i % OUR_COLOURS.length]!), ...refs.map((_, i) => REFERENCE_GREYS[i % REFERENCE_GREYS.length]!)],
    strokeDash: [...ours.map(() => SOLID), ...refs.map((_, i) => REFERENCE_DASHES[i % REFERENCE_DASHES.length]!)],
  };
  const key = [
    ...(inPanels.some((p) => p.lo !== null) ? [`Bars: ±1 standard error${refs.length ? ' (none published for the paper)' : ''}.`] : []),
    ...(inPanels.some((p) => p.partial) ? ['Hollow: a partial run (--limit, a task subset, a shard or failures).'] : []),
  ];
  const geometry = GEOMETRY[layout];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    padding: 8,
    config: {
      font: FONT,
      axis: { labelFontSize: LABEL_SIZE, titleFontSize: TITLE_SIZE, titleFontWeight: 'normal', labelColor: '#1f2328', titleColor: '#1f2328' },
      legend: { labelFontSize: LABEL_SIZE, titleFontSize: TITLE_SIZE, labelColor: '#1f2328' },
      title: { color: '#1f2328' },
      view: { stroke: '#d0d7de' },
    },
    ...(key.length ? { title: { text: key, orient: 'bottom', anchor: 'start', fontSize: LABEL_SIZE - 1, fontWeight: 'normal', color: '#59636e', offset: 10 } } : {}),
    data: { values: inPanels },
    ...(layout === 'single'
      ? panel(NORM_PANEL, inPanels, geometry, false, scales)
      : { columns: Math.min(3, shown.length), spacing: { row: 20, column: 24 }, concat: shown.map((p) => panel(p, inPanels, geometry, true, scales)) }),
  };
}

/** The fields of a vega text item that its width depends on. */
interface TextItem {
  fontSize?: number;
  fontWeight?: string | number;
}

interface Scales {
  domain: string[];
  color: string[];
  strokeDash: number[][];
}

const LEGEND = { title: null, orient: 'bottom', offset: 10, direction: 'vertical', labelLimit: 420, symbolType: 'stroke', symbolStrokeWidth: 2, symbolSize: 300 };

/** Render the plot as an SVG document, or null when no row has a known parameter count. */
export async function renderScalingPlot(table: ReportTable, layout: PlotLayout = defaultLayout(table)): Promise<string | null> {
  if (plotPoints(table).length === 0) return null;
  // Loaded on demand: vega is large, and most reports (md, csv) never draw.
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const spec = compile(scalingPlotSpec(table, layout) as never).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  // Lay text out with the real font's widths instead of vega's 0.8 em a character (see fontMetrics.ts).
  const metrics = (vega as unknown as { textMetrics: { width: (item: TextItem, text: unknown) => number } }).textMetrics;
  const guess = metrics.width;
  metrics.width = (item, text) => textWidth(String(text ?? '').trim(), item.fontSize ?? 11, item.fontWeight === 'bold' || Number(item.fontWeight) >= 600);
  try {
    return await view.toSVG();
  } finally {
    metrics.width = guess;
    view.finalize();
  }
}
