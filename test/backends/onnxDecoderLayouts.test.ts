import assert from 'node:assert/strict';
import { cp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { lengthGroups } from '../../src/backends/padding.js';
import { OnnxSeq2SeqBackend, type RunEvent } from '../../src/backends/onnx/seq2seq.js';
import { tempDir } from '../helpers/cli.js';
import { testModelDir } from '../helpers/testModel.js';

// The decoder layouts a folder may hold (SPEC §6): the backend steps with the decoder-with-past when the
// export has one next to the merged decoder, and with the merged decoder alone when it does not (what
// `models pull` downloads). Both must give the same tokens and scores.
const PROMPTS = [
  'Q: What is the capital of France?\nA:',
  'The following are multiple choice questions (with answers) about algebra.\n\nQ: 2+2?\n(A) 3 (B) 4\nA:',
  'yes',
  'Translate to German: the house is small.',
];

test('merged decoder alone and merged + decoder-with-past give identical tokens, log-probabilities and scores', async () => {
  const dir = await testModelDir('tiny', 1);
  const mergedOnly = await tempDir();
  await cp(dir, mergedOnly, { recursive: true });
  await rm(join(mergedOnly, 'onnx', 'decoder_with_past_model.onnx'));
  await rm(join(mergedOnly, 'onnx', 'decoder_model.onnx'));

  const events: RunEvent[] = [];
  const both = await OnnxSeq2SeqBackend.load({ dir, onRun: (e) => events.push(e) });
  const merged = await OnnxSeq2SeqBackend.load({ dir: mergedOnly });
  assert.ok(both.info.files.includes('onnx/decoder_with_past_model.onnx'), 'the with-past decoder is used and listed for hashing');
  assert.ok(!merged.info.files.includes('onnx/decoder_with_past_model.onnx'));

  const requests = PROMPTS.map((prompt, i) => ({ prompt, maxNewTokens: 6 + 4 * i, stop: [] }));
  const [a, b] = [await both.generate(requests), await merged.generate(requests)];
  assert.deepEqual(b.map((r) => r.tokens), a.map((r) => r.tokens));
  a.forEach((r, i) => r.logprobs.forEach((lp, k) => assert.ok(Math.abs(lp - b[i]!.logprobs[k]!) < 1e-4, `logprob ${i}/${k}`)));
  assert.ok(a.some((r) => r.tokens.length > 2), 'some request ran several cached steps');

  // The instrumentation hook reports one encoder run per length group of the batch (they cover every
  // prompt once).
  const groups = lengthGroups(both.countTokens(PROMPTS));
  assert.ok(groups.length > 1, 'the prompts differ enough in length to make several encoder runs');
  const encoderRuns = events.filter((e) => e.session === 'encoder');
  assert.deepEqual(encoderRuns.map((e) => e.rows), groups.map((g) => g.length));
  assert.equal(encoderRuns.reduce((a, e) => a + e.rows, 0), PROMPTS.length);
  const longest = Math.max(...a.map((r) => r.tokens.length + (r.finishReason === 'eos' ? 1 : 0)));
  // The first position runs once per group (it computes that group's cross-attention cache), then one
  // run per step for the whole batch.
  assert.equal(events.filter((e) => e.session === 'decoder').length, longest + groups.length - 1);

  const loglik = PROMPTS.map((context) => ({ context, continuations: [' (A)', ' (B)', ' yes'] }));
  const [sa, sb] = [await both.loglik(loglik), await merged.loglik(loglik)];
  sa.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - sb[i]![j]!) < 1e-4, `score ${i}/${j}`)));
  await Promise.all([both.dispose(), merged.dispose()]);
});
