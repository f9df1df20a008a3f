import { appendFile, open, readFile, rename, truncate } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { PredictionLine, RunRecord } from '../types.js';

/** What identifies the model a predictions file belongs to. */
export type ModelIdentity = Pick<RunRecord['model'], 'name' | 'path' | 'hash'>;
import { InputError, UsageError } from '../errors.js';
import { parsePredictionLine } from '../results/read.js';
import { parsePredictions } from '../results/predictionsJsonl.js';
import { fsError, parseJson, writeFileAtomic } from '../util/fs.js';

/**
 * The predictions JSONL of one run unit, appended batch by batch, plus a small state file naming the
 * configuration those predictions belong to.
 *
 * Crash safety: a line is appended whole in one write; if the process is killed mid-write, the file can
 * end in a partial line, which `open` cuts off (everything before it is intact). A corrupt line elsewhere
 * cannot come from a kill and stops the run, naming the file and line. Predictions made under
 * another configuration are never reused: the old file is moved aside, not deleted.
 */
export class PredictionStore {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly existing: Map<string, PredictionLine>,
    readonly movedAside: string | null,
  ) {}

  /**
   * `model` names the model the predictions are for. A file made by another model that merely has the same
   * folder name (a different path and different files) is refused rather than moved aside: two models would
   * otherwise take turns overwriting one folder of results.
   */
  static async open(path: string, configHash: string, model?: ModelIdentity): Promise<PredictionStore> {
    const statePath = `${path}.state.json`;
    let movedAside: string | null = null;
    const state = await readState(statePath);
    const previous = state?.configHash ?? null;
    const owner = state?.model;
    if (model && owner && owner.path !== model.path && owner.hash !== model.hash) {
      throw new UsageError(
        `${path} holds the predictions of another model named "${model.name}" (${owner.path}); ${model.path} would overwrite them. Give one model folder another name, or use another --out`,
      );
    }
    const existing = new Map<string, PredictionLine>();
    let content: string | null;
    try {
      content = await readFile(path, 'utf8');
    } catch {
      content = null;
    }
    if (content !== null && previous !== configHash) {
      // Another configuration (or unknown): keep the file for the user, but never mix it into this run.
      movedAside = `${path}.stale-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      await rename(path, movedAside).catch((e) => {
        throw fsError(e, path);
      });
    } else if (content !== null) {
      // The shared predictions policy (results/predictionsJsonl.ts): a torn last line (a kill mid-write) is
      // cut off and its example predicted again; a retried example's later line replaces its error line.
      const parsed = parsePredictions(content, path, (value, line) => parsePredictionLine(value, path, line));
      if (parsed.torn) await truncate(path, parsed.torn.keepBytes);
      else if (content.length > 0 && !content.endsWith('\n')) await appendFile(path, '\n'); // a whole line without its newline
      for (const p of parsed.lines) existing.set(p.id, p);
    }
    await writeFileAtomic(statePath, `${JSON.stringify({ configHash, ...(model ? { model: { path: model.path, hash: model.hash } } : {}) })}\n`);
    let handle: FileHandle;
    try {
      handle = await open(path, 'a');
    } catch (e) {
      throw fsError(e, path);
    }
    return new PredictionStore(path, handle, existing, movedAside);
  }

  async append(lines: readonly PredictionLine[]): Promise<void> {
    if (!lines.length) return;
    try {
      await this.handle.write(lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
    } catch (e) {
      throw fsError(e, this.path);
    }
    for (const l of lines) this.existing.set(l.id, l);
  }

  async close(): Promise<void> {
    await this.handle.sync().catch(() => undefined);
    await this.handle.close();
  }
}

/**
 * The configuration hash a predictions file was made under, or null when there is no state file (a first
 * run, or predictions from elsewhere: never reused). A state file that exists but cannot be read is not a
 * configuration change: guessing would move good predictions aside or mix in bad ones, so it stops the run
 * with the file named (a UsageError: the user decides).
 */
async function readState(statePath: string): Promise<{ configHash: string; model?: { path: string; hash: string } } | null> {
  let text: string;
  try {
    text = await readFile(statePath, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException)?.code === 'ENOENT') return null;
    throw fsError(e, statePath);
  }
  const hint = 'delete it to start this run unit afresh (its predictions are then moved aside, not deleted)';
  let value: unknown;
  try {
    value = parseJson(text, statePath);
  } catch {
    throw new InputError(statePath, `the resume state is not valid JSON; ${hint}`);
  }
  const hash = (value as { configHash?: unknown } | null)?.configHash;
  if (typeof hash !== 'string') throw new InputError(statePath, `the resume state has no "configHash"; ${hint}`);
  const model = (value as { model?: { path?: unknown; hash?: unknown } }).model;
  return { configHash: hash, ...(typeof model?.path === 'string' && typeof model.hash === 'string' ? { model: { path: model.path, hash: model.hash } } : {}) };
}
