import { GraphBuilder, type Dim } from '../../onnx/graph.js';
import { DataType, type GraphMsg } from '../../onnx/proto.js';
import { Rng } from './random.js';
import type { Precision, Weights } from './t5Graph.js';

/**
 * Decoder-only transformers (llama, qwen2, gpt2) as one ONNX graph with the interface of the Optimum /
 * Transformers.js exports (onnx/model.onnx):
 *   input_ids [batch_size, sequence_length], attention_mask [batch_size, total_sequence_length],
 *   position_ids [batch_size, sequence_length], past_key_values.N.key/value [batch_size, kv_heads,
 *   past_sequence_length, head_dim] → logits [batch_size, sequence_length, vocab], present.N.key/value.
 * A zero-length past is the first step. With `useCacheBranch` the graph also takes the merged decoder's
 * `use_cache_branch` flag (older exports, decoder_model_merged.onnx); this graph computes the same either way.
 *
 * llama / qwen2: RMS norm, rotary position embedding (rotate_half, from position_ids), grouped-query
 * attention (kv heads repeated), SiLU-gated MLP; qwen2 adds biases on q, k and v. gpt2: LayerNorm with
 * bias, learned absolute positions (wpe, from position_ids), fused c_attn, gelu_new MLP. Tied LM head: the
 * logits multiply by the transposed token embedding (one initializer, as the parameter is one).
 */
export interface CausalConfig {
  arch: 'llama' | 'qwen2' | 'gpt2';
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ffn: number;
  eps: number;
  ropeTheta: number;
  /** gpt2: learned position table rows. */
  maxPositions: number;
  /** Id whose embedding row is scaled up so that some greedy continuations end with EOS. */
  eosId: number;
}

/**
 * Additive mask value: large but finite (a masked score stays finite); float16 graphs need it to fit half
 * precision (max 65504) with the causal and the padding terms added.
 */
const NEG = { float32: -1e9, float16: -30000 } as const;

/**
 * Changes whenever causalGraph computes differently or builds a different graph, so that models made
 * once and kept (the speed benchmark's, under .cache) are made again. 2: present.* straight from the Concat.
 */
export const CAUSAL_GRAPH_VERSION = 2;

export function causalWeights(cfg: CausalConfig, seed: number): Weights {
  const rng = new Rng(seed);
  const w: Weights = new Map();
  const H = cfg.hidden;
  const add = (name: string, dims: number[], std: number, mean = 0) => w.set(name, { dims, data: rng.normals(dims.reduce((a, b) => a * b, 1), std, mean) });
  add('embed', [cfg.vocab, H], 2 / Math.sqrt(H));
  if (cfg.arch === 'gpt2') add('wpe', [cfg.maxPositions, H], 0.5 / Math.sqrt(H));
  const q = cfg.heads * cfg.headDim;
  const kv = cfg.kvHeads * cfg.headDim;
  for (let i = 0; i < cfg.layers; i++) {
    const p = `layers.${i}`;
    add(`${p}.attn_norm`, [H], 0.1, 1);
    add(`${p}.ffn_norm`, [H], 0.1, 1);
    if (cfg.arch === 'gpt2') {
      add(`${p}.attn_norm_bias`, [H], 0.1);
      add(`${p}.ffn_norm_bias`, [H], 0.1);
    }
    add(`${p}.q`, [H, q], 1 / Math.sqrt(H));
    add(`${p}.k`, [H, kv], 1 / Math.sqrt(H));
    add(`${p}.v`, [H, kv], 1 / Math.sqrt(H));
    add(`${p}.o`, [q, H], 1 / Math.sqrt(q));
    if (cfg.arch !== 'llama') {
      add(`${p}.q_bias`, [q], 0.2);
      add(`${p}.k_bias`, [kv], 0.2);
      add(`${p}.v_bias`, [kv], 0.2);
    }
    if (cfg.arch === 'gpt2') {
      add(`${p}.o_bias`, [H], 0.1);
      add(`${p}.fc`, [H, cfg.ffn], 1 / Math.sqrt(H));
      add(`${p}.fc_bias`, [cfg.ffn], 0.1);
      add(`${p}.proj`, [cfg.ffn, H], 1 / Math.sqrt(cfg.ffn));
      add(`${p}.proj_bias`, [H], 0.1);
    } else {
      add(`${p}.gate`, [H, cfg.ffn], 1 / Math.sqrt(H));
      add(`${p}.up`, [H, cfg.ffn], 1 / Math.sqrt(H));
      add(`${p}.down`, [cfg.ffn, H], 1 / Math.sqrt(cfg.ffn));
    }
  }
  add('final_norm', [H], 0.1, 1);
  if (cfg.arch === 'gpt2') add('final_norm_bias', [H], 0.1);
  const embed = w.get('embed')!.data;
  for (let j = 0; j < H; j++) embed[cfg.eosId * H + j]! *= 2.5;
  return w;
}

/**
 * How the graph repeats kv heads for grouped-query attention: `tile` (default; Unsqueeze → Tile → Reshape
 * with constant shapes, then the scores scaled after Q·Kᵀ), or `expand`, as torch.onnx exports
 * transformers' repeat_kv and scaled_dot_product_attention: Unsqueeze → Expand → Reshape with shapes
 * computed from the tensor's own, and the scale split as √scale (a Sqrt node) on Q and on Kᵀ. Both materialise the repeat;
 * the rewrite tests (test/onnx/rewrite.test.ts) check that src/onnx/rewrite/gqa.ts finds either.
 */
export type GqaRepeat = 'tile' | 'expand';

export function causalGraph(cfg: CausalConfig, weights: Weights, opts: { useCacheBranch?: boolean; precision?: Precision; repeat?: GqaRepeat } = {}): GraphMsg {
  const precision = opts.precision ?? 'float32';
  const g = new GraphBuilder(opts.useCacheBranch ? 'decoder_model_merged' : 'model', '', precision);
  const ft = g.floatType;
  const w = (name: string) => {
    if (!g.initializers.some((t) => t.name === name)) {
      const t = weights.get(name);
      if (!t) throw new Error(`no weight ${name}`);
      g.weight(name, t.dims, t.data);
    }
    return name;
  };
  const { heads: nH, kvHeads: kvH, headDim: hd } = cfg;
  const ids = g.input('input_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  const mask = g.input('attention_mask', DataType.INT64, ['batch_size', 'total_sequence_length']);
  const posIds = g.input('position_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  const pastShape: Dim[] = ['batch_size', kvH, 'past_sequence_length', hd];
  const past = Array.from({ length: cfg.layers }, (_, i) => ({ k: g.input(`past_key_values.${i}.key`, ft, pastShape), v: g.input(`past_key_values.${i}.value`, ft, pastShape) }));
  if (opts.useCacheBranch) g.input('use_cache_branch', DataType.BOOL, [1]);

  const dim = (x: string, axis: number) => g.op('Gather', [g.op('Shape', [x]), g.constI([axis], true)]);
  const norm = (x: string, p: string) => {
    if (cfg.arch === 'gpt2') {
      const mean = g.op('ReduceMean', [x], { axes: [-1], keepdims: 1 });
      const c = g.op('Sub', [x, mean]);
      const variance = g.op('ReduceMean', [g.op('Mul', [c, c])], { axes: [-1], keepdims: 1 });
      const inv = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [variance, g.constF(cfg.eps)])])]);
      return g.op('Add', [g.op('Mul', [g.op('Mul', [c, inv]), w(p)]), w(`${p}_bias`)]);
    }
    const variance = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: [-1], keepdims: 1 });
    const inv = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [variance, g.constF(cfg.eps)])])]);
    return g.op('Mul', [g.op('Mul', [x, inv]), w(p)]);
  };
  const linear = (x: string, p: string, bias?: string) => {
    const y = g.op('MatMul', [x, w(p)]);
    return bias ? g.op('Add', [y, w(bias)]) : y;
  };
  /** [B, T, n*hd] → [B, n, T, hd] */
  const split = (x: string, n: number) => g.op('Transpose', [g.op('Reshape', [x, g.constI([0, 0, n, hd])])], { perm: [0, 2, 1, 3] });

  // Rotary embedding tables from position_ids, in float32 (as fp16 exports keep them: positions past 2048
  // do not fit half's 11-bit mantissa), cast to the model's precision: cos/sin [B, 1, T, hd].
  let cos = '';
  let sin = '';
  if (cfg.arch !== 'gpt2') {
    const invFreq = Float32Array.from({ length: hd / 2 }, (_, i) => 1 / cfg.ropeTheta ** ((2 * i) / hd));
    g.initializers.push({ name: 'rope_inv_freq', dims: [hd / 2], data_type: DataType.FLOAT, raw_data: new Uint8Array(invFreq.buffer) });
    const freqs = g.op('Mul', [g.op('Unsqueeze', [g.op('Cast', [posIds], { to: DataType.FLOAT }), g.constI([-1])]), 'rope_inv_freq']);
    const emb = g.op('Unsqueeze', [g.op('Concat', [freqs, freqs], { axis: -1 }), g.constI([1])]);
    const toFt = (x: string) => (precision === 'float32' ? x : g.op('Cast', [x], { to: ft }));
    cos = toFt(g.op('Cos', [emb]));
    sin = toFt(g.op('Sin', [emb]));
  }
  const rope = (x: string) => {
    const x1 = g.op('Slice', [x, g.constI([0]), g.constI([hd / 2]), g.constI([-1])]);
    const x2 = g.op('Slice', [x, g.constI([hd / 2]), g.constI([hd]), g.constI([-1])]);
    const rotated = g.op('Concat', [g.op('Neg', [x2]), x1], { axis: -1 });
    return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rotated, sin])]);
  };

  // Additive mask [B, 1, T, S]: key j is visible to query i iff j ≤ P + i and attention_mask[b, j] = 1.
  const T = dim(ids, 1);
  const P = dim(past[0]!.k, 2);
  const S = g.op('Add', [P, T]);
  const one = g.constI([1], true);
  const qpos = g.op('Range', [P, S, one]);
  const kpos = g.op('Range', [g.constI([0], true), S, one]);
  const future = g.op('Greater', [g.op('Unsqueeze', [kpos, g.constI([0])]), g.op('Unsqueeze', [qpos, g.constI([1])])]);
  const causal = g.op('Where', [future, g.constF(NEG[precision]), g.constF(0)]);
  const padding = g.op('Unsqueeze', [g.op('Mul', [g.op('Sub', [g.constF(1), g.op('Cast', [mask], { to: ft })]), g.constF(NEG[precision])]), g.constI([1, 2])]);
  const bias = g.op('Add', [causal, padding]);

  let x = g.op('Gather', [w('embed'), ids]);
  if (cfg.arch === 'gpt2') x = g.op('Add', [x, g.op('Gather', [w('wpe'), posIds])]);
  const rep = nH / kvH;
  for (let i = 0; i < cfg.layers; i++) {
    const p = `layers.${i}`;
    const h = norm(x, `${p}.attn_norm`);
    const biased = cfg.arch !== 'llama';
    let q = split(linear(h, `${p}.q`, biased ? `${p}.q_bias` : undefined), nH);
    let k = split(linear(h, `${p}.k`, biased ? `${p}.k_bias` : undefined), kvH);
    const v0 = split(linear(h, `${p}.v`, biased ? `${p}.v_bias` : undefined), kvH);
    if (cfg.arch !== 'gpt2') {
      q = rope(q);
      k = rope(k);
    }
    // The Concat writes present.N.* itself, as in torch.onnx exports (no Identity copy of the whole cache
    // per step, which real exports do not have and which would slow both sides of a benchmark).
    k = g.op('Concat', [past[i]!.k, k], { axis: 2 }, `present.${i}.key`);
    const v = g.op('Concat', [past[i]!.v, v0], { axis: 2 }, `present.${i}.value`);
    const presentShape: Dim[] = ['batch_size', kvH, 'total_sequence_length', hd];
    g.output(`present.${i}.key`, k, ft, presentShape);
    g.output(`present.${i}.value`, v, ft, presentShape);
    // Grouped-query attention: each kv head serves `rep` query heads.
    const dim1 = (t: string, axis: number) => g.op('Gather', [g.op('Shape', [t]), g.constI([axis])]);
    const repeat = (t: string) => {
      if (rep === 1) return t;
      const u = g.op('Unsqueeze', [t, g.constI([2])]);
      if (opts.repeat !== 'expand') return g.op('Reshape', [g.op('Tile', [u, g.constI([1, 1, rep, 1, 1])]), g.constI([0, nH, -1, hd])]);
      const [b, len] = [dim1(t, 0), dim1(t, 2)];
      const expanded = g.op('Expand', [u, g.op('Concat', [b, g.constI([kvH, rep]), len, g.constI([hd])], { axis: 0 })]);
      return g.op('Reshape', [expanded, g.op('Concat', [b, g.constI([nH]), len, g.constI([hd])], { axis: 0 })]);
    };
    const kT = g.op('Transpose', [repeat(k)], { perm: [0, 1, 3, 2] });
    const product =
      opts.repeat === 'expand'
        ? (() => {
            // torch's scaled_dot_product_attention symbolic: √scale computed in the graph, on both sides.
            const sqrtScale = g.op('Sqrt', [g.constF(1 / Math.sqrt(hd))]);
            return g.op('MatMul', [g.op('Mul', [q, sqrtScale]), g.op('Mul', [kT, sqrtScale])]);
          })()
        : g.op('Mul', [g.op('MatMul', [q, kT]), g.constF(1 / Math.sqrt(hd))]);
    const scores = g.op('Add', [product, bias]);
    const ctx = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), repeat(v)]);
    const merged = g.op('Reshape', [g.op('Transpose', [ctx], { perm: [0, 2, 1, 3] }), g.constI([0, 0, nH * hd])]);
    x = g.op('Add', [x, linear(merged, `${p}.o`, cfg.arch === 'gpt2' ? `${p}.o_bias` : undefined)]);
    const f = norm(x, `${p}.ffn_norm`);
    let mlp: string;
    if (cfg.arch === 'gpt2') {
      const a = linear(f, `${p}.fc`, `${p}.fc_bias`);
      // gelu_new (tanh approximation), GPT-2's activation.
      const cube = g.op('Mul', [g.op('Mul', [a, a]), a]);
      const inner = g.op('Mul', [g.op('Add', [a, g.op('Mul', [cube, g.constF(0.044715)])]), g.constF(Math.sqrt(2 / Math.PI))]);
      mlp = linear(g.op('Mul', [g.op('Mul', [a, g.constF(0.5)]), g.op('Add', [g.op('Tanh', [inner]), g.constF(1)])]), `${p}.proj`, `${p}.proj_bias`);
    } else {
      const gate = linear(f, `${p}.gate`);
      mlp = linear(g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), linear(f, `${p}.up`)]), `${p}.down`);
    }
    x = g.op('Add', [x, mlp]);
  }
  const logits = g.op('MatMul', [norm(x, 'final_norm'), g.op('Transpose', [w('embed')], { perm: [1, 0] })]);
  g.output('logits', logits, ft, ['batch_size', 'sequence_length', cfg.vocab]);
  g.outputs.unshift(g.outputs.pop()!);
  return g.build();
}
