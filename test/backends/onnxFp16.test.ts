import assert from 'node:assert/strict';
import { basename, dirname } from 'node:path';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { OnnxSeq2SeqBackend } from '../../src/backends/onnx/seq2seq.js';
import { testModelDir } from '../helpers/testModel.js';

const PROMPTS = [
  'The following are multiple choice questions (with answers) about algebra.\n\nQ: What is 2+2?\n(A) 3 (B) 4 (C) 5 (D) 6\nA:',
  'Question: Janet has 3 apples and buys 5 more. How many apples does she have?\nStep-by-Step Answer:',
  'What is the color of the ball? Options: red, blue, green, yellow, black, white, orange, purple, brown and gray.',
  'The following are multiple choice questions (with answers) about computer science. Which of the following best describes a function?',
  'Q: Is the following sentence plausible? "The man sold his book."\nA: Let\'s think step by step.',
];

test('an fp16 export (float16 weights, cache and logits) matches Transformers.js with dtype fp16, token for token', async () => {
  const dir = await testModelDir('tiny', 1, { fp16: true });
  // The fp16 files really hold float16 weights: about half the bytes of the fp32 ones.
  assert.ok((await readFile(join(dir, 'onnx', 'encoder_model_fp16.onnx'))).length < (await readFile(join(dir, 'onnx', 'encoder_model.onnx'))).length * 0.75);
  const backend = await OnnxSeq2SeqBackend.load({ dir, dtype: 'fp16' });
  assert.ok(backend.info.files.includes('onnx/decoder_model_merged_fp16.onnx'));
  const { AutoModelForSeq2SeqLM, AutoTokenizer, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = dirname(dir);
  const tok = await AutoTokenizer.from_pretrained(basename(dir), { local_files_only: true });
  const model = await AutoModelForSeq2SeqLM.from_pretrained(basename(dir), { local_files_only: true, dtype: 'fp16', device: 'cpu' });
  const ours = await backend.generate(PROMPTS.map((prompt) => ({ prompt, maxNewTokens: 16, stop: [] })));
  let generated = 0;
  for (const [i, prompt] of PROMPTS.entries()) {
    const out = (await model.generate({ ...tok(prompt), max_new_tokens: 16, do_sample: false })) as { tolist(): bigint[][] };
    const ref = out.tolist()[0]!.slice(1).map(Number);
    assert.deepEqual(ours[i]!.tokens, ref.at(-1) === 1 ? ref.slice(0, -1) : ref, `prompt ${i}`);
    generated += ours[i]!.tokens.length;
    assert.ok(ours[i]!.logprobs.every((lp) => Number.isFinite(lp) && lp <= 0), 'float16 logits decoded to finite log-probabilities');
  }
  assert.ok(generated > 10, 'some prompts generate beyond EOS-at-once, so the float16 cache is exercised');
  // Scoring reads float16 logits too; close to the fp32 files' scores (same weights, rounded to half).
  const fp32 = await OnnxSeq2SeqBackend.load({ dir, dtype: 'fp32' });
  const req = [{ context: PROMPTS[0]!, continuations: [' (A)', ' (B)', ' (C)', ' (D)'] }];
  const [a, b] = [(await backend.loglik(req))[0]!, (await fp32.loglik(req))[0]!];
  a.forEach((v, j) => assert.ok(Math.abs(v - b[j]!) < 0.05, `${v} vs ${b[j]}`));
  await Promise.all([model.dispose(), backend.dispose(), fp32.dispose()]);
});
