import { DataType } from '../proto.js';
import type { EditableModel } from './model.js';

/** The graph input that `keepLastLogits` adds: how many last positions get logits, int64 [1]. */
export const LOGITS_TO_KEEP = 'flan_eval_logits_to_keep';

/**
 * Logits for the last positions only.
 *
 * An export computes the LM head for every position it reads, [rows, positions, vocab], though greedy
 * generation reads only the last one: for a prompt of 1,000 tokens over a 49,152-token vocabulary that is
 * a fifth of the prefill's multiply-adds (the head is a fifth of a 135M model's weights) and 197 MB of
 * logits copied out per row. transformers has `logits_to_keep` for this; the exports do not.
 *
 * The head is position-wise (each position's logits depend on that position's hidden state alone), so
 * slicing its input to the last k positions gives exactly the logits of those positions. The head is
 * found by walking back from the `logits` output through Cast, Identity and bias Adds to a MatMul or
 * MatMulNBits whose weight is a constant; anything else there, and nothing is changed.
 *
 * Returns whether the graph now takes LOGITS_TO_KEEP.
 */
export function keepLastLogits(m: EditableModel): boolean {
  if (!m.outputNames.includes('logits') || m.inputNames.includes(LOGITS_TO_KEEP) || m.opset < 11) return false;
  const producers = m.producers();
  const sources = m.valueSources(producers);
  // Computed from initializers and constants only.
  const constant = (name: string) => {
    const r = sources(name);
    return !r.opaque && r.inputs.size === 0;
  };
  let value = 'logits';
  for (;;) {
    const i = producers.get(value);
    const n = i === undefined ? null : m.nodes[i];
    if (!n) return false;
    if (n.op === 'Cast' || n.op === 'Identity') {
      value = n.inputs[0]!;
      continue;
    }
    if (n.op === 'Add' && n.inputs.length === 2 && n.inputs.some((x) => constant(x))) {
      value = n.inputs.find((x) => !constant(x)) ?? '';
      continue;
    }
    const head = (n.op === 'MatMul' && n.domain === '') || (n.op === 'MatMulNBits' && n.domain === 'com.microsoft');
    if (!head || !constant(n.inputs[1]!) || n.inputs.slice(2).some((x) => x && !constant(x))) return false;
    const starts = m.freshName('logits_from');
    const kept = m.freshName('last_positions');
    m.insertBefore(i!, 'Neg', [LOGITS_TO_KEEP], [starts]);
    // Positions are axis -2 of the head's input ([batch, positions, hidden]).
    m.insertBefore(i!, 'Slice', [n.inputs[0]!, starts, m.addInt64([2 ** 53 - 1], 'to_end'), m.addInt64([-2], 'positions_axis')], [kept]);
    m.setInput(i!, 0, kept);
    m.addInput({ name: LOGITS_TO_KEEP, type: { tensor_type: { elem_type: DataType.INT64, shape: { dim: [{ dim_value: 1 }] } } } });
    return true;
  }
}
