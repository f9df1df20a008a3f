import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCli, tempDir } from '../helpers/cli.js';
import { writeRun, type RunSpec } from './records-helper.js';

/** Clustered standard errors in `compare`'s confidence interval and beside the naive ones in `report --stderr`. */

const MODEL = 'Xenova/flan-t5-small';
const mgsm = (tasks: Record<string, string>): RunSpec => ({ model: MODEL, params: 7.7e7, benchmark: 'mgsm', cot: true, shots: 8, tasks, averageTasks: Object.keys(tasks) });
const bbh = (tasks: Record<string, string>): RunSpec => ({ model: MODEL, params: 7.7e7, benchmark: 'bbh', cot: true, shots: 3, tasks });

interface JsonPair {
  delta: number;
  stderr: number;
  naiveStderr: number;
  clustered: { by: string; clusters: number } | null;
  ci: [number, number];
}

async function compareJson(base: RunSpec, cur: RunSpec, extra: string[] = []): Promise<JsonPair> {
  const dir = await tempDir();
  await writeRun(join(dir, 'b'), base);
  await writeRun(join(dir, 'c'), cur);
  const r = await runCli(['compare', join(dir, 'b'), join(dir, 'c'), '--json', ...extra]);
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  return (JSON.parse(r.stdout) as { pairs: JsonPair[] }).pairs[0]!;
}

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} ≠ ${b}`);

describe('clustered errors in compare and report', () => {
  test('MGSM compare: the CI is clustered by problem across languages (hand computation)', async () => {
    // de and ja, 4 problems each; problems 0 and 1 turn wrong in both languages. d = −1, −1, 0, 0 per
    // language: Δ = −50. Residuals ∓½, weights 1/(2·4): problem sums −⅛, −⅛, ⅛, ⅛ → SE = sqrt(4/64) = 25
    // points. Naive: s² = ⅓ per language, sqrt(2 · ⅓/4) / 2 = 20.41 points.
    const p = await compareJson(mgsm({ de: '1111', ja: '1111' }), mgsm({ de: '0011', ja: '0011' }));
    close(p.delta, -50);
    assert.deepEqual(p.clustered, { by: 'problem', clusters: 4 });
    close(p.stderr, 25);
    close(p.naiveStderr, (100 * Math.sqrt(2 / 12)) / 2);
    const z = 1.959963984540054;
    assert.ok(Math.abs(p.ci[0] - (-50 - z * 25)) < 1e-6);
    assert.ok(Math.abs(p.ci[1] - (-50 + z * 25)) < 1e-6);
  });

  test('BBH compare: naive by default, by task with --cluster task', async () => {
    // Task a falls 100 → 50, task b stays at 100: Δ = −25. By task: sqrt((−50+25)² + (0+25)²) / 2 = 17.68.
    const base = bbh({ a: '1111', b: '1111' });
    const cur = bbh({ a: '0011', b: '1111' });
    const naive = await compareJson(base, cur);
    assert.equal(naive.clustered, null);
    close(naive.stderr, naive.naiveStderr);
    const byTask = await compareJson(base, cur, ['--cluster', 'task']);
    assert.deepEqual(byTask.clustered, { by: 'task', clusters: 2 });
    close(byTask.stderr, Math.sqrt(625 + 625) / 2);
    close(byTask.naiveStderr, naive.naiveStderr);
  });

  test('compare Markdown says which CIs are clustered', async () => {
    const dir = await tempDir();
    await writeRun(join(dir, 'b'), mgsm({ de: '1111', ja: '1111' }));
    await writeRun(join(dir, 'c'), mgsm({ de: '0011', ja: '0011' }));
    const r = await runCli(['compare', join(dir, 'b'), join(dir, 'c')]);
    assert.match(r.stdout, /The CI uses clustered standard errors \(Miller 2024, "Adding Error Bars to Evals"\): MGSM CoT by problem \(4 clusters; standard error 25\.0, naive 20\.4\)\./);
    const bad = await runCli(['compare', join(dir, 'b'), join(dir, 'c'), '--cluster', 'passage']);
    assert.equal(bad.code, 2);
  });

  test('report --stderr shows the clustered error beside the naive one', async () => {
    const dir = await tempDir();
    // BBH task scores 100, 50, 0: naive sqrt(0 + 1/12 + 0)/3 = 9.6 points; by task sqrt(2500 + 2500)/3 = 23.6.
    await writeRun(dir, bbh({ a: '1111', b: '1100', c: '0000' }));
    // An MGSM record as `run` writes it since clustering: with its clustered error.
    const mgsmPath = await writeRun(dir, mgsm({ de: '1100', ja: '1100' }));
    const record = JSON.parse(await readFile(mgsmPath, 'utf8')) as { result: Record<string, unknown> };
    record.result.clustered = { by: 'problem', stderr: 25, clusters: 4 };
    await writeFile(mgsmPath, JSON.stringify(record));

    const plain = await runCli(['report', dir, '--stderr']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /\| +50\.0 ± 9\.6 \|/);
    assert.match(plain.stdout, /\| +50\.0 ± 20\.4 \[cl\. 25\.0\] \|/);
    assert.match(plain.stdout, /\[cl\. …\] is the clustered standard error \(Miller 2024, "Adding Error Bars to Evals"\): MGSM by problem across languages\./);

    const byTask = await runCli(['report', dir, '--stderr', '--cluster', 'task']);
    assert.match(byTask.stdout, /\| +50\.0 ± 9\.6 \[cl\. 23\.6\] \|/);
    assert.match(byTask.stdout, /MGSM by problem across languages; MMLU and BBH by task \(--cluster task\)\./);

    const csv = await runCli(['report', dir, '--stderr', '--cluster', 'task', '--format', 'csv']);
    const [header, row] = csv.stdout.trim().split('\n');
    const cols = header!.split(',');
    const cells = row!.split(',');
    assert.equal(cells[cols.indexOf('bbh_cot_stderr_clustered')], '23.57');
    assert.equal(cells[cols.indexOf('mgsm_cot_stderr_clustered')], '25');

    // LaTeX sets the clustered error with the naive one, in the small size its note explains.
    const latex = await runCli(['report', dir, '--stderr', '--format', 'latex']);
    assert.equal(latex.code, 0, latex.stderr);
    assert.ok(latex.stdout.includes('50.0\\,{\\scriptsize$\\pm$20.4 [cl. 25.0]}'), latex.stdout);
    assert.ok(latex.stdout.includes('50.0\\,{\\scriptsize$\\pm$9.6}'), latex.stdout);

    // Without --stderr nothing changes.
    assert.doesNotMatch((await runCli(['report', dir])).stdout, /cl\./);
  });
});
