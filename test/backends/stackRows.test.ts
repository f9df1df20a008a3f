import assert from 'node:assert/strict';
import { test } from 'node:test';
import ort from 'onnxruntime-node';
import { stackRows } from '../../src/backends/onnx/encoderGroups.js';

test('stackRows puts each group row at its batch row and zero-pads the chosen axis', () => {
  // Two groups of caches [rows, heads=2, len, d=1]: group A (batch rows 2, 0) has length 3, group B (row 1) length 1.
  const a = new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), [2, 2, 3, 1]);
  const b = new ort.Tensor('float32', Float32Array.from([20, 21]), [1, 2, 1, 1]);
  const out = stackRows([{ rows: [2, 0], tensor: a }, { rows: [1], tensor: b }], 3, { axis: 2, width: 3 });
  assert.deepEqual(out.dims, [3, 2, 3, 1]);
  assert.deepEqual(Array.from(out.data as Float32Array), [7, 8, 9, 10, 11, 12, 20, 0, 0, 21, 0, 0, 1, 2, 3, 4, 5, 6]);
  // Without padding: rows only (logits [rows, 1, V]).
  const l = stackRows([{ rows: [1], tensor: new ort.Tensor('float32', Float32Array.from([1, 2]), [1, 1, 2]) }, { rows: [0], tensor: new ort.Tensor('float32', Float32Array.from([3, 4]), [1, 1, 2]) }], 2);
  assert.deepEqual(Array.from(l.data as Float32Array), [3, 4, 1, 2]);
});
