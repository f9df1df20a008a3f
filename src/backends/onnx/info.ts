import { basename } from 'node:path';
import ort from 'onnxruntime-node';
import { modelShape, type ModelFolder } from '../config.js';
import type { BackendInfo, BackendOptions, Dtype } from '../types.js';
import type { DeviceSpec } from './device.js';

/** What every ONNX Runtime backend reports about itself, except the parameter count (the backend knows its files). */
export function onnxInfo(opts: BackendOptions & { dir: string }, folder: ModelFolder, dtype: Dtype, device: DeviceSpec, threads: number, files: string[]): Omit<BackendInfo, 'params' | 'heldBytes'> {
  return {
    name: opts.name ?? basename(opts.dir),
    dir: opts.dir,
    arch: folder.modelType,
    dtype,
    device: device.label,
    provider: device.kind,
    threads,
    files,
    runtime: 'onnxruntime-node',
    runtimeVersion: ort.env.versions?.node ?? 'unknown',
    isTestModel: folder.isTestModel,
    shape: modelShape(folder, dtype),
  };
}
