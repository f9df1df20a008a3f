import { DataType } from '../proto.js';
import { findCacheProducts, ProductWriter, type CacheProduct } from './attention.js';
import type { EditableModel } from './model.js';

/** Inputs the rewrite adds, one pair per layer: `${PREFIX_INPUT}N.key` / `.value`, [1, kv_heads, prefix length, head_dim]. */
export const PREFIX_INPUT = 'flan_eval_prefix.';

/**
 * One cached prefix for the whole batch, read in place.
 *
 * When every row of a batch starts with the same few-shot block (the prompts of one MMLU subject, one BBH
 * task), its keys and values are the same for every row. The export can only take them as part of each
 * row's past, so each row carries a copy and every step reads, concatenates and hands back all of them:
 * at 16 rows × 950 positions that per-row traffic, not the weights, is what a step costs.
 *
 * The rewritten graph takes the block once, at batch 1, as extra inputs, and each row's past holds only
 * what follows it. Attention over [prefix | past | new] is the export's, split by columns:
 *
 *   scores = Concat(Q·Kprefixᵀ (scaled as the export scales), the export's own masked scores) → Softmax →
 *   P[:, :prefix]·Vprefix + P[:, prefix:]·V
 *
 * The prefix columns get no mask term: every query sees the whole block (it comes first and has no
 * padding). The prefix product multiplies every row by the same batch-1 keys (MatMul broadcasts them), so
 * the block's keys and values are read from memory once a step, not once per row. With an empty prefix
 * input the graph computes exactly what the export does. position_ids count the block's positions as the
 * rows' own (the caller continues them from the block's length).
 *
 * The rewrite needs, for every layer, one key product and one value product of the cache
 * (attention.ts), joined by a Softmax over the last axis, and between the key product and the Softmax only
 * scalar scalings, casts and additive terms computed from attention_mask; otherwise nothing is changed.
 * Returns the layers rewritten (all or none), and how many of their products read the repeated cache
 * (each now reads the kv heads themselves, as removeGqaRepeat would have made it).
 */
export function shareablePrefix(m: EditableModel): { layers: number; gqaProducts: number } {
  const products = findCacheProducts(m);
  const layers = new Map<string, { key?: CacheProduct; value?: CacheProduct; count: number }>();
  for (const p of products) {
    const [, layer, kind] = /^past_key_values\.(\d+)\.(key|value)$/.exec(p.past)!;
    const l = layers.get(layer!) ?? layers.set(layer!, { count: 0 }).get(layer!)!;
    l[kind as 'key' | 'value'] = p;
    l.count++;
  }
  const pastLayers = new Set(m.inputNames.flatMap((n) => /^past_key_values\.(\d+)\.key$/.exec(n)?.[1] ?? []));
  const none = { layers: 0, gqaProducts: 0 };
  if (!pastLayers.size || pastLayers.size !== layers.size) return none;
  const plans: Plan[] = [];
  for (const [layer, l] of layers) {
    const plan = l.count === 2 && l.key && l.value ? planLayer(m, layer, l.key, l.value) : null;
    if (!plan) return none;
    plans.push(plan);
  }
  const writer = new ProductWriter(m);
  const lengthAxis = m.addInt64([2], 'prefix_len_from');
  const lengthEnd = m.addInt64([3], 'prefix_len_to');
  const zero = m.addInt64([0], 'prefix_0');
  const end = m.addInt64([2 ** 53 - 1], 'prefix_end');
  const lastAxis = m.addInt64([-1], 'prefix_last_axis');
  for (const p of plans) {
    const shape = m.inputShapes.get(p.key.past) ?? [];
    for (const [name, past] of [[p.prefixKey, p.key.past], [p.prefixValue, p.value.past]] as const) {
      m.addInput({ name, type: { tensor_type: { elem_type: m.inputTypes.get(past) || DataType.FLOAT, shape: { dim: [{ dim_value: 1 }, { dim_value: p.key.kvHeads }, { dim_param: 'prefix_sequence_length' }, typeof shape[3] === 'number' ? { dim_value: shape[3] } : { dim_param: String(shape[3] ?? 'head_dim') }] } } } });
    }
    // Scores: the export's (over past + new) after the prefix's, scaled alike, unmasked.
    const qk = m.nodes[p.key.matmul]!;
    writer.product(p.key.matmul, p.key, qk.inputs[0]!, p.key.cache, qk.outputs[0]!);
    let prefixScores = m.freshName('prefix_scores');
    writer.product(p.key.matmul, p.key, qk.inputs[0]!, p.prefixKey, prefixScores, { exactOut: true });
    for (const { i, k } of p.scale) {
      const op = m.nodes[i]!;
      const out = m.freshName(`prefix_${op.op}`);
      // Right before the Softmax: the scaling's other operand exists there (it may be computed after the product).
      m.insertBefore(p.softmax, op.op, op.inputs.map((x, j) => (j === k ? prefixScores : x)), [out], op.op === 'Cast' ? { to: op.attrs.get('to')!.i! } : {});
      prefixScores = out;
    }
    const joined = m.freshName('prefix_joined_scores');
    m.insertBefore(p.softmax, 'Concat', [prefixScores, m.nodes[p.softmax]!.inputs[0]!], [joined], { axis: -1 });
    m.setInput(p.softmax, 0, joined);
    m.remove(p.key.matmul);
    // Context: the probabilities split at the prefix's length, each part times its values.
    const pv = m.nodes[p.value.matmul]!;
    const [shapeK, length, probsPrefix, probsRest, ctxPrefix, ctxRest] = ['shape', 'length', 'probs', 'probs_rest', 'ctx', 'ctx_rest'].map((h) => m.freshName(`prefix_${h}`)) as [string, string, string, string, string, string];
    const at = p.value.matmul;
    m.insertBefore(at, 'Shape', [p.prefixKey], [shapeK]);
    m.insertBefore(at, 'Slice', [shapeK, lengthAxis, lengthEnd], [length]);
    m.insertBefore(at, 'Slice', [pv.inputs[0]!, zero, length, lastAxis], [probsPrefix]);
    m.insertBefore(at, 'Slice', [pv.inputs[0]!, length, end, lastAxis], [probsRest]);
    const { rows } = writer.product(at, p.value, probsRest, p.value.cache, ctxRest);
    // The prefix's probabilities grouped as the rest's are (their rows), with the prefix's columns.
    let rowsShape: string | undefined;
    if (rows) {
      const [shapeRows, lead] = [m.freshName('prefix_rows_shape'), m.freshName('prefix_rows_lead')];
      rowsShape = m.freshName('prefix_grouped_shape');
      m.insertBefore(at, 'Shape', [rows], [shapeRows]);
      m.insertBefore(at, 'Slice', [shapeRows, zero, lengthEnd], [lead]);
      m.insertBefore(at, 'Concat', [lead, length], [rowsShape], { axis: 0 });
    }
    writer.product(at, p.value, probsPrefix, p.prefixValue, ctxPrefix, { ...(rowsShape ? { rows: rowsShape } : {}), exactOut: true });
    m.insertBefore(at, 'Add', [ctxPrefix, ctxRest], [pv.outputs[0]!]);
    m.remove(at);
  }
  m.removeDead();
  return { layers: plans.length, gqaProducts: plans.filter((p) => p.key.repeated).length + plans.filter((p) => p.value.repeated).length };
}

interface Plan {
  key: CacheProduct;
  value: CacheProduct;
  prefixKey: string;
  prefixValue: string;
  /** Scalar scalings and casts between the key product and the Softmax, with the input each reads the scores at. */
  scale: { i: number; k: number }[];
  softmax: number;
}

function planLayer(m: EditableModel, layer: string, key: CacheProduct, valueProduct: CacheProduct): Plan | null {
  const producers = m.producers();
  const consumers = m.consumers();
  const only = (name: string) => {
    const r = (consumers.get(name) ?? []).filter((i) => m.nodes[i]);
    return r.length === 1 ? r[0]! : null;
  };
  const isScalar = (name: string) => m.isScalar(name, producers);
  // An additive mask term: computed from attention_mask (and shapes and constants) only, so zero or a
  // large negative number per column, and nothing the prefix's columns need.
  const sources = m.valueSources(producers, { shapesAreFree: true });
  const fromMask = (name: string) => {
    const r = sources(name);
    return !r.opaque && r.inputs.size === 1 && r.inputs.has('attention_mask');
  };
  const scale: Plan['scale'] = [];
  let value = m.nodes[key.matmul]!.outputs[0]!;
  let softmax: number | null = null;
  for (let guard = 0; guard < 16 && softmax === null; guard++) {
    const i = only(value);
    const n = i === null ? null : m.nodes[i]!;
    if (!n || n.outputs.length !== 1) return null;
    const k = n.inputs.indexOf(value);
    const other = n.inputs[1 - k] ?? '';
    if (n.op === 'Softmax') {
      const axis = n.attrs.get('axis')?.i;
      if (!(axis === -1 || axis === 3 || (axis === undefined && m.opset >= 13)) || k !== 0) return null;
      softmax = i;
      break;
    }
    if ((n.op === 'Mul' || (n.op === 'Div' && k === 0)) && n.inputs.length === 2 && isScalar(other)) scale.push({ i: i!, k });
    else if (n.op === 'Cast' && n.inputs.length === 1) scale.push({ i: i!, k });
    else if (!(n.op === 'Add' && n.inputs.length === 2 && fromMask(other))) return null;
    value = n.outputs[0]!;
  }
  if (softmax === null) return null;
  // From the Softmax to the value product, through casts only.
  value = m.nodes[softmax]!.outputs[0]!;
  for (let guard = 0; guard < 4; guard++) {
    const i = only(value);
    const n = i === null ? null : m.nodes[i]!;
    if (i === valueProduct.matmul && n!.inputs[0] === value) {
      return { key, value: valueProduct, prefixKey: `${PREFIX_INPUT}${layer}.key`, prefixValue: `${PREFIX_INPUT}${layer}.value`, scale, softmax };
    }
    if (!n || !['Cast', 'Identity'].includes(n.op) || n.outputs.length !== 1) return null;
    value = n.outputs[0]!;
  }
  return null;
}
