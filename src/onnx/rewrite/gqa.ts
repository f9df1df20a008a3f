import { findCacheProducts, ProductWriter } from './attention.js';
import type { EditableModel } from './model.js';

/**
 * Grouped-query attention without the repeated cache.
 *
 * Exports of GQA models (llama, qwen2) compute `repeat_kv`: every key/value head of the whole cache is
 * copied `rep = heads / kv_heads` times (Unsqueeze(axis 2) → Expand or Tile → Reshape to [B, heads, S, D])
 * and the attention products read the copies. For a step over a long cache that copy, and reading it back,
 * is most of the graph's work, and it grows with every row of a batch.
 *
 * The same products without the copy: head h reads kv head h / rep, so the `rep` query heads of one kv
 * head are stacked as rows of one product with that kv head,
 *
 *   MatMul(A [B, heads, S, X], repeat(K) …) = Reshape(MatMul(Reshape(A, [B, kv_heads, rep·S, X]), K …), [B, heads, S, Y])
 *
 * where `…` is any chain of ops that act on each element or on the last two axes alike for every head
 * (Transpose of the last two axes, multiplying by a scalar, Cast). Each output element is the same dot
 * product over the same values; only the grouping of rows changes. (ONNX Runtime's kernel for a single
 * row may sum in another order than its kernel for several, so at one new token a score can differ in
 * its last bits: ~3e-5 in the logits of the smollm2-135m test model.)
 *
 * Returns the number of attention products rewritten (0 when the graph has no such repeat, for example
 * exports that already use GroupQueryAttention, or models with as many kv heads as heads).
 */
export function removeGqaRepeat(m: EditableModel): number {
  const products = findCacheProducts(m).filter((p) => p.repeated);
  const writer = new ProductWriter(m);
  for (const p of products) {
    const matmul = m.nodes[p.matmul]!;
    writer.product(p.matmul, p, matmul.inputs[0]!, p.cache, matmul.outputs[0]!);
    m.remove(p.matmul);
  }
  if (products.length) m.removeDead();
  return products.length;
}
