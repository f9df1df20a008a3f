import assert from 'node:assert/strict';
import type { CliResult } from '../helpers/cli.js';

/** A user-fixable error: exit 2, one line on stderr that starts with flan-eval:, no stack trace. */
export function assertOneLineError(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 2, `exit code ${r.code}; stderr: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^flan-eval: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}
