import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  /** Logical CPUs this process may use. */
  cores: number;
  /** Distinct (physical id, core id) pairs in /proc/cpuinfo, when it says. */
  physicalCores: number | null;
  memoryGB: number;
  node: string;
  onnxruntimeNode: string;
  transformersJs: string;
  platform: string;
}

/** A dependency's version from its package.json (found from its entry point: some packages do not export it). */
function packageVersion(name: string): string {
  try {
    let dir = dirname(createRequire(import.meta.url).resolve(name));
    for (;;) {
      const path = join(dir, 'package.json');
      if (existsSync(path)) {
        const pkg = JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name && pkg.version) return pkg.version;
      }
      if (dirname(dir) === dir) return 'unknown';
      dir = dirname(dir);
    }
  } catch {
    return 'unknown';
  }
}

export function machineInfo(): MachineInfo {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  let physicalCores: number | null = null;
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? cpuModel;
    const pairs = new Set<string>();
    for (const block of info.split(/\n\n+/)) {
      const phys = /^physical id\s*:\s*(\d+)/m.exec(block)?.[1];
      const core = /^core id\s*:\s*(\d+)/m.exec(block)?.[1];
      if (phys !== undefined && core !== undefined) pairs.add(`${phys}:${core}`);
    }
    physicalCores = pairs.size || null;
  } catch {
    // not Linux: the os module's model name stays
  }
  return {
    cpuModel,
    cores: availableParallelism(),
    physicalCores,
    memoryGB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    onnxruntimeNode: packageVersion('onnxruntime-node'),
    transformersJs: packageVersion('@huggingface/transformers'),
    platform: `${process.platform}-${process.arch}`,
  };
}

/** The 1-, 5- and 15-minute load averages (the machine is shared: record them with every number). */
export function loadAverage(): [number, number, number] {
  const [a, b, c] = loadavg();
  return [round2(a!), round2(b!), round2(c!)];
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
