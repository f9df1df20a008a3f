import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { UsageError } from '../../errors.js';

export interface DeviceSpec {
  kind: 'cpu' | 'cuda';
  deviceId: number;
  /** How the device is named in run records: "cpu" or "cuda:0". */
  label: string;
}

export function parseDevice(flag: string | undefined): DeviceSpec {
  const value = (flag ?? 'cpu').trim();
  if (value === 'cpu') return { kind: 'cpu', deviceId: 0, label: 'cpu' };
  const m = /^cuda(?::(\d+))?$/.exec(value);
  if (m) {
    const deviceId = m[1] ? Number(m[1]) : 0;
    return { kind: 'cuda', deviceId, label: `cuda:${deviceId}` };
  }
  throw new UsageError(`--device ${value}: expected cpu, cuda or cuda:N`);
}

/** The command that installs onnxruntime-node's CUDA provider (it downloads from NuGet; see README). */
export const CUDA_INSTALL_COMMAND = 'ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install';

/** Where onnxruntime-node keeps its native libraries for this platform. */
function ortBinFolder(): string {
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
  return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

/**
 * Execution providers and threads for a device. CUDA is never a silent fallback: if its provider library
 * is absent we stop with the command that installs it (the default install is CPU-only and offline-safe).
 */
export function sessionOptions(device: DeviceSpec, threads?: number): { options: InferenceSession.SessionOptions; threads: number } {
  const intra = threads ?? availableParallelism();
  const options: InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: intra,
    interOpNumThreads: 1,
    enableCpuMemArena: true,
    enableMemPattern: true,
  };
  if (device.kind === 'cuda') {
    const lib = join(ortBinFolder(), 'libonnxruntime_providers_cuda.so');
    const override = process.env.FLAN_EVAL_CUDA_PROVIDER_CHECK;
    if (override === 'missing' || (override !== 'present' && !existsSync(lib))) {
      throw new UsageError(
        `--device ${device.label}: the CUDA execution provider is not installed (${lib} is missing); install it with \`${CUDA_INSTALL_COMMAND}\` (needs CUDA 12 and cuDNN 9), or use --device cpu`,
      );
    }
    options.executionProviders = [{ name: 'cuda', deviceId: device.deviceId } as InferenceSession.ExecutionProviderConfig];
  } else {
    options.executionProviders = ['cpu'];
  }
  return { options, threads: intra };
}
