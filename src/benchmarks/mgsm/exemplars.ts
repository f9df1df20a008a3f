import { InputError } from '../../errors.js';
import { parsePythonAssignments, type PyDict, type PyValue } from './pyLiteral.js';

/** One worked exemplar: `q` starts with the question word, `a` with the answer phrase (docs/protocol.md §1). */
export interface MgsmExemplar {
  q: string;
  a: string;
}

/** What a language's prompts and scorer need, all derived from its exemplars (docs/protocol.md §3, §4). */
export interface MgsmLanguageExemplars {
  exemplars: MgsmExemplar[];
  /** Exemplar 1's `q` up to and including its first `:`/`：` plus the spaces after it, e.g. `Question: `. */
  questionWord: string;
  /** Exemplar 1's `a` up to and including its first `:`/`：`, e.g. `Step-by-Step Answer:`. */
  answerWord: string;
  /**
   * The words before the final number of the exemplars' answers, most frequent first, e.g.
   * [`The answer is`], [`答案是`], [`Die Antwort lautet`, `Die Antwort ist`].
   */
  answerPhrases: string[];
}

export interface MgsmExemplarFile {
  /** EXEMPLAR_NUMBER_ANSWERS: the numeric answer of exemplar i, used by the direct format. */
  numberAnswers: number[];
  languages: Map<string, MgsmLanguageExemplars>;
}

const isDict = (v: PyValue | undefined): v is PyDict => v instanceof Map;

/** Parse `exemplars.py` (as data) and check it has the shape docs/protocol.md §1 describes. */
export function parseExemplarFile(src: string, file: string): MgsmExemplarFile {
  const vars = parsePythonAssignments(src, file);
  const bad = (detail: string) => new InputError(file, `${detail}; fetch the file again (\`flan-eval data fetch mgsm\`)`);

  const numbers = vars.get('EXEMPLAR_NUMBER_ANSWERS');
  if (!Array.isArray(numbers) || !numbers.every((n) => typeof n === 'number')) {
    throw bad('EXEMPLAR_NUMBER_ANSWERS is missing or is not a list of numbers');
  }
  const all = vars.get('MGSM_EXEMPLARS');
  if (!isDict(all)) throw bad('MGSM_EXEMPLARS is missing or is not a dict');

  const languages = new Map<string, MgsmLanguageExemplars>();
  for (const [lang, byNumber] of all) {
    if (!isDict(byNumber)) throw bad(`MGSM_EXEMPLARS["${lang}"] is not a dict`);
    // Keys are "1".."8": order numerically so "10" would follow "9", whatever the order in the file.
    const keyed = [...byNumber].map(([k, v]) => {
      const n = Number(k);
      if (!Number.isInteger(n) || n < 1) throw bad(`MGSM_EXEMPLARS["${lang}"] has key "${k}", expected "1", "2", …`);
      if (!isDict(v)) throw bad(`MGSM_EXEMPLARS["${lang}"]["${k}"] is not a dict`);
      const q = v.get('q');
      const a = v.get('a');
      if (typeof q !== 'string' || typeof a !== 'string') throw bad(`MGSM_EXEMPLARS["${lang}"]["${k}"] needs string "q" and "a"`);
      return { n, q, a };
    });
    keyed.sort((x, y) => x.n - y.n);
    const exemplars = keyed.map(({ q, a }) => ({ q, a }));
    if (exemplars.length === 0) throw bad(`MGSM_EXEMPLARS["${lang}"] has no exemplars`);
    const first = exemplars[0]!;
    const questionWord = leadWord(first.q, true);
    const answerWord = leadWord(first.a, false);
    if (!questionWord) throw bad(`MGSM_EXEMPLARS["${lang}"]["1"]["q"] has no ":" or "：" after its question word`);
    if (!answerWord) throw bad(`MGSM_EXEMPLARS["${lang}"]["1"]["a"] has no ":" or "：" after its answer phrase`);
    const answerPhrases = deriveAnswerPhrases(exemplars.map((e) => e.a));
    if (!answerPhrases.length) throw bad(`MGSM_EXEMPLARS["${lang}"]: the answers do not end with "<answer phrase> <number>"`);
    languages.set(String(lang), { exemplars, questionWord, answerWord, answerPhrases });
  }
  return { numberAnswers: numbers as number[], languages };
}

/**
 * docs/protocol.md §3: the text up to and including the first `:` (or full-width `：`); for QW also the spaces
 * after it, so `Question : ` (French) and `问题：` (no space) both come out right.
 */
export function leadWord(text: string, withSpaces: boolean): string {
  const m = /^[^:：]*[:：]/.exec(text);
  if (!m) return '';
  if (!withSpaces) return m[0];
  const spaces = /^ */.exec(text.slice(m[0].length))![0];
  return m[0] + spaces;
}

/**
 * Where an answer phrase can start: after a sentence end (`.`, `。` in zh/ja, `।` in bn, `?`/`!` and
 * their full-width forms) or after a digit (Thai writes no full stops: `… 5 + 6 = 11 คำตอบคือ 11`).
 */
const PHRASE_START = /[.。।!?！？\d]/u;

/**
 * docs/protocol.md §4's answer phrases: the words before the number at the end of each exemplar's answer, i.e.
 * the text between the last sentence end (or digit) and the final number, trimmed. Upstream does not
 * use one phrase per language: German exemplar 1 ends `Die Antwort ist 11.`, exemplars 2–8
 * `Die Antwort lautet 29.`; Telugu exemplar 2 has no full stop before `సమాధానం 29`, so its phrase also
 * takes the word before. So every distinct phrase is kept, the most frequent first (ties: file order);
 * the scorer accepts any of them. Returns [] when an answer does not end with a number.
 */
export function deriveAnswerPhrases(answers: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const a of answers) {
    const m = /\d[\d,]*(?:\.\d+)?(?=\D*$)/u.exec(a);
    if (!m) return [];
    const head = a.slice(0, m.index);
    let start = 0;
    for (let i = 0; i < head.length; i++) if (PHRASE_START.test(head[i]!)) start = i + 1;
    const phrase = head.slice(start).trim();
    if (!phrase) return [];
    counts.set(phrase, (counts.get(phrase) ?? 0) + 1);
  }
  // Map keeps first-seen order; a stable sort by count keeps it for ties.
  const phrases = [...counts].sort((x, y) => y[1] - x[1]).map(([p]) => p);
  // Thai puts the unit word between the number and the phrase (`… = 11 ชิ้น คำตอบคือ 11`), so some
  // phrases carry a leading word. Words that end every phrase are the phrase (Thai `คำตอบคือ`).
  const shared = sharedLastWords(phrases);
  if (shared) return [shared];
  // Otherwise drop a phrase that is another one with words before it (Telugu's `కంప్యూటర్‌లు సమాధానం`).
  return phrases.filter((p) => !phrases.some((q) => q !== p && p.endsWith(q) && /\s$/u.test(p.slice(0, p.length - q.length))));
}

/** The longest run of whole (white-space separated) words that ends every phrase, or "". */
function sharedLastWords(phrases: readonly string[]): string {
  const split = phrases.map((p) => p.split(/\s+/u));
  let k = 0;
  while (split.every((w) => w.length > k && w[w.length - 1 - k] === split[0]![split[0]!.length - 1 - k])) k++;
  if (k === 0) return '';
  // The first phrase's own last k words, with its own spacing between them.
  return new RegExp(`(?:\\S+\\s+){${k - 1}}\\S+$`, 'u').exec(phrases[0]!)![0];
}
