import { join } from 'node:path';
import pLimit from 'p-limit';
import { InternalError, UsageError } from '../errors.js';
import { DownloadError } from '../net/errors.js';
import { discardStaged, downloadToTemp, placeStaged, stageBytes, type Staged } from '../net/download.js';
import type { Progress } from '../net/progress.js';
import type { NetSettings } from '../net/settings.js';
import { exists, sha256File } from '../util/fs.js';
import { expectedFiles, type ExpectedFile } from './expected.js';
import { lockPath, readLock, writeLock, type Lock } from './lock.js';
import { DEFAULT_TAR_LIMITS, readMmluCsvsFromTar, type TarLimits } from './mmluTar.js';
import type { PinTable } from './pins.js';
import { mirrorUrl, MMLU_TAR_URL, type DataBenchmark } from './sources.js';

export interface FetchOptions {
  dataDir: string;
  benchmarks: readonly DataBenchmark[];
  pins: PinTable;
  net: NetSettings;
  mirror?: string;
  /** Download even what is already in place and verified. */
  force?: boolean;
  env?: NodeJS.ProcessEnv;
  progress?: Progress;
  /** How many downloads run at once. */
  concurrency?: number;
  tarLimits?: TarLimits;
  /** Largest accepted data.tar (the real one is about 160 MiB). */
  maxTarBytes?: number;
  /** Largest accepted single data file (default 1 GiB; the largest, TyDiQA's train file, is far smaller). */
  maxFileBytes?: number;
}

export interface FetchSummary {
  /** Data paths placed by this run. */
  placed: string[];
  /** Data paths already in place and verified (skipped). */
  upToDate: string[];
  /** Upstream URLs whose hash was recorded in the lock for the first time. */
  recorded: string[];
}

/** A hash that differs from the pin or the lock record: exit 2, nothing placed. */
export class IntegrityError extends UsageError {}

/**
 * `data fetch`: download what the benchmarks need, verify every byte, and only then place it.
 *
 * All or nothing per run: every download goes to a hidden temporary file next to its target and is checked
 * (pin, or lock record, or recorded now); only when every requested file has arrived and passed are they
 * renamed into place and the lock updated. A mismatch or a download that keeps failing leaves the data
 * directory exactly as it was. Files already in place with the right hash are skipped (`force` re-fetches).
 */
export async function fetchData(opts: FetchOptions): Promise<FetchSummary> {
  const { dataDir, pins, net } = opts;
  const lock = await readLock(dataDir);
  const expected = expectedFiles(opts.benchmarks, pins, lock);
  const summary: FetchSummary = { placed: [], upToDate: [], recorded: [] };

  const todo: ExpectedFile[] = [];
  let tarNeeded = false;
  for (const e of expected) {
    const fromTar = e.source === MMLU_TAR_URL && e.basis !== 'pin';
    if (!opts.force && e.sha256 && (await hashIfPresent(join(dataDir, e.rel))) === e.sha256) {
      summary.upToDate.push(e.rel);
    } else if (fromTar) {
      tarNeeded = true;
    } else {
      todo.push(e);
    }
  }
  // data.tar comes whole: any CSV out of date re-extracts them all; those up to date count as replaced.
  if (tarNeeded) summary.upToDate = summary.upToDate.filter((rel) => !isTarMember(rel, pins));

  const staged: Staged[] = [];
  const placedRel: string[] = [];
  const newSources: Lock['sources'] = {};
  const newFiles: Lock['files'] = {};
  let failed = false;
  const limit = pLimit(opts.concurrency ?? 4);
  const common = { net, env: opts.env, progress: opts.progress };

  const fetchOne = async (e: ExpectedFile) => {
    if (failed) return;
    const url = mirrorUrl(e.source, opts.mirror);
    const s = await downloadToTemp(url, join(dataDir, e.rel), { ...common, label: e.rel, maxBytes: opts.maxFileBytes ?? 1024 ** 3 });
    if (!s) throw new InternalError(`a required download answered "missing" (${url})`);
    staged.push(s);
    placedRel.push(e.rel);
    checkHash(e.rel, s, e.basis === 'pin' ? { sha: e.sha256!, where: `pinned in ${pins.file}` } : sourceRecord(lock, e.source, dataDir), url);
    if (e.basis !== 'pin') {
      if (!lock.sources[e.source]) newSources[e.source] = { sha256: s.sha256, bytes: s.bytes, recordedAt: new Date().toISOString() };
      newFiles[e.rel] = { sha256: s.sha256, bytes: s.bytes, source: e.source };
    }
  };

  const fetchTar = async () => {
    if (failed) return;
    const url = mirrorUrl(MMLU_TAR_URL, opts.mirror);
    const tarTarget = join(dataDir, 'mmlu', 'data.tar');
    const s = await downloadToTemp(url, tarTarget, { ...common, label: 'mmlu/data.tar', maxBytes: opts.maxTarBytes ?? 1024 ** 3 });
    if (!s) throw new InternalError(`a required download answered "missing" (${url})`);
    try {
      checkHash('mmlu/data.tar', s, sourceRecord(lock, MMLU_TAR_URL, dataDir), url);
      const csvs = await readMmluCsvsFromTar(s.tmp, `mmlu/data.tar (${url})`, opts.tarLimits ?? DEFAULT_TAR_LIMITS);
      for (const [rel, bytes] of csvs) {
        if (pins.pins.has(rel)) continue;
        const member = await stageBytes(join(dataDir, rel), bytes);
        staged.push(member);
        placedRel.push(rel);
        newFiles[rel] = { sha256: member.sha256, bytes: member.bytes, source: MMLU_TAR_URL };
      }
      if (!lock.sources[MMLU_TAR_URL]) newSources[MMLU_TAR_URL] = { sha256: s.sha256, bytes: s.bytes, recordedAt: new Date().toISOString() };
      opts.progress?.line(`  mmlu: ${csvs.size} CSV files taken from data.tar`);
    } finally {
      // The archive itself is not kept: the CSVs are what loaders read, and the lock keeps its hash.
      await discardStaged([s]);
    }
  };

  opts.progress?.setTotal(todo.length + (tarNeeded ? 1 : 0));
  const jobs = [...todo.map((e) => limit(() => fetchOne(e).catch(stop))), ...(tarNeeded ? [limit(() => fetchTar().catch(stop))] : [])];
  const errors: unknown[] = [];
  function stop(e: unknown): void {
    failed = true;
    errors.push(e);
  }
  await Promise.all(jobs);
  if (errors.length > 0) {
    await discardStaged(staged);
    // An integrity failure matters more than a network one that happened alongside it.
    throw explain(errors.find((e) => e instanceof IntegrityError) ?? errors[0], opts.mirror);
  }

  try {
    for (const s of staged) await placeStaged(s);
  } catch (e) {
    await discardStaged(staged);
    throw e;
  }
  const recorded = Object.keys(newSources);
  if (staged.length > 0) {
    await writeLock(dataDir, { ...lock, sources: { ...lock.sources, ...newSources }, files: { ...lock.files, ...newFiles } });
  }
  summary.placed = placedRel.sort();
  summary.recorded = recorded.sort();
  return summary;
}

function isTarMember(rel: string, pins: PinTable): boolean {
  return rel.startsWith('mmlu/') && !pins.pins.has(rel) && rel.endsWith('.csv');
}

async function hashIfPresent(path: string): Promise<string | undefined> {
  return (await exists(path)) ? sha256File(path).catch(() => undefined) : undefined;
}

function sourceRecord(lock: Lock, source: string, dataDir: string): { sha: string; where: string } | undefined {
  const rec = lock.sources[source];
  return rec ? { sha: rec.sha256, where: `recorded in ${lockPath(dataDir)} on ${rec.recordedAt.slice(0, 10)}` } : undefined;
}

function checkHash(label: string, s: Staged, want: { sha: string; where: string } | undefined, url: string): void {
  if (!want || want.sha === s.sha256) return;
  throw new IntegrityError(
    `${label}: SHA-256 mismatch: expected ${want.sha} (${want.where}), got ${s.sha256} from ${url}; nothing was placed. ` +
      (want.where.startsWith('pinned')
        ? 'The download is not the pinned upstream file: check --mirror or your proxy.'
        : 'If upstream really changed the file, delete its entry from the lock file (or the lock file) and fetch again.'),
  );
}

function explain(e: unknown, mirror: string | undefined): unknown {
  if (!(e instanceof DownloadError)) return e;
  const hint =
    e.kind === 'http' && e.status === 404 && mirror
      ? `the mirror has no such file (layout: <mirror>/<upstream host>/<upstream path>)`
      : e.kind === 'unreachable'
        ? `check the network or proxy (HTTPS_PROXY), pass --mirror URL, or place the files by hand (README: "Getting the data and models")`
        : `try again later, pass --mirror URL, or place the files by hand (README: "Getting the data and models")`;
  return new UsageError(`${e.message}; ${hint}; nothing was placed`, { cause: e });
}
