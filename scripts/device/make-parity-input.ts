/**
 * Writes the input of t5_parity.py and causal_parity.py: for a set of prompts, the token ids our tokenizer
 * gives, the greedy continuation (tokens and per-step log-probabilities) our ONNX backend produces on a
 * make-test-model model (at batch 8, so decoder-only models run left-padded), and log-likelihoods of fixed
 * continuations. The Python scripts rebuild the same weights in Hugging Face transformers' PyTorch models
 * (T5ForConditionalGeneration; LlamaForCausalLM / Qwen2ForCausalLM / GPT2LMHeadModel) — implementations that
 * share no code with ours or with the ONNX graph — and check they agree.
 *
 *   node dist/scripts/device/make-parity-input.js <model-dir> <out.json>
 */
import { writeFile } from 'node:fs/promises';
import { loadBackend } from '../../src/backends/load.js';
import type { OnnxCausalBackend } from '../../src/backends/onnx/causal.js';
import type { OnnxSeq2SeqBackend } from '../../src/backends/onnx/seq2seq.js';
import { SAMPLE_PROMPTS } from '../../test/helpers/reference.js';

// The sample prompts, the last one made longer than T5's 128-token relative-attention bucket distance.
const PROMPTS = [...SAMPLE_PROMPTS.slice(0, -1), `${'the history of science and the study of mathematics '.repeat(40)}${SAMPLE_PROMPTS.at(-1)!}`];
const CONTINUATIONS = [[5, 6, 7], [105, 36, 12]];

const [dir, out] = process.argv.slice(2);
if (!dir || !out) throw new Error('usage: make-parity-input.js <model-dir> <out.json>');
const backend = (await loadBackend(dir)) as OnnxSeq2SeqBackend | OnnxCausalBackend;
const inputs = PROMPTS.map((p) => backend.encode(p));
const results = await backend.generateTokens(inputs, inputs.map(() => 24), inputs.map(() => []));
const scores = await backend.loglikTokens(inputs, inputs.map(() => CONTINUATIONS));
const cases = inputs.map((ids, i) => ({ ids, tokens: results[i]!.tokens, logprobs: results[i]!.logprobs, finish: results[i]!.finishReason, loglik: scores[i] }));
await writeFile(out, JSON.stringify({ arch: backend.info.arch, maxNewTokens: 24, continuations: CONTINUATIONS, cases }));
await backend.dispose();
