import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import { parseJson } from '../../util/fs.js';

/** The two operations the backend needs from a tokenizer. */
export interface Tokenizer {
  encode(text: string, addSpecialTokens: boolean): number[];
  decode(ids: readonly number[]): string;
}

/**
 * The model's own tokenizer.json through @huggingface/transformers (the same code Transformers.js uses,
 * so prompts become the same ids in both). Loaded from the folder only; never from the network.
 */
export async function loadTokenizer(dir: string): Promise<Tokenizer> {
  const { PreTrainedTokenizer } = await import('@huggingface/transformers');
  const path = join(dir, 'tokenizer.json');
  const tokenizerJson = parseJson(await readFile(path, 'utf8'), path);
  let tokenizerConfig: unknown = {};
  try {
    tokenizerConfig = parseJson(await readFile(join(dir, 'tokenizer_config.json'), 'utf8'), join(dir, 'tokenizer_config.json'));
  } catch (e) {
    if (e instanceof UsageError) throw e; // malformed; a missing tokenizer_config.json is fine
  }
  let tok: InstanceType<typeof PreTrainedTokenizer>;
  try {
    tok = new PreTrainedTokenizer(tokenizerJson as object, tokenizerConfig as object);
  } catch (e) {
    throw new UsageError(`${path}: not a usable tokenizer (${(e as Error).message})`);
  }
  return {
    encode: (text, addSpecialTokens) => tok.encode(text, { add_special_tokens: addSpecialTokens }),
    decode: (ids) => (ids.length ? tok.decode(ids as number[], { skip_special_tokens: true }) : ''),
  };
}
