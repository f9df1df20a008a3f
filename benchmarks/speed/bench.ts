/**
 * Speed benchmark (issue 7): the flan-eval ONNX backend against @huggingface/transformers on a
 * flan-t5-small-shaped random-weight model, and (llama/… workloads) on a smollm2-135m-shaped llama, on
 * prompts built by our own adapters.
 *
 *   npm run bench                      full run; writes benchmarks/speed/results/<date>.{json,md}
 *   npm run bench -- --quick           a few examples per workload, no files (4 min 14 s on a 2-core machine at load 2.5-2.8, all seven workloads, models already built; building the llama model once adds about a minute)
 *   npm run bench -- --json            only {"workloads":[…]} on stdout
 *
 * Every side of every workload runs in its own child process (worker.ts) so its peak RSS is its own,
 * and the sides run one after the other, never at the same time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadTokenizer } from '../../src/backends/onnx/tokenizer.js';
import { resolveDataDir, SAMPLE_DATA_DIR } from '../../src/config/paths.js';
import { parseMemory } from '../../src/runner/memory.js';
import { existsSync } from 'node:fs';
import { UsageError } from '../../src/errors.js';
import { writeFileAtomic } from '../../src/util/fs.js';
import { compareGeneration, compareScoring, type Agreement } from './compare.js';
import { encoderFlops, readEncoderShape } from './flops.js';
import { loadAverage, machineInfo, type MachineInfo } from './machine.js';
import type { MatMulPeak } from './matmulPeak.js';
import { markdownSummary } from './report.js';
import type { PlanSummary, WorkerResult } from './worker.js';
import { llamaSpeedModel, log, ROOT, runWorker, speedModel } from './workerProcess.js';
import { buildWorkload, syntheticWorkload, WORKLOADS, workloadByName, type Workload } from './workloads.js';

/** Encoder runs with at least this many rows count towards the FLOP-rate figure (issue 7: batch ≥ 8). */
export const ENCODER_MIN_ROWS = 8;

export interface SideSummary {
  examplesPerSec: number;
  tokensPerSec: number;
  seconds: number;
  /** Decoder steps (generated tokens incl. EOS) for generation; choices scored for scoring. */
  tokens: number;
  peakRssMB: number;
  loadSeconds: number;
  /** Fraction of the timed wall time spent in encoder runs. */
  encoderShare: number;
  load1: number;
}

export interface EncoderSummary {
  /** Encoder runs with ≥ ENCODER_MIN_ROWS rows. */
  runs: number;
  rows: number;
  paddedTokens: number;
  flops: number;
  seconds: number;
  flopRate: number;
  /** flopRate ÷ the MatMul probe's best rate. */
  fractionOfPeak: number;
}

export interface WorkloadResult {
  name: string;
  kind: 'generation' | 'scoring';
  /** ours examples/s ÷ reference examples/s (null when skipped). */
  ratio: number | null;
  identical: boolean | null;
  skipped?: string;
  /** `data`: the data folder's prompts; `synthetic`: sample prompts stretched to real lengths. */
  source?: 'data' | 'synthetic';
  examples?: number;
  distinctPrompts?: number;
  promptTokens?: { mean: number; median: number; max: number };
  /** ours: how the runner's planner batched the workload (padding, estimated peak, budget). */
  plan?: PlanSummary;
  maxNewTokens?: number;
  batchSize?: number;
  ours?: SideSummary;
  reference?: SideSummary;
  mismatches?: string[];
  maxAbsDelta?: number;
  encoder?: EncoderSummary | null;
  /** Decoder-only workloads: shared-prefix reuse (rows that started from a cached prefix, prefixes computed, tokens not recomputed). */
  prefix?: { hits: number; computed: number; tokensReused: number };
}

export interface BenchResult {
  date: string;
  mode: 'full' | 'quick';
  machine: MachineInfo;
  threads: number;
  model: string;
  /** The smollm2-135m-shaped llama model the llama/… workloads ran (absent when none did). */
  llamaModel?: string;
  /** What flan-eval's backend rewrote in that model's graph at load (BackendInfo.graphRewrites; [] with --no-graph-rewrite). */
  llamaGraph?: string[];
  /** The tokenizer the default model was made with (null: generated, or --model given). */
  tokenizer: string | null;
  dataDir: string;
  loadBefore: [number, number, number];
  loadAfter: [number, number, number];
  matmul: MatMulPeak;
  encoderOverall: EncoderSummary | null;
  workloads: WorkloadResult[];
}

interface Options {
  quick: boolean;
  json: boolean;
  model: string | null;
  tokenizer: string | null;
  dataDir: string;
  maxMemory: number | null;
  threads: number;
  batchSize: { generation: number; scoring: number };
  workloads: string[];
  examples: number | null;
  out: string;
  profile: boolean;
  /** false: flan-eval loads decoder-only models' files as they are (--no-graph-rewrite), for before/after runs. */
  graphRewrite: boolean;
}

/** Batch sizes by kind: a scoring batch of 8 questions is 32 decoder rows with 4 choices each. */
const DEFAULT_BATCH = { generation: 16, scoring: 8 };

function parseOptions(argv: string[]): Options {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        model: { type: 'string' },
        'data-dir': { type: 'string' },
        tokenizer: { type: 'string' },
        'max-memory': { type: 'string' },
        threads: { type: 'string' },
        'batch-size': { type: 'string' },
        workloads: { type: 'string' },
        examples: { type: 'string' },
        out: { type: 'string' },
        profile: { type: 'boolean', default: false },
        'no-graph-rewrite': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError(`bench: ${(e as Error).message}; run with --help for the flags`);
  }
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const positiveInt = (flag: string, v: string | undefined): number | null => {
    if (v === undefined) return null;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag} ${v}: expected a positive integer`);
    return n;
  };
  const batch = positiveInt('batch-size', values['batch-size']);
  const workloads = values.workloads ? values.workloads.split(',').map((s) => s.trim()).filter(Boolean) : WORKLOADS.map((w) => w.name);
  workloads.forEach(workloadByName);
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(process.cwd(), p));
  return {
    quick: values.quick,
    json: values.json,
    model: values.model ? abs(values.model) : null,
    tokenizer: benchTokenizer(values.tokenizer),
    dataDir: resolveDataDir(values['data-dir']),
    maxMemory: values['max-memory'] === undefined ? null : parseMemory(values['max-memory']),
    threads: positiveInt('threads', values.threads) ?? availableParallelism(),
    batchSize: batch ? { generation: batch, scoring: batch } : DEFAULT_BATCH,
    workloads,
    examples: positiveInt('examples', values.examples),
    out: values.out ? abs(values.out) : join(ROOT, 'benchmarks', 'speed', 'results'),
    profile: values.profile,
    graphRewrite: !values['no-graph-rewrite'],
  };
}

/**
 * The real T5 tokenizer for the default model, when it is at hand: --tokenizer, else
 * $FLAN_EVAL_BENCH_TOKENIZER, else ../shared/t5-tokenizer next to the repository; otherwise null (the
 * test model's generated tokenizer, whose prompts are shorter than real ones).
 */
function benchTokenizer(flag: string | undefined): string | null {
  const given = flag ?? process.env.FLAN_EVAL_BENCH_TOKENIZER;
  if (given !== undefined) {
    const dir = resolve(given);
    if (!existsSync(join(dir, 'tokenizer.json'))) throw new UsageError(`--tokenizer ${given}: no tokenizer.json there`);
    return dir;
  }
  const sibling = resolve(ROOT, '..', 'shared', 't5-tokenizer');
  return existsSync(join(sibling, 'tokenizer.json')) ? sibling : null;
}

const HELP = `npm run bench -- [flags]
  --quick             few examples per workload; writes no files (about 4 min on 2 cores with every workload)
  --json              print only {"workloads":[...]} on stdout
  --model DIR         model folder for the T5 workloads (default: a flan-t5-small-shaped test model, made once under
                      .cache/speed-model, with the real T5 tokenizer when one is found: see --tokenizer); the llama/…
                      workloads always use a smollm2-135m-shaped llama test model (made once under .cache/speed-model)
  --tokenizer DIR     real tokenizer for the default model (default: $FLAN_EVAL_BENCH_TOKENIZER, else
                      ../shared/t5-tokenizer beside the repository, else the test model's generated one)
  --data-dir DIR      benchmark data (default: $FLAN_EVAL_DATA or the data cache); a benchmark missing there
                      becomes a synthetic set: sample prompts stretched to the real length distribution
  --max-memory SIZE   flan-eval's memory budget, as \`run --max-memory\` (default: run's default)
  --threads N         intra-op threads for flan-eval (default: all cores); the reference keeps its default
  --batch-size N      flan-eval batch size (default: ${DEFAULT_BATCH.generation} for generation, ${DEFAULT_BATCH.scoring} questions for scoring)
  --workloads A,B     subset of: ${WORKLOADS.map((w) => w.name).join(', ')}
  --examples N        examples per workload (overrides the mode's counts)
  --out DIR           where full runs write <date>.json and <date>.md (default: benchmarks/speed/results)
  --profile           run the children under node --cpu-prof (profiles in .cache/speed-profiles)
  --no-graph-rewrite  flan-eval runs the llama model's file as exported (no GQA/logits rewrite at load), for
                      before/after comparisons
`;

function side(r: WorkerResult, load1: number): SideSummary {
  return {
    examplesPerSec: r.examples / r.seconds,
    tokensPerSec: r.steps / r.seconds,
    seconds: r.seconds,
    tokens: r.steps,
    peakRssMB: r.maxRssMB,
    loadSeconds: r.loadSeconds,
    encoderShare: r.encoderSeconds / r.seconds,
    load1,
  };
}

function encoderSummary(runs: { rows: number; width: number; ms: number }[], shape: Awaited<ReturnType<typeof readEncoderShape>>, peak: number): EncoderSummary | null {
  const big = runs.filter((r) => r.rows >= ENCODER_MIN_ROWS);
  if (!big.length) return null;
  const flops = big.reduce((a, r) => a + encoderFlops(shape, r.rows, r.width), 0);
  const seconds = big.reduce((a, r) => a + r.ms, 0) / 1000;
  return {
    runs: big.length,
    rows: big.reduce((a, r) => a + r.rows, 0),
    paddedTokens: big.reduce((a, r) => a + r.rows * r.width, 0),
    flops,
    seconds,
    flopRate: flops / seconds,
    fractionOfPeak: flops / seconds / peak,
  };
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const model = opts.model ?? (await speedModel(opts.tokenizer));
  const shape = await readEncoderShape(model);
  const tokenizer = await loadTokenizer(model);
  const tmp = await mkdtemp(join(tmpdir(), 'flan-eval-speed-'));
  const loadBefore = loadAverage();
  log(`speed benchmark (${opts.quick ? 'quick' : 'full'}): model ${model}, data ${opts.dataDir}, ${opts.threads} threads, load ${loadBefore.join(' ')}`);
  // Decoder-only workloads (llama/…) run on their own model, with its own tokenizer.
  const llama = opts.workloads.some((n) => workloadByName(n).arch === 'llama') ? await llamaSpeedModel() : null;
  const llamaTokenizer = llama ? await loadTokenizer(llama) : null;

  const base = { modelDir: model, threads: opts.threads, graphRewrite: opts.graphRewrite };
  let llamaGraph: string[] | undefined;
  const matmulRun = await runWorker({ ...base, side: 'matmul', batchSize: 1 }, tmp, 'matmul', false);
  const matmul = matmulRun.matmul!;
  log(`MatMul peak [${matmul.m}x${matmul.k}]x[${matmul.k}x${matmul.n}]: best ${(matmul.bestFlops / 1e9).toFixed(1)} GFLOP/s, median ${(matmul.medianFlops / 1e9).toFixed(1)}`);

  const results: WorkloadResult[] = [];
  const allEncoderRuns: { rows: number; width: number; ms: number }[] = [];
  for (const name of opts.workloads) {
    const def = workloadByName(name);
    const tok = def.arch === 'llama' ? llamaTokenizer! : tokenizer;
    const countTokens = (text: string) => tok.encode(text, true).length;
    const modelDir = def.arch === 'llama' ? llama! : model;
    const count = opts.examples ?? (opts.quick ? def.examples.quick : def.examples.full);
    let built = await buildWorkload(def, opts.dataDir, count);
    if ('skipped' in built) {
      log(`${name}: ${built.skipped}; using a synthetic set of real-length prompts`);
      built = await syntheticWorkload(def, join(ROOT, SAMPLE_DATA_DIR), count, countTokens);
    }
    if ('skipped' in built) {
      log(`${name}: skipped (${built.skipped})`);
      results.push({ name, kind: def.kind, ratio: null, identical: null, skipped: built.skipped });
      continue;
    }
    const w: Workload = built;
    const batchSize = opts.batchSize[w.kind];
    log(`${name}: ${w.items.length} examples (${w.distinct} distinct prompts), batch ${batchSize}`);
    const ours = await runWorker({ ...base, modelDir, side: 'ours', batchSize, ...(opts.maxMemory ? { maxMemory: opts.maxMemory } : {}), workload: w }, tmp, `${name}.ours`, opts.profile);
    const oursLoad = loadAverage()[0];
    const ref = await runWorker({ ...base, modelDir, side: 'reference', batchSize: 1, workload: w }, tmp, `${name}.reference`, opts.profile);
    const refLoad = loadAverage()[0];
    const agreement: Agreement =
      w.kind === 'generation'
        ? compareGeneration(ours.items, ref.items, w.items.map((it) => it.stop), (ids) => tok.decode(ids))
        : compareScoring(ours.items, ref.items);
    if (w.kind === 'scoring') {
      // Tokens scored: the continuation tokens of every choice (same for both sides).
      const scored = w.items.reduce((a, it) => a + it.choices!.reduce((b, c) => b + tok.encode(c, false).length, 0), 0);
      ours.steps = scored;
      ref.steps = scored;
    }
    if (def.arch === 'llama') llamaGraph = ours.graphRewrites ?? [];
    const lengths = w.items.map((it) => countTokens(it.prompt));
    const sortedLengths = [...lengths].sort((a, b) => a - b);
    if (def.arch !== 'llama') allEncoderRuns.push(...(ours.encoderRuns ?? []));
    const r: WorkloadResult = {
      name,
      kind: w.kind,
      ratio: ours.examples / ours.seconds / (ref.examples / ref.seconds),
      identical: agreement.identical,
      source: w.source,
      examples: w.items.length,
      distinctPrompts: w.distinct,
      promptTokens: { mean: Math.round(lengths.reduce((a, b) => a + b, 0) / lengths.length), median: sortedLengths[Math.floor(sortedLengths.length / 2)]!, max: Math.max(...lengths) },
      ...(ours.plan ? { plan: ours.plan } : {}),
      ...(ours.prefix ? { prefix: ours.prefix } : {}),
      ...(w.kind === 'generation' ? { maxNewTokens: w.maxNewTokens } : {}),
      batchSize,
      ours: side(ours, oursLoad),
      reference: side(ref, refLoad),
      mismatches: agreement.mismatches,
      ...(agreement.maxAbsDelta !== undefined ? { maxAbsDelta: agreement.maxAbsDelta } : {}),
      encoder: def.arch === 'llama' ? null : encoderSummary(ours.encoderRuns ?? [], shape, matmul.bestFlops),
    };
    results.push(r);
    log(
      `${name}: ours ${r.ours!.examplesPerSec.toFixed(2)} ex/s ${r.ours!.tokensPerSec.toFixed(1)} tok/s, reference ${r.reference!.examplesPerSec.toFixed(2)} ex/s ${r.reference!.tokensPerSec.toFixed(1)} tok/s → ${r.ratio!.toFixed(2)}×, identical ${r.identical}` +
        (r.plan ? `, padding ${(r.plan.paddedTokens / r.plan.realTokens).toFixed(3)}, peak RSS ${r.ours!.peakRssMB} MB (estimated ${r.plan.estimatedPeakMB})` : '') +
        (r.encoder ? `, encoder ${(r.encoder.flopRate / 1e9).toFixed(1)} GFLOP/s = ${(100 * r.encoder.fractionOfPeak).toFixed(0)}% of MatMul peak` : ''),
    );
  }
  await rm(tmp, { recursive: true, force: true });

  const bench: BenchResult = {
    date: new Date().toISOString(),
    mode: opts.quick ? 'quick' : 'full',
    machine: machineInfo(),
    threads: opts.threads,
    model: model.startsWith(ROOT) ? model.slice(ROOT.length) : model,
    ...(llama ? { llamaModel: llama.startsWith(ROOT) ? llama.slice(ROOT.length) : llama } : {}),
    ...(llamaGraph ? { llamaGraph } : {}),
    tokenizer: opts.model ? null : opts.tokenizer,
    dataDir: opts.dataDir.startsWith(ROOT) ? opts.dataDir.slice(ROOT.length) : opts.dataDir,
    loadBefore,
    loadAfter: loadAverage(),
    matmul,
    encoderOverall: encoderSummary(allEncoderRuns, shape, matmul.bestFlops),
    workloads: results,
  };

  if (opts.json) process.stdout.write(`${JSON.stringify({ workloads: results })}\n`);
  else process.stdout.write(markdownSummary(bench));
  if (!opts.quick) {
    const day = bench.date.slice(0, 10);
    await writeFileAtomic(join(opts.out, `${day}.json`), `${JSON.stringify(bench, null, 2)}\n`);
    await writeFileAtomic(join(opts.out, `${day}.md`), markdownSummary(bench));
    log(`wrote ${join(opts.out, `${day}.json`)} and ${day}.md`);
  }
}

main().catch((e: unknown) => {
  if (e instanceof UsageError) {
    process.stderr.write(`flan-eval bench: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`flan-eval bench: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
