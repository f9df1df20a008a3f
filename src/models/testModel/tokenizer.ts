/**
 * A T5-style SentencePiece Unigram tokenizer.json, generated rather than copied (no third-party vocab is
 * shipped). Layout as in T5's: ids 0/1/2 are <pad>, </s>, <unk>; Metaspace pre-tokenizer and decoder;
 * "$A </s>" post-processing; `<extra_id_N>` sentinels at the end.
 *
 * Pieces: every printable ASCII character (bare and with the word-start mark ▁), a newline (so that
 * stop sequences such as "\n\nQ:" can be generated and tested), a list of common English words, then
 * letter n-grams. Scores favour longer pieces, so Viterbi segmentation uses few tokens per word: on
 * English prompts the `flan-t5-small` shape gives token counts of the same order as the real tokenizer,
 * which is what speed benchmarks need.
 */

const COMMON_WORDS = `the of and to a in is that for it as was with be by on not he this are or his from at which but have an
they you were her she there been one all we their has would when if so no will can more who its also out up what do about
into than them only other some time then these may two after first any like new such could many most over how our me him
my just where well because answer question questions following multiple choice choices true false yes no valid invalid
think step by step let's so the answer is options option select correct statement statements number numbers total each
per day days year years people person man woman men women child children water food money dollars price cost costs bought
sells sold buys buy has had makes made take takes took give gives gave find found does did done know known use used using
between under three four five six seven eight nine ten hundred thousand million half twice more less most least every
what which who whom whose why how when where while during before after above below left right first second third last
next same different following given following sentence sentences word words text passage paragraph context table name
names date dates time times hour hours minute minutes week weeks month months color colors red blue green yellow black
white orange purple brown gray object objects ball balls book books order ordered shape shapes line lines point points
argument arguments premise premises conclusion deductively logically true false not and or plausible implausible
science history law medicine biology chemistry physics mathematics math economics philosophy psychology computer
algebra geometry calculus statistics probability function functions value values equation equations solve solution
following best describes explain because therefore however although since unless until whether either neither both
state states government country countries world city cities company market system systems theory model models data
study studies research result results effect effects cause causes level levels group groups rate rates energy force
cell cells body blood heart brain protein gene genes disease patient patients treatment drug drugs health human humans`;

function uniq(xs: string[]): string[] {
  return [...new Set(xs)];
}

/** The common English words both generated tokenizers build whole tokens for. */
export function commonWords(): string[] {
  return uniq(COMMON_WORDS.split(/\s+/).filter(Boolean));
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

function ngrams(n: number): string[] {
  let out = [''];
  for (let i = 0; i < n; i++) out = out.flatMap((p) => [...LETTERS].map((c) => p + c));
  return out;
}

export interface TokenizerShape {
  /** Pieces other than the specials and the sentinels. */
  pieces: number;
  extraIds: number;
}

export function tokenizerPieces(shape: TokenizerShape): string[] {
  const ascii = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).filter((c) => c !== ' ');
  const ws = commonWords();
  const candidates = uniq([
    '▁',
    ...ascii,
    ...ascii.map((c) => `▁${c}`),
    '\n',
    ...ws.map((w) => `▁${w}`),
    ...ws.map((w) => `▁${w[0]!.toUpperCase()}${w.slice(1)}`),
    ...ws,
    ...ngrams(2).map((g) => `▁${g}`),
    ...ngrams(2),
    ...ngrams(3).map((g) => `▁${g}`),
    ...ngrams(3),
  ]);
  return candidates.slice(0, shape.pieces);
}

export function tokenizerJson(shape: TokenizerShape): object {
  const pieces = tokenizerPieces(shape);
  // Unigram log-probabilities: every token costs ~10 nats, longer pieces a little less, so segmentation
  // prefers whole words, then long n-grams, then characters.
  const score = (p: string) => -10 + 0.25 * [...p.replace('▁', '')].length;
  const vocab: [string, number][] = [
    ['<pad>', 0],
    ['</s>', 0],
    ['<unk>', 0],
    ...pieces.map((p): [string, number] => [p, score(p)]),
  ];
  const sentinels = Array.from({ length: shape.extraIds }, (_, i) => `<extra_id_${shape.extraIds - 1 - i}>`);
  for (const s of sentinels) vocab.push([s, 0]);
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(0, '<pad>'), special(1, '</s>'), special(2, '<unk>'), ...sentinels.map((s, i) => special(3 + pieces.length + i, s))],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }] },
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }, { Sequence: { id: 'B', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      special_tokens: { '</s>': { id: '</s>', ids: [1], tokens: ['</s>'] } },
    },
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: 2, vocab, byte_fallback: false },
  };
}

export function tokenizerConfigJson(extraIds: number): object {
  return {
    tokenizer_class: 'T5Tokenizer',
    model_max_length: 512,
    eos_token: '</s>',
    pad_token: '<pad>',
    unk_token: '<unk>',
    extra_ids: extraIds,
    additional_special_tokens: Array.from({ length: extraIds }, (_, i) => `<extra_id_${i}>`),
    clean_up_tokenization_spaces: true,
    legacy: true,
  };
}
