import { createReadStream } from 'node:fs';
import { Parser, type ReadEntry } from 'tar';
import { UsageError } from '../errors.js';

/**
 * Take MMLU's CSVs out of Hendrycks' data.tar without trusting the archive: nothing is written by the tar
 * library; this reads entries and hands back the bytes of `data/{dev,val,test}/<subject>_<split>.csv` only,
 * keyed by their place in the data directory (`mmlu/<split>/<file>`).
 *
 * The archive is refused as a whole (nothing is placed) when any entry
 * - escapes (absolute path, a `..` segment), or is a symbolic or hard link, device or FIFO;
 * - that would be extracted is larger than `maxEntryBytes`, or they add up to more than `maxTotalBytes`.
 * Other regular files (data/auxiliary_train/, READMEs, macOS `._*` files) are skipped unread.
 */
export interface TarLimits {
  maxEntryBytes: number;
  maxTotalBytes: number;
  maxEntries: number;
}

/** The real CSVs are under 2 MiB each and about 8 MiB together; these caps only stop absurd archives. */
export const DEFAULT_TAR_LIMITS: TarLimits = { maxEntryBytes: 64 * 1024 ** 2, maxTotalBytes: 512 * 1024 ** 2, maxEntries: 100_000 };

const WANTED = /^data\/(dev|val|test)\/([A-Za-z0-9_-]+)_(dev|val|test)\.csv$/;

export async function readMmluCsvsFromTar(tarPath: string, label: string, limits: TarLimits = DEFAULT_TAR_LIMITS): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  let total = 0;
  let entries = 0;
  let failure: Error | undefined;
  const refuse = (detail: string) => new UsageError(`${label}: ${detail}; refusing the archive, nothing was placed`);

  await new Promise<void>((resolve, reject) => {
    const src = createReadStream(tarPath);
    let settled = false;
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      src.destroy();
      reject(e);
    };
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        if (failure) {
          entry.resume();
          return;
        }
        const problem = inspect(entry, ++entries, limits);
        if (problem) {
          failure = refuse(problem);
          entry.resume();
          fail(failure);
          return;
        }
        const path = stripDotSlash(entry.path);
        const m = WANTED.exec(path);
        if (!isRegular(entry) || !m || m[1] !== m[3]) {
          entry.resume();
          return;
        }
        const size = entry.size ?? 0;
        if (size > limits.maxEntryBytes) {
          failure = refuse(`entry "${entry.path}" is ${size} bytes, more than the ${limits.maxEntryBytes} a CSV may have`);
        } else if (total + size > limits.maxTotalBytes) {
          failure = refuse(`the CSVs add up to more than ${limits.maxTotalBytes} bytes`);
        }
        if (failure) {
          entry.resume();
          fail(failure);
          return;
        }
        total += size;
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => out.set(`mmlu/${m[1]}/${path.slice(`data/${m[1]}/`.length)}`, Buffer.concat(chunks)));
      },
    });
    parser.on('error', (e: Error) => fail(failure ?? refuse(`not a readable tar archive (${e.message})`)));
    parser.on('end', () => {
      if (settled) return;
      settled = true;
      resolve();
    });
    src.on('error', fail);
    src.pipe(parser);
  });
  if (out.size === 0) throw refuse('it holds no data/{dev,val,test}/<subject>_<split>.csv files');
  return out;
}

function stripDotSlash(p: string): string {
  let s = p;
  while (s.startsWith('./')) s = s.slice(2);
  return s;
}

function isRegular(entry: ReadEntry): boolean {
  return entry.type === 'File' || entry.type === 'OldFile' || entry.type === 'ContiguousFile';
}

/** Why an entry makes the whole archive suspect, or undefined when it is harmless. */
function inspect(entry: ReadEntry, count: number, limits: TarLimits): string | undefined {
  if (count > limits.maxEntries) return `more than ${limits.maxEntries} entries`;
  const p = entry.path;
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p) || p.split(/[\\/]/).includes('..')) return `entry "${p}" points outside the target folder`;
  if (entry.type === 'SymbolicLink' || entry.type === 'Link') return `entry "${p}" is a ${entry.type === 'Link' ? 'hard' : 'symbolic'} link (to "${entry.linkpath ?? ''}")`;
  if (!isRegular(entry) && entry.type !== 'Directory') return `entry "${p}" is a ${entry.type}, not a regular file`;
  return undefined;
}
