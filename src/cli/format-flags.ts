import type { Options } from 'yargs';
import type { BenchmarkAdapter } from '../benchmarks/adapter.js';
import { resolveDataDir } from '../config/paths.js';
import { UsageError } from '../errors.js';
import type { BenchmarkName, PromptFormat, Selection } from '../types.js';

/**
 * The flags that pick a prompt format and a selection of examples (docs/protocol.md §3, §5), shared by `prompts`,
 * `score` and `run`: declare them with `formatOptions`, read them with `readFormatFlags`, and turn them
 * into one benchmark's PromptFormat and Selection with `formatFor` (shots default per benchmark).
 */
export const formatOptions = {
  cot: { type: 'boolean', default: false, description: 'chain-of-thought format ("Let\'s think step by step.")' },
  shots: { type: 'string', requiresArg: true, description: 'few-shot exemplars (defaults: mmlu 5, bbh 3, tydiqa 1, mgsm 8)' },
  'zero-shot': { type: 'boolean', default: false, description: 'no exemplars (the same as --shots 0)' },
  tasks: { type: 'string', array: true, description: 'MMLU subjects or BBH tasks (space or comma separated; default all)' },
  languages: { type: 'string', array: true, description: 'MGSM language codes or TyDiQA languages (default all)' },
  split: { type: 'string', description: 'MMLU split: dev, val or test (default val, as in the paper)' },
  limit: { type: 'string', requiresArg: true, description: 'keep the first N examples of each task' },
  'data-dir': { type: 'string', description: 'data directory (default $FLAN_EVAL_DATA, else ~/.cache/flan-eval/data)' },
} as const satisfies Record<string, Options>;

/** The format flags as given, checked for what does not depend on the benchmark. */
export interface FormatFlags {
  cot: boolean;
  /** undefined: the benchmark's default. */
  shots?: number;
  tasks?: string[];
  languages?: string[];
  split?: string;
  limit?: number;
  dataDir: string;
}

/** Benchmarks whose tasks are languages (`--languages`); the others take `--tasks`. */
const LANGUAGE_BENCHMARKS: readonly BenchmarkName[] = ['mgsm', 'tydiqa'];

/** Read and check the format flags of a parsed argv (yargs camel-cases `zero-shot` and `data-dir`). */
export function readFormatFlags(argv: Record<string, unknown>): FormatFlags {
  const cot = argv.cot === true;
  const zeroShot = argv.zeroShot === true || argv['zero-shot'] === true;
  const shots = wholeNumber(argv.shots, '--shots', 0);
  if (zeroShot && shots !== undefined && shots !== 0) {
    throw new UsageError(`--zero-shot and --shots ${shots} contradict each other; give one of them`);
  }
  const flags: FormatFlags = { cot, dataDir: resolveDataDir(text(argv.dataDir ?? argv['data-dir'], '--data-dir')) };
  if (zeroShot) flags.shots = 0;
  else if (shots !== undefined) flags.shots = shots;
  const tasks = nameList(argv.tasks, '--tasks');
  if (tasks) flags.tasks = tasks;
  const languages = nameList(argv.languages, '--languages');
  if (languages) flags.languages = languages;
  const split = text(argv.split, '--split');
  if (split !== undefined) flags.split = split;
  const limit = wholeNumber(argv.limit, '--limit', 1);
  if (limit !== undefined) flags.limit = limit;
  return flags;
}

/**
 * One benchmark's PromptFormat and Selection. Flags that do not apply to the benchmark (`--split`
 * outside MMLU, `--tasks` for a language benchmark, `--languages` for MMLU/BBH) are a UsageError, unless
 * `ignoreInapplicable` (for `run` over several benchmarks, where each flag applies to some of them).
 */
export function formatFor(
  flags: FormatFlags,
  adapter: Pick<BenchmarkAdapter, 'name' | 'defaultShots' | 'splits' | 'defaultSplit'>,
  opts: { ignoreInapplicable?: boolean } = {},
): { format: PromptFormat; selection: Selection } {
  const strict = !opts.ignoreInapplicable;
  const byLanguage = LANGUAGE_BENCHMARKS.includes(adapter.name);
  const [names, other] = byLanguage ? [flags.languages, flags.tasks] : [flags.tasks, flags.languages];
  if (strict && other) {
    throw new UsageError(
      byLanguage
        ? `--tasks does not apply to ${adapter.name}; choose its languages with --languages`
        : `--languages does not apply to ${adapter.name}; choose its ${adapter.name === 'mmlu' ? 'subjects' : 'tasks'} with --tasks`,
    );
  }
  const selection: Selection = {};
  if (names) selection.tasks = names;
  if (flags.limit !== undefined) selection.limit = flags.limit;
  if (adapter.splits) {
    const split = flags.split ?? adapter.defaultSplit;
    if (split !== undefined) selection.split = split;
  } else if (strict && flags.split !== undefined) {
    throw new UsageError(`--split does not apply to ${adapter.name} (only MMLU has splits); leave it out`);
  }
  return { format: { cot: flags.cot, shots: flags.shots ?? adapter.defaultShots }, selection };
}

/** `readFormatFlags` + `formatFor` for a command about one benchmark. */
export function parseFormatFlags(
  argv: Record<string, unknown>,
  adapter: Pick<BenchmarkAdapter, 'name' | 'defaultShots' | 'splits' | 'defaultSplit'>,
): { format: PromptFormat; selection: Selection; dataDir: string } {
  const flags = readFormatFlags(argv);
  return { ...formatFor(flags, adapter), dataDir: flags.dataDir };
}

/** A flag given once (yargs turns a repeated flag into an array). */
function single<T>(value: T | T[] | undefined, flag: string): T | undefined {
  if (Array.isArray(value)) {
    if (value.length > 1) throw new UsageError(`${flag} was given ${value.length} times; give it once`);
    return value[0];
  }
  return value;
}

function text(value: unknown, flag: string): string | undefined {
  const v = single(value, flag);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v === '') throw new UsageError(`${flag} needs a value`);
  return v;
}

/** A whole-number flag (given once) of at least `min`; undefined when absent. Shared with `run`. */
export function wholeNumber(value: unknown, flag: string, min: number): number | undefined {
  const v = single(value, flag);
  if (v === undefined) return undefined;
  // The whole-number flags are declared as strings so that a bad value reaches us as typed ("abc"), not
  // as the NaN yargs would make of it.
  const n = typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min) {
    throw new UsageError(`${flag} must be a whole number ${min === 0 ? '0 or more' : `of at least ${min}`}, got ${formatValue(v)}`);
  }
  return n;
}

function formatValue(v: unknown): string {
  if (typeof v === 'number' && Number.isNaN(v)) return 'something that is not a number';
  return String(v);
}

/** `--tasks a,b --tasks c` and `--tasks a b c` both mean [a, b, c]. */
function nameList(value: unknown, flag: string): string[] | undefined {
  if (value === undefined) return undefined;
  const parts = (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(','));
  const names = parts.map((p) => p.trim()).filter(Boolean);
  if (names.length === 0) throw new UsageError(`${flag} needs at least one name`);
  return names;
}

/** A short human description of a format, e.g. "CoT 3-shot" or "direct zero-shot, split val". */
export function describeFormat(format: PromptFormat, selection: Selection = {}): string {
  const shots = format.shots === 0 ? 'zero-shot' : `${format.shots}-shot`;
  return `${format.cot ? 'CoT' : 'direct'} ${shots}${selection.split ? `, split ${selection.split}` : ''}`;
}
