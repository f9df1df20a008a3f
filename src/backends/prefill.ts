/**
 * How a decoder-only backend reads a long prompt: in chunks of positions, so that the logits one run
 * returns ([rows, positions, vocab] float32) stay under PREFILL_LOGITS_BYTES. Shared by the backend (which
 * does it) and the memory model (which must count what one chunk holds, not the whole prompt at once).
 */
export const PREFILL_LOGITS_BYTES = 256 * 2 ** 20;

/** Positions per prefill run for `rows` rows over a `vocab`-sized vocabulary (at least 1). */
export function prefillChunk(rows: number, vocab: number): number {
  return Math.max(1, Math.floor(PREFILL_LOGITS_BYTES / (rows * vocab * 4)));
}
