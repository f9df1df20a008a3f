import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { isHubId, modelCacheDir, readManifest, type ModelDtype } from './cache.js';

export interface ResolveModelOptions {
  /** Hub revision of a cached model (default main). */
  revision?: string;
  /** When given, a cached model must have been pulled with this dtype. */
  dtype?: ModelDtype;
  env?: NodeJS.ProcessEnv;
}

/**
 * Turn a `--model` value into a model folder: an existing folder is used as it is; anything else is read as
 * a Hugging Face id and looked up in the model cache (`models pull` puts it there). Never touches the
 * network: a model that is not there is a UsageError saying exactly what to run.
 */
export async function resolveModel(spec: string, opts: ResolveModelOptions = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const st = await stat(spec).catch(() => null);
  if (st?.isDirectory()) return resolve(spec);
  if (st) throw new UsageError(`--model ${spec} is a file; give the model folder (the one holding config.json and onnx/)`);
  if (!isHubId(spec)) {
    throw new UsageError(`--model ${spec}: no such folder, and not a Hugging Face id (owner/name); check the path`);
  }
  const revision = opts.revision || 'main';
  const dir = modelCacheDir(spec, revision, env);
  const revFlag = revision === 'main' ? '' : ` --revision ${revision}`;
  const manifest = await readManifest(dir);
  if (!manifest) {
    throw new UsageError(
      `--model ${spec}: no such folder, and not in the model cache (${dir}); run \`flan-eval models pull ${spec}${revFlag}${opts.dtype && opts.dtype !== 'fp32' ? ` --dtype ${opts.dtype}` : ''}\` or pass the model folder`,
    );
  }
  if (opts.dtype && !manifest.dtypes[opts.dtype]) {
    const have = Object.keys(manifest.dtypes).join(', ') || 'none';
    throw new UsageError(
      `--model ${spec}: the cached copy has no ${opts.dtype} files (it has ${have}); run \`flan-eval models pull ${spec}${revFlag} --dtype ${opts.dtype}\``,
    );
  }
  return dir;
}
