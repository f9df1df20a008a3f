import type { Lock } from './lock.js';
import { pinnedPaths, type PinTable } from './pins.js';
import { githubUrl, MMLU_TAR_URL, mmluCsvPaths, TYDIQA_FILES, type DataBenchmark } from './sources.js';

/** A file the data directory should hold, and what its hash should be. */
export interface ExpectedFile {
  rel: string;
  benchmark: DataBenchmark;
  /** Upstream URL of the download it comes from (for MMLU CSVs: data.tar). */
  source: string;
  /** `pin`: data/upstream-sha256.txt; `lock`: recorded at first download; `none`: nothing known yet. */
  basis: 'pin' | 'lock' | 'none';
  sha256?: string;
}

/**
 * Every file of the given benchmarks: the pinned GitHub files, the 171 MMLU CSVs (plus any others the lock
 * recorded from a data.tar), and the TyDiQA files.
 */
export function expectedFiles(benchmarks: readonly DataBenchmark[], pins: PinTable, lock: Lock): ExpectedFile[] {
  const out: ExpectedFile[] = [];
  for (const benchmark of benchmarks) {
    for (const rel of pinnedPaths(pins, benchmark)) {
      out.push({ rel, benchmark, source: githubUrl(rel)!, basis: 'pin', sha256: pins.pins.get(rel)! });
    }
    const unpinned =
      benchmark === 'mmlu'
        ? [...new Set([...mmluCsvPaths(), ...Object.keys(lock.files).filter((k) => k.startsWith('mmlu/'))])]
            .filter((rel) => !pins.pins.has(rel))
            .sort()
            .map((rel) => ({ rel, url: MMLU_TAR_URL }))
        : benchmark === 'tydiqa'
          ? TYDIQA_FILES.map((f) => ({ rel: f.rel, url: f.url }))
          : [];
    for (const { rel, url } of unpinned) {
      const rec = lock.files[rel];
      out.push(rec ? { rel, benchmark, source: rec.source, basis: 'lock', sha256: rec.sha256 } : { rel, benchmark, source: url, basis: 'none' });
    }
  }
  return out;
}

/**
 * The distinct upstream URLs `data fetch` downloads for these benchmarks, in order (for `--list-urls`:
 * feed them to `wget -x -i` on a connected machine to build a mirror).
 */
export function upstreamUrls(benchmarks: readonly DataBenchmark[], pins: PinTable): string[] {
  const urls = expectedFiles(benchmarks, pins, { format: 'flan-eval.lock/1', sources: {}, files: {} }).map((e) => e.source);
  return [...new Set(urls)];
}
