import { test } from 'node:test';
import { parseDevice, probeDevice, type DeviceSpec } from '../../src/backends/onnx/device.js';

/**
 * Whether tests that need a WebGPU adapter run here. With CI=true a missing adapter is a failure (CI
 * installs Mesa lavapipe, see .ci/run), so the GPU path can never silently go untested there; elsewhere
 * (a laptop without Vulkan) the tests are skipped with one line saying why.
 */
export async function webgpuForTests(): Promise<{ skip: false | string }> {
  const probe = await probeDevice(parseDevice('webgpu') as DeviceSpec);
  if (probe.ok) return { skip: false };
  const reason = `no WebGPU adapter (${probe.error}); install a Vulkan driver (Mesa lavapipe: see README "GPUs") to run them`;
  if (process.env.CI === 'true') {
    test('CI=true: a WebGPU adapter must exist (lavapipe is installed by .ci/run)', () => {
      throw new Error(`WebGPU tests cannot run: ${reason}`);
    });
  } else {
    process.stderr.write(`flan-eval tests: WebGPU tests skipped: ${reason}\n`);
  }
  return { skip: `WebGPU tests skipped: ${reason}` };
}
