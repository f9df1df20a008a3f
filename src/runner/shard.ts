import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';

export interface Shard {
  index: number;
  count: number;
}

/** `--shard i/n`, 0-based: `0/2` and `1/2` together cover everything once. */
export function parseShard(value: string | undefined): Shard | null {
  if (value === undefined) return null;
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  if (!m) throw new UsageError(`--shard ${value}: expected i/n, e.g. --shard 0/4 (0-based index, n shards)`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index >= count) throw new UsageError(`--shard ${value}: the index must be 0..${Math.max(0, count - 1)} and n at least 1`);
  return { index, count };
}

/**
 * Which shard an example belongs to: a hash of its id, so the partition is the same on every machine,
 * for every batch size and order, and balanced across tasks without knowing the others' sizes.
 */
export function shardOf(id: string, count: number): number {
  return createHash('sha256').update(id).digest().readUInt32BE(0) % count;
}

export function inShard(id: string, shard: Shard | null): boolean {
  return shard === null || shardOf(id, shard.count) === shard.index;
}
