import ort from 'onnxruntime-node';
import { halfToFloat } from '../../onnx/half.js';

type Data = Float32Array | Uint16Array | BigInt64Array | Uint8Array | Int32Array;

/**
 * Take rows `rows` (along axis 0) of a CPU tensor, in that order. Used to drop finished sequences from
 * the batch (so no compute is spent on them) and to repeat a context's encoder states per continuation.
 */
export function takeRows(t: ort.Tensor, rows: readonly number[]): ort.Tensor {
  const [n, ...rest] = t.dims;
  const rowSize = rest.reduce((a, b) => a * b, 1);
  const src = t.data as Data;
  if (rows.length === n && rows.every((r, i) => r === i)) return t;
  const Ctor = src.constructor as new (len: number) => Data;
  const out = new Ctor(rows.length * rowSize);
  rows.forEach((r, i) => (out as Float32Array).set((src as Float32Array).subarray(r * rowSize, (r + 1) * rowSize), i * rowSize));
  return new ort.Tensor(t.type as 'float32', out as Float32Array, [rows.length, ...rest]);
}

export function int64Tensor(rows: readonly (readonly number[])[], width: number, pad: number): ort.Tensor {
  const data = new BigInt64Array(rows.length * width).fill(BigInt(pad));
  rows.forEach((r, i) => r.forEach((v, j) => (data[i * width + j] = BigInt(v))));
  return new ort.Tensor('int64', data, [rows.length, width]);
}

export function maskTensor(lengths: readonly number[], width: number): ort.Tensor {
  const data = new BigInt64Array(lengths.length * width);
  lengths.forEach((len, i) => data.fill(1n, i * width, i * width + len));
  return new ort.Tensor('int64', data, [lengths.length, width]);
}

/** A zero-length past (seq axis 0) of the session's KV dtype, for the first decoder step. */
export function emptyPast(type: 'float32' | 'float16', batch: number, heads: number, dk: number): ort.Tensor {
  return new ort.Tensor(type, type === 'float16' ? new Uint16Array(0) : new Float32Array(0), [batch, heads, 0, dk]);
}

/** Row `row`, position `pos` of a [B, T, V] logits tensor, as float32. */
export function logitsRow(t: ort.Tensor, row: number, pos: number): Float32Array {
  const [, T, V] = t.dims as [number, number, number];
  const start = (row * T + pos) * V;
  if (t.type === 'float16') return Float32Array.from((t.data as Uint16Array).subarray(start, start + V), halfToFloat);
  return (t.data as Float32Array).subarray(start, start + V);
}

/** Index of the maximum (first on ties, as argmax in PyTorch and Transformers.js) and log-softmax at it. */
export function argmaxLogprob(logits: Float32Array, limit: number): { id: number; logprob: number } {
  let best = 0;
  let max = -Infinity;
  for (let i = 0; i < limit; i++) {
    const v = logits[i]!;
    if (v > max) {
      max = v;
      best = i;
    }
  }
  return { id: best, logprob: max - logSumExp(logits, max) };
}

export function logSumExp(logits: Float32Array, max?: number): number {
  let m = max ?? -Infinity;
  if (max === undefined) for (let i = 0; i < logits.length; i++) if (logits[i]! > m) m = logits[i]!;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - m);
  return m + Math.log(sum);
}
