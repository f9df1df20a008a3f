import type { Argv, CommandModule } from 'yargs';
import { collectDoctor, formatDoctor } from '../../backends/onnx/doctor.js';

/** `flan-eval doctor [--json]`: what this machine can run on (devices, drivers, threads, memory). */
export const doctorCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'doctor',
  describe: 'show the devices flan-eval can use here: execution providers, WebGPU adapters, CUDA libraries, threads, memory',
  builder: (y: Argv<object>) =>
    y.option('json', { type: 'boolean', default: false, description: 'print the report as JSON (the form stored in run records)' }) as Argv<Record<string, unknown>>,
  async handler(argv) {
    const report = await collectDoctor();
    process.stdout.write(argv.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctor(report));
  },
};
