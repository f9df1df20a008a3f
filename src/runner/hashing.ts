import { relative } from 'node:path';
import { sha256, sha256File } from '../util/fs.js';

const cache = new Map<string, Promise<string>>();

/** sha256 of a file, computed once per process (model files are large and shared by many run units). */
export function hashFile(path: string): Promise<string> {
  let h = cache.get(path);
  if (!h) {
    h = sha256File(path);
    cache.set(path, h);
  }
  return h;
}

/** Hash a set of files: relative path → sha256, and one digest over the sorted entries. */
export async function hashFiles(root: string, paths: readonly string[]): Promise<{ files: Record<string, string>; hash: string }> {
  const entries = await Promise.all(
    [...new Set(paths)].map(async (p) => [relative(root, p).split('\\').join('/'), await hashFile(p)] as const),
  );
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { files: Object.fromEntries(entries), hash: sha256(entries.map(([p, h]) => `${p}\t${h}\n`).join('')) };
}
