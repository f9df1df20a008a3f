import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mcnemarExact, normalQuantile, pairedDifference } from '../../src/report/stats.js';

const close = (actual: number, expected: number, tol: number) => assert.ok(Math.abs(actual - expected) <= tol, `${actual} is not within ${tol} of ${expected}`);

describe('exact McNemar test', () => {
  test('matches the two-sided binomial test on the discordant pairs', () => {
    // Values from Python: min(1, 2·Σ_{i≤min(b,c)} C(b+c, i) / 2^(b+c)).
    close(mcnemarExact(3, 1), 0.625, 1e-12);
    close(mcnemarExact(10, 0), 2 / 1024, 1e-12);
    close(mcnemarExact(15, 0), 6.103515625e-5, 1e-15);
    close(mcnemarExact(30, 20), 0.20263875106454066, 1e-12);
    close(mcnemarExact(40, 8), 3.305266709219268e-6, 1e-15);
  });

  test('is symmetric, 1 without discordant pairs or with a tie, and survives thousands of pairs', () => {
    assert.equal(mcnemarExact(0, 0), 1);
    assert.equal(mcnemarExact(5, 5), 1);
    assert.equal(mcnemarExact(8, 40), mcnemarExact(40, 8));
    const p = mcnemarExact(3000, 2800);
    assert.ok(p > 0.005 && p < 0.02, `p = ${p}`); // normal approximation: z = 200/√5800 = 2.63 → 0.0086
    assert.ok(mcnemarExact(6000, 4000) > 0);
  });
});

describe('normalQuantile', () => {
  test('known quantiles', () => {
    close(normalQuantile(0.975), 1.959963984540054, 1e-8);
    close(normalQuantile(0.5), 0, 1e-12);
    close(normalQuantile(0.001), -3.090232306167813, 1e-8);
    close(normalQuantile(0.995), 2.5758293035489, 1e-8);
    assert.throws(() => normalQuantile(1), RangeError);
  });
});

describe('pairedDifference', () => {
  test('task-weighted change with the paired standard error', () => {
    // Task a: 4 examples, baseline 1 1 0 0, current 0 1 0 0 → diffs −1 0 0 0.
    // Task b: 2 examples, baseline 0 0, current 1 0 → diffs 1 0.
    const r = pairedDifference([
      { task: 'a', diffs: [-1, 0, 0, 0], baselineCorrect: 2, currentCorrect: 1 },
      { task: 'b', diffs: [1, 0], baselineCorrect: 0, currentCorrect: 1 },
    ]);
    close(r.baseline, (50 + 0) / 2, 1e-12);
    close(r.current, (25 + 50) / 2, 1e-12);
    close(r.delta, (-25 + 50) / 2, 1e-12);
    // s²_a = var(−1,0,0,0) = (0.5625 + 3·0.0625)/3 = 0.25; s²_b = var(1,0) = 0.5.
    const se = (100 * Math.sqrt(0.25 / 4 + 0.5 / 2)) / 2;
    close(r.stderr, se, 1e-12);
    close(r.ci[0], r.delta - 1.959963984540054 * se, 1e-6);
    close(r.ci[1], r.delta + 1.959963984540054 * se, 1e-6);
  });

  test('no change gives a zero-width interval at zero', () => {
    const r = pairedDifference([{ task: 'a', diffs: [0, 0, 0], baselineCorrect: 2, currentCorrect: 2 }]);
    assert.deepEqual([r.delta, r.stderr, r.ci], [0, 0, [0, 0]]);
  });
});
