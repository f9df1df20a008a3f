/**
 * What crosses between host and GPU per decoder step (issue 13: "no per-step host copy of the KV caches").
 * Runs greedy generation on `--device webgpu` with the backend's profiling hook and prints, per kind of
 * decoder run, which inputs came from host memory and which outputs went back to it, next to the bytes of
 * KV cache that stayed on the device.
 *
 *   node dist/benchmarks/speed/gpuResidency.js <model-dir> [--prompts 8] [--max-new-tokens 32] [--row-removal gather|mask]
 */
import { parseArgs } from 'node:util';
import { loadBackend } from '../../src/backends/load.js';
import type { OnnxCausalBackend } from '../../src/backends/onnx/causal.js';
import type { OnnxSeq2SeqBackend } from '../../src/backends/onnx/seq2seq.js';
import type { RunEvent } from '../../src/backends/types.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { prompts: { type: 'string', default: '8' }, 'max-new-tokens': { type: 'string', default: '32' }, 'row-removal': { type: 'string', default: 'gather' } },
});
const dir = positionals[0];
if (!dir) throw new Error('usage: gpuResidency.js <model-dir> [--prompts N] [--max-new-tokens N]');
const events: RunEvent[] = [];
// A T5 or a decoder-only (llama, qwen2, gpt2) folder: both backends keep their caches on the device.
const backend = (await loadBackend(dir, { device: 'webgpu', rowRemoval: values['row-removal'] as 'gather' | 'mask', onRun: (e) => events.push(e) })) as OnnxSeq2SeqBackend | OnnxCausalBackend;
const n = Number(values.prompts);
const prompts = Array.from({ length: n }, (_, i) => backend.encode(`Question ${i}: ${'the study of science and history '.repeat(4 + 3 * i)}Answer:`));
const budget = prompts.map((_, i) => Math.max(1, Math.round((Number(values['max-new-tokens']) * (i + 1)) / n)));
const out = await backend.generateTokens(prompts, budget, prompts.map(() => []));
const s = backend.info.shape;
const steps = events.filter((e) => e.session === 'decoder');
const kinds = new Map<string, number>();
for (const e of steps) {
  const key = `host inputs [${e.hostInputs!.filter((x) => !x.startsWith('past_key_values.')).join(', ')}${e.hostInputs!.some((x) => x.startsWith('past_key_values.')) ? ', past_key_values.* (zero-length, first step)' : ''}] · host outputs [${e.hostOutputs!.join(', ')}]`;
  kinds.set(key, (kinds.get(key) ?? 0) + 1);
}
const generated = out.reduce((a, r) => a + r.tokens.length, 0);
// T5: self-attention cache after the last step plus the cross-attention cache; decoder-only: the past
// over prompt and continuation. Either way layers × K,V × (prompt + new tokens) per row, on the device.
const maxPrompt = Math.max(...prompts.map((p) => p.length));
const kvBytes = s.layers * 2 * s.kvHeads * s.headDim * s.bytesPerElement * n * (Math.max(...budget) + maxPrompt);
process.stdout.write(
  [
    `${backend.info.name} on webgpu (${values['row-removal']}): ${n} prompts, ${generated} tokens generated, ${steps.length} decoder runs, device tensors left after the batch: ${backend.deviceTensorsHeld}`,
    `KV caches at their largest: ${(kvBytes / 2 ** 20).toFixed(1)} MiB, on the device throughout`,
    ...[...kinds].map(([k, c]) => `${String(c).padStart(4)} × ${k}`),
    '',
  ].join('\n'),
);
await backend.dispose();
