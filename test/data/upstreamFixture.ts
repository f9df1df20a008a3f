import { createHash } from 'node:crypto';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { c as tarCreate } from 'tar';
import { parsePins } from '../../src/data/pins.js';
import { SHIPPED_PINS } from '../../src/data/pins.js';
import { githubUrl, MMLU_SPLITS, MMLU_SUBJECTS, MMLU_TAR_URL, TYDIQA_FILES } from '../../src/data/sources.js';
import { tempDir } from '../helpers/cli.js';
import type { Behaviour } from '../net/fakeServer.js';

/**
 * Made-up upstream files in the upstream layouts (never the real datasets): one small file for every path
 * of the shipped pin table, a data.tar built with the `tar` package, and TyDiQA JSON. Served by the fake
 * server under the mirror layout `/<host>/<path>`.
 */

export const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

export function fakeContent(rel: string): string {
  if (rel.endsWith('.json')) return `${JSON.stringify({ canary: 'made up for flan-eval tests', examples: [{ input: `input of ${rel}`, target: 'x' }] })}\n`;
  if (rel.endsWith('.tsv')) return `question of ${rel}\t1\nanother question\t2,125\n`;
  return `made-up content of ${rel}\n`;
}

export function csvFor(subject: string, split: string): string {
  return `"What is ${subject.replace(/_/g, ' ')} (${split})?",one,"two, with a comma",three,four,B\n`;
}

export interface TarOptions {
  /** Subjects to include (default: all 57). */
  subjects?: readonly string[];
  /** Add an entry `../escape.csv`. */
  escape?: boolean;
  /** Add data/dev/evil_dev.csv as a symbolic link to /etc/passwd. */
  symlink?: boolean;
}

/** data.tar in Hendrycks' layout, made with `tar.c` from a temporary tree. */
export async function makeMmluTar(opts: TarOptions = {}): Promise<Buffer> {
  const dir = await tempDir('flan-eval-tar-');
  const root = join(dir, 'root');
  for (const split of MMLU_SPLITS) {
    await mkdir(join(root, 'data', split), { recursive: true });
    for (const s of opts.subjects ?? MMLU_SUBJECTS) await writeFile(join(root, 'data', split, `${s}_${split}.csv`), csvFor(s, split));
  }
  // Upstream also ships files flan-eval must skip.
  await mkdir(join(root, 'data', 'auxiliary_train'), { recursive: true });
  await writeFile(join(root, 'data', 'auxiliary_train', 'race.csv'), 'not,for,evaluation\n');
  await writeFile(join(root, 'data', 'dev', '._abstract_algebra_dev.csv'), 'macOS resource fork');
  if (opts.symlink) await symlink('/etc/passwd', join(root, 'data', 'dev', 'evil_dev.csv'));
  const entries = ['data'];
  if (opts.escape) {
    await writeFile(join(dir, 'escape.csv'), 'x,y\n');
    entries.push('../escape.csv');
  }
  const file = join(dir, 'data.tar');
  // preservePaths keeps `../escape.csv` as written (tar would otherwise strip the `../`).
  await tarCreate({ file, cwd: root, portable: true, preservePaths: Boolean(opts.escape) }, entries);
  return readFile(file);
}

export interface Upstream {
  /** Mirror routes: `/<host>/<path>` → behaviour. */
  routes: Map<string, Behaviour>;
  /** data path → content, for every GitHub-hosted file. */
  files: Map<string, string>;
  /** A pin table (sha256sum format) of the made-up files, written to a temp file. */
  pinsFile: string;
  tar: Buffer;
}

/** Mirror path of an upstream URL. */
export function mirrorPath(url: string): string {
  const u = new URL(url);
  return `/${u.host}${u.pathname}`;
}

export async function makeUpstream(opts: TarOptions = {}): Promise<Upstream> {
  const shipped = parsePins(await readFile(SHIPPED_PINS, 'utf8'), SHIPPED_PINS);
  const routes = new Map<string, Behaviour>();
  const files = new Map<string, string>();
  const pinLines: string[] = [];
  for (const rel of shipped.keys()) {
    const body = fakeContent(rel);
    files.set(rel, body);
    routes.set(mirrorPath(githubUrl(rel)!), { kind: 'body', body });
    pinLines.push(`${sha(body)}  ${rel}`);
  }
  const tar = await makeMmluTar(opts);
  routes.set(mirrorPath(MMLU_TAR_URL), { kind: 'body', body: tar });
  for (const f of TYDIQA_FILES) {
    routes.set(mirrorPath(f.url), { kind: 'body', body: JSON.stringify({ version: 'made-up', data: [], file: f.rel }) });
  }
  const pinsFile = join(await tempDir('flan-eval-pins-'), 'pins.txt');
  await writeFile(pinsFile, `${pinLines.join('\n')}\n`);
  return { routes, files, pinsFile, tar };
}
