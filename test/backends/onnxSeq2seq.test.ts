import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { join } from 'node:path';
import { cp, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import ort from 'onnxruntime-node';
import { OnnxSeq2SeqBackend } from '../../src/backends/onnx/seq2seq.js';
import { planBatches } from '../../src/runner/batching.js';
import { UsageError } from '../../src/errors.js';
import { testModelDir } from '../helpers/testModel.js';
import { tempDir } from '../helpers/cli.js';
import { referenceGreedy, SAMPLE_PROMPTS } from '../helpers/reference.js';
import { int64Tensor, maskTensor } from '../../src/backends/onnx/tensors.js';

const PROMPTS = SAMPLE_PROMPTS;

let dir: string;
let backend: OnnxSeq2SeqBackend;

before(async () => {
  dir = await testModelDir('tiny', 1);
  backend = await OnnxSeq2SeqBackend.load({ dir });
});

describe('greedy generation', () => {
  test('matches @huggingface/transformers generate() token for token (independent implementation)', async () => {
    const ours = await backend.generate(PROMPTS.map((prompt) => ({ prompt, maxNewTokens: 24, stop: [] })));
    const ref = await referenceGreedy(dir, 'fp32', PROMPTS, 24);
    ref.forEach((r, i) => {
      assert.deepEqual(ours[i]!.tokens, r.tokens, `prompt ${i}`);
      assert.equal(ours[i]!.finishReason, r.endedWithEos ? 'eos' : 'length');
      assert.equal(ours[i]!.promptTokens, r.promptTokens);
    });
    const sawEos = ref.some((r) => r.endedWithEos);
    assert.ok(sawEos, "at least one reference continuation ends with EOS, so that path is compared too");
  });

  test('batch sizes 1, 3 and 8 give identical tokens and log-probabilities', async () => {
    const requests = PROMPTS.map((prompt, i) => ({ prompt, maxNewTokens: 10 + 3 * i, stop: i % 2 ? ['\n'] : [] }));
    const bySize = new Map<number, Awaited<ReturnType<typeof backend.generate>>>();
    for (const size of [1, 3, 8]) {
      const results = new Array(requests.length);
      const plan = planBatches(backend.countTokens(requests.map((r) => r.prompt)), { shape: backend.info.shape, maxRows: size, budget: Infinity, work: { decoderRowsPerPrompt: 1, newTokens: 40, logitPositions: 1 } });
      for (const batch of plan.batches.map((b) => b.items)) {
        const out = await backend.generate(batch.map((i) => requests[i]!));
        batch.forEach((i, k) => (results[i] = out[k]));
      }
      bySize.set(size, results);
    }
    const one = bySize.get(1)!;
    for (const size of [3, 8]) {
      const other = bySize.get(size)!;
      other.forEach((r, i) => {
        assert.deepEqual(r.tokens, one[i]!.tokens, `batch ${size}, prompt ${i}`);
        assert.equal(r.text, one[i]!.text);
        r.logprobs.forEach((lp, k) => assert.ok(Math.abs(lp - one[i]!.logprobs[k]!) < 1e-4, `logprob ${size}/${i}/${k}`));
      });
    }
    // The requests have different lengths and limits, so rows finished at different steps.
    assert.ok(new Set(one.map((r) => r.tokens.length)).size > 1);
  });

  test('cached decoding gives the same tokens as recomputing the whole prefix every step', async () => {
    const session = await ort.InferenceSession.create(join(dir, 'onnx', 'decoder_model.onnx'));
    const encoder = await ort.InferenceSession.create(join(dir, 'onnx', 'encoder_model.onnx'));
    for (const prompt of PROMPTS.slice(0, 4)) {
      const ids = backend.encode(prompt);
      const enc = await encoder.run({ input_ids: int64Tensor([ids], ids.length, 0), attention_mask: maskTensor([ids.length], ids.length) });
      const seq = [0];
      const generated: number[] = [];
      for (let step = 0; step < 16; step++) {
        const out = await session.run({
          input_ids: int64Tensor([seq], seq.length, 0),
          encoder_hidden_states: enc.last_hidden_state!,
          encoder_attention_mask: maskTensor([ids.length], ids.length),
        });
        const V = out.logits!.dims[2]!;
        const last = (out.logits!.data as Float32Array).subarray((seq.length - 1) * V, seq.length * V);
        const next = last.indexOf(Math.max(...last));
        if (next === 1) break;
        generated.push(next);
        seq.push(next);
      }
      const [cached] = await backend.generate([{ prompt, maxNewTokens: 16, stop: [] }]);
      assert.deepEqual(cached!.tokens, generated);
    }
  });

  test('the split layout (decoder + decoder-with-past) gives the same tokens as the merged decoder', async () => {
    const split = await tempDir();
    await cp(dir, split, { recursive: true });
    await rm(join(split, 'onnx', 'decoder_model_merged.onnx'));
    const b = await OnnxSeq2SeqBackend.load({ dir: split });
    assert.ok(b.info.files.includes('onnx/decoder_with_past_model.onnx'));
    const requests = PROMPTS.map((prompt) => ({ prompt, maxNewTokens: 12, stop: [] }));
    const [a, c] = [await backend.generate(requests), await b.generate(requests)];
    assert.deepEqual(c.map((r) => r.tokens), a.map((r) => r.tokens));
    assert.deepEqual(await b.loglik([{ context: PROMPTS[0]!, continuations: [' (A)', ' (B)'] }]), await backend.loglik([{ context: PROMPTS[0]!, continuations: [' (A)', ' (B)'] }]));
    await b.dispose();
  });

  test('a stop string that spans a token boundary ends generation at the token completing it, and the text is cut before it', async () => {
    const runs = await backend.generate(PROMPTS.map((prompt) => ({ prompt, maxNewTokens: 20, stop: [] })));
    const at = runs.findIndex((r) => r.tokens.length >= 12);
    assert.ok(at >= 0, 'some prompt runs to at least 12 tokens');
    const prompt = PROMPTS[at]!;
    const free = runs[at];
    const text = free!.text;
    // Choose a boundary in the middle whose two neighbouring characters form a stop string split by it.
    const k = 6;
    const prefixLen = backend.decode(free!.tokens.slice(0, k + 1)).length;
    assert.ok(prefixLen >= 1 && prefixLen < text.length, 'the free run is long enough to split');
    const stop = text.slice(prefixLen - 1, prefixLen + 1);
    assert.equal(stop.length, 2);
    const first = text.indexOf(stop);
    const [stopped] = await backend.generate([{ prompt, maxNewTokens: 20, stop: [stop] }]);
    assert.equal(stopped!.finishReason, 'stop');
    assert.equal(stopped!.text, text.slice(0, first));
    // Generation stopped as soon as the decoded text contained the stop string, not later.
    const needed = free!.tokens.findIndex((_, j) => backend.decode(free!.tokens.slice(0, j + 1)).includes(stop)) + 1;
    assert.equal(stopped!.tokens.length, needed);
    assert.ok(needed <= k + 2);
    assert.deepEqual(stopped!.tokens, free!.tokens.slice(0, needed));
  });

  test('maxNewTokens 0 returns an empty continuation', async () => {
    const [r] = await backend.generate([{ prompt: 'x', maxNewTokens: 0, stop: [] }]);
    assert.deepEqual([r!.text, r!.tokens, r!.finishReason], ['', [], 'length']);
  });
});

describe('log-likelihood', () => {
  test('equals the sum of the generation step log-probabilities of the greedy continuation', async () => {
    const results = await backend.generate(PROMPTS.map((prompt) => ({ prompt, maxNewTokens: 8, stop: [] })));
    const kept = results.map((r, i) => ({ r, i })).filter(({ r }) => r.tokens.length > 0);
    assert.ok(kept.length >= 5);
    const contexts = kept.map(({ i }) => backend.encode(PROMPTS[i]!));
    const scores = await backend.loglikTokens(contexts, kept.map(({ r }) => [r.tokens]));
    kept.forEach(({ r }, i) => {
      const sum = r.logprobs.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(scores[i]![0]! - sum) < 1e-3, `prompt ${i}: ${scores[i]![0]} vs ${sum}`);
    });
  });

  test('one-token continuations (read from the first logits alone, no caches fetched) score as they do beside a longer one', async () => {
    // Prompts of different lengths, so the encoder runs in several length groups on both paths.
    const contexts = PROMPTS.map((p) => backend.encode(p));
    const greedy = await backend.generateTokens(contexts, contexts.map(() => 2), contexts.map(() => []));
    const single = contexts.map((_, i) => [[greedy[i]!.tokens[0] ?? 1], [5], [7]]);
    const alone = await backend.loglikTokens(contexts, single);
    const beside = await backend.loglikTokens(contexts, single.map((c) => [...c, [5, 7, 9]]));
    alone.forEach((row, i) => {
      row.forEach((v, j) => assert.ok(Math.abs(v - beside[i]![j]!) < 1e-5, `prompt ${i}, option ${j}: ${v} vs ${beside[i]![j]}`));
      // The greedy token's score is the generation's own first log-probability.
      if (greedy[i]!.tokens.length) assert.ok(Math.abs(row[0]! - greedy[i]!.logprobs[0]!) < 1e-4);
    });
  });

  test('contexts with different numbers of choices (some choices run on copied rows) score as each does alone', async () => {
    const requests = PROMPTS.slice(0, 5).map((context, i) => ({ context, continuations: [' (A)', ' (B)', ' (C)', ' maybe so', ' no'].slice(0, 1 + i) }));
    const together = await backend.loglik(requests);
    for (const [i, request] of requests.entries()) {
      const [alone] = await backend.loglik([request]);
      assert.equal(together[i]!.length, request.continuations.length);
      alone!.forEach((v, j) => assert.ok(Math.abs(v - together[i]![j]!) < 1e-4, `request ${i}, choice ${j}: ${v} vs ${together[i]![j]}`));
    }
  });

  test('is the same in batches of 1, 3 and 8 (within 1e-4) and prefers the greedy continuation', async () => {
    const requests = PROMPTS.map((context) => ({ context, continuations: [' (A)', ' (B)', ' (C)', ' (D)'] }));
    const all = await backend.loglik(requests);
    for (const size of [1, 3]) {
      for (let i = 0; i < requests.length; i += size) {
        const part = await backend.loglik(requests.slice(i, i + size));
        part.forEach((row, k) => row.forEach((v, j) => assert.ok(Math.abs(v - all[i + k]![j]!) < 1e-4)));
      }
    }
    assert.ok(all.every((row) => row.every((v) => Number.isFinite(v) && v < 0)));
    assert.ok(new Set(all.flat().map((v) => v.toFixed(6))).size > 8, 'scores differ between options and prompts');
  });
});

describe('dtype variants', () => {
  test('--dtype q8 opens the *_quantized files (and fp16 the *_fp16 ones), never the fp32 ones', async () => {
    // Same bytes under the variant names: this checks which files are chosen, not quantization itself.
    const d = await tempDir();
    await cp(dir, d, { recursive: true });
    for (const base of ['encoder_model', 'decoder_model_merged', 'decoder_with_past_model']) {
      await copyFile(join(d, 'onnx', `${base}.onnx`), join(d, 'onnx', `${base}_quantized.onnx`));
      await rm(join(d, 'onnx', `${base}.onnx`));
    }
    const q8 = await OnnxSeq2SeqBackend.load({ dir: d, dtype: 'q8' });
    assert.deepEqual(q8.info.files.filter((f) => f.endsWith('.onnx')).sort(), ['onnx/decoder_model_merged_quantized.onnx', 'onnx/decoder_with_past_model_quantized.onnx', 'onnx/encoder_model_quantized.onnx']);
    assert.equal(q8.info.dtype, 'q8');
    const requests = PROMPTS.slice(0, 3).map((prompt) => ({ prompt, maxNewTokens: 8, stop: [] }));
    assert.deepEqual((await q8.generate(requests)).map((r) => r.tokens), (await backend.generate(requests)).map((r) => r.tokens));
    await q8.dispose();
    await assert.rejects(OnnxSeq2SeqBackend.load({ dir: d, dtype: 'fp16' }), /encoder_model_fp16\.onnx: missing \(--dtype fp16\)/);
  });
});

describe('model folders the backend cannot drive', () => {
  async function copyModel(): Promise<string> {
    const d = await tempDir();
    await cp(dir, d, { recursive: true });
    return d;
  }

  async function loadError(d: string, opts: { dtype?: 'fp32' | 'q8'; device?: string } = {}): Promise<string> {
    try {
      await OnnxSeq2SeqBackend.load({ dir: d, ...opts });
    } catch (e) {
      assert.ok(e instanceof UsageError, `expected a UsageError, got ${(e as Error).stack}`);
      return e.message;
    }
    assert.fail('load succeeded');
  }

  test('a corrupt .onnx file is named', async () => {
    const d = await copyModel();
    const path = join(d, 'onnx', 'encoder_model.onnx');
    const bytes = await readFile(path);
    await writeFile(path, bytes.subarray(0, bytes.length >> 1));
    assert.match(await loadError(d), new RegExp(`^${path.replace(/[.]/g, '\\.')}: not a loadable ONNX model`));
  });

  test('missing files are named', async () => {
    const d = await copyModel();
    await rm(join(d, 'tokenizer.json'));
    assert.match(await loadError(d), /tokenizer\.json: missing/);
    const e = await copyModel();
    await rm(join(e, 'onnx', 'decoder_model_merged.onnx'));
    await rm(join(e, 'onnx', 'decoder_with_past_model.onnx'));
    assert.match(await loadError(e), /decoder_with_past_model\.onnx: missing/);
    assert.match(await loadError(dir, { dtype: 'q8' }), /encoder_model_quantized\.onnx: missing \(--dtype q8\)/);
    assert.match(await loadError(join(dir, 'nope')), /--model .*nope: no such folder/);
  });

  test('a model whose input names do not fit names the file and the missing inputs', async () => {
    const d = await copyModel();
    // A decoder without past inputs where the merged decoder should be.
    await copyFile(join(d, 'onnx', 'decoder_model.onnx'), join(d, 'onnx', 'decoder_model_merged.onnx'));
    const msg = await loadError(d);
    assert.match(msg, /decoder_model_merged\.onnx: the model lacks inputs use_cache_branch, past_key_values\.0\.decoder\.key/);
  });

  test('--device cuda without the CUDA provider stops with the install command instead of falling back to CPU', async () => {
    const msg = await loadError(dir, { device: 'cuda' });
    assert.match(msg, /--device cuda:0: the CUDA execution provider is not installed .* `ONNXRUNTIME_NODE_INSTALL=cuda12/);
    assert.match(await loadError(dir, { device: 'gpu' }), /--device gpu: expected cpu, webgpu, cuda, cuda:N or auto/);
  });
});
