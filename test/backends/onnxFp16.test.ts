import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { OnnxSeq2SeqBackend } from '../../src/backends/onnx/seq2seq.js';
import { referenceGreedy, SAMPLE_PROMPTS } from '../helpers/reference.js';
import { testModelDir } from '../helpers/testModel.js';

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
