import { floatToHalf } from './half.js';
import { AttributeType, DataType, type AttributeMsg, type DimMsg, type GraphMsg, type NodeMsg, type TensorMsg, type ValueInfoMsg } from './proto.js';

export type Dim = number | string;
export type AttrValue = number | number[] | string | GraphMsg | { float: number } | { floats: number[] };

/**
 * A tiny ONNX graph builder: `op()` appends a node and returns its output name, so model code reads like
 * the math it computes. Names are made unique with a counter; graph inputs and outputs keep exact names
 * (they are the contract with the runtime, see docs/protocol.md §6).
 */
export class GraphBuilder {
  readonly nodes: NodeMsg[] = [];
  readonly initializers: TensorMsg[] = [];
  readonly inputs: ValueInfoMsg[] = [];
  readonly outputs: ValueInfoMsg[] = [];
  private counter = 0;
  private readonly constants = new Map<string, string>();

  constructor(
    readonly name: string,
    private readonly prefix = '',
    /** Precision of float weights and constants (fp16 exports store them as float16). */
    readonly precision: 'float32' | 'float16' = 'float32',
  ) {}

  /** The ONNX element type of this graph's floats. */
  get floatType(): number {
    return this.precision === 'float16' ? DataType.FLOAT16 : DataType.FLOAT;
  }

  private fresh(hint: string): string {
    return `${this.prefix}${hint}_${this.counter++}`;
  }

  input(name: string, elemType: number, shape: Dim[]): string {
    this.inputs.push(valueInfo(name, elemType, shape));
    return name;
  }

  output(name: string, from: string, elemType: number, shape: Dim[]): void {
    if (from !== name) this.op('Identity', [from], {}, name);
    this.outputs.push(valueInfo(name, elemType, shape));
  }

  /** A float initializer, stored in the graph's precision. */
  weight(name: string, dims: number[], data: Float32Array): string {
    const stored = this.precision === 'float16' ? Uint16Array.from(data, floatToHalf) : data;
    this.initializers.push({ name, dims, data_type: this.floatType, raw_data: new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength) });
    return name;
  }

  int64(name: string, dims: number[], values: readonly number[]): string {
    const data = new BigInt64Array(values.map((v) => BigInt(v)));
    this.initializers.push({ name, dims, data_type: DataType.INT64, raw_data: new Uint8Array(data.buffer) });
    return name;
  }

  /** A shared scalar or 1-D constant, created once per graph. */
  constF(value: number): string {
    const key = `f:${value}`;
    let name = this.constants.get(key);
    if (!name) {
      name = `${this.prefix}const_f_${this.constants.size}`;
      this.weight(name, [], new Float32Array([value]));
      this.constants.set(key, name);
    }
    return name;
  }

  constI(values: readonly number[], scalar = false): string {
    const key = `i:${scalar}:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = `${this.prefix}const_i_${this.constants.size}`;
      this.int64(name, scalar ? [] : [values.length], values);
      this.constants.set(key, name);
    }
    return name;
  }

  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outName?: string): string {
    const out = outName ?? this.fresh(opType);
    this.opMulti(opType, inputs, [out], attrs);
    return out;
  }

  opMulti(opType: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}): string[] {
    this.nodes.push({
      name: `${this.prefix}${opType}_n${this.nodes.length}`,
      op_type: opType,
      input: inputs,
      output: outputs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outputs;
  }

  build(): GraphMsg {
    return { name: this.name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs };
  }
}

export function valueInfo(name: string, elemType: number, shape: Dim[]): ValueInfoMsg {
  const dim: DimMsg[] = shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }));
  return { name, type: { tensor_type: { elem_type: elemType, shape: { dim } } } };
}

function attribute(name: string, v: AttrValue): AttributeMsg {
  if (typeof v === 'number') return { name, type: AttributeType.INT, i: v };
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: AttributeType.INTS, ints: v };
  if ('float' in v) return { name, type: AttributeType.FLOAT, f: v.float };
  if ('floats' in v) return { name, type: AttributeType.FLOATS, floats: v.floats };
  return { name, type: AttributeType.GRAPH, g: v };
}
