import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { runCli, tempDir } from '../helpers/cli.js';
import { writeRun } from './records-helper.js';

test('--breakdown shows TyDiQA F1 (docs/protocol.md §4: "report F1 too") in a table of its own, beside exact match', async () => {
  const dir = await tempDir();
  const path = await writeRun(dir, { model: 'fixture/f1', params: 1e6, benchmark: 'tydiqa', cot: false, shots: 1, tasks: { arabic: '10', english: '1', korean: '00' } });
  const record = JSON.parse(await readFile(path, 'utf8'));
  // F1 per task as the runner writes it (percentages); the headline F1 is the mean over the average's tasks.
  record.result.tasks.arabic.metrics = { f1: 75 };
  record.result.tasks.english.metrics = { f1: 100 };
  record.result.tasks.korean.metrics = { f1: 20 };
  record.result.metrics = { f1: (75 + 20) / 2 };
  await writeFile(path, JSON.stringify(record));
  const r = await runCli(['report', dir, '--breakdown']);
  assert.equal(r.code, 0, r.stderr);
  const f1 = r.stdout.split('### TyDiQA direct F1: per task\n')[1]!.split('\n### ')[0]!;
  assert.match(f1, /\| \*\*average\*\*\s+\|\s+47\.5 \|/);
  assert.match(f1, /\| arabic\s+\|\s+75\.0 \|/);
  assert.match(f1, /\| english \(not in average\)\s+\|\s+100\.0 \|/);
  assert.match(f1, /\| korean\s+\|\s+20\.0 \|/);
  // Exact match stays the headline.
  assert.match(r.stdout.split('### TyDiQA direct: per task\n')[1]!, /\| \*\*average\*\*\s+\|\s+25\.0 \|/);
});
