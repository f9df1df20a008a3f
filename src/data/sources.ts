import { UsageError, unknownName } from '../errors.js';

/**
 * Where every data file of docs/protocol.md §1 comes from. Paths are relative to the data directory and mirror the
 * upstream layouts, so hand-placed upstream files and fetched ones are interchangeable.
 */

export const DATA_BENCHMARKS = ['mmlu', 'bbh', 'mgsm', 'tydiqa'] as const;
export type DataBenchmark = (typeof DATA_BENCHMARKS)[number];

/**
 * GitHub-hosted files: the data-dir prefix → the raw URL prefix it maps to. Which files exist under each
 * prefix comes from the pin table (data/upstream-sha256.txt lists every one, with its hash).
 */
const GITHUB_PREFIXES: readonly { prefix: string; url: string }[] = [
  // suzgunmirac/BIG-Bench-Hard keeps bbh/<task>.json and cot-prompts/<task>.txt at its root.
  { prefix: 'bbh/', url: 'https://raw.githubusercontent.com/suzgunmirac/BIG-Bench-Hard/main/' },
  { prefix: 'mgsm/', url: 'https://raw.githubusercontent.com/google-research/url-nlp/main/mgsm/' },
  { prefix: 'mmlu/mmlu-cot.json', url: 'https://raw.githubusercontent.com/jasonwei20/flan-2/main/mmlu-cot.json' },
];

/** The upstream URL of a pinned (GitHub-hosted) data path, or undefined for a path no rule covers. */
export function githubUrl(rel: string): string | undefined {
  for (const { prefix, url } of GITHUB_PREFIXES) {
    if (prefix.endsWith('/') ? rel.startsWith(prefix) && rel.length > prefix.length : rel === prefix) {
      return prefix.endsWith('/') ? url + rel.slice(prefix.length) : url;
    }
  }
  return undefined;
}

/** Hendrycks' archive; only its data/{dev,val,test}/*.csv are extracted, into mmlu/{dev,val,test}/. */
export const MMLU_TAR_URL = 'https://people.eecs.berkeley.edu/~hendrycks/data.tar';
export const MMLU_SPLITS = ['dev', 'val', 'test'] as const;

/** The 57 MMLU subjects, used to report missing CSVs without a lock (one list, kept with the categories). */
export { MMLU_SUBJECTS } from '../benchmarks/mmlu/categories.js';
import { MMLU_SUBJECTS } from '../benchmarks/mmlu/categories.js';

export function mmluCsvPaths(subjects: readonly string[] = MMLU_SUBJECTS): string[] {
  return MMLU_SPLITS.flatMap((split) => subjects.map((s) => `mmlu/${split}/${s}_${split}.csv`));
}

/** TyDiQA GoldP: SQuAD-format JSON on Google Cloud Storage, no published checksum. */
export const TYDIQA_FILES: readonly { rel: string; url: string }[] = [
  { rel: 'tydiqa/tydiqa-goldp-v1.1-dev.json', url: 'https://storage.googleapis.com/tydiqa/v1.1/tydiqa-goldp-v1.1-dev.json' },
  { rel: 'tydiqa/tydiqa-goldp-v1.1-train.json', url: 'https://storage.googleapis.com/tydiqa/v1.1/tydiqa-goldp-v1.1-train.json' },
];

/**
 * `--mirror URL` layout: the upstream URL's host and path appended to the mirror, i.e.
 * `https://raw.githubusercontent.com/a/b/main/x.json` → `<mirror>/raw.githubusercontent.com/a/b/main/x.json`.
 * `wget -x` / `wget --mirror` of the upstream URLs produces exactly this tree, so any static file server
 * over such a folder is a mirror.
 */
export function mirrorUrl(upstream: string, mirror: string | undefined): string {
  if (!mirror) return upstream;
  const u = new URL(upstream);
  return `${mirror.replace(/\/+$/, '')}/${u.host}${u.pathname}${u.search}`;
}

/** Check --mirror early, so a typo is one clear line and not a failed download per file. */
export function checkMirror(mirror: string | undefined): string | undefined {
  if (mirror === undefined || mirror === '') return undefined;
  let u: URL;
  try {
    u = new URL(mirror);
  } catch {
    throw new UsageError(`--mirror "${mirror}" is not a URL; give e.g. --mirror http://host:8080/flan-eval-mirror`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new UsageError(`--mirror "${mirror}" must be an http:// or https:// URL (to use local files, place them by hand in the data directory)`);
  }
  return mirror;
}

/** Resolve the benchmark words of `data fetch mmlu bbh` / `all` (none means all). */
export function parseBenchmarks(words: readonly string[] | undefined): DataBenchmark[] {
  if (!words || words.length === 0 || words.includes('all')) return [...DATA_BENCHMARKS];
  const out: DataBenchmark[] = [];
  for (const w of words) {
    const name = w.toLowerCase();
    if (!(DATA_BENCHMARKS as readonly string[]).includes(name)) {
      throw unknownName('benchmark', w, [...DATA_BENCHMARKS, 'all']);
    }
    if (!out.includes(name as DataBenchmark)) out.push(name as DataBenchmark);
  }
  return out;
}
