import ort from 'onnxruntime-node';
import { lengthGroups } from '../padding.js';
import { int64Tensor, maskTensor } from './tensors.js';

type Float = Float32Array | Uint16Array;

/**
 * Run an encoder on length-homogeneous groups of a batch and assemble the states as if the whole batch
 * had run padded to its longest prompt: [rows, longest, hidden], zeros past each prompt's end, with the
 * matching attention mask. Only the cross-attention cache the decoder computes from it is padded; the
 * encoder's own work (its attention grows with length²) is spent on real tokens within the tolerance.
 *
 * On 2 CPU cores the encoder gains little from batching prompts of a few hundred tokens or more, while
 * padding a batch to its longest prompt costs in proportion (issue 10: 53% of bbh-cot's time was the
 * encoder). Each row's states depend only on its own prompt (padding is masked), so the result is the
 * same as one padded run.
 */
export async function encodeInGroups(
  run: (inputIds: ort.Tensor, mask: ort.Tensor, rows: number, width: number) => Promise<ort.Tensor>,
  prompts: readonly (readonly number[])[],
  padTokenId: number,
): Promise<{ encHidden: ort.Tensor; encMask: ort.Tensor }> {
  const lengths = prompts.map((p) => p.length);
  const width = Math.max(...lengths);
  const encMask = maskTensor(lengths, width);
  const groups = lengthGroups(lengths);
  if (groups.length === 1) {
    // One group: the batch runs as it is, padded to its longest prompt.
    return { encHidden: await run(int64Tensor(prompts, width, padTokenId), encMask, prompts.length, width), encMask };
  }
  let out: Float | null = null;
  let hidden = 0;
  let type: 'float32' | 'float16' = 'float32';
  for (const g of groups) {
    const w = lengths[g[0]!]!;
    const part = await run(int64Tensor(g.map((i) => prompts[i]!), w, padTokenId), maskTensor(g.map((i) => lengths[i]!), w), g.length, w);
    hidden = part.dims[2]!;
    type = part.type as 'float32' | 'float16';
    const src = part.data as Float;
    out ??= type === 'float16' ? new Uint16Array(prompts.length * width * hidden) : new Float32Array(prompts.length * width * hidden);
    g.forEach((row, k) => (out as Float32Array).set((src as Float32Array).subarray(k * w * hidden, (k * w + lengths[row]!) * hidden), row * width * hidden));
  }
  return { encHidden: new ort.Tensor(type, out as Float32Array, [prompts.length, width, hidden]), encMask };
}
