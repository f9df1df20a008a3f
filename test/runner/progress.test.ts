import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { commandAsTyped, summaryTable } from '../../src/cli/run-output.js';
import { Progress } from '../../src/runner/progress.js';

/** A non-terminal stream that keeps what is written. */
function sink(): NodeJS.WriteStream & { text: string } {
  const s = { text: '', isTTY: false, write(chunk: string) { s.text += chunk; return true; } };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

describe('progress after a resume', () => {
  test('examples an earlier run predicted count as done but not in the rate or the ETA', () => {
    let now = 1_000_000;
    const out = sink();
    const p = new Progress('m mmlu', 10_000, false, out, 0, () => now);
    p.resume(8000);
    now += 4000;
    p.advance(2, 0);
    // 2 new examples in 4 s: 0.5 ex/s, and 1998 left at that rate (not 8002 in 4 s = 2000 ex/s, ETA 1s).
    assert.equal(out.text, 'm mmlu 8002/10000 (8000 resumed) · 0.50 ex/s · 0.0 tok/s · ETA 1h06m\n');
  });

  test('before any new example the rate is 0 and the ETA unknown', () => {
    let now = 0;
    const out = sink();
    const p = new Progress('x', 10, false, out, 0, () => now);
    p.resume(8);
    now += 1000;
    p.finish();
    assert.equal(out.text, 'x 8/10 (8 resumed) · 0.00 ex/s · 0.0 tok/s · ETA ?\n');
  });
});

describe('the resume hint prints the command as typed', () => {
  const args = ['run', 'mmlu', '--model', 'my model', '--stop', "it's"];
  test('under npx', () => {
    assert.equal(commandAsTyped(['/usr/bin/node', '/repo/bin/flan-eval.js', ...args], { npm_command: 'exec', PATH: '' }), "npx flan-eval run mmlu --model 'my model' --stop 'it'\\''s'");
  });
  test('a launcher on the PATH', () => {
    assert.equal(commandAsTyped(['/usr/bin/node', '/usr/local/bin/flan-eval', 'run', 'bbh'], { PATH: '/usr/bin:/usr/local/bin' }), 'flan-eval run bbh');
  });
  test('a local install (not on the PATH): node and the launcher\'s path', () => {
    assert.equal(commandAsTyped(['/usr/bin/node', `${process.cwd()}/bin/flan-eval.js`, 'run', 'bbh'], { PATH: '/usr/bin' }), 'node bin/flan-eval.js run bbh');
  });
});

test('no summary table when no run unit finished (Ctrl-C before the first)', () => {
  assert.equal(summaryTable([]), '');
});
