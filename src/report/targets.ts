import { getBenchmark } from '../benchmarks/registry.js';
import { UsageError } from '../errors.js';
import { hashFiles } from '../runner/hashing.js';
import type { RunRecord } from '../types.js';

/**
 * Targets for prediction lines written before lines carried their `target`: rebuild the record's examples
 * from the data directory (same benchmark, format and selection) and read the targets off them. Only
 * when the data files are the very ones the run used (same data hash): a target from other data would be
 * a guess presented as a fact. Returns null, never throws, when the data is missing or different, so
 * `compare` still reports the flips (without targets) and says why.
 */
export function targetsFromData(dataDir: string): (record: RunRecord) => Promise<ReadonlyMap<string, string> | null> {
  const cache = new Map<string, Promise<ReadonlyMap<string, string> | null>>();
  return (record) => {
    const key = JSON.stringify([record.benchmark, record.format, record.selection.tasks, record.selection.limit, record.data.hash]);
    let found = cache.get(key);
    if (!found) {
      found = lookUp(dataDir, record);
      cache.set(key, found);
    }
    return found;
  };
}

async function lookUp(dataDir: string, record: RunRecord): Promise<ReadonlyMap<string, string> | null> {
  const adapter = getBenchmark(record.benchmark);
  try {
    const prepared = await adapter.prepare(
      dataDir,
      { cot: record.format.cot, shots: record.format.shots },
      { ...(record.selection.tasks ? { tasks: record.selection.tasks } : {}), ...(record.format.split ? { split: record.format.split } : {}), ...(record.selection.limit !== null ? { limit: record.selection.limit } : {}) },
    );
    const data = await hashFiles(dataDir, prepared.files);
    if (data.hash !== record.data.hash) return null;
    return new Map(prepared.items.map((i) => [i.id, i.target]));
  } catch (e) {
    if (e instanceof UsageError) return null;
    throw e;
  }
}
