import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CAUSAL_GRAPH_VERSION } from '../../src/models/testModel/causalGraph.js';
import { makeTestModel } from '../../src/models/testModel/index.js';
import type { WorkerResult, WorkerSpec } from './worker.js';

/** Repository root (this file runs from dist/benchmarks/speed/). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

export function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

/**
 * The flan-t5-small-shaped random model the speed scripts share, made once under .cache/: with a real
 * tokenizer (`tokenizer`, a folder) when given, so prompts have real lengths; else the generated one.
 */
export async function speedModel(tokenizer: string | null = null): Promise<string> {
  const dir = join(ROOT, '.cache', 'speed-model', tokenizer ? 'flan-t5-small-t5tok-seed1' : 'flan-t5-small-seed1');
  if (!existsSync(join(dir, 'onnx', 'decoder_with_past_model.onnx'))) {
    log(`making the flan-t5-small-shaped test model in ${dir} (once; about 800 MB)${tokenizer ? ` with the tokenizer of ${tokenizer}` : ''}…`);
    await mkdir(dir, { recursive: true });
    await makeTestModel({ out: dir, shape: 'flan-t5-small', seed: 1, ...(tokenizer ? { tokenizer } : {}) });
  }
  return dir;
}

/** The smollm2-135m-shaped random llama the decoder-only workloads use, made once under .cache/. */
export async function llamaSpeedModel(): Promise<string> {
  const dir = join(ROOT, '.cache', 'speed-model', 'llama-smollm2-135m-seed1');
  const stamp = join(dir, 'graph-version');
  const version = String(CAUSAL_GRAPH_VERSION);
  const current = existsSync(join(dir, 'onnx', 'model.onnx')) && existsSync(stamp) && (await readFile(stamp, 'utf8')) === version;
  if (!current) {
    log(`making the smollm2-135m-shaped llama test model in ${dir} (once per graph version; about 540 MB)…`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await makeTestModel({ out: dir, arch: 'llama', shape: 'smollm2-135m', seed: 1 });
    await writeFile(stamp, version);
  }
  return dir;
}

/** Run one worker child; its stdout and stderr go to our stderr so --json keeps stdout clean. */
export async function runWorker(spec: WorkerSpec, tmp: string, tag: string, profile: boolean): Promise<WorkerResult> {
  const file = tag.replace(/[^\w.-]/g, '_');
  const specPath = join(tmp, `${file}.spec.json`);
  const outPath = join(tmp, `${file}.result.json`);
  await writeFile(specPath, JSON.stringify(spec));
  const args = [...(profile ? ['--cpu-prof', '--cpu-prof-dir', join(ROOT, '.cache', 'speed-profiles'), '--cpu-prof-name', `${tag}.cpuprofile`] : []), WORKER, specPath, outPath];
  const code = await new Promise<number | null>((res, rej) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(process.stderr);
    child.stderr.pipe(process.stderr);
    child.on('error', rej);
    child.on('close', res);
  });
  if (code !== 0) throw new Error(`speed worker ${tag} exited with ${code}`);
  return JSON.parse(await readFile(outPath, 'utf8')) as WorkerResult;
}
