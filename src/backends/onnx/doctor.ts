import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, constants, cpus, freemem, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ort from 'onnxruntime-node';
import { cudaProviderInstalled, cudaProviderLibrary, parseDevice, probeDevice, type DeviceSpec } from './device.js';

/**
 * What this machine offers flan-eval: which execution providers onnxruntime-node bundles or has installed,
 * whether WebGPU and CUDA actually start (a one-node probe graph), the Vulkan drivers and GPUs behind
 * WebGPU, the CUDA libraries the CUDA provider needs, threads and memory. `flan-eval doctor` prints it;
 * `run` stores its JSON in every run record (runtime.environment), so a record says what it ran on.
 */
export interface DoctorReport {
  schema: 'flan-eval/doctor@1';
  onnxruntime: string;
  node: string;
  platform: string;
  providers: { name: string; bundled: boolean; installed: boolean }[];
  webgpu: {
    starts: boolean;
    error: string | null;
    /** The Vulkan loader (libvulkan.so.1) WebGPU runs on under Linux; null where it does not load. */
    vulkanLoader: string | null;
    /** Vulkan driver manifests (ICDs) found, with the library each names and its vendor. */
    drivers: { manifest: string; library: string; vendor: string }[];
    /** GPUs as `vulkaninfo --summary` lists them, when vulkan-tools is installed; else null. */
    adapters: { name: string; vendor: string; driver: string; type: string }[] | null;
  };
  cuda: {
    providerLibrary: string;
    installed: boolean;
    /** The CUDA 12 / cuDNN 9 libraries the provider links against, and whether each loads. */
    libraries: { name: string; loads: boolean; error: string | null }[];
    starts: boolean;
    error: string | null;
    /** NVIDIA GPUs as nvidia-smi reports them (null when nvidia-smi is not on PATH). */
    gpus: { name: string; driver: string; memoryMiB: number }[] | null;
  };
  cpu: { model: string; cores: number; defaultThreads: number };
  memory: { totalBytes: number; freeBytes: number };
}

const CUDA_LIBRARIES = ['libcudart.so.12', 'libcublas.so.12', 'libcublasLt.so.12', 'libcufft.so.11', 'libcurand.so.10', 'libcudnn.so.9'];

/** Vendors by the driver library a Vulkan manifest names (the manifest itself carries no vendor). */
const VULKAN_VENDORS: [RegExp, string][] = [
  [/lvp/, 'Mesa lavapipe (software, runs on the CPU)'],
  [/nvidia/i, 'NVIDIA'],
  [/radeon|amdvlk|amdgpu/i, 'AMD'],
  [/intel/i, 'Intel'],
  [/virtio|gfxstream/i, 'virtual GPU'],
  [/swiftshader/i, 'SwiftShader (software)'],
];

const run = promisify(execFile);

export async function collectDoctor(): Promise<DoctorReport> {
  const bundled = ort.listSupportedBackends();
  const cudaInstalled = cudaProviderInstalled();
  const webgpu = await probeDevice(parseDevice('webgpu') as DeviceSpec);
  const cuda = await probeDevice(parseDevice('cuda') as DeviceSpec);
  const cpuList = cpus();
  return {
    schema: 'flan-eval/doctor@1',
    onnxruntime: ort.env.versions?.node ?? 'unknown',
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
    providers: bundled.map((b) => ({ name: b.name, bundled: b.bundled, installed: b.bundled || (b.name === 'cuda' && cudaInstalled) })),
    webgpu: {
      starts: webgpu.ok,
      error: webgpu.ok ? null : webgpu.error,
      vulkanLoader: process.platform === 'linux' ? (loadLibrary('libvulkan.so.1') === null ? 'libvulkan.so.1' : null) : null,
      drivers: vulkanDrivers(),
      adapters: await vulkanAdapters(),
    },
    cuda: {
      providerLibrary: cudaProviderLibrary(),
      installed: cudaInstalled,
      libraries: process.platform === 'linux' ? CUDA_LIBRARIES.map((name) => ({ name, ...loadResult(loadLibrary(name)) })) : [],
      starts: cuda.ok,
      error: cuda.ok ? null : cuda.error,
      gpus: await nvidiaGpus(),
    },
    cpu: { model: cpuList[0]?.model.trim() ?? 'unknown', cores: availableParallelism(), defaultThreads: availableParallelism() },
    memory: { totalBytes: totalmem(), freeBytes: freemem() },
  };
}

const loadResult = (error: string | null) => ({ loads: error === null, error });

/**
 * dlopen a shared library by name (the system search path, LD_LIBRARY_PATH included); null if it loads,
 * else the loader's message. Node's dlopen then looks for an addon inside, so "did not self-register"
 * means the library itself loaded.
 */
function loadLibrary(name: string): string | null {
  try {
    process.dlopen({ exports: {} } as NodeJS.Module, name, constants.dlopen.RTLD_LAZY);
    return null;
  } catch (e) {
    const msg = String((e as Error).message ?? e);
    if (/self-register|did not self|no such symbol|napi_register/i.test(msg)) return null;
    return msg.split('\n')[0]!.trim();
  }
}

function vulkanDrivers(): DoctorReport['webgpu']['drivers'] {
  const explicit = process.env.VK_DRIVER_FILES ?? process.env.VK_ICD_FILENAMES;
  let manifests: string[];
  if (explicit) manifests = explicit.split(':').filter(Boolean);
  else {
    const dataDirs = (process.env.XDG_DATA_DIRS ?? '/usr/local/share:/usr/share').split(':');
    const dirs = [...new Set(['/etc/vulkan/icd.d', ...dataDirs.map((d) => join(d, 'vulkan', 'icd.d'))])];
    manifests = dirs.filter((d) => existsSync(d)).flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.json')).map((f) => join(d, f)));
  }
  return manifests.map((manifest) => {
    let library = 'unreadable manifest';
    try {
      library = (JSON.parse(readFileSync(manifest, 'utf8')) as { ICD?: { library_path?: string } }).ICD?.library_path ?? 'no library_path';
    } catch {
      // reported as unreadable
    }
    const vendor = VULKAN_VENDORS.find(([re]) => re.test(library) || re.test(manifest))?.[1] ?? 'unknown';
    return { manifest, library, vendor };
  });
}

async function vulkanAdapters(): Promise<DoctorReport['webgpu']['adapters']> {
  let out: string;
  try {
    out = (await run('vulkaninfo', ['--summary'], { timeout: 20_000 })).stdout;
  } catch {
    return null;
  }
  const adapters: NonNullable<DoctorReport['webgpu']['adapters']> = [];
  for (const block of out.split(/\nGPU\d+:\n/).slice(1)) {
    const field = (k: string) => new RegExp(`^\\s*${k}\\s*=\\s*(.*)$`, 'm').exec(block)?.[1]?.trim() ?? '';
    adapters.push({ name: field('deviceName'), vendor: field('vendorID'), driver: `${field('driverName')} ${field('driverInfo')}`.trim(), type: field('deviceType') });
  }
  return adapters;
}

async function nvidiaGpus(): Promise<DoctorReport['cuda']['gpus']> {
  try {
    const { stdout } = await run('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader,nounits'], { timeout: 20_000 });
    return stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [name, driver, mem] = line.split(',').map((s) => s.trim());
        return { name: name ?? '', driver: driver ?? '', memoryMiB: Number(mem) };
      });
  } catch {
    return null;
  }
}

/** The report as lines for a person. */
export function formatDoctor(r: DoctorReport): string {
  const lines = [
    `onnxruntime-node ${r.onnxruntime}, Node ${r.node}, ${r.platform}`,
    `execution providers: ${r.providers.map((p) => `${p.name} (${p.bundled ? 'bundled' : p.installed ? 'installed' : 'not installed'})`).join(', ')}`,
    `webgpu: ${r.webgpu.starts ? 'starts' : `does not start (${r.webgpu.error})`}`,
    `  vulkan loader: ${r.webgpu.vulkanLoader ?? 'not found (install libvulkan1)'}`,
    ...(r.webgpu.drivers.length ? r.webgpu.drivers.map((d) => `  vulkan driver: ${d.vendor} — ${d.library} (${d.manifest})`) : ['  vulkan drivers: none found']),
    ...(r.webgpu.adapters === null ? ['  adapters: install vulkan-tools to list them (vulkaninfo)'] : r.webgpu.adapters.map((a) => `  adapter: ${a.name} (${a.type}, vendor ${a.vendor}, driver ${a.driver})`)),
    `cuda: provider ${r.cuda.installed ? 'installed' : 'not installed'} (${r.cuda.providerLibrary}); ${r.cuda.starts ? 'starts' : `does not start (${r.cuda.error})`}`,
    ...r.cuda.libraries.map((l) => `  ${l.name}: ${l.loads ? 'loads' : `does not load (${l.error})`}`),
    ...(r.cuda.gpus ?? []).map((g) => `  gpu: ${g.name}, driver ${g.driver}, ${g.memoryMiB} MiB`),
    `cpu: ${r.cpu.model}, ${r.cpu.cores} cores (default --threads ${r.cpu.defaultThreads})`,
    `memory: ${(r.memory.totalBytes / 2 ** 30).toFixed(1)} GiB total, ${(r.memory.freeBytes / 2 ** 30).toFixed(1)} GiB free`,
    `--device auto would use: ${r.cuda.starts ? 'cuda:0' : r.webgpu.starts ? 'webgpu' : 'cpu'}`,
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * The report from a separate process (`flan-eval doctor --json`), for run records: probing a GPU
 * prints driver chatter on stderr and a broken driver can abort a process, neither of which may touch
 * the run. Null (and the run goes on) if the child fails.
 */
export async function doctorInChild(): Promise<DoctorReport | null> {
  const bin = new URL('../../../../bin/flan-eval.js', import.meta.url);
  try {
    const { stdout } = await run(process.execPath, [bin.pathname, 'doctor', '--json'], { timeout: 120_000, maxBuffer: 1 << 20 });
    return JSON.parse(stdout) as DoctorReport;
  } catch {
    return null;
  }
}
