import assert from 'node:assert/strict';
import { copyFile, cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadBackend } from '../../src/backends/load.js';
import { OnnxCausalBackend } from '../../src/backends/onnx/causal.js';
import { countOnnxParams } from '../../src/models/onnxParams.js';
import { CAUSAL_SHAPES } from '../../src/models/testModel/causal.js';
import { causalGraph, causalWeights } from '../../src/models/testModel/causalGraph.js';
import { OPSET } from '../../src/models/testModel/t5Graph.js';
import { GraphBuilder } from '../../src/onnx/graph.js';
import { DataType, encodeModel } from '../../src/onnx/proto.js';
import { countModelParams } from '../../src/backends/params.js';
import { tempDir } from '../helpers/cli.js';
import { referenceCausal, SAMPLE_PROMPTS } from '../helpers/reference.js';
import { causalTestModelDir } from '../helpers/testModel.js';

// Decoder-only backend against an independent implementation: @huggingface/transformers' own causal-LM
// generate() and forward pass, on the same files (make-test-model --arch). Ours runs batched with left
// padding and explicit position ids; the reference runs one unpadded prompt at a time.
const PROMPTS = [
  ...SAMPLE_PROMPTS,
  'Q: What is the capital of France?\nA:',
  'The answer is',
  'history of science',
  'no',
  'Options: (A) red (B) blue\nA:',
  'Let us think step by step.',
  'the',
  'Translate to German: the house is small.',
];
const MAX_NEW = 20;

for (const arch of ['llama', 'qwen2', 'gpt2'] as const) {
  describe(`causal backend (${arch}) vs @huggingface/transformers`, () => {
    let dir: string;
    let backend: OnnxCausalBackend;
    let reference: Awaited<ReturnType<typeof referenceCausal>>;
    before(async () => {
      dir = await causalTestModelDir(arch);
      backend = (await loadBackend(dir, { threads: 1 })) as OnnxCausalBackend;
      reference = await referenceCausal(dir);
    });
    after(async () => {
      await backend.dispose();
      await reference.dispose();
    });

    test('greedy tokens equal generate() token for token, at batch sizes 1, 3 and 8 (left padding), EOS endings included', async () => {
      const ref = await reference.greedy(PROMPTS, MAX_NEW);
      assert.ok(ref.some((r) => r.endedWithEos), 'some reference continuation ends with EOS');
      assert.ok(ref.some((r) => !r.endedWithEos), 'some reference continuation runs to the limit');
      const requests = PROMPTS.map((prompt) => ({ prompt, maxNewTokens: MAX_NEW, stop: [] }));
      const byBatch: Awaited<ReturnType<OnnxCausalBackend['generate']>>[] = [];
      for (const size of [1, 3, 8]) {
        const out = [];
        for (let i = 0; i < requests.length; i += size) out.push(...(await backend.generate(requests.slice(i, i + size))));
        out.forEach((r, i) => {
          assert.deepEqual(r.tokens, ref[i]!.tokens, `batch ${size}, prompt ${i}`);
          assert.equal(r.finishReason, ref[i]!.endedWithEos ? 'eos' : 'length', `batch ${size}, prompt ${i}`);
          assert.equal(r.promptTokens, ref[i]!.promptTokens);
        });
        byBatch.push(out);
      }
      byBatch[0]!.forEach((r, i) => r.logprobs.forEach((lp, k) => byBatch.slice(1).forEach((b) => assert.ok(Math.abs(lp - b[i]!.logprobs[k]!) < 1e-4, `logprob ${i}/${k}`))));
    });

    test('loglik is within 1e-4 of the forward pass, scoring only the continuation tokens (_encode_pair)', async () => {
      const requests = PROMPTS.slice(0, 8).map((context) => ({ context, continuations: [' (A)', ' (B)', ' yes', 'm is'] }));
      const ours = await backend.loglik(requests);
      for (const [i, r] of requests.entries()) {
        for (const [j, c] of r.continuations.entries()) {
          const p = backend.encodePair(r.context, c);
          const want = await reference.loglik([...p.context, ...p.continuation], p.context.length);
          assert.ok(Math.abs(ours[i]![j]! - want) < 1e-4, `request ${i} continuation ${j}: ${ours[i]![j]} vs ${want}`);
        }
      }
    });

    test('batched loglik does not depend on the batch', async () => {
      const requests = PROMPTS.map((context) => ({ context, continuations: [' A', ' the answer'] }));
      const all = await backend.loglik(requests);
      for (const [i, r] of requests.entries()) {
        const one = await backend.loglik([r]);
        one[0]!.forEach((v, j) => assert.ok(Math.abs(v - all[i]![j]!) < 1e-4, `request ${i}/${j}`));
      }
    });

    test('shared-prefix KV reuse gives the same tokens and scores as whole-prompt runs', async () => {
      // A task's exemplar block, then questions. The text of the block ends mid-word in some prompts
      // ("… the" + "m …"), so the shared token prefix must stop before the text boundary there.
      const block = `${'The following are multiple choice questions (with answers) about history.\n\nQ: Which year?\n(A) 1 (B) 2\nA: The answer is (B).\n\n'.repeat(3)}Q: the`;
      const prompts = ['m is it?\nA:', 'n what?\nA:', ' answer\nA:', 'se are\nA:', 're\nA:'].map((q) => block + q);
      const plain = (await OnnxCausalBackend.load({ dir, threads: 1, prefixReuse: false }))!;
      const reuse = (await OnnxCausalBackend.load({ dir, threads: 1 }))!;
      const requests = prompts.map((prompt) => ({ prompt, maxNewTokens: 12, stop: [] }));
      const a = await plain.generate(requests);
      const b = [...(await reuse.generate(requests.slice(0, 2))), ...(await reuse.generate(requests.slice(2, 3))), ...(await reuse.generate(requests.slice(3)))];
      assert.deepEqual(b.map((r) => r.tokens), a.map((r) => r.tokens));
      a.forEach((r, i) => r.logprobs.forEach((lp, k) => assert.ok(Math.abs(lp - b[i]!.logprobs[k]!) < 1e-4, `logprob ${i}/${k}`)));
      assert.ok(reuse.prefixStats.hits >= prompts.length - 1, `prefix reused (${JSON.stringify(reuse.prefixStats)})`);
      // The prefix reused is a token boundary of every whole prompt: the tokens of the shared text are
      // not a prefix of the whole prompts' tokens when the text ends mid-word, so text-level reuse would be wrong.
      const blockIds = reuse.encode(block);
      const wholeIds = prompts.map((p) => reuse.encode(p));
      assert.ok(wholeIds.some((w) => blockIds.some((t, k) => w[k] !== t)), 'the test has a text boundary that is not a token boundary');
      const loglik = prompts.map((context) => ({ context, continuations: [' (A)', ' (B)'] }));
      const [la, lb] = [await plain.loglik(loglik), await reuse.loglik(loglik)];
      la.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - lb[i]![j]!) < 1e-4, `score ${i}/${j}`)));
      await Promise.all([plain.dispose(), reuse.dispose()]);
    });

    test('a batch of two tasks\' prompts runs as one group per cached prefix, each read once for its rows; same tokens and scores', async () => {
      const blockA = `${'Q: Which planet is largest?\nA: Jupiter.\n\n'.repeat(4)}Q:`;
      const blockB = `${'Translate to French: good morning\nbonjour\n\n'.repeat(4)}Translate to French:`;
      // Interleaved, as a length-sorted runner batch mixes tasks.
      const prompts = [`${blockA} which is smallest?\nA:`, `${blockB} thank you\n`, `${blockA} which has rings?\nA:`, `${blockB} the cat\n`, `${blockA} which is red?\nA:`];
      const runs: { rows: number; width: number }[] = [];
      const plain = (await OnnxCausalBackend.load({ dir, threads: 1, prefixReuse: false }))!;
      const grouped = (await OnnxCausalBackend.load({ dir, threads: 1, onRun: (e) => runs.push({ rows: e.rows, width: e.width }) }))!;
      try {
        const requests = prompts.map((prompt) => ({ prompt, maxNewTokens: 6, stop: [] }));
        const [a, b] = [await plain.generate(requests), await grouped.generate(requests)];
        assert.deepEqual(b.map((r) => r.tokens), a.map((r) => r.tokens));
        assert.equal(grouped.prefixStats.computed, 2, 'each block computed once');
        // Prefill and steps run at 3 rows (task A) and 2 rows (task B), never the 5 together.
        assert.ok(runs.some((r) => r.rows === 3) && runs.some((r) => r.rows === 2), JSON.stringify(runs));
        assert.ok(!runs.some((r) => r.rows === 5), JSON.stringify(runs));
        const loglik = prompts.map((context) => ({ context, continuations: [' yes', ' no'] }));
        const [la, lb] = [await plain.loglik(loglik), await grouped.loglik(loglik)];
        la.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - lb[i]![j]!) < 1e-4, `score ${i}/${j}`)));
      } finally {
        await Promise.all([plain.dispose(), grouped.dispose()]);
      }
    });

    test('the proofs above ran the rewritten graph; the file as exported (--no-graph-rewrite) gives the same tokens and scores', async () => {
      // The backend loaded above rewrote the export (src/onnx/rewrite/): GQA archs lose the kv repeat, all
      // compute logits only where they are read. Transformers.js ran the file unchanged.
      const notes = backend.info.graphRewrites ?? [];
      assert.equal(notes.some((n) => n.startsWith('grouped-query attention')), arch !== 'gpt2', notes.join('; '));
      assert.ok(notes.some((n) => n.startsWith('prompts compute logits')), notes.join('; '));
      const asExported = (await OnnxCausalBackend.load({ dir, threads: 1, graphRewrite: false }))!;
      try {
        assert.deepEqual(asExported.info.graphRewrites, []);
        const requests = PROMPTS.map((prompt) => ({ prompt, maxNewTokens: MAX_NEW, stop: [] }));
        const [a, b] = [await asExported.generate(requests), await backend.generate(requests)];
        assert.deepEqual(b.map((r) => r.tokens), a.map((r) => r.tokens));
        const loglik = PROMPTS.map((context) => ({ context, continuations: [' (A)', ' the answer'] }));
        const [la, lb] = [await asExported.loglik(loglik), await backend.loglik(loglik)];
        la.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - lb[i]![j]!) < 1e-4, `score ${i}/${j}`)));
      } finally {
        await asExported.dispose();
      }
    });
  });
}

describe('causal backend: encodePair, files and parameters', () => {
  test('encodePair follows lm-eval: trailing context whitespace moves to the continuation; a merged boundary token is not scored twice', async () => {
    const b = (await loadBackend(await causalTestModelDir('llama'), { threads: 1 })) as OnnxCausalBackend;
    const spaced = b.encodePair('Answer: ', 'yes');
    assert.deepEqual(spaced, { context: b.encode('Answer:'), continuation: b.encode('Answer: yes').slice(b.encode('Answer:').length) });
    // "… the" + "m is": the whole text tokenises as "… them is", so the context's last token differs
    // from the whole's at that position; lm-eval keeps the context's own tokens and scores what the
    // whole has beyond their count.
    const ctx = b.encode('Q: the');
    const whole = b.encode('Q: them is');
    assert.notEqual(whole[ctx.length - 1], ctx.at(-1), 'the boundary token merges');
    assert.deepEqual(b.encodePair('Q: the', 'm is'), { context: ctx, continuation: whole.slice(ctx.length) });
    await b.dispose();
  });

  test('--dtype picks model_quantized / model_q4; a merged decoder with use_cache_branch gives the same tokens', async () => {
    const src = await causalTestModelDir('llama');
    const d = await tempDir();
    await cp(src, d, { recursive: true });
    await copyFile(join(d, 'onnx', 'model.onnx'), join(d, 'onnx', 'model_quantized.onnx'));
    await copyFile(join(d, 'onnx', 'model.onnx'), join(d, 'onnx', 'model_q4.onnx'));
    const requests = PROMPTS.slice(0, 4).map((prompt) => ({ prompt, maxNewTokens: 8, stop: [] }));
    const base = await loadBackend(src, { threads: 1 });
    const want = (await base.generate(requests)).map((r) => r.tokens);
    for (const [dtype, file] of [['q8', 'onnx/model_quantized.onnx'], ['q4', 'onnx/model_q4.onnx']] as const) {
      const b = await loadBackend(d, { dtype, threads: 1 });
      assert.deepEqual(b.info.files.filter((f) => f.endsWith('.onnx')), [file]);
      assert.deepEqual((await b.generate(requests)).map((r) => r.tokens), want);
      await b.dispose();
    }
    await assert.rejects(loadBackend(d, { dtype: 'fp16' }), /model_fp16\.onnx: missing \(--dtype fp16\)/);

    const merged = await tempDir();
    await cp(src, merged, { recursive: true });
    await rm(join(merged, 'onnx', 'model.onnx'));
    const cfg = { arch: 'llama' as const, ...CAUSAL_SHAPES.llama.tiny, maxPositions: 0, eosId: 1 };
    await writeFile(join(merged, 'onnx', 'decoder_model_merged.onnx'), encodeModel(causalGraph(cfg, causalWeights(cfg, 1), { useCacheBranch: true }), OPSET, 'test'));
    const m = await loadBackend(merged, { threads: 1 });
    assert.deepEqual(m.info.files.filter((f) => f.endsWith('.onnx')), ['onnx/decoder_model_merged.onnx']);
    assert.deepEqual((await m.generate(requests)).map((r) => r.tokens), want);
    await Promise.all([m.dispose(), base.dispose()]);
  });

  test('a prompt longer than the model\'s positions keeps its last tokens (gpt2: 1024), leaving room for the continuation', async () => {
    const b = (await loadBackend(await causalTestModelDir('gpt2'), { threads: 1 })) as OnnxCausalBackend;
    const prompt = 'the history of science and the study of mathematics '.repeat(200);
    const ids = b.encode(prompt);
    assert.ok(ids.length > 1024);
    const [r] = await b.generate([{ prompt, maxNewTokens: 6, stop: [] }]);
    assert.equal(r!.promptTokens, 1024 - 6);
    const [direct] = await b.generateTokens([ids.slice(ids.length - (1024 - 6))], [6], [[]]);
    assert.deepEqual(r!.tokens, direct!.tokens);
    // Scoring: context + continuation cut to the last 1025 tokens (the last is only scored), as lm-eval.
    const [[score]] = await b.loglik([{ context: prompt, continuations: [' the answer'] }]);
    const p = b.encodePair(prompt, ' the answer');
    const [[want]] = await b.loglikTokens([p.context.slice(p.context.length + p.continuation.length - 1025)], [[p.continuation]]);
    // 1e-4 as everywhere here: the two may read a cached prefix differently (batch-wide or per row), which
    // changes the rounding of the attention sums only.
    assert.ok(Math.abs(score! - want!) < 1e-4, `${score} vs ${want}`);
    await b.dispose();
  });

  test('a sliding-window model (use_sliding_window) keeps per-row prefix copies: no batch-wide prefix input', async () => {
    const dir = await tempDir();
    await cp(await causalTestModelDir('qwen2'), dir, { recursive: true });
    const cfg = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    const plain = (await OnnxCausalBackend.load({ dir, threads: 1 }))!;
    assert.ok(plain.info.graphRewrites!.some((n) => n.startsWith('a batch whose prompts share')));
    await plain.dispose();
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...cfg, use_sliding_window: true, sliding_window: 16 }));
    const windowed = (await OnnxCausalBackend.load({ dir, threads: 1 }))!;
    const notes = windowed.info.graphRewrites!;
    assert.ok(!notes.some((n) => n.startsWith('a batch whose prompts share')), notes.join('; '));
    assert.ok(notes.some((n) => n.startsWith('grouped-query attention')), notes.join('; '));
    await windowed.dispose();
  });

  test('info: arch, shape from config.json, and the tied embedding counted once', async () => {
    const dir = await causalTestModelDir('qwen2');
    const b = await loadBackend(dir, { threads: 1 });
    const cfg = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    assert.equal(b.info.arch, 'qwen2');
    assert.deepEqual(b.info.shape, { kind: 'decoder-only', layers: cfg.num_hidden_layers, encoderLayers: 0, hidden: cfg.hidden_size, heads: cfg.num_attention_heads, kvHeads: cfg.num_key_value_heads, headDim: cfg.head_dim, ffn: cfg.intermediate_size, vocab: cfg.vocab_size, bytesPerElement: 4, promptLogits: 'last' });
    // The LM head reads the embedding through a Transpose: one initializer, so the file's sum is the count.
    assert.equal(b.info.params, await countOnnxParams(join(dir, 'onnx', 'model.onnx')));
    // An export that stores the tied head a second time (as its own vocab × hidden initializer) counts it once.
    const g = new GraphBuilder('m');
    const [V, H] = [cfg.vocab_size, cfg.hidden_size];
    g.weight('embed', [V, H], new Float32Array(V * H));
    g.weight('lm_head', [H, V], new Float32Array(V * H));
    g.weight('norm', [H], new Float32Array(H));
    const x = g.input('x', DataType.FLOAT, [1, H]);
    g.output('y', g.op('Add', [x, 'norm']), DataType.FLOAT, [1, H]);
    const twice = await tempDir();
    await writeFile(join(twice, 'model.onnx'), encodeModel(g.build(), OPSET, 'test'));
    const folder = { dir: twice, configPath: join(twice, 'config.json'), config: { tie_word_embeddings: true }, generation: {}, modelType: 'qwen2', files: [], isTestModel: true };
    assert.equal(await countModelParams(folder, ['model.onnx'], { vocab: V, hidden: H }), V * H + H);
    assert.equal(await countModelParams({ ...folder, config: { tie_word_embeddings: false } }, ['model.onnx'], { vocab: V, hidden: H }), 2 * V * H + H);
    await b.dispose();
  });
});
