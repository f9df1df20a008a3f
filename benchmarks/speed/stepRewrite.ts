/**
 * What the load-time rewrites (src/onnx/rewrite/) do to one decoder-only step: the same synthetic batch
 * run by the export as it is, by the rewritten graph (GQA products without the repeat, logits at the
 * last position), and by the rewritten graph with the first `--prefix` columns of every row's cache given
 * once as the batch-wide prefix (as rows of one task share their few-shot block).
 *
 *   npm run build && node dist/benchmarks/speed/stepRewrite.js --model DIR [--rows 16] [--past 900] [--prefix 760] [--width 1] [--reps 5]
 *
 * `--width 1` is a decode step; a larger width a prompt chunk read over the cache. Prints the median
 * session.run time of each graph and the largest logit difference from the export's (float rounding only).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { rewriteCausal } from '../../src/onnx/rewrite/causal.js';
import { LOGITS_TO_KEEP } from '../../src/onnx/rewrite/lastLogits.js';
import { PREFIX_INPUT } from '../../src/onnx/rewrite/sharedPrefix.js';
import { loadAverage } from './machine.js';
import { filled } from './ortProfile.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { model: { type: 'string' }, rows: { type: 'string', default: '16' }, past: { type: 'string', default: '900' }, prefix: { type: 'string', default: '760' }, width: { type: 'string', default: '1' }, reps: { type: 'string', default: '5' }, threads: { type: 'string', default: '2' } } });
  if (!values.model) throw new Error('--model DIR is required');
  const [B, S, P, T, reps, threads] = [values.rows, values.past, values.prefix, values.width, values.reps, values.threads].map(Number) as [number, number, number, number, number, number];
  const cfg = JSON.parse(await readFile(join(values.model, 'config.json'), 'utf8')) as { num_hidden_layers: number; num_attention_heads: number; num_key_value_heads?: number; head_dim?: number; hidden_size: number };
  const [L, H] = [cfg.num_hidden_layers, cfg.num_attention_heads];
  const KVH = cfg.num_key_value_heads ?? H;
  const D = cfg.head_dim ?? cfg.hidden_size / H;
  const file = await readFile(join(values.model, 'onnx', 'model.onnx'));
  const options: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all', executionMode: 'sequential', intraOpNumThreads: threads, interOpNumThreads: 1 };

  // Every row's cache: the same first P columns (the shared block), then its own S - P.
  const whole: Record<string, ort.Tensor> = {};
  const shared: Record<string, ort.Tensor> = {};
  for (let l = 0; l < L; l++) {
    for (const kv of ['key', 'value']) {
      const name = `past_key_values.${l}.${kv}`;
      const block = filled([1, KVH, P, D], 2 * l + (kv === 'key' ? 1 : 2));
      const own = filled([B, KVH, S - P, D], 100 + 2 * l + (kv === 'key' ? 1 : 2));
      const data = new Float32Array(B * KVH * S * D);
      for (let b = 0; b < B; b++) {
        for (let h = 0; h < KVH; h++) {
          data.set(block.subarray(h * P * D, (h + 1) * P * D), (b * KVH + h) * S * D);
          data.set(own.subarray((b * KVH + h) * (S - P) * D, (b * KVH + h + 1) * (S - P) * D), ((b * KVH + h) * S + P) * D);
        }
      }
      whole[name] = new ort.Tensor('float32', data, [B, KVH, S, D]);
      shared[name] = new ort.Tensor('float32', own, [B, KVH, S - P, D]);
      shared[name.replace('past_key_values.', PREFIX_INPUT)] = new ort.Tensor('float32', block, [1, KVH, P, D]);
    }
  }
  const tokens = (past: number) => ({
    input_ids: new ort.Tensor('int64', BigInt64Array.from({ length: B * T }, (_, i) => BigInt(100 + (i % 997))), [B, T]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(B * (past + T)).fill(1n), [B, past + T]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: B * T }, (_, i) => BigInt(S + (i % T))), [B, T]),
  });
  const keep = { [LOGITS_TO_KEEP]: new ort.Tensor('int64', BigInt64Array.of(1n), [1]) };
  const graphs = [
    { name: 'as exported', bytes: null as Uint8Array | null, feeds: { ...tokens(S), ...whole } },
    { name: 'rewritten (GQA, last logits)', bytes: rewriteCausal(file).bytes, feeds: { ...tokens(S), ...whole, ...keep } },
    { name: `rewritten, ${P} columns as the batch-wide prefix`, bytes: rewriteCausal(file, { sharedPrefix: true }).bytes, feeds: { ...tokens(S - P), ...shared, ...keep } },
  ];
  process.stdout.write(`${B} rows × ${S} cached positions${P ? ` (${P} shared)` : ''}, ${T} new per row; ${threads} threads; load ${loadAverage()[0]}\n\n| graph | session.run, median of ${reps} | max |Δ last logits| vs as exported |\n|---|---|---|\n`);
  let reference: Float32Array | null = null;
  for (const g of graphs) {
    const session = await ort.InferenceSession.create(g.bytes ?? file, options);
    const feeds = Object.fromEntries(Object.entries(g.feeds).filter(([k]) => session.inputNames.includes(k)));
    const times: number[] = [];
    let last: Float32Array | null = null;
    for (let r = 0; r < reps + 1; r++) {
      const t = performance.now();
      const out = await session.run(feeds);
      if (r > 0) times.push(performance.now() - t); // the first run warms up
      const logits = out.logits!;
      const [, W, V] = logits.dims as [number, number, number];
      last = new Float32Array(B * V);
      for (let b = 0; b < B; b++) last.set((logits.data as Float32Array).subarray((b * W + W - 1) * V, (b * W + W) * V), b * V);
    }
    reference ??= last;
    const delta = last!.reduce((m, v, i) => Math.max(m, Math.abs(v - reference![i]!)), 0);
    process.stdout.write(`| ${g.name} | ${median(times).toFixed(0)} ms | ${delta.toExponential(1)} |\n`);
    await session.release();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`stepRewrite: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
