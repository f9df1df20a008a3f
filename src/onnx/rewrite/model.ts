import protobuf from 'protobufjs';
import { ModelProto, type NodeMsg, type TensorMsg, type ValueInfoMsg } from '../proto.js';

/**
 * An ONNX model opened for graph rewriting without decoding its weights.
 *
 * The top-level graph's fields are kept as byte ranges of the file (views, no copies): initializers stay
 * bytes, nodes are decoded only as far as a rewrite needs (op, inputs, outputs, attributes), and a node
 * nobody changed is written back as the bytes it came from. Rewritten files are therefore the original
 * with some nodes replaced, a few small initializers and inputs added, and nothing else touched.
 */

const root = ModelProto.root;
const NodeProto = root.lookupType('onnx.NodeProto');
const TensorProto = root.lookupType('onnx.TensorProto');
const ValueInfoProto = root.lookupType('onnx.ValueInfoProto');

/** Protobuf field numbers (onnx.proto). */
const MODEL_GRAPH = 7;
const MODEL_OPSET = 8;
const GRAPH_NODE = 1;
const GRAPH_INITIALIZER = 5;
const GRAPH_INPUT = 11;
const GRAPH_OUTPUT = 12;

export interface Node {
  op: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  /** Decoded attributes (int, ints, float, tensor), by name. */
  attrs: Map<string, { i?: number; ints?: number[]; f?: number; t?: TensorMsg; g?: unknown }>;
  /** The node's encoded bytes: the file's own, or freshly encoded for a new node. */
  bytes: Uint8Array;
}

interface Field {
  field: number;
  /** The field's payload (for length-delimited fields: without tag and length). */
  bytes: Uint8Array;
  wire: number;
  /** Index into `nodes` for node fields. */
  node?: number;
  /** The initializer's name, for initializer fields. */
  initializer?: string;
}

export class EditableModel {
  /** Top-level fields other than the graph, in file order. */
  private readonly head: { field: number; wire: number; bytes: Uint8Array }[] = [];
  private readonly graphFields: Field[] = [];
  /** The graph's nodes in topological (file) order; `null` marks a removed node. */
  readonly nodes: (Node | null)[] = [];
  /** Nodes to write right before node i (keyed by i). */
  private readonly before = new Map<number, Node[]>();
  private readonly initializers = new Map<string, Uint8Array>();
  private readonly added: { field: number; bytes: Uint8Array }[] = [];
  readonly inputNames: string[] = [];
  /** Declared shapes of the graph inputs: a number per fixed axis, a string per named one, null if none. */
  readonly inputShapes = new Map<string, (number | string)[] | null>();
  /** Element types (onnx.proto DataType) of the graph inputs. */
  readonly inputTypes = new Map<string, number>();
  readonly outputNames: string[] = [];
  /** Default-domain opset version. */
  readonly opset: number;
  /** Whether any initializer keeps its bytes in an external-data file. */
  readonly externalData: boolean;
  private fresh = 0;

  constructor(bytes: Uint8Array) {
    let opset = 0;
    let graph: Uint8Array | null = null;
    for (const f of fields(bytes)) {
      if (f.field === MODEL_GRAPH) graph = f.bytes;
      else this.head.push(f);
      if (f.field === MODEL_OPSET) {
        const o = root.lookupType('onnx.OperatorSetIdProto').decode(f.bytes) as unknown as { domain?: string; version?: unknown };
        if (!o.domain || o.domain === 'ai.onnx') opset = num(o.version);
      }
    }
    if (!graph) throw new Error('not an ONNX model: no graph');
    this.opset = opset;
    let external = false;
    for (const f of fields(graph)) {
      const entry: Field = { ...f };
      if (f.field === GRAPH_NODE) {
        entry.node = this.nodes.push(decodeNode(f.bytes)) - 1;
      } else if (f.field === GRAPH_INITIALIZER) {
        const t = TensorHead.decode(f.bytes) as unknown as { name?: string; data_location?: number };
        if (t.name) this.initializers.set(t.name, f.bytes);
        entry.initializer = t.name ?? '';
        if (t.data_location === 1) external = true;
      } else if (f.field === GRAPH_INPUT || f.field === GRAPH_OUTPUT) {
        const info = ValueInfoProto.decode(f.bytes) as unknown as { name: string; type?: { tensor_type?: { elem_type?: number; shape?: { dim?: { dim_value?: unknown; dim_param?: string }[] } } } };
        (f.field === GRAPH_INPUT ? this.inputNames : this.outputNames).push(info.name);
        const dims = info.type?.tensor_type?.shape?.dim;
        if (f.field === GRAPH_INPUT) {
          this.inputShapes.set(info.name, dims ? dims.map((d) => (d.dim_param ? d.dim_param : num(d.dim_value ?? 0))) : null);
          this.inputTypes.set(info.name, info.type?.tensor_type?.elem_type ?? 0);
        }
      }
      this.graphFields.push(entry);
    }
    this.externalData = external;
  }

  /** The node that produces each value (by index into `nodes`). */
  producers(): Map<string, number> {
    const m = new Map<string, number>();
    this.nodes.forEach((n, i) => n?.outputs.forEach((o) => o && m.set(o, i)));
    return m;
  }

  /** The nodes that read each value. */
  consumers(): Map<string, number[]> {
    const m = new Map<string, number[]>();
    this.nodes.forEach((n, i) => n?.inputs.forEach((x) => x && (m.get(x) ?? m.set(x, []).get(x)!).push(i)));
    return m;
  }

  /** The integer values of a constant (an initializer or a Constant node's tensor), or null. */
  ints(name: string, producers = this.producers()): number[] | null {
    const t = this.constTensor(name, producers);
    if (!t) return null;
    if (t.int64_data?.length) return t.int64_data.map(num);
    // A copy, aligned and of its own (a Buffer's slice() would be a view of the whole file).
    const raw = t.raw_data ? new Uint8Array(t.raw_data) : null;
    if (raw && t.data_type === 7) return Array.from(new BigInt64Array(raw.buffer), Number);
    if (raw && t.data_type === 6) return Array.from(new Int32Array(raw.buffer));
    const ints = (t as { int32_data?: number[] }).int32_data;
    return ints?.length ? ints.map(num) : null;
  }

  /** Element count of a constant, or null when `name` is not one. */
  constSize(name: string, producers = this.producers()): number | null {
    const t = this.constTensor(name, producers);
    return t ? (t.dims ?? []).map(num).reduce((a, b) => a * b, 1) : null;
  }

  private constTensor(name: string, producers: Map<string, number>): TensorMsg | null {
    const init = this.initializers.get(name);
    if (init) return TensorProto.decode(init) as unknown as TensorMsg;
    const p = producers.get(name);
    const node = p === undefined ? null : this.nodes[p];
    if (node?.op !== 'Constant') return null;
    const a = node.attrs.get('value');
    if (a?.t) return a.t;
    const ints = node.attrs.get('value_ints')?.ints ?? (node.attrs.get('value_int')?.i !== undefined ? [node.attrs.get('value_int')!.i!] : null);
    return ints ? { name, dims: [ints.length], data_type: 7, int64_data: ints } : null;
  }

  /**
   * Whether a value is a single number whatever the inputs: a constant of at most one element, a scalar
   * op of such values (torch exports compute attention's √scale as Sqrt(constant)), or one entry of a
   * tensor's shape (its 1/√head_dim from Shape(query)). Such a value scales every head and position alike.
   */
  isScalar(name: string, producers = this.producers(), depth = 0): boolean {
    const size = this.constSize(name, producers);
    if (size !== null) return size <= 1;
    const i = producers.get(name);
    const n = i === undefined ? null : this.nodes[i];
    if (!n || depth > 8) return false;
    if (['Sqrt', 'Cast', 'Reciprocal', 'Neg', 'Div', 'Mul', 'Add', 'Sub', 'Pow'].includes(n.op)) return n.inputs.every((x) => this.isScalar(x, producers, depth + 1));
    // One entry of a shape: Gather(Shape(x), a scalar index).
    const shapeOf = n.op === 'Gather' ? producers.get(n.inputs[0]!) : undefined;
    const index = n.op === 'Gather' ? this.constTensor(n.inputs[1]!, producers) : null;
    return shapeOf !== undefined && this.nodes[shapeOf]?.op === 'Shape' && !!index && (index.dims ?? []).length === 0;
  }

  /**
   * The graph inputs whose values a value is computed from (memoized per returned function), and `opaque`
   * when it also depends on something that cannot be followed: a value nothing produces, a node without
   * inputs other than Constant (RandomNormal…), a node with a subgraph (which may read outer values). With
   * `shapesAreFree`, Shape reads no values, only sizes. A value of initializers and constants only has no
   * inputs and is not opaque.
   */
  valueSources(producers = this.producers(), opts: { shapesAreFree?: boolean } = {}): (name: string) => { inputs: ReadonlySet<string>; opaque: boolean } {
    type Sources = { inputs: ReadonlySet<string>; opaque: boolean };
    const memo = new Map<string, Sources>();
    const none: Sources = { inputs: new Set(), opaque: false };
    const visit = (name: string): Sources => {
      const known = memo.get(name);
      if (known) return known;
      memo.set(name, { inputs: new Set(), opaque: true }); // no cycles in a valid graph; guards against one anyway
      let r: Sources;
      if (!name) r = none;
      else if (this.inputNames.includes(name)) r = { inputs: new Set([name]), opaque: false };
      else if (this.initializers.has(name)) r = none;
      else {
        const i = producers.get(name);
        const n = i === undefined ? null : this.nodes[i];
        if (!n || hasSubgraph(n) || (n.inputs.length === 0 && n.op !== 'Constant')) r = { inputs: new Set(), opaque: true };
        else if (opts.shapesAreFree && n.op === 'Shape') r = none;
        else {
          const parts = n.inputs.map(visit);
          r = { inputs: new Set(parts.flatMap((p) => [...p.inputs])), opaque: parts.some((p) => p.opaque) };
        }
      }
      memo.set(name, r);
      return r;
    };
    return visit;
  }

  isInitializer(name: string): boolean {
    return this.initializers.has(name);
  }

  /** A name not used in the graph, for a new value. */
  freshName(hint: string): string {
    return `flan_eval/${hint}_${this.fresh++}`;
  }

  /** A new int64 initializer (1-D, or a scalar with `scalar`). */
  addInt64(values: readonly number[], hint: string, scalar = false): string {
    const name = this.freshName(hint);
    const data = new BigInt64Array(values.map((v) => BigInt(v)));
    const t: TensorMsg = { name, dims: scalar ? [] : [values.length], data_type: 7, raw_data: new Uint8Array(data.buffer) };
    const bytes = TensorProto.encode(TensorProto.fromObject(t)).finish();
    this.initializers.set(name, bytes);
    this.added.push({ field: GRAPH_INITIALIZER, bytes });
    return name;
  }

  addInput(info: ValueInfoMsg): void {
    this.added.push({ field: GRAPH_INPUT, bytes: ValueInfoProto.encode(ValueInfoProto.fromObject(info)).finish() });
    this.inputNames.push(info.name);
    this.inputShapes.set(info.name, info.type.tensor_type.shape.dim.map((d) => d.dim_param ?? d.dim_value ?? 0));
    this.inputTypes.set(info.name, info.type.tensor_type.elem_type);
  }

  /** A new node, written right before node `at` (so its inputs, produced earlier, exist). */
  insertBefore(at: number, op: string, inputs: string[], outputs: string[], attrs: Record<string, number[] | number> = {}): void {
    const msg: NodeMsg = {
      name: this.freshName(op),
      op_type: op,
      input: inputs,
      output: outputs,
      attribute: Object.entries(attrs).map(([name, v]) => (Array.isArray(v) ? { name, type: 7, ints: v } : { name, type: 2, i: v })),
    };
    const bytes = NodeProto.encode(NodeProto.fromObject(msg)).finish();
    const node: Node = { op, domain: '', inputs, outputs, attrs: new Map(), bytes };
    (this.before.get(at) ?? this.before.set(at, []).get(at)!).push(node);
  }

  /** Make node `i` read `name` as its input `k` (its other fields stay the bytes they were). */
  setInput(i: number, k: number, name: string): void {
    const n = this.nodes[i]!;
    const parts: Uint8Array[] = [];
    let seen = 0;
    for (const f of fields(n.bytes)) {
      const replace = f.field === 1 && f.wire === 2 && seen++ === k;
      parts.push(...wrapField(replace ? { ...f, bytes: new TextEncoder().encode(name) } : f));
    }
    n.bytes = concat(parts);
    n.inputs[k] = name;
  }

  remove(i: number): void {
    this.nodes[i] = null;
  }

  /** Drop nodes whose outputs nobody reads (what a rewrite left behind). Graph outputs are read. */
  removeDead(): number {
    // New nodes are kept: what they read is live.
    const live = new Set(this.outputNames);
    for (const list of this.before.values()) for (const n of list) n.inputs.forEach((x) => live.add(x));
    let removed = 0;
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i];
      if (!n) continue;
      // Nodes with subgraphs may read outer values implicitly; keep them (and so what they read).
      if (n.outputs.some((o) => live.has(o)) || hasSubgraph(n)) {
        n.inputs.forEach((x) => live.add(x));
      } else {
        this.nodes[i] = null;
        removed++;
      }
    }
    return removed;
  }

  /**
   * The model as ONNX bytes: one new buffer the size of the file, plus what was added. Initializers that no
   * node reads any more (the constants of removed nodes) are left out, as ONNX Runtime would drop them with a
   * warning on every load; not where a subgraph could read them unseen.
   */
  encode(): Uint8Array {
    const read = new Set([...this.outputNames, ...this.inputNames]);
    let subgraphs = false;
    const live = [...this.nodes, ...[...this.before.values()].flat()];
    for (const n of live) {
      n?.inputs.forEach((x) => read.add(x));
      if (n && hasSubgraph(n)) subgraphs = true;
    }
    const parts: Uint8Array[] = [];
    for (const f of this.graphFields) {
      if (f.initializer !== undefined && !subgraphs && !read.has(f.initializer)) continue;
      if (f.node !== undefined) {
        for (const n of this.before.get(f.node) ?? []) parts.push(...wrap(GRAPH_NODE, n.bytes));
        const n = this.nodes[f.node];
        if (n) parts.push(...wrap(GRAPH_NODE, n.bytes));
      } else {
        parts.push(...wrapField(f));
      }
    }
    for (const a of this.added) parts.push(...wrap(a.field, a.bytes));
    const graphLength = parts.reduce((s, p) => s + p.length, 0);
    const out: Uint8Array[] = [];
    for (const f of this.head) out.push(...wrapField(f));
    out.push(tag(MODEL_GRAPH, 2), varint(graphLength), ...parts);
    return concat(out);
  }
}

/** TensorProto without its data fields: names and locations only (no weight bytes decoded or copied). */
const TensorHead = protobuf
  .parse('syntax = "proto3"; package head; message TensorHead { string name = 8; int32 data_location = 14; }', { keepCase: true })
  .root.lookupType('head.TensorHead');

function decodeNode(bytes: Uint8Array): Node {
  const m = NodeProto.decode(bytes) as unknown as { op_type?: string; domain?: string; input?: string[]; output?: string[]; attribute?: { name: string; i?: unknown; ints?: unknown[]; f?: number; t?: TensorMsg; g?: unknown }[] };
  const attrs: Node['attrs'] = new Map();
  for (const a of m.attribute ?? []) {
    attrs.set(a.name, { i: a.i === undefined || a.i === null ? undefined : num(a.i), ints: a.ints?.map(num), f: a.f, t: a.t, g: a.g });
  }
  return { op: m.op_type ?? '', domain: m.domain ?? '', inputs: m.input ?? [], outputs: m.output ?? [], attrs, bytes };
}

/** If, Loop, Scan…: a node with a graph attribute, whose subgraph may read outer values by name. */
export function hasSubgraph(n: Node): boolean {
  return [...n.attrs.values()].some((a) => a.g);
}

export function num(x: unknown): number {
  return typeof x === 'number' ? x : Number(String(x));
}

/** The fields of one protobuf message: number, wire type, payload (a view into `bytes`). */
function* fields(bytes: Uint8Array): Generator<{ field: number; wire: number; bytes: Uint8Array }> {
  let pos = 0;
  const readVarint = (): number => {
    let result = 0;
    let shift = 1;
    for (;;) {
      if (pos >= bytes.length) throw new Error('truncated protobuf');
      const b = bytes[pos++]!;
      result += (b & 0x7f) * shift;
      if (b < 0x80) return result;
      shift *= 128;
    }
  };
  while (pos < bytes.length) {
    const key = readVarint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    const start = pos;
    if (wire === 0) readVarint();
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const len = readVarint();
      const from = pos;
      pos += len;
      if (pos > bytes.length) throw new Error('truncated protobuf');
      yield { field, wire, bytes: bytes.subarray(from, pos) };
      continue;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
    yield { field, wire, bytes: bytes.subarray(start, pos) };
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return bytes;
}

function varint(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Uint8Array.from(out);
}

function tag(field: number, wire: number): Uint8Array {
  return varint(field * 8 + wire);
}

function wrap(field: number, payload: Uint8Array): Uint8Array[] {
  return [tag(field, 2), varint(payload.length), payload];
}

function wrapField(f: { field: number; wire: number; bytes: Uint8Array }): Uint8Array[] {
  return f.wire === 2 ? wrap(f.field, f.bytes) : [tag(f.field, f.wire), f.bytes];
}
