import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { UsageError } from '../errors.js';

/**
 * Write a file so that a reader (or a rerun after `kill -9`) sees either the old content or the new,
 * never a half-written file: write a temporary sibling, fsync it, rename it over the target.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true }).catch((e) => {
    throw fsError(e, dirname(path));
  });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw fsError(e, path);
  }
}

/** Map the file-system errors a user can fix (permissions, full disk, missing folder) to one clear line. */
export function fsError(e: unknown, path: string): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOSPC':
      return new UsageError(`${path}: no space left on device; free some space or choose another --out`, { cause: e });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new UsageError(`${path}: not writable (${code}); choose a writable --out or fix its permissions`, { cause: e });
    case 'ENOTDIR':
    case 'EEXIST':
      return new UsageError(`${path}: a file is in the way of a folder; choose another path`, { cause: e });
    default:
      return e;
  }
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Stream a file through SHA-256: model files are hundreds of MB and must not be read whole. */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => h.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Read a UTF-8 text file, turning "not found" into a UsageError that says what to do. */
export async function readText(path: string, hint = ''): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`${path}: file not found${hint ? `; ${hint}` : ''}`);
    if ((e as NodeJS.ErrnoException).code === 'EISDIR') throw new UsageError(`${path}: is a folder, expected a file`);
    throw e;
  }
}

/** Parse JSON, naming the file (and the position of a syntax error) when it is malformed or truncated. */
export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const pos = /position (\d+)/.exec(msg);
    const line = pos ? text.slice(0, Number(pos[1])).split('\n').length : undefined;
    throw new UsageError(`${file}${line ? `:${line}` : ''}: invalid JSON (${msg}); the file may be truncated or corrupt — fetch it again`);
  }
}
