/**
 * Where a decoder-only generation step's time goes, at the lengths of a BBH CoT run: `rows` rows that
 * already hold `past` positions of cache, one new token each per step.
 *
 *   npm run build && node dist/benchmarks/speed/profileCausal.js --model DIR [--rows 16] [--past 900] [--steps 16]
 *
 * 1. ONNX Runtime's per-operator profile (sessionOptions.enableProfiling) of the graph alone on synthetic
 *    caches: time by operator type, so the graph's own cache traffic (Concat of past and new, the Tile
 *    that repeats the key/value heads for grouped-query attention, the attention MatMuls) is told apart
 *    from the weight MatMuls and the lm head; and session.run's wall time against the profile's
 *    model_run, whose difference is onnxruntime-node's binding work (copying the outputs into JS).
 * 2. The same runs (no profiling) with pre-allocated output tensors (`session.run(feeds, fetches)`),
 *    two per cache output used in turn: onnxruntime-node 1.30 still copies each output into them (and
 *    returns a separate copy), only into memory already mapped. The gain this shows did not carry over to
 *    the backend's loop (results/llama/2026-12-01-causal-speed.md), so the backend does not do it.
 * 3. Our own per-step work timed alone: the attention mask's BigInt conversion, dropping a finished row.
 * 4. The backend's own generation loop (prompts sharing all but their last 8 tokens, so the prefix is
 *    computed once): wall time per step against the time inside session.run; the rest is ours.
 * 5. Bytes per step: weights, the cache read and written by Concat, the repeated heads written by Tile.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { OnnxCausalBackend } from '../../src/backends/onnx/causal.js';
import { takeRows } from '../../src/backends/onnx/tensors.js';
import { loadAverage } from './machine.js';
import { filled, readOpProfile } from './ortProfile.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { model: { type: 'string' }, rows: { type: 'string', default: '16' }, past: { type: 'string', default: '900' }, steps: { type: 'string', default: '16' }, threads: { type: 'string', default: '2' }, 'skip-backend': { type: 'boolean', default: false } } });
  if (!values.model) throw new Error('--model DIR is required');
  const [B, S, steps, threads] = [values.rows, values.past, values.steps, values.threads].map(Number) as [number, number, number, number];
  const cfg = JSON.parse(await readFile(join(values.model, 'config.json'), 'utf8')) as { num_hidden_layers: number; num_attention_heads: number; num_key_value_heads: number; head_dim?: number; hidden_size: number; };
  const L = cfg.num_hidden_layers;
  const KVH = cfg.num_key_value_heads;
  const H = cfg.num_attention_heads;
  const D = cfg.head_dim ?? cfg.hidden_size / H;
  const path = join(values.model, 'onnx', 'model.onnx');
  const load1 = loadAverage()[0];

  const prefix = join(values.model, '..', `causal-profile-${process.pid}`);
  const session = await ort.InferenceSession.create(path, { graphOptimizationLevel: 'all', executionMode: 'sequential', intraOpNumThreads: threads, interOpNumThreads: 1, enableProfiling: true, profileFilePrefix: prefix });
  const seedPast = (len: number) => {
    const past: Record<string, ort.Tensor> = {};
    for (let l = 0; l < L; l++) for (const kv of ['key', 'value']) past[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', filled([B, KVH, len, D], l * 2 + (kv === 'key' ? 1 : 2)), [B, KVH, len, D]);
    return past;
  };
  const feedsAt = (len: number, s: number, past: Record<string, ort.Tensor>) => ({
    input_ids: new ort.Tensor('int64', new BigInt64Array(B).fill(BigInt(100 + s)), [B, 1]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(B * (len + 1)).fill(1n), [B, len + 1]),
    ...(session.inputNames.includes('position_ids') ? { position_ids: new ort.Tensor('int64', new BigInt64Array(B).fill(BigInt(len)), [B, 1]) } : {}),
    ...past,
  });
  const presentToPast = (out: Record<string, ort.Tensor>) => {
    const past: Record<string, ort.Tensor> = {};
    for (const [name, v] of Object.entries(out)) if (name.startsWith('present.')) past[name.replace('present.', 'past_key_values.')] = v;
    return past;
  };

  // 1. Fetch everything (what the backend does today): ORT allocates the outputs and the binding copies them into JS.
  let past = seedPast(S);
  const runMs: number[] = [];
  for (let s = 0; s < steps; s++) {
    const len = S + s;
    const feeds = feedsAt(len, s, past);
    const t = performance.now();
    const out = await session.run(feeds);
    runMs.push(performance.now() - t);
    past = presentToPast(out);
  }
  session.endProfiling();
  const { byOp, opTotal, modelRunsMs: modelRuns } = await readOpProfile(prefix);

  // 2. Without profiling: every output fetched as is, then into pre-allocated buffers (two per cache
  // output, used in turn: the copy lands in memory already mapped instead of a fresh ArrayBuffer).
  const session2 = await ort.InferenceSession.create(path, { graphOptimizationLevel: 'all', executionMode: 'sequential', intraOpNumThreads: threads, interOpNumThreads: 1 });
  const cap = B * KVH * (S + steps + 1) * D;
  const pools = new Map(session2.outputNames.filter((n) => n.startsWith('present.')).map((n) => [n, [new Float32Array(cap), new Float32Array(cap)]]));
  const timed = async (pooled: boolean) => {
    past = seedPast(S);
    const ms: number[] = [];
    for (let s = 0; s < steps; s++) {
      const len = S + s;
      const feeds = feedsAt(len, s, past);
      const fetches: Record<string, ort.Tensor | null> = { logits: null };
      for (const [n, [a, b]] of pools) fetches[n] = new ort.Tensor('float32', (s % 2 ? a! : b!).subarray(0, B * KVH * (len + 1) * D), [B, KVH, len + 1, D]);
      const t = performance.now();
      const out = await (pooled ? session2.run(feeds, fetches) : session2.run(feeds));
      ms.push(performance.now() - t);
      past = presentToPast(out);
    }
    return median(ms);
  };
  const plainMs = await timed(false);
  const fetchMs = await timed(true);
  await session2.release();
  await session.release();

  // 3. Our own per-step work, timed alone at these sizes: building the attention mask (per-column BigInt
  // conversion, as before, against setting only the ones) and dropping one finished row (a copy of every
  // cache tensor, what keepRows and stateFromPrefixes do).
  const ours = (() => {
    const masks = Array.from({ length: B }, () => new Uint8Array(S + 1).fill(1));
    const time = (f: () => void) => {
      const t = performance.now();
      f();
      return performance.now() - t;
    };
    const bigintMs = time(() => {
      const data = new BigInt64Array(B * (S + 1));
      masks.forEach((m, r) => m.forEach((v, c) => (data[r * (S + 1) + c] = BigInt(v))));
    });
    const onesMs = time(() => {
      const data = new BigInt64Array(B * (S + 1));
      masks.forEach((m, r) => {
        for (let c = 0; c < S + 1; c++) if (m[c]) data[r * (S + 1) + c] = 1n;
      });
    });
    const cacheTensors = Object.values(seedPast(S));
    const keepMs = time(() => cacheTensors.forEach((t) => takeRows(t, Array.from({ length: B - 1 }, (_, i) => i))));
    return { maskBigIntPerColumnMs: +bigintMs.toFixed(1), maskOnesOnlyMs: +onesMs.toFixed(1), dropOneRowCopyMs: Math.round(keepMs) };
  })();

  // 4. The backend's loop.
  let backendReport: unknown = null;
  if (!values['skip-backend']) {
    let runMsTotal = 0;
    const runs: { width: number; ms: number }[] = [];
    const backend = await OnnxCausalBackend.load({ dir: values.model, threads, onRun: (e) => (runs.push({ width: e.width, ms: e.ms }), (runMsTotal += e.ms)) });
    const shared = Array.from({ length: S - 8 }, (_, k) => 3 + ((k * 31) % 30000));
    const prompts = Array.from({ length: B }, (_, i) => [...shared, ...Array.from({ length: 8 }, (_, k) => 5 + ((k * 13 + i * 7) % 30000))]);
    const t0 = performance.now();
    const res = await backend.generateTokens(prompts, prompts.map(() => steps), prompts.map(() => []));
    const wall = performance.now() - t0;
    await backend.dispose();
    // Steps are the width-1 runs at batch B; prefill runs are the wider ones.
    const stepRuns = runs.filter((r) => r.width === 1);
    const prefillMs = runs.filter((r) => r.width > 1).reduce((a, r) => a + r.ms, 0);
    backendReport = {
      generated: res.map((r) => r.tokens.length),
      wallMs: Math.round(wall),
      prefillRunMs: Math.round(prefillMs),
      stepRuns: stepRuns.length,
      sessionRunMsPerStep: +(stepRuns.reduce((a, r) => a + r.ms, 0) / stepRuns.length).toFixed(1),
      oursMsTotal: Math.round(wall - runMsTotal),
      oursMsPerStep: +((wall - runMsTotal) / Math.max(1, stepRuns.length)).toFixed(1),
    };
  }

  const weights = (await stat(path)).size;
  const cache = 2 * L * B * KVH * S * D * 4;
  const report = {
    rows: B, past: S, steps, threads, load1,
    graph: {
      sessionRunMsMedian: +median(runMs).toFixed(1),
      profileModelRunMsMedian: +median(modelRuns).toFixed(1),
      bindingMsPerStep: +(median(runMs) - median(modelRuns)).toFixed(1),
      unprofiledMsMedian: +plainMs.toFixed(1),
      withPreallocatedOutputsMsMedian: +fetchMs.toFixed(1),
      byOp: [...byOp.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([op, us]) => ({ op, share: +(us / opTotal).toFixed(3), msPerStep: +(us / 1000 / steps).toFixed(1) })),
    },
    ours,
    backend: backendReport,
    bytesPerStepMB: {
      weights: Math.round(weights / 1e6),
      cache: Math.round(cache / 1e6),
      concatReadWrite: Math.round((2 * cache) / 1e6),
      tileWrite: Math.round(((H / KVH) * cache) / 1e6),
      outputCopyToJs: Math.round(cache / 1e6),
    },
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`profileCausal: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
