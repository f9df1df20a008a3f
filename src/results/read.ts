import type { DoctorReport } from '../backends/onnx/doctor.js';
import { readdir, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { InputError, UsageError } from '../errors.js';
import { BENCHMARKS, type PredictionLine, type RunRecord } from '../types.js';
import { parseJson, readText } from '../util/fs.js';
import { parsePredictions, requireWhole } from './predictionsJsonl.js';

/**
 * Reading what `run` wrote: run records (one JSON per model × benchmark × format) and their predictions
 * JSONL. Both cross a process boundary (they may come from another version, another machine, or a hand
 * edit), so both are validated against the shared types before anything is computed from them.
 */

export const RUN_RECORD_SCHEMA_ID = 'flan-eval/run-record@1';

const percentages = z.record(z.string(), z.number());

const taskScoreSchema = z.object({
  score: z.number(),
  n: z.number().int().nonnegative(),
  stderr: z.number(),
  metrics: percentages.optional(),
  missing: z.number().int().nonnegative().optional(),
});

const benchmarkScoreSchema = z.object({
  benchmark: z.enum(BENCHMARKS),
  score: z.number(),
  stderr: z.number(),
  tasks: z.record(z.string(), taskScoreSchema),
  averageTasks: z.array(z.string()),
  metrics: percentages.optional(),
  clustered: z.object({ by: z.enum(['problem', 'passage', 'task']), stderr: z.number(), clusters: z.number().int().nonnegative() }).optional(),
});

const hashes = z.record(z.string(), z.string());

/** The zod mirror of `RunRecord` (src/types.ts); the assignment below makes tsc check they agree. */
export const runRecordSchema = z.object({
  schema: z.literal(RUN_RECORD_SCHEMA_ID),
  createdAt: z.string(),
  model: z.object({
    name: z.string().min(1),
    path: z.string(),
    params: z.number().nullable(),
    arch: z.string().optional(),
    graphRewrites: z.array(z.string()).optional(),
    dtype: z.string(),
    files: hashes,
    hash: z.string(),
  }),
  benchmark: z.enum(BENCHMARKS),
  format: z.object({
    cot: z.boolean(),
    shots: z.number().int().nonnegative(),
    split: z.string().nullable(),
    scoring: z.enum(['generate', 'loglik']),
  }),
  decoding: z.object({ maxNewTokens: z.number().int(), stop: z.array(z.string()), stopByTask: z.record(z.string(), z.array(z.string())).optional() }),
  data: z.object({ files: hashes, hash: z.string() }),
  promptsHash: z.string(),
  configHash: z.string(),
  selection: z.object({
    tasks: z.array(z.string()).nullable(),
    limit: z.number().int().nullable(),
    shard: z.object({ index: z.number().int(), count: z.number().int() }).nullable(),
  }),
  missingTasks: z.array(z.string()).optional(),
  result: benchmarkScoreSchema,
  n: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  predictions: z.string().min(1),
  versions: z.object({ flanEval: z.string(), onnxruntime: z.string(), node: z.string() }),
  runtime: z.object({
    device: z.string(),
    threads: z.number(),
    batchSize: z.number(),
    wallSeconds: z.number(),
    examplesPerSecond: z.number(),
    generatedTokensPerSecond: z.number().nullable(),
    // Stored for people reading the record; nothing downstream depends on its inner fields.
    environment: z.custom<DoctorReport>((v) => typeof v === 'object').nullable().optional(),
  }),
});

export const predictionLineSchema = z.object({
  id: z.string().min(1),
  task: z.string(),
  target: z.string().optional(),
  prompt: z.string().optional(),
  promptHash: z.string(),
  prediction: z.string(),
  answer: z.string(),
  correct: z.boolean(),
  cluster: z.string().optional(),
  metrics: percentages.optional(),
  loglik: z.array(z.number()).optional(),
  tokens: z.number().optional(),
  error: z.string().optional(),
});

// Compile-time check that the schemas produce the shared types (fails to build if they drift apart).
const _recordAgrees: (v: z.infer<typeof runRecordSchema>) => RunRecord = (v) => v;
const _lineAgrees: (v: z.infer<typeof predictionLineSchema>) => PredictionLine = (v) => v;
void _recordAgrees;
void _lineAgrees;

export interface LoadedRecord {
  record: RunRecord;
  /** The record's path as the user can find it (relative to the working directory when inside it). */
  file: string;
}

/** One line naming the first problem zod found: `model.params: expected number, received string`. */
function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const where = issue.path.length ? issue.path.map(String).join('.') : '(top level)';
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem${error.issues.length > 2 ? 's' : ''})` : '';
  return `${where}: ${issue.message}${more}`;
}

/** Validate a parsed JSON value as a run record; `file` names it in the error. */
export function parseRunRecord(value: unknown, file: string): RunRecord {
  if (typeof value !== 'object' || value === null || (value as { schema?: unknown }).schema !== RUN_RECORD_SCHEMA_ID) {
    throw new InputError(file, `not a run record (expected "schema": "${RUN_RECORD_SCHEMA_ID}"); pass the JSON files \`flan-eval run\` writes, or their folder`);
  }
  const parsed = runRecordSchema.safeParse(value);
  if (!parsed.success) throw new InputError(file, `invalid run record: ${firstIssue(parsed.error)}; rerun \`flan-eval run\` to rewrite it`);
  return parsed.data;
}

function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

/** Every `*.json` under `folder` (recursively, sorted; hidden folders and node_modules skipped). */
async function jsonFilesUnder(folder: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(folder, { withFileTypes: true });
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const path = join(folder, e.name);
    if (e.isDirectory()) out.push(...(await jsonFilesUnder(path)));
    else if ((e.isFile() || e.isSymbolicLink()) && e.name.endsWith('.json')) out.push(path);
  }
  return out;
}

/**
 * Load run records from files and folders. A file must be a run record; in a folder, every `*.json`
 * whose `schema` is `flan-eval/run-record@1` is one (other JSON, such as suites or configs, is skipped).
 * A folder without any is an error, as is a path that does not exist: a CI job that compares against
 * nothing must fail loudly rather than pass. `role` names the argument in messages ("baseline").
 */
export async function loadRunRecords(inputs: readonly string[], role = 'results'): Promise<LoadedRecord[]> {
  if (inputs.length === 0) throw new UsageError(`no ${role} given; name run record files or folders that hold them`);
  const seen = new Set<string>();
  const out: LoadedRecord[] = [];
  for (const input of inputs) {
    const path = resolve(input);
    const st = await stat(path).catch(() => null);
    if (!st) throw new UsageError(`${input}: no such file or folder (${role}); name a run record JSON or a folder of them`);
    if (st.isDirectory()) {
      let found = 0;
      for (const file of await jsonFilesUnder(path)) {
        const text = await readText(file);
        // A cheap test before parsing: most JSON files in a results tree are not records.
        if (!text.includes(RUN_RECORD_SCHEMA_ID)) continue;
        const shown = displayPath(file);
        const value = parseJson(text, shown);
        if ((value as { schema?: unknown })?.schema !== RUN_RECORD_SCHEMA_ID) continue;
        found++;
        if (seen.has(file)) continue;
        seen.add(file);
        out.push({ record: parseRunRecord(value, shown), file: shown });
      }
      if (found === 0) {
        throw new UsageError(
          `${input}: no run records found (no *.json with "schema": "${RUN_RECORD_SCHEMA_ID}" in this folder or below); run \`flan-eval run … --out ${input}\` first`,
        );
      }
    } else {
      // `report results/*/*.json` also matches run's resume state files; they are not records, skip them.
      if (isResumeState(path)) continue;
      if (seen.has(path)) continue;
      seen.add(path);
      const shown = displayPath(path);
      out.push({ record: parseRunRecord(parseJson(await readText(path), shown), shown), file: shown });
    }
  }
  if (out.length === 0) throw new UsageError(`${inputs.join(' ')}: no run records among these files (only resume state files); name the run record JSON files or their folder`);
  return out;
}

/** `run`'s resume state next to a predictions file (`….predictions.jsonl.state.json`). */
function isResumeState(path: string): boolean {
  return path.endsWith('.predictions.jsonl.state.json');
}

/**
 * Read a record's predictions JSONL (its `predictions` path is relative to the record's folder), validating
 * every line, with the shared predictions policy (results/predictionsJsonl.ts); an error names the file and
 * line. A finished run's file has one line per id; a torn last line is an error.
 */
export async function readPredictions(loaded: LoadedRecord): Promise<PredictionLine[]> {
  const path = resolve(dirname(resolve(loaded.file)), loaded.record.predictions);
  const shown = displayPath(path);
  const text = await readText(path, `the run record ${loaded.file} points to it; keep the predictions next to their record`);
  return requireWhole(parsePredictions(text, shown, (value, line) => parsePredictionLine(value, shown, line)), shown, 'rerun `flan-eval run` to complete it').lines;
}

/** Validate one parsed predictions line against the shared type. */
export function parsePredictionLine(value: unknown, file: string, line: number): PredictionLine {
  const parsed = predictionLineSchema.safeParse(value);
  if (!parsed.success) throw new InputError(file, `invalid prediction line: ${firstIssue(parsed.error)}`, line);
  return parsed.data;
}
