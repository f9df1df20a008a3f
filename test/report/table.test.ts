import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { columnOf, compareColumns } from '../../src/report/columns.js';
import { buildReportTable, formatParams, modelFamily } from '../../src/report/table.js';
import type { LoadedRecord } from '../../src/results/read.js';
import { runRecordFor, type RunSpec } from './records-helper.js';

const loaded = (spec: RunSpec, file = `${spec.model}/${spec.benchmark}.json`): LoadedRecord => ({ record: runRecordFor(spec).record, file });

describe('columns', () => {
  const col = (benchmark: RunSpec['benchmark'], cot: boolean, shots: number, split: string | null = benchmark === 'mmlu' ? 'val' : null, scoring: 'generate' | 'loglik' = 'generate') =>
    columnOf({ benchmark, format: { cot, shots, split, scoring } });

  test("the paper's protocol maps to the paper's six columns", () => {
    assert.deepEqual(
      [col('mmlu', false, 5), col('mmlu', true, 5), col('bbh', false, 3), col('bbh', true, 3), col('tydiqa', false, 1), col('mgsm', true, 8)].map((c) => [c.id, c.label, c.paperIndex]),
      [
        ['mmlu_direct', 'MMLU direct', 0],
        ['mmlu_cot', 'MMLU CoT', 1],
        ['bbh_direct', 'BBH direct', 2],
        ['bbh_cot', 'BBH CoT', 3],
        ['tydiqa_direct', 'TyDiQA direct', 4],
        ['mgsm_cot', 'MGSM CoT', 5],
      ],
    );
  });

  test('anything else is its own column, labelled by how it differs', () => {
    assert.equal(col('mmlu', false, 0).label, 'MMLU direct 0-shot');
    assert.equal(col('mmlu', true, 5, 'test').label, 'MMLU CoT test');
    assert.equal(col('mmlu', false, 5, 'val', 'loglik').label, 'MMLU direct loglik');
    assert.equal(col('mgsm', false, 8).label, 'MGSM direct');
    assert.equal(col('bbh', true, 0).id, 'bbh_cot_0shot');
    for (const c of [col('mmlu', false, 0), col('mmlu', true, 5, 'test'), col('mgsm', false, 8)]) assert.equal(c.paperIndex, -1);
  });

  test("order: the paper's six first, then others by benchmark, direct before CoT, by shots", () => {
    const cols = [col('mgsm', false, 8), col('mmlu', false, 0), col('mgsm', true, 8), col('mmlu', true, 0), col('mmlu', false, 5), col('bbh', true, 3)];
    assert.deepEqual(
      cols.sort(compareColumns).map((c) => c.label),
      ['MMLU direct', 'BBH CoT', 'MGSM CoT', 'MMLU direct 0-shot', 'MMLU CoT 0-shot', 'MGSM direct'],
    );
  });
});

describe('parameter labels and families', () => {
  test("two significant digits in the paper's style", () => {
    assert.equal(formatParams(76_961_152), '77M');
    assert.equal(formatParams(247_577_856), '250M');
    assert.equal(formatParams(783_150_080), '780M');
    assert.equal(formatParams(2_849_757_184), '2.8B');
    assert.equal(formatParams(11_135_332_352), '11B');
    assert.equal(formatParams(999_600_000), '1B');
    assert.equal(formatParams(null), '?');
  });

  test('the family is the name without its size word', () => {
    assert.equal(modelFamily('Xenova/flan-t5-small'), 'Xenova/flan-t5');
    assert.equal(modelFamily('Xenova/flan-t5-xxl'), 'Xenova/flan-t5');
    assert.equal(modelFamily('Flan-T5-Small (paper)'), 'Flan-T5 (paper)');
    assert.equal(modelFamily('T5-XL (paper)'), 'T5 (paper)');
    assert.equal(modelFamily('google/t5-base-lm-adapt'), 'google/t5-lm-adapt');
    assert.equal(modelFamily('my-model'), 'my-model');
  });
});

describe('buildReportTable', () => {
  const base = { params: 1e8, benchmark: 'mmlu', cot: false, shots: 5 } as const;

  test('rows by parameter count, unknown sizes last with a note', () => {
    const t = buildReportTable([
      loaded({ ...base, model: 'b', params: 3e9, tasks: { anatomy: '1' } }),
      loaded({ ...base, model: 'c', params: null, tasks: { anatomy: '1' } }),
      loaded({ ...base, model: 'a', params: 8e7, tasks: { anatomy: '0' } }),
    ]);
    assert.deepEqual(
      t.rows.map((r) => r.label),
      ['a', 'b', 'c'],
    );
    assert.ok(t.notes.some((n) => /^c: parameter count unknown/.test(n)));
    assert.equal(t.showNormAvg, false);
  });

  test('a report mixing architectures sorts by parameter count and shows an Arch column in every format', async () => {
    const t = buildReportTable(
      [
        loaded({ ...base, model: 'HuggingFaceTB/SmolLM2-135M', arch: 'llama', params: 1.35e8, tasks: { anatomy: '1' } }),
        loaded({ ...base, model: 'Xenova/flan-t5-small', arch: 't5', params: 7.7e7, tasks: { anatomy: '0' } }),
        loaded({ ...base, model: 'Xenova/gpt2', arch: 'gpt2', params: 1.24e8, tasks: { anatomy: '1' } }),
      ],
      { reference: 'flan-t5-paper' },
    );
    assert.equal(t.showArch, true);
    const ours = t.rows.filter((r) => !r.reference);
    assert.deepEqual(ours.map((r) => [r.label, r.arch]), [['Xenova/flan-t5-small', 't5'], ['Xenova/gpt2', 'gpt2'], ['HuggingFaceTB/SmolLM2-135M', 'llama']]);
    const refs = t.rows.filter((r) => r.reference);
    assert.deepEqual([...new Set(refs.map((r) => r.arch))], ['t5', 'palm']);
    // Every row, ours and the paper's, encoder-decoder or decoder-only, in parameter-count order.
    const params = t.rows.map((r) => r.params!);
    assert.deepEqual(params, [...params].sort((a, b) => a - b));
    // At 62B the paper's order: PaLM, Flan-PaLM, then cont-PaLM, Flan-cont-PaLM.
    assert.deepEqual(
      t.rows.filter((r) => r.params === 62e9).map((r) => [r.label, r.arch, r.family]),
      [
        ['PaLM 62B (paper)', 'palm', 'PaLM (paper)'],
        ['Flan-PaLM 62B (paper)', 'palm', 'Flan-PaLM (paper)'],
        ['cont-PaLM 62B (paper)', 'palm', 'cont-PaLM (paper)'],
        ['Flan-cont-PaLM 62B (paper)', 'palm', 'Flan-cont-PaLM (paper)'],
      ],
    );
    const { renderMarkdown } = await import('../../src/report/format/markdown.js');
    const { renderCsv } = await import('../../src/report/format/csv.js');
    const md = renderMarkdown({ table: t, breakdown: null, stderr: false });
    assert.match(md.split('\n')[0]!, /^\| Model +\| Params \| Arch +\| MMLU direct/);
    assert.match(md, /\| Xenova\/gpt2 +\| +120M \| gpt2 +\|/);
    assert.match(renderCsv({ table: t, breakdown: null, stderr: false }).split('\n')[0]!, /^model,params,params_label,arch,source,/);
    // One architecture: no column (tables of Flan-T5 runs stay as they were).
    assert.equal(buildReportTable([loaded({ ...base, model: 'a', arch: 't5', params: 8e7, tasks: { anatomy: '0' } })]).showArch, false);
  });

  test('one model in two dtypes is two rows, labelled with the dtype', () => {
    const t = buildReportTable([loaded({ ...base, model: 'm', dtype: 'fp32', tasks: { anatomy: '1' } }, 'x.json'), loaded({ ...base, model: 'm', dtype: 'q8', tasks: { anatomy: '0' } }, 'y.json')]);
    assert.deepEqual(t.rows.map((r) => r.label).sort(), ['m (fp32)', 'm (q8)']);
  });

  test('two records for the same model and column: the complete, larger, then newer one is shown, with a note', () => {
    const a = loaded({ ...base, model: 'm', tasks: { anatomy: '1111' } }, 'full.json');
    const b = loaded({ ...base, model: 'm', tasks: { anatomy: '00' }, selection: { tasks: null, limit: 2, shard: null } }, 'nightly.json');
    for (const order of [
      [a, b],
      [b, a],
    ]) {
      const t = buildReportTable(order);
      assert.equal(t.rows.length, 1);
      assert.equal(t.rows[0]!.cells.mmlu_direct!.file, 'full.json');
      assert.ok(t.notes.includes('nightly.json: not shown; full.json holds m on MMLU direct too and is complete.'), t.notes.join('\n'));
    }
    const small = loaded({ ...base, model: 'm', tasks: { anatomy: '11' } }, 'small.json');
    assert.equal(buildReportTable([small, a]).rows[0]!.cells.mmlu_direct!.file, 'full.json');
    const older = loaded({ ...base, model: 'm', tasks: { anatomy: '0000' } }, 'older.json');
    const newer = loaded({ ...base, model: 'm', tasks: { anatomy: '1111' } }, 'newer.json');
    newer.record.createdAt = '2025-01-01T00:00:00.000Z';
    const t = buildReportTable([newer, older]);
    assert.equal(t.rows[0]!.cells.mmlu_direct!.file, 'newer.json');
    assert.ok(t.notes.includes('older.json: not shown; newer.json holds m on MMLU direct too and is newer.'));
  });

  test('two shards of one run are refused: merge them first', () => {
    const shard = (index: number): RunSpec => ({ ...base, model: 'm', tasks: { anatomy: '1' }, selection: { tasks: null, limit: null, shard: { index, count: 2 } } });
    assert.throws(() => buildReportTable([loaded(shard(0), 's0.json'), loaded(shard(1), 's1.json')]), /s0\.json and s1\.json are shards of m on MMLU direct; combine them with `flan-eval merge`/);
  });

  test('partial coverage is explained: task subset, limit, shard, failures', () => {
    const spec = { ...base, model: 'm', tasks: { anatomy: '10' }, selection: { tasks: ['anatomy'], limit: 2, shard: { index: 0, count: 4 } } };
    const { record } = runRecordFor(spec);
    record.failed = 1;
    const t = buildReportTable([{ record, file: 'r.json' }]);
    assert.equal(t.rows[0]!.cells.mmlu_direct!.partial, '1 selected task, first 2 examples per task, shard 1/4, 1 failed example counted wrong');
  });

  test('a normalised average built from a partial column is marked partial too', () => {
    const six: RunSpec[] = [
      { model: 'm', params: 1, benchmark: 'mmlu', cot: false, shots: 5, tasks: { anatomy: '10' } },
      { model: 'm', params: 1, benchmark: 'mmlu', cot: true, shots: 5, tasks: { anatomy: '10' } },
      { model: 'm', params: 1, benchmark: 'bbh', cot: false, shots: 3, tasks: { navigate: '10' } },
      { model: 'm', params: 1, benchmark: 'bbh', cot: true, shots: 3, tasks: { navigate: '10' } },
      { model: 'm', params: 1, benchmark: 'tydiqa', cot: false, shots: 1, tasks: { arabic: '10' } },
      { model: 'm', params: 1, benchmark: 'mgsm', cot: true, shots: 8, tasks: { de: '10' } },
    ];
    const full = buildReportTable(six.map((s, i) => loaded(s, `${i}.json`)));
    // 50% everywhere: MMLU (50−25)/75, BBH navigate (50−50)/50 = 0, TyDiQA and MGSM 50.
    assert.ok(Math.abs(full.rows[0]!.normAvg!.value - (100 / 3 + 100 / 3 + 0 + 0 + 50 + 50) / 6) < 1e-9);
    assert.equal(full.rows[0]!.normAvg!.partial, false);
    six[5] = { ...six[5]!, selection: { tasks: null, limit: 2, shard: null } };
    const partial = buildReportTable(six.map((s, i) => loaded(s, `${i}.json`)));
    assert.equal(partial.rows[0]!.normAvg!.partial, true);
  });

  test('with a reference, the paper columns all appear even when our records lack them', () => {
    const t = buildReportTable([loaded({ ...base, model: 'm', shots: 0, tasks: { anatomy: '1' } })], { reference: 'flan-t5-paper' });
    assert.deepEqual(
      t.columns.map((c) => c.id),
      ['mmlu_direct', 'mmlu_cot', 'bbh_direct', 'bbh_cot', 'tydiqa_direct', 'mgsm_cot', 'mmlu_direct_0shot'],
    );
    assert.equal(t.rows.filter((r) => r.reference).length, 20);
    assert.ok(t.showNormAvg);
    assert.equal(t.rows.find((r) => !r.reference)!.normAvg, null);
  });
});
