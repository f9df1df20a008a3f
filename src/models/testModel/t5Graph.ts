import { InternalError } from '../../errors.js';
import { DataType } from '../../onnx/proto.js';
import { GraphBuilder, type Dim } from '../../onnx/graph.js';
import type { GraphMsg } from '../../onnx/proto.js';

/**
 * The T5 v1.1 / Flan-T5 architecture as ONNX graphs, with the file names and the input and output names of
 * the Transformers.js / Optimum exports (docs/protocol.md §6): gated-GELU feed-forward, RMS norm without bias,
 * relative position buckets (one learned table per stack, shared by its layers), no 1/sqrt(d) scaling in
 * attention, untied LM head without rescaling.
 *
 * The graph is ours (Optimum's export computes the same function with other node names); what must
 * match a real export is the interface: names, ranks, dtypes and symbolic dimensions, because both our
 * backend and Transformers.js drive the model through them.
 */
export interface T5Config {
  vocab_size: number;
  d_model: number;
  d_kv: number;
  d_ff: number;
  num_layers: number;
  num_decoder_layers: number;
  num_heads: number;
  relative_attention_num_buckets: number;
  relative_attention_max_distance: number;
  layer_norm_epsilon: number;
}

export type Weights = Map<string, { dims: number[]; data: Float32Array }>;

const OPSET = 14;
export { OPSET };
/**
 * Additive mask value: large but finite, so that 0 × mask stays 0 and a masked score stays finite; for
 * float16 graphs it must also fit half precision (max 65504).
 */
const NEG = { float32: -1e9, float16: -30000 } as const;

export type Precision = 'float32' | 'float16';

/** T5's `_relative_position_bucket`, tabulated for relative positions -maxDistance..maxDistance. */
export function bucketTable(cfg: T5Config, bidirectional: boolean): number[] {
  const D = cfg.relative_attention_max_distance;
  const table: number[] = [];
  for (let rel = -D; rel <= D; rel++) table.push(relativePositionBucket(rel, bidirectional, cfg.relative_attention_num_buckets, D));
  return table;
}

export function relativePositionBucket(relative: number, bidirectional: boolean, numBuckets: number, maxDistance: number): number {
  let buckets = 0;
  let n = numBuckets;
  let rel = relative;
  if (bidirectional) {
    n = Math.floor(n / 2);
    if (rel > 0) buckets += n;
    rel = Math.abs(rel);
  } else {
    rel = -Math.min(rel, 0);
  }
  const maxExact = Math.floor(n / 2);
  if (rel < maxExact) return buckets + rel;
  const large = maxExact + Math.trunc((Math.log(rel / maxExact) / Math.log(maxDistance / maxExact)) * (n - maxExact));
  return buckets + Math.min(large, n - 1);
}

class T5Builder {
  readonly g: GraphBuilder;
  constructor(
    readonly cfg: T5Config,
    private readonly weights: Weights,
    name: string,
    readonly precision: Precision,
  ) {
    this.g = new GraphBuilder(name, '', precision);
  }

  /** The float element type of this model's tensors. */
  get ft(): number {
    return this.g.floatType;
  }

  subgraph(name: string, prefix: string): GraphBuilder {
    return new GraphBuilder(name, prefix, this.precision);
  }

  /** Add a weight as an initializer of this file (each file carries its own copy, as exports do). */
  w(name: string): string {
    if (!this.g.initializers.some((t) => t.name === name)) {
      const t = this.weights.get(name);
      if (!t) throw new InternalError(`no weight ${name}`);
      this.g.weight(name, t.dims, t.data);
    }
    return name;
  }

  rmsNorm(x: string, weight: string, g: GraphBuilder = this.g): string {
    const variance = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: [-1], keepdims: 1 });
    const inv = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [variance, g.constF(this.cfg.layer_norm_epsilon)])])]);
    return g.op('Mul', [g.op('Mul', [x, inv]), this.w(weight)]);
  }

  /** [B, T, H*dk] → [B, H, T, dk] */
  heads(x: string, g: GraphBuilder = this.g): string {
    const r = g.op('Reshape', [x, g.constI([0, 0, this.cfg.num_heads, this.cfg.d_kv])]);
    return g.op('Transpose', [r], { perm: [0, 2, 1, 3] });
  }

  project(x: string, weight: string, g: GraphBuilder = this.g): string {
    return this.heads(g.op('MatMul', [x, this.w(weight)]), g);
  }

  attention(q: string, k: string, v: string, bias: string, wo: string): string {
    const g = this.g;
    const scores = g.op('Add', [g.op('MatMul', [q, g.op('Transpose', [k], { perm: [0, 1, 3, 2] })]), bias]);
    const ctx = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), v]);
    const merged = g.op('Reshape', [g.op('Transpose', [ctx], { perm: [0, 2, 1, 3] }), g.constI([0, 0, this.cfg.num_heads * this.cfg.d_kv])]);
    return g.op('MatMul', [merged, this.w(wo)]);
  }

  feedForward(x: string, prefix: string): string {
    const g = this.g;
    const a = g.op('MatMul', [x, this.w(`${prefix}.wi_0`)]);
    // gelu_new (tanh approximation), as T5 v1.1's "gated-gelu" uses.
    const cube = g.op('Mul', [g.op('Mul', [a, a]), a]);
    const inner = g.op('Mul', [g.op('Add', [a, g.op('Mul', [cube, g.constF(0.044715)])]), g.constF(Math.sqrt(2 / Math.PI))]);
    const gelu = g.op('Mul', [g.op('Mul', [a, g.constF(0.5)]), g.op('Add', [g.op('Tanh', [inner]), g.constF(1)])]);
    const b = g.op('MatMul', [x, this.w(`${prefix}.wi_1`)]);
    return g.op('MatMul', [g.op('Mul', [gelu, b]), this.w(`${prefix}.wo`)]);
  }

  /** [B, S] int64 mask → [B, 1, 1, S] additive float mask. */
  additiveMask(mask: string): string {
    const g = this.g;
    const f = g.op('Cast', [mask], { to: this.ft });
    const add = g.op('Mul', [g.op('Sub', [g.constF(1), f]), g.constF(NEG[this.precision])]);
    return g.op('Unsqueeze', [add, g.constI([1, 2])]);
  }

  /** Position bias [1, H, Tq, Tk] for query positions qpos and key positions kpos (1-D int64). */
  positionBias(qpos: string, kpos: string, bidirectional: boolean, table: string): string {
    const g = this.g;
    const D = this.cfg.relative_attention_max_distance;
    const rel = g.op('Sub', [g.op('Unsqueeze', [kpos, g.constI([0])]), g.op('Unsqueeze', [qpos, g.constI([1])])]);
    // Buckets are constant beyond ±max_distance, so clamping keeps the lookup table small for any length.
    const clamped = g.op('Min', [g.op('Max', [rel, g.constI([-D], true)]), g.constI([D], true)]);
    const idx = g.op('Add', [clamped, g.constI([D], true)]);
    const buckets = g.op('Gather', [g.int64(`${bidirectional ? 'encoder' : 'decoder'}.relative_bucket_table`, [2 * D + 1], bucketTable(this.cfg, bidirectional)), idx]);
    const bias = g.op('Gather', [this.w(table), buckets]); // [Tq, Tk, H]
    return g.op('Unsqueeze', [g.op('Transpose', [bias], { perm: [2, 0, 1] }), g.constI([0])]);
  }

  dim(x: string, axis: number): string {
    const g = this.g;
    return g.op('Gather', [g.op('Shape', [x]), g.constI([axis], true)]);
  }
}

export function encoderGraph(cfg: T5Config, weights: Weights, precision: Precision = 'float32'): GraphMsg {
  const b = new T5Builder(cfg, weights, 'encoder', precision);
  const g = b.g;
  const ids = g.input('input_ids', DataType.INT64, ['batch_size', 'encoder_sequence_length']);
  const mask = g.input('attention_mask', DataType.INT64, ['batch_size', 'encoder_sequence_length']);
  let x = g.op('Gather', [b.w('shared'), ids]);
  const pos = g.op('Range', [g.constI([0], true), b.dim(ids, 1), g.constI([1], true)]);
  const bias = g.op('Add', [b.positionBias(pos, pos, true, 'encoder.relative_attention_bias'), b.additiveMask(mask)]);
  for (let i = 0; i < cfg.num_layers; i++) {
    const p = `encoder.block.${i}`;
    const h = b.rmsNorm(x, `${p}.attn_norm`);
    x = g.op('Add', [x, b.attention(b.project(h, `${p}.q`), b.project(h, `${p}.k`), b.project(h, `${p}.v`), bias, `${p}.o`)]);
    x = g.op('Add', [x, b.feedForward(b.rmsNorm(x, `${p}.ff_norm`), `${p}.ff`)]);
  }
  g.output('last_hidden_state', b.rmsNorm(x, 'encoder.final_norm'), b.ft, ['batch_size', 'encoder_sequence_length', cfg.d_model]);
  return g.build();
}

/**
 * - `merged`: decoder_model_merged.onnx — past inputs always present, `use_cache_branch` selects whether
 *   the cross-attention keys/values are computed from encoder_hidden_states or taken from the past.
 * - `plain`: decoder_model.onnx — first step, no past inputs.
 * - `withPast`: decoder_with_past_model.onnx — later steps; no encoder_hidden_states, only decoder presents.
 */
export type DecoderVariant = 'merged' | 'plain' | 'withPast';

export function decoderGraph(cfg: T5Config, weights: Weights, variant: DecoderVariant, precision: Precision = 'float32'): GraphMsg {
  const b = new T5Builder(cfg, weights, `decoder_${variant}`, precision);
  const g = b.g;
  const L = cfg.num_decoder_layers;
  const H = cfg.num_heads;
  const dk = cfg.d_kv;
  const encMask = g.input('encoder_attention_mask', DataType.INT64, ['batch_size', 'encoder_sequence_length']);
  const ids = g.input('input_ids', DataType.INT64, ['batch_size', 'decoder_sequence_length']);
  const encHidden = variant === 'withPast' ? '' : g.input('encoder_hidden_states', b.ft, ['batch_size', 'encoder_sequence_length', cfg.d_model]);
  const past: { dk: string; dv: string; ek: string; ev: string }[] = [];
  if (variant !== 'plain') {
    for (let i = 0; i < L; i++) {
      const d: Dim[] = ['batch_size', H, 'past_decoder_sequence_length', dk];
      const e: Dim[] = ['batch_size', H, 'encoder_sequence_length_out', dk];
      past.push({
        dk: g.input(`past_key_values.${i}.decoder.key`, b.ft, d),
        dv: g.input(`past_key_values.${i}.decoder.value`, b.ft, d),
        ek: g.input(`past_key_values.${i}.encoder.key`, b.ft, e),
        ev: g.input(`past_key_values.${i}.encoder.value`, b.ft, e),
      });
    }
  }
  const useCache = variant === 'merged' ? g.input('use_cache_branch', DataType.BOOL, [1]) : '';

  // Cross-attention keys/values for every layer: computed once (first step) or passed back in (later steps).
  const computeCross = (gb: GraphBuilder): string[] => {
    const out: string[] = [];
    for (let i = 0; i < L; i++) {
      out.push(b.project(encHidden, `decoder.block.${i}.cross_k`, gb), b.project(encHidden, `decoder.block.${i}.cross_v`, gb));
    }
    return out;
  };
  let cross: string[];
  if (variant === 'plain') cross = computeCross(g);
  else if (variant === 'withPast') cross = past.flatMap((p) => [p.ek, p.ev]);
  else {
    const thenG = b.subgraph('use_cache', 'then_');
    const elseG = b.subgraph('no_cache', 'else_');
    const eShape: Dim[] = ['batch_size', H, 'encoder_sequence_length_out', dk];
    past.forEach((p, i) => {
      thenG.output(`then_cross_k_${i}`, p.ek, b.ft, eShape);
      thenG.output(`then_cross_v_${i}`, p.ev, b.ft, eShape);
    });
    computeCross(elseG).forEach((name, j) => elseG.output(`else_cross_${j % 2 ? 'v' : 'k'}_${j >> 1}`, name, b.ft, eShape));
    cross = Array.from({ length: 2 * L }, (_, j) => `cross_${j % 2 ? 'v' : 'k'}_${j >> 1}`);
    g.opMulti('If', [useCache], cross, { then_branch: thenG.build(), else_branch: elseG.build() });
  }

  // Self-attention bias: relative buckets for query positions P..P+T-1 against keys 0..P+T-1, plus causality.
  const T = b.dim(ids, 1);
  const P = variant === 'plain' ? g.constI([0], true) : b.dim(past[0]!.dk, 2);
  const total = g.op('Add', [P, T]);
  const one = g.constI([1], true);
  const qpos = g.op('Range', [P, total, one]);
  const kpos = g.op('Range', [g.constI([0], true), total, one]);
  const future = g.op('Greater', [g.op('Unsqueeze', [kpos, g.constI([0])]), g.op('Unsqueeze', [qpos, g.constI([1])])]);
  const causal = g.op('Where', [future, g.constF(NEG[precision]), g.constF(0)]);
  const selfBias = g.op('Add', [b.positionBias(qpos, kpos, false, 'decoder.relative_attention_bias'), causal]);
  const crossMask = b.additiveMask(encMask);

  let x = g.op('Gather', [b.w('shared'), ids]);
  for (let i = 0; i < L; i++) {
    const p = `decoder.block.${i}`;
    const h = b.rmsNorm(x, `${p}.attn_norm`);
    let k = b.project(h, `${p}.k`);
    let v = b.project(h, `${p}.v`);
    if (variant !== 'plain') {
      k = g.op('Concat', [past[i]!.dk, k], { axis: 2 });
      v = g.op('Concat', [past[i]!.dv, v], { axis: 2 });
    }
    const presentShape: Dim[] = ['batch_size', H, 'present_decoder_sequence_length', dk];
    g.output(`present.${i}.decoder.key`, k, b.ft, presentShape);
    g.output(`present.${i}.decoder.value`, v, b.ft, presentShape);
    x = g.op('Add', [x, b.attention(b.project(h, `${p}.q`), k, v, selfBias, `${p}.o`)]);
    const hc = b.rmsNorm(x, `${p}.cross_norm`);
    x = g.op('Add', [x, b.attention(b.project(hc, `${p}.cross_q`), cross[2 * i]!, cross[2 * i + 1]!, crossMask, `${p}.cross_o`)]);
    x = g.op('Add', [x, b.feedForward(b.rmsNorm(x, `${p}.ff_norm`), `${p}.ff`)]);
    if (variant !== 'withPast') {
      const eShape: Dim[] = ['batch_size', H, 'encoder_sequence_length_out', dk];
      g.output(`present.${i}.encoder.key`, cross[2 * i]!, b.ft, eShape);
      g.output(`present.${i}.encoder.value`, cross[2 * i + 1]!, b.ft, eShape);
    }
  }
  const logits = g.op('MatMul', [b.rmsNorm(x, 'decoder.final_norm'), b.w('lm_head')]);
  g.output('logits', logits, b.ft, ['batch_size', 'decoder_sequence_length', cfg.vocab_size]);
  // Exports list logits first, then the presents in layer order.
  g.outputs.unshift(g.outputs.pop()!);
  return g.build();
}
