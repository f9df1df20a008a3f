import type { BenchmarkAdapter, PreparedItem } from '../benchmarks/adapter.js';
import { exampleId, notice } from '../benchmarks/common.js';
import { InputError, UsageError } from '../errors.js';
import type { BenchmarkScore, ItemScore, PromptFormat, Selection } from '../types.js';
import { LM_EVAL_PREFIXES, questionOf, readSamplesFile, samplesFiles, taskOfFileName, type LmEvalTaskFile } from './samples.js';

/**
 * `flan-eval score <benchmark> --from lm-eval`: re-score lm-eval's saved generations with the authors'
 * rules. Each sample is matched to our example by task (from the file name) and `doc_id` (the row in
 * the task's split, which is our example index), after checking that our example's prompt contains the
 * sample's question; then its raw generation (`resps`, before lm-eval's filters) is scored by the
 * benchmark's own `scoreItem`. lm-eval's score of its filtered answer is reported beside ours, per task
 * and filter, so an extraction bug on either side shows up as a gap.
 */

export interface LmEvalTaskResult {
  /** lm-eval's task name, e.g. bbh_cot_fewshot_boolean_expressions. */
  lmEvalTask: string;
  /** Ours, e.g. boolean_expressions. */
  task: string;
  file: string;
  n: number;
  /** Our score of the raw generations, percent. */
  ours: number;
  /** lm-eval's own score per filter (`get-answer`, `strict-match`, …), percent; null where a line had no metric. */
  lmEval: Record<string, number | null>;
  /** lm-eval's metric name (e.g. exact_match). */
  metric: string | null;
}

export interface LmEvalRescore {
  result: BenchmarkScore;
  tasks: LmEvalTaskResult[];
  items: PreparedItem[];
  files: string[];
}

/** Every lm-eval task name we map for this benchmark and format: `<prefix><task>` for the data's tasks. */
function knownNames(adapter: BenchmarkAdapter, format: PromptFormat, tasks: readonly string[]): string[] {
  return LM_EVAL_PREFIXES[adapter.name].filter((p) => p.cot === format.cot).flatMap((p) => tasks.map((t) => `${p.prefix}${t}`));
}

/** Our task for an lm-eval task name, or a UsageError that lists the names we know. */
function mapTask(adapter: BenchmarkAdapter, format: PromptFormat, lmEvalTask: string, file: string, dataTasks: readonly string[]): string {
  const prefixes = LM_EVAL_PREFIXES[adapter.name];
  if (prefixes.length === 0) throw new UsageError(`--from lm-eval: lm-eval has no ${adapter.name} task flan-eval maps; re-scoring covers bbh, mmlu and mgsm`);
  const match = prefixes.find((p) => lmEvalTask.startsWith(p.prefix) && dataTasks.includes(lmEvalTask.slice(p.prefix.length)));
  if (!match) {
    const known = knownNames(adapter, format, dataTasks);
    throw new InputError(file, `lm-eval task "${lmEvalTask}" is not one flan-eval maps for ${adapter.name} ${format.cot ? 'CoT' : 'direct'}; known names: ${known.join(', ')}`);
  }
  if (match.cot !== format.cot) {
    throw new InputError(file, `lm-eval task "${lmEvalTask}" is ${match.cot ? 'chain-of-thought' : 'direct'}: score it ${match.cot ? 'with --cot' : 'without --cot'}`);
  }
  return lmEvalTask.slice(match.prefix.length);
}

export async function rescoreLmEval(
  adapter: BenchmarkAdapter,
  format: PromptFormat,
  selection: Selection,
  dataDir: string,
  inputs: readonly string[],
): Promise<LmEvalRescore> {
  const files = await samplesFiles(inputs);
  const dataTasks = await adapter.listTasks(dataDir, selection.split);
  const read: { taskFile: LmEvalTaskFile; task: string }[] = [];
  const seenTask = new Map<string, string>();
  let skipped = 0;
  for (const { file, inFolder } of files) {
    if (inFolder && !taskOfFileName(file)!.startsWith(`${adapter.name}_`)) {
      skipped++;
      continue;
    }
    const taskFile = await readSamplesFile(file);
    const task = mapTask(adapter, format, taskFile.lmEvalTask, file, dataTasks);
    const other = seenTask.get(task);
    if (other) throw new InputError(file, `${other} holds task "${taskFile.lmEvalTask}" too (two lm-eval runs?); pass the files of one run`);
    seenTask.set(task, file);
    read.push({ taskFile, task });
  }
  if (skipped) notice(`skipped ${skipped} lm-eval samples file${skipped === 1 ? '' : 's'} of other benchmarks (not ${adapter.name}_*)`);
  if (read.length === 0) throw new UsageError(`--predictions ${inputs.join(' ')}: no lm-eval ${adapter.name} samples (samples_${adapter.name}_…_<date>.jsonl) found`);
  const tasks = [...seenTask.keys()].sort();
  const { items } = await adapter.prepare(dataDir, format, { ...selection, tasks, limit: undefined });
  const byId = new Map(items.map((i) => [i.id, i]));

  const scores = new Map<string, ItemScore>();
  const results: LmEvalTaskResult[] = [];
  for (const { taskFile, task } of read) {
    // One line per document per filter; the raw generation is the same on each.
    const raw = new Map<number, string>();
    const lmEval = new Map<string, { sum: number; n: number; missing: boolean }>();
    let metric: string | null = null;
    for (const s of taskFile.samples) {
      const id = exampleId(adapter.name, task, s.docId);
      const item = byId.get(id);
      if (!item) {
        const count = items.filter((i) => i.task === task).length;
        throw new InputError(s.file, `doc_id ${s.docId}: ${task} has ${count} examples in ${dataDir}${selection.split ? ` (split ${selection.split})` : ''}; check --split and the data`, s.line);
      }
      const question = questionOf(adapter.name, s.doc);
      if (question === null) throw new InputError(s.file, `doc_id ${s.docId}: "doc" has no ${adapter.name === 'bbh' ? '"input"' : '"question"'} text to check against our example`, s.line);
      if (!item.prompt.includes(question.trim())) {
        throw new InputError(
          s.file,
          `doc_id ${s.docId}: its question does not agree with ${id} in ${dataDir}${selection.split ? ` (split ${selection.split})` : ''} ("${question.trim().slice(0, 60)}…"); the samples are from other data or another split`,
          s.line,
        );
      }
      const before = raw.get(s.docId);
      if (before !== undefined && before !== s.raw) throw new InputError(s.file, `doc_id ${s.docId} appears twice with different generations; pass the samples of one run`, s.line);
      raw.set(s.docId, s.raw);
      const f = lmEval.get(s.filter) ?? { sum: 0, n: 0, missing: false };
      if (s.lmEvalScore === null) f.missing = true;
      else f.sum += s.lmEvalScore;
      f.n++;
      lmEval.set(s.filter, f);
      metric ??= s.metric;
    }
    let right = 0;
    for (const [docId, text] of raw) {
      const id = exampleId(adapter.name, task, docId);
      const score = adapter.scoreItem(byId.get(id)!, text, format);
      scores.set(id, score);
      if (score.correct) right++;
    }
    results.push({
      lmEvalTask: taskFile.lmEvalTask,
      task,
      file: taskFile.file,
      n: raw.size,
      ours: raw.size ? (100 * right) / raw.size : 0,
      lmEval: Object.fromEntries([...lmEval].map(([filter, f]) => [filter, f.missing || f.n === 0 ? null : (100 * f.sum) / f.n])),
      metric,
    });
  }
  results.sort((a, b) => (a.task < b.task ? -1 : a.task > b.task ? 1 : 0));
  // Score what lm-eval ran (its --limit may have kept the first N of each task): only matched examples.
  const scored = items.filter((i) => scores.has(i.id));
  const unmatched = items.length - scored.length;
  if (unmatched > 0) notice(`lm-eval samples cover ${scored.length} of the ${items.length} examples of their tasks; scores are over those ${scored.length}`);
  return { result: adapter.aggregate(scored, scores), tasks: results, items: scored, files: read.map((r) => r.taskFile.file) };
}

/** The per-task table: lm-eval task, n, our score of the raw generations, lm-eval's per filter. */
export function lmEvalTable(r: LmEvalRescore): string {
  const filters = [...new Set(r.tasks.flatMap((t) => Object.keys(t.lmEval)))].sort();
  const header = ['lm-eval task', 'n', 'flan-eval', ...filters.map((f) => `lm-eval ${f}`)];
  const fmt = (x: number | null | undefined) => (x === null || x === undefined ? '–' : x.toFixed(2));
  const rows = r.tasks.map((t) => [t.lmEvalTask, String(t.n), fmt(t.ours), ...filters.map((f) => fmt(t.lmEval[f]))]);
  const mean = (xs: (number | null | undefined)[]) => (xs.some((x) => x === null || x === undefined) || xs.length === 0 ? null : (xs as number[]).reduce((a, b) => a + b, 0) / xs.length);
  const inAverage = r.tasks.filter((t) => r.result.averageTasks.includes(t.task));
  rows.push([`mean (${inAverage.length} tasks)`, '', fmt(r.result.score), ...filters.map((f) => fmt(mean(inAverage.map((t) => t.lmEval[f]))))]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (row: string[]) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [
    `${r.result.benchmark} — lm-eval samples re-scored with flan-eval's rules (raw generations; lm-eval's filtered scores beside)`,
    '',
    line(header),
    rule,
    ...rows.slice(0, -1).map(line),
    rule,
    line(rows.at(-1)!),
    '',
  ].join('\n');
}

/** `--json`: our benchmark score plus, per task, ours and lm-eval's. */
export function lmEvalJson(r: LmEvalRescore, format: PromptFormat): object {
  return {
    from: 'lm-eval',
    benchmark: r.result.benchmark,
    cot: format.cot,
    score: r.result.score,
    stderr: r.result.stderr,
    n: r.items.length,
    averageTasks: r.result.averageTasks,
    tasks: Object.fromEntries(r.tasks.map((t) => [t.task, { lmEvalTask: t.lmEvalTask, file: t.file, n: t.n, score: t.ours, lmEval: t.lmEval, lmEvalMetric: t.metric }])),
  };
}
