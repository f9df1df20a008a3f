import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { cacheRoot } from '../config/paths.js';
import { InputError, UsageError } from '../errors.js';
import { exists, parseJson, readText, writeFileAtomic } from '../util/fs.js';

/**
 * The model cache: `<cacheRoot>/models/<owner>--<name>/<revision>/` holds one Hub revision in the export
 * layout of docs/protocol.md §6 (so the folder itself is a valid `--model`), plus `.flan-eval-model.json`, the manifest
 * written last by `models pull`: its presence means the pull completed. cacheRoot is
 * `$FLAN_EVAL_CACHE`, else `$XDG_CACHE_HOME/flan-eval`, else `~/.cache/flan-eval`. The Hugging Face cache
 * (`$HF_HOME`) is not used: its blob/snapshot symlink layout is not a plain model folder.
 */
export const MANIFEST_NAME = '.flan-eval-model.json';
export const MANIFEST_FORMAT = 'flan-eval.model/1';

// The dtypes and their file suffixes are the backend's (it is what opens the files).
export { DTYPES as MODEL_DTYPES, type Dtype as ModelDtype } from '../backends/types.js';
export { DTYPE_SUFFIX } from '../backends/onnx/layout.js';
import { DTYPES as MODEL_DTYPES, type Dtype as ModelDtype } from '../backends/types.js';

const Sha = z.string().regex(/^[0-9a-f]{64}$/);
const ManifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  id: z.string(),
  revision: z.string(),
  commit: z.string().optional(),
  endpoint: z.string(),
  pulledAt: z.string(),
  files: z.record(z.string(), z.object({ sha256: Sha, bytes: z.number().int().nonnegative() })),
  dtypes: z.record(
    z.string(),
    z.object({
      /** Absent for a decoder-only export, whose one graph (onnx/model.onnx) is its decoder. */
      encoder: z.string().optional(),
      decoders: z.array(z.string()),
      params: z.number().int().nonnegative(),
    }),
  ),
});
export type Manifest = z.infer<typeof ManifestSchema>;

/** Hub ids: `owner/name` (or a bare legacy `name`), letters, digits, `-`, `_`, `.`. */
const HUB_ID = /^(?:[A-Za-z0-9][A-Za-z0-9._-]*\/)?[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function isHubId(spec: string): boolean {
  return HUB_ID.test(spec) && !spec.includes('..') && !spec.endsWith('.') && !spec.endsWith('/');
}

export function checkHubId(id: string): string {
  if (!isHubId(id)) throw new UsageError(`"${id}" is not a Hugging Face model id; give it as owner/name, e.g. Xenova/flan-t5-small`);
  return id;
}

export function modelsRoot(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), 'models');
}

/** `<models root>/<owner>--<name>/<revision>`; revisions like `refs/pr/1` are percent-encoded. */
export function modelCacheDir(id: string, revision: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(modelsRoot(env), id.replace('/', '--'), encodeURIComponent(revision));
}

export async function readManifest(dir: string): Promise<Manifest | undefined> {
  const file = join(dir, MANIFEST_NAME);
  if (!(await exists(file))) return undefined;
  const parsed = ManifestSchema.safeParse(parseJson(await readText(file), file));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(file, `not a flan-eval model manifest (${issue?.path.join('.') || 'top level'}: ${issue?.message}); pull the model again with --force`);
  }
  return parsed.data;
}

export async function writeManifest(dir: string, m: Manifest): Promise<void> {
  const files = Object.fromEntries(Object.keys(m.files).sort().map((k) => [k, m.files[k]!]));
  await writeFileAtomic(join(dir, MANIFEST_NAME), `${JSON.stringify({ ...m, files }, null, 2)}\n`);
}

export interface CachedModel {
  id: string;
  revision: string;
  commit?: string;
  dir: string;
  dtypes: ModelDtype[];
  /** Parameters of the export (countModelParams over the graphs that run), from the first dtype pulled. */
  params: number;
  /** Bytes of all files of the model folder. */
  bytes: number;
}

/** Every completed pull in the cache, sorted by id and revision. */
export async function listCachedModels(env: NodeJS.ProcessEnv = process.env): Promise<CachedModel[]> {
  const root = modelsRoot(env);
  const out: CachedModel[] = [];
  for (const repo of await dirNames(root)) {
    for (const rev of await dirNames(join(root, repo))) {
      const dir = join(root, repo, rev);
      const m = await readManifest(dir);
      if (!m) continue;
      const dtypes = MODEL_DTYPES.filter((d) => m.dtypes[d]);
      const first = dtypes[0];
      out.push({
        id: m.id,
        revision: m.revision,
        ...(m.commit ? { commit: m.commit } : {}),
        dir,
        dtypes,
        params: first ? m.dtypes[first]!.params : 0,
        bytes: await folderBytes(dir),
      });
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id) || a.revision.localeCompare(b.revision));
}

async function dirNames(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const parent = (e as { parentPath?: string; path?: string }).parentPath ?? (e as { path?: string }).path ?? dir;
    total += (await stat(join(parent, e.name)).catch(() => ({ size: 0 }))).size;
  }
  return total;
}
