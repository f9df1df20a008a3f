import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError, unknownName } from '../errors.js';
import { parseJson, readText } from '../util/fs.js';

/**
 * Helpers every benchmark adapter shares: finding its data folder, resolving user-given task names,
 * reading data files with errors that say how to get the data, and the docs/protocol.md §2 example id.
 */

/** The one hint every "data is missing" message ends with. */
export function fetchHint(benchmark: string): string {
  return `run \`flan-eval data fetch ${benchmark}\` or pass --data-dir`;
}

/**
 * Check that `dataDir/<parts…>` is a folder and return its path. A missing data directory and a missing
 * benchmark folder inside it get different messages, both saying how to get the data.
 */
export async function requireDataFolder(dataDir: string, benchmark: string, ...parts: string[]): Promise<string> {
  const dataStat = await stat(dataDir).catch(() => null);
  if (!dataStat) throw new UsageError(`data directory ${dataDir} does not exist; ${fetchHint(benchmark)}`);
  if (!dataStat.isDirectory()) throw new UsageError(`data directory ${dataDir} is not a folder; ${fetchHint(benchmark)}`);
  const folder = join(dataDir, ...parts);
  const st = await stat(folder).catch(() => null);
  if (!st || !st.isDirectory()) throw new UsageError(`${folder}: no ${benchmark} data found; ${fetchHint(benchmark)}`);
  return folder;
}

/**
 * The names of the files in `folder` ending in `suffix` (without the suffix), sorted. Other files
 * (README.md next to the BBH task files, editor backups, hidden files) are ignored.
 */
export async function listNamesWithSuffix(folder: string, suffix: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true });
  return entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && !e.name.startsWith('.') && e.name.endsWith(suffix) && e.name.length > suffix.length)
    .map((e) => e.name.slice(0, -suffix.length))
    .sort();
}

/**
 * Resolve user-given task names (MMLU subjects, BBH tasks, languages) against those available, in the
 * order of `available` (the canonical, sorted order), without duplicates. Matching is exact first, then
 * case-insensitive; `aliases` maps other spellings (e.g. TyDiQA's `ar` → `arabic`) to canonical names.
 * Nothing given (undefined or []) means all. An unknown name throws with "did you mean".
 */
export function resolveTaskNames(
  kind: string,
  given: readonly string[] | undefined,
  available: readonly string[],
  aliases: Readonly<Record<string, string>> = {},
): string[] {
  if (!given || given.length === 0) return [...available];
  const lower = new Map(available.map((a) => [a.toLowerCase(), a]));
  const wanted = new Set<string>();
  for (const raw of given) {
    const name = raw.trim();
    if (!name) continue;
    const alias = aliases[name] ?? aliases[name.toLowerCase()];
    const hit = available.includes(name) ? name : (lower.get(name.toLowerCase()) ?? (alias && available.includes(alias) ? alias : undefined));
    if (!hit) throw unknownName(kind, name, available);
    wanted.add(hit);
  }
  return available.filter((a) => wanted.has(a));
}

/** Keep the first `limit` examples (docs/protocol.md §5 `--limit`, per task); undefined keeps all. */
export function applyLimit<T>(examples: readonly T[], limit: number | undefined): T[] {
  return limit === undefined ? [...examples] : examples.slice(0, limit);
}

/** docs/protocol.md §2: `<benchmark>/<task>/<index>`, index 0-based in file order. */
export function exampleId(benchmark: string, task: string, index: number): string {
  return `${benchmark}/${task}/${index}`;
}

/** Read a data file; "not found" says how to get the data. */
export function readDataFile(path: string, benchmark: string): Promise<string> {
  return readText(path, fetchHint(benchmark));
}

/** Read and parse a JSON data file; malformed or truncated JSON is one line naming the file. */
export async function readDataJson(path: string, benchmark: string): Promise<unknown> {
  return parseJson(await readDataFile(path, benchmark), path);
}

/** Progress and notices go to stderr (docs/protocol.md §5), keeping stdout for results. */
export function notice(message: string): void {
  process.stderr.write(`flan-eval: ${message}\n`);
}
