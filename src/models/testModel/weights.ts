import { Rng } from './random.js';
import type { T5Config, Weights } from './t5Graph.js';

/**
 * Random weights for a T5 v1.1 model, drawn in a fixed order from one seeded generator. Scales follow
 * T5's initialisation closely enough that activations stay O(1) and greedy outputs vary with the input
 * (a degenerate random model that always emits the same token would test nothing).
 */
export function randomWeights(cfg: T5Config, seed: number): Weights {
  const rng = new Rng(seed);
  const w: Weights = new Map();
  const D = cfg.d_model;
  const inner = cfg.num_heads * cfg.d_kv;
  const add = (name: string, dims: number[], std: number, mean = 0) => {
    w.set(name, { dims, data: rng.normals(dims.reduce((a, b) => a * b, 1), std, mean) });
  };
  add('shared', [cfg.vocab_size, D], 1);
  add('encoder.relative_attention_bias', [cfg.relative_attention_num_buckets, cfg.num_heads], 1);
  add('decoder.relative_attention_bias', [cfg.relative_attention_num_buckets, cfg.num_heads], 1);
  const attn = (p: string) => {
    add(`${p}q`, [D, inner], 1 / Math.sqrt(D * cfg.d_kv)); // T5 folds 1/sqrt(d_kv) into q's init
    add(`${p}k`, [D, inner], 1 / Math.sqrt(D));
    add(`${p}v`, [D, inner], 1 / Math.sqrt(D));
    add(`${p}o`, [inner, D], 1 / Math.sqrt(inner));
  };
  const ff = (p: string) => {
    add(`${p}.ff_norm`, [D], 0.1, 1);
    add(`${p}.ff.wi_0`, [D, cfg.d_ff], 1 / Math.sqrt(D));
    add(`${p}.ff.wi_1`, [D, cfg.d_ff], 1 / Math.sqrt(D));
    add(`${p}.ff.wo`, [cfg.d_ff, D], 1 / Math.sqrt(cfg.d_ff));
  };
  for (let i = 0; i < cfg.num_layers; i++) {
    const p = `encoder.block.${i}`;
    add(`${p}.attn_norm`, [D], 0.1, 1);
    attn(`${p}.`);
    ff(p);
  }
  add('encoder.final_norm', [D], 0.1, 1);
  for (let i = 0; i < cfg.num_decoder_layers; i++) {
    const p = `decoder.block.${i}`;
    add(`${p}.attn_norm`, [D], 0.1, 1);
    attn(`${p}.`);
    add(`${p}.cross_norm`, [D], 0.1, 1);
    attn(`${p}.cross_`);
    ff(p);
  }
  add('decoder.final_norm', [D], 0.1, 1);
  add('lm_head', [D, cfg.vocab_size], 2 / Math.sqrt(D));
  // A stronger end-of-sequence column, so that some greedy continuations end with EOS (id 1) rather
  // than all running to the token limit: tests need both endings.
  const head = w.get('lm_head')!.data;
  for (let r = 0; r < D; r++) head[r * cfg.vocab_size + 1]! *= 2.5;
  return w;
}
