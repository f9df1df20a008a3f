import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import ort from 'onnxruntime-node';
import { bestPrefix, PrefixCache } from '../../src/backends/onnx/prefixCache.js';

describe('shared-prefix cache: which prefix to compute', () => {
  test('the length that saves the most tokens, not the longest shared with any one prompt', () => {
    // 14 prompts share 760 tokens with this one; one shares 765 (its question starts with the same words).
    assert.equal(bestPrefix([765, ...new Array<number>(14).fill(760)], 32), 760);
    // Only a pair shares anything: their whole common part.
    assert.equal(bestPrefix([900, 3, 0], 32), 900);
    // A short common header shared by many loses to a long block shared by a few.
    assert.equal(bestPrefix([760, 760, 760, ...new Array<number>(12).fill(40)], 32), 760);
    // Below minTokens nothing is worth a run.
    assert.equal(bestPrefix([31, 20], 32), 0);
  });

  test('a subject\'s questions all start from one computed block, even where two share a few tokens more', async () => {
    const block = Array.from({ length: 100 }, (_, k) => 1000 + k);
    const prompts = Array.from({ length: 16 }, (_, i) => [...block, ...(i < 2 ? [7, 7, 7, 7, 7] : []), 50 + i, 60 + i]);
    const computed: number[] = [];
    const cache = new PrefixCache();
    const plans = await cache.plan(prompts, (ids) => {
      computed.push(ids.length);
      return Promise.resolve({ k: new ort.Tensor('float32', new Float32Array(ids.length), [1, 1, ids.length, 1]) });
    });
    assert.deepEqual(computed, [100]);
    assert.deepEqual(plans.map((p) => p.length), new Array<number>(16).fill(100));
    assert.deepEqual(cache.stats, { hits: 16, computed: 1, tokensReused: 1600 });
  });
});
