import assert from 'node:assert/strict';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { bbhAdapter, loadCotPrompt } from '../../src/benchmarks/bbh/index.js';
import { extractBbhAnswer } from '../../src/benchmarks/bbh/extract.js';
import { parseCotPrompt } from '../../src/benchmarks/bbh/load.js';
import { fixturesDir, tempDir } from '../helpers/cli.js';
import { loadGoldenPrompts } from './mmlu-bbh-golden.js';

const dataDir = join(fixturesDir, 'data');

async function copyOfData(): Promise<string> {
  const dir = await tempDir();
  await cp(join(dataDir, 'bbh'), join(dir, 'bbh'), { recursive: true });
  return dir;
}

describe('BBH prompts (golden files, written by hand from docs/protocol.md §3)', async () => {
  const goldens = await loadGoldenPrompts(join(fixturesDir, 'golden', 'bbh'), 'bbh');

  it('covers every format: direct and CoT, zero- and few-shot', () => {
    const kinds = new Set(goldens.map((g) => `${g.format.cot}/${g.format.shots > 0}`));
    assert.deepEqual([...kinds].sort(), ['false/false', 'false/true', 'true/false', 'true/true']);
  });

  for (const g of goldens) {
    it(g.file, async () => {
      const { items } = await bbhAdapter.prepare(dataDir, g.format, g.selection);
      const item = items.find((i) => i.id === g.id);
      assert.ok(item, `no item ${g.id}`);
      assert.equal(item.prompt, g.prompt);
    });
  }

  it('CoT 3-shot is P + "\\n\\nQ: " + input + "\\nA: Let\'s think step by step." for every fixture task', async () => {
    const { items } = await bbhAdapter.prepare(dataDir, { cot: true, shots: 3 }, {});
    for (const item of items) {
      const file = await readFile(join(dataDir, 'bbh', 'cot-prompts', `${item.task}.txt`), 'utf8');
      const p = file.slice(file.indexOf('\n-----\n') + 7).trimEnd();
      const input = JSON.parse(await readFile(join(dataDir, 'bbh', 'bbh', `${item.task}.json`), 'utf8')).examples[Number(item.id.split('/')[2])].input;
      assert.equal(item.prompt, `${p}\n\nQ: ${input}\nA: Let's think step by step.`);
    }
  });
});

describe('BBH cot-prompt files', () => {
  it('splits P into the description (two paragraphs for snarks) and three exemplars with their answers', async () => {
    const p = await loadCotPrompt(join(dataDir, 'bbh', 'cot-prompts', 'snarks.txt'));
    assert.equal(p.description.split('\n\n').length, 2);
    assert.ok(p.description.startsWith('Determine which of two sentences is sarcastic.\n\nSarcasm says'));
    assert.equal(p.exemplars.length, 3);
    assert.deepEqual(p.exemplars.map((e) => e.answer), ['(A)', '(A)', '(A)']);
    assert.ok(p.exemplars.every((e) => e.text.startsWith('Q: Which statement is sarcastic?\nOptions:\n(A) ')));
  });

  it('removes trailing white space of the file and takes X after the last "So the answer is "', () => {
    const p = parseCotPrompt('canary\n-----\nDesc.\n\nQ: q1\nA: So the answer is no. So the answer is yes.\n\nQ: q2\nA: r. So the answer is 12.\n  \n', 'f.txt');
    assert.equal(p.body, 'Desc.\n\nQ: q1\nA: So the answer is no. So the answer is yes.\n\nQ: q2\nA: r. So the answer is 12.');
    assert.deepEqual(p.exemplars.map((e) => [e.question, e.answer]), [['q1', 'yes'], ['q2', '12']]);
  });

  it('rejects a file without the ----- line or without exemplars, naming it', () => {
    assert.throws(() => parseCotPrompt('canary\nDesc.\n\nQ: q\nA: So the answer is x.', 'a.txt'), { message: /^a\.txt: no "-----" line/ });
    assert.throws(() => parseCotPrompt('canary\n-----\nDesc only.', 'b.txt'), { message: /^b\.txt: no exemplar/ });
    assert.throws(() => parseCotPrompt('canary\n-----\nDesc.\n\nQ: q\nA: no answer here', 'c.txt'), { message: /^c\.txt: exemplar 1 is not/ });
  });
});

describe('BBH items', () => {
  it('lists only the .json task files (the README.md in bbh/ is ignored)', async () => {
    assert.deepEqual(await bbhAdapter.listTasks(dataDir), ['logical_deduction_three_objects', 'object_counting', 'snarks']);
  });

  it('builds ids in file order, targets as written and the stop sequence', async () => {
    const { items, files } = await bbhAdapter.prepare(dataDir, { cot: false, shots: 3 }, { tasks: ['object_counting', 'snarks'], limit: 2 });
    assert.deepEqual(items.map((i) => [i.id, i.target]), [
      ['bbh/object_counting/0', '4'],
      ['bbh/object_counting/1', '5'],
      ['bbh/snarks/0', '(A)'],
      ['bbh/snarks/1', '(B)'],
    ]);
    assert.ok(items.every((i) => i.stop.length === 1 && i.stop[0] === '\n\nQ:' && i.choices === undefined));
    assert.equal(files.length, 4);
  });

  it('refuses more shots than exemplars, naming the flag', async () => {
    await assert.rejects(bbhAdapter.prepare(dataDir, { cot: true, shots: 4 }, {}), { message: /^--shots 4: .*has only 3 exemplars/ });
  });

  it('names the file of a truncated task JSON in one line', async () => {
    const dir = await copyOfData();
    const file = join(dir, 'bbh', 'bbh', 'snarks.json');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.slice(0, 150));
    await assert.rejects(bbhAdapter.prepare(dir, { cot: false, shots: 0 }, {}), (e: Error) => {
      assert.equal(e.name, 'UsageError');
      assert.ok(e.message.startsWith(`${file}:1: invalid JSON`), e.message);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
  });

  it('names the task file when examples are not {input, target} strings', async () => {
    const dir = await copyOfData();
    const file = join(dir, 'bbh', 'bbh', 'snarks.json');
    await writeFile(file, '{"examples": [{"input": "x", "target": "y"}, {"input": "x"}]}');
    await assert.rejects(bbhAdapter.prepare(dir, { cot: false, shots: 0 }, {}), { message: /snarks\.json: examples\[1\] needs string fields "input" and "target"/ });
  });

  it('says how to get the data when the cot-prompts file of a task is missing', async () => {
    const dir = await copyOfData();
    await rm(join(dir, 'bbh', 'cot-prompts', 'snarks.txt'));
    await assert.rejects(bbhAdapter.prepare(dir, { cot: false, shots: 0 }, {}), {
      message: /snarks\.txt: file not found; run `flan-eval data fetch bbh` or pass --data-dir/,
    });
  });
});

describe('BBH answer extraction and scoring (docs/protocol.md §4)', () => {
  const cot: [string, string][] = [
    ['Step one. So the answer is (A).', '(A)'],
    ['So the answer is (A). Hmm, no. So THE ANSWER IS (B).', '(B)'],
    ['The answer is 12.', '12'],
    ['the answer is   valid.  ', 'valid'],
    ['So the answer is ] } ].', '] } ]'],
    ['(C)', '(C)'],
    ['  no marker here.  ', 'no marker here.'],
    ['', ''],
  ];
  for (const [prediction, answer] of cot) {
    it(`CoT ${JSON.stringify(prediction)} → ${JSON.stringify(answer)}`, () => assert.equal(extractBbhAnswer(prediction, true), answer));
  }
  const direct: [string, string][] = [
    [' (B)', '(B)'],
    ['Yes  \nbecause it is', 'Yes'],
    ['\nlate line', ''],
    ['valid.', 'valid.'],
  ];
  for (const [prediction, answer] of direct) {
    it(`direct ${JSON.stringify(prediction)} → ${JSON.stringify(answer)}`, () => assert.equal(extractBbhAnswer(prediction, false), answer));
  }

  const item = { id: 'bbh/snarks/0', benchmark: 'bbh' as const, task: 'snarks', prompt: 'p', target: '(A)', stop: ['\n\nQ:'] };
  it('cuts text after the stop sequence before extracting', () => {
    const cotFormat = { cot: true, shots: 3 };
    assert.equal(bbhAdapter.scoreItem(item, 'Reasons. So the answer is (A).\n\nQ: Which is sarcastic?\nA: So the answer is (B).', cotFormat).correct, true);
    assert.deepEqual(bbhAdapter.scoreItem(item, ' (A)\n\nQ: more', { cot: false, shots: 3 }), { answer: '(A)', correct: true });
    assert.deepEqual(bbhAdapter.scoreItem(item, 'A', { cot: false, shots: 3 }), { answer: 'A', correct: false });
  });
});
