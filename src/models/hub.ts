import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { discardStaged, downloadToTemp, placeStaged, type Staged } from '../net/download.js';
import { DownloadError } from '../net/errors.js';
import type { Progress } from '../net/progress.js';
import type { NetSettings } from '../net/settings.js';
import { exists, parseJson, readText, sha256File } from '../util/fs.js';
import { GRAPH, onnxFile } from '../backends/onnx/layout.js';
import { checkHubId, MANIFEST_FORMAT, modelCacheDir, readManifest, writeManifest, type Manifest, type ModelDtype } from './cache.js';
import { readOnnxSummary } from './onnxParams.js';
import { readModelFolder, type ModelFolder } from '../backends/config.js';
import { causalModelParams, countModelParams, seq2seqSharedEmbedding } from '../backends/params.js';
import { modelFamily } from '../backends/archs.js';

/**
 * `models pull`: fetch the files of one ONNX export (docs/protocol.md §6) from the Hugging Face Hub's
 * `<endpoint>/<repo>/resolve/<revision>/<path>` URLs into the model cache.
 *
 * - endpoint: `$HF_ENDPOINT` (a mirror, or a test server), else https://huggingface.co;
 * - `$HF_TOKEN`, when set, is sent as `Authorization: Bearer …` to the endpoint only (never to the CDN
 *   the Hub redirects large files to);
 * - the files: config.json (read first: its `model_type` says which graphs to ask for), tokenizer.json,
 *   tokenizer_config.json, generation_config.json (optional), and the graphs of the dtype
 *   (src/backends/onnx/layout.ts): for an encoder-decoder export, encoder_model and decoder_model_merged —
 *   or, when the export has no merged decoder (404), decoder_model + decoder_with_past_model; for a
 *   decoder-only one (llama, qwen2, gpt2), model — or, in older exports without it, decoder_model_merged,
 *   as the causal backend falls back; plus any external-data files the ONNX graphs name;
 * - integrity: every ONNX file must parse as ONNX; where the Hub sends the SHA-256 of an LFS file
 *   (`X-Linked-ETag`), the download must match it;
 * - all or nothing: files are staged next to their targets and placed only when every one has arrived;
 *   the manifest, written last, marks the pull complete. Files already there with the recorded hash are
 *   not downloaded again (unless `force`).
 */
export interface PullOptions {
  id: string;
  revision?: string;
  dtype?: ModelDtype;
  net: NetSettings;
  env?: NodeJS.ProcessEnv;
  progress?: Progress;
  force?: boolean;
}

export interface PullResult {
  dir: string;
  id: string;
  revision: string;
  dtype: ModelDtype;
  commit?: string;
  /** Files of this dtype (relative to dir), downloaded now or already present. */
  files: string[];
  downloaded: string[];
  params: number;
}

export function hubEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return (env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '');
}

export function resolveUrl(endpoint: string, id: string, revision: string, path: string): string {
  return `${endpoint}/${id}/resolve/${encodeURIComponent(revision)}/${path.split('/').map(encodeURIComponent).join('/')}`;
}

const REQUIRED = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];
const OPTIONAL = ['generation_config.json'];

export async function pullModel(opts: PullOptions): Promise<PullResult> {
  const env = opts.env ?? process.env;
  const id = checkHubId(opts.id);
  const revision = opts.revision || 'main';
  const dtype = opts.dtype ?? 'fp32';
  const endpoint = hubEndpoint(env);
  const dir = modelCacheDir(id, revision, env);
  const old = await readManifest(dir).catch(() => undefined);
  const headers: Record<string, string> = env.HF_TOKEN ? { authorization: `Bearer ${env.HF_TOKEN}` } : {};

  const staged = new Map<string, Staged>();
  const present: string[] = [];
  let commit: string | undefined = old?.commit;

  const get = async (path: string, required: boolean): Promise<boolean> => {
    const target = join(dir, path);
    const known = old?.files[path];
    if (!opts.force && known && (await exists(target)) && (await sha256File(target)) === known.sha256) {
      present.push(path);
      return true;
    }
    const url = resolveUrl(endpoint, id, revision, path);
    let s: Staged | null;
    try {
      s = await downloadToTemp(url, target, { net: opts.net, env, headers, label: `${id}/${path}`, progress: opts.progress, allowMissing: !required });
    } catch (e) {
      throw explain(e, { id, revision, dtype, path, endpoint, dir });
    }
    if (!s) return false;
    staged.set(path, s);
    commit ??= headerValue(s, 'x-repo-commit');
    // The Hub's SHA-256 of an LFS file (the plain ETag is not used: elsewhere it may hash anything).
    const lfsSha = headerValue(s, 'x-linked-etag')?.replace(/^W\//, '').replace(/"/g, '');
    if (lfsSha && /^[0-9a-f]{64}$/.test(lfsSha) && lfsSha !== s.sha256) {
      throw new UsageError(`${id}/${path}: SHA-256 mismatch: the Hub announced ${lfsSha}, the download has ${s.sha256}; nothing was placed — pull again`);
    }
    return true;
  };

  const checkOnnx = async (path: string) => {
    const file = staged.get(path)?.tmp ?? join(dir, path);
    const summary = await readOnnxSummary(file).catch((e: Error) => {
      throw new UsageError(`${id}/${path}: ${e.message.replace(`${file}: `, '')}`);
    });
    // Weights of models over 2 GB live in external-data files named by the graph, next to it.
    for (const loc of summary.externalData) {
      if (loc.startsWith('/') || loc.split(/[\\/]/).includes('..')) {
        throw new UsageError(`${id}/${path}: external data "${loc}" points outside the model folder; refusing it`);
      }
      await get(`onnx/${loc}`, true);
    }
  };

  /** Place every staged file, count the parameters and write the manifest, which marks the pull complete. */
  const finish = async (encoder: string | undefined, decoders: string[], count: (folder: ModelFolder) => Promise<number>): Promise<PullResult> => {
    for (const s of staged.values()) await placeStaged(s);
    const files: Manifest['files'] = { ...(old?.files ?? {}) };
    for (const [path, s] of staged) files[path] = { sha256: s.sha256, bytes: s.bytes };
    // The count run records show too (one function, one tied-embedding rule: src/backends/params.ts).
    const params = await count(await readModelFolder(dir));
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      id,
      revision,
      ...(commit ? { commit } : {}),
      endpoint,
      pulledAt: new Date().toISOString(),
      files,
      dtypes: { ...(old?.dtypes ?? {}), [dtype]: { ...(encoder ? { encoder } : {}), decoders, params } },
    };
    await writeManifest(dir, manifest);
    const all = [...present, ...staged.keys()].sort();
    return { dir, id, revision, dtype, ...(commit ? { commit } : {}), files: all, downloaded: [...staged.keys()].sort(), params };
  };

  try {
    // config.json first and alone: a wrong id, revision or token then fails once, with one clear message.
    await get('config.json', true);
    const configFile = staged.get('config.json')?.tmp ?? join(dir, 'config.json');
    const config = parseJson(await readText(configFile), `${id}/config.json`);
    if (!config || typeof config !== 'object' || Array.isArray(config)) throw new UsageError(`${id}/config.json: expected a JSON object; this is not a model export`);
    // Its model_type says which graphs to ask for; an unsupported one fails here, before any other download.
    const family = modelFamily(config as Record<string, unknown>, `${id}/config.json`);
    await settleAll([...REQUIRED.slice(1).map((p) => get(p, true)), ...OPTIONAL.map((p) => get(p, false))]);
    if (family === 'causal') {
      // An earlier pull of this dtype already learnt which graph the export has: its file is checked first.
      const graph = await causalGraph(get, { id, revision, dtype }, opts.force ? undefined : old?.dtypes[dtype]?.decoders[0]);
      await checkOnnx(graph);
      return await finish(undefined, [graph], (folder) => causalModelParams(folder, [graph]));
    }
    const encoder = onnxFile(GRAPH.encoder, dtype);
    const merged = onnxFile(GRAPH.decoderMerged, dtype);
    const withPast = onnxFile(GRAPH.decoderWithPast, dtype);
    // The decoder-with-past is fetched next to a merged decoder too: later decoding steps run about twice as
    // fast with it (the merged graph copies the cross-attention cache every step; see benchmarks/speed).
    // An earlier pull of this dtype already learnt whether the export has one: do not ask the Hub again.
    const known = opts.force ? undefined : old?.dtypes[dtype];
    const askWithPast = !known || known.decoders.includes(withPast);
    const [, hasMerged, hasWithPast] = await settleAll([get(encoder, true), get(merged, false), askWithPast ? get(withPast, false) : Promise.resolve(false)]);
    let decoders: string[];
    if (hasMerged) decoders = hasWithPast ? [merged, withPast] : [merged];
    else {
      decoders = [onnxFile(GRAPH.decoderFirst, dtype), withPast];
      await settleAll(decoders.map((p) => get(p, true)));
    }
    for (const p of [encoder, ...decoders]) await checkOnnx(p);
    return await finish(encoder, decoders, (folder) => countModelParams(folder, [encoder, decoders[0]!], { sharedEmbedding: seq2seqSharedEmbedding(embeddingShape(folder)) }));
  } catch (e) {
    await discardStaged([...staged.values()]);
    throw e;
  }
}

/**
 * The one graph of a decoder-only export for the dtype: onnx/model<sfx>.onnx, else (older exports)
 * onnx/decoder_model_merged<sfx>.onnx, the same order the causal backend opens them in.
 */
async function causalGraph(get: (path: string, required: boolean) => Promise<boolean>, c: { id: string; revision: string; dtype: ModelDtype }, known?: string): Promise<string> {
  const candidates = [GRAPH.causal, GRAPH.decoderMerged].map((g) => onnxFile(g, c.dtype));
  for (const path of known && candidates.includes(known) ? [known, ...candidates.filter((p) => p !== known)] : candidates) {
    if (await get(path, false)) return path;
  }
  throw new UsageError(
    `${c.id}@${c.revision} has no ${onnxFile(GRAPH.causal, c.dtype)} nor ${onnxFile(GRAPH.decoderMerged, c.dtype)} (HTTP 404): it is not a decoder-only ONNX export for --dtype ${c.dtype}; try another --dtype`,
  );
}

/**
 * Like Promise.all, but waits for every download to end before rejecting: a sibling still running after the
 * first failure would stage a file after the cleanup and leave it behind.
 */
async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

function headerValue(s: Staged, name: string): string | undefined {
  for (const h of s.headers) {
    const v = h[name];
    if (typeof v === 'string' && v) return v;
  }
  return undefined;
}

interface Ctx {
  id: string;
  revision: string;
  dtype: ModelDtype;
  path: string;
  endpoint: string;
  dir: string;
}

/** Turn a failed download into one line that says what to do. */
function explain(e: unknown, c: Ctx): unknown {
  if (!(e instanceof DownloadError)) return e;
  const host = new URL(c.endpoint).host;
  const byHand = `or download the files elsewhere and pass their folder to --model (README: "Getting the data and models")`;
  if (e.kind === 'unreachable' || e.kind === 'broken') {
    return new UsageError(
      `cannot download ${c.id}/${c.path} from ${host}: ${e.detail}; check the network or proxy (HTTPS_PROXY), set HF_ENDPOINT to a mirror, ${byHand}`,
      { cause: e },
    );
  }
  if (e.kind === 'http' && (e.status === 401 || e.status === 403)) {
    return new UsageError(
      `${c.id}: ${host} refused access (HTTP ${e.status}); check the model id, or set HF_TOKEN to a token that can read it (gated or private model)`,
      { cause: e },
    );
  }
  if (e.kind === 'http' && e.status === 404) {
    if (c.path === 'config.json') {
      return new UsageError(`${c.id}: no such model or revision "${c.revision}" on ${host} (HTTP 404 for config.json); check the id and --revision`, { cause: e });
    }
    if (c.path.startsWith('onnx/')) {
      return new UsageError(
        `${c.id}@${c.revision} has no ${c.path} (HTTP 404): it is not an ONNX export for --dtype ${c.dtype}; try another --dtype or an ONNX export such as Xenova/flan-t5-small`,
        { cause: e },
      );
    }
    return new UsageError(`${c.id}@${c.revision} has no ${c.path} (HTTP 404); flan-eval needs it (docs/protocol.md §6 model layout)`, { cause: e });
  }
  return new UsageError(`cannot download ${c.id}/${c.path}: ${e.detail}; try again later, ${byHand}`, { cause: e });
}

/** vocab_size and d_model from config.json (absent sizes count no shared embedding). */
function embeddingShape(folder: { config: Record<string, unknown> }): { vocabSize: number; dModel: number | null } {
  const { vocab_size: vocab, d_model: dModel } = folder.config;
  return { vocabSize: typeof vocab === 'number' ? vocab : 0, dModel: typeof dModel === 'number' ? dModel : null };
}
