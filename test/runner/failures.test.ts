import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { GenerationRequest, GenerationResult, LoglikRequest, ModelBackend } from '../../src/backends/types.js';
import { evaluateUnit, type RunSettings, type RunUnit } from '../../src/runner/evaluate.js';
import type { RunRecord } from '../../src/types.js';
import { fixturesDir, tempDir } from '../helpers/cli.js';

/** A backend that answers "(A)" and fails on prompts containing `poison`. */
function fakeBackend(poison: string | null): ModelBackend {
  return {
    info: {
      name: 'fake',
      dir: '/fake',
      arch: 'fake',
      dtype: 'fp32',
      device: 'cpu',
      provider: 'none',
      threads: 1,
      files: [],
      runtime: 'fake',
      runtimeVersion: '0',
      params: null,
      isTestModel: true,
      shape: { kind: 'decoder-only', layers: 1, encoderLayers: 0, hidden: 8, heads: 1, kvHeads: 1, headDim: 8, ffn: 8, vocab: 8, bytesPerElement: 4 },
    },
    countTokens: (texts) => texts.map((t) => t.length),
    async generate(batch: readonly GenerationRequest[]): Promise<GenerationResult[]> {
      if (poison && batch.some((r) => r.prompt.includes(poison))) throw new Error('inference failed: simulated');
      return batch.map(() => ({ text: ' The answer is (A).', tokens: [1, 2, 3], logprobs: [0, 0, 0], finishReason: 'eos', promptTokens: 1 }));
    },
    async loglik(batch: readonly LoglikRequest[]): Promise<number[][]> {
      return batch.map((r) => r.continuations.map(() => -1));
    },
    async dispose() {},
  };
}

const model: RunRecord['model'] = { name: 'fake', path: '/fake', params: null, dtype: 'fp32', files: {}, hash: 'f'.repeat(64) };
const unit: RunUnit = { benchmark: 'mmlu', format: { cot: false, shots: 5 }, selection: { split: 'val' }, scoring: 'generate' };

test('a failing example is recorded with its error, the rest run on, and a rerun retries only it', async () => {
  const out = await tempDir();
  const settings: RunSettings = { dataDir: join(fixturesDir, 'data'), outDir: out, batchSize: 4, concurrency: 2, shard: null, quiet: true, interrupt: { requested: false } };
  // Poison the prompt of one example: take the last question of the first val file.
  const { getBenchmark } = await import('../../src/benchmarks/registry.js');
  const { items } = await getBenchmark('mmlu').prepare(settings.dataDir, unit.format, unit.selection);
  const victim = items[1]!;
  const poison = victim.prompt.slice(victim.prompt.lastIndexOf('Q: '));
  assert.equal(items.filter((i) => i.prompt.includes(poison)).length, 1, 'the poison picks exactly one example');

  const first = await evaluateUnit(fakeBackend(poison), model, unit, settings);
  assert.equal(first.failed, 1);
  assert.equal(first.record!.failed, 1);
  assert.equal(first.record!.n, items.length);
  const lines = (await readFile(first.predictionsPath, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, items.length);
  const bad = lines.find((l) => l.id === victim.id);
  assert.deepEqual([bad.error, bad.correct], ['inference failed: simulated', false]);
  assert.ok(lines.filter((l) => l.id !== victim.id).every((l) => l.error === undefined && l.answer === '(A)'));

  const second = await evaluateUnit(fakeBackend(null), model, unit, settings);
  assert.equal(second.failed, 0);
  assert.equal(second.reused, items.length - 1);
  const after = (await readFile(second.predictionsPath, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(after.length, items.length, 'one line per example after the retry');
  assert.equal(after.find((l) => l.id === victim.id).answer, '(A)');
});
