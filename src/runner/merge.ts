import { join } from 'node:path';
import type { PreparedItem } from '../benchmarks/adapter.js';
import { getBenchmark } from '../benchmarks/registry.js';
import { UsageError } from '../errors.js';
import { loadRunRecords, readPredictions, type LoadedRecord } from '../results/read.js';
import type { ItemScore, PredictionLine, RunRecord } from '../types.js';
import { sha256, writeFileAtomic } from '../util/fs.js';
import { modelSlug, unitStem } from './evaluate.js';
import { compareIds } from './ids.js';

export interface MergeOutcome {
  recordPath: string;
  record: RunRecord;
  shards: number;
}

/**
 * Combine the shard outputs of `run --shard i/n` into one run record per configuration. Shards must share
 * a configuration hash (model, data, format, decoding, scoring) and together cover 0..n-1 exactly once;
 * anything else is refused, since a mixed record would report a number no single setup produced.
 */
export async function mergeShards(inputs: readonly string[], outDir: string): Promise<MergeOutcome[]> {
  const loaded = (await loadRunRecords(inputs, 'shard results')).filter((l) => l.record.selection.shard !== null);
  if (!loaded.length) throw new UsageError(`no sharded run records in ${inputs.join(', ')}; merge combines the outputs of \`flan-eval run --shard i/n\``);
  const groups = new Map<string, LoadedRecord[]>();
  for (const l of loaded) {
    const r = l.record;
    const key = `${r.model.name}\u0000${r.benchmark}\u0000${unitStem(unitOf(r), null)}`;
    groups.set(key, [...(groups.get(key) ?? []), l]);
  }
  const outcomes: MergeOutcome[] = [];
  for (const group of groups.values()) outcomes.push(await mergeGroup(group, outDir));
  return outcomes;
}

function unitOf(r: RunRecord) {
  return {
    benchmark: r.benchmark,
    format: { cot: r.format.cot, shots: r.format.shots },
    selection: { ...(r.format.split ? { split: r.format.split } : {}), ...(r.selection.tasks ? { tasks: r.selection.tasks } : {}), ...(r.selection.limit !== null ? { limit: r.selection.limit } : {}) },
    scoring: r.format.scoring,
  };
}

async function mergeGroup(group: LoadedRecord[], outDir: string): Promise<MergeOutcome> {
  const first = group[0]!.record;
  for (const { record: r, file } of group) {
    if (r.configHash !== first.configHash) {
      const what = r.model.hash !== first.model.hash ? 'model files' : r.data.hash !== first.data.hash ? 'data files' : JSON.stringify(r.decoding) !== JSON.stringify(first.decoding) ? 'decoding settings' : 'configuration';
      throw new UsageError(`${file}: its ${what} differ from ${group[0]!.file}'s (config ${r.configHash.slice(0, 12)} vs ${first.configHash.slice(0, 12)}); merge only shards of one run`);
    }
  }
  const count = first.selection.shard!.count;
  const byIndex = new Map<number, LoadedRecord>();
  for (const l of group) {
    const s = l.record.selection.shard!;
    if (s.count !== count) throw new UsageError(`${l.file}: shard ${s.index}/${s.count} does not belong with ${group[0]!.file} (n = ${count})`);
    if (byIndex.has(s.index)) throw new UsageError(`${l.file}: shard ${s.index}/${count} is given twice (also ${byIndex.get(s.index)!.file})`);
    byIndex.set(s.index, l);
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length) throw new UsageError(`shards ${missing.map((i) => `${i}/${count}`).join(', ')} of ${first.model.name} ${first.benchmark} are missing; run them with --shard, then merge again`);

  const shards = [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, l]) => l);
  const lines: PredictionLine[] = [];
  const seen = new Set<string>();
  for (const l of shards) {
    for (const p of await readPredictions(l)) {
      if (seen.has(p.id)) throw new UsageError(`${l.file}: example ${p.id} is also in another shard; the shards overlap`);
      seen.add(p.id);
      lines.push(p);
    }
  }
  lines.sort((a, b) => compareIds(a.id, b.id));
  const adapter = getBenchmark(first.benchmark);
  const items = lines.map((p) => ({ id: p.id, task: p.task, benchmark: first.benchmark, prompt: '', target: '', stop: [] }) as PreparedItem);
  const scores = new Map<string, ItemScore>(lines.map((p) => [p.id, { answer: p.answer, correct: p.correct, ...(p.metrics ? { metrics: p.metrics } : {}) }]));
  const wall = shards.reduce((a, l) => a + l.record.runtime.wallSeconds, 0);
  const n = lines.length;
  const generated = first.format.scoring === 'generate' ? lines.reduce((a, p) => a + (p.tokens ?? 0), 0) : null;
  const base = join(outDir, modelSlug(first.model.name), unitStem(unitOf(first), null));
  const record: RunRecord = {
    ...first,
    createdAt: new Date().toISOString(),
    promptsHash: sha256(lines.map((p) => `${p.id}\t${p.promptHash}\n`).sort().join('')),
    selection: { ...first.selection, shard: null },
    result: adapter.aggregate(items, scores),
    n,
    failed: shards.reduce((a, l) => a + l.record.failed, 0),
    predictions: `${base.split('/').pop()}.predictions.jsonl`,
    runtime: {
      ...first.runtime,
      // Shards may have run in parallel on many machines: this is the compute time summed over shards.
      wallSeconds: wall,
      examplesPerSecond: n / Math.max(wall, 1e-9),
      generatedTokensPerSecond: generated === null ? null : generated / Math.max(wall, 1e-9),
    },
  };
  await writeFileAtomic(`${base}.predictions.jsonl`, lines.map((p) => `${JSON.stringify(p)}\n`).join(''));
  await writeFileAtomic(`${base}.json`, `${JSON.stringify(record, null, 2)}\n`);
  return { recordPath: `${base}.json`, record, shards: count };
}
