import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import ort from 'onnxruntime-node';
import { causalGraph, causalWeights, type CausalConfig, type GqaRepeat } from '../../src/models/testModel/causalGraph.js';
import { OPSET } from '../../src/models/testModel/t5Graph.js';
import { GraphBuilder } from '../../src/onnx/graph.js';
import { DataType, encodeModel, ModelProto } from '../../src/onnx/proto.js';
import { rewriteCausal } from '../../src/onnx/rewrite/causal.js';
import { LOGITS_TO_KEEP } from '../../src/onnx/rewrite/lastLogits.js';
import { PREFIX_INPUT } from '../../src/onnx/rewrite/sharedPrefix.js';

// The load-time rewrites of decoder-only exports (src/onnx/rewrite/) against the graph as exported: both
// run in ONNX Runtime on the same inputs. The backend's parity tests (test/backends/onnxCausal.test.ts)
// then hold the rewritten graphs to Transformers.js running the original files.

/** 6 query heads over 2 kv heads (rep 3, as smollm2-135m's 9 over 3), small enough to run in milliseconds. */
const CFG: CausalConfig = { arch: 'llama', vocab: 256, hidden: 24, layers: 2, heads: 6, kvHeads: 2, headDim: 4, ffn: 32, eps: 1e-5, ropeTheta: 10000, maxPositions: 0, eosId: 1 };

function model(cfg: CausalConfig, repeat?: GqaRepeat): Uint8Array {
  return encodeModel(causalGraph(cfg, causalWeights(cfg, 7), { repeat }), OPSET);
}

function ops(bytes: Uint8Array): string[] {
  const m = ModelProto.decode(bytes) as unknown as { graph: { node: { op_type: string }[] } };
  return m.graph.node.map((n) => n.op_type);
}

/** Rows of 3 with a past of `past` columns (the first row's first two are padding) and `width` new tokens. */
function feeds(cfg: CausalConfig, past: number, width: number): Record<string, ort.Tensor> {
  const B = 3;
  let seed = 11;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 2;
  const f: Record<string, ort.Tensor> = {};
  for (let l = 0; l < cfg.layers; l++) {
    for (const kv of ['key', 'value']) f[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', Float32Array.from({ length: B * cfg.kvHeads * past * cfg.headDim }, rnd), [B, cfg.kvHeads, past, cfg.headDim]);
  }
  const mask = new BigInt64Array(B * (past + width)).fill(1n);
  if (past >= 2) mask.fill(0n, 0, 2);
  f.input_ids = new ort.Tensor('int64', BigInt64Array.from({ length: B * width }, (_, i) => BigInt((i * 37 + 5) % cfg.vocab)), [B, width]);
  f.attention_mask = new ort.Tensor('int64', mask, [B, past + width]);
  f.position_ids = new ort.Tensor('int64', BigInt64Array.from({ length: B * width }, (_, i) => BigInt(past + (i % width))), [B, width]);
  return f;
}

function maxDiff(a: ort.Tensor, b: ort.Tensor): number {
  const x = a.data as Float32Array;
  const y = b.data as Float32Array;
  assert.equal(x.length, y.length);
  return x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!)), 0);
}

/** The last `k` positions of logits [B, T, V]. */
function lastPositions(t: ort.Tensor, k: number): Float32Array {
  const [B, T, V] = t.dims as [number, number, number];
  const d = t.data as Float32Array;
  const out = new Float32Array(B * k * V);
  for (let b = 0; b < B; b++) out.set(d.subarray((b * T + T - k) * V, (b * T + T) * V), b * k * V);
  return out;
}

describe('graph rewrites of decoder-only exports', () => {
  for (const repeat of ['tile', 'expand'] as const) {
    test(`GQA repeat (${repeat}, as ${repeat === 'tile' ? 'the test models have it' : 'torch.onnx exports repeat_kv'}) removed: every output as the export computes it, prompts and steps`, async () => {
      const original = model(CFG, repeat);
      const r = rewriteCausal(original);
      assert.equal(r.gqaProducts, 2 * CFG.layers, 'Q·Kᵀ and P·V of every layer');
      assert.equal(r.lastLogits, true);
      const before = ops(original);
      const after = ops(r.bytes!);
      const repeatOp = repeat === 'tile' ? 'Tile' : 'Expand';
      assert.equal(before.filter((o) => o === repeatOp).length, 2 * CFG.layers);
      assert.equal(after.filter((o) => o === repeatOp).length, 0, 'no repeat is left');
      const a = await ort.InferenceSession.create(original, { intraOpNumThreads: 1 });
      const b = await ort.InferenceSession.create(r.bytes!, { intraOpNumThreads: 1 });
      try {
        assert.ok(b.inputNames.includes(LOGITS_TO_KEEP));
        for (const [past, width] of [[0, 5], [6, 4], [9, 1]] as const) {
          const f = feeds(CFG, past, width);
          const want = await a.run(f);
          for (const keep of [1, width]) {
            const got = await b.run({ ...f, [LOGITS_TO_KEEP]: new ort.Tensor('int64', BigInt64Array.of(BigInt(keep)), [1]) });
            assert.deepEqual(got.logits!.dims, [3, keep, CFG.vocab], `past ${past}, width ${width}, keep ${keep}`);
            const wanted = lastPositions(want.logits!, keep);
            const gotten = got.logits!.data as Float32Array;
            const d = wanted.reduce((m, v, i) => Math.max(m, Math.abs(v - gotten[i]!)), 0);
            assert.ok(d < 1e-5, `logits differ by ${d} (past ${past}, width ${width}, keep ${keep})`);
            for (const name of a.outputNames.filter((n) => n.startsWith('present.'))) {
              assert.ok(maxDiff(want[name]!, got[name]!) < 1e-5, `${name} (past ${past}, width ${width})`);
            }
          }
        }
      } finally {
        await a.release();
        await b.release();
      }
    });
  }

  for (const [arch, repeat] of [['llama', 'tile'], ['llama', 'expand'], ['gpt2', 'tile']] as const) {
    test(`a batch-wide prefix (${arch}${arch === 'llama' ? `, ${repeat}` : ''}): prefix inputs + each row's rest give the export's outputs over the whole past; an empty prefix gives them too`, async () => {
      const cfg: CausalConfig = arch === 'gpt2' ? { ...CFG, arch, heads: 4, kvHeads: 4, maxPositions: 64 } : CFG;
      const original = model(cfg, repeat);
      const r = rewriteCausal(original, { sharedPrefix: true });
      assert.equal(r.prefixLayers, cfg.layers);
      const a = await ort.InferenceSession.create(original, { intraOpNumThreads: 1 });
      const b = await ort.InferenceSession.create(r.bytes!, { intraOpNumThreads: 1 });
      try {
        for (const [prefix, past, width] of [[5, 0, 3], [4, 3, 1], [0, 6, 2], [7, 2, 4]] as const) {
          // The export reads [prefix | past] per row; the rewrite the prefix once (row 0's copy) and each row's past.
          const f = feeds(cfg, prefix + past, width);
          const split: Record<string, ort.Tensor> = { ...f, [LOGITS_TO_KEEP]: new ort.Tensor('int64', BigInt64Array.of(BigInt(width)), [1]) };
          // Every row shares the prefix: copy row 0's prefix columns to the other rows, unmasked.
          for (const name of Object.keys(f).filter((n) => n.startsWith('past_key_values.'))) {
            const t = f[name]!;
            const [B, H, S, D] = t.dims as [number, number, number, number];
            const data = t.data as Float32Array;
            for (let row = 1; row < B; row++) for (let h = 0; h < H; h++) data.copyWithin(((row * H + h) * S) * D, (h * S) * D, (h * S + prefix) * D);
            const pre = new Float32Array(H * prefix * D);
            const rest = new Float32Array(B * H * past * D);
            for (let h = 0; h < H; h++) pre.set(data.subarray(h * S * D, (h * S + prefix) * D), h * prefix * D);
            for (let row = 0; row < B; row++) for (let h = 0; h < H; h++) rest.set(data.subarray(((row * H + h) * S + prefix) * D, ((row * H + h) * S + S) * D), (row * H + h) * past * D);
            split[name] = new ort.Tensor('float32', rest, [B, H, past, D]);
            split[name.replace('past_key_values.', PREFIX_INPUT)] = new ort.Tensor('float32', pre, [1, H, prefix, D]);
          }
          const mask = f.attention_mask!.data as BigInt64Array;
          mask.fill(1n, 0, prefix); // row 0's prefix columns are real tokens now (copied to every row)
          const restMask = new BigInt64Array(3 * (past + width));
          for (let row = 0; row < 3; row++) restMask.set(mask.subarray(row * (prefix + past + width) + prefix, (row + 1) * (prefix + past + width)), row * (past + width));
          split.attention_mask = new ort.Tensor('int64', restMask, [3, past + width]);
          const wholeOut = await a.run(f);
          const got = await b.run(split);
          const d = maxDiff(wholeOut.logits!, got.logits!);
          assert.ok(d < 1e-5, `logits differ by ${d} (prefix ${prefix}, past ${past}, width ${width})`);
          // present.* is the rows' own part: the whole past's columns after the prefix.
          const name = 'present.1.value';
          const full = wholeOut[name]!;
          const [B, H, S, D] = full.dims as [number, number, number, number];
          const own = new Float32Array(B * H * (S - prefix) * D);
          for (let row = 0; row < B; row++) for (let h = 0; h < H; h++) own.set((full.data as Float32Array).subarray(((row * H + h) * S + prefix) * D, ((row * H + h) * S + S) * D), (row * H + h) * (S - prefix) * D);
          assert.ok(maxDiff(new ort.Tensor('float32', own, [B, H, S - prefix, D]), got[name]!) < 1e-5);
        }
      } finally {
        await a.release();
        await b.release();
      }
    });
  }

  test('multi-head attention (gpt2: as many kv heads as heads) has no repeat to remove; its logits are still cut to the positions read', () => {
    const cfg: CausalConfig = { ...CFG, arch: 'gpt2', heads: 4, kvHeads: 4, maxPositions: 64 };
    const r = rewriteCausal(model(cfg));
    assert.equal(r.gqaProducts, 0);
    assert.equal(r.lastLogits, true);
  });

  test('a repeated cache that something other than an attention product reads is left as it is', () => {
    // Concat(past, new) → Unsqueeze → Tile → Reshape, read by a MatMul and by a ReduceSum output.
    const g = new GraphBuilder('attn');
    const past = g.input('past_key_values.0.key', DataType.FLOAT, ['b', 2, 'p', 4]);
    const k = g.input('k', DataType.FLOAT, ['b', 2, 't', 4]);
    const q = g.input('q', DataType.FLOAT, ['b', 6, 't', 4]);
    const cache = g.op('Concat', [past, k], { axis: 2 });
    g.output('present.0.key', cache, DataType.FLOAT, ['b', 2, 's', 4]);
    const rep = g.op('Reshape', [g.op('Tile', [g.op('Unsqueeze', [cache, g.constI([2])]), g.constI([1, 1, 3, 1, 1])]), g.constI([0, 6, -1, 4])]);
    g.output('scores', g.op('MatMul', [q, g.op('Transpose', [rep], { perm: [0, 1, 3, 2] })]), DataType.FLOAT, ['b', 6, 't', 's']);
    g.output('sum', g.op('ReduceSum', [rep, g.constI([1])], { keepdims: 0 }), DataType.FLOAT, ['b', 's', 4]);
    const r = rewriteCausal(encodeModel(g.build(), OPSET));
    assert.equal(r.gqaProducts, 0);
    assert.equal(r.bytes, null, 'no logits output either: the file loads as it is');
  });
});
