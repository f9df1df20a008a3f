import assert from 'node:assert/strict';
import { cp, mkdir, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { fixturesDir, runCli, tempDir } from '../helpers/cli.js';
import { testModelDir } from '../helpers/testModel.js';

/** The edges of `run` a new user meets: results that must never be lost or mislabelled. */

const DATA = join(fixturesDir, 'data');
let modelA: string;
let modelB: string;
let models: string;

before(async () => {
  models = await tempDir();
  // Two different models whose folders have the same name, m.
  await mkdir(join(models, 'a'));
  await mkdir(join(models, 'b'));
  modelA = join(models, 'a', 'm');
  modelB = join(models, 'b', 'm');
  await symlink(await testModelDir('tiny', 1), modelA);
  await symlink(await testModelDir('tiny', 2), modelB);
});

const quick = (out: string, ...extra: string[]) => ['run', 'mmlu', '--tasks', 'world_religions', '--limit', '2', '--data-dir', DATA, '--out', out, '--max-new-tokens', '4', '--quiet', ...extra];

describe('run: two models with the same folder name', () => {
  test('in one command they are refused before anything runs (exit 2, one line), nothing is written', async () => {
    const out = await tempDir();
    const r = await runCli([...quick(out), '--model', modelA, '--model', modelB]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`--model ${modelA} and --model ${modelB} are different models with one name, "m": both would write ${join(out, 'm')}/`));
    assert.deepEqual(await readdir(out), []);
  });

  test('in two commands with one --out, the second is refused and the first model\'s results stay', async () => {
    const out = await tempDir();
    const first = await runCli([...quick(out), '--model', modelA]);
    assert.equal(first.code, 0, first.stderr);
    const predictionsFile = async () => join(out, 'm', (await readdir(join(out, 'm'))).find((n) => n.endsWith('.predictions.jsonl'))!);
    const before = await readFile(await predictionsFile(), 'utf8');
    const second = await runCli([...quick(out), '--model', modelB]);
    assert.equal(second.code, 2, second.stderr);
    assert.match(second.stderr, /holds the predictions of another model named "m" \(.*\/a\/m\); .*\/b\/m would overwrite them/);
    const files = await readdir(join(out, 'm'));
    assert.deepEqual(files.filter((f) => f.includes('stale')), [], 'nothing was moved aside');
    assert.equal(await readFile(await predictionsFile(), 'utf8'), before);
  });

  test('the same model given twice runs once', async () => {
    const out = await tempDir();
    const r = await runCli([...quick(out, '--json'), '--model', modelA, '--model', modelA]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).runs.length, 1);
  });
});

describe('run: expected tasks whose data files are missing', () => {
  async function dataWithout(rel: string): Promise<string> {
    const dir = await tempDir();
    await cp(DATA, dir, { recursive: true });
    await rm(join(dir, rel));
    return dir;
  }
  const mmluRun = (data: string, out: string, ...extra: string[]) => ['run', 'mmlu', '--model', modelA, '--limit', '1', '--data-dir', data, '--out', out, '--max-new-tokens', '4', '--quiet', ...extra];

  test('are named on stderr before the run (even with --quiet), recorded, and the report marks the score partial', async () => {
    const data = await dataWithout('mmlu/val/world_religions_val.csv');
    const out = await tempDir();
    const r = await runCli(mmluRun(data, out));
    assert.equal(r.code, 0, r.stderr);
    const warning = r.stderr.split('\n').find((l) => l.startsWith('flan-eval: warning: mmlu: '));
    assert.ok(warning, r.stderr);
    assert.match(warning, new RegExp(`^flan-eval: warning: mmlu: 55 of 57 expected tasks have no data files in ${data}: abstract_algebra, .*, world_religions\\. They are not evaluated`));
    assert.doesNotMatch(warning, /college_mathematics|high_school_geography/);
    const record = JSON.parse(await readFile(join(out, 'm', 'mmlu_direct_5shot_val_limit1.json'), 'utf8'));
    assert.equal(record.missingTasks.length, 55);
    assert.ok(record.missingTasks.includes('world_religions'));
    assert.deepEqual(Object.keys(record.result.tasks), ['college_mathematics', 'high_school_geography']);
    const report = await runCli(['report', out]);
    assert.equal(report.code, 0, report.stderr);
    assert.match(report.stdout, /\* m, MMLU[^:]*: .*55 tasks missing from the data \(abstract_algebra, /);
  });

  test('--strict refuses them with one line (exit 2) and writes nothing', async () => {
    const data = await dataWithout('mmlu/val/world_religions_val.csv');
    const out = await tempDir();
    const r = await runCli(mmluRun(data, out, '--strict'));
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^flan-eval: --strict: mmlu: 55 of 57 expected tasks have no data files .*world_religions; run `flan-eval data fetch mmlu`/);
    assert.deepEqual(await readdir(out), []);
  });

  test('a --tasks selection only expects the tasks it names', async () => {
    const out = await tempDir();
    const r = await runCli([...mmluRun(DATA, out), '--tasks', 'world_religions', '--strict']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /warning: mmlu/);
  });
});

describe('run: predictions that can be analysed', () => {
  const jsonl = async (file: string) => (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

  test('each line carries the target `prompts` writes; --save-prompts adds the exact prompt, and a rerun without it drops it', async () => {
    const dir = await tempDir();
    const promptsFile = join(dir, 'p.jsonl');
    const p = await runCli(['prompts', 'tydiqa', '--limit', '1', '--data-dir', DATA, '--out', promptsFile]);
    assert.equal(p.code, 0, p.stderr);
    const expected = new Map((await jsonl(promptsFile)).map((l) => [l.id, l]));
    const out = join(dir, 'results');
    const args = ['run', 'tydiqa', '--limit', '1', '--model', modelA, '--data-dir', DATA, '--out', out, '--max-new-tokens', '4', '--quiet'];
    const r = await runCli([...args, '--save-prompts']);
    assert.equal(r.code, 0, r.stderr);
    const file = join(out, 'm', 'tydiqa_direct_1shot_limit1.predictions.jsonl');
    const lines = await jsonl(file);
    assert.equal(lines.length, expected.size);
    for (const l of lines) {
      assert.deepEqual(Object.keys(l).slice(0, 5), ['id', 'task', 'target', 'prompt', 'promptHash']);
      assert.equal(l.target, expected.get(l.id)!.target);
      assert.equal(l.prompt, expected.get(l.id)!.prompt);
    }
    const again = await runCli(args);
    assert.equal(again.code, 0, again.stderr);
    const plain = await jsonl(file);
    assert.ok(plain.every((l) => !('prompt' in l) && l.target === expected.get(l.id)!.target));
  });
});

describe('run: small things a user meets in the first hour', () => {
  test('--quiet keeps the random-weights warning (it changes what the numbers mean)', async () => {
    const out = await tempDir();
    const r = await runCli([...quick(out), '--model', modelA]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^flan-eval: warning: .*a\/m is a random-weight test model \(make-test-model\): its scores are meaningless$/m);
  });

  test('report results/*/*.json skips run\'s resume state files', async () => {
    const out = await tempDir();
    const r = await runCli([...quick(out), '--model', modelA]);
    assert.equal(r.code, 0, r.stderr);
    const files = (await readdir(join(out, 'm'))).filter((f) => f.endsWith('.json')).map((f) => join(out, 'm', f));
    assert.equal(files.filter((f) => f.endsWith('.state.json')).length, 1, 'the glob does match a state file');
    const report = await runCli(['report', ...files]);
    assert.equal(report.code, 0, report.stderr);
    assert.match(report.stdout, /\| m /);
    const onlyState = await runCli(['report', ...files.filter((f) => f.endsWith('.state.json'))]);
    assert.equal(onlyState.code, 2);
    assert.match(onlyState.stderr, /no run records among these files/);
  });
});

describe('run: what a record says', () => {
  test('decoding.stop records the stops each task ran with (MGSM: per language), not their union', async () => {
    const out = await tempDir();
    const r = await runCli(['run', 'mgsm', 'mmlu', '--tasks', 'world_religions', '--limit', '1', '--model', modelA, '--data-dir', DATA, '--out', out, '--max-new-tokens', '2', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const files = await readdir(join(out, 'm'));
    const read = async (prefix: string) => JSON.parse(await readFile(join(out, 'm', files.find((f) => f.startsWith(prefix) && f.endsWith('.json') && !f.endsWith('.state.json'))!), 'utf8'));
    const mgsm = await read('mgsm_');
    const { getBenchmark } = await import('../../src/benchmarks/registry.js');
    const { items } = await getBenchmark('mgsm').prepare(DATA, { cot: true, shots: 8 }, { limit: 1 });
    const expected = Object.fromEntries(items.map((i) => [i.task, [...i.stop].sort()]));
    assert.ok(Object.keys(expected).length >= 2 && new Set(Object.values(expected).map((s) => JSON.stringify(s))).size >= 2, 'the fixture languages stop differently');
    assert.deepEqual(mgsm.decoding.stopByTask, expected);
    for (const s of mgsm.decoding.stop) assert.ok(Object.values(expected).every((list) => list.includes(s)), `${JSON.stringify(s)} is not a stop of every language`);
    const mmlu = await read('mmlu_');
    assert.deepEqual(mmlu.decoding, { maxNewTokens: 2, stop: ['\n\nQ:'] });
  });
});
