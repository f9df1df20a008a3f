import assert from 'node:assert/strict';
import { test } from 'node:test';
import ort from 'onnxruntime-node';
import { bindingProbeModel, probeSlice } from '../../src/backends/onnx/resident.js';

// The WebGPU buffer-limit probe trusts the host's attention over its input slice; these run the probe
// graph on the CPU provider (which has no binding limit), so they hold on any machine.

test('WebGPU buffer-limit probe: the host computes what the probe graph computes, on the first and the last slice', async () => {
  const s = await ort.InferenceSession.create(bindingProbeModel(), { executionProviders: ['cpu'] });
  const { x, expected } = probeSlice();
  const n = 5;
  const out = await s.run({
    x: new ort.Tensor('float32', x, [1, 1024, 8]),
    shape: new ort.Tensor('int64', BigInt64Array.of(BigInt(n), 1024n, 8n), [3]),
    ends: new ort.Tensor('int64', BigInt64Array.of(0n, BigInt(n - 1)), [2]),
  });
  const got = out.slices!.data as Float32Array;
  assert.equal(got.length, 2 * expected.length);
  got.forEach((v, k) => assert.ok(Math.abs(v - expected[k % expected.length]!) < 1e-5, `element ${k}: ${v} vs ${expected[k % expected.length]}`));
  await s.release();
});

test('WebGPU buffer-limit probe: wrong attention scores change its answer (a constant input would hide them)', () => {
  const { x, expected } = probeSlice();
  assert.ok(new Set(x).size > 100, 'the input varies');
  // Attention with uniform weights (what any garbage that softmaxes to equal weights gives) is the mean row.
  const mean = Array.from({ length: 8 }, (_, d) => x.filter((_, k) => k % 8 === d).reduce((a, b) => a + b, 0) / 1024);
  const off = Math.max(...expected.map((v, k) => Math.abs(v - mean[k % 8]!)));
  assert.ok(off > 1e-2, `expected differs from uniform attention by ${off}`);
});
