/**
 * Where a decoder step's time goes (issue 10), on real lengths: batch rows × source tokens of cross-
 * attention cache, a self-attention cache of `past` positions.
 *
 *   npm run build && node dist/benchmarks/speed/profileDecode.js --model DIR [--rows 16] [--source 1000] [--steps 32]
 *
 * 1. ONNX Runtime's per-operator profile (sessionOptions.enableProfiling) of the decoder-with-past graph
 *    on synthetic caches: time by operator type, the graph's share.
 * 2. The backend's own generation loop on the same sizes: wall time per step against the time inside
 *    session.run (the rest is ours: tensor copies, dropping finished rows, argmax and log-softmax in JS).
 * 3. The bound: bytes a step must read (decoder weights + cross-attention cache) and what the MatMul-free
 *    memory copy rate of this machine makes of them.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { OnnxSeq2SeqBackend } from '../../src/backends/onnx/seq2seq.js';
import { loadAverage } from './machine.js';
import { filled, readOpProfile } from './ortProfile.js';

function filledTensor(dims: number[], seed: number): ort.Tensor {
  return new ort.Tensor('float32', filled(dims, seed), dims);
}

/** Copy rate of this machine (GB/s) for buffers far larger than the caches: a lower bound on reading memory. */
function copyRate(): number {
  const a = new Float32Array(64e6 / 4).fill(1);
  const b = new Float32Array(a.length);
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    b.set(a);
    best = Math.min(best, performance.now() - t);
  }
  return (2 * a.byteLength) / (best / 1000) / 1e9; // read + write
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { model: { type: 'string' }, rows: { type: 'string', default: '16' }, source: { type: 'string', default: '1000' }, steps: { type: 'string', default: '32' }, threads: { type: 'string', default: '2' } } });
  if (!values.model) throw new Error('--model DIR is required');
  const [B, S, steps, threads] = [values.rows, values.source, values.steps, values.threads].map(Number) as [number, number, number, number];
  const cfg = JSON.parse(await readFile(join(values.model, 'config.json'), 'utf8')) as { num_decoder_layers: number; num_heads: number; d_kv: number };
  const L = cfg.num_decoder_layers;
  const H = cfg.num_heads;
  const D = cfg.d_kv;
  const path = join(values.model, 'onnx', 'decoder_with_past_model.onnx');
  const load1 = loadAverage()[0];

  // 1. Per-operator profile of the graph alone.
  const prefix = join(values.model, '..', `decoder-profile-${process.pid}`);
  const session = await ort.InferenceSession.create(path, { graphOptimizationLevel: 'all', executionMode: 'sequential', intraOpNumThreads: threads, interOpNumThreads: 1, enableProfiling: true, profileFilePrefix: prefix });
  const cross: Record<string, ort.Tensor> = {};
  for (let l = 0; l < L; l++) for (const kv of ['key', 'value']) cross[`past_key_values.${l}.encoder.${kv}`] = filledTensor([B, H, S, D], l * 2 + (kv === 'key' ? 1 : 2));
  const mask = new ort.Tensor('int64', new BigInt64Array(B * S).fill(1n), [B, S]);
  let past: Record<string, ort.Tensor> = {};
  for (let l = 0; l < L; l++) for (const kv of ['key', 'value']) past[`past_key_values.${l}.decoder.${kv}`] = filledTensor([B, H, 1, D], 99 + l);
  const runMs: number[] = [];
  for (let s = 0; s < steps; s++) {
    const input_ids = new ort.Tensor('int64', new BigInt64Array(B).fill(BigInt(100 + s)), [B, 1]);
    const t = performance.now();
    const out = await session.run({ input_ids, encoder_attention_mask: mask, ...past, ...cross });
    runMs.push(performance.now() - t);
    past = {};
    for (const [name, v] of Object.entries(out)) if (name.startsWith('present.')) past[name.replace('present.', 'past_key_values.')] = v;
  }
  session.endProfiling();
  await session.release();
  const { byOp, opTotal, modelRunsMs } = await readOpProfile(prefix);
  const sessionRun = modelRunsMs.reduce((a, ms) => a + ms * 1000, 0);
  const median = [...runMs].sort((a, b) => a - b)[Math.floor(runMs.length / 2)]!;

  // 2. The backend's loop on the same sizes (ids of one repeated token: no EOS for a random model is not
  // guaranteed, so steps are what ran).
  let decoderMs = 0;
  let decoderRuns = 0;
  let encoderMs = 0;
  const backend = await OnnxSeq2SeqBackend.load({ dir: values.model, threads, onRun: (e) => (e.session === 'decoder' ? ((decoderMs += e.ms), decoderRuns++) : (encoderMs += e.ms)) });
  const prompts = Array.from({ length: B }, (_, i) => [...Array.from({ length: S - 1 }, (_, k) => 3 + ((k * 31 + i * 7) % 30000)), 1]);
  const t0 = performance.now();
  const res = await backend.generateTokens(prompts, prompts.map(() => steps), prompts.map(() => []));
  const wall = performance.now() - t0;
  await backend.dispose();

  // 3. The bound.
  const weights = (await stat(path)).size;
  const crossBytes = 2 * L * B * H * S * D * 4;
  const rate = copyRate();
  const report = {
    rows: B, source: S, steps, threads, load1,
    graph: {
      stepMsMedian: +median.toFixed(1),
      opShareOfRun: +(opTotal / sessionRun).toFixed(3),
      byOp: [...byOp.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([op, us]) => ({ op, share: +(us / opTotal).toFixed(3), msPerStep: +(us / 1000 / steps).toFixed(2) })),
    },
    backend: {
      generated: res.map((r) => r.tokens.length),
      wallMs: Math.round(wall), encoderMs: Math.round(encoderMs), decoderRunMs: Math.round(decoderMs), decoderRuns,
      oursMs: Math.round(wall - encoderMs - decoderMs),
      oursMsPerStep: +((wall - encoderMs - decoderMs) / decoderRuns).toFixed(2),
      decoderMsPerStep: +(decoderMs / decoderRuns).toFixed(1),
    },
    bound: { weightsMB: Math.round(weights / 1e6), crossCacheMB: Math.round(crossBytes / 1e6), copyRateGBs: +rate.toFixed(1), readMsPerStep: +(((weights + crossBytes) / (rate / 2) / 1e9) * 1000).toFixed(1) },
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`profileDecode: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
