import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCli, tempDir } from '../helpers/cli.js';
import { writeRun, type RunSpec } from './records-helper.js';

/**
 * `compare` on synthetic paired predictions whose truth is known: the outcome strings say exactly which
 * examples flip, so the expected counts, drops and p-values can be worked out by hand.
 */

/** `n` outcomes with the first `right` correct. */
const outcomes = (n: number, right: number) => '1'.repeat(right) + '0'.repeat(n - right);

/** Flip examples: `worse` of the right ones become wrong, `better` of the wrong ones become right. */
function flip(o: string, worse: number, better: number): string {
  const xs = [...o];
  for (let i = 0; i < xs.length && worse > 0; i++) {
    if (xs[i] === '1') {
      xs[i] = '0';
      worse--;
    }
  }
  for (let i = xs.length - 1; i >= 0 && better > 0; i--) {
    if (xs[i] === '0') {
      xs[i] = '1';
      better--;
    }
  }
  return xs.join('');
}

const MODEL = 'Xenova/flan-t5-small';
const mmlu = (tasks: Record<string, string>, extra: Partial<RunSpec> = {}): RunSpec => ({ model: MODEL, params: 7.7e7, benchmark: 'mmlu', cot: true, shots: 5, tasks, ...extra });
const bbh = (tasks: Record<string, string>, extra: Partial<RunSpec> = {}): RunSpec => ({ model: MODEL, params: 7.7e7, benchmark: 'bbh', cot: false, shots: 3, tasks, ...extra });

async function sides(baseline: RunSpec[], current: RunSpec[]): Promise<{ base: string; cur: string }> {
  const dir = await tempDir();
  const base = join(dir, 'baseline');
  const cur = join(dir, 'current');
  for (const s of baseline) await writeRun(base, s);
  for (const s of current) await writeRun(cur, s);
  return { base, cur };
}

const BASE_MMLU = { anatomy: outcomes(100, 80), astronomy: outcomes(100, 60) };
const BASE_BBH = { boolean_expressions: outcomes(50, 30), word_sorting: outcomes(50, 5) };

describe('compare', () => {
  test('identical runs: exit 0, no change, no configuration differences', async () => {
    const { base, cur } = await sides([mmlu(BASE_MMLU), bbh(BASE_BBH)], [mmlu(BASE_MMLU), bbh(BASE_BBH)]);
    const r = await runCli(['compare', base, cur]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^## flan-eval compare: no regression$/m);
    assert.match(r.stdout, /^\| MMLU CoT +\| Xenova\/flan-t5-small \| +200 \| +70\.0 \| +70\.0 \| +0\.0 \| +\[0\.0, 0\.0\] \| +0 \/ 0 \| +1 \| no change +\|$/m);
    assert.match(r.stdout, /None: the same model, data, prompts, decoding and versions on both sides\./);
    assert.equal(r.stderr, '');
  });

  test('a large real drop: exit 1, marked as a regression with its counts and p-value', async () => {
    // 30 of anatomy's 80 right answers turn wrong: anatomy 80 → 50, astronomy 60 → 60; headline 70 → 55.
    const { base, cur } = await sides([mmlu(BASE_MMLU), bbh(BASE_BBH)], [mmlu({ ...BASE_MMLU, anatomy: flip(BASE_MMLU.anatomy, 30, 0) }), bbh(BASE_BBH)]);
    const r = await runCli(['compare', base, cur]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^## flan-eval compare: regression$/m);
    assert.match(r.stdout, /\*\*1 regression\*\* in 2 comparisons/);
    // p = 2 · 0.5^30 = 1.86e-9.
    assert.match(r.stdout, /^\| MMLU CoT +\| Xenova\/flan-t5-small \| +200 \| +70\.0 \| +55\.0 \| +-15\.0 \| +\[-\d+\.\d, -\d+\.\d\] \| +30 \/ 0 \| +1\.9e-9 \| \*\*regression\*\* \|$/m);
    assert.match(r.stdout, /^\| BBH direct .* no change +\|$/m);
  });

  test('a small drop within noise: exit 0, reported as not significant', async () => {
    // anatomy: 3 right → wrong and 1 wrong → right: −2 points on that task, −1 on the headline; exact p = 0.625.
    const { base, cur } = await sides([mmlu(BASE_MMLU)], [mmlu({ ...BASE_MMLU, anatomy: flip(BASE_MMLU.anatomy, 3, 1) })]);
    const r = await runCli(['compare', base, cur, '--max-drop', '1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\| +-1\.0 \| .* \| +3 \/ 1 \| +0\.625 \| drop, not significant +\|$/m);
  });

  test('a significant drop smaller than --max-drop passes; lowering --max-drop fails it', async () => {
    // 15 of 1,000 flip to wrong in one of two tasks: −1.5 points on it, −0.75 on the headline; p = 2·0.5^15.
    const big = { anatomy: outcomes(1000, 700), astronomy: outcomes(1000, 500) };
    const { base, cur } = await sides([mmlu(big)], [mmlu({ ...big, anatomy: flip(big.anatomy, 15, 0) })]);
    const loose = await runCli(['compare', base, cur, '--max-drop', '1']);
    assert.equal(loose.code, 0, loose.stderr);
    assert.match(loose.stdout, /\| +-0\.8 \| .* \| +15 \/ 0 \| +6\.1e-5 \| drop below --max-drop \|$/m);
    const strict = await runCli(['compare', base, cur, '--max-drop', '0.5']);
    assert.equal(strict.code, 1, strict.stderr);
    // A stricter alpha than the p-value (6.1e-5) makes the same drop not significant.
    const tinyAlpha = await runCli(['compare', base, cur, '--max-drop', '0.5', '--alpha', '0.00001']);
    assert.equal(tinyAlpha.code, 0, tinyAlpha.stderr);
    assert.match(tinyAlpha.stdout, /99\.999% CI/);
  });

  test('an improvement never fails the check', async () => {
    const { base, cur } = await sides([mmlu(BASE_MMLU)], [mmlu({ ...BASE_MMLU, astronomy: flip(BASE_MMLU.astronomy, 0, 30) })]);
    const r = await runCli(['compare', base, cur]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\| +\+15\.0 \| .* \| +0 \/ 30 \| +1\.9e-9 \| improvement +\|$/m);
  });

  test('changed prompts are a configuration difference, counted per example, not a score change', async () => {
    const { base, cur } = await sides([mmlu(BASE_MMLU)], [mmlu(BASE_MMLU, { changedPrompts: { anatomy: [0, 1, 2] } })]);
    const r = await runCli(['compare', base, cur]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^- \*\*MMLU CoT\*\* \(Xenova\/flan-t5-small\): prompts [0-9a-f]{12}… → [0-9a-f]{12}… \(3 of 200 common examples have a different prompt hash\); config hash /m);
    assert.match(r.stdout, /no change +\|$/m);
  });

  test('failed examples are counted and listed', async () => {
    const { base, cur } = await sides([mmlu(BASE_MMLU)], [mmlu({ ...BASE_MMLU, astronomy: flip(BASE_MMLU.astronomy, 0, 0) }, { errors: { astronomy: [99, 98] } })]);
    const r = await runCli(['compare', base, cur]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^### Failed examples\n\n- MMLU CoT \(Xenova\/flan-t5-small\): inference failed on 0 example\(s\) in the baseline and 2 in current; they count as wrong$/m);
  });

  test('model, data and decoding changes are listed', async () => {
    const { base, cur } = await sides([mmlu(BASE_MMLU)], [mmlu(BASE_MMLU, { modelHash: 'f'.repeat(64), dataHash: 'e'.repeat(64), maxNewTokens: 128 })]);
    const r = await runCli(['compare', base, cur]);
    assert.equal(r.code, 0, r.stderr);
    const line = r.stdout.split('\n').find((l) => l.startsWith('- **MMLU CoT**'))!;
    assert.match(line, /model hash [0-9a-f]{12}… → ffffffffffff… \(files that differ: onnx\/encoder_model\.onnx\)/);
    assert.match(line, /data hash [0-9a-f]{12}… → eeeeeeeeeeee… \(data files that differ: mmlu\/data\.json\)/);
    assert.match(line, /decoding: max new tokens 256 → 128/);
  });

  test('examples are aligned by id; ids on one side only are counted, records on one side only listed', async () => {
    const { base, cur } = await sides([mmlu(BASE_MMLU), bbh(BASE_BBH)], [mmlu({ ...BASE_MMLU, astronomy: outcomes(90, 60) })]);
    const r = await runCli(['compare', base, cur]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\| MMLU CoT +\| Xenova\/flan-t5-small \| +190 \|/m);
    assert.match(r.stdout, /^- MMLU CoT \(Xenova\/flan-t5-small\): 10 example\(s\) only in the baseline, 0 only in current$/m);
    assert.match(r.stdout, /^- only in the baseline: BBH direct, Xenova\/flan-t5-small \(`.*bbh-direct-3shot\.json`\)$/m);
  });

  test('two different models are compared column by column, the model change reported', async () => {
    const { base, cur } = await sides([mmlu(BASE_MMLU)], [mmlu(BASE_MMLU, { model: 'Xenova/flan-t5-base' })]);
    const r = await runCli(['compare', base, cur]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\| Xenova\/flan-t5-small → Xenova\/flan-t5-base \|/);
    assert.match(r.stdout, /model Xenova\/flan-t5-small → Xenova\/flan-t5-base/);
  });

  test('--json prints one document with the verdict and each pair', async () => {
    const { base, cur } = await sides([mmlu(BASE_MMLU)], [mmlu({ ...BASE_MMLU, anatomy: flip(BASE_MMLU.anatomy, 30, 0) })]);
    const r = await runCli(['compare', base, cur, '--json']);
    assert.equal(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.regression, true);
    assert.equal(doc.pairs.length, 1);
    const p = doc.pairs[0];
    assert.equal(p.column, 'mmlu_cot');
    assert.deepEqual([p.n, p.worse, p.better, p.verdict], [200, 30, 0, 'regression']);
    assert.equal(p.delta, -15);
    assert.ok(Math.abs(p.p - 2 * 0.5 ** 30) < 1e-20);
  });

  test('bad inputs exit 2 with one line', async () => {
    const { base, cur } = await sides([mmlu(BASE_MMLU)], [bbh(BASE_BBH)]);
    const cases: [string[], RegExp][] = [
      [[join(base, 'missing'), cur], /missing: no such file or folder \(baseline\)/],
      [[base, cur, '--alpha', '2'], /--alpha 2: give a significance level between 0 and 1/],
      [[base, cur, '--max-drop', '-1'], /--max-drop -1: give a number of points, 0 or more/],
      [[base, cur, '--max-drop', 'lots'], /--max-drop \(not a number\): give a number of points/],
      [[base, cur, '--format', 'html'], /unknown --format "html"\..*Available: md, json\./],
      [[base, cur], /have no benchmark × format in common/],
      [[base], /Not enough non-option arguments|current/],
    ];
    for (const [args, re] of cases) {
      const r = await runCli(['compare', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
  });

  test('a missing predictions file exits 2 naming it', async () => {
    const { base, cur } = await sides([mmlu(BASE_MMLU)], [mmlu(BASE_MMLU)]);
    await rm(join(cur, 'Xenova_flan-t5-small', 'mmlu-cot-5shot.predictions.jsonl'));
    const r = await runCli(['compare', base, cur]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /mmlu-cot-5shot\.predictions\.jsonl: file not found; the run record .* points to it/);
  });
});
