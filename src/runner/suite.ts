import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { getBenchmark } from '../benchmarks/registry.js';
import { UsageError } from '../errors.js';
import { parseJson, readText } from '../util/fs.js';
import type { RunUnit } from './evaluate.js';

/**
 * Suites: declared sets of benchmark × format × shots, e.g. the paper's six held-out columns
 * (benchmarks/suites/flan-heldout.json) or a quick nightly subset. `--suite NAME` finds a shipped suite;
 * `--suite FILE` reads any file of the same shape.
 */
const suiteSchema = z.object({
  name: z.string(),
  description: z.string().optional(),
  runs: z
    .array(
      z
        .object({
          benchmark: z.string(),
          cot: z.boolean().default(false),
          shots: z.number().int().min(0).optional(),
          split: z.string().optional(),
          tasks: z.array(z.string()).optional(),
          limit: z.number().int().min(1).optional(),
          scoring: z.enum(['generate', 'loglik']).default('generate'),
          maxNewTokens: z.number().int().min(1).optional(),
          stop: z.array(z.string().min(1)).optional(),
        })
        .strict(),
    )
    .min(1),
});

export type Suite = z.infer<typeof suiteSchema>;

export const SUITES_DIR = fileURLToPath(new URL('../../../benchmarks/suites/', import.meta.url));

export function suitePath(nameOrFile: string): string {
  if (existsSync(nameOrFile)) return nameOrFile;
  const shipped = join(SUITES_DIR, `${nameOrFile}.json`);
  if (/^[\w-]+$/.test(nameOrFile) && existsSync(shipped)) return shipped;
  throw new UsageError(`--suite ${nameOrFile}: no such file or shipped suite (shipped: flan-heldout, nightly)`);
}

export async function loadSuite(nameOrFile: string): Promise<{ suite: Suite; units: RunUnit[]; path: string }> {
  const path = suitePath(nameOrFile);
  const parsed = suiteSchema.safeParse(parseJson(await readText(path), path));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`${path}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  const units = parsed.data.runs.map((r, i): RunUnit => {
    let adapter;
    try {
      adapter = getBenchmark(r.benchmark);
    } catch (e) {
      throw new UsageError(`${path}: runs.${i}.benchmark: ${(e as Error).message}`);
    }
    const split = r.split ?? adapter.defaultSplit;
    const unit: RunUnit = {
      benchmark: adapter.name,
      format: { cot: r.cot, shots: r.shots ?? adapter.defaultShots },
      selection: { ...(split ? { split } : {}), ...(r.tasks ? { tasks: r.tasks } : {}), ...(r.limit ? { limit: r.limit } : {}) },
      scoring: r.scoring,
    };
    if (r.maxNewTokens) unit.maxNewTokens = r.maxNewTokens;
    if (r.stop) unit.stop = r.stop;
    return unit;
  });
  return { suite: parsed.data, units, path };
}
