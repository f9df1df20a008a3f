import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reportError } from '../../src/cli/main.js';
import { EXIT, InputError, InternalError, UsageError } from '../../src/errors.js';

/** Capture what `fn` writes to stderr. */
function stderrOf(fn: () => number): { code: number; text: string } {
  const write = process.stderr.write.bind(process.stderr);
  let text = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: fn(), text };
  } finally {
    process.stderr.write = write;
  }
}

describe('exit codes: a bug is told apart from a regression, failed examples and bad input', () => {
  it('the codes are distinct: 0 ok, 1 failed/regression, 2 usage, 3 internal, 130 interrupted', () => {
    assert.deepEqual(EXIT, { ok: 0, failed: 1, usage: 2, internal: 3, interrupted: 130 });
  });

  for (const [name, error] of [
    ['TypeError', new TypeError("Cannot read properties of undefined (reading 'text')")],
    ['RangeError', new RangeError('Invalid array length')],
    ['InternalError', new InternalError('a batch returned 3 outputs for 4 prompts')],
    ['a thrown string', 'boom'],
  ] as const) {
    it(`${name} exits 3 and says it is a bug, with no stack trace unless --verbose`, () => {
      const quiet = stderrOf(() => reportError(error, false));
      assert.equal(quiet.code, EXIT.internal);
      assert.equal(quiet.code, 3);
      assert.match(quiet.text, /^flan-eval: internal error: /);
      assert.match(quiet.text, /this is a bug \(exit code 3\); rerun with --verbose/);
      assert.doesNotMatch(quiet.text, /\n {4}at /);
      if (error instanceof Error) assert.match(stderrOf(() => reportError(error, true)).text, /\n {4}at /);
    });
  }

  it('a UsageError (and an InputError) exits 2 with its one line', () => {
    const u = stderrOf(() => reportError(new UsageError('--limit abc: not a whole number'), false));
    assert.deepEqual(u, { code: 2, text: 'flan-eval: --limit abc: not a whole number\n' });
    const i = stderrOf(() => reportError(new InputError('p.jsonl', 'bad', 3), false));
    assert.deepEqual(i, { code: 2, text: 'flan-eval: p.jsonl:3: bad\n' });
  });
});
