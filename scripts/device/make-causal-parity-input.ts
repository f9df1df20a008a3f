/**
 * Writes the input of causal_parity.py: for a set of prompts, the token ids our tokenizer gives, the greedy
 * continuation (tokens and per-step log-probabilities) our decoder-only ONNX backend produces at batch 8
 * with left padding, and log-likelihoods of fixed continuations, on a `make-test-model --arch` model.
 * causal_parity.py rebuilds the same weights in transformers' PyTorch LlamaForCausalLM / Qwen2ForCausalLM /
 * GPT2LMHeadModel (code that shares nothing with ours or with the ONNX graph) and checks it agrees.
 *
 *   node dist/scripts/device/make-causal-parity-input.js <model-dir> <out.json>
 */
import { writeFile } from 'node:fs/promises';
import { loadBackend } from '../../src/backends/load.js';
import type { OnnxCausalBackend } from '../../src/backends/onnx/causal.js';

const PROMPTS = [
  'The following are multiple choice questions (with answers) about algebra.\n\nQ: What is 2+2?\n(A) 3 (B) 4 (C) 5 (D) 6\nA:',
  'Q: Is the following sentence plausible? "The man sold his book."\nA: Let\'s think step by step.',
  'answer',
  'Question: Janet has 3 apples and buys 5 more. How many apples does she have?\nStep-by-Step Answer:',
  'What is the color of the ball? Options: red, blue, green, yellow, black, white, orange, purple, brown and gray.',
  'yes or no',
  'The following are multiple choice questions (with answers) about computer science. Which of the following best describes a function?',
  `${'the history of science and the study of mathematics '.repeat(40)}Q: x\nA:`,
];
const CONTINUATIONS = [[5, 6, 7], [105, 36, 12]];

const [dir, out] = process.argv.slice(2);
if (!dir || !out) throw new Error('usage: make-causal-parity-input.js <model-dir> <out.json>');
const backend = (await loadBackend(dir)) as OnnxCausalBackend;
const inputs = PROMPTS.map((p) => backend.encode(p));
const results = await backend.generateTokens(inputs, inputs.map(() => 24), inputs.map(() => []));
const scores = await backend.loglikTokens(inputs, inputs.map(() => CONTINUATIONS));
await writeFile(out, JSON.stringify({ arch: backend.info.arch, maxNewTokens: 24, continuations: CONTINUATIONS, cases: inputs.map((ids, i) => ({ ids, tokens: results[i]!.tokens, logprobs: results[i]!.logprobs, finish: results[i]!.finishReason, loglik: scores[i] })) }));
await backend.dispose();
