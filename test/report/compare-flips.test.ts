import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { getBenchmark } from '../../src/benchmarks/registry.js';
import { hashFiles } from '../../src/runner/hashing.js';
import { fixturesDir, runCli, tempDir } from '../helpers/cli.js';
import { writeRun, type RunSpec } from './records-helper.js';

/**
 * `compare` lists the examples that flipped. The runs are built from outcome strings, so which examples
 * flip, and what the helper wrote as their predictions ("So the answer is t<i mod 4>." when right,
 * "So the answer is nothing." when wrong) and targets (t<i mod 4>), is known exactly.
 */

const MODEL = 'Xenova/flan-t5-small';
const bbh = (tasks: Record<string, string>, extra: Partial<RunSpec> = {}): RunSpec => ({ model: MODEL, params: 7.7e7, benchmark: 'bbh', cot: true, shots: 3, tasks, ...extra });

async function sides(baseline: RunSpec[], current: RunSpec[]): Promise<{ base: string; cur: string; dir: string }> {
  const dir = await tempDir();
  const base = join(dir, 'baseline');
  const cur = join(dir, 'current');
  for (const s of baseline) await writeRun(base, s);
  for (const s of current) await writeRun(cur, s);
  return { base, cur, dir };
}

interface JsonPair {
  flips: { id: string; task: string; direction: string; before: string; after: string; beforeAnswer: string; afterAnswer: string; target: string | null }[];
  targetsFrom: string;
  worse: number;
  better: number;
  config: { what: string; baseline: string; current: string }[];
}

const RIGHT = (i: number) => `So the answer is t${i % 4}.`;
const WRONG = 'So the answer is nothing.';

describe('compare: flipped examples', () => {
  test('JSON lists every flip exactly, in id order, with both predictions and the target; hashes in full', async () => {
    const { base, cur } = await sides(
      [bbh({ boolean_expressions: '1100', word_sorting: '0011' }, { withTargets: true })],
      [bbh({ boolean_expressions: '0110', word_sorting: '0010' }, { withTargets: true, modelHash: 'f'.repeat(64) })],
    );
    const r = await runCli(['compare', base, cur, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const pair = (JSON.parse(r.stdout) as { pairs: JsonPair[] }).pairs[0]!;
    assert.deepEqual(pair.flips, [
      { id: 'bbh/boolean_expressions/0', task: 'boolean_expressions', direction: 'worse', before: RIGHT(0), after: WRONG, beforeAnswer: 't0', afterAnswer: 'nothing', target: 't0' },
      { id: 'bbh/boolean_expressions/2', task: 'boolean_expressions', direction: 'better', before: WRONG, after: RIGHT(2), beforeAnswer: 'nothing', afterAnswer: 't2', target: 't2' },
      { id: 'bbh/word_sorting/3', task: 'word_sorting', direction: 'worse', before: RIGHT(3), after: WRONG, beforeAnswer: 't3', afterAnswer: 'nothing', target: 't3' },
    ]);
    assert.equal(pair.targetsFrom, 'predictions');
    assert.equal(pair.worse, 2);
    assert.equal(pair.better, 1);
    const modelHash = pair.config.find((d) => d.what === 'model hash')!;
    assert.equal(modelHash.current, 'f'.repeat(64));
    assert.match(modelHash.baseline, /^[0-9a-f]{64}$/);

    const md = await runCli(['compare', base, cur]);
    assert.equal(md.code, 0, md.stderr);
    assert.match(md.stdout, /^### Flipped examples$/m);
    assert.match(md.stdout, /^- \*\*BBH CoT\*\* \(Xenova\/flan-t5-small\): 2 right → wrong, 1 wrong → right$/m);
    assert.match(md.stdout, /^ {2}<details><summary>Right → wrong: 2<\/summary>$/m);
    assert.match(md.stdout, /^ {2}\| `bbh\/boolean_expressions\/0` \| boolean_expressions \| `t0` +\| `t0` +\| `nothing` +\|$/m);
    assert.match(md.stdout, /^ {2}<details><summary>Wrong → right: 1<\/summary>$/m);
    assert.match(md.stdout, /^ {2}\| `bbh\/boolean_expressions\/2` \| boolean_expressions \| `t2` +\| `nothing` +\| `t2` +\|$/m);
    // Markdown shortens hashes; JSON (above) keeps them whole.
    assert.match(md.stdout, /model hash [0-9a-f]{12}… → ffffffffffff…/);
  });

  test('Markdown shows at most 20 per direction and says so; JSON keeps all', async () => {
    const { base, cur } = await sides([bbh({ word_sorting: '1'.repeat(30) }, { withTargets: true })], [bbh({ word_sorting: '0'.repeat(25) + '1'.repeat(5) }, { withTargets: true })]);
    const md = await runCli(['compare', base, cur]);
    assert.equal(md.code, 1, md.stderr);
    assert.match(md.stdout, /^ {2}<details><summary>Right → wrong: 25 \(first 20 shown; `--json` lists all\)<\/summary>$/m);
    const rows = md.stdout.split('\n').filter((l) => l.startsWith('  | `bbh/word_sorting/'));
    assert.equal(rows.length, 20);
    assert.match(rows[0]!, /`bbh\/word_sorting\/0`/);
    assert.match(rows[19]!, /`bbh\/word_sorting\/19`/);
    assert.doesNotMatch(md.stdout, /Wrong → right/);
    const json = await runCli(['compare', base, cur, '--json']);
    const pair = (JSON.parse(json.stdout) as { pairs: JsonPair[] }).pairs[0]!;
    assert.deepEqual(
      pair.flips.map((f) => f.id),
      Array.from({ length: 25 }, (_, i) => `bbh/word_sorting/${i}`),
    );
  });

  test('lines without targets: looked up in the run\'s data when it is the same data, else reported unknown', async () => {
    const dataDir = join(fixturesDir, 'data');
    // The MGSM sample data's German answers are 17, 2,125 and 14 (targets drop the separator).
    const prepared = await getBenchmark('mgsm').prepare(dataDir, { cot: true, shots: 8 }, {});
    const { hash } = await hashFiles(dataDir, prepared.files);
    const spec = (o: string, dataHash: string): RunSpec => ({ model: MODEL, params: 7.7e7, benchmark: 'mgsm', cot: true, shots: 8, tasks: { de: o }, averageTasks: ['de'], dataHash });
    const { base, cur } = await sides([spec('101', hash)], [spec('011', hash)]);
    const r = await runCli(['compare', base, cur, '--json', '--data-dir', dataDir]);
    assert.equal(r.code, 0, r.stderr);
    const pair = (JSON.parse(r.stdout) as { pairs: JsonPair[] }).pairs[0]!;
    assert.equal(pair.targetsFrom, 'data');
    assert.deepEqual(
      pair.flips.map((f) => [f.id, f.direction, f.target]),
      [
        ['mgsm/de/0', 'worse', '17'],
        ['mgsm/de/1', 'better', '2125'],
      ],
    );
    const md = await runCli(['compare', base, cur, '--data-dir', dataDir]);
    assert.match(md.stdout, /Targets looked up in the benchmark data/);

    // Other data than the run used: no target is better than a wrong one.
    const other = await sides([spec('101', 'e'.repeat(64))], [spec('011', 'e'.repeat(64))]);
    const r2 = await runCli(['compare', other.base, other.cur, '--json', '--data-dir', dataDir]);
    const pair2 = (JSON.parse(r2.stdout) as { pairs: JsonPair[] }).pairs[0]!;
    assert.equal(pair2.targetsFrom, 'unavailable');
    assert.deepEqual(
      pair2.flips.map((f) => f.target),
      [null, null],
    );
    const md2 = await runCli(['compare', other.base, other.cur, '--data-dir', dataDir]);
    assert.match(md2.stdout, /Targets unknown \(`\?`\)/);
  });
});
