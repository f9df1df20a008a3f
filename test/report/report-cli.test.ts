import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCli, tempDir } from '../helpers/cli.js';
import { writeRun } from './records-helper.js';

const SUITE = 'test/fixtures/records/paper-suite';

describe('report --format html and --plot', () => {
  test('one self-contained page: inline CSS, the SVG plot inlined, no scripts or external requests', async () => {
    const r = await runCli(['report', SUITE, '--reference', 'flan-t5-paper', '--format', 'html', '--breakdown']);
    assert.equal(r.code, 0, r.stderr);
    const html = r.stdout;
    assert.match(html, /^<!DOCTYPE html>\n<html lang="en">/);
    assert.match(html, /<style>[^<]+<\/style>/);
    assert.match(html, /<figure>\n<svg [^>]*>/);
    assert.doesNotMatch(html, /<script|<link |@import|url\(/i);
    // The only URLs are SVG namespace declarations.
    const urls = [...html.matchAll(/https?:\/\/[^\s"')<]+/g)].map((m) => m[0]);
    assert.deepEqual([...new Set(urls)].sort(), ['http://www.w3.org/1999/xlink', 'http://www.w3.org/2000/svg']);
    assert.match(html, /<tr class="reference"><td>Flan-T5-XXL \(paper\)<\/td><td>11B<\/td><td>t5<\/td><td>55\.1<\/td>/);
    assert.match(html, /<tr class="reference"><td>Flan-U-PaLM 540B \(paper\)<\/td><td>540B<\/td><td>palm<\/td><td>74\.1<\/td>/);
    assert.match(html, /<td title="n = 8">62\.5<\/td>/);
    assert.match(html, /<h2>MMLU direct: per task<\/h2>/);
    assert.match(html, /english <span class="se">\(not in average\)<\/span>/);
  });

  test('--out FILE.html picks the format, --plot writes the SVG; paper rows dashed, ours solid', async () => {
    const dir = await tempDir();
    const out = join(dir, 'report.html');
    const plot = join(dir, 'plot.svg');
    const r = await runCli(['report', SUITE, '--reference', 'flan-t5-paper', '--out', out, '--plot', plot]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `flan-eval: wrote the scaling plot to ${plot}\nflan-eval: wrote the html report to ${out}\n`, 'no vega-lite warnings');
    assert.match(await readFile(out, 'utf8'), /^<!DOCTYPE html>/);
    const svg = await readFile(plot, 'utf8');
    assert.match(svg, /^<svg /);
    for (const dash of ['1,0', '6,4', '2,3']) assert.ok(svg.includes(`stroke-dasharray="${dash}"`), `dash ${dash}`);
    assert.match(svg, />Normalised average</);
  });
});

describe('report --json', () => {
  test('one JSON document with raw numbers, random baselines and normalised scores', async () => {
    const r = await runCli(['report', SUITE, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    const tiny = doc.rows.find((x: any) => x.model === 'fixture/flan-t5-tiny');
    assert.equal(tiny.cells.mmlu_direct.score, 62.5);
    assert.equal(tiny.cells.mmlu_direct.normalised, 50);
    assert.ok(Math.abs(tiny.cells.bbh_direct.low - (50 + 17.173333333333 + 0) / 3) < 1e-9);
    assert.ok(Math.abs(tiny.normAvg.value - 25.934) < 1e-3);
    assert.equal(doc.columns.find((c: any) => c.id === 'mmlu_direct_0shot').paper, false);
  });
});

describe('report input errors exit 2 with one line', () => {
  test('missing path, a file that is not a record, unknown or conflicting flags', async () => {
    const dir = await tempDir();
    await writeRun(join(dir, 'a'), { model: 'm', params: 1, benchmark: 'mmlu', cot: false, shots: 5, tasks: { anatomy: '1' } });
    await writeRun(join(dir, 'b'), { model: 'm', params: 1, benchmark: 'mmlu', cot: false, shots: 5, tasks: { anatomy: '0' } });
    const cases: [string[], RegExp][] = [
      [['report', join(dir, 'nope')], /nope: no such file or folder/],
      [['report', SUITE, join(dir, 'a', 'm', 'mmlu-direct-5shot.predictions.jsonl')], /not a run record|invalid JSON/],
      [['report', SUITE, '--json', '--format', 'csv'], /--json conflicts with --format csv/],
      [['report', SUITE, '--format', 'lat'], /unknown --format "lat"\. Did you mean "md"\?|unknown --format "lat"/],
      [['report', SUITE, '--format', 'latx'], /unknown --format "latx"\. Did you mean "latex"\? Available: md, csv, latex, html, json\./],
      [['report', SUITE, '--reference', 'flan-t5'], /unknown --reference "flan-t5"\..*Available: flan-t5-paper\./],
    ];
    for (const [args, re] of cases) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});
