import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { InputError, UsageError } from '../errors.js';
import type { BenchmarkName } from '../types.js';
import { readText } from '../util/fs.js';

/**
 * Reading lm-evaluation-harness 0.4 `--log_samples` output. lm-eval writes one file per task,
 * `<output>/<model>/samples_<task>_<date id>.jsonl` (the date id is `datetime.now().isoformat()` with `:`
 * replaced by `-`, e.g. `2024-06-28T14-35-21.123456`), one JSON object per line:
 *
 *   {"doc_id": 0, "doc": {…the dataset row…}, "target": "…",
 *    "arguments": {"gen_args_0": {"arg_0": "<prompt>", "arg_1": {"until": […], …}}},
 *    "resps": [["<raw generation>"]], "filtered_resps": ["<extracted answer>"],
 *    "filter": "get-answer", "metrics": ["exact_match"], "exact_match": 1.0,
 *    "doc_hash": "…", "prompt_hash": "…", "target_hash": "…"}
 *
 * A task with several filters (MGSM: strict-match and flexible-extract) has one line per document per
 * filter, with the same `resps`. The lines do not name their task: the file name does.
 */

/** lm-eval task-name prefixes we can map, per benchmark, and the format each stands for. */
export const LM_EVAL_PREFIXES: Readonly<Record<BenchmarkName, readonly { prefix: string; cot: boolean }[]>> = {
  bbh: [
    { prefix: 'bbh_cot_fewshot_', cot: true },
    { prefix: 'bbh_cot_zeroshot_', cot: true },
    { prefix: 'bbh_fewshot_', cot: false },
    { prefix: 'bbh_zeroshot_', cot: false },
  ],
  mmlu: [
    { prefix: 'mmlu_flan_cot_fewshot_', cot: true },
    { prefix: 'mmlu_flan_cot_zeroshot_', cot: true },
    { prefix: 'mmlu_flan_n_shot_generative_', cot: false },
  ],
  mgsm: [
    { prefix: 'mgsm_native_cot_', cot: true },
    { prefix: 'mgsm_direct_', cot: false },
  ],
  tydiqa: [],
};

/** One lm-eval sample line, with what we read from it. */
export interface LmEvalSample {
  file: string;
  line: number;
  docId: number;
  doc: Record<string, unknown>;
  /** resps[0][0]: the raw generation, before lm-eval's filters. */
  raw: string;
  filter: string;
  /** lm-eval's own score of the filtered response (its first metric, e.g. exact_match), 0..1. */
  lmEvalScore: number | null;
  metric: string | null;
}

export interface LmEvalTaskFile {
  file: string;
  /** The lm-eval task name, from the file name. */
  lmEvalTask: string;
  samples: LmEvalSample[];
}

const SAMPLES_FILE = /^samples_(.+)_(\d{4}-\d{2}-\d{2}T[0-9.-]+)\.jsonl$/;

/** The lm-eval task name in a samples file name, or null when the name is not lm-eval's. */
export function taskOfFileName(file: string): string | null {
  return SAMPLES_FILE.exec(basename(file))?.[1] ?? null;
}

/**
 * The files to read: each named file, and every `samples_*.jsonl` in a named folder (recursively, sorted).
 * A named file must be a samples file; a folder must hold at least one. `inFolder` marks files found in
 * a folder: an lm-eval output folder holds every task of the run, and those of other benchmarks are
 * skipped rather than refused.
 */
export async function samplesFiles(inputs: readonly string[]): Promise<{ file: string; inFolder: boolean }[]> {
  const out: { file: string; inFolder: boolean }[] = [];
  for (const input of inputs) {
    const st = await stat(input).catch(() => null);
    if (!st) throw new UsageError(`--predictions ${input}: no such file or folder; pass lm-eval's samples_<task>_<date>.jsonl files or their folder`);
    if (st.isDirectory()) {
      const found = await walk(input);
      if (found.length === 0) throw new UsageError(`--predictions ${input}: no samples_<task>_<date>.jsonl files in this folder; run lm-eval with --log_samples --output_path`);
      out.push(...found.map((file) => ({ file, inFolder: true })));
    } else {
      if (taskOfFileName(input) === null) {
        throw new InputError(input, 'not an lm-eval samples file (expected a name like samples_bbh_cot_fewshot_boolean_expressions_2024-06-28T14-35-21.123456.jsonl)');
      }
      out.push({ file: input, inFolder: false });
    }
  }
  const seen = new Set<string>();
  return out.filter((f) => !seen.has(f.file) && seen.add(f.file));
}

async function walk(folder: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(folder, { withFileTypes: true });
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const path = join(folder, e.name);
    if (e.isDirectory()) out.push(...(await walk(path)));
    else if (taskOfFileName(e.name) !== null) out.push(path);
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Read one samples file; every line is checked, an error names the file and line. */
export async function readSamplesFile(file: string): Promise<LmEvalTaskFile> {
  const lmEvalTask = taskOfFileName(file)!;
  const text = await readText(file, 'pass lm-eval --log_samples output');
  const samples: LmEvalSample[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch (e) {
      throw new InputError(file, `not JSON (${(e as Error).message}); lm-eval writes one JSON object per line`, line);
    }
    if (!isObject(v)) throw new InputError(file, 'not a JSON object', line);
    if (typeof v.doc_id !== 'number' || !Number.isInteger(v.doc_id) || v.doc_id < 0) throw new InputError(file, '"doc_id" is missing or not a whole number', line);
    if (!isObject(v.doc)) throw new InputError(file, `doc_id ${v.doc_id}: "doc" is missing or not an object`, line);
    // resps: one list per request, each a list of generations; generate_until has one request.
    const resps = v.resps;
    if (!Array.isArray(resps) || !Array.isArray(resps[0]) || typeof resps[0][0] !== 'string') {
      throw new InputError(file, `doc_id ${v.doc_id}: "resps" is not [["<generation>"]]; only generate_until tasks can be re-scored`, line);
    }
    const metrics = Array.isArray(v.metrics) ? v.metrics.filter((m): m is string => typeof m === 'string') : [];
    const metric = metrics[0] ?? null;
    const value = metric !== null ? v[metric] : undefined;
    samples.push({
      file,
      line,
      docId: v.doc_id,
      doc: v.doc,
      raw: resps[0][0],
      filter: typeof v.filter === 'string' ? v.filter : 'none',
      lmEvalScore: typeof value === 'number' ? value : typeof value === 'boolean' ? Number(value) : null,
      metric,
    });
  });
  return { file, lmEvalTask, samples };
}

/** The question text of a sample's document, which our example's prompt must contain. */
export function questionOf(benchmark: BenchmarkName, doc: Record<string, unknown>): string | null {
  const field = benchmark === 'bbh' ? doc.input : doc.question;
  return typeof field === 'string' ? field : null;
}
