import { readFile, stat } from 'node:fs/promises';
import protobuf from 'protobufjs';
import { InputError, UsageError } from '../errors.js';

/**
 * What flan-eval needs to know about an ONNX file without running it: how many parameters its initializers
 * hold, and which external-data files (models over 2 GB keep weights in `<name>.onnx_data` next to the
 * graph) it needs.
 *
 * The schema below is the smallest part of onnx.proto that reaches every initializer: the top-level graph,
 * and the subgraphs of If/Loop nodes (a merged decoder keeps its branches there). Field numbers are ONNX's
 * own. Tensor bytes (`raw_data`, `float_data`…) are not declared, so protobufjs skips them without copying:
 * only names, dims and external-data entries are decoded.
 */
const SCHEMA = `
syntax = "proto2";
package onnxmini;
message ModelProto { optional GraphProto graph = 7; }
message GraphProto {
  repeated NodeProto node = 1;
  repeated TensorProto initializer = 5;
  repeated SparseTensorProto sparse_initializer = 15;
}
message NodeProto { repeated AttributeProto attribute = 5; }
message AttributeProto {
  optional GraphProto g = 6;
  repeated GraphProto graphs = 11;
}
message SparseTensorProto { optional TensorProto values = 1; repeated int64 dims = 3; }
message TensorProto {
  repeated int64 dims = 1;
  optional string name = 8;
  repeated StringStringEntryProto external_data = 13;
  optional int32 data_location = 14;
}
message StringStringEntryProto { optional string key = 1; optional string value = 2; }
`;

const root = protobuf.parse(SCHEMA, { keepCase: true }).root;
const Model = root.lookupType('onnxmini.ModelProto');

interface Tensor {
  dims?: unknown[];
  name?: string;
  external_data?: { key?: string; value?: string }[];
  data_location?: number;
}
interface Graph {
  node?: { attribute?: { g?: Graph; graphs?: Graph[] }[] }[];
  initializer?: Tensor[];
  sparse_initializer?: { values?: Tensor; dims?: unknown[] }[];
}

export interface OnnxSummary {
  /** Elements of all initializers (dense: product of dims; sparse: the stored values), subgraphs included. */
  params: number;
  initializers: number;
  /** Dims of every dense initializer, when asked for (to spot a tied embedding stored twice). */
  dims?: number[][];
  /** `location` of every external-data tensor, relative to the model file's folder, without duplicates. */
  externalData: string[];
}

/** ONNX protobufs cannot exceed 2 GiB (weights beyond that live in external-data files). */
const MAX_PROTO_BYTES = 2 ** 31 - 1;

export async function readOnnxSummary(file: string, opts: { dims?: boolean } = {}): Promise<OnnxSummary> {
  const st = await stat(file).catch(() => null);
  if (!st || !st.isFile()) throw new UsageError(`${file}: ONNX file not found`);
  if (st.size > MAX_PROTO_BYTES) throw new InputError(file, `is ${st.size} bytes, more than an ONNX protobuf can be; is it an external-data file?`);
  // Read once: protobuf needs random access to nested lengths, and the 2 GiB cap keeps this bounded.
  const bytes = await readFile(file);
  let model: { graph?: Graph };
  try {
    model = Model.decode(bytes) as unknown as { graph?: Graph };
  } catch (e) {
    throw new InputError(file, `not an ONNX model (${(e as Error).message}); the download may be broken — pull it again`);
  }
  if (!model.graph) throw new InputError(file, 'not an ONNX model (no graph); the download may be broken — pull it again');
  const summary: OnnxSummary = { params: 0, initializers: 0, externalData: [] };
  const dims: number[][] = [];
  const external = new Set<string>();
  const visit = (g: Graph, depth: number) => {
    if (depth > 64) throw new InputError(file, 'subgraphs nest more than 64 deep');
    for (const t of g.initializer ?? []) {
      summary.initializers++;
      summary.params += elements(t.dims);
      if (opts.dims) dims.push((t.dims ?? []).map(toNumber));
      // TensorProto.DataLocation.EXTERNAL = 1
      if (t.data_location === 1) {
        const loc = t.external_data?.find((kv) => kv.key === 'location')?.value;
        if (loc) external.add(loc);
      }
    }
    for (const s of g.sparse_initializer ?? []) {
      summary.initializers++;
      summary.params += elements(s.values?.dims);
    }
    for (const n of g.node ?? []) {
      for (const a of n.attribute ?? []) {
        if (a.g) visit(a.g, depth + 1);
        for (const sub of a.graphs ?? []) visit(sub, depth + 1);
      }
    }
  };
  visit(model.graph, 0);
  summary.externalData = [...external].sort();
  if (opts.dims) summary.dims = dims;
  return summary;
}

/** The number of parameters (initializer elements) an ONNX file holds. */
export async function countOnnxParams(file: string): Promise<number> {
  return (await readOnnxSummary(file)).params;
}

function elements(dims: unknown[] | undefined): number {
  // A scalar initializer has no dims and one element.
  return (dims ?? []).reduce<number>((n, d) => n * toNumber(d), 1);
}

function toNumber(d: unknown): number {
  if (typeof d === 'number') return d;
  if (d && typeof d === 'object' && 'toNumber' in d) return (d as { toNumber(): number }).toNumber();
  return Number(d);
}
