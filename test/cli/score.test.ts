import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fixturesDir, runCli, tempDir } from '../helpers/cli.js';
import { assertOneLineError } from './prompts-score-asserts.js';

const dataDir = join(fixturesDir, 'data');

async function writeJsonl(rows: object[], raw = ''): Promise<string> {
  const file = join(await tempDir(), 'preds.jsonl');
  await writeFile(file, rows.map((r) => `${JSON.stringify(r)}\n`).join('') + raw);
  return file;
}

/** The ids and targets of a format, via the real `prompts` command. */
async function promptsOf(args: string[]): Promise<{ id: string; target: string }[]> {
  const out = join(await tempDir(), 'p.jsonl');
  const r = await runCli(['prompts', ...args, '--data-dir', dataDir, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  return (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
}

describe('flan-eval score', () => {
  it('scores predictions that answer like models do, per task and as an unweighted mean (--json)', async () => {
    const preds = [
      { id: 'bbh/snarks/0', prediction: 'Reasons.\nSo the answer is (A).\n\nQ: Which statement is sarcastic?\nA: So the answer is (B).' }, // right, text after stop
      { id: 'bbh/snarks/1', prediction: 'The answer is (B).   ' }, // right: "The answer is" at the start, trailing spaces
      { id: 'bbh/snarks/2', prediction: 'I cannot tell.' }, // wrong: no answer at all
      { id: 'bbh/object_counting/0', prediction: 'So the answer is 4.' },
      { id: 'bbh/object_counting/1', prediction: 'So the answer is five.' },
      // bbh/object_counting/2 and all of logical_deduction_three_objects: missing
    ];
    const r = await runCli(['score', 'bbh', '--cot', '--predictions', await writeJsonl(preds), '--data-dir', dataDir, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /5 of 10 items have no prediction in .*preds\.jsonl; they count as wrong/);
    const j = JSON.parse(r.stdout);
    assert.equal(j.benchmark, 'bbh');
    assert.equal(j.cot, true);
    assert.equal(j.shots, 3);
    assert.equal(j.missing, 5);
    assert.deepEqual(Object.keys(j.tasks), ['logical_deduction_three_objects', 'object_counting', 'snarks']);
    assert.equal(j.tasks.snarks.n, 3);
    assert.ok(Math.abs(j.tasks.snarks.score - 200 / 3) < 1e-9);
    assert.ok(Math.abs(j.tasks.object_counting.score - 100 / 3) < 1e-9);
    assert.equal(j.tasks.object_counting.missing, 1);
    assert.equal(j.tasks.logical_deduction_three_objects.score, 0);
    assert.equal(j.tasks.logical_deduction_three_objects.missing, 4);
    assert.ok(Math.abs(j.score - (200 / 3 + 100 / 3 + 0) / 3) < 1e-9);
    assert.ok(typeof j.tasks.snarks.stderr === 'number' && j.tasks.snarks.stderr > 0);
  });

  it('MMLU: "(B)" and "B" both count, the direct format reads the first (A)–(D)', async () => {
    const items = await promptsOf(['mmlu']);
    const preds = items.map((it, i) => ({ id: it.id, prediction: i % 2 ? ` ${it.target}` : it.target.slice(1, 2) }));
    const r = await runCli(['score', 'mmlu', '--predictions', await writeJsonl(preds), '--data-dir', dataDir, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.score, 100);
    assert.equal(j.missing, 0);
    assert.equal(j.split, 'val');
    assert.equal(r.stderr, '');
  });

  it('prints a readable table without --json', async () => {
    const items = await promptsOf(['bbh', '--zero-shot']);
    const preds = items.map((it) => ({ id: it.id, prediction: it.id.includes('snarks') ? it.target : 'no' }));
    const r = await runCli(['score', 'bbh', '--zero-shot', '--predictions', await writeJsonl(preds), '--data-dir', dataDir]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.match(lines[0]!, /^bbh direct zero-shot — .*preds\.jsonl$/);
    assert.match(r.stdout, /^task\s+n\s+score\s+± se\s+missing$/m);
    assert.match(r.stdout, /^snarks\s+3\s+100\.00\s+0\.00\s+0$/m);
    assert.match(r.stdout, /^object_counting\s+3\s+0\.00\s+0\.00\s+0$/m);
    assert.match(r.stdout, /^mean \(3 tasks\)\s+33\.33\s+0\.00$/m);
  });

  it('accepts the predictions JSONL of run (extra fields) and blank lines', async () => {
    const file = await writeJsonl([{ id: 'bbh/snarks/0', task: 'snarks', promptHash: 'x', prediction: '(A)', answer: '(A)', correct: true }], '\n\n');
    const r = await runCli(['score', 'bbh', '--tasks', 'snarks', '--predictions', file, '--data-dir', dataDir, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Math.abs(JSON.parse(r.stdout).tasks.snarks.score - 100 / 3) < 1e-9);
    assert.match(r.stderr, /1 predictions in .* were made for different prompts/);
  });
});

describe('flan-eval score: needs only what scoring needs', () => {
  it('TyDiQA scores without the train file (it only supplies exemplars), the same as with it', async () => {
    const items = await promptsOf(['tydiqa']);
    const preds = items.map((p, i) => ({ id: p.id, prediction: i % 2 ? p.target : 'no idea' }));
    const file = await writeJsonl(preds);
    const withTrain = await runCli(['score', 'tydiqa', '--predictions', file, '--data-dir', dataDir, '--json']);
    assert.equal(withTrain.code, 0, withTrain.stderr);
    const noTrain = await tempDir();
    await cp(join(dataDir, 'tydiqa', 'tydiqa-goldp-v1.1-dev.json'), join(noTrain, 'tydiqa', 'tydiqa-goldp-v1.1-dev.json'));
    const without = await runCli(['score', 'tydiqa', '--predictions', file, '--data-dir', noTrain, '--json']);
    assert.equal(without.code, 0, without.stderr);
    assert.deepEqual(JSON.parse(without.stdout), JSON.parse(withTrain.stdout));
    assert.ok(JSON.parse(without.stdout).score > 0);
    assert.match(without.stderr, /predictions are not checked against their prompts/);
    // Making prompts still needs it, and says so.
    const prompts = await runCli(['prompts', 'tydiqa', '--data-dir', noTrain, '--out', join(noTrain, 'p.jsonl')]);
    assert.equal(prompts.code, 2, prompts.stderr);
    assert.match(prompts.stderr, /tydiqa-goldp-v1\.1-train\.json/);
  });
});

describe('flan-eval score: errors exit 2 with one line', () => {
  it('a duplicate id names the file, line and id', async () => {
    const file = await writeJsonl([
      { id: 'bbh/snarks/0', prediction: '(A)' },
      { id: 'bbh/snarks/1', prediction: '(A)' },
      { id: 'bbh/snarks/0', prediction: '(B)' },
    ]);
    assertOneLineError(await runCli(['score', 'bbh', '--predictions', file, '--data-dir', dataDir]), new RegExp(`${file}:3: duplicate id "bbh/snarks/0" \\(first on line 1\\)`));
  });

  it('an id outside the selection is named', async () => {
    const file = await writeJsonl([{ id: 'bbh/snarks/0', prediction: '(A)' }, { id: 'bbh/snarks/99', prediction: '(A)' }]);
    assertOneLineError(await runCli(['score', 'bbh', '--predictions', file, '--data-dir', dataDir]), new RegExp(`${file}:2: id "bbh/snarks/99" is not among the 10 selected bbh items`));
  });

  it('a missing predictions file', async () => {
    const file = join(await tempDir(), 'nope.jsonl');
    assertOneLineError(await runCli(['score', 'mmlu', '--predictions', file, '--data-dir', dataDir]), new RegExp(`${file}: file not found`));
  });

  it('a line that is not JSON, or has no prediction', async () => {
    const bad = await writeJsonl([{ id: 'bbh/snarks/0', prediction: '(A)' }], '{"id": "bbh/snarks/1", "prediction": \n');
    assertOneLineError(await runCli(['score', 'bbh', '--predictions', bad, '--data-dir', dataDir]), new RegExp(`${bad}:2: not valid JSON \\(`));
    const noPrediction = await writeJsonl([{ id: 'bbh/snarks/0', answer: '(A)' }]);
    assertOneLineError(await runCli(['score', 'bbh', '--predictions', noPrediction, '--data-dir', dataDir]), /:1: id "bbh\/snarks\/0" has no string "prediction"/);
  });

  it('--shots -1 and an unknown benchmark', async () => {
    const file = await writeJsonl([]);
    assertOneLineError(await runCli(['score', 'bbh', '--shots', '-1', '--predictions', file, '--data-dir', dataDir]), /--shots must be a whole number 0 or more, got -1/);
    assertOneLineError(await runCli(['score', 'bhh', '--predictions', file, '--data-dir', dataDir]), /unknown benchmark "bhh"\. Did you mean "bbh"\?/);
  });
});
