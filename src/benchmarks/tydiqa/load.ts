import { InputError } from '../../errors.js';

/** One TyDiQA GoldP question in SQuAD v1.1 form, with the passage it is asked about. */
export interface TydiqaQuestion {
  /** e.g. `arabic-2387335860751143628-1`. */
  qaId: string;
  /** The part of the id before the first `-` (docs/protocol.md §1). */
  language: string;
  context: string;
  question: string;
  /** Gold answer texts in file order, duplicates removed. */
  answers: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Walk `data[].paragraphs[].{context, qas[]}` and return every question in file order. Anything off the
 * SQuAD v1.1 shape is one error naming the file and the JSON path (`data[3].paragraphs[0].qas[2]`).
 */
export function readSquadQuestions(json: unknown, file: string): TydiqaQuestion[] {
  const bad = (path: string, detail: string) =>
    new InputError(file, `${path}: ${detail}; expected SQuAD v1.1 JSON (data[].paragraphs[].qas[]) — fetch the file again`);
  if (!isObject(json) || !Array.isArray(json.data)) throw bad('data', 'missing or not a list');
  const out: TydiqaQuestion[] = [];
  json.data.forEach((article, a) => {
    if (!isObject(article) || !Array.isArray(article.paragraphs)) throw bad(`data[${a}].paragraphs`, 'missing or not a list');
    article.paragraphs.forEach((para, p) => {
      const at = `data[${a}].paragraphs[${p}]`;
      if (!isObject(para) || typeof para.context !== 'string') throw bad(`${at}.context`, 'missing or not a string');
      if (!Array.isArray(para.qas)) throw bad(`${at}.qas`, 'missing or not a list');
      for (const [q, qa] of para.qas.entries()) {
        const qat = `${at}.qas[${q}]`;
        if (!isObject(qa) || typeof qa.id !== 'string' || typeof qa.question !== 'string') throw bad(qat, 'needs string "id" and "question"');
        const dash = qa.id.indexOf('-');
        if (dash <= 0) throw bad(`${qat} (id "${qa.id}")`, 'the id has no "<language>-" prefix');
        if (!Array.isArray(qa.answers)) throw bad(`${qat} (id "${qa.id}").answers`, 'missing or not a list');
        const answers: string[] = [];
        for (const ans of qa.answers) {
          if (!isObject(ans) || typeof ans.text !== 'string') throw bad(`${qat} (id "${qa.id}").answers`, 'an answer has no string "text"');
          if (!answers.includes(ans.text)) answers.push(ans.text);
        }
        out.push({ qaId: qa.id, language: qa.id.slice(0, dash), context: para.context, question: qa.question, answers });
      }
    });
  });
  return out;
}

/** Group questions by language, keeping file order inside each (docs/protocol.md §2: that order is the id index). */
export function byLanguage(questions: readonly TydiqaQuestion[]): Map<string, TydiqaQuestion[]> {
  const out = new Map<string, TydiqaQuestion[]>();
  for (const q of questions) {
    const list = out.get(q.language);
    if (list) list.push(q);
    else out.set(q.language, [q]);
  }
  return out;
}
