import { commonWords } from './tokenizer.js';

/**
 * A byte-level BPE tokenizer.json (the GPT-2 scheme that GPT-2, Llama 3, SmolLM2 and Qwen2 all use),
 * generated rather than copied: 256 byte symbols, then merges that build common English words (with and
 * without the leading space Ġ, and capitalised), then letter bigrams, trigrams and four-grams, until
 * the vocabulary has the size asked for. Merge rank = creation order. The point is not a good tokenizer
 * but a real one: the same code paths (ByteLevel pre-tokenizer and decoder, BPE merges, special tokens)
 * as the published ones, so token boundaries can merge across a context/continuation split exactly as
 * they do there.
 */

/** GPT-2's bytes_to_unicode: every byte as a printable character (space → Ġ, newline → Ċ). */
export function byteToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const map: string[] = new Array(256);
  for (const b of bs) map[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (map[b] === undefined) map[b] = String.fromCharCode(256 + n++);
  return map;
}

export interface BpeStyle {
  /** Special tokens placed before the byte symbols (ids 0…), e.g. Llama 3's BOS/EOS. */
  leadingSpecials: string[];
  /** Special tokens placed after the merges (the last ids), e.g. GPT-2's <|endoftext|>. */
  trailingSpecials: string[];
  /** A BOS the post-processor prepends (add_special_tokens), or null. */
  bos: string | null;
  /** Total vocabulary: specials + 256 bytes + merges. */
  size: number;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** Merges in rank order, as [left, right] token pairs, for a vocabulary of `count` merged tokens. */
export function bpeMerges(count: number): [string, string][] {
  const G = 'Ġ';
  const have = new Set<string>(byteToUnicode());
  const merges: [string, string][] = [];
  // Build `token` from its first symbol by appending one character at a time, adding what is missing.
  const build = (token: string) => {
    const chars = [...token];
    let cur = chars[0]!;
    for (const c of chars.slice(1)) {
      if (merges.length >= count) return;
      const next = cur + c;
      if (!have.has(next)) {
        have.add(next);
        merges.push([cur, c]);
      }
      cur = next;
    }
  };
  build('ĊĊ');
  build('ĠĠ');
  for (const w of commonWords()) {
    build(G + w);
    build(G + w[0]!.toUpperCase() + w.slice(1));
    build(w);
  }
  let grams = [...LETTERS];
  for (let n = 2; n <= 4 && merges.length < count; n++) {
    grams = grams.flatMap((g) => [...LETTERS].map((c) => g + c));
    for (const g of grams) {
      if (merges.length >= count) break;
      build(G + g);
      build(g);
    }
  }
  return merges.slice(0, count);
}

export function bpeTokenizerJson(style: BpeStyle): object {
  const bytes = byteToUnicode();
  const nMerges = style.size - style.leadingSpecials.length - style.trailingSpecials.length - 256;
  if (nMerges < 0) throw new Error(`vocabulary ${style.size} is smaller than the byte alphabet`);
  const merges = bpeMerges(nMerges);
  const tokens = [...style.leadingSpecials, ...bytes, ...merges.map(([a, b]) => a + b), ...style.trailingSpecials];
  if (tokens.length !== style.size) throw new Error(`could only make ${tokens.length} of ${style.size} tokens`);
  const vocab = Object.fromEntries(tokens.map((t, i) => [t, i]));
  const specials = [...style.leadingSpecials, ...style.trailingSpecials];
  const added = specials.map((content) => ({ id: vocab[content], content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const post = style.bos
    ? {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: style.bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [{ SpecialToken: { id: style.bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: style.bos, type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
        special_tokens: { [style.bos]: { id: style.bos, ids: [vocab[style.bos]], tokens: [style.bos] } },
      }
    : { ...byteLevel, trim_offsets: false };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: post,
    decoder: byteLevel,
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: merges.map(([a, b]) => `${a} ${b}`) },
  };
}
