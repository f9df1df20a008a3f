import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The T5 config fields that fix the encoder's arithmetic. */
export interface EncoderShape {
  dModel: number;
  dKv: number;
  dFf: number;
  numHeads: number;
  numLayers: number;
  /** Gated feed-forward (T5 v1.1 / Flan-T5): two input projections instead of one. */
  gated: boolean;
}

export async function readEncoderShape(modelDir: string): Promise<EncoderShape> {
  const cfg = JSON.parse(await readFile(join(modelDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const num = (k: string) => Number(cfg[k]);
  return {
    dModel: num('d_model'),
    dKv: num('d_kv'),
    dFf: num('d_ff'),
    numHeads: num('num_heads'),
    numLayers: num('num_layers'),
    gated: cfg.is_gated_act === true || String(cfg.feed_forward_proj ?? '').startsWith('gated'),
  };
}

/**
 * Multiply-add FLOPs (2 per multiply-accumulate) of one encoder run on `rows` sequences padded to
 * `width` tokens: the MatMuls only (projections, attention scores and context, feed-forward). Norms,
 * softmax and activations are a few percent and are left out, so the rate is slightly understated.
 * Padded positions count: the hardware computes them.
 */
export function encoderFlops(s: EncoderShape, rows: number, width: number): number {
  const tokens = rows * width;
  const inner = s.numHeads * s.dKv;
  const projections = 2 * tokens * s.dModel * inner * 4; // q, k, v, o
  const attention = 2 * 2 * rows * s.numHeads * width * width * s.dKv; // QKᵀ and (softmax)V
  const ff = 2 * tokens * s.dModel * s.dFf * (s.gated ? 3 : 2);
  return s.numLayers * (projections + attention + ff);
}
