import ort from 'onnxruntime-node';
import { UsageError } from '../../errors.js';
import { deviceStartError, type DeviceSpec } from './device.js';

export type DecoderSessions =
  | { kind: 'merged'; merged: ort.InferenceSession; kvType: 'float32' | 'float16'; /** Used for steps after the first when the export has it. */ withPast?: ort.InferenceSession }
  | { kind: 'split'; first: ort.InferenceSession; withPast: ort.InferenceSession; kvType: 'float32' | 'float16' };

/**
 * Open an ONNX file (or its rewritten bytes, `model`); a corrupt or unreadable file becomes one line
 * naming it.
 */
export async function openSession(path: string, options: ort.InferenceSession.SessionOptions, device: DeviceSpec, model?: Uint8Array): Promise<ort.InferenceSession> {
  try {
    return await (model ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(path, options));
  } catch (e) {
    const msg = String((e as Error)?.message ?? e).split('\n')[0];
    const full = String((e as Error)?.message ?? e);
    if ((device.kind === 'cuda' && /cuda|provider|cudnn|libcu/i.test(msg)) || (device.kind === 'webgpu' && /webgpu|adapter|dawn|vulkan/i.test(full))) {
      throw deviceStartError(device, path, /adapter/i.test(full) ? 'No supported adapters' : msg);
    }
    throw new UsageError(`${path}: not a loadable ONNX model (${msg}); the file is corrupt or incomplete — download or export it again`);
  }
}

/**
 * Check a session's input and output names before running it (as Transformers.js does), so a model the
 * backend cannot drive fails up front with the names it lacks rather than mid-run with a runtime error.
 */
export function checkSession(session: ort.InferenceSession, path: string, inputs: readonly string[], outputs: readonly string[], expected = 'a Transformers.js/Optimum seq2seq export (docs/protocol.md §6), e.g. Xenova/flan-t5-small'): void {
  const missingIn = inputs.filter((n) => !session.inputNames.includes(n));
  const missingOut = outputs.filter((n) => !session.outputNames.includes(n));
  if (missingIn.length || missingOut.length) {
    const parts = [];
    if (missingIn.length) parts.push(`inputs ${summarize(missingIn)}`);
    if (missingOut.length) parts.push(`outputs ${summarize(missingOut)}`);
    throw new UsageError(`${path}: the model lacks ${parts.join(' and ')} that flan-eval needs; it must be ${expected}`);
  }
}

function summarize(names: string[]): string {
  return names.length > 4 ? `${names.slice(0, 4).join(', ')} (and ${names.length - 4} more)` : names.join(', ');
}

/** Element type of a session's cache input (float16 exports take float16 caches). */
export function kvType(session: ort.InferenceSession, name: string): 'float32' | 'float16' {
  const meta = (session.inputMetadata as readonly { name: string; isTensor: boolean; type?: string }[] | undefined)?.find((m) => m.name === name);
  return meta?.isTensor && meta.type === 'float16' ? 'float16' : 'float32';
}
