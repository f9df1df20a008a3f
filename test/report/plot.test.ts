import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Resvg } from '@resvg/resvg-js';
import { plotFontFiles, textWidth } from '../../src/report/fontMetrics.js';
import { plotPoints, renderScalingPlot, scalingPlotSpec, sizeTicks } from '../../src/report/plot.js';
import { svgToPng } from '../../src/report/png.js';
import { buildReportTable, familyLabel } from '../../src/report/table.js';
import { loadRunRecords } from '../../src/results/read.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { writeRun } from './records-helper.js';

/**
 * The scaling plot (Figure 4 of the Flan-T5 paper): what is drawn is checked on the vega-lite spec and
 * on the SVG vega renders (its marks carry their data in aria-labels), against numbers worked out by
 * hand from the fixture records (report-golden.test.ts has the arithmetic). The PNG is checked for being
 * a PNG of the right size whose text was drawn with the shipped font.
 */

const SUITE = 'test/fixtures/records/paper-suite';

async function suiteTable() {
  return buildReportTable(await loadRunRecords([SUITE]), { reference: 'flan-t5-paper' });
}

/** The SVG's point marks: aria-label fields and fill. */
function svgPoints(svg: string): { label: Record<string, string>; fill: string }[] {
  return [...svg.matchAll(/<path aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="point"[^>]* fill="([^"]*)"/g)].map((m) => ({
    label: Object.fromEntries(m[1]!.split('; ').map((kv) => kv.split(': ') as [string, string])),
    fill: m[2]!,
  }));
}

describe('scaling plot', () => {
  test('every model size gets a label; the same size counted two ways shares one (77M/80M)', () => {
    const sizes = [76_961_152, 8e7, 247_577_856, 2.5e8, 7.8e8, 3e9, 11e9];
    const ticks = sizeTicks(sizes, 270);
    assert.deepEqual(ticks.values, [76_961_152, 8e7, 247_577_856, 2.5e8, 7.8e8, 3e9, 11e9]);
    assert.deepEqual(
      [...ticks.labels],
      [
        [76_961_152, '77M/80M'],
        [8e7, ''],
        [247_577_856, '250M'],
        [2.5e8, ''],
        [7.8e8, '780M'],
        [3e9, '3B'],
        [11e9, '11B'],
      ],
    );
    // 270 px over 77M–11B leaves ≥ 56 px between label centres; "77M/80M" and "250M" need 44.6 (half of
    // 50.7 + 30.5 px in DejaVu Sans 11 px, plus 4): horizontal.
    assert.equal(ticks.angle, 0);
    // A 91K test model stretches the axis over five decades: 77M and 250M are then 25 px apart, and the
    // labels are angled rather than dropped.
    const wide = sizeTicks([91_000, ...sizes], 270);
    assert.equal(wide.labels.get(91_000), '91K');
    assert.equal(wide.labels.get(247_577_856), '250M');
    assert.equal(wide.angle, -40);
    // The paper's PaLM sizes: on an axis from 80M to 540B, 8B and 11B are about 9 px apart at 270 px
    // (ln(11/8) / ln(540B/80M) × 246 px), closer than angled labels can be (11·1.1 / sin 40° ≈ 18.8 px):
    // one label. 3B and 8B, about 27 px apart, keep their own.
    const palm = sizeTicks([8e7, 3e9, 8e9, 11e9, 62e9, 540e9], 270);
    assert.deepEqual(
      [...palm.labels],
      [
        [8e7, '80M'],
        [3e9, '3B'],
        [8e9, '8B/11B'],
        [11e9, ''],
        [62e9, '62B'],
        [540e9, '540B'],
      ],
    );
  });

  test('text is measured in the shipped font: advance widths from DejaVu Sans, checked against resvg', () => {
    // DejaVu Sans, 2048 units per em: digits 1303, M 1767; bold digits 1425.
    assert.equal(textWidth('0', 2048), 1303);
    assert.equal(textWidth('M', 2048), 1767);
    assert.equal(textWidth('0', 2048, true), 1425);
    // resvg's own layout of the same string: the ink of "MMMMMMMMMM" spans 9 advances plus one M's ink.
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="200"><text x="10" y="150" font-family="DejaVu Sans" font-size="100">MMMMMMMMMM</text></svg>';
    const bbox = new Resvg(svg, { font: { loadSystemFonts: false, fontFiles: plotFontFiles() } }).innerBBox()!;
    const nineAdvances = textWidth('MMMMMMMMM', 100);
    assert.ok(bbox.width > nineAdvances && bbox.width < textWidth('MMMMMMMMMM', 100), `ink ${bbox.width} vs advances ${nineAdvances}`);
  });

  test('legend names are the table names: a lone model keeps its label, a family lists its size words', () => {
    assert.equal(familyLabel(['test-t5-small']), 'test-t5-small');
    assert.equal(familyLabel(['Flan-T5-Small (paper)', 'Flan-T5-Base (paper)', 'Flan-T5-XXL (paper)']), 'Flan-T5-{Small,Base,XXL} (paper)');
    // Sizes as parameter counts, as the paper names its PaLM rows.
    assert.equal(familyLabel(['Flan-PaLM 8B (paper)', 'Flan-PaLM 62B (paper)', 'Flan-PaLM 540B (paper)']), 'Flan-PaLM {8B,62B,540B} (paper)');
    assert.equal(familyLabel(['google/t5-small-lm-adapt', 'google/t5-base-lm-adapt']), 'google/t5-{small,base}-lm-adapt');
    // One label without a size word: the family name.
    assert.equal(familyLabel(['test-t5', 'test-t5-small']), 'test-t5');
  });

  test('models are placed by the parameter count in their records, not by their names', async () => {
    const dir = await tempDir();
    const run = (model: string, params: number) => writeRun(dir, { model, params, benchmark: 'mmlu', cot: false, shots: 5, tasks: { anatomy: '1100' } });
    await run('looks-xxl', 2e6);
    await run('no-size-in-name', 5e8);
    await run('test-t5-small', 91_000);
    const table = buildReportTable(await loadRunRecords([dir]));
    const points = plotPoints(table);
    assert.deepEqual(
      points.map((p) => [p.model, p.params, p.family]),
      [
        ['test-t5-small', 91_000, 'test-t5-small'],
        ['looks-xxl', 2e6, 'looks-xxl'],
        ['no-size-in-name', 5e8, 'no-size-in-name'],
      ],
    );
    const spec = scalingPlotSpec(table) as any;
    assert.deepEqual(spec.concat[0].layer[0].encoding.x.axis.values, [91_000, 2e6, 5e8]);
    assert.equal(spec.concat[0].layer[0].encoding.x.axis.labelExpr, `datum.value === 91000 ? "91K" : datum.value === 2000000 ? "2M" : datum.value === 500000000 ? "500M" : ''`);
  });

  test('single layout: one Norm. avg. panel with its own y title; grid: a panel per column', async () => {
    const table = await suiteTable();
    const single = scalingPlotSpec(table) as any;
    assert.equal(single.layer.length, 3, 'lines, error bars, points');
    assert.deepEqual(single.transform, [{ filter: { field: 'panel', equal: 'Norm. avg.' } }]);
    assert.equal(single.layer[0].encoding.y.axis.title, 'Normalised average');
    // tiny's average and the 20 paper rows; mini has no average, so no legend entry either. One legend
    // entry per paper family, the PaLM sizes gathered like the T5 ones; dashes cycle over the references.
    assert.equal(single.data.values.length, 21);
    assert.deepEqual(single.layer[0].encoding.color.scale.domain, [
      'fixture/flan-t5-tiny',
      'Flan-PaLM {8B,62B,540B} (paper)',
      'Flan-T5-{Small,Base,Large,XL,XXL} (paper)',
      'Flan-U-PaLM 540B (paper)',
      'Flan-cont-PaLM 62B (paper)',
      'PaLM {8B,62B,540B} (paper)',
      'T5-{Small,Base,Large,XL,XXL} (paper)',
      'U-PaLM 540B (paper)',
      'cont-PaLM 62B (paper)',
    ]);
    assert.deepEqual(single.layer[0].encoding.strokeDash.scale.range, [[1, 0], [6, 4], [2, 3], [8, 3, 2, 3], [6, 4], [2, 3], [8, 3, 2, 3], [6, 4], [2, 3]]);

    const grid = scalingPlotSpec(table, 'grid') as any;
    assert.deepEqual(
      grid.concat.map((p: any) => [p.title.text, p.layer[0].encoding.y.axis.title]),
      [
        ['MMLU direct', 'Exact match (%)'],
        ['MMLU CoT', 'Exact match (%)'],
        ['BBH direct', 'Exact match (%)'],
        ['BBH CoT', 'Exact match (%)'],
        ['TyDiQA direct', 'Exact match (%)'],
        ['MGSM CoT', 'Exact match (%)'],
        ['MMLU direct 0-shot', 'Exact match (%)'],
        ['Norm. avg.', 'Normalised average'],
      ],
    );
    // 20 paper rows × 7 values (six columns + average), plus ours: tiny 7 columns + average, mini 3.
    assert.equal(grid.data.values.length, 140 + 8 + 3);
  });

  test('the SVG: an error bar of ±1 standard error per point of ours, the partial run hollow', async () => {
    const svg = (await renderScalingPlot(await suiteTable(), 'grid'))!;
    const bars = [...svg.matchAll(/aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="errorbar"/g)].map((m) => m[1]!);
    // tiny: 7 columns + Norm. avg.; mini: 3 columns. None for the paper's rows.
    assert.equal(bars.length, 11);
    // tiny MMLU direct: 62.5 ± 19.094 (√(28.87² + 25²)/2); mini MMLU direct: 87.5 ± 12.5.
    assert.ok(bars.includes('params: 76961152; Exact match (%): 43.4059346044; upper_lo: 81.5940653956; family: fixture/flan-t5-tiny; hi: 81.5940653956; lo: 43.4059346044'));
    assert.ok(bars.includes('params: 247577856; Exact match (%): 75; upper_lo: 100; family: fixture/flan-t5-mini; hi: 100; lo: 75'));
    const points = svgPoints(svg);
    assert.equal(points.length, 140 + 8 + 3);
    const hollow = points.filter((p) => p.fill === 'white').map((p) => `${p.label.model} ${p.label.panel}`);
    assert.deepEqual(hollow, ['fixture/flan-t5-mini BBH CoT'], 'only the --limit 2 run');
    assert.match(svg, />Hollow: a partial run/);
    assert.match(svg, />Bars: ±1 standard error \(none published for the paper\)\.</);
    assert.match(svg, /font-family="DejaVu Sans, Helvetica, Arial, sans-serif"/);
  });

  test('PNG: 3× the SVG, text drawn with the shipped font (no system fonts are loaded)', async () => {
    const svg = (await renderScalingPlot(await suiteTable()))!;
    const png = await svgToPng(svg);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const [w, h] = [Number(/^<svg[^>]* width="(\d+)"/.exec(svg)![1]), Number(/^<svg[^>]* height="(\d+)"/.exec(svg)![1])];
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [3 * w, 3 * h]);
    // Dark pixels with the font, against the same picture with no font at all: the difference is the text.
    const dark = (fontFiles: string[]) => {
      const { pixels } = new Resvg(svg, { font: { loadSystemFonts: false, fontFiles, defaultFontFamily: 'DejaVu Sans' } }).render();
      let n = 0;
      for (let i = 0; i < pixels.length; i += 4) if (pixels[i + 3]! > 128 && pixels[i]! < 100 && pixels[i + 1]! < 100 && pixels[i + 2]! < 100) n++;
      return n;
    };
    const withFont = dark(plotFontFiles());
    const without = dark([]);
    assert.ok(withFont > without + 1000, `text pixels: ${withFont} with the font, ${without} without`);
  });

  test('--plot FILE.png and --plot-layout on the command line; bad values exit 2 with one line', async () => {
    const dir = await tempDir();
    const png = join(dir, 'scaling.png');
    const r = await runCli(['report', SUITE, '--reference', 'flan-t5-paper', '--plot', png, '--plot-layout', 'grid']);
    assert.equal(r.code, 0, r.stderr);
    const bytes = await readFile(png);
    assert.equal(bytes.toString('latin1', 1, 4), 'PNG');
    const fail = async (args: string[], message: string) => {
      const f = await runCli(['report', ...args]);
      assert.equal(f.code, 2, f.stderr);
      assert.equal(f.stderr.trim().split('\n').length, 1, f.stderr);
      assert.match(f.stderr, new RegExp(message));
    };
    await fail([SUITE, '--plot', join(dir, 'p.gif')], '--plot .*p\\.gif: the plot is written as SVG or PNG; name a file ending in \\.svg or \\.png');
    await fail([SUITE, '--plot', join(dir, 'p.svg'), '--plot-layout', 'grd'], 'unknown --plot-layout "grd". Did you mean "grid"\\? Available: single, grid\\.');
    await fail([SUITE, '--plot-layout', 'grid'], '--plot-layout: there is no plot to lay out');
    // Only mini: no model has all six columns, so no Norm. avg. to put in the single panel.
    await fail([join(SUITE, 'fixture_flan-t5-mini'), '--plot', join(dir, 'p.svg'), '--plot-layout', 'single'], 'no Norm\\. avg\\. to plot; use --plot-layout grid');
    const none = await tempDir();
    await writeRun(none, { model: 'm', params: null, benchmark: 'mmlu', cot: false, shots: 5, tasks: { anatomy: '1' } });
    await fail([none, '--plot', join(none, 'p.svg')], 'no model has a known parameter count');
  });
});
