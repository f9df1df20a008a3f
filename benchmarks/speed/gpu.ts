/**
 * GPU speed and agreement (issue 13): flan-eval's backend on `--device webgpu` (fp32, fp16, and with row
 * masking instead of row gathering) against flan-eval on the CPU (the baseline every agreement figure is
 * measured against) and against Transformers.js with `device: 'webgpu'`, one prompt at a time, on the same
 * model files and prompts. Each side runs in its own process (worker.ts), one after the other. The reference
 * side drives T5 (AutoModelForSeq2SeqLM) and decoder-only models (AutoModelForCausalLM) with worker.ts's
 * CPU-bench reference code, fp32 and (`reference-webgpu-fp16`, where the folder has the `*_fp16.onnx` files)
 * fp16; besides the agreement with the CPU, each reference side's greedy tokens are compared with ours on
 * the same device and dtype (a note under the table).
 *
 *   node dist/benchmarks/speed/gpu.js --model DIR [--model DIR…] [--workloads bbh-cot,mmlu-direct-generate]
 *     [--examples 16|all] [--batch-size 16] [--threads N] [--sides cpu,webgpu,reference-webgpu,webgpu-fp16,reference-webgpu-fp16,webgpu-mask]
 *     [--data-dir DIR] [--synthetic] [--out FILE.json] [--md FILE.md]
 *
 * `--synthetic` stretches the sample prompts to the real upstream length distribution where the speed
 * workloads offer it (workloads.ts `syntheticWorkload`); otherwise the data folder's prompts are used as
 * they are, and the results say which. `--examples all` takes each distinct example of the data folder once
 * (the agreement measurement over the fixture data, README "GPUs"); a number repeats examples when the
 * folder holds fewer. GPU memory is the peak `nvidia-smi` memory.used above the level
 * before the side started (null without nvidia-smi: lavapipe has no such counter). The JSON and Markdown are
 * rewritten after every side, so a run stopped at its time limit keeps every side that finished.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { readModelFolder } from '../../src/backends/config.js';
import { loadTokenizer } from '../../src/backends/onnx/tokenizer.js';
import { SAMPLE_DATA_DIR } from '../../src/config/paths.js';
import type { Dtype } from '../../src/backends/types.js';
import { writeFileAtomic } from '../../src/util/fs.js';
import { applyStopRule, argmax } from './compare.js';
import type { ItemOutput, WorkerResult, WorkerSpec } from './worker.js';
import { log, ROOT, runWorker } from './workerProcess.js';
import * as workloads from './workloads.js';

interface SideDef {
  side: 'ours' | 'reference';
  device: string;
  dtype: Dtype;
  rowRemoval?: 'gather' | 'mask';
}

const SIDES: Record<string, SideDef> = {
  cpu: { side: 'ours', device: 'cpu', dtype: 'fp32' },
  webgpu: { side: 'ours', device: 'webgpu', dtype: 'fp32', rowRemoval: 'gather' },
  'webgpu-mask': { side: 'ours', device: 'webgpu', dtype: 'fp32', rowRemoval: 'mask' },
  'webgpu-fp16': { side: 'ours', device: 'webgpu', dtype: 'fp16', rowRemoval: 'gather' },
  'reference-webgpu': { side: 'reference', device: 'webgpu', dtype: 'fp32' },
  'reference-webgpu-fp16': { side: 'reference', device: 'webgpu', dtype: 'fp16' },
  'reference-cpu': { side: 'reference', device: 'cpu', dtype: 'fp32' },
};

export interface SideResult {
  side: string;
  examplesPerSec: number;
  tokensPerSec: number;
  seconds: number;
  steps: number;
  peakRssMB: number;
  gpuPeakMiB: number | null;
  /** Against `cpu` (flan-eval fp32 on the CPU): examples with identical greedy tokens (scoring: the same argmax choice). */
  identical: number;
  examples: number;
  /** Generation: mean and max |Δ sum of log-probabilities| over the examples with identical tokens; scoring: over every choice. */
  meanAbsLoglikDelta: number | null;
  maxAbsLoglikDelta: number | null;
  /** Generation: mean fraction of the baseline's tokens produced before the first difference. */
  tokenPrefixAgreement: number | null;
}

const run = promisify(execFile);

async function gpuMemoryMiB(): Promise<number | null> {
  try {
    const { stdout } = await run('nvidia-smi', ['--query-gpu=memory.used', '--format=csv,noheader,nounits'], { timeout: 5000 });
    return Number(stdout.trim().split('\n')[0]);
  } catch {
    return null;
  }
}

/** Run `f` while sampling GPU memory every 250 ms; the peak above the level at the start. */
async function withGpuPeak<T>(f: () => Promise<T>): Promise<{ value: T; peakMiB: number | null }> {
  const base = await gpuMemoryMiB();
  if (base === null) return { value: await f(), peakMiB: null };
  let peak = base;
  let stop = false;
  const poll = (async () => {
    while (!stop) {
      peak = Math.max(peak, (await gpuMemoryMiB()) ?? peak);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  let value: T;
  try {
    value = await f();
  } finally {
    stop = true;
    await poll;
  }
  return { value, peakMiB: peak - base };
}

function agreement(kind: 'generation' | 'scoring', ours: ItemOutput[], base: ItemOutput[], stops: string[][], decode: (ids: readonly number[]) => string): Pick<SideResult, 'identical' | 'meanAbsLoglikDelta' | 'maxAbsLoglikDelta' | 'tokenPrefixAgreement'> {
  // Item ids repeat when the data holds fewer examples than asked, so items are paired by position.
  if (kind === 'scoring') {
    const deltas = ours.flatMap((o, i) => o.scores!.map((v, k) => Math.abs(v - base[i]!.scores![k]!)));
    return {
      identical: ours.filter((o, i) => argmax(o.scores!) === argmax(base[i]!.scores!)).length,
      meanAbsLoglikDelta: deltas.reduce((x, y) => x + y, 0) / Math.max(1, deltas.length),
      maxAbsLoglikDelta: Math.max(0, ...deltas),
      tokenPrefixAgreement: null,
    };
  }
  const cut = ours.map((o, i) => applyStopRule(o.tokens!, stops[i]!, decode));
  const ref = base.map((b, i) => applyStopRule(b.tokens!, stops[i]!, decode));
  const same = cut.map((t, i) => t.length === ref[i]!.length && t.every((x, k) => x === ref[i]![k]));
  const deltas = ours.flatMap((o, i) => (same[i] && o.logprob !== undefined && base[i]!.logprob !== undefined ? [Math.abs(o.logprob - base[i]!.logprob!)] : []));
  const prefix = cut.map((t, i) => {
    const b = ref[i]!;
    let k = 0;
    while (k < b.length && t[k] === b[k]) k++;
    return b.length ? k / b.length : t.length === 0 ? 1 : 0;
  });
  return {
    identical: same.filter(Boolean).length,
    meanAbsLoglikDelta: deltas.length ? deltas.reduce((x, y) => x + y, 0) / deltas.length : null,
    maxAbsLoglikDelta: deltas.length ? Math.max(...deltas) : null,
    tokenPrefixAgreement: prefix.reduce((x, y) => x + y, 0) / Math.max(1, prefix.length),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', multiple: true },
      workloads: { type: 'string', default: 'bbh-cot,mmlu-direct-generate' },
      examples: { type: 'string', default: '16' },
      'batch-size': { type: 'string', default: '16' },
      threads: { type: 'string', default: String(availableParallelism()) },
      sides: { type: 'string', default: 'cpu,webgpu,reference-webgpu,webgpu-fp16,reference-webgpu-fp16,webgpu-mask' },
      'data-dir': { type: 'string', default: join(ROOT, SAMPLE_DATA_DIR) },
      synthetic: { type: 'boolean', default: false },
      out: { type: 'string' },
      md: { type: 'string' },
    },
  });
  const models = values.model ?? [];
  if (!models.length) throw new Error('gpu.ts: give --model DIR (a make-test-model folder)');
  const all = values.examples === 'all';
  if (all && values.synthetic) throw new Error('gpu.ts: --examples all reads the data folder as it is; give a number with --synthetic');
  const count = all ? 100_000 : Number(values.examples);
  const sides = values.sides.split(',');
  for (const s of sides) if (!SIDES[s]) throw new Error(`gpu.ts: unknown side ${s}; choose from ${Object.keys(SIDES).join(', ')}`);
  const synthetic = (workloads as { syntheticWorkload?: (def: workloads.WorkloadDef, dir: string, n: number, count: (t: string) => number) => Promise<workloads.Workload | { skipped: string }> }).syntheticWorkload;
  const tmp = await mkdtemp(join(tmpdir(), 'flan-eval-gpu-'));
  const save = async () => {
    const doc = { createdAt: new Date().toISOString(), threads: Number(values.threads), batchSize: Number(values['batch-size']), results: report };
    if (values.out) await writeFileAtomic(values.out, `${JSON.stringify(doc, null, 2)}\n`);
    if (values.md) await writeFile(values.md, markdown(report));
  };
  const report: ReportEntry[] = [];
  try {
    for (const modelDir of models) {
      const folder = await readModelFolder(modelDir);
      const tokenizer = await loadTokenizer(modelDir);
      const decode = (ids: readonly number[]) => tokenizer.decode(ids);
      // The fp16 sides need the folder's fp16 files (make-test-model --fp16 writes them).
      const hasFp16 = existsSync(join(modelDir, 'onnx', folder.modelType === 't5' ? 'decoder_model_merged_fp16.onnx' : 'model_fp16.onnx'));
      for (const name of values.workloads.split(',')) {
        const def = workloads.workloadByName(name);
        const notes: string[] = [];
        let w: workloads.Workload | { skipped: string };
        let source = 'data';
        if (values.synthetic && synthetic) {
          w = await synthetic(def, values['data-dir'], count, (t) => tokenizer.encode(t, true).length);
          source = 'synthetic (real length distribution)';
        } else {
          if (values.synthetic) notes.push('--synthetic asked, but this checkout has no syntheticWorkload: data-folder prompts used');
          w = await workloads.buildWorkload(def, values['data-dir'], count);
          if (all && !('skipped' in w)) w = { ...w, items: w.items.slice(0, w.distinct) };
        }
        if ('skipped' in w) {
          log(`${name}: skipped (${w.skipped})`);
          continue;
        }
        const work = w;
        const lengths = work.items.map((it) => tokenizer.encode(it.prompt, true).length).sort((a, b) => a - b);
        notes.push(`prompt tokens: median ${lengths[Math.floor(lengths.length / 2)]}, max ${lengths.at(-1)}`);
        const results = new Map<string, WorkerResult & { gpuPeakMiB: number | null }>();
        const stops = work.items.map((it) => it.stop);
        const entry: ReportEntry = { model: basename(modelDir), arch: folder.modelType, workload: name, source, examples: work.items.length, sides: [], notes };
        report.push(entry);
        for (const s of sides) {
          const d = SIDES[s]!;
          if (d.side === 'reference' && work.kind === 'scoring') continue;
          if (d.dtype === 'fp16' && !hasFp16) {
            notes.push(`${s}: skipped (no fp16 files in the model folder: make-test-model --fp16 writes them)`);
            continue;
          }
          const spec: WorkerSpec = { side: d.side, modelDir, threads: Number(values.threads), batchSize: Number(values['batch-size']), workload: work, device: d.device, dtype: d.dtype, ...(d.rowRemoval ? { rowRemoval: d.rowRemoval } : {}) };
          log(`${basename(modelDir)} ${name} ${s}…`);
          try {
            const { value, peakMiB } = await withGpuPeak(() => runWorker(spec, tmp, `${basename(modelDir)}-${name}-${s}`, false));
            results.set(s, { ...value, gpuPeakMiB: peakMiB });
          } catch (e) {
            notes.push(`${s}: failed (${(e as Error).message})`);
          }
          entry.sides = rows(work.kind, results, stops, decode);
          entry.notes = [...notes, ...referenceNotes(work.kind, results, stops, decode)];
          await save(); // after every side, so a run stopped at its time limit keeps what finished
        }
        entry.notes = [...notes, ...referenceNotes(work.kind, results, stops, decode)]; // skips after the last run side
        await save();
        log(markdown([entry]));
      }
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  if (!values.out && !values.md) process.stdout.write(markdown(report));
}

interface ReportEntry {
  model: string;
  arch: string;
  workload: string;
  source: string;
  examples: number;
  sides: SideResult[];
  notes: string[];
}

/** One table row per side that finished; agreement against `cpu` (flan-eval fp32 on the CPU) when it ran. */
function rows(kind: 'generation' | 'scoring', results: Map<string, WorkerResult & { gpuPeakMiB: number | null }>, stops: string[][], decode: (ids: readonly number[]) => string): SideResult[] {
  const base = results.get('cpu');
  return [...results].map(([s, r]) => ({
    side: s,
    examplesPerSec: r.examples / r.seconds,
    tokensPerSec: r.steps / r.seconds,
    seconds: r.seconds,
    steps: r.steps,
    peakRssMB: r.maxRssMB,
    gpuPeakMiB: r.gpuPeakMiB,
    examples: r.examples,
    ...(base ? agreement(kind, r.items, base.items, stops, decode) : { identical: 0, meanAbsLoglikDelta: null, maxAbsLoglikDelta: null, tokenPrefixAgreement: null }),
  }));
}

/** Each reference side against ours on the same device and dtype: the like-for-like token check behind a speed-up. */
function referenceNotes(kind: 'generation' | 'scoring', results: Map<string, WorkerResult>, stops: string[][], decode: (ids: readonly number[]) => string): string[] {
  const notes: string[] = [];
  for (const [s, r] of results) {
    const d = SIDES[s]!;
    const ours = [...results].find(([o]) => SIDES[o]!.side === 'ours' && SIDES[o]!.device === d.device && SIDES[o]!.dtype === d.dtype && SIDES[o]!.rowRemoval !== 'mask');
    if (d.side !== 'reference' || !ours) continue;
    const a = agreement(kind, r.items, ours[1].items, stops, decode);
    notes.push(`${s} vs ${ours[0]} (same files, device and dtype): identical greedy tokens ${a.identical}/${r.items.length}, token-prefix agreement ${a.tokenPrefixAgreement?.toFixed(3)}`);
  }
  return notes;
}

function markdown(report: ReportEntry[]): string {
  const f = (x: number | null, d = 2) => (x === null ? '–' : x.toFixed(d));
  const out: string[] = [];
  for (const r of report) {
    out.push(`### ${r.model} (${r.arch}) · ${r.workload} · ${r.examples} examples · prompts: ${r.source}`, '');
    out.push('| side | ex/s | tok/s | s | GPU peak MiB | RSS MB | same as cpu (tokens / choice) | token-prefix agreement | mean / max abs Δ loglik |', '|---|---|---|---|---|---|---|---|---|');
    for (const s of r.sides) {
      // Speed-ups against the reference of the same dtype (fp16 sides against reference-webgpu-fp16).
      const ref = r.sides.find((x) => x.side === (SIDES[s.side]!.dtype === 'fp16' ? 'reference-webgpu-fp16' : 'reference-webgpu'));
      const speedup = ref && SIDES[s.side]!.side === 'ours' ? ` (${(s.examplesPerSec / ref.examplesPerSec).toFixed(1)}× ref)` : '';
      out.push(`| ${s.side} | ${f(s.examplesPerSec)}${speedup} | ${f(s.tokensPerSec, 1)} | ${f(s.seconds, 1)} | ${s.gpuPeakMiB ?? '–'} | ${s.peakRssMB} | ${s.identical}/${s.examples} | ${f(s.tokenPrefixAgreement, 3)} | ${f(s.meanAbsLoglikDelta, 4)} / ${f(s.maxAbsLoglikDelta, 4)} |`);
    }
    for (const n of r.notes) out.push('', `- ${n}`);
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

if (existsSync(process.argv[1] ?? '') && process.argv[1]!.endsWith('gpu.js')) {
  main().catch((e: unknown) => {
    process.stderr.write(`gpu bench: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  });
}
