/**
 * One side of one workload, in its own process so that its peak RSS is its own: `ours` (the flan-eval
 * ONNX backend, batched) or `reference` (@huggingface/transformers, one prompt at a time, written as a
 * user of that library would write it), or `matmul` (the machine's ONNX Runtime MatMul peak).
 *
 * Usage: node worker.js <spec.json> <result.json>. Progress goes to stderr; the result to the file.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadBackend } from '../../src/backends/load.js';
import type { Dtype, RunEvent } from '../../src/backends/types.js';
import type { RowRemoval } from '../../src/backends/onnx/resident.js';
import { planBatches } from '../../src/backends/types.js';
import { writeFileAtomic } from '../../src/util/fs.js';
import { measureMatMulPeak, type MatMulPeak } from './matmulPeak.js';
import type { Workload } from './workloads.js';

export interface WorkerSpec {
  side: 'ours' | 'reference' | 'matmul';
  modelDir: string;
  /** intra-op threads for ours and the MatMul probe; the reference keeps the library's default. */
  threads: number;
  batchSize: number;
  workload?: Workload;
  /** Device and model files for both sides (default cpu, fp32); see benchmarks/speed/gpu.ts. */
  device?: string;
  dtype?: Dtype;
  /** Ours on a GPU: how finished rows leave the batch. */
  rowRemoval?: RowRemoval;
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
  for (const batch of planBatches(lengths, spec.batchSize)) await runBatch(batch);
  const seconds = (performance.now() - t1) / 1000;
  await backend.dispose();
  const encoderSeconds = encoderRuns.reduce((a, r) => a + r.ms, 0) / 1000;
  return { side: 'ours', loadSeconds, seconds, examples: w.items.length, steps: sumSteps(items), items, maxRssMB: maxRssMB(), encoderSeconds, encoderRuns, threads: backend.info.threads };
}

async function runReference(spec: WorkerSpec, w: Workload): Promise<WorkerResult> {
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

function sumSteps(items: ItemOutput[]): number {
  return items.reduce((a, it) => a + (it.steps ?? 0), 0);
}

function maxRssMB(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024); // maxRSS is in KiB
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
