import type { Argv, CommandModule } from 'yargs';
import type { PreparedItem } from '../../benchmarks/adapter.js';
import { notice } from '../../benchmarks/common.js';
import { getBenchmark } from '../../benchmarks/registry.js';
import { InputError, unknownName, UsageError } from '../../errors.js';
import { lmEvalJson, lmEvalTable, rescoreLmEval } from '../../lmeval/rescore.js';
import type { BenchmarkScore, ItemScore, PromptFormat, Selection } from '../../types.js';
import { parsePredictions, requireWhole } from '../../results/predictionsJsonl.js';
import { readText, sha256 } from '../../util/fs.js';
import { describeFormat, formatOptions, parseFormatFlags } from '../format-flags.js';

/**
 * `flan-eval score <benchmark>`: score predictions from any source (`{"id", "prediction"}` lines, e.g.
 * the predictions JSONL of `run`, or another system's outputs for the prompts of `flan-eval prompts`)
 * with the benchmark's docs/protocol.md §4 rules. Items without a prediction count as wrong and are reported.
 */
export const scoreCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'score <benchmark>',
  describe: 'score a predictions JSONL file ({"id", "prediction"} lines) against the data',
  builder: (y: Argv<object>) =>
    y
      .positional('benchmark', { type: 'string', description: 'mmlu, bbh, tydiqa or mgsm' })
      .options(formatOptions)
      .option('predictions', {
        type: 'string',
        array: true,
        demandOption: true,
        description: 'JSONL file with one {"id", "prediction"} object per line; with --from lm-eval, its samples_<task>_<date>.jsonl files or their folder',
      })
      .option('from', { type: 'string', description: 'lm-eval: read lm-evaluation-harness 0.4 --log_samples output and re-score its raw generations' })
      .option('json', { type: 'boolean', default: false, description: 'print one JSON document instead of a table' })
      .example('$0 score bbh --cot --predictions preds.jsonl --data-dir data', 'score BBH CoT outputs')
      .example('$0 score bbh --cot --from lm-eval --predictions lm-eval-out/model/', 're-score lm-eval bbh_cot_fewshot_* samples') as Argv<Record<string, unknown>>,
  async handler(argv) {
    const adapter = getBenchmark(String(argv.benchmark));
    const { format, selection, dataDir } = parseFormatFlags(argv, adapter);
    const given = (argv.predictions as string[] | undefined) ?? [];
    if (argv.from !== undefined) {
      if (argv.from !== 'lm-eval') throw unknownName('--from', String(argv.from), ['lm-eval']);
      if (given.length === 0) throw new UsageError('--predictions needs lm-eval samples_<task>_<date>.jsonl files or their folder');
      const r = await rescoreLmEval(adapter, format, selection, dataDir, given);
      process.stdout.write(argv.json ? `${JSON.stringify(lmEvalJson(r, format))}\n` : lmEvalTable(r));
      return;
    }
    if (given.length > 1) throw new UsageError(`--predictions was given ${given.length} files; give one (several files are for --from lm-eval)`);
    const file = given[0];
    if (typeof file !== 'string' || file === '') throw new UsageError('--predictions needs a file name');
    const predictions = await readPredictionFile(file);
    const { items, promptsExact } = await adapter.prepare(dataDir, format, selection, 'score');
    if (promptsExact === false) notice(`${adapter.name}: scoring without the files that only shape the prompts (exemplars); predictions are not checked against their prompts`);

    const byId = new Map(items.map((i) => [i.id, i]));
    const scores = new Map<string, ItemScore>();
    let changedPrompts = 0;
    for (const p of predictions) {
      const item = byId.get(p.id);
      if (!item) {
        throw new InputError(file, `id "${p.id}" is not among the ${items.length} selected ${adapter.name} items; check the benchmark and --tasks/--languages, --split, --limit`, p.line);
      }
      // run's predictions carry the hash of the prompt they answered: a mismatch means other format flags.
      if (promptsExact !== false && p.promptHash !== undefined && p.promptHash !== sha256(item.prompt)) changedPrompts++;
      scores.set(p.id, adapter.scoreItem(item, p.prediction, format));
    }
    const result = adapter.aggregate(items, scores);
    const missing = items.length - scores.size;
    if (missing > 0) notice(`${missing} of ${items.length} items have no prediction in ${file}; they count as wrong`);
    if (changedPrompts > 0) {
      notice(`${changedPrompts} predictions in ${file} were made for different prompts (promptHash differs); check --cot, --shots and --split`);
    }
    process.stdout.write(argv.json ? `${JSON.stringify(scoreJson(result, format, selection, items, missing))}\n` : scoreTable(result, format, selection, file));
  },
};

export interface PredictionInput {
  id: string;
  prediction: string;
  promptHash?: string;
  /** Set on `run`'s lines for an example whose inference failed. */
  error?: string;
  /** 1-based line in the file. */
  line: number;
}

/**
 * Read `{"id", "prediction"}` JSONL (other fields are allowed and ignored) with the shared predictions policy
 * (results/predictionsJsonl.ts): blank lines skipped; bad JSON, a missing field, a repeated id or a torn last
 * line is an InputError naming the file and line; a retried example's later line replaces its error line.
 */
export async function readPredictionFile(file: string): Promise<PredictionInput[]> {
  const text = await readText(file, 'pass the predictions JSONL with --predictions');
  const parsed = parsePredictions(text, file, (value, line): PredictionInput => {
    const v = value as { id?: unknown; prediction?: unknown; promptHash?: unknown; error?: unknown };
    if (typeof v.id !== 'string') throw new InputError(file, 'each line must be a JSON object with a string "id" and a string "prediction"', line);
    if (typeof v.prediction !== 'string') throw new InputError(file, `id "${v.id}" has no string "prediction"`, line);
    return { id: v.id, prediction: v.prediction, line, ...(typeof v.promptHash === 'string' ? { promptHash: v.promptHash } : {}), ...(typeof v.error === 'string' ? { error: v.error } : {}) };
  });
  return requireWhole(parsed, file, 'complete or fix it, then score again').lines;
}

/** docs/protocol.md §5 `--json`: `{"benchmark", "cot", "score", "tasks": {name: {"score", "n"}}}` plus stderr, missing, format. */
export function scoreJson(result: BenchmarkScore, format: PromptFormat, selection: Selection, items: readonly PreparedItem[], missing: number): object {
  return {
    benchmark: result.benchmark,
    cot: format.cot,
    score: result.score,
    stderr: result.stderr,
    shots: format.shots,
    ...(selection.split ? { split: selection.split } : {}),
    n: items.length,
    missing,
    averageTasks: result.averageTasks,
    ...(result.metrics ? { metrics: result.metrics } : {}),
    ...(result.clustered ? { clustered: result.clustered } : {}),
    tasks: Object.fromEntries(
      Object.entries(result.tasks).map(([name, t]) => [
        name,
        { score: t.score, n: t.n, stderr: t.stderr, missing: t.missing ?? 0, ...(t.metrics ? { metrics: t.metrics } : {}) },
      ]),
    ),
  };
}

/** The readable table: one row per task, then the benchmark average (over the paper's task set). */
export function scoreTable(result: BenchmarkScore, format: PromptFormat, selection: Selection, file: string): string {
  const metricNames = [...new Set(Object.values(result.tasks).flatMap((t) => Object.keys(t.metrics ?? {})))].sort();
  const header = ['task', 'n', 'score', '± se', ...metricNames, 'missing'];
  const rows = Object.entries(result.tasks).map(([name, t]) => [
    name,
    String(t.n),
    t.score.toFixed(2),
    t.stderr.toFixed(2),
    ...metricNames.map((m) => (t.metrics?.[m] ?? 0).toFixed(2)),
    String(t.missing ?? 0),
  ]);
  const avgNote = result.averageTasks.length === Object.keys(result.tasks).length ? `${result.averageTasks.length} tasks` : `${result.averageTasks.length} tasks: ${result.averageTasks.join(', ')}`;
  rows.push([
    `mean (${avgNote})`,
    '',
    result.score.toFixed(2),
    result.stderr.toFixed(2),
    ...metricNames.map((m) => (result.metrics?.[m] ?? 0).toFixed(2)),
    '',
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const fmt = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd();
  const title = `${result.benchmark} ${describeFormat(format, selection)} — ${file}`;
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const clustered = result.clustered
    ? [`clustered standard error (by ${result.clustered.by}, ${result.clustered.clusters} clusters; Miller 2024): ${result.clustered.stderr.toFixed(2)}`, '']
    : [];
  return [title, '', fmt(header), rule, ...rows.slice(0, -1).map(fmt), rule, fmt(rows.at(-1)!), '', ...clustered].join('\n');
}
