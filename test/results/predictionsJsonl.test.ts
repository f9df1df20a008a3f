import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readPredictionFile } from '../../src/cli/commands/score.js';
import { UsageError } from '../../src/errors.js';
import { parsePredictions } from '../../src/results/predictionsJsonl.js';
import { parsePredictionLine, readPredictions, type LoadedRecord } from '../../src/results/read.js';
import { PredictionStore } from '../../src/runner/store.js';
import type { RunRecord } from '../../src/types.js';
import { tempDir } from '../helpers/cli.js';

/**
 * One policy for predictions JSONL, whoever reads it: `run` resuming (store), `score`, and the readers of
 * finished runs (report, compare, merge). Each case below goes through all three.
 */

const line = (id: string, extra: object = {}) => JSON.stringify({ id, task: 't', promptHash: 'h', prediction: 'p', answer: 'A', correct: true, ...extra });

interface Outcome {
  ids?: string[];
  error?: RegExp;
}

async function throughAll(text: string): Promise<{ store: Outcome & { after?: string }; score: Outcome; results: Outcome }> {
  const dir = await tempDir();
  const file = join(dir, 'x.predictions.jsonl');
  const attempt = async (f: () => Promise<string[]>): Promise<Outcome> => {
    try {
      return { ids: await f() };
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      return { error: new RegExp(e.message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) };
    }
  };
  await writeFile(file, text);
  const score = await attempt(async () => (await readPredictionFile(file)).map((p) => p.id));
  const loaded = { record: { predictions: 'x.predictions.jsonl' } as RunRecord, file: join(dir, 'x.json') } as LoadedRecord;
  const results = await attempt(async () => (await readPredictions(loaded)).map((p) => p.id));
  await writeFile(`${file}.state.json`, JSON.stringify({ configHash: 'c' }));
  const store = await attempt(async () => {
    const s = await PredictionStore.open(file, 'c');
    await s.close();
    return [...s.existing.keys()];
  });
  return { store: { ...store, after: await readFile(file, 'utf8') }, score, results };
}

describe('predictions JSONL: one reader, one policy', () => {
  test('blank lines are ignored by all', async () => {
    const r = await throughAll(`${line('a')}\n\n${line('b')}\n`);
    assert.deepEqual([r.store.ids, r.score.ids, r.results.ids], [['a', 'b'], ['a', 'b'], ['a', 'b']]);
  });

  test('a retried example: the later line replaces the error line, for all', async () => {
    const r = await throughAll(`${line('a', { error: 'inference failed', prediction: '' })}\n${line('b')}\n${line('a')}\n`);
    assert.deepEqual([r.store.ids, r.score.ids, r.results.ids], [['a', 'b'], ['a', 'b'], ['a', 'b']]);
    const parsed = parsePredictions(`${line('a', { error: 'x' })}\n${line('a', { prediction: 'second' })}\n`, 'f', (v, n) => parsePredictionLine(v, 'f', n));
    assert.equal(parsed.lines[0]!.prediction, 'second');
    assert.equal(parsed.lineOf.get('a'), 2);
  });

  test('a re-predicted example whose prompt changed: the later line replaces it, for all', async () => {
    const r = await throughAll(`${line('a', { promptHash: 'old' })}\n${line('a', { promptHash: 'new' })}\n`);
    assert.deepEqual([r.store.ids, r.score.ids, r.results.ids], [['a'], ['a'], ['a']]);
  });

  test('any other repeated id is the same error for all (file, line, id)', async () => {
    const r = await throughAll(`${line('a')}\n${line('b')}\n${line('a')}\n`);
    for (const o of [r.store, r.score, r.results]) assert.match(o.error?.source ?? '', /x\\\.predictions\\\.jsonl:3: duplicate id "a" \\\(first on line 1\\\)/);
  });

  test('a corrupt line in the middle is the same error for all (run no longer skips it silently)', async () => {
    const r = await throughAll(`${line('a')}\n{"id": "b", "pred\n${line('c')}\n`);
    for (const o of [r.store, r.score, r.results]) assert.match(o.error?.source ?? '', /x\\\.predictions\\\.jsonl:2: not valid JSON/);
  });

  test('a torn last line: run cuts it off (and predicts that example again); readers of results refuse the file', async () => {
    const r = await throughAll(`${line('a')}\n${line('b')}\n{"id": "c", "task": "t", "pro`);
    assert.deepEqual(r.store.ids, ['a', 'b']);
    assert.equal(r.store.after, `${line('a')}\n${line('b')}\n`);
    for (const o of [r.score, r.results]) assert.match(o.error?.source ?? '', /x\\\.predictions\\\.jsonl:3: ends in an incomplete line/);
  });

  test('a whole last line without its newline is kept by all; run adds the newline before appending', async () => {
    const r = await throughAll(`${line('a')}\n${line('b')}`);
    assert.deepEqual([r.store.ids, r.score.ids, r.results.ids], [['a', 'b'], ['a', 'b'], ['a', 'b']]);
    assert.equal(r.store.after, `${line('a')}\n${line('b')}\n`);
  });
});
