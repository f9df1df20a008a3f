/**
 * Calibrate the memory model (src/runner/memory.ts) against measured peak RSS: each case loads the model
 * in a fresh process, runs one batch of synthetic prompts of the given token lengths, and reports the
 * process's peak RSS next to the estimate (loaded model + the batch's estimated peak).
 *
 *   npm run build && node dist/benchmarks/speed/memory.js --model DIR [--json]
 *
 * Prompts are random token ids (lengths are what memory depends on, and random prompts share no prefix:
 * the decoder-only backend's costliest case); the model is any T5 or decoder-only export, e.g. the bench's
 * flan-t5-small- or smollm2-135m-shaped test models.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadBackend } from '../../src/backends/load.js';
import type { OnnxCausalBackend } from '../../src/backends/onnx/causal.js';
import type { OnnxSeq2SeqBackend } from '../../src/backends/onnx/seq2seq.js';
import { batchGroups } from '../../src/runner/batching.js';
import { estimateBatch, RUNTIME_BYTES, weightBytes } from '../../src/runner/memory.js';
import { loadAverage } from './machine.js';

export interface MemoryCase {
  name: string;
  kind: 'generate' | 'loglik';
  lengths: number[];
  newTokens: number;
}

/** Real-length shapes: MMLU direct's longest prompt, BBH/MGSM CoT batches, MMLU scoring, a mixed batch. */
export const CASES: MemoryCase[] = [
  { name: 'mmlu-direct longest alone', kind: 'generate', lengths: [5044], newTokens: 5 },
  { name: 'mmlu-direct p95, 2 rows', kind: 'generate', lengths: [3205, 3205], newTokens: 5 },
  { name: 'bbh-cot 8 x 1000', kind: 'generate', lengths: Array(8).fill(1000), newTokens: 128 },
  { name: 'cot 16 mixed 600-1900', kind: 'generate', lengths: Array.from({ length: 16 }, (_, i) => 600 + 87 * i), newTokens: 128 },
  { name: 'mmlu loglik 8 x 950, 4 choices', kind: 'loglik', lengths: Array(8).fill(950), newTokens: 3 },
  { name: 'mmlu loglik longest alone, 4 choices', kind: 'loglik', lengths: [5044], newTokens: 3 },
  { name: 'mmlu loglik p95, 4 x 3205, 4 choices', kind: 'loglik', lengths: Array(4).fill(3205), newTokens: 3 },
];

function prompt(len: number, seed: number): number[] {
  const ids: number[] = [];
  let x = seed * 7919 + 1;
  for (let i = 0; i < len - 1; i++) {
    x = (x * 48271) % 2147483647;
    ids.push(3 + (x % 31000));
  }
  return [...ids, 1];
}

async function child(model: string, c: MemoryCase): Promise<void> {
  const backend = (await loadBackend(model)) as OnnxSeq2SeqBackend | OnnxCausalBackend;
  const loadedMB = process.memoryUsage().rss / 1e6;
  const prompts = c.lengths.map((l, i) => prompt(l, i));
  if (c.kind === 'generate') await backend.generateTokens(prompts, prompts.map(() => c.newTokens), prompts.map(() => []));
  else await backend.loglikTokens(prompts, prompts.map(() => [[3, 4, 5], [6, 7, 5], [8, 9, 5], [10, 11, 5]]));
  const shape = backend.info.shape;
  const work = c.kind === 'generate' ? { decoderRowsPerPrompt: 1, newTokens: c.newTokens, logitPositions: 1 } : { decoderRowsPerPrompt: 4, newTokens: c.newTokens, logitPositions: c.newTokens };
  const est = estimateBatch(shape, { ...work, lengths: c.lengths }, batchGroups(shape, c.lengths));
  const loaded = weightBytes(backend.info) + RUNTIME_BYTES + backend.info.heldBytes;
  process.stdout.write(
    JSON.stringify({ name: c.name, loadedMB: Math.round(loadedMB), peakMB: Math.round((process.resourceUsage().maxRSS * 1024) / 1e6), estimatedLoadedMB: Math.round(loaded / 1e6), estimatedPeakMB: Math.round((loaded + est.total) / 1e6), encoderMB: Math.round(est.encoder / 1e6), decoderMB: Math.round(est.decoder / 1e6) }),
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { model: { type: 'string' }, case: { type: 'string' }, json: { type: 'boolean', default: false } } });
  if (!values.model) throw new Error('--model DIR is required');
  if (values.case !== undefined) return child(values.model, CASES[Number(values.case)]!);
  const rows = [];
  for (let i = 0; i < CASES.length; i++) {
    const load = loadAverage()[0];
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--model', values.model, '--case', String(i)], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new Error(`case ${CASES[i]!.name}: ${r.stderr}`);
    const row = { ...JSON.parse(r.stdout), load1: load };
    rows.push(row);
    process.stderr.write(`${JSON.stringify(row)}\n`);
  }
  if (values.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
  else {
    process.stdout.write('| case | loaded MB (est.) | peak RSS MB | estimated peak MB | est. ÷ measured |\n|---|---|---|---|---|\n');
    for (const r of rows) process.stdout.write(`| ${r.name} | ${r.loadedMB} (${r.estimatedLoadedMB}) | ${r.peakMB} | ${r.estimatedPeakMB} | ${(r.estimatedPeakMB / r.peakMB).toFixed(2)} |\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`memory calibration: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
