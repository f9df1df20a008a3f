import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchmarkName, BenchmarkScore, PredictionLine, RunRecord, TaskScore } from '../../src/types.js';

/**
 * Writes run records + predictions JSONL the way `run` lays them out, from a compact description: per
 * task a string of outcomes ("1101" = four examples, the third wrong). The arithmetic here is written
 * out independently of the benchmark adapters (percent correct; sample-standard-deviation standard
 * error; unweighted mean over tasks) so the report tests do not test the scorer against itself.
 */

export interface RunSpec {
  model: string;
  params: number | null;
  /** config.json model_type; left out of the record when unset (as in records written before it was kept). */
  arch?: string;
  dtype?: string;
  modelHash?: string;
  benchmark: BenchmarkName;
  cot: boolean;
  shots: number;
  split?: string | null;
  scoring?: 'generate' | 'loglik';
  /** Task → outcomes, e.g. { anatomy: '1101' }. */
  tasks: Record<string, string>;
  /** Tasks in the headline average (default: all but MGSM `en` and TyDiQA `english`). */
  averageTasks?: string[];
  selection?: RunRecord['selection'];
  /** Changes every prompt hash (a prompt-format change). */
  promptSalt?: string;
  dataHash?: string;
  maxNewTokens?: number;
  /** Task → example indices whose prompt changed (only those get a different prompt hash). */
  changedPrompts?: Record<string, number[]>;
  /** Task → example indices whose inference failed (written with `error`; their outcome must be 0). */
  errors?: Record<string, number[]>;
  /** Write each line's `target` (lines written before targets were recorded have none). */
  withTargets?: boolean;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

export function slug(name: string): string {
  return name.replace(/[^A-Za-z0-9.-]+/g, '_');
}

function taskScore(outcomes: string): TaskScore {
  const xs = [...outcomes].map((c) => (c === '1' ? 1 : 0));
  const n = xs.length;
  const mean = xs.reduce((a: number, b) => a + b, 0) / n;
  const variance = n > 1 ? xs.reduce((a: number, x) => a + (x - mean) ** 2, 0) / (n - 1) : 0;
  return { score: 100 * mean, n, stderr: 100 * Math.sqrt(variance / n) };
}

export function runRecordFor(spec: RunSpec): { record: RunRecord; predictions: PredictionLine[]; base: string } {
  const tasks = Object.fromEntries(Object.entries(spec.tasks).map(([t, o]) => [t, taskScore(o)]));
  const averageTasks = spec.averageTasks ?? Object.keys(spec.tasks).filter((t) => t !== 'en' && t !== 'english');
  const score = averageTasks.reduce((a, t) => a + tasks[t]!.score, 0) / averageTasks.length;
  const stderr = Math.sqrt(averageTasks.reduce((a, t) => a + tasks[t]!.stderr ** 2, 0)) / averageTasks.length;
  const result: BenchmarkScore = { benchmark: spec.benchmark, score, stderr, tasks, averageTasks };
  const predictions: PredictionLine[] = [];
  for (const [task, outcomes] of Object.entries(spec.tasks)) {
    [...outcomes].forEach((o, i) => {
      const id = `${spec.benchmark}/${task}/${i}`;
      const changed = spec.changedPrompts?.[task]?.includes(i) ? 'changed' : '';
      const target = `t${i % 4}`;
      predictions.push({
        id,
        task,
        promptHash: sha(`${spec.promptSalt ?? ''}${changed}|${spec.cot}|${spec.shots}|${id}`),
        prediction: o === '1' ? `So the answer is ${target}.` : 'So the answer is nothing.',
        answer: o === '1' ? target : 'nothing',
        correct: o === '1',
        ...(spec.withTargets ? { target } : {}),
        ...(spec.errors?.[task]?.includes(i) ? { error: 'inference failed (test)' } : {}),
      });
    });
  }
  const promptsHash = sha(
    predictions
      .map((p) => `${p.id}\t${p.promptHash}`)
      .sort()
      .join('\n'),
  );
  const modelHash = spec.modelHash ?? sha(`model:${spec.model}`);
  const dataHash = spec.dataHash ?? sha(`data:${spec.benchmark}`);
  const decoding = { maxNewTokens: spec.maxNewTokens ?? (spec.cot ? 256 : 32), stop: spec.benchmark === 'tydiqa' ? ['\n'] : ['\n\nQ:'] };
  const format = { cot: spec.cot, shots: spec.shots, split: spec.split === undefined ? (spec.benchmark === 'mmlu' ? 'val' : null) : spec.split, scoring: spec.scoring ?? 'generate' };
  const base = `${spec.benchmark}-${spec.cot ? 'cot' : 'direct'}-${spec.shots}shot${format.split && format.split !== 'val' ? `-${format.split}` : ''}${format.scoring === 'loglik' ? '-loglik' : ''}`;
  const record: RunRecord = {
    schema: 'flan-eval/run-record@1',
    createdAt: '2024-01-01T00:00:00.000Z',
    model: { name: spec.model, path: `/models/${slug(spec.model)}`, params: spec.params, ...(spec.arch ? { arch: spec.arch } : {}), dtype: spec.dtype ?? 'fp32', files: { 'onnx/encoder_model.onnx': modelHash }, hash: modelHash },
    benchmark: spec.benchmark,
    format,
    decoding,
    data: { files: { [`${spec.benchmark}/data.json`]: dataHash }, hash: dataHash },
    promptsHash,
    configHash: sha(JSON.stringify([modelHash, dataHash, promptsHash, decoding, format])),
    selection: spec.selection ?? { tasks: null, limit: null, shard: null },
    result,
    n: predictions.length,
    failed: 0,
    predictions: `${base}.predictions.jsonl`,
    versions: { flanEval: '0.1.0', onnxruntime: '1.30.0', node: 'v20.0.0' },
    runtime: { device: 'cpu', threads: 1, batchSize: 8, wallSeconds: 1, examplesPerSecond: 1, generatedTokensPerSecond: null },
  };
  return { record, predictions, base };
}

/** Write the record and its predictions under `dir/<model slug>/`; returns the record's path. */
export async function writeRun(dir: string, spec: RunSpec): Promise<string> {
  const { record, predictions, base } = runRecordFor(spec);
  const folder = join(dir, slug(spec.model));
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, record.predictions), predictions.map((p) => JSON.stringify(p)).join('\n') + '\n');
  const path = join(folder, `${base}.json`);
  await writeFile(path, `${JSON.stringify(record, null, 2)}\n`);
  return path;
}

/**
 * The committed report fixtures (test/fixtures/records/paper-suite): two small models, the first with
 * all six paper columns plus a zero-shot MMLU column, the second with three columns, one of them partial.
 * Their expected numbers are worked out by hand in test/report/report-golden.test.ts.
 */
export const PAPER_SUITE: RunSpec[] = [
  { model: 'fixture/flan-t5-tiny', params: 76_961_152, benchmark: 'mmlu', cot: false, shots: 5, tasks: { abstract_algebra: '1100', anatomy: '1110' } },
  { model: 'fixture/flan-t5-tiny', params: 76_961_152, benchmark: 'mmlu', cot: true, shots: 5, tasks: { abstract_algebra: '1000', anatomy: '1100' } },
  {
    model: 'fixture/flan-t5-tiny',
    params: 76_961_152,
    benchmark: 'bbh',
    cot: false,
    shots: 3,
    tasks: { boolean_expressions: '1110', date_understanding: '0100', word_sorting: '0000' },
  },
  {
    model: 'fixture/flan-t5-tiny',
    params: 76_961_152,
    benchmark: 'bbh',
    cot: true,
    shots: 3,
    tasks: { boolean_expressions: '1100', date_understanding: '1100', word_sorting: '1000' },
  },
  { model: 'fixture/flan-t5-tiny', params: 76_961_152, benchmark: 'tydiqa', cot: false, shots: 1, tasks: { arabic: '1100', bengali: '1000', english: '1111' } },
  { model: 'fixture/flan-t5-tiny', params: 76_961_152, benchmark: 'mgsm', cot: true, shots: 8, tasks: { de: '1000', en: '1100', ja: '0000' } },
  { model: 'fixture/flan-t5-tiny', params: 76_961_152, benchmark: 'mmlu', cot: false, shots: 0, tasks: { abstract_algebra: '1000', anatomy: '0000' } },
  { model: 'fixture/flan-t5-mini', params: 247_577_856, benchmark: 'mmlu', cot: false, shots: 5, tasks: { abstract_algebra: '1110', anatomy: '1111' } },
  {
    model: 'fixture/flan-t5-mini',
    params: 247_577_856,
    benchmark: 'bbh',
    cot: true,
    shots: 3,
    tasks: { boolean_expressions: '11', date_understanding: '01', word_sorting: '00' },
    selection: { tasks: null, limit: 2, shard: null },
  },
  { model: 'fixture/flan-t5-mini', params: 247_577_856, benchmark: 'mgsm', cot: true, shots: 8, tasks: { de: '1100', en: '1110', ja: '1000' } },
];
