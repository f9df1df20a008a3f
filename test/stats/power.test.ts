import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { mcnemarExact } from '../../src/report/stats.js';
import { discordantCells, exactPairedPower, exactSampleSize, minimumDetectable, normalCdf, pairedPower, pairedSampleSize, type PairedDesign } from '../../src/stats/power.js';
import { fixturesDir, runCli } from '../helpers/cli.js';

/** A small seeded PRNG (mulberry32), so the simulation gives the same numbers every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The share of simulated paired runs of n examples in which `compare`'s test (exact McNemar) finds the
 * drop: p < alpha with more right→wrong than wrong→right.
 */
function simulatedPower(d: PairedDesign, n: number, reps: number, seed: number): number {
  const { p10, p01 } = discordantCells(d);
  const random = rng(seed);
  let detected = 0;
  for (let r = 0; r < reps; r++) {
    let worse = 0;
    let better = 0;
    for (let i = 0; i < n; i++) {
      const u = random();
      if (u < p10) worse++;
      else if (u < p10 + p01) better++;
    }
    if (worse > better && mcnemarExact(worse, better) < d.alpha) detected++;
  }
  return detected / reps;
}

describe('plan: paired sample sizes and power', () => {
  test('the normal CDF agrees with known quantiles', () => {
    assert.ok(Math.abs(normalCdf(1.959963984540054) - 0.975) < 2e-7);
    assert.ok(Math.abs(normalCdf(-0.8416212335729143) - 0.2) < 2e-7);
    assert.ok(Math.abs(normalCdf(0) - 0.5) < 2e-7);
  });

  test('discordant cells from baseline, difference and correlation, by hand', () => {
    // p1 = 0.3, p2 = 0.25, ρ = 0.5: p11 = 0.075 + 0.5·√(0.21·0.1875) = 0.124216, p10 = 0.175784,
    // p01 = 0.125784, ψ = 0.301568.
    const c = discordantCells({ baseline: 0.3, delta: 0.05, correlation: 0.5, alpha: 0.05 });
    assert.ok(Math.abs(c.p10 - (0.3 - 0.075 - 0.5 * Math.sqrt(0.21 * 0.1875))) < 1e-12);
    assert.ok(Math.abs(c.p10 - c.p01 - 0.05) < 1e-12);
    assert.equal(c.direction, 'drop');
    // Connor's formula: n = (1.959964·√ψ + 0.841621·√(ψ − 0.0025))² / 0.0025.
    const psi = c.psi;
    const n = (1.959963984540054 * Math.sqrt(psi) + 0.8416212335729143 * Math.sqrt(psi - 0.0025)) ** 2 / 0.0025;
    assert.equal(pairedSampleSize({ baseline: 0.3, delta: 0.05, correlation: 0.5, alpha: 0.05 }, 0.8), Math.ceil(n));
    // ρ = 0.9 is more than accuracies 0.3 and 0.15 allow: capped where only the drop's examples flip.
    const capped = discordantCells({ baseline: 0.3, delta: 0.15, correlation: 0.9, alpha: 0.05 });
    assert.equal(capped.capped, true);
    assert.ok(Math.abs(capped.p10 - 0.15) < 1e-12 && capped.p01 === 0);
    assert.throws(() => discordantCells({ baseline: 0.9, delta: 0.95, correlation: 0.5, alpha: 0.05 }), RangeError);
  });

  for (const [baseline, delta, correlation] of [
    [0.3, 0.05, 0.5],
    [0.5, 0.03, 0.8],
    [0.2, 0.1, 0],
  ] as const) {
    test(`a seeded simulation of the exact test agrees with the planned power (baseline ${baseline}, delta ${delta}, ρ ${correlation})`, () => {
      const d = { baseline, delta, correlation, alpha: 0.05 };
      const n = exactSampleSize(d, 0.8)!;
      // 2,000 simulated runs: the simulated power's standard error is about 0.009 at 0.8, 0.011 at 0.5.
      const sim = simulatedPower(d, n, 2000, 20241101);
      assert.ok(Math.abs(sim - 0.8) < 0.03, `n = ${n}: simulated power ${sim}`);
      assert.ok(exactPairedPower(d, n) >= 0.8);
      // Connor's normal approximation asks for fewer examples: at its n the exact test falls short.
      const approx = pairedSampleSize(d, 0.8);
      assert.ok(approx < n && exactPairedPower(d, approx) < 0.8);
      // Half the examples: exact and simulated power agree, where the approximation is ~0.05 too high.
      const half = Math.round(n / 2);
      const simHalf = simulatedPower(d, half, 2000, 7);
      assert.ok(Math.abs(simHalf - exactPairedPower(d, half)) < 0.035, `n = ${half}: simulated ${simHalf}, exact ${exactPairedPower(d, half)}`);
      assert.ok(pairedPower(d, half) > exactPairedPower(d, half));
    });
  }

  test('the minimum detectable difference has the requested power', () => {
    const d = { baseline: 0.3, correlation: 0.5, alpha: 0.05 };
    const mde = minimumDetectable(d, 456, 0.8)!;
    assert.ok(exactPairedPower({ ...d, delta: mde }, 456) >= 0.8);
    assert.ok(exactPairedPower({ ...d, delta: mde * 0.98 }, 456) < 0.8);
    assert.ok(mde > 0.05 && mde < 0.08, String(mde));
  });

  test('CLI: needed examples, the power of --limit, sizes read from the data', async () => {
    // The sample BBH data has 3 tasks; --limit 2 keeps 2 of each.
    const r = await runCli(['plan', 'bbh', '--cot', '--baseline', '30', '--delta', '5', '--limit', '2', '--data-dir', join(fixturesDir, 'data'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const [plan] = JSON.parse(r.stdout) as { needed: number; neededPerTask: number; atLimit: { examples: number; power: number; assumed: boolean }; size: { tasks: number; source: string } }[];
    const d = { baseline: 0.3, delta: 0.05, correlation: 0.5, alpha: 0.05 };
    assert.equal(plan!.needed, exactSampleSize(d, 0.8));
    assert.equal(plan!.size.tasks, 3);
    assert.equal(plan!.size.source, 'data');
    assert.equal(plan!.neededPerTask, Math.ceil(plan!.needed / 3));
    assert.equal(plan!.atLimit.examples, 6);
    assert.equal(plan!.atLimit.assumed, false);
    assert.ok(Math.abs(plan!.atLimit.power - exactPairedPower(d, 6)) < 1e-12);

    const text = await runCli(['plan', 'mgsm', '--cot', '--baseline', '30', '--delta', '5', '--limit', '10', '--icc', '0.3', '--data-dir', join(fixturesDir, 'nowhere')]);
    assert.equal(text.code, 0, text.stderr);
    // Published MGSM size: 10 languages in the average, 2,500 examples; design effect 1 + 9·0.3 = 3.7.
    assert.match(text.stdout, new RegExp(`needed: ${Math.ceil(exactSampleSize(d, 0.8)! * 3.7).toLocaleString('en-US')} examples .* the benchmark has 2,500 \\(sizes as published`));
    assert.match(text.stdout, /clustered by problem \(10 languages each, intra-problem correlation 0\.3\): ×3\.70 examples/);
    // 100 examples, design effect 3.7: the information of 27 independent ones.
    assert.match(text.stdout, new RegExp(`--limit 10: 100 examples \\(assuming every task has that many\\), power ${exactPairedPower(d, 27).toFixed(2)} for this difference`));
  });

  test('CLI: bad input is one line and exit 2', async () => {
    for (const args of [
      ['plan', 'bbh', '--delta', '2'],
      ['plan', 'bbh', '--baseline', '130', '--delta', '2'],
      ['plan', 'bbh', '--baseline', '90', '--delta', '95'],
      ['plan', 'nope', '--baseline', '30', '--delta', '2'],
      ['plan', '--baseline', '30', '--delta', '2'],
    ]) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});
