import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { getBenchmark } from '../../src/benchmarks/registry.js';
import { clusteredTaskMeanError, clustersRepeat, taskClusteredError, type Observation } from '../../src/stats/clustered.js';
import type { ItemScore } from '../../src/types.js';
import { fixturesDir } from '../helpers/cli.js';

/** Observations from outcome strings: task → '1100', example i in cluster `c<i>` (same i = same cluster). */
function obs(tasks: Record<string, string>, cluster = (_task: string, i: number) => `c${i}`): Observation[] {
  return Object.entries(tasks).flatMap(([task, o]) => [...o].map((c, i) => ({ task, cluster: cluster(task, i), x: Number(c) })));
}

describe('clustered standard errors (Miller 2024)', () => {
  test('one task: sqrt(Σ_c (Σ_{i∈c} (x_i − x̄))²) / n, worked by hand', () => {
    // Clusters a: [1, 0], b: [1, 1], c: [0]. x̄ = 3/5. Cluster sums of residuals: a −0.2, b 0.8, c −0.6.
    // sqrt(0.04 + 0.64 + 0.36) / 5 = sqrt(1.04) / 5 = 0.203961…
    const o: Observation[] = [
      { task: 't', cluster: 'a', x: 1 },
      { task: 't', cluster: 'a', x: 0 },
      { task: 't', cluster: 'b', x: 1 },
      { task: 't', cluster: 'b', x: 1 },
      { task: 't', cluster: 'c', x: 0 },
    ];
    const r = clusteredTaskMeanError(o, 'task');
    assert.ok(Math.abs(r.stderr - Math.sqrt(1.04) / 5) < 1e-12, String(r.stderr));
    assert.equal(r.clusters, 3);
  });

  test('singleton clusters give the naive error times sqrt((n−1)/n)', () => {
    const o = obs({ t: '1101001110' }, (_, i) => `own ${i}`);
    // p = 0.6, naive = sqrt(p(1−p)·n/(n−1) / n) with n = 10.
    const naive = Math.sqrt((0.24 * 10) / 9 / 10);
    assert.ok(Math.abs(clusteredTaskMeanError(o, 'task').stderr - naive * Math.sqrt(9 / 10)) < 1e-12);
    assert.equal(clustersRepeat(o), false);
  });

  test('the same problems in two languages, perfectly correlated: larger than the naive error', () => {
    // Both languages 1100: task means ½, residuals ±½, weights 1/(2·4) = 1/8. Problem sums ±1/8 (four of
    // them): sqrt(4/64) = 0.25, the error of a 4-problem mean. Naive: s² = 1/3 per language,
    // sqrt(2 · (1/3)/4) / 2 = 0.2041.
    const o = obs({ de: '1100', ja: '1100' });
    assert.ok(Math.abs(clusteredTaskMeanError(o, 'task').stderr - 0.25) < 1e-12);
    assert.equal(clusteredTaskMeanError(o, 'task').clusters, 4);
  });

  test('tasks as clusters: sqrt(Σ_t (s_t − S)²) / T, from examples and from task scores alike', () => {
    // Task scores 100, 50, 0 (S = 50): sqrt(0.25 + 0 + 0.25) / 3 = 0.235702…
    const o = obs({ a: '1111', b: '1100', c: '0000' }, (task) => task);
    const expected = Math.sqrt(0.5) / 3;
    assert.ok(Math.abs(clusteredTaskMeanError(o, 'overall').stderr - expected) < 1e-12);
    assert.ok(Math.abs(taskClusteredError([100, 50, 0]) - 100 * expected) < 1e-9);
    // Centred on each task's own mean, a task-cluster sums to zero: the 'overall' centre is required.
    assert.equal(clusteredTaskMeanError(o, 'task').stderr, 0);
  });

  test('MGSM records cluster by problem across languages (sample data, hand computation)', async () => {
    const adapter = getBenchmark('mgsm');
    // Two problems per language; en is outside the paper's average, so bn, de, ja, zh count (T = 4).
    const { items } = await adapter.prepare(join(fixturesDir, 'data'), { cot: true, shots: 8 }, { limit: 2 });
    assert.deepEqual([...new Set(items.map((i) => i.cluster))], ['problem 0', 'problem 1']);
    // Problem 0 right everywhere, problem 1 wrong everywhere: task means ½, weights 1/(4·2), problem sums
    // ±4·½/8 = ±¼, clustered = sqrt(2/16) = 0.35355 (35.36 points); naive: s² = ½ per language,
    // se² = ¼, sqrt(4 · ¼) / 4 = 0.25 (25 points).
    const scores = new Map<string, ItemScore>(items.map((i) => [i.id, { answer: '', correct: i.id.endsWith('/0') }]));
    const result = adapter.aggregate(items, scores);
    assert.deepEqual(result.averageTasks, ['bn', 'de', 'ja', 'zh']);
    assert.ok(Math.abs(result.stderr - 25) < 1e-9, String(result.stderr));
    assert.equal(result.clustered?.by, 'problem');
    assert.equal(result.clustered?.clusters, 2);
    assert.ok(Math.abs(result.clustered!.stderr - 100 * Math.sqrt(2 / 16)) < 1e-9, String(result.clustered?.stderr));
  });

  test('TyDiQA clusters by passage only where passages repeat (sample data, hand computation)', async () => {
    const adapter = getBenchmark('tydiqa');
    const dataDir = join(fixturesDir, 'data');
    const { items } = await adapter.prepare(dataDir, { cot: false, shots: 0 }, {});
    // The sample data asks two questions about one English passage (english-1002-0 and -1); every other
    // passage has one question.
    const cluster = new Map(items.map((i) => [i.id, i.cluster]));
    assert.equal(cluster.get('tydiqa/english/1'), cluster.get('tydiqa/english/2'));
    assert.equal(new Set(cluster.values()).size, items.length - 1);
    // English is outside the paper's average, so in the headline no passage repeats: no clustered error.
    const all = adapter.aggregate(items, new Map(items.map((i) => [i.id, { answer: '', correct: true }])));
    assert.equal(all.clustered, undefined);
    // English alone: 1001-0 right, 1002-0 and 1002-1 wrong. Mean ⅓, residuals ⅔, −⅓, −⅓, weights ⅓:
    // passage sums 2/9 and −2/9, clustered = sqrt(8/81) = 0.31427 (31.43 points).
    const en = await adapter.prepare(dataDir, { cot: false, shots: 0 }, { tasks: ['english'] });
    const r = adapter.aggregate(en.items, new Map(en.items.map((i) => [i.id, { answer: '', correct: i.id === 'tydiqa/english/0' }])));
    assert.deepEqual(r.averageTasks, ['english']);
    assert.deepEqual(r.clustered && { by: r.clustered.by, clusters: r.clustered.clusters }, { by: 'passage', clusters: 2 });
    assert.ok(Math.abs(r.clustered!.stderr - 100 * Math.sqrt(8 / 81)) < 1e-9, String(r.clustered?.stderr));
  });
});
