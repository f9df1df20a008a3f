/** Helpers shared by the decode profilers (profileDecode.ts, profileCausal.ts). */
import { readdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Deterministic pseudo-random values in ±0.1 (weights- and cache-like inputs for the profilers). */
export function filled(dims: number[], seed: number): Float32Array {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    data[i] = (x / 2147483648 - 0.5) * 0.2;
  }
  return data;
}

interface ProfileEvent {
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string };
}

/** What ONNX Runtime's per-operator profile of a session says, summed over its runs (durations in µs). */
export interface OpProfile {
  /** Kernel time per operator type. */
  byOp: Map<string, number>;
  /** Kernel time of all operators. */
  opTotal: number;
  /** Each run's whole `model_run` duration, in ms. */
  modelRunsMs: number[];
}

/**
 * Read (and delete) the profile a session wrote after `session.endProfiling()`: ONNX Runtime names the
 * file `<prefix>_<timestamp>.json`, where `prefix` is the session's `profileFilePrefix`.
 */
export async function readOpProfile(prefix: string): Promise<OpProfile> {
  const dir = dirname(prefix);
  const name = (await readdir(dir)).find((f) => f.startsWith(basename(prefix)) && f.endsWith('.json'));
  if (!name) throw new Error(`no ONNX Runtime profile ${prefix}_*.json was written`);
  const file = join(dir, name);
  const events = JSON.parse(await readFile(file, 'utf8')) as ProfileEvent[];
  await rm(file, { force: true });
  const byOp = new Map<string, number>();
  let opTotal = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const op = e.args?.op_name ?? '?';
    byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
    opTotal += e.dur;
  }
  const modelRunsMs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').map((e) => e.dur / 1000);
  return { byOp, opTotal, modelRunsMs };
}
