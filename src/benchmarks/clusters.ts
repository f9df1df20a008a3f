import type { BenchmarkName, PredictionLine } from '../types.js';
import { sha256 } from '../util/fs.js';

/**
 * Cluster keys for clustered standard errors (src/stats/clustered.ts): which examples share something
 * that makes their outcomes correlated. Keys are written into prediction lines (`cluster`) so `compare`
 * can cluster without the data.
 */

/** MGSM: the n-th line of every language file is the same problem, translated. */
export function problemCluster(index: number): string {
  return `problem ${index}`;
}

/** TyDiQA: questions asked about the same passage text (languages have different passages). */
export function passageCluster(context: string): string {
  return `passage ${sha256(context).slice(0, 16)}`;
}

/**
 * A prediction line's cluster: its `cluster` field, else (lines written before it existed) what the id
 * says — MGSM ids `mgsm/<lang>/<i>` name the problem; other benchmarks' ids do not name a cluster.
 */
export function clusterOfLine(benchmark: BenchmarkName, line: Pick<PredictionLine, 'id' | 'cluster'>): string | undefined {
  if (line.cluster !== undefined) return line.cluster;
  if (benchmark === 'mgsm') {
    const index = Number(line.id.slice(line.id.lastIndexOf('/') + 1));
    if (Number.isInteger(index)) return problemCluster(index);
  }
  return undefined;
}
