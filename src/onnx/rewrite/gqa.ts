import type { EditableModel, Node } from './model.js';

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
 * product over the same values in the same order as before; only the grouping of rows changes.
 *
 * Returns the number of attention products rewritten (0 when the graph has no such repeat, for example
 * exports that already use GroupQueryAttention, or models with as many kv heads as heads).
 */
export function removeGqaRepeat(m: EditableModel): number {
  const producers = m.producers();
  const consumers = m.consumers();
  const node = (i: number) => m.nodes[i] as Node;
  const readers = (name: string) => (consumers.get(name) ?? []).filter((i) => m.nodes[i]);
  const isScalar = (name: string) => (m.constSize(name, producers) ?? 2) <= 1;

  // The cache: Concat(past_key_values.N.*, new) along the positions (its output is, or is copied to,
  // present.N.*), with the number of kv heads the past input declares: the rows of the products are grouped
  // by the graph's own count, never by a config that might disagree with it.
  const caches = m.nodes.flatMap((n) => {
    const past = n?.op === 'Concat' ? n.inputs[0]! : '';
    const kvHeads = /^past_key_values\.\d+\.(key|value)$/.test(past) ? m.inputShapes.get(past)?.[1] : undefined;
    return typeof kvHeads === 'number' && kvHeads > 0 && [2, -2].includes(n!.attrs.get('axis')?.i ?? 0) ? [{ cache: n!.outputs[0]!, kvHeads }] : [];
  });
  let rewritten = 0;
  let consts: { rest: string; from0: string; to3: string } | null = null;
  const rowsShape = new Map<number, string>();
  for (const { cache, kvHeads } of caches) {
    for (const u of readers(cache)) {
      const unsq = node(u);
      const axes = unsq.attrs.get('axes')?.ints ?? m.ints(unsq.inputs[1] ?? '', producers);
      // Axis 2 of the 5-D result (-3 counts from its end).
      if (unsq.op !== 'Unsqueeze' || !sameInts(axes?.map((a) => (a < 0 ? a + 5 : a)), [2])) continue;
      for (const e of readers(unsq.outputs[0]!)) {
        const expand = node(e);
        if (!isRepeat(m, expand, producers)) continue;
        for (const r of readers(expand.outputs[0]!)) {
          const reshape = node(r);
          if (reshape.op !== 'Reshape') continue;
          const shape = m.ints(reshape.inputs[1]!, producers);
          if (shape && shape.length !== 4) continue;
          for (const chain of chainsToMatMul(m, reshape.outputs[0]!, readers, isScalar)) {
            const { matmul: mm, ops } = chain;
            const matmul = node(mm);
            // Rebuild the chain on the unrepeated cache, right before the product.
            let b = cache;
            for (const { i, k } of ops) {
              const op = node(i);
              const out = m.freshName(`gqa_${op.op}`);
              m.insertBefore(mm, op.op, op.inputs.map((x, j) => (j === k ? b : x)), [out], attrsOf(op));
              b = out;
            }
            // A [B, heads, S, X] → [B, kv_heads, rep·S, X]: row r·S + s of kv head g is query head g·rep + r.
            // The product [B, kv_heads, rep·S, Y] goes back to [B, heads, S, Y], the dims of A but the last.
            const c = (consts ??= { rest: m.addInt64([-1], 'gqa_rest'), from0: m.addInt64([0], 'gqa_0'), to3: m.addInt64([3], 'gqa_3') });
            const toRows = rowsShape.get(kvHeads) ?? rowsShape.set(kvHeads, m.addInt64([0, kvHeads, -1, 0], 'gqa_rows_shape')).get(kvHeads)!;
            const [rows, prod, shapeA, lead, outShape] = ['rows', 'product', 'shape', 'lead', 'out_shape'].map((h) => m.freshName(`gqa_${h}`)) as [string, string, string, string, string];
            const a = matmul.inputs[0]!;
            m.insertBefore(mm, 'Reshape', [a, toRows], [rows]);
            m.insertBefore(mm, 'MatMul', [rows, b], [prod]);
            m.insertBefore(mm, 'Shape', [a], [shapeA]);
            m.insertBefore(mm, 'Slice', [shapeA, c.from0, c.to3], [lead]);
            m.insertBefore(mm, 'Concat', [lead, c.rest], [outShape], { axis: 0 });
            m.insertBefore(mm, 'Reshape', [prod, outShape], [matmul.outputs[0]!]);
            m.remove(mm);
            rewritten++;
          }
        }
      }
    }
  }
  if (rewritten) m.removeDead();
  return rewritten;
}

/** Tile(x, [1, 1, rep, 1, 1]) or Expand(x, shape) of an Unsqueeze(axis 2): the repeat of every kv head. */
function isRepeat(m: EditableModel, n: Node, producers: Map<string, number>): boolean {
  if (n.op === 'Tile') {
    const r = m.ints(n.inputs[1]!, producers);
    return !!r && r.length === 5 && sameInts([r[0]!, r[1]!, r[3]!, r[4]!], [1, 1, 1, 1]) && r[2]! > 1;
  }
  if (n.op !== 'Expand') return false;
  // Expand can only broadcast axes of size 1, and of the 5-D input only the unsqueezed axis 2 is one for
  // sure (batch, length or head size may be 1 too, but Expand keeps them as they are: a shape that says
  // otherwise would make the export fail). A constant shape is checked; a computed one (torch exports
  // compute it from Shape ops) is taken as the repeat: the product that reads it fixes how many.
  const shape = m.ints(n.inputs[1]!, producers);
  return !shape || (shape.length === 5 && shape[2]! > 1);
}

/** One way from the repeated cache to a product: the ops on the way (with the input each reads it at), then the MatMul. */
interface Chain {
  ops: { i: number; k: number }[];
  matmul: number;
}

/**
 * Every path from `start` to a MatMul reading it (through head-wise ops) as the right operand. A reader
 * that is anything else needs the repeat anyway, so then no path is returned and the value stays as it is.
 */
function chainsToMatMul(m: EditableModel, start: string, readers: (name: string) => number[], isScalar: (name: string) => boolean): Chain[] {
  const out: Chain[] = [];
  const walk = (value: string, ops: Chain['ops']): boolean => {
    for (const i of readers(value)) {
      const n = m.nodes[i]!;
      if (n.op === 'MatMul' && n.inputs[1] === value && n.inputs[0] !== value) {
        out.push({ ops, matmul: i });
        continue;
      }
      const k = n.inputs.indexOf(value);
      const others = n.inputs.filter((_, j) => j !== k);
      const headwise =
        (n.op === 'Transpose' && sameInts(n.attrs.get('perm')?.ints ?? null, [0, 1, 3, 2])) ||
        (n.op === 'Cast' && n.inputs.length === 1) ||
        ((n.op === 'Mul' || (n.op === 'Div' && k === 0)) && n.inputs.length === 2 && others.every(isScalar));
      if (!headwise || n.outputs.length !== 1 || !walk(n.outputs[0]!, [...ops, { i, k }])) return false;
    }
    return true;
  };
  return walk(start, []) ? out : [];
}

function attrsOf(n: Node): Record<string, number[] | number> {
  const out: Record<string, number[] | number> = {};
  for (const [k, v] of n.attrs) {
    if (v.ints) out[k] = v.ints;
    else if (v.i !== undefined) out[k] = v.i;
  }
  return out;
}

function sameInts(a: readonly number[] | null | undefined, b: readonly number[]): boolean {
  return !!a && a.length === b.length && a.every((v, i) => v === b[i]);
}
