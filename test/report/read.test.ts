import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { loadRunRecords, readPredictions } from '../../src/results/read.js';
import { fixturesDir, tempDir } from '../helpers/cli.js';
import { runRecordFor, writeRun } from './records-helper.js';

const spec = { model: 'm', params: 1e8, benchmark: 'mmlu', cot: false, shots: 5, tasks: { anatomy: '101' } } as const;

/** A UsageError whose one-line message matches `re`. */
const usage = (re: RegExp) => (e: unknown) => e instanceof UsageError && !e.message.includes('\n') && re.test(e.message);

describe('loadRunRecords', () => {
  test('finds records recursively in folders and skips other JSON', async () => {
    const loaded = await loadRunRecords([join(fixturesDir, 'records', 'paper-suite')]);
    assert.equal(loaded.length, 10);
    assert.ok(loaded.every((l) => l.record.schema === 'flan-eval/run-record@1'));
  });

  test('a file named twice, or via its folder and itself, is loaded once', async () => {
    const dir = await tempDir();
    const file = await writeRun(dir, spec);
    assert.equal((await loadRunRecords([file, dir, file])).length, 1);
  });

  test('a missing path, an empty folder and a non-record file are one-line errors', async () => {
    const dir = await tempDir();
    await assert.rejects(loadRunRecords([join(dir, 'nope')], 'baseline'), usage(/nope: no such file or folder \(baseline\)/));
    await writeFile(join(dir, 'other.json'), '{"a": 1}');
    await assert.rejects(loadRunRecords([dir]), usage(/no run records found .*flan-eval run/));
    await assert.rejects(loadRunRecords([join(dir, 'other.json')]), usage(/other\.json: not a run record/));
  });

  test('an invalid record names the file and the field', async () => {
    const dir = await tempDir();
    const { record } = runRecordFor(spec);
    await writeFile(join(dir, 'r.json'), JSON.stringify({ ...record, model: { ...record.model, params: '80M' } }));
    await assert.rejects(loadRunRecords([dir]), usage(/r\.json: invalid run record: model\.params: .*expected number/));
    await writeFile(join(dir, 'r.json'), JSON.stringify(record).slice(0, 200));
    await assert.rejects(loadRunRecords([dir]), usage(/r\.json.*invalid JSON/));
  });
});

describe('readPredictions', () => {
  test('reads the JSONL next to the record', async () => {
    const dir = await tempDir();
    const [loaded] = await loadRunRecords([await writeRun(dir, spec)]);
    const lines = await readPredictions(loaded!);
    assert.deepEqual(
      lines.map((l) => [l.id, l.correct]),
      [
        ['mmlu/anatomy/0', true],
        ['mmlu/anatomy/1', false],
        ['mmlu/anatomy/2', true],
      ],
    );
  });

  test('bad lines name the file and line; a missing file says where it was expected', async () => {
    const dir = await tempDir();
    const file = await writeRun(dir, spec);
    const [loaded] = await loadRunRecords([file]);
    const preds = join(dir, 'm', loaded!.record.predictions);
    const good = JSON.stringify({ id: 'mmlu/anatomy/0', task: 'anatomy', promptHash: 'h', prediction: 'p', answer: 'A', correct: true });
    await writeFile(preds, `${good}\n{"id": "x"\n`);
    await assert.rejects(readPredictions(loaded!), usage(/predictions\.jsonl:2: not valid JSON/));
    await writeFile(preds, `${good}\n\n${JSON.stringify({ id: 'b', task: 't', promptHash: 'h', prediction: 'p', answer: 'A', correct: 'yes' })}\n`);
    await assert.rejects(readPredictions(loaded!), usage(/predictions\.jsonl:3: invalid prediction line: correct: /));
    await writeFile(preds, `${good}\n${good}\n`);
    await assert.rejects(readPredictions(loaded!), usage(/predictions\.jsonl:2: duplicate id "mmlu\/anatomy\/0" \(first on line 1\)/));
    await rm(preds);
    await assert.rejects(readPredictions(loaded!), usage(/predictions\.jsonl: file not found; the run record .* points to it/));
  });
});
