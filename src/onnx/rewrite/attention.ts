import type { EditableModel, Node } from './model.js';

/**
 * Where an export's attention reads its KV cache: the products (MatMul) whose right operand is the cache
 * `Concat(past_key_values.N.*, new)`, reached through the GQA repeat (Unsqueeze(axis 2) → Expand or Tile →
 * Reshape) or directly, and through ops that treat every head alike (Transpose of the last two axes,
 * multiplying or dividing by a scalar, Cast). gqa.ts and sharedPrefix.ts rewrite these products.
 */
export interface CacheProduct {
  /** The cache value (the Concat's output, which is or is copied to present.N.*). */
  cache: string;
  /** The past input it extends (past_key_values.N.key or .value). */
  past: string;
  /** Kv heads, as the past input declares them. */
  kvHeads: number;
  /** The product node. */
  matmul: number;
  /** Ops between the cache (or its repeat) and the product, with the input each reads the value at. */
  ops: { i: number; k: number }[];
  /** Whether the product reads the repeated cache. */
  repeated: boolean;
}

export function findCacheProducts(m: EditableModel): CacheProduct[] {
  const producers = m.producers();
  const consumers = m.consumers();
  const readers = (name: string) => (consumers.get(name) ?? []).filter((i) => m.nodes[i]);
  const isScalar = (name: string) => m.isScalar(name, producers);
  const out: CacheProduct[] = [];
  for (const n of m.nodes) {
    const past = n?.op === 'Concat' ? n.inputs[0]! : '';
    // The rows of a product are grouped by the graph's own kv head count (the past input's declared
    // shape), never by a config that might disagree with it.
    const kvHeads = /^past_key_values\.\d+\.(key|value)$/.test(past) ? m.inputShapes.get(past)?.[1] : undefined;
    if (typeof kvHeads !== 'number' || kvHeads <= 0 || ![2, -2].includes(n!.attrs.get('axis')?.i ?? 0)) continue;
    const cache = n!.outputs[0]!;
    const found: CacheProduct[] = [];
    let unknown = false;
    for (const r of readers(cache)) {
      const reader = m.nodes[r]!;
      // An Identity copy to present.N.* (some exports name outputs so) reads the cache for the output only;
      // Shape reads its size only (torch exports compute repeat_kv's target shape so).
      if ((reader.op === 'Identity' && m.outputNames.includes(reader.outputs[0]!)) || reader.op === 'Shape') continue;
      const viaRepeat = repeatOutput(m, r, readers, producers);
      const chains = viaRepeat ? chainsToMatMul(m, viaRepeat, readers, isScalar) : chainsToMatMul(m, cache, readers, isScalar, r);
      if (!chains.length) unknown = true;
      for (const c of chains) found.push({ cache, past, kvHeads, matmul: c.matmul, ops: c.ops, repeated: !!viaRepeat });
    }
    // A cache read by anything else than these products is left alone (every product of it keeps its form).
    if (!unknown) out.push(...found);
  }
  return out;
}

/** The repeated cache [B, heads, S, D] when node `u` starts repeat_kv (Unsqueeze(2) → Tile/Expand → Reshape), else null. */
function repeatOutput(m: EditableModel, u: number, readers: (name: string) => number[], producers: Map<string, number>): string | null {
  const unsq = m.nodes[u]!;
  const axes = unsq.attrs.get('axes')?.ints ?? m.ints(unsq.inputs[1] ?? '', producers);
  // Axis 2 of the 5-D result (-3 counts from its end).
  if (unsq.op !== 'Unsqueeze' || !sameInts(axes?.map((a) => (a < 0 ? a + 5 : a)), [2])) return null;
  const expands = readers(unsq.outputs[0]!);
  if (expands.length !== 1 || !isRepeat(m, m.nodes[expands[0]!]!, producers)) return null;
  const reshapes = readers(m.nodes[expands[0]!]!.outputs[0]!);
  const reshape = reshapes.length === 1 ? m.nodes[reshapes[0]!]! : null;
  if (reshape?.op !== 'Reshape') return null;
  const shape = m.ints(reshape.inputs[1]!, producers);
  return shape && shape.length !== 4 ? null : reshape.outputs[0]!;
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

/**
 * Every path from `start` to a MatMul reading it (through head-wise ops) as the right operand; `only`:
 * follow that one reader of `start`. A reader that is anything else needs the value as it is, so then no
 * path is returned.
 */
function chainsToMatMul(m: EditableModel, start: string, readers: (name: string) => number[], isScalar: (name: string) => boolean, only?: number): { matmul: number; ops: CacheProduct['ops'] }[] {
  const out: { matmul: number; ops: CacheProduct['ops'] }[] = [];
  const walk = (value: string, ops: CacheProduct['ops'], from: number[]): boolean => {
    for (const i of from) {
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
      if (!headwise || n.outputs.length !== 1 || !walk(n.outputs[0]!, [...ops, { i, k }], readers(n.outputs[0]!))) return false;
    }
    return true;
  };
  return walk(start, [], only === undefined ? readers(start) : [only]) ? out : [];
}

/** Shared constants of the products one rewrite emits. */
export class ProductWriter {
  private consts: { rest: string; from0: string; to3: string; to4: string } | null = null;
  private readonly rowsShape = new Map<number, string>();

  constructor(private readonly m: EditableModel) {}

  /**
   * Emit, before node `at`, the product `p` computes, with `b` in place of its cache (the cache itself, or
   * another tensor of the cache's layout [1 or B, kv_heads, S, D]) and `a` as its left operand, into
   * `out`. A product of the repeated cache becomes one of the kv heads themselves:
   *
   *   A [B, heads, S, X] → [B, kv_heads, rep·S, X] (row r·S + s of kv head g is query head g·rep + r),
   *   times the kv head's own keys or values, and the product [B, kv_heads, rep·S, Y] back to
   *   [B, heads, S, Y] (the dims of A but the last).
   *
   * MatMul broadcasts a batch-1 `b` over the rows without copying it. Where `a` or the product may be
   * empty (a prefix of no columns), `sized` gives A's grouped shape and asks for the output shape exactly,
   * since Reshape cannot infer a -1 dim of an empty tensor. Returns the grouped A (null: not grouped).
   */
  product(at: number, p: CacheProduct, a: string, b: string, out: string, sized: { rows?: string; exactOut?: boolean } = {}): { rows: string | null } {
    const m = this.m;
    for (const { i, k } of p.ops) {
      const op = m.nodes[i]!;
      const next = m.freshName(`attn_${op.op}`);
      m.insertBefore(at, op.op, op.inputs.map((x, j) => (j === k ? b : x)), [next], attrsOf(op));
      b = next;
    }
    if (!p.repeated) {
      m.insertBefore(at, 'MatMul', [a, b], [out]);
      return { rows: null };
    }
    const c = (this.consts ??= { rest: m.addInt64([-1], 'gqa_rest'), from0: m.addInt64([0], 'gqa_0'), to3: m.addInt64([3], 'gqa_3'), to4: m.addInt64([4], 'gqa_4') });
    const toRows = sized.rows ?? this.rowsShape.get(p.kvHeads) ?? this.rowsShape.set(p.kvHeads, m.addInt64([0, p.kvHeads, -1, 0], 'gqa_rows_shape')).get(p.kvHeads)!;
    const [rows, prod, shapeA, lead, outShape] = ['rows', 'product', 'shape', 'lead', 'out_shape'].map((h) => m.freshName(`gqa_${h}`)) as [string, string, string, string, string];
    m.insertBefore(at, 'Reshape', [a, toRows], [rows]);
    m.insertBefore(at, 'MatMul', [rows, b], [prod]);
    m.insertBefore(at, 'Shape', [a], [shapeA]);
    m.insertBefore(at, 'Slice', [shapeA, c.from0, c.to3], [lead]);
    if (sized.exactOut) {
      // The last dim from the product itself: a -1 cannot be inferred when the product is empty.
      const [shapeP, last] = [m.freshName('gqa_product_shape'), m.freshName('gqa_last')];
      m.insertBefore(at, 'Shape', [prod], [shapeP]);
      m.insertBefore(at, 'Slice', [shapeP, c.to3, c.to4], [last]);
      m.insertBefore(at, 'Concat', [lead, last], [outShape], { axis: 0 });
    } else {
      m.insertBefore(at, 'Concat', [lead, c.rest], [outShape], { axis: 0 });
    }
    m.insertBefore(at, 'Reshape', [prod, outShape], [out]);
    return { rows };
  }
}

export function attrsOf(n: Node): Record<string, number[] | number> {
  const out: Record<string, number[] | number> = {};
  for (const [k, v] of n.attrs) {
    if (v.ints) out[k] = v.ints;
    else if (v.i !== undefined) out[k] = v.i;
  }
  return out;
}

export function sameInts(a: readonly number[] | null | undefined, b: readonly number[]): boolean {
  return !!a && a.length === b.length && a.every((v, i) => v === b[i]);
}
