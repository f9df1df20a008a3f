/**
 * KV-cache tensor names, read from a session's own input and output names and never spelled out by hand:
 * Optimum/Transformers.js exports take the cache as `past_key_values.<rest>` inputs and return the grown one
 * as `present.<rest>` outputs (t5: `<rest>` = `N.decoder.key`, `N.encoder.value`…; llama, qwen2, gpt2:
 * `N.key`, `N.value`). Transformers.js pairs them the same way.
 */
export const PAST_PREFIX = 'past_key_values.';
export const PRESENT_PREFIX = 'present.';

export interface CacheNames {
  /** Cache inputs, in the session's order. */
  past: string[];
  /** Cache outputs, in the session's order. */
  present: string[];
  /** The input that a cache output feeds on the next step. */
  pastOf(present: string): string;
}

export function cacheNames(session: { readonly inputNames: readonly string[]; readonly outputNames: readonly string[] }): CacheNames {
  return {
    past: session.inputNames.filter((n) => n.startsWith(PAST_PREFIX)),
    present: session.outputNames.filter((n) => n.startsWith(PRESENT_PREFIX)),
    pastOf: (present) => PAST_PREFIX + present.slice(PRESENT_PREFIX.length),
  };
}
