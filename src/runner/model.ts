import { join } from 'node:path';
import type { ModelBackend } from '../backends/types.js';
import type { RunRecord } from '../types.js';
import { hashFiles } from './hashing.js';

/** The model part of a run record: file hashes, and what the backend reports (parameter count, dtype). */
export async function modelMeta(backend: ModelBackend, displayName: string): Promise<RunRecord['model']> {
  const { dir, files: rel, dtype, params, arch, graphRewrites } = backend.info;
  const { files, hash } = await hashFiles(dir, rel.map((f) => join(dir, f)));
  return { name: displayName, path: dir, params, arch, ...(graphRewrites?.length ? { graphRewrites } : {}), dtype, files, hash };
}
