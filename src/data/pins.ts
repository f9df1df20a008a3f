import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { InputError, UsageError } from '../errors.js';
import { readText } from '../util/fs.js';
import { githubUrl } from './sources.js';

/**
 * The pin table: the SHA-256 of every GitHub-hosted data file, in `sha256sum -c` format, shipped as
 * data/upstream-sha256.txt. It is also the list of those files (the 27 BBH tasks, the MGSM languages).
 *
 * Tests, and anyone serving re-packaged data, point `FLAN_EVAL_PINS` (or the hidden `--pins FILE` flag) at
 * another table in the same format: the fixture files of a test are not the upstream files, so their
 * hashes differ from the real pins.
 */
export const SHIPPED_PINS = fileURLToPath(new URL('../../../data/upstream-sha256.txt', import.meta.url));

export interface PinTable {
  /** The file the table was read from (named in mismatch messages). */
  file: string;
  /** data path → lower-case hex SHA-256, in file order. */
  pins: Map<string, string>;
}

export async function loadPins(flag?: string, env: NodeJS.ProcessEnv = process.env): Promise<PinTable> {
  const file = flag ? resolve(flag) : env.FLAN_EVAL_PINS ? resolve(env.FLAN_EVAL_PINS) : SHIPPED_PINS;
  const how = flag ? 'check --pins' : env.FLAN_EVAL_PINS ? 'check $FLAN_EVAL_PINS' : 'reinstall flan-eval';
  const text = await readText(file, how);
  return { file, pins: parsePins(text, file) };
}

export function parsePins(text: string, file: string): Map<string, string> {
  const pins = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    // sha256sum writes "<hash>  <path>" (text mode) or "<hash> *<path>" (binary mode).
    const m = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line);
    if (!m) throw new InputError(file, 'expected "<sha256>  <path>" (sha256sum format)', i + 1);
    const path = m[2]!.replace(/^\.\//, '');
    if (path.startsWith('/') || path.split('/').includes('..')) throw new InputError(file, `path "${path}" leaves the data directory`, i + 1);
    if (!githubUrl(path)) throw new InputError(file, `no upstream source is known for "${path}" (only bbh/, mgsm/ and mmlu/mmlu-cot.json are pinned)`, i + 1);
    if (pins.has(path)) throw new InputError(file, `"${path}" is listed twice`, i + 1);
    pins.set(path, m[1]!.toLowerCase());
  });
  if (pins.size === 0) throw new UsageError(`${file}: the pin table lists no files`);
  return pins;
}

/** The pinned paths belonging to one benchmark (its folder prefix). */
export function pinnedPaths(table: PinTable, benchmark: string): string[] {
  return [...table.pins.keys()].filter((p) => p.startsWith(`${benchmark}/`));
}
