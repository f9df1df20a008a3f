import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Where flan-eval keeps things, in one place. Every default can be overridden by a flag or variable so
 * that tests and CI never touch the user's home.
 */

/** `$XDG_CACHE_HOME/flan-eval` or `~/.cache/flan-eval`; `$FLAN_EVAL_CACHE` overrides. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FLAN_EVAL_CACHE) return resolve(env.FLAN_EVAL_CACHE);
  return join(env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache'), 'flan-eval');
}

/** docs/protocol.md §1: `--data-dir`, else `$FLAN_EVAL_DATA`, else `~/.cache/flan-eval/data`. */
export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(flag);
  if (env.FLAN_EVAL_DATA) return resolve(env.FLAN_EVAL_DATA);
  return join(cacheRoot(env), 'data');
}

/** The shipped sample data (the test fixtures, in the upstream layouts) for offline try-outs. */
export const SAMPLE_DATA_DIR = 'test/fixtures/data';
