import { UsageError } from '../errors.js';

/**
 * A download that failed for a reason the user can act on (no network, proxy, wrong URL, server error).
 * It is a UsageError so that, even unwrapped, it ends as one line and exit code 2; callers that know the
 * context (data fetch, models pull) rewrap it with their own "what to do" hint.
 */
export class DownloadError extends UsageError {
  constructor(
    readonly url: string,
    readonly detail: string,
    readonly kind: 'unreachable' | 'http' | 'broken' | 'too-large',
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(`${url}: ${detail}`, options);
  }
}

/** Error codes that mean "this host cannot be reached from here" rather than "the transfer broke". */
const UNREACHABLE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'EHOSTDOWN']);

export function isUnreachableCode(code: string | undefined): boolean {
  return code !== undefined && UNREACHABLE.has(code);
}

/** HTTP statuses worth retrying: the server or something in between is momentarily unhappy. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}
