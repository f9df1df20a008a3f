import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BBH_MEAN_LOW, BBH_TASK_LOWS, normalise, normalisedAverage, randomBaseline } from '../../src/report/normalise.js';
import { loadReference, parseParamsLabel, parseTable5 } from '../../src/report/reference.js';
import { PAPER_COLUMNS } from '../../src/report/columns.js';

const close = (actual: number, expected: number, tol: number, what = '') =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what} ${actual} is not within ${tol} of ${expected}`);

describe('normalise', () => {
  test('is 0 at chance, 100 at a perfect score, negative below chance', () => {
    assert.equal(normalise(25, 25), 0);
    assert.equal(normalise(100, 25), 100);
    close(normalise(20, 25), (100 * -5) / 75, 1e-12);
    close(normalise(5.6, 25), -25.8667, 1e-4, 'T5-Small MMLU CoT');
    assert.equal(normalise(12.5, 0), 12.5);
  });
});

describe('BBH random baselines', () => {
  test('cover the 27 BBH tasks, with the docs/protocol.md rules for two-word and free-form tasks', () => {
    assert.equal(Object.keys(BBH_TASK_LOWS).length, 27);
    for (const t of ['boolean_expressions', 'causal_judgement', 'formal_fallacies', 'navigate', 'sports_understanding', 'web_of_lies']) assert.equal(BBH_TASK_LOWS[t], 50, t);
    for (const t of ['dyck_languages', 'multistep_arithmetic_two', 'object_counting', 'word_sorting']) assert.equal(BBH_TASK_LOWS[t], 0, t);
    close(BBH_TASK_LOWS.logical_deduction_seven_objects!, 100 / 7, 1e-12);
    assert.equal(BBH_TASK_LOWS.temporal_sequences, 25);
  });

  test('a task with varying option counts gets the mean of 100/k over its examples', () => {
    // date_understanding: 212 examples with 6 options, 38 with 5.
    close(BBH_TASK_LOWS.date_understanding!, (212 * (100 / 6) + 38 * (100 / 5)) / 250, 1e-9);
  });

  test('their mean is the "about 26.6" of docs/protocol.md §4', () => {
    close(BBH_MEAN_LOW, 26.6333, 1e-4);
  });

  test('a record on a subset of BBH tasks is normalised with the mean of those tasks', () => {
    const { low, unknownTasks } = randomBaseline('bbh', ['boolean_expressions', 'word_sorting', 'temporal_sequences']);
    close(low, (50 + 0 + 25) / 3, 1e-12);
    assert.deepEqual(unknownTasks, []);
    const unknown = randomBaseline('bbh', ['boolean_expressions', 'new_task']);
    close(unknown.low, (50 + BBH_MEAN_LOW) / 2, 1e-12);
    assert.deepEqual(unknown.unknownTasks, ['new_task']);
    assert.equal(randomBaseline('bbh', []).low, BBH_MEAN_LOW);
    assert.equal(randomBaseline('mmlu', ['anatomy']).low, 25);
    assert.equal(randomBaseline('tydiqa', ['arabic']).low, 0);
    assert.equal(randomBaseline('mgsm', ['de']).low, 0);
  });
});

describe('normalisedAverage', () => {
  const six = [
    { raw: 62.5, low: 25, stderr: 3 },
    { raw: 37.5, low: 25, stderr: 3 },
    { raw: 20, low: 30, stderr: 2 },
    { raw: 41, low: 30, stderr: 2 },
    { raw: 0, low: 0, stderr: 0 },
    { raw: 12.5, low: 0, stderr: 1 },
  ];

  test('is the mean of the six normalised scores, negative values included', () => {
    const avg = normalisedAverage(six)!;
    const expected = (50 + 100 / 6 + (100 * -10) / 70 + (100 * 11) / 70 + 0 + 12.5) / 6;
    close(avg.value, expected, 1e-12);
    const negative = normalisedAverage(six.map((s) => ({ ...s, raw: s.low - 5 })))!;
    assert.ok(negative.value < 0);
  });

  test('scales each standard error by 100/(100 − low) and treats the six as independent', () => {
    const avg = normalisedAverage(six)!;
    const expected = Math.sqrt((4 / 3) ** 2 * 9 * 2 + (10 / 7) ** 2 * 4 * 2 + 0 + 1) / 6;
    close(avg.stderr!, expected, 1e-12);
    assert.equal(normalisedAverage(six.map((s) => ({ raw: s.raw, low: s.low })))!.stderr, null);
  });

  test('is null when a column is missing', () => {
    assert.equal(normalisedAverage([...six.slice(0, 5), null]), null);
    assert.equal(normalisedAverage(six.slice(0, 5)), null);
    assert.equal(normalisedAverage([undefined, ...six.slice(1)]), null);
  });
});

/**
 * docs/protocol.md §4: normalising the BBH aggregate with the 27-task mean low reproduces Table 5's normalised
 * averages within 0.2 for Flan-T5, up to about 1 point for T5 and within 0.7 for the PaLM family (the paper
 * normalised per task). The measured gaps (ours − published), documented in the README, are pinned here to
 * 0.01. For the PaLM rows this is also a check on their transcription: the gaps all fall between −0.29 and
 * −0.67, one side of zero, where a mistyped digit in the tens would move one row's gap by over 1.
 */
describe('the paper normalised average from its six published numbers', () => {
  const MEASURED_GAPS: Record<string, number> = {
    'T5-Small': 1.0,
    'Flan-T5-Small': 0.14,
    'T5-Base': 0.54,
    'Flan-T5-Base': -0.05,
    'T5-Large': 0.7,
    'Flan-T5-Large': -0.15,
    'T5-XL': 0.54,
    'Flan-T5-XL': -0.16,
    'T5-XXL': 0.85,
    'Flan-T5-XXL': -0.19,
    'PaLM 8B': -0.29,
    'Flan-PaLM 8B': -0.36,
    'PaLM 62B': -0.43,
    'Flan-PaLM 62B': -0.6,
    'PaLM 540B': -0.4,
    'Flan-PaLM 540B': -0.51,
    'cont-PaLM 62B': -0.43,
    'Flan-cont-PaLM 62B': -0.59,
    'U-PaLM 540B': -0.53,
    'Flan-U-PaLM 540B': -0.67,
  };
  const rows = loadReference('flan-t5-paper');

  test("Table 5 ships with all twenty rows in the paper's order and parses its size labels", () => {
    assert.deepEqual(
      rows.map((r) => r.model),
      Object.keys(MEASURED_GAPS),
    );
    assert.deepEqual(
      rows.map((r) => r.params),
      [80e6, 80e6, 250e6, 250e6, 780e6, 780e6, 3e9, 3e9, 11e9, 11e9, 8e9, 8e9, 62e9, 62e9, 540e9, 540e9, 62e9, 62e9, 540e9, 540e9],
    );
    assert.deepEqual(
      rows.map((r) => r.arch),
      [...Array<string>(10).fill('t5'), ...Array<string>(10).fill('palm')],
    );
  });

  for (const row of rows) {
    test(row.model, () => {
      const six = PAPER_COLUMNS.map((c) => ({ raw: row.scores[c.key]!, low: randomBaseline(c.benchmark, []).low }));
      const ours = normalisedAverage(six)!.value;
      const gap = ours - row.normAvg;
      // Table 5 prints one decimal, so the published value itself carries up to ±0.05 of rounding.
      const bound = row.arch === 'palm' ? 0.7 : row.model.startsWith('Flan-T5') ? 0.2 : 1.0 + 0.05;
      assert.ok(Math.abs(gap) <= bound, `${row.model}: ours ${ours.toFixed(3)} vs published ${row.normAvg} (gap ${gap.toFixed(3)}) exceeds ${bound}`);
      close(gap, MEASURED_GAPS[row.model]!, 0.01, `${row.model} gap`);
    });
  }
});

describe('reference table parsing', () => {
  test('size labels', () => {
    assert.equal(parseParamsLabel('80M'), 80e6);
    assert.equal(parseParamsLabel('3B'), 3e9);
    assert.equal(parseParamsLabel('1.5b'), 1.5e9);
    assert.equal(parseParamsLabel('big'), null);
  });

  test('comments are skipped and a bad number names the file, row and column', () => {
    const header = 'model,params,norm_avg,mmlu_direct,mmlu_cot,bbh_direct,bbh_cot,tydiqa_direct,mgsm_cot';
    assert.equal(parseTable5(`# source\n${header}\nA,80M,1,2,3,4,5,6,7\n`, 't.csv').length, 1);
    assert.throws(() => parseTable5(`${header}\nA,80M,1,x,3,4,5,6,7\n`, 't.csv'), /t\.csv: row 1: column mmlu_direct is not a number/);
    assert.throws(() => parseTable5(`${header}\nA,huge,1,2,3,4,5,6,7\n`, 't.csv'), /params label/);
  });
});
