import { basename, join, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { loadBackend } from '../../backends/load.js';
import { DTYPES, type BackendInfo, type Dtype } from '../../backends/types.js';
import { totalmem } from 'node:os';
import { activationBudget, DEFAULT_MEMORY_DESCRIPTION, defaultMemoryBudget, formatBytes, parseMemory } from '../../runner/memory.js';
import type { PreparedBenchmark } from '../../benchmarks/adapter.js';
import { getBenchmark } from '../../benchmarks/registry.js';
import { EXIT, UsageError } from '../../errors.js';
import { resolveModel } from '../../models/resolve.js';
import { evaluateUnit, modelSlug, type RunSettings, type RunUnit, type UnitOutcome } from '../../runner/evaluate.js';
import { modelMeta } from '../../runner/model.js';
import { parseDevice } from '../../backends/onnx/device.js';
import { doctorInChild } from '../../backends/onnx/doctor.js';
import { distributeNames } from '../../runner/selection.js';
import { parseShard } from '../../runner/shard.js';
import { loadSuite } from '../../runner/suite.js';
import { checkCoverage } from '../../runner/coverage.js';
import type { ScoringMode } from '../../types.js';
import { fetchData } from '../../data/fetch.js';
import { loadPins } from '../../data/pins.js';
import { checkMirror } from '../../data/sources.js';
import { withInterruptCleanup } from '../../net/download.js';
import { Progress as DownloadProgress } from '../../net/progress.js';
import { netSettings } from '../../net/settings.js';
import { formatFor, formatOptions, readFormatFlags, wholeNumber } from '../format-flags.js';
import { setExitCode } from '../main.js';
import { commandAsTyped, summaryTable } from '../run-output.js';

/**
 * `flan-eval run <benchmark…> --model M…`: the main job. Each model in turn, each benchmark × format,
 * resumable (rerun the same command after a crash or Ctrl-C), shardable (`--shard i/n` + `merge`).
 */
export const runCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'run [benchmarks..]',
  describe: 'evaluate models on benchmarks (resumable, shardable); `run mmlu --cot` is the main job',
  builder: (y: Argv<object>) =>
    y
      .positional('benchmarks', { type: 'string', array: true, description: 'mmlu, bbh, tydiqa, mgsm (or use --suite)' })
      .options(formatOptions)
      .option('model', { type: 'string', array: true, demandOption: true, description: 'model folder (docs/protocol.md §6 layout) or a pulled hub id; repeat for several models' })
      .option('suite', { type: 'string', description: 'run a declared suite: flan-heldout, nightly, or a JSON file' })
      .option('scoring', { choices: ['generate', 'loglik'], description: 'generate (default), or loglik: pick the MMLU option with the highest log-likelihood (direct only)' })
      .option('dtype', { choices: DTYPES, default: 'fp32', description: 'model file variant: fp32, fp16 (*_fp16), q8 (*_quantized), q4 (*_q4)' })
      .option('device', { type: 'string', default: 'cpu', description: 'cpu, webgpu, cuda, cuda:N or auto (CUDA, then WebGPU, then CPU; see README "GPUs")' })
      .option('threads', { type: 'string', requiresArg: true, description: 'intra-op threads (default: all cores)' })
      .option('batch-size', { type: 'string', requiresArg: true, default: 8, description: 'at most this many examples per batch (fewer where long prompts would exceed --max-memory)' })
      .option('graph-rewrite', { type: 'boolean', default: true, description: 'decoder-only models: rewrite the export at load to do the same work with less (the GQA repeat, unread logits); --no-graph-rewrite runs the file as it is' })
      .option('max-memory', { type: 'string', description: `memory budget for the model and its batches, e.g. 6GB (default: ${DEFAULT_MEMORY_DESCRIPTION}, ${formatBytes(defaultMemoryBudget())} here)` })
      .option('concurrency', { type: 'string', requiresArg: true, default: 1, description: 'batches in flight at once' })
      .option('max-new-tokens', { type: 'string', requiresArg: true, description: 'override the per-format generation budget' })
      .option('stop', { type: 'string', array: true, description: "override the stop sequences for generation (repeat it; shell escapes such as $'\\n' for newlines)" })
      .option('shard', { type: 'string', description: 'i/n: evaluate only shard i of n (0-based); combine with `flan-eval merge`' })
      .option('out', { type: 'string', default: 'results', description: 'folder for run records and predictions' })
      .option('strict', { type: 'boolean', default: false, description: 'refuse to run when expected tasks (MMLU subjects, BBH tasks, MGSM languages) have no data files' })
      .option('download', { type: 'boolean', default: false, description: 'fetch missing benchmark data first (as `flan-eval data fetch`; $FLAN_EVAL_MIRROR is honoured)' })
      .option('save-prompts', { type: 'boolean', default: false, description: 'also write each prompt into its predictions line' })
      .option('quiet', { type: 'boolean', default: false, description: 'no progress on stderr' })
      .option('json', { type: 'boolean', default: false, description: 'print one JSON document with the results' })
      .example('$0 run mmlu --cot --model Xenova/flan-t5-small', 'MMLU 5-shot chain-of-thought')
      .example('$0 run --suite flan-heldout --model ./flan-t5-base --out results/base', "the paper's six columns") as Argv<Record<string, unknown>>,
  async handler(argv) {
    const flags = readFormatFlags(argv);
    const batchSize = wholeNumber(argv.batchSize, '--batch-size', 1)!;
    const maxMemory = argv.maxMemory === undefined ? defaultMemoryBudget() : parseMemory(String(argv.maxMemory));
    const concurrency = wholeNumber(argv.concurrency, '--concurrency', 1)!;
    const threads = wholeNumber(argv.threads, '--threads', 1);
    const maxNewTokens = wholeNumber(argv.maxNewTokens, '--max-new-tokens', 1);
    const scoring = (argv.scoring as ScoringMode | undefined) ?? 'generate';
    const shard = parseShard(argv.shard as string | undefined);
    parseDevice(argv.device as string); // a bad --device fails before any data is read
    const names = (argv.benchmarks as string[] | undefined) ?? [];

    let units: RunUnit[];
    if (argv.suite) {
      if (names.length) throw new UsageError('give either benchmarks or --suite, not both');
      // A suite fixes the formats; the selection flags narrow every run of it where they apply.
      const given = { cot: argv.cot === true, shots: argv.shots !== undefined, 'zero-shot': argv.zeroShot === true, split: argv.split !== undefined, scoring: argv.scoring !== undefined };
      for (const [flag, isGiven] of Object.entries(given)) {
        if (isGiven) throw new UsageError(`--${flag} does not combine with --suite: the suite file fixes each run's format; edit a copy of the suite instead`);
      }
      units = (await loadSuite(String(argv.suite))).units.map((u) => {
        const narrowed = formatFor(flags, getBenchmark(u.benchmark), { ignoreInapplicable: true }).selection;
        return { ...u, selection: { ...u.selection, ...(narrowed.tasks ? { tasks: narrowed.tasks } : {}), ...(flags.limit !== undefined ? { limit: flags.limit } : {}) } };
      });
    } else {
      if (!names.length) throw new UsageError('name at least one benchmark (mmlu, bbh, tydiqa, mgsm) or give --suite');
      const adapters = [...new Set(names.flatMap((n) => n.split(',')).map((n) => getBenchmark(n)))];
      units = adapters.map((adapter) => {
        const { format, selection } = formatFor(flags, adapter, { ignoreInapplicable: adapters.length > 1 });
        return { benchmark: adapter.name, format, selection, scoring };
      });
    }
    if (maxNewTokens !== undefined) units = units.map((u) => ({ ...u, maxNewTokens }));
    const stop = argv.stop as string[] | undefined;
    if (stop !== undefined) {
      if (stop.some((s) => s === '')) throw new UsageError('--stop needs a non-empty string');
      units = units.map((u) => ({ ...u, stop }));
    }

    const interrupt = { requested: false };
    const onSigint = () => {
      if (interrupt.requested) {
        process.stderr.write('\nflan-eval: interrupted again; exiting now (predictions written so far are kept)\n');
        process.exit(EXIT.interrupted);
      }
      interrupt.requested = true;
      process.stderr.write('\nflan-eval: interrupted; finishing the batches in flight (Ctrl-C again to stop at once)…\n');
    };
    process.on('SIGINT', onSigint);
    const settings: RunSettings = { dataDir: flags.dataDir, outDir: String(argv.out), batchSize, maxMemory, concurrency, shard, quiet: argv.quiet === true, savePrompts: argv.savePrompts === true, interrupt };
    // The machine's devices, for the run records; probed in a child process while the data is prepared.
    const environment = doctorInChild();
    const outcomes: UnitOutcome[] = [];
    if (argv.download) {
      const benchmarks = [...new Set(units.map((u) => u.benchmark))];
      const progress = new DownloadProgress(0);
      const pins = await loadPins();
      try {
        await withInterruptCleanup(() =>
          fetchData({ dataDir: flags.dataDir, benchmarks, pins, net: netSettings(), mirror: checkMirror(process.env.FLAN_EVAL_MIRROR), progress }),
        );
      } finally {
        progress.finish();
      }
    }
    units = await distributeNames(units, flags.dataDir);
    try {
      // Prepare every unit's prompts before loading any model, so bad data or flags fail in seconds.
      const prepared = new Map<RunUnit, PreparedBenchmark>();
      for (const u of units) prepared.set(u, await getBenchmark(u.benchmark).prepare(flags.dataDir, u.format, u.selection));
      settings.environment = await environment;
      // Expected tasks whose files are missing: named now, recorded in each record (marked partial).
      const missing = checkCoverage([...prepared].map(([unit, p]) => ({ unit, prepared: p })), await loadPins(), flags.dataDir, argv.strict === true);
      for (const u of units) if (missing.get(u)?.length) u.missingTasks = missing.get(u)!;
      for (const { spec, dir, name } of await resolveModels(argv.model as string[], argv.dtype as Dtype, settings.outDir)) {
        const backend = await loadBackend(dir, { name, dtype: argv.dtype as Dtype, device: argv.device as string, graphRewrite: argv.graphRewrite !== false, ...(threads ? { threads } : {}) });
        try {
          // Not silenced by --quiet: it changes what every number of this run means.
          if (backend.info.isTestModel) {
            process.stderr.write(`flan-eval: warning: ${spec} is a random-weight test model (make-test-model): its scores are meaningless\n`);
          }
          announceBudget(backend.info, maxMemory, argv.maxMemory !== undefined, settings.quiet);
          for (const note of backend.info.graphRewrites ?? []) if (!settings.quiet) process.stderr.write(`flan-eval: ${name}: ${note}\n`);
          const meta = await modelMeta(backend, name);
          for (const unit of units) {
            if (interrupt.requested) break;
            outcomes.push(await evaluateUnit(backend, meta, unit, settings, prepared.get(unit)));
          }
        } finally {
          await backend.dispose();
        }
        if (interrupt.requested) break;
      }
    } finally {
      process.off('SIGINT', onSigint);
    }

    const failed = outcomes.reduce((a, o) => a + o.failed, 0);
    if (argv.json) {
      process.stdout.write(`${JSON.stringify({ interrupted: interrupt.requested, failed, runs: outcomes.map((o) => ({ record: o.record ? o.recordPath : null, predictions: o.predictionsPath, benchmark: o.unit.benchmark, format: { ...o.unit.format, scoring: o.unit.scoring }, model: o.record?.model.name ?? null, score: o.record?.result.score ?? null, n: o.record?.n ?? null, failed: o.failed })) })}\n`);
    } else {
      process.stdout.write(summaryTable(outcomes));
      if (!outcomes.some((o) => o.record)) process.stderr.write('flan-eval: no run finished, so there is no summary\n');
    }
    if (interrupt.requested) {
      process.stderr.write(`flan-eval: stopped early; predictions so far are saved. Resume with the same command: ${commandAsTyped(process.argv, process.env)}\n`);
      setExitCode(argv, EXIT.interrupted);
    } else if (failed > 0) {
      process.stderr.write(`flan-eval: ${failed} example(s) failed; they count as wrong and carry an "error" field in the predictions files. Rerun the same command to retry them.\n`);
      setExitCode(argv, EXIT.failed);
    }
  },
};

/**
 * Resolve every --model before any runs. A folder is named by its last component, a hub id keeps its
 * owner/name; results go to `<out>/<name>/`. Two different models with one name (`--model a/m --model b/m`)
 * would share that folder, so they are refused here; the same model given twice runs once.
 */
async function resolveModels(specs: readonly string[], dtype: Dtype, outDir: string): Promise<{ spec: string; dir: string; name: string }[]> {
  const out: { spec: string; dir: string; name: string }[] = [];
  for (const spec of specs) {
    const dir = await resolveModel(spec, { dtype });
    const name = resolve(spec) === dir ? basename(dir) : spec;
    if (out.some((m) => m.dir === dir)) continue;
    const clash = out.find((m) => modelSlug(m.name) === modelSlug(name));
    if (clash) {
      throw new UsageError(
        `--model ${clash.spec} and --model ${spec} are different models with one name, "${name}": both would write ${join(outDir, modelSlug(name))}/. Rename one folder, or run them with different --out`,
      );
    }
    out.push({ spec, dir, name });
  }
  return out;
}

/**
 * State the memory budget at the start of every run (what the planner will keep each batch under), and
 * refuse one that the weights alone exceed.
 */
function announceBudget(info: BackendInfo, maxMemory: number, given: boolean, quiet: boolean): void {
  const left = activationBudget(maxMemory, info);
  const source = given ? '--max-memory' : `default: ${DEFAULT_MEMORY_DESCRIPTION} (${formatBytes(totalmem())}); set it with --max-memory`;
  if (left <= 0) {
    throw new UsageError(`--max-memory ${formatBytes(maxMemory)}: ${info.name} needs about ${formatBytes(maxMemory - left)} loaded, before any batch; give a larger --max-memory`);
  }
  if (!quiet) process.stderr.write(`flan-eval: memory budget ${formatBytes(maxMemory)} (${source}); model loaded ${formatBytes(maxMemory - left)}${info.heldBytes ? ` (${formatBytes(info.heldBytes)} of it kept for shared prompt prefixes)` : ''}, ${formatBytes(left)} for batches\n`);
}
