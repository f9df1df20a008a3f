import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { applyStopRule, argmax, compareGeneration, compareScoring } from '../../benchmarks/speed/compare.js';
import { encoderFlops, type EncoderShape } from '../../benchmarks/speed/flops.js';
import { buildWorkload, normalQuantile, syntheticLengths, syntheticWorkload, workloadByName } from '../../benchmarks/speed/workloads.js';
import { loadTokenizer } from '../../src/backends/onnx/tokenizer.js';
import { testModelDir } from '../helpers/testModel.js';
import { repoRoot } from '../helpers/cli.js';

const FIXTURES = join(repoRoot, 'test', 'fixtures', 'data');

describe('speed benchmark: output agreement', () => {
  // A toy decoder: token k decodes to the k-th letter, so stop strings can span tokens.
  const decode = (ids: readonly number[]) => ids.map((k) => 'abcdefghij'[k]).join('');

  test('the stop rule keeps the reference tokens up to the one that completes a stop string', () => {
    assert.deepEqual(applyStopRule([0, 1, 2, 3, 4], ['cd'], decode), [0, 1, 2, 3]);
    assert.deepEqual(applyStopRule([0, 1, 2, 3, 4], ['x'], decode), [0, 1, 2, 3, 4]);
    assert.deepEqual(applyStopRule([0, 1, 2], [], decode), [0, 1, 2]);
    assert.deepEqual(applyStopRule([0, 1, 2], ['', 'a'], decode), [0]);
  });

  test('generation agrees only when the ids are the same under the stop rule', () => {
    const ours = [{ id: 'a', tokens: [0, 1, 2, 3] }, { id: 'b', tokens: [5, 6] }];
    const ref = [{ id: 'a', tokens: [0, 1, 2, 3, 4, 5] }, { id: 'b', tokens: [5, 6] }];
    assert.deepEqual(compareGeneration(ours, ref, [['cd'], []], decode), { identical: true, mismatches: [] });
    assert.deepEqual(compareGeneration(ours, ref, [[], []], decode), { identical: false, mismatches: ['a'] });
  });

  test('scoring agrees on the argmax choice and within 1e-3 per choice', () => {
    const ours = [{ id: 'q1', scores: [-1, -2, -3] }, { id: 'q2', scores: [-5, -4, -6] }];
    const close = [{ id: 'q1', scores: [-1.0004, -2, -3] }, { id: 'q2', scores: [-5, -4.0009, -6] }];
    const r = compareScoring(ours, close);
    assert.equal(r.identical, true);
    assert.ok(Math.abs(r.maxAbsDelta! - 0.0009) < 1e-9);
    assert.deepEqual(compareScoring(ours, [{ id: 'q1', scores: [-1, -2, -3] }, { id: 'q2', scores: [-5, -4.002, -6] }]).mismatches, ['q2']);
    // Within tolerance but a different winner (a near tie) is still a mismatch.
    assert.deepEqual(compareScoring([{ id: 't', scores: [-1, -1.0001] }], [{ id: 't', scores: [-1.0002, -1.0001] }]).mismatches, ['t']);
    assert.equal(argmax([-3, -1, -1]), 1);
  });
});

describe('speed benchmark: encoder FLOPs', () => {
  test('count the MatMuls of a T5 encoder from its config', () => {
    const s: EncoderShape = { dModel: 4, dKv: 2, dFf: 8, numHeads: 3, numLayers: 2, gated: true };
    // per layer, 1 row × 5 tokens: q,k,v,o 2·5·4·6·4 = 960; attention 2·2·3·5·5·2 = 600; ff 2·5·4·8·3 = 960
    assert.equal(encoderFlops(s, 1, 5), 2 * (960 + 600 + 960));
    assert.equal(encoderFlops(s, 3, 5), 3 * encoderFlops(s, 1, 5));
    assert.equal(encoderFlops({ ...s, gated: false }, 1, 5), 2 * (960 + 600 + 640));
  });
});

describe('speed benchmark: workloads', () => {
  test('prompts come from the adapters, tasks interleaved, repeated to the count asked', async () => {
    const w = await buildWorkload(workloadByName('bbh-cot'), FIXTURES, 25);
    assert.ok(!('skipped' in w));
    assert.equal(w.items.length, 25);
    assert.ok(w.distinct < 25 && w.distinct > 3, `${w.distinct} distinct`);
    assert.equal(new Set(w.items.map((i) => i.id)).size, 25, 'repeated items get distinct ids');
    assert.ok(w.items[0]!.prompt.includes("Let's think step by step"));
    assert.notEqual(w.items[0]!.id.split('/')[1], w.items[1]!.id.split('/')[1], 'neighbouring items come from different tasks');
    const m = await buildWorkload(workloadByName('mmlu-direct-loglik'), FIXTURES, 4);
    assert.ok(!('skipped' in m));
    assert.deepEqual(m.items[0]!.choices, [' (A)', ' (B)', ' (C)', ' (D)']);
  });

  test('a benchmark without data is skipped with the reason', async () => {
    const w = await buildWorkload(workloadByName('mgsm-cot'), join(repoRoot, 'test', 'fixtures', 'no-such-data'), 2);
    assert.ok('skipped' in w && /mgsm/i.test(w.skipped), JSON.stringify(w));
  });
});

describe('speed benchmark: real-length synthetic workloads', () => {
  test('lengths follow the median, the 95th percentile and the maximum', () => {
    assert.ok(Math.abs(normalQuantile(0.95) - 1.6449) < 1e-3 && Math.abs(normalQuantile(0.025) + 1.96) < 1e-3);
    const d = { median: 948, p95: 3205, max: 5044 };
    const ls = syntheticLengths(d, 200);
    const sorted = [...ls].sort((a, b) => a - b);
    assert.ok(Math.abs(sorted[100]! - 948) / 948 < 0.05, `median ${sorted[100]}`);
    assert.ok(Math.abs(sorted[190]! - 3205) / 3205 < 0.1, `p95 ${sorted[190]}`);
    assert.equal(Math.max(...ls), 5044, 'the longest real prompt is always there');
    assert.notEqual(ls[0], 5044, 'the warm-up item is not the longest');
    assert.deepEqual(syntheticLengths(d, 8), syntheticLengths(d, 8));
    assert.equal(new Set(syntheticLengths(d, 16)).size > 8, true);
  });

  test('sample prompts are stretched to the drawn token counts, keeping their question and options', async () => {
    const tok = await loadTokenizer(await testModelDir('tiny', 1));
    const count = (t: string) => tok.encode(t, true).length;
    const def = { ...workloadByName('mmlu-direct-loglik'), realLengths: { median: 700, p95: 1500, max: 2000 } };
    const w = await syntheticWorkload(def, FIXTURES, 6, count);
    assert.ok(!('skipped' in w));
    assert.equal(w.source, 'synthetic');
    const want = syntheticLengths(def.realLengths, 6);
    w.items.forEach((it, k) => {
      const n = count(it.prompt);
      assert.ok(n <= want[k]! && n >= want[k]! - 8, `item ${k}: ${n} tokens for ${want[k]}`);
      assert.deepEqual(it.choices, [' (A)', ' (B)', ' (C)', ' (D)']);
      assert.match(it.prompt, /\nA:$/, "the real question ends the prompt");
    });
  });
});

describe('speed benchmark: flags', () => {
  test('a bad flag exits 2 with one line naming it', () => {
    const bench = join(repoRoot, 'dist', 'benchmarks', 'speed', 'bench.js');
    for (const [args, pattern] of [
      [['--batch-size', '0'], /--batch-size 0: expected a positive integer/],
      [['--workloads', 'mmlu-cot'], /--workloads: unknown workload "mmlu-cot"/],
      [['--fast'], /bench: Unknown option '--fast'/],
    ] as const) {
      const r = spawnSync(process.execPath, [bench, ...args], { encoding: 'utf8' });
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, pattern);
      assert.equal(r.stdout, '');
    }
  });
});

describe('speed benchmark: decoder-only workloads', () => {
  test('llama/… workloads keep a task\'s examples together, and a synthetic task shares one lengthening (its few-shot prefix)', async () => {
    const def = workloadByName('llama/mmlu-direct-generate');
    assert.equal(def.arch, 'llama');
    const countWords = (t: string) => t.split(/\s+/).filter(Boolean).length;
    // As many questions per subject as a real validation-split run has (1,531 over 57 subjects), from
    // as few subjects as that allows: 60 examples are 3 subjects of 20, though the sample has 2–3 each.
    assert.equal(def.perTask, 27);
    const w = await syntheticWorkload(def, FIXTURES, 60, countWords);
    assert.ok(!('skipped' in w));
    assert.equal(w.items.length, 60);
    assert.equal(w.distinct, 60, 'every question is a prompt of its own');
    const perTask = new Map<string, number>();
    for (const it of w.items) perTask.set(it.id.split('/')[1]!, (perTask.get(it.id.split('/')[1]!) ?? 0) + 1);
    assert.deepEqual([...perTask.values()], [20, 20, 20]);
    const task = (id: string) => id.split('/')[3]!;
    const tasks = w.items.map((it) => task(it.id));
    // Grouped: a task's examples come together (each next to another of its task), not interleaved.
    tasks.forEach((t, i) => assert.ok(tasks[i - 1] === t || tasks[i + 1] === t, `${t} at ${i} alone between other tasks`));
    const prefix = (a: string, b: string) => {
      let k = 0;
      while (k < a.length && a[k] === b[k]) k++;
      return k;
    };
    // Within a task most of every prompt is shared (exemplars, and the lengthening); across tasks little is.
    const shares = [...new Set(tasks)].map((t) => {
      const mine = w.items.filter((it) => task(it.id) === t);
      return Math.min(...mine.slice(1).map((it) => prefix(it.prompt, mine[0]!.prompt) / it.prompt.length));
    });
    assert.ok(shares.every((f) => f > 0.5), `shared fractions ${shares.join(', ')}`);
    // …but not all: each question differs from the shared block on, at about a real question's share.
    assert.ok(shares.every((f) => f < 0.95), `shared fractions ${shares.join(', ')}`);
    const heads = [...new Set(tasks)].map((t) => w.items.find((it) => task(it.id) === t)!.prompt);
    assert.ok(prefix(heads[1]!, heads[2]!) < heads[2]!.length / 4, 'different tasks do not share their lengthening');
  });
});
