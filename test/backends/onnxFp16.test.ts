import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadBackend } from '../../src/backends/load.js';
import { OnnxSeq2SeqBackend } from '../../src/backends/onnx/seq2seq.js';
import { referenceCausal, referenceGreedy, SAMPLE_PROMPTS } from '../helpers/reference.js';
import { causalTestModelDir, testModelDir } from '../helpers/testModel.js';

const PROMPTS = [0, 3, 4, 6, 1].map((i) => SAMPLE_PROMPTS[i]!);

test('an fp16 export (float16 weights, cache and logits) matches Transformers.js with dtype fp16, token for token', async () => {
  const dir = await testModelDir('tiny', 1, { fp16: true });
  // The fp16 files really hold float16 weights: about half the bytes of the fp32 ones.
  assert.ok((await readFile(join(dir, 'onnx', 'encoder_model_fp16.onnx'))).length < (await readFile(join(dir, 'onnx', 'encoder_model.onnx'))).length * 0.75);
  const backend = await OnnxSeq2SeqBackend.load({ dir, dtype: 'fp16' });
  assert.ok(backend.info.files.includes('onnx/decoder_model_merged_fp16.onnx'));
  const ours = await backend.generate(PROMPTS.map((prompt) => ({ prompt, maxNewTokens: 16, stop: [] })));
  const ref = await referenceGreedy(dir, 'fp16', PROMPTS, 16);
  let generated = 0;
  ref.forEach((r, i) => {
    assert.deepEqual(ours[i]!.tokens, r.tokens, `prompt ${i}`);
    generated += ours[i]!.tokens.length;
    assert.ok(ours[i]!.logprobs.every((lp) => Number.isFinite(lp) && lp <= 0), 'float16 logits decoded to finite log-probabilities');
  });
  assert.ok(generated > 10, 'some prompts generate beyond EOS-at-once, so the float16 cache is exercised');
  // Scoring reads float16 logits too; close to the fp32 files' scores (same weights, rounded to half).
  const fp32 = await OnnxSeq2SeqBackend.load({ dir, dtype: 'fp32' });
  const req = [{ context: PROMPTS[0]!, continuations: [' (A)', ' (B)', ' (C)', ' (D)'] }];
  const [a, b] = [(await backend.loglik(req))[0]!, (await fp32.loglik(req))[0]!];
  a.forEach((v, j) => assert.ok(Math.abs(v - b[j]!) < 0.05, `${v} vs ${b[j]}`));
  await Promise.all([backend.dispose(), fp32.dispose()]);
});

for (const arch of ['llama', 'qwen2', 'gpt2'] as const) {
  test(`a decoder-only fp16 export (${arch}: float16 weights, KV cache and logits) matches @huggingface/transformers with dtype fp16, token for token, batched or not`, async () => {
    const dir = await causalTestModelDir(arch, 'tiny', 1, { fp16: true });
    assert.ok((await readFile(join(dir, 'onnx', 'model_fp16.onnx'))).length < (await readFile(join(dir, 'onnx', 'model.onnx'))).length * 0.75);
    const backend = await loadBackend(dir, { dtype: 'fp16', threads: 1 });
    assert.deepEqual(backend.info.files.filter((f) => f.endsWith('.onnx')), ['onnx/model_fp16.onnx']);
    const reference = await referenceCausal(dir, 'fp16');
    const ref = await reference.greedy(SAMPLE_PROMPTS, 16);
    await reference.dispose();
    assert.ok(ref.some((r) => r.tokens.length > 1), 'some continuations run past the first token, so the float16 cache is read back');
    const requests = SAMPLE_PROMPTS.map((prompt) => ({ prompt, maxNewTokens: 16, stop: [] }));
    // One prompt at a time, then all in one left-padded batch: the same tokens as the reference either way.
    const single: Awaited<ReturnType<typeof backend.generate>> = [];
    for (const r of requests) single.push(...(await backend.generate([r])));
    const batched = await backend.generate(requests);
    ref.forEach((r, i) => {
      assert.deepEqual(single[i]!.tokens, r.tokens, `batch 1, prompt ${i}`);
      assert.deepEqual(batched[i]!.tokens, r.tokens, `batch ${requests.length}, prompt ${i}`);
      assert.equal(batched[i]!.finishReason, r.endedWithEos ? 'eos' : 'length', `prompt ${i}`);
    });
    // Scoring reads float16 logits: close to the fp32 graph's scores (same weights, rounded to half).
    const fp32 = await loadBackend(dir, { dtype: 'fp32', threads: 1 });
    const req = [{ context: SAMPLE_PROMPTS[0]!, continuations: [' (A)', ' (B)', ' (C)', ' (D)'] }];
    const [a, b] = [(await backend.loglik(req))[0]!, (await fp32.loglik(req))[0]!];
    a.forEach((v, j) => assert.ok(Number.isFinite(v) && Math.abs(v - b[j]!) < 0.05, `${v} vs ${b[j]}`));
    await Promise.all([backend.dispose(), fp32.dispose()]);
  });
}
