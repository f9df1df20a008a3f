import { InputError } from '../../errors.js';

/** One BBH example: `examples[i]` of `bbh/bbh/<task>.json`. */
export interface BbhExample {
  input: string;
  target: string;
}

/** A chain-of-thought exemplar of `cot-prompts/<task>.txt`, split into its parts. */
export interface BbhExemplar {
  /** The whole exemplar as written: `Q: q\nA: Let's think step by step.\n… So the answer is X.` */
  text: string;
  /** `q`: the question, between `Q: ` and the first `\nA: `. */
  question: string;
  /** `X`: the text after the last `So the answer is `, its final `.` removed. */
  answer: string;
}

/** A parsed cot-prompt file (docs/protocol.md §3 `P`, `D` and the exemplars). */
export interface BbhCotPrompt {
  /** `P`: everything after the `-----` line, trailing white space removed. */
  body: string;
  /** `D`: the task description, the text of `P` before its first `\n\nQ: `. */
  description: string;
  exemplars: BbhExemplar[];
}

const SEPARATOR_LINE = '-----';
const EXEMPLAR_START = '\n\nQ: ';
const ANSWER_MARK = 'So the answer is ';

/** Check the shape of a parsed task file: `{"canary": …, "examples": [{"input", "target"}]}`. */
export function checkBbhTask(data: unknown, file: string): BbhExample[] {
  const examples = (data as { examples?: unknown } | null)?.examples;
  if (typeof data !== 'object' || data === null || !Array.isArray(examples)) {
    throw new InputError(file, 'expected an object with an "examples" array; fetch the file again');
  }
  return examples.map((e: unknown, i) => {
    const ex = e as Partial<BbhExample> | null;
    if (typeof ex?.input !== 'string' || typeof ex?.target !== 'string') {
      throw new InputError(file, `examples[${i}] needs string fields "input" and "target"; fetch the file again`);
    }
    return { input: ex.input, target: ex.target };
  });
}

/**
 * Split a cot-prompt file into `P`, `D` and its exemplars. The canary line and the `-----` line go;
 * exemplars are the blocks of `P` that start with `Q: ` after a blank line.
 */
export function parseCotPrompt(text: string, file: string): BbhCotPrompt {
  const lines = text.split('\n');
  const sep = lines.findIndex((l) => l.replace(/\r$/, '') === SEPARATOR_LINE);
  if (sep < 0) throw new InputError(file, `no "${SEPARATOR_LINE}" line after the canary; fetch the file again`);
  const body = lines.slice(sep + 1).join('\n').trimEnd();
  const first = body.indexOf(EXEMPLAR_START);
  if (first < 0) throw new InputError(file, 'no exemplar ("Q: " after a blank line) found; fetch the file again');
  const description = body.slice(0, first);
  const exemplars = body
    .slice(first + 2)
    .split(EXEMPLAR_START)
    .map((block, i) => parseExemplar(i === 0 ? block : `Q: ${block}`, i, file));
  return { body, description, exemplars };
}

function parseExemplar(text: string, index: number, file: string): BbhExemplar {
  const answerAt = text.indexOf('\nA: ');
  const markAt = text.lastIndexOf(ANSWER_MARK);
  if (!text.startsWith('Q: ') || answerAt < 0 || markAt < 0) {
    throw new InputError(file, `exemplar ${index + 1} is not "Q: …\\nA: … So the answer is X."; fetch the file again`);
  }
  const tail = text.slice(markAt + ANSWER_MARK.length);
  return { text, question: text.slice(3, answerAt), answer: tail.endsWith('.') ? tail.slice(0, -1) : tail };
}
