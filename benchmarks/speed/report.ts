import type { BenchResult, EncoderSummary, WorkloadResult } from './bench.js';

/** Goals of issue 7 (2 cores): generation ≥ 3×, scoring ≥ 1.5×, encoder ≥ 50% of the MatMul peak. */
export const TARGETS = { generation: 3, scoring: 1.5, encoderFraction: 0.5 } as const;

/**
 * Goals on real-length prompts (2 cores), by workload: issue 10's for T5, issue 12's for the decoder-only
 * workloads; others fall back to TARGETS.
 */
export const REAL_LENGTH_TARGETS: Record<string, number> = {
  'mmlu-direct-generate': 1.5,
  'mmlu-direct-loglik': 2.5,
  'bbh-cot': 3,
  'mgsm-cot': 3,
  'llama/mmlu-direct-generate': 5,
  'llama/bbh-cot': 3,
};

export function target(w: Pick<WorkloadResult, 'name' | 'kind'>): number {
  return REAL_LENGTH_TARGETS[w.name] ?? TARGETS[w.kind];
}

const f = (x: number, digits = 2) => x.toFixed(digits);
const g = (x: number) => `${f(x / 1e9, 1)} GFLOP/s`;

function row(w: WorkloadResult): string {
  if (w.skipped) return `| ${w.name} | ${w.kind} | skipped: ${w.skipped.replace(/\|/g, '\\|')} | | | | | | | | | | |`;
  const o = w.ours!;
  const r = w.reference!;
  const goal = target(w);
  const ok = w.ratio! >= goal && w.identical ? 'yes' : 'no';
  const p = w.plan;
  const same = w.identical ? 'yes' : `no (${w.mismatches!.length})`;
  const delta = w.maxAbsDelta !== undefined ? `, max Δ ${w.maxAbsDelta.toExponential(1)}` : '';
  return `| ${w.name} | ${w.source ?? 'data'}: ${w.examples} (${w.distinctPrompts}) / ${w.promptTokens!.median} / ${w.promptTokens!.max} tok | ≤${w.batchSize} rows${p ? `, ${p.batches} batches` : ''} | ${f(o.examplesPerSec)} / ${f(o.tokensPerSec, 1)} | ${f(r.examplesPerSec)} / ${f(r.tokensPerSec, 1)} | **${f(w.ratio!)}×** (≥${goal}: ${ok}) | ${same}${delta} | ${p ? f(p.paddedTokens / p.realTokens, 3) : '–'} | ${o.peakRssMB} / ${r.peakRssMB} | ${p ? `${p.estimatedPeakMB} (budget ${p.budgetMB})` : '–'} | ${f(100 * o.encoderShare, 0)}% / ${f(100 * r.encoderShare, 0)}% | ${w.encoder ? `${g(w.encoder.flopRate)} (${f(100 * w.encoder.fractionOfPeak, 0)}%)` : '–'} | ${o.load1} / ${r.load1} |`;
}

function encoderLine(e: EncoderSummary | null): string {
  if (!e) return `no encoder run had ${8}+ rows`;
  return `${g(e.flopRate)} over ${e.runs} runs (${e.rows} rows, ${e.paddedTokens} padded tokens) = **${f(100 * e.fractionOfPeak, 0)}%** of the MatMul peak (goal ≥ ${100 * TARGETS.encoderFraction}%)`;
}

/** The Markdown summary written next to the JSON (and printed by runs without --json). */
export function markdownSummary(b: BenchResult): string {
  const m = b.machine;
  return [
    `# Speed: flan-eval ONNX backend vs Transformers.js (${b.date.slice(0, 10)}, ${b.mode})`,
    '',
    `- Machine: ${m.cpuModel}, ${m.cores} logical cores${m.physicalCores ? ` (${m.physicalCores} physical)` : ''}, ${m.memoryGB} GB, ${m.platform}`,
    `- Software: node ${m.node}, onnxruntime-node ${m.onnxruntimeNode}, @huggingface/transformers ${m.transformersJs}`,
    `- Model: ${b.model} (flan-t5-small shape, random weights, fp32${b.tokenizer ? ', real T5 tokenizer' : ''})${b.llamaModel ? `; llama/… workloads: ${b.llamaModel} (smollm2-135m shape, random weights, fp32, byte-level BPE)` : ''}; data: ${b.dataDir} (workloads it lacks: synthetic prompts at real lengths)`,
    `- flan-eval: ${b.threads} intra-op threads, batches planned by the memory budget, encoder in length groups; reference: one prompt at a time, library defaults`,
    ...(b.llamaGraph ? [`- flan-eval's llama graph at load (src/onnx/rewrite/; the reference runs the file as it is): ${b.llamaGraph.length ? b.llamaGraph.join('; ') : 'as exported (--no-graph-rewrite)'}`] : []),
    `- Load average (1/5/15 min) before ${b.loadBefore.join(' ')}, after ${b.loadAfter.join(' ')}`,
    `- ONNX Runtime MatMul peak [${b.matmul.m}×${b.matmul.k}]·[${b.matmul.k}×${b.matmul.n}] fp32, ${b.matmul.threads} threads: best ${g(b.matmul.bestFlops)}, median ${g(b.matmul.medianFlops)} (${b.matmul.reps} reps)`,
    `- Encoder at batch ≥ 8 (MatMul FLOPs counted from the config, padding included): ${encoderLine(b.encoderOverall)}`,
    '',
    '| workload | prompts: source: examples (distinct) / median / max tokens | batches | flan-eval ex/s / tok/s | Transformers.js ex/s / tok/s | ratio | identical | padding (padded ÷ real) | peak RSS MB (ours / ref) | estimated peak MB (ours) | time in encoder (ours / ref) | encoder FLOP rate (of peak) | load1 (ours / ref) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...b.workloads.map(row),
    '',
    'tok/s counts decoder steps for generation (generated tokens, plus the EOS step) and choice tokens for scoring. Generation compares token ids under the same stop rule (the reference runs to max_new_tokens and its tokens are cut where the decoded text first contains a stop string); scoring compares the argmax choice and |Δ loglik| < 1e-3.',
    '',
  ].join('\n');
}
