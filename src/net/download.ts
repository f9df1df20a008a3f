import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, rmSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../errors.js';
import { fsError } from '../util/fs.js';
import { DownloadError, isRetryableStatus, isUnreachableCode } from './errors.js';
import { openGet } from './http.js';
import type { FileProgress, Progress } from './progress.js';
import type { NetSettings } from './settings.js';

/**
 * A downloaded file waiting to be placed: its bytes sit in a hidden temporary sibling of `target` (same
 * folder, so the final rename is atomic and never crosses file systems), already hashed.
 */
export interface Staged {
  target: string;
  tmp: string;
  sha256: string;
  bytes: number;
  /** Response headers of the redirect chain, first first. */
  headers: IncomingHttpHeaders[];
}

export interface DownloadOptions {
  net: NetSettings;
  env?: NodeJS.ProcessEnv;
  headers?: Record<string, string>;
  /** What the progress line and messages call this file (a data path, a model file). */
  label: string;
  progress?: Progress;
  /** Answer null instead of failing when the server says 404 / 410 (optional files). */
  allowMissing?: boolean;
  /** Override of net.maxBytes for this file. */
  maxBytes?: number;
}

/**
 * Temporary files that exist right now (being written, or staged and waiting to be placed), so that an
 * interrupted command can remove them on its way out (see `withInterruptCleanup`).
 */
const liveTemps = new Set<string>();

/**
 * Run `fn` so that Ctrl-C (SIGINT) or SIGTERM removes every temporary file before the process exits with
 * 130; without it an interrupted fetch would leave hidden `.part` files behind.
 */
export async function withInterruptCleanup<T>(fn: () => Promise<T>): Promise<T> {
  const onSignal = (signal: NodeJS.Signals) => {
    for (const t of liveTemps) rmSync(t, { force: true });
    process.stderr.write(`\nflan-eval: ${signal === 'SIGINT' ? 'interrupted' : signal}; temporary files removed, nothing half-written was placed\n`);
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Stage bytes already in memory (a file taken out of an archive) like a download. */
export async function stageBytes(target: string, bytes: Uint8Array): Promise<Staged> {
  await mkdir(dirname(target), { recursive: true }).catch((e) => {
    throw fsError(e, dirname(target));
  });
  const tmp = tempSibling(target);
  liveTemps.add(tmp);
  try {
    await writeFile(tmp, bytes);
  } catch (e) {
    liveTemps.delete(tmp);
    await rm(tmp, { force: true });
    throw fsError(e, target);
  }
  return { target, tmp, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length, headers: [] };
}

/**
 * The temporary sibling a download is written to. Hidden (leading dot) and ending in `.part`, so no loader
 * that lists `*.json`, `*.csv`, `*.tsv` or `*.onnx` ever sees it.
 */
export function tempSibling(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}-${randomBytes(4).toString('hex')}.part`);
}

/**
 * Download `url` into a temporary sibling of `target`, retrying with exponential backoff on network
 * errors, timeouts, truncated bodies and retryable statuses (408, 429, 5xx). Never leaves the temporary
 * file behind on failure. Nothing is placed: call `placeStaged` once the caller has verified the hash.
 */
export async function downloadToTemp(url: string, target: string, opts: DownloadOptions): Promise<Staged | null> {
  const { net } = opts;
  const file = opts.progress?.start(opts.label);
  let last: unknown;
  try {
    for (let attempt = 0; attempt <= net.retries; attempt++) {
      if (attempt > 0) {
        const delay = net.backoffMs * 2 ** (attempt - 1);
        opts.progress?.line(`  ${opts.label}: ${describe(last)}; retry ${attempt}/${net.retries} in ${formatDelay(delay)}`);
        await sleep(delay);
        file?.restart();
      }
      try {
        const staged = await downloadOnce(url, target, opts, file);
        if (staged) file?.done();
        else file?.end();
        return staged;
      } catch (e) {
        last = e;
        if (!isRetryable(e)) break;
      }
    }
  } finally {
    file?.end();
  }
  throw finalError(url, last, net.retries);
}

/** Move a staged download into place (atomic rename in the same folder). */
export async function placeStaged(s: Staged): Promise<void> {
  try {
    await rename(s.tmp, s.target);
    liveTemps.delete(s.tmp);
  } catch (e) {
    throw fsError(e, s.target);
  }
}

/** Remove staged temporaries (after a failure, or when a verification refused them). */
export async function discardStaged(list: readonly Staged[]): Promise<void> {
  await Promise.all(
    list.map(async (s) => {
      await rm(s.tmp, { force: true });
      liveTemps.delete(s.tmp);
    }),
  );
}

async function downloadOnce(url: string, target: string, opts: DownloadOptions, file?: FileProgress): Promise<Staged | null> {
  const { net } = opts;
  const maxBytes = opts.maxBytes ?? net.maxBytes;
  const { res, chain } = await openGet(url, { headers: opts.headers, timeoutMs: net.timeoutMs, env: opts.env });
  const status = res.statusCode ?? 0;
  if (status < 200 || status >= 300) {
    res.resume();
    if ((status === 404 || status === 410) && opts.allowMissing) return null;
    throw new DownloadError(url, `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`, 'http', status);
  }
  const lengthHeader = res.headers['content-length'];
  const expected = lengthHeader !== undefined && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
  if (expected !== undefined && expected > maxBytes) {
    res.destroy();
    throw new DownloadError(url, `the server announces ${expected} bytes, more than the ${maxBytes} this file may have`, 'too-large');
  }
  await mkdir(dirname(target), { recursive: true }).catch((e) => {
    res.destroy();
    throw fsError(e, dirname(target));
  });
  const tmp = tempSibling(target);
  liveTemps.add(tmp);
  const hash = createHash('sha256');
  let bytes = 0;
  // An idle watchdog for the body: a server that stops sending without closing must not hang us.
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      res.destroy(Object.assign(new Error(`no data from ${new URL(url).host} for ${net.timeoutMs / 1000}s`), { code: 'ETIMEDOUT' }));
    }, net.timeoutMs);
  };
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      arm();
      bytes += chunk.length;
      if (bytes > maxBytes) {
        cb(new DownloadError(url, `the body exceeds ${maxBytes} bytes; refusing it`, 'too-large'));
        return;
      }
      hash.update(chunk);
      file?.add(chunk.length);
      cb(null, chunk);
    },
  });
  try {
    arm();
    await pipeline(res, meter, createWriteStream(tmp));
    if (expected !== undefined && bytes !== expected) {
      throw Object.assign(new Error(`connection closed after ${bytes} of ${expected} bytes`), { code: 'ECONNRESET' });
    }
    // Make the bytes durable before the rename makes them visible (a crash must not leave a hole).
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (e) {
    await rm(tmp, { force: true });
    liveTemps.delete(tmp);
    throw fsError(e, target);
  } finally {
    clearTimeout(timer);
  }
  return { target, tmp, sha256: hash.digest('hex'), bytes, headers: chain };
}

function isRetryable(e: unknown): boolean {
  if (e instanceof DownloadError) return e.kind === 'http' ? e.status !== undefined && isRetryableStatus(e.status) : e.kind !== 'too-large';
  // fsError's translations of local trouble (full disk, permissions, a file in the way).
  if (e instanceof UsageError) return false;
  const code = (e as NodeJS.ErrnoException)?.code;
  // Local file-system trouble (full disk, permissions) will not get better by retrying.
  if (code && /^E(NOSPC|ACCES|PERM|ROFS|NOTDIR|EXIST|ISDIR)$/.test(code)) return false;
  return e instanceof Error;
}

function describe(e: unknown): string {
  if (e instanceof DownloadError) return e.detail;
  const err = e as NodeJS.ErrnoException;
  const code = err?.code;
  if (code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET') return `the connection broke (${err.message})`;
  if (code === 'ETIMEDOUT') return err.message;
  return code ? `${err.message}` : String(err?.message ?? e);
}

function finalError(url: string, e: unknown, retries: number): unknown {
  if (e instanceof DownloadError) {
    if (e.kind !== 'http' || (e.status !== undefined && isRetryableStatus(e.status))) {
      return new DownloadError(url, `${e.detail} (gave up after ${attempts(retries)})`, e.kind, e.status, { cause: e });
    }
    return e;
  }
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code && /^E(NOSPC|ACCES|PERM|ROFS|NOTDIR|EXIST|ISDIR)$/.test(code)) return e;
  if (e instanceof UsageError) return e;
  const host = new URL(url).host;
  if (isUnreachableCode(code)) {
    return new DownloadError(url, `cannot reach ${host} (${code}) (gave up after ${attempts(retries)})`, 'unreachable', undefined, { cause: e });
  }
  return new DownloadError(url, `${describe(e)} (gave up after ${attempts(retries)})`, 'broken', undefined, { cause: e });
}

function formatDelay(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)}s` : `${ms}ms`;
}

function attempts(retries: number): string {
  return retries === 0 ? '1 attempt' : `${retries + 1} attempts`;
}
