import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import { sessionOptions } from '../../src/backends/onnx/device.js';
import { GraphBuilder } from '../../src/onnx/graph.js';
import { DataType, encodeModel } from '../../src/onnx/proto.js';

export interface MatMulPeak {
  m: number;
  k: number;
  n: number;
  threads: number;
  reps: number;
  /** Best and median FLOP/s over the timed repetitions. */
  bestFlops: number;
  medianFlops: number;
  seconds: number;
}

/**
 * What this machine's ONNX Runtime reaches on one large fp32 MatMul ([M×K]·[K×N], the weight as an
 * initializer like a model's): the ceiling the encoder's FLOP rate is compared against. Same session
 * options and thread count as the backend.
 */
export async function measureMatMulPeak(threads: number, m = 4096, k = 512, n = 2048, minSeconds = 3): Promise<MatMulPeak> {
  const g = new GraphBuilder('matmul_peak');
  const a = g.input('a', DataType.FLOAT, [m, k]);
  const w = new Float32Array(k * n);
  for (let i = 0; i < w.length; i++) w[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
  g.weight('w', [k, n], w);
  g.output('y', g.op('MatMul', [a, 'w']), DataType.FLOAT, [m, n]);
  const bytes = encodeModel(g.build(), 14, 'flan-eval speed benchmark');
  const { options } = sessionOptions({ kind: 'cpu', deviceId: 0, label: 'cpu' }, threads);
  const session = await ort.InferenceSession.create(bytes, options);
  const input = new Float32Array(m * k);
  for (let i = 0; i < input.length; i++) input[i] = ((i * 40503) % 1000) / 1000 - 0.5;
  const feeds = { a: new ort.Tensor('float32', input, [m, k]) };
  // A preallocated output, so the timing is the MatMul and not a 32 MB copy of its result into JS.
  const fetches = { y: new ort.Tensor('float32', new Float32Array(m * n), [m, n]) };
  for (let i = 0; i < 2; i++) await session.run(feeds, fetches);
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 5 || (performance.now() - start < minSeconds * 1000 && times.length < 200)) {
    const t0 = performance.now();
    await session.run(feeds, fetches);
    times.push((performance.now() - t0) / 1000);
  }
  await session.release();
  const flop = 2 * m * k * n;
  const sorted = [...times].sort((x, y) => x - y);
  return {
    m,
    k,
    n,
    threads,
    reps: times.length,
    bestFlops: flop / sorted[0]!,
    medianFlops: flop / sorted[Math.floor(sorted.length / 2)]!,
    seconds: (performance.now() - start) / 1000,
  };
}
