import ort from 'onnxruntime-node';
import { GraphBuilder } from '../../onnx/graph.js';
import { DataType, encodeModel } from '../../onnx/proto.js';
import type { BackendOptions } from '../types.js';
import type { DeviceSpec } from './device.js';

type Feeds = Record<string, ort.Tensor>;

/** The next token of each row and its log-probability, picked where the logits are. */
export interface Picked {
  ids: number[];
  logprobs: number[];
}

/** How finished rows leave a device-resident batch (see DeviceResidency.rowRemoval). */
export type RowRemoval = NonNullable<BackendOptions['rowRemoval']>;

const OPSET = 18;

function elemType(type: ort.Tensor.Type): number {
  if (type === 'float16') return DataType.FLOAT16;
  if (type === 'float32') return DataType.FLOAT;
  if (type === 'int64') return DataType.INT64;
  throw new Error(`resident: unexpected tensor type ${type}`);
}

/** log p(argmax) = -log Σ exp(x - max): the log-softmax at the maximum, without materialising it. */
function logSoftmaxParts(g: GraphBuilder, x: string): { max: string; lse: string } {
  const max = g.op('ReduceMax', [x, g.constI([-1])], { keepdims: 1 });
  const lse = g.op('Log', [g.op('ReduceSum', [g.op('Exp', [g.op('Sub', [x, max])]), g.constI([-1])], { keepdims: 1 })]);
  return { max, lse };
}

/** logits [B, T, V] → ids [B] (first maximum, as on the host) and their log-probabilities [B], at the last position. */
function pickModel(type: ort.Tensor.Type): Uint8Array {
  const g = new GraphBuilder('flan_eval_pick');
  const raw = g.input('logits', elemType(type), ['B', 'T', 'V']);
  const logits = type === 'float32' ? raw : g.op('Cast', [raw], { to: DataType.FLOAT });
  const last = g.op('Gather', [logits, g.constI([-1], true)], { axis: 1 });
  const ids = g.op('ArgMax', [last], { axis: -1, keepdims: 0, select_last_index: 0 });
  const { lse } = logSoftmaxParts(g, last);
  g.output('ids', ids, DataType.INT64, ['B']);
  g.output('logprobs', g.op('Neg', [g.op('Squeeze', [lse, g.constI([-1])])]), DataType.FLOAT, ['B']);
  return encodeModel(g.build(), OPSET);
}

/**
 * logits [B, T, V] and flat indices [N, K] into the [B·T·V] log-softmax → log-probabilities [N, K]. The
 * host computes the indices ((row·T + position)·V + token), so one small graph serves every scoring layout.
 */
function scoreModel(type: ort.Tensor.Type): Uint8Array {
  const g = new GraphBuilder('flan_eval_score');
  const raw = g.input('logits', elemType(type), ['B', 'T', 'V']);
  const index = g.input('index', DataType.INT64, ['N', 'K']);
  const logits = type === 'float32' ? raw : g.op('Cast', [raw], { to: DataType.FLOAT });
  const { max, lse } = logSoftmaxParts(g, logits);
  const logp = g.op('Sub', [g.op('Sub', [logits, max]), lse]);
  const flat = g.op('Reshape', [logp, g.constI([-1])]);
  g.output('logprobs', g.op('Gather', [flat, index], { axis: 0 }), DataType.FLOAT, ['N', 'K']);
  return encodeModel(g.build(), OPSET);
}

/** Gather `rows` along axis 0 of every input: finished rows leave the batch without leaving the device. */
function keepRowsModel(inputs: { name: string; type: ort.Tensor.Type; rank: number }[]): Uint8Array {
  const g = new GraphBuilder('flan_eval_keep_rows');
  const rows = g.input('rows', DataType.INT64, ['N']);
  inputs.forEach(({ name, type, rank }, i) => {
    const shape = ['B', ...Array.from({ length: rank - 1 }, (_, d) => `d${i}_${d}`)];
    const x = g.input(name, elemType(type), shape);
    g.output(`${name}.kept`, g.op('Gather', [x, rows], { axis: 0 }), elemType(type), ['N', ...shape.slice(1)]);
  });
  return encodeModel(g.build(), OPSET);
}

/** Concatenate the inputs along axis 0 (encoder states computed in row chunks, see bindingLimit). */
function concatRowsModel(count: number, type: ort.Tensor.Type, rank: number): Uint8Array {
  const g = new GraphBuilder('flan_eval_concat_rows');
  const dims = Array.from({ length: rank - 1 }, (_, d) => `d${d}`);
  const parts = Array.from({ length: count }, (_, i) => g.input(`part${i}`, elemType(type), [`b${i}`, ...dims]));
  g.output('rows', g.op('Concat', parts, { axis: 0 }), elemType(type), ['B', ...dims]);
  return encodeModel(g.build(), OPSET);
}

/** Probe sizes: positions per slice and head width; the scores of N slices take N × 4 MiB. */
const PROBE_T = 1024;
const PROBE_D = 8;

/**
 * An attention-shaped probe: one varying slice x [1, T, D] expanded to q [N, T, D] → scores q·qᵀ
 * [N, T, T] (the large tensor) → softmax → · q → [N, T, D], of which the first and the last slice come
 * back. Every slice computes the same thing, so both must equal the slice computed on the host: a wrong or
 * unwritten region anywhere in the scores shows (the last slice lies at the end of the buffer). The input
 * varies so that no wrong scores can still give the right answer (with constant inputs every softmax
 * row averages equal values, whatever the scores).
 */
export function bindingProbeModel(): Uint8Array {
  const g = new GraphBuilder('flan_eval_binding_probe');
  const x = g.input('x', DataType.FLOAT, [1, PROBE_T, PROBE_D]);
  const shape = g.input('shape', DataType.INT64, [3]);
  const ends = g.input('ends', DataType.INT64, [2]);
  const q = g.op('Expand', [x, shape]);
  const scores = g.op('MatMul', [q, g.op('Transpose', [q], { perm: [0, 2, 1] })]);
  const out = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), q]);
  g.output('slices', g.op('Gather', [out, ends], { axis: 0 }), DataType.FLOAT, [2, PROBE_T, PROBE_D]);
  return encodeModel(g.build(), OPSET);
}

/** The probe's input slice, and what attention over it gives, computed on the host (exported for tests). */
export function probeSlice(): { x: Float32Array; expected: Float32Array } {
  const [T, D] = [PROBE_T, PROBE_D];
  const x = new Float32Array(T * D).map((_, k) => 0.7 * Math.sin(0.37 * Math.floor(k / D) + 1.3 * (k % D)));
  const expected = new Float32Array(T * D);
  const row = new Float64Array(T);
  for (let i = 0; i < T; i++) {
    let max = -Infinity;
    for (let j = 0; j < T; j++) {
      let dot = 0;
      for (let d = 0; d < D; d++) dot += x[i * D + d]! * x[j * D + d]!;
      row[j] = dot;
      max = Math.max(max, dot);
    }
    let sum = 0;
    for (let j = 0; j < T; j++) sum += row[j] = Math.exp(row[j]! - max);
    for (let j = 0; j < T; j++) for (let d = 0; d < D; d++) expected[i * D + d]! += (row[j]! / sum) * x[j * D + d]!;
  }
  return { x, expected };
}

let bindingLimitBytes: Promise<number> | null = null;

/**
 * The largest tensor the WebGPU provider computes correctly, in bytes. WebGPU binds each tensor as one
 * storage buffer, and beyond the adapter's maxStorageBufferBindingSize ONNX Runtime's WebGPU provider
 * returns wrong numbers without an error (seen on Mesa lavapipe, whose limit is 128 MiB: a
 * [8, 4, 1086, 1086] attention tensor came back wrong). onnxruntime-node does not expose the limit, so it
 * is measured once per process with an attention-shaped probe (bindingProbeModel): the largest of 256 MiB,
 * 1 GiB, 2 GiB of scores whose first and last slices both match the host's, else 128 MiB (WebGPU's
 * default limit).
 */
export function webgpuBindingLimit(): Promise<number> {
  bindingLimitBytes ??= (async () => {
    const s = await ort.InferenceSession.create(bindingProbeModel(), { executionProviders: ['webgpu'], logSeverityLevel: 3 });
    const { x, expected } = probeSlice();
    let limit = 128 * 2 ** 20;
    for (const bytes of [2 ** 28, 2 ** 30, 2 ** 31]) {
      try {
        const n = bytes / (PROBE_T * PROBE_T * 4);
        const out = await s.run({
          x: new ort.Tensor('float32', x, [1, PROBE_T, PROBE_D]),
          shape: new ort.Tensor('int64', BigInt64Array.of(BigInt(n), BigInt(PROBE_T), BigInt(PROBE_D)), [3]),
          ends: new ort.Tensor('int64', BigInt64Array.of(0n, BigInt(n - 1)), [2]),
        });
        const got = out.slices!.data as Float32Array;
        if (!got.every((v, k) => Math.abs(v - expected[k % expected.length]!) <= 1e-3)) break;
        limit = bytes;
      } catch {
        break;
      }
    }
    await s.release();
    return limit;
  })();
  return bindingLimitBytes;
}

/**
 * Device-resident decoding: on a GPU provider the model's outputs
 * stay on the device as `gpu-buffer` tensors and are fed back as inputs; only the next token ids and
 * the log-probabilities that are needed come back, through the small graphs above running on the same
 * provider. Reading a `gpu-buffer` tensor on the host (getData) can abort a Node process, so this
 * class is the only code that decides what crosses to the host: int64 ids and float32 log-probabilities.
 *
 * Every device tensor a batch creates is tracked and released (`release`, `releaseAll`): GPU memory is
 * not garbage-collected with the JS object.
 */
export class DeviceResidency {
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();
  private readonly live = new Set<ort.Tensor>();

  constructor(
    readonly device: DeviceSpec,
    /**
     * `gather` copies the surviving rows of every cache into new device tensors when a row finishes;
     * `mask` keeps finished rows in the batch (fed padding, outputs ignored) until the batch ends, and
     * copies nothing. benchmarks/speed/rowRemoval.ts measures both; see README "GPUs".
     */
    readonly rowRemoval: RowRemoval = 'gather',
  ) {}

  /** The largest tensor this device computes correctly, in bytes (see webgpuBindingLimit). */
  bindingLimit(): Promise<number> {
    return this.device.kind === 'webgpu' ? webgpuBindingLimit() : Promise.resolve(Number.POSITIVE_INFINITY);
  }

  /** Device tensors [b_i, …] → one [Σ b_i, …] device tensor; the parts are released. */
  async concatRows(parts: ort.Tensor[]): Promise<ort.Tensor> {
    if (parts.length === 1) return parts[0]!;
    const { type, dims } = parts[0]!;
    const s = await this.session(`concat:${parts.length}:${type}:${dims.length}`, () => concatRowsModel(parts.length, type, dims.length), true);
    const out = await s.run(Object.fromEntries(parts.map((t, i) => [`part${i}`, t])));
    this.release(...parts);
    return this.track(out.rows!);
  }

  /** Session options that keep every output of a model session on the device. */
  outputsOnDevice(options: ort.InferenceSession.SessionOptions): ort.InferenceSession.SessionOptions {
    return { ...options, preferredOutputLocation: 'gpu-buffer' };
  }

  /** A helper graph's session on the same provider; its outputs come to the host unless `onDevice`. */
  private session(key: string, build: () => Uint8Array, onDevice = false): Promise<ort.InferenceSession> {
    let s = this.sessions.get(key);
    if (!s) {
      const executionProviders: ort.InferenceSession.ExecutionProviderConfig[] =
        this.device.kind === 'cuda' ? [{ name: 'cuda', deviceId: this.device.deviceId } as ort.InferenceSession.ExecutionProviderConfig] : ['webgpu'];
      s = ort.InferenceSession.create(build(), { executionProviders, graphOptimizationLevel: 'all', logSeverityLevel: 3, ...(onDevice ? { preferredOutputLocation: 'gpu-buffer' as const } : {}) });
      this.sessions.set(key, s);
    }
    return s;
  }

  /** Remember device tensors so they are released with the batch. */
  track<T extends Feeds | ort.Tensor>(t: T): T {
    for (const x of t instanceof ort.Tensor ? [t] : Object.values(t)) if (x.location !== 'cpu') this.live.add(x);
    return t;
  }

  /** Release device tensors no longer needed (host tensors are left to the GC). */
  release(...groups: (Feeds | ort.Tensor | null | undefined)[]): void {
    for (const g of groups) {
      if (!g) continue;
      for (const x of g instanceof ort.Tensor ? [g] : Object.values(g)) {
        if (this.live.delete(x)) x.dispose();
      }
    }
  }

  /** Release everything still held (end of a batch, or an error in it). */
  releaseAll(): void {
    for (const x of this.live) x.dispose();
    this.live.clear();
  }

  /** Device tensors currently held (tests check that a batch leaves none behind). */
  get held(): number {
    return this.live.size;
  }

  /** Next token and its log-probability for each row, from device logits. The logits are released. */
  async pick(logits: ort.Tensor): Promise<Picked> {
    const s = await this.session(`pick:${logits.type}`, () => pickModel(logits.type));
    const out = await s.run({ logits });
    this.release(logits);
    return { ids: Array.from(out.ids!.data as BigInt64Array, Number), logprobs: Array.from(out.logprobs!.data as Float32Array) };
  }

  /**
   * log p(token) at (row, position) pairs of device logits [B, T, V]: `at[n][k]` = [row, position, token].
   * Returns [N][K] log-probabilities. The logits are released.
   */
  async score(logits: ort.Tensor, at: readonly (readonly [number, number, number])[][]): Promise<number[][]> {
    const [, T, V] = logits.dims as [number, number, number];
    const K = Math.max(1, ...at.map((a) => a.length));
    const index = new BigInt64Array(at.length * K);
    at.forEach((a, n) => a.forEach(([row, pos, tok], k) => (index[n * K + k] = BigInt((row * T + pos) * V + tok))));
    const s = await this.session(`score:${logits.type}`, () => scoreModel(logits.type));
    const out = await s.run({ logits, index: new ort.Tensor('int64', index, [at.length, K]) });
    this.release(logits);
    const data = out.logprobs!.data as Float32Array;
    return at.map((a, n) => a.map((_, k) => data[n * K + k]!));
  }

  /** The given device tensors restricted to `rows` (in that order), on the device; the old ones are released. */
  async keepRows(feeds: Feeds, rows: readonly number[]): Promise<Feeds> {
    const names = Object.keys(feeds).sort();
    if (!names.length) return feeds;
    const sig = names.map((n) => `${n}:${feeds[n]!.type}:${feeds[n]!.dims.length}`).join(',');
    const s = await this.session(`keep:${sig}`, () => keepRowsModel(names.map((name) => ({ name, type: feeds[name]!.type, rank: feeds[name]!.dims.length }))), true);
    const out = await s.run({ ...feeds, rows: new ort.Tensor('int64', BigInt64Array.from(rows, BigInt), [rows.length]) });
    this.release(feeds);
    return this.track(Object.fromEntries(names.map((n) => [n, out[`${n}.kept`]!])));
  }

  async dispose(): Promise<void> {
    this.releaseAll();
    const sessions = await Promise.all(this.sessions.values());
    await Promise.all(sessions.map((s) => s.release()));
  }
}

/** Whether a device keeps decoding state on the device (every GPU provider does; the CPU does not). */
export function isResident(device: DeviceSpec): boolean {
  return device.kind !== 'cpu';
}

/** Names of the tensors held in host memory (the profiling hook reports them: the rest stayed on the device). */
export function hostNames(f: Feeds): string[] {
  return Object.keys(f).filter((n) => f[n]!.location === 'cpu');
}
