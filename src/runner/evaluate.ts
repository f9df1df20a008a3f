import { basename, join } from 'node:path';
import type { DoctorReport } from '../backends/onnx/doctor.js';
import pLimit from 'p-limit';
import type { PreparedBenchmark, PreparedItem } from '../benchmarks/adapter.js';
import { getBenchmark } from '../benchmarks/registry.js';
import type { ModelBackend } from '../backends/types.js';
import { decodingWork, planBatches } from './batching.js';
import { activationBudget, formatBytes } from './memory.js';
import { UsageError } from '../errors.js';
import type { BenchmarkName, DecodingSettings, ItemScore, PredictionLine, PromptFormat, RunRecord, ScoringMode, Selection } from '../types.js';
import { sha256, writeFileAtomic } from '../util/fs.js';
import { hashFiles } from './hashing.js';
import { Progress } from './progress.js';
import { inShard, type Shard } from './shard.js';
import { isPerExampleFailure } from './failures.js';
import { PredictionStore } from './store.js';
import { VERSION } from '../version.js';
import { compareIds } from './ids.js';

/** One benchmark × format to evaluate (a line of a suite, or the flags of `run`). */
export interface RunUnit {
  benchmark: BenchmarkName;
  format: PromptFormat;
  selection: Selection;
  scoring: ScoringMode;
  /** Overrides the benchmark's default for the format. */
  maxNewTokens?: number;
  /**
   * Overrides the benchmark's stop sequences for generation (EOS always stops). Scoring still cuts each
   * prediction at the benchmark's own stop sequence (docs/protocol.md §4).
   */
  stop?: string[];
  /** Expected tasks with no data files (runner/coverage.ts); the record lists them and reads as partial. */
  missingTasks?: string[];
}

export interface RunSettings {
  dataDir: string;
  outDir: string;
  /** Upper bound on prompts per batch. */
  batchSize: number;
  /** Memory budget in bytes (`--max-memory`): weights plus every batch's estimated peak stay under it. */
  maxMemory: number;
  concurrency: number;
  shard: Shard | null;
  quiet: boolean;
  /** Write each example's prompt into its predictions line (`run --save-prompts`). */
  savePrompts?: boolean;
  /** Set by the SIGINT handler: no new batches start; in-flight ones finish and are written. */
  interrupt: { requested: boolean };
  /** `flan-eval doctor --json` of this machine, stored in each record's runtime (null if it failed). */
  environment?: DoctorReport | null;
}

export interface UnitOutcome {
  unit: RunUnit;
  record: RunRecord | null;
  recordPath: string;
  predictionsPath: string;
  failed: number;
  interrupted: boolean;
  reused: number;
}

/** File-name stem of a unit: `mmlu_cot_5shot_val`, `mmlu_direct_5shot_val_loglik`, `… _shard1of4`. */
export function unitStem(unit: RunUnit, shard: Shard | null): string {
  const parts: string[] = [unit.benchmark, unit.format.cot ? 'cot' : 'direct', `${unit.format.shots}shot`];
  if (unit.selection.split) parts.push(unit.selection.split);
  if (unit.scoring === 'loglik') parts.push('loglik');
  if (unit.selection.tasks?.length) parts.push(`tasks-${sha256([...unit.selection.tasks].sort().join(',')).slice(0, 8)}`);
  if (unit.selection.limit !== undefined) parts.push(`limit${unit.selection.limit}`);
  if (shard) parts.push(`shard${shard.index}of${shard.count}`);
  return parts.join('_');
}

export function modelSlug(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '--').replace(/^[.-]+/, '') || 'model';
}

/**
 * Evaluate one unit with one model: prepare prompts, skip what an earlier (interrupted) run of the same
 * configuration already predicted, run the rest in length-sorted batches with bounded concurrency,
 * append predictions as batches finish, then score and write the run record atomically.
 */
export async function evaluateUnit(
  backend: ModelBackend,
  model: RunRecord['model'],
  unit: RunUnit,
  settings: RunSettings,
  /** The unit's prompts if the caller has built them already (they are a pure function of the data). */
  preparedAlready?: PreparedBenchmark,
): Promise<UnitOutcome> {
  const started = Date.now();
  const adapter = getBenchmark(unit.benchmark);
  const prepared = preparedAlready ?? (await adapter.prepare(settings.dataDir, unit.format, unit.selection));
  if (unit.scoring === 'loglik' && prepared.items.some((i) => !i.choices?.length)) {
    throw new UsageError(`--scoring loglik: ${unit.benchmark} ${unit.format.cot ? 'CoT' : 'direct'} items have no answer options to score; loglik applies to MMLU direct`);
  }
  const items = prepared.items.filter((i) => inShard(i.id, settings.shard));
  const data = await hashFiles(settings.dataDir, prepared.files);
  const maxNewTokens = unit.maxNewTokens ?? adapter.maxNewTokens(unit.format);
  const decoding = decodingRecord(unit, items, maxNewTokens);
  const promptHash = new Map(items.map((i) => [i.id, sha256(i.prompt)]));
  const promptsHash = sha256(items.map((i) => `${i.id}\t${promptHash.get(i.id)}\n`).sort().join(''));
  const split = unit.selection.split ?? null;
  const configHash = sha256(
    JSON.stringify({ benchmark: unit.benchmark, format: unit.format, split, scoring: unit.scoring, decoding, model: model.hash, data: data.hash }),
  );

  const base = join(settings.outDir, modelSlug(model.name), unitStem(unit, settings.shard));
  const recordPath = `${base}.json`;
  const predictionsPath = `${base}.predictions.jsonl`;
  const store = await PredictionStore.open(predictionsPath, configHash, model);
  if (store.movedAside && !settings.quiet) {
    process.stderr.write(`flan-eval: ${predictionsPath} was made with another configuration; moved it to ${basename(store.movedAside)} and starting afresh\n`);
  }
  const reusable = (i: PreparedItem) => {
    const p = store.existing.get(i.id);
    return p !== undefined && p.error === undefined && p.promptHash === promptHash.get(i.id);
  };
  const todo = items.filter((i) => !reusable(i));
  const reused = items.length - todo.length;
  const label = `${model.name} ${unit.benchmark} ${unit.format.cot ? 'cot' : 'direct'} ${unit.format.shots}-shot${settings.shard ? ` shard ${settings.shard.index}/${settings.shard.count}` : ''}`;
  if (reused && !settings.quiet) process.stderr.write(`${label}: resuming, ${reused} of ${items.length} already predicted\n`);
  const progress = new Progress(label, items.length, settings.quiet);
  if (reused) progress.resume(reused);

  let generatedTokens = 0;
  const lengths = backend.countTokens(todo.map((i) => i.prompt));
  const plan = planBatches(lengths, {
    shape: backend.info.shape,
    maxRows: settings.batchSize,
    // Concurrent batches share the budget.
    budget: activationBudget(settings.maxMemory, backend.info) / settings.concurrency,
    work: decodingWork(backend, unit.scoring === 'loglik' ? todo.map((i) => i.choices ?? []) : null, maxNewTokens),
  });
  for (const o of plan.overBudget) {
    process.stderr.write(`flan-eval: warning: ${todo[o.index]!.id} (${o.length} prompt tokens) needs about ${formatBytes(o.bytes)} alone, over the --max-memory budget; running it by itself\n`);
  }
  const batches = plan.batches.map((b) => b.items.map((k) => todo[k]!));
  const limit = pLimit(settings.concurrency);
  const runBatch = async (batch: PreparedItem[]): Promise<void> => {
    if (settings.interrupt.requested) return;
    let lines: PredictionLine[];
    try {
      lines = await predict(backend, batch, unit, maxNewTokens, promptHash);
    } catch (batchError) {
      // Isolate the failing example(s): retry one by one, recording each runtime error that remains. A bug
      // (TypeError, InternalError, …) is never recorded as a failed example: it stops the run (failures.ts).
      if (!isPerExampleFailure(batchError)) throw batchError;
      lines = [];
      for (const item of batch) {
        try {
          lines.push(...(await predict(backend, [item], unit, maxNewTokens, promptHash)));
        } catch (e) {
          if (!isPerExampleFailure(e)) throw e;
          lines.push({ id: item.id, task: item.task, target: item.target, promptHash: promptHash.get(item.id)!, prediction: '', answer: '', correct: false, error: String((e as Error)?.message ?? e).split('\n')[0]! });
        }
      }
    }
    const byId = new Map(batch.map((i) => [i.id, i]));
    lines = lines.map((l) => (l.error ? l : withScore(l, adapter.scoreItem(byId.get(l.id)!, l.prediction, unit.format))));
    await store.append(lines);
    const tokens = lines.reduce((a, l) => a + (l.tokens ?? 0), 0);
    generatedTokens += tokens;
    progress.advance(lines.length, tokens);
  };
  // The first error that stops the run: queued batches are skipped, those in flight finish and are written
  // (so a rerun resumes after the fix), then it is rethrown.
  const stopping: { error: unknown }[] = [];
  const guarded = async (b: PreparedItem[]): Promise<void> => {
    if (stopping.length) return;
    try {
      await runBatch(b);
    } catch (error) {
      stopping.push({ error });
    }
  };
  try {
    await Promise.all(batches.map((b) => limit(() => guarded(b))));
  } finally {
    await store.close();
  }
  if (stopping.length) throw stopping[0]!.error;
  progress.finish();
  // Done means a line for this very prompt (an error line counts: that example was tried and recorded).
  const done = items.filter((i) => store.existing.get(i.id)?.promptHash === promptHash.get(i.id)).length;
  if (settings.interrupt.requested && done < items.length) {
    return { unit, record: null, recordPath, predictionsPath, failed: 0, interrupted: true, reused };
  }

  const scores = new Map<string, ItemScore>();
  let failed = 0;
  for (const item of items) {
    const p = store.existing.get(item.id)!;
    if (p.error !== undefined) failed++;
    scores.set(item.id, { answer: p.answer, correct: p.correct, ...(p.metrics ? { metrics: p.metrics } : {}) });
  }
  // Rewrite the predictions in id order, one line per id (a retried error leaves two lines behind): the
  // finished file is the same whatever the batch size, concurrency, shard or resume point.
  // Every line gets its target, and with --save-prompts its prompt (lines an earlier run predicted too);
  // without --save-prompts no prompt is kept, so the file depends only on this run's flags.
  const byIdAll = new Map(items.map((i) => [i.id, i]));
  const finalLine = (id: string) => withTargetAndPrompt(store.existing.get(id)!, byIdAll.get(id)!.target, settings.savePrompts ? byIdAll.get(id)!.prompt : undefined);
  await writeFileAtomic(predictionsPath, items.map((i) => i.id).sort(compareIds).map((id) => `${JSON.stringify(finalLine(id))}\n`).join(''));
  const wallSeconds = (Date.now() - started) / 1000;
  const record: RunRecord = {
    schema: 'flan-eval/run-record@1',
    createdAt: new Date().toISOString(),
    model,
    benchmark: unit.benchmark,
    format: { ...unit.format, split, scoring: unit.scoring },
    decoding,
    data,
    promptsHash,
    configHash,
    selection: { tasks: unit.selection.tasks ?? null, limit: unit.selection.limit ?? null, shard: settings.shard },
    ...(unit.missingTasks?.length ? { missingTasks: [...unit.missingTasks] } : {}),
    result: adapter.aggregate(items, scores),
    n: items.length,
    failed,
    predictions: basename(predictionsPath),
    versions: VERSION,
    runtime: {
      device: 'device' in backend.info ? backend.info.device : 'unknown',
      threads: backend.info.threads,
      batchSize: settings.batchSize,
      wallSeconds,
      examplesPerSecond: todo.length / Math.max(wallSeconds, 1e-9),
      generatedTokensPerSecond: unit.scoring === 'generate' ? generatedTokens / Math.max(wallSeconds, 1e-9) : null,
      environment: settings.environment ?? null,
    },
  };
  await writeFileAtomic(recordPath, `${JSON.stringify(record, null, 2)}\n`);
  return { unit, record, recordPath, predictionsPath, failed, interrupted: false, reused };
}

/**
 * The decoding settings as they ran. Each item generates with its own stop sequences (MGSM's are the
 * language's question word), so when tasks differ `stop` lists only those every task used and `stopByTask`
 * gives each task its own; a union would name stops that no item ever ran with.
 */
function decodingRecord(unit: RunUnit, items: readonly PreparedItem[], maxNewTokens: number): DecodingSettings {
  if (unit.stop) return { maxNewTokens, stop: [...unit.stop] };
  const byTask = new Map<string, Set<string>>();
  for (const i of items) {
    const set = byTask.get(i.task) ?? new Set<string>();
    for (const s of i.stop) set.add(s);
    byTask.set(i.task, set);
  }
  const lists = [...byTask.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([task, set]) => [task, [...set].sort()] as const);
  const keys = new Set(lists.map(([, stops]) => JSON.stringify(stops)));
  if (keys.size <= 1) return { maxNewTokens, stop: lists[0] ? [...lists[0][1]] : [] };
  const common = lists[0]![1].filter((s) => lists.every(([, stops]) => stops.includes(s)));
  return { maxNewTokens, stop: common, stopByTask: Object.fromEntries(lists.map(([task, stops]) => [task, [...stops]])) };
}

/** The line with its score, keys in a fixed order (id, task, promptHash, prediction, answer, correct, …). */
function withScore(l: PredictionLine, s: ItemScore): PredictionLine {
  const { id, task, target, promptHash, prediction, ...rest } = l;
  return {
    id,
    task,
    ...(target !== undefined ? { target } : {}),
    promptHash,
    prediction,
    answer: s.answer,
    correct: s.correct,
    ...(rest.cluster !== undefined ? { cluster: rest.cluster } : {}),
    ...(s.metrics ? { metrics: s.metrics } : {}),
    ...(rest.loglik ? { loglik: rest.loglik } : {}),
    ...(rest.tokens !== undefined ? { tokens: rest.tokens } : {}),
  };
}

/** The line with `target`, then `prompt` (none when undefined), after id and task; other keys keep their order. */
function withTargetAndPrompt(l: PredictionLine, target: string, prompt: string | undefined): PredictionLine {
  const { id, task, target: _target, prompt: _prompt, ...rest } = l;
  void _target;
  void _prompt;
  return { id, task, target, ...(prompt !== undefined ? { prompt } : {}), ...rest };
}

/** Run one batch through the backend; lines carry the raw prediction (scored by the caller). */
async function predict(backend: ModelBackend, batch: PreparedItem[], unit: RunUnit, maxNewTokens: number, promptHash: Map<string, string>): Promise<PredictionLine[]> {
  const base = (i: PreparedItem) => ({ id: i.id, task: i.task, target: i.target, promptHash: promptHash.get(i.id)!, prediction: '', answer: '', correct: false, ...(i.cluster !== undefined ? { cluster: i.cluster } : {}) });
  if (unit.scoring === 'loglik') {
    const ll = await backend.loglik(batch.map((i) => ({ context: i.prompt, continuations: i.choices! })));
    return batch.map((item, k) => {
      const row = ll[k]!;
      const best = row.indexOf(Math.max(...row)); // first of equal maxima, deterministic
      return { ...base(item), prediction: item.choices![best]!, loglik: row };
    });
  }
  const out = await backend.generate(batch.map((i) => ({ prompt: i.prompt, maxNewTokens, stop: unit.stop ?? i.stop })));
  return batch.map((item, k) => ({ ...base(item), prediction: out[k]!.text, tokens: out[k]!.tokens.length }));
}
