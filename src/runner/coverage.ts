import type { PreparedBenchmark } from '../benchmarks/adapter.js';
import { MMLU_SUBJECTS } from '../benchmarks/mmlu/categories.js';
import { pinnedPaths, type PinTable } from '../data/pins.js';
import { UsageError } from '../errors.js';
import type { BenchmarkName } from '../types.js';
import type { RunUnit } from './evaluate.js';

/**
 * Which tasks a benchmark should have. The benchmarks list the tasks they find in the data directory, so a
 * deleted or never-fetched file would otherwise shrink the benchmark without a word and the report would
 * show the rest as a whole-benchmark score. The full lists come from what flan-eval ships: the 57 MMLU
 * subjects, and the pin table of the upstream files (data/upstream-sha256.txt) for the BBH tasks and MGSM
 * languages. TyDiQA keeps every language in one file, so it has no per-task files to miss.
 */
export function expectedTasks(benchmark: BenchmarkName, pins: PinTable): string[] | null {
  const fromPins = (re: RegExp) => pinnedPaths(pins, benchmark).flatMap((p) => re.exec(p)?.[1] ?? []).sort();
  switch (benchmark) {
    case 'mmlu':
      return [...MMLU_SUBJECTS];
    case 'bbh':
      return fromPins(/^bbh\/bbh\/(.+)\.json$/);
    case 'mgsm':
      return fromPins(/^mgsm\/mgsm_(.+)\.tsv$/);
    case 'tydiqa':
      return null;
  }
}

/** The expected tasks of a unit (those its --tasks selection asks for) that have no examples in the data. */
export function missingTasks(unit: RunUnit, prepared: PreparedBenchmark, pins: PinTable): string[] {
  const expected = expectedTasks(unit.benchmark, pins);
  if (!expected) return [];
  const present = new Set(prepared.items.map((i) => i.task));
  const wanted = unit.selection.tasks?.length ? expected.filter((t) => unit.selection.tasks!.includes(t)) : expected;
  return wanted.filter((t) => !present.has(t));
}

/**
 * Say, before anything runs, which expected tasks are missing (always, even with --quiet: it changes what
 * the score means), or refuse with --strict. Returns the units with `missingTasks` set for their records.
 */
export function checkCoverage(units: readonly { unit: RunUnit; prepared: PreparedBenchmark }[], pins: PinTable, dataDir: string, strict: boolean): Map<RunUnit, string[]> {
  const out = new Map<RunUnit, string[]>();
  const said = new Set<string>();
  for (const { unit, prepared } of units) {
    const missing = missingTasks(unit, prepared, pins);
    out.set(unit, missing);
    if (!missing.length) continue;
    const expected = expectedTasks(unit.benchmark, pins)!.length;
    const line = `${unit.benchmark}: ${missing.length} of ${expected} expected task${expected === 1 ? '' : 's'} have no data files in ${dataDir}: ${missing.join(', ')}`;
    if (strict) throw new UsageError(`--strict: ${line}; run \`flan-eval data fetch ${unit.benchmark}\` (or drop --strict to score the tasks present, marked partial)`);
    if (said.has(line)) continue;
    said.add(line);
    process.stderr.write(`flan-eval: warning: ${line}. They are not evaluated; the score covers the other tasks only and the run record is marked partial. \`flan-eval data fetch ${unit.benchmark}\` restores them; --strict makes this an error.\n`);
  }
  return out;
}
