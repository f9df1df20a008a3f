import { unknownName } from '../errors.js';
import { BENCHMARKS, type BenchmarkName } from '../types.js';
import type { BenchmarkAdapter } from './adapter.js';
import { bbhAdapter } from './bbh/index.js';
import { mgsmAdapter } from './mgsm/index.js';
import { mmluAdapter } from './mmlu/index.js';
import { tydiqaAdapter } from './tydiqa/index.js';

/** Every benchmark by name: the one place the CLI, runner and reporter look adapters up. */
const ADAPTERS: Readonly<Record<BenchmarkName, BenchmarkAdapter>> = {
  mmlu: mmluAdapter,
  bbh: bbhAdapter,
  tydiqa: tydiqaAdapter,
  mgsm: mgsmAdapter,
};

/** The benchmark names, in docs/protocol.md order. */
export const benchmarkNames: readonly BenchmarkName[] = BENCHMARKS;

export function isBenchmarkName(name: string): name is BenchmarkName {
  return (BENCHMARKS as readonly string[]).includes(name);
}

/** The adapter for `name` (case-insensitive); an unknown name is a UsageError with "did you mean". */
export function getBenchmark(name: string): BenchmarkAdapter {
  const key = name.trim().toLowerCase();
  if (!isBenchmarkName(key)) throw unknownName('benchmark', name, benchmarkNames);
  return ADAPTERS[key];
}
