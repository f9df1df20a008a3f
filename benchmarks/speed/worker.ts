/**
 * One side of one workload, in its own process so that its peak RSS is its own: `ours` (the flan-eval
 * ONNX backend, batched) or `reference` (@huggingface/transformers, one prompt at a time, written as a
 * user of that library would write it), or `matmul` (the machine's ONNX Runtime MatMul peak).
 *
 * Usage: node worker.js <spec.json> <result.json>. Progress goes to stderr; the result to the file.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadBackend } from '../../src/backends/load.js';
import type { Dtype, RunEvent } from '../../src/backends/types.js';
import type { RowRemoval } from '../../src/backends/onnx/resident.js';
import { decodingWork, planBatches } from '../../src/runner/batching.js';
import { activationBudget, defaultMemoryBudget } from '../../src/runner/memory.js';
import { writeFileAtomic } from '../../src/util/fs.js';
import { measureMatMulPeak, type MatMulPeak } from './matmulPeak.js';
import type { Workload } from './workloads.js';

export interface WorkerSpec {
  side: 'ours' | 'reference' | 'matmul';
  modelDir: string;
  /** intra-op threads for ours and the MatMul probe; the reference keeps the library's default. */
  threads: number;
  /** Upper bound on rows per batch (ours). */
  batchSize: number;
  /** Memory budget in bytes for ours (default: flan-eval run's default). */
  maxMemory?: number;
  workload?: Workload;
  /** Device and model files for both sides (default cpu, fp32); see benchmarks/speed/gpu.ts. */
  device?: string;
  dtype?: Dtype;
  /** Ours on a GPU: how finished rows leave the batch. */
  rowRemoval?: RowRemoval;
  /** Ours: false loads decoder-only files as they are (BackendOptions.graphRewrite). */
  graphRewrite?: boolean;
}

/** How ours planned the workload (the runner's planner, at the budget given). */
export interface PlanSummary {
  batches: number;
  realTokens: number;
  /** Tokens the encoder computed, padding included. */
  paddedTokens: number;
  /** The memory model's peak: loaded model plus the largest encoder and decoder peaks planned, or a prompt over the budget alone. */
  estimatedPeakMB: number;
  budgetMB: number;
  overBudget: number;
}

export interface ItemOutput {
  id: string;
  /** Generation: generated ids with EOS excluded. */
  tokens?: number[];
  /** Decoder steps computed (generated tokens, plus the EOS step when EOS ended it). */
  steps?: number;
  /** Scoring: log-likelihood of each choice. */
  scores?: number[];
  /** Generation, ours: sum of the generated tokens' log-probabilities. */
  logprob?: number;
}

export interface WorkerResult {
  side: WorkerSpec['side'];
  loadSeconds: number;
  /** Timed part only (after one untimed warm-up example). */
  seconds: number;
  examples: number;
  steps: number;
  items: ItemOutput[];
  maxRssMB: number;
  /** Wall time inside encoder runs during the timed part (the share the decoder work cannot win back). */
  encoderSeconds: number;
  encoderRuns?: Omit<RunEvent, 'session'>[];
  matmul?: MatMulPeak;
  threads?: number;
  plan?: PlanSummary;
  /** Decoder-only models: how often a cached few-shot prefix was reused. */
  prefix?: { hits: number; computed: number; tokensReused: number };
  /** What the backend rewrote in the graph at load (BackendInfo.graphRewrites). */
  graphRewrites?: string[];
}

async function runOurs(spec: WorkerSpec, w: Workload): Promise<WorkerResult> {
  const encoderRuns: Omit<RunEvent, 'session'>[] = [];
  let recording = false;
  const t0 = performance.now();
  const backend = await loadBackend(spec.modelDir, {
    threads: spec.threads,
    ...(spec.device ? { device: spec.device } : {}),
    ...(spec.dtype ? { dtype: spec.dtype } : {}),
    ...(spec.rowRemoval ? { rowRemoval: spec.rowRemoval } : {}),
    ...(spec.graphRewrite === false ? { graphRewrite: false } : {}),
    onRun: (e) => {
      if (recording && e.session === 'encoder') encoderRuns.push({ rows: e.rows, width: e.width, ms: e.ms });
    },
  });
  const loadSeconds = (performance.now() - t0) / 1000;
  const items: ItemOutput[] = new Array(w.items.length);

  const runBatch = async (indices: number[]) => {
    const batch = indices.map((i) => w.items[i]!);
    if (w.kind === 'generation') {
      const out = await backend.generate(batch.map((it) => ({ prompt: it.prompt, maxNewTokens: w.maxNewTokens, stop: it.stop })));
      out.forEach((r, k) => (items[indices[k]!] = { id: batch[k]!.id, tokens: r.tokens, steps: r.tokens.length + (r.finishReason === 'eos' ? 1 : 0), logprob: r.logprobs.reduce((a, b) => a + b, 0) }));
    } else {
      const out = await backend.loglik(batch.map((it) => ({ context: it.prompt, continuations: it.choices! })));
      out.forEach((scores, k) => (items[indices[k]!] = { id: batch[k]!.id, scores }));
    }
  };

  await runBatch([0]); // warm-up: first-run allocations, not part of the measurement
  recording = true;
  const t1 = performance.now();
  const lengths = backend.countTokens(w.items.map((it) => it.prompt));
  const maxMemory = spec.maxMemory ?? defaultMemoryBudget();
  const budget = activationBudget(maxMemory, backend.info);
  const work = decodingWork(backend, w.kind === 'scoring' ? w.items.map((it) => it.choices ?? []) : null, w.maxNewTokens);
  const p = planBatches(lengths, { shape: backend.info.shape, maxRows: spec.batchSize, budget, work });
  for (const batch of p.batches) await runBatch(batch.items);
  const seconds = (performance.now() - t1) / 1000;
  const prefix = 'prefixStats' in backend ? (backend as { prefixStats: WorkerResult['prefix'] }).prefixStats : undefined;
  await backend.dispose();
  const encoderSeconds = encoderRuns.reduce((a, r) => a + r.ms, 0) / 1000;
  return { side: 'ours', loadSeconds, seconds, examples: w.items.length, steps: sumSteps(items), items, maxRssMB: maxRssMB(), encoderSeconds, encoderRuns, threads: backend.info.threads, graphRewrites: backend.info.graphRewrites ?? [], ...(prefix ? { prefix } : {}), plan: {
    batches: p.batches.length,
    realTokens: p.realTokens,
    paddedTokens: p.paddedTokens,
    estimatedPeakMB: Math.round((maxMemory - budget + Math.max(p.heldBytes, ...p.overBudget.map((o) => o.bytes))) / 1e6),
    budgetMB: Math.round(maxMemory / 1e6),
    overBudget: p.overBudget.length,
  } };
}

async function runReference(spec: WorkerSpec, w: Workload): Promise<WorkerResult> {
  const cfg = JSON.parse(await readFile(join(spec.modelDir, 'config.json'), 'utf8')) as { model_type?: string };
  if (cfg.model_type !== 't5') return runCausalReference(spec, w);
  // As in the Transformers.js docs: local files only, fp32 on the CPU, greedy generate() per prompt.
  const { AutoModelForSeq2SeqLM, AutoTokenizer, Tensor, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = dirname(spec.modelDir);
  const name = basename(spec.modelDir);
  const t0 = performance.now();
  const tokenizer = await AutoTokenizer.from_pretrained(name, { local_files_only: true });
  const model = await AutoModelForSeq2SeqLM.from_pretrained(name, { local_files_only: true, dtype: spec.dtype ?? 'fp32', device: (spec.device ?? 'cpu') as 'cpu' | 'webgpu' });
  const loadSeconds = (performance.now() - t0) / 1000;
  const items: ItemOutput[] = [];
  // Measurement only: time the library's encoder session (it calls session.run once per encoder pass).
  let encoderMs = 0;
  const encoder = (model as unknown as { sessions?: Record<string, { run: (...a: unknown[]) => Promise<unknown> }> }).sessions?.model;
  if (encoder) {
    const run = encoder.run.bind(encoder);
    encoder.run = async (...a: unknown[]) => {
      const s = performance.now();
      try {
        return await run(...a);
      } finally {
        encoderMs += performance.now() - s;
      }
    };
  }

  const one = async (i: number): Promise<ItemOutput> => {
    const it = w.items[i]!;
    const enc = tokenizer(it.prompt);
    if (w.kind === 'generation') {
      const out = (await model.generate({ ...enc, max_new_tokens: w.maxNewTokens, do_sample: false })) as { tolist(): bigint[][] };
      const ids = out.tolist()[0]!.slice(1).map(Number); // drop decoder_start
      const eos = ids.at(-1) === 1;
      return { id: it.id, tokens: eos ? ids.slice(0, -1) : ids, steps: ids.length };
    }
    // Scoring: one forward pass per choice, teacher-forced on [start, c1 … c(m-1)]; sum of log-softmax.
    const scores: number[] = [];
    for (const choice of it.choices!) {
      const c = tokenizer.encode(choice, { add_special_tokens: false });
      const decoderIds = [0, ...c.slice(0, -1)];
      const decoder_input_ids = new Tensor('int64', BigInt64Array.from(decoderIds.map(BigInt)), [1, decoderIds.length]);
      const { logits } = (await model({ ...enc, decoder_input_ids })) as { logits: { data: Float32Array; dims: number[] } };
      const V = logits.dims[2]!;
      let sum = 0;
      c.forEach((tok, pos) => {
        const row = logits.data.subarray(pos * V, (pos + 1) * V);
        let m = -Infinity;
        for (const v of row) if (v > m) m = v;
        let s = 0;
        for (const v of row) s += Math.exp(v - m);
        sum += row[tok]! - (m + Math.log(s));
      });
      scores.push(sum);
    }
    return { id: it.id, scores };
  };

  await one(0); // warm-up, as for ours
  encoderMs = 0;
  const t1 = performance.now();
  for (let i = 0; i < w.items.length; i++) items.push(await one(i));
  const seconds = (performance.now() - t1) / 1000;
  await model.dispose();
  return { side: 'reference', loadSeconds, seconds, examples: w.items.length, steps: sumSteps(items), items, maxRssMB: maxRssMB(), encoderSeconds: encoderMs / 1000 };
}

/**
 * The decoder-only reference: AutoModelForCausalLM, greedy generate() one prompt at a time; scoring with one
 * forward pass per choice on lm-eval's _encode_pair tokens (trailing context whitespace moved to the
 * continuation; the continuation is what the whole text has beyond the context's own tokens).
 */
async function runCausalReference(spec: WorkerSpec, w: Workload): Promise<WorkerResult> {
  const { AutoModelForCausalLM, AutoTokenizer, Tensor, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = dirname(spec.modelDir);
  const name = basename(spec.modelDir);
  const t0 = performance.now();
  const tokenizer = await AutoTokenizer.from_pretrained(name, { local_files_only: true });
  const model = await AutoModelForCausalLM.from_pretrained(name, { local_files_only: true, dtype: spec.dtype ?? 'fp32', device: (spec.device ?? 'cpu') as 'cpu' | 'webgpu' });
  const loadSeconds = (performance.now() - t0) / 1000;
  const eos = new Set([model.generation_config?.eos_token_id ?? []].flat().map(Number));
  const encode = (text: string) => tokenizer.encode(text);
  const one = async (i: number): Promise<ItemOutput> => {
    const it = w.items[i]!;
    if (w.kind === 'generation') {
      const enc = tokenizer(it.prompt);
      const n = (enc.input_ids as { dims: number[] }).dims[1]!;
      const out = (await model.generate({ ...enc, max_new_tokens: w.maxNewTokens, do_sample: false })) as { tolist(): bigint[][] };
      const ids = out.tolist()[0]!.slice(n).map(Number);
      const ended = ids.length > 0 && eos.has(ids.at(-1)!);
      return { id: it.id, tokens: ended ? ids.slice(0, -1) : ids, steps: ids.length };
    }
    const scores: number[] = [];
    for (const choice of it.choices!) {
      const trimmed = it.prompt.trimEnd();
      const ctx = encode(trimmed);
      const whole = encode(trimmed + it.prompt.slice(trimmed.length) + choice);
      const ids = [...ctx, ...whole.slice(ctx.length)];
      const input_ids = new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]);
      const attention_mask = new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
      const { logits } = (await model({ input_ids, attention_mask })) as { logits: { data: Float32Array; dims: number[] } };
      const V = logits.dims[2]!;
      let sum = 0;
      for (let k = ctx.length; k < ids.length; k++) {
        const row = logits.data.subarray((k - 1) * V, k * V);
        let m = -Infinity;
        for (const v of row) if (v > m) m = v;
        let s = 0;
        for (const v of row) s += Math.exp(v - m);
        sum += row[ids[k]!]! - (m + Math.log(s));
      }
      scores.push(sum);
    }
    return { id: it.id, scores };
  };
  await one(0); // warm-up, as for ours
  const items: ItemOutput[] = [];
  const t1 = performance.now();
  for (let i = 0; i < w.items.length; i++) items.push(await one(i));
  const seconds = (performance.now() - t1) / 1000;
  await model.dispose();
  return { side: 'reference', loadSeconds, seconds, examples: w.items.length, steps: sumSteps(items), items, maxRssMB: maxRssMB(), encoderSeconds: 0 };
}

function sumSteps(items: ItemOutput[]): number {
  return items.reduce((a, it) => a + (it.steps ?? 0), 0);
}

function maxRssMB(): number {
  return Math.round((process.resourceUsage().maxRSS * 1024) / 1e6); // maxRSS is in KiB; MB here are 10^6 bytes, as in --max-memory
}

async function main(): Promise<void> {
  const [specPath, outPath] = process.argv.slice(2);
  if (!specPath || !outPath) throw new Error('usage: worker.js <spec.json> <result.json>');
  const spec = JSON.parse(await readFile(specPath, 'utf8')) as WorkerSpec;
  let result: WorkerResult;
  if (spec.side === 'matmul') {
    const matmul = await measureMatMulPeak(spec.threads);
    result = { side: 'matmul', loadSeconds: 0, seconds: matmul.seconds, examples: 0, steps: 0, items: [], maxRssMB: maxRssMB(), encoderSeconds: 0, matmul };
  } else {
    const w = spec.workload!;
    result = spec.side === 'ours' ? await runOurs(spec, w) : await runReference(spec, w);
  }
  await writeFileAtomic(outPath, JSON.stringify(result));
}

main().catch((e: unknown) => {
  process.stderr.write(`speed worker: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
