import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { fixturesDir, runCli } from '../helpers/cli.js';

/**
 * Golden files pin the exact text of `report` on the committed fixture records
 * (test/fixtures/records/paper-suite, described in records-helper.ts). The numbers in them are checked
 * here against arithmetic done by hand from the fixtures' outcome strings, so a golden file cannot
 * freeze a wrong number. Rewrite the golden files after an intended change with
 *   UPDATE_GOLDEN=1 node --test dist/test/report/report-golden.test.js
 * and read the diff.
 */

const SUITE = 'test/fixtures/records/paper-suite';
const GOLDEN = join(fixturesDir, 'golden', 'report');

async function report(args: string[]): Promise<string> {
  const r = await runCli(['report', SUITE, ...args]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  return r.stdout;
}

async function golden(name: string, actual: string): Promise<void> {
  const path = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN) await writeFile(path, actual);
  assert.equal(actual, await readFile(path, 'utf8'), `${name} differs from the golden file; see the comment at the top of this test`);
}

/** The body rows of the first pipe table: model → cells (header label → text). */
function mdRows(md: string): Map<string, Record<string, string>> {
  const lines = md.split('\n').filter((l) => l.startsWith('|'));
  const cells = (l: string) => l.slice(1, -1).split(' | ').map((c) => c.trim());
  const header = cells(lines[0]!);
  const out = new Map<string, Record<string, string>>();
  for (const l of lines.slice(2)) {
    const c = cells(l);
    if (c.length !== header.length) break; // the next table
    out.set(c[0]!, Object.fromEntries(header.map((h, i) => [h, c[i]!])));
  }
  return out;
}

// Hand arithmetic from the outcome strings of PAPER_SUITE (4 examples a task, "1" = right):
//   tiny  MMLU direct   abstract_algebra 1100 = 50, anatomy 1110 = 75           → 62.5
//         MMLU CoT      25, 50                                                  → 37.5
//         BBH direct    boolean_expressions 75, date_understanding 25, word_sorting 0 → 33.33
//         BBH CoT       50, 50, 25                                              → 41.67
//         TyDiQA        arabic 50, bengali 25 (english 100 is not averaged)     → 37.5
//         MGSM CoT      de 25, ja 0 (en 50 is not averaged)                     → 12.5
//         MMLU 0-shot   25, 0                                                   → 12.5
//   BBH random baseline of those three tasks: (50 + 17.1733 + 0) / 3 = 22.3911, where
//   date_understanding = (212·100/6 + 38·100/5) / 250 = 17.1733.
//   Normalised: MMLU (62.5−25)/75 = 50.000, (37.5−25)/75 = 16.667; BBH (33.333−22.391)/77.609 = 14.099,
//   (41.667−22.391)/77.609 = 24.837; TyDiQA 37.5; MGSM 12.5 → mean 155.603 / 6 = 25.93.
//   Standard errors, e.g. MMLU direct: task se = sd/√n with the sample sd: 1100 → √(1/3/4) = 28.87,
//   1110 → √(0.25/4) = 25.00; benchmark √(28.87² + 25²)/2 = 19.09.
//   mini  MMLU direct   75, 100 → 87.5;  BBH CoT (2 a task, --limit 2) 100, 50, 0 → 50.0;  MGSM de 50, ja 25 → 37.5
const TINY = {
  'MMLU direct': '62.5',
  'MMLU CoT': '37.5',
  'BBH direct': '33.3',
  'BBH CoT': '41.7',
  'TyDiQA direct': '37.5',
  'MGSM CoT': '12.5',
  'MMLU direct 0-shot': '12.5',
  'Norm. avg.': '25.9',
};

describe('report golden files', () => {
  test('md: the fixture numbers match the hand arithmetic, and the text is pinned', async () => {
    const md = await report([]);
    const rows = mdRows(md);
    assert.deepEqual([...rows.keys()], ['fixture/flan-t5-tiny', 'fixture/flan-t5-mini'], 'ordered by parameter count');
    const tiny = rows.get('fixture/flan-t5-tiny')!;
    for (const [col, want] of Object.entries(TINY)) assert.equal(tiny[col], want, col);
    assert.equal(tiny.Params, '77M');
    const mini = rows.get('fixture/flan-t5-mini')!;
    assert.equal(mini.Params, '250M');
    assert.equal(mini['MMLU direct'], '87.5');
    assert.equal(mini['BBH CoT'], '50.0*', 'a --limit run is marked partial');
    assert.equal(mini['MGSM CoT'], '37.5');
    assert.equal(mini['Norm. avg.'], '–', 'no normalised average without all six columns');
    assert.equal(mini['MMLU CoT'], '–');
    // Header order: the paper's six in Table 5's order, then other columns, then the average.
    assert.match(md.split('\n')[0]!, /Model .*Params .*MMLU direct .*MMLU CoT .*BBH direct .*BBH CoT .*TyDiQA direct .*MGSM CoT .*MMLU direct 0-shot .*Norm\. avg\./);
    await golden('paper-suite.md', md);
  });

  test('md with --reference and --stderr: paper rows interleaved by size, ± standard errors', async () => {
    const md = await report(['--reference', 'flan-t5-paper', '--stderr']);
    const rows = mdRows(md);
    assert.deepEqual([...rows.keys()].slice(0, 4), ['fixture/flan-t5-tiny', 'T5-Small (paper)', 'Flan-T5-Small (paper)', 'fixture/flan-t5-mini']);
    assert.equal(rows.size, 22);
    assert.equal(rows.get('fixture/flan-t5-tiny')!['MMLU direct'], '62.5 ± 19.1');
    // Norm. avg. se: √Σ((100/(100−low))·se_i)² / 6 with the six benchmark standard errors.
    const se = [19.09, 19.09, 11.79, 16.0, 19.09, 12.5];
    const lows = [25, 25, 22.3911, 22.3911, 0, 0];
    const normSe = Math.sqrt(se.reduce((a, s, i) => a + ((100 / (100 - lows[i]!)) * s) ** 2, 0)) / 6;
    assert.equal(rows.get('fixture/flan-t5-tiny')!['Norm. avg.'], `25.9 ± ${normSe.toFixed(1)}`);
    // Published rows, published normalised average, no standard errors.
    assert.deepEqual(rows.get('Flan-T5-XXL (paper)'), {
      Model: 'Flan-T5-XXL (paper)',
      Params: '11B',
      Arch: 't5',
      'MMLU direct': '55.1',
      'MMLU CoT': '48.6',
      'BBH direct': '45.3',
      'BBH CoT': '41.4',
      'TyDiQA direct': '19.0',
      'MGSM CoT': '4.9',
      'MMLU direct 0-shot': '–',
      'Norm. avg.': '23.7',
    });
    assert.equal(rows.get('T5-Small (paper)')!['Norm. avg.'], '-9.2');
    await golden('paper-suite-reference-stderr.md', md);
  });

  test("--reference flan-t5-paper: the PaLM family's rows of Table 5, by size among the T5 rows, Arch palm", async () => {
    const rows = mdRows(await report(['--reference', 'flan-t5-paper']));
    // arXiv:2210.11416v5, Table 5, p. 11, read off two independent text copies of the PDF (docs/protocol.md
    // §7): Norm. avg., MMLU direct, MMLU CoT, BBH direct, BBH CoT, TyDiQA direct, MGSM CoT.
    const table5: Record<string, [string, string[]]> = {
      'PaLM 8B': ['8B', ['6.4', '24.3', '24.1', '30.8', '30.1', '25.0', '3.4']],
      'Flan-PaLM 8B': ['8B', ['21.9', '49.3', '41.3', '36.4', '31.1', '47.5', '8.2']],
      'PaLM 62B': ['62B', ['28.4', '55.1', '49.0', '37.4', '43.0', '40.5', '18.2']],
      'Flan-PaLM 62B': ['62B', ['38.8', '59.6', '56.9', '47.5', '44.9', '58.7', '28.5']],
      'PaLM 540B': ['540B', ['49.1', '71.3', '62.9', '49.1', '63.7', '52.9', '45.9']],
      'Flan-PaLM 540B': ['540B', ['58.4', '73.5', '70.9', '57.9', '66.3', '67.8', '57.0']],
      'cont-PaLM 62B': ['62B', ['38.1', '61.2', '57.6', '41.7', '53.1', '45.7', '32.0']],
      'Flan-cont-PaLM 62B': ['62B', ['46.7', '66.1', '62.0', '51.0', '53.3', '62.7', '40.3']],
      'U-PaLM 540B': ['540B', ['50.2', '71.5', '64.0', '49.2', '62.4', '54.6', '49.9']],
      'Flan-U-PaLM 540B': ['540B', ['59.1', '74.1', '69.8', '59.3', '64.9', '68.3', '60.4']],
    };
    for (const [model, [size, [norm, ...six]]] of Object.entries(table5)) {
      const label = `${model} (paper)`;
      assert.deepEqual(rows.get(label), {
        Model: label,
        Params: size,
        Arch: 'palm',
        'MMLU direct': six[0],
        'MMLU CoT': six[1],
        'BBH direct': six[2],
        'BBH CoT': six[3],
        'TyDiQA direct': six[4],
        'MGSM CoT': six[5],
        'MMLU direct 0-shot': '–',
        'Norm. avg.': norm,
      });
    }
    // Ordered by parameter count across architectures: PaLM 8B between Flan-T5-XL (3B) and T5-XXL (11B),
    // the 540B rows last; at one size, Table 5's order.
    const labels = [...rows.keys()];
    assert.deepEqual(labels.slice(labels.indexOf('Flan-T5-XL (paper)'), labels.indexOf('T5-XXL (paper)') + 1), [
      'Flan-T5-XL (paper)',
      'PaLM 8B (paper)',
      'Flan-PaLM 8B (paper)',
      'T5-XXL (paper)',
    ]);
    assert.deepEqual(labels.slice(-4), ['PaLM 540B (paper)', 'Flan-PaLM 540B (paper)', 'U-PaLM 540B (paper)', 'Flan-U-PaLM 540B (paper)']);
    // Our fixture records predate model.arch (T5-only days): they print as t5.
    assert.equal(rows.get('fixture/flan-t5-tiny')!.Arch, 't5');
  });

  test('csv: stable column ids, numbers to 2 decimals, partial columns listed', async () => {
    const csv = await report(['--format', 'csv', '--stderr']);
    const rows = parse(csv, { columns: true }) as Record<string, string>[];
    assert.equal(rows.length, 2);
    const tiny = rows[0]!;
    assert.equal(tiny.model, 'fixture/flan-t5-tiny');
    assert.equal(tiny.params, '76961152');
    assert.equal(tiny.bbh_direct, '33.33');
    assert.equal(tiny.bbh_cot, '41.67');
    assert.equal(tiny.mmlu_direct_stderr, '19.09');
    assert.equal(tiny.norm_avg, '25.93');
    assert.equal(tiny.mmlu_direct_0shot, '12.5');
    assert.equal(tiny.partial, '');
    assert.equal(rows[1]!.partial, 'bbh_cot');
    assert.equal(rows[1]!.mmlu_cot, '');
    await golden('paper-suite.csv', csv);
  });

  test('latex: Table 5 layout with escaped names and typeset minus signs (details in latex.test.ts)', async () => {
    const tex = await report(['--format', 'latex', '--reference', 'flan-t5-paper', '--caption', 'Flan-T5 on the held-out benchmarks.']);
    assert.match(tex, /\\begin\{tabular\}\{lrlrrrrrrrr\}\n\\toprule\n/);
    assert.match(tex, /\\bottomrule\n\\end\{tabular\}/);
    assert.match(tex, /^fixture\/flan-t5-tiny & 77M & t5 & 62\.5 & 37\.5 & 33\.3 & 41\.7 & 37\.5 & 12\.5 & 12\.5 & 25\.9 \\\\$/m);
    assert.match(tex, /^Flan-U-PaLM 540B \(paper\) & 540B & palm & 74\.1 & 69\.8 & \\textbf\{59\.3\} & 64\.9 & \\textbf\{68\.3\} & \\textbf\{60\.4\} & -- & \\textbf\{59\.1\} \\\\$/m);
    assert.match(tex, /^T5-Small \(paper\) & 80M & t5 & 26\.7 & 5\.6 & 27\.0 & 7\.2 & 0\.0 & 0\.4 & -- & \$-\$9\.2 \\\\$/m);
    assert.match(tex, /50\.0\$\^\{\*\}\$/);
    await golden('paper-suite-reference.tex', tex);
  });

  test('--breakdown: per-task tables with MMLU categories and languages outside the average marked', async () => {
    const md = await report(['--breakdown']);
    const section = (title: string) => md.split(`### ${title}: per task\n`)[1]!.split('\n### ')[0]!;
    const mmlu = section('MMLU direct');
    // Hendrycks' categories: abstract_algebra is STEM, anatomy is "other" (health).
    assert.match(mmlu, /\| \*STEM\*\s+\|\s+50\.0 \|\s+75\.0 \|\n\| abstract_algebra\s+\|\s+50\.0 \|\s+75\.0 \|/);
    assert.match(mmlu, /\| \*other\*\s+\|\s+75\.0 \|\s+100\.0 \|\n\| anatomy\s+\|\s+75\.0 \|\s+100\.0 \|/);
    assert.match(section('TyDiQA direct'), /\| english \(not in average\)\s+\|\s+100\.0 \|/);
    assert.match(section('MGSM CoT'), /\| en \(not in average\)\s+\|\s+50\.0 \|\s+75\.0 \|/);
    // A model without the column shows a dash; the average row is the headline.
    assert.match(section('BBH direct'), /\| \*\*average\*\*\s+\|\s+33\.3 \|\n/);
    await golden('paper-suite-breakdown.md', md);
  });

  test('csv --breakdown appends a long per-task table after an empty line', async () => {
    const csv = await report(['--format', 'csv', '--breakdown']);
    const [, long] = csv.split('\n\n');
    const rows = parse(long!, { columns: true }) as Record<string, string>[];
    const get = (model: string, column: string, task: string, category = '') =>
      rows.find((r) => r.model === model && r.column === column && r.task === task && (task || r.category === category));
    assert.equal(get('fixture/flan-t5-tiny', 'bbh_direct', 'date_understanding')!.score, '25');
    assert.equal(get('fixture/flan-t5-mini', 'mgsm_cot', 'en')!.in_average, 'no');
    assert.equal(get('fixture/flan-t5-tiny', 'mmlu_direct', '', 'STEM')!.score, '50');
    assert.equal(get('fixture/flan-t5-tiny', 'mmlu_direct', '')!.score, '62.5');
  });
});
