import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256File } from '../util/fs.js';
import { expectedFiles } from './expected.js';
import { readLock } from './lock.js';
import type { PinTable } from './pins.js';
import { DATA_BENCHMARKS, type DataBenchmark } from './sources.js';

/**
 * `data verify`: every expected file as
 * - `ok`: present, and its SHA-256 matches the pin or the lock record;
 * - `missing`: not there (or not a regular file);
 * - `modified`: there, but its hash differs from the pin or the lock record;
 * - `unrecorded`: there, without a pin and without a lock record (placed by hand; `data fetch` records it).
 */
export type FileStatus = 'ok' | 'missing' | 'modified' | 'unrecorded';

export interface VerifiedFile {
  path: string;
  benchmark: DataBenchmark;
  status: FileStatus;
  basis: 'pin' | 'lock' | 'none';
  expected?: string;
  actual?: string;
}

export interface VerifyReport {
  dataDir: string;
  benchmarks: DataBenchmark[];
  ok: boolean;
  counts: Record<FileStatus, number>;
  files: VerifiedFile[];
}

/**
 * Which benchmarks `data verify` checks when none is named: those with a folder in the data directory
 * (a user who fetched only MMLU is not told that BBH is "missing"); all four when there is none.
 */
export async function presentBenchmarks(dataDir: string): Promise<DataBenchmark[]> {
  const present: DataBenchmark[] = [];
  for (const b of DATA_BENCHMARKS) {
    const st = await stat(join(dataDir, b)).catch(() => null);
    if (st?.isDirectory()) present.push(b);
  }
  return present.length > 0 ? present : [...DATA_BENCHMARKS];
}

export async function verifyData(dataDir: string, benchmarks: readonly DataBenchmark[], pins: PinTable): Promise<VerifyReport> {
  const lock = await readLock(dataDir);
  const files: VerifiedFile[] = [];
  for (const e of expectedFiles(benchmarks, pins, lock)) {
    const abs = join(dataDir, e.rel);
    const st = await stat(abs).catch(() => null);
    const base = { path: e.rel, benchmark: e.benchmark, basis: e.basis, ...(e.sha256 ? { expected: e.sha256 } : {}) };
    if (!st || !st.isFile()) {
      files.push({ ...base, status: 'missing' });
      continue;
    }
    const actual = await sha256File(abs);
    const status: FileStatus = !e.sha256 ? 'unrecorded' : actual === e.sha256 ? 'ok' : 'modified';
    files.push({ ...base, status, actual });
  }
  const counts: Record<FileStatus, number> = { ok: 0, missing: 0, modified: 0, unrecorded: 0 };
  for (const f of files) counts[f.status]++;
  return { dataDir, benchmarks: [...benchmarks], ok: counts.missing === 0 && counts.modified === 0, counts, files };
}
