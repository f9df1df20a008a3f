import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PreparedItem } from '../../src/benchmarks/adapter.js';
import { aggregateByTask, endOfLast, percentWithStderr, truncateAtStop } from '../../src/benchmarks/scoring.js';
import type { ItemScore } from '../../src/types.js';

const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} != ${b}`);

describe('truncateAtStop', () => {
  it('cuts at the earliest of several stop sequences', () => {
    assert.equal(truncateAtStop('a\n\nQ: b\nc', ['\n', '\n\nQ:']), 'a');
    assert.equal(truncateAtStop('abc\n\nQ: x', ['\n\nQ:']), 'abc');
    assert.equal(truncateAtStop('abc', ['\n\nQ:', '']), 'abc');
  });
});

describe('endOfLast', () => {
  it('finds the end of the last match, case-insensitively, even where lower-casing changes lengths', () => {
    assert.equal(endOfLast(/answer is /giu, 'İİ the Answer is x'), 'İİ the Answer is '.length);
    assert.equal(endOfLast(/answer is /giu, 'none'), -1);
  });
});

describe('percentWithStderr', () => {
  it('gives the percentage and the standard error of the mean (sample SD / √n)', () => {
    const r = percentWithStderr([1, 0, 1, 1]);
    near(r.score, 75);
    near(r.stderr, 25); // sample variance 0.25, √(0.25/4) = 0.25
    assert.deepEqual(percentWithStderr([]), { score: 0, stderr: 0 });
    assert.deepEqual(percentWithStderr([1]), { score: 100, stderr: 0 });
  });
});

describe('aggregateByTask', () => {
  const item = (task: string, i: number): PreparedItem => ({ id: `b/${task}/${i}`, benchmark: 'bbh', task, prompt: '', target: '', stop: [] });
  const items = [item('b_task', 0), item('b_task', 1), item('b_task', 2), item('b_task', 3), item('a_task', 0), item('a_task', 1), item('Z', 0)];
  const s = (correct: boolean, metrics?: Record<string, number>): ItemScore => ({ answer: '', correct, ...(metrics ? { metrics } : {}) });

  it('scores each task (missing predictions wrong and counted) and takes the unweighted mean', () => {
    const scores = new Map<string, ItemScore>([
      ['b/b_task/0', s(true)],
      ['b/b_task/1', s(false)],
      ['b/b_task/2', s(true)],
      ['b/b_task/3', s(true)],
      ['b/a_task/0', s(true)],
      ['b/Z/0', s(false)],
    ]);
    const r = aggregateByTask('bbh', items, scores, ['a_task', 'b_task', 'Z', 'empty'], ['a_task', 'b_task', 'empty']);
    // Code-point order (upper case first), not locale order.
    assert.deepEqual(Object.keys(r.tasks), ['Z', 'a_task', 'b_task', 'empty']);
    assert.deepEqual(r.tasks.a_task, { score: 50, n: 2, stderr: 50, missing: 1 });
    near(r.tasks.b_task!.score, 75);
    assert.equal(r.tasks.b_task!.missing, undefined);
    assert.deepEqual(r.tasks.empty, { score: 0, n: 0, stderr: 0 });
    // The average is over averageTasks that have items: a_task and b_task, not Z (left out) or empty.
    assert.deepEqual(r.averageTasks, ['a_task', 'b_task']);
    near(r.score, (50 + 75) / 2);
    near(r.stderr, Math.sqrt(50 ** 2 + 25 ** 2) / 2);
  });

  it('averages secondary metrics per task and over the average tasks', () => {
    const scores = new Map<string, ItemScore>([
      ['b/a_task/0', s(true, { f1: 1 })],
      ['b/a_task/1', s(false, { f1: 0.5 })],
      ['b/Z/0', s(false, { f1: 0.2 })],
    ]);
    const r = aggregateByTask('tydiqa', items.filter((i) => i.task !== 'b_task'), scores, [], ['a_task', 'Z']);
    near(r.tasks.a_task!.metrics!.f1!, 75);
    near(r.tasks.Z!.metrics!.f1!, 20);
    near(r.metrics!.f1!, 47.5);
  });
});
