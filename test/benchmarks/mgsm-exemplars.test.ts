import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { deriveAnswerPhrases, leadWord, parseExemplarFile } from '../../src/benchmarks/mgsm/exemplars.js';
import { parsePythonAssignments, type PyValue } from '../../src/benchmarks/mgsm/pyLiteral.js';
import { InputError } from '../../src/errors.js';
import { fixturesDir } from '../helpers/cli.js';

const exemplarsFile = join(fixturesDir, 'data', 'mgsm', 'exemplars.py');

/** Maps → plain objects, so whole values can be compared with deepEqual. */
function plain(v: PyValue | undefined): unknown {
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), plain(x)]));
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

function syntaxErrorAt(src: string, line: number, detail: RegExp) {
  assert.throws(
    () => parsePythonAssignments(src, 'x.py'),
    (e: unknown) => e instanceof InputError && e.message.startsWith(`x.py:${line}: Python syntax error: `) && detail.test(e.message),
  );
}

describe('Python literal reader (exemplars.py is data, never executed)', () => {
  it('joins adjacent string literals across lines, ignoring comments between them', () => {
    const v = parsePythonAssignments('X = ("a" \'b\'  # one\n     """c""" # two\n  "d")\n', 'x.py');
    assert.equal(v.get('X'), 'abcd');
  });

  it('decodes \\uXXXX, \\UXXXXXXXX, \\xHH, octal and simple escapes; keeps unknown escapes; raw strings keep backslashes', () => {
    const v = parsePythonAssignments(
      String.raw`A = "\u95ee\u9898\uff1a \U0001F600 \x41\101\0 \n\t\\ \" \' \d"` + '\n' + String.raw`B = r"\u0041\n"` + '\n',
      'x.py',
    );
    assert.equal(v.get('A'), '问题： 😀 AA\0 \n\t\\ " \' \\d');
    assert.equal(v.get('B'), '\\u0041\\n');
  });

  it('reads triple-quoted strings with newlines, and backslash-newline inside a string as nothing', () => {
    const v = parsePythonAssignments('"""Doc\nstring."""\nS = """two\nlines"""\nT = "con\\\ntinued"\n', 'x.py');
    assert.equal(v.get('S'), 'two\nlines');
    assert.equal(v.get('T'), 'continued');
  });

  it('reads lists (with trailing commas), negative numbers, tuples, nested dicts in order, True/False/None', () => {
    const v = parsePythonAssignments('N = [11, -29, 3.5, 0x10,]\nT = (1,)\nP = (2)\nD = {"b": {"2": True, "1": None,}, "a": [False],}\n', 'x.py');
    assert.deepEqual(v.get('N'), [11, -29, 3.5, 16]);
    assert.deepEqual(v.get('T'), [1]);
    assert.equal(v.get('P'), 2);
    assert.deepEqual(plain(v.get('D')), { b: { '2': true, '1': null }, a: [false] });
    assert.deepEqual([...(v.get('D') as Map<string, PyValue>).keys()], ['b', 'a']);
  });

  it('reports a syntax error with the file and the line where it is', () => {
    syntaxErrorAt('A = 1\nB = {\n  "x": "open\n}\n', 3, /unterminated string/);
    syntaxErrorAt('A = {\n  "x": 1\n  "y": 2\n}\n', 3, /expected "," or "}"/);
    syntaxErrorAt('A = [1, 2\nB = 3\n', 1, /"]" is missing: the bracket opened here is never closed/);
    syntaxErrorAt('\n\nA = {"a": [1, 2]\n', 3, /"}" is missing/);
    syntaxErrorAt('A = [1, 2}\n', 1, /"}" where "]" was expected/);
    syntaxErrorAt('A = 1\nB = open("/etc/passwd")\n', 2, /"open" is not a literal/);
    syntaxErrorAt('A = 1 + 2\n', 1, /expected end of line/);
    syntaxErrorAt('import os\n', 1, /expected an assignment/);
    syntaxErrorAt('A = """never\nclosed\n', 1, /unterminated triple-quoted string/);
    syntaxErrorAt('A = "\\u12"\n', 1, /truncated \\u escape/);
    syntaxErrorAt('A = f"{x}"\n', 1, /f-strings are not data/);
  });
});

describe('MGSM exemplars.py (fixture in the upstream layout)', async () => {
  const src = await readFile(exemplarsFile, 'utf8');
  const ex = parseExemplarFile(src, exemplarsFile);

  it('reads EXEMPLAR_NUMBER_ANSWERS and 8 exemplars for each language, in file order', () => {
    assert.deepEqual(ex.numberAnswers, [7, 12, 30, 4, 15, 6, 9, 2125]);
    assert.deepEqual([...ex.languages.keys()], ['en', 'de', 'zh', 'ja', 'bn']);
    for (const l of ex.languages.values()) assert.equal(l.exemplars.length, 8);
  });

  it('decodes the \\u-escaped, wrapped literals to the exemplar text', () => {
    const zh = ex.languages.get('zh')!.exemplars[0]!;
    assert.equal(zh.q, '问题：米娅有 3 支红笔，又买了 4 支蓝笔。她一共有多少支笔？');
    assert.equal(zh.a, '逐步解答：米娅原来有 3 支笔。3 + 4 = 7。答案是 7。');
    assert.equal(ex.languages.get('de')!.exemplars[3]!.q, 'Frage: Auf einem Dach saßen 9 Vögel. 5 flogen weg. Wie viele Vögel sind noch da?');
  });

  it('derives QW (with the spaces after the colon), AW and the answer phrases per language', () => {
    const got = Object.fromEntries([...ex.languages].map(([k, l]) => [k, [l.questionWord, l.answerWord, l.answerPhrases]]));
    assert.deepEqual(got, {
      en: ['Question: ', 'Step-by-Step Answer:', ['The answer is']],
      // Upstream's German exemplar 1 says "ist", the others "lautet": both are answer phrases.
      de: ['Frage: ', 'Schritt-für-Schritt-Antwort:', ['Die Antwort lautet', 'Die Antwort ist']],
      zh: ['问题：', '逐步解答：', ['答案是']],
      ja: ['問題：', 'ステップごとの答え：', ['答えは']],
      bn: ['প্রশ্ন: ', 'ধাপে ধাপে উত্তর:', ['উত্তর হল']],
    });
  });

  it('names the file and line of a syntax error in exemplars.py', () => {
    const lines = src.split('\n');
    const at = lines.findIndex((l) => l.includes('"3": {'));
    lines[at] = lines[at]!.replace('"3": {', '"3" {');
    assert.throws(() => parseExemplarFile(lines.join('\n'), exemplarsFile), (e: unknown) => e instanceof InputError && e.message.startsWith(`${exemplarsFile}:${at + 1}: Python syntax error`));
  });

  it('rejects a file without the expected variables or shapes, naming it', () => {
    assert.throws(() => parseExemplarFile('MGSM_EXEMPLARS = {}\n', 'e.py'), /e\.py: EXEMPLAR_NUMBER_ANSWERS is missing/);
    assert.throws(() => parseExemplarFile('EXEMPLAR_NUMBER_ANSWERS = [1]\nMGSM_EXEMPLARS = {"en": {"1": {"q": "Q: x"}}}\n', 'e.py'), /e\.py: MGSM_EXEMPLARS\["en"\]\["1"\] needs string "q" and "a"/);
    assert.throws(() => parseExemplarFile('EXEMPLAR_NUMBER_ANSWERS = [1]\nMGSM_EXEMPLARS = {"en": {"1": {"q": "no colon", "a": "A: 1"}}}\n', 'e.py'), /has no ":" or "：" after its question word/);
  });
});

describe('QW, AW and answer phrases (docs/protocol.md §3, §4)', () => {
  it('QW keeps the spaces after the colon (French "Question : "), AW stops at the colon; full-width colons count', () => {
    assert.equal(leadWord('Question : Combien ?', true), 'Question : ');
    assert.equal(leadWord('Réponse étape par étape : Il y a', false), 'Réponse étape par étape :');
    assert.equal(leadWord('问题：几个？', true), '问题：');
    assert.equal(leadWord('Question:   x: y', true), 'Question:   ');
    assert.equal(leadWord('no colon here', true), '');
  });

  it('takes the words between the last sentence end and the final number', () => {
    assert.deepEqual(deriveAnswerPhrases(['A: 5 + 6 = 11. The answer is 11.', 'A: So 2,000 + 125 = 2,125. The answer is 2,125.']), ['The answer is']);
    assert.deepEqual(deriveAnswerPhrases(['ধাপে: 5 + 6 = 11। উত্তর হল 11।']), ['উত্তর হল']);
    assert.deepEqual(deriveAnswerPhrases(['答え：5+6=11。答えは11です。', '答え：20-12=8。答えは8個です。']), ['答えは']);
  });

  it('keeps the shared last words when a unit word precedes the phrase (Thai has no full stops)', () => {
    assert.deepEqual(deriveAnswerPhrases(['ตอบ: 5 + 6 = 11 คำตอบคือ 11', 'ตอบ: 9 + 20 = 29 เครื่อง คำตอบคือ 29', 'ตอบ: 3 + 2 = 5 คัน คำตอบคือ 5']), ['คำตอบคือ']);
  });

  it('keeps distinct phrases, most frequent first, dropping one that is another with a word before it', () => {
    assert.deepEqual(deriveAnswerPhrases(['x 1. Die Antwort ist 1.', 'x 2. Die Antwort lautet 2.', 'x 3. Die Antwort lautet 3.']), ['Die Antwort lautet', 'Die Antwort ist']);
    assert.deepEqual(deriveAnswerPhrases(['a 5+6=11. సమాధానం 11.', 'b 9+20=29 కంప్యూటర్‌లు సమాధానం 29.', 'c 1. Final: 4.']), ['సమాధానం', 'Final:']);
  });

  it('gives nothing when an answer does not end with a number', () => {
    assert.deepEqual(deriveAnswerPhrases(['The answer is 5.', 'The answer is five.']), []);
  });
});
