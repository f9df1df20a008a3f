import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { GenerationRequest, GenerationResult, LoglikRequest, ModelBackend } from '../../src/backends/types.js';
import { InternalError, UsageError } from '../../src/errors.js';
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
      heldBytes: 0,
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
  const settings: RunSettings = { dataDir: join(fixturesDir, 'data'), outDir: out, batchSize: 4, maxMemory: 8e9, concurrency: 2, shard: null, quiet: true, interrupt: { requested: false } };
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

/** A backend whose generate throws `error` for prompts containing `poison` (after `delay` ms). */
function throwingBackend(poison: string, error: () => unknown): ModelBackend {
  const ok = fakeBackend(null);
  return {
    ...ok,
    async generate(batch) {
      if (batch.some((r) => r.prompt.includes(poison))) throw error();
      return ok.generate(batch);
    },
  };
}

async function poisonedSetup() {
  const out = await tempDir();
  const settings: RunSettings = { dataDir: join(fixturesDir, 'data'), outDir: out, batchSize: 1, maxMemory: 8e9, concurrency: 1, shard: null, quiet: true, interrupt: { requested: false } };
  const { getBenchmark } = await import('../../src/benchmarks/registry.js');
  const { items } = await getBenchmark('mmlu').prepare(settings.dataDir, unit.format, unit.selection);
  const victim = items[3]!;
  return { settings, items, victim, poison: victim.prompt.slice(victim.prompt.lastIndexOf('Q: ')) };
}

for (const [name, make] of [
  ['TypeError', () => new TypeError("Cannot read properties of undefined (reading 'text')")],
  ['ReferenceError', () => new ReferenceError('tokens is not defined')],
  ['RangeError that is not an allocation failure', () => new RangeError('Invalid array length')],
  ['InternalError', () => new InternalError('3 outputs for 4 prompts')],
  ['a thrown string', () => 'boom'],
] as const) {
  test(`a ${name} in the backend stops the run (a bug is not a failed example); what was predicted before is kept`, async () => {
    const { settings, items, victim, poison } = await poisonedSetup();
    const thrown = make();
    await assert.rejects(evaluateUnit(throwingBackend(poison, () => thrown), model, unit, settings), (e) => e === thrown);
    const base = join(settings.outDir, 'fake', 'mmlu_direct_5shot_val');
    await assert.rejects(readFile(`${base}.json`), { code: 'ENOENT' }, 'no run record is written');
    const kept = (await readFile(`${base}.predictions.jsonl`, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(kept.length >= 1 && kept.length < items.length, `some predictions were kept (${kept.length})`);
    assert.ok(kept.every((l) => l.error === undefined && l.id !== victim.id), 'and no line records the bug as an example error');
  });
}

for (const [name, make] of [
  ['onnxruntime inference error', () => new Error('Non-zero status code returned while running MatMul node. Name:"/MatMul" Status Message: shape mismatch')],
  ['out-of-memory RangeError', () => new RangeError('Array buffer allocation failed')],
  ['onnxruntime allocation failure', () => new Error('Failed to allocate memory for requested buffer of size 8589934592')],
] as const) {
  test(`an ${name} on one prompt is isolated to that example and the run goes on`, async () => {
    const { settings, items, victim, poison } = await poisonedSetup();
    const r = await evaluateUnit(throwingBackend(poison, make), model, unit, { ...settings, batchSize: 4 });
    assert.equal(r.failed, 1);
    assert.equal(r.record!.n, items.length);
    const lines = (await readFile(r.predictionsPath, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.filter((l) => l.error !== undefined).map((l) => [l.id, l.error]), [[victim.id, make().message]]);
  });
}

test('an unreadable resume state file stops the run naming it, and the predictions are neither moved aside nor reused', async () => {
  const { settings, items } = await poisonedSetup();
  const first = await evaluateUnit(fakeBackend(null), model, unit, settings);
  assert.equal(first.record!.n, items.length);
  const before = await readFile(first.predictionsPath, 'utf8');
  const state = `${first.predictionsPath}.state.json`;
  await writeFile(state, '{"configHash": "abc');
  await assert.rejects(evaluateUnit(fakeBackend(null), model, unit, settings), (e: Error) => e instanceof UsageError && e.message.startsWith(`${state}: the resume state is not valid JSON; delete it`));
  await writeFile(state, '[]');
  await assert.rejects(evaluateUnit(fakeBackend(null), model, unit, settings), (e: Error) => e instanceof UsageError && /no "configHash"/.test(e.message));
  assert.equal(await readFile(first.predictionsPath, 'utf8'), before);
  assert.deepEqual((await readdir(join(settings.outDir, 'fake'))).filter((f) => f.includes('stale')), []);
});

test('the parameter count is never silently null: an unreadable model file is an error naming it', async () => {
  const { countModelParams } = await import('../../src/backends/params.js');
  const dir = await tempDir();
  await writeFile(join(dir, 'encoder_model.onnx'), 'not a protobuf at all');
  const folder = { dir, configPath: join(dir, 'config.json'), config: { d_model: 8, vocab_size: 10 }, generation: {}, modelType: 't5', files: [], isTestModel: false };
  await assert.rejects(countModelParams(folder, ['encoder_model.onnx']), (e: Error) => e instanceof UsageError && e.message.startsWith(join(dir, 'encoder_model.onnx')));
});
