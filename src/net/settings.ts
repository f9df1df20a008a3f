import { UsageError } from '../errors.js';

/**
 * Knobs of the downloader. Defaults suit a real network; tests (and users on odd links) set them through
 * environment variables so that a test of "retry, then give up" takes milliseconds, not minutes.
 *
 * - FLAN_EVAL_NET_RETRIES     retries after the first attempt (default 3)
 * - FLAN_EVAL_NET_BACKOFF_MS  first retry delay; doubles each retry (default 500)
 * - FLAN_EVAL_NET_TIMEOUT_MS  a connection idle this long (no byte connected, sent or received) fails (default 30000)
 */
export interface NetSettings {
  retries: number;
  backoffMs: number;
  timeoutMs: number;
  /** Largest accepted response body; a bigger one is refused (a wrong URL serving an endless stream). */
  maxBytes: number;
}

/** Room for the external-data files of Flan-T5-XXL in fp32 (11B parameters, 44 GB in all); stops an endless body. */
export const DEFAULT_MAX_BYTES = 64 * 1024 ** 3;

export function netSettings(env: NodeJS.ProcessEnv = process.env): NetSettings {
  return {
    retries: intFromEnv(env, 'FLAN_EVAL_NET_RETRIES', 3, 0),
    backoffMs: intFromEnv(env, 'FLAN_EVAL_NET_BACKOFF_MS', 500, 0),
    timeoutMs: intFromEnv(env, 'FLAN_EVAL_NET_TIMEOUT_MS', 30_000, 1),
    maxBytes: DEFAULT_MAX_BYTES,
  };
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  // A typo in a tuning variable must not silently mean "no retries" or "no timeout".
  if (!Number.isInteger(n) || n < min) throw new UsageError(`$${name}="${raw}" is not an integer >= ${min}; fix or unset it`);
  return n;
}
