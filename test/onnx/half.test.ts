import assert from 'node:assert/strict';
import { test } from 'node:test';
import { floatToHalf, halfToFloat } from '../../src/onnx/half.js';

test('float → half rounds to nearest even, with subnormals, overflow and NaN, and half → float inverts it', () => {
  const cases: [number, number][] = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [65504, 0x7bff], // largest finite half
    [65520, 0x7c00], // rounds up to infinity
    [1e6, 0x7c00],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -26, 0x0000], // below half the smallest subnormal: zero
    [1 + 2 ** -11, 0x3c00], // a tie between 1 and the next half rounds to even (1)
    [1 + 3 * 2 ** -11, 0x3c02], // a tie rounds to even (up)
    [0.1, 0x2e66],
  ];
  for (const [f, h] of cases) assert.equal(floatToHalf(f), h, `${f}`);
  assert.equal(floatToHalf(Infinity), 0x7c00);
  assert.ok(Number.isNaN(halfToFloat(floatToHalf(NaN))));
  for (let h = 0; h < 0x7c00; h += 7) assert.equal(floatToHalf(halfToFloat(h)), h, `half ${h.toString(16)}`);
});
