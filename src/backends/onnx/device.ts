import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import ort from 'onnxruntime-node';
import { UsageError } from '../../errors.js';
import { DataType, encodeModel } from '../../onnx/proto.js';
import { GraphBuilder } from '../../onnx/graph.js';

/**
 * Devices are ONNX Runtime execution providers, and this file is the only place that knows the mapping:
 * `cpu` → CPU provider, `webgpu` → the WebGPU provider bundled in onnxruntime-node (Dawn over Vulkan,
 * Metal or D3D12), `cuda[:N]` → the CUDA provider (an opt-in download, see README "GPUs").
 */
export type DeviceKind = 'cpu' | 'webgpu' | 'cuda';

export interface DeviceSpec {
  kind: DeviceKind;
  deviceId: number;
  /** How the device is named in run records: "cpu", "webgpu" or "cuda:0". */
  label: string;
}

export const DEVICE_CHOICES = 'cpu, webgpu, cuda, cuda:N or auto';

/** A parsed --device value: a device, or `auto` (resolved by `resolveDevice`). */
export function parseDevice(flag: string | undefined): DeviceSpec | 'auto' {
  const value = (flag ?? 'cpu').trim();
  if (value === 'auto') return 'auto';
  if (value === 'cpu') return { kind: 'cpu', deviceId: 0, label: 'cpu' };
  if (value === 'webgpu') return { kind: 'webgpu', deviceId: 0, label: 'webgpu' };
  const m = /^cuda(?::(\d+))?$/.exec(value);
  if (m) {
    const deviceId = m[1] ? Number(m[1]) : 0;
    return { kind: 'cuda', deviceId, label: `cuda:${deviceId}` };
  }
  throw new UsageError(`--device ${value}: expected ${DEVICE_CHOICES}`);
}

/** The command that installs onnxruntime-node's CUDA provider (it downloads from NuGet; see README). */
export const CUDA_INSTALL_COMMAND = 'ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install';

/** Where onnxruntime-node keeps its native libraries for this platform. */
export function ortBinFolder(): string {
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
  return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

export function cudaProviderLibrary(): string {
  return join(ortBinFolder(), 'libonnxruntime_providers_cuda.so');
}

/** Whether the CUDA provider library is installed (FLAN_EVAL_CUDA_PROVIDER_CHECK=missing|present overrides, for tests). */
export function cudaProviderInstalled(): boolean {
  const override = process.env.FLAN_EVAL_CUDA_PROVIDER_CHECK;
  if (override === 'missing') return false;
  if (override === 'present') return true;
  return existsSync(cudaProviderLibrary());
}

function providerConfig(device: DeviceSpec): InferenceSessionOptions['executionProviders'] {
  if (device.kind === 'cuda') return [{ name: 'cuda', deviceId: device.deviceId } as ort.InferenceSession.ExecutionProviderConfig];
  if (device.kind === 'webgpu') return ['webgpu'];
  return ['cpu'];
}

type InferenceSessionOptions = ort.InferenceSession.SessionOptions;

/**
 * Execution providers and threads for a device. CUDA is never a silent fallback: if its provider library
 * is absent we stop with the command that installs it (the default install is CPU-only and offline-safe).
 * On a GPU, ONNX Runtime still runs shape arithmetic on the CPU; `threads` sizes that pool.
 */
export function sessionOptions(device: DeviceSpec, threads?: number): { options: InferenceSessionOptions; threads: number } {
  const intra = threads ?? availableParallelism();
  if (device.kind === 'cuda' && !cudaProviderInstalled()) {
    throw new UsageError(
      `--device ${device.label}: the CUDA execution provider is not installed (${cudaProviderLibrary()} is missing); install it with \`${CUDA_INSTALL_COMMAND}\` (needs CUDA 12 and cuDNN 9), or use --device webgpu or cpu`,
    );
  }
  const options: InferenceSessionOptions = {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: intra,
    interOpNumThreads: 1,
    enableCpuMemArena: true,
    // The WebGPU provider does not support memory patterns (ONNX Runtime turns them off and logs it).
    enableMemPattern: device.kind !== 'webgpu',
    executionProviders: providerConfig(device),
  };
  return { options, threads: intra };
}

/**
 * The one-line reason a device cannot start, from ONNX Runtime's error: the WebGPU provider reports
 * "No supported adapters" when Vulkan (or Metal/D3D12) offers no usable GPU.
 */
export function deviceStartError(device: DeviceSpec, what: string, message: string): UsageError {
  const first = message.split('\n').find((l) => l.trim()) ?? message;
  if (device.kind === 'webgpu') {
    const why = /adapter/i.test(first) ? 'no WebGPU adapter was found (no Vulkan driver for a GPU; on Linux without a GPU, install Mesa lavapipe: see README "GPUs")' : first;
    return new UsageError(`--device webgpu: onnxruntime could not start the WebGPU execution provider for ${what}: ${why}; run \`flan-eval doctor\` to see what is installed, or use --device cpu`);
  }
  return new UsageError(`--device ${device.label}: onnxruntime could not start the CUDA execution provider for ${what} (${first}); check the CUDA 12 / cuDNN 9 install (\`flan-eval doctor\`), or use --device cpu`);
}

/** A one-node graph (y = x + x) that any provider can run: the probe that tells whether a device starts. */
function probeModel(): Uint8Array {
  const g = new GraphBuilder('probe');
  const x = g.input('x', DataType.FLOAT, [4]);
  g.output('y', g.op('Add', [x, x]), DataType.FLOAT, [4]);
  return encodeModel(g.build(), 17);
}

export type ProbeResult = { ok: true } | { ok: false; error: string };

/** Start a session on the device and run it once; the error line if it cannot. Never throws. */
export async function probeDevice(device: DeviceSpec): Promise<ProbeResult> {
  if (device.kind === 'cuda' && !cudaProviderInstalled()) return { ok: false, error: 'provider library not installed' };
  try {
    const session = await ort.InferenceSession.create(probeModel(), { executionProviders: providerConfig(device), logSeverityLevel: 3 });
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(1, 2, 3, 4), [4]) });
    const ok = (out.y!.data as Float32Array)[3] === 8;
    await session.release();
    return ok ? { ok: true } : { ok: false, error: 'the probe graph computed a wrong result' };
  } catch (e) {
    const msg = String((e as Error)?.message ?? e);
    const line = msg.split('\n').find((l) => /adapter|error|fail/i.test(l)) ?? msg.split('\n')[0]!;
    // ONNX Runtime prefixes the reason with the failed source-level check; keep the reason.
    return { ok: false, error: line.replace(/^.*\bwas false\.\s*/, '').trim() };
  }
}

/**
 * Resolve --device. `auto` picks CUDA if its provider starts, then WebGPU if an adapter exists, else the
 * CPU, and says which on stderr. A device asked for by name is returned as is: if it cannot start, the
 * session that needs it stops the run (exit 2); nothing falls back silently.
 */
export async function resolveDevice(flag: string | undefined, say: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<DeviceSpec> {
  const parsed = parseDevice(flag);
  if (parsed !== 'auto') return parsed;
  const reasons: string[] = [];
  for (const candidate of [parseDevice('cuda'), parseDevice('webgpu')] as DeviceSpec[]) {
    const probe = await probeDevice(candidate);
    if (probe.ok) {
      say(`flan-eval: --device auto: using ${candidate.label}${reasons.length ? ` (${reasons.join('; ')})` : ''}`);
      return candidate;
    }
    reasons.push(`${candidate.kind}: ${probe.error}`);
  }
  say(`flan-eval: --device auto: using cpu (${reasons.join('; ')})`);
  return parseDevice('cpu') as DeviceSpec;
}
