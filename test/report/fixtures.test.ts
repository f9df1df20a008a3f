import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fixturesDir, tempDir } from '../helpers/cli.js';
import { PAPER_SUITE, writeRun } from './records-helper.js';

/**
 * The committed run records under test/fixtures/records/paper-suite are what PAPER_SUITE describes.
 * After changing PAPER_SUITE, rewrite them with
 *   UPDATE_FIXTURES=1 node --test dist/test/report/fixtures.test.js
 * (and re-check the hand-worked numbers in report-golden.test.ts).
 */
const SUITE = join(fixturesDir, 'records', 'paper-suite');

async function filesUnder(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(relative(dir, p), await readFile(p, 'utf8'));
    }
  };
  await walk(dir);
  return out;
}

test('committed paper-suite fixtures match their description in records-helper.ts', async () => {
  const dir = process.env.UPDATE_FIXTURES ? SUITE : await tempDir();
  for (const spec of PAPER_SUITE) await writeRun(dir, spec);
  const want = await filesUnder(dir);
  const have = await filesUnder(SUITE);
  // The suite folder also holds one JSON that is not a run record (folders may hold other JSON).
  have.delete('suite.json');
  assert.deepEqual([...have.keys()].sort(), [...want.keys()].sort());
  for (const [name, text] of want) assert.equal(have.get(name), text, `${name} is stale; see the comment at the top of this test`);
});
