import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { OnnxCausalBackend } from '../../src/backends/onnx/causal.js';
import { OnnxSeq2SeqBackend, type OnnxBackendOptions } from '../../src/backends/onnx/seq2seq.js';
import { SAMPLE_PROMPTS } from '../helpers/reference.js';
import { causalTestModelDir, testModelDir } from '../helpers/testModel.js';
import { webgpuForTests } from '../helpers/webgpu.js';

const gpu = await webgpuForTests();

/**
 * fp16 is a different computation from fp32, so it is held to tolerances rather than equality (README
 * "GPUs"). Measured on Mesa lavapipe with these models and prompts (2026-12-01): llama, 7 of 8 greedy
 * continuations identical (the other parts at token 2, where fp32's top two differ by 0.0016 nats),
 * per-token |Δ log p| at most 0.023, option |Δ loglik| at most 0.035, the same top option on 8/8; T5,
 * 7 of 8 identical (parting at token 8 over a 0.0037 gap), at most 0.017 and 0.031, 8/8. The bounds leave
 * about 2.5× margin over those maxima and stay far under what a broken fp16 path gives: scoring the fp16
 * llama on WebGPU against another seed's weights on the CPU differs by up to 11 nats.
 */
const TOKEN_LOGPROB_TOL = 0.06;
const LOGLIK_TOL = 0.1;
/**
 * A divergence (or another top option) is accepted only where fp32 on the CPU itself nearly ties: both
 * candidates' log-probabilities move by up to TOKEN_LOGPROB_TOL, so their order can swap within twice it.
 */
const NEAR_TIE = 2 * TOKEN_LOGPROB_TOL;

const MODELS = [
  { name: 'llama (decoder-only)', dir: () => causalTestModelDir('llama', 'tiny', 1, { fp16: true }), load: (o: OnnxBackendOptions) => OnnxCausalBackend.load(o) },
  { name: 'T5', dir: () => testModelDir('tiny', 1, { fp16: true }), load: (o: OnnxBackendOptions) => OnnxSeq2SeqBackend.load(o) },
];

describe('--device webgpu --dtype fp16: agreement with fp32 on the CPU', { skip: gpu.skip }, () => {
  for (const m of MODELS) test(`${m.name} fp16 on WebGPU: greedy tokens part from the CPU fp32 ones only at near-ties; token and option log-likelihoods within the documented tolerance`, async (t) => {
    const dir = await m.dir();
    const eos = (JSON.parse(await readFile(join(dir, 'generation_config.json'), 'utf8')) as { eos_token_id: number }).eos_token_id;
    const cpu = await m.load({ dir, threads: 1 });
    const fp16 = await m.load({ dir, device: 'webgpu', dtype: 'fp16' });
    assert.equal(fp16.info.device, 'webgpu');
    const graphs = fp16.info.files.filter((f) => f.endsWith('.onnx'));
    assert.ok(graphs.length > 0 && graphs.every((f) => f.endsWith('_fp16.onnx')), graphs.join(', '));

    const prompts = SAMPLE_PROMPTS.map((p) => cpu.encode(p));
    const budget = prompts.map(() => 24);
    const stops = prompts.map(() => []);
    const [a, b] = [await cpu.generateTokens(prompts, budget, stops), await fp16.generateTokens(prompts, budget, stops)];
    assert.ok(a.reduce((n, r) => n + r.tokens.length, 0) > 40, 'the prompts generate enough tokens to read the float16 cache back many times');
    let identical = 0;
    let maxTokenDelta = 0;
    const sumDeltas: number[] = [];
    for (let i = 0; i < prompts.length; i++) {
      // Compare the full sequences of picks, EOS included, so an early EOS on one side is a divergence too.
      const picks = (r: (typeof a)[number]) => (r.finishReason === 'eos' ? [...r.tokens, eos] : r.tokens);
      const [pa, pb] = [picks(a[i]!), picks(b[i]!)];
      let k = 0;
      while (k < pa.length && k < pb.length && pa[k] === pb[k]) k++;
      for (let j = 0; j < Math.min(k, a[i]!.logprobs.length); j++) maxTokenDelta = Math.max(maxTokenDelta, Math.abs(a[i]!.logprobs[j]! - b[i]!.logprobs[j]!));
      if (k === pa.length && k === pb.length) {
        identical++;
        sumDeltas.push(Math.abs(a[i]!.logprobs.reduce((x, y) => x + y, 0) - b[i]!.logprobs.reduce((x, y) => x + y, 0)));
        continue;
      }
      assert.ok(k < pa.length && k < pb.length, `prompt ${i}: one side stopped at its budget while the other went on`);
      // Where they part, fp32 on the CPU must rate fp16's pick almost as high as its own (the shared
      // prefix scores the same in both continuations, so the difference is that of the parting token).
      const [[own, theirs]] = await cpu.loglikTokens([prompts[i]!], [[[...pa.slice(0, k + 1)], [...pa.slice(0, k), pb[k]!]]]);
      t.diagnostic(`prompt ${i}: parts at token ${k} of ${pa.length}; CPU fp32 log p ${own!.toFixed(4)} (its pick) vs ${theirs!.toFixed(4)} (fp16's)`);
      assert.ok(own! - theirs! < NEAR_TIE, `prompt ${i}: fp16 parted from fp32 at token ${k} where fp32 has no near-tie (${own} vs ${theirs})`);
    }
    t.diagnostic(`greedy: ${identical}/${prompts.length} continuations identical; max per-token |Δ log p| ${maxTokenDelta.toFixed(5)}; max |Δ sum| over identical ones ${Math.max(0, ...sumDeltas).toFixed(5)}`);
    assert.ok(identical >= prompts.length / 2, `${identical}/${prompts.length} identical continuations`);
    assert.ok(maxTokenDelta < TOKEN_LOGPROB_TOL, `per-token |Δ log p| ${maxTokenDelta}`);

    const choices = [' (A)', ' (B)', ' (C)', ' (D)', ' yes', ' no'];
    const req = SAMPLE_PROMPTS.map((context) => ({ context, continuations: choices }));
    const [la, lb] = [await cpu.loglik(req), await fp16.loglik(req)];
    let maxLoglikDelta = 0;
    let sameChoice = 0;
    la.forEach((sa, i) => {
      const sb = lb[i]!;
      sa.forEach((v, j) => (maxLoglikDelta = Math.max(maxLoglikDelta, Math.abs(v - sb[j]!))));
      const best = (s: number[]) => s.indexOf(Math.max(...s));
      if (best(sa) === best(sb)) sameChoice++;
      else assert.ok(sa[best(sa)]! - sa[best(sb)]! < NEAR_TIE, `prompt ${i}: fp16 chose option ${best(sb)}, fp32 option ${best(sa)} with no near-tie`);
    });
    t.diagnostic(`scoring: the same argmax option on ${sameChoice}/${req.length}; max |Δ loglik| ${maxLoglikDelta.toFixed(5)}`);
    assert.ok(maxLoglikDelta < LOGLIK_TOL, `option |Δ loglik| ${maxLoglikDelta}`);
    assert.equal(fp16.deviceTensorsHeld, 0, 'fp16 decoding and scoring released every device tensor');
    await Promise.all([cpu.dispose(), fp16.dispose()]);
  });
});
