import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ModelShape } from '../../src/backends/types.js';
import { lengthGroups } from '../../src/backends/padding.js';
import { batchGroups, planBatches, type PlanOptions } from '../../src/runner/batching.js';
import { defaultMemoryBudget, encoderRunBytes, estimateBatch, parseMemory } from '../../src/runner/memory.js';
import { UsageError } from '../../src/errors.js';

/** flan-t5-small's config.json, as the T5 backend reports it. */
const SMALL: ModelShape = { kind: 'encoder-decoder', layers: 8, encoderLayers: 8, hidden: 512, heads: 6, kvHeads: 6, headDim: 64, ffn: 1024, vocab: 32128, bytesPerElement: 4 };
const DECODER_ONLY: ModelShape = { ...SMALL, kind: 'decoder-only', encoderLayers: 0, kvHeads: 2 };
const GENERATE = { decoderRowsPerPrompt: 1, newTokens: 128, logitPositions: 1 };

/** Token lengths with the shape of MMLU direct 5-shot prompts under the T5 tokenizer (median ~950, tail to 5,044). */
function realLengths(n: number, seed = 1): number[] {
  let x = seed;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    x = (x * 48271) % 2147483647;
    const u = x / 2147483647;
    out.push(Math.min(5044, Math.round(420 + 530 * Math.exp(1.6 * (u - 0.5) * 2))));
  }
  return out;
}

function check(lengths: number[], opts: PlanOptions) {
  const plan = planBatches(lengths, opts);
  const seen = plan.batches.flatMap((b) => b.items).sort((a, b) => a - b);
  assert.deepEqual(seen, lengths.map((_, i) => i), 'every prompt is planned exactly once');
  const over = new Set(plan.overBudget.map((o) => o.index));
  let encoder = 0;
  let decoder = 0;
  for (const b of plan.batches) {
    assert.ok(b.items.length <= opts.maxRows, `${b.items.length} rows > ${opts.maxRows}`);
    const ls = b.items.map((i) => lengths[i]!);
    // Recomputed here from the memory model, not read from the plan.
    const e = estimateBatch(opts.shape, { ...opts.work, lengths: ls }, batchGroups(opts.shape, ls));
    if (b.items.length === 1 && over.has(b.items[0]!)) assert.ok(e.total > opts.budget);
    else assert.ok(e.total <= opts.budget, `batch of ${ls.join(',')} estimates ${e.total} > budget ${opts.budget}`);
    // What the arenas hold after this batch (largest encoder and decoder peaks so far) fits too, unless
    // this batch is a single prompt (nothing smaller can run).
    if (e.total <= opts.budget) {
      encoder = Math.max(encoder, e.encoder);
      decoder = Math.max(decoder, e.decoder);
    }
    if (b.items.length > 1) assert.ok(encoder + decoder <= opts.budget, `held ${encoder + decoder} > budget ${opts.budget}`);
  }
  assert.equal(plan.heldBytes, encoder + decoder);
  return plan;
}

describe('memory model', () => {
  test('attention makes the encoder quadratic in length; rows are linear', () => {
    const one = encoderRunBytes(SMALL, { rows: 1, width: 1000 });
    const four = encoderRunBytes(SMALL, { rows: 4, width: 1000 });
    assert.ok(four > 3 * one && four < 4 * one, "rows scale it linearly, the position bias is shared");
    assert.ok(encoderRunBytes(SMALL, { rows: 1, width: 4000 }) > 10 * one, 'four times the length costs more than ten times the memory');
  });

  test("MMLU's longest direct prompt alone estimates under 4 GB with flan-t5-small's weights (~0.9 GB loaded)", () => {
    const e = estimateBatch(SMALL, { lengths: [5044], decoderRowsPerPrompt: 1, newTokens: 5, logitPositions: 1 });
    assert.ok(e.total + 0.9e9 < 4e9, `${e.total}`);
    assert.ok(e.total > 2e9, 'the attention scores of 5,044 tokens are counted');
  });

  test("scoring counts every choice's logits but each prompt's caches once (choices read them in place); fp16 halves the activations", () => {
    const gen = estimateBatch(SMALL, { lengths: [900, 900], decoderRowsPerPrompt: 1, newTokens: 3, logitPositions: 3 });
    const ll = estimateBatch(SMALL, { lengths: [900, 900], decoderRowsPerPrompt: 4, newTokens: 3, logitPositions: 3 });
    const logits = (rows: number) => 2 * 4 * rows * 3 * SMALL.vocab;
    assert.equal(ll.decoder - gen.decoder, logits(8) - logits(2));
    assert.equal(ll.encoder, gen.encoder);
    const half = estimateBatch({ ...SMALL, bytesPerElement: 2 }, { lengths: [900, 900], decoderRowsPerPrompt: 1, newTokens: 3, logitPositions: 3 });
    assert.ok(half.encoder * 2 === gen.encoder);
  });

  test('--max-memory sizes', () => {
    assert.equal(parseMemory('6GB'), 6e9);
    assert.equal(parseMemory('1500MB'), 1.5e9);
    assert.equal(parseMemory('4GiB'), 4 * 2 ** 30);
    assert.equal(parseMemory('2.5g'), 2.5e9);
    for (const bad of ['', 'lots', '6XB', '-1GB', '0']) assert.throws(() => parseMemory(bad), UsageError, bad);
    assert.equal(defaultMemoryBudget(24e9), 4e9);
  });
});

describe('batch planner', () => {
  const base: PlanOptions = { shape: SMALL, maxRows: 16, budget: 3e9, work: GENERATE };

  test('every batch stays under the budget and the row bound, on real-length prompts', () => {
    const lengths = realLengths(500);
    for (const budget of [0.5e9, 1.5e9, 3e9, 8e9]) for (const maxRows of [1, 8, 32]) check(lengths, { ...base, budget, maxRows });
    const plan = check(lengths, base);
    assert.ok(plan.batches.some((b) => b.items.length > 1), 'short prompts share batches');
  });

  test('a prompt over the budget alone runs alone and is reported with its length', () => {
    const lengths = [900, 5044, 800, 950];
    const plan = check(lengths, { ...base, budget: 1.2e9 });
    assert.deepEqual(plan.overBudget.map((o) => [o.index, o.length]), [[1, 5044]]);
    assert.deepEqual(plan.batches[0]!.items, [1]);
    assert.ok(plan.batches.slice(1).some((b) => b.items.length > 1));
  });

  test('a smaller budget gives smaller batches, never fewer', () => {
    const lengths = realLengths(200, 3);
    const roomy = planBatches(lengths, { ...base, budget: 8e9 });
    const tight = planBatches(lengths, { ...base, budget: 1e9 });
    assert.ok(tight.batches.length > roomy.batches.length);
  });

  test('deterministic: longest first, ties in input order', () => {
    const lengths = [300, 500, 300, 500, 400];
    const a = planBatches(lengths, { ...base, maxRows: 2 });
    assert.deepEqual(a.batches.map((b) => b.items), [[1, 3], [4, 0], [2]]);
    assert.deepEqual(planBatches(lengths, { ...base, maxRows: 2 }), a);
  });

  test('padded tokens stay within 5% of real tokens, on a 16-prompt sample too', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      for (const n of [16, 400]) {
        const lengths = realLengths(n, seed);
        for (const shape of [SMALL, DECODER_ONLY]) {
          const plan = check(lengths, { ...base, shape });
          assert.ok(plan.paddedTokens <= 1.05 * plan.realTokens, `${shape.kind}, ${n} prompts, seed ${seed}: ${plan.paddedTokens} padded / ${plan.realTokens} real`);
        }
      }
    }
  });

  test('decoder-only prompts are read in chunks of positions: the attention estimate grows with length, not its square', () => {
    const at = (w: number) => estimateBatch(DECODER_ONLY, { lengths: Array(16).fill(w), ...GENERATE }).decoder;
    assert.ok(at(4000) < 2.5 * at(2000), `${at(4000)} vs ${at(2000)}`);
    // Whole-prompt attention scores alone, 16 rows of 4,000 tokens, would be 18 GB.
    assert.ok(at(4000) < 4e9, `${at(4000)}`);
    // The chunk's logits ([rows, chunk, vocab], up to 256 MiB, and their copy) are counted.
    assert.ok(estimateBatch(DECODER_ONLY, { lengths: [4000], ...GENERATE }).decoder > 2 * 2 ** 28);
  });

  test('encoder groups: longest first, each within the tolerance', () => {
    assert.deepEqual(lengthGroups([100, 1000, 990, 105, 500]), [[1, 2], [4], [3, 0]]);
    assert.deepEqual(lengthGroups([7, 7, 7]), [[0, 1, 2]]);
    for (const g of lengthGroups(realLengths(300))) assert.ok(g.length >= 1);
  });
});
