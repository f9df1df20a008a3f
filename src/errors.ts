/**
 * Errors the user can fix. The CLI maps these to exit code 2 and prints `message` as one line, with no
 * stack trace unless --verbose. Anything else that escapes is a bug and is reported as such.
 *
 * Write messages as: what is wrong, where (file, line, id or flag), and what to do about it.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Bad content in an input file: names the file and, where known, the line or id. */
export class InputError extends UsageError {
  constructor(
    readonly file: string,
    detail: string,
    readonly line?: number,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${detail}`);
  }
}

/**
 * A bug found by flan-eval's own checks (an invariant that cannot fail on any input). Like any other
 * error that is not a UsageError, it stops the run with EXIT.internal.
 */
export class InternalError extends Error {
  override readonly name = 'InternalError';
}

/**
 * Exit codes of docs/protocol.md §5. `internal` (a bug) has a code of its own so that CI can tell a crash from a
 * regression or from failed examples (both 1). 3 is the code the protocol fixes; 64–78 (sysexits) were
 * considered, but scripts written against the protocol already test for 3.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, internal: 3, interrupted: 130 } as const;

/** "did you mean" for unknown names: the closest by edit distance, plus the full list when it is short. */
export function unknownName(kind: string, given: string, available: readonly string[]): UsageError {
  const best = [...available]
    .map((name) => ({ name, d: editDistance(given.toLowerCase(), name.toLowerCase()) }))
    .sort((a, b) => a.d - b.d || a.name.localeCompare(b.name))[0];
  const hint = best && best.d <= Math.max(2, Math.floor(given.length / 3)) ? ` Did you mean "${best.name}"?` : '';
  const list = available.length <= 30 ? ` Available: ${available.join(', ')}.` : ` ${available.length} are available.`;
  return new UsageError(`unknown ${kind} "${given}".${hint}${list}`);
}

export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}
