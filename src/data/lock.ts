import { join } from 'node:path';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { exists, parseJson, readText, writeFileAtomic } from '../util/fs.js';

/**
 * `<data-dir>/flan-eval.lock.json`: the hashes of the files no pin covers (MMLU's data.tar and the CSVs
 * taken from it, the TyDiQA files), recorded at their first download ("trust on first use") and checked on
 * every later download and by `data verify`.
 *
 * - `sources`: each downloaded artifact, keyed by its upstream URL (not the mirror URL, so a mirror is held
 *   to the same record);
 * - `files`: each placed file without a pin, keyed by its data path, with the source it came from.
 */
export const LOCK_NAME = 'flan-eval.lock.json';
export const LOCK_FORMAT = 'flan-eval.lock/1';

const Sha = z.string().regex(/^[0-9a-f]{64}$/);
const LockSchema = z.object({
  format: z.literal(LOCK_FORMAT),
  sources: z.record(z.string(), z.object({ sha256: Sha, bytes: z.number().int().nonnegative(), recordedAt: z.string() })),
  files: z.record(z.string(), z.object({ sha256: Sha, bytes: z.number().int().nonnegative(), source: z.string() })),
});
export type Lock = z.infer<typeof LockSchema>;

export function lockPath(dataDir: string): string {
  return join(dataDir, LOCK_NAME);
}

export function emptyLock(): Lock {
  return { format: LOCK_FORMAT, sources: {}, files: {} };
}

export async function readLock(dataDir: string): Promise<Lock> {
  const file = lockPath(dataDir);
  if (!(await exists(file))) return emptyLock();
  const parsed = LockSchema.safeParse(parseJson(await readText(file), file));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(file, `not a flan-eval lock file (${issue?.path.join('.') || 'top level'}: ${issue?.message}); delete it to record the hashes afresh`);
  }
  return parsed.data;
}

export async function writeLock(dataDir: string, lock: Lock): Promise<void> {
  const sorted = (o: Record<string, unknown>) => Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
  const out = { format: LOCK_FORMAT, sources: sorted(lock.sources), files: sorted(lock.files) };
  await writeFileAtomic(lockPath(dataDir), `${JSON.stringify(out, null, 2)}\n`);
}
