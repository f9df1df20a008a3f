#!/usr/bin/env bash
# GPU speed and agreement on the lent H200 in ONE device `run` call (under 10 minutes; results in $OUT).
# Prepare here first: `bash scripts/device/pack.sh` (Node and the production node_modules as .devpack/, the
# Vulkan loader as .gl/, and a fresh dist/). Then:
#   run(command="bash scripts/device/gpu-speed.sh", carry=[".gl", ".devpack", "dist"], timeout_s=600)
# Writes: doctor.json, gpu-speed-t5.json, gpu-speed-llama.json, gpu-speed.md (both), nvidia-smi.txt, log.txt
# (copy the .md/.json into benchmarks/speed/results/).
#
# Sizing (estimate; no H200 has run it yet): writing both models about 1 min; per model and workload six
# sides, each its own process (load a few seconds). The slowest sides are the two Transformers.js ones on
# bbh-cot: 16 prompts × up to 128 tokens one at a time, about 2,000 decoder steps; at the 10-20 ms a step
# that WebGPU dispatch costs a 12- or 30-layer decoder, 20-40 s each. Estimated 3 min per model, about
# 7 min in all. Each model gets its own deadline (T5 half of what is left, llama the rest) and gpu.ts
# rewrites its results after every side, so an overrun loses one side, not the llama half.
# mmlu-direct-generate's real lengths reach 5,044 tokens: one T5-base row then needs a 1.2 GiB attention
# tensor, which ours refuses (a failed side, with the reason in log.txt) if the GPU's WebGPU buffer limit is
# lower (lavapipe: 128 MiB; NVIDIA's Vulkan drivers report a 4 GiB storage-buffer range, not checked here).
# Dry run on a machine without a GPU (Mesa lavapipe; sized down; a .devpack is still needed):
#   GPU_SPEED_HOST_GL=1 GPU_SPEED_T5_SHAPE=tiny GPU_SPEED_CAUSAL_SHAPE=tiny GPU_SPEED_EXAMPLES=3 bash scripts/device/gpu-speed.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-/tmp/flan-eval-gpu-out}"
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
start=$SECONDS
# Knobs for a dry run on a small machine (defaults are the H200 run): model shapes, examples, and
# GPU_SPEED_HOST_GL=1 to keep this machine's own Vulkan loader instead of unpacking .gl/.
T5_SHAPE="${GPU_SPEED_T5_SHAPE:-flan-t5-base}"
CAUSAL_SHAPE="${GPU_SPEED_CAUSAL_SHAPE:-smollm2-135m}"
EXAMPLES="${GPU_SPEED_EXAMPLES:-16}"
left() { echo $((560 - (SECONDS - start))); }

if [ -z "${GPU_SPEED_HOST_GL:-}" ]; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
export XDG_RUNTIME_DIR="$(mktemp -d)"
tar -xJf .devpack/flan-eval.tar.xz node_modules .node   # dist/ travels itself (carry), built from this checkout
[ -f dist/benchmarks/speed/gpu.js ] || { echo 'gpu-speed: dist/ is missing: run `npm run build` here and name dist in carry'; exit 2; }
export PATH="$PWD/.node:$PATH"
node --version
nvidia-smi >"$OUT/nvidia-smi.txt" 2>&1 || true

webgpu_starts() { node bin/flan-eval.js doctor --json 2>/dev/null >"$OUT/doctor.json" && node -e 'process.exit(require(process.argv[1]).webgpu.starts ? 0 : 1)' "$OUT/doctor.json"; }
if ! webgpu_starts; then
  # The device README: point the loader at NVIDIA's ICD when it finds no driver by itself.
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  webgpu_starts || echo "gpu-speed: WebGPU does not start here (see doctor.json); the webgpu sides will fail"
fi
node bin/flan-eval.js doctor 2>/dev/null

M=/tmp/flan-eval-models
mkdir -p "$M"
echo "== models ($(left)s left)"
node bin/flan-eval.js make-test-model --shape "$T5_SHAPE" --fp16 --seed 1 --out "$M/$T5_SHAPE" >/dev/null
node bin/flan-eval.js make-test-model --arch llama --shape "$CAUSAL_SHAPE" --fp16 --seed 1 --out "$M/llama-$CAUSAL_SHAPE" >/dev/null

# Real-length prompts (benchmarks/speed/workloads.ts syntheticWorkload). Sides in order of importance: the
# CPU baseline, then fp32 against Transformers.js (the 10× goal, identical tokens), then fp16, then masking.
bench() { # name, seconds, model folder
  echo "== bench $1 ($(left)s left, $2 s for it)"
  timeout "$2" node dist/benchmarks/speed/gpu.js --model "$3" --synthetic \
    --workloads bbh-cot,mmlu-direct-generate --examples "$EXAMPLES" --batch-size 16 --threads "$(nproc)" \
    --sides cpu,webgpu,reference-webgpu,webgpu-fp16,reference-webgpu-fp16,webgpu-mask \
    --out "$OUT/gpu-speed-$1.json" --md "$OUT/gpu-speed-$1.md"
  echo "gpu-speed: $1 exit $? after $((SECONDS - start))s"
}
bench t5 $(($(left) / 2)) "$M/$T5_SHAPE"
bench llama "$(left)" "$M/llama-$CAUSAL_SHAPE"
cat "$OUT"/gpu-speed-t5.md "$OUT"/gpu-speed-llama.md >"$OUT/gpu-speed.md" 2>/dev/null
cat "$OUT/gpu-speed.md"
