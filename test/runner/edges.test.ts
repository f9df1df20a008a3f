import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, symlink } from 'node:fs/promises';
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
