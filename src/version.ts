import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';

/** Versions recorded in every run record (flan-eval's own from package.json). */
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export const VERSION = {
  flanEval: pkg.version,
  onnxruntime: ort.env.versions?.node ?? 'unknown',
  node: process.versions.node,
};
