import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { BBH_MEAN_LOW } from '../../src/report/normalise.js';
import { fixturesDir, runCli } from '../helpers/cli.js';

const RECORDS = join(fixturesDir, 'records', 'paper-suite');

test('the BBH random baseline the notes state is the one the numbers used (the JSON cell\'s low)', async () => {
  const json = await runCli(['report', RECORDS, '--format', 'json']);
  assert.equal(json.code, 0, json.stderr);
  const md = await runCli(['report', RECORDS]);
  assert.equal(md.code, 0, md.stderr);
  const doc = JSON.parse(json.stdout) as { rows: { model: string; source: string; cells: Record<string, { low: number }> }[]; columns: { id: string; label: string; benchmark: string }[] };
  let checked = 0;
  for (const row of doc.rows.filter((r) => r.source === 'ours')) {
    for (const col of doc.columns.filter((c) => c.benchmark === 'bbh')) {
      const cell = row.cells[col.id];
      if (!cell) continue;
      const stated = `${row.model}, ${col.label}: normalised with random = ${cell.low.toFixed(2)}`;
      if (Math.abs(cell.low - BBH_MEAN_LOW) > 1e-9) {
        checked++;
        assert.ok(md.stdout.includes(stated), `markdown notes lack "${stated}"`);
      } else {
        assert.ok(!md.stdout.includes(`${row.model}, ${col.label}: normalised with`));
      }
    }
  }
  assert.ok(checked >= 1, 'the fixtures hold a BBH record with a subset of tasks');
  assert.match(md.stdout, /\(26\.63 over all 27 tasks\)/);
  assert.doesNotMatch(md.stdout, /26\.6 over/);
});
