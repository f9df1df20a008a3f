import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { OnnxSeq2SeqBackend } from '../../src/backends/onnx/seq2seq.js';
import type { DoctorReport } from '../../src/backends/onnx/doctor.js';
import type { RunEvent } from '../../src/backends/types.js';
import { fixturesDir, runCli, tempDir } from '../helpers/cli.js';
import { SAMPLE_PROMPTS } from '../helpers/reference.js';
import { causalTestModelDir, testModelDir } from '../helpers/testModel.js';
import { loadBackend } from '../../src/backends/load.js';
import { webgpuForTests } from '../helpers/webgpu.js';
import { LOGITS_TO_KEEP } from '../../src/onnx/rewrite/lastLogits.js';

const gpu = await webgpuForTests();
const DATA = join(fixturesDir, 'data');
/** A Vulkan driver manifest that does not exist: WebGPU then finds no adapter, whatever the machine has. */
const NO_ADAPTER = { VK_DRIVER_FILES: '/nonexistent/flan-eval-no-driver.json', VK_ICD_FILENAMES: '/nonexistent/flan-eval-no-driver.json' };

describe('--device webgpu (fp32 test model): the same predictions as the CPU', { skip: gpu.skip }, () => {
  test('greedy tokens equal the CPU token for token and log-probabilities within 1e-3, in one batch', async () => {
    const dir = await testModelDir('tiny', 1);
    const [cpu, webgpu] = await Promise.all([OnnxSeq2SeqBackend.load({ dir }), OnnxSeq2SeqBackend.load({ dir, device: 'webgpu' })]);
    assert.equal(webgpu.info.device, 'webgpu');
    const prompts = SAMPLE_PROMPTS.map((p) => cpu.encode(p));
    const budget = prompts.map((_, i) => 8 + 4 * i);
    const a = await cpu.generateTokens(prompts, budget, prompts.map(() => []));
    const b = await webgpu.generateTokens(prompts, budget, prompts.map(() => []));
    assert.ok(a.reduce((n, r) => n + r.tokens.length, 0) > 30, 'the prompts generate enough tokens to exercise the cache');
    a.forEach((r, i) => {
      assert.deepEqual(b[i]!.tokens, r.tokens, `prompt ${i}`);
      assert.equal(b[i]!.finishReason, r.finishReason, `prompt ${i}`);
      r.logprobs.forEach((lp, j) => assert.ok(Math.abs(lp - b[i]!.logprobs[j]!) < 1e-3, `prompt ${i} step ${j}: ${lp} vs ${b[i]!.logprobs[j]}`));
    });
    const req = SAMPLE_PROMPTS.slice(0, 4).map((context) => ({ context, continuations: [' (A)', ' (B) yes', ' no, because it is', '8'] }));
    const [la, lb] = [await cpu.loglik(req), await webgpu.loglik(req)];
    la.flat().forEach((v, k) => assert.ok(Math.abs(v - lb.flat()[k]!) < 1e-3, `continuation ${k}: ${v} vs ${lb.flat()[k]}`));
    await Promise.all([cpu.dispose(), webgpu.dispose()]);
  });

  test('device-resident decoding: caches and logits stay on the device, only ids and log-probabilities come back; row masking gives the same tokens', async () => {
    const dir = await testModelDir('tiny', 1);
    const events: RunEvent[] = [];
    const cpu = await OnnxSeq2SeqBackend.load({ dir });
    const gather = await OnnxSeq2SeqBackend.load({ dir, device: 'webgpu', onRun: (e) => events.push(e) });
    const mask = await OnnxSeq2SeqBackend.load({ dir, device: 'webgpu', rowRemoval: 'mask' });
    const prompts = SAMPLE_PROMPTS.slice(0, 6).map((p) => cpu.encode(p));
    // Different budgets, so rows finish at different steps and leave the batch.
    const budget = prompts.map((_, i) => 3 + 5 * i);
    const expected = await cpu.generateTokens(prompts, budget, prompts.map(() => []));
    for (const backend of [gather, mask]) {
      const got = await backend.generateTokens(prompts, budget, prompts.map(() => []));
      got.forEach((r, i) => assert.deepEqual(r.tokens, expected[i]!.tokens, `prompt ${i}`));
      assert.equal(backend.deviceTensorsHeld, 0, 'the batch released every device tensor it made');
    }
    const decoder = events.filter((e) => e.session === 'decoder');
    assert.ok(decoder.length > 10);
    for (const e of decoder) assert.deepEqual(e.hostOutputs, [], 'no decoder output (logits, caches) is copied to the host');
    // After the first step (whose zero-length past starts on the host), only token ids and the mask are fed from the host.
    for (const e of decoder.slice(1)) assert.deepEqual(e.hostInputs!.filter((n) => n !== 'input_ids' && n !== 'encoder_attention_mask' && n !== 'use_cache_branch'), []);
    await cpu.loglik([{ context: 'x', continuations: [' y'] }]);
    await gather.loglik([{ context: 'x', continuations: [' y', ' y z'] }]);
    assert.equal(gather.deviceTensorsHeld, 0, 'scoring released every device tensor it made');
    await Promise.all([cpu.dispose(), gather.dispose(), mask.dispose()]);
  });

  test('a batch whose attention tensor exceeds the WebGPU buffer limit runs in encoder row chunks and still equals the CPU', async () => {
    const dir = await testModelDir('tiny', 1);
    const events: RunEvent[] = [];
    const cpu = await OnnxSeq2SeqBackend.load({ dir });
    const webgpu = await OnnxSeq2SeqBackend.load({ dir, device: 'webgpu', onRun: (e) => events.push(e) });
    // 8 rows × 4 heads × 1100² float32 scores ≈ 148 MiB: over lavapipe's 128 MiB binding limit.
    const prompts = Array.from({ length: 8 }, (_, i) => cpu.encode(`${i} ${'the history of science and the study of mathematics '.repeat(200)}`).slice(-1100 + 3 * i));
    const budget = prompts.map(() => 3);
    const [a, b] = [await cpu.generateTokens(prompts, budget, prompts.map(() => [])), await webgpu.generateTokens(prompts, budget, prompts.map(() => []))];
    a.forEach((r, i) => assert.deepEqual(b[i]!.tokens, r.tokens, `prompt ${i}`));
    const encoderRuns = events.filter((e) => e.session === 'encoder');
    assert.equal(encoderRuns.reduce((n, e) => n + e.rows, 0), 8);
    const limit = await (webgpu as unknown as { resident: { bindingLimit(): Promise<number> } }).resident.bindingLimit();
    if (limit <= 2 ** 27) {
      assert.ok(encoderRuns.length > 1, 'the encoder ran in chunks under the limit');
      const long = webgpu.encode('x '.repeat(3000));
      await assert.rejects(webgpu.generateTokens([long], [2], [[]]), /--device webgpu: a \d+-token prompt needs a \d+ MiB attention tensor, over this GPU's 128 MiB WebGPU buffer limit/);
    }
    await Promise.all([cpu.dispose(), webgpu.dispose()]);
  });

  test('decoder-only test models (llama, qwen2, gpt2) on WebGPU: the CPU tokens, loglik within 1e-3', async () => {
    const req = SAMPLE_PROMPTS.slice(0, 4).map((prompt) => ({ prompt, maxNewTokens: 12, stop: [] }));
    for (const arch of ['llama', 'qwen2', 'gpt2'] as const) {
      const dir = await causalTestModelDir(arch);
      const [cpu, webgpu] = [await loadBackend(dir, {}), await loadBackend(dir, { device: 'webgpu' })];
      const [a, b] = [await cpu.generate(req), await webgpu.generate(req)];
      a.forEach((r, i) => assert.deepEqual(b[i]!.tokens, r.tokens, `${arch} prompt ${i}`));
      const scoring = [{ context: SAMPLE_PROMPTS[0]!, continuations: [' (A)', ' b c d'] }];
      const [la, lb] = [(await cpu.loglik(scoring))[0]!, (await webgpu.loglik(scoring))[0]!];
      la.forEach((v, j) => assert.ok(Math.abs(v - lb[j]!) < 1e-3, `${arch} continuation ${j}: ${v} vs ${lb[j]}`));
      await Promise.all([cpu.dispose(), webgpu.dispose()]);
    }
  });

  test('decoder-only device-resident decoding: caches stay on the device, only ids / mask / positions go in; gather and row masking give the CPU tokens; every device tensor released', async () => {
    const { OnnxCausalBackend } = await import('../../src/backends/onnx/causal.js');
    for (const arch of ['llama', 'qwen2', 'gpt2'] as const) {
      const dir = await causalTestModelDir(arch);
      const events: RunEvent[] = [];
      const cpu = await OnnxCausalBackend.load({ dir });
      const gather = await OnnxCausalBackend.load({ dir, device: 'webgpu', onRun: (e) => events.push(e) });
      const mask = await OnnxCausalBackend.load({ dir, device: 'webgpu', rowRemoval: 'mask' });
      const prompts = SAMPLE_PROMPTS.slice(0, 5).map((p) => cpu.encode(p));
      // Different budgets, so rows finish at different steps and leave the batch.
      const budget = prompts.map((_, i) => 2 + 4 * i);
      const expected = await cpu.generateTokens(prompts, budget, prompts.map(() => []));
      for (const backend of [gather, mask]) {
        const got = await backend.generateTokens(prompts, budget, prompts.map(() => []));
        got.forEach((r, i) => {
          assert.deepEqual(r.tokens, expected[i]!.tokens, `${arch} prompt ${i}`);
          r.logprobs.forEach((lp, j) => assert.ok(Math.abs(lp - expected[i]!.logprobs[j]!) < 1e-3, `${arch} prompt ${i} step ${j}`));
        });
        assert.equal(backend.deviceTensorsHeld, 0, `${arch}: the batch released every device tensor it made`);
      }
      assert.ok(events.length > 10);
      for (const e of events) assert.deepEqual(e.hostOutputs, [], `${arch}: no output (logits, present caches) is copied to the host`);
      // The first run starts from a zero-length past made on the host; every later run is fed its cache from the device.
      const fedFromHost = (e: RunEvent) => e.hostInputs!.filter((n) => !['input_ids', 'attention_mask', 'position_ids', 'use_cache_branch', LOGITS_TO_KEEP].includes(n));
      assert.ok(fedFromHost(events[0]!).length > 0, 'the check sees host-fed caches when there are some');
      for (const e of events.slice(1)) assert.deepEqual(fedFromHost(e), [], `${arch}: only ids, mask and positions go in`);
      const scoring = [{ context: SAMPLE_PROMPTS[1]!, continuations: [' (A)', ' b c d', ' b c'] }, { context: SAMPLE_PROMPTS[2]!, continuations: [' yes'] }];
      const [la, lb] = [await cpu.loglik(scoring), await gather.loglik(scoring)];
      la.flat().forEach((v, k) => assert.ok(Math.abs(v - lb.flat()[k]!) < 1e-3, `${arch} continuation ${k}: ${v} vs ${lb.flat()[k]}`));
      assert.equal(gather.deviceTensorsHeld, 0, `${arch}: scoring released every device tensor it made`);
      assert.equal(gather.prefixStats.computed, 0, 'no prefix cache on a device (README "GPUs")');
      await Promise.all([cpu.dispose(), gather.dispose(), mask.dispose()]);
    }
  });

  test('run --device webgpu writes the CPU run\'s predictions and records the device and the doctor report', async () => {
    const model = await testModelDir('tiny', 1);
    const outs = { cpu: await tempDir(), webgpu: await tempDir() };
    for (const [device, out] of Object.entries(outs)) {
      const r = await runCli(['run', 'mmlu', '--model', model, '--data-dir', DATA, '--out', out, '--limit', '1', '--quiet', '--device', device]);
      assert.equal(r.code, 0, r.stderr);
    }
    const folder = (out: string) => join(out, 'tiny-seed1');
    const files = (await readdir(folder(outs.cpu))).filter((f) => f.endsWith('.predictions.jsonl'));
    assert.ok(files.length > 0);
    for (const f of files) assert.equal(await readFile(join(folder(outs.webgpu), f), 'utf8'), await readFile(join(folder(outs.cpu), f), 'utf8'), f);
    const recordFile = (await readdir(folder(outs.webgpu))).find((f) => f.endsWith('.json'))!;
    const record = JSON.parse(await readFile(join(folder(outs.webgpu), recordFile), 'utf8')) as { runtime: { device: string; environment: DoctorReport } };
    assert.equal(record.runtime.device, 'webgpu');
    assert.equal(record.runtime.environment.schema, 'flan-eval/doctor@1');
    assert.equal(record.runtime.environment.webgpu.starts, true);
  });
});

describe('devices without an adapter', { skip: process.platform !== 'linux' && 'Vulkan driver selection by VK_DRIVER_FILES is Linux-only' }, () => {
  test('--device webgpu with no adapter stops with one line and exit 2 (never falls back to the CPU)', async () => {
    const model = await testModelDir('tiny', 1);
    const r = await runCli(['run', 'mmlu', '--model', model, '--data-dir', DATA, '--out', await tempDir(), '--limit', '1', '--quiet', '--device', 'webgpu'], { env: NO_ADAPTER });
    assert.equal(r.code, 2, r.stderr);
    // The fixture data lacks most MMLU subjects, which `run` warns about first; the error is the one other line.
    const ours = r.stderr.split('\n').filter((l) => l.startsWith('flan-eval:') && !l.startsWith('flan-eval: warning:'));
    assert.equal(ours.length, 1, r.stderr);
    assert.match(ours[0]!, /--device webgpu: .*no WebGPU adapter was found.*flan-eval doctor.*--device cpu/);
    // Dawn prints its own native chatter on stderr (not ours to silence); flan-eval adds no JavaScript stack.
    assert.doesNotMatch(r.stderr, /\n\s+at .*\.js:\d+/, 'no stack trace');
  });

  test('--device auto with neither CUDA nor an adapter says it uses the CPU and records cpu', async () => {
    const model = await testModelDir('tiny', 1);
    const out = await tempDir();
    const r = await runCli(['run', 'mmlu', '--model', model, '--data-dir', DATA, '--out', out, '--limit', '1', '--quiet', '--device', 'auto'], { env: NO_ADAPTER });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /--device auto: using cpu \(cuda: provider library not installed; webgpu: .*adapter/);
    const recordFile = (await readdir(join(out, 'tiny-seed1'))).find((f) => f.endsWith('.json'))!;
    const record = JSON.parse(await readFile(join(out, 'tiny-seed1', recordFile), 'utf8')) as { runtime: { device: string; environment: DoctorReport } };
    assert.equal(record.runtime.device, 'cpu');
    assert.equal(record.runtime.environment.webgpu.starts, false);
  });
});

test('doctor --json: providers, WebGPU and CUDA status, threads and memory', async () => {
  const r = await runCli(['doctor', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const d = JSON.parse(r.stdout) as DoctorReport;
  assert.equal(d.schema, 'flan-eval/doctor@1');
  assert.deepEqual(d.providers.find((p) => p.name === 'webgpu'), { name: 'webgpu', bundled: true, installed: true });
  assert.equal(d.webgpu.starts, gpu.skip === false, 'doctor agrees with the probe the tests use');
  assert.equal(d.cuda.starts, false, 'this test machine has no CUDA provider');
  assert.ok(d.cpu.cores >= 1 && d.memory.totalBytes > 0);
  const human = await runCli(['doctor']);
  assert.match(human.stdout, /^webgpu: (starts|does not start)/m);
  assert.match(human.stdout, /^--device auto would use: (webgpu|cpu)$/m);
});
